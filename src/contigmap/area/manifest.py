"""The area manifest (``area.yaml``): the counties of a contiguous area and its shared layers.

A contiguous destitute area (集中连片特困地区, e.g. 武陵山片区) is the unit of the national
plan. Its manifest lists one region manifest per county and the layers that cross county
borders. Schema version 1:

.. code-block:: yaml

    area:
      name: 武陵山片区（合成）       # display name
      code: wuling-synth            # slug used in file names
      illustrative: true            # optional, default false
      source_note: 合成数据           # optional: where the data come from (map and report)
    counties:                       # at least one
      - region: counties/433124/region.yaml   # path relative to area.yaml
        code: "433124"              # optional; default: the region's county id
        name: 花垣县                 # optional; default: the region's title
    layers:                         # optional, area-wide
      prefecture_cities: {path: area/cities.csv, x: lon, y: lat, crs: EPSG:4326, id: city_id}
      trunk_roads: {path: area/trunk_roads.gpkg, layer: trunk_roads, id: road_id}

Shared layers split by a county-code column instead of one ``region.yaml`` per county
(a county item may still give its own ``region:``):

.. code-block:: yaml

    shared:
      region: shared/region.yaml   # its layers cover every county
      county_column: 县代码          # the column (the file's own name) with the county code
      layers: [villages, roads, households, boundaries.county]   # the layers split by it
    counties:
      - {code: "433124", name: 花垣县}

:func:`load_area` validates the file and every county's ``region.yaml`` and resolves the
county codes and names; every problem is one :class:`~contigmap.errors.ConfigError` line
naming the file, the county and the fix. :func:`is_area_manifest` tells an area
manifest (a top-level ``counties:`` key) from a region manifest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from contigmap._strict import StrictModel
from contigmap.config import LayerSpec, RegionConfig, layer_paths, load_region
from contigmap.errors import ConfigError, ContigmapError
from contigmap.yamlio import load_yaml, parse_model

__all__ = [
    "Area",
    "AreaConfig",
    "County",
    "is_area_manifest",
    "load_area",
]

logger = logging.getLogger(__name__)

_SLUG = r"^[A-Za-z0-9_\-]+$"


def _text(value: Any) -> Any:
    """YAML reads ``code: 433124`` as a number: take it as the text it stands for."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class AreaInfo(StrictModel):
    """The ``area:`` block: display name, file-name slug, synthetic or not, data source."""

    name: str = Field(min_length=1)
    code: str = Field(pattern=_SLUG)
    illustrative: bool = False
    source_note: str | None = None

    _code_text = field_validator("code", mode="before")(_text)


class CountyEntry(StrictModel):
    """One ``counties:`` item: its region manifest (or none: cut from ``shared:``), code, name."""

    region: Path | None = None
    code: str | None = Field(default=None, pattern=_SLUG)
    name: str | None = Field(default=None, min_length=1)

    _code_text = field_validator("code", mode="before")(_text)


class AreaLayers(StrictModel):
    """Area-wide layers (optional): prefecture cities and trunk roads crossing borders."""

    prefecture_cities: LayerSpec | None = None
    trunk_roads: LayerSpec | None = None


class SharedLayers(StrictModel):
    """``shared:``: one region manifest for the area, split by a county-code column.

    ``layers`` lists the layers whose rows belong to one county (keys as in the region
    manifest: ``villages``, ``roads``, ``households``, ``boundaries.county``,
    ``hazards.flood``, ...); ``county_column`` is their column holding the county code
    (the file's own name, as in ``filter:``). Other layers are used whole by every county.
    """

    region: Path
    county_column: str = Field(min_length=1)
    layers: list[str] = Field(min_length=1)


class AreaConfig(StrictModel):
    """An area manifest (schema v1, see the module docstring)."""

    area: AreaInfo
    counties: list[CountyEntry] = Field(min_length=1)
    layers: AreaLayers = Field(default_factory=AreaLayers)
    shared: SharedLayers | None = None


@dataclass(frozen=True)
class County:
    """One county of an area, resolved.

    Attributes
    ----------
    code
        Folder name of its outputs (``out/<code>/``): the manifest's ``code``, else the
        region's county id (``boundaries.county``), else the region's ``name``.
    name
        Display name: the manifest's ``name``, else the region's ``title``, else ``name``.
    region_path
        Its ``region.yaml`` (absolute); None for a county cut from the ``shared:``
        region (the area run writes its manifest, :func:`contigmap.area.split.write_region`).
    region
        The validated region manifest.
    """

    code: str
    name: str
    region_path: Path | None
    region: RegionConfig


@dataclass(frozen=True)
class Area:
    """A loaded area manifest: its settings, counties in manifest order, area layers."""

    path: Path
    config: AreaConfig
    counties: tuple[County, ...]
    shared: RegionConfig | None = None

    @property
    def base_dir(self) -> Path:
        """The manifest's folder (relative paths start there)."""
        return self.path.parent

    def layer_path(self, spec: LayerSpec) -> Path:
        """Return an area layer's file, resolved against the manifest's folder."""
        return spec.path if spec.path.is_absolute() else self.base_dir / spec.path

    def input_paths(self) -> list[Path]:
        """Every file the area run reads: this manifest, the area layers, each county's."""
        paths = [self.path]
        for spec in (self.config.layers.prefecture_cities, self.config.layers.trunk_roads):
            if spec is not None:
                paths.append(self.layer_path(spec))
        if self.shared is not None and self.config.shared is not None:
            paths.extend([self.base_dir / self.config.shared.region, *layer_paths(self.shared)])
        for county in self.counties:
            if county.region_path is not None:
                paths.extend([county.region_path, *layer_paths(county.region)])
        return list(dict.fromkeys(paths))


def is_area_manifest(path: str | Path) -> bool:
    """Whether ``path`` is an area manifest: a YAML mapping with a top-level ``counties:``.

    Raises
    ------
    ConfigError
        The file is missing or is not YAML (the reader's one-line message).
    """
    return "counties" in load_yaml(path)


def county_id_of(region: RegionConfig) -> str | None:
    """Return the county id in the region's ``boundaries.county`` layer (None: none).

    Reads that layer's attributes with the region's own column mapping
    (:func:`contigmap.io.read.read_layer`); a layer of several counties gives None.
    """
    from contigmap.io.read import read_layer

    spec = region.layers.boundaries.get("county")
    if spec is None:
        return None
    frame = read_layer(spec, base_dir=region.base_dir, role="boundaries.county",
                       source="layers.boundaries.county", check=False)
    if "county_id" not in frame.columns:
        return None
    ids = frame["county_id"].dropna().astype(str).str.strip().unique()
    return str(ids[0]) if len(ids) == 1 else None


def _split_county(entry: CountyEntry, index: int, shared: RegionConfig | None,
                  config: AreaConfig, source: str) -> County:
    """Cut a county from the ``shared:`` region by its code."""
    from contigmap.area.split import split_region

    where = f"{source}: counties[{index}]" + (f" ({entry.name})" if entry.name else "")
    if shared is None or config.shared is None:
        msg = (f"{where}: has no region:; give its region.yaml, or a shared: block (one "
               "region split by a county-code column)")
        raise ConfigError(msg)
    if entry.code is None:
        msg = f"{where}: give its code: (the value of {config.shared.county_column} in its rows)"
        raise ConfigError(msg)
    region = split_region(shared, column=config.shared.county_column,
                          layers=config.shared.layers, code=entry.code, source=source)
    return County(code=entry.code, name=entry.name or entry.code, region_path=None,
                  region=region)


def _load_shared(config: AreaConfig, base_dir: Path, source: str) -> RegionConfig | None:
    if config.shared is None:
        return None
    path = base_dir / config.shared.region
    if not path.is_file():
        msg = (f"{source}: shared.region: {config.shared.region} not found; give its path "
               "relative to the area manifest's folder")
        raise ConfigError(msg)
    try:
        return load_region(path)
    except ContigmapError as err:
        msg = f"{source}: shared.region: the shared region manifest does not load: {err}"
        raise ConfigError(msg) from err


def _load_county(entry: CountyEntry, index: int, base_dir: Path, source: str) -> County:
    assert entry.region is not None
    label = entry.name or entry.code or str(entry.region)
    where = f"{source}: counties[{index}] ({label})"
    path = entry.region if entry.region.is_absolute() else base_dir / entry.region
    if not path.is_file():
        msg = (f"{where}: region manifest {entry.region} not found; give its path relative to "
               "the area manifest's folder")
        raise ConfigError(msg)
    try:
        region = load_region(path)
        code = entry.code or county_id_of(region) or region.name
    except ContigmapError as err:
        msg = f"{where}: its region manifest does not load: {err}"
        raise ConfigError(msg) from err
    name = entry.name or region.title or region.name
    return County(code=code, name=name, region_path=path.resolve(), region=region)


def load_area(path: str | Path) -> Area:
    """Read and validate an area manifest and the region manifest of each county.

    Parameters
    ----------
    path
        The ``area.yaml``; county regions and area layers are resolved against its folder.

    Returns
    -------
    Area
        The manifest with its counties resolved, in manifest order.

    Raises
    ------
    ConfigError
        One line: the file is missing or malformed, a key is unknown (the closest valid
        key named), a county's region manifest is missing or does not load (the county
        named), two counties share a code, or an area layer file is missing.
    """
    path = Path(path).resolve()
    source = str(path)
    config = parse_model(AreaConfig, load_yaml(path), source=source)
    shared = _load_shared(config, path.parent, source)
    counties: list[County] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(config.counties):
        county = (_load_county(entry, index, path.parent, source) if entry.region is not None
                  else _split_county(entry, index, shared, config, source))
        if county.code in seen:
            msg = (f"{source}: counties[{index}] ({county.name}) has code {county.code}, like "
                   f"counties[{seen[county.code]}]; give each county its own code: (its output "
                   "folder name)")
            raise ConfigError(msg)
        seen[county.code] = index
        counties.append(county)
    area = Area(path=path, config=config, counties=tuple(counties), shared=shared)
    for key in ("prefecture_cities", "trunk_roads"):
        spec = getattr(config.layers, key)
        if spec is not None and not area.layer_path(spec).exists():
            msg = (f"{source}: layers.{key}: file {spec.path} not found; give its path relative "
                   "to the area manifest's folder")
            raise ConfigError(msg)
    logger.info("area %s: %d counties", config.area.code, len(counties))
    return area
