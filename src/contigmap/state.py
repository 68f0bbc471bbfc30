"""What the analysis stages have produced for one region, and the stage timer.

Below :mod:`contigmap.pipeline` (which runs the stages) and :mod:`contigmap.planning`
(which chains them with one analysis), so that both read the same state without
importing each other.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from contigmap.io.region import RegionData
from contigmap.network.build import RoadGraph
from contigmap.priority.run import PriorityResults
from contigmap.relocation.run import RelocationPlan
from contigmap.scenario import ScenarioResult
from contigmap.settings import RunSettings

__all__ = ["NetworkOutputs", "Progress", "RegionState", "StageTimer"]

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


class StageTimer:
    """Time each stage and tell the caller when one starts."""

    def __init__(self, step: Progress | None = None,
                 timings_s: dict[str, float] | None = None) -> None:
        self.step = step
        self.timings_s: dict[str, float] = {} if timings_s is None else timings_s

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name``."""
        if self.step is not None:
            self.step(name)
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
        self.timings_s[name] = round(elapsed, 3)
        logger.info("stage %s done in %.2f s", name, elapsed)


@dataclass
class NetworkOutputs:
    """What the network stage adds besides village columns."""

    graph: RoadGraph
    components: pd.DataFrame | None = None
    township_summary: pd.DataFrame | None = None
    county_summary: pd.DataFrame | None = None
    travel_time_roads: gpd.GeoDataFrame | None = None
    legs: pd.DataFrame | None = None


@dataclass
class RegionState:
    """Everything the stages have produced so far for one region.

    Attributes
    ----------
    data
        The loaded, checked and reprojected layers.
    villages, hamlets
        The village and hamlet tables, growing columns stage by stage.
    network
        The road graph and the network stage's summaries.
    priorities
        The priority stage's ranked tables (``None`` before it ran).
    relocation
        The relocation plan (``None`` before it ran).
    scenarios
        Road scenarios evaluated against this state's baseline.
    settings
        The effective settings every stage used (:mod:`contigmap.settings`).
    indicators
        Headline indicators per township and for the county
        (:func:`contigmap.indicators.headline_indicators`), which every output reads.
    """

    data: RegionData
    villages: gpd.GeoDataFrame
    hamlets: gpd.GeoDataFrame | None
    network: NetworkOutputs
    priorities: PriorityResults | None = None
    relocation: RelocationPlan | None = None
    scenarios: list[ScenarioResult] = field(default_factory=list)
    settings: RunSettings = field(default_factory=RunSettings)
    indicators: pd.DataFrame | None = None
