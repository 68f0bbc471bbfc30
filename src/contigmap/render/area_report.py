"""The area report (``area_report.html``): key figures, the county table and a ranking.

Short on purpose: each county's own report holds the detail and is linked from its row.
Every text from the data (area and county names, codes) is HTML-escaped; the page uses
the county report's stylesheet (``render/assets/report.css``) inlined, so it works
offline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape
from importlib import resources
from typing import Any, Final

import pandas as pd

from contigmap.render.area_map import format_figure

__all__ = ["area_facts", "render_area_report"]

_RANKED_BY: Final[str] = "poverty_incidence"


def _css() -> str:
    return resources.files("contigmap.render").joinpath("assets", "report.css").read_text(
        encoding="utf-8")


def _fmt(column: str, value: Any) -> str:
    return format_figure(column, value, unit=False)


def _header(column: str, label: Callable[[str], str]) -> str:
    text = label(column)
    return text.replace("（元）", "（万元）") if column.endswith("_cny") else text


def _table(table: pd.DataFrame, label: Callable[[str], str], *, link: bool) -> str:
    head = "".join(f"<th>{escape(_header(c, label))}</th>" for c in table.columns)
    rows = []
    for _, row in table.iterrows():
        cells = []
        for column in table.columns:
            text = escape(_fmt(column, row[column]))
            if link and column == "county_name":
                code = escape(str(row["county_code"]), quote=True)
                text = f"<a href='{code}/report.html'>{text}</a>"
            numeric = column not in ("county_code", "county_name")
            cells.append(f"<td class='num'>{text}</td>" if numeric
                         else f"<td style='white-space:nowrap'>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def area_facts(totals: Mapping[str, float]) -> list[tuple[str, str]]:
    """Key figures of the area as (label, text) rows."""
    out = [
        ("县数 counties", f"{totals['counties']:.0f}"),
        ("村数 villages", f"{totals['villages']:,.0f}"),
        ("人口 population", f"{totals['pop']:,.0f}"),
        ("贫困人口 poor people", f"{totals['poor_pop']:,.0f}"),
        ("贫困发生率 poverty incidence", _fmt("poverty_incidence", totals["poverty_incidence"])),
        ("农村通达指数 RAI (pop.-weighted)", _fmt("rai", totals["rai"])),
        ("未通硬化路村 villages without a hardened road",
         f"{totals['villages_without_hardened_road']:,.0f}"),
    ]
    if "capex_total_cny" in totals:
        need = _fmt("capex_total_cny", totals["capex_total_cny"])
        out.append(("资金需求 funding need", f"{need} 万元"))
    return out


def render_area_report(table: pd.DataFrame, totals: Mapping[str, float], *, title: str,
                       illustrative: bool, label: Callable[[str], str],
                       notes: Sequence[str] = ()) -> str:
    """Render the area report as one HTML page (text; the caller writes it).

    Parameters
    ----------
    table
        The area county table, manifest order.
    totals
        Area figures (:func:`contigmap.area.rollup.area_totals`).
    title
        The area's display name.
    illustrative
        Say that the data are synthetic.
    label
        Chinese header of a column.
    notes
        Lines under the key figures (definitions, sources), plain text.

    Returns
    -------
    str
        The page.
    """
    facts = "".join(f"<tr><th>{escape(k)}</th><td class='num'>{escape(v)}</td></tr>"
                    for k, v in area_facts(totals))
    ranked = table.sort_values([_RANKED_BY, "county_code"], ascending=[False, True],
                               na_position="last")
    rank_cols = [c for c in ("county_code", "county_name", "poverty_incidence", "poor_pop",
                             "rai", "capex_total_cny", "tt_prefecture_min")
                 if c in ranked.columns]
    ranking = ranked[rank_cols].copy()
    ranking.insert(0, "rank", range(1, len(ranking) + 1))
    badge = ("<p class='badge'><b>示意数据 / illustrative data</b>: synthetic, not real "
             "figures</p>") if illustrative else ""
    note_html = "".join(f"<p class='note'>{escape(n)}</p>" for n in notes)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{escape(title)} · 片区报告 area report</title>",
        f"<style>{_css()}</style></head><body>",
        f"<h1>{escape(title)} · 片区报告 area report</h1>", badge,
        "<h2>要点 Key figures</h2>", f"<table>{facts}</table>", note_html,
        "<p><a href='area_map.html'>片区地图 area map →</a></p>",
        "<h2>各县 Counties</h2>", _table(table, label, link=True),
        "<h2>排序：贫困发生率 Ranking by poverty incidence</h2>",
        _table(ranking, lambda c: "排名 rank" if c == "rank" else label(c), link=True),
        "</body></html>", ""])
