"""contigmap's canonical layer schema: id columns, required columns and value domains.

Every loader renames the user's columns to these names (through the manifest's
``columns`` mapping), so that every later stage can rely on them.

Road classes follow China's administrative road classes (国道, 省道, 县道, 乡道, 村道)
plus tracks (机耕道) and footpaths (步道); surfaces are grouped as the rural road
statistics group them: hardened (paved: asphalt or cement concrete), gravel, earth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "BOOLEAN_EXTRA",
    "BOOLEAN_FALSE",
    "BOOLEAN_TRUE",
    "HARDENED_SURFACES",
    "HAZARD_POINT_RADIUS_M",
    "POVERTY_CAUSES",
    "ROAD_CLASSES",
    "ROLE_SCHEMAS",
    "SERVICE_KINDS",
    "SURFACES",
    "RoleSchema",
    "role_key",
]

ROAD_CLASSES: Final[tuple[str, ...]] = (
    "expressway",  # 高速公路
    "national",  # 国道
    "provincial",  # 省道
    "county",  # 县道
    "township",  # 乡道
    "village",  # 村道
    "track",  # 机耕道 / 便道
    "path",  # 步道 (footpath, not drivable)
)
"""Road classes, from highest to lowest."""

ROAD_CLASS_ZH: Final[dict[str, str]] = {
    "expressway": "高速公路",
    "national": "国道",
    "provincial": "省道",
    "county": "县道",
    "township": "乡道",
    "village": "村道",
    "track": "机耕道",
    "path": "步道",
}

SURFACES: Final[tuple[str, ...]] = ("paved", "gravel", "earth")
"""Road surfaces. ``paved`` is a hardened road (asphalt or cement concrete)."""

SURFACE_ZH: Final[dict[str, str]] = {"paved": "硬化路面", "gravel": "砂石路面", "earth": "土路"}

HARDENED_SURFACES: Final[frozenset[str]] = frozenset({"paved"})

SERVICE_KINDS: Final[tuple[str, ...]] = (
    "county_seat",  # 县城
    "township_seat",  # 乡镇政府驻地
    "health_centre",  # 卫生院
    "school",  # 学校 (read as a primary school unless its name says 中学/初中)
    "market",  # 集市
    "clinic",  # 村卫生室
    "hospital",  # 县级医院
    "primary_school",  # 小学
    "middle_school",  # 初级中学
)

SERVICE_KIND_ZH: Final[dict[str, str]] = {
    "county_seat": "县城",
    "township_seat": "乡镇驻地",
    "health_centre": "卫生院",
    "school": "学校",
    "market": "集市",
    "clinic": "村卫生室",
    "hospital": "县级医院",
    "primary_school": "小学",
    "middle_school": "初中",
}

POVERTY_CAUSES: Final[dict[str, str]] = {
    "illness": "因病",
    "disability": "因残",
    "schooling": "因学",
    "disaster": "因灾",
    "marriage": "因婚",
    "lack_of_land": "缺土地",
    "lack_of_water": "缺水",
    "lack_of_skills": "缺技术",
    "lack_of_capital": "缺资金",
    "lack_of_labour": "缺劳力",
    "poor_transport": "交通条件落后",
    "lack_of_motivation": "自身发展动力不足",
    "other": "其他",
}
"""Main poverty causes of the household registration system (建档立卡), English key to Chinese."""


BOOLEAN_TRUE: Final[tuple[str, ...]] = ("是", "有", "y", "yes", "true", "1")
"""Words a yes/no input column accepts for *yes* (case-insensitive, trimmed)."""

BOOLEAN_FALSE: Final[tuple[str, ...]] = ("否", "无", "n", "no", "false", "0")
"""Words a yes/no input column accepts for *no*; a blank cell takes the column's default."""

BOOLEAN_EXTRA: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "poor": (("贫困户", "贫困", "poor"), ("非贫困户", "非贫困", "not_poor")),
}
"""Extra (yes, no) words of particular yes/no columns."""

HAZARD_POINT_RADIUS_M: Final[float] = 500.0
"""Default search radius (m) of a hazard *point* layer (隐患点), ``radius_m:`` in region.yaml.

A hazard layer holds either polygons (zones) or points (地质灾害隐患点 with 风险等级 and
威胁人数), never both; a point counts for a settlement or road segment within this
distance of it."""


@dataclass(frozen=True)
class RoleSchema:
    """What a layer of one role must hold.

    Attributes
    ----------
    id_column
        The canonical id column; ids must be unique.
    required
        Columns that must exist after renaming (besides the id and geometry).
    geometry
        Allowed geometry kinds: ``point``, ``line``, ``polygon``; empty for tables.
    numeric_min
        Numeric columns with their smallest allowed value (checked when present).
    domains
        Columns whose values must come from a fixed set (checked when present).
    booleans
        Yes/no columns with their default for blank cells (parsed when present by
        :func:`contigmap.booleans.parse_bool`).
    flag_or_share
        Columns that hold either yes/no words or a number from 0 to 1 (``karst``).
    table_ok
        A table without geometry is accepted too (townships: codes and names only).
    """

    id_column: str
    required: tuple[str, ...] = ()
    geometry: tuple[str, ...] = ()
    numeric_min: dict[str, float] = field(default_factory=dict)
    domains: dict[str, tuple[str, ...]] = field(default_factory=dict)
    booleans: dict[str, bool] = field(default_factory=dict)
    flag_or_share: tuple[str, ...] = ()
    table_ok: bool = False


ROLE_SCHEMAS: Final[dict[str, RoleSchema]] = {
    "villages": RoleSchema(
        "village_id",
        required=("name", "township_id"),
        geometry=("point", "polygon"),
        numeric_min={"pop": 0, "households": 0},
        flag_or_share=("karst",),
    ),
    "village_areas": RoleSchema("village_id", geometry=("polygon",)),
    "hamlets": RoleSchema(
        "hamlet_id",
        required=("village_id", "name"),
        geometry=("point",),
        numeric_min={"pop": 0, "households": 0},
    ),
    "boundaries.county": RoleSchema("county_id", required=("name",), geometry=("polygon",)),
    "boundaries.townships": RoleSchema(
        "township_id", required=("name",), geometry=("polygon",), table_ok=True
    ),
    "roads": RoleSchema(
        "road_id",
        required=("road_class", "surface"),
        geometry=("line",),
        domains={"road_class": ROAD_CLASSES, "surface": SURFACES},
        booleans={"bridge": False, "tunnel": False},
    ),
    "services": RoleSchema(
        "service_id",
        required=("kind", "name"),
        geometry=("point",),
        domains={"kind": SERVICE_KINDS},
    ),
    "rivers": RoleSchema("river_id", geometry=("line",), numeric_min={"upstream_km2": 0}),
    "hazards": RoleSchema(
        "hazard_id", geometry=("polygon", "point"), numeric_min={"threatened_people": 0}
    ),
    "ecology": RoleSchema("eco_id", geometry=("polygon",)),
    "infrastructure.power_lines": RoleSchema("line_id", geometry=("line",)),
    "infrastructure.substations": RoleSchema("substation_id", geometry=("point",)),
    "infrastructure.fibre": RoleSchema("fibre_id", geometry=("line", "point")),
    "infrastructure.towers": RoleSchema("tower_id", geometry=("point",)),
    "infrastructure.water_sources": RoleSchema(
        "source_id", geometry=("point",), numeric_min={"yield_m3_day": 0}
    ),
    "households": RoleSchema(
        "household_id",
        required=("village_id", "members", "poor"),
        numeric_min={"members": 1, "income_per_person": 0},
        booleans={"poor": False},
    ),
}


def role_key(role: str, name: str | None = None) -> str:
    """Key into :data:`ROLE_SCHEMAS` for a role and, for grouped roles, a layer name.

    ``hazards`` and ``ecology`` share one schema whatever their layer names are.
    """
    if name is None or role in ("hazards", "ecology"):
        return role
    return f"{role}.{name}"
