"""Health and schooling on the demo region: plausible, explained, and distinct from water."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contigmap.priority import load_priority_config
from contigmap.priority.health import HealthConfig
from contigmap.priority.run import PriorityResults
from contigmap.priority.schooling import SchoolingConfig, schooling_options

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tables(demo_priorities: PriorityResults) -> dict[str, pd.DataFrame]:
    return dict(demo_priorities.tables)


def _pair(tables: dict[str, pd.DataFrame], high: str, low: str) -> pd.DataFrame:
    a = tables[high][["village_id", f"{high}_rank", f"{high}_option"]]
    b = tables[low][["village_id", f"{low}_rank", f"{low}_option"]]
    return a.merge(b, on="village_id")


@pytest.mark.parametrize(("high", "low"), [("water", "health"), ("health", "water"),
                                           ("schooling", "health"), ("health", "schooling"),
                                           ("roads", "health"), ("power", "schooling")])
def test_a_village_ranks_high_for_one_work_and_low_for_another(
        tables: dict[str, pd.DataFrame], high: str, low: str) -> None:
    t = _pair(tables, high, low)
    n = len(t)
    hit = t[(t[f"{high}_rank"] <= n // 4) & (t[f"{low}_rank"] > n // 2)]
    assert len(hit), f"no village in the top quarter for {high} and the lower half for {low}"
    if low == "health":  # a village with its own clinic in reach, high for the other work
        assert (hit["health_option"] != "clinic_new").any()


def test_health_ranked_with_reasons_and_times(tables: dict[str, pd.DataFrame]) -> None:
    h = tables["health"]
    assert set(h["health_option"]) <= {"clinic_new", "clinic_upgrade", "none"}
    assert {"clinic_new", "clinic_upgrade", "none"} <= set(h["health_option"])
    new = h["health_option"] == "clinic_new"
    assert (h.loc[new, "health_no_clinic"] == 1).all()
    assert (h["health_hospital_min"] >= h["health_clinic_min"] - 1e-9).mean() > 0.9
    assert h["health_reasons_zh"].str.contains("方案").all()
    assert h.loc[new, "health_reasons_zh"].str.contains("新建村卫生室").all()
    assert 0 < int(h["health_sited"].sum()) <= 10
    assert (h["health_e2sfca_per_1000"] >= 0).all()


def test_schooling_children_source_and_options(tables: dict[str, pd.DataFrame]) -> None:
    s = tables["schooling"]
    assert (s["schooling_children_source"] == "census_share").all()
    np.testing.assert_allclose(s["schooling_children"], (s["pop"] * 0.115).round(1))
    assert {"teaching_point", "boarding", "school_bus", "none"} <= set(s["schooling_option"])
    assert (s.loc[s["schooling_option"] == "none", "schooling_far_pupils"] == 0).all()


def test_grades_one_to_three_never_board() -> None:
    cfg = load_priority_config().schooling
    assert isinstance(cfg, SchoolingConfig)
    far = np.array([True, True, False])
    out = schooling_options(np.array([30.0, 4.0, 30.0]), np.array([15.0, 2.0, 15.0]),
                            np.full(3, 0.5), far, np.array([True, True, True]),
                            np.array([False, True, True]), np.array([True, True, True]),
                            cfg, rate=0.08)
    # far primary pupils: a teaching point (no bus) or a bus (few pupils), never boarding
    assert out["option"].tolist()[:2] == ["teaching_point", "school_bus"]
    assert out["option"].iloc[2] in {"boarding", "school_bus"}


def test_health_config_errors() -> None:
    from pydantic import ValidationError

    base = load_priority_config().health
    assert isinstance(base, HealthConfig)
    data = base.model_dump()
    data["access"]["decay"] = "linear"
    with pytest.raises(ValidationError, match="decay"):
        HealthConfig.model_validate(data)
    data = base.model_dump()
    data["costs"]["clinic_area_m2"] = -60
    with pytest.raises(ValidationError, match="clinic_area_m2"):
        HealthConfig.model_validate(data)
