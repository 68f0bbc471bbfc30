r"""A CSV text writer for contigmap's tables, byte-identical to pandas' ``to_csv``.

:func:`csv_text` gives the same text as ``DataFrame.to_csv(index=False,
lineterminator="\r\n")`` (pandas writes through the standard :mod:`csv` module with
``QUOTE_MINIMAL``) for tables whose columns are all float64, integer, boolean, string or
object columns, and returns None for any other table (datetimes, categoricals, nullable
integers, float32, fewer than two columns), which the caller then writes with pandas.

It is faster because it formats each column at once instead of each row through
``csv.writer``: a float64 cell is Python's shortest round-trip ``repr`` (David Gay's
dtoa, the same text as NumPy's ``astype(str)`` that pandas uses, and faster), missing
values are empty, and a text cell is quoted (with ``"`` doubled) only when it holds a
comma, a quote, CR or LF, as ``csv.writer`` does with ``QUOTE_MINIMAL`` and a CRLF line
terminator (https://docs.python.org/3/library/csv.html#csv.QUOTE_MINIMAL). Text columns
in which none of those characters occurs, the usual case, are found at once by
searching the column's joined text.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["csv_text"]

_NEEDS_QUOTES = (",", '"', "\r", "\n")


def csv_text(table: pd.DataFrame) -> str | None:
    """Return ``table`` as CSV text (header line, CRLF line ends, no index), or None.

    None when a column's dtype is not one this writer formats like pandas (see the
    module docstring) or the table has fewer than two columns (``csv.writer`` quotes a
    lone empty field; pandas handles those few tables).
    """
    if table.shape[1] < 2:
        return None
    columns: list[list[str]] = []
    for j in range(table.shape[1]):
        cells = _column_cells(table.iloc[:, j])
        if cells is None:
            return None
        columns.append(cells)
    header = _quoted([_object_cell(name) for name in table.columns])
    lines = [",".join(header), *map(",".join, zip(*columns, strict=True)), ""]
    return "\r\n".join(lines)


def _column_cells(col: pd.Series) -> list[str] | None:
    """One column's cells as CSV fields, or None for a dtype pandas formats its own way."""
    dtype = col.dtype
    if isinstance(dtype, pd.StringDtype):
        values = col.to_numpy(dtype=object, na_value="")
        return _quoted(values.tolist())
    if not isinstance(dtype, np.dtype):
        return None
    values = col.to_numpy()
    if dtype == np.float64:
        return [repr(x) if x == x else "" for x in values.tolist()]
    if dtype.kind in "iu":
        return list(map(str, values.tolist()))
    if dtype.kind == "b":
        return ["True" if x else "False" for x in values.tolist()]
    if dtype.kind == "O":
        missing = pd.isna(values).tolist()
        cells = ["" if gone else _object_cell(x)
                 for x, gone in zip(values.tolist(), missing, strict=True)]
        return _quoted(cells)
    return None


def _object_cell(value: Hashable | Any) -> str:
    """Return a cell's text as ``csv.writer`` makes it: None empty, anything else its ``str``."""
    if isinstance(value, str):
        return value
    return "" if value is None else str(value)


def _quoted(cells: list[str]) -> list[str]:
    """Quote the cells holding a comma, quote, CR or LF (``QUOTE_MINIMAL``), doubling quotes."""
    joined = "".join(cells)
    if not any(char in joined for char in _NEEDS_QUOTES):
        return cells
    return ['"' + cell.replace('"', '""') + '"'
            if any(char in cell for char in _NEEDS_QUOTES) else cell
            for cell in cells]
