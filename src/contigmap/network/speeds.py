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
roads, direction-dependent (uphill ≠ downhill). Its three constants are settings
(``tobler_max_kmh``, ``tobler_decay``, ``tobler_grade_offset``).

*Off-road legs* (a village or service to the nearest point of its nearest road) are
footpaths, and footpaths on steep ground zigzag: a leg is walked at Tobler's speed on
its grade capped at ``leg_max_grade`` (default 15 %), over the horizontal length a path
needs to climb the height difference at that grade, ``max(d, |dh| / leg_max_grade)``.
Source of the cap: trail design keeps sustained grades of footpaths near 10 % and
allows up to 15–20 % on short pitches, with switchbacks where the fall line is steeper
(USDA Forest Service, *Trail Construction and Maintenance Notebook*, Hesselbarth,
Vachowski and Davies 2007, "the 10-percent guideline" and switchbacks). A 217 m leg
rising 133 m (61 %) takes 17.8 min this way (887 m of switchbacks at 2.98 km/h) — close
to Naismith's rule (5 km/h plus 1 h per 600 m of ascent: 16 min) — where a straight
line at Tobler's speed on 61 % took 22 min on a path and 37 min at Tobler's
off-path 3/5 (``offroad_walk_factor``, now 1: legs are paths; set 0.6 for
cross-country walking).

*All-season roads and the RAI.* In China a village road counts when it is hardened
(硬化路: asphalt or cement concrete, surface ``paved``); gravel does not. A road is
all-season when its surface is in ``all_season_surfaces`` (default ``[paved]``) and its
class in ``all_season_classes`` (every class but footpaths); :meth:`NetworkParams.rai_definition`
says so in words next to every RAI.

All of these are one settings model, :class:`NetworkParams`, set in layers: the
packaged defaults, the region manifest's ``network:`` section, the ``network:`` section
of ``--config`` and a scenario's ``params:`` (:meth:`NetworkParams.layered`).
"""

from __future__ import annotations

import copy
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    field_validator,
    model_validator,
)

from contigmap._strict import StrictModel
from contigmap.schema import ROAD_CLASSES, SURFACES

__all__ = [
    "DEFAULT_SPEED_KMH",
    "NetworkParams",
    "NetworkSettings",
    "Season",
    "deep_merge",
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


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``override`` merged in, mappings merged key by key (not in place)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


_ALL_BUT_PATH = [c for c in ROAD_CLASSES if c != "path"]


class NetworkParams(StrictModel):
    """Settings of the road network engine: the one model for every way of setting them.

    The same model validates the region manifest's ``network:`` section, the
    ``network:`` section of ``--config`` and a scenario's ``params:``; they are applied
    in that order over the defaults (:meth:`layered`).

    Attributes
    ----------
    season
        ``dry`` or ``rainy``: the season of the travel times (a command's ``--season``
        and a scenario's ``season:`` override it).
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
    slope_penalty
        ``false`` switches every slope effect off: vehicles at their flat speed, walkers
        at Tobler's flat speed, off-road legs as straight lines on the level.
    slope_free_pct, slope_penalty_per_pct, slope_min_factor
        Vehicle slope penalty: ``max(min, 1 − per_pct · max(0, |grade %| − free))``.
    tobler_max_kmh, tobler_decay, tobler_grade_offset
        Walking speed ``max · exp(−decay · |grade + offset|)`` (Tobler: 6, 3.5, 0.05).
    offroad_walk_factor
        Multiplier of the walking speed on off-road legs (1: legs are footpaths;
        Tobler's 3/5 for cross-country walking).
    leg_max_grade
        Steepest grade an off-road leg's footpath climbs; steeper legs zigzag (see the
        module docstring).
    dem_step_m
        Lines are densified to this vertex spacing before the DEM is sampled.
    all_season_surfaces, all_season_classes
        A road is all-season (for the RAI) when its surface and its class are listed.
    rai_distance_m
        The Rural Access Index distance (SDG 9.1.1: 2 km).
    isolated_distance_m
        A village farther than this from every road is ``isolated``.
    hardened_leg_max_m
        Longest walking leg to a hardened road for ``hardened_to_township``.
    """

    season: Season = "dry"
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
    slope_penalty: bool = True
    slope_free_pct: float = Field(default=3.0, ge=0.0)
    slope_penalty_per_pct: float = Field(default=0.04, ge=0.0)
    slope_min_factor: float = Field(default=0.3, gt=0.0, le=1.0)
    tobler_max_kmh: float = Field(default=6.0, gt=0.0)
    tobler_decay: float = Field(default=3.5, ge=0.0)
    tobler_grade_offset: float = 0.05
    offroad_walk_factor: float = Field(default=1.0, gt=0.0, le=1.0)
    leg_max_grade: float = Field(default=0.15, gt=0.0)
    dem_step_m: float = Field(default=100.0, gt=0.0)
    all_season_surfaces: list[str] = Field(default_factory=lambda: ["paved"], min_length=1)
    all_season_classes: list[str] = Field(default_factory=lambda: list(_ALL_BUT_PATH))
    rai_distance_m: float = Field(default=2000.0, gt=0.0)
    isolated_distance_m: float = Field(default=2000.0, gt=0.0)
    hardened_leg_max_m: float = Field(default=500.0, ge=0.0)
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_given(cls, data: Any, handler: ModelWrapValidatorHandler[NetworkParams]
                    ) -> NetworkParams:
        model = handler(data)
        if isinstance(data, dict):
            model._raw = copy.deepcopy(data)
        return model

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
                msg = (f"all_season_classes: unknown road class '{klass}'; use one of "
                       f"{', '.join(ROAD_CLASSES)}")
                raise ValueError(msg)
        for surface in self.all_season_surfaces:
            if surface not in SURFACES:
                msg = (f"all_season_surfaces: unknown surface '{surface}'; use one of "
                       f"{', '.join(SURFACES)}")
                raise ValueError(msg)
        return self

    def overrides(self) -> dict[str, Any]:
        """Return the settings given explicitly (a partial ``speed_kmh`` stays partial)."""
        return copy.deepcopy(self._raw)

    def layered(self, *overrides: dict[str, Any] | NetworkParams | None) -> NetworkParams:
        """Return these settings with ``overrides`` applied in order (later ones win).

        Each override is a mapping of the keys it sets (``speed_kmh`` tables merge cell
        by cell) or a :class:`NetworkParams`, of which only the keys given explicitly
        count (:meth:`overrides`).

        Raises
        ------
        pydantic.ValidationError
            An override with an unknown key or a bad value.
        """
        data = self.overrides()
        for over in overrides:
            if over is None:
                continue
            if isinstance(over, NetworkParams):
                over = over.overrides()
            data = deep_merge(data, over)
        return NetworkParams.model_validate(data)

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
        """Which ``(class, surface)`` roads are all-season (listed surface and class)."""
        out = np.zeros((len(ROAD_CLASSES), len(SURFACES)), dtype=bool)
        for i, klass in enumerate(ROAD_CLASSES):
            for j, surface in enumerate(SURFACES):
                out[i, j] = klass in self.all_season_classes and surface in self.all_season_surfaces
        return out

    def rai_definition(self) -> str:
        """Return the RAI's definition in words, printed next to every RAI figure."""
        surfaces = "+".join(self.all_season_surfaces)
        zh = "硬化路" if self.all_season_surfaces == ["paved"] else "全天候道路"
        classes = ("all classes but footpaths" if set(self.all_season_classes)
                   == set(_ALL_BUT_PATH) else "classes " + "+".join(self.all_season_classes))
        return (f"pop. share within {self.rai_distance_m / 1000:g} km of an all-season road "
                f"({zh}: surface {surfaces}; {classes})")

    def walk_kmh(self, grade: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return the walking speed (km/h) on a signed grade (Tobler, these settings).

        With ``slope_penalty: false`` every grade walks at the flat speed.
        """
        g = np.nan_to_num(np.asarray(grade, dtype=float))
        if not self.slope_penalty:
            g = np.zeros_like(g)
        return np.asarray(
            self.tobler_max_kmh * np.exp(-self.tobler_decay * np.abs(g + self.tobler_grade_offset)),
            dtype=float)

    def leg_minutes(
        self, dist_m: NDArray[np.float64], dz_m: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return walking minutes and path length of off-road legs (module docstring).

        Parameters
        ----------
        dist_m
            Horizontal straight-line length of each leg.
        dz_m
            Rise along the leg in the direction walked (``nan``: flat).

        Returns
        -------
        tuple of numpy.ndarray
            Minutes, and the horizontal path length ``max(d, |dh| / leg_max_grade)``
            (``inf`` where ``dist_m`` is).
        """
        d = np.asarray(dist_m, dtype=float)
        dz = np.nan_to_num(np.asarray(dz_m, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
        if not self.slope_penalty:
            dz = np.zeros_like(dz)
        cap = self.leg_max_grade
        with np.errstate(invalid="ignore", divide="ignore"):
            grade = np.where(d > 0, dz / np.where(d > 0, d, 1.0), 0.0)
            capped = np.clip(grade, -cap, cap)
            length = np.where(np.isfinite(d), np.maximum(d, np.abs(dz) / cap), np.inf)
            speed = self.walk_kmh(capped) * self.offroad_walk_factor * _KMH_TO_M_PER_MIN
            minutes = np.where(d > 0, length / speed, 0.0)
        minutes[~np.isfinite(d)] = np.inf
        return np.asarray(minutes, dtype=float), np.asarray(length, dtype=float)


NetworkSettings = NetworkParams
"""Another name of :class:`NetworkParams` (the settings of the network engine)."""

_KMH_TO_M_PER_MIN = 1000.0 / 60.0


def slope_factor(grade: NDArray[np.float64], params: NetworkParams) -> NDArray[np.float64]:
    """Vehicle speed multiplier for a grade (rise/run, signed; the penalty uses |grade|).

    All ones with ``params.slope_penalty`` off.
    """
    if not params.slope_penalty:
        return np.ones_like(np.asarray(grade, dtype=float))
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
