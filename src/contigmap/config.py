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

Unknown keys are rejected, and the error names the closest valid key.
"""

from __future__ import annotations

import difflib
import stat
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from contigmap._strict import StrictModel
from contigmap.errors import ConfigError
from contigmap.network.speeds import NetworkParams

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "MAX_YAML_BYTES",
    "MAX_YAML_VALUES",
    "HazardClasses",
    "LayerSpec",
    "LayersConfig",
    "RegionConfig",
    "RegistrySpec",
    "SheetSpec",
    "config_error",
    "layer_paths",
    "load_region",
    "load_yaml",
    "parse_model",
    "parse_yaml_text",
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
        ``gcj02`` when the coordinates come from a Chinese web map (AMap, Tencent);
        they are converted to WGS84 on load.
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
    """

    model_config = ConfigDict(populate_by_name=True)

    path: Path
    layer: str | None = None
    id: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    crs: str | None = None
    encoding: str | None = None
    datum: Literal["wgs84", "gcj02"] | None = None
    x: str | None = None
    y: str | None = None
    filter: dict[str, list[Scalar]] = Field(default_factory=dict)
    class_: HazardClasses | None = Field(default=None, alias="class")
    values: dict[str, dict[str, Scalar | list[str]]] = Field(default_factory=dict)
    set_: dict[str, Scalar] = Field(default_factory=dict, alias="set")
    sheets: dict[str, SheetSpec | None] = Field(default_factory=dict)
    radius_m: float | None = Field(default=None, gt=0.0, le=100_000.0)

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


class RegistrySpec(LayerSpec):
    """The household registry layer (``households``): a :class:`LayerSpec` plus its coverage.

    Attributes
    ----------
    complete
        ``true`` when the registry lists every household of the villages it covers, so
        its counts of households and poor people are used as counts; ``false`` when it
        is a sample, which gives rates only (poverty incidence, cause shares, income):
        poor people are then estimated as village ``pop`` × sample incidence and
        household counts come from the villages layer or ``pop / household_size``. Left
        out, the registry is treated as a sample (with a warning) when its people are
        fewer than half the ``pop`` of the villages it covers, else as complete.
    """

    complete: bool | None = None


class LayersConfig(StrictModel):
    """The layers of a region, by role. Only ``villages`` and ``roads`` are required.

    ``villages`` holds one settlement location per administrative village (points; a
    polygon layer is accepted and its representative point used), ``village_areas``
    the village polygons (optional, keyed by ``village_id``).
    """

    villages: LayerSpec
    roads: LayerSpec
    village_areas: LayerSpec | None = None
    hamlets: LayerSpec | None = None
    boundaries: dict[Literal["county", "townships"], LayerSpec] = Field(default_factory=dict)
    dem: LayerSpec | None = None
    rivers: LayerSpec | None = None
    hazards: dict[str, LayerSpec] = Field(default_factory=dict)
    ecology: dict[str, LayerSpec] = Field(default_factory=dict)
    services: LayerSpec | None = None
    infrastructure: dict[
        Literal["power_lines", "substations", "fibre", "towers", "water_sources"], LayerSpec
    ] = Field(default_factory=dict)
    households: RegistrySpec | None = None


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
    base_dir: Path = Field(default=Path(), exclude=True)


MAX_YAML_BYTES = 1_000_000
"""Largest region manifest, scenario or configuration file read (bytes): such files
list layers and parameters, never data, and PyYAML needs ~40x a file's size in memory."""

MAX_YAML_VALUES = 200_000
"""Most values a YAML file may expand to through ``&anchors`` and ``*aliases``."""


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping repeats a key."""


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing mappings that repeat a key (at any depth).

    PyYAML keeps the last value of a repeated key silently; a manifest with two
    ``roads:`` entries would use one and drop the other. Keys brought in by a ``<<``
    merge may be overridden, as YAML allows.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # unhashable key: the base class reports it
            if first is not None:
                raise _DuplicateKeyError(
                    None, None,
                    f"duplicate key '{key}' (first at line {first.start_mark.line + 1}); "
                    "keep one of them",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root: yaml.Node, source: Path) -> None:
    """Refuse a document whose aliases expand it past :data:`MAX_YAML_VALUES` (a YAML bomb)."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    aliased = False
    while stack:
        node, done = stack.pop()
        if isinstance(node, yaml.SequenceNode):
            children: list[yaml.Node] = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        if not done:
            if id(node) in sizes:
                aliased = True
                continue
            if id(node) in visiting:
                line = node.start_mark.line + 1
                msg = f"{source}: line {line}: an alias refers to itself; remove it"
                raise ConfigError(msg)
            visiting.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children)
            continue
        visiting.discard(id(node))
        total = 1 + sum(sizes[id(child)] for child in children)
        if aliased and total > MAX_YAML_VALUES:
            msg = (f"{source}: line {node.start_mark.line + 1}: &anchors and *aliases expand this "
                   f"file to more than {MAX_YAML_VALUES:,} values; write the values out instead")
            raise ConfigError(msg)
        sizes[id(node)] = total


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping: the one reader of every manifest, scenario and config file.

    Refuses, with one :class:`ConfigError` line naming the file (and line): a missing or
    unreadable file, one larger than :data:`MAX_YAML_BYTES` (checked before reading),
    YAML syntax errors, a key repeated in one mapping (both line numbers), aliases that
    expand past :data:`MAX_YAML_VALUES`, and a top level that is not a mapping.
    """
    path = Path(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            msg = f"{path}: is not a file (a folder or device?); give the path of a YAML file"
            raise ConfigError(msg)
        if info.st_size > MAX_YAML_BYTES:
            msg = (f"{path}: is {info.st_size / 1e6:.1f} MB, larger than the "
                   f"{MAX_YAML_BYTES / 1e6:g} MB contigmap reads for a YAML file; it should only "
                   "list layers and parameters: put data in layer files")
            raise ConfigError(msg)
        with path.open("rb") as handle:
            raw = handle.read(MAX_YAML_BYTES + 1)
        if len(raw) > MAX_YAML_BYTES:  # grew since stat
            msg = f"{path}: larger than {MAX_YAML_BYTES / 1e6:g} MB; it should only list layers"
            raise ConfigError(msg)
        text = raw.decode("utf-8")
    except FileNotFoundError as err:
        msg = f"{path}: file not found; check the path (relative paths start at the current folder)"
        raise ConfigError(msg) from err
    except (OSError, UnicodeDecodeError) as err:
        msg = f"{path}: cannot read the file ({err}); save it as UTF-8 text"
        raise ConfigError(msg) from err
    return parse_yaml_text(text, path)


def parse_yaml_text(text: str, path: str | Path) -> dict[str, Any]:
    """Parse YAML text as :func:`load_yaml` does (duplicate keys, alias limits, a mapping).

    Parameters
    ----------
    text
        The YAML document.
    path
        The file it came from (or will go to), named in error messages.

    Returns
    -------
    dict
        The top-level mapping.
    """
    path = Path(path)
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _expanded_size(node, path)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        msg = f"{path}:{where}: YAML syntax error: {problem}"
        if isinstance(err, _DuplicateKeyError):
            msg = f"{path}:{where}: {problem}"
        raise ConfigError(msg) from err
    except RecursionError as err:
        msg = f"{path}: nested too deeply to read; a manifest needs a few levels at most"
        raise ConfigError(msg) from err
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        msg = f"{path}: expected a YAML mapping (key: value lines) at the top level"
        raise ConfigError(msg)
    return data


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """Follow ``loc`` through nested model fields; return the model that owns the last key."""
    current: Any = model
    for part in loc[:-1]:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            # dict key: step into the dict's value type
            continue
        current = _inner_model(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _inner_model(annotation: Any) -> Any:
    """Return the BaseModel inside ``X | None`` or ``dict[K, X]``, else the annotation."""
    args = getattr(annotation, "__args__", ())
    for arg in reversed(args):
        found = _inner_model(arg)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    return annotation


def _explain(err: dict[str, Any], model: type[BaseModel], *, missing_hint: str = "") -> str:
    loc = tuple(err.get("loc", ()))
    where = ".".join(str(p) for p in loc) or "(top level)"
    if err.get("type") == "extra_forbidden" and loc:
        key = str(loc[-1])
        owner = _model_at(model, loc)
        valid = sorted(f.alias or n for n, f in owner.model_fields.items()) if owner else []
        valid = [v for v in valid if v != "base_dir"]
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(valid)}"
        return f"unknown key '{where}': {hint}"
    if err.get("type") == "literal_error" and loc:
        value = str(err.get("input"))
        if str(loc[-1]) == "[key]":
            where = ".".join(str(p) for p in (*loc[:-2], value))
            what = "unknown name"
        else:
            what = "unknown value"
        expected = str(err.get("ctx", {}).get("expected", ""))
        options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",")]
        options = [o for o in options if o]
        close = difflib.get_close_matches(value, options, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else f"use one of {', '.join(options)}"
        return f"{what} '{value}' at '{where}': {hint}"
    if err.get("type") == "missing":
        return f"missing required key '{where}'{missing_hint}"
    text = str(err.get("msg")).removeprefix("Value error, ")
    if err.get("type") == "value_error":
        # a validator's own message, which often names what it checked
        return text if not loc or text.startswith(where) else f"'{where}': {text}"
    given = err.get("input")
    if isinstance(given, str | int | float | bool) or given is None:
        text = f"{text} (got {given!r})"
    return f"'{where}': {text}"


def config_error(
    err: PydanticValidationError, model: type[BaseModel], *, source: str, missing_hint: str = ""
) -> ConfigError:
    """Turn a pydantic error into one :class:`ConfigError` line naming ``source`` and the key.

    The one translation of configuration errors: an unknown key names the closest valid
    key (or lists them), an unknown value the closest allowed one, a bad value the key and
    the value given; further problems are counted.

    Parameters
    ----------
    err
        The error raised while validating ``model``.
    model
        The model validated (to list the valid keys at the error's location).
    source
        Where the data came from (a file name, ``"<file>: <section>"``).
    missing_hint
        Appended to the message of a missing required key (where its default lives).

    Returns
    -------
    ConfigError
        ``"<source>: <first problem>"``, with ``" (and n more problem(s))"``.
    """
    # An unknown key usually explains a "missing" one (``pth:`` for ``path:``): say it first.
    errors = sorted(err.errors(), key=lambda e: e.get("type") != "extra_forbidden")
    first = _explain(dict(errors[0]), model, missing_hint=missing_hint)
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return ConfigError(f"{source}: {first}{more}")


def parse_model(
    model: type[M], data: dict[str, Any], *, source: str, missing_hint: str = ""
) -> M:
    """Validate ``data`` against ``model``; raise one-line :class:`ConfigError` on failure.

    The message is made by :func:`config_error` (``missing_hint`` is passed on).
    """
    try:
        return model.model_validate(data)
    except PydanticValidationError as err:
        raise config_error(err, model, source=source, missing_hint=missing_hint) from err


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
    """List the path of every layer file a manifest declares, resolved against its folder."""
    paths: list[Path] = []
    for name in LayersConfig.model_fields:
        entry = getattr(region.layers, name)
        specs = entry.values() if isinstance(entry, dict) else [entry]
        for spec in specs:
            if isinstance(spec, LayerSpec):
                paths.append(spec.path if spec.path.is_absolute() else region.base_dir / spec.path)
    return paths
