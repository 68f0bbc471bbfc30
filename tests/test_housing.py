"""Safe housing (危房改造): grades from the registry, counts, costs, relocation, feasibility.

Expected counts and costs are worked out by hand in the comments, with the default unit
costs of ``priorities.yaml`` (C 20,000, D 60,000 CNY per house).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from contigmap.errors import DataQualityWarning
from contigmap.poverty.housing import housing_grades
from contigmap.poverty.registry import poverty_profile
from contigmap.priority import load_priority_config
from contigmap.priority.feasible import feasible_interventions
from contigmap.priority.housing import HousingConfig, housing_priorities, relocating_share
from contigmap.synth.housing import add_housing_grade

V1, V2, V3 = "433124000001", "433124000002", "433124000003"


def _registry() -> pd.DataFrame:
    # V1: C (poor, 3), D (poor, 4), B (2)       -> 1 C, 1 D, 2 poor dangerous, 7 people
    # V2: C级 (2), c (not poor, 5), A (poor, 3) -> 2 C, 0 D, 0 poor dangerous, 7 people
    # V3: A, B                                  -> none
    return pd.DataFrame({
        "household_id": [f"h{i}" for i in range(7)],
        "village_id": [V1, V1, V1, V2, V2, V2, V3],
        "members": [3, 4, 2, 2, 5, 3, 4],
        "poor": [1, 1, 0, 0, 0, 1, 0],
        "housing_grade": ["C", "D", "B", "C级", "c", "A", "B"],
    })


def _villages() -> pd.DataFrame:
    prof = poverty_profile(_registry(), village_ids=[V1, V2, V3]).reset_index()
    prof["pop"] = prof["pop_registry"].astype(float)
    prof["poor_pop"] = prof["poor_pop_registry"].astype(float)
    prof["name"] = ["one", "two", "three"]
    return prof


def _config() -> HousingConfig:
    cfg = load_priority_config().housing
    assert isinstance(cfg, HousingConfig)
    return cfg


def test_grades_read_letters_and_warn_on_others() -> None:
    with pytest.warns(DataQualityWarning, match="housing_grade"):
        g = housing_grades(pd.Series(["a", "Ｄ", "C级危房", "", None, "unsafe"]))
    assert g.tolist() == ["A", "D", "C", "", "", ""]


def test_counts_per_village_by_hand() -> None:
    v = _villages().set_index("village_id")
    assert v["danger_c_households"].tolist() == [1, 2, 0]
    assert v["danger_d_households"].tolist() == [1, 0, 0]
    assert v["danger_poor_households"].tolist() == [2, 0, 0]
    assert v["danger_people"].tolist() == [7, 7, 0]
    assert v["danger_poor_people"].tolist() == [7, 0, 0]


def test_costs_options_and_ranks_by_hand() -> None:
    out = housing_priorities(_villages(), None, _config(), rate=0.08).set_index("village_id")
    # V1: 20,000 + 60,000; V2: 2 x 20,000; V3: nothing
    assert out["housing_capex_cny"].tolist() == [80000.0, 40000.0, 0.0]
    assert out["housing_option"].tolist() == ["rebuild", "renovate", "none"]
    assert out["housing_beneficiaries"].tolist() == [7.0, 7.0, 0.0]
    assert out["housing_poor_beneficiaries"].tolist() == [7.0, 0.0, 0.0]
    # annualised over 30 years at 8 %: crf = 0.08 / (1 - 1.08^-30)
    crf = 0.08 / (1 - 1.08 ** -30)
    assert out.loc[V1, "housing_annualised_cny"] == round(80000 * crf)
    assert out["housing_rank"].tolist() == [1, 2, 3]
    assert "拆除重建" in out.loc[V1, "housing_reasons_zh"]
    assert "renovate in place" in out.loc[V2, "housing_reasons"]


def test_relocation_makes_it_relocate_at_no_cost() -> None:
    v = _villages()
    v["reloc_decision"] = ["relocate", "", ""]
    # V2's hamlets: one of 3 households moves, the other 1 stays -> share 3 / 4
    hamlets = pd.DataFrame({"hamlet_id": ["a", "b", "c"], "village_id": [V2, V2, V3],
                            "households": [3, 1, 5],
                            "reloc_decision": ["relocate", "stay", "stay"]})
    np.testing.assert_allclose(relocating_share(v, hamlets), [1.0, 0.75, 0.0])
    out = housing_priorities(v, hamlets, _config(), rate=0.08).set_index("village_id")
    assert out.loc[V1, "housing_option"] == "relocate"
    assert out.loc[V1, "housing_capex_cny"] == 0.0
    assert "costed by relocation" in out.loc[V1, "housing_reasons"]
    assert "搬迁安置" in out.loc[V1, "housing_reasons_zh"]
    # V2 keeps its C houses, a quarter of their cost: 40,000 x 0.25
    assert out.loc[V2, "housing_option"] == "renovate"
    assert out.loc[V2, "housing_capex_cny"] == 10000.0
    assert out.loc[V3, "housing_relocating_share"] == 0.0


def test_without_a_housing_grade_it_is_skipped_with_a_warning() -> None:
    reg = _registry().drop(columns="housing_grade")
    v = poverty_profile(reg, village_ids=[V1, V2, V3]).reset_index()
    assert not any(c.startswith("danger_") for c in v.columns)
    with pytest.warns(DataQualityWarning, match="housing skipped: .*housing_grade"):
        got = feasible_interventions([], has_dem=False, villages=v, hamlets=None,
                                     names=["housing"])
    assert got == ()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert feasible_interventions([], has_dem=False, villages=_villages(), hamlets=None,
                                      names=["housing"]) == ("housing",)


def test_demo_generator_is_deterministic_and_poorer_more_often_dangerous() -> None:
    hh = pd.DataFrame({"poor": [1] * 2000 + [0] * 8000})
    a, b = add_housing_grade(hh), add_housing_grade(hh)
    assert a["housing_grade"].tolist() == b["housing_grade"].tolist()
    danger = a["housing_grade"].isin(["C", "D"])
    poor = hh["poor"].eq(1)
    assert danger[poor].mean() > 2 * danger[~poor].mean()
    assert 0.06 < danger.mean() < 0.10


def test_demo_registry_carries_the_column() -> None:
    from pathlib import Path

    path = Path(__file__).parents[1] / "layers" / "huayuan" / "households.csv"
    hh = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert hh["housing_grade"].tolist() == add_housing_grade(
        hh.drop(columns="housing_grade"))["housing_grade"].tolist()
