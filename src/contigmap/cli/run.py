"""``contigmap run``, ``demo`` and ``priorities``: the whole pipeline, or its ranking."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from contigmap.cli.echo import print_outputs, stage_printer
from contigmap.cli.errors import fail_cleanly
from contigmap.cli.options import (
    area_options,
    basemap_options,
    config_option,
    force_option,
    online_option,
    out_option,
    priorities_option,
    region_argument,
    season_option,
    strict_option,
)

if TYPE_CHECKING:
    from contigmap.network.speeds import Season
    from contigmap.render.web import Basemap


@click.command(
    epilog="""\b
Examples:
  contigmap run layers/huayuan/region.yaml -o maps/huayuan
  contigmap run my/region.yaml -o out --season rainy --online
  contigmap run wuling/area.yaml -o out/wuling --workers 2
  contigmap run wuling/area.yaml -o out/wuling --scheduler tcp://10.0.0.5:8786
"""
)
@region_argument()
@out_option("Output folder (created; files appear only when the run succeeds).")
@season_option(help="Road speeds of which season to use [default: the settings' season, dry].")
@online_option("Load map scripts from CDNs instead of inlining them (smaller HTML).")
@priorities_option
@config_option
@click.option("--scenario", "scenario_files", multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="A road scenario to evaluate and map (repeatable).")
@basemap_options
@area_options
@force_option
@strict_option
@click.pass_context
@fail_cleanly
def run(ctx: click.Context, region: Path, out_dir: Path, season: Season | None, online: bool,
        priority_config: Path | None, config: Path | None, scenario_files: tuple[Path, ...],
        basemap: Basemap, tianditu_key: str | None, workers: int | None, scheduler: str | None,
        serial: bool, force: bool, strict: bool) -> None:
    """Run the whole pipeline on REGION (a region.yaml) and write maps, tables and a manifest.

    REGION may also be an area manifest (area.yaml, with a counties: list): every county
    is run into OUT/<code>/ (on a Dask cluster unless --workers 1 or --serial) and the
    area roll-up (counties.csv/.xlsx, area_map.html, area_report.html) is written in OUT.
    """
    from contigmap.area.manifest import is_area_manifest
    from contigmap.pipeline import run as run_pipeline

    quiet = ctx.obj["quiet"]
    strict = strict or ctx.obj.get("strict", False)
    if region.is_file() and is_area_manifest(region):
        if scenario_files:
            raise click.UsageError("--scenario applies to one county: run it on that "
                                   "county's region.yaml")
        _run_area(region, out_dir, quiet=quiet, season=season, online=online,
                  priority_config=priority_config, config=config, basemap=basemap,
                  tianditu_key=tianditu_key, workers=workers, scheduler=scheduler,
                  serial=serial, force=force, strict=strict)
        return
    if workers is not None or scheduler or serial:
        raise click.UsageError("--workers, --scheduler and --serial apply to an area "
                               "manifest (area.yaml), not to one region.yaml")
    result = run_pipeline(region, out_dir, offline=not online, season=season,
                          priority_config=priority_config, config=config,
                          scenarios=scenario_files,
                          basemap=basemap, tianditu_key=tianditu_key,
                          progress=stage_printer(quiet), show_progress_bars=not quiet,
                          force=force, strict=strict)
    click.echo(f"contigmap: wrote {out_dir}")
    print_outputs(result)


def _quiet_dask() -> None:
    """Show Dask's own log lines from ERROR up (all of them with -v), not from INFO.

    ``distributed`` sets its logger to INFO when imported; a failed county is reported
    once, by the CLI, as one line.
    """
    import logging

    import distributed  # noqa: F401  (sets up its loggers on import)

    level = logging.getLogger().getEffectiveLevel()
    logging.getLogger("distributed").setLevel(level if level <= logging.INFO else logging.ERROR)


def _run_area(area: Path, out_dir: Path, *, quiet: bool, season: Season | None, online: bool,
              priority_config: Path | None, config: Path | None, basemap: Basemap,
              tianditu_key: str | None, workers: int | None, scheduler: str | None,
              serial: bool, force: bool, strict: bool) -> None:
    """``contigmap run area.yaml``: every county, then the area roll-up."""
    from contigmap.area import ExecutionOptions, run_area

    execution = ExecutionOptions(workers=workers, scheduler=scheduler, serial=serial)
    if not serial and workers != 1:
        _quiet_dask()
    result = run_area(area, out_dir, execution=execution, offline=not online, season=season,
                      priority_config=priority_config, config=config, basemap=basemap,
                      tianditu_key=tianditu_key, force=force, strict=strict,
                      show_progress_bars=not quiet)
    click.echo(f"contigmap: wrote {out_dir} ({result.summary['counties']} counties)")
    print_outputs(result)


@click.command(
    epilog="""\b
Examples:
  contigmap demo                    # writes maps/huayuan/ (with plan/, progress/, monitor/)
  contigmap demo -o /tmp/demo --online
  contigmap demo --no-cycle         # the county run only, without plan and monitoring
"""
)
@out_option(default=Path("maps/huayuan"))
@click.option("--layers", "layers_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("layers/huayuan"), show_default=True,
              help="Where the demo region's layers are (generated there if absent).")
@click.option("--scenarios", "scenarios_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("scenarios"), show_default=True,
              help="Folder whose huayuan_*.yaml road scenarios are compared in the demo.")
@online_option("Load map scripts from CDNs instead of inlining.")
@config_option
@basemap_options
@click.option("--cycle/--no-cycle", default=True, show_default=True,
              help="Also plan 2016–2020 under one budget, write a synthetic progress workbook "
                   "(some projects late, one over cost) and monitor the plan against it.")
@force_option
@click.pass_context
@fail_cleanly
def demo(ctx: click.Context, out_dir: Path, layers_dir: Path, scenarios_dir: Path,
         online: bool, config: Path | None, basemap: Basemap, tianditu_key: str | None,
         force: bool, cycle: bool) -> None:
    """Run the whole pipeline on the embedded demo region, 花垣县 (Huayuan county, Hunan).

    Then the planning cycle: a 2016–2020 plan across all works under one yearly budget
    (plan/), the progress a county would report (progress/) and its monitoring (monitor/).
    The county outline, townships, villages and census figures are real; terrain, roads,
    households, hazards and infrastructure are synthetic and illustrative (seeded).
    """
    from contigmap.io.outdir import check_output_dir
    from contigmap.pipeline import run as run_pipeline

    quiet = ctx.obj["quiet"]
    manifest = layers_dir / "region.yaml"
    scenario_files = sorted(scenarios_dir.glob("huayuan_*.yaml")) if scenarios_dir.is_dir() else []
    if not manifest.exists():
        from contigmap.synth import make_demo_region

        check_output_dir(out_dir, [manifest], side_inputs=scenario_files, force=force)
        check_output_dir(layers_dir, force=force)
        click.echo(f"… generating the demo region into {layers_dir}", err=True)
        manifest = make_demo_region(layers_dir, progress=not quiet, force=force)
    result = run_pipeline(manifest, out_dir, offline=not online, scenarios=scenario_files,
                          config=config, basemap=basemap, tianditu_key=tianditu_key,
                          progress=stage_printer(quiet), show_progress_bars=not quiet,
                          force=force, strict=ctx.obj.get("strict", False))
    click.echo(f"contigmap demo: 花垣县 (illustrative data) → {out_dir}")
    print_outputs(result)
    if cycle:
        from contigmap.cycle import run_cycle

        click.echo("… the planning cycle: 2016–2020 plan, reported progress, monitoring", err=True)
        done = run_cycle(manifest, out_dir, offline=not online, force=force)
        for label, path in (("plan", done.plan_dir), ("progress", done.progress_xlsx),
                            ("monitor", done.monitor_dir)):
            click.echo(f"  {label:<20} {path}")


@click.command(
    epilog="""\b
Examples:
  contigmap priorities layers/huayuan/region.yaml -o out/priorities
  contigmap priorities my/region.yaml -o out --config my-weights.yaml
  contigmap priorities --defaults > my-weights.yaml   # start your own weights file
"""
)
@region_argument(required=False)
@out_option("Output folder for the ranked tables.", required=False)
@click.option("--config", "priority_config", type=click.Path(dir_okay=False, path_type=Path),
              default=None,
              help="Settings (YAML): a file with network:/priorities:/relocation: sections, "
                   "or a whole priorities file; default: packaged.")
@season_option()
@click.option("--defaults", is_flag=True, help="Print the packaged priorities YAML and exit.")
@force_option
@click.pass_context
@fail_cleanly
def priorities(ctx: click.Context, region: Path | None, out_dir: Path | None,
               priority_config: Path | None, season: Season | None, defaults: bool,
               force: bool) -> None:
    """Rank villages for roads, drinking water, power and broadband, with costs and reasons.

    Writes one table per intervention (CSV and XLSX), township and county summaries,
    how far the budget goes, and the weight-sensitivity report.
    """
    from contigmap.io.outdir import check_output_dir, region_inputs, staged_dir
    from contigmap.pipeline import StageTimer, prepare
    from contigmap.priority.config import default_priorities_path
    from contigmap.priority.run import write_priority_tables

    if defaults:
        click.echo(default_priorities_path().read_text(encoding="utf-8"), nl=False)
        return
    if region is None or out_dir is None:
        raise click.UsageError("give REGION and -o/--out (or --defaults)")
    data_inputs = region_inputs(region)
    side_inputs = [priority_config or default_priorities_path()]
    check_output_dir(out_dir, data_inputs, side_inputs=side_inputs, force=force)
    quiet = ctx.obj["quiet"]
    timer = StageTimer(stage_printer(quiet))
    config = None
    if priority_config is not None:
        from contigmap.settings import is_run_config
        from contigmap.yamlio import load_yaml

        if is_run_config(load_yaml(priority_config)):
            config, priority_config = priority_config, None
    state = prepare(region, season=season, priority_config=priority_config, config=config,
                    timer=timer, show_progress_bars=not quiet, relocation=False)
    if state.priorities is None:  # pragma: no cover - prepare() runs the stage by default
        raise click.ClickException("the priority stage did not run")
    with staged_dir(out_dir, inputs=data_inputs, side_inputs=side_inputs, force=force) as stage:
        written = write_priority_tables(state.priorities, stage)
    click.echo(f"contigmap priorities: wrote {out_dir}")
    for key, path in written.items():
        click.echo(f"  {key:<22} {out_dir / path.relative_to(stage)}")
    for iv, table in state.priorities.tables.items():
        top = table.nsmallest(5, f"{iv}_rank")
        click.echo(f"  top {iv:<18} {'、'.join(map(str, top['name']))}")
