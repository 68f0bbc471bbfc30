"""Points joined to the road graph (:func:`attach_points`) and travel-time queries over them.

Each point joins the network at the nearest point of the nearest edge
(:func:`contigmap.network.snap.snap_points`), linked to it by an off-road walking leg
(:meth:`contigmap.network.speeds.NetworkParams.leg_minutes`).

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
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from contigmap.errors import NetworkError
from contigmap.network.build import Mode, RoadGraph, csr_from_arrays
from contigmap.network.contract import Core, contract_graph
from contigmap.network.edgetimes import join_partials
from contigmap.network.owntimes import DEFAULT_BUDGET, Stations, own_times
from contigmap.network.snap import Snap, snap_points
from contigmap.network.speeds import Season

__all__ = ["Attachment", "attach_points"]


def _cum(graph: RoadGraph, name: str, values: NDArray[np.float64]) -> NDArray[np.float64]:
    key = f"cum:{name}"
    if key not in graph.cache:
        c = np.zeros(values.size + 1)
        np.cumsum(np.nan_to_num(values, nan=0.0, posinf=0.0), out=c[1:])
        graph.cache[key] = c
    out: NDArray[np.float64] = graph.cache[key]
    return out


def _stations(
    e: NDArray[np.int64], cf: NDArray[np.float64], cb: NDArray[np.float64],
    pid: NDArray[np.int64], isn: NDArray[np.bool_], node_of: NDArray[np.int64],
    u: NDArray[np.int64], v: NDArray[np.int64], fwd: NDArray[np.float64], p: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Per point that is not a node: its neighbouring stations on its edge, and the times.

    Joins are sorted by edge and position (``e``, partial times ``cf`` / ``cb``, point
    ids ``pid``, ``isn``: the point is a node, ``node_of``: its node id). Returns, per
    point, the station before it (previous node point, else ``u``) and after it (next
    node point, else ``v``) and the minutes back to the one and ahead to the other.
    """
    m = e.size
    pos = np.arange(m)
    first = np.ones(m, bool)
    first[1:] = e[1:] != e[:-1]
    last = np.ones(m, bool)
    last[:-1] = e[1:] != e[:-1]
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
    ev_prev[ev_pid] = np.where(has_prev, node_of[pid[ip]], u[e])[ev]
    ev_next[ev_pid] = np.where(has_next, node_of[pid[inx]], v[e])[ev]
    ev_wb[ev_pid] = np.maximum(cb - np.where(has_prev, cb[ip], 0.0), 0.0)[ev]
    ev_wf[ev_pid] = np.maximum(np.where(has_next, cf[inx], fwd[e]) - cf, 0.0)[ev]
    return ev_prev, ev_next, ev_wb, ev_wf


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
        ev_prev, ev_next, ev_wb, ev_wf = _stations(
            e, cf, cb, pid, isn, n + rank, g.u, g.v, fwd, p)
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
        """``(len(targets), P)`` minutes from every point to each target (one Dijkstra each).

        Memory and time grow as targets × points: for a few targets only (relocation
        sites). Each point's time to *its own* target is :meth:`times_to_own`.
        """
        tg = np.asarray(targets, dtype=np.int64)
        out = np.full((tg.size, self.n_points), np.inf)
        if tg.size == 0:
            return out
        core = self.core(mode, season, transpose=True)
        for i, node in enumerate(core.to_core(self.point_nodes(tg))):
            dist, _ = core.expand(dijkstra(core.matrix, directed=True, indices=int(node)))
            out[i] = self._point_values(dist, mode, season)[0]
        return out

    def times_to_own(
        self, target_of: ArrayLike, *, mode: Mode = "vehicle", season: Season = "dry",
        budget: int = DEFAULT_BUDGET,
    ) -> NDArray[np.float64]:
        """Minutes from every point to *its own* target point, exactly, in linear memory.

        ``target_of[i]`` is the point index of point ``i``'s target (a node point; ``-1``:
        none). Bounded Dijkstra searches per target on the contracted core
        (:func:`contigmap.network.owntimes.own_times`), never a ``targets × points``
        matrix; ``budget`` caps the elements of one block of distance rows. The values equal
        those of :meth:`times_to_each` read at each point's own target. Returns ``inf``
        without a target or where it cannot be reached.
        """
        tof = np.asarray(target_of, dtype=np.int64).reshape(-1)
        if tof.size != self.n_points:
            msg = (f"target_of has {tof.size} entries for {self.n_points} points; "
                   f"give one target point index (or -1) per point")
            raise NetworkError(msg)
        core = self.core(mode, season, transpose=True)
        has = tof >= 0
        target_core = np.full(self.n_points, -1, np.int64)
        if has.any():
            target_core[has] = core.to_core(self.point_nodes(tof[has]))
        return own_times(core, self._stations(mode, season), target_core, budget=budget,
                         core_xy=self.core_xy(mode, season))

    def core_xy(self, mode: Mode = "vehicle", season: Season = "dry") -> NDArray[np.float64]:
        """``(n_core, 2)`` coordinates of the nodes of :meth:`core` (``transpose=True``)."""
        core = self.core(mode, season, transpose=True)
        return np.asarray(self._prepare(mode, season)["node_xy"][core.core_nodes], dtype=float)

    def _stations(self, mode: Mode, season: Season) -> Stations:
        """Every point's stations (itself if a node, else its edge's neighbours)."""
        prep = self._prepare(mode, season)
        node_pts = np.flatnonzero(self.is_node)
        ev = np.flatnonzero(prep["ev_prev"] >= 0)
        point = np.concatenate([node_pts, ev, ev])
        node = np.concatenate([self.point_nodes(node_pts), prep["ev_prev"][ev],
                               prep["ev_next"][ev]])
        w = np.concatenate([np.zeros(node_pts.size), prep["ev_wb"][ev], prep["ev_wf"][ev]])
        order = np.argsort(point, kind="stable")
        base = np.where(self.is_node, 0.0, prep["t_in"])
        return Stations(point=point[order], node=node[order], w=w[order],
                        base=np.asarray(base, dtype=float))

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
        Query object: :meth:`Attachment.times_to_nearest`, :meth:`Attachment.times_to_own`,
        :meth:`Attachment.times_to_each`.
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
