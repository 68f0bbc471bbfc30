"""Benchmark writing a hamlet-sized CSV: contigmap.io.csv_text vs pandas ``to_csv``.

Run::

    .venv/bin/python benchmarks/bench_csv.py                  # 3,000 rows x 115 columns
    .venv/bin/python benchmarks/bench_csv.py --rows 20000

A table like the hamlet table of the 14k-edge test county (78 float columns rounded to
4 places, with a few missing values, 20 text columns with Chinese names, 10 boolean and
7 integer columns) is written, in one run, alternately by:

(i) new: :func:`contigmap.io.csv_text.csv_text` encoded with a BOM;
(ii) baseline, the old way: ``DataFrame.to_csv(index=False, encoding="utf-8-sig",
     lineterminator="\\r\\n")``.

It checks that both give the same bytes and prints the best CPU times of each, the
baseline / new ratio and the load average.
"""

from __future__ import annotations

import argparse
import io
import os
import time

import numpy as np
import pandas as pd

from contigmap.io.csv_text import csv_text


def make_table(rows: int, seed: int) -> pd.DataFrame:
    """Return a hamlet-table-like frame of ``rows`` rows and 115 columns."""
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for k in range(78):
        values = np.round(rng.gamma(2.0, 30.0, rows), 4)
        values[rng.random(rows) < 0.03] = np.nan
        columns[f"f{k}"] = values
    for k in range(20):
        columns[f"s{k}"] = pd.array([f"村{i % 997}寨{k}" for i in range(rows)], dtype="str")
    for k in range(10):
        columns[f"b{k}"] = rng.random(rows) < 0.5
    for k in range(7):
        columns[f"i{k}"] = rng.integers(0, 5000, rows)
    return pd.DataFrame(columns)


def _new(table: pd.DataFrame) -> bytes:
    text = csv_text(table)
    assert text is not None
    return text.encode("utf-8-sig")


def _old(table: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    table.to_csv(buffer, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return buffer.getvalue()


def main() -> None:
    """Time both writers and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    table = make_table(args.rows, seed=15)
    assert _new(table) == _old(table), "csv_text differs from to_csv"
    best = {"new": float("inf"), "old": float("inf")}
    for _ in range(args.repeats):
        for name, write in (("old", _old), ("new", _new)):
            start = time.process_time()
            write(table)
            best[name] = min(best[name], time.process_time() - start)
    print(f"{args.rows} rows x {table.shape[1]} columns, best of {args.repeats} (CPU s)")
    print(f"  pandas to_csv  {best['old']:.3f}")
    print(f"  csv_text       {best['new']:.3f}")
    print(f"  ratio old/new  {best['old'] / best['new']:.2f}")
    print(f"  load average   {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
