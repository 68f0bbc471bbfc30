"""Shuttle buses to administrative villages (通客车): qualified villages and bus service.

The policy opens bus service to every *qualified* administrative village
(具备条件的建制村通客车): one joined to its township seat by a hardened road wide enough
for a bus. Per village this decides:

* ``bus_wide_road``: a path to the own township seat over edges that are hardened
  (the network's ``hardened`` flag) and at least ``min_width_m`` wide, with walking legs
  of at most the network's ``hardened_leg_max_m`` at both ends (connected components of
  that subgraph, as :mod:`contigmap.network.access` decides ``hardened_to_township``).
  The width is a roads table's ``width_m`` where given, else ``class_width_m`` of the
  road's class. 4.5 m is the roadbed of a single-lane class-IV highway (四级公路单车道路
  基宽度4.5米, JTG B01-2014 《公路工程技术标准》), the narrowest road a rural bus is
  run on; the class widths are indicative.
* ``bus_qualified``: ``hardened_to_township`` (the network column) and ``bus_wide_road``.
* ``bus_route_km``: the length along roads to the own seat (a bus line's length).
* ``bus_road_gap_km``: for an unqualified village, the straight distance to the nearest
  bus-worthy road joined to its seat (to the seat itself when it has none): the least
  road to build or widen first.

Options: ``bus_service`` (开通客运班车: a stop, and a yearly operating cost per km of
line), ``road_first`` (先修路: build or widen ``bus_road_gap_km`` first, then a stop),
``none`` (the village already has a bus, ``has_bus``, or no people). Criteria (more =
more need): ``not_qualified``, ``road_gap``, ``tt_township``, ``poor_pop``,
``poverty_incidence``, ``pop``. Bus line design (lines per seat covering villages under
a length and vehicle budget, :mod:`contigmap.priority.buslines`) runs on the same
bus-worthy edges (:func:`bus_lines`); the stage writes its lines and stops as the
intervention's extras (``priorities/bus_lines.gpkg``, ``bus_lines.csv``,
``bus_stops.csv``).
"""

from __future__ import annotations

import hashlib
import logging
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import Field, NonNegativeFloat, PositiveFloat
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from contigmap._strict import StrictModel
from contigmap.booleans import parse_bool
from contigmap.columns import ColumnInfo
from contigmap.errors import warn_data
from contigmap.finance import crf
from contigmap.network import RoadGraph, snap_points
from contigmap.priority._common import (
    VILLAGE_PEOPLE_CRITERIA,
    assemble,
    fill_no_route,
    require,
    select_output,
)
from contigmap.priority._network import along_road_to_features
from contigmap.priority.buslines import BusLines, BusLinesConfig, design_lines
from contigmap.priority.intervention import (
    Intervention,
    InterventionConfig,
    Option,
    PriorityInputs,
)
from contigmap.priority.mcda import Criterion
from contigmap.priority.roads import CRITERIA as ROADS_CRITERIA
from contigmap.schema import ROAD_CLASSES

__all__ = ["CRITERIA", "INTERVENTION", "OPTIONS", "BusConfig", "BusCosts", "bus_lines",
           "bus_priorities", "bus_roads", "qualified_villages"]

logger = logging.getLogger(__name__)

_SRC = "priority / bus"
COLUMNS: tuple[ColumnInfo, ...] = (
    ColumnInfo("bus_wide_road", "joined to the own township seat by hardened roads at least "
               "min_width_m wide", "有足够宽的硬化路通本乡镇驻地", "bool", _SRC),
    ColumnInfo("bus_qualified", "qualified for bus service (具备条件): hardened_to_township "
               "and bus_wide_road", "具备通客车条件", "bool", _SRC),
    ColumnInfo("bus_not_qualified", "1 when not qualified for bus service", "不具备通客车条件",
               "0/1", _SRC),
    ColumnInfo("bus_route_km", "length along roads to the own township seat",
               "到本乡镇驻地线路长度", "km", _SRC),
    ColumnInfo("bus_road_gap_km", "straight distance to the nearest bus-worthy road joined to "
               "the seat (0 when qualified)", "距可通客车道路距离", "km", _SRC),
    ColumnInfo("bus_opex_cny_per_year", "yearly operating cost of the bus line",
               "客运班线年运营成本", "CNY/year", _SRC),
)
"""Its own columns (the common ``bus_*`` ones come from the registry)."""

OPTIONS: tuple[Option, ...] = (
    Option("bus_service", "开通客运班车", "open a bus service"),
    Option("road_first", "先修路", "build or widen the road first"),
    Option("none", "无需工程", "none needed"),
)

_CLASS_WIDTH = {"expressway": 26.0, "national": 12.0, "provincial": 10.0, "county": 7.5,
                "township": 6.5, "village": 4.5, "track": 3.5, "path": 1.5}


class BusCosts(StrictModel):
    """Bus cost parameters (see the YAML for sources)."""

    stop_cny: NonNegativeFloat
    stop_life_years: PositiveFloat
    operating_cny_per_km_year: NonNegativeFloat
    road_cny_per_km: PositiveFloat
    road_life_years: PositiveFloat


class BusConfig(InterventionConfig):
    """Shuttle buses (通客车): the ``bus`` section of ``priorities.yaml``."""

    min_width_m: PositiveFloat = 4.5
    class_width_m: dict[str, PositiveFloat] = Field(default_factory=lambda: dict(_CLASS_WIDTH))
    costs: BusCosts
    lines: BusLinesConfig = Field(default_factory=BusLinesConfig)


_TT = {c.name: c for c in ROADS_CRITERIA}["tt_township"]
CRITERIA: tuple[Criterion, ...] = (
    Criterion("not_qualified", "bus_not_qualified",
              lambda r: "no hardened road wide enough for a bus to the township",
              lambda r: "不具备通客车条件（无足够宽的硬化路到乡镇）",
              "run the network stage (hardened_to_township)", unit="0/1",
              label_en="not qualified for bus service", label_zh="不具备通客车条件"),
    Criterion("road_gap", "bus_road_gap_km",
              lambda r: f"{r['bus_road_gap_km']:.1f} km from a bus-worthy road",
              lambda r: f"距可通客车道路{r['bus_road_gap_km']:.1f}公里", unit="km",
              label_en="distance to a bus-worthy road joined to the seat",
              label_zh="距可通客车道路距离"),
    _TT,
    *VILLAGE_PEOPLE_CRITERIA,
)
"""Its criteria; the travel time is the roads intervention's."""


def bus_roads(graph: RoadGraph, config: BusConfig,
              roads: pd.DataFrame | None = None) -> NDArray[np.bool_]:
    """Edges a bus may use: hardened and at least ``min_width_m`` wide.

    The width of an edge is its road's ``width_m`` in ``roads`` (matched by ``road_id``)
    where given, else ``class_width_m`` of its class (0 for a class not listed).
    """
    # each class's width looked up once, then gathered per edge by its class index
    by_class = np.array([config.class_width_m.get(str(c), 0.0) for c in ROAD_CLASSES],
                        dtype=float)
    width = by_class[graph.road_class]
    if roads is not None and "width_m" in roads.columns and "road_id" in roads.columns:
        given = pd.to_numeric(roads["width_m"], errors="coerce")
        by_id = pd.Series(given.to_numpy(float), index=roads["road_id"].astype(str))
        by_id = by_id[~by_id.index.duplicated()]
        w = pd.Series(np.asarray(graph.road_id).astype(str)).map(by_id).to_numpy(float)
        width = np.where(np.isfinite(w), w, width)
    return np.asarray(graph.hardened & (width >= config.min_width_m))


def _labels(graph: RoadGraph, mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Return the connected component of every node over the ``mask`` edges."""
    n = graph.n_nodes
    adj = coo_matrix((np.ones(int(mask.sum())), (graph.u[mask], graph.v[mask])), shape=(n, n))
    return np.asarray(connected_components(adj, directed=False)[1], dtype=np.int64)


def qualified_villages(
    graph: RoadGraph, villages: gpd.GeoDataFrame, services: gpd.GeoDataFrame,
    config: BusConfig, roads: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per village: bus-worthy road to the own seat, route length and road gap.

    Returns
    -------
    pandas.DataFrame
        ``bus_wide_road`` (bool), ``bus_route_km`` and ``bus_road_gap_km`` (``nan``
        without a seat), in the order of ``villages``.
    """
    mask = bus_roads(graph, config, roads)
    labels = _labels(graph, mask)
    leg = graph.params.hardened_leg_max_m
    pts = villages.geometry.representative_point()
    vxy = np.column_stack([pts.x.to_numpy(float), pts.y.to_numpy(float)])
    n = len(vxy)
    wide, route, gap = np.zeros(n, bool), np.full(n, np.nan), np.full(n, np.nan)
    seats = services[services["kind"].astype(str) == "township_seat"]
    seats = seats.sort_values("service_id").drop_duplicates("township_id")
    town = villages["township_id"].astype(str).to_numpy()
    key = _mask_name(mask)
    for tid, seat in zip(seats["township_id"].astype(str), seats.geometry, strict=True):
        rows = np.flatnonzero(town == tid)
        if not rows.size:
            continue
        sxy = np.array([[seat.x, seat.y]])
        route[rows] = along_road_to_features(graph, vxy[rows], sxy, max_offset_m=leg) / 1000.0
        straight = np.hypot(*(vxy[rows] - sxy).T)
        s = snap_points(graph, sxy, edge_mask=mask, mask_name=key)
        if s.edge[0] < 0 or s.dist_m[0] > leg:
            gap[rows] = straight / 1000.0
            continue
        label = int(labels[graph.u[s.edge[0]]])
        comp = mask & (labels[graph.u] == label)
        # seats on one bus-worthy component share its snapping index (named by component)
        v = snap_points(graph, vxy[rows], edge_mask=comp, mask_name=f"{key}:component{label}")
        ok = (v.edge >= 0) & (v.dist_m <= leg)
        wide[rows] = ok
        gap[rows] = np.where(ok, 0.0, np.minimum(v.dist_m, straight)) / 1000.0
    return pd.DataFrame({"bus_wide_road": wide, "bus_route_km": route, "bus_road_gap_km": gap},
                        index=villages.index)


def bus_priorities(
    villages: gpd.GeoDataFrame, services: gpd.GeoDataFrame, graph: RoadGraph,
    config: BusConfig, *, rate: float, roads: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Bus service or road first per village, with need, rank, tier and reasons.

    Parameters
    ----------
    villages
        Village table with the network's access measures (``hardened_to_township``,
        ``tt_own_township_seat_min``), ``township_id``, ``pop`` and the poverty columns;
        optionally ``has_bus`` (a bus already serves it).
    services
        Services with the township seats (``kind`` ``township_seat``, ``township_id``).
    graph
        The road graph.
    config
        The ``bus`` section of the priority configuration.
    rate
        Discount rate.
    roads
        Roads table with ``road_id`` and ``width_m``; without it widths come by class.

    Returns
    -------
    pandas.DataFrame
        ``village_id`` and the ``bus_*`` columns.
    """
    require(villages, ["village_id", "township_id", "pop", "hardened_to_township",
                       "tt_own_township_seat_min"], "bus", "run the network stage first")
    require(services, ["service_id", "kind", "township_id"], "bus",
            "map the services layer's columns in the region manifest")
    c = config.costs
    q = qualified_villages(graph, villages, services, config, roads)
    no_seat = ~np.isfinite(q["bus_road_gap_km"].to_numpy(float))
    if no_seat.any():
        warn_data(f"bus: {int(no_seat.sum())} village(s) have no township seat in the services "
                  "layer; they count as not qualified with no road gap", logger=logger)
    t = pd.DataFrame(villages.drop(columns="geometry")).copy()
    for col in q.columns:
        t[col] = q[col].to_numpy()
    hard = parse_bool(t["hardened_to_township"], column="hardened_to_township", default=False,
                      source="villages")
    qualified = hard & t["bus_wide_road"].to_numpy(bool)
    has_bus = (parse_bool(t["has_bus"], column="has_bus", default=False, source="villages")
               if "has_bus" in t.columns else np.zeros(len(t), bool))
    pop = pd.to_numeric(t["pop"], errors="coerce").fillna(0.0).to_numpy(float)
    gap = np.where(qualified | no_seat, 0.0, t["bus_road_gap_km"].to_numpy(float))
    route = t["bus_route_km"].to_numpy(float)
    route = np.where(np.isfinite(route), route, gap)
    opt = np.where(has_bus | (pop <= 0), "none",
                   np.where(qualified, "bus_service", "road_first"))
    served = opt != "none"
    road = np.where(opt == "road_first", gap * c.road_cny_per_km, 0.0)
    stop = np.where(served, c.stop_cny, 0.0)
    operating = np.where(served, route * c.operating_cny_per_km_year, 0.0)
    t["tt_own_township_seat_min"], t["_no_route"] = fill_no_route(t["tt_own_township_seat_min"])
    t["bus_qualified"] = qualified
    t["bus_not_qualified"] = (~qualified).astype(float)
    t["bus_route_km"] = np.round(route, 3)
    t["bus_road_gap_km"] = np.round(gap, 3)
    t["bus_opex_cny_per_year"] = np.round(operating, 0)
    t["bus_option"] = opt
    t["bus_capex_cny"] = np.round(road + stop, 0)
    t["bus_annualised_cny"] = np.round(road * crf(rate, c.road_life_years)
                                       + stop * crf(rate, c.stop_life_years) + operating, 0)
    t["bus_beneficiaries"] = np.where(served, pop, 0.0)
    poor = (pd.to_numeric(t["poor_pop"], errors="coerce").fillna(0.0).to_numpy(float)
            if "poor_pop" in t else np.zeros(len(t)))
    t["bus_poor_beneficiaries"] = np.where(served, poor, 0.0)
    out = assemble(t, "bus", CRITERIA, config, id_column="village_id", options=OPTIONS)
    logger.info("bus: %s", out["bus_option"].value_counts().to_dict())
    return select_output(out, "bus", ["village_id"], CRITERIA)


def _mask_name(mask: NDArray[np.bool_]) -> str:
    """Cache key of a bus-worthy edge mask for the spatial indexes."""
    return f"bus:{hashlib.sha1(mask.tobytes()).hexdigest()[:12]}"


def bus_lines(
    villages: gpd.GeoDataFrame, services: gpd.GeoDataFrame, graph: RoadGraph,
    config: BusConfig, roads: pd.DataFrame | None = None,
) -> BusLines:
    """Bus lines from the township seats over the bus-worthy roads, and their stops.

    :func:`contigmap.priority.buslines.design_lines` on the edges :func:`bus_roads`
    allows, with ``config.lines``.

    Returns
    -------
    BusLines
        Lines (``line_id``, ``seat``, ``length_m``, ``vehicles``, ``served_people``,
        ``served_poor``, ``yearly_opex_cny``, …) and stops (``village_id``).
    """
    require(villages, ["village_id", "township_id"], "bus lines",
            "map the villages layer's columns in the region manifest")
    require(services, ["service_id", "kind", "township_id"], "bus lines",
            "map the services layer's columns in the region manifest")
    mask = bus_roads(graph, config, roads)
    return design_lines(graph, mask, villages, services, config.lines,
                        mask_name=_mask_name(mask))


def _extras(inputs: PriorityInputs, config: InterventionConfig) -> dict[str, pd.DataFrame]:
    """Return the designed lines and stops (the registry's ``extras``)."""
    out = bus_lines(inputs.villages, inputs.services, inputs.graph, cast(BusConfig, config))
    return {"bus_lines": out.lines, "bus_stops": out.stops}


def _compute(inputs: PriorityInputs, config: InterventionConfig, rate: float) -> pd.DataFrame:
    """:func:`bus_priorities` from the stage's inputs (the registry's ``compute``).

    The stage passes no roads table, so widths come from the road classes.
    """
    return bus_priorities(inputs.villages, inputs.services, inputs.graph,
                          cast(BusConfig, config), rate=rate)


INTERVENTION = Intervention(
    name="bus", label_zh="通客车", label_en="shuttle buses", unit="village",
    options=OPTIONS, config_model=BusConfig, compute=_compute, criteria=CRITERIA,
    columns=COLUMNS, in_place=False, extras=_extras,
)
"""This intervention, as :mod:`contigmap.priority.registry` lists it."""
