"""Issue #14 points 4, 8, 11 in a headless Chromium: village card, layer control, search.

The map is the tiny region of :mod:`tests.browser` with a road ranking computed by
:func:`contigmap.priority.mcda.score_table` on criterion values set here, so the card's
bars can be checked against the score the same row carries.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from contigmap.priority.mcda import score_table
from contigmap.priority.roads import CRITERIA
from contigmap.render import render_web_map
from tests.browser import (
    HAVE_BROWSER,
    make_driver,
    severe_console,
    shoot,
    small_region,
    wait_for,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_BROWSER, reason="chromium and chromedriver are not installed"),
]

WEIGHTS = {"no_hardened_road": 3.0, "tt_township": 2.0, "rainy_unreachable": 1.0,
           "transport_cause": 1.0, "poor_pop": 1.0, "poverty_incidence": 2.0, "pop": 0.0}


def _region() -> dict[str, Any]:
    region = small_region()
    v = region["villages"].copy()
    rng = np.random.default_rng(14)
    for c in CRITERIA:
        if c.column not in v.columns:
            v[c.column] = rng.integers(0, 2, len(v)).astype(float) if c.unit == "0/1" \
                else rng.uniform(0, 100, len(v))
    scored = score_table(v, CRITERIA, WEIGHTS, prefix="roads", id_column="village_id")
    for col in scored.columns:
        v[col] = scored[col].to_numpy()
    v["roads_option"] = ["harden", "new_road", "harden", "shuttle_bus", "harden", "none"]
    v["roads_capex_cny"] = [2_350_000.0, 8_000_000.0, 1_000_000.0, 300_000.0, 900_000.0, 0.0]
    order = np.argsort(v["roads_rank"].to_numpy())
    within = np.zeros(len(v), bool)
    within[order[:2]] = True  # the budget reaches the two highest-ranked villages
    v["roads_within_budget"] = within
    region["villages"] = v
    return region


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("card")
    region = _region()
    out = render_web_map(tmp / "map.html", **region, title="花垣县 村级地图（测试）",
                         source_note="测试数据 test fixture", illustrative=True)
    d = make_driver(tmp, offline_network=True)
    d.set_window_size(1920, 1080)
    d.get(out.as_uri())
    wait_for(d, "return document.querySelectorAll('path.cm-village').length > 0")
    try:
        yield d, region
    finally:
        d.quit()


def _search(driver: Any, text: str) -> str:
    """Type into the search box, press Enter; return the open card's village name."""
    driver.execute_script("var m = window.cmVillages; m.markers.forEach(function(l){"
                          "l.forEach(function(k){ k.closePopup(); }); });")
    wait_for(driver, "return !document.querySelector('.leaflet-popup');")
    inp = driver.find_element("css selector", "#cm-search-input")
    inp.clear()
    inp.send_keys(text + "\n")
    name = str(wait_for(driver, "var h = document.querySelector('.leaflet-popup .cm-card h3');"
                                "return h ? h.textContent : '';"))
    wait_for(driver, "var p = document.querySelector('.leaflet-popup');"  # it fades in
                     "return p && getComputedStyle(p).opacity === '1';")
    _settle(driver)
    return name


def _settle(driver: Any, timeout_s: float = 10.0) -> None:
    """Wait until the popup stops moving: the map pans it into view after it opens.

    Under load the pan is still running when the card fades in, and Selenium treats the
    part still outside the map as hidden text.
    """
    script = ("var p = document.querySelector('.leaflet-popup');"
              "if (!p) return null; var r = p.getBoundingClientRect();"
              "return [Math.round(r.top), Math.round(r.left)];")
    end = time.monotonic() + timeout_s
    last = driver.execute_script(script)
    while time.monotonic() < end:
        time.sleep(0.15)
        now = driver.execute_script(script)
        if now == last:
            return
        last = now


def _card_text(driver: Any) -> str:
    """The open card's whole text, including any part scrolled out of view."""
    return str(driver.execute_script(
        "return document.querySelector('.leaflet-popup .cm-card').innerText;"))


def test_card_shows_rank_of_n_and_contributions_summing_to_the_score(page: Any) -> None:
    driver, region = page
    v = region["villages"]
    i = int(np.argmin(v["roads_rank"].to_numpy()))  # the village ranked first
    name = str(v["name"].iloc[i])
    assert _search(driver, str(v["village_id"].iloc[i])) == name
    text = _card_text(driver)
    assert "第 1 / 6 位" in text
    assert "rank 1 of 6" in text
    need = float(driver.execute_script(
        "return document.querySelector('.leaflet-popup .cm-need').textContent;"))
    assert need == pytest.approx(float(v["roads_need"].iloc[i]), abs=0.05)
    pts = driver.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-popup .cm-bar'))"
        ".map(function(b){ return parseFloat(b.dataset.pts); });")
    assert len(pts) == sum(1 for w in WEIGHTS.values() if w > 0)
    assert sum(pts) == pytest.approx(need, abs=0.05)
    # each bar's weight, read back from the points (see card_totals_weights), as set here
    total = sum(WEIGHTS.values())
    shown = driver.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-popup .cm-bar-v small'))"
        ".map(function(s){ return s.textContent; });")
    assert shown == [f"权重 {w / total * 100:.0f}%" for w in WEIGHTS.values() if w > 0]
    assert "硬化现有道路" in text or "新建道路" in text or "开通客运班车" in text
    assert "万元" in text and "预算内" in text
    # the priority part fits on screen without scrolling the popup
    box = driver.execute_script(
        "var s = document.querySelector('.leaflet-popup .cm-opt').getBoundingClientRect();"
        "return [s.bottom, window.innerHeight];")
    assert 0 < box[0] < box[1]
    shoot(driver, "card_rank")
    driver.set_window_size(1920, 1080)
    assert severe_console(driver) == []


def test_village_themes_are_radio_buttons_and_named_in_the_title(page: Any) -> None:
    driver, _ = page
    heads = driver.execute_script(
        "return Array.from(document.querySelectorAll('.cm-lyr-head'))"
        ".map(function(h){ return h.textContent; });")
    assert "村专题 Village themes" in heads and "底图与边界 Base" in heads
    radios = driver.find_elements("css selector", ".cm-lyr-themes input")
    assert len(radios) >= 2 and all(r.get_attribute("type") == "radio" for r in radios)
    theme = driver.find_element("css selector", ".cm-theme")
    first = theme.text
    radios[1].click()
    wait_for(driver, "return document.querySelectorAll('.cm-lyr-themes input:checked').length"
                     " === 1 && document.querySelector('.cm-lyr-themes input').checked === false")
    on = driver.execute_script("return cmVillages.layers.map(function(l){"
                               " return cmVillages.layers && map_has(l); });"
                               .replace("map_has(l)", "l.fg._map ? 1 : 0"))
    assert on == [0, 1] + [0] * (len(on) - 2)  # one theme at a time
    assert theme.text != first and theme.text.startswith("专题 Theme")
    radios = driver.find_elements("css selector", ".cm-lyr-themes input")
    radios[0].click()
    # the grouping survives the control's redraw, and imperial scale is hidden
    assert driver.find_elements("css selector", ".cm-lyr-head")
    shown = driver.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-scale-line'))"
        ".filter(function(e){ return getComputedStyle(e).display !== 'none'; })"
        ".map(function(e){ return e.textContent; });")
    assert len(shown) == 1 and ("m" in shown[0] or "km" in shown[0])


def test_names_appear_after_zoom_and_text_is_large_enough(page: Any) -> None:
    driver, _ = page
    driver.execute_script("var m = cmVillages.markers[0][0]._map;"
                          "m.closePopup(); m.setZoom(10, {animate: false});")
    assert wait_for(driver, "return document.querySelectorAll('.cm-vname').length === 0")
    driver.execute_script("var m = cmVillages.markers[0][0]._map;"
                          "m.setView(cmVillages.markers[0][0].getLatLng(), 14, {animate:false});")
    assert wait_for(driver, "return document.querySelectorAll('.cm-vname').length > 0")
    # every text in the controls and legend is at least 14 px on a 1920 x 1080 screen
    small = driver.execute_script(
        "var out = []; document.querySelectorAll('.leaflet-control *, .cm-title *')"
        ".forEach(function(e){ var t = Array.from(e.childNodes).some(function(n){"
        " return n.nodeType === 3 && n.textContent.trim(); });"
        " if (t && e.offsetParent !== null && parseFloat(getComputedStyle(e).fontSize) < 14)"
        " out.push(e.className + ':' + getComputedStyle(e).fontSize); }); return out;")
    assert small == []
    shoot(driver, "card_names_zoom", viewports=((1920, 1080),))


def test_search_by_code_township_and_pinyin(page: Any) -> None:
    driver, region = page
    assert _search(driver, "shibadong") == "十八洞村"
    assert _search(driver, "sbdc") == "十八洞村"
    assert _search(driver, "DONGMAKU") == "董马库村"
    assert _search(driver, "433124103201") == "董马库村"
    assert _search(driver, "双龙镇") in set(region["villages"]["name"].iloc[3:])


def test_phone_legend_and_card_fit_and_layers_button_toggles_nothing(page: Any) -> None:
    driver, _ = page
    driver.set_window_size(390, 844)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight];")
    driver.set_window_size(390 + 390 - int(inner[0]), 844 + 844 - int(inner[1]))
    before = driver.execute_script(
        "return cmVillages.layers.map(function(l){ return l.fg._map ? 1 : 0; });")
    # the list is folded on a phone; its button opens it and switches no layer
    expanded = ("return document.querySelector('.leaflet-control-layers')"
                ".classList.contains('leaflet-control-layers-expanded');")
    assert wait_for(driver, "return !" + expanded.removeprefix("return "))
    btn = driver.find_element("css selector", ".leaflet-control-layers-toggle")
    assert btn.is_displayed()
    btn.click()
    assert wait_for(driver, expanded)  # Leaflet expands it in its own click handler, later
    after = driver.execute_script(
        "return cmVillages.layers.map(function(l){ return l.fg._map ? 1 : 0; });")
    assert after == before
    driver.execute_script("cmLayerControl.collapse();")  # close the list
    assert _search(driver, "shibadong") == "十八洞村"
    legend_shown = "return getComputedStyle(document.querySelector('.cm-legends')).display;"
    assert driver.execute_script(legend_shown) == "none"  # the card has the screen
    fits = ("var W = window.innerWidth, H = window.innerHeight;"
            "var e = document.querySelector(arguments[0]); var r = e.getBoundingClientRect();"
            "return r.left >= 0 && r.right <= W && r.width > 0 && r.bottom <= H;")
    assert driver.execute_script(fits, ".leaflet-popup-content-wrapper")
    driver.execute_script("cmLayerControl._map.closePopup();")
    assert driver.execute_script(legend_shown) != "none"
    assert driver.execute_script(fits, ".cm-legends")
    assert _search(driver, "shibadong") == "十八洞村"
    # the card opens below the search box
    gap = driver.execute_script(
        "return document.querySelector('.leaflet-popup-content-wrapper').getBoundingClientRect()"
        ".top - document.querySelector('#cm-search-input').getBoundingClientRect().bottom;")
    assert gap >= 0
    shoot(driver, "card_phone", viewports=((390, 844),))
    driver.set_window_size(1920, 1080)


def test_service_points_at_one_place_are_spread(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    from contigmap.render import MapLayer
    from tests.browser import UTM49N, X0, Y0

    pts = gpd.GeoDataFrame({"kind": ["卫生院", "学校", "集市"]},
                           geometry=[Point(X0 + 5000, Y0 + 5000)] * 3, crs=UTM49N)
    layer = MapLayer(name="服务点 Services", data=pts, radius=6.0, show=True)
    out = render_web_map(tmp_path / "m.html", **small_region(), extra_layers=[layer],
                         title="t", source_note="s", illustrative=False)
    d = make_driver(tmp_path, offline_network=True)
    try:
        d.get(out.as_uri())
        # measured after the opening zoom: an animating pane scales the offsets too
        wait_for(d, "return document.querySelector('.leaflet-map-pane') &&"
                    " !document.querySelector('.leaflet-zoom-anim')"
                    " && window.map_0001 && !map_0001._animatingZoom"
                    " && !map_0001._panAnim?._inProgress;")
        centres = wait_for(d, "var a = Array.from(document.querySelectorAll('path'))"
                              ".filter(function(p){ return p.getAttribute('stroke-width') &&"
                              " p.getAttribute('fill') === '#3366cc'; });"
                              "return a.length === 3 && a.map(function(p){"
                              " var r = p.getBoundingClientRect();"
                              " return [Math.round(r.x + r.width / 2),"
                              "         Math.round(r.y + r.height / 2)]; });")
        assert centres and len({tuple(c) for c in centres}) == 3  # three places, not one
        spread = max(abs(a[k] - b[k]) for a in centres for b in centres for k in (0, 1))
        assert spread <= 30  # still read as one place
        assert severe_console(d) == []
    finally:
        d.quit()
