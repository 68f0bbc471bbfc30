"""The orchestrator: one function owns the order of the stages, another writes the outputs.

:func:`prepare` runs the stages of :mod:`contigmap.stages` in order (load → overlay →
network → indicators → priorities → relocation → scenarios) into a
:class:`~contigmap.state.RegionState`, writing nothing. :func:`run` is what
``contigmap run`` and ``contigmap demo`` call: it checks the output folder, calls
:func:`prepare`, and hands the state to :func:`contigmap.publish.publish`, which writes
everything into one output folder *all at once*: outputs are staged in a hidden folder
beside it, and that folder replaces the output folder whole only when every stage has
succeeded (:mod:`contigmap.io.outdir`), so a failed or interrupted run leaves the earlier
outputs as they were.

The road network is built once per run (:func:`contigmap.stages.network_stage`); the
priorities, relocation and scenario stages all receive that graph.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd

from contigmap import stages
from contigmap.config import load_region
from contigmap.gcpause import gc_relaxed
from contigmap.io.outdir import check_output_dir, region_inputs, staged_dir
from contigmap.io.region import load_region_layers
from contigmap.network.speeds import Season
from contigmap.priority.config import PriorityConfig
from contigmap.publish import finish_outputs, headline_summary, poverty_sources, publish
from contigmap.relocation.costs import RelocationConfig
from contigmap.relocation.run import RelocationPlan
from contigmap.render.web import Basemap
from contigmap.scenario import Scenario, ScenarioResult
from contigmap.settings import run_settings
from contigmap.stages import network_stage, profile_stage  # re-exported
from contigmap.state import NetworkOutputs, Progress, RegionState, StageTimer, describe_size
from contigmap.tasks import ExecutionOptions

__all__ = [
    "NetworkOutputs",
    "RegionState",
    "RunResult",
    "StageTimer",
    "evaluate_scenarios",
    "network_stage",
    "prepare",
    "priority_stage",
    "profile_stage",
    "relocation_plan_from_state",
    "run",
]

logger = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run produced.

    Attributes
    ----------
    out_dir
        The output folder.
    outputs
        Every file written, by a short key (``map``, ``villages_gpkg``, ...).
    villages
        The village table with every column the stages added (working CRS).
    summary
        Headline figures for the CLI to print.
    timings_s
        Seconds spent per stage.
    peak_rss_mb
        Peak resident memory of the process during each stage, in MB (Linux only:
        :mod:`contigmap.peakrss`).
    """

    out_dir: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    villages: gpd.GeoDataFrame | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)


def priority_stage(state: RegionState, config: PriorityConfig | None = None) -> RegionState:
    """:func:`contigmap.stages.priority_stage` on a state (``config``: the state's settings)."""
    out = stages.priority_stage(state.data, state.villages, state.hamlets, state.network.graph,
                                config or state.settings.priorities)
    if out.priorities is None:
        return state
    return replace(state, villages=out.villages, hamlets=out.hamlets,
                   priorities=out.priorities)


def relocation_plan_from_state(
    state: RegionState, config: RelocationConfig | str | Path | dict[str, Any] | None = None
) -> RelocationPlan:
    """:func:`contigmap.stages.relocation_stage` on a state.

    ``config`` defaults to the state's effective relocation settings
    (``state.settings.relocation``: the packaged file with the ``--config`` overrides).
    """
    return stages.relocation_stage(
        state.data, state.villages, state.hamlets, state.network.graph,
        config if config is not None else state.settings.relocation)


def after_relocation(state: RegionState) -> RegionState:
    """:func:`contigmap.stages.after_relocation_stage` on a state with a relocation plan."""
    if state.relocation is None or state.priorities is None:
        return state
    out = stages.after_relocation_stage(
        state.data, stages.PriorityStage(state.villages, state.hamlets, state.priorities),
        state.network.graph, state.relocation)
    return replace(state, villages=out.villages, hamlets=out.hamlets,
                   priorities=out.priorities)


def evaluate_scenarios(
    state: RegionState, scenarios: Sequence[Scenario], *, season: Season | None = None,
    execution: ExecutionOptions | None = None,
) -> list[ScenarioResult]:
    """:func:`contigmap.stages.scenario_stage` on a state: its graph, villages and settings.

    Scenarios are costed with the state's road costs
    (``state.settings.priorities.roads.costs``: the user's priorities file and
    ``--config``, not the packaged defaults).
    """
    settings = state.settings
    return stages.scenario_stage(state.data, state.villages, state.network.graph, scenarios,
                                 params=settings.network, season=season,
                                 costs=settings.priorities.roads.costs)


def prepare(
    region_path: str | Path,
    *,
    season: Season | None = None,
    priorities: bool = True,
    priority_config: str | Path | None = None,
    config: str | Path | None = None,
    relocation: bool = True,
    scenarios: Sequence[str | Path] = (),
    timer: StageTimer | None = None,
    show_progress_bars: bool = False,
    strict: bool = False,
) -> RegionState:
    """Run the analysis stages in order (the one orchestrator), writing nothing.

    load → :func:`~contigmap.stages.profile_stage` → :func:`~contigmap.stages.network_stage`
    (the run's only network build) → :func:`~contigmap.stages.indicator_stage` →
    priorities → relocation → scenarios.

    Length: most of it is the parameter list; the body is the stage order, one line
    per stage.

    Parameters
    ----------
    region_path
        The region manifest.
    season
        ``dry`` or ``rainy`` road speeds; the settings' season (``dry`` unless the
        region or ``config`` says otherwise) when omitted.
    priorities
        Whether to run the priority stage.
    priority_config
        A priorities YAML file (criteria, weights, costs); the packaged defaults when
        omitted.
    config
        A settings file with optional ``network:``, ``priorities:`` and ``relocation:``
        sections over the defaults (:func:`contigmap.settings.run_settings`); the
        resulting settings are used by every stage and kept in ``RegionState.settings``.
    relocation
        Whether to plan ecological relocation (after the priorities, whose in-place
        costs it weighs; needs the DEM and services).
    scenarios
        Road scenario files to evaluate against the baseline.
    timer
        Records stage times (the CLI's progress display).
    show_progress_bars
        Let long stages draw progress bars.
    strict
        Input rows that would be left out with a warning (table rows with missing
        coordinates) are errors instead.

    Returns
    -------
    RegionState
        The layers, tables and results of every stage run.
    """
    timer = timer or StageTimer()
    with timer.stage("load"):
        region = load_region(region_path)
        settings = run_settings(region, config=config, priority_config=priority_config,
                                season=season)
        data = load_region_layers(region, progress=show_progress_bars, strict=strict)
        data = stages.services_with_townships(data)
        timer.size = describe_size(data)
    with timer.stage("overlay"):
        villages, hamlets = stages.profile_stage(data)
    with timer.stage("network"):
        villages, hamlets, net = stages.network_stage(data, villages, hamlets,
                                                      params=settings.network)
    with timer.stage("indicators"):
        indicators = stages.indicator_stage(data, villages, net)
    state = RegionState(data=data, villages=villages, hamlets=hamlets, network=net,
                        settings=settings, indicators=indicators)
    if priorities:
        with timer.stage("priorities"):
            state = priority_stage(state, settings.priorities)
        if relocation and data.dem is not None and data.services is not None:
            with timer.stage("relocation"):
                state = replace(state, relocation=relocation_plan_from_state(
                    state, settings.relocation))
                state = after_relocation(state)
    if scenarios:
        from contigmap.scenario import load_scenario

        with timer.stage("scenarios"):
            loaded = [load_scenario(p) for p in scenarios]
            state = replace(state, scenarios=evaluate_scenarios(state, loaded))
    return state


def run(
    region_path: str | Path,
    out_dir: str | Path,
    *,
    offline: bool = True,
    season: Season | None = None,
    priority_config: str | Path | None = None,
    config: str | Path | None = None,
    scenarios: Sequence[str | Path] = (),
    basemap: Basemap = "none",
    tianditu_key: str | None = None,
    progress: Progress | None = None,
    show_progress_bars: bool = False,
    force: bool = False,
    strict: bool = False,
) -> RunResult:
    """Run the whole pipeline on one region and write its outputs.

    Length: about 50 of its lines are the parameter docs; the body checks the folder,
    calls :func:`prepare` and :func:`contigmap.publish.publish`.

    Parameters
    ----------
    region_path
        The region manifest (``region.yaml``).
    out_dir
        Output folder; created if needed. Outputs appear there only once every
        stage has succeeded.
    offline
        Inline every script and style sheet into the HTML map, so it works with no
        network.
    season
        ``dry`` or ``rainy``: which season's road speeds to use for travel times (the
        settings' season when omitted).
    priority_config
        A priorities YAML file; the packaged defaults when omitted.
    config
        A settings file with optional ``network:``, ``priorities:`` and ``relocation:``
        sections (:func:`contigmap.settings.run_settings`). The effective settings are
        recorded in the run manifest's parameters.
    scenarios
        Road scenario files to evaluate and compare (tables and map layers).
    basemap, tianditu_key
        Map tiles under the layers: ``none`` (works offline), ``osm``, or ``tianditu``
        (天地图, with the user's key).
    progress
        Called with each stage's name as it starts (the CLI shows it).
    show_progress_bars
        Let long stages draw tqdm progress bars.
    force
        Replace ``out_dir`` even when it is a non-empty folder contigmap did not write
        (never when it holds an input).
    strict
        Input rows that would be left out with a warning (table rows with missing
        coordinates) are errors instead.

    Returns
    -------
    RunResult
        The output paths, the village table and headline figures.

    Raises
    ------
    OutputDirError
        Before any analysis, when ``out_dir`` cannot or must not be written
        (:func:`contigmap.io.outdir.check_output_dir`).
    """
    out_dir = Path(out_dir)
    side_inputs = [*map(Path, scenarios), *_config_paths(priority_config),
                   *([Path(config)] if config else [])]
    check_output_dir(out_dir, region_inputs(region_path), side_inputs=side_inputs, force=force)
    with gc_relaxed():
        result = RunResult(out_dir=out_dir)
        timer = StageTimer(progress, result.timings_s, result.peak_rss_mb)
        state = prepare(region_path, season=season, priority_config=priority_config, config=config,
                        scenarios=scenarios, timer=timer, show_progress_bars=show_progress_bars,
                        strict=strict)
        data = state.data
        result.villages = state.villages
        parameters: dict[str, Any] = {
            "region": data.config.name,
            "working_crs": data.working_crs.to_string(),
            "offline": offline,
            "priority_config": str(priority_config) if priority_config else "packaged defaults",
            "config": str(config) if config else None,
            **state.settings.manifest_parameters(),
            "scenarios": [r.scenario.name for r in state.scenarios],
            "poverty_sources": poverty_sources(state),
        }
        inputs = [Path(region_path), *data.input_paths, *map(Path, scenarios),
                  *([Path(priority_config)] if priority_config else []),
                  *([Path(config)] if config else [])]
        with staged_dir(out_dir, inputs=[Path(region_path), *data.input_paths],
                        side_inputs=side_inputs, force=force) as stage:
            written = publish(state, stage, timer=timer, offline=offline, basemap=basemap,
                              tianditu_key=tianditu_key)
            result.outputs = finish_outputs(stage, out_dir, written, inputs=inputs,
                                            parameters=parameters)
        result.summary = headline_summary(state)
    return result


def _config_paths(priority_config: str | Path | None) -> list[Path]:
    """List the configuration files a run reads: priorities (given or packaged), relocation."""
    from contigmap.priority.config import default_priorities_path
    from contigmap.relocation.costs import default_relocation_path

    priorities = Path(priority_config) if priority_config else default_priorities_path()
    return [priorities, default_relocation_path()]
