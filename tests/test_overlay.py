from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from pyproj import CRS

from contigmap.errors import CRSError
from contigmap.overlay import (
    nearest_distance_m,
    points_inside,
    polygon_shares,
    settlement_zones,
    village_profile,
)
from contigmap.raster import Raster

UTM = CRS.from_epsg(32649)


def gs(*geoms: shapely.Geometry) -> gpd.GeoSeries:
    return gpd.GeoSeries(list(geoms), crs=UTM)


def test_shares_union_overlaps_by_hand() -> None:
    zones = gs(shapely.box(0, 0, 100, 100), shapely.box(200, 0, 300, 100))
    # two overlapping polygons; over zone A their union is box(50,0,100,50) (2500 m2)
    # plus box(75,50,100,100) (1250 m2): 3750 / 10000. Summing them would give 5000.
    redline = gpd.GeoDataFrame(geometry=[shapely.box(50, 0, 150, 50),
                                         shapely.box(75, 0, 125, 100)], crs=UTM)
    np.testing.assert_allclose(polygon_shares(zones, redline), [0.375, 0.0])
    pts = gs(shapely.Point(60, 25), shapely.Point(250, 50))
    assert points_inside(pts, redline).tolist() == [True, False]
    # a point on the boundary counts as inside
    assert points_inside(gs(shapely.Point(50, 10)), redline).tolist() == [True]


def test_shares_with_other_crs_and_empty_layer() -> None:
    zones = gs(shapely.box(500_000, 3_000_000, 501_000, 3_001_000))
    half = gpd.GeoDataFrame(geometry=[shapely.box(500_000, 3_000_000, 500_500, 3_001_000)],
                            crs=UTM).to_crs(4326)
    assert polygon_shares(zones, half)[0] == pytest.approx(0.5, rel=1e-4)
    assert polygon_shares(zones, half.iloc[:0])[0] == 0.0


def test_nearest_distances_by_hand() -> None:
    pts = gs(shapely.Point(60, 25), shapely.Point(250, 50))
    line = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 200), (300, 200)])], crs=UTM)
    subs = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0), shapely.Point(300, 100)], crs=UTM)
    np.testing.assert_allclose(nearest_distance_m(pts, line), [175, 150])
    np.testing.assert_allclose(nearest_distance_m(pts, subs), [65, math.hypot(50, 50)])


def test_zones_buffer_clipped_to_township() -> None:
    villages = gpd.GeoDataFrame(
        {"village_id": ["a", "b"], "township_id": ["t1", "t1"]},
        geometry=[shapely.Point(5, 50), shapely.Point(50, 50)], crs=UTM)
    towns = gpd.GeoDataFrame({"township_id": ["t1"]},
                             geometry=[shapely.box(0, 0, 100, 100)], crs=UTM)
    areas = gpd.GeoDataFrame({"village_id": ["b"]}, geometry=[shapely.box(40, 40, 60, 60)],
                             crs=UTM)
    zones, source = settlement_zones(villages, areas=areas, clip=towns, radius_m=10)
    # disc of radius 10 whose centre is 5 from the township's edge loses a segment of
    # r^2 acos(d/r) - d sqrt(r^2 - d^2)
    segment = 100 * math.acos(0.5) - 5 * math.sqrt(75)
    assert zones.iloc[0].area == pytest.approx(math.pi * 100 - segment, rel=5e-3)
    assert zones.iloc[1].equals(shapely.box(40, 40, 60, 60))
    assert source.tolist() == ["buffer_clipped", "polygon"]


def test_geographic_settlements_are_refused() -> None:
    v = gpd.GeoDataFrame({"village_id": ["a"]}, geometry=[shapely.Point(110, 28)], crs=4326)
    with pytest.raises(CRSError, match="geographic"):
        settlement_zones(v)


def test_village_profile_end_to_end() -> None:
    villages = gpd.GeoDataFrame(
        {"village_id": ["433124100201", "433124100202"], "name": ["甲村", "乙村"],
         "township_id": ["t1", "t1"]},
        geometry=[shapely.Point(60, 25), shapely.Point(250, 50)], crs=UTM)
    areas = gpd.GeoDataFrame({"village_id": ["433124100201", "433124100202"]},
                             geometry=[shapely.box(0, 0, 100, 100),
                                       shapely.box(200, 0, 300, 100)], crs=UTM)
    dem = Raster(np.tile(np.arange(40, dtype=float) * 10, (20, 1)),
                 Affine(10, 0, 0, 0, -10, 200), UTM, "dem")  # z = x - 5 at cell centres
    landslide = gpd.GeoDataFrame(geometry=[shapely.box(250, 0, 300, 100)], crs=UTM)
    hh = pd.DataFrame({"household_id": ["h1", "h2", "h3"],
                       "village_id": ["433124100201", "433124100201", "433124100202"],
                       "members": [4, 2, 3], "poor": ["是", "否", "是"],
                       "cause": ["因病", None, "缺水"], "income_per_person": [2000, 8000, 3000]})
    hamlets = gpd.GeoDataFrame({"hamlet_id": ["x"], "village_id": ["433124100202"],
                                "name": ["小组"]}, geometry=[shapely.Point(290, 50)], crs=UTM)
    table, htable = village_profile(
        villages, village_areas=areas, dem=dem, hazards={"landslide": landslide},
        infrastructure={"power_lines": gpd.GeoDataFrame(
            geometry=[shapely.LineString([(0, 200), (300, 200)])], crs=UTM)},
        households=hh, hamlets=hamlets)
    assert table["zone_area_km2"].tolist() == pytest.approx([0.01, 0.01])
    assert table["hazard_landslide_share"].tolist() == pytest.approx([0.0, 0.5])
    assert table["hazard_landslide_inside"].tolist() == [False, True]
    assert table["dist_power_line_m"].tolist() == pytest.approx([175, 150])
    # z = x - 5 at cell centres: mean over box(0..100) = 45, relief 90 (centres 5..95)
    assert table["elev_mean_m"].tolist() == pytest.approx([45, 245])
    assert table["relief_m"].tolist() == pytest.approx([90, 90])
    assert table["elevation_m"].iloc[0] == pytest.approx(55)
    assert table["poor_pop_registry"].tolist() == [4, 3]
    assert table["poverty_incidence"].tolist() == pytest.approx([4 / 6, 1.0])
    assert table["main_causes"].tolist() == ["因病 100%", "缺水 100%"]
    assert htable is not None
    # hamlet disc (r 500) clipped to its village polygon box(200,0,300,100)
    assert htable["zone_area_km2"].iloc[0] == pytest.approx(0.01)
    assert htable["zone_source"].iloc[0] == "buffer_clipped"
    assert bool(htable["hazard_landslide_inside"].iloc[0])


DEMO = __import__("pathlib").Path(__file__).resolve().parents[1] / "layers" / "huayuan"


@pytest.mark.slow
@pytest.mark.skipif(not (DEMO / "region.yaml").exists(), reason="demo region not generated")
def test_demo_region_profile_is_plausible(demo_state: Any) -> None:
    d = demo_state.data
    table, hamlets = village_profile(
        d.villages, village_areas=d.village_areas, townships=d.boundaries.get("townships"),
        dem=d.dem, hazards=d.hazards, ecology=d.ecology, infrastructure=d.infrastructure,
        households=d.households, hamlets=d.hamlets)
    assert len(table) == len(d.villages) and hamlets is not None
    assert table["poverty_incidence"].between(0, 1).all()
    for col in [c for c in table.columns if c.endswith("_share")]:
        assert table[col].between(0, 1).all(), col
    assert table["elevation_m"].between(200, 1000).all()  # county range 227-922 m
    assert table["slope_mean_deg"].between(0, 60).all()
    assert (table.filter(like="dist_") >= 0).all().all()
    # 十八洞村's real 2013 figures: 939 people, 533 poor
    sbd = table[table["name"] == "十八洞村"].iloc[0]
    assert (sbd["pop_registry"], sbd["poor_pop_registry"]) == (939, 533)


def test_weighted_shares_by_hand() -> None:
    from contigmap.overlay import weighted_shares

    zones = gs(shapely.box(0, 0, 100, 100), shapely.box(200, 0, 300, 100))
    # each place counts with its highest class weight:
    #   x < 25 (high, 1.0): 2500 m2; 25 <= x < 50 (mid, 0.6): 2500 m2;
    #   x >= 50, y < 50 (low, 0.2): 2500 m2  ->  (2500 + 0.6 * 2500 + 0.2 * 2500) / 10000
    # a weight-0 polygon over everything adds nothing
    layer = gpd.GeoDataFrame(
        {"hazard_weight": [1.0, 0.6, 0.2, 0.0]},
        geometry=[shapely.box(0, 0, 25, 100), shapely.box(0, 0, 50, 100),
                  shapely.box(0, 0, 100, 50), shapely.box(-500, -500, 500, 500)], crs=UTM)
    share, wmax = weighted_shares(zones, layer)
    np.testing.assert_allclose(share, [0.45, 0.0])
    np.testing.assert_allclose(wmax, [1.0, 0.0])
    # same layer without weights: the union of its polygons (weight 0 dropped by the loader)
    np.testing.assert_allclose(polygon_shares(zones, layer.iloc[:3]), [0.75, 0.0])


def _classed_hazard(folder: Path, classes: bool) -> Path:
    from tests.helpers import X0, Y0, write_tiny_region

    path = write_tiny_region(folder)
    gpd.GeoDataFrame(
        {"编号": ["N1", "H1"], "易发程度": ["非易发区", "高易发区"]},
        # 非易发区 over the whole county; 高易发区 over village 十八洞村 (X0+7000, Y0+2000)
        geometry=[shapely.box(X0 - 1000, Y0 - 1000, X0 + 11_000, Y0 + 9_000),
                  shapely.box(X0 + 6_000, Y0 + 1_000, X0 + 8_000, Y0 + 3_000)],
        crs="EPSG:4545",
    ).to_file(folder / "geo.gpkg", layer="geo", engine="pyogrio")
    cls = ("      class: {column: 易发程度, weights: {高易发区: 1.0, 中易发区: 0.6, "
           "低易发区: 0.2, 非易发区: 0}}\n") if classes else ""
    text = path.read_text(encoding="utf-8").replace(
        "    flood: {path: flood.geojson, id: hazard_id}\n",
        f"    geo:\n      path: geo.gpkg\n      id: 编号\n{cls}")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.slow
def test_non_hazard_class_no_longer_makes_villages_hazardous(tmp_path: Path) -> None:
    from contigmap.config import load_region
    from contigmap.io.region import load_region_layers
    from contigmap.relocation.costs import SiteParams
    from contigmap.relocation.sites import check_site_safety

    results = {}
    for classes in (False, True):
        folder = tmp_path / f"c{int(classes)}"
        data = load_region_layers(load_region(_classed_hazard(folder, classes)))
        discs = gpd.GeoDataFrame({"village_id": data.villages["village_id"]},
                                 geometry=data.villages.geometry.buffer(500),
                                 crs=data.villages.crs)
        table, _ = village_profile(data.villages, village_areas=discs,
                                   townships=data.boundaries["townships"], hazards=data.hazards)
        results[classes] = table
        xy = np.column_stack([data.villages.geometry.x, data.villages.geometry.y])
        safe = check_site_safety(xy, data.working_crs, hazards=data.hazards,
                                 params=SiteParams(hazard_setback_m=0))
        # unclassed: every polygon counts, the whole county is "hazardous";
        # classed: only the 高易发区 square around the third village
        assert safe.tolist() == ([False] * 4 if not classes else [True, True, False, True])
    plain = results[False]
    assert plain["hazard_geo_share"].tolist() == pytest.approx([1.0] * 4)
    classed = results[True]
    # discs of 500 m (inside their townships): only the third lies in the 高易发区 square
    assert classed["hazard_geo_share"].tolist() == pytest.approx([0, 0, 1.0, 0])
    assert classed["hazard_geo_wshare"].tolist() == pytest.approx([0, 0, 1.0, 0])
    assert classed["hazard_geo_wmax"].tolist() == pytest.approx([0, 0, 1.0, 0])


def test_intersecting_pairs_match_the_forward_query() -> None:
    """Pairs from the zone tree are those (and, for zones meeting 3+ parts, in the order)
    of ``STRtree(parts).query(zones)``: the order in which a zone's areas are summed."""
    from contigmap.overlay.measures import _intersecting_pairs

    rng = np.random.default_rng(3)
    zones = shapely.buffer(shapely.points(rng.random((300, 2)) * 1000), rng.random(300) * 80)
    corner = rng.random((40, 2)) * 1000
    parts = shapely.box(*corner.T, *(corner + 60 + rng.random((40, 2)) * 300).T)
    zones = np.append(zones, None)  # a missing zone meets nothing
    zi, pi = _intersecting_pairs(zones, parts)
    fz, fp = shapely.STRtree(parts).query(zones, predicate="intersects")
    pairs = sorted(zip(zi.tolist(), pi.tolist(), strict=True))
    assert pairs == sorted(zip(fz.tolist(), fp.tolist(), strict=True))
    assert (np.diff(zi) >= 0).all()
    many = [z for z in set(fz.tolist()) if (fz == z).sum() >= 3]
    assert many  # the case is exercised
    for z in many:
        assert pi[zi == z].tolist() == fp[fz == z].tolist()
