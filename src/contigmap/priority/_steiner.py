"""The fibre tree: an approximate Steiner tree on the road graph (Mehlhorn 1988).

Mehlhorn, "A faster approximation algorithm for the Steiner problem in graphs", *Inf.
Process. Lett.* 27(3): the 2-approximation of Kou, Markowsky and Berman (1981) computed
from one multi-source Dijkstra. The existing fibre is one terminal (a super-source
joined to every road node near fibre), each hamlet's nearest road node another; the
Voronoi regions of the terminals give the bridging edges, their minimum spanning tree is
expanded into road paths, the MST of that subgraph is taken and non-terminal leaves are
pruned. Each tree edge's length is split between the hamlets below it in proportion to
their households, so a shared trunk is paid once. Used by
:mod:`contigmap.priority.broadband`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import breadth_first_order, dijkstra, minimum_spanning_tree

from contigmap.network import RoadGraph
from contigmap.priority._network import edge_weight_csr

__all__ = ["SteinerTree", "steiner_tree"]


class SteinerTree:
    """A fibre tree on the road graph.

    Attributes
    ----------
    edges
        Graph edge indices in the tree.
    source_nodes
        Graph nodes where the tree leaves the existing fibre, with their offsets (m).
    length_m
        Total length (tree edges plus offsets from fibre to the road).
    share_m
        Per terminal hamlet, its share of the tree (households-weighted), ``inf`` where
        fibre cannot reach it; the shares sum to ``length_m``.
    """

    def __init__(self, edges: NDArray[np.int64], source_nodes: NDArray[np.int64],
                 length_m: float, share_m: NDArray[np.float64]) -> None:
        self.edges = edges
        self.source_nodes = source_nodes
        self.length_m = length_m
        self.share_m = share_m


def steiner_tree(
    graph: RoadGraph,
    terminal_nodes: Sequence[int] | NDArray[np.int64],
    weights: NDArray[np.float64] | None,
    source_nodes: NDArray[np.int64],
    source_offset_m: NDArray[np.float64],
) -> SteinerTree:
    """Approximate Steiner tree joining terminal nodes to a source (Mehlhorn 1988).

    Parameters
    ----------
    graph
        Road graph (edge lengths are the weights).
    terminal_nodes
        Graph node of each terminal (hamlets; several may share a node).
    weights
        Households per terminal, to split shared edges; equal when ``None``.
    source_nodes, source_offset_m
        Nodes where fibre can start and the length to reach them from the fibre.

    Returns
    -------
    SteinerTree
        The tree and each terminal's share of its length.
    """
    n = graph.n_nodes
    root = n
    term = np.asarray(terminal_nodes, dtype=np.int64)
    wts = np.ones(term.size) if weights is None else np.maximum(np.asarray(weights, float), 1e-9)
    share = np.full(term.size, np.inf)
    m = edge_weight_csr(graph, graph.length_m, sources=(source_nodes, source_offset_m))
    uniq = np.unique(term)
    sources = np.concatenate([[root], uniq])
    dist, pred, near = dijkstra(m, directed=True, indices=sources, min_only=True,
                                return_predecessors=True)
    reach = np.isfinite(dist)
    # bridging edges between Voronoi regions: graph edges and root links
    a = np.concatenate([graph.u, np.full(source_nodes.size, root)])
    b = np.concatenate([graph.v, source_nodes])
    w = np.concatenate([graph.length_m, source_offset_m])
    ok = reach[a] & reach[b] & (near[a] != near[b])
    a, b, w = a[ok], b[ok], w[ok]
    if a.size == 0:
        return SteinerTree(np.zeros(0, np.int64), np.zeros(0, np.int64), 0.0, share)
    cost = dist[a] + w + dist[b]
    sa, sb = near[a], near[b]
    lo, hi = np.minimum(sa, sb), np.maximum(sa, sb)
    order = np.lexsort((cost, hi, lo))
    first = np.ones(order.size, bool)
    first[1:] = (lo[order][1:] != lo[order][:-1]) | (hi[order][1:] != hi[order][:-1])
    pick = order[first]
    tmat = coo_matrix((cost[pick] + 1e-9, (lo[pick], hi[pick])), shape=(n + 1, n + 1)).tocsr()
    mst = minimum_spanning_tree(tmat).tocoo()
    # expand each MST edge into its road path: bridging edge + both paths back to terminals
    pair_best = {(int(lo[i]), int(hi[i])): int(i) for i in pick}
    used: set[tuple[int, int]] = set()

    def walk(node: int) -> None:
        while pred[node] >= 0:
            p = int(pred[node])
            used.add((min(p, node), max(p, node)))
            node = p

    for s, t in zip(mst.row, mst.col, strict=True):
        i = pair_best[(int(min(s, t)), int(max(s, t)))]
        used.add((int(min(a[i], b[i])), int(max(a[i], b[i]))))
        walk(int(a[i]))
        walk(int(b[i]))
    # subgraph of used node pairs with their lengths; MST; prune non-terminal leaves
    tree = _subgraph_mst(graph, used, source_nodes, source_offset_m)
    is_term = np.zeros(n + 1, bool)
    is_term[uniq[reach[uniq]]] = True
    is_term[root] = True
    tr = _prune_leaves(tree, is_term)
    share = _household_shares(tr, root, term, wts)
    edges, src_used = _tree_graph_edges(graph, tr, root)
    return SteinerTree(edges, src_used, float(tr.sum()) / 2.0, share)


def _subgraph_mst(
    graph: RoadGraph, used: set[tuple[int, int]], source_nodes: NDArray[np.int64],
    source_offset_m: NDArray[np.float64],
) -> csr_matrix:
    """Return the symmetric minimum spanning tree of the node pairs ``used`` (road lengths)."""
    n1 = graph.n_nodes + 1
    full = edge_weight_csr(graph, graph.length_m, sources=(source_nodes, source_offset_m))
    full = full.maximum(full.T).tocsr()
    ua = np.array([p[0] for p in used], dtype=np.int64)
    ub = np.array([p[1] for p in used], dtype=np.int64)
    uw = np.asarray(full[ua, ub]).ravel()
    sub = coo_matrix((uw + 1e-12, (ua, ub)), shape=(n1, n1)).tocsr()
    tree = minimum_spanning_tree(sub)
    return (tree + tree.T).tocsr()


def _prune_leaves(tree: csr_matrix, is_term: NDArray[np.bool_]) -> csr_matrix:
    """Return the symmetric ``tree`` with non-terminal leaves pruned, repeatedly."""
    deg = np.diff(tree.indptr)
    alive = deg > 0
    changed = True
    adj = tree.tolil()
    while changed:
        changed = False
        leaves = np.flatnonzero(alive & (deg == 1) & ~is_term)
        for leaf in leaves:
            nb = [j for j in adj.rows[leaf] if alive[j]]
            alive[leaf] = False
            for j in nb:
                deg[j] -= 1
            changed = True
    coo = tree.tocoo()
    sel = alive[coo.row] & alive[coo.col]
    return coo_matrix((coo.data[sel], (coo.row[sel], coo.col[sel])), shape=tree.shape).tocsr()


def _household_shares(
    tr: csr_matrix, root: int, term: NDArray[np.int64], wts: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Return each terminal's households-weighted share of the tree ``tr`` (``inf``: off it).

    Walking down from the root, each edge's length is split between the households
    below it; a terminal's share is its households times the sum along its path.
    """
    n1 = tr.shape[0]
    order_n, parent = breadth_first_order(tr, root, directed=False, return_predecessors=True)
    sub_hh = np.bincount(term, weights=wts, minlength=n1)
    for node in order_n[::-1]:
        p = parent[node]
        if p >= 0:
            sub_hh[p] += sub_hh[node]
    trc = tr.tocoo()
    elen = {(int(r), int(c)): float(v) for r, c, v in zip(trc.row, trc.col, trc.data,
                                                          strict=True)}
    per_hh = np.zeros(n1)
    for node in order_n:
        p = parent[node]
        if p >= 0:
            length = elen[(int(p), int(node))]
            per_hh[node] = per_hh[p] + (length / sub_hh[node] if sub_hh[node] > 0 else 0.0)
    in_tree = np.zeros(n1, bool)
    in_tree[order_n] = True
    return np.where(in_tree[term], wts * per_hh[term], np.inf)


def _tree_graph_edges(
    graph: RoadGraph, tr: csr_matrix, root: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return the graph edges of the tree ``tr`` (shortest of parallel ones) and its sources."""
    n = graph.n_nodes
    pairs = tr.tocoo()
    gpairs = [(int(r), int(c)) for r, c in zip(pairs.row, pairs.col, strict=True)
              if r < c and c < n]
    emap: dict[tuple[int, int], int] = {}
    for e in range(graph.n_edges):
        key = (int(min(graph.u[e], graph.v[e])), int(max(graph.u[e], graph.v[e])))
        if key not in emap or graph.length_m[e] < graph.length_m[emap[key]]:
            emap[key] = e
    edges = np.array([emap[p] for p in gpairs if p in emap], dtype=np.int64)
    src_used = np.array(sorted({int(c) for r, c in zip(pairs.row, pairs.col, strict=True)
                                if r == root}), dtype=np.int64)
    return edges, src_used
