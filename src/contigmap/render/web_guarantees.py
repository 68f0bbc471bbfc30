"""The 两不愁三保障 theme of the village map: guarantees met, what closes each gap.

The table is :func:`contigmap.priority.guarantees.guarantees` (the one definition, also
written as ``priorities/guarantees.csv`` and read by the monitor); this module only
draws it: a village theme coloured by how many of the listed guarantees and basic
conditions a village meets (:func:`guarantees_indicator`), a tooltip line and a card
section listing the unmet ones with the work that closes each, named as the
intervention registry names its options (:func:`guarantee_tooltip`,
:func:`guarantee_card_html`).

Colours: ColorBrewer RdYlGn with 8 classes (Harrower and Brewer 2003), red for none
met through green for all met; ``k`` of ``n`` met takes class ``7k/n``, a half rounded
down (towards red: a village half-way is not yet out of poverty).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from contigmap.priority.guarantees import GUARANTEES
from contigmap.priority.registry import REGISTRY
from contigmap.render.legend import Category, IndicatorSpec
from contigmap.render.web_page import is_missing, text

__all__ = [
    "GUARANTEES_COLUMN",
    "LISTED_COLUMN",
    "guarantee_card_html",
    "guarantee_tooltip",
    "guarantees_indicator",
    "with_guarantees",
]

GUARANTEES_COLUMN: Final[str] = "guarantees_met"
"""Map-only column: how many listed guarantees a village meets."""
LISTED_COLUMN: Final[str] = "guarantees_listed"
"""Map-only column: how many guarantees were listed (ranked) for the village."""

_RDYLGN: Final[tuple[str, ...]] = ("#d73027", "#f46d43", "#fdae61", "#fee08b", "#d9ef8b",
                                   "#a6d96a", "#66bd63", "#1a9850")
_PREFIX: Final[str] = "g_"


def _listed(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Return the guarantees the table lists (those whose intervention was ranked)."""
    return [g for g in GUARANTEES if f"{g[0]}_met" in table.columns]


def with_guarantees(villages: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Join the guarantees table to the villages by ``village_id`` (map columns only).

    Adds :data:`GUARANTEES_COLUMN`, :data:`LISTED_COLUMN` and, per listed guarantee,
    ``g_<iv>_met`` and ``g_<iv>_closes`` (prefixed so that no village column is
    overwritten). Villages absent from the table get missing values.
    """
    listed = _listed(table)
    if not listed or "village_id" not in villages.columns:
        return villages
    cols = {f"{iv}_{k}": f"{_PREFIX}{iv}_{k}" for iv, _, _ in listed for k in ("met", "closes")}
    part = table[["village_id", *cols]].rename(columns=cols)
    part = part.assign(village_id=part["village_id"].astype(str))
    met = table[[f"{iv}_met" for iv, _, _ in listed]].to_numpy(bool).sum(axis=1)
    part[GUARANTEES_COLUMN] = met.astype(int)
    part[LISTED_COLUMN] = len(listed)
    keys = villages["village_id"].astype(str)
    joined = part.set_index("village_id").reindex(keys.to_numpy())
    out = villages.copy()
    for col in joined.columns:
        out[col] = joined[col].to_numpy()
    return out


def guarantees_indicator(villages: pd.DataFrame) -> IndicatorSpec | None:
    """Return the village theme: one class per number of guarantees met that occurs.

    ``None`` when the villages carry no guarantees (:func:`with_guarantees`).
    """
    if GUARANTEES_COLUMN not in villages.columns:
        return None
    n = int(pd.to_numeric(villages[LISTED_COLUMN], errors="coerce").max())
    seen = sorted({int(v) for v in villages[GUARANTEES_COLUMN] if not is_missing(v)},
                  reverse=True)
    top = len(_RDYLGN) - 1  # k of n met: colour top*k/n, halves rounded down (redder)
    ramp = [(2 * top * k + n - 1) // (2 * n) for k in range(n + 1)]
    cats = tuple(
        Category(str(k), "全部达标" if k == n else f"达标 {k}/{n} 项",
                 "all met" if k == n else f"{k} of {n} met", _RDYLGN[ramp[k]])
        for k in seen)
    return IndicatorSpec(column=GUARANTEES_COLUMN, label_zh="两不愁三保障达标情况",
                         label_en="Guarantees met", categories=cats)


def _closing(iv: str, closes: Any) -> str:
    """Chinese name(s) of the option(s) closing a gap (``;``-separated keys)."""
    if is_missing(closes) or str(closes) == "":
        return ""
    intervention = REGISTRY.get(iv)
    keys = str(closes).split(";")
    if intervention is None:
        return "、".join(keys)
    return "、".join(intervention.label_zh if k == iv else intervention.option_label(k)
                    for k in keys)  # no option column: the intervention itself


def _unmet(row: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(Chinese name, English name, closing work) of each unmet guarantee of a row."""
    out = []
    for iv, zh, en in GUARANTEES:
        met = row.get(f"{_PREFIX}{iv}_met")
        if met is None or is_missing(met) or bool(met):
            continue
        out.append((zh, en, _closing(iv, row.get(f"{_PREFIX}{iv}_closes"))))
    return out


def guarantee_tooltip(row: Mapping[str, Any]) -> str:
    """Tooltip line of the theme: met of listed, then the unmet guarantees (escaped HTML)."""
    if is_missing(row.get(GUARANTEES_COLUMN)):
        return ""
    k, n = int(row[GUARANTEES_COLUMN]), int(row[LISTED_COLUMN])
    unmet = "；".join(zh for zh, _, _ in _unmet(row))
    return (f"<br>两不愁三保障 达标 {k}/{n}" + (f"<br>未达标：{text(unmet)}" if unmet else ""))


def guarantee_card_html(row: Mapping[str, Any]) -> str:
    """Card section: met of listed, and one row per unmet guarantee with its closing work."""
    if is_missing(row.get(GUARANTEES_COLUMN)):
        return ""
    k, n = int(row[GUARANTEES_COLUMN]), int(row[LISTED_COLUMN])
    rows = "".join(
        f"<tr><th>{text(zh)}<br><small>{text(en)}</small></th>"
        f"<td>{text(work) if work else '—'}</td></tr>"
        for zh, en, work in _unmet(row))
    head = ('<div class="cm-sec">两不愁三保障 <small>guarantees</small></div>'
            f'<div class="cm-rankline">达标 <b>{k}/{n}</b> 项 <small>{k} of {n} met</small>'
            + (" · 未达标项与补短板工程 <small>unmet, and the work that closes each</small>"
               if rows else " · 全部达标 <small>all met</small>") + "</div>")
    return head + (f"<table>{rows}</table>" if rows else "")
