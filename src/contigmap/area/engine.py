"""Running the counties of an area: in this process, or as tasks on a Dask cluster.

Each county is one task, :func:`run_county`: the same :func:`contigmap.pipeline.run` that
``contigmap run region.yaml`` calls, writing the county's folder. Counties share nothing
while they run, so they are independent tasks of :func:`contigmap.tasks.map_tasks`: in
this process, or on a ``dask.distributed`` cluster (a LocalCluster of worker processes,
or an existing cluster by its scheduler address).
Every county's outputs depend only on its inputs, so a run on any number of workers
writes the same bytes as the serial run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contigmap.errors import ContigmapError
from contigmap.tasks import ExecutionOptions, map_tasks

__all__ = [
    "AreaGraphJob",
    "CountyJob",
    "CountyOutcome",
    "CountyRunError",
    "ExecutionOptions",
    "run_county",
    "run_jobs",
    "run_task",
]

logger = logging.getLogger(__name__)

CountyProgress = Callable[[int, int, str], None]
"""Called with (counties done, counties in all, code of the county just done)."""


class CountyRunError(ContigmapError, RuntimeError):
    """A county of an area failed; the message names it and gives the county's own error."""


@dataclass(frozen=True)
class CountyJob:
    """One county task: what :func:`run_county` needs (picklable, sent to a worker).

    ``options`` are keyword arguments of :func:`contigmap.pipeline.run` (season, config,
    priority_config, offline, basemap, tianditu_key, strict).
    """

    code: str
    name: str
    region_path: Path
    out_dir: Path
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CountyOutcome:
    """What a county task returns: headline figures, seconds and peak MB per stage."""

    code: str
    summary: dict[str, Any]
    timings_s: dict[str, float]
    peak_rss_mb: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AreaGraphJob:
    """The cross-county task: build the area graph of ``area_path`` (prefecture cities).

    It reads only inputs, so it runs beside the counties instead of after them.
    """

    area_path: Path


def run_task(job: CountyJob | AreaGraphJob) -> CountyOutcome | Any:
    """Run one task of an area: a county (:func:`run_county`) or the area graph.

    The area graph task returns :class:`contigmap.area.prefecture.AreaGraph` (or None).
    """
    if isinstance(job, AreaGraphJob):
        from contigmap.area.manifest import load_area
        from contigmap.area.prefecture import build_area_graph

        return build_area_graph(load_area(job.area_path))
    return run_county(job)


def _task_label(job: CountyJob | AreaGraphJob) -> str:
    return "area graph" if isinstance(job, AreaGraphJob) else job.code


def run_county(job: CountyJob) -> CountyOutcome:
    """Run the whole pipeline on one county into ``job.out_dir`` (a Dask task).

    Raises
    ------
    CountyRunError
        Any :class:`~contigmap.errors.ContigmapError` of the county's run, as one line
        naming the county.
    """
    from contigmap.gcpause import collect_and_freeze
    from contigmap.heap import trim_heap
    from contigmap.pipeline import run

    logger.info("county %s (%s): starting", job.code, job.name)
    try:
        result = run(job.region_path, job.out_dir, **job.options)
    except CountyRunError:
        raise
    except ContigmapError as err:
        msg = f"county {job.code} ({job.name}): {err}"
        raise CountyRunError(msg) from None
    finally:  # a worker runs county after county: free this one's cycles and heap now
        collect_and_freeze()
        trim_heap()
    return CountyOutcome(code=job.code, summary=_plain(result.summary),
                         timings_s=dict(result.timings_s),
                         peak_rss_mb=dict(result.peak_rss_mb))


def _plain(summary: dict[str, Any]) -> dict[str, Any]:
    """Headline figures as Python numbers and text (cheap to send between processes)."""
    out: dict[str, Any] = {}
    for key, value in summary.items():
        out[key] = value.item() if hasattr(value, "item") else value
    return out


def run_jobs(jobs: Sequence[CountyJob | AreaGraphJob], options: ExecutionOptions | None = None,
             *, progress: CountyProgress | None = None) -> list[CountyOutcome | Any]:
    """Run every task, serially or on Dask; return the outcomes in ``jobs`` order.

    Parameters
    ----------
    jobs
        One task per county, and the area graph (:class:`AreaGraphJob`) when wanted:
        put it first so that it starts at once.
    options
        Where to run (:class:`ExecutionOptions`; default: a LocalCluster of one worker
        per core).
    progress
        Called after each task with (done, total, code or "area graph").

    Raises
    ------
    CountyRunError
        The first county that fails (named), or a worker that died.
    """
    return map_tasks(run_task, jobs, options=options or ExecutionOptions(),
                     progress=progress, label=_task_label, what="task")
