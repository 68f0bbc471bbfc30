"""County assessment (考核): poverty-reduction figures per township and county.

Per area (each township, then the county) — what the policy assesses instead of GDP:

``poor_pop_base``, ``incidence_base``
    Poor people and poverty incidence at baseline, from the indicator table
    (:func:`contigmap.indicators.headline_indicators`), not recomputed.
``poor_served``
    Poor people served by completed works: per village, the largest over the kinds of
    works of the ``poor_beneficiaries`` of its completed projects of that kind (summed
    over units: hamlets of one village are different people), so a village's poor
    people are counted once however many kinds of works reach them; summed over the
    area. This is *not* "lifted out of poverty": leaving poverty is an income test of
    the household registry, which works alone do not decide.
``poor_pop_now``, ``incidence_now``
    Only with a follow-up count (a second registry, ``village_id`` and ``poor_pop``,
    optionally ``pop_basis``): its poor people and Σ poor / Σ basis (the baseline's
    basis when it gives none). Without one they are empty: incidence "now" needs a new
    registry, and the table says so (``now_source``).
``villages_all_met_base``, ``villages_all_met_now``
    Villages meeting every ranked guarantee (:func:`contigmap.monitor.apply.guarantees`)
    before and after the completed works; ``villages_<g>_met_base`` / ``_now`` the same
    per guarantee (``roads``, ``water``, ``power``, ``broadband``). Where the ranking
    costs works for every village (no layer says which already have safe water, power
    or broadband, as in the demo), those guarantees are met only where completed works
    closed them.
``spent_cny``, ``spent_per_poor_served_cny``
    Money reported spent (all projects), and per poor person served.
``plan_completion``
    Planned cost of completed projects / planned cost of projects due by the reporting
    year (planned year ≤ ``as_of``); ``projects_done`` / ``projects_due`` as counts.

:func:`rank_counties` ranks several counties' rows by the share of baseline poor
people served, then plan completion; :func:`assess_by_county` assesses each county of
an area (villages with a ``county_id``) and ranks them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from contigmap.indicators import headline_indicators

__all__ = ["assess", "assess_by_county", "rank_counties"]


def _served_by_village(compared: pd.DataFrame) -> pd.Series:
    done = compared[compared["state"] == "done"]
    poor = pd.to_numeric(done["poor_beneficiaries"], errors="coerce").fillna(0.0)
    keys = [done["village_id"].astype(str).to_numpy(), done["intervention"].astype(str).to_numpy()]
    per_works = poor.groupby(keys).sum()  # the hamlets of one kind of works add up
    return per_works.groupby(level=0).max()


def _area(vids: pd.Series, base: pd.Series, g0: pd.DataFrame, g1: pd.DataFrame,
          compared: pd.DataFrame, served: pd.Series, now: pd.DataFrame | None,
          as_of: int) -> dict[str, Any]:
    ids = set(vids.astype(str))
    c = compared[compared["village_id"].astype(str).isin(ids)]
    year = pd.to_numeric(c["year"]).to_numpy(int)
    cost = pd.to_numeric(c["cost_cny"]).to_numpy(float)
    done = (c["state"] == "done").to_numpy()
    due = year <= as_of
    poor_served = float(served.reindex(sorted(ids)).fillna(0.0).sum())
    spent = float(c["spent_cny"].sum())
    row: dict[str, Any] = {
        "poor_pop_base": float(base["poor_pop"]),
        "incidence_base": float(base["poverty_incidence"]),
        "poor_served": poor_served,
        "share_of_poor_served": (poor_served / float(base["poor_pop"])
                                 if float(base["poor_pop"]) > 0 else np.nan),
        "poor_pop_now": np.nan, "incidence_now": np.nan,
        "villages_all_met_base": int(g0.loc[g0["village_id"].isin(ids), "all_met"].sum()),
        "villages_all_met_now": int(g1.loc[g1["village_id"].isin(ids), "all_met"].sum()),
        "projects_due": int(due.sum()), "projects_done": int((done & due).sum()),
        "spent_cny": spent,
        "spent_per_poor_served_cny": spent / poor_served if poor_served > 0 else np.nan,
        "plan_completion": (float(cost[done & due].sum() / cost[due].sum())
                            if cost[due].sum() > 0 else np.nan),
        "now_source": "none: needs a new registry",
    }
    for col in [c for c in g1.columns if c.endswith("_met") and c in g0.columns]:
        row[f"villages_{col}_base"] = int(g0.loc[g0["village_id"].isin(ids), col].sum())
        row[f"villages_{col}_now"] = int(g1.loc[g1["village_id"].isin(ids), col].sum())
    if now is not None:
        n = now[now["village_id"].isin(ids)]
        poor_now = float(n["poor_pop"].sum())
        basis = float(n["pop_basis"].sum())
        row.update({"poor_pop_now": poor_now,
                    "incidence_now": poor_now / basis if basis > 0 else np.nan,
                    "now_source": "follow-up registry"})
    return row


def assess(
    indicators: pd.DataFrame,
    villages: pd.DataFrame,
    guarantees_base: pd.DataFrame,
    guarantees_now: pd.DataFrame,
    compared: pd.DataFrame,
    *,
    as_of: int,
    poor_now: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the assessment table: a row per township, then the county (module docstring).

    Parameters
    ----------
    indicators
        The baseline indicator table (township rows and a county row).
    villages
        The village table (``village_id``, ``township_id``, ``pop_basis`` or ``pop``).
    guarantees_base, guarantees_now
        :func:`contigmap.monitor.apply.guarantees` before and after the works.
    compared
        :func:`contigmap.monitor.compare.compare_progress`.
    as_of
        The reporting year.
    poor_now
        A follow-up count per village (``village_id``, ``poor_pop``, optional
        ``pop_basis``), or ``None``.

    Returns
    -------
    pandas.DataFrame
        ``level``, ``township_id``, ``name`` and the module's columns.
    """
    vil = pd.DataFrame({"village_id": villages["village_id"].astype(str).to_numpy(),
                        "township_id": villages["township_id"].astype(str).to_numpy()})
    basis = villages["pop_basis"] if "pop_basis" in villages.columns else villages["pop"]
    now = None
    if poor_now is not None:
        now = poor_now.assign(village_id=poor_now["village_id"].astype(str))
        if "pop_basis" not in now.columns:
            now["pop_basis"] = now["village_id"].map(
                pd.Series(pd.to_numeric(basis).to_numpy(float), index=vil["village_id"]))
    served = _served_by_village(compared)
    rows = []
    for _, ind in indicators.iterrows():
        ids = (vil["village_id"] if ind["level"] == "county"
               else vil.loc[vil["township_id"] == str(ind["township_id"]), "village_id"])
        rows.append({"level": ind["level"], "township_id": ind["township_id"],
                     "name": ind["name"], "villages": int(ind["villages"]),
                     **_area(ids, ind, guarantees_base, guarantees_now, compared, served,
                             now, as_of)})
    return pd.DataFrame(rows)


def rank_counties(assessments: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rank counties by the share of baseline poor served, then plan completion.

    ``assessments``: county name → its :func:`assess` table. Returns their county rows
    with ``county`` and ``rank`` (1 = best), best first.
    """
    rows = []
    for county, table in assessments.items():
        row = table[table["level"] == "county"].iloc[0].to_dict()
        rows.append({"county": county, **row})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out = out.sort_values(["share_of_poor_served", "plan_completion", "county"],
                          ascending=[False, False, True], na_position="last")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)


def assess_by_county(
    villages: pd.DataFrame,
    guarantees_base: pd.DataFrame,
    guarantees_now: pd.DataFrame,
    compared: pd.DataFrame,
    *,
    as_of: int,
    poor_now: pd.DataFrame | None = None,
) -> pd.DataFrame | None:
    """Assess and rank the counties of an area; ``None`` for one county.

    Each county's baseline comes from
    :func:`contigmap.indicators.headline_indicators` on its own villages (grouped by
    ``county_id``); the rest as :func:`assess`, then :func:`rank_counties`.
    """
    if "county_id" not in villages.columns or villages["county_id"].nunique() < 2:
        return None
    tables = {}
    for county, group in villages.groupby(villages["county_id"].astype(str), sort=True):
        ind = headline_indicators(group, county_name=str(county))
        tables[str(county)] = assess(ind, group, guarantees_base, guarantees_now, compared,
                                     as_of=as_of, poor_now=poor_now)
    return rank_counties(tables)
