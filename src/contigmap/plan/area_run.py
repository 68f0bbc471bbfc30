"""``contigmap plan area.yaml`` as one call: every county's candidates, the area plan, files.

Each county is prepared with the pipeline's stages (:func:`contigmap.pipeline.prepare`)
and its candidates collected — one task per county, in this process or on a Dask
cluster as area runs are (:mod:`contigmap.area.engine`) — then the area plan is made
(:mod:`contigmap.plan.lagrange`: county budgets, or one pooled budget) and written into
a staged folder that replaces the output folder whole:

* ``<county code>/`` — each county's plan folder, as ``contigmap plan`` writes it;
* ``plan_projects.csv``, ``plan_summary.csv`` — the counties' tables, ``county_code``
  and ``county_name`` first;
* ``plan_counties.csv`` — per county: poor people, money, projects, poor
  beneficiaries, objective and (county budgets) its bound and gap;
* ``run_manifest.json`` — settings and the area solver's status, bound and gap.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.area.engine import ExecutionOptions
from contigmap.io.outdir import check_output_dir, staged_dir
from contigmap.io.write import write_table
from contigmap.network.speeds import Season
from contigmap.plan.candidates import Candidates, plan_candidates
from contigmap.plan.config import PlanConfig, load_plan_config, split_plan_file
from contigmap.plan.lagrange import (
    AreaSolution,
    Mapper,
    county_configs,
    pooled_plan,
    serial_map,
    solve_counties,
)
from contigmap.plan.model import PlanSolution, evaluate
from contigmap.plan.run import PlanResult, plan_result

__all__ = ["AreaPlanRun", "CountyInput", "run_area_plan"]

logger = logging.getLogger(__name__)


@dataclass
class CountyInput:
    """What the area plan needs of one county (returned by a county task)."""

    code: str
    name: str
    candidates: Candidates
    poor: float
    villages: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame | None
    title: str
    roads: gpd.GeoDataFrame | None = None
    boundaries: dict[str, gpd.GeoDataFrame] | None = None
    source_note: str = ""
    illustrative: bool = False


@dataclass
class AreaPlanRun:
    """The area plan, each county's plan, and the files written (final paths by key)."""

    solution: AreaSolution
    counties: list[PlanResult]
    table: pd.DataFrame
    outputs: dict[str, Path]


def county_input(code: str, name: str, region_path: Path, options: dict[str, Any],
                 config: PlanConfig) -> CountyInput:
    """Prepare one county and collect its candidates (a task: picklable in and out)."""
    from contigmap.pipeline import prepare

    state = prepare(region_path, **options)
    if state.priorities is None:
        from contigmap.errors import ValidationError

        raise ValidationError(f"plan: county {code} ({name}): no intervention was ranked; "
                              "see `contigmap validate` on its region.yaml")
    reloc = state.relocation.candidates if state.relocation is not None else None
    cand = plan_candidates(state.priorities.tables, state.villages, reloc, config)
    v = state.villages
    poor = float(pd.to_numeric(v["poor_pop"], errors="coerce").fillna(0).sum()) \
        if "poor_pop" in v.columns else 0.0
    data = state.data
    return CountyInput(code, name, cand, poor, v, data.boundaries.get("townships"),
                       data.config.title or name, data.roads, dict(data.boundaries),
                       data.config.source_note or "", data.config.illustrative)


@contextmanager
def task_mapper(options: ExecutionOptions, n_tasks: int) -> Iterator[Mapper]:
    """Yield a :data:`~contigmap.plan.lagrange.Mapper`: serial, or Dask tasks on one cluster.

    The cluster is made as every task run makes its own (:func:`contigmap.tasks.dask_client`:
    a LocalCluster of one-thread worker processes, or ``--scheduler``) and serves every
    call of the run (county preparation, county solves, each subgradient step).
    """
    if options.in_process(n_tasks):
        yield serial_map
        return
    from contigmap.tasks import dask_client

    client = dask_client(options)

    def run(fn: Callable[..., Any], items: Sequence[Any]) -> list[Any]:
        return list(client.gather([client.submit(fn, *item, pure=False) for item in items]))

    try:
        yield run
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None and not options.scheduler:
            cluster.close()


def _county_results(inputs: list[CountyInput], sol: AreaSolution, configs: list[PlanConfig],
                    county_sols: list[PlanSolution] | None) -> list[PlanResult]:
    """Each county's plan tables (its own solution, or its share of the pooled plan)."""
    out = []
    for i, (ci, cfg) in enumerate(zip(inputs, configs, strict=True)):
        if county_sols is not None:
            s = county_sols[i]
        else:
            years = sol.years[i]
            obj = evaluate(ci.candidates, years, cfg)
            s = PlanSolution(years, sol.method, sol.status, obj, None, None, 0.0,
                             len(ci.candidates.projects) * cfg.n_years)
        out.append(plan_result(ci.candidates, s, cfg))
    return out


def _county_table(inputs: list[CountyInput], results: list[PlanResult],
                  county_sols: list[PlanSolution] | None) -> pd.DataFrame:
    rows = []
    for i, (ci, res) in enumerate(zip(inputs, results, strict=True)):
        p = res.projects
        budget = res.config.per_year(res.config.yearly_budget_cny)
        sol = county_sols[i] if county_sols is not None else None
        rows.append({
            "county_code": ci.code, "county_name": ci.name, "poor_pop": round(ci.poor, 1),
            "money_cny": round(sum(budget), 0) if budget is not None else np.nan,
            "spent_cny": round(float(p["cost_cny"].sum()), 0), "projects": len(p),
            "villages": int(p["village_id"].nunique()),
            "poor_beneficiaries": round(float(p["poor_beneficiaries"].sum()), 1),
            "objective": round(res.solution.objective, 3),
            "bound": None if sol is None or sol.bound is None else round(sol.bound, 3),
            "mip_gap": None if sol is None or sol.mip_gap is None else round(sol.mip_gap, 8),
            "status": res.solution.status})
    return pd.DataFrame(rows)


def _with_county(frames: list[pd.DataFrame], inputs: list[CountyInput]) -> pd.DataFrame:
    parts = [f.assign(county_code=ci.code, county_name=ci.name) for f, ci in
             zip(frames, inputs, strict=True) if len(f)]
    if not parts:
        return pd.DataFrame(columns=["county_code", "county_name", *frames[0].columns])
    out = pd.concat(parts, ignore_index=True)
    return out[["county_code", "county_name",
                *[c for c in out.columns if c not in ("county_code", "county_name")]]]


def solve_area(inputs: list[CountyInput], config: PlanConfig, mapper: Mapper = serial_map
               ) -> tuple[AreaSolution, list[PlanResult], pd.DataFrame]:
    """Plan the area (``config.pool``): the solution, each county's plan, the county table."""
    codes = [c.code for c in inputs]
    configs = county_configs(config, codes, [c.poor for c in inputs])
    cands = [c.candidates for c in inputs]
    sol, county_sols = solve_counties(cands, configs, mapper)
    used: list[PlanSolution] | None = county_sols
    if config.pool == "area":
        sol = pooled_plan(cands, codes, config, sol.years, mapper)
        used = None
    results = _county_results(inputs, sol, configs, used)
    return sol, results, _county_table(inputs, results, used)


def run_area_plan(area_path: str | Path, out_dir: str | Path, *,
                  config: str | Path | None = None,
                  priority_config: str | Path | None = None, season: Season | None = None,
                  execution: ExecutionOptions | None = None,
                  force: bool = False) -> AreaPlanRun:
    """Plan every county of an area and write the area plan folder (see the module).

    Raises
    ------
    ConfigError
        A bad area manifest or ``plan:`` section (before any analysis).
    OutputDirError
        The output folder cannot or must not be written.
    """
    from contigmap.area.manifest import load_area
    from contigmap.area.split import write_region
    from contigmap.plan.orchestrate import _settings_file
    from contigmap.publish import finish_outputs

    area = load_area(area_path)
    cfg = load_plan_config(config)
    sections = split_plan_file(config)[1] if config is not None else {}
    side = [Path(p) for p in (config, priority_config) if p is not None]
    inputs_in = area.input_paths()
    out = Path(out_dir)
    check_output_dir(out, inputs_in, side_inputs=side, force=force)
    execution = execution or ExecutionOptions()
    with (tempfile.TemporaryDirectory(prefix="contigmap-plan-area-") as tmp,
          task_mapper(execution, len(area.counties)) as mapper):
        settings = _settings_file(sections, Path(tmp))
        options = {"season": season, "priority_config": priority_config, "config": settings}
        items = [(c.code, c.name, c.region_path or write_region(
            c.region, Path(tmp) / "regions" / f"{c.code}.yaml"), options, cfg)
            for c in area.counties]
        inputs: list[CountyInput] = mapper(county_input, items)
        sol, results, table = solve_area(inputs, cfg, mapper)
    logger.info("area plan: %s, status %s, gap %.3f%%", sol.method, sol.status, 100 * sol.gap)
    parameters = {"area": area.config.area.code, "command": "plan",
                  "plan": cfg.model_dump(mode="json"), "solver": sol.as_summary()}
    with staged_dir(out, inputs=inputs_in, side_inputs=side, force=force) as stage:
        from contigmap.plan.outputs import write_plan_outputs

        written: dict[str, Path] = {}
        for ci, res in zip(inputs, results, strict=True):
            files = write_plan_outputs(
                res, stage / ci.code, title=ci.title, villages=ci.villages,
                townships=ci.townships, roads=ci.roads, boundaries=ci.boundaries,
                source_note=ci.source_note, illustrative=ci.illustrative)
            written.update({f"{ci.code}/{k}": v for k, v in files.items()})
        written["plan_projects_csv"] = write_table(
            _with_county([r.projects for r in results], inputs), stage / "plan_projects.csv")
        written["plan_summary_csv"] = write_table(
            _with_county([r.summary for r in results], inputs), stage / "plan_summary.csv")
        written["plan_counties_csv"] = write_table(table, stage / "plan_counties.csv")
        outputs = finish_outputs(stage, out, written, parameters=parameters,
                                 inputs=[*inputs_in, *side])
    return AreaPlanRun(sol, results, table, outputs)
