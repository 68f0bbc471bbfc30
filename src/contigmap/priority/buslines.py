"""Bus line design (客运班线): lines from township seats that serve the most people.

The shuttle-bus intervention (:mod:`contigmap.priority.bus`) decides which villages are
*qualified* for a bus; this module lays out the lines. It is a budgeted maximal covering
problem (Church and ReVelle 1974; with budgets, Khuller, Moss and Naor 1999), solved by
:func:`contigmap.priority.siting.max_cover`:

* **Candidate lines**: from each township seat, the shortest path over the bus-worthy
  edges (hardened and wide enough, the mask :func:`contigmap.priority.bus.bus_roads`
  gives) to each *terminal* village of its township, from the seat's nearest point on
  that network to the village's (each joined within the network's
  ``hardened_leg_max_m``; the villages ``bus_wide_road`` marks). Dijkstra's algorithm
  (``scipy.sparse.csgraph.dijkstra``) with a super-source at the seat's join. Identical
  lines are kept once. Loops are not generated.
* **Served**: a village whose representative point is within ``walk_m`` of a line:
  along roads (``walk_along: road``, the default: its walking leg to the nearest road,
  then along any road, footpaths included, to the nearest point of the line) or in a
  straight line (``walk_along: straight``). Any village counts, not only qualified ones.
* **Budgets**: the lines' total length (``max_total_km``) and their vehicles
  (``max_vehicles``); ``null`` leaves a budget out. A line needs
  ``ceil(round trip / headway)`` vehicles, the round trip being twice its length at
  ``speed_kmh`` plus ``layover_min``; it runs ``floor(operating_hours × 60 / headway_min)``
  (at least 1) round trips a day.
* **Choice**: maximise the people (``weight: pop``) or poor people (``poor_pop``) served;
  exact with HiGHS up to ``exact_max_cells`` villages × lines, else the modified greedy
  with its stated bound (``(1 - 1/e) / 2`` under one budget; under both, its share of
  the LP relaxation's optimum, measured). A chosen line that serves nobody the others
  do not is dropped (longest first).
* **Stops**: one per served village, on the chosen line that serves it with the shortest
  walk (ties: the first line), at the line's nearest point to the village.
* **Operating cost** per year: bus-km a year (a round trip runs the line out and back,
  ``2 × length``; × round trips a day × ``days_per_year``) × ``cny_per_bus_km``.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pydantic import NonNegativeFloat, PositiveFloat, PositiveInt
from scipy.sparse import csc_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString
from shapely.ops import substring

from contigmap._strict import StrictModel
from contigmap.network import RoadGraph
from contigmap.priority._network import Joins, edge_weight_csr, join
from contigmap.priority.siting import max_cover

__all__ = ["BusLines", "BusLinesConfig", "candidate_lines", "daily_round_trips",
           "design_lines", "vehicles_needed", "yearly_opex_cny"]

logger = logging.getLogger(__name__)


class BusLinesConfig(StrictModel):
    """Line design: the ``lines`` part of the ``bus`` section of ``priorities.yaml``."""

    walk_m: PositiveFloat = 1000.0
    walk_along: Literal["road", "straight"] = "road"
    weight: Literal["pop", "poor_pop"] = "pop"
    max_total_km: PositiveFloat | None = 200.0
    max_vehicles: PositiveInt | None = 20
    speed_kmh: PositiveFloat = 30.0
    layover_min: NonNegativeFloat = 10.0
    headway_min: PositiveFloat = 360.0
    operating_hours: PositiveFloat = 12.0
    days_per_year: PositiveFloat = 365.0
    cny_per_bus_km: NonNegativeFloat = 3.0
    exact_max_cells: PositiveInt = 2_000_000
    time_limit_s: PositiveFloat = 30.0


@dataclass(frozen=True)
class _Line:
    """One candidate line: its seat, terminal, geometry and the edge stretches it runs.

    ``edges``, ``start``, ``end``: per stretch, the edge and the positions along it
    (metres from ``u``) between which the line runs.
    """

    seat: str
    township_id: str
    terminal: str
    geometry: LineString
    edges: NDArray[np.int64]
    start: NDArray[np.float64]
    end: NDArray[np.float64]


@dataclass(frozen=True)
class BusLines:
    """Designed lines and stops.

    Attributes
    ----------
    lines
        One LineString per chosen line: ``line_id``, ``seat`` (service id),
        ``township_id``, ``terminal_village_id``, ``length_m``, ``vehicles``,
        ``daily_round_trips``, ``served_villages``, ``served_people``, ``served_poor``,
        ``yearly_opex_cny``.
    stops
        One point per served village: ``stop_id``, ``line_id``, ``village_id``, ``walk_m``.
    candidates
        Candidate lines considered.
    method, bound
        ``milp`` (proved optimal, bound 1) or ``greedy`` and its guaranteed share.
    """

    lines: gpd.GeoDataFrame
    stops: gpd.GeoDataFrame
    candidates: int
    method: str
    bound: float


def daily_round_trips(cfg: BusLinesConfig) -> int:
    """Round trips a day: ``floor(operating_hours × 60 / headway_min)``, at least 1."""
    return max(1, math.floor(cfg.operating_hours * 60.0 / cfg.headway_min + 1e-9))


def vehicles_needed(length_m: NDArray[np.float64], cfg: BusLinesConfig) -> NDArray[np.int64]:
    """Vehicles per line: ``ceil(round trip / headway)``, the round trip out and back."""
    trip_min = 2.0 * np.asarray(length_m, float) / 1000.0 / cfg.speed_kmh * 60.0
    return np.maximum(1, np.ceil((trip_min + cfg.layover_min) / cfg.headway_min - 1e-9)
                      ).astype(np.int64)


def yearly_opex_cny(length_m: NDArray[np.float64], cfg: BusLinesConfig) -> NDArray[np.float64]:
    """Yearly operating cost: ``2 × km × round trips a day × days × CNY per bus-km``."""
    bus_km = 2.0 * np.asarray(length_m, float) / 1000.0 * daily_round_trips(cfg)
    return bus_km * cfg.days_per_year * cfg.cny_per_bus_km


def _edge_line(graph: RoadGraph, e: int, a: float, b: float) -> NDArray[np.float64]:
    """Coordinates of edge ``e`` from position ``a`` to ``b`` (metres from ``u``)."""
    xy = graph.vertex_xy[graph.edge_start[e]:graph.edge_end[e] + 1]
    lo, hi = min(a, b), max(a, b)
    if lo <= 0.0 and hi >= graph.length_m[e]:  # the whole edge
        return xy[::-1] if a > b else xy
    part = substring(LineString(xy), lo, hi)
    coords = np.asarray(part.coords, float) if hi > lo else np.zeros((0, 2))
    return coords[::-1] if a > b else coords


def _edge_between(graph: RoadGraph, mask: NDArray[np.bool_]) -> dict[tuple[int, int], int]:
    """Return the shortest masked edge between each pair of nodes (both directions)."""
    # longest first, so the shortest is written last and wins (ties: the later index);
    # each edge's two directions in turn, as one dict built from the interleaved keys
    edges = np.flatnonzero(mask)[np.argsort(-graph.length_m[mask], kind="stable")]
    a, b = graph.u[edges], graph.v[edges]
    first = np.empty(2 * edges.size, np.int64)
    second = np.empty(2 * edges.size, np.int64)
    first[0::2], first[1::2] = a, b
    second[0::2], second[1::2] = b, a
    keys = zip(first.tolist(), second.tolist(), strict=True)
    return dict(zip(keys, np.repeat(edges, 2).tolist(), strict=True))


def _trace(
    graph: RoadGraph, pred: NDArray[np.int32], pairs: dict[tuple[int, int], int],
    seat: tuple[int, float], end: tuple[int, float], last: int,
) -> tuple[list[tuple[int, float, float]], NDArray[np.float64]]:
    """Stretches and coordinates of the path from the seat's join to a terminal's.

    ``seat`` and ``end`` are (edge, position) joins; ``last`` the node the path reaches
    before the terminal's edge.
    """
    n = graph.n_nodes
    nodes = [last]
    while pred[nodes[-1]] != n:
        nodes.append(int(pred[nodes[-1]]))
    nodes.reverse()
    es, ps = seat
    first = nodes[0]
    stretches = [(es, ps, 0.0 if first == graph.u[es] else float(graph.length_m[es]))]
    for a, b in itertools.pairwise(nodes):
        e = pairs[(a, b)]
        fwd = a == graph.u[e]
        stretches.append((e, 0.0 if fwd else float(graph.length_m[e]),
                          float(graph.length_m[e]) if fwd else 0.0))
    et, pt = end
    stretches.append((et, 0.0 if last == graph.u[et] else float(graph.length_m[et]), pt))
    parts = [_edge_line(graph, e, a, b) for e, a, b in stretches]
    return stretches, np.vstack(parts)


def _clean(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    """Drop consecutive duplicate vertices."""
    keep = np.ones(len(coords), bool)
    keep[1:] = np.any(np.diff(coords, axis=0) != 0, axis=1)
    return coords[keep]


def _seat_lines(
    graph: RoadGraph, mask: NDArray[np.bool_], pairs: dict[tuple[int, int], int],
    seat: tuple[str, str, NDArray[np.float64]], term_ids: list[str],
    term_xy: NDArray[np.float64], mask_name: str,
) -> list[_Line]:
    """Candidate lines from one seat to its township's terminals (see the module)."""
    sid, tid, sxy = seat
    leg = graph.params.hardened_leg_max_m
    sj = join(graph, sxy[None, :], edge_mask=mask, mask_name=mask_name)
    if sj.edge[0] < 0 or sj.leg_m[0] > leg or not term_ids:
        return []
    es = int(sj.edge[0])
    weight = np.where(mask, graph.length_m, np.inf)
    src = (np.array([graph.u[es], graph.v[es]]), np.array([sj.from_u_m[0], sj.to_v_m[0]]))
    m = edge_weight_csr(graph, weight, sources=src)
    dist, pred = dijkstra(m, directed=True, indices=graph.n_nodes, return_predecessors=True)
    tj = join(graph, term_xy, edge_mask=mask, mask_name=mask_name)
    out: list[_Line] = []
    for i, vid in enumerate(term_ids):
        e = int(tj.edge[i])
        if e < 0 or tj.leg_m[i] > leg:
            continue
        pt = float(tj.from_u_m[i])
        if e == es:
            stretches = [(e, float(sj.from_u_m[0]), pt)]
            coords = _edge_line(graph, e, float(sj.from_u_m[0]), pt)
        else:
            via_u = dist[graph.u[e]] + pt
            via_v = dist[graph.v[e]] + graph.length_m[e] - pt
            if not np.isfinite(min(via_u, via_v)):
                continue
            last = int(graph.u[e] if via_u <= via_v else graph.v[e])
            stretches, coords = _trace(graph, pred, pairs, (es, float(sj.from_u_m[0])),
                                       (e, pt), last)
        coords = _clean(coords)
        if len(coords) < 2:
            continue
        s = np.array(stretches, float).reshape(-1, 3)
        out.append(_Line(sid, tid, vid, LineString(coords), s[:, 0].astype(np.int64),
                         np.minimum(s[:, 1], s[:, 2]), np.maximum(s[:, 1], s[:, 2])))
    return out


def candidate_lines(
    graph: RoadGraph, mask: NDArray[np.bool_], villages: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame, *, mask_name: str = "bus",
) -> list[_Line]:
    """Candidate lines: from each township seat to each terminal village of its township.

    ``mask`` marks the edges a bus may use; a seat (``kind`` ``township_seat``, the first
    by ``service_id`` per township) and a terminal join that network within the graph's
    ``hardened_leg_max_m``. Lines come by seat, then in village order; identical ones
    are kept once.
    """
    seats = services[services["kind"].astype(str) == "township_seat"]
    seats = seats.sort_values("service_id").drop_duplicates("township_id")
    pts = villages.geometry.representative_point()
    vxy = np.column_stack([pts.x.to_numpy(float), pts.y.to_numpy(float)])
    town = villages["township_id"].astype(str).to_numpy()
    ids = villages["village_id"].astype(str).to_numpy()
    pairs = _edge_between(graph, mask)
    out: list[_Line] = []
    seen: set[bytes] = set()
    for sid, tid, geom in zip(seats["service_id"].astype(str), seats["township_id"].astype(str),
                              seats.geometry, strict=True):
        rows = np.flatnonzero(town == tid)
        seat = (sid, tid, np.array([geom.x, geom.y], float))
        for line in _seat_lines(graph, mask, pairs, seat, list(ids[rows]), vxy[rows],
                                mask_name):
            key = np.round(np.asarray(line.geometry.coords), 3).tobytes()
            if key not in seen:
                seen.add(key)
                out.append(line)
    return out


_Pairs = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]
"""Village positions, line positions and walking metres of the pairs within reach."""


def _walk_straight(vxy: NDArray[np.float64], lines: list[_Line], walk_m: float) -> _Pairs:
    """Village-line pairs within ``walk_m`` in a straight line, by village then line."""
    if not lines or not len(vxy):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    pts = shapely.points(vxy)
    geoms = np.array([ln.geometry for ln in lines], dtype=object)
    vi, li = shapely.STRtree(geoms).query(pts, predicate="dwithin", distance=walk_m)
    order = np.lexsort((li, vi))
    vi, li = vi[order].astype(np.int64), li[order].astype(np.int64)
    return vi, li, np.asarray(shapely.distance(pts[vi], geoms[li]), float)


def _walk_road(graph: RoadGraph, vxy: NDArray[np.float64], lines: list[_Line],
               walk_m: float) -> _Pairs:
    """Village-line pairs within ``walk_m`` along roads, by village then line.

    Only pairs within ``walk_m`` in a straight line are measured (a walk is never
    shorter); each such village gets one Dijkstra search bounded by ``walk_m``.
    """
    vs, ls, _ = _walk_straight(vxy, lines, walk_m)
    out_v: list[NDArray[np.int64]] = []
    out_l: list[NDArray[np.int64]] = []
    out_d: list[NDArray[np.float64]] = []
    m = edge_weight_csr(graph, graph.length_m)
    vj: Joins = join(graph, vxy)
    bounds: list[int] = (np.flatnonzero(np.r_[True, vs[1:] != vs[:-1], True]).tolist()
                         if vs.size else [])
    for lo, hi in itertools.pairwise(bounds):
        i, cols = int(vs[lo]), ls[lo:hi]
        if vj.edge[i] < 0 or vj.leg_m[i] > walk_m:
            continue
        owner = np.concatenate([np.full(lines[k].edges.size, n) for n, k in enumerate(cols)])
        e = np.concatenate([lines[k].edges for k in cols])
        a = np.concatenate([lines[k].start for k in cols])
        b = np.concatenate([lines[k].end for k in cols])
        ei, p, leg = int(vj.edge[i]), float(vj.from_u_m[i]), float(vj.leg_m[i])
        d2 = dijkstra(m, directed=True, indices=[graph.u[ei], graph.v[ei]], limit=walk_m)
        dn = np.minimum(p + d2[0], graph.length_m[ei] - p + d2[1])
        d = np.minimum(dn[graph.u[e]] + a, dn[graph.v[e]] + graph.length_m[e] - b)
        same = e == ei
        d[same] = np.minimum(d[same], np.maximum(0.0, np.maximum(a[same] - p, p - b[same])))
        best = np.full(cols.size, np.inf)
        np.minimum.at(best, owner, d + leg)
        ok = best <= walk_m
        out_v.append(np.full(int(ok.sum()), i, np.int64))
        out_l.append(cols[ok])
        out_d.append(best[ok])
    if not out_v:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(out_v), np.concatenate(out_l), np.concatenate(out_d)


def _covered(csc: csc_matrix, w: NDArray[np.float64], cols: list[int]) -> float:
    """Weight of the villages any of the lines ``cols`` serves."""
    if not cols:
        return 0.0
    return float(w[np.asarray(csc[:, cols].sum(axis=1)).ravel() > 0].sum())


def _prune(csc: csc_matrix, w: NDArray[np.float64], chosen: NDArray[np.int64],
           length: NDArray[np.float64]) -> NDArray[np.int64]:
    """Drop chosen lines, longest first, whose removal loses no served weight."""
    keep = [int(c) for c in chosen]
    for j in sorted(keep, key=lambda c: (-length[c], c)):
        rest = [c for c in keep if c != j]
        if _covered(csc, w, rest) >= _covered(csc, w, keep):
            keep = rest
    return np.array(sorted(keep), dtype=np.int64)


def _weights(villages: pd.DataFrame, column: str) -> NDArray[np.float64]:
    """People or poor people per village (0 where missing)."""
    if column not in villages.columns:
        return np.zeros(len(villages))
    w = pd.to_numeric(villages[column], errors="coerce").fillna(0.0).to_numpy(float)
    return np.maximum(w, 0.0)


def _solve(pairs: _Pairs, shape: tuple[int, int], w: NDArray[np.float64],
           length_m: NDArray[np.float64], vehicles: NDArray[np.int64],
           cfg: BusLinesConfig) -> tuple[NDArray[np.int64], str, float]:
    """Chosen lines (ascending), the method and its bound (see the module docstring)."""
    vi, li, _ = pairs
    cover = csr_matrix((np.ones(vi.size), (vi, li)), shape=shape)
    costs, budgets = [], []
    if cfg.max_total_km is not None:
        costs.append(length_m / 1000.0)
        budgets.append(cfg.max_total_km)
    if cfg.max_vehicles is not None:
        costs.append(vehicles.astype(float))
        budgets.append(float(cfg.max_vehicles))
    res = max_cover(cover, w, shape[1],
                    costs=np.column_stack(costs) if costs else None,
                    budgets=np.array(budgets) if budgets else None,
                    exact_max_cells=cfg.exact_max_cells, time_limit_s=cfg.time_limit_s)
    return _prune(cover.tocsc(), w, res.sites, length_m), res.method, res.bound


def _assign(pairs: _Pairs, chosen: NDArray[np.int64]) -> _Pairs:
    """Per served village, its chosen line (position in ``chosen``) and walk.

    The line with the shortest walk; ties go to the first line.
    """
    vi, li, d = pairs
    if not chosen.size:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    k = np.minimum(np.searchsorted(chosen, li), chosen.size - 1)
    ok = chosen[k] == li
    vi, k, d = vi[ok], k[ok], d[ok]
    order = np.lexsort((k, d, vi))
    _, first = np.unique(vi[order], return_index=True)
    pick = order[first]
    return vi[pick], k[pick].astype(np.int64), d[pick]


def design_lines(
    graph: RoadGraph, mask: NDArray[np.bool_], villages: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame, cfg: BusLinesConfig, *, mask_name: str = "bus",
) -> BusLines:
    """Choose bus lines under the length and vehicle budgets; place their stops.

    Parameters
    ----------
    graph
        The road graph.
    mask
        Edges a bus may use (:func:`contigmap.priority.bus.bus_roads`).
    villages
        ``village_id``, ``township_id``, ``pop`` and ``poor_pop`` (missing: 0), geometry.
    services
        Township seats (``kind`` ``township_seat``, ``service_id``, ``township_id``).
    cfg
        Line design settings.
    mask_name
        Cache key of ``mask`` for the spatial indexes.

    Returns
    -------
    BusLines
        Lines and stops in the graph's CRS (module docstring), method and bound.
    """
    cands = candidate_lines(graph, mask, villages, services, mask_name=mask_name)
    pts = villages.geometry.representative_point()
    vxy = np.column_stack([pts.x.to_numpy(float), pts.y.to_numpy(float)])
    pairs = (_walk_road(graph, vxy, cands, cfg.walk_m) if cfg.walk_along == "road"
             else _walk_straight(vxy, cands, cfg.walk_m))
    length = np.array([ln.geometry.length for ln in cands], float)
    vehicles = vehicles_needed(length, cfg)
    chosen, method, bound = _solve(pairs, (len(vxy), len(cands)),
                                   _weights(villages, cfg.weight), length, vehicles, cfg)
    rows, which, walked = _assign(pairs, chosen)
    line_ids = [f"{cands[j].seat}-{cands[j].terminal}" for j in chosen]
    vids = villages["village_id"].astype(str).to_numpy()
    geoms = [cands[j].geometry for j in chosen]
    stops = gpd.GeoDataFrame(
        {"stop_id": [f"{line_ids[k]}-{vids[i]}" for i, k in zip(rows, which, strict=True)],
         "line_id": [line_ids[k] for k in which], "village_id": vids[rows],
         "walk_m": np.round(walked, 1)},
        geometry=[geoms[k].interpolate(geoms[k].project(shapely.Point(vxy[i])))
                  for i, k in zip(rows, which, strict=True)], crs=graph.crs)
    pop, poor = _weights(villages, "pop"), _weights(villages, "poor_pop")
    n = chosen.size
    lines = gpd.GeoDataFrame(
        {"line_id": line_ids, "seat": [cands[j].seat for j in chosen],
         "township_id": [cands[j].township_id for j in chosen],
         "terminal_village_id": [cands[j].terminal for j in chosen],
         "length_m": np.round(length[chosen], 1), "vehicles": vehicles[chosen],
         "daily_round_trips": np.full(n, daily_round_trips(cfg)),
         "served_villages": np.bincount(which, minlength=n).astype(np.int64),
         "served_people": np.bincount(which, weights=pop[rows], minlength=n),
         "served_poor": np.bincount(which, weights=poor[rows], minlength=n),
         "yearly_opex_cny": np.round(yearly_opex_cny(length[chosen], cfg), 0)},
        geometry=geoms, crs=graph.crs)
    logger.info("bus lines: %d of %d candidates (%s, bound %.3f), %.1f km, %d vehicles, "
                "%d villages served", chosen.size, len(cands), method, bound,
                float(length[chosen].sum()) / 1000.0, int(vehicles[chosen].sum()), rows.size)
    return BusLines(lines, stops, len(cands), method, bound)
