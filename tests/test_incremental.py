"""Exact incremental shortest paths vs a full scipy recompute on random graphs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from contigmap.network.build import csr_from_arrays
from contigmap.network.incremental import (
    ArcChanges,
    patch_csr,
    shortest_paths,
    update_distances,
)
from tests.helpers import hand_network, random_upgrade, synthetic_model


def _random_graph(rng: np.random.Generator, integer: bool) -> tuple[int, Any]:
    n = int(rng.integers(3, 50))
    m = int(rng.integers(n, 4 * n))
    r, c = rng.integers(0, n, m), rng.integers(0, n, m)
    w = rng.random(m) * 10
    if integer:  # ties and zero-weight arcs
        w = np.round(w)
    return n, csr_from_arrays(r, c, w, n)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), factor=st.floats(0.0, 1.0), k=st.integers(1, 8))
def test_upgrade_never_lengthens(seed: int, factor: float, k: int) -> None:
    rng = np.random.default_rng(seed)
    _, csr = _random_graph(rng, integer=bool(seed % 2))
    sp = shortest_paths(csr, 0)
    coo = csr.tocoo()
    j = rng.integers(0, coo.nnz, k)
    ch = ArcChanges.of(coo.row[j], coo.col[j], coo.data[j] * factor)
    new = update_distances(sp, ch).dist()
    assert np.all(new <= sp.dist)
    ref = dijkstra(patch_csr(csr, ch), directed=True, indices=0)
    assert np.array_equal(new, ref)


@pytest.mark.slow
def test_random_changes_equal_full_recompute() -> None:
    rng = np.random.default_rng(7)
    for trial in range(300):
        n, csr = _random_graph(rng, integer=trial % 3 == 0)
        sp = shortest_paths(csr, 0)
        k = int(rng.integers(1, 6))
        n_new = int(rng.integers(0, 3))
        t = rng.integers(0, n + n_new, k)
        h = rng.integers(0, n + n_new, k)
        w = rng.random(k) * 10
        kind = trial % 3  # 0: upgrades / new links, 1: closures, 2: mixed
        if kind == 1:
            w[:] = np.inf
        elif kind == 2:
            w[rng.random(k) < 0.5] = np.inf
        coo = csr.tocoo()
        j = rng.integers(0, coo.nnz, k)
        on = rng.random(k) < 0.7
        t[on], h[on] = coo.row[j[on]], coo.col[j[on]]
        if kind == 0:
            w[on] = np.minimum(w[on], coo.data[j[on]])
        ch = ArcChanges.of(t, h, w, n_new)
        got = update_distances(sp, ch, full_fraction=0.5 if trial % 2 else 1.0).dist()
        ref = dijkstra(patch_csr(csr, ch), directed=True, indices=0)
        assert np.array_equal(got, ref), trial


def test_closure_touches_only_subtree() -> None:
    # a path 0-1-2-3 plus a slow bypass 1-3: closing 2->3 changes node 3 only
    r = np.array([0, 1, 2, 1])
    c = np.array([1, 2, 3, 3])
    w = np.array([1.0, 1.0, 1.0, 5.0])
    csr = csr_from_arrays(r, c, w, 4)
    sp = shortest_paths(csr, 0)
    up = update_distances(sp, ArcChanges.of([2], [3], [np.inf]))
    assert up.nodes.tolist() == [3]
    assert up.values.tolist() == [6.0]
    assert not up.full


# --------------------------------------------------------------------------- exact skips


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")
def test_skipped_queries_really_change_nothing() -> None:
    # every (upgrade, query) the bound rules out is recomputed in full: the selected
    # villages' times must be the baseline's, bit for bit; and evaluate() (which skips)
    # must equal the full recompute on every query, skipped or not
    graph, model, sel, rng = synthetic_model(3)
    skipped = kept = 0
    for trial in range(120):
        if trial == 60:  # the bound must follow a committed project
            model.commit(random_upgrade(graph, rng))
        ch = random_upgrade(graph, rng)
        full = model.evaluate_full(ch, villages=sel)
        fast = model.evaluate(ch, villages=sel)
        for q, idx in sel.items():
            assert np.array_equal(fast[q], full[q]), (trial, q)
            if model.affects(ch, q, idx):
                kept += 1
            else:
                skipped += 1
                assert np.array_equal(full[q], model.times(q)[idx]), (trial, q)
    assert skipped > 50 and kept > 50  # both paths exercised
    # all villages at once (no selection): same answers as the full recompute
    for _ in range(20):
        ch = random_upgrade(graph, rng)
        full = model.evaluate_full(ch)
        fast = model.evaluate(ch)
        assert all(np.array_equal(fast[q], full[q]) for q in full)


@pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")
def test_skip_hand_checked() -> None:
    # seat at x = 0; R1 0-1 km, R2 1-2 km, R3 a 3 km loop from 1 to 2 km, R4 2-3 km;
    # V2 at 1.4 km (on R2), V1 at 2.4 km (on R4); R4 is an earth road.
    # Paving R4 cannot help V2: its route runs west over R2 and R1, and the only way
    # through R4 leads away and back (slack, by hand, 8.8 + 2.4 - 1.92 > 0 minutes).
    from contigmap.network import build_network
    from contigmap.network.criticality import own_seat_model
    from contigmap.network.edgetimes import EdgeChange
    from contigmap.schema import SURFACES

    roads, villages, services = hand_network()
    roads.loc[roads["road_id"] == "R4", "surface"] = "earth"
    graph = build_network(roads)
    model, names = own_seat_model(graph, villages, services)
    q = str(names[0])
    r4 = np.flatnonzero(np.asarray(graph.road_id) == "R4")
    pave = EdgeChange.upgrade(r4, surface=SURFACES.index("paved"))
    assert not model.affects(pave, q, [1])  # V2: proved unchanged
    assert model.affects(pave, q, [0])  # V1 sits on R4
    full = model.evaluate_full(pave, names=[q])[q]
    base = model.times(q)
    assert full[1] == base[1]
    # V1 saves 0.4 km of earth road at 4 - 2.4 min/km
    assert base[0] - full[0] == pytest.approx(0.4 * 1.6, rel=1e-9)
    got = model.evaluate(pave, names=[q], villages={q: np.array([1, 0])})[q]
    assert np.array_equal(got, full[[1, 0]])


# --------------------------------------------------------------------------- access model


def _sloped_dem() -> Any:
    """A DEM rising 40 m per km eastwards over the hand network (grades matter)."""
    from affine import Affine
    from pyproj import CRS

    from contigmap.raster import Raster
    from tests.helpers import CRS as CRS_M

    x0, y0, cell = 400_000.0 - 500.0, 3_100_000.0 + 1_500.0, 50.0
    cols = np.arange(100)
    z = np.tile(100.0 + 0.04 * (cols * cell + cell / 2 - 500.0), (60, 1))
    return Raster(z, Affine(cell, 0.0, x0, 0.0, -cell, y0), CRS.from_user_input(CRS_M))


@pytest.mark.slow
@pytest.mark.parametrize("season", ["dry", "rainy"])
@pytest.mark.parametrize("change", ["pave", "county", "close"])
@pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")
def test_access_model_agrees_with_access_measures(season: str, change: str) -> None:
    # The AccessModel re-times a changed road itself; access_measures on a graph rebuilt
    # from the changed road layer is the independent reference. They must agree, for
    # the baseline and after the change, on sloped ground and in both seasons.
    from contigmap.network import access_measures, build_network
    from contigmap.network.criticality import own_seat_model
    from contigmap.network.edgetimes import EdgeChange
    from contigmap.schema import ROAD_CLASSES, SURFACES

    roads, villages, services = hand_network()
    roads.loc[roads["road_id"] == "R4", "surface"] = "earth"
    roads.loc[roads["road_id"] == "R2", "surface"] = "gravel"
    dem = _sloped_dem()
    graph = build_network(roads, dem=dem)
    model, names = own_seat_model(graph, villages, services, season=season)  # type: ignore[arg-type]
    q = str(names[0])
    col = "tt_own_township_seat_min"
    base = access_measures(graph, villages, services, season=season)  # type: ignore[arg-type]
    np.testing.assert_allclose(model.times(q), base[col].to_numpy(float), rtol=1e-9)

    changed = roads.copy()
    if change == "close":  # R3, the loop: V1 and V2 keep the direct road
        edges = np.flatnonzero(np.asarray(graph.road_id) == "R3")
        ec = EdgeChange.close(edges)
        changed = changed[changed["road_id"] != "R3"]
    else:  # R2 and R4 paved (and rebuilt as county roads)
        edges = np.flatnonzero(np.isin(np.asarray(graph.road_id), ["R2", "R4"]))
        sel = changed["road_id"].isin(["R2", "R4"])
        changed.loc[sel, "surface"] = "paved"
        klass = -1
        if change == "county":
            changed.loc[sel, "road_class"] = "county"
            klass = ROAD_CLASSES.index("county")
        ec = EdgeChange.upgrade(edges, road_class=klass, surface=SURFACES.index("paved"))
    ref = access_measures(build_network(changed, dem=dem), villages, services,
                          season=season)[col].to_numpy(float)  # type: ignore[arg-type]
    got = model.evaluate(ec, names=[q])[q]
    np.testing.assert_allclose(got, ref, rtol=1e-9)
    np.testing.assert_array_equal(got, model.evaluate_full(ec, names=[q])[q])
    if change != "close":  # the upgrade really saved time (the test can fail)
        assert np.all(got < model.times(q))
