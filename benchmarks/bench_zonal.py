"""Benchmark: zonal means of village-like zones over a large raster.

contigmap's exact-coverage ``zonal_stats`` against exactextract's Python API
(``exact_extract(raster, zones, ["mean"])``, the reference for exact coverage) and
rasterstats (``zonal_stats``, cell-centre rasterization), in one run.

Zones are a Voronoi partition of random points (like village territories), clipped to
the raster. rasterstats is slow at this size: it is timed on a random sample of
``--rasterstats-sample`` zones and extrapolated linearly to all zones (said so in the
output).

Run::

    .venv/bin/python benchmarks/bench_zonal.py              # 10,000 zones, 10,000 x 10,000
    .venv/bin/python benchmarks/bench_zonal.py --size 2000 --zones 1000   # quick
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from pyproj import CRS

from _timing import timed
from contigmap.raster import Raster
from contigmap.zonal import zonal_stats


def make_inputs(size: int, n_zones: int, res: float, seed: int) -> tuple[Raster, gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    x0, ytop = 500_000.0, 3_200_000.0
    ext = size * res
    # smooth-ish float32 "terrain": a coarse random field upsampled, plus noise
    coarse = rng.normal(800, 200, (size // 100 + 2, size // 100 + 2)).astype(np.float32)
    field = np.repeat(np.repeat(coarse, 100, axis=0), 100, axis=1)[:size, :size]
    arr = field + rng.normal(0, 5, (size, size)).astype(np.float32)
    del field
    crs = CRS.from_epsg(32649)
    raster = Raster(arr, Affine(res, 0, x0, 0, -res, ytop), crs, "bench")  # type: ignore[arg-type]
    frame = shapely.box(x0, ytop - ext, x0 + ext, ytop)
    pts = shapely.points(rng.random((n_zones, 2)) * ext + [x0, ytop - ext])
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts),
                                                       extend_to=frame))
    cells = shapely.intersection(cells, frame)
    zones = gpd.GeoDataFrame({"village_id": np.arange(len(cells))}, geometry=cells, crs=crs)
    return raster, zones


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="raster rows = cols")
    parser.add_argument("--zones", type=int, default=10_000)
    parser.add_argument("--res", type=float, default=30.0, help="cell size (m)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rasterstats-sample", type=int, default=200,
                        help="time rasterstats on this many zones and extrapolate (0: skip)")
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs per tool")
    args = parser.parse_args()

    t = time.perf_counter()
    raster, zones = make_inputs(args.size, args.zones, args.res, args.seed)
    print(f"inputs: {args.size} x {args.size} float32 raster ({args.res:g} m cells), "
          f"{len(zones)} Voronoi zones, mean {zones.area.mean() / args.res**2:.0f} cells/zone "
          f"(built in {time.perf_counter() - t:.1f} s)")

    def best(fn: Any) -> tuple[float, Any]:
        return timed(fn, args.repeat, pick=min, collect=True)

    results: dict[str, float] = {}
    t_cm, ours = best(lambda: zonal_stats(raster, zones, stats=["mean"]))
    results["contigmap zonal_stats (mean)"] = t_cm
    t_cm_all, _ = best(lambda: zonal_stats(raster, zones,
                                           stats=["count", "mean", "min", "max", "sum"]))
    results["contigmap zonal_stats (count,mean,min,max,sum)"] = t_cm_all

    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    def run_ee(ops: list[str]) -> object:
        t = raster.transform
        rows, cols = raster.shape
        src = NumPyRasterSource(raster.array, t.c, t.f + t.e * rows, t.c + t.a * cols, t.f,
                                srs_wkt=raster.crs.to_wkt())
        return exact_extract(src, zones, ops, output="pandas")

    t_ee, ref = best(lambda: run_ee(["mean"]))
    results["exactextract exact_extract (mean)"] = t_ee
    t_ee_all, _ = best(lambda: run_ee(["count", "mean", "min", "max", "sum"]))
    results["exactextract exact_extract (count,mean,min,max,sum)"] = t_ee_all
    diff = np.abs(ours["mean"].to_numpy() - ref["mean"].to_numpy()) / np.abs(  # type: ignore[index]
        ref["mean"].to_numpy())  # type: ignore[index]
    print(f"contigmap vs exactextract means: max relative difference {np.nanmax(diff):.2e}")

    rs_note = ""
    if args.rasterstats_sample > 0:
        from rasterstats import zonal_stats as rs_zonal_stats

        rng = np.random.default_rng(args.seed + 1)
        k = min(args.rasterstats_sample, len(zones))
        sample = zones.geometry.iloc[rng.choice(len(zones), k, replace=False)]
        t0 = time.perf_counter()
        rs_zonal_stats(list(sample), raster.array, affine=raster.transform, stats=["mean"],
                       nodata=-1e30)
        t_rs = (time.perf_counter() - t0) * len(zones) / k
        if k < len(zones):
            rs_note = f"  (timed on {k} random zones, extrapolated to {len(zones)})"
        results["rasterstats zonal_stats (mean)"] = t_rs

    print()
    print(f"{'tool':55s} {'time (s)':>9s} {'vs contigmap':>13s}")
    for name, secs in results.items():
        base = t_cm_all if "count,mean" in name else t_cm
        note = rs_note if name.startswith("rasterstats") else ""
        print(f"{name:55s} {secs:9.2f} {secs / base:12.1f}x{note}")
    print()
    print(f"exactextract / contigmap (mean): {t_ee / t_cm:.2f}  "
          f"(>= 1 means contigmap is at least as fast)")


if __name__ == "__main__":
    main()
