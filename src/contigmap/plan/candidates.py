"""The plan's candidate projects: ranked units with costed works, and relocation moves.

A *project* is one unit (village, or hamlet for hamlet-unit interventions) and one
intervention whose ranked table gives it a costed option (option not ``none``, cost > 0:
:func:`contigmap.priority.tiers.needs_works`), or one settlement the relocation stage
decided to move (``reloc_decision == "relocate"``). Its value is its poor beneficiaries
weighted by its MCDA need (:func:`project_value`).

Two kinds of pairs tie projects together:

* *exclusive*: a moving hamlet (or village) gets no in-place works — its relocation and
  every project on the same unit (a hamlet's broadband; for a moving village, all of the
  village's works) are mutually exclusive;
* *precedence*: by the ``precedence:`` rules of ``plan.yaml``, a village's ``then``
  project comes ``gap_years`` or more after the village's ``first`` project, and only
  when that one is in the plan (a road before a shuttle bus line).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from contigmap.errors import warn_data
from contigmap.plan.config import RELOCATION, PlanConfig
from contigmap.priority import registry
from contigmap.priority.tiers import needs_works

__all__ = ["PROJECT_COLUMNS", "Candidates", "opex_of", "plan_candidates", "project_value"]

logger = logging.getLogger(__name__)

PROJECT_COLUMNS = ["project_id", "intervention", "option", "unit_id", "village_id",
                   "village_name", "township_id", "township_name", "cost_cny",
                   "beneficiaries", "poor_beneficiaries", "need", "rank", "opex_cny_per_year"]
"""Columns of :attr:`Candidates.projects` (then ``value``)."""


@dataclass
class Candidates:
    """Candidate projects and the pairs that tie them.

    Attributes
    ----------
    projects
        One row per project (:data:`PROJECT_COLUMNS` and ``value``), sorted by
        ``project_id``; its position is the project's index in the model.
    exclusive
        Pairs ``a``, ``b`` (positions) of which at most one is built.
    precedence
        Rows ``first``, ``then`` (positions) and ``gap`` (years).
    """

    projects: pd.DataFrame
    exclusive: pd.DataFrame
    precedence: pd.DataFrame

    def after(self) -> pd.Series:
        """Per project, the project ids that must come first (``"; "``-joined, or ``""``)."""
        ids = self.projects["project_id"].to_numpy()
        out = pd.Series("", index=self.projects.index, dtype=object)
        pairs = self.precedence
        for then in sorted(set(pairs["then"].to_numpy(int).tolist())):
            firsts = pairs.loc[pairs["then"] == then, "first"].to_numpy(int)
            out.iloc[then] = "; ".join(sorted(ids[firsts]))
        return out


def project_value(poor: np.ndarray, need: np.ndarray, need_weight: float) -> np.ndarray:
    """Need-weighted poor people: ``poor × (1 − a + a · need / 100)``, ``a = need_weight``.

    With ``a = 0.5`` a poor person in a village of need 100 counts twice one in a village
    of need 0; with ``a = 0`` the value is the poor beneficiaries alone.
    """
    n = np.clip(np.nan_to_num(np.asarray(need, float)), 0.0, 100.0)
    return np.nan_to_num(np.asarray(poor, float)) * (1.0 - need_weight + need_weight * n / 100)


def _opex(rows: pd.DataFrame, iv: str) -> np.ndarray:
    """Yearly operating cost of each work: ``<iv>_opex_cny_per_year`` if given, else 0.

    Missing or negative values count as 0 (a work without a stated running cost).
    """
    col = f"{iv}_opex_cny_per_year"
    if col not in rows.columns:
        return np.zeros(len(rows))
    opex = pd.to_numeric(rows[col], errors="coerce").to_numpy(float)
    return np.clip(np.nan_to_num(opex), 0.0, None)


def opex_of(projects: pd.DataFrame) -> np.ndarray:
    """Per project, its yearly operating cost in CNY (0 when the column is absent)."""
    if "opex_cny_per_year" not in projects.columns:
        return np.zeros(len(projects))
    return np.nan_to_num(pd.to_numeric(projects["opex_cny_per_year"],
                                       errors="coerce").to_numpy(float))


def _works(tables: dict[str, pd.DataFrame], names: pd.Series,
           towns: pd.Series) -> list[pd.DataFrame]:
    """Costed works of each ranked table as project rows."""
    frames = []
    for iv, t in tables.items():
        unit = registry.get(iv).id_column
        works = needs_works(t[f"{iv}_option"], t[f"{iv}_capex_cny"])
        cost = pd.to_numeric(t[f"{iv}_capex_cny"], errors="coerce").to_numpy(float)
        unknown = works & ~np.isfinite(cost)
        if unknown.any():
            warn_data(f"plan: {int(unknown.sum())} {iv} works without a cost are left out of "
                      "the plan (give their cost parameters)", logger=logger)
        rows = t.loc[works & np.isfinite(cost)]
        vid = rows["village_id"].astype(str)
        frames.append(pd.DataFrame({
            "project_id": "P-" + iv + "-" + rows[unit].astype(str),
            "intervention": iv, "option": rows[f"{iv}_option"].astype(str),
            "unit_id": rows[unit].astype(str), "village_id": vid,
            "village_name": vid.map(names).fillna("").astype(str),
            "township_id": rows["township_id"].astype(str),
            "township_name": rows["township_id"].astype(str).map(towns).fillna("").astype(str),
            "cost_cny": pd.to_numeric(rows[f"{iv}_capex_cny"]).to_numpy(float),
            "beneficiaries": pd.to_numeric(rows[f"{iv}_beneficiaries"]).to_numpy(float),
            "poor_beneficiaries": pd.to_numeric(rows[f"{iv}_poor_beneficiaries"]).to_numpy(float),
            "need": pd.to_numeric(rows[f"{iv}_need"]).to_numpy(float),
            "rank": pd.to_numeric(rows[f"{iv}_rank"]).to_numpy(float),
            "opex_cny_per_year": _opex(rows, iv),
        }))
    return frames


def _moves(relocation: pd.DataFrame, villages: pd.DataFrame, names: pd.Series,
           towns: pd.Series) -> pd.DataFrame:
    """Relocation moves as project rows (poor: people × the village's poverty incidence)."""
    move = relocation[relocation["reloc_decision"].astype(str) == "relocate"]
    vid = move["village_id"].astype(str)
    incidence = villages.set_index(villages["village_id"].astype(str))["poverty_incidence"]
    pop = pd.to_numeric(move["pop"], errors="coerce").fillna(0.0).to_numpy(float)
    inc = pd.to_numeric(vid.map(incidence), errors="coerce").fillna(0.0).to_numpy(float)
    score = pd.to_numeric(move["reloc_score"], errors="coerce").fillna(0.0).to_numpy(float)
    return pd.DataFrame({
        "project_id": "P-" + RELOCATION + "-" + move["reloc_unit_id"].astype(str),
        "intervention": RELOCATION, "option": move["reloc_unit"].astype(str),
        "unit_id": move["reloc_unit_id"].astype(str), "village_id": vid,
        "village_name": vid.map(names).fillna("").astype(str),
        "township_id": move["township_id"].astype(str),
        "township_name": move["township_id"].astype(str).map(towns).fillna("").astype(str),
        "cost_cny": pd.to_numeric(move["reloc_move_cny"], errors="coerce").to_numpy(float),
        "beneficiaries": pop, "poor_beneficiaries": np.round(pop * inc, 1),
        "need": np.clip(score, 0.0, 1.0) * 100.0,
        "rank": pd.Series(-score).rank(method="first").to_numpy(float),
        "opex_cny_per_year": 0.0,
    })


def plan_candidates(
    tables: dict[str, pd.DataFrame],
    villages: pd.DataFrame,
    relocation: pd.DataFrame | None,
    config: PlanConfig,
) -> Candidates:
    """Collect the candidate projects and their exclusive and precedence pairs.

    Parameters
    ----------
    tables
        The priority stage's ranked tables by intervention
        (:attr:`contigmap.priority.run.PriorityResults.tables`).
    villages
        The village table (``village_id``, ``name``, ``township_id``, optional
        ``township_name``, ``poverty_incidence``).
    relocation
        The relocation stage's candidates (:attr:`RelocationPlan.candidates`), or None.
    config
        The plan settings (``need_weight``, ``precedence``).

    Returns
    -------
    Candidates
        Projects sorted by ``project_id``, with their pairs.
    """
    v = pd.DataFrame(villages)
    names = v.set_index(v["village_id"].astype(str))["name"].astype(str)
    tn = v["township_name"] if "township_name" in v.columns else pd.Series("", index=v.index)
    towns = pd.Series(tn.fillna("").astype(str).to_numpy(),
                      index=v["township_id"].astype(str)).groupby(level=0).first()
    frames = _works(tables, names, towns)
    if relocation is not None and len(relocation) and "reloc_decision" in relocation.columns:
        moves = _moves(pd.DataFrame(relocation), v, names, towns)
        frames.append(moves[np.isfinite(moves["cost_cny"]) & (moves["cost_cny"] > 0)])
    frames = [f for f in frames if len(f)]
    projects = (pd.concat(frames, ignore_index=True) if frames else
                pd.DataFrame({c: pd.Series(dtype=object) for c in PROJECT_COLUMNS}))
    projects = projects.sort_values("project_id", kind="stable").reset_index(drop=True)
    projects["value"] = project_value(projects["poor_beneficiaries"].to_numpy(float),
                                      projects["need"].to_numpy(float), config.need_weight)
    return Candidates(projects=projects, exclusive=_exclusive(projects),
                      precedence=_precedence(projects, config))


def _exclusive(projects: pd.DataFrame) -> pd.DataFrame:
    """Relocation of a unit vs the in-place works on it (a village move: all its works)."""
    pos = pd.Series(np.arange(len(projects)), index=projects.index)
    is_move = projects["intervention"] == RELOCATION
    rows: list[tuple[int, int]] = []
    for i in np.flatnonzero(is_move.to_numpy()):
        p = projects.iloc[i]
        same = (~is_move) & (projects["unit_id"] == p["unit_id"])
        if p["option"] == "village":
            same |= (~is_move) & (projects["village_id"] == p["village_id"])
        rows += [(int(i), int(j)) for j in pos[same]]
    return pd.DataFrame(rows, columns=["a", "b"], dtype=np.int64)


def _precedence(projects: pd.DataFrame, config: PlanConfig) -> pd.DataFrame:
    """``first`` → ``then`` pairs within each village, by the configured rules."""
    rows: list[tuple[int, int, int]] = []
    pos = np.arange(len(projects))
    for rule in config.precedence:
        f = (projects["intervention"] == rule.first).to_numpy().copy()
        t = (projects["intervention"] == rule.then).to_numpy().copy()
        if rule.first_options:
            f &= projects["option"].isin(rule.first_options).to_numpy()
        if rule.then_options:
            t &= projects["option"].isin(rule.then_options).to_numpy()
        firsts = pd.DataFrame({"first": pos[f], "village_id": projects["village_id"][f]})
        thens = pd.DataFrame({"then": pos[t], "village_id": projects["village_id"][t]})
        pairs = firsts.merge(thens, on="village_id")
        rows += [(int(a), int(b), rule.gap_years)
                 for a, b in zip(pairs["first"], pairs["then"], strict=True) if a != b]
    out = pd.DataFrame(sorted(set(rows)), columns=["first", "then", "gap"], dtype=np.int64)
    return out
