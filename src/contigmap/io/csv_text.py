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


def csv_text(table: pd.DataFrame, formula_prefixes: tuple[str, ...] = ()) -> str | None:
    """Return ``table`` as CSV text (header line, CRLF line ends, no index), or None.

    None when a column's dtype is not one this writer formats like pandas (see the
    module docstring) or the table has fewer than two columns (``csv.writer`` quotes a
    lone empty field; pandas handles those few tables). Text cells (``str`` values of
    string and object columns) and column names starting with one of
    ``formula_prefixes`` get a leading ``'``, as
    :func:`contigmap.io.writers.csv_safe` does, without its copy of the table.
    """
    dtypes = list(table.dtypes)
    if len(dtypes) < 2 or not all(map(_formats, dtypes)):
        return None
    columns: list[list[str]] = [[] for _ in dtypes]
    floats = [j for j, dtype in enumerate(dtypes) if dtype == np.float64]
    if floats:  # one array for all float columns: no Series per column
        block = table.iloc[:, floats].to_numpy(dtype=np.float64)
        for k, j in enumerate(floats):
            columns[j] = _float_cells(block[:, k])
    for j, dtype in enumerate(dtypes):
        if dtype != np.float64:
            columns[j] = _column_cells(table.iloc[:, j], formula_prefixes)
    header = _quoted([_object_cell(name, formula_prefixes) for name in table.columns])
    lines = [",".join(header), *map(",".join, zip(*columns, strict=True)), ""]
    return "\r\n".join(lines)


def _formats(dtype: Any) -> bool:
    """Whether :func:`_column_cells` writes a column of ``dtype`` as pandas does."""
    if isinstance(dtype, pd.StringDtype):
        return True
    return isinstance(dtype, np.dtype) and (dtype == np.float64 or dtype.kind in "iubO")


def _float_cells(values: np.ndarray) -> list[str]:
    """Float64 cells: each distinct value's ``repr`` once, NaN empty.

    Distinct by bit pattern (``-0.0`` is not ``0.0``); a table's float columns repeat
    many values (zeros, flags, rounded scores), and ``repr`` is the costly step.
    """
    uniques, inverse = np.unique(np.ascontiguousarray(values).view(np.int64),
                                 return_inverse=True)
    texts = [repr(x) if x == x else "" for x in uniques.view(np.float64).tolist()]
    cells: list[str] = np.array(texts, dtype=object)[inverse].tolist()
    return cells


def _column_cells(col: pd.Series, prefixes: tuple[str, ...]) -> list[str]:
    """One non-float64 column's cells as CSV fields (a dtype :func:`_formats` accepts)."""
    dtype = col.dtype
    if isinstance(dtype, pd.StringDtype):
        texts = col.to_numpy(dtype=object, na_value="").tolist()
        return _quoted(["'" + text if text.startswith(prefixes) else text for text in texts])
    values = col.to_numpy()
    if dtype.kind in "iu":
        return list(map(str, values.tolist()))
    if dtype.kind == "b":
        return ["True" if x else "False" for x in values.tolist()]
    missing = pd.isna(values).tolist()
    cells = ["" if gone else _object_cell(x, prefixes)
             for x, gone in zip(values.tolist(), missing, strict=True)]
    return _quoted(cells)


def _object_cell(value: Hashable | Any, prefixes: tuple[str, ...]) -> str:
    """Return a cell's text as ``csv.writer`` makes it: None empty, anything else its ``str``.

    A ``str`` starting with one of ``prefixes`` gets a leading ``'`` first.
    """
    if isinstance(value, str):
        return "'" + value if value.startswith(prefixes) else value
    return "" if value is None else str(value)


def _quoted(cells: list[str]) -> list[str]:
    """Quote the cells holding a comma, quote, CR or LF (``QUOTE_MINIMAL``), doubling quotes."""
    joined = "".join(cells)
    if not any(char in joined for char in _NEEDS_QUOTES):
        return cells
    return ['"' + cell.replace('"', '""') + '"'
            if any(char in cell for char in _NEEDS_QUOTES) else cell
            for cell in cells]
