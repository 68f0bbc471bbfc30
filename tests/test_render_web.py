"""Tests of the interactive HTML map (contigmap.render.web) without a browser."""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from pyproj import CRS, Transformer
from shapely.geometry import LineString

from contigmap.errors import ConfigError, CRSError, ValidationError
from contigmap.raster import Raster
from contigmap.render import MapLayer, render_web_map, village_card_html
from contigmap.render.compose import region_map_layers
from contigmap.render.legend import (
    MISSING_COLOR,
    POVERTY_INCIDENCE,
    TT_TOWNSHIP_SEAT,
    indicators_for,
    intervention_label_zh,
    tier_indicator,
)
from tests.browser import (
    UTM49N,
    X0,
    XSS_IMG,
    XSS_NAME,
    Y0,
    hostile_map_args,
    injection_payloads,
    small_region,
)

COMMON: dict[str, Any] = {
    "title": "花垣县 村级地图",
    "source_note": "测试数据 test data",
    "illustrative": True,
}


def _render(tmp_path: Path, name: str = "map.html", **kw: Any) -> str:
    args = {**small_region(), **COMMON, **kw}
    out = render_web_map(tmp_path / name, **args)
    return out.read_text(encoding="utf-8")


def _village_data(text: str) -> dict[str, Any]:
    m = re.search(r"var V = (\{.*?\});\n", text)
    assert m is not None
    return json.loads(m.group(1))


def _overlay_names(text: str) -> list[str]:
    """Names of the overlays in the layer control, as Leaflet receives them."""
    overlays = re.search(r"overlays :  \{(.*?)\},", text, re.S)
    assert overlays is not None
    return [json.loads(k) for k in re.findall(r'^\s*(".*?") :', overlays.group(1), re.M)]


@pytest.mark.slow
def test_offline_map_has_no_remote_scripts_or_styles(tmp_path: Path) -> None:
    text = _render(tmp_path)
    assert not re.search(r"<script[^>]*\ssrc\s*=", text, re.I)
    assert not re.search(r"<link[^>]*\shref\s*=\s*[\"']?(https?:)?//", text, re.I)
    assert not re.search(r"@import", text, re.I)
    assert not re.search(r"url\(\s*[\"']?(https?:)?//", text, re.I)
    for cdn in ("cdn.jsdelivr", "cdnjs", "unpkg", "code.jquery", "bootstrapcdn"):
        assert cdn not in text
    assert "L.circleMarker" in text and "Leaflet" in text  # Leaflet itself is inlined


def test_online_map_links_leaflet_on_a_cdn(tmp_path: Path) -> None:
    text = _render(tmp_path, offline=False, basemap="osm")
    assert re.search(r'<script src="https://cdn\.jsdelivr\.net/npm/leaflet@1\.9\.4/', text)
    assert "tile.openstreetmap.org" in text
    assert len(text) < 100_000  # Leaflet (150 kB) not inlined


def test_charset_title_note_and_illustrative_badge(tmp_path: Path) -> None:
    text = _render(tmp_path)
    assert "charset=UTF-8" in text
    assert '<html lang="zh-CN">' in text
    assert "<title>花垣县 村级地图</title>" in text
    assert "示意数据 / illustrative data" in text
    assert "测试数据 test data" in text
    text2 = _render(tmp_path, "b.html", illustrative=False)
    assert "示意数据" not in text2


def test_every_data_text_is_escaped(tmp_path: Path) -> None:
    reg = small_region()
    reg["boundaries"]["townships"].loc[0, "name"] = XSS_NAME
    out = render_web_map(
        tmp_path / "x.html",
        **reg,
        title=XSS_IMG,
        source_note=XSS_NAME,
        illustrative=True,
        extra_layers=[
            MapLayer(
                name=XSS_IMG,
                data=reg["villages"],
                tooltip_columns=["name"],
                popup_columns=["name"],
                legend=[("#ff0000", XSS_NAME)],
            )
        ],
    )
    text = out.read_text(encoding="utf-8")
    # the raw strings occur nowhere, neither does any fragment of their markup
    assert XSS_NAME not in text
    assert "<img src=x" not in text
    assert "<script>alert" not in text
    # the village's card, tooltip and search entry keep the name as text
    data = _village_data(text)
    i = 2  # the fixture's third village; the search index holds raw text (set as .value)
    assert data["q"][i] == f"{XSS_NAME}（{XSS_NAME}）"  # village and township names
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in data["p"][i]
    assert XSS_NAME in html.unescape(data["p"][i])
    assert html.unescape(data["t"][i]).startswith(XSS_NAME)
    j = data["q"].index(f"{XSS_IMG}（双龙镇）")
    tips = (data["t"][i] + data["t"][j]).replace("<small>", "").replace("</small>", "")
    assert "<" not in tips and ">" not in tips
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in data["p"][j]
    # title and layer names are escaped text
    assert "<title>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</title>" in text
    names = _overlay_names(text)
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in names
    assert "乡镇名称 Township names" in names


def test_legends_one_per_coloured_layer(tmp_path: Path) -> None:
    reg = small_region()
    reg["villages"]["roads_tier"] = [1, 2, 3, 1, 2, None]
    out = render_web_map(tmp_path / "t.html", **reg, **COMMON)
    text = out.read_text(encoding="utf-8")
    for label in ("贫困发生率", "到本乡镇驻地时间", "道路优先级", "道路路面", "Road surface"):
        assert label in text
    # three village layers in the layer control, legends listed in the page script
    assert sum(n.startswith("村：") for n in _overlay_names(text)) == 3
    legends = re.search(r"var legends = \[(.*?)\];\n", text, re.S)
    assert legends is not None
    assert legends.group(1).count("cm-legend-title") == 4  # 3 village layers + roads


def test_village_coordinates_reprojected_to_wgs84(tmp_path: Path) -> None:
    data = _village_data(_render(tmp_path))
    to_ll = Transformer.from_crs(UTM49N, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(X0 + 3000, Y0 + 3000)  # 十八洞村 in the fixture
    assert data["lat"][0] == pytest.approx(lat, abs=1e-5)
    assert data["lon"][0] == pytest.approx(lon, abs=1e-5)
    assert 28.0 < lat < 29.0 and 109.0 < lon < 110.0


def test_marker_size_grows_with_poor_people(tmp_path: Path) -> None:
    data = _village_data(_render(tmp_path))
    # poor_pop 533 is the largest: radius 11 px; 100 gives 3 + 8 * sqrt(100 / 533)
    assert data["r"][0] == pytest.approx(11.0)
    assert data["r"][5] == pytest.approx(3 + 8 * math.sqrt(100 / 533), abs=0.06)


def test_village_card_from_existing_columns() -> None:
    row = {
        "village_id": "433124110201",
        "name": "十八洞村",
        "pop": 939,
        "poor_pop": 533,
        "poverty_incidence": 533 / 939,
        "main_causes": "illness;lack_of_skills",
        "tt_township_seat_min": 24.6,
        "water_tier": 1,
        "water_option": "集中供水",
        "water_cost_cny": 1_250_000.0,
        "water_reasons": "缺水 & 远",
    }
    card = village_card_html(row, township="双龙镇")
    assert "十八洞村" in card and "433124110201" in card and "双龙镇" in card
    assert "939" in card and "533" in card
    assert "56.8%" in card  # 533 / 939 = 0.5676
    assert "因病、缺技术" in card
    assert "到乡镇驻地时间" in card and "25 分钟" in card
    assert "饮水安全" in card and "集中供水" in card and "1,250,000" in card
    assert "缺水 &amp; 远" in card
    # no row for a column that does not exist
    assert "户数" not in card and "贫困户" not in card


def test_card_sections_and_option_names_follow_the_registry() -> None:
    row = {
        "name": "排碧村",
        "power_tier": 2,
        "power_option": "shs",
        "water_tier": 1,
        "water_option": "well",
        "roads_tier": 3,
        "roads_option": "no_such_option",
        "clinics_tier": 1,  # not a registered intervention: no section
        "clinics_option": "mobile",
    }
    card = village_card_html(row)
    # one Chinese name per option, as priority/water.py and power.py define them
    assert "打井 (well)" in card and "户用光伏系统 (shs)" in card
    assert "no_such_option (no_such_option)" in card  # unknown option: its key
    assert "clinics" not in card and "mobile" not in card
    # sections in the registry's order (roads, water, power), not the row's
    starts = [card.index(f"<small>{iv}</small>") for iv in ("roads", "water", "power")]
    assert starts == sorted(starts)
    assert card.count('class="cm-sec"') == 3


def test_tier_layers_only_for_registered_village_interventions() -> None:
    frame = gpd.GeoDataFrame(
        {"water_tier": [1, 2], "clinics_tier": [1, 1], "broadband_tier": [1, 2],
         "roads_tier": [2, 1], "poverty_incidence": [0.1, 0.3]},
        geometry=gpd.points_from_xy([X0, X0 + 1], [Y0, Y0]), crs=UTM49N,
    )
    specs = indicators_for(list(frame.columns), frame)
    # broadband targets hamlets (drawn from the hamlet table), clinics is unknown
    assert [s.column for s in specs] == ["poverty_incidence", "roads_tier", "water_tier"]
    assert [s.label_zh for s in specs[1:]] == ["道路优先级", "饮水安全优先级"]
    assert intervention_label_zh("relocation") == "易地扶贫搬迁"
    assert intervention_label_zh("clinics") == "clinics"


def test_hamlet_tier_layer_for_each_hamlet_intervention() -> None:
    hamlets = gpd.GeoDataFrame(
        {"name": ["上寨", "下寨"], "pop": [120, 80], "broadband_tier": [1, 4],
         "broadband_option": ["fibre", "satellite"], "water_tier": [1, 2]},
        geometry=gpd.points_from_xy([X0, X0 + 500], [Y0, Y0]), crs=UTM49N,
    )
    data = SimpleNamespace(services=None, hazards={}, ecology={})
    layers = region_map_layers(data, hamlets=hamlets)  # type: ignore[arg-type]
    names = [layer.name for layer in layers]
    # broadband is the hamlet-level intervention; water (village level) is not drawn here
    assert names == ["自然村：宽带网络优先级 Hamlets: Broadband priority tier", "自然村 Hamlets"]
    tier = layers[0]
    assert tier.color_column == "broadband_tier"
    assert set(tier.color_map) == {"1", "4"}
    assert tier.data is not None and list(tier.data["broadband_tier"]) == ["1", "4"]
    # the popup names tier and option as the village cards do (labels, registry options)
    assert list(tier.data["broadband_option"]) == ["沿路光纤", "卫星宽带"]
    assert tier.popup_columns[:2] == ["name", "tier_text"]
    assert tier.data["tier_text"].iloc[0] == "第1档 tier 1"


def test_map_script_placeholders_take_code_not_data(tmp_path: Path) -> None:
    from contigmap.render.web_page import map_script

    with pytest.raises(KeyError):
        map_script("geojson.js", styles="[]")  # a placeholder left unfilled is an error
    reg = small_region()
    reg["villages"].loc[0, "name"] = "$map ${group} $$"  # template syntax in the data
    text = _render(tmp_path, villages=reg["villages"])
    assert _village_data(text)["q"][0] == "$map ${group} $$（花垣镇）"


def test_indicator_classes() -> None:
    # breaks 0, .05, .10, .20, .30, .45, 1.0 (YlOrRd); the last class is closed
    colors = POVERTY_INCIDENCE.color_of([0.0, 0.05, 0.049, 0.3, 1.0, float("nan"), None, 1.2])
    c = POVERTY_INCIDENCE.colors
    assert colors == [c[0], c[1], c[0], c[4], c[5], MISSING_COLOR, MISSING_COLOR, MISSING_COLOR]
    assert TT_TOWNSHIP_SEAT.color_of([500.0]) == [TT_TOWNSHIP_SEAT.colors[-1]]
    assert TT_TOWNSHIP_SEAT.legend_items()[-1][1] == "≥ 120"
    tiers = tier_indicator("roads_tier", [2, 1, 1.0, None, "x"])
    assert [cat.value for cat in tiers.categories] == ["1", "2", "x"]
    assert tiers.color_of([1.0, "2", "x", None]) == [
        tiers.categories[0].color,
        tiers.categories[1].color,
        tiers.categories[2].color,
        MISSING_COLOR,
    ]
    assert tiers.label_zh == "道路优先级"


def test_same_inputs_same_file(tmp_path: Path) -> None:
    assert _render(tmp_path, "a.html") == _render(tmp_path, "b.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "b.html"]  # no temp files


def test_roads_merged_simplified_and_small(tmp_path: Path) -> None:
    # a 40 x 40 grid of 250 m segments: 3,280 segments, 820 km of road
    n, step = 41, 250.0
    lines = []
    for i in range(n):
        for j in range(n - 1):
            lines.append(
                LineString([(X0 + i * step, Y0 + j * step), (X0 + i * step, Y0 + (j + 1) * step)])
            )
            lines.append(
                LineString([(X0 + j * step, Y0 + i * step), (X0 + (j + 1) * step, Y0 + i * step)])
            )
    roads = gpd.GeoDataFrame(
        {"road_class": "village", "surface": ["paved", "gravel"] * (len(lines) // 2)},
        geometry=lines,
        crs=UTM49N,
    )
    reg = small_region()
    reg["roads"] = roads
    out = render_web_map(tmp_path / "g.html", **reg, **COMMON)
    size = out.stat().st_size
    # each segment is 2 points = 2 x ~22 bytes; merged lines share their end points
    assert size < 200_000 + len(lines) * 50
    text = out.read_text(encoding="utf-8")
    coords = re.findall(r"\[(1\d\d\.\d+),(\d\d\.\d+)\]", text)
    assert coords and all(len(x.split(".")[1]) <= 5 for x, _ in coords)


def test_extra_vector_and_raster_layers(tmp_path: Path) -> None:
    reg = small_region()
    arr = np.arange(12.0).reshape(3, 4)
    arr[0, 0] = np.nan
    r = Raster(
        arr, Affine(1000.0, 0, X0, 0, -1000.0, Y0 + 3000), CRS.from_user_input(UTM49N), "landslide"
    )
    text = _render(
        tmp_path,
        extra_layers=[
            MapLayer(name="滑坡易发性 Landslide", raster=r, vmin=0, vmax=11, show=False),
            MapLayer(
                name="搬迁安置点 Sites",
                data=reg["villages"].head(2),
                color_column="name",
                color_map={"十八洞村": "#00ff00"},
                tooltip_columns=["name"],
            ),
        ],
    )
    assert "data:image/png;base64," in text
    names = _overlay_names(text)
    assert "滑坡易发性 Landslide" in names and "搬迁安置点 Sites" in names
    assert "#00ff00" in text


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ("nocrs", CRSError, "layer 'villages' has no CRS"),
        ("noname", ValidationError, "no 'name' column"),
        ("empty", ValidationError, "'villages' is empty"),
        ("nosurface", ValidationError, "'roads' has no 'surface' column"),
        ("tianditu", ConfigError, "needs tianditu_key"),
        ("basemap", ConfigError, "basemap must be one of"),
    ],
)
def test_bad_input(tmp_path: Path, change: str, error: type[Exception], match: str) -> None:
    reg = small_region()
    kw: dict[str, Any] = {}
    if change == "nocrs":
        reg["villages"] = gpd.GeoDataFrame(
            reg["villages"].drop(columns="geometry"), geometry=list(reg["villages"].geometry)
        )
    elif change == "noname":
        reg["villages"] = reg["villages"].drop(columns="name")
    elif change == "empty":
        reg["villages"] = reg["villages"].iloc[:0]
    elif change == "nosurface":
        reg["roads"] = reg["roads"].drop(columns="surface")
    elif change == "tianditu":
        kw["basemap"] = "tianditu"
    else:
        kw["basemap"] = "google"
    with pytest.raises(error, match=match):
        render_web_map(tmp_path / "bad.html", **reg, **COMMON, **kw)
    assert not (tmp_path / "bad.html").exists()


def test_tianditu_layers(tmp_path: Path) -> None:
    text = _render(tmp_path, basemap="tianditu", tianditu_key="abc123def456", offline=False)
    assert "tianditu.gov.cn/vec_w/wmts" in text and "tianditu.gov.cn/cva_w/wmts" in text
    assert "tk=abc123def456" in text


# --------------------------------------------------------------------------- injections


def _json_strings(block: str) -> list[str]:
    """Every JSON string literal in a piece of script, decoded."""
    return [json.loads(s) for s in re.findall(r'"(?:[^"\\\n]|\\.)*"', block)]


@pytest.mark.slow
@pytest.mark.parametrize("k", range(7))
def test_injection_payloads_stay_data(
    tmp_path: Path, k: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contigmap.render import web_page

    payload = injection_payloads(tmp_path)[k]
    rendered: list[str] = []  # the page as folium and Jinja produced it, before the data
    fill = web_page.Slots.fill

    def spy(self: Any, page: str) -> str:
        rendered.append(page)
        return fill(self, page)

    monkeypatch.setattr(web_page.Slots, "fill", spy)
    out = render_web_map(tmp_path / "x.html", **hostile_map_args(payload))
    text = out.read_text(encoding="utf-8")

    assert not (tmp_path / "pwned").exists()  # no code ran
    # Jinja never saw the data: not the payload, not its escaped form
    assert len(rendered) == 1
    assert payload not in rendered[0] and html.escape(payload) not in rendered[0]
    # no markup from the data: folium's flags, Leaflet and the map script only
    assert text.lower().count("<script") == 3 and text.lower().count("</script") == 3
    assert "<img" not in text.lower()
    for suffix in ("村", "镇", "县", " layer", " fact"):
        assert f"49{suffix}" not in text and f"None{suffix}" not in text
    # the payload comes back literally from every place it was put
    title = re.search(r"<title>(.*?)</title>", text)
    assert title is not None and html.unescape(title.group(1)) == payload + "县"
    h1 = re.search(r'<div class="cm-title"><h1>(.*?)</h1>', text)
    assert h1 is not None and html.unescape(h1.group(1)) == payload + "县"
    facts = re.search(r'<details class="cm-facts">(.*?)</details>', text, re.S)
    assert facts is not None
    assert f"<th>{payload} fact</th><td>{payload}</td>" in html.unescape(facts.group(1))
    data = _village_data(text)
    assert data["q"][0] == f"{payload}村（{payload}镇）"  # search entries are raw text
    card = html.unescape(data["p"][0])
    assert f"<h3>{payload}村</h3>" in card and f'"cm-town">{payload}镇<' in card
    assert f"<td>{payload} ({payload})</td>" in card  # option, shown as its name and key
    assert card.count(f"<td>{payload}</td>") == 2  # reasons and main causes
    assert html.unescape(data["t"][0]) == f"{payload}村 <small>{payload}镇</small>"
    names = [html.unescape(n) for n in _overlay_names(text)]
    for name in (f"{payload} layer", f"{payload} raster", f"情景 {payload}：村 villages",
                 f"情景 {payload}：改建/硬化 upgraded road"):
        assert name in names
    legends = re.search(r"var legends = \[(.*?)\];\n", text, re.S)
    assert legends is not None
    legend_text = html.unescape(" ".join(_json_strings(legends.group(1))))
    assert f"{payload} legend" in legend_text and "改建/硬化 upgraded road（2 段）" in legend_text
    note = re.search(r"d\.innerHTML = (\"(?:[^\"\\]|\\.)*\"); return d;", text)
    assert note is not None and html.unescape(json.loads(note.group(1))).startswith(
        f"source {payload}")
    labels = re.search(r"\n  (\[\[.*?\]\])\.forEach", text)
    assert labels is not None
    assert f"<span>{payload}镇</span>" in [html.unescape(a[2]) for a in json.loads(labels.group(1))]
    props = [f["properties"] for m in re.finditer(r"var S = .*?, D = (\{.*?\});\n", text)
             for f in json.loads(m.group(1))["features"]]
    popups = [html.unescape(p["p"]) for p in props if "p" in p]
    tips = [html.unescape(p["t"]) for p in props if "t" in p]
    assert f"<tr><th>{payload} label</th><td>{payload}</td></tr>" in "".join(popups)
    assert f"{payload}村 · {payload}" in tips  # extra layer tooltip: name · causes
    assert f"{payload}镇" in tips  # township boundary tooltip


def test_token_like_data_is_not_expanded(tmp_path: Path) -> None:
    reg = small_region()
    reg["villages"].loc[0, "name"] = "cmSlot00000x"
    text = _render(tmp_path, **{**reg, "title": "cmSlot00001x"})
    assert _village_data(text)["q"][0] == "cmSlot00000x（花垣镇）"
    assert "<title>cmSlot00001x</title>" in text


def test_legend_colours_cannot_load_anything(tmp_path: Path) -> None:
    from contigmap.render.legend import swatch_legend_html

    block = swatch_legend_html("t", "", [("red;background:url(https://x.invalid/a.png)", "a"),
                                         ("#12ab34", "b"), ("rgb(1, 2, 3)", "c")])
    assert "url(" not in block and "x.invalid" not in block
    assert f"background:{MISSING_COLOR}" in block  # the bad colour drawn grey
    assert "background:#12ab34" in block and "background:rgb(1, 2, 3)" in block
    line = swatch_legend_html("t", "", [("#000|3);x:url(y)|d", "a")], kind="line")
    assert "url(" not in line and "border-top:2px dashed #000" in line


def test_code_in_a_village_name_does_not_run(tmp_path: Path) -> None:
    # only in the name (before the fix this reached Jinja: a template error or the code ran)
    payload = injection_payloads(tmp_path)[-1]
    reg = small_region()
    reg["villages"].loc[0, "name"] = payload + "村"
    text = _render(tmp_path, **reg)
    assert not (tmp_path / "pwned").exists()
    assert _village_data(text)["q"][0] == f"{payload}村（花垣镇）"
    assert "None村" not in text


def test_village_card_says_where_figures_come_from() -> None:
    row = {
        "village_id": "433124110201", "name": "十八洞村", "pop": 939, "households": 358,
        "households_source": "pop_div_household_size",
        "poor_pop": 300, "poor_pop_source": "registry_sample_county_rate",
        "access_problem": "no_road_within_reach", "terrain_source": "region_typical",
    }
    card = village_card_html(row)
    for zh, en, value in (
        ("户数来源", "households from", "人口÷户规模 (pop_div_household_size)"),
        ("贫困人口来源", "poor people from",
         "按全县抽样发生率估算 (registry_sample_county_rate)"),
        ("无法到达乡镇驻地的原因", "no travel time to own seat because",
         "附近没有道路 (no_road_within_reach)"),
        ("地形数据来源", "terrain from", "无高程数据，按全区典型地形 (region_typical)"),
    ):
        assert f"<tr><th>{zh}<br><small>{en}</small></th><td>{value}</td></tr>" in card
    # other values, one per source column
    row = {"households_source": "villages_layer", "poor_pop_source": "registry_complete",
           "terrain_source": "dem", "access_problem": ""}
    card = village_card_html(row)
    assert "<td>村图层 (villages_layer)</td>" in card
    assert "<td>建档立卡（全量） (registry_complete)</td>" in card
    assert "<td>高程数据（DEM） (dem)</td>" in card
    assert "无法到达乡镇驻地的原因" not in card  # reaches its seat: no row
    card = village_card_html({"poor_pop_source": "registry_sample_estimate"})
    assert "<td>抽样估算 (registry_sample_estimate)</td>" in card
    # an unknown value is shown as written, escaped
    card = village_card_html({"households_source": "<b>x</b>"})
    assert "<td>&lt;b&gt;x&lt;/b&gt;</td>" in card
    assert "<b>x</b>" not in card


# ------------------------------------------------------------------ road scenarios (issue #14, 3)


def _scenario_result(name: str, title: str, village_name: str = "十八洞村") -> Any:
    """A scenario result on the small region: one village 30 min faster, one cut off."""
    from contigmap.scenario.model import Scenario

    reg = small_region()
    v = reg["villages"][["village_id", "name", "geometry"]].copy()
    v.loc[0, "name"] = village_name
    v["tt_own_township_seat_min_base"] = [45.0, 10.0, 70.0, 45.0, 130.0, 5.0]
    v["tt_own_township_seat_min"] = [15.0, 10.0, 70.0, 45.0, 100.0, np.inf]
    v["d_tt_own_township_seat_min"] = [-30.0, 0.0, 0.0, 0.0, -30.0, np.inf]
    v["lost_access"] = [False] * 5 + [True]
    roads = reg["roads"].head(3).copy()
    roads["change_type"] = ["build", "upgrade", "bus"]
    roads["label"] = [title, "硬化", "公交"]
    roads["length_m"] = [3200.0, 1500.0, 9000.0]
    roads["cost_cny"] = [55666032.14903812, 1_000_000.0, 0.0]
    summary = {"poor_gaining": 1234.0, "pop_lost_access": 2000.0, "villages_lost_access": 1,
               "cost_cny": 56666032.14903812}
    sc = Scenario(name=name, title=f"{title} / English", changes=())
    return SimpleNamespace(scenario=sc, villages=v, changed_roads=roads, summary=summary)


def test_scenario_layers_chinese_names_and_tooltips_with_units() -> None:
    from contigmap.render.compose import scenario_map_layers

    layers = scenario_map_layers([_scenario_result("new-valley-link", "新建通村公路")])
    names = [layer.name for layer in layers]
    assert names == [f"情景 新建通村公路：{part}" for part in (
        "村 villages", "新建道路 new road", "改建/硬化 upgraded road", "公交线路 bus line")]
    new, upgraded, bus = layers[1], layers[2], layers[3]
    # planned roads red and dashed (new: long dashes), bus lines blue and solid
    assert new.color == upgraded.color == "#e60012" and new.dash_array and upgraded.dash_array
    assert new.dash_array != upgraded.dash_array
    assert bus.color == "#1f5fbf" and bus.dash_array is None
    assert new.data is not None
    tip = new.data["说明"].iloc[0]
    assert tip == "新建道路 new road · 新建通村公路 · 3.2 公里 km · 5,566.6 万元"
    villages = layers[0].data
    assert villages is not None
    said = list(villages["到乡镇驻地时间变化"])
    assert said[:2] == ["快 30 分钟 faster", "基本不变 no change (±1 分钟)"]
    assert said[5] == "失去通达 cut off"


def test_scenario_view_data_in_the_page(tmp_path: Path) -> None:
    from contigmap.render.compose import TRAVEL_TIME_CLASSES, scenario_views

    views = scenario_views([_scenario_result("valley", "新建通村公路")], open_view=True)
    assert views.classes == TRAVEL_TIME_CLASSES and views.open_view
    text = _render(tmp_path, scenarios=views)
    m = re.search(r"var map = \w+, D = (\{.*?\});\n", text)
    assert m is not None
    data = json.loads(m.group(1))
    sc = data["sc"][0]
    assert sc["t"] == "新建通村公路" and sc["k"] == "valley"
    assert [f[1] for f in sc["f"]] == ["1,234 人", "2,000 人（1 个村）", "5,666.6 万元"]
    assert [f[2] for f in sc["f"]] == [1234.0, 2000.0, 5666.6]
    # before and after minutes per village; no route is null, not a number
    assert [row[3:] for row in sc["v"]][:2] == [[45.0, 15.0], [10.0, 10.0]]
    assert sc["v"][5][3:] == [5.0, None]
    kinds = [f["properties"]["k"] for f in sc["w"]["features"]]
    assert kinds == ["build", "upgrade", "bus"]
    assert "5,566.6 万元" in sc["w"]["features"][0]["properties"]["t"]
    assert ".cm-swipe" in text  # the stylesheet, inlined


def test_scenario_view_text_is_escaped(tmp_path: Path) -> None:
    from contigmap.render.compose import scenario_views

    views = scenario_views([_scenario_result("x", XSS_NAME, village_name=XSS_IMG)])
    text = _render(tmp_path, scenarios=views)
    assert XSS_NAME not in text and "<img" not in text.lower()
    m = re.search(r"var map = \w+, D = (\{.*?\});\n", text)
    assert m is not None
    sc = json.loads(m.group(1))["sc"][0]
    assert html.unescape(sc["t"]) == XSS_NAME
    assert html.unescape(sc["v"][0][2]) == XSS_IMG
    assert XSS_NAME in html.unescape(sc["w"]["features"][0]["properties"]["t"])


def test_card_explains_the_rank() -> None:
    row = {
        "name": "十八洞村", "roads_tier": 1, "roads_rank": 3, "roads_need": 62.5,
        "roads_pts_no_hardened_road": 37.5, "roads_pts_tt_township": 25.0,
        "roads_option": "harden", "roads_capex_cny": 2_345_000.0, "roads_within_budget": True,
        "roads_reasons_zh": "未通硬化路到乡镇", "pop": 939,
    }
    card = village_card_html(row, totals={"roads": 228},
                             weights={"roads": {"no_hardened_road": 3.0, "tt_township": 1.0}})
    assert "第 3 / 228 位" in card and "rank 3 of 228" in card
    assert '<b class="cm-need">62.5</b>' in card
    # one bar per criterion: points, weight share, track relative to the heaviest weight
    assert card.count('class="cm-bar"') == 2
    assert 'data-pts="37.50"' in card and 'data-pts="25.00"' in card
    assert "权重 75%" in card and "权重 25%" in card
    assert 'style="--w:1.000"' in card and 'style="--w:0.333"' in card
    # 37.5 of a possible 75 points; 25 of a possible 25
    assert 'style="width:50.0%"' in card and 'style="width:100.0%"' in card
    assert "硬化现有道路" in card and "234.5 万元" in card and "预算内" in card
    # priority first, the profile folded after it
    assert card.index("cm-rankline") < card.index('<details class="cm-profile">')
    assert card.index('<details class="cm-profile">') < card.index("939")
    row["roads_within_budget"] = False
    assert "超出预算" in village_card_html(row)


def test_card_weights_read_back_from_points_and_search_keys() -> None:
    import pandas as pd

    from contigmap.priority.mcda import score_table
    from contigmap.priority.roads import CRITERIA
    from contigmap.render.web_layers import card_totals_weights, search_keys

    rng = np.random.default_rng(1)
    t = pd.DataFrame({"village_id": [f"v{i}" for i in range(9)]})
    for c in CRITERIA:
        t[c.column] = rng.uniform(0, 10, len(t))
    weights = {"no_hardened_road": 2.0, "tt_township": 1.0, "poor_pop": 1.0}
    scored = score_table(t, CRITERIA, weights, prefix="roads", id_column="village_id")
    totals, got = card_totals_weights(scored)
    assert totals == {"roads": 9}
    assert got["roads"] == pytest.approx({"no_hardened_road": 0.5, "tt_township": 0.25,
                                          "poor_pop": 0.25}, abs=1e-4)
    keys = search_keys(["十八洞村"], ["433124110201"], ["双龙镇"])
    assert keys == ["十八洞村|433124110201|双龙镇|shibadongcun|sbdc|shuanglongzhen|slz"]


def test_card_bar_of_a_criterion_equal_everywhere() -> None:
    row = {"name": "x", "roads_tier": 2, "roads_rank": 2, "roads_need": 40.0,
           "roads_pts_no_hardened_road": 0.0, "roads_pts_tt_township": 40.0}
    # no_hardened_road scored 0 in every village: its weight cannot be read back
    card = village_card_html(row, weights={"roads": {"tt_township": 0.5}})
    assert "各村相同 same everywhere" in card and "权重 100%" in card
    assert "各村相同" not in village_card_html(row)  # no weights given: no weight text


def _overlay_rgba(overlay: Any) -> np.ndarray[Any, Any]:
    """The RGBA pixels of an image overlay, decoded from its ``data:image/png`` URL."""
    import base64
    import io

    from PIL import Image

    head, _, b64 = overlay.url.partition(",")
    assert head == "data:image/png;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGBA"))


def test_raster_overlay_clipped_to_the_county() -> None:
    import folium
    from shapely.geometry import box

    from contigmap.render.web_extra import extra_raster
    from contigmap.render.web_page import Ids

    # a 10 km x 10 km raster, the county covers its western half only
    r = Raster(np.full((10, 10), 5.0), Affine(1000.0, 0, X0, 0, -1000.0, Y0 + 10_000),
               CRS.from_user_input(UTM49N), "hazard")
    county = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 5000, Y0 + 10_000)], crs=UTM49N)
    layer = MapLayer(name="hazard", raster=r, vmin=0, vmax=10,
                     raster_colors=("#ff0000", "#ff0000"))
    clipped, _ = extra_raster(folium.Map(), Ids(), layer, county)
    whole, _ = extra_raster(folium.Map(), Ids(), layer)
    px = _overlay_rgba(clipped)
    h, w = px.shape[:2]
    west_cell, east_cell = px[h // 2, w // 5], px[h // 2, w - w // 5]
    assert tuple(west_cell) == (255, 0, 0, 255)      # inside: keeps its colour
    assert east_cell[3] == 0                          # outside: fully transparent
    assert _overlay_rgba(whole)[h // 2, w - w // 5][3] == 255  # unclipped: drawn
    # transparent on the eastern half: left of / right of the edge, give or take the UTM
    # grid's slant in Web Mercator (~0.7 degrees here) and the raster's own western edge,
    # which loses a few pixels to bilinear resampling
    alpha = px[h // 2, :, 3]
    assert w >= 600  # a coarse raster is refined so the county's edge is sharp
    slack = w // 60
    assert (alpha[slack : w // 2 - slack] == 255).all()
    assert (alpha[w // 2 + slack :] == 0).all()


def test_unused_receiving_sites_drawn_apart(tmp_path: Path) -> None:
    from shapely.geometry import Point

    from contigmap.render.compose import relocation_map_layers

    sites = gpd.GeoDataFrame(
        {"site_name": ["县城安置区", "空置安置点", "镇安置点"], "capacity_people": [500, 300, 200],
         "load_people": [420, 0, 35]},
        geometry=[Point(X0 + 1000, Y0 + 1000), Point(X0 + 5000, Y0 + 2000),
                  Point(X0 + 9000, Y0 + 3000)], crs=UTM49N)
    empty = gpd.GeoDataFrame(geometry=[], crs=UTM49N)
    plan: Any = SimpleNamespace(candidates=empty, sites=sites, flows=empty)
    (layer,) = relocation_map_layers(plan)
    assert layer.data is not None
    assert list(layer.data["site_use"]) == ["已安置 used", "未安置 unused", "已安置 used"]
    assert layer.fill_opacity_map == {"未安置 unused": 0.0}
    assert [label for _, label in layer.legend][1].startswith("未安置 unused")
    text = _render(tmp_path, extra_layers=[layer])
    # the page's style table S and features D: each site drawn with the style of its use
    blocks = [(json.loads(a), json.loads(b)) for a, b in
              re.findall(r"var S = (\[.*?\]), D = (\{.*?\});\n", text)]
    styles, fc = next((a, b) for a, b in blocks
                      if "空置安置点" in json.dumps(b, ensure_ascii=False))
    by_name = {f["properties"]["t"].split(" · ")[0]: styles[f["properties"]["s"]]
               for f in fc["features"]}
    assert by_name["空置安置点"]["color"] == "#969696"
    assert by_name["空置安置点"]["fillOpacity"] == 0.0
    for used in ("县城安置区", "镇安置点"):
        assert by_name[used]["color"] == "#2166ac" and by_name[used]["fillOpacity"] == 0.9
    assert "未安置 unused" in text
