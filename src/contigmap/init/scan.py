"""``contigmap init``, step 1: read every file of a folder and guess its CRS.

Each file (every layer of a GeoPackage, every sheet of a workbook) becomes a
:class:`Candidate` with its headers, a sample of rows, its geometry kind, encoding and
CRS (the file's own, else guessed from coordinate ranges by :func:`guess_crs_from_xy`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from contigmap.inputs import (
    X_ALIASES,
    Y_ALIASES,
    normalise_header,
)

__all__ = ["CONFIRM", "Candidate", "Geometry", "Guess", "guess_crs_from_xy", "has_hint",
           "scan_folder"]

logger = logging.getLogger(__name__)

CONFIRM = "请确认 confirm:"
"""Marker of every line of a drafted manifest the user must check."""

_VECTOR = {".gpkg", ".shp", ".geojson", ".json", ".parquet", ".geoparquet"}
_TABLE = {".csv", ".txt", ".xlsx", ".xls"}
_RASTER = {".tif", ".tiff", ".img", ".vrt", ".asc"}
_SAMPLE = 2000

Geometry = Literal["point", "line", "polygon", "table", "raster"]



@dataclass
class Guess:
    """One thing ``init`` guessed about one layer.

    Attributes
    ----------
    source
        The file (and ``:layer`` or ``:sheet``), relative to the folder.
    what
        ``role``, ``column``, ``crs``, ``encoding``, ``datum``, ``xy``, ``values``, ``unused``.
    value
        The guess (``villages``, ``村代码 -> village_id``, ``EPSG:4525``, ``gbk``).
    confirm
        True when the user must check it (it is marked ``请确认 confirm`` in the manifest).
    note
        Why, in a few words.
    """

    source: str
    what: str
    value: str
    confirm: bool = False
    note: str = ""


@dataclass
class Candidate:
    """One readable layer of the folder: a file, a GeoPackage layer or a workbook sheet."""

    path: Path
    rel: str
    layer: str | None
    geometry: Geometry
    columns: list[str] = field(default_factory=list)
    sample: pd.DataFrame | None = None
    features: int = 0
    crs: str | None = None
    crs_from_file: bool = False
    encoding: str | None = None
    xy: tuple[str, str] | None = None
    lonlat_centre: tuple[float, float] | None = None
    raw_bounds: tuple[Any, Any] | None = None  # (xs, ys) of a layer without CRS
    datum: str | None = None
    notes: list[tuple[str, bool]] = field(default_factory=list)  # (text, confirm)
    notes_at_start: list[tuple[str, bool]] = field(default_factory=list)
    role: str | None = None
    role_reason: str = ""
    name: str | None = None  # manifest layer name of grouped roles
    header_row: list[int] | None = None  # report-style sheet: its header row(s), from 1

    @property
    def source(self) -> str:
        """File name, with ``:layer`` when the file holds several."""
        return f"{self.rel}:{self.layer}" if self.layer else self.rel


# --------------------------------------------------------------------------- CRS guesses


def _gk_epsg(zone_or_cm: int, *, three_degree: bool, prefixed: bool) -> int | None:
    """EPSG code of a CGCS2000 Gauss–Krüger CRS (3° or 6°, with or without zone prefix)."""
    if three_degree:
        if prefixed:
            return 4513 + zone_or_cm - 25 if 25 <= zone_or_cm <= 45 else None
        return 4534 + (zone_or_cm - 75) // 3 if 75 <= zone_or_cm <= 135 else None
    if prefixed:
        return 4491 + zone_or_cm - 13 if 13 <= zone_or_cm <= 23 else None
    return 4502 + (zone_or_cm - 75) // 6 if 75 <= zone_or_cm <= 135 else None


def _to_lonlat(crs: str, x: float, y: float) -> tuple[float, float]:
    from pyproj import Transformer

    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(x, y)
    return float(lon), float(lat)


def _numbers(values: Any) -> Any:
    """Coordinates as floats: numbers, or degrees-minutes-seconds text (``105°43′12.5″``)."""
    from contigmap.io.tables import parse_dms

    series = pd.Series(np.asarray(values).ravel())
    out = pd.to_numeric(series, errors="coerce")
    text = out.isna() & series.notna()
    if text.any():
        out[text] = [parse_dms(str(v)) for v in series[text]]
    return pd.to_numeric(out, errors="coerce").to_numpy(float)


def guess_crs_from_xy(
    x: Any, y: Any, *, near: tuple[float, float] | None = None
) -> tuple[str | None, str, bool]:
    """Guess the CRS of coordinates from their value ranges.

    Parameters
    ----------
    x, y
        Eastings / longitudes and northings / latitudes (non-numbers are ignored).
    near
        (lon, lat) of the region from other layers: needed to pick the zone of
        Gauss–Krüger eastings given without their zone number.

    Returns
    -------
    tuple
        The CRS (``EPSG:4490`` for degrees, ``EPSG:4513``–``4533`` for CGCS2000 3° zones
        25–45 with the zone number on the easting, ``EPSG:4491``–``4501`` for 6° zones
        13–23, ``EPSG:4534``–``4554`` / ``4502``–``4512`` without it), or ``None``; a
        note saying why; and whether x and y look swapped (degrees only).
    """
    xs, ys = _numbers(x), _numbers(y)
    ok = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[ok], ys[ok]
    if xs.size == 0:
        return None, "no numeric coordinates", False
    mx, my = float(np.median(xs)), float(np.median(ys))
    small = np.all(np.abs(xs) <= 180) and np.all(np.abs(ys) <= 180)
    if small and (np.all(np.abs(ys) <= 90) or np.all(np.abs(xs) <= 90)):
        swapped = 18 <= mx <= 54 and 73 <= my <= 136
        note = "longitude/latitude degrees; CGCS2000 assumed (WGS84 differs by under 1 m)"
        return "EPSG:4490", note, swapped
    if not 1.5e6 <= my <= 6.5e6:
        return None, f"northings around {my:.0f} are not Gauss–Krüger metres in China", False
    if mx >= 1e7:
        zones = np.unique(np.floor(xs / 1e6).astype(int))
        if zones.size > 1:
            return None, f"eastings carry several zone numbers ({zones.tolist()})", False
        zone = int(zones[0])
        for three, label in ((True, "3-degree"), (False, "6-degree")):
            code = _gk_epsg(zone, three_degree=three, prefixed=True)
            if code is not None:
                note = (f"Gauss–Krüger metres with zone number {zone} on the easting: "
                        f"CGCS2000 {label} zone {zone}")
                return f"EPSG:{code}", note, False
        return None, f"easting zone number {zone} is not a Gauss–Krüger zone of China", False
    if 1e5 <= mx <= 9e5:
        if near is None:
            return None, ("Gauss–Krüger or UTM metres without zone number; the zone cannot be "
                          "told from the values"), False
        lon0, lat0 = near
        options: list[tuple[str, str]] = []
        cm3 = 3 * round(lon0 / 3)
        cm6 = 6 * math.floor(lon0 / 6) + 3
        for epsg, label in (
            (_gk_epsg(cm3, three_degree=True, prefixed=False), f"3-degree CM {cm3}E"),
            (_gk_epsg(cm6, three_degree=False, prefixed=False), f"6-degree CM {cm6}E"),
        ):
            if epsg is not None:
                options.append((f"EPSG:{epsg}", f"CGCS2000 Gauss–Krüger {label}"))
        zone = math.floor((lon0 + 180) / 6) + 1
        options.append((f"EPSG:{32600 + zone}", f"WGS84 UTM zone {zone}N"))
        best: tuple[str, str] | None = None
        best_d = math.inf
        for option, label in options:
            lon, lat = _to_lonlat(option, mx, my)
            d = math.hypot((lon - lon0) * math.cos(math.radians(lat0)), lat - lat0)
            if d < best_d - 1e-9:
                best, best_d = (option, label), d
        assert best is not None
        note = (f"metres without zone number; {best[1]} puts them next to the other layers "
                f"(about {best_d * 111:.0f} km from their centre)")
        return best[0], note, False
    return None, f"eastings around {mx:.0f} are neither degrees nor Gauss–Krüger metres", False


# --------------------------------------------------------------------------- reading


def _dbf_encoding(dbf: Path) -> str | None:
    """Return a .dbf's text encoding: ``None`` (ASCII), ``utf-8``, ``gbk`` or ``gb18030``."""
    raw = dbf.read_bytes()[: 1 << 20]
    if len(raw) < 32:
        return None
    header_len = int.from_bytes(raw[8:10], "little")
    record_len = max(int.from_bytes(raw[10:12], "little"), 1)
    names = b"".join(raw[i: i + 11].split(b"\0")[0] for i in range(32, header_len - 1, 32))
    body = raw[header_len:]
    body = body[: len(body) - len(body) % record_len]
    text = names + body
    if all(b < 0x80 for b in text):
        return None
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            text.decode(enc)
        except UnicodeDecodeError:
            continue
        return enc
    return None


_DATUM_WORDS = ("百度", "baidu", "bd09", "bd", "高德", "gcj02", "gcj", "wgs84", "坐标")


def _strip_datum(header: str) -> str:
    """Header without a datum word (``百度经度`` → ``经度``), for finding coordinates."""
    key = normalise_header(header)
    for word in _DATUM_WORDS:
        key = key.replace(word, "")
    return key or normalise_header(header)


def _find_xy(columns: list[str]) -> tuple[str, str] | None:
    norm = {normalise_header(c): c for c in columns}
    for c in columns:  # 百度经度, bd09_lng: the datum word names the datum, not the axis
        norm.setdefault(_strip_datum(c), c)

    def first(aliases: tuple[str, ...]) -> str | None:
        for a in aliases:
            if normalise_header(a) in norm:
                return norm[normalise_header(a)]
        return None

    x, y = first(X_ALIASES), first(Y_ALIASES)
    return (x, y) if x and y else None


def has_hint(text: str, hints: tuple[str, ...]) -> str | None:
    """Return the first of ``hints`` found in ``text`` (case-insensitive), if any."""
    low = text.lower()
    for hint in hints:
        if hint.lower() in low:
            return hint
    return None


def _read_vector(path: Path, rel: str, folder: Path) -> list[Candidate]:
    import pyogrio

    out: list[Candidate] = []
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        import geopandas as gpd

        try:
            gdf: Any = gpd.read_parquet(path)
            geometry = _geometry_kind(gdf)
            crs = gdf.crs.to_string() if gdf.crs is not None else None
        except (ValueError, ImportError):
            gdf = pd.read_parquet(path)
            geometry, crs = "table", None
        cand = Candidate(path, rel, None, geometry, [str(c) for c in gdf.columns
                                                     if c != "geometry"],
                         sample=pd.DataFrame(gdf).head(_SAMPLE), features=len(gdf), crs=crs,
                         crs_from_file=crs is not None)
        if geometry != "table":
            cand.lonlat_centre = _centre(gdf)
        return [cand]
    try:
        layers = pyogrio.list_layers(path)
    except Exception as err:
        logger.warning("%s: cannot open (%s); skipped", rel, err)
        return []
    encoding = None
    if suffix == ".shp" and not any(path.with_suffix(e).exists() for e in (".cpg", ".CPG")):
        for ext in (".dbf", ".DBF"):
            if path.with_suffix(ext).exists():
                encoding = _dbf_encoding(path.with_suffix(ext))
                break
    for name, _gtype in layers:
        layer = str(name) if len(layers) > 1 or suffix == ".gpkg" else None
        kwargs: dict[str, Any] = {"max_features": _SAMPLE}
        if layer is not None:
            kwargs["layer"] = layer
        if encoding is not None:
            kwargs["encoding"] = encoding
        try:
            info = pyogrio.read_info(path, **{k: v for k, v in kwargs.items()
                                              if k != "max_features"})
            gdf = pyogrio.read_dataframe(path, **kwargs)
        except Exception as err:
            logger.warning("%s: cannot read (%s); skipped", rel, err)
            continue
        is_geo = hasattr(gdf, "geometry") and "geometry" in gdf.columns
        geometry = _geometry_kind(gdf) if is_geo else "table"
        crs = gdf.crs.to_string() if is_geo and gdf.crs is not None else None
        cand = Candidate(path, rel, layer, geometry,
                         [str(c) for c in gdf.columns if c != "geometry"],
                         sample=pd.DataFrame(gdf), features=int(info.get("features", len(gdf))),
                         crs=crs, crs_from_file=crs is not None, encoding=encoding)
        if suffix in (".geojson", ".json") and crs is None and is_geo:
            cand.crs, cand.crs_from_file = "EPSG:4326", True
        if encoding is not None:
            cand.notes.append((f"no .cpg; text read as {encoding.upper()} "
                               f"(.dbf 无 .cpg，按 {encoding.upper()} 读取)", True))
        if is_geo:
            if cand.crs is None:
                b = gdf.total_bounds
                cand.raw_bounds = (b[[0, 2]], b[[1, 3]])
                cand.notes.append(("no CRS in the file (无坐标系)", True))
            else:
                cand.lonlat_centre = _centre(gdf)
        out.append(cand)
    return out


def _geometry_kind(gdf: Any) -> Geometry:
    types = set(gdf.geometry.dropna().geom_type)
    if types and types <= {"Point", "MultiPoint"}:
        return "point"
    if types and types <= {"LineString", "MultiLineString"}:
        return "line"
    if types and types <= {"Polygon", "MultiPolygon"}:
        return "polygon"
    return "table" if not types else "polygon" if "Polygon" in types else "line"


def _centre(gdf: Any) -> tuple[float, float] | None:
    try:
        b = gdf.to_crs("EPSG:4326").total_bounds
    except Exception:
        return None
    if not np.all(np.isfinite(b)):
        return None
    return float((b[0] + b[2]) / 2), float((b[1] + b[3]) / 2)


def _read_table(path: Path, rel: str) -> list[Candidate]:
    suffix = path.suffix.lower()
    frames: list[tuple[str | None, pd.DataFrame, str | None]] = []
    if suffix in (".xlsx", ".xls"):
        from contigmap.io.tables import excel_engine

        try:
            sheets = pd.read_excel(path, sheet_name=None, dtype=str, nrows=_SAMPLE,
                                   engine=excel_engine(path), header=None)
        except Exception as err:
            logger.warning("%s: cannot read (%s); skipped", rel, err)
            return []
        many = len(sheets) > 1
        for sheet_name, raw in sheets.items():
            frames.append((str(sheet_name) if many else None, _headed(raw, path), None))
    else:
        from contigmap.io.tables import _delimiter

        encoding: str | None = None
        for enc in ("utf-8-sig", "gbk", "gb18030"):
            try:
                df = pd.read_csv(path, dtype=str, encoding=enc, sep=_delimiter(path),
                                 nrows=_SAMPLE)
            except UnicodeDecodeError:
                continue
            except Exception as err:
                logger.warning("%s: cannot read (%s); skipped", rel, err)
                return []
            encoding = None if enc == "utf-8-sig" else enc
            frames.append((None, df, encoding))
            break
    out = []
    for sheet, df, encoding in frames:
        header_row = df.attrs.get("header_row")
        df.columns = [str(c).strip() for c in df.columns]
        df = df.dropna(how="all")
        cand = Candidate(path, rel, sheet, "table", list(df.columns), sample=df,
                         features=len(df), encoding=encoding,
                         header_row=header_row)
        if cand.header_row is not None:
            cand.notes.append((f"a report-style sheet: header in row(s) {cand.header_row} "
                               "(报表格式：表头行)", True))
        if encoding is not None:
            cand.notes.append((f"not UTF-8; read as {encoding.upper()} (非 UTF-8 编码)", True))
        cand.xy = _find_xy(list(df.columns))
        if cand.xy is not None:
            cand.geometry = "point"
        out.append(cand)
    return out


def _is_text(value: Any) -> bool:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return False
    text = str(value).strip()
    if not text:
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False


def report_header(raw: pd.DataFrame) -> list[int] | None:
    """Return the sheet row numbers (from 1) of a header below title rows, else ``None``.

    The header is the first of the top ten rows whose cells are all text and fill at
    least 60% of the widest row; the row under it is a second header row when it is all
    text too and the row after it holds a number (a two-row merged header). ``None``
    when the header is the first row alone (an ordinary sheet).
    """
    head = raw.head(12)
    filled = head.notna().sum(axis=1).to_numpy()
    if head.empty or filled.max() < 3:
        return None
    for r in range(min(10, len(head) - 1)):
        cells = [v for v in head.iloc[r] if v is not None and not pd.isna(v)]
        if filled[r] < 0.6 * filled.max() or not all(_is_text(v) for v in cells):
            continue
        below = [v for v in head.iloc[r + 1] if v is not None and not pd.isna(v)]
        after = head.iloc[r + 2] if r + 2 < len(head) else pd.Series(dtype=object)
        two = bool(below) and all(_is_text(v) for v in below) and any(
            not _is_text(v) and v is not None and not pd.isna(v) for v in after)
        rows = [r + 1, r + 2] if two else [r + 1]
        return None if rows == [1] else rows
    return None


def _headed(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Give a sheet read without header its header: the first row, or a report's rows.

    A report-style sheet (:func:`report_header`) gets its joined header
    (:func:`contigmap.io.tables._apply_header`, as ``run`` reads it) and
    ``attrs["header_row"]``.
    """
    from contigmap.config import LayerSpec
    from contigmap.io.tables import _apply_header

    rows = report_header(raw)
    if rows is None:
        df = raw.iloc[1:].reset_index(drop=True)
        names = [str(c) if c is not None and not pd.isna(c) else f"Unnamed: {j}"
                 for j, c in enumerate(raw.iloc[0])] if len(raw) else []
        df.columns = names
        return df
    body = _apply_header(raw, LayerSpec(path=path, header_row=rows), str(path), "")
    body = body[[c for c in body.columns if not str(c).startswith("_")]]
    body.attrs["header_row"] = rows
    return body


def _read_raster(path: Path, rel: str) -> list[Candidate]:
    import rasterio

    try:
        with rasterio.open(path) as src:
            crs = src.crs.to_string() if src.crs is not None else None
            b = src.bounds
            cand = Candidate(path, rel, None, "raster", features=src.width * src.height,
                             crs=crs, crs_from_file=crs is not None)
            if crs is not None:
                lon, lat = _to_lonlat(crs, (b.left + b.right) / 2, (b.bottom + b.top) / 2)
                cand.lonlat_centre = (lon, lat)
            else:
                cand.raw_bounds = ((b.left, b.right), (b.bottom, b.top))
                cand.notes.append(("no CRS in the file (无坐标系)", True))
    except Exception as err:
        logger.warning("%s: cannot read as a raster (%s); skipped", rel, err)
        return []
    return [cand]


def scan_folder(folder: Path) -> list[Candidate]:
    """Read every vector, table and raster file under ``folder`` into candidates."""
    out: list[Candidate] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or any(p.startswith(".") or p.lower().endswith(".gdb")
                                     for p in Path(rel).parts):
            continue  # File Geodatabases: contigmap.init.forms
        suffix = path.suffix.lower()
        if suffix in _VECTOR:
            out.extend(_read_vector(path, rel, folder))
        elif suffix in _TABLE:
            out.extend(_read_table(path, rel))
        elif suffix in _RASTER:
            out.extend(_read_raster(path, rel))
    return out

