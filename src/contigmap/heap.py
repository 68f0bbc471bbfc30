"""Give the C heap's free memory back to the system between the counties of an area.

Dask's nanny starts every worker with ``MALLOC_TRIM_THRESHOLD_=65536``
(``distributed.nanny.pre-spawn-environ``) so that glibc returns freed memory at once.
For this pipeline that is expensive: a run allocates and frees many large NumPy and
pandas buffers, and with the low threshold glibc hands each one back to the kernel and
faults it in again (issue #15, the 14k-edge county of the synthetic 1M-edge area, one
process on a quiet machine: 900,000 minor page faults and 3.8 s of system time against
200,000 and 1.8 s, and 17.7 s of pipeline against 14.1 s). :func:`contigmap.tasks.dask_client`
therefore starts its LocalCluster without that variable, so glibc keeps its default,
dynamic thresholds (``mallopt(3)``: the mmap threshold grows to the size of the largest
freed mmapped block and the trim threshold to twice that), and :func:`trim_heap` returns
the free memory once, after each county (``malloc_trim(3)``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from typing import Any

__all__ = ["trim_heap"]


@cache
def _malloc_trim() -> Any:
    """Return the C library's ``malloc_trim`` (None without one: musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        func = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_size_t]
    func.restype = ctypes.c_int
    return func


def trim_heap() -> bool:
    """Return the C heap's free memory to the system (``malloc_trim(0)``).

    Returns
    -------
    bool
        True when memory was released; False when none could be or the C library has
        no ``malloc_trim``.
    """
    func = _malloc_trim()
    if func is None:
        return False
    return bool(func(0))
