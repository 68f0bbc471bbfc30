"""The interventions contigmap ranks, in the order maps, reports and tables list them.

Adding an intervention is one module that defines ``INTERVENTION`` (see
:class:`~contigmap.priority.intervention.Intervention`) plus one line here, its section in
``priorities.yaml`` and its tests; see the README's "Add an intervention".
"""

from __future__ import annotations

from typing import Final

from contigmap.columns import ColumnInfo
from contigmap.errors import ConfigError
from contigmap.priority import (
    broadband,
    bus,
    health,
    housing,
    power,
    radio_tv,
    roads,
    schooling,
    water,
)
from contigmap.priority.intervention import Intervention

__all__ = ["REGISTRY", "get", "intervention_columns", "label_zh", "names"]

REGISTRY: Final[dict[str, Intervention]] = {
    iv.name: iv for iv in (roads.INTERVENTION, water.INTERVENTION, power.INTERVENTION,
                           broadband.INTERVENTION, health.INTERVENTION, schooling.INTERVENTION,
                           housing.INTERVENTION, radio_tv.INTERVENTION,
                           bus.INTERVENTION)
}
"""Every intervention by name, in display order."""


def names() -> tuple[str, ...]:
    """Names of every registered intervention, in display order."""
    return tuple(REGISTRY)


def get(name: str) -> Intervention:
    """Return the intervention called ``name``; a :class:`ConfigError` names the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        msg = f"unknown intervention '{name}'; known: {', '.join(REGISTRY)}"
        raise ConfigError(msg) from None


def label_zh(name: str) -> str:
    """Chinese label of an intervention (the name itself when not registered)."""
    iv = REGISTRY.get(name)
    return iv.label_zh if iv else name


def intervention_columns() -> list[ColumnInfo]:
    """Every column the registered interventions write, for the column dictionary.

    Per intervention, in registry order: the common ``<iv>_*`` columns and its own
    (:meth:`Intervention.output_columns`).
    """
    return [col for iv in REGISTRY.values() for col in iv.output_columns()]
