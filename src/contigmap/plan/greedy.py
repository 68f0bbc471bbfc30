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

import heapq
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.plan.candidates import Candidates, opex_of
from contigmap.plan.config import RELOCATION, PlanConfig

__all__ = ["assign_sources", "greedy_years", "ranking_greedy"]


class _Wallet:
    """Money left: the overall budget (and operating budget line) and each source.

    The budget lines are kept as money spent per year (capital in the year a work starts,
    its operating cost in every later year) and checked row by row as the model's budget
    rows (:func:`contigmap.plan.model.money_rows`: cumulative with carry-over). A work is
    paid from the sources that may pay for its capital, the narrowest (fewest works
    allowed) first, so that general funds are kept for works only they may pay.
    """

    def __init__(self, config: PlanConfig) -> None:
        self.config = config
        self.budget = config.per_year(config.yearly_budget_cny)
        self.opex_budget = config.per_year(config.opex_budget_cny)
        ordered = sorted(config.sources, key=lambda s: len(s.interventions))  # narrow first
        self.sources = [(s.name, config.per_year(s.yearly_cny) or [], set(s.interventions))
                        for s in ordered]
        n = config.n_years
        self.spent = np.zeros(n)
        self.opex_spent = np.zeros(n)
        self.left = [0.0] * len(self.sources)
        self.year = 0

    def open_year(self, y: int) -> None:
        """Add year ``y``'s source money (unspent money kept only with carry-over)."""
        keep = self.config.carry_over
        self.year = y
        self.left = [(left if keep else 0.0) + money[y]
                     for left, (_, money, _) in zip(self.left, self.sources, strict=True)]

    def _fits(self, money: list[float] | None, spent: NDArray[np.float64],
              add: NDArray[np.float64]) -> bool:
        """Whether ``add`` more spending per year keeps every row of ``money`` satisfied."""
        if money is None:
            return True
        left = np.asarray(money) - spent - add
        if self.config.carry_over:
            left = np.cumsum(left)
        return bool((left[self.year:] >= -1e-6).all())

    def pay(self, cost: float, iv: str, *, commit: bool, opex: float = 0.0,
            force: bool = False) -> list[tuple[str, float]] | None:
        """Pay ``cost`` now, ``opex`` every later year, for ``iv``; None when it does not fit.

        With ``force`` the sources' money is taken whether or not it fits and the budget
        lines are left alone (a plan fixed beforehand, :meth:`reserve`-d at the start).
        """
        later = np.where(np.arange(self.config.n_years) > self.year, opex, 0.0)
        now = np.where(np.arange(self.config.n_years) == self.year, cost, 0.0)
        to_budget = now + (later if self.opex_budget is None else 0.0)
        if not force and not self._fits(self.budget, self.spent, to_budget):
            return None
        if not force and self.opex_budget is not None and not self._fits(
                self.opex_budget, self.opex_spent, later):
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
        if self.sources and due > 1e-6 and not force:
            return None
        if commit:
            self.left = left
            if not force:
                self.spent += to_budget
                if self.opex_budget is not None:
                    self.opex_spent += later
        return paid

    def reserve(self, cost: float, opex: float, year: int) -> None:
        """Charge the budget lines for a work fixed in ``year`` (capital, then opex)."""
        t = np.arange(self.config.n_years)
        later = np.where(t > year, opex, 0.0)
        self.spent += np.where(t == year, cost, 0.0) + (later if self.opex_budget is None
                                                        else 0.0)
        if self.opex_budget is not None:
            self.opex_spent += later


def greedy_years(cand: Candidates, config: PlanConfig,
                 start: NDArray[np.int64] | None = None) -> NDArray[np.int64]:
    """Years of a greedy plan (the module's first heuristic); -1 for projects left out.

    With ``start`` (a feasible plan's years, -1 for projects left out) the greedy plan
    keeps those projects in their years and adds to them (the repair of an area plan,
    :mod:`contigmap.plan.area`).

    Within a year the candidates sit in a heap by value per yuan (lazy greedy: a key made
    stale by the village's next diminishing weight is recomputed when popped; weights
    only fall, so the popped fresh key is the best). A project that does not fit the
    money, crews or an exclusive partner now never will this year; one waiting for its
    precedence goes back into the heap when its first project is chosen.
    """
    p = cand.projects
    year = np.full(len(p), -1, dtype=np.int64)
    partners: dict[int, set[int]] = {}
    for a, b in cand.exclusive[["a", "b"]].to_numpy(int):
        partners.setdefault(int(a), set()).add(int(b))
        partners.setdefault(int(b), set()).add(int(a))
    firsts: dict[int, list[tuple[int, int]]] = {}
    for f, q, gap in cand.precedence[["first", "then", "gap"]].to_numpy(int):
        firsts.setdefault(int(q), []).append((int(f), int(gap)))
    state = _Greedy(p, config, partners, firsts, year)
    fixed = np.full(len(p), -1, np.int64) if start is None else np.asarray(start, np.int64)
    year[:] = fixed
    for i in np.flatnonzero(fixed >= 0):
        state.works[state.villages[i]] = state.works.get(state.villages[i], 0) + 1
        state.wallet.reserve(state.cost[i], state.opex[i], int(fixed[i]))
    for y in range(config.n_years):
        state.wallet.open_year(y)
        state.used = {}
        for i in np.flatnonzero(fixed == y):
            state.take(int(i), force=True)
        state.one_pass(y)
    return year


class _Greedy:
    """The greedy plan's state: chosen years, works per village, crews used, money."""

    def __init__(self, p: pd.DataFrame, config: PlanConfig, partners: dict[int, set[int]],
                 firsts: dict[int, list[tuple[int, int]]], year: NDArray[np.int64]) -> None:
        self.config, self.partners, self.firsts, self.year = config, partners, firsts, year
        self.values = p["value"].to_numpy(float)
        self.cost = p["cost_cny"].to_numpy(float)
        self.opex = opex_of(p)
        self.ivs = p["intervention"].astype(str).to_numpy()
        self.villages = p["village_id"].astype(str).to_numpy()
        self.towns = p["township_id"].astype(str).to_numpy()
        self.ids = p["project_id"].astype(str).to_numpy()
        self.works: dict[str, int] = {}
        self.used: dict[tuple[str, str], int] = {}
        self.wallet = _Wallet(config)

    def _key(self, i: int) -> float:
        gain = self.config.weight(self.works.get(self.villages[i], 0)) * self.values[i]
        later = self.config.n_years - 1 - self.wallet.year  # years of operating cost
        return -gain / max(self.cost[i] + later * self.opex[i], 1.0)

    def _fits(self, i: int, y: int) -> str:
        """``ok``, ``wait`` (precedence not met yet) or ``no`` (not this year)."""
        crews = self.config.crews_for(self.ivs[i])
        if crews is not None and self.used.get((self.towns[i], self.ivs[i]), 0) >= crews:
            return "no"
        total = self.config.crews.get("total")
        if total is not None and self.used.get((self.towns[i], ""), 0) >= total:
            return "no"
        if any(self.year[j] >= 0 for j in self.partners.get(i, ())):
            return "no"
        if self.wallet.pay(self.cost[i], self.ivs[i], commit=False,
                           opex=self.opex[i]) is None:
            return "no"
        if any(self.year[f] < 0 or self.year[f] > y - gap for f, gap in self.firsts.get(i, [])):
            return "wait"
        return "ok"

    def take(self, i: int, *, force: bool = False) -> None:
        """Pay for project ``i`` in the open year and count its crew."""
        self.wallet.pay(self.cost[i], self.ivs[i], commit=True, opex=self.opex[i], force=force)
        key = (self.towns[i], self.ivs[i])
        self.used[key] = self.used.get(key, 0) + 1
        self.used[self.towns[i], ""] = self.used.get((self.towns[i], ""), 0) + 1

    def one_pass(self, y: int) -> None:
        """Choose projects for year ``y`` until none fits.

        A project waiting for its precedence goes back into the heap as soon as its
        ``first`` project is chosen (with ``gap_years`` 0 it may follow in the same year).
        """
        heap = [(self._key(int(i)), str(self.ids[i]), int(i))
                for i in np.flatnonzero(self.year < 0)]
        heapq.heapify(heap)
        waiting: dict[int, list[int]] = {}
        while heap:
            key, pid, i = heapq.heappop(heap)
            fresh = self._key(i)
            if fresh != key:
                heapq.heappush(heap, (fresh, pid, i))
                continue
            fit = self._fits(i, y)
            if fit == "wait":
                for f, _ in self.firsts.get(i, []):
                    waiting.setdefault(f, []).append(i)
            if fit != "ok":
                continue
            self.year[i] = y
            self.works[self.villages[i]] = self.works.get(self.villages[i], 0) + 1
            self.take(i)
            for q in waiting.pop(i, []):
                if self.year[q] < 0:
                    heapq.heappush(heap, (self._key(q), str(self.ids[q]), q))


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
    wallet.budget = wallet.opex_budget = None  # the overall caps are checked by the plan
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
