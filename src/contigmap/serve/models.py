"""Request bodies of ``contigmap serve``: every one validated by a strict pydantic model.

Each edit the browser sends is one of :data:`EDIT_MODELS` (``kind`` picks it). Coordinates
are lon/lat (WGS84) inside a plausible range; road ids, counts and text lengths are
bounded, so a request cannot make the server do unbounded work. No model takes a file
path: a scenario comes in as YAML *text* (:class:`LoadBody`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveFloat

from contigmap._strict import StrictModel
from contigmap.scenario.model import RoadClass, Surface

__all__ = [
    "EDIT_MODELS",
    "MAX_ROADS_PER_EDIT",
    "MAX_STOPS",
    "MAX_YAML_CHARS",
    "BuildEdit",
    "BusEdit",
    "CloseEdit",
    "CompareBody",
    "LoadBody",
    "LonLat",
    "SeasonEdit",
    "UpgradeEdit",
]

#: Road ids one upgrade or close edit may name.
MAX_ROADS_PER_EDIT = 500
#: Stops of one bus line.
MAX_STOPS = 50
#: Characters of a scenario YAML loaded into the editor.
MAX_YAML_CHARS = 60_000

Lon = Annotated[float, Field(ge=-180.0, le=180.0, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False)]
LonLat = tuple[Lon, Lat]
RoadId = Annotated[str, Field(min_length=1, max_length=100)]
VillageId = Annotated[str, Field(min_length=1, max_length=40)]


class UpgradeEdit(StrictModel):
    """Give roads (by id) a new class and / or surface (a scenario ``upgrade``)."""

    kind: Literal["upgrade"]
    roads: list[RoadId] = Field(min_length=1, max_length=MAX_ROADS_PER_EDIT)
    road_class: RoadClass | None = None
    surface: Surface | None = None


class CloseEdit(StrictModel):
    """Close roads (by id; a scenario ``close``)."""

    kind: Literal["close"]
    roads: list[RoadId] = Field(min_length=1, max_length=MAX_ROADS_PER_EDIT)


class BuildEdit(StrictModel):
    """A new road between two clicked points, each snapped to the nearest network node."""

    kind: Literal["build"]
    start: LonLat
    end: LonLat
    road_class: RoadClass = "village"
    surface: Surface = "paved"


class BusEdit(StrictModel):
    """A shuttle-bus line: stops (village ids or lon/lat) and departures per day."""

    kind: Literal["bus"]
    stops: list[VillageId | LonLat] = Field(min_length=1, max_length=MAX_STOPS)
    frequency_per_day: PositiveFloat = Field(4.0, le=500.0)
    max_stop_distance_m: PositiveFloat = Field(500.0, le=5000.0)


class SeasonEdit(StrictModel):
    """Switch the scenario's travel-time season."""

    kind: Literal["season"]
    season: Literal["dry", "rainy"]


class LoadBody(StrictModel):
    """A scenario YAML (text, not a path) to load into the session's editor."""

    yaml: str = Field(min_length=1, max_length=MAX_YAML_CHARS)


class CompareBody(StrictModel):
    """Two scenario YAMLs (text) of this tab to set side by side."""

    a: str = Field(min_length=1, max_length=MAX_YAML_CHARS // 2)
    b: str = Field(min_length=1, max_length=MAX_YAML_CHARS // 2)


Edit = UpgradeEdit | CloseEdit | BuildEdit | BusEdit | SeasonEdit
EDIT_MODELS: dict[str, type[StrictModel]] = {
    "upgrade": UpgradeEdit, "close": CloseEdit, "build": BuildEdit, "bus": BusEdit,
    "season": SeasonEdit,
}
