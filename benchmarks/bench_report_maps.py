"""Benchmark the report's static maps: texts laid out once per process vs once per figure.

Run::

    .venv/bin/python benchmarks/bench_report_maps.py --edges 14000 --rounds 3
    .venv/bin/python benchmarks/bench_report_maps.py --region path/to/region.yaml

It prepares one county (a synthetic one from :func:`contigmap.synth.area.make_scale_area`,
seed 0, or ``--region``), then draws its 7 county maps and its township maps (as
:func:`contigmap.publish._report` does) alternately, ``--rounds`` times each, in this
process:

(i)  contigmap as it is: the Agg canvas of :mod:`contigmap.render.agg_text` (each text
     measured, outlined and laid out once per process, each glyph bitmap rendered once
     per subpixel offset), the roads split into matplotlib
     paths once for the county and the township maps (``base=``);
(ii) the baseline: matplotlib's own ``FigureCanvasAgg`` (texts laid out again in every
     figure and every halo draw), the roads prepared for each of the two map sets (how
     contigmap drew them before).

The text caches are emptied before every round, as for a new county. It prints each
round's wall and CPU seconds, the medians, their ratio, whether the PNGs are the same
bytes, and the load average (2 shared cores: the ratio moves with what else runs).

Measured (14k-edge test county ``/tmp/s14/counties/990001``, 259 villages, 7 county +
15 township maps, 3 rounds, load 3.9-4.1 with other agents on the 2 cores): median
6.08 s wall (4.71 s CPU) vs baseline 8.41 s (6.45 s CPU), 1.39x wall, 1.37x CPU, PNGs
byte-identical. (An earlier run at load 4.6-5.0, before the font-height cache: 1.15x
wall, 1.09x CPU: rounds vary by a second or more either way at this load.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest import mock

from contigmap.render import agg_text, static
from contigmap.render.static_towns import render_township_maps


def _maps(state: Any, out: Path, baseline: bool) -> dict[str, Path]:
    data = state.data
    base = None if baseline else static.map_base(state.villages, data.boundaries, data.roads)
    maps = static.render_static_maps(
        out / "static", villages=state.villages, region_title=data.config.name,
        boundaries=data.boundaries, roads=data.roads, illustrative=True, base=base)
    towns = render_township_maps(
        out / "townships", villages=state.villages, townships=data.boundaries["townships"],
        roads=data.roads, region_title=data.config.name, illustrative=True, base=base)
    return {**maps, **{f"township {k}": v for k, v in towns.items()}}


def _timed(state: Any, out: Path, baseline: bool) -> tuple[float, float, dict[str, Path]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for cache in (agg_text._metrics, agg_text._outline, agg_text._glyphs, agg_text._height,
                  agg_text._bitmap, agg_text._glyph_outline):
        cache.cache_clear()
    with ExitStack() as stack:
        if baseline:
            stack.enter_context(mock.patch.object(agg_text, "agg_canvas", FigureCanvasAgg))
        wall, cpu = time.perf_counter(), time.process_time()
        paths = _maps(state, out, baseline)
        return time.perf_counter() - wall, time.process_time() - cpu, paths


def _region(args: argparse.Namespace, tmp: Path) -> Path:
    if args.region:
        return Path(args.region)
    from contigmap.synth.area import make_scale_area

    area = make_scale_area(tmp / "area", n_edges=args.edges, n_counties=1, seed=0)
    return next((area.parent / "counties").glob("*/region.yaml"))


def _png_rows(rounds: int) -> None:
    """Time the PNG rows from an Agg RGBA buffer: channel by channel vs pixel by pixel."""
    import numpy as np

    from contigmap.render.png import filtered_rows

    rgba = np.random.default_rng(0).integers(0, 256, (1240, 1753, 4), dtype=np.uint8)
    pixels = rgba[..., :3]  # a strided view, as _save_png passes it

    def old() -> np.ndarray[Any, Any]:  # the way before: one copy with a 3-byte inner loop
        rows = np.zeros((1240, 1 + 3 * 1753), dtype=np.uint8)
        rows[:, 1:].reshape(1240, 1753, 3)[...] = pixels
        return rows

    times: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(rounds * 5):
        for name, make in (("old", old), ("new", lambda: filtered_rows(pixels))):
            cpu = time.process_time()
            make()
            times[name].append(time.process_time() - cpu)
    same = bool((old() == filtered_rows(pixels)).all())
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    print(f"  PNG rows of a 1753 x 1240 map: {med['new']:.1f} ms CPU vs {med['old']:.1f} ms "
          f"pixel by pixel, {med['old'] / med['new']:.1f}x; rows "
          f"{'identical' if same else 'DIFFER'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edges", type=int, default=14_000, help="road lines of the county")
    parser.add_argument("--region", help="a region.yaml instead of a synthetic county")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each way")
    args = parser.parse_args()
    from contigmap.pipeline import prepare

    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        _png_rows(args.rounds)
        state = prepare(_region(args, tmp), relocation=False)
        print(f"{len(state.data.roads):,} road lines, {len(state.villages):,} villages, "
              f"load {os.getloadavg()[0]:.2f}")
        _timed(state, tmp / "warm", baseline=False)  # imports, font files
        runs: dict[bool, list[tuple[float, float, dict[str, Path]]]] = {False: [], True: []}
        for i in range(args.rounds):
            for baseline in (True, False):
                runs[baseline].append(_timed(state, tmp / f"{baseline}{i}", baseline))
                wall, cpu, _ = runs[baseline][-1]
                print(f"  round {i} {'baseline ' if baseline else 'contigmap'}: "
                      f"{wall:5.2f} s wall, {cpu:5.2f} s CPU")
        med = {b: (statistics.median(r[0] for r in runs[b]),
                   statistics.median(r[1] for r in runs[b])) for b in runs}
        new, old = runs[False][-1][2], runs[True][-1][2]
        same = all(new[k].read_bytes() == old[k].read_bytes() for k in new)
        print(f"  median: contigmap {med[False][0]:.2f} s wall ({med[False][1]:.2f} s CPU), "
              f"baseline {med[True][0]:.2f} s ({med[True][1]:.2f} s CPU); ratio "
              f"{med[True][0] / med[False][0]:.2f}x wall, {med[True][1] / med[False][1]:.2f}x "
              f"CPU; {len(new)} maps, PNGs {'identical' if same else 'DIFFER'}; "
              f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
