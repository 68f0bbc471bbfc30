"""Receiving sites (安置点): a suitability surface on the DEM grid, patches, and towns.

A DEM cell is *suitable* for a resettlement site when all of these hold (thresholds in
``relocation.yaml``, section ``sites``):

* gentle ground: Horn slope (:func:`contigmap.terrain.slope_deg`) at most ``max_slope_deg``;
* outside every hazard polygon layer buffered by ``hazard_setback_m`` (for a layer with
  classes, ``class:`` in region.yaml, only its polygons of weight above
  ``hazard_site_weight_max``, default 0.5) and below ``landslide_max`` on every hazard
  raster (nearest cell; no data counts as unsafe);
* outside the red line and reserves (buffered by ``eco_setback_m``); polygons are burnt
  with ``all_touched=True``, so a cell that touches them at all is excluded and every
  cell centre left is outside them;
* within ``max_road_distance_m`` of a road node, and within ``max_tt_seat_min`` of a
  township or county seat, ``max_tt_school_min`` of a school and ``max_tt_health_min``
  of a health centre: vehicle time from the nearest road node
  (:meth:`contigmap.network.Attachment.node_times`) plus the off-road walk at 4 km/h;
* inside the study area (county outline) when given.

Suitable cells score ``mean(1 − slope / max, 1 − tt_seat / max, 1 − tt_school / max,
1 − tt_health / max)`` in [0, 1]. Connected suitable patches (8-neighbour,
:func:`scipy.ndimage.label`) of at least ``min_patch_area_m2`` each give one site at
their best cell (highest score; the nearer to a road the higher, through the travel
times); capacity = min(patch area, ``max_site_area_ha``) × ``people_per_ha``. The
``max_new_sites`` best patches are kept. Existing township seats and the county seat
are added with their documented absorption capacity, when they pass the same hazard and
ecology rules (a failing town is dropped, with a log message).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from rasterio.features import rasterize
from scipy import ndimage
from scipy.spatial import cKDTree

from contigmap.columns import ColumnInfo, register_columns
from contigmap.errors import ValidationError
from contigmap.network import RoadGraph, attach_points
from contigmap.raster import Raster
from contigmap.relocation.costs import SiteParams
from contigmap.terrain import slope_deg

__all__ = ["SITE_COLUMNS", "Suitability", "check_site_safety", "receiving_sites",
           "suitability_surface"]

logger = logging.getLogger(__name__)

WALK_KMH = 4.0
"""Off-road walking speed from a cell to its nearest road node."""

_SRC = "relocation / sites"
SITE_COLUMNS: tuple[ColumnInfo, ...] = (
    ColumnInfo("site_id", "receiving site id", "安置点编号", "", _SRC),
    ColumnInfo("site_kind", "new_site (from the suitability surface), township_seat or "
               "county_seat", "安置点类型", "", _SRC),
    ColumnInfo("site_name", "receiving site name", "安置点名称", "", _SRC),
    ColumnInfo("capacity_people", "people the site can take", "安置容量", "people", _SRC),
    ColumnInfo("patch_area_ha", "area of the suitable patch (new sites)", "适宜用地面积",
               "ha", _SRC),
    ColumnInfo("suitability", "suitability score of the site cell", "适宜性得分", "0-1", _SRC),
    ColumnInfo("load_people", "people assigned to the site", "安置人数", "people", _SRC),
    ColumnInfo("load_households", "households assigned to the site", "安置户数", "households",
               _SRC),
    ColumnInfo("load_share", "people assigned / capacity", "容量使用率", "share 0-1", _SRC),
)
register_columns(SITE_COLUMNS)


@dataclass(frozen=True, eq=False)
class Suitability:
    """The suitability surface and its inputs, on the DEM grid.

    Attributes
    ----------
    score
        0-1 on suitable cells, 0 on unsuitable cells, ``nan`` outside the DEM.
    suitable
        Which cells pass every rule.
    excluded
        Cells excluded by hazards or ecology (for maps and checks).
    tt_seat_min
        Travel time to the nearest seat per cell (``inf`` where not computed).
    """

    score: Raster
    suitable: NDArray[np.bool_]
    excluded: NDArray[np.bool_]
    tt_seat_min: NDArray[np.float64]


def _burn(geoms: list[shapely.Geometry], dem: Raster) -> NDArray[np.bool_]:
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        return np.zeros(dem.shape, bool)
    burnt = rasterize(((g, 1) for g in geoms), out_shape=dem.shape, transform=dem.transform,
                      fill=0, all_touched=True, dtype="uint8")
    return np.asarray(burnt, dtype=bool)


def _polygons(layer: gpd.GeoDataFrame, crs: object, buffer_m: float) -> list[shapely.Geometry]:
    geoms = layer.to_crs(crs).geometry if layer.crs is not None else layer.geometry
    arr = np.asarray(geoms.values, dtype=object)
    if buffer_m > 0:
        arr = shapely.buffer(arr, buffer_m)
    return list(arr)


def _unsafe_hazard(layer: gpd.GeoDataFrame, p: SiteParams) -> gpd.GeoDataFrame:
    """Polygons a site must avoid: all, or for a classed layer those weighted above the cap."""
    if "hazard_weight" not in layer.columns:
        return layer
    weight = pd.to_numeric(layer["hazard_weight"], errors="coerce").fillna(1.0)
    return layer.loc[(weight > p.hazard_site_weight_max).to_numpy()]


def _cell_centres(dem: Raster, rows: NDArray[np.intp], cols: NDArray[np.intp]
                  ) -> NDArray[np.float64]:
    t = dem.transform
    c = cols + 0.5
    r = rows + 0.5
    return np.column_stack([t.a * c + t.b * r + t.c, t.d * c + t.e * r + t.f])


def _node_times(graph: RoadGraph, services: gpd.GeoDataFrame, kinds: tuple[str, ...]
                ) -> NDArray[np.float64]:
    pts = services[services["kind"].isin(kinds)]
    if pts.empty:
        return np.full(graph.n_nodes, np.inf)
    xy = np.column_stack([pts.geometry.x, pts.geometry.y])
    att = attach_points(graph, xy)
    return att.node_times(np.arange(len(pts)), mode="vehicle")


def suitability_surface(
    dem: Raster,
    *,
    graph: RoadGraph,
    services: gpd.GeoDataFrame,
    hazards: Mapping[str, gpd.GeoDataFrame | Raster] | None = None,
    ecology: Mapping[str, gpd.GeoDataFrame] | None = None,
    area: gpd.GeoDataFrame | None = None,
    params: SiteParams | None = None,
) -> Suitability:
    """Compute the suitability surface for resettlement sites.

    Parameters
    ----------
    dem
        DEM in the metric working CRS.
    graph
        Road graph (travel times).
    services
        Service points with ``kind`` (township/county seats, schools, health centres).
    hazards
        Hazard layers: polygons (flood zones) or rasters (susceptibility 0-1).
    ecology
        Red line and reserve polygons.
    area
        Study-area polygons (the county); cells outside are unsuitable.
    params
        Site rules; the packaged defaults when omitted.

    Returns
    -------
    Suitability
        Score raster and masks.
    """
    p = params or SiteParams()
    z = dem.array
    slope = slope_deg(dem).array
    valid = np.isfinite(z) & np.isfinite(slope)
    excluded, raster_hazards = _excluded_zones(dem, hazards, ecology, p)
    ok = valid & (slope <= p.max_slope_deg) & ~excluded
    if area is not None and len(area):
        ok &= _burn(_polygons(area, dem.crs, 0.0), dem) & ~_burn(
            [shapely.boundary(g) for g in _polygons(area, dem.crs, 0.0)], dem)
    rows, cols = np.nonzero(ok)
    xy = _cell_centres(dem, rows, cols)
    keep = np.ones(rows.size, bool)
    for ras in raster_hazards:
        value = ras.sample(xy[:, 0], xy[:, 1])
        bad = ~(np.nan_to_num(value, nan=np.inf) < p.landslide_max)
        keep &= ~bad
        excluded[rows[bad], cols[bad]] = True
    rows, cols, xy = rows[keep], cols[keep], xy[keep]
    score = np.where(valid, 0.0, np.nan)
    suitable, tt_seat_grid = _score_by_access(score, rows, cols, xy, slope, graph, services, p)
    logger.info("sites: %d suitable cells (%.1f km2), %d excluded by hazards or ecology",
                int(suitable.sum()), suitable.sum() * dem.res[0] * dem.res[1] / 1e6,
                int(excluded.sum()))
    raster = Raster(score, dem.transform, dem.crs, name="resettlement_suitability")
    return Suitability(score=raster, suitable=suitable, excluded=excluded,
                       tt_seat_min=tt_seat_grid)


def _excluded_zones(
    dem: Raster, hazards: Mapping[str, gpd.GeoDataFrame | Raster] | None,
    ecology: Mapping[str, gpd.GeoDataFrame] | None, p: SiteParams,
) -> tuple[NDArray[np.bool_], list[Raster]]:
    """Cells inside a hazard or ecology polygon (with setbacks), and the hazard rasters."""
    excluded = np.zeros(dem.shape, bool)
    raster_hazards: list[Raster] = []
    for name, layer in (hazards or {}).items():
        if isinstance(layer, Raster):
            raster_hazards.append(layer)
        else:
            excluded |= _burn(_polygons(_unsafe_hazard(layer, p), dem.crs,
                                        p.hazard_setback_m), dem)
            logger.debug("sites: hazard polygons %s burnt", name)
    for layer in (ecology or {}).values():
        excluded |= _burn(_polygons(layer, dem.crs, p.eco_setback_m), dem)
    return excluded, raster_hazards


def _score_by_access(
    score: NDArray[np.float64], rows: NDArray[np.intp], cols: NDArray[np.intp],
    xy: NDArray[np.float64], slope: NDArray[np.float64], graph: RoadGraph,
    services: gpd.GeoDataFrame, p: SiteParams,
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Score the safe, gentle cells ``rows``/``cols`` near a road by slope and travel times.

    Cells within the time limits to the seat, a school and a health centre get the
    mean of their four headroom terms in ``score`` (in place). Returns the suitable
    mask and the minutes to the seat (``inf`` elsewhere).
    """
    tt_seat_grid = np.full(score.shape, np.inf)
    suitable = np.zeros(score.shape, bool)
    if not (rows.size and graph.n_nodes):
        return suitable, tt_seat_grid
    tree = cKDTree(graph.node_xy)
    dist, node = tree.query(xy, k=1, distance_upper_bound=p.max_road_distance_m)
    near = np.isfinite(dist)
    rows, cols, dist, node = rows[near], cols[near], dist[near], node[near]
    walk = dist / (WALK_KMH * 1000.0 / 60.0)
    tt = {}
    for key, kinds in (("seat", ("township_seat", "county_seat")), ("school", ("school",)),
                       ("health", ("health_centre",))):
        tt[key] = _node_times(graph, services, kinds)[node] + walk
    good = ((tt["seat"] <= p.max_tt_seat_min) & (tt["school"] <= p.max_tt_school_min)
            & (tt["health"] <= p.max_tt_health_min))
    rows, cols = rows[good], cols[good]
    s = np.mean([
        1 - slope[rows, cols] / p.max_slope_deg,
        1 - tt["seat"][good] / p.max_tt_seat_min,
        1 - tt["school"][good] / p.max_tt_school_min,
        1 - tt["health"][good] / p.max_tt_health_min,
    ], axis=0)
    score[rows, cols] = np.clip(s, 0.0, 1.0)
    suitable[rows, cols] = True
    tt_seat_grid[rows, cols] = tt["seat"][good]
    return suitable, tt_seat_grid


def check_site_safety(
    xy: NDArray[np.float64],
    crs: object,
    *,
    hazards: Mapping[str, gpd.GeoDataFrame | Raster] | None = None,
    ecology: Mapping[str, gpd.GeoDataFrame] | None = None,
    params: SiteParams | None = None,
) -> NDArray[np.bool_]:
    """Whether each point is outside hazard and ecology zones (the site rules).

    Polygon hazards (for classed layers those weighted above ``hazard_site_weight_max``)
    must be farther than ``hazard_setback_m``, ecology polygons than
    ``eco_setback_m`` (and not contain the point), raster hazards below
    ``landslide_max`` at the point.
    """
    p = params or SiteParams()
    pts = shapely.points(np.asarray(xy, dtype=float).reshape(-1, 2))
    safe = np.ones(len(pts), bool)
    layers: list[tuple[gpd.GeoDataFrame | Raster, float]] = [
        (layer if isinstance(layer, Raster) else _unsafe_hazard(layer, p), p.hazard_setback_m)
        for layer in (hazards or {}).values()]
    layers += [(layer, p.eco_setback_m) for layer in (ecology or {}).values()]
    for layer, setback in layers:
        if isinstance(layer, Raster):
            value = layer.sample(np.asarray(xy)[:, 0], np.asarray(xy)[:, 1])
            safe &= np.nan_to_num(value, nan=np.inf) < p.landslide_max
            continue
        geoms = layer.to_crs(crs).geometry if layer.crs is not None else layer.geometry
        union = shapely.union_all(np.asarray(geoms.values, dtype=object))
        inside = shapely.intersects(pts, union)
        near = shapely.dwithin(pts, union, setback) if setback > 0 else inside
        safe &= ~(inside | near)
    return safe


def _townships_of(xy: NDArray[np.float64], townships: gpd.GeoDataFrame | None, crs: object
                  ) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    n = xy.shape[0]
    ids = np.full(n, None, dtype=object)
    names = np.full(n, "", dtype=object)
    if townships is None or n == 0:
        return ids, names
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs)
    cols = ["township_id", "geometry"] + (["name"] if "name" in townships.columns else [])
    joined = gpd.sjoin(pts, townships.to_crs(crs)[cols], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    ids[:] = joined["township_id"].to_numpy()
    if "name" in joined.columns:
        names[:] = joined["name"].fillna("").to_numpy()
    return ids, names


def _new_sites(surface: Suitability, townships: gpd.GeoDataFrame | None,
               p: SiteParams) -> list[dict[str, object]]:
    """Return new sites: the best cell of each of the largest suitable patches.

    Patches (8-connected suitable cells) of at least ``min_patch_area_m2``, the
    ``max_new_sites`` best by their best score, then area; capacity from the patch area.
    """
    ras = surface.score
    crs = ras.crs
    cell_m2 = ras.res[0] * ras.res[1]
    labels, n_patches = ndimage.label(surface.suitable, structure=np.ones((3, 3), int))
    rows_out: list[dict[str, object]] = []
    if not n_patches:
        return rows_out
    flat = labels.ravel()
    idx = np.flatnonzero(flat)
    lab = flat[idx]
    sc = ras.array.ravel()[idx]
    order = np.lexsort((idx, -sc, lab))  # per patch: best score first, then cell order
    lab_sorted = lab[order]
    first = np.ones(lab_sorted.size, bool)
    first[1:] = lab_sorted[1:] != lab_sorted[:-1]
    best_cell = idx[order][first]
    patch_label = lab_sorted[first]
    area_m2 = np.bincount(lab, minlength=n_patches + 1)[patch_label] * cell_m2
    big = area_m2 >= p.min_patch_area_m2
    best_cell, patch_label, area_m2 = best_cell[big], patch_label[big], area_m2[big]
    best_score = ras.array.ravel()[best_cell]
    pick = np.lexsort((best_cell, -area_m2, -best_score))[: p.max_new_sites]
    r, c = np.unravel_index(best_cell[pick], ras.shape)
    xy = _cell_centres(ras, np.asarray(r), np.asarray(c))
    t_ids, t_names = _townships_of(xy, townships, crs)
    for k, j in enumerate(pick):
        area_ha = float(area_m2[j]) / 1e4
        rows_out.append({
            "site_id": f"NS{k + 1:02d}", "site_kind": "new_site",
            "site_name": f"{t_names[k]}安置点{k + 1}" if t_names[k] else f"安置点{k + 1}",
            "township_id": t_ids[k],
            "capacity_people": int(np.floor(min(area_ha, p.max_site_area_ha)
                                             * p.people_per_ha)),
            "patch_area_ha": round(area_ha, 2), "suitability": round(float(best_score[j]), 4),
            "geometry": shapely.Point(xy[k]),
        })
    logger.info("sites: %d patches >= %.0f m2, %d kept as new sites", int(big.sum()),
                p.min_patch_area_m2, len(pick))
    return rows_out


def _town_sites(
    ras: Raster, services: gpd.GeoDataFrame,
    hazards: Mapping[str, gpd.GeoDataFrame | Raster] | None,
    ecology: Mapping[str, gpd.GeoDataFrame] | None, p: SiteParams,
) -> list[dict[str, object]]:
    """Return town sites: township and county seats outside hazard and ecology zones."""
    rows_out: list[dict[str, object]] = []
    crs = ras.crs
    towns = services[services["kind"].isin(tuple(p.town_capacity_people))]
    if len(towns):
        txy = np.column_stack([towns.geometry.x, towns.geometry.y])
        safe = check_site_safety(txy, crs, hazards=hazards, ecology=ecology, params=p)
        for name in towns["name"].to_numpy()[~safe]:
            logger.warning("sites: town %s lies in a hazard or ecology zone; not used as a "
                           "receiving site", name)
        sampled = ras.sample(txy[:, 0], txy[:, 1])
        for i, (_, row) in enumerate(towns.iterrows()):
            if not safe[i]:
                continue
            rows_out.append({
                "site_id": str(row["service_id"]) if "service_id" in row else f"T{i:02d}",
                "site_kind": str(row["kind"]), "site_name": str(row["name"]),
                "township_id": row.get("township_id"),
                "capacity_people": int(p.town_capacity_people[row["kind"]]),
                "patch_area_ha": np.nan,
                "suitability": round(float(np.nan_to_num(sampled[i])), 4),
                "geometry": shapely.Point(txy[i]),
            })
    return rows_out


def receiving_sites(
    surface: Suitability,
    *,
    services: gpd.GeoDataFrame | None,
    townships: gpd.GeoDataFrame | None = None,
    hazards: Mapping[str, gpd.GeoDataFrame | Raster] | None = None,
    ecology: Mapping[str, gpd.GeoDataFrame] | None = None,
    params: SiteParams | None = None,
) -> gpd.GeoDataFrame:
    """Draw receiving sites from the suitability surface and add the towns.

    Parameters
    ----------
    surface
        From :func:`suitability_surface`.
    services
        Service points; ``township_seat`` and ``county_seat`` become town sites.
    townships
        Township polygons (``township_id``, ``name``), to give each site its township.
    hazards, ecology
        The layers the towns are checked against.
    params
        Site rules; the packaged defaults when omitted.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id``, ``site_kind``, ``site_name``, ``township_id``, ``capacity_people``,
        ``patch_area_ha``, ``suitability`` and point geometry (working CRS).

    Raises
    ------
    ValidationError
        No suitable patch and no usable town: nowhere to move anyone.
    """
    p = params or SiteParams()
    ras = surface.score
    crs = ras.crs
    rows_out = _new_sites(surface, townships, p)
    if services is not None and len(services):
        rows_out += _town_sites(ras, services, hazards, ecology, p)
    if not rows_out:
        msg = ("relocation: no receiving site: no suitable patch of at least "
               f"{p.min_patch_area_m2:g} m2 and no township or county seat outside hazard and "
               "ecology zones; relax the `sites:` thresholds in relocation.yaml (max_slope_deg, "
               "max_tt_*_min, min_patch_area_m2)")
        raise ValidationError(msg)
    sites = gpd.GeoDataFrame(pd.DataFrame(rows_out), geometry="geometry", crs=crs)
    return sites
