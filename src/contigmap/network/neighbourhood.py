"""Bounded Dijkstra on the part of a contracted graph that the bound can reach.

scipy's ``dijkstra(limit=L)`` stops settling nodes beyond ``L`` but still allocates and
fills a distance row over the whole graph per source, so many bounded searches cost
``sources × nodes`` in time. A search bounded by ``L`` cannot leave the disc of radius
``L · v_max`` around its sources (``v_max``: the largest straight-line speed of any edge,
metres per minute of its weight; along any path the straight displacement is at most the
sum of the edges' straight lengths). :class:`NeighbourhoodSearch` therefore runs each
search on the sub-graph of the nodes in the grid cells of that disc's bounding box, which
gives the same distances up to ``L`` (Dijkstra 1959, with the bounded "radius-limited"
query of route planning, Bast et al. 2016, LNCS 9220). Used by the own-seat times
(:mod:`contigmap.network.owntimes`) and the village × facility search
(:mod:`contigmap.network.facilities`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from contigmap.network.contract import Core

__all__ = ["NeighbourhoodSearch"]

#: A neighbourhood larger than this share of the core is searched as the whole core.
_LOCAL_MAX_SHARE = 0.25


class NeighbourhoodSearch:
    """Bounded Dijkstra from a few targets, on the part of the core the limit can reach.

    With ``v_max`` the largest straight-line speed of any core edge (metres per minute of
    its weight), a node farther than ``limit * v_max`` from every source is farther than
    ``limit`` in time, so a search bounded by ``limit`` never settles it, nor passes
    through it. Each search therefore runs on the sub-graph of the core nodes within that
    radius of its sources (the grid cells overlapping their bounding box widened by the
    radius), which gives the very same distances up to
    ``limit`` in time and memory proportional to that neighbourhood, not to the core.
    Without usable coordinates (or a zero-time edge of positive length) it searches the
    whole core.
    """

    def __init__(self, core: Core, xy: NDArray[np.float64] | None) -> None:
        self.core = core
        self.m = core.matrix
        self.grid = False
        self.local = np.full(core.n_core, -1, np.int64)
        self.sub = np.zeros(0, np.int64)
        if xy is None or core.n_core == 0:
            return
        rows = np.repeat(np.arange(core.n_core), np.diff(self.m.indptr))
        w = np.asarray(self.m.data, dtype=float)
        length = np.hypot(*(xy[rows] - xy[self.m.indices]).T)
        if np.any((w <= 0) & (length > 0)) or not np.isfinite(xy).all():
            return
        pos = w > 0
        self.v_max = float((length[pos] / w[pos]).max()) if pos.any() else 0.0
        if self.v_max > 0:
            self.xy = xy
            # a grid of cells (about 64 nodes each), nodes sorted by cell (column-major)
            self.x0 = xy.min(axis=0)
            span = np.maximum(xy.max(axis=0) - self.x0, 1.0)
            self.cell = float(max(np.sqrt(span[0] * span[1] / core.n_core) * 8, 1.0))
            c = ((xy - self.x0) // self.cell).astype(np.int64)
            self.n_cells = c.max(axis=0) + 1
            key = c[:, 0] * self.n_cells[1] + c[:, 1]
            self.by_cell = np.argsort(key, kind="stable")
            self.cell_key = key[self.by_cell]
            self.grid = True

    def search(self, batch: NDArray[np.int64],
               cap: float) -> tuple[NDArray[np.float64], NDArray[np.int64] | None]:
        """Distances from ``batch`` up to ``cap`` (rows), and each core node's column.

        The second value maps core ids to columns (``-1``: not searched, i.e. beyond
        ``cap``); ``None`` when the columns are the core ids themselves. Call
        :meth:`release` with it when done.
        """
        if not self.grid or not np.isfinite(cap):
            return np.atleast_2d(dijkstra(self.m, directed=True, indices=batch, limit=cap)), None
        sub = self._box(batch, cap * self.v_max * (1 + 1e-9) + 1e-6)
        if sub.size > _LOCAL_MAX_SHARE * self.core.n_core:
            return np.atleast_2d(dijkstra(self.m, directed=True, indices=batch, limit=cap)), None
        self.sub = sub
        self.local[sub] = np.arange(sub.size)
        lo, hi = self.m.indptr[sub], self.m.indptr[sub + 1]
        counts = hi - lo
        edge = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        col = self.local[self.m.indices[edge]]
        keep = col >= 0
        row = np.repeat(np.arange(sub.size), counts)[keep]
        indptr = np.zeros(sub.size + 1, np.int64)
        np.cumsum(np.bincount(row, minlength=sub.size), out=indptr[1:])
        m = csr_matrix((self.m.data[edge][keep], col[keep].astype(np.int32), indptr),
                       shape=(sub.size, sub.size))
        d = dijkstra(m, directed=True, indices=self.local[batch], limit=cap)
        return np.atleast_2d(d), self.local

    def _box(self, batch: NDArray[np.int64], radius: float) -> NDArray[np.int64]:
        """Core nodes in the cells of the batch's bounding box widened by ``radius``."""
        pts = self.xy[batch]
        lo = np.clip((pts.min(axis=0) - radius - self.x0) // self.cell, 0, self.n_cells - 1)
        hi = np.clip((pts.max(axis=0) + radius - self.x0) // self.cell, 0, self.n_cells - 1)
        cols = np.arange(int(lo[0]), int(hi[0]) + 1, dtype=np.int64) * self.n_cells[1]
        start = np.searchsorted(self.cell_key, cols + int(lo[1]), "left")
        stop = np.searchsorted(self.cell_key, cols + int(hi[1]), "right")
        counts = stop - start
        pos = np.repeat(start - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        return np.asarray(self.by_cell[pos], dtype=np.int64)

    def release(self, cols: NDArray[np.int64] | None) -> None:
        """Forget the columns of the last local search (O(searched nodes))."""
        if cols is not None:
            self.local[self.sub] = -1
