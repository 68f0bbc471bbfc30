"""``make_handover_region``: a small county in the shapes of issue #19, without a manifest.

Entirely synthetic (seeded) and small (4 townships, 40 villages, a few hundred road
lines). It reuses the road network, villages, outline and terrain of
:mod:`contigmap.synth.messy` (by calling its building blocks) but writes them the way a
second county office hands data over, for ``contigmap init`` to draft the manifest:

* **village polygons** (``村界.gdb``, an ESRI File Geodatabase, CGCS2000 lon/lat): the
  villages' Voronoi cells clipped to the county; codes stored as Real fields
  (``360799101201.0``);
* **statistics workbook** (``人口统计表.xlsx``): two title rows, a two-row merged header
  (人口情况 → 户籍人口, 户数; 贫困情况 → 贫困户数, 贫困人口), a 小计 row after each
  township, a 合计 row and a note row (注：...); joined onto the villages by code, it is
  the source of population, households and poor people (incidence);
* **roads** from two files: ``农村公路.gpkg`` (the county's rural roads, Gauss–Krüger
  metres) and ``osm_roads.osm.pbf`` (an OpenStreetMap-style extract written with
  pyosmium) repeating the county and township roads and a third of the village roads
  4 m to the side, with ``highway``/``surface`` tags (``unpaved``, some missing);
* **DEM** (``DEM/dem_r?c?.tif``): four GeoTIFF tiles, nodata -32768, with a 3 × 3-cell
  void under one village;
* **services** (``公共服务设施_百度.csv``): Baidu BD-09 longitude / latitude; township
  seats with degrees-minutes-seconds text (``113°12′34.56″``); health centres, schools,
  village clinics (村卫生室), one clinic listed twice 20 m apart and one clinic of the
  neighbouring county 800 m outside the outline;
* **hazard points** (``地质灾害隐患点.kmz``): Placemarks in two folders (滑坡, 崩塌);
* **registry** (``建档立卡户名单.xlsx``): poor (建档立卡户) and edge (边缘户) households
  only, with 户主姓名 and 18-digit 身份证号 (fake, valid GB 11643 check characters) and
  致贫原因;
* **county outline** (``县界.geojson``).

The truth the generator used (pop, households, poor people per village) can be written
to a CSV outside the region folder (``truth_csv``) for tests.

Deterministic: the same seed gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import logging
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from numpy.typing import NDArray

from contigmap.crs import wgs84_to_bd09
from contigmap.io.writers import fixed_gdal_date
from contigmap.io.xlsx import SheetSpec, write_workbook, write_xlsx
from contigmap.synth._io import staged_dir
from contigmap.synth.messy import (
    _base_county,
    _county_layer,
    _dem,
    _Frame,
    _lonlat,
    _Villages,
)
from contigmap.synth.messy_style import COUNTY_CODE, FIXTURE, HOUSEHOLD_SIZE

__all__ = ["HANDOVER_SEED", "make_handover_region"]

logger = logging.getLogger(__name__)

HANDOVER_SEED = 1919

STYLE = dataclasses.replace(
    FIXTURE, title="示例县（移交数据）",
    townships=(("东坪镇", "县城"), ("石门乡", "乡"), ("白沙镇", "镇"), ("龙溪乡", "乡")),
    road_cols={"road_id": "路线编码", "road_class": "行政等级", "surface": "路面类型",
               "bridge": "是否桥梁", "name": "路线名称"},
)
"""The messy fixture's zone and headers, with four townships (40 villages)."""

_OSM_HIGHWAY = {"县道": "secondary", "乡道": "unclassified", "村道": "residential",
                "机耕道": "track"}
_OSM_SURFACE = {"沥青": "asphalt", "水泥": "concrete", "砂石": "gravel", "土路": "unpaved"}
_SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
_GIVEN = tuple("明华建国平志强秀英兰芳军伟红玉桂春生福")
_CAUSES = ("因病", "因残", "因学", "缺资金", "缺技术", "缺劳力", "交通条件落后", "因灾")
_CAUSE_P = (0.30, 0.15, 0.10, 0.15, 0.10, 0.08, 0.08, 0.04)
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])


def id_check_char(first17: str) -> str:
    """Return the GB 11643-1999 check character of an ID number's first 17 digits."""
    total = int(np.dot(np.array([int(c) for c in first17]), _ID_WEIGHTS))
    return "10X98765432"[total % 11]


def make_handover_region(out_dir: str | Path, *, seed: int = HANDOVER_SEED,
                         force: bool = False, truth_csv: str | Path | None = None) -> Path:
    """Generate the handover region into ``out_dir`` (no ``region.yaml``: run ``init``).

    Parameters
    ----------
    out_dir
        Target folder (written whole through a staging folder).
    seed
        Random seed; the same seed gives byte-identical files.
    force
        Write into an existing non-empty folder that contigmap did not write.
    truth_csv
        Where to write the truth per village (``village_id``, ``pop``, ``households``,
        ``poor_pop``, ``poor_households``, ``on_dem_void``: the village over the DEM's
        void); keep it outside ``out_dir``.

    Returns
    -------
    Path
        The folder written.
    """
    out_dir = Path(out_dir)
    st = STYLE
    rng = np.random.default_rng(seed)
    base = _base_county(rng, st)
    fr, outline, nxy, vil, roads = (base.frame, base.outline, base.nodes_xy, base.villages,
                                    base.roads)
    truth = _truth(rng, vil)
    dem, transform = _dem(rng, fr)
    on_void = int(rng.integers(len(vil.xy)))
    void = _void(dem, transform, vil.xy[on_void])
    truth["on_dem_void"] = np.arange(len(truth)) == on_void
    services = _services(rng, fr, nxy, vil, outline)
    hazards_kml = _hazard_kml(rng, fr)
    registry = _registry(rng, vil, truth)
    areas = _village_areas(vil, outline)
    county = _county_layer(outline, st)
    with staged_dir(out_dir, force=force) as tmp, fixed_gdal_date():
        _write_gdb(areas, tmp / "村界.gdb")
        _write_statistics(truth, vil, tmp / "人口统计表.xlsx")
        roads.to_file(tmp / "农村公路.gpkg", layer="农村公路", driver="GPKG")
        _write_osm(roads, st.metric_epsg, tmp / "osm_roads.osm.pbf")
        _write_dem_tiles(dem, transform, st.metric_epsg, tmp / "DEM")
        services.to_csv(tmp / "公共服务设施_百度.csv", index=False, encoding="utf-8")
        _write_kmz(hazards_kml, tmp / "地质灾害隐患点.kmz")
        write_xlsx({"建档立卡户": registry}, tmp / "建档立卡户名单.xlsx", formats=False)
        (tmp / "县界.geojson").write_text(county.to_json(drop_id=True, ensure_ascii=False),
                                          encoding="utf-8")
    if truth_csv is not None:
        truth.to_csv(truth_csv, index=False)
    logger.info("handover region: %d villages, %d road lines, %d registry households, "
                "DEM void of %d cells", len(vil.codes), len(roads), len(registry), void)
    return out_dir


def _write_gdb(areas: gpd.GeoDataFrame, path: Path) -> None:
    """Write the File Geodatabase with GDAL's reproducible UUIDs (same bytes each time).

    ``OPENFILEGDB_REPRODUCIBLE_UUID`` is the OpenFileGDB driver's configuration option
    for tests (GDAL >= 3.6); without it each write draws new dataset GUIDs.
    """
    import pyogrio

    old = pyogrio.get_gdal_config_option("OPENFILEGDB_REPRODUCIBLE_UUID")
    pyogrio.set_gdal_config_options({"OPENFILEGDB_REPRODUCIBLE_UUID": "YES"})
    try:
        areas.to_file(path, layer="村界", driver="OpenFileGDB")
    finally:
        pyogrio.set_gdal_config_options({"OPENFILEGDB_REPRODUCIBLE_UUID": old})


def _truth(rng: np.random.Generator, vil: _Villages) -> pd.DataFrame:
    """Households, poor people and poor households per village (the statistics' figures)."""
    nv = len(vil.codes)
    incidence = rng.uniform(0.03, 0.35, nv)
    households = np.round(vil.pop / HOUSEHOLD_SIZE * rng.uniform(0.9, 1.1, nv)).astype(int)
    poor_pop = np.round(vil.pop * incidence).astype(int)
    poor_hh = np.maximum(np.round(poor_pop / 3.3).astype(int), (poor_pop > 0).astype(int))
    return pd.DataFrame({"village_id": vil.codes, "name": vil.names,
                         "township_id": [vil.t_codes[t] for t in vil.town],
                         "pop": vil.pop, "households": households, "poor_pop": poor_pop,
                         "poor_households": poor_hh})


def _void(dem: NDArray[np.int16], transform: Any, xy: NDArray[np.float64]) -> int:
    """Set a 3 x 3-cell void (-32768) under the point ``xy`` (in place); return the cells."""
    col, row = ~transform @ (float(xy[0]), float(xy[1]))
    r, c = int(row), int(col)
    dem[r - 1: r + 2, c - 1: c + 2] = -32768
    return 9


def _village_areas(vil: _Villages, outline: shapely.Geometry) -> gpd.GeoDataFrame:
    """Village polygons: Voronoi cells of the village points within the outline (lon/lat)."""
    pts = shapely.points(vil.xy)
    cells = shapely.get_parts(shapely.voronoi_polygons(
        shapely.MultiPoint(vil.xy), extend_to=outline.buffer(5000)))
    areas = []
    for p in pts:
        cell = next(c for c in cells if c.contains(p))
        areas.append(shapely.intersection(cell, outline))
    geo = gpd.GeoSeries(areas, crs=STYLE.metric_epsg).to_crs(4490)
    return gpd.GeoDataFrame({
        "村代码": np.array(vil.codes, dtype=float),  # Real fields, as in many geodatabases
        "村名": vil.names,
        "乡镇代码": np.array([vil.t_codes[t] for t in vil.town], dtype=float),
        "乡镇名称": [STYLE.townships[t][0] for t in vil.town],
    }, geometry=geo.values, crs=4490)


def _write_statistics(truth: pd.DataFrame, vil: _Villages, path: Path) -> None:
    """Write the report-style statistics workbook (title, merged header, subtotals, note)."""
    lines: list[list[object]] = [
        [f"{STYLE.title}2023年行政村人口及贫困人口统计表"],
        ["填报单位：县统计局", None, None, None, None, None, "单位：人、户"],
        ["序号", "乡镇", "村代码", "村名", "人口情况", None, "贫困情况", None],
        [None, None, None, None, "户籍人口", "户数", "贫困户数", "贫困人口"],
    ]
    figures = ["pop", "households", "poor_households", "poor_pop"]
    n = 0
    for t, (tname, _) in enumerate(STYLE.townships):
        rows = truth[np.asarray(vil.town) == t]
        for _, row in rows.iterrows():
            n += 1
            lines.append([n, tname, int(row["village_id"]), row["name"],
                          *(int(row[f]) for f in figures)])
        lines.append([None, tname, None, f"{tname}小计", *(int(rows[f].sum()) for f in figures)])
    lines.append([None, None, None, "合计", *(int(truth[f].sum()) for f in figures)])
    lines.append(["注：人口为2023年末户籍人口；贫困人口为建档立卡贫困人口。"])
    table = pd.DataFrame([line + [None] * (8 - len(line)) for line in lines], dtype=object)
    merges = ["A1:H1", *(f"{col}3:{col}4" for col in "ABCD"), "E3:F3", "G3:H3"]
    write_workbook([SheetSpec("Sheet1", table, header=False, formats=False, merges=merges)],
                   path)


def _write_osm(roads: gpd.GeoDataFrame, epsg: int, path: Path) -> None:
    """Write an OSM-style extract: part of the county roads again, 4 m to the side.

    The county and township roads and every third village road or track, each moved
    4 m to its left, with ``highway`` and ``surface`` tags (one in eight without a
    surface). Written with pyosmium; node and way ids count from 1.
    """
    import osmium

    rc = STYLE.road_cols
    cls = roads[rc["road_class"]].to_numpy()
    pick = np.isin(cls, ("县道", "乡道")) | (np.arange(len(roads)) % 3 == 0)
    geoms = roads.geometry.to_numpy()
    writer = osmium.SimpleWriter(str(path))
    node_id = 0
    try:
        for way_id, i in enumerate(np.flatnonzero(pick), start=1):
            g = geoms[i]
            if g.geom_type != "LineString" or g.length < 1.0:
                continue
            moved = shapely.offset_curve(g, 4.0)
            xy = np.asarray(moved.coords)
            lon, lat = _lonlat(xy[:, 0], xy[:, 1], epsg)
            ids = []
            for x, y in zip(lon, lat, strict=True):
                node_id += 1
                writer.add_node(osmium.osm.mutable.Node(
                    id=node_id, location=(round(float(x), 7), round(float(y), 7)), version=1))
                ids.append(node_id)
            tags = {"highway": _OSM_HIGHWAY[str(cls[i])]}
            if way_id % 8:
                tags["surface"] = _OSM_SURFACE[str(roads[rc["surface"]].iloc[i])]
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=ids, tags=tags, version=1))
    finally:
        writer.close()


def _write_dem_tiles(dem: NDArray[np.int16], transform: Any, epsg: int, folder: Path) -> None:
    """Write the DEM as 2 x 2 GeoTIFF tiles (nodata -32768) into ``folder``."""
    folder.mkdir()
    rows, cols = dem.shape
    for r, (r0, r1) in enumerate(((0, rows // 2), (rows // 2, rows))):
        for c, (c0, c1) in enumerate(((0, cols // 2), (cols // 2, cols))):
            tile = np.ascontiguousarray(dem[r0:r1, c0:c1])
            with rasterio.open(folder / f"dem_r{r}c{c}.tif", "w", driver="GTiff",
                               width=tile.shape[1], height=tile.shape[0], count=1,
                               dtype="int16", crs=f"EPSG:{epsg}",
                               transform=transform @ Affine.translation(c0, r0),
                               nodata=-32768, compress="deflate", predictor=2) as dst:
                dst.write(tile, 1)


def dms(value: float, pos: str, neg: str) -> str:
    """Format degrees as degrees-minutes-seconds text: ``113°12′34.56″E``."""
    hemi = pos if value >= 0 else neg
    value = abs(value)
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = (value - deg - minutes / 60) * 3600
    return f"{deg}°{minutes:02d}′{seconds:05.2f}″{hemi}"


def _services(rng: np.random.Generator, fr: _Frame, nxy: NDArray[np.float64],
              vil: _Villages, outline: shapely.Geometry) -> pd.DataFrame:
    """Return the services table in BD-09; seats as degrees-minutes-seconds text."""
    n_t = len(STYLE.townships)
    strip = (fr.xmax - fr.xmin) / n_t
    seats = []
    for k in range(n_t):
        c = np.array([fr.xmin + (k + 0.5) * strip, (fr.ymin + fr.ymax) / 2])
        seats.append(nxy[int(np.argmin(np.hypot(*(nxy - c).T)))] + rng.uniform(-60, 60, 2))
    sxy = np.array(seats)
    tnames = [t for t, _ in STYLE.townships]
    rows: list[tuple[str, str, str, NDArray[np.float64]]] = []  # name, kind, township, xy
    rows += [(f"{t}人民政府", "乡镇驻地", vil.t_codes[k], sxy[k]) for k, t in enumerate(tnames)]
    rows.append(("示例县人民政府", "县城", vil.t_codes[0], sxy[0] + 30.0))
    rows += [(f"{t}卫生院", "卫生院", vil.t_codes[k], sxy[k] + rng.uniform(-250, 250, 2))
             for k, t in enumerate(tnames)]
    rows += [(f"{t}中心学校", "学校", vil.t_codes[k], sxy[k] + rng.uniform(-300, 300, 2))
             for k, t in enumerate(tnames)]
    clinic_v = np.sort(rng.choice(len(vil.xy), size=24, replace=False))
    rows += [(f"{vil.names[i]}卫生室", "村卫生室", vil.t_codes[vil.town[i]],
              vil.xy[i] + rng.uniform(-100, 100, 2)) for i in clinic_v]
    dup = rows[-1]
    rows.append((dup[0], dup[1], dup[2], dup[3] + np.array([12.0, 16.0])))  # 20 m apart
    # the neighbouring county's clinic: 800 m beyond the outline, west of the first strip
    edge = shapely.Point(fr.x0, (fr.ymin + fr.ymax) / 2)
    near = np.asarray(shapely.shortest_line(edge, outline.exterior).coords)[-1]
    rows.append(("邻县枫木村卫生室", "村卫生室", vil.t_codes[0], near - np.array([800.0, 0.0])))
    xy = np.array([r[3] for r in rows])
    lon, lat = _lonlat(xy[:, 0], xy[:, 1], STYLE.metric_epsg)
    blon, blat = wgs84_to_bd09(lon, lat)
    blon, blat = np.asarray(blon), np.asarray(blat)
    seat = np.array([r[1] == "乡镇驻地" for r in rows])
    lon_text = [dms(float(x), "E", "W") if s else f"{x:.6f}"
                for x, s in zip(blon, seat, strict=True)]
    lat_text = [dms(float(y), "N", "S") if s else f"{y:.6f}"
                for y, s in zip(blat, seat, strict=True)]
    return pd.DataFrame({
        "编号": [f"FW{i + 1:03d}" for i in range(len(rows))],
        "名称": [r[0] for r in rows], "类型": [r[1] for r in rows],
        "乡镇代码": [r[2] for r in rows], "百度经度": lon_text, "百度纬度": lat_text,
    })


def _hazard_kml(rng: np.random.Generator, fr: _Frame) -> str:
    """KML text: hazard points as Placemarks in two folders (滑坡, 崩塌), WGS84."""
    n_pts = 14
    pxy = np.column_stack([rng.uniform(fr.xmin, fr.xmax, n_pts),
                           rng.uniform(fr.ymin, fr.ymax, n_pts)])
    lon, lat = _lonlat(pxy[:, 0], pxy[:, 1], STYLE.metric_epsg)
    folders = []
    for f, kind in enumerate(("滑坡", "崩塌")):
        marks = "".join(
            f"<Placemark><name>{kind}隐患点{i + 1:02d}</name><Point><coordinates>"
            f"{lon[i]:.6f},{lat[i]:.6f},0</coordinates></Point></Placemark>"
            for i in range(f, n_pts, 2))
        folders.append(f"<Folder><name>{kind}</name>{marks}</Folder>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>地质灾害隐患点</name>'
            + "".join(folders) + "</Document></kml>\n")


def _write_kmz(kml: str, path: Path) -> None:
    """Write ``kml`` as ``doc.kml`` inside a KMZ (a zip) with a fixed date."""
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("doc.kml", date_time=(2000, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        zf.writestr(info, kml.encode("utf-8"))


def _registry(rng: np.random.Generator, vil: _Villages, truth: pd.DataFrame) -> pd.DataFrame:
    """Poor (建档立卡户) and edge (边缘户) households only, with names and ID numbers.

    Each village's poor households hold about its poor people; edge households are
    about an eighth of the poor ones.
    """
    rows: list[tuple[Any, ...]] = []
    for i, code in enumerate(vil.codes):
        n_poor = int(truth["poor_households"].iloc[i])
        n_edge = int(rng.integers(0, max(n_poor // 6, 1) + 1))
        for h in range(n_poor + n_edge):
            poor = h < n_poor
            members = int(np.clip(rng.poisson(2.3) + 1, 1, 8))
            name = (str(rng.choice(_SURNAMES)) + str(rng.choice(_GIVEN))
                    + str(rng.choice(_GIVEN)))
            birth = f"{int(rng.integers(1945, 1990))}{int(rng.integers(1, 13)):02d}" \
                    f"{int(rng.integers(1, 29)):02d}"
            first17 = f"{COUNTY_CODE}{birth}{int(rng.integers(0, 1000)):03d}"
            cause = str(rng.choice(_CAUSES, p=_CAUSE_P))
            rows.append((f"{code}{h + 1:03d}", code, name, first17 + id_check_char(first17),
                         members, "建档立卡户" if poor else "边缘户", "是" if poor else "否",
                         cause if poor else ""))
    return pd.DataFrame(rows, columns=["户编号", "村代码", "户主姓名", "身份证号", "家庭人口",
                                       "户类型", "是否贫困户", "致贫原因"])
