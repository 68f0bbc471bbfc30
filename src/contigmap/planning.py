"""Transport planners' runs: scenarios, their comparison, criticality and the optimiser.

Each function chains :func:`contigmap.pipeline.prepare` (load → overlay → network) with
one analysis, and writes its outputs into a folder all at once (checked before the
analysis, staged beside it and swapped in whole on success by :mod:`contigmap.outdir`,
as :func:`contigmap.pipeline.run` does), with a run manifest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.errors import ConfigError, LayerError
from contigmap.layers import write_table, write_vector
from contigmap.manifest import MANIFEST_NAME, write_run_manifest
from contigmap.network.speeds import Season
from contigmap.outdir import check_output_dir, region_inputs, staged_dir
from contigmap.pipeline import RegionState, StageTimer, prepare
from contigmap.render.web import MapLayer
from contigmap.scenario import (
    Scenario,
    ScenarioResult,
    baseline_measures,
    compare_scenarios,
    evaluate_scenario,
    load_scenario,
    write_scenario_outputs,
)

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

GAIN_CLASSES: tuple[tuple[float, str, str], ...] = (
    (-30.0, "快30分钟以上 ≥ 30 min faster", "#1a9850"),
    (-10.0, "快10–30分钟 10–30 min faster", "#91cf60"),
    (-1.0, "快1–10分钟 1–10 min faster", "#d9ef8b"),
    (1.0, "基本不变 no change", "#e0e0e0"),
    (np.inf, "变慢 slower", "#d73027"),
)
"""Upper bound of the change in minutes to the own township seat, label and colour."""
_LOST = ("失去通达 lost access", "#67001f")


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


def evaluate_scenarios(
    state: RegionState, scenarios: Sequence[Scenario], *, season: Season | None = None
) -> list[ScenarioResult]:
    """Evaluate scenarios on one shared baseline of the region's profiled villages.

    The baseline uses the state's network settings and graph (``season`` overrides the
    settings' season); scenarios add their ``params:`` on top and are costed with the
    state's road costs (``state.settings.priorities.roads.costs``: the user's
    priorities file and ``--config``, not the packaged defaults).
    """
    settings = state.settings
    baseline = baseline_measures(state.data, villages=state.villages, params=settings.network,
                                 season=season, graph=state.network.graph)
    costs = settings.priorities.roads.costs
    return [evaluate_scenario(state.data, sc, baseline=baseline, villages=state.villages,
                              costs=costs) for sc in scenarios]


def _gain_class(delta_min: pd.Series, lost: pd.Series) -> list[str]:
    values = delta_min.to_numpy(dtype=float)
    labels = np.full(values.shape, GAIN_CLASSES[-1][1], dtype=object)
    for upper, label, _ in reversed(GAIN_CLASSES):
        labels[values <= upper] = label
    labels[lost.to_numpy(dtype=bool)] = _LOST[0]
    labels[~np.isfinite(values) & ~lost.to_numpy(dtype=bool)] = GAIN_CLASSES[3][1]
    return [str(v) for v in labels]


def scenario_map_layers(results: Sequence[ScenarioResult]) -> list[MapLayer]:
    """Two map layers per scenario: the changed roads, and villages by their change.

    Villages are coloured by the change in travel time to their own township seat
    (:data:`GAIN_CLASSES`); the first scenario is shown when the map opens.
    """
    layers: list[MapLayer] = []
    colours = {label: colour for _, label, colour in GAIN_CLASSES}
    colours[_LOST[0]] = _LOST[1]
    for k, r in enumerate(results):
        title = r.scenario.name
        v = r.villages
        delta = v.get("d_tt_own_township_seat_min", pd.Series(np.nan, index=v.index))
        lost = v.get("lost_access", pd.Series(False, index=v.index))
        shown = gpd.GeoDataFrame(
            {"name": v["name"] if "name" in v else v["village_id"],
             "change": _gain_class(delta, lost),
             "d_min": delta.round(1)},
            geometry=v.geometry, crs=v.crs,
        )
        layers.append(MapLayer(
            name=f"情景 {title}：村 villages", data=shown, color_column="change",
            color_map=colours, radius=5.0, fill_opacity=0.9, tooltip_columns=["name", "d_min"],
            labels={"name": "村", "d_min": "到本乡镇驻地时间变化（分钟）"},
            legend=[(c, label) for label, c in colours.items()], show=(k == 0),
        ))
        if len(r.changed_roads):
            roads = r.changed_roads
            cols = [c for c in ("road_id", "change", "cost_cny") if c in roads.columns]
            layers.append(MapLayer(
                name=f"情景 {title}：路 roads", data=roads[[*cols, "geometry"]].copy(),
                color="#7b3294", weight=4.0, tooltip_columns=cols, show=(k == 0),
                legend=[("#7b3294", f"{title}: changed roads")],
            ))
    return layers


def _finish(stage: Path, out_dir: Path, written: dict[str, Path], *, inputs: list[Path],
            parameters: dict[str, Any]) -> dict[str, Path]:
    write_run_manifest(stage, inputs=inputs, parameters=parameters,
                       outputs=sorted(written.values()), base_dir=Path.cwd())
    outputs = {key: out_dir / path.relative_to(stage) for key, path in written.items()}
    outputs["manifest"] = out_dir / MANIFEST_NAME
    return outputs


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
        an input); see :func:`contigmap.outdir.check_output_dir`, called before the
        analysis starts.
    config, priority_config
        Settings file and priorities file (:func:`contigmap.settings.run_settings`): the
        network settings of the baseline and the road costs of the scenarios.

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
        results = evaluate_scenarios(state, scenarios)
    with staged_dir(out, inputs=data_inputs, side_inputs=paths, force=force) as stage:
        written = write_scenario_outputs(results, stage)
        with timer.stage("render"):
            written["map"] = _scenario_map(state, results, stage / "scenarios_map.html",
                                           offline=offline)
        outputs = _finish(stage, out, written, inputs=[region_path, *paths,
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
        extra_layers=scenario_map_layers(results),
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
) -> PlanningResult:
    """Rank road segments by who is cut off or delayed when each fails; write table and map.

    ``out_dir`` is checked before the analysis starts (``force`` as in
    :func:`run_scenarios`). ``config``: a settings file whose ``network:`` section sets
    the network engine. With hazard point layers (隐患点) in the region, every segment
    also gets ``hazard_points``, ``hazard_threatened`` and the exposure-weighted cut-off
    columns (:mod:`contigmap.network.criticality`).
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
                                season=state.settings.season, hazards=state.data.hazards)
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
                             legend=[("#d7191c", "关键路段 critical segment")])
            written["map"] = render_web_map(
                stage / "criticality_map.html", villages=state.villages, roads=state.data.roads,
                boundaries=state.data.boundaries, extra_layers=[layer],
                title=f"{region.title or region.name} 关键路段 Road criticality",
                source_note=region.source_note or "", illustrative=region.illustrative,
                offline=offline)
        outputs = _finish(stage, out, written,
                          inputs=[Path(region_path), *state.data.input_paths],
                          parameters={**state.settings.manifest_parameters(), "top": top})
    return PlanningResult(out_dir=out, outputs=outputs,
                          table=pd.DataFrame(top_rows.drop(columns="geometry")))


def _read_candidates(path: Path) -> pd.DataFrame:
    """Read a candidate-project table (CSV or XLSX; ``project_id``, ``road_ids``, ``cost_cny``)."""
    try:
        if path.suffix.lower() in (".xlsx", ".xls"):
            return pd.read_excel(path, dtype={"project_id": str, "road_ids": str})
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
        outputs = _finish(stage, out, written, inputs=inputs,
                          parameters={**state.settings.manifest_parameters(),
                                      "budget_cny": budget_cny, "method": method})
    return PlanningResult(out_dir=out, outputs=outputs, table=chosen)
