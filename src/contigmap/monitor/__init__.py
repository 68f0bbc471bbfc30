"""Monitoring a multi-year plan (issue #17): progress, completed works, county assessment.

Typical use::

    from contigmap import monitor
    monitor.write_template("progress.xlsx")                 # the empty workbook
    plan = monitor.read_plan("out/plan")
    progress = monitor.read_progress("progress.xlsx", plan)
    compared = monitor.compare_progress(plan, progress, as_of=2018)
    monitor.run_monitor("layers/huayuan/region.yaml", "out/monitor", plan="out/plan",
                        progress="progress.xlsx")

Modules: :mod:`~contigmap.monitor.progress` (the workbook's columns and reader),
:mod:`~contigmap.monitor.template` (writer), :mod:`~contigmap.monitor.compare` (plan vs
progress), :mod:`~contigmap.monitor.apply` (completed works applied, guarantees),
:mod:`~contigmap.monitor.assess` (county assessment), :mod:`~contigmap.monitor.report`
(chart, page, map layers), :mod:`~contigmap.monitor.run` (the command),
:mod:`~contigmap.monitor.demo_progress` (a synthetic workbook for the demo).
"""

from __future__ import annotations

from contigmap.monitor.apply import CompletedWorks, apply_completed, guarantees
from contigmap.monitor.assess import assess, rank_counties
from contigmap.monitor.compare import by_year, compare_progress, default_as_of
from contigmap.monitor.demo_progress import demo_progress
from contigmap.monitor.progress import read_progress
from contigmap.monitor.run import read_plan, run_monitor
from contigmap.monitor.template import write_progress_workbook, write_template

__all__ = [
    "CompletedWorks",
    "apply_completed",
    "assess",
    "by_year",
    "compare_progress",
    "default_as_of",
    "demo_progress",
    "guarantees",
    "rank_counties",
    "read_plan",
    "read_progress",
    "run_monitor",
    "write_progress_workbook",
    "write_template",
]
