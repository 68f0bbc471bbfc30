"""``contigmap plan area.yaml``: the three-county test area, county budgets and pooled."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from contigmap.cli.main import cli
from tests.test_area import CODES, make_area


def _plan(area: Path, out: Path, extra: str) -> pd.DataFrame:
    cfg = out.parent / f"{out.name}.yaml"
    cfg.write_text("plan:\n  yearly_budget_cny: 3000000\n" + extra, encoding="utf-8")
    result = CliRunner().invoke(cli, ["-q", "plan", str(area), "-o", str(out), "--config",
                                      str(cfg), "--serial"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return pd.read_csv(out / "plan_counties.csv", dtype={"county_code": str})


@pytest.mark.slow
def test_area_plan_county_budgets_and_pooled(tmp_path: Path) -> None:
    area = make_area(tmp_path / "area")
    table = _plan(area, tmp_path / "county", "  county_budgets_cny: {'433124': 1000000}\n")
    assert table["county_code"].tolist() == list(CODES)
    # 433124 has its own 1,000,000 a year; the others share the remaining 2,000,000 a year
    # by poor people (the test area's populations scale 2 and 3)
    money = dict(zip(table["county_code"], table["money_cny"], strict=True))
    assert money["433124"] == 5 * 1_000_000
    assert money["433125"] + money["433126"] == pytest.approx(5 * 2_000_000, abs=2)
    assert (table["spent_cny"] <= table["money_cny"] + 1).all()
    projects = pd.read_csv(tmp_path / "county" / "plan_projects.csv", dtype=str)
    for code in CODES:
        own = pd.read_csv(tmp_path / "county" / code / "plan_projects.csv", dtype=str)
        assert len(own) == int((projects["county_code"] == code).sum())
        assert (tmp_path / "county" / code / "plan_map.html").exists()
    manifest = json.loads((tmp_path / "county" / "run_manifest.json").read_text("utf-8"))
    assert manifest["parameters"]["solver"]["solver_method"] == "county"
    pooled = _plan(area, tmp_path / "pooled", "  pool: area\n")
    solver = json.loads((tmp_path / "pooled" / "run_manifest.json").read_text("utf-8"))[
        "parameters"]["solver"]
    assert solver["solver_method"] == "lagrangian"
    assert solver["objective"] <= solver["bound"] + 1e-6
    assert pooled["spent_cny"].sum() <= 5 * 3_000_000 + 1
