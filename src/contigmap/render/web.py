"""The interactive HTML map: villages, roads and boundaries on a Leaflet map via folium.

One switchable village layer per indicator (poverty incidence, travel times, priority
tiers; see :mod:`contigmap.render.legend`), villages sized by poor people, roads by
surface and class, county and township boundaries, any number of extra vector or
raster layers (:class:`MapLayer`), a legend per coloured layer, a search box and a
card per village.

Offline mode (the default) inlines Leaflet (vendored, see ``assets/README.md``) so the
file works with no network.

Folium (https://python-visualization.github.io/folium/) builds the page skeleton (map,
feature groups, layer control, tile and image layers); the features themselves are
drawn by small scripts (package files under ``assets/map/``) using Leaflet's
``L.geoJSON`` and ``L.circleMarker``, which keeps the file small and the escaping in
one place. No text from the data ever reaches a template engine: see
:mod:`contigmap.render.web_page`.

Modules: :mod:`~contigmap.render.web_page` (page, data slots, scripts, writing),
:mod:`~contigmap.render.web_popup` (village cards), :mod:`~contigmap.render.web_layers`
(village, road and boundary layers), :mod:`~contigmap.render.web_extra` (extra layers);
this one assembles them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.errors import ConfigError, ValidationError
from contigmap.gcpause import gc_paused
from contigmap.render._geo import checked
from contigmap.render.legend import IndicatorSpec, indicators_for
from contigmap.render.web_extra import MapLayer, extra_raster, extra_vector
from contigmap.render.web_guarantees import guarantees_indicator, with_guarantees
from contigmap.render.web_layers import (
    boundary_layers,
    road_layers,
    roads_legend,
    township_names,
    village_layers,
)
from contigmap.render.web_page import (
    MAX_MAP_BYTES,
    Ids,
    Page,
    Script,
    add_page_head,
    controls_js,
    panes_js,
    write_page,
)
from contigmap.render.web_popup import village_card_html
from contigmap.render.web_print import add_print_view, print_data
from contigmap.render.web_scenario import ScenarioViews, add_scenario_view
from contigmap.render.web_weights import add_weights_panel

__all__ = [
    "MAX_MAP_BYTES",
    "Basemap",
    "MapLayer",
    "build_web_map",
    "render_web_map",
    "village_card_html",
]

logger = logging.getLogger(__name__)

Basemap = Literal["none", "osm", "tianditu"]

COLLAPSE_LAYER_CONTROL_ABOVE: Final[int] = 12
"""With more switchable village and extra layers than this, the layer control opens on hover."""
_TIANDITU_KEY = re.compile(r"^[A-Za-z0-9]{8,64}$")


def _check_inputs(
    villages: gpd.GeoDataFrame, basemap: str, tianditu_key: str | None
) -> gpd.GeoDataFrame:
    """Refuse an unknown basemap, a Tianditu map without key, or unusable villages."""
    if basemap not in ("none", "osm", "tianditu"):
        msg = f"basemap must be one of 'none', 'osm', 'tianditu', got {basemap!r}"
        raise ConfigError(msg)
    if basemap == "tianditu" and (tianditu_key is None or not _TIANDITU_KEY.match(tianditu_key)):
        msg = (
            "basemap='tianditu' needs tianditu_key= (the letters and digits of a key from "
            "https://console.tianditu.gov.cn)"
        )
        raise ConfigError(msg)
    villages = checked(villages, "villages")
    if len(villages) == 0:
        msg = "layer 'villages' is empty; a map needs at least one village"
        raise ValidationError(msg)
    if "name" not in villages.columns:
        msg = "layer 'villages' has no 'name' column; map the village name column to 'name'"
        raise ValidationError(msg)
    return villages


def _bounds(
    villages: gpd.GeoDataFrame, boundaries: Mapping[str, gpd.GeoDataFrame]
) -> tuple[float, float, float, float]:
    """West, south, east, north (degrees) of the villages and the county boundary."""
    # the geometry column alone: reprojecting the frame would copy its every column
    ll_bounds = villages.geometry.to_crs(4326).total_bounds
    if "county" in boundaries and boundaries["county"].crs is not None:
        cb = boundaries["county"].geometry.to_crs(4326).total_bounds
        ll_bounds = np.array(
            [
                min(cb[0], ll_bounds[0]),
                min(cb[1], ll_bounds[1]),
                max(cb[2], ll_bounds[2]),
                max(cb[3], ll_bounds[3]),
            ]
        )
    west, south, east, north = (float(v) for v in ll_bounds)
    return west, south, east, north


def _new_map(ids: Ids, lat: float, lon: float) -> tuple[folium.Map, Page]:
    """Make an empty map centred on (lat, lon) and its page, which fills in the data slots."""
    m = ids(
        folium.Map(
            location=[lat, lon],
            zoom_start=10,
            tiles=None,
            control_scale=True,
            prefer_canvas=False,
            zoom_snap=0.25,
            zoom_delta=0.5,
        )
    )
    page = Page(ids.slots)
    page.add_child(m)  # the page fills the data slots in after folium rendered it
    m.default_js = []  # Leaflet comes from add_page_head (inlined or linked)
    m.default_css = []
    return m, page


def _add_basemap(
    m: folium.Map, ids: Ids, basemap: Basemap, tianditu_key: str | None, offline: bool
) -> None:
    """Add OpenStreetMap or Tianditu tiles (a warning when the map is meant for offline use)."""
    if basemap == "none":
        return
    if offline:
        logger.warning(
            "basemap=%r needs the network; the offline map shows no tiles without it", basemap
        )
    if basemap == "osm":
        ids(folium.TileLayer("OpenStreetMap", name="OpenStreetMap", control=True)).add_to(m)
        return
    base = "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
    tail = (
        "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk=" + str(tianditu_key)
    )
    for tile, overlay, label in (
        ("vec", False, "天地图 Tianditu"),
        ("cva", True, "天地图注记 Tianditu labels"),
    ):
        url = base.replace("{layer}", tile) + tail.format(layer=tile)
        ids(
            folium.TileLayer(
                tiles=url,
                attr="天地图 Tianditu",
                name=label,
                subdomains="01234567",
                overlay=overlay,
                max_zoom=18,
            )
        ).add_to(m)


def _add_extra_layers(
    m: folium.Map,
    ids: Ids,
    extra_layers: Sequence[MapLayer],
    simplify_m: float,
    precision: int,
    clip: gpd.GeoDataFrame | None = None,
) -> list[tuple[Sequence[Any], str]]:
    """Draw the extra layers (rasters clipped to ``clip``); return (layers, legend) pairs."""
    legends: list[tuple[Sequence[Any], str]] = []
    for layer in extra_layers:
        if layer.raster is not None:
            overlay, leg = extra_raster(m, ids, layer, clip)
            legends.append(([overlay], leg))
        else:
            fg, leg = extra_vector(m, ids, layer, simplify_m, precision)
            legends.append(([fg], leg))
    return legends


def build_web_map(
    *,
    villages: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | None = None,
    boundaries: Mapping[str, gpd.GeoDataFrame] | None = None,
    extra_layers: Sequence[MapLayer] | None = None,
    title: str,
    source_note: str,
    illustrative: bool,
    offline: bool = True,
    basemap: Basemap = "none",
    tianditu_key: str | None = None,
    indicators: Sequence[IndicatorSpec] | None = None,
    simplify_m: float = 10.0,
    precision: int = 5,
    facts: Sequence[tuple[str, str]] = (),
    scenarios: ScenarioViews | None = None,
    weights: Mapping[str, Any] | None = None,
    date: str | None = None,
    guarantees: pd.DataFrame | None = None,
) -> folium.Map:
    """Build the interactive map as a :class:`folium.Map` (see :func:`render_web_map`).

    Parameters
    ----------
    villages, roads, boundaries, extra_layers, title, source_note, illustrative, offline,
    basemap, tianditu_key, indicators, simplify_m, precision, facts, scenarios, weights, date,
    guarantees
        As in :func:`render_web_map`.

    Returns
    -------
    folium.Map
        The map; ``m.get_root().render()`` gives the page (the root fills in the data
        after folium rendered its templates, see :mod:`contigmap.render.web_page`).

    Raises
    ------
    ConfigError
        Unknown ``basemap``, or ``tianditu`` without a valid key.
    CRSError
        A layer without a CRS.
    ValidationError
        No villages, or a required column missing.
    """
    villages = _check_inputs(villages, basemap, tianditu_key)
    boundaries = dict(boundaries or {})
    extra_layers = list(extra_layers or ())
    ids = Ids()
    west, south, east, north = _bounds(villages, boundaries)
    m, page = _new_map(ids, (south + north) / 2, (west + east) / 2)
    add_page_head(page, ids.slots, title=title, offline=offline,
                  illustrative=illustrative, facts=facts)
    _add_basemap(m, ids, basemap, tianditu_key, offline)
    Script(panes_js(m.get_name())).add_to(m)

    boundary_layers(m, ids, boundaries, simplify_m, precision)
    legends: list[tuple[Sequence[Any], str]] = []
    if roads is not None and len(roads) > 0:
        legends.append((road_layers(m, ids, roads, simplify_m, precision), roads_legend(roads)))
    legends += _add_extra_layers(m, ids, extra_layers, simplify_m, precision,
                                 boundaries.get("county"))
    if guarantees is not None:
        villages = with_guarantees(villages, guarantees)
    if indicators is None:
        specs = indicators_for(list(villages.columns), villages)
    else:
        specs = indicators_for(list(villages.columns), villages, indicators)
    theme = guarantees_indicator(villages)
    if theme is not None:
        specs.append(theme)
    card_weights = {iv["iv"]: {c["name"]: float(c["w"]) for c in iv["criteria"]}
                    for iv in (weights or {}).get("ivs", [])}
    groups, vjs = village_layers(
        m, ids, villages, specs, township_names(villages, boundaries), precision, card_weights
    )
    Script(vjs).add_to(m)
    if weights:
        add_weights_panel(m, page, ids, dict(weights),
                          {s.column.removesuffix("_tier"): k for k, s in enumerate(specs)})
    legends[:0] = [([fg], html) for fg, html in groups]

    # a long list of layers would cover the map: fold it into the control's button then
    many = len(extra_layers) + len(groups) > COLLAPSE_LAYER_CONTROL_ABOVE
    ids(folium.LayerControl(collapsed=many, position="topright")).add_to(m)
    Script(controls_js(ids.slots, m.get_name(), legends, source_note, illustrative,
                       ids.groups)).add_to(m)
    if scenarios is not None:
        add_scenario_view(m, ids.slots, scenarios)
    add_print_view(m, page, ids, print_data(title=title, source_note=source_note,
                                            illustrative=illustrative, date=date,
                                            extent=((south, west), (north, east))))
    ids(folium.FitBounds([[south, west], [north, east]], padding=(30, 30))).add_to(m)
    return m


def render_web_map(
    out_html: Path | str,
    *,
    villages: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | None = None,
    boundaries: Mapping[str, gpd.GeoDataFrame] | None = None,
    extra_layers: Sequence[MapLayer] | None = None,
    title: str,
    source_note: str,
    illustrative: bool,
    offline: bool = True,
    basemap: Basemap = "none",
    tianditu_key: str | None = None,
    indicators: Sequence[IndicatorSpec] | None = None,
    simplify_m: float = 10.0,
    precision: int = 5,
    facts: Sequence[tuple[str, str]] = (),
    scenarios: ScenarioViews | None = None,
    weights: Mapping[str, Any] | None = None,
    date: str | None = None,
    guarantees: pd.DataFrame | None = None,
) -> Path:
    """Write the interactive village map as one HTML file (atomically).

    Parameters
    ----------
    out_html
        Where to write; parent folders are created.
    villages
        Village points or polygons, any CRS, with ``name`` and ideally ``village_id``,
        ``township_id``, ``pop``, ``poor_pop``, ``poverty_incidence`` (0–1),
        ``main_causes``, ``tt_<destination>_min`` and ``<intervention>_tier`` columns.
    roads
        Road lines with ``road_class`` and ``surface`` (:mod:`contigmap.schema`).
    boundaries
        Polygons by level: ``county``, ``townships`` (with ``name``), any other key.
    extra_layers
        Further vector or raster layers.
    title, source_note
        Shown on the map (escaped).
    illustrative
        Say on the map that the data are illustrative (示意数据).
    offline
        Inline every script and stylesheet so the map needs no network.
    basemap
        ``none`` (plain background), ``osm`` (OpenStreetMap tiles) or ``tianditu``.
    tianditu_key
        Tianditu key, needed for ``basemap="tianditu"``.
    indicators
        Village layer specs (default :data:`contigmap.render.legend.DEFAULT_INDICATORS`);
        one layer per spec whose column exists, plus one per ``*_tier`` column.
    simplify_m
        Display simplification tolerance for lines and polygons, in metres (0: none).
    precision
        Decimals kept in longitude and latitude (5 is about 1 m).
    facts
        Headline figures as (label, value) pairs, shown in a folding panel under the
        title (data text: escaped).
    scenarios
        Road scenarios for the before/after swipe view
        (:mod:`contigmap.render.web_scenario`).
    weights
        :func:`contigmap.render.web_weights.weights_data`: a panel of weight sliders
        that re-rank the villages live (``None``: no panel).
    date
        The build date shown on the print sheet (:mod:`contigmap.render.web_print`);
        ``None`` leaves its 日期 field blank. Passed as data so files stay reproducible.
    guarantees
        :func:`contigmap.priority.guarantees.guarantees` of the villages (by
        ``village_id``): a 两不愁三保障 village theme coloured by the guarantees met, with
        the unmet ones and their closing works on tooltip and card
        (:mod:`contigmap.render.web_guarantees`); ``None``: no such theme.

    Returns
    -------
    Path
        ``out_html``.
    """
    with gc_paused():
        m = build_web_map(
            villages=villages,
            roads=roads,
            boundaries=boundaries,
            extra_layers=extra_layers,
            title=title,
            source_note=source_note,
            illustrative=illustrative,
            offline=offline,
            basemap=basemap,
            tianditu_key=tianditu_key,
            indicators=indicators,
            simplify_m=simplify_m,
            precision=precision,
            facts=facts,
            scenarios=scenarios,
            weights=weights,
            date=date,
            guarantees=guarantees,
        )
        return write_page(m.get_root().render(), out_html, len(villages))
