"""Exit codes and the one-line error handling every command shares.

No input makes the CLI print a Python traceback. Exit codes:

* 0 — done;
* 1 — bad input (:class:`contigmap.errors.ContigmapError`): one line on stderr naming the
  file, layer, field or row and the fix;
* 2 — a usage error (click's own message), or an unexpected error, that is a bug: one
  line ``Error: unexpected <Type>: <message>`` and a pointer to ``contigmap -v`` for the
  traceback (shown with ``-v``);
* 130 — interrupted (Ctrl-C); 143 — terminated (SIGTERM). Output folders are then left
  as they were (:mod:`contigmap.io.outdir`).
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from contigmap.errors import ContigmapError
from contigmap.io.outdir import Terminated

F = TypeVar("F", bound=Callable[..., Any])

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


def unexpected(err: Exception) -> None:
    """Report an error that is not a ContigmapError (a bug) in one line; exit 2."""
    if _verbose():
        traceback.print_exception(err, file=sys.stderr)
    message = _one_line(err)
    click.echo(f"Error: unexpected {type(err).__name__}{': ' + message if message else ''} "
               "(a bug in contigmap: please report it; run `contigmap -v ...` to see the "
               "traceback)", err=True)
    sys.exit(EXIT_UNEXPECTED)


def fail_cleanly(func: F) -> F:
    """Turn every error into one line on stderr and an exit code; never a traceback.

    ContigmapError: its message, exit 1. Ctrl-C: exit 130; SIGTERM: exit 143. Click's
    own errors and exits pass through unchanged. Anything else: :func:`unexpected`.
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
            unexpected(err)

    return wrapper  # type: ignore[return-value]
