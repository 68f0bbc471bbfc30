"""Choose road projects under a budget: lazy greedy (CELF) or exact enumeration.

Objective
---------
The *poor-weighted access gain* of a set of projects ``S`` is::

    gain(S) = Σ_villages poor_pop_i × (t_i(∅) − t_i(S))

with ``t_i`` the travel time in minutes from village ``i`` to its own township seat
(:mod:`contigmap.network.criticality` defines it), evaluated exactly with the
incremental engine (:class:`contigmap.network.access_model.AccessModel`); a village that
becomes reachable counts ``unreachable_min`` minutes (default 240). ``weight="pop"``
weighs by people instead.

Candidates
----------
From a table (``project_id``, ``road_ids`` — a list or ``;``-separated text —,
optional ``cost_cny``, ``to_surface``, ``to_class``) or generated
(:func:`route_projects`): for each village, every unpaved edge on its shortest path to
its township seat is hardened (``surface: paved``; footpaths become village roads), one
project per village route. Costs come from the priority stage's cost model
(``priorities.yaml``: hardening / new road CNY per km by terrain class).

Methods
-------
``celf``
    Cost-benefit greedy with lazy re-evaluation (CELF; Leskovec, Krause, Guestrin,
    Faloutsos, VanBriesen and Glance 2007, "Cost-effective outbreak detection in
    networks", KDD): repeatedly add the affordable project with the largest marginal
    gain per CNY, re-evaluating a project's stale marginal gain only when it reaches
    the top of the queue (valid because, for submodular gains, marginal gains only
    shrink). The result is the better of that greedy set and the best single
    affordable project; for a *monotone submodular* objective this is at least
    ``(1 − 1/e) / 2 ≈ 0.316`` of the optimum (Leskovec et al. 2007, Theorem 2).
    Access gains are monotone (upgrades never lengthen a path) but **not always
    submodular**: two projects that each harden half of one route can be worth more
    together than apart (complements), and then lazy evaluation may also skip a
    project whose marginal gain grew. What is guaranteed then: every chosen project
    is affordable, the list is in order of choice with each project's true marginal
    gain at the time it was added (re-evaluated on the current network), and the set
    is at least as good as the best single project.
``exact``
    Exhaustive enumeration of every affordable subset (at most ``max_exact`` projects,
    default 16; 2^16 evaluations), exact for any objective, complements included. An
    integer program would need the gains of all project combinations linearised,
    which is the same enumeration; enumeration is simpler and as exact.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.errors import ConfigError, ValidationError
from contigmap.network.access_model import AccessModel
from contigmap.network.build import RoadGraph
from contigmap.network.criticality import own_seat_model
from contigmap.network.edgetimes import EdgeChange
from contigmap.network.speeds import Season
from contigmap.priority.config import load_priority_config
from contigmap.raster import Raster
from contigmap.roadworks import RoadCosts
from contigmap.schema import ROAD_CLASSES, SURFACES

__all__ = ["choose_projects", "optimise_projects", "project_gain_function", "route_projects"]

logger = logging.getLogger(__name__)

GainFn = Callable[[frozenset[int]], float]


def choose_projects(
    gain: GainFn,
    costs: Sequence[float],
    budget: float,
    *,
    method: str = "celf",
    max_exact: int = 16,
    commit: Callable[[int], None] | None = None,
) -> list[tuple[int, float, float]]:
    """Choose projects maximising ``gain`` within ``budget``.

    Parameters
    ----------
    gain
        Gain of a set of project indices (``gain(frozenset()) == 0``).
    costs
        Cost of each project.
    budget
        Total budget.
    method
        ``celf`` (lazy cost-benefit greedy + best single project) or ``exact``.
    max_exact
        Largest number of projects ``exact`` accepts.
    commit
        Called with each project greedy adds (lets ``gain`` keep an updated network).

    Returns
    -------
    list of tuple
        ``(project, marginal_gain, cumulative_cost)`` in the order chosen.
    """
    c = np.asarray(costs, dtype=float)
    n = c.size
    if method == "exact":
        if n > max_exact:
            msg = (f"optimiser: 'exact' enumerates 2^n subsets; {n} projects is more than "
                   f"max_exact={max_exact}; use method='celf' or fewer candidates")
            raise ValidationError(msg)
        best: tuple[float, tuple[int, ...]] = (0.0, ())
        for k in range(1, n + 1):
            for combo in itertools.combinations(range(n), k):
                if c[list(combo)].sum() <= budget + 1e-9:
                    g = gain(frozenset(combo))
                    if g > best[0] + 1e-12:
                        best = (g, combo)
        return _ordered(gain, c, best[1])
    if method != "celf":
        msg = f"optimiser: unknown method '{method}'; use 'celf' or 'exact'"
        raise ConfigError(msg)
    chosen: list[tuple[int, float, float]] = []
    current: frozenset[int] = frozenset()
    spent = 0.0
    base = 0.0
    single = {i: gain(frozenset([i])) for i in range(n) if c[i] <= budget}
    heap = [(-(g / max(c[i], 1e-12)), i, 0) for i, g in single.items()]
    heapq.heapify(heap)
    rnd = 0
    while heap:
        neg, i, stamp = heapq.heappop(heap)
        if spent + c[i] > budget + 1e-9:
            continue
        if stamp != rnd:
            g = gain(current | {i}) - base
            heapq.heappush(heap, (-(g / max(c[i], 1e-12)), i, rnd))
            continue
        marginal = -neg * max(c[i], 1e-12)
        if marginal <= 0:
            break
        current = current | {i}
        spent += c[i]
        base += marginal
        chosen.append((i, marginal, spent))
        if commit is not None:
            commit(i)
        rnd += 1
    if single:
        top = max(single, key=lambda k: (single[k], -k))
        if single[top] > base + 1e-12:
            return [(top, single[top], float(c[top]))]
    return chosen


def _ordered(gain: GainFn, c: NDArray[np.float64], combo: tuple[int, ...]
             ) -> list[tuple[int, float, float]]:
    """Order an exact set greedily by marginal gain per cost, with true marginal gains."""
    left = set(combo)
    out: list[tuple[int, float, float]] = []
    cur: frozenset[int] = frozenset()
    base, spent = 0.0, 0.0
    while left:
        scores = {i: (gain(cur | {i}) - base) for i in left}
        i = max(left, key=lambda k: (scores[k] / max(float(c[k]), 1e-12), -k))
        cur = cur | {i}
        base += scores[i]
        spent += float(c[i])
        out.append((i, scores[i], spent))
        left.remove(i)
    return out


def route_projects(
    model: AccessModel,
    names: NDArray[np.object_],
    villages: gpd.GeoDataFrame,
    *,
    costs: RoadCosts | None = None,
    dem: Raster | None = None,
) -> pd.DataFrame:
    """One project per village: harden the unpaved edges on its route to its township seat.

    Returns
    -------
    pandas.DataFrame
        ``project_id``, ``village_id``, ``edges`` (list), ``road_ids``, ``length_m``,
        ``cost_cny``; villages whose route is already paved get no project.
    """
    from contigmap.scenario.apply import road_terrain

    costs = costs or load_priority_config().roads.costs
    g = model.graph
    rows = []
    geoms = g.edges_gdf().geometry.to_numpy()
    terrain = road_terrain(geoms, dem, costs)
    harden = np.array([getattr(costs.harden_cny_per_km, str(t)) for t in terrain])
    build = np.array([getattr(costs.new_road_cny_per_km, str(t)) for t in terrain])
    drivable = np.isfinite(g.drive_dry_min)
    for i in range(len(villages)):
        if model.v_edge[i] < 0:
            continue
        route = _route_edges(model, str(names[i]), i)
        route = route[~g.hardened[route]]
        if route.size == 0:
            continue
        km = g.length_m[route] / 1000.0
        cost = float(np.where(drivable[route], harden[route], build[route]) @ km)
        rows.append({"project_id": f"route-{villages['village_id'].iloc[i]}",
                     "village_id": villages["village_id"].iloc[i],
                     "edges": route.tolist(),
                     "road_ids": ";".join(sorted({str(r) for r in g.road_id[route]})),
                     "length_m": float(g.length_m[route].sum()), "cost_cny": cost})
    return pd.DataFrame(rows, columns=["project_id", "village_id", "edges", "road_ids",
                                       "length_m", "cost_cny"])


def _route_edges(model: AccessModel, query: str, i: int) -> NDArray[np.int64]:
    """Edges of village ``i``'s shortest path to the targets of ``query`` (its own edge too)."""
    g = model.graph
    sp = model.sp[query]
    e = int(model.v_edge[i])
    via_u = model.v_cb[i] + sp.dist[g.u[e]]
    via_v = (model.fwd[e] - model.v_cf[i]) + sp.dist[g.v[e]]
    node = int(g.u[e]) if via_u <= via_v else int(g.v[e])
    if not np.isfinite(min(via_u, via_v)):
        return np.zeros(0, np.int64)
    out = [e]
    while sp.pred[node] >= 0 and sp.pred[node] != model.n:
        prev = int(sp.pred[node])
        # the arc prev -> node of the reversed graph is travel node -> prev: edge(s) between
        cand = np.flatnonzero(((g.u == node) & (g.v == prev)) | ((g.u == prev) & (g.v == node)))
        w = np.where(g.u[cand] == node, model.fwd[cand], model.bwd[cand])
        out.append(int(cand[np.argmin(w)]))
        node = prev
    return np.unique(np.asarray(out, dtype=np.int64))


def project_gain_function(
    model: AccessModel,
    names: NDArray[np.object_],
    weights: NDArray[np.float64],
    projects: list[EdgeChange],
    *,
    unreachable_min: float = 240.0,
    reference: bool = False,
) -> tuple[GainFn, Callable[[int], None]]:
    """Gain function and commit hook for :func:`choose_projects` over an access model.

    ``gain(S)`` is the weighted travel-time reduction of the projects in ``S`` on top of
    the projects committed so far, plus the committed gain (so it is the gain of
    ``S`` ∪ committed from the baseline when ``S`` contains the committed projects).

    Each village counts toward its own query only, so each query is evaluated on its
    own villages (:meth:`AccessModel.evaluate` with ``villages``), and a query the
    projects provably cannot reach costs no shortest-path work and adds exactly 0.
    ``reference=True`` evaluates every query by a full recompute instead
    (:meth:`AccessModel.evaluate_full`; slow, for checks and benchmarks); both give the
    same floats.
    """
    queries = [q for q in np.unique(names).tolist() if q in model.queries]
    # each query only matters for its own villages: evaluate those alone, which lets the
    # model skip, exactly, every query a project provably cannot reach
    sel = {q: np.flatnonzero(names == q).astype(np.int64) for q in queries}
    wsel = {q: np.asarray(weights, dtype=float)[sel[q]] for q in queries}
    committed: set[int] = set()
    offset = [0.0]

    def total(times: dict[str, NDArray[np.float64]], ref: dict[str, NDArray[np.float64]]
              ) -> float:
        out = 0.0
        for q, a in times.items():
            b = ref[q]
            with np.errstate(invalid="ignore"):
                d = np.where(np.isfinite(b), b, unreachable_min) - np.where(
                    np.isfinite(a), a, unreachable_min)
            out += float((wsel[q] * d).sum())
        return out

    current = {q: model.times(q)[sel[q]] for q in queries}

    def merge(s: frozenset[int]) -> EdgeChange | None:
        extra = [projects[k] for k in sorted(s) if k not in committed]
        if not extra:
            return None
        if len(extra) == 1:
            return extra[0]
        return EdgeChange(np.concatenate([p.edges for p in extra]),
                          np.concatenate([p.road_class for p in extra]),
                          np.concatenate([p.surface for p in extra]),
                          np.concatenate([p.closed for p in extra]))

    def gain(s: frozenset[int]) -> float:
        ch = merge(s)
        if ch is None:
            return offset[0]
        if reference:
            return offset[0] + total(model.evaluate_full(ch, names=queries, villages=sel),
                                     current)
        # queries proved unchanged add exactly 0.0: leave them out
        return offset[0] + total(model.evaluate(ch, names=queries, villages=sel,
                                                skip_unchanged=True), current)

    def commit(k: int) -> None:
        ch = merge(frozenset([k]))
        if ch is None:
            return
        before = dict(current)
        model.commit(ch)
        committed.add(k)
        for q in queries:
            current[q] = model.times(q)[sel[q]]
        offset[0] += total(current, before)

    return gain, commit


def optimise_projects(
    graph: RoadGraph,
    villages: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    budget_cny: float,
    candidates: pd.DataFrame | None = None,
    method: str = "celf",
    weight: str = "poor_pop",
    season: Season | None = None,
    costs: RoadCosts | None = None,
    dem: Raster | None = None,
    max_exact: int = 16,
    unreachable_min: float = 240.0,
) -> pd.DataFrame:
    """Choose road projects that maximise poor-weighted access gain within a budget.

    Parameters
    ----------
    graph
        The road graph.
    villages
        ``village_id``, ``township_id`` and the ``weight`` column (``pop`` when absent).
    services
        Services with township seats.
    budget_cny
        The budget.
    candidates
        Candidate projects (module docstring); generated with :func:`route_projects`
        when omitted.
    method
        ``celf`` or ``exact``.
    weight
        ``poor_pop`` or ``pop``.
    season, costs, dem, max_exact, unreachable_min
        Travel-time season (the graph's settings' when omitted), cost parameters (pass
        the run's ``settings.priorities.roads.costs``; the packaged defaults when
        omitted), DEM for terrain classes, enumeration limit, minutes an unreachable
        village counts for.

    Returns
    -------
    pandas.DataFrame
        The chosen projects in order: ``order``, ``project_id``, ``cost_cny``,
        ``marginal_gain`` (weighted minutes), ``cumulative_cost_cny``,
        ``cumulative_gain``, ``gain_per_million_cny``, ``road_ids``.
    """
    model, names = own_seat_model(graph, villages, services, season=season or graph.params.season)
    if candidates is None:
        candidates = route_projects(model, names, villages, costs=costs, dem=dem)
    cand = _candidate_changes(graph, candidates, costs=costs, dem=dem)
    col = weight if weight in villages.columns else "pop"
    w = villages[col].astype(float).fillna(0.0).to_numpy() if col in villages else np.ones(
        len(villages))
    gain, commit = project_gain_function(model, names, w, cand["change"].tolist(),
                                         unreachable_min=unreachable_min)
    picked = choose_projects(gain, cand["cost_cny"].astype(float).tolist(), budget_cny,
                             method=method, max_exact=max_exact,
                             commit=commit if method == "celf" else None)
    rows = []
    total = 0.0
    for order, (k, g, spent) in enumerate(picked, start=1):
        total += g
        rows.append({"order": order, "project_id": cand["project_id"].iloc[k],
                     "cost_cny": float(cand["cost_cny"].iloc[k]), "marginal_gain": g,
                     "cumulative_cost_cny": spent, "cumulative_gain": total,
                     "gain_per_million_cny": g / max(float(cand["cost_cny"].iloc[k]), 1e-9) * 1e6,
                     "road_ids": cand["road_ids"].iloc[k]})
    logger.info("optimiser (%s): %d of %d projects, %.0f CNY of %.0f, gain %.0f", method,
                len(rows), len(cand), rows[-1]["cumulative_cost_cny"] if rows else 0.0,
                budget_cny, total)
    return pd.DataFrame(rows, columns=["order", "project_id", "cost_cny", "marginal_gain",
                                       "cumulative_cost_cny", "cumulative_gain",
                                       "gain_per_million_cny", "road_ids"])


def _candidate_changes(graph: RoadGraph, candidates: pd.DataFrame, *,
                       costs: RoadCosts | None, dem: Raster | None) -> pd.DataFrame:
    """Turn a candidate table into :class:`EdgeChange` objects with costs."""
    need = {"project_id"}
    if not need <= set(candidates.columns) or not (
            {"edges", "road_ids"} & set(candidates.columns)):
        msg = ("candidates: need 'project_id' and 'road_ids' (a list or ';'-separated ids) "
               "or 'edges'")
        raise ValidationError(msg)
    rid = pd.Index(np.asarray(graph.road_id, dtype=object).astype(str))
    out: list[dict[str, Any]] = []
    paved = SURFACES.index("paved")
    village = ROAD_CLASSES.index("village")
    path = ROAD_CLASSES.index("path")
    records: list[dict[str, Any]] = candidates.to_dict(orient="records")  # type: ignore[assignment]
    for k, rec in enumerate(records):
        if "edges" in rec and rec["edges"] is not None and len(rec["edges"]):
            edges = np.asarray(rec["edges"], dtype=np.int64)
        else:
            ids = rec["road_ids"]
            ids = [s.strip() for s in ids.split(";")] if isinstance(ids, str) else list(ids)
            mask = np.isin(rid, [str(x) for x in ids])
            missing = sorted(set(map(str, ids)) - set(rid[mask]))
            if missing:
                msg = (f"candidates: row {k} ({rec['project_id']}): road id '{missing[0]}' is "
                       f"not in the road graph")
                raise ValidationError(msg)
            edges = np.flatnonzero(mask).astype(np.int64)
        srf = SURFACES.index(str(rec.get("to_surface") or "paved"))
        cls_default = np.where(graph.road_class[edges] == path, village, -1)
        cls = (np.full(edges.size, ROAD_CLASSES.index(str(rec["to_class"])))
               if rec.get("to_class") else cls_default)
        ch = EdgeChange(edges, cls.astype(np.int64), np.full(edges.size, srf, np.int64),
                        np.zeros(edges.size, bool))
        cost = rec.get("cost_cny")
        if cost is None or not np.isfinite(float(cost)):
            from contigmap.scenario.apply import road_terrain

            cst = costs or load_priority_config().roads.costs
            geoms = graph.edges_gdf().geometry.to_numpy()[edges]
            ter = road_terrain(geoms, dem, cst)
            unit = np.array([getattr(cst.harden_cny_per_km, str(t)) for t in ter])
            cost = float(unit @ (graph.length_m[edges] / 1000.0))
        out.append({"project_id": rec["project_id"], "change": ch, "cost_cny": float(cost),
                    "road_ids": ";".join(sorted({str(r) for r in graph.road_id[edges]})),
                    "paved": paved})
    return pd.DataFrame(out)
