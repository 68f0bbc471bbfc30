"""ESRI File Geodatabases and KML/KMZ folders (issue #19 items 1 and 7)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point

from contigmap.config import LayerSpec, input_files, layer_paths, load_region
from contigmap.errors import LayerError
from contigmap.io import read_layer
from contigmap.manifest import file_record

pytestmark = pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")


def _can_write_filegdb() -> bool:
    import pyogrio

    return "w" in pyogrio.list_drivers().get("OpenFileGDB", "")


needs_gdb = pytest.mark.skipif(not _can_write_filegdb(),
                               reason="GDAL < 3.6: OpenFileGDB cannot write the fixture")


def _write_gdb(path: Path) -> None:
    import pyogrio

    villages = gpd.GeoDataFrame(
        {"CUNDM": [640422100001.0, 640422100002.0], "CUNMC": ["甲村", "乙村"],
         "XZDM": [640422100.0, 640422101.0]},
        geometry=[Point(105.10, 35.10), Point(105.12, 35.12)], crs="EPSG:4490")
    roads = gpd.GeoDataFrame(
        {"DLDJ": ["县道", "村道"], "LMLX": ["沥青", "砂石"]},
        geometry=[LineString([(105.09, 35.09), (105.13, 35.13)]),
                  LineString([(105.10, 35.10), (105.10, 35.13)])], crs="EPSG:4490")
    pyogrio.write_dataframe(villages, path, layer="行政村", driver="OpenFileGDB")
    pyogrio.write_dataframe(roads, path, layer="道路", driver="OpenFileGDB")


VILLAGE_COLUMNS = {"CUNDM": "village_id", "CUNMC": "name", "XZDM": "township_id"}


@needs_gdb
def test_gdb_feature_class_with_real_codes(tmp_path: Path) -> None:
    _write_gdb(tmp_path / "县数据.gdb")
    spec = LayerSpec(path=Path("县数据.gdb"), layer="行政村", columns=VILLAGE_COLUMNS)
    out = read_layer(spec, base_dir=tmp_path, role="villages", source="layers.villages")
    assert list(out["village_id"]) == ["640422100001", "640422100002"]  # Real -> 12 digits
    assert list(out["township_id"]) == ["640422100", "640422101"]
    assert list(out["name"]) == ["甲村", "乙村"]
    assert out.crs.to_epsg() == 4490


@needs_gdb
def test_gdb_without_layer_names_the_feature_classes(tmp_path: Path) -> None:
    _write_gdb(tmp_path / "县数据.gdb")
    with pytest.raises(LayerError, match=r"holds 2 layers \(行政村, 道路\)") as info:
        read_layer(LayerSpec(path=Path("县数据.gdb"), columns=VILLAGE_COLUMNS),
                   base_dir=tmp_path, role="villages", source="layers.villages")
    assert "\n" not in str(info.value)


@needs_gdb
def test_gdb_run_inputs_are_its_files(tmp_path: Path) -> None:
    # `run` hashed the .gdb folder as a file (IsADirectoryError) after `validate` passed
    from contigmap.io import load_region_layers

    _write_gdb(tmp_path / "县数据.gdb")
    (tmp_path / "region.yaml").write_text(
        "name: g\nlayers:\n"
        "  villages: {path: 县数据.gdb, layer: 行政村, columns: {CUNDM: village_id, "
        "CUNMC: name, XZDM: township_id}}\n"
        "  roads: {path: 县数据.gdb, layer: 道路, columns: {DLDJ: road_class, LMLX: surface}}\n",
        encoding="utf-8")
    region = load_region(tmp_path / "region.yaml")
    data = load_region_layers(region)
    gdb_files = input_files(tmp_path / "县数据.gdb")
    assert gdb_files and all(p.is_file() for p in gdb_files)
    assert data.input_paths == gdb_files + gdb_files
    assert layer_paths(region) == gdb_files + gdb_files
    records = [file_record(p) for p in data.input_paths]  # no IsADirectoryError
    assert all(r["size_bytes"] > 0 for r in records)
    assert list(data.villages["village_id"]) == ["640422100001", "640422100002"]


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>公共服务设施</name>
<Folder><name>学校</name>
<Placemark><name>一小</name><Point><coordinates>105.10,35.10,0</coordinates></Point></Placemark>
<Placemark><name>二小</name><Point><coordinates>105.20,35.20</coordinates></Point></Placemark>
</Folder>
<Folder><name>卫生院</name>
<Placemark><name>中心卫生院</name><Point><coordinates>105.30,35.30</coordinates></Point>
</Placemark>
</Folder></Document></kml>
"""


@pytest.fixture
def kml_files(tmp_path: Path) -> Path:
    (tmp_path / "设施.kml").write_text(KML, encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "设施.kmz", "w") as kmz:
        kmz.writestr("doc.kml", KML)
    return tmp_path


@pytest.mark.parametrize("name", ["设施.kml", "设施.kmz"])
def test_kml_all_folders_with_folder_column(kml_files: Path, name: str) -> None:
    spec = LayerSpec.model_validate({"path": name, "values": {"kind": {
        "学校": "school", "卫生院": "health_centre"}}, "columns": {"folder": "kind"}})
    out = read_layer(spec, base_dir=kml_files, role="services", source="layers.services")
    assert list(out["name"]) == ["一小", "二小", "中心卫生院"]
    assert list(out["kind"]) == ["school", "school", "health_centre"]
    assert list(out.geometry.x) == pytest.approx([105.1, 105.2, 105.3])
    assert not out.geometry.has_z.any()


@pytest.mark.parametrize("name", ["设施.kml", "设施.kmz"])
def test_kml_one_folder(kml_files: Path, name: str) -> None:
    spec = LayerSpec.model_validate({"path": name, "folder": "学校", "set": {"kind": "school"}})
    out = read_layer(spec, base_dir=kml_files, role="services", source="layers.services")
    assert list(out["name"]) == ["一小", "二小"]
    assert set(out["folder"]) == {"学校"}


def test_kml_unknown_folder_is_one_line_error(kml_files: Path) -> None:
    spec = LayerSpec.model_validate({"path": "设施.kml", "folder": "小学",
                                     "set": {"kind": "school"}})
    with pytest.raises(LayerError, match=r"no folder '小学' in 设施.kml \(it has: 学校, 卫生院\)"):
        read_layer(spec, base_dir=kml_files, role="services", source="layers.services")


def test_folder_on_other_files_is_refused(tmp_path: Path) -> None:
    gpd.GeoDataFrame({"name": ["a"], "kind": ["school"]}, geometry=[Point(105, 35)],
                     crs="EPSG:4326").to_file(tmp_path / "s.gpkg")
    with pytest.raises(LayerError, match="'folder:' is for KML/KMZ files"):
        read_layer(LayerSpec.model_validate({"path": "s.gpkg", "folder": "x"}),
                   base_dir=tmp_path, role="services", source="s")


def test_broken_kmz_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "bad.kmz").write_bytes(b"not a zip")
    with pytest.raises(LayerError, match=r"cannot open bad\.kmz as KML/KMZ"):
        read_layer(LayerSpec(path=Path("bad.kmz")), base_dir=tmp_path, role="services",
                   source="s")
