"""Scenario files: validation messages and applying changes to a small road layer."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from pyproj import CRS

from contigmap.config import LayersConfig, LayerSpec, RegionConfig
from contigmap.errors import ConfigError
from contigmap.io.region import RegionData
from contigmap.scenario import apply_scenario, evaluate_scenario, load_scenario, parse_scenario
from tests.helpers import hand_network


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_unknown_key_suggests(tmp_path: Path) -> None:
    p = _write(tmp_path, "name: a\nchanges:\n  - type: upgrade\n    rodas: [R1]\n"
                         "    to: {surface: paved}\n")
    with pytest.raises(ConfigError, match=r"change 0 \(upgrade\).*did you mean 'roads'"):
        load_scenario(p)


def test_unknown_type(tmp_path: Path) -> None:
    p = _write(tmp_path, "name: a\nchanges:\n  - type: upgrad\n")
    with pytest.raises(ConfigError, match="did you mean 'upgrade'"):
        load_scenario(p)


def test_bad_surface_value() -> None:
    data = {"name": "a", "changes": [{"type": "upgrade", "roads": ["R1"],
                                      "to": {"surface": "pavedd"}}]}
    with pytest.raises(ConfigError, match="did you mean 'paved'"):
        parse_scenario(data, source="x.yaml")


def _region() -> RegionData:
    roads, villages, services = hand_network()
    cfg = RegionConfig(name="t", layers=LayersConfig(villages=LayerSpec(path=Path("v")),
                                                     roads=LayerSpec(path=Path("r"))))
    return RegionData(config=cfg, working_crs=CRS.from_user_input(roads.crs),
                      villages=villages, roads=roads, services=services)


def test_missing_road_id_suggests_close() -> None:
    sc = parse_scenario({"name": "a", "changes": [
        {"type": "close", "roads": ["R9"]},
    ]}, source="x.yaml")
    with pytest.raises(ConfigError,
                       match=r"x.yaml: change 0 \(close\): road id 'R9'.*did you mean R"):
        apply_scenario(_region(), sc)


def test_selection_matching_nothing() -> None:
    sc = parse_scenario({"name": "a", "changes": [
        {"type": "upgrade", "select": {"surface": ["earth"]}, "to": {"surface": "paved"}},
    ]}, source="x.yaml")
    with pytest.raises(ConfigError, match="matches no road"):
        apply_scenario(_region(), sc)


def test_geometry_outside_region() -> None:
    sc = parse_scenario({"name": "a", "changes": [
        {"type": "build", "geometry": "LINESTRING (10 10, 10.1 10.1)"},
    ]}, source="x.yaml")
    with pytest.raises(ConfigError, match="outside the region"):
        apply_scenario(_region(), sc)


@pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")
def test_close_and_upgrade_evaluate() -> None:
    data = _region()
    sc = parse_scenario({"name": "a", "changes": [
        {"type": "close", "roads": ["R2"]},
        {"type": "upgrade", "roads": ["R3"], "to": {"road_class": "county"}},
    ]}, source="x.yaml")
    res = evaluate_scenario(data, sc)
    v = res.villages.set_index("village_id")
    # V1 detours over R3, now a county road (40 km/h = 1.5 min/km): 1 km + 3 km + 0.4 km
    assert v.loc["V1", "tt_own_township_seat_min"] == pytest.approx(2.4 + 3 * 1.5 + 0.4 * 2.4)
    assert v.loc["V1", "d_tt_own_township_seat_min"] == pytest.approx(
        2.4 + 4.5 + 0.96 - 2.4 * 2.4)
    assert res.summary["cost_cny"] > 0
    assert isinstance(res.changed_roads, gpd.GeoDataFrame)
    assert set(res.changed_roads["change_type"]) == {"close", "upgrade"}


def test_closing_every_road_names_the_scenario_and_changes() -> None:
    data = _region()
    ids = [str(r) for r in data.roads["road_id"]]
    sc = parse_scenario({"name": "a", "changes": [
        {"type": "close", "roads": ids[:1], "label": "bridge out"},
        {"type": "close", "roads": ids[1:]},
    ]}, source="shut.yaml")
    with pytest.raises(ConfigError) as err:
        apply_scenario(data, sc)
    text = str(err.value)
    assert "roads layer is empty" not in text
    assert text.startswith("shut.yaml: the scenario closes every road of the region")
    assert f"({len(ids)} road(s), by change 0 (close, 'bridge out'), change 1 (close, " in text
