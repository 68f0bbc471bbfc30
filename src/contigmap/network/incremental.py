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

Skipping queries a project cannot reach (:class:`AccessModel`)
    An optimiser evaluates thousands of upgrades against one query per township seat,
    and each query only matters for its own villages. Per query and village
    selection, one multi-source Dijkstra on the transposed graph gives every node's
    slack ``m[b] = min_y (dist(b → y) − τ_y)`` toward the villages' edge ends ``y``
    (``τ_y``: the new distance below which a village's time would fall). A shorter
    path to ``y`` ends with an unchanged path after its last shortened arc ``a → b``,
    so the change cannot reach the selection when ``max(0, D[a] − S) + w'(a, b) + m[b]``
    stays above a rounding margin for every shortened arc (``S``: what the other
    shortened arcs can save at most). That test costs a few vector operations per
    candidate and proves most (candidate, query) pairs unchanged; the rest run the
    decrease propagation, which stops once its heap passes the largest ``τ_y``. This
    is goal-directed pruning in the spirit of A* lower bounds (Hart, Nilsson and
    Raphael 1968, "A formal basis for the heuristic determination of minimum cost
    paths", *IEEE Trans. SSC* 4(2)), with the bound taken from the baseline distances.
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
        _decrease(sp, dec, overlay, new)
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


def _decrease(
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


# --------------------------------------------------------------------------- access model

_KMH_TO_M_PER_MIN = 1000.0 / 60.0


@dataclass(frozen=True)
class EdgeChange:
    """Changed road edges for :class:`AccessModel`.

    Attributes
    ----------
    edges
        Edge indices of the road graph.
    road_class, surface
        New class / surface codes (into :data:`contigmap.schema.ROAD_CLASSES` /
        :data:`~contigmap.schema.SURFACES`) per edge; ``-1`` keeps the edge's own.
    closed
        Per edge: the edge fails (leaves the network for every mode).
    """

    edges: NDArray[np.int64]
    road_class: NDArray[np.int64]
    surface: NDArray[np.int64]
    closed: NDArray[np.bool_]

    @classmethod
    def upgrade(cls, edges: ArrayLike, road_class: int = -1, surface: int = -1) -> EdgeChange:
        """Give ``edges`` a new class and / or surface code."""
        e = np.unique(np.asarray(edges, dtype=np.int64).ravel())
        return cls(e, np.full(e.size, road_class, np.int64), np.full(e.size, surface, np.int64),
                   np.zeros(e.size, bool))

    @classmethod
    def close(cls, edges: ArrayLike) -> EdgeChange:
        """Close ``edges``."""
        e = np.unique(np.asarray(edges, dtype=np.int64).ravel())
        return cls(e, np.full(e.size, -1, np.int64), np.full(e.size, -1, np.int64),
                   np.ones(e.size, bool))


@dataclass(eq=False)
class AccessModel:
    """Travel times from villages to target sets on a road graph, updatable exactly.

    Each *query* is a set of target points (services); its distances are one Dijkstra
    from a super-source joined to the target points' edges (offset: the time along the
    edge and the target's walking leg) on the reversed road graph, so that
    ``dist[x]`` is the time from node ``x`` to the nearest target. A village's time is
    its walking leg plus the better of its two edge ends (time along its edge plus the
    end's distance), or the time along the edge when a target shares it — the same
    definition as :meth:`contigmap.network.Attachment.times_to_nearest`.

    Edge changes (:class:`EdgeChange`: new class / surface, or closure) become arc
    changes per query (the edge's two arcs, super-source arcs of targets on it) and are
    evaluated with :func:`update_distances`. A village on a *closed* edge keeps only the
    nearer of the edge's ends (the failure is taken to lie on the farther side).
    """

    graph: Any
    mode: str
    season: str
    fwd: NDArray[np.float64]
    bwd: NDArray[np.float64]
    v_edge: NDArray[np.int64]
    v_tin: NDArray[np.float64]
    v_cf: NDArray[np.float64]
    v_cb: NDArray[np.float64]
    t_edge: NDArray[np.int64]
    t_out: NDArray[np.float64]
    t_cf: NDArray[np.float64]
    t_cb: NDArray[np.float64]
    queries: dict[str, NDArray[np.int64]]
    sp: dict[str, ShortestPaths]
    road_class: NDArray[np.int64]
    surface: NDArray[np.int64]
    closed: NDArray[np.bool_]
    v_pos: list[tuple[int, float]] = field(default_factory=list)
    t_pos: list[tuple[int, float]] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    counts: dict[str, int] = field(default_factory=lambda: {"skipped": 0, "propagated": 0,
                                                            "general": 0}, repr=False)
    """Queries :meth:`evaluate` answered: proved unchanged (``skipped``), by the direct
    decrease propagation (``propagated``) or by :func:`update_distances` (``general``)."""

    @property
    def n(self) -> int:
        """Road-graph node count (the super-source is node ``n``)."""
        return int(self.graph.n_nodes)

    # ------------------------------------------------------------------ edge physics
    def _edge_drive(self, e: int, cls_code: int, srf_code: int) -> NDArray[np.float64]:
        """Per-segment dry drive minutes of edge ``e`` with a class / surface (nan: none)."""
        g = self.graph
        a, b = int(g.edge_start[e]), int(g.edge_end[e])
        if cls_code == g.road_class[e] and srf_code == g.surface[e]:
            return np.asarray(g.seg_drive_min[a:b], dtype=float)
        from contigmap.network.speeds import slope_factor

        d = g.seg_len_m[a:b]
        z = g.vertex_z[a : b + 1]
        dz = np.nan_to_num(z[1:] - z[:-1]) if z.size > 1 else np.zeros(0)
        grade = np.where(d > 0, dz / np.where(d > 0, d, 1.0), 0.0)
        speed = g.params.speed_table("dry")[cls_code, srf_code]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(d / (speed * slope_factor(grade, g.params) * _KMH_TO_M_PER_MIN),
                              dtype=float)

    def _edge_state(self, e: int, cls_code: int, srf_code: int, closed: bool) -> dict[str, Any]:
        """Season / mode times of edge ``e`` (totals and the per-segment cumulative sums)."""
        memo: dict[tuple[int, int, int, bool], dict[str, Any]] = self.cache.setdefault(
            "state", {})
        key = (e, cls_code, srf_code, closed)
        if key not in memo:
            memo[key] = self._edge_state_uncached(e, cls_code, srf_code, closed)
        return memo[key]

    def _edge_state_uncached(self, e: int, cls_code: int, srf_code: int,
                             closed: bool) -> dict[str, Any]:
        g = self.graph
        a, b = int(g.edge_start[e]), int(g.edge_end[e])
        seg_drive = np.nan_to_num(self._edge_drive(e, cls_code, srf_code), nan=0.0)
        drivable = np.isfinite(g.params.speed_table("dry")[cls_code, srf_code])
        drive_dry = float(seg_drive.sum()) if drivable else np.inf
        if cls_code == g.road_class[e] and srf_code == g.surface[e]:
            drive_dry = float(g.drive_dry_min[e])
        wf = np.asarray(g.seg_walk_fwd_min[a:b], dtype=float)
        wb = np.asarray(g.seg_walk_bwd_min[a:b], dtype=float)
        wrf = 1.0
        dscale = 1.0
        if self.season == "rainy":
            from contigmap.schema import SURFACES

            wrf = float(g.params.walk_rainy_factor[SURFACES[srf_code]])
            dry = g.params.speed_table("dry")[cls_code, srf_code]
            rainy = g.params.speed_table("rainy")[cls_code, srf_code]
            rf = rainy / dry if np.isfinite(rainy) and np.isfinite(dry) else np.nan
            dscale = 1.0 / rf if np.isfinite(rf) else np.inf
        drive_tot = drive_dry / (1.0 / dscale) if np.isfinite(dscale) else np.inf
        if self.season == "rainy" and np.isfinite(dscale):
            drive_tot = drive_dry / (1.0 / dscale)
        walk_f = float(g.walk_fwd_min[e]) / wrf
        walk_b = float(g.walk_bwd_min[e]) / wrf
        if self.mode == "walk":
            use_f = use_b = False
        elif self.mode == "drive":
            use_f = use_b = True
        else:
            use_f = drive_tot <= walk_f
            use_b = drive_tot <= walk_b
        fwd = drive_tot if use_f else walk_f
        bwd = drive_tot if use_b else walk_b
        if closed:
            fwd = bwd = np.inf
        return {"a": a, "seg_drive": seg_drive, "wf": wf, "wb": wb, "wrf": wrf,
                "dscale": dscale, "use_f": use_f, "use_b": use_b, "fwd": fwd, "bwd": bwd,
                "drive_tot": drive_tot}

    @staticmethod
    def _partial(st: dict[str, Any], seg: int, t: float) -> tuple[float, float]:
        """``(u → join, join → u)`` minutes along an edge in its state ``st``."""
        k = seg - st["a"]

        def part(values: NDArray[np.float64]) -> float:
            return float(values[:k].sum() + t * values[k]) if k < values.size else float(
                values.sum())

        drive = part(st["seg_drive"]) * st["dscale"] if np.isfinite(st["dscale"]) else np.inf
        cf = drive if st["use_f"] else part(st["wf"]) / st["wrf"]
        cb = drive if st["use_b"] else part(st["wb"]) / st["wrf"]
        return cf, cb

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(
        cls,
        graph: Any,
        villages_xy: ArrayLike,
        queries: dict[str, ArrayLike],
        *,
        mode: str = "vehicle",
        season: str = "dry",
    ) -> AccessModel:
        """Join villages and target points to ``graph`` and run each query's Dijkstra.

        Parameters
        ----------
        graph
            The road graph (:class:`contigmap.network.RoadGraph`).
        villages_xy
            ``(V, 2)`` village points.
        queries
            Name → ``(T, 2)`` target points (e.g. ``{"seat:433124102": [[x, y]]}``).
        mode, season
            Travel mode and season (as :meth:`RoadGraph.edge_times`).
        """
        from contigmap.network.snap import attach_points

        vxy = np.asarray(villages_xy, dtype=float).reshape(-1, 2)
        names = list(queries)
        txy_list = [np.asarray(queries[k], dtype=float).reshape(-1, 2) for k in names]
        sizes = [t.shape[0] for t in txy_list]
        txy = np.vstack([vxy, *txy_list]) if txy_list else vxy
        att = attach_points(graph, txy, nodes=np.zeros(0, np.int64))
        t_in, t_out = att.legs(mode, season)  # type: ignore[arg-type]
        fwd, bwd, _ = graph.edge_times(mode, season)
        model = cls(
            graph=graph, mode=mode, season=season, fwd=np.array(fwd, dtype=float),
            bwd=np.array(bwd, dtype=float),
            v_edge=np.zeros(0, np.int64), v_tin=np.zeros(0), v_cf=np.zeros(0),
            v_cb=np.zeros(0), t_edge=np.zeros(0, np.int64), t_out=np.zeros(0),
            t_cf=np.zeros(0), t_cb=np.zeros(0), queries={}, sp={},
            road_class=graph.road_class.astype(np.int64).copy(),
            surface=graph.surface.astype(np.int64).copy(),
            closed=np.zeros(graph.n_edges, bool),
        )
        edge = att.snap.edge.astype(np.int64)
        cf = np.full(edge.size, np.inf)
        cb = np.full(edge.size, np.inf)
        states: dict[int, dict[str, Any]] = {}
        for i in np.flatnonzero(edge >= 0):
            e = int(edge[i])
            if e not in states:
                states[e] = model._edge_state(e, int(model.road_class[e]),
                                              int(model.surface[e]), False)
            cf[i], cb[i] = model._partial(states[e], int(att.snap.seg[i]), float(att.snap.t[i]))
        nv = vxy.shape[0]
        pos = list(zip(att.snap.seg.tolist(), att.snap.t.tolist(), strict=True))
        model.v_pos, model.t_pos = pos[:nv], pos[nv:]
        model.v_edge, model.v_tin, model.v_cf, model.v_cb = edge[:nv], t_in[:nv], cf[:nv], cb[:nv]
        model.t_edge, model.t_out = edge[nv:], t_out[nv:]
        model.t_cf, model.t_cb = cf[nv:], cb[nv:]
        start = 0
        for name, size in zip(names, sizes, strict=True):
            model.queries[name] = np.arange(start, start + size, dtype=np.int64)
            start += size
        model._rebuild()
        return model

    def _super_arcs(self, targets: NDArray[np.int64], fwd: NDArray[np.float64],
                    bwd: NDArray[np.float64], t_cf: NDArray[np.float64],
                    t_cb: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        g = self.graph
        ok = targets[self.t_edge[targets] >= 0]
        e = self.t_edge[ok]
        nodes = np.concatenate([g.u[e], g.v[e]])
        # time u → target (forward along the edge) and v → target (backward)
        w = np.concatenate([t_cf[ok] + self.t_out[ok], (bwd[e] - t_cb[ok]) + self.t_out[ok]])
        w = np.maximum(w, 0.0) if w.size else w
        return nodes.astype(np.int64), w

    def _csr(self, name: str) -> csr_matrix:
        g = self.graph
        nodes, w = self._super_arcs(self.queries[name], self.fwd, self.bwd, self.t_cf, self.t_cb)
        rows = np.concatenate([g.v, g.u, np.full(nodes.size, self.n, np.int64)])
        cols = np.concatenate([g.u, g.v, nodes])
        ws = np.concatenate([self.fwd, self.bwd, w])
        return csr_from_arrays(rows.astype(np.int64), cols.astype(np.int64), ws, self.n + 1)

    def _rebuild(self) -> None:
        for key in ("times", "bounds", "focus"):  # "multi" stays: the topology is fixed
            self.cache.pop(key, None)
        for name in self.queries:
            self.sp[name] = shortest_paths(self._csr(name), self.n)

    # ------------------------------------------------------------------ evaluation
    def _village_best(self, name: str, dist_at: Any, v_cf: NDArray[np.float64],
                      v_cb: NDArray[np.float64], fwd: NDArray[np.float64],
                      t_cf: NDArray[np.float64], t_cb: NDArray[np.float64],
                      near_only: NDArray[np.bool_] | None = None,
                      idx: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        """Minutes from each village's join point to the nearest target (no walking leg).

        ``idx`` selects villages (all when ``None``); the values are the same floats
        whichever villages are selected (the same operations, element by element).
        """
        g = self.graph
        if idx is None:
            v_edge, cf, cb = self.v_edge, v_cf, v_cb
            near = near_only
        else:
            v_edge, cf, cb = self.v_edge[idx], v_cf[idx], v_cb[idx]
            near = near_only[idx] if near_only is not None else None
        e = np.maximum(v_edge, 0)
        du = dist_at(g.u[e])
        dv = dist_at(g.v[e])
        via_u = cb + du
        via_v = (fwd[e] - cf) + dv
        if near is not None and near.any():
            u_nearer = cb <= (self.bwd[e] - cb)
            via_v = np.where(near & u_nearer, np.inf, via_v)
            via_u = np.where(near & ~u_nearer, np.inf, via_u)
        best = np.minimum(via_u, np.maximum(via_v, 0.0))
        # targets on the same edge: straight along it
        tg = self._on_edge_targets(name)
        if tg.size:
            same = np.flatnonzero(self._target_edges(name)[e] & (v_edge >= 0))
            for i in same.tolist():
                if near is not None and near[i]:
                    continue
                on = tg[self.t_edge[tg] == v_edge[i]]
                ahead = t_cf[on] >= cf[i]
                direct = np.where(ahead, t_cf[on] - cf[i], cb[i] - t_cb[on]) + self.t_out[on]
                best[i] = min(best[i], float(np.maximum(direct, 0.0).min()))
        return np.asarray(best, dtype=float)

    def _target_edges(self, name: str) -> NDArray[np.bool_]:
        """Per edge: a target of query ``name`` is joined to it (cached)."""
        memo: dict[str, NDArray[np.bool_]] = self.cache.setdefault("tmask", {})
        if name not in memo:
            mask = np.zeros(int(self.graph.n_edges), bool)
            mask[self.t_edge[self._on_edge_targets(name)]] = True
            memo[name] = mask
        return memo[name]

    def _on_edge_targets(self, name: str) -> NDArray[np.int64]:
        """Targets of query ``name`` joined to an edge (cached)."""
        memo: dict[str, NDArray[np.int64]] = self.cache.setdefault("tg", {})
        if name not in memo:
            tg = self.queries[name]
            memo[name] = tg[self.t_edge[tg] >= 0]
        return memo[name]

    def _village_times(self, name: str, dist_at: Any, v_cf: NDArray[np.float64],
                       v_cb: NDArray[np.float64], fwd: NDArray[np.float64],
                       t_cf: NDArray[np.float64], t_cb: NDArray[np.float64],
                       near_only: NDArray[np.bool_] | None = None,
                       idx: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        best = self._village_best(name, dist_at, v_cf, v_cb, fwd, t_cf, t_cb, near_only, idx)
        v_edge = self.v_edge if idx is None else self.v_edge[idx]
        v_tin = self.v_tin if idx is None else self.v_tin[idx]
        out = np.where(v_edge >= 0, v_tin + best, np.inf)
        return np.asarray(out, dtype=float)

    def times(self, name: str) -> NDArray[np.float64]:
        """Baseline minutes from every village to the nearest target of query ``name``."""
        return self._baseline_times(name).copy()

    def _times(self, name: str) -> NDArray[np.float64]:
        sp = self.sp[name]
        return self._village_times(name, lambda q: sp.dist[q], self.v_cf, self.v_cb, self.fwd,
                                   self.t_cf, self.t_cb, self._near_only(self.closed))

    def _near_only(self, closed: NDArray[np.bool_]) -> NDArray[np.bool_]:
        return np.asarray(closed[np.maximum(self.v_edge, 0)] & (self.v_edge >= 0), dtype=bool)

    def _apply(self, change: EdgeChange) -> dict[str, Any]:
        """Return new per-edge arrays and join partials after ``change`` (copies)."""
        g = self.graph
        fwd, bwd = self.fwd.copy(), self.bwd.copy()
        v_cf, v_cb = self.v_cf.copy(), self.v_cb.copy()
        t_cf, t_cb = self.t_cf.copy(), self.t_cb.copy()
        road_class, surface = self.road_class.copy(), self.surface.copy()
        closed = self.closed.copy()
        vsnap = self.cache_snap()
        for k, e in enumerate(change.edges.tolist()):
            c = int(change.road_class[k]) if change.road_class[k] >= 0 else int(road_class[e])
            s = int(change.surface[k]) if change.surface[k] >= 0 else int(surface[e])
            road_class[e], surface[e] = c, s
            closed[e] = closed[e] or bool(change.closed[k])
            st = self._edge_state(e, c, s, bool(closed[e]))
            fwd[e], bwd[e] = st["fwd"], st["bwd"]
            open_st = self._edge_state(e, c, s, False)
            for i in vsnap["v"].get(e, []):
                v_cf[i], v_cb[i] = self._partial(open_st, *vsnap["vpos"][i])
            for j in vsnap["t"].get(e, []):
                t_cf[j], t_cb[j] = self._partial(open_st, *vsnap["tpos"][j])
        del g
        return {"fwd": fwd, "bwd": bwd, "v_cf": v_cf, "v_cb": v_cb, "t_cf": t_cf, "t_cb": t_cb,
                "road_class": road_class, "surface": surface, "closed": closed}

    def cache_snap(self) -> dict[str, Any]:
        """Return the joins per edge (villages and targets) with their ``(seg, t)``."""
        if "snap" not in self.cache:
            v: dict[int, list[int]] = {}
            t: dict[int, list[int]] = {}
            for i, e in enumerate(self.v_edge.tolist()):
                if e >= 0:
                    v.setdefault(e, []).append(i)
            for j, e in enumerate(self.t_edge.tolist()):
                if e >= 0:
                    t.setdefault(e, []).append(j)
            self.cache["snap"] = {"v": v, "t": t, "vpos": self.v_pos, "tpos": self.t_pos}
        out: dict[str, Any] = self.cache["snap"]
        return out

    def arc_changes(self, name: str, change: EdgeChange,
                    state: dict[str, Any] | None = None) -> ArcChanges:
        """Arc changes of query ``name`` for an edge change."""
        st = state if state is not None else self._apply(change)
        g = self.graph
        e = change.edges
        tails = [g.v[e], g.u[e]]
        heads = [g.u[e], g.v[e]]
        ws = [st["fwd"][e], st["bwd"][e]]
        # parallel edges: an arc keeps the best of all edges between its two nodes
        pair_w = self._pair_min(e, st["fwd"], st["bwd"])
        if pair_w is not None:
            ws = pair_w
        tg = self.queries[name]
        on = tg[np.isin(self.t_edge[tg], e)]
        if on.size:
            nodes_all, w_all = self._super_arcs(tg, st["fwd"], st["bwd"], st["t_cf"], st["t_cb"])
            touched = np.unique(np.concatenate([g.u[self.t_edge[on]], g.v[self.t_edge[on]]]))
            keep = np.isin(nodes_all, touched)
            best = {int(x): np.inf for x in touched}
            for x, w in zip(nodes_all[keep].tolist(), w_all[keep].tolist(), strict=True):
                best[x] = min(best[x], w)
            tails.append(np.full(len(best), self.n, np.int64))
            heads.append(np.fromiter(best.keys(), np.int64, len(best)))
            ws.append(np.fromiter(best.values(), float, len(best)))
        return ArcChanges.of(np.concatenate(tails), np.concatenate(heads), np.concatenate(ws))

    def _pair_min(self, e: NDArray[np.int64], fwd: NDArray[np.float64],
                  bwd: NDArray[np.float64]) -> list[NDArray[np.float64]] | None:
        g = self.graph
        if "pairs" not in self.cache:
            lo, hi = np.minimum(g.u, g.v), np.maximum(g.u, g.v)
            key = lo * (self.n + 1) + hi
            _, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
            multi = cnt[inv] > 1
            groups: dict[int, list[int]] = {}
            for k in np.flatnonzero(multi).tolist():
                groups.setdefault(int(key[k]), []).append(k)
            self.cache["pairs"] = (key, groups)
        key, groups = self.cache["pairs"]
        if not groups or not np.isin(key[e], list(groups)).any():
            return None
        w1, w2 = fwd[e].copy(), bwd[e].copy()
        for k, ed in enumerate(e.tolist()):
            grp = groups.get(int(key[ed]))
            if not grp:
                continue
            # arc v_e -> u_e carries travel u_e -> v_e
            a = [fwd[o] if g.u[o] == g.u[ed] else bwd[o] for o in grp]
            b = [bwd[o] if g.u[o] == g.u[ed] else fwd[o] for o in grp]
            w1[k], w2[k] = min(a), min(b)
        return [w1, w2]

    def _untouched(self, name: str, change: EdgeChange, st: dict[str, Any]) -> bool:
        """Whether ``change`` leaves query ``name``'s node distances as they are.

        True when no changed arc improves a distance (``D[a] + w' < D[b]``), no changed
        arc is a tree arc (``pred[b] == a``) and no target sits on a changed edge.
        """
        g = self.graph
        sp = self.sp[name]
        e = change.edges
        u, v = g.u[e], g.v[e]
        d = sp.dist
        with np.errstate(invalid="ignore"):
            if np.any(d[v] + st["fwd"][e] < d[u]) or np.any(d[u] + st["bwd"][e] < d[v]):
                return False
        if np.any(sp.pred[u] == v) or np.any(sp.pred[v] == u):
            return False
        tg = self.queries[name]
        return not bool(np.isin(self.t_edge[tg], e).any())

    # ------------------------------------------------------------------ exact skips
    def _bound(self, name: str, idx: NDArray[np.int64]
               ) -> tuple[NDArray[np.float64], float, float]:
        """Slack of every node toward the selected villages of query ``name`` (cached).

        Returns ``(m, tol, tau_max)`` with ``m[b] = min_y (dist(b → y) − τ_y)`` over the
        edge ends ``y`` of the villages ``idx`` (distances on the query's reversed graph, i.e.
        travel from ``y`` to ``b``), where ``τ_y`` is the largest new distance of ``y``
        that cannot shorten any selected village's time (its current time minus the time
        along its edge from ``y``); ``−inf`` where ``b`` reaches an end of an
        unreachable village. ``tol`` is the margin :meth:`_may_change` keeps against
        floating-point rounding, and ``tau_max`` the largest ``τ_y`` (``inf`` if one is).
        One multi-source Dijkstra on the transposed graph (super-source arcs
        ``C − τ_y ≥ 0``, ``C = max τ``).
        """
        memo: dict[tuple[str, bytes], tuple[NDArray[np.float64], float, float]] = (
            self.cache.setdefault("bounds", {}))
        key = (name, idx.tobytes())
        if key in memo:
            return memo[key]
        g = self.graph
        sp = self.sp[name]
        n1 = sp.n  # road nodes + the super-source
        best = self._village_best(name, lambda q: sp.dist[q], self.v_cf, self.v_cb, self.fwd,
                                  self.t_cf, self.t_cb, self._near_only(self.closed), idx)
        on = self.v_edge[idx] >= 0
        vi = idx[on]
        e = self.v_edge[vi]
        b = best[on]
        y = np.concatenate([g.u[e], g.v[e]]).astype(np.int64)
        with np.errstate(invalid="ignore"):
            tau = np.concatenate([b - self.v_cb[vi], b - (self.fwd[e] - self.v_cf[vi])])
        tau = np.where(np.isnan(tau), np.inf, tau)  # unknown: any improvement may count
        fin = np.isfinite(tau)
        m = np.full(n1, np.inf)
        coo = sp.transpose().tocoo()
        rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
        data = coo.data.astype(float)
        scale = 1.0
        if fin.any():
            c = float(tau[fin].max())
            scale += max(abs(c), float(np.abs(tau[fin]).max()))
            t = csr_from_arrays(np.concatenate([rows, np.full(int(fin.sum()), n1, np.int64)]),
                                np.concatenate([cols, y[fin]]),
                                np.concatenate([data, c - tau[fin]]), n1 + 1)
            r = np.asarray(dijkstra(t, directed=True, indices=n1), dtype=float)[:n1]
            m = r - c
        if (~fin).any():
            t = csr_from_arrays(np.concatenate([rows, np.full(int((~fin).sum()), n1, np.int64)]),
                                np.concatenate([cols, y[~fin]]),
                                np.concatenate([data, np.zeros(int((~fin).sum()))]), n1 + 1)
            r = np.asarray(dijkstra(t, directed=True, indices=n1), dtype=float)[:n1]
            m[np.isfinite(r)] = -np.inf
        finite_d = sp.dist[np.isfinite(sp.dist)]
        if finite_d.size:
            scale += float(finite_d.max())
        tau_max = float(tau.max()) if tau.size else -np.inf
        out = (m, 1e-9 * scale, tau_max)
        memo[key] = out
        return out

    def _decrease_arcs(self, change: EdgeChange, st: dict[str, Any]
                       ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64],
                                  NDArray[np.float64]] | None:
        """Return the road arcs ``change`` shortens, with a bound on what others save.

        ``None`` when ``change`` closes an edge or lengthens an arc (no skip then).
        Returns ``(tail, head, new_weight, others)`` on the reversed graph (arc
        ``v → u`` carries travel ``u → v``): ``others[i]`` bounds what a simple path
        that avoids arc ``i``'s two nodes' link can save through the shortened arcs,
        the sum over every *other* node pair of its largest weight decrease (a simple
        path uses at most one arc between two nodes); ``inf`` when one of them was
        absent before.
        """
        if change.closed.any():
            return None
        g = self.graph
        e = change.edges
        old = np.concatenate([self.fwd[e], self.bwd[e]])
        new = np.concatenate([st["fwd"][e], st["bwd"][e]])
        if np.any(new > old):
            return None
        dec = new < old
        tails = np.concatenate([g.v[e], g.u[e]])[dec].astype(np.int64)
        heads = np.concatenate([g.u[e], g.v[e]])[dec].astype(np.int64)
        if not dec.any():
            return tails, heads, new[dec], np.zeros(0)
        with np.errstate(invalid="ignore"):
            save = old[dec] - new[dec]  # inf: the arc is new
        if self._multi_edges()[e].any():
            pair = np.minimum(tails, heads) * np.int64(self.n + 1) + np.maximum(tails, heads)
            keys, inv = np.unique(pair, return_inverse=True)
            per_pair = np.zeros(keys.size)
            np.maximum.at(per_pair, inv, save)
        else:  # one edge per node pair: its two arcs
            k = e.size
            both = np.zeros(2 * k)
            both[dec] = save
            per_edge = np.maximum(both[:k], both[k:])
            inv = np.concatenate([np.arange(k), np.arange(k)])[dec]
            keep = (both[:k] > 0) | (both[k:] > 0)
            per_pair = np.where(keep, per_edge, 0.0)
        infinite = ~np.isfinite(per_pair)
        finite_sum = float(per_pair[~infinite].sum())
        own = per_pair[inv]
        own_inf = ~np.isfinite(own)
        others = finite_sum - np.where(own_inf, 0.0, own)
        others_inf = int(infinite.sum()) - own_inf.astype(int) > 0
        others = np.where(others_inf, np.inf, np.maximum(others, 0.0))
        return tails, heads, new[dec], others

    def _may_change(self, names: list[str], idxs: list[NDArray[np.int64]],
                    change: EdgeChange,
                    arcs: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64],
                                NDArray[np.float64]],
                    focus: dict[str, Any] | None = None) -> NDArray[np.bool_]:
        """Per query: whether a decrease-only ``change`` can change a selected village's time.

        ``False`` is a proof that the times of villages ``idxs[k]`` for query
        ``names[k]`` stay exactly as they are. The argument: a village's time changes
        only if the new distance ``D'(y)`` of one of its edge ends falls below ``τ_y``
        (:meth:`_bound`). A new path to ``y`` shorter than before uses a shortened
        arc; take the last one, ``a → b``: the rest, ``b → y``, is an unchanged path,
        so ``D'(y) ≥ D'(a) + w'(a, b) + dist(b → y)``. A shortest path to ``a`` is
        simple and does not pass through ``b``, so it saves at most ``others`` of the
        arc (:meth:`_decrease_arcs`): ``D'(a) ≥ max(0, D(a) − others)``. So if
        ``max(0, D(a) − others) + w' + m[b] ≥ tol`` for every shortened arc, no selected
        village's time can change. Villages or targets on a changed edge always count
        as changed (their join partials move). All queries are tested at once on
        stacked arrays (``focus``, from :meth:`_focus` when not given).
        """
        tails, heads, w_new, others = arcs
        info = self._focus(names, idxs) if focus is None else focus
        e = change.edges
        hit = info["edges"][:, e].any(axis=1)
        if tails.size == 0:
            return np.asarray(hit, dtype=bool)
        with np.errstate(invalid="ignore"):
            lb = np.maximum(info["dist"][:, tails] - others, 0.0)  # inf - inf: nan, below
            lb[:, np.isinf(others)] = 0.0
            slack = lb + w_new + info["m"][:, heads]
        # nan: an unreachable tail (it stays unreachable) against an unbounded slack
        return np.asarray(hit | (slack < info["tol"][:, None]).any(axis=1), dtype=bool)

    def affects(self, change: EdgeChange, name: str,
                villages: ArrayLike | None = None) -> bool:
        """Whether ``change`` may change the times of ``villages`` for query ``name``.

        ``False`` is exact: evaluated in full, ``change`` leaves those villages' times
        as they are, bit for bit (:meth:`_may_change` gives the proof; it applies to
        upgrades and new speeds, changes that only shorten arcs). ``True`` means the
        cheap test could not rule a change out (a closure always answers ``True``).

        Parameters
        ----------
        change
            The edge change.
        name
            The query.
        villages
            Village indices (all villages when ``None``).
        """
        idx = (np.arange(self.v_edge.size, dtype=np.int64) if villages is None
               else np.asarray(villages, dtype=np.int64).ravel())
        arcs = self._decrease_arcs(change, self._apply(change))
        return arcs is None or bool(self._may_change([name], [idx], change, arcs)[0])

    def _focus(self, names: list[str], idxs: list[NDArray[np.int64]]) -> dict[str, Any]:
        """Stacked per-query arrays for :meth:`_may_change` (cached per selection).

        ``dist`` and ``m`` (queries × nodes), ``tol`` and ``stop`` (per query: the
        distance from which a propagation can no longer change a selected village,
        ``max τ + tol``) and ``edges`` (queries × edges: a selected village or a target
        of the query is on the edge).
        """
        memo: dict[tuple[tuple[str, bytes], ...], dict[str, Any]] = self.cache.setdefault(
            "focus", {})
        key = tuple((q, i.tobytes()) for q, i in zip(names, idxs, strict=True))
        if key not in memo:
            ne = int(self.graph.n_edges)
            edges = np.zeros((len(names), ne), bool)
            ms, tols, stops = [], [], []
            for k, (q, idx) in enumerate(zip(names, idxs, strict=True)):
                m, tol, tau_max = self._bound(q, idx)
                ms.append(m)
                tols.append(tol)
                stops.append(tau_max + tol)
                ve = self.v_edge[idx]
                edges[k, ve[ve >= 0]] = True
                edges[k, self.t_edge[self._on_edge_targets(q)]] = True
            memo[key] = {"m": np.vstack(ms), "tol": np.asarray(tols, dtype=float),
                         "stop": stops,
                         "dist": np.vstack([self.sp[q].dist for q in names]), "edges": edges}
        out: dict[str, Any] = memo[key]
        return out

    def _multi_edges(self) -> NDArray[np.bool_]:
        """Per edge: another edge joins the same two nodes (cached)."""
        if "multi" not in self.cache:
            g = self.graph
            lo, hi = np.minimum(g.u, g.v), np.maximum(g.u, g.v)
            key = lo.astype(np.int64) * (self.n + 1) + hi
            _, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
            self.cache["multi"] = np.asarray(cnt[inv] > 1, dtype=bool)
        out: NDArray[np.bool_] = self.cache["multi"]
        return out

    def evaluate(self, change: EdgeChange, names: list[str] | None = None, *,
                 villages: dict[str, NDArray[np.int64]] | None = None,
                 skip_unchanged: bool = False,
                 ) -> dict[str, NDArray[np.float64]]:
        """Village minutes per query after ``change`` (exact; the model is not modified).

        Parameters
        ----------
        change
            The edge change.
        names
            Queries to evaluate (all when ``None``).
        villages
            Per query, the village indices wanted (all villages for a query absent from
            it, or when ``None``); the result for that query then holds those villages
            only, in that order. A query whose selected villages an upgrade provably
            cannot reach (:meth:`_may_change`) is answered from the baseline without
            any shortest-path work.
        skip_unchanged
            Leave such queries out of the result (their times are the baseline's,
            :meth:`times`).

        Returns
        -------
        dict
            Query name → minutes per (selected) village.
        """
        st = self._apply(change)
        near = self._near_only(st["closed"])
        arcs = self._decrease_arcs(change, st)
        qnames = list(names) if names is not None else list(self.queries)
        picks = [np.asarray(villages[q], dtype=np.int64).ravel()
                 if villages is not None and q in villages else None for q in qnames]
        may = np.ones(len(qnames), bool)
        stops = [np.inf] * len(qnames)
        simple: dict[int, dict[int, float]] | None = None
        if arcs is not None:
            all_idx = np.arange(self.v_edge.size, dtype=np.int64)
            sel_idx = [i if i is not None else all_idx for i in picks]
            focus = self._focus(qnames, sel_idx)
            may = self._may_change(qnames, sel_idx, change, arcs, focus)
            stops = focus["stop"]
            if may.any() and not self._multi_edges()[change.edges].any():
                # arcs of single edges only shorten: propagate them directly
                simple = {}
                for a, b, w in zip(arcs[0].tolist(), arcs[1].tolist(), arcs[2].tolist(),
                                   strict=True):
                    simple.setdefault(a, {})[b] = w
        out: dict[str, NDArray[np.float64]] = {}
        for name, idx, maybe, stop in zip(qnames, picks, may.tolist(), stops, strict=True):
            if not maybe:
                self.counts["skipped"] += 1
                if skip_unchanged:
                    continue
                base = self._baseline_times(name)
                out[name] = base[idx] if idx is not None else base.copy()
                continue
            sp = self.sp[name]
            if (simple is not None and arcs is not None
                    and not self._target_edges(name)[change.edges].any()):
                self.counts["propagated"] += 1
                new: dict[int, float] = {}
                # nothing at or beyond ``stop`` can change a selected village
                _decrease(sp, ArcChanges(arcs[0], arcs[1], arcs[2]), simple, new, stop)
                dist = sp.dist
                if new:
                    dist = dist.copy()
                    dist[np.fromiter(new.keys(), np.int64, len(new))] = np.fromiter(
                        new.values(), float, len(new))
                out[name] = self._village_times(name, dist.__getitem__, st["v_cf"], st["v_cb"],
                                                st["fwd"], st["t_cf"], st["t_cb"], near, idx)
                continue
            self.counts["general"] += 1
            if self._untouched(name, change, st):
                if not np.isin(self.v_edge if idx is None else self.v_edge[idx],
                               change.edges).any():
                    base = self._baseline_times(name)
                    out[name] = base[idx] if idx is not None else base.copy()
                    continue
                out[name] = self._village_times(name, lambda q, sp=sp: sp.dist[q], st["v_cf"],
                                                st["v_cb"], st["fwd"], st["t_cf"], st["t_cb"],
                                                near, idx)
                continue
            up = update_distances(sp, self.arc_changes(name, change, st))
            out[name] = self._village_times(name, up.at, st["v_cf"], st["v_cb"], st["fwd"],
                                            st["t_cf"], st["t_cb"], near, idx)
        return out

    def _baseline_times(self, name: str) -> NDArray[np.float64]:
        """Return the memoised baseline times (not a copy: callers index or copy it)."""
        memo: dict[str, NDArray[np.float64]] = self.cache.setdefault("times", {})
        if name not in memo:
            memo[name] = self._times(name)
        return memo[name]

    def evaluate_full(self, change: EdgeChange, names: list[str] | None = None, *,
                      villages: dict[str, NDArray[np.int64]] | None = None,
                      ) -> dict[str, NDArray[np.float64]]:
        """Return what :meth:`evaluate` returns, by a full recompute (the reference)."""
        st = self._apply(change)
        near = self._near_only(st["closed"])
        out: dict[str, NDArray[np.float64]] = {}
        for name in names if names is not None else list(self.queries):
            idx = villages.get(name) if villages is not None else None
            m = patch_csr(self.sp[name].csr, self.arc_changes(name, change, st))
            dist = np.asarray(dijkstra(m, directed=True, indices=self.n), dtype=float)
            out[name] = self._village_times(name, lambda q, d=dist: d[q], st["v_cf"],
                                            st["v_cb"], st["fwd"], st["t_cf"], st["t_cb"], near,
                                            idx)
        return out

    def commit(self, change: EdgeChange) -> None:
        """Apply ``change`` to the model for good (recomputes every query)."""
        st = self._apply(change)
        for key in ("fwd", "bwd", "v_cf", "v_cb", "t_cf", "t_cb", "road_class", "surface",
                    "closed"):
            setattr(self, key, st[key])
        self._rebuild()
