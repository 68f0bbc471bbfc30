"""Helpers for the map tests: a tiny region and a headless Chromium driven by selenium."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import LineString, Point, box

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
HAVE_BROWSER = CHROMIUM is not None and CHROMEDRIVER is not None

XSS_NAME = "<script>alert(1)</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'
XSS_CLOSE = "</script><script>alert(1)</script>"


def injection_payloads(tmp_path: Path) -> list[str]:
    """Template and markup injections; the last one creates ``tmp_path / "pwned"`` if run."""
    return [
        "{{7*7}}",
        "{% raw %}",
        "{# x #}",
        XSS_NAME,
        XSS_IMG,
        XSS_CLOSE,
        "{{ lipsum.__globals__.os.makedirs('" + (tmp_path / "pwned").as_posix() + "') }}",
    ]

UTM49N = "EPSG:32649"
X0, Y0 = 350_000.0, 3_160_000.0  # near 花垣县 (109.5 E, 28.6 N)


def small_region() -> dict[str, Any]:
    """A 20 km x 10 km county, two townships, six villages and a few roads (UTM 49N)."""
    county = gpd.GeoDataFrame(
        {"county_id": ["433124"], "name": ["花垣县"]},
        geometry=[box(X0, Y0, X0 + 20_000, Y0 + 10_000)],
        crs=UTM49N,
    )
    towns = gpd.GeoDataFrame(
        {"township_id": ["433124100", "433124101"], "name": ["花垣镇", "双龙镇"]},
        geometry=[
            box(X0, Y0, X0 + 10_000, Y0 + 10_000),
            box(X0 + 10_000, Y0, X0 + 20_000, Y0 + 10_000),
        ],
        crs=UTM49N,
    )
    names = ["十八洞村", "排碧村", XSS_NAME, "董马库村", XSS_IMG, "紫霞村"]
    xy = [(3000, 3000), (7000, 6000), (5000, 8000), (13000, 2500), (16000, 7000), (18000, 4000)]
    villages = gpd.GeoDataFrame(
        {
            "village_id": [f"4331241{i:02d}201" for i in range(6)],
            "name": names,
            "township_id": ["433124100"] * 3 + ["433124101"] * 3,
            "pop": [939, 1200, 800, 1500, 650, 2000],
            "poor_pop": [533, 120, 160, 450, 325, 100],
            "poverty_incidence": [533 / 939, 0.1, 0.2, 0.3, 0.5, 0.05],
            "main_causes": [
                "illness;lack_of_skills",
                "缺资金",
                XSS_IMG,
                "poor_transport",
                "",
                None,
            ],
            "tt_own_township_seat_min": [25.0, 10.0, 70.0, 45.0, 130.0, 5.0],
        },
        geometry=[Point(X0 + x, Y0 + y) for x, y in xy],
        crs=UTM49N,
    )
    roads = gpd.GeoDataFrame(
        {
            "road_id": [f"r{i}" for i in range(6)],
            "road_class": ["county", "county", "township", "village", "track", "path"],
            "surface": ["paved", "paved", "paved", "gravel", "earth", "earth"],
        },
        geometry=[
            LineString([(X0 + 1000, Y0 + 5000), (X0 + 10_000, Y0 + 5200)]),
            LineString([(X0 + 10_000, Y0 + 5200), (X0 + 19_000, Y0 + 5000)]),
            LineString([(X0 + 3000, Y0 + 3000), (X0 + 5000, Y0 + 5100)]),
            LineString([(X0 + 7000, Y0 + 6000), (X0 + 5000, Y0 + 8000)]),
            LineString(
                [(X0 + 13_000, Y0 + 2500), (X0 + 13_000, Y0 + 5100), (X0 + 16_000, Y0 + 7000)]
            ),
            LineString([(X0 + 18_000, Y0 + 4000), (X0 + 19_000, Y0 + 5000)]),
        ],
        crs=UTM49N,
    )
    return {
        "villages": villages,
        "roads": roads,
        "boundaries": {"county": county, "townships": towns},
    }


def make_driver(tmp_path: Path, *, offline_network: bool = False) -> Any:
    """A headless Chromium with a fresh profile, logging the browser console.

    ``offline_network=True`` makes every host unresolvable and every request go to a
    dead proxy, so any attempt to fetch a resource fails.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,860",
        "--allow-file-access-from-files",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        opts.add_argument(flag)
    if offline_network:
        opts.add_argument("--host-resolver-rules=MAP * ~NOTFOUND")
        opts.add_argument("--proxy-server=127.0.0.1:9")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER))
    return webdriver.Chrome(service=service, options=opts)


def severe_console(driver: Any) -> list[dict[str, Any]]:
    """Console entries at level SEVERE (JavaScript errors, failed loads)."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def wait_for(driver: Any, script: str, timeout_s: float = 10.0) -> Any:
    """Run ``script`` until it returns a true value or ``timeout_s`` passed; return the value."""
    end = time.monotonic() + timeout_s
    while True:
        value = driver.execute_script(script)
        if value or time.monotonic() > end:
            return value
        time.sleep(0.05)


def load_time_ms(driver: Any) -> float:
    """Navigation time from start to the load event's end, in milliseconds."""
    return float(
        driver.execute_script(
            "var n = performance.getEntriesByType('navigation')[0];"
            "return n ? n.loadEventEnd - n.startTime : -1;"
        )
    )


def hostile_map_args(payload: str, *, raster: bool = True) -> dict[str, Any]:
    """Arguments of ``render_web_map`` with ``payload`` in every kind of data text.

    The payload is in a village name (``payload + "村"``), a township name (``+ "镇"``),
    the title (``+ "县"``), the source note, a village's causes, option and reasons,
    the key figures, an extra layer's name, column labels, values and legend, a raster
    layer's name, and a road scenario's name (through
    :func:`contigmap.planning.scenario_map_layers`).
    """
    from types import SimpleNamespace

    import numpy as np
    from affine import Affine
    from pyproj import CRS

    from contigmap.planning import scenario_map_layers
    from contigmap.raster import Raster
    from contigmap.render import MapLayer

    reg = small_region()
    v = reg["villages"]
    v.loc[0, "name"] = payload + "村"
    v.loc[0, "main_causes"] = payload
    v["roads_tier"] = [1, 2, 3, 1, 2, 4]
    v["roads_option"] = [payload, "harden", "new_road", "none", "harden", "none"]
    v["roads_reasons"] = [payload, "远", "近", "", "中", "远"]
    reg["boundaries"]["townships"].loc[0, "name"] = payload + "镇"
    scenario_villages = v[["name", "geometry"]].copy()
    scenario_villages["d_tt_own_township_seat_min"] = [-20.0, -5.0, 0.0, 0.0, -40.0, np.nan]
    scenario_villages["lost_access"] = [False] * 5 + [True]
    changed = reg["roads"].head(2).copy()
    changed["change"] = [payload, "harden"]
    changed["cost_cny"] = [1e6, 2e6]
    result = SimpleNamespace(
        scenario=SimpleNamespace(name=payload), villages=scenario_villages, changed_roads=changed
    )
    layers = [
        MapLayer(
            name=payload + " layer",
            data=v[["name", "main_causes", "geometry"]].copy(),
            color_column="main_causes",
            color_map={payload: "#00aa00"},
            tooltip_columns=["name", "main_causes"],
            popup_columns=["name", "main_causes"],
            labels={"main_causes": payload + " label"},
            legend=[("#00aa00", payload + " legend")],
        ),
        *scenario_map_layers([result]),  # type: ignore[list-item]
    ]
    if raster:
        arr = np.arange(12.0).reshape(3, 4)
        tr = Affine(1000.0, 0, X0, 0, -1000.0, Y0 + 3000)
        layers.append(
            MapLayer(name=payload + " raster", raster=Raster(arr, tr, CRS.from_user_input(UTM49N),
                                                             "r"), show=False)
        )
    return {
        **reg,
        "extra_layers": layers,
        "title": payload + "县",
        "source_note": "source " + payload,
        "illustrative": True,
        "facts": [(payload + " fact", payload)],
    }


#: Window sizes a map is looked at in (issue #14): a 1080p projector, a laptop, a phone.
VIEWPORTS: tuple[tuple[int, int], ...] = ((1920, 1080), (1280, 720), (390, 844))


def screenshot_dir() -> Path:
    """Folder the browser tests save their screenshots in (``CONTIGMAP_SCREENSHOTS``,
    default ``build/screenshots``; git-ignored, kept after the run for people to look at)."""
    import os

    folder = Path(os.environ.get("CONTIGMAP_SCREENSHOTS", "build/screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(driver: Any, name: str,
          viewports: tuple[tuple[int, int], ...] = VIEWPORTS) -> list[Path]:
    """Save a PNG of the current page at each viewport: ``<name>_<w>x<h>.png``.

    The window is resized so that the page's viewport (not the outer window) has the size.
    """
    saved = []
    for w, h in viewports:
        driver.set_window_size(w, h)
        inner = driver.execute_script("return [window.innerWidth, window.innerHeight];")
        driver.set_window_size(w + (w - int(inner[0])), h + (h - int(inner[1])))
        path = screenshot_dir() / f"{name}_{w}x{h}.png"
        driver.save_screenshot(str(path))
        saved.append(path)
    return saved
