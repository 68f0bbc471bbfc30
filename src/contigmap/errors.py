"""The contigmap error family.

Every error that bad *input* can cause is a subclass of :class:`ContigmapError`.
The CLI catches ``ContigmapError`` alone and prints its one-line message; anything
else is a bug and keeps its traceback.

Messages say what is wrong, where (file, layer, field, row) and how to fix it.
"""

from __future__ import annotations

import logging
import warnings

__all__ = [
    "CRSError",
    "ConfigError",
    "ContigmapError",
    "DataQualityWarning",
    "LayerError",
    "NetworkError",
    "ResourceError",
    "ValidationError",
    "warn_data",
]


class ContigmapError(Exception):
    """Base class of every error contigmap raises on bad input."""


class ConfigError(ContigmapError, ValueError):
    """A region manifest or scenario file is malformed (unknown key, bad value)."""


class LayerError(ContigmapError, OSError):
    """A layer file cannot be found, opened or read."""


class ValidationError(ContigmapError, ValueError):
    """A layer was read but its content breaks a rule (ids, columns, geometry, ranges)."""


class CRSError(ContigmapError, ValueError):
    """A layer has no usable coordinate reference system, or coordinates that do not fit it."""


class NetworkError(ContigmapError, ValueError):
    """A road network cannot be built or routed as asked."""


class ResourceError(ContigmapError, MemoryError):
    """A run ran out of memory: the message names the stage, the size and what to change."""


class DataQualityWarning(UserWarning):
    """Input that contigmap could use, but that a planner should look at."""


def warn_data(msg: str, *, logger: logging.Logger, stacklevel: int = 2) -> None:
    """Log ``msg`` as a warning and warn it as a :class:`DataQualityWarning`.

    The one way the library reports a repairable data problem: the log keeps it in the
    run's record, the warning lets a caller (the CLI, a test) see it. The CLI shows such
    a message once.

    Parameters
    ----------
    msg
        One line: what is wrong, where, and what was done about it.
    logger
        The calling module's logger.
    stacklevel
        As for :func:`warnings.warn`, counted from the caller of this function (2: the
        caller's caller).
    """
    logger.warning(msg)
    warnings.warn(msg, DataQualityWarning, stacklevel=stacklevel + 1)
