"""Road lines → a routable graph held in numpy arrays.

Topology rules (all vectorised; no per-edge Python loops):

* multi-part lines are exploded, consecutive duplicate vertices and zero-length parts dropped;
* lines are split where they share a vertex (coordinates equal to 1 mm), so junctions
  digitised as shared vertices become graph nodes;
* a bridge or tunnel touches the network only at its two ends: its interior vertices
  never join another line, even where they coincide with one (a road under a bridge);
  crossings without a shared vertex are never junctions;
* a dangling line endpoint (a vertex no other line shares) closer than
  ``snap_tolerance_m`` to a vertex of another line (data digitised without snapping) is
  joined to it, found by bucketing vertices in square cells of the tolerance;
* self-loops and duplicate edges (same two nodes, same length to 1 cm) are dropped;
* nodes are numbered along a Morton (Z-order) curve so that nodes close in space are
  close in memory, which keeps Dijkstra's distance array in cache.

Each edge keeps its polyline as a range of the vertex arrays, with per-segment lengths
and travel times, so a point can later be joined at any position along it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from scipy.sparse import csr_matrix

from contigmap.errors import NetworkError
from contigmap.network._csr import col_max, col_min, csr_from_arrays, morton_order, sort_keys
from contigmap.network.contract import Core, contract_graph
from contigmap.network.edgetimes import (
    Mode,
    edge_drive_minutes,
    edge_mode_times,
    walk_rainy_factor,
)
from contigmap.network.speeds import NetworkParams, Season
from contigmap.network.topology import (
    components,
    join_endpoints,
    kept_edges,
    line_vertices,
    segments,
    vertex_keys,
)
from contigmap.raster import Raster
from contigmap.schema import HARDENED_SURFACES, ROAD_CLASSES, SURFACES

__all__ = [
    "Mode", "RoadGraph", "build_network", "col_max", "col_min", "morton_order", "sort_keys",
]

logger = logging.getLogger(__name__)



@dataclass(eq=False)
class RoadGraph:
    """A routable road graph: node and edge arrays plus the edges' polylines.

    Attributes
    ----------
    crs
        The metric working CRS of all coordinates.
    node_xy
        ``(n, 2)`` node coordinates, nodes numbered in Morton order.
    u, v
        ``(m,)`` edge end nodes; the edge's polyline runs from ``u`` to ``v``.
    length_m
        Edge length along the polyline.
    drive_dry_min, drive_rainy_min
        Vehicle travel time (slope-penalised, the same both ways); ``inf`` where the edge
        is not drivable (footpaths) or closed in the rainy season.
    walk_fwd_min, walk_bwd_min
        Dry-season walking time (Tobler) from ``u`` to ``v`` and from ``v`` to ``u``.
    walk_rainy_factor
        Per edge, the rainy-season multiplier of walking speed.
    road_id, road_row
        The source line's id and its row position in the roads layer.
    road_class, surface
        Codes into :data:`contigmap.schema.ROAD_CLASSES` and :data:`~contigmap.schema.SURFACES`.
    hardened, bridge, tunnel, all_season
        Edge flags.
    vertex_xy, vertex_z
        Polyline vertices of all edges (``z`` is ``nan`` without a DEM).
    edge_start, edge_end
        Edge ``i``'s polyline is ``vertex_xy[edge_start[i] : edge_end[i] + 1]``.
    seg_len_m, seg_drive_min, seg_walk_fwd_min, seg_walk_bwd_min, seg_edge
        Per vertex ``k``: the segment from vertex ``k`` to ``k + 1`` (zero at a line's last
        vertex), its dry times, and the edge it belongs to (``-1``: none).
    node_component
        Connected component of each node (0 = the largest), ignoring direction.
    params, dem
        What the graph was built with.
    """

    crs: CRS
    node_xy: NDArray[np.float64]
    u: NDArray[np.int64]
    v: NDArray[np.int64]
    length_m: NDArray[np.float64]
    drive_dry_min: NDArray[np.float64]
    drive_rainy_min: NDArray[np.float64]
    walk_fwd_min: NDArray[np.float64]
    walk_bwd_min: NDArray[np.float64]
    walk_rainy_factor: NDArray[np.float64]
    road_id: NDArray[Any]
    road_row: NDArray[np.int64]
    road_class: NDArray[np.int8]
    surface: NDArray[np.int8]
    hardened: NDArray[np.bool_]
    bridge: NDArray[np.bool_]
    tunnel: NDArray[np.bool_]
    all_season: NDArray[np.bool_]
    vertex_xy: NDArray[np.float64]
    vertex_z: NDArray[np.float64]
    edge_start: NDArray[np.int64]
    edge_end: NDArray[np.int64]
    seg_len_m: NDArray[np.float64]
    seg_drive_min: NDArray[np.float64]
    seg_walk_fwd_min: NDArray[np.float64]
    seg_walk_bwd_min: NDArray[np.float64]
    seg_edge: NDArray[np.int64]
    node_component: NDArray[np.int64]
    params: NetworkParams
    dem: Raster | None = None
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of (undirected) edges."""
        return int(self.u.shape[0])

    @property
    def n_components(self) -> int:
        """Number of connected components."""
        return int(self.node_component.max()) + 1 if self.n_nodes else 0

    def edge_times(
        self, mode: Mode = "vehicle", season: Season = "dry"
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
        """Per-edge travel times ``(u→v, v→u)`` in minutes, and whether each edge drives.

        For ``vehicle`` each edge takes the faster of driving and walking in each direction
        (``drives`` says which it took, per edge, for the forward direction); ``inf``
        marks an edge the mode cannot use.
        """
        drive = self.drive_dry_min if season == "dry" else self.drive_rainy_min
        fwd, bwd, drives_f, _ = edge_mode_times(
            drive, self.walk_fwd_min, self.walk_bwd_min, self.walk_rainy_factor, mode, season)
        return fwd, bwd, drives_f

    def csr(
        self, mode: Mode = "vehicle", season: Season = "dry", *, transpose: bool = False
    ) -> csr_matrix:
        """Return the graph as a CSR matrix of minutes (cached); ``transpose`` reverses it."""
        key = f"csr:{mode}:{season}:{transpose}"
        if key not in self.cache:
            fwd, bwd, _ = self.edge_times(mode, season)
            rows = np.concatenate([self.u, self.v])
            cols = np.concatenate([self.v, self.u])
            w = np.concatenate([fwd, bwd])
            if transpose:
                rows, cols = cols, rows
            self.cache[key] = csr_from_arrays(rows, cols, w, self.n_nodes)
        out: csr_matrix = self.cache[key]
        return out

    def core(
        self, mode: Mode = "vehicle", season: Season = "dry", *, transpose: bool = False
    ) -> Core:
        """Return the graph with dangling trees and degree-2 chains contracted (cached).

        A :class:`contigmap.network.contract.Core`: Dijkstra on ``core.matrix`` from core
        nodes, then ``core.expand`` gives the exact distance of every node. Queries that
        start inside a tree or chain (services joined to an edge) go through
        :meth:`contigmap.network.Attachment.core`, which keeps them.
        """
        key = f"core:{mode}:{season}:{transpose}"
        if key not in self.cache:
            fwd, bwd, _ = self.edge_times(mode, season)
            if transpose:
                fwd, bwd = bwd, fwd
            self.cache[key] = contract_graph(self.n_nodes, self.u, self.v, fwd, bwd)
        out: Core = self.cache[key]
        return out

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Return the edges as a GeoDataFrame of polylines with their attributes."""
        counts = self.edge_end - self.edge_start + 1
        idx = np.repeat(np.arange(self.n_edges), counts)
        offs = np.repeat(self.edge_start - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        pos = np.arange(int(counts.sum())) + offs
        geoms = shapely.linestrings(self.vertex_xy[pos], indices=idx)
        return gpd.GeoDataFrame(
            {
                "edge": np.arange(self.n_edges),
                "u": self.u,
                "v": self.v,
                "road_id": self.road_id,
                "road_class": np.asarray(ROAD_CLASSES, dtype=object)[self.road_class],
                "surface": np.asarray(SURFACES, dtype=object)[self.surface],
                "hardened": self.hardened,
                "all_season": self.all_season,
                "bridge": self.bridge,
                "tunnel": self.tunnel,
                "length_m": self.length_m,
                "drive_dry_min": self.drive_dry_min,
                "drive_rainy_min": self.drive_rainy_min,
                "walk_fwd_min": self.walk_fwd_min,
                "walk_bwd_min": self.walk_bwd_min,
            },
            geometry=geoms,
            crs=self.crs,
        )


def _codes(
    values: Any, domain: tuple[str, ...], column: str, road_ids: NDArray[Any]
) -> NDArray[np.int8]:
    # factorize first (fast on arrow strings), then look up the few distinct values
    fcodes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=True)
    lookup = pd.Index(list(domain)).get_indexer(pd.Index(np.asarray(uniques, dtype=object)))
    codes = np.where(fcodes >= 0, lookup[np.maximum(fcodes, 0)] if lookup.size else -1, -1)
    codes = codes.astype(np.int8)
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        i = int(bad[0])
        arr_i = np.asarray(pd.Series(values).iloc[[i]], dtype=object)[0]
        msg = (f"roads: row {i} (road_id {road_ids[i]!r}): {column} {arr_i!r} is not one of "
               f"{', '.join(domain)} ({bad.size} row(s) like this); map it with the manifest's "
               f"'columns' / a value table")
        raise NetworkError(msg)
    return codes


def _flag(roads: gpd.GeoDataFrame, column: str) -> NDArray[np.bool_]:
    """Read a yes/no road column (``bridge``, ``tunnel``) by the shared parser; absent = no."""
    if column not in roads.columns:
        return np.zeros(len(roads), bool)
    from contigmap.booleans import parse_bool

    # named lazily: only an error message reads them (a million f-strings at area scale)
    rows = (f"road_id {r}" for r in roads["road_id"]) if "road_id" in roads else None
    return parse_bool(roads[column], column=column, default=False, source="roads", rows=rows)


def _check_roads(roads: gpd.GeoDataFrame) -> NDArray[np.int32]:
    if len(roads) == 0:
        msg = "roads layer is empty: the network needs at least one line; check the file / layer"
        raise NetworkError(msg)
    if roads.crs is None:
        msg = "roads layer has no CRS; set it in the manifest ('crs:') and reproject to metres"
        raise NetworkError(msg)
    if not CRS.from_user_input(roads.crs).is_projected:
        msg = (f"roads layer is in a geographic CRS ({CRS.from_user_input(roads.crs).name}); "
               f"lengths cannot be measured in degrees: reproject it to the metric working CRS "
               f"first (e.g. roads.to_crs(working_crs))")
        raise NetworkError(msg)
    for col in ("road_id", "road_class", "surface"):
        if col not in roads.columns:
            msg = (f"roads layer has no '{col}' column; map your column to it in the manifest's "
                   f"'columns' (columns present: {', '.join(map(str, roads.columns))})")
            raise NetworkError(msg)
    kinds = np.asarray(shapely.get_type_id(np.asarray(roads.geometry.values)), dtype=np.int32)
    bad = np.flatnonzero((kinds != -1) & (kinds != 1) & (kinds != 5))
    if bad.size:
        i = int(bad[0])
        msg = (f"roads: row {i} (road_id {roads['road_id'].iloc[i]!r}) is a "
               f"{roads.geometry.iloc[i].geom_type}, not a line; roads must be (Multi)LineStrings")
        raise NetworkError(msg)
    return kinds


def build_network(
    roads: gpd.GeoDataFrame,
    *,
    dem: Raster | None = None,
    params: NetworkParams | None = None,
) -> RoadGraph:
    """Build a routable graph from road lines.

    Length: one vectorised pipeline read top to bottom (vertices, identities, joins,
    nodes, segments, edges, duplicates, flags); each step that has a job of its own is a
    function of :mod:`contigmap.network.topology`, what stays here is the glue between
    their arrays.

    Parameters
    ----------
    roads
        Lines in a metric CRS with ``road_id``, ``road_class``, ``surface`` and optionally
        ``bridge`` / ``tunnel`` (bools or yes/no words, :mod:`contigmap.booleans`), as
        :mod:`contigmap.schema` defines them.
    dem
        Elevation in the same CRS, for slope penalties and Tobler's walking speeds;
        without it the ground is taken as flat.
    params
        Speeds, tolerances and seasons; defaults when omitted.

    Returns
    -------
    RoadGraph
        The graph, nodes in Morton order.

    Raises
    ------
    NetworkError
        Empty layer, missing CRS, geographic CRS, missing columns, unknown classes or
        surfaces, non-line geometries.
    """
    params = params or NetworkParams()
    kinds = _check_roads(roads)
    road_ids = np.asarray(roads["road_id"], dtype=object)
    cls_row = _codes(roads["road_class"], ROAD_CLASSES, "road_class", road_ids)
    srf_row = _codes(roads["surface"], SURFACES, "surface", road_ids)
    bridge_row, tunnel_row = _flag(roads, "bridge"), _flag(roads, "tunnel")
    bt_row = bridge_row | tunnel_row

    xy, vline, q, part_row = line_vertices(roads, kinds, road_ids, params, dem)
    n_vert = vline.size
    row_of_v = part_row[vline].astype(np.int64)
    is_start = np.ones(n_vert, bool)
    is_start[1:] = vline[1:] != vline[:-1]
    is_end = np.ones(n_vert, bool)
    is_end[:-1] = vline[1:] != vline[:-1]
    is_term = is_start | is_end

    # vertex identity: position to 1 mm; bridge / tunnel interior vertices are private
    key, key_xy, key_count, key_private = vertex_keys(
        xy, q, np.where(~is_term & bt_row[row_of_v], vline + 1, 0))
    n_keys = key_xy.shape[0]

    # join line endpoints to vertices within the tolerance (cells of the tolerance)
    label, n_joined = join_endpoints(key, key_xy, key_count, key_private, is_term,
                                      params.snap_tolerance_m)
    cluster_count = np.bincount(label, weights=key_count, minlength=n_keys)
    vkey = label[key]
    split = is_term | (cluster_count[vkey] > 1)

    # nodes: clusters holding a split vertex, numbered along a Morton curve
    mark = np.zeros(n_keys, bool)
    mark[vkey[split]] = True
    node_keys = np.flatnonzero(mark)
    perm = morton_order(key_xy[node_keys])
    node_keys = node_keys[perm]
    node_of_key = np.full(n_keys, -1, np.int64)
    node_of_key[node_keys] = np.arange(node_keys.size)
    node_xy = key_xy[node_keys]

    # segments (vertex k -> k + 1 of the same line) with lengths, grades and times
    speed_row = params.speed_table("dry")[cls_row, srf_row]
    d, z, seg_drive, seg_walk_f, seg_walk_b = segments(xy, is_end, speed_row[row_of_v],
                                                        params, dem)

    # edges: runs between consecutive split vertices of a line
    sp = np.flatnonzero(split)
    same = vline[sp[1:]] == vline[sp[:-1]]
    ea, eb = sp[:-1][same], sp[1:][same]
    n_pre = int(ea.size)
    starts = np.zeros(n_vert, np.int64)
    starts[ea] = 1
    edge_of_seg = np.cumsum(starts) - 1
    in_edge = np.zeros(n_vert, np.int64)
    in_edge[ea] += 1  # ea (and eb) hold distinct positions
    in_edge[eb] -= 1
    inside = np.cumsum(in_edge) > 0  # vertex k starts a segment of some edge
    length = np.add.reduceat(d, ea) if ea.size else np.zeros(0)
    drive = np.add.reduceat(np.nan_to_num(seg_drive, nan=0.0), ea) if ea.size else np.zeros(0)
    walk_f = np.add.reduceat(seg_walk_f, ea) if ea.size else np.zeros(0)
    walk_b = np.add.reduceat(seg_walk_b, ea) if ea.size else np.zeros(0)
    # reduceat sums to the next start; the tail beyond eb only holds zero-length entries
    eu, ev = node_of_key[vkey[ea]], node_of_key[vkey[eb]]
    erow = row_of_v[ea]
    ecls, esrf = cls_row[erow], srf_row[erow]
    drive, _ = edge_drive_minutes(drive, ecls, esrf, params)

    # drop self-loops and duplicates (same node pair, same length to 1 cm; keep the fastest)
    kept, n_dup, n_loops = kept_edges(eu, ev, length, drive, node_xy.shape[0])
    ea, eb, eu, ev, erow = ea[kept], eb[kept], eu[kept], ev[kept], erow[kept]
    ecls, esrf = ecls[kept], esrf[kept]
    length, drive, walk_f, walk_b = length[kept], drive[kept], walk_f[kept], walk_b[kept]
    new_id = np.full(n_pre + 1, -1, np.int64)
    new_id[kept] = np.arange(kept.size)
    seg_edge = np.where(inside, new_id[np.clip(edge_of_seg, 0, n_pre)], -1)
    seg_edge[d == 0] = -1

    drive, drive_rainy = edge_drive_minutes(drive, ecls, esrf, params)
    walk_rainy = walk_rainy_factor(esrf, params)
    hardened = np.isin(esrf, [SURFACES.index(s) for s in HARDENED_SURFACES])
    all_season = params.all_season_table()[ecls, esrf]

    n_nodes = node_xy.shape[0]
    node_component = components(eu, ev, n_nodes)
    logger.info(
        "road graph: %d lines -> %d nodes, %d edges (%d endpoints joined within %.1f m, "
        "%d duplicate and %d zero-length/loop edges dropped), %d component(s)",
        len(roads), n_nodes, kept.size, n_joined, params.snap_tolerance_m, n_dup, n_loops,
        int(node_component.max()) + 1 if n_nodes else 0,
    )
    return RoadGraph(
        crs=CRS.from_user_input(roads.crs),
        node_xy=node_xy,
        u=eu,
        v=ev,
        length_m=length,
        drive_dry_min=drive,
        drive_rainy_min=drive_rainy,
        walk_fwd_min=walk_f,
        walk_bwd_min=walk_b,
        walk_rainy_factor=walk_rainy,
        road_id=road_ids[erow],
        road_row=erow,
        road_class=ecls,
        surface=esrf,
        hardened=hardened,
        bridge=bridge_row[erow],
        tunnel=tunnel_row[erow],
        all_season=all_season,
        vertex_xy=xy,
        vertex_z=z,
        edge_start=ea,
        edge_end=eb,
        seg_len_m=d,
        seg_drive_min=seg_drive,
        seg_walk_fwd_min=seg_walk_f,
        seg_walk_bwd_min=seg_walk_b,
        seg_edge=seg_edge,
        node_component=node_component,
        params=params,
        dem=dem,
    )
