"""The area map: county choropleths of incidence, RAI and funding need, offline.

One polygon per county, coloured by the chosen measure (radio buttons: poverty
incidence, rural access index, funding need) in five quantile classes (Brewer,
*ColorBrewer* sequential schemes; classes by the empirical quantiles of the counties'
values). A click opens the county's card with its figures and a link to its own map,
``<code>/map.html``, in the area output folder.

The page is built like the county map (:mod:`contigmap.render.web_page`): folium
renders the skeleton with deterministic element ids, Leaflet is inlined when
``offline``, and every data value (names, figures, colours, the GeoJSON) goes through
the :class:`~contigmap.render.web_page.Slots` table, HTML-escaped and JSON-encoded, so
text from the data is never interpreted as markup, script or template.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from html import escape
from pathlib import Path
from string import Template
from typing import Any, Final

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.render.web_page import Ids, Page, Script, add_page_head, is_missing, write_page

__all__ = ["AREA_MEASURES", "SIMPLIFY_M", "format_figure", "render_area_map"]

logger = logging.getLogger(__name__)

AREA_MEASURES: Final[tuple[tuple[str, str], ...]] = (
    ("poverty_incidence", "贫困发生率 poverty incidence"),
    ("rai", "农村通达指数 RAI"),
    ("capex_total_cny", "资金需求 funding need"),
)
"""Choropleth measures: (column of the county table, label)."""

_COLOURS: Final[dict[str, tuple[str, ...]]] = {
    # ColorBrewer 5-class sequential: Reds (more poverty, more need), Blues reversed (less access)
    "poverty_incidence": ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"),
    "rai": ("#08519c", "#3182bd", "#6baed6", "#bdd7e7", "#eff3ff"),
    "capex_total_cny": ("#feedde", "#fdbe85", "#fd8d3c", "#e6550d", "#a63603"),
}
_NO_DATA: Final[str] = "#cccccc"

SIMPLIFY_M: Final[float] = 50.0
"""Tolerance (m) of the outlines' simplification (Douglas & Peucker, 1973)."""

_SCRIPT: Final[Template] = Template("""
(function () {
  var map = $map, data = $data, layer = null, current = data.measures[0].key;
  function style(f) {
    return {color: '#333', weight: 1.5, fillOpacity: 0.75,
            fillColor: f.properties.fill[current]};
  }
  layer = L.geoJSON(data.geojson, {style: style, onEachFeature: function (f, l) {
    l.bindPopup(f.properties.card, {maxWidth: 320});
    l.bindTooltip(f.properties.label, {sticky: true});
  }}).addTo(map);
  var box = L.control({position: 'topright'});
  box.onAdd = function () {
    var div = L.DomUtil.create('div', 'cm-area-control');
    div.style.cssText = 'background:#fff;padding:8px 10px;font:14px sans-serif;' +
                        'border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.4)';
    L.DomEvent.disableClickPropagation(div);
    function draw() {
      var html = '';
      data.measures.forEach(function (m) {
        html += '<label style="display:block"><input type="radio" name="cm-measure" value="' +
                m.key + '"' + (m.key === current ? ' checked' : '') + '> ' + m.label + '</label>';
      });
      data.measures.forEach(function (m) {
        if (m.key !== current) { return; }
        html += '<div class="cm-area-legend" style="margin-top:6px">';
        m.legend.forEach(function (e) {
          html += '<div><span style="display:inline-block;width:14px;height:14px;' +
                  'margin-right:6px;vertical-align:middle;background:' + e[0] + '"></span>' +
                  e[1] + '</div>';
        });
        html += '</div>';
      });
      div.innerHTML = html;
      div.querySelectorAll('input').forEach(function (input) {
        input.addEventListener('change', function () {
          current = input.value; layer.setStyle(style); draw();
        });
      });
    }
    draw();
    return div;
  };
  box.addTo(map);
  map.fitBounds(layer.getBounds(), {padding: [30, 30], animate: false});
})();
""")


def format_figure(column: str, value: Any, *, unit: bool = True) -> str:
    """Format a county figure: shares as percent, money in 万元 (``unit``: say so), counts."""
    if is_missing(value):
        return "–"
    if isinstance(value, str):
        return value
    v = float(value)
    if column in ("poverty_incidence", "rai"):
        return f"{100 * v:.1f}%"
    if column.endswith("_cny"):
        return f"{v / 1e4:,.1f} 万元" if unit else f"{v / 1e4:,.1f}"
    if column == "tt_prefecture_min":
        return f"{v:.0f} min" if unit else f"{v:.0f}"
    return f"{v:,.0f}"


def _spread(colours: Sequence[str], n: int) -> list[str]:
    """``n`` colours of the ramp, evenly spaced from its first to its last."""
    return [colours[round(i * (len(colours) - 1) / max(n - 1, 1))] for i in range(n)]


def _classes(values: pd.Series, colours: Sequence[str], column: str
             ) -> tuple[list[str], list[tuple[str, str]]]:
    """Colour classes: each county's colour and the legend (colour, label) rows.

    Up to ``len(colours)`` distinct values *as shown* (20.0 % and 20.01 % are one) get one
    class each (a few counties); more are cut at the empirical quantiles into
    ``len(colours)`` classes. A missing value is grey.
    """
    known = np.sort(values.dropna().astype(float).to_numpy())
    labels = list(dict.fromkeys(format_figure(column, v) for v in known))  # in value order
    if not labels:
        return [_NO_DATA] * len(values), [(_NO_DATA, "无数据 no data")]
    if len(labels) <= len(colours):
        colour_of = dict(zip(labels, _spread(colours, len(labels)), strict=True))
        legend = [(colour_of[label], escape(label)) for label in labels]

        def colour(v: float) -> str:
            return colour_of[format_figure(column, v)]
    else:
        edges = np.quantile(known, np.linspace(0, 1, len(colours) + 1))
        shown = [format_figure(column, edge) for edge in edges]
        legend = [(colours[i], escape(f"{shown[i]} – {shown[i + 1]}"))
                  for i in range(len(colours))]

        def colour(v: float) -> str:
            k = int(np.searchsorted(edges[1:-1], v, side="right"))
            return colours[min(k, len(colours) - 1)]
    fills = [_NO_DATA if is_missing(v) else colour(float(v)) for v in values]
    if values.isna().any():
        legend.append((_NO_DATA, "无数据 no data"))
    return fills, legend


def _card(row: pd.Series, columns: Sequence[tuple[str, str]]) -> str:
    """Make the county's popup: name, figures and a link to its own map (all escaped)."""
    code = escape(str(row["county_code"]), quote=True)
    lines = "".join(
        f"<tr><th style='text-align:left;padding-right:8px'>{escape(label)}</th>"
        f"<td style='white-space:nowrap'>{escape(format_figure(col, row.get(col)))}</td></tr>"
        for col, label in columns if col in row.index)
    return (f"<b>{escape(str(row['county_name']))}</b> ({code})<table>{lines}</table>"
            f"<a href='{code}/map.html'>打开县地图 open the county map →</a>")


_CARD_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("villages", "村数 villages"), ("pop", "人口 population"),
    ("poor_pop", "贫困人口 poor people"), ("poverty_incidence", "贫困发生率 incidence"),
    ("rai", "RAI"), ("villages_without_hardened_road", "未通硬化路村 no hardened road"),
    ("capex_total_cny", "资金需求 funding need"), ("tt_prefecture_min", "到地级市 to the city"),
)


def _geojson(table: pd.DataFrame, counties: gpd.GeoDataFrame) -> tuple[dict[str, Any], list[Any]]:
    """FeatureCollection of the counties (WGS84, 5 decimals) and the measures' legends."""
    merged = counties[["county_code", "geometry"]].merge(table, on="county_code", how="inner")
    merged = gpd.GeoDataFrame(merged, geometry="geometry", crs=counties.crs)
    metric = merged.to_crs(merged.estimate_utm_crs())
    # Douglas–Peucker at SIMPLIFY_M, topology kept: outlines for an area-wide view, small file
    merged = metric.set_geometry(metric.simplify(SIMPLIFY_M, preserve_topology=True)).to_crs(4326)
    measures = []
    fills: dict[str, list[str]] = {}
    for column, label in AREA_MEASURES:
        if column not in merged.columns:
            continue
        fills[column], legend = _classes(merged[column], _COLOURS[column], column)
        measures.append({"key": column, "label": escape(label), "legend": legend})
    features = []
    for i, (_, row) in enumerate(merged.iterrows()):
        geom = gpd.GeoSeries([row.geometry], crs=4326).set_precision(1e-5).iloc[0]
        features.append({
            "type": "Feature",
            "geometry": geom.__geo_interface__,
            "properties": {"card": _card(row, _CARD_COLUMNS),
                           "label": escape(str(row["county_name"])),
                           "fill": {k: v[i] for k, v in fills.items()}},
        })
    return {"type": "FeatureCollection", "features": features}, measures


def render_area_map(table: pd.DataFrame, counties: gpd.GeoDataFrame, out_html: Path, *,
                    title: str, illustrative: bool, offline: bool = True,
                    facts: Sequence[tuple[str, str]] = ()) -> Path:
    """Write the area map (one HTML file).

    Parameters
    ----------
    table
        The area county table (:func:`contigmap.area.rollup.county_table`).
    counties
        One polygon per county with its ``county_code`` (any CRS).
    out_html
        The page to write.
    title, illustrative, facts
        Title, the illustrative-data badge, and key figures of the title panel.
    offline
        Inline Leaflet (the page needs no network).

    Returns
    -------
    pathlib.Path
        ``out_html``.
    """
    ids = Ids()
    west, south, east, north = (float(v) for v in counties.to_crs(4326).total_bounds)
    if not all(map(math.isfinite, (west, south, east, north))):
        west = south = east = north = 0.0
    m = ids(folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=8,
                       tiles=None, control_scale=True, zoom_snap=0.25, zoom_delta=0.5))
    page = Page(ids.slots)
    page.add_child(m)
    m.default_js = []
    m.default_css = []
    add_page_head(page, ids.slots, title=title, offline=offline, illustrative=illustrative,
                  facts=facts)
    geojson, measures = _geojson(table, counties)
    data = ids.slots.json({"geojson": geojson, "measures": measures})
    Script(_SCRIPT.substitute(map=m.get_name(), data=data)).add_to(m)
    return write_page(page.render(), out_html, int(table["villages"].sum()))
