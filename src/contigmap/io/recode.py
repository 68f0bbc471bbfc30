"""The manifest's per-layer settings applied to a frame as read.

``sheets:`` (which sheets, each with its own settings: :func:`_parts`), ``filter:``
(which rows), ``class:`` (hazard class weights), ``columns:`` (renaming), ``values:``
and ``set:`` (recoding, constants), ``id:`` (the role's id column, kept as text), and
services listing several kinds in one row (:func:`_explode_kinds`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from contigmap.config import LayerSpec, SheetSpec
from contigmap.errors import ConfigError, ValidationError
from contigmap.io._common import (
    _F,
    _ROW,
    _cell_text,
    _closest,
    _list_rows,
    _missing_column_message,
    _note,
    _public,
)
from contigmap.schema import ROLE_SCHEMAS

logger = logging.getLogger(__name__)

# roles whose ids are join keys: they must be in the file; other roles get row ids
_ID_REQUIRED = frozenset(
    {"villages", "village_areas", "hamlets", "households", "boundaries.townships"}
)
_KIND_SPLIT = re.compile(r"\s*[;；、|]\s*")


def _ids_to_text(series: pd.Series) -> pd.Series:
    """Ids as text: integral floats lose their '.0', nothing gains or loses zeros."""
    if pd.api.types.is_float_dtype(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        finite = values[~np.isnan(values)]
        if finite.size and np.all(finite == np.round(finite)):
            series = series.astype("Int64")
    if pd.api.types.is_bool_dtype(series):
        return series
    out = series.astype("string").astype(str)
    return out.where(series.notna(), None) if series.isna().any() else out


def _apply_columns(
    df: _F,
    columns: dict[str, str],
    source: str,
    geometry_name: str | None,
    *,
    optional: frozenset[str] = frozenset(),
) -> _F:
    have = [c for c in _public(df.columns) if c != geometry_name]
    for user_name in columns:
        if user_name not in df.columns and user_name not in optional:
            msg = _missing_column_message(
                source, user_name, have, listed=" listed under 'columns:' in region.yaml",
                fix=None,
            )
            raise ValidationError(msg)
    mapping = {k: v for k, v in columns.items() if k in df.columns}
    return df.rename(columns=mapping) if mapping else df


def _apply_id(df: _F, spec: LayerSpec, key: str, source: str) -> _F:
    schema = ROLE_SCHEMAS[key]
    canonical = schema.id_column
    if spec.id is not None:
        if spec.id not in df.columns:
            have = _public(df.columns)
            msg = _missing_column_message(source, spec.id, have, what="id column",
                                          fix="fix 'id:' in region.yaml")
            raise ValidationError(msg)
        if spec.id != canonical:
            if canonical in df.columns:
                df = df.drop(columns=[canonical])
            df = df.rename(columns={spec.id: canonical})
    elif canonical not in df.columns:
        if key in _ID_REQUIRED:
            have = _public(df.columns)
            msg = _missing_column_message(
                source, canonical, have, what="id column",
                fix=f"set 'id: <column>' (or map a column to '{canonical}' under 'columns:') "
                    "in region.yaml",
            )
            raise ValidationError(msg)
        df = df.copy()
        df[canonical] = [str(i + 1) for i in range(len(df))]
    for col in df.columns:
        if col == canonical or (str(col).endswith("_id") and col != "geometry"):
            df[col] = _ids_to_text(df[col])
    return df


@dataclass(frozen=True)
class _Part:
    """One sheet of a workbook (or the whole file) with its effective settings."""

    sheet: str | None
    columns: dict[str, str]
    optional: frozenset[str]
    filter: dict[str, list[Any]]
    values: dict[str, dict[str, Any]]
    set_: dict[str, Any]
    x: str | None
    y: str | None


def _parts(spec: LayerSpec, path: Path, source: str) -> list[_Part]:
    """List the sheets to read, each with the layer's settings merged with its own."""
    if not spec.sheets:
        return [
            _Part(spec.layer, dict(spec.columns), frozenset(), dict(spec.filter),
                  dict(spec.values), dict(spec.set_), spec.x, spec.y)
        ]
    if path.suffix.lower() not in (".xlsx", ".xls"):
        msg = f"{source}: 'sheets:' is for workbooks (.xlsx, .xls), not {path.name}; remove it"
        raise ConfigError(msg)
    if spec.layer is not None:
        msg = f"{source}: give either 'layer:' (one sheet) or 'sheets:' (several), not both"
        raise ConfigError(msg)
    out: list[_Part] = []
    for name, sheet in spec.sheets.items():
        sh = sheet or SheetSpec()
        values = {
            col: {**spec.values.get(col, {}), **sh.values.get(col, {})}
            for col in (*spec.values, *(c for c in sh.values if c not in spec.values))
        }
        out.append(
            _Part(
                name,
                {**spec.columns, **sh.columns},
                frozenset(k for k in spec.columns if k not in sh.columns),
                {**spec.filter, **sh.filter},
                values,
                {**spec.set_, **sh.set_},
                sh.x or spec.x,
                sh.y or spec.y,
            )
        )
    return out


def _file_column(df: pd.DataFrame, name: str, part: _Part, source: str, key: str) -> str:
    """Find the file's column that ``filter:`` / ``class:`` name (or that maps to it)."""
    if name in df.columns:
        return name
    for user, canonical in part.columns.items():
        if canonical == name and user in df.columns:
            return user
    have = _public(df.columns)
    close = _closest(name, have, cutoff=0.3)
    hint = f"; the closest is '{close}'" if close else ""
    msg = (
        f"{source}: '{key}:' names column '{name}', which is not in the file (it has: "
        f"{', '.join(have)}){hint}; '{key}:' uses the file's own column names"
    )
    raise ConfigError(msg)


def _apply_filter(df: _F, part: _Part, source: str, problems: list[str]) -> _F:
    if not part.filter:
        return df
    keep = np.ones(len(df), dtype=bool)
    for name, allowed in part.filter.items():
        col = _file_column(df, name, part, source, "filter")
        wanted = {_cell_text(v) for v in allowed}
        keep &= np.array([_cell_text(v) in wanted for v in df[col]], dtype=bool)
    where = f" of sheet '{part.sheet}'" if part.sheet else ""
    logger.info("%s: 'filter:' keeps %d of %d rows%s", source, int(keep.sum()), len(df), where)
    if len(df) and not keep.any():
        _note(problems, source, f"'filter:' keeps none of the {len(df)} rows{where}; check it")
    return df.loc[keep]


def _apply_classes(df: _F, spec: LayerSpec, part: _Part, role: str, source: str) -> _F:
    classes = spec.class_
    if classes is None:
        return df
    if role != "hazards":
        msg = (f"{source}: 'class:' is for hazard layers only (hazard polygon layers or "
               "hazard points); remove it (or use 'filter:')")
        raise ConfigError(msg)
    col = _file_column(df, classes.column, part, source, "class")
    weights = {_cell_text(k): float(w) for k, w in classes.weights.items()}
    text = [_cell_text(v) for v in df[col]]
    unknown = np.array([t not in weights for t in text], dtype=bool)
    if unknown.any():
        values = list(dict.fromkeys(str(t) if t is not None else "(blank)"
                                    for t, u in zip(text, unknown, strict=True) if u))
        msg = (
            f"{source}: column '{col}' holds class(es) {', '.join(repr(v) for v in values[:5])} "
            f"in {_list_rows(df[_ROW].to_numpy()[unknown])} that 'class: weights:' does not "
            f"list (it lists: {', '.join(map(str, weights))}); add them with a weight (0 drops "
            "them) or remove the rows"
        )
        raise ValidationError(msg)
    out = df.copy()
    out["hazard_weight"] = np.array([weights[t] for t in text], dtype=float)
    dropped = int((out["hazard_weight"] <= 0).sum())
    if dropped:
        logger.info("%s: %d feature(s) of class weight 0 dropped", source, dropped)
    return out.loc[out["hazard_weight"] > 0]


def _recode(df: _F, part: _Part, source: str) -> _F:
    """Apply ``values:`` (recoding, after renaming) and ``set:`` (constant columns)."""
    if not part.values and not part.set_:
        return df
    df = df.copy()
    for col, mapping in part.values.items():
        if col not in df.columns:
            have = _public(df.columns)
            close = _closest(col, have)
            hint = f"; did you mean '{close}'?" if close else ""
            msg = (
                f"{source}: 'values:' recodes column '{col}', which the layer does not have "
                f"after 'columns:' renaming (it has: {', '.join(have)}){hint}; 'values:' uses "
                "contigmap's column names"
            )
            raise ConfigError(msg)
        lookup: dict[str | None, Any] = {}
        for key, value in mapping.items():
            if isinstance(value, list):
                if col != "kind":
                    msg = (
                        f"{source}: 'values: {col}:' maps '{key}' to a list; only 'kind' "
                        "can hold several values"
                    )
                    raise ConfigError(msg)
                value = ";".join(str(v) for v in value)
            lookup[_cell_text(key)] = value
        cells = [lookup.get(_cell_text(v), v) for v in df[col]]
        df[col] = pd.Series(cells, index=df.index, dtype=object)
    for col, value in part.set_.items():
        df[col] = pd.Series([value] * len(df), index=df.index, dtype=object)
    return df


def _explode_kinds(df: _F, id_col: str) -> _F:
    """Make one row per kind where a service row lists several (``county_seat;township_seat``).

    The copies keep the row's point and get ids ``<id>#<kind>``.
    """
    if "kind" not in df.columns or len(df) == 0:
        return df
    parts = [
        [p for p in _KIND_SPLIT.split(v.strip()) if p] if isinstance(v, str) else [v]
        for v in df["kind"]
    ]
    parts = [p if p else [v] for p, v in zip(parts, df["kind"], strict=True)]
    counts = np.array([len(p) for p in parts])
    if (counts == 1).all():
        return df
    rep = np.repeat(np.arange(len(df)), counts)
    out = df.iloc[rep].copy()
    kinds = [k for p in parts for k in p]
    out["kind"] = pd.Series(kinds, index=out.index, dtype=object)
    multi = counts[rep] > 1
    ids = out[id_col].astype(str).to_numpy(dtype=object)
    tagged = [f"{i}#{str(k).strip()}" for i, k in zip(ids, kinds, strict=True)]
    out[id_col] = np.where(multi, tagged, ids)
    logger.info("services: %d row(s) with several kinds became %d services",
                int((counts > 1).sum()), int(counts[counts > 1].sum()))
    return out.reset_index(drop=True)
