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
from contigmap.io.writers import fixed_gdal_date
from contigmap.io.xlsx import write_xlsx
from contigmap.synth._io import staged_dir
from contigmap.synth.messy_style import (
    COUNTY_CODE,
    FIXTURE,
    HOUSEHOLD_SIZE,
    UNSEEN,
    Style,
    manifest_text,
)
from contigmap.synth.scale import _candidate_edges
from contigmap.synth.terrain import fractal_surface

__all__ = ["MESSY_SEED", "Variant", "make_messy_region"]

logger = logging.getLogger(__name__)

MESSY_SEED = 2014
Variant = Literal["fixture", "unseen"]

_SPACING_M = 1600.0
_ROWS, _COLS = 9, 14
_VILLAGES_PER_TOWNSHIP = 10
_SAMPLE_SHARE = 0.10


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


@dataclass(frozen=True)
class _Frame:
    """The county's extent in metres and the box villages and points are drawn in."""

    x0: float
    y0: float
    width: float
    height: float
    xmin: float
    xmax: float
    ymin: float
    ymax: float

    @classmethod
    def of(cls, st: Style) -> _Frame:
        x0, y0 = st.origin
        width = 2 * 1500 + (_COLS - 1) * _SPACING_M
        height = 2 * 1500 + (_ROWS - 1) * _SPACING_M
        return cls(x0, y0, width, height, x0 + 1700, x0 + width - 1700,
                   y0 + 1700, y0 + height - 1700)


@dataclass(frozen=True)
class _Villages:
    """The villages drawn: points (metres), township index, codes, names, population."""

    xy: NDArray[np.float64]
    town: NDArray[np.int64]
    codes: list[str]
    names: list[str]
    pop: NDArray[np.int64]
    t_codes: list[str]


@dataclass(frozen=True)
class _BaseCounty:
    """What every generated county starts from: extent, outline, road network, villages."""

    frame: _Frame
    outline: shapely.Geometry
    nodes_xy: NDArray[np.float64]
    villages: _Villages
    roads: gpd.GeoDataFrame


def _base_county(rng: np.random.Generator, st: Style) -> _BaseCounty:
    """Draw the outline, road network (with village spurs), villages and road layer.

    Each step draws from ``rng`` in turn, so their order fixes the bytes the messy and
    handover generators write after it.
    """
    fr = _Frame.of(st)
    outline = _outline(rng, fr)
    nxy, u, v, kind = _road_network(rng, fr.x0, fr.y0)
    klass, surface = _classes(nxy, u, v, kind, rng)
    lines = _road_lines(rng, nxy, u, v)
    vil = _place_villages(rng, st, fr)
    spur_cls, spur_srf = _add_spurs(rng, nxy, vil.xy, lines)
    klass = np.concatenate([klass, np.array(spur_cls, dtype=object)])
    surface = np.concatenate([surface, np.array(spur_srf, dtype=object)])
    roads = _road_layer(rng, st, nxy, lines, klass, surface, n_grid=u.size)
    return _BaseCounty(fr, outline, nxy, vil, roads)


def _county_layer(outline: shapely.Geometry, st: Style) -> gpd.GeoDataFrame:
    """Return the county boundary as handed over: code, name, outline in lon/lat."""
    return gpd.GeoDataFrame({"县代码": [COUNTY_CODE], "名称": [st.title]},
                            geometry=[outline], crs=st.metric_epsg).to_crs(4326)


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
    st = FIXTURE if variant == "fixture" else UNSEEN
    rng = np.random.default_rng(seed)
    # each step draws from ``rng`` in turn: their order fixes the bytes written
    base = _base_county(rng, st)
    fr, outline, nxy, vil, road_gdf = (base.frame, base.outline, base.nodes_xy,
                                       base.villages, base.roads)
    service_sheets = _service_sheets(rng, st, fr, nxy, vil)
    dem, transform = _dem(rng, fr)
    hazard_gdf = _hazard_zones(rng, st, outline, vil.xy)
    points_df = _hazard_points(rng, st, fr)
    registry = _registry_sample(rng, st, vil)

    vc = st.village_cols
    villages = gpd.GeoDataFrame({
        vc["village_id"]: vil.codes,
        vc["name"]: vil.names,
        vc["township_id"]: [vil.t_codes[t] for t in vil.town],
        vc["pop"]: vil.pop,
    }, geometry=shapely.points(vil.xy[:, 0] + st.zone * 1_000_000.0, vil.xy[:, 1]),
        crs=st.prefixed_epsg)
    county = _county_layer(outline, st)

    f = st.files
    with staged_dir(out_dir, force=force) as tmp, fixed_gdal_date():
        _write_shapefile(villages, tmp / f["villages"])
        if f["villages_dup"]:
            dup = villages.copy()
            dup.loc[dup.index[-1], vc["village_id"]] = vil.codes[-2]
            _write_shapefile(dup, tmp / f["villages_dup"])
        road_gdf.to_file(tmp / f["roads"], layer="roads", driver="GPKG")
        write_xlsx(service_sheets, tmp / f["services"], formats=False)  # as handed over
        hazard_gdf.to_file(tmp / f["hazards"], layer="易发区", driver="GPKG")
        write_xlsx({"隐患点": points_df}, tmp / f["points"], formats=False)
        registry.to_csv(tmp / f["registry"], index=False, encoding="gbk")
        (tmp / f["county"]).write_text(county.to_json(drop_id=True, ensure_ascii=False),
                                       encoding="utf-8")
        with rasterio.open(tmp / f["dem"], "w", driver="GTiff", width=dem.shape[1],
                           height=dem.shape[0], count=1, dtype="int16",
                           crs=f"EPSG:{st.metric_epsg}", transform=transform, nodata=-32768,
                           compress="deflate", predictor=2) as dst:
            dst.write(dem, 1)
        if variant == "fixture":
            (tmp / "region.yaml").write_text(manifest_text(seed, st), encoding="utf-8")
    logger.info("messy region (%s): %d villages, %d road lines, %d sample households",
                variant, len(vil.codes), len(road_gdf), len(registry))
    return out_dir / "region.yaml" if variant == "fixture" else out_dir


def _outline(rng: np.random.Generator, fr: _Frame) -> shapely.Geometry:
    """County outline: the grid's box, rounded, with a wobbly edge."""
    x0, y0, width, height = fr.x0, fr.y0, fr.width, fr.height
    box = shapely.box(x0 + 900, y0 + 900, x0 + width - 900, y0 + height - 900).buffer(700)
    ring = np.asarray(shapely.segmentize(box.exterior, 600).coords)[:-1]
    centre = np.array([x0 + width / 2, y0 + height / 2])
    radial = ring - centre
    ring = centre + radial * (1 + rng.uniform(-0.015, 0.04, size=(len(ring), 1)))
    return shapely.make_valid(shapely.Polygon(ring))


def _road_lines(rng: np.random.Generator, nxy: NDArray[np.float64], u: NDArray[np.int64],
                v: NDArray[np.int64]) -> list[shapely.Geometry]:
    """Return the grid's edges as lines, a third of them bent at their middle."""
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
    return lines


def _place_villages(rng: np.random.Generator, st: Style, fr: _Frame) -> _Villages:
    """Townships: strips west to east; villages placed at random in each, 1.1 km apart."""
    n_t = len(st.townships)
    t_codes = [f"{COUNTY_CODE}{101 + k}" for k in range(n_t)]
    strip = (fr.xmax - fr.xmin) / n_t
    vx: list[float] = []
    vy: list[float] = []
    vt: list[int] = []
    for k in range(n_t):
        placed = 0
        while placed < _VILLAGES_PER_TOWNSHIP:
            p = np.array([rng.uniform(fr.xmin + k * strip, fr.xmin + (k + 1) * strip),
                          rng.uniform(fr.ymin, fr.ymax)])
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
    return _Villages(vxy, vtown, vcodes, vnames, pop, t_codes)


def _add_spurs(rng: np.random.Generator, nxy: NDArray[np.float64], vxy: NDArray[np.float64],
               lines: list[shapely.Geometry]) -> tuple[list[str], list[str]]:
    """Append spurs to ``lines``: a village road or track towards most villages.

    Returns the spurs' classes and surfaces.
    """
    spur_cls: list[str] = []
    spur_srf: list[str] = []
    for i in range(len(vxy)):
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
    return spur_cls, spur_srf


def _road_layer(rng: np.random.Generator, st: Style, nxy: NDArray[np.float64],
                lines: list[shapely.Geometry], klass: NDArray[Any], surface: NDArray[Any],
                *, n_grid: int) -> gpd.GeoDataFrame:
    """Return the road table with a multi-part line, duplicates and zero-length lines."""
    bridge = np.where(rng.random(len(lines)) < 0.04, "是", "否").astype(object)
    road_names = np.where(klass == "县道", "X101", np.where(klass == "乡道", "Y2" + "01", ""))
    rcol = st.road_cols
    roads = pd.DataFrame({
        rcol["road_id"]: [f"LD{i + 1:04d}" for i in range(len(lines))],
        rcol["name"]: road_names,
        rcol["road_class"]: klass,
        rcol["surface"]: surface,
        rcol["bridge"]: bridge,
    })
    geoms: list[shapely.Geometry] = list(lines)
    local = np.flatnonzero(np.asarray(klass[:n_grid]) == "村道")
    a_i, b_i = int(local[0]), int(local[-1])
    geoms[a_i] = shapely.MultiLineString([lines[a_i], lines[b_i]])
    keep_rows = [i for i in range(len(geoms)) if i != b_i]
    roads = roads.iloc[keep_rows].reset_index(drop=True)
    geoms = [geoms[i] for i in keep_rows]
    extra_rows = []
    extra_geoms: list[shapely.Geometry] = []
    for k, i in enumerate(rng.choice(np.arange(1, n_grid - 1), size=3, replace=False)):
        row = roads.iloc[int(i)].copy()
        row[rcol["road_id"]] = f"LD9{k + 1:03d}"
        extra_rows.append(row)
        extra_geoms.append(geoms[int(i)])
    for k in range(2):
        p = nxy[int(rng.integers(0, len(nxy)))]
        row = roads.iloc[k].copy()
        row[rcol["road_id"]] = f"LD8{k + 1:03d}"
        row[rcol["road_class"]] = "村道"
        row[rcol["surface"]] = "砂石"
        row[rcol["bridge"]] = "否"
        extra_rows.append(row)
        extra_geoms.append(shapely.LineString([p, p]))
    roads = pd.concat([roads, pd.DataFrame(extra_rows)], ignore_index=True)
    return gpd.GeoDataFrame(roads, geometry=geoms + extra_geoms, crs=st.metric_epsg)


def _service_sheets(rng: np.random.Generator, st: Style, fr: _Frame,
                    nxy: NDArray[np.float64], vil: _Villages) -> dict[str, pd.DataFrame]:
    """Return the service sheets, in GCJ-02.

    Seats at the junction nearest each strip's centre, health centres and schools near
    them, five village schools, and (fixture) a row with longitude and latitude swapped.
    """
    n_t = len(st.townships)
    strip = (fr.xmax - fr.xmin) / n_t
    seat_xy = []
    for k in range(n_t):
        c = np.array([fr.xmin + (k + 0.5) * strip, (fr.ymin + fr.ymax) / 2])
        seat_xy.append(nxy[int(np.argmin(np.hypot(*(nxy - c).T)))] + rng.uniform(-60, 60, 2))
    sxy = np.array(seat_xy)
    health = sxy + rng.uniform(-250, 250, size=sxy.shape)
    school_v = np.sort(rng.choice(len(vil.xy), size=5, replace=False))
    schools = np.vstack([sxy + rng.uniform(-300, 300, size=sxy.shape),
                         vil.xy[school_v] + rng.uniform(-150, 150, size=(5, 2))])
    school_town = np.concatenate([np.arange(n_t), vil.town[school_v]])
    sc = st.service_cols
    tnames = [t for t, _ in st.townships]

    def sheet(prefix: str, xy: NDArray[np.float64], names: list[str], towns: NDArray[Any],
              kinds: list[str] | None = None) -> pd.DataFrame:
        lon, lat = _lonlat(xy[:, 0], xy[:, 1], st.metric_epsg)
        glon, glat = wgs84_to_gcj02(lon, lat)
        data: dict[str, Any] = {
            sc["service_id"]: [f"{prefix}{i + 1:02d}" for i in range(len(xy))],
            sc["name"]: names,
            sc["township_id"]: [vil.t_codes[int(t)] for t in towns],
        }
        if kinds is not None:
            data[sc["kind"]] = kinds
        data[sc["lon"]] = np.round(glon, 6)
        data[sc["lat"]] = np.round(glat, 6)
        return pd.DataFrame(data)

    school_names = [f"{t}中心学校" for t in tnames] + [
        f"{vil.names[i].removesuffix('村')}小学" for i in school_v]
    sheets = {
        st.sheets["health"]: sheet("WS", health, [f"{t}卫生院" for t in tnames], np.arange(n_t)),
        st.sheets["school"]: sheet("XX", schools, school_names, school_town),
        st.sheets["seat"]: sheet("ZD", sxy, [f"{t}人民政府" for t in tnames], np.arange(n_t),
                                 [kind for _, kind in st.townships]),
    }
    if st.sheets["check"]:
        bad = sheet("HC", vil.xy[:1] + 120.0, [f"{vil.names[0].removesuffix('村')}村卫生室"],
                    vil.town[:1])
        lon_col, lat_col = sc["lon"], sc["lat"]
        bad[[lon_col, lat_col]] = bad[[lat_col, lon_col]].to_numpy()  # swapped by hand
        sheets[st.sheets["check"]] = bad
    return sheets


def _dem(rng: np.random.Generator, fr: _Frame) -> tuple[NDArray[np.int16], Affine]:
    """DEM: seeded fractal terrain, higher to the north-east, 100 m cells, 1 km margin."""
    cell = 100.0
    margin = 1000.0
    cols_r, rows_r = int((fr.width + 2 * margin) // cell), int((fr.height + 2 * margin) // cell)
    surf = fractal_surface((rows_r, cols_r), rng, beta=2.6, corner=0.02)
    gy, gx = np.mgrid[0:rows_r, 0:cols_r]
    trend = 300.0 + 500.0 * (gx / cols_r) + 300.0 * (1 - gy / rows_r)
    dem = np.round(trend + 180.0 * surf).astype(np.int16)
    transform = Affine(cell, 0.0, fr.x0 - margin, 0.0, -cell, fr.y0 - margin + rows_r * cell)
    return dem, transform


def _hazard_zones(rng: np.random.Generator, st: Style, outline: shapely.Geometry,
                  vxy: NDArray[np.float64]) -> gpd.GeoDataFrame:
    """Hazard polygons: 非易发区 over the county, then low / middle / high zones."""
    nv = len(vxy)
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
    return gpd.GeoDataFrame({
        st.hazard_cols["hazard_id"]: [f"YF{i + 1:03d}" for i in range(len(hz))],
        st.hazard_cols["class"]: [c for c, _ in hz],
    }, geometry=hz_lon.values, crs=4490)


def _hazard_points(rng: np.random.Generator, st: Style, fr: _Frame) -> pd.DataFrame:
    """Fifteen hazard points (CGCS2000 lon/lat) with a risk class and people threatened."""
    n_pts = 15
    pxy = np.column_stack([rng.uniform(fr.xmin, fr.xmax, n_pts),
                           rng.uniform(fr.ymin, fr.ymax, n_pts)])
    plon, plat = _lonlat(pxy[:, 0], pxy[:, 1], st.metric_epsg)
    pc = st.point_cols
    return pd.DataFrame({
        pc["id"]: [f"{COUNTY_CODE}{i + 1:04d}" for i in range(n_pts)],
        pc["lon"]: np.round(plon, 6),
        pc["lat"]: np.round(plat, 6),
        pc["risk"]: rng.choice(["高", "中", "低"], size=n_pts, p=[0.2, 0.4, 0.4]),
        pc["people"]: rng.integers(3, 120, size=n_pts),
    })


def _registry_sample(rng: np.random.Generator, st: Style, vil: _Villages) -> pd.DataFrame:
    """Registry sample: about 10% of each village's households (at least 8)."""
    rc = st.registry_cols
    incidence = rng.uniform(0.05, 0.45, len(vil.codes))
    rows: list[tuple[str, str, int, str, str]] = []
    for i, code in enumerate(vil.codes):
        n_hh = max(round(float(vil.pop[i]) / HOUSEHOLD_SIZE * _SAMPLE_SHARE), 8)
        for h in range(n_hh):
            members = int(np.clip(rng.poisson(HOUSEHOLD_SIZE - 1) + 1, 1, 9))
            poor = bool(rng.random() < incidence[i])
            cause = str(rng.choice(_CAUSES, p=_CAUSE_P)) if poor else ""
            rows.append((f"{code}{h + 1:04d}", code, members, "是" if poor else "否", cause))
    return pd.DataFrame(rows, columns=[rc["household_id"], rc["village_id"], rc["members"],
                                       rc["poor"], rc["cause"]])
