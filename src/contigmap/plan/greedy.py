"""Greedy plans: the solver's fallback, the per-intervention rankings, and who pays.

* :func:`greedy_years` — the fallback of :func:`contigmap.plan.model.solve_plan`: year by
  year, projects in decreasing value per yuan (the value with the diminishing weight of
  the village's next work; ties by project id), each taken when it fits the year's
  money (budget and sources), the crews, its exclusive partners and its precedence.
  A classical density-ordered knapsack heuristic (Dantzig 1957); its objective is a lower
  bound on the optimum, reported with the LP relaxation's upper bound.
* :func:`ranking_greedy` — what the per-intervention rankings fund with the same money:
  the total money split evenly among the ranked interventions, each funding down its own
  ranked list strictly in rank order until the next one no longer fits (as
  :func:`contigmap.priority.run.budget_reach`).
* :func:`assign_sources` — which funding sources pay each chosen project.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.plan.candidates import Candidates
from contigmap.plan.config import RELOCATION, PlanConfig

__all__ = ["assign_sources", "greedy_years", "ranking_greedy"]


class _Wallet:
    """Money left: the overall budget and each source, with or without carry-over.

    A work is paid from the sources that may pay for it, the narrowest (fewest works
    allowed) first, so that general funds are kept for works only they may pay.
    """

    def __init__(self, config: PlanConfig) -> None:
        self.config = config
        self.budget = config.per_year(config.yearly_budget_cny)
        ordered = sorted(config.sources, key=lambda s: len(s.interventions))  # narrow first
        self.sources = [(s.name, config.per_year(s.yearly_cny) or [], set(s.interventions))
                        for s in ordered]
        self.left_budget = 0.0
        self.left = [0.0] * len(self.sources)

    def open_year(self, y: int) -> None:
        """Add year ``y``'s money (unspent money kept only with carry-over)."""
        keep = self.config.carry_over
        if self.budget is not None:
            self.left_budget = (self.left_budget if keep else 0.0) + self.budget[y]
        self.left = [(left if keep else 0.0) + money[y]
                     for left, (_, money, _) in zip(self.left, self.sources, strict=True)]

    def pay(self, cost: float, iv: str, *, commit: bool) -> list[tuple[str, float]] | None:
        """Pay ``cost`` for ``iv`` (sources in their order); None when it does not fit."""
        if self.budget is not None and cost > self.left_budget + 1e-6:
            return None
        paid: list[tuple[str, float]] = []
        due = cost
        left = list(self.left)
        for s, (name, _, allowed) in enumerate(self.sources):
            if due <= 1e-9:
                break
            if iv in allowed and left[s] > 0:
                take = min(due, left[s])
                left[s] -= take
                due -= take
                paid.append((name, take))
        if self.sources and due > 1e-6:
            return None
        if commit:
            self.left = left
            if self.budget is not None:
                self.left_budget -= cost
        return paid


def greedy_years(cand: Candidates, config: PlanConfig) -> NDArray[np.int64]:
    """Years of a greedy plan (the module's first heuristic); -1 for projects left out.

    Length: one loop over years and candidates, each check one line.
    """
    p = cand.projects
    n = len(p)
    year = np.full(n, -1, dtype=np.int64)
    values = p["value"].to_numpy(float)
    cost = p["cost_cny"].to_numpy(float)
    ivs = p["intervention"].astype(str).to_numpy()
    villages = p["village_id"].astype(str).to_numpy()
    towns = p["township_id"].astype(str).to_numpy()
    ids = p["project_id"].astype(str).to_numpy()
    partners: dict[int, set[int]] = {}
    for a, b in cand.exclusive[["a", "b"]].to_numpy(int):
        partners.setdefault(int(a), set()).add(int(b))
        partners.setdefault(int(b), set()).add(int(a))
    firsts: dict[int, list[tuple[int, int]]] = {}
    for f, q, gap in cand.precedence[["first", "then", "gap"]].to_numpy(int):
        firsts.setdefault(int(q), []).append((int(f), int(gap)))
    works: dict[str, int] = {}
    wallet = _Wallet(config)
    for y in range(config.n_years):
        wallet.open_year(y)
        used: dict[tuple[str, str], int] = {}
        while True:
            best, best_key = -1, (0.0, "")
            for i in np.flatnonzero(year < 0):
                gain = config.weight(works.get(villages[i], 0)) * values[i]
                key = (gain / max(cost[i], 1.0), ids[i])
                if best >= 0 and (key[0] < best_key[0] or
                                  (key[0] == best_key[0] and key[1] >= best_key[1])):
                    continue
                crews = config.crews_for(ivs[i])
                if crews is not None and used.get((towns[i], ivs[i]), 0) >= crews:
                    continue
                if any(year[j] >= 0 for j in partners.get(int(i), ())):
                    continue
                if any(year[f] < 0 or year[f] > y - gap for f, gap in firsts.get(int(i), [])):
                    continue
                if wallet.pay(cost[i], ivs[i], commit=False) is None:
                    continue
                best, best_key = int(i), key
            if best < 0:
                break
            wallet.pay(cost[best], ivs[best], commit=True)
            year[best] = y
            works[villages[best]] = works.get(villages[best], 0) + 1
            used[towns[best], ivs[best]] = used.get((towns[best], ivs[best]), 0) + 1
    return year


def assign_sources(plan: pd.DataFrame, config: PlanConfig) -> pd.Series:
    """Funding source(s) of each chosen project (``" + "``-joined; ``""`` without sources).

    Projects are paid year by year in (year, project id) order from the sources, in their
    order, that may pay for the work and have money left (carry-over as configured). The
    MILP only proves that the money suffices in aggregate; this deterministic split may
    name a source that ran short as ``(资金不足)`` in the rare case the order matters.
    """
    names = [""] * len(plan)
    if not config.sources or not len(plan):
        return pd.Series(names, index=plan.index, dtype=object)
    wallet = _Wallet(config)
    wallet.budget = None  # the overall cap is checked by the plan itself
    for y in range(config.n_years):
        wallet.open_year(y)
        this = (plan["year"] == config.first_year + y).to_numpy()
        costs = plan["cost_cny"].to_numpy(float)
        ivs = plan["intervention"].astype(str).to_numpy()
        for j in np.flatnonzero(this):
            paid = wallet.pay(float(costs[j]), str(ivs[j]), commit=True)
            names[int(j)] = ("(资金不足)" if paid is None else
                             " + ".join(name for name, _ in paid))
    return pd.Series(names, index=plan.index, dtype=object)


def ranking_greedy(cand: Candidates, total_cny: float) -> tuple[NDArray[np.bool_], dict[str, Any]]:
    """Fund the per-intervention rankings with ``total_cny`` split evenly among them.

    Relocation is not a ranking and gets no share (its moves are decided by the
    relocation stage, not by a budget).

    Returns
    -------
    tuple
        Per project whether funded, and a note (share per intervention, interventions).
    """
    p = cand.projects
    funded = np.zeros(len(p), dtype=bool)
    names = sorted(set(p["intervention"]) - {RELOCATION})
    share = total_cny / len(names) if names else 0.0
    for name in names:
        idx = np.flatnonzero((p["intervention"] == name).to_numpy())
        order = idx[np.lexsort((p["project_id"].to_numpy()[idx], p["rank"].to_numpy()[idx]))]
        cum = np.cumsum(p["cost_cny"].to_numpy(float)[order])
        funded[order[cum <= share + 1e-6]] = True
    return funded, {"share_cny": share, "interventions": names}
