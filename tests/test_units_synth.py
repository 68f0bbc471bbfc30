"""Unit tests for the synthetic terrain's hydrology and slope on hand-sized grids."""

from __future__ import annotations

import math

import numpy as np
import pytest

from contigmap.synth.terrain import d8_receivers, flow_accumulation, priority_flood, slope_degrees

G = np.array([[9.0, 8.0, 7.0],
              [6.0, 5.0, 4.0],
              [3.0, 2.0, 1.0]])


def test_priority_flood_fills_a_pit_to_its_spill_height() -> None:
    pit = np.array([[5.0, 5.0, 5.0, 5.0],
                    [5.0, 1.0, 2.0, 5.0],
                    [5.0, 2.0, 1.5, 3.0],
                    [5.0, 5.0, 5.0, 5.0]])
    filled = priority_flood(pit, np.ones(pit.shape, bool))
    # the edge keeps its heights; the pit spills over the 3.0 on the east edge, so its
    # cells rise to 3 (plus a tiny epsilon per step on the way in)
    edge = np.ones(pit.shape, bool)
    edge[1:3, 1:3] = False
    np.testing.assert_array_equal(filled[edge], pit[edge])
    np.testing.assert_allclose(filled[1:3, 1:3], 3.0, atol=1e-3)
    assert (filled[1:3, 1:3] > 3.0).all()


def test_priority_flood_every_cell_drains_to_the_edge() -> None:
    rng = np.random.default_rng(5)
    elev = rng.uniform(0, 100, (12, 10))
    valid = np.ones(elev.shape, bool)
    valid[4:6, 3:5] = False  # a hole: its rim is an outlet too
    filled = priority_flood(elev, valid)
    assert np.isnan(filled[~valid]).all()
    assert (filled[valid] >= elev[valid]).all()
    recv = d8_receivers(filled, 30.0, 30.0).ravel()
    rows, cols = elev.shape
    padded = np.pad(valid, 1, constant_values=False)
    outlet = np.zeros(elev.shape, bool)
    for r in range(rows):
        for c in range(cols):
            outlet[r, c] = valid[r, c] and not padded[r:r + 3, c:c + 3].all()
    for start in np.flatnonzero(valid.ravel()):
        i, steps = int(start), 0
        while recv[i] >= 0:
            i, steps = int(recv[i]), steps + 1
            assert steps <= elev.size  # no cycles
        assert outlet.ravel()[i], f"cell {start} ends in a sink at {i}"


def test_priority_flood_leaves_a_draining_surface_alone() -> None:
    np.testing.assert_array_equal(priority_flood(G, np.ones(G.shape, bool)), G)


def test_d8_receivers_by_hand() -> None:
    recv = d8_receivers(G, 1.0, 1.0)
    # centre (5): drops 3 to (2,1), 4/sqrt2 = 2.83 to (2,2), 1 to (1,2) -> (2,1) = 7;
    # (0,0) = 9: drops 1 east, 3 south, 4/sqrt2 south-east -> (1,0) = 3; the low corner: -1
    assert recv.tolist() == [[3, 4, 5], [6, 7, 8], [7, 8, -1]]
    # cells 10 m high: going south costs ten times the distance. (0,0): east 1/1 = 1,
    # south 3/10, south-east 4/sqrt(101) = 0.40 -> east
    assert d8_receivers(G, 1.0, 10.0)[0, 0] == 1
    flat = d8_receivers(np.zeros((2, 2)), 1.0, 1.0)
    assert (flat == -1).all()  # no lower neighbour anywhere
    holed = G.copy()
    holed[2, 1] = np.nan
    # the centre no longer sees (2,1); next steepest is (2,2) at 2.83
    assert d8_receivers(holed, 1.0, 1.0)[1, 1] == 8 and d8_receivers(holed, 1.0, 1.0)[2, 1] == -1


def test_flow_accumulation_by_hand() -> None:
    recv = np.array([[3, 4, 5], [6, 7, 8], [7, 8, -1]])
    acc = flow_accumulation(G, recv, 0.5)
    # in cells: 0, 1, 2 -> 1 each; 3 = 1 + [0] = 2; 4 = 2; 5 = 2; 6 = 1 + [3] = 3;
    # 7 = 1 + [4] + [6] = 6; 8 = 1 + [5] + [7] = 9 (every cell); times 0.5 km2
    np.testing.assert_allclose(acc, 0.5 * np.array([[1, 1, 1], [2, 2, 2], [3, 6, 9]]))
    nan_cell = G.copy()
    nan_cell[0, 0] = np.nan
    recv2 = recv.copy()
    recv2[0, 0] = -1
    acc2 = flow_accumulation(nan_cell, recv2, 1.0)
    # the nodata cell has no area and passes none on
    assert acc2[0, 0] == 0.0 and acc2[1, 0] == 1.0 and acc2[2, 2] == 8.0


def test_slope_degrees_of_a_plane() -> None:
    dx, dy = 30.0, 20.0
    r, c = np.indices((5, 6))
    elev = 0.3 * c * dx + 0.4 * r * dy  # gradient (0.3, 0.4): |grad| = 0.5
    np.testing.assert_allclose(slope_degrees(elev, dx, dy), math.degrees(math.atan(0.5)))
    assert slope_degrees(np.full((3, 3), 7.0), dx, dy) == pytest.approx(np.zeros((3, 3)))
