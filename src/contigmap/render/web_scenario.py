"""The web map's before/after view of road scenarios: a swipe between two states.

Two map panes hold the same villages coloured by their travel time to the own township
seat, one before (the baseline, left of the swipe line) and one after the scenario (right
of it); dragging the line reveals more of either. The scenario's works are drawn on the
"after" side as on a Chinese 规划图: new roads red and dashed, upgraded roads red and dashed
on a pale casing, closed roads black and dotted, bus lines blue with white stops. A panel
names the scenario in Chinese, gives its headline numbers (poor people gaining, people cut
off, cost in 万元) and switches between scenarios and the comparison on and off.

All data reach the page as JSON through :class:`~contigmap.render.web_page.Slots`; text
shown as HTML is escaped first (see :mod:`contigmap.render.web_page`). The swipe is the
package's own script (``assets/map/scenario.js``), so the map stays offline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import folium
import geopandas as gpd
import numpy as np
from shapely.geometry import mapping

from contigmap.finance import fmt_wan
from contigmap.render.web_page import Page, Raw, Script, Slots, is_missing, map_script, text

__all__ = [
    "WORK_KINDS",
    "ScenarioView",
    "ScenarioViews",
    "add_scenario_view",
    "minutes_text",
    "scenario_data",
    "wan_yuan",
    "work_tooltip",
]

WORK_KINDS: dict[str, str] = {
    "build": "新建道路 new road",
    "upgrade": "改建/硬化 upgraded road",
    "close": "中断路段 closed road",
    "bus": "公交线路 bus line",
}
"""The kinds of scenario works, with the label their legend rows and tooltips show."""


def wan_yuan(cny: float) -> str:
    """Format yuan as 万元 with thousands separators and one decimal (``1,234.5 万元``)."""
    return f"{fmt_wan(cny, 1)} 万元"


def minutes_text(minutes: float | None) -> str:
    """Format a travel time for people: ``45 分钟`` (rounded), ``不通 no route`` when none."""
    if minutes is None or not math.isfinite(minutes):
        return "不通 no route"
    return f"{minutes:,.0f} 分钟"


@dataclass(frozen=True)
class ScenarioView:
    """One scenario as the before/after view shows it.

    Attributes
    ----------
    key
        The scenario's ASCII name (the slug of its files).
    title
        Its Chinese name (data text: escaped).
    poor_gaining, pop_lost_access, cost_cny
        Headline numbers: poor people who gain, people who lose access to their township
        seat, and the cost in yuan.
    villages_lost_access
        Villages that lose access.
    villages
        Village points with ``name``, ``tt_before`` and ``tt_after`` (minutes to the own
        township seat; nan or inf: no route), any CRS.
    works
        The changed roads and bus lines with ``kind`` (a key of :data:`WORK_KINDS`),
        ``label``, ``length_m`` and ``cost_cny``, any CRS.
    """

    key: str
    title: str
    poor_gaining: float
    pop_lost_access: float
    villages_lost_access: int
    cost_cny: float
    villages: gpd.GeoDataFrame
    works: gpd.GeoDataFrame


@dataclass(frozen=True)
class ScenarioViews:
    """What :func:`~contigmap.render.web.render_web_map` needs for the before/after view.

    Attributes
    ----------
    views
        The scenarios, the first shown first.
    classes
        Travel-time classes: (upper bound in minutes, label, colour), ascending.
    open_view
        Show the comparison when the map opens (else the panel offers it).
    """

    views: Sequence[ScenarioView]
    classes: Sequence[tuple[float, str, str]]
    open_view: bool = False


def _minutes(value: Any) -> float | None:
    if is_missing(value) or not math.isfinite(float(value)):
        return None
    return round(float(value), 1)


def _village_rows(villages: gpd.GeoDataFrame, precision: int) -> list[list[Any]]:
    pts = villages.geometry.to_crs(4326)
    rows = []
    for (_, rec), pt in zip(villages.iterrows(), pts, strict=True):
        if pt is None or pt.is_empty:
            continue
        c = pt.centroid
        rows.append([round(c.y, precision), round(c.x, precision), text(rec["name"]),
                     _minutes(rec["tt_before"]), _minutes(rec["tt_after"])])
    return rows


def work_tooltip(kind: str, label: Any, length_m: Any, cost_cny: Any) -> str:
    """One line about a work: kind, label, length in km and cost in 万元 (plain text)."""
    parts = [WORK_KINDS.get(kind, kind)]
    if not is_missing(label) and str(label):
        parts.append(str(label))
    if not is_missing(length_m) and float(length_m) > 0:
        parts.append(f"{float(length_m) / 1000:,.1f} 公里 km")
    if not is_missing(cost_cny) and float(cost_cny) > 0:
        parts.append(wan_yuan(float(cost_cny)))
    return " · ".join(parts)


def _works_json(works: gpd.GeoDataFrame, precision: int) -> dict[str, Any]:
    feats = []
    if len(works):
        geoms = works.geometry.to_crs(4326)
        for (_, rec), g in zip(works.iterrows(), geoms, strict=True):
            if g is None or g.is_empty:
                continue
            feats.append({"type": "Feature", "geometry": _rounded(mapping(g), precision),
                          "properties": {"k": str(rec["kind"]),
                                         "t": text(work_tooltip(str(rec["kind"]), rec.get("label"),
                                                                rec.get("length_m"),
                                                                rec.get("cost_cny")))}})
    return {"type": "FeatureCollection", "features": feats}


def _rounded(geo: Any, precision: int) -> Any:
    if isinstance(geo, dict):
        return {k: _rounded(v, precision) for k, v in geo.items()}
    if isinstance(geo, list | tuple):
        return [_rounded(v, precision) for v in geo]
    if isinstance(geo, float | np.floating):
        return round(float(geo), precision)
    return geo


def _facts(view: ScenarioView) -> list[list[Any]]:
    """(label, shown text, raw value) of the headline numbers."""
    cut = f"{view.pop_lost_access:,.0f} 人（{view.villages_lost_access} 个村）"
    return [
        ["受益贫困人口 poor people gaining", f"{view.poor_gaining:,.0f} 人", view.poor_gaining],
        ["失去通达 people cut off", cut, view.pop_lost_access],
        ["投资 cost", wan_yuan(view.cost_cny), round(view.cost_cny / 1e4, 1)],
    ]


def scenario_data(views: Sequence[ScenarioView], classes: Sequence[tuple[float, str, str]],
                  *, open_view: bool, precision: int = 5) -> dict[str, Any]:
    """Return the JSON the script reads: classes, works' labels and each scenario (text escaped)."""
    return {
        "open": open_view,
        "classes": [[None if not math.isfinite(u) else u, text(label), colour]
                    for u, label, colour in classes],
        "kinds": {k: text(v) for k, v in WORK_KINDS.items()},
        "sc": [{"k": text(v.key), "t": text(v.title),
                "f": [[text(a), text(b), c] for a, b, c in _facts(v)],
                "v": _village_rows(v.villages, precision),
                "w": _works_json(v.works, precision)} for v in views],
    }


def add_scenario_view(m: folium.Map, slots: Slots, scenarios: ScenarioViews) -> None:
    """Add the before/after swipe, its panel and its stylesheet to a map.

    Parameters
    ----------
    m
        The map (its page root must be a :class:`~contigmap.render.web_page.Page`).
    slots
        The page's data slots.
    scenarios
        The scenarios, their travel-time classes and whether the view opens shown.
    """
    if not scenarios.views:
        return
    css = resources.files("contigmap.render").joinpath("assets", "map", "scenario.css")
    root = m.get_root()
    assert isinstance(root, Page)
    root.header.add_child(Raw(f"<style>{css.read_text(encoding='utf-8')}</style>"),
                                  name="contigmap_scenario_css")
    data = slots.json(scenario_data(scenarios.views, scenarios.classes,
                                    open_view=scenarios.open_view))
    Script(map_script("scenario.js", map=m.get_name(), data=data)).add_to(m)
