"""``contigmap init``: look at a folder of files as handed over and draft its ``region.yaml``.

For every file (every layer of a GeoPackage, every sheet of a workbook) :func:`init_region`
reads the headers and a sample of rows and guesses:

* its **role** (villages, roads, dem, hazards, services, households, boundaries, ...),
  from its headers (the one table of :mod:`contigmap.inputs`), its geometry and words
  in its file, layer or sheet name;
* its **column mapping** onto contigmap's canonical columns;
* its **CRS**: the file's own, else (tables and files without ``.prj``) from the value
  ranges: longitude/latitude degrees, or Gauss–Krüger metres with the zone number
  prefixed to the easting (``37 xxx xxx`` → CGCS2000 3-degree zone 37, EPSG:4525) or
  without it (``5xx xxx``; the zone then comes from the other layers' position);
* the **text encoding** of shapefiles without ``.cpg`` (GBK is common) and of CSV files;
* likely **GCJ-02** coordinates (a file, sheet or column name mentioning 高德, 腾讯,
  AMap or GCJ) → ``datum: gcj02``.

It writes the guesses into a commented manifest (comments in Chinese and English);
every line the user must check carries ``# 请确认 confirm:``. The library only builds
the text; :meth:`InitResult.write` refuses to overwrite an existing ``region.yaml``
unless told to.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from contigmap.errors import ConfigError, ContigmapError, LayerError
from contigmap.inputs import (
    BD09_HINTS,
    GCJ02_HINTS,
    X_ALIASES,
    Y_ALIASES,
    match_column,
    normalise_header,
    role_inputs,
)
from contigmap.schema import (
    BOOLEAN_FALSE,
    BOOLEAN_TRUE,
    ROAD_CLASSES,
    ROLE_SCHEMAS,
    SERVICE_KINDS,
    SURFACES,
)

__all__ = ["Candidate", "Guess", "InitResult", "guess_crs_from_xy", "init_region"]

logger = logging.getLogger(__name__)

CONFIRM = "请确认 confirm:"
"""Marker of every line of a drafted manifest the user must check."""

_VECTOR = {".gpkg", ".shp", ".geojson", ".json", ".parquet", ".geoparquet"}
_TABLE = {".csv", ".txt", ".xlsx", ".xls"}
_RASTER = {".tif", ".tiff", ".img", ".vrt", ".asc"}
_SAMPLE = 2000

Geometry = Literal["point", "line", "polygon", "table", "raster"]

# roles that hold one layer; the others (hazards, ecology) hold several
_SINGLE = ("villages", "roads", "village_areas", "hamlets", "boundaries.county",
           "boundaries.townships", "dem", "rivers", "services", "households",
           "infrastructure.power_lines", "infrastructure.substations", "infrastructure.fibre",
           "infrastructure.towers", "infrastructure.water_sources")
_GROUPED = ("hazards", "ecology")
_LAYER_NAMES = {  # words in a hazard / ecology file name -> manifest layer name
    "滑坡": "landslide", "landslide": "landslide", "泥石流": "debris_flow", "崩塌": "collapse",
    "洪": "flood", "flood": "flood", "易发": "susceptibility", "隐患": "hazard_points",
    "红线": "redline", "redline": "redline", "保护区": "reserve", "reserve": "reserve",
}


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

    @property
    def source(self) -> str:
        """File name, with ``:layer`` when the file holds several."""
        return f"{self.rel}:{self.layer}" if self.layer else self.rel


@dataclass
class InitResult:
    """What :func:`init_region` drafted.

    Attributes
    ----------
    text
        The commented ``region.yaml``.
    guesses
        Everything guessed, layer by layer.
    folder
        The folder looked at.
    """

    text: str
    guesses: list[Guess]
    folder: Path

    @property
    def to_confirm(self) -> list[Guess]:
        """The guesses the user must check."""
        return [g for g in self.guesses if g.confirm]

    def write(self, path: str | Path | None = None, *, force: bool = False) -> Path:
        """Write the manifest (default ``<folder>/region.yaml``); never overwrite unless forced.

        Raises
        ------
        ConfigError
            The file exists and ``force`` is false.
        """
        target = Path(path) if path is not None else self.folder / "region.yaml"
        if target.exists() and not force:
            msg = (f"{target} exists and was left unchanged; use --force to replace it or "
                   "--print to see the draft")
            raise ConfigError(msg)
        target.write_text(self.text, encoding="utf-8")
        logger.info("wrote %s", target)
        return target


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
    xs = pd.to_numeric(pd.Series(np.asarray(x).ravel()), errors="coerce").to_numpy(float)
    ys = pd.to_numeric(pd.Series(np.asarray(y).ravel()), errors="coerce").to_numpy(float)
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


def _find_xy(columns: list[str]) -> tuple[str, str] | None:
    norm = {normalise_header(c): c for c in columns}

    def first(aliases: tuple[str, ...]) -> str | None:
        for a in aliases:
            if normalise_header(a) in norm:
                return norm[normalise_header(a)]
        return None

    x, y = first(X_ALIASES), first(Y_ALIASES)
    return (x, y) if x and y else None


def _has_hint(text: str, hints: tuple[str, ...]) -> str | None:
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
        try:
            sheets = pd.read_excel(path, sheet_name=None, dtype=str, nrows=_SAMPLE)
        except Exception as err:
            logger.warning("%s: cannot read (%s); skipped", rel, err)
            return []
        many = len(sheets) > 1
        for sheet_name, sheet_df in sheets.items():
            frames.append((str(sheet_name) if many else None, sheet_df, None))
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
        df.columns = [str(c).strip() for c in df.columns]
        df = df.dropna(how="all")
        cand = Candidate(path, rel, sheet, "table", list(df.columns), sample=df,
                         features=len(df), encoding=encoding)
        if encoding is not None:
            cand.notes.append((f"not UTF-8; read as {encoding.upper()} (非 UTF-8 编码)", True))
        cand.xy = _find_xy(list(df.columns))
        if cand.xy is not None:
            cand.geometry = "point"
        out.append(cand)
    return out


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


def _scan(folder: Path) -> list[Candidate]:
    out: list[Candidate] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or any(p.startswith(".") for p in Path(rel).parts):
            continue
        suffix = path.suffix.lower()
        if suffix in _VECTOR:
            out.extend(_read_vector(path, rel, folder))
        elif suffix in _TABLE:
            out.extend(_read_table(path, rel))
        elif suffix in _RASTER:
            out.extend(_read_raster(path, rel))
    return out


# --------------------------------------------------------------------------- roles


def _allowed(role: str, cand: Candidate) -> bool:
    if role == "dem":
        return cand.geometry == "raster"
    key = "hazards" if role == "hazards" else role
    schema = ROLE_SCHEMAS.get(key)
    if schema is None:
        return False
    if cand.geometry == "raster":
        return role == "hazards"
    if cand.geometry == "table":
        return not schema.geometry or bool(getattr(schema, "table_ok", False))
    return cand.geometry in schema.geometry


def _score(role: str, cand: Candidate) -> tuple[float, str]:
    spec = role_inputs(role)
    if spec is None or not _allowed(role, cand):
        return 0.0, ""
    matched = {match_column(role, c) for c in cand.columns} - {None}
    schema = ROLE_SCHEMAS.get(role)
    score = 2.0 * len(matched)
    if schema is not None:
        needed = (schema.id_column, *schema.required)
        score += sum(1.0 for c in needed if c in matched)
        if schema.required and not set(schema.required) <= matched:
            score -= 1.0
    name = f"{Path(cand.rel).stem} {cand.layer or ''}"
    hint = _has_hint(name, spec.file_hints)
    if hint:
        score += 1.0 + min(len(hint), 4) / 2
    if role == "dem" and not hint:
        score += 0.5  # the raster that is not named as a hazard
    reasons = []
    if matched:
        reasons.append("headers 表头 " + ", ".join(sorted(c for c in matched if c)))
    if hint:
        reasons.append(f"name 名称 “{hint}”")
    return score, "; ".join(reasons)


def _assign_roles(cands: list[Candidate]) -> None:
    roles = [*_SINGLE, *_GROUPED]
    pairs = []
    for i, cand in enumerate(cands):
        for role in roles:
            score, why = _score(role, cand)
            if score > 0:
                pairs.append((score, -i, role, why))
    pairs.sort(reverse=True)
    taken: set[str] = set()
    for _score_, neg_i, role, why in pairs:
        cand = cands[-neg_i]
        if cand.role is not None or (role in _SINGLE and role in taken):
            continue
        if role in _GROUPED and _score_ < 2:
            continue
        cand.role, cand.role_reason = role, why
        taken.add(role)
    used: set[str] = set()
    for cand in cands:
        if cand.role in _GROUPED:
            stem = f"{Path(cand.rel).stem} {cand.layer or ''}"
            name = next((v for k, v in _LAYER_NAMES.items() if k in stem.lower()), None)
            if name is None:
                name = re.sub(r"[^0-9a-z]+", "_", stem.lower()).strip("_") or cand.role
            base, n = name, 2
            while name in used:
                name, n = f"{base}_{n}", n + 1
            used.add(name)
            cand.name = name


# --------------------------------------------------------------------------- CRS, datum


def _resolve_crs(cands: list[Candidate]) -> None:
    for cand in cands:  # degree tables give a position too
        if cand.geometry == "point" and cand.xy is not None and cand.sample is not None:
            x, y = cand.sample[cand.xy[0]], cand.sample[cand.xy[1]]
            crs, _, swapped = guess_crs_from_xy(x, y)
            if crs == "EPSG:4490":
                xs = pd.to_numeric(y if swapped else x, errors="coerce")
                ys = pd.to_numeric(x if swapped else y, errors="coerce")
                cand.lonlat_centre = (float(xs.median()), float(ys.median()))
    centres = [c.lonlat_centre for c in cands if c.lonlat_centre is not None
               and c.role not in (None, "boundaries.county")]
    near = (float(np.median([c[0] for c in centres])),
            float(np.median([c[1] for c in centres]))) if centres else None
    for cand in cands:
        if cand.role is None:
            continue
        if cand.xy is not None and cand.sample is not None:
            x, y = cand.sample[cand.xy[0]], cand.sample[cand.xy[1]]
        elif cand.crs is None and cand.raw_bounds is not None:
            x, y = cand.raw_bounds
        else:
            continue
        crs, note, swapped = guess_crs_from_xy(x, y, near=near)
        if swapped and cand.xy is not None:
            cand.xy = (cand.xy[1], cand.xy[0])
            cand.notes.append((f"columns look swapped: longitude is '{cand.xy[0]}' "
                               "(经纬度列似乎互换)", True))
        cand.crs = crs
        cand.crs_from_file = False
        cand.notes.append((f"crs from the values 由坐标值推断: {note}", True))
    for cand in cands:
        names = " ".join([cand.rel, cand.layer or "", *cand.columns])
        gcj = _has_hint(names, GCJ02_HINTS)
        bd = _has_hint(names, BD09_HINTS)
        geographic = cand.crs in ("EPSG:4490", "EPSG:4326", "OGC:CRS84")
        if gcj and geographic:
            cand.datum = "gcj02"
            cand.crs = "EPSG:4326"
            cand.notes.append((f"“{gcj}” in the name: GCJ-02 web-map coordinates "
                               "(火星坐标), converted to WGS84 on load", True))
        elif bd:
            cand.notes.append((f"“{bd}” in the name: Baidu BD-09 coordinates are not GCJ-02 "
                               "and cannot be converted here (百度坐标需先转换)", True))


# --------------------------------------------------------------------------- columns


_DOMAINS: dict[str, tuple[str, ...]] = {
    "road_class": ROAD_CLASSES, "surface": SURFACES, "kind": SERVICE_KINDS}
"""Canonical columns whose values come from a fixed list (their values can decide the header)."""

_IDENTIFYING_WORDS: dict[str, tuple[str, ...]] = {"road_class": ("专用公路",)}
"""Values that show a column is of this kind though contigmap cannot recode them yet.

专用公路 (special-purpose road) is an administrative class with no canonical class of its
own: it tells a class column from a technical-grade one, and the vocabulary check still
asks the user to recode it.
"""

_FITS = 0.8
"""Share of a column's sampled values that must be words of a list for the column to fit it."""


def _known_words(canon: str) -> set[str]:
    """Lower-cased values read as ``canon``'s list: canonical names and their accepted spellings."""
    from contigmap.io import checks as validate

    words = (*_DOMAINS[canon], *validate._ALIASES.get(canon, {}),
             *_IDENTIFYING_WORDS.get(canon, ()))
    return {w.lower() for w in words}


def _fit(cand: Candidate, header: str, canon: str) -> float:
    """Share of ``header``'s non-empty sampled values that are words of ``canon``'s list."""
    if cand.sample is None or header not in cand.sample:
        return 0.0
    values = cand.sample[header].dropna().astype(str).str.strip()
    values = values[values != ""]
    if values.empty:
        return 0.0
    return float(values.str.lower().isin(_known_words(canon)).mean())


def _column_map(role: str, cand: Candidate,
                notes: list[tuple[str, bool]] | None = None) -> dict[str, str]:
    """Map ``cand``'s headers onto ``role``'s canonical columns: headers first, then values.

    A header is matched by :func:`contigmap.inputs.match_column` (the best-ranked alias
    wins). Headers are ambiguous (技术等级 is the technical grade in the standard, but
    counties also put the administrative class under it), so for the columns with a
    fixed list of values (road_class, surface, kind) the values decide: when the header
    matched to such a column does not hold its words (fewer than 80 % of the sampled
    values), or no header matched it, a header whose values do fit takes it, unless that
    header is an id column or another list column. Each such move is noted in ``notes``
    (to confirm).
    """
    spec = role_inputs(role)
    assert spec is not None
    skip = set(cand.xy or ())
    best: dict[str, tuple[int, str]] = {}
    for header in cand.columns:
        if header in skip:
            continue
        canonical = match_column(role, header)
        if canonical is None:
            continue
        col = next(c for c in spec.columns if c.name == canonical)
        names = [normalise_header(a) for a in (col.name, *col.aliases)]
        key = normalise_header(header)
        rank = names.index(key) if key in names else len(names)
        if canonical not in best or rank < best[canonical][0]:
            best[canonical] = (rank, header)
    chosen = {canonical: header for canonical, (_, header) in best.items()}
    schema = ROLE_SCHEMAS.get(role)
    keep = {schema.id_column} if schema is not None else set()
    for canon in _DOMAINS:
        if canon not in {c.name for c in spec.columns}:
            continue
        holder = chosen.get(canon)
        if holder is not None and _fit(cand, holder, canon) >= _FITS:
            continue
        taken = {h: c for c, h in chosen.items()}
        options = [(_fit(cand, h, canon), h) for h in cand.columns
                   if h not in skip and h != holder
                   and taken.get(h) not in (*_DOMAINS, *keep)]
        share, header = max(options, default=(0.0, ""), key=lambda o: o[0])
        if share < _FITS:
            continue
        previous = taken.get(header)
        if previous is not None:
            del chosen[previous]
        chosen[canon] = header
        if notes is not None:
            was = f" (its header reads as {previous})" if previous else ""
            instead = f"; '{holder}' does not hold them and is left out" if holder else ""
            notes.append((f"'{header}' holds {canon} values{was}: mapped to {canon} by its "
                          f"values{instead} (按取值判断列含义)", True))
    return {header: canonical for canonical, header in chosen.items() if header != canonical}


def _vocabulary_check(role: str, cand: Candidate, mapping: dict[str, str]) -> None:
    from contigmap.io import checks as validate

    if cand.sample is None:
        return
    inverse = {canon: header for header, canon in mapping.items()}
    for canon, allowed in _DOMAINS.items():
        header = inverse.get(canon, canon if canon in cand.columns else None)
        if header is None or role_inputs(role) is None or header not in cand.sample:
            continue
        if mapping.get(header, header) != canon:
            continue
        aliases = validate._ALIASES.get(canon, {})
        known = {a.lower() for a in (*allowed, *aliases)}
        values = cand.sample[header].dropna().astype(str).str.strip()
        bad = sorted({v for v in values if v and v.lower() not in known})
        if bad:
            shown = ", ".join(bad[:8]) + (" ..." if len(bad) > 8 else "")
            cand.notes.append((f"'{header}' has values contigmap does not know: {shown}; recode "
                               f"them to {', '.join(allowed)} (值需转换，见 docs/inputs.md)", True))
    for canon in ("bridge", "tunnel", "poor"):
        header = inverse.get(canon, canon if canon in cand.columns else None)
        if header is None or header not in cand.sample:
            continue
        words = {w.lower() for w in (*BOOLEAN_TRUE, *BOOLEAN_FALSE)}
        values = cand.sample[header].dropna().astype(str).str.strip().str.lower()
        bad = sorted({v for v in values if v and v not in words and v not in ("1.0", "0.0")})
        if bad:
            cand.notes.append((f"'{header}' is yes/no but holds {', '.join(bad[:6])}; use "
                               "是/否, 有/无, Y/N, yes/no, true/false or 1/0", True))


def _kind_from_name(text: str) -> str | None:
    """Return the service kind named in a sheet name (卫生院 → health_centre), or None."""
    from contigmap.io import checks as validate

    words = {**validate._ALIASES.get("kind", {}), **{k: k for k in SERVICE_KINDS}}
    for word in sorted(words, key=len, reverse=True):
        if word.lower() in text.lower():
            return words[word]
    return None


# --------------------------------------------------------------------------- writing


def _q(value: object) -> str:
    """Return a YAML scalar: plain when it can only read back as this text, else double-quoted.

    Plain only for words, dots, slashes and dashes that YAML cannot take for a number,
    a boolean or null (``yes``, ``1e5``, ``~`` are quoted); a double-quoted JSON string is
    valid YAML for everything else.
    """
    text = str(value)
    plain = re.fullmatch(r"[^\W_][\w./\-]*", text) is not None and re.fullmatch(
        r"[-+.\d_eExXoObB]+|true|false|yes|no|null|on|off|y|n|\.?nan|\.?inf", text, re.I) is None
    if plain:
        return text
    return json.dumps(text, ensure_ascii=False)


def _geometry_zh(g: Geometry) -> str:
    return {"point": "点 point", "line": "线 line", "polygon": "面 polygon",
            "table": "表 table", "raster": "栅格 raster"}[g]


def _layer_block(cand: Candidate, indent: str, guesses: list[Guess],
                 extra_sheets: list[Candidate], *, use_sheets: bool = False) -> list[str]:
    role = cand.role or ""
    lines = [f"{indent}# {cand.source}: {_geometry_zh(cand.geometry)}, {cand.features} "
             f"features 要素; role 角色 from {cand.role_reason or 'geometry 几何'}"]
    lines.append(f"{indent}path: {_q(cand.rel)}")
    if cand.layer is not None and not extra_sheets:
        lines.append(f"{indent}layer: {_q(cand.layer)}")
    if cand.encoding is not None:
        lines.append(f"{indent}encoding: {cand.encoding}   # {CONFIRM} "
                     f"{cand.encoding.upper()} text 文本编码")
        guesses.append(Guess(cand.source, "encoding", cand.encoding, True))
    if cand.xy is not None:
        lines.append(f"{indent}x: {_q(cand.xy[0])}")
        lines.append(f"{indent}y: {_q(cand.xy[1])}")
        guesses.append(Guess(cand.source, "xy", f"{cand.xy[0]}, {cand.xy[1]}"))
    if cand.crs is not None and not cand.crs_from_file:
        lines.append(f"{indent}crs: {_q(cand.crs)}   # {CONFIRM} 坐标系 guessed from the values")
        guesses.append(Guess(cand.source, "crs", cand.crs, True))
    elif cand.crs is not None:
        guesses.append(Guess(cand.source, "crs", cand.crs, False, "from the file"))
    elif cand.geometry != "table":
        lines.append(f"{indent}# crs: EPSG:????   # {CONFIRM} 坐标系未知 CRS unknown: add it")
        guesses.append(Guess(cand.source, "crs", "unknown", True))
    if cand.datum is not None:
        lines.append(f"{indent}datum: {cand.datum}   # {CONFIRM} 高德/腾讯 GCJ-02")
        guesses.append(Guess(cand.source, "datum", cand.datum, True))
    mapping = _column_map(role, cand, cand.notes) if cand.geometry != "raster" else {}
    if mapping:
        lines.append(f"{indent}columns:")
        for header, canon in mapping.items():
            lines.append(f"{indent}  {_q(header)}: {canon}")
            guesses.append(Guess(cand.source, "column", f"{header} -> {canon}"))
    if extra_sheets:
        lines += _sheets_block(cand, extra_sheets, indent, guesses, use_sheets=use_sheets)
    if cand.geometry != "raster":
        _vocabulary_check(role, cand, mapping)
        schema = ROLE_SCHEMAS.get(role)
        mapped = set(mapping.values()) | set(cand.columns)
        if schema is not None:
            need = [schema.id_column] if role in _ID_NEEDED else []
            for col in (*need, *schema.required):
                if col not in mapped and not (col == "kind" and extra_sheets):
                    cand.notes.append((f"no column found for '{col}': map one under columns: "
                                       f"(未找到 {col} 列)", True))
        used = set(mapping) | set(cand.xy or ()) | set(mapping.values())
        unknown = [c for c in cand.columns if c not in used and match_column(role, c) is None]
        if unknown:
            lines.append(f"{indent}# not mapped 未映射的列: {', '.join(unknown[:12])}"
                         f"{' ...' if len(unknown) > 12 else ''}")
    for text, confirm in cand.notes:
        lines.append(f"{indent}# {CONFIRM + ' ' if confirm else ''}{text}")
        guesses.append(Guess(cand.source, "note", text, confirm))
    return lines


_ID_NEEDED = frozenset({"villages", "village_areas", "hamlets", "households",
                        "boundaries.townships"})


def _sheets_block(cand: Candidate, sheets: list[Candidate], indent: str,
                  guesses: list[Guess], *, use_sheets: bool) -> list[str]:
    kinds = {s.layer: _kind_from_name(s.layer or "") for s in [cand, *sheets]}
    if use_sheets:
        lines = [f"{indent}sheets:   # {CONFIRM} 每个工作表的设施类型 kind of each sheet"]
        for s in [cand, *sheets]:
            kind = kinds[s.layer]
            has_kind = "kind" in _column_map("services", s).values() or "kind" in s.columns
            body = f"{{set: {{kind: {kind}}}}}" if kind and not has_kind else "{}"
            lines.append(f"{indent}  {_q(s.layer)}: {body}")
        guesses.append(Guess(cand.source, "sheets", ", ".join(str(k) for k in kinds), True))
        return lines
    others = ", ".join(f"{s.layer} ({kinds[s.layer] or '?'})" for s in sheets)
    guesses.append(Guess(cand.source, "sheets", others, True))
    return [f"{indent}layer: {_q(cand.layer)}",
            f"{indent}# {CONFIRM} the workbook has more sheets of services: {others}; "
            "one sheet is read per layer (工作表只读一个，其余请合并)"]


def _render(folder: Path, cands: list[Candidate], name: str, title: str, *,
            use_sheets: bool) -> InitResult:
    guesses: list[Guess] = []
    by_role: dict[str, list[Candidate]] = {}
    for cand in cands:
        if cand.role is not None:
            by_role.setdefault(cand.role, []).append(cand)
            guesses.append(Guess(cand.source, "role", cand.role, False, cand.role_reason))
    # other sheets of the services workbook that look like services too
    extra: list[Candidate] = []
    services = by_role.get("services", [None])[0]
    if services is not None and services.layer is not None:
        for cand in cands:
            if (cand.role is None and cand.path == services.path and cand is not services
                    and _score("services", cand)[0] > 0):
                cand.role = "services"
                extra.append(cand)
    lines = [
        f"# region.yaml drafted by `contigmap init` on {date.today().isoformat()} from "
        f"{len(cands)} layer(s) in {folder.name}/",
        "# 由 contigmap init 自动生成：以下均为猜测，请逐项核对标有“请确认 confirm”的行，",
        "# 然后运行 contigmap validate region.yaml。",
        "# Everything below is a guess: check each line marked “请确认 confirm”, then run",
        "#   contigmap validate region.yaml",
        "# Roles, columns and accepted values: docs/inputs.md (contigmap inputs).",
        f"name: {_q(name)}",
        f"title: {_q(title)}   # {CONFIRM} 县名 display title",
        "working_crs: auto   # UTM, or the CGCS2000 3° Gauss–Krüger zone for CGCS2000 data",
        "layers:",
    ]
    for role in ("villages", "roads"):
        if role not in by_role:
            lines.append(f"  # {role}: {{path: ...}}   # {CONFIRM} 必需 required: no file "
                         f"looked like {role} (未找到)")
            guesses.append(Guess("", "role", f"{role} missing", True))
    for role in ("villages", "roads", "village_areas", "hamlets", "dem", "rivers", "services",
                 "households"):
        for cand in by_role.get(role, []):
            lines.append(f"  {role}:")
            lines += _layer_block(cand, "    ", guesses, extra if role == "services" else [],
                                  use_sheets=use_sheets)
    for group in ("boundaries", "infrastructure"):
        members = [(r.split(".", 1)[1], c) for r, cs in by_role.items()
                   if r.startswith(group + ".") for c in cs]
        if members:
            lines.append(f"  {group}:")
            for sub, cand in members:
                lines.append(f"    {sub}:")
                lines += _layer_block(cand, "      ", guesses, [])
    for group in _GROUPED:
        if group in by_role:
            lines.append(f"  {group}:")
            for cand in by_role[group]:
                lines.append(f"    {cand.name}:")
                lines += _layer_block(cand, "      ", guesses, [])
    unused = [c for c in cands if c.role is None]
    if unused:
        lines.append("# 未使用的文件 files not used (no role recognised 未识别):")
        for cand in unused:
            lines.append(f"#   {cand.source} ({_geometry_zh(cand.geometry)}; headers 表头: "
                         f"{', '.join(cand.columns[:10])})")
            guesses.append(Guess(cand.source, "unused", "", True))
    text = "\n".join(lines) + "\n"
    return InitResult(text=text, guesses=guesses, folder=folder)


def init_region(folder: str | Path, *, name: str | None = None,
                title: str | None = None) -> InitResult:
    """Look at a folder of files and draft its commented ``region.yaml``.

    Parameters
    ----------
    folder
        The folder as handed over (sub-folders are searched too).
    name
        ``name:`` of the region (ASCII); default: the folder name made ASCII, else ``region``.
    title
        ``title:``; default: the folder name.

    Returns
    -------
    InitResult
        The manifest text and the list of guesses; nothing is written.

    Raises
    ------
    LayerError
        The folder does not exist or holds no readable file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        msg = f"{folder}: not a folder; give the folder that holds the data files"
        raise LayerError(msg)
    cands = _scan(folder)
    if not cands:
        msg = (f"{folder}: no readable GeoPackage, GeoParquet, Shapefile, GeoJSON, CSV, XLSX "
               "or GeoTIFF file found")
        raise LayerError(msg)
    _assign_roles(cands)
    _resolve_crs(cands)
    from contigmap.config import LayerSpec, RegionConfig, parse_model, parse_yaml_text

    slug = re.sub(r"[^A-Za-z0-9_\-]+", "_", folder.resolve().name).strip("_")
    name, title = name or slug or "region", title or folder.resolve().name
    # ``sheets:`` (several sheets of one workbook in one layer) when the manifest knows it
    use_sheets = "sheets" in LayerSpec.model_fields
    for cand in cands:
        cand.notes_at_start = list(cand.notes)
    result = _render(folder, cands, name, title, use_sheets=use_sheets)
    try:
        parse_model(RegionConfig, parse_yaml_text(result.text, "draft region.yaml"),
                    source="draft region.yaml")
    except ContigmapError as err:
        if use_sheets:
            for cand in cands:
                cand.notes = list(cand.notes_at_start)
            result = _render(folder, cands, name, title, use_sheets=False)
        logger.warning("the drafted region.yaml does not parse yet: %s", err)
    logger.info("init: %d layer(s), %d guess(es) to confirm", len(cands),
                len(result.to_confirm))
    return result
