"""A hierarchical rural road network routed over the terrain by least-cost paths.

Roads are routed on the analysis grid's cost graph (:mod:`contigmap.synth.grid`) with
Dijkstra's algorithm (scipy.sparse.csgraph), level by level, each level joining the
network built so far (multi-source Dijkstra from all network cells), so that roads
share their common stretches and meet at junctions:

1. trunk road (national, paved, "G319") across the county through the county seat;
2. county roads (paved) from the county seat to every township seat;
3. township and village roads to every village; a village's road is hardened with a
   probability that falls with its cost distance from the network, so some villages
   lack a hardened road; stretches used by three or more villages become township roads;
4. tracks (gravel or earth) to the larger hamlets, footpaths (earth) to the rest and to
   steep ones, so some hamlets are reachable only on foot;
5. a few short tracks between neighbouring villages, until the density target is met.

Lines are split where three or more meet, where class or surface changes, and at
bridges (where a road enters a river cell of ≥ 5 km² upstream area); crossing
diagonal steps are broken into two orthogonal steps, so that lines meet only at
shared end vertices. Lines are then simplified (Douglas–Peucker); a simplified line
that would cross another is kept unsimplified.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from contigmap.synth.grid import CostGraph, cost_graph, path_to_root
from contigmap.synth.settlements import Settlements
from contigmap.synth.terrain import Terrain

__all__ = ["LEVEL_CLASSES", "make_roads"]

logger = logging.getLogger(__name__)

LEVEL_CLASSES = ("national", "county", "township", "village", "track", "path")
_SURF_RANK = {"paved": 0, "gravel": 1, "earth": 2}
Edge = tuple[int, int]


def _key(a: int, b: int) -> Edge:
    return (a, b) if a < b else (b, a)


class _Net:
    """Edges of the routed network with their best level and surface."""

    def __init__(self) -> None:
        self.level: dict[Edge, int] = {}
        self.surface: dict[Edge, str] = {}
        self.use: dict[Edge, int] = defaultdict(int)
        self.nodes: set[int] = set()

    def add_path(self, path: list[int], level: int, surface: str) -> None:
        for a, b in itertools.pairwise(path):
            k = _key(a, b)
            self.use[k] += 1
            if k not in self.level or level < self.level[k]:
                self.level[k] = level
            old = self.surface.get(k)
            if old is None or _SURF_RANK[surface] < _SURF_RANK[old]:
                self.surface[k] = surface
        self.nodes.update(path)


def _forest(graph: CostGraph, sources: list[int]) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    dist, pred, _ = dijkstra(
        graph.matrix,
        directed=False,
        indices=sorted(set(sources)),
        min_only=True,
        return_predecessors=True,
    )
    return dist, pred


def _border_ends(terrain: Terrain, seat: int) -> list[int]:
    _rows, cols = terrain.grid.shape
    m = terrain.mask
    interior = m.copy()
    interior[1:-1, 1:-1] = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    border = np.flatnonzero((m & ~interior).ravel())
    br, bc = np.divmod(border, cols)
    sr, sc = divmod(seat, cols)
    d1 = np.hypot(br - sr, bc - sc)
    e1 = int(border[np.argmax(d1)])
    r1, c1 = divmod(e1, cols)
    # the second end: far from the first, on the other side of the seat
    v1 = np.array([r1 - sr, c1 - sc], dtype=float)
    vb = np.column_stack([br - sr, bc - sc]).astype(float)
    opposite = -(vb @ v1) / (np.linalg.norm(v1) + 1e-9)
    e2 = int(border[np.argmax(opposite)])
    return [e1, e2]


def _split_crossing_diagonals(net: _Net, cols: int) -> None:
    diag = [k for k in net.level if abs(k[1] - k[0]) in (cols - 1, cols + 1)]
    for k in diag:
        a, b = k
        if b - a != cols + 1:
            continue  # handle each crossing pair once, from its "\" diagonal
        other = _key(a + 1, a + cols)
        if other not in net.level:
            continue
        lv, sf = net.level.pop(k), net.surface.pop(k)
        use = net.use.pop(k, 1)
        mid = a + 1
        for e in (_key(a, mid), _key(mid, b)):
            if e not in net.level or lv < net.level[e]:
                net.level[e] = lv
            if e not in net.surface or _SURF_RANK[sf] < _SURF_RANK[net.surface[e]]:
                net.surface[e] = sf
            net.use[e] += use
        net.nodes.add(mid)


def _chains(net: _Net, bridge_cells: set[int]) -> list[tuple[list[int], int, str, bool]]:
    """Walk the edge set into chains split at junctions and attribute changes."""
    adj: dict[int, list[int]] = defaultdict(list)
    for a, b in net.level:
        adj[a].append(b)
        adj[b].append(a)

    def attrs(a: int, b: int) -> tuple[int, str, bool]:
        k = _key(a, b)
        lv = net.level[k]
        br = lv <= 3 and (a in bridge_cells or b in bridge_cells)
        return lv, net.surface[k], br

    def is_break(n: int) -> bool:
        nb = adj[n]
        return len(nb) != 2 or attrs(n, nb[0]) != attrs(n, nb[1])

    seen: set[Edge] = set()
    out = []
    starts = sorted(n for n in adj if is_break(n))
    for s in starts:
        for nb in sorted(adj[s]):
            if _key(s, nb) in seen:
                continue
            path = [s, nb]
            seen.add(_key(s, nb))
            att = attrs(s, nb)
            while not is_break(path[-1]):
                cur = path[-1]
                nxt = [x for x in adj[cur] if _key(cur, x) not in seen]
                if not nxt:
                    break
                seen.add(_key(cur, nxt[0]))
                path.append(nxt[0])
            out.append((path, *att))
    # closed loops without break nodes
    for k in sorted(net.level):
        if k not in seen:
            a, b = k
            path = [a, b]
            seen.add(k)
            while path[-1] != a:
                cur = path[-1]
                nxt = [x for x in adj[cur] if _key(cur, x) not in seen]
                if not nxt:
                    break
                seen.add(_key(cur, nxt[0]))
                path.append(nxt[0])
            out.append((path, *attrs(a, b)))
    return out


def _clean_simplify(lines: list[shapely.LineString], tol: float) -> list[shapely.LineString]:
    """Douglas–Peucker, keeping any line unsimplified if its simplified form would cross another."""
    orig = np.array(lines, dtype=object)
    simp = shapely.simplify(orig, tol, preserve_topology=True)
    ends = [{tuple(c) for c in shapely.get_coordinates(g)[[0, -1]]} for g in orig]
    for _ in range(6):
        tree = shapely.STRtree(simp)
        left, right = tree.query(simp, predicate="intersects")
        bad: set[int] = set()
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            if i >= j:
                continue
            inter = shapely.intersection(simp[i], simp[j])
            pts = {tuple(c) for c in shapely.get_coordinates(inter)}
            if shapely.get_type_id(inter) not in (0, 4) or not pts <= (ends[i] & ends[j]):
                bad.update((i, j))
        if not bad:
            break
        idx = np.fromiter(bad, dtype=np.int64)
        simp[idx] = orig[idx]
    return list(simp)


def make_roads(
    terrain: Terrain,
    settlements: Settlements,
    rng: np.random.Generator,
    *,
    target_km_per_km2: float = 1.15,
    county_area_km2: float,
    roadside_m: float = 3_000.0,
) -> tuple[pd.DataFrame, list[shapely.LineString], pd.DataFrame]:
    """Route the road network.

    Parameters
    ----------
    terrain, settlements
        The terrain and settlement layout.
    rng
        Random generator.
    target_km_per_km2
        Road density to reach with extra inter-village tracks (if short of it).
    county_area_km2
        County area, for the density target.
    roadside_m
        Hamlets within this cost distance of a road get no track of their own.

    Returns
    -------
    attrs, geoms, village_access
        Road attributes (``road_class, surface, bridge, tunnel, name``), lon/lat line
        geometries, and per village ``village_id, hardened`` (bool: a hardened road
        reaches the village), ``access_cost_m`` (least cost to the network before it).
    """
    graph = cost_graph(terrain)
    seat = int(settlements.county_seat)
    net = _Net()
    _, pred = dijkstra(graph.matrix, directed=False, indices=seat, return_predecessors=True)
    for end in _border_ends(terrain, seat):
        net.add_path(path_to_root(pred, end), 0, "paved")
    for s in settlements.seats.tolist():
        if s != seat:
            net.add_path(path_to_root(pred, s), 1, "paved")
    # the steps draw from ``rng`` in this order: villages, hamlets, extra tracks
    vt = settlements.villages
    hardened, cost = _village_roads(rng, graph, net, vt)
    _hamlet_tracks(rng, graph, net, terrain, settlements.hamlets, roadside_m)
    _extra_tracks(rng, graph, net, terrain, vt, target_km_per_km2 * county_area_km2)
    attrs, lines = _road_table(net, terrain)
    access = pd.DataFrame(
        {"village_id": vt["village_id"], "hardened": hardened, "access_cost_m": cost}
    )
    return attrs, lines, access


def _village_roads(rng: np.random.Generator, graph: CostGraph, net: _Net, vt: pd.DataFrame,
                   ) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Add each village's road, nearest first; shared stretches become township roads.

    Returns whether each village's road is hardened and its cost to the network before.
    """
    dist, pred = _forest(graph, sorted(net.nodes))
    vcells = vt["cell"].to_numpy().astype(np.int64)
    cost = dist[vcells]
    scale = np.nanpercentile(cost[np.isfinite(cost)], 60) + 1.0
    p_paved = np.clip(0.95 * np.exp(-cost / (1.6 * scale)), 0.05, 0.95)
    p_paved[vt["community"].to_numpy()] = 1.0
    draws = rng.random(len(vt))
    hardened = draws < p_paved
    order = np.argsort(cost, kind="stable")
    village_paths: list[tuple[list[int], str]] = []
    for i in order.tolist():
        if not np.isfinite(cost[i]):
            continue
        path = path_to_root(pred, int(vcells[i]))
        surface = "paved" if hardened[i] else ("gravel" if rng.random() < 0.7 else "earth")
        village_paths.append((path, surface))
        net.add_path(path, 3, surface)
    for path, _ in village_paths:
        for a, b in itertools.pairwise(path):
            k = _key(a, b)
            if net.use[k] >= 3 and net.level[k] == 3:
                net.level[k] = 2
    return hardened, cost


def _hamlet_tracks(rng: np.random.Generator, graph: CostGraph, net: _Net, terrain: Terrain,
                   hm: pd.DataFrame, roadside_m: float) -> None:
    """Add a track or footpath to each hamlet farther than ``roadside_m`` from a road."""
    dist, pred = _forest(graph, sorted(net.nodes))
    hcells = hm["cell"].to_numpy().astype(np.int64)
    hcost = dist[hcells]
    slope = terrain.slope_deg.ravel()
    hpop = hm["pop"].to_numpy()
    for i in np.argsort(hcost, kind="stable").tolist():
        c = int(hcells[i])
        if not np.isfinite(hcost[i]) or c in net.nodes or hcost[i] < roadside_m:
            continue  # roadside hamlets need no road of their own
        on_foot = slope[c] > 24 or hpop[i] < 40 or rng.random() < 0.18
        path = path_to_root(pred, c)
        if on_foot:
            net.add_path(path, 5, "earth")
        else:
            net.add_path(path, 4, "gravel" if rng.random() < 0.45 else "earth")


def _extra_tracks(rng: np.random.Generator, graph: CostGraph, net: _Net, terrain: Terrain,
                  vt: pd.DataFrame, target_km: float) -> None:
    """Add tracks between neighbouring villages until the network is ``target_km`` long."""
    cols = terrain.grid.shape[1]
    cell_km = np.sqrt(terrain.cell_dx_m * terrain.cell_dy_m) / 1000.0

    def length_km() -> float:
        total = 0.0
        for a, b in net.level:
            ra, ca = divmod(a, cols)
            rb, cb = divmod(b, cols)
            total += float(np.hypot((ra - rb) * terrain.cell_dy_m, (ca - cb) * terrain.cell_dx_m))
        return total / 1000.0 * 0.93  # simplification shortens cell paths by ~7%

    vcells = vt["cell"].to_numpy().astype(np.int64)
    vx, vy = vt["x"].to_numpy(), vt["y"].to_numpy()
    pairs = []
    for i in range(len(vt)):
        d = np.hypot((vx - vx[i]) * 0.88, vy - vy[i])
        d[i] = np.inf
        for j in np.argsort(d)[:2].tolist():
            pairs.append((min(i, j), max(i, j)))
    pairs = sorted(set(pairs))
    rng.shuffle(pairs)
    current = length_km()
    logger.debug("roads before extra tracks: %.0f km, target %.0f km", current, target_km)
    for i, j in pairs:
        if current >= target_km:
            break
        _, pr = dijkstra(
            graph.matrix,
            directed=False,
            indices=int(vcells[i]),
            return_predecessors=True,
            limit=25_000.0,
        )
        if pr[vcells[j]] < 0:
            continue
        path = path_to_root(pr, int(vcells[j]))
        new = [p for p in itertools.pairwise(path) if _key(*p) not in net.level]
        net.add_path(path, 4, "gravel" if rng.random() < 0.3 else "earth")
        current += len(new) * cell_km * 1.1 * 0.93


def _road_table(net: _Net, terrain: Terrain) -> tuple[pd.DataFrame, list[shapely.LineString]]:
    """Return the network as lon/lat lines with their attributes, names and a tunnel."""
    cols = terrain.grid.shape[1]
    _split_crossing_diagonals(net, cols)
    river = terrain.hydro.area_km2.ravel() >= 5.0
    bridge_cells = set(np.flatnonzero(river).tolist())
    chains = _chains(net, bridge_cells)
    tf = terrain.grid.transform
    lines = []
    recs = []
    for path, lv, sf, br in chains:
        pr, pc = np.divmod(np.asarray(path), cols)
        xy = np.column_stack([tf.c + (pc + 0.5) * tf.a, tf.f + (pr + 0.5) * tf.e])
        lines.append(shapely.LineString(xy))
        recs.append({"road_class": LEVEL_CLASSES[lv], "surface": sf, "bridge": bool(br)})
    lines = _clean_simplify(lines, tol=0.3 * tf.a)
    attrs = pd.DataFrame(recs)
    attrs["tunnel"] = False
    attrs["name"] = ""
    attrs.loc[attrs["road_class"] == "national", "name"] = "G319"
    county_rows = np.flatnonzero((attrs["road_class"] == "county").to_numpy())
    attrs.loc[county_rows, "name"] = "X0" + pd.Series((county_rows % 9) + 1).astype(str).to_numpy()
    # a tunnel or two on the trunk road where it is steepest
    trunk = np.flatnonzero((attrs["road_class"] == "national").to_numpy())
    if trunk.size:
        steep = [float(np.nanmax(terrain.slope_deg.ravel()[chains[t][0]])) for t in trunk]
        attrs.loc[trunk[int(np.argmax(steep))], "tunnel"] = True
    return attrs, lines
