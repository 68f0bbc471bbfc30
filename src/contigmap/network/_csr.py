"""Sparse-matrix and ordering helpers shared by the network modules.

Below :mod:`contigmap.network.build` and :mod:`contigmap.network.contract`, which both
use them (so neither imports the other for them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

__all__ = ["col_max", "col_min", "csr_from_arrays", "morton_order", "sort_keys"]


def csr_from_arrays(
    rows: NDArray[np.int64], cols: NDArray[np.int64], w: NDArray[np.float64], n: int
) -> csr_matrix:
    """Build a CSR matrix keeping the *smallest* weight of parallel edges and explicit zeros.

    ``inf`` weights are left out. (``scipy.sparse`` would *sum* duplicates, and drops
    zeros in some operations; zero-weight edges are real here: a point on a node.)
    """
    ok = np.isfinite(w)
    if not ok.all():
        rows, cols, w = rows[ok], cols[ok], w[ok]
    # one integer key per (row, col): sort it once, keep each run's smallest weight
    key = rows.astype(np.int64, copy=False) * np.int64(max(n, 1)) + cols
    order, key = sort_keys(key)
    w = w[order]
    if key.size:
        starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
        if starts.size < key.size:
            w = np.minimum.reduceat(w, starts)
            key = key[starts]
    rows, cols = np.divmod(key, np.int64(max(n, 1)))
    indptr = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return csr_matrix((w, cols.astype(np.int32), indptr), shape=(n, n))


def col_min(a: NDArray[Any]) -> NDArray[Any]:
    """Per-column minimum of an ``(n, 2)`` array (column by column: much faster than axis=0)."""
    return np.array([a[:, 0].min(), a[:, 1].min()])


def col_max(a: NDArray[Any]) -> NDArray[Any]:
    """Per-column maximum of an ``(n, 2)`` array."""
    return np.array([a[:, 0].max(), a[:, 1].max()])


def sort_keys(key: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return the stable sort order of non-negative integer keys, and the sorted keys.

    When the keys are far from sorted and leave room, each key is packed with its position
    into one int64 and sorted by value (numpy's vectorised sort, several times faster than
    ``argsort``); nearly sorted keys go to the stable ``argsort`` (timsort / radix merges
    the runs). Ties keep their input order either way.
    """
    m = int(key.size)
    if m == 0:
        return np.zeros(0, np.int64), key.astype(np.int64)
    bits = max(m - 1, 1).bit_length()
    top = int(key.max())
    room = 63 - bits
    descents = int(np.count_nonzero(key[1:] < key[:-1]))
    if descents * 16 > m and int(key.min()) >= 0 and top < 2**room:
        packed = (key.astype(np.int64) << np.int64(bits)) | np.arange(m, dtype=np.int64)
        packed.sort()
        return packed & np.int64((1 << bits) - 1), packed >> np.int64(bits)
    # nearly sorted input (long runs; timsort merges them fast) or keys too wide to pack
    order = np.argsort(key, kind="stable").astype(np.int64)
    return order, key[order].astype(np.int64)


def morton_order(xy: NDArray[np.float64]) -> NDArray[np.int64]:
    """Permutation sorting points along a Morton (Z-order) curve (21 bits per axis)."""
    if xy.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    lo = col_min(xy)
    span = max(float((col_max(xy) - lo).max()), 1e-9)
    q = ((xy - lo) / span * (2**21 - 1)).astype(np.uint64)

    def spread(a: NDArray[np.uint64]) -> NDArray[np.uint64]:
        a = a & np.uint64(0x1FFFFF)
        a = (a | (a << np.uint64(32))) & np.uint64(0x1F00000000FFFF)
        a = (a | (a << np.uint64(16))) & np.uint64(0x1F0000FF0000FF)
        a = (a | (a << np.uint64(8))) & np.uint64(0x100F00F00F00F00F)
        a = (a | (a << np.uint64(4))) & np.uint64(0x10C30C30C30C30C3)
        a = (a | (a << np.uint64(2))) & np.uint64(0x1249249249249249)
        return a

    code = spread(q[:, 0]) | (spread(q[:, 1]) << np.uint64(1))
    return sort_keys(code.astype(np.int64))[0]
