"""Benchmark writing a county-sized workbook: contigmap.io.xlsx vs openpyxl cells.

Run::

    .venv/bin/python benchmarks/bench_xlsx.py                  # 20,000 rows x 15 columns
    .venv/bin/python benchmarks/bench_xlsx.py --rows 2000      # quick
    .venv/bin/python benchmarks/bench_xlsx.py --rows 250 --wide 16   # a county's profile

A table like the report's village profile (floats, whole numbers, 0-1 shares, ids and
Chinese names as text, flags, a few missing values; ``--wide k``: its 15 columns k times
over, as wide as a county's 250-column profile, where the cost per column counts) is
written, in one run, with a row of Chinese labels over the names and number formats on
numeric columns, by:

(i) new: :func:`contigmap.io.xlsx.write_xlsx` (the package written here, cells made a
    column at a time);
(ii) baseline, the old way: openpyxl ``Cell`` objects one by one (text with
    ``quotePrefix``), ``ws.append`` per row, then the number format set cell by cell
    on each numeric column, saved with ``Workbook.save``;
(iii) when installed, XlsxWriter (``constant_memory``; ``write_number`` /
    ``write_string`` / ``write_boolean`` per cell with a cell format), the library the
    first plan named.

It checks that (i) and (ii) read back (openpyxl, values only) to the same cells (floats
to 16 significant digits: the old way kept no more, the new one keeps all 17), and
prints the times (median of ``--repeats``), the baseline / new ratios and the load
average.
"""

from __future__ import annotations

import argparse
import io
import os
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import pandas as pd
from openpyxl import load_workbook

from _timing import timed
from contigmap.io.writers import excel_value, number_format
from contigmap.io.xlsx import write_xlsx
from contigmap.render.report_doc import column_label_zh


def make_table(rows: int, seed: int) -> pd.DataFrame:
    """Return a village-profile-like table of ``rows`` rows and 15 columns."""
    rng = np.random.default_rng(seed)
    pop = rng.integers(80, 3000, rows)
    poor = (pop * rng.random(rows) * 0.6).round()
    minutes = rng.gamma(2.0, 30.0, rows)
    minutes[rng.random(rows) < 0.02] = np.nan
    return pd.DataFrame({
        "village_id": [f"4331{i:08d}" for i in range(rows)],
        "name": [f"村{i % 997}{'寨' if i % 3 else ''}" for i in range(rows)],
        "township_id": [f"4331{i // 50:05d}" for i in range(rows)],
        "pop": pop,
        "households": pop // 4,
        "poor_pop": poor,
        "poverty_incidence": poor / pop,
        "tt_own_township_seat_min": minutes,
        "roads_need": rng.random(rows) * 100,
        "roads_capex_cny": rng.integers(0, 10_000_000, rows),
        "roads_rank": np.arange(1, rows + 1),
        "roads_tier": rng.integers(1, 5, rows),
        "roads_harden_m": rng.random(rows) * 9000,
        "roads_within_budget": rng.random(rows) < 0.4,
        "roads_reason": rng.choice(["far from the road", "=1+1", "unpaved; steep", ""], rows),
    })


def write_openpyxl(table: pd.DataFrame, path: Path) -> None:
    """The old way: one openpyxl cell at a time, number formats cell by cell."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "t"

    def cell(value: object) -> Cell:
        c = Cell(ws, value=excel_value(value))
        if isinstance(c.value, str):
            c.data_type = "s"
            c.quotePrefix = True
        return c

    columns = [str(c) for c in table.columns]
    ws.append([cell(column_label_zh(c)) for c in columns])
    ws.append([cell(c) for c in columns])
    for c in ws[1]:
        c.font = Font(bold=True)
    for row in table.itertuples(index=False, name=None):
        ws.append([cell(v) for v in row])
    for j, col in enumerate(columns, start=1):
        fmt = number_format(col, table.iloc[:, j - 1])
        if fmt is not None:
            for (c,) in ws.iter_rows(min_row=3, min_col=j, max_col=j):
                c.number_format = fmt
    ws.freeze_panes = "C3"
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(buffer.getvalue())


def write_xlsxwriter(table: pd.DataFrame, path: Path) -> None:
    """XlsxWriter, cell by cell with a cell format (constant_memory)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("t")
    text = book.add_format({"quote_prefix": True})
    columns = [str(c) for c in table.columns]
    ws.write_row(0, 0, [column_label_zh(c) for c in columns], book.add_format({"bold": True}))
    ws.write_row(1, 0, columns, text)
    writers: list[tuple[list[object], Callable[..., int], object]] = []
    for col in columns:
        fmt = number_format(col, table[col])
        values = [excel_value(v) for v in table[col].tolist()]
        if table[col].dtype == bool:
            writers.append((values, ws.write_boolean, None))
        elif fmt is not None:
            writers.append((values, ws.write_number, book.add_format({"num_format": fmt})))
        else:
            writers.append((values, ws.write_string, text))
    for i in range(len(table)):
        for j, (values, write, cell_format) in enumerate(writers):
            value = values[i]
            if value is None:
                ws.write_blank(i + 2, j, None, cell_format)
            else:
                write(i + 2, j, value, cell_format)
    ws.freeze_panes(2, 2)
    book.close()


def _timed(write: Callable[[pd.DataFrame, Path], None], table: pd.DataFrame,
           path: Path, repeats: int) -> float:
    return timed(lambda: write(table, path), repeats)[0]


def _cells(path: Path) -> list[tuple[object, ...]]:
    """Cell values, floats to the 16 significant digits the old writer kept."""
    wb = load_workbook(path, read_only=True)
    rows = [tuple(float(f"{v:.16g}") if isinstance(v, float) else v for v in row)
            for row in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wide", type=int, default=1, help="the columns this many times")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    table = make_table(args.rows, args.seed)
    if args.wide > 1:
        table = pd.concat([table.add_suffix("" if k == 0 else f"_{k}") for k in range(args.wide)],
                          axis=1)
    cells = table.size + 2 * table.shape[1]
    print(f"{len(table):,} rows x {table.shape[1]} columns = {cells:,} cells")

    def new(t: pd.DataFrame, p: Path) -> None:
        write_xlsx({"t": t}, p, labels=column_label_zh)

    with TemporaryDirectory() as tmp:
        out = Path(tmp)
        t_new = _timed(new, table, out / "new.xlsx", args.repeats)
        t_old = _timed(write_openpyxl, table, out / "old.xlsx", args.repeats)
        same = _cells(out / "new.xlsx")[2:] == _cells(out / "old.xlsx")[2:]
        print(f"  new   contigmap.io.xlsx   {t_new:7.2f} s  {t_new / cells * 1e6:5.2f} us/cell  "
              f"{(out / 'new.xlsx').stat().st_size / 1e6:5.1f} MB")
        print(f"  old   openpyxl cells      {t_old:7.2f} s  {t_old / cells * 1e6:5.2f} us/cell  "
              f"{(out / 'old.xlsx').stat().st_size / 1e6:5.1f} MB")
        print(f"  ratio old/new {t_old / t_new:5.1f}x; same cells read back: {same}")
        try:
            t_xw = _timed(write_xlsxwriter, table, out / "xw.xlsx", args.repeats)
        except ImportError:
            print("  XlsxWriter not installed: skipped")
        else:
            print(f"  XlsxWriter cells          {t_xw:7.2f} s  {t_xw / cells * 1e6:5.2f} us/cell; "
                  f"ratio old/XlsxWriter {t_old / t_xw:5.1f}x, XlsxWriter/new "
                  f"{t_xw / t_new:5.1f}x")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
