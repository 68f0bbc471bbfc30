"""Synthetic karst terrain and the river network derived from it.

The surface is built in these steps (parameters in :data:`KARST`):

1. **Trend**: the real coarse (0.2°) elevation, interpolated bilinearly between cell centres;
   it carries much of the county's 700 m of relief (high west and south-east, low north).
2. **Hills**: a fractal surface by spectral synthesis (filtered white noise; Voss, "Random
   fractal forgeries", 1985; Saupe, in *The Science of Fractal Images*, 1988, ch. 2) with a
   von Kármán spectrum ``(k² + k₀²)^(-β/2)``, β = 3, flat beyond ~1.5 km wavelengths and
   damped below ~300 m, so that hills have a typical size and the 30 m surface is not
   rough at the cell scale; its amplitude is modulated by a smooth "ruggedness" field.
3. **Plateaus**: in a smooth zone over ~30% of the county, favouring high ground, the
   local relief is squeezed towards a high level (karst tablelands with steep margins).
4. **Gorges**: one pass of stream-power incision (depth ∝ √A, A the upstream area;
   Howard 1994, *Water Resources Research* 30(7)), then a stretch to the real elevation
   range of the county, 227–922 m (linear between the 0.5% and 99.5% quantiles).
5. **Poljes and valley floors**: closed basins deeper than a doline are filled to a
   gentle floor; near-flat floors are laid beside the channels, widening downstream.
6. **Dolines**: karst depressions (Gaussian pits of 40–150 m radius and 5–30 m depth),
   dense on high, gentle ground (karst plateaus).

With the demo seed, Horn slope on the 30 m DEM has a county median of ~14° and a 90th
percentile of ~31°; valley floors and plateaus are gentle, gorge sides 30–45°.

Hydrology on a coarser grid (3 arc-seconds): depressions are filled with Priority-Flood+ε
(Barnes, Lehman & Mulla 2014, *Computers & Geosciences* 62, algorithm 3), flow follows
the steepest of the eight neighbours (D8; O'Callaghan & Mark 1984) on the filled
surface, and flow accumulation counts upstream area. River lines join cells whose
upstream area exceeds a threshold.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

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
    shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    beta: float = 2.2,
    rolloff: float | None = None,
    corner: float | None = None,
) -> NDArray[np.float64]:
    """Spectral synthesis of a fractal (fBm-like) surface, zero mean and unit variance.

    White Gaussian noise is filtered in the Fourier domain by ``|k|^(-β/2)`` so that the
    power spectrum falls as ``|k|^-β`` (β = 2 + 2H for Hurst exponent H). With
    ``rolloff`` (a frequency in cycles per cell), the amplitude is further damped by
    ``exp(-(k / rolloff)^2)``: real DEMs lose power faster than a power law at the
    shortest wavelengths (hillslope diffusion, and the sensor's own smoothing), and
    without it a 30 m surface is far too rough. With ``corner`` (cycles per cell) the
    power law becomes ``(k² + corner²)^(-β/2)`` (a von Kármán spectrum), flat below the
    corner frequency, so that the relief has a characteristic hill size instead of
    being dominated by the largest wavelengths.
    """
    rows, cols = shape
    noise = rng.standard_normal(shape)
    ky = np.fft.fftfreq(rows)[:, None]
    kx = np.fft.rfftfreq(cols)[None, :]
    k = np.hypot(kx, ky)
    k[0, 0] = 1.0
    filt = k ** (-beta / 2.0) if corner is None else (k**2 + corner**2) ** (-beta / 4.0)
    if rolloff is not None:
        filt = filt * np.exp(-((k / rolloff) ** 2))
    spectrum = np.fft.rfft2(noise) * filt
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


KARST: dict[str, float] = {
    "trend": 1.8,  # weight of the real coarse trend (unit variance)
    "hill_beta": 3.0,  # spectral exponent of the hills
    "hill_rolloff_m": 300.0,  # wavelength below which the hills are damped
    "hill_corner_m": 1500.0,  # wavelength above which the hill spectrum is flat
    "rugged_sd": 0.3,  # log-sd of the smooth ruggedness field (gentle vs rough country)
    "towers": 0.1,  # ridged component: peak clusters with sharp crests
    "plateau_share": 0.3,  # share of the county in karst plateaus
    "plateau_q": 0.75,  # quantile of the surface at the plateau level
    "plateau_keep": 0.45,  # share of the local relief kept on plateaus
    "incision": 0.35,  # stream-power incision per sqrt(km2)
    "polje_depth_m": 12.0,  # closed basins are filled to this depth below their spill level
    "polje_keep": 0.4,  # share of the relief kept below that depth
    "floor_km2": 1.0,  # valley floors along channels from this upstream area
    "floor_m": 35.0,  # floor half-width = floor_m * A^floor_exp
    "floor_exp": 0.5,
    "floor_grade": 0.06,  # cross-valley rise of the floor
}
"""Parameters of the karst surface (tuned so that Horn slope on the 30 m DEM has a county
median of about 15° and a 90th percentile below 35°)."""


def _up(a: NDArray[Any], f: int) -> NDArray[Any]:
    return np.asarray(np.kron(a, np.ones((f, f), dtype=a.dtype)))


def _down(a: NDArray[np.float64], f: int) -> NDArray[np.float64]:
    r, c = a.shape[0] // f, a.shape[1] // f
    return np.asarray(a.reshape(r, f, c, f).mean(axis=(1, 3)), dtype=np.float64)


def _relief(
    trend: NDArray[np.float64], rng: np.random.Generator, cell_m: float, p: dict[str, float]
) -> NDArray[np.float64]:
    """Trend, rugged-modulated hills and peak clusters, and flattened karst plateaus."""
    shape = trend.shape
    rolloff = cell_m / p["hill_rolloff_m"]
    corner = cell_m / p["hill_corner_m"]
    hills = fractal_surface(shape, rng, beta=p["hill_beta"], rolloff=rolloff, corner=corner)
    rugged = np.exp(p["rugged_sd"] * fractal_surface(shape, rng, beta=3.6, rolloff=rolloff / 4))
    rugged = rugged / rugged.mean()
    towers = 1.0 - np.abs(
        fractal_surface(shape, rng, beta=p["hill_beta"], rolloff=rolloff, corner=corner)
    )
    surface = p["trend"] * trend + rugged * (hills + p["towers"] * towers)
    # plateaus: in a smooth zone favouring high ground, squeeze the local relief towards
    # a high level; their margins become escarpments and gorges are cut into them later
    zone = fractal_surface(shape, rng, beta=4.0, rolloff=rolloff / 8) + 0.6 * trend
    zone_t = float(np.quantile(zone, 1.0 - p["plateau_share"]))
    weight = np.clip((zone - zone_t) / 0.35 + 0.5, 0.0, 1.0)
    weight = weight * weight * (3.0 - 2.0 * weight)
    level = float(np.quantile(surface, p["plateau_q"]))
    flat = level + p["plateau_keep"] * (surface - level)
    return np.asarray(surface + weight * (flat - surface), dtype=np.float64)


def _stretch(
    surface: NDArray[np.float64], inside: NDArray[np.bool_], zmin: float, zmax: float
) -> NDArray[np.float64]:
    """Map ``surface`` onto ``[zmin, zmax]`` inside the county.

    Linear between its 0.5% and 99.5% quantiles, with tanh-compressed tails, so that a
    few outliers do not set the scale.
    """
    q_lo, q_hi = np.quantile(surface[inside], [0.005, 0.995])
    u = (surface - q_lo) / (q_hi - q_lo)
    a = 0.06
    u = np.where(u < 0, -a * np.tanh(-u / a), u)
    u = np.where(u > 1, 1 + a * np.tanh((u - 1) / a), u)
    lo, hi = float(u[inside].min()), float(u[inside].max())
    return np.asarray(zmin + (u - lo) / (hi - lo) * (zmax - zmin), dtype=np.float64)


def _valley_floors(
    elev: NDArray[np.float64],
    hydro: Hydrology,
    factor: int,
    dx_m: float,
    dy_m: float,
    p: dict[str, float],
) -> NDArray[np.float64]:
    """Lower the ground beside channels to a near-flat floor widening downstream.

    The floor follows the depression-filled channel elevation (monotone downstream),
    rising ``floor_grade`` across the valley; its half-width grows as a power of the
    upstream area (hydraulic geometry; Leopold & Maddock 1953, USGS PP 252), and it
    blends into the hillslope over a second half-width.
    """
    channel = _up(hydro.area_km2 >= p["floor_km2"], factor)
    if not channel.any():
        return elev
    dist, (ir, ic) = ndimage.distance_transform_edt(
        ~channel, sampling=(dy_m, dx_m), return_indices=True
    )
    zc = _up(np.nan_to_num(hydro.filled, nan=0.0), factor)[ir, ic]
    area = _up(hydro.area_km2, factor)[ir, ic]
    half = p["floor_m"] * np.maximum(area, 1e-3) ** p["floor_exp"]
    t = np.clip((dist - half) / half, 0.0, 1.0)
    w = 1.0 - t * t * (3.0 - 2.0 * t)
    floor = zc + p["floor_grade"] * dist
    return np.asarray(np.where(elev > floor, elev - w * (elev - floor), elev), dtype=np.float64)


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

    inside_g = features.geometry_mask(
        [outline], out_shape=(nrows_g, ncols_g), transform=grid_tf, invert=True, all_touched=False
    )
    buffered = features.geometry_mask(
        [outline.buffer(buffer_deg * 0.9)],
        out_shape=(nrows_g, ncols_g),
        transform=grid_tf,
        invert=True,
    )
    inside_f = _up(inside_g, grid_factor)
    fine_dx, fine_dy = dx_m / grid_factor, dy_m / grid_factor
    surface = _relief(trend, rng, fine_dx, KARST)
    zmin, zmax = elevation_range_m
    elev = _carve(surface, buffered, inside_f, grid_factor, dx_m, dy_m, zmin, zmax)
    elev = _dolines(rng, elev, inside_f, fine_dx, fine_dy)
    elev = np.clip(elev, zmin, zmax)
    buffered_f = np.kron(buffered, np.ones((grid_factor, grid_factor), dtype=bool))
    elev = np.where(buffered_f, np.round(elev), np.nan)
    dem = Raster(elev, fine_tf, WGS84, name="dem")

    grid_elev = elev.reshape(nrows_g, grid_factor, ncols_g, grid_factor).mean(axis=(1, 3))
    hydro = _hydrology(grid_elev, buffered, dx_m, dy_m)
    slope = slope_degrees(np.where(buffered, grid_elev, np.nanmean(grid_elev)), dx_m, dy_m)
    grid = Raster(grid_elev, grid_tf, WGS84, name="terrain_grid")
    return Terrain(dem, grid, inside_g, slope, hydro, dx_m, dy_m)


def _carve(surface: NDArray[np.float64], buffered: NDArray[np.bool_],
           inside_f: NDArray[np.bool_], grid_factor: int, dx_m: float, dy_m: float,
           zmin: float, zmax: float) -> NDArray[np.float64]:
    """Cut gorges, stretch to the county's range, fill poljes and lay valley floors.

    Stream-power incision on the analysis grid cuts gorges into hills and plateaus;
    closed basins deeper than a doline are filled to a flat floor (poljes), then flat
    valley floors are laid beside the channels, widening downstream.
    """
    p = KARST
    fine_dx, fine_dy = dx_m / grid_factor, dy_m / grid_factor
    first = _hydrology(_down(surface, grid_factor), buffered, dx_m, dy_m)
    incision = np.sqrt(np.where(buffered, first.area_km2, 0.0))
    incision = ndimage.gaussian_filter(incision, 1.0)
    incision = ndimage.uniform_filter(_up(incision, grid_factor), grid_factor)
    surface = surface - p["incision"] * incision
    elev = _stretch(surface, inside_f, zmin, zmax)
    second = _hydrology(_down(elev, grid_factor), buffered, dx_m, dy_m)
    basin = _up(np.nan_to_num(second.filled, nan=zmin), grid_factor) - p["polje_depth_m"]
    elev = np.where(elev < basin, basin - p["polje_keep"] * (basin - elev), elev)
    return _valley_floors(elev, second, grid_factor, fine_dx, fine_dy, p)


def _dolines(rng: np.random.Generator, elev: NDArray[np.float64], inside_f: NDArray[np.bool_],
             fine_dx: float, fine_dy: float) -> NDArray[np.float64]:
    """Sink up to 900 dolines, on high, gentle ground (karst plateaus)."""
    rows, cols = elev.shape
    gslope = slope_degrees(elev, fine_dx, fine_dy)
    plateau = (elev > np.percentile(elev[inside_f], 55)) & (gslope < 15) & inside_f
    cand = np.flatnonzero(plateau.ravel())
    n_dolines = min(cand.size, 900)
    if not n_dolines:
        return elev
    centres = rng.choice(cand, size=n_dolines, replace=False)
    pits = np.zeros_like(elev)
    cr, cc = np.divmod(centres, cols)
    radius_cells = rng.uniform(40.0, 150.0, n_dolines) / fine_dx
    depth = rng.uniform(5.0, 30.0, n_dolines) * np.clip(radius_cells * fine_dx / 150.0, 0.4, 1)
    for r, c, rad, dep in zip(cr, cc, radius_cells, depth, strict=True):
        h = int(np.ceil(rad * 2.5))
        r0, r1 = max(r - h, 0), min(r + h + 1, rows)
        c0, c1 = max(c - h, 0), min(c + h + 1, cols)
        yy, xx = np.ogrid[r0 - r : r1 - r, c0 - c : c1 - c]
        pits[r0:r1, c0:c1] = np.maximum(
            pits[r0:r1, c0:c1], dep * np.exp(-(xx**2 + yy**2) / (2 * rad**2))
        )
    return elev - pits


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
