"""The area manifest (``area.yaml``): the counties of a contiguous area and its shared layers.

A contiguous destitute area (集中连片特困地区, e.g. 武陵山片区) is the unit of the national
plan. Its manifest lists one region manifest per county and the layers that cross county
borders. Schema version 1:

.. code-block:: yaml

    area:
      name: 武陵山片区（合成）       # display name
      code: wuling-synth            # slug used in file names
      illustrative: true            # optional, default false
    counties:                       # at least one
      - region: counties/433124/region.yaml   # path relative to area.yaml
        code: "433124"              # optional; default: the region's county id
        name: 花垣县                 # optional; default: the region's title
    layers:                         # optional, area-wide
      prefecture_cities: {path: area/cities.csv, x: lon, y: lat, crs: EPSG:4326, id: city_id}
      trunk_roads: {path: area/trunk_roads.gpkg, layer: trunk_roads, id: road_id}

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
    """The ``area:`` block: display name, file-name slug, whether the data are synthetic."""

    name: str = Field(min_length=1)
    code: str = Field(pattern=_SLUG)
    illustrative: bool = False

    _code_text = field_validator("code", mode="before")(_text)


class CountyEntry(StrictModel):
    """One ``counties:`` item: the county's region manifest and optional code and name."""

    region: Path
    code: str | None = Field(default=None, pattern=_SLUG)
    name: str | None = Field(default=None, min_length=1)

    _code_text = field_validator("code", mode="before")(_text)


class AreaLayers(StrictModel):
    """Area-wide layers (optional): prefecture cities and trunk roads crossing borders."""

    prefecture_cities: LayerSpec | None = None
    trunk_roads: LayerSpec | None = None


class AreaConfig(StrictModel):
    """An area manifest (schema v1, see the module docstring)."""

    area: AreaInfo
    counties: list[CountyEntry] = Field(min_length=1)
    layers: AreaLayers = Field(default_factory=AreaLayers)


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
        Its ``region.yaml`` (absolute).
    region
        The validated region manifest.
    """

    code: str
    name: str
    region_path: Path
    region: RegionConfig


@dataclass(frozen=True)
class Area:
    """A loaded area manifest: its settings, counties in manifest order, area layers."""

    path: Path
    config: AreaConfig
    counties: tuple[County, ...]

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
        for county in self.counties:
            paths.extend([county.region_path, *layer_paths(county.region)])
        return paths


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


def _load_county(entry: CountyEntry, index: int, base_dir: Path, source: str) -> County:
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
    counties: list[County] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(config.counties):
        county = _load_county(entry, index, path.parent, source)
        if county.code in seen:
            msg = (f"{source}: counties[{index}] ({county.name}) has code {county.code}, like "
                   f"counties[{seen[county.code]}]; give each county its own code: (its output "
                   "folder name)")
            raise ConfigError(msg)
        seen[county.code] = index
        counties.append(county)
    area = Area(path=path, config=config, counties=tuple(counties))
    for key in ("prefecture_cities", "trunk_roads"):
        spec = getattr(config.layers, key)
        if spec is not None and not area.layer_path(spec).exists():
            msg = (f"{source}: layers.{key}: file {spec.path} not found; give its path relative "
                   "to the area manifest's folder")
            raise ConfigError(msg)
    logger.info("area %s: %d counties", config.area.code, len(counties))
    return area
