"""The plan's configuration: the ``plan:`` section of ``plan.yaml``.

The packaged ``contigmap/data/plan.yaml`` documents every default. A user's file (given
with ``contigmap plan --config``) holds a ``plan:`` section whose keys replace the
defaults key by key; ``network:``, ``priorities:`` and ``relocation:`` sections may sit
beside it (they go to the run's settings). Validated by a
:class:`~contigmap._strict.StrictModel` (an unknown key is an error); problems become one
line naming the file and the key (:func:`contigmap.yamlio.parse_model`).
"""

from __future__ import annotations

import itertools
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    model_validator,
)

from contigmap._strict import StrictModel
from contigmap.errors import ConfigError
from contigmap.network.speeds import deep_merge
from contigmap.priority import registry
from contigmap.yamlio import load_yaml, parse_model

__all__ = [
    "RELOCATION",
    "FundingSource",
    "PlanConfig",
    "Precedence",
    "default_plan_path",
    "load_plan_config",
    "split_plan_file",
]

RELOCATION = "relocation"
"""The intervention name of relocation moves in the plan (not a registry entry)."""


class FundingSource(StrictModel):
    """One funding source: its money per year and the works it may pay for."""

    name: str = Field(min_length=1)
    yearly_cny: PositiveFloat | list[NonNegativeFloat]
    interventions: list[str] = Field(min_length=1)


class Precedence(StrictModel):
    """``then`` works in a village come ``gap_years`` or more after its ``first`` works."""

    first: str
    then: str
    first_options: list[str] = Field(default_factory=list)
    then_options: list[str] = Field(default_factory=list)
    gap_years: NonNegativeInt = 1


class PlanConfig(StrictModel):
    """The ``plan:`` section (see the packaged ``plan.yaml`` for every key)."""

    first_year: int = Field(2016, ge=1949, le=2100)
    last_year: int = Field(2020, ge=1949, le=2100)
    yearly_budget_cny: PositiveFloat | list[NonNegativeFloat] | None = 40_000_000.0
    opex_budget_cny: NonNegativeFloat | list[NonNegativeFloat] | None = None
    carry_over: bool = True
    sources: list[FundingSource] = Field(default_factory=list)
    crews: dict[str, NonNegativeInt | None] = Field(default_factory=dict)
    diminishing_weights: list[PositiveFloat] = Field(default_factory=lambda: [1.0, 0.8, 0.6],
                                                     min_length=1)
    need_weight: float = Field(0.5, ge=0, le=1)
    earliness: NonNegativeFloat = 0.05
    precedence: list[Precedence] = Field(default_factory=list)
    time_limit_s: PositiveFloat = 60.0
    mip_rel_gap: float = Field(1e-3, ge=0, lt=1)
    max_binaries: NonNegativeInt = 200_000
    pool: Literal["county", "area"] = "county"
    county_budgets_cny: dict[str, PositiveFloat | list[NonNegativeFloat]] = Field(
        default_factory=dict)
    lagrangian_iterations: PositiveInt = 30

    @model_validator(mode="after")
    def _check(self) -> PlanConfig:
        if self.last_year < self.first_year:
            raise ValueError(f"last_year {self.last_year} is before first_year "
                             f"{self.first_year}; give first_year <= last_year")
        n = self.n_years
        for what, value in [("yearly_budget_cny", self.yearly_budget_cny),
                            ("opex_budget_cny", self.opex_budget_cny),
                            *((f"county_budgets_cny {k}", v)
                              for k, v in self.county_budgets_cny.items()),
                            *((f"sources {s.name} yearly_cny", s.yearly_cny)
                              for s in self.sources)]:
            if isinstance(value, list) and len(value) != n:
                raise ValueError(f"{what} lists {len(value)} years but the plan has {n} "
                                 f"({self.first_year}-{self.last_year}); give one number "
                                 "per year or a single number")
        w = self.diminishing_weights
        if any(b > a for a, b in itertools.pairwise(w)):
            raise ValueError("diminishing_weights must not increase (e.g. [1.0, 0.8, 0.6])")
        if self.yearly_budget_cny is None and not self.sources:
            raise ValueError("no money: give yearly_budget_cny or at least one source")
        return self

    @property
    def n_years(self) -> int:
        """Number of plan years."""
        return self.last_year - self.first_year + 1

    @property
    def years(self) -> list[int]:
        """The plan years, in order."""
        return list(range(self.first_year, self.last_year + 1))

    def per_year(self, value: float | list[float] | None) -> list[float] | None:
        """Return a scalar or per-year money value as one number per year (``None`` stays)."""
        if value is None:
            return None
        return [float(v) for v in value] if isinstance(value, list) else [float(value)] * \
            self.n_years

    def crews_for(self, intervention: str) -> int | None:
        """Crews of ``intervention`` per township per year (``None``: no limit)."""
        return self.crews.get(intervention, self.crews.get("default"))

    @model_validator(mode="after")
    def _crew_keys(self) -> PlanConfig:
        known = {*registry.names(), RELOCATION, "default", "total"}
        bad = sorted(set(self.crews) - known)
        if bad:
            raise ValueError(f"crews: unknown key {bad[0]!r}; give one of "
                             f"{', '.join(sorted(known))}")
        return self

    def weight(self, k: int) -> float:
        """Diminishing-returns weight of a village's ``k``-th work (0-based); the last repeats."""
        w = self.diminishing_weights
        return float(w[min(k, len(w) - 1)])


def default_plan_path() -> Path:
    """Return the path of the packaged ``plan.yaml``."""
    return Path(str(resources.files("contigmap") / "data" / "plan.yaml"))


def split_plan_file(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a ``--config`` file: its ``plan:`` section, and the other (run settings) sections.

    Raises
    ------
    ConfigError
        The file is not a mapping, or its ``plan:`` is not one.
    """
    data = load_yaml(path)
    plan = data.get("plan", {})
    if not isinstance(plan, dict):
        raise ConfigError(f"{path}: plan: must be a mapping of settings (see `contigmap plan "
                          "--defaults`)")
    return plan, {k: v for k, v in data.items() if k != "plan"}


def load_plan_config(source: str | Path | dict[str, Any] | None = None) -> PlanConfig:
    """Read the plan settings: packaged defaults, then ``source``'s ``plan:`` section over them.

    Parameters
    ----------
    source
        A YAML file with a ``plan:`` section, an already-parsed ``plan:`` mapping, or
        ``None`` for the packaged defaults.

    Returns
    -------
    PlanConfig
        The validated settings.

    Raises
    ------
    ConfigError
        An unknown key, a bad value or inconsistent years (one line naming file and key).
    """
    base = load_yaml(default_plan_path())["plan"]
    where = "plan"
    if isinstance(source, dict):
        base = deep_merge(base, source)
    elif source is not None:
        override, _ = split_plan_file(source)
        base = deep_merge(base, override)
        where = f"{source}: plan"
    return parse_model(PlanConfig, base, source=where,
                       missing_hint="; the packaged plan.yaml has every key")
