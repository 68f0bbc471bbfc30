"""Atomic output for the generators: write into a staging folder that replaces the target whole."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from contigmap import outdir

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
def staged_dir(out_dir: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a staging folder that replaces ``out_dir`` whole on success.

    :func:`contigmap.outdir.staged_dir`, keeping files of ``out_dir`` that the generator
    does not write (a README, say). Nothing in ``out_dir`` changes when the body raises.
    """
    with outdir.staged_dir(out_dir, force=force, keep_unwritten=True) as stage:
        yield stage


def write_yaml(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as block-style UTF-8 YAML, keeping key order and Chinese text."""
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)
    path.write_text(text, encoding="utf-8")
