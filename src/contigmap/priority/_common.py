"""Shared pieces of the intervention modules: people criteria, reasons, assembly."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.errors import ValidationError, warn_data
from contigmap.finance import fmt_wan
from contigmap.priority.intervention import InterventionConfig, Option
from contigmap.priority.mcda import Criterion, score_columns
from contigmap.priority.tiers import assign_tiers
from contigmap.schema import POVERTY_CAUSES

__all__ = ["UNREACHABLE_FACTOR", "UNREACHABLE_MIN_MIN", "assemble", "fill_no_route", "fmt_cny",
           "fmt_cny_zh", "main_cause", "require"]

logger = logging.getLogger(__name__)

_CAUSE_EN = {k: k.replace("_", " ") for k in POVERTY_CAUSES}


_POVERTY_HINT = "run the poverty stage first"
VILLAGE_PEOPLE_CRITERIA: tuple[Criterion, ...] = (
    Criterion("poor_pop", "poor_pop", lambda r: f"{r['poor_pop']:.0f} poor people",
              lambda r: f"贫困人口{r['poor_pop']:.0f}人", _POVERTY_HINT,
              unit="people", label_en="poor people", label_zh="贫困人口"),
    Criterion("poverty_incidence", "poverty_incidence",
              lambda r: f"{r['poverty_incidence'] * 100:.0f}% poor",
              lambda r: f"贫困发生率{r['poverty_incidence'] * 100:.0f}%", _POVERTY_HINT,
              unit="share 0-1", label_en="poverty incidence", label_zh="贫困发生率"),
    Criterion("pop", "pop", lambda r: f"{r['pop']:.0f} people", lambda r: f"人口{r['pop']:.0f}人",
              unit="people", label_en="people", label_zh="人口"),
)
"""The people criteria that roads, water and power share: poor people, incidence, people."""


def no_poor_no_cause(table: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with cause shares set to 0 where the registry lists no poor household.

    A cause share is a share *of poor households*, undefined (``nan``) for a village
    whose registered households are all non-poor; as a need criterion such a village
    has no poor household held back by that cause, so 0 is the true value. Villages
    absent from the registry keep ``nan`` and stop the ranking with a clear message.
    """
    out = table.copy()
    if "poor_households" not in out.columns:
        return out
    none_poor = pd.to_numeric(out["poor_households"], errors="coerce").eq(0).to_numpy()
    for col in (c for c in out.columns if c.startswith("cause_") and c.endswith("_share")):
        out.loc[none_poor & out[col].isna().to_numpy(), col] = 0.0
    return out


def require(table: pd.DataFrame, columns: Sequence[str], where: str, hint: str) -> None:
    """Raise :class:`ValidationError` when ``table`` lacks a column."""
    for col in columns:
        if col not in table.columns:
            msg = f"{where}: the table has no '{col}' column; {hint}"
            raise ValidationError(msg)


def fmt_cny(value: float) -> str:
    """Money in plain words: 1.2 M CNY, 350 k CNY."""
    if not np.isfinite(value):
        return "n/a"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f} M CNY"
    return f"{value / 1e3:.0f} k CNY"


def fmt_cny_zh(value: float) -> str:
    """Money in 万元 with thousands separators: 1,234万元, 35.5万元, 0.35万元.

    The figure from :func:`contigmap.finance.fmt_wan`; ``无`` when unknown.
    """
    text = fmt_wan(value)
    return text if text == "无" else f"{text}万元"


def main_cause(row: Mapping[str, Any], key: str) -> tuple[str, str]:
    """English and Chinese text of a poverty cause's share in a village row."""
    share = float(row.get(f"cause_{key}_share", np.nan))
    pct = f"{share * 100:.0f}%" if np.isfinite(share) else "n/a"
    return (f"{pct} of poor households poor from {_CAUSE_EN[key]}",
            f"{POVERTY_CAUSES[key]}致贫户占{pct}")


def assemble(
    table: pd.DataFrame,
    iv: str,
    criteria: Sequence[Criterion],
    cfg: InterventionConfig,
    *,
    id_column: str,
    options: Sequence[Option],
) -> pd.DataFrame:
    """Add need, rank, tier, reasons and cost per poor person to a costed table.

    The tiers here are need groups (:func:`contigmap.priority.tiers.assign_tiers` without
    a budget); :func:`contigmap.priority.run.compute_priorities` replaces them with the
    budget tiers when a budget is set.

    ``table`` holds the criteria columns and ``<iv>_option``, ``<iv>_capex_cny``,
    ``<iv>_beneficiaries``, ``<iv>_poor_beneficiaries``. The reasons end with the option
    and its cost, named by its label in ``options``.
    """
    option_en = {o.key: o.label_en for o in options}
    option_zh = {o.key: o.label_zh for o in options}
    table, unregistered = _fill_unregistered(table, iv, criteria, cfg.weights, id_column)
    scored = score_columns(table, criteria, cfg.weights, prefix=iv, id_column=id_column,
                           method=cfg.normalise, n_tiers=cfg.tiers,
                           reasons_top=cfg.reasons_top)
    out = _with_columns(table, scored)
    out = assign_tiers(out, iv, None, n_tiers=cfg.tiers)  # by budget later, in priority.run
    poor = out[f"{iv}_poor_beneficiaries"].to_numpy(float)
    capex = out[f"{iv}_capex_cny"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[f"{iv}_cost_per_poor_cny"] = np.where(poor > 0, capex / poor, np.nan).round(0)
    opt = out[f"{iv}_option"].astype(str).to_numpy()
    en = out[f"{iv}_reasons"].astype(str).to_numpy()
    zh = out[f"{iv}_reasons_zh"].astype(str).to_numpy()
    out[f"{iv}_reasons"] = [
        f"{r}; option: {option_en.get(o, o)} ({fmt_cny(c)})" if r else
        f"option: {option_en.get(o, o)} ({fmt_cny(c)})"
        for r, o, c in zip(en, opt, capex, strict=True)
    ]
    out[f"{iv}_reasons_zh"] = [
        f"{r}；方案：{option_zh.get(o, o)}（{fmt_cny_zh(c)}）" if r else
        f"方案：{option_zh.get(o, o)}（{fmt_cny_zh(c)}）"
        for r, o, c in zip(zh, opt, capex, strict=True)
    ]
    for col, note in ((f"{iv}_reasons", _UNREGISTERED_EN), (f"{iv}_reasons_zh", _UNREGISTERED_ZH)):
        if not unregistered.any():  # nothing to add: the column as it is
            break
        sep = "; " if col.endswith("s") else "；"
        out[col] = [f"{r}{sep}{note}" if u else r
                    for r, u in zip(out[col], unregistered, strict=True)]
    return out


def _with_columns(table: pd.DataFrame, columns: Mapping[str, Any]) -> pd.DataFrame:
    """Return a copy of ``table`` with ``columns`` set, as setting them one by one would.

    Columns the table has are replaced in place; the new ones are appended in order,
    all at once (one concatenation, not a block insert per column).
    """
    out = table.copy()
    new = {k: v for k, v in columns.items() if k not in out.columns}
    for k, v in columns.items():
        if k not in new:
            out[k] = np.asarray(v, dtype=object) if isinstance(v, list) else v
    if not new:
        return out
    if not out.index.is_unique or out.columns.has_duplicates:
        for k, v in new.items():
            out[k] = v
        return out
    return pd.concat([out, pd.DataFrame(new, index=out.index)], axis=1)


_UNREGISTERED_EN = "not in the household registry: poverty criteria counted as 0"
_UNREGISTERED_ZH = "建档立卡数据中无该村记录，贫困指标按0计"


def _is_registry_column(column: str) -> bool:
    return column in ("poor_pop", "poverty_incidence") or (
        column.startswith("cause_") and column.endswith("_share"))


def _fill_unregistered(
    table: pd.DataFrame, iv: str, criteria: Sequence[Criterion],
    weights: Mapping[str, float], id_column: str,
) -> tuple[pd.DataFrame, NDArray[np.bool_]]:
    """Count the poverty criteria as 0 for rows the household registry does not cover.

    A village whose code matches no registry row has empty poverty columns; it is still
    ranked, on what is known (its access, people, costs), with a warning naming it and
    a note in its reasons. Other gaps still stop the ranking
    (:func:`contigmap.priority.mcda.check_criteria`).
    """
    cols = [c.column for c in criteria if weights.get(c.name, 0.0) > 0
            and _is_registry_column(c.column) and c.column in table.columns]
    if not cols:
        return table, np.zeros(len(table), bool)
    values = table[cols].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    missing = ~np.isfinite(values).all(axis=1)
    if not missing.any():
        return table, missing
    from contigmap.terrain import name_list

    out = table.copy()
    for col in cols:
        out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0.0)
    key = "name" if "name" in table.columns else id_column
    names = table[key].astype(str).to_numpy() if key in table.columns else np.arange(len(table))
    msg = (f"{iv}: {int(missing.sum())} row(s) have no household-registry data (empty "
           f"{', '.join(cols)}): {name_list(names[missing])}; they are ranked with those "
           f"criteria counted as 0 — check that the registry's village codes match the "
           f"villages layer")
    warn_data(msg, logger=logger, stacklevel=3)
    return out, missing


def select_output(
    out: pd.DataFrame, iv: str, id_columns: Sequence[str], criteria: Sequence[Criterion]
) -> pd.DataFrame:
    """Ids, names, township, the ``<iv>_*`` columns, then the criteria's input columns."""
    head = [c for c in (*id_columns, "name", "township_id") if c in out.columns]
    own = [c for c in out.columns if c.startswith(f"{iv}_")]
    inputs = [c.column for c in criteria if c.column in out.columns and c.column not in own]
    extra = [c for c in ("pop", "poor_pop", "poverty_incidence") if c in out.columns
             and c not in inputs]
    return out[list(dict.fromkeys([*head, *own, *inputs, *extra]))].copy()


UNREACHABLE_FACTOR = 2.0
"""A unit with no route to its township seat counts this many times the slowest."""
UNREACHABLE_MIN_MIN = 60.0
"""... and at least this many minutes."""


def fill_no_route(minutes: Any) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Travel times with the units that have none counted as the strongest need.

    A village or hamlet with no route to its own township seat (``NaN`` or ``inf``)
    counts :data:`UNREACHABLE_FACTOR` times the slowest unit that has one, at least
    :data:`UNREACHABLE_MIN_MIN` minutes; reasons say so.

    Returns
    -------
    tuple
        The filled minutes and which units had no route.
    """
    tt = pd.to_numeric(pd.Series(minutes), errors="coerce").to_numpy(float)
    no_route = ~np.isfinite(tt)
    slowest = float(tt[~no_route].max()) if (~no_route).any() else 0.0
    return np.where(no_route, max(UNREACHABLE_FACTOR * slowest, UNREACHABLE_MIN_MIN), tt), \
        no_route
