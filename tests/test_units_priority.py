"""Unit tests for public priority helpers no other test names; expected values by hand."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import CRS
from shapely.geometry import LineString, Point

from contigmap.errors import ValidationError
from contigmap.finance import crf
from contigmap.network import build_network
from contigmap.priority import registry
from contigmap.priority._common import fmt_cny, fmt_cny_zh, main_cause, no_poor_no_cause
from contigmap.priority.config import load_priority_config
from contigmap.priority.feasible import missing_input
from contigmap.priority.mcda import Criterion, check_criteria, explain, need_scores
from contigmap.priority.power import grid_extension_m
from contigmap.priority.run import budget_reach, summarise
from contigmap.priority.water import karst_proxy
from contigmap.roadworks import terrain_class

CRS_M = CRS.from_epsg(32649)
CFG = load_priority_config()


def _crit(name: str, column: str | None = None) -> Criterion:
    col = column or name

    def en(r: Mapping[str, Any]) -> str:
        return f"{col}={r[col]:g}"

    def zh(r: Mapping[str, Any]) -> str:
        return f"{col}为{r[col]:g}"

    return Criterion(name, col, en, zh, missing_hint="run stage X")


# --------------------------------------------------------------------------- run


def test_budget_reach_funds_in_rank_order_until_the_next_one_does_not_fit() -> None:
    t = pd.DataFrame({"v": ["a", "b", "c", "d"], "x_rank": [3, 1, 4, 2],
                      "x_capex_cny": [50.0, 100.0, 10.0, np.nan]})
    out = budget_reach(t, "x", 160.0)
    # rank order b(100), d(nan -> 0), a(50), c(10): cumulative 100, 100, 150, 160
    assert out["v"].tolist() == ["b", "d", "a", "c"]
    assert out["x_cum_capex_cny"].tolist() == [100.0, 100.0, 150.0, 160.0]
    assert out["x_within_budget"].tolist() == [True, True, True, True]
    out = budget_reach(t, "x", 149.0)
    assert out["x_within_budget"].tolist() == [True, True, False, False]
    assert "x_cum_capex_cny" not in t.columns  # the input is left alone


def test_budget_reach_without_budget_everything_is_within() -> None:
    t = pd.DataFrame({"x_rank": [2, 1], "x_capex_cny": [1e9, 2e9]})
    out = budget_reach(t, "x", None)
    assert out["x_within_budget"].tolist() == [True, True]
    assert out["x_cum_capex_cny"].tolist() == [2e9, 3e9]


def _ranked(iv: str) -> pd.DataFrame:
    return pd.DataFrame({
        "township_id": ["T1", "T1", "T2"],
        f"{iv}_tier": [1, 2, 1],
        f"{iv}_beneficiaries": [100.0, 50.0, 10.0],
        f"{iv}_poor_beneficiaries": [10.0, 5.0, 1.0],
        f"{iv}_capex_cny": [1000.0, 500.0, 200.0],
        f"{iv}_annualised_cny": [100.0, 50.0, 20.0],
        f"{iv}_within_budget": [True, False, True],
    })


def test_summarise_by_township_and_county() -> None:
    s = summarise({"x": _ranked("x")}, "township_id", n_tiers=2)
    t1 = s.set_index("township_id").loc["T1"]
    assert (t1["units"], t1["tier_1"], t1["tier_2"]) == (2, 1, 1)
    assert t1["beneficiaries"] == 150.0 and t1["poor_beneficiaries"] == 15.0
    assert t1["capex_cny"] == 1500.0 and t1["annualised_cny"] == 150.0
    # only the first T1 row is within budget
    assert (t1["units_within_budget"], t1["capex_within_budget_cny"],
            t1["poor_within_budget"]) == (1, 1000.0, 10.0)
    # no 'county' column: one 'all' row summing everything
    c = summarise({"x": _ranked("x")}, "county", n_tiers=2)
    assert c["county"].tolist() == ["all"]
    assert c["units"].iloc[0] == 3 and c["capex_cny"].iloc[0] == 1700.0
    assert c["units_within_budget"].iloc[0] == 2 and c["poor_within_budget"].iloc[0] == 11.0


def test_summarise_without_budget_column_and_empty() -> None:
    t = _ranked("y").drop(columns="y_within_budget")
    s = summarise({"y": t}, "township_id")
    assert "units_within_budget" not in s.columns
    assert s["tier_3"].tolist() == [0, 0]  # default 4 tiers, none in tier 3
    assert summarise({}, "township_id").empty


def _summarise_by_groupby(tables: dict[str, pd.DataFrame], by: str, n_tiers: int
                         ) -> pd.DataFrame:
    """The summaries the plain pandas way (groupby and Series.sum), to compare with."""
    rows = []
    for iv, t in tables.items():
        key = t[by] if by in t.columns else pd.Series("all", index=t.index)
        for area, g in t.groupby(key.to_numpy(), sort=True):
            row: dict[str, Any] = {"intervention": iv, by: area, "units": len(g)}
            for k in range(1, n_tiers + 1):
                row[f"tier_{k}"] = int((g[f"{iv}_tier"] == k).sum())
            row["no_works"] = int((g[f"{iv}_tier"] == 0).sum())
            for name in ("beneficiaries", "poor_beneficiaries", "capex_cny", "annualised_cny"):
                row[name] = float(g[f"{iv}_{name}"].sum())
            if f"{iv}_within_budget" in g.columns:
                wb = g[f"{iv}_within_budget"].astype(bool)
                row["units_within_budget"] = int(wb.sum())
                row["capex_within_budget_cny"] = float(g.loc[wb, f"{iv}_capex_cny"].sum())
                row["poor_within_budget"] = float(g.loc[wb, f"{iv}_poor_beneficiaries"].sum())
            rows.append(row)
    return pd.DataFrame(rows)


def test_summarise_as_groupby_with_gaps_and_many_groups() -> None:
    """Missing keys left out, NaN amounts skipped, sums bit for bit as Series.sum."""
    rng = np.random.default_rng(11)
    n = 700
    key = rng.choice(["T3", "T1", "T10", "T2"], n).astype(object)
    key[rng.random(n) < 0.05] = None
    money = rng.random(n) * 1e5 + 0.1
    money[rng.random(n) < 0.1] = np.nan
    t = pd.DataFrame({"township_id": key, "x_tier": rng.integers(0, 4, n),
                      "x_beneficiaries": rng.random(n) * 300, "x_poor_beneficiaries":
                      rng.random(n) * 30, "x_capex_cny": money,
                      "x_annualised_cny": money / 7, "x_within_budget": rng.random(n) < 0.4})
    u = t.drop(columns="x_within_budget").assign(township_id=rng.integers(1, 5, n))
    tables = {"x": t, "y": u.rename(columns=lambda c: "y_" + c[2:] if c[:2] == "x_" else c)}
    for by in ("township_id", "county"):
        pd.testing.assert_frame_equal(summarise(tables, by, n_tiers=3),
                                      _summarise_by_groupby(tables, by, 3))


# --------------------------------------------------------------------------- mcda


def test_need_scores_by_hand() -> None:
    t = pd.DataFrame({"a": [0.0, 5.0, 10.0], "b": [3.0, 1.0, 1.0], "c": [9.0, 9.0, 9.0]})
    crits = [_crit("a"), _crit("b"), _crit("c")]
    # weights 3:1:0 -> 0.75, 0.25; c unweighted (not in contributions)
    need, contrib = need_scores(t, crits, {"a": 3.0, "b": 1.0, "c": 0.0})
    assert list(contrib.columns) == ["a", "b"]
    # a minmax: 0, .5, 1 -> 0, 37.5, 75; b minmax: 1, 0, 0 -> 25, 0, 0
    np.testing.assert_allclose(contrib["a"], [0.0, 37.5, 75.0])
    np.testing.assert_allclose(contrib["b"], [25.0, 0.0, 0.0])
    np.testing.assert_allclose(need, [25.0, 37.5, 75.0])
    np.testing.assert_allclose(contrib.sum(axis=1), need)


def test_need_scores_rank_method_ties_and_constant() -> None:
    t = pd.DataFrame({"a": [1.0, 1.0, 7.0, 2.0], "c": [4.0] * 4})
    need, _ = need_scores(t, [_crit("a"), _crit("c")], {"a": 1.0, "c": 1.0}, method="rank")
    # average ranks of a: 1.5, 1.5, 4, 3 -> (r - 1.5) / 2.5 = 0, 0, 1, .6; weight 0.5 -> 50 max
    # c constant -> 0 everywhere
    np.testing.assert_allclose(need, [0.0, 0.0, 50.0, 30.0])


def test_need_scores_without_weights_is_zero() -> None:
    t = pd.DataFrame({"a": [1.0, 2.0]})
    need, contrib = need_scores(t, [_crit("a")], {"a": 0.0})
    np.testing.assert_array_equal(need, [0.0, 0.0])
    assert contrib.shape == (2, 0)


def test_explain_largest_positive_contributions_first() -> None:
    t = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0], "c": [5.0, 6.0]})
    contrib = pd.DataFrame({"a": [10.0, 0.0], "b": [30.0, 0.0], "c": [20.0, 5.0]})
    en, zh = explain(t, contrib, [_crit("a"), _crit("b"), _crit("c")], top=2)
    assert en == ["b=3; c=5", "c=6"]  # zero contributions are not reasons
    assert zh == ["b为3；c为5", "c为6"]


def test_explain_ties_keep_criterion_order_and_no_criteria() -> None:
    t = pd.DataFrame({"a": [1.0], "b": [2.0]})
    contrib = pd.DataFrame({"b": [7.0], "a": [7.0]})
    en, _ = explain(t, contrib, [_crit("a"), _crit("b")], top=3)
    assert en == ["b=2; a=1"]  # a stable sort: the column order decides a tie
    en, zh = explain(t, pd.DataFrame(index=t.index), [_crit("a")])
    assert en == [""] and zh == [""]


def test_check_criteria_accepts_complete_table() -> None:
    t = pd.DataFrame({"village_id": ["v1", "v2"], "a": [1.0, 2.0], "b": [np.nan, 1.0]})
    # b has a gap but no weight: fine
    check_criteria(t, [_crit("a"), _crit("b")], {"a": 1.0, "b": 0.0},
                   id_column="village_id", intervention="x")


def test_check_criteria_names_the_first_gap_and_the_fix() -> None:
    t = pd.DataFrame({"village_id": ["v1", "v2", "v3"], "a": [1.0, np.nan, "n/a"]})
    with pytest.raises(ValidationError, match=r"village_id v2 .*'a'.*2 row\(s\).*run stage X"):
        check_criteria(t, [_crit("a")], {"a": 1.0}, id_column="village_id", intervention="x")


def test_check_criteria_missing_column_and_undefined_weight() -> None:
    t = pd.DataFrame({"village_id": ["v1"]})
    with pytest.raises(ValidationError, match=r"needs column 'a'.*run stage X"):
        check_criteria(t, [_crit("a")], {"a": 1.0}, id_column="village_id", intervention="x")
    with pytest.raises(ValidationError, match="'zz' has a weight but no definition"):
        check_criteria(t, [_crit("a")], {"zz": 1.0}, id_column="village_id", intervention="x")


# --------------------------------------------------------------------------- _common


def test_no_poor_no_cause_zero_only_where_registry_lists_no_poor() -> None:
    t = pd.DataFrame({
        "poor_households": [0, 3, np.nan, 0],
        "cause_illness_share": [np.nan, np.nan, np.nan, 0.4],
        "cause_other": [np.nan] * 4,  # not a share column
    })
    out = no_poor_no_cause(t)
    # row 0: none poor -> 0; row 1 has poor households, nan stays; row 2 not in the
    # registry, nan stays; row 3 keeps its value
    np.testing.assert_array_equal(out["cause_illness_share"], [0.0, np.nan, np.nan, 0.4])
    assert out["cause_other"].isna().all()
    assert t["cause_illness_share"].isna().sum() == 3  # input untouched


def test_no_poor_no_cause_without_registry_column() -> None:
    t = pd.DataFrame({"cause_illness_share": [np.nan]})
    assert no_poor_no_cause(t)["cause_illness_share"].isna().all()


@pytest.mark.parametrize(("value", "en", "zh"), [
    (1_234_567.0, "1.2 M CNY", "123万元"),     # /1e6 = 1.23; /1e4 = 123.46: whole 万元
    (-2_000_000.0, "-2.0 M CNY", "-200万元"),
    (350_400.0, "350 k CNY", "35万元"),         # /1e3 = 350.4; /1e4 = 35.04 -> 35.0 -> 35
    (355_000.0, "355 k CNY", "35.5万元"),       # one decimal under 100万元
    (999_999.0, "1000 k CNY", "100万元"),       # /1e4 = 99.9999 -> 100.0 -> 100
    (12_345_678_900.0, "12345.7 M CNY", "1,234,568万元"),  # thousands separators
    (3_500.0, "4 k CNY", "0.35万元"),           # below 1万: two decimals
    (3_000.0, "3 k CNY", "0.3万元"),
    (0.0, "0 k CNY", "0万元"),
    (float("nan"), "n/a", "无"),
    (float("inf"), "n/a", "无"),
])
def test_fmt_cny(value: float, en: str, zh: str) -> None:
    assert fmt_cny(value) == en
    assert fmt_cny_zh(value) == zh


def test_main_cause_text_and_missing_share() -> None:
    en, zh = main_cause({"cause_lack_of_water_share": 0.256}, "lack_of_water")
    assert en == "26% of poor households poor from lack of water"
    assert zh == "缺水致贫户占26%"
    en, zh = main_cause({}, "illness")
    assert en == "n/a of poor households poor from illness"
    assert zh == "因病致贫户占n/a"


# --------------------------------------------------------------------------- cost models


def test_terrain_class_thresholds_inclusive() -> None:
    c = CFG.roads.costs
    lo, hi = c.relief_hilly_m, c.relief_mountainous_m
    out = terrain_class(np.array([0.0, lo - 0.1, lo, hi - 0.1, hi, np.nan]), c)
    # nan compares False with both thresholds: flat
    assert out.tolist() == ["flat", "flat", "hilly", "hilly", "mountainous", "flat"]
    assert terrain_class(np.zeros((2, 0)), c).shape == (2, 0)


@pytest.mark.parametrize(("rate", "years"), [(0.08, 20.0), (0.03, 1.0), (0.12, 7.5), (0.0, 4.0)])
def test_crf_against_annuity_sum(rate: float, years: float) -> None:
    # independent: the annuity that repays 1 has present value 1; for integer years that is
    # the sum of discounted payments, in general the closed form (1 - (1 + r)^-n) / r
    if rate == 0:
        assert crf(rate, years) == pytest.approx(1 / years)
        return
    pv = (1 - (1 + rate) ** -years) / rate
    if years == int(years):
        pv_sum = sum((1 + rate) ** -k for k in range(1, int(years) + 1))
        assert pv == pytest.approx(pv_sum)
    assert crf(rate, years) * pv == pytest.approx(1.0)
    assert crf(0.03, 1.0) == pytest.approx(1.03)  # one year: repay principal plus interest


def test_karst_proxy_by_distance_and_river_size() -> None:
    c = CFG.water.costs
    d, big = c.karst_river_distance_m, c.karst_river_upstream_km2
    pts = gpd.GeoSeries([Point(0, d - 1), Point(0, d + 1), Point(0, 10)], crs=CRS_M)
    rivers = gpd.GeoDataFrame(
        {"upstream_km2": [big, big / 2]},
        geometry=[LineString([(-1e4, 0), (1e4, 0)]),       # large: distance = |y|
                  LineString([(-50, 10), (50, 10)])],     # too small to count
        crs=CRS_M)
    np.testing.assert_array_equal(karst_proxy(pts, rivers, c), [0.0, 1.0, 0.0])
    # only the small river: it does not count, everything is karst
    np.testing.assert_array_equal(karst_proxy(pts, rivers.iloc[[1]], c), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(karst_proxy(pts, None, c), [1.0, 1.0, 1.0])
    assert karst_proxy(gpd.GeoSeries([], crs=CRS_M), None, c).shape == (0,)


def test_grid_extension_along_road_or_straight_when_close() -> None:
    c = CFG.power.costs
    assert c.direct_connection_m == 500.0 and c.line_to_road_max_m >= 100.0
    roads = gpd.GeoDataFrame({"road_id": ["r"], "road_class": ["county"], "surface": ["paved"]},
                             geometry=[LineString([(0, 0), (10_000, 0)])], crs=CRS_M)
    graph = build_network(roads)
    sub = gpd.GeoDataFrame(geometry=[Point(10_000, 100)], crs=CRS_M)
    villages = gpd.GeoDataFrame({"village_id": ["far", "near"]},
                                geometry=[Point(0, 50), Point(9_800, 300)], crs=CRS_M)
    ext, straight = grid_extension_m(villages, graph, {"substations": sub}, c)
    # far: straight hypot(10000, 50) > 500 -> along: leg 50 + 10 000 on the road + 100 offset
    # near: straight hypot(200, 200) = 282.8 <= 500 and shorter than 300 + 200 + 100 along
    np.testing.assert_allclose(straight, [math.hypot(10_000, 50), math.hypot(200, 200)])
    np.testing.assert_allclose(ext, [10_150.0, math.hypot(200, 200)], atol=1e-6)


def test_grid_extension_without_lines_or_substations_raises() -> None:
    roads = gpd.GeoDataFrame({"road_id": ["r"], "road_class": ["county"], "surface": ["paved"]},
                             geometry=[LineString([(0, 0), (1000, 0)])], crs=CRS_M)
    villages = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=CRS_M)
    empty = gpd.GeoDataFrame(geometry=[], crs=CRS_M)
    with pytest.raises(ValidationError, match="no power_lines or substations"):
        grid_extension_m(villages, build_network(roads), {"power_lines": empty}, CFG.power.costs)


# --------------------------------------------------------------------------- feasible


def test_missing_input_per_requirement() -> None:
    water, roads, broadband = (registry.get(n) for n in ("water", "roads", "broadband"))
    full = {"infrastructure": {"water_sources", "fibre"}, "has_dem": True,
            "village_columns": (), "has_hamlets": True}
    for iv in (water, roads, broadband):
        assert missing_input(iv, **full) is None  # type: ignore[arg-type]
    assert "infrastructure.water_sources" in str(
        missing_input(water, **{**full, "infrastructure": {"fibre"}}))  # type: ignore[arg-type]
    # broadband needs either fibre or towers: towers alone are enough
    assert missing_input(broadband, **{**full, "infrastructure": {"towers"}}) is None  # type: ignore[arg-type]
    no_dem = {**full, "has_dem": False}
    assert "declare `dem:`" in str(missing_input(roads, **no_dem))  # type: ignore[arg-type]
    # the village column the intervention names stands in for the DEM
    assert missing_input(roads, **{**no_dem, "village_columns": ("relief_m",)}) is None  # type: ignore[arg-type]
    assert "hamlets layer" in str(
        missing_input(broadband, **{**full, "has_hamlets": False}))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- tiers


def _costed(iv: str = "x") -> pd.DataFrame:
    # rank order: d(1) a(2) e(3) b(4) c(5) f(6); costs in rank order 30, 40, 0, 50, 20, 10
    return pd.DataFrame({
        "id": ["a", "b", "c", "d", "e", "f"],
        f"{iv}_rank": [2, 4, 5, 1, 3, 6],
        f"{iv}_option": ["harden", "new_road", "harden", "harden", "none", "harden"],
        f"{iv}_capex_cny": [40.0, 50.0, 20.0, 30.0, 0.0, 10.0],
    })


def test_budget_tiers_by_hand() -> None:
    from contigmap.priority.tiers import BUDGET, assign_tiers

    # cumulative in rank order d a e b c f: 30, 70, 70, 120, 140, 150; budget 70:
    # tier 1 <= 70: d, a (e needs nothing: 0); tier 2 <= 140: b, c; tier 3: f
    out = assign_tiers(_costed(), "x", 70.0).set_index("id")
    assert out["x_tier"].to_dict() == {"a": 1, "b": 2, "c": 2, "d": 1, "e": 0, "f": 3}
    assert set(out["x_tier_basis"]) == {BUDGET}
    # tier 1 is exactly what budget_reach funds, among the villages needing works
    reach = budget_reach(_costed(), "x", 70.0).set_index("id")
    works = out.index[out["x_tier"] > 0]
    assert (reach.loc[works, "x_within_budget"] == (out.loc[works, "x_tier"] == 1)).all()


def test_need_quantile_tiers_without_budget_skip_no_works() -> None:
    from contigmap.priority.tiers import NEED_QUANTILE, assign_tiers

    # 5 villages need works, by rank d a b c f; 2 groups: floor(i*2/5)+1 for i=0..4
    out = assign_tiers(_costed(), "x", None, n_tiers=2).set_index("id")
    assert out["x_tier"].to_dict() == {"d": 1, "a": 1, "b": 1, "c": 2, "f": 2, "e": 0}
    assert set(out["x_tier_basis"]) == {NEED_QUANTILE}


def test_unknown_cost_with_an_option_still_needs_works() -> None:
    from contigmap.priority.tiers import needs_works

    got = needs_works(pd.Series(["harden", "none", "well", "well"]),
                      pd.Series([np.nan, 5.0, 0.0, 3.0]))
    assert got.tolist() == [True, False, False, True]


def test_tier_labels_one_definition() -> None:
    from contigmap.priority.tiers import tier_label, tier_values

    assert [tier_label(t, "budget")[0] for t in tier_values("budget")] == [
        "预算内", "第二批", "后续", "无需工程"]
    assert tier_label("2", "need_quantile") == ("需求第2档", "need group 2")
    assert tier_label(5, None) == ("第5档", "tier 5")
    assert tier_label(0.0, "need_quantile") == ("无需工程", "no works needed")
    assert tier_label("x", "budget") == ("x", "x")
    assert tier_values("need_quantile", 3) == (1, 2, 3, 0)


def test_tier_legend_reads_the_tier_definition() -> None:
    from contigmap.render.legend import indicators_for, tier_basis, tier_indicator

    frame = pd.DataFrame({"roads_tier": [0, 3, 1, 2, 1], "roads_tier_basis": ["budget"] * 5})
    assert tier_basis(frame, "roads_tier") == "budget"
    assert tier_basis(frame.drop(columns="roads_tier_basis"), "roads_tier") is None
    spec = tier_indicator("roads_tier", frame["roads_tier"], "budget")
    # tier 1, 2, 3, then no works last; labels from priority.tiers; grey for no works
    assert [(c.value, c.label_zh, c.label_en) for c in spec.categories] == [
        ("1", "预算内", "within budget"), ("2", "第二批", "next (a second budget)"),
        ("3", "后续", "later"), ("0", "无需工程", "no works needed")]
    assert spec.categories[-1].color == "#ffffff"  # not the no-data grey
    assert spec.label_zh == "道路优先级（按预算分批）"
    # the map's village layers pass the table's basis along
    (layer,) = indicators_for(list(frame.columns), frame, specs=())
    assert layer.categories == spec.categories
    groups = tier_indicator("roads_tier", [1, 2, 0], "need_quantile")
    assert [c.label_zh for c in groups.categories] == ["需求第1档", "需求第2档", "无需工程"]


@pytest.mark.slow
def test_region_without_a_hardened_road_gets_one_line_not_a_traceback(
        tmp_path: Any) -> None:
    """Only an earth track left: villages far from it need new roads, and there is no
    hardened road to build them to (``np.concatenate`` of nothing used to raise)."""
    from contigmap.pipeline import run
    from tests.helpers import write_tiny_region

    region = tmp_path / "in"
    write_tiny_region(region, seats=True)
    roads = gpd.read_file(region / "roads.gpkg", layer="roads")
    assert roads["路面"].iloc[2] == "土路"
    roads.iloc[[2]].to_file(region / "roads.gpkg", layer="roads", engine="pyogrio")
    with pytest.raises(ValidationError, match=r"no road in the region is hardened \(check"):
        run(region / "region.yaml", tmp_path / "out")
