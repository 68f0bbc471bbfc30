"""The drawn course of a shuttle-bus line in ``contigmap serve``: its stops joined along roads.

A scenario's bus line is a list of stops (lon/lat or village ids); the scenario model
measures walking access to the stops and does not route the bus. For the map, each pair
of consecutive stops is joined by the fastest road path of the served baseline graph
(vehicle minutes in the dry season; Dijkstra, :func:`scipy.sparse.csgraph.dijkstra`,
from the road node nearest the first stop to the one nearest the second), drawn along
the edges' polylines; a pair with no path, or a graph above :data:`MAX_ROUTED_EDGES`
edges, is joined by a straight segment.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra

__all__ = ["MAX_ROUTED_EDGES", "bus_course"]

#: Graphs above this many edges draw bus lines as straight stop-to-stop segments.
MAX_ROUTED_EDGES = 300_000


def _edge_between(graph: Any, a: int, b: int, w: NDArray[np.float64]) -> int:
    """Return the fastest edge joining nodes ``a`` and ``b`` (``-1``: none)."""
    key = graph.cache.get("serve:pairkey")
    if key is None:
        n = graph.n_nodes
        k = np.minimum(graph.u, graph.v) * n + np.maximum(graph.u, graph.v)
        order = np.argsort(k, kind="stable")
        key = graph.cache["serve:pairkey"] = (k[order], order)
    keys, order = key
    q = min(a, b) * graph.n_nodes + max(a, b)
    lo, hi = np.searchsorted(keys, q, "left"), np.searchsorted(keys, q, "right")
    if lo == hi:
        return -1
    cand = order[lo:hi]
    return int(cand[np.argmin(w[cand])])


def _leg(graph: Any, a: int, b: int) -> NDArray[np.float64] | None:
    """Return the working-CRS vertices of the fastest path from node ``a`` to node ``b``."""
    csr = graph.csr("vehicle", "dry")
    _, pred = dijkstra(csr, directed=True, indices=a, return_predecessors=True)
    if a != b and pred[b] < 0:
        return None
    nodes = [b]
    while nodes[-1] != a:
        nodes.append(int(pred[nodes[-1]]))
    nodes.reverse()
    fwd, bwd, _ = graph.edge_times("vehicle", "dry")
    parts = [graph.node_xy[a][None, :]]
    for p, q in itertools.pairwise(nodes):
        e = _edge_between(graph, p, q, np.minimum(fwd, bwd))
        if e < 0:
            parts.append(graph.node_xy[q][None, :])
            continue
        xy = graph.vertex_xy[graph.edge_start[e]: graph.edge_end[e] + 1]
        parts.append(xy if graph.u[e] == p else xy[::-1])
    return np.vstack(parts)


def bus_course(graph: Any, tree: Any, stops_xy: NDArray[np.float64]) -> list[list[float]]:
    """Lon/lat (6 decimals) of a bus line's course through its stops (working CRS in).

    Parameters
    ----------
    graph
        The served road graph (:class:`contigmap.network.RoadGraph`).
    tree
        A :class:`scipy.spatial.cKDTree` of ``graph.node_xy``.
    stops_xy
        ``(S, 2)`` stops in the graph's CRS, in the line's order.
    """
    xy = np.asarray(stops_xy, dtype=float).reshape(-1, 2)
    parts = [xy[:1]]
    routed = graph.n_edges <= MAX_ROUTED_EDGES
    for s, t in itertools.pairwise(xy):
        leg = None
        if routed:
            (_, a), (_, b) = tree.query(s), tree.query(t)
            leg = _leg(graph, int(a), int(b))
        parts.append(np.vstack([leg, t[None, :]]) if leg is not None else t[None, :])
    line = np.vstack(parts)
    to_ll = Transformer.from_crs(graph.crs, 4326, always_xy=True)
    lon, lat = to_ll.transform(line[:, 0], line[:, 1])
    return [[round(float(x), 6), round(float(y), 6)] for x, y in zip(lon, lat, strict=True)]
