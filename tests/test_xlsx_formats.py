"""XLSX number formats on every numeric column; priorities.xlsx with Chinese headers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from contigmap.io.write import write_table
from contigmap.io.writers import number_format
from contigmap.priority.config import load_priority_config
from contigmap.priority.run import PriorityResults, write_priority_tables
from contigmap.render.report_doc import column_label_zh
from contigmap.render.report_xlsx import write_tables_xlsx


@pytest.mark.parametrize(("column", "values", "expected"), [
    # units from the column dictionary
    ("poor_pop", [340.0, 135.66], "#,##0"),  # people
    ("households", [57, 12], "#,##0"),
    ("poverty_incidence", [0.62, 0.0, 1.0], "0.0%"),  # share 0-1
    ("cause_poor_transport_share", [0.27, np.nan], "0.0%"),
    ("tt_own_township_seat_min", [128.1984827371067, 54.1], "0"),  # min
    ("roads_capex_cny", [9888669, 226912], "#,##0"),  # CNY
    ("roads_cost_per_poor_cny", [29084.3], "#,##0"),  # CNY/person
    ("water_lcow_cny_m3", [7.43], "#,##0.00"),  # CNY/m3: yuan per cubic metre keeps fen
    ("power_lcoe_cny_kwh", [2.2836], "#,##0.00"),
    ("roads_need", [68.05], "0.0"),  # 0-100 score
    ("roads_tier", [1, 4], "0"),
    ("roads_rank", [1, 2000], "#,##0"),
    ("roads_harden_m", [8240.6], "#,##0"),  # m
    ("suitability", [0.25, 0.8], "0.00"),  # a 0-1 score
    ("water_karst", [1, 0, 1], "0"),  # unit 0-1 but a flag
    ("poor_within_budget", [12.5], "#,##0"),
    ("lon", [109.48], "0.000000"),
    # not in the dictionary: by name, then by values
    ("capex_within_budget_cny", [40906574], "#,##0"),
    ("cost_wan", [989.0], "#,##0.0"),  # 万元
    ("travel_minutes", [12.345], "0"),
    ("odd_share", [0.2, 1.5], "#,##0.00"),  # not a 0-1 share after all
    ("units_funded", [5], "#,##0"),
    ("year", [2024], "0"),
    ("whatever", [3, 4], "#,##0"),
    ("whatever", [3.25, 4.5], "#,##0.00"),
    # no format
    ("name", ["十八洞村"], None),
    ("roads_within_budget", [True, False], None),
])
def test_number_format_by_unit_name_and_values(column: str, values: list, expected: str | None,
                                               ) -> None:
    assert number_format(column, pd.Series(values)) == expected


def test_unit_given_by_the_caller_wins() -> None:
    assert number_format("x", pd.Series([0.5]), unit="share 0-1") == "0.0%"
    assert number_format("x", pd.Series([1.5]), unit="万元") == "#,##0.0"


def _numeric_cells_unformatted(ws, first_row: int) -> list[str]:
    bad = []
    for row in ws.iter_rows(min_row=first_row):
        for cell in row:
            if isinstance(cell.value, int | float) and not isinstance(cell.value, bool) \
                    and cell.number_format == "General":
                bad.append(cell.coordinate)
    return bad


def _roads_table() -> pd.DataFrame:
    return pd.DataFrame({
        "village_id": ["433124109255", "433124110226"],
        "name": ["龙保村", "十八洞村"],
        "township_id": ["433124109", "433124110"],
        "roads_harden_m": [8240.6, 0.0],
        "roads_capex_cny": [9888669, 120000],
        "roads_need": [68.05, 41.2],
        "roads_rank": [1, 2],
        "roads_tier": [1, 2],
        "tt_own_township_seat_min": [128.1984827371067, 54.14512798481812],
        "cause_poor_transport_share": [0.2727272727272727, 0.1],
        "poor_pop": [340, 533],
        "poverty_incidence": [0.6204379562043796, 0.5676251331203408],
        "roads_within_budget": [True, False],
    })


def test_priorities_xlsx_has_chinese_headers_and_number_formats(tmp_path: Path) -> None:
    roads = _roads_table()
    township = pd.DataFrame({"intervention": ["roads"], "township_id": ["433124109"],
                             "units": [13], "tier_1": [2], "capex_cny": [2103952],
                             "poor_within_budget": [0]})
    budget = pd.DataFrame({"intervention": ["roads"], "budget_cny": [50_000_000],
                           "units_funded": [5], "capex_funded_cny": [40906574.0]})
    results = PriorityResults(tables={"roads": roads}, sensitivity={}, budget=budget,
                              summaries={"township": township}, config=load_priority_config())
    wb = load_workbook(write_priority_tables(results, tmp_path)["xlsx"])
    ws = wb["roads"]
    # row 1 Chinese (the labels tables.xlsx uses), row 2 the names; frozen like tables.xlsx
    assert [c.value for c in ws[2]] == list(roads.columns)
    assert [c.value for c in ws[1]] == [column_label_zh(c) for c in roads.columns]
    assert ws["I1"].value == "到本乡镇驻地车行时间" and ws["K1"].value == "贫困人口"
    assert ws.freeze_panes == "C3"
    by_name = {c.value: c.column_letter for c in ws[2]}
    fmt = {name: ws[f"{letter}3"].number_format for name, letter in by_name.items()}
    assert fmt["roads_capex_cny"] == "#,##0"
    assert fmt["tt_own_township_seat_min"] == "0"
    assert fmt["poverty_incidence"] == "0.0%" and fmt["cause_poor_transport_share"] == "0.0%"
    assert fmt["roads_need"] == "0.0" and fmt["roads_harden_m"] == "#,##0"
    assert fmt["roads_within_budget"] == "General"  # booleans show TRUE / FALSE
    # the format only changes how it looks: the stored minutes keep every decimal
    assert ws[f"{by_name['tt_own_township_seat_min']}3"].value == 128.1984827371067
    for sheet in wb:
        assert _numeric_cells_unformatted(sheet, 3) == [], sheet.title
        assert sheet["A2"].value == "intervention" or sheet.title == "roads"
    assert [c.value for c in wb["budget"][1]] == ["措施", "预算（元）", "可资助单元数",
                                                   "资助投资（元）"]
    assert wb["township"]["C1"].value == "单元数"
    assert wb["budget"]["D3"].number_format == "#,##0"


def test_tables_xlsx_formats_every_numeric_column(tmp_path: Path) -> None:
    villages = _roads_table().assign(pop=[548, 939], households=[120, 230])
    wb = load_workbook(write_tables_xlsx(tmp_path / "tables.xlsx", villages=villages))
    for ws in wb:
        assert ws.max_row >= 3
        assert _numeric_cells_unformatted(ws, 3) == [], ws.title
        names = [c.value for c in ws[2]]
        if "tt_own_township_seat_min" in names:
            col = names.index("tt_own_township_seat_min") + 1
            assert ws.cell(row=3, column=col).number_format == "0"


def test_plain_xlsx_tables_get_formats_below_one_header_row(tmp_path: Path) -> None:
    frame = pd.DataFrame({"name": ["a", "b"], "pop": [1200, 3],
                          "travel_min": [12.3456, 7.0], "score": [0.123456, 2.5]})
    ws = load_workbook(write_table(frame, tmp_path / "t.xlsx")).active
    assert ws is not None
    assert [c.value for c in ws[1]] == list(frame.columns)
    assert [ws[f"{c}2"].number_format for c in "ABCD"] == ["General", "#,##0", "0", "#,##0.00"]
    assert ws["A1"].number_format == "General"  # the header is not formatted
