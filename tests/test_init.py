"""``contigmap init``: a county folder as handed over → a manifest that loads as is.

The folder: a GBK roads shapefile without .cpg (Chinese headers), villages as a CSV with
经度/纬度, a GeoTIFF DEM, a two-sheet services workbook, a household registry CSV, and
hamlets as a CSV in CGCS2000 3-degree Gauss–Krüger metres with the zone number 37 on the
easting. Everything lies around (111.0°E, 28.0°N), in zone 37 (CM 111°E).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import Transformer
from shapely.geometry import LineString

from contigmap.cli.main import cli
from contigmap.config import load_region
from contigmap.errors import ConfigError
from contigmap.init import CONFIRM, guess_crs_from_xy, init_region
from contigmap.io.region import load_region_layers

GK = "EPSG:4546"  # CGCS2000 3-degree GK CM 111E, no zone prefix
X0, Y0 = 480_000.0, 3_095_000.0  # about (110.8°E, 27.97°N)


def _lonlat(x: list[float], y: list[float]) -> tuple[np.ndarray, np.ndarray]:
    tr = Transformer.from_crs(GK, "EPSG:4490", always_xy=True)
    lon, lat = tr.transform(np.asarray(x), np.asarray(y))
    return np.asarray(lon), np.asarray(lat)


def write_county_folder(folder: Path) -> Path:
    import pyogrio
    import rasterio
    from affine import Affine

    folder.mkdir(parents=True, exist_ok=True)
    # roads: GBK shapefile, no .cpg, Chinese headers, CGCS2000 GK (.prj present)
    roads = gpd.GeoDataFrame(
        {"道路编码": ["X001", "C002", "C003"], "道路等级": ["县道", "村道", "村道"],
         "路面类型": ["沥青", "砂石", "水泥"], "桥梁": ["否", "是", "否"],
         "路线名称": ["花龙线", "十八洞村道", "排碧村道"]},
        geometry=[LineString([(X0, Y0), (X0 + 8000, Y0)]),
                  LineString([(X0 + 2000, Y0), (X0 + 2000, Y0 + 3000)]),
                  LineString([(X0 + 6000, Y0), (X0 + 6000, Y0 + 4000)])],
        crs=GK)
    pyogrio.write_dataframe(roads, folder / "道路.shp", encoding="gbk")
    (folder / "道路.cpg").unlink(missing_ok=True)
    # villages: CSV with 经度/纬度 (CGCS2000 degrees)
    vx, vy = [X0 + 1000, X0 + 2500, X0 + 6500], [Y0 + 500, Y0 + 2500, Y0 + 3500]
    lon, lat = _lonlat(vx, vy)
    pd.DataFrame({
        "村代码": ["431222100201", "431222100202", "431222101201"],
        "村名": ["甲村", "乙村", "丙村"],
        "乡镇代码": ["431222100", "431222100", "431222101"],
        "户籍人口": [1200, 800, 500], "户数": [300, 200, 120],
        "经度": lon.round(7), "纬度": lat.round(7),
    }).to_csv(folder / "行政村.csv", index=False, encoding="utf-8-sig")
    # hamlets: X/Y in Gauss-Kruger metres WITH the zone number 37 on the easting
    pd.DataFrame({
        "自然村编号": ["43122210020101", "43122210020102"],
        "村代码": ["431222100201", "431222100201"],
        "自然村名": ["甲村一组", "甲村二组"], "人口": [600, 600], "户数": [150, 150],
        "X": [37_000_000 + X0 + 900, 37_000_000 + X0 + 1100], "Y": [Y0 + 400, Y0 + 600],
    }).to_csv(folder / "自然村.csv", index=False, encoding="utf-8-sig")
    # DEM: GeoTIFF in the GK CRS, 100 m cells
    arr = np.full((50, 90), 300.0, dtype="float32")
    arr += np.arange(90, dtype="float32")[None, :]
    with rasterio.open(folder / "dem.tif", "w", driver="GTiff", width=90, height=50, count=1,
                       dtype="float32", crs=GK,
                       transform=Affine(100, 0, X0 - 500, 0, -100, Y0 + 4500)) as dst:
        dst.write(arr, 1)
    # services: one workbook, two sheets (each with a 类型 column), lon/lat
    sx, sy = [X0 + 2000, X0 + 6000], [Y0 + 100, Y0 + 100]
    slon, slat = _lonlat(sx, sy)
    with pd.ExcelWriter(folder / "公共服务设施.xlsx") as xw:
        pd.DataFrame({"名称": ["某某镇卫生院"], "类型": ["卫生院"], "乡镇代码": ["431222100"],
                      "经度": [slon[0]], "纬度": [slat[0]]}).to_excel(
            xw, sheet_name="卫生院", index=False)
        pd.DataFrame({"名称": ["某某小学"], "类型": ["小学"], "乡镇代码": ["431222101"],
                      "经度": [slon[1]], "纬度": [slat[1]]}).to_excel(
            xw, sheet_name="学校", index=False)
    # households: registry CSV
    pd.DataFrame({
        "户编号": ["H1", "H2", "H3"], "村代码": ["431222100201"] * 2 + ["431222101201"],
        "家庭人口": [4, 3, 5], "是否贫困户": ["是", "否", "是"],
        "致贫原因": ["因病", "", "缺资金"], "人均纯收入": [2800, 6000, 3100],
    }).to_csv(folder / "建档立卡户.csv", index=False, encoding="utf-8-sig")
    return folder


@pytest.fixture
def county(tmp_path: Path) -> Path:
    return write_county_folder(tmp_path / "某某县")


@pytest.mark.slow
def test_init_manifest_loads_as_is_and_maps_the_headers(county: Path) -> None:
    result = init_region(county)
    path = result.write()
    assert path == county / "region.yaml"
    region = load_region(path)
    layers = region.layers
    assert layers.villages.path == Path("行政村.csv")
    assert (layers.villages.x, layers.villages.y) == ("经度", "纬度")
    assert layers.villages.crs == "EPSG:4490"
    assert layers.villages.columns == {"村代码": "village_id", "村名": "name",
                                       "乡镇代码": "township_id", "户籍人口": "pop",
                                       "户数": "households"}
    assert layers.roads.path == Path("道路.shp")
    assert layers.roads.encoding == "gbk"
    assert layers.roads.columns == {"道路编码": "road_id", "道路等级": "road_class",
                                    "路面类型": "surface", "桥梁": "bridge",
                                    "路线名称": "name"}
    assert layers.dem is not None and layers.dem.path == Path("dem.tif")
    assert layers.households is not None
    assert layers.households.columns == {"户编号": "household_id", "村代码": "village_id",
                                         "家庭人口": "members", "是否贫困户": "poor",
                                         "致贫原因": "cause", "人均纯收入": "income_per_person"}
    assert layers.hamlets is not None and layers.hamlets.crs == "EPSG:4525"
    assert layers.services is not None and layers.services.path == Path("公共服务设施.xlsx")

    data = load_region_layers(region)
    assert sorted(data.villages["name"]) == ["丙村", "乙村", "甲村"]
    assert data.villages["pop"].sum() == 2500
    assert list(data.roads["road_class"]) == ["county", "village", "village"]
    assert list(data.roads["surface"]) == ["paved", "gravel", "paved"]
    assert data.households is not None and data.households["poor"].sum() == 2
    assert data.dem is not None
    # the GK hamlets land next to their village (within 200 m of 甲村)
    assert data.hamlets is not None
    v = data.villages.set_index("village_id").geometry["431222100201"]
    assert data.hamlets.distance(v).max() < 200
    # the text says what to confirm, in Chinese and English
    assert CONFIRM in result.text and "请确认" in result.text
    assert any(g.what == "encoding" and g.confirm for g in result.guesses)


@pytest.mark.slow
def test_init_never_overwrites_region_yaml(county: Path) -> None:
    (county / "region.yaml").write_text("name: mine\n", encoding="utf-8")
    result = init_region(county)
    with pytest.raises(ConfigError, match="exists"):
        result.write()
    assert (county / "region.yaml").read_text(encoding="utf-8") == "name: mine\n"
    runner = CliRunner()
    out = runner.invoke(cli, ["init", str(county)])
    assert out.exit_code == 1
    assert (county / "region.yaml").read_text(encoding="utf-8") == "name: mine\n"
    printed = runner.invoke(cli, ["init", str(county), "--print"])
    assert printed.exit_code == 0, printed.output
    assert "villages:" in printed.output
    assert (county / "region.yaml").read_text(encoding="utf-8") == "name: mine\n"
    forced = runner.invoke(cli, ["init", str(county), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "villages:" in (county / "region.yaml").read_text(encoding="utf-8")


@pytest.mark.slow
def test_gauss_kruger_zone_prefix_gives_the_zone_crs() -> None:
    # hand check: zone 37 of the CGCS2000 3-degree zones has its central meridian at
    # 37 * 3 = 111°E; EPSG numbers zones 25..45 as 4513..4533, so zone 37 is 4525; an
    # easting of 37 500 000 m is on the central meridian (false easting 500 km)
    crs, note, swapped = guess_crs_from_xy([37_500_000.0, 37_510_000.0],
                                           [3_100_000.0, 3_101_000.0])
    assert crs == "EPSG:4525" and not swapped
    assert "zone 37" in note
    lon, _ = Transformer.from_crs(crs, "EPSG:4490", always_xy=True).transform(37_500_000.0,
                                                                                3_100_000.0)
    assert lon == pytest.approx(111.0, abs=1e-9)
    # 6-degree zone 19 (CM 111°E): EPSG 4491 + (19 - 13) = 4497
    assert guess_crs_from_xy([19_500_000.0], [3_100_000.0])[0] == "EPSG:4497"
    # without the prefix the zone comes from where the other layers are
    assert guess_crs_from_xy([500_000.0], [3_100_000.0], near=(111.2, 28.0))[0] == "EPSG:4546"
    assert guess_crs_from_xy([500_000.0], [3_100_000.0], near=(108.1, 28.0))[0] == "EPSG:4545"
    assert guess_crs_from_xy([500_000.0], [3_100_000.0])[0] is None
    # degrees, and swapped degrees
    assert guess_crs_from_xy([109.5], [28.3]) == (
        "EPSG:4490", guess_crs_from_xy([109.5], [28.3])[1], False)
    assert guess_crs_from_xy([28.3], [109.5])[2] is True


@pytest.mark.slow
def test_gcj02_names_give_datum(tmp_path: Path) -> None:
    folder = write_county_folder(tmp_path / "c")
    df = pd.read_csv(folder / "行政村.csv", dtype=str)
    df = df.rename(columns={"经度": "高德经度", "纬度": "高德纬度"})
    df.to_csv(folder / "行政村.csv", index=False, encoding="utf-8-sig")
    region_text = init_region(folder).text
    (folder / "region.yaml").write_text(region_text, encoding="utf-8")
    region = load_region(folder / "region.yaml")
    assert region.layers.villages.datum == "gcj02"
    assert region.layers.villages.crs == "EPSG:4326"
    assert (region.layers.villages.x, region.layers.villages.y) == ("高德经度", "高德纬度")


def _roads_with(folder: Path, columns: dict[str, list[str]]) -> None:
    """Replace the county's roads shapefile by four roads holding ``columns`` (GBK, no .cpg)."""
    import pyogrio

    lines = [LineString([(X0, Y0), (X0 + 8000, Y0)]),
             LineString([(X0 + 2000, Y0), (X0 + 2000, Y0 + 3000)]),
             LineString([(X0 + 6000, Y0), (X0 + 6000, Y0 + 4000)]),
             LineString([(X0 + 4000, Y0), (X0 + 4000, Y0 + 2000)])]
    roads = gpd.GeoDataFrame({"道路编码": ["X001", "Y002", "C003", "C004"],
                              "路面类型": ["沥青", "水泥", "砂石", "土路面"], **columns},
                             geometry=lines, crs=GK)
    for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        (folder / f"道路{ext}").unlink(missing_ok=True)
    pyogrio.write_dataframe(roads, folder / "道路.shp", encoding="gbk")
    (folder / "道路.cpg").unlink(missing_ok=True)


def _roads_notes(result: object) -> list[str]:
    return [g.value for g in result.guesses  # type: ignore[attr-defined]
            if g.source == "道路.shp" and g.what == "note"]


@pytest.mark.slow
def test_init_technical_grade_header_holding_road_classes_is_road_class(county: Path) -> None:
    # 技术等级 is the technical grade's header, but this county put the administrative
    # class under it: no other column is the class, so its values decide
    _roads_with(county, {"技术等级": ["县道", "乡道", "村道", "村道"]})
    result = init_region(county)
    region = load_region(result.write())
    assert region.layers.roads.columns == {"道路编码": "road_id", "技术等级": "road_class",
                                           "路面类型": "surface"}
    notes = _roads_notes(result)
    assert any("'技术等级' holds road_class values" in n and "tech_grade" in n for n in notes)
    assert not any("no column found for 'road_class'" in n for n in notes)
    data = load_region_layers(region)
    assert list(data.roads["road_class"]) == ["county", "township", "village", "village"]


@pytest.mark.slow
def test_init_technical_grades_do_not_become_road_class(county: Path) -> None:
    _roads_with(county, {"技术等级": ["二级", "三级", "四级", "等外"]})
    result = init_region(county)
    region = load_region(result.write())
    assert region.layers.roads.columns == {"道路编码": "road_id", "技术等级": "tech_grade",
                                           "路面类型": "surface"}
    notes = _roads_notes(result)
    assert any("no column found for 'road_class'" in n for n in notes)
    assert CONFIRM in result.text


@pytest.mark.slow
def test_init_values_decide_between_two_class_like_columns(county: Path) -> None:
    # 等级 reads as road_class by its header but holds technical grades; 类别 matches no
    # header alias but holds administrative classes, with 专用公路 (known as a class,
    # not recodable yet); the technical-grade column 技术等级 stays tech_grade
    _roads_with(county, {"等级": ["三级", "四级", "四级", "等外"],
                         "类别": ["县道", "专用公路", "村道", "机耕道"],
                         "技术等级": ["三级", "四级", "四级", "等外"]})
    result = init_region(county)
    region = load_region(result.write())
    assert region.layers.roads.columns == {"道路编码": "road_id", "类别": "road_class",
                                           "技术等级": "tech_grade", "路面类型": "surface"}
    notes = _roads_notes(result)
    assert any("'等级' does not hold them" in n for n in notes)
    # 专用公路 has no canonical class: the user is asked to recode it
    assert any("'类别' has values contigmap does not know: 专用公路" in n for n in notes)


@pytest.mark.slow
def test_init_values_must_mostly_fit_to_move_a_header(county: Path) -> None:
    # 3 of 4 values are classes: 0.75 is under the 0.8 needed, so 技术等级 keeps its header
    _roads_with(county, {"技术等级": ["县道", "乡道", "村道", "二级"]})
    result = init_region(county)
    region = load_region(result.write())
    assert region.layers.roads.columns["技术等级"] == "tech_grade"
    assert "road_class" not in region.layers.roads.columns.values()
