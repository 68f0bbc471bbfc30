"""Converting a :class:`~contigmap.network.build.RoadGraph` to networkx, OSMnx style."""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from contigmap.network.build import RoadGraph
from contigmap.schema import ROAD_CLASSES, SURFACES

__all__ = ["to_networkx"]


def to_networkx(graph: RoadGraph, *, geometry: bool = False) -> nx.MultiDiGraph:
    """Convert the graph to a ``networkx.MultiDiGraph`` with the same attributes.

    Nodes carry ``x``, ``y`` (working CRS) and ``component``; each road edge becomes two
    directed edges (``u→v`` and ``v→u``, key = edge index) with ``length`` (m),
    ``travel_time`` (s, dry-season vehicle, OSMnx's unit), ``vehicle_dry_min``,
    ``vehicle_rainy_min``, ``walk_min`` and ``walk_rainy_min`` (minutes, for that
    direction; ``vehicle_*`` as :meth:`RoadGraph.edge_times` with mode ``vehicle``),
    ``drive_dry_min`` / ``drive_rainy_min`` (``inf`` where not drivable), ``road_id``,
    ``highway`` / ``road_class``, ``surface``, ``hardened``, ``bridge``, ``tunnel``,
    ``all_season`` and, with ``geometry=True``, a shapely ``geometry`` in travel direction.

    The graph's ``crs`` attribute is the working CRS, as OSMnx sets it.
    """
    g = nx.MultiDiGraph(crs=graph.crs)
    xy = graph.node_xy
    comp = graph.node_component
    g.add_nodes_from(
        (i, {"x": float(xy[i, 0]), "y": float(xy[i, 1]), "component": int(comp[i])})
        for i in range(graph.n_nodes)
    )
    vf, vb, _ = graph.edge_times("vehicle", "dry")
    rf, rb, _ = graph.edge_times("vehicle", "rainy")
    wf, wb, _ = graph.edge_times("walk", "dry")
    xf, xb, _ = graph.edge_times("walk", "rainy")
    cls = np.asarray(ROAD_CLASSES, dtype=object)[graph.road_class]
    srf = np.asarray(SURFACES, dtype=object)[graph.surface]
    geoms: Any = graph.edges_gdf().geometry.to_numpy() if geometry else None

    def attrs(i: int, forward: bool) -> dict[str, Any]:
        d: dict[str, Any] = {
            "length": float(graph.length_m[i]),
            "travel_time": float((vf if forward else vb)[i] * 60.0),
            "vehicle_dry_min": float((vf if forward else vb)[i]),
            "vehicle_rainy_min": float((rf if forward else rb)[i]),
            "walk_min": float((wf if forward else wb)[i]),
            "walk_rainy_min": float((xf if forward else xb)[i]),
            "drive_dry_min": float(graph.drive_dry_min[i]),
            "drive_rainy_min": float(graph.drive_rainy_min[i]),
            "road_id": graph.road_id[i],
            "highway": cls[i],
            "road_class": cls[i],
            "surface": srf[i],
            "hardened": bool(graph.hardened[i]),
            "bridge": bool(graph.bridge[i]),
            "tunnel": bool(graph.tunnel[i]),
            "all_season": bool(graph.all_season[i]),
        }
        if geoms is not None:
            d["geometry"] = geoms[i] if forward else geoms[i].reverse()
        return d

    u, v = graph.u, graph.v
    g.add_edges_from((int(u[i]), int(v[i]), i, attrs(i, True)) for i in range(graph.n_edges))
    g.add_edges_from((int(v[i]), int(u[i]), i, attrs(i, False)) for i in range(graph.n_edges))
    return g
