"""An in-memory raster: a 2-D array with its affine transform and CRS.

Every stage that needs a raster (terrain, overlays, network slope penalties) takes a
:class:`Raster`, so that none of them reads files behind the caller's back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS

__all__ = ["NODATA_SENTINELS", "Raster", "undeclared_nodata"]

NODATA_SENTINELS: tuple[float, ...] = (
    -32768.0,
    -9999.0,
    float(np.finfo(np.float32).min),
    float(np.finfo(np.float32).max),
)
"""Values GIS software writes for "no data" (int16 SRTM voids, ArcGIS / GDAL defaults,
±float32 max). A raster whose nodata is not declared may still hold them."""

_SENTINEL_MARGIN = 1000.0


def undeclared_nodata(array: NDArray[np.float64]) -> list[tuple[float, int]]:
    """Sentinel nodata values found in a raster whose nodata is not declared.

    A value of :data:`NODATA_SENTINELS` counts as nodata only when it lies far outside
    the range of the other values: more than ``max(1000, hi - lo)`` below their
    minimum ``lo`` or above their maximum ``hi`` (all cells holding it: always). So
    -9999 is a void in a DEM of 200–2000 m, but a real value in a raster of
    differences ranging from -12,000 to 5,000.

    Parameters
    ----------
    array
        The raster's values.

    Returns
    -------
    list of tuple
        ``(value, cells)`` for each sentinel treated as nodata; empty when none.
    """
    a = np.asarray(array, dtype=float)
    finite = np.isfinite(a)
    hits = [(v, a == v) for v in NODATA_SENTINELS]
    hits = [(v, m) for v, m in hits if m.any()]
    if not hits:
        return []
    rest = finite.copy()
    for _, m in hits:
        rest &= ~m
    out: list[tuple[float, int]] = []
    if not rest.any():
        return [(v, int(m.sum())) for v, m in hits]
    lo, hi = float(a[rest].min()), float(a[rest].max())
    margin = max(_SENTINEL_MARGIN, hi - lo)
    for v, m in hits:
        if v < lo - margin or v > hi + margin:
            out.append((v, int(m.sum())))
    return out


@dataclass(frozen=True, eq=False)
class Raster:
    """A single-band raster held in memory.

    Attributes
    ----------
    array
        2-D ``float64`` values, ``nan`` where there is no data.
    transform
        Affine transform from (col, row) to (x, y) of the cell's upper-left corner,
        as rasterio defines it.
    crs
        Coordinate reference system of ``transform``.
    name
        What the values are (``dem``, ``landslide``), for messages.
    """

    array: NDArray[np.float64]
    transform: Affine
    crs: CRS
    name: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        rows, cols = self.array.shape
        return int(rows), int(cols)

    @property
    def res(self) -> tuple[float, float]:
        """Cell size (x, y), both positive, in CRS units."""
        return abs(self.transform.a), abs(self.transform.e)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in CRS units (north-up rasters)."""
        rows, cols = self.shape
        t = self.transform
        x0, y0 = t.c, t.f
        x1, y1 = t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    def index(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Row and column of the cells holding points ``(x, y)`` (may fall outside)."""
        inv = ~self.transform
        xa = np.asarray(x, dtype=float)
        ya = np.asarray(y, dtype=float)
        cols = np.floor(inv.a * xa + inv.b * ya + inv.c).astype(np.intp)
        rows = np.floor(inv.d * xa + inv.e * ya + inv.f).astype(np.intp)
        return rows, cols

    def sample(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
        """Value of the cell under each point (nearest cell); ``nan`` outside the raster."""
        rows, cols = self.index(x, y)
        nrows, ncols = self.shape
        inside = (rows >= 0) & (rows < nrows) & (cols >= 0) & (cols < ncols)
        out = np.full(rows.shape, np.nan)
        out[inside] = self.array[rows[inside], cols[inside]]
        return out

    def sample_bilinear(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
        """Bilinear interpolation between cell centres; ``nan`` outside or next to nodata."""
        inv = ~self.transform
        xa = np.asarray(x, dtype=float)
        ya = np.asarray(y, dtype=float)
        # the cell coordinates :meth:`index` floors (the same products and sums)
        col_at = inv.a * xa + inv.b * ya + inv.c
        row_at = inv.d * xa + inv.e * ya + inv.f
        nrows, ncols = self.shape
        fc = np.clip(col_at - 0.5, 0.0, ncols - 1.0)
        fr = np.clip(row_at - 0.5, 0.0, nrows - 1.0)
        c0 = np.minimum(np.floor(fc).astype(np.intp), max(ncols - 2, 0))
        r0 = np.minimum(np.floor(fr).astype(np.intp), max(nrows - 2, 0))
        c1 = np.minimum(c0 + 1, ncols - 1)
        r1 = np.minimum(r0 + 1, nrows - 1)
        dc = fc - c0
        dr = fr - r0
        a = self.array
        if type(a) is np.ndarray and a.flags.c_contiguous:  # one index per corner
            flat = a.reshape(-1)
            i00, i10, right = r0 * ncols + c0, r1 * ncols + c0, c1 - c0
            top = flat[i00] * (1 - dc) + flat[i00 + right] * dc
            bottom = flat[i10] * (1 - dc) + flat[i10 + right] * dc
        else:
            top = a[r0, c0] * (1 - dc) + a[r0, c1] * dc
            bottom = a[r1, c0] * (1 - dc) + a[r1, c1] * dc
        out = np.asarray(top * (1 - dr) + bottom * dr, dtype=float)
        # outside the raster: a cell :meth:`index` gives outside (floor < 0 or >= size)
        outside = ~((col_at >= 0) & (col_at < ncols) & (row_at >= 0) & (row_at < nrows))
        out[outside] = np.nan
        return out
