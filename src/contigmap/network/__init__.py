"""The road network engine: lines → routable graph → travel times and access measures.

Typical use (everything already in the metric working CRS)::

    from contigmap import network
    graph = network.build_network(roads, dem=dem)
    measures = network.access_measures(graph, villages, services)
    network.township_summary(measures)

Shortest paths run on ``scipy.sparse.csgraph`` over numpy arrays; :func:`to_networkx`
gives a networkx graph with the same attributes for other analyses.
"""

from __future__ import annotations

from contigmap.network.access import (
    access_legs,
    access_measures,
    component_report,
    travel_time_edges,
)
from contigmap.network.access_summary import county_summary, rural_access_index, township_summary
from contigmap.network.attach import Attachment, attach_points
from contigmap.network.build import RoadGraph, build_network, morton_order
from contigmap.network.convert import to_networkx
from contigmap.network.osm import read_osm_roads
from contigmap.network.snap import Snap, snap_points
from contigmap.network.speeds import (
    DEFAULT_SPEED_KMH,
    NetworkParams,
    NetworkSettings,
    slope_factor,
    tobler_kmh,
)

__all__ = [
    "DEFAULT_SPEED_KMH",
    "Attachment",
    "NetworkParams",
    "NetworkSettings",
    "RoadGraph",
    "Snap",
    "access_legs",
    "access_measures",
    "attach_points",
    "build_network",
    "component_report",
    "county_summary",
    "morton_order",
    "read_osm_roads",
    "rural_access_index",
    "slope_factor",
    "snap_points",
    "to_networkx",
    "tobler_kmh",
    "township_summary",
    "travel_time_edges",
]
