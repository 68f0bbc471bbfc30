"""``contigmap run area.yaml``: every county of an area, then the area roll-up.

:func:`run_area` checks the output folder, runs each county's whole pipeline into
``out/<code>/`` (:func:`contigmap.area.engine.run_jobs`: serially or as Dask tasks, each
exactly what ``contigmap run <region.yaml>`` writes) and adds the roll-up in ``out/``:

* ``counties.csv`` and ``counties.xlsx``: one row per county (:mod:`contigmap.area.rollup`);
* ``villages_area.csv``: when the area has prefecture cities, every village's time to the
  nearest one over the area graph (:mod:`contigmap.area.prefecture`, run once, shared),
  and its county median as ``tt_prefecture_min`` in the county table;
* ``area_map.html``: the county choropleth (:mod:`contigmap.render.area_map`);
* ``area_report.html``: key figures, the county table and a ranking;
* ``run_manifest.json``: the area's inputs with hashes, parameters and versions;
* ``regions/<code>.yaml``: for counties cut from a ``shared:`` region, the region
  manifest their run read (:mod:`contigmap.area.split`).

The whole folder is staged and swapped in at the end (:mod:`contigmap.io.outdir`): a
failed county leaves the earlier area outputs as they were.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from contigmap.area.engine import (
    AreaGraphJob,
    CountyJob,
    CountyOutcome,
    CountyProgress,
    ExecutionOptions,
    run_jobs,
)
from contigmap.area.manifest import Area, County, load_area
from contigmap.area.rollup import area_label_zh, area_totals, county_row, county_table
from contigmap.io.outdir import check_output_dir, staged_dir
from contigmap.io.write import atomic_path
from contigmap.io.writers import write_csv
from contigmap.io.xlsx import write_xlsx
from contigmap.manifest import MANIFEST_NAME, write_run_manifest

__all__ = ["AreaResult", "largest_first", "run_area"]

logger = logging.getLogger(__name__)


@dataclass
class AreaResult:
    """What an area run produced (shaped like :class:`contigmap.pipeline.RunResult`).

    Attributes
    ----------
    out_dir
        The output folder.
    outputs
        The area files by key, and each county's map as ``county_<code>``.
    table
        The county table (``counties.csv``).
    summary
        Area figures for the CLI to print.
    timings_s
        Wall-clock seconds of the county runs (all of them, in parallel or not, with the
        area graph beside them), the prefecture times and the roll-up.
    county_timings_s
        Each county's seconds per stage, by county code.
    county_peak_rss_mb
        Each county's peak resident memory per stage (MB, its worker process), by county
        code; empty where the system does not tell it.
    """

    out_dir: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    table: pd.DataFrame | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    county_timings_s: dict[str, dict[str, float]] = field(default_factory=dict)
    county_peak_rss_mb: dict[str, dict[str, float]] = field(default_factory=dict)


def _side_inputs(priority_config: str | Path | None, config: str | Path | None) -> list[Path]:
    return [Path(p) for p in (priority_config, config) if p]


def _region_path(county: County, stage: Path) -> Path:
    """Return the county's region.yaml: its own, or ``regions/<code>.yaml`` (``shared:``)."""
    from contigmap.area.split import write_region

    if county.region_path is not None:
        return county.region_path
    return write_region(county.region, stage / "regions" / f"{county.code}.yaml")


def _county_shape(county: County, folder: Path) -> gpd.GeoDataFrame:
    """Return the county's outline: ``boundaries.county``, else its villages' hull."""
    from contigmap.io.read import read_layer

    spec = county.region.layers.boundaries.get("county")
    if spec is not None:
        frame = read_layer(spec, base_dir=county.region.base_dir, role="boundaries.county",
                           source=f"{county.code}: layers.boundaries.county", check=False)
        if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None and len(frame):
            geom = frame.to_crs(4326).union_all()
            return gpd.GeoDataFrame({"county_code": [county.code]}, geometry=[geom], crs=4326)
    villages = gpd.read_file(folder / "villages.gpkg", engine="pyogrio")
    metric = villages.to_crs(villages.estimate_utm_crs())
    hull = metric.union_all().convex_hull.buffer(1_000)
    shape = gpd.GeoDataFrame({"county_code": [county.code]}, geometry=[hull], crs=metric.crs)
    return shape.to_crs(4326)


def _write_rollup(area: Area, stage: Path, table: pd.DataFrame, totals: dict[str, float],
                  offline: bool) -> dict[str, Path]:
    """Write the county table, the area map and the area report into ``stage``."""
    from contigmap.render.area_map import render_area_map
    from contigmap.render.area_report import area_facts, render_area_report

    written: dict[str, Path] = {}
    with atomic_path(stage / "counties.csv") as tmp:
        write_csv(table, tmp)
    written["counties_csv"] = stage / "counties.csv"
    with atomic_path(stage / "counties.xlsx") as tmp:
        write_xlsx({"各县 counties": table}, tmp, labels=area_label_zh)
    written["counties_xlsx"] = stage / "counties.xlsx"
    shapes = pd.concat([_county_shape(c, stage / c.code) for c in area.counties],
                       ignore_index=True)
    info = area.config.area
    written["area_map"] = render_area_map(
        table, gpd.GeoDataFrame(shapes, geometry="geometry", crs=4326), stage / "area_map.html",
        title=info.name, illustrative=info.illustrative, offline=offline,
        facts=[*area_facts(totals),
               *([("数据来源 source", info.source_note)] if info.source_note else [])])
    notes = ["贫困发生率 = Σ贫困人口 / Σ分母人口；RAI按人口加权 (incidence: Σ poor / Σ pop_basis; "
             "RAI: population-weighted mean of the county RAIs). "
             "资金需求 = 各项干预全部方案投资之和.",
             "Each county's figures are read from its own folder (<code>/indicators.csv, "
             "<code>/priorities/priorities_summary_county.csv)."]
    if info.source_note:
        notes.insert(0, f"数据来源 source: {info.source_note}")
    html = render_area_report(table, totals, title=info.name, illustrative=info.illustrative,
                              label=area_label_zh, notes=notes)
    with atomic_path(stage / "area_report.html") as tmp:
        tmp.write_text(html, encoding="utf-8")
    written["area_report"] = stage / "area_report.html"
    return written


def _shared_part(area: Area, stage: Path, table: pd.DataFrame, area_graph: Any
                 ) -> dict[str, Path]:
    """Finish the cross-county part: ``villages_area.csv`` and ``tt_prefecture_min``.

    ``area_graph`` is what the area graph task built (None: no prefecture cities). Adds
    the county medians to ``table`` in place; nothing when the area has no prefecture
    cities (:mod:`contigmap.area.prefecture`).
    """
    from contigmap.area.prefecture import county_medians, prefecture_times

    if area_graph is None:
        return {}
    villages = prefecture_times(area, stage, area_graph)
    if villages is None:
        return {}
    medians = county_medians(villages)
    table["tt_prefecture_min"] = table["county_code"].map(medians["tt_prefecture_min"])
    table["prefecture_unreachable"] = table["county_code"].map(
        medians["prefecture_unreachable"]).astype("Int64")
    with atomic_path(stage / "villages_area.csv") as tmp:
        write_csv(villages, tmp)
    return {"villages_area": stage / "villages_area.csv"}


def _parameters(area: Area, execution: ExecutionOptions, options: dict[str, Any]
                ) -> dict[str, Any]:
    engine = ("serial" if execution.in_process(len(area.counties)) else
              f"dask scheduler {execution.scheduler}" if execution.scheduler else
              f"dask LocalCluster, {execution.n_workers()} workers")
    return {
        "area": area.config.area.name,
        "area_code": area.config.area.code,
        "counties": [{"code": c.code, "name": c.name, "region": c.region.name}
                     for c in area.counties],
        "engine": engine,
        **{k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()
           if k != "tianditu_key"},
    }


def _progress_bar(total: int, show: bool, progress: CountyProgress | None) -> tuple[
        CountyProgress, Any]:
    """Return a callback advancing a tqdm bar of tasks (counties, area graph), and the bar."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="tasks", unit="task", disable=not show)

    def step(done: int, n: int, code: str) -> None:
        bar.update(1)
        if progress is not None:
            progress(done, n, code)

    return step, bar


def run_area(
    area_path: str | Path,
    out_dir: str | Path,
    *,
    execution: ExecutionOptions | None = None,
    offline: bool = True,
    season: str | None = None,
    priority_config: str | Path | None = None,
    config: str | Path | None = None,
    basemap: str = "none",
    tianditu_key: str | None = None,
    force: bool = False,
    strict: bool = False,
    progress: CountyProgress | None = None,
    show_progress_bars: bool = False,
) -> AreaResult:
    """Run every county of an area and write the area roll-up.

    Parameters
    ----------
    area_path
        The area manifest (:mod:`contigmap.area.manifest`).
    out_dir
        Output folder: ``<code>/`` per county plus the roll-up; replaced whole when
        everything succeeded.
    execution
        Serial, a LocalCluster or an existing Dask scheduler (:class:`ExecutionOptions`).
    offline, season, priority_config, config, basemap, tianditu_key, strict
        As for :func:`contigmap.pipeline.run`, the same for every county.
    force
        Replace ``out_dir`` even if contigmap did not write it.
    progress
        Called after each county with (done, total, code).
    show_progress_bars
        Draw a tqdm bar of counties done.

    Returns
    -------
    AreaResult
        Output paths, the county table and area figures.

    Raises
    ------
    ConfigError
        The area manifest or a county's region manifest is wrong (named).
    OutputDirError
        Before any county runs, when ``out_dir`` is refused.
    CountyRunError
        A county's run failed (named).
    """
    area = load_area(area_path)
    execution = execution or ExecutionOptions()
    out_dir = Path(out_dir)
    side = _side_inputs(priority_config, config)
    inputs = area.input_paths()
    check_output_dir(out_dir, inputs, side_inputs=side, force=force)
    options: dict[str, Any] = {"offline": offline, "season": season,
                               "priority_config": priority_config, "config": config,
                               "basemap": basemap, "tianditu_key": tianditu_key,
                               "strict": strict}
    result = AreaResult(out_dir=out_dir)
    graph_job = ([AreaGraphJob(Path(area_path))]
                 if area.config.layers.prefecture_cities is not None else [])
    step, bar = _progress_bar(len(area.counties) + len(graph_job), show_progress_bars,
                              progress)
    with staged_dir(out_dir, inputs=inputs, side_inputs=side, force=force) as stage:
        jobs = [CountyJob(c.code, c.name, _region_path(c, stage), stage / c.code, options)
                for c in area.counties]
        order = largest_first(area.counties)
        start = time.perf_counter()
        try:  # the area graph first: it needs no county output and is the longest task
            done = run_jobs([*graph_job, *(jobs[i] for i in order)], execution,
                            progress=step)
        finally:
            bar.close()
        area_graph = done[0] if graph_job else None
        by_county = dict(zip(order, done[len(graph_job):], strict=True))
        outcomes: list[CountyOutcome] = [by_county[i] for i in range(len(jobs))]
        result.timings_s["counties"] = time.perf_counter() - start
        table = county_table([county_row(stage / c.code, c.code, c.name)
                              for c in area.counties])
        start = time.perf_counter()
        shared = _shared_part(area, stage, table, area_graph)
        result.timings_s["prefecture times"] = time.perf_counter() - start
        totals = area_totals(table)
        start = time.perf_counter()
        written = {**shared, **_write_rollup(area, stage, table, totals, offline)}
        result.timings_s["roll-up"] = time.perf_counter() - start
        write_run_manifest(stage, inputs=[*inputs, *side],
                           parameters=_parameters(area, execution, options),
                           outputs=sorted(written.values()), base_dir=area.base_dir)
    result.outputs = {k: out_dir / p.relative_to(stage) for k, p in written.items()}
    result.outputs["manifest"] = out_dir / MANIFEST_NAME
    for county in area.counties:
        result.outputs[f"county_{county.code}"] = out_dir / county.code / "map.html"
    result.table = table
    result.summary = _summary(totals, outcomes)
    result.county_timings_s = {o.code: dict(o.timings_s) for o in outcomes}
    result.county_peak_rss_mb = {o.code: dict(o.peak_rss_mb) for o in outcomes}
    county_s = sum(sum(o.timings_s.values()) for o in outcomes)
    logger.info("area %s: counties %.1f s wall, %.1f s of county stages in all",
                area.config.area.code, result.timings_s["counties"], county_s)
    return result


def largest_first(counties: Sequence[County]) -> list[int]:
    """Return the order to hand the counties to the workers: largest input first.

    The longest-processing-time rule (Graham, "Bounds on multiprocessing timing
    anomalies", SIAM J. Appl. Math. 17, 1969): a county's run time grows with its data, and
    starting the large ones first keeps one large county from running alone at the end.
    Size is the bytes of the county's input files (its ``region.yaml`` layers); a county cut
    from shared layers counts 0 and keeps its place. Ties keep the manifest's order.
    """
    from contigmap.config import layer_paths

    def size(county: County) -> int:
        if county.region_path is None:
            return 0
        total = 0
        for path in layer_paths(county.region):
            try:
                total += Path(path).stat().st_size
            except OSError:  # a missing file is the county run's error to report
                continue
        return total

    sizes = [size(c) for c in counties]
    return sorted(range(len(counties)), key=lambda i: -sizes[i])


def _summary(totals: dict[str, float], outcomes: list[CountyOutcome]) -> dict[str, Any]:
    """Headline area figures for the CLI (counts as integers, shares as fractions)."""
    out: dict[str, Any] = {
        "counties": len(outcomes),
        "villages": int(totals["villages"]),
        "people": round(totals["pop"]),
        "poor_people": round(totals["poor_pop"]),
        "poverty_incidence": totals["poverty_incidence"],
        "rural_access_index": totals["rai"],
        "no_hardened_road": int(totals["villages_without_hardened_road"]),
    }
    if "capex_total_cny" in totals:
        out["funding_need_wan"] = f"{totals['capex_total_cny'] / 1e4:,.1f} 万元"
    return out
