"""Scenario files (``scenarios/*.yaml``) as validated pydantic models.

Example
-------
.. code-block:: yaml

    name: pave-longtan
    region: huayuan
    description: Pave the earth and gravel village roads of 龙潭镇.
    season: dry                       # dry | rainy (default: the run's season)
    params: {speed_kmh: {village: {paved: 30}}}   # network settings changed by the scenario
    changes:
      - type: upgrade
        select: {township: ["433124102"], surface: [earth, gravel], road_class: [village]}
        to: {surface: paved}
      - type: build
        between: ["433124102200", "433124102201"]   # two villages, least-cost path
        road_class: village
        surface: paved
      - type: close
        hazard: {landslide_above: 0.7}
      - type: bus
        stops: ["433124102200", [109.47, 28.58]]    # village ids or [lon, lat]
        frequency_per_day: 4

Every key is checked (``extra="forbid"``); an unknown key names the closest valid one,
and every message names the file and the change (index and type).

``params:`` takes the same keys as the region manifest's ``network:`` section (one
model, :class:`~contigmap.network.speeds.NetworkParams`); they apply on top of the run's
effective network settings (defaults → region → ``--config``), see
:meth:`Scenario.network_params`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, PositiveFloat, model_validator

from contigmap._strict import StrictModel
from contigmap.errors import ConfigError
from contigmap.network.speeds import NetworkParams, Season
from contigmap.schema import ROAD_CLASSES, SURFACES
from contigmap.yamlio import load_yaml, parse_model

__all__ = [
    "BuildChange",
    "BusChange",
    "Change",
    "CloseChange",
    "HazardSelection",
    "RoadSelection",
    "Scenario",
    "UpgradeChange",
    "UpgradeTarget",
    "load_scenario",
    "parse_scenario",
]

RoadClass = Literal["expressway", "national", "provincial", "county", "township", "village",
                    "track", "path"]
Surface = Literal["paved", "gravel", "earth"]
assert set(RoadClass.__args__) == set(ROAD_CLASSES)  # type: ignore[attr-defined]
assert set(Surface.__args__) == set(SURFACES)  # type: ignore[attr-defined]


class RoadSelection(StrictModel):
    """Roads chosen by attributes and / or area; all given criteria must hold.

    Attributes
    ----------
    road_class, surface
        Lists of classes / surfaces.
    township
        Township ids: roads whose midpoint lies in the township's boundary.
    polygon
        A polygon in lon/lat (WGS84), as WKT text or a GeoJSON geometry mapping: roads
        that intersect it.
    """

    road_class: list[RoadClass] | None = None
    surface: list[Surface] | None = None
    township: list[str] | None = None
    polygon: str | dict[str, Any] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> RoadSelection:
        if all(v is None for v in (self.road_class, self.surface, self.township, self.polygon)):
            msg = "select: give at least one of road_class, surface, township, polygon"
            raise ValueError(msg)
        return self


class UpgradeTarget(StrictModel):
    """What the selected roads become (at least one of the two)."""

    road_class: RoadClass | None = None
    surface: Surface | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> UpgradeTarget:
        if self.road_class is None and self.surface is None:
            msg = "to: give road_class and / or surface"
            raise ValueError(msg)
        return self


class UpgradeChange(StrictModel):
    """Upgrade roads (by id or by a selection) to a new class and / or surface."""

    type: Literal["upgrade"]
    roads: list[str] | None = None
    select: RoadSelection | None = None
    to: UpgradeTarget
    cost_cny: PositiveFloat | None = None
    label: str | None = None

    @model_validator(mode="after")
    def _which(self) -> UpgradeChange:
        if (self.roads is None) == (self.select is None):
            msg = "give exactly one of 'roads' (a list of road ids) and 'select'"
            raise ValueError(msg)
        return self


class BuildChange(StrictModel):
    """A new road: a line in lon/lat, or a least-cost path between two villages."""

    type: Literal["build"]
    geometry: str | dict[str, Any] | None = None
    between: tuple[str, str] | None = None
    road_class: RoadClass = "village"
    surface: Surface = "paved"
    cost_cny: PositiveFloat | None = None
    label: str | None = None

    @model_validator(mode="after")
    def _which(self) -> BuildChange:
        if (self.geometry is None) == (self.between is None):
            msg = "give exactly one of 'geometry' (a line in lon/lat) and 'between' (2 villages)"
            raise ValueError(msg)
        return self


class HazardSelection(StrictModel):
    """Roads closed by a hazard.

    Attributes
    ----------
    landslide_above
        Close segments whose highest landslide susceptibility along the line (the
        region's ``landslide`` hazard raster) exceeds this value.
    flood
        Close segments that intersect the region's ``flood`` polygons.
    """

    landslide_above: float | None = Field(None, ge=0.0)
    flood: bool = False

    @model_validator(mode="after")
    def _not_empty(self) -> HazardSelection:
        if self.landslide_above is None and not self.flood:
            msg = "hazard: give landslide_above and / or flood: true"
            raise ValueError(msg)
        return self


class CloseChange(StrictModel):
    """Close roads (by id, a selection or a hazard): they leave the network."""

    type: Literal["close"]
    roads: list[str] | None = None
    select: RoadSelection | None = None
    hazard: HazardSelection | None = None
    cost_cny: float = Field(0.0, ge=0.0)
    label: str | None = None

    @model_validator(mode="after")
    def _which(self) -> CloseChange:
        given = sum(x is not None for x in (self.roads, self.select, self.hazard))
        if given != 1:
            msg = "give exactly one of 'roads', 'select' and 'hazard'"
            raise ValueError(msg)
        return self


class BusChange(StrictModel):
    """A shuttle-bus route: stops (village ids or ``[lon, lat]``) and a daily frequency.

    ``service_hours`` per day over ``frequency_per_day`` departures gives the headway;
    the bus-access measure is the walking time to the nearest stop plus half of it.
    """

    type: Literal["bus"]
    stops: list[str | tuple[float, float]] = Field(min_length=1)
    frequency_per_day: PositiveFloat
    service_hours: PositiveFloat = 12.0
    max_stop_distance_m: PositiveFloat = 500.0
    cost_cny: PositiveFloat | None = None
    label: str | None = None


Change = UpgradeChange | BuildChange | CloseChange | BusChange
_CHANGE_MODELS: dict[str, type[BaseModel]] = {
    "upgrade": UpgradeChange, "build": BuildChange, "close": CloseChange, "bus": BusChange,
}


class _Top(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_\-\.]+$")
    region: str | None = None
    title: str | None = None
    title_zh: str | None = None
    description: str = ""
    season: Season | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    changes: list[dict[str, Any]] = Field(default_factory=list)


class Scenario(StrictModel):
    """A validated scenario.

    Attributes
    ----------
    name, title, description
        Identification (``name`` is ASCII, used in file names and map layers).
    title_zh
        A short Chinese name for maps and reports (:attr:`label_zh`).
    region
        The region the scenario was written for (checked against the region's name).
    season
        Travel-time season (``None``: the run's season).
    params
        The network settings the scenario changes (only the keys it sets count:
        :meth:`network_params` applies them over the run's settings).
    changes
        The changes, in file order.
    source
        The file it came from (for messages).
    """

    name: str
    region: str | None = None
    title: str | None = None
    title_zh: str | None = None
    description: str = ""
    season: Season | None = None
    params: NetworkParams = NetworkParams()
    changes: tuple[Change, ...] = ()
    source: str = "<scenario>"

    @property
    def label_zh(self) -> str:
        """The name people read: ``title_zh``, else ``title`` up to a `` / ``, else ``name``."""
        if self.title_zh:
            return self.title_zh
        if self.title:
            return self.title.split(" / ")[0].strip() or self.name
        return self.name

    def network_params(self, base: NetworkParams | None = None) -> NetworkParams:
        """Return the scenario's network settings: ``base`` with ``params:`` and ``season:``.

        ``base`` is the run's effective settings (the defaults when omitted).
        """
        base = base or NetworkParams()
        over = self.params.overrides()
        if self.season is not None:
            over["season"] = self.season
        return base.layered(over)

    def where(self, index: int) -> str:
        """Return ``file: change i (type)`` for messages."""
        kind = self.changes[index].type if 0 <= index < len(self.changes) else "?"
        return f"{self.source}: change {index} ({kind})"


def parse_scenario(data: dict[str, Any], *, source: str = "<scenario>") -> Scenario:
    """Validate a parsed scenario mapping.

    Raises
    ------
    ConfigError
        Unknown keys (with the closest valid key), bad values, an unknown change type;
        the message names ``source`` and the change index and type.
    """
    top = parse_model(_Top, data, source=source)
    params = parse_model(NetworkParams, top.params, source=f"{source}: params")
    changes: list[Change] = []
    for i, raw in enumerate(top.changes):
        if not isinstance(raw, dict) or "type" not in raw:
            msg = (f"{source}: change {i}: each change needs a 'type' "
                   f"({', '.join(_CHANGE_MODELS)})")
            raise ConfigError(msg)
        kind = str(raw["type"])
        model = _CHANGE_MODELS.get(kind)
        if model is None:
            import difflib

            close = difflib.get_close_matches(kind, list(_CHANGE_MODELS), n=1)
            hint = (f"did you mean '{close[0]}'?" if close
                    else f"use one of {', '.join(_CHANGE_MODELS)}")
            msg = f"{source}: change {i}: unknown type '{kind}': {hint}"
            raise ConfigError(msg)
        changes.append(parse_model(model, raw, source=f"{source}: change {i} ({kind})"))  # type: ignore[arg-type]
    if not changes:
        msg = f"{source}: no changes; list at least one under 'changes:'"
        raise ConfigError(msg)
    return Scenario(name=top.name, region=top.region, title=top.title, title_zh=top.title_zh,
                    description=top.description, season=top.season, params=params,
                    changes=tuple(changes), source=source)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (:func:`parse_scenario`)."""
    return parse_scenario(load_yaml(path), source=str(path))
