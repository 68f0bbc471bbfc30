"""One small static map per township, for the township pages of the county report.

Each map is :func:`contigmap.render.static.render_static_map` on one township: the
township's outline is the frame, its villages are coloured by the first intervention's
budget tier (what the budget funds there first) and every village is named; the roads
drawn are those crossing the township. The county's roads are read and split into
drawable lines once (:class:`~contigmap.render.static_base.RoadLines`); each township
takes the ones its outline intersects, found with a shapely ``STRtree``, so a county
with many townships does not redraw the whole network each time.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
from shapely import STRtree

from contigmap.priority.registry import REGISTRY
from contigmap.render.static import INDICATOR_TITLES, map_base, render_static_map
from contigmap.render.static_base import MapBase
from contigmap.render.static_parts import prepared

__all__ = ["TOWNSHIP_MAP_SIZE_IN", "render_township_maps", "township_map_column"]

logger = logging.getLogger(__name__)

TOWNSHIP_MAP_SIZE_IN: Final[tuple[float, float]] = (9.0, 5.6)
"""Width and height of a township map (inches): it shares an A4 page with the township's table."""
_TOWN_OUTLINE: Final[tuple[str, str]] = ("乡镇界", "township")
"""Legend label of a township map's outline (Chinese, English)."""


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


def _township_base(region: MapBase, tree: Any, town: gpd.GeoDataFrame) -> MapBase:
    """Return the layers of one township's map: its outline and the roads crossing it.

    ``region`` holds the roads of the whole county (in the maps' CRS, ready to draw) and
    ``tree`` their spatial index; the township's roads are a subset, not a new layer.
    """
    roads = None
    if region.roads is not None:
        hit = np.unique(tree.query(town.geometry.union_all(), predicate="intersects"))
        roads = region.roads.subset(hit) if hit.size else None
    x0, y0, x1, y1 = town.geometry.total_bounds
    return replace(region, county=town, towns=town, roads=roads,
                   extent=(float(x0), float(y0), float(x1), float(y1)))


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
    base: MapBase | None = None,
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
    base
        The county maps' layers (:func:`contigmap.render.static.map_base` of ``villages``
        and ``roads``), when already prepared: their roads are drawn from it, so the
        county's road network is read once for every map (``roads`` is then not read).

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
    if base is None:
        region = map_base(villages, {"townships": townships}, roads, _TOWN_OUTLINE)
    else:
        region = replace(base, towns=prepared(townships, "boundaries.townships", base.crs),
                         outline_label=_TOWN_OUTLINE)
    assert region.towns is not None
    tree = STRtree(region.roads.geoms if region.roads is not None else [])
    town_ids = region.towns["township_id"].astype(str)
    vil_town = villages["township_id"].astype(str)
    out: dict[str, Path] = {}
    for tid in sorted(set(town_ids) & set(vil_town)):
        town = region.towns[town_ids == tid]
        here = villages[vil_town == tid]
        name = str(town["name"].iloc[0]) if "name" in town.columns else tid
        out[tid] = render_static_map(
            Path(out_dir) / f"{tid}.png", villages=here, column=column,
            title=f"{region_title} {name} {theme_zh}".strip(),
            title_en=f"{tid}: {theme_en}", base=_township_base(region, tree, town),
            label_count=len(here), illustrative=illustrative, source_note=source_note,
            dpi=dpi, figsize_in=TOWNSHIP_MAP_SIZE_IN,
        )
    logger.info("township maps: %d drawn in %s", len(out), out_dir)
    return out

