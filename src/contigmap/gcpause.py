"""Keep CPython's cyclic garbage collector out of the way of a pipeline run.

:func:`gc_relaxed` (a whole run) collects the young generation every 20,000 allocations
instead of every 700; :func:`gc_paused` (the web map) switches the collector off.

Why (issue #15, the 14k-edge county of the synthetic 1M-edge area, measured with
``gc.callbacks``): with CPython's default thresholds ``(700, 10, 10)`` a county run made
about 1,220 young, 110 middle and 4 full collections, 1.9-3.3 s of its 20-24 s of CPU.
With ``(20000, 20, 20)`` it made 24, 1 and 0, for 0.6-0.9 s, and peak RSS rose by about
20 MB (719-742 MB against 704-721 MB). A run's cyclic garbage that outlives the young
collections (about 58,000 objects a county, mostly matplotlib's) is freed by the full
collection that :func:`collect_and_freeze` makes between the counties of an area.

The web map's burst of short-lived containers is described below.

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

__all__ = ["collect_and_freeze", "gc_paused", "gc_relaxed"]

RELAXED_THRESHOLDS: tuple[int, int, int] = (20_000, 20, 20)
"""Collector thresholds during a run (CPython's default is ``(700, 10, 10)``)."""


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


@contextmanager
def gc_relaxed(thresholds: tuple[int, int, int] = RELAXED_THRESHOLDS) -> Iterator[None]:
    """Raise the collector's thresholds for the block (never lower them); restore them after.

    Only how often the collector runs changes: every cycle is still found, later.
    """
    old = gc.get_threshold()
    gc.set_threshold(*(max(a, b) for a, b in zip(thresholds, old, strict=False)))
    try:
        yield
    finally:
        gc.set_threshold(*old)


def collect_and_freeze() -> int:
    """Free the cyclic garbage a run left, then exempt what lives on from later full passes.

    Called between the counties of an area (:func:`contigmap.area.engine.run_county`): a
    full collection after the first county costs about 0.35-0.65 s, and about 0.16 s after
    :func:`gc.freeze` has moved the survivors (modules, caches) to the permanent
    generation. Frozen objects are still freed by reference counting; only cycles among
    them would stay, and the survivors of a run are module-level objects.

    Returns
    -------
    int
        Unreachable objects found (:func:`gc.collect`).
    """
    found = gc.collect()
    gc.freeze()
    return found
