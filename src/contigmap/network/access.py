"""Access measures per village / hamlet: travel times, RAI, hardened connectivity.

Their per-township and per-county summaries are :mod:`contigmap.network.access_summary`.

Definitions
-----------
``tt_<kind>_min``
    Minutes from the settlement to the nearest service of that kind "by vehicle": an
    off-road walking leg (Tobler × 3/5) to the nearest point of the nearest road, then
    each edge at the faster of driving (where drivable and open in the season) and
    walking, then the service's own walking leg. ``walk_<kind>_min``: all on foot.
``tt_own_township_seat_min``
    The same to the seat of the settlement's *own* township (matched by ``township_id``).
``all_season_2km``
    Within ``rai_distance_m`` (2 km, straight line) of an all-season road: by default a
    hardened road (硬化路, surface ``paved``) of any class but footpaths; gravel does not
    count (``NetworkParams.all_season_surfaces`` / ``all_season_classes`` change it). The
    Rural Access Index (SDG 9.1.1; Roberts, Shyam and Rastogi 2006) is the population
    share with ``all_season_2km``; every summary table carries the definition used in
    ``rai_definition`` (:meth:`NetworkParams.rai_definition`).
``walk_leg_min``
    The off-road leg from the settlement to its road, a footpath with capped grade
    (:meth:`NetworkParams.leg_minutes`); :func:`access_legs` lists every leg, of
    settlements and services alike.
``hardened_to_township``
    A path to the own township seat over hardened (paved) edges only, with walking legs of
    at most ``hardened_leg_max_m`` at both ends. ``dist_hardened_road_m``: straight-line
    distance to the nearest hardened road.
``isolated``
    Farther than ``isolated_distance_m`` from every road, or on a piece of network not
    connected to the county seat (to the largest piece when there is no county seat).
``rainy_unreachable``
    No rainy-season route by vehicle alone (edges drivable and open in the rainy season,
    walking legs ≤ ``isolated_distance_m``) to the own township seat (the county seat when
    the township has none).
``access_problem``
    Why a settlement has no travel time to its own township seat (empty when it has
    one), the first that applies of :data:`ACCESS_PROBLEMS`: ``no_township_seat`` (the
    services layer lists no seat for its township), ``no_road_within_reach`` (farther
    than ``isolated_distance_m`` from every road, and no route), ``dem_void`` (the DEM
    has no value under it, and no route), ``network_piece_without_seat`` (its nearest
    road belongs to a piece of the network its seat is not on). Such settlements are
    kept, with ``nan`` / ``inf`` times, and named in a
    :class:`~contigmap.errors.DataQualityWarning`; the priority stage ranks them with
    what is known.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import CRS
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from contigmap.columns import ColumnInfo, register_columns
from contigmap.errors import DataQualityWarning, NetworkError
from contigmap.network.attach import Attachment, attach_points
from contigmap.network.build import Mode, RoadGraph
from contigmap.network.snap import snap_points
from contigmap.network.speeds import Season
from contigmap.schema import SERVICE_KINDS

__all__ = [
    "ACCESS_PROBLEMS",
    "access_legs",
    "access_measures",
    "component_report",
    "travel_time_edges",
]

logger = logging.getLogger(__name__)

ACCESS_PROBLEMS: dict[str, tuple[str, str]] = {
    "no_township_seat": ("its township has no seat in the services layer",
                         "所在乡镇在服务设施图层中没有驻地"),
    "no_road_within_reach": ("no road within reach", "附近没有道路"),
    "dem_void": ("the DEM has no value under it", "高程数据在该处缺失"),
    "network_piece_without_seat": ("its piece of the road network does not reach the "
                                   "township seat", "所在路网片段不通乡镇驻地"),
}
"""``access_problem`` values, with their English and Chinese wording for reasons."""

register_columns([
    ColumnInfo("access_problem", "why there is no travel time to the own township seat "
               "(empty when there is one): no_township_seat, no_road_within_reach, dem_void, "
               "network_piece_without_seat", "无法到达乡镇驻地的原因", "", "network / access"),
])


def _access_problems(
    pts: gpd.GeoDataFrame,
    own_tt: NDArray[np.float64],
    own: NDArray[np.int64],
    dist_road: NDArray[np.float64],
    same_piece: NDArray[np.bool_],
    z: NDArray[np.float64],
    has_dem: bool,
    isolated_m: float,
    layer: str,
) -> NDArray[np.object_]:
    """Label why each point without an own-seat time has none, and warn naming them."""
    from contigmap.terrain import name_list

    n = own_tt.size
    problem = np.full(n, "", dtype=object)
    none = ~np.isfinite(own_tt)
    problem[none & (own < 0)] = "no_township_seat"
    rest = none & (own >= 0)
    far = rest & ~(dist_road <= isolated_m)
    problem[far] = "no_road_within_reach"
    rest &= ~far
    void = rest & same_piece & has_dem & ~np.isfinite(z)
    problem[void] = "dem_void"
    problem[rest & ~void] = "network_piece_without_seat"
    if none.any():
        id_col = next((c for c in ("name", "village_id", "hamlet_id") if c in pts.columns), None)
        names = (pts[id_col].astype(str).to_numpy() if id_col is not None
                 else np.arange(n).astype(str))
        parts = []
        for key, (en, _) in ACCESS_PROBLEMS.items():
            sel = problem == key
            if sel.any():
                parts.append(f"{int(sel.sum())} {en} ({key}): {name_list(names[sel])}")
        msg = (f"{layer}: {int(none.sum())} of {n} cannot reach their own township seat — "
               f"{'; '.join(parts)}. They are kept with no travel time (column "
               f"access_problem); the road priorities rank them as the strongest need")
        # a warning, not a log line: a scenario that cuts villages off silences it
        warnings.warn(msg, DataQualityWarning, stacklevel=4)
    return problem


def _points_xy(gdf: gpd.GeoDataFrame, layer: str, graph: RoadGraph) -> NDArray[np.float64]:
    if gdf.crs is None or not CRS.from_user_input(gdf.crs).equals(graph.crs):
        msg = (f"{layer}: CRS {gdf.crs} differs from the road graph's ({graph.crs.name}); "
               f"reproject it with .to_crs() to the working CRS first")
        raise NetworkError(msg)
    geom = gdf.geometry
    if len(geom) and not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    if geom.is_empty.any() or geom.isna().any():
        i = int(np.flatnonzero(np.asarray(geom.is_empty | geom.isna()))[0])
        msg = f"{layer}: row {i} has no geometry; fix or drop it before routing"
        raise NetworkError(msg)
    return np.column_stack([geom.x.to_numpy(float), geom.y.to_numpy(float)])


def _subgraph_labels(graph: RoadGraph, mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    n = graph.n_nodes
    adj = coo_matrix((np.ones(int(mask.sum())), (graph.u[mask], graph.v[mask])), shape=(n, n))
    _, labels = connected_components(adj, directed=False)
    return np.asarray(labels, dtype=np.int64)


def _connected_to(
    graph: RoadGraph,
    mask: NDArray[np.bool_],
    name: str,
    xy: NDArray[np.float64],
    target_of: NDArray[np.int64],
    max_leg_m: float,
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Whether point i joins (leg ≤ max) the same ``mask`` component as point ``target_of[i]``."""
    snap = snap_points(graph, xy, edge_mask=mask, mask_name=name)
    labels = _subgraph_labels(graph, mask)
    ok = (snap.edge >= 0) & (snap.dist_m <= max_leg_m)
    lab = np.where(ok, labels[graph.u[np.maximum(snap.edge, 0)]], -1)
    has_t = target_of >= 0
    tl = np.where(has_t, lab[np.maximum(target_of, 0)], -1)
    return (lab >= 0) & (tl >= 0) & (lab == tl), snap.dist_m


def _with_township(points: gpd.GeoDataFrame, services: gpd.GeoDataFrame,
                   villages: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Return a copy of ``points`` with ``township_id`` (from ``villages`` for hamlets)."""
    pts = points.copy()
    if "township_id" not in pts.columns:
        if villages is not None and "village_id" in pts.columns:
            tmap = villages.set_index("village_id")["township_id"]
            pts["township_id"] = pts["village_id"].map(tmap)
        else:
            msg = ("points have no 'township_id'; pass villages= to take it from the village "
                   "of each hamlet (by village_id)")
            raise NetworkError(msg)
    for col in ("service_id", "kind"):
        if col not in services.columns:
            msg = f"services layer has no '{col}' column; map it in the manifest's 'columns'"
            raise NetworkError(msg)
    return pts


def _nearest_service_times(att: Attachment, services: gpd.GeoDataFrame,
                           kinds: NDArray[np.object_], n_p: int,
                           season: Season) -> dict[str, Any]:
    """``tt_<kind>_min``, ``walk_<kind>_min`` and ``nearest_township_seat_id`` columns."""
    cols: dict[str, Any] = {}
    for kind in SERVICE_KINDS:
        targets = n_p + np.flatnonzero(kinds == kind)
        # schools of kind 'school' stand for both levels (contigmap.network.facilities
        # splits them by name), so a region with them lacks neither level
        covered = kind in ("primary_school", "middle_school") and bool((kinds == "school").any())
        if targets.size == 0 and not covered:
            warnings.warn(
                f"services: no '{kind}'; tt_{kind}_min and walk_{kind}_min are left empty",
                DataQualityWarning,
                stacklevel=3,
            )
        tt, which = att.times_to_nearest(
            targets, mode="vehicle", season=season, with_source=kind == "township_seat"
        )
        wt, _ = att.times_to_nearest(targets, mode="walk", season=season)
        cols[f"tt_{kind}_min"] = np.where(targets.size, tt[:n_p], np.nan)
        cols[f"walk_{kind}_min"] = np.where(targets.size, wt[:n_p], np.nan)
        if kind == "township_seat":
            sid = np.asarray(services["service_id"], dtype=object)
            w = which[:n_p]
            nid = np.full(n_p, None, dtype=object)
            nid[w >= n_p] = sid[w[w >= n_p] - n_p]
            cols["nearest_township_seat_id"] = nid

    return cols


def _own_seats(services: gpd.GeoDataFrame, kinds: NDArray[np.object_],
               pts: gpd.GeoDataFrame) -> NDArray[np.int64]:
    """Per point, the position among services of its township's seat (``-1``: none).

    The first seat by ``service_id`` when a township lists several; warns for
    townships without a seat.
    """
    seat_rows = services[services["kind"] == "township_seat"]
    if "township_id" in seat_rows.columns and len(seat_rows):
        seat_rows = seat_rows.assign(_pos=np.flatnonzero(kinds == "township_seat"))
        seat_rows = seat_rows.sort_values("service_id").drop_duplicates("township_id")
        seat_of = dict(zip(seat_rows["township_id"], seat_rows["_pos"], strict=True))
    else:
        seat_of = {}
    ptown = np.asarray(pts["township_id"], dtype=object)
    own = np.array([seat_of.get(t, -1) for t in ptown], dtype=np.int64)
    lacking = sorted({str(t) for t, o in zip(ptown, own, strict=True) if o < 0})
    if lacking:
        warnings.warn(
            f"services: no township_seat for township(s) {', '.join(lacking[:5])}"
            f"{' ...' if len(lacking) > 5 else ''}; their own-seat measures are left empty",
            DataQualityWarning,
            stacklevel=3,
        )
    return own


def _own_seat_times(att: Attachment, own: NDArray[np.int64], n_p: int,
                    season: Season) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vehicle and walking minutes from each point to its own township seat.

    One bounded search per seat on the contracted core
    (:meth:`contigmap.network.Attachment.times_to_own`): memory linear in the graph and
    the points, never seats × points.
    """
    own_tt = np.full(n_p, np.nan)
    own_walk = np.full(n_p, np.nan)
    has = own >= 0
    if has.any():
        target_of = np.full(att.n_points, -1, np.int64)
        target_of[:n_p] = np.where(has, n_p + own, -1)
        own_tt[has] = att.times_to_own(target_of, mode="vehicle", season=season)[:n_p][has]
        own_walk[has] = att.times_to_own(target_of, mode="walk", season=season)[:n_p][has]

    return own_tt, own_walk


def _flags(graph: RoadGraph, att: Attachment, pts: gpd.GeoDataFrame,
           pxy: NDArray[np.float64], own: NDArray[np.int64], own_tt: NDArray[np.float64],
           kinds: NDArray[np.object_], n_s: int, season: Season) -> dict[str, Any]:
    """Distances to roads, the all-season / hardened / isolated / rainy flags, problems."""
    params = graph.params
    n_p = pxy.shape[0]
    cols: dict[str, Any] = {}
    all_xy = att.xy
    dist_road = att.snap.dist_m[:n_p]
    cols["dist_road_m"] = dist_road
    cols["walk_leg_min"] = att.legs("vehicle", season)[0][:n_p]
    near_road = np.full(n_p, None, dtype=object)
    on = att.snap.edge[:n_p] >= 0
    near_road[on] = graph.road_id[att.snap.edge[:n_p][on]]
    cols["nearest_road_id"] = near_road
    as_snap = snap_points(graph, pxy, edge_mask=graph.all_season, mask_name="all_season")
    cols["dist_all_season_m"] = as_snap.dist_m
    cols["all_season_2km"] = as_snap.dist_m <= params.rai_distance_m
    target_of = np.concatenate([np.where(own >= 0, n_p + own, -1), np.full(n_s, -1)])
    hard_ok, hard_dist = _connected_to(
        graph, graph.hardened, "hardened", all_xy, target_of, params.hardened_leg_max_m
    )
    cols["dist_hardened_road_m"] = hard_dist[:n_p]
    cols["hardened_to_township"] = hard_ok[:n_p]

    county = n_p + np.flatnonzero(kinds == "county_seat")
    comp = np.where(
        att.snap.edge >= 0, graph.node_component[graph.u[np.maximum(att.snap.edge, 0)]], -1
    )
    main = int(comp[county[0]]) if county.size else 0
    cols["isolated"] = (dist_road > params.isolated_distance_m) | (comp[:n_p] != main)

    rainy_target = np.where(own >= 0, n_p + own, county[0] if county.size else -1)
    target_of_r = np.concatenate([rainy_target, np.full(n_s, -1)])
    rainy_ok, _ = _connected_to(
        graph, np.isfinite(graph.drive_rainy_min), "drive:rainy", all_xy, target_of_r,
        params.isolated_distance_m,
    )
    cols["rainy_unreachable"] = ~rainy_ok[:n_p]
    seat_comp = np.where(own >= 0, comp[n_p + np.maximum(own, 0)] if n_s else -1, -1)
    cols["access_problem"] = _access_problems(
        pts, own_tt, own, dist_road, (comp[:n_p] >= 0) & (comp[:n_p] == seat_comp),
        att.dem_z[:n_p], graph.dem is not None,
        params.isolated_distance_m, "villages" if "hamlet_id" not in pts.columns else "hamlets",
    )
    return cols


def access_measures(
    graph: RoadGraph,
    points: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    villages: gpd.GeoDataFrame | None = None,
    season: Season | None = None,
) -> gpd.GeoDataFrame:
    """Travel times and access flags for villages (or hamlets), as new columns.

    Parameters
    ----------
    graph
        The road graph (:func:`contigmap.network.build_network`).
    points
        Villages (``village_id``, ``township_id``, ``pop``) or hamlets (``hamlet_id``,
        ``village_id``, ``pop``; their ``township_id`` comes from ``villages``), in the
        graph's CRS. Polygons are replaced by a representative point.
    services
        ``service_id``, ``kind`` (:data:`contigmap.schema.SERVICE_KINDS`) and, for township
        seats, ``township_id``.
    villages
        Needed for hamlets without a ``township_id``.
    season
        ``dry`` or ``rainy`` for the travel times; the graph's ``params.season`` when
        omitted.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``points`` with the columns described in the module docstring, plus
        ``dist_road_m``, ``walk_leg_min``, ``nearest_road_id``, ``nearest_township_seat_id``.

    Warns
    -----
    DataQualityWarning
        No service of some kind (its columns are ``nan``); a township without a seat.
    """
    params = graph.params
    season = season or params.season
    pts = _with_township(points, services, villages)
    pxy = _points_xy(pts, "points", graph)
    sxy = _points_xy(services, "services", graph) if len(services) else np.zeros((0, 2))
    n_p = pxy.shape[0]
    att = attach_points(graph, np.vstack([pxy, sxy]), nodes=n_p + np.arange(len(sxy)))
    kinds = np.asarray(services["kind"], dtype=object)
    unknown = sorted({str(k) for k in kinds} - set(SERVICE_KINDS))
    if unknown:
        msg = (f"services: unknown kind(s) {', '.join(unknown)}; use one of "
               f"{', '.join(SERVICE_KINDS)}")
        raise NetworkError(msg)
    cols = _nearest_service_times(att, services, kinds, n_p, season)
    own = _own_seats(services, kinds, pts)
    own_tt, own_walk = _own_seat_times(att, own, n_p, season)
    cols["tt_own_township_seat_min"] = own_tt
    cols["walk_own_township_seat_min"] = own_walk
    cols.update(_flags(graph, att, pts, pxy, own, own_tt, kinds, len(sxy), season))
    for name, values in cols.items():
        pts[name] = values
    logger.info(
        "access: %d points, %d services; %d isolated, %d without hardened road to township",
        n_p, len(sxy), int(np.sum(cols["isolated"])), int(np.sum(~cols["hardened_to_township"])),
    )
    return pts


def access_legs(
    graph: RoadGraph,
    points: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame | None = None,
    *,
    kind: str = "village",
    id_col: str = "village_id",
) -> pd.DataFrame:
    """Every off-road walking leg: settlement or service to its nearest road point.

    The legs are those :func:`access_measures` uses (nearest point of the nearest edge,
    footpath time by :meth:`NetworkParams.leg_minutes` with the graph's settings).

    Parameters
    ----------
    graph
        The road graph.
    points
        Villages (or hamlets) in the graph's CRS, with ``id_col`` and optionally ``name``.
    services
        Services (``service_id``, ``kind``, optionally ``name``); their legs follow.
    kind, id_col
        The points' kind in the table and their id column.

    Returns
    -------
    pandas.DataFrame
        One row per point: ``id``, ``name``, ``kind`` (``village``/``hamlet`` or the
        service kind), ``leg_length_m`` (straight line), ``leg_path_m`` (the footpath's
        horizontal length, longer where it zigzags), ``leg_rise_m`` (to the road),
        ``leg_grade`` (rise / straight length), ``leg_min`` (to the road), ``leg_back_min``
        (from the road), ``edge`` (graph edge index, ``-1``: none) and ``road_id``.
    """
    frames = [(points, kind, id_col)]
    blocks = [_points_xy(points, "points", graph)]
    if services is not None and len(services):
        frames.append((services, "", "service_id"))
        blocks.append(_points_xy(services, "services", graph))
    xy = np.vstack(blocks)
    att = attach_points(graph, xy, nodes=np.zeros(0, np.int64))
    snap, dz = att.leg_geometry("vehicle", graph.params.season)
    t_in, path = graph.params.leg_minutes(snap.dist_m, dz)
    t_out, _ = graph.params.leg_minutes(snap.dist_m, -dz)
    ids: list[Any] = []
    names: list[Any] = []
    kinds: list[Any] = []
    for frame, k, col in frames:
        ids.extend(frame[col].tolist() if col in frame.columns else [None] * len(frame))
        names.extend(frame["name"].tolist() if "name" in frame.columns else [None] * len(frame))
        kinds.extend(frame["kind"].tolist() if not k else [k] * len(frame))
    edge = snap.edge
    road = np.full(edge.size, None, dtype=object)
    road[edge >= 0] = np.asarray(graph.road_id, dtype=object)[edge[edge >= 0]]
    with np.errstate(invalid="ignore", divide="ignore"):
        grade = np.where(snap.dist_m > 0, dz / snap.dist_m, 0.0)
    return pd.DataFrame({
        "id": ids, "name": names, "kind": kinds,
        "leg_length_m": np.round(snap.dist_m, 1), "leg_path_m": np.round(path, 1),
        "leg_rise_m": np.round(dz, 1), "leg_grade": np.round(grade, 4),
        "leg_min": np.round(t_in, 2), "leg_back_min": np.round(t_out, 2),
        "edge": edge, "road_id": road,
    })


def travel_time_edges(
    graph: RoadGraph,
    services: gpd.GeoDataFrame,
    *,
    kind: str = "township_seat",
    mode: Mode = "vehicle",
    season: Season | None = None,
) -> gpd.GeoDataFrame:
    """Road edges coloured by travel time to the nearest service of ``kind`` (a map layer).

    Returns
    -------
    geopandas.GeoDataFrame
        The graph's edges (:meth:`RoadGraph.edges_gdf`) with ``tt_u_min``, ``tt_v_min`` (from
        each end node to the nearest service) and ``tt_min`` (their mean).
    """
    if kind not in SERVICE_KINDS:
        msg = f"kind '{kind}' is not one of {', '.join(SERVICE_KINDS)}"
        raise NetworkError(msg)
    sel = services[services["kind"] == kind]
    if len(sel) == 0:
        msg = f"services: no '{kind}' to measure travel times from; add one or choose another kind"
        raise NetworkError(msg)
    att = attach_points(graph, _points_xy(sel, "services", graph))
    node_t = att.node_times(np.arange(len(sel)), mode=mode, season=season or graph.params.season)
    edges = graph.edges_gdf()
    edges["tt_u_min"] = node_t[graph.u]
    edges["tt_v_min"] = node_t[graph.v]
    edges["tt_min"] = (edges["tt_u_min"] + edges["tt_v_min"]) / 2
    return edges


def component_report(graph: RoadGraph, villages: gpd.GeoDataFrame) -> pd.DataFrame:
    """List the connected pieces of the network with their length, villages and people.

    Villages are assigned to the piece of their nearest road. Warns
    (:class:`~contigmap.errors.DataQualityWarning`) when people live on pieces other than
    the largest (0).

    Returns
    -------
    pandas.DataFrame
        ``component, nodes, edges, length_km, villages, pop``, largest first.
    """
    comp_e = graph.node_component[graph.u]
    n_c = graph.n_components
    xy = _points_xy(villages, "villages", graph)
    snap = snap_points(graph, xy)
    vc = np.where(snap.edge >= 0, comp_e[np.maximum(snap.edge, 0)], -1)
    pop = villages["pop"].to_numpy(float) if "pop" in villages else np.ones(len(villages))
    ok = vc >= 0
    out = pd.DataFrame({
        "component": np.arange(n_c),
        "nodes": np.bincount(graph.node_component, minlength=n_c),
        "edges": np.bincount(comp_e, minlength=n_c),
        "length_km": np.bincount(comp_e, weights=graph.length_m, minlength=n_c) / 1000.0,
        "villages": np.bincount(vc[ok], minlength=n_c),
        "pop": np.bincount(vc[ok], weights=pop[ok], minlength=n_c),
    })
    outside = out.loc[out["component"] > 0]
    if len(outside) and outside["pop"].sum() > 0:
        warnings.warn(
            f"road network is in {n_c} pieces: {int(outside['villages'].sum())} villages "
            f"({outside['pop'].sum():.0f} people) are nearest to a piece not connected to the "
            f"largest; check for gaps larger than snap_tolerance_m="
            f"{graph.params.snap_tolerance_m} m",
            DataQualityWarning,
            stacklevel=2,
        )
    return out
