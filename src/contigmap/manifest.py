"""The run manifest: what went in, what came out, with which parameters and versions.

``run_manifest.json`` lets a planner check that two runs used the same data and code:
inputs and outputs are listed with their size and SHA-256, next to the parameters
(including the seed) and the versions of Python, contigmap and its main libraries.
Every output is byte-identical on rerun (no write timestamps, see
:mod:`contigmap.io.writers`), so two identical runs list the same output hashes and their
manifests differ only in ``created_utc``, the wall-clock time of the run; with
``SOURCE_DATE_EPOCH`` set, ``created_utc`` is that time and the manifests are identical.
The run's duration is not recorded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from contigmap.io.write import atomic_path
from contigmap.io.writers import source_date_epoch

__all__ = ["MANIFEST_NAME", "file_record", "library_versions", "write_run_manifest"]

logger = logging.getLogger(__name__)

MANIFEST_NAME = "run_manifest.json"

_PACKAGES = (
    "contigmap",
    "geopandas",
    "shapely",
    "pyproj",
    "rasterio",
    "pyogrio",
    "numpy",
    "pandas",
    "scipy",
    "networkx",
    "folium",
)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _side_cars(path: Path) -> list[Path]:
    """List a shapefile's companion files (.shx, .dbf, .prj, .cpg) that exist."""
    if path.suffix.lower() != ".shp":
        return []
    out = []
    for ext in (".shx", ".dbf", ".prj", ".cpg"):
        for candidate in (path.with_suffix(ext), path.with_suffix(ext.upper())):
            if candidate.exists():
                out.append(candidate)
                break
    return out


def file_record(path: str | Path, *, relative_to: Path | None = None) -> dict[str, Any]:
    """Describe one file: path, size in bytes and SHA-256.

    Parameters
    ----------
    path
        The file.
    relative_to
        When given and ``path`` lies under it, the path is recorded relative to it,
        so that manifests of the same run in different folders compare equal.

    Returns
    -------
    dict
        ``{"path": str, "size_bytes": int, "sha256": str}``.
    """
    path = Path(path)
    shown = path
    if relative_to is not None:
        try:
            shown = path.resolve().relative_to(Path(relative_to).resolve())
        except ValueError:
            shown = path
    return {"path": shown.as_posix(), "size_bytes": path.stat().st_size, "sha256": _sha256(path)}


def library_versions() -> dict[str, str | None]:
    """Versions of Python, contigmap, its main libraries, GDAL and PROJ."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        import rasterio

        versions["gdal"] = str(rasterio.__gdal_version__)
    except ImportError:  # pragma: no cover - rasterio is a dependency
        versions["gdal"] = None
    try:
        import pyproj

        versions["proj"] = str(pyproj.proj_version_str)
    except ImportError:  # pragma: no cover
        versions["proj"] = None
    return versions


def write_run_manifest(
    out_dir: str | Path,
    *,
    inputs: list[Path],
    parameters: dict[str, Any],
    outputs: list[Path],
    base_dir: Path | None = None,
) -> Path:
    """Write ``run_manifest.json`` into ``out_dir``, atomically.

    Parameters
    ----------
    out_dir
        Output folder (created if needed).
    inputs
        Files read (a shapefile's ``.dbf``/``.shx``/``.prj``/``.cpg`` are added).
    parameters
        Run parameters; must be JSON-serialisable (paths are written as text). The seed
        is copied to the top-level ``seed`` field when present as ``parameters["seed"]``.
    outputs
        Files written. Outputs are recorded relative to ``out_dir``.
    base_dir
        Inputs under this folder are recorded relative to it (default: absolute paths).

    Returns
    -------
    pathlib.Path
        The manifest's path.

    Notes
    -----
    Everything is sorted and the JSON keys are sorted, so two runs with the same
    inputs, parameters and seed give the same file except ``created_utc`` (the
    wall-clock time, or ``SOURCE_DATE_EPOCH`` when that is set).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    all_inputs: list[Path] = []
    for path in inputs:
        all_inputs.extend([Path(path), *_side_cars(Path(path))])
    unique_inputs = sorted(dict.fromkeys(p.resolve() for p in all_inputs))
    target = out_dir / MANIFEST_NAME
    unique_outputs = sorted(
        dict.fromkeys(Path(p).resolve() for p in outputs if Path(p).resolve() != target.resolve())
    )
    record = {
        "created_utc": (source_date_epoch() or datetime.now(UTC)).isoformat(timespec="seconds"),
        "seed": parameters.get("seed"),
        "parameters": parameters,
        "inputs": [file_record(p, relative_to=base_dir) for p in unique_inputs],
        "outputs": [file_record(p, relative_to=out_dir) for p in unique_outputs],
        "versions": library_versions(),
    }
    text = json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    with atomic_path(target) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    logger.info("wrote %s (%d inputs, %d outputs)", target, len(unique_inputs), len(unique_outputs))
    return target
