"""Personal data stays in: names, ID numbers, phones and bank accounts are dropped on reading.

Household registries (建档立卡) carry the head of household's name (户主姓名), citizen ID
number (身份证号, 18 characters: 17 digits and a check digit or ``X``, GB 11643-1999),
telephone and bank account. contigmap needs none of them, so :func:`drop_personal`
removes them from every layer right after reading, before any check or stage sees
them: columns named by a header of :data:`contigmap.inputs.PERSONAL_INPUTS` (or mapped
to one of those canonical names), and any other column whose values are mostly ID
numbers. A layer whose *id* column holds ID numbers keeps its rows, but the ids are
replaced by row numbers (``P1``, ``P2``, ...), with a warning. What was dropped is
logged by header only, never by value; :func:`personal_columns` lists the names for
the column dictionary.
"""

from __future__ import annotations

import logging
import re
from typing import TypeVar

import pandas as pd

from contigmap.errors import warn_data

__all__ = ["ID_NUMBER", "drop_personal", "is_id_number", "looks_like_id_numbers",
           "personal_columns"]

logger = logging.getLogger(__name__)

_F = TypeVar("_F", bound=pd.DataFrame)

ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")
"""A citizen ID number (公民身份号码, GB 11643-1999): 17 digits and a check character."""

_MOSTLY = 0.8
_SAMPLE = 2000
"""Values looked at per column (the first non-blank ones)."""


def personal_columns() -> dict[str, tuple[str, ...]]:
    """Canonical personal column → its recognised headers (:data:`PERSONAL_INPUTS`)."""
    from contigmap.inputs import PERSONAL_INPUTS

    return {name: aliases for name, aliases, _, _ in PERSONAL_INPUTS}


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def is_id_number(text: str) -> bool:
    """Whether ``text`` is a citizen ID number: the pattern, a birth date and the check digit.

    The check character is ISO 7064 MOD 11-2 as GB 11643-1999 defines it (Σ digit ×
    weight mod 11 → ``10X98765432``); characters 7-14 are a birth date from 1900.
    A 12-digit village code followed by a 6-digit household number almost never passes.
    """
    if not ID_NUMBER.match(text):
        return False
    year, month, day = int(text[6:10]), int(text[10:12]), int(text[12:14])
    if not (1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return False
    total = sum(int(d) * w for d, w in zip(text[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == text[17].upper()


def _first_filled(values: pd.Series, n: int) -> pd.Series:
    """Return the first ``n`` non-blank values as stripped text, in order.

    Read from a growing head of the column rather than the whole column (a household
    registry has 140 000 rows; the sample is the same: filtering keeps the order).
    """
    filled = values.dropna()
    k = n
    while True:
        text = filled.head(k).astype(str).str.strip()
        text = text[text != ""]
        if len(text) >= n or k >= len(filled):
            return text.head(n)
        k *= 4


def looks_like_id_numbers(values: pd.Series) -> bool:
    """Whether at least 80% of the non-blank values are ID numbers (:func:`is_id_number`)."""
    text = _first_filled(values, _SAMPLE)
    if text.empty or text.str.match(ID_NUMBER).mean() < _MOSTLY:  # fast, vectorised
        return False
    return bool(text.map(is_id_number).mean() >= _MOSTLY)


def _texty(values: pd.Series) -> bool:
    """Text or object values (ID numbers read as text; numbers cannot hold the X)."""
    return bool(pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values))


def _is_personal_header(column: object, known: dict[str, tuple[str, ...]]) -> bool:
    from contigmap.inputs import normalise_header

    key = normalise_header(column)
    for name, aliases in known.items():
        if key == name or key in {normalise_header(a) for a in aliases}:
            return True
    return False


def drop_personal(frame: _F, *, id_column: str | None, source: str) -> _F:
    """Remove personal columns from a layer just read; replace ID-number ids by row numbers.

    Parameters
    ----------
    frame
        The layer after renaming (canonical columns; other headers as in the file).
    id_column
        The role's id column (``household_id``), kept but pseudonymised when its values
        are ID numbers.
    source
        How to name the layer in messages.

    Returns
    -------
    pandas.DataFrame
        The layer without personal columns.

    Warns
    -----
    DataQualityWarning
        The id column holds ID numbers (replaced by ``P1``, ``P2``, ...).
    """
    known = personal_columns()
    drop = [c for c in frame.columns
            if c != id_column and c != "geometry" and not str(c).startswith("_src")
            and (_is_personal_header(c, known)
                 or (_texty(frame[c]) and looks_like_id_numbers(frame[c])))]
    out = frame.drop(columns=drop) if drop else frame
    if drop:
        logger.info("%s: personal column(s) dropped on reading: %s", source,
                    ", ".join(map(str, drop)))
    if id_column is not None and id_column in out.columns and _texty(out[id_column]) \
            and looks_like_id_numbers(out[id_column]):
        out = out.copy()
        out[id_column] = [f"P{i + 1}" for i in range(len(out))]
        warn_data(f"{source}: the id column holds citizen ID numbers (身份证号), which are "
                  "personal: replaced by row numbers P1, P2, ...; give a household number "
                  "(户编号) as id: in region.yaml", logger=logger, stacklevel=3)
    return out
