"""Tests for the synthetic region generators (contigmap.synth)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
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


@pytest.mark.slow
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


# --- demo region components ---------------------------------------------------------------

import pandas as pd  # noqa: E402

from contigmap.synth import registry, settlements, sources  # noqa: E402


def test_poor_households_fill_the_target_in_the_drawn_order() -> None:
    members = np.array([4, 3, 5, 2])
    # in order 0, 1, 2, 3 towards 9 poor people: 4, 4 + 3 = 7, 7 + 5 > 9 skipped, 7 + 2 = 9
    poor, got = registry._pick_poor(members, np.arange(4), 9, exact=False)
    assert (poor.tolist(), got) == ([True, True, False, True], 9)
    # in order 2, 0, ...: 5, 5 + 4 = 9, done
    poor, got = registry._pick_poor(members, np.array([2, 0, 1, 3]), 9, exact=False)
    assert (poor.tolist(), got) == ([True, False, True, False], 9)
    # greedy in this order stops short of 10 at 4 + 3 + 2 = 9 (5 no longer fits), and no
    # household has the missing 1 member, so even an exact target stays at 9
    poor, got = registry._pick_poor(members, np.arange(4), 10, exact=True)
    assert (poor.tolist(), got) == ([True, True, False, True], 9)


def test_display_names_and_codes() -> None:
    assert sources.display_village_name("十八洞村村民委员会") == "十八洞村"
    assert sources.display_village_name("龙潭社区居委会") == "龙潭社区"
    assert sources.display_village_name("茶洞社区") == "茶洞社区"
    assert sources.is_community("433124102003")
    assert not sources.is_community("433124110226")
    real = sources.load_real_parts()
    assert len(real.townships) == 12 and len(real.villages) == 228
    assert real.villages["village_id"].str.len().eq(12).all()
    row = real.villages.set_index("village_id").loc["433124110226"]
    assert row["name"] == "十八洞村" and row["township_id"] == "433124110"
    assert real.census["rural_pop"] == 160291


def test_largest_remainder_sums_exactly() -> None:
    w = np.array([1.0, 2.0, 3.0, 0.5])
    out = settlements.largest_remainder(w, 1001)
    assert out.sum() == 1001
    assert np.all(np.abs(out - w / w.sum() * 1001) < 1.0)


def test_registry_figures() -> None:
    rng = np.random.default_rng(5)
    n = 40
    villages = pd.DataFrame(
        {
            "village_id": [f"4331241102{i:02d}" for i in range(n)],
            "pop": rng.integers(300, 1500, n),
            "community": np.arange(n) < 3,
            "elev_m": rng.uniform(250, 900, n),
            "slope_deg": rng.uniform(3, 30, n),
            "access_cost_m": rng.uniform(100, 20000, n),
            "hardened": rng.random(n) < 0.6,
            "water_dist_m": rng.uniform(100, 5000, n),
            "landslide": rng.random(n),
        }
    )
    villages.loc[5, ["pop"]] = 939
    villages["households"] = np.round(villages["pop"] / 3.4).astype(int)
    villages.loc[5, "households"] = 225
    fixed_id = villages.at[5, "village_id"]
    hh, _ = registry.make_households(villages, rng, fixed={fixed_id: 533})
    # sums computed independently from the household rows
    by_v = hh.groupby("village_code")
    sums = by_v["members"].sum().reindex(villages["village_id"]).to_numpy()
    assert (sums == villages["pop"].to_numpy()).all()
    assert (by_v.size().reindex(villages["village_id"]).to_numpy() == villages["households"]).all()
    poor_pop = (hh["members"] * hh["poor"]).groupby(hh["village_code"]).sum()
    assert poor_pop[fixed_id] == 533
    assert len(hh[hh["village_code"] == fixed_id]) == 225
    incidence = poor_pop.sum() / hh["members"].sum()
    assert 0.15 <= incidence <= 0.25
    assert (hh["members"] >= 1).all()
    assert set(hh.loc[hh["poor"] == 1, "cause"]) <= set(POVERTY_CAUSES.values())
    assert (hh.loc[hh["poor"] == 0, "cause"] == "").all()
    assert hh["household_id"].is_unique


from contigmap.schema import POVERTY_CAUSES  # noqa: E402

# --- the committed demo layers (read only; regenerating is the lead's end-to-end test) ----

DEMO = Path(__file__).resolve().parents[1] / "layers" / "huayuan"


@pytest.mark.slow
def test_committed_demo_layers() -> None:
    region = load_region(DEMO / "region.yaml")
    assert region.illustrative and region.name == "huayuan"
    villages = gpd.read_file(DEMO / "villages.gpkg", layer="villages")
    assert villages.crs.to_epsg() == 4490
    assert len(villages) == 228 and villages["村代码"].str.len().eq(12).all()
    hamlets = pd.read_csv(DEMO / "hamlets.csv", dtype={"village_code": str})
    assert hamlets["pop"].sum() == villages["人口"].sum() == 160291
    counts = hamlets.groupby("village_code").size()
    assert counts.between(4, 15).all() and counts["433124110226"] == 4
    hh = pd.read_csv(DEMO / "households.csv", dtype={"village_code": str})
    assert hh["members"].sum() == 160291
    shibadong = hh[hh["village_code"] == "433124110226"]
    assert (len(shibadong), shibadong["members"].sum()) == (225, 939)
    assert (shibadong["members"] * shibadong["poor"]).sum() == 533
    poor_pop = (hh["members"] * hh["poor"]).groupby(hh["village_code"]).sum()
    incidence = poor_pop / hh.groupby("village_code")["members"].sum()
    assert 0.15 <= poor_pop.sum() / hh["members"].sum() <= 0.25
    assert incidence.min() < 0.08 and incidence.max() > 0.5
    roads = gpd.read_parquet(DEMO / "roads.parquet")
    county = gpd.read_file(DEMO / "boundaries.gpkg", layer="county")
    # density in an equal-area CRS (Albers for China), independent of the generator's UTM
    albers = "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +ellps=WGS84"
    area_km2 = county.to_crs(albers).area.sum() / 1e6
    assert abs(area_km2 - 1111) / 1111 < 0.02
    density = roads.to_crs(albers).length.sum() / 1000 / area_km2
    assert 1.0 <= density <= 1.3
    assert roads["bridge"].any()
    assert {"national", "county", "village", "track", "path"} <= set(roads["road_class"])
    assert_clean_topology(roads.geometry)


# --- terrain, infrastructure and determinism of the demo generator -----------------------

import sqlite3  # noqa: E402

from contigmap.io.writers import fixed_gdal_date  # noqa: E402
from contigmap.synth import terrain as synth_terrain  # noqa: E402


def test_fractal_surface_rolloff_and_corner_smooth_it() -> None:
    shape = (128, 128)
    plain = synth_terrain.fractal_surface(shape, np.random.default_rng(1), beta=3.0)
    damped = synth_terrain.fractal_surface(
        shape, np.random.default_rng(1), beta=3.0, rolloff=0.05, corner=0.02
    )
    for surf in (plain, damped):
        assert abs(surf.mean()) < 1e-9 and abs(surf.std() - 1.0) < 1e-9
    # the same noise with less power at short wavelengths: smaller cell-to-cell steps
    assert np.abs(np.diff(damped, axis=1)).mean() < 0.5 * np.abs(np.diff(plain, axis=1)).mean()


def test_fixed_gdal_date_stamps_geopackages(tmp_path: Path) -> None:
    import os

    before = os.environ.get("OGR_CURRENT_DATE")
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=4326)
    with fixed_gdal_date("2000-01-01T00:00:00Z"):
        gdf.to_file(tmp_path / "x.gpkg", layer="x", driver="GPKG")
    assert os.environ.get("OGR_CURRENT_DATE") == before
    with sqlite3.connect(tmp_path / "x.gpkg") as con:
        (stamp,) = con.execute("select last_change from gpkg_contents").fetchone()
    assert stamp.startswith("2000-01-01T00:00:00")


@pytest.mark.slow
def test_committed_demo_terrain_and_infrastructure() -> None:
    import rasterio
    from pyproj import CRS
    from rasterio import features

    from contigmap.raster import Raster
    from contigmap.terrain import slope_deg

    with rasterio.open(DEMO / "dem.tif") as src:
        z = src.read(1).astype(float)
        z[z == src.nodata] = np.nan
        dem = Raster(z, src.transform, CRS.from_user_input(src.crs.to_wkt()), "dem")
    county = gpd.read_file(DEMO / "boundaries.gpkg", layer="county")
    inside = features.geometry_mask(
        county.geometry, out_shape=z.shape, transform=dem.transform, invert=True
    )
    assert (np.nanmin(z[inside]), np.nanmax(z[inside])) == (227.0, 922.0)
    slope = slope_deg(dem).array[inside]
    assert 12.0 <= np.median(slope) <= 20.0
    assert np.percentile(slope, 90) < 35.0
    # village mean slopes differ between villages
    areas = gpd.read_file(DEMO / "villages.gpkg", layer="village_areas").to_crs(4326)
    label = features.rasterize(
        [(g, i + 1) for i, g in enumerate(areas.geometry)],
        out_shape=z.shape,
        transform=dem.transform,
    )
    full = slope_deg(dem).array
    ok = (label > 0) & ~np.isnan(full)
    sums = np.bincount(label[ok], weights=full[ok], minlength=len(areas) + 1)[1:]
    means = sums / np.maximum(np.bincount(label[ok], minlength=len(areas) + 1)[1:], 1)
    assert np.percentile(means, 90) - np.percentile(means, 10) > 8.0

    utm = "EPSG:32649"
    villages = gpd.read_file(DEMO / "villages.gpkg", layer="villages").to_crs(utm)
    infra = DEMO / "infrastructure.gpkg"
    lines = gpd.read_file(infra, layer="power_lines").to_crs(utm)
    d_power = villages.geometry.apply(lambda p: lines.distance(p).min()).to_numpy()
    # lines run beside the roads (20–50 m off) and stop short of the villages
    assert (d_power < 10.0).mean() < 0.02
    assert 0.08 <= (d_power > 1000).mean() <= 0.2  # most villages are on the grid
    transformers = gpd.read_file(infra, layer="transformers")
    assert len(transformers) >= 0.8 * len(villages)
    springs = gpd.read_file(infra, layer="water_sources").to_crs(utm)
    d_water = villages.geometry.apply(lambda p: springs.distance(p).min()).to_numpy()
    elev = dem.sample_bilinear(
        *np.array(
            gpd.read_file(DEMO / "villages.gpkg", layer="villages")
            .to_crs(4326)
            .geometry.get_coordinates()
        ).T
    )
    high = elev > np.nanquantile(elev, 2 / 3)
    assert np.median(d_water[high]) > 1.5 * np.median(d_water[~high])
