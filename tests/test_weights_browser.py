"""The what-if weights panel in headless Chromium (offline): the browser's ranking is Python's.

For 20 seeded random weight vectors, ``cmWeights.set`` (the function the sliders call)
returns need scores, ranks and tiers that must equal
:func:`contigmap.priority.mcda.need_scores` / :func:`~contigmap.priority.mcda.rank_and_tier`
on the same table; the top-N list and the tier layer's colours follow. A slider moved by
an input event re-ranks too, and the exported YAML loads with
:func:`contigmap.priority.config.load_priority_config` and reproduces the ranking.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from contigmap.priority.config import load_priority_config
from contigmap.priority.mcda import need_scores, rank_and_tier
from contigmap.render import render_web_map
from contigmap.render.legend import tier_indicator
from contigmap.render.web_weights import TOP_N_SHOWN, weights_data
from tests.browser import HAVE_BROWSER, make_driver, severe_console, shoot
from tests.test_web_weights import ROADS, random_weights, results, roads_table

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_BROWSER, reason="chromium and chromedriver not installed"),
]


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    d = make_driver(tmp_path_factory.mktemp("chromium"), offline_network=True)
    try:
        yield d
    finally:
        d.quit()


def _python(table: pd.DataFrame, w: dict[str, float], method: str) -> tuple[Any, Any, Any]:
    need, _ = need_scores(table, ROADS.criteria, w, method=method)
    rank, tier = rank_and_tier(need, table["village_id"])
    return need, rank, tier


def _map(tmp_path: Path, table: pd.DataFrame, method: str) -> tuple[Path, Any]:
    res = results(table, method)
    w0 = res.config.intervention("roads").weights
    _, _, tier = _python(table, w0, method)
    rng = np.random.default_rng(5)
    villages = gpd.GeoDataFrame(
        {"village_id": table["village_id"], "name": table["name"], "pop": 500,
         "poor_pop": 100, "poverty_incidence": rng.random(len(table)) * 0.5,
         "roads_tier": tier},
        geometry=[Point(109.3 + 0.4 * x, 28.3 + 0.4 * y)
                  for x, y in rng.random((len(table), 2))], crs=4326)
    out = render_web_map(tmp_path / "map.html", villages=villages, title="花垣县 权重模拟（测试）",
                         source_note="test", illustrative=True,
                         weights=weights_data(res, villages))
    return out, res


def _wait(driver: Any, script: str, timeout: float = 10.0) -> Any:
    end = time.time() + timeout
    while time.time() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    return None


def _open(driver: Any, out: Path) -> None:
    driver.get(out.as_uri())
    assert _wait(driver, "return !!window.cmWeights && !!document.getElementById('cm-weights');")
    driver.execute_script("document.getElementById('cm-weights').open = true;")
    assert _wait(driver, "return document.querySelectorAll('path.cm-village').length > 0;")


def _list_ids(driver: Any) -> list[str]:
    out: list[str] = driver.execute_script(
        "return Array.from(document.querySelectorAll('.cm-w-list .cm-w-item'))"
        ".map(e => e.getAttribute('data-id'));")
    return out


@pytest.mark.parametrize("method", ["minmax", "rank"])
def test_browser_ranking_is_pythons(tmp_path: Path, driver: Any, method: str) -> None:
    table = roads_table(150, seed=11)
    out, _ = _map(tmp_path, table, method)
    _open(driver, out)
    ids = table["village_id"].to_numpy()
    colours = tier_indicator("roads_tier", [1, 2, 3, 4]).color_of([1, 2, 3, 4])
    rng = np.random.default_rng(20141)
    names = list(ROADS.criteria_names)
    for _ in range(20):
        w = random_weights(rng, names)
        got = driver.execute_script("return window.cmWeights.set('roads', arguments[0]);", w)
        need, rank, tier = _python(table, w, method)
        assert got["rank"] == rank.tolist()
        assert got["tier"] == tier.tolist()
        np.testing.assert_array_equal(np.array(got["need"]), need)  # same float operations
        top = ids[np.argsort(rank)][:TOP_N_SHOWN].tolist()
        assert _list_ids(driver) == top
        # the tier layer (shown when the panel opened) is recoloured
        fills = driver.execute_script(
            "var V = window.cmVillages, k = V.layers.findIndex(l => l.c.length && "
            "document.querySelector('.cm-vl-' + V.layers.indexOf(l)));"
            "return V.markers[k].map(m => m.options.fillColor);")
        assert fills == [colours[t - 1] for t in tier]
    assert severe_console(driver) == []


def test_slider_reranks_and_yaml_exports(tmp_path: Path, driver: Any) -> None:
    table = roads_table(150, seed=11)
    out, res = _map(tmp_path, table, "minmax")
    _open(driver, out)
    w = dict(res.config.intervention("roads").weights)
    before = _list_ids(driver)
    _, rank0, _ = _python(table, w, "minmax")
    assert before == table["village_id"].to_numpy()[np.argsort(rank0)][:TOP_N_SHOWN].tolist()
    # drag the travel-time slider to its maximum (an input event, as a mouse would)
    driver.execute_script(
        "var s = document.querySelector('.cm-w-row input[data-criterion=tt_township]');"
        "s.value = s.max; s.dispatchEvent(new Event('input'));")
    w["tt_township"] = 1.0
    _, rank1, _ = _python(table, w, "minmax")
    after = _list_ids(driver)
    assert after == table["village_id"].to_numpy()[np.argsort(rank1)][:TOP_N_SHOWN].tolist()
    assert after != before
    # export: the text is a priorities.yaml that loads and gives the browser's ranking
    driver.find_element("xpath", "//button[contains(., '导出')]").click()
    text = _wait(driver, "return document.querySelector('.cm-w-yaml').value;")
    path = tmp_path / "priorities.yaml"
    path.write_text(text, encoding="utf-8")
    cfg = load_priority_config(path)
    assert cfg.intervention("roads").weights == pytest.approx(w)
    assert cfg.model_dump() == load_priority_config(
        res.config.model_dump(mode="json") | {"roads": cfg.roads.model_dump()}).model_dump()
    _, rank2, _ = _python(table, cfg.intervention("roads").weights, "minmax")
    assert rank2.tolist() == rank1.tolist()
    assert severe_console(driver) == []
    driver.execute_script("document.querySelector('.cm-w-yaml').style.display = 'none';")
    shoot(driver, "weights_panel")


def test_demo_map_ranks_as_the_priority_tables(demo_run: Any, tmp_path: Path) -> None:
    """On the demo's own map, the panel's ranking under the configured weights is the
    ``<iv>_rank`` of ``priorities_<iv>.csv``, for every village-level intervention."""
    from contigmap.priority import registry

    cfg = load_priority_config()
    d = make_driver(tmp_path, offline_network=True)
    try:
        _open(d, demo_run.out_dir / "map.html")
        ivs = d.execute_script("return window.cmWeights.ivs;")
        expected = [n for n in registry.names() if registry.get(n).unit == "village"
                    and (demo_run.out_dir / "priorities" / f"priorities_{n}.csv").exists()]
        assert ivs == expected and ivs
        for iv in ivs:
            table = pd.read_csv(demo_run.out_dir / "priorities" / f"priorities_{iv}.csv",
                                dtype={"village_id": str})
            got = d.execute_script("return window.cmWeights.rank(arguments[0], arguments[1]);",
                                   iv, cfg.intervention(iv).weights)
            assert got["rank"] == table[f"{iv}_rank"].tolist()
            np.testing.assert_allclose(np.round(got["need"], 2), table[f"{iv}_need"], atol=1e-9)
        top = pd.read_csv(demo_run.out_dir / "priorities" / f"priorities_{ivs[0]}.csv",
                          dtype={"village_id": str}).sort_values(f"{ivs[0]}_rank")
        assert _list_ids(d) == top["village_id"].head(TOP_N_SHOWN).tolist()
        shoot(d, "weights_demo")
        # choosing another intervention lists its villages and shows its tier layer alone
        iv = ivs[-1]
        d.execute_script("var s = document.getElementById('cm-w-select'); s.value = arguments[0];"
                         "s.dispatchEvent(new Event('change'));", iv)
        top = pd.read_csv(demo_run.out_dir / "priorities" / f"priorities_{iv}.csv",
                          dtype={"village_id": str}).sort_values(f"{iv}_rank")
        assert _list_ids(d) == top["village_id"].head(TOP_N_SHOWN).tolist()
        shown = d.execute_script(
            "var V = window.cmVillages; return V.layers.map(l => l.fg._map ? 1 : 0);")
        assert sum(shown) == 1
        rows = d.execute_script("return Array.from(document.querySelectorAll("
                                "'.cm-w-row input')).map(e => e.dataset.criterion);")
        assert rows == [c for c in registry.get(iv).criteria_names if c in rows] and rows
        assert severe_console(d) == []
    finally:
        d.quit()


def _tiers_by_hand(rank: np.ndarray, works: np.ndarray, cost: np.ndarray, basis: str,
                   budget: float, k: int) -> list[int]:
    """The tier definitions of #14 point 6, written out plainly, one unit at a time."""
    tier = [0] * len(rank)
    spent, seen, m = 0.0, 0, int(works.sum())
    for i in sorted(range(len(rank)), key=lambda j: rank[j]):
        spent += cost[i]
        if not works[i]:
            continue
        if basis == "budget":
            tier[i] = 1 if spent <= budget else 2 if spent <= 2 * budget else 3
        else:
            tier[i] = seen * k // m + 1
            seen += 1
    return tier


@pytest.mark.parametrize("basis", ["budget", "need_quantile"])
def test_browser_remakes_budget_tiers(tmp_path: Path, driver: Any, basis: str) -> None:
    table = roads_table(150, seed=11)
    rng = np.random.default_rng(7)
    table["roads_option"] = rng.choice(["harden", "new_road", "none"], len(table))
    cost = np.where(table["roads_option"] == "none", 0.0, np.round(rng.random(len(table)) * 4e6))
    table["roads_capex_cny"] = cost
    table["roads_tier_basis"] = basis
    out, res = _map(tmp_path, table, "minmax")
    _open(driver, out)
    works = (table["roads_option"] != "none").to_numpy()
    for _ in range(10):
        w = random_weights(rng, list(ROADS.criteria_names))
        got = driver.execute_script("return window.cmWeights.set('roads', arguments[0]);", w)
        _, rank, _ = _python(table, w, "minmax")
        assert got["rank"] == rank.tolist()
        assert got["tier"] == _tiers_by_hand(rank, works, cost, basis, 50_000_000.0, 4)
        assert set(got["tier"]) == ({0, 1, 2, 3} if basis == "budget" else {0, 1, 2, 3, 4})
    assert res.config.budget_cny == 50_000_000.0
    assert severe_console(driver) == []
