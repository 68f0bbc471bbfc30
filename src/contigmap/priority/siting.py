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
    covered: ArrayLike | None = None,
) -> SitingResult:
    """Greedy maximal covering: ``k`` times the site adding the most uncovered weight.

    ``cover`` is villages × candidates (nonzero: within ``T``); ``covered`` marks villages
    already covered. Ties go to the lower candidate position; a site that adds nothing is
    not chosen.
    """
    cov = csr_matrix(cover, dtype=bool).astype(np.float64)
    w = np.asarray(weights, dtype=float)
    _check(cov, w, k)
    done = (np.zeros(cov.shape[0], bool) if covered is None
            else np.asarray(covered, dtype=bool).copy())
    csc = csc_matrix(cov)
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
    time_limit_s: float = 30.0,
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
    greedy = greedy_cover(cov, w, k, done)
    free = np.flatnonzero(~done & (w > 0) & (np.diff(cov.indptr) > 0))
    n_c = cov.shape[1]
    if k == 0 or free.size == 0 or n_c == 0:
        return SitingResult(greedy.sites, greedy.covered, greedy.objective, "milp", 1.0)
    if free.size * n_c > exact_max_cells:
        logger.info("siting: %d villages x %d candidates > %d cells: greedy", free.size, n_c,
                    exact_max_cells)
        return greedy
    sub = cov[free]
    m = free.size
    # variables: x_0..x_{C-1} (sites), y_0..y_{m-1} (villages); minimise -Σ w y
    c = np.concatenate([np.zeros(n_c), -w[free]])
    a_cover = hstack([-sub, identity(m, format="csr")], format="csr")  # y_i - Σ x_j <= 0
    a_k = csr_matrix(np.concatenate([np.ones(n_c), np.zeros(m)])[None, :])
    cons = LinearConstraint(sp_vstack([a_cover, a_k], format="csr"),
                            np.full(m + 1, -np.inf), np.concatenate([np.zeros(m), [k]]))
    integrality = np.concatenate([np.ones(n_c), np.zeros(m)])
    res = milp(c, constraints=cons, integrality=integrality, bounds=Bounds(0, 1),
               options={"time_limit": time_limit_s, "disp": False})
    if res.status != 0 or res.x is None:
        logger.info("siting: HiGHS stopped without proof (%s): greedy", res.message)
        return greedy
    sites = np.flatnonzero(res.x[:n_c] > 0.5).astype(np.int64)
    new = np.zeros(cov.shape[0], bool)
    if sites.size:
        new = np.asarray(cov[:, sites].sum(axis=1)).ravel() > 0
    objective = float(w[new & ~done].sum())
    if objective + 1e-9 < greedy.objective:  # HiGHS tolerance: never worse than greedy
        return greedy
    return SitingResult(sites, new | done, objective, "milp", 1.0)
