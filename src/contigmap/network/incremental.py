"""Exact incremental shortest paths after edge changes (upgrades, new links, closures).

A scenario or a candidate project changes a handful of arcs of a graph with hundreds of
thousands of them. Recomputing every distance is wasteful: only the nodes whose shortest
path runs through a changed arc can change. This module keeps a baseline shortest-path
forest (distances and predecessors from one source, usually a super-source joined to
every target with its offset) and repairs it exactly.

Decreases (upgrades, new links, new nodes)
    Distances can only fall. Each changed arc ``a → b`` whose new weight gives
    ``D[a] + w' < D[b]`` seeds ``b``; a Dijkstra (binary heap) from those seeds relaxes
    only nodes whose distance strictly falls, and stops where no distance improves.
    This is the decrease-only half of the dynamic shortest-path algorithm of Ramalingam
    and Reps (1996, "An incremental algorithm for a generalization of the shortest-path
    problem", *J. Algorithms* 21(2)); its work is bounded by the arcs of the nodes that
    change (plus the heap), not by the graph.

Increases (closures, slower arcs)
    Only nodes whose baseline tree path uses an increased arc can change: the subtrees
    of the predecessor forest below the heads ``b`` of increased arcs ``a → b`` with
    ``pred[b] == a`` (every other node keeps its tree path, which is still at least as
    good, and no distance can fall). Their distances are recomputed exactly by one
    ``scipy.sparse.csgraph.dijkstra`` on the affected subgraph, seeded from its boundary
    (a super-source with an arc to each affected node weighted by the best
    ``D[u] + w(u, v)`` over unaffected in-neighbours ``u``); when the affected set is
    larger than ``full_fraction`` of the graph, a full recompute is cheaper.

Mixed change sets run the increases first (on the graph with only the increases applied)
and then the decreases (on the final graph), so each phase is one of the cases above.

Exactness: both phases compute the same floating-point fixed point as a full Dijkstra
(``D[v] = min_u fl(D[u] + w(u, v))``, arcs added in the same order), so the repaired
distances equal a full recompute bit for bit (the tests check it on random graphs).

The access model that turns road upgrades and closures into these arc changes, and
proves most of them irrelevant before any work, is
:class:`contigmap.network.access_model.AccessModel`.
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from contigmap.errors import NetworkError
from contigmap.network._csr import csr_from_arrays

__all__ = [
    "ArcChanges",
    "DistanceUpdate",
    "ShortestPaths",
    "arc_weights",
    "patch_csr",
    "propagate_decreases",
    "shortest_paths",
    "update_distances",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArcChanges:
    """New weights for directed arcs (``inf`` removes an arc), and new nodes.

    Attributes
    ----------
    tail, head
        Arc ends (node indices; new nodes are numbered from the graph's size on).
    weight
        The arc's new weight (replaces the old one; ``inf``: the arc is removed).
    n_new_nodes
        Nodes added beyond the graph's size.
    """

    tail: NDArray[np.int64]
    head: NDArray[np.int64]
    weight: NDArray[np.float64]
    n_new_nodes: int = 0

    @classmethod
    def of(
        cls, tail: ArrayLike, head: ArrayLike, weight: ArrayLike, n_new_nodes: int = 0
    ) -> ArcChanges:
        """Build from array-likes; a repeated arc keeps its last weight."""
        t = np.asarray(tail, dtype=np.int64).ravel()
        h = np.asarray(head, dtype=np.int64).ravel()
        w = np.asarray(weight, dtype=float).ravel()
        if not (t.size == h.size == w.size):
            msg = "ArcChanges: tail, head and weight must have the same length"
            raise NetworkError(msg)
        if np.any(w < 0) or np.any(np.isnan(w)):
            msg = "ArcChanges: weights must be >= 0 (inf removes an arc)"
            raise NetworkError(msg)
        return cls(t, h, w, int(n_new_nodes))

    def __len__(self) -> int:
        return int(self.tail.size)

    def overlay(self) -> dict[int, dict[int, float]]:
        """Return ``{tail: {head: weight}}`` (the last weight of a repeated arc wins)."""
        out: dict[int, dict[int, float]] = {}
        for a, b, w in zip(self.tail.tolist(), self.head.tolist(), self.weight.tolist(),
                           strict=True):
            out.setdefault(a, {})[b] = w
        return out


@dataclass(eq=False)
class ShortestPaths:
    """Distances and predecessors from one source on a directed CSR graph.

    Attributes
    ----------
    csr
        The graph (``n × n``; ``inf`` weights are absent arcs).
    source
        The source node.
    dist
        Distance of every node (``inf``: unreachable).
    pred
        Predecessor on the shortest-path tree (``-1``: the source or unreachable).
    """

    csr: csr_matrix
    source: int
    dist: NDArray[np.float64]
    pred: NDArray[np.int64]
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.csr.shape[0])

    def transpose(self) -> csr_matrix:
        """Return the transposed graph (in-arcs per row), cached."""
        if "t" not in self.cache:
            self.cache["t"] = _transpose(self.csr)
        out: csr_matrix = self.cache["t"]
        return out

    def children(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Return the predecessor forest as ``(indptr, child)`` arrays (cached)."""
        if "children" not in self.cache:
            has = np.flatnonzero(self.pred >= 0)
            par = self.pred[has]
            order = np.argsort(par, kind="stable")
            indptr = np.zeros(self.n + 1, np.int64)
            np.cumsum(np.bincount(par, minlength=self.n), out=indptr[1:])
            self.cache["children"] = (indptr, has[order].astype(np.int64))
        out: tuple[NDArray[np.int64], NDArray[np.int64]] = self.cache["children"]
        return out

    def subtrees(self, roots: ArrayLike) -> NDArray[np.int64]:
        """Return every node in the predecessor subtrees of ``roots`` (roots included)."""
        indptr, child = self.children()
        frontier = np.unique(np.asarray(roots, dtype=np.int64))
        out = [frontier]
        while frontier.size:
            starts, ends = indptr[frontier], indptr[frontier + 1]
            counts = ends - starts
            total = int(counts.sum())
            if total == 0:
                break
            offs = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
            frontier = child[np.arange(total) + offs]
            out.append(frontier)
        return np.unique(np.concatenate(out))


def _transpose(csr: csr_matrix) -> csr_matrix:
    coo = csr.tocoo()
    return csr_from_arrays(coo.col.astype(np.int64), coo.row.astype(np.int64),
                           coo.data.astype(float), csr.shape[0])


def shortest_paths(csr: csr_matrix, source: int) -> ShortestPaths:
    """Run Dijkstra from ``source`` and keep what an exact update needs.

    Parameters
    ----------
    csr
        Directed graph with non-negative weights (explicit zeros are arcs of weight 0,
        as :func:`contigmap.network.build.csr_from_arrays` makes them).
    source
        Source node (a super-source carries several sources with their offsets).

    Returns
    -------
    ShortestPaths
        Distances and the predecessor forest.
    """
    dist, pred = dijkstra(csr, directed=True, indices=int(source), return_predecessors=True)
    pred = np.asarray(pred, dtype=np.int64)
    pred[pred < 0] = -1
    return ShortestPaths(csr=csr, source=int(source), dist=np.asarray(dist, dtype=float),
                         pred=pred)


def arc_weights(csr: csr_matrix, tail: ArrayLike, head: ArrayLike) -> NDArray[np.float64]:
    """Return the current weights of arcs ``tail → head`` (``inf``: absent / out of range)."""
    t = np.asarray(tail, dtype=np.int64).ravel()
    h = np.asarray(head, dtype=np.int64).ravel()
    out = np.full(t.size, np.inf)
    n = csr.shape[0]
    indptr, indices, data = csr.indptr, csr.indices, csr.data
    for i in range(t.size):
        a, b = int(t[i]), int(h[i])
        if a >= n or b >= n:
            continue
        lo, hi = int(indptr[a]), int(indptr[a + 1])
        j = lo + int(np.searchsorted(indices[lo:hi], b))
        if j < hi and int(indices[j]) == b:
            out[i] = float(data[j])
    return out


def patch_csr(csr: csr_matrix, changes: ArcChanges) -> csr_matrix:
    """Return a new CSR graph with ``changes`` applied (the full-recompute reference)."""
    n_total = csr.shape[0] + changes.n_new_nodes
    coo = csr.tocoo()
    rows = coo.row.astype(np.int64)
    cols = coo.col.astype(np.int64)
    w = coo.data.astype(float)
    if len(changes):
        key = rows * n_total + cols
        ckey = changes.tail * n_total + changes.head
        keep = ~np.isin(key, ckey)
        # the last weight of a repeated arc wins
        _, last = np.unique(ckey[::-1], return_index=True)
        sel = changes.tail.size - 1 - last
        rows = np.concatenate([rows[keep], changes.tail[sel]])
        cols = np.concatenate([cols[keep], changes.head[sel]])
        w = np.concatenate([w[keep], changes.weight[sel]])
    return csr_from_arrays(rows, cols, w, n_total)


@dataclass
class DistanceUpdate:
    """Distances after a change: the baseline plus the nodes whose distance changed.

    Attributes
    ----------
    base
        The baseline.
    nodes
        Nodes whose distance changed (new nodes included), sorted.
    values
        Their new distances.
    n_total
        Node count after the change.
    full
        Whether a full recompute was used.
    """

    base: ShortestPaths
    nodes: NDArray[np.int64]
    values: NDArray[np.float64]
    n_total: int
    full: bool = False

    def dist(self) -> NDArray[np.float64]:
        """Return the full distance array after the change."""
        out = np.full(self.n_total, np.inf)
        out[: self.base.n] = self.base.dist
        out[self.nodes] = self.values
        return out

    def at(self, nodes: ArrayLike) -> NDArray[np.float64]:
        """Return the distances of ``nodes`` after the change."""
        q = np.asarray(nodes, dtype=np.int64)
        out = np.where(q < self.base.n, self.base.dist[np.minimum(q, self.base.n - 1)], np.inf)
        if self.nodes.size:
            pos = np.searchsorted(self.nodes, q)
            pos = np.minimum(pos, self.nodes.size - 1)
            hit = self.nodes[pos] == q
            out = np.where(hit, self.values[pos], out)
        return np.asarray(out, dtype=float)


def _split(sp: ShortestPaths, changes: ArcChanges) -> tuple[ArcChanges, ArcChanges]:
    """Split changes into weight increases (incl. removals) and decreases (incl. new arcs)."""
    # the last weight of a repeated arc wins
    n_total = sp.n + changes.n_new_nodes
    ckey = changes.tail * n_total + changes.head
    _, last = np.unique(ckey[::-1], return_index=True)
    sel = np.sort(changes.tail.size - 1 - last)
    t, h, w = changes.tail[sel], changes.head[sel], changes.weight[sel]
    old = arc_weights(sp.csr, t, h)
    inc = w > old
    dec = w < old
    return (ArcChanges(t[inc], h[inc], w[inc], 0),
            ArcChanges(t[dec], h[dec], w[dec], changes.n_new_nodes))


def update_distances(
    sp: ShortestPaths, changes: ArcChanges, *, full_fraction: float = 0.25
) -> DistanceUpdate:
    """Distances after ``changes``, repaired exactly from the baseline ``sp``.

    Parameters
    ----------
    sp
        The baseline (:func:`shortest_paths`).
    changes
        Arcs with new weights (upgrades, closures) and new arcs / nodes (new links).
    full_fraction
        Increases touching more than this share of the nodes are recomputed in full.

    Returns
    -------
    DistanceUpdate
        The changed nodes and their new distances.
    """
    inc, dec = _split(sp, changes)
    new: dict[int, float] = {}
    full = False
    if len(inc):
        nodes, values, full = _increase(sp, inc, full_fraction, changes)
        if full:
            return DistanceUpdate(sp, nodes, values, sp.n + changes.n_new_nodes, True)
        new = dict(zip(nodes.tolist(), values.tolist(), strict=True))
    overlay = ArcChanges(
        np.concatenate([inc.tail, dec.tail]), np.concatenate([inc.head, dec.head]),
        np.concatenate([inc.weight, dec.weight]),
    ).overlay()
    if len(dec):
        propagate_decreases(sp, dec, overlay, new)
    if new:
        keys = np.fromiter(new.keys(), np.int64, len(new))
        vals = np.fromiter(new.values(), float, len(new))
        order = np.argsort(keys)
        keys, vals = keys[order], vals[order]
        base = np.where(keys < sp.n, sp.dist[np.minimum(keys, sp.n - 1)], np.inf)
        diff = (vals != base)
        keys, vals = keys[diff], vals[diff]
    else:
        keys, vals = np.zeros(0, np.int64), np.zeros(0)
    return DistanceUpdate(sp, keys, vals, sp.n + changes.n_new_nodes, full)


def propagate_decreases(
    sp: ShortestPaths, dec: ArcChanges, overlay: dict[int, dict[int, float]],
    new: dict[int, float], stop: float = np.inf,
) -> None:
    """Decrease-only propagation (in place on ``new``), binary heap over the CSR arrays.

    With a finite ``stop`` the propagation ends once the smallest tentative distance
    reaches it: every distance below ``stop`` is then final and exact, and every node
    left with a larger tentative value has a true distance of at least ``stop`` (the
    caller needs no more).

    Rows of the CSR graph are turned into Python lists the first time they are
    scanned and kept in ``sp.cache`` (candidates evaluated on one baseline touch the
    same neighbourhoods again and again).
    """
    n = sp.n
    cache = sp.cache
    item = sp.dist.item
    adj: dict[int, tuple[list[int], list[float]]] = cache.setdefault("adj", {})
    indptr = sp.csr.indptr
    indices = sp.csr.indices
    data = sp.csr.data
    inf = float("inf")
    get = new.get
    push = heapq.heappush
    pop = heapq.heappop

    def cur(x: int) -> float:
        got = get(x)
        if got is not None:
            return got
        return item(x) if x < n else inf

    heap: list[tuple[float, int]] = []
    for a, b, w in zip(dec.tail.tolist(), dec.head.tolist(), dec.weight.tolist(), strict=True):
        da = cur(a)
        if da == inf:
            continue
        cand = da + w
        if cand < cur(b):
            new[b] = cand
            push(heap, (cand, b))
    while heap:
        if heap[0][0] >= stop:
            break
        d, x = pop(heap)
        if d > new[x]:  # stale entry (every pushed node has a value in ``new``)
            continue
        ov = overlay.get(x)
        if x < n:
            row = adj.get(x)
            if row is None:
                lo, hi = int(indptr[x]), int(indptr[x + 1])
                row = (indices[lo:hi].tolist(), data[lo:hi].tolist())
                adj[x] = row
            heads, ws = row
            if ov is not None:
                ws = [ov.get(h, w) for h, w in zip(heads, ws, strict=True)]
                have = set(heads)
                extra = [(h, w) for h, w in ov.items() if h not in have]
                heads = heads + [h for h, _ in extra]
                ws = ws + [w for _, w in extra]
        elif ov is not None:
            heads, ws = list(ov.keys()), list(ov.values())
        else:
            continue
        for h, w in zip(heads, ws, strict=True):
            cand = d + w
            got = get(h)
            if got is None:
                got = item(h) if h < n else inf
            if cand < got:
                new[h] = cand
                push(heap, (cand, h))


def _increase(
    sp: ShortestPaths, inc: ArcChanges, full_fraction: float, changes: ArcChanges
) -> tuple[NDArray[np.int64], NDArray[np.float64], bool]:
    """Recompute the subtrees below increased tree arcs; returns (nodes, dist, full)."""
    on_tree = sp.pred[inc.head] == inc.tail
    roots = inc.head[on_tree]
    if roots.size == 0:
        return np.zeros(0, np.int64), np.zeros(0), False
    aff = sp.subtrees(roots)
    if aff.size > full_fraction * sp.n:
        dist = dijkstra(patch_csr(sp.csr, changes), directed=True, indices=sp.source)
        dist = np.asarray(dist, dtype=float)
        base = np.concatenate([sp.dist, np.full(changes.n_new_nodes, np.inf)])
        nodes = np.flatnonzero(dist != base).astype(np.int64)
        return nodes, dist[nodes], True
    n = sp.n
    k = aff.size
    local = np.full(n, -1, np.int64)
    local[aff] = np.arange(k)
    n_total = n + changes.n_new_nodes
    inc_key = inc.tail * n_total + inc.head

    def gather(m: csr_matrix, rows: NDArray[np.int64]) -> tuple[NDArray[np.int64],
                                                                 NDArray[np.int64],
                                                                 NDArray[np.float64]]:
        starts, ends = m.indptr[rows].astype(np.int64), m.indptr[rows + 1].astype(np.int64)
        counts = ends - starts
        total = int(counts.sum())
        offs = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        pos = np.arange(total) + offs
        return np.repeat(rows, counts), m.indices[pos].astype(np.int64), m.data[pos]

    # arcs inside the affected set, with the increased weights
    t, h, w = gather(sp.csr, aff)
    w = w.astype(float)
    hit = np.isin(t * n_total + h, inc_key)
    if hit.any():
        w[hit] = np.inf
    inner = (local[h] >= 0) & np.isfinite(w)
    sub_t = local[t[inner]]
    sub_h = local[h[inner]]
    sub_w = w[inner]
    ins = np.isin(inc.tail, aff) & np.isin(inc.head, aff) & np.isfinite(inc.weight)
    # seeds: best boundary arc into each affected node
    th, tt, tw = gather(sp.transpose(), aff)  # th: head (affected), tt: tail
    tw = tw.astype(float)
    hit = np.isin(tt * n_total + th, inc_key)
    if hit.any():
        tw[hit] = np.inf
    outside = local[tt] < 0
    seed_h = th[outside]
    seed_d = sp.dist[tt[outside]] + tw[outside]
    bnd = ~np.isin(inc.tail, aff) & np.isin(inc.head, aff) & np.isfinite(inc.weight)
    seed_h = np.concatenate([seed_h, inc.head[bnd]])
    seed_d = np.concatenate([seed_d, sp.dist[inc.tail[bnd]] + inc.weight[bnd]])
    ok = np.isfinite(seed_d)
    rows = np.concatenate([sub_t, local[inc.tail[ins]], np.full(int(ok.sum()), k, np.int64)])
    cols = np.concatenate([sub_h, local[inc.head[ins]], local[seed_h[ok]]])
    ws = np.concatenate([sub_w, inc.weight[ins], seed_d[ok]])
    sub = csr_from_arrays(rows, cols, ws, k + 1)
    d = np.asarray(dijkstra(sub, directed=True, indices=k), dtype=float)[:k]
    return aff, d, False
