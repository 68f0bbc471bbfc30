"""A synthetic progress workbook for a plan (the demo's 2016–2020 cycle).

:func:`demo_progress` reports, as of ``as_of``, on every project of a plan:

* projects planned before ``as_of``: done (spent 90–105 % of the planned cost,
  completed on a day of their planned year), except ``late`` of them (at least one when
  any are due) reported 在建 (half the cost spent) or 未开工 (nothing spent);
* projects of the year ``as_of``: in progress (40 % spent);
* later projects: not started (not reported);
* ``over_cost`` done projects (at least one when any is done) spent 130 % of their cost.

The choice of which projects are late or over cost is drawn with
``numpy.random.default_rng(seed)``; the same plan and seed give the same bytes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from contigmap.monitor.template import write_progress_workbook

__all__ = ["demo_progress"]


def demo_progress(plan: pd.DataFrame, path: str | Path, *, seed: int = 17, as_of: int = 2019,
                  late: int = 3, over_cost: int = 1) -> pd.DataFrame:
    """Write a synthetic progress workbook for ``plan`` to ``path``; return its rows.

    Parameters
    ----------
    plan
        ``plan_projects`` (``project_id``, ``year``, ``cost_cny``).
    path
        The ``.xlsx`` to write.
    seed
        Random seed of the choice of late and over-cost projects and of the spending.
    as_of
        The reporting year.
    late, over_cost
        How many due projects are late, and how many done ones over cost.
    """
    rng = np.random.default_rng(seed)
    t = plan.reset_index(drop=True)
    year = pd.to_numeric(t["year"]).to_numpy(int)
    cost = pd.to_numeric(t["cost_cny"]).to_numpy(float)
    due = np.flatnonzero(year < as_of)
    late_idx = set(rng.choice(due, size=min(late, due.size), replace=False).tolist()) \
        if due.size else set()
    done_idx = [i for i in due if i not in late_idx]
    over_idx = set(rng.choice(done_idx, size=min(over_cost, len(done_idx)),
                              replace=False).tolist()) if done_idx else set()
    rows = []
    for i in range(len(t)):
        pid = str(t.at[i, "project_id"])
        if i in late_idx:
            started = bool(rng.integers(0, 2))
            rows.append({"project_id": pid, "status": "in_progress" if started else "not_started",
                         "spent_cny": round(0.5 * cost[i]) if started else 0.0,
                         "note": "滞后 delayed"})
        elif year[i] < as_of:
            share = 1.3 if i in over_idx else float(rng.uniform(0.9, 1.05))
            day = dt.date(int(year[i]), 1, 1) + dt.timedelta(days=int(rng.integers(120, 330)))
            rows.append({"project_id": pid, "status": "done", "spent_cny": round(share * cost[i]),
                         "completed": day.isoformat(),
                         "note": "超支 over cost" if i in over_idx else ""})
        elif year[i] == as_of:
            rows.append({"project_id": pid, "status": "in_progress",
                         "spent_cny": round(0.4 * cost[i])})
    table = pd.DataFrame(rows, columns=["project_id", "status", "spent_cny", "completed", "note"])
    write_progress_workbook(table.fillna(""), path)
    return table
