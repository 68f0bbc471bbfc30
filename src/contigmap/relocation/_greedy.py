"""Without a solver: the greedy plan and bounds from capacities and reach.

Used by :mod:`contigmap.relocation.assign`: the greedy plan proves the most people
placeable when it places everyone with an offered site, and is the fallback (with these
bounds) when HiGHS finds no plan within the time limit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["greedy_plan", "simple_bounds"]


def greedy_plan(g_size: np.ndarray, g_n: np.ndarray, gi: np.ndarray, si: np.ndarray,
            cost: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Households largest first, each to its cheapest site with room; counts per pair.

    ``cost`` is the cost per person of each allowed pair ``(gi, si)``. Ties go to the
    lower pair index, so the plan is deterministic.
    """
    left = cap.astype(float).copy()
    x = np.zeros(gi.size, np.int64)
    pairs_of: dict[int, np.ndarray] = {}
    order = np.lexsort((np.arange(gi.size), cost, gi))
    for g in np.unique(gi):
        pairs_of[int(g)] = order[gi[order] == g]
    for g in sorted(pairs_of, key=lambda k: (-int(g_size[k]), float(cost[pairs_of[k][0]]), k)):
        need = int(g_n[g])
        for j in pairs_of[g]:
            if need == 0:
                break
            take = min(need, int(left[si[j]] // g_size[g]))
            if take > 0:
                x[j] += take
                left[si[j]] -= take * g_size[g]
                need -= take
    return x


def simple_bounds(g_size: np.ndarray, g_n: np.ndarray, gi: np.ndarray, gcost: np.ndarray,
                   cap: np.ndarray, placed: float) -> tuple[float, float]:
    """Bounds without a solver: capacities and reach, cheapest people first.

    At most ``min(Σ capacity, people with an offered site)`` people can be placed, and
    placing ``placed`` people costs at least the sum of the ``placed`` smallest
    per-person costs (each person at their origin's cheapest offered site).
    """
    n_g = g_n.size
    min_cost = np.full(n_g, np.inf)
    np.minimum.at(min_cost, gi, gcost)
    people = (g_n * g_size).astype(float)
    reach = float(people[np.isfinite(min_cost)].sum())
    order = np.argsort(min_cost, kind="stable")
    take = np.minimum(people[order], np.maximum(placed - (np.cumsum(people[order])
                                                          - people[order]), 0.0))
    ok = take > 0
    cost = float((take[ok] * min_cost[order][ok]).sum()) if ok.any() else 0.0
    return min(float(cap.sum()), reach), cost
