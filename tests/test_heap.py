"""trim_heap gives freed C-heap pages back; Dask workers keep glibc's own trim threshold."""

from __future__ import annotations

import os
import sys

import pytest

from contigmap.heap import _malloc_trim, trim_heap
from contigmap.tasks import ExecutionOptions, map_tasks

glibc = pytest.mark.skipif(sys.platform != "linux" or _malloc_trim() is None,
                           reason="malloc_trim is glibc's")


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@glibc
def test_trim_heap_returns_freed_pages_below_a_live_block() -> None:
    # 64 KiB blocks come from the malloc heap (below the 128 KiB mmap threshold); a block
    # kept alive above them stops glibc trimming the heap's top on free, so the freed
    # pages stay resident until malloc_trim releases them.
    blocks = [bytearray(64 * 1024) for _ in range(3000)]  # ~190 MiB, touched (zeroed)
    keep = bytearray(64 * 1024)
    del blocks
    before = _rss_bytes()
    assert trim_heap()
    after = _rss_bytes()
    assert before - after > 100 * 2**20, (before, after)
    del keep


def _trim_env(_: int) -> str | None:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


@pytest.mark.slow
def test_local_cluster_workers_keep_glibc_trim_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dask's nanny would set MALLOC_TRIM_THRESHOLD_=65536 (3.5 s more a county)."""
    import dask
    import distributed  # noqa: F401  (loads its config)

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    assert dask.config.get(key) == 65536  # Dask's default, which dask_client unsets
    out = map_tasks(_trim_env, [0, 1, 2, 3], options=ExecutionOptions(workers=2))
    assert out == [None] * 4
    assert dask.config.get(key) == 65536  # this process's config is left as it was
