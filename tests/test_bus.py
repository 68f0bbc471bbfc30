"""Shuttle buses (通客车): qualified villages against the network columns, costs by hand."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from contigmap.finance import crf
from contigmap.network import NetworkParams, access_measures, build_network
from contigmap.priority import load_priority_config, registry
from contigmap.priority.bus import BusConfig, bus_priorities, bus_roads
from tests.helpers import hand_network

R = 0.08


def _cfg() -> BusConfig:
    cfg = load_priority_config().bus
    assert isinstance(cfg, BusConfig)
    return cfg


def _run(roads: gpd.GeoDataFrame, *, widths: dict[str, float] | None = None,
         same_people: bool = False, has_bus: list[bool] | None = None,
         ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Rank the hand network's two villages; return the table and the access measures."""
    _, villages, services = hand_network()
    if same_people:
        villages["pop"], villages["poor_pop"] = 100, 10
    villages["poverty_incidence"] = villages["poor_pop"] / villages["pop"]
    if has_bus is not None:
        villages["has_bus"] = has_bus
    # walking legs to a hardened road of at most 100 m, so that a village 400 m from
    # one is not joined to it
    graph = build_network(roads, params=NetworkParams(hardened_leg_max_m=100.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the hand network has no other services
        m = access_measures(graph, villages, services)
    table = None
    if widths is not None:
        table = pd.DataFrame({"road_id": list(widths), "width_m": list(widths.values())})
    out = bus_priorities(m, services, graph, _cfg(), rate=R, roads=table)
    return out.set_index("village_id"), m.set_index("village_id")


@pytest.mark.parametrize("unpaved", [[], ["R4"], ["R2"], ["R2", "R3"], ["R1"]])
def test_qualified_follows_hardened_to_township(unpaved: list[str]) -> None:
    roads, _, _ = hand_network()
    roads.loc[roads["road_id"].isin(unpaved), "surface"] = "earth"
    out, m = _run(roads)
    # every road is a village road (4.5 m by class): qualified = the network's flag
    np.testing.assert_array_equal(out["bus_qualified"].to_numpy(bool),
                                  m.loc[out.index, "hardened_to_township"].to_numpy(bool))
    assert (out["bus_option"] == np.where(out["bus_qualified"], "bus_service",
                                          "road_first")).all()


def test_paths_and_tracks_are_too_narrow_by_class() -> None:
    roads, _, _ = hand_network()
    graph = build_network(roads)
    assert bus_roads(graph, _cfg()).all()
    roads["road_class"] = "track"  # 3.5 m by class
    assert not bus_roads(build_network(roads), _cfg()).any()


def test_a_narrow_road_disqualifies_and_costs_by_hand() -> None:
    roads, _, _ = hand_network()
    c = _cfg().costs
    out, m = _run(roads)
    # along roads: V1 2.4 km, V2 1.4 km from the seat; both qualified
    assert out.loc["V1", "bus_route_km"] == pytest.approx(2.4)
    assert out.loc["V2", "bus_route_km"] == pytest.approx(1.4)
    assert out.loc["V1", "bus_capex_cny"] == pytest.approx(c.stop_cny)
    want = c.stop_cny * crf(R, c.stop_life_years) + 2.4 * c.operating_cny_per_km_year
    assert out.loc["V1", "bus_annualised_cny"] == pytest.approx(want, abs=0.5)
    assert out.loc["V1", "bus_opex_cny_per_year"] == pytest.approx(
        2.4 * c.operating_cny_per_km_year, abs=0.5)
    # R1 (from the seat) only 3.5 m wide: the seat is 1 km from a bus-worthy road, more
    # than the 100 m leg, so no village qualifies though both are hardened to the seat
    out, m = _run(roads, widths={"R1": 3.5})
    assert m["hardened_to_township"].all()
    assert not out["bus_qualified"].any()
    assert out.loc["V1", "bus_road_gap_km"] == pytest.approx(2.4)  # straight to the seat
    road = 2.4 * c.road_cny_per_km
    assert out.loc["V1", "bus_option"] == "road_first"
    assert out.loc["V1", "bus_capex_cny"] == pytest.approx(road + c.stop_cny)
    want = (road * crf(R, c.road_life_years) + c.stop_cny * crf(R, c.stop_life_years)
            + 2.4 * c.operating_cny_per_km_year)
    assert out.loc["V1", "bus_annualised_cny"] == pytest.approx(want, abs=0.5)
    # a width_m wider than its class counts too
    roads["road_class"] = "track"
    out, _ = _run(roads, widths={r: 5.0 for r in roads["road_id"]})
    assert out["bus_qualified"].all()


def test_pair_qualified_ranks_low_unqualified_high() -> None:
    roads, _, _ = hand_network()
    roads.loc[roads["road_id"] == "R2", "surface"] = "earth"
    out, m = _run(roads, same_people=True)
    # V2 sits on the earth road R2; V1 reaches the seat over the paved loop R3
    assert bool(m.loc["V1", "hardened_to_township"])
    assert not bool(m.loc["V2", "hardened_to_township"])
    assert out.loc["V2", "bus_rank"] < out.loc["V1", "bus_rank"]
    assert out.loc["V2", "bus_need"] > out.loc["V1", "bus_need"]
    assert "no hardened road wide enough for a bus" in out.loc["V2", "bus_reasons"]


def test_a_village_with_a_bus_needs_none() -> None:
    roads, _, _ = hand_network()
    out, _ = _run(roads, has_bus=[True, False])
    assert out.loc["V1", "bus_option"] == "none"
    assert out.loc["V1", "bus_capex_cny"] == 0
    assert out.loc["V2", "bus_option"] == "bus_service"


def test_registered_at_village_level() -> None:
    iv = registry.get("bus")
    assert iv.unit == "village" and iv.label_zh == "通客车"
    assert [o.key for o in iv.options] == ["bus_service", "road_first", "none"]
