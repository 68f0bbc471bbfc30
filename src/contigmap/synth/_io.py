"""Atomic output for the generators: write into a temporary folder, then move in place."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

__all__ = ["FIXED_GDAL_DATE", "fixed_gdal_date", "staged_dir", "write_yaml"]

FIXED_GDAL_DATE = "2000-01-01T00:00:00Z"
"""Timestamp GDAL writes into GeoPackages (``gpkg_contents.last_change``) while generating."""


@contextmanager
def fixed_gdal_date(date: str = FIXED_GDAL_DATE) -> Iterator[None]:
    """Make GDAL stamp written files with ``date`` instead of the current time.

    So the same seed gives byte-identical GeoPackages. Sets the ``OGR_CURRENT_DATE``
    configuration option (read by the GPKG driver; see
    https://gdal.org/drivers/vector/gpkg.html) through the environment, and restores
    the previous value on exit.
    """
    old = os.environ.get("OGR_CURRENT_DATE")
    os.environ["OGR_CURRENT_DATE"] = date
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("OGR_CURRENT_DATE", None)
        else:
            os.environ["OGR_CURRENT_DATE"] = old


@contextmanager
def staged_dir(out_dir: Path) -> Iterator[Path]:
    """Yield a temporary folder next to ``out_dir``; on success its files replace ``out_dir``'s.

    Files already in ``out_dir`` that the generator does not write (a README, say) are
    kept. Nothing is written to ``out_dir`` when the body raises.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        yield tmp
        out_dir.mkdir(parents=True, exist_ok=True)
        for item in sorted(tmp.iterdir()):
            target = out_dir / item.name
            if target.is_dir():
                shutil.rmtree(target)
            item.replace(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_yaml(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as block-style UTF-8 YAML, keeping key order and Chinese text."""
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)
    path.write_text(text, encoding="utf-8")
