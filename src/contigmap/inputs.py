"""What contigmap reads: every role's canonical input columns and the headers it recognises.

This is the one table of header knowledge. Each role (``villages``, ``roads``, ...)
lists its canonical columns (the names every stage relies on after the manifest's
``columns:`` renaming) with the headers county offices commonly use for them
(Chinese first, then English), their unit, their value vocabulary and what happens
when the column is missing. ``contigmap init`` matches a folder's headers against it
(:func:`match_column`), and ``docs/inputs.md`` is generated from it
(:func:`inputs_markdown`, ``contigmap inputs --markdown``).

Value vocabularies are *not* repeated here: road classes, surfaces and service kinds
come from :mod:`contigmap.schema` and the Chinese spellings accepted by
:func:`contigmap.io.checks.check_layer`; poverty causes from :mod:`contigmap.poverty`;
yes/no words from :data:`contigmap.schema.BOOLEAN_TRUE` / :data:`~contigmap.schema.BOOLEAN_FALSE`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from contigmap.inputs_formats import FORMAT_NOTES
from contigmap.schema import (
    BOOLEAN_FALSE,
    BOOLEAN_TRUE,
    POVERTY_CAUSES,
    ROAD_CLASSES,
    ROLE_SCHEMAS,
    SERVICE_KINDS,
    SURFACES,
)

__all__ = [
    "GCJ02_HINTS",
    "INPUT_ROLES",
    "PERSONAL_INPUTS",
    "X_ALIASES",
    "Y_ALIASES",
    "InputColumn",
    "RoleInputs",
    "inputs_markdown",
    "match_column",
    "normalise_header",
    "role_inputs",
    "value_vocabularies",
]


@dataclass(frozen=True)
class InputColumn:
    """One canonical input column of a role.

    Attributes
    ----------
    name
        Canonical name (``village_id``, ``pop``).
    aliases
        Headers recognised for it, compared after :func:`normalise_header`.
    meaning_en, meaning_zh
        What it holds.
    unit
        Unit (empty for text and codes).
    if_missing
        What contigmap does when the column is absent.
    vocabulary
        Key of :func:`value_vocabularies` when the values come from a fixed list.
    """

    name: str
    aliases: tuple[str, ...]
    meaning_en: str
    meaning_zh: str
    unit: str = ""
    if_missing: str = "not used"
    vocabulary: str | None = None


@dataclass(frozen=True)
class RoleInputs:
    """The inputs of one role (a key of :data:`contigmap.schema.ROLE_SCHEMAS`, or ``dem``).

    Attributes
    ----------
    role
        Role key (``villages``, ``boundaries.townships``, ``infrastructure.towers``).
    title_zh
        Chinese name of the layer.
    what
        One line: what the layer is and its geometry.
    file_hints
        Words in a file, layer or sheet name that suggest this role (for ``init``).
    columns
        Canonical columns, id first.
    """

    role: str
    title_zh: str
    what: str
    file_hints: tuple[str, ...]
    columns: tuple[InputColumn, ...] = ()


_REQ = "required: the layer is rejected and the message names the column"
_VILLAGE_CODE = ("村代码", "行政村代码", "村级代码", "村编码", "村编号", "行政区划代码",
                 "统计用区划代码", "区划代码", "村区划代码", "xzqdm", "cun_dm", "village_code",
                 "village_id", "vcode", "code")
_TOWNSHIP_CODE = ("乡镇代码", "乡镇编码", "乡镇区划代码", "乡镇编号", "所属乡镇代码", "乡代码",
                  "镇代码", "xzdm", "township_code", "township_id", "town_code")
_TOWNSHIP_NAME = ("乡镇名称", "乡镇", "乡镇名", "所属乡镇", "乡（镇）", "乡(镇)", "镇名", "乡名",
                  "township_name", "township", "town")
_NAME = ("名称", "name", "mc")
_POP = ("户籍人口", "总人口", "人口", "人口数", "常住人口", "户籍人口数", "总人口数", "population",
        "pop")
_HOUSEHOLDS = ("户数", "总户数", "户籍户数", "农户数", "households", "hh")
_BOOL_NOTE = "yes/no"

# s19b: personal data in registries (issue #19 item 11)
PERSONAL_INPUTS: Final[tuple[tuple[str, tuple[str, ...], str, str], ...]] = (
    ("head_name", ("户主姓名", "户主", "户主名", "姓名", "户主名字", "联系人", "head_name",
                   "name_of_head"), "name of the head of household", "户主姓名"),
    ("id_number", ("身份证号", "身份证号码", "户主身份证号", "身份证", "公民身份号码", "证件号码",
                   "id_number", "id_card"), "citizen ID number (18 digits)", "身份证号"),
    ("phone", ("联系电话", "电话", "电话号码", "手机", "手机号", "手机号码", "phone", "mobile"),
     "telephone number", "联系电话"),
    ("bank_account", ("银行卡号", "银行账号", "一卡通账号", "bank_account"), "bank account",
     "银行卡号"),
)
"""Personal columns (canonical name, recognised headers, meaning): read, never kept."""

X_ALIASES: Final[tuple[str, ...]] = (
    "经度", "东经", "x", "x坐标", "横坐标", "东坐标", "lon", "lng", "long", "longitude", "point_x",
    "gcj02_lng", "gcj_lng", "高德经度", "wgs84_lon",
)
"""Headers of the longitude / easting column of a coordinate table (tested in order)."""

Y_ALIASES: Final[tuple[str, ...]] = (
    "纬度", "北纬", "y", "y坐标", "纵坐标", "北坐标", "lat", "latitude", "point_y",
    "gcj02_lat", "gcj_lat", "高德纬度", "wgs84_lat",
)
"""Headers of the latitude / northing column of a coordinate table (tested in order)."""

GCJ02_HINTS: Final[tuple[str, ...]] = ("高德", "amap", "gaode", "腾讯", "tencent", "qq地图",
                                       "gcj", "火星")
"""Words in a file, sheet or column name that suggest GCJ-02 coordinates (web maps)."""

BD09_HINTS: Final[tuple[str, ...]] = ("百度", "baidu", "bd09", "bd-09")
"""Words that suggest Baidu BD-09 coordinates (not GCJ-02; contigmap cannot convert them)."""


INPUT_ROLES: Final[tuple[RoleInputs, ...]] = (
    RoleInputs(
        "villages", "行政村", "administrative villages: points (or polygons, whose inner "
        "point is used); one row per village", ("村", "village", "行政村", "cun"),
        (
            InputColumn("village_id", _VILLAGE_CODE, "village code (12-digit NBS code), unique",
                        "行政村统计用区划代码（12位）", "", _REQ),
            InputColumn("name", ("村名", "村名称", "行政村", "行政村名称", "村委会", "村委会名称",
                                 "村民委员会", "xzqmc", "village_name", "village", *_NAME),
                        "village name", "村名", "", _REQ),
            InputColumn("township_id", _TOWNSHIP_CODE, "code of the village's township "
                        "(9 digits)", "乡镇代码", "", _REQ),
            InputColumn("township_name", _TOWNSHIP_NAME, "township name", "乡镇名称", "",
                        "taken from the townships layer (polygons or table), else from the "
                        "names of the township-seat services; else left out"),
            InputColumn("kind", ("类型", "村类型", "村社类型", "kind"),
                        "village (村) or urban community (社区)", "类型", "", "not used"),
            InputColumn("pop", _POP, "resident (registered) population", "户籍人口", "people",
                        "priority and relocation stages stop and name it; access shares and "
                        "RAI then count every village as one person"),
            InputColumn("households", _HOUSEHOLDS, "households", "户数", "households",
                        "taken from the household registry's counts"),
            InputColumn("poor_pop", ("贫困人口", "贫困人口数", "建档立卡贫困人口", "贫困人数",
                                     "poor_pop", "poor_people"),
                        "poor people (a statistics table, often joined with join:)",
                        "贫困人口", "people",
                        "taken from a complete or sample registry; never from a poor-only one"),
            InputColumn("poor_households", ("贫困户数", "建档立卡贫困户数",
                                            "poor_households"),
                        "poor households", "贫困户数", "households",
                        "taken from the registry, as poor_pop"),
        ),
    ),
    RoleInputs(
        "village_areas", "村界", "village territories: polygons keyed by village_id",
        ("村界", "村域", "村级界线", "行政村界", "village_area", "village_boundar"),
        (
            InputColumn("village_id", _VILLAGE_CODE, "village code, as in the villages layer",
                        "行政村代码", "", _REQ),
            InputColumn("name", ("村名", "村名称", "xzqmc", *_NAME), "village name", "村名"),
        ),
    ),
    RoleInputs(
        "hamlets", "自然村", "natural villages (自然村 / 村民小组): points",
        ("自然村", "村民小组", "hamlet", "组"),
        (
            InputColumn("hamlet_id", ("自然村代码", "自然村编号", "自然村编码", "组编号", "组代码",
                                      "hamlet_code", "hamlet_id"),
                        "hamlet id, unique", "自然村编号", "", _REQ),
            InputColumn("village_id", ("所属行政村代码", "行政村代码", "村代码", "village_code",
                                       "village_id"),
                        "code of the hamlet's administrative village", "所属行政村代码", "",
                        _REQ),
            InputColumn("name", ("自然村名", "自然村名称", "组名", "村民小组", *_NAME),
                        "hamlet name", "自然村名", "", _REQ),
            InputColumn("pop", _POP, "population", "人口", "people",
                        "broadband planning for hamlets stops and names it"),
            InputColumn("households", _HOUSEHOLDS, "households", "户数", "households",
                        "broadband planning for hamlets stops and names it"),
        ),
    ),
    RoleInputs(
        "boundaries.county", "县界", "the county outline: polygon(s)",
        ("县界", "县域", "县级", "行政区", "county"),
        (
            InputColumn("county_id", ("县代码", "行政区划代码", "区划代码", "xzqdm", "county_code",
                                      "county_id", "code"),
                        "county code (6 digits)", "县级行政区划代码", "",
                        "numbered 1, 2, ... in file order"),
            InputColumn("name", ("县名", "县名称", "xzqmc", *_NAME), "county name", "县名", "",
                        _REQ),
        ),
    ),
    RoleInputs(
        "boundaries.townships", "乡镇", "township polygons, or a table of township codes "
        "and names (no boundaries)", ("乡镇", "乡镇界", "镇界", "township", "town", "xiang"),
        (
            InputColumn("township_id", ("乡镇代码", "乡镇编码", "行政区划代码", "区划代码", "xzqdm",
                                        "xzdm", "township_code", "township_id", "code"),
                        "township code (9 digits), unique", "乡镇代码", "", _REQ),
            InputColumn("name", ("乡镇名称", "乡镇", "乡镇名", "xzqmc", "township_name", *_NAME),
                        "township name", "乡镇名称", "", _REQ),
        ),
    ),
    RoleInputs(
        "roads", "道路", "road centre lines: lines",
        ("路", "道路", "公路", "路网", "road", "highway", "lxbm"),
        (
            InputColumn("road_id", ("道路编码", "道路编号", "路线编码", "路线编号", "路线代码",
                                    "路段编码", "路段编号", "lxbm", "ldbm", "road_code", "road_id",
                                    "id", "编号"),
                        "road segment id", "路段编号", "", "numbered 1, 2, ... in file order"),
            InputColumn("road_class", ("道路等级", "行政等级", "公路等级", "路线等级", "道路类别",
                                       "道路类型", "等级", "xzdj", "road_class", "class", "fclass"),
                        "administrative road class", "行政等级", "", _REQ, "road_class"),
            InputColumn("surface", ("路面", "路面类型", "路面材料", "路面结构", "面层类型", "lmlx",
                                    "surface", "pavement"),
                        "surface (hardened = asphalt or cement concrete)", "路面类型", "", _REQ,
                        "surface"),
            InputColumn("bridge", ("桥梁", "是否桥梁", "桥", "bridge", "is_bridge"),
                        "the segment is a bridge", "是否桥梁", "yes/no",
                        "no segment is a bridge", "boolean"),
            InputColumn("tunnel", ("隧道", "是否隧道", "tunnel", "is_tunnel"),
                        "the segment is a tunnel", "是否隧道", "yes/no",
                        "no segment is a tunnel", "boolean"),
            InputColumn("tech_grade", ("技术等级", "jsdj", "tech_grade", "grade"),
                        "technical grade (一级 ... 四级, 等外); not the administrative class",
                        "技术等级", "", "not used (speeds follow road_class and surface)"),
            InputColumn("name", ("道路名称", "路线名称", "路名", *_NAME), "road name", "路线名称"),
        ),
    ),
    RoleInputs(
        "dem", "数字高程模型", "elevation raster in metres (GeoTIFF)",
        ("dem", "高程", "dsm", "srtm", "aster", "elev", "地形"),
    ),
    RoleInputs(
        "rivers", "河流", "river centre lines: lines",
        ("河", "水系", "river", "stream", "hydro"),
        (
            InputColumn("river_id", ("河流编码", "河流代码", "编号", "river_id", "id"), "river id",
                        "河流编码", "", "numbered 1, 2, ... in file order"),
            InputColumn("upstream_km2", ("集水面积", "流域面积", "汇水面积", "upstream_km2"),
                        "upstream catchment area", "集水面积", "km2", "not used"),
            InputColumn("name", ("河流名称", "河名", *_NAME), "river name", "河流名称"),
        ),
    ),
    RoleInputs(
        "hazards", "地质灾害", "hazard zones: polygons (or rasters), or hazard points "
        "(地质灾害隐患点: points, or a table with 经度/纬度, searched within `radius_m`, "
        "default 500 m); one layer per hazard",
        ("灾", "隐患", "易发", "滑坡", "泥石流", "崩塌", "洪", "hazard", "landslide", "flood"),
        (
            InputColumn("hazard_id", ("隐患点编号", "统一编号", "灾害点编号", "编号", "hazard_id",
                                      "id"),
                        "hazard feature id", "隐患点编号", "", "numbered 1, 2, ... in file order"),
            InputColumn("hazard_class", ("易发程度", "易发性", "危险性等级", "稳定性",
                                         "hazard_class"),
                        "hazard or susceptibility class of a zone (weights with `class:`)",
                        "易发程度", "", "every polygon of the layer counts as hazard zone"),
            InputColumn("risk_class", ("风险等级", "危险等级", "险情等级", "灾情等级", "risk_class",
                                       "risk"),
                        "risk class of a hazard point (weights with `class:`, e.g. "
                        "{高: 1.0, 中: 0.6, 低: 0.3})", "风险等级", "",
                        "every point counts with weight 1"),
            InputColumn("threatened_people", ("威胁人数", "威胁人口", "受威胁人数",
                                              "threatened_people"),
                        "people threatened by a hazard point (a number >= 0)", "威胁人数",
                        "people", "hazard_<layer>_threatened is not written; blank cells count 0"),
            InputColumn("hazard_type", ("灾种", "灾害类型", "灾害种类", "隐患类型", "hazard_type"),
                        "kind of hazard point (滑坡, 崩塌, 泥石流, ...), kept as text",
                        "灾种", "", "not used"),
        ),
    ),
    RoleInputs(
        "ecology", "生态保护", "ecological red line, nature reserves: polygons",
        ("生态", "红线", "保护区", "ecolog", "redline", "reserve"),
        (
            InputColumn("eco_id", ("编号", "代码", "eco_id", "id"), "feature id", "编号", "",
                        "numbered 1, 2, ... in file order"),
            InputColumn("name", _NAME, "name", "名称"),
        ),
    ),
    RoleInputs(
        "services", "公共服务设施", "county seat, township seats, health centres, schools, "
        "markets: points",
        ("服务", "设施", "卫生", "学校", "医院", "政府", "驻地", "service", "poi", "school",
         "health"),
        (
            InputColumn("service_id", ("设施编号", "设施代码", "机构代码", "编号", "service_id",
                                       "id"),
                        "service id", "设施编号", "", "numbered 1, 2, ... in file order"),
            InputColumn("kind",
                        ("类型", "设施类型", "类别", "机构类型", "设施类别", "kind", "type"),
                        "kind of service", "设施类型", "", _REQ, "kind"),
            InputColumn("name", ("设施名称", "机构名称", "单位名称", "学校名称", *_NAME),
                        "name", "名称", "", _REQ),
            InputColumn("township_id", _TOWNSHIP_CODE, "code of the township it serves",
                        "所属乡镇代码", "",
                        "taken from the township polygon the point lies in"),
        ),
    ),
    RoleInputs(
        "infrastructure.power_lines", "电力线路", "power lines: lines",
        ("电力", "电网", "输电", "配电", "power", "grid"),
        (
            InputColumn("line_id", ("线路编号", "线路名称", "编号", "line_id", "id"), "line id",
                        "线路编号", "", "numbered 1, 2, ... in file order"),
            InputColumn("voltage_kv", ("电压等级", "电压", "voltage_kv", "voltage"), "voltage",
                        "电压等级", "kV", "not used"),
        ),
    ),
    RoleInputs(
        "infrastructure.substations", "变电站", "substations: points",
        ("变电站", "变电所", "substation"),
        (
            InputColumn("substation_id", ("变电站编号", "编号", "substation_id", "id"),
                        "substation id", "变电站编号", "", "numbered 1, 2, ... in file order"),
            InputColumn("voltage_kv", ("电压等级", "电压", "voltage_kv", "voltage"), "voltage",
                        "电压等级", "kV", "not used"),
        ),
    ),
    RoleInputs(
        "infrastructure.fibre", "光纤", "fibre optic lines or access nodes: lines or points",
        ("光纤", "光缆", "宽带", "fibre", "fiber"),
        (
            InputColumn("fibre_id", ("编号", "fibre_id", "fiber_id", "id"), "feature id", "编号",
                        "", "numbered 1, 2, ... in file order"),
        ),
    ),
    RoleInputs(
        "infrastructure.towers", "通信基站", "mobile towers: points",
        ("基站", "铁塔", "tower", "4g", "5g"),
        (
            InputColumn("tower_id", ("基站编号", "站址编号", "编号", "tower_id", "id"), "tower id",
                        "基站编号", "", "numbered 1, 2, ... in file order"),
        ),
    ),
    RoleInputs(
        "infrastructure.water_sources", "水源", "drinking-water sources: points",
        ("水源", "水厂", "取水", "water"),
        (
            InputColumn("source_id", ("水源编号", "编号", "source_id", "id"), "source id",
                        "水源编号", "", "numbered 1, 2, ... in file order"),
            InputColumn("yield_m3_day",
                        ("供水量", "出水量", "日供水量", "供水规模", "yield_m3_day"),
                        "yield", "日供水量", "m3/day", "not used"),
        ),
    ),
    RoleInputs(
        "households", "建档立卡户", "household registry (建档立卡): a table, one row per "
        "household", ("户", "建档立卡", "贫困", "household", "registry", "hh"),
        (
            InputColumn("household_id", ("户编号", "户编码", "户号", "家庭编号", "户主编号",
                                         "household_id", "hh_id"),
                        "household id, unique", "户编号", "", _REQ),
            InputColumn("village_id",
                        ("村代码", "行政村代码", "所在村代码", "村编码", "行政区划代码",
                         "village_code", "village_id"),
                        "code of the household's village", "所在村代码", "", _REQ),
            InputColumn("members",
                        ("家庭人口", "家庭人口数", "家庭成员数", "户人口", "人口数", "人数",
                         "members", "hh_size"),
                        "household members", "家庭人口", "people", _REQ),
            InputColumn("poor", ("是否贫困户", "贫困户", "是否建档立卡贫困户", "贫困标识", "poor",
                                 "is_poor"),
                        "registered as poor", "是否贫困户", "yes/no", _REQ, "boolean"),
            InputColumn("cause", ("致贫原因", "主要致贫原因", "主要致贫原因（单选）", "cause"),
                        "main poverty cause", "主要致贫原因", "",
                        "cause shares are not computed", "cause"),
            InputColumn("income_per_person", ("人均纯收入", "人均收入", "家庭人均纯收入",
                                              "人均可支配收入", "income_per_person", "income"),
                        "net income per person", "人均纯收入", "yuan/person/year",
                        "income columns are left empty"),
            InputColumn("housing_grade", ("住房等级", "危房等级", "房屋等级", "住房安全等级",
                                          "危房鉴定等级", "housing_grade"),
                        "house safety grade A-D (C/D: dangerous, 危房)", "住房等级", "",
                        "safe housing (priority housing) is not ranked"),
            # s19b: personal data, recognised so that it is dropped on reading
            *(InputColumn(name, aliases, f"{en}: PERSONAL, dropped on reading, never written",
                          f"{zh}（个人信息，读取时删除，不输出）", "", "not used")
              for name, aliases, en, zh in PERSONAL_INPUTS),
        ),
    ),
)
"""Every role's inputs, in the order the manifest lists them."""

for _r in INPUT_ROLES:  # one table: the roles are contigmap's roles
    if _r.role != "dem" and _r.role not in ROLE_SCHEMAS:  # pragma: no cover - guard
        msg = f"inputs table names unknown role {_r.role!r}"
        raise RuntimeError(msg)


def normalise_header(header: object) -> str:
    """Return a header as compared: lower case, without spaces, underscores and full-width brackets.

    ``" 村 代码 "`` → ``"村代码"``, ``"Village_Code"`` → ``"villagecode"``.
    """
    text = str(header).strip().lower()
    text = text.replace("（", "(").replace("）", ")")
    return re.sub(r"[\s_\-]+", "", text)


def match_column(role: str, header: object) -> str | None:
    """Canonical column of ``role`` that ``header`` names, or ``None``.

    Exact matches (after :func:`normalise_header`) of a canonical name or alias win;
    otherwise a header that *starts with* a Chinese alias of three or more characters
    matches it (``户籍人口（人）`` → ``pop``).
    """
    spec = role_inputs(role)
    if spec is None:
        return None
    key = normalise_header(header)
    for col in spec.columns:
        if key in {normalise_header(a) for a in (col.name, *col.aliases)}:
            return col.name
    for col in spec.columns:
        for alias in col.aliases:
            a = normalise_header(alias)
            if len(a) >= 3 and re.search(r"[\u4e00-\u9fff]", a) and key.startswith(a):
                return col.name
    return None


def role_inputs(role: str) -> RoleInputs | None:
    """Return the :class:`RoleInputs` of a role key (``hazards.flood`` gives ``hazards``)."""
    for spec in INPUT_ROLES:
        if spec.role == role:
            return spec
    group = role.split(".", 1)[0]
    if group in ("hazards", "ecology"):
        return role_inputs(group)
    return None


def value_vocabularies() -> dict[str, list[tuple[str, list[str]]]]:
    """Return the accepted values of each vocabulary: canonical value and the words read as it.

    Returns
    -------
    dict
        ``road_class``, ``surface``, ``kind`` (from :func:`contigmap.io.checks.check_layer`'s
        aliases), ``cause`` (:func:`contigmap.poverty.normalise_cause`) and ``boolean``.
    """
    from contigmap.io import checks as validate
    from contigmap.poverty import registry as poverty

    out: dict[str, list[tuple[str, list[str]]]] = {}
    for vocab, values in (("road_class", ROAD_CLASSES), ("surface", SURFACES),
                          ("kind", SERVICE_KINDS)):
        aliases = validate._ALIASES.get(vocab, {})
        out[vocab] = [(v, [a for a, c in aliases.items() if c == v]) for v in values]
    cause_aliases = poverty._ALIASES
    out["cause"] = [
        (key, [zh, f"{zh}致贫", *[a for a, c in cause_aliases.items() if c == key]])
        for key, zh in POVERTY_CAUSES.items()
    ]
    out["boolean"] = [("true", list(BOOLEAN_TRUE)), ("false", list(BOOLEAN_FALSE))]
    return out


_VOCAB_TITLES = {
    "road_class": "Road classes (`road_class`)",
    "surface": "Road surfaces (`surface`)",
    "kind": "Service kinds (`kind`)",
    "cause": "Poverty causes (`cause`)",
    "boolean": "Yes/no columns (`bridge`, `tunnel`, `poor`)",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")




def inputs_markdown() -> str:
    """Return ``docs/inputs.md``: every role, its columns, aliases, units and vocabularies."""
    lines = [
        "# Input layers and columns",
        "",
        "What contigmap reads, by role (the keys under `layers:` in `region.yaml`). For every",
        "canonical column: the headers `contigmap init` recognises for it (Chinese first),",
        "its unit, its values and what happens when it is missing. Map other headers with",
        "`columns: {你的列名: canonical}`. Headers are compared without case, spaces and",
        "underscores. Made by `contigmap inputs --markdown`; a test keeps it current.",
        "",
        "Coordinate tables (CSV, XLSX) make points from a longitude / easting column",
        f"({', '.join(f'`{a}`' for a in X_ALIASES)}) and a latitude / northing column",
        f"({', '.join(f'`{a}`' for a in Y_ALIASES)}); name them with `x:` and `y:`.",
        "Coordinates from web maps (高德, 腾讯: GCJ-02) need `datum: gcj02`; Baidu",
        "coordinates (BD-09) need `datum: bd09`.",
        "",
        *FORMAT_NOTES,
    ]
    for spec in INPUT_ROLES:
        schema = ROLE_SCHEMAS.get(spec.role)
        what = spec.what[0].upper() + spec.what[1:]
        lines += [f"## `{spec.role}` — {spec.title_zh}", "", f"{what}."]
        if schema is not None:
            lines.append(f"Id column: `{schema.id_column}`.")
        lines.append("")
        if not spec.columns:
            lines += ["A raster; no columns. Band 1 is read, nodata becomes empty.", ""]
            continue
        lines += ["| column | meaning | 含义 | unit | recognised headers | values | if missing |",
                  "|---|---|---|---|---|---|---|"]
        for col in spec.columns:
            values = f"see [{col.vocabulary}](#values-{col.vocabulary})" if col.vocabulary else ""
            cells = [f"`{col.name}`", col.meaning_en, col.meaning_zh, col.unit,
                     ", ".join(col.aliases), values, col.if_missing]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
    lines += ["## Values", "",
              "Values are compared without case; the words on the right are read as the value",
              "on the left.", ""]
    for vocab, rows in value_vocabularies().items():
        lines += [f'<a id="values-{vocab}"></a>', "", f"### {_VOCAB_TITLES[vocab]}", "",
                  "| value | accepted words |", "|---|---|"]
        for value, words in rows:
            lines.append(f"| `{value}` | {_cell(', '.join(words))} |")
        lines.append("")
    lines += ["A blank yes/no cell takes the column's default (no); any other word is an",
              "error naming the values and rows. Paved (`paved`) roads are the hardened roads",
              "(硬化路: asphalt or cement concrete)."]
    from contigmap.input_forms import forms_markdown  # s19b: several sources per layer

    lines += forms_markdown()
    return "\n".join(lines) + "\n"
