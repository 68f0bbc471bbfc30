"""Running out of memory: one line naming the stage, the run's size and what to change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from contigmap import stages
from contigmap.cli.main import cli
from contigmap.errors import ContigmapError, ResourceError
from contigmap.state import StageTimer
from tests.helpers import TinyRegion


def _allocate_too_much(*_: Any, **__: Any) -> Any:
    """Ask numpy for 2 PiB, which no machine can give: a real failed allocation."""
    return np.empty((1 << 24, 1 << 24), dtype=np.float64)


def test_stage_turns_a_failed_allocation_into_one_line() -> None:
    timer = StageTimer()
    timer.size = "1,000,000 road edges, 18,926 villages"
    with pytest.raises(ResourceError) as caught, timer.stage("network"):
        _allocate_too_much()
    text = str(caught.value)
    assert "\n" not in text
    assert "stage 'network'" in text
    assert "1,000,000 road edges, 18,926 villages" in text
    assert "could not allocate 2.00 PiB" in text
    assert "--workers" in text and "--scheduler" in text
    assert isinstance(caught.value, ContigmapError)
    assert "network" not in timer.timings_s  # a failed stage has no time


def test_other_errors_pass_through_the_stage() -> None:
    timer = StageTimer()
    with pytest.raises(KeyError), timer.stage("overlay"):
        raise KeyError("x")


def test_run_out_of_memory_is_one_line_and_writes_nothing(
        tiny_region: TinyRegion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stages, "network_stage", _allocate_too_much)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["-q", "run", str(tiny_region.path), "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: out of memory in stage 'network' on ")
    assert " road edges, " in lines[0] and "villages" in lines[0]
    assert not out.exists()
