"""Exact integer programmes made small by reduced-cost fixing against the LP relaxation.

The relocation assignment (:mod:`contigmap.relocation.assign`) solves integer programmes

    minimise c·x  subject to  lo ≤ A x ≤ hi,  0 ≤ x ≤ u,  x integer

whose LP relaxation is nearly integral: of the ~9,000 variables of a 14k-edge county,
fewer than a thousand can take a value other than their LP value in any optimal plan.
Handing HiGHS the whole model spends seconds in presolve and primal heuristics; handing it
only the variables that can matter takes a few hundredths. Which variables can matter
follows from the LP duals — *reduced-cost fixing* (Dantzig, Fulkerson & Johnson 1954,
*Solution of a large-scale traveling-salesman problem*; Crowder, Johnson & Padberg 1983,
*Operations Research* 31(5)), applied here outside the solver:

Let ``x*`` be an optimal basic solution of the LP relaxation, ``z`` its value, ``y`` the
row duals and ``d = c − Aᵀy`` the reduced costs. For every ``x`` feasible for the
relaxation, ``c·x − z = Σ_i y_i ((Ax)_i − (Ax*)_i) + Σ_j d_j (x_j − x*_j)`` and every
term is ≥ 0 by dual feasibility and complementary slackness (``y_i ≠ 0`` only on a row
at its bound, with the sign that makes the row term non-negative; ``d_j > 0`` only when
``x*_j = 0`` and ``d_j < 0`` only when ``x*_j = u_j``). With ``u`` integral, an integer
``x`` with ``x_j ≠ x*_j`` therefore costs at least ``z + |d_j|``. So every integer plan
costing at most ``z + δ`` has ``x_j = x*_j`` wherever ``|d_j| > δ``: fix those, solve
the restricted programme, value ``V``.

* If ``V ≤ z + δ``, ``V`` is the optimum of the full programme: any plan outside the
  restricted one costs more than ``z + δ``.
* Otherwise solve again with ``δ = V − z``: the restricted programme now holds every plan
  costing at most ``V`` (among them the one just found), so its optimum is the full one.
* If the restricted programme is infeasible (or HiGHS fails on it without a time
  limit), ``δ`` grows tenfold (at least to the next reduced cost, so more variables
  are freed each time) until a plan is found or nothing is fixed any more.

Rows whose coefficients are all integers get integer bounds for the relaxation
(``⌈lo⌉``, ``⌊hi⌋``: the same integer points, a tighter LP). The time limit is shared by
every solve; when it strikes the best plan found is returned with a bound valid for the
full programme: ``min(restricted bound, z + δ)``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import OptimizeResult, linprog
from scipy.sparse import csr_matrix, vstack

__all__ = ["lp_relaxation", "solve_by_fixing"]

logger = logging.getLogger(__name__)

#: ``solve(lower, upper, time_limit)``: the MILP with these variable bounds (a scipy
#: :func:`~scipy.optimize.milp` result: ``x`` None when no plan was found).
RestrictedSolve = Callable[[NDArray[np.float64], NDArray[np.float64], float], Any]


def _integer_rows(a: csr_matrix, lo: NDArray[np.float64],
                  hi: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Row bounds rounded inwards on rows with integer coefficients only."""
    frac = np.abs(a.data - np.round(a.data)) > 0
    bad = np.zeros(a.shape[0], bool)
    bad[np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))[frac]] = True
    with np.errstate(invalid="ignore"):
        lo2 = np.where(bad | ~np.isfinite(lo), lo, np.ceil(lo - 1e-9))
        hi2 = np.where(bad | ~np.isfinite(hi), hi, np.floor(hi + 1e-9))
    return lo2, hi2


def lp_relaxation(c: NDArray[np.float64], a: csr_matrix, lo: NDArray[np.float64],
                hi: NDArray[np.float64], ub: NDArray[np.float64],
                time_limit: float) -> tuple[float, NDArray[np.float64],
                                            NDArray[np.float64]] | None:
    """LP value, basic solution and reduced costs (dual simplex); ``None`` if not solved."""
    lo, hi = _integer_rows(a, lo, hi)
    eq = lo == hi
    up = ~eq & np.isfinite(hi)
    dn = ~eq & np.isfinite(lo)
    a_ub = vstack([a[np.flatnonzero(up)], -a[np.flatnonzero(dn)]]).tocsr()
    res = linprog(c, A_ub=a_ub if a_ub.shape[0] else None,
                  b_ub=np.concatenate([hi[up], -lo[dn]]) if a_ub.shape[0] else None,
                  A_eq=a[np.flatnonzero(eq)] if eq.any() else None,
                  b_eq=lo[eq] if eq.any() else None,
                  bounds=np.column_stack([np.zeros(c.size), ub]), method="highs-ds",
                  options={"time_limit": max(float(time_limit), 1e-3), "presolve": True})
    if res.status != 0:
        return None
    d = np.asarray(res.lower.marginals) + np.asarray(res.upper.marginals)
    return float(res.fun), np.asarray(res.x), d


def _with_bound(res: Any, bound: float) -> OptimizeResult:
    """Return ``res`` reporting ``bound`` (valid for the full programme) and its gap."""
    out = OptimizeResult(dict(res))
    if res.x is not None and res.status != 0:
        b = getattr(res, "mip_dual_bound", None)
        bound = bound if b is None else min(float(b), bound)
        out.mip_dual_bound = bound
        out.mip_gap = abs(float(res.fun) - bound) / max(abs(float(res.fun)), 1e-12)
    return out


def solve_by_fixing(c: NDArray[np.float64], a: csr_matrix, lo: NDArray[np.float64],
                    hi: NDArray[np.float64], ub: NDArray[np.float64], *, time_limit: float,
                    solve: RestrictedSolve) -> Any:
    """Solve the integer programme exactly by reduced-cost fixing (module docstring).

    Parameters
    ----------
    c, a, lo, hi, ub
        Objective, constraint matrix, row bounds and variable upper bounds (lower
        bounds 0, every variable integer, ``ub`` integral).
    time_limit
        Seconds for every solve together.
    solve
        The MILP solver on these rows with given variable bounds (HiGHS).

    Returns
    -------
    scipy.optimize.OptimizeResult
        As from :func:`scipy.optimize.milp`: ``status`` 0 only when the plan is optimal
        for the full programme (within the solver's gap).
    """
    start = time.perf_counter()
    lp = lp_relaxation(c, a, lo, hi, ub, time_limit)
    if lp is None:  # no LP within the limit: the full programme, as before
        return solve(np.zeros(c.size), ub, time_limit - (time.perf_counter() - start))
    z, x_lp, d = lp
    levels = np.abs(d) - 1e-7 * np.maximum(1.0, np.abs(c))  # free once delta reaches it
    at_lp = np.round(x_lp)
    delta = 1e-6 * max(1.0, abs(z))
    best: Any = None
    for _ in range(40):
        keep = levels <= delta
        res = solve(np.where(keep, 0.0, at_lp), np.where(keep, ub, at_lp),
                    time_limit - (time.perf_counter() - start))
        logger.debug("reduced-cost fixing: %d of %d variables free, status %s", int(keep.sum()),
                     c.size, res.status)
        if res.x is None and res.status != 1 and not keep.all():  # infeasible: free more
            delta = max(10.0 * delta, float(levels[~keep].min()))
            continue
        if res.x is not None and (best is None or res.fun < best.fun):
            best = res
        if res.status != 0 or keep.all():
            break
        if res.fun <= z + delta:
            return res
        delta = float(res.fun) - z
    if best is None:
        return res
    return _with_bound(best, z + delta)
