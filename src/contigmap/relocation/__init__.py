"""Ecological relocation (易地扶贫搬迁): candidates, receiving sites, exact assignment.

Modules: :mod:`~contigmap.relocation.costs` (``relocation.yaml``: thresholds and cost
parameters), :mod:`~contigmap.relocation.candidates` (which settlements, why, and moving
against staying), :mod:`~contigmap.relocation.sites` (suitability surface and receiving
sites), :mod:`~contigmap.relocation.assign` (households to sites at least cost, exactly)
and :mod:`~contigmap.relocation.run` (the stage end to end and its outputs).
"""

from __future__ import annotations

from contigmap.relocation.costs import RelocationConfig, load_relocation_config

__all__ = ["RelocationConfig", "load_relocation_config"]
