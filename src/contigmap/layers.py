"""Reading a region's layers into one working CRS, and writing outputs atomically.

Formats are chosen by file extension:

========================  ==============================================================
``.gpkg``                 GeoPackage (``layer:`` names the layer when there are several)
``.parquet .geoparquet``  GeoParquet (a Parquet file without geometry is a plain table)
``.shp``                  Shapefile (``encoding: gbk`` for Chinese files without ``.cpg``)
``.geojson .json``        GeoJSON
``.csv .txt .xlsx .xls``  Tables; longitude / latitude columns (``x:``, ``y:``, or names
                          such as ``lon``/``lat``/``经度``/``纬度``) make points in
                          ``crs:`` (default EPSG:4326); a table without them stays a table
``.tif .tiff .img .vrt``  Rasters (:func:`read_raster`)
========================  ==============================================================

Every reader applies the manifest's ``columns`` renaming, renames the ``id`` column to
the role's canonical id (see :data:`contigmap.schema.ROLE_SCHEMAS`), keeps ids and
code columns as text (12-digit village codes keep their leading zeros), assigns
``crs:`` when the file has none, and converts GCJ-02 to WGS84 when ``datum: gcj02``.
Input files are never modified.
"""

from __future__ import annotations

import logging
import re
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from contigmap import validate
from contigmap.config import LayerSpec, RegionConfig
from contigmap.crs import choose_working_crs, crs_kind, gcj02_to_wgs84, is_cgcs2000
from contigmap.errors import (
    ConfigError,
    ContigmapError,
    CRSError,
    DataQualityWarning,
    LayerError,
    ValidationError,
)
from contigmap.raster import Raster
from contigmap.schema import ROLE_SCHEMAS, role_key

__all__ = [
    "RASTER_SUFFIXES",
    "LayerReport",
    "RegionData",
    "atomic_path",
    "is_raster_path",
    "load_region_layers",
    "read_layer",
    "read_raster",
    "write_table",
    "write_vector",
]

logger = logging.getLogger(__name__)

_F = TypeVar("_F", pd.DataFrame, gpd.GeoDataFrame)

RASTER_SUFFIXES: frozenset[str] = frozenset({".tif", ".tiff", ".img", ".vrt", ".asc"})
_VECTOR_SUFFIXES = frozenset({".gpkg", ".parquet", ".geoparquet", ".shp", ".geojson", ".json"})
_TABLE_SUFFIXES = frozenset({".csv", ".txt", ".xlsx", ".xls"})

_X_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "东经")
_Y_NAMES = ("lat", "latitude", "y", "纬度", "北纬")
_CODE_NAME = re.compile(r"(^id$|_id$|^id_|code|代码|编码|编号)", re.IGNORECASE)

# roles whose ids are join keys: they must be in the file; other roles get row ids
_ID_REQUIRED = frozenset(
    {"villages", "village_areas", "hamlets", "households", "boundaries.townships"}
)


# --------------------------------------------------------------------------- reports


@dataclass
class LayerReport:
    """What was read for one layer, for ``contigmap validate``.

    Attributes
    ----------
    name
        Manifest key of the layer (``roads``, ``hazards.flood``).
    path
        The file read.
    kind
        ``vector``, ``table`` or ``raster``.
    features
        Number of features, rows or cells.
    crs_in
        The layer's CRS as read (after ``crs:`` and ``datum:``), as text.
    bounds
        (minx, miny, maxx, maxy) in the working CRS, once reprojected.
    problems
        Every non-fatal problem found (and, in non-strict loading, the fatal one).
    """

    name: str
    path: Path
    kind: Literal["vector", "table", "raster"] = "vector"
    features: int = 0
    crs_in: str | None = None
    bounds: tuple[float, float, float, float] | None = None
    problems: list[str] = field(default_factory=list)
    failed: bool = False


@dataclass
class RegionData:
    """All layers of a region, read, checked and reprojected to ``working_crs``.

    Grouped roles (``boundaries``, ``hazards``, ``ecology``, ``infrastructure``) are
    dicts keyed by the manifest's layer names. ``villages`` always holds points; when
    the manifest's villages are polygons, their representative points are used and
    the polygons become ``village_areas`` unless that layer is declared.
    """

    config: RegionConfig
    working_crs: CRS
    villages: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    village_areas: gpd.GeoDataFrame | None = None
    hamlets: gpd.GeoDataFrame | None = None
    services: gpd.GeoDataFrame | None = None
    rivers: gpd.GeoDataFrame | None = None
    boundaries: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    hazards: dict[str, gpd.GeoDataFrame | Raster] = field(default_factory=dict)
    ecology: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    infrastructure: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    households: pd.DataFrame | None = None
    dem: Raster | None = None
    reports: dict[str, LayerReport] = field(default_factory=dict)
    township_table: pd.DataFrame | None = None
    """Townships given as a table (``township_id``, ``name``) without boundaries."""

    @property
    def input_paths(self) -> list[Path]:
        """Every file read, for the run manifest (shapefile side-cars not included)."""
        return [r.path for r in self.reports.values()]


# --------------------------------------------------------------------------- helpers


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


def _ids_to_text(series: pd.Series) -> pd.Series:
    """Ids as text: integral floats lose their '.0', nothing gains or loses zeros."""
    if pd.api.types.is_float_dtype(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        finite = values[~np.isnan(values)]
        if finite.size and np.all(finite == np.round(finite)):
            series = series.astype("Int64")
    if pd.api.types.is_bool_dtype(series):
        return series
    out = series.astype("string").astype(str)
    return out.where(series.notna(), None) if series.isna().any() else out


def _infer_table_types(df: pd.DataFrame, keep_text: set[str]) -> pd.DataFrame:
    """Turn all-numeric text columns of a table into numbers, except ids and codes.

    A column stays text when it is in ``keep_text``, its name looks like an id or a
    code (``*_id``, ``code``, ``代码``, ``编码``), or a value has a leading zero.
    """
    out = df.copy()
    for col in out.columns:
        if col in keep_text or _CODE_NAME.search(str(col)):
            continue
        text = out[col].dropna().astype(str).str.strip()
        if text.empty or text.str.match(r"^[+-]?0\d").any():
            continue
        numbers = pd.to_numeric(text, errors="coerce")
        if numbers.notna().all():
            out[col] = pd.to_numeric(out[col].astype(str).str.strip(), errors="coerce")
            if out[col].isna().sum() != df[col].isna().sum():  # pragma: no cover - guard
                out[col] = df[col]
    return out


def _missing_column_message(
    source: str, missing: str, have: list[str], *, what: str = "column"
) -> str:
    import difflib

    close = difflib.get_close_matches(missing, [str(h) for h in have], n=1, cutoff=0.4)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return (
        f"{source}: {what} '{missing}' is not in the file (it has: {', '.join(map(str, have))})"
        f"{hint}; map the file's column to it under 'columns:' in region.yaml"
    )


def _apply_columns(df: _F, spec: LayerSpec, source: str, geometry_name: str | None) -> _F:
    have = [c for c in df.columns if c != geometry_name]
    for user_name in spec.columns:
        if user_name not in df.columns:
            import difflib

            close = difflib.get_close_matches(user_name, [str(h) for h in have], n=1, cutoff=0.4)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            msg = (
                f"{source}: column '{user_name}' listed under 'columns:' in region.yaml is not "
                f"in the file (it has: {', '.join(map(str, have))}){hint}"
            )
            raise ValidationError(msg)
    return df.rename(columns=dict(spec.columns)) if spec.columns else df


def _apply_id(df: _F, spec: LayerSpec, key: str, source: str) -> _F:
    schema = ROLE_SCHEMAS[key]
    canonical = schema.id_column
    if spec.id is not None:
        if spec.id not in df.columns:
            have = [c for c in df.columns if c != "geometry"]
            msg = _missing_column_message(source, spec.id, have, what="id column").replace(
                "map the file's column to it under 'columns:'", "fix 'id:'"
            )
            raise ValidationError(msg)
        if spec.id != canonical:
            if canonical in df.columns:
                df = df.drop(columns=[canonical])
            df = df.rename(columns={spec.id: canonical})
    elif canonical not in df.columns:
        if key in _ID_REQUIRED:
            have = [c for c in df.columns if c != "geometry"]
            msg = _missing_column_message(source, canonical, have, what="id column").replace(
                "map the file's column to it under 'columns:'",
                f"set 'id: <column>' (or map a column to '{canonical}' under 'columns:')",
            )
            raise ValidationError(msg)
        df = df.copy()
        df[canonical] = [str(i + 1) for i in range(len(df))]
    for col in df.columns:
        if col == canonical or (str(col).endswith("_id") and col != "geometry"):
            df[col] = _ids_to_text(df[col])
    return df


def _table_xy_columns(df: pd.DataFrame, spec: LayerSpec) -> tuple[str, str] | None:
    def find(explicit: str | None, names: tuple[str, ...], axis: str) -> str | None:
        if explicit is not None:
            if explicit in df.columns:
                return explicit
            renamed = spec.columns.get(explicit)
            if renamed is not None and renamed in df.columns:
                return renamed
            return None
        lower = {str(c).lower().strip(): c for c in df.columns}
        for name in names:
            if name in lower:
                return str(lower[name])
        return None

    x = find(spec.x, _X_NAMES, "x")
    y = find(spec.y, _Y_NAMES, "y")
    for explicit, found, axis in ((spec.x, x, "x"), (spec.y, y, "y")):
        if explicit is not None and found is None:
            msg = _missing_column_message("", explicit, list(df.columns)).lstrip(": ")
            msg = msg.replace("map the file's column to it under 'columns:'", f"fix '{axis}:'")
            raise ValidationError(msg)
    if x is None or y is None:
        return None
    return x, y


def _delimiter(path: Path) -> str:
    """Guess a text table's delimiter from its header line: comma, tab, semicolon or bar."""
    with path.open("rb") as handle:
        header = handle.readline()
    counts = {sep: header.count(sep.encode()) for sep in (",", "\t", ";", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _read_table_file(path: Path, spec: LayerSpec, source: str, problems: list[str]) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xls"):
            sheet: str | int = spec.layer if spec.layer is not None else 0
            return pd.read_excel(path, sheet_name=sheet, dtype=str)
        if spec.encoding is not None:
            return pd.read_csv(path, dtype=str, encoding=spec.encoding, sep=_delimiter(path))
        try:
            return pd.read_csv(path, dtype=str, encoding="utf-8-sig", sep=_delimiter(path))
        except UnicodeDecodeError:
            df = pd.read_csv(path, dtype=str, encoding="gb18030", sep=_delimiter(path))
            _note(problems, source, "not UTF-8; read as GB18030 (add 'encoding: gbk' to confirm)")
            return df
    except ValueError as err:
        if "Worksheet" in str(err) or "sheet" in str(err).lower():
            msg = f"{source}: {err}; fix 'layer:' (the sheet name) in region.yaml"
            raise LayerError(msg) from err
        msg = f"{source}: cannot read {path.name} as a table ({err})"
        raise LayerError(msg) from err
    except (OSError, UnicodeDecodeError, LookupError) as err:
        msg = f"{source}: cannot read {path.name} ({err}); check the file and 'encoding:'"
        raise LayerError(msg) from err


def _read_vector_file(
    path: Path, spec: LayerSpec, source: str, problems: list[str]
) -> pd.DataFrame:
    import pyogrio

    suffix = path.suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        try:
            return gpd.read_parquet(path)
        except ValueError as err:
            if "geo" not in str(err).lower():
                raise
            return pd.read_parquet(path)  # a plain table (households)
        except OSError as err:
            msg = f"{source}: cannot read {path.name} as (Geo)Parquet ({err})"
            raise LayerError(msg) from err
    kwargs: dict[str, Any] = {}
    try:
        layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except Exception as err:
        msg = f"{source}: cannot open {path.name} ({err}); is it a valid {suffix} file?"
        raise LayerError(msg) from err
    if spec.layer is not None:
        if spec.layer not in layers:
            msg = (
                f"{source}: no layer '{spec.layer}' in {path.name} (it has: {', '.join(layers)});"
                " fix 'layer:' in region.yaml"
            )
            raise LayerError(msg)
        kwargs["layer"] = spec.layer
    elif len(layers) > 1:
        msg = (
            f"{source}: {path.name} holds {len(layers)} layers ({', '.join(layers)}); "
            "say which with 'layer:' in region.yaml"
        )
        raise LayerError(msg)
    if spec.encoding is not None:
        kwargs["encoding"] = spec.encoding
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            df = pyogrio.read_dataframe(path, **kwargs)
    except (LookupError, UnicodeDecodeError) as err:
        msg = f"{source}: cannot decode text in {path.name} ({err}); check 'encoding:'"
        raise LayerError(msg) from err
    except Exception as err:
        msg = f"{source}: cannot read {path.name} ({err})"
        raise LayerError(msg) from err
    if (
        suffix == ".shp"
        and spec.encoding is None
        and not path.with_suffix(".cpg").exists()
        and not path.with_suffix(".CPG").exists()
        and _looks_like_mojibake(df)
    ):
        _note(
            problems,
            source,
            "text looks garbled (Chinese read as Latin-1); add 'encoding: gbk' to this layer",
        )
    return df


def _looks_like_mojibake(df: pd.DataFrame) -> bool:
    for col in df.columns:
        if col == "geometry" or not (
            pd.api.types.is_object_dtype(df[col]) or pd.api.types.is_string_dtype(df[col])
        ):
            continue
        text = "".join(str(v) for v in df[col].dropna().head(50))
        if re.search(r"[\u0080-\u00ff]{2,}", text) and not re.search(r"[\u4e00-\u9fff]", text):
            return True
    return False


def _gcj02_geoms_to_wgs84(geoms: Any) -> Any:
    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, convert)


def _read_vector_or_table(
    spec: LayerSpec, *, base_dir: Path, role: str, source: str, problems: list[str]
) -> tuple[gpd.GeoDataFrame | pd.DataFrame, str | None, bool]:
    """Read, rename, set ids and CRS, convert datum.

    Returns the frame, its CRS as text, and whether that CRS was stated by the file
    or the manifest (rather than assumed: tables default to EPSG:4326, GeoJSON is
    always WGS84); only stated CRSs vote on whether the data are CGCS2000.
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
    if suffix in _TABLE_SUFFIXES:
        raw = _read_table_file(path, spec, source, problems)
        raw.columns = [str(c).strip() for c in raw.columns]
        xy = None if not schema.geometry else _table_xy_columns(raw, spec)
        if xy is None and schema.geometry and not schema.table_ok:
            have = ", ".join(raw.columns)
            msg = (
                f"{source}: no coordinate columns found in {path.name} (it has: {have}); "
                "name them with 'x:' and 'y:' in region.yaml"
            )
            raise ValidationError(msg)
        keep = {c for c in (spec.id, *spec.columns) if c}
        table = _infer_table_types(raw, keep_text=keep | set(xy or ()))
        df = _apply_columns(table, spec, source, None)
        if xy is None:
            df = _apply_id(df, spec, role, source)
            return pd.DataFrame(df), None, False
        x_col, y_col = (spec.columns.get(c, c) for c in xy)
        x = pd.to_numeric(df[x_col], errors="coerce")
        y = pd.to_numeric(df[y_col], errors="coerce")
        bad = df.index[(x.isna() | y.isna()).to_numpy()]
        if len(bad):
            rows = ", ".join(str(int(i) + 1) for i in bad[:5])
            msg = (
                f"{source}: columns '{xy[0]}'/'{xy[1]}' of {path.name} have missing or "
                f"non-numeric coordinates in data row(s) {rows}; fill them in or drop the rows"
            )
            raise ValidationError(msg)
        crs = CRS.from_user_input(spec.crs or "EPSG:4326")
        if crs.is_geographic:
            validate.check_coordinates(
                x.to_numpy(float),
                y.to_numpy(float),
                source=source if path.name in source else f"{source} ({path.name})",
                x_col=xy[0],
                y_col=xy[1],
            )
        geometry = gpd.points_from_xy(x.to_numpy(float), y.to_numpy(float))
        gdf = gpd.GeoDataFrame(df.drop(columns=[x_col, y_col]), geometry=geometry, crs=crs)
        declared = spec.crs is not None
    else:
        if suffix not in _VECTOR_SUFFIXES:
            logger.info("%s: unusual extension %s; trying GDAL", source, suffix)
        frame = _read_vector_file(path, spec, source, problems)
        if not isinstance(frame, gpd.GeoDataFrame):
            if schema.geometry and not schema.table_ok:
                msg = f"{source}: {path.name} has no geometry; this role needs a spatial layer"
                raise ValidationError(msg)
            df = _apply_columns(frame, spec, source, None)
            return pd.DataFrame(_apply_id(df, spec, role, source)), None, False
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
        gdf = _apply_columns(gdf, spec, source, geom_name)
        if geom_name != "geometry":
            gdf = gdf.rename_geometry("geometry")
    gdf = _apply_id(gdf, spec, role, source)
    if spec.datum == "gcj02":
        if gdf.crs is None or not gdf.crs.is_geographic:
            msg = (
                f"{source}: 'datum: gcj02' needs longitude/latitude coordinates but the layer "
                f"is in {gdf.crs}; remove 'datum:' or give the lon/lat file"
            )
            raise CRSError(msg)
        gdf = gdf.set_geometry(_gcj02_geoms_to_wgs84(gdf.geometry.values))
        gdf = gdf.set_crs("EPSG:4326", allow_override=True)
        declared = False
        logger.info("%s: converted %d features from GCJ-02 to WGS84", source, len(gdf))
    crs_text = gdf.crs.to_string() if gdf.crs is not None else None
    return gdf, crs_text, declared


def read_layer(
    spec: LayerSpec, *, base_dir: Path, role: str, source: str, check: bool = True
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read one vector layer or table as declared in the region manifest.

    Parameters
    ----------
    spec
        The layer's manifest entry.
    base_dir
        Folder that relative paths start from (the manifest's folder).
    role
        A key of :data:`contigmap.schema.ROLE_SCHEMAS` (see :func:`contigmap.schema.role_key`).
    source
        How to name the layer in messages (for example ``"layers.roads"``).
    check
        Run :func:`contigmap.validate.check_layer` (required columns, ids, geometry,
        value domains); problems that are not fatal become
        :class:`~contigmap.errors.DataQualityWarning`.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        A GeoDataFrame in the file's CRS (WGS84 after a GCJ-02 conversion), or a
        DataFrame for a table without coordinates (households).

    Raises
    ------
    LayerError
        The file is missing or cannot be read.
    ValidationError
        A mapped or required column is absent, or the content breaks a rule.
    CRSError
        The layer has no CRS, or its coordinates do not fit it.
    """
    problems: list[str] = []
    frame, _, _ = _read_vector_or_table(
        spec, base_dir=base_dir, role=role, source=source, problems=problems
    )
    if check:
        frame = validate.check_layer(frame, role=role, source=source, problems=problems)
    return frame


# --------------------------------------------------------------------------- rasters


def read_raster(
    spec: LayerSpec,
    *,
    base_dir: Path,
    source: str,
    working_crs: CRS | None = None,
    resampling: Literal["bilinear", "nearest"] = "bilinear",
) -> Raster:
    """Read band 1 of a raster, nodata as ``nan``, optionally warped to ``working_crs``.

    Parameters
    ----------
    spec
        The layer's manifest entry (``crs:`` is used when the file has no CRS).
    base_dir
        Folder that relative paths start from.
    source
        How to name the layer in messages.
    working_crs
        When given, the raster is warped to it at about its native resolution
        (:func:`rasterio.warp.calculate_default_transform`).
    resampling
        ``bilinear`` (continuous values such as elevation) or ``nearest`` (classes).

    Returns
    -------
    Raster
        ``float64`` values with ``nan`` for nodata.
    """
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    path = _resolve(spec, base_dir, source)
    if spec.datum == "gcj02":
        msg = f"{source}: 'datum: gcj02' is supported for vector layers only; remove it"
        raise ConfigError(msg)
    try:
        with rasterio.open(path) as src:
            band = src.read(1, masked=True)
            array = np.asarray(band.astype("float64").filled(np.nan))
            if src.nodata is not None and np.isnan(src.nodata):
                array[np.isnan(array)] = np.nan
            transform = src.transform
            src_crs = CRS.from_user_input(src.crs) if src.crs is not None else None
    except RasterioIOError as err:
        msg = f"{source}: cannot read {path.name} as a raster ({err})"
        raise LayerError(msg) from err
    if src_crs is None:
        if spec.crs is None:
            msg = (
                f"{source}: {path.name} has no CRS; add 'crs: EPSG:4490' (or the right code) "
                "to this layer in region.yaml"
            )
            raise CRSError(msg)
        src_crs = CRS.from_user_input(spec.crs)
    if transform.is_identity:
        msg = f"{source}: {path.name} has no georeferencing (no transform); fix the file"
        raise CRSError(msg)
    name = source.split(" ")[0].rsplit(".", 1)[-1]
    if working_crs is None or src_crs.equals(working_crs):
        return Raster(array=array, transform=transform, crs=src_crs, name=name)
    rows, cols = array.shape
    left, top = transform @ (0, 0)
    right, bottom = transform @ (cols, rows)
    # rasterio's helpers still use affine's deprecated ``*``; not ours to fix
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        dst_transform, width, height = calculate_default_transform(
            src_crs,
            working_crs,
            cols,
            rows,
            left=min(left, right),
            bottom=min(top, bottom),
            right=max(left, right),
            top=max(top, bottom),
        )
        dst = np.full((int(height), int(width)), np.nan, dtype="float64")
        reproject(
            source=array,
            destination=dst,
            src_transform=transform,
            src_crs=src_crs,
            src_nodata=np.nan,
            dst_transform=dst_transform,
            dst_crs=working_crs,
            dst_nodata=np.nan,
            resampling=Resampling[resampling],
        )
    logger.debug("%s: warped %dx%d -> %dx%d", source, cols, rows, width, height)
    return Raster(array=dst, transform=dst_transform, crs=working_crs, name=name)


# --------------------------------------------------------------------------- region


def _layer_entries(region: RegionConfig) -> list[tuple[str, str, LayerSpec]]:
    """(manifest key, schema key, spec) of every declared layer, villages first."""
    layers = region.layers
    out: list[tuple[str, str, LayerSpec]] = [
        ("villages", "villages", layers.villages),
        ("roads", "roads", layers.roads),
    ]
    for role in ("village_areas", "hamlets", "services", "rivers", "households", "dem"):
        spec = getattr(layers, role, None)
        if spec is not None:
            out.append((role, role, spec))
    for group in ("boundaries", "hazards", "ecology", "infrastructure"):
        entries: dict[str, LayerSpec] = getattr(layers, group)
        for name, spec in entries.items():
            out.append((f"{group}.{name}", role_key(group, name), spec))
    return out


def _auto_working_crs(frames: dict[str, gpd.GeoDataFrame], crs_in: dict[str, CRS]) -> CRS:
    villages = frames["villages"]
    lonlat = villages.geometry.to_crs("EPSG:4326")
    minx, miny, maxx, maxy = lonlat.total_bounds
    lon, lat = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    flags = [is_cgcs2000(c) for c in crs_in.values()]
    votes = sum(flags)
    if flags and votes * 2 == len(flags) and "villages" in crs_in:
        cgcs = is_cgcs2000(crs_in["villages"])
    else:
        cgcs = votes * 2 >= len(flags) > 0
    return choose_working_crs(float(lon), float(lat), cgcs2000=cgcs)


def _explicit_working_crs(text: str) -> CRS:
    try:
        crs = CRS.from_user_input(text)
    except Exception as err:
        msg = f"region.yaml: working_crs '{text}' is not a CRS; use 'auto' or e.g. EPSG:4545"
        raise ConfigError(msg) from err
    if crs_kind(crs) != "projected_m":
        msg = (
            f"region.yaml: working_crs '{text}' is not projected in metres; use 'auto' "
            "or a projected CRS such as EPSG:4545 (CGCS2000 GK CM 108E) or EPSG:32649"
        )
        raise ConfigError(msg)
    return crs


def _region_extent(frames: dict[str, gpd.GeoDataFrame]) -> tuple[str, np.ndarray]:
    for key in ("boundaries.county", "boundaries.townships", "villages"):
        if key in frames and len(frames[key]):
            return key, np.asarray(frames[key].total_bounds, dtype=float)
    return "villages", np.asarray(frames["villages"].total_bounds, dtype=float)


def load_region_layers(
    region: RegionConfig, *, progress: bool = False, strict: bool = True
) -> RegionData:
    """Read, check and reproject every layer a region manifest declares.

    Parameters
    ----------
    region
        The validated manifest (:func:`contigmap.config.load_region`).
    progress
        Show a progress bar over layers.
    strict
        Stop at the first fatal problem (the default). With ``False`` a layer that
        fails is recorded in its :class:`LayerReport` (``failed=True``) and skipped,
        so that ``contigmap validate`` can list every problem; ``villages`` and
        ``roads`` must still load.

    Returns
    -------
    RegionData
        Every layer in the working CRS: from ``working_crs`` in the manifest, or
        chosen from the villages' centroid (UTM, or the CGCS2000 3-degree Gauss–Krüger
        zone when most vector inputs are CGCS2000).
    """
    from tqdm import tqdm

    base_dir = Path(region.base_dir)
    entries = _layer_entries(region)
    frames: dict[str, gpd.GeoDataFrame] = {}
    tables: dict[str, pd.DataFrame] = {}
    crs_in: dict[str, CRS] = {}
    reports: dict[str, LayerReport] = {}
    raster_entries: list[tuple[str, str, LayerSpec]] = []

    def fail(key: str, err: ContigmapError) -> None:
        if strict or key in ("villages", "roads"):
            raise err
        reports[key].failed = True
        reports[key].problems.append(f"ERROR: {err}")
        logger.error("%s", err)

    for key, schema_key, spec in tqdm(entries, desc="reading layers", disable=not progress):
        path = spec.path if spec.path.is_absolute() else base_dir / spec.path
        source = f"layers.{key} ({spec.path.name})"
        report = LayerReport(name=key, path=path)
        reports[key] = report
        if key == "dem" or (key.split(".")[0] == "hazards" and is_raster_path(spec.path)):
            report.kind = "raster"
            raster_entries.append((key, schema_key, spec))
            continue
        try:
            frame, crs_text, declared = _read_vector_or_table(
                spec, base_dir=base_dir, role=schema_key, source=source, problems=report.problems
            )
            frame = validate.check_layer(
                frame, role=schema_key, source=source, problems=report.problems
            )
        except ContigmapError as err:
            fail(key, err)
            continue
        report.features = len(frame)
        report.crs_in = crs_text
        if isinstance(frame, gpd.GeoDataFrame):
            frames[key] = frame
            if declared:
                crs_in[key] = frame.crs
        else:
            report.kind = "table"
            tables[key] = frame

    if region.working_crs.strip().lower() == "auto":
        working = _auto_working_crs(frames, crs_in)
    else:
        working = _explicit_working_crs(region.working_crs)
    logger.info("working CRS: %s", working.name)

    for key in list(frames):
        frames[key] = frames[key].to_crs(working)
        reports[key].bounds = tuple(float(v) for v in frames[key].total_bounds)  # type: ignore[assignment]

    extent_key, extent = _region_extent(frames)
    for key in list(frames):
        if key == extent_key:
            continue
        try:
            validate.check_extent(
                frames[key],
                extent,
                source=f"layers.{key} ({reports[key].path.name})",
                extent_name=f"layers.{extent_key}",
                table_xy=_table_xy_names(region, key),
                problems=reports[key].problems,
            )
        except ContigmapError as err:
            fail(key, err)
            frames.pop(key)

    rasters: dict[str, Raster] = {}
    for key, _, spec in raster_entries:
        try:
            resampling: Literal["bilinear", "nearest"] = "bilinear"
            raster = read_raster(
                spec,
                base_dir=base_dir,
                source=f"layers.{key} ({spec.path.name})",
                working_crs=working,
                resampling=resampling,
            )
            report = reports[key]
            report.features = int(np.isfinite(raster.array).sum())
            report.bounds = raster.bounds
            report.crs_in = _raster_crs_text(base_dir, spec)
            validate.check_raster(
                raster,
                extent,
                source=f"layers.{key} ({report.path.name})",
                problems=report.problems,
            )
        except ContigmapError as err:
            fail(key, err)
            continue
        rasters[key] = raster

    villages = frames["villages"]
    village_areas = frames.get("village_areas")
    if villages.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        if village_areas is None:
            village_areas = villages.copy()
        villages = villages.copy()
        villages["geometry"] = villages.geometry.representative_point()
        villages = villages.set_geometry("geometry")

    def group(prefix: str, source: dict[str, Any]) -> dict[str, Any]:
        return {k.split(".", 1)[1]: v for k, v in source.items() if k.startswith(prefix + ".")}

    hazards: dict[str, gpd.GeoDataFrame | Raster] = {**group("hazards", frames)}
    hazards.update(group("hazards", rasters))
    data = RegionData(
        config=region,
        working_crs=working,
        villages=villages,
        roads=frames["roads"],
        village_areas=village_areas,
        hamlets=frames.get("hamlets"),
        services=frames.get("services"),
        rivers=frames.get("rivers"),
        boundaries=group("boundaries", frames),
        hazards=hazards,
        ecology=group("ecology", frames),
        infrastructure=group("infrastructure", frames),
        households=tables.get("households"),
        dem=rasters.get("dem"),
        reports=reports,
        township_table=tables.get("boundaries.townships"),
    )
    logger.info(
        "read %d layers: %d villages, %d road features",
        len(reports),
        len(villages),
        len(data.roads),
    )
    return data


def _raster_crs_text(base_dir: Path, spec: LayerSpec) -> str | None:
    import rasterio

    path = spec.path if spec.path.is_absolute() else base_dir / spec.path
    with rasterio.open(path) as src:
        if src.crs is not None:
            return str(CRS.from_user_input(src.crs).to_string())
    return f"{spec.crs} (from region.yaml)" if spec.crs else None


def _table_xy_names(region: RegionConfig, key: str) -> tuple[str, str] | None:
    """Return the x/y column names of a table layer, to name in messages."""
    group, _, name = key.partition(".")
    spec: Any = getattr(region.layers, group, None)
    if isinstance(spec, dict):
        spec = spec.get(name)
    if spec is None or Path(spec.path).suffix.lower() not in _TABLE_SUFFIXES:
        return None
    return (spec.x or "x"), (spec.y or "y")


# --------------------------------------------------------------------------- writing


@contextmanager
def atomic_path(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``final``; rename it to ``final`` on success.

    The temporary file is in the same folder (so the rename is atomic on one file
    system) and keeps ``final``'s extension (so drivers chosen by extension work).
    On an exception the temporary file is deleted and ``final`` is left untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.stem}.tmp-{uuid.uuid4().hex[:8]}{final.suffix}")
    try:
        yield tmp
        if not tmp.exists():
            msg = f"nothing was written to {tmp} for {final}"
            raise LayerError(msg)
        tmp.replace(final)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_vector(gdf: gpd.GeoDataFrame, path: str | Path, layer: str | None = None) -> Path:
    """Write a GeoDataFrame atomically; the format follows the extension.

    ``.gpkg`` (GeoPackage, ``layer`` names the layer, default the file stem),
    ``.parquet``/``.geoparquet`` (GeoParquet), ``.geojson``/``.json`` (GeoJSON, always
    reprojected to EPSG:4326 as RFC 7946 requires), ``.csv`` (UTF-8 with BOM so Excel
    shows Chinese; points as ``x``/``y`` columns in the frame's CRS, other geometries
    as WKT in ``geometry``). Writing to an existing GeoPackage replaces the file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import pyogrio

    path = Path(path)
    suffix = path.suffix.lower()
    with atomic_path(path) as tmp:
        if suffix == ".gpkg":
            pyogrio.write_dataframe(gdf, tmp, layer=layer or path.stem, driver="GPKG")
        elif suffix in (".parquet", ".geoparquet"):
            gdf.to_parquet(tmp, index=False)
        elif suffix in (".geojson", ".json"):
            out = gdf.to_crs("EPSG:4326") if gdf.crs is not None else gdf
            pyogrio.write_dataframe(out, tmp, driver="GeoJSON")
        elif suffix == ".csv":
            table = pd.DataFrame(gdf.drop(columns=[gdf.geometry.name]))
            geoms = gdf.geometry
            if len(geoms) and geoms.geom_type.eq("Point").all():
                table["x"] = geoms.x.to_numpy()
                table["y"] = geoms.y.to_numpy()
            else:
                table["geometry"] = geoms.to_wkt().to_numpy()
            table.to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            msg = f"{path}: cannot write '{suffix}'; use .gpkg, .parquet, .geojson or .csv"
            raise LayerError(msg)
    logger.debug("wrote %d features to %s", len(gdf), path)
    return path


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table atomically: ``.csv`` (UTF-8 with BOM, for Excel) or ``.xlsx``.

    A geometry column, if any, is dropped.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    table = pd.DataFrame(df)
    if isinstance(df, gpd.GeoDataFrame):
        table = pd.DataFrame(df.drop(columns=[df.geometry.name]))
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            table.to_csv(tmp, index=False, encoding="utf-8-sig")
        elif suffix == ".xlsx":
            table.to_excel(tmp, index=False, engine="openpyxl")
        else:
            msg = f"{path}: cannot write '{suffix}' tables; use .csv or .xlsx"
            raise LayerError(msg)
    return path
