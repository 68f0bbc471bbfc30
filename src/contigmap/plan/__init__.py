"""The cross-sector multi-year investment plan (``contigmap plan``).

One budget per year (and per funding source) across every intervention and relocation:
:mod:`~contigmap.plan.config` (the ``plan:`` settings), :mod:`~contigmap.plan.candidates`
(projects and the pairs that tie them), :mod:`~contigmap.plan.model` (the MILP, HiGHS),
:mod:`~contigmap.plan.greedy` (fallback, rankings, sources), :mod:`~contigmap.plan.run`
(the plan and its comparison), :mod:`~contigmap.plan.outputs`,
:mod:`~contigmap.plan.report` and :mod:`~contigmap.plan.planmap` (files), and
:mod:`~contigmap.plan.orchestrate` (the command as one call). See ``docs/plan.md``.
"""
