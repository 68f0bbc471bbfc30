"""``contigmap plan`` end to end: the tiny region, the demo, one-line errors, reruns."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from contigmap.cli.main import cli
from contigmap.plan.run import PLAN_COLUMNS
from tests.helpers import write_tiny_region

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "layers" / "huayuan" / "region.yaml"
NAMES = ["龙傲天", "欧阳铁柱", "司马翠花", "诸葛二狗", "上官小红", "皇甫大壮", "令狐冲冲",
         "东方不败"]
FILES = ["plan_projects.csv", "plan_summary.csv", "plan_vs_greedy.csv", "plan.xlsx",
         "plan_map.html",
         "public_projects.csv", "public_projects.xlsx", "public_projects.html",
         "plan_report.html", "plan_chart.png", "plan_map.png", "run_manifest.json"]


def _region(folder: Path) -> Path:
    """The tiny region with seats, its registry holding (made-up) householder names."""
    path = write_tiny_region(folder, seats=True)
    hh = pd.read_csv(folder / "households.csv", dtype=str, encoding="utf-8-sig")
    hh["householder"] = NAMES[: len(hh)]
    hh["household_id"] = [f"HHX{i:05d}" for i in range(len(hh))]
    hh.to_csv(folder / "households.csv", index=False, encoding="utf-8-sig")
    return path


def _text(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8") for n in z.namelist()
                           if n.endswith(".xml"))
    return path.read_text(encoding="utf-8-sig")


def _invoke(*args: str) -> object:
    return CliRunner().invoke(cli, ["-q", "plan", *args], catch_exceptions=False)


@pytest.mark.slow
def test_plan_tiny_region_end_to_end(tmp_path: Path) -> None:
    region = _region(tmp_path / "tiny")
    out = tmp_path / "plan"
    cfg = tmp_path / "plan.yaml"
    cfg.write_text("plan:\n  yearly_budget_cny: 4000000\n  last_year: 2018\n"
                   "  sources: [{name: 交通专项, yearly_cny: 3500000, interventions: [roads]}]\n"
                   "network: {slope_penalty: false}\n", encoding="utf-8")
    res = _invoke(str(region), "-o", str(out), "--config", str(cfg))
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    for name in FILES:
        assert (out / name).is_file(), name
    plan = pd.read_csv(out / "plan_projects.csv", dtype={"village_id": str, "unit_id": str},
                       encoding="utf-8-sig")
    assert list(plan.columns) == PLAN_COLUMNS
    assert len(plan) >= 1
    spent = plan.groupby("year")["cost_cny"].sum().reindex([2016, 2017, 2018], fill_value=0)
    assert (spent.cumsum() <= 4e6 * pd.Series([1, 2, 3], index=spent.index) + 1e-6).all()
    assert plan["project_id"].is_unique
    assert set(plan["intervention"]) == {"roads"}  # the only source pays for roads only
    assert (plan["funding_source"] == "交通专项").all()
    assert (spent.cumsum() <= 3.5e6 * pd.Series([1, 2, 3], index=spent.index) + 1e-6).all()
    vs = pd.read_csv(out / "plan_vs_greedy.csv", encoding="utf-8-sig")
    assert vs["method"].tolist() == ["joint_plan", "per_intervention_greedy", "difference"]
    assert vs["money_available_cny"].iloc[0] == 12e6
    manifest = json.loads((out / "run_manifest.json").read_text(encoding="utf-8"))
    solver = manifest["parameters"]["solver"]
    assert solver["solver_method"] == "milp" and "mip_gap" in solver
    assert "seconds" not in solver  # wall time would make reruns' manifests differ
    assert manifest["parameters"]["network"]["slope_penalty"] is False  # settings forwarded
    public = [out / n for n in FILES if n.startswith("public_")]
    ids = pd.read_csv(tmp_path / "tiny" / "households.csv", dtype=str,
                      encoding="utf-8-sig")["household_id"]
    for path in public:
        text = _text(path)
        for secret in [*ids, *NAMES]:
            assert secret not in text, (secret, path.name)
    html = (out / "public_projects.html").read_text(encoding="utf-8")
    assert "<script" not in html and "建设内容" in html
    # rerun: byte-identical outputs (the manifest's creation time aside)
    again = tmp_path / "again"
    assert _invoke(str(region), "-o", str(again), "--config", str(cfg)).exit_code == 0  # type: ignore[attr-defined]
    for name in FILES[:-1]:
        assert (out / name).read_bytes() == (again / name).read_bytes(), name
    one, two = (json.loads((d / "run_manifest.json").read_text(encoding="utf-8"))
                for d in (out, again))
    one.pop("created_utc")
    two.pop("created_utc")
    diff = {k: (one["parameters"][k], two["parameters"][k]) for k in one["parameters"]
            if one["parameters"][k] != two["parameters"][k]}
    assert diff == {}


@pytest.mark.slow
def test_plan_bad_config_is_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "plan.yaml"
    cfg.write_text("plan:\n  yearly_budget: 5\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["plan", str(tmp_path / "region.yaml"), "-o",
                                   str(tmp_path / "out"), "--config", str(cfg)])
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and "yearly_budget" in lines[0]
    assert "Traceback" not in res.output


@pytest.mark.slow
def test_plan_bad_settings_section_names_the_users_file(tmp_path: Path) -> None:
    region = write_tiny_region(tmp_path / "tiny", seats=True)
    cfg = tmp_path / "mine.yaml"
    cfg.write_text("plan: {}\nbogus: 1\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["-q", "plan", str(region), "-o", str(tmp_path / "out"),
                                   "--config", str(cfg)])
    assert res.exit_code == 1
    assert res.output.strip() == (f"Error: {cfg}: unknown key 'bogus': valid keys: plan, "
                                  "network, priorities, relocation")


def test_plan_defaults_and_usage() -> None:
    res = CliRunner().invoke(cli, ["plan", "--defaults"])
    assert res.exit_code == 0 and "plan:" in res.output and "diminishing_weights" in res.output
    res = CliRunner().invoke(cli, ["plan"])
    assert res.exit_code == 2 and "REGION" in res.output
    res = CliRunner().invoke(cli, ["plan", "--help"])
    assert "Examples:" in res.output


@pytest.mark.slow
def test_plan_demo_no_household_ids_in_public_outputs(tmp_path: Path) -> None:
    if not DEMO.exists():
        pytest.skip("demo layers not generated")
    out = tmp_path / "plan"
    res = _invoke(str(DEMO), "-o", str(out))
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    ids = set(pd.read_csv(DEMO.parent / "households.csv", dtype=str,
                          usecols=["household_id"])["household_id"])
    for name in ("public_projects.csv", "public_projects.xlsx", "public_projects.html"):
        found = set(re.findall(r"\d{16}", _text(out / name)))
        assert not found & ids, name
    plan = pd.read_csv(out / "plan_projects.csv", encoding="utf-8-sig")
    vs = pd.read_csv(out / "plan_vs_greedy.csv", encoding="utf-8-sig").set_index("method")
    assert plan["cost_cny"].sum() <= vs.at["joint_plan", "money_available_cny"] + 1
    assert set(plan["year"]) <= set(range(2016, 2021))
