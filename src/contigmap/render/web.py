r"""The interactive HTML map: villages, roads and boundaries on a Leaflet map via folium.

One switchable village layer per indicator (poverty incidence, travel times, priority
tiers; see :mod:`contigmap.render.legend`), villages sized by poor people, roads by
surface and class, county and township boundaries, any number of extra vector or
raster layers (:class:`MapLayer`), a legend per coloured layer, a search box and a
card per village.

Offline mode (the default) inlines Leaflet (vendored, see ``assets/README.md``) so the
file works with no network.

Folium (https://python-visualization.github.io/folium/) builds the page skeleton (map,
feature groups, layer control, tile and image layers); the features themselves are
drawn by small inline scripts using Leaflet's ``L.geoJSON`` and ``L.circleMarker``,
which keeps the file small and the escaping in one place.

No text from the data ever reaches a template engine
-----------------------------------------------------
Folium renders every element's HTML through Jinja, and branca renders the output of
each element's macros *again* as a Jinja template, so a village named ``{{7*7}}`` would
show as ``49`` and ``{{ lipsum.__globals__.os... }}`` would run code. HTML escaping does
not help (``{{`` survives it). Therefore data are kept out of the folium element tree
altogether:

* Every data value (names, ids, reasons, column values, layer names, legend labels,
  title, source note, key figures, colours and styles) is registered in a
  :class:`_Slots` table while the map is built; the element tree only holds an opaque
  ASCII token (``cmSlot00042x``) in its place.
* Each value is stored already encoded for the place its token stands in: JSON for a
  script (:func:`_js_json`: ``<``, ``>``, ``&``, U+2028 and U+2029 written as ``\\uXXXX``
  so ``</script>`` cannot close the element), HTML-escaped text for markup, and the
  body of a JSON string for the layer names folium writes into its layer-control
  script. Text that Leaflet shows as HTML (popups, tooltips, legends, layer names) is
  HTML-escaped before it is JSON-encoded.
* The page's root (:class:`_Page`) first lets folium and Jinja render the skeleton,
  which then contains only our constant code and the tokens, and afterwards replaces
  all tokens in one regular-expression pass. Text inserted by that pass is never
  scanned again, so neither Jinja syntax nor a token-like string in the data is
  interpreted.
* Our own markup and scripts (title panel, stylesheet, inlined Leaflet, feature
  scripts) are :class:`_Raw` elements that bypass Jinja entirely.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Final, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from pyproj import CRS, Transformer

from contigmap.errors import ConfigError, CRSError, ValidationError
from contigmap.network.access import ACCESS_PROBLEMS
from contigmap.raster import Raster
from contigmap.render import assets
from contigmap.render.legend import (
    INTERVENTION_ZH,
    IndicatorSpec,
    indicators_for,
    legend_html,
    swatch_legend_html,
)
from contigmap.schema import POVERTY_CAUSES, ROAD_CLASS_ZH, ROAD_CLASSES, SURFACE_ZH

__all__ = [
    "MAX_MAP_BYTES",
    "MapLayer",
    "build_web_map",
    "render_web_map",
    "village_card_html",
]

logger = logging.getLogger(__name__)

Basemap = Literal["none", "osm", "tianditu"]

MAX_MAP_BYTES: Final[int] = 10 * 1024 * 1024
"""A map larger than this logs a warning (planners' machines, e-mail attachments)."""

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
SURFACE_LAYER_NAMES: Final[dict[str, tuple[str, str]]] = {
    "paved": ("硬化道路", "Paved roads"),
    "gravel": ("砂石道路", "Gravel roads"),
    "earth": ("土路", "Earth roads"),
    "path": ("步道", "Footpaths"),
}
TT_LABELS: Final[dict[str, tuple[str, str]]] = {
    "township_seat": ("到乡镇驻地", "to township seat"),
    "county_seat": ("到县城", "to county seat"),
    "health_centre": ("到卫生院", "to health centre"),
    "school": ("到学校", "to school"),
    "market": ("到集市", "to market"),
    "own_township_seat": ("到本乡镇驻地", "to own township seat"),
}
OPTION_ZH: Final[dict[str, str]] = {
    "harden": "硬化现有道路",
    "new_road": "新建道路",
    "harden+new_road": "硬化并新建道路",
    "shuttle_bus": "开通客运班车",
    "none": "暂不需要工程",
    "piped": "集中供水管网",
    "well": "水井",
    "cistern": "水窖",
    "grid": "电网延伸",
    "minigrid": "光伏微电网",
    "shs": "户用光伏",
    "fibre": "光纤到自然村",
    "microwave": "微波接入",
    "satellite": "卫星宽带",
}
"""Chinese names of the priority stage's technical options, for village cards."""
COLLAPSE_LAYER_CONTROL_ABOVE: Final[int] = 12
"""With more switchable village and extra layers than this, the layer control opens on hover."""
R_MIN_PX: Final[float] = 3.0
R_MAX_PX: Final[float] = 11.0
"""Village marker radius range in pixels; the area grows with poor people (sqrt scale)."""
_TT_COLUMN = re.compile(r"^tt_(?P<dest>[a-z0-9_]+)_min$")
_TIANDITU_KEY = re.compile(r"^[A-Za-z0-9]{8,64}$")


@dataclass
class MapLayer:
    """An extra layer for :func:`render_web_map`: a GeoDataFrame or a raster image.

    Give exactly one of ``data`` and ``raster``.

    Attributes
    ----------
    name
        Name in the layer control (data text: escaped).
    data
        Points (drawn as circles), lines or polygons, in any CRS.
    raster
        A raster drawn as a semi-transparent image (reprojected to Web Mercator).
    color, fill_color, weight, opacity, fill_opacity, radius, dash_array
        Leaflet path style (``radius`` in pixels, for points).
    color_column, color_map
        Colour features by a column's value (text keys); others get ``color``.
    tooltip_columns, popup_columns
        Columns shown on hover and in the popup (escaped).
    labels
        Display names of columns (defaults to the column name).
    legend
        (colour, label) pairs for the layer's legend; none drawn when empty. For
        rasters a legend is made from the colour ramp when this is empty.
    show
        Whether the layer is on when the map opens.
    raster_colors, vmin, vmax
        Colour ramp (low to high) and its range for rasters (default: 2nd and 98th
        percentiles).
    max_pixels
        Longest side of the raster image, in pixels (larger rasters are resampled).
    """

    name: str
    data: gpd.GeoDataFrame | None = None
    raster: Raster | None = None
    color: str = "#3366cc"
    fill_color: str | None = None
    weight: float = 1.5
    opacity: float = 0.9
    fill_opacity: float = 0.3
    radius: float = 4.0
    dash_array: str | None = None
    color_column: str | None = None
    color_map: Mapping[str, str] = field(default_factory=dict)
    tooltip_columns: Sequence[str] = ()
    popup_columns: Sequence[str] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    legend: Sequence[tuple[str, str]] = ()
    show: bool = True
    raster_colors: Sequence[str] = ("#ffffcc", "#fd8d3c", "#bd0026")
    vmin: float | None = None
    vmax: float | None = None
    max_pixels: int = 1200

    def __post_init__(self) -> None:
        if (self.data is None) == (self.raster is None):
            msg = f"MapLayer {self.name!r}: give exactly one of data= and raster="
            raise ValidationError(msg)


# --------------------------------------------------------------------------- helpers


def _js_json(obj: Any) -> str:
    """JSON that is safe inside an HTML ``<script>`` element (no ``<``, ``>``, ``&``)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _text(value: Any) -> str:
    """Escape a data value as HTML text."""
    return escape(str(value), quote=True)


def _layer_name(name: str) -> str:
    """Make a layer-control label: escaped, one line, safe in a JS string literal."""
    flat = " ".join(str(name).split())
    return escape(flat, quote=True).replace("\\", "&#92;")


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(float(value))


def _metric_crs(gdf: gpd.GeoDataFrame) -> CRS:
    crs = CRS.from_user_input(gdf.crs)
    if crs.is_projected and crs.axis_info and crs.axis_info[0].unit_name in ("metre", "meter"):
        return crs
    utm = gdf.estimate_utm_crs()
    return CRS.from_user_input(utm)


def _checked(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"layer {layer!r}: expected a GeoDataFrame, got {type(gdf).__name__}"
        raise ValidationError(msg)
    if gdf.crs is None:
        msg = f"layer {layer!r} has no CRS; set it with gdf.set_crs(...) before drawing"
        raise CRSError(msg)
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    if not keep.all():
        logger.info("layer %r: %d features without geometry not drawn", layer, int((~keep).sum()))
    return gdf.loc[keep]


def _display_geoms(gdf: gpd.GeoDataFrame, simplify_m: float, precision: int) -> gpd.GeoSeries:
    """Geometries simplified in metres, in EPSG:4326, coordinates rounded."""
    geoms = gdf.geometry
    if simplify_m > 0 and not (geoms.geom_type.isin(["Point", "MultiPoint"])).all():
        metric = _metric_crs(gdf)
        geoms = geoms.to_crs(metric).simplify(simplify_m, preserve_topology=True)
    geoms = geoms.to_crs(4326)
    rounded = shapely.transform(geoms.to_numpy(), lambda xy: np.round(xy, precision))
    return gpd.GeoSeries(rounded, index=gdf.index, crs=4326)


def _feature_collection(geoms: Iterable[Any], props: Iterable[dict[str, Any]]) -> dict[str, Any]:
    features = [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": p}
        for g, p in zip(geoms, props, strict=True)
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}


_SLOT_RE: Final[re.Pattern[str]] = re.compile(r"cmSlot(\d{5})x")


class _Slots:
    """Data values kept out of every template: a token now, the encoded value after rendering.

    See the module docstring. Each ``put`` returns a token to place where the value
    belongs; :meth:`fill` replaces every token in the rendered page in one pass.
    """

    def __init__(self) -> None:
        self._values: list[str] = []

    def put(self, encoded: str) -> str:
        """Register text already encoded for its context; return its token."""
        self._values.append(encoded)
        return f"cmSlot{len(self._values) - 1:05d}x"

    def json(self, obj: Any) -> str:
        """Token of a value as JSON safe inside a ``<script>`` element."""
        return self.put(_js_json(obj))

    def html(self, text: Any) -> str:
        """Token of a data text as escaped HTML."""
        return self.put(_text(text))

    def layer_name(self, name: str) -> str:
        """Token of a layer-control label, inside the JSON string folium writes."""
        return self.put(_js_json(_layer_name(name))[1:-1])

    def fill(self, page: str) -> str:
        """Replace the tokens of a rendered page by their values (one pass, no re-scan)."""
        found: set[int] = set()

        def value(match: re.Match[str]) -> str:
            k = int(match.group(1))
            if k >= len(self._values):
                msg = f"map page: unknown data slot {match.group(0)}"
                raise RuntimeError(msg)
            found.add(k)
            return self._values[k]

        out = _SLOT_RE.sub(value, page)
        if len(found) != len(self._values):
            missing = sorted(set(range(len(self._values))) - found)[:5]
            msg = f"map page: data slots {missing} were not rendered"
            raise RuntimeError(msg)
        return out


class _Raw(Element):
    """Markup or code written to the page as it is, without passing through Jinja."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Raw"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class _Script(MacroElement):
    """A piece of JavaScript appended to the page's main script, in order (no Jinja)."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "Script"
        self.code = code

    def render(self, **kwargs: Any) -> str:
        figure = self.get_root()
        assert isinstance(figure, Figure)
        figure.script.add_child(_Raw(self.code), name=self.get_name())
        return ""


class _Page(Figure):
    """The page root: renders with folium, then fills in the data (see :class:`_Slots`)."""

    def __init__(self, slots: _Slots) -> None:
        super().__init__()
        self.slots = slots

    def render(self, **kwargs: Any) -> str:
        return self.slots.fill(super().render(**kwargs))


class _Ids:
    """Deterministic element ids (the same inputs give the same file), and the data slots."""

    def __init__(self) -> None:
        self.n = 0
        self.slots = _Slots()

    def __call__(self, el: Any) -> Any:
        self.n += 1
        el._id = f"{self.n:04d}"
        return el


# --------------------------------------------------------------------------- village cards


def _fmt_int(v: Any) -> str:
    return f"{round(float(v)):,}"


def _fmt_pct(v: Any) -> str:
    return f"{float(v) * 100:.1f}%"


def _fmt_causes(v: Any) -> str:
    parts = [p.strip() for p in re.split(r"[;,，；、|]", str(v)) if p.strip()]
    return "、".join(POVERTY_CAUSES.get(p, p) for p in parts)


def _fmt_minutes(v: Any) -> str:
    return f"{float(v):.0f} 分钟 min"


def _fmt_money(v: Any) -> str:
    return f"{float(v):,.0f}"


CARD_FIELDS: Final[tuple[tuple[str, str, str, Any], ...]] = (
    ("pop", "人口", "people", _fmt_int),
    ("households", "户数", "households", _fmt_int),
    ("poor_pop", "贫困人口", "poor people", _fmt_int),
    ("poor_households", "贫困户", "poor households", _fmt_int),
    ("poverty_incidence", "贫困发生率", "poverty incidence", _fmt_pct),
    ("main_causes", "主要致贫原因", "main causes", _fmt_causes),
)
"""Rows of a village card: column, Chinese label, English label, formatter."""

SOURCE_VALUE_ZH: Final[dict[str, dict[str, str]]] = {
    "households_source": {
        "villages_layer": "村图层",
        "registry": "建档立卡（全量）",
        "pop_div_household_size": "人口÷户规模",
        "hamlets_layer": "自然村图层",
        "none": "无数据",
    },
    "poor_pop_source": {
        "villages_layer": "村图层",
        "registry_complete": "建档立卡（全量）",
        "registry_sample_estimate": "抽样估算",
        "registry_sample_township_rate": "按乡镇抽样发生率估算",
        "registry_sample_county_rate": "按全县抽样发生率估算",
        "none": "无数据",
    },
    "access_problem": {key: zh for key, (_, zh) in ACCESS_PROBLEMS.items()},
    "terrain_source": {
        "dem": "高程数据（DEM）",
        "region_typical": "无高程数据，按全区典型地形",
    },
}
"""Chinese names of the values of the source columns shown on village cards."""

SOURCE_FIELDS: Final[tuple[tuple[str, str, str], ...]] = (
    ("households_source", "户数来源", "households from"),
    ("poor_pop_source", "贫困人口来源", "poor people from"),
    ("access_problem", "无法到达乡镇驻地的原因", "no travel time to own seat because"),
    ("terrain_source", "地形数据来源", "terrain from"),
)
"""Rows of a village card saying where figures come from: column, Chinese, English label."""


def _row(zh: str, en: str, value: str) -> str:
    return f"<tr><th>{escape(zh)}<br><small>{escape(en)}</small></th><td>{_text(value)}</td></tr>"


def village_card_html(row: Mapping[str, Any], *, township: str | None = None) -> str:
    """Build a village's popup card (HTML) from the columns it has, data escaped.

    Shows the name and code, township, people, poor people, incidence, main causes,
    travel times (``tt_<destination>_min`` columns), where households, poor people and
    terrain come from and why there is no travel time to the own seat
    (:data:`SOURCE_FIELDS`, values in Chinese then as written) and, for each
    ``<intervention>_tier``
    column, the tier with ``<intervention>_option``, ``<intervention>_cost*`` and
    ``<intervention>_reasons`` when present.

    Parameters
    ----------
    row
        One village: a mapping from column name to value.
    township
        The township's name (shown under the village name).

    Returns
    -------
    str
        HTML of the card.
    """
    name = row.get("name", "")
    code = row.get("village_id", "")
    head = f'<div class="cm-card"><h3>{_text("" if _is_missing(name) else name)}</h3>'
    if not _is_missing(code) and code != "":
        head += f'<div class="cm-code">{_text(code)}</div>'
    if township:
        head += f'<div class="cm-town">{_text(township)}</div>'
    rows: list[str] = []
    for col, zh, en, fmt in CARD_FIELDS:
        v = row.get(col)
        if col in row and not _is_missing(v) and str(v) != "":
            rows.append(_row(zh, en, fmt(v)))
    for col, v in row.items():
        m = _TT_COLUMN.match(str(col))
        if m and not _is_missing(v):
            dest = m.group("dest")
            zh, en = TT_LABELS.get(dest, (dest, f"to {dest.replace('_', ' ')}"))
            rows.append(_row(f"{zh}时间", f"travel time {en}", _fmt_minutes(v)))
    for col, zh, en in SOURCE_FIELDS:
        v = row.get(col)
        if col in row and not _is_missing(v) and str(v).strip() != "":
            key = str(v).strip()
            names = SOURCE_VALUE_ZH[col]
            rows.append(_row(zh, en, f"{names[key]} ({key})" if key in names else key))
    sections: list[str] = []
    for col in row:
        if not str(col).endswith("_tier"):
            continue
        prefix = str(col).removesuffix("_tier")
        srows = []
        if not _is_missing(row[col]):
            srows.append(_row("优先级", "tier", str(row[col])))
        opt = row.get(f"{prefix}_option")
        if not _is_missing(opt) and opt is not None:
            srows.append(_row("推荐方案", "recommended option",
                              f"{OPTION_ZH.get(str(opt), str(opt))} ({opt})"))
        capex = row.get(f"{prefix}_capex_cny")
        if not _is_missing(capex) and capex is not None:
            srows.append(_row("投资估算", "capital cost, CNY", _fmt_money(capex)))
        per_poor = row.get(f"{prefix}_cost_per_poor_cny")
        if not _is_missing(per_poor) and per_poor is not None:
            srows.append(_row("每贫困受益人", "per poor beneficiary, CNY", _fmt_money(per_poor)))
        for ccol, cv in row.items():  # other cost columns of a user's own schema
            if (str(ccol).startswith(f"{prefix}_cost") and not _is_missing(cv)
                    and ccol != f"{prefix}_cost_per_poor_cny"):
                unit = str(ccol).removeprefix(f"{prefix}_cost").strip("_")
                srows.append(_row("投资估算", f"cost {unit}".strip(), _fmt_money(cv)))
        for suffix, en in (("_reasons_zh", "reasons (Chinese)"), ("_reasons", "reasons")):
            reasons = row.get(f"{prefix}{suffix}")
            if not _is_missing(reasons) and reasons is not None:
                srows.append(_row("理由", en, str(reasons)))
        if srows:
            sections.append(
                f'<div class="cm-sec">{_text(INTERVENTION_ZH.get(prefix, prefix))} '
                f"<small>{_text(prefix)}</small></div><table>{''.join(srows)}</table>"
            )
    return head + f"<table>{''.join(rows)}</table>" + "".join(sections) + "</div>"


# --------------------------------------------------------------------------- layers


def _township_names(
    villages: gpd.GeoDataFrame, boundaries: Mapping[str, gpd.GeoDataFrame]
) -> list[str | None]:
    for col in ("township", "township_name"):
        if col in villages.columns:
            return [None if _is_missing(v) else str(v) for v in villages[col]]
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


def _add_villages(
    m: folium.Map,
    ids: _Ids,
    villages: gpd.GeoDataFrame,
    specs: Sequence[IndicatorSpec],
    townships: Sequence[str | None],
    precision: int,
) -> tuple[list[tuple[Any, str]], str]:
    """Village layers, one per indicator; returns (feature group, legend) pairs and JS."""
    pts = villages.geometry.to_crs(4326)
    pts = gpd.GeoSeries(
        [g if g.geom_type == "Point" else g.representative_point() for g in pts], crs=4326
    )
    radius, size_col = _village_radius_px(villages)
    records = villages.drop(columns=villages.geometry.name).to_dict("records")
    names = [("" if _is_missing(r.get("name")) else str(r.get("name"))) for r in records]
    data = {
        "lat": [round(float(p.y), precision) for p in pts],
        "lon": [round(float(p.x), precision) for p in pts],
        "r": radius,
        "p": [village_card_html(r, township=t) for r, t in zip(records, townships, strict=True)],
        "t": [
            _text(n) + (f" <small>{_text(t)}</small>" if t else "")
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
        layer_js.append(
            f"{{fg:{fg.get_name()},pal:{ids.slots.json(palette)},"
            f"c:{ids.slots.json([index[c] for c in colors])}}}"
        )
        size_note = {
            "poor_pop": "<div class='cm-legend-note'>圆大小：贫困人口 "
            "<small>size: poor people</small></div>",
            "pop": "<div class='cm-legend-note'>圆大小：人口 <small>size: people</small></div>",
        }.get(size_col, "")
        leg = legend_html(spec) + size_note if spec.column != "__none__" else ""
        groups.append((fg, leg))
    code = f"""
(function(){{
  var V = {ids.slots.json(data)};
  var layers = [{",".join(layer_js)}];
  var markers = layers.map(function(){{ return []; }});
  layers.forEach(function(ly, k){{
    cmWhenShown(ly.fg, function(){{
      V.lat.forEach(function(lat, i){{
        markers[k].push(L.circleMarker([lat, V.lon[i]], {{
          pane: 'cmPoints', radius: V.r[i], color: '#333333', weight: 0.8, opacity: 0.9,
          fillColor: ly.pal[ly.c[i]], fillOpacity: 0.85, className: 'cm-village cm-vl-' + k
        }}).bindPopup(V.p[i], cmPopup).bindTooltip(V.t[i]).addTo(ly.fg));
      }});
    }});
  }});
  window.cmVillages = {{data: V, layers: layers, markers: markers}};
}})();
"""
    return groups, code


def _add_geojson(
    m: folium.Map,
    slots: _Slots,
    fg: Any,
    fc: dict[str, Any],
    styles: Sequence[dict[str, Any]],
    *,
    pane: str,
    class_name: str,
) -> None:
    code = f"""
(function(){{
  var S = {slots.json(list(styles))}, D = {slots.json(fc)};
  cmWhenShown({fg.get_name()}, function(){{ L.geoJSON(D, {{
    pane: '{pane}', className: '{class_name}',
    style: function(f){{ return S[f.properties.s]; }},
    pointToLayer: function(f, ll){{
      return L.circleMarker(ll, Object.assign(
        {{pane: '{pane}', className: '{class_name}'}}, S[f.properties.s]));
    }},
    onEachFeature: function(f, l){{
      if (f.properties.t) l.bindTooltip(f.properties.t, {{sticky: true}});
      if (f.properties.p) l.bindPopup(f.properties.p, cmPopup);
    }}
  }}).addTo({fg.get_name()}); }});
}})();
"""
    _Script(code).add_to(m)


def _road_layers(
    m: folium.Map,
    ids: _Ids,
    roads: gpd.GeoDataFrame,
    simplify_m: float,
    precision: int,
) -> list[Any]:
    roads = _checked(roads, "roads")
    for col in ("road_class", "surface"):
        if col not in roads.columns:
            msg = (
                f"layer 'roads' has no {col!r} column; map the source column to {col!r} "
                "in the region manifest"
            )
            raise ValidationError(msg)
    metric = _metric_crs(roads)
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
                f"{_text(ROAD_CLASS_ZH.get(rclass, rclass))} · "
                f"{_text(SURFACE_ZH.get(surface, surface))} "
                f"<small>{_text(rclass)} · {_text(surface)}</small>"
            )
            props.append({"s": k, "t": tip})
        zh, en = SURFACE_LAYER_NAMES.get(key, (key, key))
        fg = ids(folium.FeatureGroup(name=ids.slots.layer_name(f"{zh} {en}"), show=True))
        fg.add_to(m)
        _add_geojson(
            m, ids.slots, fg, _feature_collection(rounded, props), styles,
            pane="cmLines", class_name="cm-road",
        )
        out.append(fg)
    n_seg = len(roads)
    logger.info("roads: %d segments drawn as %d merged lines", n_seg, sum(1 for _ in out))
    return out


def _roads_legend(roads: gpd.GeoDataFrame) -> str:
    present = set(roads["surface"].astype(str))
    items = [
        (f"{SURFACE_COLORS[s]}|3|", f"{SURFACE_ZH[s]} {s}") for s in SURFACE_COLORS if s in present
    ]
    if (roads["road_class"].astype(str) == "path").any():
        items.append((f"{FOOTPATH_COLOR}|2|d", "步道 footpath"))
    note = "<div class='cm-legend-note'>线宽：道路等级 <small>width: road class</small></div>"
    return swatch_legend_html("道路路面", "Road surface", items, kind="line") + note


def _boundary_layers(
    m: folium.Map,
    ids: _Ids,
    boundaries: Mapping[str, gpd.GeoDataFrame],
    simplify_m: float,
    precision: int,
) -> list[Any]:
    out: list[Any] = []
    for key, gdf in boundaries.items():
        gdf = _checked(gdf, f"boundaries.{key}")
        geoms = _display_geoms(gdf, simplify_m, precision)
        names = [
            None if _is_missing(v) else str(v)
            for v in (gdf["name"] if "name" in gdf.columns else [None] * len(gdf))
        ]
        if key == "county":
            style = {"color": "#3f007d", "weight": 3.0, "opacity": 0.85, "fill": False}
            label = "县界 County boundary"
        elif key == "townships":
            style = {
                "color": "#807dba",
                "weight": 1.6,
                "opacity": 0.9,
                "dashArray": "6 4",
                "fillColor": "#ffffff",
                "fillOpacity": 0.0,
            }
            label = "乡镇界 Township boundaries"
        else:
            style = {"color": "#777777", "weight": 1.0, "opacity": 0.8, "fillOpacity": 0.0}
            label = f"边界 Boundaries: {key}"
        props = [{"s": 0, "t": _text(n) if n else ""} for n in names]
        fg = ids(folium.FeatureGroup(name=ids.slots.layer_name(label), show=True))
        fg.add_to(m)
        _add_geojson(
            m,
            ids.slots,
            fg,
            _feature_collection(geoms, props),
            [style],
            pane="cmAreas",
            class_name=f"cm-boundary cm-boundary-{len(out)}",
        )
        out.append(fg)
        if key == "townships" and any(names):
            metric = _metric_crs(gdf)
            reps = gdf.geometry.to_crs(metric).representative_point().to_crs(4326)
            labels = [
                [round(p.y, precision), round(p.x, precision), f"<span>{_text(n)}</span>"]
                for p, n in zip(reps, names, strict=True)
                if n
            ]
            lfg = ids(
                folium.FeatureGroup(name=ids.slots.layer_name("乡镇名称 Township names"), show=True)
            )
            lfg.add_to(m)
            _Script(
                f"""
(function(){{
  {ids.slots.json(labels)}.forEach(function(a){{
    L.marker([a[0], a[1]], {{pane: 'cmLabels', interactive: false, keyboard: false,
      icon: L.divIcon({{className: 'cm-label', html: a[2], iconSize: null}})
    }}).addTo({lfg.get_name()});
  }});
}})();
"""
            ).add_to(m)
            out.append(lfg)
    return out


def _extra_vector(
    m: folium.Map, ids: _Ids, layer: MapLayer, simplify_m: float, precision: int
) -> tuple[Any, str]:
    assert layer.data is not None
    gdf = _checked(layer.data, layer.name)
    for col in [*layer.tooltip_columns, *layer.popup_columns]:
        if col not in gdf.columns:
            msg = f"layer {layer.name!r} has no column {col!r} (tooltip/popup); drop it or add it"
            raise ValidationError(msg)
    geoms = _display_geoms(gdf, simplify_m, precision)
    base = {
        "color": layer.color,
        "weight": layer.weight,
        "opacity": layer.opacity,
        "fillColor": layer.fill_color or layer.color,
        "fillOpacity": layer.fill_opacity,
        "radius": layer.radius,
        "dashArray": layer.dash_array,
    }
    styles: list[dict[str, Any]] = [base]
    style_index: dict[str, int] = {}
    if layer.color_column is not None:
        if layer.color_column not in gdf.columns:
            msg = f"layer {layer.name!r} has no color_column {layer.color_column!r}"
            raise ValidationError(msg)
        for value, color in layer.color_map.items():
            style_index[str(value)] = len(styles)
            styles.append({**base, "color": color, "fillColor": color})
    props = []
    records = gdf.drop(columns=gdf.geometry.name).to_dict("records")
    for rec in records:
        s = 0
        if layer.color_column is not None:
            s = style_index.get(str(rec.get(layer.color_column)), 0)
        p: dict[str, Any] = {"s": s}
        tips = [_text(rec[c]) for c in layer.tooltip_columns if not _is_missing(rec[c])]
        if tips:
            p["t"] = " · ".join(tips)
        if layer.popup_columns:
            p["p"] = (
                '<div class="cm-card"><table>'
                + "".join(
                    f"<tr><th>{_text(layer.labels.get(c, c))}</th>"
                    f"<td>{'' if _is_missing(rec[c]) else _text(rec[c])}</td></tr>"
                    for c in layer.popup_columns
                )
                + "</table></div>"
            )
        props.append(p)
    fg = ids(folium.FeatureGroup(name=ids.slots.layer_name(layer.name), show=layer.show))
    fg.add_to(m)
    pane = "cmPoints" if (gdf.geom_type.isin(["Point", "MultiPoint"])).all() else "cmLines"
    _add_geojson(m, ids.slots, fg, _feature_collection(geoms, props), styles, pane=pane,
                 class_name="cm-extra")
    leg = (
        swatch_legend_html(layer.name, "", list(layer.legend), kind="square")
        if layer.legend
        else ""
    )
    return fg, leg


def _ramp(values: np.ndarray[Any, Any], colors: Sequence[str]) -> np.ndarray[Any, Any]:
    """RGB (0-255) of values in [0, 1] by linear interpolation along a colour ramp."""
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colors], dtype=float)
    pos = np.linspace(0.0, 1.0, len(colors))
    out = np.stack([np.interp(values, pos, rgb[:, k]) for k in range(3)], axis=-1)
    return np.asarray(np.round(out), dtype=np.uint8)


def _extra_raster(m: folium.Map, ids: _Ids, layer: MapLayer) -> tuple[Any, str]:
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    assert layer.raster is not None
    r = layer.raster
    rows, cols = r.shape
    # corners with ``@`` (Raster.bounds uses ``*``, deprecated in affine 3.1)
    xa, ya = r.transform @ (0, 0)
    xb, yb = r.transform @ (cols, rows)
    src_bounds = (min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb))
    # rasterio (1.4) still multiplies Affine objects with ``*``, which affine 3.1 flags
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        dst_crs = CRS.from_epsg(3857)
        transform, width, height = calculate_default_transform(
            r.crs, dst_crs, cols, rows, *src_bounds
        )
        if max(width, height) > layer.max_pixels:
            f = layer.max_pixels / max(width, height)
            transform, width, height = calculate_default_transform(
                r.crs,
                dst_crs,
                cols,
                rows,
                *src_bounds,
                dst_width=max(1, int(width * f)),
                dst_height=max(1, int(height * f)),
            )
        dst = np.full((height, width), np.nan)
        reproject(
            source=np.asarray(r.array, dtype=float),
            destination=dst,
            src_transform=r.transform,
            src_crs=r.crs,
            dst_transform=transform,
            dst_crs=dst_crs,
            src_nodata=np.nan,
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
    finite = np.isfinite(dst)
    lo = (
        layer.vmin
        if layer.vmin is not None
        else (float(np.nanpercentile(dst, 2)) if finite.any() else 0.0)
    )
    hi = (
        layer.vmax
        if layer.vmax is not None
        else (float(np.nanpercentile(dst, 98)) if finite.any() else 1.0)
    )
    span = hi - lo if hi > lo else 1.0
    scaled = np.clip((np.where(finite, dst, lo) - lo) / span, 0.0, 1.0)
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[..., :3] = _ramp(scaled, layer.raster_colors)
    rgba[..., 3] = np.where(finite, 255, 0).astype(np.uint8)
    to_ll = Transformer.from_crs(dst_crs, 4326, always_xy=True)
    x0, y1 = transform @ (0, 0)
    x1, y0 = transform @ (width, height)
    west, south = to_ll.transform(x0, y0)
    east, north = to_ll.transform(x1, y1)
    overlay = ids(
        folium.raster_layers.ImageOverlay(
            image=rgba,
            bounds=[[south, west], [north, east]],
            opacity=layer.opacity,
            name=ids.slots.layer_name(layer.name),
            show=layer.show,
            pixelated=False,
            pane="cmImages",
        )
    )
    overlay.add_to(m)
    items = list(layer.legend) or [
        (c, f"{lo + span * k / max(1, len(layer.raster_colors) - 1):.3g}")
        for k, c in enumerate(layer.raster_colors)
    ]
    return overlay, swatch_legend_html(layer.name, "", items, kind="square")


# --------------------------------------------------------------------------- page


_CSS: Final[str] = """
.leaflet-container { background: #f4f2ec; font-family: "Noto Sans CJK SC", "Source Han Sans SC",
  "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; }
.cm-title { position: absolute; top: 10px; left: 50%; transform: translateX(-50%); z-index: 1000;
  background: rgba(255,255,255,0.92); padding: 6px 14px; border-radius: 6px; text-align: center;
  box-shadow: 0 1px 5px rgba(0,0,0,0.3); pointer-events: none; max-width: 60vw;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
  sans-serif; }
.cm-title h1 { margin: 0; font-size: 18px; font-weight: 700; color: #222; }
.cm-facts { margin-top: 4px; font-size: 12px; text-align: left; pointer-events: auto; }
.cm-facts summary { cursor: pointer; color: #444; text-align: center; }
.cm-facts th { font-weight: 400; color: #555; padding: 1px 8px 1px 0; vertical-align: top; }
.cm-facts td { font-weight: 600; max-width: 320px; }
.cm-badge { display: inline-block; margin-top: 3px; padding: 1px 8px; border-radius: 3px;
  background: #b2182b; color: #fff; font-size: 12px; }
.cm-note { background: rgba(255,255,255,0.88); padding: 3px 8px; font-size: 11px; color: #333;
  max-width: 460px; border-radius: 3px; }
.cm-legends { background: rgba(255,255,255,0.94); padding: 6px 9px; border-radius: 5px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.3); font-size: 12px; max-height: 38vh; overflow-y: auto;
  line-height: 1.35; }
.cm-legend + .cm-legend { margin-top: 7px; padding-top: 6px; border-top: 1px solid #ddd; }
.cm-legend-title { font-weight: 700; margin-bottom: 3px; }
.cm-legend small, .cm-card small, .cm-title small { color: #777; font-weight: 400;
  font-size: 10px; }
.cm-legend-row { display: flex; align-items: center; gap: 6px; }
.cm-legend-note { margin-top: 3px; color: #444; }
.cm-sw-circle { display: inline-block; width: 11px; height: 11px; border-radius: 50%;
  border: 1px solid #333; }
.cm-sw-square { display: inline-block; width: 14px; height: 10px; border: 1px solid #888; }
.cm-sw-line { display: inline-block; width: 26px; height: 0; }
.cm-card h3 { margin: 0; font-size: 15px; }
.cm-card .cm-code, .cm-card .cm-town { color: #666; font-size: 11px; }
.cm-card table { border-collapse: collapse; font-size: 12px; margin-top: 5px; }
.cm-card th { text-align: left; font-weight: 400; color: #555; padding: 2px 10px 2px 0;
  vertical-align: top; line-height: 1.1; }
.cm-card td { padding: 2px 0; font-weight: 600; vertical-align: top; }
.cm-sec { margin-top: 6px; font-weight: 700; border-top: 1px solid #ddd; padding-top: 4px; }
.cm-label span { position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
  font-size: 12px; font-weight: 700; color: #4a4a4a;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; }
.leaflet-control-layers { font-size: 12px; line-height: 1.5; }
.leaflet-control-layers-expanded { padding: 4px 8px 4px 6px; max-height: 48vh; overflow-y: auto; }
.cm-search { background: #fff; }
.cm-search input { width: 200px; padding: 5px 7px; border: 0; border-radius: 4px; font-size: 13px; }
"""


def _page_js(
    slots: _Slots,
    map_name: str,
    legends: Sequence[tuple[Sequence[Any], str]],
    source_note: str,
    illustrative: bool,
) -> str:
    entries = ",".join(
        f"[[{','.join(fg.get_name() for fg in fgs)}],{slots.json(html)}]"
        for fgs, html in legends
        if html
    )
    note = _text(source_note)
    if illustrative:
        note += " · <b>示意数据 / illustrative data</b>"
    return f"""
(function(){{
  var map = {map_name};
  var legends = [{entries}];
  var lc = L.control({{position: 'bottomright'}});
  lc.onAdd = function(){{
    var d = L.DomUtil.create('div', 'cm-legends');
    legends.forEach(function(e){{
      var b = L.DomUtil.create('div', 'cm-legend', d); b.innerHTML = e[1]; e.push(b);
    }});
    L.DomEvent.disableScrollPropagation(d); L.DomEvent.disableClickPropagation(d);
    return d;
  }};
  lc.addTo(map);
  function sync(){{
    var any = false;
    legends.forEach(function(e){{
      var on = e[0].some(function(l){{ return map.hasLayer(l); }});
      e[2].style.display = on ? '' : 'none'; any = any || on;
    }});
    lc.getContainer().style.display = any ? '' : 'none';
  }}
  map.on('overlayadd overlayremove', sync); sync();

  var nc = L.control({{position: 'bottomleft'}});
  nc.onAdd = function(){{
    var d = L.DomUtil.create('div', 'cm-note'); d.innerHTML = {slots.json(note)}; return d;
  }};
  nc.addTo(map);

  var V = window.cmVillages;
  if (!V) return;
  var sc = L.control({{position: 'topleft'}});
  sc.onAdd = function(){{
    var d = L.DomUtil.create('div', 'cm-search leaflet-bar');
    var inp = L.DomUtil.create('input', '', d);
    inp.type = 'search'; inp.id = 'cm-search-input';
    inp.placeholder = '搜索村名 Search village';
    inp.setAttribute('list', 'cm-search-list');
    var dl = L.DomUtil.create('datalist', '', d); dl.id = 'cm-search-list';
    V.data.q.forEach(function(s){{
      var o = document.createElement('option'); o.value = s; dl.appendChild(o);
    }});
    function go(){{
      var q = inp.value.trim(); if (!q) return;
      var i = V.data.q.indexOf(q);
      if (i < 0) {{
        var names = V.data.q;
        for (var k = 0; k < names.length; k++) {{
          if (names[k].indexOf(q) >= 0) {{ i = k; break; }}
        }}
      }}
      if (i < 0) {{ inp.style.background = '#fdd'; return; }}
      inp.style.background = '';
      var li = -1;
      for (var j = 0; j < V.layers.length; j++) {{
        if (map.hasLayer(V.layers[j].fg)) {{ li = j; break; }}
      }}
      if (li < 0) {{ li = 0; map.addLayer(V.layers[0].fg); }}
      var mk = V.markers[li][i];
      map.setView(mk.getLatLng(), Math.max(map.getZoom(), 13), {{animate: false}});
      mk.openPopup();
    }}
    inp.addEventListener('change', go);
    inp.addEventListener('keydown', function(e){{ if (e.key === 'Enter') go(); }});
    L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);
    return d;
  }};
  sc.addTo(map);
}})();
"""


def _panes_js(map_name: str) -> str:
    return f"""
(function(){{
  var map = {map_name};
  var panes = [['cmImages', 300], ['cmAreas', 350], ['cmLines', 380], ['cmPoints', 420],
               ['cmLabels', 590]];
  panes.forEach(function(p){{
    var pane = map.createPane(p[0]); pane.style.zIndex = p[1];
    if (p[0] === 'cmLabels') pane.style.pointerEvents = 'none';
  }});
  // build a layer's features when it is first shown: hidden layers cost nothing at load
  window.cmPopup = {{maxWidth: 380, maxHeight: 440, autoPanPaddingTopLeft: [10, 90]}};
  window.cmWhenShown = function(group, build){{
    if (map.hasLayer(group)) {{ build(); }} else {{ group.once('add', build); }}
  }};
}})();
"""


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
) -> folium.Map:
    """Build the interactive map as a :class:`folium.Map` (see :func:`render_web_map`).

    Parameters
    ----------
    villages, roads, boundaries, extra_layers, title, source_note, illustrative, offline,
    basemap, tianditu_key, indicators, simplify_m, precision, facts
        As in :func:`render_web_map`.

    Returns
    -------
    folium.Map
        The map; ``m.get_root().render()`` gives the page (the root fills in the data
        after folium rendered its templates, see the module docstring).

    Raises
    ------
    ConfigError
        Unknown ``basemap``, or ``tianditu`` without a valid key.
    CRSError
        A layer without a CRS.
    ValidationError
        No villages, or a required column missing.
    """
    if basemap not in ("none", "osm", "tianditu"):
        msg = f"basemap must be one of 'none', 'osm', 'tianditu', got {basemap!r}"
        raise ConfigError(msg)
    if basemap == "tianditu" and (tianditu_key is None or not _TIANDITU_KEY.match(tianditu_key)):
        msg = (
            "basemap='tianditu' needs tianditu_key= (the letters and digits of a key from "
            "https://console.tianditu.gov.cn)"
        )
        raise ConfigError(msg)
    villages = _checked(villages, "villages")
    if len(villages) == 0:
        msg = "layer 'villages' is empty; a map needs at least one village"
        raise ValidationError(msg)
    if "name" not in villages.columns:
        msg = "layer 'villages' has no 'name' column; map the village name column to 'name'"
        raise ValidationError(msg)
    boundaries = dict(boundaries or {})
    ids = _Ids()

    ll_bounds = villages.to_crs(4326).total_bounds
    if "county" in boundaries and boundaries["county"].crs is not None:
        cb = boundaries["county"].to_crs(4326).total_bounds
        ll_bounds = np.array(
            [
                min(cb[0], ll_bounds[0]),
                min(cb[1], ll_bounds[1]),
                max(cb[2], ll_bounds[2]),
                max(cb[3], ll_bounds[3]),
            ]
        )
    west, south, east, north = (float(v) for v in ll_bounds)
    m = ids(
        folium.Map(
            location=[(south + north) / 2, (west + east) / 2],
            zoom_start=10,
            tiles=None,
            control_scale=True,
            prefer_canvas=False,
            zoom_snap=0.25,
            zoom_delta=0.5,
        )
    )
    page = _Page(ids.slots)
    page.add_child(m)  # the page fills the data slots in after folium rendered it
    page.title = ids.slots.html(title)
    m.default_js = []
    m.default_css = []
    header = page.header
    if offline:
        header.add_child(_Raw(f"<style>{assets.leaflet_css()}</style>"), name="leaflet_css")
        header.add_child(_Raw(f"<script>{assets.leaflet_js()}</script>"), name="leaflet_js")
    else:
        header.add_child(
            _Raw(f'<link rel="stylesheet" href="{assets.LEAFLET_CSS_URL}"/>'), name="leaflet_css"
        )
        header.add_child(
            _Raw(f'<script src="{assets.LEAFLET_JS_URL}"></script>'), name="leaflet_js"
        )
    header.add_child(_Raw(f"<style>{_CSS}</style>"), name="contigmap_css")
    badge = '<div class="cm-badge">示意数据 / illustrative data</div>' if illustrative else ""
    fact_rows = "".join(f"<tr><th>{_text(k)}</th><td>{_text(v)}</td></tr>" for k, v in facts)
    panel = (f'<details class="cm-facts"><summary>要点 Key figures</summary>'
             f"<table>{ids.slots.put(fact_rows)}</table></details>") if facts else ""
    page.html.add_child(
        _Raw(f'<div class="cm-title"><h1>{ids.slots.html(title)}</h1>{badge}{panel}</div>'),
        name="cm_title",
    )

    if basemap != "none":
        if offline:
            logger.warning(
                "basemap=%r needs the network; the offline map shows no tiles without it", basemap
            )
        if basemap == "osm":
            ids(folium.TileLayer("OpenStreetMap", name="OpenStreetMap", control=True)).add_to(m)
        else:
            tk = tianditu_key
            base = "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
            tail = (
                "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk=" + str(tk)
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

    _Script(_panes_js(m.get_name())).add_to(m)
    legends: list[tuple[Sequence[Any], str]] = []

    _boundary_layers(m, ids, boundaries, simplify_m, precision)
    if roads is not None and len(roads) > 0:
        road_fgs = _road_layers(m, ids, roads, simplify_m, precision)
        legends.append((road_fgs, _roads_legend(roads)))
    for layer in extra_layers or ():
        if layer.raster is not None:
            overlay, leg = _extra_raster(m, ids, layer)
            legends.append(([overlay], leg))
        else:
            fg, leg = _extra_vector(m, ids, layer, simplify_m, precision)
            legends.append(([fg], leg))
    if indicators is None:
        specs = indicators_for(list(villages.columns), villages)
    else:
        specs = indicators_for(list(villages.columns), villages, indicators)
    groups, vjs = _add_villages(
        m, ids, villages, specs, _township_names(villages, boundaries), precision
    )
    _Script(vjs).add_to(m)
    legends[:0] = [([fg], html) for fg, html in groups]

    # a long list of layers would cover the map: fold it into the control's button then
    many = len(extra_layers or ()) + len(groups) > COLLAPSE_LAYER_CONTROL_ABOVE
    ids(folium.LayerControl(collapsed=many, position="topright")).add_to(m)
    _Script(_page_js(ids.slots, m.get_name(), legends, source_note, illustrative)).add_to(m)
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

    Returns
    -------
    Path
        ``out_html``.
    """
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
    )
    html = m.get_root().render()
    html = html.replace("<html>", '<html lang="zh-CN">', 1)
    out = Path(out_html)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    data = html.encode("utf-8")
    try:
        tmp.write_bytes(data)
        tmp.replace(out)
    finally:
        if tmp.exists():
            tmp.unlink()
    size = len(data)
    logger.info("wrote %s (%.2f MB, %d villages)", out, size / 1e6, len(villages))
    if size > MAX_MAP_BYTES:
        logger.warning(
            "%s is %.1f MB, more than %.0f MB; raise simplify_m or drop layers",
            out,
            size / 1e6,
            MAX_MAP_BYTES / 1e6,
        )
    return out
