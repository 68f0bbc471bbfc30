"""``contigmap monitor``: plan vs progress, completed works applied, the assessment, written.

:func:`run_monitor` reads ``plan_projects.csv`` (from ``contigmap plan``) and the
progress workbook, runs the region's stages once (:func:`contigmap.pipeline.prepare`,
without relocation), applies the completed works
(:func:`contigmap.monitor.apply.apply_completed`), and writes into a staged folder
swapped in whole (:func:`contigmap.io.outdir.staged_dir`):

``monitor_projects.csv``   every planned project with its reported status and state
``monitor_by_year.csv``    planned vs done money and poor beneficiaries per year
``assessment.csv``         the county assessment per township and county (also in
                           ``monitor.xlsx`` with the other tables)
``still_missing.csv``      villages that still miss a guarantee after the works
``indicators_now.csv``     the headline indicators with the completed works applied
``monitor_by_year.png``    the chart of planned vs done by year
``assessment.png``         poor people at baseline and served, plan completion, per township
``county_ranking.csv``     counties ranked (an area whose villages have several ``county_id``)
``monitor_report.html``    the tables and the chart on one page
``monitor_map.html``       the village map with planned / in progress / done layers
``run_manifest.json``      inputs, outputs and parameters with hashes
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from contigmap.errors import LayerError, ValidationError
from contigmap.io.outdir import check_output_dir, region_inputs, staged_dir
from contigmap.io.write import atomic_path, write_table
from contigmap.io.xlsx import write_xlsx
from contigmap.monitor.apply import apply_completed, guarantees
from contigmap.monitor.assess import assess, assess_by_county
from contigmap.monitor.compare import by_year, compare_progress, default_as_of
from contigmap.monitor.progress import read_progress
from contigmap.monitor.report import (
    draw_assessment,
    draw_by_year,
    monitor_layers,
    write_monitor_html,
)
from contigmap.network.speeds import Season
from contigmap.pipeline import prepare
from contigmap.planning import PlanningResult
from contigmap.publish import finish_outputs
from contigmap.state import StageTimer

__all__ = ["read_plan", "read_poor_now", "run_monitor"]

logger = logging.getLogger(__name__)

_ID_COLUMNS = {"project_id": str, "village_id": str, "township_id": str, "unit_id": str,
               "after": str, "funding_source": str}


def read_plan(plan: str | Path) -> pd.DataFrame:
    """Read ``plan_projects.csv`` (a file, or the plan's output folder holding it)."""
    path = Path(plan)
    if path.is_dir():
        path = path / "plan_projects.csv"
    try:
        table = pd.read_csv(path, dtype=_ID_COLUMNS, encoding="utf-8-sig",
                            keep_default_na=False, na_values={"cost_cny": [""]})
    except FileNotFoundError as err:
        msg = f"{path}: plan not found; give the folder `contigmap plan` wrote (--plan out/plan)"
        raise LayerError(msg) from err
    except (OSError, ValueError, UnicodeDecodeError) as err:
        msg = f"{path}: cannot read the plan ({err}); give plan_projects.csv as written"
        raise LayerError(msg) from err
    if "project_id" in table.columns and table["project_id"].duplicated().any():
        dup = table.loc[table["project_id"].duplicated(), "project_id"].iloc[0]
        msg = f"{path}: project_id {dup} appears twice; each project needs its own id"
        raise ValidationError(msg)
    return table


def read_poor_now(path: str | Path) -> pd.DataFrame:
    """Read a follow-up count per village: CSV with ``village_id``, ``poor_pop`` (``pop_basis``)."""
    try:
        table = pd.read_csv(path, dtype={"village_id": str}, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError) as err:
        msg = f"{path}: cannot read the follow-up count ({err}); give a UTF-8 CSV"
        raise LayerError(msg) from err
    for col in ("village_id", "poor_pop"):
        if col not in table.columns:
            msg = f"{path}: no column '{col}'; give village_id and poor_pop (pop_basis optional)"
            raise ValidationError(msg)
    return table


def run_monitor(
    region_path: str | Path,
    out_dir: str | Path,
    *,
    plan: str | Path,
    progress: str | Path,
    as_of: int | None = None,
    tolerance: float = 0.10,
    poor_now: str | Path | None = None,
    season: Season | None = None,
    config: str | Path | None = None,
    priority_config: str | Path | None = None,
    timer: StageTimer | None = None,
    offline: bool = True,
    force: bool = False,
) -> PlanningResult:
    """Compare a plan with its progress, apply the completed works and write the outputs.

    Parameters are those of ``contigmap monitor``; ``as_of`` defaults to
    :func:`contigmap.monitor.compare.default_as_of`. Returns the written paths and the
    assessment table.
    """
    out = Path(out_dir)
    plan_path = Path(plan) / "plan_projects.csv" if Path(plan).is_dir() else Path(plan)
    side = [plan_path, Path(progress), *([Path(poor_now)] if poor_now is not None else [])]
    data_inputs = region_inputs(region_path)
    check_output_dir(out, data_inputs, side_inputs=side, force=force)
    timer = timer or StageTimer()
    projects = read_plan(plan_path)
    reported = read_progress(progress, projects)
    year = as_of if as_of is not None else default_as_of(projects, reported)
    compared = compare_progress(projects, reported, as_of=year, tolerance=tolerance)
    now = read_poor_now(poor_now) if poor_now is not None else None
    state = prepare(region_path, season=season, relocation=False, timer=timer, config=config,
                    priority_config=priority_config)
    config_ = state.data.config
    with timer.stage("monitor"):
        works = apply_completed(
            state.data, state.villages, state.hamlets, state.network.graph,
            compared[compared["state"] == "done"], params=state.settings.network,
            costs=state.settings.priorities.roads.costs,
            county_name=config_.title or config_.name)
        base = guarantees(state.villages, state.hamlets)
        indicators = state.indicators if state.indicators is not None else works.indicators
        table = assess(indicators, state.villages, base, works.guarantees, compared,
                       as_of=year, poor_now=now)
        ranking = assess_by_county(state.villages, base, works.guarantees, compared,
                                   as_of=year, poor_now=now)
        years = by_year(compared)
        missing = works.guarantees[~works.guarantees["all_met"]].reset_index(drop=True)
    title = f"{config_.title or config_.name} 项目监测 Plan monitoring"
    with staged_dir(out, inputs=data_inputs, side_inputs=side, force=force) as stage:
        written = {
            "projects_csv": write_table(compared, stage / "monitor_projects.csv"),
            "by_year_csv": write_table(years, stage / "monitor_by_year.csv"),
            "assessment_csv": write_table(table, stage / "assessment.csv"),
            "still_missing_csv": write_table(missing, stage / "still_missing.csv"),
            "indicators_now_csv": write_table(works.indicators, stage / "indicators_now.csv"),
            "chart": draw_by_year(years, stage / "monitor_by_year.png"),
            "assessment_chart": draw_assessment(table, stage / "assessment.png"),
        }
        if ranking is not None:
            written["ranking_csv"] = write_table(ranking, stage / "county_ranking.csv")
        with atomic_path(stage / "monitor.xlsx") as tmp:
            write_xlsx({"考核 assessment": table, "项目 projects": compared,
                        "按年 by year": years, "未达标 still missing": missing}, tmp)
        written["xlsx"] = stage / "monitor.xlsx"
        written["report"] = write_monitor_html(
            stage / "monitor_report.html", title=title, as_of=year, tolerance=tolerance,
            compared=compared, by_year=years, assessment=table, still_missing=missing,
            chart="monitor_by_year.png", assessment_chart="assessment.png", ranking=ranking)
        with timer.stage("render"):
            from contigmap.render.web import render_web_map

            written["map"] = render_web_map(
                stage / "monitor_map.html", villages=works.villages, roads=state.data.roads,
                boundaries=state.data.boundaries,
                extra_layers=monitor_layers(compared, state.villages), title=title,
                source_note=config_.source_note or "", illustrative=config_.illustrative,
                offline=offline)
        outputs = finish_outputs(stage, out, written,
                                 inputs=[Path(region_path), *state.data.input_paths, *side],
                                 parameters={**state.settings.manifest_parameters(),
                                             "as_of": year, "tolerance": tolerance})
    return PlanningResult(out_dir=out, outputs=outputs, table=table)
