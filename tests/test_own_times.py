"""Tests of contigmap.network.owntimes: each point's time to its own target, in linear memory."""

from __future__ import annotations

import tracemalloc

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import CRS

from contigmap.errors import NetworkError
from contigmap.network import attach_points, build_network
from contigmap.network._csr import csr_from_arrays
from contigmap.network.contract import contract_graph
from contigmap.network.owntimes import Stations, own_times
from contigmap.raster import Raster


def _digraph(n, a, b, w_ab, w_ba):
    """networkx graph of both directions, the smallest weight of parallel edges."""
    m = csr_from_arrays(np.concatenate([a, b]), np.concatenate([b, a]),
                        np.concatenate([w_ab, w_ba]), n)
    return nx.from_scipy_sparse_array(m, create_using=nx.DiGraph)


def _random_graph(rng, n):
    """A random tree (dead ends, chains) plus cycles, one-way edges and an island."""
    a = [0]
    b = [1]
    for x in range(2, n):
        a.append(x)
        b.append(int(rng.integers(max(0, x - 4), x)))
    extra = n // 5
    a += [*rng.integers(0, n, extra).tolist(), n, n + 1, n + 2]  # island: path n..n+3
    b += [*rng.integers(0, n, extra).tolist(), n + 1, n + 2, n + 3]
    a, b = np.array(a), np.array(b)
    w_ab = rng.uniform(0.1, 2.0, a.size)
    w_ba = w_ab * rng.uniform(0.5, 1.5, a.size)  # directed: uphill and downhill differ
    w_ba[rng.random(a.size) < 0.08] = np.inf  # one-way edges
    return n + 4, a, b, w_ab, w_ba


@pytest.mark.parametrize(("seed", "eliminate", "budget"), [(0, 0, 1), (1, 2, 10**6), (2, 3, 50)])
def test_own_times_on_a_random_directed_graph_equal_networkx(seed, eliminate, budget):
    rng = np.random.default_rng(seed)
    n, a, b, w_ab, w_ba = _random_graph(rng, 300)
    targets = rng.choice(300, 12, replace=False)
    # reversed (w_ba, w_ab): the searches from a target give times *to* it
    core = contract_graph(n, a, b, w_ba, w_ab, keep=targets, eliminate=eliminate)
    assert core.tree_nodes.size and core.chain_nodes.size  # stations inside removed parts
    n_pts = 150
    own = rng.integers(-1, targets.size, n_pts)  # -1: no target
    point = np.repeat(np.arange(n_pts), 2)
    node = rng.integers(0, n, point.size)
    node[:4] = [n - 1, n - 2, n - 3, n - 4]  # points 0 and 1 on the island: unreachable
    w = rng.uniform(0.0, 1.0, point.size)
    base = rng.uniform(0.0, 3.0, n_pts)
    st = Stations(point=point, node=node, w=w, base=base)
    target_core = np.where(own >= 0, core.to_core(targets)[np.maximum(own, 0)], -1)
    got = own_times(core, st, target_core, budget=budget)

    # the trip *to* the target: search the reversed graph from it
    rev = _digraph(n, a, b, w_ab, w_ba).reverse()
    want = np.full(n_pts, np.inf)
    for t in np.unique(own[own >= 0]).tolist():
        d = nx.single_source_dijkstra_path_length(rev, int(targets[t]))
        for i in np.flatnonzero(own == t).tolist():
            cand = [w[j] + d[int(node[j])] for j in (2 * i, 2 * i + 1) if int(node[j]) in d]
            want[i] = base[i] + min(cand) if cand else np.inf
    assert np.isinf(got[:2]).all() and np.isinf(got[own < 0]).all()
    assert np.array_equal(np.isfinite(got), np.isfinite(want))
    ok = np.isfinite(want)
    assert ok.sum() > n_pts / 2
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-9)


def _scale_area(n_edges, seed):
    from contigmap.synth.scale import make_scale_roads

    roads, villages = make_scale_roads(n_edges, seed=seed)
    x0, y0, x1, y1 = roads.total_bounds
    yy, xx = np.mgrid[0:120, 0:120]
    arr = 300 + 250 * np.sin(xx / 9.0) * np.cos(yy / 13.0)
    step = max(x1 - x0, y1 - y0) / 100
    dem = Raster(arr.astype(float), Affine(step, 0, x0 - 5 * step, 0, -step, y1 + 5 * step),
                 CRS.from_user_input(roads.crs))
    island = shapely.LineString([(x1 + 5000, y0), (x1 + 5000, y0 + 900), (x1 + 5600, y0 + 900)])
    extra = gpd.GeoDataFrame(
        {"road_id": ["island"], "road_class": [roads["road_class"].iloc[0]],
         "surface": [roads["surface"].iloc[0]], "bridge": [False], "tunnel": [False]},
        geometry=[island], crs=roads.crs)
    roads = gpd.GeoDataFrame(
        {c: np.concatenate([roads[c].to_numpy(), extra[c].to_numpy()]) for c in extra.columns
         if c != "geometry"},
        geometry=np.concatenate([roads.geometry.to_numpy(), extra.geometry.to_numpy()]),
        crs=roads.crs)
    return build_network(roads, dem=dem), villages, (x1 + 5030, y0 + 450)


@pytest.mark.slow
@pytest.mark.parametrize("local_share", [0.0, 1.0])  # whole-core / neighbourhood searches
def test_attachment_own_times_equal_times_to_each_and_networkx(monkeypatch, local_share):
    from contigmap.network import neighbourhood

    monkeypatch.setattr(neighbourhood, "_LOCAL_MAX_SHARE", local_share)
    boxes = []
    box = neighbourhood.NeighbourhoodSearch._box
    monkeypatch.setattr(neighbourhood.NeighbourhoodSearch, "_box",
                        lambda self, *a: boxes.append(1) or box(self, *a))
    g, villages, island_xy = _scale_area(2000, seed=7)
    assert (g.walk_fwd_min != g.walk_bwd_min).any()
    base = g.core("walk")
    picked = []
    for removed in (base.tree_nodes, base.chain_nodes):  # edges inside dead ends, chains
        inside = np.isin(g.u, removed) & np.isin(g.v, removed)
        picked.append(np.flatnonzero(inside)[:6])
    tree_e, chain_e = picked
    assert tree_e.size == 6 and chain_e.size == 6
    mid = (g.node_xy[g.u] + g.node_xy[g.v]) / 2
    # targets (services) and villages inside dead ends and chains, one village on the island
    sxy = np.vstack([mid[tree_e], mid[chain_e], g.node_xy[g.u[::97]][:8]]) + 3.0
    vxy = np.vstack([np.column_stack([villages.geometry.x, villages.geometry.y])[:250] + 40.0,
                     mid[tree_e] - 7.0, mid[chain_e] + 9.0, [island_xy]])
    nv, ns = len(vxy), len(sxy)
    targets = nv + np.arange(ns)
    att = attach_points(g, np.vstack([vxy, sxy]), nodes=targets)
    rng = np.random.default_rng(3)
    target_of = np.concatenate([nv + rng.integers(0, ns, nv), np.full(ns, -1)])
    target_of[:5] = -1
    full = attach_points(g, np.vstack([vxy, sxy]))  # every point a node, never contracted
    for mode, season in (("walk", "dry"), ("vehicle", "rainy"), ("drive", "dry")):
        each = att.times_to_each(targets, mode=mode, season=season)
        has = target_of >= 0
        want = np.full(nv + ns, np.inf)
        want[has] = each[target_of[has] - nv, np.flatnonzero(has)]
        for budget in (1, 1 << 22):
            got = att.times_to_own(target_of, mode=mode, season=season, budget=budget)
            assert np.array_equal(got, want)  # bit for bit, as the dense matrix gave
        assert np.isinf(got[nv - 1])  # the island village
        assert boxes or local_share == 0  # the neighbourhood searches really ran
        # and against networkx on the full augmented graph (trip to the target)
        m = full.matrix(mode, season).tocoo()
        ref = nx.DiGraph()
        ref.add_nodes_from(range(m.shape[0]))
        ref.add_weighted_edges_from(zip(m.row.tolist(), m.col.tolist(), m.data.tolist(),
                                        strict=True))
        ref = ref.reverse()
        pn = full.point_nodes()
        for t in np.unique(target_of[has]).tolist()[:6]:
            d = nx.single_source_dijkstra_path_length(ref, int(pn[t]))
            mine = np.flatnonzero(target_of == t)
            nx_t = np.array([d.get(int(pn[i]), np.inf) for i in mine.tolist()])
            assert np.array_equal(np.isfinite(got[mine]), np.isfinite(nx_t))
            ok = np.isfinite(nx_t)
            np.testing.assert_allclose(got[mine][ok], nx_t[ok], rtol=1e-9)


def test_times_to_own_checks_its_input():
    g, villages, _ = _scale_area(300, seed=1)
    xy = np.column_stack([villages.geometry.x, villages.geometry.y])[:5]
    att = attach_points(g, xy, nodes=[4])
    with pytest.raises(NetworkError, match="one target point index"):
        att.times_to_own([4, 4])
    with pytest.raises(NetworkError, match="not attached as a node"):
        att.times_to_own([1, 4, 4, 4, -1])
    assert np.isinf(att.times_to_own(np.full(5, -1))).all()


@pytest.mark.slow
def test_own_seat_memory_is_linear_in_edges_and_points():
    from contigmap.synth.scale import make_scale_roads

    roads, villages = make_scale_roads(50_000, seed=2)
    g = build_network(roads)
    vxy = np.column_stack([villages.geometry.x, villages.geometry.y]) + 30.0
    rng = np.random.default_rng(0)
    n_seats = 2000
    sxy = g.node_xy[rng.choice(g.n_nodes, n_seats, replace=False)] + 5.0
    nv = len(vxy)
    att = attach_points(g, np.vstack([vxy, sxy]), nodes=nv + np.arange(n_seats))
    # each village's seat: the nearest one, moved to a neighbour seat for a third of them
    _, near = att.times_to_nearest(nv + np.arange(n_seats), with_source=True)
    own = np.where(near[:nv] >= 0, near[:nv], nv)
    shift = rng.random(nv) < 0.33
    own[shift] = nv + (own[shift] - nv + 1) % n_seats
    target_of = np.concatenate([own, np.full(n_seats, -1)])
    att.core("vehicle", "dry", transpose=True)  # the graph itself is not what is measured
    tracemalloc.start()
    got = att.times_to_own(target_of)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n_points = nv + n_seats
    bound = 400 * (g.n_edges + n_points)
    dense = 8 * n_seats * n_points  # what one targets × points matrix takes
    assert dense > 4 * bound
    assert peak < bound, (peak, bound)
    assert np.isfinite(got[:nv]).mean() > 0.95
