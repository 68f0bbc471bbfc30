"""Write the progress workbook (empty, or filled with rows) that counties send back.

The sheet :data:`~contigmap.monitor.progress.PROGRESS_SHEET` has a row of Chinese
labels above the row of English names (both frozen), a drop-down list of the three
statuses on the 状态 column, a whole-CNY number format on 已支出（元） and a date format on
完工日期. The bytes are the same on every run (:mod:`contigmap.io.xlsx` fixes the core
properties and the zip dates).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from contigmap.io.write import atomic_path
from contigmap.io.xlsx import ListRule, SheetSpec, write_workbook
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
    table = pd.DataFrame({c: (rows[c] if c in rows.columns else pd.Series("", index=rows.index,
                                                                         dtype=object))
                          for c in PROGRESS_COLUMNS})
    table["status"] = table["status"].map(lambda s: STATUS_LABELS.get(str(s), s))
    table["spent_cny"] = pd.to_numeric(table["spent_cny"], errors="coerce")
    status = ListRule("status", tuple(STATUS_LABELS.values()), title="状态 status",
                      message="请选择 未开工 / 在建 / 完工")
    sheet = SheetSpec(PROGRESS_SHEET, table, labels=lambda c: PROGRESS_LABELS[c], formats=False,
                      number_formats={"spent_cny": "#,##0", "completed": "yyyy-mm-dd"},
                      min_rows=_ROWS_WITH_RULES, lists=[status],
                      widths={"project_id": 24, "note": 30, "completed": 14})
    path = Path(path)
    with atomic_path(path) as tmp:
        write_workbook([sheet], tmp)
    return path


def write_template(path: str | Path) -> Path:
    """Write an empty progress workbook (``contigmap monitor --template``)."""
    return write_progress_workbook(pd.DataFrame(columns=list(PROGRESS_COLUMNS)), path)
