"""Monitoring (#17 item 2): the progress workbook, plan vs progress, the assessment.

Every expected value is worked out by hand from the small tables written here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contigmap.errors import ValidationError
from contigmap.monitor.assess import assess, rank_counties
from contigmap.monitor.compare import by_year, compare_progress, default_as_of
from contigmap.monitor.demo_progress import demo_progress
from contigmap.monitor.progress import PROGRESS_SHEET, read_progress
from contigmap.monitor.template import write_progress_workbook, write_template

PLAN = pd.DataFrame({
    "project_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
    "year": [2016, 2016, 2017, 2018, 2018, 2019],
    "village_id": ["V1", "V2", "V3", "V1", "V4", "V2"],
    "township_id": ["T1", "T1", "T2", "T1", "T2", "T1"],
    "intervention": ["roads", "water", "roads", "power", "water", "broadband"],
    "unit_id": ["V1", "V2", "V3", "V1", "V4", "H21"],
    "cost_cny": [100.0, 200.0, 300.0, 400.0, 500.0, 600.0],
    "poor_beneficiaries": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
})


def _progress(rows: list[dict[str, object]]) -> pd.DataFrame:
    cols = ["project_id", "village_id", "intervention", "status", "spent_cny", "completed",
            "note"]
    return pd.DataFrame([{c: r.get(c, "") for c in cols} for r in rows], columns=cols)


def _compared(as_of: int = 2018, tolerance: float = 0.10) -> pd.DataFrame:
    prog = _progress([
        {"project_id": "P1", "status": "done", "spent_cny": 110.0, "completed": "2016-10-01"},
        {"project_id": "P2", "status": "in_progress", "spent_cny": 50.0},
        {"project_id": "P3", "status": "done", "spent_cny": 331.0, "completed": "2018-03-01"},
        {"project_id": "P4", "status": "in_progress", "spent_cny": 100.0},
        {"project_id": "P5", "status": "not_started", "spent_cny": 0.0},
    ])  # P6 not reported
    return compare_progress(PLAN, prog, as_of=as_of, tolerance=tolerance)


def test_every_state_by_hand() -> None:
    c = _compared().set_index("project_id")
    # P1 done in its year; P2 (2016) in progress in 2018: late; P3 done a year late;
    # P4 (2018) in progress in 2018: on time; P5 not started, not yet late; P6 unreported
    assert c["state"].to_dict() == {"P1": "done", "P2": "late", "P3": "done",
                                    "P4": "on_time", "P5": "not_started", "P6": "not_started"}
    assert c["done_late"].to_dict() == {"P1": False, "P2": False, "P3": True, "P4": False,
                                        "P5": False, "P6": False}
    assert c.loc["P6", "status"] == "not_started" and c.loc["P6", "spent_cny"] == 0.0
    assert c.loc["P3", "cost_overrun_share"] == pytest.approx(331 / 300 - 1)


def test_over_cost_tolerance() -> None:
    # P1 spent 110 of 100: exactly 10 % over is within a 10 % tolerance, not within 5 %;
    # P3 spent 331 of 300 (10.33 % over): over at 10 %, not at 15 %
    at10 = _compared().set_index("project_id")["over_cost"]
    assert at10[at10].index.tolist() == ["P3"]
    at5 = _compared(tolerance=0.05).set_index("project_id")["over_cost"]
    assert at5[at5].index.tolist() == ["P1", "P3"]
    at15 = _compared(tolerance=0.15).set_index("project_id")["over_cost"]
    assert not at15.any()
    with pytest.raises(ValidationError, match="negative"):
        _compared(tolerance=-0.1)


def test_a_plan_with_a_blank_cost_is_refused() -> None:
    plan = PLAN.astype({"cost_cny": object})
    plan.loc[2, "cost_cny"] = ""
    with pytest.raises(ValidationError, match=r"project P3: cost_cny '' is not a number"):
        compare_progress(plan, _progress([]), as_of=2018)


def test_late_depends_on_the_reporting_year() -> None:
    c = _compared(as_of=2019).set_index("project_id")
    assert c.loc["P4", "state"] == "late" and c.loc["P5", "state"] == "late"
    assert c.loc["P6", "state"] == "not_started"  # its year, 2019, has not passed


def test_per_year_sums_by_hand() -> None:
    y = by_year(_compared()).set_index("year")
    assert y.index.tolist() == [2016, 2017, 2018, 2019]
    assert y.loc[2016, "planned_cost_cny"] == 300.0
    assert y.loc[2016, "done_cost_cny"] == 100.0  # P1
    assert y.loc[2016, "planned_poor_beneficiaries"] == 30.0
    assert y.loc[2016, "done_poor_beneficiaries"] == 10.0
    assert y.loc[2016, "spent_cny"] == 160.0  # 110 + 50
    assert y.loc[2016, "late_projects"] == 1
    assert y.loc[2017, "done_projects"] == 1 and y.loc[2017, "over_cost_projects"] == 1
    assert y.loc[2018, "planned_cost_cny"] == 900.0 and y.loc[2018, "done_cost_cny"] == 0.0
    assert y.loc[2019, "spent_cny"] == 0.0
    assert y["planned_projects"].sum() == len(PLAN)


def test_default_reporting_year_comes_from_the_data() -> None:
    prog = _progress([{"project_id": "P1", "status": "done", "completed": "2017-05-01"},
                      {"project_id": "P2", "status": "done", "completed": "2018-01-02"}])
    assert default_as_of(PLAN, prog) == 2018
    assert default_as_of(PLAN, _progress([])) == 2016


def _write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_chinese_headers_statuses_and_village_rows(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "p.csv", (
        "项目编号,村代码,项目类型,状态,已支出（元）,完工日期,备注\n"
        "P1,,,完工,\"1,200\",2016/10/01,=cmd\n"
        ",V2,饮水安全,在建,50,,\n"
        ",V3,roads,未开工,,,\n"))
    p = read_progress(path, PLAN)
    assert p["project_id"].tolist() == ["P1", "P2", "P3"]
    assert p["status"].tolist() == ["done", "in_progress", "not_started"]
    assert p["spent_cny"].tolist() == [1200.0, 50.0, 0.0]
    assert p["completed"].tolist() == ["2016-10-01", "", ""]
    assert p["row"].tolist() == [2, 3, 4]


def test_headers_with_both_languages_in_one_cell(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "p.csv", "项目编号 project_id,状态 status,其他\nP1,完工,x\n")
    p = read_progress(path, PLAN)
    assert p[["project_id", "status"]].values.tolist() == [["P1", "done"]]


def test_english_headers_and_english_statuses(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "p.csv",
                      "project_id,status,spent_cny\nP4,done,5\nP5,in_progress,0\n")
    assert read_progress(path, PLAN)["status"].tolist() == ["done", "in_progress"]


@pytest.mark.parametrize(("body", "match"), [
    ("P1,完成了,1,", r"p\.csv row 2 column 状态 status: '完成了' is not a status"),
    ("P1,完工,lots,", r"p\.csv row 2 column 已支出（元） spent_cny: 'lots'"),
    ("P1,完工,-5,", r"row 2 column 已支出（元） spent_cny: '-5'"),
    ("P1,完工,1,someday", r"row 2 column 完工日期 completed: 'someday' is not a date"),
    ("P9,完工,1,\nP8,在建,1,", r"2 project id\(s\) not in the plan: P9, P8"),
    ("P1,完工,1,\nP1,在建,1,", r"project P1 is reported in rows 2, 3"),
    (",完工,1,", r"row 2 column 项目编号 project_id: blank"),
])
def test_bad_rows_give_one_line_errors(tmp_path: Path, body: str, match: str) -> None:
    path = _write_csv(tmp_path / "p.csv", f"项目编号,状态,已支出（元）,完工日期\n{body}\n")
    with pytest.raises(ValidationError, match=match) as err:
        read_progress(path, PLAN)
    assert "\n" not in str(err.value)


def test_village_row_matching_two_projects_is_refused(tmp_path: Path) -> None:
    plan = pd.concat([PLAN, PLAN.iloc[[0]].assign(project_id="P1b", year=2017)])
    path = _write_csv(tmp_path / "p.csv", "村代码,项目类型,状态\nV1,roads,完工\n")
    with pytest.raises(ValidationError, match=r"row 2: 2 \(P1, P1b\) plan project"):
        read_progress(path, plan)
    path = _write_csv(tmp_path / "q.csv", "村代码,项目类型,状态\nV1,roadz,完工\n")
    with pytest.raises(ValidationError, match=r"row 2 column 项目类型 intervention: unknown "
                                              r"intervention 'roadz'; did you mean 'roads'"):
        read_progress(path, plan)


@pytest.mark.slow
def test_template_round_trip_and_bytes(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    a = write_template(tmp_path / "a.xlsx")
    b = write_template(tmp_path / "b.xlsx")
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    wb = load_workbook(a)
    assert wb.sheetnames == [PROGRESS_SHEET]
    ws = wb[PROGRESS_SHEET]
    assert [c.value for c in ws[1]][:4] == ["项目编号", "村代码", "项目类型", "状态"]
    assert [c.value for c in ws[2]][:4] == ["project_id", "village_id", "intervention", "status"]
    rules = ws.data_validations.dataValidation
    assert len(rules) == 1 and rules[0].formula1 == '"未开工,在建,完工"'
    assert ws["E3"].number_format == "#,##0" and ws["F3"].number_format == "yyyy-mm-dd"
    assert read_progress(a).empty
    rows = _progress([
        {"project_id": "P1", "status": "done", "spent_cny": 110.0, "completed": "2016-10-01",
         "note": "=HYPERLINK(\"x\")"},
        {"village_id": "V2", "intervention": "water", "status": "in_progress", "spent_cny": 5.0},
    ])
    back = read_progress(write_progress_workbook(rows, tmp_path / "c.xlsx"), PLAN)
    assert back["project_id"].tolist() == ["P1", "P2"]
    assert back["status"].tolist() == ["done", "in_progress"]
    assert back["spent_cny"].tolist() == [110.0, 5.0]
    assert back["note"].tolist() == ["=HYPERLINK(\"x\")", ""]
    assert back["row"].tolist() == [3, 4]


@pytest.mark.slow
def test_workbook_errors_name_the_sheet(tmp_path: Path) -> None:
    rows = _progress([{"project_id": "P1", "status": "完工"},
                      {"project_id": "P2", "status": "已验收"}])
    path = write_progress_workbook(rows, tmp_path / "w.xlsx")
    with pytest.raises(ValidationError, match=r"^w\.xlsx: sheet '进度 progress' row 4 column "
                                              r"状态 status: '已验收' is not a status"):
        read_progress(path, PLAN)


@pytest.mark.slow
def test_demo_progress_is_deterministic_with_late_and_over_cost(tmp_path: Path) -> None:
    plan = pd.DataFrame({"project_id": [f"P{i}" for i in range(12)],
                         "year": [2016] * 4 + [2017] * 4 + [2019] * 2 + [2020] * 2,
                         "cost_cny": [100.0 * (i + 1) for i in range(12)],
                         "village_id": [f"V{i}" for i in range(12)],
                         "intervention": ["roads"] * 12,
                         "poor_beneficiaries": [1.0] * 12})
    a = demo_progress(plan, tmp_path / "a.xlsx", seed=3, as_of=2019)
    demo_progress(plan, tmp_path / "b.xlsx", seed=3, as_of=2019)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    c = compare_progress(plan, read_progress(tmp_path / "a.xlsx", plan), as_of=2019)
    counts = c["state"].value_counts()
    assert counts["late"] == 3 and counts["done"] == 5
    assert int(c["over_cost"].sum()) == 1
    assert (c.loc[c["year"] == 2019, "state"] == "on_time").all()
    assert (c.loc[c["year"] == 2020, "state"] == "not_started").all()
    assert len(a) == 10  # the 2020 projects are not reported


def _assessment(poor_now: pd.DataFrame | None = None) -> pd.DataFrame:
    compared = _compared()
    indicators = pd.DataFrame({
        "level": ["township", "township", "county"], "township_id": ["T1", "T2", ""],
        "name": ["一镇", "二镇", "县"], "villages": [2, 2, 4],
        "poor_pop": [100.0, 50.0, 150.0], "poverty_incidence": [0.5, 0.25, 150 / 400]})
    villages = pd.DataFrame({"village_id": ["V1", "V2", "V3", "V4"],
                             "township_id": ["T1", "T1", "T2", "T2"],
                             "pop": [100, 100, 100, 100]})
    g0 = pd.DataFrame({"village_id": ["V1", "V2", "V3", "V4"], "roads_met": [False] * 4,
                       "all_met": [False] * 4})
    g1 = g0.assign(roads_met=[True, False, True, True], all_met=[True, False, True, False])
    return assess(indicators, villages, g0, g1, compared, as_of=2018,
                  poor_now=poor_now).set_index("name")


def test_assessment_by_hand() -> None:
    a = _assessment()
    # done: P1 (V1, 10 poor, T1), P3 (V3, 30 poor, T2); spent T1 110+50+100 = 260, T2 331
    assert a.loc["一镇", "poor_served"] == 10.0 and a.loc["二镇", "poor_served"] == 30.0
    assert a.loc["县", "poor_served"] == 40.0
    assert a.loc["县", "share_of_poor_served"] == pytest.approx(40 / 150)
    assert a.loc["一镇", "spent_cny"] == 260.0 and a.loc["县", "spent_cny"] == 591.0
    assert a.loc["县", "spent_per_poor_served_cny"] == pytest.approx(591 / 40)
    # due by 2018: P1..P5 (cost 1500); done P1 + P3 (400)
    assert a.loc["县", "plan_completion"] == pytest.approx(400 / 1500)
    assert a.loc["一镇", "plan_completion"] == pytest.approx(100 / 700)
    assert (a.loc["县", "projects_due"], a.loc["县", "projects_done"]) == (5, 2)
    assert a.loc["县", "villages_all_met_base"] == 0 and a.loc["县", "villages_all_met_now"] == 2
    assert a.loc["二镇", "villages_roads_met_now"] == 2
    assert a.loc["县", "villages_roads_met_base"] == 0
    assert np.isnan(a.loc["县", "incidence_now"]) and "new registry" in a.loc["县", "now_source"]
    assert a.loc["县", "incidence_base"] == pytest.approx(0.375)


def test_assessment_with_a_follow_up_registry() -> None:
    now = pd.DataFrame({"village_id": ["V1", "V2", "V3", "V4"], "poor_pop": [20, 30, 5, 5]})
    a = _assessment(now)
    assert a.loc["一镇", "poor_pop_now"] == 50 and a.loc["一镇", "incidence_now"] == 0.25
    assert a.loc["县", "incidence_now"] == pytest.approx(60 / 400)


def test_a_village_served_twice_counts_once() -> None:
    plan = PLAN.assign(year=2016)
    prog = _progress([{"project_id": p, "status": "done", "completed": "2016-05-01"}
                      for p in ("P1", "P4")])  # both in V1: 10 and 40 poor
    c = compare_progress(plan, prog, as_of=2016)
    ind = pd.DataFrame({"level": ["county"], "township_id": [""], "name": ["县"], "villages": [1],
                        "poor_pop": [40.0], "poverty_incidence": [0.4]})
    v = pd.DataFrame({"village_id": ["V1"], "township_id": ["T1"], "pop": [100]})
    g = pd.DataFrame({"village_id": ["V1"], "all_met": [True]})
    assert assess(ind, v, g, g, c, as_of=2016)["poor_served"].iloc[0] == 40.0
    # two broadband hamlets of V1 (25 + 30 poor) are different people: 55 > 40
    more = pd.concat([plan, pd.DataFrame({
        "project_id": ["B1", "B2"], "year": [2016, 2016], "village_id": ["V1", "V1"],
        "township_id": ["T1", "T1"], "intervention": ["broadband"] * 2, "unit_id": ["h1", "h2"],
        "cost_cny": [1.0, 1.0], "poor_beneficiaries": [25.0, 30.0]})], ignore_index=True)
    prog2 = _progress([{"project_id": p, "status": "done", "completed": "2016-05-01"}
                       for p in ("P1", "P4", "B1", "B2")])
    c2 = compare_progress(more, prog2, as_of=2016)
    assert assess(ind, v, g, g, c2, as_of=2016)["poor_served"].iloc[0] == 55.0


def test_counties_of_an_area_are_assessed_and_ranked() -> None:
    from contigmap.monitor.assess import assess_by_county

    villages = pd.DataFrame({"village_id": ["V1", "V2", "V3", "V4"],
                             "township_id": ["T1", "T1", "T2", "T2"],
                             "county_id": ["C1", "C1", "C2", "C2"],
                             "pop": [100, 100, 100, 100], "poor_pop": [40, 60, 30, 20]})
    g = pd.DataFrame({"village_id": ["V1", "V2", "V3", "V4"], "all_met": [False] * 4})
    ranked = assess_by_county(villages, g, g, _compared(), as_of=2018)
    assert ranked is not None
    # C1: 10 poor served of 100 (P1 in V1); C2: 30 of 50 (P3 in V3)
    assert ranked["county"].tolist() == ["C2", "C1"]
    assert ranked["share_of_poor_served"].tolist() == pytest.approx([0.6, 0.1])
    assert assess_by_county(villages.drop(columns="county_id"), g, g, _compared(),
                            as_of=2018) is None


def test_county_ranking() -> None:
    a = _assessment()
    b = a.reset_index().assign(share_of_poor_served=0.5)
    c = a.reset_index().assign(share_of_poor_served=0.5, plan_completion=0.9)
    ranked = rank_counties({"甲县": a.reset_index(), "乙县": b, "丙县": c})
    assert ranked["county"].tolist() == ["丙县", "乙县", "甲县"]
    assert ranked["rank"].tolist() == [1, 2, 3]
