"""The priority stage on the demo region (one module-scoped run)."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from contigmap.pipeline import RegionState, priority_stage
from contigmap.priority import load_priority_config
from contigmap.priority.mcda import spearman
from contigmap.priority.run import PriorityResults, write_priority_tables
from contigmap.render.report import write_county_report

REGION = Path(__file__).resolve().parents[1] / "layers" / "huayuan" / "region.yaml"
OPTIONS = {
    "roads": {"harden", "new_road", "harden+new_road", "shuttle_bus", "none"},
    "water": {"piped", "well", "cistern"},
    "power": {"grid", "minigrid", "shs"},
    "broadband": {"fibre", "microwave", "satellite"},
}


@pytest.fixture(scope="module")
def results(demo_state: RegionState) -> PriorityResults:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        state = demo_state
        cfg = load_priority_config().model_copy(update={"sensitivity_draws": 50})
        results = priority_stage(state, cfg).priorities
        assert results is not None
        return results


@pytest.mark.parametrize("iv", ["roads", "water", "power", "broadband"])
def test_every_intervention_ranked_with_reasons(results: PriorityResults, iv: str) -> None:
    t = results.tables[iv]
    n = len(pd.read_csv(REGION.parent / "hamlets.csv")) if iv == "broadband" else 228
    assert len(t) == n
    assert sorted(t[f"{iv}_rank"]) == list(range(1, n + 1))
    assert t[f"{iv}_need"].between(0, 100).all()
    assert set(t[f"{iv}_tier"]) <= {0, 1, 2, 3}
    assert set(t[f"{iv}_tier_basis"]) == {"budget"}
    assert set(t[f"{iv}_option"]) <= OPTIONS[iv]
    top = t[t[f"{iv}_tier"] == 1]
    assert len(top) > 0
    assert (top[f"{iv}_reasons"].str.len() > 20).all()
    assert top[f"{iv}_reasons_zh"].str.contains("方案").all()
    assert (t[f"{iv}_capex_cny"].fillna(0) >= 0).all()
    # "no works needed" (0) exactly where the option is none or costs nothing
    none = (t[f"{iv}_option"] == "none") | (t[f"{iv}_capex_cny"] == 0)
    assert ((t[f"{iv}_tier"] == 0) == none).all()
    # among villages needing works, tier 1 is what budget_reach funds, and the tiers
    # follow the ranked list: every tier-1 rank before every tier-2 rank before tier 3
    works = t[~none]
    assert (works[f"{iv}_within_budget"] == (works[f"{iv}_tier"] == 1)).all()
    last = [works.loc[works[f"{iv}_tier"] == k, f"{iv}_rank"] for k in (1, 2, 3)]
    assert last[0].max() < last[1].min() and last[1].max() < last[2].min()
    # tier 2 is what twice the budget funds: cumulative cost within 2 × budget
    budget = 50_000_000
    assert results.config.budget_cny == budget  # the packaged default
    assert (works.loc[works[f"{iv}_tier"] == 2, f"{iv}_cum_capex_cny"] <= 2 * budget).all()
    assert (works.loc[works[f"{iv}_tier"] == 3, f"{iv}_cum_capex_cny"] > 2 * budget).all()


def test_roads_budget_funds_what_tier_one_shows(results: PriorityResults) -> None:
    # issue #14: the map showed 57 top-tier road villages while the budget funded 5
    t = results.tables["roads"]
    b = results.budget.set_index("intervention")
    assert (t["roads_tier"] == 1).sum() == b.loc["roads", "units_funded"]
    assert set(t.loc[t["roads_option"] == "none", "roads_tier"]) == {0}


def test_lists_differ_where_they_should(results: PriorityResults) -> None:
    w = results.tables["water"].set_index("village_id")
    p = results.tables["power"].set_index("village_id")
    j = w.join(p[["power_rank", "power_grid_ext_m"]])
    assert spearman(j["water_need"].to_numpy(), p.loc[j.index, "power_need"].to_numpy()) < 0.8
    # a village on the grid but far from water: high for water, low for power
    near_grid_dry = j[(j["power_grid_ext_m"] <= 500) & (j["water_rank"] <= 57)
                      & (j["power_rank"] > 114)]
    assert len(near_grid_dry) > 0
    v = near_grid_dry.iloc[0]
    assert v["water_source_dist_m"] > j["water_source_dist_m"].median()


def test_roads_follow_the_network(results: PriorityResults) -> None:
    t = results.tables["roads"]
    unhardened = t["roads_no_hardened"] == 1
    assert (t.loc[~unhardened, "roads_harden_m"] == 0).all()
    assert (t.loc[t["roads_option"] == "harden", "roads_harden_m"] > 0).all()
    assert (t.loc[t["roads_option"] == "shuttle_bus", "roads_no_hardened"] == 0).all()


def test_summaries_and_budget(results: PriorityResults) -> None:
    county = results.summaries["county"].set_index("intervention")
    for iv, t in results.tables.items():
        assert county.loc[iv, "capex_cny"] == pytest.approx(t[f"{iv}_capex_cny"].sum())
        assert county.loc[iv, ["tier_1", "tier_2", "tier_3", "no_works"]].sum() == len(t)
    town = results.summaries["township"]
    n_hamlets = len(pd.read_csv(REGION.parent / "hamlets.csv"))
    assert town.groupby("intervention")["units"].sum().to_dict() == {
        "broadband": n_hamlets, "power": 228, "roads": 228, "water": 228, "health": 228,
        "schooling": 228, "housing": 228, "radio_tv": n_hamlets, "bus": 228}
    b = results.budget.set_index("intervention")
    assert (b["capex_funded_cny"] <= results.config.budget_cny).all()
    roads = results.tables["roads"]
    assert roads["roads_cum_capex_cny"].is_monotonic_increasing


def test_sensitivity_report(results: PriorityResults) -> None:
    for s in results.sensitivity.values():
        assert len(s) > 0
        assert s["spearman"].between(-1, 1).all()
        assert (s["top_n_kept"] <= 20).all()
        assert s.loc[s["kind"] == "one_at_a_time", "spearman"].min() > 0.9


def test_write_priority_tables(results: PriorityResults, tmp_path: Path) -> None:
    small = PriorityResults(
        tables={iv: t.head(40) for iv, t in results.tables.items()},
        sensitivity=results.sensitivity, summaries=results.summaries, budget=results.budget,
        config=results.config)
    written = write_priority_tables(small, tmp_path)
    csv = written["water_csv"]
    assert csv.read_bytes()[:3] == b"\xef\xbb\xbf"
    back = pd.read_csv(csv, encoding="utf-8-sig", dtype={"village_id": str})
    assert len(back) == 40
    assert back["water_reasons_zh"].str.len().gt(0).all()
    with pd.ExcelFile(written["xlsx"], engine="openpyxl") as xf:
        sheets = xf.sheet_names
    assert {"roads", "water", "power", "broadband", "township", "county"} <= set(sheets)
    report = json.loads(written["sensitivity_json"].read_text(encoding="utf-8"))
    assert set(report) == {"roads", "water", "power", "broadband", "health", "schooling",
                           "housing", "radio_tv", "bus"}
    assert not list(tmp_path.glob(".*tmp*"))


def _md_top(md: str, iv: str) -> tuple[list[str], list[list[str]]]:
    """Header cells and data rows of the report.md table under '<zh>：优先村 ... <iv>: top'."""
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith("## ") and f" {iv}: top " in line)
    table = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            table.append([c.strip() for c in line.strip("|").split(" | ")])
    return table[0], table[2:]


def _html_top(page: str, iv: str) -> tuple[list[str], list[list[str]]]:
    """Column names and data rows of the report.html table after the '<iv>: top' heading."""
    start = page.index(f"<span class=en>{iv}: top ")
    table = page[start:page.index("</table>", start)]
    names = re.findall(r"<span class=en>([^<]*)</span></th>", table)
    body = table[table.index("<tbody>"):]
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", tr) for tr in body.split("</tr>")[:-1]]
    return names, rows


def test_county_report_top_tables_show_need_and_cost(
    results: PriorityResults, tmp_path: Path
) -> None:
    # The county report's top-10 tables read the columns priority writes (<iv>_need,
    # <iv>_capex_cny); expected cells formatted here from the priority tables.
    roads = results.tables["roads"]
    villages = roads[["village_id", "name", "township_id", "pop", "poor_pop"]].copy()
    paths = write_county_report(tmp_path, villages=villages, region_title="花垣县",
                                interventions=results.tables)
    md = paths["md"].read_text(encoding="utf-8")
    page = paths["html"].read_text(encoding="utf-8")
    for iv, table in results.tables.items():
        top = table.sort_values(f"{iv}_rank").head(10)
        need = [f"{v:.1f}" for v in top[f"{iv}_need"]]
        # the report shows money in 万元 (10,000 CNY) with one decimal and separators
        capex = ["–" if pd.isna(v) else f"{v / 1e4:,.1f}" for v in top[f"{iv}_capex_cny"]]
        assert len(need) == 10
        header, rows = _md_top(md, iv)
        i = next(k for k, h in enumerate(header) if h.endswith(f"({iv}_need)"))
        j = next(k for k, h in enumerate(header) if h.endswith(f"({iv}\\_capex\\_cny)")
                 or h.endswith(f"({iv}_capex_cny)"))
        assert [r[i] for r in rows] == need, iv
        assert [r[j] for r in rows] == capex, iv
        names, cells = _html_top(page, iv)
        i, j = names.index(f"{iv}_need"), names.index(f"{iv}_capex_cny")
        assert [r[i] for r in cells] == need, iv
        assert [r[j] for r in cells] == capex, iv


def test_every_documented_intervention_column_is_written(results: PriorityResults) -> None:
    # the column dictionary's entries for an intervention (common <iv>_* ones and its own)
    # must all be in its table: no documented column that no run produces
    from contigmap.priority import registry

    for iv, t in results.tables.items():
        weights = results.config.intervention(iv).weights
        unweighted = {f"{iv}_pts_{c.name}" for c in registry.get(iv).criteria
                      if weights.get(c.name, 0.0) == 0}
        documented = [c.name for c in registry.get(iv).output_columns()
                      if c.name not in unweighted]  # a criterion without weight has no points
        assert [c for c in documented if c not in t.columns] == [], iv
        assert not unweighted & set(t.columns), iv


@pytest.mark.slow
def test_hamlet_without_a_route_is_the_strongest_need_not_an_error(demo_state: Any) -> None:
    """A hamlet cut off from its seat (as ``validate`` keeps it) is ranked, not refused."""
    from contigmap.errors import DataQualityWarning
    from contigmap.priority.broadband import broadband_priorities

    st = demo_state
    hamlets = st.hamlets.copy()
    cut = hamlets.index[:2]
    hamlets.loc[cut, "tt_own_township_seat_min"] = np.nan
    slowest = float(pd.to_numeric(hamlets["tt_own_township_seat_min"]).max())
    infra = st.data.infrastructure
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = broadband_priorities(
            hamlets, st.network.graph, infra.get("fibre"), infra.get("towers"),
            load_priority_config().intervention("broadband"), dem=st.data.dem, rate=0.08)
    ids = set(hamlets.loc[cut, "hamlet_id"].astype(str))
    rows = out[out["hamlet_id"].astype(str).isin(ids)]
    assert len(rows) == 2 and rows["broadband_no_route"].all()
    assert (rows["tt_own_township_seat_min"] == max(2 * slowest, 60.0)).all()
    assert not out.loc[~out["hamlet_id"].astype(str).isin(ids), "broadband_no_route"].any()
    assert any(issubclass(w.category, DataQualityWarning) and "no route" in str(w.message)
               for w in caught)
