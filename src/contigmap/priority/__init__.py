"""Priorities per intervention: need, least-cost option, cost, rank, tier and reasons.

One module per intervention (:mod:`~contigmap.priority.roads`,
:mod:`~contigmap.priority.water`, :mod:`~contigmap.priority.power`,
:mod:`~contigmap.priority.broadband`), the generic scoring in
:mod:`~contigmap.priority.mcda`, parameters in :mod:`~contigmap.priority.costs`
(``contigmap/data/priorities.yaml``) and the whole stage in
:mod:`~contigmap.priority.run`.
"""

from __future__ import annotations

from contigmap.priority.costs import PriorityConfig, load_priority_config

__all__ = ["PriorityConfig", "load_priority_config"]
