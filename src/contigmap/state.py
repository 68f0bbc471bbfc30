"""What the analysis stages have produced for one region, and the stage timer.

Below :mod:`contigmap.pipeline` (which runs the stages) and :mod:`contigmap.planning`
(which chains them with one analysis), so that both read the same state without
importing each other.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from contigmap.errors import ResourceError
from contigmap.io.region import RegionData
from contigmap.network.build import RoadGraph
from contigmap.peakrss import read_peak_rss_mb, reset_peak_rss
from contigmap.priority.run import PriorityResults
from contigmap.relocation.run import RelocationPlan
from contigmap.scenario import ScenarioResult
from contigmap.settings import RunSettings

__all__ = [
    "NetworkOutputs",
    "Progress",
    "RegionState",
    "StageTimer",
    "describe_size",
    "out_of_memory_message",
]

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


class StageTimer:
    """Time each stage, tell the caller when one starts, and name it when memory runs out.

    Attributes
    ----------
    size
        What the run holds, in words ("1,000,000 road edges, 18,926 villages"), set once
        the layers are loaded (:func:`describe_size`); it goes into the out-of-memory
        message.
    peak_rss_mb
        The process's peak resident memory during each stage, in MB, where the system
        tells it (:mod:`contigmap.peakrss`: Linux).
    """

    def __init__(self, step: Progress | None = None,
                 timings_s: dict[str, float] | None = None,
                 peak_rss_mb: dict[str, float] | None = None) -> None:
        self.step = step
        self.timings_s: dict[str, float] = {} if timings_s is None else timings_s
        self.peak_rss_mb: dict[str, float] = {} if peak_rss_mb is None else peak_rss_mb
        self.size = ""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name``.

        Raises
        ------
        ResourceError
            When the block runs out of memory (a :class:`MemoryError`, numpy's failed
            allocations included): one line naming the stage, the run's size, the
            allocation that failed and the options that reduce it.
        """
        if self.step is not None:
            self.step(name)
        measured = reset_peak_rss()
        start = time.perf_counter()
        try:
            yield
        except ResourceError:
            raise
        except MemoryError as err:
            raise ResourceError(out_of_memory_message(name, self.size, err)) from None
        elapsed = time.perf_counter() - start
        self.timings_s[name] = round(elapsed, 3)
        peak = read_peak_rss_mb() if measured else None
        if peak is not None:
            self.peak_rss_mb[name] = round(peak, 1)
        logger.info("stage %s done in %.2f s", name, elapsed)


def describe_size(data: RegionData) -> str:
    """Say how large a region is, in the words a planner sizes a run by.

    Parameters
    ----------
    data
        The loaded layers.

    Returns
    -------
    str
        For example ``"1,000,000 road edges, 18,926 villages, 261,088 hamlets"``.
    """
    parts = [f"{len(data.roads):,} road edges", f"{len(data.villages):,} villages"]
    if data.hamlets is not None:
        parts.append(f"{len(data.hamlets):,} hamlets")
    return ", ".join(parts)


def out_of_memory_message(stage: str, size: str, err: BaseException) -> str:
    """Word an out-of-memory failure as one line: where, how large, what to do.

    Parameters
    ----------
    stage
        The stage that ran out of memory.
    size
        The run's size (:func:`describe_size`), or ``""`` before the layers are loaded.
    err
        The :class:`MemoryError`; numpy's says how much it could not allocate.

    Returns
    -------
    str
        The message of the :class:`~contigmap.errors.ResourceError`.
    """
    asked = re.search(r"allocate ([0-9.]+ [KMGTP]?i?B)", str(err))
    what = f"could not allocate {asked.group(1)}" if asked else "memory ran out"
    on = f" on {size}" if size else ""
    return (f"out of memory in stage '{stage}'{on} ({what}): split the region into counties "
            "and run them as an area (area.yaml, docs/area.md) with fewer --workers, close "
            "other programs, or run on a Dask cluster with larger workers "
            "(--scheduler tcp://HOST:8786)")


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
