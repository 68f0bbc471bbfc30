"""Tests for contigmap.io.checks: one test per input error, region facts, the report."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box

from contigmap.config import LayerSpec, load_region
from contigmap.dryrun import validation_report
from contigmap.errors import (
    ConfigError,
    CRSError,
    DataQualityWarning,
    LayerError,
    ValidationError,
)
from contigmap.facts import region_facts
from contigmap.io.checks import check_coordinates, check_layer
from contigmap.io.read import read_layer
from contigmap.io.region import load_region_layers
from tests.helpers import VILLAGE_CODES, X0, Y0, TinyRegion, to_lonlat, write_tiny_region


def _load(path: Path) -> None:
    load_region_layers(load_region(path))


def _roads(**columns: list[object]) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    lines = [LineString([(X0 + i, Y0), (X0 + i, Y0 + 100)]) for i in range(n)]
    return gpd.GeoDataFrame(columns, geometry=lines, crs="EPSG:4545")


# ---------------------------------------------------------------- one test per error


def test_missing_file(tiny_region: TinyRegion) -> None:
    (tiny_region.folder / "roads.gpkg").unlink()
    with pytest.raises(
        LayerError,
        match=r"layers\.roads \(roads\.gpkg\): file not found: .*roads\.gpkg; check 'path:'",
    ):
        _load(tiny_region.path)


def test_misspelt_manifest_key(tiny_region: TinyRegion) -> None:
    text = tiny_region.path.read_text(encoding="utf-8")
    text = text.replace("    path: roads.gpkg", "    path: roads.gpkg\n    layr: roads")
    tiny_region.path.write_text(text, encoding="utf-8")
    with pytest.raises(
        ConfigError,
        match=r"region\.yaml: unknown key 'layers\.roads\.layr': did you mean 'layer'\?",
    ):
        load_region(tiny_region.path)


def test_mapped_column_absent(tiny_region: TinyRegion) -> None:
    text = tiny_region.path.read_text(encoding="utf-8")
    tiny_region.path.write_text(text.replace("路面: surface", "路况: surface"), encoding="utf-8")
    with pytest.raises(
        ValidationError,
        match=r"layers\.roads \(roads\.gpkg\): column '路况' listed under 'columns:' in "
        r"region\.yaml is not in the file \(it has: RID, 等级, 路面\); did you mean '路面'\?",
    ):
        _load(tiny_region.path)


def test_required_column_missing_suggests_closest(tmp_path: Path) -> None:
    roads = _roads(road_id=["1"], road_class=["village"], surfac=["earth"])
    with pytest.raises(
        ValidationError,
        match=r"roads\.gpkg: required column 'surface' is missing \(the file has: road_id, "
        r"road_class, surfac\); the closest is 'surfac'; map it under 'columns:' in region\.yaml",
    ):
        check_layer(roads, role="roads", source="roads.gpkg")


def test_layer_with_no_crs(tmp_path: Path) -> None:
    roads = _roads(road_id=["1"], road_class=["village"], surface=["earth"]).set_crs(
        None, allow_override=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio: "'crs' was not provided"
        roads.to_file(tmp_path / "roads.shp", engine="pyogrio")
    with pytest.raises(
        CRSError, match=r"layers\.roads: roads\.shp has no CRS; add 'crs: EPSG:4490'"
    ):
        read_layer(
            LayerSpec(path=Path("roads.shp")),
            base_dir=tmp_path,
            role="roads",
            source="layers.roads",
        )


def test_repeated_ids() -> None:
    roads = _roads(
        road_id=["R1", "R2", "R1", "R3"], road_class=["village"] * 4, surface=["earth"] * 4
    )
    with pytest.raises(
        ValidationError,
        match=r"layers\.roads: id 'R1' in column 'road_id' repeats in data rows 1, 3; ids must "
        r"be unique",
    ):
        check_layer(roads, role="roads", source="layers.roads")


def test_csv_coordinates_swapped(tiny_region: TinyRegion) -> None:
    text = (tiny_region.folder / "villages.csv").read_text(encoding="utf-8")
    lines = text.strip().splitlines()
    swapped = [lines[0]]
    for line in lines[1:]:
        parts = line.split(",")
        parts[-2], parts[-1] = parts[-1], parts[-2]
        swapped.append(",".join(parts))
    (tiny_region.folder / "villages.csv").write_text("\n".join(swapped) + "\n", encoding="utf-8")
    with pytest.raises(
        CRSError,
        match=r"layers\.villages \(villages\.csv\): columns '经度' \(longitude\) and '纬度' "
        r"\(latitude\) look swapped: .*set 'x: 纬度' and 'y: 经度' in region\.yaml",
    ):
        _load(tiny_region.path)


@pytest.mark.slow
def test_csv_coordinates_outside_region(tmp_path: Path) -> None:
    lon, lat = to_lonlat([X0 + 2000, X0 + 3000], [Y0 + 2000, Y0 + 6000])
    rows = ["村代码,村名,乡镇代码,人口,经度,纬度"]
    rows.append(f"{VILLAGE_CODES[0]},一村,433124100,100,{lon[0]:.8f},{lat[0]:.8f}")
    rows.append(f"{VILLAGE_CODES[1]},二村,433124100,100,{lon[1]:.8f},{lat[1]:.8f}")
    rows.append(f"{VILLAGE_CODES[2]},远村,433124101,100,110.90,28.45")  # ~150 km east
    path = write_tiny_region(tmp_path / "r", villages_csv="\n".join(rows) + "\n")
    # villages are checked against the county boundary
    with pytest.raises(
        ValidationError,
        match=r"layers\.villages \(villages\.csv\): coordinates in columns '经度'/'纬度' fall "
        r"outside layers\.boundaries\.county .* in data row 3",
    ):
        _load(path)


def test_unknown_road_class() -> None:
    roads = _roads(
        road_id=["R1", "R2"], road_class=["village", "motorway"], surface=["earth", "paved"]
    )
    with pytest.raises(
        ValidationError,
        match=r"layers\.roads: unknown road_class 'motorway' in data row 2 \(id 'R2'\); allowed: "
        r"expressway, national, provincial, county, township, village, track, path",
    ):
        check_layer(roads, role="roads", source="layers.roads")


def test_unknown_service_kind_suggests() -> None:
    services = gpd.GeoDataFrame(
        {"service_id": ["S1"], "kind": ["schol"], "name": ["小学"]},
        geometry=[Point(X0, Y0)],
        crs="EPSG:4545",
    )
    with pytest.raises(ValidationError, match=r"unknown kind 'schol' .*did you mean 'school'\?"):
        check_layer(services, role="services", source="layers.services")


def test_negative_population() -> None:
    villages = gpd.GeoDataFrame(
        {
            "village_id": ["A", "B"],
            "name": ["一村", "二村"],
            "township_id": ["t", "t"],
            "pop": [10, -5],
        },
        geometry=[Point(X0, Y0), Point(X0 + 1, Y0)],
        crs="EPSG:4545",
    )
    with pytest.raises(
        ValidationError,
        match=r"layers\.villages: column 'pop' must be at least 0 but is -5 in data row 2 "
        r"\(id 'B'\)",
    ):
        check_layer(villages, role="villages", source="layers.villages")


def test_household_members_below_one_and_bad_poor_flag() -> None:
    hh = pd.DataFrame(
        {
            "household_id": ["H1", "H2"],
            "village_id": ["A", "A"],
            "members": [3, 0],
            "poor": ["是", "否"],
        }
    )
    with pytest.raises(
        ValidationError,
        match=r"column 'members' must be at least 1 but is 0 "
        r"in data row 2 \(id 'H2'\)",
    ):
        check_layer(hh, role="households", source="layers.households")
    hh = pd.DataFrame(
        {"household_id": ["H1"], "village_id": ["A"], "members": [3], "poor": ["maybe"]}
    )
    with pytest.raises(
        ValidationError,
        match=r"column 'poor' is a yes/no column but holds 'maybe' in data row 1; use 是/否",
    ):
        check_layer(hh, role="households", source="layers.households")


def test_wrong_geometry_type() -> None:
    villages = gpd.GeoDataFrame(
        {"village_id": ["A"], "name": ["一村"], "township_id": ["t"]},
        geometry=[LineString([(0, 0), (1, 1)])],
        crs="EPSG:4545",
    )
    with pytest.raises(
        ValidationError,
        match=r"geometry type LineString is not allowed here "
        r"\(data row 1\); this layer needs point or polygon geometries",
    ):
        check_layer(villages, role="villages", source="layers.villages")


def test_layer_entirely_outside_others(tiny_region: TinyRegion) -> None:
    far = gpd.GeoDataFrame(
        {"hazard_id": ["F1"]}, geometry=[box(120.0, 30.0, 120.1, 30.1)], crs="EPSG:4326"
    )
    far.to_file(tiny_region.folder / "flood.geojson", driver="GeoJSON", engine="pyogrio")
    with pytest.raises(
        ValidationError,
        match=r"layers\.hazards\.flood \(flood\.geojson\): the "
        r"layer lies entirely outside layers\.boundaries\.county",
    ):
        _load(tiny_region.path)


def test_check_coordinates_not_degrees() -> None:
    with pytest.raises(
        CRSError,
        match=r"not longitude/latitude degrees; if they are projected "
        r"coordinates, set 'crs:'",
    ):
        check_coordinates(
            np.array([630000.0]), np.array([3140000.0]), source="v.csv", x_col="x", y_col="y"
        )


# ---------------------------------------------------------------- repairs and warnings


def test_invalid_geometry_repaired_and_empty_dropped() -> None:
    bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)])  # self-intersecting
    eco = gpd.GeoDataFrame(
        {"eco_id": ["E1", "E2", "E3"]},
        geometry=[bowtie, Polygon(), box(5, 5, 6, 6)],
        crs="EPSG:4545",
    )
    problems: list[str] = []
    with pytest.warns(DataQualityWarning):
        out = check_layer(eco, role="ecology", source="layers.ecology.redline", problems=problems)
    assert len(out) == 2
    assert out.geometry.is_valid.all()
    assert out.geometry.iloc[0].area == pytest.approx(2.0)  # two triangles of area 1
    assert any("1 empty geometries dropped" in p for p in problems)
    assert any("1 invalid geometries repaired" in p for p in problems)


def test_chinese_domain_values_translated() -> None:
    roads = _roads(
        road_id=["1", "2", "3"],
        road_class=["国道", "乡道", "Village"],
        surface=["沥青", "砂石路面", "土路"],
    )
    out = check_layer(roads, role="roads", source="r")
    assert list(out["road_class"]) == ["national", "township", "village"]
    assert list(out["surface"]) == ["paved", "gravel", "earth"]


# ---------------------------------------------------------------- facts and report


@pytest.mark.slow
def test_region_facts_by_hand(tiny_region: TinyRegion) -> None:
    facts = region_facts(load_region_layers(load_region(tiny_region.path)))
    assert facts["area_km2"] == pytest.approx(80.0)  # 10 km x 8 km
    assert facts["townships"] == 2
    assert facts["villages"] == 4
    assert facts["hamlets"] is None
    assert facts["pop"] == 1000  # 100 + 200 + 300 + 400
    assert facts["road_km"] == pytest.approx(15.0)  # 10 + (2 + 1) + 2
    assert facts["road_km_by_class"] == pytest.approx(
        {"county": 10.0, "village": 3.0, "track": 2.0}
    )
    assert facts["road_km_by_surface"] == pytest.approx(
        {"paved": 10.0, "gravel": 3.0, "earth": 2.0}
    )
    assert facts["road_density_km_per_km2"] == pytest.approx(15.0 / 80.0)
    # the registry (21 people in villages of 400) is a sample: it gives rates, not counts;
    # households are pop / 2.62 (national census default): 38 + 76 + 115 + 153
    assert facts["registry_households"] == 6
    assert facts["households"] == 382
    # poor people = pop x sample incidence: 100 x 9/12 + 300 x 1/9; the villages without
    # sample rows take their township's rate: 200 x 9/12 + 400 x 1/9; over 1,000 people
    poor = 75 + 150 + 100 / 3 + 400 / 9
    assert facts["poor_pop"] == round(poor) == 303
    assert facts["poverty_incidence"] == pytest.approx(poor / 1000)
    assert facts["poor_pop_source"] == ("registry_sample_estimate+"
                                        "registry_sample_township_rate")


def test_region_facts_complete_registry(tiny_region: TinyRegion) -> None:
    text = tiny_region.path.read_text(encoding="utf-8")
    text = text.replace("households: {path: households.csv, id: household_id}",
                        "households: {path: households.csv, id: household_id, complete: true}")
    tiny_region.path.write_text(text + "household_size: 4\n", encoding="utf-8")
    facts = region_facts(load_region_layers(load_region(tiny_region.path)))
    # counts from the registry where it has households (3 + 3), else pop / 4 (50 + 100)
    assert facts["households"] == 3 + 50 + 3 + 100
    assert facts["poor_pop"] == 10  # 4 + 5 + 1
    assert facts["poverty_incidence"] == pytest.approx(10 / 21)  # over registry people
    assert facts["poor_pop_source"] == "not_covered+registry_complete"  # 二村, 四村 labelled


@pytest.mark.slow
def test_validation_report_text(tiny_region: TinyRegion) -> None:
    report = validation_report(tiny_region.path)
    assert report.ok
    text = report.to_text()
    assert "EPSG:4545" in text
    for name in ("villages", "roads", "boundaries.county", "households", "dem", "hazards.flood"):
        assert name in text
    assert "area: 80.0 km²" in text
    assert "density 0.19 km/km²" in text
    assert "poverty incidence: 30.3% (303 poor people, estimated from a registry sample" in text
    assert "result: OK" in text
    # columns line up: every table row starts the 'file' column at the same display width
    from contigmap.dryrun import _width

    table = text.split("\n\n")[1].splitlines()
    starts = {
        _width(line[: line.index(name)])
        for line, name in zip(table, ["file", "villages.csv", "roads.gpkg"], strict=False)
    }
    assert len(starts) == 1


@pytest.mark.slow
def test_validation_report_collects_layer_errors(tiny_region: TinyRegion) -> None:
    (tiny_region.folder / "flood.geojson").unlink()
    hh = pd.read_csv(tiny_region.folder / "households.csv", dtype=str)
    hh.loc[1, "household_id"] = "H1"
    hh.to_csv(tiny_region.folder / "households.csv", index=False)
    report = validation_report(tiny_region.path)
    assert not report.ok
    failed = {r.name for r in report.layers if r.failed}
    assert failed == {"hazards.flood", "households"}
    text = report.to_text()
    assert "ERROR   layers.hazards.flood (flood.geojson): file not found" in text
    assert "ERROR   layers.households (households.csv): id 'H1'" in text
    assert "result: FAILED: 2 errors (run would stop at the first)" in text
    assert report.facts["villages"] == 4  # the rest still checked


@pytest.mark.slow
def test_validate_counts_duplicate_and_multipart_lines(tiny_region: TinyRegion) -> None:
    roads = gpd.read_file(tiny_region.folder / "roads.gpkg", layer="roads")
    extra = gpd.GeoDataFrame(
        {"RID": [4, 5], "等级": ["村道", "村道"], "路面": ["gravel", "gravel"]},
        geometry=[
            roads.geometry.iloc[1],  # a copy of road 2
            MultiLineString([[(X0 + 8_000, Y0 + 4_000), (X0 + 8_000, Y0 + 5_000)],
                             [(X0 + 9_000, Y0 + 4_000), (X0 + 9_000, Y0 + 5_000)]]),
        ],
        crs=roads.crs,
    )
    pd.concat([roads, extra], ignore_index=True).to_file(
        tiny_region.folder / "roads.gpkg", layer="roads", engine="pyogrio")
    report = validation_report(tiny_region.path)
    assert report.ok
    text = report.to_text()
    assert ("warning layers.roads (roads.gpkg): 1 duplicate geometries (same shape as an "
            "earlier feature: feature 4)") in text
    assert "warning layers.roads (roads.gpkg): 1 multi-part line(s) (feature 5)" in text


@pytest.mark.slow
def test_validate_strict_makes_left_out_rows_an_error(tiny_region: TinyRegion) -> None:
    path = tiny_region.folder / "services.csv"
    lines = path.read_text(encoding="utf-8").strip().splitlines()
    parts = lines[2].split(",")
    parts[-1] = ""  # spreadsheet row 3 loses its latitude
    lines[2] = ",".join(parts)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = validation_report(tiny_region.path, quick=True)
    assert report.ok
    assert ("warning layers.services (services.csv): 1 row(s) of services.csv have missing or "
            "non-numeric coordinates") in report.to_text()
    assert any("(row 3); these rows are left out" in f.text for f in report.warnings)
    report = validation_report(tiny_region.path, strict=True, quick=True)
    assert not report.ok
    assert "ERROR   layers.services (services.csv): 1 row(s) of services.csv" in (
        report.to_text())
    from click.testing import CliRunner

    from contigmap.cli.main import cli

    result = CliRunner().invoke(cli, ["validate", "--strict", str(tiny_region.path)])
    assert result.exit_code == 1 and "strict mode" in result.output
    result = CliRunner().invoke(cli, ["--strict", "validate", str(tiny_region.path)])
    assert result.exit_code == 1
    result = CliRunner().invoke(cli, ["validate", str(tiny_region.path)])
    assert result.exit_code == 0


# ---------------------------------------------------------------- the dry run


def _break_in_seven_ways(region: TinyRegion) -> None:
    """Break the tiny region in seven independent ways (see the test)."""
    folder = region.folder
    # 1. villages: the 4th village repeats the 3rd village's code
    lines = (folder / "villages.csv").read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace(VILLAGE_CODES[3], VILLAGE_CODES[2])
    (folder / "villages.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # 2. roads: a 桥梁 column with '也许' (row 2), 3. road 3's class is 'highway9'
    roads = gpd.read_file(folder / "roads.gpkg", layer="roads")
    roads["桥梁"] = ["否", "也许", "是"]
    roads.loc[2, "等级"] = "highway9"
    roads.to_file(folder / "roads.gpkg", layer="roads", engine="pyogrio")
    text = region.path.read_text(encoding="utf-8")
    text = text.replace("路面: surface}", "路面: surface, 桥梁: bridge}")
    # 4. hazards.flood: the file is gone
    (folder / "flood.geojson").unlink()
    region.path.write_text(text, encoding="utf-8")
    # 5. households: a code matching no village (2 rows), 6. an unknown cause
    hh = pd.read_csv(folder / "households.csv", dtype=str)
    hh["cause"] = ["外星人", "", "因病", "", "", "因学"]  # H1, H3, H6 are the poor ones
    extra = pd.DataFrame({"household_id": ["H7", "H8"], "village_id": ["433124199999"] * 2,
                          "members": ["2", "3"], "poor": ["否", "否"], "cause": ["", ""]})
    pd.concat([hh, extra], ignore_index=True).to_csv(folder / "households.csv", index=False)
    # 7. services: spreadsheet row 3 (the 2nd service) has no latitude
    path = folder / "services.csv"
    rows = path.read_text(encoding="utf-8").strip().splitlines()
    parts = rows[2].split(",")
    parts[-1] = ""
    rows[2] = ",".join(parts)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.mark.slow
def test_validate_lists_every_problem_at_once_and_run_stops_at_the_first(
    tiny_region: TinyRegion, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from contigmap.cli.main import cli

    _break_in_seven_ways(tiny_region)
    result = CliRunner().invoke(cli, ["-q", "validate", str(tiny_region.path)])
    assert result.exit_code == 1, result.output
    text = result.output
    # the four errors, each on one line naming the layer, file, column and rows
    expected_errors = [
        "ERROR   layers.villages (villages.csv): id '433124101201' in column 'village_id' "
        "repeats in data rows 3, 4",
        "ERROR   layers.roads (roads.gpkg): column 'bridge' is a yes/no column but holds "
        "'也许' in feature 2",
        "ERROR   layers.roads (roads.gpkg): unknown road_class 'highway9' in data row 3 "
        "(id '3')",
        "ERROR   layers.hazards.flood (flood.geojson): file not found",
    ]
    # the three warnings of the broken rows
    expected_warnings = [
        "warning overlay stage, layers.households (households.csv): 2 row(s) have village "
        "codes that match no village and are left out: 433124199999 (2 rows)",
        "warning overlay stage, layers.households (households.csv): 1 poor household(s) have "
        "an unknown or blank cause, counted as 'other' (其他): '外星人' (1)",
        "warning layers.services (services.csv): 1 row(s) of services.csv have missing or "
        "non-numeric coordinates",
    ]
    lines = text.splitlines()
    for want in expected_errors + expected_warnings:
        assert sum(line.strip().startswith(want) for line in lines) == 1, (want, text)
    assert sum(line.strip().startswith("ERROR") for line in lines) == 4
    assert "result: FAILED: 4 errors (run would stop at the first), " in text
    assert lines[-1].startswith("result: FAILED")
    # the dry run went on to the network stage despite the errors
    assert any(line.strip().startswith("warning network stage") for line in lines), text
    assert "贫困人口来源 poor people from (villages):" in text

    # run on the same region stops on the first error (the repeated village code) alone
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["-q", "run", str(tiny_region.path), "-o", str(out)])
    assert result.exit_code == 1
    assert "id '433124101201' in column 'village_id' repeats" in result.stderr
    for other in ("也许", "highway9", "flood.geojson", "433124199999", "外星人"):
        assert other not in result.stderr + result.output
    assert not out.exists()


@pytest.mark.slow
def test_validate_report_counts_and_quick(tiny_region: TinyRegion) -> None:
    _break_in_seven_ways(tiny_region)
    full = validation_report(tiny_region.path)
    quick = validation_report(tiny_region.path, quick=True)
    assert len(full.errors) == len(quick.errors) == 4
    assert not any(f.where.startswith("network stage") for f in quick.findings)
    assert any(f.where.startswith("network stage") for f in full.findings)
    assert "the network stage (--quick)" in quick.to_text()
    assert full.summary().startswith(
        f"4 errors (run would stop at the first), {len(full.warnings)} warnings (run would "
        "go on: ")
    assert "rows left out (" in full.summary()
    # the rows with errors are left out, the rest is used: 3 villages, 2 roads
    assert full.facts["villages"] == 3
    assert full.facts["road_km"] == pytest.approx(13.0)


@pytest.mark.slow
def test_validate_names_villages_that_cannot_reach_their_seat(
    seated_region: TinyRegion,
) -> None:
    # road 3 (the track to 十八洞村) now stops 500 m short of the county road: a piece
    # of the network without a seat
    roads = gpd.read_file(seated_region.folder / "roads.gpkg", layer="roads")
    roads.loc[2, "geometry"] = LineString([(X0 + 7_000, Y0 + 3_500), (X0 + 7_000, Y0 + 2_000)])
    roads.to_file(seated_region.folder / "roads.gpkg", layer="roads", engine="pyogrio")
    report = validation_report(seated_region.path)
    assert report.ok
    reach = [f for f in report.findings if "cannot reach their own township seat" in f.text]
    assert len(reach) == 1 and reach[0].where == "network stage, layers.villages (villages.csv)"
    assert reach[0].text.startswith("1 of 4 cannot reach their own township seat")
    assert "(network_piece_without_seat): 十八洞村" in reach[0].text
    assert "villages kept without travel times (1)" in report.summary()
    # --quick does not look
    quick = validation_report(seated_region.path, quick=True)
    assert not any("cannot reach" in f.text for f in quick.findings)
    assert "township seat" not in " ".join(
        f.text for f in report.findings if f.where.startswith("layers.services"))
