"""Chain the stages: load → validate and reproject → overlay → network → render.

:func:`run` is what ``contigmap run`` and ``contigmap demo`` call. It reads nothing
but the region manifest and the layers it declares, and writes everything into one
output folder *all at once*: the folder is checked before the analysis starts, outputs
are staged in a hidden folder beside it, and that folder replaces the output folder
whole only when every stage has succeeded (:mod:`contigmap.outdir`), so a failed or
interrupted run leaves the earlier outputs as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.config import load_region
from contigmap.errors import ValidationError
from contigmap.layers import RegionData, load_region_layers, write_table, write_vector
from contigmap.manifest import MANIFEST_NAME, write_run_manifest
from contigmap.network.speeds import NetworkParams, Season
from contigmap.outdir import check_output_dir, region_inputs, staged_dir
from contigmap.priority.costs import PriorityConfig
from contigmap.priority.run import INTERVENTIONS
from contigmap.relocation.costs import RelocationConfig
from contigmap.relocation.run import RelocationPlan, relocation_plan
from contigmap.render.web import Basemap, MapLayer
from contigmap.scenario import Scenario, ScenarioResult, baseline_measures, evaluate_scenario
from contigmap.settings import run_settings
from contigmap.state import NetworkOutputs, Progress, RegionState, StageTimer

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
    """

    out_dir: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    villages: gpd.GeoDataFrame | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)


def _village_table(data: RegionData) -> gpd.GeoDataFrame:
    """Start the village table from the villages layer, with township names joined.

    Names come from the townships layer (polygons or a table), else from the names of
    the township-seat services (:func:`contigmap.overlay.township_names`).
    """
    from contigmap.overlay.zones import township_names

    villages = data.villages.copy()
    if "township_name" in villages.columns:
        return villages
    townships = data.boundaries.get("townships")
    names = township_names(
        villages,
        townships=townships if townships is not None else data.township_table,
        services=data.services,
    )
    if names is not None:
        villages["township_name"] = names.to_numpy()
    return villages


def _services_with_townships(data: RegionData) -> RegionData:
    """Give services a ``township_id`` from the township polygons when the layer has none.

    Township seats are matched to their villages by ``township_id``; a services layer
    made without that column gets it from the township polygon each point lies in.
    """
    services = data.services
    townships = data.boundaries.get("townships")
    if services is None or townships is None:
        return data
    missing = ("township_id" not in services.columns) or services["township_id"].isna()
    if not np.any(missing):
        return data
    joined = gpd.sjoin(services[["geometry"]], townships[["township_id", "geometry"]],
                       how="left", predicate="within")
    found = joined[~joined.index.duplicated(keep="first")]["township_id"]
    services = services.copy()
    if "township_id" in services.columns:
        services["township_id"] = services["township_id"].fillna(found)
    else:
        services["township_id"] = found
    logger.info("services: township_id taken from the township polygons for %d points",
                int(np.sum(missing)))
    return replace(data, services=services)


def profile_stage(data: RegionData) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """Overlay stage: terrain, hazards, ecology, infrastructure distances and poverty.

    Households and poor people come from the right source
    (:func:`contigmap.poverty.apply_poverty_sources`: villages layer, else a complete
    registry, else ``pop / household_size``; a sample registry gives rates only).
    Hamlets inherit their village's poverty incidence (the registry is kept by
    administrative village).
    """
    from contigmap.overlay.profile import village_profile
    from contigmap.poverty import apply_hamlet_households, apply_poverty_sources, household_size

    villages, hamlets = village_profile(
        _village_table(data),
        village_areas=data.village_areas,
        townships=data.boundaries.get("townships"),
        dem=data.dem,
        hazards=data.hazards,
        ecology=data.ecology,
        infrastructure=data.infrastructure,
        households=data.households,
        hamlets=data.hamlets,
        county=data.boundaries.get("county"),
    )
    size, _ = household_size(data.config)
    spec = data.config.layers.households
    villages = apply_poverty_sources(villages, registry=data.households is not None,
                                     complete=spec.complete if spec is not None else None,
                                     size=size)
    if hamlets is not None:
        hamlets = apply_hamlet_households(hamlets, size=size)
    if hamlets is not None and "poverty_incidence" in villages:
        incidence = villages.set_index("village_id")["poverty_incidence"]
        hamlets["poverty_incidence"] = hamlets["village_id"].map(incidence).to_numpy()
    return villages, hamlets


def network_stage(
    data: RegionData,
    villages: gpd.GeoDataFrame,
    hamlets: gpd.GeoDataFrame | None,
    *,
    season: Season | None = None,
    params: NetworkParams | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, NetworkOutputs]:
    """Network stage: routable graph, travel times, RAI and hardened-road connectivity.

    ``params`` are the effective network settings (defaults when omitted); ``season``
    overrides their season. Every off-road leg (villages and services) is listed in
    ``NetworkOutputs.legs``.
    """
    from contigmap import network

    params = params or NetworkParams()
    if season is not None and season != params.season:
        params = params.layered({"season": season})
    graph = network.build_network(data.roads, dem=data.dem, params=params)
    out = NetworkOutputs(graph=graph, components=network.component_report(graph, villages))
    if data.services is None:
        logger.warning("no services layer: travel times to services are not computed; "
                       "declare `services:` in the region manifest")
        return villages, hamlets, out
    villages = network.access_measures(graph, villages, data.services)
    if hamlets is not None:
        hamlets = network.access_measures(graph, hamlets, data.services, villages=villages)
    definition = params.rai_definition()
    out.township_summary = network.township_summary(villages, rai_definition=definition)
    out.county_summary = network.county_summary(villages, rai_definition=definition)
    out.legs = network.access_legs(graph, villages, data.services)
    if (data.services["kind"] == "township_seat").any():
        out.travel_time_roads = network.travel_time_edges(graph, data.services)
    return villages, hamlets, out


_NEEDS: dict[str, tuple[str, ...]] = {
    "water": ("water_sources",),
    "power": ("power_lines", "substations"),
    "broadband": ("fibre", "towers"),
}


def _feasible_interventions(state: RegionState) -> tuple[str, ...]:
    """Interventions whose input layers the region declares; warn about the others."""
    infra = state.data.infrastructure
    out = []
    for iv in INTERVENTIONS:
        needs = _NEEDS.get(iv, ())
        if needs and not any(name in infra for name in needs):
            logger.warning("priorities: %s skipped: declare infrastructure.%s in the region "
                           "manifest to rank it", iv, " or infrastructure.".join(needs))
            continue
        if iv == "roads" and state.data.dem is None and "relief_m" not in state.villages:
            logger.warning("priorities: roads skipped: road costs depend on the terrain; "
                           "declare `dem:` in the region manifest to rank it")
            continue
        if iv == "broadband" and state.hamlets is None:
            logger.warning("priorities: broadband skipped: it targets natural villages; "
                           "declare the hamlets layer to rank it")
            continue
        out.append(iv)
    return tuple(out)


def _indicators(data: RegionData, villages: gpd.GeoDataFrame,
                net: NetworkOutputs) -> pd.DataFrame:
    """Compute the headline indicators, once, from the village table and network summaries."""
    from contigmap.indicators import headline_indicators

    return headline_indicators(villages, township_access=net.township_summary,
                               county_access=net.county_summary,
                               county_name=data.config.title or data.config.name)


def priority_stage(state: RegionState, config: PriorityConfig | None = None) -> RegionState:
    """Priority stage: rank roads, water, power and broadband; join the columns back.

    Village-level interventions add their ``<iv>_*`` columns to the village table,
    broadband (which targets natural villages) to the hamlet table.
    """
    from contigmap.priority.run import compute_priorities

    data = state.data
    if data.services is None:
        msg = ("priorities need the services layer (township seats); declare `services:` in "
               "the region manifest")
        raise ValidationError(msg)
    config = config or state.settings.priorities
    interventions = _feasible_interventions(state)
    if not interventions:
        logger.warning("priorities: no intervention can be ranked with the layers declared")
        return state
    results = compute_priorities(
        state.villages, state.hamlets, state.network.graph, data.services, data.infrastructure,
        dem=data.dem, rivers=data.rivers, config=config, interventions=interventions,
    )
    villages, hamlets = state.villages, state.hamlets
    for iv, table in results.tables.items():
        key = "hamlet_id" if iv == "broadband" else "village_id"
        cols = [c for c in table.columns if c.startswith(f"{iv}_")]
        joined = table.set_index(key)[cols]
        if iv == "broadband" and hamlets is not None:
            hamlets = hamlets.join(joined, on=key)
        elif iv != "broadband":
            villages = villages.join(joined, on=key)
    return replace(state, villages=villages, hamlets=hamlets, priorities=results)


def relocation_plan_from_state(
    state: RegionState, config: RelocationConfig | str | Path | dict[str, Any] | None = None
) -> RelocationPlan:
    """Relocation stage: :func:`~contigmap.relocation.run.relocation_plan` on a state.

    ``config`` defaults to the state's effective relocation settings
    (``state.settings.relocation``: the packaged file with the ``--config`` overrides).
    """
    data = state.data
    if data.dem is None or data.services is None:
        msg = ("relocation needs the DEM and the services layer (township seats, schools, "
               "health centres); declare `dem:` and `services:` in the region manifest")
        raise ValidationError(msg)
    return relocation_plan(
        state.villages, state.hamlets, graph=state.network.graph, services=data.services,
        dem=data.dem, hazards=data.hazards, ecology=data.ecology,
        townships=data.boundaries.get("townships"), area=data.boundaries.get("county"),
        config=config if config is not None else state.settings.relocation)


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
    """Run the analysis stages (load → overlay → network → priorities), writing nothing.

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
        data = _services_with_townships(data)
    with timer.stage("overlay"):
        villages, hamlets = profile_stage(data)
    with timer.stage("network"):
        villages, hamlets, net = network_stage(data, villages, hamlets,
                                               params=settings.network)
    state = RegionState(data=data, villages=villages, hamlets=hamlets, network=net,
                        settings=settings, indicators=_indicators(data, villages, net))
    if priorities:
        with timer.stage("priorities"):
            state = priority_stage(state, settings.priorities)
        if relocation and data.dem is not None and data.services is not None:
            with timer.stage("relocation"):
                state = replace(state, relocation=relocation_plan_from_state(
                    state, settings.relocation))
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
        (:func:`contigmap.outdir.check_output_dir`).
    """
    out_dir = Path(out_dir)
    side_inputs = [*map(Path, scenarios), *_config_paths(priority_config),
                   *([Path(config)] if config else [])]
    check_output_dir(out_dir, region_inputs(region_path), side_inputs=side_inputs, force=force)
    result = RunResult(out_dir=out_dir)
    timer = StageTimer(progress, result.timings_s)
    state = prepare(region_path, season=season, priority_config=priority_config, config=config,
                    scenarios=scenarios, timer=timer, show_progress_bars=show_progress_bars,
                    strict=strict)
    data, villages, hamlets, net = state.data, state.villages, state.hamlets, state.network
    result.villages = villages
    parameters: dict[str, Any] = {
        "region": data.config.name,
        "working_crs": data.working_crs.to_string(),
        "offline": offline,
        "priority_config": str(priority_config) if priority_config else "packaged defaults",
        "config": str(config) if config else None,
        **state.settings.manifest_parameters(),
    }
    inputs = [Path(region_path), *data.input_paths, *map(Path, scenarios)]
    if priority_config:
        inputs.append(Path(priority_config))
    if config:
        inputs.append(Path(config))
    parameters["scenarios"] = [r.scenario.name for r in state.scenarios]
    parameters["poverty_sources"] = _poverty_sources(state)

    with staged_dir(out_dir, inputs=[Path(region_path), *data.input_paths],
                    side_inputs=side_inputs, force=force) as stage:
        with timer.stage("write"):
            written = _write_tables(villages, hamlets, stage)
            if state.indicators is not None:
                written["indicators_csv"] = write_table(state.indicators,
                                                        stage / "indicators.csv")
            written.update(_write_network_tables(net, stage))
            if state.priorities is not None:
                from contigmap.priority.run import write_priority_tables

                tables = write_priority_tables(state.priorities, stage / "priorities")
                written.update({f"priorities_{k}": v for k, v in tables.items()})
            if state.relocation is not None:
                from contigmap.relocation.run import write_relocation_outputs

                tables = write_relocation_outputs(state.relocation, stage / "relocation")
                written.update({f"relocation_{k}": v for k, v in tables.items()})
            if state.scenarios:
                from contigmap.scenario import write_scenario_outputs

                tables = write_scenario_outputs(state.scenarios, stage / "scenarios")
                written.update({f"scenarios_{k}": v for k, v in tables.items()})
        with timer.stage("render"):
            written["map"] = _render(state, stage / "map.html", offline=offline,
                                     basemap=basemap, tianditu_key=tianditu_key)
        with timer.stage("report"):
            written.update(_report(state, stage))
        write_run_manifest(
            stage,
            inputs=inputs,
            parameters=parameters,
            outputs=sorted(written.values()),
            base_dir=Path.cwd(),
        )
    result.outputs = {key: out_dir / path.relative_to(stage) for key, path in written.items()}
    result.outputs["manifest"] = out_dir / MANIFEST_NAME
    result.summary = _summary(state)
    return result


def _config_paths(priority_config: str | Path | None) -> list[Path]:
    """List the configuration files a run reads: priorities (given or packaged), relocation."""
    from contigmap.priority.costs import default_priorities_path
    from contigmap.relocation.costs import default_relocation_path

    priorities = Path(priority_config) if priority_config else default_priorities_path()
    return [priorities, default_relocation_path()]


def _write_tables(
    villages: gpd.GeoDataFrame, hamlets: gpd.GeoDataFrame | None, stage: Path
) -> dict[str, Path]:
    written = {
        "villages_gpkg": write_vector(villages, stage / "villages.gpkg", layer="villages"),
        "villages_csv": write_table(_as_table(villages), stage / "villages.csv"),
    }
    if hamlets is not None:
        written["hamlets_gpkg"] = write_vector(hamlets, stage / "hamlets.gpkg", layer="hamlets")
        written["hamlets_csv"] = write_table(_as_table(hamlets), stage / "hamlets.csv")
    return written


def _write_network_tables(net: NetworkOutputs, stage: Path) -> dict[str, Path]:
    tables = {
        "components_csv": (net.components, "network_components.csv"),
        "townships_csv": (net.township_summary, "township_access.csv"),
        "county_csv": (net.county_summary, "county_access.csv"),
        "legs_csv": (net.legs, "access_legs.csv"),
    }
    return {key: write_table(frame, stage / name)
            for key, (frame, name) in tables.items() if frame is not None}


def _as_table(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Village table for CSV: geometry as WGS84 lon/lat columns."""
    points = frame.geometry.to_crs(4326)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    floats = table.select_dtypes("float").columns
    table[floats] = table[floats].round(4)
    table["lon"] = points.x.round(6)
    table["lat"] = points.y.round(6)
    return table


def _map_layers(state: RegionState) -> list[MapLayer]:
    from contigmap.render.compose import (
        region_map_layers,
        relocation_map_layers,
        scenario_map_layers,
    )

    layers = region_map_layers(state.data, hamlets=state.hamlets,
                               travel_time_roads=state.network.travel_time_roads)
    if state.relocation is not None:
        layers += relocation_map_layers(state.relocation)
    if state.scenarios:
        layers += [replace(layer, show=False) for layer in scenario_map_layers(state.scenarios)]
    return layers


def _map_facts(state: RegionState) -> list[tuple[str, str]]:
    """Headline figures for the map's key-figures panel."""
    v = state.villages
    facts: list[tuple[str, str]] = []
    county = _county(state)
    if county is not None and _known(county.get("poverty_incidence")):
        facts.append(("贫困发生率 poverty incidence",
                      f"{county['poverty_incidence']:.1%} "
                      f"({county['poor_pop']:,.0f} poor people{_estimate_note(county)})"))
    if county is not None and _known(county.get("rai")):
        facts.append(("农村通达指数 Rural Access Index",
                      f"{county['rai']:.1%} ({_rai_definition(state)})"))
        facts.append(("未通硬化路到乡镇的村 villages without a hardened road to the township",
                      f"{int(county['villages_without_hardened_road'])} / {len(v)}"))
        facts.append(("60分钟内到乡镇驻地的人口 people within 60 min of the seat",
                      f"{county['share_within_60min_seat']:.1%}"))
    if "tt_own_township_seat_min" in v:
        slow = v.nlargest(3, "tt_own_township_seat_min")
        facts.append(("最慢的村 slowest villages", "、".join(
            f"{n}（{t:.0f}分钟）" if np.isfinite(t) else f"{n}（无路可达）" for n, t in
            zip(slow["name"], slow["tt_own_township_seat_min"], strict=True))))
    if state.relocation is not None:
        r = state.relocation.summary
        facts.append(("建议搬迁 people to relocate",
                      f"{r.get('people_to_relocate', 0):,.0f} → {r.get('sites_used', 0)} sites"))
    return facts


def _county(state: RegionState) -> pd.Series | None:
    """Return the county row of the state's headline indicators."""
    from contigmap.indicators import county_indicators

    return None if state.indicators is None else county_indicators(state.indicators)


def _rai_definition(state: RegionState) -> str:
    """Say which roads count as all-season for the Rural Access Index of this run."""
    summary = state.network.county_summary
    if summary is not None and "rai_definition" in summary and len(summary):
        return str(summary["rai_definition"].iloc[0])
    return state.settings.network.rai_definition()


def _known(value: Any) -> bool:
    return value is not None and bool(np.isfinite(float(value)))


def _estimate_note(county: pd.Series) -> str:
    from contigmap.indicators import is_estimate

    return ", estimated from a registry sample 抽样估算" if is_estimate(county) else ""


def _poverty_sources(state: RegionState) -> dict[str, Any]:
    """Where households and poor people came from, with villages per source."""
    from contigmap.poverty import poverty_sources

    return poverty_sources(state.villages, state.data.config)


def _render(state: RegionState, path: Path, *, offline: bool, basemap: Basemap = "none",
            tianditu_key: str | None = None) -> Path:
    from contigmap.render.web import render_web_map

    data = state.data
    config = data.config
    return render_web_map(
        path,
        villages=state.villages,
        roads=data.roads,
        boundaries=data.boundaries,
        extra_layers=_map_layers(state),
        title=config.title or config.name,
        source_note=config.source_note or "",
        illustrative=config.illustrative,
        offline=offline,
        basemap=basemap,
        tianditu_key=tianditu_key,
        facts=_map_facts(state),
    )


def _report(state: RegionState, stage: Path) -> dict[str, Path]:
    """Draw the static PNG maps and write the county report (HTML, Markdown, XLSX)."""
    from contigmap.facts import region_facts
    from contigmap.render.report import write_county_report
    from contigmap.render.static import render_static_maps

    data = state.data
    config = data.config
    title = config.title or config.name
    maps = render_static_maps(
        stage / "static", villages=state.villages, region_title=title,
        boundaries=data.boundaries, roads=data.roads, illustrative=config.illustrative,
        source_note=config.source_note or "",
    )
    interventions = state.priorities.tables if state.priorities is not None else None
    from contigmap.poverty import poverty_source_lines

    facts = region_facts(data, indicators=state.indicators)
    county = _county(state)
    if county is not None and _known(county.get("rai")):
        facts["rural_access_index"] = f"{county['rai']:.1%} ({_rai_definition(state)})"
    report = write_county_report(
        stage, villages=state.villages, region_title=title, facts=facts,
        interventions=interventions, static_maps=maps, illustrative=config.illustrative,
        source_note=config.source_note or "", indicators=state.indicators,
        source_lines=poverty_source_lines(_poverty_sources(state)),
    )
    written = {f"png_{key}": path for key, path in maps.items()}
    written.update({f"report_{key}": path for key, path in report.items()})
    return written


def _summary(state: RegionState) -> dict[str, Any]:
    villages = state.villages
    summary: dict[str, Any] = {"villages": len(villages)}
    county = _county(state)
    if county is not None and _known(county.get("pop")):
        summary["people"] = int(county["pop"])
    if county is not None and _known(county.get("poverty_incidence")):
        summary["poverty_incidence"] = float(county["poverty_incidence"])
        summary["poor_people"] = (f"{county['poor_pop']:,.0f}{_estimate_note(county)}")
    sources = _poverty_sources(state)
    summary["poverty_sources"] = "; ".join(
        f"{what} from " + ", ".join(f"{k} {n}" for k, n in sources[col].items())
        for what, col in (("households", "households_source"), ("poor", "poor_pop_source"))
        if sources[col])
    if county is not None and _known(county.get("rai")):
        summary["rural_access_index"] = float(county["rai"])
        summary["no_hardened_road"] = int(county["villages_without_hardened_road"])
    if "tt_own_township_seat_min" in villages:
        slowest = villages.nlargest(3, "tt_own_township_seat_min")
        summary["slowest_villages"] = "、".join(
            f"{name} {tt:.0f} min" if np.isfinite(tt) else f"{name} no route" for name, tt in
            zip(slowest["name"], slowest["tt_own_township_seat_min"], strict=True)
        )
    if state.relocation is not None:
        reloc = state.relocation.summary
        summary["relocate_people"] = int(reloc.get("people_to_relocate", 0))
        summary["relocate_sites_used"] = int(reloc.get("sites_used", 0))
    for r in state.scenarios:
        gain = r.summary.get("poor_gaining", 0)
        lost = r.summary.get("pop_lost_access", 0)
        summary[f"scenario_{r.scenario.name}"] = (
            f"poor gaining {gain:.0f}, people losing access {lost:.0f}, "
            f"cost {r.summary.get('cost_cny', 0) / 1e6:.1f} M CNY")
    if state.priorities is not None:
        for iv, table in state.priorities.tables.items():
            top = table.nsmallest(3, f"{iv}_rank")
            names = top["name"] if "name" in top else top.iloc[:, 0]
            summary[f"top_{iv}"] = "、".join(str(n) for n in names)
    return summary
