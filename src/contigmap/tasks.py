"""Independent tasks in this process or on a Dask cluster: the engine beyond one core.

One function, :func:`map_tasks`, runs ``func(item, *shared)`` for every item and returns
the results in item order: in this process one after the other, or as tasks on a
``dask.distributed`` cluster (Rocklin, *Dask: Parallel Computation with Blocked
algorithms and Task Scheduling*, SciPy 2015; https://distributed.dask.org). On a cluster
the ``shared`` objects (a county's graph, its villages, the baseline) are scattered to
the workers once and every task refers to them, so they are not pickled per task.

A new cluster is a :class:`~distributed.LocalCluster` of worker *processes* with one
thread each (the stages hold the GIL much of the time) and a memory limit of RAM /
workers each; an existing one is reached by its scheduler address. Callers use it for
the counties of an area (:mod:`contigmap.area.engine`) and, within a county, for
independent scenarios and for chunks of road-criticality candidates. Every task's result
depends only on its inputs, so any number of workers gives the serial run's results.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from contigmap.errors import ContigmapError, ResourceError

__all__ = ["ClusterError", "ExecutionOptions", "TaskProgress", "dask_client", "map_tasks"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

TaskProgress = Callable[[int, int, str], None]
"""Called with (tasks done, tasks in all, label of the task just done)."""


_TRIM_ENV_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
"""Dask's setting that starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``; None unsets it."""


class ClusterError(ContigmapError, RuntimeError):
    """A Dask cluster cannot be reached."""


@dataclass(frozen=True)
class ExecutionOptions:
    """Where independent tasks run.

    Attributes
    ----------
    workers
        Worker processes of a new LocalCluster (default: the number of cores); 1 runs
        the tasks one after the other in this process, without Dask.
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``); for tasks that read
        or write files its workers must see them at the same paths (a shared file
        system). Overrides ``workers``.
    serial
        Run in this process without Dask, whatever ``workers`` says.
    """

    workers: int | None = None
    scheduler: str | None = None
    serial: bool = False

    def in_process(self, n_jobs: int) -> bool:
        """Whether to run without Dask: asked for, one worker, or one task and no cluster."""
        if self.scheduler:
            return False
        return self.serial or self.n_workers() <= 1 or n_jobs <= 1

    def n_workers(self) -> int:
        """Return the LocalCluster's worker count (cores when not given)."""
        return self.workers if self.workers is not None else max(1, os.cpu_count() or 1)


def dask_client(options: ExecutionOptions) -> Any:
    """Connect a Dask client: to the given scheduler, or to a new LocalCluster of processes.

    Raises
    ------
    ClusterError
        The scheduler cannot be reached.
    """
    import dask
    from distributed import Client, LocalCluster

    if options.scheduler:
        try:
            return Client(options.scheduler, timeout="30s")
        except (OSError, TimeoutError) as err:
            msg = (f"Dask scheduler {options.scheduler}: cannot connect ({err}); check the "
                   "address (tcp://host:8786) or leave out --scheduler to use this machine")
            raise ClusterError(msg) from err
    n = options.n_workers()
    memory = _total_memory()
    # workers log nothing of their own: a failed task comes back to this process as its
    # exception, a dead worker as KilledWorker (turned into a ResourceError by map_tasks).
    # Workers keep glibc's own trim threshold, not Dask's 64 KiB (contigmap.heap).
    with dask.config.set({_TRIM_ENV_KEY: None}):
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


def map_tasks(
    func: Callable[..., R],
    items: Sequence[T],
    *,
    shared: Sequence[Any] = (),
    options: ExecutionOptions | None = None,
    progress: TaskProgress | None = None,
    label: Callable[[T], str] = str,
    what: str = "task",
) -> list[R]:
    """Return ``[func(item, *shared) for item in items]``, serially or on Dask.

    Parameters
    ----------
    func
        A module-level function (picklable), called as ``func(item, *shared)``.
    items
        One task per item.
    shared
        Objects every task reads; scattered to the workers once on a cluster.
    options
        Where to run (default: in this process).
    progress
        Called after each task with (done, total, label).
    label
        Names an item in progress calls and error messages.
    what
        What a task is, for messages ("county", "scenario").

    Returns
    -------
    list
        The results in ``items`` order.

    Raises
    ------
    ResourceError
        A worker died (most likely out of memory), naming the task.
    ClusterError
        The scheduler cannot be reached.
    """
    options = options or ExecutionOptions(serial=True)
    if options.in_process(len(items)):
        out = []
        for done, item in enumerate(items, start=1):
            out.append(func(item, *shared))
            if progress is not None:
                progress(done, len(items), label(item))
        return out
    return _on_cluster(func, items, shared, options, progress, label, what)


def _on_cluster(func: Callable[..., R], items: Sequence[T], shared: Sequence[Any],
                options: ExecutionOptions, progress: TaskProgress | None,
                label: Callable[[T], str], what: str) -> list[R]:
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    client = dask_client(options)
    cluster = client.cluster
    futures: dict[Any, int] = {}
    try:
        # one object each (a list would be split into its items), not hashed (large frames)
        refs = [client.scatter([obj], broadcast=True, hash=False)[0] for obj in shared]
        for i, item in enumerate(items):
            futures[client.submit(func, item, *refs, key=f"{what}-{i}-{label(item)}",
                                  pure=False)] = i
        results: dict[int, R] = {}
        for done, future in enumerate(as_completed(list(futures)), start=1):
            i = futures[future]
            try:
                results[i] = future.result()
            except KilledWorker as err:
                msg = (f"{what} {label(items[i])}: its Dask worker died ({err}), most likely "
                       "out of memory; give fewer --workers (more memory each) or a cluster "
                       "with larger workers (--scheduler)")
                raise ResourceError(msg) from None
            logger.info("%s %s done (%d/%d)", what, label(items[i]), done, len(items))
            if progress is not None:
                progress(done, len(items), label(items[i]))
        return [results[i] for i in range(len(items))]
    finally:
        client.cancel(list(futures))
        client.close()
        if cluster is not None and not options.scheduler:
            cluster.close()
