"""Maps of contigmap's results: the interactive HTML map (:mod:`contigmap.render.web`)."""

from __future__ import annotations

from contigmap.render.legend import DEFAULT_INDICATORS, Category, IndicatorSpec, tier_indicator
from contigmap.render.web import MapLayer, build_web_map, render_web_map, village_card_html

__all__ = [
    "DEFAULT_INDICATORS",
    "Category",
    "IndicatorSpec",
    "MapLayer",
    "build_web_map",
    "render_web_map",
    "tier_indicator",
    "village_card_html",
]
