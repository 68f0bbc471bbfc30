"""The column dictionary: what every column of contigmap's output tables means.

Each stage registers the columns it adds with :func:`register_columns`; the CLI's
``contigmap columns`` prints :func:`column_dictionary`. Columns whose names depend on
the region's layers (``hazard_<layer>_share``) are registered under their pattern and
again under their concrete name when a stage creates them.

The interventions' columns are not registered at import: :data:`COLUMN_SOURCES` names
functions that list them (the priority registry's
:func:`~contigmap.priority.registry.intervention_columns`), called each time the
dictionary is read, so it always shows the interventions registered then. A stage
module or source that cannot be imported is an error, never silently skipped.
This module sits below every stage; it names them by string only.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass

import pandas as pd

from contigmap.errors import ValidationError

__all__ = [
    "COLUMN_SOURCES",
    "STAGE_MODULES",
    "ColumnInfo",
    "column_dictionary",
    "column_dictionary_markdown",
    "describe_column",
    "dictionary_snapshot",
    "is_personal",
    "personal_columns",
    "register_columns",
]

@dataclass(frozen=True)
class ColumnInfo:
    """One output column.

    Attributes
    ----------
    name
        Column name (``poor_pop``); patterns use ``<layer>`` placeholders.
    meaning_en, meaning_zh
        What the value is, in English and Chinese.
    unit
        Unit (``m``, ``deg``, ``people``, ``share 0-1``; empty for text).
    source
        Layer and stage that produce it (``households / poverty``).
    """

    name: str
    meaning_en: str
    meaning_zh: str
    unit: str
    source: str


_REGISTRY: dict[str, ColumnInfo] = {}

STAGE_MODULES: list[str] = [
    "contigmap.schema_columns",
    "contigmap.terrain",
    "contigmap.overlay",
    "contigmap.poverty",
    "contigmap.indicators",
    "contigmap.network.columns",
    "contigmap.relocation.candidates",
    "contigmap.relocation.run",
    "contigmap.priority.guarantees",
]
"""Modules that register columns when imported; :func:`column_dictionary` imports them.

Stages append their module here (or import it before calling ``column_dictionary``).
"""

COLUMN_SOURCES: list[str] = [
    "contigmap.priority.registry:intervention_columns",
]
"""Functions (``module:function``) that return :class:`ColumnInfo` objects, called each
time the dictionary is read; their columns follow the registered ones."""


def register_columns(
    columns: Iterable[ColumnInfo | Mapping[str, str] | tuple[str, str, str, str, str]],
) -> None:
    """Add columns to the dictionary (re-registering the same name replaces it).

    Parameters
    ----------
    columns
        :class:`ColumnInfo` objects, mappings with its five fields, or tuples
        ``(name, meaning_en, meaning_zh, unit, source)``.

    Raises
    ------
    ValidationError
        If an entry lacks a field or has an empty name.
    """
    for item in columns:
        if isinstance(item, ColumnInfo):
            info = item
        elif isinstance(item, Mapping):
            try:
                info = ColumnInfo(**{k: str(item[k]) for k in ColumnInfo.__dataclass_fields__})
            except KeyError as err:
                msg = f"column entry {dict(item)!r} lacks field {err}; give all of " \
                      "name, meaning_en, meaning_zh, unit, source"
                raise ValidationError(msg) from err
        else:
            if len(item) != 5:
                msg = (f"column entry {item!r} must be (name, meaning_en, meaning_zh, "
                       "unit, source)")
                raise ValidationError(msg)
            info = ColumnInfo(*(str(v) for v in item))
        if not info.name:
            msg = f"column entry {info!r} has an empty name"
            raise ValidationError(msg)
        _REGISTRY[info.name] = info


def describe_column(name: str) -> ColumnInfo | None:
    """Return the registered description of ``name``, or ``None``."""
    snapshot = _SNAPSHOT.get()
    return (snapshot if snapshot is not None else _all_columns()).get(name)


_SNAPSHOT: ContextVar[dict[str, ColumnInfo] | None] = ContextVar("column_snapshot",
                                                                 default=None)


@contextmanager
def dictionary_snapshot() -> Iterator[None]:
    """Read the dictionary once, and use that reading until the block ends.

    For a caller that looks up many columns at once (a workbook's headers and units):
    each :func:`describe_column` or :func:`column_dictionary` otherwise imports the stage
    modules and calls every :data:`COLUMN_SOURCES` function again. Columns registered
    inside the block are not seen until it ends.
    """
    token = _SNAPSHOT.set(_all_columns())
    try:
        yield
    finally:
        _SNAPSHOT.reset(token)


def _all_columns() -> dict[str, ColumnInfo]:
    """Return the registered columns (importing :data:`STAGE_MODULES`), then the sourced."""
    snapshot = _SNAPSHOT.get()
    if snapshot is not None:
        return dict(snapshot)
    for module in STAGE_MODULES:
        importlib.import_module(module)
    out = dict(_REGISTRY)
    for source in COLUMN_SOURCES:
        module, _, func = source.partition(":")
        provider: Callable[[], Iterable[ColumnInfo]] = getattr(
            importlib.import_module(module), func)
        out.update((info.name, info) for info in provider())
    return out


def column_dictionary() -> pd.DataFrame:
    """All registered columns, in the order the stages registered them.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``meaning_en``, ``meaning_zh``, ``unit``, ``source``.
    """
    rows = [asdict(info) for info in _all_columns().values()]
    frame = pd.DataFrame(rows, columns=list(ColumnInfo.__dataclass_fields__))
    return frame


def column_dictionary_markdown() -> str:
    """Return the column dictionary as a Markdown document (``docs/columns.md``)."""
    # sorted, so that the document does not depend on the order stages were imported in;
    # names made from a region's layer names appear once, under their <layer> pattern
    table = column_dictionary()
    patterns = [re.compile("^" + re.escape(n).replace(re.escape("<layer>"), ".+") + "$")
                for n in table["name"] if "<layer>" in n]
    concrete = table["name"].map(
        lambda n: "<layer>" not in n and any(p.match(n) for p in patterns))
    table = table[~concrete].sort_values(["source", "name"], kind="stable")
    lines = [
        "# Column dictionary",
        "",
        "Every column contigmap writes into its village and hamlet tables, with its meaning,",
        "unit and source (layer / stage). `<layer>` stands for the name of a hazard or ecology",
        "layer in the region manifest. Grouped by source. Made by",
        "`contigmap columns --markdown`.",
        "",
        "| column | meaning | 含义 | unit | source |",
        "|---|---|---|---|---|",
    ]
    for row in table.itertuples(index=False):
        cells = [f"`{row.name}`", row.meaning_en, row.meaning_zh, row.unit, row.source]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    lines += _personal_markdown()
    return "\n".join(lines) + "\n"


# --- s19b: personal columns (issue #19 item 11) -----------------------------------------------

PERSONAL_SOURCE = "contigmap.inputs:PERSONAL_INPUTS"
"""Where the personal input columns are listed (canonical name, headers, meaning en/zh)."""


def personal_columns() -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """Personal input columns: name → (meaning_en, meaning_zh, recognised headers).

    They are read only to be dropped (:mod:`contigmap.io.personal`): no output has them.
    """
    module, _, attr = PERSONAL_SOURCE.partition(":")
    entries = getattr(importlib.import_module(module), attr)
    return {name: (en, zh, tuple(aliases)) for name, aliases, en, zh in entries}


def is_personal(name: str) -> bool:
    """Whether ``name`` is a personal column (never written)."""
    return name in personal_columns()


def _personal_markdown() -> list[str]:
    lines = ["", "## Personal columns (never written)", "",
             "Columns of the inputs that identify people. They are dropped when the layer is",
             "read, before any check or stage, so no output file has them; a column of ID",
             "numbers (身份证号) under another header is dropped too, and an id column of ID",
             "numbers is replaced by row numbers (`P1`, `P2`, ...).", "",
             "| column | meaning | 含义 | personal | recognised headers |",
             "|---|---|---|---|---|"]
    for name, (en, zh, aliases) in personal_columns().items():
        cells = [f"`{name}`", en, zh, "yes", ", ".join(aliases)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines
