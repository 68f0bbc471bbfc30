"""Monitoring on the tiny region: completed works applied, and the command end to end.

Travel times are checked against networkx on a graph built by hand from the fixture's
roads (``tests/helpers.py``) and the default speeds; everything else by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from click.testing import CliRunner

from contigmap.cli.main import cli
from contigmap.errors import DataQualityWarning
from contigmap.monitor.apply import apply_completed, guarantees
from contigmap.network.speeds import DEFAULT_SPEED_KMH
from tests.helpers import VILLAGE_CODES, TinyRegion

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")]

V1, V2, V3, V4 = VILLAGE_CODES


def _hand_minutes(paved: set[str]) -> dict[str, float]:
    """Dry-season minutes from 一村 and 十八洞村 to their township seats (networkx)."""
    roads = {  # road id: (class, surface, pieces in km)
        "1": ("county", "paved", [((0, 4), (2, 4)), ((2, 4), (2.5, 4)), ((2.5, 4), (3, 4)),
                                  ((3, 4), (7, 4)), ((7, 4), (7.5, 4)), ((7.5, 4), (10, 4))]),
        "2": ("village", "gravel", [((2, 2), (2, 4)), ((2, 4), (3, 4))]),
        "3": ("track", "earth", [((7, 2), (7, 4))]),
    }
    g = nx.MultiGraph()
    for rid, (cls, surface, pieces) in roads.items():
        kmh = DEFAULT_SPEED_KMH[cls]["paved" if rid in paved else surface]
        assert kmh is not None
        for a, b in pieces:
            km = abs(a[0] - b[0]) + abs(a[1] - b[1])
            g.add_edge(a, b, minutes=km / kmh * 60.0)
    return {V1: nx.shortest_path_length(g, (2, 2), (2.5, 4), weight="minutes"),
            V3: nx.shortest_path_length(g, (7, 2), (7.5, 4), weight="minutes")}


@pytest.fixture
def seated_state(seated_region: TinyRegion):  # type: ignore[no-untyped-def]
    from contigmap.pipeline import prepare

    return prepare(seated_region.path, relocation=False)


def test_completed_road_changes_travel_time_as_networkx(seated_state) -> None:  # type: ignore[no-untyped-def]
    st = seated_state
    done = pd.DataFrame({"village_id": [V1], "intervention": ["roads"], "unit_id": [V1]})
    works = apply_completed(st.data, st.villages, st.hamlets, st.network.graph, done)
    before = st.villages.set_index("village_id")["tt_own_township_seat_min"]
    after = works.villages.set_index("village_id")["tt_own_township_seat_min"]
    hand0, hand1 = _hand_minutes(set()), _hand_minutes({"2"})
    assert before[V1] == pytest.approx(hand0[V1], abs=1e-3)  # 2 km gravel + 0.5 km county
    assert after[V1] == pytest.approx(hand1[V1], abs=1e-3)   # the village road paved
    assert hand0[V1] - hand1[V1] == pytest.approx(2 / 20 * 60 - 2 / 25 * 60)
    assert after[V3] == pytest.approx(before[V3])  # 十八洞村's track untouched
    assert works.changed_roads is not None
    assert works.changed_roads["road_id"].astype(str).tolist() == ["2"]
    assert works.changed_roads["to_surface"].tolist() == ["paved"]
    g0 = guarantees(st.villages, st.hamlets).set_index("village_id")
    g1 = works.guarantees.set_index("village_id")
    assert not g0.loc[V1, "roads_met"] and g1.loc[V1, "roads_met"]
    assert g1.loc[V3, "missing"] == "roads"
    county0 = st.indicators.set_index("level").loc["county"]
    county1 = works.indicators.set_index("level").loc["county"]
    assert county1["villages_without_hardened_road"] == county0[
        "villages_without_hardened_road"] - 1
    # 十八洞村's earth track (10 km/h) paved: 2 km at 20 km/h, then 0.5 km of county road
    done3 = pd.DataFrame({"village_id": [V3], "intervention": ["roads"], "unit_id": [V3]})
    w3 = apply_completed(st.data, st.villages, st.hamlets, st.network.graph, done3)
    assert w3.villages.set_index("village_id").loc[V3, "tt_own_township_seat_min"] == \
        pytest.approx(_hand_minutes({"3"})[V3], abs=1e-3)


def test_completed_water_project_closes_the_gap(seated_state) -> None:  # type: ignore[no-untyped-def]
    st = seated_state
    villages = st.villages.assign(water_option=["piped", "well", "none", "cistern"],
                                  water_capex_cny=[5e5, 2e5, 0.0, 1e5])
    base = guarantees(villages, None).set_index("village_id")
    assert base["water_met"].tolist() == [False, False, True, False]
    done = pd.DataFrame({"village_id": [V2], "intervention": ["water"], "unit_id": [V2]})
    works = apply_completed(st.data, villages, None, st.network.graph, done)
    v = works.villages.set_index("village_id")
    assert v.loc[V2, "water_option"] == "none" and v.loc[V2, "water_capex_cny"] == 0.0
    assert v["water_gap_closed"].tolist() == [False, True, False, False]
    g = works.guarantees.set_index("village_id")
    assert g["water_met"].tolist() == [False, True, True, False]
    assert g.loc[V2, "missing"] == "roads"  # water closed, the road still missing
    assert g.loc[V1, "missing"] == "roads;water"
    assert works.changed_roads is None  # no road works: the baseline network
    paved = apply_completed(st.data, st.villages, None, works.graph, pd.DataFrame(
        {"village_id": [V1], "intervention": ["roads"], "unit_id": [V1]}))
    with pytest.warns(DataQualityWarning, match=r"1 completed road project\(s\) change no road"):
        apply_completed(st.data, paved.villages, None, paved.graph, pd.DataFrame(
            {"village_id": [V1], "intervention": ["roads"], "unit_id": [V1]}))


def test_broadband_guarantee_needs_every_hamlet() -> None:
    villages = pd.DataFrame({"village_id": ["A", "B"], "hardened_to_township": [True, True]})
    hamlets = pd.DataFrame({"village_id": ["A", "A", "B"], "hamlet_id": ["a1", "a2", "b1"],
                            "broadband_option": ["fibre", "none", "none"],
                            "broadband_capex_cny": [1e4, 0.0, 0.0]})
    g = guarantees(villages, hamlets).set_index("village_id")
    assert g["broadband_met"].tolist() == [False, True]
    assert g["all_met"].tolist() == [False, True]


def test_monitor_cli_end_to_end(seated_region: TinyRegion, tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    plan.mkdir()
    pd.DataFrame({
        "project_id": ["P-roads-1", "P-roads-3", "P-water-2"],
        "year": [2016, 2016, 2017], "village_id": [V1, V3, V2],
        "village_name": ["一村", "十八洞村", "二村"],
        "township_id": ["433124100", "433124101", "433124100"],
        "township_name": ["花垣镇", "双龙镇", "花垣镇"], "unit_id": [V1, V3, V2],
        "intervention": ["roads", "roads", "water"], "option": ["harden", "harden", "piped"],
        "cost_cny": [1.0e6, 5.0e5, 2.0e5], "funding_source": ["", "", ""],
        "beneficiaries": [100, 300, 200], "poor_beneficiaries": [40, 33, 10],
        "need": [80.0, 60.0, 50.0], "after": ["", "", ""],
    }).to_csv(plan / "plan_projects.csv", index=False, encoding="utf-8-sig")
    progress = tmp_path / "progress.xlsx"
    runner = CliRunner()
    res = runner.invoke(cli, ["-q", "monitor", "--template", "-o", str(progress)])
    assert res.exit_code == 0, res.output
    again = runner.invoke(cli, ["-q", "monitor", "--template", "-o", str(progress)])
    assert again.exit_code != 0 and "exists" in again.output
    from contigmap.monitor.template import write_progress_workbook

    write_progress_workbook(pd.DataFrame({
        "project_id": ["P-roads-1", ""], "village_id": ["", V3], "intervention": ["", "道路"],
        "status": ["完工", "在建"], "spent_cny": [1.2e6, 1e5], "completed": ["2016-09-30", ""],
        "note": ["<script>alert(1)</script>", ""],
    }), progress)
    out = tmp_path / "monitor"
    res = runner.invoke(cli, ["-q", "monitor", str(seated_region.path), "--plan", str(plan),
                              "--progress", str(progress), "-o", str(out), "--as-of", "2017"],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    projects = pd.read_csv(out / "monitor_projects.csv", dtype={"village_id": str})
    state = dict(zip(projects["project_id"], projects["state"], strict=True))
    assert state == {"P-roads-1": "done", "P-roads-3": "late", "P-water-2": "not_started"}
    over = dict(zip(projects["project_id"], projects["over_cost"], strict=True))
    assert over == {"P-roads-1": True, "P-roads-3": False, "P-water-2": False}
    years = pd.read_csv(out / "monitor_by_year.csv").set_index("year")
    assert years.loc[2016, "planned_cost_cny"] == 1.5e6 and years.loc[2016, "done_cost_cny"] == 1e6
    assessment = pd.read_csv(out / "assessment.csv", dtype={"township_id": str})
    county = assessment[assessment["level"] == "county"].iloc[0]
    assert county["poor_served"] == 40 and county["spent_cny"] == 1.3e6
    assert county["plan_completion"] == pytest.approx(1.0e6 / 1.7e6)
    missing = pd.read_csv(out / "still_missing.csv", dtype={"village_id": str})
    assert V1 not in set(missing["village_id"]) and V3 in set(missing["village_id"])
    page = (out / "monitor_report.html").read_text(encoding="utf-8")
    assert "<script" not in page.split("<body>")[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    web = (out / "monitor_map.html").read_text(encoding="utf-8")
    assert "P-roads-1" in web
    for layer in ("计划项目 Planned", "在建项目 In progress", "完工项目 Done",
                  "建设项目 Interventions"):
        assert layer in web, layer
    manifest = json.loads((out / "run_manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["as_of"] == 2017
    assert not (out / "county_ranking.csv").exists()  # one county
    for name in ("monitor.xlsx", "monitor_by_year.png", "assessment.png", "indicators_now.csv"):
        assert (out / name).is_file(), name
    bad = runner.invoke(cli, ["-q", "monitor", str(seated_region.path), "-o", str(out)])
    assert bad.exit_code != 0 and "--plan is required" in bad.output


def test_monitor_cli_bad_workbook_is_one_line(seated_region: TinyRegion, tmp_path: Path) -> None:
    plan = tmp_path / "plan.csv"
    pd.DataFrame({"project_id": ["P1"], "year": [2016], "village_id": [V1],
                  "intervention": ["roads"], "cost_cny": [1.0], "poor_beneficiaries": [1]}
                 ).to_csv(plan, index=False)
    progress = tmp_path / "p.csv"
    progress.write_text("项目编号,状态\nP1,快完了\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["-q", "monitor", str(seated_region.path), "--plan", str(plan),
                                   "--progress", str(progress), "-o", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "p.csv row 2 column 状态 status: '快完了' is not a status" in res.output
    assert not (tmp_path / "o").exists()
