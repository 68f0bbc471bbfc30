"""Tiny hand-checkable fixtures written into tmp_path.

``tiny_region`` is a made-up county near 花垣县 laid out in EPSG:4545 (CGCS2000 3-degree
Gauss–Krüger, CM 108°E), so that lengths and areas can be checked by hand:

- county: the rectangle x 630,000–640,000 m, y 3,140,000–3,148,000 m (10 km × 8 km = 80 km²);
- townships: its west and east halves (5 km × 8 km each);
- villages: 4 points (CSV in WGS84 lon/lat), pop 100 + 200 + 300 + 400 = 1,000;
- roads: a 10 km paved county road, a 3 km gravel village road, a 2 km earth track
  (15 km in all: 0.1875 km/km²);
- households: 6 households (CSV, 是/否 poor flag) in 2 villages, members 4, 3, 5, 2, 6, 1
  (21 people), poor: the households of 4, 5 and 1 members (10 poor people);
- dem: a 10 × 8 GeoTIFF of 1 km cells, value = 200 + 10 * column;
- hazards.flood: one polygon (GeoJSON, lon/lat); services: 2 points (CSV, GCJ-02).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point, box

WORK_CRS = "EPSG:4545"
X0, Y0 = 630_000.0, 3_140_000.0
VILLAGE_CODES = ["433124100201", "433124100202", "433124101201", "433124101202"]


@dataclass
class TinyRegion:
    path: Path
    folder: Path


def to_lonlat(x: list[float], y: list[float]) -> tuple[np.ndarray, np.ndarray]:
    tr = Transformer.from_crs(WORK_CRS, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(np.asarray(x), np.asarray(y))
    return np.asarray(lon), np.asarray(lat)


def write_tiny_region(
    folder: Path, *, extra_yaml: str = "", villages_csv: str | None = None, seats: bool = False
) -> Path:
    import rasterio
    from affine import Affine

    from contigmap.crs import wgs84_to_gcj02

    folder.mkdir(parents=True, exist_ok=True)
    county = gpd.GeoDataFrame(
        {"code": ["433124"], "name": ["花垣县"]},
        geometry=[box(X0, Y0, X0 + 10_000, Y0 + 8_000)],
        crs=WORK_CRS,
    )
    county.to_file(folder / "admin.gpkg", layer="county", engine="pyogrio")
    townships = gpd.GeoDataFrame(
        {"township_id": ["433124100", "433124101"], "name": ["花垣镇", "双龙镇"]},
        geometry=[
            box(X0, Y0, X0 + 5_000, Y0 + 8_000),
            box(X0 + 5_000, Y0, X0 + 10_000, Y0 + 8_000),
        ],
        crs=WORK_CRS,
    )
    townships.to_file(folder / "admin.gpkg", layer="townships", engine="pyogrio")

    vx = [X0 + 2_000, X0 + 3_000, X0 + 7_000, X0 + 8_000]
    vy = [Y0 + 2_000, Y0 + 6_000, Y0 + 2_000, Y0 + 6_000]
    lon, lat = to_lonlat(vx, vy)
    if villages_csv is None:
        rows = ["村代码,村名,乡镇代码,人口,经度,纬度"]
        names = ["一村", "二村", "十八洞村", "四村"]
        tids = ["433124100", "433124100", "433124101", "433124101"]
        for i in range(4):
            rows.append(
                f"{VILLAGE_CODES[i]},{names[i]},{tids[i]},{100 * (i + 1)},{lon[i]:.8f},{lat[i]:.8f}"
            )
        villages_csv = "\n".join(rows) + "\n"
    (folder / "villages.csv").write_text(villages_csv, encoding="utf-8")

    roads = gpd.GeoDataFrame(
        {
            "RID": [1, 2, 3],
            "等级": ["县道", "村道", "track"],
            "路面": ["硬化路面", "gravel", "土路"],
        },
        geometry=[
            LineString([(X0, Y0 + 4_000), (X0 + 10_000, Y0 + 4_000)]),
            LineString(
                [(X0 + 2_000, Y0 + 2_000), (X0 + 2_000, Y0 + 4_000), (X0 + 3_000, Y0 + 4_000)]
            ),
            LineString([(X0 + 7_000, Y0 + 4_000), (X0 + 7_000, Y0 + 2_000)]),
        ],
        crs=WORK_CRS,
    )
    roads.to_file(folder / "roads.gpkg", layer="roads", engine="pyogrio")

    hh = pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3", "H4", "H5", "H6"],
            "village_id": [VILLAGE_CODES[0]] * 3 + [VILLAGE_CODES[2]] * 3,
            "members": [4, 3, 5, 2, 6, 1],
            "poor": ["是", "否", "是", "否", "否", "是"],
        }
    )
    if seats:  # a complete registry: every village has households
        hh = pd.concat([hh, pd.DataFrame({
            "household_id": ["H7", "H8"], "village_id": [VILLAGE_CODES[1], VILLAGE_CODES[3]],
            "members": [3, 4], "poor": ["是", "否"],
        })], ignore_index=True)
    hh.to_csv(folder / "households.csv", index=False, encoding="utf-8-sig")

    transform = Affine(1000.0, 0.0, X0, 0.0, -1000.0, Y0 + 8_000)
    dem = (200.0 + 10.0 * np.arange(10)[None, :] + np.zeros((8, 1))).astype("float32")
    with rasterio.open(
        folder / "dem.tif",
        "w",
        driver="GTiff",
        width=10,
        height=8,
        count=1,
        dtype="float32",
        crs=WORK_CRS,
        transform=transform,
        nodata=-9999.0,
    ) as dst:
        dst.write(dem, 1)

    fx, fy = to_lonlat([X0 + 1_000, X0 + 4_000], [Y0 + 3_000, Y0 + 5_000])
    flood = gpd.GeoDataFrame(
        {"hazard_id": ["F1"], "level": ["high"]},
        geometry=[box(fx[0], fy[0], fx[1], fy[1])],
        crs="EPSG:4326",
    )
    flood.to_file(folder / "flood.geojson", driver="GeoJSON", engine="pyogrio")

    rows = [("卫生院", "花垣镇卫生院"), ("school", "双龙小学")]
    xs, ys = [X0 + 2_500, X0 + 7_500], [Y0 + 4_000, Y0 + 4_000]
    if seats:  # a county seat and both township seats (township_id from the polygons)
        rows += [("county_seat", "县城"), ("township_seat", "西镇"), ("township_seat", "东镇")]
        xs += [X0 + 2_500, X0 + 2_500, X0 + 7_500]
        ys += [Y0 + 4_000, Y0 + 4_000, Y0 + 4_000]
    sx, sy = to_lonlat(xs, ys)
    glon, glat = wgs84_to_gcj02(sx, sy)
    services = "id,kind,name,lng,lat\n" + "".join(
        f"S{i + 1},{kind},{name},{glon[i]:.8f},{glat[i]:.8f}\n"
        for i, (kind, name) in enumerate(rows)
    )
    (folder / "services.csv").write_text(services, encoding="utf-8")

    manifest = f"""\
name: tiny
title: 小县
working_crs: auto
illustrative: true
layers:
  villages:
    path: villages.csv
    x: 经度
    y: 纬度
    id: village_id
    columns: {{村代码: village_id, 村名: name, 乡镇代码: township_id, 人口: pop}}
  roads:
    path: roads.gpkg
    id: road_id
    columns: {{RID: road_id, 等级: road_class, 路面: surface}}
  boundaries:
    county: {{path: admin.gpkg, layer: county, id: county_id, columns: {{code: county_id}}}}
    townships: {{path: admin.gpkg, layer: townships, id: township_id}}
  households: {{path: households.csv, id: household_id}}
  dem: {{path: dem.tif}}
  hazards:
    flood: {{path: flood.geojson, id: hazard_id}}
  services: {{path: services.csv, id: service_id, columns: {{id: service_id}}, datum: gcj02}}
{extra_yaml}"""
    path = folder / "region.yaml"
    path.write_text(manifest, encoding="utf-8")
    return path


@pytest.fixture
def seated_region(tmp_path: Path) -> TinyRegion:
    """``tiny_region`` with a county seat and both township seats among its services.

    Its registry also covers all four villages (two more households, H7 and H8).
    """
    folder = tmp_path / "seated"
    return TinyRegion(path=write_tiny_region(folder, seats=True), folder=folder)


@pytest.fixture
def tiny_region(tmp_path: Path) -> TinyRegion:
    folder = tmp_path / "tiny"
    path = write_tiny_region(folder)
    return TinyRegion(path=path, folder=folder)


@pytest.fixture
def point_gdf() -> gpd.GeoDataFrame:
    """Three villages in lon/lat with 12-digit codes (one with a leading zero)."""
    return gpd.GeoDataFrame(
        {
            "village_id": ["433124100201", "043312410020", "433124101201"],
            "name": ["一村", "二村", "十八洞村"],
            "township_id": ["433124100", "433124100", "433124101"],
            "pop": [120, 340, 939],
        },
        geometry=[Point(109.40, 28.40), Point(109.45, 28.45), Point(109.50, 28.50)],
        crs="EPSG:4490",
    )
