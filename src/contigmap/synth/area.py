"""``make_scale_area``: a synthetic contiguous area — K county regions on one road network.

Layout (all in EPSG:4546 metres):

1. **Counties** sit side by side on one grid: the area's extent is cut into horizontal
   bands of about equal height, and each band into counties of equal width (the counts
   per band by largest remainder), so that any K gives K rectangles of about
   :data:`COUNTY_KM2` (a Wuling-area county is 1,100–2,500 km²). The default K is one
   county per :data:`EDGES_PER_COUNTY` road lines (1M lines → ~70 counties).
2. **Townships** are the cells of a grid of about :data:`TOWNSHIP_CELL_M` inside each
   county (about a dozen per county, as in the demo's 花垣县).
3. **Roads**: one jittered-grid network for the whole area
   (:func:`.scale.scale_network`), its junction spacing set so that K counties hold the
   requested lines (at the default ~14,000 lines per 1,600 km² county the junctions are
   ~400 m apart and there are ~3.3 km of road per km², denser than the ~1.2 km/km² of
   mapped Wuling roads: lines per county are fixed, not density). A line belongs to the
   county holding both its ends; a line whose ends lie in two counties (it crosses the
   border) goes *whole* to the area layer ``area/trunk_roads.gpkg`` and to no county.
   So county lines + trunk lines = all lines, every line has one owner, and an area run
   joins the county networks through the trunk lines at their exact shared end
   vertices (road ids are unique over the area). A county line's bent midpoint may lie
   up to ~30 m beyond the border; its ends never do.
4. **Settlements**: one per 4.5 lines at junctions of the largest connected piece of
   each county's own lines (so that every settlement reaches its seats inside the
   county; cutting the border lines leaves a few junctions near the border in small
   pieces), as in :func:`.scale.make_scale_roads`; in each township about one in
   :data:`HAMLETS_PER_VILLAGE` (at least one) is an administrative village's centre, and
   every settlement is a hamlet (自然村) of the nearest village centre of its township.
   A village's people and households are its hamlets' sums.
5. **Per county** (:func:`.county.write_county`): terrain, hazards, ecology, registry,
   services and infrastructure from the demo's generators, each county from its own
   random stream ``default_rng([seed, county_index])``.
6. **Prefecture cities** (``area/cities.csv``): about one per 20 counties, at the largest
   village of evenly spread counties.

The area manifest ``area.yaml`` lists the county regions and the two area layers.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from tqdm import tqdm

from contigmap.errors import ConfigError
from contigmap.io.writers import fixed_gdal_date
from contigmap.raster import Raster
from contigmap.synth._io import staged_dir, write_yaml
from contigmap.synth.county import HOUSEHOLD_SIZE, SCALE_CRS, CountyInput, write_county
from contigmap.synth.scale import _grid_shape, road_ids, scale_network
from contigmap.synth.settlements import largest_remainder
from contigmap.synth.terrain import fractal_surface

__all__ = ["AreaLayout", "area_layout", "default_counties", "make_scale_area"]

logger = logging.getLogger(__name__)

EDGES_PER_COUNTY = 14_000
COUNTY_KM2 = 1_600.0
TOWNSHIP_CELL_M = 11_000.0
HAMLETS_PER_VILLAGE = 12
MAIN_CLASSES = ("national", "provincial", "county", "township")
AREA_NOTE = (
    "Illustrative data, entirely synthetic (contigmap.synth.area, seed {seed}, {n_edges} road "
    "lines, {k} counties): road network, county and township boundaries, settlements and "
    "population, terrain and rivers, hazards, ecology, household registry, services and "
    "infrastructure. No real place is meant."
)


def default_counties(n_edges: int) -> int:
    """Return the default number of counties: one per :data:`EDGES_PER_COUNTY` lines (>= 1)."""
    return max(1, round(n_edges / EDGES_PER_COUNTY))


@dataclass(frozen=True)
class AreaLayout:
    """County rectangles in bands, and each county's township grid.

    Attributes
    ----------
    rects
        ``(k, 4)`` county ``minx, miny, maxx, maxy``, band by band from the south-west.
    band_y
        Band edges (south to north).
    band_x
        Per band, its counties' x edges.
    tgrid
        ``(k, 2)`` township rows and columns per county.
    """

    rects: NDArray[np.float64]
    band_y: NDArray[np.float64]
    band_x: list[NDArray[np.float64]]
    tgrid: NDArray[np.int64]

    def county_of(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Return the county index of each point (points outside go to the nearest edge)."""
        nb = self.band_y.size - 1
        band = np.clip(np.searchsorted(self.band_y, y, side="right") - 1, 0, nb - 1)
        out = np.empty(x.size, dtype=np.int64)
        first = 0
        for b, xe in enumerate(self.band_x):
            m = band == b
            out[m] = first + np.clip(np.searchsorted(xe, x[m], side="right") - 1, 0, xe.size - 2)
            first += xe.size - 1
        return out

    def township_of(self, county: NDArray[np.int64], x: NDArray[np.float64],
                    y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Return each point's township index within its county (row-major from the south-west)."""
        r = self.rects[county]
        tr, tc = self.tgrid[county, 0], self.tgrid[county, 1]
        row = np.clip(((y - r[:, 1]) / (r[:, 3] - r[:, 1]) * tr).astype(np.int64), 0, tr - 1)
        col = np.clip(((x - r[:, 0]) / (r[:, 2] - r[:, 0]) * tc).astype(np.int64), 0, tc - 1)
        return row * tc + col


def area_layout(k: int, extent: tuple[float, float, float, float]) -> AreaLayout:
    """Cut ``extent`` into ``k`` county rectangles in bands (see the module notes)."""
    x0, y0, x1, y1 = extent
    nb = int(min(k, max(1, round(np.sqrt(k * (y1 - y0) / (x1 - x0))))))
    per_band = largest_remainder(np.ones(nb), k)
    band_y = np.linspace(y0, y1, nb + 1)
    band_x = [np.linspace(x0, x1, int(n) + 1) for n in per_band]
    rects = np.array([(xe[j], band_y[b], xe[j + 1], band_y[b + 1])
                      for b, xe in enumerate(band_x) for j in range(xe.size - 1)])
    w, h = rects[:, 2] - rects[:, 0], rects[:, 3] - rects[:, 1]
    tgrid = np.column_stack([np.maximum(1, np.round(h / TOWNSHIP_CELL_M)),
                             np.maximum(1, np.round(w / TOWNSHIP_CELL_M))]).astype(np.int64)
    return AreaLayout(rects, band_y, band_x, tgrid)


def _group_rank(group: NDArray[np.int64], key: NDArray[Any]) -> NDArray[np.int64]:
    """Rank of each element within its group, ordered by ``key`` (ties by position)."""
    order = np.lexsort((np.arange(group.size), key, group))
    g = group[order]
    start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    first = np.repeat(start, np.diff(np.r_[start, g.size]))
    rank = np.empty(group.size, dtype=np.int64)
    rank[order] = np.arange(group.size) - first
    return rank


def _places(rng: np.random.Generator, x: NDArray[np.float64], y: NDArray[np.float64],
            nodes: NDArray[np.int64], layout: AreaLayout, node_county: NDArray[np.int64],
            ) -> pd.DataFrame:
    """Settlements at ``nodes``: county, township, village centre and village (see notes)."""
    px, py = x[nodes], y[nodes]
    county = node_county[nodes]
    tloc = layout.township_of(county, px, py)
    t_off = np.r_[0, np.cumsum(layout.tgrid.prod(axis=1))]
    gt = t_off[county] + tloc
    pop = np.clip(rng.lognormal(np.log(130.0), 0.6, nodes.size), 15, 1500).round()
    households = np.maximum(1, np.round(pop / HOUSEHOLD_SIZE)).astype(np.int64)
    count = np.bincount(gt, minlength=int(t_off[-1]))
    n_vill = np.maximum(1, np.round(count / HAMLETS_PER_VILLAGE)).astype(np.int64)
    centre = _group_rank(gt, rng.random(nodes.size)) < n_vill[gt]
    vi = np.flatnonzero(centre)
    # nearest centre of the same township: the township index as a far third coordinate
    tree = cKDTree(np.column_stack([px[vi], py[vi], gt[vi] * 1e8]))
    _, near = tree.query(np.column_stack([px, py, gt * 1e8]))
    village = vi[near]
    return pd.DataFrame({
        "node": nodes, "x": px, "y": py, "county": county, "township": tloc, "gtown": gt,
        "centre": centre, "village": village, "pop": pop.astype(np.int64),
        "households": households,
    })


def _name_places(pl: pd.DataFrame, codes: list[str], titles: list[str]) -> pd.DataFrame:
    """Add NBS-style ids (6 + 3 + 3 digits, hamlets + 3) and names to the settlements."""
    c_code = np.asarray(codes, dtype=object)[pl["county"].to_numpy()]
    t_num = np.char.zfill((pl["township"].to_numpy() + 1).astype(str), 3).astype(object)
    tid = c_code + t_num
    tname = np.asarray(titles, dtype=object)[pl["county"].to_numpy()] + np.char.add(
        (pl["township"].to_numpy() + 1).astype(str), "乡").astype(object)
    centre = pl["centre"].to_numpy()
    vseq_c = _group_rank(pl["gtown"].to_numpy()[centre], pl["node"].to_numpy()[centre]) + 1
    vseq = np.zeros(len(pl), dtype=np.int64)
    vseq[centre] = vseq_c
    village = pl["village"].to_numpy()
    vnum = vseq[village]
    vid = tid[village] + np.char.zfill(vnum.astype(str), 3).astype(object)
    vname = tname[village] + np.char.add(vnum.astype(str), "村").astype(object)
    # hamlets: the centre first, then by node
    hseq = _group_rank(village, np.where(centre, -1, pl["node"].to_numpy())) + 1
    return pl.assign(
        township_id=tid, village_id=vid, village_name=vname,
        hamlet_id=vid + np.char.zfill(hseq.astype(str), 3).astype(object),
        name=vname + np.char.add(hseq.astype(str), "组").astype(object),
        township_name=tname,
    )


def _coarse_trend(rng: np.random.Generator, extent: tuple[float, float, float, float]) -> Raster:
    """Return a smooth 0.1° elevation trend over the area (fractal, mean 800 m), in WGS84."""
    to_ll = Transformer.from_crs(SCALE_CRS, "EPSG:4326", always_xy=True)
    xs = np.array([extent[0], extent[2], extent[0], extent[2]])
    ys = np.array([extent[1], extent[1], extent[3], extent[3]])
    lon, lat = to_ll.transform(xs, ys)
    step = 0.1
    lon0, lat1 = np.floor(lon.min() / step) * step - 2 * step, np.ceil(lat.max() / step) * step
    lat1 += 2 * step
    cols = int(np.ceil((lon.max() - lon0) / step)) + 3
    rows = int(np.ceil((lat1 - lat.min()) / step)) + 3
    surf = fractal_surface((max(rows, 8), max(cols, 8)), rng, beta=3.5)
    arr = 800.0 + 250.0 * surf
    return Raster(arr, Affine(step, 0.0, lon0, 0.0, -step, lat1), CRS.from_epsg(4326),
                  name="trend")


@dataclass(frozen=True)
class _Area:
    """The area-wide parts: layout, all road lines and their owner, settlements, trend."""

    layout: AreaLayout
    codes: list[str]
    titles: list[str]
    roads: gpd.GeoDataFrame
    edge_county: NDArray[np.int64]  # -1 for lines crossing a border (trunk roads)
    end_county: tuple[NDArray[np.int64], NDArray[np.int64]]
    places: pd.DataFrame
    trend: Raster


def _build_area(rng: np.random.Generator, n_edges: int, k: int) -> _Area:
    """Generate the network, split it by county and place the settlements."""
    rows, cols = _grid_shape(int(n_edges / 1.4) + 2)  # as scale_network
    spacing = float(np.sqrt(k * COUNTY_KM2 * 1e6 / (rows * cols)))
    net = scale_network(rng, n_edges, spacing_m=spacing,
                        county_every=max(2, round(23_400 / spacing)),
                        township_every=max(2, round(7_800 / spacing)))
    x0, y0 = float(net.x.min() - spacing), float(net.y.min() - spacing)
    extent = (x0, y0, x0 + (cols + 1) * spacing, y0 + (rows + 1) * spacing)
    layout = area_layout(k, extent)
    node_county = layout.county_of(net.x, net.y)
    cu, cv = node_county[net.u], node_county[net.v]
    inside = cu == cv
    n = net.u.size
    roads = gpd.GeoDataFrame(
        {"road_id": road_ids(n), "road_class": net.road_class, "surface": net.surface,
         "bridge": np.zeros(n, bool), "tunnel": np.zeros(n, bool)},
        geometry=net.geoms, crs=SCALE_CRS,
    )
    used = _main_pieces(net.u[inside], net.v[inside], node_county)
    n_places = min(used.size, max(1, round(n / 4.5)))
    nodes = np.sort(rng.choice(used, size=n_places, replace=False))
    codes = [f"99{i + 1:04d}" for i in range(k)]
    shorts = [f"合成{i + 1:02d}" for i in range(k)]
    titles = [f"{s}县" for s in shorts]
    pl = _name_places(_places(rng, net.x, net.y, nodes, layout, node_county), codes, titles)
    pl = _road_measures(pl, net.x, net.y, net.u, net.v, inside, node_county, net)
    return _Area(layout, codes, titles, roads,
                 np.where(inside, cu, -1), (cu, cv), pl, _coarse_trend(rng, extent))


def _main_pieces(u: NDArray[np.int64], v: NDArray[np.int64],
                 node_county: NDArray[np.int64]) -> NDArray[np.int64]:
    """Return the junctions of each county's largest connected piece of its own lines.

    Connected components of the county lines (scipy ``connected_components``); ties
    between equal pieces go to the lowest component label.
    """
    n = node_county.size
    graph = coo_matrix((np.ones(u.size, np.int8), (u, v)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    used = np.zeros(n, dtype=bool)
    used[u] = used[v] = True
    size = np.bincount(label)
    key = np.where(used, size[label] * (n + 1) + (n - label), -1)
    best = np.full(int(node_county.max()) + 1, -1, dtype=np.int64)
    np.maximum.at(best, node_county, key)
    return np.flatnonzero(used & (key == best[node_county]))


def _road_measures(pl: pd.DataFrame, x: NDArray[np.float64], y: NDArray[np.float64],
                   u: NDArray[np.int64], v: NDArray[np.int64], inside: NDArray[np.bool_],
                   node_county: NDArray[np.int64], net: Any) -> pd.DataFrame:
    """Add ``hardened`` (on a paved county line) and ``access_m`` (to a main-road junction)."""
    paved = inside & (net.surface == "paved")
    hard = np.zeros(x.size, dtype=bool)
    hard[u[paved]] = hard[v[paved]] = True
    main = inside & np.isin(net.road_class, MAIN_CLASSES)
    mn = np.unique(np.concatenate([u[main], v[main]]))
    nodes = pl["node"].to_numpy()
    if mn.size:
        tree = cKDTree(np.column_stack([x[mn], y[mn], node_county[mn] * 1e8]))
        dist, _ = tree.query(np.column_stack([x[nodes], y[nodes], node_county[nodes] * 1e8]))
        access = np.where(dist < 1e7, dist, 5e4)
    else:
        access = np.full(nodes.size, 5e4)
    return pl.assign(hardened=hard[nodes], access_m=np.round(access, 1))


def _county_input(area: _Area, i: int, note: str, by_county: list[NDArray[np.int64]]
                  ) -> CountyInput:
    """Cut county ``i``'s rectangle, townships, roads and settlements out of the area."""
    rect = tuple(float(c) for c in area.layout.rects[i])
    tr, tc = (int(t) for t in area.layout.tgrid[i])
    w, h = (rect[2] - rect[0]) / tc, (rect[3] - rect[1]) / tr
    boxes = [shapely.box(rect[0] + c * w, rect[1] + r * h, rect[0] + (c + 1) * w,
                         rect[1] + (r + 1) * h) for r in range(tr) for c in range(tc)]
    code, title = area.codes[i], area.titles[i]
    tws = gpd.GeoDataFrame(
        {"township_id": [f"{code}{t + 1:03d}" for t in range(tr * tc)],
         "name": [f"{title}{t + 1}乡" for t in range(tr * tc)]},
        geometry=boxes, crs=SCALE_CRS,
    )
    places = area.places[area.places["county"].to_numpy() == i].reset_index(drop=True)
    roads = area.roads.iloc[by_county[i]].reset_index(drop=True)
    return CountyInput(code, area.titles[i], (rect[0], rect[1], rect[2], rect[3]), tws, roads,
                       places, note)


def make_scale_area(out_dir: str | Path, *, n_edges: int = 1_000_000,
                    n_counties: int | None = None, seed: int = 0, workers: int = 1,
                    progress: bool = False, force: bool = False) -> Path:
    """Write a synthetic contiguous area: county regions, area layers and ``area.yaml``.

    Parameters
    ----------
    out_dir
        Folder to write into: ``area.yaml``, ``area/`` (prefecture cities, trunk roads)
        and ``counties/<code>/`` (one full region each, with its ``region.yaml``). Files
        are moved in only when all are written.
    n_edges
        Road lines of the whole area (county lines + trunk lines).
    n_counties
        Counties; default :func:`default_counties` (one per 14,000 lines).
    seed
        Random seed; the same seed gives byte-identical files (whatever ``workers``).
    workers
        Processes writing counties at once (a stdlib process pool when more than 1;
        each county draws from its own stream, so the files do not depend on it).
    progress
        Show a progress bar (one step per county).
    force
        Write into an existing non-empty folder that contigmap did not write.

    Returns
    -------
    Path
        The written ``area.yaml``.
    """
    k = default_counties(n_edges) if n_counties is None else int(n_counties)
    if k < 1 or n_edges < 400 * k:
        msg = (f"synth scale: {n_edges} road lines for {k} counties is too few; ask for at "
               f"least 400 lines per county (--road-edges {400 * max(k, 1)} or fewer --counties)")
        raise ConfigError(msg)
    out_dir = Path(out_dir)
    steps = tqdm(total=k + 2, disable=not progress, desc="synth area", unit="step")
    area = _build_area(np.random.default_rng(seed), n_edges, k)
    steps.update()
    note = AREA_NOTE.format(seed=seed, n_edges=n_edges, k=k)
    order = np.argsort(area.edge_county, kind="stable")
    bounds = np.searchsorted(area.edge_county[order], np.arange(-1, k + 1))
    by_county = [order[bounds[i + 1]:bounds[i + 2]] for i in range(k)]
    with staged_dir(out_dir, force=force) as tmp, fixed_gdal_date():
        jobs = (_CountyJob(tmp / "counties" / area.codes[i],
                           _county_input(area, i, f"{note} County {area.codes[i]}.", by_county),
                           area.trend, (seed, i)) for i in range(k))
        paths = _run_jobs(jobs, workers, steps)
        entries = [{"region": p.relative_to(tmp).as_posix(), "code": area.codes[i],
                    "name": area.titles[i]} for i, p in enumerate(paths)]
        trunk = order[bounds[0]:bounds[1]]
        _write_area_layers(tmp / "area", area, trunk)
        write_yaml(tmp / "area.yaml", _area_manifest(entries, note, trunk=len(trunk) > 0))
        steps.update()
    steps.close()
    logger.info("synthetic area: %d counties, %d road lines (%d trunk), %d settlements",
                k, len(area.roads), bounds[1] - bounds[0], len(area.places))
    return out_dir / "area.yaml"


@dataclass(frozen=True)
class _CountyJob:
    """One county to write: folder, input, the area's trend and its (seed, index) stream."""

    folder: Path
    inp: CountyInput
    trend: Raster
    stream: tuple[int, int]

    def __call__(self) -> Path:
        """Write the county (in this or a worker process) and return its ``region.yaml``."""
        with fixed_gdal_date():
            return write_county(self.folder, self.inp, self.trend,
                                np.random.default_rng(list(self.stream)))


def _call(job: _CountyJob) -> Path:
    return job()


def _run_jobs(jobs: Iterator[_CountyJob], workers: int, steps: tqdm[Any]) -> list[Path]:
    """Run the county jobs in order, or on ``workers`` spawned processes.

    At most ``2 * workers`` jobs are in flight, so only their inputs are held at once.
    """
    out: list[Path] = []
    if workers <= 1:
        for job in jobs:
            out.append(job())
            steps.update()
        return out
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: deque[Future[Path]] = deque()
        for job in jobs:
            pending.append(pool.submit(_call, job))
            if len(pending) >= 2 * workers:
                out.append(pending.popleft().result())
                steps.update()
        while pending:
            out.append(pending.popleft().result())
            steps.update()
    return out


def _area_manifest(entries: list[dict[str, str]], note: str, *, trunk: bool = True
                   ) -> dict[str, Any]:
    """Return ``area.yaml``: the area, its county regions and the area-wide layers.

    ``trunk``: whether any road crosses a county border (a one-county area has none, and
    an empty layer is refused as input).
    """
    layers: dict[str, Any] = {
        "prefecture_cities": {"path": "area/cities.csv", "x": "lon", "y": "lat",
                              "crs": "EPSG:4326", "id": "city_id"},
    }
    if trunk:
        layers["trunk_roads"] = {"path": "area/trunk_roads.gpkg", "layer": "trunk_roads",
                                 "id": "road_id"}
    return {
        "area": {"name": "合成片区（示意）", "code": "synth-area", "illustrative": True,
                 "source_note": note},
        "counties": entries,
        "layers": layers,
    }


def _write_area_layers(folder: Path, area: _Area, trunk: NDArray[np.int64]) -> None:
    """Write the prefecture cities (largest villages of spread counties) and trunk roads."""
    folder.mkdir(parents=True, exist_ok=True)
    k = len(area.codes)
    tr = area.roads.iloc[np.sort(trunk)].reset_index(drop=True)
    cu, cv = area.end_county
    codes = np.asarray(area.codes, dtype=object)
    tr = tr.assign(county_a=codes[cu[np.sort(trunk)]], county_b=codes[cv[np.sort(trunk)]])
    if len(tr):
        tr.to_file(folder / "trunk_roads.gpkg", layer="trunk_roads", driver="GPKG")
    n_cities = max(1, round(k / 20))
    picks = np.unique(np.round(np.linspace(0, k - 1, n_cities + 2)[1:-1]).astype(np.int64))
    pl = area.places
    vpop = pl.groupby("village_id")["pop"].sum()
    centres = pl[pl["centre"]].assign(vpop=lambda d: vpop.loc[d["village_id"]].to_numpy())
    best = (centres[centres["county"].isin(picks)]
            .sort_values(["vpop", "village_id"], ascending=[False, True])
            .drop_duplicates("county").sort_values("county"))
    to_ll = Transformer.from_crs(SCALE_CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(best["x"].to_numpy(), best["y"].to_numpy())
    pd.DataFrame({
        "city_id": [f"P{j + 1:02d}" for j in range(len(best))],
        "name": [f"合成{j + 1}市" for j in range(len(best))],
        "county_code": codes[best["county"].to_numpy()],
        "pop": [350_000 + 50_000 * (j % 4) for j in range(len(best))],
        "lon": np.round(lon, 6), "lat": np.round(lat, 6),
    }).to_csv(folder / "cities.csv", index=False, encoding="utf-8")
