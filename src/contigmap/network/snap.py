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

The joined points and the queries over them are :mod:`contigmap.network.attach`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from contigmap.network.build import RoadGraph, sort_keys

__all__ = ["Snap", "snap_points"]


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


_RINGS = (0, 1, 3, 7, 15, 31)
"""Blocks of (2r+1)² cells searched in turn before the STRtree. The tree is built only for
points with no segment within 31 cells (or too many points for a wide pass): building it
over every segment of a new graph costs more than a few wider grid passes, and scenario
graphs (``contigmap serve``) are built anew for each edit."""

_MAX_PASS_CELLS = 4_000_000
"""Point × cell pairs a wider pass may visit; beyond it the remaining points go to the tree."""


def _nearest_by_grid(
    graph: RoadGraph, name: str, segs: NDArray[np.int64], pts_xy: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Nearest segment (position in ``segs``) per point from the grid; ``-1``: not resolved.

    First the point's own cell, then ever larger blocks (:data:`_RINGS`) for points not
    yet resolved; each pass is exact or leaves the point unresolved.
    """
    gi = _segment_grid(graph, name, segs)
    best = np.full(len(pts_xy), -1, np.int64)
    rest = np.arange(len(pts_xy))
    for ring in _RINGS:
        if ring > 1 and rest.size * (2 * ring + 1) ** 2 > _MAX_PASS_CELLS:
            break
        best[rest] = _grid_pass(graph, gi, segs, pts_xy[rest], ring)[0]
        rest = rest[best[rest] < 0]
        if not rest.size:
            break
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
    with no segment within 31 cells fall back to a shapely STRtree.

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
