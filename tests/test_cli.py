"""The command line: one-line errors, non-zero exits, nothing written on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from contigmap.cli.main import cli
from contigmap.io.outdir import Terminated
from tests.helpers import TinyRegion


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


@pytest.mark.slow
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


@pytest.mark.slow
def test_unknown_key_is_one_line_error(tiny_region: TinyRegion, tmp_path: Path) -> None:
    text = tiny_region.path.read_text(encoding="utf-8")
    tiny_region.path.write_text(text + "tittle: x\n", encoding="utf-8")
    code, _, err = invoke("validate", str(tiny_region.path))
    assert code == 1
    assert "unknown key 'tittle': did you mean 'title'?" in err
    assert err.strip().count("\n") == 0


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


# --------------------------------------------------------------------------- the top-level handler


def _faulty_run(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom\nsecond line")


def test_unexpected_error_is_one_line_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("contigmap.pipeline.run", _faulty_run)
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "r.yaml"), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: unexpected RuntimeError: boom second line")
    assert "contigmap -v" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_unexpected_error_with_verbose_shows_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("contigmap.dryrun.validation_report", _faulty_run)
    result = CliRunner().invoke(cli, ["-v", "validate", str(tmp_path / "r.yaml")])
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: unexpected RuntimeError")


@pytest.mark.parametrize(("error", "code", "text"), [
    (KeyboardInterrupt(), 130, "Interrupted"),
    (Terminated("terminated by signal SIGTERM"), 143, "Terminated"),
])
def test_interrupts_exit_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException, code: int, text: str
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr("contigmap.pipeline.run", interrupted)
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "r.yaml"), "-o", str(tmp_path / "o")])
    assert result.exit_code == code
    assert result.stderr.startswith(text)
    assert result.stderr.strip().count("\n") == 0


def test_main_catches_errors_outside_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import contigmap.cli.main as cli_module

    def broken(**kwargs: object) -> None:
        raise RuntimeError("outside")

    monkeypatch.setattr(cli_module, "cli", broken)
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: unexpected RuntimeError: outside")
    assert "Traceback" not in err


def test_usage_errors_stay_clicks(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "r.yaml")])
    assert result.exit_code == 2
    assert "Missing option '-o' / '--out'" in result.stderr
    assert "unexpected" not in result.stderr


def test_every_writing_command_has_force() -> None:
    for args in (["run"], ["demo"], ["priorities"], ["scenario", "run"],
                 ["scenario", "compare"], ["criticality"], ["optimize"], ["synth"]):
        code, out, _ = invoke(*args, "--help")
        assert code == 0
        assert "--force" in out, args


def test_a_logged_warning_is_shown_once() -> None:
    """A problem the library logs and also warns about is one line on the terminal."""
    import io
    import logging

    from contigmap.cli import main as cli_module
    from contigmap.errors import DataQualityWarning

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(cli_module._SEEN)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        logging.getLogger("contigmap.somewhere").warning("roads: 3 lines dropped")
        for text in ("roads: 3 lines dropped", "villages: 1 left out"):
            cli_module._log_warning(DataQualityWarning(text), DataQualityWarning, "x.py", 1)
    finally:
        root.removeHandler(handler)
    shown = stream.getvalue()
    assert shown.count("roads: 3 lines dropped") == 1
    assert "villages: 1 left out" in shown


def test_shared_options_read_the_same_in_every_command() -> None:
    """Options defined once (cli/options.py): same wording wherever a command takes them."""
    import click

    from contigmap.cli.main import cli as group

    helps: dict[str, set[str]] = {}
    commands: list[click.Command] = []
    for command in group.commands.values():
        subs = command.commands.values() if isinstance(command, click.Group) else [command]
        commands.extend(subs)
    for command in commands:
        for param in command.params:
            if isinstance(param, click.Option) and param.name in ("force", "basemap",
                                                                  "tianditu_key", "strict"):
                helps.setdefault(str(param.name), set()).add(str(param.help))
    assert set(helps) == {"force", "basemap", "tianditu_key", "strict"}
    # init's --force replaces one file, not a folder: its own wording; all others share one
    force = helps["force"] - {"Replace an existing region.yaml."}
    assert len(force) == 1
    for name in ("basemap", "tianditu_key", "strict"):
        assert len(helps[name]) == 1, (name, helps[name])
