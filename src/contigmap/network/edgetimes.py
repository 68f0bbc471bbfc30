"""Travel times along road edges: one definition for the graph, the joins and the updates.

Every travel time of the network engine is built from these functions, so the road
graph (:func:`contigmap.network.build.build_network`, :meth:`RoadGraph.edge_times`), the
points joined part-way along an edge (:class:`contigmap.network.attach.Attachment`) and the
incremental access model that re-times upgraded edges
(:class:`contigmap.network.access_model.AccessModel`) cannot drift apart:

* :func:`segment_minutes` — per polyline segment: vehicle minutes (speed of the class and
  surface × the slope factor) and walking minutes both ways (Tobler on the grade);
* :func:`edge_drive_minutes` — an edge's dry and rainy vehicle minutes from its segments
  (``inf`` where the class / surface is not drivable, or closed in the rainy season);
* :func:`walk_rainy_factor` — the rainy-season multiplier of walking speed per surface;
* :func:`edge_mode_times` — per direction, the minutes of a travel mode (``vehicle``:
  the faster of driving and walking);
* :func:`join_partials` — minutes from an edge's start to a point part-way along it,
  each direction in the mode the whole edge uses;
* :class:`EdgeChange` (road upgrades and closures), :func:`retime_edge` and
  :func:`partial_at` — one edge of a built graph re-timed with another class / surface,
  and its joins, by the functions above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from contigmap.errors import NetworkError
from contigmap.network.speeds import NetworkParams, Season, slope_factor
from contigmap.schema import SURFACES

__all__ = [
    "KMH_TO_M_PER_MIN",
    "EdgeChange",
    "Mode",
    "edge_drive_minutes",
    "edge_mode_times",
    "join_partials",
    "partial_at",
    "retime_edge",
    "segment_grade",
    "segment_minutes",
    "walk_rainy_factor",
]

Mode = Literal["vehicle", "walk", "drive"]
"""``vehicle``: drive where drivable (open in the season), walk elsewhere — each edge at the
faster of the two; ``walk``: on foot everywhere; ``drive``: drivable edges only."""

KMH_TO_M_PER_MIN = 1000.0 / 60.0

Float = NDArray[np.float64]


def segment_grade(seg_len: Float, dz: Float) -> Float:
    """Signed grade (rise / run) of segments; 0 where a segment has no length or no rise."""
    return np.asarray(
        np.where(seg_len > 0, np.nan_to_num(dz) / np.where(seg_len > 0, seg_len, 1.0), 0.0),
        dtype=float)


def segment_minutes(
    seg_len: Float, grade: Float, speed_kmh: Float, params: NetworkParams
) -> tuple[Float, Float, Float]:
    """Dry-season minutes of segments: vehicle, walking forward, walking backward.

    Parameters
    ----------
    seg_len
        Segment lengths (m).
    grade
        Signed grades in the forward direction.
    speed_kmh
        Dry vehicle speed of each segment's class and surface (``nan``: not drivable).
    params
        Slope penalty and Tobler settings.

    Returns
    -------
    tuple of numpy.ndarray
        ``(drive, walk_fwd, walk_bwd)``; ``drive`` is ``nan`` where not drivable.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        drive = seg_len / (speed_kmh * slope_factor(grade, params) * KMH_TO_M_PER_MIN)
    walk_f = seg_len / (params.walk_kmh(grade) * KMH_TO_M_PER_MIN)
    walk_b = seg_len / (params.walk_kmh(-grade) * KMH_TO_M_PER_MIN)
    return np.asarray(drive, dtype=float), walk_f, walk_b


def edge_drive_minutes(
    drive_sum: Float, road_class: NDArray[np.integer], surface: NDArray[np.integer],
    params: NetworkParams,
) -> tuple[Float, Float]:
    """Dry and rainy vehicle minutes of edges from the sum of their segments' minutes.

    ``inf`` where the class / surface is not drivable (dry) or closed in the rainy season;
    rainy minutes are the dry ones divided by the rainy/dry speed ratio.
    """
    dry_speed = params.speed_table("dry")[road_class, surface]
    rainy_speed = params.speed_table("rainy")[road_class, surface]
    dry = np.where(np.isfinite(dry_speed), drive_sum, np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        rainy_factor = rainy_speed / dry_speed
    rainy = np.where(np.isfinite(rainy_factor), dry / rainy_factor, np.inf)
    return np.asarray(dry, dtype=float), np.asarray(rainy, dtype=float)


def walk_rainy_factor(surface: NDArray[np.integer], params: NetworkParams) -> Float:
    """Rainy-season multiplier of walking speed per surface code."""
    table = np.array([params.walk_rainy_factor[s] for s in SURFACES], dtype=float)
    return np.asarray(table[surface], dtype=float)


def edge_mode_times(
    drive: Float, walk_f: Float, walk_b: Float, wrf: Float, mode: Mode, season: Season
) -> tuple[Float, Float, NDArray[np.bool_], NDArray[np.bool_]]:
    """Per edge and direction, the minutes of ``mode``, and whether each direction drives.

    Parameters
    ----------
    drive
        Vehicle minutes of the season (``inf``: not drivable).
    walk_f, walk_b
        Dry-season walking minutes ``u → v`` and ``v → u``.
    wrf
        Rainy-season walking speed multiplier (used when ``season`` is ``rainy``).
    mode, season
        Travel mode and season.

    Returns
    -------
    tuple
        ``(fwd, bwd, drives_f, drives_b)``; ``inf`` marks an edge the mode cannot use.
    """
    if season == "rainy":
        walk_f = walk_f / wrf
        walk_b = walk_b / wrf
    if mode == "walk":
        no = np.zeros(np.shape(drive), bool)
        return walk_f, walk_b, no, no
    if mode == "drive":
        yes = np.isfinite(drive)
        return drive, drive, yes, yes
    if mode != "vehicle":
        msg = f"unknown mode '{mode}'; use 'vehicle', 'walk' or 'drive'"
        raise NetworkError(msg)
    drives_f = np.asarray(drive <= walk_f, dtype=bool)
    drives_b = np.asarray(drive <= walk_b, dtype=bool)
    return (np.asarray(np.where(drives_f, drive, walk_f), dtype=float),
            np.asarray(np.where(drives_b, drive, walk_b), dtype=float), drives_f, drives_b)


def join_partials(
    part_drive: Float, part_walk_f: Float, part_walk_b: Float, *,
    drive_dry: Float, drive: Float, walk_f: Float, walk_b: Float, wrf: Float,
    mode: Mode, season: Season,
) -> tuple[Float, Float]:
    """Minutes from an edge's start ``u`` to points part-way along it, and back.

    Parameters
    ----------
    part_drive, part_walk_f, part_walk_b
        Dry-season minutes of the segments from ``u`` to each point (vehicle, walking
        ``u → point``, walking ``point → u``).
    drive_dry, drive
        The whole edge's dry and season vehicle minutes.
    walk_f, walk_b
        The whole edge's dry walking minutes each way.
    wrf
        Rainy-season walking speed multiplier of the edge.
    mode, season
        Travel mode and season.

    Returns
    -------
    tuple of numpy.ndarray
        ``(u → point, point → u)``, each direction in the mode :func:`edge_mode_times`
        chooses for the whole edge.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        dscale = np.where(np.isfinite(drive), drive / drive_dry, np.inf)
        drive_p = part_drive * dscale
    wscale = 1.0 / wrf if season == "rainy" else np.ones(np.shape(part_drive))
    if mode == "drive":
        return np.asarray(drive_p, dtype=float), np.asarray(drive_p, dtype=float)
    walk_f_p, walk_b_p = part_walk_f * wscale, part_walk_b * wscale
    _, _, drives_f, drives_b = edge_mode_times(drive, walk_f, walk_b, wrf, mode, season)
    return (np.asarray(np.where(drives_f, drive_p, walk_f_p), dtype=float),
            np.asarray(np.where(drives_b, drive_p, walk_b_p), dtype=float))


def retime_edge(
    graph: Any, e: int, cls_code: int, srf_code: int, closed: bool, mode: Mode, season: Season
) -> dict[str, Any]:
    """Edge ``e`` of ``graph`` re-timed with a class / surface (or closed).

    The graph's own arrays when the class and surface are the edge's; else its segments
    re-timed by :func:`segment_minutes` and :func:`edge_drive_minutes` as
    :func:`contigmap.network.build.build_network` times them.

    Returns
    -------
    dict
        ``fwd`` / ``bwd`` (the mode's minutes each way; ``inf`` when closed) and what
        :func:`partial_at` needs (``a``: first vertex, per-segment dry minutes ``seg_drive``,
        ``wf``, ``wb``, the edge totals ``edge``).
    """
    g = graph
    params = g.params
    a, b = int(g.edge_start[e]), int(g.edge_end[e])
    cls_a = np.array([cls_code], np.int64)
    srf_a = np.array([srf_code], np.int64)
    if cls_code == g.road_class[e] and srf_code == g.surface[e]:
        seg_drive = np.asarray(g.seg_drive_min[a:b], dtype=float)
        drive_dry = np.array([g.drive_dry_min[e]], dtype=float)
        drive_rainy = np.array([g.drive_rainy_min[e]], dtype=float)
    else:
        d = g.seg_len_m[a:b]
        z = g.vertex_z[a : b + 1]
        dz = z[1:] - z[:-1] if z.size > 1 else np.zeros(0)
        speed = np.full(d.size, params.speed_table("dry")[cls_code, srf_code])
        seg_drive, _, _ = segment_minutes(d, segment_grade(d, dz), speed, params)
        drive_dry, drive_rainy = edge_drive_minutes(
            np.array([np.nan_to_num(seg_drive, nan=0.0).sum()]), cls_a, srf_a, params)
    edge = {
        "drive_dry": drive_dry, "drive": drive_dry if season == "dry" else drive_rainy,
        "walk_f": np.array([g.walk_fwd_min[e]], dtype=float),
        "walk_b": np.array([g.walk_bwd_min[e]], dtype=float),
        "wrf": walk_rainy_factor(srf_a, params),
    }
    fwd, bwd, _, _ = edge_mode_times(edge["drive"], edge["walk_f"], edge["walk_b"],
                                     edge["wrf"], mode, season)
    return {"a": a, "seg_drive": np.nan_to_num(seg_drive, nan=0.0),
            "wf": np.asarray(g.seg_walk_fwd_min[a:b], dtype=float),
            "wb": np.asarray(g.seg_walk_bwd_min[a:b], dtype=float), "edge": edge,
            "fwd": np.inf if closed else float(fwd[0]),
            "bwd": np.inf if closed else float(bwd[0])}


def partial_at(
    state: dict[str, Any], seg: int, t: float, mode: Mode, season: Season
) -> tuple[float, float]:
    """``(u → join, join → u)`` minutes to a join at ``t`` along segment ``seg`` of an edge.

    ``state`` is the edge's :func:`retime_edge`; the segments' minutes up to the join go
    through :func:`join_partials`, as every other join does.
    """
    k = seg - state["a"]

    def part(values: Float) -> Float:
        return np.array([float(values[:k].sum() + t * values[k]) if k < values.size
                         else float(values.sum())])

    cf, cb = join_partials(part(state["seg_drive"]), part(state["wf"]), part(state["wb"]),
                           **state["edge"], mode=mode, season=season)
    return float(cf[0]), float(cb[0])


@dataclass(frozen=True)
class EdgeChange:
    """Changed road edges: a new class and / or surface, or a closure.

    Evaluated by :class:`contigmap.network.access_model.AccessModel`.

    Attributes
    ----------
    edges
        Edge indices of the road graph.
    road_class, surface
        New class / surface codes (into :data:`contigmap.schema.ROAD_CLASSES` /
        :data:`~contigmap.schema.SURFACES`) per edge; ``-1`` keeps the edge's own.
    closed
        Per edge: the edge fails (leaves the network for every mode).
    """

    edges: NDArray[np.int64]
    road_class: NDArray[np.int64]
    surface: NDArray[np.int64]
    closed: NDArray[np.bool_]

    @classmethod
    def upgrade(cls, edges: ArrayLike, road_class: int = -1, surface: int = -1) -> EdgeChange:
        """Give ``edges`` a new class and / or surface code."""
        e = np.unique(np.asarray(edges, dtype=np.int64).ravel())
        return cls(e, np.full(e.size, road_class, np.int64), np.full(e.size, surface, np.int64),
                   np.zeros(e.size, bool))

    @classmethod
    def close(cls, edges: ArrayLike) -> EdgeChange:
        """Close ``edges``."""
        e = np.unique(np.asarray(edges, dtype=np.int64).ravel())
        return cls(e, np.full(e.size, -1, np.int64), np.full(e.size, -1, np.int64),
                   np.ones(e.size, bool))
