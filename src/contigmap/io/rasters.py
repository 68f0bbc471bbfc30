"""Reading rasters (DEM, hazard grids): band 1, nodata as ``nan``, warped to the working CRS.

A DEM may come as tiles (``paths:`` or a glob, :class:`contigmap.config.DemSpec`): they
are mosaicked in memory with :func:`rasterio.merge.merge` (the first tile wins where
tiles overlap; each tile's nodata, declared or detected, is masked before it is copied).
Voids of the DEM enclosed by heights are filled with GDAL's FillNodata (inverse-distance
weighting, :func:`rasterio.fill.fillnodata`) when small enough, and reported.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Literal

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS

from contigmap.config import DemSpec, LayerSpec
from contigmap.errors import ConfigError, CRSError, DataQualityWarning, LayerError
from contigmap.io.tiles import _fill_voids, _mosaic, _raster_files
from contigmap.raster import Raster, undeclared_nodata

logger = logging.getLogger(__name__)


def read_raster(
    spec: LayerSpec,
    *,
    base_dir: Path,
    source: str,
    working_crs: CRS | None = None,
    resampling: Literal["bilinear", "nearest"] = "bilinear",
) -> Raster:
    """Read band 1 of a raster, nodata as ``nan``, optionally warped to ``working_crs``.

    Parameters
    ----------
    spec
        The layer's manifest entry (``crs:`` is used when the file has no CRS).
    base_dir
        Folder that relative paths start from.
    source
        How to name the layer in messages.
    working_crs
        When given, the raster is warped to it at about its native resolution
        (:func:`rasterio.warp.calculate_default_transform`).
    resampling
        ``bilinear`` (continuous values such as elevation) or ``nearest`` (classes).

    Returns
    -------
    Raster
        ``float64`` values with ``nan`` for nodata.
    """
    if spec.datum in ("gcj02", "bd09"):
        msg = f"{source}: 'datum: {spec.datum}' is supported for vector layers only; remove it"
        raise ConfigError(msg)
    files = _raster_files(spec, base_dir, source)
    path = files[0]
    nodata = spec.nodata if isinstance(spec, DemSpec) else None
    if len(files) == 1:
        array, transform, src_crs, declared_nodata = _read_band(path, source)
        if not declared_nodata:
            _drop_undeclared_nodata(array, path, source, nodata)
    else:
        array, transform, src_crs = _mosaic(files, nodata, source)
    if src_crs is None:
        if spec.crs is None:
            msg = (
                f"{source}: {path.name} has no CRS; add 'crs: EPSG:4490' (or the right code) "
                "to this layer in region.yaml"
            )
            raise CRSError(msg)
        src_crs = CRS.from_user_input(spec.crs)
    if transform.is_identity:
        msg = (f"{source}: {path.name} is not a georeferenced raster: it has no transform "
               "(cell size and origin); export it as a GeoTIFF with its coordinates")
        raise CRSError(msg)
    if isinstance(spec, DemSpec) and spec.fill_voids_m > 0:
        _fill_voids(array, transform, src_crs, spec.fill_voids_m, source)
    name = source.split(" ")[0].rsplit(".", 1)[-1]
    if working_crs is None or src_crs.equals(working_crs):
        return Raster(array=array, transform=transform, crs=src_crs, name=name)
    dst, dst_transform = _warp(array, transform, src_crs, working_crs, resampling, source)
    return Raster(array=dst, transform=dst_transform, crs=working_crs, name=name)


def _read_band(path: Path, source: str) -> tuple[NDArray[np.float64], Affine, CRS | None, bool]:
    """Band 1 as ``float64`` (nodata ``nan``), its transform and CRS, and whether nodata is set.

    A file with no CRS, no transform and no ground control points (a plain image) is
    refused here, in our own words.
    """
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    try:
        with warnings.catch_warnings():
            # a plain image: said below in our own words
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                driver = str(src.driver)
                has_gcps = bool(src.gcps[0])
                declared_nodata = src.nodata is not None
                transform = src.transform
                src_crs = CRS.from_user_input(src.crs) if src.crs is not None else None
                if src_crs is None and transform.is_identity and not has_gcps:
                    kind = "" if driver == "GTiff" else f" (it is a {driver} file)"
                    msg = (f"{source}: {path.name} is not a georeferenced raster{kind}: it has "
                           "no CRS, no transform and no ground control points; export it as "
                           "a GeoTIFF with its coordinates (gdal_translate -a_srs / -a_ullr)")
                    raise CRSError(msg)
                band = src.read(1, masked=True)
                array = np.asarray(band.astype("float64").filled(np.nan))
    except RasterioIOError as err:
        msg = f"{source}: cannot read {path.name} as a raster ({err})"
        raise LayerError(msg) from err
    return array, transform, src_crs, declared_nodata


def _drop_undeclared_nodata(
    array: NDArray[np.float64], path: Path, source: str, nodata: float | None = None
) -> None:
    """Set sentinel values of a raster that declares no nodata to ``nan``, with a warning.

    ``nodata`` (``nodata:`` in region.yaml) is dropped silently: the manifest says it.
    """
    if nodata is not None:
        array[array == nodata] = np.nan
    for value, cells in undeclared_nodata(array):
        array[array == value] = np.nan
        warnings.warn(
            f"{source}: {path.name} declares no nodata value, but {cells} cell(s) hold "
            f"{value:g}, far outside the other values; they are treated as nodata "
            f"(declare it: gdal_edit.py -a_nodata {value:g} {path.name})",
            DataQualityWarning,
            stacklevel=3,
        )


def _warp(
    array: NDArray[np.float64],
    transform: Affine,
    src_crs: CRS,
    working_crs: CRS,
    resampling: Literal["bilinear", "nearest"],
    source: str,
) -> tuple[NDArray[np.float64], Affine]:
    """Warp a band to ``working_crs`` at about its native resolution."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    rows, cols = array.shape
    left, top = transform @ (0, 0)
    right, bottom = transform @ (cols, rows)
    # rasterio's helpers still use affine's deprecated ``*``; not ours to fix
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        dst_transform, width, height = calculate_default_transform(
            src_crs,
            working_crs,
            cols,
            rows,
            left=min(left, right),
            bottom=min(top, bottom),
            right=max(left, right),
            top=max(top, bottom),
        )
        dst = np.full((int(height), int(width)), np.nan, dtype="float64")
        reproject(
            source=array,
            destination=dst,
            src_transform=transform,
            src_crs=src_crs,
            src_nodata=np.nan,
            dst_transform=dst_transform,
            dst_crs=working_crs,
            dst_nodata=np.nan,
            resampling=Resampling[resampling],
        )
    logger.debug("%s: warped %dx%d -> %dx%d", source, cols, rows, width, height)
    return dst, dst_transform


def _raster_crs_text(base_dir: Path, spec: LayerSpec) -> str | None:
    import rasterio

    path = spec.files(base_dir)[0]
    with rasterio.open(path) as src:
        if src.crs is not None:
            return str(CRS.from_user_input(src.crs).to_string())
    return f"{spec.crs} (from region.yaml)" if spec.crs else None
