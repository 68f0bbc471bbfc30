"""One parser for every yes/no input column (bridges, tunnels, poor households, karst, ...).

A boolean input column accepts exactly the words of :data:`contigmap.schema.BOOLEAN_TRUE`
and :data:`contigmap.schema.BOOLEAN_FALSE` (是/否, 有/无, Y/N, yes/no, true/false, 1/0),
case-insensitive and with surrounding spaces ignored, plus a few words a column's
schema adds (``poor`` also takes 贫困户 / 非贫困户). Real ``bool`` columns and integer
or float columns holding only 0 and 1 are accepted as they are. A blank cell (empty
text, ``None``, ``NaN``) takes the column's default. Anything else is an error that
names the values and the first rows: a non-empty ``否`` must never read as true.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.errors import ValidationError
from contigmap.schema import BOOLEAN_EXTRA, BOOLEAN_FALSE, BOOLEAN_TRUE

__all__ = ["accepted_words", "parse_bool"]

_MAX_LISTED = 5


def accepted_words(column: str | None = None) -> tuple[frozenset[str], frozenset[str]]:
    """Return the (true, false) words a boolean column accepts, lower-case.

    Parameters
    ----------
    column
        Canonical column name; columns listed in :data:`contigmap.schema.BOOLEAN_EXTRA`
        accept their extra words too.
    """
    extra_true, extra_false = BOOLEAN_EXTRA.get(column or "", ((), ()))
    true = frozenset(w.lower() for w in (*BOOLEAN_TRUE, *extra_true))
    false = frozenset(w.lower() for w in (*BOOLEAN_FALSE, *extra_false))
    return true, false


def _is_blank(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _word(value: object) -> str:
    """Lower-case text of a cell; integral numbers lose their ``.0`` (``1.0`` → ``1``)."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip().lower()
    if text in ("1.0", "0.0"):
        return text[0]
    return text


def _classify(
    series: pd.Series, true: frozenset[str], false: frozenset[str]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """Blank, true and false flags of each cell; each distinct value looked at once.

    A registry column has few distinct values in many rows (142 000 households, 0
    and 1). Number columns are grouped by :func:`numpy.unique` (0.0 and -0.0 together:
    both read ``0``), text columns by :func:`pandas.factorize` (missing cells apart,
    blank); object columns, which may mix ``1``, ``1.0`` and ``True`` (equal, but not
    the same word), cell by cell.
    """

    def flags(v: object) -> tuple[bool, bool, bool]:
        b = _is_blank(v)
        w = "" if b else _word(v)
        return b, w in true, w in false

    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        uniq, inverse = np.unique(series.to_numpy(), return_inverse=True)
        table = np.array([flags(v) for v in uniq.tolist()], dtype=bool).reshape(-1, 3)
        got = table[np.asarray(inverse).ravel()]
    elif isinstance(dtype, pd.StringDtype):
        codes, names = pd.factorize(series)  # missing cells: code -1, the last row
        table = np.array([*(flags(v) for v in names), flags(None)], dtype=bool).reshape(-1, 3)
        got = table[codes]
    else:
        got = np.array([flags(v) for v in series.tolist()], dtype=bool).reshape(-1, 3)
    return got[:, 0], got[:, 1], got[:, 2]


def parse_bool(
    values: pd.Series | Sequence[object],
    *,
    column: str,
    default: bool = False,
    source: str = "",
    rows: Iterable[str] | None = None,
) -> NDArray[np.bool_]:
    """Read a yes/no column as booleans, refusing anything that is not clearly yes or no.

    Parameters
    ----------
    values
        The column's cells.
    column
        Canonical column name (for messages and for column-specific words).
    default
        Value of blank cells.
    source
        Prefix of error messages: file and layer (``layers.roads (roads.shp)``).
    rows
        How to name each cell's row in messages (``row 5``, ``sheet '学校' row 5``,
        ``feature 3``); default ``data row <n>`` (1-based position).

    Returns
    -------
    numpy.ndarray
        One bool per cell.

    Raises
    ------
    ValidationError
        A cell is not one of the accepted words; the message lists the offending
        values and the first rows, and the accepted words.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if pd.api.types.is_bool_dtype(series) and not series.isna().any():
        return series.to_numpy(dtype=bool)
    true, false = accepted_words(column)
    blank, is_true, is_false = _classify(series, true, false)
    bad = ~(is_true | is_false | blank)
    if bad.any():
        cells = series.tolist()
        pos = np.flatnonzero(bad)
        labels = list(rows) if rows is not None else None
        shown_rows = [
            labels[int(p)] if labels is not None else f"data row {int(p) + 1}"
            for p in pos[:_MAX_LISTED]
        ]
        more_rows = f" and {pos.size - _MAX_LISTED} more" if pos.size > _MAX_LISTED else ""
        offending = list(dict.fromkeys(str(cells[int(p)]).strip() for p in pos))
        shown_vals = ", ".join(f"'{v}'" for v in offending[:_MAX_LISTED])
        more_vals = f" and {len(offending) - _MAX_LISTED} more" if len(offending) > 5 else ""
        where = f"{source}: " if source else ""
        msg = (
            f"{where}column '{column}' is a yes/no column but holds {shown_vals}{more_vals} in "
            f"{', '.join(shown_rows)}{more_rows}; use 是/否, 有/无, Y/N, yes/no, true/false or "
            f"1/0 (blank = {'yes' if default else 'no'}), or recode the values under 'values:' "
            f"in region.yaml, e.g. values: {{{column}: {{'{offending[0]}': 否}}}}"
        )
        raise ValidationError(msg)
    return np.where(blank, default, is_true)
