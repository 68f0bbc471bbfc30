"""Township seats, township and village partitions, village points, hamlets and population.

* Township seats sit in valleys: the lowest, gentlest cells near larger rivers, at least
  5 km apart; 花垣镇's seat (the county town) is the best such cell near the real town.
* Townships are a multiplicatively weighted *cost-distance* Voronoi partition of the
  county from the seats (weights grow with the township's number of villages), so that
  boundaries follow ridges; stray pieces are given to the nearest neighbouring township.
* Villages: one point per village inside its township, drawn with probability rising
  on gentle, low and valley ground, with a minimum spacing; communities (社区) cluster
  round the seat; 十八洞村 sits on high, remote ground as the real one does. Village
  polygons are a cost-distance Voronoi partition constrained to the township.
* Hamlets (自然村): 4–15 per village (十八洞村 has 4) on gentle ground inside the village.
* Population sums exactly to the census rural population (largest-remainder rounding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import ndimage
from scipy.sparse.csgraph import dijkstra

from contigmap.synth.grid import cost_graph
from contigmap.synth.terrain import Terrain

__all__ = ["Settlements", "largest_remainder", "make_settlements"]


@dataclass(frozen=True)
class Settlements:
    """Settlement layout on the analysis grid.

    Attributes
    ----------
    seats
        Flat cell index of each township's seat, aligned with ``townships`` rows.
    township_label
        2-D township row index per cell (-1 outside).
    villages
        Input village table plus ``cell`` (flat index), ``x``, ``y`` (lon/lat), ``pop``,
        ``households``.
    village_label
        2-D village row index per cell (-1 outside).
    hamlets
        ``hamlet_id, village_id, name, x, y, cell, pop, households``.
    county_seat
        Flat cell index of the county seat.
    """

    seats: NDArray[np.int64]
    township_label: NDArray[np.int64]
    villages: pd.DataFrame
    village_label: NDArray[np.int64]
    hamlets: pd.DataFrame
    county_seat: int


def largest_remainder(weights: NDArray[np.float64], total: int) -> NDArray[np.int64]:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (Hamilton's method)."""
    w = np.asarray(weights, dtype=float)
    quota = w / w.sum() * total
    base = np.floor(quota).astype(np.int64)
    short = int(total - base.sum())
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:short]] += 1
    return base


def _centres(
    terrain: Terrain, cells: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    tf = terrain.grid.transform
    r, c = np.divmod(np.asarray(cells), terrain.grid.shape[1])
    return tf.c + (c + 0.5) * tf.a, tf.f + (r + 0.5) * tf.e


def _dist_m(terrain: Terrain, a: int, cells: NDArray[np.int64]) -> NDArray[np.float64]:
    cols = terrain.grid.shape[1]
    ra, ca = divmod(int(a), cols)
    r, c = np.divmod(cells, cols)
    return np.asarray(np.hypot((r - ra) * terrain.cell_dy_m, (c - ca) * terrain.cell_dx_m))


def _pick_spaced(
    rng: np.random.Generator,
    cells: NDArray[np.int64],
    prob: NDArray[np.float64],
    n: int,
    min_dist_m: float,
    terrain: Terrain,
    taken: list[int],
) -> list[int]:
    """Draw ``n`` cells with probability ``prob``, keeping ``min_dist_m`` apart (relaxing it)."""
    chosen: list[int] = []
    p = prob / prob.sum()
    dist = min_dist_m
    while len(chosen) < n:
        order = rng.choice(cells.size, size=min(cells.size, 40 * n), replace=True, p=p)
        for i in order:
            cell = int(cells[i])
            others = np.asarray(taken + chosen, dtype=np.int64)
            if others.size == 0 or _dist_m(terrain, cell, others).min() >= dist:
                chosen.append(cell)
                if len(chosen) == n:
                    break
        dist *= 0.7
    return chosen


@dataclass(frozen=True)
class _Ground:
    """Per-cell fields (flat) that the placement steps weigh."""

    mask: NDArray[np.bool_]
    inside: NDArray[np.int64]
    slope: NDArray[np.float64]
    znorm: NDArray[np.float64]  # elevation scaled to 0–1 over the county
    river_dist_m: NDArray[np.float64]  # to a river draining >= 5 km²
    not_channel: NDArray[np.bool_]

    @classmethod
    def of(cls, terrain: Terrain) -> _Ground:
        mask = terrain.mask.ravel()
        elev = np.nan_to_num(terrain.grid.array.ravel(), nan=9999.0)
        inside = np.flatnonzero(mask)
        zmin, zmax = elev[inside].min(), elev[inside].max()
        river = (terrain.hydro.area_km2 >= 5.0) & terrain.mask
        river_dist_m = ndimage.distance_transform_edt(
            ~river, sampling=(terrain.cell_dy_m, terrain.cell_dx_m)
        ).ravel()
        return cls(mask, inside, terrain.slope_deg.ravel(), (elev - zmin) / (zmax - zmin),
                   river_dist_m, terrain.hydro.area_km2.ravel() < 5.0)


def make_settlements(
    terrain: Terrain,
    townships: pd.DataFrame,
    villages: pd.DataFrame,
    *,
    rural_pop: int,
    rng: np.random.Generator,
    county_seat_township: str,
    county_seat_lonlat: tuple[float, float],
    fixed_village: str | None = None,
    fixed_pop: int = 0,
    fixed_households: int = 0,
    fixed_hamlets: int = 4,
    people_per_household: float = 3.4,
) -> Settlements:
    """Place seats, partition the county, place villages and hamlets, share out people.

    Parameters
    ----------
    terrain
        The terrain.
    townships, villages
        Real names and codes (``township_id``; ``village_id, name, township_id, community``).
    rural_pop
        People to share among villages (and their hamlets), exactly.
    rng
        Random generator.
    county_seat_township, county_seat_lonlat
        The township holding the county seat and the real town's approximate location.
    fixed_village, fixed_pop, fixed_households, fixed_hamlets
        A village with known figures (十八洞村: 939 people, 225 households, 4 hamlets).
    people_per_household
        Average household size elsewhere.
    """
    rows, cols = terrain.grid.shape
    g = _Ground.of(terrain)
    tcodes = townships["township_id"].tolist()
    # the steps draw from ``rng`` in this order: seats, villages, population, hamlets
    seats = _place_seats(terrain, g, rng, tcodes, county_seat_township, county_seat_lonlat)
    tlabel = _partition_townships(terrain, g, villages, tcodes, seats)
    vt = _place_villages(terrain, g, rng, villages, tcodes, seats, tlabel, fixed_village)
    vlabel = _partition_villages(terrain, vt, tcodes, tlabel)
    fixed_mask = (vt["village_id"] == fixed_village).to_numpy()
    pop, hh = _share_population(g, rng, vt, vlabel, fixed_mask, rural_pop=rural_pop,
                                fixed_pop=fixed_pop, fixed_households=fixed_households,
                                people_per_household=people_per_household)
    vt["pop"], vt["households"] = pop, hh
    hamlets = _place_hamlets(terrain, g, rng, vt, vlabel, fixed_mask, fixed_hamlets)
    return Settlements(
        seats,
        tlabel.reshape(rows, cols),
        vt,
        vlabel.reshape(rows, cols),
        hamlets,
        int(seats[tcodes.index(county_seat_township)]),
    )


def _place_seats(terrain: Terrain, g: _Ground, rng: np.random.Generator, tcodes: list[str],
                 county_seat_township: str, county_seat_lonlat: tuple[float, float],
                 ) -> NDArray[np.int64]:
    """Return each township's seat cell: low, gentle valley cells at least 6 km apart."""
    slope, inside = g.slope, g.inside
    valley = -2.5 * g.znorm - slope / 12.0 - g.river_dist_m / 800.0
    seat_cand = inside[g.not_channel[inside] & (slope[inside] < 15)]
    seat_of: dict[str, int] = {}
    cx, cy = _centres(terrain, seat_cand)
    near = np.hypot((cx - county_seat_lonlat[0]) * 0.88, cy - county_seat_lonlat[1]) < 0.04
    pool = seat_cand[near] if near.any() else seat_cand
    seat_of[county_seat_township] = int(pool[np.argmax(valley[pool])])
    taken = [seat_of[county_seat_township]]
    others = [t for t in tcodes if t != county_seat_township]
    top = seat_cand[np.argsort(-valley[seat_cand], kind="stable")][: max(seat_cand.size // 6, 50)]
    picks = _pick_spaced(rng, top, np.exp(valley[top] * 2.0), len(others), 6_000.0, terrain, taken)
    for t, cell in zip(others, picks, strict=True):
        seat_of[t] = cell
    return np.array([seat_of[t] for t in tcodes], dtype=np.int64)


def _partition_townships(terrain: Terrain, g: _Ground, villages: pd.DataFrame,
                         tcodes: list[str], seats: NDArray[np.int64]) -> NDArray[np.int64]:
    """Return the township row index per cell (flat): a weighted cost-distance Voronoi."""
    rows, cols = terrain.grid.shape
    graph = cost_graph(terrain)
    n_vill = villages.groupby("township_id").size().reindex(tcodes).fillna(1).to_numpy()
    weight = n_vill.astype(float) ** 0.35
    dist = dijkstra(graph.matrix, directed=False, indices=seats)
    scaled = dist / weight[:, None]
    label = np.argmin(scaled, axis=0).astype(np.int64)
    label[~g.mask | ~np.isfinite(scaled.min(axis=0))] = -1
    label2 = label.reshape(rows, cols)
    # keep each township's piece holding its seat; hand stray pieces to neighbours
    for t in range(len(tcodes)):
        comp, _ = ndimage.label(label2 == t)
        keep = comp.ravel()[seats[t]]
        stray = (comp > 0) & (comp != keep)
        label2[stray] = -2
    holes = label2 == -2
    if holes.any():
        good = label2 >= 0
        _, (ir, ic) = ndimage.distance_transform_edt(~good, return_indices=True)
        label2[holes] = label2[ir[holes], ic[holes]]
    return label2.ravel()


def _place_villages(terrain: Terrain, g: _Ground, rng: np.random.Generator,
                    villages: pd.DataFrame, tcodes: list[str], seats: NDArray[np.int64],
                    tlabel: NDArray[np.int64], fixed_village: str | None) -> pd.DataFrame:
    """Return the village table with ``cell``, ``x`` and ``y``.

    Communities cluster round the seat, the fixed village sits on high remote ground,
    the rest are spread on gentle, low ground near rivers.
    """
    slope, znorm = g.slope, g.znorm
    vt = villages.copy().reset_index(drop=True)
    vt["cell"] = -1
    gentle = np.exp(-slope / 10.0) * np.exp(-1.2 * znorm) * (0.4 + np.exp(-g.river_dist_m / 1500.0))
    for ti, t in enumerate(tcodes):
        rows_t = np.flatnonzero(vt["township_id"].to_numpy() == t)
        cells_t = np.flatnonzero((tlabel == ti) & g.not_channel)
        seat = seats[ti]
        taken_t = [int(seat)]
        comm = [i for i in rows_t if vt.at[i, "community"]]
        rest = [i for i in rows_t if not vt.at[i, "community"]]
        if comm:
            d = _dist_m(terrain, seat, cells_t)
            radius = 800.0 + 220.0 * len(comm)
            near_c = cells_t[(d < radius) & (slope[cells_t] < 20)]
            near_c = near_c if near_c.size >= len(comm) else cells_t[np.argsort(d)][: 4 * len(comm)]
            got = _pick_spaced(rng, near_c, gentle[near_c] + 1e-9, len(comm), 350.0, terrain, [])
            vt.loc[np.asarray(comm), "cell"] = got
            taken_t += got
        if fixed_village is not None and fixed_village in set(vt["village_id"].to_numpy()[rest]):
            i_fix = int(vt.index[vt["village_id"] == fixed_village][0])
            d = _dist_m(terrain, seat, cells_t)
            far_high = cells_t[(znorm[cells_t] > 0.55) & (d > 5_000) & (slope[cells_t] < 20)]
            pool_f = far_high if far_high.size else cells_t
            cell = int(pool_f[np.argmax(znorm[pool_f] - slope[pool_f] / 40.0)])
            vt.at[i_fix, "cell"] = cell
            taken_t.append(cell)
            rest = [i for i in rest if i != i_fix]
        if rest:
            spacing = 0.55 * np.sqrt(
                cells_t.size * terrain.cell_dx_m * terrain.cell_dy_m / len(rest)
            )
            got = _pick_spaced(
                rng, cells_t, gentle[cells_t] + 1e-9, len(rest), spacing, terrain, taken_t
            )
            vt.loc[rest, "cell"] = got
    vx, vy = _centres(terrain, vt["cell"].to_numpy().astype(np.int64))
    vt["x"], vt["y"] = vx, vy
    return vt


def _partition_villages(terrain: Terrain, vt: pd.DataFrame, tcodes: list[str],
                        tlabel: NDArray[np.int64]) -> NDArray[np.int64]:
    """Return the village row index per cell (flat): cost-distance Voronoi per township."""
    rows, cols = terrain.grid.shape
    vcells = vt["cell"].to_numpy().astype(np.int64)
    vx, vy = vt["x"].to_numpy(), vt["y"].to_numpy()
    vlabel = np.full(rows * cols, -1, dtype=np.int64)
    for ti in range(len(tcodes)):
        allowed = (tlabel == ti).reshape(rows, cols)
        sub = cost_graph(terrain, allowed=allowed)
        members = np.flatnonzero(vt["township_id"].to_numpy() == tcodes[ti])
        if members.size == 0:
            continue
        _, _, src = dijkstra(
            sub.matrix,
            directed=False,
            indices=vcells[members],
            min_only=True,
            return_predecessors=True,
        )
        cells_t = np.flatnonzero(allowed.ravel())
        srcs = src[cells_t]
        ok = srcs >= 0
        lookup = {int(c): int(m) for c, m in zip(vcells[members], members, strict=True)}
        vlabel[cells_t[ok]] = [lookup[int(s)] for s in srcs[ok]]
        # cells cut off inside the township go to the nearest village of the township
        lost = cells_t[~ok]
        if lost.size:
            lx, ly = _centres(terrain, lost)
            mx, my = vx[members], vy[members]
            nearest = np.argmin(np.hypot(lx[:, None] - mx[None], ly[:, None] - my[None]), axis=1)
            vlabel[lost] = members[nearest]
    return vlabel


def _share_population(g: _Ground, rng: np.random.Generator, vt: pd.DataFrame,
                      vlabel: NDArray[np.int64], fixed_mask: NDArray[np.bool_], *,
                      rural_pop: int, fixed_pop: int, fixed_households: int,
                      people_per_household: float) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return people and households per village; people sum exactly to ``rural_pop``."""
    n = len(vt)
    vcells = vt["cell"].to_numpy().astype(np.int64)
    size_w = np.bincount(vlabel[vlabel >= 0], minlength=n).astype(float) ** 0.5
    attract = np.exp(-1.0 * g.znorm[vcells]) * rng.lognormal(0.0, 0.35, n)
    wpop = size_w * attract
    wpop[vt["community"].to_numpy()] *= 0.35  # most community residents are urban
    pop = np.zeros(n, dtype=np.int64)
    pop[fixed_mask] = fixed_pop
    pop[~fixed_mask] = largest_remainder(
        wpop[~fixed_mask], rural_pop - int(fixed_pop * fixed_mask.sum())
    )
    size = rng.uniform(people_per_household - 0.3, people_per_household + 0.3, n)
    hh = np.maximum(np.round(pop / size).astype(np.int64), 1)
    hh[fixed_mask] = fixed_households
    return pop, hh


def _place_hamlets(terrain: Terrain, g: _Ground, rng: np.random.Generator, vt: pd.DataFrame,
                   vlabel: NDArray[np.int64], fixed_mask: NDArray[np.bool_],
                   fixed_hamlets: int) -> pd.DataFrame:
    """Return the hamlets: 4–15 per village on gentle ground, the first at the village."""
    vcells = vt["cell"].to_numpy().astype(np.int64)
    pop, hh = vt["pop"].to_numpy(), vt["households"].to_numpy()
    hrows = []
    for i in range(len(vt)):
        cells_v = np.flatnonzero((vlabel == i) & g.not_channel)
        if cells_v.size == 0:
            cells_v = np.array([vcells[i]])
        if fixed_mask[i]:
            k = fixed_hamlets
        else:
            k = int(np.clip(round(3.5 + pop[i] / 260 + rng.normal(0, 1.5)), 4, 15))
        prob = np.exp(-g.slope[cells_v] / 12.0) + 1e-9
        spacing = max(
            150.0, 0.35 * np.sqrt(cells_v.size * terrain.cell_dx_m * terrain.cell_dy_m / k)
        )
        got = [
            int(vcells[i]),
            *_pick_spaced(rng, cells_v, prob, k - 1, spacing, terrain, [int(vcells[i])]),
        ]
        hpop = largest_remainder(rng.dirichlet(np.full(k, 3.0)) + 0.05, int(pop[i]))
        hhh = largest_remainder(hpop.astype(float) + 1e-9, int(hh[i]))
        hx, hy = _centres(terrain, np.asarray(got))
        # jitter inside the cell so that hamlets are not on cell centres
        jx = rng.uniform(-0.35, 0.35, k) * terrain.grid.res[0]
        jy = rng.uniform(-0.35, 0.35, k) * terrain.grid.res[1]
        jx[0] = jy[0] = 0.0  # the first hamlet holds the village committee
        vid, vname = str(vt["village_id"].iat[i]), str(vt["name"].iat[i])
        for j in range(k):
            hrows.append(
                {
                    "hamlet_id": f"{vid}{j + 1:02d}",
                    "village_id": vid,
                    "name": f"{vname}{_ORDINALS[j]}组",
                    "x": hx[j] + jx[j],
                    "y": hy[j] + jy[j],
                    "cell": got[j],
                    "pop": int(hpop[j]),
                    "households": int(hhh[j]),
                }
            )
    return pd.DataFrame(hrows)


_ORDINALS = (
    "一",
    "二",
    "三",
    "四",
    "五",
    "六",
    "七",
    "八",
    "九",
    "十",
    "十一",
    "十二",
    "十三",
    "十四",
    "十五",
)
