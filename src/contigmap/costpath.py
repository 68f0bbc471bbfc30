"""Terrain-aware least-cost paths over a DEM (new roads, pipes, lines between places).

The DEM window around the start and the targets becomes an 8-connected grid graph
(each cell joined to its 8 neighbours) and ``scipy.sparse.csgraph.dijkstra`` finds the
cheapest route from the start to the nearest target: the classic raster cost-distance
method (Tomlin 1990, *Geographic Information Systems and Cartographic Modeling*;
Douglas 1994, "Least-cost path in GIS using an accumulated cost surface and
slopelines", *Cartographica* 31(3)).

Cost function
-------------
A move of horizontal length ``d`` between two cells whose elevations differ by ``Δz``
has the grade ``g = |Δz| / d`` and costs::

    cost = d · (1 + (g / grade_ref_ratio)²)      if g <= grade_max_ratio
    cost = ∞                                      otherwise (impassable)

The quadratic penalty is the form used for road location on DEMs (e.g. Yu, Lee and
Munro-Stasiuk 2003, "Extensions to least-cost path algorithms for roadway planning",
*IJGIS* 17(4); Stückelberger, Heuvelink and Haller 2007, *Environmental Modelling &
Software* 22): moves along the contour cost their length, a move at the reference grade
(default 8 %, close to the 9 % maximum grade of class-IV mountain roads in JTG B01-2014)
costs twice its length, and twice that grade five times. Because the grade is measured
*along the move*, the path can traverse a steep slope the way a road does, along the
contour, instead of being banned from steep cells. The path runs between cell centres;
its first and last vertices are the exact start and target points.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pydantic import Field
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from contigmap._strict import StrictModel
from contigmap.errors import NetworkError
from contigmap.raster import Raster

__all__ = ["CostPath", "CostPathParams", "grid_move_costs", "least_cost_path"]

logger = logging.getLogger(__name__)

_MOVES: tuple[tuple[int, int], ...] = ((0, 1), (1, -1), (1, 0), (1, 1))
"""Half of the 8 neighbour moves (the graph is symmetric): E, SW, S, SE."""


class CostPathParams(StrictModel):
    """Parameters of the least-cost path.

    Attributes
    ----------
    grade_ref_ratio
        Grade (rise over run) at which a move costs twice its length.
    grade_max_ratio
        Steeper moves are impassable.
    margin_m
        The DEM window reaches this far beyond the start and the targets.
    """

    grade_ref_ratio: float = Field(0.08, gt=0)
    grade_max_ratio: float = Field(1.0, gt=0)
    margin_m: float = Field(2000.0, ge=0)


@dataclass(frozen=True)
class CostPath:
    """A least-cost path.

    Attributes
    ----------
    xy
        ``(k, 2)`` vertices from the start to the target reached.
    z
        Elevation at each vertex (DEM, bilinear).
    length_m
        Horizontal length of the polyline.
    length_3d_m
        Length along the ground (with the elevation changes).
    cost
        Accumulated cost (metres of flat-ground equivalent).
    mean_grade_ratio, max_grade_ratio
        Length-weighted mean and largest absolute grade of the path's segments.
    target
        Index of the target reached.
    """

    xy: NDArray[np.float64]
    z: NDArray[np.float64]
    length_m: float
    length_3d_m: float
    cost: float
    mean_grade_ratio: float
    max_grade_ratio: float
    target: int

    def line(self) -> shapely.LineString:
        """Return the path as a shapely LineString."""
        return shapely.linestrings(self.xy)


def grid_move_costs(
    z: NDArray[np.float64], res_x: float, res_y: float, params: CostPathParams
) -> csr_matrix:
    """Return the 8-connected grid graph of a DEM window with the module's move costs.

    Parameters
    ----------
    z
        ``(rows, cols)`` elevations; ``nan`` cells are left out.
    res_x, res_y
        Cell width and height in metres.
    params
        Cost parameters.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric ``(rows·cols) × (rows·cols)`` matrix of move costs (node ``r·cols + c``).
    """
    rows, cols = z.shape
    idx = np.arange(rows * cols).reshape(rows, cols)
    src: list[NDArray[np.int64]] = []
    dst: list[NDArray[np.int64]] = []
    wts: list[NDArray[np.float64]] = []
    for dr, dc in _MOVES:
        r0, r1 = 0, rows - dr
        c0, c1 = max(0, -dc), cols - max(0, dc)
        a = idx[r0:r1, c0:c1]
        b = idx[r0 + dr : r1 + dr, c0 + dc : c1 + dc]
        za = z[r0:r1, c0:c1]
        zb = z[r0 + dr : r1 + dr, c0 + dc : c1 + dc]
        d = float(np.hypot(dc * res_x, dr * res_y))
        with np.errstate(invalid="ignore"):
            g = np.abs(zb - za) / d
            ok = np.isfinite(g) & (g <= params.grade_max_ratio)
        w = d * (1.0 + (g[ok] / params.grade_ref_ratio) ** 2)
        src.append(a[ok].ravel())
        dst.append(b[ok].ravel())
        wts.append(np.asarray(w, dtype=float).ravel())
    s = np.concatenate(src + dst)
    t = np.concatenate(dst + src)
    w = np.concatenate(wts + wts)
    # zero-cost moves cannot occur (d > 0), so csr_matrix's dropping of zeros is harmless
    return csr_matrix((w, (s, t)), shape=(rows * cols, rows * cols))


def least_cost_path(
    dem: Raster,
    start_xy: ArrayLike,
    targets_xy: ArrayLike,
    *,
    params: CostPathParams | None = None,
) -> CostPath:
    """Find the least-cost path over ``dem`` from a start to the nearest (cheapest) target.

    Parameters
    ----------
    dem
        Elevation in metres, in a metric CRS (cells are taken as metres).
    start_xy
        ``(x, y)`` of the start.
    targets_xy
        ``(T, 2)`` target points (e.g. points along the existing road network); the
        path ends at the one cheapest to reach.
    params
        Cost function and window; defaults when omitted.

    Returns
    -------
    CostPath
        The path and its length, cost and grades.

    Raises
    ------
    NetworkError
        The DEM is geographic, the start or every target is off the DEM or on nodata, or
        no target can be reached within the window (widen ``margin_m`` or raise
        ``grade_max_ratio``).
    """
    params = params or CostPathParams()
    start = np.asarray(start_xy, dtype=float).reshape(2)
    targets = np.asarray(targets_xy, dtype=float).reshape(-1, 2)
    prow, pcol, tin = _cells_on_dem(dem, start, targets)
    res_x, res_y = dem.res
    nrows, ncols = dem.shape
    mr = int(np.ceil(params.margin_m / res_y))
    mc = int(np.ceil(params.margin_m / res_x))
    rr = np.concatenate([prow[:1], prow[1:][tin]])
    cc = np.concatenate([pcol[:1], pcol[1:][tin]])
    r0, r1 = max(int(rr.min()) - mr, 0), min(int(rr.max()) + mr + 1, nrows)
    c0, c1 = max(int(cc.min()) - mc, 0), min(int(cc.max()) + mc + 1, ncols)
    z = dem.array[r0:r1, c0:c1]
    wcols = c1 - c0
    graph = grid_move_costs(z, res_x, res_y, params)
    tnode = (prow[1:][tin] - r0) * wcols + (pcol[1:][tin] - c0)
    snode = int((prow[0] - r0) * wcols + (pcol[0] - c0))
    dist, pred, src = dijkstra(
        graph, directed=False, indices=np.unique(tnode), min_only=True, return_predecessors=True
    )
    if not np.isfinite(dist[snode]):
        msg = (f"least_cost_path: no passable route from ({start[0]:.1f}, {start[1]:.1f}) to any "
               f"target within {params.margin_m:.0f} m; widen margin_m or raise grade_max_ratio")
        raise NetworkError(msg)
    nodes = [snode]
    while pred[nodes[-1]] >= 0:
        nodes.append(int(pred[nodes[-1]]))
    node_arr = np.asarray(nodes, dtype=np.int64)
    r = node_arr // wcols + r0
    c = node_arr % wcols + c0
    t = dem.transform
    cx = t.c + (c + 0.5) * t.a + (r + 0.5) * t.b
    cy = t.f + (c + 0.5) * t.d + (r + 0.5) * t.e
    reached_node = int(src[snode])
    cand = np.flatnonzero(tnode == reached_node)
    target = int(tin[cand[np.argmin(np.hypot(*(targets[tin[cand]] - [cx[-1], cy[-1]]).T))]])
    xy = np.column_stack([cx, cy])
    xy[0] = start
    xy = np.vstack([xy, targets[target][None, :]])
    keep = np.ones(len(xy), bool)
    keep[1:] = np.hypot(*(xy[1:] - xy[:-1]).T) > 1e-9
    return _measure_path(dem, xy[keep], cost=float(dist[snode]), target=target)


def _cells_on_dem(
    dem: Raster, start: NDArray[np.float64], targets: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """Return the DEM cells of the start and targets and the indices of usable targets.

    Returns ``(rows, cols, usable)``: ``rows``/``cols`` of the start (first) and every
    target, and the indices of the targets inside the DEM and off nodata.

    Raises
    ------
    NetworkError
        The DEM is geographic, no target is given, the start is off the DEM or on
        nodata, or every target is.
    """
    if dem.crs is not None and dem.crs.is_geographic:
        msg = (f"DEM '{dem.name}' is in a geographic CRS; reproject it to the metric working "
               f"CRS before a least-cost path")
        raise NetworkError(msg)
    if targets.shape[0] == 0:
        msg = "least_cost_path: no target points given"
        raise NetworkError(msg)
    nrows, ncols = dem.shape
    pts = np.vstack([start[None, :], targets])
    prow, pcol = dem.index(pts[:, 0], pts[:, 1])
    inside = (prow >= 0) & (prow < nrows) & (pcol >= 0) & (pcol < ncols)
    if not inside[0] or not np.isfinite(dem.array[prow[0], pcol[0]]):
        msg = (f"least_cost_path: start ({start[0]:.1f}, {start[1]:.1f}) is outside the DEM "
               f"'{dem.name}' or on nodata; use a point inside it")
        raise NetworkError(msg)
    tin = np.flatnonzero(inside[1:])
    tin = tin[np.isfinite(dem.array[prow[1:][tin], pcol[1:][tin]])]
    if tin.size == 0:
        msg = f"least_cost_path: every target is outside the DEM '{dem.name}' or on nodata"
        raise NetworkError(msg)
    return prow, pcol, tin


def _measure_path(dem: Raster, xy: NDArray[np.float64], *, cost: float, target: int) -> CostPath:
    """Return the :class:`CostPath` of the polyline ``xy``: elevations, lengths, grades."""
    zv = dem.sample_bilinear(xy[:, 0], xy[:, 1])
    zv = np.where(np.isfinite(zv), zv, dem.sample(xy[:, 0], xy[:, 1]))
    seg = np.hypot(*(xy[1:] - xy[:-1]).T)
    dz = np.abs(np.diff(zv))
    with np.errstate(invalid="ignore", divide="ignore"):
        grade = np.where(seg > 0, dz / seg, 0.0)
    length = float(seg.sum())
    return CostPath(
        xy=xy,
        z=zv,
        length_m=length,
        length_3d_m=float(np.hypot(seg, dz).sum()),
        cost=cost,
        mean_grade_ratio=float((grade * seg).sum() / length) if length > 0 else 0.0,
        max_grade_ratio=float(grade.max()) if grade.size else 0.0,
        target=target,
    )
