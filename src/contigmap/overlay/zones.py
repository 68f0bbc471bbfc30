"""Settlement zones: each village's own polygon, else its Voronoi cell, clipped.

Villages without a polygon (``village_areas``) get their **Voronoi cell** among the
village points (the land nearer to them than to any other village), clipped to the
county and to their township: an approximation of the village territory, said in a
warning. Hamlets get a disc of ``radius_m`` clipped to their village's zone. Township
names come from the townships layer or the township-seat services.
"""

from __future__ import annotations

import logging
import re
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from contigmap.coverage import repair_polygons
from contigmap.errors import CRSError, warn_data

__all__ = [
    "layer_geoms",
    "settlement_points",
    "settlement_zones",
    "township_names",
    "voronoi_cells",
]

logger = logging.getLogger(__name__)


def layer_geoms(
    layer: gpd.GeoDataFrame | gpd.GeoSeries, crs: object, what: str
) -> NDArray[np.object_]:
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
    zones, source = _own_polygons(settlements, areas, area_key)
    todo = source == "buffer"
    if todo.any():
        all_pts = np.asarray(settlement_points(settlements).array, dtype=object)
        discs = shapely.buffer(all_pts[todo], radius_m, quad_segs=16)
        if method == "voronoi":
            if extent is None:
                extent = shapely.buffer(shapely.convex_hull(shapely.multipoints(all_pts)),
                                        radius_m)
            discs = _voronoi_zones(all_pts, todo, discs, extent, radius_m, source)
        if clip is not None and clip_key in settlements:
            keys = settlements[clip_key].astype(str).to_numpy()[todo]
            discs = _clip_zones(discs, keys, clip, crs, clip_key, source, todo)
        zones[todo] = discs
    return gpd.GeoSeries(zones, index=settlements.index, crs=crs), pd.Series(
        source, index=settlements.index, name="zone_source"
    )



def _own_polygons(
    settlements: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None, area_key: str
) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """Zones from the settlements' own polygons or ``areas``; ``buffer`` marks the rest."""
    crs = settlements.crs
    n = len(settlements)
    zones = np.empty(n, dtype=object)
    source = np.full(n, "buffer", dtype=object)
    own = np.asarray(settlements.geometry.array, dtype=object)
    is_poly = np.isin(shapely.get_type_id(own), [3, 6])
    zones[is_poly] = own[is_poly]
    source[is_poly] = "polygon"
    if areas is not None and area_key in settlements:
        geoms = repair_polygons(layer_geoms(areas, crs, "village_areas"), what="village_areas")
        lookup = dict(zip(areas[area_key].astype(str), geoms, strict=True))
        keys = settlements[area_key].astype(str).to_numpy()
        for i in np.flatnonzero(~is_poly):
            g = lookup.get(keys[i])
            if g is not None and not shapely.is_empty(g):
                zones[i] = g
                source[i] = "polygon"
    return zones, source


def _voronoi_zones(
    all_pts: NDArray[np.object_], todo: NDArray[np.bool_], discs: NDArray[np.object_],
    extent: shapely.Geometry, radius_m: float, source: NDArray[np.object_],
) -> NDArray[np.object_]:
    """Voronoi cells for the ``todo`` settlements (discs outside ``extent``); sets ``source``."""
    cells = voronoi_cells(all_pts, extent)[todo]
    empty = shapely.is_empty(cells) | (shapely.area(cells) <= 0)
    if empty.any():
        msg = (f"{int(empty.sum())} village point(s) lie outside the county; their "
               f"zones are {radius_m:.0f} m discs")
        warn_data(msg, logger=logger, stacklevel=3)
    msg = (f"{int(todo.sum())} village territories are Voronoi cells of the village "
           "points clipped to the county and township (approximate: no village "
           "boundaries; declare village_areas for real ones)")
    warn_data(msg, logger=logger, stacklevel=3)
    source[todo] = np.where(empty, "buffer", "voronoi")
    return np.asarray(np.where(empty, discs, cells), dtype=object)


def _clip_zones(
    discs: NDArray[np.object_], keys: NDArray[np.object_], clip: gpd.GeoDataFrame,
    crs: object, clip_key: str, source: NDArray[np.object_], todo: NDArray[np.bool_],
) -> NDArray[np.object_]:
    """Clip zones to the polygon of their ``clip_key``; marks ``source`` ``*_clipped``."""
    cgeoms = repair_polygons(layer_geoms(clip, crs, "clip polygons"), what="clip polygons")
    lookup = dict(zip(clip[clip_key].astype(str), cgeoms, strict=True))
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
        warn_data(msg, logger=logger, stacklevel=3)
    source[todo] = [f"{s}_clipped" if o else s for s, o in zip(source[todo], ok, strict=True)]
    return np.asarray(np.where(ok, clipped, discs), dtype=object)


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
        warn_data(msg, logger=logger)
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
