"""Benchmark the report's static maps of one county: shared layers drawn once vs per map.

Run::

    .venv/bin/python benchmarks/bench_static.py --edges 14000

It writes a synthetic one-county area (:func:`contigmap.synth.area.make_scale_area`, seed 0),
runs the analysis stages (:func:`contigmap.pipeline.prepare`: the villages get their
priority tiers) and draws the county's maps (overview and one per intervention,
:func:`contigmap.render.static.render_static_maps`) and its township maps
(:func:`contigmap.render.static_towns.render_township_maps`) twice, in this process:

(i)  contigmap as it is: the layers under the villages (county fill, township outlines,
     roads, township names) rasterised once for the county maps and restored under each,
     lines drawn as collections from shapely coordinates, RGB PNGs without row filters
     (:mod:`contigmap.render.png`);
(ii) the baseline, written here: every map draws those layers itself with one
     ``GeoDataFrame.plot`` per layer and road surface, and is saved with
     ``Figure.savefig`` (RGBA, zlib level 6): how contigmap drew them before.

Both use the same figure, villages, labels and legends, so the pictures compare: it prints
wall and CPU seconds of each, the ratio, the PNG sizes, the share of pixels that differ
between the two pictures of each map and the machine's load average (2 shared cores).

Baseline (14,000 edges, 259 villages, 7 county maps + 15 township maps, load average 1.1):
contigmap 3.98 s wall (3.96 s CPU), 8.9 MB of PNG; GeoDataFrame.plot per map 10.19 s
(10.11 s CPU), 13.2 MB: 2.56x; no pixel differs. At load 0.7 the same run gave 2.16x, at
load 2.9 2.28x: the ratio moves with what else the shared cores run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest import mock

import geopandas as gpd
import numpy as np
from PIL import Image

from contigmap.render import static, static_base
from contigmap.render.static_base import COUNTY_FILL, MapBase
from contigmap.render.static_towns import render_township_maps


def _geopandas_layers(ax: Any, renderer: Any, base: MapBase) -> list[Any]:
    """The baseline's layers under the villages: ``GeoDataFrame.plot`` for each."""
    if base.county is not None and len(base.county):
        base.county.plot(ax=ax, facecolor=COUNTY_FILL, edgecolor="none", zorder=1)
    if base.towns is not None and len(base.towns):
        base.towns.boundary.plot(ax=ax, color="#8c8c8c", linewidth=0.8, linestyle=(0, (4, 2)),
                                 zorder=2)
    if base.roads is not None:
        roads = gpd.GeoDataFrame({"surface": base.roads.surface, "width": base.roads.width},
                                 geometry=base.roads.geoms, crs=base.crs)
        for surf, (color, style, _) in static_base._ROAD_STYLE.items():
            sel = (roads["surface"] == surf).to_numpy()
            if sel.any():
                roads.loc[sel].plot(ax=ax, color=color, linewidth=roads["width"].to_numpy()[sel],
                                    linestyle=style, zorder=3, alpha=0.9)
    return static_base._draw_town_names(ax, renderer, base.text, base.towns)


def _geopandas_edge(ax: Any, base: MapBase) -> None:
    if base.county is not None and len(base.county):
        base.county.boundary.plot(ax=ax, color="#404040", linewidth=1.6, zorder=6)


def _savefig(fig: Any, out_png: Path) -> None:
    out_png.parent.mkdir(parents=True, exist_ok=True)
    with static._literal_text():
        fig.savefig(out_png, format="png", metadata={"Software": None})


def _maps(state: Any, out: Path) -> dict[str, Path]:
    data = state.data
    maps = static.render_static_maps(
        out / "static", villages=state.villages, region_title=data.config.name,
        boundaries=data.boundaries, roads=data.roads, illustrative=True)
    towns = render_township_maps(
        out / "townships", villages=state.villages, townships=data.boundaries["townships"],
        roads=data.roads, region_title=data.config.name, illustrative=True)
    return {**maps, **{f"township {k}": v for k, v in towns.items()}}


def _timed(state: Any, out: Path, baseline: bool) -> tuple[float, float, dict[str, Path]]:
    with ExitStack() as stack:
        if baseline:
            for name, new in (("draw_under", _geopandas_layers),
                              ("draw_county_edge", _geopandas_edge),
                              ("_save_png", _savefig), ("shared_raster", lambda *a: None)):
                stack.enter_context(mock.patch.object(static, name, new))
        wall, cpu = time.perf_counter(), time.process_time()
        paths = _maps(state, out)
        return time.perf_counter() - wall, time.process_time() - cpu, paths


def _differing(a: Path, b: Path) -> float:
    with Image.open(a) as x, Image.open(b) as y:
        pa = np.asarray(x.convert("RGB")).astype(int)
        pb = np.asarray(y.convert("RGB")).astype(int)
    return float((np.abs(pa - pb).max(axis=2) > 0).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edges", type=int, default=14_000, help="road lines of the county")
    args = parser.parse_args()
    from contigmap.pipeline import prepare
    from contigmap.synth.area import make_scale_area

    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        area = make_scale_area(Path(tmp) / "area", n_edges=args.edges, n_counties=1, seed=0)
        region = next((area.parent / "counties").glob("*/region.yaml"))
        state = prepare(region, relocation=False)
        print(f"{args.edges:,} edges: {len(state.data.roads):,} road lines, "
              f"{len(state.villages):,} villages, load {os.getloadavg()[0]:.2f}")
        _timed(state, Path(tmp) / "warm", baseline=False)  # imports, font cache
        new = _timed(state, Path(tmp) / "new", baseline=False)
        old = _timed(state, Path(tmp) / "old", baseline=True)
        for label, (wall, cpu, paths) in (("contigmap", new), ("geopandas per map", old)):
            size = sum(p.stat().st_size for p in paths.values()) / 1e6
            print(f"  {label:<18} {len(paths)} maps: {wall:6.2f} s wall, {cpu:6.2f} s CPU, "
                  f"{size:5.1f} MB of PNG")
        print(f"  ratio (baseline / contigmap): {old[0] / new[0]:.2f}x wall, "
              f"{old[1] / new[1]:.2f}x CPU")
        shares = [_differing(new[2][k], old[2][k]) for k in new[2]]
        print(f"  pixels that differ: {np.mean(shares):.3%} on average, "
              f"{max(shares):.3%} at most; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
