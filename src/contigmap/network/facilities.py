"""Access to facilities: bounded many-to-many travel times and E2SFCA accessibility.

Health and schooling need, per village, the time to the nearest facility of a kind
(村卫生室 ``clinic``, 乡镇卫生院 ``health_centre``, 县医院 ``hospital``, 小学
``primary_school``, 初中 ``middle_school``) and a capacity-aware measure that needs
*every* village × facility time within a cutoff.

* :func:`facility_kinds` reads the service kinds, keeping the older ``school``: a school
  is a lower-secondary school when its name says 中学/初中, a primary school otherwise.
* :func:`bounded_times` is the bounded many-to-many search. Villages and facilities are
  attached as graph nodes (:func:`contigmap.network.attach.attach_points`), the graph is
  contracted around them once (:meth:`Attachment.core`), and Dijkstra with a ``limit``
  (``scipy.sparse.csgraph.dijkstra(limit=cutoff)``, Dijkstra 1959) runs on the reversed
  core from a batch of facilities at a time. Each batch (facilities sharing a cell of
  the search's reach) searches only the core nodes the cutoff can reach
  (:class:`~contigmap.network.neighbourhood.NeighbourhoodSearch`), which is exact and
  makes a search cost what the cutoff reaches. Only the (village,
  facility, minutes) triples within the cutoff are kept: the output is sparse, and no
  dense village × facility matrix is formed.
* :func:`e2sfca` is the enhanced two-step floating catchment area of Luo and Qi (2009,
  Health & Place 15(4) 1100-1107): step 1 gives facility ``j`` the supply-to-demand ratio
  ``R_j = S_j / Σ_k P_k W(t_kj)`` over the villages within the cutoff; step 2 sums
  ``A_i = Σ_j R_j W(t_ij)`` over the facilities within the cutoff. ``W`` is a Gaussian
  ``exp(-t² / 2σ²)`` (as ``access.weights.gaussian`` of pysal's ``access`` package) or
  step weights (Luo and Qi's zones 0-10, 10-20, 20-30 min weighted 1, 0.68, 0.22).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix, csr_matrix

from contigmap.columns import ColumnInfo, register_columns
from contigmap.errors import ConfigError, warn_data
from contigmap.network.attach import Attachment, attach_points
from contigmap.network.build import Mode, RoadGraph
from contigmap.network.neighbourhood import NeighbourhoodSearch
from contigmap.network.speeds import Season

__all__ = [
    "FACILITY_KINDS",
    "Decay",
    "FacilityAccess",
    "TravelTimes",
    "bounded_times",
    "capacity_of",
    "decay_weights",
    "e2sfca",
    "facility_access",
    "facility_kinds",
]

logger = logging.getLogger(__name__)

FACILITY_KINDS: tuple[str, ...] = (
    "clinic", "health_centre", "hospital", "primary_school", "middle_school")
"""Facility kinds that health and schooling measure access to."""

_MIDDLE = re.compile("中学|初中|初级中学|九年一贯")
_BATCH_CELLS = 4_000_000
"""Dijkstra rows × core nodes held at once (32 MB of float64) in :func:`bounded_times`."""

_SRC = "services / network.facilities"
_KIND_TEXT = {
    "clinic": ("the nearest village clinic", "村卫生室"),
    "hospital": ("the nearest county hospital", "县级医院"),
    "primary_school": ("the nearest primary school", "小学"),
    "middle_school": ("the nearest lower-secondary school", "初中"),
}
register_columns([
    col for kind, (en, zh) in _KIND_TEXT.items() for col in (
        ColumnInfo(f"tt_{kind}_min", f"travel time to {en}, by vehicle where drivable and "
                   "on foot elsewhere, walking legs included", f"到{zh}车行时间", "min", _SRC),
        ColumnInfo(f"walk_{kind}_min", f"walking time to {en} (Tobler 1993)",
                   f"到{zh}步行时间", "min", _SRC))
])


def facility_kinds(services: pd.DataFrame) -> NDArray[np.object_]:
    """Each service's kind, with ``school`` read as primary or lower-secondary by its name.

    A ``school`` whose ``name`` contains 中学, 初中 or 九年一贯 is a ``middle_school``
    (a 九年一贯制 school also teaches primary pupils: it stays in both lists through
    :func:`facility_access`); any other ``school`` is a ``primary_school``.
    """
    kinds = np.asarray(services["kind"].astype(str), dtype=object)
    names = (services["name"].astype(str).to_numpy() if "name" in services.columns
             else np.full(len(services), "", dtype=object))
    school = kinds == "school"
    middle = np.array([bool(_MIDDLE.search(str(n))) for n in names], dtype=bool)
    kinds[school & middle] = "middle_school"
    kinds[school & ~middle] = "primary_school"
    return kinds


@dataclass(frozen=True)
class TravelTimes:
    """Sparse village × facility travel times within a cutoff.

    Attributes
    ----------
    origin, facility
        Village and facility positions of each pair (sorted by facility, then village).
    minutes
        Travel time of each pair (≤ :attr:`cutoff`).
    n_origins, n_facilities
        Shape of the full matrix.
    cutoff
        The search limit in minutes.
    """

    origin: NDArray[np.int64]
    facility: NDArray[np.int64]
    minutes: NDArray[np.float64]
    n_origins: int
    n_facilities: int
    cutoff: float

    def to_csr(self) -> csr_matrix:
        """Return the pairs as a CSR matrix (villages × facilities); zero stored as 1e-9."""
        data = np.maximum(self.minutes, 1e-9)
        return coo_matrix((data, (self.origin, self.facility)),
                          shape=(self.n_origins, self.n_facilities)).tocsr()

    def nearest(self) -> NDArray[np.float64]:
        """Minutes from each village to its nearest facility (``inf`` beyond the cutoff)."""
        out = np.full(self.n_origins, np.inf)
        np.minimum.at(out, self.origin, self.minutes)
        return out


def bounded_times(
    att: Attachment, origins: ArrayLike, facilities: ArrayLike, cutoff: float, *,
    mode: Mode = "vehicle", season: Season = "dry", batch: int | None = None,
    prune: bool = True,
) -> TravelTimes:
    """Travel times from every origin to every facility within ``cutoff`` minutes.

    Both ``origins`` and ``facilities`` are indices of points attached as nodes
    (``attach_points(..., nodes=)``). Dijkstra with ``limit=cutoff`` runs from the
    facilities on the reversed contracted core (:meth:`Attachment.core` with
    ``transpose=True``, so that direction-dependent walking times are those of the trip
    *to* the facility), ``batch`` facilities per call; from each batch only the finite
    entries at the origins are kept.

    With ``prune`` (exact), facilities are taken in cells of nearby ones, and each batch
    searches only the core nodes the cutoff can reach
    (:class:`~contigmap.network.neighbourhood.NeighbourhoodSearch`, shared with the
    own-seat times); a search then costs what the cutoff reaches, not the whole core.

    Returns
    -------
    TravelTimes
        The pairs within the cutoff.
    """
    org = np.asarray(origins, dtype=np.int64)
    fac = np.asarray(facilities, dtype=np.int64)
    if not cutoff > 0:
        msg = f"facility search: cutoff {cutoff} min must be > 0"
        raise ConfigError(msg)
    empty_i = np.zeros(0, np.int64)
    if org.size == 0 or fac.size == 0:
        return TravelTimes(empty_i, empty_i, np.zeros(0), int(org.size), int(fac.size),
                           float(cutoff))
    core = att.core(mode, season, transpose=True)
    src = core.to_core(att.point_nodes(fac))
    dst_of = np.full(core.n_core, -1, np.int64)
    dst_of[core.to_core(att.point_nodes(org))] = np.arange(org.size)
    search = NeighbourhoodSearch(core, att.core_xy(mode, season) if prune else None)
    if not search.grid:
        size = batch or max(1, min(fac.size, _BATCH_CELLS // max(core.n_core, 1)))
        groups = [np.arange(lo, min(lo + size, fac.size)) for lo in range(0, fac.size, size)]
        return _search(search, src, dst_of, groups, cutoff, org.size, fac.size)
    reach = cutoff * search.v_max
    # groups: facilities sharing a (reach × reach) cell, at most `batch` per group
    cell = np.floor(search.xy[src] / max(reach, 1.0)).astype(np.int64)
    order = np.lexsort((cell[:, 1], cell[:, 0]))
    key = cell[order]
    start = np.flatnonzero(np.r_[True, (key[1:] != key[:-1]).any(axis=1)])
    size = batch or 64
    groups = [chunk for a, b in zip(start, np.r_[start[1:], order.size], strict=True)
              for chunk in np.array_split(order[a:b], -(-(b - a) // size))]
    return _search(search, src, dst_of, groups, cutoff, org.size, fac.size)


def _search(
    search: NeighbourhoodSearch, src: NDArray[np.int64], dst_of: NDArray[np.int64],
    groups: list[NDArray[np.int64]], cutoff: float, n_org: int, n_fac: int,
) -> TravelTimes:
    """Bounded Dijkstra per group of facilities, on the neighbourhood the cutoff reaches."""
    oi, fj, tt = [], [], []
    org_core = np.flatnonzero(dst_of >= 0)
    for grp in groups:
        d, columns = search.search(src[grp], cutoff)
        col = org_core if columns is None else columns[org_core]
        seen = col >= 0
        sub = d[:, col[seen]]
        search.release(columns)
        j, i = np.nonzero(sub <= cutoff)
        oi.append(dst_of[org_core[seen]][i])
        fj.append(np.asarray(grp, dtype=np.int64)[j])
        tt.append(sub[j, i])
    o, f, t = np.concatenate(oi), np.concatenate(fj), np.concatenate(tt)
    order = np.lexsort((o, f))
    return TravelTimes(o[order], f[order], t[order], n_org, n_fac, float(cutoff))


Decay = Literal["gaussian", "step"]


def decay_weights(
    minutes: NDArray[np.float64], *, decay: Decay = "gaussian", sigma: float = 15.0,
    steps: Sequence[tuple[float, float]] = ((10.0, 1.0), (20.0, 0.68), (30.0, 0.22)),
) -> NDArray[np.float64]:
    """Distance-decay weight of each travel time.

    ``gaussian``: ``exp(-t² / (2 σ²))``; ``step``: the weight of the first
    ``(upper_minutes, weight)`` zone with ``t <= upper``, 0 beyond the last (Luo and Qi
    2009's zones by default).
    """
    t = np.asarray(minutes, dtype=float)
    if decay == "gaussian":
        if not sigma > 0:
            msg = f"e2sfca: sigma {sigma} must be > 0 minutes"
            raise ConfigError(msg)
        return np.asarray(np.exp(-t * t / (2.0 * sigma * sigma)), dtype=float)
    if decay != "step":
        msg = f"e2sfca: unknown decay '{decay}'; use gaussian or step"
        raise ConfigError(msg)
    zones = sorted((float(u), float(w)) for u, w in steps)
    if not zones or any(w < 0 for _, w in zones):
        msg = "e2sfca: step weights must be (upper_minutes, weight >= 0) pairs, at least one"
        raise ConfigError(msg)
    out = np.zeros(t.shape)
    for upper, w in reversed(zones):
        out = np.where(t <= upper, w, out)
    return out


def e2sfca(
    times: TravelTimes, demand: ArrayLike, supply: ArrayLike, *, decay: Decay = "gaussian",
    sigma: float = 15.0,
    steps: Sequence[tuple[float, float]] = ((10.0, 1.0), (20.0, 0.68), (30.0, 0.22)),
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Enhanced two-step floating catchment accessibility (Luo and Qi 2009).

    Parameters
    ----------
    times
        Village × facility pairs within the catchment (:func:`bounded_times`).
    demand
        People per village (``P_k``).
    supply
        Capacity per facility (``S_j``: doctors or beds).
    decay, sigma, steps
        The distance decay (:func:`decay_weights`).

    Returns
    -------
    access, ratio
        ``A_i`` per village (supply per person) and ``R_j`` per facility (0 for a facility
        with no demand in reach).
    """
    p = np.asarray(demand, dtype=float)
    s = np.asarray(supply, dtype=float)
    w = decay_weights(times.minutes, decay=decay, sigma=sigma, steps=steps)
    weighted = np.bincount(times.facility, weights=w * p[times.origin],
                           minlength=times.n_facilities)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(weighted > 0, s / weighted, 0.0)
    access = np.bincount(times.origin, weights=w * ratio[times.facility],
                         minlength=times.n_origins)
    return np.asarray(access, dtype=float), np.asarray(ratio, dtype=float)


def capacity_of(
    facilities: pd.DataFrame, where: str,
    columns: Sequence[str] = ("capacity", "doctors", "beds"),
) -> NDArray[np.float64]:
    """Capacity per facility from the first of ``columns`` with a value for these rows.

    Missing or non-positive values count as 1, with one warning naming the column.
    """
    col = next((c for c in columns if c in facilities.columns
                and pd.to_numeric(facilities[c], errors="coerce").gt(0).any()), None)
    if col is None:
        if len(facilities):
            warn_data(f"{where}: services have no {' or '.join(columns)} values; every "
                      f"facility counts as capacity 1 in E2SFCA", logger=logger)
        return np.ones(len(facilities))
    cap = pd.to_numeric(facilities[col], errors="coerce").to_numpy(float)
    bad = ~(cap > 0)
    if bad.any():
        warn_data(f"{where}: {int(bad.sum())} service(s) have no positive '{col}'; they count "
                  f"as capacity 1 in E2SFCA", logger=logger)
    return np.where(bad, 1.0, cap)


@dataclass(frozen=True)
class FacilityAccess:
    """Times from villages to facilities, for the health and schooling rankings.

    Attributes
    ----------
    nearest
        Minutes by vehicle (where drivable) to the nearest facility, by kind (``inf``:
        unreachable or no facility of that kind).
    walk_nearest
        Walking minutes to the nearest facility, by kind.
    within
        Pairs within the cutoff, by kind (:func:`bounded_times`).
    walk_which
        Per kind, which of its facilities each village walks to (``-1``: none).
    facilities
        Row positions in the services table of each kind's facilities (the
        :attr:`TravelTimes.facility` numbering).
    attachment
        Villages (points ``0 .. V-1``) and services (``V ..``), all attached as nodes.
    """

    nearest: dict[str, NDArray[np.float64]]
    walk_nearest: dict[str, NDArray[np.float64]]
    walk_which: dict[str, NDArray[np.int64]]
    within: dict[str, TravelTimes]
    facilities: dict[str, NDArray[np.int64]]
    attachment: Attachment


def facility_access(
    graph: RoadGraph, village_xy: NDArray[np.float64], services: pd.DataFrame,
    service_xy: NDArray[np.float64], kinds: Sequence[str], *, cutoff: float = 60.0,
    season: Season = "dry",
) -> FacilityAccess:
    """Nearest times (vehicle and walking) and bounded pairs for each facility kind.

    Villages and services are attached together, all as nodes; one contracted core per
    mode serves every kind.
    """
    n_v = village_xy.shape[0]
    att = attach_points(graph, np.vstack([village_xy, service_xy]))
    fk = facility_kinds(services)
    villages = np.arange(n_v)
    near, walk, which, within, rows = {}, {}, {}, {}, {}
    for kind in kinds:
        pos = np.flatnonzero(fk == kind)
        if kind == "primary_school":  # a 九年一贯制 school teaches primary pupils too
            names = services["name"].astype(str).to_numpy() if "name" in services else None
            extra = [] if names is None else [
                i for i in np.flatnonzero(fk == "middle_school") if "九年一贯" in names[i]]
            pos = np.union1d(pos, np.asarray(extra, dtype=np.int64)).astype(np.int64)
        rows[kind] = pos
        near[kind] = att.times_to_nearest(n_v + pos, mode="vehicle", season=season)[0][:n_v]
        wt, wh = att.times_to_nearest(n_v + pos, mode="walk", season=season, with_source=True)
        walk[kind] = wt[:n_v]
        rank = np.full(n_v + len(services), -1, np.int64)
        rank[n_v + pos] = np.arange(pos.size)
        which[kind] = np.where(wh[:n_v] >= 0, rank[np.maximum(wh[:n_v], 0)], -1)
        within[kind] = bounded_times(att, villages, n_v + pos, cutoff, season=season)
    return FacilityAccess(near, walk, which, within, rows, att)
