"""Villages the data cannot serve fully are reported, reasoned and ranked, not fatal.

Built on the tiny region (``conftest.write_tiny_region``, seated): a road stub that no
seat is on, a DEM that misses the eastern villages, a registry whose codes miss one.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from shapely.geometry import LineString

from contigmap.errors import DataQualityWarning
from contigmap.pipeline import prepare
from tests.helpers import VILLAGE_CODES, X0, Y0, write_tiny_region


def _messages(rec: pytest.WarningsRecorder) -> str:
    return "\n".join(str(w.message) for w in rec)


@pytest.mark.slow
def test_village_on_a_piece_without_its_seat_is_ranked_first_in_need(tmp_path: Path) -> None:
    path = write_tiny_region(tmp_path / "r", seats=True)
    roads = gpd.read_file(tmp_path / "r" / "roads.gpkg", layer="roads")
    stub = roads.iloc[[2]].copy()  # a 1 km earth track 500 m north of 四村, joined to nothing
    stub["RID"] = 4
    stub["geometry"] = [LineString([(X0 + 8_000, Y0 + 6_500), (X0 + 9_000, Y0 + 6_500)])]
    pd.concat([roads, stub]).to_file(tmp_path / "r" / "roads.gpkg", layer="roads")
    with pytest.warns(DataQualityWarning) as rec:
        state = prepare(path, relocation=False)
    v = state.villages.set_index("name")
    assert v["access_problem"].to_dict() == {
        "一村": "", "二村": "", "十八洞村": "", "四村": "network_piece_without_seat"}
    assert np.isinf(v.loc["四村", "tt_own_township_seat_min"])
    assert ("villages: 1 of 4 cannot reach their own township seat — 1 its piece of the road "
            "network does not reach the township seat (network_piece_without_seat): 四村"
            in _messages(rec))
    assert state.priorities is not None
    roads_t = state.priorities.tables["roads"].set_index("name")
    slowest = float(v["tt_own_township_seat_min"].replace(np.inf, np.nan).max())
    counted = max(2 * slowest, 60.0)
    assert roads_t.loc["四村", "roads_reasons"].startswith(
        "no route to the township seat (its piece of the road network does not reach the "
        f"township seat); counted as {counted:.0f} min (2 x the slowest village, at "
        "least 60)")
    assert roads_t.loc["四村", "roads_reasons_zh"].startswith("无路可达乡镇驻地（所在路网片段")
    # its time counts at the cap: the time criterion gives it the full weight
    assert np.isnan(roads_t.loc["四村", "tt_own_township_seat_min"])
    assert roads_t["roads_rank"].notna().all()


def _shrink_dem(folder: Path, cols: int, step_m: float) -> None:
    """Keep the DEM's western ``cols`` columns, with a slope of ``step_m`` per 1 km cell."""
    values = (200.0 + step_m * np.arange(cols)[None, :] + np.zeros((8, 1))).astype("float32")
    with rasterio.open(folder / "dem.tif", "w", driver="GTiff", width=cols, height=8, count=1,
                       dtype="float32", crs="EPSG:4545", nodata=-9999.0,
                       transform=Affine(1000.0, 0.0, X0, 0.0, -1000.0, Y0 + 8_000)) as dst:
        dst.write(values, 1)


@pytest.mark.slow
def test_villages_outside_the_dem_take_the_typical_terrain(tmp_path: Path) -> None:
    path = write_tiny_region(tmp_path / "r", seats=True)
    _shrink_dem(tmp_path / "r", cols=6, step_m=40.0)  # x 0-6 km: the eastern villages are out
    with pytest.warns(DataQualityWarning) as rec:
        state = prepare(path, relocation=False)
    v = state.villages.set_index("name")
    assert v["terrain_source"].to_dict() == {
        "一村": "dem", "二村": "dem", "十八洞村": "region_typical", "四村": "region_typical"}
    assert v.loc[["十八洞村", "四村"], "relief_m"].isna().all()  # unknown, not 0
    typical = float(np.median(v.loc[["一村", "二村"], "relief_m"]))
    assert 30 <= typical < 200  # 40 m a cell: hilly (30-200 m), not flat
    text = _messages(rec)
    assert (f"dem: 2 of 4 settlement(s) lie outside the DEM or on its nodata: "
            f"{VILLAGE_CODES[2]}, {VILLAGE_CODES[3]}; their terrain is unknown") in text
    assert f"the median of the 2 covered: relief {typical:.0f} m" in text
    assert "roads: 1 village(s) have no DEM value under them" in text
    roads_t = state.priorities.tables["roads"].set_index("name")
    assert (roads_t.loc[["十八洞村", "四村"], "roads_terrain"] == "hilly").all()
    # 十八洞村 sits on the end of the 2 km earth track to the paved road: harden it,
    # 2 km x 800,000 CNY/km (hilly)
    assert roads_t.loc["十八洞村", "roads_option"] == "harden"
    assert roads_t.loc["十八洞村", "roads_capex_cny"] == pytest.approx(2 * 800_000)
    # 四村 is 2 km north of the paved road: a new road, the straight line (no DEM to follow),
    # 2 km x 1,800,000 CNY/km (hilly)
    assert roads_t.loc["四村", "roads_new_m"] == pytest.approx(2_000, abs=0.5)
    assert roads_t.loc["四村", "roads_capex_cny"] == pytest.approx(2 * 1_800_000, abs=1)
    reasons = roads_t.loc["四村", "roads_reasons"]
    assert "new road measured as a straight line (no DEM under the village)" in reasons
    assert "terrain unknown (outside the DEM): costed as the region's typical hilly terrain" \
        in reasons
    assert "无高程数据，按全区典型地形（丘陵）估算" in roads_t.loc["四村", "roads_reasons_zh"]


@pytest.mark.slow
def test_village_missing_from_the_registry_is_ranked_on_what_is_known(tmp_path: Path) -> None:
    path = write_tiny_region(tmp_path / "r", seats=True)
    hh = pd.read_csv(tmp_path / "r" / "households.csv", dtype=str)
    hh.loc[hh["village_id"] == VILLAGE_CODES[3], "village_id"] = "433124101299"  # no village
    hh.to_csv(tmp_path / "r" / "households.csv", index=False, encoding="utf-8-sig")
    with pytest.warns(DataQualityWarning) as rec:
        state = prepare(path, relocation=False)
    assert ("roads: 1 row(s) have no household-registry data (empty "
            in _messages(rec))
    roads_t = state.priorities.tables["roads"].set_index("name")
    assert roads_t["roads_rank"].notna().all()
    assert roads_t.loc["四村", "roads_reasons"].endswith(
        "; not in the household registry: poverty criteria counted as 0")
    assert "not in the household registry" not in roads_t.loc["一村", "roads_reasons"]
