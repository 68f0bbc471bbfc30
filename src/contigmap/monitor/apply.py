"""Apply completed works to the data, recompute the indicators, list the gaps left.

Roads
    A completed roads project hardens its village's route to its own township seat:
    the unpaved edges on the village's fastest path to the seat, as the optimiser's
    project generator finds them (:func:`contigmap.optimize.route_projects` over
    :func:`contigmap.network.criticality.own_seat_model`). Their roads are upgraded
    through the scenario engine — one ``upgrade`` change of a scenario
    (:func:`contigmap.scenario.apply_scenario`): drivable roads get ``surface: paved``,
    footpaths become paved village roads — the network is rebuilt from the changed
    roads and every access measure recomputed (:func:`contigmap.network.access_measures`),
    so the travel times, RAI and hardened-road figures follow the network engine's
    definitions. A scenario upgrades whole road features, so a road only partly on
    the route is paved end to end (as a county would report a 通硬化路 project). A
    ``new_road`` project is applied as the paving of the route from the road the
    village is attached to: the new road's own line is not known to the plan, so the
    village's off-road leg stays as it was. A project that changes no road (the route
    is already hardened, or there is none) is reported with a warning.
Water, power, broadband
    A completed project closes its unit's gap: ``<iv>_option`` becomes ``none`` and
    ``<iv>_capex_cny`` 0 (no works needed, :func:`contigmap.priority.tiers.needs_works`),
    ``<iv>_gap_closed`` is true. Broadband is per hamlet (the plan's ``unit_id``).
Relocation
    Recorded, not applied: who moves and where is the relocation stage's plan, and
    moving people changes no guarantee of the village they leave.

Guarantees (:func:`guarantees`), per village, where the intervention was ranked:
``roads_met`` (a hardened road to the own township seat, 通硬化路), ``water_met`` /
``power_met`` (no works needed), ``broadband_met`` (every hamlet of the village needs
no works); ``all_met`` when every ranked one is met, ``missing`` lists the others. The
definition is :func:`contigmap.priority.guarantees.guarantees`, here limited to the works
these completed projects can close.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.errors import DataQualityWarning, warn_data
from contigmap.indicators import headline_indicators
from contigmap.io.region import RegionData
from contigmap.network import (
    RoadGraph,
    access_measures,
    build_network,
    county_summary,
    township_summary,
)
from contigmap.network.criticality import own_seat_model
from contigmap.network.speeds import NetworkParams
from contigmap.optimize import route_projects
from contigmap.priority import registry
from contigmap.priority.guarantees import guarantees as all_guarantees
from contigmap.roadworks import RoadCosts
from contigmap.scenario import Scenario, apply_scenario, parse_scenario

__all__ = ["CompletedWorks", "apply_completed", "close_gaps", "completed_road_scenario",
           "guarantees"]

logger = logging.getLogger(__name__)

GAP_INTERVENTIONS = ("water", "power", "broadband")


@dataclass
class CompletedWorks:
    """The region's tables with the completed works applied.

    Attributes
    ----------
    villages, hamlets
        The tables with recomputed access measures and closed gaps.
    graph
        The road graph after the completed road works (the baseline's when none).
    indicators
        :func:`contigmap.indicators.headline_indicators` on the changed tables.
    guarantees
        :func:`guarantees` after the works.
    changed_roads
        The roads the completed works upgraded (the scenario engine's ``changed``).
    """

    villages: gpd.GeoDataFrame
    hamlets: gpd.GeoDataFrame | None
    graph: RoadGraph
    indicators: pd.DataFrame
    guarantees: pd.DataFrame
    changed_roads: gpd.GeoDataFrame | None


def completed_road_scenario(
    graph: RoadGraph, villages: gpd.GeoDataFrame, services: gpd.GeoDataFrame,
    village_ids: list[str],
) -> Scenario | None:
    """Return the scenario that hardens the routes of ``village_ids`` to their township seats.

    ``None`` when every such route is already hardened (or has no seat to reach).
    """
    chosen = villages[villages["village_id"].astype(str).isin(village_ids)]
    if chosen.empty:
        return None
    model, names = own_seat_model(graph, chosen, services, season=graph.params.season)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        routes = route_projects(model, names, chosen)
    unchanged = sorted(set(chosen["village_id"].astype(str))
                       - set(routes["village_id"].astype(str)))
    if unchanged:
        warn_data(f"monitor: {len(unchanged)} completed road project(s) change no road (the "
                  f"route to the township seat is already hardened, or there is none): "
                  f"{', '.join(unchanged[:5])}{' …' if len(unchanged) > 5 else ''}",
                  logger=logger)
    edges = np.unique(np.concatenate([np.asarray(e, dtype=np.int64) for e in routes["edges"]])
                      ) if len(routes) else np.zeros(0, np.int64)
    if edges.size == 0:
        return None
    drivable = np.isfinite(graph.drive_dry_min[edges])
    rid = graph.road_id[edges].astype(str)
    footpath = sorted(set(rid[~drivable]))
    drive = sorted(set(rid[drivable]) - set(footpath))
    changes: list[dict[str, Any]] = []
    if drive:
        changes.append({"type": "upgrade", "roads": drive, "to": {"surface": "paved"},
                        "label": "完工道路项目 completed road works"})
    if footpath:
        changes.append({"type": "upgrade", "roads": footpath,
                        "to": {"road_class": "village", "surface": "paved"},
                        "label": "完工道路项目（新建） completed road works (new road)"})
    return parse_scenario({"name": "completed-works", "title": "completed works",
                           "changes": changes}, source="completed road works")


def close_gaps(table: pd.DataFrame, iv: str, unit_ids: list[str], id_column: str) -> pd.DataFrame:
    """Close ``iv``'s gap for the given units: option ``none``, cost 0, ``<iv>_gap_closed``."""
    out = table.copy()
    hit = out[id_column].astype(str).isin(unit_ids).to_numpy()
    out[f"{iv}_gap_closed"] = hit
    if f"{iv}_option" in out.columns:
        out.loc[hit, f"{iv}_option"] = "none"
    if f"{iv}_capex_cny" in out.columns:
        out.loc[hit, f"{iv}_capex_cny"] = 0.0
    return out


def guarantees(villages: pd.DataFrame, hamlets: pd.DataFrame | None) -> pd.DataFrame:
    """Return the guarantees completed works can close: roads and :data:`GAP_INTERVENTIONS`.

    :func:`contigmap.priority.guarantees.guarantees` (the one definition) over roads,
    water, power and broadband.
    """
    return all_guarantees(villages, hamlets, names=("roads", *GAP_INTERVENTIONS))


def _units(done: pd.DataFrame, iv: str) -> list[str]:
    rows = done[done["intervention"].astype(str) == iv]
    col = "unit_id" if "unit_id" in rows.columns else "village_id"
    ids = rows[col].astype(str).where(rows[col].astype(str) != "", rows["village_id"].astype(str))
    return sorted(set(ids))


def apply_completed(
    data: RegionData,
    villages: gpd.GeoDataFrame,
    hamlets: gpd.GeoDataFrame | None,
    graph: RoadGraph,
    done: pd.DataFrame,
    *,
    params: NetworkParams | None = None,
    costs: RoadCosts | None = None,
    county_name: str | None = None,
) -> CompletedWorks:
    """Apply the completed projects ``done`` to the region's tables (module docstring).

    Parameters
    ----------
    data
        The region's layers (roads and services in the working CRS).
    villages, hamlets
        The profiled, routed and ranked tables of the baseline run.
    graph
        The baseline road graph.
    done
        Completed plan projects (``village_id``, ``intervention``, ``unit_id``).
    params
        Network settings for the rebuilt graph (the baseline graph's when omitted).
    costs
        Road costs (only the upgraded roads' cost record uses them).
    county_name
        Name of the indicator table's county row.

    Returns
    -------
    CompletedWorks
        The changed tables, graph, indicators and guarantees.
    """
    params = params or graph.params
    road_ids = _units(done, "roads")
    changed = None
    new_graph = graph
    sc = (completed_road_scenario(graph, villages, data.services, road_ids)
          if road_ids and data.services is not None else None)
    if sc is not None:
        applied = apply_scenario(data, sc, costs=costs)
        changed = applied.changed
        new_graph = build_network(applied.roads, dem=data.dem, params=params)
        logger.info("monitor: %d completed road project(s) upgrade %d road(s)",
                    len(road_ids), len(changed))
    if data.services is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            villages = access_measures(new_graph, villages, data.services)
            if hamlets is not None:
                hamlets = access_measures(new_graph, hamlets, data.services, villages=villages)
    for iv in GAP_INTERVENTIONS:
        spec = registry.get(iv)
        ids = _units(done, iv)
        if spec.unit == "hamlet":
            if hamlets is not None:
                hamlets = close_gaps(hamlets, iv, ids, spec.id_column)
        else:
            villages = close_gaps(villages, iv, ids, spec.id_column)
    definition = params.rai_definition()
    has_access = "tt_own_township_seat_min" in villages.columns
    indicators = headline_indicators(
        villages,
        township_access=township_summary(villages, rai_definition=definition)
        if has_access else None,
        county_access=county_summary(villages, rai_definition=definition)
        if has_access else None,
        county_name=county_name)
    return CompletedWorks(villages, hamlets, new_graph, indicators,
                          guarantees(villages, hamlets), changed)
