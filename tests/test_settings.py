"""One settings model, layered: region.yaml network: → --config → scenario params:."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from contigmap.cli.main import cli
from contigmap.config import load_region
from contigmap.errors import ConfigError
from contigmap.network.speeds import NetworkParams
from contigmap.pipeline import prepare
from contigmap.scenario.model import parse_scenario
from contigmap.settings import run_settings
from tests.helpers import VILLAGE_CODES, X0, Y0, TinyRegion, to_lonlat, write_tiny_region


def _villages_csv() -> str:
    """Four villages placed for the RAI (roads: paved y = 4 km, gravel x = 2 km, y 2–4 km).

    A (2 km, 0.5 km): 1.5 km from the gravel road's end, 3.5 km from the paved road;
    B (3 km, 5 km): 1 km from the paved road; C (7 km, 1 km): 1 km from the earth track
    only, 3 km from the paved road; D (8 km, 4.5 km): 0.5 km from the paved road.
    """
    x = [X0 + 2_000, X0 + 3_000, X0 + 7_000, X0 + 8_000]
    y = [Y0 + 500, Y0 + 5_000, Y0 + 1_000, Y0 + 4_500]
    lon, lat = to_lonlat(x, y)
    towns = ["433124100", "433124100", "433124101", "433124101"]
    rows = ["村代码,村名,乡镇代码,人口,经度,纬度"]
    for i, name in enumerate(["甲村", "乙村", "丙村", "丁村"]):
        rows.append(f"{VILLAGE_CODES[i]},{name},{towns[i]},{100 * (i + 1)},"
                    f"{lon[i]:.8f},{lat[i]:.8f}")
    return "\n".join(rows) + "\n"


def _region(tmp_path: Path, extra_yaml: str = "") -> Path:
    return write_tiny_region(tmp_path / "r", villages_csv=_villages_csv(), seats=True,
                             extra_yaml=extra_yaml)


@pytest.mark.slow
def test_rai_counts_hardened_roads_only_by_default(tmp_path: Path) -> None:
    state = prepare(_region(tmp_path), priorities=False)
    v = state.villages.set_index("name")
    # A lies 1.5 km from the gravel road and nowhere near a hardened one: not counted
    assert v.loc["甲村", "dist_all_season_m"] == pytest.approx(3_500, abs=5)
    assert v["all_season_2km"].to_dict() == {"甲村": False, "乙村": True, "丙村": False,
                                             "丁村": True}
    county = state.network.county_summary
    assert county is not None
    assert county["rai"].iloc[0] == pytest.approx((200 + 400) / 1000)
    assert "硬化路: surface paved" in county["rai_definition"].iloc[0]
    towns = state.network.township_summary
    assert towns is not None
    assert towns.set_index("township_id")["rai"].to_dict() == pytest.approx(
        {"433124100": 200 / 300, "433124101": 400 / 700})
    assert (towns["rai_definition"] == county["rai_definition"].iloc[0]).all()


@pytest.mark.slow
def test_region_network_section_counts_gravel_when_asked(tmp_path: Path) -> None:
    path = _region(tmp_path, "network:\n  all_season_surfaces: [paved, gravel]\n")
    state = prepare(path, priorities=False)
    v = state.villages.set_index("name")
    assert v.loc["甲村", "dist_all_season_m"] == pytest.approx(1_500, abs=5)
    assert bool(v.loc["甲村", "all_season_2km"])
    county = state.network.county_summary
    assert county is not None
    assert county["rai"].iloc[0] == pytest.approx((100 + 200 + 400) / 1000)
    assert "surface paved+gravel" in county["rai_definition"].iloc[0]


def test_unknown_network_key_in_region_names_the_closest(tmp_path: Path) -> None:
    path = _region(tmp_path, "network:\n  snap_tolerance: 3\n")
    with pytest.raises(ConfigError, match="did you mean 'snap_tolerance_m'"):
        load_region(path)


def test_layers_apply_in_order(tmp_path: Path) -> None:
    region = load_region(_region(tmp_path, (
        "network:\n  season: rainy\n  speed_kmh: {village: {gravel: 12}}\n"
        "  snap_tolerance_m: 2\n")))
    cfg = tmp_path / "settings.yaml"
    cfg.write_text(
        "network:\n  speed_kmh: {village: {paved: 22}}\n  snap_tolerance_m: 3\n"
        "priorities:\n  roads: {costs: {harden_cny_per_km: {flat: 111}}}\n"
        "relocation:\n  assignment: {time_limit_s: 7}\n"
        "  candidates: {hazard_raster_mean_min: 0.7}\n", encoding="utf-8")
    s = run_settings(region, config=cfg)
    net = s.network
    assert net.season == "rainy"                                # region
    assert net.speed_kmh["village"] == {"paved": 22.0, "gravel": 12.0, "earth": 15.0}
    assert net.snap_tolerance_m == 3.0                          # --config beats region
    roads = s.priorities.roads.costs
    assert roads.harden_cny_per_km.flat == 111                  # one value changed ...
    assert roads.harden_cny_per_km.hilly == 800_000             # ... the rest packaged
    assert s.relocation.assignment.time_limit_s == 7
    assert s.relocation.candidates.hazard_raster_mean_min == 0.7
    assert s.relocation.assignment.max_travel_time_min == 150   # packaged
    assert run_settings(region, config=cfg, season="dry").season == "dry"  # --season last
    # a scenario's params: go on top of the run's settings, cell by cell
    sc = parse_scenario({"name": "x", "params": {"speed_kmh": {"village": {"earth": 9}}},
                         "changes": [{"type": "close", "roads": ["1"]}]})
    eff = sc.network_params(net)
    assert eff.speed_kmh["village"] == {"paved": 22.0, "gravel": 12.0, "earth": 9.0}
    assert eff.season == "rainy" and eff.snap_tolerance_m == 3.0
    rainy = parse_scenario({"name": "y", "season": "dry",
                            "changes": [{"type": "close", "roads": ["1"]}]})
    assert rainy.network_params(net).season == "dry"
    params = s.manifest_parameters()
    json.dumps(params)  # JSON-ready
    assert params["network"]["speed_kmh"]["village"]["paved"] == 22.0
    assert params["relocation"]["assignment"]["time_limit_s"] == 7


def test_bad_config_files_name_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("relocaton: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="did you mean 'relocation'"):
        run_settings(config=cfg)
    cfg.write_text("network: {all_season_surfaces: [tarmac]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.yaml: network: .*unknown surface 'tarmac'"):
        run_settings(config=cfg)
    cfg.write_text("relocation: {assignment: {time_limit_s: -1}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.yaml: relocation: 'assignment\.time_limit_s': "
                                          r".*greater than 0 \(got -1\)"):
        run_settings(config=cfg)


def test_network_params_keep_only_what_was_given() -> None:
    region = NetworkParams.model_validate({"speed_kmh": {"village": {"gravel": 15}}})
    scenario = NetworkParams.model_validate({"speed_kmh": {"village": {"paved": 30}}})
    eff = NetworkParams().layered(region, {"slope_penalty": False}, scenario)
    # the scenario's partial table does not reset the region's gravel speed to 20
    assert eff.speed_kmh["village"] == {"paved": 30.0, "gravel": 15.0, "earth": 15.0}
    assert not eff.slope_penalty


@pytest.mark.slow
def test_run_with_config_records_settings_and_writes_legs(tmp_path: Path) -> None:
    region = _region(tmp_path)
    cfg = tmp_path / "settings.yaml"
    cfg.write_text("network: {speed_kmh: {county: {paved: 30}}}\n"
                   "relocation: {assignment: {time_limit_s: 9}}\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["-q", "run", str(region), "-o", str(out), "--config",
                                      str(cfg)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "run_manifest.json").read_text(encoding="utf-8"))
    params = manifest["parameters"]
    assert params["season"] == "dry"
    assert params["network"]["speed_kmh"]["county"]["paved"] == 30.0
    assert params["relocation"]["assignment"]["time_limit_s"] == 9
    assert "硬化路" in params["rai_definition"]
    assert "settings.yaml" in {Path(r["path"]).name for r in manifest["inputs"]}
    county = pd.read_csv(out / "county_access.csv")
    assert "硬化路" in county["rai_definition"].iloc[0]
    assert "rai_definition" in pd.read_csv(out / "township_access.csv").columns
    legs = pd.read_csv(out / "access_legs.csv", dtype={"id": str})
    villages = legs[legs["kind"] == "village"].set_index("id")
    assert set(villages.index) == set(VILLAGE_CODES)
    # 甲村 walks 1.5 km due north to the gravel road's end; the DEM rises eastwards only,
    # so the leg is level: Tobler's flat 5.04 km/h
    a = villages.loc[VILLAGE_CODES[0]]
    assert a["leg_length_m"] == pytest.approx(1_500, abs=5)
    assert a["leg_rise_m"] == pytest.approx(0.0, abs=0.5)
    assert a["leg_min"] == pytest.approx(1_500 / (6 * math.exp(-0.175) * 1000 / 60), abs=0.1)
    assert set(legs["kind"]) >= {"village", "health_centre", "county_seat", "township_seat"}
    services = legs[legs["kind"] != "village"]
    assert services["leg_length_m"].max() < 1.0  # the services stand on the county road
    # the village table's walk_leg_min is the same leg
    table = pd.read_csv(out / "villages.csv", dtype={"village_id": str}).set_index("village_id")
    assert table.loc[VILLAGE_CODES[0], "walk_leg_min"] == pytest.approx(a["leg_min"], abs=0.01)


@pytest.mark.slow
def test_priorities_config_accepts_both_file_shapes(seated_region: TinyRegion,
                                                     tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("priorities: {roads: {weights: {poor_pop: 0.9}}}\n", encoding="utf-8")
    out = tmp_path / "p"
    result = CliRunner().invoke(cli, ["-q", "priorities", str(seated_region.path), "-o",
                                      str(out), "--config", str(cfg)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("network: {slope_penalty: maybe}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["-q", "priorities", str(seated_region.path), "-o",
                                      str(out), "--config", str(bad)])
    assert result.exit_code == 1
    assert "bad.yaml: network: 'slope_penalty'" in result.stderr


@pytest.mark.slow
def test_user_road_costs_price_scenarios_and_projects(seated_region: TinyRegion,
                                                      tmp_path: Path) -> None:
    """Issue #13: the user's road costs, not the packaged ones, price scenarios and projects."""
    from contigmap.optimize import optimise_projects
    from contigmap.planning import evaluate_scenarios

    cfg = tmp_path / "c.yaml"
    cfg.write_text("priorities:\n  roads:\n    costs:\n      harden_cny_per_km: "
                   "{flat: 1000, hilly: 1000, mountainous: 1000}\n", encoding="utf-8")
    state = prepare(seated_region.path, priorities=False, config=cfg)
    sc = parse_scenario({"name": "pave", "changes": [
        {"type": "upgrade", "roads": ["2"], "to": {"surface": "paved"}}]})
    (result,) = evaluate_scenarios(state, [sc])
    # road 2 is 2 km + 1 km long: 3 km at 1,000 CNY/km
    assert result.summary["cost_cny"] == pytest.approx(3_000.0)
    chosen = optimise_projects(
        state.network.graph, state.villages, state.data.services, budget_cny=1e9,
        candidates=pd.DataFrame({"project_id": ["p"], "road_ids": ["2"]}),
        costs=state.settings.priorities.roads.costs, dem=state.data.dem)
    # in the graph road 2 keeps its own 2 km: its last km lies on the county road and is
    # merged into it as a duplicate edge
    assert chosen["cost_cny"].tolist() == pytest.approx([2_000.0])
