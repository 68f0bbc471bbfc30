"""Benchmark the whole pipeline on synthetic areas: time and memory per stage, growth, workers.

Run::

    .venv/bin/python benchmarks/bench_pipeline.py --edges 14000 100000 --workers 1 2
    .venv/bin/python benchmarks/bench_pipeline.py --edges 1000000 --workers 2 --cache /tmp/areas

For each size it writes a synthetic area (:func:`contigmap.synth.area.make_scale_area`, seed
0; about one county per 14,000 road edges; with ``--cache DIR`` an area already written
there is reused) and runs it as ``contigmap run area.yaml`` does
(:func:`contigmap.area.run_area`: every county's whole pipeline with its maps and report,
the area graph, the roll-up and the area map) once per ``--workers`` value: 1 runs the
counties one after the other in this process (no Dask), N > 1 on a Dask LocalCluster of N
worker processes.

Measured per run: wall time; seconds per stage summed over the counties (each county's own
timer); each stage's peak RSS in its county's process, the largest over the counties
(:mod:`contigmap.peakrss`, Linux); the run's peak RSS, sampled every 0.2 s with psutil over
this process and all its children (the Dask workers and their nanny processes), both the
largest single process and the largest sum (what the machine must hold).

Baselines measured in the same run:

- **growth:** the smallest size. The exponent ``b`` of ``time ∝ edges^b`` (and of peak RSS) is
  the least-squares slope in log–log over the sizes, for the first ``--workers`` value; the
  issue asks for ``b ≤ 1.15``.
- **workers:** at each size the speed-up of each ``--workers`` value against the first.
- **the machine's ceiling for this work** (``--ceiling``, on by default with more than one
  worker): one county of the largest area run as a plain process (no Dask) alone, then N
  copies of it at once, N the largest ``--workers``, three times each in turn; each process
  first runs another county to warm its caches, and only the second county's pipeline is
  timed. ``N × median alone / median at once`` is what N workers could at best give on
  this machine, however the counties are scheduled: the cores share caches and memory
  bandwidth, and a virtual machine's cores may share a host with other machines.

The load average is printed next to the numbers: these machines are shared, and a loaded
machine makes every time longer.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from contigmap.errors import DataQualityWarning


class RssSampler:
    """Peak RSS of this process and its children, sampled in a thread."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.every_s = every_s
        self.peak_sum_mb = 0.0
        self.peak_one_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            rss = []
            for proc in [me, *me.children(recursive=True)]:
                try:
                    rss.append(proc.memory_info().rss / 2**20)
                except psutil.Error:
                    continue
            self.peak_sum_mb = max(self.peak_sum_mb, sum(rss))
            self.peak_one_mb = max(self.peak_one_mb, max(rss, default=0.0))
            self._stop.wait(self.every_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _area(n_edges: int, root: Path) -> tuple[Path, float]:
    """The synthetic area of ``n_edges`` under ``root`` (written unless already there)."""
    from contigmap.synth.area import make_scale_area

    area_dir = root / f"area_{n_edges}"
    if (area_dir / "area.yaml").exists():
        return area_dir, float("nan")
    start = time.perf_counter()
    make_scale_area(area_dir, n_edges=n_edges, seed=0)
    return area_dir, time.perf_counter() - start


def _count_edges(area_dir: Path) -> int:
    """Road lines of an existing area: its counties' road layers and the trunk roads."""
    import pyarrow.parquet as pq
    import pyogrio

    from contigmap.area.manifest import load_area

    area = load_area(area_dir / "area.yaml")
    specs = [(spec, c.region.base_dir) for c in area.counties
             for spec in c.region.layers.road_sources()]
    if area.config.layers.trunk_roads is not None:
        specs.append((area.config.layers.trunk_roads, area.base_dir))
    n = 0
    for spec, base in specs:
        path = Path(base) / spec.path
        n += (pq.ParquetFile(path).metadata.num_rows if path.suffix == ".parquet"
              else int(pyogrio.read_info(path, layer=spec.layer)["features"]))
    return n


def _run(area_dir: Path, out: Path, workers: int) -> dict[str, Any]:
    """One area run: wall seconds, stage seconds summed over counties, peak RSS."""
    from contigmap.area import ExecutionOptions, run_area

    load = os.getloadavg()[0]
    with RssSampler() as rss:
        start = time.perf_counter()
        result = run_area(area_dir / "area.yaml", out,
                          execution=ExecutionOptions(workers=workers), force=True)
        wall = time.perf_counter() - start
    stages: dict[str, float] = {}
    for timings in result.county_timings_s.values():
        for stage, seconds in timings.items():
            stages[stage] = stages.get(stage, 0.0) + float(seconds)
    peaks: dict[str, float] = {}
    for county in result.county_peak_rss_mb.values():
        for stage, mb in county.items():
            peaks[stage] = max(peaks.get(stage, 0.0), float(mb))
    return {"workers": workers, "wall_s": wall, "stages_s": stages, "stage_peak_mb": peaks,
            "area_s": dict(result.timings_s), "counties": len(result.county_timings_s),
            "peak_sum_mb": rss.peak_sum_mb, "peak_one_mb": rss.peak_one_mb,
            "load_before": load, "load_after": os.getloadavg()[0]}


_COUNTY_SCRIPT = """
import sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
from contigmap.pipeline import run
warm, county, out = map(Path, sys.argv[1:4])
run(warm, out / "warm", force=True)
start = time.perf_counter()
run(county, out / "county", force=True)
print(time.perf_counter() - start)
"""


def _county_seconds(warm: Path, county: Path, outs: list[Path]) -> list[float]:
    """Pipeline seconds of ``county`` in ``len(outs)`` plain processes started together."""
    import subprocess
    import sys

    procs = [subprocess.Popen([sys.executable, "-c", _COUNTY_SCRIPT, str(warm), str(county),
                               str(out)], stdout=subprocess.PIPE, text=True) for out in outs]
    seconds = []
    for proc in procs:
        stdout, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"ceiling run failed (exit {proc.returncode})")
        seconds.append(float(stdout.strip().splitlines()[-1]))
    return seconds


def _ceiling(area_dir: Path, tmp: Path, n: int, repeats: int = 3) -> None:
    """Print the speed-up N plain processes of one county can give on this machine.

    Alone and N at once alternate ``repeats`` times; the medians are compared.
    """
    from contigmap.area.manifest import load_area

    counties = [c for c in load_area(area_dir / "area.yaml").counties if c.region_path]
    if len(counties) < 2:  # counties split from shared layers have no region.yaml each
        return
    warm, county = (Path(str(c.region_path)) for c in counties[:2])
    load = os.getloadavg()[0]
    alone, together = [], []
    for _ in range(repeats):
        alone += _county_seconds(warm, county, [tmp / "ceiling_alone"])
        together += _county_seconds(warm, county, [tmp / f"ceiling_{i}" for i in range(n)])
    one, many = float(np.median(alone)), float(np.median(together))
    print(f"machine ceiling: county {counties[1].code}, median of {repeats} runs alone "
          f"{one:.1f} s, of {repeats} x {n} at once {many:.1f} s: at best {n * one / many:.2f}x "
          f"from {n} workers (plain processes, no Dask); load average {load:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")


def _exponent(x: list[float], y: list[float]) -> float:
    """Least-squares slope of log y against log x (nan with fewer than two sizes)."""
    if len(x) < 2:
        return float("nan")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def _print_size(n_edges: int, synth_s: float, runs: list[dict[str, Any]]) -> None:
    first = runs[0]
    print(f"\n{n_edges:,} road edges, {first['counties']} counties "
          f"(synth {synth_s:.0f} s; nan: reused)")
    stages = list(first["stages_s"])
    print(f"  county stages, s (summed, workers={first['workers']}): " +
          ", ".join(f"{s} {first['stages_s'][s]:.1f}" for s in stages))
    if first["stage_peak_mb"]:
        print("  county stages, peak RSS of the county's process, MB (largest county): " +
              ", ".join(f"{s} {mb:.0f}" for s, mb in first["stage_peak_mb"].items()))
    print("  area steps, s: " + ", ".join(f"{k} {v:.1f}" for k, v in first["area_s"].items()))
    for r in runs[1:]:  # the others' stage seconds: how much two at once slow each county
        print(f"  county stages, s (summed, workers={r['workers']}): " +
              ", ".join(f"{s} {r['stages_s'][s]:.1f}" for s in r["stages_s"]))
    for r in runs:
        print(f"  workers {r['workers']}: wall {r['wall_s']:.1f} s "
              f"({r['wall_s'] / 60:.1f} min), speed-up vs {first['workers']} worker(s) "
              f"{first['wall_s'] / r['wall_s']:.2f}x; peak RSS {r['peak_sum_mb']:.0f} MB in all, "
              f"{r['peak_one_mb']:.0f} MB largest process; load average "
              f"{r['load_before']:.1f} before, {r['load_after']:.1f} after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edges", type=int, nargs="*", default=[14_000, 28_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder to keep (and reuse) the synthetic areas in")
    parser.add_argument("--area", type=Path, nargs="*", default=[],
                        help="existing area folders (holding area.yaml) to run as well")
    parser.add_argument("--ceiling", action=argparse.BooleanOptionalAction, default=None,
                        help="measure what N plain processes of one county give "
                             "(default: with more than one worker)")
    args = parser.parse_args()
    # the synthetic counties' data notes (e.g. no clinics) are the same in every run
    warnings.filterwarnings("ignore", category=DataQualityWarning)
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as folder:
        tmp = Path(folder)
        root = args.cache or tmp
        root.mkdir(parents=True, exist_ok=True)
        print(f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB")
        rows = []
        areas = [(n, *_area(n, root)) for n in args.edges]
        areas += [(_count_edges(a), a, float("nan")) for a in args.area]
        for n, area_dir, synth_s in sorted(areas, key=lambda t: t[0]):
            runs = [_run(area_dir, tmp / f"out_{n}_{w}", w) for w in args.workers]
            _print_size(n, synth_s, runs)
            rows.append((n, runs[0]))
        if args.ceiling or (args.ceiling is None and max(args.workers) > 1):
            _ceiling(max(areas, key=lambda t: t[0])[1], tmp, max(max(args.workers), 2))
        if len(rows) > 1:
            edges = [float(n) for n, _ in rows]
            base_n, base = rows[0]
            for n, r in rows[1:]:
                print(f"{n:,} edges vs {base_n:,} (baseline): {n / base_n:.1f}x the edges, "
                      f"{r['wall_s'] / base['wall_s']:.2f}x the wall time, "
                      f"{r['peak_sum_mb'] / base['peak_sum_mb']:.2f}x the peak RSS")
            print(f"growth exponent (workers={args.workers[0]}): time "
                  f"{_exponent(edges, [r['wall_s'] for _, r in rows]):.2f}, peak RSS "
                  f"{_exponent(edges, [r['peak_sum_mb'] for _, r in rows]):.2f} "
                  "(target <= 1.15)")


if __name__ == "__main__":
    main()
