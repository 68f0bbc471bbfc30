"""The area map (``render/area_map.py``): choropleth classes, escaping, and in a browser.

Three made-up counties side by side (0.2° boxes near 花垣县) with figures chosen so that
each measure ranks them differently; one county is named with markup and template
injections, which must show as text.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from contigmap.render.area_map import _classes, format_figure, render_area_map
from tests.browser import (
    HAVE_BROWSER,
    XSS_IMG,
    XSS_NAME,
    make_driver,
    severe_console,
    shoot,
)

CODES = ["433124", "433125", "433126"]


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "county_code": CODES,
        "county_name": ["花垣县", XSS_NAME, XSS_IMG + "{{7*7}}"],
        "villages": [4, 5, 6],
        "pop": [1000.0, 2000.0, 3000.0],
        "poor_pop": [100.0, 600.0, 300.0],
        "poverty_incidence": [0.1, 0.3, 0.1 / 1],
        "rai": [0.9, 0.2, 0.5],
        "villages_without_hardened_road": [1, 4, 2],
        "capex_total_cny": [1e6, 5e6, float("nan")],
    })


def _counties() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"county_code": CODES},
                            geometry=[box(109.2 + 0.2 * i, 28.4, 109.4 + 0.2 * i, 28.6)
                                      for i in range(3)], crs=4326)


def test_quantile_classes_by_hand() -> None:
    colours = ("a", "b", "c", "d", "e")
    # five distinct values or fewer: one class each, spread over the ramp; missing: grey
    fills, legend = _classes(pd.Series([5.0, 1.0, 3.0, None]), colours, "pop")
    assert fills == ["e", "a", "c", "#cccccc"]
    assert [label for _, label in legend] == ["1", "3", "5", "无数据 no data"]
    same, legend = _classes(pd.Series([7.0, 7.0]), colours, "pop")
    assert same == ["a", "a"] and len(legend) == 1
    # equal as shown (20.0 %): one class, not three colours for a 0.01 % difference
    close, legend = _classes(pd.Series([0.20001, 0.19998, 0.20000]), colours,
                             "poverty_incidence")
    assert close == ["a", "a", "a"] and legend == [("a", "20.0%")]
    # more: the quantile edges of 1..10 are 1, 2.8, 4.6, 6.4, 8.2, 10 (linear interpolation)
    fills, legend = _classes(pd.Series([float(v) for v in range(1, 11)]), colours, "pop")
    assert fills == ["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"] and len(legend) == 5


def test_figures_are_formatted() -> None:
    assert format_figure("poverty_incidence", 0.30833) == "30.8%"
    assert format_figure("roads_capex_cny", 14_745_585.0) == "1,474.6 万元"
    assert format_figure("roads_capex_cny", 14_745_585.0, unit=False) == "1,474.6"
    assert format_figure("pop", float("nan")) == "–"


@pytest.mark.slow
def test_names_are_text_and_links_point_to_county_maps(tmp_path: Path) -> None:
    out = render_area_map(_table(), _counties(), tmp_path / "area_map.html",
                          title="片区 <i>{{7*7}}</i>", illustrative=True)
    page = out.read_text(encoding="utf-8")
    for bad in ("<script>alert", "<img src=x", "<i>{{", ">49<"):
        assert bad not in page
    for code in CODES:
        assert f"{code}/map.html" in page
    again = render_area_map(_table(), _counties(), tmp_path / "again.html",
                            title="片区 <i>{{7*7}}</i>", illustrative=True)
    assert again.read_bytes() == out.read_bytes()  # reproducible: deterministic ids


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not HAVE_BROWSER:
        pytest.skip("chromium and chromedriver are not installed")
    tmp = tmp_path_factory.mktemp("area_map")
    out = render_area_map(_table(), _counties(), tmp / "area_map.html",
                          title="测试片区 area map", illustrative=True,
                          facts=[("县数 counties", "3")])
    d = make_driver(tmp, offline_network=True)
    d.set_window_size(1280, 800)
    d.get(out.as_uri())
    try:
        yield d
    finally:
        d.quit()


def _fills(d: Any) -> list[str]:
    return list(d.execute_script(
        "return Array.from(document.querySelectorAll('path.leaflet-interactive'))"
        ".map(function (p) { return p.getAttribute('fill'); });"))


@pytest.mark.slow
@pytest.mark.browser
def test_choropleth_switches_and_click_opens_the_county_card(driver: Any) -> None:
    d = driver
    assert len(_fills(d)) == 3
    # incidence 0.1, 0.3, 0.1: the middle county is the darkest red, the others the palest
    assert _fills(d) == ["#fee5d9", "#a50f15", "#fee5d9"]
    shoot(d, "area_map", viewports=((1280, 800),))
    d.execute_script("document.querySelector('input[value=rai]').click();")
    # RAI 0.9, 0.2, 0.5: less access is darker blue
    assert _fills(d) == ["#eff3ff", "#08519c", "#6baed6"]
    d.execute_script("document.querySelector('input[value=capex_total_cny]').click();")
    assert _fills(d)[2] == "#cccccc"  # no funding figure: grey
    d.execute_script("document.querySelectorAll('path.leaflet-interactive')[1]"
                     ".dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: 640,"
                     " clientY: 400}));")
    time.sleep(0.5)
    card = d.execute_script("var p = document.querySelector('.leaflet-popup-content');"
                            "return p ? [p.innerText, p.querySelector('a').getAttribute('href')]"
                            " : null;")
    assert card is not None
    text, href = card
    assert XSS_NAME in text and href == "433125/map.html"
    assert "30.0%" in text and "500.0 万元" in text
    shoot(d, "area_map_card", viewports=((1280, 800),))
    assert not d.execute_script("return document.querySelector('img[src=x]');")
    assert severe_console(d) == []
