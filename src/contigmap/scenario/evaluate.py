"""Evaluate a scenario: baseline vs scenario access measures, per village and in sum.

The scenario's road layer (:func:`contigmap.scenario.apply.apply_scenario`) is rebuilt
into a graph and measured with :func:`contigmap.network.access_measures`, exactly as the
baseline, so every measure (travel times, RAI, hardened-road connectivity) follows the
network engine's definitions, including villages that now join a new road. A scenario of
bus routes only, on the baseline's settings, routes on the baseline graph: a run builds
its road network once, and once more per scenario that changes roads or settings. (Screening
thousands of candidate projects uses the incremental engine instead:
:mod:`contigmap.optimize`.)

Per village (columns of :attr:`ScenarioResult.villages`)
    ``d_tt_<kind>_min`` (scenario − baseline minutes to the nearest township seat,
    county seat, health centre, and ``own_township_seat``; negative = faster),
    ``newly_hardened`` (hardened road to the township seat in the scenario, not before),
    ``newly_all_season_2km``, ``lost_access`` (a finite time to the own township seat
    becomes unreachable, or the village becomes isolated), ``lost_hardened``,
    ``bus_access_min`` (walking time to the nearest stop plus half the headway, with a
    bus route), ``gains`` (see below).
Per scenario (:attr:`ScenarioResult.summary`)
    people and poor people newly within 30 / 60 min of their township seat (and newly
    beyond: losses), the RAI before and after, the cost, poor people who gain and the
    cost per poor person who gains. A village *gains* when its time to the own township
    seat falls by at least ``gain_min`` minutes (default 5), or it becomes hardened-
    connected or newly within 2 km of an all-season road, or a bus stop comes within
    30 minutes of access. ``poor_pop`` comes from the village profile when present.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
from pydantic import ValidationError as PydanticValidationError

from contigmap.errors import ConfigError, DataQualityWarning, ValidationError
from contigmap.io.region import RegionData
from contigmap.network import RoadGraph, access_measures, attach_points, build_network
from contigmap.network.speeds import NetworkParams, Season
from contigmap.roadworks import RoadCosts
from contigmap.scenario.apply import AppliedScenario, apply_scenario
from contigmap.scenario.model import Scenario

__all__ = ["Baseline", "ScenarioResult", "baseline_measures", "evaluate_scenario"]

logger = logging.getLogger(__name__)

KINDS = ("township_seat", "county_seat", "health_centre", "own_township_seat")
_BUS_GAIN_MIN = 30.0


@dataclass
class Baseline:
    """The network and measures a scenario is compared with."""

    graph: RoadGraph
    villages: gpd.GeoDataFrame
    params: NetworkParams
    season: Season


@dataclass
class ScenarioResult:
    """What a scenario changes.

    Attributes
    ----------
    scenario
        The scenario.
    villages
        Per village: ids, ``pop``, ``poor_pop``, baseline and scenario times, deltas and
        flags (module docstring); geometry in the working CRS.
    summary
        Per-scenario figures (module docstring).
    changed_roads
        The changed roads with their costs (a map layer).
    applied
        The applied scenario (modified roads, bus routes).
    """

    scenario: Scenario
    villages: gpd.GeoDataFrame
    summary: dict[str, Any]
    changed_roads: gpd.GeoDataFrame
    applied: AppliedScenario | None = field(default=None, repr=False)


def _village_table(data: RegionData, villages: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    base = villages if villages is not None else data.villages
    keep = [c for c in ("village_id", "name", "township_id", "pop", "poor_pop")
            if c in base.columns]
    out = gpd.GeoDataFrame(base[keep].copy(), geometry=base.geometry.values, crs=base.crs)
    if "pop" not in out:
        out["pop"] = 0.0
    if "poor_pop" not in out:
        warnings.warn("villages have no 'poor_pop' (run the poverty / overlay stage); poor-"
                      "weighted figures are 0", DataQualityWarning, stacklevel=3)
        out["poor_pop"] = 0.0
    out["pop"] = out["pop"].astype(float).fillna(0.0)
    out["poor_pop"] = out["poor_pop"].astype(float).fillna(0.0)
    return out


def baseline_measures(
    data: RegionData,
    *,
    villages: gpd.GeoDataFrame | None = None,
    params: NetworkParams | None = None,
    season: Season | None = None,
    graph: RoadGraph | None = None,
) -> Baseline:
    """Build the baseline graph and its access measures (shared by many scenarios).

    ``params`` are the run's effective network settings (defaults when omitted);
    ``season`` overrides their season; ``graph`` reuses a graph already built with
    these settings (the pipeline's) instead of building it again.
    """
    if data.services is None:
        msg = "scenario evaluation needs a services layer (declare services: in region.yaml)"
        raise ValidationError(msg)
    params = params or (graph.params if graph is not None else NetworkParams())
    season = season or params.season
    if season != params.season:
        params = params.layered({"season": season})
    if graph is None or graph.params.model_dump() != params.model_dump():
        graph = build_network(data.roads, dem=data.dem, params=params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        m = access_measures(graph, _village_table(data, villages), data.services)
    return Baseline(graph, m, params, season)


def _bus_access(graph: RoadGraph, villages: gpd.GeoDataFrame, applied: AppliedScenario,
                season: Season) -> np.ndarray:
    out = np.full(len(villages), np.inf)
    if not applied.buses:
        return out
    vxy = np.column_stack([villages.geometry.x.to_numpy(float),
                           villages.geometry.y.to_numpy(float)])
    for route in applied.buses:
        xy = np.vstack([vxy, route.stops_xy])
        n_v = len(vxy)
        att = attach_points(graph, xy, nodes=n_v + np.arange(len(route.stops_xy)))
        walk, _ = att.times_to_nearest(n_v + np.arange(len(route.stops_xy)), mode="walk",
                                       season=season)
        out = np.minimum(out, walk[:n_v] + route.wait_min)
    return out


def _scenario_graph(data: RegionData, scenario: Scenario, applied: AppliedScenario,
                    baseline: Baseline, params: NetworkParams) -> RoadGraph:
    """Return the road graph of the scenario: the baseline's when it changes no road.

    A scenario of bus routes only, with the baseline's network settings, routes on the
    baseline graph (the same roads and settings would build the same graph); any road
    change or setting change builds the scenario's own graph from its roads.
    """
    if (all(ch.type == "bus" for ch in scenario.changes)
            and baseline.graph.params.model_dump() == params.model_dump()):
        return baseline.graph
    return build_network(applied.roads, dem=data.dem, params=params)


def evaluate_scenario(
    data: RegionData,
    scenario: Scenario,
    *,
    baseline: Baseline | None = None,
    villages: gpd.GeoDataFrame | None = None,
    costs: RoadCosts | None = None,
    gain_min: float = 5.0,
) -> ScenarioResult:
    """Evaluate a scenario against the baseline.

    Length: one pass from the two graphs' measures to the per-village flags and the
    summary figures the module docstring defines, kept together so each figure sits
    next to its definition.

    Parameters
    ----------
    data
        The region's layers (working CRS).
    scenario
        The scenario.
    baseline
        A baseline from :func:`baseline_measures` (computed with default parameters in
        the dry season when omitted); pass it to compare many scenarios on one baseline.
        The scenario's network settings are the baseline's with the scenario's
        ``params:`` and ``season:`` on top (:meth:`Scenario.network_params`).
    villages
        The village table to take ``pop`` / ``poor_pop`` from (the profiled table of the
        pipeline); ``data.villages`` when omitted.
    costs
        Road cost parameters (packaged ``priorities.yaml`` when omitted).
    gain_min
        Minutes of travel-time reduction to the own township seat that count as a gain.

    Returns
    -------
    ScenarioResult
        Per-village deltas, the summary and the changed roads.
    """
    if baseline is None:
        baseline = baseline_measures(data, villages=villages)
    applied = apply_scenario(data, scenario, costs=costs)
    try:
        params = scenario.network_params(baseline.params)
    except PydanticValidationError as err:  # pragma: no cover - params checked on load
        msg = f"{scenario.source}: params: {err.errors()[0]['msg']}"
        raise ConfigError(msg) from err
    season = params.season
    graph = _scenario_graph(data, scenario, applied, baseline, params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        m = access_measures(graph, _village_table(data, villages), data.services)
    b = baseline.villages
    out = gpd.GeoDataFrame(
        b[["village_id", "name", "township_id", "pop", "poor_pop"]].copy()
        if "name" in b else b[["village_id", "township_id", "pop", "poor_pop"]].copy(),
        geometry=b.geometry.values, crs=b.crs)
    for kind in KINDS:
        old = b[f"tt_{kind}_min"].to_numpy(float)
        new = m[f"tt_{kind}_min"].to_numpy(float)
        out[f"tt_{kind}_min_base"] = old
        out[f"tt_{kind}_min"] = new
        with np.errstate(invalid="ignore"):
            out[f"d_tt_{kind}_min"] = np.where(np.isfinite(old) & np.isfinite(new), new - old,
                                               np.where(np.isfinite(new), -np.inf, np.inf))
    hard0 = b["hardened_to_township"].to_numpy(bool)
    hard1 = m["hardened_to_township"].to_numpy(bool)
    as0 = b["all_season_2km"].to_numpy(bool)
    as1 = m["all_season_2km"].to_numpy(bool)
    old_own = b["tt_own_township_seat_min"].to_numpy(float)
    new_own = m["tt_own_township_seat_min"].to_numpy(float)
    iso0, iso1 = b["isolated"].to_numpy(bool), m["isolated"].to_numpy(bool)
    out["newly_hardened"] = hard1 & ~hard0
    out["lost_hardened"] = hard0 & ~hard1
    out["newly_all_season_2km"] = as1 & ~as0
    out["lost_access"] = (np.isfinite(old_own) & ~np.isfinite(new_own)) | (iso1 & ~iso0)
    out["rainy_unreachable"] = m["rainy_unreachable"].to_numpy(bool)
    bus = _bus_access(graph, b, applied, season)
    out["bus_access_min"] = np.where(np.isfinite(bus), bus, np.nan)
    faster = np.nan_to_num(old_own - new_own, nan=0.0, posinf=np.inf, neginf=-np.inf) >= gain_min
    gains = faster | out["newly_hardened"].to_numpy() | out["newly_all_season_2km"].to_numpy()
    gains |= bus <= _BUS_GAIN_MIN
    out["gains"] = gains
    pop = out["pop"].to_numpy(float)
    poor = out["poor_pop"].to_numpy(float)
    summary: dict[str, Any] = {"scenario": scenario.name, "title": scenario.title or scenario.name,
                               "season": season, "changes": len(scenario.changes)}
    for lim in (30, 60):
        was, now = old_own <= lim, new_own <= lim
        summary[f"pop_newly_within_{lim}min"] = float(pop[now & ~was].sum())
        summary[f"poor_newly_within_{lim}min"] = float(poor[now & ~was].sum())
        summary[f"pop_no_longer_within_{lim}min"] = float(pop[was & ~now].sum())
        summary[f"poor_no_longer_within_{lim}min"] = float(poor[was & ~now].sum())
    total = float(pop.sum())
    summary["rai_base"] = float((pop * as0).sum() / total) if total else float("nan")
    summary["rai"] = float((pop * as1).sum() / total) if total else float("nan")
    summary["rai_change"] = summary["rai"] - summary["rai_base"]
    summary["villages_newly_hardened"] = int(out["newly_hardened"].sum())
    summary["villages_lost_access"] = int(out["lost_access"].sum())
    summary["pop_lost_access"] = float(pop[out["lost_access"].to_numpy()].sum())
    with np.errstate(invalid="ignore"):
        d = new_own - old_own
    fin = np.isfinite(d)
    summary["person_minutes_saved"] = float(-(pop[fin] * d[fin]).sum())
    summary["poor_person_minutes_saved"] = float(-(poor[fin] * d[fin]).sum())
    summary["pop_gaining"] = float(pop[gains].sum())
    summary["poor_gaining"] = float(poor[gains].sum())
    summary["cost_cny"] = applied.cost_cny
    summary["cost_per_poor_gaining_cny"] = (applied.cost_cny / summary["poor_gaining"]
                                            if summary["poor_gaining"] > 0 else float("nan"))
    summary["roads_changed"] = int((applied.changed["change_type"] != "bus").sum())
    summary["km_changed"] = float(applied.changed.loc[applied.changed["change_type"] != "bus",
                                                      "length_m"].sum() / 1000.0)
    logger.info("scenario %s: %.0f poor gain, cost %.0f CNY, RAI %+.4f", scenario.name,
                summary["poor_gaining"], applied.cost_cny, summary["rai_change"])
    return ScenarioResult(scenario, out, summary, applied.changed, applied)
