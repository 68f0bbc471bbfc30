"""Several files for one role, de-duplicated (issue #19 item 4); lines and counts by hand."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString

from contigmap.config import load_region
from contigmap.errors import DataQualityWarning
from contigmap.io.merge import insert_vertex, merge_line_sources
from contigmap.io.region import load_region_layers
from contigmap.network import build_network
from contigmap.network.osm import classify_tags
from tests.helpers import X0, Y0, to_lonlat, write_tiny_region


def _lines(rows: list[tuple[str, str, str, list[tuple[float, float]]]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"road_id": [r[0] for r in rows], "road_class": [r[1] for r in rows],
         "surface": [r[2] for r in rows]},
        geometry=[LineString(r[3]) for r in rows], crs="EPSG:4545")


OSM = _lines([("1", "county", "gravel", [(0, 0), (500, 0), (1000, 0)]),
              ("2", "village", "earth", [(500, 0), (500, 800)])])
COUNTY = _lines([
    ("1", "county", "paved", [(0, 5), (1000, 5)]),        # 5 m off OSM 1: all within 15 m
    ("2", "village", "paved", [(600, 10), (900, 10)]),    # inside OSM 1's buffer too
    ("3", "village", "paved", [(1020, 0), (1500, 0)]),    # new; its west end 20 m off
    ("4", "village", "paved", [(500, 790), (500, 900), (700, 900)]),  # 10 m of 110+200 in
    ("5", "track", "earth", [(200, 60), (200, 300)]),      # new; 60 m from OSM 1: not joined
])


def test_duplicates_attributes_and_loose_ends_by_hand() -> None:
    merged, report = merge_line_sources([OSM, COUNTY], ["roads", "roads[2]"], buffer_m=15,
                                        share=0.8, join_m=30)
    # county 1 and 2 lie wholly within 15 m of OSM 1 (share 1.0 >= 0.8): dropped;
    # county 4 has 10 m of 310 within 15 m of OSM 2 (share 0.03): added, like 3 and 5
    assert report.duplicates == {"roads[2]": 2} and report.added == {"roads[2]": 3}
    assert merged["road_id"].tolist() == ["1", "2", "roads[2]:3", "roads[2]:4", "roads[2]:5"]
    # the later source wins: OSM 1 lies wholly within 15 m of county 1 -> takes 'paved';
    # OSM 2 (800 m) is not covered by a duplicate -> keeps 'earth'
    assert merged["surface"].tolist() == ["paved", "earth", "paved", "paved", "earth"]
    assert merged["attr_source"].tolist() == ["roads[2]", "roads", "roads[2]", "roads[2]",
                                              "roads[2]"]
    assert merged["road_source"].tolist() == ["roads", "roads"] + ["roads[2]"] * 3
    # county 3's west end (1020, 0) joined to OSM 1's end (1000, 0), 20 m <= 30 m;
    # county 4 starts on OSM 2 (snapped, a vertex added); county 5 (60 m off) stays apart
    assert report.ends_joined == {"roads[2]": 1}
    assert merged.geometry.iloc[2].coords[0] == (1000.0, 0.0)
    g = build_network(merged)
    assert g.n_components == 2  # everything but the track 5
    assert merged.geometry.iloc[4].equals(COUNTY.geometry.iloc[4])


def test_declared_priority_keeps_the_first_sources_attributes() -> None:
    merged, report = merge_line_sources([OSM, COUNTY], ["roads", "roads[2]"],
                                        priorities=[1, 0])
    assert report.attributes_taken == {"roads[2]": 0}
    assert merged["surface"].iloc[0] == "gravel"


def test_a_loose_end_is_joined_to_the_inside_of_a_line() -> None:
    base = _lines([("1", "county", "paved", [(0, 0), (1000, 0)])])
    spur = _lines([("9", "village", "paved", [(400, 25), (400, 500)])])  # 25 m above x=400
    merged, report = merge_line_sources([base, spur], ["roads", "roads[2]"], join_m=30)
    assert report.ends_joined == {"roads[2]": 1}
    assert list(merged.geometry.iloc[0].coords) == [(0, 0), (400, 0), (1000, 0)]
    assert merged.geometry.iloc[1].coords[0] == (400.0, 0.0)
    assert build_network(merged).n_components == 1
    line = LineString([(0, 0), (10, 0)])
    assert insert_vertex(line, line.interpolate(0.0)).equals(line)  # an end: unchanged


def test_osm_tag_table_missing_unpaved_and_overrides() -> None:
    assert classify_tags({"highway": "unclassified"}) == ("township", "paved")  # missing
    assert classify_tags({"highway": "track"}) == ("track", "earth")  # missing, a track
    assert classify_tags({"highway": "residential", "surface": "unpaved"}) == ("village",
                                                                               "earth")
    assert classify_tags({"highway": "building"}) is None
    over = {"highway": {"unclassified": "village", "service": "none"},
            "surface": {"unpaved": "gravel", "missing": "gravel"}}
    assert classify_tags({"highway": "unclassified"}, **over) == ("village", "gravel")
    assert classify_tags({"highway": "residential", "surface": "unpaved"}, **over) == (
        "village", "gravel")
    assert classify_tags({"highway": "track", "tracktype": "grade1"}, **over) == (
        "track", "paved")  # tracktype before 'missing'
    assert classify_tags({"highway": "service"}, **over) is None


@pytest.mark.slow
def test_a_region_with_osm_and_county_roads(tmp_path: Path) -> None:
    osmium = pytest.importorskip("osmium")
    from osmium.osm.mutable import Node, Way

    path = write_tiny_region(tmp_path / "r")
    # OSM: the county road (x 630-640 km at y+4 km) drawn 6 m north, unpaved, and a new
    # track from the county road north to y+7 km at x+5 km
    lon, lat = to_lonlat([X0, X0 + 10_000, X0 + 5_000, X0 + 5_000],
                         [Y0 + 4_006, Y0 + 4_006, Y0 + 4_006, Y0 + 7_000])
    writer = osmium.SimpleWriter(str(path.parent / "osm.osm.pbf"))
    for i in range(4):
        writer.add_node(Node(id=i + 1, location=(float(lon[i]), float(lat[i]))))
    writer.add_way(Way(id=100, nodes=[1, 3, 2], tags={"highway": "secondary",
                                                       "surface": "unpaved"}))
    writer.add_way(Way(id=101, nodes=[3, 4], tags={"highway": "track"}))
    writer.close()
    text = path.read_text(encoding="utf-8").replace(
        "  roads:\n    path: roads.gpkg\n",
        "  roads:\n  - path: osm.osm.pbf\n  - path: roads.gpkg\n")
    text = text.replace("    id: road_id\n    columns: {RID: road_id, 等级: road_class, "
                        "路面: surface}\n",
                        "    id: road_id\n    columns: {RID: road_id, 等级: road_class, "
                        "路面: surface}\n    priority: 1\n", 1)
    path.write_text(text + "merge: {buffer_m: 10, share: 0.8, join_m: 30}\n",
                    encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        data = load_region_layers(load_region(path))
    roads = data.roads.set_index("road_id")
    # kept: both OSM ways; the county road duplicates OSM w100 (6 m <= 10 m) and,
    # declared priority 1, gives it its class and surface; the other two county roads
    # (3 km gravel, 2 km track) are new
    assert sorted(roads.index) == ["roads[2]:2", "roads[2]:3", "w100", "w101"]
    assert roads.loc["w100", "surface"] == "paved"
    assert roads.loc["w100", "attr_source"] == "roads[2]"
    assert roads.loc["w101", "surface"] == "earth"  # a track without a surface tag
    assert "roads[2]" in data.reports and data.reports["roads[2]"].problems
