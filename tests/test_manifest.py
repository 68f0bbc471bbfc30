"""Tests for contigmap.manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from contigmap.manifest import MANIFEST_NAME, write_run_manifest


def _write_run(tmp_path: Path, out: str) -> Path:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "a.csv").write_text("id,x\n1,2\n", encoding="utf-8")
    (data / "roads.shp").write_bytes(b"shp")
    (data / "roads.dbf").write_bytes(b"dbf")
    out_dir = tmp_path / out
    out_dir.mkdir()
    (out_dir / "villages.csv").write_text("village_id\n433124100201\n", encoding="utf-8")
    return write_run_manifest(
        out_dir,
        inputs=[data / "a.csv", data / "roads.shp"],
        parameters={"seed": 42, "region": "tiny", "speeds_kmh": {"paved": 40}},
        outputs=[out_dir / "villages.csv"],
        base_dir=data,
    )


def test_manifest_content(tmp_path: Path) -> None:
    path = _write_run(tmp_path, "out")
    assert path.name == MANIFEST_NAME
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["seed"] == 42
    assert record["parameters"]["speeds_kmh"] == {"paved": 40}
    inputs = {r["path"]: r for r in record["inputs"]}
    assert set(inputs) == {"a.csv", "roads.shp", "roads.dbf"}  # the .dbf side-car is added
    expected = hashlib.sha256(b"id,x\n1,2\n").hexdigest()
    assert inputs["a.csv"]["sha256"] == expected
    assert inputs["a.csv"]["size_bytes"] == 9
    assert [r["path"] for r in record["outputs"]] == ["villages.csv"]
    versions = record["versions"]
    for name in (
        "python",
        "contigmap",
        "geopandas",
        "shapely",
        "pyproj",
        "rasterio",
        "numpy",
        "gdal",
        "proj",
    ):
        assert versions[name], name
    assert "created_utc" in record
    assert not list(path.parent.glob(".*tmp*"))  # no temp file left behind


def test_identical_runs_differ_only_in_time(tmp_path: Path) -> None:
    one = json.loads(_write_run(tmp_path, "one").read_text(encoding="utf-8"))
    two = json.loads(_write_run(tmp_path, "two").read_text(encoding="utf-8"))
    one.pop("created_utc")
    two.pop("created_utc")
    assert one == two
