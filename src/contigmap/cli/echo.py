"""Printing results: progress lines, written files, summaries and tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pandas as pd


def stage_printer(quiet: bool) -> Callable[[str], None] | None:
    """Return a callback that prints ``… <stage>`` on stderr, or ``None`` when quiet."""
    if quiet:
        return None

    def show(name: str) -> None:
        click.echo(f"… {name}", err=True)

    return show


def print_outputs(result: Any) -> None:
    """Print a run's outputs (folders as counts), its summary and its time."""
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


def print_planning(result: Any, label: str) -> None:
    """Print what a scenario, criticality or optimiser run wrote, and its table's head."""
    click.echo(f"contigmap {label}: wrote {result.out_dir}")
    for key, path in result.outputs.items():
        click.echo(f"  {key:<28} {path}")
    if len(result.table):
        with pd.option_context("display.max_columns", 12, "display.width", 160,
                               "display.unicode.east_asian_width", True):
            click.echo(result.table.head(20).to_string(index=False))
