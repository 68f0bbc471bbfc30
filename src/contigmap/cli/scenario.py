"""``contigmap scenario run|compare``, ``criticality`` and ``optimize``: road planning runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from contigmap.cli.echo import print_planning, stage_printer
from contigmap.cli.errors import fail_cleanly
from contigmap.cli.options import (
    config_option,
    engine_options,
    force_option,
    out_option,
    priorities_option,
    region_argument,
    season_option,
)

if TYPE_CHECKING:
    from contigmap.network.speeds import Season


@click.group(
    epilog="""\b
Examples:
  contigmap scenario run scenarios/huayuan_pave_huayuanzhen.yaml -o out/pave
  contigmap scenario compare scenarios/huayuan_*.yaml -o out/compare
"""
)
def scenario() -> None:
    """Test road scenarios: upgrade, build or close roads, add a shuttle bus.

    A scenario file (YAML) names its region, a title and a list of changes; see
    scenarios/ for examples.
    """


@scenario.command(
    "run",
    epilog="""\b
Examples:
  contigmap scenario run scenarios/huayuan_pave_huayuanzhen.yaml -o out/pave
  contigmap scenario run my.yaml --region layers/myregion/region.yaml -o out
  contigmap scenario run my.yaml --priorities my_costs.yaml -o out   # own road costs
""",
)
@click.argument("scenario_file", type=click.Path(dir_okay=False, path_type=Path))
@out_option()
@click.option("--region", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Region manifest (default: layers/<region named in the file>/region.yaml).")
@season_option()
@config_option
@priorities_option
@force_option
@click.pass_context
@fail_cleanly
def scenario_run(ctx: click.Context, scenario_file: Path, out_dir: Path, region: Path | None,
                 season: Season | None, config: Path | None, priority_config: Path | None,
                 force: bool) -> None:
    """Evaluate SCENARIO_FILE against the baseline: who gains or loses access, at what cost."""
    from contigmap.pipeline import StageTimer
    from contigmap.planning import run_scenarios

    timer = StageTimer(stage_printer(ctx.obj["quiet"]))
    result = run_scenarios([scenario_file], out_dir, region=region, season=season, timer=timer,
                           config=config, priority_config=priority_config, force=force)
    print_planning(result, "scenario run")


@scenario.command(
    "compare",
    epilog="""\b
Examples:
  contigmap scenario compare scenarios/huayuan_*.yaml -o out/compare
  contigmap scenario compare scenarios/*.yaml -o out/compare --workers 2   # on Dask
""",
)
@click.argument("scenario_files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@out_option()
@click.option("--region", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Region manifest (default: from the scenario files).")
@season_option()
@config_option
@priorities_option
@force_option
@engine_options("the scenarios", default="in this process")
@click.pass_context
@fail_cleanly
def scenario_compare(ctx: click.Context, scenario_files: tuple[Path, ...], out_dir: Path,
                     region: Path | None, season: Season | None, config: Path | None,
                     priority_config: Path | None, force: bool, workers: int | None,
                     scheduler: str | None, serial: bool) -> None:
    """Compare several scenarios of one region: a table and a map with a layer per scenario.

    Each scenario is an independent task: with --workers or --scheduler they run on
    Dask, with the same results as in this process.
    """
    from contigmap.pipeline import StageTimer
    from contigmap.planning import run_scenarios
    from contigmap.tasks import ExecutionOptions

    timer = StageTimer(stage_printer(ctx.obj["quiet"]))
    execution = ExecutionOptions(workers=workers or 1, scheduler=scheduler, serial=serial)
    result = run_scenarios(list(scenario_files), out_dir, region=region, season=season,
                           timer=timer, config=config, priority_config=priority_config,
                           force=force, execution=execution)
    print_planning(result, "scenario compare")


@click.command(
    epilog="""\b
Examples:
  contigmap criticality layers/huayuan/region.yaml -o out/criticality
  contigmap criticality layers/huayuan/region.yaml -o out/crit --season dry --top 20
  contigmap criticality big/region.yaml -o out/crit --workers 2   # on Dask
"""
)
@region_argument()
@out_option()
@season_option("rainy", help="Season of the travel times (landslides strike in rain).")
@click.option("--top", type=click.IntRange(min=1), default=50, show_default=True,
              help="How many segments to map and print.")
@config_option
@force_option
@engine_options("the failure evaluations (in chunks of segments)", default="in this process")
@click.pass_context
@fail_cleanly
def criticality(ctx: click.Context, region: Path, out_dir: Path, season: Season,
                top: int, config: Path | None, force: bool, workers: int | None,
                scheduler: str | None, serial: bool) -> None:
    """For every road segment: who is cut off or delayed if it fails (people, poor people)."""
    from contigmap.pipeline import StageTimer
    from contigmap.planning import run_criticality
    from contigmap.tasks import ExecutionOptions

    timer = StageTimer(stage_printer(ctx.obj["quiet"]))
    execution = ExecutionOptions(workers=workers or 1, scheduler=scheduler, serial=serial)
    result = run_criticality(region, out_dir, season=season, top=top, timer=timer, config=config,
                             force=force, execution=execution)
    print_planning(result, "criticality")


@click.command(
    epilog="""\b
Examples:
  contigmap optimize layers/huayuan/region.yaml --budget 50000000 -o out/optimise
  contigmap optimize layers/huayuan/region.yaml --budget 2e7 --method exact \\
      --candidates my_projects.csv -o out/opt
  contigmap optimize layers/huayuan/region.yaml --budget 5e7 --priorities my_costs.yaml -o out/opt
"""
)
@region_argument()
@out_option()
@click.option("--budget", "budget_cny", type=click.FloatRange(min=0, min_open=True),
              required=True, help="Budget in CNY.")
@click.option("--method", type=click.Choice(["celf", "exact"]), default="celf",
              show_default=True, help="Lazy greedy (any size) or exact enumeration (≤16).")
@click.option("--candidates", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Candidate projects (CSV: project_id, road_ids, cost_cny); default: "
                   "harden the unpaved roads on each village's way to its township seat.")
@season_option()
@config_option
@priorities_option
@force_option
@click.pass_context
@fail_cleanly
def optimize(ctx: click.Context, region: Path, out_dir: Path, budget_cny: float, method: str,
             candidates: Path | None, season: Season | None, config: Path | None,
             priority_config: Path | None, force: bool) -> None:
    """Choose road projects that buy the most poor-weighted access within a budget."""
    from contigmap.pipeline import StageTimer
    from contigmap.planning import run_optimise

    timer = StageTimer(stage_printer(ctx.obj["quiet"]))
    result = run_optimise(region, out_dir, budget_cny=budget_cny, method=method,
                          candidates=candidates, season=season, timer=timer, config=config,
                          priority_config=priority_config, force=force)
    print_planning(result, "optimize")
