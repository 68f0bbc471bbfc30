"""gc_paused, gc_relaxed, collect_and_freeze: what each does to the collector, and undoes."""

from __future__ import annotations

import gc

import pytest

from contigmap.gcpause import collect_and_freeze, gc_paused, gc_relaxed


def test_paused_inside_and_enabled_after() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: the outer block re-enables
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_enabled_again_after_an_error() -> None:
    with pytest.raises(ValueError, match="boom"), gc_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_relaxed_raises_thresholds_and_restores_them() -> None:
    old = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with gc_relaxed((20_000, 20, 5)):
            assert gc.get_threshold() == (20_000, 20, 10)  # never lowered
        assert gc.get_threshold() == (700, 10, 10)
        with pytest.raises(RuntimeError), gc_relaxed():
            raise RuntimeError
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*old)


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_collect_and_freeze_frees_cycles_and_freezes_survivors() -> None:
    import weakref

    a, b = _Node(), _Node()
    a.other, b.other = b, a  # a cycle reference counting cannot free
    gone = weakref.ref(a)
    kept = _Node()
    del a, b
    try:
        assert collect_and_freeze() >= 2
        assert gone() is None
        assert gc.get_freeze_count() > 0
        assert not any(o is kept for o in gc.get_objects())  # frozen: out of every generation
    finally:
        gc.unfreeze()
