"""parse_bool looks at each distinct value once: the same flags as cell by cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contigmap.booleans import _is_blank, _word, accepted_words, parse_bool


def _reference(cells: list[object], column: str, default: bool) -> np.ndarray:
    """Cell by cell, as parse_bool read every cell before grouping."""
    true, false = accepted_words(column)
    out = []
    for v in cells:
        if _is_blank(v):
            out.append(default)
            continue
        w = _word(v)
        assert w in true or w in false, v
        out.append(w in true)
    return np.array(out, dtype=bool)


RNG = np.random.default_rng(3)
CASES = {
    "int": pd.Series(RNG.integers(0, 2, 500)),
    "float_nan": pd.Series(RNG.choice([0.0, 1.0, -0.0, np.nan], 500)),
    "str": pd.Series(RNG.choice(["是", "否", " Y ", "1.0", "", "有", "无"], 500), dtype="str"),
    "str_na": pd.Series(["是", None, "0", "贫困户", "非贫困户"] * 20, dtype="string"),
    "object_mixed": pd.Series([1, 1.0, True, "1", 0, False, "0.0", None, np.nan, " "] * 10,
                              dtype=object),
    "bool_na": pd.Series([True, False, None] * 10, dtype="boolean"),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("default", [False, True])
def test_grouped_flags_equal_cell_by_cell(name: str, default: bool) -> None:
    series = CASES[name]
    got = parse_bool(series, column="poor", default=default)
    assert np.array_equal(got, _reference(series.tolist(), "poor", default))


def test_a_bad_word_is_still_named() -> None:
    with pytest.raises(Exception, match="'maybe'"):
        parse_bool(pd.Series(["是", "maybe"] * 50, dtype="str"), column="poor")
