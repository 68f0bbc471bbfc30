"""Relocation candidates and costs on small hand-made tables."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from contigmap.errors import ConfigError
from contigmap.relocation.candidates import candidate_table, in_place_costs, score_settlements
from contigmap.relocation.costs import (
    CandidateParams,
    RelocationCosts,
    load_relocation_config,
    relocation_cost_per_person,
)


def _hamlets() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "hamlet_id": ["H1", "H2", "H3"],
        "village_id": ["V1", "V1", "V2"],
        "township_id": ["T1", "T1", "T1"],
        "name": ["一组", "二组", "三组"],
        "pop": [30, 70, 40],
        "households": [9, 20, 12],
        "hazard_landslide_mean": [0.6, 0.1, 0.1],
        "hazard_flood_share": [0.0, 0.0, 0.2],
        "eco_redline_share": [0.0, 1.0, 0.0],
        "slope_mean_deg": [10.0, 30.0, 12.0],
        "slope_gt25_share": [0.1, 0.6, 0.1],
        "tt_own_township_seat_min": [10.0, 20.0, 30.0],
        "broadband_capex_cny": [6000.0, 4000.0, 2000.0],
    }, geometry=[shapely.Point(0, 0), shapely.Point(1, 0), shapely.Point(2, 0)], crs=32649)


def _villages() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "village_id": ["V1", "V2"], "township_id": ["T1", "T1"], "name": ["甲村", "乙村"],
        "pop": [100, 40], "households": [29, 12],
        "roads_capex_cny": [100000.0, 0.0], "water_capex_cny": [50000.0, 8000.0],
        "power_capex_cny": [50000.0, 0.0], "water_karst": [0, 0],
        "hazard_landslide_mean": [0.3, 0.1], "slope_mean_deg": [15.0, 12.0],
        "tt_own_township_seat_min": [10.0, 30.0],
    }, geometry=[shapely.Point(0, 1), shapely.Point(2, 1)], crs=32649)


def test_in_place_costs_share_village_costs_by_people() -> None:
    by_village, by_hamlet = in_place_costs(_villages(), _hamlets())
    assert by_hamlet is not None
    # V1: 200,000 shared 30:70 among H1, H2, plus their own broadband
    assert by_hamlet.to_dict() == pytest.approx({"H1": 200000 * 0.3 + 6000,
                                                 "H2": 200000 * 0.7 + 4000,
                                                 "H3": 8000 + 2000})
    assert by_village.to_dict() == pytest.approx({"V1": 210000.0, "V2": 10000.0})


def test_reasons_and_score_by_hand() -> None:
    params = CandidateParams()  # hazard 0.3, ecology 0.2, fragile 0.2 (weights sum to 1)
    out = score_settlements(_hamlets(), "hamlet", params)
    assert out["reloc_reason_keys"].tolist() == ["hazard", "ecology,fragile", ""]
    assert out["reloc_score"].tolist() == pytest.approx([0.3, 0.4, 0.0])
    assert out["reloc_candidate"].tolist() == [True, True, False]
    assert out.at[0, "reloc_reasons"] == "landslide susceptibility 0.60 >= 0.55"
    assert out.at[0, "reloc_reasons_zh"] == "滑坡易发性0.60（≥0.55）"
    assert "100% of the area inside the redline" in out.at[1, "reloc_reasons"]
    assert "平均坡度30°" in out.at[1, "reloc_reasons_zh"]


def test_cost_criterion_and_min_reasons() -> None:
    params = CandidateParams(cost_per_person_min_cny=1000, min_reasons=2)
    costs = [30000.0, 10.0, 80000.0]  # per person: 1000, 0.14, 2000
    out = score_settlements(_hamlets(), "hamlet", params, in_place_cny=costs)
    assert out["reloc_cost"].tolist() == [True, False, True]
    # H1: hazard + cost, H2: ecology + fragile; H3: cost only
    assert out["reloc_candidate"].tolist() == [True, True, False]


def test_decision_mandatory_hazard_or_cheaper() -> None:
    costs = RelocationCosts()
    move_pp = 40000 + 15000 + 70 * 70
    assert relocation_cost_per_person(costs)[0] == pytest.approx(move_pp)
    assert relocation_cost_per_person(costs, np.array([True]))[0] == pytest.approx(
        40000 + 7500 + 4900)
    table = candidate_table(_villages(), _hamlets(), CandidateParams(), costs)
    t = table.set_index("reloc_unit_id")
    # H1: hazard → relocate whatever the cost; in-place adds hazard treatment per person
    assert t.at["H1", "reloc_decision"] == "relocate"
    assert t.at["H1", "reloc_decision_reason"] == "mandatory: hazard"
    assert t.at["H1", "reloc_in_place_cny"] == pytest.approx(66000 + 30 * 20000)
    assert t.at["H1", "reloc_margin_cny"] == pytest.approx(666000 - 30 * move_pp)
    # H2: ecology + fragile, in place 144,000 < 70 x 59,900 → stay
    assert t.at["H2", "reloc_decision"] == "stay"
    assert t.at["H2", "reloc_decision_reason"] == "serving in place costs less"
    assert t.at["H3", "reloc_decision"] == ""


def test_whole_village_passes_reasons_to_its_hamlets() -> None:
    villages = _villages()
    villages.loc[1, ["hazard_landslide_mean", "slope_mean_deg"]] = [0.7, 28.0]
    table = candidate_table(villages, _hamlets(), CandidateParams(), RelocationCosts())
    h3 = table.set_index("reloc_unit_id").loc["H3"]
    assert bool(h3["reloc_candidate"])
    assert h3["reloc_reason_keys"] == "hazard,fragile"
    assert str(h3["reloc_reasons_zh"]).startswith("整村：")


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError,
                       match=r"unknown key 'candidates\.bogus': valid keys: .*min_reasons"):
        load_relocation_config({"candidates": {"bogus": 1}})
    with pytest.raises(ConfigError,
                       match=r"^relocation: candidates\.weights: all weights are zero"):
        load_relocation_config({"candidates": {"weights": {"hazard": 0, "ecology": 0,
                                                           "fragile": 0, "small_remote": 0,
                                                           "cost": 0}}})
    cfg = load_relocation_config()  # the packaged YAML equals the model defaults
    assert cfg == load_relocation_config({})
    assert pd.notna(cfg.costs.housing_cny_per_person)
