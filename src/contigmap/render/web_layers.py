"""The web map's base layers: villages by indicator, roads by surface and class, boundaries.

Each function adds folium feature groups to the map and the scripts that draw their
features (``assets/map/villages.js``, ``geojson.js``, ``labels.js``); every data value
goes through the page's :class:`~contigmap.render.web_page.Slots`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from contigmap.errors import ValidationError
from contigmap.priority.registry import REGISTRY
from contigmap.render._geo import checked, metric_crs
from contigmap.render.legend import IndicatorSpec, legend_html, swatch_legend_html
from contigmap.render.web_geojson import geojson_geometries
from contigmap.render.web_guarantees import GUARANTEES_COLUMN, guarantee_tooltip
from contigmap.render.web_page import Ids, Script, Slots, is_missing, map_script, text
from contigmap.render.web_popup import village_card_html
from contigmap.schema import ROAD_CLASS_ZH, ROAD_CLASSES, SURFACE_ZH

__all__ = [
    "BOUNDARY_STYLES",
    "CLASS_WIDTH_PX",
    "FOOTPATH_COLOR",
    "R_MAX_PX",
    "R_MIN_PX",
    "SURFACE_COLORS",
    "SURFACE_LAYER_NAMES",
    "add_geojson",
    "boundary_layers",
    "card_totals_weights",
    "display_geoms",
    "feature_collection",
    "road_layers",
    "roads_legend",
    "search_keys",
    "township_names",
    "village_layers",
]

logger = logging.getLogger(__name__)

SURFACE_COLORS: Final[dict[str, str]] = {
    "paved": "#2b2b2b",
    "gravel": "#a0522d",
    "earth": "#c8a165",
}
FOOTPATH_COLOR: Final[str] = "#6b8e23"
CLASS_WIDTH_PX: Final[dict[str, float]] = {
    "expressway": 5.0,
    "national": 4.5,
    "provincial": 4.0,
    "county": 3.2,
    "township": 2.4,
    "village": 1.8,
    "track": 1.3,
    "path": 1.2,
}
BOUNDARY_STYLES: Final[dict[str, dict[str, Any]]] = {
    "county": {"color": "#3f007d", "weight": 3.0, "opacity": 0.85, "fill": False},
    "townships": {"color": "#807dba", "weight": 1.6, "opacity": 0.9, "dashArray": "6 4",
                  "fillColor": "#ffffff", "fillOpacity": 0.0},
    "other": {"color": "#777777", "weight": 1.0, "opacity": 0.8, "fillOpacity": 0.0},
}
"""Leaflet styles of the boundary levels (the web map's and ``contigmap serve``'s)."""
SURFACE_LAYER_NAMES: Final[dict[str, tuple[str, str]]] = {
    "paved": ("硬化道路", "Paved roads"),
    "gravel": ("砂石道路", "Gravel roads"),
    "earth": ("土路", "Earth roads"),
    "path": ("步道", "Footpaths"),
}


R_MIN_PX: Final[float] = 3.0
R_MAX_PX: Final[float] = 11.0
"""Village marker radius range in pixels; the area grows with poor people (sqrt scale)."""


def display_geoms(gdf: gpd.GeoDataFrame, simplify_m: float, precision: int) -> gpd.GeoSeries:
    """Geometries simplified in metres, in EPSG:4326, coordinates rounded."""
    geoms = gdf.geometry
    if simplify_m > 0 and not (geoms.geom_type.isin(["Point", "MultiPoint"])).all():
        metric = metric_crs(gdf)
        geoms = geoms.to_crs(metric).simplify(simplify_m, preserve_topology=True)
    geoms = geoms.to_crs(4326)
    rounded = shapely.transform(geoms.to_numpy(), lambda xy: np.round(xy, precision))
    return gpd.GeoSeries(rounded, index=gdf.index, crs=4326)


def feature_collection(geoms: Iterable[Any], props: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Build a GeoJSON FeatureCollection, skipping empty geometries."""
    features = [
        {"type": "Feature", "geometry": g, "properties": p}
        for g, p in zip(geojson_geometries(geoms), props, strict=True)
        if g is not None
    ]
    return {"type": "FeatureCollection", "features": features}



def township_names(
    villages: gpd.GeoDataFrame, boundaries: Mapping[str, gpd.GeoDataFrame]
) -> list[str | None]:
    """Township name of each village (its own column, or looked up in the boundaries)."""
    for col in ("township", "township_name"):
        if col in villages.columns:
            return [None if is_missing(v) else str(v) for v in villages[col]]
    towns = boundaries.get("townships")
    if (
        towns is not None
        and "township_id" in villages.columns
        and {"township_id", "name"} <= set(towns.columns)
    ):
        lookup = {str(k): str(v) for k, v in zip(towns["township_id"], towns["name"], strict=True)}
        return [lookup.get(str(t)) for t in villages["township_id"]]
    return [None] * len(villages)


def _village_radius_px(villages: gpd.GeoDataFrame) -> tuple[list[float], str]:
    """Marker radius by poor people (area proportional), falling back to people."""
    for col in ("poor_pop", "pop"):
        if col in villages.columns:
            v = pd.to_numeric(villages[col], errors="coerce").to_numpy(dtype=float)
            if np.isfinite(v).any():
                vmax = float(np.nanmax(v)) or 1.0
                r = R_MIN_PX + (R_MAX_PX - R_MIN_PX) * np.sqrt(
                    np.clip(np.nan_to_num(v, nan=0.0), 0, None) / vmax
                )
                return [round(float(x), 1) for x in r], col
    return [6.0] * len(villages), ""


def card_totals_weights(
    villages: pd.DataFrame,
) -> tuple[dict[str, int], dict[str, dict[str, float]]]:
    """Per intervention with a ``<iv>_rank`` column: units ranked, and criterion weights.

    A weight is read back from the ``<iv>_pts_<criterion>`` columns: both normalisations
    of :mod:`contigmap.priority.mcda` reach 1 at the largest value, so the largest points
    of a criterion are ``100 · wᵢ`` exactly. A criterion equal everywhere scores 0
    everywhere and shows no weight.
    """
    totals: dict[str, int] = {}
    weights: dict[str, dict[str, float]] = {}
    for iv in REGISTRY.values():
        rank = f"{iv.name}_rank"
        if rank not in villages.columns:
            continue
        totals[iv.name] = int(pd.to_numeric(villages[rank], errors="coerce").notna().sum())
        w = {}
        for c in iv.criteria:
            col = f"{iv.name}_pts_{c.name}"
            if col in villages.columns:
                top = float(pd.to_numeric(villages[col], errors="coerce").max())
                if np.isfinite(top) and top > 0:
                    w[c.name] = top / 100.0
        weights[iv.name] = w
    return totals, weights


def search_keys(names: Sequence[str], codes: Sequence[str],
                townships: Sequence[str | None]) -> list[str]:
    """Build what the search box matches per village: name, code, township, their pinyin.

    Pinyin (:func:`pypinyin.lazy_pinyin`, no tones) is given whole (``shibadongcun``)
    and as initials (``sbdc``), so a laptop without a Chinese input method finds a
    village too. Lower case, ``|``-separated.
    """
    from pypinyin import lazy_pinyin

    seen: dict[str, list[str]] = {}  # township names repeat: each read once

    def py(s: str) -> list[str]:
        if s not in seen:
            syl = [x.lower() for x in lazy_pinyin(s) if x.strip()]
            seen[s] = ["".join(syl), "".join(x[0] for x in syl)] if syl else []
        return seen[s]

    keys = []
    for n, c, t in zip(names, codes, townships, strict=True):
        parts = [n, c, t or "", *py(n), *(py(t) if t else [])]
        keys.append("|".join(p.lower() for p in parts if p))
    return keys


def village_layers(
    m: folium.Map,
    ids: Ids,
    villages: gpd.GeoDataFrame,
    specs: Sequence[IndicatorSpec],
    townships: Sequence[str | None],
    precision: int,
    card_weights: Mapping[str, Mapping[str, float]] | None = None,
) -> tuple[list[tuple[Any, str]], str]:
    """Village layers, one per indicator; returns (feature group, legend) pairs and JS.

    ``card_weights`` (``{intervention: {criterion: weight}}``, the configuration in use)
    gives the card's weight bars; without it they are read back from the points
    (:func:`card_totals_weights`), which cannot see a criterion equal everywhere.
    """
    pts = villages.geometry.to_crs(4326)
    pts = gpd.GeoSeries(
        [g if g.geom_type == "Point" else g.representative_point() for g in pts], crs=4326
    )
    radius, size_col = _village_radius_px(villages)
    records = villages.drop(columns=villages.geometry.name).to_dict("records")
    names = [("" if is_missing(r.get("name")) else str(r.get("name"))) for r in records]
    codes = [("" if is_missing(r.get("village_id")) else str(r.get("village_id")))
             for r in records]
    totals, weights = card_totals_weights(villages)
    weights.update({k: dict(v) for k, v in (card_weights or {}).items()})
    data = {
        "lat": [round(float(p.y), precision) for p in pts],
        "lon": [round(float(p.x), precision) for p in pts],
        "r": radius,
        "p": [village_card_html(r, township=t, totals=totals, weights=weights)
              for r, t in zip(records, townships, strict=True)],
        "n": [text(n) for n in names],
        "k": search_keys(names, codes, townships),
        "t": [
            text(n) + (f" <small>{text(t)}</small>" if t else "")
            for n, t in zip(names, townships, strict=True)
        ],
        "q": [f"{n}（{t}）" if t else n for n, t in zip(names, townships, strict=True)],
    }
    if not specs:  # no indicator column: one plain layer
        specs = [
            IndicatorSpec("__none__", "行政村", "Villages", breaks=(0.0, 1.0), colors=("#3182bd",))
        ]
    groups: list[tuple[Any, str]] = []
    layer_js = []
    for i, spec in enumerate(specs):
        fg = ids(
            folium.FeatureGroup(
                name=ids.slots.layer_name(f"村：{spec.label_zh} Villages: {spec.label_en}"),
                show=(i == 0),
            )
        )
        fg.add_to(m)
        if spec.column in villages.columns:
            colors = spec.color_of(villages[spec.column])
        else:
            colors = [spec.colors[0]] * len(villages)
        palette = sorted(set(colors))
        index = {c: k for k, c in enumerate(palette)}
        tips = ("" if spec.column != GUARANTEES_COLUMN else  # the theme's own tooltip line
                f",tt:{ids.slots.json([guarantee_tooltip(r) for r in records])}")
        layer_js.append(
            f"{{fg:{fg.get_name()},n:{ids.slots.json(f'{spec.label_zh} {spec.label_en}')},"
            f"pal:{ids.slots.json(palette)},"
            f"c:{ids.slots.json([index[c] for c in colors])}{tips}}}"
        )
        size_note = {
            "poor_pop": "<div class='cm-legend-note'>圆大小：贫困人口 "
            "<small>size: poor people</small></div>",
            "pop": "<div class='cm-legend-note'>圆大小：人口 <small>size: people</small></div>",
        }.get(size_col, "")
        leg = legend_html(spec) + size_note if spec.column != "__none__" else ""
        groups.append((fg, leg))
    code = map_script("villages.js", map=m.get_name(), data=ids.slots.json(data),
                      layers=",".join(layer_js))
    return groups, code


def add_geojson(
    m: folium.Map,
    slots: Slots,
    fg: Any,
    fc: dict[str, Any],
    styles: Sequence[dict[str, Any]],
    *,
    pane: str,
    class_name: str,
) -> None:
    """Draw a feature collection into ``fg`` when it is first shown (``geojson.js``)."""
    code = map_script(
        "geojson.js", styles=slots.json(list(styles)), features=slots.json(fc),
        group=fg.get_name(), pane=pane, class_name=class_name,
    )
    Script(code).add_to(m)


def road_layers(
    m: folium.Map,
    ids: Ids,
    roads: gpd.GeoDataFrame,
    simplify_m: float,
    precision: int,
) -> list[Any]:
    """Draw roads merged by class and surface, one layer per surface; return the layers."""
    roads = checked(roads, "roads")
    for col in ("road_class", "surface"):
        if col not in roads.columns:
            msg = (
                f"layer 'roads' has no {col!r} column; map the source column to {col!r} "
                "in the region manifest"
            )
            raise ValidationError(msg)
    metric = metric_crs(roads)
    work = roads[["road_class", "surface", roads.geometry.name]].to_crs(metric)
    work = work.explode(index_parts=False)
    rank = {c: i for i, c in enumerate(ROAD_CLASSES)}
    groups: dict[str, list[tuple[str, str, Any]]] = {}
    for (rclass, surface), part in work.groupby(["road_class", "surface"], sort=False):
        merged = shapely.line_merge(shapely.multilinestrings(part.geometry.to_numpy()))
        if simplify_m > 0:
            merged = shapely.simplify(merged, simplify_m, preserve_topology=False)
        key = "path" if rclass == "path" else str(surface)
        groups.setdefault(key, []).append((str(rclass), str(surface), merged))
    out: list[Any] = []
    for key in ("paved", "gravel", "earth", "path", *sorted(groups)):
        if key not in groups:
            continue
        items = sorted(groups.pop(key), key=lambda t: -rank.get(t[0], len(rank)))
        geoms = gpd.GeoSeries([g for _, _, g in items], crs=metric).to_crs(4326)
        rounded = shapely.transform(geoms.to_numpy(), lambda xy: np.round(xy, precision))
        styles, props = [], []
        for k, (rclass, surface, _) in enumerate(items):
            styles.append(
                {
                    "color": FOOTPATH_COLOR
                    if rclass == "path"
                    else SURFACE_COLORS.get(surface, "#555555"),
                    "weight": CLASS_WIDTH_PX.get(rclass, 1.5),
                    "opacity": 0.9,
                    "dashArray": "4 4" if rclass == "path" else None,
                    "lineCap": "round",
                    "lineJoin": "round",
                }
            )
            tip = (
                f"{text(ROAD_CLASS_ZH.get(rclass, rclass))} · "
                f"{text(SURFACE_ZH.get(surface, surface))} "
                f"<small>{text(rclass)} · {text(surface)}</small>"
            )
            props.append({"s": k, "t": tip})
        zh, en = SURFACE_LAYER_NAMES.get(key, (key, key))
        fg = ids.group(ids(folium.FeatureGroup(name=ids.slots.layer_name(f"{zh} {en}"),
                                               show=True)), "network")
        fg.add_to(m)
        add_geojson(
            m, ids.slots, fg, feature_collection(rounded, props), styles,
            pane="cmLines", class_name="cm-road",
        )
        out.append(fg)
    n_seg = len(roads)
    logger.info("roads: %d segments drawn as %d merged lines", n_seg, sum(1 for _ in out))
    return out


def roads_legend(roads: gpd.GeoDataFrame) -> str:
    """Build the legend of the road layers: the surfaces present, footpaths, width note."""
    present = set(roads["surface"].astype(str))
    items = [
        (f"{SURFACE_COLORS[s]}|3|", f"{SURFACE_ZH[s]} {s}") for s in SURFACE_COLORS if s in present
    ]
    if (roads["road_class"].astype(str) == "path").any():
        items.append((f"{FOOTPATH_COLOR}|2|d", "步道 footpath"))
    note = "<div class='cm-legend-note'>线宽：道路等级 <small>width: road class</small></div>"
    return swatch_legend_html("道路路面", "Road surface", items, kind="line") + note


def boundary_layers(
    m: folium.Map,
    ids: Ids,
    boundaries: Mapping[str, gpd.GeoDataFrame],
    simplify_m: float,
    precision: int,
) -> list[Any]:
    """Draw each boundary level, and township names as labels; return the layers."""
    out: list[Any] = []
    for key, gdf in boundaries.items():
        gdf = checked(gdf, f"boundaries.{key}")
        geoms = display_geoms(gdf, simplify_m, precision)
        names = [
            None if is_missing(v) else str(v)
            for v in (gdf["name"] if "name" in gdf.columns else [None] * len(gdf))
        ]
        style = dict(BOUNDARY_STYLES.get(key, BOUNDARY_STYLES["other"]))
        if key == "county":
            label = "县界 County boundary"
        elif key == "townships":
            label = "乡镇界 Township boundaries"
        else:
            label = f"边界 Boundaries: {key}"
        props = [{"s": 0, "t": text(n) if n else ""} for n in names]
        fg = ids.group(ids(folium.FeatureGroup(name=ids.slots.layer_name(label), show=True)),
                       "base")
        fg.add_to(m)
        add_geojson(
            m,
            ids.slots,
            fg,
            feature_collection(geoms, props),
            [style],
            pane="cmAreas",
            class_name=f"cm-boundary cm-boundary-{len(out)}",
        )
        out.append(fg)
        if key == "townships" and any(names):
            metric = metric_crs(gdf)
            reps = gdf.geometry.to_crs(metric).representative_point().to_crs(4326)
            labels = [
                [round(p.y, precision), round(p.x, precision), f"<span>{text(n)}</span>"]
                for p, n in zip(reps, names, strict=True)
                if n
            ]
            lfg = ids.group(ids(
                folium.FeatureGroup(name=ids.slots.layer_name("乡镇名称 Township names"), show=True)
            ), "base")
            lfg.add_to(m)
            labels_js = map_script("labels.js", labels=ids.slots.json(labels), group=lfg.get_name())
            Script(labels_js).add_to(m)
            out.append(lfg)
    return out
