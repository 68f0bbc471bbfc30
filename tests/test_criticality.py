"""Criticality on a hand-made network (times computed by hand at 25 km/h = 2.4 min/km)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point

from contigmap.network import access_measures, build_network
from contigmap.network.criticality import road_criticality

CRS = "EPSG:32649"


def _net() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    x0, y0 = 400_000.0, 3_100_000.0

    def line(*pts: tuple[float, float]) -> LineString:
        return LineString([(x0 + a, y0 + b) for a, b in pts])

    roads = gpd.GeoDataFrame(
        {"road_id": ["R1", "R2", "R3", "R4"], "road_class": ["village"] * 4,
         "surface": ["paved"] * 4},
        geometry=[line((0, 0), (1000, 0)), line((1000, 0), (2000, 0)),
                  line((1000, 0), (1000, 1000), (2000, 1000), (2000, 0)),
                  line((2000, 0), (3000, 0))], crs=CRS)
    villages = gpd.GeoDataFrame(
        {"village_id": ["V1", "V2"], "township_id": ["T", "T"], "pop": [100, 50],
         "poor_pop": [10, 5]},
        geometry=[Point(x0 + 2400, y0), Point(x0 + 1400, y0)], crs=CRS)
    services = gpd.GeoDataFrame(
        {"service_id": ["S"], "kind": ["township_seat"], "township_id": ["T"]},
        geometry=[Point(x0, y0)], crs=CRS)
    return roads, villages, services


@pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")
def test_hand_checked_criticality() -> None:
    roads, villages, services = _net()
    graph = build_network(roads)
    m = access_measures(graph, villages, services)
    np.testing.assert_allclose(m["tt_own_township_seat_min"], [2.4 * 2.4, 2.4 * 1.4])
    out = road_criticality(graph, villages, services).set_index("road_id")
    # R1 fails: both villages cut off
    assert out.loc["R1", "villages_cut_off"] == 2
    assert out.loc["R1", "pop_cut_off"] == 150
    assert out.loc["R1", "poor_cut_off"] == 15
    # R2 fails: V1 detours over R3 (1000 + 3000 + 400 m); V2 (on R2, nearer its west end)
    # keeps its way west
    r2 = out.loc["R2"]
    assert r2["villages_cut_off"] == 0
    assert r2["villages_affected"] == 1
    assert r2["max_delay_min"] == pytest.approx(2.4 * 4.4 - 2.4 * 2.4, rel=1e-9)
    assert r2["person_minutes_delay"] == pytest.approx(100 * 2.4 * 2.0, rel=1e-9)
    assert r2["poor_person_minutes_delay"] == pytest.approx(10 * 2.4 * 2.0, rel=1e-9)
    # R3 is on nobody's shortest path; R4's failure leaves V1 its west end
    assert "R3" not in out.index
    assert "R4" not in out.index
    assert out.index[0] == "R1"
