"""Reading one vector layer or table as the region manifest declares it.

Formats are chosen by file extension:

========================  ==============================================================
``.gpkg``                 GeoPackage (``layer:`` names the layer when there are several)
``.parquet .geoparquet``  GeoParquet (a Parquet file without geometry is a plain table)
``.shp``                  Shapefile (``encoding: gbk`` for Chinese files without ``.cpg``)
``.geojson .json``        GeoJSON
``.csv .txt .xlsx .xls``  Tables; longitude / latitude columns (``x:``, ``y:``, or names
                          such as ``lon``/``lat``/``经度``/``纬度``) make points in
                          ``crs:`` (default EPSG:4326); a table without them stays a table
``.tif .tiff .img .vrt``  Rasters (:func:`contigmap.io.rasters.read_raster`)
========================  ==============================================================

Every reader applies the manifest's ``columns`` renaming, renames the ``id`` column to
the role's canonical id (see :data:`contigmap.schema.ROLE_SCHEMAS`), keeps ids and
code columns as text (12-digit village codes keep their leading zeros), assigns
``crs:`` when the file has none, and converts GCJ-02 / BD-09 to WGS84
when ``datum: gcj02`` / ``bd09``.
Input files are never modified.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from contigmap.config import LayerSpec
from contigmap.errors import ConfigError, CRSError, LayerError, ValidationError
from contigmap.io import checks
from contigmap.io._common import (
    _ROW,
    _SRC_X,
    _SRC_Y,
    _TABLE_SUFFIXES,
    _VECTOR_SUFFIXES,
    RASTER_SUFFIXES,
    _drop_private,
    _list_rows,
    _note,
    _public,
    _resolve,
)
from contigmap.io.recode import (
    _apply_classes,
    _apply_columns,
    _apply_filter,
    _apply_id,
    _explode_kinds,
    _Part,
    _parts,
    _recode,
)
from contigmap.io.tables import (
    _infer_table_types,
    _read_table_file,
    _table_xy_columns,
    coordinate_values,
    drop_subtotal_rows,
)
from contigmap.io.vectors import _drop_zero_length, _read_vector_file, _web_geoms_to_wgs84
from contigmap.schema import HAZARD_POINT_RADIUS_M, ROLE_SCHEMAS

logger = logging.getLogger(__name__)


def _check_swapped_degrees(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    labels: Any,
    *,
    source: str,
    xy: tuple[str, str],
) -> None:
    """Rows whose x/y are not degrees but y/x are: longitude and latitude swapped."""
    invalid = (np.abs(x) > 180) | (np.abs(y) > 90)
    swapped = invalid & (np.abs(y) <= 180) & (np.abs(x) <= 90)
    if swapped.any():
        raise CRSError(_swapped_message(source, xy, np.asarray(labels)[swapped], len(x)))


def _swapped_message(source: str, xy: tuple[str, str], labels: Any, n_rows: int) -> str:
    labels = list(labels)
    if len(labels) == n_rows:
        return (
            f"{source}: columns '{xy[0]}' (longitude) and '{xy[1]}' (latitude) look swapped: "
            f"every row looks swapped (lat, lon); set 'x: {xy[1]}' and 'y: {xy[0]}' in "
            "region.yaml"
        )
    rows = _list_rows(labels)
    verb = "looks" if len(labels) == 1 else "look"
    return (
        f"{source}: {rows} {verb} swapped (lat, lon): swapping '{xy[0]}' and '{xy[1]}' puts "
        f"{'it' if len(labels) == 1 else 'them'} inside the region; swap the two values in "
        f"the file (or, if a whole column is swapped, set x:/y: in region.yaml)"
    )


def _row_labels(index: pd.Index, prefix: str) -> pd.Series | list[str]:
    """``<prefix>row 2``, ``row 3``, ...: the file's row numbers (the header is row 1).

    Made as one string column (a list of 140 000 f-strings took 4x longer); an empty
    table gets the empty list, whose column pandas types as before.
    """
    if not len(index):
        return []
    return f"{prefix}row " + pd.Series(np.arange(2, len(index) + 2), index=index).astype(str)


def _read_table_part(
    path: Path,
    spec: LayerSpec,
    part: _Part,
    *,
    role: str,
    source: str,
    problems: list[str],
    strict: bool,
) -> tuple[pd.DataFrame, tuple[str, str] | None]:
    """Read one sheet (or the file): rows selected and renamed, coordinates as numbers."""
    schema = ROLE_SCHEMAS[role]
    raw = _read_table_file(path, spec, source, problems, sheet_name=part.sheet)
    raw.columns = [str(c).strip() for c in raw.columns]
    where = path.name + (f", sheet '{part.sheet}'" if part.sheet else "")
    prefix = f"sheet '{part.sheet}' " if part.sheet else ""
    if _ROW not in raw.columns:  # header_row: the reader numbered the sheet's rows
        raw[_ROW] = _row_labels(raw.index, prefix)
    xy = None if not schema.geometry else _table_xy_columns(raw, part, source)
    if xy is None and schema.geometry and not schema.table_ok:
        msg = (
            f"{source}: no coordinate columns found in {where} (it has: "
            f"{', '.join(_public(raw.columns))}); name them with 'x:' and 'y:' in region.yaml"
        )
        raise ValidationError(msg)
    raw = _apply_filter(raw, part, source, problems)
    raw = _apply_classes(raw, spec, part, role, source)
    keep = {c for c in (spec.id, *part.columns) if c}
    table = _infer_table_types(raw, keep_text=keep | set(xy or ()) | {_ROW})
    df = _apply_columns(table, part.columns, source, None, optional=part.optional)
    df = drop_subtotal_rows(df, spec, spec.id or schema.id_column, source, problems)
    df = _recode(df, part, source)
    if xy is None:
        return pd.DataFrame(df), None
    x_col, y_col = (part.columns.get(c, c) for c in xy)
    labels = df[_ROW].to_numpy()
    named = source if path.name in source else f"{source} ({path.name})"
    x = coordinate_values(df[x_col], column=xy[0], rows=labels, where=named)
    y = coordinate_values(df[y_col], column=xy[1], rows=labels, where=named)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        text = (
            f"{int(bad.sum())} row(s) of {where} have missing or non-numeric coordinates in "
            f"columns '{xy[0]}'/'{xy[1]}' ({_list_rows(df[_ROW].to_numpy()[bad])})"
        )
        if strict:
            msg = f"{source}: {text}; fill them in or remove the rows (strict mode)"
            raise ValidationError(msg)
        _note(problems, source, f"{text}; these rows are left out")
        df, x, y = df.loc[~bad], x[~bad], y[~bad]
    df = pd.DataFrame(df.drop(columns=list({x_col, y_col})))
    df[_SRC_X] = x
    df[_SRC_Y] = y
    return df, xy


def _read_vector_or_table(
    spec: LayerSpec,
    *,
    base_dir: Path,
    role: str,
    source: str,
    problems: list[str],
    strict: bool = False,
) -> tuple[gpd.GeoDataFrame | pd.DataFrame, str | None, bool]:
    """Read, select rows, rename, recode, set ids and CRS, convert datum.

    Returns the frame, its CRS as text, and whether that CRS was stated by the file
    or the manifest (rather than assumed: tables default to EPSG:4326, GeoJSON is
    always WGS84); only stated CRSs vote on whether the data are CGCS2000. The frame
    still holds the private columns ``_src_row`` (and, for tables, ``_src_x`` /
    ``_src_y``); :func:`~contigmap.io._common._drop_private` removes them.
    """
    if role not in ROLE_SCHEMAS:
        msg = f"unknown role '{role}'; expected one of {', '.join(ROLE_SCHEMAS)}"
        raise ValueError(msg)
    schema = ROLE_SCHEMAS[role]
    path = _resolve(spec, base_dir, source)
    suffix = path.suffix.lower()
    if suffix in RASTER_SUFFIXES:
        msg = f"{source}: {path.name} is a raster; this role needs a vector layer or table"
        raise LayerError(msg)
    parts = _parts(spec, path, source)
    if suffix in _TABLE_SUFFIXES:
        frame, declared = _table_layer(path, spec, parts, role=role, source=source,
                                       problems=problems, strict=strict)
    else:
        frame, declared = _vector_layer(path, spec, parts[0], role=role, source=source,
                                        problems=problems)
    if not isinstance(frame, gpd.GeoDataFrame):
        return pd.DataFrame(_apply_id(frame, spec, role, source)), None, False
    gdf = _apply_id(frame, spec, role, source)
    if "kind" in schema.domains:
        gdf = _explode_kinds(gdf, schema.id_column)
    if spec.datum in ("gcj02", "bd09"):
        gdf = _from_web_datum(gdf, spec.datum, source)
        declared = False
    gdf = _hazard_radius(gdf, spec, role, source, problems)
    crs_text = gdf.crs.to_string() if gdf.crs is not None else None
    return gdf, crs_text, declared


def _table_layer(
    path: Path,
    spec: LayerSpec,
    parts: list[_Part],
    *,
    role: str,
    source: str,
    problems: list[str],
    strict: bool,
) -> tuple[pd.DataFrame | gpd.GeoDataFrame, bool]:
    """Read every part of a table; points in ``crs:`` (default EPSG:4326) when it has x/y.

    Returns the frame and whether its CRS was stated (``crs:``).
    """
    pieces = [
        _read_table_part(path, spec, part, role=role, source=source, problems=problems,
                         strict=strict)
        for part in parts
    ]
    df = pd.concat([p for p, _ in pieces], ignore_index=True) if len(pieces) > 1 \
        else pieces[0][0].reset_index(drop=True)
    xy = pieces[0][1]
    if xy is None:
        return df, False
    x = df[_SRC_X].to_numpy(dtype=float)
    y = df[_SRC_Y].to_numpy(dtype=float)
    crs = CRS.from_user_input(spec.crs or "EPSG:4326")
    if crs.is_geographic:
        named = source if path.name in source else f"{source} ({path.name})"
        _check_swapped_degrees(x, y, df[_ROW].to_numpy(), source=named, xy=xy)
        checks.check_coordinates(x, y, source=named, x_col=xy[0], y_col=xy[1])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y), crs=crs)
    return gdf, spec.crs is not None


def _vector_layer(
    path: Path,
    spec: LayerSpec,
    part: _Part,
    *,
    role: str,
    source: str,
    problems: list[str],
) -> tuple[pd.DataFrame | gpd.GeoDataFrame, bool]:
    """Read a vector file: rows selected, renamed, recoded, its CRS settled.

    Returns the frame (a plain table for a file without geometry) and whether its CRS
    was stated by the file or the manifest.
    """
    schema = ROLE_SCHEMAS[role]
    suffix = path.suffix.lower()
    if suffix not in _VECTOR_SUFFIXES:
        logger.info("%s: unusual extension %s; trying GDAL", source, suffix)
    frame = _read_vector_file(path, spec, source, problems)
    frame[_ROW] = [f"feature {i + 1}" for i in range(len(frame))]
    frame = _apply_classes(_apply_filter(frame, part, source, problems), spec, part, role,
                           source)
    if not isinstance(frame, gpd.GeoDataFrame):
        if schema.geometry and not schema.table_ok:
            msg = f"{source}: {path.name} has no geometry; this role needs a spatial layer"
            raise ValidationError(msg)
        df = _recode(_apply_columns(frame, part.columns, source, None), part, source)
        return df.reset_index(drop=True), False
    gdf = frame
    # GeoJSON is WGS84 by definition (RFC 7946): it says nothing about the data's datum
    declared = spec.crs is not None or (
        gdf.crs is not None and suffix not in (".geojson", ".json")
    )
    if gdf.crs is None:
        if spec.crs is None:
            msg = (
                f"{source}: {path.name} has no CRS; add 'crs: EPSG:4490' (or the right "
                "code) to this layer in region.yaml"
            )
            raise CRSError(msg)
        gdf = gdf.set_crs(spec.crs)
    elif spec.crs is not None and not gdf.crs.equals(CRS.from_user_input(spec.crs)):
        _note(
            problems,
            source,
            f"file says CRS {gdf.crs.to_string()} but region.yaml says {spec.crs}; "
            "using the file's CRS (remove 'crs:' or fix the file)",
        )
    geom_name = gdf.geometry.name
    gdf = _recode(_apply_columns(gdf, part.columns, source, geom_name), part, source)
    if geom_name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    if "line" in schema.geometry:
        gdf = _drop_zero_length(gdf, source, problems)
    return gdf.reset_index(drop=True), declared


def _from_web_datum(gdf: gpd.GeoDataFrame, datum: str, source: str) -> gpd.GeoDataFrame:
    """Convert a layer declared ``datum: gcj02`` or ``bd09`` (longitude/latitude) to WGS84."""
    if gdf.crs is None or not gdf.crs.is_geographic:
        msg = (
            f"{source}: 'datum: {datum}' needs longitude/latitude coordinates but the layer "
            f"is in {gdf.crs}; remove 'datum:' or give the lon/lat file"
        )
        raise CRSError(msg)
    gdf = gdf.set_geometry(_web_geoms_to_wgs84(gdf.geometry.values, datum))
    gdf = gdf.set_crs("EPSG:4326", allow_override=True)
    logger.info("%s: converted %d features from %s to WGS84", source, len(gdf), datum)
    return gdf


HAZARD_RADIUS_COLUMN = "hazard_radius_m"
"""Column a hazard point layer carries its search radius in (``radius_m:``, metres)."""


def _hazard_radius(
    gdf: gpd.GeoDataFrame, spec: LayerSpec, role: str, source: str, problems: list[str]
) -> gpd.GeoDataFrame:
    """Give a hazard point layer its search radius column; refuse ``radius_m:`` elsewhere."""
    if role != "hazards":
        if spec.radius_m is not None:
            msg = f"{source}: 'radius_m:' is for hazard point layers only; remove it"
            raise ConfigError(msg)
        return gdf
    geoms = gdf.geometry.values
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = shapely.get_type_id(geoms[present])
    if len(types) and np.isin(types, [0, 4]).all():  # Point, MultiPoint
        out = gdf.copy()
        out[HAZARD_RADIUS_COLUMN] = float(spec.radius_m or HAZARD_POINT_RADIUS_M)
        return out
    if spec.radius_m is not None:
        _note(problems, source, "'radius_m:' is for hazard point layers; this layer is not "
              "points, so it is ignored")
    return gdf


def read_layer(
    spec: LayerSpec,
    *,
    base_dir: Path,
    role: str,
    source: str,
    check: bool = True,
    strict: bool = False,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read one vector layer or table as declared in the region manifest.

    Parameters
    ----------
    spec
        The layer's manifest entry (``filter:``, ``class:``, ``values:``, ``set:`` and
        ``sheets:`` are applied, see :mod:`contigmap.config`).
    base_dir
        Folder that relative paths start from (the manifest's folder).
    role
        A key of :data:`contigmap.schema.ROLE_SCHEMAS` (see :func:`contigmap.schema.role_key`).
    source
        How to name the layer in messages (for example ``"layers.roads"``).
    check
        Run :func:`contigmap.io.checks.check_layer` (required columns, ids, geometry,
        value domains, yes/no columns); problems that are not fatal become
        :class:`~contigmap.errors.DataQualityWarning`.
    strict
        Table rows with missing or non-numeric coordinates are an error instead of
        being left out with a warning.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        A GeoDataFrame in the file's CRS (WGS84 after a GCJ-02 conversion), or a
        DataFrame for a table without coordinates (households).

    Raises
    ------
    LayerError
        The file is missing or cannot be read.
    ConfigError
        ``filter:``, ``class:``, ``values:`` or ``sheets:`` do not fit the file.
    ValidationError
        A mapped or required column is absent, or the content breaks a rule.
    CRSError
        The layer has no CRS, or its coordinates do not fit it (or look swapped).
    """
    problems: list[str] = []
    frame, _, _ = _read_vector_or_table(
        spec, base_dir=base_dir, role=role, source=source, problems=problems, strict=strict
    )
    if check:
        frame = checks.check_layer(frame, role=role, source=source, problems=problems)
    return _drop_private(frame)
