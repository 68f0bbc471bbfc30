"""Village territories without village boundaries, and township names without boundaries."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import CRS, Transformer

from contigmap.config import load_region
from contigmap.errors import DataQualityWarning
from contigmap.io.region import load_region_layers
from contigmap.overlay import township_names, village_profile, voronoi_cells
from contigmap.pipeline import profile_stage

UTM = CRS.from_epsg(32649)


def test_voronoi_cells_of_three_villages_in_a_rectangle() -> None:
    # county: the rectangle 0..4000 x 0..4000 m. Villages A (1000, 1000), B (3000, 1000),
    # C (2000, 3000). By hand: A/B split at x = 2000; A/C bisector through (1500, 2000)
    # normal to (1000, 2000): x + 2y = 5500. A's cell is x <= 2000, y <= (5500 - x) / 2:
    # integral over x of (5500 - x) / 2 from 0 to 2000 = (11e6 - 2e6) / 2 = 4.5e6 m2.
    # B by symmetry 4.5e6, C the rest: 16e6 - 9e6 = 7e6 m2.
    county = shapely.box(0, 0, 4000, 4000)
    pts = shapely.points([(1000, 1000), (3000, 1000), (2000, 3000)])
    cells = voronoi_cells(pts, county)
    assert shapely.area(cells).tolist() == pytest.approx([4.5e6, 4.5e6, 7.0e6])
    assert all(shapely.contains(cells, pts))

    villages = gpd.GeoDataFrame(
        {"village_id": ["a", "b", "c"], "township_id": ["t1", "t1", "t1"]},
        geometry=list(pts), crs=UTM)
    county_gdf = gpd.GeoDataFrame({"county_id": ["1"]}, geometry=[county], crs=UTM)
    with pytest.warns(DataQualityWarning, match="Voronoi"):
        table, _ = village_profile(villages, county=county_gdf)
    assert table["zone_area_km2"].tolist() == pytest.approx([4.5, 4.5, 7.0])
    assert table["zone_source"].tolist() == ["voronoi"] * 3

    # clipped to the township too: township t1 is the west half x < 2000 for A, and
    # C (2000, 3000) sits on its edge, so put C in t2 = the east half
    towns = gpd.GeoDataFrame({"township_id": ["t1", "t2"]},
                             geometry=[shapely.box(0, 0, 2000, 4000),
                                       shapely.box(2000, 0, 4000, 4000)], crs=UTM)
    villages["township_id"] = ["t1", "t2", "t2"]
    table, _ = village_profile(villages, townships=towns, county=county_gdf)
    # A's cell lies in t1 whole (4.5e6), B's in t2 whole (4.5e6); C keeps the part of
    # its cell east of x = 2000: 8e6 (east half) - 4.5e6 (B's cell) = 3.5e6
    assert table["zone_area_km2"].tolist() == pytest.approx([4.5, 4.5, 3.5])
    assert table["zone_source"].tolist() == ["voronoi_clipped"] * 3


def test_collinear_villages_split_a_strip_at_the_midpoints() -> None:
    # villages at x = 1000, 2000, 5000 on y = 1000 in a 6000 x 2000 strip: bisectors at
    # x = 1500 and 3500, so areas 1500 * 2000, 2000 * 2000 and 2500 * 2000
    cells = voronoi_cells(shapely.points([(1000, 1000), (2000, 1000), (5000, 1000)]),
                          shapely.box(0, 0, 6000, 2000))
    assert shapely.area(cells).tolist() == pytest.approx([3e6, 4e6, 5e6])


def test_township_names_from_the_seats() -> None:
    villages = pd.DataFrame({"village_id": ["a", "b", "c"], "township_id": ["1", "2", "3"]})
    services = pd.DataFrame({"kind": ["township_seat", "township_seat", "school"],
                             "township_id": ["1", "2", "3"],
                             "name": ["龙潭镇人民政府", "双龙镇", "某小学"]})
    names = township_names(villages, services=services)
    assert names is not None
    assert names.iloc[:2].tolist() == ["龙潭镇", "双龙镇"]
    assert pd.isna(names.iloc[2])
    assert township_names(villages) is None


def test_township_names_from_a_table_only_townships_layer(tmp_path: Path) -> None:
    tr = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    xs, ys = [600_000, 602_000, 606_000], [3_100_000, 3_101_000, 3_102_000]
    lon, lat = tr.transform(xs, ys)
    pd.DataFrame({"village_id": ["v1", "v2", "v3"], "name": ["甲村", "乙村", "丙村"],
                  "township_id": ["431", "431", "432"], "pop": [100, 200, 300],
                  "lon": lon, "lat": lat}).to_csv(tmp_path / "villages.csv", index=False)
    pd.DataFrame({"乡镇代码": ["431", "432"], "乡镇名称": ["龙潭镇", "双龙镇"]}).to_csv(
        tmp_path / "townships.csv", index=False)
    roads = gpd.GeoDataFrame({"road_id": ["r1"], "road_class": ["county"],
                              "surface": ["paved"]},
                             geometry=[shapely.LineString([(599_000, 3_100_000),
                                                           (607_000, 3_102_000)])], crs=UTM)
    roads.to_file(tmp_path / "roads.gpkg", engine="pyogrio")
    (tmp_path / "region.yaml").write_text(
        "name: t\nlayers:\n"
        "  villages: {path: villages.csv, x: lon, y: lat, crs: 'EPSG:4326'}\n"
        "  roads: {path: roads.gpkg}\n"
        "  boundaries:\n"
        "    townships: {path: townships.csv, columns: {乡镇代码: township_id, 乡镇名称: name}}\n",
        encoding="utf-8")
    data = load_region_layers(load_region(tmp_path / "region.yaml"))
    assert "townships" not in data.boundaries
    assert data.township_table is not None and len(data.township_table) == 2
    villages, _ = profile_stage(data)
    assert villages["township_name"].tolist() == ["龙潭镇", "龙潭镇", "双龙镇"]
    # no county, no township polygons: Voronoi cells clipped to the villages' hull + 1 km
    assert set(villages["zone_source"]) == {"voronoi"}
    hull = shapely.buffer(shapely.convex_hull(shapely.multipoints(
        shapely.points(list(zip(xs, ys, strict=True))))), 1000)
    assert villages["zone_area_km2"].sum() == pytest.approx(hull.area / 1e6, rel=1e-3)
