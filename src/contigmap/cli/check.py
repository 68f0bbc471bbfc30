"""``contigmap validate``, ``init``, ``inputs`` and ``columns``: checking and describing inputs."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
import pandas as pd

from contigmap.cli.errors import fail_cleanly
from contigmap.cli.options import region_argument, strict_option


@click.command(
    epilog="""\b
Examples:
  contigmap validate layers/huayuan/region.yaml
  contigmap validate --quick data/某某县/region.yaml   # without the network stage
"""
)
@region_argument()
@strict_option
@click.option("--quick", is_flag=True,
              help="Skip the network stage (villages that cannot reach their township seat "
                   "are then not looked for).")
@click.pass_context
@fail_cleanly
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


@click.command(
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
@fail_cleanly
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


@click.command(
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


@click.command(
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
@fail_cleanly
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
