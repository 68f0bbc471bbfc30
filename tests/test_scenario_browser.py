"""The before/after view of road scenarios in a headless Chromium (issue #14, point 3).

The demo region's scenarios are run once (``contigmap scenario compare``'s function); the
map it writes is opened offline and checked against the summary CSVs it wrote beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.browser import HAVE_BROWSER, make_driver, severe_console, shoot

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = [ROOT / "scenarios" / "huayuan_valley_link.yaml",
             ROOT / "scenarios" / "huayuan_rainy_landslides.yaml"]
REGION = ROOT / "layers" / "huayuan" / "region.yaml"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_BROWSER, reason="needs chromium and chromedriver"),
    pytest.mark.skipif(not REGION.is_file(), reason="needs the demo region (layers/huayuan)"),
]


@pytest.fixture(scope="module")
def scenario_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from contigmap.planning import run_scenarios

    out = tmp_path_factory.mktemp("scen") / "out"
    run_scenarios(SCENARIOS, out, region=REGION)
    return out


@pytest.fixture
def driver(tmp_path: Path) -> Any:
    d = make_driver(tmp_path, offline_network=True)
    yield d
    d.quit()


def _open(driver: Any, path: Path) -> None:
    driver.set_window_size(1280, 860)
    driver.get(path.as_uri())
    driver.execute_script("window.cmScenario.setPos(0.5);")


def _pane_at(driver: Any, ll: list[float]) -> str | None:
    """Which scenario pane the topmost shape at a village's place belongs to."""
    return driver.execute_script(
        "var m = arguments[0], p = window.cmScenario.map.latLngToContainerPoint(m);"
        "var r = window.cmScenario.map.getContainer().getBoundingClientRect();"
        "var e = document.elementFromPoint(r.left + p.x, r.top + p.y);"
        "var pane = e && e.closest('.leaflet-pane');"
        "return pane ? pane.className : null;", ll)


def test_before_after_view_shows_both_states(scenario_run: Path, driver: Any) -> None:
    _open(driver, scenario_run / "scenarios_map.html")
    assert not severe_console(driver)
    # two panes, the swipe line and its handle, both states drawn
    assert driver.find_elements("css selector", ".leaflet-cmScenBefore-pane")
    assert driver.find_elements("css selector", ".leaflet-cmScenAfter-pane")
    assert driver.find_element("css selector", ".cm-swipe-h").is_displayed()
    labels = driver.find_element("css selector", ".cm-swipe").text
    assert "现状" in labels and "情景" in labels
    before = driver.execute_script("return window.cmScenario.markers(false);")
    after = driver.execute_script("return window.cmScenario.markers(true);")
    assert len(before) == len(after) > 100
    # the same village, two different travel times, each said in minutes on its side
    table = pd.read_csv(scenario_run / "valley-link_villages.csv", dtype={"village_id": str})
    faster = table[table["d_tt_own_township_seat_min"] < -5].iloc[0]
    b = next(m for m in before if m["name"] == faster["name"])
    a = next(m for m in after if m["name"] == faster["name"])
    assert b["min"] == pytest.approx(faster["tt_own_township_seat_min_base"], abs=0.06)
    assert a["min"] == pytest.approx(faster["tt_own_township_seat_min"], abs=0.06)
    assert b["min"] > a["min"]
    assert f"{round(b['min'])} 分钟" in b["tip"] and f"{round(a['min'])} 分钟" in a["tip"]
    # the swipe decides which state is seen at the village: before when the line is right
    # of it, after when it is left of it
    driver.execute_script("window.cmScenario.setPos(1);")
    assert "cmScenBefore" in (_pane_at(driver, b["ll"]) or "")
    driver.execute_script("window.cmScenario.setPos(0);")
    assert "cmScenAfter" in (_pane_at(driver, b["ll"]) or "")
    driver.execute_script("window.cmScenario.setPos(0.5);")


def _shown_numbers(driver: Any) -> list[float]:
    rows = driver.find_elements("css selector", ".cm-scen-facts tr")
    return [float(r.get_attribute("data-v")) for r in rows]


def test_headline_numbers_match_the_summary_csv(scenario_run: Path, driver: Any) -> None:
    _open(driver, scenario_run / "scenarios_map.html")
    pick = driver.find_element("css selector", ".cm-scen-pick")
    names = [o.text for o in pick.find_elements("css selector", "option")]
    assert names == ["龙保村—老王寨村新建通村公路", "雨季滑坡断路"]  # Chinese, not slugs
    for k, slug in enumerate(("valley-link", "rainy-landslides")):
        driver.execute_script(f"window.cmScenario.pick({k});")
        s = pd.read_csv(scenario_run / f"{slug}_summary.csv").iloc[0]
        poor, cut, wan = _shown_numbers(driver)
        assert poor == pytest.approx(s["poor_gaining"])
        assert cut == pytest.approx(s["pop_lost_access"])
        assert wan == pytest.approx(round(s["cost_cny"] / 1e4, 1))
        shown = driver.find_element("css selector", ".cm-scen-facts").text
        assert f"{s['poor_gaining']:,.0f} 人" in shown
        assert f"{s['cost_cny'] / 1e4:,.1f} 万元" in shown
        assert f"{s['pop_lost_access']:,.0f} 人（{int(s['villages_lost_access'])} 个村）" in shown
    driver.execute_script("window.cmScenario.pick(0);")
    shoot(driver, "scenario_before_after")
