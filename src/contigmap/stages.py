"""The analysis stages, each a function with a plain contract.

Every stage takes plain objects — the loaded layers (:class:`~contigmap.io.region.RegionData`),
GeoDataFrames, the road graph and a settings object — and returns a typed result. No
stage reads global state or another stage's hidden output, so the orchestrator
(:func:`contigmap.pipeline.prepare`), ``contigmap validate``'s dry run
(:mod:`contigmap.dryrun`) and the planning runs (:mod:`contigmap.planning`) call the
same functions and cannot drift apart.

Order (owned by :func:`contigmap.pipeline.prepare`)::

    services_with_townships → profile_stage → network_stage → indicator_stage
        → priority_stage → relocation_stage → scenario_stage

The road network is built once, in :func:`network_stage`; every later stage receives
that graph.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.errors import ValidationError
from contigmap.io.region import RegionData
from contigmap.network.build import RoadGraph
from contigmap.network.speeds import NetworkParams, Season
from contigmap.priority import registry
from contigmap.priority.config import PriorityConfig
from contigmap.priority.feasible import feasible_interventions
from contigmap.priority.run import PriorityResults
from contigmap.relocation.costs import RelocationConfig
from contigmap.relocation.run import RelocationPlan, relocation_plan
from contigmap.roadworks import RoadCosts
from contigmap.scenario import Scenario, ScenarioResult, baseline_measures, evaluate_scenario
from contigmap.scenario.evaluate import Baseline
from contigmap.state import NetworkOutputs
from contigmap.tasks import ExecutionOptions, map_tasks

__all__ = [
    "NetworkStage",
    "PriorityStage",
    "Profile",
    "after_relocation_stage",
    "indicator_stage",
    "network_stage",
    "priority_stage",
    "profile_stage",
    "relocation_stage",
    "scenario_stage",
    "services_with_townships",
]

logger = logging.getLogger(__name__)


class Profile(NamedTuple):
    """The overlay stage's result: the profiled village and hamlet tables."""

    villages: gpd.GeoDataFrame
    hamlets: gpd.GeoDataFrame | None


class NetworkStage(NamedTuple):
    """The network stage's result: tables with access columns, graph and summaries."""

    villages: gpd.GeoDataFrame
    hamlets: gpd.GeoDataFrame | None
    network: NetworkOutputs


class PriorityStage(NamedTuple):
    """The priority stage's result: tables with ``<iv>_*`` columns and the ranked tables.

    ``priorities`` is ``None`` when no intervention could be ranked.
    """

    villages: gpd.GeoDataFrame
    hamlets: gpd.GeoDataFrame | None
    priorities: PriorityResults | None


def services_with_townships(data: RegionData) -> RegionData:
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


def profile_stage(data: RegionData) -> Profile:
    """Overlay stage: terrain, hazards, ecology, infrastructure distances and poverty.

    Households and poor people come from the right source
    (:func:`contigmap.poverty.apply_poverty_sources`: villages layer, else a complete
    registry, else ``pop / household_size``; a sample registry gives rates only).
    Hamlets inherit their village's poverty incidence (the registry is kept by
    administrative village).
    """
    from contigmap.overlay import village_profile
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
    villages = apply_poverty_sources(
        villages, registry=data.households is not None,
        complete=spec.declared_coverage() if spec is not None else None, size=size,
        covered=spec.covered if spec is not None else None)
    if hamlets is not None:
        hamlets = apply_hamlet_households(hamlets, size=size)
    if hamlets is not None and "poverty_incidence" in villages:
        incidence = villages.set_index("village_id")["poverty_incidence"]
        hamlets["poverty_incidence"] = hamlets["village_id"].map(incidence).to_numpy()
    return Profile(villages, hamlets)


def network_stage(
    data: RegionData,
    villages: gpd.GeoDataFrame,
    hamlets: gpd.GeoDataFrame | None,
    *,
    season: Season | None = None,
    params: NetworkParams | None = None,
) -> NetworkStage:
    """Network stage: routable graph, travel times, RAI and hardened-road connectivity.

    The only place a run builds its road network. ``params`` are the effective network
    settings (defaults when omitted); ``season`` overrides their season. Every off-road
    leg (villages and services) is listed in ``NetworkOutputs.legs``.
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
        return NetworkStage(villages, hamlets, out)
    villages = network.access_measures(graph, villages, data.services)
    if hamlets is not None:
        hamlets = network.access_measures(graph, hamlets, data.services, villages=villages)
    definition = params.rai_definition()
    out.township_summary = network.township_summary(villages, rai_definition=definition)
    out.county_summary = network.county_summary(villages, rai_definition=definition)
    out.legs = network.access_legs(graph, villages, data.services)
    if (data.services["kind"] == "township_seat").any():
        out.travel_time_roads = network.travel_time_edges(graph, data.services)
    return NetworkStage(villages, hamlets, out)


def indicator_stage(data: RegionData, villages: pd.DataFrame,
                    network: NetworkOutputs | None = None) -> pd.DataFrame:
    """Headline indicators (:func:`contigmap.indicators.headline_indicators`), once per run.

    ``network`` gives the RAI and hardened-road figures (its township and county
    summaries); without it (no network stage) only the people and poverty figures.
    Every output reads the figures from this table.
    """
    from contigmap.indicators import headline_indicators

    return headline_indicators(
        villages,
        township_access=network.township_summary if network is not None else None,
        county_access=network.county_summary if network is not None else None,
        county_name=data.config.title or data.config.name)


def priority_stage(
    data: RegionData,
    villages: gpd.GeoDataFrame,
    hamlets: gpd.GeoDataFrame | None,
    graph: RoadGraph,
    config: PriorityConfig,
) -> PriorityStage:
    """Priority stage: rank every feasible registered intervention; join the columns back.

    Each intervention's ``<iv>_*`` columns join the table of its unit
    (:attr:`~contigmap.priority.intervention.Intervention.unit`): the village table, or the
    hamlet table for natural-village works such as broadband.

    Raises
    ------
    ValidationError
        The region has no services layer (township seats).
    """
    from contigmap.priority.run import compute_priorities

    if data.services is None:
        msg = ("priorities need the services layer (township seats); declare `services:` in "
               "the region manifest")
        raise ValidationError(msg)
    interventions = feasible_interventions(data.infrastructure, has_dem=data.dem is not None,
                                           villages=villages, hamlets=hamlets)
    if not interventions:
        logger.warning("priorities: no intervention can be ranked with the layers declared")
        return PriorityStage(villages, hamlets, None)
    results = compute_priorities(
        villages, hamlets, graph, data.services, data.infrastructure,
        dem=data.dem, rivers=data.rivers, config=config, interventions=interventions,
    )
    parts: dict[tuple[str, str], list[pd.DataFrame]] = {}
    for iv, table in results.tables.items():
        spec = registry.get(iv)
        cols = [c for c in table.columns if c.startswith(f"{iv}_")]
        parts.setdefault((spec.unit, spec.id_column), []).append(
            table.set_index(spec.id_column)[cols])
    for (unit, id_column), joined in parts.items():
        if unit == "hamlet" and hamlets is not None:
            hamlets = _join_all(hamlets, joined, id_column)
        elif unit == "village":
            villages = _join_all(villages, joined, id_column)
    return PriorityStage(villages, hamlets, results)


def _join_all(table: gpd.GeoDataFrame, parts: list[pd.DataFrame], id_column: str
              ) -> gpd.GeoDataFrame:
    """``table.join(part, on=id_column)`` for each part in turn, in one join when it can.

    Parts indexed by the same unique ids (every intervention ranks every unit) are put
    side by side first, so the wide table is copied once, not once per intervention;
    the columns and values are those of the joins one after another.
    """
    first = parts[0].index
    if len(parts) > 1 and first.is_unique and all(
            p.index.is_unique and len(p.index) == len(first) and p.index.isin(first).all()
            for p in parts[1:]):
        parts = [pd.concat([p if p.index.equals(first) else p.reindex(first)
                            for p in parts], axis=1)]
    for part in parts:
        table = table.join(part, on=id_column)
    return table


def after_relocation_stage(
    data: RegionData,
    stage: PriorityStage,
    graph: RoadGraph,
    plan: RelocationPlan,
) -> PriorityStage:
    """Rank again the interventions that read the relocation plan's decisions (housing).

    The relocation stage weighs the in-place costs of the priority stage, so it comes
    after it; an intervention marked ``after_relocation`` (never ``in_place``) is then
    ranked again with each village's and hamlet's ``reloc_decision`` from ``plan``, and
    its ``<iv>_*`` columns are replaced. Nothing changes without such an intervention or
    without relocation candidates.
    """
    from contigmap.priority.intervention import PriorityInputs
    from contigmap.priority.run import rerank

    results = stage.priorities
    if results is None or not len(plan.candidates):
        return stage
    names = [n for n in results.tables if registry.get(n).after_relocation]
    if not names:
        return stage
    cand = plan.candidates
    villages = _with_decisions(stage.villages, cand, "village", "village_id")
    hamlets = (None if stage.hamlets is None else
               _with_decisions(stage.hamlets, cand, "hamlet", "hamlet_id"))
    inputs = PriorityInputs(villages=villages, hamlets=hamlets, graph=graph,
                            services=data.services, infrastructure=data.infrastructure,
                            dem=data.dem, rivers=data.rivers)
    results = rerank(results, names, inputs)
    out_v, out_h = stage.villages, stage.hamlets
    for iv in names:
        spec = registry.get(iv)
        table = results.tables[iv]
        cols = [c for c in table.columns if c.startswith(f"{iv}_")]
        joined = table.set_index(spec.id_column)[cols]
        if spec.unit == "hamlet" and out_h is not None:
            out_h = out_h.drop(columns=[c for c in cols if c in out_h]).join(
                joined, on=spec.id_column)
        elif spec.unit == "village":
            out_v = out_v.drop(columns=[c for c in cols if c in out_v]).join(
                joined, on=spec.id_column)
    return PriorityStage(out_v, out_h, results)


def _with_decisions(table: gpd.GeoDataFrame, candidates: pd.DataFrame, unit: str,
                    id_column: str) -> gpd.GeoDataFrame:
    """``table`` with the relocation decision of its rows (``""`` where not a candidate)."""
    rows = candidates[candidates["reloc_unit"] == unit]
    decision = dict(zip(rows["reloc_unit_id"].astype(str), rows["reloc_decision"].astype(str),
                        strict=True))
    out = table.copy()
    out["reloc_decision"] = [decision.get(i, "") for i in table[id_column].astype(str)]
    return out


def relocation_stage(
    data: RegionData,
    villages: gpd.GeoDataFrame,
    hamlets: gpd.GeoDataFrame | None,
    graph: RoadGraph,
    config: RelocationConfig | str | Path | dict[str, Any] | None,
) -> RelocationPlan:
    """Relocation stage: :func:`~contigmap.relocation.run.relocation_plan` on the run's tables.

    ``config`` as :func:`~contigmap.relocation.run.relocation_plan` takes it (the run's
    effective relocation settings).

    Raises
    ------
    ValidationError
        The region has no DEM or no services layer.
    """
    if data.dem is None or data.services is None:
        msg = ("relocation needs the DEM and the services layer (township seats, schools, "
               "health centres); declare `dem:` and `services:` in the region manifest")
        raise ValidationError(msg)
    return relocation_plan(
        villages, hamlets, graph=graph, services=data.services,
        dem=data.dem, hazards=data.hazards, ecology=data.ecology,
        townships=data.boundaries.get("townships"), area=data.boundaries.get("county"),
        config=config)


def scenario_stage(
    data: RegionData,
    villages: gpd.GeoDataFrame,
    graph: RoadGraph,
    scenarios: Sequence[Scenario],
    *,
    params: NetworkParams,
    costs: RoadCosts,
    season: Season | None = None,
    execution: ExecutionOptions | None = None,
) -> list[ScenarioResult]:
    """Evaluate scenarios on one shared baseline: the run's graph and profiled villages.

    ``params`` are the run's network settings (``season`` overrides their season; the
    baseline graph is reused when they are the graph's); scenarios add their ``params:``
    on top and are priced with ``costs`` (the run's road costs: the user's priorities
    file and ``--config``, not the packaged defaults). Scenarios are independent: with
    ``execution`` they are tasks of :func:`contigmap.tasks.map_tasks` (the baseline is
    sent to each worker once); the results are the serial run's.
    """
    baseline = baseline_measures(data, villages=villages, params=params, season=season,
                                 graph=graph)
    return map_tasks(_scenario_task, scenarios, shared=(data, baseline, villages, costs),
                     options=execution, label=lambda sc: sc.name, what="scenario")


def _scenario_task(scenario: Scenario, data: RegionData, baseline: Baseline,
                   villages: gpd.GeoDataFrame, costs: RoadCosts) -> ScenarioResult:
    """One scenario against the shared baseline (a task of :func:`scenario_stage`)."""
    return evaluate_scenario(data, scenario, baseline=baseline, villages=villages, costs=costs)
