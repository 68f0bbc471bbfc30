"""Benchmark: typing a household-registry-like table's text columns, new way vs old way.

contigmap's ``_infer_table_types`` (each distinct value parsed once) against the old
way, kept here as the baseline: ``pd.to_numeric`` on every cell of each column, the
leading-zero test on every cell. Both run in the same process on the same table; the
results are checked equal and the ratio printed.

Run::

    .venv/bin/python benchmarks/bench_table_types.py             # 140,000 rows
    .venv/bin/python benchmarks/bench_table_types.py --rows 20000
"""

from __future__ import annotations

import argparse
import re

import numpy as np
import pandas as pd

from _timing import timed
from contigmap.io.tables import _infer_table_types

_CODE_NAME = re.compile(r"(^id$|_id$|^id_|code|代码|编码|编号)", re.IGNORECASE)


def old_infer(df: pd.DataFrame, keep_text: set[str]) -> pd.DataFrame:
    """The type inference before distinct values: pandas on every cell."""
    out = df.copy()
    for col in out.columns:
        if col in keep_text or _CODE_NAME.search(str(col)):
            continue
        text = out[col].dropna().astype(str).str.strip()
        if text.empty or text.str.match(r"^[+-]?0\d").any():
            continue
        numbers = pd.to_numeric(text, errors="coerce")
        if numbers.notna().all():
            if len(text) == len(out):
                out[col] = numbers
            else:
                out[col] = pd.to_numeric(out[col].astype(str).str.strip(), errors="coerce")
    return out


def make_table(rows: int, seed: int) -> pd.DataFrame:
    """Columns like households.csv: ids, codes, small counts, flags, causes, incomes."""
    rng = np.random.default_rng(seed)
    poor = rng.random(rows) < 0.1
    causes = np.array(["因病", "因学", "因残", "缺劳力", "缺技术"])
    text = {
        "household_id": [f"99000500{i:08d}" for i in range(rows)],
        "village_code": [f"990005{i // 500:06d}" for i in range(rows)],
        "members": rng.integers(1, 8, rows).astype(str),
        "poor": poor.astype(int).astype(str),
        "cause": np.where(poor, causes[rng.integers(0, 5, rows)], None),
        "income_per_person": rng.integers(1500, 20000, rows).astype(str),
        "land_mu": np.where(rng.random(rows) < 0.2, None,
                            np.round(rng.random(rows) * 10, 1).astype(str)),
    }
    return pd.DataFrame({k: pd.Series(v, dtype="str") for k, v in text.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=140_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    table = make_table(args.rows, args.seed)
    t_old, old = timed(lambda: old_infer(table, {"household_id"}), args.repeats)
    t_new, new = timed(lambda: _infer_table_types(table, {"household_id"}), args.repeats)
    pd.testing.assert_frame_equal(new, old)
    print(f"{args.rows} rows, {table.shape[1]} columns (median of {args.repeats})")
    print(f"  old (pandas on every cell):    {t_old:.3f} s")
    print(f"  new (once per distinct value): {t_new:.3f} s")
    print(f"  ratio old/new: {t_old / t_new:.1f}x")


if __name__ == "__main__":
    main()
