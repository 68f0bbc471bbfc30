"""Large synthetic road networks and regions for scale tests and benchmarks.

The network is a jittered-grid planar graph, the usual cheap stand-in for rural road
networks in network-science benchmarks (see e.g. Barthelemy, *Spatial networks*,
Physics Reports 499, 2011, section 2.2 on lattice-like road graphs):

1. nodes on a square grid (spacing ``spacing_m``), each moved by a uniform jitter of
   at most 0.2 spacing in x and y; with that bound every grid cell stays a convex
   quadrilateral, so grid edges plus one diagonal per cell never cross (a planar graph);
2. a random spanning tree of the candidate edges (scipy's minimum spanning tree on
   random weights) keeps the network connected; edges on the "hierarchy lines" (every
   ``county_every``-th and ``township_every``-th grid row and column) get weight 0 so
   that main roads run unbroken;
3. further random candidate edges are added until ``n_edges`` is reached;
4. classes follow the hierarchy lines (national / provincial / county / township) and
   the rest is village road, track or path; surfaces follow class.

Every edge is its own line (split at junctions; endpoints are exact shared vertices);
about a third get one bent midpoint vertex so that lines are not all two-point
segments. Everything is vectorised with numpy and shapely 2 (about 1M edges in
well under a minute on one core).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree

from contigmap.synth._io import staged_dir, write_yaml

__all__ = ["ScaleNetwork", "make_scale_region", "make_scale_roads", "road_ids", "scale_network"]

logger = logging.getLogger(__name__)

SCALE_CRS = "EPSG:4546"
"""CGCS2000 / 3-degree Gauss-Kruger CM 111E (metres), the zone of western Hunan."""

_ORIGIN_X = 300_000.0
_ORIGIN_Y = 3_000_000.0
_COUNTY_CELL_M = 35_000.0
_TOWNSHIP_CELL_M = 8_000.0


def _grid_shape(n_nodes: int) -> tuple[int, int]:
    rows = max(int(np.sqrt(n_nodes / 1.5)), 2)
    cols = max(int(np.ceil(n_nodes / rows)), 2)
    return rows, cols


def _candidate_edges(
    rows: int, cols: int, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]]:
    """Grid edges plus one random diagonal per cell: (u, v, orientation 0=h,1=v,2=d)."""
    idx = np.arange(rows * cols, dtype=np.int64).reshape(rows, cols)
    hu, hv = idx[:, :-1].ravel(), idx[:, 1:].ravel()
    vu, vv = idx[:-1, :].ravel(), idx[1:, :].ravel()
    flip = rng.random((rows - 1, cols - 1)) < 0.5
    a, b = idx[:-1, :-1], idx[1:, 1:]
    c, d = idx[:-1, 1:], idx[1:, :-1]
    du = np.where(flip, c, a).ravel()
    dv = np.where(flip, d, b).ravel()
    u = np.concatenate([hu, vu, du])
    v = np.concatenate([hv, vv, dv])
    kind = np.concatenate(
        [np.zeros(hu.size, np.int8), np.ones(vu.size, np.int8), np.full(du.size, 2, np.int8)]
    )
    return u, v, kind


def make_scale_roads(
    n_edges: int = 1_000_000,
    *,
    seed: int = 0,
    spacing_m: float = 1_300.0,
    county_every: int = 18,
    township_every: int = 6,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build a large, mostly connected rural road network and its villages.

    Parameters
    ----------
    n_edges
        Number of road lines to make (each one edge between two junctions).
    seed
        Random seed; the same seed gives identical outputs.
    spacing_m
        Grid spacing between junctions, in metres (1.3 km gives about 1.2 km of road per km²,
        the density of the Wuling-area counties).
    county_every, township_every
        Every so many grid rows / columns carry a county (or township) road.

    Returns
    -------
    roads, villages
        ``roads``: lines in EPSG:4546 with ``road_id, road_class, surface, bridge, tunnel``
        (and ``county_id``); ``villages``: points at junctions, about one per 4.5 edges,
        with ``village_id, name, township_id, county_id, pop``.
    """
    rng = np.random.default_rng(seed)
    net = scale_network(rng, n_edges, spacing_m=spacing_m, county_every=county_every,
                        township_every=township_every)
    x, y, u, v = net.x, net.y, net.u, net.v
    n = u.size
    county_cols = int(np.ceil(net.cols * spacing_m / _COUNTY_CELL_M))
    mid_x = np.maximum((x[u] + x[v]) / 2 - _ORIGIN_X, 0.0)
    mid_y = np.maximum((y[u] + y[v]) / 2 - _ORIGIN_Y, 0.0)
    county = (mid_y // _COUNTY_CELL_M).astype(np.int64) * county_cols + (
        mid_x // _COUNTY_CELL_M
    ).astype(np.int64)
    roads = gpd.GeoDataFrame(
        {
            "road_id": road_ids(n),
            "road_class": net.road_class,
            "surface": net.surface,
            "bridge": np.zeros(n, bool),
            "tunnel": np.zeros(n, bool),
            "county_id": np.char.add("C", np.char.zfill(county.astype(str), 4)).astype(object),
        },
        geometry=net.geoms,
        crs=SCALE_CRS,
    )
    used = np.unique(np.concatenate([u, v]))
    villages = _scale_villages(rng, x, y, used, n, net.cols * spacing_m)
    logger.info("scale network: %d road lines, %d junctions, %d villages", n, used.size,
                len(villages))
    return roads, villages


@dataclass(frozen=True)
class ScaleNetwork:
    """A jittered-grid road network: junction coordinates and one line per edge.

    Attributes
    ----------
    x, y
        Junction coordinates (EPSG:4546 metres) of every grid node, row-major.
    u, v
        End nodes of each road line.
    road_class, surface
        Class and surface of each line.
    geoms
        The lines (shapely), starting at ``u`` and ending at ``v``.
    rows, cols
        Grid shape (nodes).
    """

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    u: NDArray[np.int64]
    v: NDArray[np.int64]
    road_class: NDArray[Any]
    surface: NDArray[Any]
    geoms: NDArray[Any]
    rows: int
    cols: int


def road_ids(n: int) -> NDArray[Any]:
    """Return the road ids ``R00000000`` … of ``n`` lines (object array)."""
    return np.char.add("R", np.char.zfill(np.arange(n).astype(str), 8)).astype(object)


def scale_network(rng: np.random.Generator, n_edges: int, *, spacing_m: float = 1_300.0,
                  county_every: int = 18, township_every: int = 6) -> ScaleNetwork:
    """Build the jittered-grid network of ``n_edges`` lines (steps 1-4 of the module notes).

    Draws from ``rng`` in this order: jitter, edges, lines, classes. Parameters as in
    :func:`make_scale_roads`.
    """
    if n_edges < 4:
        msg = f"make_scale_roads: n_edges={n_edges} is too small; ask for at least 4 edges"
        raise ValueError(msg)
    # a spanning tree has n-1 edges; we keep about 1.4 edges per node in total
    rows, cols = _grid_shape(int(n_edges / 1.4) + 2)
    n_nodes = rows * cols
    rr, cc = np.divmod(np.arange(n_nodes, dtype=np.int64), cols)
    jitter = rng.uniform(-0.2, 0.2, size=(n_nodes, 2)) * spacing_m
    x = _ORIGIN_X + cc * spacing_m + jitter[:, 0]
    y = _ORIGIN_Y + rr * spacing_m + jitter[:, 1]
    u, v, level = _select_edges(rng, rows, cols, n_edges, county_every, township_every)
    geoms = _line_geometries(rng, x, y, u, v, spacing_m)
    road_class, surface = _classes_and_surfaces(rng, level)
    return ScaleNetwork(x, y, u, v, road_class, surface, geoms, rows, cols)


def _select_edges(rng: np.random.Generator, rows: int, cols: int, n_edges: int,
                  county_every: int, township_every: int,
                  ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]]:
    """Return ``n_edges`` grid edges (``u``, ``v``) and their level (0 national … 9 local).

    Main roads run along every so many rows and columns; a spanning tree keeps the
    network connected, and random local edges make up the number.
    """
    n_nodes = rows * cols
    rr, cc = np.divmod(np.arange(n_nodes, dtype=np.int64), cols)
    u, v, kind = _candidate_edges(rows, cols, rng)
    ru, cu = rr[u], cc[u]
    # hierarchy: horizontal edges on special rows, vertical edges on special columns
    line_no = np.where(kind == 0, ru, np.where(kind == 1, cu, -1))
    level = np.full(u.size, 9, np.int8)  # 9 = local
    on_line = line_no >= 0
    level[on_line & (line_no % township_every == 0)] = 3  # township
    level[on_line & (line_no % county_every == 0)] = 2  # county
    level[on_line & (line_no % (county_every * 4) == 0)] = 1  # provincial
    level[on_line & (line_no % (county_every * 8) == 0)] = 0  # national

    weight = rng.random(u.size) + 1.0
    weight[level <= 3] = 1e-9  # main roads first (0 would be dropped by scipy)
    graph = coo_matrix((weight, (u, v)), shape=(n_nodes, n_nodes)).tocsr()
    tree = minimum_spanning_tree(graph).tocoo()
    tu, tv = tree.row.astype(np.int64), tree.col.astype(np.int64)
    key_all = np.minimum(u, v) * n_nodes + np.maximum(u, v)
    key_tree = np.minimum(tu, tv) * n_nodes + np.maximum(tu, tv)
    in_tree = np.isin(key_all, key_tree)
    keep = in_tree | (level <= 3)
    extra = int(n_edges) - int(keep.sum())
    rest = np.flatnonzero(~keep)
    if extra > 0:
        keep[rng.choice(rest, size=min(extra, rest.size), replace=False)] = True
    elif extra < 0:
        # too many: drop random local tree edges (rare; only for tiny n_edges)
        local = np.flatnonzero(keep & (level > 3))
        keep[rng.choice(local, size=min(-extra, local.size), replace=False)] = False
    sel = np.flatnonzero(keep)
    return u[sel], v[sel], level[sel]


def _line_geometries(rng: np.random.Generator, x: NDArray[np.float64], y: NDArray[np.float64],
                     u: NDArray[np.int64], v: NDArray[np.int64],
                     spacing_m: float) -> NDArray[Any]:
    """Return two-point lines from ``u`` to ``v``, a third with a bent midpoint."""
    n = u.size
    bend = rng.random(n) < 0.33
    x0, y0, x1, y1 = x[u], y[u], x[v], y[v]
    dx, dy = x1 - x0, y1 - y0
    off = rng.uniform(-0.08, 0.08, n) * spacing_m / np.maximum(np.hypot(dx, dy), 1e-9)
    mx, my = (x0 + x1) / 2 - dy * off, (y0 + y1) / 2 + dx * off
    npts = np.where(bend, 3, 2)
    offsets = np.concatenate([[0], np.cumsum(npts)])
    total = int(offsets[-1])
    coords = np.empty((total, 2))
    start = offsets[:-1]
    coords[start, 0], coords[start, 1] = x0, y0
    coords[start[bend] + 1, 0], coords[start[bend] + 1, 1] = mx[bend], my[bend]
    end = offsets[1:] - 1
    coords[end, 0], coords[end, 1] = x1, y1
    line_index = np.repeat(np.arange(n), npts)
    return shapely.linestrings(coords, indices=line_index)


def _classes_and_surfaces(rng: np.random.Generator, level: NDArray[np.int8],
                          ) -> tuple[NDArray[Any], NDArray[Any]]:
    """Return road classes (main levels named, local ones drawn) and drawn surfaces."""
    n = level.size
    road_class = np.empty(n, dtype=object)
    names = {0: "national", 1: "provincial", 2: "county", 3: "township"}
    for lv, name in names.items():
        road_class[level == lv] = name
    local = level == 9
    draw = rng.random(n)
    road_class[local & (draw < 0.55)] = "village"
    road_class[local & (draw >= 0.55) & (draw < 0.85)] = "track"
    road_class[local & (draw >= 0.85)] = "path"
    sdraw = rng.random(n)
    surface = np.full(n, "paved", dtype=object)
    is_township = road_class == "township"
    surface[is_township & (sdraw < 0.1)] = "gravel"
    is_village = road_class == "village"
    surface[is_village & (sdraw >= 0.6)] = "gravel"
    surface[is_village & (sdraw >= 0.9)] = "earth"
    is_track = road_class == "track"
    surface[is_track] = np.where(sdraw[is_track] < 0.5, "gravel", "earth")
    surface[road_class == "path"] = "earth"
    return road_class, surface


def _scale_villages(rng: np.random.Generator, x: NDArray[np.float64], y: NDArray[np.float64],
                    used: NDArray[np.int64], n_lines: int, width_m: float) -> gpd.GeoDataFrame:
    """Return villages at junctions that carry a road (``used``), one per 4.5 lines."""
    n_villages = max(1, round(n_lines / 4.5))
    vnodes = np.sort(rng.choice(used, size=min(n_villages, used.size), replace=False))
    vx, vy = x[vnodes], y[vnodes]
    ex, ey = np.maximum(vx - _ORIGIN_X, 0.0), np.maximum(vy - _ORIGIN_Y, 0.0)
    ccol = (ex // _COUNTY_CELL_M).astype(np.int64)
    crow = (ey // _COUNTY_CELL_M).astype(np.int64)
    tcol = (ex // _TOWNSHIP_CELL_M).astype(np.int64)
    trow = (ey // _TOWNSHIP_CELL_M).astype(np.int64)
    county_v = crow * int(np.ceil(width_m / _COUNTY_CELL_M)) + ccol
    town_v = trow * int(np.ceil(width_m / _TOWNSHIP_CELL_M)) + tcol
    nv = vnodes.size
    vid = np.char.add("V", np.char.zfill(np.arange(nv).astype(str), 8))
    pop = np.clip(rng.lognormal(np.log(750), 0.5, nv), 80, 6000).round().astype(np.int64)
    return gpd.GeoDataFrame(
        {
            "village_id": vid.astype(object),
            "name": np.char.add(np.char.add("样本", vid), "村").astype(object),
            "township_id": np.char.add("T", np.char.zfill(town_v.astype(str), 6)).astype(object),
            "county_id": np.char.add("C", np.char.zfill(county_v.astype(str), 4)).astype(object),
            "pop": pop,
        },
        geometry=shapely.points(vx, vy),
        crs=SCALE_CRS,
    )


def make_scale_region(out_dir: str | Path, *, n_edges: int = 1_000_000, seed: int = 0,
                      force: bool = False) -> Path:
    """Write a large synthetic region (roads, villages, services, region.yaml) for tests.

    ``contigmap synth scale`` writes a whole area instead (:func:`.area.make_scale_area`).

    Roads are written as GeoParquet, villages and services as GeoPackage, all in
    EPSG:4546. Services are one county seat per county cell and one township seat per
    township cell (the most populous village of each), plus a health centre at each
    township seat.

    Parameters
    ----------
    out_dir
        Folder to write into (created; files are moved in only when all are written).
    n_edges
        Road lines to make, see :func:`make_scale_roads`.
    seed
        Random seed.
    force
        Write into an existing non-empty folder that contigmap did not write
        (:func:`contigmap.outdir.check_output_dir`).

    Returns
    -------
    Path
        Path of the written ``region.yaml``.
    """
    out_dir = Path(out_dir)
    roads, villages = make_scale_roads(n_edges, seed=seed)
    by_pop = villages.sort_values(["pop", "village_id"], ascending=[False, True])
    seats = by_pop.drop_duplicates("township_id").sort_values("village_id")
    counties = by_pop.drop_duplicates("county_id").sort_values("village_id")
    parts = []
    kinds = (("county_seat", counties), ("township_seat", seats), ("health_centre", seats))
    for kind, src in kinds:
        parts.append(
            gpd.GeoDataFrame(
                {
                    "kind": kind,
                    "name": src["name"].to_numpy(),
                    "township_id": src["township_id"].to_numpy(),
                },
                geometry=src.geometry.to_numpy(),
                crs=SCALE_CRS,
            )
        )
    services = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=SCALE_CRS)
    services.insert(0, "service_id", [f"S{i:07d}" for i in range(len(services))])
    manifest = {
        "name": f"scale_{n_edges}",
        "title": f"Synthetic scale region ({n_edges:,} road lines)",
        "working_crs": SCALE_CRS,
        "illustrative": True,
        "source_note": f"Entirely synthetic (contigmap.synth.scale, seed {seed}); for scale tests.",
        "layers": {
            "villages": {"path": "villages.gpkg", "layer": "villages", "id": "village_id"},
            "roads": {"path": "roads.parquet", "id": "road_id"},
            "services": {"path": "services.gpkg", "layer": "services", "id": "service_id"},
        },
    }
    with staged_dir(out_dir, force=force) as tmp:
        roads.to_parquet(tmp / "roads.parquet")
        villages.to_file(tmp / "villages.gpkg", layer="villages", driver="GPKG")
        services.to_file(tmp / "services.gpkg", layer="services", driver="GPKG")
        write_yaml(tmp / "region.yaml", manifest)
    logger.info("scale region written to %s", out_dir)
    return out_dir / "region.yaml"
