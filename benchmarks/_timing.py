"""Repeat a call and summarise its seconds: the timing loop every benchmark here uses.

Run as ``python benchmarks/bench_<x>.py``, a benchmark finds this module beside it
(``sys.path[0]`` is the script's folder).
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

R = TypeVar("R")


def timed(fn: Callable[[], R], repeats: int, *,
          pick: Callable[[Sequence[float]], float] = statistics.median,
          collect: bool = False) -> tuple[float, R]:
    """Call ``fn`` ``repeats`` times (at least once); return ``pick`` of its seconds, last result.

    ``pick`` is :func:`statistics.median` (typical) or :func:`min` (best); ``collect`` runs
    a full garbage collection before each call, outside the timing.
    """
    times: list[float] = []
    for _ in range(max(1, repeats)):
        if collect:
            gc.collect()
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return pick(times), out
