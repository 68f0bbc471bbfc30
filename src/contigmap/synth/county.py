"""One county region of a synthetic area (:mod:`.area`), built from the demo's pieces.

The area generator hands each county its rectangle, townships, the road lines inside it
and its settlements (junctions of the road network, grouped into villages); this module
adds what the demo region has, with the demo's own generators:

* terrain, DEM (a Cloud Optimized GeoTIFF) and rivers (:func:`.terrain.make_terrain` on
  the county rectangle in WGS84, 3 arc-second cells, elevation trend from the area's
  coarse surface);
* landslide susceptibility, flood zones, red line and reserve (:mod:`.hazards`), plus
  geohazard points (:func:`.hazards.hazard_points`);
* water sources, services, power lines, transformers, substations, fibre and towers
  (:mod:`.infrastructure`);
* the household registry (:func:`.registry.make_households`), from the same village
  covariates as the demo (elevation, slope, distance to the main roads, hardened road,
  distance to water, landslide susceptibility);
* village areas: the Voronoi cells of the township's villages, clipped to the township.

Everything is written as the demo writes it (same files, layers and manifest keys,
:func:`.region.region_layers`), plus a ``hazards.geohazard_points`` layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.spatial import cKDTree

from contigmap.raster import Raster
from contigmap.synth import hazards, infrastructure, registry, terrain
from contigmap.synth._io import write_yaml
from contigmap.synth.region import region_layers, write_raster
from contigmap.synth.settlements import Settlements

__all__ = ["CountyInput", "write_county"]

SCALE_CRS = "EPSG:4546"
HOUSEHOLD_SIZE = 3.4
"""People per household of the synthetic settlements (Wuling-area rural counties, 2020: 3.2–3.6)."""

_TO_LL = Transformer.from_crs(SCALE_CRS, "EPSG:4326", always_xy=True)
_TO_M = Transformer.from_crs("EPSG:4326", SCALE_CRS, always_xy=True)


@dataclass(frozen=True)
class CountyInput:
    """What the area generator gives one county (coordinates in EPSG:4546).

    Attributes
    ----------
    code, title
        County code (6 digits) and name.
    rect
        ``(minx, miny, maxx, maxy)`` of the county.
    townships
        ``township_id, name`` and their polygons.
    roads
        The road lines inside the county (``road_id, road_class, surface, bridge, tunnel``).
    places
        One row per settlement (hamlet): ``hamlet_id, village_id, township_id, name,
        village_name, centre`` (the village's own settlement), ``pop, households, x, y,
        hardened`` (on a paved road), ``access_m`` (straight distance to a main-road junction).
    source_note
        The manifest's ``source_note``.
    """

    code: str
    title: str
    rect: tuple[float, float, float, float]
    townships: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    places: pd.DataFrame
    source_note: str


def _to_ll(geoms: Any) -> Any:
    """Transform shapely geometries from EPSG:4546 to WGS84."""
    return shapely.transform(geoms, lambda xy: np.column_stack(_TO_LL.transform(*xy.T)))


def _villages(inp: CountyInput, ter: terrain.Terrain) -> pd.DataFrame:
    """Return the village table (sums over its settlements) with lon/lat and grid cell."""
    pl = inp.places
    vt = (
        pl.groupby("village_id", sort=True)
        .agg(pop=("pop", "sum"), households=("households", "sum"))
        .reset_index()
    )
    c = pl[pl["centre"]].set_index("village_id").loc[vt["village_id"]]
    vt = vt.assign(
        name=c["village_name"].to_numpy(), township_id=c["township_id"].to_numpy(),
        x_m=c["x"].to_numpy(), y_m=c["y"].to_numpy(), hardened=c["hardened"].to_numpy(),
        access_cost_m=c["access_m"].to_numpy(),
    )
    lon, lat = _TO_LL.transform(vt["x_m"].to_numpy(), vt["y_m"].to_numpy())
    r, col = ter.grid.index(lon, lat)
    rows, cols = ter.grid.shape
    cell = np.clip(r, 0, rows - 1) * cols + np.clip(col, 0, cols - 1)
    # the most populous village of each township is its seat, a community (社区)
    seat = vt.sort_values(["pop", "village_id"], ascending=[False, True]).drop_duplicates(
        "township_id")
    return vt.assign(x=lon, y=lat, cell=cell.astype(np.int64),
                     community=vt["village_id"].isin(seat["village_id"]))


def _covariates(vt: pd.DataFrame, ter: terrain.Terrain, slide: NDArray[np.float64],
                water: pd.DataFrame) -> pd.DataFrame:
    """Add what the registry's poverty model reads (as the demo's ``_village_covariates``)."""
    cells = vt["cell"].to_numpy()
    wx, wy = _TO_M.transform(water["lon"].to_numpy(), water["lat"].to_numpy())
    water_dist, _ = cKDTree(np.column_stack([wx, wy])).query(
        np.column_stack([vt["x_m"], vt["y_m"]]))
    grid = ter.grid.array.ravel()
    return vt.assign(
        elev_m=np.nan_to_num(grid[cells], nan=float(np.nanmean(grid))),
        slope_deg=ter.slope_deg.ravel()[cells],
        water_dist_m=water_dist,
        landslide=np.nan_to_num(slide.ravel()[cells]),
    )


def _settlements(inp: CountyInput, vt: pd.DataFrame) -> tuple[Settlements, pd.DataFrame]:
    """Return the demo's :class:`Settlements` for the services and infrastructure generators.

    Township seats are the community villages; the county seat is the seat nearest the
    rectangle's centre. Only townships with a village are returned.
    """
    seats = vt[vt["community"]].set_index("township_id")
    tws = inp.townships[inp.townships["township_id"].isin(seats.index)]
    seat_rows = seats.loc[tws["township_id"]]
    cx, cy = (inp.rect[0] + inp.rect[2]) / 2, (inp.rect[1] + inp.rect[3]) / 2
    d = np.hypot(seat_rows["x_m"].to_numpy() - cx, seat_rows["y_m"].to_numpy() - cy)
    seat_cells = seat_rows["cell"].to_numpy().astype(np.int64)
    st = Settlements(
        seats=seat_cells, township_label=np.empty((0, 0), np.int64), villages=vt,
        village_label=np.empty((0, 0), np.int64), hamlets=inp.places,
        county_seat=int(seat_cells[int(np.argmin(d))]),
    )
    return st, pd.DataFrame({"township_id": tws["township_id"].to_numpy(),
                             "name": tws["name"].to_numpy()})


def _village_areas(inp: CountyInput, vt: pd.DataFrame) -> list[shapely.Geometry]:
    """Voronoi cells of each township's villages, clipped to the township (Okabe et al. 2000)."""
    areas: dict[str, shapely.Geometry] = {}
    for tid, geom in zip(inp.townships["township_id"], inp.townships.geometry, strict=True):
        sub = vt[vt["township_id"] == tid]
        if sub.empty:
            continue
        pts = shapely.points(sub["x_m"].to_numpy(), sub["y_m"].to_numpy())
        if len(sub) == 1:
            cells = [geom]
        else:
            vor = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=geom, ordered=True)
            cells = list(shapely.intersection(np.asarray(vor.geoms), geom))
        areas.update(zip(sub["village_id"], cells, strict=True))
    return [areas[v] for v in vt["village_id"]]


def write_county(folder: Path, inp: CountyInput, coarse: Raster,
                 rng: np.random.Generator) -> Path:
    """Generate one county from ``inp`` and write it into ``folder``; return its ``region.yaml``.

    The steps draw from ``rng`` in a fixed order (terrain, hazards, water, registry,
    ecology, hazard points, services, infrastructure), so a county depends only on its
    input and seed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rect = shapely.segmentize(shapely.box(*inp.rect), 1_000.0)
    outline = _to_ll(rect)
    lon_c, lat_c = _TO_LL.transform((inp.rect[0] + inp.rect[2]) / 2,
                                    (inp.rect[1] + inp.rect[3]) / 2)
    base = float(coarse.sample_bilinear(np.array([lon_c]), np.array([lat_c]))[0])
    ter = terrain.make_terrain(outline, coarse, rng, elevation_range_m=(base - 350, base + 450),
                               fine_arcsec=3)
    slide = hazards.landslide_susceptibility(ter, rng)
    water = infrastructure.make_water_sources(ter, rng)
    vt = _covariates(_villages(inp, ter), ter, slide, water)
    households, _ = registry.make_households(vt, rng)
    flood = hazards.flood_polygons(ter)
    redline, reserve = hazards.ecology_polygons(ter, rng)
    points = hazards.hazard_points(ter, slide, rng)
    st, tws = _settlements(inp, vt)
    services = infrastructure.make_services(ter, st, tws, rng, county_name=inp.title)
    roads_ll = list(_to_ll(inp.roads.geometry.to_numpy()))
    infra = infrastructure.make_infrastructure(
        ter, st, inp.roads, roads_ll, vt[["access_cost_m"]], rng, metric_crs=SCALE_CRS)
    _write_places(folder, inp, vt)
    _write_layers(folder, inp, households, services, water, infra)
    _write_terrain(folder, ter, slide, flood, points, (redline, reserve))
    return _write_manifest(folder, inp)


def _write_places(folder: Path, inp: CountyInput, vt: pd.DataFrame) -> None:
    """Write the boundaries, villages (points and areas) and hamlets."""
    crs = SCALE_CRS
    pop = int(vt["pop"].sum())
    gpd.GeoDataFrame(
        {"county_id": [inp.code], "name": [inp.title], "pop_2020": [pop],
         "rural_pop_2020": [pop]},
        geometry=[shapely.box(*inp.rect)], crs=crs,
    ).to_file(folder / "boundaries.gpkg", layer="county", driver="GPKG")
    inp.townships[["township_id", "name", "geometry"]].to_file(
        folder / "boundaries.gpkg", layer="townships", driver="GPKG")
    vill = pd.DataFrame({
        "村代码": vt["village_id"], "村名": vt["name"], "乡镇代码": vt["township_id"],
        "类型": np.where(vt["community"], "社区", "村"), "人口": vt["pop"],
        "户数": vt["households"],
    })
    gpd.GeoDataFrame(vill, geometry=shapely.points(vt["x_m"], vt["y_m"]), crs=crs).to_file(
        folder / "villages.gpkg", layer="villages", driver="GPKG")
    gpd.GeoDataFrame(
        {"村代码": vt["village_id"], "村名": vt["name"]},
        geometry=_village_areas(inp, vt), crs=crs,
    ).to_file(folder / "villages.gpkg", layer="village_areas", driver="GPKG")
    pl = inp.places
    lon, lat = _TO_LL.transform(pl["x"].to_numpy(), pl["y"].to_numpy())
    pd.DataFrame({
        "hamlet_id": pl["hamlet_id"], "village_code": pl["village_id"], "name": pl["name"],
        "pop": pl["pop"], "households": pl["households"],
        "lon": np.round(lon, 6), "lat": np.round(lat, 6),
    }).to_csv(folder / "hamlets.csv", index=False, encoding="utf-8")


def _write_layers(folder: Path, inp: CountyInput, households: pd.DataFrame,
                  services: pd.DataFrame, water: pd.DataFrame,
                  infra: dict[str, tuple[pd.DataFrame, list[shapely.Geometry]]]) -> None:
    """Write roads, services, households and infrastructure."""
    inp.roads[["road_id", "road_class", "surface", "bridge", "tunnel", "geometry"]].to_parquet(
        folder / "roads.parquet")
    services.assign(lon=services["lon"].round(6), lat=services["lat"].round(6)).to_csv(
        folder / "services.csv", index=False, encoding="utf-8")
    households.to_csv(folder / "households.csv", index=False, encoding="utf-8")
    for name, (attrs, geoms) in infra.items():
        gpd.GeoDataFrame(attrs, geometry=geoms, crs=4326).to_file(
            folder / "infrastructure.gpkg", layer=name, driver="GPKG")
    gpd.GeoDataFrame(
        water.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(water["lon"], water["lat"]), crs=4326,
    ).to_file(folder / "infrastructure.gpkg", layer="water_sources", driver="GPKG")


def _write_terrain(folder: Path, ter: terrain.Terrain, slide: NDArray[np.float64],
                   flood: list[shapely.Geometry], points: pd.DataFrame,
                   ecology: tuple[list[shapely.Geometry], shapely.Geometry]) -> None:
    """Write the DEM, landslide raster, flood zones, hazard points, ecology and rivers."""
    write_raster(folder / "dem.tif", ter.dem.array, ter.dem.transform, "int16", -32768, cog=True)
    write_raster(folder / "landslide.tif", slide, ter.grid.transform, "float32", -9999.0,
                 cog=True)
    gpd.GeoDataFrame(
        {"hazard_id": [f"FL{i + 1:03d}" for i in range(len(flood))], "kind": "flood"},
        geometry=flood, crs=4326,
    ).to_file(folder / "hazards.gpkg", layer="flood", driver="GPKG")
    gpd.GeoDataFrame(
        {"hazard_id": [f"GH{i + 1:03d}" for i in range(len(points))],
         **{c: points[c] for c in ("hazard_type", "risk_class", "threatened_people")}},
        geometry=shapely.points(points["x"], points["y"]), crs=4326,
    ).to_file(folder / "hazards.gpkg", layer="geohazard_points", driver="GPKG")
    redline, reserve = ecology
    gpd.GeoDataFrame(
        {"eco_id": [f"EL{i + 1:03d}" for i in range(len(redline))], "kind": "redline",
         "name": "生态保护红线（示意）"},
        geometry=redline, crs=4326,
    ).to_file(folder / "ecology.gpkg", layer="redline", driver="GPKG")
    gpd.GeoDataFrame(
        {"eco_id": ["NR001"], "kind": ["reserve"], "name": ["自然保护区（示意）"]},
        geometry=[reserve], crs=4326,
    ).to_file(folder / "ecology.gpkg", layer="reserve", driver="GPKG")
    rivers, areas = terrain.river_lines(ter)
    gpd.GeoDataFrame(
        {"river_id": [f"H{i + 1:04d}" for i in range(len(rivers))],
         "upstream_km2": np.round(areas, 1)},
        geometry=rivers, crs=4326,
    ).to_file(folder / "rivers.gpkg", layer="rivers", driver="GPKG")


def _write_manifest(folder: Path, inp: CountyInput) -> Path:
    """Write the county's ``region.yaml`` (the demo's layers plus geohazard points)."""
    layers = region_layers()
    layers["hazards"]["geohazard_points"] = {
        "path": "hazards.gpkg", "layer": "geohazard_points", "id": "hazard_id",
        "radius_m": 500,
        "class": {"column": "risk_class", "weights": {"高": 1.0, "中": 0.6, "低": 0.3}},
    }
    manifest = {
        "name": f"synth_{inp.code}",
        "title": inp.title,
        "working_crs": SCALE_CRS,
        "illustrative": True,
        "source_note": inp.source_note,
        "household_size": HOUSEHOLD_SIZE,
        "household_size_source": "synthetic: households = people / 3.4 per settlement",
        "layers": layers,
    }
    path = folder / "region.yaml"
    write_yaml(path, manifest)
    return path
