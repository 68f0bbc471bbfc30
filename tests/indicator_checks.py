"""Check a run's headline figures in every output against an independent recomputation.

Shared by ``test_indicators`` (a tiny region with a sample registry) and ``test_demo``
(the demo region, complete registry). The expected figures are computed here with plain
pandas from the raw registry CSV and the village table, never from contigmap's own
indicator code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest


def expected_villages(villages_csv: Path, households_csv: Path, *, sample: bool,
                      village_col: str = "village_id") -> pd.DataFrame:
    """Per village: township_id, pop, poor people and the people they are counted among.

    From the raw registry: a complete registry gives poor members over registered
    members; a sample gives ``pop × poor members / members`` over ``pop`` (for a village
    without sample rows, the pooled rate of its township's sampled villages, else of all
    sampled villages).
    """
    v = pd.read_csv(villages_csv, dtype={"village_id": str, "township_id": str},
                    encoding="utf-8-sig", usecols=["village_id", "township_id", "pop"])
    hh = pd.read_csv(households_csv, dtype={village_col: str}, encoding="utf-8-sig")
    poor_flag = hh["poor"].astype(str).isin(["1", "是", "True", "true"])
    hh = hh.assign(poor_members=hh["members"].where(poor_flag, 0))
    reg = hh.groupby(village_col).agg(members=("members", "sum"),
                                      poor_members=("poor_members", "sum"))
    v = v.join(reg, on="village_id")
    if sample:
        # own rate where sampled, else the township's pooled rate, else the county's
        covered = v["members"].notna()
        town = v[covered].groupby("township_id")[["poor_members", "members"]].sum()
        town_rate = town["poor_members"] / town["members"]
        county_rate = v.loc[covered, "poor_members"].sum() / v.loc[covered, "members"].sum()
        rate = (v["poor_members"] / v["members"]).where(covered)
        rate = rate.fillna(v["township_id"].map(town_rate)).fillna(county_rate)
        v["exp_poor"] = v["pop"] * rate
        v["exp_basis"] = v["pop"]
    else:
        v["exp_poor"] = v["poor_members"].fillna(0)
        v["exp_basis"] = v["members"].fillna(0)
    return v[["village_id", "township_id", "pop", "exp_poor", "exp_basis"]]


def expected_areas(v: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Township and county sums and incidence by plain groupby."""
    t = v.groupby("township_id").agg(pop=("pop", "sum"), poor=("exp_poor", "sum"),
                                     basis=("exp_basis", "sum"), villages=("pop", "size"))
    t["incidence"] = t["poor"] / t["basis"]
    county = {"pop": float(v["pop"].sum()), "poor": float(v["exp_poor"].sum()),
              "incidence": float(v["exp_poor"].sum() / v["exp_basis"].sum())}
    return t, county


def _md_table(md: str, heading: str) -> list[list[str]]:
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[2:]


def check_every_output(out_dir: Path, summary: dict[str, Any], v: pd.DataFrame) -> None:
    """Assert indicators.csv, report.md/.html, map.html and the CLI summary agree with ``v``."""
    towns, county = expected_areas(v)
    # indicators.csv
    ind = pd.read_csv(out_dir / "indicators.csv", dtype={"township_id": str},
                      encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    t_rows = ind[ind["level"] == "township"].set_index("township_id")
    assert sorted(t_rows.index) == sorted(towns.index)
    for tid, row in towns.iterrows():
        got = t_rows.loc[str(tid)]
        assert got["villages"] == row["villages"]
        assert got["pop"] == row["pop"]
        assert got["poor_pop"] == pytest.approx(row["poor"], abs=1e-6)
        assert got["poverty_incidence"] == pytest.approx(row["incidence"], abs=1e-9)
    c_row = ind[ind["level"] == "county"].iloc[0]
    assert c_row["pop"] == county["pop"]
    assert c_row["poor_pop"] == pytest.approx(county["poor"], abs=1e-6)
    assert c_row["poverty_incidence"] == pytest.approx(county["incidence"], abs=1e-9)
    # the county report, Markdown: key figures and the township table
    md = (out_dir / "report.md").read_text(encoding="utf-8")
    figs = {r[1]: r[2] for r in _md_table(md, "## 主要指标")}
    assert figs["people"] == f"{county['pop']:,.0f}"
    assert figs["poor people"] == f"{county['poor']:,.0f}"
    assert figs["poverty incidence"] == f"{county['incidence']:.1%}"
    md_towns = {r[0]: r for r in _md_table(md, "## 各乡镇")}
    assert sorted(md_towns) == sorted(towns.index)
    for tid, row in towns.iterrows():
        cells = md_towns[str(tid)]
        assert cells[3:6] == [f"{row['pop']:,.0f}", f"{row['poor']:,.0f}",
                              f"{row['incidence']:.1%}"], tid
    # the county report, HTML: the same township cells
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    for poor, rate in zip(towns["poor"], towns["incidence"], strict=True):
        assert (f'<td class="num">{poor:,.0f}</td><td class="num">'
                f"{rate:.1%}</td>") in page
    # the map's key-figures panel
    html = (out_dir / "map.html").read_text(encoding="utf-8")
    assert (f"<th>贫困发生率 poverty incidence</th><td>{county['incidence']:.1%} "
            f"({county['poor']:,.0f} poor people") in html
    # the CLI summary
    assert summary["people"] == county["pop"]
    assert summary["poverty_incidence"] == pytest.approx(county["incidence"], abs=1e-9)
    assert summary["poor_people"].startswith(f"{county['poor']:,.0f}")
