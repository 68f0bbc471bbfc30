"""两不愁三保障 per village: which guarantees and basic conditions are met, what closes a gap.

A village leaves poverty when its people's food and clothing are secured and compulsory
education, basic medical care and safe housing are guaranteed, with safe drinking water
(两不愁三保障), and when it has the basic conditions of a hardened road, power and
broadband. One definition, used by the run's ``guarantees.csv`` and by the monitor:

* a guarantee is **met** where its intervention needs no works: ``<iv>_option`` is
  ``none`` or costs 0 (:func:`contigmap.priority.tiers.needs_works`); the safe-housing
  guarantee from ``housing``, safe water from ``water``, education from ``schooling``,
  medical care from ``health``, power from ``power``;
* roads: a hardened road to the own township seat (通硬化路): the villages'
  ``hardened_to_township`` when present (the monitor recomputes it after road works),
  else the roads table's ``roads_no_hardened == 0``;
* broadband (per natural village): met when none of the village's hamlets needs works.

A guarantee whose intervention was not ranked (not in ``names``, or its columns absent)
has no column. ``<iv>_closes`` names the option that closes the gap (empty where met;
broadband lists its hamlets' options), ``all_met`` says whether every listed one is met
and ``missing``/``missing_zh`` list the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd

from contigmap.columns import ColumnInfo, register_columns
from contigmap.priority import registry
from contigmap.priority.tiers import needs_works

__all__ = ["GUARANTEES", "guarantees", "guarantees_from_tables"]

GUARANTEES: Final[tuple[tuple[str, str, str], ...]] = (
    ("roads", "通硬化路", "hardened road to the township seat"),
    ("water", "饮水安全有保障", "safe drinking water"),
    ("power", "通动力电", "power"),
    ("broadband", "通宽带", "broadband"),
    ("health", "基本医疗有保障", "basic medical care"),
    ("schooling", "义务教育有保障", "compulsory education"),
    ("housing", "住房安全有保障", "safe housing"),
)
"""Intervention, Chinese and English name of each guarantee or basic condition, in the
registry's order."""

_SRC = "priority / guarantees"
register_columns([
    *(ColumnInfo(f"{iv}_met", f"{en} met: " + (
        "a hardened road to the own township seat (hardened_to_township)" if iv == "roads"
        else "broadband needs no works (every hamlet's broadband_option none or costing 0)"
        if iv == "broadband" else f"{iv} needs no works ({iv}_option none or costing 0)"),
        f"{zh}（已达标）", "bool", _SRC) for iv, zh, en in GUARANTEES),
    *(ColumnInfo(f"{iv}_closes", f"{iv} option that closes the {en} gap (empty when met)",
                 f"{zh}补短板方案", "", _SRC) for iv, zh, en in GUARANTEES),
    ColumnInfo("all_met", "every listed guarantee and basic condition met", "全部达标",
               "bool", _SRC),
    ColumnInfo("missing", "guarantees not met (intervention names, ';'-separated)",
               "未达标项", "", _SRC),
    ColumnInfo("missing_zh", "guarantees not met, in Chinese", "未达标项（中文）", "", _SRC),
])


def _open_works(table: pd.DataFrame, iv: str) -> np.ndarray:
    return needs_works(table[f"{iv}_option"], table[f"{iv}_capex_cny"])


def _village_gap(villages: pd.DataFrame, iv: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``(met, closes)`` of a village-unit guarantee, or ``None`` when not ranked."""
    has_option = f"{iv}_option" in villages.columns
    if iv == "roads" and ("hardened_to_township" in villages.columns
                          or "roads_no_hardened" in villages.columns):
        met = (villages["hardened_to_township"].to_numpy(bool)
               if "hardened_to_township" in villages.columns
               else pd.to_numeric(villages["roads_no_hardened"]).to_numpy(float) == 0)
    elif has_option:
        met = ~_open_works(villages, iv)
    else:
        return None
    option = (villages[f"{iv}_option"].astype(str).to_numpy() if has_option
              else np.full(len(villages), iv, dtype=object))
    return met, np.where(met, "", option)


def _hamlet_gap(village_ids: pd.Series, hamlets: pd.DataFrame | None,
                iv: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``(met, closes)`` of a hamlet-unit guarantee per village, or ``None``."""
    if hamlets is None or f"{iv}_option" not in hamlets.columns:
        return None
    hamlets = hamlets[hamlets[f"{iv}_option"].notna()]  # not ranked for iv (outer merge)
    open_ = pd.DataFrame({"v": hamlets["village_id"].astype(str).to_numpy(),
                          "open": _open_works(hamlets, iv),
                          "opt": hamlets[f"{iv}_option"].astype(str).to_numpy()})
    open_ = open_[open_["open"]]
    closes = open_.groupby("v")["opt"].agg(lambda s: ";".join(sorted(set(s))))
    text = village_ids.map(closes).fillna("").astype(str).to_numpy()
    return text == "", text


def guarantees(villages: pd.DataFrame, hamlets: pd.DataFrame | None,
               names: Sequence[str] | None = None) -> pd.DataFrame:
    """Which guarantees each village meets and what closes each gap (module docstring).

    Parameters
    ----------
    villages
        Villages with the ranked ``<iv>_option``/``<iv>_capex_cny`` columns (and
        ``hardened_to_township`` or ``roads_no_hardened``).
    hamlets
        Hamlets with ``village_id`` and the hamlet interventions' columns, or ``None``.
    names
        Interventions to list (every one of :data:`GUARANTEES` when omitted).

    Returns
    -------
    pandas.DataFrame
        One row per village: ids, names, people, ``<iv>_met``, ``<iv>_closes``,
        ``all_met``, ``missing``, ``missing_zh``.
    """
    keep = [c for c in ("village_id", "name", "township_id", "township_name", "pop",
                        "poor_pop") if c in villages.columns]
    out = pd.DataFrame(villages[keep]).reset_index(drop=True)
    out["village_id"] = out["village_id"].astype(str)
    listed: list[tuple[str, str]] = []
    closes: dict[str, np.ndarray] = {}
    for iv, zh, _ in GUARANTEES:
        if names is not None and iv not in names:
            continue
        unit = registry.REGISTRY[iv].unit if iv in registry.REGISTRY else "village"
        gap = (_village_gap(villages.reset_index(drop=True), iv) if unit == "village"
               else _hamlet_gap(out["village_id"], hamlets, iv))
        if gap is None:
            continue
        out[f"{iv}_met"] = np.asarray(gap[0], dtype=bool)
        closes[f"{iv}_closes"] = gap[1]
        listed.append((iv, zh))
    met = out[[f"{iv}_met" for iv, _ in listed]].to_numpy(bool)
    out["all_met"] = np.asarray(met.all(axis=1), dtype=bool)
    out["missing"] = [";".join(iv for (iv, _), ok in zip(listed, row, strict=True) if not ok)
                      for row in met]
    out["missing_zh"] = ["；".join(zh for (_, zh), ok in zip(listed, row, strict=True)
                                   if not ok) for row in met]
    for col, values in closes.items():
        out[col] = values
    return out


def guarantees_from_tables(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """:func:`guarantees` from the priority stage's tables (one per intervention).

    The village tables are joined on ``village_id``; the hamlet tables are the hamlets.
    """
    villages: pd.DataFrame | None = None
    hamlets: pd.DataFrame | None = None
    for iv, t in tables.items():
        own = [c for c in t.columns if c.startswith(f"{iv}_")]
        if registry.get(iv).unit == "hamlet":
            part = t[["hamlet_id", "village_id", *own]]
            hamlets = part if hamlets is None else hamlets.merge(
                part, on=["hamlet_id", "village_id"], how="outer")
        elif villages is None:
            base = [c for c in ("village_id", "name", "township_id", "pop", "poor_pop")
                    if c in t.columns]
            villages = t[[*base, *own]]
        else:
            villages = villages.merge(t[["village_id", *own]], on="village_id", how="left")
    if villages is None:
        return pd.DataFrame(columns=["village_id", "all_met", "missing", "missing_zh"])
    return guarantees(villages.sort_values("village_id", kind="stable"), hamlets)
