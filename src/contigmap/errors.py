"""The contigmap error family.

Every error that bad *input* can cause is a subclass of :class:`ContigmapError`.
The CLI catches ``ContigmapError`` alone and prints its one-line message; anything
else is a bug and keeps its traceback.

Messages say what is wrong, where (file, layer, field, row) and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "ConfigError",
    "ContigmapError",
    "DataQualityWarning",
    "LayerError",
    "NetworkError",
    "ValidationError",
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


class DataQualityWarning(UserWarning):
    """Input that contigmap could use, but that a planner should look at."""
