"""Register the input columns every village and hamlet table carries, for ``contigmap columns``."""

from __future__ import annotations

from contigmap.columns import ColumnInfo, register_columns

__all__: list[str] = []

_SRC = "villages / input"

register_columns([
    ColumnInfo("village_id", "administrative village code (12 digits, NBS statistical code)",
               "行政村统计用区划代码", "", _SRC),
    ColumnInfo("name", "name", "名称", "", _SRC),
    ColumnInfo("township_id", "township code (9 digits)", "乡镇代码", "", _SRC),
    ColumnInfo("township_name", "township name", "乡镇名称", "", "boundaries.townships / input"),
    ColumnInfo("kind", "village (村) or urban community (社区)", "类型", "", _SRC),
    ColumnInfo("pop", "resident population", "人口", "people", _SRC),
    ColumnInfo("households", "households: from the villages (hamlets) layer, else a complete "
               "registry, else pop / household_size; see households_source",
               "户数（来源见户数来源列）", "households", "villages, households / poverty"),
    ColumnInfo("hamlet_id", "natural village (自然村) id", "自然村编号", "", "hamlets / input"),
    ColumnInfo("lon", "longitude (WGS84) of the settlement point, in CSV tables", "经度",
               "deg", "output"),
    ColumnInfo("lat", "latitude (WGS84) of the settlement point, in CSV tables", "纬度",
               "deg", "output"),
])
