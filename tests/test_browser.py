"""The interactive map in a real headless Chromium: console, markers, layers, offline, escaping."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contigmap.render import render_web_map
from tests.browser import (
    HAVE_BROWSER,
    XSS_IMG,
    XSS_NAME,
    hostile_map_args,
    injection_payloads,
    load_time_ms,
    make_driver,
    severe_console,
    small_region,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_BROWSER, reason="chromium and chromedriver are not installed"),
]

N_VILLAGES = 6  # rows of the fixture's village table


def _map(tmp_path: Path, **kw: Any) -> Path:
    args: dict[str, Any] = {
        **small_region(),
        "title": "花垣县 村级地图（测试）",
        "source_note": "测试数据 test fixture",
        "illustrative": True,
        **kw,
    }
    return render_web_map(tmp_path / "map.html", **args)


def _count(driver: Any, selector: str) -> int:
    return int(driver.execute_script(f"return document.querySelectorAll({selector!r}).length;"))


def _wait(driver: Any, script: str, *args: Any, timeout_s: float = 5.0) -> Any:
    end = time.monotonic() + timeout_s
    while True:
        value = driver.execute_script(script, *args)
        if value or time.monotonic() > end:
            return value
        time.sleep(0.05)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One browser for the online tests (starting Chromium takes 2-3 s)."""
    d = make_driver(tmp_path_factory.mktemp("chromium"))
    try:
        yield d
    finally:
        d.quit()


@pytest.fixture
def offline_driver(tmp_path: Path) -> Iterator[Any]:
    d = make_driver(tmp_path, offline_network=True)
    try:
        yield d
    finally:
        d.quit()


def test_map_opens_counts_markers_switches_layer(
    tmp_path: Path, driver: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _map(tmp_path)
    driver.get(out.as_uri())
    assert _wait(driver, "return document.querySelectorAll('path.cm-village').length > 0;")
    with capsys.disabled():
        print(
            f"\nfixture map: {out.stat().st_size / 1e3:.0f} kB, load {load_time_ms(driver):.0f} ms"
        )
    assert severe_console(driver) == []
    assert driver.execute_script("return document.characterSet;") == "UTF-8"
    # one circle per village in the first (shown) indicator layer; roads and boundaries drawn
    assert _count(driver, "path.cm-village") == N_VILLAGES
    assert _count(driver, "path.cm-vl-0") == N_VILLAGES
    # one line per class and surface: county+paved (2 segments merged), township+paved,
    # village+gravel, track+earth, path+earth
    assert _count(driver, "path.cm-road") == 5
    assert _count(driver, "path.cm-boundary") == 3  # county + 2 townships
    labels = driver.execute_script(
        "return Array.from(document.querySelectorAll('.cm-label')).map(e => e.textContent);"
    )
    assert sorted(labels) == ["双龙镇", "花垣镇"]
    assert "花垣县 村级地图（测试）" in driver.find_element("css selector", ".cm-title").text
    assert "示意数据" in driver.find_element("css selector", ".cm-note").text

    # switch on the travel-time layer in the layer control, then switch off incidence
    rows = driver.find_elements("css selector", ".leaflet-control-layers-overlays label")
    by_text = {r.text.strip(): r for r in rows}
    tt = next(r for t, r in by_text.items() if "到本乡镇驻地时间" in t)
    inc = next(r for t, r in by_text.items() if "贫困发生率" in t)
    legend_visible = "return Array.from(document.querySelectorAll('.cm-legend'))" + (
        ".filter(e => e.style.display !== 'none').map(e => e.textContent);"
    )
    assert not any("到本乡镇驻地时间" in t for t in driver.execute_script(legend_visible))
    tt.find_element("css selector", "input").click()
    # village themes are radio buttons (#14): travel time replaces incidence
    assert _count(driver, "path.cm-vl-1") == N_VILLAGES
    assert any("到本乡镇驻地时间" in t for t in driver.execute_script(legend_visible))
    assert _count(driver, "path.cm-village") == N_VILLAGES
    assert _count(driver, "path.cm-vl-0") == 0
    assert not any("贫困发生率" in t for t in driver.execute_script(legend_visible))
    assert inc.find_element("css selector", "input").get_attribute("type") == "radio"

    # search opens the village's card
    box = driver.find_element("css selector", "#cm-search-input")
    box.send_keys("十八洞村\n")
    content = _wait(
        driver,
        "var e = document.querySelector('.leaflet-popup-content'); return e && e.innerText;",
    )
    assert "十八洞村" in content and "56.8%" in content and "因病、缺技术" in content
    assert severe_console(driver) == []
    shot = tmp_path / "map.png"
    driver.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_offline_file_works_without_network(tmp_path: Path, offline_driver: Any) -> None:
    out = _map(tmp_path)
    text = out.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\ssrc\s*=\s*[\"']?https?:", text, re.I)
    assert not re.search(r"<link[^>]*\shref\s*=\s*[\"']?https?:", text, re.I)
    offline_driver.get(out.as_uri())
    assert _wait(offline_driver, "return typeof L !== 'undefined' && !!window.cmVillages;")
    assert _wait(offline_driver, "return document.querySelectorAll('path.cm-village').length;") == (
        N_VILLAGES
    )
    assert severe_console(offline_driver) == []
    # the network really is off: a fetch of a remote URL fails
    failed = offline_driver.execute_async_script(
        "var done = arguments[0];"
        "fetch('https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js')"
        ".then(() => done(false), () => done(true));"
    )
    assert failed is True
    offline_driver.get_log("browser")  # drop the expected failure from the log
    rows = offline_driver.find_elements("css selector", ".leaflet-control-layers-overlays input")
    rows[-1].click()  # the last overlay: travel time, a radio button replacing incidence
    assert _count(offline_driver, "path.cm-vl-1") == N_VILLAGES
    offline_driver.save_screenshot(str(tmp_path / "offline.png"))


def test_escaping_in_browser(tmp_path: Path, driver: Any) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    out = _map(tmp_path, title=XSS_IMG, source_note=XSS_NAME)
    driver.get(out.as_uri())
    assert _wait(driver, "return document.querySelectorAll('path.cm-village').length > 0;")
    for name in (XSS_NAME, XSS_IMG):
        box = driver.find_element("css selector", "#cm-search-input")
        box.clear()
        box.send_keys(name + "\n")
        content = _wait(
            driver,
            "var e = document.querySelector('.leaflet-popup-content h3');"
            "return e && e.textContent === arguments[0] && e.textContent;",
            name,
        )
        assert content == name
        # hovering shows the tooltip as text too
        driver.execute_script(
            "var V = window.cmVillages;"
            "var i = V.data.q.findIndex(q => q.startsWith(arguments[0]));"
            "V.markers[0][i].openTooltip();",
            name,
        )
        tips = driver.execute_script(
            "return Array.from(document.querySelectorAll('.leaflet-tooltip'))"
            ".map(e => e.textContent);"
        )
        assert any(t.startswith(name) for t in tips)
    assert driver.find_element("css selector", ".cm-title h1").text == XSS_IMG
    assert XSS_NAME in driver.find_element("css selector", ".cm-note").text
    assert driver.title == XSS_IMG
    with pytest.raises(NoAlertPresentException):
        _ = driver.switch_to.alert.text
    assert _count(driver, "img") == 0
    # folium's L_NO_TOUCH flags, Leaflet, the map: nothing from the data
    assert driver.execute_script("return document.querySelectorAll('script').length;") == 3
    assert severe_console(driver) == []


@pytest.mark.parametrize("k", range(7))
def test_injection_payloads_shown_as_text(tmp_path: Path, driver: Any, k: int) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    payload = injection_payloads(tmp_path)[k]
    out = render_web_map(tmp_path / "map.html", **hostile_map_args(payload))
    assert not (tmp_path / "pwned").exists()
    driver.get(out.as_uri())
    assert _wait(driver, "return document.querySelectorAll('path.cm-village').length > 0;")
    with pytest.raises(NoAlertPresentException):
        _ = driver.switch_to.alert.text
    assert severe_console(driver) == []
    # nothing from the data became an element: folium's flags, Leaflet, the map script
    assert driver.execute_script("return document.querySelectorAll('script').length;") == 3
    assert _count(driver, "img[onerror], img[src='x']") == 0
    text_of = "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent);"
    assert driver.execute_script(text_of, ".cm-title h1") == [payload + "县"]
    assert driver.title == payload + "县"
    assert driver.execute_script(text_of, ".cm-note")[0].startswith("source " + payload)
    assert payload + "镇" in driver.execute_script(text_of, ".cm-label")
    layers = [t.strip() for t in driver.execute_script(
        text_of, ".leaflet-control-layers-overlays label span span")]
    for name in (f"{payload} layer", f"{payload} raster", f"情景 {payload}：村 villages"):
        assert name in layers, layers
    legends = " ".join(driver.execute_script(text_of, ".cm-legend"))
    assert f"{payload} legend" in legends
    assert f"情景 {payload}：改建/硬化 upgraded road" in legends
    facts = driver.execute_script(text_of, ".cm-facts th")
    assert facts == [payload + " fact"]
    # the search finds the village by its name and its card shows it as text
    box = driver.find_element("css selector", "#cm-search-input")
    box.clear()
    box.send_keys(f"{payload}村（{payload}镇）\n")
    shown = _wait(
        driver,
        "var e = document.querySelector('.leaflet-popup-content h3');"
        "return e && e.textContent === arguments[0] && e.textContent;",
        payload + "村",
    )
    assert shown == payload + "村"
    card = driver.execute_script(text_of, ".leaflet-popup-content td")
    assert card.count(payload) == 2 and f"{payload} ({payload})" in card
    with pytest.raises(NoAlertPresentException):
        _ = driver.switch_to.alert.text
    assert severe_console(driver) == []
    assert not (tmp_path / "pwned").exists()


DEMO = Path(__file__).resolve().parents[1] / "layers" / "huayuan"


def _demo_layers() -> dict[str, Any]:
    """The committed demo region read with geopandas directly (no pipeline)."""
    import geopandas as gpd
    import pandas as pd

    v = gpd.read_file(DEMO / "villages.gpkg", layer="villages").rename(
        columns={"村代码": "village_id", "村名": "name", "乡镇代码": "township_id", "人口": "pop"}
    )
    v["village_id"] = v["village_id"].astype(str)
    hh = pd.read_csv(DEMO / "households.csv", dtype={"village_code": str})
    hh["poor_members"] = hh["members"] * hh["poor"].astype(int)
    agg = hh.groupby("village_code").agg(n=("members", "sum"), poor_pop=("poor_members", "sum"))
    v = v.merge(agg, left_on="village_id", right_index=True, how="left")
    v["poverty_incidence"] = v["poor_pop"] / v["n"]
    ham = pd.read_csv(DEMO / "hamlets.csv")
    hamlets = gpd.GeoDataFrame(ham, geometry=gpd.points_from_xy(ham.lon, ham.lat), crs=4326)
    return {
        "villages": v.drop(columns="n"),
        "roads": gpd.read_parquet(DEMO / "roads.parquet"),
        "boundaries": {
            k: gpd.read_file(DEMO / "boundaries.gpkg", layer=k) for k in ("county", "townships")
        },
        "hamlets": hamlets,
    }


@pytest.mark.slow
@pytest.mark.skipif(not (DEMO / "villages.gpkg").exists(), reason="demo layers not generated")
def test_demo_map_size_and_load_time(
    tmp_path: Path, offline_driver: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from contigmap.render import MapLayer

    layers = _demo_layers()
    hamlets = layers.pop("hamlets")
    out = render_web_map(
        tmp_path / "huayuan.html",
        **layers,
        extra_layers=[
            MapLayer(
                name="自然村 Hamlets", data=hamlets, radius=2, show=False, tooltip_columns=["name"]
            )
        ],
        title="花垣县（示意）",
        source_note="contigmap demo",
        illustrative=True,
    )
    size = out.stat().st_size
    assert size < 10 * 1024 * 1024
    times = []
    for _ in range(2):  # the faster of two loads: the machine is shared
        offline_driver.get(out.as_uri())
        assert _wait(offline_driver, "return !!window.cmVillages;")
        times.append(load_time_ms(offline_driver))
    n = len(layers["villages"])
    assert _count(offline_driver, "path.cm-village") == n
    assert severe_console(offline_driver) == []
    with capsys.disabled():
        print(f"\ndemo map: {size / 1e6:.2f} MB, {n} villages, load {min(times):.0f} ms")
    assert min(times) < 30_000  # a hang guard only: load speed is printed, not timed in tests
