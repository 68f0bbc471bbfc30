"""The county report's story (#14 point 2) and its print layout (point 10, report half).

A small county whose every number is set by hand: the tests compute what each chart
shows from those inputs (sums written out, not calls into the chart code) and read the
numbers printed under each chart in ``report.html`` and ``report.md``.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contigmap.indicators import headline_indicators
from contigmap.priority.run import budget_reach
from contigmap.render.report import ReportStory, write_county_report
from contigmap.render.report_story import STORY_TITLES
from tests.browser import HAVE_BROWSER

_POOR = [300.0, 50.0, 400.0, 20.0, 30.0]
_TT = [10.0, 45.0, 75.0, np.inf, 130.0]
_POP = [1000, 500, 800, 200, 500]


def _villages() -> pd.DataFrame:
    return pd.DataFrame({
        "village_id": ["v1", "v2", "v3", "v4", "v5"],
        "name": ["十八洞村", "花垣村", "排碧村", "雅酉村", "米粮村"],
        "township_id": ["t1", "t1", "t2", "t2", "t2"],
        "township_name": ["双龙镇", "双龙镇", "边城镇", "边城镇", "边城镇"],
        "pop": _POP,
        "households": [250, 120, 200, 50, 130],
        "poor_pop": _POOR,
        "cause_illness_share": [0.5, 0.0, 0.25, 1.0, 0.0],
        "cause_poor_transport_share": [0.5, 1.0, 0.75, 0.0, 0.0],
        "cause_lack_of_water_share": [0.0, 0.0, 0.0, 0.0, 1.0],
        "tt_own_township_seat_min": _TT,
    })


def _roads() -> pd.DataFrame:
    """A roads table in rank order v3, v1, v5, v2, v4 (costs, people and poor by hand)."""
    return pd.DataFrame({
        "village_id": ["v1", "v2", "v3", "v4", "v5"],
        "name": ["十八洞村", "花垣村", "排碧村", "雅酉村", "米粮村"],
        "township_id": ["t1", "t1", "t2", "t2", "t2"],
        "roads_rank": [2, 4, 1, 5, 3],
        "roads_need": [90.0, 20.0, 95.0, 10.0, 50.0],
        "roads_tier": [1, 3, 1, 4, 2],
        "roads_capex_cny": [500_000.0, 100_000.0, 800_000.0, 0.0, 300_000.0],
        "roads_beneficiaries": [1000.0, 500.0, 800.0, 200.0, 500.0],
        "roads_poor_beneficiaries": _POOR,
    })


def _sensitivity() -> pd.DataFrame:
    return pd.DataFrame({
        "kind": ["one_at_a_time", "one_at_a_time", "dirichlet", "dirichlet", "dirichlet"],
        "criterion": ["a", "a", "", "", ""], "factor": [0.8, 1.2, np.nan, np.nan, np.nan],
        "spearman": [0.99, 0.97, 0.95, 0.90, 0.85],
        "top_n_kept": [4, 4, 4, 3, 2], "top_n": [4] * 5,
    })


_BUDGET = 1_200_000.0
_SCENARIOS = [("pave", "村道硬化", {"rai_base": 0.5, "rai": 0.75, "poor_gaining": 120.0,
                                   "pop_lost_access": 0.0, "cost_cny": 2_500_000.0}),
              ("slide", "雨季断路", {"rai_base": 0.5, "rai": 0.5, "poor_gaining": 0.0,
                                   "pop_lost_access": 300.0, "cost_cny": 0.0})]
_SITES = pd.DataFrame({"site_name": ["安置点甲", "安置点乙", "安置点丙"],
                       "load_people": [0, 600, 150], "capacity_people": [500, 800, 200],
                       "load_share": [0.0, 0.75, 0.75]})
_RELOC = {"people_to_relocate": 750, "to_relocate": 3, "sites_used": 2,
          "relocation_cny": 12_345_678.0}


def _story() -> ReportStory:
    roads = budget_reach(_roads(), "roads", _BUDGET)
    return ReportStory(priorities={"roads": roads}, budget_cny=_BUDGET,
                       sensitivity={"roads": _sensitivity()}, scenarios=_SCENARIOS,
                       relocation=_RELOC, relocation_sites=_SITES)


def _indicators(v: pd.DataFrame) -> pd.DataFrame:
    county = pd.DataFrame({"county_id": ["c"], "rai": [0.5],
                           "villages_without_hardened_road": [2],
                           "share_within_30min_seat": [1000 / 3000],
                           "share_within_60min_seat": [1500 / 3000]})
    return headline_indicators(v, county_access=county, county_name="花垣县")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    v = _villages()
    return write_county_report(
        tmp_path_factory.mktemp("story"), villages=v, region_title="花垣县",
        interventions={"roads": _roads()}, indicators=_indicators(v), story=_story())


def _chart_rows(page: str, key: str) -> list[list[str]]:
    """Cells of the data table printed under chart ``key`` in report.html."""
    start = page.index(f'id="chart-{key}"')
    table = page[page.index('<table class="chart-data">', start):page.index("</table>", start)]
    body = table[table.index("<tbody>"):]
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", tr)]
            for tr in body.split("</tr>")[:-1]]


@pytest.mark.slow
def test_sections_in_story_order(written: dict[str, Path]) -> None:
    page = written["html"].read_text(encoding="utf-8")
    md = written["md"].read_text(encoding="utf-8")
    h2 = re.findall(r"<h2>([^<]*?) <span", page)
    story = [zh for zh, _ in STORY_TITLES.values()]
    assert [h for h in h2 if h in story] == story  # all six, in order
    assert h2.index(story[2]) < h2.index("道路：优先村（前 5 个）") < h2.index(story[3])
    md_h2 = [line[3:] for line in md.splitlines() if line.startswith("## ")]
    assert [h.split(" ")[0] for h in md_h2 if h.split(" ")[0] in story] == story


def test_each_chart_drawn_embedded_and_linked(written: dict[str, Path]) -> None:
    page = written["html"].read_text(encoding="utf-8")
    md = written["md"].read_text(encoding="utf-8")
    for key in ("causes", "travel_time", "budget", "scenarios", "stability"):
        png = written[f"chart_{key}"]
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.parent.name == "charts"
        start = page.index(f'id="chart-{key}"')
        assert base64.b64encode(png.read_bytes()).decode()[:200] in page[start:]
        assert f"](charts/{key}.png)" in md


def test_cause_shares_by_hand(written: dict[str, Path]) -> None:
    # illness 300*.5 + 400*.25 + 20 = 270; transport 150 + 50 + 300 = 500; water 30
    rows = _chart_rows(written["html"].read_text(encoding="utf-8"), "causes")
    assert rows == [["交通条件落后", "500", f"{500 / 800:.1%}"],
                    ["因病", "270", f"{270 / 800:.1%}"], ["缺水", "30", f"{30 / 800:.1%}"]]


def test_travel_time_bands_by_hand_and_the_indicator_definition(
        written: dict[str, Path]) -> None:
    page = written["html"].read_text(encoding="utf-8")
    rows = {r[0]: r[1:] for r in _chart_rows(page, "travel_time")}
    total = 3000.0  # every village has a time (one of them infinite: no route)
    assert rows["≤30"] == ["1", "1,000", f"{1000 / total:.1%}"]
    assert rows["30–60"] == ["1", "500", f"{500 / total:.1%}"]
    assert rows["60–90"] == ["1", "800", f"{800 / total:.1%}"]
    assert rows["90–120"] == ["0", "0", "0.0%"]
    assert rows[">120"] == ["1", "500", f"{500 / total:.1%}"]
    assert rows["无路可达"] == ["1", "200", f"{200 / total:.1%}"]
    # the key figure above the chart is the indicator table's, and the bands agree with it
    assert f"<div class=v>{1500 / 3000:.1%}</div><div>60分钟内到乡镇驻地的人口" in page
    assert "<div class=v>2</div><div>未通硬化路到乡镇的村" in page
    # the slowest villages: the one with no route first
    assert "<td class=\"nm\">雅酉村</td><td class=\"nm\">边城镇</td><td class=\"num\">无路可达" \
        in page


def test_budget_curve_ends_at_the_whole_list(written: dict[str, Path]) -> None:
    page = written["html"].read_text(encoding="utf-8")
    (row,) = _chart_rows(page, "budget")
    # rank order v3 800k, v1 500k: 1.3 M > 1.2 M budget, so only v3 is funded
    assert row == ["道路", "1", "80", "400", "5", f"{1_700_000 / 1e4:,.0f}",
                   f"{sum(_POOR):,.0f}"]
    assert "每项预算 120 万元" in page


def test_scenario_bars_relocation_and_stability(written: dict[str, Path]) -> None:
    page = written["html"].read_text(encoding="utf-8")
    assert _chart_rows(page, "scenarios") == [
        ["村道硬化", "50.0%", "75.0%", "120", "0", "250"],
        ["雨季断路", "50.0%", "50.0%", "0", "300", "0"]]
    # dirichlet draws keep 4, 3, 2 of 4: mean 75 %, fewest 50 %; lowest spearman 0.85
    assert _chart_rows(page, "stability") == [["道路", "4", "75.0%", "50.0%", "0.850"]]
    assert "<td class=num>750</td>" in page and "<td class=num>1,235</td>" in page
    # sites used, most people first; the empty one left out
    start = page.index(STORY_TITLES["relocation"][0])
    assert page.index("安置点乙", start) < page.index("安置点丙", start)
    assert "安置点甲" not in page


def test_no_story_without_its_data(tmp_path: Path) -> None:
    v = _villages().drop(columns=[c for c in _villages().columns
                                  if c.startswith(("cause_", "tt_"))])
    paths = write_county_report(tmp_path, villages=v, region_title="花垣县")
    page = paths["html"].read_text(encoding="utf-8")
    assert not any(zh in page for zh, _ in STORY_TITLES.values())
    assert not any(k.startswith("chart_") for k in paths)


def test_print_css(written: dict[str, Path]) -> None:
    page = written["html"].read_text(encoding="utf-8")
    css = page[page.index("<style>"):page.index("</style>")]
    assert "@page{size:A4" in css
    printed = css[css.index("@media print"):]
    assert re.search(r"\btr,[^{]*\{break-inside:avoid", printed)
    assert ".chart" in printed and "thead{display:table-header-group}" in printed
    assert "td.nm,td.num{white-space:nowrap}" in css  # names are never broken
    assert '<td class="nm">十八洞村</td>' in page


@pytest.mark.browser
@pytest.mark.skipif(not HAVE_BROWSER, reason="needs chromium and chromedriver")
def test_report_prints_to_a4(written: dict[str, Path], tmp_path: Path) -> None:
    from selenium.webdriver.common.print_page_options import PrintOptions

    from tests.browser import make_driver, shoot

    driver = make_driver(tmp_path, offline_network=True)
    try:
        driver.get(written["html"].as_uri())
        over = driver.execute_script(
            "return [...document.querySelectorAll('td.nm')]"
            ".filter(e => e.scrollWidth > e.clientWidth + 1).length;")
        assert over == 0
        shoot(driver, "report_story")
        opts = PrintOptions()
        opts.page_width, opts.page_height = 21.0, 29.7
        pdf = base64.b64decode(driver.print_page(opts))
    finally:
        driver.quit()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pdf[:4] == b"%PDF"
    assert 2 <= pages <= 12


def test_township_pages(written: dict[str, Path]) -> None:
    page = written["html"].read_text(encoding="utf-8")
    pages = page.split('<section class="page">')[1:]
    assert [re.findall(r"<h3>([^<]*?) <span", p)[0] for p in pages] == ["双龙镇", "边城镇"]
    # t1 (v1, v2): 350 poor of 1,500; the budget funds no road there (v1 is rank 2)
    assert "<div class=v>350</div><div>贫困人口" in pages[0]
    assert '<td class="nm">道路</td><td class="num">0</td><td class="num">0</td>' in pages[0]
    # t2: v3 (rank 1, 800,000 CNY = 80 万元) is funded
    assert ('<td class="nm">道路</td><td class="num">1</td><td class="num">80</td>'
            "<td>排碧村</td>") in pages[1]
    css = page[page.index("<style>"):page.index("</style>")]
    assert "section.page{break-before:page" in css
