"""Atomic output for the generators: write into a temporary folder, then move in place.

Fixed GeoPackage dates come from :func:`contigmap.writers.fixed_gdal_date`, as for runs.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

__all__ = ["staged_dir", "write_yaml"]


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
