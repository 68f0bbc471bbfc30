"""What an intervention is: the one description every stage and output reads.

An :class:`Intervention` names a key work (roads, water, power, broadband, …): its
Chinese and English labels, the unit it targets (administrative village or natural
village), the input layers it needs, its need criteria, its technical options with their
labels, and the function that ranks it. Each intervention module (``priority/water.py``)
defines one as ``INTERVENTION``; :mod:`contigmap.priority.registry` lists them in order.
Nothing else in the code base keeps its own copy of these names and labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from contigmap.priority.mcda import Criterion

__all__ = ["Intervention", "Option"]


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
        (natural village, the hamlet table).
    options
        Technical options, in the order legends list them.
    layers_any
        Infrastructure layers of which at least one must be declared (empty: none needed).
    criteria
        Need criteria; each column is oriented so that more means more need.
    in_place
        Whether its capital cost counts in relocation's cost of serving a village in place.
    compute
        Ranks the intervention; set by the intervention module.
    """

    name: str
    label_zh: str
    label_en: str
    unit: Literal["village", "hamlet"]
    options: tuple[Option, ...]
    layers_any: tuple[str, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    in_place: bool = True
    compute: Callable[..., Any] | None = field(default=None, compare=False)

    @property
    def id_column(self) -> str:
        """Id column of the table the intervention ranks (``village_id`` or ``hamlet_id``)."""
        return "village_id" if self.unit == "village" else "hamlet_id"

    def option_label(self, key: str, lang: Literal["zh", "en"] = "zh") -> str:
        """Label of option ``key`` (the key itself when unknown)."""
        for o in self.options:
            if o.key == key:
                return o.label_zh if lang == "zh" else o.label_en
        return key
