"""The ``contigmap`` group: global options, logging and warnings set-up, the entry point.

The CLI is thin: it parses options and chains library calls. Commands live in
:mod:`contigmap.cli.run`, :mod:`contigmap.cli.check`, :mod:`contigmap.cli.scenario`
and :mod:`contigmap.cli.synth`; errors become one line and an exit code
(:mod:`contigmap.cli.errors`).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import click

from contigmap import __version__
from contigmap.cli.check import columns, init_command, inputs, validate
from contigmap.cli.errors import unexpected
from contigmap.cli.monitor import monitor
from contigmap.cli.plan import plan
from contigmap.cli.run import demo, priorities, run
from contigmap.cli.scenario import criticality, optimize, scenario
from contigmap.cli.serve import serve
from contigmap.cli.synth import synth

MAIN_HELP = """contigmap: plan roads, water, power, broadband and relocation for villages
in China's contiguous destitute areas.

\b
Examples:
  contigmap demo                                  # the whole pipeline on 花垣县 (demo data)
  contigmap validate layers/huayuan/region.yaml   # check a region's layers
  contigmap run layers/myregion/region.yaml -o maps/myregion
  contigmap serve layers/huayuan/region.yaml     # edit road scenarios in the browser
"""


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


for _command in (run, demo, priorities, validate, synth, columns, init_command, inputs,
                 scenario, criticality, optimize, plan, serve):
    cli.add_command(_command)
cli.add_command(monitor)


def main() -> None:
    """Entry point of the ``contigmap`` console script (errors outside commands: one line)."""
    try:
        cli(prog_name="contigmap")
    except Exception as err:  # last resort; commands handle their own
        unexpected(err)
