"""Yearly operating costs in the plan: the MILP and the greedy plan against brute force."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from contigmap.errors import ConfigError
from contigmap.plan.candidates import Candidates, plan_candidates
from contigmap.plan.config import PlanConfig
from contigmap.plan.greedy import greedy_years
from contigmap.plan.model import solve_plan
from tests.test_plan import _brute as _brute_with
from tests.test_plan import _case, _config, _pairs_ok


def _with_opex(cand: Candidates, seed: int) -> Candidates:
    """The case with a yearly operating cost on every other project (0.5-3 million)."""
    rng = np.random.default_rng(seed)
    p = cand.projects.copy()
    opex = rng.integers(1, 7, len(p)) * 0.5e6
    opex[::2] = 0.0
    p["opex_cny_per_year"] = opex
    return Candidates(p, cand.exclusive, cand.precedence)


def _money_ok(p: pd.DataFrame, years: tuple[int, ...], cfg: PlanConfig) -> bool:
    """Spending per year written out: capital in the start year, opex every later year."""
    n = cfg.n_years
    capex = np.zeros(n)
    opex = np.zeros(n)
    for i, t in enumerate(years):
        if t < 0:
            continue
        capex[t] += p.at[i, "cost_cny"]
        for later in range(t + 1, n):
            opex[later] += p.at[i, "opex_cny_per_year"]
    lines = []
    budget = cfg.per_year(cfg.yearly_budget_cny)
    opex_line = cfg.per_year(cfg.opex_budget_cny)
    if opex_line is None:
        lines.append((capex + opex, budget))
    else:
        lines += [(capex, budget), (opex, opex_line)]
    for spent, money in lines:
        if money is None:
            continue
        left = np.asarray(money) - spent
        if cfg.carry_over:
            left = np.cumsum(left)
        if (left < -1e-6).any():
            return False
    return True


def _feasible(cand: Candidates, years: tuple[int, ...], cfg: PlanConfig) -> bool:
    p = cand.projects
    return _money_ok(p, years, cfg) and _pairs_ok(cand, years)


def _brute(cand: Candidates, cfg: PlanConfig) -> float:
    return float(_brute_with(cand, cfg, _feasible))


CASES = [
    (21, {"yearly_budget_cny": 12e6}),
    (22, {"yearly_budget_cny": 10e6, "carry_over": False}),
    (23, {"yearly_budget_cny": 9e6, "opex_budget_cny": 2e6}),
    (24, {"yearly_budget_cny": 14e6, "opex_budget_cny": [0.0, 1e6, 3e6],
          "carry_over": False}),
]


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "kw"), CASES)
def test_milp_with_opex_matches_brute_force(seed: int, kw: dict[str, Any]) -> None:
    cand = _with_opex(_case(seed, 3, 2, move=False), seed)
    cfg = _config(last_year=2018, **kw)
    sol = solve_plan(cand, cfg)
    assert sol.status == "optimal"
    years = tuple(int(y) for y in sol.year_index)
    assert _feasible(cand, years, cfg)
    assert sol.objective == pytest.approx(_brute(cand, cfg), rel=1e-7)
    greedy = tuple(int(y) for y in greedy_years(cand, cfg))
    assert _feasible(cand, greedy, cfg)


def test_opex_pushes_a_running_cost_work_out() -> None:
    """Two equal works; the one with a running cost no longer fits when opex counts."""
    cand = _case(1, 2, 1, move=False)
    p = cand.projects.copy()
    p["cost_cny"] = 4e6
    p["value"] = [10.0, 9.0]
    p["opex_cny_per_year"] = [3e6, 0.0]
    cand = Candidates(p, cand.exclusive, cand.precedence)
    cfg = _config(yearly_budget_cny=5e6, earliness=0.0, carry_over=False)
    # by hand: year 0 holds one work (4 of 5 million); the valuable one then costs 3
    # million a year, so year 1 has 2 million left and cannot take the other (4 million)
    sol = solve_plan(cand, cfg)
    assert sol.objective == pytest.approx(19.0)  # cheap-to-run first, then the other
    assert sorted(sol.year_index.tolist()) == [0, 1]
    assert int(sol.year_index[1]) == 0  # the one without running cost goes first
    no_opex = Candidates(p.assign(opex_cny_per_year=0.0), cand.exclusive, cand.precedence)
    assert solve_plan(no_opex, cfg).objective == pytest.approx(19.0)
    cfg3 = _config(yearly_budget_cny=5e6, earliness=0.0, carry_over=False, last_year=2016)
    assert solve_plan(cand, cfg3).objective == pytest.approx(10.0)


def test_opex_column_read_from_tables_else_zero() -> None:
    villages = pd.DataFrame({"village_id": ["V1", "V2"], "name": ["甲", "乙"],
                             "township_id": ["T", "T"], "poverty_incidence": [0.1, 0.2]})

    def table(iv: str, opex: bool) -> pd.DataFrame:
        t = pd.DataFrame({"village_id": ["V1", "V2"], "township_id": ["T", "T"],
                          f"{iv}_option": ["harden", "harden"], f"{iv}_capex_cny": [1e6, 2e6],
                          f"{iv}_beneficiaries": [10, 20], f"{iv}_poor_beneficiaries": [5, 6],
                          f"{iv}_need": [50, 60], f"{iv}_rank": [2, 1]})
        if opex:
            t[f"{iv}_opex_cny_per_year"] = [3e4, np.nan]
        return t

    cand = plan_candidates({"roads": table("roads", True), "water": table("water", False)},
                           villages, None, _config())
    got = dict(zip(cand.projects["project_id"], cand.projects["opex_cny_per_year"],
                   strict=True))
    assert got == {"P-roads-V1": 3e4, "P-roads-V2": 0.0, "P-water-V1": 0.0, "P-water-V2": 0.0}


def test_opex_with_sources_only_needs_a_money_line() -> None:
    cand = _with_opex(_case(3, 2, 1, move=False), 3)
    cfg = _config(yearly_budget_cny=None, sources=[
        {"name": "整合", "yearly_cny": 1e7, "interventions": ["roads"]}])
    with pytest.raises(ConfigError, match="opex_budget_cny"):
        solve_plan(cand, cfg)
