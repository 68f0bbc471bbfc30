"""Issue #14 point 11 in a headless Chromium: a raster clipped to the county, unused sites.

The tiny county of :mod:`tests.browser` (20 km x 10 km) under a hazard raster that is
10 km larger on every side, and three receiving sites of which one has nobody assigned.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from pyproj import CRS
from shapely.geometry import Point

from contigmap.raster import Raster
from contigmap.render import MapLayer, render_web_map
from contigmap.render.compose import relocation_map_layers
from tests.browser import (
    HAVE_BROWSER,
    UTM49N,
    X0,
    Y0,
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


def test_raster_clipped_and_unused_sites_hollow(tmp_path: Path) -> None:
    from PIL import Image

    rows, cols = 30, 40  # 1 km cells from 10 km west/south of the county to 10 km beyond
    grid = np.add.outer(np.linspace(0, 1, rows), np.linspace(0, 1, cols))
    hazard = Raster(grid, Affine(1000.0, 0, X0 - 10_000, 0, -1000.0, Y0 + 20_000),
                    CRS.from_user_input(UTM49N), "landslide")
    sites = gpd.GeoDataFrame(
        {"site_name": ["县城安置区", "空置安置点", "镇安置点"], "capacity_people": [500, 300, 200],
         "load_people": [420, 0, 35]},
        geometry=[Point(X0 + 3000, Y0 + 3000), Point(X0 + 10_000, Y0 + 6000),
                  Point(X0 + 17_000, Y0 + 4000)], crs=UTM49N)
    empty = gpd.GeoDataFrame(geometry=[], crs=UTM49N)
    plan: Any = type("Plan", (), {"candidates": empty, "sites": sites, "flows": empty})()
    (site_layer,) = relocation_map_layers(plan)
    site_layer.show = True
    out = render_web_map(
        tmp_path / "map.html", **small_region(), title="花垣县 滑坡易发性与安置点（测试）",
        source_note="测试数据 test fixture", illustrative=True,
        extra_layers=[MapLayer(name="滑坡易发性 Landslide", raster=hazard, opacity=0.8),
                      site_layer])
    d = make_driver(tmp_path, offline_network=True)
    try:
        d.set_window_size(1920, 1080)
        d.get(out.as_uri())
        assert wait_for(d, "return document.querySelectorAll('img.leaflet-image-layer').length")
        assert wait_for(d, "return document.querySelectorAll('path.cm-extra').length >= 3")
        # the overlay's own pixels: transparent where the raster lies outside the county
        src = d.execute_script("return document.querySelector('img.leaflet-image-layer').src")
        px = np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
                        .convert("RGBA"))
        h, w = px.shape[:2]
        assert px[h // 2, w // 2, 3] == 255          # the county's centre is drawn
        assert px[2, 2, 3] == 0 and px[h - 3, w - 3, 3] == 0   # corners 10 km outside: clear
        markers = d.execute_script(
            "return Array.from(document.querySelectorAll('path.cm-extra')).map(function(p){"
            "return [p.getAttribute('stroke'), p.getAttribute('fill-opacity')];});")
        assert sorted(map(tuple, markers)) == [
            ("#2166ac", "0.9"), ("#2166ac", "0.9"), ("#969696", "0")]
        legend = d.execute_script("return document.body.innerText")
        assert "未安置 unused" in legend
        assert not severe_console(d)
        shoot(d, "clipped_raster_unused_sites")
    finally:
        d.quit()
