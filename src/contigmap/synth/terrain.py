"""Synthetic karst terrain and the river network derived from it.

The surface is built in four steps:

1. **Trend**: the real coarse (0.2°) elevation, interpolated bilinearly between cell centres.
2. **Relief**: a fractal surface by spectral synthesis (filtered white noise with power
   spectrum ``P(k) ∝ k^-β``, β = 2.2; Voss, "Random fractal forgeries", 1985; Saupe, in
   *The Science of Fractal Images*, 1988, ch. 2), added to the trend.
3. **Valleys**: one pass of stream-power incision (depth ∝ √A, A the upstream area;
   Howard 1994, *Water Resources Research* 30(7)) so that rivers sit in valleys, then a
   linear rescale to the real elevation range of the county, 227–922 m.
4. **Dolines**: karst depressions (Gaussian pits of 40–150 m radius and 5–30 m depth),
   dense on high, gentle ground (karst plateaus).

Hydrology on a coarser grid (3 arc-seconds): depressions are filled with Priority-Flood+ε
(Barnes, Lehman & Mulla 2014, *Computers & Geosciences* 62, algorithm 3), flow follows
the steepest of the eight neighbours (D8; O'Callaghan & Mark 1984) on the filled
surface, and flow accumulation counts upstream area. River lines join cells whose
upstream area exceeds a threshold.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS
from rasterio import features
from scipy import ndimage

from contigmap.raster import Raster

__all__ = [
    "Hydrology",
    "Terrain",
    "d8_receivers",
    "flow_accumulation",
    "fractal_surface",
    "make_terrain",
    "priority_flood",
    "river_lines",
    "slope_degrees",
]

WGS84 = CRS.from_epsg(4326)
ARCSEC = 1.0 / 3600.0
_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


@dataclass(frozen=True)
class Hydrology:
    """Flow routing on a grid.

    Attributes
    ----------
    filled
        Depression-filled elevation (m).
    receiver
        Flat index of each cell's downstream neighbour, ``-1`` at outlets and outside.
    area_km2
        Upstream area of each cell including itself (km²), 0 outside.
    """

    filled: NDArray[np.float64]
    receiver: NDArray[np.int64]
    area_km2: NDArray[np.float64]


@dataclass(frozen=True)
class Terrain:
    """The synthetic terrain of a region.

    Attributes
    ----------
    dem
        The fine DEM (1 arc-second, EPSG:4326), ``nan`` outside the county buffer.
    grid
        The 3 arc-second analysis grid (block means of ``dem``), same CRS.
    mask
        Cells of ``grid`` inside the county outline.
    slope_deg
        Slope of ``grid`` in degrees.
    hydro
        Flow routing on ``grid``.
    cell_dx_m, cell_dy_m
        Size of a ``grid`` cell in metres (east-west, north-south).
    """

    dem: Raster
    grid: Raster
    mask: NDArray[np.bool_]
    slope_deg: NDArray[np.float64]
    hydro: Hydrology
    cell_dx_m: float
    cell_dy_m: float


def fractal_surface(
    shape: tuple[int, int], rng: np.random.Generator, *, beta: float = 2.2
) -> NDArray[np.float64]:
    """Spectral synthesis of a fractal (fBm-like) surface, zero mean and unit variance.

    White Gaussian noise is filtered in the Fourier domain by ``|k|^(-β/2)`` so that the
    power spectrum falls as ``|k|^-β`` (β = 2 + 2H for Hurst exponent H).
    """
    rows, cols = shape
    noise = rng.standard_normal(shape)
    ky = np.fft.fftfreq(rows)[:, None]
    kx = np.fft.rfftfreq(cols)[None, :]
    k = np.hypot(kx, ky)
    k[0, 0] = 1.0
    spectrum = np.fft.rfft2(noise) * k ** (-beta / 2.0)
    spectrum[0, 0] = 0.0
    surf = np.fft.irfft2(spectrum, s=shape)
    return np.asarray((surf - surf.mean()) / surf.std(), dtype=np.float64)


def priority_flood(elev: NDArray[np.float64], valid: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Fill depressions so that every valid cell drains to the edge (Priority-Flood+ε).

    Barnes, Lehman & Mulla (2014): seed a priority queue with the valid cells that touch
    an invalid cell or the grid edge; pop the lowest, raise each unvisited neighbour to at
    least the popped elevation plus a tiny ε, and push it.
    """
    rows, cols = elev.shape
    filled = np.where(valid, elev, np.nan).astype(np.float64)
    padded = np.pad(valid, 1, constant_values=False)
    interior = ndimage.binary_erosion(padded, structure=np.ones((3, 3)))[1:-1, 1:-1]
    edge = valid & ~interior
    visited = ~valid.copy()
    flat = filled.ravel().tolist()
    vis = visited.ravel().tolist()
    heap: list[tuple[float, int]] = []
    for idx in np.flatnonzero(edge.ravel()).tolist():
        heap.append((flat[idx], idx))
        vis[idx] = True
    heapq.heapify(heap)
    eps = 1e-4
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        z, idx = pop(heap)
        r, c = divmod(idx, cols)
        for dr, dc in _OFFSETS:
            rr, cc = r + dr, c + dc
            if 0 <= rr < rows and 0 <= cc < cols:
                n = rr * cols + cc
                if not vis[n]:
                    vis[n] = True
                    zn = flat[n]
                    if zn <= z:
                        zn = z + eps
                        flat[n] = zn
                    push(heap, (zn, n))
    return np.asarray(flat, dtype=np.float64).reshape(rows, cols)


def d8_receivers(filled: NDArray[np.float64], dx_m: float, dy_m: float) -> NDArray[np.int64]:
    """Steepest-descent (D8) downstream neighbour of each cell; ``-1`` where none is lower."""
    rows, cols = filled.shape
    pad = np.pad(filled, 1, constant_values=np.nan)
    best = np.zeros(filled.shape)
    recv = np.full(filled.shape, -1, dtype=np.int64)
    rr, cc = np.indices(filled.shape)
    for dr, dc in _OFFSETS:
        nb = pad[1 + dr : 1 + dr + rows, 1 + dc : 1 + dc + cols]
        dist = float(np.hypot(dr * dy_m, dc * dx_m))
        drop = (filled - nb) / dist
        better = np.nan_to_num(drop, nan=-1.0) > best
        best = np.where(better, drop, best)
        recv = np.where(better, (rr + dr) * cols + (cc + dc), recv)
    recv[np.isnan(filled)] = -1
    return recv


def flow_accumulation(
    filled: NDArray[np.float64], receiver: NDArray[np.int64], cell_km2: float
) -> NDArray[np.float64]:
    """Upstream area (km²): pass each cell's area downstream, highest cells first."""
    flat_recv = receiver.ravel()
    valid = ~np.isnan(filled.ravel())
    acc = np.where(valid, cell_km2, 0.0)
    order = np.argsort(-np.nan_to_num(filled.ravel(), nan=-np.inf), kind="stable")
    acc_list = acc.tolist()
    recv_list = flat_recv.tolist()
    for idx in order[: int(valid.sum())].tolist():
        r = recv_list[idx]
        if r >= 0:
            acc_list[r] += acc_list[idx]
    return np.asarray(acc_list).reshape(filled.shape)


def slope_degrees(elev: NDArray[np.float64], dx_m: float, dy_m: float) -> NDArray[np.float64]:
    """Slope (degrees) by central differences (edges by one-sided differences)."""
    gy, gx = np.gradient(elev, dy_m, dx_m)
    return np.asarray(np.degrees(np.arctan(np.hypot(gx, gy))), dtype=np.float64)


def _hydrology(
    elev: NDArray[np.float64], valid: NDArray[np.bool_], dx: float, dy: float
) -> Hydrology:
    filled = priority_flood(elev, valid)
    recv = d8_receivers(filled, dx, dy)
    area = flow_accumulation(filled, recv, dx * dy / 1e6)
    return Hydrology(filled, recv, area)


def _bilinear_trend(
    coarse: Raster, x: NDArray[np.float64], y: NDArray[np.float64]
) -> NDArray[np.float64]:
    arr = coarse.array.copy()
    if np.isnan(arr).any():
        arr[np.isnan(arr)] = np.nanmean(arr)
    filled = Raster(arr, coarse.transform, coarse.crs)
    return filled.sample_bilinear(x, y)


def make_terrain(
    outline: shapely.Polygon,
    coarse: Raster,
    rng: np.random.Generator,
    *,
    elevation_range_m: tuple[float, float] = (227.0, 922.0),
    buffer_deg: float = 0.01,
    fine_arcsec: int = 1,
    grid_factor: int = 3,
) -> Terrain:
    """Make the DEM, the analysis grid, slope and flow routing for a county outline.

    Parameters
    ----------
    outline
        County polygon, WGS84.
    coarse
        Real coarse elevation (the large-scale trend).
    rng
        Random generator (seeded by the caller).
    elevation_range_m
        Real (min, max) elevation of the county; the surface is rescaled to it inside the
        outline.
    buffer_deg
        Margin around the outline kept in the DEM (nodata beyond).
    fine_arcsec
        DEM cell size in arc-seconds (1 ≈ 30 m, like SRTM).
    grid_factor
        Analysis grid cells per side of ``grid_factor`` DEM cells.

    Returns
    -------
    Terrain
    """
    minx, miny, maxx, maxy = outline.bounds
    step = fine_arcsec * ARCSEC
    block = step * grid_factor
    x0 = np.floor((minx - buffer_deg) / block) * block
    y1 = np.ceil((maxy + buffer_deg) / block) * block
    ncols_g = int(np.ceil((maxx + buffer_deg - x0) / block))
    nrows_g = int(np.ceil((y1 - (miny - buffer_deg)) / block))
    rows, cols = nrows_g * grid_factor, ncols_g * grid_factor
    fine_tf = Affine(step, 0.0, x0, 0.0, -step, y1)
    grid_tf = Affine(block, 0.0, x0, 0.0, -block, y1)
    lat = (miny + maxy) / 2
    dy_m = block * 111_320.0
    dx_m = dy_m * float(np.cos(np.radians(lat)))

    xs = x0 + (np.arange(cols) + 0.5) * step
    ys = y1 - (np.arange(rows) + 0.5) * step
    gx, gy = np.meshgrid(xs, ys)
    trend = _bilinear_trend(coarse, gx, gy)
    trend = (trend - np.nanmean(trend)) / max(float(np.nanstd(trend)), 1.0)
    relief = fractal_surface((rows, cols), rng)
    # ridged component: karst towers and gorges have sharper crests than plain fBm
    ridged = 1.0 - np.abs(fractal_surface((rows, cols), rng, beta=2.6))
    surface = 0.45 * trend + 1.0 * relief + 0.35 * ridged

    inside_g = features.geometry_mask(
        [outline], out_shape=(nrows_g, ncols_g), transform=grid_tf, invert=True, all_touched=False
    )
    buffered = features.geometry_mask(
        [outline.buffer(buffer_deg * 0.9)],
        out_shape=(nrows_g, ncols_g),
        transform=grid_tf,
        invert=True,
    )
    # stream-power incision on the analysis grid
    coarse_s = surface.reshape(nrows_g, grid_factor, ncols_g, grid_factor).mean(axis=(1, 3))
    first = _hydrology(coarse_s, buffered, dx_m, dy_m)
    incision = np.sqrt(np.where(buffered, first.area_km2, 0.0))
    incision = ndimage.gaussian_filter(incision, 1.0)
    incision = np.kron(incision, np.ones((grid_factor, grid_factor)))
    incision = ndimage.uniform_filter(incision, grid_factor)
    surface = surface - 0.22 * incision

    inside_f = np.kron(inside_g, np.ones((grid_factor, grid_factor), dtype=bool))
    lo, hi = np.percentile(surface[inside_f], [0.0, 100.0])
    zmin, zmax = elevation_range_m
    elev = zmin + (surface - lo) / (hi - lo) * (zmax - zmin)

    # dolines: denser on high, gentle ground
    gslope = slope_degrees(elev, dx_m / grid_factor, dy_m / grid_factor)
    plateau = (elev > np.percentile(elev[inside_f], 55)) & (gslope < 18) & inside_f
    cand = np.flatnonzero(plateau.ravel())
    n_dolines = min(cand.size, 900)
    if n_dolines:
        centres = rng.choice(cand, size=n_dolines, replace=False)
        pits = np.zeros_like(elev)
        cr, cc = np.divmod(centres, cols)
        radius_cells = rng.uniform(40.0, 150.0, n_dolines) / (dx_m / grid_factor)
        depth = rng.uniform(5.0, 30.0, n_dolines)
        for r, c, rad, dep in zip(cr, cc, radius_cells, depth, strict=True):
            h = int(np.ceil(rad * 2.5))
            r0, r1 = max(r - h, 0), min(r + h + 1, rows)
            c0, c1 = max(c - h, 0), min(c + h + 1, cols)
            yy, xx = np.ogrid[r0 - r : r1 - r, c0 - c : c1 - c]
            pits[r0:r1, c0:c1] = np.maximum(
                pits[r0:r1, c0:c1], dep * np.exp(-(xx**2 + yy**2) / (2 * rad**2))
            )
        elev = elev - pits
    elev = np.clip(elev, zmin, zmax)
    buffered_f = np.kron(buffered, np.ones((grid_factor, grid_factor), dtype=bool))
    elev = np.where(buffered_f, np.round(elev), np.nan)
    dem = Raster(elev, fine_tf, WGS84, name="dem")

    grid_elev = elev.reshape(nrows_g, grid_factor, ncols_g, grid_factor).mean(axis=(1, 3))
    hydro = _hydrology(grid_elev, buffered, dx_m, dy_m)
    slope = slope_degrees(np.where(buffered, grid_elev, np.nanmean(grid_elev)), dx_m, dy_m)
    grid = Raster(grid_elev, grid_tf, WGS84, name="terrain_grid")
    return Terrain(dem, grid, inside_g, slope, hydro, dx_m, dy_m)


def river_lines(
    terrain: Terrain, *, min_area_km2: float = 2.0
) -> tuple[list[shapely.LineString], list[float]]:
    """River centre lines where upstream area ≥ ``min_area_km2``, with their largest upstream area.

    Lines run from cell centre to the downstream cell centre and are split at confluences.
    """
    area = terrain.hydro.area_km2.ravel()
    recv = terrain.hydro.receiver.ravel()
    river = (area >= min_area_km2) & terrain.mask.ravel()
    src = np.flatnonzero(river & (recv >= 0))
    dst = recv[src]
    cols = terrain.grid.shape[1]
    tf = terrain.grid.transform

    def centre(idx: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        r, c = np.divmod(idx, cols)
        return tf.c + (c + 0.5) * tf.a, tf.f + (r + 0.5) * tf.e

    sx, sy = centre(src)
    ex, ey = centre(dst)
    segs = shapely.linestrings(
        np.stack([np.column_stack([sx, sy]), np.column_stack([ex, ey])], axis=1)
    )
    merged = shapely.line_merge(shapely.union_all(segs))
    parts = list(getattr(merged, "geoms", [merged]))
    parts = [p for p in parts if not p.is_empty]
    grid = terrain.grid
    areas = []
    for line in parts:
        coords = shapely.get_coordinates(line)
        r, c = grid.index(coords[:, 0], coords[:, 1])
        r = np.clip(r, 0, grid.shape[0] - 1)
        c = np.clip(c, 0, grid.shape[1] - 1)
        areas.append(float(terrain.hydro.area_km2[r, c].max()))
    return parts, areas
