"""Safe housing on the demo region: plausible, explained, and distinct from water.

No demo village has safe water already (every one needs a well, cistern or pipe), so the
contrast is by rank, as the health tests do: a village among the top quarter for housing
(with a D house) and in the lower half for water, and the other way round.
"""

from __future__ import annotations

import pandas as pd
import pytest

from contigmap.priority import load_priority_config
from contigmap.priority.run import PriorityResults


@pytest.fixture(scope="module")
def tables(demo_priorities: PriorityResults) -> dict[str, pd.DataFrame]:
    return dict(demo_priorities.tables)


@pytest.mark.parametrize(("high", "low"), [("housing", "water"), ("water", "housing"),
                                           ("housing", "health")])
def test_a_village_ranks_high_for_one_work_and_low_for_another(
        tables: dict[str, pd.DataFrame], high: str, low: str) -> None:
    a = tables[high][["village_id", f"{high}_rank", f"{high}_option"]]
    b = tables[low][["village_id", f"{low}_rank", f"{low}_option"]]
    t = a.merge(b, on="village_id")
    n = len(t)
    hit = t[(t[f"{high}_rank"] <= n // 4) & (t[f"{low}_rank"] > n // 2)]
    assert len(hit), f"no village in the top quarter for {high} and the lower half for {low}"
    if high == "housing":  # a village with a D house, and a cheaper or lesser water need
        assert (hit["housing_option"] == "rebuild").any()
    if low == "housing":  # little housing need: few dangerous houses, yet high for water
        assert (hit["housing_rank"] > n // 2).all()


def test_housing_counts_costs_and_reasons(tables: dict[str, pd.DataFrame]) -> None:
    h = tables["housing"]
    c = load_priority_config().housing.costs  # type: ignore[attr-defined]
    n_d = h["danger_d_households"]
    n_c = h["housing_dangerous_households"] - n_d
    expect = (n_c * c.renovate_cny_per_household + n_d * c.rebuild_cny_per_household).round(0)
    assert h["housing_capex_cny"].tolist() == expect.tolist()  # no relocation columns yet
    assert (h["housing_relocating_share"] == 0).all()
    assert set(h["housing_option"]) <= {"rebuild", "renovate", "none"}
    assert (h.loc[h["housing_option"] == "rebuild", "danger_d_households"] > 0).all()
    assert h["housing_reasons_zh"].str.contains("方案").all()
    # about 8 % of the demo's houses are C/D
    share = h["housing_dangerous_households"].sum() / 47677
    assert 0.07 < share < 0.10
