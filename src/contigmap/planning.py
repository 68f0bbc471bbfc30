"""Transport planners' runs: scenarios, their comparison, criticality and the optimiser.

Each function chains :func:`contigmap.pipeline.prepare` (load → overlay → network) with
one analysis, and writes its outputs into a folder all at once (checked before the
analysis, staged beside it and swapped in whole on success by :mod:`contigmap.io.outdir`,
as :func:`contigmap.pipeline.run` does), with a run manifest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from contigmap.errors import ConfigError, LayerError
from contigmap.io.outdir import check_output_dir, region_inputs, staged_dir
from contigmap.io.tables import excel_engine
from contigmap.io.write import write_table, write_vector
from contigmap.network.speeds import Season
from contigmap.pipeline import evaluate_scenarios, prepare
from contigmap.publish import finish_outputs
from contigmap.render.compose import GAIN_CLASSES, scenario_map_layers, scenario_views
from contigmap.render.web import MapLayer
from contigmap.scenario import (
    Scenario,
    ScenarioResult,
    compare_scenarios,
    load_scenario,
    write_scenario_outputs,
)
from contigmap.state import RegionState, StageTimer
from contigmap.tasks import ExecutionOptions

__all__ = [
    "GAIN_CLASSES",
    "PlanningResult",
    "evaluate_scenarios",
    "region_for_scenario",
    "run_criticality",
    "run_optimise",
    "run_scenarios",
    "scenario_map_layers",
]

logger = logging.getLogger(__name__)

@dataclass
class PlanningResult:
    """Outputs of a planning run.

    Attributes
    ----------
    out_dir
        The output folder.
    outputs
        Written files by key.
    table
        The headline table (scenario comparison, top critical segments, chosen projects).
    """

    out_dir: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)


def region_for_scenario(scenario: Scenario, scenario_path: Path, region: Path | None) -> Path:
    """Find the region manifest a scenario applies to.

    An explicit ``region`` wins; otherwise ``layers/<scenario.region>/region.yaml`` is
    looked for in the current folder and then next to the scenario's folder.
    """
    if region is not None:
        return region
    if not scenario.region:
        msg = f"{scenario_path}: the scenario names no region; add `region:` or pass --region"
        raise ConfigError(msg)
    candidates = [
        Path("layers") / scenario.region / "region.yaml",
        scenario_path.resolve().parent.parent / "layers" / scenario.region / "region.yaml",
    ]
    for path in candidates:
        if path.is_file():
            return path
    msg = (f"{scenario_path}: region '{scenario.region}' not found at "
           f"{' or '.join(str(c) for c in candidates)}; pass --region REGION.yaml")
    raise ConfigError(msg)


def run_scenarios(
    scenario_paths: Sequence[str | Path],
    out_dir: str | Path,
    *,
    region: str | Path | None = None,
    season: Season | None = None,
    offline: bool = True,
    timer: StageTimer | None = None,
    force: bool = False,
    config: str | Path | None = None,
    priority_config: str | Path | None = None,
    execution: ExecutionOptions | None = None,
) -> PlanningResult:
    """Evaluate one or more scenarios of one region, write their tables and a comparison map.

    Parameters
    ----------
    scenario_paths
        Scenario YAML files; all must name the same region.
    out_dir
        Output folder.
    region
        The region manifest (default: ``layers/<region>/region.yaml`` as named in the
        scenario files).
    season
        Baseline season (a scenario may override it); the settings' season when omitted.
    offline
        Inline the map's scripts.
    timer
        Stage timer for progress display.
    force
        Replace ``out_dir`` even when contigmap did not write it (never when it holds
        an input); see :func:`contigmap.io.outdir.check_output_dir`, called before the
        analysis starts.
    config, priority_config
        Settings file and priorities file (:func:`contigmap.settings.run_settings`): the
        network settings of the baseline and the road costs of the scenarios.
    execution
        Where the scenarios run: in this process (default) or as tasks on Dask
        (:class:`contigmap.tasks.ExecutionOptions`); the results are the same.

    Returns
    -------
    PlanningResult
        The comparison table and written files.
    """
    out = Path(out_dir)
    paths = [Path(p) for p in scenario_paths]
    scenarios = [load_scenario(p) for p in paths]
    regions = {sc.region or "" for sc in scenarios}
    if len(regions) > 1 and region is None:
        msg = (f"scenarios name different regions ({', '.join(sorted(regions))}); compare "
               "scenarios of one region at a time")
        raise ConfigError(msg)
    region_path = region_for_scenario(scenarios[0], paths[0],
                                      Path(region) if region is not None else None)
    data_inputs = region_inputs(region_path)
    check_output_dir(out, data_inputs, side_inputs=paths, force=force)
    timer = timer or StageTimer()
    state = prepare(region_path, season=season, priorities=False, timer=timer, config=config,
                    priority_config=priority_config)
    with timer.stage("scenarios"):
        results = evaluate_scenarios(state, scenarios, execution=execution)
    with staged_dir(out, inputs=data_inputs, side_inputs=paths, force=force) as stage:
        written = write_scenario_outputs(results, stage)
        with timer.stage("render"):
            written["map"] = _scenario_map(state, results, stage / "scenarios_map.html",
                                           offline=offline)
        outputs = finish_outputs(stage, out, written, inputs=[region_path, *paths,
                                                       *state.data.input_paths],
                          parameters={**state.settings.manifest_parameters(),
                                      "scenarios": [s.name for s in scenarios]})
    return PlanningResult(out_dir=out, outputs=outputs, table=compare_scenarios(results))


def _scenario_map(state: RegionState, results: Sequence[ScenarioResult], path: Path, *,
                  offline: bool) -> Path:
    from contigmap.render.web import render_web_map

    config = state.data.config
    return render_web_map(
        path, villages=state.villages, roads=state.data.roads, boundaries=state.data.boundaries,
        extra_layers=[replace(layer, show=False) for layer in scenario_map_layers(results)],
        scenarios=scenario_views(results, open_view=True),
        title=f"{config.title or config.name} 道路情景比较 Road scenarios",
        source_note=config.source_note or "", illustrative=config.illustrative, offline=offline,
    )


def _network_state(region_path: str | Path, *, season: Season | None, timer: StageTimer,
                   what: str, config: str | Path | None = None,
                   priority_config: str | Path | None = None) -> RegionState:
    """Load, profile and route a region for a network analysis that needs township seats."""
    state = prepare(region_path, season=season, priorities=False, timer=timer, config=config,
                    priority_config=priority_config)
    if state.data.services is None:
        msg = f"{what} needs the services layer (township seats); declare `services:`"
        raise ConfigError(msg)
    return state


def run_criticality(
    region_path: str | Path,
    out_dir: str | Path,
    *,
    season: Season = "rainy",
    top: int = 50,
    offline: bool = True,
    timer: StageTimer | None = None,
    force: bool = False,
    config: str | Path | None = None,
    execution: ExecutionOptions | None = None,
) -> PlanningResult:
    """Rank road segments by who is cut off or delayed when each fails; write table and map.

    ``out_dir`` is checked before the analysis starts (``force`` as in
    :func:`run_scenarios`). ``config``: a settings file whose ``network:`` section sets
    the network engine. With hazard point layers (隐患点) in the region, every segment
    also gets ``hazard_points``, ``hazard_threatened`` and the exposure-weighted cut-off
    columns (:mod:`contigmap.network.criticality`). ``execution``: where the failures
    are evaluated (in this process by default, or in chunks on Dask; same table).
    """
    from contigmap.network.criticality import road_criticality

    out = Path(out_dir)
    data_inputs = region_inputs(region_path)
    check_output_dir(out, data_inputs, force=force)
    timer = timer or StageTimer()
    state = _network_state(region_path, season=season, timer=timer, what="criticality",
                           config=config)
    with timer.stage("criticality"):
        crit = road_criticality(state.network.graph, state.villages, state.data.services,
                                season=state.settings.season, hazards=state.data.hazards,
                                execution=execution)
    top_rows = crit.head(top)
    with staged_dir(out, inputs=data_inputs, force=force) as stage:
        written = {
            "criticality_csv": write_table(pd.DataFrame(crit.drop(columns="geometry")),
                                           stage / "road_criticality.csv"),
            "criticality_gpkg": write_vector(crit.to_crs(4326), stage / "road_criticality.gpkg",
                                             layer="criticality"),
        }
        with timer.stage("render"):
            from contigmap.render.web import render_web_map

            region = state.data.config
            cols = [c for c in top_rows.columns if c != "geometry"][:6]
            layer = MapLayer(name=f"关键路段（前{top}） Most critical segments",
                             data=top_rows[[*cols, "geometry"]].copy(), color="#d7191c",
                             weight=5.0, tooltip_columns=cols,
                             legend=[("#d7191c", "关键路段 critical segment")],
                             group="network")
            written["map"] = render_web_map(
                stage / "criticality_map.html", villages=state.villages, roads=state.data.roads,
                boundaries=state.data.boundaries, extra_layers=[layer],
                title=f"{region.title or region.name} 关键路段 Road criticality",
                source_note=region.source_note or "", illustrative=region.illustrative,
                offline=offline)
        outputs = finish_outputs(stage, out, written,
                          inputs=[Path(region_path), *state.data.input_paths],
                          parameters={**state.settings.manifest_parameters(), "top": top})
    return PlanningResult(out_dir=out, outputs=outputs,
                          table=pd.DataFrame(top_rows.drop(columns="geometry")))


def _read_candidates(path: Path) -> pd.DataFrame:
    """Read a candidate-project table (CSV or XLSX; ``project_id``, ``road_ids``, ``cost_cny``)."""
    try:
        if path.suffix.lower() in (".xlsx", ".xls"):
            return pd.read_excel(path, dtype={"project_id": str, "road_ids": str},
                                 engine=excel_engine(path))
        return pd.read_csv(path, dtype={"project_id": str, "road_ids": str},
                           encoding="utf-8-sig")
    except FileNotFoundError as err:
        msg = f"{path}: candidate projects file not found; check the path"
        raise LayerError(msg) from err
    except (OSError, ValueError, UnicodeDecodeError) as err:
        msg = f"{path}: cannot read the candidate projects table ({err}); save it as UTF-8 CSV"
        raise LayerError(msg) from err


def run_optimise(
    region_path: str | Path,
    out_dir: str | Path,
    *,
    budget_cny: float,
    method: str = "celf",
    candidates: str | Path | None = None,
    season: Season | None = None,
    timer: StageTimer | None = None,
    force: bool = False,
    config: str | Path | None = None,
    priority_config: str | Path | None = None,
) -> PlanningResult:
    """Choose the road projects that buy the most poor-weighted access within a budget.

    Projects are priced with the effective road costs (``priority_config`` and the
    ``priorities:`` section of ``config`` over the packaged ``priorities.yaml``), and
    routed with the effective network settings. ``out_dir`` is checked before the
    analysis starts (``force`` as in :func:`run_scenarios`).
    """
    from contigmap.optimize import optimise_projects

    out = Path(out_dir)
    data_inputs = region_inputs(region_path)
    side_inputs = [Path(candidates)] if candidates is not None else []
    check_output_dir(out, data_inputs, side_inputs=side_inputs, force=force)
    timer = timer or StageTimer()
    state = _network_state(region_path, season=season, timer=timer, what="the optimiser",
                           config=config, priority_config=priority_config)
    table = _read_candidates(Path(candidates)) if candidates is not None else None
    with timer.stage("optimise"):
        chosen = optimise_projects(state.network.graph, state.villages, state.data.services,
                                   budget_cny=budget_cny, candidates=table, method=method,
                                   season=state.settings.season, dem=state.data.dem,
                                   costs=state.settings.priorities.roads.costs)
    with staged_dir(out, inputs=data_inputs, side_inputs=side_inputs, force=force) as stage:
        written = {"projects_csv": write_table(chosen, stage / "chosen_projects.csv")}
        inputs = [Path(region_path), *state.data.input_paths]
        if candidates is not None:
            inputs.append(Path(candidates))
        outputs = finish_outputs(stage, out, written, inputs=inputs,
                          parameters={**state.settings.manifest_parameters(),
                                      "budget_cny": budget_cny, "method": method})
    return PlanningResult(out_dir=out, outputs=outputs, table=chosen)
