"""Maximal covering siting: HiGHS milp and greedy against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from contigmap.errors import ConfigError
from contigmap.priority.siting import greedy_cover, max_cover


def _brute(a: np.ndarray, w: np.ndarray, k: int, done: np.ndarray) -> float:
    best = 0.0
    for comb in itertools.combinations(range(a.shape[1]), k):
        best = max(best, float(w[a[:, list(comb)].any(axis=1) & ~done].sum()))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_milp_is_optimal_and_greedy_within_its_bound(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.random((30, 9)) < 0.2
    w = rng.integers(0, 60, 30).astype(float)
    done = rng.random(30) < 0.2
    k = int(rng.integers(1, 4))
    best = _brute(a, w, k, done)
    exact = max_cover(csr_matrix(a), w, k, covered=done)
    assert exact.method == "milp" and exact.bound == 1.0
    assert exact.objective == pytest.approx(best)
    assert exact.sites.size <= k
    greedy = greedy_cover(csr_matrix(a), w, k, covered=done)
    assert greedy.bound == pytest.approx(1 - (1 - 1 / k) ** k)
    assert best * greedy.bound - 1e-9 <= greedy.objective <= best + 1e-9


def test_greedy_beyond_the_exact_size() -> None:
    rng = np.random.default_rng(3)
    a = rng.random((30, 9)) < 0.2
    w = rng.integers(1, 60, 30).astype(float)
    res = max_cover(csr_matrix(a), w, 2, exact_max_cells=10)
    assert res.method == "greedy" and res.bound == pytest.approx(0.75)
    assert res.objective >= 0.75 * _brute(a, w, 2, np.zeros(30, bool)) - 1e-9


def test_siting_config_errors() -> None:
    a = csr_matrix(np.eye(3, dtype=bool))
    with pytest.raises(ConfigError, match="K = -1"):
        max_cover(a, np.ones(3), -1)
    with pytest.raises(ConfigError, match="one weight per row"):
        max_cover(a, np.ones(2), 1)
    with pytest.raises(ConfigError, match=">= 0"):
        greedy_cover(a, np.array([1.0, -1.0, 1.0]), 1)


def test_no_candidates_under_budgets_chooses_nothing() -> None:
    """A region with no candidate (a tiny county without bus-worthy lines) is not an error."""
    a = csr_matrix(np.zeros((4, 0), dtype=bool))
    res = max_cover(a, np.ones(4), 3, costs=np.zeros((0, 2)), budgets=[100.0, 5.0])
    assert res.sites.size == 0 and res.objective == 0.0
