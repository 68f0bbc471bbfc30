"""One small static map per township, for the township pages of the county report.

Each map is :func:`contigmap.render.static.render_static_map` on one township: the
township's outline is the frame, its villages are coloured by the first intervention's
budget tier (what the budget funds there first) and every village is named; the roads
drawn are those crossing the township (found with the roads' spatial index, so a
county with many townships does not redraw the whole network each time).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

import geopandas as gpd

from contigmap.priority.registry import REGISTRY
from contigmap.render.static import INDICATOR_TITLES, render_static_map

__all__ = ["TOWNSHIP_MAP_SIZE_IN", "render_township_maps", "township_map_column"]

logger = logging.getLogger(__name__)

TOWNSHIP_MAP_SIZE_IN: Final[tuple[float, float]] = (9.0, 5.6)
"""Width and height of a township map (inches): it shares an A4 page with the township's table."""


def township_map_column(villages: gpd.GeoDataFrame) -> tuple[str, str, str] | None:
    """Return the column a township map colours by, with its Chinese and English theme.

    The first registered intervention with a ``<name>_tier`` column (its budget tiers say
    what is funded first), else poverty incidence; ``None`` when neither is present.
    """
    for key, iv in REGISTRY.items():
        if f"{key}_tier" in villages.columns:
            return f"{key}_tier", f"{iv.label_zh}项目优先级", f"{key} priority tiers"
    if "poverty_incidence" in villages.columns:
        zh, en = INDICATOR_TITLES["poverty_incidence"]
        return "poverty_incidence", zh, en.lower()
    return None


def _roads_within(roads: gpd.GeoDataFrame | None,
                  area: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Return the roads that cross ``area`` (in the roads' own CRS), by the spatial index."""
    if roads is None or not len(roads) or roads.crs is None:
        return roads
    shape = area.to_crs(roads.crs).geometry.union_all()
    hit = roads.sindex.query(shape, predicate="intersects")
    return roads.iloc[sorted(hit)]


def render_township_maps(
    out_dir: Path,
    *,
    villages: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | None = None,
    region_title: str = "",
    illustrative: bool = False,
    source_note: str = "",
    dpi: int = 120,
) -> dict[str, Path]:
    """Draw ``<township_id>.png`` for every township that has villages.

    Parameters
    ----------
    out_dir
        Folder for the PNGs (created).
    villages
        Village points with ``township_id`` and the column of :func:`township_map_column`.
    townships
        Township polygons with ``township_id`` (and ``name`` for the title).
    roads
        Road lines (``surface``, ``road_class``), optional.
    region_title
        The county's name, put before the township's in the title.
    illustrative, source_note, dpi
        As in :func:`contigmap.render.static.render_static_map`.

    Returns
    -------
    dict[str, pathlib.Path]
        ``{township_id: png}``; empty when the villages or townships lack what a map needs.
    """
    theme = township_map_column(villages)
    if theme is None or "township_id" not in villages.columns \
            or "township_id" not in townships.columns or villages.crs is None:
        return {}
    column, theme_zh, theme_en = theme
    town_ids = townships["township_id"].astype(str)
    vil_town = villages["township_id"].astype(str)
    out: dict[str, Path] = {}
    for tid in sorted(set(town_ids) & set(vil_town)):
        town = townships[town_ids == tid]
        here = villages[vil_town == tid]
        name = str(town["name"].iloc[0]) if "name" in town.columns else tid
        out[tid] = render_static_map(
            Path(out_dir) / f"{tid}.png", villages=here, column=column,
            title=f"{region_title} {name} {theme_zh}".strip(),
            title_en=f"{tid}: {theme_en}",
            boundaries={"county": town, "townships": town}, roads=_roads_within(roads, town),
            label_count=len(here), illustrative=illustrative, source_note=source_note,
            dpi=dpi, figsize_in=TOWNSHIP_MAP_SIZE_IN, outline_label=("乡镇界", "township"),
        )
    logger.info("township maps: %d drawn in %s", len(out), out_dir)
    return out

