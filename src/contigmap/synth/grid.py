"""The routing graph on the analysis grid, shared by settlement and road placement.

Each cell is a node joined to its eight neighbours; an edge costs its length times a
slope penalty ``1 + (grade / 0.08)^2`` (a quadratic penalty on grade, as in least-cost
road location models; e.g. Stückelberger et al. 2007, *Environment and Planning B*),
plus a penalty for entering a river cell, so that least-cost paths keep to valley floors
beside rivers and cross them briefly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix

from contigmap.synth.terrain import Terrain

__all__ = ["CostGraph", "cost_graph", "path_to_root"]

_HALF = ((0, 1), (1, -1), (1, 0), (1, 1))


@dataclass(frozen=True)
class CostGraph:
    """A sparse, symmetric cost graph over the valid cells of the analysis grid.

    Attributes
    ----------
    matrix
        ``n × n`` CSR matrix of edge costs (metres of equivalent flat road).
    valid
        Flat mask of cells that are nodes (inside the county).
    shape
        Grid (rows, cols).
    """

    matrix: csr_matrix
    valid: NDArray[np.bool_]
    shape: tuple[int, int]


def cost_graph(
    terrain: Terrain,
    *,
    river_km2: float = 5.0,
    river_penalty_m: float = 400.0,
    allowed: NDArray[np.bool_] | None = None,
) -> CostGraph:
    """Build the 8-neighbour cost graph of ``terrain``'s analysis grid.

    Parameters
    ----------
    terrain
        The terrain.
    river_km2
        Cells with at least this upstream area are river channels.
    river_penalty_m
        Extra cost for entering a river cell (a bridge or ford).
    allowed
        Optional 2-D mask restricting the nodes (default: inside the county).
    """
    elev = terrain.grid.array
    rows, cols = elev.shape
    valid2 = terrain.mask if allowed is None else (allowed & terrain.mask)
    valid = valid2.ravel()
    river = (terrain.hydro.area_km2 >= river_km2).ravel()
    z = np.nan_to_num(elev.ravel(), nan=0.0)
    idx = np.arange(rows * cols).reshape(rows, cols)
    us, vs, ws = [], [], []
    for dr, dc in _HALF:
        r0, r1 = max(0, -dr), rows - max(0, dr)
        c0, c1 = max(0, -dc), cols - max(0, dc)
        a = idx[r0:r1, c0:c1].ravel()
        b = idx[r0 + dr : r1 + dr, c0 + dc : c1 + dc].ravel()
        keep = valid[a] & valid[b]
        a, b = a[keep], b[keep]
        length = float(np.hypot(dr * terrain.cell_dy_m, dc * terrain.cell_dx_m))
        grade = np.abs(z[a] - z[b]) / length
        w = length * (1.0 + (grade / 0.08) ** 2)
        w = w + river_penalty_m * (river[a] | river[b])
        us.append(a)
        vs.append(b)
        ws.append(w)
    u = np.concatenate(us)
    v = np.concatenate(vs)
    w = np.concatenate(ws)
    n = rows * cols
    mat = coo_matrix(
        (np.concatenate([w, w]), (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(n, n)
    ).tocsr()
    return CostGraph(mat, valid, (rows, cols))


def path_to_root(pred: NDArray[np.int32], node: int) -> list[int]:
    """Follow a scipy predecessor array from ``node`` back to its source (inclusive)."""
    path = [node]
    while True:
        p = int(pred[path[-1]])
        if p < 0:
            return path
        path.append(p)
