"""The planning cycle on one region: plan → reported progress → monitoring.

``contigmap demo`` shows the whole cycle the policy asks for on the demo county: the
multi-year plan under one budget (:func:`contigmap.plan.orchestrate.run_plan`), a
synthetic progress workbook as a county would report it — some projects late, one over
cost (:func:`contigmap.monitor.demo_progress.demo_progress`) — and the monitoring of the
plan against it (:func:`contigmap.monitor.run.run_monitor`). Each step writes its own
folder with its own manifest beside the run's outputs; the workbook is the monitoring
step's recorded input.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from contigmap.io.write import atomic_path

__all__ = ["DEMO_AS_OF", "CycleOutputs", "run_cycle"]

logger = logging.getLogger(__name__)

DEMO_AS_OF = 2019
"""The demo's reporting year: the plan runs 2016–2020, so 2020's projects are still due."""


@dataclass(frozen=True)
class CycleOutputs:
    """Folders and files the cycle wrote."""

    plan_dir: Path
    progress_xlsx: Path
    monitor_dir: Path


def run_cycle(region_path: str | Path, out_dir: str | Path, *, seed: int = 17,
              as_of: int = DEMO_AS_OF, offline: bool = True,
              force: bool = False) -> CycleOutputs:
    """Plan the region, write a synthetic progress workbook and monitor the plan against it.

    Parameters
    ----------
    region_path
        The region manifest.
    out_dir
        Folder that receives ``plan/``, ``progress/progress_demo.xlsx`` and ``monitor/``.
    seed
        Seed of the synthetic progress (which projects are late, which one is over cost).
    as_of
        Reporting year of the progress.
    offline, force
        As for ``contigmap run``.

    Returns
    -------
    CycleOutputs
        Where the three steps wrote.
    """
    from contigmap.monitor.demo_progress import demo_progress
    from contigmap.monitor.run import read_plan, run_monitor
    from contigmap.plan.orchestrate import run_plan

    out = Path(out_dir)
    plan_dir, monitor_dir = out / "plan", out / "monitor"
    run_plan(region_path, plan_dir, force=force)
    projects = read_plan(plan_dir)
    progress = out / "progress" / "progress_demo.xlsx"
    progress.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(progress) as tmp:
        rows = demo_progress(projects, tmp, seed=seed, as_of=as_of)
    logger.info("cycle: %d planned projects, %d reported in %s", len(projects), len(rows),
                progress)
    run_monitor(region_path, monitor_dir, plan=plan_dir, progress=progress, as_of=as_of,
                offline=offline, force=force)
    return CycleOutputs(plan_dir, progress, monitor_dir)
