"""Benchmark the plan's MILP (HiGHS): solve time and gap on the demo county, vs greedy.

Run::

    .venv/bin/python benchmarks/bench_plan.py                  # the demo county
    .venv/bin/python benchmarks/bench_plan.py --replicate 70 --time-limit 600

The demo county (layers/huayuan) is prepared once with the pipeline's stages; then, in
the same run:

* the MILP (:func:`contigmap.plan.model.solve_plan`, packaged ``plan.yaml``): wall time,
  status, relative gap and bound;
* the greedy fallback (:func:`contigmap.plan.model.greedy_plan`): time and objective, as a
  ratio of the MILP's (the baseline: greedy / MILP objective ≤ 1);
* the per-intervention rankings with the same money (``plan_vs_greedy``): poor
  beneficiaries and objective as ratios plan / rankings.

``--replicate N`` copies the county's candidate projects N times (new ids, yearly budget
× N) under one budget, for the single MILP alone.

``--area N`` is the area case (:mod:`contigmap.plan.lagrange`): N counties made from the
demo's candidates with seeded perturbations (costs and poor beneficiaries × U(0.8, 1.2);
``--townships K`` keeps K random demo townships per county), planned with county budgets
(the area money split by poor people; each county exact), with one pooled budget
(Lagrangian relaxation, ``--iterations`` steps, on ``--workers`` Dask workers), and, in
the same run, as the single MILP on the whole area (``--mono-limit`` s) as the baseline;
times and objectives as ratios. Targets of issue #17: county plan optimal in under 60 s;
area plan within 1 % in under 10 min. Numbers in docs/plan.md.

Baseline (2 shared cores, 2026-12-02, six interventions): demo — 2,340 candidates, MILP
5.1 s, optimal within mip_rel_gap 0.1 % (gap 0.059 %); greedy / MILP objective 0.990
(< 0.1 s); plan / rankings poor beneficiaries 1.686, objective 1.508. (Before health and
schooling: 2,061 candidates, 12.3 s, gap 0.076 %, ratios 1.270 and 1.212.)
``--replicate 10 --time-limit 120`` (four interventions) — no MILP plan in 120 s; greedy
kept, gap 3.18 % to the LP bound (237 s in all, the LP bound included); with 300 s
HiGHS' incumbent was 6.8 % from its bound.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from contigmap.plan.candidates import Candidates, plan_candidates, project_value
from contigmap.plan.config import PlanConfig, load_plan_config
from contigmap.plan.greedy import ranking_greedy
from contigmap.plan.model import evaluate, greedy_plan, solve_plan

ROOT = Path(__file__).resolve().parents[1]


def _replicate(cand: Candidates, n: int) -> Candidates:
    frames, excl, prec = [], [], []
    size = len(cand.projects)
    for k in range(n):
        p = cand.projects.copy()
        for col in ("project_id", "unit_id", "village_id", "township_id"):
            p[col] = f"C{k:02d}-" + p[col].astype(str)
        frames.append(p)
        excl.append(cand.exclusive + k * size)
        prec.append(cand.precedence.assign(first=cand.precedence["first"] + k * size,
                                           then=cand.precedence["then"] + k * size))
    return Candidates(pd.concat(frames, ignore_index=True), pd.concat(excl, ignore_index=True),
                      pd.concat(prec, ignore_index=True))


def _subset(cand: Candidates, keep: np.ndarray) -> Candidates:
    """The candidates where ``keep`` holds, with their pairs renumbered."""
    pos = np.full(len(keep), -1)
    pos[keep] = np.arange(int(keep.sum()))
    ex = cand.exclusive[keep[cand.exclusive["a"]] & keep[cand.exclusive["b"]]]
    pr = cand.precedence[keep[cand.precedence["first"]] & keep[cand.precedence["then"]]]
    return Candidates(cand.projects[keep].reset_index(drop=True),
                      ex.assign(a=pos[ex["a"]], b=pos[ex["b"]]).reset_index(drop=True),
                      pr.assign(first=pos[pr["first"]], then=pos[pr["then"]])
                      .reset_index(drop=True))


def _perturbed(cand: Candidates, n: int, seed: int, townships: int) -> list[Candidates]:
    """``n`` counties: the demo's candidates, costs and poor beneficiaries × U(0.8, 1.2) each.

    With ``townships`` > 0 each county keeps that many of the demo's townships, drawn at
    random (smaller counties, for a loaded machine).
    """
    rng = np.random.default_rng(seed)
    towns = np.array(sorted(set(cand.projects["township_id"].astype(str))))
    out = []
    for _ in range(n):
        c = cand
        if townships > 0:
            pick = rng.choice(towns, size=min(townships, len(towns)), replace=False)
            c = _subset(cand, cand.projects["township_id"].astype(str).isin(pick).to_numpy())
        p = c.projects.copy()
        p["cost_cny"] = np.round(p["cost_cny"] * rng.uniform(0.8, 1.2, len(p)), 0)
        p["poor_beneficiaries"] = np.round(
            p["poor_beneficiaries"] * rng.uniform(0.8, 1.2, len(p)), 1)
        p["value"] = project_value(p["poor_beneficiaries"].to_numpy(float),
                                   p["need"].to_numpy(float), 0.5)
        out.append(Candidates(p, c.exclusive, c.precedence))
    return out


def area_case(cand: Candidates, cfg: PlanConfig, args: argparse.Namespace) -> None:
    """The area case: county budgets, the pooled budget, and the single MILP as baseline."""
    from contigmap.area.engine import ExecutionOptions
    from contigmap.plan.area_run import task_mapper
    from contigmap.plan.lagrange import combine, county_configs, pooled_plan, solve_counties

    n = args.area
    cands = _perturbed(cand, n, args.seed, args.townships)
    share = float(np.mean([len(c.projects) for c in cands])) / len(cand.projects)
    codes = [f"C{k:02d}" for k in range(n)]
    poor = [float(c.projects["poor_beneficiaries"].sum()) for c in cands]
    area_cfg = load_plan_config({"yearly_budget_cny": float(cfg.yearly_budget_cny or 0) * n
                                 * share,
                                 "time_limit_s": args.time_limit,
                                 "lagrangian_iterations": args.iterations,
                                 "mip_rel_gap": cfg.mip_rel_gap})
    print(f"area: {n} counties, {sum(len(c.projects) for c in cands):,} candidates "
          f"({share:.2f} of the demo's per county), yearly budget "
          f"{area_cfg.yearly_budget_cny:,.0f}, {args.workers} worker(s)")
    with task_mapper(ExecutionOptions(workers=args.workers), n) as mapper:
        t0 = time.perf_counter()
        county, sols = solve_counties(cands, county_configs(area_cfg, codes, poor), mapper)
        t_county = time.perf_counter() - t0
        print(f"county budgets: {t_county:.1f} s, status {county.status}, objective "
              f"{county.objective:,.1f}, worst county gap {county.gap:.4%}, slowest county "
              f"{max(s.seconds for s in sols):.1f} s")
        t1 = time.perf_counter()
        pooled = pooled_plan(cands, codes, area_cfg, county.years, mapper)
        t_pool = time.perf_counter() - t1
    print(f"pooled (Lagrangian): {t_pool:.1f} s after the county plans ({t_county + t_pool:.1f} "
          f"s in all), {pooled.iterations} steps, objective {pooled.objective:,.1f}, bound "
          f"{pooled.bound:,.1f}, gap {pooled.gap:.4%}")
    for k, (dual, best) in enumerate(pooled.history, start=1):
        print(f"  step {k}: L {dual:,.1f}, best plan {best:,.1f}")
    if args.mono_limit <= 0:
        return
    area = combine(cands, codes)
    mono_cfg = area_cfg.model_copy(update={"time_limit_s": args.mono_limit,
                                           "max_binaries": 10**8})
    t2 = time.perf_counter()
    mono = solve_plan(area, mono_cfg)
    t_mono = time.perf_counter() - t2
    gap = "n/a" if mono.mip_gap is None else f"{mono.mip_gap:.4%}"
    print(f"single MILP (baseline, {args.mono_limit:.0f} s limit): {t_mono:.1f} s, method "
          f"{mono.method}, status {mono.status}, objective {mono.objective:,.1f}, bound "
          f"{mono.bound or float('nan'):,.1f}, gap {gap}")
    print(f"ratios: pooled / single MILP objective {pooled.objective / mono.objective:.4f}; "
          f"time {(t_county + t_pool) / t_mono:.3f}; county budgets / pooled objective "
          f"{county.objective / pooled.objective:.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--region", type=Path, default=ROOT / "layers" / "huayuan" / "region.yaml")
    ap.add_argument("--replicate", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--mip-rel-gap", type=float, default=None)
    ap.add_argument("--area", type=int, default=0,
                    help="the area case: this many perturbed copies of the demo county")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--townships", type=int, default=0,
                    help="area case: each county keeps this many random demo townships (0: all)")
    ap.add_argument("--mono-limit", type=float, default=600.0,
                    help="time limit of the single-MILP baseline (0: skip it)")
    args = ap.parse_args()
    from contigmap.pipeline import prepare

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        state = prepare(args.region)
    print(f"prepare: {time.perf_counter() - t0:.1f} s")
    assert state.priorities is not None
    base = load_plan_config()
    over: dict[str, object] = {"time_limit_s": args.time_limit}
    if args.mip_rel_gap is not None:
        over["mip_rel_gap"] = args.mip_rel_gap
    if args.replicate > 1:
        over["yearly_budget_cny"] = float(base.yearly_budget_cny or 0) * args.replicate
    cfg = load_plan_config(over)
    reloc = state.relocation.candidates if state.relocation is not None else None
    cand = plan_candidates(state.priorities.tables, state.villages, reloc, cfg)
    if args.area:
        area_case(cand, cfg, args)
        return
    if args.replicate > 1:
        cand = _replicate(cand, args.replicate)
    print(f"candidates: {len(cand.projects):,}; binaries {len(cand.projects) * cfg.n_years:,}; "
          f"exclusive pairs {len(cand.exclusive):,}; precedence pairs {len(cand.precedence):,}")
    t1 = time.perf_counter()
    sol = solve_plan(cand, cfg)
    t_milp = time.perf_counter() - t1
    gap = "n/a" if sol.mip_gap is None else f"{sol.mip_gap:.4%}"
    print(f"MILP: {t_milp:.1f} s, method {sol.method}, status {sol.status}, gap {gap}, "
          f"objective {sol.objective:,.1f}, bound {sol.bound or float('nan'):,.1f}")
    t2 = time.perf_counter()
    gr = greedy_plan(cand, cfg, bound=False)
    t_greedy = time.perf_counter() - t2
    print(f"greedy fallback: {t_greedy:.1f} s, objective {gr.objective:,.1f}, "
          f"ratio greedy/MILP {gr.objective / sol.objective:.4f}")
    money = float(sum(cfg.per_year(cfg.yearly_budget_cny) or []))
    funded, _ = ranking_greedy(cand, money)
    poor = cand.projects["poor_beneficiaries"].to_numpy(float)
    plan_poor = poor[sol.year_index >= 0].sum()
    rank_poor = poor[funded].sum()
    obj_rank = evaluate(cand, np.where(funded, 0, -1).astype(np.int64), cfg, earliness=False)
    obj_plan = evaluate(cand, sol.year_index, cfg, earliness=False)
    print(f"same money {money:,.0f} CNY: poor beneficiaries plan {plan_poor:,.0f} vs rankings "
          f"{rank_poor:,.0f} (ratio {plan_poor / max(rank_poor, 1):.3f}); objective ratio "
          f"{obj_plan / max(obj_rank, 1e-9):.3f}")


if __name__ == "__main__":
    main()
