"""Road lines from an OpenStreetMap ``.osm.pbf`` (or ``.osm``) extract, read with pyosmium.

OSM ``highway`` values map onto contigmap's road classes, with China's route numbers
(``ref``: G national, S provincial, X county, Y township, C village — the national road
numbering of GB/T 917-2017) taking precedence where present:

========================================  =============
highway                                   road_class
========================================  =============
motorway, motorway_link                   expressway
trunk, trunk_link                         national
primary, primary_link                     provincial
secondary, secondary_link, tertiary(_link) county
unclassified                              township
residential, living_street, service, road village
track                                     track
path, footway, bridleway, steps, ...      path
========================================  =============

Surfaces: ``asphalt``, ``concrete``, ``paved``, ``paving_stones``, ``sett``… → paved;
``gravel``, ``fine_gravel``, ``compacted``, ``pebblestone`` → gravel; ``unpaved``,
``dirt``, ``earth``, ``ground``, ``mud``, ``sand``, ``grass`` → earth. Without ``surface``,
``tracktype`` decides (grade1 paved, grade2–3 gravel, grade4–5 earth), else the class
default: paved down to ``unclassified`` / ``residential`` (most Chinese rural roads with a
class are hardened since the 2019 村村通硬化路 programme), earth for tracks and paths.

Both tables can be overridden per source in region.yaml (:func:`classify_tags`):
``osm_tags: {highway: {unclassified: village, service: none}, surface: {unpaved: gravel,
missing: gravel}}`` (``none`` drops a highway value; ``missing`` is the surface of ways
without ``surface`` or ``tracktype``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from contigmap.errors import LayerError

__all__ = ["HIGHWAY_CLASS", "OSM_SURFACE", "classify_tags", "read_osm_roads"]

logger = logging.getLogger(__name__)

HIGHWAY_CLASS: dict[str, str] = {
    "motorway": "expressway", "motorway_link": "expressway",
    "trunk": "national", "trunk_link": "national",
    "primary": "provincial", "primary_link": "provincial",
    "secondary": "county", "secondary_link": "county",
    "tertiary": "county", "tertiary_link": "county",
    "unclassified": "township",
    "residential": "village", "living_street": "village", "service": "village", "road": "village",
    "track": "track",
    "path": "path", "footway": "path", "bridleway": "path", "steps": "path",
    "pedestrian": "path", "cycleway": "path",
}
"""OSM ``highway`` → contigmap ``road_class``."""

_REF_CLASS = {"G": "national", "S": "provincial", "X": "county", "Y": "township", "C": "village"}
_SURFACE = {
    **dict.fromkeys(["paved", "asphalt", "concrete", "concrete:plates", "concrete:lanes",
                     "paving_stones", "sett", "cobblestone", "metal", "wood"], "paved"),
    **dict.fromkeys(["gravel", "fine_gravel", "compacted", "pebblestone"], "gravel"),
    **dict.fromkeys(["unpaved", "dirt", "earth", "ground", "mud", "sand", "grass"], "earth"),
}
_TRACKTYPE = {"grade1": "paved", "grade2": "gravel", "grade3": "gravel", "grade4": "earth",
              "grade5": "earth"}


def _yes(value: str | None) -> bool:
    return value is not None and value not in ("no", "false", "0")


OSM_SURFACE: dict[str, str] = _SURFACE
"""OSM ``surface`` → contigmap ``surface`` (before ``tracktype`` and the class default)."""


def classify_tags(
    tags: dict[str, str],
    *,
    highway: dict[str, str] | None = None,
    surface: dict[str, str] | None = None,
) -> tuple[str, str] | None:
    """Road class and surface of an OSM way's tags, or ``None`` when it is not a road.

    Parameters
    ----------
    tags
        The way's tags (``highway``, ``ref``, ``surface``, ``tracktype``).
    highway
        Overrides of :data:`HIGHWAY_CLASS` (``osm_tags: highway:`` in region.yaml);
        the value ``none`` drops ways of that ``highway``.
    surface
        Overrides of :data:`OSM_SURFACE` (``osm_tags: surface:``); the key ``missing``
        gives the surface of ways with neither ``surface`` nor ``tracktype`` (instead
        of the class default).

    Returns
    -------
    tuple or None
        ``(road_class, surface)``.
    """
    table = {**HIGHWAY_CLASS, **(highway or {})}
    klass = table.get(tags.get("highway", ""))
    if klass is None or klass == "none":
        return None
    ref = tags.get("ref", "").strip()
    if ref[:1].upper() in _REF_CLASS and ref[1:2].isdigit() and klass not in ("expressway",
                                                                              "track", "path"):
        klass = _REF_CLASS[ref[0].upper()]
    surfaces = {**_SURFACE, **(surface or {})}
    value = surfaces.get(tags.get("surface", "").split(";")[0].strip())
    if value is None:
        value = _TRACKTYPE.get(tags.get("tracktype", ""))
    if value is None and "surface" not in tags and surface and "missing" in surface:
        value = surface["missing"]
    if value is None:
        value = "earth" if klass in ("track", "path") else "paved"
    return klass, value


def read_osm_roads(
    path: str | Path,
    *,
    highway: dict[str, str] | None = None,
    surface: dict[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read highway lines from an OSM extract into contigmap's roads schema.

    Needs pyosmium, an optional dependency: ``pip install 'contigmap[osm]'``.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` file.
    highway, surface
        Overrides of the tag tables (:func:`classify_tags`).

    Returns
    -------
    geopandas.GeoDataFrame
        ``road_id`` (``w<way id>``), ``road_class``, ``surface``, ``bridge``, ``tunnel``,
        ``layer``, ``name``, ``highway``, ``osm_surface``, ``tracktype``; lines in EPSG:4326.
        Reproject to the working CRS (``.to_crs()``) before :func:`build_network`.

    Raises
    ------
    LayerError
        The file is missing, pyosmium is not installed, or the file cannot be parsed.
    """
    path = Path(path)
    if not path.exists():
        msg = f"{path}: OSM file not found; check the path"
        raise LayerError(msg)
    try:
        import osmium
    except ImportError as err:
        msg = (f"{path}: reading OpenStreetMap files needs pyosmium, an optional dependency; "
               f"install it with: pip install 'contigmap[osm]' (or: pip install osmium)")
        raise LayerError(msg) from err

    rows: list[dict[str, Any]] = []
    wkbs: list[bytes] = []
    factory = osmium.geom.WKBFactory()

    class _Handler(osmium.SimpleHandler):
        def way(self, w: Any) -> None:
            tags = {t.k: t.v for t in w.tags}
            cs = classify_tags(tags, highway=highway, surface=surface)
            if cs is None:
                return
            try:
                wkb = factory.create_linestring(w)
            except (osmium.InvalidLocationError, RuntimeError):
                return
            layer_tag = tags.get("layer", "0")
            rows.append({
                "road_id": f"w{w.id}",
                "road_class": cs[0],
                "surface": cs[1],
                "bridge": _yes(tags.get("bridge")),
                "tunnel": _yes(tags.get("tunnel")),
                "layer": int(layer_tag) if layer_tag.lstrip("-").isdigit() else 0,
                "name": tags.get("name:zh", tags.get("name")),
                "highway": tags.get("highway"),
                "osm_surface": tags.get("surface"),
                "tracktype": tags.get("tracktype"),
            })
            wkbs.append(bytes.fromhex(wkb) if isinstance(wkb, str) else wkb)

    try:
        _Handler().apply_file(str(path), locations=True)
    except RuntimeError as err:
        msg = f"{path}: cannot read the OSM file ({err}); is it a valid .osm.pbf?"
        raise LayerError(msg) from err
    geoms = shapely.from_wkb(np.asarray(wkbs, dtype=object)) if wkbs else np.zeros(0, object)
    gdf = gpd.GeoDataFrame(rows, geometry=list(geoms), crs="EPSG:4326")
    if not len(gdf):
        gdf = gpd.GeoDataFrame(
            {c: [] for c in ("road_id", "road_class", "surface", "bridge", "tunnel", "layer",
                             "name", "highway", "osm_surface", "tracktype")},
            geometry=[], crs="EPSG:4326",
        )
    logger.info("OSM %s: %d highway lines", path.name, len(gdf))
    return gdf
