"""Siting new facilities: the maximal covering location problem.

Choose ``K`` sites among candidates so that as many (poor) people as possible are within
``T`` minutes of a facility: the maximal covering location problem of Church and ReVelle
(1974, Papers of the Regional Science Association 32, 101-118)::

    max  Σ_i w_i y_i
    s.t. y_i <= Σ_{j ∈ N_i} x_j     (a village counts only when a chosen site covers it)
         Σ_j x_j <= K,  x_j ∈ {0, 1},  0 <= y_i <= 1

where ``N_i`` are the candidates within ``T`` of village ``i``. Villages already covered
by an existing facility are left out (their coverage cannot grow).

* **Exact** with ``scipy.optimize.milp`` (the HiGHS branch and cut, Huangfu and Hall
  2018) while candidates × villages stays within ``exact_max_cells`` and HiGHS proves
  optimality within ``time_limit_s``.
* **Greedy** beyond (or when HiGHS stops without proof): add the site that covers the most
  uncovered weight, ``K`` times. Coverage is monotone submodular, so the greedy choice
  covers at least ``1 - (1 - 1/K)^K >= 1 - 1/e ≈ 63.2 %`` of the optimum (Nemhauser,
  Wolsey and Fisher 1978, Mathematical Programming 14, 265-294); the result states that
  bound.

**Budgets** (``costs`` and ``budgets``, the budgeted maximum coverage problem of Khuller,
Moss and Naor 1999, Information Processing Letters 70, 39-45): each candidate ``j`` costs
``c_jr`` of budget ``r`` and ``Σ_j c_jr x_j <= B_r`` for every ``r`` (bus lines: length and
vehicles), on top of ``Σ_j x_j <= K``. The MILP takes them as extra rows. The greedy step
then adds the candidate with the most uncovered weight per unit of cost (``Σ_r c_jr / B_r``)
that still fits, and keeps the better of that and the best single candidate: with one
budget this "modified greedy" covers at least ``(1 - 1/e) / 2 ≈ 31.6 %`` of the optimum
(Khuller et al. 1999); with two or more there is no such a priori bound and the result
states the share of the LP relaxation's optimum (or of HiGHS's dual bound when the MILP
stopped without proof) that it reaches, a bound measured on the instance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csc_matrix, csr_matrix, hstack, identity
from scipy.sparse import vstack as sp_vstack

from contigmap.errors import ConfigError

__all__ = ["SitingResult", "greedy_cover", "max_cover"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SitingResult:
    """Chosen sites and what they cover.

    Attributes
    ----------
    sites
        Chosen candidate positions, in the order chosen (greedy) or ascending (exact).
    covered
        Per village: within ``T`` of a chosen site or of an existing facility.
    objective
        Weight newly covered by the chosen sites.
    method
        ``milp`` (proved optimal) or ``greedy``.
    bound
        Guaranteed share of the optimum: 1.0 for ``milp``, ``1 - (1 - 1/K)^K`` for greedy.
    """

    sites: NDArray[np.int64]
    covered: NDArray[np.bool_]
    objective: float
    method: Literal["milp", "greedy"]
    bound: float


def _budget_arrays(
    costs: ArrayLike | None, budgets: ArrayLike | None, n_c: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Candidates × budgets costs and the budgets, checked; ``None`` without budgets."""
    if costs is None and budgets is None:
        return None
    b = np.asarray(budgets, dtype=float).ravel()
    # no candidates: reshape cannot infer the column count from an empty array
    c = np.asarray(costs, dtype=float).reshape(n_c, -1 if n_c else b.size)
    if c.shape[1] != b.size or not np.isfinite(c).all() or (c < 0).any() or (b < 0).any():
        msg = (f"siting: costs must be finite, >= 0 and one column per budget "
               f"({c.shape[1]} columns, {b.size} budgets); give candidates × budgets costs")
        raise ConfigError(msg)
    return c, b


def _greedy_budgeted(
    csc: csc_matrix, w: NDArray[np.float64], k: int, done: NDArray[np.bool_],
    cost: NDArray[np.float64], budget: NDArray[np.float64],
) -> SitingResult:
    """Khuller, Moss and Naor's modified greedy under budgets (see the module docstring)."""
    start = done.copy()
    norm = (cost / np.where(budget > 0, budget, 1.0)).sum(axis=1)
    fits_alone = (cost <= budget + 1e-9).all(axis=1)
    chosen: list[int] = []
    spent = np.zeros(budget.size)
    total = 0.0
    while len(chosen) < k:
        gain = csc.T @ np.where(done, 0.0, w)
        ok = fits_alone & (spent + cost <= budget + 1e-9).all(axis=1) & (gain > 0)
        ok[chosen] = False
        if not ok.any():
            break
        ratio = np.where(ok, gain / np.maximum(norm, 1e-12), -1.0)
        j = int(np.argmax(ratio))
        chosen.append(j)
        spent += cost[j]
        total += float(gain[j])
        done[csc.indices[csc.indptr[j]:csc.indptr[j + 1]]] = True
    single = np.where(fits_alone & (k > 0), csc.T @ np.where(start, 0.0, w), -1.0)
    bound = (1.0 - 1.0 / np.e) / 2.0 if budget.size == 1 else 0.0
    if single.size and single.max() > total:
        j = int(np.argmax(single))
        best = start.copy()
        best[csc.indices[csc.indptr[j]:csc.indptr[j + 1]]] = True
        return SitingResult(np.array([j], np.int64), best, float(single[j]), "greedy", bound)
    return SitingResult(np.asarray(chosen, np.int64), done, total, "greedy", bound)


def _check(cover: csr_matrix, w: NDArray[np.float64], k: int) -> None:
    if k < 0:
        msg = f"siting: K = {k} new facilities; give K >= 0"
        raise ConfigError(msg)
    if w.shape[0] != cover.shape[0]:
        msg = (f"siting: {w.shape[0]} weights for {cover.shape[0]} villages; give one weight "
               f"per row of the coverage matrix")
        raise ConfigError(msg)
    if (w < 0).any() or not np.isfinite(w).all():
        msg = "siting: weights must be finite and >= 0 (people, poor people)"
        raise ConfigError(msg)


def greedy_cover(
    cover: csr_matrix, weights: ArrayLike, k: int,
    covered: ArrayLike | None = None, *,
    costs: ArrayLike | None = None, budgets: ArrayLike | None = None,
) -> SitingResult:
    """Greedy maximal covering: ``k`` times the site adding the most uncovered weight.

    ``cover`` is villages × candidates (nonzero: within ``T``); ``covered`` marks villages
    already covered. Ties go to the lower candidate position; a site that adds nothing is
    not chosen. With ``costs`` (candidates × budgets) and ``budgets``, the modified greedy
    of Khuller, Moss and Naor (1999) instead (module docstring).
    """
    cov = csr_matrix(cover, dtype=bool).astype(np.float64)
    w = np.asarray(weights, dtype=float)
    _check(cov, w, k)
    done = (np.zeros(cov.shape[0], bool) if covered is None
            else np.asarray(covered, dtype=bool).copy())
    csc = csc_matrix(cov)
    knap = _budget_arrays(costs, budgets, cov.shape[1])
    if knap is not None:
        return _greedy_budgeted(csc, w, k, done, *knap)
    chosen: list[int] = []
    total = 0.0
    for _ in range(min(k, cov.shape[1])):
        gain = csc.T @ np.where(done, 0.0, w)
        gain[chosen] = -1.0
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen.append(j)
        total += float(gain[j])
        done[csc.indices[csc.indptr[j]:csc.indptr[j + 1]]] = True
    bound = 1.0 - (1.0 - 1.0 / k) ** k if k > 0 else 1.0
    return SitingResult(np.asarray(chosen, np.int64), done, total, "greedy", bound)


def max_cover(
    cover: csr_matrix, weights: ArrayLike, k: int, *,
    covered: ArrayLike | None = None, exact_max_cells: int = 2_000_000,
    time_limit_s: float = 30.0, costs: ArrayLike | None = None,
    budgets: ArrayLike | None = None,
) -> SitingResult:
    """Choose ``k`` sites maximising the weight covered (MCLP, Church and ReVelle 1974).

    Parameters
    ----------
    cover
        Villages × candidates, nonzero where the candidate is within ``T`` of the village.
    weights
        Weight per village (poor people, say).
    k
        Sites to choose.
    covered
        Villages already covered by existing facilities.
    exact_max_cells
        Largest villages × candidates solved exactly with HiGHS; larger problems go greedy.
    time_limit_s
        HiGHS time limit; without a proof of optimality the greedy answer is returned
        (the better of the two when HiGHS found a feasible one).
    costs, budgets
        Candidates × budgets costs and the budgets (``Σ_j c_jr x_j <= B_r``); ``None``:
        only ``k`` limits the choice.

    Returns
    -------
    SitingResult
        The sites, coverage, objective, method and its guarantee.
    """
    cov = csr_matrix(cover, dtype=bool).astype(np.float64)
    w = np.asarray(weights, dtype=float)
    _check(cov, w, k)
    done = (np.zeros(cov.shape[0], bool) if covered is None
            else np.asarray(covered, dtype=bool))
    knap = _budget_arrays(costs, budgets, cov.shape[1])
    greedy = greedy_cover(cov, w, k, done, costs=costs, budgets=budgets)
    free = np.flatnonzero(~done & (w > 0) & (np.diff(cov.indptr) > 0))
    n_c = cov.shape[1]
    if k == 0 or free.size == 0 or n_c == 0:
        return SitingResult(greedy.sites, greedy.covered, greedy.objective, "milp", 1.0)
    if free.size * n_c > exact_max_cells:
        logger.info("siting: %d villages x %d candidates > %d cells: greedy", free.size, n_c,
                    exact_max_cells)
        if knap is None or knap[1].size < 2:
            return greedy
        # no a priori bound under two budgets: measure it against the LP relaxation
        c, cons = _program(cov, w, free, k, knap)
        lp = milp(c, constraints=cons, bounds=Bounds(0, 1),
                  options={"time_limit": time_limit_s, "disp": False})
        return _measured(greedy, lp.fun if lp.status == 0 else None)
    c, cons = _program(cov, w, free, k, knap)
    integrality = np.concatenate([np.ones(n_c), np.zeros(free.size)])
    res = milp(c, constraints=cons, integrality=integrality, bounds=Bounds(0, 1),
               options={"time_limit": time_limit_s, "disp": False})
    if res.status != 0 or res.x is None:
        logger.info("siting: HiGHS stopped without proof (%s): greedy", res.message)
        return _measured(greedy, getattr(res, "mip_dual_bound", None))
    sites = np.flatnonzero(res.x[:n_c] > 0.5).astype(np.int64)
    new = np.zeros(cov.shape[0], bool)
    if sites.size:
        new = np.asarray(cov[:, sites].sum(axis=1)).ravel() > 0
    objective = float(w[new & ~done].sum())
    if objective + 1e-9 < greedy.objective:  # HiGHS tolerance: never worse than greedy
        return greedy
    return SitingResult(sites, new | done, objective, "milp", 1.0)


def _program(
    cov: csr_matrix, w: NDArray[np.float64], free: NDArray[np.int64], k: int,
    knap: tuple[NDArray[np.float64], NDArray[np.float64]] | None,
) -> tuple[NDArray[np.float64], LinearConstraint]:
    """Objective and constraints of the (budgeted) MCLP over the ``free`` villages.

    Variables: ``x_0..x_{C-1}`` (sites), ``y_0..y_{m-1}`` (villages); minimise ``-Σ w y``.
    """
    n_c, m = cov.shape[1], free.size
    c = np.concatenate([np.zeros(n_c), -w[free]])
    a_cover = hstack([-cov[free], identity(m, format="csr")], format="csr")  # y - Σ x <= 0
    rows = [np.ones(n_c)] + ([] if knap is None else list(knap[0].T))
    caps = [float(k)] + ([] if knap is None else list(knap[1]))
    a_k = csr_matrix(np.hstack([np.vstack(rows), np.zeros((len(rows), m))]))
    cons = LinearConstraint(sp_vstack([a_cover, a_k], format="csr"),
                            np.full(m + len(rows), -np.inf),
                            np.concatenate([np.zeros(m), caps]))
    return c, cons


def _measured(greedy: SitingResult, dual_bound: float | None) -> SitingResult:
    """Return the greedy result with its share of HiGHS's dual bound when that proves more."""
    if dual_bound is None or not np.isfinite(dual_bound):
        return greedy
    upper = -float(dual_bound)  # the programs minimise -Σ w y
    share = 1.0 if upper <= 1e-12 else min(1.0, greedy.objective / upper)
    if share <= greedy.bound:
        return greedy
    return SitingResult(greedy.sites, greedy.covered, greedy.objective, "greedy", share)
