"""Criteria weights and cost parameters of the priority stage (``priorities.yaml``).

The packaged ``contigmap/data/priorities.yaml`` documents every default and its source;
a region can pass its own file with the same structure. Everything is validated with
pydantic (``extra="forbid"``): weights must be non-negative, name a known criterion
(the closest name is suggested) and not all be zero; every cost parameter must be
given and positive. Problems become one-line :class:`~contigmap.errors.ConfigError`
messages naming the file and the key.

Money is in CNY (2020 prices, indicative); annualised costs use the capital recovery
factor ``crf(r, n) = r (1 + r)^n / ((1 + r)^n − 1)`` (e.g. Short, Packey and Holt 1995,
*A Manual for the Economic Evaluation of Energy Efficiency and Renewable Energy
Technologies*, NREL/TP-462-5173).
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from contigmap._strict import StrictModel
from contigmap.costpath import CostPathParams
from contigmap.yamlio import load_yaml, parse_model

__all__ = [
    "INTERVENTIONS",
    "KNOWN_CRITERIA",
    "BroadbandCosts",
    "Intervention",
    "InterventionConfig",
    "PowerCosts",
    "PriorityConfig",
    "RoadCosts",
    "WaterCosts",
    "crf",
    "default_priorities_path",
    "load_priority_config",
]

Intervention = Literal["roads", "water", "power", "broadband"]
INTERVENTIONS: Final[tuple[Intervention, ...]] = ("roads", "water", "power", "broadband")

KNOWN_CRITERIA: Final[dict[str, tuple[str, ...]]] = {
    "roads": ("no_hardened_road", "tt_township", "rainy_unreachable", "poor_pop",
              "poverty_incidence", "transport_cause", "pop"),
    "water": ("source_distance", "source_lift", "karst", "water_cause", "poor_pop",
              "poverty_incidence", "pop"),
    "power": ("grid_distance", "lcoe", "poor_pop", "poverty_incidence", "pop"),
    "broadband": ("fibre_distance", "no_wireless", "tt_township", "poor_pop",
                  "poverty_incidence", "households"),
}
"""Criteria each intervention knows; their meaning is in the intervention's module."""


def crf(rate: float, years: float) -> float:
    """Capital recovery factor: the annuity that repays 1 over ``years`` at ``rate``."""
    if rate == 0:
        return 1.0 / years
    g = (1.0 + rate) ** years
    return rate * g / (g - 1.0)


class TerrainCosts(StrictModel):
    """A unit cost per terrain class (CNY per km)."""

    flat: PositiveFloat
    hilly: PositiveFloat
    mountainous: PositiveFloat


class RoadCosts(StrictModel):
    """Road cost parameters (see the YAML for sources)."""

    harden_cny_per_km: TerrainCosts
    new_road_cny_per_km: TerrainCosts
    relief_hilly_m: PositiveFloat
    relief_mountainous_m: PositiveFloat
    new_road_min_m: PositiveFloat
    shuttle_threshold_min: PositiveFloat
    shuttle_bus_cny: PositiveFloat
    shuttle_operating_cny_per_year: PositiveFloat
    road_life_years: PositiveFloat
    road_maintenance_share_per_year: PositiveFloat
    bus_life_years: PositiveFloat
    hardened_path_weight: PositiveFloat
    costpath: CostPathParams = CostPathParams()


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


class BroadbandCosts(StrictModel):
    """Broadband cost parameters (see the YAML for sources)."""

    fibre_cny_per_km: PositiveFloat
    fibre_to_road_max_m: PositiveFloat
    drop_max_m: PositiveFloat
    olt_cny_per_hamlet: PositiveFloat
    fibre_cny_per_household: PositiveFloat
    fibre_om_share_per_year: PositiveFloat
    fibre_life_years: PositiveFloat
    microwave_range_m: PositiveFloat
    microwave_link_cny: PositiveFloat
    microwave_mast_m: PositiveFloat
    microwave_cny_per_household: PositiveFloat
    microwave_frequency_ghz: PositiveFloat
    fresnel_clearance: float = Field(ge=0, le=1)
    microwave_om_cny_per_year: PositiveFloat
    microwave_life_years: PositiveFloat
    satellite_cny_per_household: PositiveFloat
    satellite_cny_per_household_year: PositiveFloat
    satellite_life_years: PositiveFloat
    los_step_m: PositiveFloat


class InterventionConfig(StrictModel):
    """Weights, ranking and costs of one intervention."""

    weights: dict[str, float]
    normalise: Literal["minmax", "rank"] = "minmax"
    tiers: int = Field(4, ge=2, le=10)
    reasons_top: int = Field(3, ge=1, le=10)

    def check_weights(self, intervention: str) -> None:
        """Raise :class:`ConfigError` for unknown, negative or all-zero weights."""
        known = KNOWN_CRITERIA[intervention]
        for name, w in self.weights.items():
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                msg = (f"{intervention}.weights: unknown criterion '{name}'; {hint}known "
                       f"criteria: {', '.join(known)}")
                raise ValueError(msg)
            if not w >= 0:
                msg = (f"{intervention}.weights.{name}: weight {w} is negative; weights must be "
                       f">= 0 (0 switches a criterion off)")
                raise ValueError(msg)
        if not self.weights or sum(self.weights.values()) <= 0:
            msg = (f"{intervention}.weights: all weights are zero (or none given); give at "
                   f"least one criterion a positive weight")
            raise ValueError(msg)


class RoadsConfig(InterventionConfig):
    """Roads: hardened village roads and shuttle buses."""

    costs: RoadCosts


class WaterConfig(InterventionConfig):
    """Drinking water."""

    costs: WaterCosts


class PowerConfig(InterventionConfig):
    """Electrification."""

    costs: PowerCosts


class BroadbandConfig(InterventionConfig):
    """Broadband to natural villages (hamlets)."""

    costs: BroadbandCosts


class PriorityConfig(StrictModel):
    """The whole ``priorities.yaml``."""

    discount_rate: float = Field(gt=0, lt=1)
    top_n: PositiveInt = 20
    sensitivity_step: float = Field(0.2, gt=0, lt=1)
    sensitivity_draws: int = Field(200, ge=0)
    sensitivity_concentration: PositiveFloat = 50.0
    seed: int = 20141
    budget_cny: PositiveFloat | None = None
    roads: RoadsConfig
    water: WaterConfig
    power: PowerConfig
    broadband: BroadbandConfig

    @model_validator(mode="after")
    def _weights(self) -> PriorityConfig:
        for iv in INTERVENTIONS:
            self.intervention(iv).check_weights(iv)
        return self

    def intervention(self, name: str) -> InterventionConfig:
        """Return the section of intervention ``name``."""
        out: InterventionConfig = getattr(self, name)
        return out


def default_priorities_path() -> Path:
    """Return the path of the packaged ``priorities.yaml``."""
    return Path(str(resources.files("contigmap") / "data" / "priorities.yaml"))


def load_priority_config(
    source: str | Path | dict[str, Any] | None = None,
) -> PriorityConfig:
    """Read and validate priority weights and cost parameters.

    Parameters
    ----------
    source
        A YAML file, an already-parsed mapping, or ``None`` for the packaged defaults.

    Returns
    -------
    PriorityConfig
        The validated configuration.

    Raises
    ------
    ConfigError
        Unknown, negative or all-zero weights; missing or non-positive cost parameters;
        unknown keys. The message names the file and the key.
    """
    if source is None:
        source = default_priorities_path()
    if isinstance(source, dict):
        data, where = source, "priorities"
    else:
        data, where = load_yaml(source), str(source)
    return parse_model(PriorityConfig, data, source=where,
                       missing_hint="; give a positive number (the packaged priorities.yaml "
                                    "has defaults)")
