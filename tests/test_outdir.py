"""Output folders: refused before a run when unusable, replaced whole or not at all."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from contigmap.cli.main import cli
from contigmap.io import outdir
from contigmap.io.outdir import (
    MARKER_NAME,
    OutputDirError,
    check_output_dir,
    is_contigmap_output,
    staged_dir,
)
from tests.helpers import TinyRegion

OURS = '{"written_by": "contigmap", "version": "0.1.0"}'
SRC = Path(__file__).resolve().parents[1] / "src"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file (hidden ones too) and folder under ``folder``: relative path → SHA-256."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return out


def write_files(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def contents(folder: Path) -> dict[str, str]:
    """The text of every file under ``folder`` except the marker."""
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MARKER_NAME}


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def hidden_leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


# --------------------------------------------------------------------------- refusals


def _refusal_cases(region: TinyRegion, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    afile = tmp_path / "afile.txt"
    afile.write_text("not a folder", encoding="utf-8")
    foreign = tmp_path / "foreign"
    write_files(foreign, {"notes.txt": "mine"})
    link = tmp_path / "link"
    link.symlink_to(region.folder, target_is_directory=True)
    return {
        "input folder": (region.folder, "holds the input"),
        "parent of input": (tmp_path, "(in a subfolder)"),
        "inside input folder": (region.folder / "out", "lies inside the folder of the input"),
        "symlink to input folder": (link, "holds the input"),
        "non-empty foreign folder": (foreign, "was not written by contigmap"),
        "existing file": (afile, "is a file, not a folder"),
        "under a file": (afile / "out", f"{afile} is a file"),
    }


@pytest.mark.slow
@pytest.mark.parametrize("case", ["input folder", "parent of input", "inside input folder",
                                  "symlink to input folder", "non-empty foreign folder",
                                  "existing file", "under a file"])
def test_cli_refuses_unusable_output_before_the_analysis(
    case: str, tiny_region: TinyRegion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, reason = _refusal_cases(tiny_region, tmp_path)[case]

    def no_analysis(*args: object, **kwargs: object) -> None:
        raise AssertionError("the analysis started")

    monkeypatch.setattr("contigmap.pipeline.prepare", no_analysis)
    before = snapshot(tmp_path)
    result = CliRunner().invoke(cli, ["-q", "run", str(tiny_region.path), "-o", str(out)])
    err = result.stderr
    if case == "existing file":  # click's own check of -o comes first: a usage error
        assert result.exit_code == 2, result.output
        assert f"'{out}' is a file" in err
    else:
        assert result.exit_code == 1, result.output
        assert err.startswith(f"Error: output folder {out}: "), err
        assert reason in err
        assert err.strip().count("\n") == 0
        # the library refuses it too, for callers other than the CLI
        with pytest.raises(OutputDirError, match=reason.replace("(", r"\(").replace(")", r"\)")):
            check_output_dir(out, [tiny_region.path])
    assert "Traceback" not in result.output
    assert snapshot(tmp_path) == before  # nothing written, nothing changed


def test_existing_file_is_refused_by_the_library(tmp_path: Path) -> None:
    afile = tmp_path / "out"
    afile.write_text("x", encoding="utf-8")
    with pytest.raises(OutputDirError, match=r"output folder .*out: is a file, not a folder"):
        check_output_dir(afile, force=True)
    assert afile.read_text(encoding="utf-8") == "x"


def test_force_never_allows_a_folder_holding_an_input(tiny_region: TinyRegion) -> None:
    before = snapshot(tiny_region.folder)
    with pytest.raises(OutputDirError, match="holds the input"):
        check_output_dir(tiny_region.folder, [tiny_region.path], force=True)
    with pytest.raises(OutputDirError, match="holds the input"), \
            staged_dir(tiny_region.folder, inputs=[tiny_region.path], force=True) as stage:
        (stage / "x.txt").write_text("x", encoding="utf-8")
    assert snapshot(tiny_region.folder) == before


def test_force_replaces_a_foreign_folder_whole(tmp_path: Path) -> None:
    out = tmp_path / "foreign"
    write_files(out, {"notes.txt": "mine", "sub/old.txt": "old"})
    with staged_dir(out, force=True) as stage:
        (stage / "new.txt").write_text("new", encoding="utf-8")
    assert contents(out) == {"new.txt": "new"}
    assert hidden_leftovers(tmp_path) == []


def test_force_never_replaces_home_or_top_level_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home" / "planner"
    write_files(home, {"thesis.docx": "years of work"})
    monkeypatch.setenv("HOME", str(home))
    for folder in (home, home.parent):
        with pytest.raises(OutputDirError, match="even with --force it is not replaced"):
            check_output_dir(folder, force=True)
    # a top-level folder that does not hold the current folder (that is refused first)
    cwd = Path.cwd().resolve()
    top = next(p for p in map(Path, ("/usr", "/opt", "/srv", "/var", "/tmp"))
               if p.is_dir() and p.resolve() not in (cwd, *cwd.parents))
    with pytest.raises(OutputDirError, match="is a home or top-level folder"):
        check_output_dir(top, force=True)
    assert contents(home) == {"thesis.docx": "years of work"}


def test_side_inputs_may_sit_beside_the_output_but_not_in_it(tmp_path: Path) -> None:
    weights = tmp_path / "my-weights.yaml"
    weights.write_text("x: 1\n", encoding="utf-8")
    assert check_output_dir(tmp_path / "out", side_inputs=[weights]) == (tmp_path / "out").resolve()
    with pytest.raises(OutputDirError, match=r"holds the input .*my-weights\.yaml"):
        check_output_dir(tmp_path, side_inputs=[weights])


def test_current_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputDirError, match="is the current folder"):
        check_output_dir(".")
    with pytest.raises(OutputDirError, match="is the current folder"):
        check_output_dir(tmp_path.parent, force=True)


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc (Linux)")
def test_read_only_place_is_refused() -> None:
    with pytest.raises(OutputDirError, match="cannot be written in /proc"):
        check_output_dir("/proc/contigmap-out")


def test_planning_command_refuses_before_loading(
    tiny_region: TinyRegion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_analysis(*args: object, **kwargs: object) -> None:
        raise AssertionError("the analysis started")

    monkeypatch.setattr("contigmap.planning.prepare", no_analysis)
    before = snapshot(tmp_path)
    for args in (["criticality", str(tiny_region.path)],
                 ["optimize", str(tiny_region.path), "--budget", "1e6"]):
        result = CliRunner().invoke(cli, ["-q", *args, "-o", str(tiny_region.folder)])
        assert result.exit_code == 1, result.output
        assert "holds the input" in result.stderr
    assert snapshot(tmp_path) == before


# --------------------------------------------------------------------------- staging


def test_output_is_replaced_whole_and_marked(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_dir(out) as stage:
        write_files(stage, {"a.txt": "1", "scenarios/s1.csv": "s1"})
        assert not out.exists()  # nothing appears before the body ends
    assert contents(out) == {"a.txt": "1", "scenarios/s1.csv": "s1"}
    marker = json.loads((out / MARKER_NAME).read_text(encoding="utf-8"))
    assert marker["written_by"] == "contigmap" and marker["version"]
    assert is_contigmap_output(out)
    # a rerun that writes fewer files leaves none of the old ones (no --force needed)
    with staged_dir(out) as stage:
        write_files(stage, {"a.txt": "2"})
    assert contents(out) == {"a.txt": "2"}
    assert hidden_leftovers(tmp_path) == []
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask  # a normal folder, not mkdtemp's 0700


def test_failed_body_leaves_the_old_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_dir(out) as stage:
        write_files(stage, {"a.txt": "old"})
    before = snapshot(out)
    with pytest.raises(ValueError, match="stage failed"), staged_dir(out) as stage:
        write_files(stage, {"a.txt": "new"})
        raise ValueError("stage failed")
    assert snapshot(out) == before
    assert hidden_leftovers(tmp_path) == []


def test_legacy_output_with_only_a_run_manifest_counts_as_ours(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_files(out, {"run_manifest.json": json.dumps({"inputs": [], "outputs": []}),
                      "map.html": "<html>"})
    assert is_contigmap_output(out)
    assert check_output_dir(out) == out.resolve()
    write_files(out, {"run_manifest.json": "{not json"})
    assert not is_contigmap_output(out)


@pytest.mark.parametrize("failing_calls", [{1}, {2}, {2, 3}])
def test_failure_mid_swap_leaves_old_or_new_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_calls: set[int]
) -> None:
    """Renames: 1 old → aside, 2 new → in, 3 old → back (only after 2 failed)."""
    out = tmp_path / "out"
    with staged_dir(out) as stage:
        write_files(stage, {"a.txt": "old", "scenarios/s.csv": "old"})
    old = snapshot(out)
    real_replace = os.replace
    calls = []

    def flaky_replace(src: object, dst: object) -> None:
        calls.append((src, dst))
        if len(calls) in failing_calls:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(OutputDirError, match="the earlier outputs were kept"), \
            staged_dir(out) as stage:
        write_files(stage, {"a.txt": "new"})
    monkeypatch.setattr(os, "replace", real_replace)
    if failing_calls == {2, 3}:
        # the process could not even put the old folder back: the next run does
        assert not out.exists()
        check_output_dir(out)
    assert snapshot(out) == old
    assert hidden_leftovers(tmp_path) == []


def test_signal_handlers_are_restored(tmp_path: Path) -> None:
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    with staged_dir(tmp_path / "out") as stage:
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, before[1])
        (stage / "a.txt").write_text("a", encoding="utf-8")
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


_SLOW_WRITER = textwrap.dedent("""
    import signal, sys, time
    from pathlib import Path
    from contigmap.io.outdir import staged_dir

    # as in a foreground process: a parent started in the background (``cmd &``) passes
    # SIGINT on as ignored, and staged_dir rightly keeps an ignored signal ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)

    with staged_dir(Path(sys.argv[1])) as stage:
        (stage / "a.txt").write_text("new", encoding="utf-8")
        (stage / "scenarios").mkdir()
        (stage / "scenarios" / "s.csv").write_text("new", encoding="utf-8")
        print("staged", flush=True)
        time.sleep(60)
""")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_staging_leaves_no_partial_folder(tmp_path: Path, sig: int) -> None:
    out = tmp_path / "out"
    with staged_dir(out) as stage:
        write_files(stage, {"a.txt": "old"})
    old = snapshot(out)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "staged"
        assert any(".out-partial-" in n for n in hidden_leftovers(tmp_path))
        start = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert time.monotonic() - start < 30
    assert proc.returncode != 0
    assert ("Terminated" if sig == signal.SIGTERM else "KeyboardInterrupt") in err
    assert hidden_leftovers(tmp_path) == []
    assert snapshot(out) == old


def test_stale_folders_of_dead_runs_are_removed_next_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    dead = dead_pid()
    alive = os.getppid()  # the process that started the tests: still running
    for name in (f".out-partial-{dead}-0a1b2c3d", ".out-partial-k2j4_x9q",  # older mkdtemp name
                 f".out-old-{dead}-0a1b2c3d", f".out-partial-{alive}-ffff0000",
                 f".other-partial-{dead}-0a1b2c3d", ".out-notes"):
        write_files(tmp_path / name, {"f.txt": name, MARKER_NAME: OURS})
    with staged_dir(out) as stage:  # restores the -old folder (no `out`), then replaces it
        write_files(stage, {"a.txt": "new"})
    assert contents(out) == {"a.txt": "new"}
    assert hidden_leftovers(tmp_path) == sorted(
        [f".out-partial-{alive}-ffff0000", f".other-partial-{dead}-0a1b2c3d", ".out-notes"])


def test_kill_between_the_renames_is_recovered(tmp_path: Path) -> None:
    """Killed after ``out`` → ``.out-old-*`` but before the new folder came in."""
    out = tmp_path / "out"
    dead = dead_pid()
    write_files(tmp_path / f".out-old-{dead}-aaaa0000", {"a.txt": "old", MARKER_NAME: OURS})
    write_files(tmp_path / f".out-partial-{dead}-bbbb0000", {"a.txt": "new"})
    check_output_dir(out)  # any next run on the folder starts with this
    assert contents(out) == {"a.txt": "old"}
    assert hidden_leftovers(tmp_path) == []
    # killed while deleting the old folder, after the swap: the new one stays
    write_files(tmp_path / f".out-old-{dead}-cccc0000", {"a.txt": "older"})
    check_output_dir(out)
    assert contents(out) == {"a.txt": "old"}
    assert hidden_leftovers(tmp_path) == []


def test_generators_keep_files_they_do_not_write(tmp_path: Path) -> None:
    from contigmap.synth._io import staged_dir as synth_staged_dir

    out = tmp_path / "region"
    with outdir.staged_dir(out) as stage:
        write_files(stage, {"README.md": "by hand", "roads.csv": "old"})
    with synth_staged_dir(out) as stage:
        write_files(stage, {"roads.csv": "new"})
    assert contents(out) == {"README.md": "by hand", "roads.csv": "new"}
    assert hidden_leftovers(tmp_path) == []


@pytest.mark.slow
def test_rerun_without_scenarios_leaves_no_stale_scenario_files(
    seated_region: TinyRegion, tmp_path: Path
) -> None:
    scenario = tmp_path / "pave.yaml"
    scenario.write_text(
        "name: pave\nregion: tiny\nchanges:\n  - type: upgrade\n"
        "    select: {surface: [gravel, earth]}\n    to: {surface: paved}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    runner = CliRunner()
    first = runner.invoke(cli, ["-q", "run", str(seated_region.path), "--scenario", str(scenario),
                                "-o", str(out)])
    assert first.exit_code == 0, first.output
    assert any((out / "scenarios").iterdir())
    second = runner.invoke(cli, ["-q", "run", str(seated_region.path), "-o", str(out)])
    assert second.exit_code == 0, second.output  # a contigmap folder: no --force needed
    assert not (out / "scenarios").exists()
    manifest = json.loads((out / "run_manifest.json").read_text(encoding="utf-8"))
    listed = {rec["path"] for rec in manifest["outputs"]}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*")
               if p.is_file() and p.name not in (MARKER_NAME, "run_manifest.json")}
    assert on_disk == listed
    assert hidden_leftovers(tmp_path) == []
