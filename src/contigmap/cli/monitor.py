"""``contigmap monitor``: compare a plan with its progress workbook; write the template."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from contigmap.cli.echo import print_planning, stage_printer
from contigmap.cli.errors import fail_cleanly
from contigmap.cli.options import (
    config_option,
    force_option,
    online_option,
    priorities_option,
    region_argument,
    season_option,
)

if TYPE_CHECKING:
    from contigmap.network.speeds import Season


@click.command(
    epilog="""\b
Examples:
  contigmap monitor --template -o progress.xlsx
  contigmap monitor layers/huayuan/region.yaml --plan out/plan --progress progress.xlsx \\
      -o out/monitor
  contigmap monitor region.yaml --plan out/plan --progress p.xlsx --as-of 2019 \\
      --tolerance 0.15 -o out/monitor
"""
)
@region_argument(required=False)
@click.option("-o", "--out", "out", type=click.Path(path_type=Path), required=True,
              help="Output folder (with --template: the .xlsx to write).")
@click.option("--template", is_flag=True, help="Write an empty progress workbook and stop.")
@click.option("--plan", type=click.Path(path_type=Path), default=None,
              help="The folder `contigmap plan` wrote (or its plan_projects.csv).")
@click.option("--progress", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The progress workbook (XLSX or CSV; Chinese or English headers).")
@click.option("--as-of", "as_of", type=int, default=None,
              help="Reporting year [default: the latest completion year reported, else the "
                   "plan's first year].")
@click.option("--tolerance", type=click.FloatRange(min=0), default=0.10, show_default=True,
              help="Share over the planned cost that is not yet 'over cost'.")
@click.option("--poor-now", "poor_now", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="A follow-up poor count per village (CSV: village_id, "
                                 "poor_pop[, pop_basis]) for incidence now.")
@season_option()
@config_option
@priorities_option
@online_option("Load the map's scripts from CDNs (smaller file, needs the network).")
@force_option
@click.pass_context
@fail_cleanly
def monitor(ctx: click.Context, region: Path | None, out: Path, template: bool,
            plan: Path | None, progress: Path | None, as_of: int | None, tolerance: float,
            poor_now: Path | None, season: Season | None, config: Path | None,
            priority_config: Path | None, online: bool, force: bool) -> None:
    """Compare a plan with the progress counties report; apply completed works; assess."""
    if template:
        from contigmap.monitor.template import write_template

        if out.suffix.lower() != ".xlsx":
            raise click.BadParameter("with --template give the .xlsx to write",
                                     param_hint="-o/--out")
        if out.exists() and not force:
            raise click.BadParameter(f"{out} exists (a filled-in workbook?); give a new name "
                                     f"or --force to replace it", param_hint="-o/--out")
        click.echo(f"contigmap monitor: wrote {write_template(out)}")
        return
    for value, hint in ((region, "REGION"), (plan, "--plan"), (progress, "--progress")):
        if value is None:
            raise click.UsageError(f"{hint} is required (or use --template)")
    from contigmap.monitor.run import run_monitor
    from contigmap.pipeline import StageTimer

    assert region is not None and plan is not None and progress is not None
    timer = StageTimer(stage_printer(ctx.obj["quiet"]))
    result = run_monitor(region, out, plan=plan, progress=progress, as_of=as_of,
                         tolerance=tolerance, poor_now=poor_now, season=season, config=config,
                         priority_config=priority_config, timer=timer, offline=not online,
                         force=force)
    print_planning(result, "monitor")
