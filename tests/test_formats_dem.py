"""DEM tiles (``paths:`` or a glob) mosaicked, nodata per tile, small voids filled (#19 item 5)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from contigmap.config import DemSpec, LayerSpec
from contigmap.errors import ConfigError, CRSError, DataQualityWarning, LayerError
from contigmap.io.rasters import read_raster

CELL = 0.001  # degrees: about 91 m x 111 m at 35°N
WEST, NORTH = 105.0, 35.02
N = 20


def _write(path: Path, array: np.ndarray, west: float, *, nodata: float | None,
           crs: str = "EPSG:4326") -> None:
    import rasterio

    profile = {"driver": "GTiff", "height": array.shape[0], "width": array.shape[1],
               "count": 1, "dtype": "float32", "crs": crs,
               "transform": Affine(CELL, 0, west, 0, -CELL, NORTH)}
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array.astype("float32"), 1)


def _tiles(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Two side-by-side 20x20 tiles on a 500 m plateau with a ramp in the west tile.

    West tile: nodata declared (-9999), a 2x2 void of it. East tile: no nodata
    declared, -32768 in a 2x2 void (small: filled) and an 8x8 void (large: left).
    """
    folder.mkdir(exist_ok=True)
    west = np.full((N, N), 500.0)
    west[:, :5] = 400.0 + 20.0 * np.arange(5)  # a ramp 400..480 in the first columns
    east = np.full((N, N), 500.0)
    west_file = west.copy()
    west_file[10:12, 12:14] = -9999.0
    east_file = east.copy()
    east_file[3:5, 3:5] = -32768.0
    east_file[9:17, 6:14] = -32768.0
    _write(folder / "n35e105_w.tif", west_file, WEST, nodata=-9999.0)
    _write(folder / "n35e105_e.tif", east_file, WEST + N * CELL, nodata=None)
    return west, east


def _read(spec: LayerSpec, base: Path) -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raster = read_raster(spec, base_dir=base, source="layers.dem (tiles)")
    texts = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    return raster, texts


def test_paths_mosaic_fills_small_voids_and_keeps_large_ones(tmp_path: Path) -> None:
    west, east = _tiles(tmp_path / "dem")
    spec = DemSpec.model_validate({"paths": ["dem/n35e105_w.tif", "dem/n35e105_e.tif"]})
    raster, texts = _read(spec, tmp_path)
    array = raster.array
    assert array.shape == (N, 2 * N)
    assert raster.transform.c == pytest.approx(WEST) and raster.transform.f == pytest.approx(NORTH)
    expected = np.hstack([west, east])
    large = np.zeros_like(expected, dtype=bool)
    large[9:17, N + 6:N + 14] = True
    # every cell outside the large void: the tiles' heights (small voids filled with the
    # plateau's 500 m, since every height around them is 500)
    np.testing.assert_allclose(array[~large], expected[~large], atol=1e-4)
    # the large void: its rim (within 3 cells = 300 m) could be reached, its middle not,
    # so it is left empty as a whole
    assert np.isnan(array[large]).all()
    sentinel = [t for t in texts if "-32768" in t]
    assert len(sentinel) == 1 and "n35e105_e.tif" in sentinel[0] and "68 cell(s)" in sentinel[0]
    filled = [t for t in texts if "void(s) enclosed by heights filled" in t]
    assert len(filled) == 1
    assert "2 void(s)" in filled[0] and "(8 cell(s)" in filled[0]
    assert "1 larger void(s) (64 cell(s)) left empty" in filled[0]


def test_village_on_a_void_gets_an_elevation(tmp_path: Path) -> None:
    _tiles(tmp_path / "dem")
    raster, _ = _read(DemSpec.model_validate({"path": "dem/*.tif"}), tmp_path)
    # the middle of the west tile's 2x2 void (rows 10-11, columns 12-13)
    x = WEST + 13 * CELL
    y = NORTH - 11 * CELL
    assert float(raster.sample([x], [y])[0]) == pytest.approx(500.0, abs=1e-4)


def test_glob_equals_paths(tmp_path: Path) -> None:
    _tiles(tmp_path / "dem")
    by_glob, _ = _read(DemSpec.model_validate({"path": "dem/*.tif"}), tmp_path)
    # sorted glob: _e before _w, so the east tile comes first; same mosaic (no overlap)
    by_list, _ = _read(DemSpec.model_validate(
        {"paths": ["dem/n35e105_e.tif", "dem/n35e105_w.tif"]}), tmp_path)
    np.testing.assert_array_equal(by_glob.array, by_list.array)
    assert by_glob.transform == by_list.transform


def test_fill_off_and_declared_nodata(tmp_path: Path) -> None:
    _tiles(tmp_path / "dem")
    spec = DemSpec.model_validate({"path": "dem/*.tif", "fill_voids_m": 0, "nodata": -32768})
    raster, texts = _read(spec, tmp_path)
    assert int(np.isnan(raster.array).sum()) == 4 + 4 + 64
    assert not [t for t in texts if "-32768" in t or "void" in t]  # declared: no warning


def test_single_file_void_filled(tmp_path: Path) -> None:
    _tiles(tmp_path / "dem")
    raster, texts = _read(DemSpec(path=Path("dem/n35e105_w.tif")), tmp_path)
    assert not np.isnan(raster.array).any()
    assert any("1 void(s) enclosed by heights filled" in t for t in texts)


def test_tiles_in_two_crss_is_one_line_error(tmp_path: Path) -> None:
    folder = tmp_path / "dem"
    folder.mkdir()
    _write(folder / "a.tif", np.full((4, 4), 500.0), WEST, nodata=None)
    _write(folder / "b.tif", np.full((4, 4), 500.0), WEST + 4 * CELL, nodata=None,
           crs="EPSG:4490")
    with pytest.raises(CRSError, match=r"tiles a\.tif .* and b\.tif .* are in different CRSs"):
        read_raster(DemSpec.model_validate({"path": "dem/*.tif"}), base_dir=tmp_path,
                    source="layers.dem")


def test_missing_tiles_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "dem").mkdir()
    with pytest.raises(LayerError, match=r"no file matches 'dem/\*\.tif'"):
        read_raster(DemSpec.model_validate({"path": "dem/*.tif"}), base_dir=tmp_path,
                    source="layers.dem")
    with pytest.raises(LayerError, match=r"tile not found: .*x\.tif"):
        read_raster(DemSpec.model_validate({"paths": ["dem/x.tif", "dem/y.tif"]}),
                    base_dir=tmp_path, source="layers.dem")


def test_path_and_paths_together_refused() -> None:
    from pydantic import ValidationError as PydanticError

    with pytest.raises(PydanticError, match="either 'path:'"):
        DemSpec.model_validate({"path": "a.tif", "paths": ["b.tif"]})


def test_region_lists_every_tile(tmp_path: Path) -> None:
    from contigmap.config import layer_paths, load_region

    _tiles(tmp_path / "dem")
    (tmp_path / "region.yaml").write_text(
        "name: t\nlayers:\n  villages: {path: v.gpkg}\n  roads: {path: r.gpkg}\n"
        "  dem: {paths: [dem/n35e105_w.tif, dem/n35e105_e.tif], fill_voids_m: 200}\n",
        encoding="utf-8")
    region = load_region(tmp_path / "region.yaml")
    assert isinstance(region.layers.dem, DemSpec)
    assert region.layers.dem.fill_voids_m == 200
    assert layer_paths(region)[-2:] == [tmp_path / "dem" / "n35e105_w.tif",
                                        tmp_path / "dem" / "n35e105_e.tif"]


def test_bd09_on_a_raster_refused(tmp_path: Path) -> None:
    _tiles(tmp_path / "dem")
    with pytest.raises(ConfigError, match="'datum: bd09' is supported for vector layers only"):
        read_raster(DemSpec.model_validate({"path": "dem/*.tif", "datum": "bd09"}),
                    base_dir=tmp_path, source="layers.dem")


def test_region_load_reads_the_mosaic_and_lists_tiles(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    from contigmap.config import load_region
    from contigmap.io import load_region_layers

    _tiles(tmp_path / "dem")
    gpd.GeoDataFrame({"village_id": ["1"], "name": ["甲村"], "township_id": ["9"]},
                     geometry=[Point(WEST + 13.5 * CELL, NORTH - 10.5 * CELL)],
                     crs="EPSG:4326").to_file(tmp_path / "v.gpkg")
    gpd.GeoDataFrame({"road_class": ["county"], "surface": ["paved"]},
                     geometry=[LineString([(WEST + 0.002, NORTH - 0.002),
                                           (WEST + 0.03, NORTH - 0.015)])],
                     crs="EPSG:4326").to_file(tmp_path / "r.gpkg")
    (tmp_path / "region.yaml").write_text(
        "name: t\nlayers:\n  villages: {path: v.gpkg}\n  roads: {path: r.gpkg}\n"
        "  dem: {path: dem/*.tif}\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        data = load_region_layers(load_region(tmp_path / "region.yaml"))
    assert data.dem is not None
    village = data.villages.geometry.iloc[0]
    # the village sits on the west tile's filled void, on the 500 m plateau
    assert float(data.dem.sample([village.x], [village.y])[0]) == pytest.approx(500.0, abs=0.5)
    assert data.input_paths[-2:] == [tmp_path / "dem" / "n35e105_e.tif",
                                     tmp_path / "dem" / "n35e105_w.tif"]
