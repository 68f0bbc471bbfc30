"""gc_frozen: what is alive on entry is frozen in the block, unfrozen after; new cycles go."""

from __future__ import annotations

import gc

import pytest

from contigmap.gcfrozen import gc_frozen


def test_frozen_inside_unfrozen_after() -> None:
    assert gc.get_freeze_count() == 0
    with gc_frozen():
        assert gc.get_freeze_count() > 0
        with gc_frozen():  # nested: the outer block unfreezes
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_unfrozen_after_an_error() -> None:
    with pytest.raises(ValueError, match="boom"), gc_frozen():
        raise ValueError("boom")
    assert gc.get_freeze_count() == 0


def test_cycles_made_in_the_block_are_collected() -> None:
    class Node:
        pass

    with gc_frozen():
        a, b = Node(), Node()
        a.other, b.other = b, a  # type: ignore[attr-defined]
        ids = {id(a), id(b)}
        del a, b
        gc.collect()
        assert not ids & {id(o) for o in gc.get_objects() if isinstance(o, Node)}
