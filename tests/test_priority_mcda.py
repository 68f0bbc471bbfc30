"""MCDA on a 4-village table computed by hand; configuration errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from contigmap.errors import ConfigError, ValidationError
from contigmap.finance import crf
from contigmap.priority.config import default_priorities_path, load_priority_config
from contigmap.priority.mcda import (
    Criterion,
    average_ranks,
    explain,
    need_scores,
    normalise,
    rank_and_tier,
    score_table,
    sensitivity,
    spearman,
)

CRIT = (
    Criterion("a", "a", lambda r: f"a={r['a']:.0f}", lambda r: f"甲{r['a']:.0f}"),
    Criterion("b", "b", lambda r: f"b={r['b']:.0f}", lambda r: f"乙{r['b']:.0f}"),
)


def _table() -> pd.DataFrame:
    return pd.DataFrame({"vid": ["v1", "v2", "v3", "v4"], "a": [0.0, 5, 10, 10],
                         "b": [4.0, 0, 2, 0]})


def test_weighted_sum_rank_tier_reasons_by_hand() -> None:
    out = score_table(_table(), CRIT, {"a": 3, "b": 1}, prefix="x", id_column="vid",
                      reasons_top=2)
    # w = 0.75, 0.25; na = 0, .5, 1, 1; nb = 1, 0, .5, 0
    assert out["x_need"].tolist() == pytest.approx([25.0, 37.5, 87.5, 75.0])
    assert out["x_rank"].tolist() == [4, 3, 1, 2]
    assert out["x_tier"].tolist() == [4, 3, 1, 2]
    assert out["x_reasons"].iloc[0] == "b=4"  # a contributes 0 for v1
    assert out["x_reasons"].iloc[2] == "a=10; b=2"
    assert out["x_reasons_zh"].iloc[2] == "甲10；乙2"
    # points per criterion: 100 · w · n, by hand; they sum to the need
    assert out["x_pts_a"].tolist() == pytest.approx([0.0, 37.5, 75.0, 75.0])
    assert out["x_pts_b"].tolist() == pytest.approx([25.0, 0.0, 12.5, 0.0])


def test_two_tiers_and_ties_by_id() -> None:
    rank, tier = rank_and_tier(np.array([5.0, 9.0, 5.0, 1.0]), ["d", "a", "c", "b"], 2)
    assert rank.tolist() == [3, 1, 2, 4]  # the tie 5.0 goes to id "c" first
    assert tier.tolist() == [2, 1, 1, 2]


@pytest.mark.slow
def test_rank_normalisation_by_hand() -> None:
    np.testing.assert_allclose(normalise(np.array([0.0, 5, 10, 10]), "rank"), [0, 0.4, 1, 1])
    np.testing.assert_allclose(normalise(np.array([3.0, 3.0]), "minmax"), [0, 0])


def test_sensitivity_rows_and_seed() -> None:
    t = _table()
    s1 = sensitivity(t, CRIT, {"a": 3, "b": 1}, id_column="vid", draws=5, top_n=2, seed=1)
    s2 = sensitivity(t, CRIT, {"a": 3, "b": 1}, id_column="vid", draws=5, top_n=2, seed=1)
    assert len(s1) == 2 * 2 + 5
    pd.testing.assert_frame_equal(s1, s2)
    # scaling the only weighted criterion changes nothing
    s = sensitivity(t, CRIT, {"a": 1, "b": 0}, id_column="vid", draws=0, top_n=2)
    assert s["spearman"].tolist() == pytest.approx([1.0, 1.0])
    assert s["top_n_kept"].tolist() == [2, 2]
    assert spearman(np.array([1.0, 2, 3]), np.array([3.0, 2, 1])) == pytest.approx(-1.0)


def test_sensitivity_equals_recomputing_each_perturbation() -> None:
    """The one-pass sensitivity against need_scores and rank_and_tier run per perturbation."""
    from scipy.stats import spearmanr

    rng = np.random.default_rng(3)
    n = 300
    t = pd.DataFrame({"vid": [f"v{i:03d}" for i in rng.permutation(n)],
                      "a": rng.integers(0, 20, n).astype(float),  # many ties
                      "b": rng.random(n) * 50})
    weights = {"a": 2.0, "b": 1.0}
    got = sensitivity(t, CRIT, weights, id_column="vid", draws=30, top_n=25, seed=4, step=0.3)
    base, _ = need_scores(t, CRIT, weights)
    base_rank, _ = rank_and_tier(base, t["vid"], 1)
    rng2 = np.random.default_rng(4)
    w = np.array([2 / 3, 1 / 3])
    perturbed = [w * np.array(f) for f in ((0.7, 1), (1.3, 1), (1, 0.7), (1, 1.3))]
    perturbed += [rng2.dirichlet(50.0 * w) for _ in range(30)]
    assert len(got) == len(perturbed)
    for row, new_w in zip(got.itertuples(), perturbed, strict=True):
        need, _ = need_scores(t, CRIT, {"a": new_w[0], "b": new_w[1]})
        rank, _ = rank_and_tier(need, t["vid"], 1)
        assert row.spearman == pytest.approx(spearmanr(base, need).statistic, rel=1e-12)
        assert spearman(base, need) == pytest.approx(row.spearman, rel=1e-12)
        kept = len(set(np.flatnonzero(base_rank <= 25)) & set(np.flatnonzero(rank <= 25)))
        assert row.top_n_kept == kept


@pytest.mark.parametrize("k", [1, 3, 7, 8, 11])
def test_perturbed_needs_bit_for_bit(k: int) -> None:
    """All perturbations at once give each one's row sums exactly (fewer or more than 8 terms).

    Below 8 criteria those are also need_scores' floats (NumPy and pandas both add in order).
    """
    from contigmap.priority.mcda import _perturbed_needs

    rng = np.random.default_rng(k)
    n = 57
    crit = [Criterion(f"c{j}", f"c{j}", str, str) for j in range(k)]
    t = pd.DataFrame({f"c{j}": rng.random(n) * 10.0 ** rng.integers(-3, 4) for j in range(k)})
    raw = [rng.random((1, k)) + 0.01, rng.dirichlet(np.full(k, 5.0), size=20)]
    normalised = np.column_stack([normalise(t[c.name]) for c in crit])
    got = _perturbed_needs(normalised, raw)
    for j, w in enumerate(np.concatenate(raw)):
        assert np.array_equal(got[:, j], (normalised * (100.0 * (w / w.sum()))).sum(axis=1))
        if k < 8:
            need, _ = need_scores(t, crit, {c.name: float(x) for c, x in zip(crit, w, strict=True)})
            assert np.array_equal(got[:, j], need)


def test_sensitivity_top_n_with_ties_at_the_cut() -> None:
    """Integer criteria tie many needs at the top-N cut: kept counts as rank_and_tier's."""
    rng = np.random.default_rng(7)
    n = 200
    t = pd.DataFrame({"vid": [f"v{i:03d}" for i in rng.permutation(n)],
                      "a": rng.integers(0, 4, n).astype(float),
                      "b": rng.integers(0, 3, n).astype(float)})
    weights = {"a": 1.0, "b": 1.0}
    got = sensitivity(t, CRIT, weights, id_column="vid", draws=10, top_n=30, seed=2, step=0.5)
    base, _ = need_scores(t, CRIT, weights)
    base_rank, _ = rank_and_tier(base, t["vid"], 1)
    rng2 = np.random.default_rng(2)
    w = np.array([0.5, 0.5])
    perturbed = [w * np.array(f) for f in ((0.5, 1), (1.5, 1), (1, 0.5), (1, 1.5))]
    perturbed += [rng2.dirichlet(50.0 * w) for _ in range(10)]
    for row, new_w in zip(got.itertuples(), perturbed, strict=True):
        need, _ = need_scores(t, CRIT, {"a": new_w[0], "b": new_w[1]})
        rank, _ = rank_and_tier(need, t["vid"], 1)
        kept = len(set(np.flatnonzero(base_rank <= 30)) & set(np.flatnonzero(rank <= 30)))
        assert row.top_n_kept == kept
    assert np.sort(base)[::-1][29] == np.sort(base)[::-1][30]  # a tie across the cut
    assert got["top_n_kept"].min() < 30  # the cut does move


def test_average_ranks_as_scipy() -> None:
    """Average ranks against scipy.stats.rankdata: ties, a nan column, 1-D, empty."""
    from scipy.stats import rankdata

    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, (50, 7)).astype(float)
    x[3, 2] = np.nan
    np.testing.assert_array_equal(average_ranks(x), rankdata(x, method="average", axis=0))
    np.testing.assert_array_equal(average_ranks(x[:, 0]), rankdata(x[:, 0], method="average"))
    assert average_ranks(np.array([2.0, 1.0, 2.0])).tolist() == [2.5, 1.0, 2.5]  # by hand
    assert average_ranks(np.zeros(0)).shape == (0,)
    assert average_ranks(np.zeros((4, 0))).shape == (4, 0)


def test_reason_rows_hold_the_records_values() -> None:
    """A formatter sees each row's values as table.to_dict("records") gives them."""
    t = pd.DataFrame({"vid": ["v1", "v2"], "a": [2.0, 1.0], "k": [3, 4],
                      "m": pd.array([5, None], dtype="Int64"), "s": ["x", None],
                      "b": [True, False], "c": pd.Categorical(["p", "q"]),
                      "o": pd.Series([np.float64(1.5), None], dtype=object)})
    seen: list[tuple[Any, ...]] = []
    cols = ("vid", "a", "k", "m", "s", "b", "c", "o")

    def fmt(r: Any) -> str:
        seen.append((*(r[c] for c in cols), r.get("zz", "-"), "k" in r))
        return "ok"

    crit = (Criterion("a", "a", fmt, fmt),)
    en, zh = explain(t, pd.DataFrame({"a": [1.0, 0.0]}), crit)
    assert en == ["ok", ""] and zh == ["ok", ""]
    rec = t.to_dict("records")[0]
    assert seen == [(*(rec[c] for c in cols), "-", True)] * 2
    assert [type(v) for v in seen[0][:len(cols)]] == [type(rec[c]) for c in cols]


def test_missing_value_is_an_error() -> None:
    t = _table()
    t.loc[1, "a"] = np.nan
    with pytest.raises(ValidationError, match="vid v2 has no value for 'a'"):
        score_table(t, CRIT, {"a": 1}, prefix="x", id_column="vid")


def test_crf_by_hand() -> None:
    assert crf(0.08, 20) == pytest.approx(0.08 * 1.08**20 / (1.08**20 - 1))
    assert crf(0.0, 10) == pytest.approx(0.1)


def _cfg() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(default_priorities_path().read_text(encoding="utf-8"))
    return data


def test_defaults_load() -> None:
    cfg = load_priority_config()
    assert cfg.power.costs.demand_tier == 3
    assert sum(cfg.roads.weights.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("section", "key", "value", "match"),
    [
        ("weights", "poor_pop", -0.1, "weight -0.1 is negative"),
        ("weights", "poor_popp", 0.2, "unknown criterion 'poor_popp'; did you mean 'poor_pop'"),
        ("costs", "mv_line_cny_per_km", 0,
         r"'power\.costs\.mv_line_cny_per_km': Input should be greater than 0 \(got 0\)"),
        ("costs", "mv_line_cny_per_km", None,
         r"missing required key 'power\.costs\.mv_line_cny_per_km'; give a positive number"),
        ("costs", "mv_line_cny_per_kmm", 1.0,
         r"unknown key 'power\.costs\.mv_line_cny_per_kmm': did you mean 'mv_line_cny_per_km'\?"),
    ],
)
def test_bad_config(section: str, key: str, value: Any, match: str) -> None:
    data = _cfg()
    if value is None:
        del data["power"][section][key]
    else:
        data["power"][section][key] = value
    with pytest.raises(ConfigError, match=match):
        load_priority_config(data)


def test_all_zero_weights(tmp_path: Any) -> None:
    data = _cfg()
    data["water"]["weights"] = dict.fromkeys(data["water"]["weights"], 0)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"p.yaml: water.weights: all weights are zero"):
        load_priority_config(path)
