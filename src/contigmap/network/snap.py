"""Joining points (villages, hamlets, services) to the road graph.

Each point joins the network at the nearest point of the nearest edge — not the
nearest node, as GOSTnets and OSMnx do — found exactly with a shapely STRtree over the
edges' straight segments. The edge is split there by a virtual node (several points on
one edge are chained in order along it), and the point is linked to it by an off-road
walking leg: a straight line whose time follows Tobler's hiking function on the DEM
slope times the off-path factor (Tobler: 3/5). A point far from every road keeps that
honest walking time instead of being dropped.

The split is done in an *augmented* copy of the CSR matrix: nodes ``n .. n+P-1`` are the
join points on the edges, nodes ``n+P .. n+2P-1`` the points themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from contigmap.errors import NetworkError
from contigmap.network.build import Mode, RoadGraph, csr_from_arrays
from contigmap.network.speeds import Season, tobler_kmh

__all__ = ["Attachment", "Snap", "attach_points", "snap_points"]

_KMH_TO_M_PER_MIN = 1000.0 / 60.0


@dataclass(frozen=True, eq=False)
class Snap:
    """Where points join the graph.

    Attributes
    ----------
    edge
        Edge index (``-1``: no usable edge).
    seg
        Vertex index of the segment's start (into ``graph.vertex_xy``).
    t
        Position along that segment, 0..1.
    dist_m
        Straight-line distance from the point to the join point.
    xy
        The join point.
    """

    edge: NDArray[np.int64]
    seg: NDArray[np.int64]
    t: NDArray[np.float64]
    dist_m: NDArray[np.float64]
    xy: NDArray[np.float64]


def _segment_tree(graph: RoadGraph, name: str, edge_mask: NDArray[np.bool_] | None) -> Any:
    key = f"tree:{name}"
    if key not in graph.cache:
        segs = np.flatnonzero(graph.seg_edge >= 0)
        if edge_mask is not None:
            segs = segs[edge_mask[graph.seg_edge[segs]]]
        p0 = graph.vertex_xy[segs]
        p1 = graph.vertex_xy[segs + 1]
        lines = shapely.linestrings(np.stack([p0, p1], axis=1))
        graph.cache[key] = (shapely.STRtree(lines), segs)
    return graph.cache[key]


def snap_points(
    graph: RoadGraph,
    xy: ArrayLike,
    *,
    edge_mask: NDArray[np.bool_] | None = None,
    mask_name: str = "all",
) -> Snap:
    """Nearest point on the nearest edge for each point.

    Parameters
    ----------
    graph
        The road graph.
    xy
        ``(P, 2)`` point coordinates in the graph's CRS.
    edge_mask
        Only edges where this is true (e.g. hardened ones); ``mask_name`` names the
        subset for the cached spatial index.
    mask_name
        Cache key of the subset.

    Returns
    -------
    Snap
        One join per point; ``edge == -1`` and ``dist_m == inf`` when no edge qualifies.
        Ties go to the lowest segment index, so results are deterministic.
    """
    pts_xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = pts_xy.shape[0]
    tree, segs = _segment_tree(graph, mask_name, edge_mask)
    edge = np.full(n, -1, np.int64)
    seg = np.full(n, -1, np.int64)
    t = np.zeros(n)
    dist = np.full(n, np.inf)
    proj = np.full((n, 2), np.nan)
    if n == 0 or segs.size == 0:
        return Snap(edge, seg, t, dist, proj)
    pts = shapely.points(pts_xy)
    (pi, si), _ = tree.query_nearest(pts, return_distance=True, all_matches=True)
    # all_matches returns every equidistant segment; keep the lowest segment per point
    order = np.lexsort((segs[si], pi))
    pi, si = pi[order], si[order]
    first = np.ones(pi.size, bool)
    first[1:] = pi[1:] != pi[:-1]
    pi, sv = pi[first], segs[si[first]]
    a = graph.vertex_xy[sv]
    d = graph.vertex_xy[sv + 1] - a
    rel = pts_xy[pi] - a
    tt = np.clip((rel * d).sum(axis=1) / (d * d).sum(axis=1), 0.0, 1.0)
    foot = a + tt[:, None] * d
    edge[pi] = graph.seg_edge[sv]
    seg[pi] = sv
    t[pi] = tt
    proj[pi] = foot
    dist[pi] = np.hypot(*(pts_xy[pi] - foot).T)
    return Snap(edge, seg, t, dist, proj)


def _cum(graph: RoadGraph, name: str, values: NDArray[np.float64]) -> NDArray[np.float64]:
    key = f"cum:{name}"
    if key not in graph.cache:
        c = np.zeros(values.size + 1)
        np.cumsum(np.nan_to_num(values, nan=0.0, posinf=0.0), out=c[1:])
        graph.cache[key] = c
    out: NDArray[np.float64] = graph.cache[key]
    return out


@dataclass(eq=False)
class Attachment:
    """Points joined to a graph, with augmented CSR matrices per mode and season.

    Attributes
    ----------
    graph
        The road graph.
    xy
        The points.
    snap
        Their joins (to any edge; ``drive`` mode re-snaps to drivable edges).
    dem_z
        Elevation at the points (``nan`` without a DEM).
    """

    graph: RoadGraph
    xy: NDArray[np.float64]
    snap: Snap
    dem_z: NDArray[np.float64]
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_points(self) -> int:
        """Number of points."""
        return int(self.xy.shape[0])

    def point_nodes(self, idx: ArrayLike | None = None) -> NDArray[np.int64]:
        """Augmented-graph node ids of points ``idx`` (all points when omitted)."""
        base = self.graph.n_nodes + self.n_points
        if idx is None:
            return base + np.arange(self.n_points, dtype=np.int64)
        return base + np.asarray(idx, dtype=np.int64)

    def snap_for(self, mode: Mode, season: Season) -> Snap:
        """Return the joins used by ``mode``: drivable edges of the season for ``drive``."""
        if mode != "drive":
            return self.snap
        key = f"snap:drive:{season}"
        if key not in self.cache:
            drive = self.graph.drive_dry_min if season == "dry" else self.graph.drive_rainy_min
            self.cache[key] = snap_points(
                self.graph, self.xy, edge_mask=np.isfinite(drive), mask_name=f"drive:{season}"
            )
        out: Snap = self.cache[key]
        return out

    def legs(self, mode: Mode, season: Season) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Off-road walking time (point → road, road → point) in minutes."""
        snap = self.snap_for(mode, season)
        g = self.graph
        z_road = (
            g.dem.sample_bilinear(snap.xy[:, 0], snap.xy[:, 1])
            if g.dem is not None
            else np.full(self.n_points, np.nan)
        )
        d = snap.dist_m
        with np.errstate(invalid="ignore", divide="ignore"):
            grade = np.where(d > 0, np.nan_to_num(z_road - self.dem_z) / d, 0.0)
        grade = np.nan_to_num(grade, nan=0.0, posinf=0.0, neginf=0.0)
        f = g.params.offroad_walk_factor * _KMH_TO_M_PER_MIN
        t_in = np.where(d > 0, d / (tobler_kmh(grade) * f), 0.0)
        t_out = np.where(d > 0, d / (tobler_kmh(-grade) * f), 0.0)
        t_in[~np.isfinite(d)] = np.inf
        t_out[~np.isfinite(d)] = np.inf
        return t_in, t_out

    def matrix(
        self, mode: Mode = "vehicle", season: Season = "dry", *, transpose: bool = False
    ) -> csr_matrix:
        """Return the augmented directed graph (minutes); ``transpose`` for times *to* sources."""
        key = f"csr:{mode}:{season}:{transpose}"
        if key in self.cache:
            out: csr_matrix = self.cache[key]
            return out
        g = self.graph
        snap = self.snap_for(mode, season)
        n, p = g.n_nodes, self.n_points
        fwd, bwd, _ = g.edge_times(mode, season)
        # partial times from u to each join point, per direction, in the edge's chosen mode
        ok = np.flatnonzero(snap.edge >= 0)
        e, s, t = snap.edge[ok], snap.seg[ok], snap.t[ok]
        a = g.edge_start[e]

        def partial(name: str, values: NDArray[np.float64]) -> NDArray[np.float64]:
            c = _cum(g, name, values)
            seg_val = np.nan_to_num(values[s], nan=0.0, posinf=0.0)
            return np.asarray(c[s] - c[a] + t * seg_val, dtype=float)

        pd = partial("drive", g.seg_drive_min)
        pwf = partial("walk_f", g.seg_walk_fwd_min)
        pwb = partial("walk_b", g.seg_walk_bwd_min)
        drive_total = g.drive_dry_min if season == "dry" else g.drive_rainy_min
        with np.errstate(invalid="ignore", divide="ignore"):
            dscale = np.where(
                np.isfinite(drive_total[e]), drive_total[e] / g.drive_dry_min[e], np.inf
            )
        wscale = 1.0 / g.walk_rainy_factor[e] if season == "rainy" else np.ones(e.size)
        with np.errstate(invalid="ignore"):
            drive_p = pd * dscale
        walk_f_p, walk_b_p = pwf * wscale, pwb * wscale
        if mode == "walk":
            cum_f, cum_b = walk_f_p, walk_b_p
        elif mode == "drive":
            cum_f, cum_b = drive_p, drive_p
        else:
            # the same choice as RoadGraph.edge_times: drive when not slower than walking
            walk_tot_f = g.walk_fwd_min[e] * wscale
            walk_tot_b = g.walk_bwd_min[e] * wscale
            cum_f = np.where(drive_total[e] <= walk_tot_f, drive_p, walk_f_p)
            cum_b = np.where(drive_total[e] <= walk_tot_b, drive_p, walk_b_p)
        # chain the join points of each edge in order: u, x1, ..., xk, v
        order = np.lexsort((t, s, e))
        e, cf, cb, pid = e[order], cum_f[order], cum_b[order], ok[order]
        first = np.ones(e.size, bool)
        first[1:] = e[1:] != e[:-1]
        last = np.ones(e.size, bool)
        last[:-1] = e[1:] != e[:-1]
        xnode = n + pid
        prev_node = np.where(first, g.u[e], np.roll(xnode, 1))
        prev_f = np.where(first, 0.0, np.roll(cf, 1))
        prev_b = np.where(first, 0.0, np.roll(cb, 1))
        w_f = np.maximum(cf - prev_f, 0.0)
        w_b = np.maximum(cb - prev_b, 0.0)
        tail_f = np.maximum(fwd[e[last]] - cf[last], 0.0)
        tail_b = np.maximum(bwd[e[last]] - cb[last], 0.0)
        t_in, t_out = self.legs(mode, season)
        pnode = n + p + np.arange(p)
        xall = n + np.arange(p)
        rows = np.concatenate([
            g.u, g.v,
            prev_node, xnode,
            xnode[last], g.v[e[last]],
            pnode, xall,
        ])
        cols = np.concatenate([
            g.v, g.u,
            xnode, prev_node,
            g.v[e[last]], xnode[last],
            xall, pnode,
        ])
        w = np.concatenate([fwd, bwd, w_f, w_b, tail_f, tail_b, t_in, t_out])
        if transpose:
            rows, cols = cols, rows
        m = csr_from_arrays(rows, cols, w, n + 2 * p)
        self.cache[key] = m
        return m

    def times_to_nearest(
        self,
        targets: ArrayLike,
        *,
        mode: Mode = "vehicle",
        season: Season = "dry",
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Minutes from every point to the nearest of the ``targets`` points, and which.

        Multi-source Dijkstra (``scipy.sparse.csgraph.dijkstra(min_only=True)``) from the
        targets on the reversed graph, so that direction-dependent walking times are
        those of the trip *to* the target. Returns ``inf`` / ``-1`` where unreachable.
        """
        tg = np.asarray(targets, dtype=np.int64)
        p = self.n_points
        if tg.size == 0:
            return np.full(p, np.inf), np.full(p, -1, np.int64)
        m = self.matrix(mode, season, transpose=True)
        dist, _, src = dijkstra(
            m, directed=True, indices=self.point_nodes(tg), min_only=True,
            return_predecessors=True,
        )
        pn = self.point_nodes()
        near = np.asarray(src[pn], dtype=np.int64)
        which = np.full(p, -1, np.int64)
        has = near >= 0
        which[has] = near[has] - (self.graph.n_nodes + p)
        return np.asarray(dist[pn], dtype=float), which

    def times_to_each(
        self, targets: ArrayLike, *, mode: Mode = "vehicle", season: Season = "dry"
    ) -> NDArray[np.float64]:
        """``(len(targets), P)`` minutes from every point to each target (one Dijkstra each)."""
        tg = np.asarray(targets, dtype=np.int64)
        out = np.full((tg.size, self.n_points), np.inf)
        if tg.size == 0:
            return out
        m = self.matrix(mode, season, transpose=True)
        pn = self.point_nodes()
        for i, node in enumerate(self.point_nodes(tg)):
            out[i] = dijkstra(m, directed=True, indices=int(node))[pn]
        return out

    def node_times(
        self, targets: ArrayLike, *, mode: Mode = "vehicle", season: Season = "dry"
    ) -> NDArray[np.float64]:
        """Minutes from every *graph node* to the nearest target point."""
        tg = np.asarray(targets, dtype=np.int64)
        if tg.size == 0:
            return np.full(self.graph.n_nodes, np.inf)
        m = self.matrix(mode, season, transpose=True)
        dist = dijkstra(m, directed=True, indices=self.point_nodes(tg), min_only=True)
        return np.asarray(dist[: self.graph.n_nodes], dtype=float)


def attach_points(graph: RoadGraph, xy: ArrayLike) -> Attachment:
    """Join points to the graph at the nearest point of the nearest edge.

    Parameters
    ----------
    graph
        The road graph.
    xy
        ``(P, 2)`` coordinates in the graph's CRS.

    Returns
    -------
    Attachment
        Query object: :meth:`Attachment.times_to_nearest`, :meth:`Attachment.times_to_each`.
    """
    pts = np.asarray(xy, dtype=float).reshape(-1, 2)
    if not np.isfinite(pts).all():
        bad = int(np.flatnonzero(~np.isfinite(pts).all(axis=1))[0])
        msg = f"point {bad} has no valid coordinates; drop or fix it before routing"
        raise NetworkError(msg)
    if graph.n_edges == 0:
        msg = "the road graph has no edges; check the roads layer"
        raise NetworkError(msg)
    snap = snap_points(graph, pts)
    z = (
        graph.dem.sample_bilinear(pts[:, 0], pts[:, 1])
        if graph.dem is not None
        else np.full(pts.shape[0], np.nan)
    )
    return Attachment(graph=graph, xy=pts, snap=snap, dem_z=z)
