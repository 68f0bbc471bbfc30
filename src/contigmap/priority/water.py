"""Drinking water: distance and lift to a reliable source, karst, and least-cost supply.

Demand is ``pop × demand_l_per_person_day`` (60 L by default: the water-quantity bar of
水利部《农村饮水安全评价准则》T/CHES 18-2018 for humid areas; SL 310-2019 gives design
values of 40–100 L). A source is *reliable* for a village when its yield covers that
demand (sources are not shared out between villages: a planner checks the shortlist).

Options and their cost models (annualised with the capital recovery factor; the
least *annualised* cost wins, so that options with different lives compare fairly):

* **piped** from one of the ``source_candidates`` nearest reliable sources within
  ``max_distance_m`` and ``max_lift_m``: ``distance × pipe_route_factor × pipe cost``
  + a connection per household + a pump station when the source lies below the
  village (power ``ρ g Q H / η`` at the flow that delivers the day's demand in
  ``pump_hours_per_day``; its electricity a running cost) + treatment per m³;
* **well**: ``⌈demand / well_yield⌉`` boreholes (× ``well_karst_factor`` in karst, where
  wells are deep and often dry) + connections + treatment;
* **cisterns** (水窖/水柜, rainwater tanks, common in karst): one per household.

Karst: a ``karst`` column of the village table (true/false or a 0–1 share) when the
region has one; otherwise a proxy for "no surface water": no perennial river
(``upstream_km2 ≥ karst_river_upstream_km2``) within ``karst_river_distance_m``.

Criteria (more = more need): ``source_distance`` (m to the nearest reliable source),
``source_lift`` (m to lift from it, 0 when it lies higher), ``karst`` (0/1 or share),
``water_cause`` (share of poor households poor from 缺水), ``poor_pop``,
``poverty_incidence``, ``pop``.
"""

from __future__ import annotations

import logging
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pydantic import PositiveFloat, PositiveInt
from scipy.spatial import cKDTree

from contigmap._strict import StrictModel
from contigmap.columns import ColumnInfo
from contigmap.errors import ValidationError, warn_data
from contigmap.finance import crf
from contigmap.priority._common import (
    VILLAGE_PEOPLE_CRITERIA,
    assemble,
    main_cause,
    no_poor_no_cause,
    require,
    select_output,
)
from contigmap.priority.intervention import (
    Intervention,
    InterventionConfig,
    Option,
    PriorityInputs,
)
from contigmap.priority.mcda import Criterion
from contigmap.raster import Raster
from contigmap.terrain import name_list

__all__ = [
    "CRITERIA",
    "INTERVENTION",
    "OPTIONS",
    "WaterConfig",
    "WaterCosts",
    "karst_proxy",
    "water_options",
    "water_priorities",
]

logger = logging.getLogger(__name__)

_G = 9.81
_RHO = 1000.0

_SRC = "priority / water"
COLUMNS: tuple[ColumnInfo, ...] = (
    ColumnInfo("water_demand_m3_day", "drinking-water demand", "日需水量", "m3/day", _SRC),
    ColumnInfo("water_source_id", "nearest reliable source (yield >= demand)",
               "最近的可靠水源", "", _SRC),
    ColumnInfo("water_source_dist_m", "straight distance to the nearest reliable source",
               "距最近可靠水源直线距离", "m", _SRC),
    ColumnInfo("water_source_lift_m", "height to lift water from that source (0 if higher)",
               "自该水源提水扬程", "m", _SRC),
    ColumnInfo("water_karst", "karst: no surface water (flag or share)", "岩溶缺地表水",
               "0-1", _SRC),
    ColumnInfo("water_lcow_cny_m3", "levelised cost of water of the option",
               "方案单方水成本", "CNY/m3", _SRC),
)
"""Its own columns (the common ``water_*`` ones come from the registry)."""

OPTIONS: tuple[Option, ...] = (
    Option("piped", "集中供水管网", "piped supply from a source"),
    Option("well", "打井", "well"),
    Option("cistern", "集雨水窖", "rainwater cisterns (水窖)"),
)


class WaterCosts(StrictModel):
    """Drinking-water cost parameters (see the YAML for sources)."""

    demand_l_per_person_day: PositiveFloat
    max_distance_m: PositiveFloat
    max_lift_m: PositiveFloat
    pipe_route_factor: PositiveFloat
    pipe_cny_per_km: PositiveFloat
    household_connection_cny: PositiveFloat
    pump_fixed_cny: PositiveFloat
    pump_cny_per_kw: PositiveFloat
    pump_efficiency: PositiveFloat
    pump_hours_per_day: PositiveFloat
    electricity_cny_per_kwh: PositiveFloat
    treatment_cny_per_m3: PositiveFloat
    well_cny: PositiveFloat
    well_yield_m3_day: PositiveFloat
    well_karst_factor: PositiveFloat
    cistern_cny_per_household: PositiveFloat
    cistern_om_cny_per_household_year: PositiveFloat
    karst_river_distance_m: PositiveFloat
    karst_river_upstream_km2: PositiveFloat
    piped_life_years: PositiveFloat
    well_life_years: PositiveFloat
    cistern_life_years: PositiveFloat
    om_share_per_year: PositiveFloat
    source_candidates: PositiveInt


class WaterConfig(InterventionConfig):
    """Drinking water: the ``water`` section of ``priorities.yaml``."""

    costs: WaterCosts


CRITERIA: tuple[Criterion, ...] = (
    Criterion("source_distance", "water_source_dist_m",
              lambda r: f"{r['water_source_dist_m'] / 1000:.1f} km to a reliable source",
              lambda r: f"距可靠水源{r['water_source_dist_m'] / 1000:.1f}公里",
              "needs water_sources in the infrastructure layers",
              unit="m", label_en="distance to the nearest reliable water source",
              label_zh="距可靠水源距离"),
    Criterion("source_lift", "water_source_lift_m",
              lambda r: f"water must be lifted {r['water_source_lift_m']:.0f} m",
              lambda r: f"需提水{r['water_source_lift_m']:.0f}米", "needs a DEM",
              unit="m", label_en="height to lift water from that source", label_zh="提水扬程"),
    Criterion("karst", "water_karst", lambda r: "karst, no surface water nearby",
              lambda r: "岩溶地区，附近无地表水",
              unit="0-1", label_en="karst without surface water", label_zh="岩溶缺地表水"),
    Criterion("water_cause", "cause_lack_of_water_share",
              lambda r: main_cause(r, "lack_of_water")[0],
              lambda r: main_cause(r, "lack_of_water")[1], "run the poverty stage first",
              unit="share 0-1", label_en="poor households poor from lack of water",
              label_zh="缺水致贫户占比"),
    *VILLAGE_PEOPLE_CRITERIA,
)


def _pump(demand_m3_day: NDArray[np.float64], lift_m: NDArray[np.float64],
          c: WaterCosts) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Pump power (kW) and yearly energy (kWh) to lift the day's demand ``lift_m``."""
    q_m3_s = demand_m3_day / (c.pump_hours_per_day * 3600.0)
    kw = _RHO * _G * q_m3_s * np.maximum(lift_m, 0.0) / c.pump_efficiency / 1000.0
    return kw, kw * c.pump_hours_per_day * 365.0


def water_options(
    pop: NDArray[np.float64],
    households: NDArray[np.float64],
    source_dist_m: NDArray[np.float64],
    source_lift_m: NDArray[np.float64],
    karst: NDArray[np.float64],
    costs: WaterCosts,
    *,
    rate: float,
) -> pd.DataFrame:
    """Cost of piped supply, a well and cisterns per settlement, and the cheapest.

    ``source_dist_m`` / ``source_lift_m`` describe the source used for the pipe
    (``inf``/``nan`` distance: no pipe possible); ``karst`` > 0.5 counts as karst.

    Returns
    -------
    pandas.DataFrame
        ``demand_m3_day``, ``<opt>_capex_cny`` and ``<opt>_annual_cny`` for ``piped``,
        ``well``, ``cistern``; ``option``, ``capex_cny``, ``annualised_cny``,
        ``lcow_cny_m3``.
    """
    c = costs
    pop = np.asarray(pop, dtype=float)
    hh = np.asarray(households, dtype=float)
    dist = np.nan_to_num(np.asarray(source_dist_m, dtype=float), nan=np.inf)
    lift = np.nan_to_num(np.asarray(source_lift_m, dtype=float), nan=0.0)
    is_karst = np.asarray(karst, dtype=float) > 0.5
    demand = pop * c.demand_l_per_person_day / 1000.0
    m3_year = demand * 365.0
    conn = hh * c.household_connection_cny
    treat = m3_year * c.treatment_cny_per_m3
    kw, kwh = _pump(demand, lift, c)
    pumped = lift > 0
    pipe_ok = np.isfinite(dist) & (dist <= c.max_distance_m) & (lift <= c.max_lift_m)
    with np.errstate(invalid="ignore"):
        piped_capex = (np.where(pipe_ok, dist, 0.0) / 1000.0 * c.pipe_route_factor
                       * c.pipe_cny_per_km + conn
                       + np.where(pumped, c.pump_fixed_cny + kw * c.pump_cny_per_kw, 0.0))
    piped_annual = (piped_capex * (crf(rate, c.piped_life_years) + c.om_share_per_year)
                    + kwh * c.electricity_cny_per_kwh + treat)
    piped_annual = np.where(pipe_ok, piped_annual, np.inf)
    wells = np.maximum(np.ceil(demand / c.well_yield_m3_day), 1.0)
    well_capex = wells * c.well_cny * np.where(is_karst, c.well_karst_factor, 1.0) + conn
    well_annual = well_capex * (crf(rate, c.well_life_years) + c.om_share_per_year) + treat
    cis_capex = hh * c.cistern_cny_per_household
    cis_annual = (cis_capex * crf(rate, c.cistern_life_years)
                  + hh * c.cistern_om_cny_per_household_year)
    annual = np.column_stack([piped_annual, well_annual, cis_annual])
    capex = np.column_stack([np.where(pipe_ok, piped_capex, np.nan), well_capex, cis_capex])
    best = np.argmin(annual, axis=1)
    rows = np.arange(pop.size)
    names = np.array(["piped", "well", "cistern"], dtype=object)
    best_annual = annual[rows, best]
    with np.errstate(divide="ignore", invalid="ignore"):
        lcow = np.where(m3_year > 0, best_annual / m3_year, np.nan)
    return pd.DataFrame({
        "demand_m3_day": demand,
        "piped_capex_cny": capex[:, 0], "piped_annual_cny": piped_annual,
        "well_capex_cny": well_capex, "well_annual_cny": well_annual,
        "cistern_capex_cny": cis_capex, "cistern_annual_cny": cis_annual,
        "option": names[best], "capex_cny": capex[rows, best],
        "annualised_cny": best_annual, "lcow_cny_m3": lcow,
    })


def karst_proxy(
    points: gpd.GeoSeries, rivers: gpd.GeoDataFrame | None, costs: WaterCosts
) -> NDArray[np.float64]:
    """1.0 where no perennial river lies within ``karst_river_distance_m`` of the point."""
    n = len(points)
    if rivers is None or len(rivers) == 0:
        return np.ones(n)
    riv = rivers
    if "upstream_km2" in riv.columns:
        riv = riv[riv["upstream_km2"].to_numpy(float) >= costs.karst_river_upstream_km2]
    if len(riv) == 0:
        return np.ones(n)
    tree = shapely.STRtree(np.asarray(riv.geometry.values))
    _, d = tree.query_nearest(np.asarray(points.values), return_distance=True,
                              all_matches=False)
    return (np.asarray(d, dtype=float) > costs.karst_river_distance_m).astype(float)


def _nearest_sources(
    xy: NDArray[np.float64], z: NDArray[np.float64], demand: NDArray[np.float64],
    sources: gpd.GeoDataFrame, dem: Raster | None, costs: WaterCosts,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.object_],
           NDArray[np.float64], NDArray[np.float64]]:
    """Nearest reliable source (distance, lift, id) and the best-for-a-pipe candidate.

    A village of unknown elevation (``nan`` in ``z``: outside the DEM) lifts the region's
    typical lift: the median lift of the other villages from their nearest reliable
    source (0 when no village has a known elevation).
    """
    n = xy.shape[0]
    sxy = np.column_stack([sources.geometry.x.to_numpy(float), sources.geometry.y.to_numpy(float)])
    sz = dem.sample_bilinear(sxy[:, 0], sxy[:, 1]) if dem is not None else np.zeros(len(sxy))
    sz = np.where(np.isfinite(sz), sz, np.nanmean(z) if np.isfinite(z).any() else 0.0)
    yield_ = (sources["yield_m3_day"].to_numpy(float) if "yield_m3_day" in sources
              else np.full(len(sources), np.inf))
    sid = np.asarray(sources["source_id"], dtype=object)
    k = min(len(sources), 30)
    d, j = cKDTree(sxy).query(xy, k=k)
    d, j = np.asarray(d).reshape(n, k), np.asarray(j).reshape(n, k)
    ok = yield_[j] >= demand[:, None]
    lift = np.maximum(z[:, None] - sz[j], 0.0)
    first = np.where(ok.any(axis=1), np.argmax(ok, axis=1), -1)
    rows = np.arange(n)
    unknown = ~np.isfinite(z)
    if unknown.any():
        seen = lift[rows, np.maximum(first, 0)][~unknown & (first >= 0)]
        seen = seen[np.isfinite(seen)]
        lift[unknown] = float(np.median(seen)) if seen.size else 0.0
    near_d = np.where(first >= 0, d[rows, np.maximum(first, 0)], np.inf)
    near_l = np.where(first >= 0, lift[rows, np.maximum(first, 0)], np.nan)
    near_id = np.asarray(np.where(first >= 0, sid[j[rows, np.maximum(first, 0)]], None),
                         dtype=object)
    # the pipe uses the cheapest of the first `source_candidates` reliable sources
    rank = np.cumsum(ok, axis=1)
    cand = ok & (rank <= costs.source_candidates) & (d <= costs.max_distance_m) \
        & (lift <= costs.max_lift_m)
    q = demand[:, None] / (costs.pump_hours_per_day * 3600.0)
    kw = _RHO * _G * q * lift / costs.pump_efficiency / 1000.0
    score = (d / 1000.0 * costs.pipe_route_factor * costs.pipe_cny_per_km
             + np.where(lift > 0, costs.pump_fixed_cny + kw * costs.pump_cny_per_kw, 0.0)
             + kw * costs.pump_hours_per_day * 365 * costs.electricity_cny_per_kwh * 10.0)
    score = np.where(cand, score, np.inf)
    best = np.argmin(score, axis=1)
    has = np.isfinite(score[rows, best])
    pipe_d = np.where(has, d[rows, best], np.inf)
    pipe_l = np.where(has, lift[rows, best], np.nan)
    return near_d, near_l, near_id, pipe_d, pipe_l


def _elevation(villages: gpd.GeoDataFrame, xy: NDArray[np.float64],
               dem: Raster | None) -> NDArray[np.float64]:
    """Village elevations: ``elevation_m``, else the DEM under each, else 0."""
    if "elevation_m" in villages.columns:
        return pd.to_numeric(villages["elevation_m"], errors="coerce").to_numpy(float)
    if dem is not None:
        return dem.sample_bilinear(xy[:, 0], xy[:, 1])
    return np.zeros(len(villages))


def _note_unknown_elevation(out: pd.DataFrame, z_unknown: NDArray[np.bool_]) -> None:
    """Warn about villages with no elevation and say so in their reasons (in place)."""
    lift = out["water_source_lift_m"].to_numpy(float)
    names = out["name" if "name" in out.columns else "village_id"].astype(str).to_numpy()
    msg = (f"water: {int(z_unknown.sum())} village(s) have no DEM elevation (outside the "
           f"DEM or on its nodata): {name_list(names[z_unknown])}; their lift is the "
           f"region's typical lift (median of the other villages)")
    warn_data(msg, logger=logger)
    out["water_reasons"] = [
        f"{r}; elevation unknown (outside the DEM): lift taken as the region's typical "
        f"{m:.0f} m" if u else r
        for r, u, m in zip(out["water_reasons"], z_unknown, lift, strict=True)]
    out["water_reasons_zh"] = [
        f"{r}；无高程数据，扬程按全区典型值{m:.0f}米估算" if u else r
        for r, u, m in zip(out["water_reasons_zh"], z_unknown, lift, strict=True)]


def water_priorities(
    villages: gpd.GeoDataFrame,
    water_sources: gpd.GeoDataFrame | None,
    config: WaterConfig,
    *,
    dem: Raster | None,
    rivers: gpd.GeoDataFrame | None = None,
    rate: float,
) -> pd.DataFrame:
    """Least-cost drinking-water option, need, rank, tier and reasons per village.

    Parameters
    ----------
    villages
        Village table in the working CRS (``village_id``, ``pop``, ``households``, the
        poverty columns; ``elevation_m`` and ``karst`` when present).
    water_sources
        Points with ``source_id`` and ``yield_m3_day``.
    config
        The ``water`` section of the priority configuration.
    dem
        Elevation (for lifts); without it lifts are 0.
    rivers
        River lines with ``upstream_km2`` (karst proxy) when there is no ``karst`` column.
    rate
        Discount rate.

    Returns
    -------
    pandas.DataFrame
        ``village_id`` and the ``water_*`` columns.
    """
    require(villages, ["village_id", "pop", "households"], "water",
            "households come from the villages layer, a complete registry or pop / "
            "household_size (contigmap.poverty.apply_poverty_sources); run the overlay stage")
    if water_sources is None or len(water_sources) == 0:
        msg = ("water: no water_sources in the infrastructure layers; add the layer to the "
               "region manifest (points with yield_m3_day)")
        raise ValidationError(msg)
    c = config.costs
    pts = villages.geometry
    if not (pts.geom_type == "Point").all():
        pts = pts.representative_point()
    xy = np.column_stack([pts.x.to_numpy(float), pts.y.to_numpy(float)])
    z = _elevation(villages, xy, dem)
    z_unknown = ~np.isfinite(z)
    pop = villages["pop"].to_numpy(float)
    demand = pop * c.demand_l_per_person_day / 1000.0
    near_d, near_l, near_id, pipe_d, pipe_l = _nearest_sources(xy, z, demand, water_sources,
                                                               dem, c)
    if "karst" in villages.columns:
        karst = pd.to_numeric(villages["karst"], errors="coerce").to_numpy(float)
    else:
        karst = karst_proxy(pts, rivers, c)
    opts = water_options(pop, villages["households"].to_numpy(float), pipe_d, pipe_l, karst, c,
                         rate=rate)
    t = no_poor_no_cause(pd.DataFrame(villages.drop(columns="geometry")))
    t["water_demand_m3_day"] = opts["demand_m3_day"].round(2).to_numpy()
    t["water_source_id"] = near_id
    far = float(np.nanmax(np.where(np.isfinite(near_d), near_d, np.nan), initial=0.0))
    # no reliable source at all: the farthest distance seen (flagged in the reasons)
    t["water_source_dist_m"] = np.round(np.where(np.isfinite(near_d), near_d, far), 1)
    t["water_source_lift_m"] = np.round(np.nan_to_num(near_l, nan=0.0), 1)
    t["water_karst"] = karst
    t["water_option"] = opts["option"].to_numpy()
    t["water_capex_cny"] = opts["capex_cny"].round(0).to_numpy()
    t["water_annualised_cny"] = opts["annualised_cny"].round(0).to_numpy()
    t["water_lcow_cny_m3"] = opts["lcow_cny_m3"].round(2).to_numpy()
    t["water_beneficiaries"] = pop
    t["water_poor_beneficiaries"] = t["poor_pop"].to_numpy(float) if "poor_pop" in t else np.nan
    out = assemble(t, "water", CRITERIA, config, id_column="village_id", options=OPTIONS)
    if z_unknown.any():
        _note_unknown_elevation(out, z_unknown)
    logger.info("water: %s", out["water_option"].value_counts().to_dict())
    return select_output(out, "water", ["village_id"], CRITERIA)


def _compute(inputs: PriorityInputs, config: InterventionConfig, rate: float) -> pd.DataFrame:
    """:func:`water_priorities` from the stage's inputs (the registry's ``compute``)."""
    return water_priorities(inputs.villages, inputs.infrastructure.get("water_sources"),
                            cast(WaterConfig, config), dem=inputs.dem, rivers=inputs.rivers,
                            rate=rate)


INTERVENTION = Intervention(
    name="water", label_zh="饮水安全", label_en="safe drinking water", unit="village",
    options=OPTIONS, config_model=WaterConfig, compute=_compute,
    layers_any=("water_sources",), criteria=CRITERIA, columns=COLUMNS,
)
"""This intervention, as :mod:`contigmap.priority.registry` lists it."""
