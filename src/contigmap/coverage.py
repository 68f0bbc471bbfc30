"""Exact fraction of each raster cell covered by a polygon, and sums over it.

The engine of :func:`contigmap.zonal.zonal_stats`.

Each cell's weight in a zone is the fraction of the cell's area that lies inside the
zone's polygon: exactextract's definition (Baston, *exactextract*, isciences 2019–),
so that small village zones over a coarse DEM or hazard raster are neither
over- nor under-counted the way cell-centre rasterization does.

Method
------
Coverage is computed by signed-area accumulation, the technique of scanline font
rasterizers (R. Levien, *font-rs*, 2016; S. Barrett, *stb_truetype* v2) applied to
polygon rings in grid coordinates ``(u, v) = (column, row)``:

1. every ring edge is split where it crosses a vertical grid line, then where it
   crosses a horizontal one, so that each piece lies inside a single cell
   (all pieces of all zones are built at once with vectorised numpy, O(perimeter));
2. a piece from ``(u0, v0)`` to ``(u1, v1)`` in cell ``(r, c)`` adds
   ``dv * (c + 1 - um)`` to cell ``(r, c)`` and ``dv * (um - c)`` to cell
   ``(r, c + 1)``, where ``dv = v1 - v0`` and ``um`` is the piece's mean ``u``;
3. a cumulative sum along each row of a zone's window (the cells its bounding box
   overlaps) turns these increments into the exact covered fraction of every cell:
   interior cells come out as 1 (this is the scanline fill), boundary cells as their
   exact fraction (Green's theorem: the trapezoid left of each piece).

Linear statistics (``count``, ``sum``, ``mean``, ``share_above``) never build the
windows: summing by parts, ``sum_c cov[c] x[c] = sum_c' acc[c'] S[c']`` with ``S`` the
suffix sum of the row's values, so each zone needs only its O(perimeter) increments
and the raster is read once, in strips of rows (a one-dimensional summed-area table).
``min`` and ``max`` use the dense windows (O(bounding box) per zone).

Rings are oriented first (exterior counter-clockwise, holes clockwise), so holes
subtract. Statistics follow exactextract: ``count`` is the sum of the coverage of
cells with data (in cells), ``mean`` the coverage-weighted mean, ``sum`` the
coverage-weighted sum, ``min`` / ``max`` over cells with any coverage.

Zones and rasters in different CRSs: the zones are reprojected to the raster's CRS
(never the raster, which would resample values). In a geographic raster the cells
are weighed by their area in degrees, as exactextract does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from contigmap.errors import CRSError, ValidationError, warn_data
from contigmap.raster import Raster

__all__ = [
    "CoverageWindow",
    "Pieces",
    "check_raster",
    "coverage_fractions",
    "hit_windows",
    "linear_sums",
    "min_max",
    "polygon_pieces",
    "raster_bounds",
    "repair_polygons",
]

logger = logging.getLogger(__name__)

_EPS_COVER = 1e-9
"""Coverage below which a cell counts as untouched (min / max); guards rounding."""

_BATCH_ZONES = 2000
"""Zones whose pieces are built at once; bounds temporary memory."""


@dataclass(frozen=True)
class CoverageWindow:
    """Coverage fractions of one zone over the cells of its window.

    Attributes
    ----------
    row_off, col_off
        Raster row and column of the window's upper-left cell (may be negative or
        beyond the raster when the zone reaches outside it).
    coverage
        ``(rows, cols)`` fraction of each cell's area inside the zone, in ``[0, 1]``.
    """

    row_off: int
    col_off: int
    coverage: NDArray[np.float64]


# --------------------------------------------------------------------------- geometry


def repair_polygons(geoms: NDArray[np.object_], *, what: str = "zones") -> NDArray[np.object_]:
    """Repair invalid polygons with ``shapely.make_valid`` and keep their polygonal parts.

    Parameters
    ----------
    geoms
        Polygons or multipolygons (``None`` allowed).
    what
        Name of the layer, for the log message.

    Returns
    -------
    numpy.ndarray
        The same geometries, invalid ones replaced by their repaired polygonal parts.
    """
    geoms = np.asarray(geoms, dtype=object)
    present = ~shapely.is_missing(geoms)
    invalid = present & ~shapely.is_valid(geoms)
    n_bad = int(invalid.sum())
    if n_bad:
        out = geoms.copy()
        fixed = shapely.make_valid(geoms[invalid])
        out[invalid] = [_polygonal_part(g) for g in fixed]
        msg = (
            f"{what}: repaired {n_bad} invalid polygon(s) with make_valid "
            "(self-intersections, bow-ties); check them in the source layer"
        )
        warn_data(msg, logger=logger)
        return out
    return geoms


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep the polygons of ``geom`` (a make_valid result), as one (multi)polygon."""
    polys = _flatten_polygons(np.array([geom], dtype=object))[0]
    if len(polys) == 0:
        return shapely.Polygon()
    if len(polys) == 1:
        return polys[0]
    return shapely.multipolygons(polys)


def _flatten_polygons(
    geoms: NDArray[np.object_],
) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
    """Single polygons inside ``geoms`` (recursing into collections) and their index."""
    idx = np.arange(len(geoms))
    parts = geoms
    while True:
        type_id = shapely.get_type_id(parts)
        multi = type_id >= 4  # MultiPoint .. GeometryCollection
        if not multi.any():
            break
        sub, sub_idx = shapely.get_parts(parts[multi], return_index=True)
        keep = ~multi
        parts = np.concatenate([parts[keep], sub])
        idx = np.concatenate([idx[keep], idx[multi][sub_idx]])
    poly = shapely.get_type_id(parts) == 3
    poly &= ~shapely.is_empty(parts)
    return parts[poly], idx[poly]


def _grid_edges(
    geoms: NDArray[np.object_], raster: Raster
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64],
           NDArray[np.float64], NDArray[np.float64]]:
    """Ring edges of ``geoms`` in grid coordinates, with the index of their zone.

    Returns ``zone, u0, v0, u1, v1`` ordered by zone.
    """
    polys, pidx = _flatten_polygons(geoms)
    if len(polys) == 0:
        empty = np.empty(0)
        return np.empty(0, dtype=np.intp), empty, empty, empty, empty
    polys = shapely.orient_polygons(polys, exterior_cw=False)
    rings, ridx = shapely.get_rings(polys, return_index=True)
    coords, cidx = shapely.get_coordinates(rings, return_index=True)
    t = raster.transform
    u = (coords[:, 0] - t.c) / t.a
    v = (coords[:, 1] - t.f) / t.e
    same = cidx[:-1] == cidx[1:]
    zone = pidx[ridx[cidx[:-1][same]]]
    return zone, u[:-1][same], v[:-1][same], u[1:][same], v[1:][same]


def _split_at_integers(
    z: NDArray[np.intp],
    a0: NDArray[np.float64],
    b0: NDArray[np.float64],
    a1: NDArray[np.float64],
    b1: NDArray[np.float64],
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64],
           NDArray[np.float64], NDArray[np.float64]]:
    """Split segments where coordinate ``a`` crosses an integer; keep their order."""
    lo = np.minimum(a0, a1)
    hi = np.maximum(a0, a1)
    n = np.maximum(np.ceil(hi) - np.floor(lo) - 1.0, 0.0).astype(np.intp)
    if not n.any():
        return z, a0, b0, a1, b1
    m = n + 1
    e = np.repeat(np.arange(len(a0)), m)
    start = np.cumsum(m) - m
    j = np.arange(int(m.sum())) - start[e]
    da = a1 - a0
    db = b1 - b0
    step = np.where(da > 0, 1.0, -1.0)
    base = np.where(da > 0, np.floor(lo), np.ceil(hi))
    ne, a0e, b0e, dae, dbe, stepe, basee = n[e], a0[e], b0[e], da[e], db[e], step[e], base[e]
    k_start = basee + stepe * j
    k_end = k_start + stepe
    with np.errstate(divide="ignore", invalid="ignore"):
        t_start = (k_start - a0e) / dae
        t_end = (k_end - a0e) / dae
    first = j == 0
    last = j == ne
    pa0 = np.where(first, a0e, k_start)
    pb0 = np.where(first, b0e, b0e + t_start * dbe)
    pa1 = np.where(last, a1[e], k_end)
    pb1 = np.where(last, b1[e], b0e + t_end * dbe)
    return z[e], pa0, pb0, pa1, pb1


def _cell_increments(
    geoms: NDArray[np.object_], raster: Raster
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp], NDArray[np.float64],
           NDArray[np.float64]]:
    """Row-accumulation increments ``zone, row, col, w_left, w_right`` of every piece.

    ``w_left`` goes to cell ``(row, col)``, ``w_right`` to ``(row, col + 1)``.
    """
    z, u0, v0, u1, v1 = _grid_edges(geoms, raster)
    # split at vertical grid lines (integer u), then at horizontal ones (integer v)
    z, u0, v0, u1, v1 = _split_at_integers(z, u0, v0, u1, v1)
    z, v0, u0, v1, u1 = _split_at_integers(z, v0, u0, v1, u1)
    dv = v1 - v0
    keep = dv != 0.0
    z, u0, v0, u1, dv = z[keep], u0[keep], v0[keep], u1[keep], dv[keep]
    um = 0.5 * (u0 + u1)
    c = np.floor(um)
    r = np.floor(v0 + 0.5 * dv)
    w_left = dv * (c + 1.0 - um)
    w_right = dv * (um - c)
    return z, r.astype(np.intp), c.astype(np.intp), w_left, w_right


@dataclass(frozen=True)
class Pieces:
    """Accumulation increments of every zone, ordered by zone.

    ``w_left`` goes to cell ``(row, col)``, ``w_right`` to ``(row, col + 1)``.
    """

    zone: NDArray[np.int64]
    row: NDArray[np.int64]
    col: NDArray[np.int64]
    w_left: NDArray[np.float64]
    w_right: NDArray[np.float64]

    def sign(self, n: int) -> NDArray[np.float64]:
        """Orientation sign of each zone's accumulated coverage (+1 or -1).

        The signed area of a zone in cells is ``-sum(w * col)`` over its increments,
        because each row's increments sum to zero.
        """
        c = self.col.astype(np.float64)
        signed = -(
            np.bincount(self.zone, self.w_left * c, minlength=n)
            + np.bincount(self.zone, self.w_right * (c + 1.0), minlength=n)
        )
        return np.where(signed < 0, -1.0, 1.0)


def polygon_pieces(geoms: NDArray[np.object_], raster: Raster) -> Pieces:
    """Increments of all zones, built in batches of :data:`_BATCH_ZONES` zones."""
    parts: list[tuple[NDArray[np.intp], ...]] = []
    for b0 in range(0, len(geoms), _BATCH_ZONES):
        z, r, c, wl, wr = _cell_increments(geoms[b0 : b0 + _BATCH_ZONES], raster)
        parts.append((z + b0, r, c, wl, wr))  # type: ignore[arg-type]
    if not parts:
        e = np.empty(0, dtype=np.int64)
        return Pieces(e, e, e, np.empty(0), np.empty(0))
    return Pieces(
        np.concatenate([p[0] for p in parts]).astype(np.int64),
        np.concatenate([p[1] for p in parts]).astype(np.int64),
        np.concatenate([p[2] for p in parts]).astype(np.int64),
        np.concatenate([p[3] for p in parts]),
        np.concatenate([p[4] for p in parts]),
    )


def _raw_windows(
    pieces: Pieces, n: int
) -> Iterator[tuple[int, int, int, NDArray[np.float64], float]]:
    """Yield ``(zone, row_off, col_off, signed coverage, sign)`` for each zone.

    The signed coverage is the running sum of the increments; multiplied by ``sign``
    it is the covered fraction of each cell of the zone's window.
    """
    z, r, c, wl, wr = pieces.zone, pieces.row, pieces.col, pieces.w_left, pieces.w_right
    if len(z) == 0:
        return
    sign = pieces.sign(n)
    cuts = np.flatnonzero(np.diff(z)) + 1
    starts = np.concatenate([[0], cuts])
    zones = z[starts]
    rmin = np.minimum.reduceat(r, starts)
    rmax = np.maximum.reduceat(r, starts)
    cmin = np.minimum.reduceat(c, starts)
    cmax = np.maximum.reduceat(c, starts)
    width = cmax - cmin + 1
    seg = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(z))))
    loc = (r - rmin[seg]) * width[seg] + (c - cmin[seg])
    # w_right beyond the window's last column changes nothing inside the window
    right_ok = c < cmax[seg]
    idx = np.stack([loc, np.where(right_ok, loc + 1, loc)], axis=1).ravel()
    wts = np.stack([wl, np.where(right_ok, wr, 0.0)], axis=1).ravel()
    ends = np.append(starts, len(z))
    for k in range(len(starts)):
        h = int(rmax[k] - rmin[k] + 1)
        w = int(width[k])
        s, e = 2 * int(ends[k]), 2 * int(ends[k + 1])
        acc = np.bincount(idx[s:e], weights=wts[s:e], minlength=h * w).reshape(h, w)
        zi = int(zones[k])
        yield zi, int(rmin[k]), int(cmin[k]), np.cumsum(acc, axis=1), float(sign[zi])


def _windows(pieces: Pieces, n: int) -> list[tuple[int, CoverageWindow]]:
    """Dense coverage windows (cumulative sums of the increments), one per zone."""
    out: list[tuple[int, CoverageWindow]] = []
    for zi, r0, c0, cov, sign in _raw_windows(pieces, n):
        if sign < 0:
            np.negative(cov, out=cov)
        np.clip(cov, 0.0, 1.0, out=cov)
        out.append((zi, CoverageWindow(r0, c0, cov)))
    return out


def hit_windows(
    pieces: Pieces, n: int, shape: tuple[int, int]
) -> list[tuple[int, int, int, NDArray[np.bool_]]]:
    """``(zone, row_off, col_off, hit)`` of each zone: the cells it covers at all.

    Windows are cut to a raster of ``shape``; zones off it are left out. Rasters on
    the same grid share these (:func:`min_max`).
    """
    nrows, ncols = shape
    out: list[tuple[int, int, int, NDArray[np.bool_]]] = []
    for zi, r0, c0, cov, sign in _raw_windows(pieces, n):
        h, w = cov.shape
        if r0 < 0 or c0 < 0 or r0 + h > nrows or c0 + w > ncols:
            rr0, rr1 = max(r0, 0), min(r0 + h, nrows)
            cc0, cc1 = max(c0, 0), min(c0 + w, ncols)
            if rr1 <= rr0 or cc1 <= cc0:
                continue
            cov = cov[rr0 - r0 : rr1 - r0, cc0 - c0 : cc1 - c0]
            r0, c0 = rr0, cc0
        out.append((zi, r0, c0, cov > _EPS_COVER if sign > 0 else cov < -_EPS_COVER))
    return out


def min_max(
    pieces: Pieces,
    arr: NDArray[np.floating] | NDArray[np.integer],
    n: int,
    *,
    has_nan: bool,
    hits: list[tuple[int, int, int, NDArray[np.bool_]]] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Min and max over the cells with data that each zone covers at all.

    ``hits``: the zones' :func:`hit_windows` on ``arr``'s grid, when already known.
    """
    if hits is None:
        hits = hit_windows(pieces, n, arr.shape)
    vmin = np.full(n, np.nan)
    vmax = np.full(n, np.nan)
    for zi, r0, c0, hit in hits:
        h, w = hit.shape
        vals = arr[r0 : r0 + h, c0 : c0 + w]
        sel = vals[hit & ~np.isnan(vals)] if has_nan else vals[hit]
        if sel.size:
            vmin[zi] = sel.min()
            vmax[zi] = sel.max()
    return vmin, vmax


_STRIP_ROWS = 256
"""Raster rows per strip in :func:`_linear_sums` (bounds temporary memory)."""


def linear_sums(
    pieces: Pieces,
    arr: NDArray[np.floating] | NDArray[np.integer],
    n: int,
    *,
    has_nan: bool,
    threshold: float | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64] | None]:
    """Coverage-weighted count, sum and count above ``threshold`` of every zone.

    Uses the identity ``sum_c cov[c] * x[c] = sum_c' acc[c'] * S[c']`` for each row,
    where ``acc`` are the increments whose running sum is ``cov`` and ``S[c']`` is the
    suffix sum of ``x`` from column ``c'`` to the end of the raster row. So each zone
    needs only its boundary increments, and the raster is read once, in strips of
    :data:`_STRIP_ROWS` rows (a summed-area table one row at a time).
    """
    nrows, ncols = arr.shape
    sign = pieces.sign(n)
    z, r, c, wl, wr = pieces.zone, pieces.row, pieces.col, pieces.w_left, pieces.w_right
    if len(r) and (r.min() < 0 or r.max() >= nrows):
        inside = (r >= 0) & (r < nrows)
        z, r, c, wl, wr = z[inside], r[inside], c[inside], wl[inside], wr[inside]
    strip = (r // _STRIP_ROWS).astype(np.uint16)
    order = np.argsort(strip, kind="stable")  # radix sort on uint16
    strip = strip[order]
    z, r, wl, wr = z[order], r[order], wl[order], wr[order]
    c_left = np.clip(c[order], 0, ncols)
    c_right = np.clip(c[order] + 1, 0, ncols)
    bounds = np.searchsorted(strip, np.arange((nrows + _STRIP_ROWS - 1) // _STRIP_ROWS + 1))
    count = np.zeros(n)
    total = np.zeros(n)
    above = np.zeros(n) if threshold is not None else None
    for k in range(len(bounds) - 1):
        s, e = int(bounds[k]), int(bounds[k + 1])
        if s == e:
            continue
        r0 = k * _STRIP_ROWS
        vals = arr[r0 : r0 + _STRIP_ROWS]
        rr, zz, wwl, wwr = r[s:e] - r0, z[s:e], wl[s:e], wr[s:e]
        cl, cr = c_left[s:e], c_right[s:e]

        def weighted(x: NDArray[np.floating] | NDArray[np.integer], rr: NDArray[np.int64] = rr,
                     cl: NDArray[np.int64] = cl, cr: NDArray[np.int64] = cr,
                     wwl: NDArray[np.float64] = wwl,
                     wwr: NDArray[np.float64] = wwr) -> NDArray[np.float64]:
            # suffix[:, j] = sum of x[:, j:], with suffix[:, ncols] = 0
            suffix = np.zeros((x.shape[0], ncols + 1))
            np.cumsum(x[:, ::-1], axis=1, dtype=np.float64, out=suffix[:, -2::-1])
            return wwl * suffix[rr, cl] + wwr * suffix[rr, cr]

        if has_nan:
            valid = ~np.isnan(vals)
            count += np.bincount(zz, weighted(valid.astype(np.float64)), minlength=n)
            total += np.bincount(zz, weighted(np.where(valid, vals, 0.0)), minlength=n)
        else:
            count += np.bincount(zz, wwl * (ncols - cl) + wwr * (ncols - cr), minlength=n)
            total += np.bincount(zz, weighted(vals), minlength=n)
        if above is not None and threshold is not None:
            above += np.bincount(zz, weighted((vals > threshold).astype(np.float64)),
                                 minlength=n)
    count *= sign
    total *= sign
    if above is not None:
        above *= sign
    # rounding in the running sums can leave +-1e-12 for zones off the data
    count[count < _EPS_COVER] = 0.0
    return count, total, above


def raster_bounds(raster: Raster) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) of a north-up raster.

    Computed here rather than with ``Raster.bounds``, whose ``transform * (col, row)``
    raises affine's PendingDeprecationWarning under pytest's warnings-as-errors.
    """
    t = raster.transform
    rows, cols = raster.shape
    xs = (t.c, t.c + t.a * cols)
    ys = (t.f, t.f + t.e * rows)
    return min(xs), min(ys), max(xs), max(ys)


def check_raster(raster: Raster) -> None:
    """Raise unless ``raster`` has a CRS and a north-up (unrotated) grid."""
    if raster.crs is None:
        msg = (
            f"raster {raster.name or '(unnamed)'!r} has no CRS; set it when loading "
            "(e.g. rasterio's `crs=` or the manifest's `crs:` for the layer)"
        )
        raise CRSError(msg)
    t = raster.transform
    if t.b != 0 or t.d != 0:
        msg = (
            f"raster {raster.name or '(unnamed)'!r} is rotated (transform {tuple(t)[:6]}); "
            "warp it to a north-up grid first (gdalwarp)"
        )
        raise ValidationError(msg)


def coverage_fractions(
    geoms: Sequence[shapely.Geometry] | NDArray[np.object_] | gpd.GeoSeries,
    raster: Raster,
) -> list[CoverageWindow | None]:
    """Exact fraction of each raster cell covered by each polygon.

    Parameters
    ----------
    geoms
        Polygons or multipolygons in the raster's CRS (a GeoSeries in another CRS
        is reprojected).
    raster
        Defines the grid; its values are not used.

    Returns
    -------
    list of CoverageWindow or None
        One window per geometry (``None`` for empty or missing geometries). Cells of
        the window may lie outside the raster.
    """
    check_raster(raster)
    if isinstance(geoms, gpd.GeoSeries):
        if geoms.crs is not None and not geoms.crs.equals(raster.crs):
            geoms = geoms.to_crs(raster.crs)
        arr = np.asarray(geoms.array, dtype=object)
    else:
        arr = np.asarray(geoms, dtype=object)
    result: list[CoverageWindow | None] = [None] * len(arr)
    for zi, win in _windows(polygon_pieces(arr, raster), len(arr)):
        result[zi] = win
    return result
