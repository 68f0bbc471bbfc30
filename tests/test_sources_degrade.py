"""Degrade, don't abort (issue #19 item 10): each gap is a warning and a labelled value.

The tiny region (``tests.helpers``) is changed one way per test and prepared through
every stage (priorities and relocation included); each must finish.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.geometry import LineString

from contigmap.errors import DataQualityWarning
from contigmap.pipeline import prepare
from contigmap.poverty import CAUSE_COLUMNS
from contigmap.state import RegionState
from tests.helpers import X0, Y0, write_tiny_region


def _prepare(path: Path) -> tuple[RegionState, str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        state = prepare(path)
    said = "\n".join(str(w.message) for w in caught if w.category is DataQualityWarning)
    return state, said


@pytest.mark.slow
def test_an_isolated_road_fragment(tmp_path: Path) -> None:
    path = write_tiny_region(tmp_path / "r", seats=True)
    roads = gpd.read_file(path.parent / "roads.gpkg")
    piece = roads.iloc[[0]].copy()  # 1.1 km of county road 3 km from any other road
    piece["RID"] = "R99"
    piece["geometry"] = [LineString([(X0 + 8_000, Y0 + 7_000), (X0 + 9_000, Y0 + 7_500)])]
    pd.concat([roads, piece]).to_file(path.parent / "roads.gpkg")
    state, said = _prepare(path)
    assert "road network is in 2 pieces" in said
    v = state.villages.set_index("name")
    # 四村 (x+8 km, y+6 km) is nearest to the fragment: labelled, no travel time, ranked
    assert v.loc["四村", "access_problem"] == "network_piece_without_seat"
    assert (v["access_problem"].fillna("") == "").sum() == 3  # the others: no problem
    assert state.priorities is not None
    assert len(state.priorities.tables["roads"]) == 4


@pytest.mark.slow
def test_a_village_on_a_dem_void(tmp_path: Path) -> None:
    path = write_tiny_region(tmp_path / "r", seats=True)
    with rasterio.open(path.parent / "dem.tif") as src:
        arr, profile = src.read(1), src.profile
    arr[1:4, 2:5] = profile["nodata"]  # the 3 km x 3 km around 二村 (x+3 km, y+6 km)
    with rasterio.open(path.parent / "dem.tif", "w", **profile) as dst:
        dst.write(arr, 1)
    state, said = _prepare(path)
    assert "lie outside the DEM or on its nodata: 433124100202" in said
    v = state.villages.set_index("name")
    assert v.loc["二村", "terrain_source"] == "region_typical"
    assert np.isnan(v.loc["二村", "elevation_m"])
    assert (v.drop(index="二村")["terrain_source"] == "dem").all()
    assert state.priorities is not None and len(state.priorities.tables["roads"]) == 4


@pytest.mark.slow
def test_missing_cause_shares_without_a_registry(tmp_path: Path) -> None:
    # before: roads stopped ("criterion 'transport_cause' needs column
    # 'cause_poor_transport_share', which the table lacks")
    path = write_tiny_region(tmp_path / "r", seats=True)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  households: {path: households.csv, id: household_id}\n",
                                 ""), encoding="utf-8")
    state, said = _prepare(path)
    assert "roads: 4 row(s) have no household-registry data" in said
    v = state.villages
    assert (v["cause_source"] == "none").all()
    assert v[list(CAUSE_COLUMNS)].isna().all().all()
    assert state.priorities is not None
    assert {"roads", "health", "schooling"} <= set(state.priorities.tables)


@pytest.mark.slow
def test_missing_cause_column_in_the_registry(tmp_path: Path) -> None:
    path = write_tiny_region(tmp_path / "r", seats=True)  # its registry has no cause column
    state, _ = _prepare(path)
    v = state.villages
    assert set(v["cause_source"]) == {"no_cause_column"}
    poor = v["poor_households_registry"] > 0
    assert (v.loc[poor, "cause_other_share"] == 1.0).all()
    assert state.priorities is not None and len(state.priorities.tables["roads"]) == 4
