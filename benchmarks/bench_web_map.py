"""Benchmark: the web map's and the loader's fast paths against the old way, in one run.

* GeoJSON geometries of a whole layer (:func:`contigmap.render.web_geojson.geojson_geometries`)
  against :func:`shapely.geometry.mapping` per feature (the old ``feature_collection``),
  on random road-like lines; both are also written with ``json.dumps`` and compared.
* A property column as a list (:func:`contigmap.render.web_geojson.column_values`)
  against ``DataFrame.to_dict("records")`` (the old extra-layer properties).
* ``parse_bool`` (each distinct value once) against the cell-by-cell reading it
  replaced, on a 0/1 household column.
* Building a web map with the cyclic GC paused (as ``render_web_map`` does) against
  the same build with it running, while a heap of ``--heap`` objects is alive (a
  run's state; in the 14k-edge county's pipeline the render stage had 4 full
  collections, 0.9-1.7 s, with the GC running). Synthetic: no village cards or
  extra layers, so the gain is smaller than in a run.

Each line prints old and new seconds (best of ``--repeat``) and old / new.

Run::

    .venv/bin/python benchmarks/bench_web_map.py             # 14,000 lines, 142,000 cells
    .venv/bin/python benchmarks/bench_web_map.py --lines 2000 --cells 20000   # quick
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from _timing import timed
from contigmap.booleans import _is_blank, _word, accepted_words, parse_bool
from contigmap.render.web import MapLayer, render_web_map
from contigmap.render.web_geojson import column_values, geojson_geometries


def _best(fn: Callable[[], Any], repeat: int) -> float:
    return timed(fn, repeat, pick=min)[0]


def _line(label: str, old: float, new: float) -> None:
    print(f"{label:<44} old {old:8.4f} s  new {new:8.4f} s  old/new {old / new:6.1f}x")


def _lines(n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    counts = rng.integers(2, 12, n)
    starts = rng.uniform([108.9, 27.0], [109.5, 27.4], (n, 2))
    geoms = [shapely.LineString(np.round(s + np.cumsum(rng.normal(0, 1e-3, (k, 2)), 0), 5))
             for s, k in zip(starts, counts, strict=True)]
    return gpd.GeoDataFrame({"tt_min": np.round(rng.uniform(0, 120, n), 1),
                             "tt_class": rng.choice(["<30 min", "30–60 min", ">60 min"], n)},
                            geometry=geoms, crs=4326)


def _bool_cell_by_cell(cells: list[object], column: str) -> np.ndarray:
    """parse_bool before grouping: blank, word and membership per cell."""
    true, false = accepted_words(column)
    blank = np.array([_is_blank(v) for v in cells], dtype=bool)
    words = [("" if b else _word(v)) for v, b in zip(cells, blank, strict=True)]
    is_true = np.array([w in true for w in words], dtype=bool)
    is_false = np.array([w in false for w in words], dtype=bool)
    assert not (~(is_true | is_false | blank)).any()
    return np.where(blank, False, is_true)


def _gc_bench(lines: gpd.GeoDataFrame, repeat: int, heap_objects: int) -> None:
    import contigmap.render.web as web

    heap = [{"k": i, "v": [i]} for i in range(heap_objects)]  # a run's live objects
    n = max(1, len(lines) // 50)
    villages = gpd.GeoDataFrame({"name": [f"村{i}" for i in range(n)]},
                                geometry=lines.geometry.iloc[:n].representative_point()
                                .to_numpy(), crs=4326)
    roads = lines.assign(road_class="village", surface="paved")

    def build() -> None:
        render_web_map("/tmp/bench_web_map.html", villages=villages, roads=roads,
                       extra_layers=[MapLayer("tt", data=lines, tooltip_columns=["tt_min"])],
                       title="bench", source_note="synthetic", illustrative=True)

    def build_gc_running() -> None:  # the old way: the collector left on
        saved = web.gc_paused
        web.gc_paused = contextlib.nullcontext  # type: ignore[assignment]
        try:
            build()
        finally:
            web.gc_paused = saved

    full = [0]

    def count(phase: str, info: dict[str, int]) -> None:
        full[0] += phase == "stop" and info["generation"] == 2

    gc.callbacks.append(count)
    old = _best(build_gc_running, repeat)
    full_old, full[0] = full[0], 0
    new = _best(build, repeat)
    gc.callbacks.remove(count)
    _line(f"web map, {len(heap):,} objects alive", old, new)
    print(f"  full collections in {repeat} builds: GC running {full_old}, paused {full[0]}")
    del heap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=14_000)
    parser.add_argument("--cells", type=int, default=142_000)
    parser.add_argument("--heap", type=int, default=300_000,
                        help="objects kept alive during the GC comparison")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    lines = _lines(args.lines, rng)
    geoms = lines.geometry
    old_json = json.dumps([mapping(g) for g in geoms])
    assert json.dumps(geojson_geometries(geoms)) == old_json
    _line(f"GeoJSON geometries, {len(geoms):,} lines",
          _best(lambda: [mapping(g) for g in geoms], args.repeat),
          _best(lambda: geojson_geometries(geoms), args.repeat))

    frame = pd.DataFrame(lines.drop(columns="geometry"))
    assert column_values(frame, "tt_class") == [r["tt_class"] for r in frame.to_dict("records")]
    _line(f"property columns, {len(frame):,} rows",
          _best(lambda: frame.to_dict("records"), args.repeat),
          _best(lambda: [column_values(frame, c) for c in frame.columns], args.repeat))

    cells = pd.Series(rng.integers(0, 2, args.cells))
    assert np.array_equal(parse_bool(cells, column="poor"),
                          _bool_cell_by_cell(cells.tolist(), "poor"))
    _line(f"parse_bool, {len(cells):,} cells of 0/1",
          _best(lambda: _bool_cell_by_cell(cells.tolist(), "poor"), args.repeat),
          _best(lambda: parse_bool(cells, column="poor"), args.repeat))

    _gc_bench(lines, args.repeat, args.heap)


if __name__ == "__main__":
    main()
