"""The messy fixture region (layers/messy): generator, loading problems, and an end-to-end run
whose headline figures are recomputed here, apart from the pipeline.

The independent computation reads the raw files with geopandas / pandas directly,
reprojects with pyproj, undoes GCJ-02 with its own implementation of the standard
transform, and routes on a networkx graph built here from the road lines. From
contigmap it takes only the *table of numbers* of default speeds
(:data:`contigmap.network.speeds.DEFAULT_SPEED_KMH`) and the unit costs of
``data/priorities.yaml``; the run uses ``network: {slope_penalty: false}`` (through
``--config``) so that travel times are exact apart from the legs, which are walked
straight at Tobler's flat speed (6·exp(−3.5·0.05) km/h) here as there.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import yaml
from pyproj import Transformer

from contigmap.config import load_region
from contigmap.network.speeds import DEFAULT_SPEED_KMH

ROOT = Path(__file__).resolve().parents[1]
MESSY = ROOT / "layers" / "messy"
REGION = MESSY / "region.yaml"

CLASS = {"县道": "county", "乡道": "township", "村道": "village", "机耕道": "track"}
SURFACE = {"沥青": "paved", "水泥": "paved", "砂石": "gravel", "土路": "earth"}
HARDENED = {"沥青", "水泥"}
WALK_KMH = 6.0 * math.exp(-3.5 * 0.05)  # Tobler on the level
M_PER_MIN = 1000.0 / 60.0

# Travel-time tolerance: the same lengths and speeds on both sides, so only floating point
# and the 1 mm vertex identity differ; 0.05 % + 0.01 min covers both.
TT_REL, TT_ABS = 5e-4, 0.01


# --------------------------------------------------------------------------- helpers


def _gcj_delta(lon: float, lat: float) -> tuple[float, float]:
    """The standard GCJ-02 offset (degrees) at a WGS84 point (Krasovsky ellipsoid)."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
            + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
            + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
            + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
            + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi))
            * 2 / 3)
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (a / sq * math.cos(rad) * math.pi)
    return dlon, dlat


def gcj_to_wgs(lon: float, lat: float) -> tuple[float, float]:
    """Invert GCJ-02 by fixed-point iteration of the forward offset (to ~1e-9 degrees)."""
    wlon, wlat = lon, lat
    for _ in range(30):
        dlon, dlat = _gcj_delta(wlon, wlat)
        nlon, nlat = lon - dlon, lat - dlat
        if abs(nlon - wlon) < 1e-10 and abs(nlat - wlat) < 1e-10:
            return nlon, nlat
        wlon, wlat = nlon, nlat
    return wlon, wlat


def _to(crs_from: Any, crs_to: str, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    tr = Transformer.from_crs(crs_from, crs_to, always_xy=True)
    ox, oy = tr.transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(ox), np.asarray(oy)


def read_villages(working: str) -> pd.DataFrame:
    """Villages from the GBK shapefile without .prj (CGCS2000 GK zone 38, prefixed)."""
    raw = gpd.read_file(MESSY / "村点.shp", encoding="gbk")
    x, y = _to("EPSG:4526", working, raw.geometry.x, raw.geometry.y)
    return pd.DataFrame({"village_id": raw["村代码"].astype(str), "name": raw["村名"],
                         "township_id": raw["乡镇代码"].astype(str),
                         "pop": raw["户籍人口"].astype(float), "x": x, "y": y})


def read_seats(working: str) -> pd.DataFrame:
    """Township seats from sheet 乡镇驻地 (GCJ-02), back to WGS84, then the working CRS."""
    raw = pd.read_excel(MESSY / "公共服务设施_高德.xlsx", engine="openpyxl", sheet_name="乡镇驻地",
                        dtype={"乡镇代码": str})
    wgs = [gcj_to_wgs(lon, lat) for lon, lat in zip(raw["经度"], raw["纬度"], strict=True)]
    x, y = _to("EPSG:4326", working, [p[0] for p in wgs], [p[1] for p in wgs])
    return pd.DataFrame({"township_id": raw["乡镇代码"], "x": x, "y": y})


def read_roads(working: str) -> gpd.GeoDataFrame:
    """Road lines: zero-length and duplicate lines dropped, multi-part lines exploded."""
    raw = gpd.read_file(MESSY / "道路.gpkg", layer="roads")
    raw = raw[raw.geometry.length > 0]
    raw = raw.explode(index_parts=False).reset_index(drop=True)
    raw = raw[~raw.geometry.to_wkb().duplicated()].reset_index(drop=True)
    tr = Transformer.from_crs(raw.crs, working, always_xy=True)
    geoms = [shapely.LineString(np.column_stack(tr.transform(*np.asarray(g.coords).T)))
             for g in raw.geometry]
    return gpd.GeoDataFrame(raw.drop(columns="geometry"), geometry=geoms, crs=working)


class Net:
    """A networkx road graph split at shared vertices, with points joined to nearest roads."""

    def __init__(self, roads: gpd.GeoDataFrame) -> None:
        key = lambda p: (round(p[0] * 1000), round(p[1] * 1000))  # noqa: E731 - 1 mm identity
        count: dict[tuple[int, int], int] = {}
        for g, bridge in zip(roads.geometry, roads["桥梁"], strict=True):
            coords = list(g.coords)
            inner = [] if bridge == "是" else coords[1:-1]
            for p in {key(c) for c in [coords[0], coords[-1], *inner]}:
                count[p] = count.get(p, 0) + 1
        self.edges: list[dict[str, Any]] = []
        for g, klass, surface, bridge in zip(roads.geometry, roads["道路等级"], roads["路面"],
                                             roads["桥梁"], strict=True):
            coords = list(g.coords)
            cut = [0] + [i for i in range(1, len(coords) - 1)
                         if bridge != "是" and count.get(key(coords[i]), 0) >= 2]
            cut.append(len(coords) - 1)
            kmh = DEFAULT_SPEED_KMH[CLASS[klass]][SURFACE[surface]]
            assert kmh is not None
            for a, b in itertools.pairwise(cut):
                line = shapely.LineString(coords[a:b + 1])
                self.edges.append({"line": line, "u": key(coords[a]), "v": key(coords[b]),
                                   "min_per_m": 1 / (max(kmh, WALK_KMH) * M_PER_MIN),
                                   "hardened": surface in HARDENED})
        self.tree = shapely.STRtree([e["line"] for e in self.edges])

    def graph(self, points: list[tuple[str, float, float]], weight: str) -> nx.Graph:
        """The graph with each point joined at the nearest point of its nearest edge.

        ``weight``: ``minutes`` (travel time) or ``harden`` (metres of unpaved road, paved
        roads at 0.05 per metre: the road-works route of the priority stage).
        """
        cuts: dict[int, list[tuple[float, str]]] = {}
        legs = {}
        for name, x, y in points:
            pt = shapely.Point(x, y)
            i = int(self.tree.nearest(pt))
            line = self.edges[i]["line"]
            cuts.setdefault(i, []).append((line.project(pt), name))
            legs[name] = line.distance(pt)
        g = nx.Graph()
        for i, e in enumerate(self.edges):
            marks = sorted(cuts.get(i, []))
            stops = [(0.0, e["u"]), *marks, (e["line"].length, e["v"])]
            for (s0, n0), (s1, n1) in itertools.pairwise(stops):
                length = s1 - s0
                if weight == "minutes":
                    w = length * e["min_per_m"]
                else:
                    w = length * (0.05 if e["hardened"] else 1.0)
                unpaved = 0.0 if e["hardened"] else length
                if g.has_edge(n0, n1) and g[n0][n1]["w"] <= w:
                    continue
                g.add_edge(n0, n1, w=w, unpaved=unpaved)
        for name, leg in legs.items():
            g.add_node(("leg", name))
            g.add_edge(("leg", name), name,
                       w=leg / (WALK_KMH * M_PER_MIN) if weight == "minutes" else 0.0,
                       unpaved=0.0)
        return g


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def run_dir(messy_run: Path) -> Path:
    """The session's messy run (``network: {slope_penalty: false}``), read-only."""
    return messy_run


@pytest.fixture(scope="module")
def working(run_dir: Path) -> str:
    manifest = json.loads((run_dir / "run_manifest.json").read_text(encoding="utf-8"))
    return str(manifest["parameters"]["working_crs"])


@pytest.fixture(scope="module")
def villages_out(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "villages.csv", dtype={"village_id": str, "township_id": str})


# --------------------------------------------------------------------------- generator


@pytest.mark.slow
def test_generator_is_deterministic_and_matches_the_committed_fixture(tmp_path: Path) -> None:
    from contigmap.synth import make_messy_region

    region = make_messy_region(tmp_path / "m")

    def digest(folder: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.iterdir()) if p.is_file()}

    assert digest(region.parent) == digest(MESSY)
    total = sum(p.stat().st_size for p in MESSY.iterdir())
    assert total < 2_000_000
    # as handed over: no .cpg, no .prj, GK eastings with the zone number 38 prefixed
    assert not (MESSY / "村点.cpg").exists()
    assert not (MESSY / "村点.prj").exists()
    pts = gpd.read_file(MESSY / "村点.shp", encoding="gbk")
    assert pts.crs is None
    assert (pts.geometry.x // 1_000_000 == 38).all()


def test_unseen_variant_has_no_manifest_and_other_headers(tmp_path: Path) -> None:
    from contigmap.synth import make_messy_region

    out = make_messy_region(tmp_path / "u", seed=7, variant="unseen")
    assert not (out / "region.yaml").exists()
    pts = gpd.read_file(out / "行政村.shp", encoding="gbk")
    assert "行政村代码" in pts.columns
    assert (pts.geometry.x // 1_000_000 == 37).all()


# --------------------------------------------------------------------------- loading problems


def _variant(tmp_path: Path, edit: Any) -> Path:
    folder = tmp_path / "region"
    shutil.copytree(MESSY, folder)
    data = yaml.safe_load(REGION.read_text(encoding="utf-8"))
    edit(data)
    (folder / "region.yaml").write_text(yaml.safe_dump(data, allow_unicode=True),
                                        encoding="utf-8")
    return folder / "region.yaml"


def test_swapped_row_is_reported(tmp_path: Path) -> None:
    from contigmap.errors import CRSError
    from contigmap.io.region import load_region_layers

    def add_sheet(data: dict[str, Any]) -> None:
        data["layers"]["services"]["sheets"]["待核实"] = {"set": {"kind": "health_centre"}}

    region = _variant(tmp_path, add_sheet)
    with pytest.raises(CRSError, match=r"sheet '待核实' row 2 looks swapped"):
        load_region_layers(load_region(region))


def test_duplicate_village_code_is_reported(tmp_path: Path) -> None:
    from contigmap.errors import ContigmapError
    from contigmap.io.region import load_region_layers

    def use_dup(data: dict[str, Any]) -> None:
        data["layers"]["villages"]["path"] = "村点_重码.shp"

    region = _variant(tmp_path, use_dup)
    raw = gpd.read_file(MESSY / "村点_重码.shp", encoding="gbk")
    dup = raw["村代码"][raw["村代码"].duplicated()].iloc[0]
    expected = rf"id '{dup}' in column 'village_id' repeats in data rows 29, 30"
    with pytest.raises(ContigmapError, match=expected):
        load_region_layers(load_region(region))


def test_hazard_points_per_village(working: str, villages_out: pd.DataFrame) -> None:
    """Points within 500 m of each village point, counted by brute force from the raw XLSX."""
    vil = read_villages(working).set_index("village_id")
    pts = pd.read_excel(MESSY / "隐患点.xlsx", engine="openpyxl")
    px, py = _to("EPSG:4490", working, pts["经度"], pts["纬度"])
    d = np.hypot(vil["x"].to_numpy()[:, None] - px[None, :],
                 vil["y"].to_numpy()[:, None] - py[None, :])
    near = d <= 500.0
    weight = pts["风险等级"].map({"高": 1.0, "中": 0.6, "低": 0.3}).to_numpy()
    expected = pd.DataFrame({
        "points": near.sum(axis=1),
        "threatened": (near * pts["威胁人数"].to_numpy()[None, :]).sum(axis=1),
        "wmax": np.where(near, weight[None, :], 0.0).max(axis=1),
    }, index=vil.index)
    out = villages_out.set_index("village_id").loc[expected.index]
    assert expected["points"].sum() > 0  # the fixture puts some villages near hazard points
    np.testing.assert_array_equal(out["hazard_geo_points_points"], expected["points"])
    np.testing.assert_allclose(out["hazard_geo_points_threatened"], expected["threatened"])
    np.testing.assert_allclose(out["hazard_geo_points_wmax"], expected["wmax"])


@pytest.mark.slow
def test_validate_counts_the_messy_rows() -> None:
    from contigmap.dryrun import validation_report

    report = validation_report(REGION, progress=False)
    assert report.ok
    text = report.to_text()
    assert "2 zero-length line(s) dropped" in text
    assert "1 multi-part line(s)" in text
    assert "3 duplicate geometries" in text


# --------------------------------------------------------------------------- end to end


def test_run_completes_with_relocation(run_dir: Path) -> None:
    assert (run_dir / "relocation").is_dir()
    assert any((run_dir / "relocation").iterdir())
    assert (run_dir / "priorities" / "priorities_roads.csv").exists()


def test_poverty_incidence_and_poor_people(run_dir: Path, working: str,
                                          villages_out: pd.DataFrame) -> None:
    vil = read_villages(working).set_index("village_id")
    reg = pd.read_csv(MESSY / "建档立卡抽样.csv", encoding="gbk", dtype={"村代码": str})
    reg["poor_members"] = np.where(reg["是否贫困户"] == "是", reg["家庭人口"], 0)
    by_v = reg.groupby("村代码")[["poor_members", "家庭人口"]].sum()
    vil["incidence"] = by_v["poor_members"] / by_v["家庭人口"]
    vil["poor_pop"] = vil["pop"] * vil["incidence"]  # a sample gives rates: pop x incidence
    vil["households"] = np.maximum(np.round(vil["pop"] / 3.05), 1)

    out = villages_out.set_index("village_id").loc[vil.index]
    np.testing.assert_allclose(out["poor_pop"], vil["poor_pop"], atol=1e-4)  # 4 decimals
    np.testing.assert_array_equal(out["households"], vil["households"])
    assert set(out["poor_pop_source"]) == {"registry_sample_estimate"}
    assert set(out["households_source"]) == {"pop_div_household_size"}

    ind = pd.read_csv(run_dir / "indicators.csv", dtype={"township_id": str})
    towns = vil.groupby("township_id")[["poor_pop", "pop"]].sum()
    expected = towns["poor_pop"] / towns["pop"]
    got = ind[ind["level"] == "township"].set_index("township_id")["poverty_incidence"]
    np.testing.assert_allclose(got.loc[expected.index], expected, rtol=1e-9)
    county = ind[ind["level"] == "county"]["poverty_incidence"].iloc[0]
    assert county == pytest.approx(vil["poor_pop"].sum() / vil["pop"].sum(), rel=1e-9)
    # the plain sample ratio (poor members / members) is close, not equal: it weights
    # villages by sample size, the estimate by population
    reg["township_id"] = reg["村代码"].str[:9]
    raw = reg.groupby("township_id")["poor_members"].sum() / reg.groupby("township_id")[
        "家庭人口"].sum()
    assert np.abs(raw.loc[expected.index] - expected).max() < 0.03


def test_rai_matches_distances_to_hardened_roads(run_dir: Path, working: str) -> None:
    vil = read_villages(working)
    roads = read_roads(working)
    hard = shapely.union_all(roads.geometry[roads["路面"].isin(HARDENED)].to_numpy())
    dist = shapely.distance(shapely.points(vil["x"], vil["y"]), hard)
    assert (np.abs(dist - 2000.0) > 1.0).all()  # no village sits on the threshold
    ok = dist <= 2000.0
    county = pd.read_csv(run_dir / "county_access.csv")
    expected = vil["pop"][ok].sum() / vil["pop"].sum()
    assert 0.5 < expected < 1.0  # some villages are beyond 2 km of a hardened road
    assert county["rai"].iloc[0] == pytest.approx(expected, rel=1e-12)
    towns = pd.read_csv(run_dir / "township_access.csv", dtype={"township_id": str})
    vil["ok_pop"] = vil["pop"] * ok
    per = vil.groupby("township_id")[["ok_pop", "pop"]].sum()
    np.testing.assert_allclose(towns.set_index("township_id").loc[per.index, "rai"],
                               per["ok_pop"] / per["pop"], rtol=1e-12)


def test_travel_times_to_own_township_seat(working: str, villages_out: pd.DataFrame) -> None:
    vil = read_villages(working)
    seats = read_seats(working).drop_duplicates("township_id").set_index("township_id")
    net = Net(read_roads(working))
    points = [(v, x, y) for v, x, y in zip(vil["village_id"], vil["x"], vil["y"], strict=True)]
    points += [(f"seat:{t}", r.x, r.y) for t, r in seats.iterrows()]
    g = net.graph(points, "minutes")
    got = villages_out.set_index("village_id")["tt_own_township_seat_min"]
    expected = {}
    for t in seats.index:
        dist = nx.single_source_dijkstra_path_length(g, ("leg", f"seat:{t}"), weight="w")
        for vid in vil["village_id"][vil["township_id"] == t]:
            expected[vid] = dist[("leg", vid)]
    exp = pd.Series(expected)
    assert exp.notna().all() and len(exp) == 30
    np.testing.assert_allclose(got.loc[exp.index], exp, rtol=TT_REL, atol=TT_ABS)


def test_road_capex_from_unit_costs(run_dir: Path, working: str) -> None:
    pri = pd.read_csv(run_dir / "priorities" / "priorities_roads.csv",
                      dtype={"village_id": str, "township_id": str})
    harden = pri[(pri["roads_option"] == "harden") & (pri["roads_new_m"] == 0)]
    assert len(harden) >= 3
    costs = yaml.safe_load((ROOT / "src" / "contigmap" / "data" / "priorities.yaml")
                           .read_text(encoding="utf-8"))["roads"]["costs"]
    vil = read_villages(working).set_index("village_id")
    seats = read_seats(working).drop_duplicates("township_id").set_index("township_id")
    net = Net(read_roads(working))
    points = [(str(v), float(r.x), float(r.y))
              for v, r in vil.loc[harden["village_id"]].iterrows()]
    points += [(f"seat:{t}", r.x, r.y) for t, r in seats.iterrows()]
    g = net.graph(points, "harden")
    with rasterio.open(MESSY / "dem.tif") as src:
        dem, tf = src.read(1).astype(float), src.transform
    checked = 0
    for _, row in harden.iterrows():
        path = nx.shortest_path(g, row["village_id"], f"seat:{row['township_id']}", weight="w")
        metres = sum(g[a][b]["unpaved"] for a, b in itertools.pairwise(path))
        assert row["roads_harden_m"] == pytest.approx(metres, abs=0.2)
        # terrain from the DEM within 1 km of the village (every village here is mountainous)
        v = vil.loc[row["village_id"]]
        r, c = rasterio.transform.rowcol(tf, v["x"], v["y"])
        win = dem[max(int(r) - 10, 0):int(r) + 11, max(int(c) - 10, 0):int(c) + 11]
        relief = win.max() - win.min()
        terrain = ("mountainous" if relief >= costs["relief_mountainous_m"] else
                   "hilly" if relief >= costs["relief_hilly_m"] else "flat")
        assert row["roads_terrain"] == terrain
        capex = metres / 1000.0 * costs["harden_cny_per_km"][terrain]
        assert row["roads_capex_cny"] == pytest.approx(capex, abs=300.0)
        checked += 1
    assert checked == len(harden)
