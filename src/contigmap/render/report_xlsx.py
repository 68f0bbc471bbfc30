"""The county workbook: the village profile and one sheet per intervention.

Row 1 holds Chinese headers, row 2 the column names; both are frozen, widths follow the
content, incidences show as percentages and money with thousands separators. Text cells
are string cells, never formulas, and the file has no write timestamps (see
:mod:`contigmap.io.writers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import pandas as pd

from contigmap.io.write import atomic_path
from contigmap.io.writers import excel_cell, save_workbook
from contigmap.render.report_doc import column_label_zh, format_cell, is_missing
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


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _number_format(col: str) -> str | None:
    if col == "poverty_incidence" or col.endswith("_share"):
        return "0.0%"
    if col.endswith(("_capex_cny", "pop", "households")):
        return "#,##0"
    if col.endswith("_need"):
        return "0.0"
    return None


def _write_sheet(ws: Any, table: pd.DataFrame) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8E4D8")
    columns = [str(c) for c in table.columns]
    # every cell through excel_cell: text from the data is a string cell, never a formula
    ws.append([excel_cell(ws, column_label_zh(c)) for c in columns])
    ws.append([excel_cell(ws, c) for c in columns])
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in ws[2]:
        cell.font = Font(italic=True, color="555555")
        cell.fill = fill
    for row in table.itertuples(index=False, name=None):
        ws.append([excel_cell(ws, v) for v in row])
    for j, col in enumerate(columns, start=1):
        letter = get_column_letter(j)
        texts = [format_cell(col, v) for v in table[col].iloc[:500] if not is_missing(v)]
        width = max([_display_width(column_label_zh(col)), len(col), *map(_display_width, texts)])
        ws.column_dimensions[letter].width = min(max(width + 2, 8), 60)
        fmt = _number_format(col)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=3, min_col=j, max_col=j):
                cell.number_format = fmt
    ws.freeze_panes = "C3" if len(columns) > 2 and columns[:2] == ["village_id", "name"] else "A3"
    if len(table):
        ws.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{len(table) + 2}"


def write_tables_xlsx(
    path: Path,
    *,
    villages: pd.DataFrame,
    interventions: Mapping[str, pd.DataFrame] | None = None,
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

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from openpyxl import Workbook

    ivs = reported_interventions(villages, interventions)
    wb = Workbook()
    taken: set[str] = set()
    ws = wb.active
    assert ws is not None
    ws.title = _sheet_name("村庄概况 villages", taken)
    _write_sheet(ws, profile_table(villages, ivs))
    for iv in ivs:
        frame = (interventions or {}).get(iv.name)
        ws = wb.create_sheet(_sheet_name(f"{iv.label_zh} {iv.name}", taken))
        _write_sheet(ws, intervention_table(villages, iv, frame))
    path = Path(path)
    with atomic_path(path) as tmp:
        save_workbook(wb, tmp)  # fixed timestamps: the same tables give the same bytes
    return path
