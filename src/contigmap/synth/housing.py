"""Synthetic house safety grades (A-D) for the demo's household registry.

Poor households live more often in dangerous houses: a C or D grade (危房) with
probability ``p_poor`` for poor households and ``p_other`` for the rest (defaults 0.20 and
0.055, about 8 % of all houses at the demo's household poverty share); among dangerous
houses a share ``d_share`` is D (rebuild), the rest C (repair); safe houses are A or B
with equal odds. Its own generator (``seed``), so adding the column leaves every other
demo figure as it was.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contigmap.booleans import parse_bool

__all__ = ["HOUSING_SEED", "add_housing_grade"]

HOUSING_SEED = 20161
"""Seed of the demo's housing grades."""


def add_housing_grade(
    households: pd.DataFrame, *, seed: int = HOUSING_SEED, p_poor: float = 0.20,
    p_other: float = 0.055, d_share: float = 0.35,
) -> pd.DataFrame:
    """Return ``households`` with a ``housing_grade`` column (A, B, C or D), in row order.

    Parameters
    ----------
    households
        The registry, with a ``poor`` column (0/1, bool or 是/否).
    seed
        Seed of the grades' own random generator.
    p_poor, p_other
        Chance of a dangerous house (C or D) for poor and other households.
    d_share
        Share of D among the dangerous houses.

    Returns
    -------
    pandas.DataFrame
        A copy with ``housing_grade`` last.
    """
    rng = np.random.default_rng(seed)
    poor = parse_bool(households["poor"], column="poor", source="households")
    u, v = rng.random(len(households)), rng.random(len(households))
    danger = u < np.where(poor, p_poor, p_other)
    grade = np.where(danger, np.where(v < d_share, "D", "C"), np.where(v < 0.5, "A", "B"))
    out = households.copy()
    out["housing_grade"] = grade
    return out
