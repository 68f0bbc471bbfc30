"""web_page.text and is_missing: the same as html.escape and the plain missing checks."""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import pytest

from contigmap.render.web_page import is_missing, text


@pytest.mark.parametrize("value", [
    "plain", "村 名", "", "a&b", "<b>", "x>y", 'say "hi"', "it's", "&amp;", "{{7*7}}",
    3, 2.5, -0.0, float("nan"), None, True, np.float64(0.1), "\u2028",
])
def test_text_is_html_escape_of_str(value: object) -> None:
    assert text(value) == html.escape(str(value), quote=True)


def test_is_missing() -> None:
    missing = [None, pd.NA, pd.NaT, float("nan"), np.float32("nan"), np.float64("nan")]
    present = ["", "nan", 0, 0.0, np.float64(1.5), False, math.inf]
    assert all(is_missing(v) for v in missing)
    assert not any(is_missing(v) for v in present)
