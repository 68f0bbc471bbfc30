"""The workbook writer (contigmap.io.xlsx) read back by openpyxl and by calamine.

Expected values are written out by hand from the rules in contigmap.io.writers: text is
an inline string with quotePrefix (never a formula), NaN / None empty, +-inf the text
``inf`` / ``-inf``, control characters U+FFFD, CR a line break, at most 32,767
characters, dates with a time zone ISO text; numbers keep every bit.
"""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lxml import etree
from openpyxl import load_workbook

from contigmap.errors import ValidationError
from contigmap.io.xlsx import ListRule, SheetSpec, write_workbook, write_xlsx
from contigmap.io.xlsx_cells import column_letter

LONG = "长" * 20_000 + "x" * 30_000  # 50,000 characters

TEXTS = ["=cmd|' /C calc'!A0", "#N/A", "+1", "-1", "@SUM(A1)", "a\x00b\x1fc\x07",
         "x\r\ny\rz", "十八洞村", LONG, "  padded\t", 'a&b<c>"d"', "=1+1\n"]
SHOWN = ["=cmd|' /C calc'!A0", "#N/A", "+1", "-1", "@SUM(A1)", "a\ufffdb\ufffdc\ufffd",
         "x\ny\nz", "十八洞村", LONG[:32_767], "  padded\t", 'a&b<c>"d"', "=1+1\n"]
NUMBERS = [np.nan, np.inf, -np.inf, 0.1 + 0.2, -2.5, 1e300, 5e-324, 123456789.123456789,
           -0.0, 2.0, 1 / 3, np.nan]
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _tricky() -> pd.DataFrame:
    n = len(TEXTS)
    return pd.DataFrame({
        "text": TEXTS,
        "score": NUMBERS,
        "count": np.arange(n, dtype="int64") * 10**15 - 3,  # up to 1.1e16: beyond 2**53
        "flag": [True, False] * (n // 2),
        "mixed": [None, 1, 2.5, "x", True, np.nan, pd.NA, b"by\rtes", dt.date(2020, 2, 29),
                  dt.datetime(1900, 1, 1, 12), dt.time(6, 30), pd.NaT],
        "when": [dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=SHANGHAI)] * n,
        "naive": pd.to_datetime(["2024-01-02 03:04:05"] * (n - 1) + [None]),
        "cat": pd.Categorical(["@x", None] * (n // 2)),
        "nullable": pd.array([1, None] * (n // 2), dtype="Int64"),
    })


@pytest.fixture(scope="module")
def tricky_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("xlsx") / "tricky.xlsx"
    write_xlsx({"tricky": _tricky()}, path)
    return path


def test_tricky_values_read_back_with_openpyxl(tricky_book: Path) -> None:
    ws = load_workbook(tricky_book).active
    assert ws is not None
    rows = list(ws.iter_rows(min_row=2))
    assert [c.value for c in ws[1]] == list(_tricky().columns)
    text = [r[0] for r in rows]
    assert [c.value for c in text] == SHOWN
    assert all(c.data_type == "s" and c.quotePrefix for c in text)
    score = [r[1] for r in rows]
    assert [c.value for c in score[1:3]] == ["inf", "-inf"]
    assert score[0].value is None and score[-1].value is None
    # every bit of the doubles; 0.1 + 0.2 is not 0.3
    assert [c.value for c in score[3:-1]] == [0.30000000000000004, -2.5, 1e300, 5e-324,
                                              123456789.12345679, 0, 2, 1 / 3]
    assert score[3].value != 0.3
    assert all(c.number_format == "#,##0.00" for c in score)  # a number format on each
    count = [r[2].value for r in rows]
    assert count == [i * 10**15 - 3 for i in range(len(TEXTS))]
    assert [r[3].value for r in rows] == [True, False] * 6
    mixed = [(r[4].value, r[4].data_type) for r in rows]
    assert mixed[:5] == [(None, "n"), (1, "n"), (2.5, "n"), ("x", "s"), (True, "b")]
    assert mixed[5:8] == [(None, "n"), (None, "n"), ("by\ntes", "s")]
    assert mixed[8] == (dt.datetime(2020, 2, 29), "d")
    assert mixed[9] == (dt.datetime(1900, 1, 1, 12), "d")
    assert mixed[10] == (dt.time(6, 30), "d") and mixed[11] == (None, "n")
    assert [r[5].value for r in rows] == ["2024-01-02T03:04:05+08:00"] * 12
    assert [r[6].value for r in rows] == [dt.datetime(2024, 1, 2, 3, 4, 5)] * 11 + [None]
    assert rows[0][6].number_format == "yyyy-mm-dd h:mm:ss"
    assert [r[7].value for r in rows] == ["@x", None] * 6
    assert [r[8].value for r in rows] == [1, None] * 6


def test_tricky_values_read_back_with_calamine(tricky_book: Path) -> None:
    """An independent reader (Rust calamine) sees the same texts and numbers."""
    table = pd.read_excel(tricky_book, engine="calamine", keep_default_na=False)
    assert table["text"].tolist() == SHOWN
    assert table["score"].tolist()[1:3] == ["inf", "-inf"]
    assert table["score"].tolist()[3] == 0.30000000000000004
    # calamine, as Excel, holds numbers as doubles: 1e16 - 3 is 1e16 - 4 there
    assert table["count"].tolist() == [float(i * 10**15 - 3) for i in range(len(TEXTS))]


def test_no_formulas_and_every_part_is_well_formed_xml(tricky_book: Path) -> None:
    with zipfile.ZipFile(tricky_book) as zf:
        names = zf.namelist()
        assert names[0] == "[Content_Types].xml"
        for name in names:
            root = etree.fromstring(zf.read(name))  # raises on malformed XML
            assert not root.findall(".//{*}f"), name
        sheet = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
        assert "<c r=\"A2\" s=\"2\" t=\"inlineStr\"><is><t>=cmd|' /C calc'!A0</t></is></c>" \
            in sheet


def test_zip_dates_follow_source_date_epoch(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_xlsx({"t": _tricky()}, a)
    write_xlsx({"t": _tricky()}, b)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}
        core = zf.read("docProps/core.xml").decode("utf-8")
    assert core.count("2023-11-14T22:13:20Z") == 2
    # the local headers agree with the central directory: DOS date of 2023-11-14
    raw = a.read_bytes()
    (date,) = struct.unpack("<H", raw[12:14])
    assert (date >> 9) + 1980 == 2023 and (date >> 5) & 15 == 11 and date & 31 == 14


def test_rows_are_numbered_across_blocks(tmp_path: Path) -> None:
    n = 10_001  # more than two blocks of 4,096 rows
    table = pd.DataFrame({"i": np.arange(n), "s": [f"v{i}" if i % 3 else None
                                                   for i in range(n)]})
    table.loc[9_000, "s"] = "cr\rhere"  # the slow path in the last block only
    write_xlsx({"t": table}, tmp_path / "big.xlsx")
    wb = load_workbook(tmp_path / "big.xlsx", read_only=True)
    values = list(wb.active.iter_rows(min_row=2, values_only=True))
    wb.close()
    assert len(values) == n
    assert values[9_000] == (9_000, "cr\nhere")
    assert values[-1] == (n - 1, "v10000") and values[3] == (3, None)


def test_form_sheet_with_rules_merges_and_widths(tmp_path: Path) -> None:
    table = pd.DataFrame({"id": ["P1"], "status": ["在建"], "spent": [12.0]})
    spec = SheetSpec("表", table, labels=str.upper, formats=False,
                     number_formats={"spent": "#,##0"}, min_rows=5,
                     lists=[ListRule("status", ("未开工", "在建", "完工"), "状态", "请选择")],
                     widths={"id": 24}, merges=["A1:B1"])
    write_workbook([spec], tmp_path / "f.xlsx")
    ws = load_workbook(tmp_path / "f.xlsx")["表"]
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref == "A2:C3"
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:B1"]
    (rule,) = ws.data_validations.dataValidation
    assert rule.formula1 == '"未开工,在建,完工"' and str(rule.sqref) == "B3:B7"
    assert (rule.errorTitle, rule.error) == ("状态", "请选择")
    assert [ws[f"C{r}"].number_format for r in range(3, 8)] == ["#,##0"] * 5
    assert ws["C3"].value == 12 and ws["C7"].value is None
    assert ws.column_dimensions["A"].width == 24
    assert ws.column_dimensions["B"].width == 8  # fitted: at least 8


@pytest.mark.parametrize("name", ["a/b", "x" * 32, "", "'quoted'", "[1]"])
def test_bad_sheet_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValidationError, match="sheet name"):
        write_xlsx({name: pd.DataFrame({"a": [1]})}, tmp_path / "x.xlsx")


def test_repeated_sheet_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="twice"):
        write_xlsx([("Roads", pd.DataFrame()), ("roads", pd.DataFrame())], tmp_path / "x.xlsx")


def test_empty_tables_and_column_letters(tmp_path: Path) -> None:
    assert [column_letter(i) for i in (0, 25, 26, 701, 702, 16_383)] == [
        "A", "Z", "AA", "ZZ", "AAA", "XFD"]
    write_xlsx({"none": pd.DataFrame(), "header": pd.DataFrame(columns=["a", "b"])},
               tmp_path / "e.xlsx", labels=str.upper)
    wb = load_workbook(tmp_path / "e.xlsx")
    assert wb.sheetnames == ["none", "header"]
    assert [c.value for c in wb["header"][2]] == ["a", "b"]
    assert wb["header"].auto_filter.ref is None


def test_number_texts_of_a_column_as_each_value_alone() -> None:
    """Whole numbers at once give the text the one-value path gives (repr without .0)."""
    from contigmap.io.xlsx_cells import _number_text, _number_texts

    values = [0.0, -0.0, 1.0, -3.0, 0.5, 1e15, 9999999999999998.0, 1e16, -1e16, 2.0**53,
              123456.789, 1e-7, 5e-324, 1.7976931348623157e308, float("nan"), 42.0]
    got = _number_texts(np.array(values))
    assert got == [None if v != v else _number_text(v) for v in values]
    assert got[:4] == ["0", "-0", "1", "-3"] and got[7] == "1e+16"  # by hand
    assert _number_texts(np.array([2.0, 7.0])) == ["2", "7"]


def test_display_width_counts_cjk_twice() -> None:
    from contigmap.io.xlsx_cells import display_width as _display_width

    for text in ("abc", "道路需求", "A道路1", "⺀⺁", "😀x", ""):
        assert _display_width(text) == sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    assert _display_width("道路a") == 5  # by hand


def test_fitted_widths_by_hand(tmp_path: Path) -> None:
    """Widths: the widest of label, name and first values (their ``str``) + 2, in 8-60.

    A formatted value counts with its first 15 characters; CJK characters count twice.
    Values after the first 500 rows, and missing values, do not count.
    """
    n = 600
    table = pd.DataFrame({
        "w": [123456.0, 0.5] + [1.0] * (n - 2),  # str "123456.0": 8 -> 10
        "big": [1e15] + [np.nan] * (n - 1),  # "1000000000000000.0", cut to 15 -> 17
        "sum": [0.1 + 0.2] * n,  # "0.30000000000000004", cut to 15 -> 17
        "neg0": [-0.0] * 500 + [1e300] * 100,  # "-0.0" (the later 1e+300 is not read) -> 8
        "int": [1234567890] + [0] * (n - 1),  # 10 -> 12
        "cjk": ["道路道路道路"] + [None] * (n - 1),  # 6 characters, 12 columns -> 14
        "flag": [False] * n,  # 5 -> 8
    })
    write_xlsx({"t": table}, tmp_path / "w.xlsx", labels=lambda c: "x")
    write_xlsx({"t": table[["sum"]]}, tmp_path / "raw.xlsx", labels=lambda c: "x",
               formats=False)
    ws = load_workbook(tmp_path / "w.xlsx")["t"]
    widths = [ws.column_dimensions[column_letter(j)].width for j in range(table.shape[1])]
    assert widths == [10, 17, 17, 8, 12, 14, 8]
    raw = load_workbook(tmp_path / "raw.xlsx")["t"]
    assert raw.column_dimensions["A"].width == 21  # unformatted: all 19 characters


def test_text_column_checked_at_once_as_each_text_alone() -> None:
    """The whole-column text path gives each text's own escaped, cleaned text, and calls a
    column plain exactly when no value is missing, needs cleaning, is empty or is padded
    with white space."""
    from contigmap.io.writers import excel_value
    from contigmap.io.xlsx_cells import _clean_texts, escape_text

    rng = np.random.default_rng(7)
    alphabet = ["a", "道", " ", "\t", "\n", "\r", "\x00", "\x01", "\x1f", "&", "<", "😀"]
    for _ in range(300):
        n = int(rng.integers(1, 6))
        values: list[object] = ["".join(rng.choice(alphabet, int(rng.integers(0, 4))))
                                for _ in range(n)]
        if rng.random() < 0.2:
            values[int(rng.integers(n))] = None if rng.random() < 0.5 else np.nan
        texts, plain = _clean_texts(values)
        assert texts == [escape_text(excel_value(v)) if isinstance(v, str) else None
                         for v in values]
        simple = all(isinstance(t, str) and t and t[0] not in " \t\n"
                     and t[-1] not in " \t\n" for t in texts)
        as_given = texts == [escape_text(v) for v in values if isinstance(v, str)]
        assert plain == (simple and as_given)  # else the cell-by-cell path (same cells)
    assert _clean_texts(["x" * 40_000, "y"])[0] == ["x" * 32_767, "y"]  # cut to a cell's size
