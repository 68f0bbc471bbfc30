"""Services and infrastructure of the demo region.

Placement rules (documented so that each intervention has real candidates):

* services: the county seat, a seat, a health centre (卫生院), a middle school and a
  market (集市) at every township seat; a primary school at about one village in four
  (the most populous first); markets at a few more large villages;
* power: 10 kV lines along the trunk, county and township roads and the hardened
  village roads, except in the most remote quarter of the villages (far from the grid);
  a 110 kV substation at the county seat and 35 kV ones at five township seats;
* fibre along the trunk and county roads only; mobile towers at the township seats and
  at about a third of the villages, the nearest first, so that remote villages are
  beyond range;
* water sources: springs and two reservoirs in valleys (low ground near streams), so
  that karst uplands are far from water.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

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
    terrain: Terrain, settlements: Settlements, townships: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Service points: ``service_id, kind, name, township_id, lon, lat``."""
    recs = []
    sx, sy = _cell_xy(terrain, settlements.seats)
    off = 0.0012
    for i, t in enumerate(townships.itertuples()):
        base = t.name
        x, y = float(sx[i]), float(sy[i])
        if int(settlements.seats[i]) == settlements.county_seat:
            recs.append(("county_seat", "花垣县城", t.township_id, x, y))
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
    for i in range(4):
        recs.append(("market", f"{names[i]}集市", towns[i], xs[i] - off / 2, ys[i]))
    df = pd.DataFrame(recs, columns=["kind", "name", "township_id", "lon", "lat"])
    df.insert(0, "service_id", [f"S{i + 1:03d}" for i in range(len(df))])
    return df


def make_water_sources(
    terrain: Terrain, rng: np.random.Generator, *, n_springs: int = 140
) -> pd.DataFrame:
    """Springs and reservoirs: ``source_id, kind, yield_m3_day, lon, lat``."""
    area = terrain.hydro.area_km2.ravel()
    elev = np.nan_to_num(terrain.grid.array.ravel(), nan=1e4)
    inside = np.flatnonzero(terrain.mask.ravel() & (area >= 0.3) & (area < 20))
    zn = (elev[inside] - elev[inside].min()) / (np.ptp(elev[inside]) + 1e-9)
    p = np.exp(-4.0 * zn)
    springs = rng.choice(inside, size=n_springs, replace=False, p=p / p.sum())
    big = np.flatnonzero(terrain.mask.ravel() & (area >= 20) & (area < 80))
    reservoirs = big[np.argsort(elev[big])[:: max(big.size // 2, 1)][:2]] if big.size else big[:0]
    cells = np.concatenate([springs, reservoirs])
    x, y = _cell_xy(terrain, cells)
    kind = ["spring"] * springs.size + ["reservoir"] * reservoirs.size
    yld = np.concatenate(
        [
            np.round(rng.lognormal(np.log(60), 0.8, springs.size)),
            rng.uniform(3000, 12000, reservoirs.size).round(),
        ]
    )
    return pd.DataFrame(
        {
            "source_id": [f"W{i + 1:03d}" for i in range(cells.size)],
            "kind": kind,
            "yield_m3_day": yld,
            "lon": x,
            "lat": y,
        }
    )


def make_infrastructure(
    terrain: Terrain,
    settlements: Settlements,
    roads: pd.DataFrame,
    road_geoms: list[shapely.LineString],
    access: pd.DataFrame,
    rng: np.random.Generator,
) -> dict[str, tuple[pd.DataFrame, list[shapely.Geometry]]]:
    """Power lines, substations, fibre and towers as (attributes, lon/lat geometries)."""
    geoms = np.array(road_geoms, dtype=object)
    cls = roads["road_class"].to_numpy()
    surf = roads["surface"].to_numpy()
    vt = settlements.villages
    remote_cut = np.nanquantile(access["access_cost_m"].to_numpy(), 0.75)
    remote_pts = shapely.points(
        vt["x"].to_numpy()[access["access_cost_m"].to_numpy() >= remote_cut],
        vt["y"].to_numpy()[access["access_cost_m"].to_numpy() >= remote_cut],
    )
    main = np.isin(cls, ["national", "county", "township"])
    vill = (cls == "village") & (surf == "paved")
    if remote_pts.size:
        near_remote = shapely.STRtree(remote_pts).query(geoms, predicate="dwithin", distance=0.01)
        far = np.zeros(len(geoms), bool)
        far[np.unique(near_remote[0])] = True
        vill &= ~far
    power = shapely.line_merge(shapely.union_all(geoms[main | vill]))
    power_lines = [g for g in getattr(power, "geoms", [power])]
    pl = pd.DataFrame(
        {"line_id": [f"P{i + 1:04d}" for i in range(len(power_lines))], "voltage_kv": 10}
    )

    sx, sy = _cell_xy(terrain, settlements.seats)
    seat_i = int(np.flatnonzero(settlements.seats == settlements.county_seat)[0])
    others = [i for i in range(len(settlements.seats)) if i != seat_i]
    picked = [seat_i, *sorted(rng.choice(others, size=5, replace=False).tolist())]
    sub = pd.DataFrame(
        {
            "substation_id": [f"B{i + 1:02d}" for i in range(len(picked))],
            "voltage_kv": [110] + [35] * (len(picked) - 1),
        }
    )
    sub_geoms = [shapely.Point(sx[i] + 0.002, sy[i] - 0.002) for i in picked]

    fib = shapely.line_merge(shapely.union_all(geoms[np.isin(cls, ["national", "county"])]))
    fibre = [g for g in getattr(fib, "geoms", [fib])]
    fb = pd.DataFrame({"fibre_id": [f"F{i + 1:03d}" for i in range(len(fibre))]})

    order = np.argsort(access["access_cost_m"].to_numpy(), kind="stable")
    tower_v = order[: len(vt) // 3]
    tx = np.concatenate([sx + 0.003, vt["x"].to_numpy()[tower_v] + 0.002])
    ty = np.concatenate([sy + 0.003, vt["y"].to_numpy()[tower_v] + 0.002])
    tw = pd.DataFrame(
        {
            "tower_id": [f"M{i + 1:03d}" for i in range(tx.size)],
            "height_m": rng.choice([25, 30, 35, 40, 45], tx.size),
        }
    )
    return {
        "power_lines": (pl, power_lines),
        "substations": (sub, sub_geoms),
        "fibre": (fb, fibre),
        "towers": (tw, list(shapely.points(tx, ty))),
    }
