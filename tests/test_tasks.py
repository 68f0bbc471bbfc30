"""Independent tasks on Dask give the serial results: map_tasks, scenarios, criticality."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contigmap.network import build_network
from contigmap.network.criticality import road_criticality
from contigmap.pipeline import evaluate_scenarios, prepare
from contigmap.scenario import load_scenario
from contigmap.tasks import ExecutionOptions, map_tasks
from tests.helpers import TinyRegion, hand_network

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")]


@pytest.fixture(scope="module")
def cluster() -> Iterator[ExecutionOptions]:
    """A 2-worker LocalCluster shared by the module's tests (by its scheduler address)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as local:
        yield ExecutionOptions(scheduler=local.scheduler_address)


def _scaled_sum(item: int, weights: np.ndarray, offset: float) -> float:
    return float(item * weights.sum() + offset)


def test_map_tasks_keeps_item_order_and_shares_objects(cluster: ExecutionOptions) -> None:
    weights = np.arange(5, dtype=float)  # sum 10
    seen: list[tuple[int, int]] = []
    items = list(range(12))
    out = map_tasks(_scaled_sum, items, shared=(weights, 0.5), options=cluster,
                    progress=lambda done, total, _: seen.append((done, total)))
    assert out == [10.0 * i + 0.5 for i in items]
    assert seen == [(k, 12) for k in range(1, 13)]
    serial = map_tasks(_scaled_sum, items, shared=(weights, 0.5))
    assert serial == out


def test_in_process_options() -> None:
    assert ExecutionOptions(serial=True).in_process(10)
    assert ExecutionOptions(workers=1).in_process(10)
    assert ExecutionOptions(workers=2).in_process(1)
    assert not ExecutionOptions(workers=2).in_process(2)
    assert not ExecutionOptions(scheduler="tcp://x:1").in_process(1)


def test_criticality_on_dask_equals_serial(cluster: ExecutionOptions) -> None:
    roads, villages, services = hand_network()
    graph = build_network(roads)
    serial = road_criticality(graph, villages, services)
    on_dask = road_criticality(graph, villages, services, execution=cluster)
    pd.testing.assert_frame_equal(pd.DataFrame(serial), pd.DataFrame(on_dask))
    assert serial.iloc[0]["road_id"] == "R1"  # the hand-checked ranking (test_criticality)


def _write_scenarios(folder: Path) -> list[Path]:
    texts = {
        "pave.yaml": ("name: pave\nchanges:\n  - type: upgrade\n    roads: ['2', '3']\n"
                      "    to: {road_class: village, surface: paved}\n"),
        "close.yaml": "name: close\nchanges:\n  - type: close\n    roads: ['1']\n",
        "both.yaml": ("name: both\nchanges:\n  - type: upgrade\n    roads: ['3']\n"
                      "    to: {surface: paved}\n  - type: close\n    roads: ['2']\n"),
    }
    paths = []
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(folder / name)
    return paths


def test_scenarios_on_dask_equal_serial(tiny_region: TinyRegion, tmp_path: Path,
                                        cluster: ExecutionOptions) -> None:
    state = prepare(tiny_region.path, priorities=False)
    scenarios = [load_scenario(p) for p in _write_scenarios(tmp_path)]
    serial = evaluate_scenarios(state, scenarios)
    on_dask = evaluate_scenarios(state, scenarios, execution=cluster)
    assert [r.scenario.name for r in on_dask] == ["pave", "close", "both"]
    for a, b in zip(serial, on_dask, strict=True):
        pd.testing.assert_frame_equal(pd.DataFrame(a.villages), pd.DataFrame(b.villages))
    # the scenarios differ from one another, so order mix-ups would show
    assert not serial[0].villages.equals(serial[1].villages)
