"""The handover fixture (issue #19, ``contigmap synth handover``): from ``contigmap init`` to
a complete ``run`` with no hand edits, and its headline figures recomputed apart from the
pipeline.

The independent side reads the raw files with pandas / geopandas only: the report-style
workbook by its cell layout (title rows, two header rows, rows with a code), the File
Geodatabase with pyogrio, the county's 农村公路 GeoPackage for the hardened roads. It uses
the generator's truth (written outside the region folder) for pop and poor people.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from click.testing import CliRunner

from contigmap.cli.main import cli
from contigmap.init import CONFIRM, init_region
from contigmap.synth.handover import dms, id_check_char, make_handover_region

ROOT = Path(__file__).resolve().parents[1]
HANDOVER = ROOT / "layers" / "handover"
HARDENED = {"沥青", "水泥"}

pytest.importorskip("osmium")  # the OSM extract is written and read with pyosmium


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "region.yaml"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The generated region (no manifest yet) and the generator's truth per village."""
    base = tmp_path_factory.mktemp("handover")
    make_handover_region(base / "region", truth_csv=base / "truth.csv")
    truth = pd.read_csv(base / "truth.csv", dtype={"village_id": str, "township_id": str})
    return base / "region", truth


@pytest.fixture(scope="module")
def drafted(generated: tuple[Path, pd.DataFrame]) -> Path:
    """``contigmap init`` on the folder: the region.yaml, unedited."""
    folder, _ = generated
    result = CliRunner().invoke(cli, ["-q", "init", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return folder / "region.yaml"


@pytest.fixture(scope="module")
def run_dir(drafted: Path) -> Path:
    out = drafted.parent.parent / "out"
    result = CliRunner().invoke(cli, ["-q", "run", str(drafted), "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def villages_out(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "villages.csv", dtype={"village_id": str, "township_id": str})


def _statistics(path: Path) -> pd.DataFrame:
    """The statistics sheet read by hand: rows 5.. with a code in column C (村代码)."""
    raw = pd.read_excel(path, header=None, dtype=object, engine="openpyxl")
    body = raw.iloc[4:]
    body = body[body[2].notna()]
    return pd.DataFrame({"village_id": body[2].map(lambda v: str(int(v))),
                         "pop": body[4].astype(int), "households": body[5].astype(int),
                         "poor_pop": body[7].astype(int)}).reset_index(drop=True)


# --------------------------------------------------------------------------- generator


def test_id_check_character() -> None:
    # GB 11643-1999 example: 11010519491231002X
    assert id_check_char("11010519491231002") == "X"
    assert dms(113.2095, "E", "W") == "113°12′34.20″E"
    assert dms(-25.5, "N", "S") == "25°30′00.00″S"


@pytest.mark.slow
def test_generator_is_deterministic_and_matches_the_committed_fixture(
        generated: tuple[Path, pd.DataFrame], tmp_path: Path) -> None:
    folder, truth = generated
    again = make_handover_region(tmp_path / "again")
    assert _digest(again) == _digest(folder) == _digest(HANDOVER)
    assert sum(p.stat().st_size for p in HANDOVER.rglob("*") if p.is_file()) < 2_000_000
    assert len(truth) == 40
    # the shapes of issue #19
    areas = gpd.read_file(folder / "村界.gdb")
    assert areas["村代码"].dtype == float and len(areas) == 40
    assert len(list((folder / "DEM").glob("*.tif"))) == 4
    with zipfile.ZipFile(folder / "地质灾害隐患点.kmz") as kmz:
        kml = kmz.read("doc.kml").decode("utf-8")
    assert kml.count("<Folder>") == 2
    registry = pd.read_excel(folder / "建档立卡户名单.xlsx", dtype=str, engine="openpyxl")
    assert set(registry["户类型"]) == {"建档立卡户", "边缘户"}
    ids = registry["身份证号"]
    assert ids.str.len().eq(18).all()
    assert all(id_check_char(i[:17]) == i[17] for i in ids)
    services = pd.read_csv(folder / "公共服务设施_百度.csv", dtype=str)
    assert services["百度经度"].str.contains("°").sum() == 4  # the township seats, as DMS


# --------------------------------------------------------------------------- init


def test_report_header_rows() -> None:
    from contigmap.init.scan import report_header

    rows = [["某县统计表", None, None, None], ["单位：人", None, None, None],
            ["村代码", "村名", "人口情况", None], [None, None, "户籍人口", "户数"],
            ["360799101201", "青松村", 1200, 400]]
    assert report_header(pd.DataFrame(rows, dtype=object)) == [3, 4]
    assert report_header(pd.DataFrame(rows[2:3] + rows[4:], dtype=object)) is None
    one = [rows[0], ["村代码", "村名", "户籍人口", "户数"], rows[4]]
    assert report_header(pd.DataFrame(one, dtype=object)) == [2]


def test_baidu_and_dms_coordinates_are_found() -> None:
    from contigmap.init.scan import _find_xy, guess_crs_from_xy

    assert _find_xy(["名称", "百度经度", "百度纬度"]) == ("百度经度", "百度纬度")
    assert _find_xy(["bd09_lng", "bd09_lat"]) == ("bd09_lng", "bd09_lat")
    crs, _, swapped = guess_crs_from_xy(["113°12′34.5″E", "113.3"], ["25°10′00″N", "25.2"])
    assert crs == "EPSG:4490" and not swapped


def test_poor_only_reason() -> None:
    from contigmap.init.forms import poor_only_reason
    from contigmap.init.scan import Candidate

    def cand(values: list[str], kind: list[str] | None = None) -> Candidate:
        data = {"是否贫困户": values, **({"户类型": kind} if kind else {})}
        return Candidate(Path("r.xlsx"), "r.xlsx", None, "table", list(data),
                         sample=pd.DataFrame(data))

    assert poor_only_reason(cand(["是"] * 17 + ["否"] * 3), "是否贫困户") is not None  # 85%
    assert poor_only_reason(cand(["是"] * 16 + ["否"] * 4), "是否贫困户") is None  # 80%
    assert poor_only_reason(cand(["是"] * 10), "是否贫困户") is None  # too few to tell
    assert poor_only_reason(cand(["是", "否"], ["建档立卡户", "边缘户"]), "是否贫困户") is not None


def test_merge_keeps_a_multi_part_line_of_a_later_source() -> None:
    """A multi-part line in the second roads source is added, not joined (it has no ends)."""
    from contigmap.io.merge import merge_line_sources

    first = gpd.GeoDataFrame({"road_id": ["a"], "road_class": ["county"]},
                             geometry=[shapely.LineString([(0, 0), (1000, 0)])], crs=4547)
    multi = shapely.MultiLineString([[(0, 20), (0, 500)], [(500, 20), (500, 500)]])
    second = gpd.GeoDataFrame({"road_id": ["m", "b"], "road_class": ["village", "village"]},
                              geometry=[multi, shapely.LineString([(800, 10), (800, 400)])],
                              crs=4547)
    merged, report = merge_line_sources([first, second], ["roads", "roads[2]"])
    assert len(merged) == 3
    assert merged.geometry.iloc[1].equals(multi)  # unchanged
    assert report.ends_joined["roads[2]"] == 1  # the single line's end 10 m off


@pytest.mark.slow
def test_init_drafts_every_form(generated: tuple[Path, pd.DataFrame]) -> None:
    folder, _ = generated
    draft = init_region(folder)
    data = yaml.safe_load(draft.text)
    layers = data["layers"]
    villages = layers["villages"]
    assert villages["path"] == "村界.gdb"
    join = villages["join"][0]
    assert join["path"] == "人口统计表.xlsx" and join["header_row"] == [3, 4]
    assert join.get("on", join.get(True)) == {"村代码": "村代码"}  # YAML 1.1: on is true
    assert set(join["columns"].values()) == {"pop", "households", "poor_households",
                                             "poor_pop"}
    assert [r["path"] for r in layers["roads"]] == ["osm_roads.osm.pbf", "农村公路.gpkg"]
    assert layers["roads"][1]["priority"] == 1
    assert len(layers["dem"]["paths"]) == 4
    assert layers["services"]["datum"] == "bd09"
    assert layers["households"]["coverage"] == "poor_only"
    assert layers["hazards"]["hazard_points"]["columns"] == {"folder": "hazard_type"}
    for line in draft.text.splitlines():  # each guess is marked
        if re.match(r"\s*(datum|coverage|priority|header_row): ", line):
            assert CONFIRM in line, line
    assert "files not used" not in draft.text


# --------------------------------------------------------------------------- run


@pytest.mark.slow
def test_validate_lists_the_report_rows_left_out(drafted: Path) -> None:
    result = CliRunner().invoke(cli, ["-q", "validate", str(drafted)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # 4 township 小计 rows, the 合计 row and the note row of 人口统计表.xlsx
    assert "6 subtotal, total or note row(s) left out" in result.output
    assert "0 errors" in result.output


@pytest.mark.slow
def test_headline_figures_agree(generated: tuple[Path, pd.DataFrame], run_dir: Path,
                                villages_out: pd.DataFrame) -> None:
    folder, truth = generated
    stats = _statistics(folder / "人口统计表.xlsx")
    areas = gpd.read_file(folder / "村界.gdb")
    assert len(villages_out) == len(areas) == len(stats) == len(truth) == 40
    pd.testing.assert_series_equal(stats["pop"], truth["pop"], check_names=False)
    out = villages_out.set_index("village_id").loc[truth["village_id"]]
    np.testing.assert_array_equal(out["pop"], truth["pop"])
    np.testing.assert_array_equal(out["poor_pop"], truth["poor_pop"])
    np.testing.assert_allclose(out["poverty_incidence"], truth["poor_pop"] / truth["pop"],
                               rtol=0, atol=5e-5)  # villages.csv rounds shares to 4 places
    assert (out["poor_pop_source"] == "villages_layer").all()
    county = pd.read_csv(run_dir / "indicators.csv").query("level == 'county'").iloc[0]
    assert county["villages"] == 40
    assert county["poor_pop"] == truth["poor_pop"].sum() == stats["poor_pop"].sum()
    assert county["poverty_incidence"] == pytest.approx(
        truth["poor_pop"].sum() / truth["pop"].sum(), rel=1e-12)
    # the poor-only registry gives no incidence: 8,830 poor people, not its own count
    assert 0.1 < county["poverty_incidence"] < 0.3
    # ... but the causes (of the poor it lists)
    assert (out["cause_source"] != "none").all()
    # the village over the DEM's void gets an elevation (the void is filled)
    on_void = truth.loc[truth["on_dem_void"], "village_id"]
    assert len(on_void) == 1
    assert out.loc[on_void, "elevation_m"].notna().all()


@pytest.mark.slow
def test_rai_from_the_county_roads(generated: tuple[Path, pd.DataFrame], run_dir: Path) -> None:
    """RAI: people within 2 km of a hardened road of 农村公路.gpkg (the OSM copy is 4 m off)."""
    folder, truth = generated
    manifest = json.loads((run_dir / "run_manifest.json").read_text(encoding="utf-8"))
    working = str(manifest["parameters"]["working_crs"])
    roads = gpd.read_file(folder / "农村公路.gpkg").to_crs(working)
    hard = shapely.union_all(roads.geometry[roads["路面类型"].isin(HARDENED)].to_numpy())
    areas = gpd.read_file(folder / "村界.gdb").to_crs(working)
    pts = areas.geometry.representative_point()
    dist = shapely.distance(pts.to_numpy(), hard)
    assert (np.abs(dist - 2000.0) > 10.0).all()  # no village near the threshold
    codes = areas["村代码"].map(lambda v: str(int(v)))
    pop = truth.set_index("village_id").loc[codes, "pop"].to_numpy()
    expected = pop[dist <= 2000.0].sum() / pop.sum()
    county = pd.read_csv(run_dir / "county_access.csv")
    assert county["rai"].iloc[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.slow
def test_services_read_from_bd09_and_dms(generated: tuple[Path, pd.DataFrame],
                                         drafted: Path) -> None:
    """The clinic listed twice is one place, the neighbour's clinic is kept and flagged,
    and the seats given as DMS text land in the county (their township's strip)."""
    from contigmap.config import load_region
    from contigmap.io.region import load_region_layers

    folder, _ = generated
    raw = pd.read_csv(folder / "公共服务设施_百度.csv", dtype=str)
    twice = raw["名称"][raw["名称"].duplicated()].tolist()
    assert len(twice) == 1
    services = load_region_layers(load_region(drafted)).services
    assert services is not None
    assert len(services) == len(raw) - 1
    assert (services["name"] == twice[0]).sum() == 1
    assert services.loc[services["outside_county"], "name"].tolist() == ["邻县枫木村卫生室"]
    county = gpd.read_file(folder / "县界.geojson").to_crs(services.crs).geometry.iloc[0]
    seats = services[services["name"].str.endswith("人民政府")]
    assert len(seats) >= 4 and seats.within(county).all()


@pytest.mark.slow
def test_no_personal_data_in_outputs(generated: tuple[Path, pd.DataFrame],
                                     run_dir: Path) -> None:
    folder, _ = generated
    registry = pd.read_excel(folder / "建档立卡户名单.xlsx", dtype=str, engine="openpyxl")
    needles = [s.encode("utf-8") for s in
               (*registry["户主姓名"].unique(), *registry["身份证号"].unique())]
    blobs: list[tuple[str, bytes]] = []
    for path in sorted(run_dir.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                blobs += [(f"{path.name}:{m}", book.read(m)) for m in book.namelist()]
        else:
            blobs.append((path.name, path.read_bytes()))
    assert {Path(name.split(":")[0]).suffix for name, _ in blobs} >= {
        ".csv", ".xlsx", ".gpkg", ".html", ".md", ".json"}
    for name, blob in blobs:
        found = [n.decode() for n in needles if n in blob]
        assert not found, f"{name} holds {found[:3]}"


@pytest.mark.slow
def test_fixture_copy_runs_init(tmp_path: Path) -> None:
    """The committed fixture is what ``init`` reads (copied: init writes region.yaml)."""
    shutil.copytree(HANDOVER, tmp_path / "h")
    draft = init_region(tmp_path / "h")
    assert "村界.gdb" in draft.text and "coverage: poor_only" in draft.text
