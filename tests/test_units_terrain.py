"""Unit tests for terrain, cost-path, CRS and scenario helpers (by hand and brute force)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from pyproj import CRS
from shapely.geometry import LineString

from contigmap.costpath import CostPathParams, grid_move_costs
from contigmap.crs import CHINA_BBOX, in_china_bbox
from contigmap.errors import DataQualityWarning
from contigmap.priority.config import load_priority_config
from contigmap.raster import Raster
from contigmap.scenario.apply import road_terrain
from contigmap.scenario.compare import compare_scenarios
from contigmap.scenario.evaluate import ScenarioResult
from contigmap.scenario.model import Scenario
from contigmap.terrain import typical_terrain, window_relief, with_typical_terrain

CRS_M = CRS.from_epsg(32649)
X0, Y0 = 400_000.0, 3_100_000.0
ROAD_COSTS = load_priority_config().roads.costs


def _dem(z: np.ndarray, res: float = 100.0) -> Raster:
    return Raster(np.asarray(z, dtype=float), Affine(res, 0.0, X0, 0.0, -res, Y0 + res * len(z)),
                  CRS_M, "dem")


# --------------------------------------------------------------------------- terrain


def test_typical_terrain_medians_over_dem_rows() -> None:
    t = pd.DataFrame({
        "relief_m": [10.0, 50.0, 20.0, 900.0, np.nan],
        "elevation_m": [100.0, 300.0, 200.0, 5.0, 7.0],
        "terrain_source": ["dem", "dem", "dem", "typical", "dem"],
    })
    out = typical_terrain(t)
    # dem rows: relief 10, 50, 20 (nan dropped) -> 20; elevation 100, 300, 200, 7 -> 150
    assert out["relief_m"] == 20.0
    assert out["elevation_m"] == 150.0
    assert np.isnan(out["slope_mean_deg"])  # column absent
    # without terrain_source: rows with every terrain value count (rows 0-3)
    out = typical_terrain(t.drop(columns="terrain_source"))
    assert out["relief_m"] == pytest.approx((20.0 + 50.0) / 2)  # 10, 20, 50, 900
    assert out["elevation_m"] == pytest.approx((100.0 + 200.0) / 2)


def test_with_typical_terrain_fills_only_unknowns() -> None:
    t = pd.DataFrame({"relief_m": [10.0, np.nan, 30.0, "x"],
                      "terrain_source": ["dem", "typical", "dem", "typical"]})
    values, typical = with_typical_terrain(t, "relief_m")
    np.testing.assert_array_equal(values, [10.0, 20.0, 30.0, 20.0])  # median(10, 30) = 20
    np.testing.assert_array_equal(typical, [False, True, False, True])
    none_known = pd.DataFrame({"relief_m": [np.nan], "terrain_source": ["typical"]})
    values, typical = with_typical_terrain(none_known, "relief_m")
    assert np.isnan(values[0]) and typical[0]


def _relief_brute(z: np.ndarray, r: int, c: int, rr: int, rc: int) -> float:
    ri, ci = np.indices(z.shape)
    win = z[(np.abs(ri - r) <= rr) & (np.abs(ci - c) <= rc)]
    win = win[np.isfinite(win)]
    return float(win.max() - win.min()) if win.size else float("nan")


def test_window_relief_against_brute_force() -> None:
    rng = np.random.default_rng(11)
    z = rng.uniform(0, 500, (9, 12))
    z[rng.random(z.shape) < 0.15] = np.nan
    z[0:3, 0:3] = np.nan  # a window with only nodata
    dem = _dem(z)
    xs = X0 + rng.uniform(-150, 1350, 60)
    ys = Y0 + rng.uniform(-150, 1050, 60)
    xs[0], ys[0] = X0 + 50, Y0 + 850  # cell (0, 0)
    for radius, min_cells, half in ((150.0, 0, 2), (40.0, 0, 1), (40.0, 3, 3), (0.0, 0, 0)):
        # half-side in cells: ceil(150 / 100) = 2, ceil(0.4) = 1, max(1, 3) = 3, 0
        got = window_relief(dem, xs, ys, radius, min_cells=min_cells)
        want = []
        for x, y in zip(xs, ys, strict=True):
            r, c = int(np.floor((Y0 + 900 - y) / 100)), int(np.floor((x - X0) / 100))
            inside = 0 <= r < 9 and 0 <= c < 12
            want.append(_relief_brute(z, r, c, half, half) if inside else np.nan)
        np.testing.assert_array_equal(got, want)
    assert np.isnan(window_relief(dem, [X0 + 50], [Y0 + 850], 100.0)[0])


# --------------------------------------------------------------------------- costpath


def test_grid_move_costs_against_brute_force() -> None:
    p = CostPathParams(grade_ref_ratio=0.08, grade_max_ratio=0.5)
    z = np.array([[0.0, 10.0, 80.0],
                  [5.0, np.nan, 20.0]])
    rx, ry = 30.0, 20.0
    m = grid_move_costs(z, rx, ry, p).toarray()
    rows, cols = z.shape
    want = np.zeros((rows * cols, rows * cols))
    for r in range(rows):
        for c in range(cols):
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    r2, c2 = r + dr, c + dc
                    if (dr, dc) == (0, 0) or not (0 <= r2 < rows and 0 <= c2 < cols):
                        continue
                    d = np.hypot(dc * rx, dr * ry)
                    g = abs(z[r2, c2] - z[r, c]) / d
                    if np.isfinite(g) and g <= 0.5:
                        want[r * cols + c, r2 * cols + c2] = d * (1 + (g / 0.08) ** 2)
    np.testing.assert_allclose(m, want)
    # by hand: (0,0) -> (0,1): d 30, g 1/3 -> 30 (1 + (1/3 / 0.08)^2) = 550.83
    assert m[0, 1] == pytest.approx(30 * (1 + (10 / 30 / 0.08) ** 2))
    # (0,1) -> (0,2): g 70 / 30 > 0.5, too steep; the nan cell (1,1) has no moves
    assert m[1, 2] == 0.0 and not m[4].any() and not m[:, 4].any()


def test_in_china_bbox_edges_inclusive() -> None:
    x0, y0, x1, y1 = CHINA_BBOX
    lon = np.array([109.5, x0, x1, x0 - 1e-9, 2.35, np.nan])
    lat = np.array([28.4, y0, y1, 30.0, 48.86, 30.0])
    # Huayuan in; the corners in; just west out; Paris out; nan out
    np.testing.assert_array_equal(in_china_bbox(lon, lat), [True, True, True, False, False, False])
    assert in_china_bbox([], []).shape == (0,)


# --------------------------------------------------------------------------- scenario


@pytest.mark.filterwarnings("error::contigmap.errors.DataQualityWarning")
def test_road_terrain_classes_by_relief() -> None:
    # relief_hilly_m 30, relief_mountainous_m 200 (priorities.yaml); 100 m cells, radius 100 m
    # -> a 3 x 3 window around the midpoint's cell
    c = ROAD_COSTS
    assert (c.relief_hilly_m, c.relief_mountainous_m) == (30.0, 200.0)
    z = np.zeros((5, 9))
    z[:, 3:6] = [[0.0, 40.0, 0.0]] * 5    # relief 40 around column 4: hilly
    z[:, 6:9] = [[0.0, 250.0, 0.0]] * 5   # relief 250 around column 7: mountainous
    dem = _dem(z)

    def line(col: int) -> LineString:  # a 200 m line whose midpoint is cell (2, col)'s centre
        x = X0 + 100 * col + 50
        return LineString([(x - 100, Y0 + 250), (x + 100, Y0 + 250)])

    out = road_terrain([line(1), line(4), line(7)], dem, c, radius_m=100.0)
    assert out.tolist() == ["flat", "hilly", "mountainous"]
    assert road_terrain([line(1)], None, c).tolist() == ["hilly"]  # no DEM: hilly
    assert road_terrain([], dem, c).shape == (0,)


def test_road_terrain_outside_the_dem_takes_the_median_of_the_others() -> None:
    c = ROAD_COSTS
    dem = _dem(np.array([[0.0, 0.0, 0.0], [0.0, 250.0, 0.0], [0.0, 0.0, 0.0]]))
    inside = LineString([(X0 + 100, Y0 + 150), (X0 + 200, Y0 + 150)])  # relief 250
    outside = LineString([(X0 + 5000, Y0), (X0 + 5100, Y0)])
    with pytest.warns(DataQualityWarning, match="1 scenario road"):
        out = road_terrain([inside, outside], dem, c, radius_m=100.0)
    assert out.tolist() == ["mountainous", "mountainous"]
    with pytest.warns(DataQualityWarning):
        assert road_terrain([outside], dem, c).tolist() == ["hilly"]  # never taken as flat


def _result(name: str, summary: dict[str, object]) -> ScenarioResult:
    empty = gpd.GeoDataFrame(geometry=[], crs=CRS_M)
    return ScenarioResult(scenario=Scenario(name=name), villages=empty, summary=summary,
                          changed_roads=empty)


def test_compare_scenarios_fixed_column_order() -> None:
    a = _result("a", {"extra": 1, "cost_cny": 100.0, "scenario": "a", "rai": 0.5})
    b = _result("b", {"scenario": "b", "rai": 0.7, "cost_cny": 50.0, "title": "B"})
    out = compare_scenarios([a, b])
    # known columns in the fixed order (scenario, title, cost_cny, rai), unknown ones after
    assert out.columns.tolist() == ["scenario", "title", "cost_cny", "rai", "extra"]
    assert out["scenario"].tolist() == ["a", "b"]
    assert out["cost_cny"].tolist() == [100.0, 50.0]
    assert np.isnan(out["extra"].iloc[1]) and pd.isna(out["title"].iloc[0])
    empty = compare_scenarios([])
    assert empty.empty and empty.columns[0] == "scenario" and "rai_change" in empty.columns
