"""Reduced-cost fixing: the same optimum as one HiGHS solve of the whole programme."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp
from scipy.sparse import csr_matrix

import contigmap.relocation.assign as assign_mod
from contigmap.relocation._rcfix import _integer_rows, solve_by_fixing


def _counting_milp(c: np.ndarray, a: csr_matrix, lo: np.ndarray,
                   hi: np.ndarray) -> tuple[Any, list[tuple[np.ndarray, np.ndarray]]]:
    """The restricted-solve callback (plain HiGHS) and the variable bounds of each call."""
    calls: list[tuple[np.ndarray, np.ndarray]] = []

    def solve(lower: np.ndarray, upper: np.ndarray, limit: float) -> Any:
        calls.append((lower.copy(), upper.copy()))
        return milp(c, constraints=LinearConstraint(a, lo, hi), integrality=np.ones(c.size),
                    bounds=Bounds(lower, upper), options={"time_limit": max(limit, 1e-3)})

    return solve, calls


def _brute(c: np.ndarray, a: np.ndarray, lo: np.ndarray, hi: np.ndarray,
           ub: np.ndarray) -> float:
    best = np.inf
    for x in itertools.product(*[range(int(u) + 1) for u in ub]):
        ax = a @ np.array(x)
        if np.all(ax >= lo - 1e-9) and np.all(ax <= hi + 1e-9):
            best = min(best, float(c @ np.array(x)))
    return best


def test_integer_rows_round_inwards_only_on_integer_rows() -> None:
    a = csr_matrix(np.array([[1.0, 2.0], [0.5, 1.0], [3.0, 0.0]]))
    lo, hi = _integer_rows(a, np.array([0.5, 0.5, -np.inf]), np.array([4.7, 4.7, 7.2]))
    assert lo.tolist() == [1.0, 0.5, -np.inf]
    assert hi.tolist() == [4.0, 4.7, 7.0]


def test_lp_gap_takes_a_second_restricted_solve() -> None:
    # knapsack: max 5a + 4b + 3c, 4a + 3b + 2c <= 6, each 0/1. LP (best value per weight
    # first): c = b = 1, a = 1/4, value 8.25; dual 1.25 per unit of weight, reduced costs
    # b -0.25, c -0.5 (both at their upper bound). First solve: b, c fixed at 1 and a no
    # longer fits: value -7, above z + delta (-8.25 + 8.25e-6), so delta becomes 1.25,
    # which frees every variable: a + c = 8, the brute-force optimum.
    c = -np.array([5.0, 4.0, 3.0])
    a = csr_matrix(np.array([[4.0, 3.0, 2.0]]))
    lo, hi, ub = np.array([-np.inf]), np.array([6.0]), np.ones(3)
    solve, calls = _counting_milp(c, a, lo, hi)
    res = solve_by_fixing(c, a, lo, hi, ub, time_limit=10, solve=solve)
    assert res.status == 0
    assert res.fun == pytest.approx(_brute(c, a.toarray(), lo, hi, ub)) == pytest.approx(-8.0)
    assert [lower.tolist() for lower, _ in calls] == [[0, 1, 1], [0, 0, 0]]


def test_infeasible_restricted_programme_falls_back_to_the_whole() -> None:
    # min x1 + x2 + 10 x3, 2 x1 + 2 x2 + 3 x3 = 3: the LP takes x1 or x2 = 1.5 and prices
    # x3 out (reduced cost 8.5): with x3 fixed at 0 no integer point is left; the whole
    # programme gives x3 = 1 (cost 10).
    c = np.array([1.0, 1.0, 10.0])
    a = csr_matrix(np.array([[2.0, 2.0, 3.0]]))
    lo = hi = np.array([3.0])
    ub = np.full(3, 5.0)
    solve, calls = _counting_milp(c, a, lo, hi)
    res = solve_by_fixing(c, a, lo, hi, ub, time_limit=10, solve=solve)
    assert res.status == 0 and res.fun == pytest.approx(10.0)
    assert [upper[2] for _, upper in calls] == [0, 5]


def test_time_limit_reports_a_bound_valid_for_the_whole_programme() -> None:
    c = -np.array([5.0, 4.0, 3.0])
    a = csr_matrix(np.array([[4.0, 3.0, 2.0]]))
    lo, hi, ub = np.array([-np.inf]), np.array([6.0]), np.ones(3)

    def out_of_time(lower: np.ndarray, upper: np.ndarray, limit: float) -> Any:
        # a feasible but poor plan (b alone: -4) with a restricted bound of -100
        return OptimizeResult(x=np.array([0.0, 1.0, 0.0]), fun=-4.0, status=1,
                              mip_dual_bound=-100.0, mip_gap=None)

    res = solve_by_fixing(c, a, lo, hi, ub, time_limit=10, solve=out_of_time)
    assert res.status == 1
    # the restricted bound (-100) is weaker than z + delta (the LP value, about -7.67)
    assert res.mip_dual_bound == pytest.approx(-100.0)
    assert res.mip_gap == pytest.approx(96.0 / 4.0)


def _instance(seed: int) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_o, n_s = int(rng.integers(5, 30)), int(rng.integers(2, 7))
    origins = [f"O{i}" for i in range(n_o)]
    rows = [(f"{o}-{j}", o, int(rng.integers(1, 9))) for o in origins
            for j in range(int(rng.integers(1, 7)))]
    hh = pd.DataFrame(rows, columns=["household_id", "origin_id", "members"])
    total = int(hh["members"].sum())
    cap = pd.Series(rng.integers(1, max(2, 2 * total // n_s), n_s),
                    index=[f"S{k}" for k in range(n_s)])
    costs = (rng.integers(5, 60, (n_o, n_s)).astype(float) if seed % 2
             else rng.uniform(5, 60, (n_o, n_s)))  # integer costs: many equal-cost plans
    costs[rng.random((n_o, n_s)) < 0.3] = np.inf
    return hh, cap, pd.DataFrame(costs, index=origins, columns=cap.index)


@pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")
@pytest.mark.parametrize("seed", [0, 1, 2, *(pytest.param(s, marks=pytest.mark.slow)
                                             for s in range(3, 12))])
def test_assignment_matches_one_solve_of_the_whole_programme(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    hh, cap, cost = _instance(seed)
    fixed = assign_mod.assign_households(hh, cap, cost)

    def whole(c, a, lo, hi, ub, *, time_limit, solve):  # type: ignore[no-untyped-def]
        return solve(np.zeros(c.size), ub, time_limit)

    monkeypatch.setattr(assign_mod, "solve_by_fixing", whole)
    ref = assign_mod.assign_households(hh, cap, cost)
    assert fixed.solver.status == ref.solver.status == "optimal"
    assert fixed.people_assigned == ref.people_assigned
    assert fixed.total_cost == pytest.approx(ref.total_cost, rel=1e-9)
    load = fixed.households.dropna(subset=["site_id"]).groupby("site_id")["members"].sum()
    assert (load <= cap.reindex(load.index)).all()
