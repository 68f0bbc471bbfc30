"""Travel times from villages to target sets, updated exactly after road changes.

:class:`AccessModel` joins villages and target points (township seats, services) to a
road graph and keeps, per query (a set of targets), one shortest-path forest from a
super-source on the reversed graph (:mod:`contigmap.network.incremental`). A road change
(:class:`~contigmap.network.edgetimes.EdgeChange`: a new class or surface, or a
closure) re-times the changed edges
with the graph's own formulas (:mod:`contigmap.network.edgetimes`, as
:func:`contigmap.network.access_measures` uses them), becomes arc changes per query and
is evaluated with :func:`contigmap.network.incremental.update_distances`; most
(change, query) pairs are first proved unchanged (:mod:`contigmap.network.skipbound`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from contigmap.network._access_joins import (
    TargetJoins,
    by_edge,
    join_points,
    super_arcs,
    village_best,
)
from contigmap.network._csr import csr_from_arrays
from contigmap.network.edgetimes import EdgeChange, partial_at, retime_edge
from contigmap.network.incremental import (
    ArcChanges,
    ShortestPaths,
    patch_csr,
    propagate_decreases,
    shortest_paths,
    update_distances,
)
from contigmap.network.skipbound import Arcs, may_change, node_slack, shortened_arcs
from contigmap.network.topology import node_pairs

__all__ = ["AccessModel"]


@dataclass(eq=False)
class AccessModel:
    """Travel times from villages to target sets on a road graph, updatable exactly.

    Each *query* is a set of target points (services); its distances are one Dijkstra
    from a super-source joined to the target points' edges (offset: the time along the
    edge and the target's walking leg) on the reversed road graph, so that
    ``dist[x]`` is the time from node ``x`` to the nearest target. A village's time is
    its walking leg plus the better of its two edge ends (time along its edge plus the
    end's distance), or the time along the edge when a target shares it — the same
    definition as :meth:`contigmap.network.Attachment.times_to_nearest`.

    Edge changes (:class:`EdgeChange`: new class / surface, or closure) become arc
    changes per query (the edge's two arcs, super-source arcs of targets on it) and are
    evaluated with :func:`update_distances`. A village on a *closed* edge keeps only the
    nearer of the edge's ends (the failure is taken to lie on the farther side).
    """

    graph: Any
    mode: str
    season: str
    fwd: NDArray[np.float64]
    bwd: NDArray[np.float64]
    v_edge: NDArray[np.int64]
    v_tin: NDArray[np.float64]
    v_cf: NDArray[np.float64]
    v_cb: NDArray[np.float64]
    t_edge: NDArray[np.int64]
    t_out: NDArray[np.float64]
    t_cf: NDArray[np.float64]
    t_cb: NDArray[np.float64]
    queries: dict[str, NDArray[np.int64]]
    sp: dict[str, ShortestPaths]
    road_class: NDArray[np.int64]
    surface: NDArray[np.int64]
    closed: NDArray[np.bool_]
    v_pos: list[tuple[int, float]] = field(default_factory=list)
    t_pos: list[tuple[int, float]] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    counts: dict[str, int] = field(default_factory=lambda: {"skipped": 0, "propagated": 0,
                                                            "general": 0}, repr=False)
    """Queries :meth:`evaluate` answered: proved unchanged (``skipped``), by the direct
    decrease propagation (``propagated``) or by :func:`update_distances` (``general``)."""

    @property
    def n(self) -> int:
        """Road-graph node count (the super-source is node ``n``)."""
        return int(self.graph.n_nodes)

    # ------------------------------------------------------------------ edge times
    def _edge_state(self, e: int, cls_code: int, srf_code: int, closed: bool) -> dict[str, Any]:
        """Season / mode times of edge ``e`` (totals and the per-segment dry minutes)."""
        memo: dict[tuple[int, int, int, bool], dict[str, Any]] = self.cache.setdefault(
            "state", {})
        key = (e, cls_code, srf_code, closed)
        if key not in memo:
            memo[key] = retime_edge(self.graph, e, cls_code, srf_code, closed,
                                    self.mode, self.season)  # type: ignore[arg-type]
        return memo[key]

    def _partial(self, st: dict[str, Any], seg: int, t: float) -> tuple[float, float]:
        """``(u → join, join → u)`` minutes along an edge in its state ``st``."""
        return partial_at(st, seg, t, self.mode, self.season)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(
        cls,
        graph: Any,
        villages_xy: ArrayLike,
        queries: dict[str, ArrayLike],
        *,
        mode: str = "vehicle",
        season: str = "dry",
    ) -> AccessModel:
        """Join villages and target points to ``graph`` and run each query's Dijkstra.

        Parameters
        ----------
        graph
            The road graph (:class:`contigmap.network.RoadGraph`).
        villages_xy
            ``(V, 2)`` village points.
        queries
            Name → ``(T, 2)`` target points (e.g. ``{"seat:433124102": [[x, y]]}``).
        mode, season
            Travel mode and season (as :meth:`RoadGraph.edge_times`).
        """
        vxy = np.asarray(villages_xy, dtype=float).reshape(-1, 2)
        names = list(queries)
        txy_list = [np.asarray(queries[k], dtype=float).reshape(-1, 2) for k in names]
        sizes = [t.shape[0] for t in txy_list]
        txy = np.vstack([vxy, *txy_list]) if txy_list else vxy
        fwd, bwd, _ = graph.edge_times(mode, season)
        model = cls(
            graph=graph, mode=mode, season=season, fwd=np.array(fwd, dtype=float),
            bwd=np.array(bwd, dtype=float),
            v_edge=np.zeros(0, np.int64), v_tin=np.zeros(0), v_cf=np.zeros(0),
            v_cb=np.zeros(0), t_edge=np.zeros(0, np.int64), t_out=np.zeros(0),
            t_cf=np.zeros(0), t_cb=np.zeros(0), queries={}, sp={},
            road_class=graph.road_class.astype(np.int64).copy(),
            surface=graph.surface.astype(np.int64).copy(),
            closed=np.zeros(graph.n_edges, bool),
        )
        j = join_points(graph, txy, mode, season, lambda e: model._edge_state(
            e, int(model.road_class[e]), int(model.surface[e]), False))
        nv = vxy.shape[0]
        model.v_pos, model.t_pos = j.pos[:nv], j.pos[nv:]
        model.v_edge, model.v_tin, model.v_cf, model.v_cb = (j.edge[:nv], j.t_in[:nv],
                                                             j.cf[:nv], j.cb[:nv])
        model.t_edge, model.t_out = j.edge[nv:], j.t_out[nv:]
        model.t_cf, model.t_cb = j.cf[nv:], j.cb[nv:]
        start = 0
        for name, size in zip(names, sizes, strict=True):
            model.queries[name] = np.arange(start, start + size, dtype=np.int64)
            start += size
        model._rebuild()
        return model

    def _csr(self, name: str) -> csr_matrix:
        g = self.graph
        nodes, w = super_arcs(g, self.queries[name], self.t_edge, self.t_out, self.bwd, self.t_cf,
                              self.t_cb)
        rows = np.concatenate([g.v, g.u, np.full(nodes.size, self.n, np.int64)])
        cols = np.concatenate([g.u, g.v, nodes])
        ws = np.concatenate([self.fwd, self.bwd, w])
        return csr_from_arrays(rows.astype(np.int64), cols.astype(np.int64), ws, self.n + 1)

    def _rebuild(self) -> None:
        for key in ("times", "bounds", "focus"):  # "multi" stays: the topology is fixed
            self.cache.pop(key, None)
        for name in self.queries:
            self.sp[name] = shortest_paths(self._csr(name), self.n)

    # ------------------------------------------------------------------ evaluation
    def _village_best(self, name: str, dist_at: Any, v_cf: NDArray[np.float64],
                      v_cb: NDArray[np.float64], fwd: NDArray[np.float64],
                      t_cf: NDArray[np.float64], t_cb: NDArray[np.float64],
                      near_only: NDArray[np.bool_] | None = None,
                      idx: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        """Minutes from each village's join point to the nearest target (no walking leg).

        ``idx`` selects villages (all when ``None``); the values are the same floats
        whichever villages are selected (:func:`._access_joins.village_best`).
        """
        if idx is None:
            v_edge, cf, cb = self.v_edge, v_cf, v_cb
            near = near_only
        else:
            v_edge, cf, cb = self.v_edge[idx], v_cf[idx], v_cb[idx]
            near = near_only[idx] if near_only is not None else None
        targets = TargetJoins(on_edge=self._on_edge_targets(name),
                              edge_mask=self._target_edges(name), edge=self.t_edge,
                              out=self.t_out, cf=t_cf, cb=t_cb)
        return village_best(self.graph, v_edge, cf, cb, fwd, self.bwd, dist_at, near, targets)

    def _target_edges(self, name: str) -> NDArray[np.bool_]:
        """Per edge: a target of query ``name`` is joined to it (cached)."""
        memo: dict[str, NDArray[np.bool_]] = self.cache.setdefault("tmask", {})
        if name not in memo:
            mask = np.zeros(int(self.graph.n_edges), bool)
            mask[self.t_edge[self._on_edge_targets(name)]] = True
            memo[name] = mask
        return memo[name]

    def _on_edge_targets(self, name: str) -> NDArray[np.int64]:
        """Targets of query ``name`` joined to an edge (cached)."""
        memo: dict[str, NDArray[np.int64]] = self.cache.setdefault("tg", {})
        if name not in memo:
            tg = self.queries[name]
            memo[name] = tg[self.t_edge[tg] >= 0]
        return memo[name]

    def _village_times(self, name: str, dist_at: Any, v_cf: NDArray[np.float64],
                       v_cb: NDArray[np.float64], fwd: NDArray[np.float64],
                       t_cf: NDArray[np.float64], t_cb: NDArray[np.float64],
                       near_only: NDArray[np.bool_] | None = None,
                       idx: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        best = self._village_best(name, dist_at, v_cf, v_cb, fwd, t_cf, t_cb, near_only, idx)
        v_edge = self.v_edge if idx is None else self.v_edge[idx]
        v_tin = self.v_tin if idx is None else self.v_tin[idx]
        out = np.where(v_edge >= 0, v_tin + best, np.inf)
        return np.asarray(out, dtype=float)

    def times(self, name: str) -> NDArray[np.float64]:
        """Baseline minutes from every village to the nearest target of query ``name``."""
        return self._baseline_times(name).copy()

    def _times(self, name: str) -> NDArray[np.float64]:
        sp = self.sp[name]
        return self._village_times(name, lambda q: sp.dist[q], self.v_cf, self.v_cb, self.fwd,
                                   self.t_cf, self.t_cb, self._near_only(self.closed))

    def _near_only(self, closed: NDArray[np.bool_]) -> NDArray[np.bool_]:
        return np.asarray(closed[np.maximum(self.v_edge, 0)] & (self.v_edge >= 0), dtype=bool)

    def _apply(self, change: EdgeChange) -> dict[str, Any]:
        """Return new per-edge arrays and join partials after ``change`` (copies)."""
        fwd, bwd = self.fwd.copy(), self.bwd.copy()
        v_cf, v_cb = self.v_cf.copy(), self.v_cb.copy()
        t_cf, t_cb = self.t_cf.copy(), self.t_cb.copy()
        road_class, surface = self.road_class.copy(), self.surface.copy()
        closed = self.closed.copy()
        vsnap = self.cache_snap()
        for k, e in enumerate(change.edges.tolist()):
            c = int(change.road_class[k]) if change.road_class[k] >= 0 else int(road_class[e])
            s = int(change.surface[k]) if change.surface[k] >= 0 else int(surface[e])
            road_class[e], surface[e] = c, s
            closed[e] = closed[e] or bool(change.closed[k])
            st = self._edge_state(e, c, s, bool(closed[e]))
            fwd[e], bwd[e] = st["fwd"], st["bwd"]
            open_st = self._edge_state(e, c, s, False)
            for i in vsnap["v"].get(e, []):
                v_cf[i], v_cb[i] = self._partial(open_st, *vsnap["vpos"][i])
            for j in vsnap["t"].get(e, []):
                t_cf[j], t_cb[j] = self._partial(open_st, *vsnap["tpos"][j])
        return {"fwd": fwd, "bwd": bwd, "v_cf": v_cf, "v_cb": v_cb, "t_cf": t_cf, "t_cb": t_cb,
                "road_class": road_class, "surface": surface, "closed": closed}

    def cache_snap(self) -> dict[str, Any]:
        """Return the joins per edge (villages and targets) with their ``(seg, t)``."""
        if "snap" not in self.cache:
            self.cache["snap"] = {"v": by_edge(self.v_edge), "t": by_edge(self.t_edge),
                                  "vpos": self.v_pos, "tpos": self.t_pos}
        out: dict[str, Any] = self.cache["snap"]
        return out

    def arc_changes(self, name: str, change: EdgeChange,
                    state: dict[str, Any] | None = None) -> ArcChanges:
        """Arc changes of query ``name`` for an edge change."""
        st = state if state is not None else self._apply(change)
        g = self.graph
        e = change.edges
        tails = [g.v[e], g.u[e]]
        heads = [g.u[e], g.v[e]]
        ws = [st["fwd"][e], st["bwd"][e]]
        # parallel edges: an arc keeps the best of all edges between its two nodes
        pair_w = self._pair_min(e, st["fwd"], st["bwd"])
        if pair_w is not None:
            ws = pair_w
        tg = self.queries[name]
        on = tg[np.isin(self.t_edge[tg], e)]
        if on.size:
            nodes_all, w_all = super_arcs(g, tg, self.t_edge, self.t_out, st["bwd"], st["t_cf"],
                                          st["t_cb"])
            touched = np.unique(np.concatenate([g.u[self.t_edge[on]], g.v[self.t_edge[on]]]))
            keep = np.isin(nodes_all, touched)
            best = {int(x): np.inf for x in touched}
            for x, w in zip(nodes_all[keep].tolist(), w_all[keep].tolist(), strict=True):
                best[x] = min(best[x], w)
            tails.append(np.full(len(best), self.n, np.int64))
            heads.append(np.fromiter(best.keys(), np.int64, len(best)))
            ws.append(np.fromiter(best.values(), float, len(best)))
        return ArcChanges.of(np.concatenate(tails), np.concatenate(heads), np.concatenate(ws))

    def _pair_min(self, e: NDArray[np.int64], fwd: NDArray[np.float64],
                  bwd: NDArray[np.float64]) -> list[NDArray[np.float64]] | None:
        g = self.graph
        if "pairs" not in self.cache:
            key, multi = self._node_pairs()
            groups: dict[int, list[int]] = {}
            for k in np.flatnonzero(multi).tolist():
                groups.setdefault(int(key[k]), []).append(k)
            self.cache["pairs"] = (key, groups)
        key, groups = self.cache["pairs"]
        if not groups or not np.isin(key[e], list(groups)).any():
            return None
        w1, w2 = fwd[e].copy(), bwd[e].copy()
        for k, ed in enumerate(e.tolist()):
            grp = groups.get(int(key[ed]))
            if not grp:
                continue
            # arc v_e -> u_e carries travel u_e -> v_e
            a = [fwd[o] if g.u[o] == g.u[ed] else bwd[o] for o in grp]
            b = [bwd[o] if g.u[o] == g.u[ed] else fwd[o] for o in grp]
            w1[k], w2[k] = min(a), min(b)
        return [w1, w2]

    def _untouched(self, name: str, change: EdgeChange, st: dict[str, Any]) -> bool:
        """Whether ``change`` leaves query ``name``'s node distances as they are.

        True when no changed arc improves a distance (``D[a] + w' < D[b]``), no changed
        arc is a tree arc (``pred[b] == a``) and no target sits on a changed edge.
        """
        g = self.graph
        sp = self.sp[name]
        e = change.edges
        u, v = g.u[e], g.v[e]
        d = sp.dist
        with np.errstate(invalid="ignore"):
            if np.any(d[v] + st["fwd"][e] < d[u]) or np.any(d[u] + st["bwd"][e] < d[v]):
                return False
        if np.any(sp.pred[u] == v) or np.any(sp.pred[v] == u):
            return False
        tg = self.queries[name]
        return not bool(np.isin(self.t_edge[tg], e).any())

    # ------------------------------------------------------------------ exact skips
    def _bound(self, name: str, idx: NDArray[np.int64]
               ) -> tuple[NDArray[np.float64], float, float]:
        """Slack of every node toward the selected villages of query ``name`` (cached).

        Returns ``(m, tol, tau_max)`` with ``m[b] = min_y (dist(b → y) − τ_y)`` over the
        edge ends ``y`` of the villages ``idx`` (distances on the query's reversed graph, i.e.
        travel from ``y`` to ``b``), where ``τ_y`` is the largest new distance of ``y``
        that cannot shorten any selected village's time (its current time minus the time
        along its edge from ``y``); ``−inf`` where ``b`` reaches an end of an
        unreachable village. ``tol`` is the margin :meth:`_may_change` keeps against
        floating-point rounding, and ``tau_max`` the largest ``τ_y`` (``inf`` if one is).
        One multi-source Dijkstra on the transposed graph (super-source arcs
        ``C − τ_y ≥ 0``, ``C = max τ``).
        """
        memo: dict[tuple[str, bytes], tuple[NDArray[np.float64], float, float]] = (
            self.cache.setdefault("bounds", {}))
        key = (name, idx.tobytes())
        if key in memo:
            return memo[key]
        g = self.graph
        sp = self.sp[name]
        best = self._village_best(name, lambda q: sp.dist[q], self.v_cf, self.v_cb, self.fwd,
                                  self.t_cf, self.t_cb, self._near_only(self.closed), idx)
        on = self.v_edge[idx] >= 0
        vi = idx[on]
        e = self.v_edge[vi]
        b = best[on]
        y = np.concatenate([g.u[e], g.v[e]]).astype(np.int64)
        with np.errstate(invalid="ignore"):
            tau = np.concatenate([b - self.v_cb[vi], b - (self.fwd[e] - self.v_cf[vi])])
        out = node_slack(sp, y, tau)
        memo[key] = out
        return out

    def _decrease_arcs(self, change: EdgeChange, st: dict[str, Any]) -> Arcs | None:
        """Return the road arcs ``change`` shortens (:func:`.skipbound.shortened_arcs`).

        ``None`` when ``change`` closes an edge or lengthens an arc (no skip then).
        """
        if change.closed.any():
            return None
        g = self.graph
        e = change.edges
        return shortened_arcs(g.u[e], g.v[e], np.concatenate([self.fwd[e], self.bwd[e]]),
                              np.concatenate([st["fwd"][e], st["bwd"][e]]),
                              bool(self._multi_edges()[e].any()), self.n)

    def _may_change(self, names: list[str], idxs: list[NDArray[np.int64]],
                    change: EdgeChange, arcs: Arcs,
                    focus: dict[str, Any] | None = None) -> NDArray[np.bool_]:
        """Per query: whether a decrease-only ``change`` can change a selected village's time.

        ``False`` is a proof (:func:`~contigmap.network.skipbound.may_change`) that the
        times of villages ``idxs[k]`` for query ``names[k]`` stay exactly as they are.
        All queries are tested at once on stacked arrays (``focus``, from
        :meth:`_focus` when not given).
        """
        info = self._focus(names, idxs) if focus is None else focus
        return may_change(info, change.edges, arcs)

    def affects(self, change: EdgeChange, name: str,
                villages: ArrayLike | None = None) -> bool:
        """Whether ``change`` may change the times of ``villages`` for query ``name``.

        ``False`` is exact: evaluated in full, ``change`` leaves those villages' times
        as they are, bit for bit (:meth:`_may_change` gives the proof; it applies to
        upgrades and new speeds, changes that only shorten arcs). ``True`` means the
        cheap test could not rule a change out (a closure always answers ``True``).

        Parameters
        ----------
        change
            The edge change.
        name
            The query.
        villages
            Village indices (all villages when ``None``).
        """
        idx = (np.arange(self.v_edge.size, dtype=np.int64) if villages is None
               else np.asarray(villages, dtype=np.int64).ravel())
        arcs = self._decrease_arcs(change, self._apply(change))
        return arcs is None or bool(self._may_change([name], [idx], change, arcs)[0])

    def _focus(self, names: list[str], idxs: list[NDArray[np.int64]]) -> dict[str, Any]:
        """Stacked per-query arrays for :meth:`_may_change` (cached per selection).

        ``dist`` and ``m`` (queries × nodes), ``tol`` and ``stop`` (per query: the
        distance from which a propagation can no longer change a selected village,
        ``max τ + tol``) and ``edges`` (queries × edges: a selected village or a target
        of the query is on the edge).
        """
        memo: dict[tuple[tuple[str, bytes], ...], dict[str, Any]] = self.cache.setdefault(
            "focus", {})
        key = tuple((q, i.tobytes()) for q, i in zip(names, idxs, strict=True))
        if key not in memo:
            ne = int(self.graph.n_edges)
            edges = np.zeros((len(names), ne), bool)
            ms, tols, stops = [], [], []
            for k, (q, idx) in enumerate(zip(names, idxs, strict=True)):
                m, tol, tau_max = self._bound(q, idx)
                ms.append(m)
                tols.append(tol)
                stops.append(tau_max + tol)
                ve = self.v_edge[idx]
                edges[k, ve[ve >= 0]] = True
                edges[k, self.t_edge[self._on_edge_targets(q)]] = True
            memo[key] = {"m": np.vstack(ms), "tol": np.asarray(tols, dtype=float),
                         "stop": stops,
                         "dist": np.vstack([self.sp[q].dist for q in names]), "edges": edges}
        out: dict[str, Any] = memo[key]
        return out

    def _node_pairs(self) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """Per edge: its node-pair key and whether another edge joins the same nodes."""
        if "multi" not in self.cache:
            self.cache["multi"] = node_pairs(self.graph.u, self.graph.v, self.n)
        out: tuple[NDArray[np.int64], NDArray[np.bool_]] = self.cache["multi"]
        return out

    def _multi_edges(self) -> NDArray[np.bool_]:
        """Per edge: another edge joins the same two nodes (cached)."""
        return self._node_pairs()[1]

    def evaluate(self, change: EdgeChange, names: list[str] | None = None, *,
                 villages: dict[str, NDArray[np.int64]] | None = None,
                 skip_unchanged: bool = False,
                 ) -> dict[str, NDArray[np.float64]]:
        """Village minutes per query after ``change`` (exact; the model is not modified).

        Parameters
        ----------
        change
            The edge change.
        names
            Queries to evaluate (all when ``None``).
        villages
            Per query, the village indices wanted (all villages for a query absent from
            it, or when ``None``); the result for that query then holds those villages
            only, in that order. A query whose selected villages an upgrade provably
            cannot reach (:meth:`_may_change`) is answered from the baseline without
            any shortest-path work.
        skip_unchanged
            Leave such queries out of the result (their times are the baseline's,
            :meth:`times`).

        Returns
        -------
        dict
            Query name → minutes per (selected) village.
        """
        st = self._apply(change)
        near = self._near_only(st["closed"])
        arcs = self._decrease_arcs(change, st)
        qnames = list(names) if names is not None else list(self.queries)
        picks = [np.asarray(villages[q], dtype=np.int64).ravel()
                 if villages is not None and q in villages else None for q in qnames]
        may = np.ones(len(qnames), bool)
        stops = [np.inf] * len(qnames)
        simple: dict[int, dict[int, float]] | None = None
        if arcs is not None:
            all_idx = np.arange(self.v_edge.size, dtype=np.int64)
            sel_idx = [i if i is not None else all_idx for i in picks]
            focus = self._focus(qnames, sel_idx)
            may = self._may_change(qnames, sel_idx, change, arcs, focus)
            stops = focus["stop"]
            if may.any() and not self._multi_edges()[change.edges].any():
                # arcs of single edges only shorten: propagate them directly
                simple = {}
                for a, b, w in zip(arcs[0].tolist(), arcs[1].tolist(), arcs[2].tolist(),
                                   strict=True):
                    simple.setdefault(a, {})[b] = w
        out: dict[str, NDArray[np.float64]] = {}
        for name, idx, maybe, stop in zip(qnames, picks, may.tolist(), stops, strict=True):
            if not maybe:
                self.counts["skipped"] += 1
                if skip_unchanged:
                    continue
                base = self._baseline_times(name)
                out[name] = base[idx] if idx is not None else base.copy()
                continue
            if (simple is not None and arcs is not None
                    and not self._target_edges(name)[change.edges].any()):
                self.counts["propagated"] += 1
                out[name] = self._propagated_times(name, arcs, simple, stop, st, near, idx)
                continue
            self.counts["general"] += 1
            out[name] = self._general_times(name, change, st, near, idx)
        return out

    def _propagated_times(self, name: str, arcs: Arcs, simple: dict[int, dict[int, float]],
                          stop: float, st: dict[str, Any], near: NDArray[np.bool_],
                          idx: NDArray[np.int64] | None) -> NDArray[np.float64]:
        """Village times after shortened arcs of single edges, by direct propagation."""
        sp = self.sp[name]
        new: dict[int, float] = {}
        # nothing at or beyond ``stop`` can change a selected village
        propagate_decreases(sp, ArcChanges(arcs[0], arcs[1], arcs[2]), simple, new, stop)
        dist = sp.dist
        if new:
            dist = dist.copy()
            dist[np.fromiter(new.keys(), np.int64, len(new))] = np.fromiter(
                new.values(), float, len(new))
        return self._village_times(name, dist.__getitem__, st["v_cf"], st["v_cb"],
                                   st["fwd"], st["t_cf"], st["t_cb"], near, idx)

    def _general_times(self, name: str, change: EdgeChange, st: dict[str, Any],
                       near: NDArray[np.bool_], idx: NDArray[np.int64] | None
                       ) -> NDArray[np.float64]:
        """Village times after any change, by :func:`update_distances` when needed."""
        sp = self.sp[name]
        if self._untouched(name, change, st):
            if not np.isin(self.v_edge if idx is None else self.v_edge[idx],
                           change.edges).any():
                base = self._baseline_times(name)
                return base[idx] if idx is not None else base.copy()
            return self._village_times(name, lambda q: sp.dist[q], st["v_cf"], st["v_cb"],
                                       st["fwd"], st["t_cf"], st["t_cb"], near, idx)
        up = update_distances(sp, self.arc_changes(name, change, st))
        return self._village_times(name, up.at, st["v_cf"], st["v_cb"], st["fwd"],
                                   st["t_cf"], st["t_cb"], near, idx)

    def _baseline_times(self, name: str) -> NDArray[np.float64]:
        """Return the memoised baseline times (not a copy: callers index or copy it)."""
        memo: dict[str, NDArray[np.float64]] = self.cache.setdefault("times", {})
        if name not in memo:
            memo[name] = self._times(name)
        return memo[name]

    def evaluate_full(self, change: EdgeChange, names: list[str] | None = None, *,
                      villages: dict[str, NDArray[np.int64]] | None = None,
                      ) -> dict[str, NDArray[np.float64]]:
        """Return what :meth:`evaluate` returns, by a full recompute (the reference)."""
        st = self._apply(change)
        near = self._near_only(st["closed"])
        out: dict[str, NDArray[np.float64]] = {}
        for name in names if names is not None else list(self.queries):
            idx = villages.get(name) if villages is not None else None
            m = patch_csr(self.sp[name].csr, self.arc_changes(name, change, st))
            dist = np.asarray(dijkstra(m, directed=True, indices=self.n), dtype=float)
            out[name] = self._village_times(name, lambda q, d=dist: d[q], st["v_cf"],
                                            st["v_cb"], st["fwd"], st["t_cf"], st["t_cb"], near,
                                            idx)
        return out

    def commit(self, change: EdgeChange) -> None:
        """Apply ``change`` to the model for good (recomputes every query)."""
        st = self._apply(change)
        for key in ("fwd", "bwd", "v_cf", "v_cb", "t_cf", "t_cb", "road_class", "surface",
                    "closed"):
            setattr(self, key, st[key])
        self._rebuild()
