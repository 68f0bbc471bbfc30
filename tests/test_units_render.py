"""Unit tests for small render helpers: rounding, wrapping, travel-time classes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from contigmap.render.compose import travel_time_class
from contigmap.render.static_parts import nice_round, wrap


@pytest.mark.parametrize(("x", "digits", "want"), [
    (1234.0, 2, 1200.0),
    (0.012345, 2, 0.012),
    (-987.0, 2, -990.0),
    (4.26, 1, 4.0),
    (3.0, 3, 3.0),
    (0.0, 2, 0.0),
    (math.inf, 2, math.inf),
])
def test_nice_round(x: float, digits: int, want: float) -> None:
    assert nice_round(x, digits) == pytest.approx(want)


def test_nice_round_nan() -> None:
    assert math.isnan(nice_round(float("nan")))


def test_wrap_words_and_cjk() -> None:
    assert wrap("the quick brown fox jumps", 10) == "the quick\nbrown fox\njumps"
    assert wrap("一二三四五六七", 3) == "一二三\n四五六\n七"
    assert wrap("一二三\nab", 2) == "一二\n三\nab"
    assert wrap("", 5) == ""


def test_travel_time_class_boundaries() -> None:
    minutes = [0.0, 15.0, 15.01, 30.0, 59.9, 60.0, 120.0, 120.5, np.inf, np.nan]
    assert travel_time_class(minutes) == [
        "≤ 15 min", "≤ 15 min", "15–30 min", "15–30 min", "30–60 min", "30–60 min",
        "60–120 min", "> 120 min", "> 120 min", "no route"]
    assert travel_time_class(pd.Series([], dtype=float)) == []
