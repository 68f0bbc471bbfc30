"""Unit tests for the relocation cost matrix and suitability surface (hand-computed times).

Roads are paved village roads: 25 km/h, i.e. 2.4 min per km (see ``tests/helpers.py``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from pyproj import CRS
from shapely.geometry import LineString, Point, box

from contigmap.network import build_network
from contigmap.raster import Raster
from contigmap.relocation.costs import SiteParams
from contigmap.relocation.run import travel_cost_matrix
from contigmap.relocation.sites import suitability_surface

CRS_M = CRS.from_epsg(32649)
X0, Y0 = 400_000.0, 3_100_000.0
MIN_PER_M = 2.4 / 1000.0


def _road(x_from: float, x_to: float, y: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"road_id": ["r"], "road_class": ["village"], "surface": ["paved"]},
                            geometry=[LineString([(X0 + x_from, Y0 + y), (X0 + x_to, Y0 + y)])],
                            crs=CRS_M)


def _points(xs: list[float], **cols: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=[Point(X0 + x, Y0) for x in xs], crs=CRS_M)


def test_travel_cost_matrix_by_hand() -> None:
    graph = build_network(_road(0, 2000, 0))
    origins = _points([0, 1000], reloc_unit_id=["O1", "O2"], township_id=["A", "B"])
    sites = _points([500, 2000], site_id=["S1", "S2"], township_id=["A", "B"])
    tt, cost = travel_cost_matrix(graph, origins, sites, leave_township_penalty_min=30.0,
                                  max_travel_time_min=4.0)
    assert tt.index.tolist() == ["O1", "O2"] and tt.columns.tolist() == ["S1", "S2"]
    # distances along the road: O1-S1 500, O1-S2 2000, O2-S1 500, O2-S2 1000 m
    want_tt = np.array([[500, 2000], [500, 1000]]) * MIN_PER_M
    np.testing.assert_allclose(tt.to_numpy(), want_tt, rtol=1e-9)
    # + 30 min where the townships differ; O1-S2 (4.8 min) is beyond 4 min: inf
    want_cost = np.array([[1.2, np.inf], [1.2 + 30.0, 2.4]])
    np.testing.assert_allclose(cost.to_numpy(), want_cost, rtol=1e-9)


def test_travel_cost_matrix_without_origin_townships_has_no_penalty() -> None:
    graph = build_network(_road(0, 2000, 0))
    origins = _points([0], reloc_unit_id=["O1"])
    sites = _points([500], site_id=["S1"], township_id=["Z"])
    tt, cost = travel_cost_matrix(graph, origins, sites, leave_township_penalty_min=30.0,
                                  max_travel_time_min=150.0)
    pd.testing.assert_frame_equal(tt, cost)
    assert cost.iloc[0, 0] == pytest.approx(1.2)


@pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")
def test_suitability_surface_by_hand() -> None:
    # a flat 5 x 5 DEM of 100 m cells; cell (r, c) has its centre at
    # (X0 + 50 + 100 c, Y0 + 450 - 100 r). A road along row 2 from the centre of column 0 to
    # that of column 4: its two nodes sit on cells (2, 0) and (2, 4). All services at the
    # west node. Only cells within 60 m of a node count: those two.
    z = np.full((5, 5), 300.0)
    z[0, 0] = np.nan
    dem = Raster(z, Affine(100.0, 0.0, X0, 0.0, -100.0, Y0 + 500.0), CRS_M, "dem")
    graph = build_network(_road(50, 450, 250))
    services = gpd.GeoDataFrame(
        {"kind": ["township_seat", "school", "health_centre"]},
        geometry=[Point(X0 + 50, Y0 + 250)] * 3, crs=CRS_M)
    p = SiteParams(max_road_distance_m=60.0, max_slope_deg=10.0, max_tt_seat_min=30.0,
                   max_tt_school_min=20.0, max_tt_health_min=30.0)
    s = suitability_surface(dem, graph=graph, services=services, params=p)
    assert np.argwhere(s.suitable).tolist() == [[2, 0], [2, 4]]
    # (2, 0): slope 0, every time 0 -> mean(1, 1, 1, 1) = 1
    # (2, 4): 400 m of road = 0.96 min -> mean(1, 1 - .96/30, 1 - .96/20, 1 - .96/30) = 0.972
    assert s.score.array[2, 0] == pytest.approx(1.0)
    assert s.score.array[2, 4] == pytest.approx(0.972)
    assert s.tt_seat_min[2, 4] == pytest.approx(0.96)
    assert np.isinf(s.tt_seat_min[0, 4])
    # unsuitable cells inside the DEM score 0; the nodata cell is nan
    assert np.isnan(s.score.array[0, 0])
    assert s.score.array[4, 4] == 0.0
    assert not s.excluded.any()

    # an ecology polygon inside cell (2, 4) excludes it
    eco = gpd.GeoDataFrame(geometry=[box(X0 + 420, Y0 + 220, X0 + 480, Y0 + 280)], crs=CRS_M)
    s = suitability_surface(dem, graph=graph, services=services, ecology={"red_line": eco},
                            params=p)
    assert np.argwhere(s.suitable).tolist() == [[2, 0]]
    assert np.argwhere(s.excluded).tolist() == [[2, 4]]
    assert s.score.array[2, 4] == 0.0

    # a school only 0.5 min away is required: the east cell (0.96 min) fails
    strict = p.model_copy(update={"max_tt_school_min": 0.5})
    s = suitability_surface(dem, graph=graph, services=services, params=strict)
    assert np.argwhere(s.suitable).tolist() == [[2, 0]]
