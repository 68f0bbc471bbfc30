"""Plan against progress: each project's state, and money and people by year.

Definitions (``as_of`` is the reporting year; ``tolerance`` the cost tolerance, 10 %)
-------------------------------------------------------------------------------------
``state`` — one per planned project, the first that holds:

* ``done``: reported 完工 (``done_late`` says whether its completion date falls in a
  year after the planned one);
* ``late``: not done and its planned year is before ``as_of`` (the year has passed);
* ``not_started``: reported 未开工, or not reported at all, and not yet late;
* ``on_time``: reported 在建 and not yet late.

``over_cost`` — money spent exceeds the planned cost × (1 + ``tolerance``), whatever
the state (a project may be over cost before it is finished).

By year (per planned year): projects, planned cost and poor beneficiaries of all
projects planned that year, and of those done; money spent on them.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from contigmap.errors import ValidationError

__all__ = ["PLAN_COLUMNS", "STATES", "by_year", "compare_progress", "default_as_of"]

STATES: Final[tuple[str, ...]] = ("done", "on_time", "late", "not_started")
"""The project states, in the order tables list them."""

STATE_LABELS: Final[dict[str, str]] = {
    "done": "完工", "on_time": "按期在建", "late": "滞后", "not_started": "未开工"}

PLAN_COLUMNS: Final[tuple[str, ...]] = (
    "project_id", "year", "village_id", "intervention", "cost_cny", "poor_beneficiaries")
"""Columns of ``plan_projects.csv`` the comparison needs."""


def _check_plan(plan: pd.DataFrame) -> None:
    missing = [c for c in PLAN_COLUMNS if c not in plan.columns]
    if missing:
        msg = (f"plan_projects: missing column(s) {', '.join(missing)}; give the "
               f"plan_projects.csv written by `contigmap plan`")
        raise ValidationError(msg)
    for col in ("year", "cost_cny", "poor_beneficiaries"):
        values = pd.to_numeric(plan[col], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.astype(float))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            msg = (f"plan_projects: project {plan['project_id'].iloc[i]}: {col} "
                   f"'{plan[col].iloc[i]}' is not a number; give plan_projects.csv as written "
                   f"by `contigmap plan`")
            raise ValidationError(msg)


def default_as_of(plan: pd.DataFrame, progress: pd.DataFrame) -> int:
    """Return the reporting year when none is given.

    The latest completion year reported, else the plan's first year (a rule of the
    data, never the clock, so reruns agree).
    """
    dates = pd.to_datetime(progress.get("completed", pd.Series(dtype=object)),
                           errors="coerce").dropna()
    if len(dates):
        return int(dates.dt.year.max())
    return int(pd.to_numeric(plan["year"]).min())


def compare_progress(
    plan: pd.DataFrame,
    progress: pd.DataFrame,
    *,
    as_of: int,
    tolerance: float = 0.10,
) -> pd.DataFrame:
    """One row per planned project: the plan, what was reported, ``state`` and ``over_cost``.

    Parameters
    ----------
    plan
        ``plan_projects`` (:data:`PLAN_COLUMNS`; other columns are kept).
    progress
        :func:`contigmap.monitor.progress.read_progress` with the plan (ids resolved).
    as_of
        The reporting year.
    tolerance
        Share over the planned cost that is still not ``over_cost``.

    Returns
    -------
    pandas.DataFrame
        The plan's columns, then ``status``, ``spent_cny``, ``completed``, ``note``,
        ``state``, ``state_zh``, ``done_late``, ``over_cost``, ``cost_overrun_share``
        (spent / planned − 1), in the plan's order.
    """
    _check_plan(plan)
    if tolerance < 0:
        msg = f"cost tolerance {tolerance} is negative; give a share ≥ 0 (0.1 = 10 %)"
        raise ValidationError(msg)
    out = plan.copy()
    out["project_id"] = out["project_id"].astype(str)
    rep = progress.set_index(progress["project_id"].astype(str))
    out["status"] = out["project_id"].map(rep["status"]).fillna("not_started")
    out["spent_cny"] = pd.to_numeric(out["project_id"].map(rep["spent_cny"]),
                                     errors="coerce").fillna(0.0).astype(float)
    out["completed"] = out["project_id"].map(rep["completed"]).fillna("")
    out["note"] = out["project_id"].map(rep["note"]).fillna("")
    year = pd.to_numeric(out["year"]).to_numpy(int)
    cost = pd.to_numeric(out["cost_cny"]).to_numpy(float)
    done = (out["status"] == "done").to_numpy()
    late = ~done & (year < as_of)
    state = np.where(done, "done", np.where(late, "late", np.where(
        out["status"] == "not_started", "not_started", "on_time")))
    out["state"] = state
    out["state_zh"] = [STATE_LABELS[s] for s in state]
    done_year = pd.to_datetime(out["completed"], errors="coerce").dt.year.to_numpy(float)
    out["done_late"] = done & (np.nan_to_num(done_year, nan=-1) > year)
    spent = out["spent_cny"].to_numpy(float)
    out["over_cost"] = spent > cost * (1.0 + tolerance)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["cost_overrun_share"] = np.where(cost > 0, spent / cost - 1.0, np.nan)
    return out


def by_year(compared: pd.DataFrame) -> pd.DataFrame:
    """Planned vs done money and poor people per planned year (a row per year).

    Columns: ``year``, ``planned_projects``, ``planned_cost_cny``,
    ``planned_poor_beneficiaries``, ``done_projects``, ``done_cost_cny`` (planned cost
    of the done projects), ``done_poor_beneficiaries``, ``spent_cny`` (money reported
    spent on the year's projects, done or not), ``late_projects``, ``over_cost_projects``.
    """
    t = compared.assign(
        _done=compared["state"] == "done",
        _cost=pd.to_numeric(compared["cost_cny"]).astype(float),
        _poor=pd.to_numeric(compared["poor_beneficiaries"]).astype(float))
    rows = []
    for year, g in t.groupby(pd.to_numeric(t["year"]).astype(int), sort=True):
        d = g[g["_done"]]
        rows.append({
            "year": int(year), "planned_projects": len(g),
            "planned_cost_cny": float(g["_cost"].sum()),
            "planned_poor_beneficiaries": float(g["_poor"].sum()),
            "done_projects": len(d), "done_cost_cny": float(d["_cost"].sum()),
            "done_poor_beneficiaries": float(d["_poor"].sum()),
            "spent_cny": float(g["spent_cny"].sum()),
            "late_projects": int((g["state"] == "late").sum()),
            "over_cost_projects": int(g["over_cost"].sum()),
        })
    return pd.DataFrame(rows)
