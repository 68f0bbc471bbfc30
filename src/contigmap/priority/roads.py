"""Roads: hardened village roads (通硬化路) and shuttle buses, per village.

Cost model
----------
* A village without a hardened route to its own township seat gets its route hardened:
  the route is the path over the road graph to the seat that minimises the unpaved
  length (paved edges count ``hardened_path_weight`` per metre, so a short detour on
  paved roads beats hardening but a long one does not). Unpaved drivable edges on it
  are *hardened*; footpaths on it must be *built* as roads.
* A village farther than ``new_road_min_m`` from every road, or with no route to its
  seat at all, gets a *new road*: a least-cost path over the DEM
  (:func:`contigmap.costpath.least_cost_path`) to the nearest hardened road.
* A village with a hardened route but more than ``shuttle_threshold_min`` from the
  seat gets a *shuttle bus* (a minibus and its yearly running cost).
* Unit costs are per km by terrain class — flat / hilly / mountainous from the village
  zone's relief (``relief_m``; China's geomorphological classes, 周成虎等 2009) — and
  indicative (四好农村路 programme orders of magnitude; see ``priorities.yaml``).

Criteria (more = more need): ``no_hardened_road`` (1 without a hardened route),
``tt_township`` (vehicle minutes to the own township seat), ``rainy_unreachable``
(1 when cut off in the rainy season), ``transport_cause`` (share of poor households
poor from 交通条件落后), ``poor_pop``, ``poverty_incidence``, ``pop``.
A table without the network measures stops the stage (no silent default).

Villages that cannot reach their township seat
----------------------------------------------
A village with no travel time to its own seat (``access_problem``: no road within reach,
a piece of the network without the seat, a DEM void, a township without a seat in the
services layer; when no township has a seat at all the stage stops) is not an error:
no route is the strongest road need, so its ``tt_township`` counts as
:data:`UNREACHABLE_FACTOR` times the slowest reachable village (at least
:data:`UNREACHABLE_MIN_MIN` minutes), and its reasons say so and why. It gets a
new road to the nearest hardened road, except when only its township's seat is missing
(nothing to route to: no works are costed, and the reasons say so).

Villages whose terrain is unknown (``terrain_source == "region_typical"``: outside the
DEM or on its nodata) are costed with the region's typical relief (the median of the
covered villages, :func:`contigmap.terrain.typical_terrain`), and a new road from such a
village, which cannot follow the DEM, is the straight line to the nearest hardened road;
both are stated in its reasons.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from contigmap.columns import ColumnInfo
from contigmap.costpath import least_cost_path
from contigmap.errors import NetworkError, ValidationError, warn_data
from contigmap.indicators import TRAVEL_TIME_LABEL_EN, TRAVEL_TIME_LABEL_ZH
from contigmap.network import RoadGraph
from contigmap.priority._common import (
    UNREACHABLE_FACTOR,
    UNREACHABLE_MIN_MIN,
    VILLAGE_PEOPLE_CRITERIA,
    assemble,
    fill_no_route,
    main_cause,
    no_poor_no_cause,
    require,
    select_output,
)
from contigmap.priority._network import edge_weight_csr, join
from contigmap.priority.intervention import (
    Intervention,
    InterventionConfig,
    Option,
    PriorityInputs,
)
from contigmap.priority.mcda import Criterion
from contigmap.raster import Raster
from contigmap.roadworks import RoadCosts, road_costs, terrain_class
from contigmap.terrain import name_list, window_relief, with_typical_terrain

__all__ = [
    "CRITERIA",
    "INTERVENTION",
    "OPTIONS",
    "UNREACHABLE_FACTOR",
    "UNREACHABLE_MIN_MIN",
    "RoadsConfig",
    "roads_priorities",
    "route_to_harden",
]

logger = logging.getLogger(__name__)

_SRC = "priority / roads"
COLUMNS: tuple[ColumnInfo, ...] = (
    ColumnInfo("roads_harden_m", "unpaved road to harden on the route to the township seat",
               "到乡镇路线上需硬化的里程", "m", _SRC),
    ColumnInfo("roads_new_m", "new road to build (footpaths on the route, or a least-cost "
               "path over the DEM)", "需新建道路里程", "m", _SRC),
    ColumnInfo("roads_terrain", "terrain class for unit costs (flat / hilly / mountainous)",
               "地形类别（平原/丘陵/山区）", "", _SRC),
    ColumnInfo("roads_no_hardened", "1 when there is no hardened route to the township seat",
               "未通硬化路到乡镇", "0/1", _SRC),
    ColumnInfo("roads_rainy_unreachable", "1 when cut off by vehicle in the rainy season",
               "雨季不通车", "0/1", _SRC),
)
"""Its own columns (the common ``roads_*`` ones come from the registry)."""

_TERRAIN_ZH = {"flat": "平原", "hilly": "丘陵", "mountainous": "山区"}
OPTIONS: tuple[Option, ...] = (
    Option("harden", "硬化现有道路", "harden the existing road"),
    Option("new_road", "新建道路", "build a new road"),
    Option("harden+new_road", "硬化并新建道路", "harden and build road"),
    Option("shuttle_bus", "开通客运班车", "shuttle bus"),
    Option("none", "无需工程", "no works needed"),
)


class RoadsConfig(InterventionConfig):
    """Roads: hardened village roads and shuttle buses (``roads`` in ``priorities.yaml``).

    Its costs are the shared road cost model (:class:`contigmap.roadworks.RoadCosts`),
    which scenarios and the optimiser price road works with too.
    """

    costs: RoadCosts

_NET_HINT = ("run the network stage first (contigmap.network.access_measures) and keep every "
             "village on the road graph")


_NO_ROUTE_EN = "no route to the township seat"
_NO_ROUTE_ZH = "无路可达乡镇驻地"


def _no_route_text(row: Mapping[str, Any]) -> tuple[str, str]:
    from contigmap.network.access import ACCESS_PROBLEMS

    m = float(row["tt_own_township_seat_min"])
    why = str(row.get("access_problem") or "")
    en, zh = ACCESS_PROBLEMS.get(why, ("", ""))
    return (f"{_NO_ROUTE_EN}{f' ({en})' if en else ''}; counted as {m:.0f} min "
            f"({UNREACHABLE_FACTOR:g} x the slowest village, at least "
            f"{UNREACHABLE_MIN_MIN:.0f})",
            f"{_NO_ROUTE_ZH}{f'（{zh}）' if zh else ''}，按{m:.0f}分钟计（最慢村的"
            f"{UNREACHABLE_FACTOR:g}倍，至少{UNREACHABLE_MIN_MIN:.0f}分钟）")


def _tt(row: Mapping[str, Any]) -> tuple[str, str]:
    if bool(row.get("_no_route", False)):
        return _no_route_text(row)
    m = float(row["tt_own_township_seat_min"])
    if m >= 60:
        return f"{m / 60:.1f} h to the own township seat", f"到本乡镇驻地{m / 60:.1f}小时"
    return f"{m:.0f} min to the own township seat", f"到本乡镇驻地{m:.0f}分钟"


CRITERIA: tuple[Criterion, ...] = (
    Criterion("no_hardened_road", "roads_no_hardened",
              lambda r: "no hardened road to the township", lambda r: "未通硬化路到乡镇",
              _NET_HINT,
              unit="0/1", label_en="no hardened road to the township seat",
              label_zh="未通硬化路到乡镇"),
    Criterion("tt_township", "tt_own_township_seat_min", lambda r: _tt(r)[0],
              lambda r: _tt(r)[1], _NET_HINT,
              unit="min", label_en=TRAVEL_TIME_LABEL_EN.lower(),
              label_zh=TRAVEL_TIME_LABEL_ZH),
    Criterion("rainy_unreachable", "roads_rainy_unreachable",
              lambda r: "cut off by vehicle in the rainy season", lambda r: "雨季不通车",
              _NET_HINT,
              unit="0/1", label_en="cut off by vehicle in the rainy season", label_zh="雨季不通车"),
    Criterion("transport_cause", "cause_poor_transport_share",
              lambda r: main_cause(r, "poor_transport")[0],
              lambda r: main_cause(r, "poor_transport")[1], "run the poverty stage first",
              unit="share 0-1", label_en="poor households poor from poor transport",
              label_zh="交通条件落后致贫户占比"),
    *VILLAGE_PEOPLE_CRITERIA,
)


def _edge_lookup(graph: RoadGraph, weight: NDArray[np.float64]) -> tuple[NDArray[np.int64],
                                                                          NDArray[np.int64]]:
    n1 = graph.n_nodes + 1
    a = np.concatenate([graph.u, graph.v])
    b = np.concatenate([graph.v, graph.u])
    e = np.concatenate([np.arange(graph.n_edges)] * 2)
    key = a * n1 + b
    order = np.lexsort((np.concatenate([weight, weight]), key))
    key, e = key[order], e[order]
    first = np.ones(key.size, bool)
    first[1:] = key[1:] != key[:-1]
    return key[first], e[first]


def _walk_back(
    node: int, pred: NDArray[np.int32], root: int,
    lookup: tuple[NDArray[np.int64], NDArray[np.int64]],
    harden_len: NDArray[np.float64], path_len: NDArray[np.float64], *,
    start: tuple[float, float],
) -> tuple[int, float, float]:
    """Follow ``pred`` from ``node`` to the last node before ``root``.

    Returns that node and the unpaved and footpath metres ``start`` plus those of the
    edges walked (``lookup``: :func:`_edge_lookup`'s keys and edges).
    """
    keys, kedge = lookup
    h, p = start
    while pred[node] >= 0 and pred[node] != root:
        prev = int(pred[node])
        j = int(np.searchsorted(keys, prev * (root + 1) + node))
        edge = int(kedge[j])
        h += harden_len[edge]
        p += path_len[edge]
        node = prev
    return node, h, p


def route_to_harden(
    graph: RoadGraph,
    points_xy: NDArray[np.float64],
    target_xy: NDArray[np.float64],
    *,
    paved_weight: float = 0.05,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Unpaved length to harden and footpath length to build on each point's route.

    Parameters
    ----------
    graph
        Road graph.
    points_xy
        ``(P, 2)`` villages.
    target_xy
        ``(P, 2)`` each village's target (its township seat).
    paved_weight
        Weight per metre of paved edges when choosing the route (unpaved: 1).

    Returns
    -------
    tuple
        Metres of drivable unpaved road and of footpath on each route; ``inf`` where the
        target cannot be reached on the graph.
    """
    drivable = np.isfinite(graph.drive_dry_min)
    weight = graph.length_m * np.where(graph.hardened, paved_weight, 1.0)
    harden_len = np.where(~graph.hardened & drivable, graph.length_m, 0.0)
    path_len = np.where(~drivable, graph.length_m, 0.0)
    keys, kedge = _edge_lookup(graph, weight)
    n = graph.n_nodes
    pj = join(graph, points_xy)
    tj = join(graph, target_xy)
    out_h = np.full(points_xy.shape[0], np.inf)
    out_p = np.full(points_xy.shape[0], np.inf)
    tkey = np.round(target_xy, 3)
    uniq, inv = np.unique(tkey, axis=0, return_inverse=True)
    inv = np.asarray(inv).reshape(-1)
    for k in range(uniq.shape[0]):
        idx = np.flatnonzero(inv == k)
        t0 = int(idx[0])
        te = int(tj.edge[t0])
        if te < 0:
            continue
        tw = np.where(graph.hardened[te], paved_weight, 1.0)
        m = edge_weight_csr(graph, weight, sources=(
            np.array([graph.u[te], graph.v[te]]),
            np.array([tj.from_u_m[t0] * tw, tj.to_v_m[t0] * tw])))
        dist, pred = dijkstra(m, directed=True, indices=n, return_predecessors=True)
        for i in idx:
            e = int(pj.edge[i])
            if e < 0:
                continue
            w_e = float(np.where(graph.hardened[e], paved_weight, 1.0))
            via_u = pj.from_u_m[i] * w_e + dist[graph.u[e]]
            via_v = pj.to_v_m[i] * w_e + dist[graph.v[e]]
            if not np.isfinite(min(via_u, via_v)):
                continue
            node = int(graph.u[e]) if via_u <= via_v else int(graph.v[e])
            piece = pj.from_u_m[i] if via_u <= via_v else pj.to_v_m[i]
            h = piece if harden_len[e] > 0 else 0.0
            p = piece if path_len[e] > 0 else 0.0
            if e == te:  # village and seat on the same edge: only the stretch between them
                span = abs(pj.from_u_m[i] - tj.from_u_m[t0])
                h = span if harden_len[e] > 0 else 0.0
                p = span if path_len[e] > 0 else 0.0
            else:
                node, h, p = _walk_back(node, pred, n, (keys, kedge), harden_len, path_len,
                                        start=(h, p))
                # the seat's own stretch of its edge, from the node reached to the seat
                last = tj.from_u_m[t0] if node == int(graph.u[te]) else tj.to_v_m[t0]
                h += last if harden_len[te] > 0 else 0.0
                p += last if path_len[te] > 0 else 0.0
            out_h[i], out_p[i] = h, p
    return out_h, out_p


def _relief(villages: pd.DataFrame, xy: NDArray[np.float64], dem: Raster | None,
            radius_m: float = 1000.0) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Relief per village, and which villages took the region's typical relief."""
    if "relief_m" in villages.columns:
        relief, typical = with_typical_terrain(villages, "relief_m")
    elif dem is None:
        msg = ("roads: the village table has no 'relief_m' and no DEM was given; run the "
               "overlay stage (contigmap.overlay.village_profile) or pass dem=")
        raise ValidationError(msg)
    else:
        relief = window_relief(dem, xy[:, 0], xy[:, 1], radius_m)
        typical = ~np.isfinite(relief)
        if typical.any() and not typical.all():
            relief[typical] = float(np.median(relief[~typical]))
    if not np.isfinite(relief).all():
        msg = ("roads: no village lies on the DEM, so road works cannot be costed by terrain; "
               "use a DEM that covers the villages (check its extent and nodata)")
        raise ValidationError(msg)
    return relief, typical


def _flag(series: pd.Series) -> NDArray[np.float64]:
    """Booleans to 1.0 / 0.0, missing stays ``nan``."""
    return pd.to_numeric(series.map({True: 1.0, False: 0.0}),
                         errors="coerce").to_numpy(float)


def roads_priorities(
    villages: gpd.GeoDataFrame,
    graph: RoadGraph,
    services: gpd.GeoDataFrame,
    config: RoadsConfig,
    *,
    dem: Raster | None,
    rate: float,
) -> pd.DataFrame:
    """Road works or shuttle bus, need, rank, tier and reasons per village.

    Parameters
    ----------
    villages
        Village table with the network's access measures (``hardened_to_township``,
        ``tt_own_township_seat_min``, ``rainy_unreachable``, ``dist_road_m``) and the
        poverty columns, in the graph's CRS.
    graph
        The road graph.
    services
        Services with township seats (``kind == "township_seat"``, ``township_id``).
    config
        The ``roads`` section of the priority configuration.
    dem
        Elevation for new roads (least-cost paths) and relief when ``relief_m`` is absent.
    rate
        Discount rate.

    Returns
    -------
    pandas.DataFrame
        ``village_id`` and the ``roads_*`` columns.
    """
    require(villages, ["village_id", "township_id", "pop", "hardened_to_township",
                       "tt_own_township_seat_min", "rainy_unreachable", "dist_road_m"],
            "roads", _NET_HINT)
    c = config.costs
    t = no_poor_no_cause(pd.DataFrame(villages.drop(columns="geometry")))
    t["roads_no_hardened"] = 1.0 - _flag(villages["hardened_to_township"])
    t["roads_rainy_unreachable"] = _flag(villages["rainy_unreachable"])
    names = t["name" if "name" in t.columns else "village_id"].astype(str).to_numpy()
    notes: tuple[list[list[str]], list[list[str]]] = (
        [[] for _ in range(len(t))], [[] for _ in range(len(t))])  # per village: en, zh
    # no route to the own seat: the strongest need, a documented cap on the time
    tt, no_route = fill_no_route(t["tt_own_township_seat_min"])
    t["tt_own_township_seat_min"] = tt
    t["_no_route"] = no_route
    pts = villages.geometry
    pts = pts if (pts.geom_type == "Point").all() else pts.representative_point()
    xy = np.column_stack([pts.x.to_numpy(float), pts.y.to_numpy(float)])
    harden, new, unreachable = _seat_routes(t, graph, services, xy, c, names, notes)
    far = np.flatnonzero(t["dist_road_m"].to_numpy(float) > c.new_road_min_m)
    build = np.union1d(unreachable, far)
    relief, typical = _relief(villages, xy, dem)
    if build.size:
        _new_roads(build, unreachable, t, graph, xy, dem, typical, c, names, notes,
                   harden=harden, new=new)
    terrain = terrain_class(relief, c)
    for i in np.flatnonzero(typical):
        notes[0][i].append(f"terrain unknown (outside the DEM): costed as the region's typical "
                           f"{terrain[i]} terrain")
        notes[1][i].append(f"无高程数据，按全区典型地形（{_TERRAIN_ZH[str(terrain[i])]}）估算")
    shuttle = (t["roads_no_hardened"].to_numpy(float) == 0) & (tt > c.shuttle_threshold_min)
    rc = road_costs(harden, new, terrain, shuttle, c, rate=rate)
    t["roads_harden_m"] = np.round(harden, 1)
    t["roads_new_m"] = np.round(new, 1)
    t["roads_terrain"] = terrain
    t["roads_option"] = rc["option"].to_numpy()
    t["roads_capex_cny"] = rc["capex_cny"].round(0).to_numpy()
    t["roads_annualised_cny"] = rc["annualised_cny"].round(0).to_numpy()
    t["roads_beneficiaries"] = t["pop"].to_numpy(float)
    t["roads_poor_beneficiaries"] = t["poor_pop"].to_numpy(float) if "poor_pop" in t else np.nan
    out = assemble(t, "roads", CRITERIA, config, id_column="village_id", options=OPTIONS)
    out["tt_own_township_seat_min"] = np.where(no_route, np.nan, tt)  # no time: left empty
    _add_notes(out, no_route, notes)
    logger.info("roads: %s", out["roads_option"].value_counts().to_dict())
    return select_output(out, "roads", ["village_id"], CRITERIA)


def _seat_routes(
    t: pd.DataFrame, graph: RoadGraph, services: gpd.GeoDataFrame, xy: NDArray[np.float64],
    c: RoadCosts, names: NDArray[np.object_], notes: tuple[list[list[str]], list[list[str]]],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Metres to harden and footpath to build on each village's route to its own seat.

    Villages with a hardened road get zeros; villages whose township has no seat are
    warned about and noted in ``notes`` (en, zh). Returns the two lengths and the
    villages whose seat cannot be reached on the graph.

    Raises
    ------
    ValidationError
        A village needs a route and no township has a seat.
    """
    notes_en, notes_zh = notes
    seats = services[services["kind"] == "township_seat"].sort_values("service_id")
    seats = seats.drop_duplicates("township_id").set_index("township_id")
    harden = np.zeros(len(t))
    new = np.zeros(len(t))
    need_route = np.flatnonzero(t["roads_no_hardened"].to_numpy(float) > 0)
    has_seat = t["township_id"].isin(seats.index).to_numpy()
    seatless = need_route[~has_seat[need_route]]
    if seatless.size and len(seats) == 0:  # not one seat: nothing to rank access against
        msg = (f"roads: township {t['township_id'].iloc[seatless[0]]} has no township_seat in "
               f"the services layer (no township has one); add the seats (kind "
               f"township_seat, township_id) to route the villages")
        raise ValidationError(msg)
    if seatless.size:
        towns = sorted({str(v) for v in t["township_id"].iloc[seatless]})
        msg = (f"roads: township(s) {', '.join(towns)} have no township_seat in the services "
               f"layer, so the route of {seatless.size} village(s) cannot be costed: "
               f"{name_list(names[seatless])}; they are ranked with no works costed (add "
               f"each seat: kind township_seat, township_id)")
        warn_data(msg, logger=logger)
        for i in seatless:
            notes_en[i].append("route not costed: its township has no seat in the services "
                               "layer")
            notes_zh[i].append("所在乡镇无驻地数据，路线未估算")
    need_route = need_route[has_seat[need_route]]
    if not need_route.size:
        return harden, new, np.zeros(0, np.int64)
    sg = seats.loc[t["township_id"].iloc[need_route].to_numpy()].geometry
    txy = np.column_stack([sg.x.to_numpy(float), sg.y.to_numpy(float)])
    h, p = route_to_harden(graph, xy[need_route], txy, paved_weight=c.hardened_path_weight)
    harden[need_route] = np.where(np.isfinite(h), h, 0.0)
    new[need_route] = np.where(np.isfinite(p), p, 0.0)
    return harden, new, need_route[~np.isfinite(h)]


def _new_roads(
    build: NDArray[np.int64], unreachable: NDArray[np.int64], t: pd.DataFrame,
    graph: RoadGraph, xy: NDArray[np.float64], dem: Raster | None,
    typical: NDArray[np.bool_], c: RoadCosts, names: NDArray[np.object_],
    notes: tuple[list[list[str]], list[list[str]]], *,
    harden: NDArray[np.float64], new: NDArray[np.float64],
) -> None:
    """Cost a new road (least-cost path to the nearest hardened road) for each of ``build``.

    Writes the new road's length into ``new`` and, for the ``unreachable`` villages,
    zero into ``harden``. A village off the DEM gets the straight line (warned, noted).

    Raises
    ------
    ValidationError
        No DEM or no hardened road, or no path from a village on the DEM.
    """
    notes_en, notes_zh = notes
    hv = np.flatnonzero(graph.hardened)
    starts = graph.edge_start[hv]
    ends = graph.edge_end[hv]
    vidx = (np.concatenate([np.arange(s, e + 1) for s, e in zip(starts, ends, strict=True)])
            if hv.size else np.zeros(0, np.int64))  # no hardened road at all: said below
    hxy = graph.vertex_xy[vidx] if vidx.size else np.zeros((0, 2))
    if dem is None or hxy.shape[0] == 0:
        why = ("the region has no DEM (layers: dem: in region.yaml)" if dem is None else
               "no road in the region is hardened (check the roads layer's surface column "
               "and its values: recoding, e.g. 硬化路面: paved)")
        msg = (f"roads: {len(build)} village(s) far from every road need a new road, costed "
               f"over the DEM to the nearest hardened road, but {why}")
        raise ValidationError(msg)
    straight: list[int] = []
    for i in build:
        d = np.hypot(*(hxy - xy[i]).T)
        near = np.argsort(d)[:200]
        try:
            new[i] = least_cost_path(dem, xy[i], hxy[near], params=c.costpath).length_m
        except NetworkError as err:
            if not typical[i] and np.isfinite(dem.sample(xy[i, :1], xy[i, 1:]))[0]:
                msg = (f"roads: village {t['village_id'].iloc[i]}: no new road possible "
                       f"({err})")
                raise ValidationError(msg) from err
            # outside the DEM or on its nodata: the straight line to the hardened road
            new[i] = float(d.min())
            straight.append(int(i))
            notes_en[i].append("new road measured as a straight line (no DEM under the "
                               "village)")
            notes_zh[i].append("无高程数据，新建道路按直线距离估算")
        harden[i] = 0.0 if i in unreachable else harden[i]
    if straight:
        msg = (f"roads: {len(straight)} village(s) have no DEM value under them, so their "
               f"new road is the straight line to the nearest hardened road: "
               f"{name_list(names[straight])}")
        warn_data(msg, logger=logger)


def _add_notes(
    out: pd.DataFrame, no_route: NDArray[np.bool_],
    notes: tuple[list[list[str]], list[list[str]]],
) -> None:
    """Append the notes (en, zh) to ``roads_reasons`` / ``roads_reasons_zh`` in place.

    A village with no route to its seat gets that reason first, even when it is not
    among the top criteria already named.
    """
    notes_en, notes_zh = notes
    for i in np.flatnonzero(no_route):
        if _NO_ROUTE_EN not in out["roads_reasons"].iloc[i]:
            en, zh = _no_route_text({str(k): val for k, val in out.iloc[i].items()})
            notes_en[i].insert(0, en)
            notes_zh[i].insert(0, zh)
    out["roads_reasons"] = [
        r + "".join(f"; {n}" for n in extra)
        for r, extra in zip(out["roads_reasons"], notes_en, strict=True)]
    out["roads_reasons_zh"] = [
        r + "".join(f"；{n}" for n in extra)
        for r, extra in zip(out["roads_reasons_zh"], notes_zh, strict=True)]


def _compute(inputs: PriorityInputs, config: InterventionConfig, rate: float) -> pd.DataFrame:
    """:func:`roads_priorities` from the stage's inputs (the registry's ``compute``)."""
    return roads_priorities(inputs.villages, inputs.graph, inputs.services,
                            cast(RoadsConfig, config), dem=inputs.dem, rate=rate)


INTERVENTION = Intervention(
    name="roads", label_zh="道路", label_en="village roads", unit="village",
    options=OPTIONS, config_model=RoadsConfig, compute=_compute,
    needs_dem_or="relief_m", criteria=CRITERIA, columns=COLUMNS,
)
"""This intervention, as :mod:`contigmap.priority.registry` lists it."""
