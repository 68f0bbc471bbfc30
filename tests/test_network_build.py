"""Tests of contigmap.network.build / speeds / convert: topology, speeds, exactness vs networkx."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pydantic
import pytest
import shapely
from affine import Affine
from pyproj import CRS

from contigmap.errors import NetworkError
from contigmap.network import (
    NetworkParams,
    attach_points,
    build_network,
    morton_order,
    to_networkx,
    tobler_kmh,
)
from contigmap.raster import Raster

CRS_M = "EPSG:4547"


def roads_gdf(lines, classes=None, surfaces=None, **extra):
    n = len(lines)
    data = {
        "road_id": [f"r{i}" for i in range(n)],
        "road_class": classes or ["county"] * n,
        "surface": surfaces or ["paved"] * n,
        **extra,
    }
    return gpd.GeoDataFrame(data, geometry=list(lines), crs=CRS_M)


def node_at(graph, x, y):
    d = np.hypot(graph.node_xy[:, 0] - x, graph.node_xy[:, 1] - y)
    i = int(np.argmin(d))
    assert d[i] < 1e-6
    return i


def test_tobler_values():
    assert tobler_kmh(np.array([0.0]))[0] == pytest.approx(6 * math.exp(-0.175))
    assert tobler_kmh(np.array([-0.05]))[0] == pytest.approx(6.0)
    up, down = tobler_kmh(np.array([0.2, -0.2]))
    assert up < down


def test_shared_vertex_splits_line():
    a = shapely.LineString([(0, 0), (500, 0), (1000, 0)])
    b = shapely.LineString([(500, 0), (500, 700)])
    g = build_network(roads_gdf([a, b]))
    assert g.n_nodes == 4 and g.n_edges == 3
    assert sorted(g.length_m.tolist()) == pytest.approx([500, 500, 700])
    # county paved 40 km/h: 500 m in 0.75 min
    assert np.sort(g.drive_dry_min)[0] == pytest.approx(0.75)


def test_bridge_over_road_is_not_a_junction():
    road = shapely.LineString([(-500, 0), (0, 0), (500, 0)])
    bridge = shapely.LineString([(0, -500), (0, 0), (0, 500)])  # shares (0, 0) with the road
    crossing = shapely.LineString([(200, -500), (200, 500)])  # plain crossing, no vertex
    g = build_network(roads_gdf([road, bridge, crossing], bridge=[False, True, False]))
    assert g.n_edges == 3 and g.n_nodes == 6
    assert g.n_components == 3
    assert g.bridge.tolist().count(True) == 1
    # without the bridge flag the shared vertex is a junction
    g2 = build_network(roads_gdf([road, bridge, crossing]))
    assert g2.n_edges == 5 and g2.n_components == 2


@pytest.mark.parametrize(("gap", "joined"), [(3.0, True), (8.0, False)])
def test_unsnapped_endpoints(gap, joined):
    a = shapely.LineString([(0, 0), (1000, 0)])
    b = shapely.LineString([(1000 + gap, 0), (1000 + gap, 800)])
    c = shapely.LineString([(500 + gap, gap / 2), (500, 900)])  # near a's interior? no vertex
    g = build_network(roads_gdf([a, b, c]), params=NetworkParams(snap_tolerance_m=5.0))
    comp_b = g.node_component[node_at(g, 1000 + gap, 800)]
    comp_a = g.node_component[node_at(g, 0, 0)]
    assert bool(comp_a == comp_b) is joined
    # c ends near a's interior where a has no vertex: not joined (only vertices are)
    assert g.node_component[node_at(g, 500, 900)] != comp_a


def test_endpoint_joins_interior_vertex_and_splits():
    a = shapely.LineString([(0, 0), (500, 0), (1000, 0)])
    b = shapely.LineString([(502, 2), (500, 600)])
    g = build_network(roads_gdf([a, b]))
    assert g.n_components == 1 and g.n_edges == 3
    assert node_at(g, 500, 0) >= 0


def test_duplicates_zero_length_multipart():
    a = shapely.LineString([(0, 0), (1000, 0)])
    dup = shapely.LineString([(1000, 0), (0, 0)])
    zero = shapely.LineString([(5000, 5000), (5000, 5000)])
    multi = shapely.MultiLineString([[(1000, 0), (2000, 0)], [(2000, 0), (2000, 900)]])
    g = build_network(
        roads_gdf([a, dup, zero, multi], classes=["county", "village", "county", "township"])
    )
    assert g.n_edges == 3
    # the duplicate kept is the faster one (county 40 km/h)
    e = int(np.flatnonzero(np.isclose(g.length_m, 1000) & (g.road_class <= 3))[0])
    assert g.drive_dry_min[e] == pytest.approx(1.5)
    assert set(g.road_id.tolist()) == {"r0", "r3"}


def test_bad_input_messages():
    a = shapely.LineString([(0, 0), (1000, 0)])
    with pytest.raises(NetworkError, match="empty"):
        build_network(roads_gdf([]))
    with pytest.raises(NetworkError, match="reproject"):
        build_network(roads_gdf([a]).set_crs("EPSG:4326", allow_override=True))
    with pytest.raises(NetworkError, match="road_class 'highway'"):
        build_network(roads_gdf([a], classes=["highway"]))
    with pytest.raises(NetworkError, match="not a line"):
        build_network(roads_gdf([shapely.Point(0, 0)]))
    with pytest.raises(pydantic.ValidationError, match="positive"):
        NetworkParams(speed_kmh={"county": {"paved": -5}})
    with pytest.raises(pydantic.ValidationError, match="extra"):
        NetworkParams(snap_tolerance=3)  # type: ignore[call-arg]


def test_speed_override_and_rainy_closure():
    a = shapely.LineString([(0, 0), (1200, 0)])
    b = shapely.LineString([(1200, 0), (2400, 0)])
    p = NetworkParams(speed_kmh={"county": {"paved": 60}})
    g = build_network(roads_gdf([a, b], classes=["county", "track"], surfaces=["paved", "earth"]),
                      params=p)
    e_c = int(np.flatnonzero(g.road_id == "r0")[0])
    e_t = int(np.flatnonzero(g.road_id == "r1")[0])
    assert g.drive_dry_min[e_c] == pytest.approx(1.2)
    assert g.drive_dry_min[e_t] == pytest.approx(1.2 / 10 * 60)
    assert np.isinf(g.drive_rainy_min[e_t])


def test_slope_penalty_and_directed_walking():
    # a 1 km road climbing 100 m (10 % grade) on a plane DEM
    line = shapely.LineString([(0, 0), (1000, 0)])
    arr = np.tile(np.arange(0, 1200, 10.0) * 0.1, (20, 1))  # z = 0.1 * x at cell centres - 0.5
    dem = Raster(arr, Affine(10, 0, -5, 0, -10, 100), CRS.from_user_input(CRS_M))
    g = build_network(roads_gdf([line]), dem=dem)
    grade = 0.1
    factor = max(1 - 0.04 * (10 - 3), 0.3)
    assert g.drive_dry_min[0] == pytest.approx(1000 / (40 * factor * 1000 / 60), rel=1e-6)
    up = 1000 / (6 * math.exp(-3.5 * abs(grade + 0.05)) * 1000 / 60)
    down = 1000 / (6 * math.exp(-3.5 * abs(-grade + 0.05)) * 1000 / 60)
    fwd_is_up = g.node_xy[g.u[0], 0] < g.node_xy[g.v[0], 0]
    assert g.walk_fwd_min[0] == pytest.approx(up if fwd_is_up else down, rel=1e-6)
    assert g.walk_bwd_min[0] == pytest.approx(down if fwd_is_up else up, rel=1e-6)


def test_morton_order_is_spatial():
    xy = np.array([[0, 0], [10, 10], [0, 10], [10, 0], [1, 1], [9, 9]], dtype=float)
    order = morton_order(xy)
    assert sorted(order.tolist()) == list(range(6))
    ranks = np.empty(6, int)
    ranks[order] = np.arange(6)
    assert abs(ranks[0] - ranks[4]) == 1 and abs(ranks[1] - ranks[5]) == 1


def random_roads(rng, n_nodes=60, n_lines=150):
    pts = rng.uniform(0, 20000, (n_nodes, 2))
    a = rng.integers(0, n_nodes, n_lines)
    b = rng.integers(0, n_nodes, n_lines)
    keep = a != b
    a, b = a[keep], b[keep]
    lines = []
    for i, j in zip(a, b, strict=True):
        mid = (pts[i] + pts[j]) / 2 + rng.normal(0, 300, 2)
        lines.append(shapely.LineString([pts[i], mid, pts[j]]))
    classes = rng.choice(["national", "county", "township", "village", "track", "path"], len(a))
    surfaces = rng.choice(["paved", "gravel", "earth"], len(a))
    return roads_gdf(lines, classes=list(classes), surfaces=list(surfaces)), pts, a, b


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_travel_times_equal_independent_networkx(seed):
    """Weights recomputed in the test from the lines, routed with networkx."""
    rng = np.random.default_rng(seed)
    roads, pts, a, b = random_roads(rng)
    params = NetworkParams()
    g = build_network(roads, params=params)
    ref = nx.DiGraph()
    walk_kmh = 6 * math.exp(-3.5 * 0.05)
    for k, (i, j) in enumerate(zip(a, b, strict=True)):
        row = roads.iloc[k]
        length = row.geometry.length
        speed = params.speed_kmh[row.road_class][row.surface]
        drive = length / (speed * 1000 / 60) if speed else math.inf
        w = min(drive, length / (walk_kmh * 1000 / 60))
        for s, t in ((i, j), (j, i)):
            if not ref.has_edge(s, t) or ref[s][t]["weight"] > w:
                ref.add_edge(int(s), int(t), weight=w)
    sources = [0, 5, 17]
    # travel *to* the nearest source: route on the reversed graph
    d_ref = nx.multi_source_dijkstra_path_length(ref.reverse(), sources)
    att = attach_points(g, pts[sources])
    ours = att.node_times(np.arange(len(sources)), mode="vehicle")
    for node, d in d_ref.items():
        k = node_at(g, *pts[node])
        assert ours[k] == pytest.approx(d, rel=1e-9, abs=1e-12)
    reached = {node_at(g, *pts[n]) for n in d_ref}
    others = [k for k in range(g.n_nodes) if k not in reached]
    assert np.isinf(ours[others]).all()


def test_to_networkx_and_dem_graph_match_scipy():
    rng = np.random.default_rng(7)
    roads, pts, _, _ = random_roads(rng, 40, 90)
    yy, xx = np.mgrid[0:100, 0:100]
    arr = 300 + 200 * np.sin(xx / 15.0) * np.cos(yy / 20.0)
    dem = Raster(arr.astype(float), Affine(210, 0, -500, 0, -210, 20500),
                 CRS.from_user_input(CRS_M))
    g = build_network(roads, dem=dem)
    assert (g.walk_fwd_min != g.walk_bwd_min).any()
    mg = to_networkx(g)
    assert mg.number_of_edges() == 2 * g.n_edges
    assert mg.nodes[0]["x"] == g.node_xy[0, 0]
    # collapse parallel edges to their minimum, as routing does
    dg = nx.DiGraph()
    for s, t, d in mg.edges(data=True):
        w = d["walk_min"]
        if not dg.has_edge(s, t) or dg[s][t]["weight"] > w:
            dg.add_edge(s, t, weight=w)
    src = [node_at(g, *pts[0]), node_at(g, *pts[3])]
    d_ref = nx.multi_source_dijkstra_path_length(dg.reverse(), src)
    att = attach_points(g, g.node_xy[src])
    ours = att.node_times([0, 1], mode="walk")
    for node, d in d_ref.items():
        assert ours[node] == pytest.approx(d, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("top", [2**20, 2**45, 2**61, 2**63 - 1])
def test_sort_keys_is_a_stable_argsort(top):
    from contigmap.network.build import sort_keys

    rng = np.random.default_rng(1)
    key = rng.integers(0, top, 5000, dtype=np.int64)
    key[::7] = key[3]  # ties keep their input order
    order, sorted_key = sort_keys(key)
    want = np.argsort(key, kind="stable")
    assert np.array_equal(order, want)
    assert np.array_equal(sorted_key, key[want])


def test_pairs_within_equals_brute_force():
    from contigmap.network.topology import pairs_within

    rng = np.random.default_rng(2)
    p = rng.uniform(0, 100, (300, 2))
    q = np.vstack([rng.uniform(0, 100, (400, 2)), p[:20] + 2.9, p[20:30] + np.array([5.0, 0.0])])
    pi, qj = pairs_within(p, q, 5.0)
    d = np.hypot(p[:, None, 0] - q[None, :, 0], p[:, None, 1] - q[None, :, 1])
    want = set(zip(*np.nonzero(d <= 5.0), strict=True))
    assert set(zip(pi.tolist(), qj.tolist(), strict=True)) == {(int(i), int(j)) for i, j in want}
