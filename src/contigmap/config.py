"""The region manifest (``layers/<region>/region.yaml``) as validated pydantic models.

A region manifest declares each input layer by its *role* (villages, roads, dem, ...).
Every layer entry says where the file is, which column holds the id, how the user's
column names map onto contigmap's names, and, where the file itself cannot say it,
the CRS, the text encoding and the datum (``gcj02`` for data taken from Chinese web
maps).

Example
-------
.. code-block:: yaml

    name: huayuan
    title: 花垣县
    working_crs: auto          # or e.g. "EPSG:4546" (CGCS2000 / 3-degree GK CM 111E)
    layers:
      villages: {path: villages.gpkg, layer: villages, id: village_id}
      roads:
        path: roads.shp
        id: ROAD_ID
        encoding: gbk
        columns: {等级: road_class, 路面: surface}
      services: {path: services.csv, id: service_id, x: lon, y: lat, datum: gcj02}
      dem: {path: dem.tif}
      hazards:
        landslide: {path: landslide.tif}
        flood: {path: hazards.gpkg, layer: flood, id: hazard_id}

Selecting and recoding rows
---------------------------
Every vector or table layer entry may also say which rows to keep and how to recode
them, so that files can be used as handed over:

``filter:``
    ``{column: [value, ...]}``: keep only the rows whose value in that column is
    one of the listed values (compared as trimmed text; several columns must all
    match). Column names are the **file's own** names, before ``columns:``
    renaming (a canonical name that ``columns:`` maps a file column to is accepted
    too). An unknown column is a :class:`~contigmap.errors.ConfigError` naming the
    closest column of the file.
``class:``
    Hazard layers only (polygons or points): ``{column: 易发程度, weights: {高易发区: 1.0, ...}}``
    gives each polygon the weight of its class (a number from 0 to 1). Rows of
    weight 0 are dropped; a value missing from ``weights`` is an error. The
    overlay then reports a class-weighted share and the largest weight per village
    (``hazard_<layer>_wshare``, ``hazard_<layer>_wmax``) instead of treating every
    polygon alike, and relocation receiving sites avoid only polygons whose weight
    is above ``hazard_site_weight_max`` (relocation settings; default 0.5). The
    column is named as in ``filter:`` (the file's own name).
``radius_m:``
    Hazard **point** layers only (地质灾害隐患点: a layer under ``hazards:`` whose
    geometries are points, e.g. an XLSX with 经度/纬度 or a point shapefile): the
    search radius in metres (default 500, :data:`contigmap.schema.HAZARD_POINT_RADIUS_M`).
    A point counts for a village or hamlet when its settlement point is within this
    distance, and for a road segment within this distance of the segment; the overlay
    reports ``hazard_<layer>_points``, ``_threatened`` (sum of ``threatened_people``,
    威胁人数) and ``_wmax`` per settlement, and relocation makes such settlements
    candidates. ``class:`` applies to point layers as to polygons (``risk_class``,
    风险等级, weights). Given for a hazard polygon layer it is ignored with a warning;
    for any other role it is an error.
``values:``
    ``{canonical column: {value: new value}}``: recode values *after* renaming,
    e.g. ``values: {kind: {镇: township_seat, 县城: [county_seat, township_seat]}}``.
    Values not listed are kept as they are. A list (or ``a;b`` text) gives a row
    several service kinds: the row becomes one service per kind, with the same
    point and ids ``<id>#<kind>``.
``set:``
    ``{canonical column: value}``: a constant column (``set: {kind: school}``),
    overriding a column of the same name.
``sheets:``
    Workbooks (``.xlsx``/``.xls``) only: ``{sheet name: {overrides}}`` reads each
    named sheet and stacks them; each sheet may have its own ``columns``,
    ``filter``, ``values``, ``set``, ``x`` and ``y`` (merged over the layer's own),
    e.g. ``sheets: {卫生院: {set: {kind: health_centre}}, 学校: {set: {kind: school}}}``.

Order of application, per sheet: ``filter`` and ``class`` (file's column names),
``columns`` renaming, ``values``, ``set``; then coordinates, ids and checks.

``join:``
    ``{path: 人口统计表.xlsx, on: {村代码: 行政区划代码}}`` (or a list of them): a table
    joined onto the layer by code after renaming (:class:`JoinSpec`); codes found on
    one side only are reported in a warning (counts and the first codes).

Unknown keys are rejected, and the error names the closest valid key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from contigmap._strict import StrictModel
from contigmap.config_sources import JoinSpec, MergeSpec, OsmTags
from contigmap.network.speeds import NetworkParams
from contigmap.yamlio import load_yaml, parse_model

__all__ = [
    "DemSpec",
    "HazardClasses",
    "JoinSpec",
    "LayerSpec",
    "LayersConfig",
    "MergeSpec",
    "OsmTags",
    "RegionConfig",
    "RegistrySpec",
    "SheetSpec",
    "input_files",
    "layer_paths",
    "load_region",
]


Scalar = str | int | float | bool
"""A cell value written in region.yaml."""


class HazardClasses(StrictModel):
    """Classes of a hazard layer (polygons or points) and their weights (``class:``).

    Attributes
    ----------
    column
        The file's column holding the class (before ``columns:`` renaming).
    weights
        Weight from 0 to 1 of every class value; rows of weight 0 are dropped, a
        value not listed is an error.
    """

    column: str
    weights: dict[str, float]

    @field_validator("weights")
    @classmethod
    def _weights_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            msg = "give at least one class, e.g. weights: {高易发区: 1.0, 非易发区: 0}"
            raise ValueError(msg)
        bad = {k: w for k, w in value.items() if not 0 <= w <= 1}
        if bad:
            msg = f"class weights must be from 0 to 1, not {bad}"
            raise ValueError(msg)
        return value


class SheetSpec(StrictModel):
    """Overrides for one sheet of a workbook layer (an entry of ``sheets:``).

    Each mapping is merged over the layer's own (the sheet's entries win); ``x`` and
    ``y`` replace the layer's.

    Attributes
    ----------
    columns, filter, values, set
        As for :class:`LayerSpec`.
    x, y
        Coordinate columns of this sheet.
    """

    model_config = ConfigDict(populate_by_name=True)

    columns: dict[str, str] = Field(default_factory=dict)
    filter: dict[str, list[Scalar]] = Field(default_factory=dict)
    values: dict[str, dict[str, Scalar | list[str]]] = Field(default_factory=dict)
    set_: dict[str, Scalar] = Field(default_factory=dict, alias="set")
    x: str | None = None
    y: str | None = None


# s19b: JoinSpec, OsmTags and MergeSpec live in contigmap.config_sources (re-exported here)


class LayerSpec(StrictModel):
    """Where one layer lives and how to read it.

    Attributes
    ----------
    path
        File path, relative to the manifest's folder (or absolute).
    layer
        Layer name inside a multi-layer file (GeoPackage), or sheet name for XLSX.
    id
        Column holding the feature id, *after* ``columns`` renaming; the loader
        renames it to the role's canonical id column (for example ``village_id``).
    columns
        Mapping from the user's column names to contigmap's names.
    crs
        CRS to assume when the file carries none (for example ``EPSG:4490``), and
        the CRS of the coordinate columns of a CSV / XLSX table.
    encoding
        Text encoding of attribute data (``gbk`` for many Chinese shapefiles that
        have no ``.cpg``).
    datum
        ``gcj02`` when the coordinates come from a Chinese web map (AMap, Tencent),
        ``bd09`` for Baidu Maps; they are converted to WGS84 on load (exact inverses,
        :mod:`contigmap.crs`).
    x, y
        Longitude / easting and latitude / northing column names of a table layer.
    filter
        ``{file column: [values]}``: keep only rows whose value is listed (see the
        module docstring; the file's own column names).
    class_
        ``class:`` in YAML: hazard classes and weights (:class:`HazardClasses`).
    radius_m
        Hazard point layers only: search radius in metres (default 500); see the
        module docstring.
    values
        ``{canonical column: {value: new value}}``: recode values after renaming; a
        list value gives a service row several kinds.
    set_
        ``set:`` in YAML: ``{canonical column: value}`` constant columns.
    sheets
        Workbook sheets to read and stack, each with its overrides (:class:`SheetSpec`).
    title
        Name shown for the layer on maps and in reports (``地质灾害易发区``); default a
        name for the known roles (``flood``: 洪涝区) or the manifest key.
    join
        Tables joined onto the layer by code (:class:`JoinSpec`; one or a list).
    priority
        When a role has several sources (``roads: [..., ...]``): where two describe one
        road, the attributes of the source with the higher priority win; equal
        priorities: the later source (list the newer one last). Default 0.
    osm_tags
        An ``.osm.pbf`` / ``.osm`` source: overrides of the OSM ``highway`` and
        ``surface`` tables (:class:`OsmTags`).
    """

    model_config = ConfigDict(populate_by_name=True)

    path: Path
    layer: str | None = None
    id: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    crs: str | None = None
    encoding: str | None = None
    datum: Literal["wgs84", "gcj02", "bd09"] | None = None  # bd09: issue #19 item 6
    x: str | None = None
    y: str | None = None
    filter: dict[str, list[Scalar]] = Field(default_factory=dict)
    class_: HazardClasses | None = Field(default=None, alias="class")
    values: dict[str, dict[str, Scalar | list[str]]] = Field(default_factory=dict)
    set_: dict[str, Scalar] = Field(default_factory=dict, alias="set")
    sheets: dict[str, SheetSpec | None] = Field(default_factory=dict)
    radius_m: float | None = Field(default=None, gt=0.0, le=100_000.0)
    title: str | None = Field(default=None, min_length=1, max_length=80)
    join: JoinSpec | list[JoinSpec] | None = None  # s19b
    priority: int = 0  # s19b: several sources for one role (roads)
    osm_tags: OsmTags | None = None  # s19b: overrides of the OSM tag table

    # --- issue #19 item 2: report-style sheets (title rows, two-row headers, subtotals) ---
    header_row: int | list[int] | None = None
    """Sheet row number(s), from 1, of the header; two rows are joined (``上_下``). Given,
    subtotal (小计/合计), blank-code and note rows are dropped and listed."""
    skip_rows: list[int] = Field(default_factory=list)
    """Further sheet row numbers (from 1) to leave out, e.g. a units row under the header."""

    @field_validator("header_row")
    @classmethod
    def _header_rows_consecutive(cls, value: int | list[int] | None) -> int | list[int] | None:
        rows = [value] if isinstance(value, int) else (value or [])
        if any(r < 1 for r in rows) or (value is not None and not rows):
            msg = "header_row counts sheet rows from 1, e.g. header_row: 3 or [3, 4]"
            raise ValueError(msg)
        if len(rows) > 1 and rows != list(range(rows[0], rows[0] + len(rows))):
            msg = f"header_row {rows}: the header rows must follow each other, e.g. [3, 4]"
            raise ValueError(msg)
        return value

    # --- end of issue #19 item 2 ---

    # --- issue #19 item 7: KML / KMZ folders ---
    folder: str | None = None
    """KML/KMZ only: the one folder (layer) to read; left out or ``all``: every folder,
    stacked, with the folder's name in a ``folder`` column."""
    # --- end of issue #19 item 7 ---

    # --- issue #19 items 1, 5: the files behind a layer ---
    def files(self, base_dir: Path) -> list[Path]:
        """List the files this layer reads, resolved against ``base_dir``.

        A folder (an ESRI File Geodatabase, ``*.gdb``) gives every file in it and a
        path with ``*``, ``?`` or ``[`` gives the files it matches, sorted; other paths
        are returned as they are (existing or not).
        """
        return input_files(self.path if self.path.is_absolute() else base_dir / self.path)
    # --- end of issue #19 items 1, 5 ---

    @field_validator("crs")
    @classmethod
    def _crs_parses(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from pyproj import CRS
        from pyproj.exceptions import CRSError as PyprojCRSError

        try:
            CRS.from_user_input(value)
        except PyprojCRSError as err:
            msg = f"'{value}' is not a CRS pyproj understands; use a code such as EPSG:4490"
            raise ValueError(msg) from err
        return value


# --- s19b: registry coverage (issue #19 item 8) -------------------------------------------

RegistryCoverage = Literal["complete", "sample", "poor_only"]
"""What a household registry lists (``coverage:``); see :class:`RegistrySpec`."""


class RegistrySpec(LayerSpec):
    """The household registry layer (``households``): a :class:`LayerSpec` plus its coverage.

    Attributes
    ----------
    coverage
        What the registry lists, which decides the indicators it may give:

        ``complete``
            every household of the villages it covers: counts of households and poor
            people, incidence, cause shares and incomes;
        ``sample``
            a sample of all households: rates only (incidence, cause shares, income);
            poor people are estimated as village ``pop`` × sample incidence;
        ``poor_only``
            only poor (建档立卡) and edge (边缘户) households: cause shares and incomes
            of the poor, never incidence or household counts (its poor / listed people
            would be close to 100%); incidence must come from the villages layer (for
            instance a statistics table joined with ``join:``).

        Left out, it is inferred with a warning (``poor_only`` when most listed people
        are poor, ``sample`` when they are fewer than half the ``pop`` of the villages
        it covers, else ``complete``).
    complete
        The older form: ``true`` is ``coverage: complete``, ``false`` is
        ``coverage: sample``.
    covered
        Codes of the villages the registry covers. Left out: the villages with at
        least one row. Villages not covered get no registry values and are labelled
        ``not_covered`` in ``registry_source`` (never a stop).
    """

    complete: bool | None = None
    coverage: RegistryCoverage | None = None
    covered: list[str] | None = None

    @field_validator("covered", mode="before")
    @classmethod
    def _codes_as_text(cls, value: object) -> object:
        if isinstance(value, list):
            return [str(v).strip() for v in value]
        return value

    @model_validator(mode="after")
    def _one_declaration(self) -> RegistrySpec:
        old = None if self.complete is None else ("complete" if self.complete else "sample")
        if self.coverage is not None and old is not None and old != self.coverage:
            msg = (f"'complete: {str(self.complete).lower()}' contradicts 'coverage: "
                   f"{self.coverage}'; keep only 'coverage:'")
            raise ValueError(msg)
        return self

    def declared_coverage(self) -> RegistryCoverage | None:
        """``coverage:``, else the older ``complete:`` (true: complete, false: sample)."""
        if self.coverage is not None:
            return self.coverage
        if self.complete is not None:
            return "complete" if self.complete else "sample"
        return None


# --- end s19b: registry coverage --------------------------------------------------------------


# --- issue #19 item 5: DEM tiles ----------------------------------------------------------
class DemSpec(LayerSpec):
    """The DEM layer (``dem``): one GeoTIFF, a glob of tiles, or a list of tiles.

    ``dem: {path: dem.tif}``, ``dem: {path: dem/*.tif}`` or ``dem: {paths: [a.tif,
    b.tif]}``; several tiles are mosaicked in memory (:mod:`contigmap.io.rasters`).

    Attributes
    ----------
    paths
        The tiles (instead of ``path``), relative to the manifest's folder.
    nodata
        Nodata value of tiles that declare none (otherwise detected: -32768, -9999,
        ... far outside the other heights).
    fill_voids_m
        Voids enclosed by data are filled (inverse-distance weighting, GDAL
        FillNodata) when every cell of the void is within this distance (metres) of
        a height; larger voids stay empty. 0 turns filling off.
    """

    paths: list[Path] = Field(default_factory=list)
    nodata: float | None = None
    fill_voids_m: float = Field(default=300.0, ge=0.0, le=10_000.0)

    @model_validator(mode="before")
    @classmethod
    def _path_or_paths(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        paths = data.get("paths")
        if paths and data.get("path") is not None:
            msg = "give either 'path:' (one file or a glob) or 'paths:' (a list of tiles)"
            raise ValueError(msg)
        if paths:
            if not isinstance(paths, list):
                msg = "'paths:' is a list of tiles, e.g. paths: [n26e105.tif, n26e106.tif]"
                raise ValueError(msg)
            return {**data, "path": paths[0]}  # messages name the first tile
        return data

    def files(self, base_dir: Path) -> list[Path]:
        """List the tiles (``paths:``), a glob's matches, or the one file, resolved."""
        if not self.paths:
            return super().files(base_dir)
        return [p if p.is_absolute() else base_dir / p for p in self.paths]


# --- end of issue #19 item 5 ---------------------------------------------------------------


class LayersConfig(StrictModel):
    """The layers of a region, by role. Only ``villages`` and ``roads`` are required.

    ``villages`` holds one settlement location per administrative village (points; a
    polygon layer is accepted and its representative point used), ``village_areas``
    the village polygons (optional, keyed by ``village_id``). ``roads`` may be a list of
    sources (``roads: [{path: a.osm.pbf}, {path: county.gpkg}]``): the first is kept as
    ``roads``, the others as ``more_roads``, merged on loading (``merge:``).
    """

    villages: LayerSpec
    roads: LayerSpec
    more_roads: list[LayerSpec] = Field(default_factory=list)  # s19b: roads: [a, b, ...]
    village_areas: LayerSpec | None = None
    hamlets: LayerSpec | None = None
    boundaries: dict[Literal["county", "townships"], LayerSpec] = Field(default_factory=dict)
    dem: DemSpec | None = None
    rivers: LayerSpec | None = None
    hazards: dict[str, LayerSpec] = Field(default_factory=dict)
    ecology: dict[str, LayerSpec] = Field(default_factory=dict)
    services: LayerSpec | None = None
    infrastructure: dict[
        Literal["power_lines", "substations", "fibre", "towers", "water_sources"], LayerSpec
    ] = Field(default_factory=dict)
    households: RegistrySpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _roads_list(cls, data: object) -> object:
        """``roads: [a, b, ...]``: the first is ``roads``, the others ``more_roads``."""
        if isinstance(data, dict) and isinstance(data.get("roads"), list):
            items = data["roads"]
            if not items:
                msg = "roads: give at least one file, e.g. roads: [{path: roads.gpkg}]"
                raise ValueError(msg)
            data = {**data, "roads": items[0],
                    "more_roads": [*items[1:], *data.get("more_roads", [])]}
        return data

    def road_sources(self) -> list[LayerSpec]:
        """Return the roads entries in order: ``roads``, then ``more_roads``."""
        return [self.roads, *self.more_roads]


class RegionConfig(StrictModel):
    """A region manifest.

    Attributes
    ----------
    name
        Short ASCII name, used for output folders (``maps/<name>/``).
    title
        Display title, Chinese welcome (``花垣县``).
    working_crs
        ``auto`` (UTM zone, or a CGCS2000 3-degree Gauss–Krüger zone when the data are
        CGCS2000, from the region's centroid) or an explicit projected CRS.
    illustrative
        True when the data are synthetic; every map then says so.
    source_note
        Where the data come from, shown on maps.
    layers
        The layer entries by role.
    network
        Settings of the road network engine for this region
        (:class:`~contigmap.network.speeds.NetworkParams`: speed table by class and
        surface, ``slope_penalty``, walking speed, ``all_season_surfaces``,
        ``snap_tolerance_m``, ``season``, ...); the defaults where omitted. A
        ``--config`` file's ``network:`` section and a scenario's ``params:`` apply on top.
    household_size
        People per household, for villages whose household count is neither in the
        villages layer nor in a complete registry (``households = pop /
        household_size``). Default: :data:`contigmap.poverty.NATIONAL_HOUSEHOLD_SIZE`
        (2020 census, all of China); give the county's own census figure (户规模).
    household_size_source
        Where ``household_size`` comes from (printed in the run report and manifest).
    merge
        How several ``roads:`` sources are combined (:class:`MergeSpec`).
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    title: str | None = None
    working_crs: str = "auto"
    illustrative: bool = False
    source_note: str | None = None
    layers: LayersConfig
    network: NetworkParams | None = None
    household_size: float | None = Field(default=None, gt=0.0, le=20.0)
    household_size_source: str | None = None
    merge: MergeSpec = Field(default_factory=MergeSpec)  # s19b
    base_dir: Path = Field(default=Path(), exclude=True)


def load_region(path: str | Path) -> RegionConfig:
    """Read and validate a region manifest.

    Parameters
    ----------
    path
        Path of ``region.yaml``. Layer paths in it are resolved against its folder.

    Returns
    -------
    RegionConfig
        The validated manifest, with ``base_dir`` set to the manifest's folder.
    """
    path = Path(path)
    data = load_yaml(path)
    region = parse_model(RegionConfig, data, source=str(path))
    return region.model_copy(update={"base_dir": path.resolve().parent})


def layer_paths(region: RegionConfig) -> list[Path]:
    """List every layer file a manifest declares, resolved against its folder.

    A File Geodatabase folder and DEM tiles (``paths:`` or a glob) give their files.
    """
    paths: list[Path] = []
    for name in LayersConfig.model_fields:
        entry = getattr(region.layers, name)
        specs = (entry.values() if isinstance(entry, dict)
                 else entry if isinstance(entry, list) else [entry])
        for spec in specs:
            if isinstance(spec, LayerSpec):
                paths.extend(spec.files(region.base_dir))
    return paths


def input_files(path: Path) -> list[Path]:
    """List the files behind one layer path: a folder's files, a glob's matches, or the path.

    Parameters
    ----------
    path
        A resolved layer path: a file, a folder (``*.gdb``) or a glob pattern.

    Returns
    -------
    list of pathlib.Path
        Sorted files for a folder or a glob; ``[path]`` otherwise.
    """
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    if any(ch in path.name for ch in "*?["):
        return sorted(p for p in path.parent.glob(path.name) if p.is_file())
    return [path]
