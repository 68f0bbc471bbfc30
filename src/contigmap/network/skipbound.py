"""Exact proofs that a road upgrade cannot change the times of chosen villages.

An optimiser evaluates thousands of upgrades against one query per township seat, and
each query only matters for its own villages. Per query and village selection, one
multi-source Dijkstra on the transposed graph gives every node's slack
``m[b] = min_y (dist(b → y) − τ_y)`` toward the villages' edge ends ``y`` (``τ_y``: the
new distance below which a village's time would fall; :func:`node_slack`). A shorter
path to ``y`` ends with an unchanged path after its last shortened arc ``a → b``, so
the change cannot reach the selection when ``max(0, D[a] − S) + w'(a, b) + m[b]`` stays
above a rounding margin for every shortened arc (``S``: what the other shortened arcs
can save at most; :func:`shortened_arcs`, :func:`may_change`). That test costs a few
vector operations per candidate and proves most (candidate, query) pairs unchanged; the
rest run the decrease propagation
(:func:`contigmap.network.incremental.propagate_decreases`), which stops once its heap
passes the largest ``τ_y``. This is goal-directed pruning in the spirit of A* lower
bounds (Hart, Nilsson and Raphael 1968, "A formal basis for the heuristic determination
of minimum cost paths", *IEEE Trans. SSC* 4(2)), with the bound taken from the baseline
distances. :class:`contigmap.network.access_model.AccessModel` uses these functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from contigmap.network._csr import csr_from_arrays
from contigmap.network.incremental import ShortestPaths

__all__ = ["Arcs", "may_change", "node_slack", "shortened_arcs"]

Arcs = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]
"""``(tail, head, new_weight, others)`` of the arcs a change shortens."""


def node_slack(
    sp: ShortestPaths, y: NDArray[np.int64], tau: NDArray[np.float64]
) -> tuple[NDArray[np.float64], float, float]:
    """Slack of every node toward the edge ends ``y`` with thresholds ``tau``.

    Parameters
    ----------
    sp
        The query's baseline (on its reversed graph, so ``dist(b → y)`` is travel from
        ``y`` to ``b``).
    y
        Edge ends of the selected villages.
    tau
        Per end, the largest new distance that cannot shorten any selected village's
        time (``nan``: unknown, taken as ``inf``).

    Returns
    -------
    tuple
        ``(m, tol, tau_max)``: ``m[b] = min_y (dist(b → y) − τ_y)`` (``−inf`` where ``b``
        reaches an end with ``τ = inf``), the margin kept against floating-point rounding,
        and the largest ``τ``. One multi-source Dijkstra on the transposed graph
        (super-source arcs ``C − τ_y ≥ 0``, ``C = max τ``).
    """
    n1 = sp.n  # road nodes + the super-source
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
    return m, 1e-9 * scale, tau_max


def shortened_arcs(
    u: NDArray[np.int64], v: NDArray[np.int64], old: NDArray[np.float64],
    new: NDArray[np.float64], multi: bool, n: int,
) -> Arcs | None:
    """Return the arcs a change shortens, with a bound on what the others save.

    Parameters
    ----------
    u, v
        End nodes of the changed edges.
    old, new
        Arc weights before and after, ``[u → v of every edge, then v → u]``.
    multi
        Whether another edge joins the same two nodes as one of the changed edges.
    n
        Node count (for pair keys).

    Returns
    -------
    tuple or None
        ``None`` when an arc gets longer (no skip then). Else ``(tail, head, new_weight,
        others)`` on the reversed graph (arc ``v → u`` carries travel ``u → v``):
        ``others[i]`` bounds what a simple path that avoids arc ``i``'s two nodes' link
        can save through the shortened arcs, the sum over every *other* node pair of its
        largest weight decrease (a simple path uses at most one arc between two nodes);
        ``inf`` when one of them was absent before.
    """
    if np.any(new > old):
        return None
    dec = new < old
    tails = np.concatenate([v, u])[dec].astype(np.int64)
    heads = np.concatenate([u, v])[dec].astype(np.int64)
    if not dec.any():
        return tails, heads, new[dec], np.zeros(0)
    with np.errstate(invalid="ignore"):
        save = old[dec] - new[dec]  # inf: the arc is new
    if multi:
        pair = np.minimum(tails, heads) * np.int64(n + 1) + np.maximum(tails, heads)
        keys, inv = np.unique(pair, return_inverse=True)
        per_pair = np.zeros(keys.size)
        np.maximum.at(per_pair, inv, save)
    else:  # one edge per node pair: its two arcs
        k = u.size
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


def may_change(info: dict[str, Any], edges: NDArray[np.int64], arcs: Arcs) -> NDArray[np.bool_]:
    """Per query: whether a decrease-only change can change a selected village's time.

    ``False`` is a proof that the selected villages' times stay exactly as they are. A
    village's time changes only if the new distance ``D'(y)`` of one of its edge ends
    falls below ``τ_y`` (:func:`node_slack`). A new path to ``y`` shorter than before
    uses a shortened arc; take the last one, ``a → b``: the rest, ``b → y``, is an
    unchanged path, so ``D'(y) ≥ D'(a) + w'(a, b) + dist(b → y)``. A shortest path to
    ``a`` is simple and does not pass through ``b``, so it saves at most ``others`` of
    the arc (:func:`shortened_arcs`): ``D'(a) ≥ max(0, D(a) − others)``. So if
    ``max(0, D(a) − others) + w' + m[b] ≥ tol`` for every shortened arc, no selected
    village's time can change. Villages or targets on a changed edge always count as
    changed (their join partials move).

    Parameters
    ----------
    info
        Stacked per-query arrays: ``dist`` and ``m`` (queries × nodes), ``tol`` (per
        query) and ``edges`` (queries × edges: a selected village or a target of the
        query is on the edge).
    edges
        The changed edges.
    arcs
        :func:`shortened_arcs` of the change.
    """
    tails, heads, w_new, others = arcs
    hit = info["edges"][:, edges].any(axis=1)
    if tails.size == 0:
        return np.asarray(hit, dtype=bool)
    with np.errstate(invalid="ignore"):
        lb = np.maximum(info["dist"][:, tails] - others, 0.0)  # inf - inf: nan, below
        lb[:, np.isinf(others)] = 0.0
        slack = lb + w_new + info["m"][:, heads]
    # nan: an unreachable tail (it stays unreachable) against an unbounded slack
    return np.asarray(hit | (slack < info["tol"][:, None]).any(axis=1), dtype=bool)
