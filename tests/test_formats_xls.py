"""Report-style workbooks: title rows, two-row merged headers, subtotals, notes (#19 item 2).

The fixture is written as ``.xlsx`` with openpyxl (merged header cells), because no
``.xls`` writer is available here; the legacy-``.xls`` reader (python-calamine) is
exercised by reading the same workbook through calamine.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import pytest

from contigmap.config import LayerSpec
from contigmap.errors import DataQualityWarning, LayerError
from contigmap.io import read_layer
from contigmap.io import tables as tables_mod

pytestmark = pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")

HEADER = {"村代码": "village_id", "村名": "name", "乡镇代码": "township_id",
          "人口_户籍人口": "pop", "人口_常住人口": "resident"}


def _report_workbook(path: Path, *, float_codes: bool = False, units_row: bool = False) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "人口统计"
    sheet["A1"] = "某县2020年行政村人口统计表"
    sheet.merge_cells("A1:H1")
    sheet["A2"] = "填报单位：县统计局"
    top = ["村代码", "村名", "乡镇代码", "人口", None, "户数", "经度", "纬度"]
    low = [None, None, None, "户籍人口", "常住人口", None, None, None]
    for j, (a, b) in enumerate(zip(top, low, strict=True)):
        if a is not None:
            sheet.cell(row=3, column=j + 1, value=a)
        if b is not None:
            sheet.cell(row=4, column=j + 1, value=b)
    for col in "ABCFGH":
        sheet.merge_cells(f"{col}3:{col}4")
    sheet.merge_cells("D3:E3")
    first = 5
    if units_row:
        for j, unit in enumerate(["", "", "", "（人）", "（人）", "（户）", "", ""]):
            sheet.cell(row=5, column=j + 1, value=unit or None)
        first = 6
    rows = [
        (640422100001, "甲村", 640422100, 1200, 1100, 300, 105.1, 35.1),
        (640422100002, "乙村", 640422100, 800, 700, 200, 105.2, 35.2),
        (None, "一镇小计", None, 2000, 1800, 500, None, None),
        (640422101001, "丙村", 640422101, 500, 450, 120, 105.3, 35.3),
        ("", "合计", "", 2500, 2250, 620, None, None),
        ("注：人口为2020年末数。", None, None, None, None, None, None, None),
    ]
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if float_codes and j in (0, 2) and isinstance(value, int):
                value = float(value)
            sheet.cell(row=first + i, column=j + 1, value=value)
    book.save(path)


def _spec(**extra: object) -> LayerSpec:
    return LayerSpec.model_validate({"path": "t.xlsx", "layer": "人口统计", "header_row": [3, 4],
                                     "columns": HEADER, **extra})


def test_two_row_header_subtotals_and_note_dropped(tmp_path: Path) -> None:
    _report_workbook(tmp_path / "t.xlsx")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = read_layer(_spec(), base_dir=tmp_path, role="villages", source="layers.villages")
    assert list(out["village_id"]) == ["640422100001", "640422100002", "640422101001"]
    assert list(out["name"]) == ["甲村", "乙村", "丙村"]
    assert list(out["pop"]) == [1200, 800, 500]
    assert list(out["resident"]) == ["1100", "700", "450"]  # not a canonical column: text
    assert list(out.geometry.x) == pytest.approx([105.1, 105.2, 105.3])
    texts = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    dropped = [t for t in texts if "subtotal" in t]
    assert len(dropped) == 1
    # sheet rows 7 (小计), 9 (合计), 10 (note) are named as in the sheet
    assert "3 subtotal, total or note row(s) left out" in dropped[0]
    assert "sheet '人口统计' row 7, sheet '人口统计' row 9, sheet '人口统计' row 10" in dropped[0]


def test_skip_rows_leaves_out_a_units_row(tmp_path: Path) -> None:
    _report_workbook(tmp_path / "t.xlsx", units_row=True)
    out = read_layer(_spec(skip_rows=[5]), base_dir=tmp_path, role="villages",
                     source="layers.villages")
    assert list(out["pop"]) == [1200, 800, 500]  # numbers: the units row did not stay


def test_header_row_below_the_sheet_is_one_line_error(tmp_path: Path) -> None:
    _report_workbook(tmp_path / "t.xlsx")
    with pytest.raises(LayerError, match=r"header_row 40 is below the last row"):
        read_layer(_spec(header_row=40), base_dir=tmp_path, role="villages", source="v")


def test_header_rows_must_follow_each_other() -> None:
    from pydantic import ValidationError as PydanticError

    with pytest.raises(PydanticError, match="must follow each other"):
        LayerSpec.model_validate({"path": "t.xlsx", "header_row": [3, 5]})


def test_without_header_row_the_first_row_is_the_header(tmp_path: Path) -> None:
    text = "村代码,村名,乡镇代码,经度,纬度\n640422100001,甲村,640422100,105.1,35.1\n"
    (tmp_path / "v.csv").write_text(text, encoding="utf-8")
    spec = LayerSpec(path=Path("v.csv"), columns={"村代码": "village_id", "村名": "name",
                                                  "乡镇代码": "township_id"})
    out = read_layer(spec, base_dir=tmp_path, role="villages", source="v")
    assert list(out["village_id"]) == ["640422100001"]


def test_csv_report_form(tmp_path: Path) -> None:
    text = ("某县统计表,,,,\n村代码,村名,乡镇代码,经度,纬度\n"
            "640422100001,甲村,640422100,105.1,35.1\n,一镇合计,,,\n")
    (tmp_path / "v.csv").write_text(text, encoding="utf-8")
    spec = LayerSpec.model_validate({"path": "v.csv", "header_row": 2, "columns": {
        "村代码": "village_id", "村名": "name", "乡镇代码": "township_id"}})
    out = read_layer(spec, base_dir=tmp_path, role="villages", source="v")
    assert list(out["name"]) == ["甲村"]


@pytest.mark.skipif(importlib.util.find_spec("python_calamine") is None,
                    reason="python-calamine (the .xls reader) is not installed")
def test_calamine_reader_gives_real_codes_as_text(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # codes stored as Real cells (640422100001.0) read through calamine, the engine
    # contigmap uses for legacy .xls, become 12-digit text
    _report_workbook(tmp_path / "t.xlsx", float_codes=True)
    monkeypatch.setattr(tables_mod, "excel_engine", lambda path: "calamine")
    out = read_layer(_spec(), base_dir=tmp_path, role="villages", source="layers.villages")
    assert list(out["village_id"]) == ["640422100001", "640422100002", "640422101001"]
    assert list(out["township_id"]) == ["640422100", "640422100", "640422101"]
    assert list(out["pop"]) == [1200, 800, 500]


def test_xls_goes_to_calamine() -> None:
    assert tables_mod.excel_engine(Path("a.XLS")) == "calamine"
    assert tables_mod.excel_engine(Path("a.xlsx")) == "openpyxl"
