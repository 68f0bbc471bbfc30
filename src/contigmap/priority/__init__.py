"""Priorities per intervention: need, least-cost option, cost, rank, tier and reasons.

What an intervention is (labels, unit, options, layers, criteria, config section, its
ranking function) is described once, in :mod:`~contigmap.priority.intervention`; each
intervention module (:mod:`~contigmap.priority.roads`, :mod:`~contigmap.priority.water`,
:mod:`~contigmap.priority.power`, :mod:`~contigmap.priority.broadband`) defines one and
:mod:`~contigmap.priority.registry` lists them. The generic scoring is in
:mod:`~contigmap.priority.mcda`, the configuration (``contigmap/data/priorities.yaml``)
in :mod:`~contigmap.priority.config`, which layers and joins are needed in
:mod:`~contigmap.priority.feasible` and the whole stage in :mod:`~contigmap.priority.run`.
"""

from __future__ import annotations

from contigmap.priority.config import PriorityConfig, load_priority_config

__all__ = ["PriorityConfig", "load_priority_config"]
