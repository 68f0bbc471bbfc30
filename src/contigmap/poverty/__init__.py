"""Household registry → village poverty profile, and the source of each village's counts.

:mod:`~contigmap.poverty.registry` reads the household registry into per-village counts,
rates and cause shares; :mod:`~contigmap.poverty.sources` chooses, per village, where its
households and poor people come from (villages layer, complete registry, sample
estimate or ``pop / household_size``).
"""

from __future__ import annotations

from contigmap.poverty.registry import (
    CAUSE_COLUMNS,
    CAUSE_SOURCES,
    POVERTY_COLUMNS,
    normalise_cause,
    poverty_profile,
    village_poverty_profile,
)
from contigmap.poverty.sources import (
    HOUSEHOLDS_SOURCES,
    NATIONAL_HOUSEHOLD_SIZE,
    NATIONAL_HOUSEHOLD_SIZE_SOURCE,
    POOR_ONLY_ABOVE,
    POOR_POP_SOURCES,
    REGISTRY_SOURCES,
    apply_hamlet_households,
    apply_poverty_sources,
    covered_villages,
    household_size,
    indicator_sources,
    poverty_source_lines,
    poverty_sources,
    registry_coverage,
    registry_kind,
)

__all__ = [
    "CAUSE_COLUMNS",
    "CAUSE_SOURCES",
    "HOUSEHOLDS_SOURCES",
    "NATIONAL_HOUSEHOLD_SIZE",
    "NATIONAL_HOUSEHOLD_SIZE_SOURCE",
    "POOR_ONLY_ABOVE",
    "POOR_POP_SOURCES",
    "POVERTY_COLUMNS",
    "REGISTRY_SOURCES",
    "apply_hamlet_households",
    "apply_poverty_sources",
    "covered_villages",
    "household_size",
    "indicator_sources",
    "normalise_cause",
    "poverty_profile",
    "poverty_source_lines",
    "poverty_sources",
    "registry_coverage",
    "registry_kind",
    "village_poverty_profile",
]
