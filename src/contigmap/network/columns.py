"""Register the columns the network stage adds, for ``contigmap columns``.

The definitions follow :mod:`contigmap.network.access` (its module docstring is the
reference for each measure).
"""

from __future__ import annotations

from contigmap.columns import ColumnInfo, register_columns
from contigmap.schema import SERVICE_KIND_ZH

__all__: list[str] = []

_SRC = "roads, services / network"

_KIND_EN = {
    "county_seat": "the county seat",
    "township_seat": "the nearest township seat",
    "health_centre": "the nearest health centre",
    "school": "the nearest school",
    "market": "the nearest market",
    "own_township_seat": "the seat of its own township",
}
_KIND_ZH = {**SERVICE_KIND_ZH, "township_seat": "最近乡镇驻地", "own_township_seat": "本乡镇驻地"}


def _travel_time_columns() -> list[ColumnInfo]:
    out = []
    for kind, en in _KIND_EN.items():
        zh = _KIND_ZH[kind]
        out.append(ColumnInfo(f"tt_{kind}_min", f"travel time to {en}, by vehicle where "
                              "drivable and on foot elsewhere, walking legs included",
                              f"到{zh}车行时间", "min", _SRC))
        out.append(ColumnInfo(f"walk_{kind}_min", f"walking time to {en} (Tobler 1993)",
                              f"到{zh}步行时间", "min", _SRC))
    return out


register_columns([
    *_travel_time_columns(),
    ColumnInfo("nearest_township_seat_id", "service_id of the nearest township seat",
               "最近乡镇驻地编号", "", _SRC),
    ColumnInfo("dist_road_m", "straight-line distance to the nearest road", "到最近道路距离",
               "m", _SRC),
    ColumnInfo("walk_leg_min", "off-road walking time to the nearest road (a footpath, grade "
               "capped at leg_max_grade; every leg in access_legs.csv)", "到道路步行时间",
               "min", _SRC),
    ColumnInfo("nearest_road_id", "road_id of the nearest road", "最近道路编号", "", _SRC),
    ColumnInfo("dist_all_season_m", "distance to the nearest all-season road (default: "
               "hardened, surface paved)", "到全天候道路（硬化路）距离", "m", _SRC),
    ColumnInfo("all_season_2km", "within 2 km of an all-season road (Rural Access Index, "
               "SDG 9.1.1; default all-season = hardened, see rai_definition)",
               "2公里内有全天候道路（硬化路）", "bool", _SRC),
    ColumnInfo("dist_hardened_road_m", "distance to the nearest hardened (paved) road",
               "到最近硬化路距离", "m", _SRC),
    ColumnInfo("hardened_to_township", "a hardened road connects it to its township seat",
               "通硬化路到乡镇", "bool", _SRC),
    ColumnInfo("isolated", "no road nearby, or on a piece of network cut off from the county "
               "seat", "无路或路网孤立", "bool", _SRC),
    ColumnInfo("rainy_unreachable", "no vehicle route to the township seat in the rainy season",
               "雨季车辆不可达乡镇", "bool", _SRC),
])
