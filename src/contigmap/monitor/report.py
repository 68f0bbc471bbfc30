"""Monitoring outputs that are drawn: the by-year chart, the HTML page, the map layers.

Every text from the data is escaped (:func:`html.escape`) before it enters the page;
the chart's PNG carries no timestamp (``metadata={"Software": None}``, as the report's
charts).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.render.web_extra import MapLayer

__all__ = ["draw_assessment", "draw_by_year", "monitor_layers", "write_monitor_html"]

STATE_COLOURS: Final[dict[str, str]] = {
    "done": "#1a9641", "on_time": "#fdae61", "late": "#d7191c", "not_started": "#9e9e9e"}
_LAYER_NAMES: Final[dict[str, str]] = {
    "planned": "计划项目 Planned", "in_progress": "在建项目 In progress", "done": "完工项目 Done"}


def draw_by_year(table: pd.DataFrame, path: Path) -> Path:
    """Planned vs done money (left) and poor beneficiaries (right) per year, as a PNG."""
    from matplotlib.figure import Figure

    from contigmap.render.static_parts import text_setup

    text = text_setup()
    fig = Figure(figsize=(8.0, 3.2), dpi=150, layout="constrained")
    years = table["year"].astype(int).to_numpy() if len(table) else np.zeros(0, int)
    x = np.arange(len(years))
    for k, (col, title_zh, title_en, scale) in enumerate((
            ("cost_cny", "资金（万元）", "money, 10k CNY", 1e4),
            ("poor_beneficiaries", "受益贫困人口", "poor beneficiaries", 1.0))):
        ax = fig.add_subplot(1, 2, k + 1)
        ax.bar(x - 0.2, table.get(f"planned_{col}", pd.Series(dtype=float)) / scale, 0.4,
               color="#9e9e9e", label=text.pick("计划", "planned"))
        ax.bar(x + 0.2, table.get(f"done_{col}", pd.Series(dtype=float)) / scale, 0.4,
               color="#1a9641", label=text.pick("完工", "done"))
        ax.set_xticks(x, [str(y) for y in years])
        ax.set_title(text.pick(title_zh, title_en), loc="left",
                     fontproperties=text.props(9, bold=True))
        ax.yaxis.set_major_formatter(lambda v, _p: f"{v:,.0f}")
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(prop=text.props(8), frameon=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})
    return path


def draw_assessment(table: pd.DataFrame, path: Path) -> Path:
    """Per township: poor people at baseline and served by completed works; completion."""
    from matplotlib.figure import Figure

    from contigmap.render.static_parts import text_setup

    text = text_setup()
    t = table[table["level"] == "township"]
    fig = Figure(figsize=(8.0, 0.9 + 0.28 * max(len(t), 1)), dpi=150, layout="constrained")
    y = np.arange(len(t))[::-1]
    ax = fig.add_subplot(1, 2, 1)
    ax.barh(y + 0.2, t["poor_pop_base"], 0.4, color="#9e9e9e",
            label=text.pick("基期贫困人口", "poor, baseline"))
    ax.barh(y - 0.2, t["poor_served"], 0.4, color="#1a9641",
            label=text.pick("完工项目受益贫困人口", "poor served by completed works"))
    ax.set_yticks(y, [str(n) if text.font is not None else str(i)
                      for n, i in zip(t["name"], t["township_id"], strict=True)])
    ax.xaxis.set_major_formatter(lambda v, _p: f"{v:,.0f}")
    ax.legend(prop=text.props(7), frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0),
              ncols=2, borderaxespad=0.2)
    ax2 = fig.add_subplot(1, 2, 2, sharey=ax)
    ax2.barh(y, t["plan_completion"].fillna(0.0) * 100, 0.6, color="#2c7fb8")
    ax2.set_xlim(0, 100)
    ax2.tick_params(labelleft=False)
    ax2.set_title(text.pick("计划完成率（%）", "plan completion, %"), loc="left",
                  fontproperties=text.props(9, bold=True))
    for a in (ax, ax2):
        a.spines[["top", "right"]].set_visible(False)
        for label in (*a.get_xticklabels(), *a.get_yticklabels()):
            label.set_fontproperties(text.props(7))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})
    return path


def monitor_layers(compared: pd.DataFrame, villages: gpd.GeoDataFrame) -> list[MapLayer]:
    """Map layers of planned, in-progress and done projects (points at their village)."""
    pts = villages[["village_id", "geometry"]].assign(
        village_id=villages["village_id"].astype(str))
    cols = ["project_id", "village_name", "intervention", "year", "cost_cny", "spent_cny",
            "state_zh"]
    t = compared.assign(village_id=compared["village_id"].astype(str))
    t = t.merge(pts, on="village_id", how="inner")
    t = gpd.GeoDataFrame(t, geometry="geometry", crs=villages.crs)
    t["geometry"] = t.geometry.representative_point()
    have = [c for c in cols if c in t.columns]
    groups = {"planned": t["status"] == "not_started", "in_progress": t["status"] == "in_progress",
              "done": t["status"] == "done"}
    layers = []
    for key, mask in groups.items():
        part = t[mask.to_numpy()]
        layers.append(MapLayer(
            name=_LAYER_NAMES[key], data=part[[*have, "state", "geometry"]].copy(),
            color="#333333", fill_color=STATE_COLOURS["done" if key == "done" else "on_time"],
            color_column="state", color_map=STATE_COLOURS, radius=7.0, fill_opacity=0.9,
            tooltip_columns=have, legend=[(STATE_COLOURS[s], s) for s in STATE_COLOURS],
            group="interv", show=True))
    return layers


def _table_html(table: pd.DataFrame, limit: int = 200) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = []
    for row in table.head(limit).itertuples(index=False, name=None):
        cells = []
        for v in row:
            if isinstance(v, float):
                text = "" if not np.isfinite(v) else (f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}")
            else:
                text = str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def write_monitor_html(path: Path, *, title: str, as_of: int, tolerance: float,
                       compared: pd.DataFrame, by_year: pd.DataFrame,
                       assessment: pd.DataFrame, still_missing: pd.DataFrame,
                       chart: str, assessment_chart: str,
                       ranking: pd.DataFrame | None = None) -> Path:
    """Write ``monitor_report.html``: counts by state, the tables and the chart."""
    counts = compared["state"].value_counts()
    over = int(compared["over_cost"].sum())
    summary = ", ".join(f"{s}: {int(counts.get(s, 0))}" for s in STATE_COLOURS)
    parts = [
        "<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;"
        "padding:2px 6px}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>截至 as of {as_of}; {html.escape(summary)}; 超支 over cost (>{tolerance:.0%}): "
        f"{over}</p>",
        f"<img src='{html.escape(chart)}' alt='planned vs done by year' style='max-width:100%'>",
        "<h2>考核 Assessment</h2>",
        f"<img src='{html.escape(assessment_chart)}' alt='assessment' style='max-width:100%'>",
        _table_html(assessment),
        *(["<h2>县排名 County ranking</h2>", _table_html(ranking)] if ranking is not None
          else []),
        "<p>“now” poverty figures need a new registry; <i>poor_served</i> counts poor people "
        "in villages reached by completed works, not people lifted out of poverty.</p>",
        "<h2>按年 By year</h2>", _table_html(by_year),
        "<h2>项目 Projects</h2>", _table_html(compared.drop(columns=["geometry"], errors="ignore")),
        "<h2>仍未达标的村 Villages still missing a guarantee</h2>", _table_html(still_missing),
        "</body></html>",
    ]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
