"""Shared pieces of the readers: file kinds, private row columns, messages.

Every reader tags rows with a private column (:data:`_ROW`) so that messages can name
them (``row 5``, ``sheet '学校' row 5``, ``feature 3``); table layers also keep their
coordinates as read (:data:`_SRC_X`, :data:`_SRC_Y`) for the swapped-row check.
:func:`_drop_private` removes them before a layer leaves :mod:`contigmap.io`.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.config import LayerSpec
from contigmap.errors import DataQualityWarning, LayerError

_F = TypeVar("_F", pd.DataFrame, gpd.GeoDataFrame)

RASTER_SUFFIXES: frozenset[str] = frozenset({".tif", ".tiff", ".img", ".vrt", ".asc"})
_VECTOR_SUFFIXES = frozenset({".gpkg", ".parquet", ".geoparquet", ".shp", ".geojson", ".json",
                              ".gdb", ".kml", ".kmz"})
_TABLE_SUFFIXES = frozenset({".csv", ".txt", ".xlsx", ".xls"})


_ROW = "_src_row"
"""Private column: how messages name a row (``row 5``, ``sheet '学校' row 5``, ``feature 3``)."""
_SRC_X, _SRC_Y = "_src_x", "_src_y"
"""Private columns of table layers: the coordinates as read, for the swapped-row check."""
_PRIVATE = (_ROW, _SRC_X, _SRC_Y)
_MAX_LISTED = 5


def is_raster_path(path: str | Path) -> bool:
    """Whether a path names a raster, by extension."""
    return Path(path).suffix.lower() in RASTER_SUFFIXES


def _resolve(spec: LayerSpec, base_dir: Path, source: str) -> Path:
    path = spec.path if spec.path.is_absolute() else Path(base_dir) / spec.path
    if not path.exists():
        msg = (
            f"{source}: file not found: {path}; check 'path:' in region.yaml "
            "(relative paths start at the manifest's folder)"
        )
        raise LayerError(msg)
    return path


def _note(problems: list[str], source: str, text: str) -> None:
    problems.append(text)
    warnings.warn(f"{source}: {text}", DataQualityWarning, stacklevel=3)


def _public(columns: Any) -> list[str]:
    """Column names to show to the user (no geometry, no private columns)."""
    return [str(c) for c in columns if c not in _PRIVATE and c != "geometry"]


def _drop_private(frame: _F) -> _F:
    private = [c for c in _PRIVATE if c in frame.columns]
    return frame.drop(columns=private) if private else frame


def _list_rows(labels: Any) -> str:
    labels = [str(v) for v in labels]
    more = f" and {len(labels) - _MAX_LISTED} more" if len(labels) > _MAX_LISTED else ""
    return ", ".join(labels[:_MAX_LISTED]) + more


def _cell_text(value: Any) -> str | None:
    """Return a cell (or a value from region.yaml) as trimmed text; blank → ``None``.

    Integral numbers lose their ``.0`` so that ``3`` in region.yaml matches ``3.0`` read
    from a file.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
    text = str(value).strip()
    return text or None


def _closest(name: str, have: Iterable[Any], *, cutoff: float = 0.4) -> str | None:
    """Return the name in ``have`` closest to ``name`` (for a hint), or ``None``."""
    close = difflib.get_close_matches(name, [str(h) for h in have], n=1, cutoff=cutoff)
    return close[0] if close else None


def _missing_column_message(
    source: str,
    missing: str,
    have: Iterable[Any],
    *,
    what: str = "column",
    listed: str = "",
    fix: str | None = "map the file's column to it under 'columns:' in region.yaml",
) -> str:
    """Say that a column is not in the file: what it has, the closest name, the fix.

    Parameters
    ----------
    source
        How to name the layer (``""``: no prefix).
    missing
        The column looked for.
    have
        The file's columns (as shown to the user).
    what
        What the column is (``column``, ``id column``).
    listed
        Where the name came from, appended to it (`` listed under 'columns:' ...``).
    fix
        The fix to suggest, or ``None``.
    """
    have = [str(h) for h in have]
    close = _closest(missing, have)
    hint = f"; did you mean '{close}'?" if close else ""
    prefix = f"{source}: " if source else ""
    tail = f"; {fix}" if fix else ""
    return (
        f"{prefix}{what} '{missing}'{listed} is not in the file (it has: {', '.join(have)})"
        f"{hint}{tail}"
    )
