"""The county report as a document: sections of notes, key figures, facts, maps and tables.

:func:`contigmap.render.report.build_report` fills a :class:`Report` once;
:mod:`~contigmap.render.report_html` and :mod:`~contigmap.render.report_md` render the
same document, so the two reports cannot drift apart. Every cell of a :class:`Table` is
formatted here (percentages, thousands separators, tier names), as text; the renderers
only escape and lay it out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from contigmap.columns import describe_column
from contigmap.finance import fmt_wan
from contigmap.priority.registry import REGISTRY
from contigmap.priority.tiers import tier_label

__all__ = [
    "COLUMN_LABELS_ZH",
    "MONEY_IN_WAN",
    "Block",
    "Chart",
    "Column",
    "Facts",
    "Figure",
    "KeyFigures",
    "Note",
    "Report",
    "Section",
    "Table",
    "column_label_zh",
    "format_cell",
    "is_missing",
    "report_label_zh",
]

COLUMN_LABELS_ZH: Final[dict[str, str]] = {
    "village_id": "村代码",
    "name": "村名",
    "township_id": "乡镇代码",
    "township_name": "乡镇",
    "kind": "类型",
    "pop": "人口",
    "households": "户数",
    "poor_pop": "贫困人口",
    "poor_households": "贫困户数",
    "poverty_incidence": "贫困发生率",
    "main_causes": "主要致贫原因",
    "tt_township_seat_min": "到最近乡镇驻地时间（分钟）",
    "tt_county_seat_min": "到县城时间（分钟）",
    "need": "需求得分",
    "tier": "优先级档次",
    "rank": "排名",
    "capex_cny": "估算投资（元）",
    "reasons": "理由",
    "reasons_zh": "理由",
    "option": "推荐方案",
    "villages": "村数",
}
"""Chinese headers of common columns; intervention columns drop their prefix to look up."""



# --------------------------------------------------------------------------- cells


def is_missing(value: Any) -> bool:
    """Whether a cell is empty (None, NA, NaT or NaN)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(float(value))


def _split_intervention(column: str) -> tuple[str, str]:
    """(Chinese label of the intervention, rest) for ``<iv>_rest``; ("", column) otherwise."""
    for name in sorted(REGISTRY, key=len, reverse=True):  # radio_tv before a plain prefix
        rest = column.removeprefix(f"{name}_")
        if rest and rest != column:
            return REGISTRY[name].label_zh, rest
    return "", column


def column_label_zh(column: str) -> str:
    """Chinese header of a column (``roads_need`` → 道路需求得分); the name when unknown."""
    if column in COLUMN_LABELS_ZH:
        return COLUMN_LABELS_ZH[column]
    iv_zh, rest = _split_intervention(column)
    if iv_zh and rest in COLUMN_LABELS_ZH:
        return f"{iv_zh}{COLUMN_LABELS_ZH[rest]}"
    info = describe_column(column)
    return info.meaning_zh if info is not None and info.meaning_zh else column


MONEY_IN_WAN: Final[frozenset[str]] = frozenset({"capex_cny"})
"""Money columns (in 元) that report tables show in 万元 (workbooks keep 元)."""


def report_label_zh(column: str) -> str:
    """Chinese header of a report table's column: money in 万元 (道路估算投资（万元）)."""
    label = column_label_zh(column)
    if _split_intervention(column)[1] in MONEY_IN_WAN:
        label = label.replace("（元）", "（万元）")
    return label


def format_cell(column: str, value: Any) -> str:
    """Format a cell as text: percentages, thousands separators, 万元, tier names.

    A value that does not fit its column's number format (text in a number column) is
    shown as it is; a missing value as ``–``.
    """
    if is_missing(value):
        return "–"
    try:
        return _format_known(column, value)
    except (TypeError, ValueError, OverflowError):
        return str(value)


def _format_known(column: str, value: Any) -> str:
    col = _split_intervention(column)[1]
    if column == "poverty_incidence" or column.endswith("_share"):
        return f"{float(value):.1%}"
    if col in MONEY_IN_WAN:
        return fmt_wan(float(value), 1)
    if col in ("pop", "households", "poor_pop", "poor_households", "villages"):
        return f"{float(value):,.0f}"
    if col == "need":
        return f"{float(value):.1f}"
    if col == "rank":
        return f"{int(value)}"
    if col == "tier":  # a bare number; top lists label tiers with their basis beforehand
        return tier_label(value, None)[0] if isinstance(value, float | np.floating | int) \
            else str(value)
    if column.endswith("_min"):
        return f"{float(value):.0f}"
    if isinstance(value, float | np.floating):
        return f"{float(value):.3g}"
    return str(value)


# --------------------------------------------------------------------------- document


@dataclass(frozen=True)
class Column:
    """One table column: its name, Chinese header, and whether it is right-aligned."""

    name: str
    label_zh: str
    numeric: bool


@dataclass(frozen=True)
class Table:
    """A table of formatted text cells."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Table:
        """Label and format a DataFrame (numeric dtypes are right-aligned)."""
        names = [str(c) for c in frame.columns]
        columns = tuple(
            Column(name, report_label_zh(name), pd.api.types.is_numeric_dtype(frame[c]))
            for name, c in zip(names, frame.columns, strict=True)
        )
        rows = tuple(
            tuple(format_cell(n, v) for n, v in zip(names, row, strict=True))
            for row in frame.itertuples(index=False, name=None)
        )
        return cls(columns, rows)


@dataclass(frozen=True)
class Note:
    """Lines of a remark set apart from the text; ``strong`` lines are emphasised."""

    lines: tuple[str, ...]
    strong: tuple[bool, ...] = ()

    def is_strong(self, i: int) -> bool:
        """Whether line ``i`` is emphasised."""
        return i < len(self.strong) and self.strong[i]


@dataclass(frozen=True)
class KeyFigures:
    """Headline numbers: (Chinese label, English label, value text)."""

    items: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Facts:
    """A two-language list of labelled values: (Chinese, English, value text)."""

    items: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Figure:
    """A map image with a two-language caption."""

    path: Path
    caption_zh: str
    caption_en: str


@dataclass(frozen=True)
class Chart:
    """A chart (a PNG drawn by :mod:`~contigmap.render.report_charts`) and the numbers it shows.

    ``key`` names it (``budget``), for links and tests; ``data`` is printed under it.
    """

    key: str
    figure: Figure
    data: Table


Block = Note | KeyFigures | Facts | Figure | Chart | Table
"""What a section holds."""


@dataclass(frozen=True)
class Section:
    """A heading (level 2 or 3, Chinese and English) and its blocks."""

    level: int
    title_zh: str
    title_en: str
    blocks: tuple[Block, ...]
    page: bool = False
    """Start a new printed page (the per-township pages)."""


@dataclass(frozen=True)
class Report:
    """The whole report: title, a byline, notes under the title, and sections."""

    title_zh: str
    title_en: str
    byline: str
    notes: tuple[Note, ...]
    sections: tuple[Section, ...]


def fact_items(
    facts: Mapping[str, Any],
    labels: Mapping[str, tuple[str, str, str]],
    dict_labels: Mapping[str, tuple[str, Mapping[str, str]]],
    skip: frozenset[str],
) -> tuple[tuple[str, str, str], ...]:
    """(Chinese, English, value) rows for region facts, known keys first.

    ``labels`` maps a key to (Chinese, English, format); ``dict_labels`` a key whose value
    is a mapping to (Chinese, names of its keys); keys in ``skip`` are left out.
    """
    rows = []
    for key, (zh, en, fmt) in labels.items():
        value = facts.get(key)
        if key in skip or is_missing(value) or isinstance(value, Mapping):
            continue
        try:
            text = fmt.format(value)  # the format is ours; the value is only an argument
        except (TypeError, ValueError):
            text = str(value)
        rows.append((zh, en, text))
    for key, value in facts.items():
        if key in labels or key in ("working_crs", "poor_pop_source") or is_missing(value):
            continue
        zh, names = dict_labels.get(key, ("", {}))
        if isinstance(value, Mapping):
            text = "; ".join(
                f"{names.get(str(k), '')} {k} {_format_number(v)}".strip()
                for k, v in value.items()
            )
        else:
            text = _format_number(value)
        rows.append((zh, key.replace("_", " "), text))
    return tuple(rows)


def _format_number(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):,.1f}"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    return str(value)
