"""The plan's MILP against brute-force enumeration on small cases; budgets, bounds, config."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest

from contigmap.errors import ConfigError
from contigmap.plan.candidates import Candidates, plan_candidates, project_value
from contigmap.plan.config import PlanConfig, load_plan_config
from contigmap.plan.greedy import greedy_years, ranking_greedy
from contigmap.plan.model import evaluate, lp_bound, solve_plan

IVS = ("roads", "water", "broadband")


def _config(**kw: Any) -> PlanConfig:
    base: dict[str, Any] = {"first_year": 2016, "last_year": 2017, "mip_rel_gap": 0.0,
                            "crews": {"default": None}, "precedence": []}
    base.update(kw)
    return load_plan_config(base)


def _case(seed: int, n_villages: int = 3, n_ivs: int = 2, move: bool = True) -> Candidates:
    """Random projects: villages × interventions, a relocation of village V0's hamlet."""
    rng = np.random.default_rng(seed)
    rows = []
    for v, iv in itertools.product(range(n_villages), IVS[:n_ivs]):
        rows.append({"intervention": iv, "option": "harden" if iv == "roads" else "x",
                     "unit_id": f"V{v}H" if iv == "broadband" else f"V{v}",
                     "village_id": f"V{v}", "township_id": f"T{v % 2}"})
    if move:
        rows.append({"intervention": "relocation", "option": "hamlet", "unit_id": "V0H",
                     "village_id": "V0", "township_id": "T0"})
    p = pd.DataFrame(rows)
    p["project_id"] = "P-" + p["intervention"] + "-" + p["unit_id"]
    p["cost_cny"] = rng.integers(2, 10, len(p)) * 1e6
    p["poor_beneficiaries"] = rng.integers(10, 100, len(p)).astype(float)
    p["need"] = rng.integers(0, 100, len(p)).astype(float)
    p["beneficiaries"] = p["poor_beneficiaries"] * 2
    p["rank"] = p.groupby("intervention")["need"].rank(ascending=False, method="first")
    p["value"] = project_value(p["poor_beneficiaries"].to_numpy(), p["need"].to_numpy(), 0.5)
    p = p.sort_values("project_id").reset_index(drop=True)
    ids = list(p["project_id"])
    excl = []
    if move:  # the moving hamlet gets no broadband of its own
        m = ids.index("P-relocation-V0H")
        excl = [(m, i) for i, u in enumerate(p["unit_id"]) if u == "V0H" and i != m]
    prec = []
    if n_ivs >= 2:  # V1: roads before water, a year apart
        prec = [(ids.index("P-roads-V1"), ids.index("P-water-V1"), 1)]
    return Candidates(projects=p, exclusive=pd.DataFrame(excl, columns=["a", "b"], dtype=int),
                      precedence=pd.DataFrame(prec, columns=["first", "then", "gap"], dtype=int))


def _objective(p: pd.DataFrame, years: tuple[int, ...], cfg: PlanConfig) -> float:
    """The objective written out independently: sorted values per village × weights."""
    w = cfg.diminishing_weights
    total = 0.0
    for v in sorted(set(p["village_id"])):
        vals = sorted((p.at[i, "value"] for i in range(len(p))
                       if years[i] >= 0 and p.at[i, "village_id"] == v), reverse=True)
        total += sum(w[min(k, len(w) - 1)] * x for k, x in enumerate(vals))
    n = cfg.n_years
    total += cfg.earliness * sum(p.at[i, "value"] * (n - y) / n
                                 for i, y in enumerate(years) if y >= 0)
    return total


def _sources_ok(p: pd.DataFrame, years: tuple[int, ...], cfg: PlanConfig) -> bool:
    """Hall's condition per year: each set of works costs no more than its sources hold."""
    for y in range(cfg.n_years):
        need = {iv: sum(p.at[i, "cost_cny"] for i in range(len(p))
                        if years[i] == y and p.at[i, "intervention"] == iv)
                for iv in set(p["intervention"])}
        for r in range(1, len(need) + 1):
            for subset in itertools.combinations(sorted(need), r):
                money = sum((cfg.per_year(s.yearly_cny) or [])[y] for s in cfg.sources
                            if set(s.interventions) & set(subset))
                if sum(need[iv] for iv in subset) > money + 1e-6:
                    return False
    return True


def _pairs_ok(cand: Candidates, years: tuple[int, ...]) -> bool:
    """Exclusive pairs not both built; each ``then`` at least ``gap`` after its ``first``."""
    if any(years[a] >= 0 and years[b] >= 0 for a, b in cand.exclusive[["a", "b"]].to_numpy()):
        return False
    return all(years[q] < 0 or 0 <= years[f] <= years[q] - gap
               for f, q, gap in cand.precedence[["first", "then", "gap"]].to_numpy())


def _feasible(cand: Candidates, years: tuple[int, ...], cfg: PlanConfig) -> bool:
    p = cand.projects
    cost = p["cost_cny"].to_numpy(float)
    budget = cfg.per_year(cfg.yearly_budget_cny)
    if budget is not None:
        for y in range(cfg.n_years):
            span = range(y + 1) if cfg.carry_over else [y]
            spent = sum(cost[i] for i, t in enumerate(years) if t in span)
            if spent > sum(budget[t] for t in span) + 1e-6:
                return False
    if cfg.sources and not _sources_ok(p, years, cfg):
        return False
    if not _pairs_ok(cand, years):
        return False
    for y in range(cfg.n_years):
        used: dict[tuple[str, str], int] = {}
        for i, t in enumerate(years):
            if t == y:
                key = (p.at[i, "township_id"], p.at[i, "intervention"])
                used[key] = used.get(key, 0) + 1
        for (_, iv), n in used.items():
            crews = cfg.crews_for(iv)
            if crews is not None and n > crews:
                return False
        total = cfg.crews.get("total")
        per_town = pd.Series([p.at[i, "township_id"] for i, t in enumerate(years) if t == y])
        if total is not None and len(per_town) and per_town.value_counts().max() > total:
            return False
    return True


def _brute(cand: Candidates, cfg: PlanConfig, feasible: Any = None) -> float:
    """The best objective of every plan ``feasible`` (default :func:`_feasible`) accepts."""
    ok = feasible or _feasible
    best = 0.0
    choices = range(-1, cfg.n_years)
    for years in itertools.product(choices, repeat=len(cand.projects)):
        if ok(cand, years, cfg):
            best = max(best, _objective(cand.projects, years, cfg))
    return best


CASES = [
    (1, 3, 2, {"yearly_budget_cny": 12e6}),
    (2, 3, 2, {"yearly_budget_cny": 9e6, "carry_over": False}),
    (3, 3, 2, {"yearly_budget_cny": 15e6, "crews": {"default": 1}}),
    (4, 4, 2, {"yearly_budget_cny": 10e6, "diminishing_weights": [1.0, 0.5]}),
    (6, 3, 2, {"yearly_budget_cny": 30e6, "crews": {"default": None, "total": 2}}),
    (5, 3, 2, {"yearly_budget_cny": None, "carry_over": False, "sources": [
        {"name": "交通", "yearly_cny": 6e6, "interventions": ["roads"]},
        {"name": "整合", "yearly_cny": [4e6, 8e6], "interventions": ["roads", "water",
                                                                    "relocation"]}]}),
]


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "villages", "ivs", "kw"), CASES)
def test_milp_matches_brute_force(seed: int, villages: int, ivs: int, kw: dict[str, Any]) -> None:
    cand = _case(seed, villages, ivs)
    cfg = _config(**kw)
    sol = solve_plan(cand, cfg)
    assert sol.method == "milp"
    assert sol.status == "optimal"
    years = tuple(int(y) for y in sol.year_index)
    assert _feasible(cand, years, cfg)
    assert sol.objective == pytest.approx(_objective(cand.projects, years, cfg))
    assert sol.objective == pytest.approx(_brute(cand, cfg), rel=1e-7)


@pytest.mark.slow
def test_three_interventions_two_years_with_precedence() -> None:
    cand = _case(7, 3, 3, move=True)
    cfg = _config(yearly_budget_cny=14e6)
    sol = solve_plan(cand, cfg)
    assert sol.objective == pytest.approx(_brute(cand, cfg), rel=1e-7)


def test_evaluate_is_the_ordered_weighted_sum() -> None:
    cand = _case(1, 3, 2, move=False)
    cfg = _config(earliness=0.0, diminishing_weights=[1.0, 0.8, 0.6])
    p = cand.projects
    years = np.zeros(len(p), dtype=np.int64)
    v0 = sorted(p.loc[p["village_id"] == "V0", "value"], reverse=True)
    expected = sum(sum(w * x for w, x in zip([1.0, 0.8], sorted(
        p.loc[p["village_id"] == v, "value"], reverse=True), strict=True))
        for v in ("V0", "V1", "V2"))
    assert evaluate(cand, years, cfg) == pytest.approx(expected)
    assert v0[0] >= v0[1]


def test_budget_never_exceeded_and_greedy_bound() -> None:
    cand = _case(11, 4, 3)
    cfg = _config(yearly_budget_cny=11e6, carry_over=False, crews={"default": 2})
    sol = solve_plan(cand, cfg)
    cost = cand.projects["cost_cny"].to_numpy()
    for y in range(cfg.n_years):
        assert cost[sol.year_index == y].sum() <= 11e6 + 1e-6
    years = greedy_years(cand, cfg)
    assert _feasible(cand, tuple(int(y) for y in years), cfg)
    greedy = evaluate(cand, years, cfg)
    bound = lp_bound(cand, cfg, 10)
    assert bound is not None
    assert greedy <= sol.objective + 1e-9 <= bound + 1e-6


def test_too_large_model_falls_back_to_greedy_with_bound() -> None:
    cand = _case(12, 3, 2)
    cfg = _config(yearly_budget_cny=12e6, max_binaries=3)
    sol = solve_plan(cand, cfg)
    assert (sol.method, sol.status) == ("greedy", "greedy_too_large")
    assert sol.bound is not None and sol.objective <= sol.bound + 1e-6
    assert sol.mip_gap is not None and 0 <= sol.mip_gap < 1


def test_deterministic() -> None:
    cand = _case(13, 4, 3)
    cfg = _config(yearly_budget_cny=13e6)
    a, b = solve_plan(cand, cfg), solve_plan(cand, cfg)
    assert a.year_index.tolist() == b.year_index.tolist()


def test_ranking_greedy_funds_down_each_list_with_an_equal_share() -> None:
    cand = _case(3, 3, 2, move=True)
    p = cand.projects
    funded, note = ranking_greedy(cand, 20e6)
    assert note["interventions"] == ["roads", "water"]
    for iv in ("roads", "water"):
        rows = p[p["intervention"] == iv].sort_values("rank")
        cum = rows["cost_cny"].cumsum()
        assert funded[rows.index].tolist() == (cum <= 10e6).tolist()
    assert not funded[(p["intervention"] == "relocation").to_numpy()].any()


def test_candidates_pairs_from_tables() -> None:
    roads = pd.DataFrame({"village_id": ["V1", "V2"], "township_id": ["T", "T"],
                          "roads_option": ["harden", "none"], "roads_capex_cny": [5e6, 0.0],
                          "roads_beneficiaries": [100, 50], "roads_poor_beneficiaries": [40, 5],
                          "roads_need": [50.0, 1.0], "roads_rank": [1, 2]})
    bb = pd.DataFrame({"hamlet_id": ["V1a", "V1b"], "village_id": ["V1", "V1"],
                       "township_id": ["T", "T"], "broadband_option": ["fibre", "microwave"],
                       "broadband_capex_cny": [1e5, 2e5], "broadband_beneficiaries": [20, 30],
                       "broadband_poor_beneficiaries": [8, 9], "broadband_need": [10.0, 20.0],
                       "broadband_rank": [2, 1]})
    villages = pd.DataFrame({"village_id": ["V1", "V2"], "name": ["一村", "二村"],
                             "township_id": ["T", "T"], "township_name": ["镇", "镇"],
                             "poverty_incidence": [0.4, 0.1]})
    reloc = pd.DataFrame({"reloc_decision": ["relocate", "stay"], "reloc_unit": ["hamlet"] * 2,
                          "reloc_unit_id": ["V1b", "V1a"], "village_id": ["V1", "V1"],
                          "township_id": ["T", "T"], "pop": [30, 20], "reloc_score": [0.5, 0.2],
                          "reloc_move_cny": [1.8e6, 1.2e6]})
    cfg = load_plan_config({"precedence": [{"first": "roads", "then": "broadband",
                                            "then_options": ["fibre"], "gap_years": 0}]})
    cand = plan_candidates({"roads": roads, "broadband": bb}, villages, reloc, cfg)
    ids = cand.projects["project_id"].tolist()
    assert ids == ["P-broadband-V1a", "P-broadband-V1b", "P-relocation-V1b", "P-roads-V1"]
    move = cand.projects.iloc[2]
    assert move["poor_beneficiaries"] == pytest.approx(12.0)  # 30 people × 0.4
    assert move["need"] == pytest.approx(50.0)
    assert cand.exclusive.values.tolist() == [[2, 1]]
    assert cand.precedence.values.tolist() == [[3, 0, 0]]
    assert cand.after().tolist() == ["P-roads-V1", "", "", ""]
    assert cand.projects["village_name"].tolist() == ["一村"] * 4


def test_config_errors_are_one_line() -> None:
    with pytest.raises(ConfigError, match="unknown key 'budget'"):
        load_plan_config({"budget": 1})
    with pytest.raises(ConfigError, match="lists 2 years but the plan has 5"):
        load_plan_config({"yearly_budget_cny": [1, 2]})
    with pytest.raises(ConfigError, match="crews: unknown key 'road'"):
        load_plan_config({"crews": {"road": 1}})
    with pytest.raises(ConfigError, match="must not increase"):
        load_plan_config({"diminishing_weights": [0.5, 1.0]})
    cfg = load_plan_config()
    assert cfg.years == [2016, 2017, 2018, 2019, 2020]
    assert cfg.weight(0) == 1.0 and cfg.weight(10) == cfg.diminishing_weights[-1]


def test_sources_named_narrowest_first() -> None:
    from contigmap.plan.greedy import assign_sources

    cfg = _config(yearly_budget_cny=None, carry_over=True, sources=[
        {"name": "整合", "yearly_cny": 5e6, "interventions": ["roads", "water"]},
        {"name": "交通", "yearly_cny": 3e6, "interventions": ["roads"]}])
    plan = pd.DataFrame({"year": [2016, 2016, 2017, 2017],
                         "intervention": ["roads", "water", "roads", "water"],
                         "cost_cny": [4e6, 2e6, 2e6, 5e6]})
    # 2016: roads 3 from 交通 (narrow) + 1 from 整合, water 2 from 整合 (2 left);
    # 2017: +3 交通, +5 整合 (7 left): roads 2 from 交通, water 5 from 整合
    assert assign_sources(plan, cfg).tolist() == ["交通 + 整合", "整合", "交通", "整合"]


def test_greedy_follows_a_same_year_precedence() -> None:
    cand = _case(1, 3, 2, move=False)
    ids = cand.projects["project_id"].tolist()
    road, water = ids.index("P-roads-V2"), ids.index("P-water-V2")
    cand.precedence = pd.DataFrame([(road, water, 0)], columns=["first", "then", "gap"])
    cand.projects.loc[water, "value"] = 1e6  # the best value per yuan: waits for its road
    years = greedy_years(cand, _config(yearly_budget_cny=50e6))
    assert years[road] == 0 and years[water] == 0
    assert _feasible(cand, tuple(int(y) for y in years), _config(yearly_budget_cny=50e6))


def test_time_limit_keeps_the_better_of_highs_and_greedy(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    import contigmap.plan.model as model

    cand = _case(11, 4, 3)
    cfg = _config(yearly_budget_cny=11e6)
    best = solve_plan(cand, cfg)

    def fake(c: np.ndarray, **_: Any) -> SimpleNamespace:  # HiGHS stopped: an empty plan
        return SimpleNamespace(x=np.zeros(len(c)), status=1, mip_dual_bound=-best.objective * 1.1,
                               message="time limit reached")

    monkeypatch.setattr(model, "milp", fake)
    sol = model.solve_plan(cand, cfg)
    assert (sol.method, sol.status) == ("greedy", "time_limit")
    assert sol.objective == pytest.approx(evaluate(cand, greedy_years(cand, cfg), cfg))
    assert sol.bound == pytest.approx(best.objective * 1.1)
    assert sol.mip_gap == pytest.approx((sol.bound - sol.objective) / sol.bound)


def test_public_page_escapes_text(tmp_path: Any) -> None:
    from contigmap.plan.outputs import public_projects
    from contigmap.plan.report import write_public_html

    plan = pd.DataFrame({"project_id": ["P-water-1"], "year": [2017], "township_name": ["镇"],
                         "village_name": ["<script>alert(1)</script>村"],
                         "intervention": ["water"], "option": ["piped"], "cost_cny": [1234567.0],
                         "funding_source": ["A & B"]})
    public = public_projects(plan)
    assert public.columns.tolist()[:5] == ["项目编号", "计划年度", "乡镇", "村", "建设内容"]
    assert public.iloc[0]["投资（万元）"] == "123.5"
    assert public.iloc[0]["建设内容"].startswith("饮水")
    html = write_public_html(public, tmp_path / "p.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html and "A &amp; B" in html
