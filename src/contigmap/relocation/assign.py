"""Households to receiving sites at least total cost, respecting capacities, exactly.

The model (a capacitated transportation problem with whole households)::

    minimise    Σ_{g,s} k_g c[o(g), s] x[g, s]
    subject to  Σ_s x[g, s] + u[g] = n_g            for every household group g
                Σ_g k_g x[g, s] ≤ capacity[s]        for every site s
                x, u ≥ 0 integer

A *group* ``g`` is the ``n_g`` households of one origin with ``k_g`` members each;
``c[o, s]`` is the cost per person (minutes-equivalent: travel time plus the
leave-the-township penalty); pairs with an infinite cost are not offered. Capacities are
in people and households are never split, so with households of different sizes the
problem is not a pure network flow (the capacity rows carry weights ``k_g``); it is
solved as a mixed-integer programme with HiGHS (:func:`scipy.optimize.milp`, relative
gap 0), in two lexicographic phases: first the most people placed
(``max Σ k_g x[g, s]``), then the least cost among the plans that place that many. When
every household has the same size it reduces to the classical transportation problem,
whose LP is integral (Dantzig 1963, *Linear Programming and Extensions*, ch. 14).

Phase 1 is proven without a solve of its own when a plan reaches an upper bound on the
people: the greedy plan below placing everyone with an offered site, or phase 2 run at
the LP relaxation's people count (rounded down) finding a plan. Each MILP goes to HiGHS
through reduced-cost fixing against its LP relaxation
(:mod:`contigmap.relocation._rcfix`: only the variables the LP duals leave free, the
same optimum; a 14k-edge county's cost phase drops from ~9,000 variables to ~950).
The origin-site graph of such a county is one connected piece (sites serve origins
across the county), so splitting the model by components would not help.

Households of one origin may be split across sites when capacities force it. Keeping
each origin whole would need one binary per origin and site (an unsplittable-flow MILP);
instead the number of origins split is reported (``origins_split``) — a basic optimal
solution of a transportation problem splits at most ``sites − 1`` of them.

Never hangs: both phases share a time limit (``time_limit_s``, default 60 s; the
relocation config's ``assignment.time_limit_s``). When it strikes, the best feasible
plan HiGHS found is returned with its optimality gap (``mip_gap``: relative distance to
the solver's bound); phase 1's plan is always a feasible fallback for phase 2. When
HiGHS has no feasible plan within the limit, a greedy plan is used (households, largest
first, each to the cheapest site with room left) with stated bounds from the LP
relaxation (or, when even that does not finish within the limit, from the capacities
and each person's cheapest offered site): at most ``people_bound`` people can be placed,
and no plan placing as many people as the greedy one costs less than ``cost_bound``.
Which one was used is in :attr:`Assignment.solver`; anything but a proven optimum is
logged as a warning.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix, vstack

from contigmap.errors import ValidationError, warn_data
from contigmap.poverty import NATIONAL_HOUSEHOLD_SIZE
from contigmap.relocation._greedy import greedy_plan, simple_bounds
from contigmap.relocation._rcfix import lp_relaxation, solve_by_fixing

__all__ = ["Assignment", "SolverReport", "assign_households", "households_from_counts"]

logger = logging.getLogger(__name__)


@dataclass
class SolverReport:
    """How the assignment was solved.

    Attributes
    ----------
    method
        ``milp`` (HiGHS) or ``greedy`` (no feasible MILP plan within the time limit), or
        ``none`` (nothing to solve).
    status
        ``optimal``, ``time_limit`` (best feasible MILP plan, maybe not optimal) or
        ``greedy``.
    mip_gap
        Relative optimality gap of the MILP plan (0 when optimal; ``None`` for greedy or
        when unknown).
    people_bound
        Upper bound on the people any plan can place (from the solver or the LP
        relaxation); ``None`` when not computed.
    cost_bound
        Lower bound on the cost of a plan placing as many people as this one.
    seconds
        Solver wall time.
    time_limit_s
        The limit in force.
    """

    method: str = "none"
    status: str = "optimal"
    mip_gap: float | None = 0.0
    people_bound: float | None = None
    cost_bound: float | None = None
    seconds: float = 0.0
    time_limit_s: float = 60.0

    def as_summary(self) -> dict[str, Any]:
        """Summary entries (``assignment_*``) for the relocation summary table.

        The solver's wall time is logged, not written: outputs are byte-identical on rerun.
        """
        return {
            "assignment_method": self.method,
            "assignment_status": self.status,
            "assignment_mip_gap": self.mip_gap,
            "assignment_people_bound": self.people_bound,
            "assignment_cost_bound": self.cost_bound,
            "assignment_time_limit_s": self.time_limit_s,
        }


@dataclass
class Assignment:
    """An optimal assignment of households to sites.

    Attributes
    ----------
    households
        One row per household: ``household_id``, ``origin_id``, ``members``,
        ``site_id`` (missing when unassigned), ``cost_per_person``.
    flows
        One row per origin and site used: ``origin_id``, ``site_id``, ``households``,
        ``people``, ``cost_per_person``, ``cost``.
    loads
        One row per site: ``site_id``, ``capacity_people``, ``load_people``,
        ``load_households``, ``load_share``.
    unassigned
        One row per origin with households left unassigned: ``origin_id``,
        ``households``, ``people``, ``why``.
    total_cost
        Σ people × cost per person over the assigned households.
    people_assigned, people_unassigned
        Totals.
    origins_split
        Origins whose households go to more than one site.
    notes
        Plain-language messages (capacity shortfalls, unreachable origins, a time limit).
    solver
        How the plan was found (optimal, best within the time limit, or greedy).
    """

    households: pd.DataFrame
    flows: pd.DataFrame
    loads: pd.DataFrame
    unassigned: pd.DataFrame
    total_cost: float
    people_assigned: int
    people_unassigned: int
    origins_split: int
    notes: list[str] = field(default_factory=list)
    solver: SolverReport = field(default_factory=SolverReport)


def households_from_counts(
    origin_ids: pd.Series | list[object], pop: pd.Series | list[float],
    households: pd.Series | list[float],
    *,
    household_size: float = NATIONAL_HOUSEHOLD_SIZE,
) -> pd.DataFrame:
    """Split each origin's people into whole households of near-equal size.

    ``pop`` people in ``households`` households become ``pop mod households`` households
    of ``⌈pop / households⌉`` members and the rest of ``⌊pop / households⌋`` (at least 1;
    an origin with people but no household count gets ``round(pop / household_size)``
    households, at least 1, as :func:`contigmap.poverty.apply_poverty_sources` does).
    Origins without people give no household.

    Returns
    -------
    pandas.DataFrame
        ``household_id`` (``<origin>-<nnn>``), ``origin_id``, ``members``.
    """
    rows: list[tuple[str, object, int]] = []
    for o, p, h in zip(list(origin_ids), list(pop), list(households), strict=True):
        people = round(float(p)) if np.isfinite(float(p)) else 0
        if people <= 0:
            continue
        hh = (round(float(h)) if np.isfinite(float(h)) and float(h) > 0
              else max(1, round(people / household_size)))
        hh = min(hh, people)
        base, extra = divmod(people, hh)
        sizes = [base + 1] * extra + [base] * (hh - extra)
        rows.extend((f"{o}-{j + 1:03d}", o, s) for j, s in enumerate(sizes))
    return pd.DataFrame(rows, columns=["household_id", "origin_id", "members"])


def _solve(c: np.ndarray, a: csr_matrix, lo: np.ndarray, hi: np.ndarray, ub: np.ndarray,
           *, time_limit: float, gap: float, integral: bool = True) -> Any:
    """One exact solve; the result (``x`` is ``None`` when no feasible point was found).

    Integer programmes go through :func:`~contigmap.relocation._rcfix.solve_by_fixing`
    (HiGHS on the variables the LP duals leave free: the same optimum, found in a
    fraction of the time); LPs straight to HiGHS.
    """
    def solve(lower: np.ndarray, upper: np.ndarray, limit: float) -> Any:
        return milp(c, constraints=LinearConstraint(a, lo, hi),
                    integrality=np.ones(c.size) if integral else np.zeros(c.size),
                    bounds=Bounds(lower, upper),
                    options={"mip_rel_gap": gap, "presolve": True,
                             "time_limit": max(float(limit), 1e-3)})

    if not integral:
        return solve(np.zeros(c.size), ub, time_limit)
    return solve_by_fixing(c, a, lo, hi, ub, time_limit=time_limit, solve=solve)


def _bounds_lp(people_weight: np.ndarray, cost_vec: np.ndarray, a: csr_matrix, lo: np.ndarray,
               hi: np.ndarray, ub: np.ndarray, placed: float,
               time_limit: float) -> tuple[float | None, float | None]:
    """LP-relaxation bounds: most people placeable, least cost of placing ``placed``."""
    r1 = _solve(-people_weight, a, lo, hi, ub, time_limit=time_limit, gap=0.0, integral=False)
    people = float(-r1.fun) if r1.status == 0 else None
    a2 = vstack([a, csr_matrix(people_weight[None, :])]).tocsr()
    r2 = _solve(cost_vec, a2, np.append(lo, placed), np.append(hi, np.inf), ub,
                time_limit=time_limit, gap=0.0, integral=False)
    cost = float(r2.fun) if r2.status == 0 else None
    return people, cost


def _greedy_report(sol: np.ndarray, people_weight: np.ndarray, cost_vec: np.ndarray,
                   a: csr_matrix, lo: np.ndarray, hi: np.ndarray, ub: np.ndarray, *,
                   g_size: np.ndarray, g_n: np.ndarray, gi: np.ndarray, gcost: np.ndarray,
                   cap: np.ndarray, time_limit_s: float, start: float) -> SolverReport:
    """Report the greedy plan ``sol`` with bounds from the capacities and the LP."""
    placed = float(people_weight @ sol)
    people_b, cost_b = simple_bounds(g_size, g_n, gi, gcost, cap, placed)
    lp_people, lp_cost = _bounds_lp(people_weight, cost_vec, a, lo, hi, ub, placed,
                                    time_limit_s)
    if lp_people is not None:
        people_b = min(people_b, lp_people)
    if lp_cost is not None:
        cost_b = max(cost_b, lp_cost)
    return SolverReport("greedy", "greedy", None, people_b, cost_b,
                        time.perf_counter() - start, time_limit_s)


def _solve_phases(people_weight: np.ndarray, cost_vec: np.ndarray, a: csr_matrix,
                  lo: np.ndarray, hi: np.ndarray, ub: np.ndarray, *, g_size: np.ndarray,
                  g_n: np.ndarray, gi: np.ndarray, si: np.ndarray, gcost: np.ndarray,
                  cap: np.ndarray, time_limit_s: float,
                  mip_rel_gap: float) -> tuple[np.ndarray, SolverReport]:
    """Two lexicographic MILP phases within one time limit; greedy when nothing is found.

    Phase 1 (most people) needs no solver of its own when the greedy plan places
    everyone with an offered site, or when phase 2 run with the people count set to the
    LP relaxation's bound (rounded down) finds a plan: no plan places more. Only when
    that fails (within half the time limit) is phase 1 solved, then phase 2.
    """
    start = time.perf_counter()
    n_g = g_n.size
    xg = greedy_plan(g_size, g_n, gi, si, gcost, cap)
    greedy_sol = np.concatenate([xg, g_n - np.bincount(gi, weights=xg, minlength=n_g).astype(
        np.int64)])
    reachable = float((g_size * g_n)[np.bincount(gi, minlength=n_g) > 0].sum())

    def greedy_report(sol: np.ndarray) -> SolverReport:
        return _greedy_report(sol, people_weight, cost_vec, a, lo, hi, ub, g_size=g_size,
                              g_n=g_n, gi=gi, gcost=gcost, cap=cap,
                              time_limit_s=time_limit_s, start=start)

    def phase2(people: float, limit: float) -> Any:
        a2 = vstack([a, csr_matrix(people_weight[None, :])]).tocsr()
        return _solve(cost_vec, a2, np.append(lo, people - 0.5), np.append(hi, np.inf), ub,
                      time_limit=limit, gap=mip_rel_gap)

    by_greedy = float(people_weight @ greedy_sol) >= reachable
    people_bound: float | None
    r2, x1, optimal1, gap1, people_bound = None, greedy_sol, True, None, reachable
    if not by_greedy:
        target = _people_lp_bound(people_weight, a, lo, hi, ub, time_limit_s)
        r2 = phase2(target, time_limit_s / 2) if target is not None else None
        if r2 is not None and r2.x is not None:  # the LP bound is reached: proven most
            x1, people_bound = np.asarray(np.round(r2.x), dtype=np.int64), target
        else:
            r2 = None
            r1 = _solve(-people_weight, a, lo, hi, ub, gap=mip_rel_gap,
                        time_limit=time_limit_s - (time.perf_counter() - start))
            if r1.x is None:
                return greedy_sol, greedy_report(greedy_sol)
            x1 = np.asarray(np.round(r1.x), dtype=np.int64)
            optimal1 = r1.status == 0
            gap1 = getattr(r1, "mip_gap", None)
            people_bound = float(people_weight @ x1) if optimal1 else (
                float(-r1.mip_dual_bound) if getattr(r1, "mip_dual_bound", None) is not None
                else None)
    remaining = time_limit_s - (time.perf_counter() - start)
    if r2 is None and remaining > 0:
        r2 = phase2(float(people_weight @ x1), remaining)
    if r2 is None or r2.x is None:  # phase 1's plan is feasible for phase 2: keep it
        if by_greedy:
            return x1, greedy_report(x1)
        return x1, SolverReport("milp", "time_limit",
                                None if gap1 is None or optimal1 else float(gap1),
                                people_bound, None, time.perf_counter() - start, time_limit_s)
    return (np.asarray(np.round(r2.x), dtype=np.int64),
            _phase2_report(r2, optimal1, gap1, people_bound, start, time_limit_s))


def _people_lp_bound(people_weight: np.ndarray, a: csr_matrix, lo: np.ndarray,
                     hi: np.ndarray, ub: np.ndarray, time_limit_s: float) -> float | None:
    """Most people any plan places by the LP relaxation, rounded down (None: no LP).

    Rounded with a small upward allowance: a bound too high only costs a failed try.
    """
    lp = lp_relaxation(-people_weight, a, lo, hi, ub, time_limit_s)
    return None if lp is None else float(np.floor(-lp[0] + 1e-6 * max(1.0, abs(lp[0]))))


def _phase2_report(r2: Any, optimal1: bool, gap1: float | None, people_bound: float | None,
                   start: float, time_limit_s: float) -> SolverReport:
    """Report a phase-2 MILP plan; its gap is phase 1's when phase 1 is not proven."""
    optimal = optimal1 and r2.status == 0
    gap2 = getattr(r2, "mip_gap", None)
    gap = float(gap2) if gap2 is not None else None
    if gap is not None and abs(gap) < 1e-9:  # bound and objective equal up to rounding
        gap = 0.0
    if not optimal1:  # the people count itself is not proven best
        gap = None if gap1 is None else max(float(gap1), gap or 0.0)
    cost_bound = getattr(r2, "mip_dual_bound", None)
    return SolverReport("milp", "optimal" if optimal else "time_limit",
                        gap if gap is not None else (0.0 if optimal else None),
                        people_bound,
                        float(cost_bound) if cost_bound is not None else None,
                        time.perf_counter() - start, time_limit_s)


def assign_households(
    households: pd.DataFrame,
    capacity_people: pd.Series,
    cost_per_person: pd.DataFrame,
    *,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 0.0,
) -> Assignment:
    """Assign whole households to sites at least total cost (MILP, within a time limit).

    Parameters
    ----------
    households
        ``household_id``, ``origin_id`` and ``members`` (people, integer ≥ 1).
    capacity_people
        Site capacity in people, indexed by site id.
    cost_per_person
        Cost per person of moving from each origin (index) to each site (columns);
        ``inf`` or ``nan`` where the site is not offered to that origin.
    time_limit_s
        Wall-clock limit of the solver for both phases together (module docstring).
    mip_rel_gap
        Relative gap at which HiGHS may stop (0: prove optimality).

    Returns
    -------
    Assignment
        The optimal plan (or the best within the time limit, or a greedy plan:
        ``Assignment.solver`` says which, with the gap and bounds); households that
        cannot be placed are listed as unassigned (a
        :class:`~contigmap.errors.DataQualityWarning` says how many and why).

    Raises
    ------
    ValidationError
        Missing columns, non-positive household sizes, or an origin without a cost row.
    """
    members = _checked_members(households, cost_per_person)
    site_ids = list(capacity_people.index)
    cap = np.maximum(np.asarray(capacity_people, dtype=float), 0.0)
    costs = cost_per_person.reindex(columns=site_ids).to_numpy(float)
    origin_pos = {o: i for i, o in enumerate(cost_per_person.index)}
    hh = households.reset_index(drop=True).copy()
    hh["members"] = members.astype(np.int64)
    groups = (hh.groupby(["origin_id", "members"], sort=False).size()
              .rename("n").reset_index())
    g_origin = np.array([origin_pos[o] for o in groups["origin_id"]], dtype=np.int64)
    g_size = groups["members"].to_numpy(np.int64)
    g_n = groups["n"].to_numpy(np.int64)
    n_g, n_s = len(groups), len(site_ids)
    gc = costs[g_origin] if n_s else np.zeros((n_g, 0))
    allowed = np.isfinite(gc) & (cap[None, :] >= g_size[:, None]) if n_s else gc.astype(bool)
    gi, si = np.nonzero(allowed)
    x, solver = _solve_groups(gi, si, g_size, g_n, gc, cap, time_limit_s=time_limit_s,
                              mip_rel_gap=mip_rel_gap)
    hh = _place_households(hh, groups, (gi, si, x), gc, site_ids)
    placed = hh[hh["site_id"].notna()]
    flows = _flows(placed)
    loads = _site_loads(placed, site_ids, cap)
    left = hh[hh["site_id"].isna()]
    reachable = pd.Series(np.isfinite(costs).any(axis=1) if n_s else np.zeros(len(costs), bool),
                          index=cost_per_person.index)
    unassigned = _unassigned(left, reachable)
    notes: list[str] = []
    if solver.status != "optimal":
        notes.append(_not_optimal_note(solver, time_limit_s))
    total_people = int(hh["members"].sum())
    placed_people = int(placed["members"].sum())
    if len(left):
        notes.append(_unplaced_note(left, unassigned, placed_people, total_people, cap))
    split = int((flows.groupby("origin_id").size() > 1).sum()) if len(flows) else 0
    total_cost = float(flows["cost"].sum()) if len(flows) else 0.0
    logger.info("relocation assignment: %d households, %d people placed at %d sites, cost %.1f, "
                "%d origins split; %s in %.2f s", len(placed), placed_people,
                int((loads["load_people"] > 0).sum()), total_cost, split, solver.status,
                solver.seconds)
    return Assignment(households=hh, flows=flows, loads=loads, unassigned=unassigned,
                      total_cost=total_cost, people_assigned=placed_people,
                      people_unassigned=total_people - placed_people, origins_split=split,
                      notes=notes, solver=solver)


def _checked_members(households: pd.DataFrame,
                     cost_per_person: pd.DataFrame) -> NDArray[np.float64]:
    """Return the household sizes after checking the columns, sizes and cost rows.

    Raises
    ------
    ValidationError
        Missing columns, non-positive or fractional sizes, or an origin without a cost row.
    """
    need = {"household_id", "origin_id", "members"}
    if not need <= set(households.columns):
        msg = (f"relocation households: columns {sorted(need - set(households.columns))} "
               "missing; give household_id, origin_id and members")
        raise ValidationError(msg)
    members = np.asarray(households["members"], dtype=float)
    if len(members) and (not np.all(np.isfinite(members)) or members.min() < 1
                         or not np.all(members == np.round(members))):
        bad = households.iloc[int(np.flatnonzero(~(np.isfinite(members) & (members >= 1)
                                                   & (members == np.round(members))))[0])]
        msg = (f"relocation households: household {bad['household_id']} has "
               f"{bad['members']} members; sizes must be whole numbers >= 1")
        raise ValidationError(msg)
    missing = set(households["origin_id"]) - set(cost_per_person.index)
    if missing:
        msg = (f"relocation costs: no cost row for origin {sorted(map(str, missing))[0]}; "
               "give cost_per_person a row for every origin")
        raise ValidationError(msg)
    return members


def _solve_groups(
    gi: NDArray[np.intp], si: NDArray[np.intp], g_size: NDArray[np.int64],
    g_n: NDArray[np.int64], gc: NDArray[np.float64], cap: NDArray[np.float64], *,
    time_limit_s: float, mip_rel_gap: float,
) -> tuple[NDArray[np.int64], SolverReport]:
    """Return how many households of group ``gi[j]`` go to site ``si[j]``, and the report.

    Groups are households of one origin and one size (``g_size`` people, ``g_n`` of
    them); ``gc`` is the cost per person of each group at each site.
    """
    n_g, n_s = len(g_size), len(cap)
    nx = gi.size
    # variables: x (nx), then u (n_g)
    rows = np.concatenate([gi, np.arange(n_g)])
    cols = np.arange(nx + n_g)
    a_dem = csr_matrix((np.ones(nx + n_g), (rows, cols)), shape=(n_g, nx + n_g))
    a_cap = csr_matrix((g_size[gi].astype(float), (si, np.arange(nx))), shape=(n_s, nx + n_g))

    a = vstack([a_dem, a_cap]).tocsr()
    lo = np.concatenate([g_n.astype(float), np.full(n_s, -np.inf)])
    hi = np.concatenate([g_n.astype(float), cap])
    ub = np.concatenate([g_n[gi], g_n]).astype(float)
    people_weight = np.concatenate([g_size[gi].astype(float), np.zeros(n_g)])
    if nx:
        # phase 1: most people placed; phase 2: least cost among plans placing that many
        cost_vec = np.concatenate([g_size[gi] * gc[gi, si], np.zeros(n_g)])
        sol, solver = _solve_phases(people_weight, cost_vec, a, lo, hi, ub, g_size=g_size,
                                    g_n=g_n, gi=gi, si=si, gcost=gc[gi, si], cap=cap,
                                    time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    else:
        sol = np.concatenate([np.zeros(0, np.int64), g_n])
        solver = SolverReport(time_limit_s=time_limit_s)
    return sol[:nx], solver


def _place_households(
    hh: pd.DataFrame, groups: pd.DataFrame,
    plan: tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.int64]],
    gc: NDArray[np.float64], site_ids: list[Any],
) -> pd.DataFrame:
    """Return ``hh`` with ``site_id`` and ``cost_per_person`` from the group plan.

    ``plan`` is ``(gi, si, x)``: ``x[j]`` households of group ``gi[j]`` go to site
    ``si[j]``. Each group's households are filled in id order, sites in their given order.
    """
    gi, si, x = plan
    hh = hh.sort_values(["origin_id", "members", "household_id"], kind="stable")
    g_row = pd.MultiIndex.from_frame(groups[["origin_id", "members"]]).get_indexer(
        pd.MultiIndex.from_frame(hh[["origin_id", "members"]]))
    # a group's rows are contiguous (sorted by origin and size): rank = position in it
    rank = np.arange(len(hh)) - _run_start(g_row)
    # pairs used, by group then site: pair p takes ranks [first[p], first[p] + take[p])
    order = np.lexsort((si, gi))
    order = order[x[order] > 0]
    g_pair, s_pair, take = gi[order], si[order], x[order]
    before = np.cumsum(take) - take
    first = before - before[_run_start(g_pair)]
    span = len(hh) + 1
    p = np.searchsorted(g_pair * span + first, g_row * span + rank, side="right") - 1
    p_ok = np.clip(p, 0, None)
    ok = ((p >= 0) & (g_pair[p_ok] == g_row) & (rank < (first + take)[p_ok])
          if take.size else np.zeros(len(hh), bool))
    sites = np.empty(len(site_ids), dtype=object)
    sites[:] = site_ids
    site_of = np.full(len(hh), None, dtype=object)
    cost_of = np.full(len(hh), np.nan)
    site_of[ok] = sites[s_pair[p[ok]]]
    cost_of[ok] = gc[g_pair[p[ok]], s_pair[p[ok]]]
    hh["site_id"] = site_of
    hh["cost_per_person"] = cost_of
    return hh.sort_index()


def _run_start(keys: NDArray[np.intp]) -> NDArray[np.intp]:
    """Index of the first element of each element's run of equal consecutive ``keys``."""
    new_run = np.r_[True, keys[1:] != keys[:-1]] if keys.size else np.zeros(0, bool)
    return np.flatnonzero(new_run)[np.cumsum(new_run) - 1]


def _site_loads(placed: pd.DataFrame, site_ids: list[Any],
                cap: NDArray[np.float64]) -> pd.DataFrame:
    """Return people and households placed at each site and its share of capacity."""
    load = placed.groupby("site_id").agg(load_people=("members", "sum"),
                                         load_households=("household_id", "size"))
    loads = pd.DataFrame({"site_id": pd.Series(site_ids, dtype=object),
                          "capacity_people": cap.astype(np.int64)})
    loads = loads.join(load, on="site_id").fillna({"load_people": 0, "load_households": 0})
    loads["load_people"] = loads["load_people"].astype(np.int64)
    loads["load_households"] = loads["load_households"].astype(np.int64)
    loads["load_share"] = np.where(cap > 0, loads["load_people"] / np.where(cap > 0, cap, 1), 0.0)
    return loads


def _flows(placed: pd.DataFrame) -> pd.DataFrame:
    """Households, people and cost from each origin to each site."""
    flows = (placed.groupby(["origin_id", "site_id"], sort=True)
             .agg(households=("household_id", "size"), people=("members", "sum"),
                  cost_per_person=("cost_per_person", "first")).reset_index())
    flows["cost"] = flows["people"] * flows["cost_per_person"]
    return flows


def _unplaced_note(left: pd.DataFrame, unassigned: pd.DataFrame, placed_people: int,
                   total_people: int, cap: NDArray[np.float64]) -> str:
    """Warn about and return the note on households that stay unassigned."""
    msg = (f"relocation: {placed_people} of {total_people} people placed; "
           f"{len(left)} households ({int(left['members'].sum())} people) from "
           f"{len(unassigned)} origins stay unassigned (site capacity "
           f"{int(cap.sum())} people); they are listed in the plan's unassigned table — "
           "add receiving sites or raise capacities (sites: in relocation.yaml or in "
           "the relocation: section of --config)")
    warn_data(msg, logger=logger)
    return msg


def _unassigned(left: pd.DataFrame, reachable: pd.Series) -> pd.DataFrame:
    """Households and people left per origin, and why (``reachable``: any site offered)."""
    unassigned = (left.groupby("origin_id", sort=True)
                  .agg(households=("household_id", "size"), people=("members", "sum"))
                  .reset_index())
    unassigned["why"] = np.where(unassigned["origin_id"].map(reachable).fillna(False).astype(bool),
                                 "not enough site capacity", "no site within reach")
    return unassigned


def _not_optimal_note(solver: SolverReport, time_limit_s: float) -> str:
    """Log and return the note that the plan is not proven optimal (gap, bounds, fix)."""
    gap = "unknown" if solver.mip_gap is None else f"{solver.mip_gap:.2%}"
    what = ("the best plan HiGHS found" if solver.method == "milp" else
            "a greedy plan (largest households first, cheapest site with room)")
    bounds = []
    if solver.people_bound is not None:
        bounds.append(f"at most {solver.people_bound:,.0f} people can be placed")
    if solver.cost_bound is not None:
        bounds.append(f"cost at least {solver.cost_bound:,.0f}")
    msg = (f"relocation assignment: not solved to optimality within the time limit of "
           f"{time_limit_s:g} s; using {what} (optimality gap {gap}"
           f"{'; bounds: ' + ', '.join(bounds) if bounds else ''}); raise "
           "assignment.time_limit_s in relocation.yaml or in the relocation: section of "
           "--config for a better plan")
    logger.warning(msg)
    return msg
