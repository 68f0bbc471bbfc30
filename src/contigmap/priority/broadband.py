"""Broadband to natural villages (hamlets, 自然村): fibre, microwave or satellite.

* **Fibre** runs along roads from the existing fibre network. Hamlets share cable: the
  network reaching all fibre hamlets is a Steiner tree on the road graph
  (:mod:`contigmap.priority._steiner`), approximated
  by Mehlhorn's algorithm (Mehlhorn 1988, "A faster approximation algorithm for the
  Steiner problem in graphs", *Inf. Process. Lett.* 27(3); the 2-approximation of
  Kou, Markowsky and Berman 1981 computed from one multi-source Dijkstra): the fibre
  network is one terminal (a super-source joined to every road node near fibre), each
  hamlet's nearest road node another; Voronoi regions of the terminals give the
  bridging edges, their minimum spanning tree is expanded into road paths, the MST of
  that subgraph is taken and non-terminal leaves are pruned. Each tree edge's cost is
  split between the hamlets below it in proportion to their households, so a shared
  trunk is paid once. Hamlets within ``drop_max_m`` of fibre need only a drop.
* **Microwave** from a mobile tower within ``microwave_range_m`` whose line of sight to
  a mast at the hamlet clears the terrain (DEM profile every ``los_step_m``, earth
  curvature with the 4/3 effective radius, and ``fresnel_clearance`` of the first
  Fresnel zone, after ITU-R P.530).
* **Satellite** everywhere, per household.

The least *annualised* cost per hamlet wins; hamlets for which fibre is not the cheapest
leave the tree and the tree is rebuilt (a few rounds until no hamlet changes).

Criteria (more = more need): ``fibre_distance`` (m along roads to fibre),
``no_wireless`` (1 without a tower in range and in sight), ``tt_township``,
``poor_pop`` (hamlet people × its village's poverty incidence, an estimate),
``poverty_incidence`` (of the village), ``households``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pydantic import Field, PositiveFloat
from scipy.spatial import cKDTree

from contigmap._strict import StrictModel
from contigmap.columns import ColumnInfo
from contigmap.errors import ValidationError, warn_data
from contigmap.finance import crf
from contigmap.indicators import TRAVEL_TIME_LABEL_EN, TRAVEL_TIME_LABEL_ZH
from contigmap.network import RoadGraph
from contigmap.priority._common import (
    assemble,
    fill_no_route,
    require,
    select_output,
)
from contigmap.priority._network import (
    along_road_to_features,
    feature_points,
    join,
    source_offsets,
)
from contigmap.priority._steiner import steiner_tree
from contigmap.priority.intervention import (
    Intervention,
    InterventionConfig,
    Option,
    PriorityInputs,
)
from contigmap.priority.mcda import Criterion
from contigmap.raster import Raster

__all__ = [
    "CRITERIA",
    "INTERVENTION",
    "OPTIONS",
    "BroadbandConfig",
    "BroadbandCosts",
    "broadband_priorities",
    "line_of_sight",
]

logger = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_000.0
K_FACTOR = 4.0 / 3.0
_C = 299_792_458.0

_SRC = "priority / broadband"
COLUMNS: tuple[ColumnInfo, ...] = (
    ColumnInfo("broadband_no_route", "no route to the own township seat: its travel time is "
               "counted as 2 x the slowest hamlet, at least 60 min",
               "无路可达本乡镇驻地（按最慢自然村2倍计）", "bool", _SRC),
    ColumnInfo("broadband_fibre_dist_m", "along-road distance to the nearest fibre",
               "沿路距最近光纤距离", "m", _SRC),
    ColumnInfo("broadband_fibre_share_m", "this hamlet's share of the shared fibre tree",
               "分摊的光纤线路长度", "m", _SRC),
    ColumnInfo("broadband_tower_id", "tower in range with line of sight (microwave)",
               "可视通信基站", "", _SRC),
    ColumnInfo("broadband_no_wireless", "1 without a tower in range and in sight",
               "无可视基站", "0/1", _SRC),
    ColumnInfo("broadband_cost_per_household_cny", "capital cost per connected household",
               "每户接入投资", "CNY/household", _SRC),
)
"""Its own columns (the common ``broadband_*`` ones come from the registry)."""

OPTIONS: tuple[Option, ...] = (
    Option("fibre", "沿路光纤", "fibre along roads"),
    Option("microwave", "基站微波回传", "microwave link from a tower"),
    Option("satellite", "卫星宽带", "satellite"),
)


class BroadbandCosts(StrictModel):
    """Broadband cost parameters (see the YAML for sources)."""

    fibre_cny_per_km: PositiveFloat
    fibre_to_road_max_m: PositiveFloat
    drop_max_m: PositiveFloat
    olt_cny_per_hamlet: PositiveFloat
    fibre_cny_per_household: PositiveFloat
    fibre_om_share_per_year: PositiveFloat
    fibre_life_years: PositiveFloat
    microwave_range_m: PositiveFloat
    microwave_link_cny: PositiveFloat
    microwave_mast_m: PositiveFloat
    microwave_cny_per_household: PositiveFloat
    microwave_frequency_ghz: PositiveFloat
    fresnel_clearance: float = Field(ge=0, le=1)
    microwave_om_cny_per_year: PositiveFloat
    microwave_life_years: PositiveFloat
    satellite_cny_per_household: PositiveFloat
    satellite_cny_per_household_year: PositiveFloat
    satellite_life_years: PositiveFloat
    los_step_m: PositiveFloat


class BroadbandConfig(InterventionConfig):
    """Broadband to natural villages (hamlets): the ``broadband`` section of ``priorities.yaml``."""

    costs: BroadbandCosts


def _tt(row: Mapping[str, Any]) -> tuple[str, str]:
    m = float(row["tt_own_township_seat_min"])
    if bool(row.get("broadband_no_route", False)):
        return (f"no route to the own township seat (counted as {m:.0f} min)",
                f"无路可达本乡镇驻地（按{m:.0f}分钟计）")
    return f"{m:.0f} min to the own township seat", f"到本乡镇驻地{m:.0f}分钟"


CRITERIA: tuple[Criterion, ...] = (
    Criterion("fibre_distance", "broadband_fibre_dist_m",
              lambda r: f"{r['broadband_fibre_dist_m'] / 1000:.1f} km from fibre along roads",
              lambda r: f"沿路距光纤{r['broadband_fibre_dist_m'] / 1000:.1f}公里",
              "needs fibre in the infrastructure layers and a road graph",
              unit="m", label_en="distance from fibre along roads", label_zh="沿路距光纤距离"),
    Criterion("no_wireless", "broadband_no_wireless",
              lambda r: "no mobile tower in sight", lambda r: "无可视通信基站",
              unit="0/1", label_en="no mobile tower in range and in sight",
              label_zh="无可视通信基站"),
    Criterion("tt_township", "tt_own_township_seat_min", lambda r: _tt(r)[0],
              lambda r: _tt(r)[1], "run contigmap.network.access_measures on the hamlets",
              unit="min", label_en=TRAVEL_TIME_LABEL_EN.lower(),
              label_zh=TRAVEL_TIME_LABEL_ZH),
    Criterion("poor_pop", "poor_pop", lambda r: f"about {r['poor_pop']:.0f} poor people",
              lambda r: f"约{r['poor_pop']:.0f}名贫困人口", "run the poverty stage first",
              unit="people", label_en="poor people (estimate: people x village incidence)",
              label_zh="贫困人口（估算）"),
    Criterion("poverty_incidence", "poverty_incidence",
              lambda r: f"{r['poverty_incidence'] * 100:.0f}% poor in the village",
              lambda r: f"所在村贫困发生率{r['poverty_incidence'] * 100:.0f}%",
              "run the poverty stage first",
              unit="share 0-1", label_en="poverty incidence of the hamlet's village",
              label_zh="所在村贫困发生率"),
    Criterion("households", "households", lambda r: f"{r['households']:.0f} households",
              lambda r: f"{r['households']:.0f}户",
              unit="households", label_en="households", label_zh="户数"),
)


# --------------------------------------------------------------------------- line of sight


def line_of_sight(
    dem: Raster,
    a_xy: NDArray[np.float64],
    a_height_m: NDArray[np.float64] | float,
    b_xy: NDArray[np.float64],
    b_height_m: NDArray[np.float64] | float,
    *,
    step_m: float = 30.0,
    frequency_ghz: float | None = None,
    clearance: float = 0.6,
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Whether each link ``a → b`` clears the terrain, and its smallest clearance (m).

    The profile is sampled every ``step_m`` (bilinear DEM). At distance ``d₁`` from ``a``
    and ``d₂`` from ``b`` the obstacle height is the terrain plus the earth bulge
    ``d₁ d₂ / (2 k R)`` (``k = 4/3``) plus, with ``frequency_ghz``, ``clearance`` times the
    first Fresnel radius ``√(λ d₁ d₂ / d)``; the link is clear when the straight line
    between the antennas (ground + height) is above it at every interior sample.

    Returns
    -------
    tuple
        ``clear`` per link, and the smallest margin (m; negative when blocked).
    """
    a = np.asarray(a_xy, dtype=float).reshape(-1, 2)
    b = np.asarray(b_xy, dtype=float).reshape(-1, 2)
    n = a.shape[0]
    ha = np.broadcast_to(np.asarray(a_height_m, dtype=float), (n,))
    hb = np.broadcast_to(np.asarray(b_height_m, dtype=float), (n,))
    if n == 0:
        return np.zeros(0, bool), np.zeros(0)
    dist = np.hypot(*(b - a).T)
    # each link sampled at its own step: k_i interior points at fractions j / (k_i + 1)
    k = np.maximum(np.ceil(dist / step_m).astype(np.int64) - 1, 1)
    start = np.cumsum(k) - k  # each link's first sample
    j = np.arange(int(k.sum())) - np.repeat(start, k) + 1

    def per_sample(v: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.repeat(v, k)  # a link's value at each of its samples

    f = j / per_sample(k + 1.0)
    ax, ay = per_sample(a[:, 0]), per_sample(a[:, 1])
    x = ax + f * (per_sample(b[:, 0]) - ax)
    y = ay + f * (per_sample(b[:, 1]) - ay)
    za = dem.sample_bilinear(a[:, 0], a[:, 1]) + ha
    zb = dem.sample_bilinear(b[:, 0], b[:, 1]) + hb
    terrain = dem.sample_bilinear(x, y)
    dist_s = per_sample(dist)
    d1 = f * dist_s
    d2 = dist_s - d1
    bulge = d1 * d2 / (2.0 * K_FACTOR * EARTH_RADIUS_M)
    obstacle = np.nan_to_num(terrain, nan=-np.inf) + bulge
    if frequency_ghz is not None and clearance > 0:
        lam = _C / (frequency_ghz * 1e9)
        with np.errstate(invalid="ignore", divide="ignore"):
            fres = np.sqrt(lam * d1 * d2 / np.where(dist_s > 0, dist_s, 1.0))
        obstacle = obstacle + clearance * fres
    ray = per_sample(za) + f * per_sample(zb - za)
    # every link has a sample: the smallest margin of each link's run of samples
    margin = np.minimum.reduceat(ray - obstacle, start)
    return np.asarray(margin > 0), np.asarray(margin, dtype=float)


# --------------------------------------------------------------------------- the stage


def _annual(capex: NDArray[np.float64], om: NDArray[np.float64] | float, life: float,
            rate: float) -> NDArray[np.float64]:
    return np.asarray(capex * crf(rate, life) + om, dtype=float)


def broadband_priorities(
    hamlets: gpd.GeoDataFrame,
    graph: RoadGraph,
    fibre: gpd.GeoDataFrame | None,
    towers: gpd.GeoDataFrame | None,
    config: BroadbandConfig,
    *,
    dem: Raster | None,
    rate: float,
    max_rounds: int = 5,
    max_towers: int = 5,
) -> pd.DataFrame:
    """Fibre, microwave or satellite per hamlet, with need, rank, tier and reasons.

    Parameters
    ----------
    hamlets
        Hamlets (``hamlet_id``, ``village_id``, ``pop``, ``households``) with
        ``tt_own_township_seat_min`` (network access measures) and the village's
        ``poverty_incidence``, in the graph's CRS.
    graph
        Road graph.
    fibre
        Existing fibre lines or nodes.
    towers
        Mobile towers (``tower_id``, ``height_m``); none: no microwave option.
    config
        The ``broadband`` section of the priority configuration.
    dem
        Elevation for line of sight; without it microwave is not considered.
    rate
        Discount rate.
    max_rounds
        Rounds of "rebuild the tree without hamlets that chose another option".
    max_towers
        Line of sight is checked to this many nearest towers in range.

    Returns
    -------
    pandas.DataFrame
        ``hamlet_id``, ``village_id`` and the ``broadband_*`` columns.
    """
    require(hamlets, ["hamlet_id", "village_id", "pop", "households", "poverty_incidence"],
            "broadband", "join the village poverty profile to the hamlets by village_id")
    if fibre is None or len(fibre) == 0:
        msg = "broadband: no fibre layer in the infrastructure; add it to the region manifest"
        raise ValidationError(msg)
    c: BroadbandCosts = config.costs
    pts = hamlets.geometry
    xy = np.column_stack([pts.x.to_numpy(float), pts.y.to_numpy(float)])
    hh = hamlets["households"].to_numpy(float)
    fgeoms = np.asarray(fibre.geometry.values)
    fxy = feature_points(fgeoms, step_m=100.0)
    straight = np.asarray(shapely.STRtree(fgeoms).query_nearest(
        shapely.points(xy), return_distance=True, all_matches=False)[1], dtype=float)
    along = along_road_to_features(graph, xy, fxy, max_offset_m=c.fibre_to_road_max_m)
    fibre_dist = np.where(straight <= c.drop_max_m, np.minimum(straight, along), along)
    tower_id = _microwave_towers(xy, towers, dem, c, max_towers)
    has_mw = np.array([t is not None for t in tower_id])

    # option costs other than fibre
    mw_capex = np.where(has_mw, c.microwave_link_cny + hh * c.microwave_cny_per_household,
                        np.nan)
    mw_annual = np.where(has_mw, _annual(np.nan_to_num(mw_capex), c.microwave_om_cny_per_year,
                                         c.microwave_life_years, rate), np.inf)
    sat_capex = hh * c.satellite_cny_per_household
    sat_annual = _annual(sat_capex, hh * c.satellite_cny_per_household_year,
                         c.satellite_life_years, rate)
    share, fib_capex, fib_annual = _fibre_shares(
        graph, xy, hh, fxy, straight, along, c, rate=rate, max_rounds=max_rounds,
        other_annual=np.minimum(mw_annual, sat_annual))
    annual = np.column_stack([fib_annual, mw_annual, sat_annual])
    capex = np.column_stack([np.where(np.isfinite(share), fib_capex, np.nan), mw_capex,
                             sat_capex])
    t = _option_columns(hamlets, fibre_dist, share, tower_id, annual, capex)
    out = assemble(t, "broadband", CRITERIA, config, id_column="hamlet_id", options=OPTIONS)
    logger.info("broadband: %s", out["broadband_option"].value_counts().to_dict())
    return select_output(out, "broadband", ["hamlet_id", "village_id"], CRITERIA)


def _option_columns(
    hamlets: gpd.GeoDataFrame, fibre_dist: NDArray[np.float64], share: NDArray[np.float64],
    tower_id: NDArray[np.object_], annual: NDArray[np.float64], capex: NDArray[np.float64],
) -> pd.DataFrame:
    """Return the hamlet table with its cheapest option and the ``broadband_*`` measures.

    ``annual`` and ``capex`` have one column per option: fibre, microwave, satellite.
    """
    hh = hamlets["households"].to_numpy(float)
    best = np.argmin(annual, axis=1)
    rows = np.arange(len(hamlets))
    names = np.array(["fibre", "microwave", "satellite"], dtype=object)

    t = pd.DataFrame(hamlets.drop(columns="geometry")).copy()
    t["poor_pop"] = t["pop"].to_numpy(float) * t["poverty_incidence"].to_numpy(float)
    # no route to the own seat: the strongest need, as for village roads (warned)
    t["tt_own_township_seat_min"], no_route = fill_no_route(t["tt_own_township_seat_min"])
    t["broadband_no_route"] = no_route
    if no_route.any():
        ids = t["hamlet_id"].astype(str).to_numpy()[no_route]
        warn_data(f"broadband: {int(no_route.sum())} hamlet(s) have no route to their own "
                  f"township seat ({', '.join(ids[:5])}{' ...' if ids.size > 5 else ''}); "
                  f"counted as {float(t['tt_own_township_seat_min'][no_route].iloc[0]):.0f} "
                  "min, the strongest need", logger=logger)
    far = float(np.nanmax(np.where(np.isfinite(fibre_dist), fibre_dist, np.nan), initial=0.0))
    t["broadband_fibre_dist_m"] = np.round(np.where(np.isfinite(fibre_dist), fibre_dist, far), 1)
    t["broadband_fibre_share_m"] = np.round(np.where(best == 0, share, np.nan), 1)
    t["broadband_tower_id"] = tower_id
    t["broadband_no_wireless"] = np.array([i is None for i in tower_id], dtype=float)
    t["broadband_option"] = names[best]
    t["broadband_capex_cny"] = np.round(capex[rows, best], 0)
    t["broadband_annualised_cny"] = np.round(annual[rows, best], 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t["broadband_cost_per_household_cny"] = np.round(
            np.where(hh > 0, capex[rows, best] / hh, np.nan), 0)
    t["broadband_beneficiaries"] = t["pop"].to_numpy(float)
    t["broadband_poor_beneficiaries"] = np.round(t["poor_pop"].to_numpy(float), 1)
    return t


def _microwave_towers(
    xy: NDArray[np.float64], towers: gpd.GeoDataFrame | None, dem: Raster | None,
    c: BroadbandCosts, max_towers: int,
) -> NDArray[np.object_]:
    """Return each hamlet's nearest tower in range with line of sight (``None``: none)."""
    n_h = len(xy)
    tower_id = np.full(n_h, None, dtype=object)
    if towers is None or not len(towers) or dem is None:
        return tower_id
    txy = np.column_stack([towers.geometry.x.to_numpy(float),
                           towers.geometry.y.to_numpy(float)])
    th = (towers["height_m"].to_numpy(float) if "height_m" in towers
          else np.full(len(towers), 30.0))
    tids = np.asarray(towers["tower_id"], dtype=object)
    kq = min(max_towers, len(towers))
    dq, jq = cKDTree(txy).query(xy, k=kq, distance_upper_bound=c.microwave_range_m)
    dq, jq = np.asarray(dq).reshape(n_h, kq), np.asarray(jq).reshape(n_h, kq)
    # nearest first: a hamlet's farther towers are looked at only while none is clear, so
    # the answer is the nearest clear tower (ties: the KD-tree's order), as checking all
    open_ = np.ones(n_h, bool)
    for r in range(kq):
        pi = np.flatnonzero(open_ & np.isfinite(dq[:, r]))
        if not pi.size:
            break
        tj = jq[pi, r].astype(np.int64)
        clear, _ = line_of_sight(dem, txy[tj], th[tj], xy[pi], c.microwave_mast_m,
                                 step_m=c.los_step_m, frequency_ghz=c.microwave_frequency_ghz,
                                 clearance=c.fresnel_clearance)
        tower_id[pi[clear]] = tids[tj[clear]]
        open_[pi[clear]] = False
    return tower_id


def _fibre_shares(
    graph: RoadGraph, xy: NDArray[np.float64], hh: NDArray[np.float64],
    fxy: NDArray[np.float64], straight: NDArray[np.float64], along: NDArray[np.float64],
    c: BroadbandCosts, *, rate: float, max_rounds: int, other_annual: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Return each hamlet's fibre length, capex and annualised cost (``inf``: unreachable).

    Hamlets next to fibre need a drop; the others share a Steiner tree, rebuilt without
    the hamlets for which fibre costs more a year than ``other_annual`` (the cheaper
    other option), for at most ``max_rounds`` rounds.
    """
    pj = join(graph, xy)
    e = np.maximum(pj.edge, 0)
    node = np.where(pj.from_u_m <= pj.to_v_m, graph.u[e], graph.v[e])
    spur = pj.leg_m + np.minimum(pj.from_u_m, pj.to_v_m)
    snodes, soff, _, _ = source_offsets(graph, fxy, c.fibre_to_road_max_m)
    near_fibre = straight <= c.drop_max_m
    in_tree = ~near_fibre & np.isfinite(along) & (pj.edge >= 0)
    share = np.where(near_fibre, straight, np.inf)
    fixed = c.olt_cny_per_hamlet + hh * c.fibre_cny_per_household
    for _round in range(max_rounds):
        share = np.where(near_fibre, straight, np.inf)
        idx = np.flatnonzero(in_tree)
        if idx.size and snodes.size:
            tree = steiner_tree(graph, node[idx], hh[idx], snodes, soff)
            share[idx] = tree.share_m + spur[idx]
        fib_capex = share / 1000.0 * c.fibre_cny_per_km + fixed
        fib_annual = np.where(np.isfinite(share), _annual(
            np.where(np.isfinite(fib_capex), fib_capex, 0.0),
            np.where(np.isfinite(fib_capex), fib_capex, 0.0) * c.fibre_om_share_per_year,
            c.fibre_life_years, rate), np.inf)
        leave = in_tree & (fib_annual > other_annual)
        if not leave.any():
            break
        in_tree &= ~leave
    return share, fib_capex, fib_annual


def _compute(inputs: PriorityInputs, config: InterventionConfig, rate: float) -> pd.DataFrame:
    """:func:`broadband_priorities` from the stage's inputs (the registry's ``compute``)."""
    if inputs.hamlets is None:
        msg = "broadband: no hamlets; broadband targets natural villages (自然村)"
        raise ValidationError(msg)
    return broadband_priorities(inputs.hamlets, inputs.graph, inputs.infrastructure.get("fibre"),
                                inputs.infrastructure.get("towers"),
                                cast(BroadbandConfig, config), dem=inputs.dem, rate=rate)


INTERVENTION = Intervention(
    name="broadband", label_zh="宽带网络", label_en="broadband", unit="hamlet",
    options=OPTIONS, config_model=BroadbandConfig, compute=_compute,
    layers_any=("fibre", "towers"), criteria=CRITERIA, columns=COLUMNS,
)
"""This intervention, as :mod:`contigmap.priority.registry` lists it."""
