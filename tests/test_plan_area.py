"""Area plans: county budgets and one pooled budget (Lagrangian) against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from contigmap.errors import ConfigError
from contigmap.plan.candidates import Candidates
from contigmap.plan.lagrange import combine, county_configs, pooled_plan, repair, solve_counties
from contigmap.plan.model import evaluate
from tests.test_plan import _brute, _case, _config, _feasible


def _counties() -> list[Candidates]:
    return [_case(31, 2, 2, move=False), _case(32, 2, 2, move=False)]


def test_county_configs_split_by_poor_people() -> None:
    cfg = _config(yearly_budget_cny=[10e6, 20e6], opex_budget_cny=4e6)
    a, b, c = county_configs(cfg, ["A", "B", "C"], [100.0, 300.0, 0.0])
    assert a.per_year(a.yearly_budget_cny) == pytest.approx([2.5e6, 5e6])
    assert b.per_year(b.yearly_budget_cny) == pytest.approx([7.5e6, 15e6])
    assert c.per_year(c.yearly_budget_cny) == pytest.approx([0.0, 0.0])
    assert b.per_year(b.opex_budget_cny) == pytest.approx([3e6, 3e6])
    named = _config(yearly_budget_cny=10e6, county_budgets_cny={"A": 4e6})
    a, b = county_configs(named, ["A", "B"], [1.0, 1.0])
    assert a.per_year(a.yearly_budget_cny) == [4e6, 4e6]
    assert b.per_year(b.yearly_budget_cny) == pytest.approx([6e6, 6e6])
    with pytest.raises(ConfigError, match="not in the area"):
        county_configs(_config(county_budgets_cny={"Z": 1e6}), ["A"], [1.0])


@pytest.mark.slow
def test_county_budgets_decompose_exactly() -> None:
    cands = _counties()
    cfgs = [_config(yearly_budget_cny=7e6), _config(yearly_budget_cny=5e6)]
    sol, sols = solve_counties(cands, cfgs)
    expected = sum(_brute(c, f) for c, f in zip(cands, cfgs, strict=True))
    assert sol.objective == pytest.approx(expected, rel=1e-7)
    assert sol.status == "optimal" and sol.gap <= 1e-9
    assert [s.objective for s in sols] == pytest.approx(
        [_brute(c, f) for c, f in zip(cands, cfgs, strict=True)], rel=1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("budget", [6e6, 11e6, 16e6])
def test_pooled_plan_is_feasible_and_its_bound_holds(budget: float) -> None:
    cands = _counties()
    cfg = _config(yearly_budget_cny=budget, lagrangian_iterations=20)
    start, _ = solve_counties(cands, county_configs(cfg, ["A", "B"], [1.0, 1.0]))
    sol = pooled_plan(cands, ["A", "B"], cfg, start.years)
    area = combine(cands, ["A", "B"])
    years = np.concatenate(sol.years)
    assert _feasible(area, tuple(int(y) for y in years), cfg)
    assert sol.objective == pytest.approx(evaluate(area, years, cfg))
    best = _brute(area, cfg)  # the pooled optimum, by enumeration (8 projects, 3^8 plans)
    assert sol.objective <= best + 1e-6 <= sol.bound + 1e-5
    assert sol.objective >= start.objective - 1e-9  # never worse than the county split
    assert sol.gap == pytest.approx((sol.bound - sol.objective) / sol.bound)


def test_repair_drops_least_value_per_yuan_then_fills() -> None:
    cand = _case(33, 3, 1, move=False)
    p = cand.projects.copy()
    p["cost_cny"] = [4e6, 4e6, 2e6]
    p["value"] = [10.0, 1.0, 6.0]
    cand = Candidates(p, cand.exclusive, cand.precedence)
    cfg = _config(yearly_budget_cny=6e6, carry_over=False, last_year=2016, earliness=0.0)
    # all three in the one year cost 10 million of 6: by hand, drop the 1-per-4-million
    # work (least value per yuan), still 6 million: it fits
    fixed = repair(cand, np.zeros(3, np.int64), cfg)
    assert fixed.tolist() == [0, -1, 0]


def test_pooled_refuses_sources() -> None:
    cfg = _config(yearly_budget_cny=None, sources=[
        {"name": "s", "yearly_cny": 1e6, "interventions": ["roads"]}])
    with pytest.raises(ConfigError, match="pool: county"):
        pooled_plan(_counties(), ["A", "B"], cfg, [np.full(4, -1), np.full(4, -1)])
