"""Tests for the synthetic region generators (contigmap.synth)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from contigmap.config import load_region
from contigmap.schema import ROAD_CLASSES, SURFACES
from contigmap.synth.scale import make_scale_region, make_scale_roads


def assert_clean_topology(lines: gpd.GeoSeries) -> None:
    """Any two lines that touch meet only at exact shared endpoint vertices."""
    geoms = lines.to_numpy()
    starts = shapely.get_point(geoms, 0)
    ends = shapely.get_point(geoms, -1)
    endpoints = [
        {tuple(shapely.get_coordinates(s)[0]), tuple(shapely.get_coordinates(e)[0])}
        for s, e in zip(starts, ends, strict=True)
    ]
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left, right, strict=True):
        if i >= j:
            continue
        inter = shapely.intersection(geoms[i], geoms[j])
        pts = {tuple(c) for c in shapely.get_coordinates(inter)}
        assert shapely.get_type_id(inter) in (0, 4), f"lines {i},{j} overlap: {inter.wkt}"
        shared = endpoints[i] & endpoints[j]
        assert pts <= shared, f"lines {i} and {j} meet at {pts}, not at a shared endpoint"


def test_scale_roads_counts_schema_and_determinism() -> None:
    roads, villages = make_scale_roads(3000, seed=3)
    again, villages2 = make_scale_roads(3000, seed=3)
    assert len(roads) == 3000
    assert roads.crs is not None and roads.crs.is_projected
    assert roads["road_id"].is_unique and villages["village_id"].is_unique
    assert set(roads["road_class"]) <= set(ROAD_CLASSES)
    assert set(roads["surface"]) <= set(SURFACES)
    assert not roads["bridge"].any() and not roads["tunnel"].any()
    assert (shapely.get_num_points(roads.geometry.to_numpy()) >= 2).all()
    assert 3000 / 5.5 < len(villages) < 3000 / 3.5
    assert roads.geometry.geom_equals_exact(again.geometry, tolerance=0).all()
    assert villages.equals(villages2)
    other, _ = make_scale_roads(3000, seed=4)
    assert not roads.geometry.geom_equals_exact(other.geometry, tolerance=0).all()


def test_scale_roads_topology_connectivity_density() -> None:
    roads, _ = make_scale_roads(1500, seed=1)
    assert_clean_topology(roads.geometry)
    # connectivity with an independent union-find over endpoint coordinates
    coords = (
        shapely.get_coordinates(shapely.get_point(roads.geometry.to_numpy(), 0)),
        shapely.get_coordinates(shapely.get_point(roads.geometry.to_numpy(), -1)),
    )
    keys: dict[tuple[float, float], int] = {}
    parent: list[int] = []

    def node(c: np.ndarray) -> int:
        key = (float(c[0]), float(c[1]))
        if key not in keys:
            keys[key] = len(parent)
            parent.append(len(parent))
        return keys[key]

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(coords[0], coords[1], strict=True):
        ra, rb = find(node(a)), find(node(b))
        parent[ra] = rb
    roots = {find(i) for i in range(len(parent))}
    assert len(roots) == 1
    # density: total length over the network's convex hull area, in km per km²
    hull_km2 = shapely.convex_hull(shapely.union_all(roads.geometry.to_numpy())).area / 1e6
    density = roads.length.sum() / 1000 / hull_km2
    assert 0.9 < density < 1.6


def test_scale_region_manifest(tmp_path: Path) -> None:
    path = make_scale_region(tmp_path / "scale", n_edges=500, seed=2)
    region = load_region(path)
    assert region.illustrative
    assert (path.parent / region.layers.roads.path).exists()
    services = gpd.read_file(path.parent / "services.gpkg")
    assert {"county_seat", "township_seat", "health_centre"} <= set(services["kind"])
