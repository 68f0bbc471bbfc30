"""Type inference of table columns: numbers parsed once per distinct value, as pandas does.

The expected values come from ``pd.to_numeric`` on the whole column (the way
``_infer_table_types`` parsed before it parsed each distinct value once).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from contigmap.io.tables import _distinct, _infer_table_types, _to_numeric_by_value

# cells pandas reads in different ways: integers, floats, blanks, text, int64 / uint64 edges
CELLS = ["", " ", "5", "+5", "-5", " 6 ", "1e3", "nan", "inf", "-inf", "1.5", "-0", "0",
         "007", "abc", "因病", "18446744073709551615", "9223372036854775808",
         "-9223372036854775809", "9007199254740993", "1.0000000000000002", "1_000", "True",
         None]


def _cells(series: pd.Series) -> list[str]:
    """Each cell's ``repr``: tells 0.0 from -0.0, 5 from 5.0 and nan from None."""
    return [repr(v) for v in series.astype(object).tolist()]


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.sampled_from(CELLS), min_size=1, max_size=12),
       dtype=st.sampled_from(["str", "object"]))
def test_to_numeric_by_value_is_pandas_to_numeric(cells: list[str | None], dtype: str) -> None:
    values = pd.Series(cells, dtype=dtype).astype(str)
    expected = pd.to_numeric(values, errors="coerce")
    got = _to_numeric_by_value(values, *_distinct(values))
    assert got.dtype == expected.dtype
    assert _cells(got) == _cells(expected)


def test_distinct_sample_first_rows_then_a_missing_one() -> None:
    values = pd.Series(["b", None, "a", "b", None, "c"], dtype="str")
    codes, sample = _distinct(values)
    assert codes.tolist() == [0, -1, 1, 0, -1, 2]
    assert sample.index.tolist() == [0, 2, 5, 1]  # b, a, c, then the first blank


def test_infer_types_numbers_blanks_codes_and_leading_zeros() -> None:
    df = pd.DataFrame({
        "members": pd.Series(["1", "5", "1", "3"], dtype="str"),
        "income": pd.Series(["1200", None, " 800", "1200"], dtype="str"),
        "cause": pd.Series(["因病", None, "5", None], dtype="str"),
        "house_no": pd.Series(["01", "2", "3", "4"], dtype="str"),
        "village_code": pd.Series(["1", "2", "3", "4"], dtype="str"),
    })
    out = _infer_table_types(df, keep_text=set())
    assert out["members"].dtype == np.int64
    assert out["members"].tolist() == [1, 5, 1, 3]
    assert out["income"].dtype == np.float64
    assert _cells(out["income"]) == ["1200.0", "nan", "800.0", "1200.0"]
    for text in ("cause", "house_no", "village_code"):  # text, leading zero, code name
        assert out[text].equals(df[text])
