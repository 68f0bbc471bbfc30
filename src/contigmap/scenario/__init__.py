"""Road scenarios: what if a road is paved, built, closed, or a bus runs.

Typical use::

    from contigmap import scenario
    sc = scenario.load_scenario("scenarios/huayuan_pave_worst_township.yaml")
    base = scenario.baseline_measures(data, villages=villages)
    result = scenario.evaluate_scenario(data, sc, baseline=base, villages=villages)
    scenario.compare_scenarios([result, ...])
    scenario.write_scenario_outputs([result, ...], "out/scenarios")
"""

from __future__ import annotations

from contigmap.scenario.apply import AppliedScenario, BusRoute, apply_scenario
from contigmap.scenario.compare import compare_scenarios, write_scenario_outputs
from contigmap.scenario.evaluate import (
    Baseline,
    ScenarioResult,
    baseline_measures,
    evaluate_scenario,
)
from contigmap.scenario.model import Scenario, load_scenario, parse_scenario

__all__ = [
    "AppliedScenario",
    "Baseline",
    "BusRoute",
    "Scenario",
    "ScenarioResult",
    "apply_scenario",
    "baseline_measures",
    "compare_scenarios",
    "evaluate_scenario",
    "load_scenario",
    "parse_scenario",
    "write_scenario_outputs",
]
