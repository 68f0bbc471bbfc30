"""Peak RSS per stage: a stage that holds 200 MB peaks 200 MB above the next one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from contigmap.peakrss import read_peak_rss_mb, reset_peak_rss
from contigmap.state import StageTimer

pytestmark = pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(),
                                reason="the peak RSS reset is Linux's")


def test_each_stage_has_its_own_peak() -> None:
    timer = StageTimer()
    with timer.stage("big"):
        held = np.ones(25_000_000)  # 200 MB, touched
    del held
    with timer.stage("small"):
        small = np.ones(1_000)
    assert small.sum() == 1_000
    peaks = timer.peak_rss_mb
    assert set(peaks) == {"big", "small"}
    # the second stage starts from the RSS after the 200 MB were freed
    assert 180 < peaks["big"] - peaks["small"] < 260


def test_reset_brings_the_peak_down_to_the_current_size() -> None:
    held = np.ones(12_500_000)  # 100 MB
    del held
    before = read_peak_rss_mb()
    assert reset_peak_rss()
    after = read_peak_rss_mb()
    assert before is not None and after is not None
    assert after < before - 80
