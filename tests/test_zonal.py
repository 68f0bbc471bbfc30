from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import CRS

from contigmap.coverage import coverage_fractions
from contigmap.errors import CRSError, DataQualityWarning, ValidationError
from contigmap.raster import Raster
from contigmap.zonal import zonal_stats

UTM = CRS.from_epsg(32649)


def grid4(values: np.ndarray | None = None) -> Raster:
    """4 x 4 raster of 1 m cells, x in [0, 4], y in [0, 4]; value 4*row + col + 1."""
    if values is None:
        values = np.arange(1, 17, dtype=float).reshape(4, 4)
    return Raster(values, Affine(1, 0, 0, 0, -1, 4), UTM, "grid4")


def zones(*geoms: shapely.Geometry, crs: CRS = UTM) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"village_id": [f"v{i}" for i in range(len(geoms))]},
                            geometry=list(geoms), crs=crs)


# --- exact arithmetic on a hand-made raster -------------------------------------------


def test_rectangle_covering_half_cells() -> None:
    # box x in [0.5, 2], y in [1, 3.5]: rows 0..2, cols 0..1
    # coverage by hand: row0 .25 .5 / row1 .5 1 / row2 .5 1  (total 3.75 = 1.5 * 2.5)
    (win,) = coverage_fractions([shapely.box(0.5, 1, 2, 3.5)], grid4())
    assert win is not None
    full = np.zeros((4, 4))
    h, w = win.coverage.shape
    full[win.row_off : win.row_off + h, win.col_off : win.col_off + w] = win.coverage
    expected = np.array([[.25, .5, 0, 0], [.5, 1, 0, 0], [.5, 1, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(full, expected, atol=1e-12)

    out = zonal_stats(grid4(), zones(shapely.box(0.5, 1, 2, 3.5)), threshold=5.5)
    row = out.iloc[0]
    # sum = .25*1 + .5*2 + .5*5 + 1*6 + .5*9 + 1*10 = 24.25
    assert row["count"] == pytest.approx(3.75, rel=1e-12)
    assert row["sum"] == pytest.approx(24.25, rel=1e-12)
    assert row["mean"] == pytest.approx(24.25 / 3.75, rel=1e-12)
    assert row["min"] == 1 and row["max"] == 10
    # values above 5.5: 6 (cov 1), 9 (.5), 10 (1) -> 2.5 / 3.75
    assert row["share_above"] == pytest.approx(2.5 / 3.75, rel=1e-12)
    assert row["covered_fraction"] == pytest.approx(1.0)


def test_triangle_and_hole() -> None:
    tri = shapely.Polygon([(0, 0), (2, 0), (0, 2)])
    ring = shapely.box(0, 0, 4, 4).difference(shapely.box(1, 1, 3, 3))
    out = zonal_stats(grid4(), zones(tri, ring))
    # triangle: cell (row3, col0) value 13 full; (row3, col1) value 14 half; (row2, col0)
    # value 9 half -> sum 13 + 7 + 4.5 = 24.5, count 2
    assert out["count"].iloc[0] == pytest.approx(2.0, rel=1e-12)
    assert out["sum"].iloc[0] == pytest.approx(24.5, rel=1e-12)
    # frame: every cell but the middle four (6, 7, 10, 11)
    assert out["count"].iloc[1] == pytest.approx(12.0, rel=1e-12)
    assert out["sum"].iloc[1] == pytest.approx(136 - (6 + 7 + 10 + 11), rel=1e-12)
    assert out["min"].iloc[1] == 1 and out["max"].iloc[1] == 16


def test_nodata_cell_is_left_out() -> None:
    values = np.arange(1, 17, dtype=float).reshape(4, 4)
    values[1, 1] = np.nan  # value 6, fully covered
    out = zonal_stats(grid4(values), zones(shapely.box(0.5, 1, 2, 3.5)))
    assert out["count"].iloc[0] == pytest.approx(2.75, rel=1e-12)
    assert out["mean"].iloc[0] == pytest.approx(18.25 / 2.75, rel=1e-12)
    assert out["covered_fraction"].iloc[0] == pytest.approx(2.75 / 3.75, rel=1e-12)


# --- against exactextract ----------------------------------------------------------------


def random_zones(rng: np.random.Generator, n: int, box: tuple[float, ...]) -> list:
    x0, y0, x1, y1 = box
    pts = rng.random((n, 2)) * [x1 - x0, y1 - y0] + [x0, y0]
    geoms = list(shapely.buffer(shapely.points(pts), rng.random(n) * 90 + 2, quad_segs=4))
    # random star-like polygons (concave, many cell crossings)
    for _ in range(n // 2):
        cx, cy = rng.random(2) * [x1 - x0, y1 - y0] + [x0, y0]
        ang = np.sort(rng.random(9) * 2 * np.pi)
        rad = rng.random(9) * 120 + 10
        geoms.append(shapely.Polygon(np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)]))
    geoms.append(shapely.box(x0 + 100, y0 + 100, x0 + 400, y0 + 400)
                 .difference(shapely.box(x0 + 180, y0 + 150, x0 + 300, y0 + 333)))
    return geoms


def test_equals_exactextract_on_random_polygons() -> None:
    exactextract = pytest.importorskip("exactextract")
    from exactextract.raster import NumPyRasterSource

    rng = np.random.default_rng(42)
    for res, shape in [(10.0, (70, 90)), (7.3, (55, 41))]:
        a = rng.normal(100, 30, shape)
        a[rng.random(shape) < 0.1] = np.nan
        x0, ytop = 500_000.0, 3_100_000.0
        r = Raster(a, Affine(res, 0, x0, 0, -res, ytop), UTM, "rand")
        xmax, ymin = x0 + shape[1] * res, ytop - shape[0] * res
        geoms = [g for g in random_zones(rng, 40, (x0, ymin, xmax, ytop)) if g.is_valid]
        z = zones(*geoms)
        ours = zonal_stats(r, z)
        src = NumPyRasterSource(np.where(np.isnan(a), -9999.0, a), x0, ymin, xmax, ytop,
                                nodata=-9999.0, srs_wkt=UTM.to_wkt())
        ref = exactextract.exact_extract(src, z, ["count", "mean", "min", "max", "sum"],
                                         output="pandas")
        for stat in ["count", "mean", "min", "max", "sum"]:
            np.testing.assert_allclose(ours[stat].to_numpy(), ref[stat].to_numpy(),
                                       rtol=1e-6, err_msg=stat)


# --- bad input ---------------------------------------------------------------------------


def test_zones_in_other_crs_are_reprojected() -> None:
    a = np.random.default_rng(0).random((50, 50))
    r = Raster(a, Affine(20, 0, 500_000, 0, -20, 3_000_000), UTM, "r")
    z = zones(shapely.Point(500_500, 2_999_500).buffer(200))
    ref = zonal_stats(r, z)
    out = zonal_stats(r, z.to_crs(4326))
    assert out["mean"].iloc[0] == pytest.approx(ref["mean"].iloc[0], rel=1e-4)


def test_partial_cover_and_all_nodata() -> None:
    values = np.arange(1, 17, dtype=float).reshape(4, 4)
    values[:, 3] = np.nan
    z = zones(shapely.box(-2, 2, 2, 4),   # half outside the raster
              shapely.box(3.1, 0.1, 3.9, 3.9))  # only nodata cells
    with pytest.warns(DataQualityWarning) as rec:
        out = zonal_stats(grid4(values), z, id_column="village_id")
    text = " ".join(str(w.message) for w in rec)
    assert "v1" in text and "partly covered" in text
    assert out["covered_fraction"].iloc[0] == pytest.approx(0.5)
    # cells (row0: 1, 2), (row1: 5, 6) fully inside
    assert out["mean"].iloc[0] == pytest.approx(3.5)
    assert np.isnan(out["mean"].iloc[1]) and out["count"].iloc[1] == 0


def test_raster_without_crs() -> None:
    r = Raster(np.ones((4, 4)), Affine(1, 0, 0, 0, -1, 4), None, "dem")  # type: ignore[arg-type]
    with pytest.raises(CRSError, match="no CRS"):
        zonal_stats(r, zones(shapely.box(0, 0, 1, 1)))


def test_raster_missing_the_region() -> None:
    with pytest.raises(ValidationError, match="misses every zone"):
        zonal_stats(grid4(), zones(shapely.box(100, 100, 110, 110)))


def test_invalid_polygon_is_repaired() -> None:
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    with pytest.warns(DataQualityWarning, match="repaired 1 invalid"):
        out = zonal_stats(grid4(), zones(bowtie))
    assert out["count"].iloc[0] == pytest.approx(2.0)  # two triangles of area 1
