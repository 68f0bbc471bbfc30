"""The ID-number sample is the first non-blank values, read from a head of the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contigmap.io.personal import _first_filled


def _whole_column(values: pd.Series, n: int) -> pd.Series:
    """The sample as it was taken: strip the whole column, drop blanks, keep n."""
    text = values.dropna().astype(str).str.strip()
    return text[text != ""].head(n)


@pytest.mark.parametrize("n", [1, 5, 50])
@pytest.mark.parametrize("blank_share", [0.0, 0.5, 0.97, 1.0])
def test_same_sample_as_the_whole_column(n: int, blank_share: float) -> None:
    rng = np.random.default_rng(int(blank_share * 100) + n)
    cells = [("  " if rng.random() < 0.5 else None) if rng.random() < blank_share
             else f" {k} " for k in range(400)]
    values = pd.Series(cells, dtype=object)
    pd.testing.assert_series_equal(_first_filled(values, n), _whole_column(values, n))
