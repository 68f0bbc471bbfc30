"""The what-if weights panel's data (``render/web_weights.py``), without a browser.

The browser re-ranks from the exported normalised matrix; here a plain-Python replay of
``weights.js``'s arithmetic (same order of operations) is checked against
:func:`contigmap.priority.mcda.need_scores` and :func:`~contigmap.priority.mcda.rank_and_tier`
for random weights, so a mismatch in the formula is caught without Chromium.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from contigmap.priority import registry
from contigmap.priority.config import load_priority_config
from contigmap.priority.mcda import need_scores, normalise, rank_and_tier
from contigmap.priority.run import PriorityResults
from contigmap.render.web_weights import id_sort_rank, weights_data

ROADS = registry.get("roads")


def roads_table(n: int = 120, seed: int = 3) -> pd.DataFrame:
    """A roads table with every criterion column; coarse values so that ties occur.

    Ids of varying length, so that their string order is not their numeric order.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {
        "village_id": [str(int(v)) for v in rng.choice(10**rng.integers(2, 6, n) + np.arange(n),
                                                          n, replace=False)],
        "name": [f"村{i:03d}" for i in range(n)],
    }
    for c in ROADS.criteria:
        if c.unit == "0/1":
            out[c.column] = rng.integers(0, 2, n).astype(float)
        else:
            out[c.column] = np.round(rng.gamma(2.0, 10.0, n), 0)
    return pd.DataFrame(out)


def results(table: pd.DataFrame, method: str = "minmax") -> PriorityResults:
    """Priority results holding only ``table`` for roads, with the packaged configuration."""
    data = load_priority_config().model_dump(mode="json")
    data["roads"]["normalise"] = method
    return PriorityResults(tables={"roads": table}, sensitivity={}, summaries={},
                           budget=pd.DataFrame(), config=load_priority_config(data))


def random_weights(rng: np.random.Generator, names: list[str]) -> dict[str, float]:
    """Positive weights of a few sizes, some criteria switched off (at least one kept)."""
    w = rng.random(len(names)) * rng.choice([1.0, 0.1, 7.0])
    w[rng.random(len(names)) < 0.3] = 0.0
    if not (w > 0).any():
        w[0] = 0.5
    return {n: float(x) for n, x in zip(names, w, strict=True)}


def _pairwise(a: list[float]) -> float:
    if len(a) < 8:
        s = -0.0
        for x in a:
            s += x
        return s
    r = a[:8]
    m = len(a) - len(a) % 8
    for i in range(8, m, 8):
        for j in range(8):
            r[j] += a[i + j]
    s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    for x in a[m:]:
        s += x
    return s


def replay(p: dict[str, Any], w: dict[str, float]) -> tuple[list[float], list[int]]:
    """``weights.js``'s ``rank`` in plain Python floats: need and rank."""
    used = [j for j, c in enumerate(p["criteria"]) if w.get(c["name"], 0.0) > 0]
    wu = [w[p["criteria"][j]["name"]] for j in used]
    s = _pairwise(wu)
    wn = [x / s for x in wu]
    need = []
    for i in range(len(p["ids"])):
        q = 0.0
        for k, j in enumerate(used):
            q += 100.0 * wn[k] * p["N"][j][i]
        need.append(q)

    def key(i: int) -> tuple[float, int]:
        y = need[i] * 1e9
        r = round(y)  # Python's round is half-to-even, like numpy's rint
        return (-(r / 1e9), p["idr"][i])

    order = sorted(range(len(need)), key=key)
    rank = [0] * len(need)
    for k, i in enumerate(order):
        rank[i] = k + 1
    return need, rank


def test_id_sort_rank_is_string_order() -> None:
    # "10" < "100" < "9" as strings
    assert id_sort_rank(["10", "9", "100"]) == [0, 2, 1]
    assert id_sort_rank([10, 9, 100]) == [0, 2, 1]


@pytest.mark.parametrize("method", ["minmax", "rank"])
def test_payload_replay_matches_python_mcda(method: str) -> None:
    table = roads_table()
    res = results(table, method)
    villages = table[["village_id"]].iloc[::-1].reset_index(drop=True)
    data = weights_data(res, villages)
    (p,) = data["ivs"]
    assert p["iv"] == "roads" and p["method"] == method and p["tiers"] == 4
    assert [c["name"] for c in p["criteria"]] == list(ROADS.criteria_names)
    assert p["ids"] == table["village_id"].tolist()
    # map index: the map's villages are in reverse order
    assert p["m"] == list(range(len(table) - 1, -1, -1))
    for c, col in zip(p["criteria"], p["N"], strict=True):
        column = next(x.column for x in ROADS.criteria if x.name == c["name"])
        assert col == normalise(table[column].to_numpy(float), method).tolist()
    rng = np.random.default_rng(20141)
    names = list(ROADS.criteria_names)
    for _ in range(20):
        w = random_weights(rng, names)
        need, rank = replay(p, w)
        py_need, _ = need_scores(table, ROADS.criteria, w, method=method)
        py_rank, _ = rank_and_tier(py_need, table["village_id"])
        assert rank == py_rank.tolist()
        assert need == py_need.tolist()  # the same floating-point operations


def test_config_round_trips() -> None:
    res = results(roads_table())
    cfg = weights_data(res, roads_table())["config"]
    assert load_priority_config(cfg) == res.config


def test_criterion_without_values() -> None:
    table = roads_table(30)
    table.loc[3, "pop"] = np.nan  # pop has weight 0 by default: its slider is left out
    (p,) = weights_data(results(table), table)["ivs"]
    assert "pop" not in [c["name"] for c in p["criteria"]]
    assert len(p["N"]) == len(ROADS.criteria) - 1


def test_weighted_criterion_without_values_leaves_panel_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    table = roads_table(30)
    table.loc[3, "poor_pop"] = np.nan
    with caplog.at_level(logging.WARNING):
        assert weights_data(results(table), table)["ivs"] == []
    assert "poor_pop" in caplog.text
    assert weights_data(None, table) == {"ivs": [], "config": {}}


def test_map_carries_panel_and_no_raw_data_text(tmp_path: Any) -> None:
    from contigmap.render import render_web_map

    table = roads_table(12)
    table.loc[0, "name"] = "<script>alert(1)</script>村"
    res = results(table)
    need, _ = need_scores(table, ROADS.criteria, res.config.intervention("roads").weights)
    _, tier = rank_and_tier(need, table["village_id"])
    villages = gpd.GeoDataFrame(
        {"village_id": table["village_id"], "name": table["name"], "roads_tier": tier},
        geometry=[Point(109.5 + i * 0.01, 28.5) for i in range(len(table))], crs=4326)
    out = render_web_map(tmp_path / "m.html", villages=villages, title="t", source_note="",
                         illustrative=True, weights=weights_data(res, villages))
    html = out.read_text(encoding="utf-8")
    assert "window.cmWeights" in html and ".cm-weights" in html
    assert "<script>alert(1)</script>" not in html


def test_card_bars_use_the_configured_weights_even_for_a_constant_criterion(
        tmp_path: Path) -> None:
    """A criterion equal in every village scores 0 points everywhere, so its weight cannot
    be read back from the points; the card takes the configuration's weight instead."""
    import geopandas as gpd
    from shapely.geometry import Point

    from contigmap.priority.mcda import score_table
    from contigmap.render import render_web_map

    table = roads_table(12)
    const = next(c for c in ROADS.criteria if c.unit != "0/1")
    table[const.column] = 5.0
    res = results(table)
    w = {k: v for k, v in res.config.intervention("roads").weights.items() if v > 0}
    assert const.name in w  # the packaged configuration weights it
    scored = score_table(table, ROADS.criteria, w, prefix="roads", id_column="village_id")
    villages = gpd.GeoDataFrame(
        pd.concat([table[["village_id", "name"]].reset_index(drop=True),
                   scored.drop(columns="village_id", errors="ignore").reset_index(drop=True)],
                  axis=1),
        geometry=[Point(109.3 + 0.01 * i, 28.3) for i in range(len(table))], crs=4326)
    assert (villages[f"roads_pts_{const.name}"] == 0).all()
    page = render_web_map(tmp_path / "map.html", villages=villages, title="t", source_note="s",
                          illustrative=True, weights=weights_data(res, villages))
    html = page.read_text(encoding="utf-8")
    share = w[const.name] / sum(w.values())
    expected = f"权重 {share * 100:.0f}%"
    assert html.count(expected) >= len(table)  # on every village's card
    assert "各村相同 same everywhere" not in html
