"""Exact graph contraction for fast multi-source shortest paths.

A road network holds many nodes no shortest path needs to *search*: dangling trees (dead-end
village roads and their branches) and chains of degree-2 nodes (a road split where its class or
surface changes). :func:`contract_graph` removes both, and more, exactly:

1. **Dangling trees.** Nodes of degree 1 that are not kept (no query starts there) are stripped
   iteratively (the 2-core of the graph, Seidman 1983, "Network structure and minimum degree",
   *Social Networks* 5). Every path into a stripped tree enters it through its *root*, the
   node it hangs from, so ``d(x) = d(root) + t(root → x)`` along the tree.
2. **Chains.** In what remains, maximal runs of degree-2 nodes that are not kept become one
   edge between the run's two end nodes with the summed times, per direction. A path reaches a
   chain node only through one of the two ends, so
   ``d(x) = min(d(a) + t(a → x), d(b) + t(b → x))``.
3. **Nodes of degree ≤ 3.** An independent set of them (no two adjacent) goes, each pair
   of its edges ``y - x - z`` replaced by a shortcut ``y - z`` (node contraction); no other
   distance changes and ``d(x) = min_y d(y) + t(y → x)``. Repeated for ``eliminate`` rounds.

These are the cheap first steps of node contraction, the basis of most speed-up techniques
for road networks (Geisberger, Sanders, Schultes and Delling 2008, "Contraction
hierarchies: faster and simpler hierarchical routing in road networks", WEA, LNCS 5038;
survey: Bast et al. 2016, "Route planning in transportation networks", LNCS 9220).
Times are directed, so each edge carries a weight per direction: walking uphill and
downhill differ. The offsets ``t(root → x)`` are summed down the stripped trees round by
round (parents first), ``t(a → x)`` and ``t(b → x)`` by walking
every chain from both of its ends, all vectorised over trees and chains.

Nodes that start queries must be kept (``keep``): they stay core nodes, so a source inside a
chain splits it and a source on a dead end stops the stripping there.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from contigmap.network._csr import csr_from_arrays, morton_order, sort_keys

__all__ = ["Core", "contract_graph", "directed_pairs"]

logger = logging.getLogger(__name__)

_NO_SOURCE = -9999  # scipy's marker for "no source" in dijkstra(..., min_only=True)


@dataclass(frozen=True, eq=False)
class Core:
    """A contracted graph and how to recover every removed node's distance from it.

    Attributes
    ----------
    n_nodes
        Nodes of the full graph.
    matrix
        The core graph (CSR, same weights and direction as the input).
    core_nodes
        Full-graph id of each core node (core ids are positions in this array).
    core_of
        Core id of each full-graph node, ``-1`` for removed nodes.
    chain_nodes, chain_a, chain_b, chain_off_a, chain_off_b
        Removed chain nodes, the full ids of their chain's two end nodes, and the time
        from each end to the node.
    tree_nodes, tree_root, tree_off
        Removed tree nodes, the full id of their root, and the time from the root.
    elim_nodes, elim_nbr, elim_w
        Eliminated nodes, their (up to three; padded with the node itself) neighbours and
        the time from each neighbour (``inf`` for padding); ``elim_bounds`` splits them
        into rounds, filled in that order.
    seconds
        Time taken to contract.
    """

    n_nodes: int
    matrix: csr_matrix
    core_nodes: NDArray[np.int64]
    core_of: NDArray[np.int64]
    chain_nodes: NDArray[np.int64]
    chain_a: NDArray[np.int64]
    chain_b: NDArray[np.int64]
    chain_off_a: NDArray[np.float64]
    chain_off_b: NDArray[np.float64]
    tree_nodes: NDArray[np.int64]
    tree_root: NDArray[np.int64]
    tree_off: NDArray[np.float64]
    elim_nodes: NDArray[np.int64]
    elim_nbr: NDArray[np.int64]
    elim_w: NDArray[np.float64]
    elim_bounds: list[int]
    seconds: float

    @property
    def n_core(self) -> int:
        """Number of core nodes."""
        return int(self.core_nodes.size)

    def to_core(self, nodes: ArrayLike) -> NDArray[np.int64]:
        """Core ids of full-graph ``nodes``; raises ``ValueError`` for a removed node."""
        ids = self.core_of[np.asarray(nodes, dtype=np.int64)]
        if ids.size and int(ids.min()) < 0:
            msg = "a query node was contracted away; pass it in contract_graph(..., keep=)"
            raise ValueError(msg)
        return np.asarray(ids, dtype=np.int64)

    def expand(
        self,
        dist_core: NDArray[np.float64],
        sources_core: NDArray[np.int64] | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.int64] | None]:
        """Distances (and sources) of all full-graph nodes from a core result.

        Parameters
        ----------
        dist_core
            ``(n_core,)`` distances from Dijkstra on :attr:`matrix`.
        sources_core
            Optional core id of each core node's source (``-9999``: none), as returned by
            ``dijkstra(..., min_only=True, return_predecessors=True)``.

        Returns
        -------
        dist, sources
            ``(n_nodes,)`` arrays; sources as full-graph ids (``-9999``: none), or ``None``.
        """
        d = np.full(self.n_nodes, np.inf)
        d[self.core_nodes] = dist_core
        best = np.zeros(self.elim_nodes.size, np.int64)
        for lo, hi in itertools.pairwise(self.elim_bounds):
            via = d[self.elim_nbr[lo:hi]] + self.elim_w[lo:hi]
            best[lo:hi] = np.argmin(via, axis=1)
            d[self.elim_nodes[lo:hi]] = via[np.arange(hi - lo), best[lo:hi]]
        da = d[self.chain_a] + self.chain_off_a
        db = d[self.chain_b] + self.chain_off_b
        d[self.chain_nodes] = np.minimum(da, db)
        d[self.tree_nodes] = d[self.tree_root] + self.tree_off
        if sources_core is None:
            return d, None
        s = np.full(self.n_nodes, _NO_SOURCE, np.int64)
        sc = np.asarray(sources_core, dtype=np.int64)
        s[self.core_nodes] = np.where(sc >= 0, self.core_nodes[np.maximum(sc, 0)], _NO_SOURCE)
        for lo, hi in itertools.pairwise(self.elim_bounds):
            s[self.elim_nodes[lo:hi]] = s[self.elim_nbr[np.arange(lo, hi), best[lo:hi]]]
        s[self.chain_nodes] = np.where(da <= db, s[self.chain_a], s[self.chain_b])
        s[self.tree_nodes] = s[self.tree_root]
        s[~np.isfinite(d)] = _NO_SOURCE
        return d, s


def _edge_id_sums(n: int, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.float64]:
    """Return the sum of incident edge ids per node (float64: exact below 2**53)."""
    eid = np.arange(a.size, dtype=float)
    out = np.bincount(a, weights=eid, minlength=n) + np.bincount(b, weights=eid, minlength=n)
    return np.asarray(out, dtype=np.float64)


def _strip_trees(
    n: int, a: NDArray[np.int64], b: NDArray[np.int64], keep: NDArray[np.bool_]
) -> tuple[
    NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], list[int], NDArray[np.int64]
]:
    """Strip unkept degree-1 nodes iteratively, one layer per round.

    Returns the stripped nodes in stripping order, each one's ``parent`` and removed
    ``edge`` (aligned with it), where each round starts in that order (and the total), and
    the degree of every node in what remains. A leaf's only
    live edge is the sum of its live edge ids.
    """
    deg = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    xr = _edge_id_sums(n, a, b)
    stripped = np.zeros(n, bool)
    in_round = np.zeros(n, bool)
    out_node: list[NDArray[np.int64]] = []
    out_parent: list[NDArray[np.int64]] = []
    out_edge: list[NDArray[np.int64]] = []
    leaves = np.flatnonzero((deg == 1) & ~keep)
    while leaves.size:
        e = xr[leaves].astype(np.int64)
        other = a[e] + b[e] - leaves
        # two leaves sharing their edge (a lone edge): remove the larger, keep the smaller
        in_round[leaves] = True
        sel = ~(in_round[other] & (other > leaves))
        in_round[leaves] = False
        rm, e, other = leaves[sel], e[sel], other[sel]
        stripped[rm] = True
        deg[rm] = 0
        out_node.append(rm)
        out_parent.append(other)
        out_edge.append(e)
        np.subtract.at(deg, other, 1)
        np.subtract.at(xr, other, e)
        cand = np.unique(other)
        leaves = cand[(deg[cand] == 1) & ~keep[cand] & ~stripped[cand]]
    if not out_node:
        z = np.zeros(0, np.int64)
        return z, z, z, [0], deg
    rounds = [0, *np.cumsum([r.size for r in out_node]).tolist()]
    return (np.concatenate(out_node), np.concatenate(out_parent), np.concatenate(out_edge),
            rounds, deg)


def _walk_chains(
    interior: NDArray[np.bool_],
    ca: NDArray[np.int64],
    cb: NDArray[np.int64],
    w_ab: NDArray[np.float64],
    w_ba: NDArray[np.float64],
) -> dict[str, NDArray[Any]]:
    """Walk every chain of interior (degree-2) nodes from both of its ends.

    A walk starts on each boundary edge (one interior end) and follows the chain: the next
    edge of an interior node is the sum of its two edge ids less the edge it came by. The
    walk from the boundary edge with the smaller id is the chain's ``a`` side.
    Interior nodes no walk reaches lie on cycles of degree-2 nodes (``unvisited``).
    """
    n = interior.size
    xr = _edge_id_sums(n, ca, cb)
    bnd = np.flatnonzero(interior[ca] ^ interior[cb])
    start = np.where(interior[ca[bnd]], cb[bnd], ca[bnd])  # the core end
    node = ca[bnd] + cb[bnd] - start
    edge = bnd.copy()
    cum = np.where(ca[bnd] == start, w_ab[bnd], w_ba[bnd])
    walk = np.arange(bnd.size)
    end_node = np.empty(bnd.size, np.int64)
    end_edge = np.empty(bnd.size, np.int64)
    total = np.empty(bnd.size)
    rec_walk, rec_node, rec_cum = [walk], [node], [cum]
    while walk.size:
        nxt_edge = xr[node].astype(np.int64) - edge
        nxt = ca[nxt_edge] + cb[nxt_edge] - node
        cum = cum + np.where(ca[nxt_edge] == node, w_ab[nxt_edge], w_ba[nxt_edge])
        done = ~interior[nxt]
        end_node[walk[done]] = nxt[done]
        end_edge[walk[done]] = nxt_edge[done]
        total[walk[done]] = cum[done]
        go = ~done
        walk, node, edge, cum = walk[go], nxt[go], nxt_edge[go], cum[go]
        rec_walk.append(walk)
        rec_node.append(node)
        rec_cum.append(cum)
    visited = np.zeros(n, bool)
    rw = np.concatenate(rec_walk)
    rn = np.concatenate(rec_node)
    visited[rn] = True
    return {
        "bnd": bnd, "start": start, "end_node": end_node, "end_edge": end_edge,
        "total": total, "rec_walk": rw, "rec_node": rn, "rec_cum": np.concatenate(rec_cum),
        "unvisited": np.flatnonzero(interior & ~visited),
    }


def _tree_offsets(
    n: int, tree_nodes: NDArray[np.int64], tparent: NDArray[np.int64],
    tedge: NDArray[np.int64], rounds: list[int], ea: NDArray[np.int64],
    wab: NDArray[np.float64], wba: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Root and offset from the root of every node of the dangling trees."""
    down = np.where(ea[tedge] == tparent, wab[tedge], wba[tedge])  # parent -> node
    root = np.arange(n)
    tree_off_all = np.zeros(n)
    # a stripped node's parent is stripped in a later round (or never): later rounds first
    # settle every parent before its children
    for k in range(len(rounds) - 1, 0, -1):
        blk = slice(rounds[k - 1], rounds[k])
        x, p = tree_nodes[blk], tparent[blk]
        root[x] = root[p]
        tree_off_all[x] = tree_off_all[p] + down[blk]
    return np.asarray(root[tree_nodes], dtype=np.int64), tree_off_all[tree_nodes]


_Arcs = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]


def _eliminate_rounds(
    n: int, is_core: NDArray[np.bool_], keep_m: NDArray[np.bool_], arcs: _Arcs, rounds: int,
) -> tuple[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], list[int]], _Arcs]:
    """Eliminate ``rounds`` independent sets of low-degree core nodes (``is_core`` in place).

    Returns the eliminated nodes, their neighbours and weights, the round bounds, and the
    edges ``(a, b, w_ab, w_ba)`` left between core nodes (with shortcuts).
    """
    pa, pb, pw_ab, pw_ba = arcs
    elim_nodes = np.zeros(0, np.int64)
    elim_nbr = np.zeros((0, 3), np.int64)
    elim_w = np.zeros((0, 3))
    elim_bounds = [0]
    blocks: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]] = []
    for _ in range(int(rounds)):
        en, enb, ew, pa, pb, pw_ab, pw_ba = _eliminate(
            n, is_core & ~keep_m, pa, pb, pw_ab, pw_ba
        )
        is_core[en] = False
        blocks.insert(0, (en, enb, ew))  # later rounds are filled in first
    if blocks:
        elim_nodes = np.concatenate([blk[0] for blk in blocks])
        elim_nbr = np.concatenate([blk[1] for blk in blocks])
        elim_w = np.concatenate([blk[2] for blk in blocks])
        elim_bounds = [0, *np.cumsum([blk[0].size for blk in blocks]).tolist()]

    return (elim_nodes, elim_nbr, elim_w, elim_bounds), (pa, pb, pw_ab, pw_ba)


def contract_graph(
    n_nodes: int,
    a: ArrayLike,
    b: ArrayLike,
    w_ab: ArrayLike,
    w_ba: ArrayLike,
    *,
    keep: ArrayLike | None = None,
    node_xy: NDArray[np.float64] | None = None,
    eliminate: int = 2,
) -> Core:
    """Contract dangling trees and degree-2 chains of a directed graph, exactly.

    Length: the four numbered steps of one algorithm (trees, chains, elimination,
    core), read top to bottom; the steps with a job of their own are functions here.

    Parameters
    ----------
    n_nodes
        Number of nodes.
    a, b
        End nodes of each (undirected) edge; parallel edges are allowed.
    w_ab, w_ba
        Weight from ``a`` to ``b`` and from ``b`` to ``a`` (``inf``: no such direction).
    keep
        Node ids (or a boolean mask) that must stay core nodes: every node a query may
        start from.
    node_xy
        Optional ``(n_nodes, 2)`` coordinates: core nodes are then numbered along a Morton
        curve (else in id order).
    eliminate
        Rounds of removing an independent set of nodes with at most three edges, joining
        their neighbours by shortcuts (node contraction, Geisberger et al. 2008): a
        smaller core for a little more contraction time.

    Returns
    -------
    Core
        The core graph and the data to expand its distances to every node.
    """
    t0 = time.perf_counter()
    n = int(n_nodes)
    ea = np.asarray(a, dtype=np.int64)
    eb = np.asarray(b, dtype=np.int64)
    wab = np.asarray(w_ab, dtype=float)
    wba = np.asarray(w_ba, dtype=float)
    ok = (ea != eb) & (np.isfinite(wab) | np.isfinite(wba))  # loops never shorten a path
    ea, eb, wab, wba = ea[ok], eb[ok], wab[ok], wba[ok]
    keep_m = np.zeros(n, bool)
    if keep is not None:
        keep_m[np.asarray(keep)] = True

    # 1. dangling trees: offsets from the root, parents before children (reverse strip order)
    tree_nodes, tparent, tedge, rounds, deg = _strip_trees(n, ea, eb, keep_m)
    stripped = np.zeros(n, bool)
    stripped[tree_nodes] = True
    tree_root, tree_off = _tree_offsets(n, tree_nodes, tparent, tedge, rounds, ea, wab, wba)

    # 2. chains of degree-2 nodes among what remains
    live = ~(stripped[ea] | stripped[eb])
    ca, cb, cwab, cwba = ea[live], eb[live], wab[live], wba[live]
    interior = ~stripped & (deg == 2) & ~keep_m
    walks = _walk_chains(interior, ca, cb, cwab, cwba)
    if walks["unvisited"].size:
        # cycles of degree-2 nodes: the smallest node of each becomes a core node
        un = walks["unvisited"]
        both = interior[ca] & interior[cb]
        g = csr_matrix((np.ones(int(both.sum())), (ca[both], cb[both])), shape=(n, n))
        _, comp = connected_components(g, directed=False)
        first = np.full(n, n, np.int64)
        np.minimum.at(first, comp[un], un)
        interior[first[np.unique(comp[un])]] = False
        walks = _walk_chains(interior, ca, cb, cwab, cwba)
    bnd, end_edge = walks["bnd"], walks["end_edge"]
    is_a = bnd < end_edge  # each chain is walked from both ends; the smaller edge is side a
    rec_walk, rec_node, rec_cum = walks["rec_walk"], walks["rec_node"], walks["rec_cum"]
    chain_nodes = np.flatnonzero(interior)
    nint = int(chain_nodes.size)
    cpos = np.full(n, -1, np.int64)
    cpos[chain_nodes] = np.arange(nint)
    off_a = np.empty(nint)
    off_b = np.empty(nint)
    a_walk = np.full(nint, -1, np.int64)
    on_a = is_a[rec_walk]
    off_a[cpos[rec_node[on_a]]] = rec_cum[on_a]
    a_walk[cpos[rec_node[on_a]]] = rec_walk[on_a]
    off_b[cpos[rec_node[~on_a]]] = rec_cum[~on_a]
    chain_a = walks["start"][a_walk]
    chain_b = walks["end_node"][a_walk]
    # super edges: a -> b from the a walk, b -> a from the b walk starting on its end edge
    walk_of_edge = np.full(ca.size, -1, np.int64)
    walk_of_edge[bnd] = np.arange(bnd.size)
    wa = np.flatnonzero(is_a)
    wb = walk_of_edge[end_edge[wa]]
    end_a, end_b = walks["start"][wa], walks["end_node"][wa]
    sup_ab, sup_ba = walks["total"][wa], walks["total"][wb]
    n_comp = int(wa.size)

    # 3. eliminate an independent set of nodes of degree <= 3 (with shortcuts)
    is_core = ~stripped & ~interior
    plain = ~(interior[ca] | interior[cb])
    sup = end_a != end_b
    pa = np.concatenate([ca[plain], end_a[sup]])
    pb = np.concatenate([cb[plain], end_b[sup]])
    pw_ab = np.concatenate([cwab[plain], sup_ab[sup]])
    pw_ba = np.concatenate([cwba[plain], sup_ba[sup]])
    (elim_nodes, elim_nbr, elim_w, elim_bounds), (pa, pb, pw_ab, pw_ba) = _eliminate_rounds(
        n, is_core, keep_m, (pa, pb, pw_ab, pw_ba), eliminate)

    # 4. the core, numbered along a Morton curve (or in id order)
    core_nodes = np.flatnonzero(is_core)
    if node_xy is not None and core_nodes.size:
        core_nodes = core_nodes[morton_order(np.asarray(node_xy)[core_nodes])]
    core_of = np.full(n, -1, np.int64)
    core_of[core_nodes] = np.arange(core_nodes.size)
    ra, rb = core_of[pa], core_of[pb]
    matrix = csr_from_arrays(np.concatenate([ra, rb]), np.concatenate([rb, ra]),
                             np.concatenate([pw_ab, pw_ba]), core_nodes.size)
    seconds = time.perf_counter() - t0
    logger.info(
        "contracted %d nodes / %d edges to a core of %d nodes / %d directed edges "
        "(%d in dangling trees, %d in %d chains, %d eliminated) in %.2f s",
        n, ea.size, core_nodes.size, matrix.nnz, tree_nodes.size, nint, n_comp,
        elim_nodes.size, seconds,
    )
    return Core(
        n_nodes=n,
        matrix=matrix,
        core_nodes=core_nodes,
        core_of=core_of,
        chain_nodes=chain_nodes,
        chain_a=chain_a,
        chain_b=chain_b,
        chain_off_a=off_a,
        chain_off_b=off_b,
        tree_nodes=tree_nodes,
        tree_root=tree_root,
        tree_off=tree_off,
        elim_nodes=elim_nodes,
        elim_nbr=elim_nbr,
        elim_w=elim_w,
        elim_bounds=elim_bounds,
        seconds=seconds,
    )


def _eliminate(
    n: int,
    cand: NDArray[np.bool_],
    a: NDArray[np.int64],
    b: NDArray[np.int64],
    w_ab: NDArray[np.float64],
    w_ba: NDArray[np.float64],
) -> tuple[
    NDArray[np.int64], NDArray[np.int64], NDArray[np.float64],
    NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64],
]:
    """Remove an independent set of candidate nodes with at most three edges.

    A node ``x`` goes when no candidate neighbour has a smaller id; every two of its edges
    ``y - x - z`` become a shortcut ``y - z`` with the summed times per direction, so no
    remaining distance changes, and ``d(x) = min_y d(y) + t(y -> x)``.
    """
    deg = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    cand = cand & (deg <= 3)
    blocked = np.zeros(n, bool)
    both = cand[a] & cand[b]
    blocked[np.maximum(a[both], b[both])] = True  # the larger id of two adjacent candidates
    sel = cand & ~blocked
    x_side_a = sel[a]
    inc = np.flatnonzero(x_side_a | sel[b])
    # incidences (x, neighbour y, t(y -> x), t(x -> y)), grouped by x
    ia = x_side_a[inc]
    x = np.where(ia, a[inc], b[inc])
    y = np.where(ia, b[inc], a[inc])
    t_in = np.where(ia, w_ba[inc], w_ab[inc])
    t_out = np.where(ia, w_ab[inc], w_ba[inc])
    order, x = sort_keys(x)
    y, t_in, t_out = y[order], t_in[order], t_out[order]
    first = np.ones(x.size, bool)
    first[1:] = x[1:] != x[:-1]  # x is sorted
    start = np.flatnonzero(first)
    elim_nodes = x[start]
    count = np.diff(np.append(start, x.size))
    k = elim_nodes.size
    nbr = np.repeat(elim_nodes[:, None], 3, axis=1)
    wi = np.full((k, 3), np.inf)
    wo = np.full((k, 3), np.inf)
    for j in range(3):
        has = count > j
        nbr[has, j] = y[start[has] + j]
        wi[has, j] = t_in[start[has] + j]
        wo[has, j] = t_out[start[has] + j]
    sa, sb, sab, sba = [], [], [], []
    for i, j in ((0, 1), (0, 2), (1, 2)):
        ok = (count > j) & (nbr[:, i] != nbr[:, j])
        sa.append(nbr[ok, i])
        sb.append(nbr[ok, j])
        sab.append(wi[ok, i] + wo[ok, j])  # y_i -> x -> y_j
        sba.append(wi[ok, j] + wo[ok, i])
    keep_e = np.ones(a.size, bool)
    keep_e[inc] = False
    return (
        elim_nodes, nbr, wi,
        np.concatenate([a[keep_e], *sa]), np.concatenate([b[keep_e], *sb]),
        np.concatenate([w_ab[keep_e], *sab]), np.concatenate([w_ba[keep_e], *sba]),
    )


def directed_pairs(
    n_nodes: int, rows: ArrayLike, cols: ArrayLike, w: ArrayLike
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Turn directed edges into undirected pairs with a weight per direction.

    Parallel directed edges keep their smallest weight; a direction without an edge gets
    ``inf``. The result is what :func:`contract_graph` takes.

    Returns
    -------
    a, b, w_ab, w_ba
        ``a < b`` for every pair.
    """
    r = np.asarray(rows, dtype=np.int64)
    c = np.asarray(cols, dtype=np.int64)
    wt = np.asarray(w, dtype=float)
    ok = (r != c) & np.isfinite(wt)
    if not ok.all():
        r, c, wt = r[ok], c[ok], wt[ok]
    n = np.int64(max(int(n_nodes), 1))
    fwd = r < c
    key_f, w_f = _min_by_key(r[fwd] * n + c[fwd], wt[fwd])  # lo -> hi
    bwd = ~fwd
    key_b, w_b = _min_by_key(c[bwd] * n + r[bwd], wt[bwd])  # hi -> lo, keyed (lo, hi)
    # match each hi -> lo edge with its lo -> hi twin (both key lists are sorted)
    pos = np.minimum(np.searchsorted(key_f, key_b), max(key_f.size - 1, 0))
    twin = (key_f[pos] == key_b) if key_f.size else np.zeros(key_b.size, bool)
    w_ab = np.concatenate([w_f, np.full(int((~twin).sum()), np.inf)])
    w_ba = np.full(w_ab.size, np.inf)
    w_ba[pos[twin]] = w_b[twin]
    w_ba[key_f.size:] = w_b[~twin]
    a, b = np.divmod(np.concatenate([key_f, key_b[~twin]]), n)
    return a, b, w_ab, w_ba


def _min_by_key(
    key: NDArray[np.int64], w: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Sorted distinct keys and the smallest weight of each (no sort if already sorted)."""
    if key.size > 1 and not bool(np.all(key[1:] >= key[:-1])):
        order, key = sort_keys(key)
        w = w[order]
    if key.size > 1:
        first = np.ones(key.size, bool)
        first[1:] = key[1:] != key[:-1]
        if not first.all():
            w = np.minimum.reduceat(w, np.flatnonzero(first))
            key = key[first]
    return key, w
