"""How the messy region's files look, and the manifest that reads them.

:class:`Style` holds what differs between the ``fixture`` variant of
:func:`contigmap.synth.messy.make_messy_region` (the files of ``layers/messy``) and the
``unseen`` one (another zone, other file and header names); :func:`manifest_text` is
the ``region.yaml`` written next to the fixture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["COUNTY_CODE", "FIXTURE", "HOUSEHOLD_SIZE", "UNSEEN", "Style", "manifest_text"]

COUNTY_CODE = "360799"
HOUSEHOLD_SIZE = 3.05


@dataclass(frozen=True)
class Style:
    """What differs between the fixture and the unseen variant."""

    metric_epsg: int  # Gauss–Krüger without zone prefix (the roads' CRS)
    prefixed_epsg: int  # the same zone with the zone number prefixed (the villages')
    zone: int
    origin: tuple[float, float]
    title: str
    townships: tuple[tuple[str, str], ...]  # (name, seat kind word)
    files: dict[str, str]
    village_cols: dict[str, str]  # canonical -> file header
    road_cols: dict[str, str]
    service_cols: dict[str, str]
    sheets: dict[str, str]  # canonical sheet -> sheet name
    registry_cols: dict[str, str]
    hazard_cols: dict[str, str]
    point_cols: dict[str, str]


FIXTURE = Style(
    metric_epsg=4547, prefixed_epsg=4526, zone=38, origin=(418_000.0, 2_782_000.0),
    title="示例县（杂乱数据）",
    townships=(("东坪镇", "县城"), ("石门乡", "乡"), ("白沙镇", "镇")),
    files={"villages": "村点.shp", "villages_dup": "村点_重码.shp", "roads": "道路.gpkg",
           "services": "公共服务设施_高德.xlsx", "hazards": "地灾易发区.gpkg",
           "points": "隐患点.xlsx", "registry": "建档立卡抽样.csv", "county": "县界.geojson",
           "dem": "dem.tif"},
    village_cols={"village_id": "村代码", "name": "村名", "township_id": "乡镇代码",
                  "pop": "户籍人口"},
    road_cols={"road_id": "道路编码", "road_class": "道路等级", "surface": "路面",
               "bridge": "桥梁", "name": "路线名称"},
    service_cols={"service_id": "编号", "name": "名称", "township_id": "乡镇代码",
                  "lon": "经度", "lat": "纬度", "kind": "类型"},
    sheets={"health": "卫生院", "school": "学校", "seat": "乡镇驻地", "check": "待核实"},
    registry_cols={"household_id": "户编号", "village_id": "村代码", "members": "家庭人口",
                   "poor": "是否贫困户", "cause": "致贫原因"},
    hazard_cols={"hazard_id": "分区编号", "class": "易发程度"},
    point_cols={"id": "编号", "lon": "经度", "lat": "纬度", "risk": "风险等级",
                "people": "威胁人数"},
)

UNSEEN = Style(
    metric_epsg=4546, prefixed_epsg=4525, zone=37, origin=(512_000.0, 3_071_000.0),
    title="未见县",
    townships=(("河口镇", "县城"), ("高峰乡", "乡"), ("龙潭镇", "镇")),
    files={"villages": "行政村.shp", "villages_dup": "", "roads": "农村公路.gpkg",
           "services": "服务设施(高德坐标).xlsx", "hazards": "地质灾害易发性分区.gpkg",
           "points": "地灾隐患点.xlsx", "registry": "贫困户样本.csv",
           "county": "行政区划.geojson", "dem": "高程.tif"},
    village_cols={"village_id": "行政村代码", "name": "行政村名称", "township_id": "乡镇编码",
                  "pop": "总人口"},
    road_cols={"road_id": "路线编号", "road_class": "技术等级", "surface": "路面类型",
               "bridge": "是否桥梁", "name": "路线名"},
    service_cols={"service_id": "序号", "name": "单位名称", "township_id": "乡镇代码",
                  "lon": "lng", "lat": "lat", "kind": "驻地类型"},
    sheets={"health": "乡镇卫生院", "school": "中小学", "seat": "乡镇政府", "check": ""},
    registry_cols={"household_id": "户码", "village_id": "行政村代码", "members": "户人口数",
                   "poor": "贫困户", "cause": "主要致贫原因"},
    hazard_cols={"hazard_id": "编号", "class": "易发性"},
    point_cols={"id": "统一编号", "lon": "X坐标", "lat": "Y坐标", "risk": "险情等级",
                "people": "威胁人口"},
)

def _manifest(seed: int, st: Style) -> dict[str, Any]:
    f, sc = st.files, st.service_cols
    return {
        "name": "messy",
        "title": st.title,
        "working_crs": "auto",
        "illustrative": True,
        "source_note": (f"Entirely synthetic, deliberately messy test data "
                        f"(contigmap.synth.messy, seed {seed})."),
        "household_size": HOUSEHOLD_SIZE,
        "household_size_source": "illustrative county census household size (户规模)",
        "layers": {
            "villages": {
                "path": f["villages"], "id": "village_id",
                "crs": f"EPSG:{st.prefixed_epsg}", "encoding": "gbk",
                "columns": {v: k for k, v in st.village_cols.items()},
            },
            "roads": {
                "path": f["roads"], "layer": "roads", "id": "road_id",
                "columns": {v: k for k, v in st.road_cols.items()},
            },
            "boundaries": {"county": {"path": f["county"], "id": "county_id",
                                      "columns": {"县代码": "county_id", "名称": "name"}}},
            "dem": {"path": f["dem"]},
            "hazards": {
                "geo": {
                    "path": f["hazards"], "layer": "易发区", "id": "hazard_id",
                    "columns": {st.hazard_cols["hazard_id"]: "hazard_id"},
                    "filter": {st.hazard_cols["class"]: ["高易发区", "中易发区", "低易发区"]},
                    "class": {"column": st.hazard_cols["class"],
                              "weights": {"高易发区": 1.0, "中易发区": 0.6, "低易发区": 0.3}},
                },
            },
            "services": {
                "path": f["services"], "id": "service_id", "datum": "gcj02",
                "x": sc["lon"], "y": sc["lat"],
                "columns": {sc["service_id"]: "service_id", sc["name"]: "name",
                            sc["township_id"]: "township_id"},
                "sheets": {
                    st.sheets["health"]: {"set": {"kind": "health_centre"}},
                    st.sheets["school"]: {"set": {"kind": "school"}},
                    st.sheets["seat"]: {
                        "columns": {sc["kind"]: "kind"},
                        "values": {"kind": {"镇": "township_seat", "乡": "township_seat",
                                            "县城": ["county_seat", "township_seat"]}},
                    },
                },
            },
            "households": {
                "path": f["registry"], "id": "household_id", "encoding": "gbk",
                "complete": False,
                "columns": {v: k for k, v in st.registry_cols.items()},
            },
        },
    }


_POINTS_BLOCK = """\
    # Hazard points (隐患点), counted within radius_m of each settlement.
    geo_points:
      path: {path}
      x: {x}
      y: {y}
      id: {id}
      crs: EPSG:4490
      radius_m: 500
      columns: {{{risk}: risk_class, {people}: threatened_people}}
      class: {{column: {risk}, weights: {{高: 1.0, 中: 0.6, 低: 0.3}}}}
"""


def manifest_text(seed: int, st: Style) -> str:
    """Return the manifest as YAML, with the hazard-points layer and its comment."""
    import yaml

    text = yaml.safe_dump(_manifest(seed, st), allow_unicode=True, sort_keys=False,
                          default_flow_style=False)
    pc = st.point_cols
    block = _POINTS_BLOCK.format(path=st.files["points"], x=pc["lon"], y=pc["lat"], id=pc["id"],
                                 risk=pc["risk"], people=pc["people"])
    marker = "  services:\n"
    head = ("# Deliberately messy synthetic region (contigmap synth messy): files as county\n"
            "# offices hand them over. Sheet 待核实 of the services workbook (a row with\n"
            "# longitude and latitude swapped) and 村点_重码.shp (one village code twice)\n"
            "# are left out on purpose; tests use them.\n")
    return head + text.replace(marker, block + marker, 1)
