"""Tests for contigmap.io: every format, ids as text, CRS, datum, region loading, writing."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from pyproj import CRS
from shapely.geometry import LineString, Point, box

from contigmap.config import LayerSpec, load_region
from contigmap.errors import (
    ConfigError,
    CRSError,
    DataQualityWarning,
    LayerError,
    ValidationError,
)
from contigmap.io.rasters import read_raster
from contigmap.io.read import read_layer
from contigmap.io.region import load_region_layers
from contigmap.io.write import atomic_path, write_table, write_vector
from contigmap.raster import Raster
from tests.helpers import VILLAGE_CODES, X0, Y0, TinyRegion, to_lonlat


def _assert_villages(gdf: gpd.GeoDataFrame, expected: gpd.GeoDataFrame) -> None:
    assert list(gdf["village_id"]) == list(expected["village_id"])
    assert list(gdf["name"]) == list(expected["name"])
    assert list(gdf["pop"]) == list(expected["pop"])
    assert gdf.crs is not None and gdf.crs.equals(expected.crs)
    np.testing.assert_allclose(gdf.geometry.x, expected.geometry.x, atol=1e-9)
    np.testing.assert_allclose(gdf.geometry.y, expected.geometry.y, atol=1e-9)


# ---------------------------------------------------------------- vector round trips


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".gpkg", ".parquet", ".geojson"])
def test_vector_round_trip(tmp_path: Path, point_gdf: gpd.GeoDataFrame, suffix: str) -> None:
    path = tmp_path / f"villages{suffix}"
    expected = point_gdf if suffix != ".geojson" else point_gdf.to_crs("EPSG:4326")
    write_vector(point_gdf, path, layer="villages")
    gdf = read_layer(
        LayerSpec(path=Path(path.name)), base_dir=tmp_path, role="villages", source="villages"
    )
    _assert_villages(gdf, expected)
    assert gdf["village_id"].iloc[1] == "043312410020"  # leading zero kept


def test_geopackage_integer_codes_become_text(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"CODE": [433124100201, 433124100202], "NAME": ["一村", "二村"], "TID": [433124100] * 2},
        geometry=[Point(109.4, 28.4), Point(109.5, 28.5)],
        crs="EPSG:4490",
    )
    gdf.to_file(tmp_path / "v.gpkg", layer="v", engine="pyogrio")
    spec = LayerSpec(
        path=Path("v.gpkg"),
        id="village_id",
        columns={"CODE": "village_id", "NAME": "name", "TID": "township_id"},
    )
    out = read_layer(spec, base_dir=tmp_path, role="villages", source="villages")
    assert list(out["village_id"]) == ["433124100201", "433124100202"]
    assert list(out["township_id"]) == ["433124100", "433124100"]


def test_geopackage_layer_choice(tmp_path: Path, point_gdf: gpd.GeoDataFrame) -> None:
    point_gdf.to_file(tmp_path / "m.gpkg", layer="a", engine="pyogrio")
    point_gdf.iloc[:1].to_file(tmp_path / "m.gpkg", layer="b", engine="pyogrio")
    spec = LayerSpec(path=Path("m.gpkg"), layer="b")
    assert len(read_layer(spec, base_dir=tmp_path, role="villages", source="v")) == 1
    with pytest.raises(LayerError, match=r"holds 2 layers \(a, b\); say which with 'layer:'"):
        read_layer(LayerSpec(path=Path("m.gpkg")), base_dir=tmp_path, role="villages", source="v")
    with pytest.raises(LayerError, match=r"no layer 'c' in m.gpkg \(it has: a, b\)"):
        read_layer(
            LayerSpec(path=Path("m.gpkg"), layer="c"),
            base_dir=tmp_path,
            role="villages",
            source="v",
        )


def test_shapefile_gbk_without_cpg(tmp_path: Path) -> None:
    import pyogrio

    gdf = gpd.GeoDataFrame(
        {
            "编码": ["433124100201", "433124100202"],
            "村名": ["十八洞村", "排碧村"],
            "乡镇": ["433124101", "433124101"],
        },
        geometry=[Point(109.4, 28.4), Point(109.5, 28.5)],
        crs="EPSG:4490",
    )
    path = tmp_path / "villages.shp"
    pyogrio.write_dataframe(gdf, path, encoding="gbk")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    raw = path.with_suffix(".dbf").read_bytes()
    assert "十八洞村".encode("gbk") in raw  # really GBK bytes on disk
    spec = LayerSpec(
        path=Path("villages.shp"),
        encoding="gbk",
        id="village_id",
        columns={"编码": "village_id", "村名": "name", "乡镇": "township_id"},
    )
    out = read_layer(spec, base_dir=tmp_path, role="villages", source="layers.villages")
    assert list(out["name"]) == ["十八洞村", "排碧村"]
    assert list(out["village_id"]) == ["433124100201", "433124100202"]
    assert out.crs.equals(CRS.from_epsg(4490))


def test_shapefile_gbk_without_encoding_warns(tmp_path: Path) -> None:
    import pyogrio

    from contigmap.errors import DataQualityWarning

    gdf = gpd.GeoDataFrame(
        {"village_id": ["1"], "name": ["十八洞村"], "tid": ["t"]},
        geometry=[Point(109.4, 28.4)],
        crs="EPSG:4490",
    )
    pyogrio.write_dataframe(gdf, tmp_path / "v.shp", encoding="gbk")
    (tmp_path / "v.cpg").unlink(missing_ok=True)
    spec = LayerSpec(path=Path("v.shp"), columns={"tid": "township_id"})
    with pytest.warns(DataQualityWarning, match="add 'encoding: gbk'"):
        read_layer(spec, base_dir=tmp_path, role="villages", source="v")


# ---------------------------------------------------------------- tables


def test_csv_points_and_codes(tmp_path: Path) -> None:
    text = (
        "code,name,township_id,pop,经度,纬度\n"
        "043312410020,一村,433124100,120,109.40,28.40\n"
        "433124100202,二村,433124100,340,109.45,28.45\n"
    )
    (tmp_path / "v.csv").write_text(text, encoding="utf-8-sig")
    spec = LayerSpec(path=Path("v.csv"), id="code")
    out = read_layer(spec, base_dir=tmp_path, role="villages", source="v")
    assert isinstance(out, gpd.GeoDataFrame)
    assert list(out["village_id"]) == ["043312410020", "433124100202"]
    assert list(out["township_id"]) == ["433124100", "433124100"]
    assert list(out["pop"]) == [120, 340]
    assert out.crs.equals(CRS.from_epsg(4326))  # default for tables
    assert out.geometry.iloc[0].equals(Point(109.40, 28.40))


def test_csv_gbk_encoded(tmp_path: Path) -> None:
    text = "village_id,name,township_id,lon,lat\n433124100201,十八洞村,433124101,109.4,28.4\n"
    (tmp_path / "v.csv").write_bytes(text.encode("gbk"))
    out = read_layer(
        LayerSpec(path=Path("v.csv"), encoding="gbk"),
        base_dir=tmp_path,
        role="villages",
        source="v",
    )
    assert out["name"].iloc[0] == "十八洞村"


def test_csv_projected_with_crs(tmp_path: Path) -> None:
    text = f"village_id,name,township_id,E,N\nA,一村,t,{X0 + 100},{Y0 + 200}\n"
    (tmp_path / "v.csv").write_text(text, encoding="utf-8")
    spec = LayerSpec(path=Path("v.csv"), x="E", y="N", crs="EPSG:4545")
    out = read_layer(spec, base_dir=tmp_path, role="villages", source="v")
    assert out.crs.to_epsg() == 4545
    assert out.geometry.iloc[0].equals(Point(X0 + 100, Y0 + 200))


def test_xlsx_points_and_sheet(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "village_id": ["043312410020"],
            "name": ["一村"],
            "township_id": ["433124100"],
            "lon": [109.4],
            "lat": [28.4],
        }
    )
    with pd.ExcelWriter(tmp_path / "v.xlsx") as writer:
        pd.DataFrame({"a": [1]}).to_excel(writer, sheet_name="notes", index=False)
        df.to_excel(writer, sheet_name="村", index=False)
    spec = LayerSpec(path=Path("v.xlsx"), layer="村")
    out = read_layer(spec, base_dir=tmp_path, role="villages", source="v")
    assert out["village_id"].iloc[0] == "043312410020"
    assert out.geometry.iloc[0].equals(Point(109.4, 28.4))


def test_household_table_without_coordinates(tmp_path: Path) -> None:
    text = "户编号,村代码,人口数,是否贫困户\n0001,433124100201,4,是\n0002,433124100201,3,否\n"
    (tmp_path / "hh.csv").write_text(text, encoding="utf-8")
    spec = LayerSpec(
        path=Path("hh.csv"),
        id="household_id",
        columns={
            "户编号": "household_id",
            "村代码": "village_id",
            "人口数": "members",
            "是否贫困户": "poor",
        },
    )
    out = read_layer(spec, base_dir=tmp_path, role="households", source="households")
    assert not isinstance(out, gpd.GeoDataFrame)
    assert list(out["household_id"]) == ["0001", "0002"]
    assert list(out["village_id"]) == ["433124100201"] * 2
    assert list(out["members"]) == [4, 3]
    assert list(out["poor"]) == [True, False]


def test_gcj02_datum_converted(tmp_path: Path) -> None:
    # a GCJ-02 point published by eviltransform: WGS84 (31.1774276, 121.5272106)
    text = "service_id,kind,name,lng,lat\nS1,县城,县城,121.531541859215,31.17530398364597\n"
    (tmp_path / "s.csv").write_text(text, encoding="utf-8")
    out = read_layer(
        LayerSpec(path=Path("s.csv"), datum="gcj02"),
        base_dir=tmp_path,
        role="services",
        source="s",
    )
    assert out.geometry.iloc[0].x == pytest.approx(121.5272106, abs=1e-7)
    assert out.geometry.iloc[0].y == pytest.approx(31.1774276, abs=1e-7)
    assert out["kind"].iloc[0] == "county_seat"  # Chinese kind translated


def test_gcj02_on_projected_layer_fails(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"service_id": ["1"], "kind": ["school"], "name": ["a"]},
        geometry=[Point(X0, Y0)],
        crs="EPSG:4545",
    )
    gdf.to_file(tmp_path / "s.gpkg", engine="pyogrio")
    with pytest.raises(CRSError, match="'datum: gcj02' needs longitude/latitude"):
        read_layer(
            LayerSpec(path=Path("s.gpkg"), datum="gcj02"),
            base_dir=tmp_path,
            role="services",
            source="layers.services",
        )


def test_crs_from_manifest_when_file_has_none(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"road_id": ["1"], "road_class": ["village"], "surface": ["earth"]},
        geometry=[LineString([(0, 0), (1, 1)])],
        crs=None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "'crs' was not provided": on purpose
        gdf.to_file(tmp_path / "r.shp", engine="pyogrio")
    out = read_layer(
        LayerSpec(path=Path("r.shp"), crs="EPSG:4545"),
        base_dir=tmp_path,
        role="roads",
        source="roads",
    )
    assert out.crs.to_epsg() == 4545


def test_generated_ids_for_roads(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"road_class": ["village", "path"], "surface": ["earth", "earth"]},
        geometry=[LineString([(0, 0), (1, 1)]), LineString([(2, 2), (3, 3)])],
        crs="EPSG:4545",
    )
    gdf.to_file(tmp_path / "r.gpkg", engine="pyogrio")
    out = read_layer(LayerSpec(path=Path("r.gpkg")), base_dir=tmp_path, role="roads", source="r")
    assert list(out["road_id"]) == ["1", "2"]


# ---------------------------------------------------------------- rasters


def _write_tif(path: Path, crs: str | None, nodata: float = -9999.0) -> np.ndarray:
    values = np.arange(12, dtype="float32").reshape(3, 4) + 200
    values[0, 0] = nodata
    kwargs = {"crs": crs} if crs else {}
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=4,
        height=3,
        count=1,
        dtype="float32",
        transform=Affine(100.0, 0, X0, 0, -100.0, Y0),
        nodata=nodata,
        **kwargs,
    ) as dst:
        dst.write(values, 1)
    return values


def test_geotiff_with_crs(tmp_path: Path) -> None:
    values = _write_tif(tmp_path / "dem.tif", "EPSG:4545")
    r = read_raster(LayerSpec(path=Path("dem.tif")), base_dir=tmp_path, source="layers.dem")
    assert isinstance(r, Raster)
    assert r.crs.to_epsg() == 4545
    assert np.isnan(r.array[0, 0])
    np.testing.assert_array_equal(r.array[1:], values[1:])
    assert r.bounds == (X0, Y0 - 300, X0 + 400, Y0)


def test_geotiff_without_crs(tmp_path: Path) -> None:
    _write_tif(tmp_path / "dem.tif", None)
    with pytest.raises(CRSError, match=r"layers.dem: dem.tif has no CRS; add 'crs: EPSG:4490'"):
        read_raster(LayerSpec(path=Path("dem.tif")), base_dir=tmp_path, source="layers.dem")
    r = read_raster(
        LayerSpec(path=Path("dem.tif"), crs="EPSG:4545"), base_dir=tmp_path, source="layers.dem"
    )
    assert r.crs.to_epsg() == 4545


def test_geotiff_warped_to_working_crs(tmp_path: Path) -> None:
    # a smooth plane in lon/lat; after warping to GK the value at a point must still be
    # the plane's value at that point's lon/lat
    lon0, lat0, step = 109.3, 28.5, 0.001
    cols, rows = 60, 50
    lon_c = lon0 + step * (np.arange(cols) + 0.5)
    lat_c = lat0 - step * (np.arange(rows) + 0.5)
    plane = 300 + 1000 * (lon_c[None, :] - lon0) + 2000 * (lat0 - lat_c[:, None])
    with rasterio.open(
        tmp_path / "p.tif",
        "w",
        driver="GTiff",
        width=cols,
        height=rows,
        count=1,
        dtype="float64",
        crs="EPSG:4490",
        transform=Affine(step, 0, lon0, 0, -step, lat0),
    ) as dst:
        dst.write(plane, 1)
    gk = CRS.from_epsg(4545)
    r = read_raster(LayerSpec(path=Path("p.tif")), base_dir=tmp_path, source="p", working_crs=gk)
    assert r.crs.equals(gk)
    assert 80 < r.res[0] < 120  # about the native 0.001 degree (~98 m east-west)
    from pyproj import Transformer

    lon, lat = 109.33, 28.48
    x, y = Transformer.from_crs(4490, gk, always_xy=True).transform(lon, lat)
    expected = 300 + 1000 * (lon - lon0) + 2000 * (lat0 - lat)
    assert r.sample_bilinear([x], [y])[0] == pytest.approx(expected, abs=0.2)


# ---------------------------------------------------------------- region


@pytest.mark.slow
def test_load_tiny_region(tiny_region: TinyRegion) -> None:
    data = load_region_layers(load_region(tiny_region.path))
    assert data.working_crs.to_epsg() == 4545  # CGCS2000 inputs, centroid near 109.38E
    assert list(data.villages["village_id"]) == VILLAGE_CODES
    assert data.villages.crs.equals(data.working_crs)
    # the CSV's lon/lat came from the GK coordinates: back within a millimetre
    np.testing.assert_allclose(
        data.villages.geometry.x, [X0 + 2000, X0 + 3000, X0 + 7000, X0 + 8000], atol=1e-3
    )
    # services were GCJ-02: after conversion they sit where they were made
    np.testing.assert_allclose(data.services.geometry.x, [X0 + 2500, X0 + 7500], atol=1e-3)
    np.testing.assert_allclose(data.services.geometry.y, [Y0 + 4000] * 2, atol=1e-3)
    assert set(data.roads["road_class"]) == {"county", "village", "track"}
    assert list(data.roads["surface"]) == ["paved", "gravel", "earth"]
    assert set(data.boundaries) == {"county", "townships"}
    assert data.boundaries["county"]["county_id"].iloc[0] == "433124"
    assert isinstance(data.hazards["flood"], gpd.GeoDataFrame)
    assert data.dem is not None and data.dem.shape == (8, 10)
    assert data.dem.name == "dem"
    assert data.households is not None and data.households["poor"].sum() == 3
    assert data.reports["villages"].crs_in == "EPSG:4326"
    assert data.reports["roads"].bounds == (X0, Y0 + 2000, X0 + 10000, Y0 + 4000)
    assert data.village_areas is None


@pytest.mark.slow
def test_explicit_working_crs(tiny_region: TinyRegion) -> None:
    text = tiny_region.path.read_text(encoding="utf-8").replace(
        "working_crs: auto", "working_crs: EPSG:32649"
    )
    tiny_region.path.write_text(text, encoding="utf-8")
    data = load_region_layers(load_region(tiny_region.path))
    assert data.working_crs.to_epsg() == 32649
    assert data.roads.crs.to_epsg() == 32649
    assert data.dem is not None and data.dem.crs.to_epsg() == 32649
    text = text.replace("EPSG:32649", "EPSG:4490")
    tiny_region.path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="is not projected in metres"):
        load_region_layers(load_region(tiny_region.path))


@pytest.mark.slow
def test_polygon_villages_become_points(tiny_region: TinyRegion) -> None:
    folder = tiny_region.folder
    polys = gpd.GeoDataFrame(
        {
            "village_id": VILLAGE_CODES[:2],
            "name": ["一村", "二村"],
            "township_id": ["433124100"] * 2,
        },
        geometry=[box(X0, Y0, X0 + 5000, Y0 + 4000), box(X0, Y0 + 4000, X0 + 5000, Y0 + 8000)],
        crs="EPSG:4545",
    )
    polys.to_file(folder / "vpoly.gpkg", engine="pyogrio")
    text = tiny_region.path.read_text(encoding="utf-8")
    start = text.index("  villages:")
    end = text.index("  roads:")
    text = text[:start] + "  villages: {path: vpoly.gpkg, id: village_id}\n" + text[end:]
    tiny_region.path.write_text(text, encoding="utf-8")
    data = load_region_layers(load_region(tiny_region.path))
    assert set(data.villages.geom_type) == {"Point"}
    assert data.village_areas is not None and len(data.village_areas) == 2
    for point, area in zip(data.villages.geometry, data.village_areas.geometry, strict=True):
        assert area.contains(point)


# ---------------------------------------------------------------- writing


def test_write_vector_formats(tmp_path: Path, point_gdf: gpd.GeoDataFrame) -> None:
    for name in ("v.gpkg", "v.parquet", "v.geojson"):
        write_vector(point_gdf, tmp_path / name)
        back = (
            gpd.read_file(tmp_path / name)
            if not name.endswith("parquet")
            else gpd.read_parquet(tmp_path / name)
        )
        assert len(back) == 3
    assert gpd.read_file(tmp_path / "v.geojson").crs.to_epsg() == 4326
    write_vector(point_gdf, tmp_path / "v.csv")
    raw = (tmp_path / "v.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM so Excel shows Chinese
    back = pd.read_csv(tmp_path / "v.csv", encoding="utf-8-sig", dtype=str)
    assert list(back.columns) == ["village_id", "name", "township_id", "pop", "x", "y"]
    assert back["village_id"].iloc[1] == "043312410020"
    assert float(back["x"].iloc[2]) == pytest.approx(109.5)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "v.csv",
        "v.geojson",
        "v.gpkg",
        "v.parquet",
    ]


def test_write_table(tmp_path: Path) -> None:
    df = pd.DataFrame({"village_id": ["043312410020"], "名称": ["十八洞村"], "pop": [939]})
    write_table(df, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "village_id,名称,pop",
        "043312410020,十八洞村,939",
    ]
    write_table(df, tmp_path / "t.xlsx")
    back = pd.read_excel(tmp_path / "t.xlsx", dtype=str, engine="openpyxl")
    assert back["名称"].iloc[0] == "十八洞村"
    assert back["village_id"].iloc[0] == "043312410020"
    with pytest.raises(LayerError, match=r"use \.csv or \.xlsx"):
        write_table(df, tmp_path / "t.txt")


def test_atomic_path_cleans_up_on_failure(tmp_path: Path) -> None:
    final = tmp_path / "out.txt"
    final.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(final) as tmp:
        tmp.write_text("partial", encoding="utf-8")
        raise RuntimeError("boom")
    assert final.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    with atomic_path(final) as tmp:
        assert tmp.parent == final.parent and tmp.suffix == ".txt"
        tmp.write_text("new", encoding="utf-8")
    assert final.read_text(encoding="utf-8") == "new"


@pytest.mark.slow
def test_inputs_not_modified(tiny_region: TinyRegion) -> None:
    import hashlib

    def digest() -> dict[str, str]:
        return {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(tiny_region.folder.iterdir())
        }

    before = digest()
    load_region_layers(load_region(tiny_region.path))
    assert digest() == before


def test_lonlat_helper_consistent() -> None:
    lon, lat = to_lonlat([X0], [Y0])
    assert 109.2 < lon[0] < 109.4 and 28.3 < lat[0] < 28.45


@pytest.mark.slow
def test_rivers_layer(tiny_region: TinyRegion) -> None:
    rivers = gpd.GeoDataFrame(
        {"river_id": ["W1"], "upstream_km2": [12.5]},
        geometry=[LineString([(X0 + 500, Y0), (X0 + 500, Y0 + 8000)])],
        crs="EPSG:4545",
    )
    rivers.to_file(tiny_region.folder / "rivers.gpkg", engine="pyogrio")
    text = tiny_region.path.read_text(encoding="utf-8")
    text += "  rivers: {path: rivers.gpkg, id: river_id}\n"
    tiny_region.path.write_text(text, encoding="utf-8")
    data = load_region_layers(load_region(tiny_region.path))
    assert data.rivers is not None
    assert data.rivers.geometry.iloc[0].length == pytest.approx(8000.0)


def _write_int16_dem(path: Path, nodata: float | None) -> np.ndarray:
    values = (200 + 10 * np.arange(20, dtype=np.int16)).reshape(4, 5)
    values[1, 2] = values[2, 3] = values[3, 4] = -32768  # three voids
    with rasterio.open(path, "w", driver="GTiff", width=5, height=4, count=1, dtype="int16",
                       crs="EPSG:4545", transform=Affine(100, 0, X0, 0, -100, Y0),
                       nodata=nodata) as dst:
        dst.write(values, 1)
    return values


def test_undeclared_int16_voids_become_nodata_with_a_warning(tmp_path: Path) -> None:
    from contigmap.errors import DataQualityWarning

    values = _write_int16_dem(tmp_path / "dem.tif", None)
    with pytest.warns(DataQualityWarning) as rec:
        r = read_raster(LayerSpec(path=Path("dem.tif")), base_dir=tmp_path, source="layers.dem")
    text = " ".join(str(w.message) for w in rec)
    assert ("layers.dem: dem.tif declares no nodata value, but 3 cell(s) hold -32768, far "
            "outside the other values; they are treated as nodata") in text
    voids = values == -32768
    assert np.isnan(r.array[voids]).all()
    np.testing.assert_array_equal(r.array[~voids], values[~voids])
    # declared: no guess, no warning
    _write_int16_dem(tmp_path / "dem.tif", -32768)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = read_raster(LayerSpec(path=Path("dem.tif")), base_dir=tmp_path, source="layers.dem")
    assert int(np.isnan(r.array).sum()) == 3


def test_sentinels_only_when_far_outside_the_other_values() -> None:
    from contigmap.raster import undeclared_nodata

    dem = np.array([[200.0, 250.0, -9999.0], [3.4028234663852886e38, 300.0, 310.0]])
    assert undeclared_nodata(dem) == [(-9999.0, 1), (3.4028234663852886e38, 1)]
    # differences from -12,000 to 5,000: -9999 is a real value there
    diff = np.array([[-12000.0, -9999.0, 5000.0]])
    assert undeclared_nodata(diff) == []
    # -32768 next to values down to -31,000 is within their range too
    assert undeclared_nodata(np.array([[-31000.0, -32768.0, 100.0]])) == []
    assert undeclared_nodata(np.array([[1.0, 2.0]])) == []


def test_png_renamed_tif_is_not_a_georeferenced_raster(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("L", (10, 8)).save(tmp_path / "picture.png")
    (tmp_path / "dem.tif").write_bytes((tmp_path / "picture.png").read_bytes())
    with pytest.raises(CRSError) as err:
        read_raster(LayerSpec(path=Path("dem.tif"), crs="EPSG:4545"), base_dir=tmp_path,
                    source="layers.dem")
    assert str(err.value).startswith(
        "layers.dem: dem.tif is not a georeferenced raster (it is a PNG file): it has no CRS, "
        "no transform and no ground control points")
# --------------------------------------------------------------------------- issue 12: manifest


def _roads_gpkg(path: Path, bridge: Sequence[object], lines: list[LineString]) -> None:
    gpd.GeoDataFrame(
        {
            "RID": [str(i + 1) for i in range(len(lines))],
            "等级": ["县道"] * len(lines),
            "路面": ["硬化路面"] * len(lines),
            "桥梁": bridge,
        },
        geometry=lines,
        crs="EPSG:4545",
    ).to_file(path, layer="roads", engine="pyogrio")


_ROAD_SPEC = {"id": "road_id", "columns": {"RID": "road_id", "等级": "road_class",
                                          "路面": "surface", "桥梁": "bridge"}}


def test_yes_no_bridges_give_hand_counted_network_pieces(tmp_path: Path) -> None:
    from contigmap.network.build import build_network

    # A runs west-east with interior vertices at x=1000 and x=1500; C starts at A's vertex
    # (1000, 0) and joins it; B (a bridge, 是) passes over A's vertex (1500, 0) without
    # joining it. Pieces by hand: {A, C} and {B} = 2. Reading 否 as true would make A a
    # bridge too, cutting C off at A's private interior vertex: 3 pieces.
    x, y = X0, Y0
    lines = [
        LineString([(x, y), (x + 1000, y), (x + 1500, y), (x + 2000, y)]),
        LineString([(x + 1500, y - 500), (x + 1500, y), (x + 1500, y + 500)]),
        LineString([(x + 1000, y), (x + 1000, y + 1000)]),
    ]
    _roads_gpkg(tmp_path / "roads.gpkg", ["否", "是", None], lines)
    spec = LayerSpec.model_validate({"path": "roads.gpkg", **_ROAD_SPEC})
    roads = read_layer(spec, base_dir=tmp_path, role="roads", source="layers.roads")
    assert roads["bridge"].tolist() == [False, True, False]  # blank = the default, no
    assert "_src_row" not in roads.columns
    assert build_network(roads).n_components == 2
    # every accepted spelling, trimmed and case-insensitive
    words = [" YES ", "n", "有", "无", "True", "0", "y", "No", "1", "FALSE"]
    many = [LineString([(x + 10 * i, y + 5000), (x + 10 * i, y + 5005)]) for i in range(10)]
    _roads_gpkg(tmp_path / "many.gpkg", words, many)
    spec = LayerSpec.model_validate({"path": "many.gpkg", **_ROAD_SPEC})
    roads = read_layer(spec, base_dir=tmp_path, role="roads", source="layers.roads")
    assert roads["bridge"].tolist() == [True, False, True, False, True, False, True, False,
                                        True, False]


def test_bad_yes_no_values_name_values_and_spreadsheet_rows(tmp_path: Path) -> None:
    text = "household_id,village_id,members,poor\nH1,A,3,是\nH2,A,2,maybe\nH3,A,4,否\nH4,A,1,?\n"
    (tmp_path / "hh.csv").write_text(text, encoding="utf-8")
    spec = LayerSpec(path=Path("hh.csv"))
    with pytest.raises(
        ValidationError,
        match=r"layers\.households \(hh\.csv\): column 'poor' is a yes/no column but holds "
        r"'maybe', '\?' in row 3, row 5; use 是/否",
    ):
        read_layer(spec, base_dir=tmp_path, role="households", source="layers.households (hh.csv)")
    # a recode under values: fixes it
    spec = LayerSpec.model_validate({"path": "hh.csv", "values": {"poor": {"maybe": "否",
                                                                          "?": "是"}}})
    out = read_layer(spec, base_dir=tmp_path, role="households", source="hh")
    assert out["poor"].tolist() == [True, False, False, True]
    # vector layers name features
    lines = [LineString([(X0, Y0), (X0 + 100, Y0)]), LineString([(X0, Y0), (X0, Y0 + 100)])]
    _roads_gpkg(tmp_path / "roads.gpkg", ["否", "桥"], lines)
    spec = LayerSpec.model_validate({"path": "roads.gpkg", **_ROAD_SPEC})
    with pytest.raises(ValidationError, match=r"column 'bridge' .* holds '桥' in feature 2"):
        read_layer(spec, base_dir=tmp_path, role="roads", source="layers.roads")


def test_parse_bool_dtypes_and_defaults() -> None:
    from contigmap.booleans import parse_bool

    assert parse_bool(pd.Series([True, False]), column="bridge").tolist() == [True, False]
    assert parse_bool(pd.Series([1, 0, 1]), column="bridge").tolist() == [True, False, True]
    assert parse_bool(pd.Series([1.0, np.nan, 0.0]), column="bridge",
                      default=True).tolist() == [True, True, False]
    assert parse_bool(pd.Series(["", "  ", None]), column="tunnel").tolist() == [False] * 3
    with pytest.raises(ValidationError, match=r"holds '2' in data row 2"):
        parse_bool(pd.Series([1, 2]), column="bridge")
    with pytest.raises(ValidationError, match="'t'"):  # only the documented words
        parse_bool(pd.Series(["t"]), column="bridge")
    # poor also takes the registry's own words
    assert parse_bool(pd.Series(["贫困户", "非贫困户"]), column="poor").tolist() == [True, False]


def _hazard_gpkg(path: Path) -> None:
    gpd.GeoDataFrame(
        {"编号": ["Z1", "Z2", "Z3", "Z4"],
         "易发程度": ["高易发区", "中易发区", "低易发区", "非易发区"]},
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100), box(X0, Y0, X0 + 200, Y0 + 200),
                  box(X0, Y0, X0 + 300, Y0 + 300),
                  box(X0 - 1000, Y0 - 1000, X0 + 1000, Y0 + 1000)],
        crs="EPSG:4545",
    ).to_file(path, layer="hazards", engine="pyogrio")


def test_filter_keeps_listed_rows_and_names_closest_column(tmp_path: Path) -> None:
    _hazard_gpkg(tmp_path / "hz.gpkg")
    spec = LayerSpec.model_validate(
        {"path": "hz.gpkg", "id": "编号", "filter": {"易发程度": ["高易发区", "中易发区"]}}
    )
    out = read_layer(spec, base_dir=tmp_path, role="hazards", source="layers.hazards.geo")
    assert out["hazard_id"].tolist() == ["Z1", "Z2"]
    spec = LayerSpec.model_validate({"path": "hz.gpkg", "filter": {"易发等级": ["高易发区"]}})
    with pytest.raises(ConfigError,
                       match=r"'filter:' names column '易发等级'.*closest is '易发程度'"):
        read_layer(spec, base_dir=tmp_path, role="hazards", source="layers.hazards.geo")


def test_hazard_classes_weights_and_unknown_class(tmp_path: Path) -> None:
    _hazard_gpkg(tmp_path / "hz.gpkg")
    weights = {"高易发区": 1.0, "中易发区": 0.6, "低易发区": 0.2, "非易发区": 0}
    spec = LayerSpec.model_validate(
        {"path": "hz.gpkg", "id": "编号", "class": {"column": "易发程度", "weights": weights}}
    )
    out = read_layer(spec, base_dir=tmp_path, role="hazards", source="layers.hazards.geo")
    assert out["hazard_id"].tolist() == ["Z1", "Z2", "Z3"]  # weight 0 dropped
    assert out["hazard_weight"].tolist() == [1.0, 0.6, 0.2]
    del weights["低易发区"]
    spec = LayerSpec.model_validate(
        {"path": "hz.gpkg", "class": {"column": "易发程度", "weights": weights}}
    )
    with pytest.raises(ValidationError, match=r"class\(es\) '低易发区' in feature 3"):
        read_layer(spec, base_dir=tmp_path, role="hazards", source="layers.hazards.geo")
    spec = LayerSpec.model_validate(
        {"path": "hz.gpkg", "class": {"column": "易发程度", "weights": {"高易发区": 1}}}
    )
    with pytest.raises(ConfigError, match="is for hazard layers only"):
        read_layer(spec, base_dir=tmp_path, role="ecology", source="layers.ecology.x")


def _services_rows(kinds: list[str]) -> tuple[list[float], list[float]]:
    lon, lat = to_lonlat([X0 + 1000 * (i + 1) for i in range(len(kinds))], [Y0] * len(kinds))
    return [round(float(v), 8) for v in lon], [round(float(v), 8) for v in lat]


def test_values_recoding_and_constant_columns(tmp_path: Path) -> None:
    lon, lat = _services_rows(["镇", "乡", "街道", "县城"])
    df = pd.DataFrame({"名称": ["甲镇", "乙乡", "丙街道", "县城"],
                       "类别": ["镇", "乡", "街道", "县城"], "经度": lon, "纬度": lat})
    df.to_csv(tmp_path / "s.csv", index=False)
    spec = LayerSpec.model_validate({
        "path": "s.csv", "columns": {"名称": "name", "类别": "kind"},
        "values": {"kind": {"镇": "township_seat", "乡": "township_seat",
                            "街道": "township_seat", "县城": "county_seat"}},
    })
    out = read_layer(spec, base_dir=tmp_path, role="services", source="layers.services")
    assert out["kind"].tolist() == ["township_seat"] * 3 + ["county_seat"]
    spec = LayerSpec.model_validate({
        "path": "s.csv", "columns": {"名称": "name"}, "set": {"kind": "school"},
    })
    out = read_layer(spec, base_dir=tmp_path, role="services", source="layers.services")
    assert out["kind"].tolist() == ["school"] * 4
    spec = LayerSpec.model_validate({"path": "s.csv", "columns": {"名称": "name"},
                                     "values": {"kinds": {"镇": "x"}}})
    with pytest.raises(ConfigError, match=r"'values:' recodes column 'kinds'"):
        read_layer(spec, base_dir=tmp_path, role="services", source="layers.services")


def test_multi_sheet_workbook_with_kinds_and_a_row_of_two_kinds(tmp_path: Path) -> None:
    lon, lat = _services_rows(["a", "b", "c", "d", "e"])
    with pd.ExcelWriter(tmp_path / "services.xlsx") as writer:
        pd.DataFrame({"编号": ["W1", "W2"], "名称": ["甲卫生院", "乙卫生院"],
                      "经度": lon[:2], "纬度": lat[:2]}).to_excel(writer, sheet_name="卫生院",
                                                               index=False)
        pd.DataFrame({"编号": ["X1"], "学校名称": ["甲小学"], "经度": lon[2:3],
                      "纬度": lat[2:3]}).to_excel(writer, sheet_name="学校", index=False)
        pd.DataFrame({"编号": ["T1", "T2"], "名称": ["县城", "乙镇"], "类型": ["县城", "镇"],
                      "经度": lon[3:], "纬度": lat[3:]}).to_excel(writer, sheet_name="乡镇",
                                                              index=False)
        pd.DataFrame({"说明": ["不读"]}).to_excel(writer, sheet_name="说明", index=False)
    spec = LayerSpec.model_validate({
        "path": "services.xlsx", "id": "编号", "columns": {"名称": "name"},
        "sheets": {
            "卫生院": {"set": {"kind": "health_centre"}},
            "学校": {"columns": {"学校名称": "name"}, "set": {"kind": "school"}},
            "乡镇": {"columns": {"类型": "kind"},
                   "values": {"kind": {"县城": ["county_seat", "township_seat"],
                                       "镇": "township_seat"}}},
        },
    })
    out = read_layer(spec, base_dir=tmp_path, role="services", source="layers.services")
    assert out["service_id"].tolist() == ["W1", "W2", "X1", "T1#county_seat",
                                          "T1#township_seat", "T2"]
    assert out["kind"].tolist() == ["health_centre", "health_centre", "school", "county_seat",
                                    "township_seat", "township_seat"]
    assert out["name"].tolist() == ["甲卫生院", "乙卫生院", "甲小学", "县城", "县城", "乙镇"]
    assert out.geometry.iloc[3].equals(out.geometry.iloc[4])
    bad = LayerSpec.model_validate({"path": "services.xlsx", "sheets": {"医院": None}})
    with pytest.raises(LayerError, match=r"no sheet '医院' in services\.xlsx .*卫生院"):
        read_layer(bad, base_dir=tmp_path, role="services", source="layers.services")


def test_missing_coordinates_warn_with_sheet_and_row(tmp_path: Path) -> None:
    lon, lat = _services_rows(["a", "b", "c"])
    df = pd.DataFrame({"名称": ["甲", "乙", "丙"], "经度": [lon[0], None, lon[2]],
                       "纬度": [lat[0], lat[1], "n/a"]})
    with pd.ExcelWriter(tmp_path / "s.xlsx") as writer:
        df.to_excel(writer, sheet_name="学校", index=False)
    spec = LayerSpec.model_validate({"path": "s.xlsx", "columns": {"名称": "name"},
                                     "sheets": {"学校": {"set": {"kind": "school"}}}})
    with pytest.warns(DataQualityWarning,
                      match=r"2 row\(s\) of s\.xlsx, sheet '学校' have missing or non-numeric "
                      r"coordinates in columns '经度'/'纬度' \(sheet '学校' row 3, sheet '学校' "
                      r"row 4\); these rows are left out"):
        out = read_layer(spec, base_dir=tmp_path, role="services", source="layers.services")
    assert out["name"].tolist() == ["甲"]
    with pytest.raises(ValidationError, match=r"sheet '学校' row 3, sheet '学校' row 4"):
        read_layer(spec, base_dir=tmp_path, role="services", source="layers.services",
                   strict=True)


def test_zero_length_line_dropped_with_a_warning(tmp_path: Path) -> None:
    lines = [LineString([(X0, Y0), (X0 + 100, Y0)]), LineString([(X0, Y0), (X0, Y0)]),
             LineString([(X0, Y0), (X0, Y0 + 100)])]
    _roads_gpkg(tmp_path / "roads.gpkg", ["否", "否", "否"], lines)
    spec = LayerSpec.model_validate({"path": "roads.gpkg", **_ROAD_SPEC})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = read_layer(spec, base_dir=tmp_path, role="roads", source="layers.roads")
    messages = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    assert any("1 zero-length line(s) dropped (feature 2)" in m for m in messages), messages
    assert not any("Point" in m for m in messages)
    assert out["road_id"].tolist() == ["1", "3"]


def test_swapped_row_detected(tiny_region: TinyRegion) -> None:
    path = tiny_region.folder / "villages.csv"
    lines = path.read_text(encoding="utf-8").strip().splitlines()
    parts = lines[2].split(",")  # data row 2 = spreadsheet row 3
    parts[-2], parts[-1] = parts[-1], parts[-2]
    lines[2] = ",".join(parts)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CRSError, match=r"row 3 looks swapped \(lat, lon\).*swap the two values"):
        load_region_layers(load_region(tiny_region.path))


@pytest.mark.slow
def test_swapped_projected_row_detected_against_the_county(tiny_region: TinyRegion) -> None:
    # GK easting/northing: swapping does not leave the valid range, only the region tells
    rows = ["村代码,村名,乡镇代码,E,N"]
    xy = [(X0 + 2000, Y0 + 2000), (Y0 + 6000, X0 + 3000), (X0 + 7000, Y0 + 2000)]
    for i, (e, n) in enumerate(xy):
        rows.append(f"{VILLAGE_CODES[i]},村{i},433124100,{e},{n}")
    (tiny_region.folder / "villages.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    text = tiny_region.path.read_text(encoding="utf-8")
    text = text.replace("    x: 经度\n    y: 纬度\n", "    x: E\n    y: N\n    crs: EPSG:4545\n")
    text = text.replace(", 人口: pop", "")
    tiny_region.path.write_text(text, encoding="utf-8")
    with pytest.raises(CRSError, match=r"layers\.villages \(villages\.csv\): row 3 looks "
                       r"swapped \(lat, lon\): swapping 'E' and 'N'"):
        load_region_layers(load_region(tiny_region.path))


@pytest.mark.slow
def test_one_row_of_two_kinds_is_reachable_as_both(tiny_region: TinyRegion) -> None:
    from contigmap.network.access import access_measures
    from contigmap.network.build import build_network

    xs, ys = [X0 + 2_500, X0 + 7_500, X0 + 2_500, X0 + 7_500], [Y0 + 4_000] * 4
    lon, lat = to_lonlat(xs, ys)
    rows = [("S1", "卫生院", "花垣镇卫生院", ""), ("S2", "school", "双龙小学", ""),
            ("S3", "县城", "花垣县城", "433124100"), ("S4", "镇", "双龙镇", "433124101")]
    text = "id,类型,name,乡镇代码,lng,lat\n" + "".join(
        f"{sid},{kind},{name},{tid},{lon[i]:.8f},{lat[i]:.8f}\n"
        for i, (sid, kind, name, tid) in enumerate(rows))
    (tiny_region.folder / "services.csv").write_text(text, encoding="utf-8")
    manifest = tiny_region.path.read_text(encoding="utf-8").replace(
        "  services: {path: services.csv, id: service_id, columns: {id: service_id}, "
        "datum: gcj02}\n",
        "  services:\n    path: services.csv\n    id: service_id\n"
        "    columns: {id: service_id, 类型: kind, 乡镇代码: township_id}\n"
        "    values: {kind: {县城: [county_seat, township_seat], 镇: township_seat}}\n")
    tiny_region.path.write_text(manifest, encoding="utf-8")
    data = load_region_layers(load_region(tiny_region.path))
    services = data.services
    assert services is not None
    assert services["service_id"].tolist() == ["S1", "S2", "S3#county_seat",
                                               "S3#township_seat", "S4"]
    m = access_measures(build_network(data.roads), data.villages, services)
    west = m["township_id"] == "433124100"
    # the county seat is the western township's seat: same point, same times (一村's own
    # road reaches the county road mid-segment, without a shared vertex: unreachable there)
    assert np.isfinite(m.loc[west, "tt_county_seat_min"]).tolist() == [False, True]
    np.testing.assert_allclose(m.loc[west, "tt_county_seat_min"],
                               m.loc[west, "tt_own_township_seat_min"])
    assert m.loc[west, "nearest_township_seat_id"].tolist()[1] == "S3#township_seat"


def test_a_damaged_workbook_is_named_not_a_traceback(tmp_path: Path) -> None:
    import shutil

    from contigmap.config import load_region
    from contigmap.errors import LayerError
    from contigmap.io.region import load_region_layers

    messy = Path(__file__).resolve().parents[1] / "layers" / "messy"
    folder = tmp_path / "messy"
    shutil.copytree(messy, folder)
    book = folder / "公共服务设施_高德.xlsx"
    book.write_bytes(book.read_bytes()[:500])  # cut short, as a failed download leaves it
    expected = (r"layers\.services \(公共服务设施_高德\.xlsx\): 公共服务设施_高德\.xlsx "
                r"is not a readable Excel workbook")
    with pytest.raises(LayerError, match=expected):
        load_region_layers(load_region(folder / "region.yaml"))


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # id: names a column the file lacks -> the file's columns (not the coordinates,
        # already taken, nor contigmap's private row columns), the closest, fix 'id:'
        ({"id": "cod"},
         "v: id column 'cod' is not in the file (it has: code, name, township_id); "
         "did you mean 'code'?; fix 'id:' in region.yaml"),
        # no id: and no village_id -> the canonical name, and both ways to give it
        ({},
         "v: id column 'village_id' is not in the file (it has: code, name, township_id); "
         "set 'id: <column>' (or map a column to 'village_id' under 'columns:') in "
         "region.yaml"),
        # x: names a column the file lacks -> the layer named, the closest, fix 'x:'
        ({"id": "code", "x": "lng"},
         "v: column 'lng' is not in the file (it has: code, name, township_id, lon, lat); "
         "did you mean 'lon'?; fix 'x:' in region.yaml"),
    ],
)
def test_missing_column_messages(
    tmp_path: Path, settings: dict[str, str], expected: str
) -> None:
    """One message helper: what the file has, the closest name (when close), the fix."""
    text = "code,name,township_id,lon,lat\n433124100201,一村,433124100,109.4,28.4\n"
    (tmp_path / "v.csv").write_text(text, encoding="utf-8")
    spec = LayerSpec(path=Path("v.csv"), **settings)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as info:
        read_layer(spec, base_dir=tmp_path, role="villages", source="v")
    assert str(info.value) == expected


def test_sample_bilinear_by_hand_edges_and_layouts() -> None:
    """Bilinear values by hand, nan outside, the same from a C- or Fortran-ordered array."""
    z = np.array([[0.0, 10.0, 20.0], [30.0, 40.0, 50.0]])  # 10 m cells, top-left (0, 20)
    t = Affine(10, 0, 0, 0, -10, 20)
    r = Raster(z, t, CRS.from_epsg(32649), "z")
    # cell centres at x 5, 15, 25 and y 15, 5; (10, 10) is midway between four of them
    x = np.array([10.0, 5.0, 25.0, 0.0, 29.99, -0.01, 30.0, 10.0, 10.0])
    y = np.array([10.0, 15.0, 5.0, 20.0, 0.01, 10.0, 10.0, 20.01, -0.01])
    got = r.sample_bilinear(x, y)
    np.testing.assert_allclose(got[:5], [20.0, 0.0, 50.0, 0.0, 50.0])  # corners clamp
    assert np.isnan(got[5:]).all()  # left of, right of, above, below the raster
    f = Raster(np.asfortranarray(z), t, CRS.from_epsg(32649), "z")
    rng = np.random.default_rng(1)
    xs, ys = rng.uniform(-5, 35, 200), rng.uniform(-5, 25, 200)
    np.testing.assert_array_equal(f.sample_bilinear(xs, ys), r.sample_bilinear(xs, ys))
