"""Pause CPython's cyclic garbage collector while a burst of short-lived containers is built.

CPython runs its generational collector after every 700 net allocations of container
objects (lists, dicts, tuples), and a full (generation 2) pass walks *every* container
the process holds. Building the web map makes millions of small lists and dicts (the
GeoJSON coordinates, the feature properties, the village cards) while the whole region
(villages with 250 columns, roads, hamlets) is alive: on the 14k-edge county the
collector ran 664 times inside the render stage, 4 of them full passes, for 1.7 s of
a 6.3 s stage (machine under load, issue #15). Nothing built there forms a
reference cycle worth collecting early: it is freed by reference counting once the
file is written, so pausing the collector only skips work.

Usage (:func:`contigmap.render.web.render_web_map`)::

    with gc_paused():
        build_and_write()

The collector is re-enabled on exit (also on an error) if it was enabled on entry;
nested or concurrent pauses leave it enabled by whichever entered first.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic garbage collector for the block; restore it afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
