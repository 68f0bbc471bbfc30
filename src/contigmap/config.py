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

Unknown keys are rejected, and the error names the closest valid key.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from contigmap.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "LayerSpec",
    "LayersConfig",
    "RegionConfig",
    "RegistrySpec",
    "load_region",
    "load_yaml",
    "parse_model",
]


class _Strict(BaseModel):
    """Base for manifest models: unknown keys are errors, values are not coerced loosely."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerSpec(_Strict):
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
    """

    path: Path
    layer: str | None = None
    id: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    crs: str | None = None
    encoding: str | None = None
    datum: Literal["wgs84", "gcj02"] | None = None
    x: str | None = None
    y: str | None = None

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


class LayersConfig(_Strict):
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


class RegionConfig(_Strict):
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
    household_size: float | None = Field(default=None, gt=0.0, le=20.0)
    household_size_source: str | None = None
    base_dir: Path = Field(default=Path(), exclude=True)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, turning I/O and syntax problems into :class:`ConfigError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        msg = f"{path}: file not found; check the path (relative paths start at the current folder)"
        raise ConfigError(msg) from err
    except (OSError, UnicodeDecodeError) as err:
        msg = f"{path}: cannot read the file ({err}); save it as UTF-8 text"
        raise ConfigError(msg) from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        msg = f"{path}:{where}: YAML syntax error: {problem}"
        raise ConfigError(msg) from err
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


def _explain(err: dict[str, Any], model: type[BaseModel]) -> str:
    loc = tuple(err.get("loc", ()))
    where = ".".join(str(p) for p in loc) or "(top level)"
    if err.get("type") == "extra_forbidden" and loc:
        key = str(loc[-1])
        owner = _model_at(model, loc)
        valid = sorted(owner.model_fields) if owner else []
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
        return f"missing required key '{where}'"
    return f"'{where}': {err.get('msg')}"


def parse_model(model: type[M], data: dict[str, Any], *, source: str) -> M:
    """Validate ``data`` against ``model``; raise one-line :class:`ConfigError` on failure."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as err:
        # An unknown key usually explains a "missing" one (``pth:`` for ``path:``): say it first.
        errors = sorted(err.errors(), key=lambda e: e.get("type") != "extra_forbidden")
        first = _explain(dict(errors[0]), model)
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        msg = f"{source}: {first}{more}"
        raise ConfigError(msg) from err


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
