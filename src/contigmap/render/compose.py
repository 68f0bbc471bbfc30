"""Which extra layers a region's web map shows, and how they look.

:func:`region_map_layers` turns what the stages produced (the loaded layers, the hamlet
table, the travel-time road layer) into :class:`~contigmap.render.web.MapLayer` objects,
so that the pipeline only passes them on to :func:`~contigmap.render.web.render_web_map`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.io.region import RegionData
from contigmap.priority.intervention import Intervention
from contigmap.priority.registry import REGISTRY
from contigmap.raster import Raster
from contigmap.relocation.run import RelocationPlan
from contigmap.render.legend import tier_basis, tier_indicator
from contigmap.render.web import MapLayer
from contigmap.render.web_scenario import (
    WORK_KINDS,
    ScenarioView,
    ScenarioViews,
    work_tooltip,
)
from contigmap.scenario import ScenarioResult
from contigmap.schema import SERVICE_KIND_ZH

__all__ = [
    "GAIN_CLASSES",
    "TRAVEL_TIME_CLASSES",
    "region_map_layers",
    "relocation_map_layers",
    "scenario_map_layers",
    "scenario_title",
    "scenario_views",
    "travel_time_class",
]

TRAVEL_TIME_CLASSES: tuple[tuple[float, str, str], ...] = (
    (15.0, "≤ 15 min", "#1a9850"),
    (30.0, "15–30 min", "#91cf60"),
    (60.0, "30–60 min", "#fee08b"),
    (120.0, "60–120 min", "#fc8d59"),
    (np.inf, "> 120 min", "#d73027"),
)
"""Upper bound (minutes), label and colour of each travel-time class on the map."""

GAIN_CLASSES: tuple[tuple[float, str, str], ...] = (
    (-30.0, "快30分钟以上 ≥ 30 min faster", "#1a9850"),
    (-10.0, "快10–30分钟 10–30 min faster", "#91cf60"),
    (-1.0, "快1–10分钟 1–10 min faster", "#d9ef8b"),
    (1.0, "基本不变 no change", "#e0e0e0"),
    (np.inf, "变慢 slower", "#d73027"),
)
"""Upper bound of the change in minutes to the own township seat, label and colour."""
_LOST = ("失去通达 lost access", "#67001f")

_SERVICE_COLOURS = {
    "county_seat": "#000000",
    "township_seat": "#4a1486",
    "health_centre": "#e7298a",
    "school": "#1f78b4",
    "market": "#ff7f00",
}

_HAZARD_ZH = {"flood": "洪涝区 Flood zones", "landslide": "滑坡易发性 Landslide susceptibility",
              "seismic": "地震 Seismic", "geo": "地质灾害易发区 Geohazard-prone zones",
              "geohazard": "地质灾害易发区 Geohazard-prone zones",
              "debris_flow": "泥石流 Debris flows", "collapse": "崩塌 Rock falls",
              "subsidence": "地面塌陷 Subsidence",
              "geo_points": "地质灾害隐患点 Geohazard sites",
              "points": "地质灾害隐患点 Geohazard sites"}
_ECOLOGY_ZH = {
    "redline": "生态保护红线 Ecological red line",
    "reserve": "自然保护区 Nature reserve",
    "forest": "公益林 Protected forest",
    "water_source": "水源保护区 Water-source protection zone",
}


def layer_title(data: RegionData, role: str, key: str) -> str:
    """Name of a hazard or ecology layer on the map: the manifest's ``title:``, else a known name.

    Known keys have a Chinese and English name (``flood``: 洪涝区 Flood zones,
    ``geo_points``: 地质灾害隐患点); any other key is shown as the manifest wrote it after
    the role's Chinese name (灾害隐患点：debris for ``debris_points``, 生态：wetland).
    """
    spec = getattr(data.config.layers, role).get(key)
    if spec is not None and spec.title:
        return str(spec.title)
    known, head = (_HAZARD_ZH, "灾害") if role == "hazards" else (_ECOLOGY_ZH, "生态")
    if key in known:
        return known[key]
    if key.endswith("_points"):
        return f"{head}隐患点：{key.removesuffix('_points')}"
    return f"{head}：{key}"


def travel_time_class(minutes: Sequence[float] | pd.Series) -> list[str]:
    """Label each travel time with its :data:`TRAVEL_TIME_CLASSES` class (``no route``: nan)."""
    values = np.asarray(minutes, dtype=float)
    labels = np.full(values.shape, "no route", dtype=object)
    lower = -np.inf
    for upper, label, _ in TRAVEL_TIME_CLASSES:
        labels[(values > lower) & (values <= upper)] = label
        lower = upper
    return [str(v) for v in labels]


def _travel_time_layer(edges: gpd.GeoDataFrame) -> MapLayer:
    shown = edges[["geometry"]].copy()
    shown["tt_class"] = travel_time_class(edges["tt_min"])
    shown["tt_min"] = edges["tt_min"].round(0)
    colours = {label: colour for _, label, colour in TRAVEL_TIME_CLASSES}
    colours["no route"] = "#999999"
    return MapLayer(
        # a road has no own township: nearest seat, named so (villages: TRAVEL_TIME_COLUMN)
        name="路段到最近乡镇驻地车行时间 Roads: travel time to the nearest township seat",
        data=shown,
        color_column="tt_class",
        color_map=colours,
        weight=3.0,
        tooltip_columns=["tt_min"],
        labels={"tt_min": "分钟 min"},
        legend=[(colour, label) for label, colour in colours.items()],
        show=False,
        group="network",
    )


def _services_layer(services: gpd.GeoDataFrame) -> MapLayer:
    shown = services[["name", "kind", "geometry"]].copy()
    shown["类型"] = shown["kind"].map(SERVICE_KIND_ZH).fillna(shown["kind"])
    return MapLayer(
        name="公共服务 Services",
        data=shown,
        color_column="kind",
        color_map=_SERVICE_COLOURS,
        radius=5.0,
        fill_opacity=0.9,
        tooltip_columns=["name", "类型"],
        labels={"name": "名称"},
        legend=[(c, SERVICE_KIND_ZH[k]) for k, c in _SERVICE_COLOURS.items()],
        show=False,
        group="network",
    )


def _polygon_layer(name: str, data: gpd.GeoDataFrame, colour: str) -> MapLayer:
    return MapLayer(name=name, data=data[["geometry"]].copy(), color=colour, fill_color=colour,
                    weight=0.5, fill_opacity=0.35, legend=[(colour, name)], show=False,
                    group="hazards")


def _hamlet_tier_layer(hamlets: gpd.GeoDataFrame, intervention: Intervention) -> MapLayer:
    """Hamlets coloured by the tier of an intervention that targets natural villages."""
    iv = intervention.name
    spec = tier_indicator(f"{iv}_tier", hamlets[f"{iv}_tier"], tier_basis(hamlets, f"{iv}_tier"))
    wanted = ["name", f"{iv}_tier", f"{iv}_option", f"{iv}_capex_cny", f"{iv}_reasons_zh"]
    cols = [c for c in wanted if c in hamlets.columns]
    shown = hamlets[[*cols, "geometry"]].copy()
    shown[f"{iv}_tier"] = shown[f"{iv}_tier"].astype("Int64").astype(str)
    if f"{iv}_capex_cny" in shown:
        shown[f"{iv}_capex_cny"] = shown[f"{iv}_capex_cny"].round(-2)
    # tier and option named as on the village cards (tier labels, the registry's options)
    named = {c.value: f"{c.label_zh} {c.label_en}".strip() for c in spec.categories}
    tier_text = shown[f"{iv}_tier"].map(named)
    popup = [c if c != f"{iv}_tier" else "tier_text" for c in cols]
    shown["tier_text"] = tier_text
    if f"{iv}_option" in shown:
        shown[f"{iv}_option"] = [None if pd.isna(k) else intervention.option_label(str(k))
                                 for k in shown[f"{iv}_option"]]
    return MapLayer(
        name=f"自然村：{spec.label_zh} Hamlets: {spec.label_en}",
        data=shown,
        color_column=f"{iv}_tier",
        color_map={c.value: c.color for c in spec.categories},
        radius=3.5,
        fill_opacity=0.85,
        tooltip_columns=[c for c in ("name", f"{iv}_option") if c in shown],
        popup_columns=popup,
        labels={"name": "自然村", "tier_text": "优先等级", f"{iv}_option": "方案",
                f"{iv}_capex_cny": "投资（元）", f"{iv}_reasons_zh": "理由"},
        legend=[(c.color, f"{c.label_zh} {c.label_en}") for c in spec.categories],
        show=False,
        group="interv",
        share="hamlets",
    )


def region_map_layers(
    data: RegionData,
    *,
    hamlets: gpd.GeoDataFrame | None = None,
    travel_time_roads: gpd.GeoDataFrame | None = None,
) -> list[MapLayer]:
    """Extra web-map layers for a region: travel times, services, hamlets, hazards, ecology.

    Parameters
    ----------
    data
        The loaded region.
    hamlets
        The hamlet table (drawn as small points with their name and people, and coloured
        by the tier of each hamlet-level intervention of
        :data:`contigmap.priority.registry.REGISTRY` whose ``<name>_tier`` column it has).
    travel_time_roads
        Road edges with ``tt_min`` (:func:`contigmap.network.travel_time_edges`).

    Returns
    -------
    list of MapLayer
        All switched off when the map opens, except none: the village layers lead.
    """
    layers: list[MapLayer] = []
    if travel_time_roads is not None:
        layers.append(_travel_time_layer(travel_time_roads))
    if data.services is not None:
        layers.append(_services_layer(data.services))
    for iv in REGISTRY.values():
        if iv.unit == "hamlet" and hamlets is not None and f"{iv.name}_tier" in hamlets.columns:
            layers.append(_hamlet_tier_layer(hamlets, iv))
    if hamlets is not None:
        cols = [c for c in ("name", "pop") if c in hamlets.columns]
        layers.append(MapLayer(name="自然村 Hamlets", data=hamlets[[*cols, "geometry"]].copy(),
                               color="#555555", radius=2.0, fill_opacity=0.6,
                               tooltip_columns=cols, labels={"name": "名称", "pop": "人口"},
                               show=False, group="base", share="hamlets"))
    for name, layer in data.hazards.items():
        label = layer_title(data, "hazards", name)
        if isinstance(layer, Raster):
            layers.append(MapLayer(name=label, raster=layer, show=False, vmin=0.0, vmax=1.0,
                                   group="hazards"))
        else:
            layers.append(_polygon_layer(label, layer, "#2b8cbe"))
    for name, layer in data.ecology.items():
        colour = "#238b45" if name == "redline" else "#66c2a4"
        layers.append(_polygon_layer(layer_title(data, "ecology", name), layer, colour))
    return layers


_DECISION_COLOURS = {"relocate": "#b2182b", "stay": "#fddbc7"}


def relocation_map_layers(plan: RelocationPlan) -> list[MapLayer]:
    """Relocation candidates with reasons, receiving sites with loads, and origin→site flows.

    Parameters
    ----------
    plan
        The relocation stage's result.

    Returns
    -------
    list of MapLayer
        Candidates (coloured by decision), sites (with capacity and load), flows.
    """
    layers: list[MapLayer] = []
    cand = plan.candidates
    if len(cand):
        cols = [c for c in ("name", "pop", "reloc_decision", "reloc_reasons_zh",
                            "reloc_margin_cny", "reloc_site_ids") if c in cand.columns]
        shown = cand[[*cols, "geometry"]].copy()
        if "reloc_margin_cny" in shown:
            shown["reloc_margin_cny"] = shown["reloc_margin_cny"].round(-3)
        layers.append(MapLayer(
            name="搬迁候选点 Relocation candidates", data=shown, color_column="reloc_decision",
            color_map=_DECISION_COLOURS, radius=4.5, fill_opacity=0.9,
            tooltip_columns=[c for c in ("name", "reloc_decision") if c in shown],
            popup_columns=cols,
            labels={"name": "名称", "pop": "人口", "reloc_decision": "建议",
                    "reloc_reasons_zh": "理由", "reloc_margin_cny": "搬迁比就地建设节省（元）",
                    "reloc_site_ids": "安置点"},
            legend=[("#b2182b", "建议搬迁 relocate"), ("#fddbc7", "就地改善 serve in place")],
            show=False, group="reloc",
        ))
    sites = plan.sites
    if len(sites):
        layers.append(_sites_layer(sites))
    flows = plan.flows
    if len(flows):
        cols = [c for c in ("origin_name", "site_name", "people", "travel_time_min")
                if c in flows.columns]
        layers.append(MapLayer(
            name="搬迁流向 Relocation flows", data=flows[[*cols, "geometry"]].copy(),
            color="#2166ac", weight=2.0, opacity=0.7, dash_array="6 4", tooltip_columns=cols,
            labels={"origin_name": "迁出", "site_name": "迁入", "people": "人数",
                    "travel_time_min": "车程（分钟）"},
            legend=[("#2166ac", "迁出 → 安置点 origin → site")], show=False, group="reloc",
        ))
    return layers


def bus_line_layers(extra: Mapping[str, pd.DataFrame]) -> list[MapLayer]:
    """Map the designed shuttle-bus lines and their stops (the bus intervention's extras).

    Parameters
    ----------
    extra
        ``PriorityResults.extra``: ``bus_lines`` (lines) and ``bus_stops`` (points) when
        the bus intervention ran and designed any line.

    Returns
    -------
    list of MapLayer
        Lines with length, buses, people served and yearly operating cost; stops with
        the village served and its walk. Empty without lines.
    """
    lines = extra.get("bus_lines")
    if not isinstance(lines, gpd.GeoDataFrame) or not len(lines):
        return []
    shown = lines[["line_id", "length_m", "vehicles", "served_villages", "served_people",
                   "served_poor", "yearly_opex_cny", "geometry"]].copy()
    shown["length_km"] = (shown.pop("length_m") / 1000.0).round(1)
    shown["yearly_opex_wan"] = (shown.pop("yearly_opex_cny") / 1e4).round(1)
    cols = ["line_id", "length_km", "vehicles", "served_villages", "served_people",
            "served_poor", "yearly_opex_wan"]
    layers = [MapLayer(
        name="通客车线路 Bus lines", data=shown[[*cols, "geometry"]], color="#7b3294",
        weight=3.5, opacity=0.85, tooltip_columns=["line_id", "served_people", "length_km"],
        popup_columns=cols,
        labels={"line_id": "线路", "length_km": "线路长度（公里）", "vehicles": "车辆（辆）",
                "served_villages": "服务村数", "served_people": "服务人口",
                "served_poor": "服务贫困人口", "yearly_opex_wan": "年运营费（万元）"},
        legend=[("#7b3294", "设计客运班线 designed bus line")], show=False, group="interv",
    )]
    stops = extra.get("bus_stops")
    if isinstance(stops, gpd.GeoDataFrame) and len(stops):
        stop_cols = [c for c in ("stop_id", "line_id", "village_id", "walk_m") if c in stops]
        layers.append(MapLayer(
            name="招呼站 Bus stops", data=stops[[*stop_cols, "geometry"]].copy(),
            color="#7b3294", radius=3.5, fill_opacity=1.0, tooltip_columns=stop_cols,
            labels={"stop_id": "站点", "line_id": "线路", "village_id": "服务村代码",
                    "walk_m": "步行距离（米）"},
            legend=[("#7b3294", "招呼站 stop")], show=False, group="interv",
        ))
    return layers


_SITE_USED = ("已安置 used", "#2166ac")
_SITE_UNUSED = ("未安置 unused", "#969696")


def _sites_layer(sites: gpd.GeoDataFrame) -> MapLayer:
    """Receiving sites: used ones filled blue, those with nobody assigned hollow grey."""
    cols = [c for c in ("site_name", "site_kind", "capacity_people", "load_people")
            if c in sites.columns]
    shown = sites[[*cols, "geometry"]].copy()
    load = (pd.to_numeric(shown["load_people"], errors="coerce").fillna(0.0)
            if "load_people" in shown else pd.Series(0.0, index=shown.index))
    shown["site_use"] = np.where(load > 0, _SITE_USED[0], _SITE_UNUSED[0])
    tips = [c for c in ("site_name", "site_use", "load_people") if c in shown]
    return MapLayer(
        name="安置点 Receiving sites", data=shown, color_column="site_use",
        color_map=dict([_SITE_USED, _SITE_UNUSED]), fill_opacity_map={_SITE_UNUSED[0]: 0.0},
        color=_SITE_USED[1], weight=2.0, radius=7.0, fill_opacity=0.9, tooltip_columns=tips,
        popup_columns=[*cols, "site_use"],
        labels={"site_name": "安置点", "site_kind": "类型", "capacity_people": "容量（人）",
                "load_people": "安置人数", "site_use": "使用情况"},
        legend=[(_SITE_USED[1], "安置点 receiving site（已安置 used）"),
                (_SITE_UNUSED[1], "未安置 unused（无人安置，空心 hollow）")],
        show=False, group="reloc",
    )


def _gain_class(delta_min: pd.Series, lost: pd.Series) -> list[str]:
    values = delta_min.to_numpy(dtype=float)
    labels = np.full(values.shape, GAIN_CLASSES[-1][1], dtype=object)
    for upper, label, _ in reversed(GAIN_CLASSES):
        labels[values <= upper] = label
    labels[lost.to_numpy(dtype=bool)] = _LOST[0]
    labels[~np.isfinite(values) & ~lost.to_numpy(dtype=bool)] = GAIN_CLASSES[3][1]
    return [str(v) for v in labels]


def scenario_title(result: ScenarioResult) -> str:
    """Return the Chinese name of a result's scenario (its ``label_zh``, else its ``name``)."""
    sc = result.scenario
    return str(getattr(sc, "label_zh", None) or getattr(sc, "name", ""))


def _change_text(delta: float, lost: bool) -> str:
    if lost:
        return "失去通达 cut off"
    if not np.isfinite(delta):
        return "不变 no change"
    if round(delta) == 0:
        return "基本不变 no change (±1 分钟)"
    word = "快 {:,.0f} 分钟 faster" if delta < 0 else "慢 {:,.0f} 分钟 slower"
    return word.format(abs(delta))


def _works(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the works: ``kind``, ``label``, ``length_m``, ``cost_cny`` and tooltip ``说明``."""
    n = len(roads)
    kind = (roads["change_type"].astype(str) if "change_type" in roads
            else pd.Series("upgrade", index=roads.index))
    label = roads["label"] if "label" in roads else pd.Series([None] * n, index=roads.index)
    length = (roads["length_m"] if "length_m" in roads
              else pd.Series(roads.geometry.length.to_numpy(float), index=roads.index))
    cost = roads["cost_cny"] if "cost_cny" in roads else pd.Series(np.nan, index=roads.index)
    out = gpd.GeoDataFrame({"kind": kind, "label": label, "length_m": length, "cost_cny": cost},
                           geometry=roads.geometry, crs=roads.crs)
    out["说明"] = [work_tooltip(k, lb, ln, c)
                 for k, lb, ln, c in zip(kind, label, length, cost, strict=True)]
    return out


_WORK_STYLE: dict[str, dict[str, Any]] = {
    "build": {"color": "#e60012", "weight": 5.0, "dash_array": "14 8"},
    "upgrade": {"color": "#e60012", "weight": 4.0, "dash_array": "6 5"},
    "close": {"color": "#111111", "weight": 5.0, "dash_array": "2 7"},
    "bus": {"color": "#1f5fbf", "weight": 3.5, "dash_array": None},
}


def scenario_map_layers(results: Sequence[ScenarioResult]) -> list[MapLayer]:
    """Map layers per scenario: villages by their change, then one layer per kind of work.

    Villages are coloured by the change in travel time to their own township seat
    (:data:`GAIN_CLASSES`), their tooltip says it in minutes; works are drawn as planned
    roads on a 规划图 (new and upgraded roads red and dashed, closed roads black and
    dotted, bus lines blue) with kind, length in km and cost in 万元 on hover. Layers are
    named by the scenario's Chinese name; the first scenario's are shown when the map opens.
    """
    layers: list[MapLayer] = []
    colours = {label: colour for _, label, colour in GAIN_CLASSES}
    colours[_LOST[0]] = _LOST[1]
    for k, r in enumerate(results):
        title = scenario_title(r)
        v = r.villages
        delta = v.get("d_tt_own_township_seat_min", pd.Series(np.nan, index=v.index))
        lost = v.get("lost_access", pd.Series(False, index=v.index)).fillna(False).astype(bool)
        shown = gpd.GeoDataFrame(
            {"name": v["name"] if "name" in v else v["village_id"],
             "change": _gain_class(delta, lost),
             "到乡镇驻地时间变化": [_change_text(d, b) for d, b in
                           zip(delta.to_numpy(float), lost.to_numpy(bool), strict=True)]},
            geometry=v.geometry, crs=v.crs,
        )
        layers.append(MapLayer(
            name=f"情景 {title}：村 villages", data=shown, color_column="change",
            color_map=colours, radius=5.0, fill_opacity=0.9,
            tooltip_columns=["name", "到乡镇驻地时间变化"], labels={"name": "村"},
            legend=[(c, label) for label, c in colours.items()], show=(k == 0), group="scen",
        ))
        if not len(r.changed_roads):
            continue
        works = _works(r.changed_roads)
        for kind, style in _WORK_STYLE.items():
            part = works[works["kind"] == kind]
            if not len(part):
                continue
            layers.append(MapLayer(
                name=f"情景 {title}：{WORK_KINDS[kind]}", data=part[["说明", "geometry"]].copy(),
                color=style["color"], weight=style["weight"], dash_array=style["dash_array"],
                opacity=0.95, tooltip_columns=["说明"], show=(k == 0),
                legend=[(style["color"], f"{WORK_KINDS[kind]}（{len(part)} 段）")],
                group="scen",
            ))
    return layers


def scenario_views(results: Sequence[ScenarioResult], *,
                   open_view: bool = False) -> ScenarioViews:
    """Return the before/after view of the scenarios (:mod:`contigmap.render.web_scenario`).

    Travel times are to the own township seat, before (``tt_own_township_seat_min_base``)
    and after (``tt_own_township_seat_min``); the headline numbers are the summary's
    ``poor_gaining``, ``pop_lost_access``, ``villages_lost_access`` and ``cost_cny``.
    """
    views = []
    for r in results:
        v = r.villages
        nan = pd.Series(np.nan, index=v.index)
        pts = gpd.GeoDataFrame(
            {"name": v["name"] if "name" in v else v["village_id"],
             "tt_before": v.get("tt_own_township_seat_min_base", nan),
             "tt_after": v.get("tt_own_township_seat_min", nan)},
            geometry=v.geometry, crs=v.crs)
        s = getattr(r, "summary", {}) or {}
        views.append(ScenarioView(
            key=str(getattr(r.scenario, "name", "")), title=scenario_title(r),
            poor_gaining=float(s.get("poor_gaining", 0.0)),
            pop_lost_access=float(s.get("pop_lost_access", 0.0)),
            villages_lost_access=int(s.get("villages_lost_access", 0)),
            cost_cny=float(s.get("cost_cny", 0.0)),
            villages=pts, works=_works(r.changed_roads)))
    return ScenarioViews(views, TRAVEL_TIME_CLASSES, open_view=open_view)
