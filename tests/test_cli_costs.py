"""Issue #13: a user's road costs reach scenario costing and the optimiser from the CLI.

``contigmap scenario run`` and ``contigmap optimize`` take ``--priorities`` (a whole
priorities file) and ``--config`` (a ``priorities:`` section) as ``run`` does; before,
those commands priced road works with the packaged costs whatever the user gave.
The tiny seated region (``tests/conftest.py``): road 2, a gravel village road, is 2 km
from 一村 north to the county road plus 1 km along it (3 km in the road layer; in the
graph its last km duplicates the county road and is merged into it, so a project that
paves road 2 in the graph paves 2 km).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from contigmap.cli.main import cli
from contigmap.priority.config import default_priorities_path
from tests.helpers import TinyRegion

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")]

CNY_PER_KM = 1000.0


def _invoke(*args: str) -> None:
    result = CliRunner().invoke(cli, ["-q", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _priorities_file(tmp_path: Path) -> Path:
    """The packaged priorities file with hardening at 1,000 CNY/km on every terrain."""
    data = yaml.safe_load(default_priorities_path().read_text(encoding="utf-8"))
    flat = {"flat": CNY_PER_KM, "hilly": CNY_PER_KM, "mountainous": CNY_PER_KM}
    data["roads"]["costs"]["harden_cny_per_km"] = flat
    path = tmp_path / "my_priorities.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "pave.yaml"
    path.write_text("name: pave\ntitle: pave road 2\nchanges:\n  - type: upgrade\n"
                    "    roads: ['2']\n    to: {surface: paved}\n", encoding="utf-8")
    return path


def test_scenario_run_prices_with_the_users_priorities(
    seated_region: TinyRegion, tmp_path: Path
) -> None:
    sc = _scenario_file(tmp_path)
    out = tmp_path / "sc"
    _invoke("scenario", "run", str(sc), "--region", str(seated_region.path), "-o", str(out),
            "--priorities", str(_priorities_file(tmp_path)))
    summary = pd.read_csv(out / "pave_summary.csv")
    # road 2 is 3 km long in the road layer: 3 km × 1,000 CNY/km
    assert summary["cost_cny"].iloc[0] == pytest.approx(3 * CNY_PER_KM)

    default_out = tmp_path / "sc_default"
    _invoke("scenario", "run", str(sc), "--region", str(seated_region.path), "-o",
            str(default_out))
    default = pd.read_csv(default_out / "pave_summary.csv")["cost_cny"].iloc[0]
    assert default > 100 * summary["cost_cny"].iloc[0]  # packaged costs are ~1 M CNY/km


def test_scenario_run_reads_priorities_section_of_config(
    seated_region: TinyRegion, tmp_path: Path
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("priorities:\n  roads:\n    costs:\n      harden_cny_per_km: "
                   "{flat: 2000, hilly: 2000, mountainous: 2000}\n", encoding="utf-8")
    out = tmp_path / "sc"
    _invoke("scenario", "run", str(_scenario_file(tmp_path)), "--region",
            str(seated_region.path), "-o", str(out), "--config", str(cfg))
    # 3 km × 2,000 CNY/km
    assert pd.read_csv(out / "pave_summary.csv")["cost_cny"].iloc[0] == pytest.approx(6_000.0)


def test_optimize_prices_projects_with_the_users_priorities(
    seated_region: TinyRegion, tmp_path: Path
) -> None:
    candidates = tmp_path / "candidates.csv"
    candidates.write_text("project_id,road_ids\npave-2,2\n", encoding="utf-8")
    out = tmp_path / "opt"
    _invoke("optimize", str(seated_region.path), "-o", str(out), "--budget", "1e9",
            "--candidates", str(candidates), "--priorities", str(_priorities_file(tmp_path)))
    chosen = pd.read_csv(out / "chosen_projects.csv", dtype={"project_id": str})
    assert chosen["project_id"].tolist() == ["pave-2"]
    # the graph's road 2 is 2 km (its last km is merged into the county road): 2 × 1,000
    assert chosen["cost_cny"].iloc[0] == pytest.approx(2 * CNY_PER_KM)
