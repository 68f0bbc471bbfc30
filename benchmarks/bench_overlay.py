"""Benchmark: the overlay stage's shared work against the old way, in one run.

* terrain: :func:`contigmap.zonal.zonal_stats_shared` of a DEM and its slope (one set of
  coverage increments and min / max windows for both) against two
  :func:`contigmap.zonal.zonal_stats` calls (the old way), over hamlet-like discs;
* shares: the (zone, polygon) pairs of :func:`contigmap.overlay.polygon_shares` from a
  tree of the zones (``_intersecting_pairs``, each polygon prepared once) against
  ``STRtree(polygons).query(zones)`` (each zone prepared), for hamlet-like discs and a
  reserve polygon of 3 000 vertices;
* poverty: the weighted income medians of every village from one sort
  (``contigmap.poverty.registry._weighted_medians``) against the old Python loop over
  the villages (one sort per village, the function kept below as the baseline).

Both ways must give identical numbers (checked). Times are the median of
``--repeats`` runs, printed with the ratio old / new.

Run::

    .venv/bin/python benchmarks/bench_overlay.py
    .venv/bin/python benchmarks/bench_overlay.py --zones 500 --households 20000   # quick
"""

from __future__ import annotations

import argparse

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS

from _timing import timed
from contigmap.overlay.measures import _intersecting_pairs
from contigmap.poverty.registry import _weighted_medians
from contigmap.raster import Raster
from contigmap.terrain import STEEP_SLOPE_DEG, slope_deg
from contigmap.zonal import zonal_stats, zonal_stats_shared


def bench_terrain(n_zones: int, size: int, repeats: int, seed: int) -> None:
    """Shared DEM + slope zonal statistics against two separate calls."""
    rng = np.random.default_rng(seed)
    res, x0, ytop = 30.0, 500_000.0, 3_200_000.0
    coarse = rng.normal(800, 200, (size // 50 + 2, size // 50 + 2))
    z = np.repeat(np.repeat(coarse, 50, axis=0), 50, axis=1)[:size, :size]
    z = z + rng.normal(0, 5, (size, size))
    dem = Raster(z, Affine(res, 0, x0, 0, -res, ytop), CRS.from_epsg(4546), "dem")
    slope = slope_deg(dem)
    ext = size * res
    xy = rng.uniform(0.05 * ext, 0.95 * ext, (n_zones, 2))
    zones = gpd.GeoSeries(shapely.buffer(shapely.points(x0 + xy[:, 0], ytop - xy[:, 1]), 500.0),
                          crs=dem.crs)

    def old() -> list[pd.DataFrame]:
        return [zonal_stats(dem, zones, stats=("mean", "min", "max")),
                zonal_stats(slope, zones, stats=("mean", "max"), threshold=STEEP_SLOPE_DEG)]

    def new() -> list[pd.DataFrame]:
        return zonal_stats_shared([(dem, ("mean", "min", "max"), None),
                                   (slope, ("mean", "max"), STEEP_SLOPE_DEG)], zones)

    t_old, r_old = timed(old, repeats)
    t_new, r_new = timed(new, repeats)
    assert all(a.equals(b) for a, b in zip(r_old, r_new, strict=True))
    print(f"terrain zonal ({n_zones} discs, {size}x{size} DEM): old {t_old:.3f} s, "
          f"shared {t_new:.3f} s, ratio {t_old / t_new:.2f}x (same tables)")


def _discs(n_zones: int, ext: float, seed: int) -> np.ndarray:
    """Hamlet-like 500 m discs over a square of side ``ext`` (metres) from the origin."""
    xy = np.random.default_rng(seed).uniform(0.05 * ext, 0.95 * ext, (n_zones, 2))
    return shapely.buffer(shapely.points(xy), 500.0, quad_segs=16)


def bench_share_pairs(n_zones: int, repeats: int, seed: int) -> None:
    """Zone-polygon pairs from a tree of the zones against a tree of the polygons."""
    ext = 45_000.0
    zones = _discs(n_zones, ext, seed)
    angles = np.linspace(0, 2 * np.pi, 3000, endpoint=False)
    radius = 12_000.0 * (1 + 0.2 * np.sin(7 * angles))
    reserve = shapely.Polygon(np.c_[ext / 2 + radius * np.cos(angles),
                                    ext / 2 + radius * np.sin(angles)])
    parts = np.array([reserve, shapely.box(0, 0, 5000, 5000)], dtype=object)

    def old() -> list[list[int]]:
        return [p.tolist() for p in shapely.STRtree(parts).query(zones, predicate="intersects")]

    def new() -> list[list[int]]:
        return [p.tolist() for p in _intersecting_pairs(zones, parts)]

    t_old, r_old = timed(old, repeats)
    t_new, r_new = timed(new, repeats)
    assert sorted(zip(*r_old, strict=True)) == sorted(zip(*r_new, strict=True))
    print(f"share pairs ({n_zones} discs, a 3000-vertex reserve): zones prepared {t_old:.3f} s, "
          f"polygons prepared {t_new:.3f} s, ratio {t_old / t_new:.1f}x (same pairs)")


def _old_weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The per-village median over people as it was computed before (the baseline)."""
    ok = ~np.isnan(values)
    values, weights = values[ok], weights[ok]
    if len(values) == 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    total = cum[-1]
    lo = v[np.searchsorted(cum, (total - 1) / 2.0, side="right")]
    hi = v[np.searchsorted(cum, total / 2.0, side="right")]
    return float((lo + hi) / 2.0)


def bench_medians(n_households: int, n_villages: int, repeats: int, seed: int) -> None:
    """All villages' weighted medians from one sort against one sort per village."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({
        "village_id": rng.integers(0, n_villages, n_households).astype(str),
        "income": np.where(rng.random(n_households) < 0.05, np.nan,
                           np.round(rng.lognormal(8.5, 0.6, n_households), 2)),
        "members": rng.integers(1, 8, n_households).astype(float),
    })
    grouped = data.groupby("village_id", sort=True)

    def old() -> np.ndarray:
        return np.array([_old_weighted_median(g["income"].to_numpy(), g["members"].to_numpy())
                         for _, g in grouped])

    def new() -> np.ndarray:
        return _weighted_medians(grouped.ngroup().to_numpy(dtype=np.intp), grouped.ngroups,
                                 data["income"].to_numpy(float), data["members"].to_numpy(float))

    t_old, r_old = timed(old, repeats)
    t_new, r_new = timed(new, repeats)
    assert np.array_equal(r_old, r_new, equal_nan=True)
    print(f"weighted medians ({n_households} households, {n_villages} villages): old "
          f"{t_old:.3f} s, one sort {t_new:.3f} s, ratio {t_old / t_new:.1f}x (same values)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zones", type=int, default=3000)
    parser.add_argument("--size", type=int, default=1500)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--villages", type=int, default=260)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    bench_terrain(args.zones, args.size, args.repeats, args.seed)
    bench_share_pairs(args.zones, args.repeats, args.seed)
    bench_medians(args.households, args.villages, args.repeats, args.seed)


if __name__ == "__main__":
    main()
