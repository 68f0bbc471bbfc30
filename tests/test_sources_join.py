"""A statistics table joined onto the villages layer by code (issue #19 item 3)."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from contigmap.config import LayerSpec, load_region
from contigmap.errors import ConfigError, DataQualityWarning
from contigmap.io.join import apply_joins
from contigmap.io.read import read_layer
from contigmap.io.region import load_region_layers
from contigmap.stages import profile_stage

CODES = ["433124100201", "433124100202", "433124100203"]


def _polygons(folder: Path) -> Path:
    """Three 1 km village squares in EPSG:4545, codes as Real (``....0``) like a FileGDB."""
    gdf = gpd.GeoDataFrame(
        {"XZQDM": [float(c) for c in CODES], "村名": ["一村", "二村", "三村"],
         "乡镇代码": ["433124100"] * 3},
        geometry=[box(630_000 + 1000 * i, 3_140_000, 631_000 + 1000 * i, 3_141_000)
                  for i in range(3)], crs="EPSG:4545")
    path = folder / "村界.gpkg"
    gdf.to_file(path)
    return path


def _table(folder: Path) -> Path:
    """Statistics: 一村 and 二村 (code written as a number), plus one code of no village."""
    table = pd.DataFrame({"行政区划代码": [CODES[0], CODES[1] + ".0", "433124100299"],
                          "户籍人口": [1000, 2000, 500], "户数": [250, 480, 120],
                          "贫困人口": [300, 400, 50]})
    path = folder / "人口统计表.xlsx"
    table.to_excel(path, index=False)
    return path


def _spec(folder: Path, **join: object) -> LayerSpec:
    return LayerSpec.model_validate({
        "path": str(_polygons(folder)), "id": "XZQDM",
        "columns": {"村名": "name", "乡镇代码": "township_id"},
        "join": {"path": str(_table(folder)), "on": {"XZQDM": "行政区划代码"}, **join}})


def test_join_by_code_reports_both_sides(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    with pytest.warns(DataQualityWarning) as caught:
        frame = read_layer(spec, base_dir=tmp_path, role="villages", source="layers.villages",
                           check=False)
        frame = apply_joins(frame, spec, role="villages", base_dir=tmp_path,
                            source="layers.villages", problems=[])
    text = " ".join(str(w.message) for w in caught)
    assert "1 of 3 features have no row in the table (433124100203)" in text
    assert "1 of 3 table rows match no feature (433124100299)" in text
    assert frame["village_id"].tolist() == CODES  # Real codes became 12-digit text
    assert frame["pop"].tolist()[:2] == [1000, 2000]
    assert np.isnan(frame["pop"].iloc[2])
    assert frame["poor_pop"].tolist()[:2] == [300, 400]
    assert frame["households"].tolist()[:2] == [250, 480]


def test_layer_values_win_and_bad_on_is_named(tmp_path: Path) -> None:
    spec = _spec(tmp_path, columns={"户籍人口": "name"})  # the table's pop named as 'name'
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        frame = read_layer(spec, base_dir=tmp_path, role="villages", source="layers.villages",
                           check=False)
        frame = apply_joins(frame, spec, role="villages", base_dir=tmp_path,
                            source="layers.villages", problems=[])
    assert frame["name"].tolist() == ["一村", "二村", "三村"]  # the layer's own kept
    bad = spec.model_copy(update={"join": spec.join.model_copy(  # type: ignore[union-attr]
        update={"on": {"XZQDM": "区划代码"}})})
    with pytest.raises(ConfigError, match=r"join column '区划代码'.*did you mean '行政区划代码'"):
        apply_joins(frame, bad, role="villages", base_dir=tmp_path, source="layers.villages",
                    problems=[])


@pytest.mark.slow
def test_poor_people_from_the_table_are_the_incidence_source(tmp_path: Path) -> None:
    _polygons(tmp_path)
    _table(tmp_path)
    roads = gpd.GeoDataFrame({"road_id": ["1"], "road_class": ["county"],
                              "surface": ["paved"]},
                             geometry=gpd.GeoSeries.from_wkt(
                                 ["LINESTRING (630000 3140500, 633000 3140500)"]),
                             crs="EPSG:4545")
    roads.to_file(tmp_path / "roads.gpkg")
    pd.DataFrame({"户编号": ["H1", "H2"], "村代码": [CODES[0], CODES[2]], "家庭人口": [4, 3],
                  "是否贫困户": ["是", "是"], "致贫原因": ["因病", "因残"]}
                 ).to_csv(tmp_path / "贫困户.csv", index=False)
    (tmp_path / "region.yaml").write_text(
        "name: joined\nlayers:\n"
        "  villages:\n    path: 村界.gpkg\n    id: XZQDM\n"
        "    columns: {村名: name, 乡镇代码: township_id}\n"
        "    join: {path: 人口统计表.xlsx, on: {XZQDM: 行政区划代码}}\n"
        "  roads: {path: roads.gpkg}\n"
        "  households:\n    path: 贫困户.csv\n    id: 户编号\n    coverage: poor_only\n"
        "    columns: {村代码: village_id, 家庭人口: members, 是否贫困户: poor, "
        "致贫原因: cause}\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        data = load_region_layers(load_region(tmp_path / "region.yaml"))
        villages = profile_stage(data).villages
    # 一村, 二村 from the table: 300/1000, 400/2000; 三村: no table row, poor-only registry
    assert villages["poor_pop_source"].tolist() == ["villages_layer", "villages_layer",
                                                    "no_incidence_source"]
    assert villages["poverty_incidence"].tolist()[:2] == pytest.approx([0.3, 0.2])
    assert np.isnan(villages["poverty_incidence"].iloc[2])
    assert villages["cause_disability_share"].iloc[2] == pytest.approx(1.0)  # causes kept


def test_join_spec_needs_one_pair() -> None:
    with pytest.raises(ValueError, match="one pair"):
        LayerSpec.model_validate({"path": "v.gpkg", "join": {"path": "t.csv", "on": {}}})
