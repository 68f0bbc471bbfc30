"""Helpers shared by several test modules (fixtures live in ``conftest.py``).

Test modules import shared code from here only, never from each other or from
``conftest.py``.

- :func:`write_tiny_region`: a made-up county near 花垣县 whose figures can be checked by
  hand (below), behind the ``tiny_region`` and ``seated_region`` fixtures and used
  directly by tests that need a modified copy;
- :func:`hand_network`: a four-road network whose travel times are computed by hand at
  25 km/h (2.4 min/km), used by the criticality, optimiser, incremental-engine, hazard
  point and scenario tests;
- :func:`synthetic_model` and :func:`random_upgrade`: a random access model on a
  synthetic road layer and random road upgrades on it, used by the incremental-engine
  and optimiser tests;
- :func:`expected_villages`, :func:`expected_areas` and :func:`check_every_output`: a
  run's headline figures recomputed with plain pandas from the raw registry CSV and the
  village table, never from contigmap's own indicator code, and checked in every output
  (``test_indicators`` on the tiny region, ``test_demo`` on the demo region).

The tiny region
---------------
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

import atexit
import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point, box

CRS = "EPSG:32649"

# ------------------------------------------------------------------ the tiny region

WORK_CRS = "EPSG:4545"
X0, Y0 = 630_000.0, 3_140_000.0
VILLAGE_CODES = ["433124100201", "433124100202", "433124101201", "433124101202"]


@dataclass
class TinyRegion:
    path: Path
    folder: Path


@functools.cache
def _to_lonlat_transformer() -> Transformer:
    return Transformer.from_crs(WORK_CRS, "EPSG:4326", always_xy=True)


def to_lonlat(x: list[float], y: list[float]) -> tuple[np.ndarray, np.ndarray]:
    tr = _to_lonlat_transformer()
    lon, lat = tr.transform(np.asarray(x), np.asarray(y))
    return np.asarray(lon), np.asarray(lat)


def _write_static_layers(folder: Path) -> None:
    """Write the tiny region's geodata files (admin, roads, DEM, flood) into ``folder``."""
    import rasterio
    from affine import Affine

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


_STATIC_FILES = ("admin.gpkg", "roads.gpkg", "dem.tif", "flood.geojson")
_static_cache: list[Path] = []


def _copy_static_layers(folder: Path) -> None:
    """Copy the geodata files, written once per process (GeoPackage and GeoTIFF writes are
    the slow part of making a tiny region; their bytes never vary between tests)."""
    if not _static_cache:
        cache = Path(tempfile.mkdtemp(prefix="contigmap-tiny-"))
        atexit.register(shutil.rmtree, cache, True)
        _write_static_layers(cache)
        _static_cache.append(cache)
    for name in _STATIC_FILES:
        shutil.copyfile(_static_cache[0] / name, folder / name)


def write_tiny_region(
    folder: Path, *, extra_yaml: str = "", villages_csv: str | None = None, seats: bool = False
) -> Path:
    from contigmap.crs import wgs84_to_gcj02

    folder.mkdir(parents=True, exist_ok=True)
    _copy_static_layers(folder)

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


# ---------------------------------------------------------------- hand-made networks




def hand_network() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Roads, villages and a township seat laid out so that times can be read off by hand.

    Seat at x = 0; R1 0–1 km, R2 1–2 km, R3 a 3 km loop from 1 to 2 km, R4 2–3 km (all
    paved village roads, 25 km/h); V1 (pop 100, poor 10) at 2.4 km on R4, V2 (pop 50,
    poor 5) at 1.4 km on R2.
    """
    x0, y0 = 400_000.0, 3_100_000.0

    def line(*pts: tuple[float, float]) -> LineString:
        return LineString([(x0 + a, y0 + b) for a, b in pts])

    roads = gpd.GeoDataFrame(
        {"road_id": ["R1", "R2", "R3", "R4"], "road_class": ["village"] * 4,
         "surface": ["paved"] * 4},
        geometry=[line((0, 0), (1000, 0)), line((1000, 0), (2000, 0)),
                  line((1000, 0), (1000, 1000), (2000, 1000), (2000, 0)),
                  line((2000, 0), (3000, 0))], crs=CRS)
    villages = gpd.GeoDataFrame(
        {"village_id": ["V1", "V2"], "township_id": ["T", "T"], "pop": [100, 50],
         "poor_pop": [10, 5]},
        geometry=[Point(x0 + 2400, y0), Point(x0 + 1400, y0)], crs=CRS)
    services = gpd.GeoDataFrame(
        {"service_id": ["S"], "kind": ["township_seat"], "township_id": ["T"]},
        geometry=[Point(x0, y0)], crs=CRS)
    return roads, villages, services


def synthetic_model(seed: int) -> tuple[Any, Any, dict[str, np.ndarray], np.random.Generator]:
    """A 1,500-segment synthetic road graph, an access model with 80 villages and 4 seats.

    Returns the graph, the model, each seat query's villages and the random generator.
    """
    from contigmap.network import build_network
    from contigmap.network.access_model import AccessModel
    from contigmap.synth.scale import make_scale_roads

    roads, _ = make_scale_roads(1500, seed=seed)
    graph = build_network(roads)
    rng = np.random.default_rng(seed)
    lo, hi = graph.node_xy.min(axis=0), graph.node_xy.max(axis=0)
    villages_xy = lo + rng.random((80, 2)) * (hi - lo)
    queries = {f"seat:{k}": lo + rng.random((1, 2)) * (hi - lo) for k in range(4)}
    model = AccessModel.build(graph, villages_xy, queries)
    sel = {f"seat:{k}": np.arange(k, 80, 4, dtype=np.int64) for k in range(4)}
    return graph, model, sel, rng


def random_upgrade(graph: Any, rng: np.random.Generator) -> Any:
    """Pave 1–6 random unpaved edges (one time in five also rebuilt as a county road)."""
    from contigmap.network.edgetimes import EdgeChange
    from contigmap.schema import ROAD_CLASSES, SURFACES

    unpaved = np.flatnonzero(~graph.hardened)
    edges = rng.choice(unpaved, int(rng.integers(1, 7)), replace=False)
    if rng.random() < 0.2:  # a stretch of road rebuilt as a county road
        return EdgeChange.upgrade(edges, road_class=ROAD_CLASSES.index("county"),
                                  surface=SURFACES.index("paved"))
    return EdgeChange.upgrade(edges, surface=SURFACES.index("paved"))


# ------------------------------------------------------- headline figures, recomputed




def expected_villages(villages_csv: Path, households_csv: Path, *, sample: bool,
                      village_col: str = "village_id") -> pd.DataFrame:
    """Per village: township_id, pop, poor people and the people they are counted among.

    From the raw registry: a complete registry gives poor members over registered
    members; a sample gives ``pop × poor members / members`` over ``pop`` (for a village
    without sample rows, the pooled rate of its township's sampled villages, else of all
    sampled villages).
    """
    v = pd.read_csv(villages_csv, dtype={"village_id": str, "township_id": str},
                    encoding="utf-8-sig", usecols=["village_id", "township_id", "pop"])
    hh = pd.read_csv(households_csv, dtype={village_col: str}, encoding="utf-8-sig")
    poor_flag = hh["poor"].astype(str).isin(["1", "是", "True", "true"])
    hh = hh.assign(poor_members=hh["members"].where(poor_flag, 0))
    reg = hh.groupby(village_col).agg(members=("members", "sum"),
                                      poor_members=("poor_members", "sum"))
    v = v.join(reg, on="village_id")
    if sample:
        # own rate where sampled, else the township's pooled rate, else the county's
        covered = v["members"].notna()
        town = v[covered].groupby("township_id")[["poor_members", "members"]].sum()
        town_rate = town["poor_members"] / town["members"]
        county_rate = v.loc[covered, "poor_members"].sum() / v.loc[covered, "members"].sum()
        rate = (v["poor_members"] / v["members"]).where(covered)
        rate = rate.fillna(v["township_id"].map(town_rate)).fillna(county_rate)
        v["exp_poor"] = v["pop"] * rate
        v["exp_basis"] = v["pop"]
    else:
        v["exp_poor"] = v["poor_members"].fillna(0)
        v["exp_basis"] = v["members"].fillna(0)
    return v[["village_id", "township_id", "pop", "exp_poor", "exp_basis"]]


def expected_areas(v: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Township and county sums and incidence by plain groupby."""
    t = v.groupby("township_id").agg(pop=("pop", "sum"), poor=("exp_poor", "sum"),
                                     basis=("exp_basis", "sum"), villages=("pop", "size"))
    t["incidence"] = t["poor"] / t["basis"]
    county = {"pop": float(v["pop"].sum()), "poor": float(v["exp_poor"].sum()),
              "incidence": float(v["exp_poor"].sum() / v["exp_basis"].sum())}
    return t, county


def _md_table(md: str, heading: str) -> list[list[str]]:
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[2:]


def check_every_output(out_dir: Path, summary: dict[str, Any], v: pd.DataFrame) -> None:
    """Assert indicators.csv, report.md/.html, map.html and the CLI summary agree with ``v``."""
    towns, county = expected_areas(v)
    # indicators.csv
    ind = pd.read_csv(out_dir / "indicators.csv", dtype={"township_id": str},
                      encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    t_rows = ind[ind["level"] == "township"].set_index("township_id")
    assert sorted(t_rows.index) == sorted(towns.index)
    for tid, row in towns.iterrows():
        got = t_rows.loc[str(tid)]
        assert got["villages"] == row["villages"]
        assert got["pop"] == row["pop"]
        assert got["poor_pop"] == pytest.approx(row["poor"], abs=1e-6)
        assert got["poverty_incidence"] == pytest.approx(row["incidence"], abs=1e-9)
    c_row = ind[ind["level"] == "county"].iloc[0]
    assert c_row["pop"] == county["pop"]
    assert c_row["poor_pop"] == pytest.approx(county["poor"], abs=1e-6)
    assert c_row["poverty_incidence"] == pytest.approx(county["incidence"], abs=1e-9)
    # the county report, Markdown: key figures and the township table
    md = (out_dir / "report.md").read_text(encoding="utf-8")
    figs = {r[1]: r[2] for r in _md_table(md, "## 主要指标")}
    assert figs["people"] == f"{county['pop']:,.0f}"
    assert figs["poor people"] == f"{county['poor']:,.0f}"
    assert figs["poverty incidence"] == f"{county['incidence']:.1%}"
    md_towns = {r[0]: r for r in _md_table(md, "## 各乡镇")}
    assert sorted(md_towns) == sorted(towns.index)
    for tid, row in towns.iterrows():
        cells = md_towns[str(tid)]
        assert cells[3:6] == [f"{row['pop']:,.0f}", f"{row['poor']:,.0f}",
                              f"{row['incidence']:.1%}"], tid
    # the county report, HTML: the same township cells
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    for poor, rate in zip(towns["poor"], towns["incidence"], strict=True):
        assert (f'<td class="num">{poor:,.0f}</td><td class="num">'
                f"{rate:.1%}</td>") in page
    # the map's key-figures panel
    html = (out_dir / "map.html").read_text(encoding="utf-8")
    assert (f"<th>贫困发生率 poverty incidence</th><td>{county['incidence']:.1%} "
            f"({county['poor']:,.0f} poor people") in html
    # the CLI summary
    assert summary["people"] == county["pop"]
    assert summary["poverty_incidence"] == pytest.approx(county["incidence"], abs=1e-9)
    assert summary["poor_people"].startswith(f"{county['poor']:,.0f}")
