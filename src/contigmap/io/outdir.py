"""Output folders: checked before a run starts, replaced whole when it ends.

Every command that writes a folder (``run``, ``demo``, ``priorities``, ``scenario``,
``criticality``, ``optimize``, ``synth``) goes through this module:

* :func:`check_output_dir` refuses, before any analysis, an output folder that cannot
  be used: an existing file, a path that cannot be created or written, the folder of an
  input (or one holding it, or inside a data folder), the current folder, and an
  existing non-empty folder that contigmap did not write (no :data:`MARKER_NAME` file)
  unless ``force``. Inputs are never modified, not even with ``force``.
* :func:`staged_dir` yields a hidden staging folder beside the output folder; when the
  body succeeds the old folder is renamed away, the staging folder renamed in, and the
  old one deleted. After any interruption the output folder is the complete old run or
  the complete new one: SIGINT and SIGTERM unwind and delete the staging folder, and a
  run killed outright (SIGKILL, power loss) leaves ``.<name>-partial-*`` /
  ``.<name>-old-*`` folders that the next run on the same folder cleans up, restoring
  the old output if the kill fell between the two renames.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Any

from contigmap.errors import ContigmapError

__all__ = [
    "MARKER_NAME",
    "OutputDirError",
    "Terminated",
    "check_output_dir",
    "is_contigmap_output",
    "recover_stale",
    "region_inputs",
    "staged_dir",
]

logger = logging.getLogger(__name__)

MARKER_NAME = ".contigmap-output"
"""File written into every output folder; its presence lets a rerun replace the folder."""

_LEGACY_MANIFEST = "run_manifest.json"
_PARTIAL = "partial"
_OLD = "old"


class OutputDirError(ContigmapError, OSError):
    """An output folder that cannot or must not be written (refused before the run)."""


class Terminated(BaseException):
    """SIGTERM arrived while an output folder was being staged.

    A :class:`BaseException`, like :class:`KeyboardInterrupt`, so that no ``except
    Exception`` on the way swallows it; the staging folder is deleted as it unwinds.
    """


# --------------------------------------------------------------------------- marker


def _write_marker(folder: Path) -> None:
    from contigmap import __version__

    text = json.dumps({"written_by": "contigmap", "version": __version__}) + "\n"
    (folder / MARKER_NAME).write_text(text, encoding="utf-8")


def is_contigmap_output(folder: str | Path) -> bool:
    """Whether ``folder`` was written by contigmap.

    True when it holds a valid :data:`MARKER_NAME` file, or (outputs of versions before
    the marker) a ``run_manifest.json`` listing inputs and outputs.
    """
    folder = Path(folder)
    for name, keys in ((MARKER_NAME, ("written_by",)), (_LEGACY_MANIFEST, ("inputs", "outputs"))):
        path = folder / name
        try:
            if not path.is_file() or path.stat().st_size > 10_000_000:
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        if isinstance(data, dict) and all(k in data for k in keys):
            if name == MARKER_NAME and data.get("written_by") != "contigmap":
                continue
            return True
    return False


# --------------------------------------------------------------------------- checks


def region_inputs(region_path: str | Path) -> list[Path]:
    """List the region manifest and every layer file it declares (reads only the YAML).

    Raises
    ------
    ConfigError
        The manifest is missing or malformed (the same one-line error a run gives).
    """
    from contigmap.config import layer_paths, load_region

    region_path = Path(region_path)
    return [region_path, *layer_paths(load_region(region_path))]


def _resolve(path: str | Path, shown: str | Path) -> Path:
    try:
        return Path(path).expanduser().resolve()
    except (OSError, RuntimeError) as err:  # symlink loop, unreadable component
        msg = f"output folder {shown}: cannot resolve the path ({err}); give another folder"
        raise OutputDirError(msg) from err


def _inside(child: Path, parent: Path) -> bool:
    """Whether ``child`` lies strictly inside ``parent`` (both resolved)."""
    return parent in child.parents


def _input_conflict(out: Path, inputs: Iterable[str | Path], *, nested_too: bool) -> str | None:
    for item in inputs:
        try:
            folder = Path(item).expanduser().resolve().parent
        except (OSError, RuntimeError):
            continue
        if out == folder:
            return f"holds the input {item}"
        if _inside(folder, out):
            return f"holds the input {item} (in a subfolder)"
        if nested_too and _inside(out, folder):
            return f"lies inside the folder of the input {item}"
    return None


def _nearest_existing(path: Path) -> Path:
    current = path
    while not current.exists() and not current.is_symlink() and current.parent != current:
        current = current.parent
    return current


def check_output_dir(
    out_dir: str | Path,
    inputs: Iterable[str | Path] = (),
    *,
    side_inputs: Iterable[str | Path] = (),
    force: bool = False,
) -> Path:
    """Refuse an output folder that cannot or must not be written; return it resolved.

    Call before the analysis starts. Folders of earlier runs killed mid-write are
    cleaned up first (:func:`recover_stale`).

    Parameters
    ----------
    out_dir
        The output folder asked for.
    inputs
        The run's data files (region manifest, layer files): the output folder must not
        be their folder, hold it, or lie inside it.
    side_inputs
        Single files given to the run (scenario, priorities or relocation YAML,
        candidate tables): the output folder must not be their folder or hold it;
        writing beside them (``-o out`` next to ``my-weights.yaml``) is allowed.
    force
        Replace an existing non-empty folder that contigmap did not write. Never
        allows a folder that holds an input, a home folder (or one holding it), or a
        top-level folder such as ``/tmp``.

    Returns
    -------
    pathlib.Path
        The output folder with symlinks resolved (where :func:`staged_dir` writes).

    Raises
    ------
    OutputDirError
        One line naming the folder, the reason and the fix.
    """
    try:
        return _check(out_dir, inputs, side_inputs, force=force)
    except OutputDirError:
        raise
    except OSError as err:  # a component we may not look into, the current folder deleted
        msg = (f"output folder {out_dir}: cannot be checked ({err.strerror or err}); give a "
               "folder you can read and write")
        raise OutputDirError(msg) from err


def _check(out_dir: str | Path, inputs: Iterable[str | Path],
           side_inputs: Iterable[str | Path], *, force: bool) -> Path:
    shown = out_dir
    out = _resolve(out_dir, shown)
    where = f"output folder {shown}"
    if out.parent == out:
        msg = f"{where}: is the root of a file system; give a folder below it (-o)"
        raise OutputDirError(msg)
    if out.exists() and not out.is_dir():
        msg = f"{where}: is a file, not a folder; give a folder path (-o) that is not a file"
        raise OutputDirError(msg)
    conflict = _input_conflict(out, inputs, nested_too=True) or _input_conflict(
        out, side_inputs, nested_too=False)
    if conflict:
        msg = (f"{where}: {conflict}; contigmap replaces its output folder whole and never "
               "touches inputs, so choose a folder apart from the input data (e.g. maps/<name>)")
        raise OutputDirError(msg)
    cwd = Path.cwd().resolve()
    if out == cwd or _inside(cwd, out):
        msg = (f"{where}: is the current folder or holds it, and would be replaced whole; "
               "give a new subfolder (e.g. -o maps/<name>)")
        raise OutputDirError(msg)
    base = _nearest_existing(out.parent)
    if not base.is_dir():
        msg = (f"{where}: cannot be created because {base} is a file, not a folder; "
               "give another path")
        raise OutputDirError(msg)
    try:
        probe = _make_hidden_dir(base, ".contigmap-probe-")
        probe.rmdir()
    except OSError as err:
        reason = err.strerror or str(err)
        msg = f"{where}: cannot be written in {base} ({reason}); give a folder you can write to"
        raise OutputDirError(msg) from err
    recover_stale(out)
    if out.is_dir() and any(out.iterdir()) and not is_contigmap_output(out):
        if force and _precious(out):
            msg = (f"{where}: is a home or top-level folder that contigmap did not write; even "
                   "with --force it is not replaced: give a new subfolder (e.g. -o maps/<name>)")
            raise OutputDirError(msg)
        if not force:
            msg = (f"{where}: is not empty and was not written by contigmap (no {MARKER_NAME} "
                   "file); give a new or empty folder, or pass --force to replace it whole")
            raise OutputDirError(msg)
    return out


def _precious(out: Path) -> bool:
    """Whether ``out`` is a folder --force must not replace: a home folder or top-level one."""
    if out.parent.parent == out.parent:  # /tmp, /home, C:\\Users
        return True
    try:
        home = Path.home().resolve()
    except (OSError, RuntimeError):  # pragma: no cover - no home folder known
        return False
    return out == home or _inside(home, out)


# --------------------------------------------------------------------------- stale folders


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftovers: no other thread of ours stages the same folder
    if os.name == "nt":  # pragma: no cover - os.kill(pid, 0) would terminate it there
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _stale_folders(out: Path) -> list[tuple[str, Path]]:
    """``(kind, path)`` of the staging / old folders of dead runs beside ``out``."""
    found: list[tuple[str, Path]] = []
    try:
        entries = list(out.parent.iterdir())
    except OSError:
        return found
    pattern = re.compile(
        rf"^\.{re.escape(out.name)}-(?P<kind>{_PARTIAL}|{_OLD})-(?:(?P<pid>\d+)-)?[A-Za-z0-9_]+$")
    for entry in entries:
        match = pattern.match(entry.name)
        if not match:
            continue
        if entry.is_symlink() or not entry.is_dir():
            continue
        if match["pid"] is not None and _pid_alive(int(match["pid"])):
            continue  # another run writing the same folder right now
        found.append((match["kind"], entry))
    return found


def recover_stale(out_dir: str | Path) -> None:
    """Clean up after runs on ``out_dir`` that were killed before they could.

    A run killed between renaming the old output away and renaming the new one in
    leaves no ``out_dir`` but a ``.<name>-old-*`` folder: it is renamed back, so the
    output folder is the complete earlier run. Staging (``.<name>-partial-*``) and
    remaining old folders of dead runs are deleted. Folders of runs still alive are
    left alone.
    """
    out = Path(out_dir).resolve()
    stale = _stale_folders(out)
    olds = sorted((p for kind, p in stale if kind == _OLD), key=lambda p: p.stat().st_mtime)
    if olds and not out.exists() and not out.is_symlink():
        newest = olds.pop()
        try:
            newest.replace(out)
            logger.warning("%s: restored the previous outputs from %s (a run was killed while "
                           "replacing them)", out, newest.name)
        except OSError as err:  # pragma: no cover - parent became read-only
            logger.warning("%s: could not restore %s: %s", out, newest.name, err)
    for kind, path in stale:
        if path.exists() and (kind == _PARTIAL or path in olds):
            shutil.rmtree(path, ignore_errors=True)
            if path.exists():
                logger.warning("could not remove the leftover folder %s", path)
            else:
                logger.info("removed the leftover folder %s", path)


# --------------------------------------------------------------------------- staging


def _make_hidden_dir(parent: Path, prefix: str) -> Path:
    """Create a new folder ``parent/<prefix><random>`` with the usual permissions.

    Unlike :func:`tempfile.mkdtemp` (mode 0700) the folder gets the mode a plain
    ``mkdir`` would, since it becomes the output folder.
    """
    for _ in range(100):
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except FileExistsError:  # pragma: no cover - 32 random bits
            continue
        return path
    msg = f"cannot create a new folder in {parent}"  # pragma: no cover
    raise FileExistsError(msg)  # pragma: no cover


class _SignalGuard:
    """SIGINT/SIGTERM raise (so staging unwinds) except inside :meth:`deferred` blocks."""

    def __init__(self) -> None:
        self.defer = False
        self.pending: int | None = None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.defer:
            self.pending = signum
            return
        _raise_for(signum)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold signals while the block runs; act on one that arrived right after it."""
        self.defer = True
        try:
            yield
        finally:
            self.defer = False
        if self.pending is not None:
            _raise_for(self.pending)


def _raise_for(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(f"terminated by signal {signal.Signals(signum).name}")


@contextmanager
def _signals_unwind() -> Iterator[_SignalGuard]:
    """Install the guard's handlers for SIGINT and SIGTERM; restore the previous ones."""
    guard = _SignalGuard()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (int(signal.SIGINT), int(signal.SIGTERM)):
            old = signal.getsignal(sig)
            if old == signal.SIG_IGN:
                continue  # the caller chose to ignore it: keep it so
            previous[sig] = old
            signal.signal(sig, guard.handle)
    try:
        yield guard
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)


def _carry_over(old: Path, stage: Path) -> None:
    """Copy the entries of ``old`` that the new outputs do not have into ``stage``."""
    for item in sorted(old.iterdir()):
        target = stage / item.name
        if item.name == MARKER_NAME or target.exists() or target.is_symlink():
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.copytree(item, target, symlinks=True)
        else:
            shutil.copy2(item, target, follow_symlinks=False)


def _swap(stage: Path, out: Path, shown: str | Path) -> None:
    """Rename ``out`` away, ``stage`` in, then delete the old folder."""
    old: Path | None = None
    if out.exists():
        old = out.parent / f".{out.name}-{_OLD}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            out.replace(old)
        except OSError as err:
            msg = (f"output folder {shown}: cannot move the earlier outputs aside "
                   f"({err.strerror or err}); the earlier outputs were kept")
            raise OutputDirError(msg) from err
    try:
        stage.replace(out)
    except OSError as err:
        if old is not None:
            with suppress(OSError):  # else the next run restores it (recover_stale)
                old.replace(out)
        msg = (f"output folder {shown}: cannot move the new outputs in ({err.strerror or err}); "
               "the earlier outputs were kept")
        raise OutputDirError(msg) from err
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
        if old.exists():
            logger.warning("could not delete the previous outputs in %s; the next run will", old)


@contextmanager
def staged_dir(
    out_dir: str | Path,
    *,
    inputs: Iterable[str | Path] = (),
    side_inputs: Iterable[str | Path] = (),
    force: bool = False,
    keep_unwritten: bool = False,
) -> Iterator[Path]:
    """Yield a staging folder that replaces ``out_dir`` whole when the body succeeds.

    The staging folder is ``.<name>-partial-<pid>-<random>`` beside ``out_dir``, with
    the :data:`MARKER_NAME` file already in it. On success the old ``out_dir`` (if
    any) is renamed to ``.<name>-old-...``, the staging folder renamed to ``out_dir``,
    and the old folder deleted; files of the old run that the new one does not write
    are gone with it. When the body raises, or SIGINT / SIGTERM arrives (SIGTERM raises
    :class:`Terminated`), the staging folder is deleted and ``out_dir`` is untouched.

    Parameters
    ----------
    out_dir
        The output folder.
    inputs, side_inputs, force
        Checked again with :func:`check_output_dir` before staging.
    keep_unwritten
        Copy the entries of the old folder that the new outputs do not include into the
        new folder before the swap (the generators keep a README written by hand).

    Raises
    ------
    OutputDirError
        The folder is refused, or the final renames fail (the old outputs are kept).
    """
    out = check_output_dir(out_dir, inputs, side_inputs=side_inputs, force=force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        msg = f"output folder {out_dir}: cannot create {out.parent} ({err.strerror or err})"
        raise OutputDirError(msg) from err
    with _signals_unwind() as guard:
        stage = out.parent / f".{out.name}-{_PARTIAL}-{os.getpid()}-"  # no folder yet
        try:
            try:
                stage = _make_hidden_dir(out.parent, stage.name)
                _write_marker(stage)
            except OSError as err:
                msg = (f"output folder {out_dir}: cannot write in {out.parent} "
                       f"({err.strerror or err}); give a folder you can write to")
                raise OutputDirError(msg) from err
            yield stage
            if keep_unwritten and out.is_dir():
                _carry_over(out, stage)
            with guard.deferred():
                _swap(stage, out, out_dir)
        finally:
            if stage.is_dir():
                shutil.rmtree(stage, ignore_errors=True)
