"""Shared layers split by a county-code column: one set of files for a whole area.

An area's data often come as one file per layer for all its counties (a villages table of
the prefecture, one road layer of the province) with a column holding each row's county
code. The area manifest's ``shared:`` block names that region manifest, the column, and
the layers whose rows belong to one county; each county is then the shared region with
``filter: {<column>: [<code>]}`` added to those layers (the region manifest's own row
filter, :mod:`contigmap.config`), while the other layers (a DEM, an area-wide hazard map)
are used whole by every county.

:func:`split_region` makes a county's region in memory; :func:`write_region` writes it
as a ``region.yaml`` with absolute layer paths, which the county's run reads like any
other (the area run keeps them in ``regions/`` of its output folder).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from contigmap.config import LayersConfig, LayerSpec, RegionConfig
from contigmap.errors import ConfigError
from contigmap.io.write import atomic_path

__all__ = ["layer_keys", "split_region", "write_region"]


def layer_keys(region: RegionConfig) -> list[str]:
    """List the region's layers: ``villages``, ``boundaries.county``, ``hazards.flood``, ..."""
    keys: list[str] = []
    for name in LayersConfig.model_fields:
        entry = getattr(region.layers, name)
        if isinstance(entry, dict):
            keys.extend(f"{name}.{sub}" for sub in entry)
        elif entry is not None:
            keys.append(name)
    return keys


def _with_filter(spec: LayerSpec, column: str, code: str) -> LayerSpec:
    return spec.model_copy(update={"filter": {**spec.filter, column: [code]}})


def split_region(shared: RegionConfig, *, column: str, layers: list[str], code: str,
                 source: str) -> RegionConfig:
    """Cut county ``code`` from a shared region: ``layers`` filtered on ``column == code``.

    Raises
    ------
    ConfigError
        A name in ``layers`` is not a layer of the shared region (the closest is named).
    """
    known = layer_keys(shared)
    update: dict[str, Any] = {}
    for key in layers:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            msg = (f"{source}: shared.layers: '{key}' is not a layer of the shared region"
                   f"{hint}; give some of: {', '.join(known)}")
            raise ConfigError(msg)
        name, _, sub = key.partition(".")
        if sub:
            group = dict(update.get(name, getattr(shared.layers, name)))
            group[sub] = _with_filter(group[sub], column, code)
            update[name] = group
        else:
            update[name] = _with_filter(getattr(shared.layers, name), column, code)
    return shared.model_copy(update={"layers": shared.layers.model_copy(update=update)})


def _absolute(spec: LayerSpec, base_dir: Path) -> LayerSpec:
    path = spec.path if spec.path.is_absolute() else (base_dir / spec.path).resolve()
    return spec.model_copy(update={"path": path})


def write_region(region: RegionConfig, path: Path) -> Path:
    """Write ``region`` as a region manifest at ``path``, every layer path made absolute."""
    update: dict[str, Any] = {}
    for name in LayersConfig.model_fields:
        entry = getattr(region.layers, name)
        if isinstance(entry, dict):
            update[name] = {k: _absolute(v, region.base_dir) for k, v in entry.items()}
        elif isinstance(entry, LayerSpec):
            update[name] = _absolute(entry, region.base_dir)
    layers = region.layers.model_copy(update=update)
    data = region.model_copy(update={"layers": layers}).model_dump(
        mode="json", by_alias=True, exclude_defaults=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                       encoding="utf-8")
    return path
