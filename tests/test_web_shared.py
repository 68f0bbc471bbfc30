"""Point layers sharing one copy of their coordinates (render/web_shared.py, brief s16a)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import Point

from contigmap.render import MapLayer, render_web_map
from contigmap.render.web_shared import coded
from tests.browser import (
    HAVE_BROWSER,
    UTM49N,
    X0,
    XSS_IMG,
    XSS_NAME,
    Y0,
    make_driver,
    severe_console,
    small_region,
    wait_for,
)


def _hamlets(names: list[str]) -> gpd.GeoDataFrame:
    xy = [(2000 + 1500 * k, 2000 + 700 * k) for k in range(len(names))]
    return gpd.GeoDataFrame(
        {"name": names, "pop": [100 + k for k in range(len(names))],
         "tier": ["1", "2", "1", "0"][: len(names)],
         "reasons": [f"理由{k % 2}" for k in range(len(names))]},
        geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=UTM49N)


def _layers(h: gpd.GeoDataFrame, share: str | None) -> list[MapLayer]:
    tiers = MapLayer(name="自然村：优先级 Hamlets: tier", data=h, color_column="tier",
                     color_map={"1": "#d7191c", "2": "#fdae61", "0": "#ffffff"},
                     tooltip_columns=["name", "tier"], popup_columns=["name", "tier", "reasons"],
                     labels={"name": "自然村", "reasons": "理由"}, show=True, share=share)
    plain = MapLayer(name="自然村 Hamlets", data=h, color="#555555", tooltip_columns=["name"],
                     show=True, share=share)
    return [tiers, plain]


def _render(tmp_path: Path, layers: list[MapLayer], name: str) -> str:
    out = render_web_map(tmp_path / name, **small_region(), extra_layers=layers,
                         title="测试", source_note="test", illustrative=True)
    return out.read_text(encoding="utf-8")


def test_coded_lists_each_value_once_in_order_of_appearance() -> None:
    assert coded(["b", "a", "b", "", "a"]) == [["b", "a", ""], [0, 1, 0, 2, 1]]
    assert coded([]) == [[], []]


def _shared_blocks(page: str) -> list[dict[str, Any]]:
    dec = json.JSONDecoder()
    out = []
    for m in re.finditer(r"first = ", page):
        value, _ = dec.raw_decode(page, m.end())
        out.append(value)
    return out


def test_layers_of_one_key_write_the_points_once(tmp_path: Path) -> None:
    h = _hamlets(["上寨", "下寨", "中寨", "新寨"])
    shared = _render(tmp_path, _layers(h, "hamlets"), "shared.html")
    blocks = _shared_blocks(shared)
    assert len(blocks) == 2 and blocks[1] is None  # the second layer refers to the first
    lonlat = h.geometry.to_crs(4326)
    assert blocks[0]["lat"] == [round(p.y, 5) for p in lonlat]
    assert blocks[0]["lon"] == [round(p.x, 5) for p in lonlat]
    own = _render(tmp_path, _layers(h, None), "own.html")
    assert '"type":"Point"' in own and '"type":"Point"' not in shared
    # the hamlet names are written once per layer tooltip dictionary, not per feature
    assert shared.count("理由1") == 1 and own.count("理由1") == 2


def test_other_points_under_the_same_key_get_their_own_copy(tmp_path: Path) -> None:
    h = _hamlets(["上寨", "下寨", "中寨"])
    tiers, plain = _layers(h, "hamlets")
    plain.data = _hamlets(["上寨", "下寨"])  # not the same points: cannot share
    page = _render(tmp_path, [tiers, plain], "mixed.html")
    assert len(_shared_blocks(page)) == 1
    assert page.count('"type":"Point"') == 2


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not HAVE_BROWSER, reason="chromium and chromedriver are not installed")
def test_shared_points_draw_tooltips_and_escaped_popups(tmp_path: Path) -> None:
    h = _hamlets(["上寨", XSS_NAME, XSS_IMG, "新寨"])
    page = tmp_path / "map.html"
    page.write_text(_render(tmp_path, _layers(h, "hamlets"), "x.html"), encoding="utf-8")
    d = make_driver(tmp_path, offline_network=True)
    try:
        d.get(page.as_uri())
        assert wait_for(d, "return document.querySelectorAll('path.cm-extra').length == 8")
        fills = d.execute_script(
            "return Array.from(document.querySelectorAll('path.cm-extra'))"
            ".map(function(p){ return p.getAttribute('fill'); });")
        assert sorted(fills) == sorted(["#d7191c", "#fdae61", "#d7191c", "#ffffff"]
                                       + ["#555555"] * 4)
        # open the second hamlet's popup in the tier layer: values escaped, rows in order
        d.execute_script(
            "var g = Object.values(window).find(function(v){"
            " return v instanceof L.FeatureGroup && v.getLayers().length == 4"
            " && v.getLayers()[0].getPopup(); });"
            "g.getLayers()[1].openPopup();")
        card = wait_for(d, "var c = document.querySelector('.leaflet-popup-content .cm-card');"
                        "return c && c.innerText;")
        assert XSS_NAME in card and "理由1" in card and "自然村" in card
        assert d.execute_script("return document.querySelectorAll("
                                "'.leaflet-popup-content script, img').length") == 0
        assert severe_console(d) == []
    finally:
        d.quit()


def test_script_json_escapes_what_could_end_the_script_only() -> None:
    from contigmap.render.web_page import js_json

    # '<' (so no '</script' and no '<!--'), U+2028 and U+2029; '>' and '&' are inert there
    assert js_json("</script><!--a&b>\u2028\u2029") == (
        '"\\u003c/script>\\u003c!--a&b>\\u2028\\u2029"')
    assert json.loads(js_json({"k": "</SCRIPT >&amp;"})) == {"k": "</SCRIPT >&amp;"}
