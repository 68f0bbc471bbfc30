"""County report: HTML, Markdown and XLSX outputs, escaping, figures by hand."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from contigmap.errors import ValidationError
from contigmap.render import report
from tests.browser import injection_payloads

EVIL = "<script>alert(1)</script>"
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def _villages() -> gpd.GeoDataFrame:
    """Five villages in two townships; the third is named like an attack."""
    return gpd.GeoDataFrame(
        {
            "village_id": ["v1", "v2", "v3", "v4", "v5"],
            "name": ["十八洞村", "花垣村", EVIL, "雅酉村", "米粮村"],
            "township_id": ["t1", "t1", "t2", "t2", "t2"],
            "township_name": ["双龙镇", "双龙镇", "边城镇", "边城镇", "边城镇"],
            "pop": [1000, 500, 800, 200, 500],
            "households": [250, 120, 200, 50, 130],
            "poor_pop": [300, 50, 400, 20, 30],
            "poverty_incidence": [0.3, 0.1, 0.5, 0.1, 0.06],
            "main_causes": ["因病 50%", "因学 40%", "缺资金 | 30%", "因残", "缺技术"],
            "roads_need": [90.0, 20.0, 95.0, 10.0, 50.0],
            "roads_tier": [1, 3, 1, 4, 2],
            "roads_rank": [2, 4, 1, 5, 3],
            "roads_capex_cny": [500_000, 100_000, 800_000, 0, 300_000],
            "roads_reasons": ["远", "近", EVIL, "", "中"],
        },
        geometry=[Point(i * 1000, 0) for i in range(5)],
        crs="EPSG:32649",
    )


def _write(tmp_path: Path, **kw: object) -> dict[str, Path]:
    maps = tmp_path / "maps"
    maps.mkdir(parents=True, exist_ok=True)
    (maps / "overview.png").write_bytes(PNG_1PX)
    args: dict[str, object] = {
        "villages": _villages(),
        "region_title": "花垣县",
        "facts": {"area_km2": 1109.3, "road_km": 1500.0,
                  "road_km_by_class": {"county": 300.0}, "working_crs": "EPSG:32649"},
        "interventions": None,
        "static_maps": {"overview": maps / "overview.png"},
        "illustrative": True,
        "source_note": "Illustrative <data>",
    }
    args.update(kw)
    return report.write_county_report(tmp_path / "out", **args)  # type: ignore[arg-type]


def test_files_written(tmp_path: Path) -> None:
    paths = _write(tmp_path)
    assert set(paths) == {"html", "md", "xlsx"}
    assert all(p.is_file() and p.parent == tmp_path / "out" for p in paths.values())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "report.html", "report.md", "tables.xlsx"]  # no temporary files left
    page = paths["html"].read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in page
    # the map is embedded, so the page stands alone
    assert "data:image/png;base64," + base64.b64encode(PNG_1PX).decode() in page
    assert "示意数据 / illustrative data" in page
    md = paths["md"].read_text(encoding="utf-8")
    assert "](../maps/overview.png)" in md  # linked relative to the report


def test_same_inputs_same_files(tmp_path: Path) -> None:
    a = _write(tmp_path / "a")
    b = _write(tmp_path / "b")
    for key in ("html", "md"):
        assert a[key].read_bytes() == b[key].read_bytes()


def test_html_escapes_data(tmp_path: Path) -> None:
    page = _write(tmp_path)["html"].read_text(encoding="utf-8")
    assert EVIL not in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Illustrative &lt;data&gt;" in page


def test_figures_by_hand(tmp_path: Path) -> None:
    figs = report.county_figures(_villages())
    # people 1000+500+800+200+500, poor 300+50+400+20+30
    assert figs == {"villages": 5, "townships": 2, "pop": 3000, "poor_pop": 800,
                    "poverty_incidence": pytest.approx(800 / 3000)}
    towns = report.township_summary(_villages())
    assert towns["villages"].tolist() == [2, 3]
    assert towns["poor_pop"].tolist() == [350, 450]
    assert towns["poverty_incidence"].tolist() == pytest.approx([350 / 1500, 450 / 1500])
    page = _write(tmp_path)["html"].read_text(encoding="utf-8")
    for text in ("3,000", "800", "26.7%", "23.3%", "30.0%"):
        assert text in page


def _md_rows(md: str, heading_start: str) -> list[str]:
    """Data rows of the first table after a heading."""
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading_start))
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append(line)
    return rows[2:]  # header and separator


def test_markdown_tables(tmp_path: Path) -> None:
    md = _write(tmp_path, top_n=3)["md"].read_text(encoding="utf-8")
    assert len(_md_rows(md, "## 各乡镇")) == 2
    top = _md_rows(md, "## 道路")
    assert len(top) == 3
    # by rank: the evil-named village (rank 1), 十八洞村 (2), 米粮村 (3)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in top[0]
    assert "十八洞村" in top[1] and "米粮村" in top[2]
    assert "<script>" not in md
    # every row has as many cells as the header: the '|' in data is escaped
    header = next(line for line in md.splitlines() if line.startswith("| 村名"))
    n_cells = len(re.split(r"(?<!\\)\|", header))
    assert all(len(re.split(r"(?<!\\)\|", row)) == n_cells for row in top)


def test_xlsx_sheets_and_rows(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    water = pd.DataFrame({"village_id": ["v2", "v1"], "need": [40.0, 80.0], "tier": [2, 1],
                          "rank": [2, 1], "capex_cny": [1e5, 2e5], "reasons": ["a", "b"]})
    paths = _write(tmp_path, interventions={"water": water})
    wb = load_workbook(paths["xlsx"])
    # registry order: roads before water
    assert wb.sheetnames == ["村庄概况 villages", "道路 roads", "饮水安全 water"]
    profile = wb["村庄概况 villages"]
    assert profile.max_row == 2 + 5  # two header rows, five villages
    assert profile.freeze_panes == "C3"
    header_zh = [c.value for c in profile[1]]
    header_en = [c.value for c in profile[2]]
    assert header_en[:3] == ["village_id", "name", "township_id"]
    assert header_zh[:3] == ["村代码", "村名", "乡镇代码"]
    assert not any(str(h).startswith("roads_") for h in header_en)
    assert profile.column_dimensions["B"].width >= 8
    names = [profile.cell(row=r, column=2).value for r in range(3, 8)]
    assert EVIL in names  # stored as text, unchanged
    ws = wb["饮水安全 water"]
    assert ws.max_row == 2 + 2
    en = [c.value for c in ws[2]]
    assert en[:2] == ["village_id", "name"] and "water_rank" in en
    assert [ws.cell(row=r, column=1).value for r in (3, 4)] == ["v1", "v2"]  # by rank
    assert wb["道路 roads"].max_row == 2 + 5
    inc_col = header_en.index("poverty_incidence") + 1
    assert profile.cell(row=3, column=inc_col).number_format == "0.0%"


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="'name'"):
        _write(tmp_path, villages=_villages().drop(columns=["name"]))
    with pytest.raises(ValidationError, match="does not exist"):
        _write(tmp_path, static_maps={"roads": tmp_path / "missing.png"})
    with pytest.raises(ValidationError, match="intervention table 'water'"):
        _write(tmp_path, interventions={"water": pd.DataFrame({"need": [1.0]})})


# --------------------------------------------------------------------------- injections


def _md_text(cell: str) -> str:
    """What a Markdown viewer shows for an escaped cell: backslash escapes, then entities."""
    return html.unescape(re.sub(r"\\(.)", r"\1", cell))


@pytest.mark.slow
@pytest.mark.parametrize("k", range(7))
def test_injection_payloads_printed_literally(tmp_path: Path, k: int) -> None:
    payload = injection_payloads(tmp_path)[k]
    v = _villages()
    v.loc[0, "name"] = payload + "村"  # rank 2 on roads: listed
    v.loc[0, "main_causes"] = payload
    v.loc[0, "roads_reasons"] = payload
    v.loc[0, "township_name"] = payload + "镇"
    v.loc[1, "township_name"] = payload + "镇"
    paths = _write(tmp_path, villages=v, region_title=payload + "县",
                   source_note="source " + payload)
    assert not (tmp_path / "pwned").exists()
    page = paths["html"].read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert page.count("<img") == 1 and '<img src="data:image/png;base64,' in page  # the map
    for suffix in ("村", "镇", "县"):
        assert f"49{suffix}" not in page
    title = re.search(r"<title>(.*?)</title>", page)
    assert title is not None and html.unescape(title.group(1)).startswith(payload + "县 ")
    h1 = re.search(r"<h1>(.*?)</h1>", page)
    assert h1 is not None and html.unescape(h1.group(1)).startswith(payload + "县 ")
    cells = [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", page)]
    assert payload + "村" in cells and payload in cells  # name, reasons
    assert payload + "镇" in cells  # the township summary
    note = re.search(r'<p class="note">(.*?)</p>', page)
    assert note is not None and html.unescape(note.group(1)).endswith("source " + payload)

    md = paths["md"].read_text(encoding="utf-8")
    assert "<script" not in md.lower() and "<img" not in md.lower()
    assert _md_text(md.splitlines()[0]) == f"# {payload}县 县域概况 County summary"
    assert f"source {payload}" in _md_text(md)
    rows = [[_md_text(c.strip()) for c in re.split(r"(?<!\\)\|", r)[1:-1]]
            for r in _md_rows(md, "## 道路")]
    assert [payload + "村", payload + "镇"] in [r[:2] for r in rows]
    shown = next(r for r in rows if r[0] == payload + "村")
    assert shown[-1] == payload  # the reasons column


def test_markdown_links_and_code_stay_text(tmp_path: Path) -> None:
    v = _villages()
    v.loc[0, "name"] = "[点我](javascript:alert(1))"
    v.loc[1, "name"] = "![x](https://x.invalid/t.png)"
    v.loc[3, "name"] = "`code` *em* _u_ ~s~ $x$"
    md = _write(tmp_path, villages=v)["md"].read_text(encoding="utf-8")
    # no unescaped "](" that would close a link text (the maps' own image link aside)
    assert [m.start() for m in re.finditer(r"(?<!\\)\]\(", md)] == [md.index("](../maps/")]
    assert r"\[点我\](javascript:alert(1))" in md
    assert r"\`code\` \*em\* _u_ \~s\~ \$x\$" in md


def test_text_in_a_number_column_is_shown_as_text(tmp_path: Path) -> None:
    v = _villages()
    v["roads_capex_cny"] = v["roads_capex_cny"].astype(object)
    v.loc[0, "roads_capex_cny"] = "{{7*7}} 约50万"
    paths = _write(tmp_path, villages=v, facts={"area_km2": "about 1100"})
    page = paths["html"].read_text(encoding="utf-8")
    assert "<td>{{7*7}} 约50万</td>" in page and ">about 1100</td>" in page
    assert r"{{7\*7}} 约50万" in paths["md"].read_text(encoding="utf-8")


# --------------------------------------------------------------------------- registry


def test_top_tables_show_score_cost_and_option_labels(tmp_path: Path) -> None:
    """Each top list has the need score and the capital cost; options by their one label."""
    from contigmap.priority.registry import get

    v = _villages()
    v["roads_option"] = ["harden", "new_road", "harden", None, "new_road"]
    paths = _write(tmp_path, villages=v)
    md = paths["md"].read_text(encoding="utf-8")
    header = next(line for line in md.splitlines() if line.startswith("| 村名"))
    assert "(roads_need)" in header and "(roads_capex_cny)" in header
    rows = [[c.strip() for c in re.split(r"(?<!\\)\|", r)[1:-1]] for r in _md_rows(md, "## 道路")]
    cols = [c.strip() for c in re.split(r"(?<!\\)\|", header)[1:-1]]
    need, cost, option = (cols.index(f"{h} (roads_{k})") for h, k in (
        ("道路需求得分", "need"), ("道路估算投资（万元）", "capex_cny"),
        ("道路推荐方案", "option")))
    # by rank: v3 (rank 1), v1, v5, v2, v4; values from _villages() by hand
    assert [r[need] for r in rows] == ["95.0", "90.0", "50.0", "20.0", "10.0"]
    # capital cost in 万元, one decimal (800,000 元 = 80.0 万元)
    assert [r[cost] for r in rows] == ["80.0", "50.0", "30.0", "10.0", "0.0"]
    harden, new = (get("roads").option_label(k) for k in ("harden", "new_road"))
    assert [r[option] for r in rows] == [harden, harden, new, new, "–"]
    assert harden != "harden"  # a Chinese label, not the key
    page = paths["html"].read_text(encoding="utf-8")
    assert f"<td>{new}</td>" in page


def test_hamlet_intervention_lists_hamlets(tmp_path: Path) -> None:
    """Broadband ranks hamlets: its list names the hamlet, and the township from villages."""
    hamlets = pd.DataFrame({
        "hamlet_id": ["h1", "h2"], "village_id": ["v2", "v1"],
        "name": ["花垣村一组", "十八洞村三组"],
        "broadband_need": [30.0, 70.0], "broadband_rank": [2, 1], "broadband_tier": [2, 1],
        "broadband_capex_cny": [1e5, 2e5], "broadband_option": ["fibre", "fibre"]})
    md = _write(tmp_path, interventions={"broadband": hamlets})["md"].read_text(encoding="utf-8")
    rows = [[c.strip() for c in r.split("|")[1:-1]] for r in _md_rows(md, "## 宽带网络")]
    assert [r[:2] for r in rows] == [["十八洞村三组", "双龙镇"], ["花垣村一组", "双龙镇"]]
    # registry order: roads (from the village table) before broadband
    assert md.index("## 道路") < md.index("## 宽带网络")


def test_unknown_intervention_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"unknown intervention 'clinics'.*roads"):
        _write(tmp_path, interventions={"clinics": pd.DataFrame({"village_id": ["v1"]})})


def test_key_figures_read_the_indicator_table(tmp_path: Path) -> None:
    """The key figures are the indicator table's county row, not recomputed from villages."""
    from contigmap.indicators import headline_indicators

    ind = headline_indicators(_villages())
    county = ind["level"] == "county"
    ind.loc[county, ["pop", "poor_pop", "poverty_incidence"]] = [4000, 1000, 0.25]
    figs = report.county_figures(_villages(), ind)
    assert figs["pop"] == 4000 and figs["poor_pop"] == 1000
    assert figs["poverty_incidence"] == pytest.approx(0.25)
    md = _write(tmp_path, indicators=ind)["md"].read_text(encoding="utf-8")
    assert "| 人口 | people | 4,000 |" in md and "| 贫困发生率 | poverty incidence | 25.0% |" in md


def test_money_in_wan_with_separators() -> None:
    """Report cells show 元 as 万元 with separators; text uses the same figures with the unit."""
    from contigmap.finance import fmt_wan
    from contigmap.priority._common import fmt_cny_zh
    from contigmap.render.report_doc import column_label_zh, format_cell, report_label_zh

    assert format_cell("roads_capex_cny", 9_889_000.0) == "988.9"
    assert format_cell("capex_cny", 123_456_789.0) == "12,345.7"
    assert format_cell("water_capex_cny", float("nan")) == "–"
    assert fmt_wan(9_889_000.0) == "989" and fmt_cny_zh(9_889_000.0) == "989万元"
    assert fmt_cny_zh(355_000.0) == "35.5万元" and fmt_cny_zh(3_500.0) == "0.35万元"
    assert fmt_cny_zh(float("nan")) == "无"
    assert report_label_zh("roads_capex_cny") == "道路估算投资（万元）"
    assert column_label_zh("roads_capex_cny") == "道路估算投资（元）"  # workbooks keep 元
