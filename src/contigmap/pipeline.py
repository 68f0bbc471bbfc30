"""Chain the stages: load → validate and reproject → overlay → network → render.

:func:`run` is what ``contigmap run`` and ``contigmap demo`` call. It reads nothing
but the region manifest and the layers it declares, and writes everything into one
output folder *all at once*: outputs are staged in a hidden temporary folder beside
the target and moved into place only when every stage has succeeded, so a failed run
leaves no half-written output behind.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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
from contigmap.network.build import RoadGraph
from contigmap.network.speeds import Season
from contigmap.priority.costs import PriorityConfig
from contigmap.priority.run import INTERVENTIONS, PriorityResults
from contigmap.relocation.run import RelocationPlan
from contigmap.render.web import Basemap, MapLayer
from contigmap.scenario import ScenarioResult

__all__ = [
    "NetworkOutputs",
    "RegionState",
    "RunResult",
    "StageTimer",
    "network_stage",
    "prepare",
    "priority_stage",
    "profile_stage",
    "run",
]

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


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


@contextmanager
def staged_dir(out_dir: Path) -> Iterator[Path]:
    """Yield a temporary folder whose files replace those in ``out_dir`` only on success.

    Files are moved one by one with :func:`os.replace`-semantics (``Path.replace``),
    which is atomic per file on one file system; files of earlier runs that this run
    does not produce are left alone.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-partial-", dir=out_dir.parent))
    try:
        yield stage
        out_dir.mkdir(parents=True, exist_ok=True)
        for src in sorted(stage.rglob("*")):
            if src.is_file():
                dst = out_dir / src.relative_to(stage)
                dst.parent.mkdir(parents=True, exist_ok=True)
                src.replace(dst)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


class StageTimer:
    """Time each stage and tell the caller when one starts."""

    def __init__(self, step: Progress | None = None,
                 timings_s: dict[str, float] | None = None) -> None:
        self.step = step
        self.timings_s: dict[str, float] = {} if timings_s is None else timings_s

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name``."""
        if self.step is not None:
            self.step(name)
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
        self.timings_s[name] = round(elapsed, 3)
        logger.info("stage %s done in %.2f s", name, elapsed)


def _village_table(data: RegionData) -> gpd.GeoDataFrame:
    """Start the village table from the villages layer, with township names joined.

    Names come from the townships layer (polygons or a table), else from the names of
    the township-seat services (:func:`contigmap.overlay.township_names`).
    """
    from contigmap.overlay import township_names

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


@dataclass
class NetworkOutputs:
    """What the network stage adds besides village columns."""

    graph: RoadGraph
    components: pd.DataFrame | None = None
    township_summary: pd.DataFrame | None = None
    county_summary: pd.DataFrame | None = None
    travel_time_roads: gpd.GeoDataFrame | None = None


@dataclass
class RegionState:
    """Everything the stages have produced so far for one region.

    Attributes
    ----------
    data
        The loaded, checked and reprojected layers.
    villages, hamlets
        The village and hamlet tables, growing columns stage by stage.
    network
        The road graph and the network stage's summaries.
    priorities
        The priority stage's ranked tables (``None`` before it ran).
    relocation
        The relocation plan (``None`` before it ran).
    scenarios
        Road scenarios evaluated against this state's baseline.
    """

    data: RegionData
    villages: gpd.GeoDataFrame
    hamlets: gpd.GeoDataFrame | None
    network: NetworkOutputs
    priorities: PriorityResults | None = None
    relocation: RelocationPlan | None = None
    scenarios: list[ScenarioResult] = field(default_factory=list)


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

    Hamlets inherit their village's poverty incidence (the registry is kept by
    administrative village).
    """
    from contigmap.overlay import village_profile

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
    if "households" not in villages.columns and "households_registry" in villages.columns:
        logger.info("villages: no households column; using the registry's household counts")
        villages["households"] = villages["households_registry"]
    if hamlets is not None and "poverty_incidence" in villages:
        incidence = villages.set_index("village_id")["poverty_incidence"]
        hamlets = hamlets.copy()
        hamlets["poverty_incidence"] = hamlets["village_id"].map(incidence).to_numpy()
    return villages, hamlets


def network_stage(
    data: RegionData,
    villages: gpd.GeoDataFrame,
    hamlets: gpd.GeoDataFrame | None,
    *,
    season: Season = "dry",
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, NetworkOutputs]:
    """Network stage: routable graph, travel times, RAI and hardened-road connectivity."""
    from contigmap import network

    graph = network.build_network(data.roads, dem=data.dem)
    out = NetworkOutputs(graph=graph, components=network.component_report(graph, villages))
    if data.services is None:
        logger.warning("no services layer: travel times to services are not computed; "
                       "declare `services:` in the region manifest")
        return villages, hamlets, out
    villages = network.access_measures(graph, villages, data.services, season=season)
    if hamlets is not None:
        hamlets = network.access_measures(graph, hamlets, data.services, villages=villages,
                                          season=season)
    out.township_summary = network.township_summary(villages)
    out.county_summary = network.county_summary(villages)
    if (data.services["kind"] == "township_seat").any():
        out.travel_time_roads = network.travel_time_edges(graph, data.services, season=season)
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
    return RegionState(data=data, villages=villages, hamlets=hamlets, network=state.network,
                       priorities=results)


def prepare(
    region_path: str | Path,
    *,
    season: Season = "dry",
    priorities: bool = True,
    priority_config: str | Path | None = None,
    relocation: bool = True,
    scenarios: Sequence[str | Path] = (),
    timer: StageTimer | None = None,
    show_progress_bars: bool = False,
) -> RegionState:
    """Run the analysis stages (load → overlay → network → priorities), writing nothing.

    Parameters
    ----------
    region_path
        The region manifest.
    season
        ``dry`` or ``rainy`` road speeds.
    priorities
        Whether to run the priority stage.
    priority_config
        A priorities YAML file (criteria, weights, costs); the packaged defaults when
        omitted.
    relocation
        Whether to plan ecological relocation (after the priorities, whose in-place
        costs it weighs; needs the DEM and services).
    scenarios
        Road scenario files to evaluate against the baseline.
    timer
        Records stage times (the CLI's progress display).
    show_progress_bars
        Let long stages draw progress bars.

    Returns
    -------
    RegionState
        The layers, tables and results of every stage run.
    """
    timer = timer or StageTimer()
    with timer.stage("load"):
        data = load_region_layers(load_region(region_path), progress=show_progress_bars)
        data = _services_with_townships(data)
    with timer.stage("overlay"):
        villages, hamlets = profile_stage(data)
    with timer.stage("network"):
        villages, hamlets, net = network_stage(data, villages, hamlets, season=season)
    state = RegionState(data=data, villages=villages, hamlets=hamlets, network=net)
    if priorities:
        from contigmap.priority import load_priority_config

        with timer.stage("priorities"):
            config = load_priority_config(priority_config) if priority_config else None
            state = priority_stage(state, config)
        if relocation and data.dem is not None and data.services is not None:
            from contigmap.relocation.run import relocation_plan_from_state

            with timer.stage("relocation"):
                state = replace(state, relocation=relocation_plan_from_state(state))
    if scenarios:
        from contigmap.planning import evaluate_scenarios
        from contigmap.scenario import load_scenario

        with timer.stage("scenarios"):
            loaded = [load_scenario(p) for p in scenarios]
            state = replace(state, scenarios=evaluate_scenarios(state, loaded, season=season))
    return state


def run(
    region_path: str | Path,
    out_dir: str | Path,
    *,
    offline: bool = True,
    season: Season = "dry",
    priority_config: str | Path | None = None,
    scenarios: Sequence[str | Path] = (),
    basemap: Basemap = "none",
    tianditu_key: str | None = None,
    progress: Progress | None = None,
    show_progress_bars: bool = False,
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
        ``dry`` or ``rainy``: which season's road speeds to use for travel times.
    priority_config
        A priorities YAML file; the packaged defaults when omitted.
    scenarios
        Road scenario files to evaluate and compare (tables and map layers).
    basemap, tianditu_key
        Map tiles under the layers: ``none`` (works offline), ``osm``, or ``tianditu``
        (天地图, with the user's key).
    progress
        Called with each stage's name as it starts (the CLI shows it).
    show_progress_bars
        Let long stages draw tqdm progress bars.

    Returns
    -------
    RunResult
        The output paths, the village table and headline figures.
    """
    out_dir = Path(out_dir)
    result = RunResult(out_dir=out_dir)
    timer = StageTimer(progress, result.timings_s)
    state = prepare(region_path, season=season, priority_config=priority_config,
                    scenarios=scenarios, timer=timer, show_progress_bars=show_progress_bars)
    data, villages, hamlets, net = state.data, state.villages, state.hamlets, state.network
    result.villages = villages
    parameters: dict[str, Any] = {
        "region": data.config.name,
        "working_crs": data.working_crs.to_string(),
        "offline": offline,
        "season": season,
        "priority_config": str(priority_config) if priority_config else "packaged defaults",
    }
    inputs = [Path(region_path), *data.input_paths, *map(Path, scenarios)]
    if priority_config:
        inputs.append(Path(priority_config))
    parameters["scenarios"] = [r.scenario.name for r in state.scenarios]

    with staged_dir(out_dir) as stage:
        with timer.stage("write"):
            written = _write_tables(villages, hamlets, stage)
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
    from contigmap.render.compose import region_map_layers, relocation_map_layers

    layers = region_map_layers(state.data, hamlets=state.hamlets,
                               travel_time_roads=state.network.travel_time_roads)
    if state.relocation is not None:
        layers += relocation_map_layers(state.relocation)
    if state.scenarios:
        from contigmap.planning import scenario_map_layers

        layers += [replace(layer, show=False) for layer in scenario_map_layers(state.scenarios)]
    return layers


def _map_facts(state: RegionState) -> list[tuple[str, str]]:
    """Headline figures for the map's key-figures panel."""
    v, net = state.villages, state.network
    facts: list[tuple[str, str]] = []
    if "poor_pop" in v and "pop_registry" in v and v["pop_registry"].sum() > 0:
        facts.append(("贫困发生率 poverty incidence",
                      f"{v['poor_pop'].sum() / v['pop_registry'].sum():.1%} "
                      f"({v['poor_pop'].sum():,.0f} poor people)"))
    if net.county_summary is not None and len(net.county_summary):
        county = net.county_summary.iloc[0]
        facts.append(("农村通达指数 Rural Access Index", f"{county['rai']:.1%}"))
        facts.append(("未通硬化路到乡镇的村 villages without a hardened road to the township",
                      f"{int(county['villages_without_hardened_road'])} / {len(v)}"))
        facts.append(("60分钟内到乡镇驻地的人口 people within 60 min of the seat",
                      f"{county['share_within_60min_seat']:.1%}"))
    if "tt_own_township_seat_min" in v:
        slow = v.nlargest(3, "tt_own_township_seat_min")
        facts.append(("最慢的村 slowest villages", "、".join(
            f"{n}（{t:.0f}分钟）" for n, t in
            zip(slow["name"], slow["tt_own_township_seat_min"], strict=True))))
    if state.relocation is not None:
        r = state.relocation.summary
        facts.append(("建议搬迁 people to relocate",
                      f"{r.get('people_to_relocate', 0):,.0f} → {r.get('sites_used', 0)} sites"))
    return facts


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
    from contigmap.render.report import write_county_report
    from contigmap.render.static import render_static_maps
    from contigmap.validate import region_facts

    data = state.data
    config = data.config
    title = config.title or config.name
    maps = render_static_maps(
        stage / "static", villages=state.villages, region_title=title,
        boundaries=data.boundaries, roads=data.roads, illustrative=config.illustrative,
        source_note=config.source_note or "",
    )
    interventions = state.priorities.tables if state.priorities is not None else None
    report = write_county_report(
        stage, villages=state.villages, region_title=title, facts=region_facts(data),
        interventions=interventions, static_maps=maps, illustrative=config.illustrative,
        source_note=config.source_note or "",
    )
    written = {f"png_{key}": path for key, path in maps.items()}
    written.update({f"report_{key}": path for key, path in report.items()})
    return written


def _summary(state: RegionState) -> dict[str, Any]:
    villages, net = state.villages, state.network
    summary: dict[str, Any] = {"villages": len(villages)}
    if "pop" in villages:
        summary["people"] = int(villages["pop"].sum())
    if "poor_pop" in villages and "pop_registry" in villages:
        total = float(villages["pop_registry"].sum())
        summary["poverty_incidence"] = float(villages["poor_pop"].sum()) / total if total else None
    if net.county_summary is not None and len(net.county_summary):
        county = net.county_summary.iloc[0]
        summary["rural_access_index"] = float(county["rai"])
        summary["no_hardened_road"] = int(county["villages_without_hardened_road"])
    if "tt_own_township_seat_min" in villages:
        slowest = villages.nlargest(3, "tt_own_township_seat_min")
        summary["slowest_villages"] = "、".join(
            f"{name} {tt:.0f} min" for name, tt in
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
