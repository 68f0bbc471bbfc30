"""Area runs (issue #15 items 1 and 3): area.yaml, ``contigmap run area.yaml``, Dask.

The test area is three copies of the tiny region (``tests/helpers.py``), each with its
own county code (433124, 433125, 433126) in its own ``county.gpkg``, populations scaled
by 1, 2 and 3 (1,000, 2,000 and 3,000 people: the tiny region's 100 + 200 + 300 + 400)
and 0, 1 and 2 more households of the registry flagged poor, so the counties differ.
The roll-up is checked against each county's own CSVs read independently with the
``csv`` module, and the area folder's county folders against a plain county run.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from contigmap.area import CountyRunError, ExecutionOptions, load_area, run_area
from contigmap.cli.main import cli
from contigmap.errors import ConfigError
from tests.helpers import write_tiny_region

CODES = ("433124", "433125", "433126")


def make_area(root: Path, *, names: tuple[str | None, ...] = ("花垣县", None, "凤凰县"),
              extra: str = "") -> Path:
    """Write the three-county test area under ``root``; return its ``area.yaml``."""
    lines = ["area:", "  name: 测试片区 <b>&", "  code: test-area", "  illustrative: true",
             "  source_note: 测试数据 <i>x</i>", "counties:"]
    for i, code in enumerate(CODES):
        folder = root / "counties" / code
        region = write_tiny_region(folder, seats=True)
        county = gpd.read_file(folder / "admin.gpkg", layer="county")
        county["code"] = code
        county.to_file(folder / "county.gpkg", layer="county")
        text = region.read_text(encoding="utf-8").replace(
            "path: admin.gpkg, layer: county", "path: county.gpkg, layer: county")
        region.write_text(text, encoding="utf-8")
        villages = pd.read_csv(folder / "villages.csv", dtype=str)
        villages["人口"] = (villages["人口"].astype(int) * (i + 1)).astype(str)
        villages.to_csv(folder / "villages.csv", index=False)
        households = pd.read_csv(folder / "households.csv", dtype=str, encoding="utf-8-sig")
        not_poor = households.index[households["poor"] == "否"][:i]
        households.loc[not_poor, "poor"] = "是"
        households.to_csv(folder / "households.csv", index=False, encoding="utf-8-sig")
        lines.append(f"  - region: counties/{code}/region.yaml")
        if names[i] is not None:
            lines.append(f"    name: {names[i]}")
    path = root / "area.yaml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def add_prefecture_city(area: Path) -> Path:
    """Write ``area_cities.yaml`` beside ``area``: the same counties, one prefecture city
    20 km east of the county road's east end, joined to it by a paved national road."""
    from shapely.geometry import LineString

    from tests.helpers import WORK_CRS, X0, Y0, to_lonlat

    folder = area.parent / "shared"
    folder.mkdir(exist_ok=True)
    trunk = gpd.GeoDataFrame(
        {"road_id": ["G1"], "road_class": ["national"], "surface": ["paved"]},
        geometry=[LineString([(X0 + 10_000, Y0 + 4_000), (X0 + 30_000, Y0 + 4_000)])],
        crs=WORK_CRS)
    trunk.to_file(folder / "trunk.gpkg", layer="trunk_roads")
    lon, lat = to_lonlat([X0 + 30_000], [Y0 + 4_000])
    (folder / "cities.csv").write_text(f"city_id,name,lon,lat\nC1,吉首市,{lon[0]:.8f},"
                                       f"{lat[0]:.8f}\n", encoding="utf-8")
    path = area.parent / "area_cities.yaml"
    path.write_text(area.read_text(encoding="utf-8") + (
        "layers:\n"
        "  prefecture_cities: {path: shared/cities.csv, x: lon, y: lat, crs: EPSG:4326, "
        "id: city_id}\n"
        "  trunk_roads: {path: shared/trunk.gpkg, layer: trunk_roads, id: road_id}\n"),
        encoding="utf-8")
    return path


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_area(tmp_path_factory.mktemp("area"))


@pytest.fixture(scope="module")
def serial_run(area: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "serial"
    run_area(area, out, execution=ExecutionOptions(serial=True))
    return out


# ------------------------------------------------------------------ the manifest


@pytest.mark.slow
def test_manifest_resolves_codes_and_names(area: Path) -> None:
    loaded = load_area(area)
    assert [c.code for c in loaded.counties] == list(CODES)  # from each county.gpkg
    # names: given, else the region's title (小县, tests/helpers.py)
    assert [c.name for c in loaded.counties] == ["花垣县", "小县", "凤凰县"]
    assert loaded.config.area.illustrative is True
    assert area.resolve() in loaded.input_paths()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "area.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _one_line(err: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_missing_region_names_the_county(tmp_path: Path) -> None:
    path = _write(tmp_path, "area: {name: A, code: a}\ncounties:\n"
                            "  - {region: nowhere/region.yaml, name: 吉首市}\n")
    with pytest.raises(ConfigError) as err:
        load_area(path)
    msg = _one_line(err)
    assert "counties[0] (吉首市)" in msg and "nowhere/region.yaml not found" in msg


@pytest.mark.slow
def test_duplicate_codes_are_refused(tmp_path: Path) -> None:
    write_tiny_region(tmp_path / "a")
    write_tiny_region(tmp_path / "b")
    path = _write(tmp_path, "area: {name: A, code: a}\ncounties:\n"
                            "  - {region: a/region.yaml, code: 433124}\n"
                            "  - {region: b/region.yaml}\n")
    with pytest.raises(ConfigError) as err:  # b's code: its county id, 433124 too
        load_area(path)
    msg = _one_line(err)
    assert "counties[1]" in msg and "433124" in msg and "counties[0]" in msg


def test_region_that_does_not_load_names_the_county(tmp_path: Path) -> None:
    region = write_tiny_region(tmp_path / "a")
    region.write_text(region.read_text(encoding="utf-8") + "titel: x\n", encoding="utf-8")
    path = _write(tmp_path, "area: {name: A, code: a}\ncounties:\n"
                            "  - {region: a/region.yaml, name: 保靖县}\n")
    with pytest.raises(ConfigError) as err:
        load_area(path)
    msg = _one_line(err)
    assert "counties[0] (保靖县)" in msg and "does not load" in msg and "titel" in msg


@pytest.mark.parametrize(("text", "wrong", "closest"), [
    ("area: {name: A, code: a}\ncounties:\n  - {regoin: a/region.yaml}\n", "regoin", "region"),
    ("area: {name: A, code: a, illustrativ: true}\ncounties: []\n", "illustrativ",
     "illustrative"),
    ("area: {name: A, code: a}\ncounties:\n  - {region: a/region.yaml}\nlayer: {}\n", "layer",
     "layers"),
])
def test_unknown_key_suggests_the_closest(tmp_path: Path, text: str, wrong: str,
                                          closest: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_area(_write(tmp_path, text))
    msg = _one_line(err)
    assert wrong in msg and closest in msg


def test_missing_area_layer_and_empty_county_list(tmp_path: Path) -> None:
    write_tiny_region(tmp_path / "a")
    path = _write(tmp_path, "area: {name: A, code: a}\ncounties:\n  - {region: a/region.yaml}\n"
                            "layers:\n  trunk_roads: {path: trunk.gpkg, id: road_id}\n")
    with pytest.raises(ConfigError) as err:
        load_area(path)
    assert "layers.trunk_roads: file trunk.gpkg not found" in _one_line(err)
    with pytest.raises(ConfigError) as err:
        load_area(_write(tmp_path, "area: {name: A, code: a}\ncounties: []\n"))
    assert "counties" in _one_line(err)


def test_unquoted_numeric_code_is_text(tmp_path: Path) -> None:
    write_tiny_region(tmp_path / "a")
    path = _write(tmp_path, "area: {name: A, code: 42}\ncounties:\n"
                            "  - {region: a/region.yaml, code: 4331}\n")
    loaded = load_area(path)
    assert loaded.config.area.code == "42" and loaded.counties[0].code == "4331"


# ------------------------------------------------------------------ the run and roll-up


@pytest.mark.slow
def test_area_folder_holds_each_county_and_the_rollup(serial_run: Path) -> None:
    for code in CODES:
        assert (serial_run / code / "map.html").is_file()
        assert (serial_run / code / "run_manifest.json").is_file()
    for name in ("counties.csv", "counties.xlsx", "area_map.html", "area_report.html",
                 "run_manifest.json", ".contigmap-output"):
        assert (serial_run / name).is_file(), name


@pytest.mark.slow
def test_rollup_matches_each_countys_own_tables(serial_run: Path) -> None:
    table = csv_rows(serial_run / "counties.csv")
    assert [r["county_code"] for r in table] == list(CODES)
    assert [r["county_name"] for r in table] == ["花垣县", "小县", "凤凰县"]
    assert [float(r["pop"]) for r in table] == [1000.0, 2000.0, 3000.0]  # by hand
    for row in table:
        own = next(r for r in csv_rows(serial_run / row["county_code"] / "indicators.csv")
                   if r["level"] == "county")
        for column in ("villages", "pop", "poor_pop", "poverty_incidence", "rai",
                       "villages_without_hardened_road"):
            assert float(row[column]) == pytest.approx(float(own[column])), column
        summary = csv_rows(serial_run / row["county_code"] / "priorities"
                           / "priorities_summary_county.csv")
        needs = {r["intervention"]: float(r["capex_cny"]) for r in summary}
        # the works the tiny region's layers allow (no power lines, fibre or hamlets)
        # the synthetic counties have no power, broadband, tower or registry-grade layers
        assert {"roads"} <= set(needs) <= {"roads", "water", "health", "schooling", "bus"}
        for iv, need in needs.items():
            assert float(row[f"{iv}_capex_cny"]) == pytest.approx(need)
        assert float(row["capex_total_cny"]) == pytest.approx(sum(needs.values()))
    # the counties differ: more households flagged poor, a higher incidence
    incidences = [float(r["poverty_incidence"]) for r in table]
    assert incidences[0] < incidences[1] < incidences[2]


@pytest.mark.slow
def test_county_folder_is_what_a_county_run_writes(area: Path, serial_run: Path,
                                                   tmp_path: Path) -> None:
    from contigmap.pipeline import run

    alone = tmp_path / "alone"
    run(area.parent / "counties" / CODES[1] / "region.yaml", alone)
    ours = sorted(p.relative_to(alone) for p in alone.rglob("*") if p.is_file())
    theirs = sorted(p.relative_to(serial_run / CODES[1])
                    for p in (serial_run / CODES[1]).rglob("*") if p.is_file())
    assert ours == theirs
    for rel in ours:
        if rel.suffix == ".csv":
            assert (alone / rel).read_bytes() == (serial_run / CODES[1] / rel).read_bytes(), rel


@pytest.mark.slow
def test_report_and_map_escape_names_and_give_area_figures(serial_run: Path) -> None:
    report = (serial_run / "area_report.html").read_text(encoding="utf-8")
    assert "测试片区 &lt;b&gt;&amp;" in report and "<b>&" not in report
    assert "测试数据 &lt;i&gt;x&lt;/i&gt;" in report and "<i>x" not in report
    table = pd.read_csv(serial_run / "counties.csv", encoding="utf-8-sig")
    incidence = table["poor_pop"].sum() / table["pop_basis"].sum()
    assert f"{100 * incidence:.1f}%" in report
    need = table["capex_total_cny"].sum() / 1e4
    assert f"<td class='num'>{need:,.1f} 万元</td>" in report  # key figure: funding need
    assert "433126/report.html" in report
    page = (serial_run / "area_map.html").read_text(encoding="utf-8")
    assert "<b>&" not in page and "<i>x" not in page
    assert "433124/map.html" in page
    # offline: Leaflet inlined, no script or stylesheet loaded from anywhere
    assert re.search(r"<script[^>]*\bsrc=", page) is None and "<link" not in page
    ranking = report.split("Ranking")[1]
    assert ranking.index("凤凰县") < ranking.index("花垣县")  # highest incidence first


@pytest.mark.slow
def test_manifest_lists_every_input_with_its_hash(area: Path, serial_run: Path) -> None:
    import json

    record = json.loads((serial_run / "run_manifest.json").read_text(encoding="utf-8"))
    inputs = {r["path"] for r in record["inputs"]}
    assert "area.yaml" in inputs
    assert "counties/433125/villages.csv" in inputs
    assert all(re.fullmatch(r"[0-9a-f]{64}", r["sha256"]) for r in record["inputs"])
    assert record["parameters"]["engine"] == "serial"
    assert [c["code"] for c in record["parameters"]["counties"]] == list(CODES)
    assert {r["path"] for r in record["outputs"]} >= {"counties.csv", "area_map.html"}


@pytest.mark.slow
def test_two_workers_write_the_same_csvs_as_serial(area: Path, serial_run: Path,
                                                   tmp_path: Path) -> None:
    from contigmap.area.prefecture import prefecture_times

    out = tmp_path / "dask"
    with_city = add_prefecture_city(area)  # the area graph runs as a task beside the counties
    result = run_area(with_city, out, execution=ExecutionOptions(workers=2))
    assert result.summary["counties"] == 3
    serial = sorted(p.relative_to(serial_run) for p in serial_run.rglob("*.csv"))
    dask = sorted(p.relative_to(out) for p in out.rglob("*.csv")
                  if p.name != "villages_area.csv")
    assert serial == dask and len(serial) > 3 * 10
    for rel in serial:
        if rel.name != "counties.csv":  # the city adds tt_prefecture_min
            assert (serial_run / rel).read_bytes() == (out / rel).read_bytes(), rel
    # the same prefecture times as building the area graph in this process, after the runs
    here = prefecture_times(load_area(with_city), serial_run)
    there = pd.read_csv(out / "villages_area.csv", encoding="utf-8-sig",
                        dtype={"county_code": str, "village_id": str})
    assert here is not None and len(there) == len(here) == 12
    np.testing.assert_allclose(there["tt_prefecture_min"], here["tt_prefecture_min"],
                               rtol=1e-6)


@pytest.mark.slow
def test_an_existing_cluster_by_its_address(area: Path, serial_run: Path,
                                            tmp_path: Path) -> None:
    from distributed import LocalCluster

    out = tmp_path / "remote"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        run_area(area, out, execution=ExecutionOptions(scheduler=cluster.scheduler_address))
        assert cluster.scheduler is not None  # still up: the run only disconnected
    record = (out / "run_manifest.json").read_text(encoding="utf-8")
    assert f"dask scheduler {cluster.scheduler_address}" in record
    assert (out / "counties.csv").read_bytes() == (serial_run / "counties.csv").read_bytes()


@pytest.mark.slow
def test_failing_county_fails_the_run_naming_it(area: Path, tmp_path: Path) -> None:
    (area.parent / "counties" / CODES[0] / "villages.csv").rename(tmp_path / "kept.csv")
    out = tmp_path / "out"
    try:
        with pytest.raises(CountyRunError) as err:
            run_area(area, out, execution=ExecutionOptions(serial=True))
        assert _one_line(err).startswith(f"county {CODES[0]} (花垣县): ")
        assert not out.exists()  # staged: nothing half-written
        runner = CliRunner()
        result = runner.invoke(cli, ["-q", "run", str(area), "-o", str(out), "--workers", "2"],
                               catch_exceptions=False)
        assert result.exit_code == 1
        assert f"county {CODES[0]} (花垣县)" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout
    finally:
        (tmp_path / "kept.csv").rename(area.parent / "counties" / CODES[0] / "villages.csv")


@pytest.mark.slow
def test_prefecture_times_over_the_area_graph(area: Path, serial_run: Path) -> None:
    from contigmap.area.prefecture import prefecture_times
    from contigmap.network import tobler_kmh

    villages = prefecture_times(load_area(add_prefecture_city(area)), serial_run)
    assert villages is not None and len(villages) == 12
    one = villages[villages["county_code"] == CODES[0]].set_index("name")
    # 二村 (x 3 km, y 6 km) and 四村 (x 8 km, y 6 km) walk 2 km south to the county road
    # (Tobler on the flat, no DEM in the area graph), drive 7 and 2 km east on it (paved
    # county road, 40 km/h: 10.5 and 3 min), then 20 km on the national road (paved,
    # 60 km/h: 20 min) to the city. Lengths are laid out in EPSG:4545 and measured in the
    # area's UTM zone: their scale factors differ by < 0.1 %.
    walk = 2.0 / float(tobler_kmh(np.zeros(1))[0]) * 60.0
    assert one.loc["四村", "tt_prefecture_min"] == pytest.approx(walk + 3.0 + 20.0, rel=1e-3)
    assert one.loc["二村", "tt_prefecture_min"] == pytest.approx(walk + 10.5 + 20.0, rel=1e-3)
    assert set(one.loc[["二村", "四村"], "prefecture_city_id"]) == {"C1"}
    # the track and village road only touch the county road mid-line: no route, as the
    # county run found them isolated
    assert one.loc[["一村", "十八洞村"], "tt_prefecture_min"].isna().all()
    own = pd.read_csv(serial_run / CODES[0] / "county_access.csv", encoding="utf-8-sig")
    assert int(own["villages_isolated"].iloc[0]) == 2


@pytest.mark.slow
def test_cli_runs_an_area_serially_and_refuses_scenarios(area: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli"
    with_city = add_prefecture_city(area)
    result = runner.invoke(cli, ["-q", "run", str(with_city), "-o", str(out), "--serial"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "(3 counties)" in result.stdout
    table = csv_rows(out / "counties.csv")
    villages = pd.read_csv(out / "villages_area.csv", encoding="utf-8-sig",
                           dtype={"county_code": str})
    for row in table:  # the county figure: median of its villages with a route
        mine = villages[villages["county_code"] == row["county_code"]]["tt_prefecture_min"]
        assert float(row["tt_prefecture_min"]) == pytest.approx(mine.dropna().median())
        assert int(row["prefecture_unreachable"]) == int(mine.isna().sum()) == 2
    again = runner.invoke(cli, ["-q", "run", str(area), "-o", str(out), "--workers", "1",
                                "--scenario", "x.yaml"])
    assert again.exit_code == 2 and "--scenario applies to one county" in again.stderr


@pytest.mark.slow
def test_cluster_options_are_for_areas_only(tmp_path: Path) -> None:
    region = write_tiny_region(tmp_path / "a")
    result = CliRunner().invoke(cli, ["-q", "run", str(region), "-o", str(tmp_path / "o"),
                                      "--workers", "2"])
    assert result.exit_code == 2 and "apply to an area manifest" in result.stderr


def test_area_totals_by_hand() -> None:
    from contigmap.area.rollup import area_totals

    table = pd.DataFrame({
        "villages": [4, 6], "pop": [1000.0, 3000.0], "pop_basis": [800.0, 3000.0],
        "poor_pop": [200.0, 180.0], "rai": [0.5, 0.1], "villages_without_hardened_road": [1, 2],
        "roads_capex_cny": [1e6, 3e6],
    })
    totals = area_totals(table)
    assert totals["poverty_incidence"] == pytest.approx(380 / 3800)
    assert totals["rai"] == pytest.approx((500 + 300) / 4000)
    assert totals["roads_capex_cny"] == 4e6 and totals["villages"] == 10
    assert area_totals(table.assign(capex_total_cny=[1e6, 2e6]))["capex_total_cny"] == 3e6
    assert math.isnan(area_totals(table.assign(pop=0.0, pop_basis=0.0))["rai"])


# ------------------------------------------------------------------ shared layers


def make_shared_area(root: Path, layers: str = "[villages, households]") -> Path:
    """One tiny region for two counties, split by a 县代码 column: the west township's
    villages (and their households) are county 433124, the east township's 433125."""
    write_tiny_region(root / "shared", seats=True)
    villages = pd.read_csv(root / "shared" / "villages.csv", dtype=str)
    villages["县代码"] = ["433124", "433124", "433125", "433125"]
    villages.to_csv(root / "shared" / "villages.csv", index=False)
    households = pd.read_csv(root / "shared" / "households.csv", dtype=str,
                             encoding="utf-8-sig")
    households["县代码"] = households["village_id"].map(
        dict(zip(villages["村代码"], villages["县代码"], strict=True)))
    households.to_csv(root / "shared" / "households.csv", index=False, encoding="utf-8-sig")
    return _write(root, "area: {name: 共享片区, code: shared}\n"
                        "shared:\n  region: shared/region.yaml\n  county_column: 县代码\n"
                        f"  layers: {layers}\n"
                        "counties:\n  - {code: '433124', name: 西县}\n  - {code: '433125'}\n")


@pytest.mark.slow
def test_shared_form_errors(tmp_path: Path) -> None:
    path = make_shared_area(tmp_path, layers="[villages, housholds]")
    with pytest.raises(ConfigError) as err:
        load_area(path)
    assert "'housholds' is not a layer" in _one_line(err) and "'households'" in str(err.value)
    path.write_text(path.read_text(encoding="utf-8").replace("housholds", "households")
                    .replace("- {code: '433125'}", "- {name: 东县}"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_area(path)
    assert "counties[1] (东县): give its code:" in _one_line(err)
    no_shared = _write(tmp_path, "area: {name: A, code: a}\ncounties:\n  - {code: '1'}\n")
    with pytest.raises(ConfigError) as err:
        load_area(no_shared)
    assert "has no region:" in _one_line(err)


@pytest.mark.slow
def test_shared_layers_split_by_county_column(tmp_path: Path) -> None:
    from contigmap.pipeline import run

    area = make_shared_area(tmp_path / "in")
    loaded = load_area(area)
    assert [c.name for c in loaded.counties] == ["西县", "433125"]  # default name: the code
    out = tmp_path / "out"
    run_area(area, out, execution=ExecutionOptions(serial=True))
    assert (out / "regions" / "433125.yaml").is_file()  # what the county's run read
    # each county holds one township's villages with every road, so its figures are the
    # township rows of a run on the whole shared region
    whole = tmp_path / "whole"
    run(tmp_path / "in" / "shared" / "region.yaml", whole)
    townships = {r["name"]: r for r in csv_rows(whole / "indicators.csv")
                 if r["level"] == "township"}
    table = csv_rows(out / "counties.csv")
    for row, township in zip(table, ("花垣镇", "双龙镇"), strict=True):
        for column in ("villages", "pop", "poor_pop", "poverty_incidence", "rai",
                       "villages_without_hardened_road"):
            assert float(row[column]) == pytest.approx(float(townships[township][column])), \
                column


@pytest.mark.slow
def test_largest_county_goes_first(tmp_path: Path) -> None:
    """Longest-processing-time order: the counties by the bytes of their input files."""
    from contigmap.area.run import largest_first

    path = make_area(tmp_path)
    for code, pad_mb in (("433125", 2), ("433126", 1)):  # far above the few KB they differ by
        with open(tmp_path / "counties" / code / "villages.csv", "ab") as fh:
            fh.write(b" " * (pad_mb * 2**20))
    assert largest_first(load_area(path).counties) == [1, 2, 0]
