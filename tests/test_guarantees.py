"""两不愁三保障 per village: the one definition, by hand and against the demo's priorities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contigmap.monitor.apply import guarantees as monitor_guarantees
from contigmap.priority.guarantees import guarantees, guarantees_from_tables
from contigmap.priority.run import PriorityResults, write_priority_tables


def _small() -> tuple[pd.DataFrame, pd.DataFrame]:
    villages = pd.DataFrame({
        "village_id": ["V1", "V2", "V3"], "name": ["a", "b", "c"],
        "hardened_to_township": [True, False, True],
        "water_option": ["none", "piped", "piped"], "water_capex_cny": [0.0, 5.0, 0.0],
        "housing_option": ["rebuild", "none", "none"], "housing_capex_cny": [8.0, 0.0, 0.0],
    })
    hamlets = pd.DataFrame({"hamlet_id": ["h1", "h2", "h3"], "village_id": ["V1", "V1", "V3"],
                            "broadband_option": ["fibre", "satellite", "none"],
                            "broadband_capex_cny": [1.0, 1.0, 0.0]})
    return villages, hamlets


def test_met_means_no_works_by_hand() -> None:
    g = guarantees(*_small()).set_index("village_id")
    # V1: road ok, water none, housing rebuild, broadband two open hamlets
    # V2: no hardened road, water piped; V3: piped at 0 cost counts as met (needs_works)
    assert g["roads_met"].tolist() == [True, False, True]
    assert g["water_met"].tolist() == [True, False, True]
    assert g["broadband_met"].tolist() == [False, True, True]
    assert g["housing_met"].tolist() == [False, True, True]
    assert "health_met" not in g  # not ranked: no column
    assert g["all_met"].tolist() == [False, False, True]
    assert g.loc["V1", "missing"] == "broadband;housing"
    assert g.loc["V1", "missing_zh"] == "通宽带；住房安全有保障"
    assert g.loc["V1", "housing_closes"] == "rebuild"
    assert g.loc["V1", "broadband_closes"] == "fibre;satellite"
    assert g.loc["V2", "roads_closes"] == "roads" and g.loc["V2", "water_closes"] == "piped"
    assert g.loc["V3", "water_closes"] == ""


def test_the_monitor_uses_the_same_definition_for_its_works() -> None:
    villages, hamlets = _small()
    m = monitor_guarantees(villages, hamlets)
    assert "housing_met" not in m  # completed works close roads, water, power, broadband
    g = guarantees(villages, hamlets)
    for col in ("roads_met", "water_met", "broadband_met"):
        assert m[col].tolist() == g[col].tolist()
    assert m["missing"].tolist() == ["broadband", "roads;water", ""]


@pytest.fixture(scope="module")
def results(demo_priorities: PriorityResults) -> PriorityResults:
    return demo_priorities


def test_demo_guarantees_match_an_independent_count(results: PriorityResults,
                                                    tmp_path: Path) -> None:
    tables = results.tables
    written = write_priority_tables(results, tmp_path)
    back = pd.read_csv(written["guarantees_csv"], encoding="utf-8-sig",
                       dtype={"village_id": str}, keep_default_na=False)
    g = guarantees_from_tables(tables).reset_index(drop=True)
    assert len(back) == len(g) == len(tables["water"])
    assert back["all_met"].astype(str).tolist() == g["all_met"].astype(str).tolist()
    # independently: a plain loop over each table's rows
    expect: dict[str, dict[str, bool]] = {}
    for iv in ("water", "power", "health", "schooling", "housing"):
        for vid, opt, cap in tables[iv][["village_id", f"{iv}_option",
                                         f"{iv}_capex_cny"]].itertuples(index=False):
            expect.setdefault(str(vid), {})[iv] = opt == "none" or cap == 0
    for vid, flag in tables["roads"][["village_id", "roads_no_hardened"]].itertuples(
            index=False):
        expect[str(vid)]["roads"] = flag == 0
    open_hamlets = {str(v) for v, o, c in tables["broadband"][
        ["village_id", "broadband_option", "broadband_capex_cny"]].itertuples(index=False)
        if o != "none" and c != 0}
    for vid in expect:
        expect[vid]["broadband"] = vid not in open_hamlets
    got = g.set_index("village_id")
    for iv in ("roads", "water", "power", "broadband", "health", "schooling", "housing"):
        want = [expect[v][iv] for v in got.index]
        assert got[f"{iv}_met"].tolist() == want, iv
    all_met = [all(e.values()) for e in (expect[v] for v in got.index)]
    assert got["all_met"].tolist() == all_met
    # the demo is a poor county: few villages meet everything, none fails everything
    assert 0 <= int(np.sum(all_met)) < len(all_met) // 2
    assert not got["housing_met"].all()
