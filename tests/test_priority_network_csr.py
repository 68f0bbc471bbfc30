"""The priority stage's graph helpers against plain reference constructions."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from contigmap.network._csr import csr_from_arrays
from contigmap.priority._network import edge_weight_csr
from contigmap.priority.buslines import _edge_between


def _graph(seed: int, n: int, m: int) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    return SimpleNamespace(n_nodes=n, u=rng.integers(0, n, m), v=rng.integers(0, n, m),
                           length_m=rng.integers(0, 4, m).astype(float), cache={})


@pytest.mark.parametrize(("n", "m"), [(1, 0), (6, 9), (200, 500)])
def test_edge_weight_csr_is_the_matrix_of_all_entries(n: int, m: int) -> None:
    """Edges both ways plus the super-source row, built at once: parallel edges keep the
    smallest weight, zeros stay, ``inf`` goes; the cached edge rows change nothing."""
    g = _graph(n + m, n, m)
    other = g.length_m + 0.5
    other[::5] = np.inf
    rng = np.random.default_rng(1)
    for weight in (g.length_m, other, g.length_m):
        for k in (0, 1, 7):
            nodes = rng.integers(0, n, k)
            off = rng.integers(0, 3, k).astype(float)
            off[:1] = np.inf if k > 3 else off[:1]
            want = csr_from_arrays(
                np.concatenate([g.u, g.v, np.full(k, n)]), np.concatenate([g.v, g.u, nodes]),
                np.concatenate([weight, weight, off]), n + 1)
            got = edge_weight_csr(g, weight, sources=(nodes, off))
            for f in ("data", "indices", "indptr"):
                a, b = getattr(got, f), getattr(want, f)
                assert a.dtype == b.dtype and np.array_equal(a, b)
        plain = edge_weight_csr(g, weight)
        want = csr_from_arrays(np.concatenate([g.u, g.v]), np.concatenate([g.v, g.u]),
                               np.concatenate([weight, weight]), n + 1)
        assert (plain != want).nnz == 0 and plain.shape == (n + 1, n + 1)
    assert "csr:length_m" in g.cache


@pytest.mark.parametrize(("n", "m"), [(1, 0), (5, 12), (300, 2000)])
def test_edge_between_keeps_the_shortest_edge_of_each_pair(n: int, m: int) -> None:
    """Each node pair (both ways) maps to its shortest masked edge, ties to the later one."""
    g = _graph(m, n, m)
    mask = np.random.default_rng(2).random(m) < 0.7
    want: dict[tuple[int, int], int] = {}
    for e in np.flatnonzero(mask):
        for key in ((int(g.u[e]), int(g.v[e])), (int(g.v[e]), int(g.u[e]))):
            old = want.get(key)
            if old is None or g.length_m[e] <= g.length_m[old]:
                want[key] = int(e)
    assert _edge_between(g, mask) == want
