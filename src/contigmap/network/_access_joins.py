"""Where villages and targets join the road graph, and a village's time from node distances.

The two halves of :class:`~contigmap.network.access_model.AccessModel`'s definition of
a travel time that do not depend on how node distances are found or updated:

* :func:`join_points`: each point's edge, position on it, walking legs and the minutes
  along the edge from its join to the edge's ends; :func:`by_edge` lists the points
  joined to each edge and :func:`super_arcs` gives the arcs from a query's targets'
  edge ends to the targets;
* :func:`village_best`: a village's minutes to the nearest target from its join point,
  given the node distances (the better of its edge's two ends, or straight along the
  edge when a target shares it) — as
  :meth:`contigmap.network.Attachment.times_to_nearest` defines it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from contigmap.network.edgetimes import partial_at

__all__ = ["Joins", "TargetJoins", "by_edge", "join_points", "super_arcs", "village_best"]


@dataclass(frozen=True)
class Joins:
    """Where points join the road graph.

    Attributes
    ----------
    edge
        Edge of each point (``-1``: not joined).
    pos
        ``(segment, t)`` of each join along its edge.
    t_in, t_out
        Walking legs to and from the road (minutes).
    cf, cb
        Minutes ``u → join`` and ``join → u`` along the edge (``inf``: not joined).
    """

    edge: NDArray[np.int64]
    pos: list[tuple[int, float]]
    t_in: NDArray[np.float64]
    t_out: NDArray[np.float64]
    cf: NDArray[np.float64]
    cb: NDArray[np.float64]


@dataclass(frozen=True)
class TargetJoins:
    """The targets of one query as :func:`village_best` reads them.

    Attributes
    ----------
    on_edge
        The query's targets joined to an edge.
    edge_mask
        Per edge: one of them is joined to it.
    edge, out, cf, cb
        Every target's edge, walking leg from the road, and minutes ``u → join`` and
        ``join → u`` (indexed by target).
    """

    on_edge: NDArray[np.int64]
    edge_mask: NDArray[np.bool_]
    edge: NDArray[np.int64]
    out: NDArray[np.float64]
    cf: NDArray[np.float64]
    cb: NDArray[np.float64]


def join_points(graph: Any, xy: NDArray[np.float64], mode: str, season: str,
                edge_state: Callable[[int], dict[str, Any]]) -> Joins:
    """Join ``xy`` to ``graph`` (nearest road, no node snapping) in ``mode`` and ``season``.

    ``edge_state(e)`` gives edge ``e``'s current times (:func:`~.edgetimes.retime_edge`).
    """
    from contigmap.network.attach import attach_points

    att = attach_points(graph, xy, nodes=np.zeros(0, np.int64))
    t_in, t_out = att.legs(mode, season)  # type: ignore[arg-type]
    edge = att.snap.edge.astype(np.int64)
    cf = np.full(edge.size, np.inf)
    cb = np.full(edge.size, np.inf)
    states: dict[int, dict[str, Any]] = {}
    for i in np.flatnonzero(edge >= 0):
        e = int(edge[i])
        if e not in states:
            states[e] = edge_state(e)
        cf[i], cb[i] = partial_at(states[e], int(att.snap.seg[i]), float(att.snap.t[i]),
                                  mode, season)  # type: ignore[arg-type]
    pos = list(zip(att.snap.seg.tolist(), att.snap.t.tolist(), strict=True))
    return Joins(edge=edge, pos=pos, t_in=t_in, t_out=t_out, cf=cf, cb=cb)


def by_edge(edge: NDArray[np.int64]) -> dict[int, list[int]]:
    """Edge → the points joined to it (in point order; unjoined points left out)."""
    out: dict[int, list[int]] = {}
    for i, e in enumerate(edge.tolist()):
        if e >= 0:
            out.setdefault(e, []).append(i)
    return out


def super_arcs(
    graph: Any, targets: NDArray[np.int64], t_edge: NDArray[np.int64],
    t_out: NDArray[np.float64], bwd: NDArray[np.float64], t_cf: NDArray[np.float64],
    t_cb: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Return the end nodes of the ``targets``' edges and the minutes from each to its target."""
    g = graph
    ok = targets[t_edge[targets] >= 0]
    e = t_edge[ok]
    nodes = np.concatenate([g.u[e], g.v[e]])
    # time u → target (forward along the edge) and v → target (backward)
    w = np.concatenate([t_cf[ok] + t_out[ok], (bwd[e] - t_cb[ok]) + t_out[ok]])
    w = np.maximum(w, 0.0) if w.size else w
    return nodes.astype(np.int64), w


def village_best(
    graph: Any, v_edge: NDArray[np.int64], cf: NDArray[np.float64], cb: NDArray[np.float64],
    fwd: NDArray[np.float64], bwd: NDArray[np.float64], dist_at: Any,
    near: NDArray[np.bool_] | None, targets: TargetJoins,
) -> NDArray[np.float64]:
    """Minutes from each village's join point to the nearest target (no walking leg).

    ``dist_at(nodes)`` gives the node distances to the nearest target; ``near`` marks
    villages on a closed edge, which keep only the nearer of its ends (``None``: none).
    Each value is computed element by element, so it is the same float whichever
    villages are passed.
    """
    g = graph
    e = np.maximum(v_edge, 0)
    du = dist_at(g.u[e])
    dv = dist_at(g.v[e])
    via_u = cb + du
    via_v = (fwd[e] - cf) + dv
    if near is not None and near.any():
        u_nearer = cb <= (bwd[e] - cb)
        via_v = np.where(near & u_nearer, np.inf, via_v)
        via_u = np.where(near & ~u_nearer, np.inf, via_u)
    best = np.minimum(via_u, np.maximum(via_v, 0.0))
    # targets on the same edge: straight along it
    tg = targets.on_edge
    if tg.size:
        same = np.flatnonzero(targets.edge_mask[e] & (v_edge >= 0))
        for i in same.tolist():
            if near is not None and near[i]:
                continue
            on = tg[targets.edge[tg] == v_edge[i]]
            ahead = targets.cf[on] >= cf[i]
            direct = (np.where(ahead, targets.cf[on] - cf[i], cb[i] - targets.cb[on])
                      + targets.out[on])
            best[i] = min(best[i], float(np.maximum(direct, 0.0).min()))
    return np.asarray(best, dtype=float)
