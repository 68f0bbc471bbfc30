"""The cross-sector multi-year investment plan (``contigmap plan``).

One budget per year (and per funding source) across every intervention and relocation:
:mod:`~contigmap.plan.config` (the ``plan:`` settings), :mod:`~contigmap.plan.candidates`
(projects and the pairs that tie them), :mod:`~contigmap.plan.model` (the MILP, HiGHS),
:mod:`~contigmap.plan.greedy` (fallback, rankings, sources), :mod:`~contigmap.plan.run`
(the plan and its comparison), :mod:`~contigmap.plan.outputs`,
:mod:`~contigmap.plan.report` and :mod:`~contigmap.plan.planmap` (files; the web map in
:mod:`contigmap.render.plan_map`), :mod:`~contigmap.plan.orchestrate` (the command as one
call), and for an area :mod:`~contigmap.plan.lagrange` (county budgets, or one pooled
budget by Lagrangian relaxation) and :mod:`~contigmap.plan.area_run`. See ``docs/plan.md``.
"""
