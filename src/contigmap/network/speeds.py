"""Speeds on rural roads: a class × surface table, slope penalties, seasons and walking.

Everything here is a default a region can override through :class:`NetworkParams`
(a pydantic model with ``extra="forbid"``, ready to sit in the region manifest).

Sources and reasoning
---------------------
*Paved roads.* China's highway technical standard JTG B01-2014 (公路工程技术标准) sets
design speeds of 120/100/80 km/h for expressways, 100/80/60 km/h for class-I, 80/60 km/h
for class-II, 40/30 km/h for class-III and 30/20 km/h for class-IV highways. National
roads are mostly class I–II, provincial roads class II, county roads class III, township
and village roads class IV (or below standard). Design speeds are upper bounds; the
defaults below take the lower (mountainous-terrain) design speed of each class and
discount it to an operating speed for mixed rural traffic (trucks, tractors, livestock,
villages along the road): expressway 80, national 60, provincial 50, county 40,
township 30, village 25 km/h.

*Gravel, earth and tracks.* The World Bank Rural Access Index methodology (Roberts,
Shyam and Rastogi 2006, *Measuring the Rural Access Index*, World Bank TP-10) counts a
road as all-season when it is motorable all year by the prevailing rural transport;
the global friction surface of Weiss et al. (2018, *Nature* 553:333–336) assigns
unpaved and track roads roughly half to two thirds of the speed of paved roads of the
same class. The defaults use about 0.7 × the paved speed for gravel and 0.5 × for earth,
with 15 km/h on gravel tracks and 10 km/h on earth tracks. Footpaths are not drivable.

*Season.* In the rainy season gravel roads slow to 0.85 ×, earth roads to 0.5 ×, and
earth tracks close to vehicles (``rainy_closed``). On foot, earth surfaces slow to
0.8 ×.

*Slope.* Vehicles: no penalty up to 3 % grade (the gentle grades JTG B01 allows at
high design speeds), then speed falls by 4 % per further percent of grade, never below
0.3 × (a loaded truck on a 9 % class-IV ramp crawls at about a third of its flat speed).
The penalty uses |grade|, the same both ways (steep descents are driven slowly too).

*Walking.* Tobler's hiking function (Tobler 1993, *Three presentations on geographical
analysis and modeling*, NCGIA TR 93-1): ``6·exp(−3.5·|dh/dx + 0.05|)`` km/h on tracks and
roads, direction-dependent (uphill ≠ downhill), times 3/5 off-path as Tobler suggested.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contigmap.schema import ROAD_CLASSES, SURFACES

__all__ = [
    "DEFAULT_SPEED_KMH",
    "NetworkParams",
    "Season",
    "slope_factor",
    "tobler_kmh",
]

Season = Literal["dry", "rainy"]

DEFAULT_SPEED_KMH: dict[str, dict[str, float | None]] = {
    "expressway": {"paved": 80.0, "gravel": 50.0, "earth": 35.0},
    "national": {"paved": 60.0, "gravel": 40.0, "earth": 30.0},
    "provincial": {"paved": 50.0, "gravel": 35.0, "earth": 25.0},
    "county": {"paved": 40.0, "gravel": 30.0, "earth": 20.0},
    "township": {"paved": 30.0, "gravel": 25.0, "earth": 18.0},
    "village": {"paved": 25.0, "gravel": 20.0, "earth": 15.0},
    "track": {"paved": 20.0, "gravel": 15.0, "earth": 10.0},
    "path": {"paved": None, "gravel": None, "earth": None},
}
"""Dry-season flat-ground vehicle speeds (km/h) by class and surface; ``None``: not drivable."""


class NetworkParams(BaseModel):
    """Parameters of the road network engine (all overridable from the region manifest).

    Attributes
    ----------
    snap_tolerance_m
        Line endpoints closer than this to another vertex are joined (data digitised
        without snapping).
    speed_kmh
        Dry-season vehicle speed by class and surface; partial tables are merged into
        :data:`DEFAULT_SPEED_KMH`; ``None`` marks a class / surface as not drivable.
    rainy_speed_factor
        Rainy-season multiplier of vehicle speed by surface.
    rainy_closed
        ``(class, surface)`` pairs closed to vehicles in the rainy season.
    walk_rainy_factor
        Rainy-season multiplier of walking speed by surface.
    slope_free_pct, slope_penalty_per_pct, slope_min_factor
        Vehicle slope penalty: ``max(min, 1 − per_pct · max(0, |grade %| − free))``.
    offroad_walk_factor
        Multiplier of Tobler's speed off roads and paths (Tobler: 3/5).
    dem_step_m
        Lines are densified to this vertex spacing before the DEM is sampled.
    all_season_classes
        Classes whose gravel roads count as all-season (paved roads always do).
    rai_distance_m
        The Rural Access Index distance (SDG 9.1.1: 2 km).
    isolated_distance_m
        A village farther than this from every road is ``isolated``.
    hardened_leg_max_m
        Longest walking leg to a hardened road for ``hardened_to_township``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    snap_tolerance_m: float = Field(default=5.0, ge=0.0)
    speed_kmh: dict[str, dict[str, float | None]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_SPEED_KMH.items()}
    )
    rainy_speed_factor: dict[str, float] = Field(
        default_factory=lambda: {"paved": 1.0, "gravel": 0.85, "earth": 0.5}
    )
    rainy_closed: list[tuple[str, str]] = Field(default_factory=lambda: [("track", "earth")])
    walk_rainy_factor: dict[str, float] = Field(
        default_factory=lambda: {"paved": 1.0, "gravel": 1.0, "earth": 0.8}
    )
    slope_free_pct: float = Field(default=3.0, ge=0.0)
    slope_penalty_per_pct: float = Field(default=0.04, ge=0.0)
    slope_min_factor: float = Field(default=0.3, gt=0.0, le=1.0)
    offroad_walk_factor: float = Field(default=0.6, gt=0.0, le=1.0)
    dem_step_m: float = Field(default=100.0, gt=0.0)
    all_season_classes: list[str] = Field(
        default_factory=lambda: ["expressway", "national", "provincial", "county", "township",
                                 "village"]
    )
    rai_distance_m: float = Field(default=2000.0, gt=0.0)
    isolated_distance_m: float = Field(default=2000.0, gt=0.0)
    hardened_leg_max_m: float = Field(default=500.0, ge=0.0)

    @field_validator("speed_kmh")
    @classmethod
    def _merge_speeds(
        cls, value: dict[str, dict[str, float | None]]
    ) -> dict[str, dict[str, float | None]]:
        merged = {k: dict(v) for k, v in DEFAULT_SPEED_KMH.items()}
        for klass, table in value.items():
            if klass not in ROAD_CLASSES:
                valid = ", ".join(ROAD_CLASSES)
                msg = f"speed_kmh: unknown road class '{klass}'; use one of {valid}"
                raise ValueError(msg)
            for surface, speed in table.items():
                if surface not in SURFACES:
                    msg = (f"speed_kmh.{klass}: unknown surface '{surface}'; "
                           f"use one of {', '.join(SURFACES)}")
                    raise ValueError(msg)
                if speed is not None and not (np.isfinite(speed) and speed > 0):
                    msg = (f"speed_kmh.{klass}.{surface}: speed must be a positive number of "
                           f"km/h (or null for not drivable), got {speed}")
                    raise ValueError(msg)
                merged[klass][surface] = speed
        return merged

    @model_validator(mode="after")
    def _check_domains(self) -> NetworkParams:
        for name in ("rainy_speed_factor", "walk_rainy_factor"):
            table: dict[str, float] = getattr(self, name)
            for surface, factor in table.items():
                if surface not in SURFACES or not (factor > 0):
                    msg = f"{name}.{surface}: need a known surface and a factor > 0, got {factor}"
                    raise ValueError(msg)
            missing = set(SURFACES) - set(table)
            if missing:
                msg = f"{name}: missing surface(s) {', '.join(sorted(missing))}"
                raise ValueError(msg)
        for klass, surface in self.rainy_closed:
            if klass not in ROAD_CLASSES or surface not in SURFACES:
                msg = f"rainy_closed: unknown pair ({klass}, {surface})"
                raise ValueError(msg)
        for klass in self.all_season_classes:
            if klass not in ROAD_CLASSES:
                msg = f"all_season_classes: unknown road class '{klass}'"
                raise ValueError(msg)
        return self

    def speed_table(self, season: Season = "dry") -> NDArray[np.float64]:
        """Vehicle speeds (km/h) as a ``(class, surface)`` array; ``nan`` = not drivable."""
        out = np.full((len(ROAD_CLASSES), len(SURFACES)), np.nan)
        for i, klass in enumerate(ROAD_CLASSES):
            for j, surface in enumerate(SURFACES):
                speed = self.speed_kmh[klass][surface]
                if speed is None:
                    continue
                if season == "rainy":
                    if (klass, surface) in {tuple(p) for p in self.rainy_closed}:
                        continue
                    speed = speed * self.rainy_speed_factor[surface]
                out[i, j] = speed
        return out

    def all_season_table(self) -> NDArray[np.bool_]:
        """Which ``(class, surface)`` roads are all-season: paved, or gravel on listed classes."""
        out = np.zeros((len(ROAD_CLASSES), len(SURFACES)), dtype=bool)
        for i, klass in enumerate(ROAD_CLASSES):
            out[i, SURFACES.index("paved")] = klass != "path"
            if klass in self.all_season_classes:
                out[i, SURFACES.index("gravel")] = True
        return out


def slope_factor(grade: NDArray[np.float64], params: NetworkParams) -> NDArray[np.float64]:
    """Vehicle speed multiplier for a grade (rise/run, signed; the penalty uses |grade|)."""
    pct = np.abs(np.nan_to_num(grade)) * 100.0
    excess = np.maximum(pct - params.slope_free_pct, 0.0)
    return np.maximum(1.0 - params.slope_penalty_per_pct * excess, params.slope_min_factor)


def tobler_kmh(grade: NDArray[np.float64]) -> NDArray[np.float64]:
    """Tobler's hiking function: walking speed in km/h for a signed grade dh/dx.

    ``6·exp(−3.5·|dh/dx + 0.05|)``: 5.04 km/h on the flat, fastest (6 km/h) on a 5 %
    descent. Source: Tobler (1993), NCGIA Technical Report 93-1.
    """
    g = np.nan_to_num(np.asarray(grade, dtype=float))
    return np.asarray(6.0 * np.exp(-3.5 * np.abs(g + 0.05)), dtype=float)
