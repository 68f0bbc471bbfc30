"""Options used by several commands, defined once.

Each is a decorator (``@out_option()``, ``@force_option``) so that a command lists the
options it takes and their wording stays the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

SEASONS = click.Choice(["dry", "rainy"])
DEFAULT_SEASON_HELP = "[default: the settings' season, dry]"


def out_option(
    help: str = "Output folder.", *, required: bool = True, default: Path | None = None
) -> Callable[[F], F]:
    """``-o/--out`` (``out_dir``): the folder a command writes into."""
    kind = click.Path(file_okay=False, path_type=Path)
    if default is not None:
        return click.option("-o", "--out", "out_dir", type=kind, default=default,
                             show_default=True, help=help)
    # no ``default=None``: click (8.3) takes an explicit None as a value, not as missing
    return click.option("-o", "--out", "out_dir", type=kind, required=required, help=help)


def region_argument(*, required: bool = True) -> Callable[[F], F]:
    """``REGION``: a region manifest (region.yaml)."""
    return click.argument("region", type=click.Path(dir_okay=False, path_type=Path),
                          required=required)


def force_option(func: F) -> F:
    """Add --force to a command that writes an output folder."""
    return click.option(
        "--force", is_flag=True,
        help="Replace the output folder even if contigmap did not write it (it is replaced "
             "whole). A folder holding an input is always refused.")(func)


def strict_option(func: F) -> F:
    """Add --strict: rows that would be left out with a warning are errors."""
    return click.option(
        "--strict", is_flag=True,
        help="Rows that would be left out with a warning (missing coordinates) are "
             "errors.")(func)


def season_option(default: str | None = None, help: str | None = None) -> Callable[[F], F]:
    """``--season dry|rainy``; ``None``: the settings' season."""
    if default is None:
        return click.option("--season", type=SEASONS, default=None,
                            help=help or DEFAULT_SEASON_HELP)
    return click.option("--season", type=SEASONS, default=default, show_default=True,
                        help=help)


def online_option(help: str) -> Callable[[F], F]:
    """``--online``: load map scripts from CDNs instead of inlining them."""
    return click.option("--online", is_flag=True, help=help)


def config_option(func: F) -> F:
    """Add --config: one YAML with optional network:, priorities: and relocation: sections."""
    return click.option(
        "--config", "config", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="Settings (YAML) with optional network:, priorities: and relocation: sections "
             "over the defaults (region.yaml's network: first).")(func)


def priorities_option(func: F) -> F:
    """Add --priorities: a priorities file (criteria, weights, costs)."""
    return click.option(
        "--priorities", "priority_config", type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Priority criteria, weights and costs (YAML); default: packaged.")(func)


def basemap_options(func: F) -> F:
    """Add --basemap and --tianditu-key to a command that draws a web map."""
    func = click.option(
        "--tianditu-key", envvar="TIANDITU_KEY", default=None,
        help="天地图 key for --basemap tianditu (or set TIANDITU_KEY).")(func)
    func = click.option(
        "--basemap", type=click.Choice(["none", "osm", "tianditu"]), default="none",
        show_default=True,
        help="Tiles under the map: none works offline; osm and tianditu need the network.")(func)
    return func


def engine_options(tasks: str, *, default: str) -> Callable[[F], F]:
    """Add --workers, --scheduler and --serial: where independent ``tasks`` run.

    Parameters
    ----------
    tasks
        What runs as tasks, for the help ("the counties of an area run").
    default
        What happens without --workers, for the help.
    """

    def decorate(func: F) -> F:
        func = click.option(
            "--serial", is_flag=True,
            help=f"Run {tasks} one after the other in this process, without Dask (same "
                 "outputs).")(func)
        func = click.option(
            "--scheduler", default=None, metavar="ADDRESS",
            help=f"Run {tasks} on an existing Dask cluster (tcp://host:8786); its workers "
                 "must see the inputs and the output folder at the same paths.")(func)
        func = click.option(
            "--workers", type=click.IntRange(min=1), default=None,
            help=f"Dask worker processes on this machine for {tasks} (1 = in this process, "
                 f"no Dask) [default: {default}].")(func)
        return func

    return decorate


area_options = engine_options("the counties of an area (area runs)",
                              default="number of cores")
"""--workers, --scheduler and --serial of area runs."""
