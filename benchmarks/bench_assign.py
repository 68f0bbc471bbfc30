"""Benchmark: the relocation assignment, reduced-cost fixing against whole-model HiGHS.

A county-like instance (default: 180 origins of ~150 people in households of 3 and 4,
28 sites, travel times on a grid of roads with a leave-the-township penalty, capacities
1.6 times the people, unevenly spread, like the 14k-edge county 990001) solved three
ways in one run:

* ``new``: :func:`contigmap.relocation.assign.assign_households` as it is (phase 1
  proven by the greedy plan when it places everyone reachable, else by phase 2 reaching
  the LP bound; the MILPs by reduced-cost fixing, :mod:`contigmap.relocation._rcfix`);
* ``whole phase 2``: the same with every MILP given to HiGHS as one whole model;
* ``old``: phase 1 then phase 2, each a whole model (neither the greedy plan nor the
  LP bound consulted first), the way the assignment was solved before.

All three must reach the same people count and cost (checked); the plans may differ
among equally optimal ones. Times are the median of ``--repeats`` runs, printed with
the ratio to ``new``.

Run::

    .venv/bin/python benchmarks/bench_assign.py
    .venv/bin/python benchmarks/bench_assign.py --origins 60 --sites 10   # quick
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import contigmap.relocation.assign as assign_mod
from _timing import timed
from contigmap.relocation.assign import assign_households, households_from_counts


def make_instance(n_o: int, n_s: int, seed: int,
                  cap_ratio: float = 1.6) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Households, capacities (``cap_ratio`` x the people) and costs of a county."""
    rng = np.random.default_rng(seed)
    side = 60.0  # km
    o_xy = rng.random((n_o, 2)) * side
    s_xy = rng.random((n_s, 2)) * side
    # travel on a grid of roads (Manhattan distance) at 40 km/h, in minutes, rounded to
    # 0.1 min like the road graph's times: many origins share exact cost differences
    minutes = np.round(np.abs(o_xy[:, None, :] - s_xy[None, :, :]).sum(axis=2) * 1.5, 1)
    town = lambda xy: (xy[:, 0] // 15).astype(int) * 4 + (xy[:, 1] // 15).astype(int)  # noqa: E731
    cost = minutes + 30.0 * (town(o_xy)[:, None] != town(s_xy)[None, :])
    cost[minutes > 120] = np.inf
    origins = [f"O{i:03d}" for i in range(n_o)]
    pop = rng.integers(60, 240, n_o)
    hh = households_from_counts(origins, pop, np.round(pop / 3.4))
    share = rng.random(n_s) + 0.25
    cap = pd.Series(np.floor(share / share.sum() * cap_ratio * pop.sum()).astype(np.int64),
                    index=[f"S{k:02d}" for k in range(n_s)])
    return hh, cap, pd.DataFrame(cost, index=origins, columns=cap.index)


def _whole(c: Any, a: Any, lo: Any, hi: Any, ub: Any, *, time_limit: float,
           solve: Callable[..., Any]) -> Any:
    """One HiGHS solve of the whole programme (no reduced-cost fixing)."""
    return solve(np.zeros(c.size), ub, time_limit)


def _no_greedy(g_size: Any, g_n: Any, gi: Any, *args: Any) -> Any:
    """A greedy plan placing nobody: phase 1 always goes to the solver."""
    return np.zeros(gi.size, np.int64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--origins", type=int, default=180)
    parser.add_argument("--sites", type=int, default=28)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cap-ratio", type=float, default=1.6,
                        help="site capacity / people (the 14k-edge county: 1.6)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    hh, cap, cost = make_instance(args.origins, args.sites, args.seed,
                                   args.cap_ratio)
    print(f"{len(hh)} households ({int(hh['members'].sum())} people) from {args.origins} "
          f"origins, {args.sites} sites (capacity {int(cap.sum())}), "
          f"{int(np.isfinite(cost.to_numpy()).sum())} offered pairs")
    variants: list[tuple[str, dict[str, Any]]] = [
        ("new", {}),
        ("whole phase 2", {"solve_by_fixing": _whole}),
        ("old", {"solve_by_fixing": _whole, "greedy_plan": _no_greedy,
                 "_people_lp_bound": lambda *a: None}),
    ]
    rows = []
    for name, patches in variants:
        real = {k: getattr(assign_mod, k) for k in patches}
        for k, v in patches.items():
            setattr(assign_mod, k, v)
        try:
            secs, res = timed(lambda: assign_households(hh, cap, cost), args.repeats)
        finally:
            for k, v in real.items():
                setattr(assign_mod, k, v)
        rows.append((name, secs, res))
    new = rows[0]
    for name, secs, res in rows:
        same = (res.people_assigned == new[2].people_assigned
                and abs(res.total_cost - new[2].total_cost) <= 1e-9 * max(1.0, new[2].total_cost))
        print(f"{name:>14}: {secs:7.3f} s  ratio {secs / new[1]:5.1f}x  people "
              f"{res.people_assigned}  cost {res.total_cost:.4f}  {res.solver.status}"
              f"{'' if same else '  DIFFERS from new'}")


if __name__ == "__main__":
    main()
