"""The stages and their orchestrator: one network build per run, one stage code path.

On the tiny seated region of ``conftest.py`` (4 villages, 3 roads, two township seats).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import contigmap.network
import contigmap.network.build
import contigmap.scenario.evaluate
import contigmap.stages
from contigmap.dryrun import validation_report
from contigmap.pipeline import prepare, run
from contigmap.publish import headline_summary, map_facts
from tests.helpers import VILLAGE_CODES, TinyRegion

pytestmark = pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")


def _count_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Wrap every binding of ``build_network``; return the road counts it was called with."""
    calls: list[int] = []
    original = contigmap.network.build.build_network

    def counting(roads: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(roads))
        return original(roads, *args, **kwargs)

    for module in (contigmap.network, contigmap.network.build, contigmap.scenario.evaluate):
        monkeypatch.setattr(module, "build_network", counting)
    return calls


def _scenario(folder: Path, name: str, change: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nchanges:\n{change}", encoding="utf-8")
    return path


@pytest.mark.slow
def test_a_run_with_a_bus_scenario_builds_the_network_once(
    seated_region: TinyRegion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bus = _scenario(tmp_path, "bus", "  - type: bus\n    stops: "
                    f"['{VILLAGE_CODES[0]}', '{VILLAGE_CODES[1]}']\n"
                    "    frequency_per_day: 4\n    max_stop_distance_m: 3000\n")
    calls = _count_builds(monkeypatch)
    result = run(seated_region.path, tmp_path / "out", scenarios=[bus])
    assert calls == [3]  # the region's three roads, once: priorities, relocation and
    # the scenario all route on that graph
    table = pd.read_csv(tmp_path / "out" / "scenarios" / "bus_villages.csv",
                        dtype={"village_id": str})
    assert "scenario_bus" in result.summary
    # no road changed: no village is faster or slower by road; the stop villages get a bus
    assert (table["d_tt_own_township_seat_min"] == 0).all()
    stops = table[table["village_id"].isin(VILLAGE_CODES[:2])]
    assert stops["bus_access_min"].notna().all()


@pytest.mark.slow
def test_a_road_scenario_builds_its_own_graph_and_nothing_else_is_rebuilt(
    seated_region: TinyRegion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pave = _scenario(tmp_path, "pave", "  - type: upgrade\n    roads: ['2']\n"
                     "    to: {surface: paved}\n")
    calls = _count_builds(monkeypatch)
    state = prepare(seated_region.path, scenarios=[pave])
    # once for the region (3 roads), once for the scenario's changed road layer (3 roads,
    # one upgraded); the baseline of the scenario reuses the run's graph
    assert calls == [3, 3]
    assert state.scenarios[0].summary["roads_changed"] == 1


@pytest.mark.slow
def test_the_dry_run_calls_the_stage_functions_the_run_calls(
    seated_region: TinyRegion, monkeypatch: pytest.MonkeyPatch
) -> None:
    called: list[str] = []
    for name in ("services_with_townships", "profile_stage", "network_stage",
                 "indicator_stage"):
        original = getattr(contigmap.stages, name)

        def spy(*args: Any, _name: str = name, _f: Any = original, **kwargs: Any) -> Any:
            called.append(_name)
            return _f(*args, **kwargs)

        monkeypatch.setattr(contigmap.stages, name, spy)
    validation_report(seated_region.path)
    dry = list(called)
    called.clear()
    prepare(seated_region.path, priorities=False)
    assert dry == called == ["services_with_townships", "profile_stage", "network_stage",
                             "indicator_stage"]


@pytest.mark.slow
def test_headline_outputs_read_the_indicator_table(seated_region: TinyRegion) -> None:
    """The map panel and the CLI summary show the indicator table's figures, not their own."""
    state = prepare(seated_region.path, priorities=False)
    assert state.indicators is not None
    doctored = state.indicators.copy()
    county = doctored["level"] == "county"
    doctored.loc[county, "poverty_incidence"] = 0.5
    doctored.loc[county, "poor_pop"] = 1234.0
    doctored.loc[county, "poor_pop_source"] = "registry_complete"  # no estimate note
    doctored.loc[county, "rai"] = 0.25
    doctored.loc[county, "villages_without_hardened_road"] = 3
    doctored.loc[county, "villages"] = 7
    doctored.loc[county, "rai_definition"] = "test definition"
    from dataclasses import replace

    fake = replace(state, indicators=doctored)
    summary = headline_summary(fake)
    assert summary["poverty_incidence"] == 0.5
    assert summary["poor_people"] == "1,234"
    assert summary["rural_access_index"] == 0.25
    assert summary["no_hardened_road"] == 3
    assert summary["villages"] == 7
    facts = dict(map_facts(fake))
    assert facts["贫困发生率 poverty incidence"] == "50.0% (1,234 poor people)"
    assert facts["农村通达指数 Rural Access Index"] == "25.0% (test definition)"
    assert facts["未通硬化路到乡镇的村 villages without a hardened road to the township"] == "3 / 7"
    # the slowest villages are the village table's, by minutes to the own seat
    tt = state.villages.set_index("name")["tt_own_township_seat_min"]
    expected = tt.sort_values(ascending=False).index[:3].tolist()
    assert summary["slowest_villages"].split("、")[0].startswith(expected[0])
    assert np.isfinite(tt).any()
