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
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from openpyxl.utils.exceptions import InvalidFileException
from pyproj import CRS

from contigmap import validate
from contigmap.config import LayerSpec, RegionConfig, SheetSpec
from contigmap.crs import choose_working_crs, crs_kind, gcj02_to_wgs84, is_cgcs2000
from contigmap.errors import (
    ConfigError,
    ContigmapError,
    CRSError,
    DataQualityWarning,
    LayerError,
    ValidationError,
)
from contigmap.raster import Raster, undeclared_nodata
from contigmap.schema import HAZARD_POINT_RADIUS_M, ROLE_SCHEMAS, role_key
from contigmap.writers import fixed_gdal_date, write_csv, write_xlsx

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


def _apply_columns(
    df: _F,
    columns: dict[str, str],
    source: str,
    geometry_name: str | None,
    *,
    optional: frozenset[str] = frozenset(),
) -> _F:
    have = [c for c in _public(df.columns) if c != geometry_name]
    for user_name in columns:
        if user_name not in df.columns and user_name not in optional:
            import difflib

            close = difflib.get_close_matches(user_name, [str(h) for h in have], n=1, cutoff=0.4)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            msg = (
                f"{source}: column '{user_name}' listed under 'columns:' in region.yaml is not "
                f"in the file (it has: {', '.join(map(str, have))}){hint}"
            )
            raise ValidationError(msg)
    mapping = {k: v for k, v in columns.items() if k in df.columns}
    return df.rename(columns=mapping) if mapping else df


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


def _table_xy_columns(df: pd.DataFrame, spec: _Part) -> tuple[str, str] | None:
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
            msg = _missing_column_message("", explicit, _public(df.columns)).lstrip(": ")
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


def _read_table_file(
    path: Path, spec: LayerSpec, source: str, problems: list[str], sheet_name: str | None = None
) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xls"):
            sheet: str | int = sheet_name if sheet_name is not None else 0
            try:
                return pd.read_excel(path, sheet_name=sheet, dtype=str)
            except ValueError as err:
                if sheet_name is None or "not found" not in str(err):
                    raise
                with pd.ExcelFile(path) as book:
                    names = book.sheet_names
                key = "sheets:" if spec.sheets else "layer:"
                msg = (
                    f"{source}: no sheet '{sheet_name}' in {path.name} (it has: "
                    f"{', '.join(map(str, names))}); fix '{key}' in region.yaml"
                )
                raise LayerError(msg) from err
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
    except ImportError as err:  # a reader for this format is not installed (e.g. legacy .xls)
        msg = (f"{source}: cannot read {path.name}: {err}; save it as .xlsx or CSV UTF-8 "
               "in Excel or WPS")
        raise LayerError(msg) from err
    except (zipfile.BadZipFile, KeyError, InvalidFileException) as err:
        msg = (f"{source}: {path.name} is not a readable Excel workbook ({type(err).__name__}: "
               f"{err}); open it in Excel or WPS and save it again as .xlsx")
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


# --------------------------------------------------------------------------- row selection

_ROW = "_src_row"
"""Private column: how messages name a row (``row 5``, ``sheet '学校' row 5``, ``feature 3``)."""
_SRC_X, _SRC_Y = "_src_x", "_src_y"
"""Private columns of table layers: the coordinates as read, for the swapped-row check."""
_PRIVATE = (_ROW, _SRC_X, _SRC_Y)
_KIND_SPLIT = re.compile(r"\s*[;；、|]\s*")
_MAX_LISTED = 5


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


@dataclass(frozen=True)
class _Part:
    """One sheet of a workbook (or the whole file) with its effective settings."""

    sheet: str | None
    columns: dict[str, str]
    optional: frozenset[str]
    filter: dict[str, list[Any]]
    values: dict[str, dict[str, Any]]
    set_: dict[str, Any]
    x: str | None
    y: str | None


def _parts(spec: LayerSpec, path: Path, source: str) -> list[_Part]:
    """List the sheets to read, each with the layer's settings merged with its own."""
    if not spec.sheets:
        return [
            _Part(spec.layer, dict(spec.columns), frozenset(), dict(spec.filter),
                  dict(spec.values), dict(spec.set_), spec.x, spec.y)
        ]
    if path.suffix.lower() not in (".xlsx", ".xls"):
        msg = f"{source}: 'sheets:' is for workbooks (.xlsx, .xls), not {path.name}; remove it"
        raise ConfigError(msg)
    if spec.layer is not None:
        msg = f"{source}: give either 'layer:' (one sheet) or 'sheets:' (several), not both"
        raise ConfigError(msg)
    out: list[_Part] = []
    for name, sheet in spec.sheets.items():
        sh = sheet or SheetSpec()
        values = {
            col: {**spec.values.get(col, {}), **sh.values.get(col, {})}
            for col in (*spec.values, *(c for c in sh.values if c not in spec.values))
        }
        out.append(
            _Part(
                name,
                {**spec.columns, **sh.columns},
                frozenset(k for k in spec.columns if k not in sh.columns),
                {**spec.filter, **sh.filter},
                values,
                {**spec.set_, **sh.set_},
                sh.x or spec.x,
                sh.y or spec.y,
            )
        )
    return out


def _file_column(df: pd.DataFrame, name: str, part: _Part, source: str, key: str) -> str:
    """Find the file's column that ``filter:`` / ``class:`` name (or that maps to it)."""
    if name in df.columns:
        return name
    for user, canonical in part.columns.items():
        if canonical == name and user in df.columns:
            return user
    import difflib

    have = _public(df.columns)
    close = difflib.get_close_matches(name, have, n=1, cutoff=0.3)
    hint = f"; the closest is '{close[0]}'" if close else ""
    msg = (
        f"{source}: '{key}:' names column '{name}', which is not in the file (it has: "
        f"{', '.join(have)}){hint}; '{key}:' uses the file's own column names"
    )
    raise ConfigError(msg)


def _apply_filter(df: _F, part: _Part, source: str, problems: list[str]) -> _F:
    if not part.filter:
        return df
    keep = np.ones(len(df), dtype=bool)
    for name, allowed in part.filter.items():
        col = _file_column(df, name, part, source, "filter")
        wanted = {_cell_text(v) for v in allowed}
        keep &= np.array([_cell_text(v) in wanted for v in df[col]], dtype=bool)
    where = f" of sheet '{part.sheet}'" if part.sheet else ""
    logger.info("%s: 'filter:' keeps %d of %d rows%s", source, int(keep.sum()), len(df), where)
    if len(df) and not keep.any():
        _note(problems, source, f"'filter:' keeps none of the {len(df)} rows{where}; check it")
    return df.loc[keep]


def _apply_classes(df: _F, spec: LayerSpec, part: _Part, role: str, source: str) -> _F:
    classes = spec.class_
    if classes is None:
        return df
    if role != "hazards":
        msg = (f"{source}: 'class:' is for hazard layers only (hazard polygon layers or "
               "hazard points); remove it (or use 'filter:')")
        raise ConfigError(msg)
    col = _file_column(df, classes.column, part, source, "class")
    weights = {_cell_text(k): float(w) for k, w in classes.weights.items()}
    text = [_cell_text(v) for v in df[col]]
    unknown = np.array([t not in weights for t in text], dtype=bool)
    if unknown.any():
        values = list(dict.fromkeys(str(t) if t is not None else "(blank)"
                                    for t, u in zip(text, unknown, strict=True) if u))
        msg = (
            f"{source}: column '{col}' holds class(es) {', '.join(repr(v) for v in values[:5])} "
            f"in {_list_rows(df[_ROW].to_numpy()[unknown])} that 'class: weights:' does not "
            f"list (it lists: {', '.join(map(str, weights))}); add them with a weight (0 drops "
            "them) or remove the rows"
        )
        raise ValidationError(msg)
    out = df.copy()
    out["hazard_weight"] = np.array([weights[t] for t in text], dtype=float)
    dropped = int((out["hazard_weight"] <= 0).sum())
    if dropped:
        logger.info("%s: %d feature(s) of class weight 0 dropped", source, dropped)
    return out.loc[out["hazard_weight"] > 0]


def _recode(df: _F, part: _Part, source: str) -> _F:
    """Apply ``values:`` (recoding, after renaming) and ``set:`` (constant columns)."""
    if not part.values and not part.set_:
        return df
    import difflib

    df = df.copy()
    for col, mapping in part.values.items():
        if col not in df.columns:
            have = _public(df.columns)
            close = difflib.get_close_matches(col, have, n=1, cutoff=0.4)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            msg = (
                f"{source}: 'values:' recodes column '{col}', which the layer does not have "
                f"after 'columns:' renaming (it has: {', '.join(have)}){hint}; 'values:' uses "
                "contigmap's column names"
            )
            raise ConfigError(msg)
        lookup: dict[str | None, Any] = {}
        for key, value in mapping.items():
            if isinstance(value, list):
                if col != "kind":
                    msg = (
                        f"{source}: 'values: {col}:' maps '{key}' to a list; only 'kind' "
                        "can hold several values"
                    )
                    raise ConfigError(msg)
                value = ";".join(str(v) for v in value)
            lookup[_cell_text(key)] = value
        cells = [lookup.get(_cell_text(v), v) for v in df[col]]
        df[col] = pd.Series(cells, index=df.index, dtype=object)
    for col, value in part.set_.items():
        df[col] = pd.Series([value] * len(df), index=df.index, dtype=object)
    return df


def _explode_kinds(df: _F, id_col: str) -> _F:
    """Make one row per kind where a service row lists several (``county_seat;township_seat``).

    The copies keep the row's point and get ids ``<id>#<kind>``.
    """
    if "kind" not in df.columns or len(df) == 0:
        return df
    parts = [
        [p for p in _KIND_SPLIT.split(v.strip()) if p] if isinstance(v, str) else [v]
        for v in df["kind"]
    ]
    parts = [p if p else [v] for p, v in zip(parts, df["kind"], strict=True)]
    counts = np.array([len(p) for p in parts])
    if (counts == 1).all():
        return df
    rep = np.repeat(np.arange(len(df)), counts)
    out = df.iloc[rep].copy()
    kinds = [k for p in parts for k in p]
    out["kind"] = pd.Series(kinds, index=out.index, dtype=object)
    multi = counts[rep] > 1
    ids = out[id_col].astype(str).to_numpy(dtype=object)
    tagged = [f"{i}#{str(k).strip()}" for i, k in zip(ids, kinds, strict=True)]
    out[id_col] = np.where(multi, tagged, ids)
    logger.info("services: %d row(s) with several kinds became %d services",
                int((counts > 1).sum()), int(counts[counts > 1].sum()))
    return out.reset_index(drop=True)


def _drop_zero_length(
    gdf: gpd.GeoDataFrame, source: str, problems: list[str]
) -> gpd.GeoDataFrame:
    """Drop lines of zero length (all vertices at one place), with a warning."""
    geoms = gdf.geometry.values
    is_line = np.isin(shapely.get_type_id(geoms), [1, 2, 5])  # LineString, LinearRing, Multi
    zero = is_line & ~shapely.is_empty(geoms) & (shapely.length(geoms) == 0)
    if not zero.any():
        return gdf
    _note(
        problems,
        source,
        f"{int(zero.sum())} zero-length line(s) dropped ({_list_rows(gdf[_ROW].to_numpy()[zero])})"
        "; every vertex is at one place",
    )
    return gdf.loc[~zero]


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


# --------------------------------------------------------------------------- reading


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
    raw[_ROW] = [f"{prefix}row {i + 2}" for i in range(len(raw))]  # header is row 1
    xy = None if not schema.geometry else _table_xy_columns(raw, part)
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
    df = _recode(df, part, source)
    if xy is None:
        return pd.DataFrame(df), None
    x_col, y_col = (part.columns.get(c, c) for c in xy)
    x = pd.to_numeric(df[x_col], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(df[y_col], errors="coerce").to_numpy(dtype=float)
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
    ``_src_y``); :func:`_drop_private` removes them.
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
        pieces = [
            _read_table_part(path, spec, part, role=role, source=source, problems=problems,
                             strict=strict)
            for part in parts
        ]
        df = pd.concat([p for p, _ in pieces], ignore_index=True) if len(pieces) > 1 \
            else pieces[0][0].reset_index(drop=True)
        xy = pieces[0][1]
        if xy is None:
            return pd.DataFrame(_apply_id(df, spec, role, source)), None, False
        x = df[_SRC_X].to_numpy(dtype=float)
        y = df[_SRC_Y].to_numpy(dtype=float)
        crs = CRS.from_user_input(spec.crs or "EPSG:4326")
        if crs.is_geographic:
            named = source if path.name in source else f"{source} ({path.name})"
            _check_swapped_degrees(x, y, df[_ROW].to_numpy(), source=named, xy=xy)
            validate.check_coordinates(x, y, source=named, x_col=xy[0], y_col=xy[1])
        gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y), crs=crs)
        declared = spec.crs is not None
    else:
        if suffix not in _VECTOR_SUFFIXES:
            logger.info("%s: unusual extension %s; trying GDAL", source, suffix)
        frame = _read_vector_file(path, spec, source, problems)
        part = parts[0]
        frame[_ROW] = [f"feature {i + 1}" for i in range(len(frame))]
        frame = _apply_classes(_apply_filter(frame, part, source, problems), spec, part, role,
                               source)
        if not isinstance(frame, gpd.GeoDataFrame):
            if schema.geometry and not schema.table_ok:
                msg = f"{source}: {path.name} has no geometry; this role needs a spatial layer"
                raise ValidationError(msg)
            df = _recode(_apply_columns(frame, part.columns, source, None), part, source)
            df = df.reset_index(drop=True)
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
        gdf = _recode(_apply_columns(gdf, part.columns, source, geom_name), part, source)
        if geom_name != "geometry":
            gdf = gdf.rename_geometry("geometry")
        if "line" in schema.geometry:
            gdf = _drop_zero_length(gdf, source, problems)
        gdf = gdf.reset_index(drop=True)
    gdf = _apply_id(gdf, spec, role, source)
    if "kind" in schema.domains:
        gdf = _explode_kinds(gdf, schema.id_column)
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
    gdf = _hazard_radius(gdf, spec, role, source, problems)
    crs_text = gdf.crs.to_string() if gdf.crs is not None else None
    return gdf, crs_text, declared


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
        Run :func:`contigmap.validate.check_layer` (required columns, ids, geometry,
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
        frame = validate.check_layer(frame, role=role, source=source, problems=problems)
    return _drop_private(frame)


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
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    path = _resolve(spec, base_dir, source)
    if spec.datum == "gcj02":
        msg = f"{source}: 'datum: gcj02' is supported for vector layers only; remove it"
        raise ConfigError(msg)
    try:
        with warnings.catch_warnings():
            # a plain image: said below in our own words
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                driver = str(src.driver)
                has_gcps = bool(src.gcps[0])
                declared_nodata = src.nodata is not None
                transform = src.transform
                src_crs = CRS.from_user_input(src.crs) if src.crs is not None else None
                if src_crs is None and transform.is_identity and not has_gcps:
                    kind = "" if driver == "GTiff" else f" (it is a {driver} file)"
                    msg = (f"{source}: {path.name} is not a georeferenced raster{kind}: it has "
                           "no CRS, no transform and no ground control points; export it as "
                           "a GeoTIFF with its coordinates (gdal_translate -a_srs / -a_ullr)")
                    raise CRSError(msg)
                band = src.read(1, masked=True)
                array = np.asarray(band.astype("float64").filled(np.nan))
    except RasterioIOError as err:
        msg = f"{source}: cannot read {path.name} as a raster ({err})"
        raise LayerError(msg) from err
    if not declared_nodata:
        for value, cells in undeclared_nodata(array):
            array[array == value] = np.nan
            warnings.warn(
                f"{source}: {path.name} declares no nodata value, but {cells} cell(s) hold "
                f"{value:g}, far outside the other values; they are treated as nodata "
                f"(declare it: gdal_edit.py -a_nodata {value:g} {path.name})",
                DataQualityWarning,
                stacklevel=2,
            )
    if src_crs is None:
        if spec.crs is None:
            msg = (
                f"{source}: {path.name} has no CRS; add 'crs: EPSG:4490' (or the right code) "
                "to this layer in region.yaml"
            )
            raise CRSError(msg)
        src_crs = CRS.from_user_input(spec.crs)
    if transform.is_identity:
        msg = (f"{source}: {path.name} is not a georeferenced raster: it has no transform "
               "(cell size and origin); export it as a GeoTIFF with its coordinates")
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
    region: RegionConfig,
    *,
    progress: bool = False,
    strict: bool = False,
    collect_errors: bool = False,
) -> RegionData:
    """Read, check and reproject every layer a region manifest declares.

    Parameters
    ----------
    region
        The validated manifest (:func:`contigmap.config.load_region`).
    progress
        Show a progress bar over layers.
    strict
        Treat rows that would be left out with a warning (table rows with missing or
        non-numeric coordinates) as errors (``contigmap run --strict``).
    collect_errors
        With ``False`` (the default) stop at the first fatal problem. With ``True`` a
        layer that fails is recorded in its :class:`LayerReport` (``failed=True``) and
        skipped, so that ``contigmap validate`` can list every problem; row-level errors
        (repeated ids, unknown values, bad yes/no values:
        :func:`contigmap.validate.check_layer` ``errors``) are all recorded and the rest
        of the layer is kept. ``villages`` and ``roads`` must still be readable.

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

    def fail(key: str, err: ContigmapError | str, *, kept: bool = False) -> None:
        """Raise, or (collecting) record the error; ``kept``: the layer can still be used."""
        if not collect_errors or (key in ("villages", "roads") and not kept):
            raise err if isinstance(err, ContigmapError) else ValidationError(err)
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
            if spec.radius_m is not None and key != "dem":
                _note(report.problems, source, "'radius_m:' is for hazard point layers; this "
                      "layer is a raster, so it is ignored")
            raster_entries.append((key, schema_key, spec))
            continue
        try:
            frame, crs_text, declared = _read_vector_or_table(
                spec,
                base_dir=base_dir,
                role=schema_key,
                source=source,
                problems=report.problems,
                strict=strict,
            )
            row_errors: list[str] | None = [] if collect_errors else None
            frame = validate.check_layer(
                frame, role=schema_key, source=source, problems=report.problems,
                errors=row_errors,
            )
            if isinstance(frame, gpd.GeoDataFrame):
                _count_geometry_issues(frame, source, report.problems)
        except ContigmapError as err:
            fail(key, err)
            continue
        for text in row_errors or ():  # collected: the rest of the layer is still used
            fail(key, text, kept=True)
        report.features = len(frame)
        report.crs_in = crs_text
        if isinstance(frame, gpd.GeoDataFrame):
            frames[key] = frame
            if declared:
                crs_in[key] = frame.crs
        else:
            report.kind = "table"
            tables[key] = _drop_private(frame)

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
        try:
            _check_swapped_rows(key, frames, region, working, reports[key].path.name)
        except ContigmapError as err:
            essential = key in ("villages", "roads")
            fail(key, err, kept=essential)
            if not essential:
                frames.pop(key)
    for key in list(frames):
        frames[key] = _drop_private(frames[key])
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
            essential = key in ("villages", "roads")
            fail(key, err, kept=essential)
            if not essential:
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


def _count_geometry_issues(gdf: gpd.GeoDataFrame, source: str, problems: list[str]) -> None:
    """Report duplicate geometries (lines, polygons) and multi-part lines of a layer."""
    geoms = gdf.geometry.values
    types = shapely.get_type_id(geoms)
    labels = gdf[_ROW].to_numpy() if _ROW in gdf.columns else np.arange(1, len(gdf) + 1)
    multi = (types == 5) & (shapely.get_num_geometries(geoms) > 1)
    if multi.any():
        text = (
            f"{int(multi.sum())} multi-part line(s) ({_list_rows(labels[multi])}): each part "
            "is used as a separate line"
        )
        problems.append(text)
        logger.info("%s: %s", source, text)
    if not np.isin(types, [1, 2, 3, 5, 6]).any():
        return  # points: several services at one place are normal
    keys = pd.Series(shapely.to_wkb(shapely.normalize(geoms), hex=True))
    dup = keys.duplicated(keep="first").to_numpy() & np.isin(types, [1, 2, 3, 5, 6])
    if dup.any():
        _note(
            problems,
            source,
            f"{int(dup.sum())} duplicate geometries (same shape as an earlier feature: "
            f"{_list_rows(labels[dup])}); remove them if they are copies, or lengths and "
            "areas count twice",
        )


def _check_swapped_rows(
    key: str,
    frames: dict[str, gpd.GeoDataFrame],
    region: RegionConfig,
    working: CRS,
    file_name: str,
) -> None:
    """Find table rows outside the region whose swapped x/y fall inside it.

    The region is the county boundary when there is one, else the bounding box of the
    other layers. Only table layers (which keep their coordinates as read) are checked.
    """
    gdf = frames[key]
    if _SRC_X not in gdf.columns or len(gdf) == 0:
        return
    others = [k for k in frames if k != key]
    if "boundaries.county" in frames and key != "boundaries.county":
        area = shapely.union_all(frames["boundaries.county"].geometry.values)
    elif others:
        bounds = np.array([frames[k].total_bounds for k in others], dtype=float)
        area = shapely.box(bounds[:, 0].min(), bounds[:, 1].min(),
                           bounds[:, 2].max(), bounds[:, 3].max())
    else:
        return
    outside = ~shapely.intersects(gdf.geometry.values, area)
    if not outside.any():
        return
    spec_xy = _table_xy_names(region, key) or ("x", "y")
    spec = _spec_of(region, key)
    table_crs = CRS.from_user_input((spec.crs if spec is not None else None) or "EPSG:4326")
    sx = gdf[_SRC_X].to_numpy(dtype=float)[outside]
    sy = gdf[_SRC_Y].to_numpy(dtype=float)[outside]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        swapped = gpd.GeoSeries(gpd.points_from_xy(sy, sx), crs=table_crs).to_crs(working)
    inside = shapely.intersects(np.asarray(swapped.values), area)
    inside &= np.isfinite(shapely.get_x(np.asarray(swapped.values)))
    if inside.any():
        labels = gdf[_ROW].to_numpy()[np.flatnonzero(outside)[inside]]
        source = f"layers.{key} ({file_name})"
        raise CRSError(_swapped_message(source, spec_xy, labels, len(gdf)))


def _spec_of(region: RegionConfig, key: str) -> LayerSpec | None:
    group, _, name = key.partition(".")
    spec: Any = getattr(region.layers, group, None)
    if isinstance(spec, dict):
        spec = spec.get(name)
    return spec if isinstance(spec, LayerSpec) else None


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
    GeoPackages carry a fixed date instead of the write time and CSV text cells cannot
    start a spreadsheet formula (see :mod:`contigmap.writers`), so the same frame
    always gives the same bytes.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import pyogrio

    path = Path(path)
    suffix = path.suffix.lower()
    with atomic_path(path) as tmp, fixed_gdal_date():
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
            write_csv(table, tmp)
        else:
            msg = f"{path}: cannot write '{suffix}'; use .gpkg, .parquet, .geojson or .csv"
            raise LayerError(msg)
    logger.debug("wrote %d features to %s", len(gdf), path)
    return path


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table atomically: ``.csv`` (UTF-8 with BOM, for Excel) or ``.xlsx``.

    A geometry column, if any, is dropped. Text never becomes a spreadsheet formula:
    XLSX text cells are string cells, CSV text cells starting with ``= + - @``, TAB or
    CR get a leading ``'``; the same table always gives the same bytes (see
    :mod:`contigmap.writers`).

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
            write_csv(table, tmp)
        elif suffix == ".xlsx":
            write_xlsx({"Sheet1": table}, tmp)
        else:
            msg = f"{path}: cannot write '{suffix}' tables; use .csv or .xlsx"
            raise LayerError(msg)
    return path
