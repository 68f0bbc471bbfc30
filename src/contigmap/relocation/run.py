"""The relocation stage end to end: candidates → sites → assignment → plan and map layers.

Typical use::

    from contigmap.pipeline import prepare, relocation_plan_from_state
    from contigmap.relocation.run import write_relocation_outputs
    plan = relocation_plan_from_state(prepare("layers/huayuan/region.yaml"))

(:func:`contigmap.stages.relocation_stage` is the same stage on plain tables and a graph.)
    write_relocation_outputs(plan, "out/relocation")

Bad input: when the thresholds select nobody (or every candidate is cheaper to serve in
place) the plan is empty and says so (a :class:`~contigmap.errors.DataQualityWarning`
for "nobody selected", a note otherwise); when there is no receiving site at all a
:class:`~contigmap.errors.ValidationError` is raised; when the sites cannot take
everyone the plan places as many people as possible and lists the rest in
``plan.unassigned`` (with a warning) — never an exception with half a plan.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from contigmap.columns import ColumnInfo, register_columns
from contigmap.errors import warn_data
from contigmap.io.write import write_table, write_vector
from contigmap.network import RoadGraph, attach_points
from contigmap.raster import Raster
from contigmap.relocation.assign import Assignment, assign_households, households_from_counts
from contigmap.relocation.candidates import candidate_table
from contigmap.relocation.costs import (
    RelocationConfig,
    load_relocation_config,
    relocation_cost_per_person,
)
from contigmap.relocation.sites import Suitability, receiving_sites, suitability_surface

__all__ = [
    "RelocationPlan",
    "relocation_plan",
    "travel_cost_matrix",
    "write_relocation_outputs",
]

logger = logging.getLogger(__name__)

_SRC = "relocation / plan"
register_columns([
    ColumnInfo("reloc_people_assigned", "people of the settlement placed at a receiving site",
               "已安置人数", "people", _SRC),
    ColumnInfo("reloc_people_unassigned", "people to relocate left without a site",
               "未安置人数", "people", _SRC),
    ColumnInfo("reloc_site_ids", "receiving sites of the settlement's households",
               "安置点", "", _SRC),
    ColumnInfo("travel_time_min", "vehicle travel time from the settlement to the site",
               "至安置点车行时间", "min", _SRC),
    ColumnInfo("leaves_township", "the site is in another township", "跨乡镇安置", "bool", _SRC),
    ColumnInfo("assignment_cost_per_person", "assignment cost per person: travel time plus "
               "the leave-the-township penalty", "分配成本（人均）", "min-equivalent", _SRC),
    ColumnInfo("relocation_cny", "relocation cost of the flow: people x (housing + site "
               "services + land)", "搬迁成本", "CNY", _SRC),
])


@dataclass
class RelocationPlan:
    """The relocation stage's results.

    Attributes
    ----------
    settlements
        Every unit scored (hamlets, or villages without hamlets), candidates flagged.
    candidates
        The candidates only, with decisions and what the plan does with them.
    sites
        Receiving sites with ``capacity_people`` and ``load_people``.
    plan
        Who moves where: one row per origin and site (households, people, travel time,
        cost).
    households
        One row per household to relocate, with its site (``None`` when unassigned).
    unassigned
        Origins with households left without a site, and why.
    flows
        Origin → site lines for maps.
    suitability
        The suitability surface (``None`` when not computed).
    summary
        Headline figures.
    notes
        Plain-language messages about the plan.
    """

    settlements: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    plan: pd.DataFrame
    households: pd.DataFrame
    unassigned: pd.DataFrame
    flows: gpd.GeoDataFrame
    suitability: Suitability | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def travel_cost_matrix(
    graph: RoadGraph,
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    leave_township_penalty_min: float,
    max_travel_time_min: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Travel time and assignment cost per person from each origin to each site.

    Vehicle travel times (dry season) on the road graph
    (:meth:`contigmap.network.Attachment.times_to_each`, sites as query nodes); the cost
    adds ``leave_township_penalty_min`` when the site's ``township_id`` differs from the
    origin's; sites farther than ``max_travel_time_min`` (or unreachable) cost ``inf``.

    Returns
    -------
    tuple of pandas.DataFrame
        Travel minutes and cost per person, origins (``reloc_unit_id``) × sites
        (``site_id``).
    """
    o_xy = np.column_stack([origins.geometry.x, origins.geometry.y])
    s_xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    att = attach_points(graph, np.vstack([o_xy, s_xy]), nodes=np.arange(len(sites)) + len(o_xy))
    tt = att.times_to_each(np.arange(len(sites)) + len(o_xy), mode="vehicle")[:, : len(o_xy)].T
    o_town = origins["township_id"].astype(str).to_numpy() if "township_id" in origins else None
    s_town = sites["township_id"].astype(str).to_numpy()
    cost = tt.copy()
    if o_town is not None:
        cost = cost + leave_township_penalty_min * (o_town[:, None] != s_town[None, :])
    cost[~(tt <= max_travel_time_min)] = np.inf
    index = pd.Index(origins["reloc_unit_id"].to_numpy(), name="origin_id")
    cols = pd.Index(sites["site_id"].to_numpy(), name="site_id")
    return pd.DataFrame(tt, index=index, columns=cols), pd.DataFrame(cost, index=index,
                                                                     columns=cols)


def _empty_flows(crs: object) -> gpd.GeoDataFrame:
    cols = ["origin_id", "origin_name", "site_id", "site_name", "households", "people",
            "travel_time_min"]
    return gpd.GeoDataFrame(pd.DataFrame(columns=cols), geometry=gpd.GeoSeries([], crs=crs),
                            crs=crs)


def _empty_plan(settlements: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame,
                sites: gpd.GeoDataFrame | None, suitability: Suitability | None,
                notes: list[str]) -> RelocationPlan:
    crs = settlements.crs
    if sites is None:
        sites = gpd.GeoDataFrame(pd.DataFrame(columns=["site_id", "site_kind", "site_name",
                                                       "township_id", "capacity_people"]),
                                 geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    sites = sites.assign(load_people=0, load_households=0, load_share=0.0)
    plan = pd.DataFrame(columns=["origin_id", "site_id", "households", "people"])
    hh = pd.DataFrame(columns=["household_id", "origin_id", "members", "site_id"])
    un = pd.DataFrame(columns=["origin_id", "households", "people", "why"])
    candidates = candidates.assign(reloc_people_assigned=0, reloc_people_unassigned=0,
                                   reloc_site_ids="")
    summary = _summary(candidates, sites, plan, un)
    summary.update({"assignment_method": "none", "assignment_status": "not run"})
    return RelocationPlan(settlements, candidates, sites, plan, hh, un, _empty_flows(crs),
                          suitability, summary, notes)


def _summary(candidates: pd.DataFrame, sites: pd.DataFrame, plan: pd.DataFrame,
             unassigned: pd.DataFrame) -> dict[str, Any]:
    move = candidates[candidates["reloc_decision"] == "relocate"] if len(candidates) else \
        candidates
    out: dict[str, Any] = {
        "candidates": len(candidates),
        "candidate_people": int(pd.to_numeric(candidates["pop"]).sum()) if len(candidates)
        else 0,
        "to_relocate": len(move),
        "people_to_relocate": int(pd.to_numeric(move["pop"]).sum()) if len(move) else 0,
        "people_assigned": int(pd.to_numeric(plan["people"]).sum()) if len(plan) else 0,
        "people_unassigned": int(pd.to_numeric(unassigned["people"]).sum())
        if len(unassigned) else 0,
        "sites": len(sites),
        "sites_used": int((pd.to_numeric(sites["load_people"]) > 0).sum()) if len(sites) else 0,
        "relocation_cny": float(pd.to_numeric(plan["relocation_cny"]).sum())
        if "relocation_cny" in plan and len(plan) else 0.0,
    }
    if len(plan):
        w = pd.to_numeric(plan["people"])
        out["mean_travel_time_min"] = round(float(np.average(plan["travel_time_min"],
                                                             weights=w)), 1)
        out["people_leaving_township"] = int(w[plan["leaves_township"].astype(bool)].sum())
    return out


def relocation_plan(
    villages: gpd.GeoDataFrame,
    hamlets: gpd.GeoDataFrame | None,
    *,
    graph: RoadGraph,
    services: gpd.GeoDataFrame,
    dem: Raster,
    hazards: dict[str, gpd.GeoDataFrame | Raster] | None = None,
    ecology: dict[str, gpd.GeoDataFrame] | None = None,
    townships: gpd.GeoDataFrame | None = None,
    area: gpd.GeoDataFrame | None = None,
    config: RelocationConfig | str | Path | dict[str, Any] | None = None,
) -> RelocationPlan:
    """Run the relocation stage: candidates, receiving sites, exact assignment.

    Parameters
    ----------
    villages, hamlets
        Village and hamlet tables after the overlay, network and priority stages
        (working CRS).
    graph
        Road graph.
    services
        Service points (seats, schools, health centres).
    dem
        DEM in the working CRS.
    hazards, ecology
        Hazard layers (polygons or rasters) and red line / reserve polygons.
    townships
        Township polygons (site townships).
    area
        Study area (county outline); sites stay inside it.
    config
        ``relocation.yaml`` (path, mapping or model); the packaged defaults when omitted.

    Returns
    -------
    RelocationPlan
        The plan; empty (with a note) when nobody is to move.

    Raises
    ------
    ValidationError
        No receiving site at all (see :func:`~contigmap.relocation.sites.receiving_sites`).
    """
    cfg = load_relocation_config(config)
    settlements = candidate_table(villages, hamlets, cfg.candidates, cfg.costs)
    candidates = settlements[settlements["reloc_candidate"]].copy()
    notes: list[str] = []
    if candidates.empty:
        msg = (f"relocation: the thresholds select no settlement out of {len(settlements)}; "
               "the plan is empty (lower the `candidates:` thresholds in relocation.yaml, or "
               "in the relocation: section of --config, to select some)")
        notes.append(msg)
        warn_data(msg, logger=logger)
        return _empty_plan(settlements, candidates, None, None, notes)
    surface = suitability_surface(dem, graph=graph, services=services, hazards=hazards,
                                  ecology=ecology, area=area, params=cfg.sites)
    sites = receiving_sites(surface, services=services, townships=townships, hazards=hazards,
                            ecology=ecology, params=cfg.sites)
    movers = candidates[candidates["reloc_decision"] == "relocate"]
    if movers.empty:
        msg = (f"relocation: all {len(candidates)} candidates cost less to serve in place; "
               "nobody is assigned a site")
        notes.append(msg)
        logger.info(msg)
        return _empty_plan(settlements, candidates, sites, surface, notes)
    tt, cost = travel_cost_matrix(
        graph, movers, sites,
        leave_township_penalty_min=cfg.assignment.leave_township_penalty_min,
        max_travel_time_min=cfg.assignment.max_travel_time_min)
    households = households_from_counts(movers["reloc_unit_id"], movers["pop"],
                                        movers["households"] if "households" in movers
                                        else [np.nan] * len(movers))
    result = assign_households(households, sites.set_index("site_id")["capacity_people"], cost,
                               time_limit_s=cfg.assignment.time_limit_s,
                               mip_rel_gap=cfg.assignment.mip_rel_gap)
    notes.extend(result.notes)
    return _assemble(settlements, candidates, sites, surface, result, tt, cfg, notes)


def _assemble(settlements: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame,
              sites: gpd.GeoDataFrame, surface: Suitability, result: Assignment,
              tt: pd.DataFrame, cfg: RelocationConfig, notes: list[str]) -> RelocationPlan:
    crs = settlements.crs
    sites = sites.merge(result.loads.drop(columns="capacity_people"), on="site_id", how="left")
    is_town = sites["site_kind"].to_numpy() != "new_site"
    pp = pd.Series(relocation_cost_per_person(cfg.costs, is_town), index=sites["site_id"])
    s_town = sites.set_index("site_id")["township_id"].astype(str)
    site_name = sites.set_index("site_id")["site_name"]
    c_idx = candidates.set_index("reloc_unit_id")
    plan = result.flows.copy()
    plan.insert(1, "origin_name", plan["origin_id"].map(c_idx["name"]).to_numpy())
    plan.insert(3, "site_name", plan["site_id"].map(site_name).to_numpy())
    tt_arr = tt.to_numpy(float)
    o_pos = tt.index.get_indexer(pd.Index(plan["origin_id"]))
    s_pos = tt.columns.get_indexer(pd.Index(plan["site_id"]))
    plan["travel_time_min"] = np.round(tt_arr[o_pos, s_pos], 1)
    plan["leaves_township"] = (plan["origin_id"].map(c_idx["township_id"]).astype(str)
                               != plan["site_id"].map(s_town)).to_numpy()
    plan = plan.rename(columns={"cost_per_person": "assignment_cost_per_person",
                                "cost": "assignment_cost"})
    plan["relocation_cny"] = np.round(plan["people"] * plan["site_id"].map(pp), 0)
    un = result.unassigned.copy()
    un.insert(1, "origin_name", un["origin_id"].map(c_idx["name"]).to_numpy())
    assigned = plan.groupby("origin_id")["people"].sum()
    left = un.set_index("origin_id")["people"] if len(un) else pd.Series(dtype=float)
    where = plan.groupby("origin_id")["site_id"].agg(lambda s: ",".join(map(str, s)))
    ids = candidates["reloc_unit_id"]
    candidates["reloc_people_assigned"] = ids.map(assigned).fillna(0).astype(np.int64).to_numpy()
    candidates["reloc_people_unassigned"] = ids.map(left).fillna(0).astype(np.int64).to_numpy()
    candidates["reloc_site_ids"] = ids.map(where).fillna("").to_numpy()
    o_geom = c_idx.geometry
    s_geom = sites.set_index("site_id").geometry
    lines = [shapely.LineString([o_geom[o], s_geom[s]])
             for o, s in zip(plan["origin_id"], plan["site_id"], strict=True)]
    flows = gpd.GeoDataFrame(
        plan[["origin_id", "origin_name", "site_id", "site_name", "households", "people",
              "travel_time_min"]].copy(), geometry=gpd.GeoSeries(lines, crs=crs), crs=crs)
    summary = _summary(candidates, sites, plan, un)
    summary.update(result.solver.as_summary())
    return RelocationPlan(settlements, candidates, sites, plan, result.households, un, flows,
                          surface, summary, notes)


def _lonlat_table(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    if len(frame) and frame.crs is not None and frame.geom_type.eq("Point").all():
        pts = frame.geometry.to_crs(4326)
        table["lon"] = pts.x.round(6).to_numpy()
        table["lat"] = pts.y.round(6).to_numpy()
    return table


def write_relocation_outputs(plan: RelocationPlan, out_dir: str | Path) -> dict[str, Path]:
    """Write the plan as CSV tables and GeoPackage map layers (each file atomically).

    Files: ``relocation_candidates.csv/.gpkg`` (candidates with reasons and decisions),
    ``relocation_sites.csv/.gpkg`` (sites with capacity and load), ``relocation_plan.csv``
    (who moves where), ``relocation_households.csv``, ``relocation_unassigned.csv``,
    ``relocation_flows.gpkg`` (origin → site lines) and ``relocation_summary.csv``.

    Returns
    -------
    dict of str to pathlib.Path
        Every file written, by a short key.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "candidates_csv": write_table(_lonlat_table(plan.candidates),
                                      out / "relocation_candidates.csv"),
        "candidates_gpkg": write_vector(plan.candidates, out / "relocation_candidates.gpkg",
                                        layer="relocation_candidates"),
        "sites_csv": write_table(_lonlat_table(plan.sites), out / "relocation_sites.csv"),
        "sites_gpkg": write_vector(plan.sites, out / "relocation_sites.gpkg",
                                   layer="relocation_sites"),
        "plan_csv": write_table(plan.plan, out / "relocation_plan.csv"),
        "households_csv": write_table(plan.households, out / "relocation_households.csv"),
        "unassigned_csv": write_table(plan.unassigned, out / "relocation_unassigned.csv"),
        "flows_gpkg": write_vector(plan.flows, out / "relocation_flows.gpkg",
                                   layer="relocation_flows"),
        "summary_csv": write_table(
            pd.DataFrame({"key": list(plan.summary), "value": list(plan.summary.values())}),
            out / "relocation_summary.csv"),
    }
    logger.info("relocation: wrote %d files to %s", len(written), out)
    return written
