"""Exact incremental shortest paths vs a full scipy recompute on random graphs."""

from __future__ import annotations

import numpy as np
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


def _random_graph(rng: np.random.Generator, integer: bool):
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
