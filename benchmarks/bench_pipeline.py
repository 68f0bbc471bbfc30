"""Benchmark the whole pipeline on synthetic areas: time and memory per stage, growth, workers.

Run::

    .venv/bin/python benchmarks/bench_pipeline.py --edges 10000 30000 100000
    .venv/bin/python benchmarks/bench_pipeline.py --edges 1000000 --workers 1 2

For each size it writes a synthetic area (:func:`contigmap.synth.area.make_scale_area`, seed
0; about one county per 14,000 road edges) and runs every county in a fresh child process
(:func:`contigmap.pipeline.run`, exactly what ``contigmap run`` does), one after the other.
Each child reports its stage times (the run's own timer) and its peak RSS
(``getrusage(RUSAGE_SELF).ru_maxrss`` at the end: the largest stage's peak). Printed per size:
wall time and peak RSS per stage, summed or maxed over the counties.

Baselines measured in the same run:

- **growth:** the smallest size. The exponent ``b`` of ``time ∝ edges^b`` (and of peak RSS) is
  the least-squares slope in log–log over the sizes; the issue asks for ``b ≤ 1.15``.
- **workers:** at the largest size the area is also run as ``contigmap run area.yaml
  --workers N`` for each ``--workers`` value (a Dask LocalCluster,
  :mod:`contigmap.area.engine`); the speed-up is relative to the first value.

The load average is printed next to the numbers: these machines are shared, and a loaded
machine makes every time longer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

_CHILD = """
import json, resource, sys, warnings
from pathlib import Path
from contigmap.pipeline import run
warnings.simplefilter("ignore")
result = run(Path(sys.argv[1]), Path(sys.argv[2]))
print(json.dumps({"timings_s": result.timings_s,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _county_runs(area_dir: Path, out: Path) -> list[dict[str, Any]]:
    """Run every county of the area in its own process; return each one's report."""
    reports = []
    for region in sorted((area_dir / "counties").glob("*/region.yaml")):
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(region), str(out / region.parent.name)],
            capture_output=True, text=True, check=True, env=dict(os.environ))
        reports.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return reports


def _area_run(area_dir: Path, out: Path, workers: int) -> float:
    """Wall seconds of ``contigmap run area.yaml --workers N`` (1: in this process, no Dask)."""
    from contigmap.area import ExecutionOptions, run_area

    start = time.perf_counter()
    run_area(area_dir / "area.yaml", out, execution=ExecutionOptions(workers=workers),
             force=True)
    return time.perf_counter() - start


def _exponent(x: list[float], y: list[float]) -> float:
    """Least-squares slope of log y against log x (nan with fewer than two sizes)."""
    if len(x) < 2:
        return float("nan")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def _size(n_edges: int, tmp: Path) -> dict[str, Any]:
    from contigmap.synth.area import make_scale_area

    area_dir = tmp / f"area_{n_edges}"
    start = time.perf_counter()
    make_scale_area(area_dir, n_edges=n_edges, seed=0)
    synth_s = time.perf_counter() - start
    reports = _county_runs(area_dir, tmp / f"out_{n_edges}")
    stages: dict[str, float] = {}
    for rep in reports:
        for stage, seconds in rep["timings_s"].items():
            stages[stage] = stages.get(stage, 0.0) + float(seconds)
    return {"edges": n_edges, "counties": len(reports), "synth_s": synth_s,
            "stages_s": stages, "total_s": sum(stages.values()),
            "peak_rss_mb": max(rep["peak_rss_mb"] for rep in reports), "area_dir": area_dir}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edges", type=int, nargs="+", default=[10_000, 30_000])
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as folder:
        tmp = Path(folder)
        rows = [_size(n, tmp) for n in sorted(args.edges)]
        print(f"load average {os.getloadavg()[0]:.1f} (2 cores on the development machine)")
        stages = list(dict.fromkeys(s for r in rows for s in r["stages_s"]))
        print(f"{'edges':>9} {'counties':>8} {'synth s':>8} " +
              " ".join(f"{s[:10]:>10}" for s in stages) + f" {'total s':>8} {'peak MB':>8}")
        for r in rows:
            print(f"{r['edges']:>9,} {r['counties']:>8} {r['synth_s']:>8.1f} " +
                  " ".join(f"{r['stages_s'].get(s, 0.0):>10.1f}" for s in stages) +
                  f" {r['total_s']:>8.1f} {r['peak_rss_mb']:>8.0f}")
        base = rows[0]
        for r in rows[1:]:
            print(f"{r['edges']:,} edges vs {base['edges']:,} (baseline): "
                  f"{r['edges'] / base['edges']:.1f}x the edges, "
                  f"{r['total_s'] / base['total_s']:.2f}x the time, "
                  f"{r['peak_rss_mb'] / base['peak_rss_mb']:.2f}x the peak RSS")
        edges = [float(r["edges"]) for r in rows]
        print(f"growth exponent: time {_exponent(edges, [r['total_s'] for r in rows]):.2f}, "
              f"peak RSS {_exponent(edges, [r['peak_rss_mb'] for r in rows]):.2f} "
              "(target <= 1.15)")
        if args.workers:
            big = rows[-1]
            walls = {w: _area_run(big["area_dir"], tmp / f"area_out_{w}", w)
                     for w in args.workers}
            first = args.workers[0]
            for w, wall in walls.items():
                print(f"area run, {big['edges']:,} edges, {w} worker(s): {wall:.1f} s "
                      f"(speed-up vs {first}: {walls[first] / wall:.2f}x; "
                      f"load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
