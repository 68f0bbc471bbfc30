"""Bus line design: a hand network read off by hand, brute force over every set of lines."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_matrix
from shapely.geometry import LineString, Point

from contigmap.io.write import write_vector
from contigmap.network import NetworkParams, build_network
from contigmap.priority import load_priority_config
from contigmap.priority.bus import BusConfig, bus_lines
from contigmap.priority.buslines import (
    BusLines,
    BusLinesConfig,
    daily_round_trips,
    vehicles_needed,
    yearly_opex_cny,
)
from contigmap.priority.siting import greedy_cover, max_cover
from tests.helpers import CRS

X0, Y0 = 400_000.0, 3_100_000.0


def _line(*pts: tuple[float, float]) -> LineString:
    return LineString([(X0 + a, Y0 + b) for a, b in pts])


def _network() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Seat at the origin; wide paved village roads east (4 km), north (3 km) then east
    along y = 3 km (3 km more), west (5 km); tracks (3.5 m) from the east end north and a
    diagonal shortcut from the seat to (3 km, 3 km).

    Terminals (within the 100 m leg of a wide road): B (east end), C (north corner),
    D (west end), H (north-east end). A sits 300 m off the east road, G 50 m off the
    track 800 m north of the east end, F and E are far from every line.
    """
    roads = gpd.GeoDataFrame(
        {"road_id": ["E", "N", "NE", "W", "TK", "DG"],
         "road_class": ["village"] * 4 + ["track"] * 2, "surface": ["paved"] * 6},
        geometry=[_line((0, 0), (4000, 0)), _line((0, 0), (0, 3000)),
                  _line((0, 3000), (3000, 3000)), _line((0, 0), (-5000, 0)),
                  _line((4000, 0), (4000, 3000)), _line((0, 0), (3000, 3000))], crs=CRS)
    pos = {"A": (2000, 300), "B": (4000, 50), "C": (-50, 3000), "D": (-5000, 50),
           "E": (-2500, 1500), "F": (4100, 3000), "G": (4050, 800), "H": (3000, 3050)}
    pop = {"A": 300, "B": 200, "C": 150, "D": 400, "E": 50, "F": 80, "G": 120, "H": 260}
    villages = gpd.GeoDataFrame(
        {"village_id": list(pos), "township_id": ["T"] * len(pos), "pop": list(pop.values()),
         "poor_pop": [v // 10 for v in pop.values()]},
        geometry=[Point(X0 + x, Y0 + y) for x, y in pos.values()], crs=CRS)
    services = gpd.GeoDataFrame(
        {"service_id": ["S"], "kind": ["township_seat"], "township_id": ["T"]},
        geometry=[Point(X0, Y0)], crs=CRS)
    return roads, villages, services


# by hand: terminal -> (length m, villages served within 1 km, along roads or straight)
LINES = {"B": (4000.0, {"A", "B", "G"}), "C": (3000.0, {"C"}), "D": (5000.0, {"D"}),
         "H": (6000.0, {"C", "H"})}
POP = {"A": 300, "B": 200, "C": 150, "D": 400, "E": 50, "F": 80, "G": 120, "H": 260}


def _cfg(**lines: object) -> BusConfig:
    cfg = load_priority_config().bus
    assert isinstance(cfg, BusConfig)
    return cfg.model_copy(update={"lines": BusLinesConfig(**lines)})  # type: ignore[arg-type]


def _design(cfg: BusConfig, widths: dict[str, float] | None = None) -> BusLines:
    roads, villages, services = _network()
    graph = build_network(roads, params=NetworkParams(hardened_leg_max_m=100.0))
    table = None if widths is None else pd.DataFrame(
        {"road_id": list(widths), "width_m": list(widths.values())})
    return bus_lines(villages, services, graph, cfg, roads=table)


def _brute(lines: BusLinesConfig) -> set[str]:
    """Best set of candidate lines by enumeration: most people, then shortest."""
    best: tuple[float, float] = (-1.0, 0.0)
    pick: set[str] = set()
    for r in range(len(LINES) + 1):
        for combo in itertools.combinations(sorted(LINES), r):
            km = sum(LINES[t][0] for t in combo) / 1000.0
            veh = sum(math.ceil((2 * LINES[t][0] / 1000 / lines.speed_kmh * 60
                                 + lines.layover_min) / lines.headway_min) for t in combo)
            if ((lines.max_total_km is not None and km > lines.max_total_km)
                    or (lines.max_vehicles is not None and veh > lines.max_vehicles)):
                continue
            served = set().union(*(LINES[t][1] for t in combo)) if combo else set()
            key = (float(sum(POP[v] for v in served)), -km)
            if key > best:
                best, pick = key, set(combo)
    return pick


BUDGETS = [
    {"max_total_km": 10.0, "max_vehicles": None},
    {"max_total_km": 9.5, "max_vehicles": None},
    {"max_total_km": 15.0, "max_vehicles": None},
    {"max_total_km": 3.5, "max_vehicles": None},
    {"max_total_km": None, "max_vehicles": None},
    {"max_total_km": None, "max_vehicles": 3, "speed_kmh": 10.0, "headway_min": 60.0},
    {"max_total_km": None, "max_vehicles": 2, "speed_kmh": 10.0, "headway_min": 60.0},
    {"max_total_km": 9.0, "max_vehicles": 2, "speed_kmh": 10.0, "headway_min": 60.0},
]


@pytest.mark.parametrize("walk_along", ["road", "straight"])
@pytest.mark.parametrize("budget", BUDGETS)
def test_chosen_lines_equal_brute_force(budget: dict[str, object], walk_along: str) -> None:
    cfg = _cfg(walk_along=walk_along, **budget)
    out = _design(cfg)
    assert out.candidates == len(LINES)
    assert out.method == "milp" and out.bound == 1.0
    chosen = set(out.lines["terminal_village_id"])
    assert chosen == _brute(cfg.lines)
    lines = out.lines.set_index("terminal_village_id")
    for t in chosen:  # lengths by hand; budgets respected
        assert lines.loc[t, "length_m"] == pytest.approx(LINES[t][0])
    if cfg.lines.max_total_km is not None:
        assert out.lines["length_m"].sum() <= cfg.lines.max_total_km * 1000 + 1e-6
    if cfg.lines.max_vehicles is not None:
        assert out.lines["vehicles"].sum() <= cfg.lines.max_vehicles
    served = set().union(*(LINES[t][1] for t in chosen)) if chosen else set()
    assert set(out.stops["village_id"]) == served
    assert out.lines["served_people"].sum() == sum(POP[v] for v in served)
    assert out.lines["served_poor"].sum() == sum(POP[v] // 10 for v in served)


def test_a_narrow_road_is_never_used() -> None:
    out = _design(_cfg(max_total_km=None, max_vehicles=None))
    # H over the wide roads (6 km), not the 4.2 km diagonal track
    h = out.lines.set_index("terminal_village_id").loc["H"]
    assert h["length_m"] == pytest.approx(6000.0)
    roads, _, _ = _network()
    wide = roads[roads["road_class"] == "village"].union_all().buffer(1e-6)
    assert all(g.within(wide) for g in out.lines.geometry)
    # the north road only 3.5 m wide: C and H are no terminals, no line goes north
    out = _design(_cfg(max_total_km=None, max_vehicles=None), widths={"N": 3.5})
    assert set(out.lines["terminal_village_id"]) == {"B", "D"}
    assert out.candidates == 2


@pytest.mark.slow
def test_walking_distance_by_hand() -> None:
    for along, g_walk in [("road", 50.0 + 800.0), ("straight", math.hypot(50.0, 800.0))]:
        out = _design(_cfg(walk_along=along, max_total_km=4.0, max_vehicles=None))
        stops = out.stops.set_index("village_id")
        assert set(stops.index) == {"A", "B", "G"}
        assert stops.loc["G", "walk_m"] == pytest.approx(g_walk, abs=0.1)
        assert stops.loc["A", "walk_m"] == pytest.approx(300.0, abs=0.1)
        # the stop is the line's nearest point: on the east road below A, at its end for G
        assert stops.loc["A"].geometry.distance(Point(X0 + 2000, Y0)) < 1e-6
        assert stops.loc["G"].geometry.distance(Point(X0 + 4000, Y0)) < 1e-6
    # a shorter walk leaves G (850 m along roads, 802 m straight) out
    out = _design(_cfg(walk_m=820.0, max_total_km=4.0, max_vehicles=None))
    assert "G" not in set(out.stops["village_id"])
    out = _design(_cfg(walk_m=820.0, walk_along="straight", max_total_km=4.0,
                       max_vehicles=None))
    assert "G" in set(out.stops["village_id"])


def test_vehicles_and_opex_by_hand() -> None:
    cfg = BusLinesConfig()  # 30 km/h, 10 min layover, 360 min headway, 12 h, 3 CNY/bus-km
    assert daily_round_trips(cfg) == 2
    np.testing.assert_array_equal(vehicles_needed(np.array([4000.0, 90_000.0]), cfg), [1, 2])
    # 4 km out and back, twice a day, 365 days, 3 CNY
    assert yearly_opex_cny(np.array([4000.0]), cfg)[0] == pytest.approx(2 * 4 * 2 * 365 * 3)
    out = _design(_cfg(max_total_km=4.0, max_vehicles=None))
    row = out.lines.iloc[0]
    assert row["terminal_village_id"] == "B"
    assert row["yearly_opex_cny"] == pytest.approx(17_520.0)
    assert row["vehicles"] == 1 and row["daily_round_trips"] == 2
    fast = BusLinesConfig(headway_min=30.0, speed_kmh=20.0, layover_min=0.0)
    # 2 x 5 km at 20 km/h = 30 min: one bus at a 30-min headway; 24 round trips a day
    assert vehicles_needed(np.array([5000.0]), fast)[0] == 1
    assert vehicles_needed(np.array([5001.0]), fast)[0] == 2
    assert daily_round_trips(fast) == 24


def test_weight_poor_people() -> None:
    # 4 km: B (serves 62 poor) or C (15 poor)
    out = _design(_cfg(weight="poor_pop", max_total_km=4.0, max_vehicles=None))
    assert set(out.lines["terminal_village_id"]) == {"B"}
    assert out.lines["served_poor"].sum() == 30 + 20 + 12


@pytest.mark.slow
def test_deterministic(tmp_path: Path) -> None:
    a = _design(_cfg(max_total_km=12.0))
    b = _design(_cfg(max_total_km=12.0))
    pd.testing.assert_frame_equal(a.lines, b.lines)
    pd.testing.assert_frame_equal(a.stops, b.stops)
    pa = write_vector(a.lines, tmp_path / "a.gpkg", layer="bus_lines")
    pb = write_vector(b.lines, tmp_path / "b.gpkg", layer="bus_lines")
    assert pa.read_bytes() == pb.read_bytes()


def _brute_budgeted(a: np.ndarray, w: np.ndarray, cost: np.ndarray,
                    budget: np.ndarray) -> float:
    best = 0.0
    for r in range(a.shape[1] + 1):
        for combo in itertools.combinations(range(a.shape[1]), r):
            c = list(combo)
            if (cost[c].sum(axis=0) <= budget + 1e-9).all():
                best = max(best, float(w[a[:, c].any(axis=1)].sum()))
    return best


@pytest.mark.parametrize("seed", range(10))
def test_budgeted_cover_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.random((25, 8)) < 0.25
    w = rng.integers(0, 60, 25).astype(float)
    cost = np.column_stack([rng.uniform(1, 10, 8), rng.integers(1, 4, 8)])
    budget = np.array([rng.uniform(8, 25), float(rng.integers(2, 6))])
    best = _brute_budgeted(a, w, cost, budget)
    exact = max_cover(csr_matrix(a), w, 8, costs=cost, budgets=budget)
    assert exact.method == "milp" and exact.objective == pytest.approx(best)
    assert (cost[exact.sites].sum(axis=0) <= budget + 1e-9).all()
    # one budget: the modified greedy within (1 - 1/e) / 2 of the optimum
    one = _brute_budgeted(a, w, cost[:, :1], budget[:1])
    g = greedy_cover(csr_matrix(a), w, 8, costs=cost[:, :1], budgets=budget[:1])
    assert g.bound == pytest.approx((1 - 1 / math.e) / 2)
    assert one * g.bound - 1e-9 <= g.objective <= one + 1e-9
    assert cost[g.sites, 0].sum() <= budget[0] + 1e-9
    g2 = max_cover(csr_matrix(a), w, 8, costs=cost, budgets=budget, exact_max_cells=1)
    # two budgets: the bound is measured against the LP relaxation (>= the optimum)
    assert g2.method == "greedy" and 0.0 < g2.bound <= 1.0
    assert best * g2.bound - 1e-9 <= g2.objective <= best + 1e-9
    assert (cost[g2.sites].sum(axis=0) <= budget + 1e-9).all()


@pytest.mark.slow
def test_the_stage_writes_lines_and_stops(tmp_path: Path) -> None:
    import warnings

    from contigmap.network import access_measures
    from contigmap.priority.run import compute_priorities, write_priority_tables

    roads, villages, services = _network()
    villages["poverty_incidence"] = villages["poor_pop"] / villages["pop"]
    graph = build_network(roads, params=NetworkParams(hardened_leg_max_m=100.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no other services; no budget set
        m = access_measures(graph, villages, services)
        base = load_priority_config().model_dump()
        base["bus"]["lines"]["max_total_km"] = 10.0
        base["sensitivity_draws"] = 0
        cfg = load_priority_config(base)
        res = compute_priorities(m, None, graph, services, {}, dem=None, config=cfg,
                                 interventions=("bus",))
    assert set(res.extra) == {"bus_lines", "bus_stops"}
    assert set(res.extra["bus_lines"]["terminal_village_id"]) == {"B", "H"}
    written = write_priority_tables(res, tmp_path)
    for key, name in [("bus_lines_gpkg", "bus_lines.gpkg"), ("bus_lines_csv", "bus_lines.csv"),
                      ("bus_stops_csv", "bus_stops.csv")]:
        assert written[key] == tmp_path / name and written[key].exists()
    back = gpd.read_file(tmp_path / "bus_lines.gpkg")
    assert sorted(back["line_id"]) == ["S-B", "S-H"]
    stops = pd.read_csv(tmp_path / "bus_stops.csv", encoding="utf-8-sig")
    assert sorted(stops["village_id"]) == ["A", "B", "C", "G", "H"]
