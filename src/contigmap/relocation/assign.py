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

Households of one origin may be split across sites when capacities force it. Keeping
each origin whole would need one binary per origin and site (an unsplittable-flow MILP);
instead the number of origins split is reported (``origins_split``) — a basic optimal
solution of a transportation problem splits at most ``sites − 1`` of them.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix, vstack

from contigmap.errors import DataQualityWarning, ValidationError
from contigmap.poverty import NATIONAL_HOUSEHOLD_SIZE

__all__ = ["Assignment", "assign_households", "households_from_counts"]

logger = logging.getLogger(__name__)


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
        Plain-language messages (capacity shortfalls, unreachable origins).
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


def _solve(c: np.ndarray, a: csr_matrix, lo: np.ndarray, hi: np.ndarray,
           ub: np.ndarray) -> np.ndarray:
    res = milp(c, constraints=LinearConstraint(a, lo, hi), integrality=np.ones(c.size),
               bounds=Bounds(np.zeros(c.size), ub),
               options={"mip_rel_gap": 0.0, "presolve": True})
    if res.x is None:  # pragma: no cover - the model is always feasible (x = 0, u = n)
        msg = f"relocation assignment: the solver failed ({res.message})"
        raise ValidationError(msg)
    return np.asarray(np.round(res.x), dtype=np.int64)


def assign_households(
    households: pd.DataFrame,
    capacity_people: pd.Series,
    cost_per_person: pd.DataFrame,
) -> Assignment:
    """Assign whole households to sites at least total cost (exact MILP).

    Parameters
    ----------
    households
        ``household_id``, ``origin_id`` and ``members`` (people, integer ≥ 1).
    capacity_people
        Site capacity in people, indexed by site id.
    cost_per_person
        Cost per person of moving from each origin (index) to each site (columns);
        ``inf`` or ``nan`` where the site is not offered to that origin.

    Returns
    -------
    Assignment
        The optimal plan; households that cannot be placed are listed as unassigned
        (a :class:`~contigmap.errors.DataQualityWarning` says how many and why).

    Raises
    ------
    ValidationError
        Missing columns, non-positive household sizes, or an origin without a cost row.
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
        # phase 1: most people placed
        x1 = _solve(-people_weight, a, lo, hi, ub)
        best_people = float(people_weight @ x1)
        # phase 2: least cost among plans placing that many
        cost_vec = np.concatenate([g_size[gi] * gc[gi, si], np.zeros(n_g)])
        a2 = vstack([a, csr_matrix(people_weight[None, :])]).tocsr()
        sol = _solve(cost_vec, a2, np.append(lo, best_people - 0.5), np.append(hi, np.inf), ub)
    else:
        sol = np.concatenate([np.zeros(0, np.int64), g_n])
    x = sol[:nx]

    # households: fill each group's households in id order, sites in their given order
    hh = hh.sort_values(["origin_id", "members", "household_id"], kind="stable")
    site_of = np.full(len(hh), None, dtype=object)
    cost_of = np.full(len(hh), np.nan)
    key_to_rows = {k: np.asarray(v) for k, v in hh.groupby(["origin_id", "members"],
                                                           sort=False).indices.items()}
    order = np.lexsort((si, gi))
    pos_in_group = np.zeros(n_g, np.int64)
    for j in order:
        if x[j] <= 0:
            continue
        g = gi[j]
        rows_g = key_to_rows[(groups["origin_id"].iloc[g], int(g_size[g]))]
        take = rows_g[pos_in_group[g]: pos_in_group[g] + x[j]]
        site_of[take] = site_ids[si[j]]
        cost_of[take] = gc[g, si[j]]
        pos_in_group[g] += x[j]
    hh["site_id"] = site_of
    hh["cost_per_person"] = cost_of
    hh = hh.sort_index()
    placed = hh[hh["site_id"].notna()]
    flows = (placed.groupby(["origin_id", "site_id"], sort=True)
             .agg(households=("household_id", "size"), people=("members", "sum"),
                  cost_per_person=("cost_per_person", "first")).reset_index())
    flows["cost"] = flows["people"] * flows["cost_per_person"]
    load = placed.groupby("site_id").agg(load_people=("members", "sum"),
                                         load_households=("household_id", "size"))
    loads = pd.DataFrame({"site_id": pd.Series(site_ids, dtype=object),
                          "capacity_people": cap.astype(np.int64)})
    loads = loads.join(load, on="site_id").fillna({"load_people": 0, "load_households": 0})
    loads["load_people"] = loads["load_people"].astype(np.int64)
    loads["load_households"] = loads["load_households"].astype(np.int64)
    loads["load_share"] = np.where(cap > 0, loads["load_people"] / np.where(cap > 0, cap, 1), 0.0)
    left = hh[hh["site_id"].isna()]
    reachable = pd.Series(np.isfinite(costs).any(axis=1) if n_s else np.zeros(len(costs), bool),
                          index=cost_per_person.index)
    unassigned = (left.groupby("origin_id", sort=True)
                  .agg(households=("household_id", "size"), people=("members", "sum"))
                  .reset_index())
    unassigned["why"] = np.where(unassigned["origin_id"].map(reachable).fillna(False).astype(bool),
                                 "not enough site capacity", "no site within reach")
    notes: list[str] = []
    total_people = int(hh["members"].sum())
    placed_people = int(placed["members"].sum())
    if len(left):
        msg = (f"relocation: {placed_people} of {total_people} people placed; "
               f"{len(left)} households ({int(left['members'].sum())} people) from "
               f"{len(unassigned)} origins stay unassigned (site capacity "
               f"{int(cap.sum())} people); they are listed in the plan's unassigned table — "
               "add receiving sites or raise capacities in relocation.yaml")
        notes.append(msg)
        logger.warning(msg)
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
    split = int((flows.groupby("origin_id").size() > 1).sum()) if len(flows) else 0
    total_cost = float(flows["cost"].sum()) if len(flows) else 0.0
    logger.info("relocation assignment: %d households, %d people placed at %d sites, cost %.1f, "
                "%d origins split", len(placed), placed_people,
                int((loads["load_people"] > 0).sum()), total_cost, split)
    return Assignment(households=hh, flows=flows, loads=loads, unassigned=unassigned,
                      total_cost=total_cost, people_assigned=placed_people,
                      people_unassigned=total_people - placed_people, origins_split=split,
                      notes=notes)
