"""Thresholds and cost parameters of the relocation stage (``relocation.yaml``).

The packaged ``contigmap/data/relocation.yaml`` documents every default and its source;
a region can pass its own file with the same structure. Everything is validated with
pydantic (``extra="forbid"``); problems become one-line
:class:`~contigmap.errors.ConfigError` messages naming the file and the key.

The relocation cost per person follows the structure of the 13th Five-Year relocation
plan (全国“十三五”易地扶贫搬迁规划, 国家发展改革委 2016): housing (with the central budget
subsidy of about 8,000 CNY/person as one of its sources), infrastructure and public
services at the receiving site, and land; the packaged defaults add up to the typical
total of about 60,000 CNY per person.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import (
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    model_validator,
)

from contigmap._strict import StrictModel
from contigmap.yamlio import load_yaml, parse_model

__all__ = [
    "REASONS",
    "AssignmentParams",
    "CandidateParams",
    "RelocationConfig",
    "RelocationCosts",
    "SiteParams",
    "default_relocation_path",
    "load_relocation_config",
    "relocation_cost_per_person",
]

Reason = Literal["hazard", "ecology", "fragile", "small_remote", "cost"]
REASONS: Final[tuple[Reason, ...]] = ("hazard", "ecology", "fragile", "small_remote", "cost")
"""Candidate reason groups, in the order reasons are listed."""


Unit = Literal["hamlet", "village"]
TownKind = Literal["township_seat", "county_seat"]


def _small_pop() -> dict[Unit, float]:
    return {"hamlet": 50.0, "village": 200.0}


def _weights() -> dict[Reason, float]:
    return {"hazard": 0.3, "ecology": 0.2, "fragile": 0.2, "small_remote": 0.15, "cost": 0.15}


def _mandatory() -> list[Reason]:
    return ["hazard"]


def _towns() -> dict[TownKind, int]:
    return {"township_seat": 1500, "county_seat": 6000}


class CandidateParams(StrictModel):
    """Thresholds that make a settlement a relocation candidate (section ``candidates``)."""

    min_reasons: PositiveInt = 1
    whole_village_min_reasons: PositiveInt = 2
    hazard_raster_mean_min: float = Field(0.55, gt=0)
    hazard_polygon_share_min: float = Field(0.5, gt=0, le=1)
    hazard_points_min: PositiveInt = 1
    hazard_point_weight_min: float = Field(0.5, ge=0, le=1)
    eco_share_min: float = Field(0.95, gt=0, le=1)
    steep_slope_mean_deg: float = Field(25.0, gt=0, lt=90)
    karst_steep_share_min: float = Field(0.35, gt=0, le=1)
    small_pop_max: dict[Unit, NonNegativeFloat] = Field(default_factory=_small_pop)
    remote_tt_min: PositiveFloat = 60.0
    cost_per_person_min_cny: PositiveFloat = 20000.0
    weights: dict[Reason, NonNegativeFloat] = Field(default_factory=_weights)

    @model_validator(mode="after")
    def _weights_positive(self) -> CandidateParams:
        if sum(self.weights.values()) <= 0:
            msg = "candidates.weights: all weights are zero; give at least one a positive value"
            raise ValueError(msg)
        return self

    def weight(self, reason: str) -> float:
        """Weight of ``reason`` rescaled so that all weights sum to 1."""
        total = sum(self.weights.values())
        return float(self.weights.get(reason, 0.0)) / total  # type: ignore[call-overload]


class RelocationCosts(StrictModel):
    """Cost parameters of relocating against serving in place (section ``costs``)."""

    central_subsidy_cny_per_person: NonNegativeFloat = 8000.0
    housing_cny_per_person: NonNegativeFloat = 40000.0
    site_services_cny_per_person: NonNegativeFloat = 15000.0
    town_services_share: float = Field(0.5, ge=0, le=1)
    land_m2_per_person: NonNegativeFloat = 70.0
    land_cny_per_m2: NonNegativeFloat = 70.0
    hazard_mitigation_cny_per_person: NonNegativeFloat = 20000.0
    mandatory_reasons: list[Reason] = Field(default_factory=_mandatory)


class SiteParams(StrictModel):
    """Rules of the suitability surface and site capacities (section ``sites``)."""

    max_slope_deg: float = Field(10.0, gt=0, lt=90)
    landslide_max: float = Field(0.3, gt=0)
    hazard_setback_m: NonNegativeFloat = 100.0
    hazard_site_weight_max: float = Field(0.5, ge=0, le=1)
    eco_setback_m: NonNegativeFloat = 0.0
    max_tt_seat_min: PositiveFloat = 30.0
    max_tt_school_min: PositiveFloat = 20.0
    max_tt_health_min: PositiveFloat = 30.0
    max_road_distance_m: PositiveFloat = 300.0
    min_patch_area_m2: PositiveFloat = 50000.0
    people_per_ha: PositiveFloat = 140.0
    max_site_area_ha: PositiveFloat = 10.0
    max_new_sites: int = Field(20, ge=0)
    town_capacity_people: dict[TownKind, int] = Field(default_factory=_towns)


class AssignmentParams(StrictModel):
    """Cost terms and solver limits of the household-to-site assignment (``assignment``).

    ``time_limit_s`` bounds the MILP's wall time (the best plan found, or a greedy one,
    is used when it strikes); ``mip_rel_gap`` lets it stop at that relative gap.
    """

    leave_township_penalty_min: NonNegativeFloat = 30.0
    max_travel_time_min: PositiveFloat = 150.0
    time_limit_s: PositiveFloat = 60.0
    mip_rel_gap: float = Field(0.0, ge=0, lt=1)


class RelocationConfig(StrictModel):
    """The whole ``relocation.yaml``."""

    candidates: CandidateParams = Field(default_factory=CandidateParams)
    costs: RelocationCosts = Field(default_factory=RelocationCosts)
    sites: SiteParams = Field(default_factory=SiteParams)
    assignment: AssignmentParams = Field(default_factory=AssignmentParams)


def default_relocation_path() -> Path:
    """Return the path of the packaged ``relocation.yaml``."""
    return Path(str(resources.files("contigmap") / "data" / "relocation.yaml"))


def load_relocation_config(
    source: str | Path | dict[str, Any] | RelocationConfig | None = None,
) -> RelocationConfig:
    """Read and validate the relocation thresholds and costs.

    Parameters
    ----------
    source
        A YAML file, an already-parsed mapping, a config (returned as is), or ``None``
        for the packaged defaults.

    Returns
    -------
    RelocationConfig
        The validated configuration.

    Raises
    ------
    ConfigError
        Unknown keys, out-of-range values or all-zero weights; the message names the
        file and the key.
    """
    if isinstance(source, RelocationConfig):
        return source
    if source is None:
        source = default_relocation_path()
    if isinstance(source, dict):
        data, where = source, "relocation"
    else:
        data, where = load_yaml(source), str(source)
    return parse_model(RelocationConfig, data, source=where,
                       missing_hint=" (the packaged relocation.yaml has defaults)")


def relocation_cost_per_person(
    costs: RelocationCosts, is_town: NDArray[np.bool_] | bool = False
) -> NDArray[np.float64]:
    """Relocation cost per person: housing + site services + land (CNY).

    Parameters
    ----------
    costs
        The cost parameters.
    is_town
        Whether the receiving site is an existing town, whose services cost
        ``town_services_share`` of a new site's.

    Returns
    -------
    numpy.ndarray
        CNY per person, one value per entry of ``is_town``.
    """
    town = np.atleast_1d(np.asarray(is_town, dtype=bool))
    services = np.where(town, costs.town_services_share, 1.0) * costs.site_services_cny_per_person
    land = costs.land_m2_per_person * costs.land_cny_per_m2
    return np.asarray(costs.housing_cny_per_person + services + land, dtype=float)
