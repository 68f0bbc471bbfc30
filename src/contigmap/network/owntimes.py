"""Exact times from every point to *its own* target, in memory linear in the graph and points.

"Minutes from each village to its own township seat" needs one distance per point, not a
``targets × points`` matrix: at a million road edges there are thousands of seats and
hundreds of thousands of points (tens of GiB dense). :func:`own_times` computes the
per-point values directly.

Algorithm
---------
1. **Anchors.** A point's time is ``base + min_s (w_s + d(s))`` over its *stations* ``s``
   (:meth:`contigmap.network.Attachment._point_values`: the point itself when it is a
   graph node, else the two nodes on either side of it on its edge). A station removed by
   the contraction (:mod:`contigmap.network.contract`) has ``d(s) = min (d(x) + t)`` over
   its parents (tree root, chain ends, eliminated node's neighbours), which resolve in turn
   down to *core* nodes. Unfolding this recursion gives, per station, a short list of
   anchors ``(core node c, offsets o_1..o_k)`` with ``d(s) = min_c (((d(c) + o_k) + …) + o_1)``.
   The offsets are kept separately and added in the same order as
   :meth:`contigmap.network.contract.Core.expand`, so the floating-point result is
   identical to a full expansion.
2. **Bounded searches.** For each target ``t``, Dijkstra on the contracted core from ``t``
   (on the reversed graph: the times are those of the trip *to* ``t``) with a distance
   limit ``L`` (``scipy.sparse.csgraph.dijkstra(limit=L)``), reading only the anchors of
   its own points. Nodes beyond ``L`` come back as ``inf``, so a computed value ``v`` is
   an upper bound; if ``v < L`` it is exact: every anchor cut off has ``d(c) >= L`` and
   all offsets are non-negative, so no path through it is shorter than ``v``. Points not
   yet certified get their target searched again with ``L`` doubled; after
   :data:`_MAX_ROUNDS` doublings the limit is lifted (``inf``), which settles everything.
   The first ``L`` per target is a lower bound on what it needs: the largest time from
   its own points to the *nearest* of all targets (one multi-source search,
   ``min_only=True``), so a township whose villages are nearest to their own seat is
   settled in one bounded search.
3. **Pruning.** Anchors in another weakly connected component than their target can never
   reach it and are dropped first; points that reach no target at all (``inf`` in the
   multi-source search) are never searched.

4. **Neighbourhoods.** scipy allocates a distance row over the whole graph per source, so
   even bounded searches would cost ``targets × core nodes`` in *time*. A search bounded by
   ``L`` cannot leave the disc of radius ``L · v_max`` (``v_max``: the largest
   straight-line speed of any core edge), so each batch of neighbouring targets is searched
   on the core nodes in the grid cells of that disc's bounding box
   (:class:`~contigmap.network.neighbourhood.NeighbourhoodSearch`),
   which gives the same distances up to ``L``.

Several targets share one scipy call (their distance rows side by side), with the block
capped at ``budget`` elements, so peak memory is ``O(core nodes + points + budget)``,
never ``targets × points``. Each search is Dijkstra (1959) with the early stop of a
bounded ("radius-limited") search, as in local queries of route planning (Bast et al.
2016, "Route planning in transportation networks", LNCS 9220).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components, dijkstra

from contigmap.network.contract import Core
from contigmap.network.neighbourhood import NeighbourhoodSearch

__all__ = ["Stations", "own_times"]

logger = logging.getLogger(__name__)

#: Doublings of the search limit before it is lifted altogether.
_MAX_ROUNDS = 6

#: Default cap on the elements of one block of distance rows (32 MiB of float64).
DEFAULT_BUDGET = 1 << 22

#: Most targets searched in one scipy call (so the block is also ``O(core nodes)``).
_MAX_BATCH = 64

#: Targets searched together on one neighbourhood of the core.
_LOCAL_BATCH = 16


@dataclass(frozen=True)
class Stations:
    """Where each queried point meets the graph: ``time = base + min(w + d(node))``.

    Attributes
    ----------
    point, node, w
        One row per (point, station): the point's index, the station's full-graph node
        and the time from the point's join to it (aligned arrays, sorted by point).
    base
        Per point, the time added after the minimum (the off-road leg; ``0`` for points
        that are graph nodes).
    """

    point: NDArray[np.int64]
    node: NDArray[np.int64]
    w: NDArray[np.float64]
    base: NDArray[np.float64]


def _resolve(core: Core, node: NDArray[np.int64]) -> tuple[
    NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]
]:
    """Unfold removed nodes into core anchors.

    Returns, per anchor, the row of ``node`` it belongs to, its core id, and the offsets
    ``(n_anchors, depth)`` to add to the core distance from the *last* column to the first.
    """
    n = core.n_nodes
    kind = np.zeros(n, np.int8)  # 0 core/none, 1 tree, 2 chain, 3 eliminated
    idx = np.zeros(n, np.int64)
    for code, nodes in ((1, core.tree_nodes), (2, core.chain_nodes), (3, core.elim_nodes)):
        kind[nodes] = code
        idx[nodes] = np.arange(nodes.size)
    row = np.arange(node.size, dtype=np.int64)
    cur = np.asarray(node, dtype=np.int64)
    offs: list[NDArray[np.float64]] = []
    while True:
        k = kind[cur]
        if not k.any():
            break
        i = idx[cur]
        parts: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]] = []
        keep = np.flatnonzero(k == 0)
        parts.append((keep, cur[keep], np.zeros(keep.size)))
        t = np.flatnonzero(k == 1)
        parts.append((t, core.tree_root[i[t]], core.tree_off[i[t]]))
        c = np.flatnonzero(k == 2)
        parts += [(c, core.chain_a[i[c]], core.chain_off_a[i[c]]),
                  (c, core.chain_b[i[c]], core.chain_off_b[i[c]])]
        e = np.flatnonzero(k == 3)
        parts += [(e, core.elim_nbr[i[e], j], core.elim_w[i[e], j]) for j in range(3)]
        sel = [np.isfinite(o) for _, _, o in parts]
        take = np.concatenate([r[m] for (r, _, _), m in zip(parts, sel, strict=True)])
        row = row[take]
        offs = [o[take] for o in offs]
        cur = np.concatenate([nx[m] for (_, nx, _), m in zip(parts, sel, strict=True)])
        offs.append(np.concatenate([o[m] for (_, _, o), m in zip(parts, sel, strict=True)]))
    depth = np.column_stack(offs) if offs else np.zeros((row.size, 0))
    return row, core.to_core(cur), depth


def _apply(vals: NDArray[np.float64], offs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Add the offsets to core distances, deepest first (the order of a full expansion)."""
    for j in range(offs.shape[1] - 1, -1, -1):
        vals = vals + offs[:, j]
    return vals


def _runs_min(vals: NDArray[np.float64],
              group: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Minimum of ``vals`` over each run of equal ``group`` values: the groups and minima."""
    if vals.size == 0:
        return group[:0], vals[:0]
    starts = np.flatnonzero(np.concatenate([[True], group[1:] != group[:-1]]))
    return group[starts], np.minimum.reduceat(vals, starts)


@dataclass
class _Plan:
    """Anchors of the queried stations, grouped by target (all arrays sorted by target)."""

    tgt_core: NDArray[np.int64]  # core id per target (sorted)
    s_tgt: NDArray[np.int64]  # per station slot: its target (sorted)
    a_tgt: NDArray[np.int64]  # per anchor: target, station slot, core id, offsets
    a_slot: NDArray[np.int64]
    a_core: NDArray[np.int64]
    a_offs: NDArray[np.float64]
    l_tgt: NDArray[np.int64]  # per link (point, station slot): target, point, slot, w
    l_pt: NDArray[np.int64]
    l_slot: NDArray[np.int64]
    l_w: NDArray[np.float64]


def _plan(core: Core, st: Stations, target_core: NDArray[np.int64]) -> _Plan:
    """Build the anchors of every (target, station) pair used by the points."""
    tgt = target_core[st.point]
    ok = (tgt >= 0) & np.isfinite(st.w)
    pt, node, w, tgt = st.point[ok], st.node[ok], st.w[ok], tgt[ok]
    # one slot per distinct (target, station), numbered in target order
    key = tgt * np.int64(core.n_nodes) + node
    ukey, slot = np.unique(key, return_inverse=True)
    s_tgt, s_node = np.divmod(ukey, np.int64(core.n_nodes))
    row, a_core, offs = _resolve(core, s_node)
    a_tgt = s_tgt[row]
    _, comp = connected_components(core.matrix, directed=True, connection="weak")
    same = comp[a_core] == comp[a_tgt]
    a_tgt, row, a_core, offs = a_tgt[same], row[same], a_core[same], offs[same]
    order = np.argsort(row, kind="stable")  # slots are in target order already
    lorder = np.lexsort((pt, tgt))
    return _Plan(
        tgt_core=np.unique(s_tgt), s_tgt=s_tgt, a_tgt=a_tgt[order], a_slot=row[order],
        a_core=a_core[order], a_offs=offs[order], l_tgt=tgt[lorder], l_pt=pt[lorder],
        l_slot=slot.reshape(-1)[lorder], l_w=w[lorder],
    )


def _reduce(plan: _Plan, d_anchor: NDArray[np.float64], a_sel: slice, l_sel: slice,
            s_sel: slice) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Points' ``min(w + d(station))`` from the core distances of the anchors in ``a_sel``.

    ``l_sel`` and ``s_sel`` are the links and station slots of the same targets. Returns
    the points (one per run of links) and their values.
    """
    s0 = s_sel.start or 0
    vals = _apply(d_anchor, plan.a_offs[a_sel])
    slot_val = np.full((s_sel.stop if s_sel.stop is not None else plan.s_tgt.size) - s0,
                       np.inf)
    slots, mins = _runs_min(vals, plan.a_slot[a_sel] - s0)
    slot_val[slots] = mins
    lv = plan.l_w[l_sel] + slot_val[plan.l_slot[l_sel] - s0]
    return _runs_min(lv, plan.l_pt[l_sel])


def _first_limits(core: Core, plan: _Plan,
                  n_points: int) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Per target, the largest time from its points to the nearest target (a lower bound).

    Also returns which points reach no target at all (exactly ``inf``); a target none of
    whose points reach any target gets the limit ``-1`` (not searched).
    """
    d_near = dijkstra(core.matrix, directed=True, indices=plan.tgt_core, min_only=True)
    full = slice(None)
    pts, v = _reduce(plan, d_near[plan.a_core], full, full, full)
    dead = np.ones(n_points, bool)
    dead[pts[np.isfinite(v)]] = False
    pos = np.full(n_points, -1, np.int64)
    pos[pts] = np.arange(pts.size)
    lv = v[pos[plan.l_pt]]
    good = np.isfinite(lv)
    need = np.full(core.n_core, -np.inf)
    np.maximum.at(need, plan.l_tgt[good], lv[good])
    out = need[plan.tgt_core]
    return np.where(np.isfinite(out), out * (1 + 1e-9) + 1e-9, -1.0), dead


def own_times(core: Core, st: Stations, target_core: NDArray[np.int64], *,
              budget: int = DEFAULT_BUDGET,
              core_xy: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """Exact minutes from each point to its own target (module docstring), ``inf`` if none.

    Parameters
    ----------
    core
        The contracted graph, reversed (times *to* the targets).
    st
        The points' stations (:class:`Stations`).
    target_core
        Per point, the core id of its target (``-1``: none).
    budget
        Largest number of elements in one block of distance rows (at least one row, at
        most :data:`_MAX_BATCH`).
    core_xy
        ``(n_core, 2)`` coordinates of the core nodes (metres): each bounded search then
        runs on the neighbourhood it can reach
        (:class:`~contigmap.network.neighbourhood.NeighbourhoodSearch`), in time and memory
        proportional to it. Without them every search allocates a row of the whole core.

    Returns
    -------
    numpy.ndarray
        ``(P,)`` minutes; ``inf`` without a target or when it cannot be reached.
    """
    n_points = st.base.size
    out = np.full(n_points, np.inf)
    plan = _plan(core, st, target_core)
    if plan.tgt_core.size == 0:
        return out
    limit, dead = _first_limits(core, plan, n_points)
    todo = plan.tgt_core[limit >= 0]
    lim = limit[limit >= 0]
    k = int(np.clip(budget // max(core.n_core, 1), 1, _MAX_BATCH))

    def bounds(arr: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        lo = np.full(core.n_core, 0, np.int64)
        hi = np.full(core.n_core, 0, np.int64)
        lo[plan.tgt_core] = np.searchsorted(arr, plan.tgt_core, "left")
        hi[plan.tgt_core] = np.searchsorted(arr, plan.tgt_core, "right")
        return lo, hi

    (a_lo, a_hi), (l_lo, l_hi), (s_lo, s_hi) = (
        bounds(plan.a_tgt), bounds(plan.l_tgt), bounds(plan.s_tgt))
    searcher = NeighbourhoodSearch(core, core_xy)
    searches = 0
    for rnd in range(_MAX_ROUNDS + 2):
        if todo.size == 0:
            break
        if rnd > _MAX_ROUNDS:
            lim = np.full(todo.size, np.inf)
        # local searches: neighbours together (core ids follow a Morton curve); else by limit
        order = np.argsort(todo if searcher.grid else lim, kind="stable")
        todo, lim = todo[order], lim[order]
        retry = np.zeros(todo.size, bool)
        step = _LOCAL_BATCH if searcher.grid and rnd <= _MAX_ROUNDS else k
        for b0 in range(0, todo.size, step):
            batch = todo[b0:b0 + step]
            cap = float(lim[b0:b0 + step].max())
            d, cols = searcher.search(batch, cap)
            searches += batch.size
            for j, t in enumerate(batch):
                a_sel = slice(a_lo[t], a_hi[t])
                c = plan.a_core[a_sel] if cols is None else cols[plan.a_core[a_sel]]
                dj = d[j, np.maximum(c, 0)] if cols is None else np.where(
                    c >= 0, d[j, np.maximum(c, 0)], np.inf)
                pts, v = _reduce(plan, dj, a_sel, slice(l_lo[t], l_hi[t]),
                                 slice(s_lo[t], s_hi[t]))
                sure = (v < cap) | (cap == np.inf) | dead[pts]
                out[pts[sure]] = v[sure]
                retry[b0 + j] = not sure.all()
            searcher.release(cols)
        todo, lim = todo[retry], 2 * lim[retry] + 1.0
    logger.debug("own times: %d targets, %d bounded searches", plan.tgt_core.size, searches)
    return np.where(np.isfinite(out), out + st.base, np.inf)
