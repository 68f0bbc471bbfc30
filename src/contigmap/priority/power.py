"""Power: least-cost electrification per village, in the manner of OnSSET.

OnSSET (the Open Source Spatial Electrification Tool of KTH-dESA and the World Bank;
Mentis et al. 2017, "Lighting the World: the first application of an open source,
spatial electrification tool (OnSSET) on Sub-Saharan Africa", *Environ. Res. Lett.*
12 085003; onsset.readthedocs.io) compares, per settlement, the levelised cost of
electricity of grid extension, mini-grids and stand-alone systems at a demand level
and picks the cheapest. Here:

* **demand**: people × the kWh per person per year of the chosen World Bank
  Multi-Tier Framework tier (Bhatia and Angelou 2015, ESMAP *Beyond Connections*;
  OnSSET's tier values);
* **grid extension**: a 10 kV line routed *along roads* from the nearest power line or
  substation (a line within ``direct_connection_m`` in a straight line is joined
  straight), a transformer and a service drop per household; energy at the
  generation price grossed up for losses;
* **solar mini-grid**: PV + battery sized to the yearly demand at a capacity factor,
  plus a distribution network per household;
* **solar home systems**: a kit per household by tier, only up to ``shs_max_tier``.

LCOE (OnSSET's formula): ``Σₜ (Iₜ + OMₜ + Fₜ) / (1 + r)ᵗ / Σₜ Eₜ / (1 + r)ᵗ`` over
``t = 1 … horizon`` with the investment at ``t = 0``, re-investment when the equipment's
life ends within the horizon and its straight-line salvage value credited at the end.

Criteria (more = more need): ``grid_distance`` (metres of line to build),
``lcoe`` (CNY/kWh of the cheapest option), ``poor_pop``, ``poverty_incidence``, ``pop``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pydantic import Field, PositiveFloat

from contigmap._strict import StrictModel
from contigmap.columns import ColumnInfo
from contigmap.errors import ValidationError
from contigmap.network import RoadGraph
from contigmap.priority._common import (
    VILLAGE_PEOPLE_CRITERIA,
    assemble,
    require,
    select_output,
)
from contigmap.priority._network import along_road_to_features, feature_points
from contigmap.priority.intervention import (
    Intervention,
    InterventionConfig,
    Option,
    PriorityInputs,
)
from contigmap.priority.mcda import Criterion

__all__ = [
    "CRITERIA",
    "INTERVENTION",
    "OPTIONS",
    "PowerConfig",
    "PowerCosts",
    "electrification_options",
    "lcoe",
    "power_priorities",
]

logger = logging.getLogger(__name__)

_SRC = "priority / power"
COLUMNS: tuple[ColumnInfo, ...] = (
    ColumnInfo("power_lcoe_cny_kwh", "levelised cost of electricity of the option (OnSSET)",
               "方案平准化度电成本", "CNY/kWh", _SRC),
    ColumnInfo("power_grid_ext_m", "length of 10 kV line to build, along roads",
               "需新建10千伏线路长度（沿路）", "m", _SRC),
    ColumnInfo("power_demand_kwh_year", "yearly electricity demand at the chosen tier",
               "年用电需求", "kWh/year", _SRC),
)
"""Its own columns (the common ``power_*`` ones come from the registry)."""

OPTIONS: tuple[Option, ...] = (
    Option("grid", "电网延伸", "grid extension"),
    Option("minigrid", "光伏微电网", "solar mini-grid"),
    Option("shs", "户用光伏系统", "solar home systems"),
)


class PowerCosts(StrictModel):
    """Electrification cost parameters, OnSSET style (see the YAML for sources)."""

    demand_tier: int = Field(ge=1, le=5)
    tier_kwh_per_person_year: list[PositiveFloat] = Field(min_length=5, max_length=5)
    horizon_years: PositiveFloat
    grid_generation_cny_per_kwh: PositiveFloat
    grid_losses_share: PositiveFloat
    mv_line_cny_per_km: PositiveFloat
    connection_cny_per_household: PositiveFloat
    transformer_cny: PositiveFloat
    grid_om_share_per_year: PositiveFloat
    grid_life_years: PositiveFloat
    direct_connection_m: PositiveFloat
    line_to_road_max_m: PositiveFloat
    minigrid_cny_per_kw: PositiveFloat
    minigrid_capacity_factor: PositiveFloat
    minigrid_om_share_per_year: PositiveFloat
    minigrid_life_years: PositiveFloat
    minigrid_distribution_cny_per_household: PositiveFloat
    shs_cny_per_household: list[PositiveFloat] = Field(min_length=5, max_length=5)
    shs_max_tier: int = Field(ge=1, le=5)
    shs_om_share_per_year: PositiveFloat
    shs_life_years: PositiveFloat


class PowerConfig(InterventionConfig):
    """Electrification: the ``power`` section of ``priorities.yaml``."""

    costs: PowerCosts


def _km(row: Mapping[str, Any]) -> float:
    return float(row["power_grid_ext_m"]) / 1000.0


CRITERIA: tuple[Criterion, ...] = (
    Criterion("grid_distance", "power_grid_ext_m",
              lambda r: f"{_km(r):.1f} km from the grid along roads",
              lambda r: f"沿路距电网{_km(r):.1f}公里",
              "needs power lines in the infrastructure layers and a road graph",
              unit="m", label_en="distance from the grid along roads", label_zh="沿路距电网距离"),
    Criterion("lcoe", "power_lcoe_cny_kwh",
              lambda r: f"electricity costs {r['power_lcoe_cny_kwh']:.2f} CNY/kWh",
              lambda r: f"度电成本{r['power_lcoe_cny_kwh']:.2f}元",
              unit="CNY/kWh", label_en="levelised cost of electricity", label_zh="度电成本"),
    *VILLAGE_PEOPLE_CRITERIA,
)


def lcoe(
    capex_cny: NDArray[np.float64] | float,
    om_cny_per_year: NDArray[np.float64] | float,
    energy_cost_cny_per_kwh: NDArray[np.float64] | float,
    energy_kwh_per_year: NDArray[np.float64] | float,
    *,
    life_years: float,
    horizon_years: float,
    rate: float,
) -> NDArray[np.float64]:
    """Levelised cost (CNY/kWh) with re-investment and salvage value, as OnSSET computes it.

    Parameters
    ----------
    capex_cny
        Investment at year 0 (repeated every ``life_years`` within the horizon).
    om_cny_per_year
        Yearly operation and maintenance.
    energy_cost_cny_per_kwh
        Fuel or purchased-energy cost per kWh delivered.
    energy_kwh_per_year
        Energy delivered per year (constant).
    life_years, horizon_years, rate
        Equipment life, evaluation horizon and discount rate.

    Returns
    -------
    numpy.ndarray
        LCOE; ``inf`` where the energy is zero.
    """
    capex = np.asarray(capex_cny, dtype=float)
    om = np.asarray(om_cny_per_year, dtype=float)
    fuel = np.asarray(energy_cost_cny_per_kwh, dtype=float)
    energy = np.asarray(energy_kwh_per_year, dtype=float)
    years = np.arange(1, round(horizon_years) + 1)
    disc = (1.0 + rate) ** -years.astype(float)
    annuity = float(disc.sum())
    invest = capex.copy()
    t = life_years
    while t < horizon_years:
        invest = invest + capex * (1.0 + rate) ** -t
        t += life_years
    used = horizon_years - (t - life_years)  # years of the last installation used
    salvage = capex * (1.0 - used / life_years) * (1.0 + rate) ** -horizon_years
    cost = invest - salvage + om * annuity + fuel * energy * annuity
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(energy > 0, cost / (energy * annuity), np.inf)
    return np.asarray(out, dtype=float)


def electrification_options(
    pop: NDArray[np.float64],
    households: NDArray[np.float64],
    grid_ext_m: NDArray[np.float64],
    costs: PowerCosts,
    *,
    rate: float,
) -> pd.DataFrame:
    """Capex and LCOE of each option and the least-cost one, per settlement.

    Returns
    -------
    pandas.DataFrame
        ``demand_kwh_year``, ``<opt>_capex_cny`` and ``<opt>_lcoe`` for ``grid``,
        ``minigrid``, ``shs`` (``inf`` where not allowed), ``option``, ``capex_cny``,
        ``lcoe_cny_kwh``, ``annualised_cny``.
    """
    pop = np.asarray(pop, dtype=float)
    hh = np.asarray(households, dtype=float)
    tier = costs.demand_tier
    energy = pop * costs.tier_kwh_per_person_year[tier - 1]
    h = costs.horizon_years
    ext_km = np.asarray(grid_ext_m, dtype=float) / 1000.0
    grid_capex = ext_km * costs.mv_line_cny_per_km + costs.transformer_cny \
        + hh * costs.connection_cny_per_household
    grid = lcoe(grid_capex, grid_capex * costs.grid_om_share_per_year,
                costs.grid_generation_cny_per_kwh / (1.0 - costs.grid_losses_share), energy,
                life_years=costs.grid_life_years, horizon_years=h, rate=rate)
    grid = np.where(np.isfinite(ext_km), grid, np.inf)
    kw = energy / (8760.0 * costs.minigrid_capacity_factor)
    mg_capex = kw * costs.minigrid_cny_per_kw + hh * costs.minigrid_distribution_cny_per_household
    mg = lcoe(mg_capex, mg_capex * costs.minigrid_om_share_per_year, 0.0, energy,
              life_years=costs.minigrid_life_years, horizon_years=h, rate=rate)
    shs_capex = hh * costs.shs_cny_per_household[tier - 1]
    shs = lcoe(shs_capex, shs_capex * costs.shs_om_share_per_year, 0.0, energy,
               life_years=costs.shs_life_years, horizon_years=h, rate=rate)
    if tier > costs.shs_max_tier:
        shs = np.full(pop.size, np.inf)
    table = np.column_stack([grid, mg, shs])
    capex_all = np.column_stack([np.where(np.isfinite(grid), grid_capex, np.nan),
                                 mg_capex, shs_capex])
    best = np.argmin(table, axis=1)
    names = np.array(["grid", "minigrid", "shs"], dtype=object)
    rows = np.arange(pop.size)
    best_lcoe = table[rows, best]
    return pd.DataFrame({
        "demand_kwh_year": energy,
        "grid_capex_cny": capex_all[:, 0], "grid_lcoe": grid,
        "minigrid_capex_cny": mg_capex, "minigrid_lcoe": mg,
        "shs_capex_cny": shs_capex, "shs_lcoe": shs,
        "option": names[best],
        "capex_cny": capex_all[rows, best],
        "lcoe_cny_kwh": best_lcoe,
        "annualised_cny": best_lcoe * energy,
    })


def grid_extension_m(
    villages: gpd.GeoDataFrame,
    graph: RoadGraph,
    infrastructure: dict[str, gpd.GeoDataFrame],
    costs: PowerCosts,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Length of line to build (along roads, or straight when close) and the straight distance."""
    parts = [infrastructure[k] for k in ("power_lines", "substations") if k in infrastructure]
    if not parts or sum(len(p) for p in parts) == 0:
        msg = ("power: no power_lines or substations in the infrastructure layers; add them to "
               "the region manifest or set the power weights to use other criteria")
        raise ValidationError(msg)
    geoms = np.concatenate([np.asarray(p.geometry.values) for p in parts])
    pts = villages.geometry
    if not (pts.geom_type == "Point").all():
        pts = pts.representative_point()
    xy = np.column_stack([pts.x.to_numpy(float), pts.y.to_numpy(float)])
    tree = shapely.STRtree(geoms)
    _, straight = tree.query_nearest(shapely.points(xy), return_distance=True, all_matches=False)
    fxy = feature_points(geoms, step_m=100.0)
    along = along_road_to_features(graph, xy, fxy, max_offset_m=costs.line_to_road_max_m)
    straight = np.asarray(straight, dtype=float)
    ext = np.where(straight <= costs.direct_connection_m, np.minimum(straight, along), along)
    return ext, straight


def power_priorities(
    villages: pd.DataFrame,
    graph: RoadGraph,
    infrastructure: dict[str, gpd.GeoDataFrame],
    config: PowerConfig,
    *,
    rate: float,
) -> pd.DataFrame:
    """Least-cost electrification, need, rank, tier and reasons per village.

    Parameters
    ----------
    villages
        Village table (GeoDataFrame in the graph's CRS) with ``village_id``, ``pop``,
        ``households``, ``poor_pop``, ``poverty_incidence``.
    graph
        Road graph (lengths for routing the line).
    infrastructure
        Layers ``power_lines`` and/or ``substations``.
    config
        The ``power`` section of the priority configuration.
    rate
        Discount rate.

    Returns
    -------
    pandas.DataFrame
        ``village_id`` and the ``power_*`` columns, in the villages' order.
    """
    require(villages, ["village_id", "pop", "households"], "power",
            "households come from the villages layer, a complete registry or pop / "
            "household_size (contigmap.poverty.apply_poverty_sources); run the overlay stage")
    costs = config.costs
    ext, _ = grid_extension_m(villages, graph, infrastructure, costs)
    opts = electrification_options(villages["pop"].to_numpy(float),
                                   villages["households"].to_numpy(float), ext, costs, rate=rate)
    t = pd.DataFrame(villages.drop(columns="geometry", errors="ignore")).copy()
    t["power_grid_ext_m"] = np.round(ext, 1)
    t["power_demand_kwh_year"] = opts["demand_kwh_year"].to_numpy()
    t["power_option"] = opts["option"].to_numpy()
    t["power_capex_cny"] = opts["capex_cny"].round(0).to_numpy()
    t["power_lcoe_cny_kwh"] = opts["lcoe_cny_kwh"].round(4).to_numpy()
    t["power_annualised_cny"] = opts["annualised_cny"].round(0).to_numpy()
    t["power_beneficiaries"] = t["pop"].to_numpy(float)
    t["power_poor_beneficiaries"] = (t["poor_pop"].to_numpy(float) if "poor_pop" in t
                                     else np.nan)
    out = assemble(t, "power", CRITERIA, config, id_column="village_id", options=OPTIONS)
    logger.info("power: %s", out["power_option"].value_counts().to_dict())
    return select_output(out, "power", ["village_id"], CRITERIA)


def _compute(inputs: PriorityInputs, config: InterventionConfig, rate: float) -> pd.DataFrame:
    """:func:`power_priorities` from the stage's inputs (the registry's ``compute``)."""
    return power_priorities(inputs.villages, inputs.graph, dict(inputs.infrastructure),
                            cast(PowerConfig, config), rate=rate)


INTERVENTION = Intervention(
    name="power", label_zh="电力", label_en="electricity", unit="village",
    options=OPTIONS, config_model=PowerConfig, compute=_compute,
    layers_any=("power_lines", "substations"), criteria=CRITERIA, columns=COLUMNS,
)
"""This intervention, as :mod:`contigmap.priority.registry` lists it."""
