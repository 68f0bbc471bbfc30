"""What an intervention is: the one description every stage and output reads.

An :class:`Intervention` names a key work (roads, water, power, broadband, …): its
Chinese and English labels, the unit it targets (administrative village or natural
village), the input layers it needs, its need criteria, its technical options with their
labels, its section of ``priorities.yaml`` (:attr:`Intervention.config_model`), its own
output columns and the function that ranks it. Each intervention module
(``priority/water.py``) defines one as ``INTERVENTION``;
:mod:`contigmap.priority.registry` lists them in order. Nothing else in the code base
keeps its own copy of these names and labels.

The ranking function has one signature for every intervention
(:data:`ComputeFn`): it takes the plain :class:`PriorityInputs` of the stage, the
intervention's validated config section and the discount rate, and returns one row per
unit with the ``<iv>_*`` columns (need, option, costs, rank, tier, reasons).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import pandas as pd
from pydantic import Field

from contigmap._strict import StrictModel
from contigmap.columns import ColumnInfo
from contigmap.network import RoadGraph
from contigmap.priority.mcda import Criterion
from contigmap.raster import Raster

__all__ = [
    "ComputeFn",
    "ExtrasFn",
    "Intervention",
    "InterventionConfig",
    "Option",
    "PriorityInputs",
]


class InterventionConfig(StrictModel):
    """Weights, ranking and costs of one intervention (its section of ``priorities.yaml``).

    An intervention's own model derives from this one and adds its ``costs`` model.
    """

    weights: dict[str, float]
    normalise: Literal["minmax", "rank"] = "minmax"
    tiers: int = Field(4, ge=2, le=10)
    """Need groups when no budget is set (:mod:`contigmap.priority.tiers`)."""
    reasons_top: int = Field(3, ge=1, le=10)

    def check_weights(self, intervention: str, known: Sequence[str]) -> None:
        """Raise ``ValueError`` for unknown, negative or all-zero weights.

        ``known`` are the names of the intervention's criteria; an unknown name gets the
        closest known one as a hint.
        """
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


@dataclass(frozen=True)
class PriorityInputs:
    """What the priority stage gives every intervention's ranking function.

    Attributes
    ----------
    villages
        Village table with the overlay, poverty and network access columns (working CRS).
    hamlets
        Hamlet table (natural villages) with access columns, or ``None``.
    graph
        The road graph.
    services
        Services (township seats).
    infrastructure
        Infrastructure layers by name (``power_lines``, ``fibre``, ``water_sources`` …).
    dem
        Elevation raster, or ``None``.
    rivers
        River lines, or ``None``.
    """

    villages: gpd.GeoDataFrame
    hamlets: gpd.GeoDataFrame | None
    graph: RoadGraph
    services: gpd.GeoDataFrame
    infrastructure: Mapping[str, gpd.GeoDataFrame]
    dem: Raster | None = None
    rivers: gpd.GeoDataFrame | None = None


ComputeFn = Callable[[PriorityInputs, InterventionConfig, float], pd.DataFrame]
"""``compute(inputs, config_section, discount_rate) -> ranked table``."""

ExtrasFn = Callable[[PriorityInputs, InterventionConfig], dict[str, pd.DataFrame]]
"""``extras(inputs, config_section) -> {name: table}``: further outputs (bus lines)."""


@dataclass(frozen=True)
class Option:
    """One technical option of an intervention.

    Attributes
    ----------
    key
        Value written in the ``<iv>_option`` column (``piped``).
    label_zh, label_en
        What maps, reports and tables call it.
    """

    key: str
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class Intervention:
    """One key work that the priority stage ranks.

    Attributes
    ----------
    name
        Column prefix and config section (``water`` → ``water_tier``, ``water:``).
    label_zh, label_en
        Chinese and English names (饮水安全, safe drinking water).
    unit
        ``village`` (administrative village, the village table) or ``hamlet``
        (natural village, the hamlet table; needs the hamlets layer).
    options
        Technical options, in the order legends list them.
    config_model
        Model of its section of ``priorities.yaml`` (weights, ranking and ``costs``).
    compute
        Ranks the intervention (:data:`ComputeFn`).
    layers_any
        Infrastructure layers of which at least one must be declared (empty: none needed).
    needs_dem_or
        A village column that stands in for the DEM (``relief_m``): the intervention
        needs the DEM or that column; ``None``: it runs without a DEM.
    criteria
        Need criteria; each column is oriented so that more means more need.
    columns
        Its own output columns (beyond the common ``<iv>_*`` ones every intervention
        writes), for the column dictionary.
    in_place
        Whether its capital cost counts in relocation's cost of serving a village in place.
    needs_columns
        Village columns it needs (``danger_d_households``, from the registry's
        ``housing_grade``) and, second, what to give to get them; ``None``: none.
    after_relocation
        Whether its ranking reads the relocation stage's ``reloc_decision`` (housing:
        relocate instead of renovating); such an intervention is ranked again once the
        relocation plan exists (:func:`contigmap.stages.after_relocation_stage`). It must
        not be ``in_place``, which relocation itself reads.
    extras
        Further outputs beside the ranked table (:data:`ExtrasFn`; the bus lines),
        written by :func:`contigmap.priority.run.write_priority_tables` as
        ``<name>.csv`` (and ``<name>.gpkg`` for a GeoDataFrame); ``None``: none.
    """

    name: str
    label_zh: str
    label_en: str
    unit: Literal["village", "hamlet"]
    options: tuple[Option, ...]
    config_model: type[InterventionConfig]
    compute: ComputeFn = field(compare=False)
    layers_any: tuple[str, ...] = ()
    needs_dem_or: str | None = None
    criteria: tuple[Criterion, ...] = ()
    columns: tuple[ColumnInfo, ...] = ()
    in_place: bool = True
    needs_columns: tuple[tuple[str, ...], str] | None = None
    extras: ExtrasFn | None = field(default=None, compare=False)
    after_relocation: bool = False

    def __post_init__(self) -> None:
        if self.after_relocation and self.in_place:
            msg = (f"intervention {self.name}: after_relocation needs in_place=False "
                   "(relocation reads the in-place costs before it decides)")
            raise ValueError(msg)

    @property
    def id_column(self) -> str:
        """Id column of the table the intervention ranks (``village_id`` or ``hamlet_id``)."""
        return "village_id" if self.unit == "village" else "hamlet_id"

    @property
    def criteria_names(self) -> tuple[str, ...]:
        """Names of its criteria, as its ``weights`` use them."""
        return tuple(c.name for c in self.criteria)

    def option_label(self, key: str, lang: Literal["zh", "en"] = "zh") -> str:
        """Label of option ``key`` (the key itself when unknown)."""
        for o in self.options:
            if o.key == key:
                return o.label_zh if lang == "zh" else o.label_en
        return key

    def option_labels(self, lang: Literal["zh", "en"] = "zh") -> dict[str, str]:
        """Every option's label by key."""
        return {o.key: o.label_zh if lang == "zh" else o.label_en for o in self.options}

    def output_columns(self) -> tuple[ColumnInfo, ...]:
        """Every column it writes: the common ``<iv>_*`` ones, then :attr:`columns`."""
        iv, zh, src = self.name, self.label_zh, f"priority / {self.name}"
        common = (
            ("need", "need score (weighted sum of normalised criteria)", "需求得分", "0-100"),
            ("option", "least-cost technical option", "最低成本方案", ""),
            ("capex_cny", "capital cost of the option (indicative)", "投资估算（示意）", "CNY"),
            ("annualised_cny", "capital recovery plus yearly running cost", "年化成本",
             "CNY/year"),
            ("beneficiaries", "people who benefit", "受益人口", "people"),
            ("poor_beneficiaries", "poor people who benefit", "受益贫困人口", "people"),
            ("cost_per_poor_cny", "capital cost per poor beneficiary", "每贫困受益人投资",
             "CNY/person"),
            ("rank", "priority rank (1 = highest need)", "优先序", "rank"),
            ("tier", "priority tier: 1 within the budget, 2 a second budget, 3 later, "
             "0 no works needed (need groups without a budget; see tier_basis)", "优先等级",
             "0-3"),
            ("tier_basis", "what the tiers mean: budget, or need_quantile when no budget "
             "is set", "分档依据", ""),
            ("reasons", "main reasons, in English", "主要理由（英文）", ""),
            ("reasons_zh", "main reasons, in Chinese", "主要理由", ""),
            ("cum_capex_cny", "capital cost of this and every higher-ranked item", "累计投资",
             "CNY"),
            ("within_budget", "funded when the budget is spent in rank order", "预算内", "bool"),
        )
        points = tuple(
            ColumnInfo(f"{iv}_pts_{c.name}", f"{iv}: points of need from {c.label_en or c.name}"
                       " (weight × normalised value × 100; they sum to the need; written for"
                       " each criterion with a weight above 0)",
                       f"{zh}需求得分：{c.label_zh or c.name}", "0-100", src)
            for c in self.criteria)
        return (*(ColumnInfo(f"{iv}_{key}", f"{iv}: {en}", f"{zh}{czh}", unit, src)
                  for key, en, czh, unit in common), *points, *self.columns)
