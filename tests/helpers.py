"""Helpers shared by several test modules (fixtures live in ``conftest.py``).

- :func:`hand_network`: a four-road network whose travel times are computed by hand at
  25 km/h (2.4 min/km), used by the criticality, optimiser, incremental-engine, hazard
  point and scenario tests;
- :func:`synthetic_model` and :func:`random_upgrade`: a random access model on a
  synthetic road layer and random road upgrades on it, used by the incremental-engine
  and optimiser tests.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, Point

CRS = "EPSG:32649"


def hand_network() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Roads, villages and a township seat laid out so that times can be read off by hand.

    Seat at x = 0; R1 0–1 km, R2 1–2 km, R3 a 3 km loop from 1 to 2 km, R4 2–3 km (all
    paved village roads, 25 km/h); V1 (pop 100, poor 10) at 2.4 km on R4, V2 (pop 50,
    poor 5) at 1.4 km on R2.
    """
    x0, y0 = 400_000.0, 3_100_000.0

    def line(*pts: tuple[float, float]) -> LineString:
        return LineString([(x0 + a, y0 + b) for a, b in pts])

    roads = gpd.GeoDataFrame(
        {"road_id": ["R1", "R2", "R3", "R4"], "road_class": ["village"] * 4,
         "surface": ["paved"] * 4},
        geometry=[line((0, 0), (1000, 0)), line((1000, 0), (2000, 0)),
                  line((1000, 0), (1000, 1000), (2000, 1000), (2000, 0)),
                  line((2000, 0), (3000, 0))], crs=CRS)
    villages = gpd.GeoDataFrame(
        {"village_id": ["V1", "V2"], "township_id": ["T", "T"], "pop": [100, 50],
         "poor_pop": [10, 5]},
        geometry=[Point(x0 + 2400, y0), Point(x0 + 1400, y0)], crs=CRS)
    services = gpd.GeoDataFrame(
        {"service_id": ["S"], "kind": ["township_seat"], "township_id": ["T"]},
        geometry=[Point(x0, y0)], crs=CRS)
    return roads, villages, services


def synthetic_model(seed: int) -> tuple[Any, Any, dict[str, np.ndarray], np.random.Generator]:
    """A 1,500-segment synthetic road graph, an access model with 80 villages and 4 seats.

    Returns the graph, the model, each seat query's villages and the random generator.
    """
    from contigmap.network import build_network
    from contigmap.network.access_model import AccessModel
    from contigmap.synth.scale import make_scale_roads

    roads, _ = make_scale_roads(1500, seed=seed)
    graph = build_network(roads)
    rng = np.random.default_rng(seed)
    lo, hi = graph.node_xy.min(axis=0), graph.node_xy.max(axis=0)
    villages_xy = lo + rng.random((80, 2)) * (hi - lo)
    queries = {f"seat:{k}": lo + rng.random((1, 2)) * (hi - lo) for k in range(4)}
    model = AccessModel.build(graph, villages_xy, queries)
    sel = {f"seat:{k}": np.arange(k, 80, 4, dtype=np.int64) for k in range(4)}
    return graph, model, sel, rng


def random_upgrade(graph: Any, rng: np.random.Generator) -> Any:
    """Pave 1–6 random unpaved edges (one time in five also rebuilt as a county road)."""
    from contigmap.network.edgetimes import EdgeChange
    from contigmap.schema import ROAD_CLASSES, SURFACES

    unpaved = np.flatnonzero(~graph.hardened)
    edges = rng.choice(unpaved, int(rng.integers(1, 7)), replace=False)
    if rng.random() < 0.2:  # a stretch of road rebuilt as a county road
        return EdgeChange.upgrade(edges, road_class=ROAD_CLASSES.index("county"),
                                  surface=SURFACES.index("paved"))
    return EdgeChange.upgrade(edges, surface=SURFACES.index("paved"))
