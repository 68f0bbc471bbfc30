"""The map's print/export sheet in headless Chromium (offline).

The button switches to the landscape sheet and calls ``window.print`` (stubbed to record
the call); the sheet's parts are visible, the map's controls hidden; the numeric and the
graphic scale agree with a distance measured on the map between two villages a known
number of metres apart; ``driver.print_page`` with landscape A4 gives exactly one page,
and with A3 one page of A3's size.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contigmap.render import render_web_map
from contigmap.render.web_print import METRES_PER_CSS_PX
from tests.browser import HAVE_BROWSER, make_driver, severe_console, shoot, small_region

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_BROWSER, reason="chromium and chromedriver not installed"),
]

VISIBLE = "var e = document.querySelector(arguments[0]); return !!e && e.offsetParent !== null;"


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    d = make_driver(tmp_path_factory.mktemp("chromium"), offline_network=True)
    try:
        yield d
    finally:
        d.quit()


def _wait(driver: Any, script: str, timeout: float = 10.0) -> Any:
    end = time.time() + timeout
    while time.time() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    return None


def _map(tmp_path: Path, date: str | None, illustrative: bool = True) -> Path:
    reg = small_region()
    reg["villages"]["roads_tier"] = [1, 2, 3, 1, 2, 3]
    return render_web_map(tmp_path / "map.html", **reg, title="花垣县 农村公路建设优先序图",
                          source_note="花垣县交通运输局（测试）", illustrative=illustrative,
                          date=date)


def _open(driver: Any, out: Path) -> None:
    driver.set_window_size(1920, 1080)
    driver.get(out.as_uri())
    assert _wait(driver, "return !!window.cmPrint && !!document.querySelector('.cm-print-btn a')")
    driver.execute_script("window.__printed = 0; window.print = function(){ window.__printed++; };")


def _pages(pdf: bytes) -> list[tuple[float, float]]:
    """MediaBox (width, height in points) of each page object of a PDF (pypdf not installed)."""
    text = pdf.decode("latin-1")
    n = len(re.findall(r"/Type\s*/Page(?!s)", text))
    boxes = re.findall(r"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", text)
    sizes = [(float(c) - float(a), float(d) - float(b)) for a, b, c, d in boxes]
    assert n >= 1
    return sizes[:n] if len(sizes) >= n else [sizes[0]] * n if sizes else [(0.0, 0.0)] * n


def _print_pdf(driver: Any, a3: bool) -> bytes:
    from selenium.webdriver.common.print_page_options import PrintOptions

    opts = PrintOptions()
    opts.orientation = "landscape"
    opts.page_width, opts.page_height = (29.7, 42.0) if a3 else (21.0, 29.7)
    opts.margin_top = opts.margin_bottom = opts.margin_left = opts.margin_right = 0
    opts.background = True
    return base64.b64decode(driver.print_page(opts))


def test_button_opens_sheet_and_prints(driver: Any, tmp_path: Path) -> None:
    out = _map(tmp_path, "2026-12-01")
    _open(driver, out)
    driver.find_element("css selector", ".cm-print-btn a").click()
    assert _wait(driver, "return window.__printed === 1")
    for sel in (".cm-sheet-head h1", ".cm-sheet-legend .cm-legend", ".cm-sheet-north",
                ".cm-sheet-ratio", ".cm-sheet-bar", ".cm-sheet-info", ".cm-sheet-frame .folium-map",
                ".cm-sheet-badge"):
        assert driver.execute_script(VISIBLE, sel), sel
    for sel in (".leaflet-control-zoom", ".cm-search", ".leaflet-control-layers", ".cm-title",
                ".cm-legends", ".cm-print-btn"):
        assert not driver.execute_script(VISIBLE, sel), sel
    info = driver.execute_script(
        "return Array.from(document.querySelectorAll('.cm-sheet-info tr')).map("
        "function(r){ return [r.cells[0].textContent, r.cells[1].textContent]; });")
    assert info[0] == ["编制单位", "花垣县交通运输局（测试）"]
    assert info[1] == ["日期", "2026-12-01"]
    assert info[2] == ["审图号", ""]
    assert "示意数据" in info[3][1]
    assert driver.execute_script("return document.querySelector('.cm-sheet-head h1').textContent"
                                 ) == "花垣县 农村公路建设优先序图"
    # the theme shown (a village layer's name) is the sheet's subtitle
    sub = driver.execute_script("return document.querySelector('.cm-sheet-sub').textContent")
    checked = driver.execute_script(
        "var i = document.querySelector('.cm-lyr-themes input:checked');"
        "return i ? i.parentNode.textContent.trim() : null;")
    assert sub and sub == checked
    # scale: villages 0 and 5 are 15 000 m east and 1 000 m north apart (UTM 49N)
    lonlat = small_region()["villages"].to_crs(4326).geometry
    a, b = (lonlat.iloc[0], lonlat.iloc[5])
    name = driver.execute_script(
        "return Object.keys(window).find(function(k){ return /^map_[0-9a-z]+$/.test(k); })")
    d_px = driver.execute_script(
        f"var m = window[{name!r}], a = m.latLngToContainerPoint([{a.y}, {a.x}]),"
        f" b = m.latLngToContainerPoint([{b.y}, {b.x}]); return Math.hypot(a.x - b.x, a.y - b.y);")
    m_per_px = (15_000**2 + 1_000**2) ** 0.5 / d_px
    s = driver.execute_script("return window.cmPrint.scale()")
    assert s["n"] == pytest.approx(m_per_px / METRES_PER_CSS_PX, rel=0.02)
    assert s["barM"] / s["barPx"] == pytest.approx(m_per_px, rel=0.02)
    assert str(s["barM"])[0] in "125" and s["barPx"] <= 170
    ratio = driver.execute_script("return document.querySelector('.cm-sheet-ratio').textContent")
    assert ratio.replace(" ", "") == f"比例尺1:{s['n']}"
    assert not severe_console(driver)
    time.sleep(2.0)  # let the moved map repaint before the screenshot
    shoot(driver, "print_sheet_a4", viewports=((1920, 1080),))


def test_print_gives_one_landscape_page_a4_and_a3(driver: Any, tmp_path: Path) -> None:
    out = _map(tmp_path, None, illustrative=False)
    _open(driver, out)
    driver.execute_script("window.cmPrint.open()")
    assert not driver.execute_script("return document.querySelector('.cm-sheet-badge')")
    # no build date: the sheet carries the day of printing (the browser's), the file none
    today = driver.execute_script(
        "var d = new Date(); return [d.getFullYear(), d.getMonth() + 1, d.getDate()];")
    assert driver.execute_script(
        "return document.querySelectorAll('.cm-sheet-info td')[1].textContent"
    ) == "{:04d}-{:02d}-{:02d}".format(*today)
    assert "{:04d}-{:02d}-{:02d}".format(*today) not in out.read_text(encoding="utf-8")
    pages = _pages(_print_pdf(driver, a3=False))
    assert len(pages) == 1
    w, h = pages[0]
    assert w == pytest.approx(842, abs=3) and h == pytest.approx(595, abs=3)  # A4 landscape, pt
    driver.execute_script("window.cmPrint.size('A3')")
    assert driver.execute_script("return !!document.getElementById('cm-page-a3')")
    pages = _pages(_print_pdf(driver, a3=True))
    assert len(pages) == 1
    assert pages[0][0] == pytest.approx(1191, abs=3)
    time.sleep(0.5)
    shoot(driver, "print_sheet_a3", viewports=((1920, 1080),))
    driver.execute_script("window.cmPrint.close()")
    assert driver.execute_script(VISIBLE, ".leaflet-control-zoom")
    assert not driver.execute_script(VISIBLE, ".cm-sheet")


def test_sheet_shows_the_county_or_the_view_and_an_editable_date(driver: Any,
                                                                  tmp_path: Path) -> None:
    out = _map(tmp_path, None)
    _open(driver, out)
    name = driver.execute_script(
        "return Object.keys(window).find(function(k){ return /^map_[0-9a-z]+$/.test(k); })")
    lonlat = small_region()["villages"].to_crs(4326).geometry
    v0 = lonlat.iloc[0]
    zoom_in = f"var m = window[{name!r}]; m.setView([{v0.y}, {v0.x}], 16, {{animate: false}});"
    assert _wait(driver, zoom_in + "return m.getZoom() === 16;")  # once the opening fit is done
    inside = (f"var m = window[{name!r}], b = m.getBounds(); return {[[p.y, p.x] for p in lonlat]}"
              ".filter(function(p){ return b.contains(p); }).length;")
    assert driver.execute_script(inside) < len(lonlat)  # zoomed in on one village
    driver.execute_script("window.cmPrint.open()")
    # the sheet shows the whole county by default: every village is on it
    assert _wait(driver, inside[:-1] + f" === {len(lonlat)};")
    # ... and fills its frame (fitted to the sheet's frame, not to the screen it came from)
    county = small_region()["boundaries"]["county"].to_crs(4326).total_bounds
    fill = (f"var m = window[{name!r}], a = m.latLngToContainerPoint([{county[1]}, {county[0]}]),"
            f" b = m.latLngToContainerPoint([{county[3]}, {county[2]}]), s = m.getSize();"
            " return Math.max(Math.abs(b.x - a.x) / s.x, Math.abs(b.y - a.y) / s.y);")
    time.sleep(0.5)
    assert 0.85 <= driver.execute_script(fill) <= 1.0
    driver.execute_script("var s = document.querySelector('.cm-print-extent');"
                          "s.value = 'view'; s.onchange();")
    assert driver.execute_script(inside) < len(lonlat)  # back to the view it was opened from
    driver.execute_script("var s = document.querySelector('.cm-print-extent');"
                          "s.value = 'county'; s.onchange();")
    assert driver.execute_script(inside) == len(lonlat)
    driver.execute_script("var d = document.querySelector('.cm-print-date');"
                          "d.value = '2027-01-15'; d.dispatchEvent(new Event('input'));")
    assert driver.execute_script(
        "return document.querySelectorAll('.cm-sheet-info td')[1].textContent") == "2027-01-15"
    assert not severe_console(driver)
    time.sleep(1.0)
    shoot(driver, "print_sheet_county", viewports=((1920, 1080),))
    driver.execute_script("window.cmPrint.close()")
