"""Facility access: bounded many-to-many times and E2SFCA against independent references."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import dijkstra

from contigmap.errors import ConfigError
from contigmap.network.facilities import (
    TravelTimes,
    bounded_times,
    decay_weights,
    e2sfca,
    facility_kinds,
)


@pytest.fixture(scope="module")
def attached():  # type: ignore[no-untyped-def]
    from contigmap.network import attach_points, build_network
    from contigmap.synth.scale import make_scale_roads

    roads, villages = make_scale_roads(1500, seed=3)
    g = build_network(roads)
    vxy = np.column_stack([villages.geometry.x, villages.geometry.y])
    rng = np.random.default_rng(1)
    fxy = vxy[rng.choice(len(vxy), 12, replace=False)] + 50.0
    return attach_points(g, np.vstack([vxy, fxy])), len(vxy), len(fxy)


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "prune", "cutoff"), [
    ("vehicle", True, 25.0), ("vehicle", True, 4.0), ("walk", True, 25.0),
    ("vehicle", False, 25.0)])
def test_bounded_times_match_full_graph_dijkstra(attached, mode, prune, cutoff) -> None:  # type: ignore[no-untyped-def]
    att, nv, nf = attached
    fac = nv + np.arange(nf)
    tt = bounded_times(att, np.arange(nv), fac, cutoff, mode=mode, batch=5, prune=prune)
    full = dijkstra(att.matrix(mode, transpose=True), indices=att.point_nodes(fac))
    sub = full[:, att.point_nodes(np.arange(nv))]
    expect = np.where(sub <= cutoff, sub, np.inf)
    got = np.full((nf, nv), np.inf)
    got[tt.facility, tt.origin] = tt.minutes
    assert np.array_equal(np.isfinite(got), np.isfinite(expect))
    np.testing.assert_allclose(got[np.isfinite(got)], expect[np.isfinite(expect)], rtol=1e-9)
    assert tt.minutes.size == np.isfinite(expect).sum() < nf * nv  # sparse: only within reach


@pytest.mark.slow
def test_bounded_times_match_networkx(attached) -> None:  # type: ignore[no-untyped-def]
    att, nv, _ = attached
    m = att.matrix("vehicle", transpose=True).tocoo()
    graph = nx.DiGraph()
    for a, b, w in zip(m.row, m.col, m.data, strict=True):
        if not graph.has_edge(a, b) or graph[a][b]["weight"] > w:
            graph.add_edge(int(a), int(b), weight=float(w))
    tt = bounded_times(att, np.arange(nv), nv + np.arange(2), 30.0)
    for j in range(2):
        ref = nx.single_source_dijkstra_path_length(
            graph, int(att.point_nodes([nv + j])[0]), cutoff=30.0)
        mine = {int(o): t for o, f, t in zip(tt.origin, tt.facility, tt.minutes, strict=True)
                if f == j}
        nodes = att.point_nodes(np.arange(nv))
        want = {i: ref[int(n)] for i, n in enumerate(nodes) if int(n) in ref}
        assert mine.keys() == want.keys()
        for i, t in want.items():
            assert mine[i] == pytest.approx(t, rel=1e-9)


def _hand_e2sfca(t: np.ndarray, pop: np.ndarray, cap: np.ndarray, w) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Luo and Qi's two steps, written out with loops (t: facilities × villages)."""
    ratio = []
    for j in range(t.shape[0]):
        denom = sum(pop[k] * w(t[j, k]) for k in range(t.shape[1]) if np.isfinite(t[j, k]))
        ratio.append(cap[j] / denom if denom > 0 else 0.0)
    return np.array([sum(ratio[j] * w(t[j, i]) for j in range(t.shape[0])
                         if np.isfinite(t[j, i])) for i in range(t.shape[1])])


def _pairs(t: np.ndarray, cutoff: float) -> TravelTimes:
    j, i = np.nonzero(t <= cutoff)
    return TravelTimes(i.astype(np.int64), j.astype(np.int64), t[j, i], t.shape[1],
                       t.shape[0], cutoff)


def test_e2sfca_matches_hand_computation() -> None:
    rng = np.random.default_rng(5)
    t = rng.uniform(0, 45, (4, 9))
    t[t > 30] = np.inf
    pop, cap = rng.integers(50, 900, 9).astype(float), np.array([1.0, 3.0, 2.0, 5.0])
    got, _ = e2sfca(_pairs(t, 30.0), pop, cap, sigma=12.0)
    want = _hand_e2sfca(t, pop, cap, lambda x: np.exp(-x * x / (2 * 12.0**2)))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    steps = ((10.0, 1.0), (20.0, 0.68), (30.0, 0.22))
    got_s, _ = e2sfca(_pairs(t, 30.0), pop, cap, decay="step", steps=steps)
    want_s = _hand_e2sfca(t, pop, cap,
                          lambda x: 1.0 if x <= 10 else 0.68 if x <= 20 else 0.22)
    np.testing.assert_allclose(got_s, want_s, rtol=1e-12)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning",
                            "ignore:The inplace keyword")
def test_e2sfca_matches_pysal_access() -> None:
    access = pytest.importorskip("access")
    rng = np.random.default_rng(8)
    t = rng.uniform(0, 40, (5, 12))
    pop, cap = rng.integers(100, 2000, 12).astype(float), rng.integers(1, 6, 5).astype(float)
    dem = pd.DataFrame({"geoid": np.arange(12), "pop": pop})
    sup = pd.DataFrame({"geoid": 100 + np.arange(5), "doc": cap})
    cost = pd.DataFrame([(i, 100 + j, t[j, i]) for j in range(5) for i in range(12)],
                        columns=["origin", "dest", "cost"])
    a = access.Access(demand_df=dem, demand_index="geoid", demand_value="pop",
                      supply_df=sup, supply_index="geoid", supply_value="doc",
                      cost_df=cost, cost_origin="origin", cost_dest="dest", cost_name="cost")
    ref = a.enhanced_two_stage_fca(name="e2", max_cost=30,
                                   weight_fn=access.weights.gaussian(10.0))
    got, _ = e2sfca(_pairs(np.where(t <= 30, t, np.inf), 30.0), pop, cap, sigma=10.0)
    np.testing.assert_allclose(got, ref.iloc[:, 0].reindex(np.arange(12)).to_numpy(float),
                               rtol=1e-9)


def test_decay_weights_and_config_errors() -> None:
    t = np.array([0.0, 10.0, 10.5, 25.0, 31.0])
    assert decay_weights(t, decay="step").tolist() == [1.0, 1.0, 0.68, 0.22, 0.0]
    assert decay_weights(np.array([10.0]), sigma=10.0)[0] == pytest.approx(np.exp(-0.5))
    with pytest.raises(ConfigError, match="sigma"):
        decay_weights(t, sigma=0.0)
    with pytest.raises(ConfigError, match="unknown decay"):
        decay_weights(t, decay="linear")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="step weights"):
        decay_weights(t, decay="step", steps=[(10.0, -1.0)])


def test_school_kinds_read_from_names() -> None:
    sv = pd.DataFrame({"kind": ["school", "school", "clinic", "school"],
                       "name": ["龙潭镇中学", "X村小学", "X村卫生室", "Y九年一贯制学校"]})
    assert facility_kinds(sv).tolist() == ["middle_school", "primary_school", "clinic",
                                           "middle_school"]
