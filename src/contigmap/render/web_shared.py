"""Point layers drawn from one shared copy of their coordinates (``assets/map/shared.js``).

Several extra layers show the same points: the hamlets, once plain and once per
hamlet-level intervention (broadband, radio and TV). Written as GeoJSON, each layer
carried its own copy of every hamlet's geometry and a full HTML popup per hamlet, and
the page grew by over a megabyte per hamlet intervention. A layer with
:attr:`~contigmap.render.web_extra.MapLayer.share` set instead refers to coordinates
written once per key (the first layer with the key writes them, later ones check that
they show the same points), and holds per point only its style index, tooltip and
popup values. Every column of tooltips and popups is dictionary-encoded (distinct
values once, then one index per point), and a popup's table is assembled in the
browser from the column labels and values when it opens.

Values and labels are HTML-escaped here and reach the page as JSON through the page's
:class:`~contigmap.render.web_page.Slots`, as everywhere on the map.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np

from contigmap.render.web_page import Ids, Script, map_script

__all__ = ["coded", "shared_points"]


def coded(values: Sequence[str]) -> list[list[Any]]:
    """Dictionary-encode text values: ``[distinct values, index of each value]``.

    Distinct values are listed in order of first appearance, so the same values give
    the same encoding (reproducible files).
    """
    table: dict[str, int] = {}
    index = [table.setdefault(v, len(table)) for v in values]
    return [list(table), index]


def _coordinates(geoms: gpd.GeoSeries) -> tuple[list[float], list[float]] | None:
    """Latitudes and longitudes of single points, or ``None`` when any is not a point."""
    if len(geoms) == 0 or not (geoms.geom_type == "Point").all():
        return None
    return [float(y) for y in geoms.y], [float(x) for x in geoms.x]


def shared_points(
    fg: Any,
    ids: Ids,
    key: str,
    geoms: gpd.GeoSeries,
    styles: Sequence[dict[str, Any]],
    props: Sequence[dict[str, Any]],
    labels: Sequence[str],
) -> Script | None:
    """Return the script drawing a point layer from the shared coordinates of ``key``.

    Parameters
    ----------
    fg
        The layer's feature group.
    ids
        The page's ids, slots and shared coordinates (:attr:`Ids.shared`).
    key
        Which shared coordinates (e.g. ``hamlets``).
    geoms
        The layer's points in EPSG:4326, already rounded.
    styles
        Leaflet styles; each feature's ``s`` indexes them.
    props
        Per feature: ``s`` (style index), optional ``t`` (tooltip HTML) and ``v``
        (popup values as escaped HTML, one per label).
    labels
        Escaped labels of the popup rows (none: no popup).

    Returns
    -------
    Script or None
        The script; ``None`` when the layer cannot share (not all single points, or
        points other than those already written under ``key``): draw it on its own.
    """
    lat_lon = _coordinates(geoms)
    if lat_lon is None:
        return None
    first = key not in ids.shared
    if not first and ids.shared[key] != lat_lon:
        return None
    ids.shared.setdefault(key, lat_lon)
    rows = np.array([p.get("v", [""] * len(labels)) for p in props], dtype=object)
    data = {
        "s": [int(p["s"]) for p in props],
        "t": coded([str(p.get("t", "")) for p in props]),
        "h": list(labels),
        "p": [coded([str(v) for v in rows[:, j]]) for j in range(len(labels))],
    }
    points = {"lat": lat_lon[0], "lon": lat_lon[1]} if first else None
    return Script(map_script(
        "shared.js", key=ids.slots.json(key), points=ids.slots.json(points),
        styles=ids.slots.json(list(styles)), props=ids.slots.json(data), group=fg.get_name()))
