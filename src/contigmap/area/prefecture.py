"""The cross-county part of an area run: time from every village to the nearest prefecture city.

A village's market town, hospital of last resort and administration are often in the
prefecture city (地级市), across county borders, so the time cannot come from one
county's roads. This runs once per area, shared by all counties:

1. the **area graph**: every county's roads (its ``layers.roads``, ids prefixed with the
   county code so that they stay unique) plus the area's ``trunk_roads``, reprojected to
   the UTM zone of the prefecture cities (:meth:`geopandas.GeoDataFrame.estimate_utm_crs`)
   and built with :func:`contigmap.network.build_network` (vertices within 1 mm are one
   node, so roads that meet at a county border connect). It needs no county output, so an
   area run builds it as one more task beside the counties (:func:`build_area_graph`);
2. one multi-source Dijkstra from all prefecture cities on the reversed graph
   (:meth:`contigmap.network.Attachment.times_to_nearest`; Dijkstra, *A note on two
   problems in connexion with graphs*, Numer. Math. 1, 1959): each village gets the
   vehicle time in minutes to its nearest city, over the dry-season default speeds on
   flat ground (no DEM: the area graph spans several DEMs), and which city that is.

The village points are those the county runs wrote (``<code>/villages.csv``: ``lon``,
``lat``), so the area table and the county folders describe the same villages. A county's
``tt_prefecture_min`` is the median over its villages that have a route;
``prefecture_unreachable`` counts those without one (empty times in the village table:
villages on roads not joined to the rest, as the county run's ``isolated``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from contigmap.area.manifest import Area
from contigmap.errors import ValidationError
from contigmap.network.build import RoadGraph

__all__ = ["AreaGraph", "build_area_graph", "county_medians", "prefecture_times"]

logger = logging.getLogger(__name__)

_CITY_ROLE = "infrastructure.substations"
"""A point role without required columns, whose schema reads the cities (id renamed)."""


def _villages(area: Area, stage: Path) -> gpd.GeoDataFrame:
    """Read the villages every county run wrote, with their county code (WGS84 points)."""
    frames = []
    for county in area.counties:
        path = stage / county.code / "villages.csv"
        table = pd.read_csv(path, encoding="utf-8-sig", dtype={"village_id": str})
        keep = [c for c in ("village_id", "name", "pop", "lon", "lat") if c in table.columns]
        table = table[keep].copy()
        table.insert(0, "county_code", county.code)
        frames.append(table)
    villages = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(villages, geometry=gpd.points_from_xy(villages["lon"],
                                                                  villages["lat"]), crs=4326)


def _roads(area: Area, crs: object) -> gpd.GeoDataFrame:
    """Read every county's roads and the trunk roads in ``crs``, ids prefixed by source."""
    from contigmap.io.read import read_layer

    parts = []
    sources = [(c.code if k == 0 else f"{c.code}[{k + 1}]", spec, c.region.base_dir)
               for c in area.counties for k, spec in enumerate(c.region.layers.road_sources())]
    trunk = area.config.layers.trunk_roads
    if trunk is not None:
        sources.append(("trunk", trunk, area.base_dir))
    for prefix, spec, base_dir in sources:
        label = "area layers.trunk_roads" if prefix == "trunk" else f"county {prefix}: roads"
        roads = read_layer(spec, base_dir=base_dir, role="roads", source=label)
        if not isinstance(roads, gpd.GeoDataFrame) or roads.crs is None:
            msg = f"{label}: has no geometry or CRS; give line geometries with a CRS"
            raise ValidationError(msg)
        roads = roads.to_crs(crs)
        roads["road_id"] = prefix + ":" + roads["road_id"].astype(str)
        parts.append(roads[[c for c in ("road_id", "road_class", "surface", "bridge",
                                        "tunnel", "geometry") if c in roads.columns]])
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs)


@dataclass(frozen=True)
class AreaGraph:
    """The area graph with the prefecture cities, built once per area (picklable).

    Attributes
    ----------
    graph
        Every county's roads and the trunk roads (:func:`contigmap.network.build_network`).
    crs
        The metric CRS of ``graph``: the UTM zone of the prefecture cities.
    cities
        ``city_id`` and point geometry in ``crs``.
    """

    graph: RoadGraph
    crs: CRS
    cities: gpd.GeoDataFrame


def build_area_graph(area: Area) -> AreaGraph | None:
    """Read the cities and every road of the area and build the area graph.

    It needs no county output, so an area run starts it beside the counties
    (:func:`contigmap.area.engine.run_task`). Returns None when the area has no
    prefecture cities.
    """
    from contigmap.io.read import read_layer
    from contigmap.network import build_network

    spec = area.config.layers.prefecture_cities
    if spec is None:
        return None
    cities = read_layer(spec, base_dir=area.base_dir, role=_CITY_ROLE,
                        source="area layers.prefecture_cities")
    if not isinstance(cities, gpd.GeoDataFrame) or len(cities) == 0:
        msg = ("area layers.prefecture_cities: no city points; give x:/y: columns or point "
               "geometries")
        raise ValidationError(msg)
    crs = cities.estimate_utm_crs()
    cities = cities.rename(columns={"substation_id": "city_id"}).to_crs(crs)
    graph = build_network(_roads(area, crs))
    logger.info("area graph: %d nodes, %d edges, %d prefecture cities",
                graph.n_nodes, graph.n_edges, len(cities))
    return AreaGraph(graph=graph, crs=crs,
                     cities=gpd.GeoDataFrame(cities[["city_id", "geometry"]],
                                             geometry="geometry", crs=crs))


def prefecture_times(area: Area, stage: Path, area_graph: AreaGraph | None = None
                     ) -> pd.DataFrame | None:
    """Minutes from every village of the area to its nearest prefecture city.

    Parameters
    ----------
    area
        The area (its ``layers.prefecture_cities`` and ``trunk_roads``).
    stage
        The folder holding each county's outputs (``<code>/villages.csv``).
    area_graph
        The area graph when already built (:func:`build_area_graph`); built here if not.

    Returns
    -------
    pandas.DataFrame or None
        ``county_code``, ``village_id``, ``name``, ``pop``, ``tt_prefecture_min`` (NaN:
        unreachable) and ``prefecture_city_id`` per village, counties in manifest order;
        None when the area has no prefecture cities.
    """
    from contigmap.network import attach_points

    if area_graph is None:
        area_graph = build_area_graph(area)
    if area_graph is None:
        return None
    villages = _villages(area, stage)
    graph, cities = area_graph.graph, area_graph.cities
    pts = villages.to_crs(area_graph.crs)
    xy = np.vstack([np.column_stack([pts.geometry.x, pts.geometry.y]),
                    np.column_stack([cities.geometry.x, cities.geometry.y])])
    n_v = len(villages)
    city_idx = np.arange(n_v, n_v + len(cities))
    att = attach_points(graph, xy, nodes=city_idx)
    times, which = att.times_to_nearest(city_idx, with_source=True)
    out = pd.DataFrame(villages.drop(columns=["geometry", "lon", "lat"]))
    t = times[:n_v]
    out["tt_prefecture_min"] = np.where(np.isfinite(t), t, np.nan)
    city_ids = cities["city_id"].astype(str).to_numpy()
    w = which[:n_v]
    nearest: list[str | None] = [str(city_ids[k - n_v]) if k >= 0 else None for k in w]
    out["prefecture_city_id"] = nearest
    logger.info("prefecture times: %d villages over the area graph", n_v)
    return out


def county_medians(villages: pd.DataFrame) -> pd.DataFrame:
    """Summarise per county: ``tt_prefecture_min`` and ``prefecture_unreachable``.

    The median time of the county's villages that have a route, and how many have none;
    counties in order of first appearance.
    """
    by = villages.groupby("county_code", sort=False)["tt_prefecture_min"]
    return pd.DataFrame({"tt_prefecture_min": by.median(),
                         "prefecture_unreachable": by.apply(lambda t: int(t.isna().sum()))})
