"""End to end on the committed demo region, 花垣县 (issue 2's "must show")."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from contigmap.dryrun import validation_report
from contigmap.io.outdir import MARKER_NAME
from contigmap.manifest import MANIFEST_NAME
from contigmap.pipeline import RunResult, run
from tests.browser import HAVE_BROWSER, load_time_ms, make_driver, severe_console

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "layers" / "huayuan" / "region.yaml"
NBS = ROOT / "src" / "contigmap" / "data" / "huayuan" / "villages.csv"

pytestmark = pytest.mark.slow


SCENARIOS = sorted((ROOT / "scenarios").glob("huayuan_*.yaml"))


def test_validate_reports_the_real_county() -> None:
    report = validation_report(DEMO)
    assert report.ok, report.to_text()
    facts = report.facts
    assert abs(facts["area_km2"] - 1111) / 1111 < 0.02
    assert facts["townships"] == 12
    assert facts["villages"] == 228
    assert 1.0 <= facts["road_density_km_per_km2"] <= 1.3
    assert 0.15 <= facts["poverty_incidence"] <= 0.25


def test_villages_named_as_in_the_nbs_list(demo_run: RunResult) -> None:
    nbs = pd.read_csv(NBS, dtype=str)
    villages = demo_run.villages
    assert villages is not None
    assert sorted(villages["village_id"]) == sorted(nbs["code"])
    # display names drop the committee suffix of the official name, nothing else
    official = dict(zip(nbs["code"], nbs["name"], strict=True))
    for code, name in zip(villages["village_id"], villages["name"], strict=True):
        assert official[code].startswith(name.removesuffix("社区")), (code, name)
    row = villages.set_index("village_id").loc["433124110226"]
    assert row["name"] == "十八洞村"
    assert row["township_name"] == "双龙镇"


def test_demo_outputs(demo_run: RunResult) -> None:
    out = demo_run.out_dir
    for name in ("map.html", "villages.gpkg", "villages.csv", "run_manifest.json"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "villages.csv", dtype={"village_id": str}, encoding="utf-8-sig")
    assert len(table) == 228
    shibadong = table.set_index("village_id").loc["433124110226"]
    # 十八洞村's registry reproduces its real 2013 figures: 533 poor of 939 people
    assert shibadong["poor_pop"] == 533
    assert shibadong["poverty_incidence"] == pytest.approx(533 / 939, abs=5e-5)  # CSV: 4 dp
    manifest = json.loads((out / "run_manifest.json").read_text(encoding="utf-8"))
    names = {Path(r["path"]).name for r in manifest["inputs"]}
    assert {"region.yaml", "roads.parquet", "households.csv", "dem.tif"} <= names
    assert (out / "map.html").stat().st_size < 10 * 1024 * 1024


def _hashes(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}
def test_demo_headline_figures_agree_everywhere(demo_run: RunResult) -> None:
    from tests.helpers import check_every_output, expected_villages

    out = demo_run.out_dir
    v = expected_villages(out / "villages.csv", DEMO.parent / "households.csv", sample=False,
                          village_col="village_code")
    check_every_output(out, demo_run.summary, v)
    villages = pd.read_csv(out / "villages.csv", encoding="utf-8-sig")
    assert set(villages["households_source"]) == {"villages_layer"}
    assert set(villages["poor_pop_source"]) == {"registry_complete"}
    manifest = json.loads((out / "run_manifest.json").read_text(encoding="utf-8"))
    sources = manifest["parameters"]["poverty_sources"]
    assert sources["households_source"] == {"villages_layer": 228}
    assert sources["registry"] == "complete" and sources["household_size"] == 3.38


def test_demo_is_reproducible(demo_run: RunResult, tmp_path: Path) -> None:
    """Every output file is byte-identical on rerun (issue 11 item 11).

    Only ``run_manifest.json`` differs, in ``created_utc`` (the wall-clock time of the
    run; the run's duration is not recorded); its output hashes are the same.
    """
    again = run(DEMO, tmp_path / "again", scenarios=SCENARIOS)
    first, second = _hashes(demo_run.out_dir), _hashes(again.out_dir)
    assert first.keys() == second.keys()
    assert {"villages.gpkg", "tables.xlsx", "priorities/priorities.xlsx", "map.html",
            "report.html", "static/overview.png", "relocation/relocation_sites.gpkg"} <= set(first)
    assert any(name.startswith("scenarios/") and name.endswith(".gpkg") for name in first)
    assert [name for name in first if first[name] != second[name]] == [MANIFEST_NAME]
    one, two = (json.loads((r.out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
                for r in (demo_run, again))
    one.pop("created_utc")
    two.pop("created_utc")
    assert one == two
    assert {r["path"]: r["sha256"] for r in one["outputs"]} == {
        k: v for k, v in first.items() if k not in (MANIFEST_NAME, MARKER_NAME)}


@pytest.fixture(params=[False, True], ids=["online", "network-off"])
def driver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if not HAVE_BROWSER:
        pytest.skip("chromium and chromedriver are not installed")
    d = make_driver(tmp_path, offline_network=request.param)
    try:
        yield d
    finally:
        d.quit()


@pytest.mark.browser
def test_demo_map_opens_in_chromium(
    demo_run: RunResult, driver: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    html = demo_run.out_dir / "map.html"
    assert html.stat().st_size < 10 * 1024 * 1024
    driver.get(html.as_uri())

    def count(selector: str) -> int:
        return int(driver.execute_script(f"return document.querySelectorAll('{selector}').length;"))

    for _ in range(100):
        if count("path.cm-village"):
            break
        time.sleep(0.05)
    assert severe_console(driver) == []
    load_ms = load_time_ms(driver)
    with capsys.disabled():
        print(f"\ndemo map: {html.stat().st_size / 1e6:.1f} MB, load {load_ms:.0f} ms")
    assert load_ms < 30_000  # a hang guard only: load speed is printed, not timed in tests
    assert driver.execute_script("return typeof L !== 'undefined';")
    assert count("path.cm-village") == 228
    assert count("path.cm-road") > 0
    assert count("path.cm-boundary") >= 1
    # switch on the roads priority layer through the (folded) layer control
    ActionChains(driver).move_to_element(
        driver.find_element("css selector", ".leaflet-control-layers")).perform()
    label = next(r for r in driver.find_elements(
        "css selector", ".leaflet-control-layers-overlays label")
        if "Roads priority tier" in r.text)
    label.find_element("css selector", "input").click()
    # village themes are radio buttons (#14): the roads tiers replace the first theme
    assert count("path.cm-village") == 228
    assert count("path.cm-vl-0") == 0
    assert severe_console(driver) == []
    driver.save_screenshot(str(tmp_path / "demo.png"))
    assert (tmp_path / "demo.png").read_bytes()[:4] == b"\x89PNG"


def test_every_output_column_is_documented(demo_run: RunResult) -> None:
    import re

    from contigmap.columns import column_dictionary

    names = set(column_dictionary()["name"])
    patterns = [re.compile("^" + re.escape(n).replace(re.escape("<layer>"), "[a-z0-9_]+") + "$")
                for n in names if "<layer>" in n]
    for table in ("villages.csv", "hamlets.csv"):
        columns = pd.read_csv(demo_run.out_dir / table, nrows=1, encoding="utf-8-sig").columns
        undocumented = [c for c in columns
                        if c not in names and not any(p.match(c) for p in patterns)]
        assert undocumented == [], table


def test_priorities_in_the_demo(demo_run: RunResult) -> None:
    villages = demo_run.villages
    assert villages is not None
    for iv in ("roads", "water", "power"):
        assert sorted(villages[f"{iv}_rank"]) == list(range(1, 229))
        assert villages[f"{iv}_reasons_zh"].str.len().gt(0).all()
    assert (demo_run.out_dir / "priorities" / "priorities.xlsx").is_file()


def test_demo_relocation_and_scenarios(demo_run: RunResult) -> None:
    out = demo_run.out_dir
    sites = pd.read_csv(out / "relocation" / "relocation_sites.csv")
    assert (sites["load_people"] <= sites["capacity_people"]).all()
    comparison = pd.read_csv(out / "scenarios" / "scenario_comparison.csv")
    assert set(comparison["scenario"]) == {"pave-huayuanzhen", "rainy-landslides", "valley-link"}
    rows = comparison.set_index("scenario")
    # paving only shortens paths; closing roads in the rain only lengthens them
    assert rows.loc["pave-huayuanzhen", "pop_lost_access"] == 0
    assert rows.loc["pave-huayuanzhen", "poor_gaining"] > 0
    assert rows.loc["rainy-landslides", "poor_gaining"] == 0
    assert rows.loc["rainy-landslides", "pop_lost_access"] > 0
    html = (out / "map.html").read_text(encoding="utf-8")
    for layer in ("Relocation candidates", "Receiving sites", "Relocation flows",
                  "Roads priority tier", "Water priority tier", "Power priority tier",
                  "Hamlets: Broadband priority tier", "Hamlets: Radio and TV priority tier",
                  "Bus priority tier", "两不愁三保障达标情况 Guarantees met",
                  "通客车线路 Bus lines", "招呼站 Bus stops"):
        assert layer in html, layer
