"""New roads on the live path of ``contigmap serve``: inserted as new edges.

A ``build`` change whose line starts and ends at nodes of the baseline graph (the
editor snaps both clicks to network junctions) adds, in the graph that
:func:`contigmap.scenario.evaluate_scenario` rebuilds, exactly one edge between those two
nodes and changes no other edge (:mod:`contigmap.network.build` splits lines only at
shared vertices, and the line's ends already are nodes). :func:`prepare_new_roads`
checks that this holds and builds the new edges as a graph of their own with the
baseline's settings and DEM (so their times are those of the rebuilt graph); the live
model then evaluates them as new arcs, a decrease, with the exact incremental shortest
paths of Ramalingam and Reps (1996) (:func:`contigmap.network.incremental.update_distances`),
re-joins the villages now nearer to a new road than to their own, and updates the
flags with the new edges (``isolated``, ``hardened_to_township``, ``all_season_2km``).

Kept for the full evaluation (the reason is returned instead): a line between two
villages (routed over the DEM), an end that joins a road mid-edge (the rebuilt graph
splits that road), an interior vertex within the snapping tolerance of a road, a new
road parallel to an edge or another new road, a seat that would join a new road, and
regions without a county outline (the scenario's area check needs it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape

from contigmap.network import build_network
from contigmap.network._access_joins import Joins, join_points
from contigmap.network.edgetimes import retime_edge
from contigmap.network.snap import snap_points
from contigmap.scenario.model import BuildChange, Scenario

__all__ = ["NewRoads", "end_nodes", "prepare_new_roads", "times_with_new_roads"]

_JOIN_MAX_M = 2000.0
_AT_NODE_M = 1e-3
_Q = 1000.0  # vertex identity of :mod:`contigmap.network.topology`: equal to 1 mm


@dataclass
class NewRoads:
    """New edges between baseline nodes, ready for the live model.

    Attributes
    ----------
    graph
        The new lines as a graph of their own (baseline settings and DEM).
    a, b
        Per new edge: the baseline node at its ``u`` and at its ``v`` end.
    geoms
        The new edges' lines (working CRS).
    """

    graph: Any
    a: NDArray[np.int64]
    b: NDArray[np.int64]
    geoms: NDArray[Any]

    @property
    def size(self) -> int:
        """Number of new edges."""
        return int(self.a.size)

    def joins(self, xy: NDArray[np.float64], mode: str, season: str) -> Joins:
        """Join points to the new edges (walking legs, minutes along the edge)."""
        g = self.graph
        return join_points(g, xy, mode, season, lambda e: retime_edge(
            g, e, int(g.road_class[e]), int(g.surface[e]), False, mode,  # type: ignore[arg-type]
            season))  # type: ignore[arg-type]

    def nearer(self, xy: NDArray[np.float64], cur: NDArray[np.float64]
               ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Return the points strictly nearer to a new edge than ``cur``, with the distances.

        Distances as :func:`~contigmap.network.snap.snap_points` measures them (the
        baseline's ``dist_road_m``), computed for the points a first shapely distance
        puts within a millimetre of ``cur`` or nearer.
        """
        if xy.shape[0] == 0:
            return np.zeros(0, np.int64), np.zeros(0)
        pts = shapely.points(xy)
        d0 = shapely.distance(pts[:, None], self.geoms[None, :]).min(axis=1)
        cand = np.flatnonzero(d0 <= cur + 1e-3)
        d = snap_points(self.graph, xy[cand]).dist_m
        keep = d < cur[cand]
        return cand[keep].astype(np.int64), np.asarray(d[keep], dtype=float)

    def near(self, xy: NDArray[np.float64], radius: float,
             mask: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                               NDArray[np.float64]]:
        """``(point, new edge, distance)`` of the new edges in ``mask`` within ``radius``."""
        pts = shapely.points(xy)
        keep = np.flatnonzero(mask)
        if pts.size == 0 or keep.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        tree = shapely.STRtree(self.geoms[keep])
        p, k = tree.query(pts, predicate="dwithin", distance=radius)
        e = keep[k]
        d = shapely.distance(pts[p], self.geoms[e])
        return p.astype(np.int64), e.astype(np.int64), np.asarray(d, dtype=float)


def _incidence(graph: Any) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Node → incident edges as CSR ``(start, edges)``."""
    n = int(graph.n_nodes)
    ends = np.concatenate([graph.u, graph.v]).astype(np.int64)
    edges = np.concatenate([np.arange(graph.n_edges), np.arange(graph.n_edges)]).astype(np.int64)
    order = np.argsort(ends, kind="stable")
    start = np.searchsorted(ends[order], np.arange(n + 1))
    return start.astype(np.int64), edges[order]


def end_nodes(graph: Any, memo: dict[str, Any], sc: Scenario, roads: gpd.GeoDataFrame,
              has_outline: bool) -> tuple[list[int], NDArray[np.int64]] | str:
    """Return the baseline nodes the new roads end at, and the edges at those nodes.

    Returns the reason for a full evaluation instead when a new road is not a new edge
    between two baseline nodes (module docstring).
    """
    builds = [ch for ch in sc.changes if isinstance(ch, BuildChange)]
    if any(ch.geometry is None for ch in builds):
        return "a new road between villages (routed over the DEM)"
    if not has_outline:
        return "a new road in a region without a county outline"
    ends: list[NDArray[np.float64]] = []
    inner: list[NDArray[np.float64]] = []
    for ch in builds:
        geom = ch.geometry
        try:
            g = shapely.from_wkt(geom) if isinstance(geom, str) else shape(geom)
            line = gpd.GeoSeries([g], crs="EPSG:4326").to_crs(roads.crs).iloc[0]
        except Exception:  # the full evaluation words the error
            return "a new road's geometry is not a valid line"
        if line.geom_type != "LineString":
            return "a new road's geometry is not a LineString"
        xy = np.asarray(line.coords)[:, :2]
        ends.append(xy[[0, -1]])
        inner.append(xy[1:-1])
    exy = np.vstack(ends)
    snap = snap_points(graph, exy)
    if not (snap.dist_m <= _JOIN_MAX_M).all():
        return "a new road far from the network"
    e = np.maximum(snap.edge, 0)
    nodes: list[int] = []
    for k in range(exy.shape[0]):
        cand = [int(graph.u[e[k]]), int(graph.v[e[k]])]
        d = [float(np.hypot(*(graph.node_xy[c] - snap.xy[k]))) for c in cand]
        if min(d) > _AT_NODE_M:
            return "a new road ending mid-edge (the rebuilt graph splits that road)"
        nodes.append(cand[int(np.argmin(d))])
    mid = np.vstack(inner)
    if mid.size:
        tol = max(float(graph.params.snap_tolerance_m), 0.01) * 2.0
        if (snap_points(graph, mid).dist_m <= tol).any():
            return "a new road with a vertex on or near a road"
    if "incidence" not in memo:
        memo["incidence"] = _incidence(graph)
    start, inc = memo["incidence"]
    at = np.concatenate([inc[start[x]:start[x + 1]] for x in nodes])
    # the scenario joins each end to the nearest line of the roads layer: it must be one
    # of the graph's roads at that node (not a duplicate line the graph dropped)
    for k, x in enumerate(nodes):
        near = roads.sindex.query(shapely.points(exy[k]), predicate="dwithin",
                                  distance=float(snap.dist_m[k]) + _AT_NODE_M)
        rows = graph.road_row[inc[start[x]:start[x + 1]]]
        if not np.isin(near, rows).all():
            return "a new road ending beside a road the graph dropped (a duplicate line)"
    return nodes, np.unique(at)


def _same_vertex(graph: Any, incidence: tuple[NDArray[np.int64], NDArray[np.int64]],
                 nodes: NDArray[np.int64], xy: NDArray[np.float64]) -> bool:
    """Whether every edge at each node ends at the new road's end vertex (to 1 mm).

    The graph builder takes vertices equal to 1 mm for one vertex. A road end digitised
    beside a junction and joined to it by the builder's snapping (``snap_tolerance_m``)
    has a vertex of its own there, and a new road ending beside the junction's vertex
    (in another millimetre cell) would not share it; either way the rebuilt graph differs.
    """
    start, inc = incidence
    for x, p in zip(nodes.tolist(), xy, strict=True):
        e = inc[start[x]:start[x + 1]]
        vx = np.concatenate([graph.vertex_xy[graph.edge_start[e[graph.u[e] == x]]],
                             graph.vertex_xy[graph.edge_end[e[graph.v[e] == x]]]])
        if vx.size and (np.round(vx * _Q) != np.round(np.asarray(p) * _Q)).any():
            return False
    return True


def prepare_new_roads(graph: Any, nodes: list[int], lines: list[Any], roads: gpd.GeoDataFrame,
                      dem: Any, incidence: tuple[NDArray[np.int64], NDArray[np.int64]]
                      ) -> NewRoads | str:
    """Build the new lines (``roads``: the applied scenario's new rows) as new edges.

    ``nodes`` are the baseline nodes of the lines' ends (two per line, from
    :func:`end_nodes`; ``incidence``: node → edges). Returns the reason
    for a full evaluation when the lines are not one new edge each between those nodes.
    """
    tiny = build_network(roads, dem=dem, params=graph.params)
    if tiny.n_edges != len(lines):
        return "new roads that cross or join each other"
    ends = np.asarray(nodes, dtype=np.int64).reshape(-1, 2)
    a = np.full(tiny.n_edges, -1, np.int64)
    b = np.full(tiny.n_edges, -1, np.int64)
    for side, arr in ((tiny.u, a), (tiny.v, b)):
        xy = tiny.node_xy[side]
        cand = graph.node_xy[ends.ravel()]
        d = np.hypot(xy[:, None, 0] - cand[None, :, 0], xy[:, None, 1] - cand[None, :, 1])
        k = d.argmin(axis=1)
        if (d[np.arange(k.size), k] > _AT_NODE_M).any():
            return "a new road whose end is not a network node"
        arr[:] = ends.ravel()[k]
        if not _same_vertex(graph, incidence, arr, xy):
            return "a new road ending at a junction of road ends joined within the tolerance"
    if (a == b).any():
        return "a new road from a junction back to itself"
    key = np.minimum(a, b) * graph.n_nodes + np.maximum(a, b)
    if np.unique(key).size != key.size:
        return "two new roads between the same junctions"
    gk = (np.minimum(graph.u, graph.v).astype(np.int64) * graph.n_nodes
          + np.maximum(graph.u, graph.v))
    if np.isin(gk, key).any():
        return "a new road beside an existing edge between the same junctions"
    geoms = np.asarray(tiny.edges_gdf().geometry.values)
    return NewRoads(graph=tiny, a=a, b=b, geoms=geoms)


def _decreases(m: Any, ch: Any, st: dict[str, Any], nr: NewRoads, fwd: NDArray[np.float64],
               bwd: NDArray[np.float64]) -> tuple[Any, Any, Any] | None:
    """Return the arcs of ``ch`` and the new roads if all of them only shorten (else None).

    ``None`` too when a changed edge has a parallel edge (as :meth:`AccessModel.evaluate`).
    """
    tails, heads, ws = [nr.b, nr.a], [nr.a, nr.b], [fwd, bwd]
    if ch.edges.size:
        if m._multi_edges()[ch.edges].any():
            return None
        arcs = m._decrease_arcs(ch, st)
        if arcs is None:
            return None
        tails.insert(0, arcs[0])
        heads.insert(0, arcs[1])
        ws.insert(0, arcs[2])
    return np.concatenate(tails), np.concatenate(heads), np.concatenate(ws)


def times_with_new_roads(m: Any, ch: Any, nr: NewRoads,
                         join: tuple[NDArray[np.int64], Joins]
                         ) -> dict[str, NDArray[np.float64]]:
    """Village minutes per query of ``m`` after the edge change ``ch`` and the new roads.

    ``join`` is ``(villages, joins)``: the villages now joined to a new edge and their
    joins there. Every other village keeps its join (re-timed by ``ch``). New edges are
    arcs between existing nodes (on the reversed graph: ``b → a`` carries travel
    ``a → b``). When every arc only shortens and no target sits on a changed edge, the
    decreases are propagated directly and stop at the query's bound beyond which no
    village's time can change (:meth:`AccessModel._focus`; unbounded when villages join a
    new road); otherwise :func:`update_distances` repairs the distances.
    """
    from contigmap.network.incremental import ArcChanges, propagate_decreases, update_distances

    st = m._apply(ch)
    near = m._near_only(st["closed"])
    fwd, bwd, _ = nr.graph.edge_times(m.mode, m.season)
    vi, j = join
    names = list(m.queries)
    dec = _decreases(m, ch, st, nr, fwd, bwd)
    stops = [np.inf] * len(names)
    if dec is not None and vi.size == 0:
        idx = np.arange(m.v_edge.size, dtype=np.int64)
        stops = list(m._focus(names, [idx] * len(names))["stop"])
    out: dict[str, NDArray[np.float64]] = {}
    for name, stop in zip(names, stops, strict=True):
        sp = m.sp[name]
        if dec is not None and not m._target_edges(name)[ch.edges].any():
            arcs = ArcChanges.of(*dec)
            new: dict[int, float] = {}
            propagate_decreases(sp, arcs, arcs.overlay(), new, stop)
            dist = sp.dist
            if new:
                dist = dist.copy()
                dist[np.fromiter(new.keys(), np.int64, len(new))] = np.fromiter(
                    new.values(), float, len(new))
            at = dist.__getitem__
        else:
            base = (m.arc_changes(name, ch, st) if ch.edges.size
                    else ArcChanges.of([], [], []))
            arcs = ArcChanges.of(np.concatenate([base.tail, nr.b, nr.a]),
                                 np.concatenate([base.head, nr.a, nr.b]),
                                 np.concatenate([base.weight, fwd, bwd]))
            at = update_distances(sp, arcs).at
        t = m._village_times(name, at, st["v_cf"], st["v_cb"], st["fwd"], st["t_cf"],
                             st["t_cb"], near)
        if vi.size:
            e = j.edge
            via_a = j.cb + at(nr.a[e])
            via_b = (fwd[e] - j.cf) + at(nr.b[e])
            t[vi] = j.t_in + np.minimum(via_a, np.maximum(via_b, 0.0))
        out[name] = t
    return out
