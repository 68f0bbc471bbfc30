"""Priority tiers: one definition, read by tables, maps, legends and reports.

A tier says *when* a village's works would be built, not only how needy it is:

``budget`` basis (a budget ``budget_cny`` is set)
    Works are funded strictly in rank order (:func:`contigmap.priority.run.budget_reach`):

    * tier 1 (预算内, within the budget): cumulative cost down the ranked list ≤ budget;
    * tier 2 (第二批, next): cumulative cost ≤ 2 × budget — what a second budget of the same
      size would fund, the first one's unspent remainder carried over;
    * tier 3 (后续, later): every other village that needs works.

``need_quantile`` basis (no budget set; a warning says so)
    Equal-count groups by rank among the villages that need works: ``tier = ⌊(i − 1) ·
    k / m⌋ + 1`` for the i-th of m such villages, ``k`` = the intervention's ``tiers``.

In both, :data:`NO_WORKS_TIER` (0, 无需工程) marks the villages that need no works: their
option is ``none`` or costs nothing. Only they are "not needed"; every other village has
a costed option and a tier from 1 on. The basis is recorded per row in ``<iv>_tier_basis``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

__all__ = [
    "BUDGET",
    "NEED_QUANTILE",
    "NO_WORKS_TIER",
    "assign_tiers",
    "needs_works",
    "quantile_tiers",
    "tier_colour",
    "tier_label",
    "tier_values",
]

BUDGET: Final[str] = "budget"
"""Tier basis: funded within the budget, a second budget, later."""
NEED_QUANTILE: Final[str] = "need_quantile"
"""Tier basis without a budget: equal-count groups by need rank."""
NO_WORKS_TIER: Final[int] = 0
"""Tier of a unit that needs no works (option ``none`` or zero cost)."""

_BUDGET_LABELS: Final[dict[int, tuple[str, str]]] = {
    1: ("预算内", "within budget"),
    2: ("第二批", "next (a second budget)"),
    3: ("后续", "later"),
}
_NO_WORKS_LABEL: Final[tuple[str, str]] = ("无需工程", "no works needed")
_COLOURS: Final[tuple[str, ...]] = ("#d7191c", "#fdae61", "#abd9e9", "#2c7bb6", "#7b3294",
                                    "#008837", "#a6611a", "#636363", "#c51b7d", "#4d9221")
_NO_WORKS_COLOUR: Final[str] = "#ffffff"  # white: apart from no-data grey


def needs_works(option: pd.Series, capex: pd.Series) -> np.ndarray:
    """Whether each unit needs works: an option other than ``none`` that costs more than 0.

    An unknown cost (``nan``) with a real option counts as needing works.
    """
    opt = option.astype(str).to_numpy()
    cost = pd.to_numeric(capex, errors="coerce").to_numpy(float)
    return np.asarray((opt != "none") & ~(cost == 0.0), dtype=bool)


def quantile_tiers(rank: np.ndarray, works: np.ndarray, n_tiers: int) -> np.ndarray:
    """Equal-count tiers 1..``n_tiers`` by rank among units needing works; 0 for the rest."""
    rank = np.asarray(rank)
    works = np.asarray(works, dtype=bool)
    tier = np.full(len(rank), NO_WORKS_TIER, dtype=np.int64)
    idx = np.flatnonzero(works)
    m = idx.size
    if m:
        order = idx[np.argsort(rank[idx], kind="stable")]
        tier[order] = np.arange(m) * n_tiers // m + 1
    return tier


def assign_tiers(
    table: pd.DataFrame, iv: str, budget_cny: float | None, *, n_tiers: int = 4
) -> pd.DataFrame:
    """Set ``<iv>_tier`` and ``<iv>_tier_basis`` on a ranked, costed table.

    Parameters
    ----------
    table
        Rows with ``<iv>_rank``, ``<iv>_option``, ``<iv>_capex_cny`` (any order).
    iv
        The intervention (column prefix).
    budget_cny
        The budget; ``None`` gives the ``need_quantile`` basis.
    n_tiers
        Number of need groups of the ``need_quantile`` basis.

    Returns
    -------
    pandas.DataFrame
        A copy with the two columns (see the module's definitions).
    """
    out = table.copy()
    works = needs_works(out[f"{iv}_option"], out[f"{iv}_capex_cny"])
    rank = out[f"{iv}_rank"].to_numpy()
    if budget_cny is None:
        out[f"{iv}_tier"] = quantile_tiers(rank, works, n_tiers)
        out[f"{iv}_tier_basis"] = NEED_QUANTILE
        return out
    order = np.argsort(rank, kind="stable")
    cost = pd.to_numeric(out[f"{iv}_capex_cny"], errors="coerce").fillna(0.0).to_numpy(float)
    cum = np.empty(len(out))
    cum[order] = np.cumsum(cost[order])
    tier = np.where(cum <= budget_cny, 1, np.where(cum <= 2 * budget_cny, 2, 3))
    out[f"{iv}_tier"] = np.where(works, tier, NO_WORKS_TIER).astype(np.int64)
    out[f"{iv}_tier_basis"] = BUDGET
    return out


def tier_values(basis: str | None, n_tiers: int = 4) -> tuple[int, ...]:
    """Tier values of a basis in legend order: 1, 2, …, then :data:`NO_WORKS_TIER`."""
    last = 3 if basis == BUDGET else n_tiers
    return (*range(1, last + 1), NO_WORKS_TIER)


def tier_label(tier: object, basis: str | None) -> tuple[str, str]:
    """Chinese and English label of a tier value under a basis.

    ``budget``: 预算内 / 第二批 / 后续; ``need_quantile``: 需求第k档 (1 = highest need);
    0 is 无需工程 under both; a whole number under no known basis is 第k档. Any other
    value is labelled with itself.
    """
    try:
        number = float(str(tier))
    except ValueError:
        return str(tier), str(tier)
    if not number.is_integer():
        return str(tier), str(tier)
    value = int(number)
    if value == NO_WORKS_TIER:
        return _NO_WORKS_LABEL
    if basis == BUDGET and value in _BUDGET_LABELS:
        return _BUDGET_LABELS[value]
    if basis == NEED_QUANTILE and value >= 1:
        return f"需求第{value}档", f"need group {value}"
    return f"第{value}档", f"tier {value}"


def tier_colour(tier: int) -> str:
    """Map colour of a tier value: red for tier 1 through blue; white for no works."""
    if tier == NO_WORKS_TIER:
        return _NO_WORKS_COLOUR
    return _COLOURS[(tier - 1) % len(_COLOURS)]
