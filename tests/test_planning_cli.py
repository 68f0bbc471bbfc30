"""End to end through the CLI: ``contigmap criticality`` and ``contigmap optimize``.

Both run on the tiny seated region of ``conftest.py`` (``write_tiny_region(seats=True)``),
whose layout can be read off its coordinates (x, y in km from the county's south-west
corner, EPSG:4545):

- road 1, a paved county road, runs along y = 4 from x = 0 to 10; the west township
  seat is on it at (2.5, 4), the east one at (7.5, 4);
- road 2, a gravel village road, runs from 一村 (2, 2) north to road 1 at (2, 4) (then
  along road 1 to (3, 4));
- road 3, a 2 km earth track, runs from 十八洞村 (7, 2) north to road 1 at (7, 4);
- 二村 (3, 6) and 四村 (8, 6) are 2 km north of road 1 and reach it on foot.

So road 2 is the only road 一村 has to its seat, and road 3 the only one 十八洞村 has.
Poor people: the household registry covers few of the villages' people, so it is taken
as a sample and a village's poor people are its pop × the registry's poor share of its
members; the tests recompute that from the fixture's files.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
from click.testing import CliRunner

from contigmap.cli.main import cli
from contigmap.network.speeds import DEFAULT_SPEED_KMH
from tests.helpers import VILLAGE_CODES, TinyRegion

pytestmark = pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, ["-q", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _villages(region: TinyRegion) -> pd.DataFrame:
    """Village pop and estimated poor people, from the fixture's CSV files."""
    v = pd.read_csv(region.folder / "villages.csv", dtype={"村代码": str}).set_index("村代码")
    hh = pd.read_csv(region.folder / "households.csv", dtype={"village_id": str})
    hh["poor_members"] = hh["members"].where(hh["poor"] == "是", 0)
    share = hh.groupby("village_id")["poor_members"].sum() / hh.groupby("village_id")[
        "members"].sum()
    return pd.DataFrame({"name": v["村名"], "pop": v["人口"].astype(float),
                         "poor_pop": v["人口"] * share.reindex(v.index)})


@pytest.mark.slow
def test_criticality_cli_cuts_off_the_village_at_the_end_of_its_road(
    seated_region: TinyRegion, tmp_path: Path
) -> None:
    out = tmp_path / "crit"
    _invoke("criticality", str(seated_region.path), "-o", str(out))
    for name in ("road_criticality.csv", "road_criticality.gpkg", "criticality_map.html",
                 "run_manifest.json"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "road_criticality.csv", dtype={"road_id": str})
    layer = gpd.read_file(out / "road_criticality.gpkg", layer="criticality")
    layer["road_id"] = layer["road_id"].astype(str)
    assert len(layer) == len(table)
    villages = _villages(seated_region)
    # cutting road 2 cuts off 一村 alone, road 3 十八洞村 alone
    for road, code in (("2", VILLAGE_CODES[0]), ("3", VILLAGE_CODES[2])):
        village = villages.loc[code]
        for rows in (table[table["road_id"] == road], layer[layer["road_id"] == road]):
            assert len(rows) >= 1, road
            assert (rows["villages_cut_off"] == 1).all(), road
            assert (rows["villages_affected"] == 1).all(), road
            assert rows["pop_cut_off"].tolist() == pytest.approx([village["pop"]] * len(rows))
            assert rows["poor_cut_off"].tolist() == pytest.approx(
                [village["poor_pop"]] * len(rows), rel=1e-9)
            assert (rows["pop_delayed"] == 0).all(), road
    # by hand: 300 people in 十八洞村, 1 poor member of 9 in its registry households
    assert villages.loc[VILLAGE_CODES[2], "poor_pop"] == pytest.approx(300 / 9)


def _brute_force_gains(candidates: pd.DataFrame, poor: pd.Series) -> pd.Series:
    """Poor-weighted dry-season minutes saved by each candidate, on a graph built by hand.

    The fixture's roads as straight pieces between junctions, seats and villages' road
    entry points (km); an off-road leg to the road is the same with and without any
    project, so it is left out of both times.
    """
    roads = {  # road id: (class, surface, pieces)
        "1": ("county", "paved", [(0, 2), (2, 2.5), (2.5, 3), (3, 7), (7, 7.5), (7.5, 8),
                                  (8, 10)]),
        "2": ("village", "gravel", [((2, 2), (2, 4)), ((2, 4), (3, 4))]),
        "3": ("track", "earth", [((7, 2), (7, 4))]),
    }

    def graph(paved: set[str]) -> nx.MultiGraph:
        g = nx.MultiGraph()
        for rid, (cls, surface, pieces) in roads.items():
            kmh = DEFAULT_SPEED_KMH[cls]["paved" if rid in paved else surface]
            assert kmh is not None
            for piece in pieces:
                a, b = piece if isinstance(piece[0], tuple) else ((piece[0], 4), (piece[1], 4))
                km = abs(a[0] - b[0]) + abs(a[1] - b[1])  # every piece is axis-parallel
                g.add_edge(a, b, minutes=km / kmh * 60.0)
        return g

    entry = {VILLAGE_CODES[0]: (2, 2), VILLAGE_CODES[1]: (3, 4), VILLAGE_CODES[2]: (7, 2),
             VILLAGE_CODES[3]: (8, 4)}
    seat = {VILLAGE_CODES[0]: (2.5, 4), VILLAGE_CODES[1]: (2.5, 4),
            VILLAGE_CODES[2]: (7.5, 4), VILLAGE_CODES[3]: (7.5, 4)}

    def minutes(g: nx.MultiGraph) -> pd.Series:
        return pd.Series({v: nx.shortest_path_length(g, entry[v], seat[v], weight="minutes")
                          for v in entry})

    before = minutes(graph(set()))
    gains = {}
    for rec in candidates.itertuples():
        after = minutes(graph(set(str(rec.road_ids).split(";"))))
        gains[rec.project_id] = float((poor.reindex(before.index) * (before - after)).sum())
    return pd.Series(gains)


@pytest.mark.slow
def test_optimize_cli_buys_the_project_brute_force_ranks_first(
    seated_region: TinyRegion, tmp_path: Path
) -> None:
    candidates = pd.DataFrame({
        "project_id": ["pave-2", "pave-3", "pave-1", "pave-2-and-3"],
        "road_ids": ["2", "3", "1", "2;3"],
        "cost_cny": [1.0e6, 1.0e6, 1.0e6, 2.0e6],
    })
    path = tmp_path / "candidates.csv"
    candidates.to_csv(path, index=False)
    budget = 1.5e6  # buys exactly one of the first three, never the fourth
    out = tmp_path / "opt"
    _invoke("optimize", str(seated_region.path), "-o", str(out), "--budget", str(budget),
            "--candidates", str(path))
    assert (out / "run_manifest.json").is_file()
    chosen = pd.read_csv(out / "chosen_projects.csv", dtype={"project_id": str})

    affordable = candidates[candidates["cost_cny"] <= budget]
    gains = _brute_force_gains(affordable, _villages(seated_region)["poor_pop"])
    ranked = gains.sort_values(ascending=False)
    assert ranked.iloc[0] > ranked.iloc[1] > 0  # a clear winner
    # by hand: paving the track saves 十八洞村's 300/9 poor people 2 km × (6 − 3) min/km;
    # paving road 2 saves 一村's 75 poor people 2 km × (3 − 2.4) min/km
    assert gains["pave-3"] == pytest.approx(300 / 9 * 6.0)
    assert gains["pave-2"] == pytest.approx(75 * 1.2)
    assert gains["pave-1"] == 0.0

    assert chosen["project_id"].tolist() == [ranked.index[0]]
    assert chosen["marginal_gain"].iloc[0] == pytest.approx(ranked.iloc[0], rel=1e-6)
    assert chosen["cost_cny"].iloc[0] == pytest.approx(1.0e6)
    assert chosen["cumulative_cost_cny"].iloc[0] <= budget
