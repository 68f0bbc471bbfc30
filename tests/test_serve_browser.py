"""``contigmap serve`` in a headless Chromium, offline (issue #18's 'done when').

uvicorn serves the demo region on 127.0.0.1 in a thread; the browser (every other host
unreachable) upgrades a road, closes another, draws a link, sees the headline numbers
change, undoes, saves, and the saved YAML reruns with ``contigmap scenario run``'s function
to the same per-village result the server gave.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import HAVE_BROWSER, make_driver, severe_console, shoot
from tests.test_serve import rerun_matches

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "layers" / "huayuan" / "region.yaml"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_BROWSER, reason="needs chromium and chromedriver"),
    pytest.mark.skipif(not DEMO.is_file(), reason="needs the demo region"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(demo_state: Any) -> Iterator[tuple[str, Any]]:
    import uvicorn

    from contigmap.serve import ServedRegion, create_app

    served = ServedRegion.from_state(demo_state)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(served), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/", served
    srv.should_exit = True
    thread.join(timeout=10)


def _wait(driver: Any, script: str, timeout: float = 20.0) -> Any:
    end = time.time() + timeout
    while time.time() < end:
        out = driver.execute_script(script)
        if out:
            return out
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


def _idle(driver: Any) -> None:
    _wait(driver, "return window.cmServe && window.cmServe.ready && !window.cmServe.busy;")


def _text(driver: Any, el_id: str) -> str:
    return str(driver.execute_script(f"return document.getElementById('{el_id}').textContent;"))


def _bus_and_compare(driver: Any, served: Any) -> None:
    """Place a bus line (drawn along roads, listed), note the scenario, compare it."""
    b = served.baseline.villages
    near = b[b["dist_road_m"] < 200].geometry.to_crs(4326)
    stops = [[float(p.y), float(p.x)] for p in near.iloc[[0, 3]]]
    driver.find_element("id", "btn-bus").click()
    for ll in stops:
        driver.execute_script(
            "var m = window.cmServe.map; m.fire('click', {latlng: L.latLng(arguments[0],"
            " arguments[1])});", *ll)
    driver.find_element("id", "btn-bus-done").click()
    _idle(driver)
    assert "公交线路 2 站" in _text(driver, "edits")
    line = driver.execute_script("return window.cmServe.last.bus_lines[0];")
    assert len(line["stops"]) == 2 and len(line["course"]) > 3  # along roads, not a chord
    assert driver.execute_script("return window.cmServe.busLayer.getLayers().length;") == 3
    driver.find_element("id", "btn-note").click()
    _wait(driver, "return window.cmServe.saved.length === 2;")
    driver.find_element("id", "btn-compare").click()
    _wait(driver, "return document.querySelectorAll('#cmp-table tr').length === 7;")
    cells = driver.execute_script(
        "return Array.from(document.querySelectorAll('#cmp-table tr')).map(function (r) {"
        " return Array.from(r.children).map(function (c) { return c.textContent; }); });")
    assert cells[4][0] == "投资（万元）"
    cost_a, cost_b = (float(x.replace(",", "")) for x in cells[4][1:])
    assert cost_b > cost_a > 0  # B adds the bus line to A's two edits
    assert "时间不同的村" in _text(driver, "cmp-n")
    driver.execute_script("document.getElementById('cmp-n').scrollIntoView();")
    shoot(driver, "serve_compare", viewports=((1280, 800),))


def test_edit_undo_save_rerun(server: tuple[str, Any], tmp_path: Path) -> None:
    """Upgrade, close, draw a link, watch the numbers, undo, save, rerun the YAML."""
    url, served = server
    # (make_driver's offline mode also unresolves 127.0.0.1; instead every resource the page
    # loaded is checked to come from the local server, below)
    driver = make_driver(tmp_path)
    try:
        driver.get(url)
        _idle(driver)
        roads = served.region_json()["roads"]["features"]
        unpaved = [f["properties"]["id"] for f in roads if f["properties"]["srf"] != "paved"]
        cost0 = _text(driver, "h-cost")
        # upgrade a road: click it, choose paved county road, press the button
        driver.execute_script("window.cmServe.roads[arguments[0]].fire('click');", unpaved[0])
        driver.execute_script("document.getElementById('sel-class').value = 'county';")
        driver.find_element("id", "btn-upgrade").click()
        _idle(driver)
        cost1 = _text(driver, "h-cost")
        assert cost1 != cost0
        # close another
        driver.execute_script("window.cmServe.roads[arguments[0]].fire('click');", unpaved[1])
        driver.find_element("id", "btn-close").click()
        _idle(driver)
        # draw a link: two clicks on the map, snapped to junctions by the server
        driver.find_element("id", "btn-draw").click()
        for ll in ([28.58, 109.47], [28.6, 109.5]):
            driver.execute_script(
                "var m = window.cmServe.map; m.fire('click', {latlng: L.latLng(arguments[0],"
                " arguments[1])});", *ll)
        _idle(driver)
        cost3 = _text(driver, "h-cost")
        assert cost3 != cost1
        assert driver.execute_script("return window.cmServe.last.edits.length;") == 3
        changed = driver.execute_script("return window.cmServe.last.headline.villages_changed;")
        assert changed > 0
        shoot(driver, "serve_three_edits", viewports=((1280, 800),))
        # undo the link: the numbers go back to the two-edit state
        driver.find_element("id", "btn-undo").click()
        _idle(driver)
        assert driver.execute_script("return window.cmServe.last.edits.length;") == 2
        cost_undone = _text(driver, "h-cost")
        assert cost_undone != cost3
        grey = driver.execute_script(
            "var n = 0; Object.values(window.cmServe.villages).forEach(function (v) {"
            " if (v.change) { n++; } }); return n;")
        assert grey == driver.execute_script(
            "return window.cmServe.last.headline.villages_changed;")
        driver.find_element("id", "btn-save").click()
        text = _wait(driver, "return window.cmServe.lastYaml;")
        assert "type: upgrade" in text and "type: close" in text and "type: build" not in text
        assert not severe_console(driver)
        loaded = driver.execute_script(
            "return performance.getEntriesByType('resource').map(function (e) {"
            " return e.name; });")
        assert loaded and all(u.startswith(url) or u.startswith("blob:") for u in loaded)
        served_villages = driver.execute_script("return window.cmServe.last.villages;")
        _bus_and_compare(driver, served)
    finally:
        driver.quit()
    import pandas as pd

    csv = rerun_matches(served, text, tmp_path)
    cli = pd.read_csv(csv, dtype={"village_id": str}).set_index("village_id")
    for v in served_villages:
        want = cli.loc[v["id"], "tt_own_township_seat_min"]
        gone = pd.isna(want) or want == float("inf")
        assert (v["own"] is None and gone) or v["own"] == pytest.approx(want, abs=1e-3)
