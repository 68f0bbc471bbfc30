"""One plan across the counties of an area: county problems, or one shared budget.

An area plan is the county plans' union; the counties share nothing but money. Two forms:

* **County budgets** (``pool: county``, the default; county-level fund integration,
  统筹整合, is the policy's unit): each county has its own yearly money, so the area
  problem *is* the county problems side by side — :func:`solve_counties` solves each
  exactly (:func:`contigmap.plan.model.solve_plan`); the area's objective and bound are
  the sums, and the reported gap is the worst county's.
* **One area budget** (``pool: area``): the budget rows couple the counties. They are
  relaxed with a price per row (Lagrangian relaxation; Fisher 1981, *The Lagrangian
  relaxation method for solving integer programming problems*, Management Science
  27(1)): for prices ``μ ≥ 0`` each county's priced problem
  (:func:`contigmap.plan.model.solve_priced`) is solved exactly, and

      L(μ) = Σ_c max_{x_c} [f_c(x_c) − μ · A_c x_c] + μ · b   ≥   the optimum

  (weak duality; HiGHS' dual bound of each county problem is used, so the bound holds
  even within the subproblems' ``mip_rel_gap``). The prices follow the subgradient
  ``b − Σ_c A_c x_c`` with Polyak's step ``θ (L − LB) / ‖g‖²`` (Held, Wolfe & Crowder
  1974), ``θ`` halved after three steps without a better bound. Each step's county plans
  are repaired to feasibility (:func:`repair`: drop the chosen works of least value per
  yuan of overspent money until every row holds, then the greedy plan adds what still
  fits); the best feasible plan is kept. The county-budget plan (the area money split by
  poor people) is feasible too and is the starting plan. The gap
  ``(min L − best plan) / min L`` is honest: both ends are proven.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.errors import ConfigError
from contigmap.plan.candidates import Candidates
from contigmap.plan.config import PlanConfig
from contigmap.plan.greedy import greedy_years
from contigmap.plan.model import PlanSolution, evaluate, money_rows, solve_plan, solve_priced

__all__ = ["AreaSolution", "combine", "county_configs", "pooled_plan", "repair",
           "solve_counties"]

logger = logging.getLogger(__name__)

Mapper = Callable[[Callable[..., Any], Sequence[Any]], list[Any]]
"""Runs a function over items (serially, or as Dask tasks) and returns the results in order."""


def serial_map(fn: Callable[..., Any], items: Sequence[Any]) -> list[Any]:
    """Run ``fn`` over ``items`` in this process (the default :data:`Mapper`)."""
    return [fn(*item) for item in items]


@dataclass
class AreaSolution:
    """An area plan: per county its plan's years, and the area's objective, bound and gap.

    Attributes
    ----------
    years
        Per county (input order), each project's plan year index (-1: not chosen).
    method
        ``county`` (county budgets, each solved exactly) or ``lagrangian``.
    objective, bound, gap
        The area plan's objective, an upper bound on any area plan's, and
        ``(bound − objective) / bound``.
    county_gaps
        Per county, its own gap (county budgets) or None (pooled).
    iterations
        Subgradient steps (0 for county budgets); ``history`` has (L, best plan) per step.
    """

    years: list[NDArray[np.int64]]
    method: str
    status: str
    objective: float
    bound: float
    gap: float
    county_gaps: list[float | None]
    seconds: float
    iterations: int = 0
    history: list[tuple[float, float]] = field(default_factory=list)

    def as_summary(self) -> dict[str, Any]:
        """Solver entries for the manifest (no wall time)."""
        return {"solver_method": self.method, "solver_status": self.status,
                "objective": round(self.objective, 6), "bound": round(self.bound, 6),
                "mip_gap": round(self.gap, 8), "iterations": self.iterations}


def county_configs(config: PlanConfig, codes: list[str], poor: list[float]) -> list[PlanConfig]:
    """Each county's plan settings: its own money (``county_budgets_cny``) or a poor share.

    Counties named in ``county_budgets_cny`` get that yearly money. The others share
    ``yearly_budget_cny`` (the area's) less the named counties' money, year by year, in
    proportion to their poor population (equal shares when no county has poor people);
    ``opex_budget_cny`` and every source's money are split by the same shares.

    Raises
    ------
    ConfigError
        A county code of ``county_budgets_cny`` is not in the area, or the named
        counties' money exceeds the area's.
    """
    named = config.county_budgets_cny
    unknown = sorted(set(named) - set(codes))
    if unknown:
        raise ConfigError(f"plan: county_budgets_cny names county {unknown[0]!r}, not in the "
                          f"area ({', '.join(codes)}); use the area manifest's county codes")
    rest = [i for i, c in enumerate(codes) if c not in named]
    weights = np.array([max(poor[i], 0.0) for i in rest], float)
    share = (weights / weights.sum() if weights.sum() > 0 else
             np.full(len(rest), 1.0 / max(len(rest), 1)))
    area = config.per_year(config.yearly_budget_cny)
    given = np.zeros(config.n_years)
    for value in named.values():
        given += np.asarray(config.per_year(value), float)
    left = None if area is None else np.asarray(area) - given
    if left is not None and (left < -1e-6).any() and rest:
        raise ConfigError("plan: county_budgets_cny give more money than yearly_budget_cny "
                          "(the area's); raise the area budget or lower the county ones")
    out = []
    for i, code in enumerate(codes):
        update: dict[str, Any] = {"county_budgets_cny": {}, "pool": "county"}
        if code in named:
            update["yearly_budget_cny"] = config.per_year(named[code])
            frac = 0.0 if area is None else float(np.sum(update["yearly_budget_cny"])
                                                 / max(np.sum(area), 1.0))
        else:
            frac = float(share[rest.index(i)])
            update["yearly_budget_cny"] = (None if left is None else
                                           [float(v) * frac for v in left])
        update["opex_budget_cny"] = _scaled(config.per_year(config.opex_budget_cny), frac)
        update["sources"] = [s.model_copy(update={"yearly_cny": _scaled(
            config.per_year(s.yearly_cny), frac)}) for s in config.sources]
        out.append(config.model_copy(update=update))
    return out


def _scaled(values: list[float] | None, frac: float) -> list[float] | None:
    return None if values is None else [float(v) * frac for v in values]


def solve_counties(cands: list[Candidates], configs: list[PlanConfig],
                   mapper: Mapper = serial_map) -> tuple[AreaSolution, list[PlanSolution]]:
    """Solve each county under its own budget (the area problem decomposes exactly)."""
    start = time.perf_counter()
    sols: list[PlanSolution] = mapper(solve_plan, list(zip(cands, configs, strict=True)))
    objective = float(sum(s.objective for s in sols))
    bound = float(sum(s.bound if s.bound is not None else np.inf for s in sols))
    gaps = [s.mip_gap for s in sols]
    worst = max((g if g is not None else np.inf for g in gaps), default=0.0)
    status = "optimal" if all(s.status == "optimal" for s in sols) else "mixed"
    sol = AreaSolution([s.year_index for s in sols], "county", status, objective, bound,
                       float(worst), gaps, time.perf_counter() - start)
    return sol, sols


def combine(cands: list[Candidates], codes: list[str]) -> Candidates:
    """One candidate set for the area: ids prefixed ``<county code>/``, pairs offset."""
    frames, excl, prec = [], [], []
    offset = 0
    for cand, code in zip(cands, codes, strict=True):
        p = cand.projects.copy()
        for col in ("project_id", "village_id", "township_id"):
            p[col] = f"{code}/" + p[col].astype(str)
        frames.append(p)
        excl.append(cand.exclusive + offset)
        prec.append(cand.precedence.assign(first=cand.precedence["first"] + offset,
                                           then=cand.precedence["then"] + offset))
        offset += len(p)
    return Candidates(pd.concat(frames, ignore_index=True),
                      pd.concat(excl, ignore_index=True).astype(np.int64),
                      pd.concat(prec, ignore_index=True).astype(np.int64))


def _row_use(rows: list[tuple[NDArray[np.float64], float]],
             years: NDArray[np.int64]) -> NDArray[np.float64]:
    """Money each row takes from a plan (万元)."""
    idx = np.flatnonzero(years >= 0)
    return np.array([float(coef[idx, years[idx]].sum()) for coef, _ in rows])


def repair(cand: Candidates, years: NDArray[np.int64], config: PlanConfig) -> NDArray[np.int64]:
    """Make a plan that breaks only the budget rows feasible, then fill it greedily.

    The chosen works are ordered by value per 万元 of overspent rows' money; the fewest
    of the cheapest-valued are dropped so that every row holds (one cut, each row's
    cumulative money found by binary search), then works whose precedence lost its
    first work, and :func:`contigmap.plan.greedy.greedy_years` adds what still fits.
    """
    years = np.asarray(years, np.int64).copy()
    rows = money_rows(cand, config)
    hi = np.array([h for _, h in rows])
    over = _row_use(rows, years) - hi
    bad = np.flatnonzero(over > 1e-9)
    if bad.size:
        chosen = np.flatnonzero(years >= 0)
        use = np.stack([rows[r][0][chosen, years[chosen]] for r in bad])  # rows × chosen
        money = use.sum(axis=0)
        value = cand.projects["value"].to_numpy(float)[chosen]
        dens = np.where(money > 0, value / np.maximum(money, 1e-12), np.inf)
        order = np.lexsort((chosen, dens))
        cum = np.cumsum(use[:, order], axis=1)
        k = max(int(np.searchsorted(cum[j], over[r] - 1e-9)) + 1 for j, r in enumerate(bad))
        years[chosen[order[:k]]] = -1
    pairs = cand.precedence[["first", "then", "gap"]].to_numpy(int)
    changed = True
    while changed and len(pairs):
        f, q, gap = pairs.T
        broken = (years[q] >= 0) & ((years[f] < 0) | (years[f] > years[q] - gap))
        changed = bool(broken.any())
        years[q[broken]] = -1
    return greedy_years(cand, config, start=years)


def _priced(cand: Candidates, config: PlanConfig,
            price: NDArray[np.float64]) -> tuple[NDArray[np.int64], float, float]:
    return solve_priced(cand, config, price)


def pooled_plan(cands: list[Candidates], codes: list[str], config: PlanConfig,
                start: list[NDArray[np.int64]], mapper: Mapper = serial_map) -> AreaSolution:
    """One shared area budget: Lagrangian relaxation and subgradient (see the module).

    Parameters
    ----------
    cands, codes
        Each county's candidates and code.
    config
        The area's settings (``yearly_budget_cny``/``opex_budget_cny``: the area's money).
    start
        A feasible area plan per county (the county-budget plan), the first lower bound.
    mapper
        Runs the county subproblems (serially or as Dask tasks).

    Raises
    ------
    ConfigError
        Funding sources are given (they are not pooled; use ``pool: county``).
    """
    if config.sources:
        raise ConfigError("plan: pool: area shares yearly_budget_cny (and opex_budget_cny) "
                          "only; funding sources are per county: use pool: county")
    t0 = time.perf_counter()
    area = combine(cands, codes)
    offsets = np.cumsum([0] + [len(c.projects) for c in cands])
    rows = money_rows(area, config)
    rhs = np.array([h for _, h in rows])
    best = repair(area, np.concatenate(start), config)
    best_obj = evaluate(area, best, config)
    price = _start_price(area, best, rows)
    theta, upper, stall, history = 1.0, np.inf, 0, []
    for it in range(config.lagrangian_iterations):
        out = mapper(_priced, [(c, config, price) for c in cands])
        years = np.concatenate([o[0] for o in out])
        dual = float(sum(o[2] for o in out) + price @ rhs)
        if dual < upper - 1e-9:
            upper, stall = dual, 0
        else:
            stall += 1
            if stall >= 3:
                theta, stall = theta / 2, 0
        fixed = repair(area, years, config)
        obj = evaluate(area, fixed, config)
        if obj > best_obj:
            best, best_obj = fixed, obj
        history.append((dual, best_obj))
        gap = (upper - best_obj) / upper
        logger.info("area plan: step %d, L %.1f, best plan %.1f, gap %.3f%%", it + 1, dual,
                    best_obj, 100 * gap)
        if gap <= config.mip_rel_gap:
            break
        g = rhs - _row_use(rows, years)
        norm = float(g @ g)
        if norm <= 0:
            break
        price = np.maximum(price - theta * (dual - best_obj) / norm * g, 0.0)
    gap = max((upper - best_obj) / upper, 0.0) if np.isfinite(upper) else np.inf
    return AreaSolution([best[offsets[i]:offsets[i + 1]] for i in range(len(cands))],
                        "lagrangian", "optimal" if gap <= config.mip_rel_gap else "gap",
                        best_obj, float(upper), float(gap), [None] * len(cands),
                        time.perf_counter() - t0, len(history), history)


def _start_price(cand: Candidates, years: NDArray[np.int64],
                 rows: list[tuple[NDArray[np.float64], float]]) -> NDArray[np.float64]:
    """First prices: the value per 万元 of the plan's marginal works, on the last row.

    The 5th percentile of the chosen works' value per 万元 (the works a little more money
    would add are about as dense), a price on the whole period's money.
    """
    price = np.zeros(len(rows))
    idx = np.flatnonzero(years >= 0)
    if idx.size and len(rows):
        money = rows[-1][0][idx, years[idx]]
        dens = cand.projects["value"].to_numpy(float)[idx] / np.maximum(money, 1e-9)
        price[-1] = float(np.percentile(dens[money > 0], 5)) if (money > 0).any() else 0.0
    return price
