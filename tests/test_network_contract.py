"""Tests of contigmap.network.contract: contracted queries equal networkx on the full graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from contigmap.network.contract import contract_graph, directed_pairs


def nx_reference(n, a, b, w_ab, w_ba, sources):
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for x, y, f, r in zip(a.tolist(), b.tolist(), w_ab.tolist(), w_ba.tolist(), strict=True):
        for s, t, w in ((x, y, f), (y, x, r)):
            if s != t and np.isfinite(w) and (not g.has_edge(s, t) or g[s][t]["weight"] > w):
                g.add_edge(s, t, weight=w)
    d = nx.multi_source_dijkstra_path_length(g, set(sources))
    out = np.full(n, np.inf)
    out[list(d)] = list(d.values())
    return out


def random_road_graph(rng, n):
    """A sparse graph with long dangling trees, chains, cycles, parallel edges and loops."""
    a = [0]
    b = [1]
    for x in range(2, n):  # a random tree (many leaves and paths) ...
        a.append(x)
        b.append(int(rng.integers(max(0, x - 4), x)))
    extra = n // 5  # ... plus a few cycles, parallel edges and a self-loop
    a += [*rng.integers(0, n, extra).tolist(), 3, 5]
    b += [*rng.integers(0, n, extra).tolist(), int(b[2]), 5]
    a, b = np.array(a), np.array(b)
    w_ab = rng.uniform(0.1, 2.0, a.size)
    w_ba = w_ab * rng.uniform(0.5, 1.5, a.size)  # directed: uphill and downhill differ
    w_ba[rng.random(a.size) < 0.05] = np.inf  # some one-way edges
    return a, b, w_ab, w_ba


@pytest.mark.parametrize(("seed", "eliminate"), [(0, 0), (1, 1), (2, 2), (3, 4)])
def test_contracted_distances_equal_networkx(seed, eliminate):
    rng = np.random.default_rng(seed)
    n = 400
    a, b, w_ab, w_ba = random_road_graph(rng, n)
    a = np.concatenate([a, [n, n + 1, n + 2, n + 4]])  # a lone edge, a path and a 3-cycle
    b = np.concatenate([b, [n + 1, n + 2, n + 3, n + 5]])
    a = np.concatenate([a, [n + 6, n + 7, n + 8]])
    b = np.concatenate([b, [n + 7, n + 8, n + 6]])
    w_ab = np.concatenate([w_ab, rng.uniform(0.1, 2, 7)])
    w_ba = np.concatenate([w_ba, rng.uniform(0.1, 2, 7)])
    n_all = n + 9
    sources = rng.choice(n, 6, replace=False)
    core = contract_graph(n_all, a, b, w_ab, w_ba, keep=sources, eliminate=eliminate)
    assert core.n_core < n_all / 2  # trees and chains really go
    d_core, _, s_core = dijkstra(core.matrix, indices=core.to_core(sources), min_only=True,
                                 return_predecessors=True)
    d, src = core.expand(d_core, s_core)
    ref = nx_reference(n_all, a, b, w_ab, w_ba, sources.tolist())
    fin = np.isfinite(ref)
    assert np.array_equal(np.isfinite(d), fin)
    np.testing.assert_allclose(d[fin], ref[fin], rtol=1e-9, atol=0)
    # the source reported for each node is one whose distance is the minimum
    for s in sources.tolist():
        mine = src == s
        one = nx_reference(n_all, a, b, w_ab, w_ba, [s])
        np.testing.assert_allclose(one[mine], d[mine], rtol=1e-9)
    assert (src[~fin] < 0).all()


def test_sources_inside_chain_and_tree_stay_exact():
    # path 0-1-2-3-4 (a chain between 0 and 4 via a cycle 0-5-4) with a dead end 2-6-7
    a = np.array([0, 1, 2, 3, 0, 5, 2, 6])
    b = np.array([1, 2, 3, 4, 5, 4, 6, 7])
    w_ab = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 10.0, 1.5, 2.5])
    w_ba = w_ab * 2
    for sources in ([2], [7], [6, 3], [1]):
        core = contract_graph(8, a, b, w_ab, w_ba, keep=sources)
        d_core = dijkstra(core.matrix, indices=core.to_core(sources), min_only=True)
        d, _ = core.expand(d_core)
        ref = nx_reference(8, a, b, w_ab, w_ba, sources)
        np.testing.assert_allclose(d, ref, rtol=1e-12)
    # by hand: from node 7 to 0 against the edge directions (times doubled): 5 + 3 + 4 + 2
    core = contract_graph(8, a, b, w_ab, w_ba, keep=[7])
    d, _ = core.expand(dijkstra(core.matrix, indices=core.to_core([7]), min_only=True))
    assert d[0] == pytest.approx(5 + 3 + 4 + 2)


def test_to_core_rejects_removed_nodes():
    core = contract_graph(3, np.array([0, 1]), np.array([1, 2]), np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="keep="):
        core.to_core([0, 1, 2])


def test_directed_pairs_keep_smallest_weight_per_direction():
    rows = np.array([0, 1, 1, 2, 0, 3])
    cols = np.array([1, 0, 0, 1, 1, 3])
    w = np.array([5.0, 2.0, 1.0, 4.0, 3.0, 1.0])
    a, b, w_ab, w_ba = directed_pairs(4, rows, cols, w)
    assert a.tolist() == [0, 1] and b.tolist() == [1, 2]
    assert w_ab.tolist() == [3.0, np.inf] and w_ba.tolist() == [1.0, 4.0]


@pytest.mark.parametrize("mode", ["vehicle", "walk", "drive"])
def test_road_graph_core_matches_full_csr(mode):
    from contigmap.network import build_network
    from contigmap.synth.scale import make_scale_roads

    roads, _ = make_scale_roads(3000, seed=4)
    graph = build_network(roads)
    core = graph.core(mode, "rainy", transpose=True)
    assert graph.core(mode, "rainy", transpose=True) is core  # cached
    assert core.n_core < 0.8 * graph.n_nodes
    sources = core.core_nodes[:: max(core.n_core // 7, 1)]
    d, _ = core.expand(dijkstra(core.matrix, indices=core.to_core(sources), min_only=True))
    full = dijkstra(graph.csr(mode, "rainy", transpose=True), indices=sources, min_only=True)
    fin = np.isfinite(full)
    assert np.array_equal(np.isfinite(d), fin)
    np.testing.assert_allclose(d[fin], full[fin], rtol=1e-9)


@pytest.mark.slow
def test_services_on_dead_ends_and_chains_match_networkx():
    from contigmap.network import attach_points, build_network
    from contigmap.synth.scale import make_scale_roads

    roads, villages = make_scale_roads(2000, seed=7)
    g = build_network(roads)
    base = g.core("walk")
    in_tree = np.zeros(g.n_nodes, bool)
    in_tree[base.tree_nodes] = True
    in_chain = np.zeros(g.n_nodes, bool)
    in_chain[base.chain_nodes] = True
    tree_e = np.flatnonzero(in_tree[g.u] & in_tree[g.v])[:5]
    chain_e = np.flatnonzero(in_chain[g.u] & in_chain[g.v])[:5]
    assert tree_e.size == 5 and chain_e.size == 5
    mid = (g.node_xy[g.u] + g.node_xy[g.v]) / 2
    sxy = np.vstack([mid[tree_e], mid[chain_e], g.node_xy[g.u[tree_e[:2]]]]) + 3.0
    vxy = np.column_stack([villages.geometry.x, villages.geometry.y])[:300] + 40.0
    xy = np.vstack([vxy, sxy])
    targets = len(vxy) + np.arange(len(sxy))
    att = attach_points(g, xy, nodes=targets)
    full = attach_points(g, xy)  # every point a node; its matrix is never contracted here
    for mode, season in (("walk", "dry"), ("vehicle", "rainy"), ("drive", "dry")):
        m = full.matrix(mode, season).tocoo()
        ref = nx.DiGraph()
        ref.add_nodes_from(range(m.shape[0]))
        ref.add_weighted_edges_from(zip(m.row.tolist(), m.col.tolist(), m.data.tolist(),
                                        strict=True))
        d_ref = nx.multi_source_dijkstra_path_length(ref.reverse(),
                                                     set(full.point_nodes(targets).tolist()))
        want = np.full(m.shape[0], np.inf)
        want[list(d_ref)] = list(d_ref.values())
        node_t = att.node_times(targets, mode=mode, season=season)
        fin = np.isfinite(want[: g.n_nodes])
        assert np.array_equal(np.isfinite(node_t), fin)
        np.testing.assert_allclose(node_t[fin], want[: g.n_nodes][fin], rtol=1e-9)
        tt, which = att.times_to_nearest(targets, mode=mode, season=season, with_source=True)
        want_pts = want[full.point_nodes()]
        assert np.array_equal(np.isfinite(tt), np.isfinite(want_pts))
        ok = np.isfinite(tt)
        np.testing.assert_allclose(tt[ok], want_pts[ok], rtol=1e-9)
        # the reported nearest service gives that time on its own (one Dijkstra per service)
        each = att.times_to_each(targets, mode=mode, season=season)
        np.testing.assert_allclose(each.min(axis=0)[ok], tt[ok], rtol=1e-9)
        assert (which[ok] >= 0).all() and (which[~ok] == -1).all()
        own = each[which[ok] - len(vxy), np.flatnonzero(ok)]
        np.testing.assert_allclose(own, tt[ok], rtol=1e-9)
