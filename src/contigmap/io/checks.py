"""Checks on input layers: ids, columns, geometry, values, coordinates, extents, rasters.

The ``contigmap validate`` report is :mod:`contigmap.dryrun`; region facts are
:mod:`contigmap.facts`.

Fatal problems raise :class:`~contigmap.errors.ValidationError` (or
:class:`~contigmap.errors.CRSError` for coordinates) with one line naming the layer,
file, column and row and saying how to fix it. Problems contigmap can repair or live
with (invalid geometries, empty geometries, features partly outside the region) are
appended to a ``problems`` list and issued as
:class:`~contigmap.errors.DataQualityWarning`.
"""

from __future__ import annotations

import difflib
import logging
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from contigmap.errors import CRSError, DataQualityWarning, ValidationError
from contigmap.raster import Raster
from contigmap.schema import (
    ROAD_CLASS_ZH,
    ROLE_SCHEMAS,
    SERVICE_KIND_ZH,
    SURFACE_ZH,
    RoleSchema,
)

__all__ = [
    "check_coordinates",
    "check_extent",
    "check_layer",
    "check_raster",
]

logger = logging.getLogger(__name__)

_GEOM_KINDS: dict[str, tuple[str, ...]] = {
    "point": ("Point", "MultiPoint"),
    "line": ("LineString", "MultiLineString"),
    "polygon": ("Polygon", "MultiPolygon"),
}

# Chinese and common alternative spellings accepted for domain values.
_ALIASES: dict[str, dict[str, str]] = {
    "road_class": {
        **{zh: en for en, zh in ROAD_CLASS_ZH.items()},
        "高速": "expressway",
        "县乡道": "county",
        "村道路": "village",
        "便道": "track",
        "小路": "path",
        "人行道": "path",
        "footpath": "path",
    },
    "surface": {
        **{zh: en for en, zh in SURFACE_ZH.items()},
        "硬化": "paved",
        "沥青": "paved",
        "沥青路面": "paved",
        "水泥": "paved",
        "水泥路面": "paved",
        "水泥混凝土": "paved",
        "asphalt": "paved",
        "concrete": "paved",
        "砂石": "gravel",
        "碎石": "gravel",
        "土": "earth",
        "土质": "earth",
        "土路面": "earth",
        "dirt": "earth",
        "unpaved": "earth",
    },
    "kind": {
        **{zh: en for en, zh in SERVICE_KIND_ZH.items()},
        "乡镇政府": "township_seat",
        "镇政府": "township_seat",
        "医院": "health_centre",
        "health_center": "health_centre",
        "小学": "school",
        "中学": "school",
        "集镇": "market",
        # s19b: village-level service points (村卫生室) under their usual names
        "卫生室": "clinic",
        "村卫生所": "clinic",
        "村医务室": "clinic",
        "村级卫生室": "clinic",
        "社区卫生服务站": "clinic",
        "village_clinic": "clinic",
    },
}

_MAX_LISTED = 5

_T = TypeVar("_T", bound=pd.DataFrame)


def _warn(problems: list[str] | None, source: str, text: str) -> None:
    if problems is not None:
        problems.append(text)
    warnings.warn(f"{source}: {text}", DataQualityWarning, stacklevel=3)


def _rows(index: pd.Index | np.ndarray, ids: pd.Series | None = None) -> str:
    """Describe rows as 'data rows 3, 8 (id 'A', 'B')', 1-based, listing at most a few.

    ``index`` holds row labels of a frame indexed 0, 1, ... in file order (positions
    before any row was dropped); ``ids`` is looked up by those labels.
    """
    positions = list(index)
    shown = ", ".join(str(int(p) + 1) for p in positions[:_MAX_LISTED])
    more = f" and {len(positions) - _MAX_LISTED} more" if len(positions) > _MAX_LISTED else ""
    label = "data row" if len(positions) == 1 else "data rows"
    text = f"{label} {shown}{more}"
    if ids is not None:
        shown_ids = ", ".join(f"'{ids.loc[p]}'" for p in positions[:_MAX_LISTED])
        text += f" (id {shown_ids})"
    return text


def _fail(errors: list[str] | None, msg: str) -> None:
    """Raise ``msg`` as a ValidationError, or append it to ``errors`` when collecting."""
    if errors is None:
        raise ValidationError(msg)
    errors.append(msg)


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], source: str) -> None:
    have = [str(c) for c in frame.columns if c != "geometry" and not str(c).startswith("_src_")]
    for col in columns:
        if col in frame.columns:
            continue
        close = difflib.get_close_matches(col, have, n=1, cutoff=0.4)
        hint = f"; the closest is '{close[0]}'" if close else ""
        example = close[0] if close else "<your column>"
        msg = (
            f"{source}: required column '{col}' is missing (the file has: {', '.join(have)})"
            f"{hint}; map it under 'columns:' in region.yaml, e.g. columns: {{{example}: {col}}}"
        )
        raise ValidationError(msg)


def _check_ids(
    frame: _T, id_col: str, source: str, errors: list[str] | None = None
) -> _T:
    ids = frame[id_col]
    missing = (ids.isna() | (ids.astype(str).str.strip() == "")).to_numpy()
    if missing.any():
        rows = frame.index[missing]
        _fail(errors, f"{source}: column '{id_col}' is empty in {_rows(rows)}; give every "
              "row an id")
        frame = frame.loc[~missing]
        ids = frame[id_col]
    dup_mask = ids.duplicated(keep=False).to_numpy()
    if dup_mask.any():
        first = ids[dup_mask].iloc[0]
        rows = frame.index[(ids == first).to_numpy()]
        n_values = ids[dup_mask].nunique()
        more = f" ({n_values - 1} other id(s) repeat too)" if n_values > 1 else ""
        _fail(errors, (
            f"{source}: id '{first}' in column '{id_col}' repeats in {_rows(rows)}{more}; "
            "ids must be unique: fix the file or point 'id:' at a unique column"
        ))
        frame = frame.loc[~ids.duplicated(keep="first").to_numpy()]
    return frame


def _check_geometry(
    gdf: gpd.GeoDataFrame,
    allowed: tuple[str, ...],
    source: str,
    problems: list[str] | None,
    errors: list[str] | None = None,
) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        msg = (
            f"{source}: the layer has no CRS; add 'crs: EPSG:4490' (or the right code) "
            "to this layer in region.yaml"
        )
        raise CRSError(msg)
    geoms = gdf.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        _warn(
            problems,
            source,
            f"{int(empty.sum())} empty geometries dropped ({_rows(gdf.index[empty])})",
        )
        gdf = gdf.loc[~empty]
        geoms = gdf.geometry.values
    if len(gdf) == 0:
        msg = f"{source}: the layer has no features with a geometry; check the file and 'layer:'"
        raise ValidationError(msg)
    allowed_types = {t for kind in allowed for t in _GEOM_KINDS[kind]}
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        repaired = shapely.make_valid(geoms[invalid])
        if "polygon" in allowed and "line" not in allowed:
            repaired = np.array([_polygonal(g) for g in repaired], dtype=object)
        gdf = gdf.copy()
        gdf.loc[invalid, "geometry"] = repaired
        geoms = gdf.geometry.values
        _warn(
            problems,
            source,
            f"{int(invalid.sum())} invalid geometries repaired with make_valid "
            f"({_rows(gdf.index[invalid])})",
        )
    types = pd.Series(shapely.get_type_id(geoms)).map(
        dict(
            enumerate(
                (
                    "Point",
                    "LineString",
                    "LinearRing",
                    "Polygon",
                    "MultiPoint",
                    "MultiLineString",
                    "MultiPolygon",
                    "GeometryCollection",
                )
            )
        )
    )
    bad = ~types.isin(sorted(allowed_types)).to_numpy()
    if bad.any():
        found = ", ".join(sorted(set(types[bad].astype(str))))
        _fail(errors, (
            f"{source}: geometry type {found} is not allowed here ({_rows(gdf.index[bad])}); "
            f"this layer needs {' or '.join(allowed)} geometries"
        ))
        gdf, geoms, types = gdf.loc[~bad], geoms[~bad], types[~bad]
    # single-part multi-geometries become simple ones
    single = (shapely.get_num_geometries(geoms) == 1) & types.str.startswith("Multi").to_numpy()
    if single.any():
        gdf = gdf.copy()
        gdf.loc[single, "geometry"] = shapely.get_geometry(geoms[single], 0)
    return gdf


def _check_one_kind(gdf: gpd.GeoDataFrame, source: str) -> None:
    """Refuse a hazard layer that mixes zones (polygons) and hazard points (隐患点)."""
    points = np.isin(shapely.get_type_id(gdf.geometry.values), [0, 4])
    if points.any() and not points.all():
        msg = (
            f"{source}: the layer mixes points ({int(points.sum())}) and polygons "
            f"({int((~points).sum())}, {_rows(np.flatnonzero(~points))}); a hazard layer holds "
            "either zones or hazard points: split it into two layers"
        )
        raise ValidationError(msg)


def _polygonal(geom: Any) -> Any:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return geom
    return shapely.union_all(parts)


def _check_numeric(
    frame: _T,
    col: str,
    minimum: float,
    id_col: str,
    source: str,
    errors: list[str] | None = None,
) -> _T:
    values = frame[col]
    numbers = pd.to_numeric(values, errors="coerce")
    not_number = numbers.isna().to_numpy() & values.notna().to_numpy()
    if not_number.any():
        rows = frame.index[not_number]
        _fail(errors, (
            f"{source}: column '{col}' has non-numeric values such as '{values.loc[rows[0]]}' "
            f"in {_rows(rows, frame.get(id_col))}; use plain numbers"
        ))
    below = (numbers < minimum).to_numpy()
    if below.any():
        rows = frame.index[below]
        _fail(errors, (
            f"{source}: column '{col}' must be at least {minimum:g} but is "
            f"{numbers.loc[rows[0]]:g} in {_rows(rows, frame.get(id_col))}"
            "; fix the values"
        ))
    if not pd.api.types.is_numeric_dtype(values):
        frame = frame.copy()
        frame[col] = numbers
    return frame.loc[~(not_number | below)]


def _map_distinct(series: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """``series.map(func)`` (object values), calling ``func`` once per distinct text.

    A text column (:class:`pandas.StringDtype`) is factorized first: an area's road layer
    has a million rows and a handful of classes (issue #15: 4.3 s of calls for 2 columns
    of the 1M-edge area graph). Other columns, which may mix ``1``, ``1.0`` and ``True``
    (equal keys, different text), are mapped cell by cell.
    """
    if not isinstance(series.dtype, pd.StringDtype):
        return series.map(func).astype(object)
    codes, names = pd.factorize(series)  # missing cells: code -1, the appended last entry
    table = np.empty(len(names) + 1, dtype=object)
    table[:-1] = [func(v) for v in names]
    table[-1] = func(None)
    return pd.Series(table[codes], index=series.index, dtype=object)


def _check_domain(
    frame: _T,
    col: str,
    allowed: tuple[str, ...],
    id_col: str,
    source: str,
    errors: list[str] | None = None,
) -> _T:
    aliases = _ALIASES.get(col, {})
    lookup = {a.lower(): a for a in allowed}

    def norm(value: Any) -> Any:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        text = str(value).strip()
        return lookup.get(text.lower(), aliases.get(text, aliases.get(text.lower(), text)))

    values = _map_distinct(frame[col], norm)
    empty = values.isna().to_numpy()
    if empty.any():
        _fail(errors, (
            f"{source}: column '{col}' is empty in {_rows(frame.index[empty], frame[id_col])}; "
            f"use one of: {', '.join(allowed)}"
        ))
    unknown = ~values.isin(list(allowed)).to_numpy() & ~empty
    if unknown.any():
        rows = frame.index[unknown]
        bad = str(values.loc[rows[0]])
        close = difflib.get_close_matches(bad, list(allowed), n=1, cutoff=0.5)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        others = sorted({str(v) for v in values[unknown]} - {bad})
        also = f" (also {', '.join(repr(v) for v in others[:_MAX_LISTED])})" if others else ""
        _fail(errors, (
            f"{source}: unknown {col} '{bad}'{also} in {_rows(rows, frame[id_col])}{hint}; "
            f"allowed: {', '.join(allowed)}; recode the values"
        ))
    frame = frame.copy()
    frame[col] = values.astype(str)
    return frame.loc[~(empty | unknown)]


def _check_booleans(
    frame: _T, schema: RoleSchema, source: str, errors: list[str] | None = None
) -> _T:
    """Parse the role's yes/no columns (and flag-or-share columns) with the shared parser.

    When collecting ``errors``, cells that are not yes/no take the column's default.
    """
    from contigmap.booleans import parse_bool

    labels = (frame["_src_row"].astype(str).tolist() if "_src_row" in frame.columns
              else [f"data row {int(i) + 1}" for i in frame.index])

    def parse(values: pd.Series, col: str, default: bool) -> np.ndarray:
        try:
            return parse_bool(values, column=col, default=default, source=source, rows=labels)
        except ValidationError as err:
            _fail(errors, str(err))
        bad = {v for v in pd.unique(values) if not _parses(v, col)}
        cleaned = values.map(lambda v: None if v in bad else v)
        return parse_bool(cleaned, column=col, default=default, source=source, rows=labels)

    for col, default in schema.booleans.items():
        if col in frame.columns and not pd.api.types.is_bool_dtype(frame[col]):
            parsed = parse(frame[col], col, default)
            frame = frame.copy()
            frame[col] = parsed
    for col in schema.flag_or_share:
        if col not in frame.columns:
            continue
        numbers = pd.to_numeric(frame[col], errors="coerce")
        if numbers.notna().sum() == frame[col].notna().sum() and (
            numbers.dropna().between(0, 1).all()
        ):
            continue  # shares 0-1 (or 0/1 flags) as they are
        frame = frame.copy()
        frame[col] = parse(frame[col], col, False).astype(float)
    return frame


def _parses(value: Any, column: str) -> bool:
    from contigmap.booleans import parse_bool

    try:
        parse_bool(pd.Series([value], dtype=object), column=column)
    except ValidationError:
        return False
    return True


def check_layer(
    frame: gpd.GeoDataFrame | pd.DataFrame,
    *,
    role: str,
    source: str,
    problems: list[str] | None = None,
    errors: list[str] | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Check a layer against its role's schema and return a repaired copy.

    Checks: required columns (after renaming), ids present and unique, geometry
    present, non-empty, valid (repaired with :func:`shapely.make_valid`) and of an
    allowed type, numeric minimums (``pop >= 0``, ``members >= 1``), value domains
    (road classes, surfaces, service kinds; Chinese names such as 县道 or 硬化路面
    are translated), and yes/no columns (``bridge``, ``tunnel``, ``poor``, ``karst``:
    是/否, 有/无, Y/N, yes/no, true/false, 1/0 → bool, see :mod:`contigmap.booleans`).

    Parameters
    ----------
    frame
        The layer after :func:`contigmap.io.read.read_layer`'s renaming.
    role
        A key of :data:`contigmap.schema.ROLE_SCHEMAS`.
    source
        How to name the layer in messages.
    problems
        Non-fatal problems are appended here (and issued as DataQualityWarning).
    errors
        When given, row-level errors (empty or repeated ids, wrong geometry types,
        bad numbers, unknown domain values, bad yes/no values) are appended here
        instead of raised, and the check goes on (``contigmap validate`` lists them
        all): rows with empty ids, wrong geometry types, bad numbers or unknown values
        are left out, repeated ids keep their first row, and bad yes/no cells take the
        column's default. Missing columns and a missing CRS are still raised.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        The checked layer: empty geometries dropped, invalid ones repaired, domain
        values normalised, numeric columns as numbers; indexed 0, 1, ...

    Raises
    ------
    ValidationError
        A rule is broken; the message names the column, the rows and the fix.
    CRSError
        A spatial layer has no CRS.
    """
    schema = ROLE_SCHEMAS[role]
    frame = frame.reset_index(drop=True)
    _require_columns(frame, (schema.id_column, *schema.required), source)
    frame = _check_ids(frame, schema.id_column, source, errors)
    if schema.geometry and (isinstance(frame, gpd.GeoDataFrame) or not schema.table_ok):
        if not isinstance(frame, gpd.GeoDataFrame):
            kinds = " or ".join(schema.geometry)
            msg = f"{source}: the layer has no geometry; this role needs {kinds} geometries"
            raise ValidationError(msg)
        frame = _check_geometry(frame, schema.geometry, source, problems, errors)
        if "point" in schema.geometry and "polygon" in schema.geometry:
            _check_one_kind(frame, source)
    for col, minimum in schema.numeric_min.items():
        if col in frame.columns:
            frame = _check_numeric(frame, col, minimum, schema.id_column, source, errors)
    for col, allowed in schema.domains.items():
        if col in frame.columns:
            frame = _check_domain(frame, col, allowed, schema.id_column, source, errors)
    frame = _check_booleans(frame, schema, source, errors)
    if len(frame) == 0 and errors is not None:
        msg = f"{source}: no row is left once the rows with errors are left out"
        raise ValidationError(msg)
    return frame.reset_index(drop=True)


def check_coordinates(x: np.ndarray, y: np.ndarray, *, source: str, x_col: str, y_col: str) -> None:
    """Check longitude/latitude columns of a table: degrees, not swapped.

    China's longitudes are 73–135°E and its latitudes 18–54°N; a table whose
    ``x`` values fall in 18–54 and ``y`` values in 73–135 has them swapped.

    Raises
    ------
    CRSError
        The values are not degrees, or look swapped.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size == 0:
        return
    x_like_lat = (x >= 18) & (x <= 54)
    y_like_lon = (y >= 73) & (y <= 135)
    x_like_lon = (x >= 73) & (x <= 135)
    swapped = x_like_lat & y_like_lon
    if swapped.mean() > 0.5 and not x_like_lon.any():
        msg = (
            f"{source}: columns '{x_col}' (longitude) and '{y_col}' (latitude) look swapped: "
            f"'{x_col}' holds values {np.nanmin(x):.2f}–{np.nanmax(x):.2f}, like latitudes in "
            f"China; set 'x: {y_col}' and 'y: {x_col}' in region.yaml"
        )
        raise CRSError(msg)
    if (np.abs(x) > 180).any() or (np.abs(y) > 90).any():
        bad = np.flatnonzero((np.abs(x) > 180) | (np.abs(y) > 90))
        msg = (
            f"{source}: columns '{x_col}'/'{y_col}' hold values such as ({x[bad[0]]:g}, "
            f"{y[bad[0]]:g}) in {_rows(bad)} that are not longitude/latitude degrees; "
            "if they are projected coordinates, set 'crs:' (e.g. EPSG:4545) for this layer"
        )
        raise CRSError(msg)


def check_extent(
    gdf: gpd.GeoDataFrame,
    extent: np.ndarray,
    *,
    source: str,
    extent_name: str,
    table_xy: tuple[str, str] | None = None,
    problems: list[str] | None = None,
    margin_m: float = 5000.0,
) -> None:
    """Check that a layer lies in the region's extent (both in the working CRS).

    A layer entirely outside the extent, or a table's point outside it by more
    than ``margin_m``, is fatal; features of other layers outside it are a problem
    to report.

    Raises
    ------
    ValidationError
        The layer is entirely outside, or a table's points fall outside.
    """
    if len(gdf) == 0:
        return
    minx, miny, maxx, maxy = (float(v) for v in extent)
    margin = max(margin_m, 0.1 * max(maxx - minx, maxy - miny))
    box = shapely.box(minx - margin, miny - margin, maxx + margin, maxy + margin)
    inside = shapely.intersects(gdf.geometry.values, box)
    if not inside.any():
        lx0, ly0, lx1, ly1 = gdf.total_bounds
        msg = (
            f"{source}: the layer lies entirely outside {extent_name} (layer bounds "
            f"{lx0:.0f}, {ly0:.0f}, {lx1:.0f}, {ly1:.0f}; region {minx:.0f}, {miny:.0f}, "
            f"{maxx:.0f}, {maxy:.0f} in the working CRS); check its CRS, 'crs:' and 'datum:'"
        )
        raise ValidationError(msg)
    outside = np.flatnonzero(~inside)
    if outside.size == 0:
        return
    if table_xy is not None:
        msg = (
            f"{source}: coordinates in columns '{table_xy[0]}'/'{table_xy[1]}' fall outside "
            f"{extent_name} (by more than {margin / 1000:.1f} km) in {_rows(outside)}; "
            "correct them or remove the rows"
        )
        raise ValidationError(msg)
    _warn(
        problems,
        source,
        f"{outside.size} feature(s) lie outside {extent_name} ({_rows(outside)})",
    )


def check_raster(
    raster: Raster, extent: np.ndarray, *, source: str, problems: list[str] | None = None
) -> None:
    """Check that a raster (in the working CRS) has data and covers the region.

    Raises
    ------
    ValidationError
        The raster holds only nodata or lies entirely outside the region.
    """
    if not np.isfinite(raster.array).any():
        msg = f"{source}: the raster holds only nodata; check the file and its nodata value"
        raise ValidationError(msg)
    minx, miny, maxx, maxy = (float(v) for v in extent)
    rx0, ry0, rx1, ry1 = raster.bounds
    if rx1 < minx or rx0 > maxx or ry1 < miny or ry0 > maxy:
        msg = (
            f"{source}: the raster lies entirely outside the region; check its CRS "
            "(or 'crs:' in region.yaml)"
        )
        raise ValidationError(msg)
    tol_x, tol_y = raster.res
    if rx0 > minx + tol_x or ry0 > miny + tol_y or rx1 < maxx - tol_x or ry1 < maxy - tol_y:
        _warn(problems, source, "the raster does not cover the whole region")
