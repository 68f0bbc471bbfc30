"""A whole region: every declared layer read, checked and put in one working CRS.

:func:`load_region_layers` reads the vector layers and tables
(:mod:`contigmap.io.read`), checks them (:mod:`contigmap.io.checks`), chooses the
working CRS (from the manifest, or UTM / CGCS2000 Gauss–Krüger from the villages'
centroid), reprojects, looks for swapped coordinates and layers outside the region,
then reads and warps the rasters (:mod:`contigmap.io.rasters`). The result is a
:class:`RegionData`; each layer's :class:`LayerReport` is what ``contigmap validate``
shows.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from contigmap.config import LayerSpec, RegionConfig
from contigmap.crs import choose_working_crs, crs_kind, is_cgcs2000
from contigmap.errors import ConfigError, ContigmapError, CRSError, ValidationError
from contigmap.io import checks
from contigmap.io._common import (
    _ROW,
    _SRC_X,
    _SRC_Y,
    _TABLE_SUFFIXES,
    _drop_private,
    _list_rows,
    _note,
    is_raster_path,
)
from contigmap.io.join import apply_joins
from contigmap.io.personal import drop_personal
from contigmap.io.points import flag_outside_county, merge_duplicate_points
from contigmap.io.rasters import _raster_crs_text, read_raster
from contigmap.io.read import _read_vector_or_table, _swapped_message
from contigmap.raster import Raster
from contigmap.schema import ROLE_SCHEMAS, role_key

logger = logging.getLogger(__name__)


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
        """Every file read, for the run manifest (shapefile side-cars not included).

        A File Geodatabase folder and DEM tiles give their files (:meth:`LayerSpec.files`).
        """
        specs = {key: spec for key, _, spec in _layer_entries(self.config)}
        base_dir = Path(self.config.base_dir)
        return [f for key, report in self.reports.items()
                for f in (specs[key].files(base_dir) if key in specs else [report.path])]


def _layer_entries(region: RegionConfig) -> list[tuple[str, str, LayerSpec]]:
    """(manifest key, schema key, spec) of every declared layer, villages first."""
    layers = region.layers
    out: list[tuple[str, str, LayerSpec]] = [("villages", "villages", layers.villages)]
    out += [(road_source_key(k), "roads", spec) for k, spec in enumerate(layers.road_sources())]
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
        :func:`contigmap.io.checks.check_layer` ``errors``) are all recorded and the rest
        of the layer is kept. ``villages`` and ``roads`` must still be readable.

    Returns
    -------
    RegionData
        Every layer in the working CRS: from ``working_crs`` in the manifest, or
        chosen from the villages' centroid (UTM, or the CGCS2000 3-degree Gauss–Krüger
        zone when most vector inputs are CGCS2000).
    """
    base_dir = Path(region.base_dir)
    loading = _Loading(collect_errors=collect_errors)
    raster_entries = _read_vector_layers(region, loading, progress=progress, strict=strict)
    if region.working_crs.strip().lower() == "auto":
        working = _auto_working_crs(loading.frames, loading.crs_in)
    else:
        working = _explicit_working_crs(region.working_crs)
    logger.info("working CRS: %s", working.name)
    extent = _reproject_and_place(loading, region, working)
    rasters = _read_rasters(loading, raster_entries, base_dir, working, extent)
    return _assemble(region, working, loading, rasters)


@dataclass
class _Loading:
    """What :func:`load_region_layers` has read so far, and how it records failures."""

    collect_errors: bool
    reports: dict[str, LayerReport] = field(default_factory=dict)
    frames: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    crs_in: dict[str, CRS] = field(default_factory=dict)

    def fail(self, key: str, err: ContigmapError | str, *, kept: bool = False) -> None:
        """Raise, or (collecting) record the error; ``kept``: the layer can still be used."""
        if not self.collect_errors or (key in ("villages", "roads") and not kept):
            raise err if isinstance(err, ContigmapError) else ValidationError(err)
        self.reports[key].failed = True
        self.reports[key].problems.append(f"ERROR: {err}")
        logger.error("%s", err)


def _read_vector_layers(
    region: RegionConfig, loading: _Loading, *, progress: bool, strict: bool
) -> list[tuple[str, str, LayerSpec]]:
    """Read and check every vector layer and table; return the raster entries, unread."""
    from tqdm import tqdm

    base_dir = Path(region.base_dir)
    raster_entries: list[tuple[str, str, LayerSpec]] = []
    entries = _layer_entries(region)
    for key, schema_key, spec in tqdm(entries, desc="reading layers", disable=not progress):
        path = spec.path if spec.path.is_absolute() else base_dir / spec.path
        source = f"layers.{key} ({spec.path.name})"
        report = LayerReport(name=key, path=path)
        loading.reports[key] = report
        if key == "dem" or (key.split(".")[0] == "hazards" and is_raster_path(spec.path)):
            report.kind = "raster"
            if spec.radius_m is not None and key != "dem":
                _note(report.problems, source, "'radius_m:' is for hazard point layers; this "
                      "layer is a raster, so it is ignored")
            raster_entries.append((key, schema_key, spec))
            continue
        try:
            frame, crs_text, declared = _read_source(
                spec, base_dir=base_dir, role=schema_key, source=source,
                problems=report.problems, strict=strict)
            frame = apply_joins(frame, spec, role=schema_key, base_dir=base_dir,
                                source=source, problems=report.problems)
            frame = drop_personal(frame, id_column=ROLE_SCHEMAS[schema_key].id_column,
                                  source=source)
            row_errors: list[str] | None = [] if loading.collect_errors else None
            frame = checks.check_layer(
                frame, role=schema_key, source=source, problems=report.problems,
                errors=row_errors,
            )
            if isinstance(frame, gpd.GeoDataFrame):
                _count_geometry_issues(frame, source, report.problems)
        except ContigmapError as err:
            loading.fail(key, err)
            continue
        for text in row_errors or ():  # collected: the rest of the layer is still used
            loading.fail(key, text, kept=True)
        report.features = len(frame)
        report.crs_in = crs_text
        if isinstance(frame, gpd.GeoDataFrame):
            loading.frames[key] = frame
            if declared:
                loading.crs_in[key] = frame.crs
        else:
            report.kind = "table"
            loading.tables[key] = _drop_private(frame)
    return raster_entries


def _reproject_and_place(
    loading: _Loading, region: RegionConfig, working: CRS
) -> NDArray[np.float64]:
    """Reproject every vector layer; check swapped rows and the extent; return the extent.

    A layer that fails a check is dropped (``villages`` and ``roads`` are kept).
    """
    frames, reports = loading.frames, loading.reports
    for key in list(frames):
        frames[key] = frames[key].to_crs(working)
        reports[key].bounds = tuple(float(v) for v in frames[key].total_bounds)  # type: ignore[assignment]

    extent_key, extent = _region_extent(frames)
    for key in list(frames):
        try:
            _check_swapped_rows(key, frames, region, working, reports[key].path.name)
        except ContigmapError as err:
            essential = key in ("villages", "roads")
            loading.fail(key, err, kept=essential)
            if not essential:
                frames.pop(key)
    for key in list(frames):
        frames[key] = _drop_private(frames[key])
        if key == extent_key:
            continue
        try:
            checks.check_extent(
                frames[key],
                extent,
                source=f"layers.{key} ({reports[key].path.name})",
                extent_name=f"layers.{extent_key}",
                table_xy=_table_xy_names(region, key),
                problems=reports[key].problems,
                margin_m=SERVICES_MARGIN_M if key == "services" else 5000.0,
            )
        except ContigmapError as err:
            essential = key in ("villages", "roads")
            loading.fail(key, err, kept=essential)
            if not essential:
                frames.pop(key)
    return extent


def _read_rasters(
    loading: _Loading,
    raster_entries: list[tuple[str, str, LayerSpec]],
    base_dir: Path,
    working: CRS,
    extent: NDArray[np.float64],
) -> dict[str, Raster]:
    """Read, warp and check every raster layer."""
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
            report = loading.reports[key]
            report.features = int(np.isfinite(raster.array).sum())
            report.bounds = raster.bounds
            report.crs_in = _raster_crs_text(base_dir, spec)
            checks.check_raster(
                raster,
                extent,
                source=f"layers.{key} ({report.path.name})",
                problems=report.problems,
            )
        except ContigmapError as err:
            loading.fail(key, err)
            continue
        rasters[key] = raster
    return rasters


def _assemble(
    region: RegionConfig, working: CRS, loading: _Loading, rasters: dict[str, Raster]
) -> RegionData:
    """Group the layers read into a :class:`RegionData` (polygon villages become points)."""
    frames, tables = loading.frames, loading.tables
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
        roads=_merged_roads(region, frames, loading.reports),
        village_areas=village_areas,
        hamlets=frames.get("hamlets"),
        services=_services(frames),
        rivers=frames.get("rivers"),
        boundaries=group("boundaries", frames),
        hazards=hazards,
        ecology=group("ecology", frames),
        infrastructure=group("infrastructure", frames),
        households=tables.get("households"),
        dem=rasters.get("dem"),
        reports=loading.reports,
        township_table=tables.get("boundaries.townships"),
    )
    logger.info(
        "read %d layers: %d villages, %d road features",
        len(loading.reports),
        len(villages),
        len(data.roads),
    )
    return data


def road_source_key(k: int) -> str:
    """Manifest key of the k-th (0-based) roads source: ``roads``, ``roads[2]``, ..."""
    return "roads" if k == 0 else f"roads[{k + 1}]"


def _read_source(
    spec: LayerSpec, *, base_dir: Path, role: str, source: str, problems: list[str],
    strict: bool,
) -> tuple[gpd.GeoDataFrame | pd.DataFrame, str | None, bool]:
    """Read one layer file: an OSM extract for roads, else any vector file or table."""
    name = spec.path.name.lower()
    if role == "roads" and name.endswith((".osm.pbf", ".pbf", ".osm", ".osm.bz2")):
        from contigmap.network.osm import read_osm_roads

        path = spec.path if spec.path.is_absolute() else base_dir / spec.path
        tags = spec.osm_tags
        frame = read_osm_roads(path, highway=tags.highway if tags else None,
                               surface=tags.surface if tags else None)
        frame[_ROW] = [f"way {i}" for i in frame["road_id"]]
        return frame, "EPSG:4326", False
    return _read_vector_or_table(spec, base_dir=base_dir, role=role, source=source,
                                 problems=problems, strict=strict)


def _merged_roads(region: RegionConfig, frames: dict[str, gpd.GeoDataFrame],
                  reports: dict[str, LayerReport]) -> gpd.GeoDataFrame:
    """Return the roads: one source as read, or several merged (:mod:`contigmap.io.merge`)."""
    specs = region.layers.road_sources()
    keys = [road_source_key(k) for k in range(len(specs)) if road_source_key(k) in frames]
    if len(keys) == 1:
        return frames[keys[0]]
    from contigmap.io.merge import merge_line_sources

    rule = region.merge
    merged, report = merge_line_sources(
        [frames[k] for k in keys], keys,
        priorities=[specs[k].priority for k in range(len(specs)) if road_source_key(k) in frames],
        buffer_m=rule.buffer_m, share=rule.share, join_m=rule.join_m)
    for key, line in zip(keys[1:], report.lines(), strict=True):
        reports[key].problems.append(f"merged into roads: {line}")
    return merged


SERVICES_MARGIN_M = 30_000.0
"""Service points up to this far outside the region are a neighbour's (kept, flagged in
``outside_county``); farther, a table's coordinates are taken to be wrong (an error)."""


def _services(frames: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame | None:
    """Services with repeated points merged and those outside the county flagged."""
    services = frames.get("services")
    if services is None:
        return None
    services = merge_duplicate_points(services)
    return flag_outside_county(services, frames.get("boundaries.county"))


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
    if key == "roads" or key.startswith("roads["):
        k = 0 if key == "roads" else int(key[6:-1]) - 1
        return region.layers.road_sources()[k]
    group, _, name = key.partition(".")
    spec: Any = getattr(region.layers, group, None)
    if isinstance(spec, dict):
        spec = spec.get(name)
    return spec if isinstance(spec, LayerSpec) else None


def _table_xy_names(region: RegionConfig, key: str) -> tuple[str, str] | None:
    """Return the x/y column names of a table layer, to name in messages."""
    spec = _spec_of(region, key)
    if spec is None or Path(spec.path).suffix.lower() not in _TABLE_SUFFIXES:
        return None
    return (spec.x or "x"), (spec.y or "y")
