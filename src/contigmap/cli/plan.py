"""``contigmap plan``: the cross-sector multi-year investment plan of a region."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from contigmap.cli.echo import stage_printer
from contigmap.cli.errors import fail_cleanly
from contigmap.cli.options import (
    area_options,
    force_option,
    out_option,
    priorities_option,
    region_argument,
    season_option,
)

if TYPE_CHECKING:
    from contigmap.network.speeds import Season


@click.command(
    epilog="""\b
Examples:
  contigmap plan layers/huayuan/region.yaml -o out/plan
  contigmap plan my/region.yaml -o out/plan --config my-plan.yaml
  contigmap plan --defaults > my-plan.yaml     # start your own plan settings
  contigmap plan wuling/area.yaml -o out/plan --workers 2   # every county of an area
\b
my-plan.yaml holds a plan: section (years, yearly_budget_cny, sources, crews,
diminishing_weights, precedence, time_limit_s); network:, priorities: and
relocation: sections may sit beside it.
"""
)
@region_argument(required=False)
@out_option("Output folder (created; files appear only when the plan succeeds).",
            required=False)
@click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
              default=None,
              help="Plan settings (YAML with a plan: section, and optional network:/"
                   "priorities:/relocation: sections); default: packaged plan.yaml.")
@priorities_option
@season_option()
@click.option("--defaults", is_flag=True, help="Print the packaged plan.yaml and exit.")
@area_options
@force_option
@click.pass_context
@fail_cleanly
def plan(ctx: click.Context, region: Path | None, out_dir: Path | None, config: Path | None,
         priority_config: Path | None, season: Season | None, defaults: bool,
         workers: int | None, scheduler: str | None, serial: bool, force: bool) -> None:
    """Choose which works to build in which year, across every intervention and relocation.

    One budget per year (and per funding source) for roads, water, power, broadband and
    relocation; the plan maximises the poor people served, weighted by need, with
    diminishing returns for several works in one village; crews and precedence (a road
    before a bus line) are respected. Solved exactly (HiGHS) within a time limit; writes
    plan_projects.csv, plan_summary.csv, plan_vs_greedy.csv, the public project list and
    plan_report.html and plan_map.html. Given an area manifest, plans every county (each
    with its own budget, or one shared budget with pool: area) into one folder per county
    plus the area's tables (docs/plan.md).
    """
    from contigmap.plan.config import default_plan_path

    if defaults:
        click.echo(default_plan_path().read_text(encoding="utf-8"), nl=False)
        return
    if region is None or out_dir is None:
        raise click.UsageError("give REGION and -o/--out (or --defaults)")
    from contigmap.plan.orchestrate import run_plan
    from contigmap.state import StageTimer

    quiet = ctx.obj["quiet"]
    from contigmap.area.manifest import is_area_manifest

    if region.is_file() and is_area_manifest(region):
        from contigmap.area.engine import ExecutionOptions
        from contigmap.plan.area_run import run_area_plan

        area = run_area_plan(region, out_dir, config=config, priority_config=priority_config,
                             season=season, force=force, execution=ExecutionOptions(
                                 workers=workers, scheduler=scheduler, serial=serial))
        sol = area.solution
        click.echo(f"contigmap plan: wrote {out_dir} ({len(area.counties)} counties)")
        click.echo(f"  solver: {sol.method}, status {sol.status}, objective "
                   f"{sol.objective:,.1f}, bound {sol.bound:,.1f}, gap {sol.gap:.3%}")
        for key in ("plan_projects_csv", "plan_summary_csv", "plan_counties_csv", "manifest"):
            click.echo(f"  {key:<22} {area.outputs[key]}")
        return
    done = run_plan(region, out_dir, config=config, priority_config=priority_config,
                    season=season, timer=StageTimer(stage_printer(quiet)),
                    show_progress_bars=not quiet, force=force)
    click.echo(f"contigmap plan: wrote {out_dir}")
    for line in done.result.notes:
        click.echo(f"  {line}")
    for key, path in sorted(done.outputs.items()):
        click.echo(f"  {key:<22} {path}")
