"""The cross-sector multi-year investment plan (``contigmap plan``).

One budget per year (and per funding source) across every intervention and relocation:
:mod:`~contigmap.plan.config` (the ``plan:`` settings), :mod:`~contigmap.plan.candidates`
(projects and the pairs that tie them), :mod:`~contigmap.plan.model` (the MILP, HiGHS),
:mod:`~contigmap.plan.greedy` (fallback, rankings, sources), :mod:`~contigmap.plan.run`
(end to end), :mod:`~contigmap.plan.outputs` and :mod:`~contigmap.plan.report` (files).
See ``docs/plan.md``.
"""
