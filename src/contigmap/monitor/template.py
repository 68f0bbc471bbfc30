"""Write the progress workbook (empty, or filled with rows) that counties send back.

The sheet :data:`~contigmap.monitor.progress.PROGRESS_SHEET` has a row of Chinese
labels above the row of English names (both frozen), a drop-down list of the three
statuses on the 状态 column, a whole-CNY number format on 已支出（元） and a date format on
完工日期. The bytes are the same on every run (:func:`contigmap.io.writers.save_workbook`
fixes the core properties and the zip dates).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from contigmap.io.write import atomic_path
from contigmap.io.writers import save_workbook, write_sheet
from contigmap.monitor.progress import (
    PROGRESS_COLUMNS,
    PROGRESS_LABELS,
    PROGRESS_SHEET,
    STATUS_LABELS,
)

__all__ = ["write_progress_workbook", "write_template"]

_ROWS_WITH_RULES = 2000
"""Rows below the header that get the status list and number formats."""


def write_progress_workbook(rows: pd.DataFrame, path: str | Path) -> Path:
    """Write ``rows`` (any of the progress columns) as a progress workbook.

    Parameters
    ----------
    rows
        Progress rows; missing columns are written empty; ``status`` may be canonical
        (written as its Chinese word) or Chinese.
    path
        The ``.xlsx`` to write (atomically).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    table = pd.DataFrame({c: (rows[c] if c in rows.columns else pd.Series("", index=rows.index,
                                                                         dtype=object))
                          for c in PROGRESS_COLUMNS})
    table["status"] = table["status"].map(lambda s: STATUS_LABELS.get(str(s), s))
    table["spent_cny"] = pd.to_numeric(table["spent_cny"], errors="coerce")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = PROGRESS_SHEET
    write_sheet(ws, table, labels=lambda c: PROGRESS_LABELS[c], formats=False)
    last = 2 + max(len(table), _ROWS_WITH_RULES)
    col = {c: get_column_letter(j) for j, c in enumerate(PROGRESS_COLUMNS, start=1)}
    words = ",".join(STATUS_LABELS.values())
    check = DataValidation(type="list", formula1=f'"{words}"', allow_blank=True,
                           showErrorMessage=True, errorTitle="状态 status",
                           error="请选择 未开工 / 在建 / 完工")
    check.add(f"{col['status']}3:{col['status']}{last}")
    ws.add_data_validation(check)
    for row in range(3, last + 1):
        ws[f"{col['spent_cny']}{row}"].number_format = "#,##0"
        ws[f"{col['completed']}{row}"].number_format = "yyyy-mm-dd"
    for key, width in (("project_id", 24), ("note", 30), ("completed", 14)):
        ws.column_dimensions[col[key]].width = width
    path = Path(path)
    with atomic_path(path) as tmp:
        save_workbook(wb, tmp)
    return path


def write_template(path: str | Path) -> Path:
    """Write an empty progress workbook (``contigmap monitor --template``)."""
    return write_progress_workbook(pd.DataFrame(columns=list(PROGRESS_COLUMNS)), path)
