"""Peak resident memory of this process over a block of code (Linux), for stage timers.

Linux keeps each process's high-water mark of resident memory (``VmHWM`` in
``/proc/self/status``), and writing ``5`` to ``/proc/self/clear_refs`` resets it to the
current resident size (proc(5), "clear_refs"; Linux 4.0 and later). So the peak of a
block is: reset on entry, read on exit. It is exact (no sampling) and costs two small
file operations. Elsewhere (or where ``/proc`` is read-only) nothing is measured.
"""

from __future__ import annotations

import logging
from pathlib import Path

__all__ = ["read_peak_rss_mb", "reset_peak_rss"]

logger = logging.getLogger(__name__)

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS to its current RSS; False when it cannot be done."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def read_peak_rss_mb() -> float | None:
    """Peak RSS of this process since its start or the last reset, in MB (1e6 bytes)."""
    try:
        text = _STATUS.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6  # the value is in kB (KiB)
    return None
