"""GeoPackages written through pyogrio's Arrow path are the feature writer's bytes (issue 15).

The independent implementation is pyogrio's per-feature writer (``use_arrow=False``):
each layer is written both ways under the same fixed GDAL date and the files compared.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import contigmap.io.write
from contigmap.io.write import arrow_writes_same_bytes, write_vector
from contigmap.io.writers import fixed_gdal_date

POINTS = shapely.points([0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
SAFE = {
    "float": [1.5, np.nan, -0.0],
    "int": [1, -(2**63), 2**62],
    "int8": np.array([1, 2, 3], dtype=np.int8),
    "uint32": np.array([1, 2, 2**32 - 1], dtype=np.uint32),
    "Int64": pd.array([1, None, 3], dtype="Int64"),
    "bool": [True, False, True],
    "boolean": pd.array([True, None, False], dtype="boolean"),
    "str": pd.array(["a,\"b\"", None, "中文"], dtype="str"),
    "obj_str": pd.Series(["a", None, "b\nc"], dtype=object),
    "obj_none": pd.Series([None, None, None], dtype=object),
}


@pytest.fixture(autouse=True)
def _arrow_for_small_layers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contigmap.io.write, "ARROW_MIN_ROWS", 0)


def _feature_writer_bytes(gdf: gpd.GeoDataFrame, path: Path) -> str:
    with fixed_gdal_date():
        pyogrio.write_dataframe(gdf, path, layer="x", driver="GPKG", use_arrow=False)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ours(gdf: gpd.GeoDataFrame, path: Path) -> str:
    write_vector(gdf, path, layer="x")
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("geometry", [
    POINTS,
    [shapely.Point(0, 0), None, shapely.LineString([(0, 0), (1, 1)])],
    [shapely.Polygon([(0, 0), (1, 0), (1, 1)]), shapely.Point(), shapely.Point(3, 4)],
])
def test_arrow_path_gives_the_feature_writer_bytes(tmp_path: Path, geometry: object) -> None:
    gdf = gpd.GeoDataFrame({**SAFE, "geometry": geometry}, crs=32649)
    assert arrow_writes_same_bytes(gdf)
    assert _ours(gdf, tmp_path / "a.gpkg") == _feature_writer_bytes(gdf, tmp_path / "b.gpkg")


def test_named_index(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"v": [1.0, 2.0, 3.0], "geometry": POINTS},
                           index=pd.Index(["p", "q", "r"], name="id"), crs=4326)
    assert arrow_writes_same_bytes(gdf)
    assert _ours(gdf, tmp_path / "a.gpkg") == _feature_writer_bytes(gdf, tmp_path / "b.gpkg")


@pytest.mark.parametrize("column", [
    pd.Series(["a", 1, 2.5], dtype=object),
    pd.Series([pd.Timestamp("2020-01-01").date(), None, None], dtype=object),
    np.array([1, 2, 2**63], dtype=np.uint64),
])
def test_other_columns_keep_the_feature_writer(column: object) -> None:
    gdf = gpd.GeoDataFrame({"a": column, "geometry": POINTS}, crs=32649)
    assert not arrow_writes_same_bytes(gdf)


def test_no_crs_keeps_the_feature_writer() -> None:
    assert not arrow_writes_same_bytes(gpd.GeoDataFrame({"geometry": POINTS}))


def test_small_layers_keep_the_feature_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contigmap.io.write, "ARROW_MIN_ROWS", 4)
    assert not arrow_writes_same_bytes(gpd.GeoDataFrame({"geometry": POINTS}, crs=4326))
