"""Issue #14 points 6 and 7 in a real headless Chromium, on the demo map (network off).

* the roads priority layer shows tiers by budget: as many tier-1 (预算内) villages as the
  budget funds, "no works needed" only for villages whose option is ``none``;
* the travel-time layer reads the own township seat, so its classes above 90 min are
  not empty when the slowest villages are 90+ min away.

Screenshots at the three viewports of issue #14 go to ``build/screenshots``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from contigmap.pipeline import RunResult
from contigmap.priority.tiers import tier_colour
from contigmap.render.legend import RDYLGN_6_R
from tests.browser import HAVE_BROWSER, make_driver, severe_console, shoot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_BROWSER, reason="chromium and chromedriver are not installed"),
]

LEGENDS = ("return Array.from(document.querySelectorAll('.cm-legend'))"
           ".filter(e => e.style.display !== 'none').map(e => e.textContent);")


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    d = make_driver(tmp_path, offline_network=True)
    try:
        yield d
    finally:
        d.quit()


def _filled(driver: Any, colour: str) -> int:
    """Village circles drawn with a fill colour (Leaflet's SVG ``fill`` attribute)."""
    return int(driver.execute_script(
        "return Array.from(document.querySelectorAll('path.cm-village'))"
        ".filter(p => (p.getAttribute('fill') || '').toLowerCase() === arguments[0]).length;",
        colour.lower()))


def _toggle(driver: Any, text: str) -> None:
    """Click the layer-control checkbox of the overlay whose label contains ``text``."""
    driver.execute_script(
        "const c = document.querySelector('.leaflet-control-layers');"
        "c.classList.add('leaflet-control-layers-expanded');")
    labels = driver.find_elements("css selector", ".leaflet-control-layers-overlays label")
    label = next(r for r in labels if text in r.get_attribute("textContent"))
    driver.execute_script("arguments[0].click();", label.find_element("css selector", "input"))
    driver.execute_script("document.querySelector('.leaflet-control-layers')"
                          ".classList.remove('leaflet-control-layers-expanded');")


def test_tiers_and_travel_time_on_the_demo_map(demo_run: RunResult, driver: Any) -> None:
    villages = demo_run.villages
    assert villages is not None
    budget = pd.read_csv(demo_run.out_dir / "priorities" / "priorities_budget.csv",
                         encoding="utf-8-sig").set_index("intervention")
    funded = int(budget.loc["roads", "units_funded"])
    assert int((villages["roads_tier"] == 1).sum()) == funded
    no_works = int((villages["roads_option"] == "none").sum())
    driver.get((demo_run.out_dir / "map.html").as_uri())
    for _ in range(200):
        if driver.execute_script("return document.querySelectorAll('path.cm-village').length;"):
            break
        time.sleep(0.05)
    assert severe_console(driver) == []

    # roads tiers: switch the layer on (alone); count the circles per tier colour
    _toggle(driver, "贫困发生率")
    _toggle(driver, "道路优先级")
    assert _filled(driver, tier_colour(1)) == funded
    assert _filled(driver, tier_colour(0)) == no_works
    legend = " ".join(driver.execute_script(LEGENDS))
    for label in ("按预算分批", "预算内", "第二批", "后续", "无需工程"):
        assert label in legend
    assert "暂不需要" not in legend
    assert severe_console(driver) == []
    shoot(driver, "priority_tiers_roads")

    # travel time to the own township seat: the classes above 90 min hold the slowest
    _toggle(driver, "道路优先级")
    _toggle(driver, "到本乡镇驻地时间")
    own = pd.to_numeric(villages["tt_own_township_seat_min"], errors="coerce")
    slow = int(((own >= 90) & (own < float("inf"))).sum())
    assert slow > 0
    assert _filled(driver, RDYLGN_6_R[4]) + _filled(driver, RDYLGN_6_R[5]) == slow
    assert "到本乡镇驻地时间" in " ".join(driver.execute_script(LEGENDS))
    shoot(driver, "travel_time_own_seat")
