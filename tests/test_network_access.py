"""Tests of contigmap.network.snap / access / osm: joins, hand-checked times, flags, OSM."""

from __future__ import annotations

import math
import sys

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from contigmap.errors import DataQualityWarning, LayerError, NetworkError
from contigmap.network import (
    NetworkParams,
    access_legs,
    access_measures,
    attach_points,
    build_network,
    component_report,
    county_summary,
    read_osm_roads,
    rural_access_index,
    township_summary,
    travel_time_edges,
)
from contigmap.raster import Raster

CRS_M = "EPSG:4547"
WALK_OFF = 6 * math.exp(-0.175) * 1000 / 60  # off-road leg: a footpath, m/min, flat
WALK_ON = 6 * math.exp(-0.175) * 1000 / 60


def roads_gdf(lines, classes=None, surfaces=None):
    n = len(lines)
    return gpd.GeoDataFrame(
        {"road_id": [f"r{i}" for i in range(n)], "road_class": classes or ["county"] * n,
         "surface": surfaces or ["paved"] * n},
        geometry=list(lines), crs=CRS_M,
    )


def points_gdf(xy, **cols):
    return gpd.GeoDataFrame(cols, geometry=shapely.points(np.asarray(xy, float)), crs=CRS_M)


def test_village_on_edge_midpoint_and_offroad_leg():
    g = build_network(roads_gdf([shapely.LineString([(0, 0), (1000, 0)])]))
    att = attach_points(g, [[500, 0], [500, 30], [0, 0]], nodes=[2])
    tt, _ = att.times_to_nearest([2])
    assert tt[0] == pytest.approx(500 / (40 * 1000 / 60))  # 0.75 min at 40 km/h
    assert tt[1] == pytest.approx(0.75 + 30 / WALK_OFF)
    assert tt[2] == 0.0
    assert att.snap.dist_m[1] == pytest.approx(30)


def test_points_on_the_same_edge_route_along_it():
    # service in the middle of the edge, villages either side: never via the edge's ends
    g = build_network(roads_gdf([shapely.LineString([(0, 0), (2000, 0)])]))
    xy = [[400, 0], [1500, 0], [1000, 0]]
    for nodes in ([2], None):  # evaluated on the edge, or every point a graph node
        att = attach_points(g, xy, nodes=nodes)
        tt, which = att.times_to_nearest([2], with_source=True)
        per_m = 1 / (40 * 1000 / 60)
        assert tt[:2] == pytest.approx([600 * per_m, 500 * per_m])
        assert which.tolist() == [2, 2, 2]


def test_far_village_keeps_honest_walking_time():
    g = build_network(roads_gdf([shapely.LineString([(0, 0), (1000, 0)])]))
    att = attach_points(g, [[1000, 5000], [0, 0]], nodes=[1])
    tt, _ = att.times_to_nearest([1])
    assert tt[0] == pytest.approx(5000 / WALK_OFF + 1000 / (40 * 1000 / 60))


def test_evaluated_points_match_networkx_on_realistic_network():
    from contigmap.synth.scale import make_scale_roads

    roads, villages = make_scale_roads(3000, seed=3)
    g = build_network(roads)
    rng = np.random.default_rng(0)
    vxy = np.column_stack([villages.geometry.x, villages.geometry.y])
    vxy = vxy + rng.normal(0, 150, vxy.shape)  # off the junctions, onto edges and off-road
    fac = np.arange(0, len(vxy), 40)
    n_v = len(vxy)
    xy = np.vstack([vxy, vxy[fac]])
    targets = n_v + np.arange(fac.size)
    att = attach_points(g, xy, nodes=targets)
    full = attach_points(g, xy)  # every point a node of the graph
    m = full.matrix("walk", "dry")
    ref = nx.DiGraph()
    coo = m.tocoo()
    ref.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(),
                                    strict=True))
    d_ref = nx.multi_source_dijkstra_path_length(ref.reverse(), set(full.point_nodes(targets)))
    want = np.array([d_ref.get(int(p), np.inf) for p in full.point_nodes()])
    for mode in ("walk",):
        tt, _ = att.times_to_nearest(targets, mode=mode)
        np.testing.assert_allclose(tt, want, rtol=1e-9)
    tv, _ = att.times_to_nearest(targets, mode="vehicle")
    tv_full, _ = full.times_to_nearest(targets, mode="vehicle")
    np.testing.assert_allclose(tv, tv_full, rtol=1e-9)
    assert (tv <= want + 1e-9).all()  # a vehicle is never slower than walking


def small_region():
    """A hand-checkable county: seat S0 on a paved spine, township T1 seat on a gravel spur."""
    lines = [
        shapely.LineString([(0, 0), (5000, 0)]),        # r0 county paved
        shapely.LineString([(5000, 0), (5000, 4000)]),  # r1 township gravel
        shapely.LineString([(5000, 4000), (9000, 4000)]),  # r2 track earth (closed in rain)
        shapely.LineString([(20000, 0), (21000, 0)]),   # r3 detached village road
    ]
    roads = roads_gdf(lines, classes=["county", "township", "track", "village"],
                      surfaces=["paved", "gravel", "earth", "paved"])
    villages = points_gdf(
        [[2500, 100], [5000, 3000], [9000, 4000], [20500, 0], [2500, 3000]],
        village_id=["v0", "v1", "v2", "v3", "v4"], name=["a", "b", "c", "d", "e"],
        township_id=["T0", "T1", "T1", "T1", "T0"], pop=[100, 200, 300, 400, 500],
    )
    services = points_gdf(
        [[0, 0], [0, 0], [5000, 4000], [2500, 0], [5000, 2000], [100, 0]],
        service_id=["S0", "S1", "S2", "H", "SC", "M"],
        kind=["county_seat", "township_seat", "township_seat", "health_centre", "school",
              "market"],
        name=["x"] * 6, township_id=["T0", "T0", "T1", None, None, None],
    )
    return roads, villages, services


def test_access_measures_hand_checked():
    roads, villages, services = small_region()
    g = build_network(roads)
    with pytest.warns(DataQualityWarning, match="pieces"):
        comp = component_report(g, villages)
    assert comp["pop"].tolist() == [1100.0, 400.0]
    m = access_measures(g, villages, services).set_index("village_id")
    per_m_county = 1 / (40 * 1000 / 60)
    assert m.loc["v0", "tt_county_seat_min"] == pytest.approx(2500 * per_m_county
                                                              + 100 / WALK_OFF)
    # v1: 3 km up the gravel township road (25 km/h), own seat T1 at its end: 1 km
    assert m.loc["v1", "tt_own_township_seat_min"] == pytest.approx(1000 / (25 * 1000 / 60))
    assert m.loc["v1", "tt_county_seat_min"] == pytest.approx(
        3000 / (25 * 1000 / 60) + 5000 * per_m_county)
    assert m.loc["v1", "walk_county_seat_min"] == pytest.approx(8000 / WALK_ON)
    assert m.loc["v0", "nearest_township_seat_id"] == "S1"
    # all-season = hardened (paved) by default: the county road r0 and village road r3;
    # v1 is 3 km from r0 (on the gravel road only), v2 √(4000² + 4000²) from r0's end
    assert m["all_season_2km"].tolist() == [True, False, False, True, False]
    assert m.loc["v1", "dist_all_season_m"] == pytest.approx(3000)
    assert m.loc["v2", "dist_all_season_m"] == pytest.approx(math.hypot(4000, 4000))
    # hardened: v0 on the paved road to its seat; v1 only on gravel
    assert m.loc["v0", "hardened_to_township"]
    assert not m.loc["v1", "hardened_to_township"]
    assert m.loc["v1", "dist_hardened_road_m"] == pytest.approx(3000)
    # v4 is 3 km from the paved road: beyond the 500 m leg
    assert not m.loc["v4", "hardened_to_township"]
    assert m.loc["v3", "isolated"] and not m.loc["v0", "isolated"]
    assert m.loc["v2", "rainy_unreachable"] and not m.loc["v1", "rainy_unreachable"]
    rai = rural_access_index(m.reset_index(), by="township_id")
    assert rai["T0"] == pytest.approx(100 / 600)
    assert rai["T1"] == pytest.approx(400 / 900)
    ts = township_summary(m.reset_index()).set_index("township_id")
    assert ts.loc["T1", "pop"] == 900
    assert ts.loc["T1", "pop_within_30min_seat"] == 200 + 300  # v3 is unreachable
    cs = county_summary(m.reset_index(), rai_definition=g.params.rai_definition())
    assert cs["rai"].iloc[0] == pytest.approx(500 / 1500)
    assert "surface paved" in cs["rai_definition"].iloc[0]
    assert "硬化路" in ts["rai_definition"].iloc[0]
    layer = travel_time_edges(g, services)
    assert layer.loc[layer["road_id"] == "r0", "tt_min"].iloc[0] == pytest.approx(
        2500 * per_m_county)
    assert np.isinf(layer.loc[layer["road_id"] == "r3", "tt_min"].iloc[0])


def test_gravel_counts_as_all_season_only_when_set():
    roads, villages, services = small_region()
    g = build_network(roads, params=NetworkParams(
        all_season_surfaces=["paved", "gravel"],
        all_season_classes=["county", "township", "village"]))
    m = access_measures(g, villages, services).set_index("village_id")
    # the gravel township road r1 now counts: v1 lies on it, v2 is 4 km from its end
    assert m["all_season_2km"].tolist() == [True, True, False, True, False]
    assert m.loc["v2", "dist_all_season_m"] == pytest.approx(4000)
    text = g.params.rai_definition()
    assert "paved+gravel" in text and "county+township+village" in text
    assert county_summary(m.reset_index(), rai_definition=text)["rai"].iloc[0] == (
        pytest.approx(700 / 1500))


def test_missing_county_seat_warns_and_bad_crs_raises():
    roads, villages, services = small_region()
    g = build_network(roads)
    no_seat = services[services["kind"] != "county_seat"]
    with pytest.warns(DataQualityWarning, match="county_seat"):
        m = access_measures(g, villages, no_seat)
    assert m["tt_county_seat_min"].isna().all()
    with pytest.raises(NetworkError, match="reproject"):
        access_measures(g, villages.to_crs("EPSG:4326"), services)


def test_read_osm_pbf(tmp_path):
    osmium = pytest.importorskip("osmium")
    from osmium.osm.mutable import Node, Way

    path = tmp_path / "tiny.osm.pbf"
    w = osmium.SimpleWriter(str(path))
    coords = {1: (109.0, 28.0), 2: (109.01, 28.0), 3: (109.01, 28.01), 4: (109.0, 28.01)}
    for nid, loc in coords.items():
        w.add_node(Node(id=nid, location=loc))
    w.add_way(Way(id=10, nodes=[1, 2], tags={"highway": "tertiary", "surface": "asphalt",
                                             "name": "乡道", "ref": "Y012"}))
    w.add_way(Way(id=11, nodes=[2, 3], tags={"highway": "track", "tracktype": "grade2",
                                             "bridge": "yes"}))
    w.add_way(Way(id=12, nodes=[3, 4], tags={"highway": "footway", "tunnel": "no"}))
    w.add_way(Way(id=13, nodes=[4, 1], tags={"building": "yes"}))
    w.add_way(Way(id=14, nodes=[1, 3], tags={"highway": "unclassified", "surface": "dirt"}))
    w.close()
    roads = read_osm_roads(path)
    r = roads.set_index("road_id")
    assert list(r.index) == ["w10", "w11", "w12", "w14"]
    assert r.loc["w10", "road_class"] == "township"  # the Y ref wins over tertiary
    assert r.loc["w10", "surface"] == "paved" and r.loc["w10", "name"] == "乡道"
    assert r.loc["w11", "road_class"] == "track" and r.loc["w11", "surface"] == "gravel"
    assert r.loc["w11", "bridge"] and not r.loc["w12", "tunnel"]
    assert r.loc["w12", "road_class"] == "path" and r.loc["w12", "surface"] == "earth"
    assert r.loc["w14", "surface"] == "earth"
    g = build_network(roads.to_crs(CRS_M))
    assert g.n_edges == 4 and g.n_components == 1
    with pytest.raises(Exception, match="not found"):
        read_osm_roads(tmp_path / "missing.osm.pbf")


def test_read_osm_without_osmium_says_how_to_install_it(tmp_path, monkeypatch):
    path = tmp_path / "extract.osm.pbf"
    path.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "osmium", None)  # `import osmium` raises ImportError
    with pytest.raises(LayerError, match=r"extract\.osm\.pbf: .*needs pyosmium.*"
                                         r"pip install 'contigmap\[osm\]'") as info:
        read_osm_roads(path)
    assert isinstance(info.value.__cause__, ImportError)


def test_snap_distance_equals_shapely_brute_force():
    rng = np.random.default_rng(11)
    lines = [shapely.LineString(rng.uniform(0, 10000, (rng.integers(2, 5), 2)))
             for _ in range(80)]
    lines.append(shapely.LineString([(-50000, 0), (60000, 100)]))  # one very long segment
    g = build_network(roads_gdf(lines))
    pts = np.vstack([rng.uniform(-2000, 12000, (300, 2)), [[5000, 90000]]])
    from contigmap.network import snap_points

    snap = snap_points(g, pts)
    geoms = shapely.points(pts)
    want = np.array([min(line.distance(p) for line in lines) for p in geoms])
    np.testing.assert_allclose(snap.dist_m, want, rtol=1e-9, atol=1e-9)
    # the same through the sparse cell lookup (used when a dense cell index is too big)
    g.cache["grid:all"]["cstart"] = None
    again = snap_points(g, pts)
    assert np.array_equal(again.edge, snap.edge) and np.array_equal(again.t, snap.t)


def test_far_points_by_wide_grid_passes_or_the_tree_agree(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Points far from every road: wide grid passes, the STRtree and shapely's distances."""
    from contigmap.network import snap as snap_module
    from contigmap.network import snap_points

    rng = np.random.default_rng(11)
    # random walks of 100 m steps: grid cells of about 100 m
    lines = [shapely.LineString(rng.uniform(0, 10_000, 2) + np.cumsum(
        rng.normal(0, 70, (30, 2)), axis=0)) for _ in range(40)]
    g = build_network(roads_gdf(lines))
    far = np.vstack([rng.uniform(-3_000, -500, (25, 2)), rng.uniform(11_000, 14_000, (25, 2)),
                     rng.uniform(-60_000, -20_000, (5, 2))])
    scanned = snap_points(g, far)
    assert "tree:all" in g.cache  # the five farthest points went to the tree
    monkeypatch.setattr(snap_module, "_RINGS", (0, 1))
    g2 = build_network(roads_gdf(lines))
    through_tree = snap_points(g2, far)
    want = np.array([min(line.distance(p) for line in lines) for p in shapely.points(far)])
    np.testing.assert_allclose(scanned.dist_m, want, rtol=1e-9)
    assert np.array_equal(scanned.seg, through_tree.seg)
    np.testing.assert_allclose(scanned.t, through_tree.t, rtol=1e-12, atol=1e-12)


def test_hamlets_take_township_from_their_village():
    roads, villages, services = small_region()
    g = build_network(roads)
    hamlets = points_gdf([[2500, 0], [5000, 3500]], hamlet_id=["h0", "h1"],
                         village_id=["v0", "v1"], pop=[10, 20])
    m = access_measures(g, hamlets, services, villages=villages).set_index("hamlet_id")
    assert m.loc["h0", "township_id"] == "T0"
    assert m.loc["h1", "tt_own_township_seat_min"] == pytest.approx(500 / (25 * 1000 / 60))
    with pytest.raises(NetworkError, match="township_id"):
        access_measures(g, hamlets, services)


def test_access_problem_names_why_a_village_has_no_time():
    roads, villages, services = small_region()
    extra = points_gdf([[20500, 5000], [2500, 200]], village_id=["v5", "v6"], name=["f", "g"],
                       township_id=["T1", "T9"], pop=[10, 20])
    villages = gpd.GeoDataFrame(pd.concat([villages, extra], ignore_index=True), crs=CRS_M)
    g = build_network(roads)
    with pytest.warns(DataQualityWarning) as rec:
        m = access_measures(g, villages, services)
    m = m.set_index("village_id")
    # v3 is on the detached road r3; v5 is 5 km from r3 (its nearest road), beyond the
    # 2 km isolated distance; township T9 has no seat
    assert m["access_problem"].to_dict() == {
        "v0": "", "v1": "", "v2": "", "v3": "network_piece_without_seat", "v4": "",
        "v5": "no_road_within_reach", "v6": "no_township_seat"}
    assert np.isinf(m.loc["v3", "tt_own_township_seat_min"])
    assert np.isnan(m.loc["v6", "tt_own_township_seat_min"])
    text = [str(w.message) for w in rec if "cannot reach" in str(w.message)]
    assert text == [
        "villages: 3 of 7 cannot reach their own township seat — 1 its township has no seat "
        "in the services layer (no_township_seat): g; 1 no road within reach "
        "(no_road_within_reach): f; 1 its piece of the road network does not reach the "
        "township seat (network_piece_without_seat): d. They are kept with no travel time "
        "(column access_problem); the road priorities rank them as the strongest need"]
def _slope_dem(rise_per_m: float) -> Raster:
    """A DEM rising northwards by ``rise_per_m`` (z = rise · y; bilinear is exact on it)."""
    from affine import Affine
    from pyproj import CRS

    cell = 10.0
    x0, y_top, ncol, nrow = -1000.0, 1000.0, 300, 300
    yc = y_top - cell * (np.arange(nrow) + 0.5)
    z = np.repeat((rise_per_m * yc)[:, None], ncol, axis=1)
    return Raster(z, Affine(cell, 0.0, x0, 0.0, -cell, y_top), CRS.from_user_input(CRS_M))


def test_steep_leg_zigzags_at_the_capped_grade():
    # a health centre 217 m north of an east-west road, 133 m above it (grade 61 %)
    dem = _slope_dem(133.0 / 217.0)
    roads = roads_gdf([shapely.LineString([(0, 0), (1000, 0)])])
    g = build_network(roads, dem=dem)
    villages = points_gdf([[500, 217]], village_id=["v"], name=["v"], township_id=["T"],
                          pop=[10])
    services = points_gdf([[500, 217], [0, 0]], service_id=["H", "S"],
                          kind=["health_centre", "township_seat"], name=["卫生院", "镇"],
                          township_id=[None, "T"])
    legs = access_legs(g, villages, services).set_index("id")
    # the footpath climbs 133 m at 15 %: 133 / 0.15 = 886.7 m of switchbacks
    path = 133.0 / 0.15
    up_kmh = 6 * math.exp(-3.5 * abs(0.15 + 0.05))     # 2.98 km/h, road -> centre
    down_kmh = 6 * math.exp(-3.5 * abs(-0.15 + 0.05))  # 4.23 km/h, centre -> road
    h = legs.loc["H"]
    assert h["kind"] == "health_centre" and h["road_id"] == "r0"
    assert h["leg_length_m"] == pytest.approx(217.0, abs=0.05)
    assert h["leg_rise_m"] == pytest.approx(-133.0, abs=0.05)
    assert h["leg_path_m"] == pytest.approx(path, abs=0.05)
    assert h["leg_min"] == pytest.approx(path / (down_kmh * 1000 / 60), abs=0.01)
    assert h["leg_back_min"] == pytest.approx(path / (up_kmh * 1000 / 60), abs=0.01)
    assert h["leg_back_min"] == pytest.approx(17.85, abs=0.01)  # was 37 min straight × 3/5
    # the village's own leg feeds its travel times: to the road, along it, up to the centre
    m = access_measures(g, villages, services)
    assert m["walk_leg_min"].iloc[0] == pytest.approx(legs.loc["v", "leg_min"], abs=0.005)
    assert legs.loc["v", "kind"] == "village"
    # the village stands where the centre does: down to the road and up again
    assert m["tt_health_centre_min"].iloc[0] == pytest.approx(
        path / (down_kmh * 1000 / 60) + path / (up_kmh * 1000 / 60))
    # a gentle leg is a straight line at Tobler's speed (no detour)
    flat = access_legs(build_network(roads, dem=_slope_dem(0.05)), villages).iloc[0]
    assert flat["leg_path_m"] == pytest.approx(217.0, abs=0.05)
    assert flat["leg_min"] == pytest.approx(
        217.0 / (6 * math.exp(-3.5 * abs(-0.05 + 0.05)) * 1000 / 60), abs=0.01)


def test_slope_penalty_off_walks_legs_on_the_level():
    dem = _slope_dem(133.0 / 217.0)
    roads = roads_gdf([shapely.LineString([(0, 0), (1000, 0)])])
    g = build_network(roads, dem=dem, params=NetworkParams(slope_penalty=False))
    villages = points_gdf([[500, 217]], village_id=["v"], name=["v"], township_id=["T"],
                          pop=[10])
    leg = access_legs(g, villages).iloc[0]
    assert leg["leg_path_m"] == pytest.approx(217.0, abs=0.05)
    assert leg["leg_min"] == pytest.approx(217.0 / WALK_OFF, abs=0.01)
    # a road straight up the 61 % slope: 1000 m at 40 km/h without the penalty, at its
    # floor (0.3 × the speed) with it
    climb = roads_gdf([shapely.LineString([(0, -500), (0, 500)])])
    off = build_network(climb, dem=dem, params=NetworkParams(slope_penalty=False))
    on = build_network(climb, dem=dem)
    assert off.drive_dry_min.sum() == pytest.approx(1000 / (40 * 1000 / 60))
    assert on.drive_dry_min.sum() == pytest.approx(1000 / (0.3 * 40 * 1000 / 60))
