"""Households and poor people from the right source; one indicator table read everywhere."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contigmap.errors import DataQualityWarning
from contigmap.indicators import county_indicators, headline_indicators, township_indicators
from contigmap.poverty import (
    NATIONAL_HOUSEHOLD_SIZE,
    apply_poverty_sources,
    poverty_profile,
    registry_kind,
)
from tests.helpers import TinyRegion, check_every_output, expected_villages


def _villages(**extra: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "village_id": ["A", "B", "C"],
        "township_id": ["T1", "T1", "T2"],
        "pop": [100, 200, 300],
    }
    base.update(extra)
    return pd.DataFrame(base)


def _with_registry(villages: pd.DataFrame, registry: pd.DataFrame) -> pd.DataFrame:
    prof = poverty_profile(registry, village_ids=villages["village_id"])
    return villages.join(prof, on="village_id")


def _registry(rows: list[tuple[str, int, int]]) -> pd.DataFrame:
    """Households (village, members, poor 0/1), ids H1, H2, ..."""
    return pd.DataFrame({
        "household_id": [f"H{i + 1}" for i in range(len(rows))],
        "village_id": [r[0] for r in rows],
        "members": [r[1] for r in rows],
        "poor": [r[2] for r in rows],
    })


def test_household_source_rule_by_hand() -> None:
    # A has a count in the villages layer (and registry rows, which it overrides);
    # B is covered by the complete registry: 3 households, 10 people;
    # C has neither: 300 / 4 = 75 households.
    v = _villages(households=[30, np.nan, np.nan])
    reg = _registry([("A", 5, 1), ("A", 5, 0), ("B", 4, 1), ("B", 3, 0), ("B", 3, 1)])
    # the registry is complete for the villages it covers (only their rows are listed)
    out = apply_poverty_sources(_with_registry(v, reg), registry=True, complete=True, size=4.0)
    assert out["households"].tolist() == [30, 3, 75]
    assert out["households_source"].tolist() == ["villages_layer", "registry",
                                                 "pop_div_household_size"]
    # poor people: counts of the complete registry, over its people
    # C has no registry rows: not covered, so unknown (not 0 poor people) and labelled
    assert out["poor_pop"].tolist()[:2] == [5, 7]
    assert np.isnan(out["poor_pop"].iloc[2])
    assert out["pop_basis"].tolist()[:2] == [10, 10]
    assert out["poor_pop_source"].tolist() == ["registry_complete"] * 2 + ["not_covered"]
    assert out["registry_source"].tolist() == ["complete"] * 2 + ["not_covered"]
    assert out["poverty_incidence"].tolist()[:2] == pytest.approx([0.5, 0.7])
    assert np.isnan(out["poverty_incidence"].iloc[2])


def test_no_registry_uses_the_documented_default() -> None:
    out = apply_poverty_sources(_villages(), registry=False)
    # round(pop / 2.62): 38.2 -> 38, 76.3 -> 76, 114.5 -> 115
    assert NATIONAL_HOUSEHOLD_SIZE == 2.62
    assert out["households"].tolist() == [38, 76, 115]
    assert set(out["households_source"]) == {"pop_div_household_size"}
    assert out["poor_pop"].isna().all() and set(out["poor_pop_source"]) == {"none"}


def test_sample_registry_gives_rates_not_counts() -> None:
    # 10 people sampled in A (4 poor), 20 in C (5 poor): 30 of 400 people in A and C
    reg = _registry([("A", 4, 1), ("A", 6, 0), ("C", 5, 1), ("C", 15, 0)])
    table = _with_registry(_villages(), reg)
    with pytest.warns(DataQualityWarning, match="treated as a sample"):
        out = apply_poverty_sources(table, registry=True, size=3.0)
    # poor = pop x sample incidence; B (no sample households) takes the rate of its
    # township T1, which is A's alone: 200 x 4/10
    assert out["poor_pop"].tolist() == pytest.approx([100 * 4 / 10, 200 * 4 / 10,
                                                      300 * 5 / 20])
    assert out["poor_pop_source"].tolist() == ["registry_sample_estimate",
                                               "registry_sample_township_rate",
                                               "registry_sample_estimate"]
    assert out["pop_basis"].tolist() == [100, 200, 300]
    # households never from a sample: pop / 3
    assert out["households"].tolist() == [33, 67, 100]
    assert set(out["households_source"]) == {"pop_div_household_size"}
    # poor households: households x the sample's share of poor households (1/2, 1/2)
    assert out["poor_households"].tolist()[:2] == pytest.approx([33 / 2, 67 / 2])
    # the sample counts stay, labelled as registry counts
    assert out["poor_pop_registry"].tolist() == [4, 0, 5]
    ind = headline_indicators(out)
    county = county_indicators(ind)
    assert county["poor_pop"] == pytest.approx(40 + 80 + 75)
    assert county["poverty_incidence"] == pytest.approx((40 + 80 + 75) / (100 + 200 + 300))
    assert county["poor_pop_source"] == ("registry_sample_estimate+"
                                         "registry_sample_township_rate")


def test_sample_rates_for_villages_without_sample_households_by_hand() -> None:
    # A (T1) sampled: 4 poor of 10 people, 1 poor of 2 households; B (T1) and C (T2) not
    # sampled; D (T3) sampled: 3 poor of 30 people, 1 poor of 2 households
    v = pd.DataFrame({"village_id": ["A", "B", "C", "D"], "name": ["甲", "乙", "丙", "丁"],
                      "township_id": ["T1", "T1", "T2", "T3"], "pop": [100, 200, 300, 400]})
    reg = _registry([("A", 4, 1), ("A", 6, 0), ("D", 3, 1), ("D", 27, 0)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = apply_poverty_sources(_with_registry(v, reg), registry=True, complete=False)
    # B: its township's rate (A's, 4/10); C: T2 has no sample, so the county's pooled
    # rate over people, (4 + 3) / (10 + 30) = 7/40 (not the mean of village rates, 1/4)
    assert out["poor_pop"].tolist() == pytest.approx([40, 80, 300 * 7 / 40, 40])
    assert out["poor_pop_source"].tolist() == [
        "registry_sample_estimate", "registry_sample_township_rate",
        "registry_sample_county_rate", "registry_sample_estimate"]
    assert out["pop_basis"].tolist() == [100, 200, 300, 400]
    # poor households: households (pop / 2.62: 76, 115) x the pooled share 1/2, 2/4
    assert out["poor_households"].tolist()[1:3] == pytest.approx([76 / 2, 115 / 2])
    messages = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    assert messages == [
        "households registry (sample): 2 of 4 villages have no sample households; their "
        "poor people are estimated as pop × the sample incidence of their township, else of "
        "the county — 1 with their township's sample incidence "
        "(registry_sample_township_rate): 乙; 1 with the county's sample incidence "
        "(registry_sample_county_rate): 丙"]
    county = county_indicators(headline_indicators(out))
    assert county["poverty_incidence"] == pytest.approx((40 + 80 + 52.5 + 40) / 1000)


def test_registry_kind_declared_and_inferred() -> None:
    full = _with_registry(_villages(), _registry([("A", 50, 1), ("A", 45, 0)]))  # 95 of 100
    part = _with_registry(_villages(), _registry([("A", 40, 1), ("A", 9, 0)]))  # 49 of 100
    assert registry_kind(full, None)[0] == "complete"
    assert registry_kind(part, None)[0] == "sample"
    assert registry_kind(full, False)[0] == "sample"
    assert registry_kind(part, True)[0] == "complete"
    with warnings.catch_warnings(record=True) as caught:  # inferred complete: only the
        warnings.simplefilter("always")  # villages it does not cover (B, C) are said
        apply_poverty_sources(full, registry=True)
    assert [str(w.message)[:60] for w in caught] == [
        "households registry (complete): 2 of 3 villages are not cove"]
    with warnings.catch_warnings(record=True) as caught:  # declared: only B and C said
        warnings.simplefilter("always")
        apply_poverty_sources(part, registry=True, complete=False)
    assert [str(w.message)[:60] for w in caught] == [
        "households registry (sample): 2 of 3 villages have no sample"]
    with pytest.warns(DataQualityWarning, match="declared complete"):
        out = apply_poverty_sources(part, registry=True, complete=True)
    assert out["poor_pop"].iloc[0] == 40  # the declaration is honoured


def test_villages_layer_poor_pop_wins() -> None:
    reg = _registry([("A", 4, 1), ("A", 6, 0)])
    v = _villages(poor_pop=[np.nan, 20, np.nan])
    with pytest.warns(DataQualityWarning, match=r"1 of 3 villages have no sample households"):
        out = apply_poverty_sources(_with_registry(v, reg), registry=True, complete=False)
    # C (T2, no sample) takes the county's rate, A's 4/10: 300 x 0.4
    assert out["poor_pop_source"].tolist() == ["registry_sample_estimate", "villages_layer",
                                               "registry_sample_county_rate"]
    assert out["poor_pop"].tolist() == pytest.approx([40, 20, 120])
    assert out["pop_basis"].tolist() == [100, 200, 300]


def test_indicators_by_plain_groupby() -> None:
    rng = np.random.default_rng(3)
    n = 40
    v = pd.DataFrame({
        "village_id": [f"V{i}" for i in range(n)],
        "township_id": rng.choice(["T1", "T2", "T3"], n),
        "pop": rng.integers(50, 900, n),
        "households": rng.integers(10, 300, n),
        "poor_pop": rng.uniform(0, 200, n),
        "pop_basis": rng.integers(50, 900, n).astype(float),
    })
    v.loc[[3, 7], ["poor_pop", "pop_basis"]] = np.nan  # villages without poverty data
    access = pd.DataFrame({"township_id": ["T1", "T2", "T3"], "rai": [0.9, 0.8, 0.7],
                           "villages_without_hardened_road": [1, 2, 3]})
    county_access = pd.DataFrame({"county_id": ["all"], "rai": [0.85],
                                  "villages_without_hardened_road": [6]})
    ind = headline_indicators(v, township_access=access, county_access=county_access,
                              county_name="小县")
    towns = township_indicators(ind).set_index("township_id")
    ok = v.dropna(subset=["poor_pop", "pop_basis"])
    g = ok.groupby("township_id")
    assert towns["poverty_incidence"].to_dict() == pytest.approx(
        (g["poor_pop"].sum() / g["pop_basis"].sum()).to_dict())
    assert towns["pop"].to_dict() == v.groupby("township_id")["pop"].sum().to_dict()
    assert towns["rai"].to_dict() == {"T1": 0.9, "T2": 0.8, "T3": 0.7}  # read, not recomputed
    county = county_indicators(ind)
    assert county["name"] == "小县" and county["rai"] == 0.85
    assert county["villages_without_hardened_road"] == 6
    assert county["poverty_incidence"] == pytest.approx(
        ok["poor_pop"].sum() / ok["pop_basis"].sum())


@pytest.mark.slow
def test_sample_registry_run_every_output_agrees(seated_region: TinyRegion,
                                                 tmp_path: Path) -> None:
    """The tiny region's registry (28 people in villages of 1,000) is a sample."""
    from contigmap.pipeline import run

    result = run(seated_region.path, tmp_path / "out")
    out = result.out_dir
    v = expected_villages(out / "villages.csv", seated_region.folder / "households.csv",
                          sample=True)
    # by hand: 100 x 9/12 + 200 x 3/3 + 300 x 1/9 + 400 x 0/4 over 1,000 people
    assert v["exp_poor"].sum() == pytest.approx(75 + 200 + 100 / 3)
    check_every_output(out, result.summary, v)
    # the sample counts (10 + 3 poor people) are nowhere a headline figure
    ind = pd.read_csv(out / "indicators.csv", encoding="utf-8-sig")
    assert ind["poor_pop"].iloc[-1] == pytest.approx(308.3333, abs=1e-3)
    villages = pd.read_csv(out / "villages.csv", encoding="utf-8-sig")
    assert set(villages["households_source"]) == {"pop_div_household_size"}
    assert set(villages["poor_pop_source"]) == {"registry_sample_estimate"}
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "抽样估算" in md and "registry_sample_estimate 4" in md
    params = json.loads((out / "run_manifest.json").read_text(encoding="utf-8"))["parameters"]
    sources = params["poverty_sources"]
    assert sources["households_source"] == {"pop_div_household_size": 4}
    assert sources["poor_pop_source"] == {"registry_sample_estimate": 4}
    assert sources["registry"] == "sample" and sources["household_size"] == 2.62


def test_slowest_villages_puts_unreachable_first_and_skips_missing_times() -> None:
    from contigmap.indicators import slowest_villages

    v = pd.DataFrame({"name": ["a", "b", "c", "d", "e"],
                      "tt_own_township_seat_min": [10.0, np.inf, np.nan, 30.0, 20.0]})
    assert slowest_villages(v) == [("b", np.inf), ("d", 30.0), ("e", 20.0)]
    assert slowest_villages(v, n=1) == [("b", np.inf)]
    assert slowest_villages(v.drop(columns="tt_own_township_seat_min")) == []


def test_one_travel_time_definition_for_figures_and_map_layer() -> None:
    # issue #14: the key figures used the own township seat, the map layer the nearest
    # seat; both now read TRAVEL_TIME_COLUMN (own seat), and the layer's classes reach
    # past 90 min when the villages do
    from contigmap.indicators import TRAVEL_TIME_COLUMN, slowest_villages
    from contigmap.render.legend import DEFAULT_INDICATORS, RDYLGN_6_R, TT_TOWNSHIP_SEAT

    assert TRAVEL_TIME_COLUMN == "tt_own_township_seat_min"
    assert TT_TOWNSHIP_SEAT.column == TRAVEL_TIME_COLUMN
    assert "tt_township_seat_min" not in {s.column for s in DEFAULT_INDICATORS}
    v = pd.DataFrame({"name": ["甲", "乙", "丙"],
                      "tt_township_seat_min": [20.0, 30.0, 40.0],   # nearest seat
                      TRAVEL_TIME_COLUMN: [133.0, 45.0, 95.0]})     # own seat
    assert slowest_villages(v, 2) == [("甲", 133.0), ("丙", 95.0)]
    # classes 0-15-30-60-90-120-inf: 133 in the sixth, 45 in the third, 95 in the fifth
    assert TT_TOWNSHIP_SEAT.color_of(v[TRAVEL_TIME_COLUMN].tolist()) == [
        RDYLGN_6_R[5], RDYLGN_6_R[2], RDYLGN_6_R[4]]
