"""Exact household-to-site assignment: hand-checked cases and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from contigmap.errors import DataQualityWarning, ValidationError
from contigmap.relocation.assign import assign_households, households_from_counts


def _hh(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["household_id", "origin_id", "members"])


def _brute_force(
    hh: pd.DataFrame, cap: dict[str, int], cost: pd.DataFrame
) -> tuple[int, float]:
    """Most people placed, then least cost: every household to every site or none."""
    sites = list(cap)
    best: tuple[int, float] = (-1, np.inf)
    for choice in itertools.product([None, *sites], repeat=len(hh)):
        load = dict.fromkeys(sites, 0)
        people, total, ok = 0, 0.0, True
        for (_, row), s in zip(hh.iterrows(), choice, strict=True):
            if s is None:
                continue
            c = cost.at[row["origin_id"], s]
            if not np.isfinite(c):
                ok = False
                break
            load[s] += row["members"]
            people += row["members"]
            total += row["members"] * c
        if not ok or any(load[s] > cap[s] for s in sites):
            continue
        if people > best[0] or (people == best[0] and total < best[1] - 1e-9):
            best = (people, total)
    return best


def test_trade_off_cheapest_for_one_is_not_best_for_all() -> None:
    # Both households prefer S1 (cost 1 per person) but S1 takes one household only.
    # A's second choice costs 2, B's costs 10: the optimum sends B to S1 and A to S2
    # (4*2 + 4*1 = 12), although A's own cheapest site is S1 (A first: 4*1 + 4*10 = 44).
    hh = _hh([("a1", "A", 4), ("b1", "B", 4)])
    cap = pd.Series({"S1": 4, "S2": 10})
    cost = pd.DataFrame({"S1": [1.0, 1.0], "S2": [2.0, 10.0]}, index=["A", "B"])
    res = assign_households(hh, cap, cost)
    got = dict(zip(res.households["household_id"], res.households["site_id"], strict=True))
    assert got == {"a1": "S2", "b1": "S1"}
    assert res.total_cost == pytest.approx(12.0)
    assert _brute_force(hh, {"S1": 4, "S2": 10}, cost) == (8, 12.0)
    loads = res.loads.set_index("site_id")["load_people"]
    assert loads.to_dict() == {"S1": 4, "S2": 4}
    assert res.unassigned.empty


def test_whole_households_of_different_sizes_match_brute_force() -> None:
    # Capacities in people with households of 5, 3, 2, 2: a people-flow would split
    # households; the MILP keeps them whole and matches exhaustive enumeration.
    hh = _hh([("a1", "A", 5), ("a2", "A", 3), ("b1", "B", 2), ("c1", "C", 2)])
    cap = {"S1": 6, "S2": 5}
    cost = pd.DataFrame({"S1": [1.0, 4.0, 2.0], "S2": [3.0, 1.0, np.inf]},
                        index=["A", "B", "C"])
    res = assign_households(hh, pd.Series(cap), cost)
    people, total = _brute_force(hh, cap, cost)
    assert res.people_assigned == people
    assert res.total_cost == pytest.approx(total)
    loads = res.loads.set_index("site_id")
    assert (loads["load_people"] <= loads["capacity_people"]).all()
    # C can only go to S1
    c1 = res.households.set_index("household_id").at["c1", "site_id"]
    assert c1 == "S1" or pd.isna(c1)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_small_cases_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, origins = 5, ["O1", "O2", "O3"]
    hh = _hh([(f"h{i}", origins[int(rng.integers(3))], int(rng.integers(1, 6)))
              for i in range(n)])
    cap = {"S1": int(rng.integers(3, 10)), "S2": int(rng.integers(3, 10))}
    cost = pd.DataFrame(rng.integers(1, 20, size=(3, 2)).astype(float), index=origins,
                        columns=["S1", "S2"])
    with pytest.warns(DataQualityWarning) if hh["members"].sum() > sum(cap.values()) \
            else _no_warning():
        res = assign_households(hh, pd.Series(cap), cost)
    people, total = _brute_force(hh, cap, cost)
    assert res.people_assigned == people
    assert res.total_cost == pytest.approx(total)


class _no_warning:  # noqa: N801 - a tiny context manager used like pytest.warns
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def test_capacity_below_demand_lists_the_unassigned() -> None:
    # 3 households of 4 people (12 people), one site for 8: two households fit, one stays.
    hh = _hh([("a1", "A", 4), ("a2", "A", 4), ("b1", "B", 4)])
    cost = pd.DataFrame({"S1": [5.0, 1.0]}, index=["A", "B"])
    with pytest.warns(DataQualityWarning, match=r"8 of 12 people placed; 1 households"):
        res = assign_households(hh, pd.Series({"S1": 8}), cost)
    assert res.people_assigned == 8
    assert res.people_unassigned == 4
    # B is cheaper, so B goes and one household of A stays
    assert res.unassigned.to_dict("records") == [
        {"origin_id": "A", "households": 1, "people": 4, "why": "not enough site capacity"}]
    assert res.total_cost == pytest.approx(4 * 1.0 + 4 * 5.0)
    assert res.loads["load_people"].tolist() == [8]
    assert len(res.notes) == 1


def test_unreachable_origin_is_unassigned_with_reason() -> None:
    hh = _hh([("a1", "A", 3), ("b1", "B", 2)])
    cost = pd.DataFrame({"S1": [np.inf, 2.0]}, index=["A", "B"])
    with pytest.warns(DataQualityWarning, match="stay unassigned"):
        res = assign_households(hh, pd.Series({"S1": 100}), cost)
    assert res.unassigned.to_dict("records") == [
        {"origin_id": "A", "households": 1, "people": 3, "why": "no site within reach"}]


def test_no_sites_at_all_leaves_everyone_unassigned() -> None:
    hh = _hh([("a1", "A", 3)])
    cost = pd.DataFrame(index=["A"], columns=pd.Index([], dtype=object), dtype=float)
    with pytest.warns(DataQualityWarning):
        res = assign_households(hh, pd.Series([], dtype=float), cost)
    assert res.people_assigned == 0 and res.people_unassigned == 3


def test_bad_household_sizes_and_missing_costs_raise() -> None:
    cost = pd.DataFrame({"S1": [1.0]}, index=["A"])
    with pytest.raises(ValidationError, match="household a1 has 0 members"):
        assign_households(_hh([("a1", "A", 0)]), pd.Series({"S1": 5}), cost)
    with pytest.raises(ValidationError, match="no cost row for origin B"):
        assign_households(_hh([("b1", "B", 2)]), pd.Series({"S1": 5}), cost)
    with pytest.raises(ValidationError, match="columns"):
        assign_households(pd.DataFrame({"origin_id": ["A"]}), pd.Series({"S1": 5}), cost)


def test_households_from_counts_split_evenly() -> None:
    out = households_from_counts(["x", "y", "z"], [10, 0, 7], [3, 1, 0])
    assert out[out["origin_id"] == "x"]["members"].tolist() == [4, 3, 3]
    assert "y" not in set(out["origin_id"])
    # no count: round(7 / 2.62) = 3 households (the national census household size)
    assert out[out["origin_id"] == "z"]["members"].tolist() == [3, 2, 2]
    again = households_from_counts(["z"], [7], [np.nan], household_size=3.5)
    assert again["members"].tolist() == [4, 3]  # round(7 / 3.5) = 2
    assert out["household_id"].is_unique


def test_solved_plans_report_optimal_status() -> None:
    hh = _hh([("a1", "A", 4), ("b1", "B", 4)])
    cost = pd.DataFrame({"S1": [1.0, 1.0], "S2": [2.0, 10.0]}, index=["A", "B"])
    res = assign_households(hh, pd.Series({"S1": 4, "S2": 10}), cost)
    assert (res.solver.method, res.solver.status, res.solver.mip_gap) == ("milp", "optimal", 0.0)
    assert res.solver.as_summary()["assignment_status"] == "optimal"


def test_no_plan_within_the_limit_falls_back_to_greedy_with_bounds(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import contigmap.relocation.assign as mod

    real = mod.milp

    def no_integer_plan(c, *, integrality, **kwargs):  # type: ignore[no-untyped-def]
        res = real(c, integrality=integrality, **kwargs)
        if np.any(integrality):  # the MILP "finds nothing in time"; LPs solve as usual
            res.x, res.status = None, 1
        return res

    monkeypatch.setattr(mod, "milp", no_integer_plan)
    # the trade-off case: greedy takes the households in order, A first to its cheapest
    # site S1 (4 × 1), then B finds S1 full and goes to S2 (4 × 10): cost 44; the optimum
    # (B to S1, A to S2) costs 12, which the LP relaxation proves as the bound
    hh = _hh([("a1", "A", 4), ("b1", "B", 4)])
    cost = pd.DataFrame({"S1": [1.0, 1.0], "S2": [2.0, 10.0]}, index=["A", "B"])
    with caplog.at_level("WARNING", logger="contigmap.relocation.assign"):
        res = assign_households(hh, pd.Series({"S1": 4, "S2": 10}), cost, time_limit_s=5)
    got = dict(zip(res.households["household_id"], res.households["site_id"], strict=True))
    assert got == {"a1": "S1", "b1": "S2"}
    assert res.total_cost == pytest.approx(44.0)
    assert (res.solver.method, res.solver.status, res.solver.mip_gap) == ("greedy", "greedy",
                                                                         None)
    assert res.solver.people_bound == pytest.approx(8.0)
    assert res.solver.cost_bound == pytest.approx(12.0)
    assert "greedy plan" in caplog.text and "time_limit_s" in caplog.text
    assert any("greedy" in n for n in res.notes)


@pytest.mark.slow
def test_tiny_time_limit_still_returns_a_feasible_plan() -> None:
    rng = np.random.default_rng(7)
    n_o, n_s = 400, 25
    origins = [f"O{i}" for i in range(n_o)]
    rows = [(f"{o}-{j}", o, int(rng.integers(1, 9))) for o in origins
            for j in range(int(rng.integers(1, 6)))]
    hh = _hh(rows)
    cap = pd.Series(rng.integers(40, 160, n_s), index=[f"S{k}" for k in range(n_s)])
    costs = rng.uniform(5, 150, (n_o, n_s))
    costs[rng.random((n_o, n_s)) < 0.3] = np.inf
    cost = pd.DataFrame(costs, index=origins, columns=cap.index)
    res = assign_households(hh, cap, cost, time_limit_s=0.001)
    assert res.solver.status in ("time_limit", "greedy")
    assert res.solver.time_limit_s == 0.001
    assert res.solver.mip_gap is not None or res.solver.people_bound is not None
    # feasible: whole households, capacities kept, only offered pairs used
    placed = res.households[res.households["site_id"].notna()]
    load = placed.groupby("site_id")["members"].sum()
    assert (load <= cap.reindex(load.index)).all()
    assert res.households["household_id"].is_unique and len(res.households) == len(hh)
    assert np.isfinite([cost.at[o, s] for o, s in zip(placed["origin_id"], placed["site_id"],
                                                     strict=True)]).all()
    assert res.people_assigned == int(placed["members"].sum()) > 0
    if res.solver.people_bound is not None:
        assert res.people_assigned <= res.solver.people_bound + 1e-6
    if res.solver.cost_bound is not None:
        assert res.solver.cost_bound <= res.total_cost + 1e-6


def test_phase_one_needs_no_solver_of_its_own_when_a_bound_is_reached(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    import contigmap.relocation.assign as mod

    objectives: list[np.ndarray] = []
    real = mod._solve

    def counting(c, *args, **kwargs):  # type: ignore[no-untyped-def]
        objectives.append(c)
        return real(c, *args, **kwargs)

    monkeypatch.setattr(mod, "_solve", counting)
    # the trade-off case: greedy places both households (8 people, all reachable), so
    # only the cost phase is solved; it still finds the optimum (12, not greedy's 44)
    hh = _hh([("a1", "A", 4), ("b1", "B", 4)])
    cost = pd.DataFrame({"S1": [1.0, 1.0], "S2": [2.0, 10.0]}, index=["A", "B"])
    res = assign_households(hh, pd.Series({"S1": 4, "S2": 10}), cost)
    assert len(objectives) == 1 and (objectives[0] >= 0).all()
    assert res.total_cost == pytest.approx(12.0) and res.solver.people_bound == 8
    # greedy (largest first, cheapest site): a1 (4) to S1 (6), then neither b (3) fits
    # the 2 left there, one goes to S2 (4): 7 people. The LP bound is 10 (all capacity)
    # and the cost phase run at 10 people finds a plan: a1 to S2, b1 and b2 to S1
    # (4 x 2 + 6 x 1 = 14), so phase 1 is proven without being solved
    objectives.clear()
    hh = _hh([("a1", "A", 4), ("b1", "B", 3), ("b2", "B", 3)])
    cost = pd.DataFrame({"S1": [1.0, 1.0], "S2": [2.0, 1.0]}, index=["A", "B"])
    res = assign_households(hh, pd.Series({"S1": 6, "S2": 4}), cost)
    assert len(objectives) == 1 and (objectives[0] >= 0).all()
    assert (res.people_assigned, res.total_cost, res.solver.status) == (10, 14.0, "optimal")
    # households of 5, 3, 2, 2 (the brute-force case above): greedy places 10 of the
    # 12 reachable people; the LP bound (11, all capacity) is not reached (the cost
    # phase at 11 people finds nothing), so phase 1 (10) is solved, then phase 2
    objectives.clear()
    hh = _hh([("a1", "A", 5), ("a2", "A", 3), ("b1", "B", 2), ("c1", "C", 2)])
    cost = pd.DataFrame({"S1": [1.0, 4.0, 2.0], "S2": [3.0, 1.0, np.inf]},
                        index=["A", "B", "C"])
    with pytest.warns(DataQualityWarning):
        res = assign_households(hh, pd.Series({"S1": 6, "S2": 5}), cost)
    assert [bool((c >= 0).all()) for c in objectives] == [True, False, True]
    assert res.people_assigned == 10 and res.solver.status == "optimal"
