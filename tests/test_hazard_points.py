"""Hazard points (地质灾害隐患点): counts and threatened people within a radius, by hand.

Distances are chosen so that they can be read off the coordinates: a point 499 m from a
village counts with the default 500 m radius, one 501 m away does not, and one at
exactly 500 m (a 300-400-500 triangle) counts (the radius is inclusive).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from contigmap.config import LayerSpec, load_region
from contigmap.errors import ConfigError, DataQualityWarning, ValidationError
from contigmap.io.read import read_layer
from contigmap.io.region import load_region_layers
from contigmap.network import build_network
from contigmap.network.criticality import edge_hazard_exposure, road_criticality
from contigmap.overlay import (
    hazard_point_counts,
    hazard_points_near_lines,
    is_point_layer,
    village_profile,
)
from contigmap.relocation.candidates import score_settlements
from contigmap.relocation.costs import CandidateParams
from contigmap.yamlio import parse_model
from tests.helpers import VILLAGE_CODES, X0, Y0, hand_network, to_lonlat, write_tiny_region

CRS = "EPSG:4545"


def _villages() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"village_id": ["V1", "V2", "V3"], "name": ["一村", "二村", "三村"],
         "township_id": ["T1", "T1", "T1"], "pop": [100, 200, 300]},
        geometry=[Point(X0, Y0), Point(X0 + 5_000, Y0), Point(X0 + 10_000, Y0)], crs=CRS)


def _points(*, classes: bool = True, people: bool = True) -> gpd.GeoDataFrame:
    data: dict[str, list[object]] = {"hazard_id": ["P1", "P2", "P3", "P4"]}
    if people:
        data["threatened_people"] = [10, 20, 30, 40]
    if classes:
        data["hazard_weight"] = [1.0, 0.3, 1.0, 0.6]  # 高, 低, 高, 中
    return gpd.GeoDataFrame(
        data,
        geometry=[
            Point(X0 + 499, Y0),  # 499 m from V1: counts
            Point(X0, Y0 + 200),  # 200 m from V1: counts
            Point(X0 + 5_501, Y0),  # 501 m from V2 (4,499 m from V3): counts nowhere
            Point(X0 + 9_600, Y0 - 300),  # 500 m from V3 (300-400-500): counts
        ],
        crs=CRS,
    )


def test_counts_threatened_and_weights_by_hand() -> None:
    pts = _villages().geometry
    count, people, wmax = hazard_point_counts(pts, _points())
    assert count.tolist() == [2, 0, 1]
    assert people is not None
    assert people.tolist() == [30.0, 0.0, 40.0]
    assert wmax.tolist() == [1.0, 0.0, 0.6]
    # one metre more: the 501 m point counts for V2
    count, people, wmax = hazard_point_counts(pts, _points(), radius_m=501.0)
    assert count.tolist() == [2, 1, 1]
    assert people is not None and people.tolist() == [30.0, 30.0, 40.0]
    assert wmax.tolist() == [1.0, 1.0, 0.6]
    # a layer's own radius (radius_m: in region.yaml) is used when none is passed
    layer = _points().assign(hazard_radius_m=200.0)
    count, _, _ = hazard_point_counts(pts, layer)
    assert count.tolist() == [1, 0, 0]  # only the 200 m point
    # without classes every point weighs 1; without threatened_people no sum
    count, people, wmax = hazard_point_counts(pts, _points(classes=False, people=False))
    assert people is None
    assert wmax.tolist() == [1.0, 0.0, 1.0]


def test_counts_match_a_brute_force_distance_count() -> None:
    rng = np.random.default_rng(12)
    sxy = rng.uniform(0, 5_000, size=(300, 2))
    hxy = rng.uniform(0, 5_000, size=(400, 2))
    people = rng.integers(0, 50, size=400)
    settlements = gpd.GeoSeries(gpd.points_from_xy(X0 + sxy[:, 0], Y0 + sxy[:, 1]), crs=CRS)
    layer = gpd.GeoDataFrame({"threatened_people": people},
                             geometry=gpd.points_from_xy(X0 + hxy[:, 0], Y0 + hxy[:, 1]),
                             crs=CRS)
    count, threatened, _ = hazard_point_counts(settlements, layer, radius_m=350.0)
    dist = np.hypot(sxy[:, None, 0] - hxy[None, :, 0], sxy[:, None, 1] - hxy[None, :, 1])
    near = dist <= 350.0
    assert count.tolist() == near.sum(axis=1).tolist()
    assert threatened is not None
    np.testing.assert_array_equal(threatened, (near * people[None, :]).sum(axis=1))


def test_village_and_hamlet_columns() -> None:
    hamlets = gpd.GeoDataFrame(
        {"hamlet_id": ["H1"], "village_id": ["V2"], "name": ["二村一组"], "pop": [40]},
        geometry=[Point(X0 + 5_400, Y0)], crs=CRS)  # 101 m from P3
    layer = _points().assign(hazard_radius_m=500.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        table, ham = village_profile(_villages(), hazards={"geo_points": layer}, hamlets=hamlets)
    assert table["hazard_geo_points_points"].tolist() == [2, 0, 1]
    assert table["hazard_geo_points_threatened"].tolist() == [30.0, 0.0, 40.0]
    assert table["hazard_geo_points_wmax"].tolist() == [1.0, 0.0, 0.6]
    assert table["hazard_geo_points_radius_m"].tolist() == [500.0] * 3
    assert "hazard_geo_points_share" not in table.columns  # points are not zones
    assert ham is not None
    assert ham["hazard_geo_points_points"].tolist() == [1]
    assert ham["hazard_geo_points_threatened"].tolist() == [30.0]
    from contigmap.columns import describe_column

    info = describe_column("hazard_geo_points_threatened")
    assert info is not None and info.unit == "people"


def test_road_segment_counts_by_hand() -> None:
    x0, y0 = 400_000.0, 3_100_000.0
    lines = gpd.GeoSeries([LineString([(x0, y0), (x0 + 1_000, y0)]),
                           LineString([(x0, y0 + 5_000), (x0 + 1_000, y0 + 5_000)])],
                          crs="EPSG:32649")
    layer = gpd.GeoDataFrame(
        {"threatened_people": [5, 7, 11]},
        geometry=[Point(x0 + 500, y0 + 499),  # 499 m from line 0
                  Point(x0 + 500, y0 + 501),  # 501 m from line 0 (4,499 m from line 1)
                  Point(x0 + 1_300, y0 - 400)],  # 500 m from line 0's end (300-400-500)
        crs="EPSG:32649")
    count, people = hazard_points_near_lines(lines, {"geo_points": layer, "flood": layer.iloc[:0]})
    assert count.tolist() == [2, 0]
    assert people.tolist() == [16.0, 0.0]


@pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")
def test_criticality_gets_hazard_exposure_without_changing_the_ranking() -> None:
    roads, villages, services = hand_network()
    x0, y0 = 400_000.0, 3_100_000.0
    hazards = {"geo_points": gpd.GeoDataFrame(
        {"threatened_people": [7, 11, 13]},
        geometry=[Point(x0 + 400, y0 + 499),  # 499 m from R1, 600 m from R3
                  Point(x0 + 1_500, y0 - 501),  # 501 m from R2, farther from the rest
                  Point(x0 + 1_500, y0 - 300)],  # 300 m from R2, 583 m from R1/R3/R4
        crs="EPSG:32649")}
    graph = build_network(roads)
    plain = road_criticality(graph, villages, services)
    out = road_criticality(graph, villages, services, hazards=hazards)
    assert out["road_id"].tolist() == plain["road_id"].tolist() == ["R1", "R2"]
    assert out["rank"].tolist() == plain["rank"].tolist()
    assert "hazard_points" not in plain.columns
    by = out.set_index("road_id")
    assert by.loc["R1", "hazard_points"] == 1 and by.loc["R1", "hazard_threatened"] == 7
    assert by.loc["R2", "hazard_points"] == 1 and by.loc["R2", "hazard_threatened"] == 13
    # R1 cuts off 150 people (15 poor): weighted by 1 + 1 point
    assert by.loc["R1", "exposure_weighted_cutoff_pop"] == 300.0
    assert by.loc["R1", "exposure_weighted_cutoff_poor"] == 30.0
    assert by.loc["R2", "exposure_weighted_cutoff_pop"] == 0.0
    every = edge_hazard_exposure(graph, hazards)
    road_of = graph.edges_gdf().set_index("edge")["road_id"]
    counts = every["hazard_points"].groupby(road_of.reindex(every.index).to_numpy()).sum()
    assert counts.to_dict() == {"R1": 1, "R2": 1, "R3": 0, "R4": 0}


def test_candidate_made_by_hazard_points_alone() -> None:
    table = pd.DataFrame({
        "pop": [80, 60, 50],
        "hazard_geo_points_points": [3, 2, 0],
        "hazard_geo_points_threatened": [120.0, 15.0, 0.0],
        "hazard_geo_points_wmax": [1.0, 0.3, 0.0],  # the second has only 低 points
        "hazard_geo_points_radius_m": [500.0, 500.0, 500.0],
    })
    out = score_settlements(table, "village", CandidateParams())
    assert out["reloc_candidate"].tolist() == [True, False, False]
    assert out.loc[0, "reloc_reason_keys"] == "hazard"
    assert out.loc[0, "reloc_reasons"] == "3 hazard points within 500 m threatening 120 people"
    assert out.loc[0, "reloc_reasons_zh"] == "500米内3处地质灾害隐患点，威胁120人"
    # with the weight threshold lowered the 低 points count too (one point: singular)
    out = score_settlements(table.assign(hazard_geo_points_points=[3, 1, 0]), "village",
                            CandidateParams(hazard_point_weight_min=0.3))
    assert out["reloc_candidate"].tolist() == [True, True, False]
    assert out.loc[1, "reloc_reasons"] == "1 hazard point within 500 m threatening 15 people"
    # more points needed: the 3-point village still qualifies, the 1-point one not
    out = score_settlements(table.assign(hazard_geo_points_points=[3, 1, 0]), "village",
                            CandidateParams(hazard_points_min=2, hazard_point_weight_min=0.3))
    assert out["reloc_candidate"].tolist() == [True, False, False]


def _tiny_with_points(tmp_path: Path, entry: str) -> Path:
    path = write_tiny_region(tmp_path / "tiny")
    text = path.read_text(encoding="utf-8")
    flood = "    flood: {path: flood.geojson, id: hazard_id}\n"
    path.write_text(text.replace(flood, flood + entry), encoding="utf-8")
    return path


_XLSX_ENTRY = """\
    geo_points:
      path: 隐患点.xlsx
      x: 经度
      y: 纬度
      id: 编号
      columns: {风险等级: risk_class, 威胁人数: threatened_people, 灾种: hazard_type}
      radius_m: 300
      class: {column: 风险等级, weights: {高: 1.0, 中: 0.6, 低: 0.3}}
"""


def _write_points_xlsx(folder: Path) -> None:
    # village 1 (433124100201) is at (X0 + 2000, Y0 + 2000) in EPSG:4545
    xs = [X0 + 2_250, X0 + 2_000, X0 + 2_350, X0 + 8_000]
    ys = [Y0 + 2_000, Y0 + 1_800, Y0 + 2_000, Y0 + 6_100]
    lon, lat = to_lonlat(xs, ys)
    pd.DataFrame({
        "编号": ["Z1", "Z2", "Z3", "Z4"],
        "灾种": ["滑坡", "崩塌", "泥石流", "滑坡"],
        "风险等级": ["中", "低", "高", "高"],
        "威胁人数": [12, 8, 100, 30],
        "经度": np.round(lon, 8), "纬度": np.round(lat, 8),
    }).to_excel(folder / "隐患点.xlsx", index=False)


@pytest.mark.slow
def test_xlsx_hazard_points_load_with_radius_and_classes(tmp_path: Path) -> None:
    path = _tiny_with_points(tmp_path, _XLSX_ENTRY)
    _write_points_xlsx(path.parent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        data = load_region_layers(load_region(path))
        layer = data.hazards["geo_points"]
        assert is_point_layer(layer)
        assert layer["hazard_id"].tolist() == ["Z1", "Z2", "Z3", "Z4"]
        assert layer["risk_class"].tolist() == ["中", "低", "高", "高"]
        assert layer["hazard_type"].tolist() == ["滑坡", "崩塌", "泥石流", "滑坡"]
        assert layer["threatened_people"].tolist() == [12, 8, 100, 30]
        assert layer["hazard_weight"].tolist() == [0.6, 0.3, 1.0, 1.0]
        assert layer["hazard_radius_m"].tolist() == [300.0] * 4
        assert not is_point_layer(data.hazards["flood"])  # the polygon layer as before
        table, _ = village_profile(data.villages, hazards=data.hazards)
    table = table.set_index("village_id")
    # village 1: Z1 250 m, Z2 200 m (inside 300 m), Z3 350 m (outside); village 4
    # (X0 + 8000, Y0 + 6000): Z4 100 m
    assert table["hazard_geo_points_points"].to_dict() == {
        VILLAGE_CODES[0]: 2, VILLAGE_CODES[1]: 0, VILLAGE_CODES[2]: 0, VILLAGE_CODES[3]: 1}
    assert table.loc[VILLAGE_CODES[0], "hazard_geo_points_threatened"] == 20.0
    assert table.loc[VILLAGE_CODES[0], "hazard_geo_points_wmax"] == 0.6
    assert table.loc[VILLAGE_CODES[3], "hazard_geo_points_threatened"] == 30.0
    assert table.loc[VILLAGE_CODES[3], "hazard_geo_points_wmax"] == 1.0
    assert "hazard_flood_share" in table.columns  # polygon layer: shares as before


def test_radius_default_and_where_it_is_refused(tmp_path: Path) -> None:
    gpd.GeoDataFrame({"编号": ["A"], "威胁人数": [3]}, geometry=[Point(X0, Y0)],
                     crs=CRS).to_file(tmp_path / "pts.gpkg", engine="pyogrio")
    spec = LayerSpec.model_validate({"path": "pts.gpkg", "id": "编号",
                                     "columns": {"威胁人数": "threatened_people"}})
    out = read_layer(spec, base_dir=tmp_path, role="hazards", source="layers.hazards.pts")
    assert out["hazard_radius_m"].tolist() == [500.0]  # the documented default
    spec = LayerSpec.model_validate({"path": "pts.gpkg", "radius_m": 200})
    with pytest.raises(ConfigError, match="'radius_m:' is for hazard point layers only"):
        read_layer(spec, base_dir=tmp_path, role="infrastructure.towers",
                   source="layers.infrastructure.towers")
    with pytest.raises(ConfigError, match="'radius_m': Input should be greater than 0"):
        parse_model(LayerSpec, {"path": "pts.gpkg", "radius_m": -5}, source="region.yaml")
    gpd.GeoDataFrame({"id": ["Z"]}, geometry=[box(X0, Y0, X0 + 10, Y0 + 10)],
                     crs=CRS).to_file(tmp_path / "zones.gpkg", engine="pyogrio")
    spec = LayerSpec.model_validate({"path": "zones.gpkg", "radius_m": 200})
    with pytest.warns(DataQualityWarning, match="this layer is not points, so it is ignored"):
        out = read_layer(spec, base_dir=tmp_path, role="hazards", source="layers.hazards.z")
    assert "hazard_radius_m" not in out.columns


def test_negative_threatened_people_and_mixed_layers_are_errors(tmp_path: Path) -> None:
    gpd.GeoDataFrame({"威胁人数": [3, -1]}, geometry=[Point(X0, Y0), Point(X0 + 5, Y0)],
                     crs=CRS).to_file(tmp_path / "neg.gpkg", engine="pyogrio")
    spec = LayerSpec.model_validate({"path": "neg.gpkg",
                                     "columns": {"威胁人数": "threatened_people"}})
    with pytest.raises(ValidationError, match="'threatened_people' must be at least 0"):
        read_layer(spec, base_dir=tmp_path, role="hazards", source="layers.hazards.neg")
    gpd.GeoDataFrame({"id": ["A", "B"]},
                     geometry=[Point(X0, Y0), box(X0, Y0, X0 + 10, Y0 + 10)],
                     crs=CRS).to_file(tmp_path / "mixed.geojson", engine="pyogrio")
    spec = LayerSpec.model_validate({"path": "mixed.geojson", "crs": CRS})
    with pytest.raises(ValidationError, match=r"mixes points .* and polygons"):
        read_layer(spec, base_dir=tmp_path, role="hazards", source="layers.hazards.mixed")
