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
    mlo = np.minimum(mst.row, mst.col).astype(np.int64)
    mhi = np.maximum(mst.row, mst.col).astype(np.int64)
    pick_key = lo[pick].astype(np.int64) * (n + 1) + hi[pick]
    by_key = np.argsort(pick_key)
    i_mst = pick[by_key[np.searchsorted(pick_key[by_key], mlo * (n + 1) + mhi)]]
    on_path = _ancestors(pred, np.concatenate([a[i_mst], b[i_mst]]))
    used = set(zip(np.minimum(a[i_mst], b[i_mst]).tolist(),
                   np.maximum(a[i_mst], b[i_mst]).tolist(), strict=True))
    used.update(zip(np.minimum(on_path, pred[on_path]).tolist(),
                    np.maximum(on_path, pred[on_path]).tolist(), strict=True))
    # subgraph of used node pairs with their lengths; MST; prune non-terminal leaves
    tree = _subgraph_mst(graph, used, source_nodes, source_offset_m)
    is_term = np.zeros(n + 1, bool)
    is_term[uniq[reach[uniq]]] = True
    is_term[root] = True
    tr = _prune_leaves(tree, is_term)
    share = _household_shares(tr, root, term, wts)
    edges, src_used = _tree_graph_edges(graph, tr, root)
    return SteinerTree(edges, src_used, float(tr.sum()) / 2.0, share)


def _ancestors(pred: NDArray[np.int32], start: NDArray[np.int64]) -> NDArray[np.int64]:
    """Nodes on the shortest-path trees' paths from ``start`` up, that have a predecessor.

    The nodes whose edge to their predecessor a walk ``node = pred[node]`` from each
    start crosses, found a step at a time for all walks together.
    """
    seen = np.zeros(pred.size, bool)
    front = np.unique(start)
    while front.size:
        front = front[(pred[front] >= 0) & ~seen[front]]
        seen[front] = True
        front = np.unique(pred[front])
    return np.flatnonzero(seen)


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
    """Return the symmetric ``tree`` with non-terminal leaves pruned, repeatedly.

    All the leaves of a round at once; the edges left do not depend on the order leaves
    go in (those between terminals, and no others, in each component of the tree).
    """
    indptr, indices = tree.indptr, tree.indices
    deg = np.diff(indptr)
    alive = deg > 0
    while True:
        leaves = np.flatnonzero(alive & (deg == 1) & ~is_term)
        if not leaves.size:
            break
        counts = indptr[leaves + 1] - indptr[leaves]
        at = np.repeat(indptr[leaves] - np.cumsum(counts) + counts, counts) + np.arange(
            int(counts.sum()))
        nb = indices[at]
        nb = nb[alive[nb]]
        alive[leaves] = False
        np.subtract.at(deg, nb, 1)
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
    below = order_n[1:]  # every node of the tree but the root, in breadth-first order
    # plain lists: the same float additions, in the same order, as NumPy scalars would do
    sub = np.bincount(term, weights=wts, minlength=n1).tolist()
    par = parent.tolist()
    for node in below[::-1].tolist():
        sub[par[node]] += sub[node]
    length = np.asarray(tr[parent[below], below]).ravel().tolist() if below.size else []
    per = [0.0] * n1
    for node, edge in zip(below.tolist(), length, strict=True):
        per[node] = per[par[node]] + (edge / sub[node] if sub[node] > 0 else 0.0)
    per_hh = np.array(per)
    in_tree = np.zeros(n1, bool)
    in_tree[order_n] = True
    return np.where(in_tree[term], wts * per_hh[term], np.inf)


def _tree_graph_edges(
    graph: RoadGraph, tr: csr_matrix, root: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return the graph edges of the tree ``tr`` (shortest of parallel ones) and its sources.

    Of parallel edges the shortest, the first of equally short ones.
    """
    n = graph.n_nodes
    pairs = tr.tocoo()
    row, col = pairs.row.astype(np.int64), pairs.col.astype(np.int64)
    inner = (row < col) & (col < n)
    want = row[inner] * n + col[inner]
    lo = np.minimum(graph.u, graph.v).astype(np.int64)
    hi = np.maximum(graph.u, graph.v).astype(np.int64)
    keys = lo * n + hi
    order = np.lexsort((np.arange(keys.size), graph.length_m, keys))
    first = np.ones(order.size, bool)
    first[1:] = keys[order][1:] != keys[order][:-1]
    best_key, best_edge = keys[order][first], order[first]
    at = np.minimum(np.searchsorted(best_key, want), max(best_key.size - 1, 0))
    found = best_key[at] == want if best_key.size else np.zeros(want.size, bool)
    edges = np.asarray(best_edge[at][found], dtype=np.int64)
    src_used = np.unique(col[row == root]).astype(np.int64)
    return edges, src_used
