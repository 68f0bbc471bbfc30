"""``make_messy_region``: a small county handed over the way county offices hand data over.

Entirely synthetic (seeded), small (3 townships, 30 villages, a few hundred road lines),
and deliberately messy, to test that contigmap takes files *as received*:

* **villages** (``村点.shp``): a GBK shapefile **without** ``.cpg`` and **without** ``.prj``,
  in CGCS2000 3-degree Gauss–Krüger metres **with the zone number** prefixed to the
  easting (``38 4xx xxx``, EPSG:4526 for the fixture), with Chinese headers
  (村代码, 村名, 乡镇代码, 户籍人口); the manifest says ``crs:`` and ``encoding: gbk``.
  ``村点_重码.shp`` is the same layer with one village code repeated (for the
  duplicate-id error; not in the manifest);
* **roads** (``道路.gpkg``): Gauss–Krüger metres **without** the zone prefix
  (EPSG:4547), with 道路等级 (县道/乡道/村道/机耕道), 路面 (沥青/水泥/砂石/土路) and 桥梁
  (是/否), including two zero-length lines, three exact duplicate lines and one
  multi-part line;
* **services** (``公共服务设施_高德.xlsx``): sheets 卫生院, 学校, 乡镇驻地 in **GCJ-02**
  longitude/latitude (``datum: gcj02``); 乡镇驻地 gives the kind as 镇 / 乡 / 县城 (recoded
  with ``values:``; 县城 is also its township's seat). Sheet 待核实 holds one row with
  longitude and latitude swapped; the manifest leaves it out (a test adds it and expects
  the "looks swapped" error);
* **hazard polygons** (``地灾易发区.gpkg``, CGCS2000 lon/lat): 易发程度 高易发区 / 中易发区 /
  低易发区 / 非易发区, with a 非易发区 polygon covering the whole county; the manifest uses
  ``filter:`` and ``class:``;
* **hazard points** (``隐患点.xlsx``): 编号, 经度, 纬度, 风险等级 (高/中/低), 威胁人数;
* **registry sample** (``建档立卡抽样.csv``, GBK): about 10% of households with 户编号,
  村代码, 家庭人口, 是否贫困户 (是/否), 致贫原因 in Chinese; ``complete: false``;
* **county outline** (``县界.geojson``) and a **DEM** (``dem.tif``, seeded fractal
  terrain, EPSG:4547, 100 m cells).

The ``unseen`` variant (for trying ``contigmap init`` on data it has not seen) uses
another Gauss–Krüger zone (CM 111°E: EPSG:4525 / EPSG:4546), other common header and
file names, and writes **no** ``region.yaml``.

Deterministic: the same seed and variant give the same bytes (fixed GeoPackage and
workbook dates; the shapefile's DBF date is fixed too).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree

from contigmap.crs import wgs84_to_gcj02
from contigmap.io.writers import fixed_gdal_date, write_xlsx
from contigmap.synth._io import staged_dir
from contigmap.synth.scale import _candidate_edges
from contigmap.synth.terrain import fractal_surface

__all__ = ["MESSY_SEED", "Variant", "make_messy_region"]

logger = logging.getLogger(__name__)

MESSY_SEED = 2014
Variant = Literal["fixture", "unseen"]

_SPACING_M = 1600.0
_ROWS, _COLS = 9, 14
_VILLAGES_PER_TOWNSHIP = 10
_COUNTY_CODE = "360799"
_HOUSEHOLD_SIZE = 3.05
_SAMPLE_SHARE = 0.10


@dataclass(frozen=True)
class _Style:
    """What differs between the fixture and the unseen variant."""

    metric_epsg: int  # Gauss–Krüger without zone prefix (the roads' CRS)
    prefixed_epsg: int  # the same zone with the zone number prefixed (the villages')
    zone: int
    origin: tuple[float, float]
    title: str
    townships: tuple[tuple[str, str], ...]  # (name, seat kind word)
    files: dict[str, str]
    village_cols: dict[str, str]  # canonical -> file header
    road_cols: dict[str, str]
    service_cols: dict[str, str]
    sheets: dict[str, str]  # canonical sheet -> sheet name
    registry_cols: dict[str, str]
    hazard_cols: dict[str, str]
    point_cols: dict[str, str]


_FIXTURE = _Style(
    metric_epsg=4547, prefixed_epsg=4526, zone=38, origin=(418_000.0, 2_782_000.0),
    title="示例县（杂乱数据）",
    townships=(("东坪镇", "县城"), ("石门乡", "乡"), ("白沙镇", "镇")),
    files={"villages": "村点.shp", "villages_dup": "村点_重码.shp", "roads": "道路.gpkg",
           "services": "公共服务设施_高德.xlsx", "hazards": "地灾易发区.gpkg",
           "points": "隐患点.xlsx", "registry": "建档立卡抽样.csv", "county": "县界.geojson",
           "dem": "dem.tif"},
    village_cols={"village_id": "村代码", "name": "村名", "township_id": "乡镇代码",
                  "pop": "户籍人口"},
    road_cols={"road_id": "道路编码", "road_class": "道路等级", "surface": "路面",
               "bridge": "桥梁", "name": "路线名称"},
    service_cols={"service_id": "编号", "name": "名称", "township_id": "乡镇代码",
                  "lon": "经度", "lat": "纬度", "kind": "类型"},
    sheets={"health": "卫生院", "school": "学校", "seat": "乡镇驻地", "check": "待核实"},
    registry_cols={"household_id": "户编号", "village_id": "村代码", "members": "家庭人口",
                   "poor": "是否贫困户", "cause": "致贫原因"},
    hazard_cols={"hazard_id": "分区编号", "class": "易发程度"},
    point_cols={"id": "编号", "lon": "经度", "lat": "纬度", "risk": "风险等级",
                "people": "威胁人数"},
)

_UNSEEN = _Style(
    metric_epsg=4546, prefixed_epsg=4525, zone=37, origin=(512_000.0, 3_071_000.0),
    title="未见县",
    townships=(("河口镇", "县城"), ("高峰乡", "乡"), ("龙潭镇", "镇")),
    files={"villages": "行政村.shp", "villages_dup": "", "roads": "农村公路.gpkg",
           "services": "服务设施(高德坐标).xlsx", "hazards": "地质灾害易发性分区.gpkg",
           "points": "地灾隐患点.xlsx", "registry": "贫困户样本.csv",
           "county": "行政区划.geojson", "dem": "高程.tif"},
    village_cols={"village_id": "行政村代码", "name": "行政村名称", "township_id": "乡镇编码",
                  "pop": "总人口"},
    road_cols={"road_id": "路线编号", "road_class": "技术等级", "surface": "路面类型",
               "bridge": "是否桥梁", "name": "路线名"},
    service_cols={"service_id": "序号", "name": "单位名称", "township_id": "乡镇代码",
                  "lon": "lng", "lat": "lat", "kind": "驻地类型"},
    sheets={"health": "乡镇卫生院", "school": "中小学", "seat": "乡镇政府", "check": ""},
    registry_cols={"household_id": "户码", "village_id": "行政村代码", "members": "户人口数",
                   "poor": "贫困户", "cause": "主要致贫原因"},
    hazard_cols={"hazard_id": "编号", "class": "易发性"},
    point_cols={"id": "统一编号", "lon": "X坐标", "lat": "Y坐标", "risk": "险情等级",
                "people": "威胁人口"},
)

_SYLLABLES = tuple("青松竹溪石坪岩塘山河桥冲湾坳田寨林口枫柳杉茶桃梅泉龙凤云")
_CAUSES = ("因病", "因残", "因学", "缺资金", "缺技术", "缺劳力", "交通条件落后", "因灾")
_CAUSE_P = (0.30, 0.15, 0.10, 0.15, 0.10, 0.08, 0.08, 0.04)


def _village_names(n: int, rng: np.random.Generator) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        a, b = rng.choice(len(_SYLLABLES), size=2, replace=False)
        name = f"{_SYLLABLES[a]}{_SYLLABLES[b]}村"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _road_network(rng: np.random.Generator, x0: float, y0: float) -> tuple[
        NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Jittered-grid junctions and the edges kept: (xy, u, v, kind 0=h,1=v,2=d)."""
    n_nodes = _ROWS * _COLS
    rr, cc = np.divmod(np.arange(n_nodes), _COLS)
    jitter = rng.uniform(-0.2, 0.2, size=(n_nodes, 2)) * _SPACING_M
    xy = np.column_stack([x0 + 1500 + cc * _SPACING_M + jitter[:, 0],
                          y0 + 1500 + rr * _SPACING_M + jitter[:, 1]])
    u, v, kind = _candidate_edges(_ROWS, _COLS, rng)
    main = ((kind == 0) & (rr[u] == _ROWS // 2)) | ((kind == 1) & np.isin(cc[u], (2, 7, 11)))
    weight = rng.random(u.size) + 1.0
    weight[main] = 1e-9
    tree = minimum_spanning_tree(
        coo_matrix((weight, (u, v)), shape=(n_nodes, n_nodes)).tocsr()).tocoo()
    key = np.minimum(u, v) * n_nodes + np.maximum(u, v)
    tkey = np.minimum(tree.row, tree.col).astype(np.int64) * n_nodes + np.maximum(
        tree.row, tree.col)
    keep = np.isin(key, tkey) | main
    rest = np.flatnonzero(~keep)
    keep[rng.choice(rest, size=min(60, rest.size), replace=False)] = True
    sel = np.flatnonzero(keep)
    return xy, u[sel].astype(np.int64), v[sel].astype(np.int64), kind[sel].astype(np.int64)


def _classes(xy: NDArray[np.float64], u: NDArray[np.int64], v: NDArray[np.int64],
             kind: NDArray[np.int64], rng: np.random.Generator
             ) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """道路等级 and 路面 per edge: a county road, township roads and unequal local roads."""
    n = u.size
    rr, cc = np.divmod(u, _COLS)
    rv, cv = np.divmod(v, _COLS)
    klass = np.full(n, "村道", dtype=object)
    surface = np.full(n, "水泥", dtype=object)
    county = (kind == 0) & (rr == _ROWS // 2) & (rv == _ROWS // 2)
    township = (kind == 1) & np.isin(cc, (2, 7, 11)) & (cc == cv)
    draw = rng.random(n)
    local = ~county & ~township
    klass[local & (draw < 0.3)] = "机耕道"
    sdraw = rng.random(n)
    # the north-east corner is poorly served: unpaved local roads only
    remote = (np.maximum(rr, rv) >= _ROWS // 2 + 1) & (np.minimum(cc, cv) >= 8)
    is_village = klass == "村道"
    surface[is_village & (sdraw >= 0.5)] = "砂石"
    surface[is_village & (sdraw >= 0.85)] = "土路"
    surface[is_village & remote] = np.where(sdraw[is_village & remote] < 0.6, "砂石", "土路")
    track = klass == "机耕道"
    surface[track] = np.where(sdraw[track] < 0.5, "砂石", "土路")
    klass[county] = "县道"
    surface[county] = "沥青"
    klass[township] = "乡道"
    surface[township] = np.where(sdraw[township] < 0.8, "水泥", "沥青")
    surface[township & remote] = "砂石"
    return klass, surface


def _lonlat(x: NDArray[np.float64], y: NDArray[np.float64], epsg: int
            ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    tr = Transformer.from_crs(epsg, 4490, always_xy=True)
    lon, lat = tr.transform(x, y)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _fix_dbf_date(path: Path) -> None:
    """Set the DBF header's last-update date (bytes 1-3) to 2000-01-01 and drop its code page.

    GDAL stamps the current date; the language-driver byte (29) would tell readers the
    code page, which offices' files often lack, so it is cleared (0).
    """
    with path.open("r+b") as handle:
        handle.seek(1)
        handle.write(bytes([100, 1, 1]))
        handle.seek(29)
        handle.write(b"\x00")


def _write_shapefile(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Write a GBK shapefile without ``.cpg`` and ``.prj``, as many offices hand over."""
    gdf.to_file(path, driver="ESRI Shapefile", encoding="GBK")
    for suffix in (".cpg", ".prj"):
        path.with_suffix(suffix).unlink(missing_ok=True)
    _fix_dbf_date(path.with_suffix(".dbf"))


def make_messy_region(out_dir: str | Path, *, seed: int = MESSY_SEED,
                      variant: Variant = "fixture", force: bool = False) -> Path:
    """Generate the small messy region into ``out_dir``.

    Parameters
    ----------
    out_dir
        Target folder (written whole through a staging folder).
    seed
        Random seed; the same seed and variant give byte-identical files.
    variant
        ``fixture``: the files of ``layers/messy`` plus ``region.yaml``; ``unseen``:
        another zone and other header and file names, without ``region.yaml``.
    force
        Write into an existing non-empty folder that contigmap did not write.

    Returns
    -------
    Path
        The written ``region.yaml`` (``fixture``), or the folder (``unseen``).
    """
    out_dir = Path(out_dir)
    st = _FIXTURE if variant == "fixture" else _UNSEEN
    rng = np.random.default_rng(seed)
    x0, y0 = st.origin
    width = 2 * 1500 + (_COLS - 1) * _SPACING_M
    height = 2 * 1500 + (_ROWS - 1) * _SPACING_M

    # county outline: the grid's box, rounded, with a wobbly edge
    box = shapely.box(x0 + 900, y0 + 900, x0 + width - 900, y0 + height - 900).buffer(700)
    ring = np.asarray(shapely.segmentize(box.exterior, 600).coords)[:-1]
    centre = np.array([x0 + width / 2, y0 + height / 2])
    radial = ring - centre
    ring = centre + radial * (1 + rng.uniform(-0.015, 0.04, size=(len(ring), 1)))
    outline = shapely.make_valid(shapely.Polygon(ring))

    # roads
    nxy, u, v, kind = _road_network(rng, x0, y0)
    klass, surface = _classes(nxy, u, v, kind, rng)
    n = u.size
    bend = rng.random(n) < 0.33
    lines: list[shapely.Geometry] = []
    for i in range(n):
        a, b = nxy[u[i]], nxy[v[i]]
        if bend[i]:
            d = b - a
            off = rng.uniform(-0.08, 0.08)
            mid = (a + b) / 2 + np.array([-d[1], d[0]]) * off
            lines.append(shapely.LineString([a, mid, b]))
        else:
            lines.append(shapely.LineString([a, b]))

    # townships: three strips west to east; villages placed at random in each
    n_t = len(st.townships)
    t_codes = [f"{_COUNTY_CODE}{101 + k}" for k in range(n_t)]
    xmin, xmax = x0 + 1700, x0 + width - 1700
    ymin, ymax = y0 + 1700, y0 + height - 1700
    strip = (xmax - xmin) / n_t
    vx: list[float] = []
    vy: list[float] = []
    vt: list[int] = []
    for k in range(n_t):
        placed = 0
        while placed < _VILLAGES_PER_TOWNSHIP:
            p = np.array([rng.uniform(xmin + k * strip, xmin + (k + 1) * strip),
                          rng.uniform(ymin, ymax)])
            if vx and np.hypot(np.array(vx) - p[0], np.array(vy) - p[1]).min() < 1100:
                continue
            vx.append(float(p[0]))
            vy.append(float(p[1]))
            vt.append(k)
            placed += 1
    vxy = np.column_stack([vx, vy])
    nv = len(vxy)
    vtown = np.array(vt)
    vcodes = [f"{t_codes[t]}{201 + j:03d}" for t, j in
              zip(vtown, np.concatenate([np.arange(_VILLAGES_PER_TOWNSHIP)] * n_t), strict=True)]
    vnames = _village_names(nv, rng)
    pop = np.clip(rng.lognormal(np.log(1100), 0.5, nv), 250, 3500).round().astype(np.int64)

    # spurs: a village road or track from the nearest junction towards most villages
    spur_cls: list[str] = []
    spur_srf: list[str] = []
    for i in range(nv):
        if rng.random() < 0.2:
            continue
        d = np.hypot(*(nxy - vxy[i]).T)
        j = int(np.argmin(d))
        leg = rng.uniform(40, 450)
        if d[j] <= leg + 50:
            continue
        end = vxy[i] + (nxy[j] - vxy[i]) * leg / d[j]
        lines.append(shapely.LineString([nxy[j], end]))
        jr, jc = divmod(j, _COLS)
        paved = rng.random() < 0.5 and not (jr >= _ROWS // 2 + 1 and jc >= 8)
        spur_cls.append("村道" if paved or rng.random() < 0.5 else "机耕道")
        spur_srf.append("水泥" if paved else str(rng.choice(["砂石", "土路"])))
    klass = np.concatenate([klass, np.array(spur_cls, dtype=object)])
    surface = np.concatenate([surface, np.array(spur_srf, dtype=object)])
    bridge = np.where(rng.random(len(lines)) < 0.04, "是", "否").astype(object)
    road_names = np.where(klass == "县道", "X101", np.where(klass == "乡道", "Y2" + "01", ""))
    roads = pd.DataFrame({
        st.road_cols["road_id"]: [f"LD{i + 1:04d}" for i in range(len(lines))],
        st.road_cols["name"]: road_names,
        st.road_cols["road_class"]: klass,
        st.road_cols["surface"]: surface,
        st.road_cols["bridge"]: bridge,
    })
    geoms: list[shapely.Geometry] = list(lines)
    # messy rows: a multi-part line (two local edges in one feature), duplicates, zero-length
    local = np.flatnonzero(np.asarray(klass[:n]) == "村道")
    a_i, b_i = int(local[0]), int(local[-1])
    geoms[a_i] = shapely.MultiLineString([lines[a_i], lines[b_i]])
    keep_rows = [i for i in range(len(geoms)) if i != b_i]
    roads = roads.iloc[keep_rows].reset_index(drop=True)
    geoms = [geoms[i] for i in keep_rows]
    extra_rows = []
    extra_geoms: list[shapely.Geometry] = []
    for k, i in enumerate(rng.choice(np.arange(1, n - 1), size=3, replace=False)):
        row = roads.iloc[int(i)].copy()
        row[st.road_cols["road_id"]] = f"LD9{k + 1:03d}"
        extra_rows.append(row)
        extra_geoms.append(geoms[int(i)])
    for k in range(2):
        p = nxy[int(rng.integers(0, len(nxy)))]
        row = roads.iloc[k].copy()
        row[st.road_cols["road_id"]] = f"LD8{k + 1:03d}"
        row[st.road_cols["road_class"]] = "村道"
        row[st.road_cols["surface"]] = "砂石"
        row[st.road_cols["bridge"]] = "否"
        extra_rows.append(row)
        extra_geoms.append(shapely.LineString([p, p]))
    roads = pd.concat([roads, pd.DataFrame(extra_rows)], ignore_index=True)
    geoms = geoms + extra_geoms
    road_gdf = gpd.GeoDataFrame(roads, geometry=geoms, crs=st.metric_epsg)

    # services: seats at the junction nearest each strip's centre
    seat_xy = []
    for k in range(n_t):
        c = np.array([xmin + (k + 0.5) * strip, (ymin + ymax) / 2])
        seat_xy.append(nxy[int(np.argmin(np.hypot(*(nxy - c).T)))] + rng.uniform(-60, 60, 2))
    sxy = np.array(seat_xy)
    health = sxy + rng.uniform(-250, 250, size=sxy.shape)
    school_v = np.sort(rng.choice(nv, size=5, replace=False))
    schools = np.vstack([sxy + rng.uniform(-300, 300, size=sxy.shape),
                         vxy[school_v] + rng.uniform(-150, 150, size=(5, 2))])
    school_town = np.concatenate([np.arange(n_t), vtown[school_v]])

    def gcj(xy: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        lon, lat = _lonlat(xy[:, 0], xy[:, 1], st.metric_epsg)
        glon, glat = wgs84_to_gcj02(lon, lat)
        return np.round(glon, 6), np.round(glat, 6)

    sc = st.service_cols
    tnames = [t for t, _ in st.townships]

    def sheet(prefix: str, xy: NDArray[np.float64], names: list[str], towns: NDArray[Any],
              kinds: list[str] | None = None) -> pd.DataFrame:
        lon, lat = gcj(xy)
        data: dict[str, Any] = {
            sc["service_id"]: [f"{prefix}{i + 1:02d}" for i in range(len(xy))],
            sc["name"]: names,
            sc["township_id"]: [t_codes[int(t)] for t in towns],
        }
        if kinds is not None:
            data[sc["kind"]] = kinds
        data[sc["lon"]] = lon
        data[sc["lat"]] = lat
        return pd.DataFrame(data)

    health_df = sheet("WS", health, [f"{t}卫生院" for t in tnames], np.arange(n_t))
    school_names = [f"{t}中心学校" for t in tnames] + [
        f"{vnames[i].removesuffix('村')}小学" for i in school_v]
    school_df = sheet("XX", schools, school_names, school_town)
    seat_df = sheet("ZD", sxy, [f"{t}人民政府" for t in tnames], np.arange(n_t),
                    [kind for _, kind in st.townships])
    service_sheets = {st.sheets["health"]: health_df, st.sheets["school"]: school_df,
                      st.sheets["seat"]: seat_df}
    if st.sheets["check"]:
        bad = sheet("HC", vxy[:1] + 120.0, [f"{vnames[0].removesuffix('村')}村卫生室"], vtown[:1])
        lon_col, lat_col = sc["lon"], sc["lat"]
        bad[[lon_col, lat_col]] = bad[[lat_col, lon_col]].to_numpy()  # swapped by hand
        service_sheets[st.sheets["check"]] = bad

    # DEM: seeded fractal terrain, higher to the north-east, 100 m cells
    cell = 100.0
    margin = 1000.0
    cols_r, rows_r = int((width + 2 * margin) // cell), int((height + 2 * margin) // cell)
    surf = fractal_surface((rows_r, cols_r), rng, beta=2.6, corner=0.02)
    gy, gx = np.mgrid[0:rows_r, 0:cols_r]
    trend = 300.0 + 500.0 * (gx / cols_r) + 300.0 * (1 - gy / rows_r)
    dem = np.round(trend + 180.0 * surf).astype(np.int16)
    transform = Affine(cell, 0.0, x0 - margin, 0.0, -cell, y0 - margin + rows_r * cell)

    # hazard polygons: 非易发区 over the county, then low / middle / high zones
    hz: list[tuple[str, shapely.Geometry]] = [("非易发区", outline.buffer(500))]
    for _ in range(3):
        c = vxy[int(rng.integers(nv))] + rng.uniform(-1500, 1500, 2)
        hz.append(("低易发区", shapely.Point(c).buffer(rng.uniform(2500, 3500), 16)))
    for _ in range(3):
        c = vxy[int(rng.integers(nv))] + rng.uniform(-800, 800, 2)
        hz.append(("中易发区", shapely.Point(c).buffer(rng.uniform(1500, 2200), 16)))
    high_v = np.sort(rng.choice(nv, size=3, replace=False))
    for i in high_v:
        hz.append(("高易发区", shapely.Point(vxy[i] + rng.uniform(-150, 150, 2)).buffer(
            rng.uniform(1200, 1600), 16)))
    hz_lon = gpd.GeoSeries([g for _, g in hz], crs=st.metric_epsg).to_crs(4490)
    hazard_gdf = gpd.GeoDataFrame({
        st.hazard_cols["hazard_id"]: [f"YF{i + 1:03d}" for i in range(len(hz))],
        st.hazard_cols["class"]: [c for c, _ in hz],
    }, geometry=hz_lon.values, crs=4490)

    # hazard points (CGCS2000 lon/lat)
    n_pts = 15
    pxy = np.column_stack([rng.uniform(xmin, xmax, n_pts), rng.uniform(ymin, ymax, n_pts)])
    plon, plat = _lonlat(pxy[:, 0], pxy[:, 1], st.metric_epsg)
    pc = st.point_cols
    points_df = pd.DataFrame({
        pc["id"]: [f"{_COUNTY_CODE}{i + 1:04d}" for i in range(n_pts)],
        pc["lon"]: np.round(plon, 6),
        pc["lat"]: np.round(plat, 6),
        pc["risk"]: rng.choice(["高", "中", "低"], size=n_pts, p=[0.2, 0.4, 0.4]),
        pc["people"]: rng.integers(3, 120, size=n_pts),
    })

    # registry sample: about 10% of each village's households
    rc = st.registry_cols
    incidence = rng.uniform(0.05, 0.45, nv)
    rows: list[tuple[str, str, int, str, str]] = []
    for i in range(nv):
        n_hh = max(round(float(pop[i]) / _HOUSEHOLD_SIZE * _SAMPLE_SHARE), 8)
        for h in range(n_hh):
            members = int(np.clip(rng.poisson(_HOUSEHOLD_SIZE - 1) + 1, 1, 9))
            poor = bool(rng.random() < incidence[i])
            cause = str(rng.choice(_CAUSES, p=_CAUSE_P)) if poor else ""
            rows.append((f"{vcodes[i]}{h + 1:04d}", vcodes[i], members,
                         "是" if poor else "否", cause))
    registry = pd.DataFrame(rows, columns=[rc["household_id"], rc["village_id"], rc["members"],
                                           rc["poor"], rc["cause"]])

    vc = st.village_cols
    villages = gpd.GeoDataFrame({
        vc["village_id"]: vcodes,
        vc["name"]: vnames,
        vc["township_id"]: [t_codes[t] for t in vtown],
        vc["pop"]: pop,
    }, geometry=shapely.points(vxy[:, 0] + st.zone * 1_000_000.0, vxy[:, 1]),
        crs=st.prefixed_epsg)
    county = gpd.GeoDataFrame({"县代码": [_COUNTY_CODE], "名称": [st.title]},
                              geometry=[outline], crs=st.metric_epsg).to_crs(4326)

    f = st.files
    with staged_dir(out_dir, force=force) as tmp, fixed_gdal_date():
        _write_shapefile(villages, tmp / f["villages"])
        if f["villages_dup"]:
            dup = villages.copy()
            dup.loc[dup.index[-1], vc["village_id"]] = vcodes[-2]
            _write_shapefile(dup, tmp / f["villages_dup"])
        road_gdf.to_file(tmp / f["roads"], layer="roads", driver="GPKG")
        write_xlsx(service_sheets, tmp / f["services"])
        hazard_gdf.to_file(tmp / f["hazards"], layer="易发区", driver="GPKG")
        write_xlsx({"隐患点": points_df}, tmp / f["points"])
        registry.to_csv(tmp / f["registry"], index=False, encoding="gbk")
        (tmp / f["county"]).write_text(county.to_json(drop_id=True, ensure_ascii=False),
                                       encoding="utf-8")
        with rasterio.open(tmp / f["dem"], "w", driver="GTiff", width=cols_r, height=rows_r,
                           count=1, dtype="int16", crs=f"EPSG:{st.metric_epsg}",
                           transform=transform, nodata=-32768, compress="deflate",
                           predictor=2) as dst:
            dst.write(dem, 1)
        if variant == "fixture":
            (tmp / "region.yaml").write_text(_manifest_text(seed, st), encoding="utf-8")
    logger.info("messy region (%s): %d villages, %d road lines, %d sample households",
                variant, nv, len(road_gdf), len(registry))
    return out_dir / "region.yaml" if variant == "fixture" else out_dir


def _manifest(seed: int, st: _Style) -> dict[str, Any]:
    f, sc = st.files, st.service_cols
    return {
        "name": "messy",
        "title": st.title,
        "working_crs": "auto",
        "illustrative": True,
        "source_note": (f"Entirely synthetic, deliberately messy test data "
                        f"(contigmap.synth.messy, seed {seed})."),
        "household_size": _HOUSEHOLD_SIZE,
        "household_size_source": "illustrative county census household size (户规模)",
        "layers": {
            "villages": {
                "path": f["villages"], "id": "village_id",
                "crs": f"EPSG:{st.prefixed_epsg}", "encoding": "gbk",
                "columns": {v: k for k, v in st.village_cols.items()},
            },
            "roads": {
                "path": f["roads"], "layer": "roads", "id": "road_id",
                "columns": {v: k for k, v in st.road_cols.items()},
            },
            "boundaries": {"county": {"path": f["county"], "id": "county_id",
                                      "columns": {"县代码": "county_id", "名称": "name"}}},
            "dem": {"path": f["dem"]},
            "hazards": {
                "geo": {
                    "path": f["hazards"], "layer": "易发区", "id": "hazard_id",
                    "columns": {st.hazard_cols["hazard_id"]: "hazard_id"},
                    "filter": {st.hazard_cols["class"]: ["高易发区", "中易发区", "低易发区"]},
                    "class": {"column": st.hazard_cols["class"],
                              "weights": {"高易发区": 1.0, "中易发区": 0.6, "低易发区": 0.3}},
                },
            },
            "services": {
                "path": f["services"], "id": "service_id", "datum": "gcj02",
                "x": sc["lon"], "y": sc["lat"],
                "columns": {sc["service_id"]: "service_id", sc["name"]: "name",
                            sc["township_id"]: "township_id"},
                "sheets": {
                    st.sheets["health"]: {"set": {"kind": "health_centre"}},
                    st.sheets["school"]: {"set": {"kind": "school"}},
                    st.sheets["seat"]: {
                        "columns": {sc["kind"]: "kind"},
                        "values": {"kind": {"镇": "township_seat", "乡": "township_seat",
                                            "县城": ["county_seat", "township_seat"]}},
                    },
                },
            },
            "households": {
                "path": f["registry"], "id": "household_id", "encoding": "gbk",
                "complete": False,
                "columns": {v: k for k, v in st.registry_cols.items()},
            },
        },
    }


_POINTS_BLOCK = """\
    # Hazard points (隐患点), counted within radius_m of each settlement.
    geo_points:
      path: {path}
      x: {x}
      y: {y}
      id: {id}
      crs: EPSG:4490
      radius_m: 500
      columns: {{{risk}: risk_class, {people}: threatened_people}}
      class: {{column: {risk}, weights: {{高: 1.0, 中: 0.6, 低: 0.3}}}}
"""


def _manifest_text(seed: int, st: _Style) -> str:
    """Return the manifest as YAML, with the hazard-points layer and its comment."""
    import yaml

    text = yaml.safe_dump(_manifest(seed, st), allow_unicode=True, sort_keys=False,
                          default_flow_style=False)
    pc = st.point_cols
    block = _POINTS_BLOCK.format(path=st.files["points"], x=pc["lon"], y=pc["lat"], id=pc["id"],
                                 risk=pc["risk"], people=pc["people"])
    marker = "  services:\n"
    head = ("# Deliberately messy synthetic region (contigmap synth messy): files as county\n"
            "# offices hand them over. Sheet 待核实 of the services workbook (a row with\n"
            "# longitude and latitude swapped) and 村点_重码.shp (one village code twice)\n"
            "# are left out on purpose; tests use them.\n")
    return head + text.replace(marker, block + marker, 1)

