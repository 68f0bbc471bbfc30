"""Keep the objects alive now out of CPython's full garbage collections for a block.

CPython's cyclic collector runs a full (generation 2) pass every so often, and a full pass
walks every container the process holds. When the report is drawn the whole region is
alive (villages with 250 columns, roads, hamlets, the network): matplotlib builds tens of
thousands of short-lived artists, transforms and paths, which trigger two or three full
passes over that heap, 0.5-1.5 s of the 14k-edge county's report stage (issue #15,
measured with ``gc.callbacks`` under load 4-5).

:func:`gc_frozen` moves every object alive on entry to the permanent generation
(:func:`gc.freeze`, meant for this: "the objects are ignored by future collections") and
back on exit (:func:`gc.unfreeze`). The collector keeps running on what the block makes,
so matplotlib's figures (reference cycles) are still freed as before; only the old objects
are skipped. A pre-existing cycle that became garbage is collected after the block.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_frozen"]


@contextmanager
def gc_frozen() -> Iterator[None]:
    """Freeze the objects alive now (:func:`gc.freeze`) for the block; unfreeze after it.

    Nested blocks unfreeze on the outer exit only (while anything was frozen before entry,
    the block leaves it frozen).
    """
    outer = gc.get_freeze_count() == 0
    gc.freeze()
    try:
        yield
    finally:
        if outer:
            gc.unfreeze()
