"""The ``contigmap`` command line. Thin: it parses options and chains library calls.

No input makes it print a Python traceback. Exit codes:

* 0 — done;
* 1 — bad input (:class:`contigmap.errors.ContigmapError`): one line on stderr naming the
  file, layer, field or row and the fix;
* 2 — a usage error (click's own message), or an unexpected error, that is a bug: one
  line ``Error: unexpected <Type>: <message>`` and a pointer to ``contigmap -v`` for the
  traceback (shown with ``-v``);
* 130 — interrupted (Ctrl-C); 143 — terminated (SIGTERM). Output folders are then left
  as they were (:mod:`contigmap.outdir`).
"""

from __future__ import annotations

import logging
import sys
import traceback
import warnings
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import pandas as pd

from contigmap import __version__
from contigmap.errors import ContigmapError
from contigmap.outdir import Terminated

if TYPE_CHECKING:
    from contigmap.network.speeds import Season
    from contigmap.render.web import Basemap

F = TypeVar("F", bound=Callable[..., Any])

MAIN_HELP = """contigmap: plan roads, water, power, broadband and relocation for villages
in China's contiguous destitute areas.

\b
Examples:
  contigmap demo                                  # the whole pipeline on 花垣县 (demo data)
  contigmap validate layers/huayuan/region.yaml   # check a region's layers
  contigmap run layers/myregion/region.yaml -o maps/myregion
"""


EXIT_INPUT_ERROR = 1
EXIT_UNEXPECTED = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


def _verbose() -> int:
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return int(obj.get("verbose", 0)) if isinstance(obj, dict) else 0


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _unexpected(err: Exception) -> None:
    """Report an error that is not a ContigmapError (a bug) in one line; exit 2."""
    if _verbose():
        traceback.print_exception(err, file=sys.stderr)
    message = _one_line(err)
    click.echo(f"Error: unexpected {type(err).__name__}{': ' + message if message else ''} "
               "(a bug in contigmap: please report it; run `contigmap -v ...` to see the "
               "traceback)", err=True)
    sys.exit(EXIT_UNEXPECTED)


def _fail_cleanly(func: F) -> F:
    """Turn every error into one line on stderr and an exit code; never a traceback.

    ContigmapError: its message, exit 1. Ctrl-C: exit 130; SIGTERM: exit 143. Click's
    own errors and exits pass through unchanged. Anything else: :func:`_unexpected`.
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ContigmapError as err:
            click.echo(f"Error: {err}", err=True)
            sys.exit(EXIT_INPUT_ERROR)
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted; output folders were left as they were.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except Terminated:
            click.echo("Terminated; output folders were left as they were.", err=True)
            sys.exit(EXIT_TERMINATED)
        except Exception as err:  # the top-level handler: one line, not a traceback
            _unexpected(err)

    return wrapper  # type: ignore[return-value]


def _force_option(func: F) -> F:
    """Add --force to a command that writes an output folder."""
    return click.option(
        "--force", is_flag=True,
        help="Replace the output folder even if contigmap did not write it (it is replaced "
             "whole). A folder holding an input is always refused.")(func)


class _SeenWarnings(logging.Filter):
    """Remember the text of every warning-level log line, so a warning is shown once.

    The library often logs a problem and issues it as a :class:`DataQualityWarning`
    too (for library users without logging); the CLI shows each text once.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        """Note the record's text when it is a warning or worse; never drop it."""
        if record.levelno >= logging.WARNING:
            self.seen.add(record.getMessage())
        return True


_SEEN = _SeenWarnings()


def _log_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: Any = None, line: str | None = None) -> None:
    """Show a library warning as one log line (category and message), unless already logged."""
    if str(message) in _SEEN.seen:
        return
    logging.getLogger("contigmap").warning("%s: %s", category.__name__, message)


@click.group(help=MAIN_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="contigmap")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors; no progress bars.")
@click.option("--strict", is_flag=True,
              help="Input rows that would be left out with a warning (e.g. missing "
                   "coordinates) are errors (also an option of run and validate).")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool, strict: bool) -> None:
    """Set up logging for the library; only the CLI configures handlers."""
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else
                                         logging.INFO if verbose == 1 else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if _SEEN not in handler.filters:
            handler.addFilter(_SEEN)
    warnings.showwarning = _log_warning
    ctx.obj = {"quiet": quiet, "verbose": verbose, "strict": strict}


def main() -> None:
    """Entry point of the ``contigmap`` console script (errors outside commands: one line)."""
    try:
        cli(prog_name="contigmap")
    except Exception as err:  # last resort; commands handle their own
        _unexpected(err)


def _basemap_options(func: F) -> F:
    """Add --basemap and --tianditu-key to a command that draws a web map."""
    func = click.option(
        "--tianditu-key", envvar="TIANDITU_KEY", default=None,
        help="天地图 key for --basemap tianditu (or set TIANDITU_KEY).")(func)
    func = click.option(
        "--basemap", type=click.Choice(["none", "osm", "tianditu"]), default="none",
        show_default=True,
        help="Tiles under the map: none works offline; osm and tianditu need the network.")(func)
    return func


def _config_option(func: F) -> F:
    """Add --config: one YAML with optional network:, priorities: and relocation: sections."""
    return click.option(
        "--config", "config", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="Settings (YAML) with optional network:, priorities: and relocation: sections "
             "over the defaults (region.yaml's network: first).")(func)


def _stage_printer(quiet: bool) -> Callable[[str], None] | None:
    if quiet:
        return None

    def show(name: str) -> None:
        click.echo(f"… {name}", err=True)

    return show


def _print_outputs(result: Any) -> None:
    folders: dict[str, int] = {}
    for key, path in result.outputs.items():
        rel = Path(path).relative_to(result.out_dir)
        if len(rel.parts) > 1:
            folders[rel.parts[0]] = folders.get(rel.parts[0], 0) + 1
        else:
            click.echo(f"  {key:<20} {path}")
    for folder, count in folders.items():
        click.echo(f"  {folder + '/':<20} {result.out_dir / folder} ({count} files)")
    for key, value in result.summary.items():
        shown = f"{value:.1%}" if isinstance(value, float) and value <= 1 else value
        click.echo(f"  {key:<20} {shown}")
    total = sum(result.timings_s.values())
    click.echo(f"  {'time':<20} {total:.1f} s")


@cli.command(
    epilog="""\b
Examples:
  contigmap run layers/huayuan/region.yaml -o maps/huayuan
  contigmap run my/region.yaml -o out --season rainy --online
"""
)
@click.argument("region", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
    help="Output folder (created; files appear only when the run succeeds).",
)
@click.option("--season", type=click.Choice(["dry", "rainy"]), default=None,
              help="Road speeds of which season to use [default: the settings' season, dry].")
@click.option("--online", is_flag=True,
              help="Load map scripts from CDNs instead of inlining them (smaller HTML).")
@click.option("--priorities", "priority_config", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Priority criteria, weights and costs (YAML); default: packaged.")
@_config_option
@click.option("--scenario", "scenario_files", multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="A road scenario to evaluate and map (repeatable).")
@_basemap_options
@_force_option
@click.option("--strict", is_flag=True,
              help="Rows that would be left out with a warning (missing coordinates) are "
                   "errors.")
@click.pass_context
@_fail_cleanly
def run(ctx: click.Context, region: Path, out_dir: Path, season: Season | None, online: bool,
        priority_config: Path | None, config: Path | None, scenario_files: tuple[Path, ...],
        basemap: Basemap, tianditu_key: str | None, force: bool, strict: bool) -> None:
    """Run the whole pipeline on REGION (a region.yaml) and write maps, tables and a manifest."""
    from contigmap.pipeline import run as run_pipeline

    quiet = ctx.obj["quiet"]
    result = run_pipeline(region, out_dir, offline=not online, season=season,
                          priority_config=priority_config, config=config,
                          scenarios=scenario_files,
                          basemap=basemap, tianditu_key=tianditu_key,
                          progress=_stage_printer(quiet), show_progress_bars=not quiet,
                          force=force, strict=strict or ctx.obj.get("strict", False))
    click.echo(f"contigmap: wrote {out_dir}")
    _print_outputs(result)


@cli.command(
    epilog="""\b
Examples:
  contigmap demo                    # writes maps/huayuan/
  contigmap demo -o /tmp/demo --online
"""
)
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("maps/huayuan"), show_default=True, help="Output folder.")
@click.option("--layers", "layers_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("layers/huayuan"), show_default=True,
              help="Where the demo region's layers are (generated there if absent).")
@click.option("--scenarios", "scenarios_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("scenarios"), show_default=True,
              help="Folder whose huayuan_*.yaml road scenarios are compared in the demo.")
@click.option("--online", is_flag=True, help="Load map scripts from CDNs instead of inlining.")
@_config_option
@_basemap_options
@_force_option
@click.pass_context
@_fail_cleanly
def demo(ctx: click.Context, out_dir: Path, layers_dir: Path, scenarios_dir: Path,
         online: bool, config: Path | None, basemap: Basemap, tianditu_key: str | None,
         force: bool) -> None:
    """Run the whole pipeline on the embedded demo region, 花垣县 (Huayuan county, Hunan).

    The county outline, townships, villages and census figures are real; terrain, roads,
    households, hazards and infrastructure are synthetic and illustrative (seeded).
    """
    from contigmap.outdir import check_output_dir
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
                          progress=_stage_printer(quiet), show_progress_bars=not quiet,
                          force=force, strict=ctx.obj.get("strict", False))
    click.echo(f"contigmap demo: 花垣县 (illustrative data) → {out_dir}")
    _print_outputs(result)


@cli.command(
    epilog="""\b
Examples:
  contigmap priorities layers/huayuan/region.yaml -o out/priorities
  contigmap priorities my/region.yaml -o out --config my-weights.yaml
  contigmap priorities --defaults > my-weights.yaml   # start your own weights file
"""
)
@click.argument("region", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder for the ranked tables.")
@click.option("--config", "priority_config", type=click.Path(dir_okay=False, path_type=Path),
              default=None,
              help="Settings (YAML): a file with network:/priorities:/relocation: sections, "
                   "or a whole priorities file; default: packaged.")
@click.option("--season", type=click.Choice(["dry", "rainy"]), default=None,
              help="[default: the settings' season, dry]")
@click.option("--defaults", is_flag=True, help="Print the packaged priorities YAML and exit.")
@_force_option
@click.pass_context
@_fail_cleanly
def priorities(ctx: click.Context, region: Path | None, out_dir: Path | None,
               priority_config: Path | None, season: Season | None, defaults: bool,
               force: bool) -> None:
    """Rank villages for roads, drinking water, power and broadband, with costs and reasons.

    Writes one table per intervention (CSV and XLSX), township and county summaries,
    how far the budget goes, and the weight-sensitivity report.
    """
    from contigmap.outdir import check_output_dir, region_inputs, staged_dir
    from contigmap.pipeline import StageTimer, prepare
    from contigmap.priority.costs import default_priorities_path
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
    timer = StageTimer(_stage_printer(quiet))
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


@cli.command(
    epilog="""\b
Examples:
  contigmap validate layers/huayuan/region.yaml
  contigmap validate --quick data/某某县/region.yaml   # without the network stage
"""
)
@click.argument("region", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True,
              help="Rows that would be left out with a warning (missing coordinates) are "
                   "errors.")
@click.option("--quick", is_flag=True,
              help="Skip the network stage (villages that cannot reach their township seat "
                   "are then not looked for).")
@click.pass_context
@_fail_cleanly
def validate(ctx: click.Context, region: Path, strict: bool, quick: bool) -> None:
    """Dry-run REGION: list every problem run would stop or warn on, all at once.

    Reads every layer, runs the overlay and network stages without writing anything,
    and prints each error and warning on one line (layer, file, column, rows), where
    households and poor people will come from, the region's facts, and a count: N
    errors (run would stop), M warnings (run would go on). Exits with status 1 when
    there are errors.
    """
    from contigmap.dryrun import validation_report

    lib_logger = logging.getLogger("contigmap")
    level = lib_logger.level
    if not ctx.obj.get("verbose"):  # the report lists every warning: no echo on stderr
        lib_logger.setLevel(logging.CRITICAL)
    try:
        report = validation_report(region, progress=not ctx.obj["quiet"],
                                   strict=strict or ctx.obj.get("strict", False), quick=quick)
    finally:
        lib_logger.setLevel(level)
    click.echo(report.to_text())
    if not report.ok:
        sys.exit(1)


@cli.command(
    epilog="""\b
Examples:
  contigmap synth demo -o layers/huayuan
  contigmap synth scale -o /tmp/big --road-edges 1000000
  contigmap synth messy -o layers/messy
  contigmap synth messy -o /tmp/unseen --seed 7 --variant unseen
"""
)
@click.argument("kind", type=click.Choice(["demo", "scale", "messy"]))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Folder to write the region into.")
@click.option("--seed", type=int, default=None, help="Random seed (default: the generator's).")
@click.option("--road-edges", type=int, default=1_000_000, show_default=True,
              help="Approximate road edges (scale regions only).")
@click.option("--variant", type=click.Choice(["fixture", "unseen"]), default="fixture",
              show_default=True,
              help="Messy regions only: 'unseen' uses another zone and other headers and "
                   "writes no region.yaml (try `contigmap init` on it).")
@_force_option
@click.pass_context
@_fail_cleanly
def synth(ctx: click.Context, kind: str, out_dir: Path, seed: int | None, road_edges: int,
          variant: str, force: bool) -> None:
    """Generate a synthetic region: the 花垣县 demo, a scale region, or a messy one.

    ``messy`` is a small region with files as county offices hand them over.
    """
    from contigmap import synth as synth_mod
    from contigmap.outdir import check_output_dir

    check_output_dir(out_dir, force=force)
    kwargs: dict[str, Any] = {"force": force} if seed is None else {"seed": seed, "force": force}
    if kind == "demo":
        path = synth_mod.make_demo_region(out_dir, progress=not ctx.obj["quiet"], **kwargs)
    elif kind == "messy":
        path = synth_mod.make_messy_region(
            out_dir, variant="unseen" if variant == "unseen" else "fixture", **kwargs)
    else:
        path = synth_mod.make_scale_region(out_dir, n_edges=road_edges, **kwargs)
    click.echo(f"contigmap synth: wrote {path}")


@cli.command(
    epilog="""\b
Examples:
  contigmap columns
  contigmap columns --csv > columns.csv
  contigmap columns --markdown > docs/columns.md
"""
)
@click.option("--csv", "as_csv", is_flag=True, help="Print as CSV.")
@click.option("--markdown", "as_markdown", is_flag=True,
              help="Print as a Markdown table (docs/columns.md is made this way).")
@_fail_cleanly
def columns(as_csv: bool, as_markdown: bool) -> None:
    """Print the column dictionary: every column contigmap writes, its meaning and unit."""
    from contigmap.columns import column_dictionary, column_dictionary_markdown

    table = column_dictionary()
    if as_markdown:
        click.echo(column_dictionary_markdown(), nl=False)
    elif as_csv:
        click.echo(table.to_csv(index=False), nl=False)
    else:
        with pd.option_context("display.max_rows", None, "display.max_colwidth", 60,
                               "display.width", 200, "display.unicode.east_asian_width", True):
            click.echo(table.to_string(index=False))


@cli.command(
    "init",
    epilog="""\b
Examples:
  contigmap init data/某某县                # writes data/某某县/region.yaml if absent
  contigmap init data/某某县 --print        # show the draft, write nothing
  contigmap init data/某某县 --force        # replace an existing region.yaml
  contigmap validate data/某某县/region.yaml   # then see what is left to fix
"""
)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--print", "to_stdout", is_flag=True,
              help="Print the drafted region.yaml instead of writing it.")
@click.option("--force", is_flag=True, help="Replace an existing region.yaml.")
@click.option("--name", default=None, help="Region name (ASCII; default: from the folder name).")
@_fail_cleanly
def init_command(folder: Path, to_stdout: bool, force: bool, name: str | None) -> None:
    """Draft a commented region.yaml for FOLDER, a folder of files as handed over.

    Reads every GeoPackage, GeoParquet, Shapefile, GeoJSON, CSV/XLSX and GeoTIFF in it,
    guesses each file's role, column mapping, CRS, text encoding and GCJ-02 origin, and
    marks every guess to check with "请确认 confirm". An existing region.yaml is never
    replaced without --force.
    """
    from contigmap.init import init_region

    result = init_region(folder, name=name)
    if to_stdout:
        click.echo(result.text, nl=False)
        return
    path = result.write(force=force)
    click.echo(f"contigmap init: wrote {path} ({len(result.to_confirm)} guesses to confirm, "
               "marked 请确认 confirm)")
    click.echo(f"  next: contigmap validate {path}")


@cli.command(
    epilog="""\b
Examples:
  contigmap inputs                              # roles, columns and the headers recognised
  contigmap inputs --markdown > docs/inputs.md
"""
)
@click.option("--markdown", "as_markdown", is_flag=True,
              help="Print as Markdown (docs/inputs.md is made this way).")
def inputs(as_markdown: bool) -> None:
    """Print what contigmap reads: every role, its columns, recognised headers and values."""
    from contigmap.inputs import INPUT_ROLES, inputs_markdown

    if as_markdown:
        click.echo(inputs_markdown(), nl=False)
        return
    for spec in INPUT_ROLES:
        click.echo(f"{spec.role} ({spec.title_zh}): {spec.what}")
        for col in spec.columns:
            unit = f" [{col.unit}]" if col.unit else ""
            click.echo(f"  {col.name:<18}{unit} {', '.join(col.aliases)}")


def _print_planning(result: Any, label: str) -> None:
    click.echo(f"contigmap {label}: wrote {result.out_dir}")
    for key, path in result.outputs.items():
        click.echo(f"  {key:<28} {path}")
    if len(result.table):
        with pd.option_context("display.max_columns", 12, "display.width", 160,
                               "display.unicode.east_asian_width", True):
            click.echo(result.table.head(20).to_string(index=False))


@cli.group(
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
""",
)
@click.argument("scenario_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Output folder.")
@click.option("--region", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Region manifest (default: layers/<region named in the file>/region.yaml).")
@click.option("--season", type=click.Choice(["dry", "rainy"]), default="dry", show_default=True)
@_force_option
@click.pass_context
@_fail_cleanly
def scenario_run(ctx: click.Context, scenario_file: Path, out_dir: Path, region: Path | None,
                 season: Season, force: bool) -> None:
    """Evaluate SCENARIO_FILE against the baseline: who gains or loses access, at what cost."""
    from contigmap.pipeline import StageTimer
    from contigmap.planning import run_scenarios

    timer = StageTimer(_stage_printer(ctx.obj["quiet"]))
    result = run_scenarios([scenario_file], out_dir, region=region, season=season, timer=timer,
                           force=force)
    _print_planning(result, "scenario run")


@scenario.command(
    "compare",
    epilog="""\b
Examples:
  contigmap scenario compare scenarios/huayuan_*.yaml -o out/compare
""",
)
@click.argument("scenario_files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Output folder.")
@click.option("--region", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Region manifest (default: from the scenario files).")
@click.option("--season", type=click.Choice(["dry", "rainy"]), default="dry", show_default=True)
@_force_option
@click.pass_context
@_fail_cleanly
def scenario_compare(ctx: click.Context, scenario_files: tuple[Path, ...], out_dir: Path,
                     region: Path | None, season: Season, force: bool) -> None:
    """Compare several scenarios of one region: a table and a map with a layer per scenario."""
    from contigmap.pipeline import StageTimer
    from contigmap.planning import run_scenarios

    timer = StageTimer(_stage_printer(ctx.obj["quiet"]))
    result = run_scenarios(list(scenario_files), out_dir, region=region, season=season,
                           timer=timer, force=force)
    _print_planning(result, "scenario compare")


@cli.command(
    epilog="""\b
Examples:
  contigmap criticality layers/huayuan/region.yaml -o out/criticality
  contigmap criticality layers/huayuan/region.yaml -o out/crit --season dry --top 20
"""
)
@click.argument("region", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Output folder.")
@click.option("--season", type=click.Choice(["dry", "rainy"]), default="rainy",
              show_default=True, help="Season of the travel times (landslides strike in rain).")
@click.option("--top", type=click.IntRange(min=1), default=50, show_default=True,
              help="How many segments to map and print.")
@_force_option
@click.pass_context
@_fail_cleanly
def criticality(ctx: click.Context, region: Path, out_dir: Path, season: Season,
                top: int, force: bool) -> None:
    """For every road segment: who is cut off or delayed if it fails (people, poor people)."""
    from contigmap.pipeline import StageTimer
    from contigmap.planning import run_criticality

    timer = StageTimer(_stage_printer(ctx.obj["quiet"]))
    result = run_criticality(region, out_dir, season=season, top=top, timer=timer, force=force)
    _print_planning(result, "criticality")


@cli.command(
    epilog="""\b
Examples:
  contigmap optimize layers/huayuan/region.yaml --budget 50000000 -o out/optimise
  contigmap optimize layers/huayuan/region.yaml --budget 2e7 --method exact \\
      --candidates my_projects.csv -o out/opt
"""
)
@click.argument("region", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Output folder.")
@click.option("--budget", "budget_cny", type=click.FloatRange(min=0, min_open=True),
              required=True, help="Budget in CNY.")
@click.option("--method", type=click.Choice(["celf", "exact"]), default="celf",
              show_default=True, help="Lazy greedy (any size) or exact enumeration (≤16).")
@click.option("--candidates", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Candidate projects (CSV: project_id, road_ids, cost_cny); default: "
                   "harden the unpaved roads on each village's way to its township seat.")
@click.option("--season", type=click.Choice(["dry", "rainy"]), default="dry", show_default=True)
@_force_option
@click.pass_context
@_fail_cleanly
def optimize(ctx: click.Context, region: Path, out_dir: Path, budget_cny: float, method: str,
             candidates: Path | None, season: Season, force: bool) -> None:
    """Choose road projects that buy the most poor-weighted access within a budget."""
    from contigmap.pipeline import StageTimer
    from contigmap.planning import run_optimise

    timer = StageTimer(_stage_printer(ctx.obj["quiet"]))
    result = run_optimise(region, out_dir, budget_cny=budget_cny, method=method,
                          candidates=candidates, season=season, timer=timer, force=force)
    _print_planning(result, "optimize")
