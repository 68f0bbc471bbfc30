"""Running the counties of an area: in this process, or as tasks on a Dask cluster.

Each county is one task, :func:`run_county`: the same :func:`contigmap.pipeline.run` that
``contigmap run region.yaml`` calls, writing the county's folder. Counties share nothing
while they run, so they are independent tasks on a ``dask.distributed`` cluster
(Rocklin, *Dask: Parallel Computation with Blocked algorithms and Task Scheduling*,
SciPy 2015; https://distributed.dask.org): a :class:`~distributed.LocalCluster` of
worker *processes* with one thread each (the stages hold the GIL much of the time) and
a memory limit of RAM / workers each, or an existing cluster by its scheduler address.
Every county's outputs depend only on its inputs, so a run on any number of workers
writes the same bytes as the serial run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contigmap.errors import ContigmapError

__all__ = [
    "CountyJob",
    "CountyOutcome",
    "CountyRunError",
    "ExecutionOptions",
    "run_county",
    "run_jobs",
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
    """What a county task returns: its headline figures and seconds per stage."""

    code: str
    summary: dict[str, Any]
    timings_s: dict[str, float]


@dataclass(frozen=True)
class ExecutionOptions:
    """Where the county tasks run.

    Attributes
    ----------
    workers
        Worker processes of a new LocalCluster (default: the number of cores); 1 runs
        the counties one after the other in this process, without Dask.
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``); its workers must
        see the input files and the output folder at the same paths (a shared file
        system). Overrides ``workers``.
    serial
        Run in this process without Dask, whatever ``workers`` says.
    """

    workers: int | None = None
    scheduler: str | None = None
    serial: bool = False

    def in_process(self, n_jobs: int) -> bool:
        """Whether to run without Dask: asked for, one worker, or one county and no cluster."""
        if self.scheduler:
            return False
        return self.serial or self.n_workers() <= 1 or n_jobs <= 1

    def n_workers(self) -> int:
        """Return the LocalCluster's worker count (cores when not given)."""
        return self.workers if self.workers is not None else max(1, os.cpu_count() or 1)


def run_county(job: CountyJob) -> CountyOutcome:
    """Run the whole pipeline on one county into ``job.out_dir`` (a Dask task).

    Raises
    ------
    CountyRunError
        Any :class:`~contigmap.errors.ContigmapError` of the county's run, as one line
        naming the county.
    """
    from contigmap.pipeline import run

    logger.info("county %s (%s): starting", job.code, job.name)
    try:
        result = run(job.region_path, job.out_dir, **job.options)
    except CountyRunError:
        raise
    except ContigmapError as err:
        msg = f"county {job.code} ({job.name}): {err}"
        raise CountyRunError(msg) from None
    return CountyOutcome(code=job.code, summary=_plain(result.summary),
                         timings_s=dict(result.timings_s))


def _plain(summary: dict[str, Any]) -> dict[str, Any]:
    """Headline figures as Python numbers and text (cheap to send between processes)."""
    out: dict[str, Any] = {}
    for key, value in summary.items():
        out[key] = value.item() if hasattr(value, "item") else value
    return out


def _serial(jobs: Sequence[CountyJob], progress: CountyProgress | None) -> list[CountyOutcome]:
    outcomes = []
    for done, job in enumerate(jobs, start=1):
        outcomes.append(run_county(job))
        logger.info("county %s done (%d/%d)", job.code, done, len(jobs))
        if progress is not None:
            progress(done, len(jobs), job.code)
    return outcomes


def _client(options: ExecutionOptions) -> Any:
    """Connect a Dask client: to the given scheduler, or to a new LocalCluster of processes."""
    from distributed import Client, LocalCluster

    if options.scheduler:
        try:
            return Client(options.scheduler, timeout="30s")
        except (OSError, TimeoutError) as err:
            msg = (f"Dask scheduler {options.scheduler}: cannot connect ({err}); check the "
                   "address (tcp://host:8786) or leave out --scheduler to use this machine")
            raise CountyRunError(msg) from err
    n = options.n_workers()
    memory = _total_memory()
    # workers log nothing of their own: a failed county comes back to this process as its
    # exception, a dead worker as KilledWorker, both turned into one-line errors below
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                           memory_limit=memory // n if memory else "auto",
                           dashboard_address=None, silence_logs=logging.CRITICAL)
    logger.info("Dask LocalCluster: %d workers, 1 thread and %.1f GB each", n,
                (memory // n) / 1e9 if memory else float("nan"))
    return Client(cluster)


def _total_memory() -> int | None:
    """Bytes of RAM of this machine (None when unknown)."""
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:  # pragma: no cover - psutil comes with distributed
        return None


def _on_cluster(jobs: Sequence[CountyJob], options: ExecutionOptions,
                progress: CountyProgress | None) -> list[CountyOutcome]:
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    client = _client(options)
    cluster = client.cluster
    futures = {}
    try:
        for job in jobs:
            futures[client.submit(run_county, job, key=f"county-{job.code}", pure=False)] = job
        outcomes: dict[str, CountyOutcome] = {}
        for done, future in enumerate(as_completed(list(futures)), start=1):
            job = futures[future]
            try:
                outcomes[job.code] = future.result()
            except KilledWorker as err:
                msg = (f"county {job.code} ({job.name}): its Dask worker died ({err}), most "
                       "likely out of memory; give fewer --workers (more memory each) or a "
                       "cluster with larger workers (--scheduler)")
                raise CountyRunError(msg) from None
            logger.info("county %s done (%d/%d)", job.code, done, len(jobs))
            if progress is not None:
                progress(done, len(jobs), job.code)
        return [outcomes[job.code] for job in jobs]
    finally:
        client.cancel(list(futures))
        client.close()
        if cluster is not None and not options.scheduler:
            cluster.close()


def run_jobs(jobs: Sequence[CountyJob], options: ExecutionOptions | None = None, *,
             progress: CountyProgress | None = None) -> list[CountyOutcome]:
    """Run every county task, serially or on Dask; return the outcomes in ``jobs`` order.

    Parameters
    ----------
    jobs
        One task per county.
    options
        Where to run (:class:`ExecutionOptions`; default: a LocalCluster of one worker
        per core).
    progress
        Called after each county with (done, total, code).

    Raises
    ------
    CountyRunError
        The first county that fails (named), or a worker that died.
    """
    options = options or ExecutionOptions()
    if options.in_process(len(jobs)):
        return _serial(jobs, progress)
    return _on_cluster(jobs, options, progress)
