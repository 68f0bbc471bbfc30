"""Vector overlays, distances to infrastructure, and the village profile table.

Every village (and hamlet) gets a *zone*: its own polygon where the region has village
polygons (``village_areas``). Villages without one get their **Voronoi cell** among the
village points (the land nearer to them than to any other village), clipped to the
county (else to the townships, else to the villages' convex hull widened by 1 km) and
to their township: an approximation of the village territory, said in a warning.
Hamlets get a disc of ``radius_m`` clipped to their village's zone. Over that zone:

* raster layers (DEM, slope, hazard rasters) → :func:`contigmap.zonal.zonal_stats`
  with exact cell coverage;
* polygon layers (ecological red line, nature reserves, hazard polygons) → the share of
  the zone's area inside the *union* of the layer's polygons (so overlapping polygons
  do not count twice), and whether the settlement point lies inside (on the boundary
  counts as inside); hazard layers with classes (``class:`` in region.yaml, a
  ``hazard_weight`` per polygon) also get the class-weighted share and the largest
  weight (:func:`weighted_shares`);
* hazard **point** layers (地质灾害隐患点: a hazard layer whose geometries are points,
  ``radius_m:`` in region.yaml, default 500 m) → :func:`hazard_point_counts`: the points
  within ``radius_m`` of the **settlement point** (not of the zone: a hazard point
  threatens the houses, and the zone of a village without boundaries is only a Voronoi
  cell), their count, the sum of their ``threatened_people`` (威胁人数) and the largest
  class weight; road segments get counts from :func:`hazard_points_near_lines`;
* infrastructure (power lines, substations, fibre, towers, water sources) → the
  straight-line distance from the settlement point to the nearest feature
  (``shapely.STRtree.query_nearest``), in the metric working CRS.

Along-road distances come from the network stage: pass ``along_road`` (see
:data:`AlongRoadDistance`) and each infrastructure kind also gets
``road_dist_<kind>_m``.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Mapping
from typing import Literal, TypeGuard

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from contigmap.columns import ColumnInfo, register_columns
from contigmap.errors import CRSError, DataQualityWarning, ValidationError
from contigmap.poverty import poverty_profile
from contigmap.raster import Raster
from contigmap.schema import HAZARD_POINT_RADIUS_M
from contigmap.terrain import terrain_profile
from contigmap.zonal import repair_polygons, zonal_stats

__all__ = [
    "INFRASTRUCTURE_COLUMNS",
    "AlongRoadDistance",
    "hazard_point_counts",
    "hazard_points_near_lines",
    "is_point_layer",
    "nearest_distance_m",
    "overlay_columns",
    "points_inside",
    "polygon_shares",
    "settlement_points",
    "settlement_zones",
    "township_names",
    "village_profile",
    "voronoi_cells",
    "weighted_shares",
]

logger = logging.getLogger(__name__)

AlongRoadDistance = Callable[[gpd.GeoSeries, gpd.GeoDataFrame, str], NDArray[np.float64]]
"""Hook for the network stage: ``f(points, targets, kind) -> metres`` along roads from
each point to the nearest target of ``kind`` (``nan`` where unreachable)."""

INFRASTRUCTURE_COLUMNS: dict[str, str] = {
    "power_lines": "dist_power_line_m",
    "substations": "dist_substation_m",
    "fibre": "dist_fibre_m",
    "towers": "dist_tower_m",
    "water_sources": "dist_water_source_m",
}
"""Straight-line distance column of each infrastructure layer of the manifest."""

_INFRA_ZH = {
    "power_lines": ("power line", "电力线路"),
    "substations": ("substation", "变电站"),
    "fibre": ("fibre optic line or node", "光纤线路或节点"),
    "towers": ("mobile tower", "通信基站"),
    "water_sources": ("water source", "水源点"),
}
_LAYER_ZH = {
    "redline": "生态保护红线", "red_line": "生态保护红线", "ecological_redline": "生态保护红线",
    "reserves": "自然保护区", "nature_reserves": "自然保护区", "reserve": "自然保护区",
    "landslide": "滑坡", "landslides": "滑坡", "flood": "洪涝", "floods": "洪涝",
    "debris_flow": "泥石流", "collapse": "崩塌", "seismic": "地震", "geohazards": "地质灾害",
}

register_columns(
    [
        ColumnInfo("zone_source", "how the zone was made: village polygon (polygon), Voronoi "
                   "cell of the village points clipped to the county (voronoi) and township "
                   "(voronoi_clipped), or buffer (hamlets: buffer_clipped to the village)",
                   "统计区域来源（村界、泰森多边形或缓冲区）", "", "overlay"),
        ColumnInfo("zone_area_km2", "area of the village's zone", "统计区域面积", "km2",
                   "overlay"),
        *(
            ColumnInfo(col, f"straight-line distance to the nearest {en}",
                       f"到最近{zh}的直线距离", "m", f"infrastructure.{key} / overlay")
            for key, col in INFRASTRUCTURE_COLUMNS.items()
            for en, zh in [_INFRA_ZH[key]]
        ),
        ColumnInfo("hazard_<layer>_share", "share of the zone inside the hazard polygons",
                   "区域位于灾害隐患区内的面积占比", "share 0-1", "hazards / overlay"),
        ColumnInfo("hazard_<layer>_inside", "settlement point inside the hazard polygons",
                   "居民点位于灾害隐患区内", "bool", "hazards / overlay"),
        ColumnInfo("hazard_<layer>_wshare", "class-weighted share of the zone in the hazard "
                   "polygons (layers with 'class:'; each place counts with its highest weight)",
                   "区域灾害隐患区按等级加权的面积占比", "share 0-1", "hazards / overlay"),
        ColumnInfo("hazard_<layer>_wmax", "highest class weight of the hazard polygons meeting "
                   "the zone (layers with 'class:'); for hazard point layers the highest weight "
                   "of the points within radius_m (1 without 'class:', 0 when none)",
                   "区域灾害隐患最高等级权重", "0-1", "hazards / overlay"),
        ColumnInfo("hazard_<layer>_points", "hazard points (隐患点 layers) within the layer's "
                   "radius_m (default 500 m) of the settlement point (distance <= radius)",
                   "居民点半径范围内的地质灾害隐患点数", "count", "hazards / overlay"),
        ColumnInfo("hazard_<layer>_threatened", "sum of threatened_people (威胁人数) of the hazard "
                   "points within radius_m of the settlement point (blank cells count 0; only "
                   "for layers with a threatened_people column)",
                   "半径范围内隐患点威胁人数合计", "people", "hazards / overlay"),
        ColumnInfo("hazard_<layer>_radius_m", "search radius of the hazard point layer "
                   "(radius_m: in region.yaml)", "隐患点搜索半径", "m", "hazards / overlay"),
        ColumnInfo("hazard_<layer>_mean", "coverage-weighted mean of a hazard raster over the "
                   "zone", "区域灾害指标均值", "layer unit", "hazards / overlay"),
        ColumnInfo("hazard_<layer>_max", "maximum of a hazard raster over the zone",
                   "区域灾害指标最大值", "layer unit", "hazards / overlay"),
        ColumnInfo("eco_<layer>_share", "share of the zone inside the ecological layer "
                   "(red line, nature reserves)", "区域位于生态保护区内的面积占比", "share 0-1",
                   "ecology / overlay"),
        ColumnInfo("eco_<layer>_inside", "settlement point inside the ecological layer",
                   "居民点位于生态保护区内", "bool", "ecology / overlay"),
    ]
)


def _slug(name: str) -> str:
    slug = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()
    return slug or "layer"


def _geoms(layer: gpd.GeoDataFrame | gpd.GeoSeries, crs: object, what: str) -> NDArray[np.object_]:
    """Geometries of ``layer`` in ``crs`` (reprojected if needed) as an array."""
    series = layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer
    if series.crs is None:
        msg = f"layer {what!r} has no CRS; set it when loading (manifest `crs:`)"
        raise CRSError(msg)
    if crs is not None and not series.crs.equals(crs):
        series = series.to_crs(crs)
    return np.asarray(series.array, dtype=object)


# --------------------------------------------------------------------------- zones


def settlement_points(settlements: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Settlement point of each row: the point itself, or a point inside a polygon.

    Polygons get ``representative_point`` (always inside, unlike the centroid).
    """
    geom = settlements.geometry
    is_point = geom.geom_type == "Point"
    if is_point.all():
        return geom.copy()
    pts = geom.copy()
    pts[~is_point] = geom[~is_point].representative_point()
    return pts


def settlement_zones(
    settlements: gpd.GeoDataFrame,
    *,
    areas: gpd.GeoDataFrame | None = None,
    area_key: str = "village_id",
    clip: gpd.GeoDataFrame | None = None,
    clip_key: str = "township_id",
    radius_m: float = 1000.0,
    method: Literal["buffer", "voronoi"] = "buffer",
    extent: shapely.Geometry | None = None,
) -> tuple[gpd.GeoSeries, pd.Series]:
    """Zone of each settlement: its own polygon, else a buffer or Voronoi cell clipped.

    Parameters
    ----------
    settlements
        Villages or hamlets (points or polygons) in a metric CRS.
    areas
        Polygons keyed by ``area_key`` (``village_areas``); a settlement whose key has
        a polygon gets that polygon. Polygon settlements use their own geometry.
    area_key
        Column of ``settlements`` and ``areas`` matching them.
    clip
        Polygons keyed by ``clip_key`` (townships for villages, village zones for
        hamlets); a buffer is clipped to the polygon whose key the settlement has.
    clip_key
        Column of ``settlements`` and ``clip`` matching them.
    radius_m
        Buffer radius in metres (default 1 km; hamlets use 500 m in
        :func:`village_profile`); with ``method="voronoi"`` and no ``extent``, the
        settlements' convex hull is widened by it.
    method
        ``buffer``: a disc of ``radius_m``; ``voronoi``: the settlement's Voronoi cell
        among *all* settlement points (:func:`voronoi_cells`), clipped to ``extent``.
    extent
        The area Voronoi cells are clipped to (the county), in the settlements' CRS.

    Returns
    -------
    tuple of geopandas.GeoSeries and pandas.Series
        The zones (indexed like ``settlements``) and how each was made (``polygon``,
        ``voronoi_clipped``, ``voronoi``, ``buffer_clipped``, ``buffer``).
    """
    crs = settlements.crs
    if crs is None:
        msg = "settlements have no CRS; set it before building zones"
        raise CRSError(msg)
    if crs.is_geographic:
        msg = (
            "settlements are in a geographic CRS; zones need the metric working CRS "
            "(reproject with contigmap.crs.choose_working_crs)"
        )
        raise CRSError(msg)
    n = len(settlements)
    zones = np.empty(n, dtype=object)
    source = np.full(n, "buffer", dtype=object)
    own = np.asarray(settlements.geometry.array, dtype=object)
    is_poly = np.isin(shapely.get_type_id(own), [3, 6])
    zones[is_poly] = own[is_poly]
    source[is_poly] = "polygon"
    if areas is not None and area_key in settlements:
        geoms = repair_polygons(_geoms(areas, crs, "village_areas"), what="village_areas")
        lookup = dict(zip(areas[area_key].astype(str), geoms, strict=True))
        keys = settlements[area_key].astype(str).to_numpy()
        for i in np.flatnonzero(~is_poly):
            g = lookup.get(keys[i])
            if g is not None and not shapely.is_empty(g):
                zones[i] = g
                source[i] = "polygon"
    todo = source == "buffer"
    if todo.any():
        all_pts = np.asarray(settlement_points(settlements).array, dtype=object)
        pts = all_pts[todo]
        discs = shapely.buffer(pts, radius_m, quad_segs=16)
        if method == "voronoi":
            if extent is None:
                extent = shapely.buffer(shapely.convex_hull(shapely.multipoints(all_pts)),
                                        radius_m)
            cells = voronoi_cells(all_pts, extent)[todo]
            empty = shapely.is_empty(cells) | (shapely.area(cells) <= 0)
            if empty.any():
                msg = (f"{int(empty.sum())} village point(s) lie outside the county; their "
                       f"zones are {radius_m:.0f} m discs")
                logger.warning(msg)
                warnings.warn(msg, DataQualityWarning, stacklevel=2)
            discs = np.where(empty, discs, cells)
            msg = (f"{int(todo.sum())} village territories are Voronoi cells of the village "
                   "points clipped to the county and township (approximate: no village "
                   "boundaries; declare village_areas for real ones)")
            logger.warning(msg)
            warnings.warn(msg, DataQualityWarning, stacklevel=2)
            source[todo] = np.where(empty, "buffer", "voronoi")
        if clip is not None and clip_key in settlements:
            cgeoms = repair_polygons(_geoms(clip, crs, "clip polygons"), what="clip polygons")
            lookup = dict(zip(clip[clip_key].astype(str), cgeoms, strict=True))
            keys = settlements[clip_key].astype(str).to_numpy()[todo]
            outer = np.array([lookup.get(k) for k in keys], dtype=object)
            has = ~shapely.is_missing(outer)
            clipped = discs.copy()
            clipped[has] = shapely.intersection(discs[has], outer[has])
            ok = has & (shapely.area(clipped) > 0)
            lost = has & ~ok
            if lost.any():
                msg = (
                    f"{int(lost.sum())} settlement zone(s) do not overlap the polygon of "
                    f"their {clip_key}; kept unclipped (check the {clip_key} codes)"
                )
                logger.warning(msg)
                warnings.warn(msg, DataQualityWarning, stacklevel=2)
            discs = np.where(ok, clipped, discs)
            source[todo] = [f"{s}_clipped" if o else s for s, o in zip(source[todo], ok,
                                                                       strict=True)]
        zones[todo] = discs
    return gpd.GeoSeries(zones, index=settlements.index, crs=crs), pd.Series(
        source, index=settlements.index, name="zone_source"
    )


def voronoi_cells(points: NDArray[np.object_], extent: shapely.Geometry) -> NDArray[np.object_]:
    """Voronoi cell of each point among all the points, clipped to ``extent``.

    Parameters
    ----------
    points
        Point geometries (metric CRS). Points at the same place share one cell (with a
        warning), so their areas count twice.
    extent
        Polygon the cells are clipped to (the county).

    Returns
    -------
    numpy.ndarray
        One polygon per point (empty where the cell misses ``extent``).
    """
    coords = shapely.get_coordinates(points)
    uniq, inverse = np.unique(coords, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    if len(uniq) < len(coords):
        msg = (f"{len(coords) - len(uniq)} village point(s) share their place with another; "
               "they share one Voronoi cell")
        logger.warning(msg)
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
    if len(uniq) == 1:
        cells = np.array([extent], dtype=object)
    else:
        sites = shapely.points(uniq)
        frame = shapely.envelope(shapely.union(extent, shapely.multipoints(sites)))
        width = max(float(np.ptp(uniq[:, 0])), float(np.ptp(uniq[:, 1])), 1.0)
        frame = shapely.buffer(frame, width, join_style="mitre")
        parts = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(sites),
                                                           extend_to=frame))
        # match each cell to the site inside it (the output order is not the input order)
        tree = shapely.STRtree(parts)
        site_i, cell_i = tree.query(sites, predicate="within")
        cells = np.empty(len(uniq), dtype=object)
        cells[site_i] = parts[cell_i]
        cells = shapely.intersection(cells, extent)
    return np.asarray(cells, dtype=object)[inverse]


_SEAT_SUFFIX = re.compile(r"(人民政府|政府驻地|政府|驻地|办事处)$")


def township_names(
    villages: pd.DataFrame,
    *,
    townships: pd.DataFrame | None = None,
    services: pd.DataFrame | None = None,
) -> pd.Series | None:
    """Township name of each village, from a townships layer or the township seats.

    Parameters
    ----------
    villages
        Villages with ``township_id``.
    townships
        Township polygons or a table (``township_id``, ``name``); used first.
    services
        Services; the names of ``township_seat`` rows with a ``township_id`` are used
        for townships the first source does not name, without a trailing 人民政府 /
        政府 / 驻地 / 办事处 (``龙潭镇人民政府`` → ``龙潭镇``).

    Returns
    -------
    pandas.Series or None
        Names indexed like ``villages`` (missing where unknown), or ``None`` when
        neither source names any township.
    """
    if "township_id" not in villages.columns:
        return None
    names: dict[str, str] = {}
    if services is not None and {"kind", "township_id", "name"} <= set(services.columns):
        seats = services[services["kind"].astype(str) == "township_seat"]
        seats = seats.dropna(subset=["township_id", "name"]).sort_values("township_id")
        for tid, name in zip(seats["township_id"].astype(str), seats["name"].astype(str),
                             strict=True):
            names.setdefault(tid, _SEAT_SUFFIX.sub("", name.strip()) or name.strip())
        if names:
            logger.info("township names: %d from the township-seat services", len(names))
    if townships is not None and {"township_id", "name"} <= set(townships.columns):
        named = townships.dropna(subset=["name"])
        names.update(zip(named["township_id"].astype(str), named["name"].astype(str),
                         strict=True))
    if not names:
        return None
    return villages["township_id"].astype(str).map(names).rename("township_name")


# --------------------------------------------------------------------------- overlays


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
    lg = repair_polygons(_geoms(layer, zones.crs, what), what=what)
    union = shapely.union_all(lg[~shapely.is_missing(lg)])
    parts = shapely.get_parts(union)
    parts = parts[np.isin(shapely.get_type_id(parts), [3, 6])]
    tree = shapely.STRtree(parts)
    zi, pi = tree.query(zg, predicate="intersects")
    inter = shapely.area(shapely.intersection(zg[zi], parts[pi]))
    covered = np.bincount(zi, inter, minlength=len(zg))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(area > 0, covered / area, np.nan)
    return np.clip(share, 0.0, 1.0)


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
        lg = repair_polygons(_geoms(layer.loc[weights == level], zones.crs, what), what=what)
        zi, _ = shapely.STRtree(lg).query(zg, predicate="intersects")
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
    lg = repair_polygons(_geoms(layer, points.crs, what), what=what)
    tree = shapely.STRtree(lg)
    pi, _ = tree.query(pg, predicate="intersects")
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
    fg = _geoms(features, points.crs, what) if len(features) else np.empty(0, dtype=object)
    fg = fg[~(shapely.is_missing(fg) | shapely.is_empty(fg))] if len(fg) else fg
    if len(fg) == 0:
        msg = f"infrastructure layer {what!r} is empty; its distances are NaN"
        logger.warning(msg)
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
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
    geoms = _geoms(layer, crs, what)
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


def _register_layer_columns(prefix: str, name: str, kind: str) -> None:
    zh = _LAYER_ZH.get(name, name)
    src = f"{'hazards' if prefix == 'hazard' else 'ecology'}.{name} / overlay"
    if kind == "polygon":
        register_columns([
            ColumnInfo(f"{prefix}_{name}_share", f"share of the zone inside {name}",
                       f"区域位于{zh}范围内的面积占比", "share 0-1", src),
            ColumnInfo(f"{prefix}_{name}_inside", f"settlement point inside {name}",
                       f"居民点位于{zh}范围内", "bool", src),
        ])
    elif kind == "classes":
        register_columns([
            ColumnInfo(f"{prefix}_{name}_wshare", f"class-weighted share of the zone in {name} "
                       "(each place counts with its highest class weight)",
                       f"区域{zh}按等级加权的面积占比", "share 0-1", src),
            ColumnInfo(f"{prefix}_{name}_wmax", f"highest class weight of {name} in the zone",
                       f"区域{zh}最高等级权重", "0-1", src),
        ])
    elif kind == "points":
        register_columns([
            ColumnInfo(f"{prefix}_{name}_points", f"{name} hazard points within the layer's "
                       "radius of the settlement point", f"居民点半径范围内{zh}隐患点数", "count",
                       src),
            ColumnInfo(f"{prefix}_{name}_threatened", f"people threatened by the {name} points "
                       "within the radius (sum of threatened_people)",
                       f"半径范围内{zh}隐患点威胁人数", "people", src),
            ColumnInfo(f"{prefix}_{name}_wmax", f"highest class weight of the {name} points "
                       "within the radius (1 without classes, 0 when none)",
                       f"半径范围内{zh}隐患点最高等级权重", "0-1", src),
            ColumnInfo(f"{prefix}_{name}_radius_m", f"search radius of {name}",
                       f"{zh}隐患点搜索半径", "m", src),
        ])
    else:
        register_columns([
            ColumnInfo(f"{prefix}_{name}_mean", f"mean of {name} over the zone",
                       f"区域{zh}指标均值", "layer unit", src),
            ColumnInfo(f"{prefix}_{name}_max", f"maximum of {name} over the zone",
                       f"区域{zh}指标最大值", "layer unit", src),
        ])


def overlay_columns(
    points: gpd.GeoSeries,
    zones: gpd.GeoSeries,
    *,
    dem: Raster | None = None,
    hazards: Mapping[str, gpd.GeoDataFrame | Raster] | None = None,
    ecology: Mapping[str, gpd.GeoDataFrame | Raster] | None = None,
    infrastructure: Mapping[str, gpd.GeoDataFrame] | None = None,
    along_road: AlongRoadDistance | None = None,
    id_column: pd.Series | None = None,
) -> pd.DataFrame:
    """Terrain, hazard, ecology and infrastructure columns for settlements and zones.

    Parameters
    ----------
    points, zones
        Settlement points and their zones (same index, same metric CRS).
    dem
        Elevation raster (metres); adds :data:`contigmap.terrain.TERRAIN_COLUMNS`.
    hazards, ecology
        Layers by name: polygons give ``<prefix>_<name>_share`` and ``_inside``;
        rasters give ``<prefix>_<name>_mean`` and ``_max`` (prefix ``hazard`` / ``eco``);
        hazard point layers give ``hazard_<name>_points``, ``_threatened`` (when the
        layer has ``threatened_people``), ``_wmax`` and ``_radius_m``
        (:func:`hazard_point_counts`, around ``points``).
    infrastructure
        Layers by manifest name (``power_lines``, ``substations``, ``fibre``, ``towers``,
        ``water_sources``): straight-line distance columns
        (:data:`INFRASTRUCTURE_COLUMNS`, else ``dist_<name>_m``).
    along_road
        Network hook; adds ``road_dist_<name>_m`` for each infrastructure layer.
    id_column
        Names of the settlements for messages (default: the index).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points``.
    """
    out = pd.DataFrame(index=points.index)
    named = zones if id_column is None else gpd.GeoDataFrame(
        {"_name": id_column.to_numpy()}, geometry=zones.to_numpy(), crs=zones.crs,
        index=zones.index)
    name_col = "_name" if id_column is not None else None
    if dem is not None:
        out = out.join(terrain_profile(points, named, dem, id_column=name_col))
    for prefix, layers in (("hazard", hazards or {}), ("eco", ecology or {})):
        for raw_name, layer in layers.items():
            name = _slug(raw_name)
            if prefix == "hazard" and is_point_layer(layer):
                count, threatened, wmax = hazard_point_counts(points, layer, what=raw_name)
                out[f"{prefix}_{name}_points"] = count
                if threatened is not None:
                    out[f"{prefix}_{name}_threatened"] = threatened
                out[f"{prefix}_{name}_wmax"] = wmax
                out[f"{prefix}_{name}_radius_m"] = hazard_radius_m(layer)
                _register_layer_columns(prefix, name, "points")
            elif isinstance(layer, Raster):
                st = zonal_stats(layer, named, stats=("mean", "max"), id_column=name_col)
                out[f"{prefix}_{name}_mean"] = st["mean"].to_numpy()
                out[f"{prefix}_{name}_max"] = st["max"].to_numpy()
                _register_layer_columns(prefix, name, "raster")
            else:
                out[f"{prefix}_{name}_share"] = polygon_shares(zones, layer, what=raw_name)
                out[f"{prefix}_{name}_inside"] = points_inside(points, layer, what=raw_name)
                _register_layer_columns(prefix, name, "polygon")
                if "hazard_weight" in layer.columns:
                    wshare, wmax = weighted_shares(zones, layer, what=raw_name)
                    out[f"{prefix}_{name}_wshare"] = wshare
                    out[f"{prefix}_{name}_wmax"] = wmax
                    _register_layer_columns(prefix, name, "classes")
    for raw_name, layer in (infrastructure or {}).items():
        key = _slug(raw_name)
        col = INFRASTRUCTURE_COLUMNS.get(key, f"dist_{key}_m")
        if col not in INFRASTRUCTURE_COLUMNS.values():
            register_columns([ColumnInfo(col, f"straight-line distance to the nearest {key}",
                                         f"到最近{key}的直线距离", "m",
                                         f"infrastructure.{key} / overlay")])
        out[col] = nearest_distance_m(points, layer, what=raw_name)
        if along_road is not None:
            road_col = f"road_dist_{key}_m"
            out[road_col] = np.asarray(along_road(points, layer, key), dtype=float)
            register_columns([ColumnInfo(road_col, f"distance along roads to the nearest "
                                         f"{key} (from the network stage)",
                                         f"沿道路到最近{key}的距离", "m",
                                         f"infrastructure.{key} / network")])
    return out


# --------------------------------------------------------------------------- assembling


def village_profile(
    villages: gpd.GeoDataFrame,
    *,
    village_areas: gpd.GeoDataFrame | None = None,
    townships: gpd.GeoDataFrame | None = None,
    dem: Raster | None = None,
    hazards: Mapping[str, gpd.GeoDataFrame | Raster] | None = None,
    ecology: Mapping[str, gpd.GeoDataFrame | Raster] | None = None,
    infrastructure: Mapping[str, gpd.GeoDataFrame] | None = None,
    households: pd.DataFrame | None = None,
    hamlets: gpd.GeoDataFrame | None = None,
    county: gpd.GeoDataFrame | None = None,
    village_radius_m: float = 1000.0,
    hamlet_radius_m: float = 500.0,
    along_road: AlongRoadDistance | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """Build the village profile: one row per village with overlay and poverty columns.

    Parameters
    ----------
    villages
        Villages (``contigmap.schema`` ``villages``) in the metric working CRS.
    village_areas
        Village polygons keyed by ``village_id``; villages without one get their
        Voronoi cell among the village points, clipped to the county and their township.
    townships
        Township polygons keyed by ``township_id``.
    county
        The county polygon(s): the Voronoi cells are clipped to them (else to the
        townships' union, else to the villages' hull widened by ``village_radius_m``).
    dem
        Elevation raster in metres.
    hazards, ecology, infrastructure
        Layers by name (see :func:`overlay_columns`).
    households
        Household registry (see :func:`contigmap.poverty.poverty_profile`).
    hamlets
        Hamlets (``hamlet_id``, ``village_id``); zones are ``hamlet_radius_m`` buffers
        clipped to their village's zone.
    village_radius_m, hamlet_radius_m
        Buffer radii in metres (villages: only outside the county, or to widen the hull).
    along_road
        Network hook for along-road distances (:data:`AlongRoadDistance`).

    Returns
    -------
    tuple
        The village table (``villages`` plus ``zone_source``, ``zone_area_km2``,
        terrain, hazard, ecology, distance and poverty columns) and the hamlet table
        (or ``None``).
    """
    if "village_id" not in villages:
        msg = "villages: missing column 'village_id'; map it in the manifest's `columns:`"
        raise ValidationError(msg)
    extent = None
    for outline in (county, townships):
        if outline is not None and len(outline):
            geoms = repair_polygons(_geoms(outline, villages.crs, "county"), what="county")
            extent = shapely.union_all(geoms[~shapely.is_missing(geoms)])
            break
    zones, source = settlement_zones(villages, areas=village_areas, clip=townships,
                                     radius_m=village_radius_m, method="voronoi",
                                     extent=extent)
    points = settlement_points(villages)
    table = villages.copy()
    table["zone_source"] = source
    table["zone_area_km2"] = zones.area.to_numpy() / 1e6
    cols = overlay_columns(points, zones, dem=dem, hazards=hazards, ecology=ecology,
                           infrastructure=infrastructure, along_road=along_road,
                           id_column=villages["village_id"].astype(str))
    for col in cols.columns:
        table[col] = cols[col].to_numpy()
    if households is not None:
        prof = poverty_profile(households, village_ids=table["village_id"].astype(str))
        prof = prof.reindex(table["village_id"].astype(str).to_numpy())
        for col in prof.columns:
            table[col] = prof[col].to_numpy()
    logger.info(
        "village profile: %d villages (%d zones from polygons, %d Voronoi cells), %d columns",
        len(table), int((source == "polygon").sum()), int((source != "polygon").sum()),
        table.shape[1],
    )
    hamlet_table = None
    if hamlets is not None and len(hamlets):
        vz = gpd.GeoDataFrame({"village_id": villages["village_id"].astype(str).to_numpy()},
                              geometry=zones.to_numpy(), crs=zones.crs)
        h = hamlets.copy()
        h["village_id"] = h["village_id"].astype(str)
        hzones, hsource = settlement_zones(h, clip=vz, clip_key="village_id",
                                           radius_m=hamlet_radius_m)
        hcols = overlay_columns(settlement_points(h), hzones, dem=dem, hazards=hazards,
                                ecology=ecology, infrastructure=infrastructure,
                                along_road=along_road,
                                id_column=h["hamlet_id"].astype(str) if "hamlet_id" in h
                                else None)
        hamlet_table = hamlets.copy()
        hamlet_table["zone_source"] = hsource
        hamlet_table["zone_area_km2"] = hzones.area.to_numpy() / 1e6
        for col in hcols.columns:
            hamlet_table[col] = hcols[col].to_numpy()
        logger.info("village profile: %d hamlets", len(hamlet_table))
    return table, hamlet_table
