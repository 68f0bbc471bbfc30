"""contigmap.io.csv_text writes the same bytes as pandas' to_csv (issue 15).

The independent implementation is pandas itself: every table is written both ways and
the texts compared, on awkward values (NaN, inf, -0.0, 1e-300, subnormals, big ints,
text with commas, quotes, CR, LF, Chinese, NUL, missing text, mixed object columns).
"""

from __future__ import annotations

import decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contigmap.io.csv_text import csv_text
from contigmap.io.writers import csv_safe, write_csv

AWKWARD_FLOATS = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-300, 5e-324, 1.7976931348623157e308,
                  1e16, 1e15, 1e-5, 1e-4, 0.1, 1 / 3, -2.5, 123456789012345678.0, 12.3456]
AWKWARD_TEXT = ["plain", "a,b", 'say "hi"', "line\nbreak", "lone\rcr", "crlf\r\n", "",
                "中文，村", "'=quoted", " space ", "tab\tin", "nul\x00x", '"', ","]


def _pandas_text(table: pd.DataFrame) -> str:
    return table.to_csv(index=False, lineterminator="\r\n")


def _frame() -> pd.DataFrame:
    n = len(AWKWARD_FLOATS)
    texts = (AWKWARD_TEXT * 2)[:n]
    objects: list[object] = [None, np.nan, 1.5, np.float64(2.25), 3, True, "x,y", pd.NA,
                             decimal.Decimal("1.10"), "中", [1, 2], -0.0, 1e-300, "a", "b",
                             float("inf"), 7]
    return pd.DataFrame({
        "f": AWKWARD_FLOATS,
        "i": [0, -1, 2**62, -(2**63), 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
        "u8": np.arange(n, dtype=np.uint8),
        "i32": np.arange(n, dtype=np.int32) - 5,
        "b": [k % 3 == 0 for k in range(n)],
        "s": pd.array([*texts[:-2], None, None], dtype="str"),
        "o": pd.Series(objects, dtype=object),
        "名 称": texts,
    })


def test_same_text_as_pandas_on_awkward_values() -> None:
    table = _frame()
    assert csv_text(table) == _pandas_text(table)


def test_same_text_as_pandas_on_random_floats() -> None:
    rng = np.random.default_rng(15)
    bits = rng.integers(0, 2**63, 20_000, dtype=np.int64).view(np.float64)
    table = pd.DataFrame({"bits": bits, "round": np.round(rng.random(20_000) * 1e4, 4),
                          "ints": rng.integers(-10**12, 10**12, 20_000)})
    assert csv_text(table) == _pandas_text(table)


def test_header_names_are_quoted_like_pandas() -> None:
    table = pd.DataFrame([[1, 2.5, "x"]], columns=["a,b", 'q"', 3.5])
    assert csv_text(table) == _pandas_text(table)


def test_empty_table_has_its_header() -> None:
    table = pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype="str")})
    assert csv_text(table) == _pandas_text(table)


@pytest.mark.parametrize("column", [
    pd.Series([1, None], dtype="Int64"),
    pd.Series([1.5, 2.5], dtype=np.float32),
    pd.Series(pd.to_datetime(["2020-01-01", None])),
    pd.Series(["a", "b"], dtype="category"),
])
def test_other_dtypes_are_left_to_pandas(tmp_path: Path, column: pd.Series) -> None:
    table = pd.DataFrame({"x": [1.0, 2.0], "other": column})
    assert csv_text(table) is None
    write_csv(table, tmp_path / "t.csv")
    expected = _pandas_text(table).encode("utf-8-sig")
    assert (tmp_path / "t.csv").read_bytes() == expected


def test_one_column_is_left_to_pandas() -> None:
    assert csv_text(pd.DataFrame({"a": ["", "x"]})) is None


def test_write_csv_same_bytes_as_pandas_of_csv_safe(tmp_path: Path) -> None:
    table = _frame()
    table["o"] = table["o"].astype(object).where(table.index % 4 != 1, -5)  # int, no quote
    table["s"] = pd.array(["=1+1", "-a", "+b", "@c", "\tt", "\rr", *table["s"][6:]],
                          dtype="str")
    table["=h"] = ["=x", *table["名 称"][1:]]
    write_csv(table, tmp_path / "t.csv")
    expected = _pandas_text(csv_safe(table)).encode("utf-8-sig")
    assert (tmp_path / "t.csv").read_bytes() == expected
