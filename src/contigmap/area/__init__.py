"""Contiguous areas: many counties in one run, serially or on a Dask cluster.

:mod:`~contigmap.area.manifest` reads ``area.yaml``, :mod:`~contigmap.area.engine` runs
the counties (in this process or as ``dask.distributed`` tasks),
:mod:`~contigmap.area.rollup` builds the county table from the counties' own outputs and
:mod:`~contigmap.area.run` writes the area folder.
"""

from __future__ import annotations

from contigmap.area.engine import CountyRunError, ExecutionOptions
from contigmap.area.manifest import Area, County, is_area_manifest, load_area
from contigmap.area.run import AreaResult, run_area

__all__ = [
    "Area",
    "AreaResult",
    "County",
    "CountyRunError",
    "ExecutionOptions",
    "is_area_manifest",
    "load_area",
    "run_area",
]
