"""Atomic output for the generators: a staging folder that replaces the target whole.

Fixed GeoPackage dates come from :func:`contigmap.writers.fixed_gdal_date`, as for runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from contigmap.io import outdir

__all__ = ["staged_dir", "write_yaml"]


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
