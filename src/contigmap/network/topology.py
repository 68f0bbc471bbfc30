"""Road lines → vertices, nodes and edges: the topology steps of :func:`build_network`.

Each step is vectorised (no per-edge Python loops): :func:`line_vertices` (explode,
segmentize, drop duplicate vertices), :func:`vertex_keys` (vertex identity to 1 mm;
bridge and tunnel interiors private), :func:`join_endpoints` (dangling endpoints joined
within the snap tolerance, found by bucketing in cells of the tolerance),
:func:`segments` (per-segment lengths and times, :mod:`contigmap.network.edgetimes`),
:func:`kept_edges` (self-loops and duplicates dropped) and :func:`components`.
"""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from contigmap.errors import DataQualityWarning, NetworkError
from contigmap.network._csr import col_max, col_min, sort_keys
from contigmap.network.edgetimes import (
    segment_grade,
    segment_minutes,
)
from contigmap.network.speeds import NetworkParams
from contigmap.raster import Raster

__all__ = [
    "components",
    "join_endpoints",
    "kept_edges",
    "line_vertices",
    "node_pairs",
    "pairs_within",
    "segments",
    "vertex_keys",
]

_Q = 1000.0  # vertex identity: coordinates equal to 1 mm


def pairs_within(
    p: NDArray[np.float64], q: NDArray[np.float64], r: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """All pairs ``(i, j)`` with ``|p[i] - q[j]| <= r``, by bucketing ``q`` in cells of ``r``.

    Every such ``q[j]`` lies in the 3 x 3 cells around ``p[i]``'s cell.
    """
    if p.shape[0] == 0 or q.shape[0] == 0:
        z = np.zeros(0, np.int64)
        return z, z
    lo = np.minimum(col_min(p), col_min(q)) - r
    cq = np.floor((q - lo) / r).astype(np.int64)
    cp = np.floor((p - lo) / r).astype(np.int64)
    ny = int(max(cq[:, 1].max(), cp[:, 1].max())) + 3
    order, qkey = sort_keys(cq[:, 0] * ny + cq[:, 1])
    offs = np.array([(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)], np.int64)
    pkey = ((cp[:, 0:1] + offs[:, 0]) * ny + (cp[:, 1:2] + offs[:, 1])).ravel()
    st = np.searchsorted(qkey, pkey, "left")
    cnt = np.searchsorted(qkey, pkey, "right") - st
    tot = int(cnt.sum())
    pi = np.repeat(np.repeat(np.arange(p.shape[0]), 9), cnt)
    pos = np.repeat(st - (np.cumsum(cnt) - cnt), cnt) + np.arange(tot)
    qj = order[pos]
    close = np.hypot(*(p[pi] - q[qj]).T) <= r
    return pi[close], qj[close]


def line_vertices(
    roads: gpd.GeoDataFrame, kinds: NDArray[np.int32], road_ids: NDArray[Any],
    params: NetworkParams, dem: Raster | None,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Vertices of every line part: ``(xy, part of each vertex, xy in mm, row of each part)``.

    Multi-part rows are exploded, lines segmentized at the DEM step, consecutive duplicate
    vertices and parts left with fewer than two vertices dropped.
    """
    geoms = np.asarray(roads.geometry.values)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        warnings.warn(
            f"roads: {int(missing.sum())} row(s) without geometry were skipped "
            f"(first road_id {road_ids[np.flatnonzero(missing)[0]]!r})",
            DataQualityWarning,
            stacklevel=3,
        )
    multi = kinds == 5
    if multi.any():  # explode only the multi-part rows (get_parts is slow on many lines)
        mparts, mrow = shapely.get_parts(geoms[multi], return_index=True)
        single = np.flatnonzero(~multi & ~missing)
        parts = np.concatenate([geoms[single], mparts])
        part_row = np.concatenate([single, np.flatnonzero(multi)[mrow]])
    else:
        part_row = np.flatnonzero(~missing)
        parts = geoms[part_row]
    if dem is not None:
        parts = shapely.segmentize(parts, params.dem_step_m)
    xy, vline = shapely.get_coordinates(parts, return_index=True)
    xy = np.ascontiguousarray(xy, dtype=float)
    vline = vline.astype(np.int64)
    q = np.round(xy * _Q).astype(np.int64)
    qx, qy = q[:, 0], q[:, 1]
    # drop consecutive duplicate vertices, then lines left with fewer than two vertices
    keep = np.ones(vline.size, bool)
    keep[1:] = (vline[1:] != vline[:-1]) | (qx[1:] != qx[:-1]) | (qy[1:] != qy[:-1])
    nvert = np.bincount(vline[keep], minlength=len(parts))
    keep &= nvert[vline] >= 2
    if not keep.all():
        xy, vline, q = xy[keep], vline[keep], q[keep]
    if vline.size == 0:
        msg = "roads layer has no line with length > 0; check the geometries"
        raise NetworkError(msg)
    return xy, vline, q, part_row


def vertex_keys(
    xy: NDArray[np.float64], q: NDArray[np.int64], tag: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]:
    """Identity of each vertex: equal position to 1 mm (``q``) and equal ``tag``.

    ``tag > 0`` makes a vertex private (bridge / tunnel interiors). Returns each vertex's
    key, and per key its position, vertex count and whether it is private.
    """
    n_vert = q.shape[0]
    qmin = col_min(q)
    span = col_max(q) - qmin + 1
    private = tag > 0
    if float(span[0]) * float(span[1]) < 2.0**62 - 2.0 * n_vert:
        flat = (q[:, 0] - qmin[0]) * span[1] + (q[:, 1] - qmin[1])
        top = int(span[0]) * int(span[1])
        flat[private] = top + np.arange(int(private.sum()))
        order, fs = sort_keys(flat)
        new = np.ones(n_vert, bool)
        new[1:] = fs[1:] != fs[:-1]
    else:  # a region wider than ~2000 km at 1 mm: three-key sort
        order = np.lexsort((tag, q[:, 1], q[:, 0]))
        qs, ts = q[order], tag[order]
        new = np.ones(n_vert, bool)
        new[1:] = (qs[1:] != qs[:-1]).any(axis=1) | (ts[1:] != ts[:-1])
    key = np.empty(n_vert, np.int64)
    key[order] = np.cumsum(new) - 1
    n_keys = int(key.max()) + 1
    key_xy = np.empty((n_keys, 2))
    key_xy[key[order[new]]] = xy[order[new]]
    key_count = np.bincount(key, minlength=n_keys)
    key_private = np.zeros(n_keys, bool)
    key_private[key[tag > 0]] = True
    return key, key_xy, key_count, key_private


def join_endpoints(
    key: NDArray[np.int64], key_xy: NDArray[np.float64], key_count: NDArray[np.int64],
    key_private: NDArray[np.bool_], is_term: NDArray[np.bool_], tolerance_m: float,
) -> tuple[NDArray[np.int64], int]:
    """Cluster label of each key: dangling endpoints joined to vertices within the tolerance.

    Each cluster sits at its most-shared vertex. Returns the labels and how many
    endpoints were joined.
    """
    n_keys = key_xy.shape[0]
    label = np.arange(n_keys)
    n_joined = 0
    if tolerance_m > 0:
        public = np.flatnonzero(~key_private)
        # only dangling endpoints (a vertex of no other line) need joining
        mark = np.zeros(n_keys, bool)
        mark[key[is_term]] = True
        ends = np.flatnonzero(mark & (key_count == 1))
        pi, pj = pairs_within(key_xy[ends], key_xy[public], tolerance_m)
        a = ends[pi]
        b = public[pj]
        link = a != b
        a, b = a[link], b[link]
        if a.size:
            inv, ab = np.unique(np.concatenate([a, b]), return_inverse=True)
            m_inv = int(inv.size)
            graph = coo_matrix((np.ones(a.size), (ab[: a.size], ab[a.size :])),
                               shape=(m_inv, m_inv))
            _, lab = connected_components(graph, directed=False)
            lab = lab.astype(np.int64)
            # each cluster sits at its most-shared vertex (the one on the continuing line)
            rep_order = np.lexsort((inv, -key_count[inv], lab))
            first = np.ones(m_inv, bool)
            first[1:] = lab[rep_order[1:]] != lab[rep_order[:-1]]
            rep = np.empty(int(lab.max()) + 1, np.int64)
            rep[lab[rep_order[first]]] = inv[rep_order[first]]
            label[inv] = rep[lab]
            n_joined = int(np.unique(a).size)
    return label, n_joined


def kept_edges(
    eu: NDArray[np.int64], ev: NDArray[np.int64], length: NDArray[np.float64],
    drive: NDArray[np.float64], n_nodes: int,
) -> tuple[NDArray[np.int64], int, int]:
    """Return the edges kept, and the numbers of duplicates and loops dropped.

    Self-loops and zero lengths go; of duplicates (same node pair, same length to 1 cm)
    the fastest stays.
    """
    ok = (eu != ev) & (length > 0)
    lo, hi = np.minimum(eu, ev), np.maximum(eu, ev)
    lcm = np.round(length * 100).astype(np.int64)
    cand = np.flatnonzero(ok)
    pair = lo * np.int64(max(n_nodes, 1)) + hi
    po, ps = sort_keys(pair[cand])
    same = ps[1:] == ps[:-1]
    shared = np.zeros(cand.size, bool)
    shared[1:] |= same
    shared[:-1] |= same
    multi_e = cand[po[shared]]  # edges whose node pair has another edge (few)
    o = multi_e[np.lexsort((drive[multi_e], lcm[multi_e], pair[multi_e]))]
    dup = np.zeros(o.size, bool)
    dup[1:] = (pair[o[1:]] == pair[o[:-1]]) & (lcm[o[1:]] == lcm[o[:-1]])
    n_dup = int(dup.sum())
    drop = np.zeros(ok.size, bool)
    drop[o[dup]] = True
    kept = np.flatnonzero(ok & ~drop)
    n_loops = int((~ok).sum())
    return kept, n_dup, n_loops


def components(eu: NDArray[np.int64], ev: NDArray[np.int64], n_nodes: int) -> NDArray[np.int64]:
    """Return the connected component of each node, ignoring direction (0 = the largest)."""
    if eu.size:
        adj = coo_matrix((np.ones(eu.size), (eu, ev)), shape=(n_nodes, n_nodes))
        n_comp, comp = connected_components(adj, directed=False)
        sizes = np.bincount(comp)
        rank = np.empty(n_comp, np.int64)
        rank[np.argsort(-sizes, kind="stable")] = np.arange(n_comp)
        return np.asarray(rank[comp], dtype=np.int64)
    return np.arange(n_nodes, dtype=np.int64)


def segments(
    xy: NDArray[np.float64], is_end: NDArray[np.bool_], speed: NDArray[np.float64],
    params: NetworkParams, dem: Raster | None,
) -> tuple[NDArray[np.float64], ...]:
    """Return per vertex the segment to the next vertex of its line.

    ``(length, z, drive, walk forward, walk backward)``: zero length at a line's last
    vertex; flat ground without a DEM.
    """
    n_vert = xy.shape[0]
    d = np.zeros(n_vert)
    d[:-1] = np.hypot(xy[1:, 0] - xy[:-1, 0], xy[1:, 1] - xy[:-1, 1])
    d[is_end] = 0.0
    if dem is not None:
        z = dem.sample_bilinear(xy[:, 0], xy[:, 1])
        dz = np.zeros(n_vert)
        dz[:-1] = z[1:] - z[:-1]
        dz[is_end] = 0.0
        grade = segment_grade(d, dz)
    else:  # flat ground: no slope penalty, Tobler's speed on the level everywhere
        z = np.full(n_vert, np.nan)
        grade = np.zeros(n_vert)
    seg_drive, seg_walk_f, seg_walk_b = segment_minutes(d, grade, speed, params)
    return d, z, seg_drive, seg_walk_f, seg_walk_b


def node_pairs(
    u: NDArray[np.int64], v: NDArray[np.int64], n: int
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Return each edge's undirected node-pair key, and whether another edge shares it."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    key = lo.astype(np.int64) * (n + 1) + hi
    _, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    return key, np.asarray(cnt[inv] > 1, dtype=bool)
