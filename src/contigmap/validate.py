"""Checks on input layers, region facts, and the ``contigmap validate`` report.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from contigmap.layers import LayerReport, RegionData

__all__ = [
    "ValidationReport",
    "check_coordinates",
    "check_extent",
    "check_layer",
    "check_raster",
    "region_facts",
    "validation_report",
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
    },
}

_MAX_LISTED = 5


def _warn(problems: list[str] | None, source: str, text: str) -> None:
    if problems is not None:
        problems.append(text)
    warnings.warn(f"{source}: {text}", DataQualityWarning, stacklevel=3)


def _rows(index: pd.Index | np.ndarray, ids: pd.Series | None = None) -> str:
    """Describe rows as 'data rows 3, 8 (id 'A', 'B')', 1-based, listing at most a few."""
    positions = list(index)
    shown = ", ".join(str(int(p) + 1) for p in positions[:_MAX_LISTED])
    more = f" and {len(positions) - _MAX_LISTED} more" if len(positions) > _MAX_LISTED else ""
    label = "data row" if len(positions) == 1 else "data rows"
    text = f"{label} {shown}{more}"
    if ids is not None:
        shown_ids = ", ".join(f"'{ids.iloc[int(p)]}'" for p in positions[:_MAX_LISTED])
        text += f" (id {shown_ids})"
    return text


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


def _check_ids(frame: pd.DataFrame, id_col: str, source: str) -> None:
    ids = frame[id_col]
    missing = np.flatnonzero(ids.isna().to_numpy() | (ids.astype(str).str.strip() == ""))
    if missing.size:
        msg = f"{source}: column '{id_col}' is empty in {_rows(missing)}; give every row an id"
        raise ValidationError(msg)
    dup_mask = ids.duplicated(keep=False).to_numpy()
    if dup_mask.any():
        first = ids[dup_mask].iloc[0]
        rows = np.flatnonzero((ids == first).to_numpy())
        n_values = ids[dup_mask].nunique()
        more = f" ({n_values - 1} other id(s) repeat too)" if n_values > 1 else ""
        msg = (
            f"{source}: id '{first}' in column '{id_col}' repeats in {_rows(rows)}{more}; "
            "ids must be unique: fix the file or point 'id:' at a unique column"
        )
        raise ValidationError(msg)


def _check_geometry(
    gdf: gpd.GeoDataFrame, allowed: tuple[str, ...], source: str, problems: list[str] | None
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
            f"{int(empty.sum())} empty geometries dropped ({_rows(np.flatnonzero(empty))})",
        )
        gdf = gdf.loc[~empty].reset_index(drop=True)
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
            f"({_rows(np.flatnonzero(invalid))})",
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
        msg = (
            f"{source}: geometry type {found} is not allowed here ({_rows(np.flatnonzero(bad))}); "
            f"this layer needs {' or '.join(allowed)} geometries"
        )
        raise ValidationError(msg)
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
    frame: pd.DataFrame, col: str, minimum: float, id_col: str, source: str
) -> pd.DataFrame:
    values = frame[col]
    numbers = pd.to_numeric(values, errors="coerce")
    not_number = numbers.isna().to_numpy() & values.notna().to_numpy()
    if not_number.any():
        rows = np.flatnonzero(not_number)
        msg = (
            f"{source}: column '{col}' has non-numeric values such as '{values.iloc[rows[0]]}' "
            f"in {_rows(rows, frame.get(id_col))}; use plain numbers"
        )
        raise ValidationError(msg)
    below = (numbers < minimum).to_numpy()
    if below.any():
        rows = np.flatnonzero(below)
        msg = (
            f"{source}: column '{col}' must be at least {minimum:g} but is "
            f"{numbers.iloc[rows[0]]:g} in {_rows(rows, frame.get(id_col))}"
            "; fix the values"
        )
        raise ValidationError(msg)
    if not pd.api.types.is_numeric_dtype(values):
        frame = frame.copy()
        frame[col] = numbers
    return frame


def _check_domain(
    frame: pd.DataFrame, col: str, allowed: tuple[str, ...], id_col: str, source: str
) -> pd.DataFrame:
    aliases = _ALIASES.get(col, {})
    lookup = {a.lower(): a for a in allowed}

    def norm(value: Any) -> Any:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        text = str(value).strip()
        return lookup.get(text.lower(), aliases.get(text, aliases.get(text.lower(), text)))

    values = frame[col].map(norm)
    empty = values.isna().to_numpy()
    if empty.any():
        msg = (
            f"{source}: column '{col}' is empty in {_rows(np.flatnonzero(empty), frame[id_col])}; "
            f"use one of: {', '.join(allowed)}"
        )
        raise ValidationError(msg)
    unknown = ~values.isin(list(allowed)).to_numpy()
    if unknown.any():
        rows = np.flatnonzero(unknown)
        bad = str(values.iloc[rows[0]])
        close = difflib.get_close_matches(bad, list(allowed), n=1, cutoff=0.5)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        msg = (
            f"{source}: unknown {col} '{bad}' in {_rows(rows, frame[id_col])}{hint}; allowed: "
            f"{', '.join(allowed)}; recode the values"
        )
        raise ValidationError(msg)
    frame = frame.copy()
    frame[col] = values.astype(str)
    return frame


def _check_booleans(frame: pd.DataFrame, schema: RoleSchema, source: str) -> pd.DataFrame:
    """Parse the role's yes/no columns (and flag-or-share columns) with the shared parser."""
    from contigmap.booleans import parse_bool

    labels = frame["_src_row"].astype(str).tolist() if "_src_row" in frame.columns else None
    for col, default in schema.booleans.items():
        if col in frame.columns and not pd.api.types.is_bool_dtype(frame[col]):
            parsed = parse_bool(frame[col], column=col, default=default, source=source,
                                rows=labels)
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
        frame[col] = parse_bool(frame[col], column=col, source=source, rows=labels).astype(float)
    return frame


def check_layer(
    frame: gpd.GeoDataFrame | pd.DataFrame,
    *,
    role: str,
    source: str,
    problems: list[str] | None = None,
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
        The layer after :func:`contigmap.layers.read_layer`'s renaming.
    role
        A key of :data:`contigmap.schema.ROLE_SCHEMAS`.
    source
        How to name the layer in messages.
    problems
        Non-fatal problems are appended here (and issued as DataQualityWarning).

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        The checked layer: empty geometries dropped, invalid ones repaired, domain
        values normalised, numeric columns as numbers.

    Raises
    ------
    ValidationError
        A rule is broken; the message names the column, the rows and the fix.
    CRSError
        A spatial layer has no CRS.
    """
    schema = ROLE_SCHEMAS[role]
    _require_columns(frame, (schema.id_column, *schema.required), source)
    _check_ids(frame, schema.id_column, source)
    if schema.geometry and (isinstance(frame, gpd.GeoDataFrame) or not schema.table_ok):
        if not isinstance(frame, gpd.GeoDataFrame):
            kinds = " or ".join(schema.geometry)
            msg = f"{source}: the layer has no geometry; this role needs {kinds} geometries"
            raise ValidationError(msg)
        frame = _check_geometry(frame, schema.geometry, source, problems)
        if "point" in schema.geometry and "polygon" in schema.geometry:
            _check_one_kind(frame, source)
    for col, minimum in schema.numeric_min.items():
        if col in frame.columns:
            frame = _check_numeric(frame, col, minimum, schema.id_column, source)
    for col, allowed in schema.domains.items():
        if col in frame.columns:
            frame = _check_domain(frame, col, allowed, schema.id_column, source)
    return _check_booleans(frame, schema, source)


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


# --------------------------------------------------------------------------- facts


def _poverty_indicators(data: RegionData) -> pd.DataFrame:
    """Headline indicators of the region's people and poor people, before any stage ran.

    The same steps as the pipeline (:func:`contigmap.poverty.poverty_profile`, then
    :func:`contigmap.poverty.apply_poverty_sources`, then
    :func:`contigmap.indicators.headline_indicators`), on the attribute tables only.
    """
    from contigmap.indicators import headline_indicators
    from contigmap.poverty import apply_poverty_sources, household_size, poverty_profile

    table = pd.DataFrame(data.villages.drop(columns=data.villages.geometry.name))
    hh = data.households
    registry = hh is not None and {"household_id", "village_id", "members", "poor"} <= set(hh)
    if registry and hh is not None and "village_id" in table:
        ids = table["village_id"].astype(str)
        with warnings.catch_warnings():  # the layer checks report these problems
            warnings.simplefilter("ignore", DataQualityWarning)
            try:
                prof = poverty_profile(hh, village_ids=ids)
            except ValidationError:
                prof = None
        if prof is not None:
            prof = prof.reindex(ids.to_numpy())
            for col in prof.columns:
                table[col] = prof[col].to_numpy()
        registry = prof is not None
    spec = data.config.layers.households
    size, _ = household_size(data.config)
    table = apply_poverty_sources(table, registry=registry, size=size,
                                  complete=spec.complete if spec is not None else None)
    return headline_indicators(table)


def region_facts(data: RegionData, *, indicators: pd.DataFrame | None = None) -> dict[str, Any]:
    """Headline numbers of a region, computed in its working CRS.

    Parameters
    ----------
    data
        The loaded layers.
    indicators
        The run's headline indicators (:func:`contigmap.indicators.headline_indicators`);
        the people and poverty figures are read from its county row. Computed from the
        layers when not given (``validate``).

    Returns
    -------
    dict
        ``area_km2`` (county boundary, else union of townships, else village areas),
        ``townships``, ``villages``, ``hamlets``, ``pop`` (sum of village ``pop``,
        else household ``members``), ``road_km``, ``road_km_by_class``,
        ``road_km_by_surface``, ``road_density_km_per_km2``, ``households`` (as
        chosen per village: villages layer, complete registry or pop / household size),
        ``registry_households`` (rows of the registry), ``poor_pop`` and
        ``poverty_incidence`` (Σ poor_pop / Σ pop_basis, the same definition as every
        output), ``poor_pop_source``. Values that cannot be computed are ``None``.
    """
    facts: dict[str, Any] = {"working_crs": data.working_crs.to_string()}
    area_m2: float | None = None
    if "county" in data.boundaries:
        area_m2 = float(data.boundaries["county"].geometry.union_all().area)
    elif "townships" in data.boundaries:
        area_m2 = float(data.boundaries["townships"].geometry.union_all().area)
    elif data.village_areas is not None:
        area_m2 = float(data.village_areas.geometry.union_all().area)
    facts["area_km2"] = None if area_m2 is None else area_m2 / 1e6
    if "townships" in data.boundaries:
        facts["townships"] = len(data.boundaries["townships"])
    elif "township_id" in data.villages:
        facts["townships"] = int(data.villages["township_id"].nunique())
    else:
        facts["townships"] = None
    facts["villages"] = len(data.villages)
    facts["hamlets"] = None if data.hamlets is None else len(data.hamlets)
    hh = data.households
    pop: float | None = None
    if "pop" in data.villages:
        pop = float(pd.to_numeric(data.villages["pop"], errors="coerce").sum())
    elif hh is not None and "members" in hh:
        pop = float(hh["members"].sum())
    facts["pop"] = None if pop is None else round(pop)
    roads = data.roads
    length_km = roads.geometry.length.to_numpy() / 1000.0
    facts["road_km"] = float(length_km.sum())
    for col, key in (("road_class", "road_km_by_class"), ("surface", "road_km_by_surface")):
        if col in roads:
            series = pd.Series(length_km, index=roads.index).groupby(roads[col].astype(str)).sum()
            facts[key] = {str(k): float(v) for k, v in series.sort_values(ascending=False).items()}
        else:
            facts[key] = {}
    facts["road_density_km_per_km2"] = (
        facts["road_km"] / facts["area_km2"] if facts["area_km2"] else None
    )
    from contigmap.indicators import county_indicators

    if indicators is None:
        indicators = _poverty_indicators(data)
    county = county_indicators(indicators)

    def known(key: str) -> float | None:
        value = county.get(key)
        return None if value is None or not np.isfinite(float(value)) else float(value)

    households, poor_pop = known("households"), known("poor_pop")
    facts["households"] = None if households is None else round(households)
    facts["registry_households"] = None if hh is None else len(hh)
    facts["poor_pop"] = None if poor_pop is None else round(poor_pop)
    facts["poverty_incidence"] = known("poverty_incidence")
    facts["poor_pop_source"] = str(county.get("poor_pop_source", "")) or None
    return facts


# --------------------------------------------------------------------------- report


@dataclass
class ValidationReport:
    """What ``contigmap validate`` prints: one row per layer, then the region's facts.

    Attributes
    ----------
    region_path
        The manifest checked.
    working_crs
        The working CRS, as text.
    layers
        One :class:`contigmap.layers.LayerReport` per declared layer.
    facts
        :func:`region_facts` of the layers that loaded.
    """

    region_path: Path
    working_crs: str
    layers: list[LayerReport] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no layer failed (warnings allowed)."""
        return not any(r.failed for r in self.layers)

    @property
    def n_problems(self) -> int:
        """Number of problems over all layers."""
        return sum(len(r.problems) for r in self.layers)

    def to_text(self) -> str:
        """Render an aligned plain-text report (Chinese text aligned by display width)."""
        lines = [f"region: {self.region_path}", f"working CRS: {self.working_crs}", ""]
        header = ("layer", "file", "features", "CRS in", "bounds (working CRS, m)")
        rows = [header]
        for r in self.layers:
            bounds = "" if r.bounds is None else ", ".join(f"{v:.0f}" for v in r.bounds)
            rows.append((r.name, r.path.name, str(r.features), r.crs_in or "-", bounds))
        widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
        for i, row in enumerate(rows):
            cells = [_pad(cell, widths[j], right=(j == 2 and i > 0)) for j, cell in enumerate(row)]
            lines.append("  ".join(cells).rstrip())
        lines.append("")
        problems = [(r.name, p) for r in self.layers for p in r.problems]
        if problems:
            lines.append(f"problems ({len(problems)}):")
            lines.extend(f"  {name}: {text}" for name, text in problems)
        else:
            lines.append("problems: none")
        lines.append("")
        lines.append("region facts:")
        lines.extend(f"  {line}" for line in _facts_lines(self.facts))
        lines.append("")
        lines.append("result: OK" if self.ok else "result: FAILED (see ERROR lines above)")
        return "\n".join(lines)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def _facts_lines(facts: dict[str, Any]) -> list[str]:
    def num(value: Any, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    out = [
        f"area: {num(facts.get('area_km2'), ',.1f')} km²",
        f"townships: {num(facts.get('townships'), 'd')}",
        f"villages: {num(facts.get('villages'), ',d')}",
        f"hamlets: {num(facts.get('hamlets'), ',d')}",
        f"people: {num(facts.get('pop'), ',d')}",
        f"roads: {num(facts.get('road_km'), ',.1f')} km, density "
        f"{num(facts.get('road_density_km_per_km2'), '.2f')} km/km²",
    ]
    for key, label in (("road_km_by_class", "by class"), ("road_km_by_surface", "by surface")):
        parts = facts.get(key) or {}
        if parts:
            out.append(f"  {label}: " + ", ".join(f"{k} {v:,.1f}" for k, v in parts.items()))
    if facts.get("households") is not None:
        out.append(f"households: {facts['households']:,d}")
    if facts.get("registry_households") is not None:
        out.append(f"households in the registry: {facts['registry_households']:,d}")
    if facts.get("poverty_incidence") is not None:
        source = facts.get("poor_pop_source") or ""
        note = ", estimated from a registry sample" if "sample" in source else ""
        out.append(
            f"poverty incidence: {facts['poverty_incidence']:.1%} "
            f"({facts['poor_pop']:,d} poor people{note}; source {source})"
        )
    return out


def validation_report(
    region_path: str | Path, *, progress: bool = False, strict: bool = False
) -> ValidationReport:
    """Load a region's layers, collecting every problem, and compute its facts.

    A layer that fails is reported (``ERROR: ...``) and skipped, except ``villages``
    and ``roads``, whose errors are raised because nothing can be checked without them.

    Parameters
    ----------
    region_path
        Path of ``region.yaml``.
    progress
        Show a progress bar over layers.
    strict
        Rows that would be left out with a warning (missing coordinates) are errors.

    Returns
    -------
    ValidationReport
        Per-layer reports and region facts; ``ok`` is False when a layer failed.
    """
    from contigmap.config import load_region
    from contigmap.layers import load_region_layers

    region_path = Path(region_path)
    region = load_region(region_path)
    data = load_region_layers(region, progress=progress, strict=strict, collect_errors=True)
    facts = region_facts(data)
    return ValidationReport(
        region_path=region_path,
        working_crs=f"{data.working_crs.name} ({data.working_crs.to_string()})",
        layers=list(data.reports.values()),
        facts=facts,
    )
