"""The county workbook: the village profile and one sheet per intervention.

Row 1 holds Chinese headers, row 2 the column names; both are frozen, widths follow the
content, incidences show as percentages and money with thousands separators. Text cells
are string cells, never formulas, and the file has no write timestamps (see
:mod:`contigmap.io.writers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

import pandas as pd

from contigmap.io.write import atomic_path
from contigmap.io.xlsx import write_xlsx
from contigmap.render.report_doc import column_label_zh
from contigmap.render.report_tables import (
    intervention_table,
    profile_table,
    reported_interventions,
)

__all__ = ["write_tables_xlsx"]

_MAX_SHEET_NAME: Final[int] = 31


def _sheet_name(text: str, taken: set[str]) -> str:
    name = "".join("_" if ch in '[]:*?/\\' else ch for ch in text)[:_MAX_SHEET_NAME]
    base, i = name, 2
    while name in taken:
        suffix = f" {i}"
        name = base[: _MAX_SHEET_NAME - len(suffix)] + suffix
        i += 1
    taken.add(name)
    return name


def write_tables_xlsx(
    path: Path,
    *,
    villages: pd.DataFrame,
    interventions: Mapping[str, pd.DataFrame] | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write the village profile and one sheet per intervention to an XLSX workbook.

    Parameters
    ----------
    path
        Output ``.xlsx``, written atomically.
    villages
        The village table (a geometry column is dropped).
    interventions
        ``{name: table}`` per registered intervention; default: the ``<name>_*``
        columns of ``villages`` for every registered intervention that has them.
    tables
        The sheets of the interventions already built by
        :func:`~contigmap.render.report_tables.intervention_table` (by name); the others
        are built here.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    ivs = reported_interventions(villages, interventions)
    taken: set[str] = set()
    sheets = [(_sheet_name("村庄概况 villages", taken), profile_table(villages, ivs))]
    for iv in ivs:
        table = (tables or {}).get(iv.name)
        if table is None:
            table = intervention_table(villages, iv, (interventions or {}).get(iv.name))
        sheets.append((_sheet_name(f"{iv.label_zh} {iv.name}", taken), table))
    path = Path(path)
    with atomic_path(path) as tmp:
        # Chinese headers over the names, number formats from the column dictionary;
        # text from the data is a string cell, never a formula; fixed timestamps
        write_xlsx(sheets, tmp, labels=column_label_zh)
    return path
