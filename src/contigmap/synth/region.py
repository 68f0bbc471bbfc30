"""``make_demo_region``: the illustrative 花垣县 demo region, written as a user would bring it.

Real: the county outline, the 12 townships and 228 villages / communities with names and
codes, the 2020 census figures, the coarse elevation trend, 十八洞村's 2013 figures.
Synthetic (seeded, see each module): terrain and rivers (:mod:`.terrain`), seats,
partitions, hamlets and population (:mod:`.settlements`), roads (:mod:`.roads`), the
household registry (:mod:`.registry`), hazards and ecology (:mod:`.hazards`), services
and infrastructure (:mod:`.infrastructure`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from numpy.typing import NDArray
from rasterio import features
from rasterio.io import MemoryFile
from rasterio.shutil import copy as rio_copy
from scipy import ndimage
from tqdm import tqdm

from contigmap.io.writers import fixed_gdal_date
from contigmap.synth import (
    hazards,
    health_services,
    infrastructure,
    registry,
    roads,
    settlements,
    sources,
    terrain,
)
from contigmap.synth._io import staged_dir, write_yaml
from contigmap.synth.housing import add_housing_grade

__all__ = ["DEMO_SEED", "make_demo_region", "region_layers", "write_raster"]

logger = logging.getLogger(__name__)

DEMO_SEED = 20141
METRIC_CRS = "EPSG:32649"  # UTM 49N, for areas and distances while generating
SHIBADONG = {"pop": 939, "households": 225, "poor_pop": 533, "hamlets": 4}

SOURCE_NOTE = (
    "Illustrative data. Real: county outline (AMap-derived, WGS84-corrected), the 12 townships "
    "and 228 villages/communities with NBS 2023 names and codes, 2020 census population, coarse "
    "elevation trend, 十八洞村 2013 figures. Synthetic (contigmap.synth, seed {seed}): DEM and "
    "rivers, locations, boundaries below county level, hamlets, population split, roads, "
    "household registry, hazards, ecology, services and infrastructure."
)


def _label_polygons(label: np.ndarray, tf: Any, n: int) -> list[shapely.Geometry]:
    shapes: list[list[shapely.Geometry]] = [[] for _ in range(n)]
    for geom, val in features.shapes(
        label.astype(np.int32), mask=label >= 0, transform=tf, connectivity=4
    ):
        shapes[int(val)].append(shapely.geometry.shape(geom))
    return [shapely.union_all(s) if s else shapely.Polygon() for s in shapes]


def write_raster(path: Path, array: np.ndarray, tf: Any, dtype: str, nodata: float, *,
                 cog: bool = False) -> None:
    """Write ``array`` (WGS84 grid ``tf``) as a tiled, deflate-compressed GeoTIFF.

    With ``cog``, as a Cloud Optimized GeoTIFF (GDAL's COG driver: tiles, overviews and
    the header first; https://gdal.org/drivers/raster/cog.html).
    """
    profile = {
        "driver": "GTiff",
        "width": array.shape[1],
        "height": array.shape[0],
        "count": 1,
        "dtype": dtype,
        "crs": "EPSG:4326",
        "transform": tf,
        "nodata": nodata,
        "compress": "deflate",
        "predictor": 2 if dtype.startswith("int") else 3,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    out = np.where(np.isnan(array), nodata, array).astype(dtype)
    if not cog:
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(out, 1)
        return
    with MemoryFile() as mem:
        with mem.open(**profile) as tmp:
            tmp.write(out, 1)
        with mem.open() as src:
            rio_copy(src, path, driver="COG", compress="deflate",
                     predictor=profile["predictor"], blocksize=256)


@dataclass(frozen=True)
class _Demo:
    """Every generated part of the demo region, before it is written."""

    real: sources.RealParts
    ter: terrain.Terrain
    st: settlements.Settlements
    road_attrs: pd.DataFrame
    road_geoms: list[shapely.Geometry]
    slide: NDArray[np.float64]
    water: pd.DataFrame
    households: pd.DataFrame
    vpov: pd.DataFrame
    flood: list[shapely.Geometry]
    redline: list[shapely.Geometry]
    reserve: shapely.Geometry
    services: pd.DataFrame
    infra: dict[str, tuple[pd.DataFrame, list[shapely.Geometry]]]
    tpolys: list[shapely.Geometry]
    vpolys: list[shapely.Geometry]


def make_demo_region(out_dir: str | Path, *, seed: int = DEMO_SEED, progress: bool = False,
                     force: bool = False) -> Path:
    """Generate the 花垣县 demo region into ``out_dir`` and return its ``region.yaml`` path.

    Parameters
    ----------
    out_dir
        Target folder; files are written to a temporary folder next to it and moved in
        only when all are written.
    seed
        Random seed; the same seed gives identical layers.
    progress
        Show a progress bar.
    force
        Write into an existing non-empty folder that contigmap did not write
        (:func:`contigmap.outdir.check_output_dir`).

    Returns
    -------
    Path
        The written ``region.yaml``.
    """
    out_dir = Path(out_dir)
    steps = tqdm(total=8, disable=not progress, desc="demo region")
    demo = _generate(np.random.default_rng(seed), steps)
    with staged_dir(out_dir, force=force) as tmp, fixed_gdal_date():
        _write_places(tmp, demo)
        _write_networks(tmp, demo)
        steps.update()
        write_yaml(tmp / "region.yaml", _manifest(seed))
        vt, vpov_i = demo.st.villages, demo.vpov.set_index("village_id")
        logger.info(
            "demo region: %d villages, %d hamlets, %d households, %d road lines, poverty %.1f%%",
            len(vt),
            len(demo.st.hamlets),
            len(demo.households),
            len(demo.road_attrs),
            100 * vpov_i["poor_pop"].sum() / vt["pop"].sum(),
        )
    steps.update()
    steps.close()
    return out_dir / "region.yaml"


def _generate(rng: np.random.Generator, steps: tqdm[Any]) -> _Demo:
    """Generate every part from ``rng``; the order of the steps fixes the random draws."""
    real = sources.load_real_parts()
    outline = real.outline
    county_km2 = float(gpd.GeoSeries([outline], crs=4326).to_crs(METRIC_CRS).area.iloc[0]) / 1e6
    ter = terrain.make_terrain(
        outline, real.coarse_dem, rng, elevation_range_m=sources.ELEVATION_RANGE_M
    )
    steps.update()
    st = settlements.make_settlements(
        ter,
        real.townships,
        real.villages,
        rural_pop=real.census["rural_pop"],
        rng=rng,
        county_seat_township=sources.COUNTY_SEAT_TOWNSHIP,
        county_seat_lonlat=sources.COUNTY_SEAT_LONLAT,
        fixed_village=sources.SHIBADONG_CODE,
        fixed_pop=SHIBADONG["pop"],
        fixed_households=SHIBADONG["households"],
        fixed_hamlets=SHIBADONG["hamlets"],
    )
    steps.update()
    road_attrs, road_geoms, access = roads.make_roads(ter, st, rng, county_area_km2=county_km2)
    steps.update()
    slide = hazards.landslide_susceptibility(ter, rng)
    water = infrastructure.make_water_sources(ter, rng)
    households, vpov = registry.make_households(
        _village_covariates(ter, st, access, slide, water), rng,
        fixed={sources.SHIBADONG_CODE: SHIBADONG["poor_pop"]},
    )
    households = add_housing_grade(households)  # its own seed: other figures unchanged
    steps.update()
    flood = hazards.flood_polygons(ter)
    redline, reserve = hazards.ecology_polygons(ter, rng)
    services = infrastructure.make_services(ter, st, real.townships, rng)
    services = health_services.add_health_services(services, st)
    infra = infrastructure.make_infrastructure(
        ter, st, road_attrs, road_geoms, access, rng, metric_crs=METRIC_CRS
    )
    steps.update()
    # boundaries: township and village partitions clipped to the real outline
    tf = ter.grid.transform
    tpolys = [
        shapely.intersection(p, outline)
        for p in _label_polygons(st.township_label, tf, len(real.townships))
    ]
    vpolys = _label_polygons(st.village_label, tf, len(st.villages))
    t_index = {t: i for i, t in enumerate(real.townships["township_id"])}
    vpolys = [
        shapely.intersection(p, tpolys[t_index[t]])
        for p, t in zip(vpolys, st.villages["township_id"], strict=True)
    ]
    steps.update()
    return _Demo(real, ter, st, road_attrs, road_geoms, slide, water, households, vpov,
                 flood, redline, reserve, services, infra, tpolys, vpolys)


def _village_covariates(ter: terrain.Terrain, st: settlements.Settlements,
                        access: pd.DataFrame, slide: NDArray[np.float64],
                        water: pd.DataFrame) -> pd.DataFrame:
    """Return the village table with what poverty depends on (elevation, access, water...)."""
    vt = st.villages
    cells = vt["cell"].to_numpy().astype(np.int64)
    vm = gpd.GeoSeries(gpd.points_from_xy(vt["x"], vt["y"]), crs=4326).to_crs(METRIC_CRS)
    wm = gpd.GeoSeries(gpd.points_from_xy(water["lon"], water["lat"]), crs=4326).to_crs(METRIC_CRS)
    wxy = np.column_stack([wm.x, wm.y])
    water_dist = np.array([np.hypot(*(wxy - (p.x, p.y)).T).min() for p in vm])
    return vt.assign(
        elev_m=ter.grid.array.ravel()[cells],
        slope_deg=ndimage.uniform_filter(ter.slope_deg, 3).ravel()[cells],
        access_cost_m=np.nan_to_num(access["access_cost_m"].to_numpy(), posinf=5e4),
        hardened=access["hardened"].to_numpy(),
        water_dist_m=water_dist,
        landslide=np.nan_to_num(slide.ravel()[cells]),
    )


def _write_places(tmp: Path, demo: _Demo) -> None:
    """Write the boundaries, villages (points and areas) and hamlets."""
    cgcs = "EPSG:4490"
    real, vt = demo.real, demo.st.villages
    county = gpd.GeoDataFrame(
        {
            "county_id": [sources.COUNTY_CODE],
            "name": ["花垣县"],
            "pop_2020": [real.census["pop"]],
            "rural_pop_2020": [real.census["rural_pop"]],
        },
        geometry=[real.outline],
        crs=4326,
    )
    county.to_file(tmp / "boundaries.gpkg", layer="county", driver="GPKG")
    gpd.GeoDataFrame(
        {"township_id": real.townships["township_id"], "name": real.townships["name"]},
        geometry=demo.tpolys,
        crs=4326,
    ).to_file(tmp / "boundaries.gpkg", layer="townships", driver="GPKG")
    vill = pd.DataFrame(
        {
            "村代码": vt["village_id"],
            "村名": vt["name"],
            "乡镇代码": vt["township_id"],
            "类型": np.where(vt["community"], "社区", "村"),
            "人口": vt["pop"],
            "户数": vt["households"],
        }
    )
    gpd.GeoDataFrame(vill, geometry=gpd.points_from_xy(vt["x"], vt["y"]), crs=4326).to_crs(
        cgcs
    ).to_file(tmp / "villages.gpkg", layer="villages", driver="GPKG")
    gpd.GeoDataFrame(
        {"村代码": vt["village_id"], "村名": vt["name"]}, geometry=demo.vpolys, crs=4326
    ).to_crs(cgcs).to_file(tmp / "villages.gpkg", layer="village_areas", driver="GPKG")
    hm = demo.st.hamlets
    pd.DataFrame(
        {
            "hamlet_id": hm["hamlet_id"],
            "village_code": hm["village_id"],
            "name": hm["name"],
            "pop": hm["pop"],
            "households": hm["households"],
            "lon": hm["x"].round(6),
            "lat": hm["y"].round(6),
        }
    ).to_csv(tmp / "hamlets.csv", index=False, encoding="utf-8")


def _write_networks(tmp: Path, demo: _Demo) -> None:
    """Write roads, services, households, hazards, ecology, infrastructure, rivers, rasters."""
    rd = demo.road_attrs.copy()
    rd.insert(0, "road_id", [f"R{i + 1:05d}" for i in range(len(rd))])
    rd = rd[["road_id", "road_class", "surface", "name", "bridge", "tunnel"]]
    gpd.GeoDataFrame(rd, geometry=demo.road_geoms, crs=4326).to_parquet(tmp / "roads.parquet")
    services = demo.services
    services.assign(lon=services["lon"].round(6), lat=services["lat"].round(6)).to_csv(
        tmp / "services.csv", index=False, encoding="utf-8"
    )
    demo.households.to_csv(tmp / "households.csv", index=False, encoding="utf-8")
    gpd.GeoDataFrame(
        {"hazard_id": [f"FL{i + 1:03d}" for i in range(len(demo.flood))], "kind": "flood"},
        geometry=demo.flood,
        crs=4326,
    ).to_file(tmp / "hazards.gpkg", layer="flood", driver="GPKG")
    gpd.GeoDataFrame(
        {
            "eco_id": [f"EL{i + 1:03d}" for i in range(len(demo.redline))],
            "kind": "redline",
            "name": "生态保护红线（示意）",
        },
        geometry=demo.redline,
        crs=4326,
    ).to_file(tmp / "ecology.gpkg", layer="redline", driver="GPKG")
    gpd.GeoDataFrame(
        {"eco_id": ["NR001"], "kind": ["reserve"], "name": ["古苗河自然保护区（示意）"]},
        geometry=[demo.reserve],
        crs=4326,
    ).to_file(tmp / "ecology.gpkg", layer="reserve", driver="GPKG")
    for name, (attrs, geoms) in demo.infra.items():
        gpd.GeoDataFrame(attrs, geometry=geoms, crs=4326).to_file(
            tmp / "infrastructure.gpkg", layer=name, driver="GPKG"
        )
    water = demo.water
    gpd.GeoDataFrame(
        water.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(water["lon"], water["lat"]),
        crs=4326,
    ).to_file(tmp / "infrastructure.gpkg", layer="water_sources", driver="GPKG")
    rivers, areas = terrain.river_lines(demo.ter)
    gpd.GeoDataFrame(
        {
            "river_id": [f"H{i + 1:04d}" for i in range(len(rivers))],
            "upstream_km2": np.round(areas, 1),
        },
        geometry=rivers,
        crs=4326,
    ).to_file(tmp / "rivers.gpkg", layer="rivers", driver="GPKG")
    ter = demo.ter
    write_raster(tmp / "dem.tif", ter.dem.array, ter.dem.transform, "int16", -32768)
    write_raster(tmp / "landslide.tif", demo.slide, ter.grid.transform, "float32", -9999.0)


def _census_household_size() -> float:
    """Read the county's 2020 census household size (户规模 of ``census2020.csv``)."""
    row = pd.read_csv(sources._data_dir() / "census2020.csv", dtype={"区划代码": str}).iloc[0]
    return float(row["户规模"])


def _manifest(seed: int) -> dict[str, Any]:
    size = _census_household_size()
    return {
        "name": "huayuan",
        "title": "花垣县",
        "working_crs": "auto",
        "illustrative": True,
        "source_note": SOURCE_NOTE.format(seed=seed),
        # the county's own census household size (户规模), for villages without a count
        "household_size": size,
        "household_size_source": f"2020 census, 花垣县: {size:g} people per family household "
                                 "(户规模, census2020.csv)",
        "layers": region_layers(),
    }


def region_layers() -> dict[str, Any]:
    """Return the ``layers:`` of a region written like the demo (file names and columns).

    Shared by the demo and the counties of a synthetic area (:mod:`.area`).
    """
    return {
        "villages": {
            "path": "villages.gpkg",
            "layer": "villages",
            "id": "village_id",
            "columns": {
                "村代码": "village_id",
                "村名": "name",
                "乡镇代码": "township_id",
                "类型": "kind",
                "人口": "pop",
                "户数": "households",
            },
        },
        "village_areas": {
            "path": "villages.gpkg",
            "layer": "village_areas",
            "id": "village_id",
            "columns": {"村代码": "village_id", "村名": "name"},
        },
        "hamlets": {
            "path": "hamlets.csv",
            "id": "hamlet_id",
            "x": "lon",
            "y": "lat",
            "crs": "EPSG:4326",
            "columns": {"village_code": "village_id"},
        },
        "boundaries": {
            "county": {"path": "boundaries.gpkg", "layer": "county", "id": "county_id"},
            "townships": {"path": "boundaries.gpkg", "layer": "townships", "id": "township_id"},
        },
        "roads": {"path": "roads.parquet", "id": "road_id"},
        "dem": {"path": "dem.tif"},
        "rivers": {"path": "rivers.gpkg", "layer": "rivers", "id": "river_id"},
        "hazards": {
            "landslide": {"path": "landslide.tif"},
            "flood": {"path": "hazards.gpkg", "layer": "flood", "id": "hazard_id"},
        },
        "ecology": {
            "redline": {"path": "ecology.gpkg", "layer": "redline", "id": "eco_id"},
            "reserve": {"path": "ecology.gpkg", "layer": "reserve", "id": "eco_id"},
        },
        "services": {
            "path": "services.csv",
            "id": "service_id",
            "x": "lon",
            "y": "lat",
            "crs": "EPSG:4326",
        },
        "infrastructure": {
            name: {"path": "infrastructure.gpkg", "layer": name, "id": idc}
            for name, idc in (
                ("power_lines", "line_id"),
                ("substations", "substation_id"),
                ("fibre", "fibre_id"),
                ("towers", "tower_id"),
                ("water_sources", "source_id"),
            )
        },
        "households": {
            "path": "households.csv",
            "id": "household_id",
            "complete": True,  # the synthetic registry lists every household
            "columns": {"village_code": "village_id"},
        },
    }
