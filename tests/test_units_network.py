"""Unit tests for public network helpers no other test names (hand values, brute force)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString

from contigmap.network import build_network
from contigmap.network._csr import col_max, col_min, csr_from_arrays
from contigmap.network.access_model import AccessModel
from contigmap.network.criticality import tree_edges
from contigmap.network.incremental import arc_weights
from contigmap.network.speeds import NetworkParams, deep_merge, slope_factor

CRS = "EPSG:32649"


# --------------------------------------------------------------------------- speeds


def test_slope_factor_by_hand() -> None:
    p = NetworkParams(slope_free_pct=3.0, slope_penalty_per_pct=0.04, slope_min_factor=0.3)
    grade = np.array([0.0, 0.03, -0.05, 0.10, 0.50, np.nan])
    # |grade| in %: 0, 3, 5, 10, 50, nan -> 0; excess over 3 %: 0, 0, 2, 7, 47, 0
    # 1 - 0.04 * excess: 1, 1, 0.92, 0.72, -0.88 -> floor 0.3, 1
    np.testing.assert_allclose(slope_factor(grade, p), [1.0, 1.0, 0.92, 0.72, 0.3, 1.0])


def test_slope_factor_off_is_all_ones() -> None:
    p = NetworkParams(slope_penalty=False)
    out = slope_factor(np.array([[0.0, 0.8], [np.nan, -1.0]]), p)
    np.testing.assert_array_equal(out, np.ones((2, 2)))
    assert slope_factor(np.zeros(0), NetworkParams()).shape == (0,)


def test_deep_merge_merges_mappings_key_by_key_and_copies() -> None:
    base: dict[str, Any] = {"a": 1, "speed": {"county": {"paved": 40, "gravel": 25}, "path": 5},
                            "l": [1]}
    over = {"speed": {"county": {"gravel": 30}}, "l": [2], "new": {"x": 1}}
    out = deep_merge(base, over)
    assert out == {"a": 1, "speed": {"county": {"paved": 40, "gravel": 30}, "path": 5},
                   "l": [2], "new": {"x": 1}}
    assert base["speed"]["county"]["gravel"] == 25  # not in place
    # a mapping replaces a scalar and a scalar replaces a mapping
    assert deep_merge({"k": 1}, {"k": {"z": 2}}) == {"k": {"z": 2}}
    assert deep_merge({"k": {"z": 2}}, {"k": None}) == {"k": None}
    assert deep_merge({}, {}) == {}


# --------------------------------------------------------------------------- _csr


def test_col_min_max_against_numpy() -> None:
    rng = np.random.default_rng(3)
    for a in (rng.normal(size=(50, 2)), rng.integers(-9, 9, size=(7, 2)),
              np.array([[1.5, -2.0]])):
        np.testing.assert_array_equal(col_min(a), a.min(axis=0))
        np.testing.assert_array_equal(col_max(a), a.max(axis=0))
    with pytest.raises(ValueError):
        col_min(np.zeros((0, 2)))  # like numpy: no minimum of nothing


# --------------------------------------------------------------------------- incremental


def test_arc_weights_against_a_brute_force_lookup() -> None:
    rng = np.random.default_rng(7)
    n = 12
    rows = rng.integers(0, n, 60)
    cols = rng.integers(0, n, 60)
    w = rng.integers(0, 5, 60).astype(float)  # zeros are real arcs; repeats keep the min
    w[:3] = np.inf                             # inf arcs are left out
    csr = csr_from_arrays(rows, cols, w, n)
    best: dict[tuple[int, int], float] = {}
    for a, b, x in zip(rows.tolist(), cols.tolist(), w.tolist(), strict=True):
        if np.isfinite(x):
            best[(a, b)] = min(x, best.get((a, b), np.inf))
    tail, head = np.meshgrid(np.arange(n + 2), np.arange(n + 2), indexing="ij")
    got = arc_weights(csr, tail, head)
    want = [best.get((a, b), np.inf) for a, b in zip(tail.ravel().tolist(),
                                                     head.ravel().tolist(), strict=True)]
    np.testing.assert_array_equal(got, want)  # out-of-range nodes: inf
    assert arc_weights(csr, [], []).shape == (0,)


# --------------------------------------------------------------------------- criticality


def test_tree_edges_hand_network() -> None:
    # seat at x = 0; R1 0-1 km, R2 1-2 km, R4 2-3 km along y = 0; R5 a spur north from 1 km.
    # V1 at 2.4 km (on R4), V2 at 1.4 km (on R2): their paths to the seat use R1, R2 and
    # their own edges; nobody's path uses R5.
    x0, y0 = 400_000.0, 3_100_000.0
    roads = gpd.GeoDataFrame(
        {"road_id": ["R1", "R2", "R4", "R5"], "road_class": ["village"] * 4,
         "surface": ["paved"] * 4},
        geometry=[LineString([(x0 + a, y0 + b) for a, b in pts]) for pts in (
            [(0, 0), (1000, 0)], [(1000, 0), (2000, 0)], [(2000, 0), (3000, 0)],
            [(1000, 0), (1000, 1000)])], crs=CRS)
    graph = build_network(roads)
    vxy = np.array([[x0 + 2400, y0], [x0 + 1400, y0], [x0 + 1000, y0 + 900]])
    model = AccessModel.build(graph, vxy, {"seat": [[x0, y0]], "far": [[x0 + 3000, y0]]})
    names = np.array(["seat", "seat", "unknown"], dtype=object)
    out = tree_edges(model, names)
    assert set(out) == {"seat"}  # 'far' has no village here; 'unknown' is no query
    assert sorted(graph.road_id[out["seat"]].tolist()) == ["R1", "R2", "R4"]
    # only the spur village: its own edge and the way back to the seat
    out = tree_edges(model, np.array(["none", "none", "seat"], dtype=object))
    assert sorted(graph.road_id[out["seat"]].tolist()) == ["R1", "R5"]
