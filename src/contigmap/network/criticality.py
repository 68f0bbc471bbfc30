"""Road criticality: who is cut off or delayed when one road segment fails.

For every village the measure is the travel time to its *own* township seat (the seat
matched by ``township_id``; the nearest seat for a village whose township has none).
The question per edge is the one RA2CE (Deltares) asks of single-link failures: remove
the edge, recompute, compare. Only edges on some village's shortest-path tree path can
matter (any other failure leaves every village's best route intact), so the
candidates are found from the baseline shortest-path trees of
:class:`contigmap.network.access_model.AccessModel`, and each is evaluated exactly with
the incremental engine (the affected subtree is recomputed; nothing else is touched).

A village joined to the failed edge itself keeps only the nearer end of that edge (the
failure is taken to lie on the farther side).

Output per edge: ``villages_affected`` (slower or cut off), ``pop_cut_off`` /
``poor_cut_off`` (no route left), ``pop_delayed`` / ``poor_delayed``,
``person_minutes_delay`` / ``poor_person_minutes_delay`` (delay of those still
connected), ``max_delay_min`` and a ``score`` / ``poor_score``: person-minutes with every
person cut off counted at ``cutoff_min`` minutes (default 240, a half-day trip) — the
table is sorted by ``poor_score``, then ``score``.

Hazard points (地质灾害隐患点, a hazard layer of points, ``radius_m:`` in region.yaml): pass
the region's ``hazards`` and every edge of the table also gets ``hazard_points`` (points
within the layer's radius of the segment, all point layers together) and
``hazard_threatened`` (their ``threatened_people``, 威胁人数), and the two exposure-weighted
figures ``exposure_weighted_cutoff_pop`` = ``pop_cut_off`` × (1 + ``hazard_points``) and
``exposure_weighted_cutoff_poor`` = ``poor_cut_off`` × (1 + ``hazard_points``): a segment
that cuts people off *and* runs past hazard points is more likely to fail. They are
extra columns for sorting or filtering the table; the ranking (``rank``, by
``poor_score`` then ``score``) does not change. :func:`edge_hazard_exposure` gives the
counts for every edge of the road graph.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.errors import NetworkError
from contigmap.network.access_model import AccessModel
from contigmap.network.build import RoadGraph
from contigmap.network.edgetimes import EdgeChange
from contigmap.network.speeds import Season
from contigmap.tasks import ExecutionOptions, map_tasks

if TYPE_CHECKING:
    from contigmap.raster import Raster

__all__ = ["edge_hazard_exposure", "own_seat_model", "road_criticality", "tree_edges"]

logger = logging.getLogger(__name__)


def _xy(gdf: gpd.GeoDataFrame) -> NDArray[np.float64]:
    g = gdf.geometry
    if len(g) and not (g.geom_type == "Point").all():
        g = g.representative_point()
    return np.column_stack([g.x.to_numpy(float), g.y.to_numpy(float)])


def own_seat_model(
    graph: RoadGraph, villages: gpd.GeoDataFrame, services: gpd.GeoDataFrame,
    *, season: Season = "dry",
) -> tuple[AccessModel, NDArray[np.object_]]:
    """Build an :class:`AccessModel` with one query per township seat.

    Returns
    -------
    tuple
        The model (queries ``seat:<township_id>`` and ``seat:*`` for all seats) and
        each village's query name.
    """
    seats = services[services["kind"] == "township_seat"]
    if seats.empty:
        msg = "services: no township_seat; criticality and the optimiser need township seats"
        raise NetworkError(msg)
    seats = seats.sort_values("service_id")
    queries: dict[str, Any] = {"seat:*": _xy(seats)}
    if "township_id" in seats.columns:
        first = seats.drop_duplicates("township_id")
        for tid, pt in zip(first["township_id"].astype(str), _xy(first), strict=True):
            queries[f"seat:{tid}"] = pt[None, :]
    model = AccessModel.build(graph, _xy(villages), queries, season=season)
    tid = villages["township_id"].astype(str).to_numpy(object)
    names = np.array([f"seat:{t}" if f"seat:{t}" in queries else "seat:*" for t in tid],
                     dtype=object)
    return model, names


def _village_times(model: AccessModel, names: NDArray[np.object_],
                   per_query: dict[str, NDArray[np.float64]]) -> NDArray[np.float64]:
    out = np.full(names.size, np.inf)
    for q, t in per_query.items():
        sel = names == q
        out[sel] = t[sel]
    return out


def tree_edges(model: AccessModel, names: NDArray[np.object_]) -> dict[str, NDArray[np.int64]]:
    """Edges on the villages' shortest-path tree paths, per query (plus their own edges).

    Tree arcs are matched to edges by their end nodes, so an edge parallel to a tree arc
    (same two nodes) is listed too: the predecessor array cannot tell the two apart.
    Failing such an edge changes no shortest path; it only costs one more evaluation.
    """
    g = model.graph
    n = model.n
    key = np.minimum(g.u, g.v) * (n + 1) + np.maximum(g.u, g.v)
    order = np.argsort(key, kind="stable")
    out: dict[str, NDArray[np.int64]] = {}
    for q in np.unique(names).tolist():
        if q not in model.sp:
            continue
        sp = model.sp[q]
        vs = np.flatnonzero((names == q) & (model.v_edge >= 0))
        e = model.v_edge[vs]
        starts = np.unique(np.concatenate([g.u[e], g.v[e]]))
        seen = np.zeros(n + 1, bool)
        frontier = starts[np.isfinite(sp.dist[starts])]
        arcs_a: list[NDArray[np.int64]] = []
        arcs_b: list[NDArray[np.int64]] = []
        while frontier.size:
            seen[frontier] = True
            p = sp.pred[frontier]
            ok = (p >= 0) & (p != n)
            arcs_a.append(frontier[ok])
            arcs_b.append(p[ok])
            nxt = np.unique(p[ok])
            frontier = nxt[~seen[nxt]]
        a = np.concatenate(arcs_a) if arcs_a else np.zeros(0, np.int64)
        b = np.concatenate(arcs_b) if arcs_b else np.zeros(0, np.int64)
        k = np.minimum(a, b) * (n + 1) + np.maximum(a, b)
        lo = np.searchsorted(key[order], k, "left")
        hi = np.searchsorted(key[order], k, "right")
        edges = [order[i:j] for i, j in zip(lo.tolist(), hi.tolist(), strict=True)]
        # edges holding a target: their arcs are folded into the super-source's arcs
        te = model.t_edge[model.queries[q]]
        cat = np.concatenate([*edges, e, te[te >= 0]])
        out[q] = np.unique(cat).astype(np.int64)
    return out


def edge_hazard_exposure(
    graph: RoadGraph, hazards: Mapping[str, gpd.GeoDataFrame | Raster] | None
) -> pd.DataFrame:
    """Hazard points near every edge of the road graph.

    Parameters
    ----------
    graph
        The road graph (metric CRS).
    hazards
        The region's hazard layers; only point layers (隐患点) count, each within its
        own ``radius_m`` (default 500 m) of the edge's line
        (:func:`contigmap.overlay.hazard_points_near_lines`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``edge``: ``hazard_points`` (count) and ``hazard_threatened``
        (sum of ``threatened_people``; 0 where unknown).
    """
    from contigmap.overlay.measures import hazard_points_near_lines

    edges = graph.edges_gdf()
    count, people = hazard_points_near_lines(
        np.asarray(edges.geometry.array, dtype=object), hazards or {}, crs=graph.crs)
    return pd.DataFrame({"hazard_points": count, "hazard_threatened": people},
                        index=pd.Index(edges["edge"].to_numpy(np.int64), name="edge"))


def _failure_rows(
    edges: NDArray[np.int64], am: AccessModel, names: NDArray[np.object_],
    per_q: dict[str, NDArray[np.int64]], base: NDArray[np.float64],
    pop: NDArray[np.float64], poor: NDArray[np.float64],
) -> list[dict[str, Any]]:
    """Return the rows of :func:`_failure_row` for a chunk of edges (one task)."""
    return [row for e in edges.tolist()
            if (row := _failure_row(am, names, per_q, base, pop, poor, e)) is not None]


def _failure_row(
    am: AccessModel, names: NDArray[np.object_], per_q: dict[str, NDArray[np.int64]],
    base: NDArray[np.float64], pop: NDArray[np.float64], poor: NDArray[np.float64], e: int,
) -> dict[str, Any] | None:
    """Who is cut off or delayed when edge ``e`` fails (``None``: nobody)."""
    qs = [q for q, es in per_q.items() if np.isin(e, es)]
    new = am.evaluate(EdgeChange.close([e]), names=qs)
    t = base.copy()
    for q, v in new.items():
        sel = names == q
        t[sel] = v[sel]
    fin0 = np.isfinite(base)
    cut = fin0 & ~np.isfinite(t)
    with np.errstate(invalid="ignore"):
        delay = np.where(fin0 & np.isfinite(t), t - base, 0.0)
    delayed = delay > 1e-9
    if not (cut.any() or delayed.any()):
        return None
    return {
        "edge": e,
        "villages_affected": int((cut | delayed).sum()),
        "villages_cut_off": int(cut.sum()),
        "pop_cut_off": float(pop[cut].sum()),
        "poor_cut_off": float(poor[cut].sum()),
        "pop_delayed": float(pop[delayed].sum()),
        "poor_delayed": float(poor[delayed].sum()),
        "person_minutes_delay": float((pop * delay)[delayed].sum()),
        "poor_person_minutes_delay": float((poor * delay)[delayed].sum()),
        "max_delay_min": float(delay.max()),
    }


def road_criticality(
    graph: RoadGraph,
    villages: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    season: Season = "dry",
    cutoff_min: float = 240.0,
    top: int | None = None,
    model: tuple[AccessModel, NDArray[np.object_]] | None = None,
    hazards: Mapping[str, gpd.GeoDataFrame | Raster] | None = None,
    execution: ExecutionOptions | None = None,
) -> gpd.GeoDataFrame:
    """Who is cut off or delayed if each road edge fails, weighted by people and poor people.

    Parameters
    ----------
    graph
        The road graph.
    villages
        ``village_id``, ``township_id``, ``pop`` and optionally ``poor_pop`` (0 without),
        in the graph's CRS.
    services
        Services with township seats.
    season
        Travel-time season.
    cutoff_min
        Minutes a cut-off person counts for in ``score`` / ``poor_score``.
    top
        Keep only the ``top`` edges.
    model
        A prepared :func:`own_seat_model` (to reuse).
    hazards
        The region's hazard layers: when one of them is a point layer (隐患点), the
        table gets ``hazard_points``, ``hazard_threatened``,
        ``exposure_weighted_cutoff_pop`` and ``exposure_weighted_cutoff_poor`` (module
        docstring); the ranking is unchanged.
    execution
        Where the failures are evaluated: in this process (default), or in chunks of
        candidate edges as tasks on Dask (:func:`contigmap.tasks.map_tasks`; the model is
        sent to each worker once). Each failure is evaluated alone, so the table is the
        same.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per edge whose failure affects someone (module docstring), sorted by
        ``poor_score`` then ``score``; with ``edge``, ``road_id``, ``road_class``,
        ``surface`` and the edge's line.
    """
    am, names = model if model is not None else own_seat_model(graph, villages, services,
                                                                 season=season)
    pop = villages["pop"].astype(float).fillna(0.0).to_numpy() if "pop" in villages else (
        np.ones(len(villages)))
    poor = (villages["poor_pop"].astype(float).fillna(0.0).to_numpy()
            if "poor_pop" in villages else np.zeros(len(villages)))
    base = _village_times(am, names, {q: am.times(q) for q in np.unique(names).tolist()})
    per_q = tree_edges(am, names)
    cand = np.unique(np.concatenate(list(per_q.values()))) if per_q else np.zeros(0, np.int64)
    n_chunks = 1 if execution is None or execution.in_process(2) else 4 * execution.n_workers()
    chunks = [c for c in np.array_split(cand, n_chunks) if c.size]
    rows = [row for part in map_tasks(_failure_rows, chunks,
                                      shared=(am, names, per_q, base, pop, poor),
                                      options=execution, what="criticality-chunk",
                                      label=lambda c: str(int(c[0])))
            for row in part]
    cols = ["edge", "villages_affected", "villages_cut_off", "pop_cut_off", "poor_cut_off",
            "pop_delayed", "poor_delayed", "person_minutes_delay", "poor_person_minutes_delay",
            "max_delay_min"]
    df = pd.DataFrame(rows, columns=cols)
    df["score"] = df["person_minutes_delay"] + cutoff_min * df["pop_cut_off"]
    df["poor_score"] = df["poor_person_minutes_delay"] + cutoff_min * df["poor_cut_off"]
    df = df.sort_values(["poor_score", "score", "edge"], ascending=[False, False, True])
    if top is not None:
        df = df.head(top)
    out = _with_edge_attributes(graph, df)
    from contigmap.overlay.measures import is_point_layer

    if any(is_point_layer(layer) for layer in (hazards or {}).values()):
        _add_hazard_exposure(out, graph, hazards)
    logger.info("criticality: %d candidate edge(s), %d affect someone", cand.size, len(out))
    return out


def _with_edge_attributes(graph: RoadGraph, df: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return the ranked table ``df`` with each edge's road attributes, line and ``rank``."""
    edges = graph.edges_gdf().set_index("edge")
    e = df["edge"].to_numpy(np.int64)
    out = gpd.GeoDataFrame(
        df.assign(road_id=edges["road_id"].to_numpy()[e],
                  road_class=edges["road_class"].to_numpy()[e],
                  surface=edges["surface"].to_numpy()[e],
                  length_m=edges["length_m"].to_numpy()[e]).reset_index(drop=True),
        geometry=edges.geometry.to_numpy()[e], crs=graph.crs)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def _add_hazard_exposure(
    out: gpd.GeoDataFrame, graph: RoadGraph,
    hazards: Mapping[str, gpd.GeoDataFrame | Raster] | None,
) -> None:
    """Add the hazard-point columns of the module docstring to ``out`` in place."""
    exposure = edge_hazard_exposure(graph, hazards).reindex(out["edge"].to_numpy())
    pts = exposure["hazard_points"].to_numpy(np.int64)
    out["hazard_points"] = pts
    out["hazard_threatened"] = exposure["hazard_threatened"].to_numpy(float)
    out["exposure_weighted_cutoff_pop"] = out["pop_cut_off"].to_numpy(float) * (1 + pts)
    out["exposure_weighted_cutoff_poor"] = out["poor_cut_off"].to_numpy(float) * (1 + pts)
    logger.info("criticality: %d of %d ranked edge(s) within the radius of hazard points",
                int((pts > 0).sum()), len(out))
