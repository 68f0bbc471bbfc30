"""The command line: one-line errors, non-zero exits, nothing written on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from contigmap.cli import cli
from tests.conftest import TinyRegion


def invoke(*args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(cli, ["-q", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_help_shows_examples() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    assert "Examples:" in out
    assert "contigmap demo" in out
    for command in ("run", "demo", "validate", "synth", "columns"):
        code, out, _ = invoke(command, "--help")
        assert code == 0, command
        assert "Examples:" in out, command


def test_validate_prints_layers_and_facts(tiny_region: TinyRegion) -> None:
    code, out, _ = invoke("validate", str(tiny_region.path))
    assert code == 0, out
    assert "working CRS" in out
    assert "roads" in out and "villages" in out
    assert "result: OK" in out


def test_missing_manifest_is_one_line_error(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    code, out, err = invoke("run", str(tmp_path / "nope.yaml"), "-o", str(out_dir))
    assert code == 1
    assert err.strip().count("\n") == 0
    assert "nope.yaml: file not found" in err
    assert "Traceback" not in err + out
    assert not out_dir.exists()


def test_unknown_key_is_one_line_error(tiny_region: TinyRegion, tmp_path: Path) -> None:
    text = tiny_region.path.read_text(encoding="utf-8")
    tiny_region.path.write_text(text + "tittle: x\n", encoding="utf-8")
    code, _, err = invoke("validate", str(tiny_region.path))
    assert code == 1
    assert "unknown key 'tittle': did you mean 'title'?" in err
    assert err.strip().count("\n") == 0


def test_run_writes_outputs_and_manifest(seated_region: TinyRegion, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    code, _, err = invoke("run", str(seated_region.path), "-o", str(out_dir))
    assert code == 0, err
    for name in ("map.html", "villages.gpkg", "villages.csv", "run_manifest.json"):
        assert (out_dir / name).is_file(), name
    manifest = json.loads((out_dir / "run_manifest.json").read_text(encoding="utf-8"))
    inputs = {Path(rec["path"]).name for rec in manifest["inputs"]}
    assert "region.yaml" in inputs
    assert all(len(rec["sha256"]) == 64 for rec in manifest["inputs"])
    # no staging folders left behind
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out-partial-")]


def test_region_without_township_seats_says_so(tiny_region: TinyRegion, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    code, _, err = invoke("run", str(tiny_region.path), "-o", str(out_dir))
    assert code == 1
    assert "has no township_seat in the services layer" in err
    assert not out_dir.exists()


def test_failed_run_writes_nothing(tiny_region: TinyRegion, tmp_path: Path) -> None:
    roads = next(tiny_region.folder.glob("roads.*"))
    roads.unlink()
    out_dir = tmp_path / "out"
    code, _, err = invoke("run", str(tiny_region.path), "-o", str(out_dir))
    assert code == 1
    assert roads.name in err
    assert not out_dir.exists()
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]


@pytest.mark.parametrize("args", [["run"], ["validate"]])
def test_missing_argument_is_usage_error(args: list[str]) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, args)
    assert result.exit_code == 2


def test_scenario_with_unknown_road_id_is_one_line_error(
    seated_region: TinyRegion, tmp_path: Path
) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(
        "name: bad\nregion: tiny\nchanges:\n  - type: upgrade\n    roads: [NOPE]\n"
        "    to: {surface: paved}\n",
        encoding="utf-8",
    )
    out_dir = tmp_path / "out"
    code, _, err = invoke("scenario", "run", str(scenario), "--region",
                          str(seated_region.path), "-o", str(out_dir))
    assert code == 1
    assert "bad.yaml" in err and "NOPE" in err
    assert err.strip().count("\n") == 0
    assert not out_dir.exists()


def test_scenario_run_writes_comparison(seated_region: TinyRegion, tmp_path: Path) -> None:
    scenario = tmp_path / "pave.yaml"
    scenario.write_text(
        "name: pave\nregion: tiny\nchanges:\n  - type: upgrade\n"
        "    select: {surface: [gravel, earth]}\n    to: {surface: paved}\n",
        encoding="utf-8",
    )
    out_dir = tmp_path / "out"
    code, _, err = invoke("scenario", "run", str(scenario), "--region",
                            str(seated_region.path), "-o", str(out_dir))
    assert code == 0, err
    comparison = pd.read_csv(out_dir / "scenario_comparison.csv")
    assert list(comparison["scenario"]) == ["pave"]
    # paving never loses anyone access
    assert comparison.loc[0, "pop_lost_access"] == 0
    assert (out_dir / "scenarios_map.html").is_file()
