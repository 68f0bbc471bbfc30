"""Raster zonal statistics with exact cell coverage fractions.

Each cell's weight in a zone is the fraction of the cell's area that lies inside the
zone's polygon: exactextract's definition (Baston, *exactextract*, isciences 2019–),
so that small village zones over a coarse DEM or hazard raster are neither
over- nor under-counted the way cell-centre rasterization does. The coverage engine
(signed-area accumulation, summing by parts) is :mod:`contigmap.coverage`.

Statistics follow exactextract: ``count`` is the sum of the coverage of cells with
data (in cells), ``mean`` the coverage-weighted mean, ``sum`` the coverage-weighted
sum, ``min`` / ``max`` over cells with any coverage. Zones and rasters in different
CRSs: the zones are reprojected to the raster's CRS (never the raster, which would
resample values).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from contigmap.coverage import (
    Pieces,
    check_raster,
    hit_windows,
    linear_sums,
    min_max,
    polygon_pieces,
    raster_bounds,
    repair_polygons,
)
from contigmap.errors import CRSError, ValidationError, warn_data
from contigmap.raster import Raster

__all__ = ["ZONAL_STATS", "zonal_stats", "zonal_stats_shared"]

logger = logging.getLogger(__name__)

ZONAL_STATS: tuple[str, ...] = ("count", "mean", "min", "max", "sum")
"""Statistics :func:`zonal_stats` can compute (besides ``share_above``)."""


def zonal_stats(
    raster: Raster,
    zones: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    stats: Sequence[str] = ZONAL_STATS,
    threshold: float | None = None,
    id_column: str | None = None,
) -> pd.DataFrame:
    """Coverage-weighted statistics of ``raster`` over each zone.

    Parameters
    ----------
    raster
        Values; ``nan`` is nodata. Any CRS: the zones are reprojected to it.
    zones
        Polygons (GeoDataFrame or GeoSeries) with a CRS. Invalid polygons are
        repaired (``make_valid``) and counted in a warning.
    stats
        Any of ``count`` (covered cells with data, in cells), ``mean``, ``min``,
        ``max``, ``sum``.
    threshold
        When given, add ``share_above``: the share of the zone's covered area (with
        data) whose value is above ``threshold``, in ``[0, 1]``.
    id_column
        Column of ``zones`` naming each zone in messages (default: the index).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``zones``: the asked ``stats``, ``share_above`` when asked, and
        ``covered_fraction``: the share of the zone's area over raster cells with data.
        Zones with no data at all get ``nan`` statistics (``count`` 0).

    Raises
    ------
    CRSError
        If the raster or the zones have no CRS.
    ValidationError
        If the raster misses every zone, is rotated, or a statistic is unknown.

    Warns
    -----
    DataQualityWarning
        Zones only partly covered by data, zones with no data (named), repaired polygons.
    """
    return _zonal(raster, zones, stats=stats, threshold=threshold, id_column=id_column,
                  grid=None)


def zonal_stats_shared(
    requests: Sequence[tuple[Raster, Sequence[str], float | None]],
    zones: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    id_column: str | None = None,
) -> list[pd.DataFrame]:
    """:func:`zonal_stats` of several rasters over the same zones, in order.

    Each request is ``(raster, stats, threshold)``; the result and the warnings are
    those of one :func:`zonal_stats` call per request. Rasters on the grid of an
    earlier one (same transform, shape and CRS, e.g. a DEM and its slope) reuse its
    coverage increments and min / max windows instead of building them again.
    """
    grid = _Grid()
    return [_zonal(raster, zones, stats=stats, threshold=threshold, id_column=id_column,
                   grid=grid) for raster, stats, threshold in requests]


class _Grid:
    """Coverage increments and hit windows of the zones on the last raster grid seen."""

    def __init__(self) -> None:
        self.raster: Raster | None = None
        self.pieces: Pieces | None = None
        self.hits: list[tuple[int, int, int, NDArray[np.bool_]]] | None = None

    def pieces_for(self, geoms: NDArray[np.object_], raster: Raster) -> Pieces:
        """Return the zones' increments on ``raster``'s grid (built once per grid)."""
        last = self.raster
        if (last is None or self.pieces is None or last.transform != raster.transform
                or last.shape != raster.shape or not last.crs.equals(raster.crs)):
            self.raster, self.hits = raster, None
            self.pieces = polygon_pieces(geoms, raster)
        return self.pieces

    def hits_for(self, n: int, shape: tuple[int, int]) -> list[tuple[int, int, int,
                                                                      NDArray[np.bool_]]]:
        """Return the zones' hit windows on the current grid (built once per grid)."""
        if self.hits is None:
            assert self.pieces is not None
            self.hits = hit_windows(self.pieces, n, shape)
        return self.hits


def _zonal(
    raster: Raster, zones: gpd.GeoDataFrame | gpd.GeoSeries, *, stats: Sequence[str],
    threshold: float | None, id_column: str | None, grid: _Grid | None,
) -> pd.DataFrame:
    """One raster's :func:`zonal_stats`; ``grid`` shares work between rasters on one grid."""
    unknown = [s for s in stats if s not in ZONAL_STATS]
    if unknown:
        msg = f"unknown zonal statistic(s) {unknown}; choose from {list(ZONAL_STATS)}"
        raise ValidationError(msg)
    check_raster(raster)
    series = _zones_in(zones, raster)
    names = (
        zones[id_column].astype(str).to_numpy()
        if id_column is not None and isinstance(zones, gpd.GeoDataFrame)
        else zones.index.astype(str).to_numpy()
    )
    geoms = repair_polygons(np.asarray(series.array, dtype=object), what="zones")
    cell_area = raster.res[0] * raster.res[1]
    area_cells = shapely.area(geoms) / cell_area
    area_cells = np.where(np.isnan(area_cells), 0.0, area_cells)
    geoms = _clip_to_raster(geoms, raster, series, area_cells)

    columns, above, covered = _weighted_stats(geoms, raster, area_cells, stats=stats,
                                              threshold=threshold, grid=grid or _Grid())
    count = columns["count"]
    out = pd.DataFrame(index=zones.index)
    for s in stats:
        out[s] = columns[s]
    if threshold is not None:
        out["share_above"] = above
    out["covered_fraction"] = covered
    _warn_coverage(raster, names, count, covered, area_cells)
    return out


def _weighted_stats(
    geoms: NDArray[np.object_], raster: Raster, area_cells: NDArray[np.float64], *,
    stats: Sequence[str], threshold: float | None, grid: _Grid,
) -> tuple[dict[str, NDArray[np.float64]], NDArray[np.float64] | None, NDArray[np.float64]]:
    """Return every statistic by name, ``share_above`` (or ``None``) and ``covered_fraction``.

    ``min`` and ``max`` are computed only when ``stats`` asks for one of them (else ``nan``).
    """
    n = len(geoms)
    arr = raster.array
    has_nan = bool(np.isnan(arr).any()) if np.issubdtype(arr.dtype, np.floating) else False
    pieces = grid.pieces_for(geoms, raster)
    count, total, above = linear_sums(pieces, arr, n, has_nan=has_nan, threshold=threshold)
    with np.errstate(invalid="ignore", divide="ignore"):
        if above is not None:
            # a share: summation by parts can overshoot 0 or 1 by rounding, clip it
            above = np.clip(np.where(count > 0, above / count, np.nan), 0.0, 1.0)
    total = np.where(count > 0, total, np.nan)
    if "min" in stats or "max" in stats:
        vmin, vmax = min_max(pieces, arr, n, has_nan=has_nan,
                             hits=grid.hits_for(n, arr.shape))
    else:
        vmin = vmax = np.full(n, np.nan)

    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
        covered = np.where(area_cells > 0, np.minimum(count / area_cells, 1.0), np.nan)
    columns = {"count": count, "mean": mean, "min": vmin, "max": vmax, "sum": total}
    return columns, above, covered


def _zones_in(zones: gpd.GeoDataFrame | gpd.GeoSeries, raster: Raster) -> gpd.GeoSeries:
    """Return the zones' geometries in the raster's CRS (reprojected if needed)."""
    series = zones.geometry if isinstance(zones, gpd.GeoDataFrame) else zones
    if series.crs is None:
        msg = "zones have no CRS; set it on the GeoDataFrame (`set_crs`) before zonal statistics"
        raise CRSError(msg)
    if not series.crs.equals(raster.crs):
        logger.info(
            "zonal: reprojecting %d zones from %s to the raster's CRS %s",
            len(series), series.crs.to_string(), raster.crs.to_string(),
        )
        series = series.to_crs(raster.crs)
    return series


def _clip_to_raster(
    geoms: NDArray[np.object_], raster: Raster, series: gpd.GeoSeries,
    area_cells: NDArray[np.float64],
) -> NDArray[np.object_]:
    """Clip zones that reach beyond the raster (windows stay on it); raise if it misses all."""
    minx, miny, maxx, maxy = raster_bounds(raster)
    gb = shapely.bounds(geoms)
    with np.errstate(invalid="ignore"):
        outside = (gb[:, 0] < minx) | (gb[:, 1] < miny) | (gb[:, 2] > maxx) | (gb[:, 3] > maxy)
    outside &= ~shapely.is_missing(geoms)
    if outside.any():
        geoms = geoms.copy()
        geoms[outside] = shapely.clip_by_rect(geoms[outside], minx, miny, maxx, maxy)
    misses = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if len(geoms) and misses.all() and (area_cells > 0).any():
        zb = series.total_bounds
        msg = (
            f"raster {raster.name or '(unnamed)'!r} "
            f"(bounds {np.round(raster_bounds(raster), 3).tolist()}) "
            f"misses every zone (bounds {np.round(zb, 3).tolist()}, CRS {raster.crs.to_string()}); "
            "check that the raster covers the region and that its CRS is right"
        )
        raise ValidationError(msg)
    return geoms


def _warn_coverage(
    raster: Raster,
    names: NDArray[np.str_],
    count: NDArray[np.float64],
    covered: NDArray[np.float64],
    area_cells: NDArray[np.float64],
) -> None:
    label = raster.name or "raster"
    has_area = area_cells > 0
    none = has_area & (count <= 0)
    partial = has_area & (count > 0) & (covered < 1.0 - 1e-6)
    if none.any():
        listed = ", ".join(names[none][:10]) + (" ..." if none.sum() > 10 else "")
        msg = (
            f"{label}: no data (nodata or outside the raster) in {int(none.sum())} zone(s): "
            f"{listed}; their statistics are NaN"
        )
        warn_data(msg, logger=logger, stacklevel=3)
    if partial.any():
        listed = ", ".join(names[partial][:10]) + (" ..." if partial.sum() > 10 else "")
        msg = (
            f"{label}: {int(partial.sum())} zone(s) only partly covered by data "
            f"(min covered fraction {np.nanmin(covered[partial]):.2f}): {listed}; "
            "statistics use the covered part (see covered_fraction)"
        )
        warn_data(msg, logger=logger, stacklevel=3)
