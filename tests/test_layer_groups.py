"""The layer list for a meeting (#14 point 8): headings set where layers are drawn.

A layer's heading comes from :class:`~contigmap.render.web_extra.MapLayer`'s ``group``
(no longer from keywords in its name), hazard layers get readable names, and the list,
search box and title stay within their boxes at 1280 × 720 and on a phone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from contigmap.errors import ValidationError
from contigmap.render import MapLayer, render_web_map
from contigmap.render.web_page import LAYER_GROUPS
from tests.browser import (
    HAVE_BROWSER,
    UTM49N,
    X0,
    Y0,
    make_driver,
    severe_console,
    shoot,
    small_region,
)


def test_unknown_group_is_refused() -> None:
    pts = gpd.GeoDataFrame(geometry=[Point(X0, Y0)], crs=UTM49N)
    with pytest.raises(ValidationError, match="group 'roads' is not one of base, network"):
        MapLayer(name="x", data=pts, group="roads")


def test_layer_title_names_known_and_unknown_hazard_keys() -> None:
    from types import SimpleNamespace

    from contigmap.config import LayerSpec
    from contigmap.render.compose import layer_title

    specs = {"geo": LayerSpec(path=Path("a.gpkg")),
             "geo_points": LayerSpec(path=Path("b.csv")),
             "debris_points": LayerSpec(path=Path("c.csv")),
             "mine": LayerSpec(path=Path("d.gpkg"), title="采空区 Mined-out area")}
    data: Any = SimpleNamespace(config=SimpleNamespace(layers=SimpleNamespace(
        hazards=specs, ecology={"wetland": LayerSpec(path=Path("e.gpkg"))})))
    assert layer_title(data, "hazards", "geo") == "地质灾害易发区 Geohazard-prone zones"
    assert layer_title(data, "hazards", "geo_points") == "地质灾害隐患点 Geohazard sites"
    assert layer_title(data, "hazards", "debris_points") == "灾害隐患点：debris"
    assert layer_title(data, "hazards", "mine") == "采空区 Mined-out area"
    assert layer_title(data, "ecology", "wetland") == "生态：wetland"




@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("groups")
    region = small_region()
    zone = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 5000, Y0 + 5000)], crs=UTM49N)
    sites = gpd.GeoDataFrame(geometry=[Point(X0 + 9000, Y0 + 4000)], crs=UTM49N)
    layers = [
        # names that the old keyword guess put elsewhere: "路" (network), "site" (relocation)
        MapLayer(name="泥石流沟道路段 Debris-flow gully", data=zone, group="hazards", show=False),
        MapLayer(name="site survey points", data=sites, group="base", show=False),
        MapLayer(name="用户图层 user layer", data=sites, show=False),  # no group: guessed
    ]
    out = render_web_map(tmp / "map.html", **region, extra_layers=layers,
                         title="花垣县 村级地图（测试）", source_note="测试数据 test fixture",
                         illustrative=True)
    d = make_driver(tmp, offline_network=True)
    d.set_window_size(1280, 720)
    d.get(out.as_uri())
    end = time.monotonic() + 15
    while not d.execute_script("return document.querySelectorAll('.cm-lyr-head').length > 0") \
            and time.monotonic() < end:
        time.sleep(0.05)
    try:
        yield d
    finally:
        d.quit()


def _heading_of(driver: Any) -> dict[str, str]:
    return dict(driver.execute_script(
        "var out = {}, head = '';"
        "document.querySelectorAll('.leaflet-control-layers-overlays > *').forEach(function(e){"
        " if (e.classList.contains('cm-lyr-head')) head = e.textContent;"
        " else out[e.textContent.trim()] = head; }); return out;"))


@pytest.mark.browser
@pytest.mark.skipif(not HAVE_BROWSER, reason="chromium and chromedriver are not installed")
def test_groups_come_from_where_layers_are_drawn(page: Any) -> None:
    heads = _heading_of(page)
    assert heads["泥石流沟道路段 Debris-flow gully"] == LAYER_GROUPS["hazards"]
    assert heads["site survey points"] == LAYER_GROUPS["base"]
    assert heads["用户图层 user layer"] == LAYER_GROUPS["base"]  # guessed: no keyword matches
    assert heads["乡镇界 Township boundaries"] == LAYER_GROUPS["base"]
    shown = [h for h in LAYER_GROUPS.values() if h in set(heads.values())]
    order = page.execute_script(
        "return Array.from(document.querySelectorAll('.cm-lyr-head'))"
        ".map(function(h){ return h.textContent; });")
    assert order == shown  # headings in LAYER_GROUPS order


@pytest.mark.browser
@pytest.mark.skipif(not HAVE_BROWSER, reason="chromium and chromedriver are not installed")
def test_open_list_and_search_stay_in_their_boxes(page: Any) -> None:
    page.execute_script("cmLayerControl.expand();")
    rects = page.execute_script(
        "function r(s){ var b = document.querySelector(s).getBoundingClientRect();"
        " return [b.left, b.top, b.right, b.bottom]; }"
        "return [r('.leaflet-control-layers'), r('.cm-title')];")
    lst, title = rects
    assert lst[0] >= title[2] or lst[1] >= title[3]  # beside the title or below it
    # the placeholder fits the search box (measured in the box's own font)
    fits = page.execute_script(
        "var i = document.querySelector('#cm-search-input'), s = getComputedStyle(i);"
        "var c = document.createElement('canvas').getContext('2d'); c.font = s.font;"
        "var pad = parseFloat(s.paddingLeft) + parseFloat(s.paddingRight);"
        "return c.measureText(i.placeholder).width <= i.clientWidth - pad + 1;")
    assert fits
    shoot(page, "layer_groups", viewports=((1280, 720),))
    page.set_window_size(390, 844)
    inner = page.execute_script("return [window.innerWidth, window.innerHeight];")
    page.set_window_size(390 + 390 - int(inner[0]), 844 + 844 - int(inner[1]))
    time.sleep(0.3)
    boxes = page.execute_script(
        "function r(e){ var b = e.getBoundingClientRect(); return [b.left, b.top, b.right,"
        " b.bottom]; }"
        "var t = r(document.querySelector('.cm-title'));"
        "return [t, Array.from(document.querySelectorAll('.leaflet-top.leaflet-left"
        " .leaflet-control:not(.leaflet-control-zoom)')).map(r)];")
    title, controls = boxes
    for c in controls:  # the controls under the zoom buttons start below the title
        assert c[1] >= title[3] or c[2] <= title[0]
    assert page.execute_script(
        "var i = document.querySelector('#cm-search-input'), s = getComputedStyle(i);"
        "var c = document.createElement('canvas').getContext('2d'); c.font = s.font;"
        "return c.measureText(i.placeholder).width <= i.clientWidth;")
    shoot(page, "layer_groups_phone", viewports=((390, 844),))
    page.set_window_size(1280, 720)
    assert severe_console(page) == []
