"""The multi-year plan as a mixed-integer programme, solved with HiGHS; a greedy fallback.

Decision ``x[p, y] ∈ {0, 1}``: project ``p`` is built in plan year ``y``. With ``X_p =
Σ_y x[p, y]`` and a project's value ``v_p`` (need-weighted poor people,
:func:`contigmap.plan.candidates.project_value`)::

    maximise   Σ_j Σ_k w_k Σ_{p∈j} v_p s[p, k]  +  ε Σ_{p,y} v_p (Y − y) / Y · x[p, y]
    subject to Σ_y x[p, y] ≤ 1                               each project at most once
               Σ_k s[p, k] ≤ X_p,  Σ_{p∈j} s[p, k] ≤ cap_{j,k}, 0 ≤ s ≤ 1   (slots)
               Σ_{t≤y} Σ_p c_p x[p, t] ≤ Σ_{t≤y} B_t          yearly budget (carry-over;
                                                              per year without it)
               Σ_{p∈i} c_p x[p, y] ≤ Σ_s z[s, i, y],  Σ_{t≤y} Σ_i z[s, i, t] ≤ Σ_{t≤y} B_{s,t}
                                                              funding sources (z ≥ 0 only
                                                              for the works a source may pay)
               X_a + X_b ≤ 1                                  relocation vs in-place works
               x[q, y] ≤ Σ_{t ≤ y−g} x[f, t]                  precedence f before q
               Σ_{p ∈ township, intervention} x[p, y] ≤ crews   capacity (and, with
               Σ_{p ∈ township} x[p, y] ≤ crews[total]         ``crews: {total: n}``, all works)

*Diminishing returns* (an ordered weighted sum, Yager 1988, IEEE SMC 18(1)): the works
of village ``j`` sorted by value count with weights ``w_1 ≥ w_2 ≥ …`` (the last
repeats). The slot variables ``s`` make it linear: for chosen projects, maximising over
``s`` fills slot 1 with the most valuable work, slot 2 with the next, … (an assignment
problem with an integral optimum; by the rearrangement inequality its value is the
ordered weighted sum — the maximisation form of Ogryczak & Śliwiński 2003, EJOR 148).
The last slot takes every work beyond the weights' list (``cap`` = the rest).

Solved with :func:`scipy.optimize.milp` (HiGHS) under a time limit, as the relocation
assignment (:mod:`contigmap.relocation.assign`): the status, the relative gap and the
solver's bound are reported. At the time limit the greedy plan replaces HiGHS' best one
when it is better (same bound, smaller gap). When the model has more binaries than
``max_binaries``, or HiGHS finds no plan in time, a greedy plan is used (year by year,
projects by value per yuan, each fitting every constraint) with the LP relaxation's bound
when that solves.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from contigmap.errors import ConfigError
from contigmap.plan.candidates import Candidates, opex_of
from contigmap.plan.config import PlanConfig

__all__ = ["PlanSolution", "evaluate", "greedy_plan", "solve_plan"]

logger = logging.getLogger(__name__)

_SCALE = 1e-4
"""Money enters the model in 万元 (better-scaled rows)."""


@dataclass
class PlanSolution:
    """A plan and how it was found.

    Attributes
    ----------
    year_index
        Per project, the plan year's index (0 = first year), or -1 when not chosen.
    method
        ``milp``, ``greedy`` or ``none`` (nothing to plan). At the time limit the better
        of HiGHS' best plan and the greedy plan is kept (``greedy`` with status
        ``time_limit`` and the MILP's bound when the greedy one is better).
    status
        ``optimal``, ``time_limit`` (best MILP plan found in time), ``greedy_too_large``
        (the model exceeds ``max_binaries``) or ``greedy_no_solution`` (HiGHS found none).
    objective
        The plan's objective (:func:`evaluate`).
    bound
        An upper bound on the objective of any plan (the solver's, or the LP
        relaxation's); None when unknown.
    mip_gap
        ``(bound − objective) / bound``; 0 for a proven optimum; None when unknown.
    seconds
        Solver wall time (logged; not written into outputs, which stay byte-identical).
    binaries
        Number of binary variables.
    """

    year_index: NDArray[np.int64]
    method: str
    status: str
    objective: float
    bound: float | None
    mip_gap: float | None
    seconds: float
    binaries: int

    def as_summary(self) -> dict[str, Any]:
        """Solver entries for the manifest and the report (no wall time)."""
        return {"solver_method": self.method, "solver_status": self.status,
                "objective": round(self.objective, 6),
                "bound": None if self.bound is None else round(self.bound, 6),
                "mip_gap": None if self.mip_gap is None else round(self.mip_gap, 8),
                "binaries": self.binaries}


def evaluate(cand: Candidates, year_index: NDArray[np.int64], config: PlanConfig,
             *, earliness: bool = True) -> float:
    """Compute the objective of a plan directly (sorted values per village × weights)."""
    p = cand.projects
    chosen = year_index >= 0
    total = 0.0
    values = p["value"].to_numpy(float)
    for _, idx in p.groupby("village_id", sort=True).indices.items():
        idx = np.asarray(idx)
        vals = np.sort(values[idx[chosen[idx]]])[::-1]
        total += sum(config.weight(k) * v for k, v in enumerate(vals))
    if earliness:
        n = config.n_years
        total += config.earliness * float(np.sum(values[chosen] * (n - year_index[chosen]) / n))
    return float(total)


class _Rows:
    """Sparse constraint rows collected one by one (``lo ≤ A x ≤ hi``)."""

    def __init__(self) -> None:
        self.r: list[NDArray[np.int64]] = []
        self.c: list[NDArray[np.int64]] = []
        self.v: list[NDArray[np.float64]] = []
        self.hi: list[float] = []

    def add(self, cols: Any, vals: Any, hi: float) -> None:
        cols = np.asarray(cols, dtype=np.int64)
        self.r.append(np.full(cols.size, len(self.hi), dtype=np.int64))
        self.c.append(cols)
        self.v.append(np.broadcast_to(np.asarray(vals, float), cols.shape).astype(float))
        self.hi.append(float(hi))

    def matrix(self, n: int) -> LinearConstraint:
        rows = np.concatenate(self.r) if self.r else np.zeros(0, np.int64)
        a = coo_matrix((np.concatenate(self.v) if self.v else np.zeros(0),
                        (rows, np.concatenate(self.c) if self.c else rows)),
                       shape=(len(self.hi), n)).tocsr()
        return LinearConstraint(a, -np.inf, np.asarray(self.hi))


def _slots(cand: Candidates, config: PlanConfig) -> list[tuple[NDArray[np.int64], int, float]]:
    """Per village and slot: (projects, slot k, capacity)."""
    out = []
    for _, idx in cand.projects.groupby("village_id", sort=True).indices.items():
        idx = np.asarray(idx, dtype=np.int64)
        k_max = min(len(idx), len(config.diminishing_weights))
        for k in range(k_max):
            cap = 1.0 if k < k_max - 1 else float(len(idx) - k_max + 1)
            out.append((idx, k, cap))
    return out


def _money(config: PlanConfig) -> tuple[list[float] | None, list[tuple[list[float], list[str]]]]:
    """Yearly budget (or None) and, per source, (yearly money, interventions)."""
    budget = config.per_year(config.yearly_budget_cny)
    sources = [(config.per_year(s.yearly_cny) or [], list(s.interventions))
               for s in config.sources]
    return budget, sources


def _spans(config: PlanConfig) -> list[list[int]]:
    """Years of each money row: all years up to ``y`` (carry-over), else ``y`` alone."""
    return [list(range(y + 1)) if config.carry_over else [y] for y in range(config.n_years)]


def _coef(cost: NDArray[np.float64], opex: NDArray[np.float64], span: list[int],
          n_years: int) -> NDArray[np.float64]:
    """Money of the years ``span`` taken by each ``x[p, t]`` (projects × years).

    A project started in year ``t`` pays its capital cost in ``t`` and its operating cost
    in every later plan year: ``cost·[t ∈ span] + opex·|{t' ∈ span : t' > t}|``.
    """
    t = np.arange(n_years)
    inside = np.isin(t, span).astype(float)
    later = np.array([sum(1 for u in span if u > k) for k in t], dtype=float)
    return cost[:, None] * inside[None, :] + opex[:, None] * later[None, :]


def money_rows(cand: Candidates,
               config: PlanConfig) -> list[tuple[NDArray[np.float64], float]]:
    """Return the budget rows (coefficients per ``x[p, t]`` in 万元, right-hand side).

    One row per plan year for ``yearly_budget_cny`` (capital, and operating costs unless
    ``opex_budget_cny`` is given), and one per year for ``opex_budget_cny`` (operating
    costs). With ``carry_over`` the rows are cumulative (unspent money moves on).

    Raises
    ------
    ConfigError
        Some works have operating costs but no money line can pay them (sources only).
    """
    p = cand.projects
    n_y = config.n_years
    cost = p["cost_cny"].to_numpy(float) * _SCALE
    opex = opex_of(p) * _SCALE
    budget = config.per_year(config.yearly_budget_cny)
    opex_line = config.per_year(config.opex_budget_cny)
    if budget is None and opex_line is None and (opex > 0).any():
        raise ConfigError(f"plan: {int((opex > 0).sum())} works have yearly operating costs "
                          "but only funding sources are given (they pay capital only); give "
                          "opex_budget_cny or yearly_budget_cny")
    rows: list[tuple[NDArray[np.float64], float]] = []
    for span in _spans(config):
        if budget is not None:
            in_budget = opex if opex_line is None else np.zeros_like(opex)
            rows.append((_coef(cost, in_budget, span, n_y),
                         sum(budget[t] for t in span) * _SCALE))
        if opex_line is not None:
            rows.append((_coef(np.zeros_like(cost), opex, span, n_y),
                         sum(opex_line[t] for t in span) * _SCALE))
    return rows


def _budget_rows(rows: _Rows, cand: Candidates, x: NDArray[np.int64], z0: int,
                 config: PlanConfig, price: NDArray[np.float64] | None,
                 c: NDArray[np.float64]) -> int:
    """Budget and source rows; return the number of ``z`` variables added at ``z0``.

    With ``price`` (one per :func:`money_rows` row) the budget rows are not constraints
    but priced in the objective ``c`` (the Lagrangian relaxation of :mod:`.area`).
    """
    n_years = config.n_years
    for r, (coef, hi) in enumerate(money_rows(cand, config)):
        if price is not None:
            c[x] += price[r] * coef
            continue
        keep = coef.ravel() != 0
        rows.add(x.ravel()[keep], coef.ravel()[keep], hi)
    _, sources = _money(config)
    if not sources:
        return 0
    cost = cand.projects["cost_cny"].to_numpy(float) * _SCALE
    iv = cand.projects["intervention"].to_numpy(object)
    cum = config.carry_over
    names = sorted(set(iv.tolist()))
    zi: dict[tuple[int, str, int], int] = {}
    for s, (_, allowed) in enumerate(sources):
        for name in names:
            if name in allowed:
                for y in range(n_years):
                    zi[s, name, y] = z0 + len(zi)
    for name in names:
        members = np.flatnonzero(iv == name)
        for y in range(n_years):
            zs = [zi[s, name, y] for s in range(len(sources)) if (s, name, y) in zi]
            rows.add(np.concatenate([x[members, y], zs]),
                     np.concatenate([cost[members], -np.ones(len(zs))]), 0.0)
    for s, (money, _) in enumerate(sources):
        for y in range(n_years):
            ys = range(y + 1) if cum else [y]
            zcols = [zi[k] for k in zi if k[0] == s and k[2] in ys]
            if zcols:
                rows.add(zcols, 1.0, sum(money[t] for t in ys) * _SCALE)
    return len(zi)


def _build(cand: Candidates, config: PlanConfig, price: NDArray[np.float64] | None = None
           ) -> tuple[NDArray[np.float64], LinearConstraint, int, int]:
    """Objective (to minimise), constraints, number of ``x`` and of all variables.

    Length: one block of rows per constraint family of the module's model, in order.
    With ``price`` the budget rows are priced into the objective instead (see
    :func:`_budget_rows`).
    """
    p = cand.projects
    n_p, n_y = len(p), config.n_years
    x = np.arange(n_p * n_y, dtype=np.int64).reshape(n_p, n_y)
    values = p["value"].to_numpy(float)
    slots = _slots(cand, config)
    s_cols: list[tuple[NDArray[np.int64], NDArray[np.int64], int, float]] = []
    nxt = n_p * n_y
    for idx, k, cap in slots:
        s_cols.append((idx, np.arange(nxt, nxt + len(idx)), k, cap))
        nxt += len(idx)
    c = np.zeros(nxt)
    c[x] = -config.earliness * values[:, None] * (n_y - np.arange(n_y))[None, :] / n_y
    rows = _Rows()
    for i in range(n_p):
        rows.add(x[i], 1.0, 1.0)
    per_project: list[list[int]] = [[] for _ in range(n_p)]
    for idx, cols, k, cap in s_cols:
        c[cols] = -config.weight(k) * values[idx]
        rows.add(cols, 1.0, cap)
        for i, col in zip(idx, cols, strict=True):
            per_project[int(i)].append(int(col))
    for i in range(n_p):
        rows.add(np.concatenate([per_project[i], x[i]]),
                 np.concatenate([np.ones(len(per_project[i])), -np.ones(n_y)]), 0.0)
    n_z = _budget_rows(rows, cand, x, nxt, config, price, c)
    c = np.concatenate([c, np.zeros(n_z)])
    for a, b in cand.exclusive[["a", "b"]].to_numpy(int):
        rows.add(np.concatenate([x[a], x[b]]), 1.0, 1.0)
    for f, q, gap in cand.precedence[["first", "then", "gap"]].to_numpy(int):
        for y in range(n_y):
            before = x[f, : max(y - gap + 1, 0)]
            rows.add(np.concatenate([[x[q, y]], before]),
                     np.concatenate([[1.0], -np.ones(len(before))]), 0.0)
    groups = p.groupby(["township_id", "intervention"], sort=True).indices
    for key, members in groups.items():
        crews = config.crews_for(str(key[1]))  # type: ignore[index]
        if crews is not None and crews < len(members):
            for y in range(n_y):
                rows.add(x[np.asarray(members), y], 1.0, float(crews))
    total = config.crews.get("total")
    for members in p.groupby("township_id", sort=True).indices.values():
        if total is not None and total < len(members):
            for y in range(n_y):
                rows.add(x[np.asarray(members), y], 1.0, float(total))
    return c, rows.matrix(len(c)), n_p * n_y, len(c)


def _upper(cand: Candidates, config: PlanConfig, n_x: int, n: int) -> NDArray[np.float64]:
    """Variable upper bounds: 0 for works no source may pay for (when sources are given)."""
    ub = np.full(n, np.inf)
    ub[:n_x] = 1.0
    allowed = {iv for s in config.sources for iv in s.interventions}
    if config.sources:
        banned = ~cand.projects["intervention"].isin(allowed).to_numpy()
        ub[:n_x].reshape(-1, config.n_years)[banned] = 0.0
    return ub


def _solve_milp(cand: Candidates, config: PlanConfig, *, price: NDArray[np.float64] | None = None
                ) -> tuple[Any, NDArray[np.int64] | None]:
    """Solve the plan MILP with HiGHS (``price``: the priced subproblem of an area plan).

    Returns scipy's result and each project's start-year index (-1: not chosen), or
    ``None`` for the years when HiGHS found no solution within the time limit.
    """
    c, cons, n_x, n = _build(cand, config, price)
    integrality = np.zeros(n)
    integrality[:n_x] = 1
    res = milp(c, constraints=cons, integrality=integrality,
               bounds=Bounds(np.zeros(n), _upper(cand, config, n_x, n)),
               options={"time_limit": config.time_limit_s, "mip_rel_gap": config.mip_rel_gap,
                        "presolve": True})
    if res.x is None:
        return res, None
    xs = np.round(res.x[:n_x]).reshape(len(cand.projects), config.n_years) > 0.5
    return res, np.where(xs.any(axis=1), xs.argmax(axis=1), -1).astype(np.int64)


def solve_plan(cand: Candidates, config: PlanConfig) -> PlanSolution:
    """Choose the projects and their years (the module's model); greedy when too large.

    Returns
    -------
    PlanSolution
        The plan, the solver's status, objective, bound and gap.
    """
    n_p, n_y = len(cand.projects), config.n_years
    start = time.perf_counter()
    if n_p == 0:
        return PlanSolution(np.zeros(0, np.int64), "none", "optimal", 0.0, 0.0, 0.0, 0.0, 0)
    if n_p * n_y > config.max_binaries:
        logger.warning("plan: %d binaries > max_binaries %d; greedy plan", n_p * n_y,
                       config.max_binaries)
        return greedy_plan(cand, config, status="greedy_too_large", start=start)
    res, year_index = _solve_milp(cand, config)
    if year_index is None:
        logger.warning("plan: HiGHS found no plan within %.0f s (%s); greedy plan",
                       config.time_limit_s, res.message)
        return greedy_plan(cand, config, status="greedy_no_solution", start=start)
    objective = evaluate(cand, year_index, config)
    bound = getattr(res, "mip_dual_bound", None)
    bound = max(-float(bound), objective) if bound is not None and np.isfinite(bound) else None
    optimal = res.status == 0
    gap = (bound - objective) / bound if bound else (0.0 if optimal else None)
    method = "milp"
    if not optimal:
        from contigmap.plan.greedy import greedy_years

        greedy = greedy_years(cand, config)
        g_obj = evaluate(cand, greedy, config)
        if g_obj > objective:  # HiGHS' best plan in time is worse than the greedy one
            year_index, objective, method = greedy, g_obj, "greedy"
            gap = (bound - objective) / bound if bound else None
        logger.warning("plan: time limit %.0f s; best plan found (%s), gap %s",
                       config.time_limit_s, method, "unknown" if gap is None else f"{gap:.2%}")
    return PlanSolution(year_index, method, "optimal" if optimal else "time_limit", objective,
                        bound, max(gap, 0.0) if gap is not None else None,
                        time.perf_counter() - start, n_p * n_y)


def lp_bound(cand: Candidates, config: PlanConfig, time_limit_s: float) -> float | None:
    """Upper bound on any plan's objective: the LP relaxation (None when it does not solve)."""
    c, cons, n_x, n = _build(cand, config)
    res = milp(c, constraints=cons, integrality=np.zeros(n),
               bounds=Bounds(np.zeros(n), _upper(cand, config, n_x, n)),
               options={"time_limit": max(time_limit_s, 1.0)})
    return float(-res.fun) if res.status == 0 else None


def greedy_plan(cand: Candidates, config: PlanConfig, *, status: str = "greedy",
                start: float | None = None, bound: bool = True) -> PlanSolution:
    """Year by year, take projects by value per yuan while every constraint holds.

    The value counts the diminishing weight of the village's next work. The bound is the
    LP relaxation's (:func:`lp_bound`), when asked and it solves in the time limit.
    """
    from contigmap.plan.greedy import greedy_years

    start = time.perf_counter() if start is None else start
    year_index = greedy_years(cand, config)
    objective = evaluate(cand, year_index, config)
    ub = lp_bound(cand, config, config.time_limit_s) if bound else None
    gap = (ub - objective) / ub if ub else None
    return PlanSolution(year_index, "greedy", status, objective, ub,
                        None if gap is None else max(gap, 0.0), time.perf_counter() - start,
                        len(cand.projects) * config.n_years)


def chosen(cand: Candidates, sol: PlanSolution, config: PlanConfig) -> pd.DataFrame:
    """Return the chosen projects with their ``year``, sorted by year and project id."""
    p = cand.projects.assign(after=cand.after())
    keep = sol.year_index >= 0
    out = p[keep].assign(year=config.first_year + sol.year_index[keep])
    return out.sort_values(["year", "project_id"], kind="stable").reset_index(drop=True)


def solve_priced(cand: Candidates, config: PlanConfig, price: NDArray[np.float64]
                 ) -> tuple[NDArray[np.int64], float, float]:
    """Solve the plan with its budget rows priced instead of enforced (a Lagrangian subproblem).

    Maximises the objective minus ``Σ_r price_r · (money of row r)`` (rows of
    :func:`money_rows`, in 万元) subject to every other constraint of the model.

    Returns
    -------
    tuple
        The plan's years (-1: not chosen), its priced objective, and an upper bound on the
        priced objective of any plan (HiGHS' dual bound; equal within ``mip_rel_gap``).
    """
    if len(cand.projects) == 0:
        return np.zeros(0, np.int64), 0.0, 0.0
    res, years = _solve_milp(cand, config, price=np.asarray(price, float))
    if years is None:
        raise RuntimeError(f"plan: priced subproblem not solved ({res.message})")
    value = -float(res.fun)
    bound = getattr(res, "mip_dual_bound", None)
    upper = -float(bound) if bound is not None and np.isfinite(bound) else value
    return years, value, max(upper, value)
