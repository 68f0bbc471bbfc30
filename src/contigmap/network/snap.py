"""Joining points (villages, hamlets, services) to the road graph.

Each point joins the network at the nearest point of the nearest edge — not the
nearest node, as GOSTnets and OSMnx do — found exactly with a shapely STRtree over the
edges' straight segments. The edge is split there by a virtual node (several points on
one edge are chained in order along it), and the point is linked to it by an off-road
walking leg: a footpath walked at Tobler's speed on the DEM grade between the point and
its join, the grade capped at ``leg_max_grade`` and the path lengthened to zigzag up
steeper ground (:meth:`contigmap.network.speeds.NetworkParams.leg_minutes`, where the
choice and its source are documented). A point far from every road keeps that honest
walking time instead of being dropped.

The split is done in an *augmented* copy of the CSR matrix: nodes ``n .. n+P-1`` are the
join points on the edges, nodes ``n+P .. n+2P-1`` the points themselves. Queries run on
that graph contracted around the points (:mod:`contigmap.network.contract`: dangling trees,
degree-2 chains and an independent set of degree-3 nodes removed exactly), built once per
mode and season.
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
from contigmap.network.build import Mode, RoadGraph, csr_from_arrays, sort_keys
from contigmap.network.contract import Core, contract_graph
from contigmap.network.edgetimes import join_partials
from contigmap.network.speeds import Season

__all__ = ["Attachment", "Snap", "attach_points", "snap_points"]


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


def _subset_segments(
    graph: RoadGraph, name: str, edge_mask: NDArray[np.bool_] | None
) -> NDArray[np.int64]:
    key = f"segs:{name}"
    if key not in graph.cache:
        segs = np.flatnonzero(graph.seg_edge >= 0)
        if edge_mask is not None:
            segs = segs[edge_mask[graph.seg_edge[segs]]]
        graph.cache[key] = segs
    out: NDArray[np.int64] = graph.cache[key]
    return out


def _segment_tree(graph: RoadGraph, name: str, segs: NDArray[np.int64]) -> Any:
    key = f"tree:{name}"
    if key not in graph.cache:
        p0 = graph.vertex_xy[segs]
        p1 = graph.vertex_xy[segs + 1]
        graph.cache[key] = shapely.STRtree(shapely.linestrings(np.stack([p0, p1], axis=1)))
    return graph.cache[key]


_MAX_CELLS = 64


def _segment_grid(graph: RoadGraph, name: str, segs: NDArray[np.int64]) -> dict[str, Any]:
    """Bucket segments into square cells by bounding box (cells ≈ the 90th-percentile length)."""
    key = f"grid:{name}"
    if key in graph.cache:
        out: dict[str, Any] = graph.cache[key]
        return out
    vx, vy = graph.vertex_xy[:, 0], graph.vertex_xy[:, 1]
    x0, y0, x1, y1 = vx[segs], vy[segs], vx[segs + 1], vy[segs + 1]
    seg_len = np.hypot(x1 - x0, y1 - y0)
    cell = max(float(np.percentile(seg_len, 90)) if seg_len.size else 1.0, 1.0)
    x0, x1 = np.minimum(x0, x1), np.maximum(x0, x1)
    y0, y1 = np.minimum(y0, y1), np.maximum(y0, y1)
    ox = float(x0.min()) - cell if segs.size else 0.0
    oy = float(y0.min()) - cell if segs.size else 0.0
    origin = np.array([ox, oy])
    ix0 = ((x0 - ox) // cell).astype(np.int64)
    iy0 = ((y0 - oy) // cell).astype(np.int64)
    ix1 = ((x1 - ox) // cell).astype(np.int64)
    iy1 = ((y1 - oy) // cell).astype(np.int64)
    nxs, nys = ix1 - ix0 + 1, iy1 - iy0 + 1
    cnt = nxs * nys
    one = cnt == 1
    if bool(one.all()):  # every segment in one cell (common with small segments)
        rep = np.arange(cnt.size)
        cx, cy = ix0, iy0
    else:
        short = np.flatnonzero(cnt <= _MAX_CELLS)
        c_s = cnt[short]
        rep = np.repeat(short, c_s)
        k = np.arange(rep.size) - np.repeat(np.cumsum(c_s) - c_s, c_s)
        single = one[rep]  # k == 0: no division needed
        cx = ix0[rep].copy()
        cy = iy0[rep].copy()
        m = np.flatnonzero(~single)
        cx[m] += k[m] % nxs[rep[m]]
        cy[m] += k[m] // nxs[rep[m]]
    ny = int(iy1.max()) + 3 if iy1.size else 3
    cid = cx * ny + cy
    order, _ = sort_keys(cid)
    nx_ = int(ix1.max()) + 3 if ix1.size else 3
    cid_sorted = cid[order]
    cstart = None
    if nx_ * ny <= max(4 * cid.size, 1 << 20):  # small enough for a dense cell index
        cstart = np.zeros(nx_ * ny + 1, np.int64)
        np.cumsum(np.bincount(cid_sorted, minlength=nx_ * ny), out=cstart[1:])
    out = {
        "cell": cell, "origin": origin, "ny": ny, "nx": nx_,
        "cid": cid_sorted, "seg": rep[order], "long": np.flatnonzero(cnt > _MAX_CELLS),
        "cstart": cstart,
    }
    graph.cache[key] = out
    return out


def _grid_pass(
    graph: RoadGraph,
    gi: dict[str, Any],
    segs: NDArray[np.int64],
    pts_xy: NDArray[np.float64],
    ring: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Nearest segment among the cells within ``ring`` cells of each point; exact or -1.

    Every segment outside that block is farther than the block's boundary, so a
    candidate no farther than the boundary is the true nearest segment.
    """
    cell, origin, ny, nx_ = gi["cell"], gi["origin"], gi["ny"], gi["nx"]
    n = pts_xy.shape[0]
    rel0 = (pts_xy - origin) / cell
    qx, qy = np.floor(rel0).astype(np.int64).T
    frac = rel0 - np.floor(rel0)
    margin = (ring + np.minimum(np.minimum(frac[:, 0], 1.0 - frac[:, 0]),
                                np.minimum(frac[:, 1], 1.0 - frac[:, 1]))) * cell
    offs = np.arange(-ring, ring + 1)
    w = offs.size * offs.size
    cx = qx[:, None] + np.repeat(offs, offs.size)[None, :]
    cy = qy[:, None] + np.tile(offs, offs.size)[None, :]
    valid = (cx >= 0) & (cy >= 0) & (cx < nx_) & (cy < ny)
    cid = np.where(valid, cx * ny + cy, -1).ravel()
    if gi["cstart"] is not None:  # a dense index of the cells: two gathers
        c = np.maximum(cid, 0)
        st = gi["cstart"][c]
        en = np.where(valid.ravel(), gi["cstart"][c + 1], st)
    else:
        st = np.searchsorted(gi["cid"], cid, "left")
        en = np.where(valid.ravel(), np.searchsorted(gi["cid"], cid, "right"), st)
    cnt = en - st
    n_long = int(gi["long"].size)
    per_point = cnt.reshape(n, w).sum(axis=1) + n_long
    best = np.full(n, -1, np.int64)
    dist = np.full(n, np.inf)
    if int(per_point.sum()) == 0:
        return best, dist
    pos = np.repeat(st, cnt) + np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    sj = gi["seg"][pos]
    pi = np.repeat(np.arange(n), per_point - n_long)
    if n_long:  # long segments (many cells) are checked against every point
        owner = np.concatenate([pi, np.repeat(np.arange(n), n_long)])
        order = np.argsort(owner, kind="stable")
        pi = owner[order]
        sj = np.concatenate([sj, np.tile(gi["long"], n)])[order]
    # column by column (much faster than reductions over the short axis)
    vx, vy = graph.vertex_xy[:, 0], graph.vertex_xy[:, 1]
    s0 = segs[sj]
    ax, ay = vx[s0], vy[s0]
    dx, dy = vx[s0 + 1] - ax, vy[s0 + 1] - ay
    rx, ry = pts_xy[pi, 0] - ax, pts_xy[pi, 1] - ay
    tt = np.clip((rx * dx + ry * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    dd = np.hypot(rx - tt * dx, ry - tt * dy)
    has = np.flatnonzero(per_point > 0)
    gstart = (np.cumsum(per_point) - per_point)[has]
    dmin = np.minimum.reduceat(dd, gstart)
    big = np.iinfo(np.int64).max
    at_min = np.where(dd == np.repeat(dmin, per_point[has]), sj, big)
    best[has] = np.minimum.reduceat(at_min, gstart)
    dist[has] = dmin
    best[dist > margin] = -1
    return best, dist


def _nearest_by_grid(
    graph: RoadGraph, name: str, segs: NDArray[np.int64], pts_xy: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Nearest segment (position in ``segs``) per point from the grid; ``-1``: not resolved.

    First the point's own cell, then the 3 × 3 block for points not yet resolved.
    """
    gi = _segment_grid(graph, name, segs)
    best, _ = _grid_pass(graph, gi, segs, pts_xy, 0)
    rest = np.flatnonzero(best < 0)
    if rest.size:
        best[rest] = _grid_pass(graph, gi, segs, pts_xy[rest], 1)[0]
    return best


def snap_points(
    graph: RoadGraph,
    xy: ArrayLike,
    *,
    edge_mask: NDArray[np.bool_] | None = None,
    mask_name: str = "all",
) -> Snap:
    """Find the nearest point on the nearest edge for each point.

    A uniform grid of segment buckets answers most points exactly in numpy; points
    with no segment within one cell fall back to a shapely STRtree.

    Parameters
    ----------
    graph
        The road graph.
    xy
        ``(P, 2)`` point coordinates in the graph's CRS.
    edge_mask
        Only edges where this is true (e.g. hardened ones); ``mask_name`` names the
        subset for the cached spatial indexes.
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
    segs = _subset_segments(graph, mask_name, edge_mask)
    edge = np.full(n, -1, np.int64)
    seg = np.full(n, -1, np.int64)
    t = np.zeros(n)
    dist = np.full(n, np.inf)
    proj = np.full((n, 2), np.nan)
    if n == 0 or segs.size == 0:
        return Snap(edge, seg, t, dist, proj)
    best = _nearest_by_grid(graph, mask_name, segs, pts_xy)
    rest = np.flatnonzero(best < 0)
    if rest.size:
        tree = _segment_tree(graph, mask_name, segs)
        (pi, si), _ = tree.query_nearest(
            shapely.points(pts_xy[rest]), return_distance=True, all_matches=True
        )
        # all_matches returns every equidistant segment; keep the lowest segment per point
        order = np.lexsort((segs[si], pi))
        pi, si = pi[order], si[order]
        first = np.ones(pi.size, bool)
        first[1:] = pi[1:] != pi[:-1]
        best[rest[pi[first]]] = si[first]
    pi = np.flatnonzero(best >= 0)
    sv = segs[best[pi]]
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

    Points flagged in ``is_node`` (the services: anything a query starts from) become
    nodes of the augmented graph, splitting their edges. The other points (villages,
    hamlets: only ever destinations of a query) are evaluated after Dijkstra from their
    two neighbouring stations on their edge — exactly what the augmented graph would
    give, since such a point is a dead end, but with a graph no larger than the roads.

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
    is_node
        Which points are graph nodes (may be query sources).
    """

    graph: RoadGraph
    xy: NDArray[np.float64]
    snap: Snap
    dem_z: NDArray[np.float64]
    is_node: NDArray[np.bool_]
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_points(self) -> int:
        """Number of points."""
        return int(self.xy.shape[0])

    @property
    def n_node_points(self) -> int:
        """Number of points that are graph nodes."""
        return int(self.is_node.sum())

    def point_nodes(self, idx: ArrayLike | None = None) -> NDArray[np.int64]:
        """Augmented-graph node ids of node points ``idx`` (all node points when omitted)."""
        rank = np.cumsum(self.is_node) - 1
        pts = np.flatnonzero(self.is_node) if idx is None else np.asarray(idx, dtype=np.int64)
        if pts.size and not self.is_node[pts].all():
            bad = int(pts[~self.is_node[pts]][0])
            msg = (f"point {bad} was not attached as a node, so it cannot start a query; "
                   f"pass it in attach_points(..., nodes=)")
            raise NetworkError(msg)
        return np.asarray(self.graph.n_nodes + self.n_node_points + rank[pts], dtype=np.int64)

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

    def leg_geometry(self, mode: Mode, season: Season) -> tuple[Snap, NDArray[np.float64]]:
        """Return the joins used by ``mode`` and the rise (m) from each point to its join."""
        snap = self.snap_for(mode, season)
        g = self.graph
        z_road = (
            g.dem.sample_bilinear(snap.xy[:, 0], snap.xy[:, 1])
            if g.dem is not None
            else np.full(self.n_points, np.nan)
        )
        return snap, np.asarray(np.nan_to_num(z_road - self.dem_z), dtype=float)

    def legs(self, mode: Mode, season: Season) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Off-road walking time (point → road, road → point) in minutes.

        Footpaths at Tobler's speed on the grade capped at ``params.leg_max_grade``,
        lengthened to zigzag up steeper legs (:meth:`NetworkParams.leg_minutes`).
        """
        key = f"legs:{mode}:{season}"
        if key not in self.cache:
            snap, dz = self.leg_geometry(mode, season)
            params = self.graph.params
            t_in, _ = params.leg_minutes(snap.dist_m, dz)
            t_out, _ = params.leg_minutes(snap.dist_m, -dz)
            self.cache[key] = (t_in, t_out)
        out: tuple[NDArray[np.float64], NDArray[np.float64]] = self.cache[key]
        return out

    def _prepare(self, mode: Mode, season: Season) -> dict[str, Any]:
        key = f"prep:{mode}:{season}"
        if key in self.cache:
            out: dict[str, Any] = self.cache[key]
            return out
        g = self.graph
        snap = self.snap_for(mode, season)
        n, p, n_s = g.n_nodes, self.n_points, self.n_node_points
        rank = np.cumsum(self.is_node) - 1
        fwd, bwd, _ = g.edge_times(mode, season)
        ok = np.flatnonzero(snap.edge >= 0)
        e, s, t = snap.edge[ok], snap.seg[ok], snap.t[ok]
        a = g.edge_start[e]

        def partial(name: str, values: NDArray[np.float64]) -> NDArray[np.float64]:
            c = _cum(g, name, values)
            seg_val = np.nan_to_num(values[s], nan=0.0, posinf=0.0)
            return np.asarray(c[s] - c[a] + t * seg_val, dtype=float)

        # partial times from u to each join point, per direction, in the edge's chosen mode
        drive_total = g.drive_dry_min if season == "dry" else g.drive_rainy_min
        cum_f, cum_b = join_partials(
            partial("drive", g.seg_drive_min), partial("walk_f", g.seg_walk_fwd_min),
            partial("walk_b", g.seg_walk_bwd_min), drive_dry=g.drive_dry_min[e],
            drive=drive_total[e], walk_f=g.walk_fwd_min[e], walk_b=g.walk_bwd_min[e],
            wrf=g.walk_rainy_factor[e], mode=mode, season=season)

        order = np.lexsort((t, s, e))
        e, cf, cb, pid = e[order], cum_f[order], cum_b[order], ok[order]
        isn = self.is_node[pid]
        m = e.size
        pos = np.arange(m)
        first = np.ones(m, bool)
        first[1:] = e[1:] != e[:-1]
        last = np.ones(m, bool)
        last[:-1] = e[1:] != e[:-1]

        # node points: chain them along each edge, u, x1, ..., xk, v
        ne, ncf, ncb, npid = e[isn], cf[isn], cb[isn], pid[isn]
        nfirst = np.ones(ne.size, bool)
        nfirst[1:] = ne[1:] != ne[:-1]
        nlast = np.ones(ne.size, bool)
        nlast[:-1] = ne[1:] != ne[:-1]
        xnode = n + rank[npid]
        prev_node = np.where(nfirst, g.u[ne], np.roll(xnode, 1))
        w_f = np.maximum(ncf - np.where(nfirst, 0.0, np.roll(ncf, 1)), 0.0)
        w_b = np.maximum(ncb - np.where(nfirst, 0.0, np.roll(ncb, 1)), 0.0)
        tail_f = np.maximum(fwd[ne[nlast]] - ncf[nlast], 0.0)
        tail_b = np.maximum(bwd[ne[nlast]] - ncb[nlast], 0.0)
        t_in, t_out = self.legs(mode, season)
        node_pts = np.flatnonzero(self.is_node)
        pnode = n + n_s + np.arange(n_s)
        xall = n + np.arange(n_s)
        rows = np.concatenate([g.u, g.v, prev_node, xnode, xnode[nlast], g.v[ne[nlast]],
                               pnode, xall])
        cols = np.concatenate([g.v, g.u, xnode, prev_node, g.v[ne[nlast]], xnode[nlast],
                               xall, pnode])
        w = np.concatenate([fwd, bwd, w_f, w_b, tail_f, tail_b, t_in[node_pts], t_out[node_pts]])
        # the same edges as undirected pairs (a, b) with a weight per direction
        pair_a = np.concatenate([g.u, prev_node, xnode[nlast], pnode])
        pair_b = np.concatenate([g.v, xnode, g.v[ne[nlast]], xall])
        pair_ab = np.concatenate([fwd, w_f, tail_f, t_in[node_pts]])
        pair_ba = np.concatenate([bwd, w_b, tail_b, t_out[node_pts]])
        # coordinates of the augmented nodes (for the core's Morton order)
        join_xy = np.where(np.isfinite(snap.xy), snap.xy, self.xy)[node_pts]
        node_xy = np.vstack([g.node_xy, join_xy, self.xy[node_pts]])

        # other points: their neighbouring stations (node points or edge ends) on the edge
        big = np.iinfo(np.int64).max
        gstart = np.maximum.accumulate(np.where(first, pos, 0))
        gend = np.minimum.accumulate(np.where(last, pos, big)[::-1])[::-1]
        iprev = np.maximum.accumulate(np.where(isn, pos, -1))
        inext = np.minimum.accumulate(np.where(isn, pos, big)[::-1])[::-1]
        has_prev = iprev >= gstart
        has_next = inext <= gend
        ip, inx = np.maximum(iprev, 0), np.minimum(inext, max(m - 1, 0))
        ev = ~isn
        ev_pid = pid[ev]
        ev_prev = np.full(p, -1, np.int64)
        ev_next = np.full(p, -1, np.int64)
        ev_wb = np.full(p, np.inf)
        ev_wf = np.full(p, np.inf)
        ev_prev[ev_pid] = np.where(has_prev, n + rank[pid[ip]], g.u[e])[ev]
        ev_next[ev_pid] = np.where(has_next, n + rank[pid[inx]], g.v[e])[ev]
        ev_wb[ev_pid] = np.maximum(cb - np.where(has_prev, cb[ip], 0.0), 0.0)[ev]
        ev_wf[ev_pid] = np.maximum(np.where(has_next, cf[inx], fwd[e]) - cf, 0.0)[ev]
        out = {
            "rows": rows, "cols": cols, "w": w, "size": n + 2 * n_s,
            "pair_a": pair_a, "pair_b": pair_b, "pair_ab": pair_ab, "pair_ba": pair_ba,
            "node_xy": node_xy,
            "ev_prev": ev_prev, "ev_next": ev_next, "ev_wb": ev_wb, "ev_wf": ev_wf,
            "t_in": t_in,
        }
        self.cache[key] = out
        return out

    def matrix(
        self, mode: Mode = "vehicle", season: Season = "dry", *, transpose: bool = False
    ) -> csr_matrix:
        """Return the augmented directed graph (minutes); ``transpose`` for times *to* sources."""
        key = f"csr:{mode}:{season}:{transpose}"
        if key not in self.cache:
            prep = self._prepare(mode, season)
            rows, cols = prep["rows"], prep["cols"]
            if transpose:
                rows, cols = cols, rows
            self.cache[key] = csr_from_arrays(rows, cols, prep["w"], prep["size"])
        out: csr_matrix = self.cache[key]
        return out

    def core(
        self, mode: Mode = "vehicle", season: Season = "dry", *, transpose: bool = False
    ) -> Core:
        """Return the augmented graph contracted around its node points (cached).

        Dangling trees and degree-2 chains are removed exactly
        (:func:`contigmap.network.contract.contract_graph`); node points stay core nodes,
        so a service on a dead end or inside a chain stays exact. Built once per mode,
        season and direction, and reused by every query.
        """
        key = f"core:{mode}:{season}:{transpose}"
        if key not in self.cache:
            prep = self._prepare(mode, season)
            w_ab, w_ba = prep["pair_ab"], prep["pair_ba"]
            if transpose:
                w_ab, w_ba = w_ba, w_ab
            self.cache[key] = contract_graph(
                prep["size"], prep["pair_a"], prep["pair_b"], w_ab, w_ba,
                keep=self.point_nodes(), node_xy=prep["node_xy"],
            )
        out: Core = self.cache[key]
        return out

    def _point_values(
        self, dist: NDArray[np.float64], mode: Mode, season: Season
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Return all points' times from a node-distance array, and the node each came through."""
        prep = self._prepare(mode, season)
        p = self.n_points
        out = np.full(p, np.inf)
        via = np.full(p, -1, np.int64)
        node_pts = np.flatnonzero(self.is_node)
        pn = self.point_nodes(node_pts)
        out[node_pts] = dist[pn]
        via[node_pts] = pn
        ok = prep["ev_prev"] >= 0
        prev, nxt = prep["ev_prev"][ok], prep["ev_next"][ok]
        back = prep["ev_wb"][ok] + dist[prev]
        ahead = prep["ev_wf"][ok] + dist[nxt]
        out[ok] = prep["t_in"][ok] + np.minimum(back, ahead)
        via[ok] = np.where(back <= ahead, prev, nxt)
        return out, via

    def times_to_nearest(
        self,
        targets: ArrayLike,
        *,
        mode: Mode = "vehicle",
        season: Season = "dry",
        with_source: bool = False,
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Minutes from every point to the nearest of the ``targets`` points, and which.

        Multi-source Dijkstra (``scipy.sparse.csgraph.dijkstra(min_only=True)``) from the
        targets on the reversed graph, so that direction-dependent walking times are
        those of the trip *to* the target. It runs on the contracted core
        (:meth:`core`, built once and cached), and every removed node and point gets its
        exact time afterwards. Returns ``inf`` where unreachable; the second
        array (target point index, ``-1`` when unreachable) only with ``with_source``.
        """
        tg = np.asarray(targets, dtype=np.int64)
        p = self.n_points
        which = np.full(p, -1, np.int64)
        if tg.size == 0:
            return np.full(p, np.inf), which
        core = self.core(mode, season, transpose=True)
        src_core = core.to_core(self.point_nodes(tg))
        if not with_source:
            d_core = dijkstra(core.matrix, directed=True, indices=src_core, min_only=True)
            dist, _ = core.expand(d_core)
            return self._point_values(dist, mode, season)[0], which
        d_core, _, s_core = dijkstra(
            core.matrix, directed=True, indices=src_core, min_only=True,
            return_predecessors=True,
        )
        dist, src = core.expand(d_core, s_core)
        assert src is not None
        times, via = self._point_values(dist, mode, season)
        node_to_point = np.full(core.n_nodes, -1, np.int64)
        node_to_point[self.point_nodes()] = np.flatnonzero(self.is_node)
        has = (via >= 0) & np.isfinite(times)
        which[has] = node_to_point[np.maximum(src[via[has]], 0)]
        return times, which

    def times_to_each(
        self, targets: ArrayLike, *, mode: Mode = "vehicle", season: Season = "dry"
    ) -> NDArray[np.float64]:
        """``(len(targets), P)`` minutes from every point to each target (one Dijkstra each)."""
        tg = np.asarray(targets, dtype=np.int64)
        out = np.full((tg.size, self.n_points), np.inf)
        if tg.size == 0:
            return out
        core = self.core(mode, season, transpose=True)
        for i, node in enumerate(core.to_core(self.point_nodes(tg))):
            dist, _ = core.expand(dijkstra(core.matrix, directed=True, indices=int(node)))
            out[i] = self._point_values(dist, mode, season)[0]
        return out

    def node_times(
        self, targets: ArrayLike, *, mode: Mode = "vehicle", season: Season = "dry"
    ) -> NDArray[np.float64]:
        """Minutes from every *graph node* to the nearest target point."""
        tg = np.asarray(targets, dtype=np.int64)
        if tg.size == 0:
            return np.full(self.graph.n_nodes, np.inf)
        core = self.core(mode, season, transpose=True)
        d_core = dijkstra(core.matrix, directed=True, indices=core.to_core(self.point_nodes(tg)),
                          min_only=True)
        dist, _ = core.expand(d_core)
        return np.asarray(dist[: self.graph.n_nodes], dtype=float)


def attach_points(
    graph: RoadGraph, xy: ArrayLike, *, nodes: ArrayLike | None = None
) -> Attachment:
    """Join points to the graph at the nearest point of the nearest edge.

    Parameters
    ----------
    graph
        The road graph.
    xy
        ``(P, 2)`` coordinates in the graph's CRS.
    nodes
        Indices (or a boolean mask) of the points that queries may start from (services);
        they become graph nodes. All points when omitted. The others are evaluated
        exactly from their edge after each query.

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
    is_node = np.ones(pts.shape[0], bool)
    if nodes is not None:
        sel = np.asarray(nodes)
        is_node = np.zeros(pts.shape[0], bool)
        is_node[sel] = True
    snap = snap_points(graph, pts)
    z = (
        graph.dem.sample_bilinear(pts[:, 0], pts[:, 1])
        if graph.dem is not None
        else np.full(pts.shape[0], np.nan)
    )
    return Attachment(graph=graph, xy=pts, snap=snap, dem_z=z, is_node=is_node)
