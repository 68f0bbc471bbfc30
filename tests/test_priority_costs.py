"""Cost models against hand-computed cases: grid, water, roads, fibre tree, line of sight."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from pyproj import CRS
from shapely.geometry import LineString, Point

from contigmap.errors import ValidationError
from contigmap.finance import crf
from contigmap.network import build_network
from contigmap.priority._steiner import steiner_tree
from contigmap.priority.broadband import line_of_sight
from contigmap.priority.config import load_priority_config
from contigmap.priority.power import electrification_options, lcoe
from contigmap.priority.roads import roads_priorities, route_to_harden
from contigmap.priority.water import water_options
from contigmap.raster import Raster
from contigmap.roadworks import road_costs

CRS_M = CRS.from_epsg(32649)
CFG = load_priority_config()
R = 0.08


def _roads(lines: list[tuple[list[tuple[float, float]], str, str]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"road_id": [f"r{i}" for i in range(len(lines))],
         "road_class": [c for _, c, _ in lines], "surface": [s for _, _, s in lines]},
        geometry=[LineString(p) for p, _, _ in lines], crs=CRS_M)


def _node(graph: object, x: float, y: float) -> int:
    xy = graph.node_xy  # type: ignore[attr-defined]
    return int(np.argmin(np.hypot(xy[:, 0] - x, xy[:, 1] - y)))


# --------------------------------------------------------------------------- power


def test_lcoe_simple_case() -> None:
    # life = horizon, no fuel: LCOE = (I crf + OM) / E
    out = lcoe(1000.0, 50.0, 0.0, 200.0, life_years=20, horizon_years=20, rate=R)
    assert float(out) == pytest.approx((1000 * crf(R, 20) + 50) / 200)


def test_short_grid_extension_by_hand() -> None:
    c = CFG.power.costs  # tier 3: 160.6 kWh/person/year
    opts = electrification_options(np.array([500.0]), np.array([125.0]), np.array([1000.0]), c,
                                   rate=R)
    capex = 1.0 * 300_000 + 100_000 + 125 * 1_200
    energy = 500 * 160.6
    annuity = (1 - 1.08**-20) / 0.08
    salvage = capex * (1 - 20 / 30) * 1.08**-20  # 30-year line, 20-year horizon
    expected = (capex - salvage + 0.02 * capex * annuity
                + 0.40 / 0.92 * energy * annuity) / (energy * annuity)
    assert opts["grid_capex_cny"].iloc[0] == pytest.approx(capex)
    assert opts["grid_lcoe"].iloc[0] == pytest.approx(expected)
    # mini-grid: 80,300 kWh / (8760 h * 0.12) = 76.4 kW of PV
    kw = energy / (8760 * 0.12)
    assert opts["minigrid_capex_cny"].iloc[0] == pytest.approx(kw * 18_000 + 125 * 2_000)
    assert opts["option"].iloc[0] == "grid"
    # a 40 km line is dearer than a mini-grid; SHS is not offered at tier 3
    far = electrification_options(np.array([500.0]), np.array([125.0]), np.array([40_000.0]), c,
                                  rate=R)
    assert far["option"].iloc[0] == "minigrid"
    assert np.isinf(far["shs_lcoe"].iloc[0])


# --------------------------------------------------------------------------- water


def test_well_against_pipe_by_hand() -> None:
    c = CFG.water.costs
    # 500 people (30 m3/day), 100 households; a source 0.5 km or 2 km away at the same height
    o = water_options(np.array([500.0] * 3), np.array([100.0] * 3),
                      np.array([500.0, 2000.0, 2000.0]), np.zeros(3), np.array([0.0, 0.0, 1.0]),
                      c, rate=R)
    treat = 30 * 365 * 0.5
    conn = 100 * 1_500
    pipe_near = 0.5 * 1.3 * 250_000 + conn            # 312,500
    pipe_far = 2 * 1.3 * 250_000 + conn               # 800,000
    well = 300_000 + conn                             # one 100 m3/day well
    assert o["piped_capex_cny"].tolist() == pytest.approx([pipe_near, pipe_far, pipe_far])
    assert o["well_capex_cny"].tolist() == pytest.approx([well, well, 2 * 300_000 + conn])
    a_pipe_near = pipe_near * (crf(R, 20) + 0.02) + treat   # 43,553
    a_pipe_far = pipe_far * (crf(R, 20) + 0.02) + treat     # 102,957
    a_well = well * (crf(R, 15) + 0.02) + treat             # 67,048
    a_cistern = 100 * 6_000 * crf(R, 20) + 100 * 100        # 71,111
    assert o["piped_annual_cny"].tolist() == pytest.approx([a_pipe_near, a_pipe_far, a_pipe_far])
    assert o["well_annual_cny"].iloc[0] == pytest.approx(a_well)
    assert o["cistern_annual_cny"].iloc[0] == pytest.approx(a_cistern)
    # near source: the pipe; far source: the well; karst (well doubled): cisterns
    assert o["option"].tolist() == ["piped", "well", "cistern"]
    assert o["capex_cny"].tolist() == pytest.approx([pipe_near, well, 600_000])


def test_pumping_and_cisterns_by_hand() -> None:
    c = CFG.water.costs
    o = water_options(np.array([500.0]), np.array([100.0]), np.array([2000.0]),
                      np.array([100.0]), np.array([1.0]), c, rate=R)
    kw = 1000 * 9.81 * (30 / 43_200) * 100 / 0.6 / 1000
    assert o["piped_capex_cny"].iloc[0] == pytest.approx(800_000 + 80_000 + kw * 6_000)
    assert o["cistern_capex_cny"].iloc[0] == pytest.approx(100 * 6_000)
    # no source at all: only a well or cisterns
    o = water_options(np.array([500.0]), np.array([100.0]), np.array([np.inf]),
                      np.array([np.nan]), np.array([1.0]), c, rate=R)
    assert o["option"].iloc[0] in ("well", "cistern")
    assert np.isnan(o["piped_capex_cny"].iloc[0])


# --------------------------------------------------------------------------- roads


def test_road_costs_by_hand() -> None:
    c = CFG.roads.costs
    o = road_costs(np.array([2000.0, 0, 0, 500]), np.array([0.0, 0, 0, 1000]),
                   np.array(["mountainous", "flat", "hilly", "hilly"], dtype=object),
                   np.array([False, True, False, False]), c, rate=R)
    assert o["capex_cny"].tolist() == pytest.approx([2.4e6, 250_000, 0, 0.5 * 0.8e6 + 1.8e6])
    assert o["option"].tolist() == ["harden", "shuttle_bus", "none", "harden+new_road"]
    assert o["annualised_cny"].iloc[1] == pytest.approx(250_000 * crf(R, 8) + 120_000)


@pytest.mark.parametrize(("detour_m", "expected"), [(20_000.0, 500.0), (5_000.0, 0.0)])
def test_route_to_harden_prefers_short_unpaved(detour_m: float, expected: float) -> None:
    # seat at A (0,0); paved A-B 1 km; earth track B-C 0.5 km; village at C.
    # a paved detour A-D-C: hardening 500 m (weight 500) beats 20 km paved (weight 1000),
    # but not 5 km paved (weight 250)
    h = detour_m / 2
    roads = _roads([([(0, 0), (1000, 0)], "village", "paved"),
                    ([(1000, 0), (1500, 0)], "track", "earth"),
                    ([(0, 0), (750, h)], "village", "paved"),
                    ([(750, h), (1500, 0)], "village", "paved")])
    g = build_network(roads)
    hm, pm = route_to_harden(g, np.array([[1500.0, 0.0]]), np.array([[0.0, 0.0]]),
                             paved_weight=0.05)
    assert hm[0] == pytest.approx(expected, abs=1e-6)
    assert pm[0] == 0.0


def test_missing_network_time_counts_as_the_strongest_need() -> None:
    roads = _roads([([(0, 0), (1000, 0)], "village", "paved")])
    g = build_network(roads)
    villages = gpd.GeoDataFrame(
        {"village_id": ["v1", "v2"], "township_id": ["t", "t"], "pop": [10, 20],
         "hardened_to_township": [True, True], "tt_own_township_seat_min": [5.0, np.nan],
         "rainy_unreachable": [False, False], "dist_road_m": [0.0, 0.0], "relief_m": [10, 10],
         "poor_pop": [1, 2], "poverty_incidence": [0.1, 0.1],
         "cause_poor_transport_share": [0.0, 0.0]},
        geometry=[Point(100, 0), Point(900, 0)], crs=CRS_M)
    services = gpd.GeoDataFrame({"service_id": ["s"], "kind": ["township_seat"],
                                 "township_id": ["t"]}, geometry=[Point(0, 0)], crs=CRS_M)
    out = roads_priorities(villages, g, services, CFG.roads, dem=None, rate=R)
    out = out.set_index("village_id")
    # no time: counted as twice the slowest (2 x 5 min), at least 60 min: the most need
    assert out.loc["v2", "roads_reasons"].startswith(
        "no route to the township seat; counted as 60 min (2 x the slowest village, at "
        "least 60)")
    assert out.loc["v2", "roads_rank"] == 1
    # a table without the network measures still stops the stage
    with pytest.raises(ValidationError, match=r"roads: the table has no "
                       r"'tt_own_township_seat_min' column.*run the network stage"):
        roads_priorities(villages.drop(columns="tt_own_township_seat_min"), g, services,
                         CFG.roads, dem=None, rate=R)


# --------------------------------------------------------------------------- broadband


def test_fibre_shared_by_two_hamlets() -> None:
    # fibre at A (0,0); trunk A-B 2 km; branches B-C and B-D 1 km each; hamlets at C, D
    roads = _roads([([(0, 0), (2000, 0)], "village", "paved"),
                    ([(2000, 0), (2000, 1000)], "village", "gravel"),
                    ([(2000, 0), (2000, -1000)], "village", "gravel")])
    g = build_network(roads)
    a, c, d = _node(g, 0, 0), _node(g, 2000, 1000), _node(g, 2000, -1000)
    tree = steiner_tree(g, np.array([c, d]), np.array([10.0, 30.0]), np.array([a]),
                        np.array([0.0]))
    assert tree.length_m == pytest.approx(4000.0)  # the trunk is counted once
    # trunk split 10:30 by households, each branch paid by its hamlet
    assert tree.share_m.tolist() == pytest.approx([500 + 1000, 1500 + 1000])
    assert tree.share_m.sum() == pytest.approx(tree.length_m)
    assert len(tree.edges) == 3


def _ridge_dem(ridge_m: float) -> Raster:
    z = np.zeros((3, 101))
    z[:, 49:52] = ridge_m
    return Raster(z, Affine(10, 0, 0, 0, -10, 30), CRS_M, "dem")


def test_line_of_sight_blocked_by_ridge() -> None:
    a = np.array([[5.0, 15.0]])
    b = np.array([[1005.0, 15.0]])
    clear, margin = line_of_sight(_ridge_dem(100.0), a, 30.0, b, 10.0, step_m=10.0)
    assert not clear[0]
    # at mid-span the ray is at 20 m and the ridge at 100 m
    assert margin[0] < -70
    clear, margin = line_of_sight(_ridge_dem(0.0), a, 30.0, b, 10.0, step_m=10.0,
                                  frequency_ghz=5.8, clearance=0.6)
    assert clear[0]
    # the tightest point is next to b: ray ~10.2 m, tiny bulge and Fresnel radius
    assert 9.0 < margin[0] < 10.2


def test_earth_bulge_by_hand() -> None:
    # flat ground, antennas 5 m high, 40 km apart: mid-span bulge 20e3^2 / (2 * 4/3 * R)
    z = np.zeros((3, 4002))
    dem = Raster(z, Affine(10, 0, 0, 0, -10, 30), CRS_M, "dem")
    a, b = np.array([[5.0, 15.0]]), np.array([[40_005.0, 15.0]])
    bulge = 20_000.0**2 / (2 * 4 / 3 * 6_371_000)
    clear, margin = line_of_sight(dem, a, 5.0, b, 5.0, step_m=20_000.0)
    assert margin[0] == pytest.approx(5.0 - bulge)
    assert not clear[0]  # 23.5 m of bulge hides the far mast
    _ = pd
