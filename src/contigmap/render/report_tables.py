"""Which interventions a report shows, and each one's table of villages (or hamlets).

The interventions are those of :data:`contigmap.priority.registry.REGISTRY` that have
output: a table passed in, or ``<name>_need`` / ``_tier`` / ``_rank`` columns in the
village table. Their order is the registry's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from contigmap.errors import ValidationError
from contigmap.priority.intervention import Intervention
from contigmap.priority.registry import REGISTRY
from contigmap.render.report_doc import COLUMN_LABELS_ZH

__all__ = ["intervention_table", "profile_table", "reported_interventions"]

_BARE: tuple[str, ...] = ("need", "tier", "rank", "capex_cny", "reasons", "option")
"""Intervention columns a table may give without their ``<name>_`` prefix."""


def reported_interventions(
    villages: pd.DataFrame, interventions: Mapping[str, Any] | None
) -> list[Intervention]:
    """List the registered interventions that have output, in registry order.

    Raises
    ------
    ValidationError
        ``interventions`` names an intervention that is not registered.
    """
    unknown = [k for k in (interventions or {}) if k not in REGISTRY]
    if unknown:
        msg = (f"unknown intervention {unknown[0]!r} in the report's tables; known: "
               f"{', '.join(REGISTRY)}")
        raise ValidationError(msg)
    columns = {str(c) for c in villages.columns}
    return [
        iv for name, iv in REGISTRY.items()
        if name in (interventions or {})
        or any(f"{name}_{c}" in columns for c in ("need", "tier", "rank"))
    ]


def intervention_table(
    villages: pd.DataFrame, iv: Intervention, frame: pd.DataFrame | None
) -> pd.DataFrame:
    """One intervention's table: ids and names, then its columns, by rank.

    Without ``frame`` the ``<name>_*`` columns of ``villages`` are used. A hamlet-level
    intervention keeps the hamlets' own names; the township name comes from
    ``villages``.
    """
    key = iv.name
    ident = [c for c in ("village_id", "name", "township_name") if c in villages.columns]
    if frame is None:
        cols = [c for c in villages.columns if str(c).startswith(f"{key}_")]
        base = pd.DataFrame(villages[ident]).reset_index(drop=True)
        table = pd.concat([base, pd.DataFrame(villages[cols]).reset_index(drop=True)], axis=1)
    else:
        table = _joined(villages, key, frame, ident, own_name=iv.unit == "hamlet")
    rank = f"{key}_rank"
    if rank in table.columns:
        table = table.sort_values(rank, kind="stable", na_position="last")
    elif f"{key}_need" in table.columns:
        table = table.sort_values(f"{key}_need", ascending=False, kind="stable")
    return table.reset_index(drop=True)


def _joined(
    villages: pd.DataFrame, key: str, frame: pd.DataFrame, ident: list[str], *, own_name: bool
) -> pd.DataFrame:
    """``frame`` (prefixed) with the village ids and names of ``villages`` in front."""
    frame = pd.DataFrame(frame)
    if "village_id" not in frame.columns and frame.index.name == "village_id":
        frame = frame.reset_index()
    if "village_id" not in frame.columns:
        msg = (f"intervention table {key!r} has no 'village_id' column; give one row per "
               "village with its code")
        raise ValidationError(msg)
    frame = frame.rename(columns={c: f"{key}_{c}" for c in frame.columns if c in _BARE})
    if not ident:
        return frame
    keep_own = {"name"} if own_name and "name" in frame.columns else set()
    base_cols = [c for c in ident if c not in keep_own]
    extra = [c for c in frame.columns if c not in base_cols or c == "village_id"]
    table = pd.DataFrame(villages[base_cols]).reset_index(drop=True).merge(
        frame[extra], on="village_id", how="right")
    return table[[*ident, *[c for c in table.columns if c not in ident]]]


def profile_table(villages: pd.DataFrame, ivs: Sequence[Intervention]) -> pd.DataFrame:
    """Return the village profile: no geometry, no intervention columns, common ones first."""
    frame = pd.DataFrame(villages)
    geom = getattr(villages, "geometry", None)
    if geom is not None and getattr(geom, "name", None) in frame.columns:
        frame = frame.drop(columns=[geom.name])
    drop = [c for c in frame.columns if any(str(c).startswith(f"{iv.name}_") for iv in ivs)]
    frame = frame.drop(columns=drop)
    first = [c for c in COLUMN_LABELS_ZH if c in frame.columns]
    return frame[[*first, *[c for c in frame.columns if c not in first]]].reset_index(drop=True)
