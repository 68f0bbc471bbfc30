"""Criticality on a hand-made network (times computed by hand at 25 km/h = 2.4 min/km)."""

from __future__ import annotations

import numpy as np
import pytest

from contigmap.network import access_measures, build_network
from contigmap.network.criticality import road_criticality
from tests.helpers import hand_network


@pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")
def test_hand_checked_criticality() -> None:
    roads, villages, services = hand_network()
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
