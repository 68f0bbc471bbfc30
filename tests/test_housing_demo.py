"""Safe housing on the demo region: plausible, explained, and distinct from water.

No demo village has safe water already (every one needs a well, cistern or pipe), so the
contrast is by rank, as the health tests do: a village among the top quarter for housing
(with a D house) and in the lower half for water, and the other way round.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from contigmap.pipeline import RunResult
from contigmap.priority import load_priority_config
from contigmap.priority.run import PriorityResults

DEMO_LAYERS = Path(__file__).resolve().parents[1] / "layers" / "huayuan"


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


@pytest.mark.slow
def test_a_full_run_ranks_housing_with_the_relocation_plan(demo_run: RunResult) -> None:
    """Housing is ranked again once relocation has decided: shares recomputed from the files.

    A village's relocating share is its hamlets' households that relocation moves over all
    its hamlets' households (1 when the village itself moves); a village all of whose
    people move and that has dangerous houses gets the relocate option at no cost.
    """
    out = demo_run.out_dir
    housing = pd.read_csv(out / "priorities" / "priorities_housing.csv",
                          dtype={"village_id": str}).set_index("village_id")
    cand = pd.read_csv(out / "relocation" / "relocation_candidates.csv",
                       dtype={"reloc_unit_id": str, "village_id": str})
    hamlets = pd.read_csv(DEMO_LAYERS / "hamlets.csv", dtype={"hamlet_id": str,
                                                              "village_code": str}
                          ).rename(columns={"village_code": "village_id"})
    moving = set(cand.loc[(cand["reloc_unit"] == "hamlet")
                          & (cand["reloc_decision"] == "relocate"), "reloc_unit_id"])
    assert moving, "the demo relocates some hamlets"
    hh = hamlets["households"].fillna(1.0) if "households" in hamlets else 1.0
    hamlets = hamlets.assign(hh=hh, moves=hamlets["hamlet_id"].isin(moving))
    share = (hamlets["hh"].where(hamlets["moves"], 0.0).groupby(hamlets["village_id"]).sum()
             / hamlets.groupby("village_id")["hh"].sum())
    whole = set(cand.loc[(cand["reloc_unit"] == "village")
                         & (cand["reloc_decision"] == "relocate"), "village_id"])
    share[share.index.isin(whole)] = 1.0
    got = housing["housing_relocating_share"].reindex(share.index)
    assert got.to_numpy() == pytest.approx(share.round(3).to_numpy(), abs=1e-9)
    assert (got > 0).sum() > 0
    dangerous = housing["housing_dangerous_households"]
    moved_all = [v for v in got[got >= 1.0].index if dangerous.get(v, 0) > 0]
    assert all(housing.loc[v, "housing_option"] == "relocate" for v in moved_all)
