"""The plan's printable pages: the public project list and the plan report, with a chart.

Both are self-contained HTML (CSS inline, the chart a PNG beside the page) meant to be
printed; every text is escaped with :func:`html.escape`. The chart is drawn with
matplotlib as the run report's charts (:mod:`contigmap.render.report_charts`), with the
packaged CJK font (:func:`contigmap.render.static_parts.text_setup`).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from contigmap.finance import fmt_wan
from contigmap.io.write import atomic_path
from contigmap.plan.run import PlanResult

__all__ = ["esc", "plan_chart", "write_plan_report", "write_public_html"]

_CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:10pt}
th,td{border:1px solid #999;padding:3px 6px;text-align:left}td.n{text-align:right}
th{background:#eee}h1{font-size:16pt}h2{font-size:13pt;margin-top:1.5em}
p.note{color:#555;font-size:9pt}@media print{body{margin:1cm}button{display:none}}"""


def esc(value: Any) -> str:
    """Text for HTML: escaped, quotes too."""
    return html.escape(str(value), quote=True)


def _table(frame: pd.DataFrame, numeric: set[str] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{esc(v)}</td>' if c in numeric else f"<td>{esc(v)}</td>"
                         for c, v in zip(frame.columns, row, strict=True)) + "</tr>"
        for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>{body}"
            "</body></html>\n")


def write_public_html(public: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Write the printable public project list (公开公示): one table, every text escaped."""
    heading = f"{title} 扶贫项目计划公示" if title else "扶贫项目计划公示"
    total = sum(float(str(v).replace(",", "")) for v in public.get("投资（万元）", []))
    body = (f"<h1>{esc(heading)}</h1><p>项目 {len(public)} 个，计划投资 {esc(f'{total:,.1f}')} "
            "万元。Public list of planned projects: project, village, works, money (万元), "
            "funding source, status and planned dates. 监督电话：＿＿＿＿＿＿</p>"
            + _table(public, {"投资（万元）", "计划年度"})
            + "<p class='note'>本表只列项目信息，不含任何农户个人信息。"
              "Project facts only; no personal data.</p>")
    with atomic_path(path) as tmp:
        tmp.write_text(_page(heading, body), encoding="utf-8")
    return path


def _by_year(result: PlanResult) -> pd.DataFrame:
    """Per plan year: projects started, capital, operating cost of earlier works, poor served.

    ``opex_cny`` of year ``y`` is the yearly operating cost of every work started before
    ``y`` (the model's budget rows, :func:`contigmap.plan.model.money_rows`);
    ``poor_cum`` the poor beneficiaries of every work started up to ``y``.
    """
    years = result.config.years
    p = result.projects
    g = p.groupby("year").agg(projects=("project_id", "size"), cost_cny=("cost_cny", "sum"),
                              poor=("poor_beneficiaries", "sum"))
    g = g.reindex(years, fill_value=0)
    opex = (pd.to_numeric(p["opex_cny_per_year"], errors="coerce").fillna(0.0)
            if "opex_cny_per_year" in p.columns else pd.Series(0.0, index=p.index))
    running = [float(opex[p["year"] < y].sum()) for y in years]
    poor = g["poor"].astype(float).to_numpy()
    return pd.DataFrame({"year": years, "projects": g["projects"].astype(int).to_numpy(),
                         "cost_cny": g["cost_cny"].astype(float).to_numpy(),
                         "opex_cny": running, "poor": poor, "poor_cum": poor.cumsum()})


def plan_chart(result: PlanResult, path: Path) -> Path:
    """PNG: money (万元, bars) and poor beneficiaries (line) per plan year."""
    from matplotlib.figure import Figure

    from contigmap.render.static_parts import text_setup

    text = text_setup()
    data = _by_year(result)
    fig = Figure(figsize=(6.8, 3.0), dpi=150, layout="constrained")
    ax = fig.add_subplot()
    x = [str(y) for y in data["year"]]
    ax.bar(x, data["cost_cny"] / 1e4, color="#2c7fb8")
    ax.set_ylabel(text.pick("投资（万元）", "money (10k CNY)"), fontproperties=text.props(8))
    ax2 = ax.twinx()
    ax2.plot(x, data["poor"], color="#c0392b", marker="o")
    ax2.set_ylabel(text.pick("贫困受益人口", "poor beneficiaries"), color="#c0392b",
                   fontproperties=text.props(8))
    for axis in (ax, ax2):
        axis.yaxis.set_major_formatter(lambda v, _p: f"{v:,.0f}")
        axis.set_ylim(bottom=0)
    fig.suptitle(text.pick("分年度投资与贫困受益人口", "Money and poor beneficiaries per year"),
                 x=0.01, ha="left", fontproperties=text.props(11, bold=True))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    return path


def _township_table(result: PlanResult) -> pd.DataFrame:
    s = result.summary
    if not len(s):
        return pd.DataFrame(columns=["乡镇", "年度", "项目数", "投资（万元）", "贫困受益人口"])
    g = s.groupby(["township_name", "year"], sort=True).agg(
        projects=("projects", "sum"), cost=("cost_cny", "sum"),
        poor=("poor_beneficiaries", "sum")).reset_index()
    return pd.DataFrame({"乡镇": g["township_name"], "年度": g["year"], "项目数": g["projects"],
                         "投资（万元）": [fmt_wan(c, 1) for c in g["cost"]],
                         "贫困受益人口": [f"{v:,.0f}" for v in g["poor"]]})


def write_plan_report(result: PlanResult, out: Path, title: str = "", *,
                      map_png: Path | None = None) -> dict[str, Path]:
    """``plan_report.html`` and its ``plan_chart.png``: by year, by township, the solver."""
    chart = plan_chart(result, out / "plan_chart.png")
    by_year = _by_year(result)
    years = pd.DataFrame({
        "年度 year": by_year["year"], "新开工项目 works started": by_year["projects"],
        "建设投资（万元） capital": [fmt_wan(c, 1) for c in by_year["cost_cny"]],
        "运行费（万元） operating": [fmt_wan(c, 1) for c in by_year["opex_cny"]],
        "当年贫困受益 poor served": [f"{v:,.0f}" for v in by_year["poor"]],
        "累计贫困受益 cumulative": [f"{v:,.0f}" for v in by_year["poor_cum"]]})
    numeric = set(years.columns) - {"年度 year"}
    vs = result.vs_greedy.drop(columns=["note"])
    heading = f"{title} 多年度统筹投资计划" if title else "多年度统筹投资计划"
    cfg = result.config
    body = (f"<h1>{esc(heading)} {cfg.first_year}–{cfg.last_year}</h1>"
            + "".join(f"<p>{esc(line)}</p>" for line in result.notes)
            + f'<img src="{esc(chart.name)}" alt="money and poor beneficiaries per year" '
              'style="max-width:100%">'
            + "<h2>分年度 By year</h2>" + _table(years, numeric)
            + (f"<h2>分年度地图 Maps by year</h2>"
               f'<img src="{esc(map_png.name)}" alt="villages with works per year" '
               'style="max-width:100%"><p class="note">交互地图 Interactive map: '
               '<a href="plan_map.html">plan_map.html</a>（每年一图层，点击村查看项目 — one '
               "layer per year; click a village for its works）</p>"
               if map_png is not None else "")
            + "<h2>分乡镇 By township and year</h2>"
            + _table(_township_table(result), {"项目数", "投资（万元）", "贫困受益人口"})
            + "<h2>与分项排序比较 Joint plan vs per-intervention rankings (same money)</h2>"
            + _table(vs, set(vs.columns) - {"method"})
            + "<p class='note'>Objective: poor beneficiaries weighted by MCDA need, a "
              "village's works in order of value weighted "
            + esc(", ".join(f"{w:g}" for w in cfg.diminishing_weights))
            + " (docs/plan.md).</p>")
    path = out / "plan_report.html"
    with atomic_path(path) as tmp:
        tmp.write_text(_page(heading, body), encoding="utf-8")
    return {"plan_report_html": path, "plan_chart_png": chart}
