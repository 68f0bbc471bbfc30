"""The live path of ``contigmap serve``: upgrades, closures and new roads, incrementally.

:class:`LiveModel` keeps, for the served region's baseline graph, one
:class:`contigmap.network.access_model.AccessModel` per season (the rainy one built on
first use) with a query per township seat (``seat:<township_id>``, the first seat by
``service_id`` as :func:`contigmap.network.access_measures` picks it) and one for the
county seats. A scenario of upgrades and closures of roads named by id becomes one
:class:`~contigmap.network.edgetimes.EdgeChange` and is evaluated exactly by the
incremental shortest paths of Ramalingam and Reps (1996)
(:func:`contigmap.network.incremental.update_distances`): the same per-village minutes to
the own township seat and the county seat as :func:`contigmap.scenario.evaluate_scenario`
on the saved YAML (which rebuilds the graph), to rounding.

The flags the headline numbers need are updated too, with the definitions of
:mod:`contigmap.network.access`: ``isolated`` (component of the open network),
``hardened_to_township`` (nearest hardened road within ``hardened_leg_max_m`` at both
ends, same hardened component; the candidate roads of each village and seat are listed
once) and ``all_season_2km`` (a road newly all-season within ``rai_distance_m`` of a
village that had none). The cost comes from :func:`contigmap.scenario.apply_scenario` on
the referenced roads only (the same rows, the same prices and the same validation).

New roads between junctions are new edges (:mod:`contigmap.serve.livebuild`).

Not incremental (:meth:`LiveModel.reason` names why; the caller evaluates in full):
bus lines (a walking measure from the stops, not a change of the driving times),
``params:``, selections other than road ids, a road that the graph holds no edge of (a
dropped duplicate), a closure of the road a village or a seat is joined to (in the
rebuilt graph it joins another road), and the new roads
:func:`contigmap.serve.livebuild.end_nodes` and
:func:`~contigmap.serve.livebuild.prepare_new_roads` refuse.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from contigmap.errors import DataQualityWarning
from contigmap.io.region import RegionData
from contigmap.network.access_model import AccessModel
from contigmap.network.edgetimes import EdgeChange
from contigmap.network.snap import snap_points
from contigmap.roadworks import RoadCosts
from contigmap.scenario import AppliedScenario, Baseline, apply_scenario
from contigmap.scenario.model import BuildChange, CloseChange, Scenario, UpgradeChange
from contigmap.schema import HARDENED_SURFACES, ROAD_CLASSES, SURFACES
from contigmap.serve.livebuild import NewRoads, end_nodes, prepare_new_roads, times_with_new_roads

__all__ = ["ANSWER_COLUMNS", "LiveModel", "LiveResult"]

logger = logging.getLogger(__name__)

#: Minutes of travel-time reduction to the own township seat that count as a gain
#: (:func:`contigmap.scenario.evaluate_scenario`'s ``gain_min``).
GAIN_MIN = 5.0
_COUNTY = "county"
#: The per-village columns of an answer (:attr:`LiveResult.villages`): what the editor's
#: payload and the compare view read; a full evaluation's table is cut down to them.
ANSWER_COLUMNS = ("village_id", "name", "pop", "poor_pop", "tt_own_township_seat_min_base",
                  "tt_own_township_seat_min", "tt_county_seat_min_base",
                  "tt_county_seat_min", "lost_access", "gains")
_HARD_CODES = [SURFACES.index(s) for s in HARDENED_SURFACES]


@dataclass
class LiveResult:
    """An answer of the live path, read like a :class:`contigmap.scenario.ScenarioResult`.

    Attributes
    ----------
    villages
        Per village: ``village_id``, ``name``, ``pop``, ``poor_pop``,
        ``tt_own_township_seat_min`` and ``tt_county_seat_min`` (scenario) with their
        ``_base`` columns, ``lost_access`` and ``gains``.
    summary
        ``poor_gaining``, ``pop_gaining``, ``pop_lost_access``, ``villages_lost_access``,
        ``cost_cny``, ``cost_per_poor_gaining_cny``.
    engine
        ``incremental`` (this module) or ``full`` (:func:`evaluate_scenario`).
    """

    villages: pd.DataFrame
    summary: dict[str, Any]
    engine: str = "incremental"


def _xy(gdf: Any) -> NDArray[np.float64]:
    g = gdf.geometry
    if len(g) and not (g.geom_type == "Point").all():
        g = g.representative_point()
    return np.column_stack([g.x.to_numpy(float), g.y.to_numpy(float)])


def _own_seat_rows(services: Any, township: NDArray[np.object_]) -> NDArray[np.int64]:
    """Per village the row of its township's seat in ``services`` (``-1``: none).

    The first seat by ``service_id`` per township, as :func:`contigmap.network.access_measures`.
    """
    kinds = np.asarray(services["kind"], dtype=object)
    rows = np.flatnonzero(kinds == "township_seat")
    seat_of: dict[str, int] = {}
    if "township_id" in services.columns and rows.size:
        sel = services.iloc[rows].assign(_pos=rows).sort_values("service_id")
        for t, p in zip(sel["township_id"].astype(str), sel["_pos"], strict=True):
            seat_of.setdefault(t, int(p))
    return np.array([seat_of.get(str(t), -1) for t in township], dtype=np.int64)


def _near_pairs(tree: shapely.STRtree, geoms: NDArray[Any], xy: NDArray[np.float64],
                radius: float) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                        NDArray[np.float64]]:
    """``(point, edge, distance)`` of every edge within ``radius`` of each point."""
    pts = shapely.points(xy)
    if pts.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    p, e = tree.query(pts, predicate="dwithin", distance=radius)
    d = shapely.distance(pts[p], geoms[e])
    return p.astype(np.int64), e.astype(np.int64), np.asarray(d, dtype=float)


def _labels(n: int, u: NDArray[np.int64], v: NDArray[np.int64],
            mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    adj = coo_matrix((np.ones(int(mask.sum())), (u[mask], v[mask])), shape=(n, n))
    _, lab = connected_components(adj, directed=False)
    return np.asarray(lab, dtype=np.int64)


@dataclass(eq=False)
class LiveModel:
    """The served baseline, ready to evaluate upgrades and closures incrementally.

    Build it with :meth:`build`; :meth:`reason` says whether a scenario can go this way
    and :meth:`evaluate` answers it.
    """

    data: RegionData
    baseline: Baseline
    costs: RoadCosts
    xy: NDArray[np.float64]
    names: NDArray[np.object_]
    seat_row: NDArray[np.int64]
    edges_of: dict[str, NDArray[np.int64]]
    hard_pairs: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]
    as_pairs: tuple[NDArray[np.int64], NDArray[np.int64]]
    queries: dict[str, Any]
    models: dict[str, AccessModel] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict, repr=False)
    exact: bool = True
    """The baseline's times agree with ``evaluate_scenario``'s (checked in :meth:`build`)."""

    @classmethod
    def build(cls, data: RegionData, baseline: Baseline, costs: RoadCosts) -> LiveModel:
        """Join villages and seats to the baseline graph and run the baseline's searches."""
        g = baseline.graph
        b = baseline.villages
        services = data.services
        assert services is not None
        xy = _xy(b)
        seat_row = _own_seat_rows(services, b["township_id"].to_numpy(object))
        sxy = _xy(services)
        queries: dict[str, Any] = {}
        for r in np.unique(seat_row[seat_row >= 0]).tolist():
            queries[f"seat:{r}"] = sxy[r][None, :]
        county = np.flatnonzero(np.asarray(services["kind"], dtype=object) == "county_seat")
        if county.size:
            queries[_COUNTY] = sxy[county]
        names = np.array([f"seat:{r}" if r >= 0 else "" for r in seat_row], dtype=object)
        order = np.argsort(np.asarray(g.road_id, dtype=str), kind="stable")
        rid = np.asarray(g.road_id, dtype=str)[order]
        cut = np.flatnonzero(np.r_[True, rid[1:] != rid[:-1], True])
        edges_of = {str(rid[a]): np.sort(order[a:z]) for a, z in itertools.pairwise(cut)}
        geoms = np.asarray(g.edges_gdf().geometry.values)
        tree = shapely.STRtree(geoms)
        p = g.params
        # villages and their own seats: candidate hardened roads within the leg limit
        seat_xy = np.where(seat_row[:, None] >= 0, sxy[np.maximum(seat_row, 0)], np.nan)
        pts = np.vstack([xy, seat_xy[seat_row >= 0]]) if len(xy) else xy
        hard_pairs = _near_pairs(tree, geoms, pts, p.hardened_leg_max_m)
        # villages without an all-season road near: candidate roads within the RAI distance
        lack = np.flatnonzero(~b["all_season_2km"].to_numpy(bool))
        ap, ae, _ = _near_pairs(tree, geoms, xy[lack], p.rai_distance_m)
        model = cls(data=data, baseline=baseline, costs=costs, xy=xy, names=names,
                    seat_row=seat_row, edges_of=edges_of, hard_pairs=hard_pairs,
                    as_pairs=(lack[ap], ae), queries=queries)
        model.exact = model._check()
        model.warm_up()
        return model

    def warm_up(self) -> None:
        """Run one no-op upgrade so that the first edit finds the skip bounds computed.

        :meth:`AccessModel.evaluate` proves most queries unchanged with per-query bounds
        (one Dijkstra each, cached on first use); computing them here moves that cost
        from the first edit to the start, as does the road layer's spatial index.
        """
        g = self.baseline.graph
        _ = self.data.roads.sindex  # new roads' ends: the scenario's nearest line
        if g.n_edges:
            m = self.model(self.baseline.season)
            m.evaluate(EdgeChange.upgrade([0], int(g.road_class[0]), int(g.surface[0])))

    # ------------------------------------------------------------------ models
    def model(self, season: str) -> AccessModel:
        """Return the season's :class:`AccessModel` (built on first use)."""
        if season not in self.models:
            self.models[season] = AccessModel.build(self.baseline.graph, self.xy, self.queries,
                                                    season=season)
        return self.models[season]

    def _times(self, per_q: dict[str, NDArray[np.float64]]
               ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        own = np.full(self.names.size, np.nan)
        for q, t in per_q.items():
            sel = self.names == q
            own[sel] = t[sel]
        county = per_q.get(_COUNTY, np.full(self.names.size, np.nan))
        return own, county

    def _check(self) -> bool:
        """Whether the baseline's times equal the served baseline's (1e-6 min, reachability)."""
        m = self.model(self.baseline.season)
        own, county = self._times({q: m.times(q) for q in m.queries})
        b = self.baseline.villages
        ok = True
        for mine, col in ((own, "tt_own_township_seat_min"), (county, "tt_county_seat_min")):
            ref = b[col].to_numpy(float)
            same = np.isfinite(mine) == np.isfinite(ref)
            fin = np.isfinite(ref) & same
            if not same.all() or np.abs(mine[fin] - ref[fin]).max(initial=0.0) > 1e-6:
                logger.warning("serve: the incremental model's %s differs from the baseline; "
                               "every edit is evaluated in full", col)
                ok = False
        hard = self._hardened(self.baseline.graph.hardened)
        if not np.array_equal(hard, b["hardened_to_township"].to_numpy(bool)):
            logger.warning("serve: hardened connectivity differs from the baseline's; every "
                           "edit is evaluated in full")
            ok = False
        return ok

    # ------------------------------------------------------------------ eligibility
    def reason(self, sc: Scenario) -> str | None:
        """Why ``sc`` must be evaluated in full (``None``: it can go incrementally)."""
        if not self.exact:
            return "the incremental model does not reproduce the baseline"
        if sc.params.overrides():
            return "params: change the network settings"
        for ch in sc.changes:
            if isinstance(ch, BuildChange):
                continue
            if not isinstance(ch, UpgradeChange | CloseChange):
                return f"a {ch.type} change (bus lines are evaluated in full)"
            if ch.roads is None:
                return f"a {ch.type} by selection (only roads named by id go incrementally)"
            missing = [r for r in ch.roads if str(r) not in self.edges_of]
            if missing:
                return f"road {missing[0]} has no edge of its own in the graph"
        closed = self._edges([ch for ch in sc.changes if isinstance(ch, CloseChange)])
        if closed.size:
            m = self.model(self.baseline.season)
            if np.isin(m.v_edge, closed).any() or np.isin(m.t_edge, closed).any():
                return "a closure of a road a village or a seat is joined to"
        self.memo.pop("pending", None)
        if any(isinstance(ch, BuildChange) for ch in sc.changes):
            return self._prepare_builds(sc, closed)
        return None

    def _prepare_builds(self, sc: Scenario, closed: NDArray[np.int64]) -> str | None:
        """Check and build the new roads of ``sc`` as new edges (kept for :meth:`evaluate`)."""
        g = self.baseline.graph
        county = self.data.boundaries.get("county")
        res = end_nodes(g, self.memo, sc, self.data.roads,
                        county is not None and len(county) > 0)
        if isinstance(res, str):
            return res
        nodes, at = res
        if np.isin(at, closed).all():
            return "a new road ending where every road is closed"
        applied = self._apply_sub(sc, g.road_row[at])
        ids = [f"new-{sc.name}-{i}" for i, ch in enumerate(sc.changes)
               if isinstance(ch, BuildChange)]
        rows = applied.roads[applied.roads["road_id"].isin(ids)]
        nr = prepare_new_roads(g, nodes, ids, rows, self.data.dem, self.memo["incidence"])
        if isinstance(nr, str):
            return nr
        if "seat_dist" not in self.memo:
            sxy = np.vstack(list(self.queries.values()))
            self.memo["seat_xy"] = sxy
            self.memo["seat_dist"] = snap_points(g, sxy).dist_m
        if nr.nearer(self.memo["seat_xy"], self.memo["seat_dist"])[0].size:
            return "a new road nearer to a seat than its road"
        self.memo["pending"] = (sc, applied.cost_cny, nr)
        return None

    def _edges(self, changes: list[Any]) -> NDArray[np.int64]:
        ids = [str(r) for ch in changes for r in ch.roads]
        if not ids:
            return np.zeros(0, np.int64)
        return np.unique(np.concatenate([self.edges_of[r] for r in ids]))

    def edge_change(self, sc: Scenario) -> EdgeChange:
        """Return the upgrades and closures as one change of the baseline graph's edges."""
        g = self.baseline.graph
        cls_now = g.road_class.astype(np.int64).copy()
        srf_now = g.surface.astype(np.int64).copy()
        closed = np.zeros(g.n_edges, bool)
        touched = np.zeros(g.n_edges, bool)
        for ch in sc.changes:
            if not isinstance(ch, UpgradeChange | CloseChange):
                continue  # new roads: :mod:`contigmap.serve.livebuild`
            e = self._edges([ch])
            touched[e] = True
            if isinstance(ch, CloseChange):
                closed[e] = True
                continue
            assert isinstance(ch, UpgradeChange)
            if ch.to.road_class is not None:
                cls_now[e] = ROAD_CLASSES.index(ch.to.road_class)
            if ch.to.surface is not None:
                srf_now[e] = SURFACES.index(ch.to.surface)
        e = np.flatnonzero(touched).astype(np.int64)
        return EdgeChange(e, cls_now[e], srf_now[e], closed[e])

    # ------------------------------------------------------------------ flags
    def _nearest_hardened(self, hard: NDArray[np.bool_], changed: NDArray[np.int64] | None,
                          extra: tuple[Any, Any, Any] | None = None) -> NDArray[np.int64]:
        """Per point (villages, then their seats): the nearest hardened edge within reach.

        The lowest distance, then the lowest edge index, among the point's candidate
        edges in ``hard`` (``-1``: none). With ``changed`` (edges whose hardness differs
        from the baseline's, or new), only the points with one of them among their
        candidates are searched again; the others keep the baseline's edge. ``extra``:
        candidate pairs of new edges (numbered after the graph's).
        """
        p, e, d = self.hard_pairs
        n_pts = self.xy.shape[0] + int((self.seat_row >= 0).sum())
        if changed is None:
            sel = np.flatnonzero(hard[e])
            edge = np.full(n_pts, -1, np.int64)
        else:
            # boolean gathers over the (many) candidate pairs, not np.isin's sorts
            edge = self.memo["hard_edge"].copy()
            cmask = np.zeros(hard.size, bool)
            cmask[changed] = True
            redo = np.zeros(n_pts, bool)
            redo[p[cmask[e]]] = True
            if extra is not None:
                redo[extra[0][cmask[extra[1]]]] = True
            edge[redo] = -1
            sel = np.flatnonzero(redo[p] & hard[e])
            if extra is not None:
                xs = np.flatnonzero(redo[extra[0]] & hard[extra[1]])
                p, e, d = (np.concatenate([a[sel], b[xs]]) for a, b in zip((p, e, d), extra,
                                                                           strict=True))
                sel = np.arange(p.size)
        ps, es, ds = p[sel], e[sel], d[sel]
        order = np.lexsort((es, ds, ps))
        ps, es = ps[order], es[order]
        first = np.ones(ps.size, bool)
        first[1:] = ps[1:] != ps[:-1]
        edge[ps[first]] = es[first]
        return edge

    def _hardened(self, hard: NDArray[np.bool_], changed: NDArray[np.int64] | None = None,
                  ext: tuple[Any, Any, Any] | None = None) -> NDArray[np.bool_]:
        """``hardened_to_township`` per village for a hardened-edge mask.

        ``ext``: the edge ends with the new edges appended and their candidate pairs.
        """
        g = self.baseline.graph
        nv = self.xy.shape[0]
        u, v, extra = ext if ext is not None else (g.u, g.v, None)
        edge = self._nearest_hardened(hard, changed, extra)
        if changed is None:
            self.memo["hard_edge"] = edge
        lab = _labels(g.n_nodes, u, v, hard)
        pl = np.where(edge >= 0, lab[u[np.maximum(edge, 0)]], -1)
        seat_pl = np.full(nv, -1, np.int64)
        has = self.seat_row >= 0
        seat_pl[has] = pl[nv:]
        return np.asarray((pl[:nv] >= 0) & (seat_pl >= 0) & (pl[:nv] == seat_pl), dtype=bool)

    def _hard_xy(self) -> NDArray[np.float64]:
        """Return the points of :attr:`hard_pairs`: villages, then each village's own seat."""
        if "hard_xy" not in self.memo:
            sxy = _xy(self.data.services)
            has = self.seat_row >= 0
            self.memo["hard_xy"] = np.vstack([self.xy, sxy[self.seat_row[has]]])
        out: NDArray[np.float64] = self.memo["hard_xy"]
        return out

    def _flags(self, ch: EdgeChange, nr: NewRoads | None = None,
               join: tuple[Any, Any, Any] | None = None) -> dict[str, NDArray[np.bool_]]:
        """``newly_hardened``, ``newly_all_season_2km`` and ``isolated`` after ``ch``.

        With new roads ``nr``, their edges count too (numbered after the graph's) and
        ``join`` ``(villages, joins, distances)`` re-joins the villages now nearest them.
        """
        g = self.baseline.graph
        b = self.baseline.villages
        nv, ne = self.xy.shape[0], int(g.n_edges)
        p = g.params
        hard0 = b["hardened_to_township"].to_numpy(bool)
        hard = g.hardened.copy()
        hard[ch.edges] = np.isin(ch.surface, _HARD_CODES) & ~ch.closed
        flipped = np.flatnonzero(hard != g.hardened)
        u, v, extra = g.u, g.v, None
        newly_as = np.zeros(nv, bool)
        if nr is not None:
            u, v = np.concatenate([g.u, nr.a]), np.concatenate([g.v, nr.b])
            hard = np.concatenate([hard, nr.graph.hardened])
            hp, he, hd = nr.near(self._hard_xy(), p.hardened_leg_max_m, nr.graph.hardened)
            extra = (hp, he + ne, hd)
            flipped = np.concatenate([flipped, ne + np.flatnonzero(nr.graph.hardened)])
            lack = np.flatnonzero(~b["all_season_2km"].to_numpy(bool))
            ap, _, _ = nr.near(self.xy[lack], p.rai_distance_m, nr.graph.all_season)
            newly_as[lack[ap]] = True
        newly_hard = np.zeros(nv, bool)
        if flipped.size:
            newly_hard = self._hardened(hard, flipped, (u, v, extra)) & ~hard0
        now_as = p.all_season_table()[ch.road_class, ch.surface] & ~ch.closed
        gained = np.zeros(ne, bool)
        gained[ch.edges] = now_as & ~g.all_season[ch.edges]
        av, ae = self.as_pairs
        newly_as[av[gained[ae]]] = True
        iso = b["isolated"].to_numpy(bool)
        if ch.closed.any() or nr is not None:
            iso = self._isolated(ch, u, v, nr, join)
        return {"newly_hardened": newly_hard, "newly_all_season_2km": newly_as,
                "isolated": iso}

    def _isolated(self, ch: EdgeChange, u: NDArray[np.int64], v: NDArray[np.int64],
                  nr: NewRoads | None, join: tuple[Any, Any, Any] | None
                  ) -> NDArray[np.bool_]:
        """``isolated`` per village on the open network (baseline edges, then new ones)."""
        g = self.baseline.graph
        b = self.baseline.villages
        nc = np.asarray(g.node_component)
        if not ch.closed.any() and nr is not None and (nc[nr.a] == nc[nr.b]).all():
            lab = nc  # new roads within components: the baseline's components
        else:
            open_ = np.ones(u.size, bool)
            open_[ch.edges[ch.closed]] = False
            lab = _labels(g.n_nodes, u, v, open_)
        m = self.model(self.baseline.season)
        ve = m.v_edge
        comp = np.where(ve >= 0, lab[g.u[np.maximum(ve, 0)]], -1)
        dist = b["dist_road_m"].to_numpy(float).copy()
        if nr is not None and join is not None:
            vi, j, d = join
            comp[vi] = lab[nr.a[j.edge]]
            dist[vi] = d
        far = dist > g.params.isolated_distance_m
        if _COUNTY in m.queries:
            te = m.t_edge[m.queries[_COUNTY][0]]
            main = int(lab[g.u[te]]) if te >= 0 else -1
        else:
            main = int(np.bincount(lab).argmax()) if lab.size else 0
        return np.asarray(far | (comp != main), dtype=bool)

    # ------------------------------------------------------------------ evaluation
    def cost(self, sc: Scenario) -> float:
        """Return the cost (and validation) of :func:`apply_scenario` on the named roads."""
        pending = self.memo.get("pending")
        if pending is not None and pending[0] is sc:
            return float(pending[1])
        return self._apply_sub(sc, np.zeros(0, np.int64)).cost_cny

    def _apply_sub(self, sc: Scenario, rows: NDArray[np.int64]) -> AppliedScenario:
        """Return :func:`apply_scenario` on the named roads and the roads at ``rows``.

        Only those roads are handed over (plus one other, so that a scenario closing all
        of them is not taken for one closing the whole region); a new road's ends join
        the roads at its end nodes, as in the whole layer.
        """
        roads = self.data.roads
        ids = {str(r) for ch in sc.changes if isinstance(ch, UpgradeChange | CloseChange)
               for r in (ch.roads or ())}
        if "rid" not in self.memo:
            self.memo["rid"] = pd.Index(roads["road_id"].astype(str))
        keep = np.asarray(self.memo["rid"].isin(ids), dtype=bool).copy()
        keep[rows] = True
        spare = np.flatnonzero(~keep)
        if spare.size:
            keep[spare[0]] = True
        sub = replace(self.data, roads=roads[keep])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            return apply_scenario(sub, sc, costs=self.costs)

    def evaluate(self, sc: Scenario) -> LiveResult:
        """Per-village times, flags and headline numbers of an upgrade / closure scenario."""
        cost = self.cost(sc)
        pending = self.memo.get("pending")
        nr = pending[2] if pending is not None and pending[0] is sc else None
        season = sc.season or self.baseline.season
        ch = self.edge_change(sc)
        m = self.model(season)
        join = None
        if nr is not None:
            vi, dist = nr.nearer(self.xy, self.baseline.villages["dist_road_m"].to_numpy(float))
            join = (vi, nr.joins(self.xy[vi], m.mode, m.season), dist)
            per_q = times_with_new_roads(m, ch, nr, join[:2])
        else:
            per_q = (m.evaluate(ch) if ch.edges.size
                     else {q: m.times(q) for q in m.queries})
        own, county = self._times(per_q)
        fl = self._flags(ch, nr, join)
        b = self.baseline.villages
        old_own = b["tt_own_township_seat_min"].to_numpy(float)
        iso0 = b["isolated"].to_numpy(bool)
        out = pd.DataFrame({
            "village_id": b["village_id"].to_numpy(),
            "name": b["name"].to_numpy() if "name" in b else b["village_id"].to_numpy(),
            "pop": b["pop"].to_numpy(float), "poor_pop": b["poor_pop"].to_numpy(float),
            "tt_own_township_seat_min_base": old_own, "tt_own_township_seat_min": own,
            "tt_county_seat_min_base": b["tt_county_seat_min"].to_numpy(float),
            "tt_county_seat_min": county})
        lost = (np.isfinite(old_own) & ~np.isfinite(own)) | (fl["isolated"] & ~iso0)
        faster = np.nan_to_num(old_own - own, nan=0.0, posinf=np.inf,
                               neginf=-np.inf) >= GAIN_MIN
        gains = faster | fl["newly_hardened"] | fl["newly_all_season_2km"]
        out["lost_access"], out["gains"] = lost, gains
        pop, poor = out["pop"].to_numpy(float), out["poor_pop"].to_numpy(float)
        summary: dict[str, Any] = {
            "poor_gaining": float(poor[gains].sum()), "pop_gaining": float(pop[gains].sum()),
            "pop_lost_access": float(pop[lost].sum()), "villages_lost_access": int(lost.sum()),
            "cost_cny": cost}
        summary["cost_per_poor_gaining_cny"] = (cost / summary["poor_gaining"]
                                                if summary["poor_gaining"] > 0 else float("nan"))
        return LiveResult(out, summary)
