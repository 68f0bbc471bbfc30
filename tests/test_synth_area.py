"""Tests for the synthetic area generator (``contigmap synth scale``, contigmap.synth.area)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import yaml
from click.testing import CliRunner

from contigmap.cli.main import cli
from contigmap.errors import ConfigError
from contigmap.synth.area import _group_rank, _main_pieces, area_layout, default_counties

N_EDGES = 30_000


@pytest.fixture(scope="module")
def area_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-county area at 30k road lines, written through the CLI."""
    out = tmp_path_factory.mktemp("area") / "big"
    res = CliRunner().invoke(cli, ["-q", "synth", "scale", "-o", str(out), "--road-edges",
                                   str(N_EDGES), "--counties", "3", "--seed", "1"])
    assert res.exit_code == 0, res.output
    return out


def _counties(area_dir: Path) -> list[dict[str, str]]:
    doc = yaml.safe_load((area_dir / "area.yaml").read_text(encoding="utf-8"))
    return list(doc["counties"])


def test_default_counties_follow_the_brief() -> None:
    assert default_counties(10_000) == 1
    assert default_counties(1_000_000) in range(68, 73)
    assert default_counties(100_000) == 7


def test_layout_gives_k_rectangles_tiling_the_extent() -> None:
    for k in (1, 3, 7, 70):
        lay = area_layout(k, (0.0, 0.0, 150.0, 100.0))
        assert len(lay.rects) == k
        area = ((lay.rects[:, 2] - lay.rects[:, 0]) * (lay.rects[:, 3] - lay.rects[:, 1])).sum()
        assert area == pytest.approx(150.0 * 100.0)
        boxes = shapely.box(*lay.rects.T)
        assert shapely.union_all(boxes).area == pytest.approx(150.0 * 100.0)
        # every point falls in the rectangle county_of names (brute force)
        rng = np.random.default_rng(k)
        x, y = rng.uniform(0, 150, 500), rng.uniform(0, 100, 500)
        got = lay.county_of(x, y)
        for xi, yi, c in zip(x, y, got, strict=True):
            x0, y0, x1, y1 = lay.rects[c]
            assert x0 <= xi <= x1 and y0 <= yi <= y1


def test_group_rank_by_hand() -> None:
    group = np.array([2, 0, 2, 0, 2])
    key = np.array([5.0, 1.0, 3.0, 0.5, 4.0])
    assert _group_rank(group, key).tolist() == [2, 1, 0, 0, 1]


def test_main_pieces_match_networkx() -> None:
    rng = np.random.default_rng(0)
    n = 60
    county = np.repeat([0, 1], 30)
    u = rng.integers(0, 30, 25)
    v = rng.integers(0, 30, 25)
    u = np.concatenate([u, u + 30])
    v = np.concatenate([v, (v + 7) % 30 + 30])
    got = set(_main_pieces(u, v, county).tolist())
    want: set[int] = set()
    for c in (0, 1):
        g = nx.Graph()
        sel = county[u] == c
        g.add_edges_from(zip(u[sel].tolist(), v[sel].tolist(), strict=True))
        comps = sorted(nx.connected_components(g), key=lambda s: (-len(s), min(s)))
        want |= comps[0]
    assert got == want
    assert n == county.size


def test_too_few_edges_per_county_is_a_clear_error(tmp_path: Path) -> None:
    from contigmap.synth.area import make_scale_area

    with pytest.raises(ConfigError, match="--counties"):
        make_scale_area(tmp_path / "x", n_edges=1000, n_counties=5)


@pytest.mark.slow
def test_area_manifest_schema(area_dir: Path) -> None:
    doc = yaml.safe_load((area_dir / "area.yaml").read_text(encoding="utf-8"))
    assert list(doc) == ["area", "counties", "layers"]
    assert doc["area"]["code"] == "synth-area" and doc["area"]["illustrative"] is True
    assert doc["area"]["source_note"]
    assert [c["code"] for c in doc["counties"]] == ["990001", "990002", "990003"]
    for c in doc["counties"]:
        assert set(c) == {"region", "code", "name"}
        assert c["region"] == f"counties/{c['code']}/region.yaml"
        region = yaml.safe_load((area_dir / c["region"]).read_text(encoding="utf-8"))
        assert region["illustrative"] is True and region["source_note"]
    assert doc["layers"] == {
        "prefecture_cities": {"path": "area/cities.csv", "x": "lon", "y": "lat",
                              "crs": "EPSG:4326", "id": "city_id"},
        "trunk_roads": {"path": "area/trunk_roads.gpkg", "layer": "trunk_roads",
                        "id": "road_id"},
    }
    with rasterio.open(area_dir / "counties/990001/dem.tif") as dem:
        assert dem.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert dem.profile["tiled"] and dem.profile["compress"] == "deflate"
    cities = pd.read_csv(area_dir / "area/cities.csv")
    assert len(cities) >= 1 and cities["city_id"].is_unique


@pytest.mark.slow
def test_road_lines_add_up_and_sit_in_their_county(area_dir: Path) -> None:
    trunk = gpd.read_file(area_dir / "area/trunk_roads.gpkg", layer="trunk_roads")
    ids = list(trunk["road_id"])
    boxes = {}
    for c in _counties(area_dir):
        folder = area_dir / "counties" / c["code"]
        roads = gpd.read_parquet(folder / "roads.parquet")
        box = gpd.read_file(folder / "boundaries.gpkg", layer="county").geometry.iloc[0]
        boxes[c["code"]] = box
        ends = shapely.get_point(roads.geometry.to_numpy(), 0), shapely.get_point(
            roads.geometry.to_numpy(), -1)
        assert shapely.covers(box, ends[0]).all() and shapely.covers(box, ends[1]).all()
        ids += list(roads["road_id"])
    assert len(ids) == N_EDGES and len(set(ids)) == N_EDGES
    assert set(ids) == {f"R{i:08d}" for i in range(N_EDGES)}
    # each trunk line runs from one county into another
    assert len(trunk) > 0 and (trunk["county_a"] != trunk["county_b"]).all()
    geoms = trunk.geometry.to_numpy()
    for end, col in ((0, "county_a"), (-1, "county_b")):
        pts = shapely.get_point(geoms, end)
        inside = [boxes[c].covers(p) for c, p in zip(trunk[col], pts, strict=True)]
        assert all(inside)


@pytest.mark.slow
def test_people_and_households_add_up(area_dir: Path) -> None:
    folder = area_dir / "counties" / _counties(area_dir)[0]["code"]
    vill = gpd.read_file(folder / "villages.gpkg", layer="villages")
    ham = pd.read_csv(folder / "hamlets.csv", dtype={"village_code": str, "hamlet_id": str})
    hh = pd.read_csv(folder / "households.csv", dtype={"village_code": str})
    by_v = ham.groupby("village_code")[["pop", "households"]].sum()
    v = vill.set_index("村代码")
    assert by_v["pop"].reindex(v.index).tolist() == v["人口"].tolist()
    assert by_v["households"].reindex(v.index).tolist() == v["户数"].tolist()
    reg = hh.groupby("village_code").agg(n=("members", "size"), people=("members", "sum"))
    assert reg["n"].reindex(v.index).tolist() == v["户数"].tolist()
    assert reg["people"].reindex(v.index).tolist() == v["人口"].tolist()
    # each township has exactly one seat village (社区)
    assert (vill[vill["类型"] == "社区"].groupby("乡镇代码").size() == 1).all()


@pytest.mark.slow
def test_every_county_validates(area_dir: Path) -> None:
    from contigmap.dryrun import validation_report

    for c in _counties(area_dir):
        report = validation_report(area_dir / c["region"], progress=False)
        assert report.ok, report.to_text()
        assert not report.errors


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    """Same seed: same bytes, serially and with two worker processes."""
    from contigmap.synth.area import make_scale_area

    a = make_scale_area(tmp_path / "a", n_edges=2_000, n_counties=2, seed=5).parent
    b = make_scale_area(tmp_path / "b", n_edges=2_000, n_counties=2, seed=5, workers=2).parent
    da, db = _digest(a), _digest(b)
    assert len(da) > 25 and da == db
    c = make_scale_area(tmp_path / "c", n_edges=2_000, n_counties=2, seed=6).parent
    assert _digest(c)["area/trunk_roads.gpkg"] != da["area/trunk_roads.gpkg"]


@pytest.mark.slow
def test_one_county_runs_end_to_end(area_dir: Path, tmp_path: Path) -> None:
    region = area_dir / _counties(area_dir)[1]["region"]
    res = CliRunner().invoke(cli, ["-q", "run", str(region), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    villages = pd.read_csv(tmp_path / "out" / "villages.csv")
    n_vill = len(gpd.read_file(region.parent / "villages.gpkg", layer="villages"))
    assert len(villages) == n_vill
    assert (tmp_path / "out" / "map.html").exists()


def test_one_county_area_has_no_trunk_layer_and_builds_its_area_graph(tmp_path: Path) -> None:
    """No road crosses a border in a one-county area: no (empty, refused) trunk layer."""
    from contigmap.area.manifest import load_area
    from contigmap.area.prefecture import build_area_graph
    from contigmap.synth.area import make_scale_area

    path = make_scale_area(tmp_path / "one", n_edges=2_000, n_counties=1, seed=3)
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert "trunk_roads" not in doc["layers"] and "prefecture_cities" in doc["layers"]
    assert not (tmp_path / "one" / "area" / "trunk_roads.gpkg").exists()
    graph = build_area_graph(load_area(path))
    county = gpd.read_parquet(tmp_path / "one" / "counties" / doc["counties"][0]["code"]
                           / "roads.parquet")
    assert graph is not None and graph.graph.n_edges >= len(county)
