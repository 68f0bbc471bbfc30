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

Before the rounds it times two pieces alone (:func:`_labels_and_outlines`): the boxes of
250 village labels at their four places, computed (``static_layers._label_boxes``) vs an
annotation moved and measured at each place (5.5 ms vs 258 ms, 46.6x, the names
measured once beforehand for both), and their outlines from cached glyph outlines vs
``TextToPath`` (256 ms vs 338 ms, 1.3x: laying each string out is most of it); both
identical, load 3.5.
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

from _timing import timed
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


def _labels_and_outlines(rounds: int) -> None:
    """Time the village labels' boxes and outlines: computed/cached vs matplotlib's way.

    Boxes: :func:`~contigmap.render.static_layers._label_boxes` (four places from one
    measurement) against an annotation moved to each place and measured, for 250 names
    like a county's. Outlines: the glyph-cached ``agg_text._outline`` against
    ``TextToPath.get_text_path`` (every glyph read from the font again), string caches
    emptied. Both ways give the same floats (tests/test_static_labels.py, test_agg_text.py).
    """
    from matplotlib.figure import Figure
    from matplotlib.textpath import TextToPath

    from contigmap.render import static_layers
    from contigmap.render.static_base import map_frame
    from contigmap.render.static_parts import text_setup

    names = [f"合成05县{t}乡{v}村" for t in range(1, 13) for v in range(1, 22)][:250]
    fig = Figure(figsize=(9.0, 5.6), dpi=120)
    renderer = agg_text.agg_canvas(fig).get_renderer()
    ax = map_frame(fig, (0.0, 0.0, 50_000.0, 30_000.0), (9.0, 5.6)).ax
    props = text_setup().props(8)
    xy = [(1000.0 + 190.0 * i, 500.0 + 110.0 * i) for i in range(len(names))]
    anchors = ax.transData.transform(xy)
    ascent, descent = static_layers._height_metrics(renderer, props)
    with static._literal_text():
        [renderer.get_text_width_height_descent(n, props, False) for n in names]  # measured
        new, boxes = timed(lambda: [
            static_layers._label_boxes(renderer, n, props, tuple(a), ascent, descent)
            for n, a in zip(names, anchors, strict=True)], rounds * 3)
        old, ref = timed(lambda: [static_layers._annotation_boxes(ax, renderer, n, p, props)
                                  for n, p in zip(names, xy, strict=True)], rounds * 3)
    print(f"  label boxes of {len(names)} names x 4 places: {new * 1e3:.1f} ms vs "
          f"{old * 1e3:.1f} ms by annotation, {old / new:.1f}x; "
          f"{'identical' if boxes == ref else 'DIFFER'}")

    def cached() -> list[Any]:
        agg_text._outline.cache_clear()
        return [agg_text._CachedTextToPath().get_text_path(props, n) for n in names]

    cached()  # the glyph outlines, read once per process
    new, verts = timed(cached, rounds)
    old, ref = timed(lambda: [TextToPath().get_text_path(props, n) for n in names], rounds)
    same = all((v == r[0]).all() for (v, _), r in zip(verts, ref, strict=True))
    print(f"  outlines of {len(names)} names: {new * 1e3:.1f} ms vs {old * 1e3:.1f} ms "
          f"by TextToPath, {old / new:.1f}x; {'identical' if same else 'DIFFER'}")


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
        _labels_and_outlines(args.rounds)
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
