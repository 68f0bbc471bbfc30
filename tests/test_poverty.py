from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contigmap.errors import DataQualityWarning, ValidationError
from contigmap.poverty import CAUSE_COLUMNS, normalise_cause, poverty_profile

A, B, C = "433124100201", "433124100202", "433124100203"


def registry() -> pd.DataFrame:
    rows = [
        ("h1", A, 4, "是", "因病", 2000),
        ("h2", A, 3, "否", None, 6000),
        ("h3", A, 5, 1, "illness", 1500),
        ("h4", A, 2, 0, "", 8000),
        ("h5", A, 1, True, "缺资金", 2500),
        ("h6", A, 3, "是", "weird", 3000),
        ("h7", B, 2, "否", None, 7000),
        ("h8", int(B), 4, "是", "因残致贫", 1800),  # code read as a number
        ("h9", B, 6, False, None, 5000),
        ("h10", "999999999999", 3, "是", "因病", 1000),
    ]
    return pd.DataFrame(rows, columns=["household_id", "village_id", "members", "poor", "cause",
                                       "income_per_person"])


def test_profile_by_hand() -> None:
    with pytest.warns(DataQualityWarning) as rec:
        out = poverty_profile(registry(), village_ids=[A, B, C])
    text = " ".join(str(w.message) for w in rec)
    assert "999999999999 (1 rows)" in text
    assert "'weird' (1)" in text

    a = out.loc[A]
    assert a["households_registry"] == 6 and a["pop_registry"] == 18
    assert a["poor_households_registry"] == 4 and a["poor_pop_registry"] == 4 + 5 + 1 + 3
    assert a["poverty_incidence"] == pytest.approx(13 / 18)
    assert a["income_pp_mean_yuan"] == pytest.approx(61000 / 18)
    # 18 people sorted: 1500 x5, 2000 x4, 2500, 3000 x3, ... -> people 9 and 10: 2000, 2500
    assert a["income_pp_median_yuan"] == pytest.approx(2250)
    assert a["cause_illness_share"] == pytest.approx(0.5)
    assert a["cause_lack_of_capital_share"] == pytest.approx(0.25)
    assert a["cause_other_share"] == pytest.approx(0.25)
    assert a["main_causes"] == "因病 50%、缺资金 25%、其他 25%"

    b = out.loc[B]
    assert (b["households_registry"], b["pop_registry"], b["poor_pop_registry"]) == (3, 12, 4)
    assert b["poverty_incidence"] == pytest.approx(1 / 3)
    assert b["income_pp_mean_yuan"] == pytest.approx(51200 / 12)
    assert b["income_pp_median_yuan"] == pytest.approx(5000)
    assert b["cause_disability_share"] == 1.0
    assert b["main_causes"] == "因残 100%"

    c = out.loc[C]
    assert c["households_registry"] == 0 and c["poor_pop_registry"] == 0
    assert np.isnan(c["poverty_incidence"])
    # shares sum to one where there are poor households
    np.testing.assert_allclose(out.loc[[A, B], list(CAUSE_COLUMNS)].sum(axis=1), 1.0)
    assert "999999999999" not in out.index


def test_bad_members_names_the_row() -> None:
    frame = registry()
    frame.loc[1, "members"] = 0
    with pytest.raises(ValidationError, match=r"row 2 \(household_id h2\)"):
        poverty_profile(frame)
    frame.loc[1, "members"] = -2
    with pytest.raises(ValidationError, match="whole number >= 1"):
        poverty_profile(frame)


def test_bad_poor_value() -> None:
    frame = registry()
    frame["poor"] = frame["poor"].astype(object)
    frame.loc[3, "poor"] = "maybe"
    with pytest.raises(ValidationError, match="'maybe' in row 4"):
        poverty_profile(frame)


def test_missing_column() -> None:
    with pytest.raises(ValidationError, match=r"missing column\(s\) \['members'\]"):
        poverty_profile(registry().drop(columns="members"))


@pytest.mark.parametrize(
    ("label", "key"),
    [("因病", "illness"), ("因病致贫", "illness"), ("Lack of capital", "lack_of_capital"),
     ("交通条件落后", "poor_transport"), ("缺劳动力", "lack_of_labour"), ("??", None)],
)
def test_normalise_cause(label: str, key: str | None) -> None:
    assert normalise_cause(label) == key


def test_merge_alias_for_pipeline() -> None:
    import geopandas as gpd
    import shapely

    from contigmap.poverty import village_poverty_profile

    villages = gpd.GeoDataFrame({"village_id": [A, B]},
                                geometry=[shapely.Point(0, 0), shapely.Point(1, 1)])
    with pytest.warns(DataQualityWarning):
        prof = village_poverty_profile(registry(), villages["village_id"])
    merged = villages.merge(prof, on="village_id", how="left")
    assert merged["poor_pop_registry"].tolist() == [13, 4]


def test_an_empty_registry_is_said_not_silent() -> None:
    # as a header-only CSV loads: every column of object dtype, no rows
    empty = pd.DataFrame({c: pd.Series([], dtype=object)
                          for c in ("household_id", "village_id", "members", "poor")})
    with pytest.warns(DataQualityWarning, match="the registry layer has no rows"):
        poverty_profile(empty, village_ids=["433124100201"])


def test_weighted_medians_match_one_sort_per_group() -> None:
    """All groups at once give the per-group median over people (members repeated)."""
    from contigmap.poverty.registry import _weighted_medians

    def one_group(values: np.ndarray, weights: np.ndarray) -> float:
        people = np.repeat(values[~np.isnan(values)], weights[~np.isnan(values)].astype(int))
        return float(np.median(people)) if people.size else float("nan")

    rng = np.random.default_rng(1)
    for t in range(200):
        m, n = int(rng.integers(0, 40)), int(rng.integers(1, 7))
        g = rng.integers(0, n, m)
        v = (rng.choice([np.nan, 1.0, 2.5, 3.0, 1e4, 7.25], m) if t % 2
             else np.round(rng.normal(5000, 2000, m), 2))
        w = rng.integers(1, 9, m).astype(float)
        got = _weighted_medians(g, n, v, w)
        expected = np.array([one_group(v[g == k], w[g == k]) for k in range(n)])
        assert np.array_equal(got, expected, equal_nan=True)
