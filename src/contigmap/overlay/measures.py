"""Measures of settlements against layers: polygon shares, hazard points, distances.

* polygon layers (ecological red line, nature reserves, hazard polygons) → the share of
  the zone's area inside the *union* of the layer's polygons (so overlapping polygons
  do not count twice), and whether the settlement point lies inside (on the boundary
  counts as inside); hazard layers with classes (a ``hazard_weight`` per polygon) also
  get the class-weighted share and the largest weight (:func:`weighted_shares`);
* hazard **point** layers (地质灾害隐患点) → :func:`hazard_point_counts` around the
  settlement point; road segments get counts from :func:`hazard_points_near_lines`;
* infrastructure → the straight-line distance from the settlement point to the nearest
  feature (:func:`nearest_distance_m`), in the metric working CRS.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TypeGuard

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from contigmap.coverage import repair_polygons
from contigmap.errors import CRSError, warn_data
from contigmap.overlay.zones import layer_geoms
from contigmap.raster import Raster
from contigmap.schema import HAZARD_POINT_RADIUS_M

__all__ = [
    "hazard_point_counts",
    "hazard_points_near_lines",
    "hazard_radius_m",
    "is_point_layer",
    "nearest_distance_m",
    "points_inside",
    "polygon_shares",
    "weighted_shares",
]

logger = logging.getLogger(__name__)


def polygon_shares(
    zones: gpd.GeoSeries, layer: gpd.GeoDataFrame | gpd.GeoSeries, *, what: str = "layer"
) -> NDArray[np.float64]:
    """Share of each zone's area inside the union of ``layer``'s polygons.

    Parameters
    ----------
    zones
        Zone polygons with a CRS; ``layer`` is reprojected to it if needed.
    layer
        Polygons; invalid ones are repaired, overlaps are merged before measuring.
    what
        Layer name for messages.

    Returns
    -------
    numpy.ndarray
        Shares in ``[0, 1]`` (``nan`` for zones without area).
    """
    zg = np.asarray(zones.array, dtype=object)
    area = shapely.area(zg)
    if len(layer) == 0:
        return np.where(area > 0, 0.0, np.nan)
    lg = repair_polygons(layer_geoms(layer, zones.crs, what), what=what)
    union = shapely.union_all(lg[~shapely.is_missing(lg)])
    parts = shapely.get_parts(union)
    parts = parts[np.isin(shapely.get_type_id(parts), [3, 6])]
    zi, pi = _intersecting_pairs(zg, parts)
    inter = shapely.area(shapely.intersection(zg[zi], parts[pi]))
    covered = np.bincount(zi, inter, minlength=len(zg))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(area > 0, covered / area, np.nan)
    return np.clip(share, 0.0, 1.0)


def _intersecting_pairs(
    zg: NDArray[np.object_], parts: NDArray[np.object_]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """(zone, part) index pairs that intersect, sorted by zone.

    Each part is prepared once and queried against a tree of the zones (a county-wide
    reserve polygon prepared for each of 3 000 hamlet discs cost more than the
    intersections). A zone's areas are summed in the order of its pairs, and sums of
    three or more numbers depend on their order: for the zones meeting three or more
    parts, the parts come in the order of ``STRtree(parts).query(zones)``, as before.
    """
    pj, zj = shapely.STRtree(zg).query(parts, predicate="intersects")
    many = np.bincount(zj, minlength=len(zg)) >= 3
    keep = ~many[zj]
    zi, pi = zj[keep], pj[keep]
    if many.any():
        zones = np.flatnonzero(many)
        fz, fp = shapely.STRtree(parts).query(zg[zones], predicate="intersects")
        zi, pi = np.concatenate((zi, zones[fz])), np.concatenate((pi, fp))
    order = np.argsort(zi, kind="stable")
    return zi[order], pi[order]


def weighted_shares(
    zones: gpd.GeoSeries, layer: gpd.GeoDataFrame, *, weight_column: str = "hazard_weight",
    what: str = "layer",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Class-weighted share of each zone and the largest class weight meeting it.

    Each point of the zone counts with the largest weight of the polygons covering it
    (overlaps are not added up): with weight levels ``w1 > w2 > ... > wK`` and ``U_k``
    the union of the polygons of weight at least ``w_k``, the weighted share is
    ``sum_k (w_k - w_{k+1}) * share(U_k)`` (``w_{K+1} = 0``).

    Parameters
    ----------
    zones
        Zone polygons with a CRS.
    layer
        Polygons with a ``weight_column`` from 0 to 1 (``class:`` in region.yaml).
    weight_column
        The weight column.
    what
        Layer name for messages.

    Returns
    -------
    tuple of numpy.ndarray
        Weighted shares in ``[0, 1]`` (``nan`` for zones without area) and the largest
        weight of a polygon overlapping each zone (0 when none does).
    """
    zg = np.asarray(zones.array, dtype=object)
    area = shapely.area(zg)
    weights = pd.to_numeric(layer[weight_column], errors="coerce").fillna(0.0).to_numpy(float)
    levels = np.unique(weights[weights > 0])[::-1]
    share = np.where(area > 0, 0.0, np.nan)
    wmax = np.zeros(len(zg))
    for k, level in enumerate(levels):
        below = float(levels[k + 1]) if k + 1 < len(levels) else 0.0
        sub = layer.loc[weights >= level]
        share = share + (float(level) - below) * polygon_shares(zones, sub, what=what)
        lg = repair_polygons(layer_geoms(layer.loc[weights == level], zones.crs, what), what=what)
        _, zi = shapely.STRtree(zg).query(lg, predicate="intersects")  # lg prepared once
        hit = np.zeros(len(zg), dtype=bool)
        hit[zi] = True
        wmax = np.where(hit & (wmax < level), float(level), wmax)
    return np.clip(share, 0.0, 1.0), wmax


def points_inside(
    points: gpd.GeoSeries, layer: gpd.GeoDataFrame | gpd.GeoSeries, *, what: str = "layer"
) -> NDArray[np.bool_]:
    """Whether each point lies in (or on the boundary of) any polygon of ``layer``."""
    pg = np.asarray(points.array, dtype=object)
    out = np.zeros(len(pg), dtype=bool)
    if len(layer) == 0:
        return out
    lg = repair_polygons(layer_geoms(layer, points.crs, what), what=what)
    _, pi = shapely.STRtree(pg).query(lg, predicate="intersects")  # lg prepared once
    out[pi] = True
    return out


def nearest_distance_m(
    points: gpd.GeoSeries, features: gpd.GeoDataFrame | gpd.GeoSeries, *, what: str = "layer"
) -> NDArray[np.float64]:
    """Straight-line distance from each point to the nearest feature, in CRS units (m).

    Returns ``nan`` everywhere (with a :class:`DataQualityWarning`) when the layer is
    empty.
    """
    pg = np.asarray(points.array, dtype=object)
    fg = layer_geoms(features, points.crs, what) if len(features) else np.empty(0, dtype=object)
    fg = fg[~(shapely.is_missing(fg) | shapely.is_empty(fg))] if len(fg) else fg
    if len(fg) == 0:
        msg = f"infrastructure layer {what!r} is empty; its distances are NaN"
        warn_data(msg, logger=logger)
        return np.full(len(pg), np.nan)
    tree = shapely.STRtree(fg)
    idx, dist = tree.query_nearest(pg, return_distance=True, all_matches=False)
    out = np.full(len(pg), np.nan)
    out[idx[0]] = dist
    return out


def is_point_layer(layer: object) -> TypeGuard[gpd.GeoDataFrame]:
    """Whether ``layer`` is a vector layer of points (a hazard point layer, 隐患点)."""
    if not isinstance(layer, gpd.GeoDataFrame) or len(layer) == 0:
        return False
    geoms = np.asarray(layer.geometry.array, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return bool(present.any()) and bool(
        np.isin(shapely.get_type_id(geoms[present]), [0, 4]).all())


def hazard_radius_m(layer: gpd.GeoDataFrame) -> float:
    """Search radius of a hazard point layer: its ``hazard_radius_m`` column, else 500 m."""
    if "hazard_radius_m" in layer.columns and len(layer):
        value = pd.to_numeric(layer["hazard_radius_m"], errors="coerce").max()
        if np.isfinite(value) and value > 0:
            return float(value)
    return HAZARD_POINT_RADIUS_M


def _hazard_point_parts(
    layer: gpd.GeoDataFrame, crs: object, what: str
) -> tuple[NDArray[np.object_], NDArray[np.float64], NDArray[np.float64]]:
    """Geometries (in ``crs``), threatened people (0 for blanks) and weights of the points."""
    geoms = layer_geoms(layer, crs, what)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if "threatened_people" in layer.columns:
        people = pd.to_numeric(layer["threatened_people"], errors="coerce").to_numpy(float)
        people = np.nan_to_num(people, nan=0.0)
    else:
        people = np.zeros(len(layer))
    if "hazard_weight" in layer.columns:
        weight = pd.to_numeric(layer["hazard_weight"], errors="coerce").to_numpy(float)
        weight = np.nan_to_num(weight, nan=0.0)
    else:
        weight = np.ones(len(layer))
    return geoms[ok], people[ok], weight[ok]


def hazard_point_counts(
    points: gpd.GeoSeries,
    layer: gpd.GeoDataFrame,
    *,
    radius_m: float | None = None,
    what: str = "layer",
) -> tuple[NDArray[np.int64], NDArray[np.float64] | None, NDArray[np.float64]]:
    """Hazard points within ``radius_m`` of each settlement point: count, people, weight.

    A KD-tree (:class:`scipy.spatial.cKDTree`, ``query_ball_point``) of the hazard
    points in the settlements' metric CRS; a point at a distance of at most
    ``radius_m`` counts (a multi-point counts once, when any of its parts does).

    Parameters
    ----------
    points
        Settlement points (village or hamlet points) in the metric working CRS.
    layer
        Hazard points, optionally with ``threatened_people`` (威胁人数; blank cells count
        0), ``hazard_weight`` (``class:`` in region.yaml) and ``hazard_radius_m``.
    radius_m
        Search radius in metres; default the layer's ``hazard_radius_m`` (``radius_m:``
        in region.yaml), else 500.
    what
        Layer name for messages.

    Returns
    -------
    tuple
        Count of points per settlement; sum of their ``threatened_people`` (``None``
        when the layer has no such column); the largest weight among them (1 for a
        layer without classes, 0 where no point is near).
    """
    radius = float(radius_m) if radius_m is not None else hazard_radius_m(layer)
    if points.crs is not None and points.crs.is_geographic:
        msg = f"hazard points {what!r}: settlements must be in the metric working CRS"
        raise CRSError(msg)
    n = len(points)
    count = np.zeros(n, dtype=np.int64)
    people = np.zeros(n)
    wmax = np.zeros(n)
    has_people = "threatened_people" in layer.columns
    geoms, threat, weight = _hazard_point_parts(layer, points.crs, what)
    pg = np.asarray(points.array, dtype=object)
    valid = ~(shapely.is_missing(pg) | shapely.is_empty(pg))
    if len(geoms) and valid.any():
        parts, owner = shapely.get_parts(geoms, return_index=True)
        tree = cKDTree(shapely.get_coordinates(parts))
        xy = shapely.get_coordinates(pg[valid])
        for i, hits in zip(np.flatnonzero(valid), tree.query_ball_point(xy, r=radius),
                           strict=True):
            if not hits:
                continue
            near = np.unique(owner[np.asarray(hits, dtype=np.int64)])
            count[i] = near.size
            people[i] = float(threat[near].sum())
            wmax[i] = float(weight[near].max())
    logger.info("hazard points %s: %d of %d settlements have points within %.0f m",
                what, int((count > 0).sum()), n, radius)
    return count, (people if has_people else None), wmax


def hazard_points_near_lines(
    lines: gpd.GeoSeries | NDArray[np.object_],
    layers: Mapping[str, gpd.GeoDataFrame | Raster],
    *,
    crs: object = None,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Hazard points within each layer's radius of each line (road segment), all layers.

    Uses :class:`shapely.STRtree` ``query(..., predicate="dwithin", distance=radius)``:
    a point counts for a segment when its distance to the segment is at most the
    layer's ``radius_m`` (so a point near a junction counts for every segment there).

    Parameters
    ----------
    lines
        Line geometries (metric CRS); a GeoSeries gives its own CRS.
    layers
        Hazard layers by name; polygon and raster layers are skipped.
    crs
        CRS of ``lines`` when they are a plain array.

    Returns
    -------
    tuple of numpy.ndarray
        Points per line (summed over the point layers) and the sum of their
        ``threatened_people`` (blank cells and layers without the column count 0).
    """
    if isinstance(lines, gpd.GeoSeries):
        crs = lines.crs
        lg = np.asarray(lines.array, dtype=object)
    else:
        lg = np.asarray(lines, dtype=object)
    count = np.zeros(len(lg), dtype=np.int64)
    people = np.zeros(len(lg))
    for name, layer in layers.items():
        if not is_point_layer(layer):
            continue
        geoms, threat, _ = _hazard_point_parts(layer, crs, name)
        if not len(geoms) or not len(lg):
            continue
        tree = shapely.STRtree(lg)
        pi, li = tree.query(geoms, predicate="dwithin", distance=hazard_radius_m(layer))
        count += np.bincount(li, minlength=len(lg)).astype(np.int64)
        people += np.bincount(li, weights=threat[pi], minlength=len(lg))
    return count, people
