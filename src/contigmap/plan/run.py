"""The plan end to end: candidates → MILP → plan tables and the comparison with the rankings.

Typical use::

    from contigmap.pipeline import prepare
    from contigmap.plan.run import plan_from_state
    from contigmap.plan.outputs import write_plan_outputs
    result = plan_from_state(prepare("layers/huayuan/region.yaml"))
    write_plan_outputs(result, "out/plan")

(``contigmap plan REGION -o out/plan`` does this with a staged output folder and a run
manifest.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from contigmap.errors import ValidationError
from contigmap.plan.candidates import Candidates, plan_candidates
from contigmap.plan.config import PlanConfig, load_plan_config
from contigmap.plan.greedy import assign_sources, ranking_greedy
from contigmap.plan.model import PlanSolution, chosen, evaluate, solve_plan

if TYPE_CHECKING:
    from contigmap.state import RegionState

__all__ = ["PLAN_COLUMNS", "PlanResult", "make_plan", "plan_from_state", "plan_result"]

logger = logging.getLogger(__name__)

PLAN_COLUMNS = ["project_id", "year", "village_id", "village_name", "township_id",
                "township_name", "unit_id", "intervention", "option", "cost_cny",
                "funding_source", "beneficiaries", "poor_beneficiaries", "need", "after",
                "opex_cny_per_year"]
"""Columns of ``plan_projects.csv`` (the schema shared with ``contigmap monitor``)."""


@dataclass
class PlanResult:
    """The plan and what it is compared with.

    Attributes
    ----------
    config
        The settings used.
    candidates
        Every candidate project and the pairs that tie them.
    solution
        The solver's plan, status, objective, bound and gap.
    projects
        ``plan_projects``: one row per chosen project (:data:`PLAN_COLUMNS`).
    summary
        ``plan_summary``: per township, year and intervention.
    vs_greedy
        ``plan_vs_greedy``: the joint plan and the per-intervention rankings, same money.
    notes
        Plain-language lines for the report and the CLI.
    """

    config: PlanConfig
    candidates: Candidates
    solution: PlanSolution
    projects: pd.DataFrame
    summary: pd.DataFrame
    vs_greedy: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def total_money(config: PlanConfig) -> float:
    """Money of the whole plan period: the yearly budgets, else the sources' sum."""
    budget = config.per_year(config.yearly_budget_cny)
    if budget is not None:
        return float(sum(budget))
    return float(sum(sum(config.per_year(s.yearly_cny) or []) for s in config.sources))


def _summary(projects: pd.DataFrame) -> pd.DataFrame:
    """Projects, cost and poor beneficiaries per township, year and intervention."""
    keys = ["township_id", "township_name", "year", "intervention"]
    if not len(projects):
        return pd.DataFrame(columns=[*keys, "projects", "cost_cny", "poor_beneficiaries"])
    return (projects.groupby(keys, sort=True)
            .agg(projects=("project_id", "size"), cost_cny=("cost_cny", "sum"),
                 poor_beneficiaries=("poor_beneficiaries", "sum"))
            .reset_index())


def _row(method: str, cand: Candidates, take: np.ndarray, objective: float,
         money: float) -> dict[str, Any]:
    p = cand.projects[take]
    return {"method": method, "money_available_cny": round(money, 0),
            "money_spent_cny": round(float(p["cost_cny"].sum()), 0), "projects": len(p),
            "villages": int(p["village_id"].nunique()),
            "beneficiaries": round(float(p["beneficiaries"].sum()), 1),
            "poor_beneficiaries": round(float(p["poor_beneficiaries"].sum()), 1),
            "objective": round(objective, 3)}


def _vs_greedy(cand: Candidates, sol: PlanSolution, config: PlanConfig) -> pd.DataFrame:
    """Compare the joint plan with the per-intervention rankings, same total money.

    ``objective`` is the plan's objective without the earliness bonus (need-weighted poor
    people with diminishing returns), the same function for both rows.
    """
    money = total_money(config)
    funded, note = ranking_greedy(cand, money)
    plan = _row("joint_plan", cand, sol.year_index >= 0,
                evaluate(cand, sol.year_index, config, earliness=False), money)
    greedy = _row("per_intervention_greedy", cand, funded,
                  evaluate(cand, np.where(funded, 0, -1).astype(np.int64), config,
                           earliness=False), money)
    diff = {k: (round(plan[k] - greedy[k], 3) if isinstance(plan[k], int | float) else "")
            for k in plan}
    diff["method"] = "difference"
    out = pd.DataFrame([plan, greedy, diff])
    out["note"] = ["one budget across all works and years; crews, precedence, relocation",
                   f"each of {', '.join(note['interventions'])} funds down its own ranking "
                   f"with an equal share ({note['share_cny']:,.0f} CNY); no years, crews or "
                   "precedence", "joint plan minus rankings"]
    return out


def make_plan(
    tables: dict[str, pd.DataFrame],
    villages: pd.DataFrame,
    relocation: pd.DataFrame | None,
    config: PlanConfig | None = None,
) -> PlanResult:
    """Choose the plan's projects and years and compare it with the rankings.

    Parameters
    ----------
    tables
        Ranked tables by intervention (the priority stage's).
    villages
        The village table.
    relocation
        The relocation stage's candidates (``None``: no relocation moves).
    config
        Plan settings; the packaged defaults when omitted.

    Returns
    -------
    PlanResult
        The plan tables and the solver's report.
    """
    cfg = config or load_plan_config()
    cand = plan_candidates(tables, villages, relocation, cfg)
    return plan_result(cand, solve_plan(cand, cfg), cfg)


def plan_result(cand: Candidates, sol: PlanSolution, cfg: PlanConfig) -> PlanResult:
    """Build the plan tables of a solved plan and compare it with the rankings.

    Parameters
    ----------
    cand
        The candidate projects.
    sol
        Their plan (:func:`contigmap.plan.model.solve_plan`, or an area plan's share).
    cfg
        The settings the plan was made under (its budget is the comparison's money).

    Returns
    -------
    PlanResult
        The plan tables and the solver's report.
    """
    picked = chosen(cand, sol, cfg)
    picked["funding_source"] = assign_sources(picked, cfg)
    projects = picked[PLAN_COLUMNS].reset_index(drop=True)
    result = PlanResult(config=cfg, candidates=cand, solution=sol, projects=projects,
                        summary=_summary(projects), vs_greedy=_vs_greedy(cand, sol, cfg))
    result.notes = _notes(result)
    for line in result.notes:
        logger.info("plan: %s", line)
    return result


def _notes(result: PlanResult) -> list[str]:
    """Headline lines: the solver, the money, the comparison with the rankings."""
    sol, vs = result.solution, result.vs_greedy.set_index("method")
    gap = "unknown" if sol.mip_gap is None else f"{sol.mip_gap:.3%}"
    lines = [f"solver: {sol.method}, status {sol.status}, gap {gap}, "
             f"{len(result.candidates.projects)} candidates, {len(result.projects)} chosen"]
    if "joint_plan" in vs.index and len(result.candidates.projects):
        jp = {str(k): v for k, v in vs.loc["joint_plan"].to_dict().items()}
        gr = {str(k): v for k, v in vs.loc["per_intervention_greedy"].to_dict().items()}
        more = float(jp["poor_beneficiaries"]) - float(gr["poor_beneficiaries"])
        verdict = (f"{abs(more):,.0f} more" if more > 0 else f"{abs(more):,.0f} fewer"
                   if more < 0 else "the same")
        lines.append(
            f"same money ({float(jp['money_available_cny']):,.0f} CNY): the joint plan serves "
            f"{float(jp['poor_beneficiaries']):,.0f} poor beneficiaries, the per-intervention "
            f"rankings {float(gr['poor_beneficiaries']):,.0f} ({verdict}); "
            f"objective {float(jp['objective']):,.1f} vs {float(gr['objective']):,.1f}")
    return lines


def plan_from_state(state: RegionState, config: PlanConfig | None = None) -> PlanResult:
    """:func:`make_plan` on a prepared state (priorities needed; relocation when planned).

    Raises
    ------
    ValidationError
        The state has no priorities (no intervention could be ranked).
    """
    if state.priorities is None:
        raise ValidationError("plan: no intervention was ranked for this region (see "
                              "`contigmap validate`); the plan needs the priority tables")
    reloc = state.relocation.candidates if state.relocation is not None else None
    return make_plan(state.priorities.tables, state.villages, reloc, config)
