"""The broadband fibre tree against an exact Steiner tree and networkx's Mehlhorn tree.

On graphs small enough to enumerate, the exact minimum Steiner tree is the best, over
every subset S of non-terminal nodes, of the minimum spanning tree of the metric closure
restricted to the terminals ∪ S (Hakimi 1971; Dreyfus and Wagner 1971). Kou, Markowsky
and Berman's tree and Mehlhorn's (both in contigmap's :func:`steiner_tree` and in
``networkx.algorithms.approximation.steiner_tree(method="mehlhorn")``) are within
``2 − 2/l`` of it, ``l`` the leaves of an optimal tree (at most the number of terminals
``t``, so ``2 − 2/t`` bounds them too).
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from networkx.algorithms.approximation import steiner_tree as nx_steiner_tree
from shapely.geometry import LineString

from contigmap.network import build_network
from contigmap.network.build import RoadGraph
from contigmap.priority._steiner import steiner_tree

CRS = "EPSG:32649"
X0, Y0 = 400_000.0, 3_100_000.0
Segment = tuple[tuple[float, float], tuple[float, float]]


def _graph(segments: list[Segment]) -> RoadGraph:
    roads = gpd.GeoDataFrame(
        {"road_id": [f"r{i}" for i in range(len(segments))],
         "road_class": ["village"] * len(segments), "surface": ["paved"] * len(segments)},
        geometry=[LineString([(X0 + a[0], Y0 + a[1]), (X0 + b[0], Y0 + b[1])])
                  for a, b in segments], crs=CRS)
    return build_network(roads)


def _node(graph: RoadGraph, x: float, y: float) -> int:
    d = np.hypot(graph.node_xy[:, 0] - (X0 + x), graph.node_xy[:, 1] - (Y0 + y))
    assert d.min() < 1e-6, (x, y)
    return int(np.argmin(d))


def _reference(graph: RoadGraph) -> nx.Graph:
    """The road graph as networkx sees it: node pairs with their shortest edge's length."""
    g = nx.Graph()
    for u, v, w in zip(graph.u.tolist(), graph.v.tolist(), graph.length_m.tolist(),
                       strict=True):
        if u != v and (not g.has_edge(u, v) or w < g[u][v]["length"]):
            g.add_edge(u, v, length=w)
    return g


def _exact(g: nx.Graph, terminals: list[int]) -> float:
    """Exact minimum Steiner tree length by enumerating the Steiner nodes."""
    dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="length"))
    others = [n for n in g.nodes if n not in terminals]
    assert len(others) <= 12  # 4,096 subsets at most
    best = float("inf")
    for k in range(len(others) + 1):
        for steiner in itertools.combinations(others, k):
            nodes = [*terminals, *steiner]
            closure = nx.Graph()
            closure.add_weighted_edges_from(
                (a, b, dist[a][b]) for a, b in itertools.combinations(nodes, 2))
            best = min(best, nx.minimum_spanning_tree(closure).size(weight="weight"))
    return best


def _check(graph: RoadGraph, source: int, hamlets: list[int]) -> tuple[float, float, float]:
    """contigmap's and networkx's tree lengths within the bounds; returns both and exact."""
    g = _reference(graph)
    terminals = [source, *hamlets]
    exact = _exact(g, terminals)
    factor = 2.0 - 2.0 / len(terminals)

    tree = steiner_tree(graph, np.array(hamlets), None, np.array([source]), np.array([0.0]))
    ours = tree.length_m
    # the tree's edges carry its length and join the fibre to every hamlet
    assert float(graph.length_m[tree.edges].sum()) == pytest.approx(ours, rel=1e-9)
    t = nx.Graph()
    t.add_edges_from(zip(graph.u[tree.edges].tolist(), graph.v[tree.edges].tolist(),
                         strict=True))
    assert all(t.has_node(n) for n in terminals)
    assert nx.is_connected(t) and nx.is_tree(t)
    assert np.isfinite(tree.share_m).all()
    assert tree.share_m.sum() == pytest.approx(ours, rel=1e-9)

    theirs = nx_steiner_tree(g, terminals, weight="length", method="mehlhorn").size(
        weight="length")
    for length in (ours, theirs):
        assert exact * (1 - 1e-9) <= length <= factor * exact * (1 + 1e-9)
    return ours, theirs, exact


def test_y_with_a_perimeter() -> None:
    # three spokes of 1 km from a centre O to A, B, C at 120° and the triangle's sides
    # (1.732 km each): the exact tree is the three spokes (3 km) through O, no terminal
    r3 = 1000.0 * np.sqrt(3.0) / 2.0
    a, b, c, o = (0.0, 1000.0), (r3, -500.0), (-r3, -500.0), (0.0, 0.0)
    graph = _graph([(o, a), (o, b), (o, c), (a, b), (b, c), (c, a)])
    ours, _, exact = _check(graph, _node(graph, *a), [_node(graph, *b), _node(graph, *c)])
    assert exact == pytest.approx(3000.0)
    assert ours <= 2 * 1732.0509  # never worse than two sides


def test_grid_corners() -> None:
    # a 3 × 3 grid of 1 km blocks' corners (9 nodes, 12 edges); fibre at one corner,
    # hamlets at the other three: the exact tree is an H or a comb of 6 km
    seg: list[Segment] = []
    for i in range(3):
        for j in range(2):
            seg.append(((1000.0 * j, 1000.0 * i), (1000.0 * (j + 1), 1000.0 * i)))
            seg.append(((1000.0 * i, 1000.0 * j), (1000.0 * i, 1000.0 * (j + 1))))
    graph = _graph(seg)
    corners = [_node(graph, x, y) for x, y in ((0, 0), (2000, 0), (0, 2000), (2000, 2000))]
    ours, _, exact = _check(graph, corners[0], corners[1:])
    assert exact == pytest.approx(6000.0)
    assert ours == pytest.approx(6000.0)  # every KMB tree here is optimal: 3 paths of 2 km


@pytest.mark.parametrize("seed", range(6))
def test_random_small_graphs(seed: int) -> None:
    # 8 random points, a random spanning path plus edges to each point's 2 nearest others
    rng = np.random.default_rng(seed)
    pts = [(float(x), float(y)) for x, y in np.round(rng.random((8, 2)) * 5000.0)]
    order = rng.permutation(8)
    pairs = {(min(int(a), int(b)), max(int(a), int(b))) for a, b in
             itertools.pairwise(order)}
    for i, p in enumerate(pts):
        d = [np.hypot(p[0] - q[0], p[1] - q[1]) for q in pts]
        for j in np.argsort(d)[1:3]:
            pairs.add((min(i, int(j)), max(i, int(j))))
    graph = _graph([(pts[i], pts[j]) for i, j in sorted(pairs)])
    nodes = [_node(graph, *p) for p in pts]
    pick = rng.choice(8, 4, replace=False)
    _check(graph, nodes[pick[0]], [nodes[k] for k in pick[1:]])


def test_pruning_keeps_only_paths_between_terminals() -> None:
    """Non-terminal leaves go, repeatedly; a component with one terminal loses every edge."""
    from scipy.sparse import coo_matrix

    from contigmap.priority._steiner import _prune_leaves

    # 0-1-2-3 with a branch 1-4-5 and a chain 6-7-8 apart; terminals 0, 3 and 7
    pairs = [(0, 1), (1, 2), (2, 3), (1, 4), (4, 5), (6, 7), (7, 8)]
    r = [p[0] for p in pairs] + [p[1] for p in pairs]
    c = [p[1] for p in pairs] + [p[0] for p in pairs]
    tree = coo_matrix((np.ones(len(r)), (r, c)), shape=(9, 9)).tocsr()
    is_term = np.zeros(9, bool)
    is_term[[0, 3, 7]] = True
    out = _prune_leaves(tree, is_term).tocoo()
    kept = sorted({(min(i, j), max(i, j)) for i, j in zip(out.row, out.col, strict=True)})
    assert kept == [(0, 1), (1, 2), (2, 3)]
