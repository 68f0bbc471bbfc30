"""Services and infrastructure of the demo region.

Placement rules (documented so that each intervention has real candidates):

* services: the county seat, a seat, a health centre (卫生院), a middle school and a
  market (集市) at every township seat; a primary school at about one village in four
  (the most populous first); markets at a few more large villages;
* power: 10 kV feeders beside the trunk, county and township roads, and branches along
  the roads from them to the villages, each ending at a distribution transformer
  60–200 m short of the village point; lines run 20–50 m to one side of the road centre
  line (poles stand off the carriageway). About 13% of the villages, the remote ends of
  long road spurs, are not yet reached, and hamlets away from the village roads are
  left beyond the grid; a 110 kV substation at the county seat and 35 kV ones at five
  township seats;
* fibre along the trunk and county roads and about half of the township roads, 10–30 m
  off the centre line; mobile towers on high ground near the township seats and about a
  third of the villages, the nearest first, so that remote villages and many hamlets
  are beyond the 3–5 km range of a tower in hills;
* water sources: springs in valleys and at the foot of slopes (karst uplands drain
  underground, so their springs are few and small) and two reservoirs, so that upland
  villages are far from a reliable source.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
import shapely.ops
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from contigmap.synth.settlements import Settlements
from contigmap.synth.terrain import Terrain

__all__ = ["make_infrastructure", "make_services", "make_water_sources"]


def _cell_xy(
    terrain: Terrain, cells: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    tf = terrain.grid.transform
    r, c = np.divmod(np.asarray(cells, dtype=np.int64), terrain.grid.shape[1])
    return tf.c + (c + 0.5) * tf.a, tf.f + (r + 0.5) * tf.e


def make_services(
    terrain: Terrain, settlements: Settlements, townships: pd.DataFrame, rng: np.random.Generator,
    *, county_name: str = "花垣县",
) -> pd.DataFrame:
    """Service points: ``service_id, kind, name, township_id, lon, lat``.

    ``county_name`` names the county seat (``<county_name>城``).
    """
    recs = []
    sx, sy = _cell_xy(terrain, settlements.seats)
    off = 0.0012
    for i, t in enumerate(townships.itertuples()):
        base = t.name
        x, y = float(sx[i]), float(sy[i])
        if int(settlements.seats[i]) == settlements.county_seat:
            recs.append(("county_seat", f"{county_name}城", t.township_id, x, y))
        recs.append(("township_seat", f"{base}人民政府", t.township_id, x + off * 0.3, y))
        recs.append(("health_centre", f"{base}卫生院", t.township_id, x + off, y + off * 0.4))
        recs.append(("school", f"{base}中学", t.township_id, x - off, y + off * 0.6))
        recs.append(("market", f"{base}集市", t.township_id, x + off * 0.2, y - off))
    vt = settlements.villages
    villages = vt[~vt["community"]].sort_values(["pop", "village_id"], ascending=[False, True])
    names = villages["name"].astype(str).tolist()
    towns = villages["township_id"].astype(str).tolist()
    xs = villages["x"].to_numpy(dtype=float)
    ys = villages["y"].to_numpy(dtype=float)
    for i in range(len(villages) // 4):
        recs.append(("school", f"{names[i]}小学", towns[i], xs[i] + off / 2, ys[i] + off / 3))
    for i in range(min(4, len(names))):
        recs.append(("market", f"{names[i]}集市", towns[i], xs[i] - off / 2, ys[i]))
    df = pd.DataFrame(recs, columns=["kind", "name", "township_id", "lon", "lat"])
    df.insert(0, "service_id", [f"S{i + 1:03d}" for i in range(len(df))])
    return df


def make_water_sources(
    terrain: Terrain, rng: np.random.Generator, *, n_springs: int = 140
) -> pd.DataFrame:
    """Springs and reservoirs: ``source_id, kind, yield_m3_day, lon, lat``.

    Springs are drawn on small streams (0.3–20 km² upstream) with a probability falling
    steeply with elevation (``exp(-7 z)``, ``z`` the elevation scaled 0–1 in the county),
    and upland springs yield less (karst water sinks into the rock and emerges in the
    valleys; Ford & Williams 2007, *Karst Hydrogeology and Geomorphology*, ch. 6).
    """
    area = terrain.hydro.area_km2.ravel()
    elev = np.nan_to_num(terrain.grid.array.ravel(), nan=1e4)
    inside = np.flatnonzero(terrain.mask.ravel() & (area >= 0.3) & (area < 20))
    zn = (elev[inside] - elev[inside].min()) / (np.ptp(elev[inside]) + 1e-9)
    p = np.exp(-7.0 * zn)
    pick = rng.choice(inside.size, size=n_springs, replace=False, p=p / p.sum())
    springs = inside[pick]
    big = np.flatnonzero(terrain.mask.ravel() & (area >= 20) & (area < 80))
    reservoirs = big[np.argsort(elev[big])[:: max(big.size // 2, 1)][:2]] if big.size else big[:0]
    cells = np.concatenate([springs, reservoirs])
    x, y = _cell_xy(terrain, cells)
    kind = ["spring"] * springs.size + ["reservoir"] * reservoirs.size
    yld = np.concatenate(
        [
            np.round(rng.lognormal(np.log(90), 0.8, springs.size) * np.exp(-2.5 * zn[pick])),
            rng.uniform(3000, 12000, reservoirs.size).round(),
        ]
    )
    return pd.DataFrame(
        {
            "source_id": [f"W{i + 1:03d}" for i in range(cells.size)],
            "kind": kind,
            "yield_m3_day": np.maximum(yld, 1.0),
            "lon": x,
            "lat": y,
        }
    )


MAIN_CLASSES = ("national", "county", "township")
_CLASS_WEIGHT = {"national": 1.0, "county": 1.0, "township": 1.0, "village": 1.0,
                 "track": 1.6, "path": 4.0}  # fmt: skip


def _road_graph(
    lines_ll: NDArray[np.object_], length_m: NDArray[np.float64], weight: NDArray[np.float64]
) -> tuple[csr_matrix, dict[tuple[float, float], int], NDArray[np.int64], NDArray[np.int64]]:
    """Graph over road end vertices; returns matrix, node ids and each line's end nodes."""
    first = shapely.get_coordinates(shapely.get_point(lines_ll, 0))
    last = shapely.get_coordinates(shapely.get_point(lines_ll, -1))
    nodes: dict[tuple[float, float], int] = {}
    u = np.empty(len(lines_ll), dtype=np.int64)
    v = np.empty(len(lines_ll), dtype=np.int64)
    for i in range(len(lines_ll)):
        u[i] = nodes.setdefault((float(first[i, 0]), float(first[i, 1])), len(nodes))
        v[i] = nodes.setdefault((float(last[i, 0]), float(last[i, 1])), len(nodes))
    n = len(nodes)
    w = length_m * weight + 1e-3
    # parallel lines between the same two ends would be summed by tocsr: keep the cheapest
    best: dict[tuple[int, int], float] = {}
    for a, b, c in zip(u.tolist(), v.tolist(), w.tolist(), strict=True):
        k = (a, b) if a < b else (b, a)
        if a != b and (k not in best or c < best[k]):
            best[k] = c
    ka = np.array([k[0] for k in best], dtype=np.int64)
    kb = np.array([k[1] for k in best], dtype=np.int64)
    kw = np.array(list(best.values()), dtype=float)
    mat = coo_matrix(
        (np.concatenate([kw, kw]), (np.concatenate([ka, kb]), np.concatenate([kb, ka]))),
        shape=(n, n),
    ).tocsr()
    return mat, nodes, u, v


def _offset_lines(
    lines_m: list[shapely.LineString],
    rng: np.random.Generator,
    lo_m: float,
    hi_m: float,
) -> list[shapely.LineString]:
    """Merge touching lines and shift each merged line ``lo_m``–``hi_m`` to a random side."""
    if not lines_m:
        return []
    merged = shapely.line_merge(shapely.union_all(np.array(lines_m, dtype=object)))
    out: list[shapely.LineString] = []
    for part in getattr(merged, "geoms", [merged]):
        d = float(rng.uniform(lo_m, hi_m)) * (1.0 if rng.random() < 0.5 else -1.0)
        off = shapely.offset_curve(part, d, quad_segs=2, join_style="round")
        for g in getattr(off, "geoms", [off]):
            if isinstance(g, shapely.LineString) and g.length >= 30.0:
                out.append(shapely.simplify(g, 5.0))
    return out


@dataclass(frozen=True)
class _Lines:
    """The road lines in metres as a graph, with each village's path to the main roads."""

    lines_m: NDArray[Any]
    cls: NDArray[Any]
    main: NDArray[np.bool_]
    u: NDArray[np.int64]
    line_of: dict[tuple[int, int], int]
    vnode: NDArray[np.int64]  # each village's nearest road node
    v_m: NDArray[np.float64]  # villages in metres
    paths: list[list[int]]  # node path from the village's node to the main roads
    vdist: NDArray[np.float64]  # road distance of that path (1e9 when none)


@functools.lru_cache(maxsize=8)
def _transformer(src: str, dst: str) -> Transformer:
    """Return an ``always_xy`` transformer, built once per pair (building one takes ~0.2 s)."""
    return Transformer.from_crs(src, dst, always_xy=True)


def make_infrastructure(
    terrain: Terrain,
    settlements: Settlements,
    roads: pd.DataFrame,
    road_geoms: list[shapely.LineString],
    access: pd.DataFrame,
    rng: np.random.Generator,
    *,
    metric_crs: str = "EPSG:32649",
    unpowered_share: float = 0.13,
) -> dict[str, tuple[pd.DataFrame, list[shapely.Geometry]]]:
    """Power lines, transformers, substations, fibre and towers as (attributes, lon/lat geometries).

    Parameters
    ----------
    terrain, settlements
        The terrain and settlement layout.
    roads, road_geoms
        Road attributes (``road_class``) and lon/lat lines, meeting at shared end vertices.
    access
        Per village ``access_cost_m`` (cost distance to the network before its own road).
    rng
        Random generator.
    metric_crs
        A metric CRS for offsets and lengths.
    unpowered_share
        Share of the villages not yet reached by the grid.
    """
    to_m = _transformer("EPSG:4326", metric_crs)
    to_ll = _transformer(metric_crs, "EPSG:4326")
    net = _village_paths(road_geoms, roads, settlements.villages, to_m)
    vt = settlements.villages
    # the steps draw from ``rng`` in this order: it fixes the layers written
    unpowered = _unpowered(rng, net, vt, unpowered_share)
    power_lines_m = _power_lines(rng, net, unpowered)
    tree = shapely.STRtree(np.array(power_lines_m, dtype=object))
    tr_pts: list[shapely.Point] = []
    tr_vill: list[str] = []
    for i in np.flatnonzero(~unpowered).tolist():  # on the grid line nearest the village
        pt = shapely.Point(net.v_m[i])
        j = int(tree.nearest(pt))
        tr_pts.append(shapely.ops.nearest_points(power_lines_m[j], pt)[0])
        tr_vill.append(str(vt["village_id"].iat[i]))

    def ll(geoms: list[shapely.Geometry]) -> list[shapely.Geometry]:
        arr = np.array(geoms, dtype=object)
        return list(shapely.transform(arr, lambda xy: np.column_stack(to_ll.transform(*xy.T))))

    pl = pd.DataFrame(
        {"line_id": [f"P{i + 1:04d}" for i in range(len(power_lines_m))], "voltage_kv": 10}
    )
    tr = pd.DataFrame(
        {
            "transformer_id": [f"T{i + 1:03d}" for i in range(len(tr_pts))],
            "village_code": tr_vill,
            "kva": rng.choice([100, 200, 315, 400], len(tr_pts)),
        }
    )
    sub, sub_geoms = _substations(rng, terrain, settlements)
    fibre_m = _fibre(rng, net)
    fb = pd.DataFrame({"fibre_id": [f"F{i + 1:03d}" for i in range(len(fibre_m))]})
    tw, tw_geoms = _towers(rng, terrain, settlements, access)
    return {
        "power_lines": (pl, ll(power_lines_m)),
        "transformers": (tr, ll(tr_pts)),
        "substations": (sub, sub_geoms),
        "fibre": (fb, ll(fibre_m)),
        "towers": (tw, tw_geoms),
    }


def _village_paths(road_geoms: list[shapely.LineString], roads: pd.DataFrame,
                   vt: pd.DataFrame, to_m: Transformer) -> _Lines:
    """Return the roads as a graph and each village's road path to the main roads."""
    lines_ll = np.array(road_geoms, dtype=object)
    lines_m = shapely.transform(lines_ll, lambda xy: np.column_stack(to_m.transform(*xy.T)))
    length_m = shapely.length(lines_m)
    cls = roads["road_class"].to_numpy().astype(str)
    weight = np.array([_CLASS_WEIGHT.get(c, 2.0) for c in cls])
    graph, nodes, u, v = _road_graph(lines_ll, length_m, weight)
    node_xy = np.array(list(nodes.keys()))
    line_of: dict[tuple[int, int], int] = {}
    for i in np.argsort(length_m * weight, kind="stable")[::-1].tolist():
        line_of[(int(u[i]), int(v[i]))] = line_of[(int(v[i]), int(u[i]))] = i
    main = np.isin(cls, MAIN_CLASSES)
    main_nodes = np.unique(np.concatenate([u[main], v[main]]))
    dist, pred, _ = dijkstra(
        graph, directed=False, indices=main_nodes, min_only=True, return_predecessors=True
    )
    # villages: the nearest road node, its road distance from the main roads and its path
    vx, vy = vt["x"].to_numpy(float), vt["y"].to_numpy(float)
    node_m = np.column_stack(to_m.transform(node_xy[:, 0], node_xy[:, 1]))
    v_m = np.column_stack(to_m.transform(vx, vy))
    _, vnode = cKDTree(node_m).query(v_m)
    paths: list[list[int]] = []
    for nd in vnode.tolist():
        path = [nd]
        while pred[path[-1]] >= 0:
            path.append(int(pred[path[-1]]))
        paths.append(path if np.isfinite(dist[nd]) else [])
    vdist = np.where(np.isfinite(dist[vnode]), dist[vnode], 1e9)
    return _Lines(lines_m, cls, main, u, line_of, vnode, v_m, paths, vdist)


def _unpowered(rng: np.random.Generator, net: _Lines, vt: pd.DataFrame,
               unpowered_share: float) -> NDArray[np.bool_]:
    """Pick the villages off the grid: at road ends, 2.5 km or more from the main roads."""
    passed = np.zeros(len(vt), dtype=bool)  # another village's path runs through it
    on_path: dict[int, set[int]] = {}
    for i, path in enumerate(net.paths):
        for nd in path[1:]:
            on_path.setdefault(nd, set()).add(i)
    for i, nd in enumerate(net.vnode.tolist()):
        passed[i] = bool(on_path.get(nd, set()) - {i})
    vdist = net.vdist
    cand = np.flatnonzero(~passed & ~vt["community"].to_numpy() & (vdist >= 2500.0))
    n_off = min(round(unpowered_share * len(vt)), cand.size)
    w_off = vdist[cand] ** 2 / (vdist[cand] ** 2).sum()
    unpowered = np.zeros(len(vt), dtype=bool)
    if n_off:
        unpowered[rng.choice(cand, size=n_off, replace=False, p=w_off)] = True
    return unpowered


def _power_lines(rng: np.random.Generator, net: _Lines,
                 unpowered: NDArray[np.bool_]) -> list[shapely.LineString]:
    """Power: main roads plus each powered village's road path, cut short at its transformer."""
    paths, line_of, lines_m, main = net.paths, net.line_of, net.lines_m, net.main
    used: set[int] = set(np.flatnonzero(main).tolist())
    ends: dict[int, int] = {}  # line index -> village row whose path starts on it
    for i, path in enumerate(paths):
        if unpowered[i] or len(path) < 2:
            continue
        segs = [line_of[(a, b)] for a, b in itertools.pairwise(path)]
        used.update(segs)
        ends.setdefault(segs[0], i)
    through = {line_of[(a, b)] for i, p in enumerate(paths) if not unpowered[i]
               for a, b in itertools.pairwise(p[1:])}  # fmt: skip
    power_m: list[shapely.LineString] = []
    cut_m = rng.uniform(60.0, 200.0, len(paths))
    for li in sorted(used):
        g = lines_m[li]
        vi = ends.get(li)
        if vi is None or li in through or main[li]:
            power_m.append(g)
            continue
        start_at_village = int(net.u[li]) == int(net.vnode[vi])
        cut = min(float(cut_m[vi]), 0.8 * g.length)
        piece = (
            shapely.ops.substring(g, cut, g.length)
            if start_at_village
            else shapely.ops.substring(g, 0.0, g.length - cut)
        )
        power_m.append(piece)
    return _offset_lines(power_m, rng, 20.0, 50.0)


def _substations(rng: np.random.Generator, terrain: Terrain, settlements: Settlements,
                 ) -> tuple[pd.DataFrame, list[shapely.Geometry]]:
    """Substations: 110 kV at the county seat, 35 kV at five other township seats (or all)."""
    sx, sy = _cell_xy(terrain, settlements.seats)
    seat_i = int(np.flatnonzero(settlements.seats == settlements.county_seat)[0])
    others = [i for i in range(len(settlements.seats)) if i != seat_i]
    picked = [seat_i, *sorted(rng.choice(others, size=min(5, len(others)), replace=False).tolist())]
    sub = pd.DataFrame(
        {
            "substation_id": [f"B{i + 1:02d}" for i in range(len(picked))],
            "voltage_kv": [110] + [35] * (len(picked) - 1),
        }
    )
    return sub, [shapely.Point(sx[i] + 0.002, sy[i] - 0.002) for i in picked]


def _fibre(rng: np.random.Generator, net: _Lines) -> list[shapely.LineString]:
    """Fibre: trunk and county roads and about half of the township roads (metres)."""
    cls, lines_m = net.cls, net.lines_m
    township = np.flatnonzero(cls == "township")
    fib_idx = np.flatnonzero(np.isin(cls, ["national", "county"])).tolist()
    if township.size:
        tm = shapely.line_merge(shapely.union_all(lines_m[township]))
        tparts = list(getattr(tm, "geoms", [tm]))
        keep = rng.random(len(tparts)) < 0.5
        return _offset_lines(
            [lines_m[i] for i in fib_idx] + [g for g, k in zip(tparts, keep, strict=True) if k],
            rng,
            10.0,
            30.0,
        )
    return _offset_lines([lines_m[i] for i in fib_idx], rng, 10.0, 30.0)


def _towers(rng: np.random.Generator, terrain: Terrain, settlements: Settlements,
            access: pd.DataFrame) -> tuple[pd.DataFrame, list[shapely.Geometry]]:
    """Towers on the highest ground within ~1 km of the seats and the nearest third of villages."""
    vt = settlements.villages
    order = np.argsort(access["access_cost_m"].to_numpy(), kind="stable")
    tower_v = order[: len(vt) // 3]
    cells = np.concatenate([settlements.seats, vt["cell"].to_numpy()[tower_v]]).astype(np.int64)
    tcells = _high_ground(terrain, cells, radius_m=1000.0)
    tx, ty = _cell_xy(terrain, tcells)
    tw = pd.DataFrame(
        {
            "tower_id": [f"M{i + 1:03d}" for i in range(tx.size)],
            "height_m": rng.choice([25, 30, 35, 40, 45], tx.size),
        }
    )
    return tw, list(shapely.points(tx, ty))


def _high_ground(
    terrain: Terrain, cells: NDArray[np.int64], *, radius_m: float
) -> NDArray[np.int64]:
    """Find the highest county cell within ``radius_m`` of each cell."""
    rows, cols = terrain.grid.shape
    elev = np.where(terrain.mask, np.nan_to_num(terrain.grid.array, nan=-1e9), -1e9)
    rr = int(np.ceil(radius_m / terrain.cell_dy_m))
    rc = int(np.ceil(radius_m / terrain.cell_dx_m))
    out = np.empty(cells.size, dtype=np.int64)
    for k, cell in enumerate(cells.tolist()):
        r, c = divmod(cell, cols)
        r0, r1 = max(r - rr, 0), min(r + rr + 1, rows)
        c0, c1 = max(c - rc, 0), min(c + rc + 1, cols)
        yy, xx = np.mgrid[r0:r1, c0:c1]
        win = np.where(
            np.hypot((yy - r) * terrain.cell_dy_m, (xx - c) * terrain.cell_dx_m) <= radius_m,
            elev[r0:r1, c0:c1],
            -1e9,
        )
        j = int(np.argmax(win))
        out[k] = (r0 + j // win.shape[1]) * cols + c0 + j % win.shape[1]
    return out
