"""Along-road distances and paths on the road graph, in metres (helpers of the priority stage).

:mod:`contigmap.network` measures travel *times*; the cost models need *lengths*: how
far a power line or a fibre cable runs along roads to reach a village, and which
unpaved edges lie on the route to harden. These helpers build length-weighted CSR
matrices from :class:`~contigmap.network.RoadGraph` and run
``scipy.sparse.csgraph.dijkstra`` with a super-source node (index ``n``) that carries
each source's initial offset (its distance off the road and along its edge).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from contigmap.network import RoadGraph, snap_points
from contigmap.network._csr import csr_from_arrays

__all__ = ["Joins", "along_road_to_features", "edge_weight_csr", "feature_points", "join"]


@dataclass(frozen=True)
class Joins:
    """Where points join the graph, in lengths.

    Attributes
    ----------
    edge
        Edge index (``-1``: none).
    leg_m
        Straight distance from the point to its join.
    from_u_m, to_v_m
        Length along the edge from ``u`` to the join and from the join to ``v``.
    """

    edge: NDArray[np.int64]
    leg_m: NDArray[np.float64]
    from_u_m: NDArray[np.float64]
    to_v_m: NDArray[np.float64]


def join(graph: RoadGraph, xy: NDArray[np.float64], *,
         edge_mask: NDArray[np.bool_] | None = None, mask_name: str = "all") -> Joins:
    """Join points to the nearest point of the nearest edge (lengths along the edge).

    ``edge_mask`` and ``mask_name`` restrict the edges as in
    :func:`contigmap.network.snap_points`.
    """
    snap = snap_points(graph, xy, edge_mask=edge_mask, mask_name=mask_name)
    ok = snap.edge >= 0
    cum = graph.cache.get("seg_len_cum")
    if cum is None:  # metres along the segments, once per graph
        cum = np.zeros(graph.seg_len_m.size + 1)
        np.cumsum(graph.seg_len_m, out=cum[1:])
        graph.cache["seg_len_cum"] = cum
    e = np.maximum(snap.edge, 0)
    seg = np.maximum(snap.seg, 0)
    from_u = np.where(ok, cum[seg] - cum[graph.edge_start[e]] + snap.t * graph.seg_len_m[seg], 0.0)
    from_u = np.clip(from_u, 0.0, graph.length_m[e])
    to_v = np.where(ok, graph.length_m[e] - from_u, 0.0)
    return Joins(snap.edge, snap.dist_m, from_u, to_v)


def edge_weight_csr(
    graph: RoadGraph,
    weight: NDArray[np.float64],
    *,
    sources: tuple[NDArray[np.int64], NDArray[np.float64]] | None = None,
) -> csr_matrix:
    """Symmetric CSR of per-edge weights, plus super-source ``n`` → nodes with offsets.

    The super-source is the last row, so the edges' rows are those of the matrix without
    sources: for ``graph.length_m`` they are built once per graph (``graph.cache``) and
    each call appends the sources' row (the matrix :func:`csr_from_arrays` gives for all
    the entries at once).
    """
    n = graph.n_nodes
    if weight is graph.length_m:
        base = graph.cache.get("csr:length_m")
        if base is None:
            base = graph.cache["csr:length_m"] = _edge_rows(graph, weight)
    else:
        base = _edge_rows(graph, weight)
    data, indices, indptr = base
    if sources is None:
        return csr_matrix((data.copy(), indices.copy(), indptr.copy()), shape=(n + 1, n + 1))
    nodes, offset = sources
    # csr_from_arrays keeps explicit zeros (a source on a node); tiny epsilon not needed
    src = csr_from_arrays(np.full(nodes.size, n, np.int64), nodes.astype(np.int64),
                          np.asarray(offset).astype(float), n + 1)
    last = np.asarray([indptr[-1] + src.indptr[-1]], dtype=indptr.dtype)
    return csr_matrix((np.concatenate([data, src.data]),
                       np.concatenate([indices, src.indices]),
                       np.concatenate([indptr[:-1], last])), shape=(n + 1, n + 1))


def _edge_rows(graph: RoadGraph, weight: NDArray[np.float64]
               ) -> tuple[NDArray[np.float64], NDArray[np.int32], NDArray[np.int32]]:
    """Return the data, indices and indptr of the edge matrix (both ways; row ``n`` empty)."""
    rows = np.concatenate([graph.u, graph.v])
    cols = np.concatenate([graph.v, graph.u])
    w = np.concatenate([weight, weight])
    m = csr_from_arrays(rows.astype(np.int64), cols.astype(np.int64), w.astype(float),
                        graph.n_nodes + 1)
    return m.data, m.indices, m.indptr


def feature_points(geoms: NDArray[np.object_], step_m: float = 100.0) -> NDArray[np.float64]:
    """Vertices of lines (densified every ``step_m``) and points, as ``(k, 2)`` coordinates."""
    if len(geoms) == 0:
        return np.zeros((0, 2))
    dense = shapely.segmentize(np.asarray(geoms), step_m)
    return np.asarray(shapely.get_coordinates(dense), dtype=float)


def source_offsets(
    graph: RoadGraph, src_xy: NDArray[np.float64], max_offset_m: float
) -> tuple[NDArray[np.int64], NDArray[np.float64], Joins, NDArray[np.bool_]]:
    """Graph nodes reachable from source points within ``max_offset_m`` of a road.

    Returns the nodes, their initial lengths (offset + along the edge to the node), the
    sources' joins, and which sources were close enough.
    """
    j = join(graph, src_xy)
    near = (j.edge >= 0) & (j.leg_m <= max_offset_m)
    e = j.edge[near]
    nodes = np.concatenate([graph.u[e], graph.v[e]])
    off = np.concatenate([j.leg_m[near] + j.from_u_m[near], j.leg_m[near] + j.to_v_m[near]])
    return nodes, off, j, near


def along_road_to_features(
    graph: RoadGraph,
    points_xy: NDArray[np.float64],
    feature_xy: NDArray[np.float64],
    *,
    max_offset_m: float,
) -> NDArray[np.float64]:
    """Metres from each point, along roads, to the nearest feature point near a road.

    A feature point (a power line vertex, a fibre node) can be reached from the roads
    only if it lies within ``max_offset_m`` of one; the result counts that offset, the
    length along the roads and the point's own leg. Points and features on the same
    edge are measured along the edge. ``inf`` where no feature is reachable.
    """
    n = graph.n_nodes
    out = np.full(points_xy.shape[0], np.inf)
    if feature_xy.shape[0] == 0 or points_xy.shape[0] == 0:
        return out
    nodes, off, fj, near = source_offsets(graph, feature_xy, max_offset_m)
    if nodes.size == 0:
        return out
    m = edge_weight_csr(graph, graph.length_m, sources=(nodes, off))
    dist = np.asarray(dijkstra(m, directed=True, indices=n), dtype=float)
    pj = join(graph, points_xy)
    ok = pj.edge >= 0
    e = np.maximum(pj.edge, 0)
    via = np.minimum(pj.from_u_m + dist[graph.u[e]], pj.to_v_m + dist[graph.v[e]])
    out = np.where(ok, pj.leg_m + via, np.inf)
    # features on the same edge as the point: straight along the edge
    fe = fj.edge[near]
    if fe.size:
        order = np.argsort(fe, kind="stable")
        fe_s = fe[order]
        fpos = fj.from_u_m[near][order]
        fleg = fj.leg_m[near][order]
        lo = np.searchsorted(fe_s, pj.edge, "left")
        hi = np.searchsorted(fe_s, pj.edge, "right")
        for i in np.flatnonzero(ok & (hi > lo)):
            d = np.abs(fpos[lo[i] : hi[i]] - pj.from_u_m[i]) + fleg[lo[i] : hi[i]]
            out[i] = min(out[i], pj.leg_m[i] + float(d.min()))
    return out
