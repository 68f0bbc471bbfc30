"""Unit tests for output writers, output folders, input checks and run manifests."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from pyproj import CRS
from shapely.geometry import Point

from contigmap.errors import ConfigError, DataQualityWarning, ValidationError
from contigmap.io.checks import check_extent, check_raster
from contigmap.io.outdir import recover_stale, region_inputs
from contigmap.io.writers import excel_value, gdal_date, source_date_epoch, write_csv
from contigmap.manifest import file_record, library_versions
from contigmap.raster import Raster
from tests.helpers import TinyRegion

CRS_M = CRS.from_epsg(32649)
EXTENT = np.array([0.0, 0.0, 10_000.0, 10_000.0])


# --------------------------------------------------------------------------- writers


def test_excel_value_keeps_text_text() -> None:
    for text in ("=SUM(A1:A9)", "#N/A", "+1", "plain"):
        assert excel_value(text) == text


def test_excel_value_numbers_missing_and_odd_text() -> None:
    assert excel_value(-2.5) == -2.5
    assert excel_value(np.int64(7)) == 7 and type(excel_value(np.int64(7))) is int
    assert excel_value(np.bool_(True)) is True
    for missing in (None, float("nan"), pd.NA, pd.NaT):
        assert excel_value(missing) is None
    assert excel_value(float("-inf")) == "-inf"
    assert excel_value("a\r\nb\rc") == "a\nb\nc"
    assert excel_value("bell\x07") == "bell\ufffd"
    assert len(excel_value("x" * 40_000)) == 32_767


def test_write_csv_quotes_formula_text_not_numbers(tmp_path: Path) -> None:
    t = pd.DataFrame({"name": ["=cmd|' /C calc'!A0", "-x", "@a", "村", None],
                      "value": [-2.5, 1.0, -3.0, 0.0, 4.0],
                      "=col": [1, 2, 3, 4, 5]})
    path = tmp_path / "t.csv"
    write_csv(t, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    lines = raw[3:].decode("utf-8").split("\r\n")
    assert lines[0] == "name,value,'=col"
    assert lines[1] == "'=cmd|' /C calc'!A0,-2.5,1"
    assert lines[2:6] == ["'-x,1.0,2", "'@a,-3.0,3", "村,0.0,4", ",4.0,5"]
    assert lines[6] == ""
    assert t["name"].iloc[1] == "-x"  # input untouched


def test_source_date_epoch_and_gdal_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert source_date_epoch() is None
    assert gdal_date() == "2000-01-01T00:00:00Z"  # the fixed date
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "  ")
    assert source_date_epoch() is None
    # 1 700 000 000 s = 2023-11-14 22:13:20 UTC
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert source_date_epoch() == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    assert gdal_date() == "2023-11-14T22:13:20Z"
    for bad in ("-1", "1.5", "soon", "99999999999999999999"):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", bad)
        with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH"):
            source_date_epoch()
    # an aware time is written in UTC: 08:00 in Beijing is midnight UTC
    beijing = dt.timezone(dt.timedelta(hours=8))
    assert gdal_date(dt.datetime(2020, 1, 2, 8, 0, 0, tzinfo=beijing)) == "2020-01-02T00:00:00Z"


# --------------------------------------------------------------------------- outdir


def test_recover_stale_restores_newest_old_folder_and_removes_partials(tmp_path: Path) -> None:
    out = tmp_path / "out"
    older, newer = tmp_path / ".out-old-aaaa", tmp_path / ".out-old-bbbb"
    partial = tmp_path / ".out-partial-cccc"
    alive = tmp_path / f".out-partial-{os.getppid()}-dddd"  # our parent is alive: left alone
    unrelated = tmp_path / ".other-old-eeee"
    for i, folder in enumerate((older, newer, partial, alive, unrelated)):
        folder.mkdir()
        (folder / "f.txt").write_text(folder.name)
        os.utime(folder, (1_000_000 + i, 1_000_000 + i))
    recover_stale(out)
    assert (out / "f.txt").read_text() == ".out-old-bbbb"  # the newest old folder
    assert not older.exists() and not newer.exists() and not partial.exists()
    assert alive.exists() and unrelated.exists()


def test_recover_stale_keeps_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "f.txt").write_text("current")
    old = tmp_path / ".out-old-aaaa"
    old.mkdir()
    recover_stale(out)
    assert (out / "f.txt").read_text() == "current"
    assert not old.exists()  # a dead run's old folder is removed, not restored
    recover_stale(tmp_path / "nothing-here")  # nothing to do: no error


def test_region_inputs_lists_manifest_and_declared_files(tiny_region: TinyRegion) -> None:
    paths = region_inputs(tiny_region.path)
    assert paths[0] == tiny_region.path
    names = {p.name for p in paths[1:]}
    assert names == {"villages.csv", "roads.gpkg", "admin.gpkg", "households.csv", "dem.tif",
                     "flood.geojson", "services.csv"}
    assert all(p.exists() for p in paths)


def test_region_inputs_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        region_inputs(tmp_path / "region.yaml")


# --------------------------------------------------------------------------- checks


def _layer(xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[Point(x, y) for x, y in xy], crs=CRS_M)


def test_check_extent_margin_and_outside_features() -> None:
    # margin = max(5000, 0.1 * 10 000) = 5000 m
    near = _layer([(5000, 5000), (14_999, 5000)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_extent(near, EXTENT, source="s", extent_name="the county")
        check_extent(_layer([]), EXTENT, source="s", extent_name="the county")
    problems: list[str] = []
    far = _layer([(5000, 5000), (15_001, 5000)])
    with pytest.warns(DataQualityWarning, match="s: 1 feature"):
        check_extent(far, EXTENT, source="s", extent_name="the county", problems=problems)
    assert problems == ["1 feature(s) lie outside the county (data row 2)"]
    with pytest.raises(ValidationError, match=r"columns 'x'/'y' fall outside .* data row 2"):
        check_extent(far, EXTENT, source="s", extent_name="the county", table_xy=("x", "y"))
    with pytest.raises(ValidationError, match="entirely outside"):
        check_extent(_layer([(50_000, 50_000)]), EXTENT, source="s", extent_name="the county")


def _raster(x0: float, y0: float, n: int, value: float = 1.0) -> Raster:
    return Raster(np.full((n, n), value), Affine(1000.0, 0, x0, 0, -1000.0, y0 + 1000.0 * n),
                  CRS_M, "r")


def test_check_raster_cover() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_raster(_raster(0, 0, 10), EXTENT, source="dem")        # exactly the extent
        check_raster(_raster(-999, -999, 10), EXTENT, source="dem")  # within one cell
    problems: list[str] = []
    with pytest.warns(DataQualityWarning, match="does not cover the whole region"):
        check_raster(_raster(2000, 0, 10), EXTENT, source="dem", problems=problems)
    assert len(problems) == 1
    with pytest.raises(ValidationError, match="only nodata"):
        check_raster(_raster(0, 0, 10, np.nan), EXTENT, source="dem")
    with pytest.raises(ValidationError, match="entirely outside"):
        check_raster(_raster(20_000, 0, 5), EXTENT, source="dem")


# --------------------------------------------------------------------------- manifest


def test_file_record_against_hashlib(tmp_path: Path) -> None:
    data = b"contigmap\x00" * 1000
    f = tmp_path / "sub" / "a.bin"
    f.parent.mkdir()
    f.write_bytes(data)
    rec = file_record(f, relative_to=tmp_path)
    assert rec == {"path": "sub/a.bin", "size_bytes": 10_000,
                   "sha256": hashlib.sha256(data).hexdigest()}
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    assert file_record(f, relative_to=elsewhere)["path"] == f.as_posix()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert file_record(empty)["sha256"] == hashlib.sha256(b"").hexdigest()


def test_library_versions() -> None:
    import geopandas
    import pyproj
    import rasterio

    v = library_versions()
    assert v["python"] == platform.python_version()
    assert v["geopandas"] == geopandas.__version__
    assert v["gdal"] == rasterio.__gdal_version__
    assert v["proj"] == pyproj.proj_version_str
    assert all(x is None or isinstance(x, str) for x in v.values())
