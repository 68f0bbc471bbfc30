"""The ``contigmap`` command line. Thin: it parses options and chains library calls.

Library errors (:class:`contigmap.errors.ContigmapError`) become one line on stderr and
exit code 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from contigmap import __version__
from contigmap.errors import ContigmapError

F = TypeVar("F", bound=Callable[..., Any])

MAIN_HELP = """contigmap: plan roads, water, power, broadband and relocation for villages
in China's contiguous destitute areas.

\b
Examples:
  contigmap demo                                  # the whole pipeline on 花垣县 (demo data)
  contigmap validate layers/huayuan/region.yaml   # check a region's layers
  contigmap run layers/myregion/region.yaml -o maps/myregion
"""


def _fail_cleanly(func: F) -> F:
    """Turn a ContigmapError into one line on stderr and exit code 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ContigmapError as err:
            click.echo(f"Error: {err}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(help=MAIN_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="contigmap")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors; no progress bars.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Set up logging for the library; only the CLI configures handlers."""
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else
                                         logging.INFO if verbose == 1 else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)
    ctx.obj = {"quiet": quiet, "verbose": verbose}


def main() -> None:
    """Entry point of the ``contigmap`` console script."""
    cli(prog_name="contigmap")
