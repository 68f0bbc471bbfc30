"""The plan's files: tables, the public project list (公开公示) and the plan report.

``write_plan_outputs`` writes into a folder (the CLI's staging folder):

* ``plan_projects.csv``, ``plan_summary.csv``, ``plan_vs_greedy.csv`` and ``plan.xlsx``
  (the three as sheets) — the schema shared with ``contigmap monitor``;
* ``public_projects.csv`` / ``.xlsx`` / ``.html`` — "let public funds run in the sun":
  project, township, village, works (Chinese), money (万元,
  :func:`contigmap.finance.fmt_wan`), source, status and planned dates. Only project-level
  facts enter it: the plan never reads the household registry, so no household id, name
  or member can reach it (``tests/test_plan_public.py`` scans the files for the demo
  registry's ids and names);
* ``plan_report.html`` and ``plan_chart.png`` — money and poor beneficiaries per year,
  the plan by township, the solver's status and the comparison with the rankings.

Every text is escaped (:func:`html.escape`); tables go through :mod:`contigmap.io.write`
(no spreadsheet formulas, byte-identical reruns).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from contigmap.finance import fmt_wan
from contigmap.io.write import atomic_path, write_table
from contigmap.io.xlsx import write_xlsx
from contigmap.plan.config import RELOCATION
from contigmap.plan.planmap import plan_map
from contigmap.plan.report import write_plan_report, write_public_html
from contigmap.plan.run import PlanResult
from contigmap.priority import registry
from contigmap.render.plan_map import render_plan_map

__all__ = ["PUBLIC_COLUMNS", "public_projects", "works_label_zh", "write_plan_outputs"]

logger = logging.getLogger(__name__)

PUBLIC_COLUMNS = {"project_id": "项目编号", "year": "计划年度", "township_name": "乡镇",
                  "village_name": "村", "works": "建设内容", "money_wan": "投资（万元）",
                  "funding_source": "资金来源", "status": "状态", "start": "计划开工",
                  "end": "计划完工"}
"""Columns of the public list and their Chinese headers."""

_LABELS_ZH = {"project_id": "项目编号", "year": "年度", "village_id": "村代码",
              "village_name": "村名", "township_id": "乡镇代码", "township_name": "乡镇",
              "unit_id": "单元代码", "intervention": "项目类型", "option": "方案",
              "cost_cny": "投资（元）", "funding_source": "资金来源", "beneficiaries": "受益人口",
              "poor_beneficiaries": "贫困受益人口", "need": "需求得分", "after": "前置项目",
              "opex_cny_per_year": "年运行费（元）",
              "projects": "项目数", "method": "方法", "money_available_cny": "可用资金（元）",
              "money_spent_cny": "已安排资金（元）", "villages": "村数",
              "objective": "目标值", "note": "说明"}


def works_label_zh(intervention: str, option: str) -> str:
    """Chinese name of a project's works: ``饮水安全：集中供水`` or ``易地扶贫搬迁``."""
    if intervention == RELOCATION:
        return "易地扶贫搬迁" + ("（整村）" if option == "village" else "（自然村）")
    try:
        iv = registry.get(intervention)
    except Exception:  # an intervention no longer registered: its name
        return intervention
    return f"{iv.label_zh}：{iv.option_label(option, 'zh')}"


def public_projects(projects: pd.DataFrame, status: str = "计划") -> pd.DataFrame:
    """Make the public project list: project-level facts only, Chinese headers.

    Parameters
    ----------
    projects
        ``plan_projects`` rows.
    status
        Status text of every row (a plan: ``计划``, planned).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PUBLIC_COLUMNS` renamed to their Chinese headers.
    """
    p = projects
    out = pd.DataFrame({
        "project_id": p["project_id"].astype(str), "year": p["year"].astype(int),
        "township_name": p["township_name"].astype(str),
        "village_name": p["village_name"].astype(str),
        "works": [works_label_zh(str(i), str(o))
                  for i, o in zip(p["intervention"], p["option"], strict=True)],
        "money_wan": [fmt_wan(float(c), 1) for c in p["cost_cny"]],
        "funding_source": p["funding_source"].fillna("").astype(str), "status": status,
        "start": [f"{y}-03-01" for y in p["year"].astype(int)],
        "end": [f"{y}-12-31" for y in p["year"].astype(int)],
    })
    return out.rename(columns=PUBLIC_COLUMNS)


def _label(column: str) -> str:
    return _LABELS_ZH.get(column, PUBLIC_COLUMNS.get(column, column))


def write_plan_outputs(result: PlanResult, out_dir: str | Path, *, title: str = "",
                       villages: gpd.GeoDataFrame | None = None,
                       townships: gpd.GeoDataFrame | None = None,
                       roads: gpd.GeoDataFrame | None = None,
                       boundaries: Mapping[str, gpd.GeoDataFrame] | None = None,
                       source_note: str = "", illustrative: bool = False) -> dict[str, Path]:
    """Write every plan file into ``out_dir`` (each atomically); return paths by key.

    With ``villages`` (and optionally ``townships``) given, ``plan_map.png`` shows the
    plan year by year (:func:`contigmap.plan.planmap.plan_map`) in the report, and
    ``plan_map.html`` on the interactive map (:mod:`contigmap.render.plan_map`, with
    ``roads``, ``boundaries``, ``source_note`` and ``illustrative`` as the run's map).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "plan_projects_csv": write_table(result.projects, out / "plan_projects.csv"),
        "plan_summary_csv": write_table(result.summary, out / "plan_summary.csv"),
        "plan_vs_greedy_csv": write_table(result.vs_greedy, out / "plan_vs_greedy.csv"),
    }
    xlsx = out / "plan.xlsx"
    with atomic_path(xlsx) as tmp:
        write_xlsx([("projects", result.projects), ("summary", result.summary),
                    ("vs_greedy", result.vs_greedy)], tmp, labels=_label)
    written["plan_xlsx"] = xlsx
    public = public_projects(result.projects)
    written["public_csv"] = write_table(public, out / "public_projects.csv")
    pub_xlsx = out / "public_projects.xlsx"
    with atomic_path(pub_xlsx) as tmp:
        write_xlsx([("公示 public", public)], tmp)
    written["public_xlsx"] = pub_xlsx
    written["public_html"] = write_public_html(public, out / "public_projects.html", title)
    if villages is not None and len(villages):
        written["plan_map_png"] = plan_map(result.projects, result.config.years, villages,
                                           townships, out / "plan_map.png")
        works = [works_label_zh(str(i), str(o)) for i, o in
                 zip(result.projects["intervention"], result.projects["option"], strict=True)]
        written["plan_map_html"] = render_plan_map(
            out / "plan_map.html", result.projects.assign(works=works), result.config.years,
            villages, title=title, roads=roads,
            boundaries=boundaries if boundaries is not None else
            ({"townships": townships} if townships is not None else None),
            source_note=source_note, illustrative=illustrative)
    written.update(write_plan_report(result, out, title,
                                     map_png=written.get("plan_map_png")))
    logger.info("plan: wrote %d files to %s", len(written), out)
    return written

