"""Outputs are safe and reproducible (issue 11, items 2 and 11).

- Text from the data never becomes a live spreadsheet formula: XLSX text cells are
  string cells with ``quotePrefix``, CSV text cells starting with ``= + - @ TAB CR`` get
  a leading ``'`` (OWASP), numbers stay numbers.
- The same input gives byte-identical files: no write timestamps in XLSX (core
  properties, zip members) or GeoPackages (``gpkg_contents.last_change``).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from openpyxl import load_workbook

from contigmap.errors import ConfigError
from contigmap.io.outdir import MARKER_NAME
from contigmap.io.write import write_table, write_vector
from contigmap.io.writers import csv_safe, output_datetime
from contigmap.io.xlsx import write_xlsx
from contigmap.manifest import MANIFEST_NAME
from contigmap.pipeline import RunResult, run
from contigmap.priority.config import load_priority_config
from contigmap.priority.run import PriorityResults, write_priority_tables
from contigmap.render.report import write_tables_xlsx
from tests.helpers import write_tiny_region

PAYLOADS = [
    '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\tTAB",
    "\rCR",
]
# text a spreadsheet would otherwise read as an error code or a number
TRICKY_TEXT = ["#N/A", "=1", "1e5", "0012"]


def _payload_frame() -> pd.DataFrame:
    n = len(PAYLOADS)
    return pd.DataFrame({
        "village_id": [f"4331241002{i:02d}" for i in range(n)],
        "name": PAYLOADS,
        "reasons": [f"{p}; far from the road" for p in PAYLOADS[:-1]] + [None],
        "pop": np.arange(n, dtype="int64") * 100 - 200,            # -200, -100, 0, ...
        "score": [-2.5, 0.25, np.nan, 1.0, -0.125, 3.0, -7.0],
        "flag": [True, False] * 3 + [True],
    })


def _read_csv_cells(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def _all_cells(path: Path) -> Iterator[Any]:
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


def _sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return "".join(zf.read(n).decode("utf-8") for n in zf.namelist()
                       if n.startswith("xl/worksheets/sheet"))


# --------------------------------------------------------------------------- CSV


def test_csv_text_cells_that_start_a_formula_get_a_quote(tmp_path: Path) -> None:
    path = write_table(_payload_frame(), tmp_path / "t.csv")
    rows = _read_csv_cells(path)
    assert rows[0] == ["village_id", "name", "reasons", "pop", "score", "flag"]
    body = rows[1:]
    assert [r[1] for r in body] == ["'" + p for p in PAYLOADS]
    assert [r[2] for r in body] == ["'" + p + "; far from the road" for p in PAYLOADS[:-1]] + [""]
    # numeric columns are untouched: negative numbers stay numbers
    assert [r[3] for r in body] == ["-200", "-100", "0", "100", "200", "300", "400"]
    assert [r[4] for r in body] == ["-2.5", "0.25", "", "1.0", "-0.125", "3.0", "-7.0"]
    assert [r[5] for r in body] == ["True", "False"] * 3 + ["True"]
    assert body[0][0] == "433124100200"


def test_csv_safe_leaves_other_text_and_numbers_in_text_columns_alone() -> None:
    table = pd.DataFrame({
        "=col": ["十八洞村", "a=b", " =x", "-", 4.5],  # mixed object column
        "n": [-1.5, 2.0, 3.0, 4.0, 5.0],
        "cat": pd.Categorical(["@x", "y", "@x", "y", "y"]),
        "s": pd.array(["+1", "ok", None, "=2", "x"], dtype="string"),
    })
    safe = csv_safe(table)
    assert list(safe.columns) == ["'=col", "n", "cat", "s"]
    assert safe["'=col"].tolist() == ["十八洞村", "a=b", " =x", "'-", 4.5]
    assert safe["n"].tolist() == [-1.5, 2.0, 3.0, 4.0, 5.0]
    assert safe["cat"].tolist() == ["'@x", "y", "'@x", "y", "y"]
    assert safe["s"].tolist()[:2] == ["'+1", "ok"] and pd.isna(safe["s"].iloc[2])
    assert safe["s"].tolist()[3:] == ["'=2", "x"]
    assert table["=col"].iloc[3] == "-", "the caller's frame is not changed"


def test_vector_csv_is_formula_safe(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"name": ["=1+1", "ok"], "v": [-1.0, 2.0]},
                           geometry=[shapely.Point(1, -2), shapely.Point(3, 4)], crs=4326)
    rows = _read_csv_cells(write_vector(gdf, tmp_path / "p.csv"))
    assert rows == [["name", "v", "x", "y"], ["'=1+1", "-1.0", "1.0", "-2.0"],
                    ["ok", "2.0", "3.0", "4.0"]]


# --------------------------------------------------------------------------- XLSX


def _check_payload_sheet(ws: Any, header_rows: int, columns: list[str]) -> None:
    frame = _payload_frame()
    col = {name: j for j, name in enumerate(columns)}
    rows = list(ws.iter_rows(min_row=header_rows + 1))
    assert len(rows) == len(frame)
    for row, (_, want) in zip(rows, frame.iterrows(), strict=True):
        name = row[col["name"]]
        text = want["name"].replace("\r", "\n")  # a CR in a cell is a line break (LF)
        assert (name.data_type, name.value, name.quotePrefix) == ("s", text, True)
        pop = row[col["pop"]]
        assert (pop.data_type, pop.value) == ("n", want["pop"])
        score = row[col["score"]]
        if np.isnan(want["score"]):
            assert score.value is None
        else:
            assert (score.data_type, score.value) == ("n", want["score"])


def test_xlsx_text_cells_are_strings_never_formulas(tmp_path: Path) -> None:
    frame = _payload_frame()
    frame.loc[: len(TRICKY_TEXT) - 1, "reasons"] = TRICKY_TEXT
    path = write_table(frame, tmp_path / "t.xlsx")
    ws = load_workbook(path).active
    assert ws is not None
    assert [c.value for c in ws[1]] == list(frame.columns)
    _check_payload_sheet(ws, 1, list(frame.columns))
    reasons = [ws.cell(row=r, column=3) for r in range(2, 2 + len(TRICKY_TEXT))]
    assert [(c.data_type, c.value) for c in reasons] == [("s", t) for t in TRICKY_TEXT]
    assert all(c.data_type != "f" for c in _all_cells(path))
    xml = _sheet_xml(path)
    assert "<f>" not in xml and "<f " not in xml  # independent of openpyxl's reader
    assert '<c r="B2" s="2" t="inlineStr"><is><t>=HYPERLINK("http://x","y")</t></is></c>' in xml
    with zipfile.ZipFile(path) as zf:
        assert 'quotePrefix="1"' in zf.read("xl/styles.xml").decode("utf-8")


def test_xlsx_control_characters_do_not_crash(tmp_path: Path) -> None:
    path = write_table(pd.DataFrame({"name": ["a\x00b\x1fc"]}), tmp_path / "c.xlsx")
    ws = load_workbook(path).active
    assert ws is not None and ws["A2"].value == "a\ufffdb\ufffdc"


def test_report_workbook_writes_names_as_text(tmp_path: Path) -> None:
    villages = _payload_frame().assign(roads_tier=["high"] * 7, roads_rank=range(1, 8),
                                       roads_score=np.linspace(1, 0, 7))
    path = write_tables_xlsx(tmp_path / "tables.xlsx", villages=villages)
    wb = load_workbook(path)
    profile = wb.worksheets[0]
    columns = [c.value for c in profile[2]]  # row 1: Chinese labels, row 2: column names
    _check_payload_sheet(profile, 2, columns)
    assert all(c.data_type != "f" for c in _all_cells(path))
    assert "<f>" not in _sheet_xml(path)
    # the styling (number formats) still applies to the numeric cells
    assert profile.cell(row=3, column=columns.index("pop") + 1).number_format == "#,##0"


def test_priority_workbook_writes_names_as_text(tmp_path: Path) -> None:
    frame = _payload_frame()
    summary = pd.DataFrame({"area": ["=A1", "双龙镇"], "villages": [3, -1]})
    results = PriorityResults(
        tables={"roads": frame}, sensitivity={}, budget=pd.DataFrame({"budget_cny": [-5.0]}),
        summaries={"township": summary, "county": summary.iloc[:1]},
        config=load_priority_config(),
    )
    written = write_priority_tables(results, tmp_path / "priorities")
    wb = load_workbook(written["xlsx"])
    assert wb.sheetnames == ["roads", "township", "county", "budget"]
    # row 1: Chinese labels (as tables.xlsx), row 2: column names
    assert [c.value for c in wb["roads"][2]] == list(frame.columns)
    _check_payload_sheet(wb["roads"], 2, list(frame.columns))
    assert [(c.data_type, c.value) for c in wb["township"]["A"]][1:] == [
        ("s", "area"), ("s", "=A1"), ("s", "双龙镇")]
    assert wb["township"]["B4"].value == -1 and wb["budget"]["A3"].value == -5.0
    assert all(c.data_type != "f" for c in _all_cells(written["xlsx"]))
    rows = _read_csv_cells(written["roads_csv"])
    assert [r[1] for r in rows[1:]] == ["'" + p for p in PAYLOADS]
    assert _read_csv_cells(written["summary_township_csv"])[1:] == [["'=A1", "3"],
                                                                  ["双龙镇", "-1"]]


# --------------------------------------------------------------------------- timestamps


def _zip_dates(path: Path) -> set[tuple[int, ...]]:
    with zipfile.ZipFile(path) as zf:
        return {info.date_time for info in zf.infolist()}


def _core_dates(path: Path) -> tuple[Any, Any]:
    props = load_workbook(path).properties
    return props.created, props.modified


def test_xlsx_has_fixed_dates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    table = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    write_xlsx({"s": table}, tmp_path / "a.xlsx")
    assert _zip_dates(tmp_path / "a.xlsx") == {(2000, 1, 1, 0, 0, 0)}
    assert _core_dates(tmp_path / "a.xlsx") == (dt.datetime(2000, 1, 1), dt.datetime(2000, 1, 1))
    # 1700000000 s after 1970-01-01 UTC is 2023-11-14 22:13:20 UTC
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    write_xlsx({"s": table}, tmp_path / "b.xlsx")
    assert _zip_dates(tmp_path / "b.xlsx") == {(2023, 11, 14, 22, 13, 20)}
    when = dt.datetime(2023, 11, 14, 22, 13, 20)
    assert _core_dates(tmp_path / "b.xlsx") == (when, when)


def test_bad_source_date_epoch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    for bad in ("yesterday", "-5", "1.5"):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", bad)
        with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH"):
            output_datetime()


def test_geopackage_has_a_fixed_date_and_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.setenv("OGR_CURRENT_DATE", "kept")
    gdf = gpd.GeoDataFrame({"name": ["=1", "b"]}, geometry=[shapely.Point(0, 0),
                                                           shapely.Point(1, 1)], crs=4326)
    a = write_vector(gdf, tmp_path / "a.gpkg", layer="v")
    b = write_vector(gdf, tmp_path / "b.gpkg", layer="v")
    assert a.read_bytes() == b.read_bytes()
    with sqlite3.connect(a) as con:
        (stamp,) = con.execute("select last_change from gpkg_contents").fetchone()
    assert stamp.startswith("2000-01-01T00:00:00")
    import os

    assert os.environ["OGR_CURRENT_DATE"] == "kept"


# --------------------------------------------------------------------------- end to end


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): _sha(p) for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def payload_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, RunResult]:
    """The tiny region with four villages renamed to formulas, run twice.

    The second run has ``SOURCE_DATE_EPOCH`` set to 2000-01-01 (946684800 s), the
    date the first run stamps by default.
    """
    base = tmp_path_factory.mktemp("payload")
    region = write_tiny_region(base / "in", seats=True)
    villages = pd.read_csv(base / "in" / "villages.csv", dtype=str)
    villages["村名"] = PAYLOADS[:4]
    villages.to_csv(base / "in" / "villages.csv", index=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SOURCE_DATE_EPOCH", raising=False)
        first = run(region, base / "a")
        mp.setenv("SOURCE_DATE_EPOCH", "946684800")
        second = run(region, base / "b")
    return first, second


@pytest.mark.slow
def test_run_writes_formula_names_as_text(payload_runs: tuple[RunResult, RunResult]) -> None:
    out = payload_runs[0].out_dir
    names = set(PAYLOADS[:4])
    rows = _read_csv_cells(out / "villages.csv")
    col = rows[0].index("name")
    assert sorted(r[col] for r in rows[1:]) == sorted("'" + n for n in names)
    for path in sorted(out.rglob("*.csv")):
        for row in _read_csv_cells(path)[1:]:
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (path.name, cell)
                if cell.startswith("-"):
                    float(cell)  # only numbers may start with a minus
    books = sorted(out.rglob("*.xlsx"))
    assert {p.name for p in books} == {"tables.xlsx", "priorities.xlsx"}
    for path in books:
        cells = list(_all_cells(path))
        assert not [c.coordinate for c in cells if c.data_type == "f"], path.name
        shown = {c.value for c in cells if c.data_type == "s"}
        assert names <= shown, path.name


@pytest.mark.slow
def test_run_outputs_are_byte_identical(payload_runs: tuple[RunResult, RunResult]) -> None:
    a, b = (r.out_dir for r in payload_runs)
    files_a, files_b = _files(a), _files(b)
    assert files_a.keys() == files_b.keys()
    assert {"villages.gpkg", "tables.xlsx", "priorities/priorities.xlsx", "map.html",
            "report.html", "report.md", "static/overview.png"} <= files_a.keys()
    differ = [name for name in files_a if files_a[name] != files_b[name]]
    assert differ == [MANIFEST_NAME]  # its created_utc only, below
    ma = json.loads((a / MANIFEST_NAME).read_text(encoding="utf-8"))
    mb = json.loads((b / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert mb["created_utc"] == "2000-01-01T00:00:00+00:00"
    assert ma.pop("created_utc") != mb.pop("created_utc")
    assert ma == mb
    # the manifest lists every output with the hash of the file as written
    listed = {r["path"]: r["sha256"] for r in ma["outputs"]}
    assert listed == {k: v for k, v in files_a.items() if k not in (MANIFEST_NAME, MARKER_NAME)}


def test_csv_of_plain_string_columns_as_with_every_cell_checked(tmp_path: Path) -> None:
    """String columns needing no quote are written as they are: same bytes as mapping each."""
    from contigmap.io.writers import _is_text_column, _neutralise, write_csv

    t = pd.DataFrame({
        "plain": pd.array(["a", None, "b,c", 'q"uote', "line\nbreak", ""], dtype="str"),
        "formula": pd.array(["ok", "=SUM(A1)", None, "-x", "@y", "+1"], dtype="str"),
        "missing": pd.array([None] * 6, dtype="str"),
        "cr": pd.array(["a\rb", "x", "y", "z", None, "w"], dtype="str"),
        "obj": pd.Series(["=1", None, 3, "t", 2.5, "u"], dtype=object),
        "cat": pd.Categorical(["-a", "b", "b", "c", "-a", "c"]),
        "num": [1.5, -2.0, np.nan, 0.0, 3.0, -1.0],
    })
    old = t.copy()
    for j, (_, col) in enumerate(t.items()):
        if _is_text_column(col):
            old.isetitem(j, col.astype(object).map(_neutralise).to_numpy())
    old.to_csv(tmp_path / "old.csv", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    write_csv(t, tmp_path / "new.csv")
    assert (tmp_path / "new.csv").read_bytes() == (tmp_path / "old.csv").read_bytes()
    text = (tmp_path / "new.csv").read_text(encoding="utf-8-sig")
    assert "'=SUM(A1)" in text and "'-a" in text and '"b,c"' in text  # by hand
