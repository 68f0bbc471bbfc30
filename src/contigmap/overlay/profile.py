"""The village (and hamlet) profile table: zones, overlay columns and poverty.

:func:`village_profile` builds each settlement's zone (:mod:`contigmap.overlay.zones`),
then :func:`overlay_columns` adds, over that zone:

* raster layers (DEM, slope, hazard rasters) → :func:`contigmap.zonal.zonal_stats`
  with exact cell coverage, and terrain columns (:mod:`contigmap.terrain`);
* polygon, hazard-point and infrastructure layers → :mod:`contigmap.overlay.measures`;

and the household registry adds the poverty columns (:mod:`contigmap.poverty`).
Distances along roads to infrastructure are computed by the intervention that needs
them (:mod:`contigmap.priority.power`, :mod:`contigmap.priority.broadband`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import geopandas as gpd
import pandas as pd
import shapely

from contigmap.columns import ColumnInfo, register_columns
from contigmap.coverage import repair_polygons
from contigmap.errors import ValidationError
from contigmap.overlay.measures import (
    hazard_point_counts,
    hazard_radius_m,
    is_point_layer,
    nearest_distance_m,
    points_inside,
    polygon_shares,
    weighted_shares,
)
from contigmap.overlay.zones import layer_geoms, settlement_points, settlement_zones
from contigmap.poverty import poverty_profile
from contigmap.raster import Raster
from contigmap.terrain import slope_deg, terrain_profile
from contigmap.zonal import zonal_stats

__all__ = ["INFRASTRUCTURE_COLUMNS", "overlay_columns", "village_profile"]

logger = logging.getLogger(__name__)

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


def _layer_columns(
    out: pd.DataFrame, prefix: str, raw_name: str, layer: gpd.GeoDataFrame | Raster,
    points: gpd.GeoSeries, zones: gpd.GeoSeries, named: gpd.GeoSeries | gpd.GeoDataFrame,
    name_col: str | None,
) -> None:
    """Add one hazard / ecology layer's columns to ``out`` (points, raster or polygons)."""
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


def overlay_columns(
    points: gpd.GeoSeries,
    zones: gpd.GeoSeries,
    *,
    dem: Raster | None = None,
    hazards: Mapping[str, gpd.GeoDataFrame | Raster] | None = None,
    ecology: Mapping[str, gpd.GeoDataFrame | Raster] | None = None,
    infrastructure: Mapping[str, gpd.GeoDataFrame] | None = None,
    id_column: pd.Series | None = None,
    slope: Raster | None = None,
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
    id_column
        Names of the settlements for messages (default: the index).
    slope
        Slope of ``dem`` in degrees (:func:`contigmap.terrain.slope_deg`), when already
        computed; else computed from ``dem``.

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
        out = out.join(terrain_profile(points, named, dem, slope=slope, id_column=name_col))
    for prefix, layers in (("hazard", hazards or {}), ("eco", ecology or {})):
        for raw_name, layer in layers.items():
            _layer_columns(out, prefix, raw_name, layer, points, zones, named, name_col)
    for raw_name, layer in (infrastructure or {}).items():
        key = _slug(raw_name)
        col = INFRASTRUCTURE_COLUMNS.get(key, f"dist_{key}_m")
        if col not in INFRASTRUCTURE_COLUMNS.values():
            register_columns([ColumnInfo(col, f"straight-line distance to the nearest {key}",
                                         f"到最近{key}的直线距离", "m",
                                         f"infrastructure.{key} / overlay")])
        out[col] = nearest_distance_m(points, layer, what=raw_name)
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
    extent = _county_extent(villages, county, townships)
    zones, source = settlement_zones(villages, areas=village_areas, clip=townships,
                                     radius_m=village_radius_m, method="voronoi",
                                     extent=extent)
    points = settlement_points(villages)
    slope = slope_deg(dem) if dem is not None else None  # villages and hamlets share it
    table = villages.copy()
    table["zone_source"] = source
    table["zone_area_km2"] = zones.area.to_numpy() / 1e6
    cols = overlay_columns(points, zones, dem=dem, hazards=hazards, ecology=ecology,
                           infrastructure=infrastructure,
                           id_column=villages["village_id"].astype(str), slope=slope)
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
        hamlet_table = _hamlet_table(
            hamlets, villages, zones, radius_m=hamlet_radius_m, dem=dem, hazards=hazards,
            ecology=ecology, infrastructure=infrastructure, slope=slope)
    return table, hamlet_table


def _county_extent(
    villages: gpd.GeoDataFrame, county: gpd.GeoDataFrame | None,
    townships: gpd.GeoDataFrame | None,
) -> shapely.Geometry | None:
    """Return the area Voronoi cells are clipped to: the county, else the townships' union."""
    for outline in (county, townships):
        if outline is not None and len(outline):
            geoms = repair_polygons(layer_geoms(outline, villages.crs, "county"), what="county")
            return shapely.union_all(geoms[~shapely.is_missing(geoms)])
    return None


def _hamlet_table(
    hamlets: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, zones: gpd.GeoSeries, *,
    radius_m: float, dem: Raster | None,
    hazards: Mapping[str, gpd.GeoDataFrame | Raster] | None,
    ecology: Mapping[str, gpd.GeoDataFrame | Raster] | None,
    infrastructure: Mapping[str, gpd.GeoDataFrame] | None, slope: Raster | None = None,
) -> gpd.GeoDataFrame:
    """Hamlet rows: discs of ``radius_m`` clipped to their village's zone, with overlays."""
    vz = gpd.GeoDataFrame({"village_id": villages["village_id"].astype(str).to_numpy()},
                          geometry=zones.to_numpy(), crs=zones.crs)
    h = hamlets.copy()
    h["village_id"] = h["village_id"].astype(str)
    hzones, hsource = settlement_zones(h, clip=vz, clip_key="village_id", radius_m=radius_m)
    hcols = overlay_columns(settlement_points(h), hzones, dem=dem, hazards=hazards,
                            ecology=ecology, infrastructure=infrastructure,
                            id_column=h["hamlet_id"].astype(str) if "hamlet_id" in h
                            else None, slope=slope)
    hamlet_table = hamlets.copy()
    hamlet_table["zone_source"] = hsource
    hamlet_table["zone_area_km2"] = hzones.area.to_numpy() / 1e6
    for col in hcols.columns:
        hamlet_table[col] = hcols[col].to_numpy()
    logger.info("village profile: %d hamlets", len(hamlet_table))
    return hamlet_table
