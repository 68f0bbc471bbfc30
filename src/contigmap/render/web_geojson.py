"""GeoJSON geometry objects of many shapely geometries at once (the web map's features).

:func:`shapely.geometry.mapping` walks each geometry's coordinate sequence in Python
(``tuple(self.coords)`` per line, per part, per ring), which took most of the time of
the web map's road and travel-time layers (14 000 lines: 0.6 s). Here the coordinates
of all geometries of a kind come out of GEOS in one :func:`shapely.get_coordinates`
call, become Python floats in one :meth:`numpy.ndarray.tolist`, and are cut into
lines, rings and parts by the counts of :func:`shapely.get_num_coordinates`,
:func:`shapely.get_rings` and :func:`shapely.get_parts`.

:func:`column_values` does the same for a layer's property columns: one column at a
time instead of :meth:`pandas.DataFrame.to_dict` row by row.

The result equals :func:`shapely.geometry.mapping`'s value for value (coordinate pairs
are tuples as there; lines, rings and parts are lists where it has tuples, which JSON
writes the same), so ``json.dumps`` of it gives the same text;
``tests/test_web_geojson.py`` compares the two. Geometries this does not handle the
same way (with Z or M values, collections, multi-geometries with an empty part) go
through :func:`~shapely.geometry.mapping` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

__all__ = ["column_values", "geojson_geometries"]

_Array = np.ndarray[Any, Any]


def _split(items: list[Any], counts: _Array) -> list[list[Any]]:
    """Cut ``items`` into consecutive runs of ``counts`` items."""
    ends = np.cumsum(counts).tolist()
    starts = [0, *ends[:-1]]
    return [items[a:b] for a, b in zip(starts, ends, strict=True)]


def _lines(geoms: _Array) -> list[list[tuple[float, float]]]:
    """Coordinate lists ``[(x, y), ...]`` of points, lines or rings.

    Pairs are tuples, as :func:`~shapely.geometry.mapping` makes them: a tuple of two
    floats is dropped from the cyclic collector's lists at its first collection, a
    list would be walked by every full collection while the map is built.
    """
    xy = shapely.get_coordinates(geoms)
    coords = list(zip(xy[:, 0].tolist(), xy[:, 1].tolist(), strict=True))
    return _split(coords, shapely.get_num_coordinates(geoms))


def _grouped(parts: list[Any], index: _Array, n: int) -> list[list[Any]]:
    """Group per-part values by the (ascending) index of the geometry they came from."""
    return _split(parts, np.bincount(index, minlength=n))


def _points(geoms: _Array) -> list[Any] | None:
    return [c[0] for c in _lines(geoms)]


def _polygons(geoms: _Array) -> list[Any] | None:
    rings, index = shapely.get_rings(geoms, return_index=True)
    return _grouped(_lines(rings), index, len(geoms))


def _multi(part_coords: Callable[[_Array], list[Any] | None]) -> Callable[[_Array], Any]:
    def build(geoms: _Array) -> list[Any] | None:
        parts, index = shapely.get_parts(geoms, return_index=True)
        if shapely.is_empty(parts).any():
            return None  # mapping() writes an empty part its own way
        coords = part_coords(parts)
        return None if coords is None else _grouped(coords, index, len(geoms))
    return build


_BUILDERS: dict[int, tuple[str, Callable[[_Array], list[Any] | None]]] = {
    0: ("Point", _points),
    1: ("LineString", _lines),
    2: ("LinearRing", _lines),
    3: ("Polygon", _polygons),
    4: ("MultiPoint", _multi(_points)),
    5: ("MultiLineString", _multi(_lines)),
    6: ("MultiPolygon", _multi(_polygons)),
}
"""GEOS type id → GeoJSON type and the builder of the coordinates of such geometries."""


def geojson_geometries(geoms: Iterable[Any]) -> list[dict[str, Any] | None]:
    """Return the GeoJSON geometry of each geometry, as :func:`shapely.geometry.mapping`.

    Parameters
    ----------
    geoms
        Shapely geometries or ``None`` (a GeoSeries, an array or any iterable).

    Returns
    -------
    list
        Per geometry ``{"type": ..., "coordinates": ...}``, or ``None`` for a missing
        or empty geometry.
    """
    if isinstance(geoms, np.ndarray | pd.Series):  # a GeoSeries: its array, not its items
        arr = np.asarray(geoms, dtype=object)
    else:
        items = list(geoms)
        arr = np.empty(len(items), dtype=object)
        arr[:] = items
    out: list[dict[str, Any] | None] = [None] * len(arr)
    present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    plain = present & ~shapely.has_z(arr) & ~shapely.has_m(arr)
    types = shapely.get_type_id(arr)
    done = np.zeros(len(arr), dtype=bool)
    for type_id, (name, build) in _BUILDERS.items():
        sel = np.flatnonzero(plain & (types == type_id))
        if len(sel) == 0:
            continue
        coords = build(arr[sel])
        if coords is None:
            continue
        for i, c in zip(sel.tolist(), coords, strict=True):
            out[i] = {"type": name, "coordinates": c}
        done[sel] = True
    for i in np.flatnonzero(present & ~done).tolist():
        out[i] = dict(mapping(arr[i]))
    return out


def column_values(frame: pd.DataFrame, column: Any) -> list[Any]:
    """Return a column's values exactly as ``frame.to_dict("records")`` gives them.

    Columns of NumPy numbers and booleans (Python scalars, as pandas boxes them) and
    the ``str`` dtype with NaN for missing values are converted in one
    :meth:`pandas.Series.tolist`; other columns (object, ``string`` with ``pd.NA``,
    which the records give as ``None``, other extension types) go through
    :meth:`~pandas.DataFrame.to_dict` on that column alone.
    """
    series = frame[column]
    dtype = series.dtype
    fast = (isinstance(dtype, np.dtype) and dtype.kind in "biuf") or (
        isinstance(dtype, pd.StringDtype) and dtype.na_value is np.nan
    )
    if fast:
        return list(series.tolist())
    return [row[column] for row in frame[[column]].to_dict("records")]
