"""Dangerous houses (危房) per village from the household registry's housing grade.

The registry's ``housing_grade`` (住房等级/危房等级) grades each house as the
《农村危险房屋鉴定技术导则（试行）》(建村函〔2009〕69号) does: A and B are safe, C (局部危房)
needs in-place repair or reinforcement, D (整栋危房) has to be rebuilt. Values such as
``C级`` or ``D级危房`` count by their letter; blanks and anything else count as safe, with a
warning. :func:`housing_counts` adds, per village, the C and D households, the poor ones
among them and the people living in them; :mod:`contigmap.priority.housing` ranks them.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.columns import ColumnInfo, register_columns
from contigmap.errors import warn_data

__all__ = ["HOUSING_COLUMNS", "housing_counts", "housing_grades"]

logger = logging.getLogger(__name__)

HOUSING_COLUMNS: tuple[str, ...] = (
    "danger_c_households",
    "danger_d_households",
    "danger_poor_households",
    "danger_people",
    "danger_poor_people",
)
"""Columns :func:`housing_counts` returns, in order."""

_SRC = "households / poverty"
register_columns([
    ColumnInfo("danger_c_households", "registry households in a C-grade house (局部危房, "
               "repair in place)", "C级危房户数", "households", _SRC),
    ColumnInfo("danger_d_households", "registry households in a D-grade house (整栋危房, "
               "rebuild)", "D级危房户数", "households", _SRC),
    ColumnInfo("danger_poor_households", "poor registry households in a C or D "
               "house", "危房贫困户数", "households", _SRC),
    ColumnInfo("danger_people", "people in the registry's C and D houses",
               "危房居住人口", "people", _SRC),
    ColumnInfo("danger_poor_people", "poor people in the registry's C and D "
               "houses", "危房贫困人口", "people", _SRC),
])


def housing_grades(values: pd.Series) -> NDArray[np.object_]:
    """Grade letter (``A``-``D``) of each value, ``""`` when blank or unknown (warns).

    ``"c"``, ``"C级"``, ``"D级危房"`` → ``C``, ``C``, ``D`` (the first letter A-D, full-width
    letters too).
    """
    text = values.fillna("").astype(str).str.strip().str.upper()
    text = text.str.translate(str.maketrans("ＡＢＣＤ", "ABCD"))
    first = text.str[:1]
    ok = first.isin(["A", "B", "C", "D"])
    bad = ~ok & text.ne("")
    if bad.any():
        counts = values[bad.to_numpy()].astype(str).value_counts()
        listed = ", ".join(f"{v!r} ({n})" for v, n in counts.head(10).items())
        warn_data(f"households: {int(bad.sum())} housing_grade value(s) are not A-D and count "
                  f"as safe: {listed}; use A, B, C or D (C/D = 危房)", logger=logger)
    return np.asarray(np.where(ok, first, ""), dtype=object)


def housing_counts(village_id: pd.Series, members: NDArray[np.float64],
                   poor: NDArray[np.bool_], grade: pd.Series) -> pd.DataFrame:
    """C and D households, poor ones among them and their people, per village.

    Parameters
    ----------
    village_id
        Village code of each household.
    members, poor
        Members and poor flag of each household.
    grade
        The registry's ``housing_grade`` values.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``village_id``, with :data:`HOUSING_COLUMNS` (counts; 0 for none).
    """
    g = housing_grades(grade.reset_index(drop=True))
    danger = (g == "C") | (g == "D")
    data = pd.DataFrame({
        "village_id": village_id.to_numpy(),
        "danger_c_households": (g == "C").astype(np.int64),
        "danger_d_households": (g == "D").astype(np.int64),
        "danger_poor_households": (danger & poor).astype(np.int64),
        "danger_people": np.where(danger, members, 0.0),
        "danger_poor_people": np.where(danger & poor, members, 0.0),
    })
    out = data.groupby("village_id", sort=True)[list(HOUSING_COLUMNS)].sum()
    logger.info("housing: %d C and %d D households in the registry",
                int(out["danger_c_households"].sum()), int(out["danger_d_households"].sum()))
    return out
