"""DEM tiles mosaicked in memory, and small voids of a DEM filled (issue #19 item 5).

A county DEM often arrives as tiles (SRTM / ASTER 1° tiles, or a survey's map sheets),
some declaring no nodata and holding -32768 in voids. :func:`_mosaic` merges them with
:func:`rasterio.merge.merge` into one in-memory array (first tile wins where tiles
overlap). It is used rather than a VRT because the band is read whole into memory
anyway (as for one GeoTIFF), GDAL's ``BuildVRT`` is not exposed by rasterio, and
``merge``'s copy hook sees each tile's window, so a tile's undeclared sentinel
(-32768, -9999, ...: :func:`contigmap.raster.undeclared_nodata`, or ``nodata:`` from
the manifest) is masked *before* it could hide another tile's height.

:func:`_fill_voids` fills voids enclosed by heights with GDAL's FillNodata
(inverse-distance weighting from the void's edge; :func:`rasterio.fill.fillnodata`)
when every cell of the void is within ``fill_voids_m`` of a height, so that a village
on a small void still gets an elevation; larger voids and voids open to the raster's
edge stay empty. Both are reported as data warnings.
"""

from __future__ import annotations

import logging
import math
import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS

from contigmap.config import LayerSpec
from contigmap.errors import CRSError, LayerError, warn_data
from contigmap.io._common import _resolve
from contigmap.raster import undeclared_nodata

logger = logging.getLogger(__name__)

_METRES_PER_DEGREE = 111_320.0
"""Length of one degree of latitude (and of longitude at the equator), metres."""


def _raster_files(spec: LayerSpec, base_dir: Path, source: str) -> list[Path]:
    """List the raster file(s) of a layer: one path, a glob's matches or ``paths:``; all exist."""
    files = spec.files(base_dir)
    if len(files) == 1 and files[0] == (spec.path if spec.path.is_absolute()
                                         else base_dir / spec.path):
        return [_resolve(spec, base_dir, source)]
    if not files:
        msg = (f"{source}: no file matches '{spec.path}'; check 'path:' in region.yaml "
               "(relative paths start at the manifest's folder)")
        raise LayerError(msg)
    missing = [p for p in files if not p.is_file()]
    if missing:
        msg = (f"{source}: tile not found: {missing[0]}"
               f"{f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''}; check "
               "'paths:' in region.yaml")
        raise LayerError(msg)
    return files


def _mosaic(
    files: list[Path], nodata: float | None, source: str
) -> tuple[NDArray[np.float64], Affine, CRS | None]:
    """Merge tiles into band 1 as ``float64`` with ``nan`` for nodata, its transform and CRS.

    Every tile must be in one CRS; the first tile's resolution is used (nearest
    neighbour for others). A tile's declared nodata is masked by rasterio; a tile
    declaring none has ``nodata`` (when given) and detected sentinels masked, counted
    and reported.
    """
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.merge import merge

    found: dict[tuple[str, float], int] = {}
    try:
        with ExitStack() as stack:
            tiles = [stack.enter_context(rasterio.open(p)) for p in files]
            crs = _one_crs(tiles, files, source)
            undeclared = [t.nodata is None for t in tiles]

            def first_valid(merged: Any, new: Any, merged_mask: Any, new_mask: Any,
                            index: int | None = None, **_: Any) -> None:
                data = np.ma.getdata(new).astype("float64")
                invalid = np.broadcast_to(np.ma.getmaskarray(new) | new_mask, data.shape).copy()
                if index is not None and undeclared[index]:
                    values = np.where(invalid, np.nan, data)
                    sentinels = ([(nodata, 0)] if nodata is not None else []) + \
                        undeclared_nodata(values)
                    for value, _cells in sentinels:
                        hit = values == value
                        invalid |= hit
                        key = (files[index].name, float(value))
                        found[key] = found.get(key, 0) + int(hit.sum())
                np.copyto(merged, data, where=merged_mask & ~invalid)

            with warnings.catch_warnings():  # rasterio's merge still uses affine's ``*``
                warnings.simplefilter("ignore", PendingDeprecationWarning)
                array, transform = merge(tiles, dtype="float64", nodata=np.nan,
                                         method=first_valid)
    except RasterioIOError as err:
        msg = f"{source}: cannot read a tile as a raster ({err})"
        raise LayerError(msg) from err
    for (name, value), cells in sorted(found.items()):
        if cells and value != nodata:
            warn_data(f"{source}: tile {name} declares no nodata value, but {cells} cell(s) "
                      f"hold {value:g}, far outside the other heights; they are treated as "
                      f"nodata (declare it: 'nodata: {value:g}' under dem in region.yaml)",
                      logger=logger)
    logger.info("%s: %d tiles mosaicked into %dx%d cells", source, len(files),
                array.shape[2], array.shape[1])
    return np.asarray(array[0], dtype="float64"), transform, crs


def _one_crs(tiles: list[Any], files: list[Path], source: str) -> CRS | None:
    """Return the tiles' common CRS (``None`` when none has one); two CRSs are an error."""
    crss = [CRS.from_user_input(t.crs) if t.crs is not None else None for t in tiles]
    first = crss[0]
    for path, crs in zip(files, crss, strict=True):
        if (crs is None) != (first is None) or (crs is not None and not crs.equals(first)):
            msg = (f"{source}: tiles {files[0].name} ({first}) and {path.name} ({crs}) are "
                   "in different CRSs; reproject the tiles to one CRS (gdalwarp -t_srs)")
            raise CRSError(msg)
    return first


def _fill_voids(
    array: NDArray[np.float64], transform: Affine, crs: CRS, max_m: float, source: str
) -> int:
    """Fill, in place, voids enclosed by heights whose every cell is within ``max_m``.

    A void is a 4-connected group of ``nan`` cells; one touching the raster's edge is
    outside the data and is left. FillNodata interpolates every void cell within the
    search distance (``max_m`` in cells); a void with a cell it cannot reach is put
    back as it was (a lake or a missing sheet, not a small gap). Returns the number of
    cells filled, reported in a data warning.
    """
    from rasterio.fill import fillnodata
    from scipy import ndimage

    empty = np.isnan(array)
    if not empty.any() or empty.all():
        return 0
    labels, _ = ndimage.label(empty)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    inner = empty & ~np.isin(labels, edge)
    if not inner.any():
        return 0
    distance = max(1, math.ceil(max_m / _cell_size_m(transform, crs, array.shape)))
    filled = np.asarray(fillnodata(array.copy(), mask=(~empty).astype("uint8"),
                                   max_search_distance=distance, smoothing_iterations=0),
                        dtype="float64")
    # a void counts as small when FillNodata reached every one of its cells
    ids = np.unique(labels[inner])
    reached = ndimage.minimum(np.isfinite(filled), labels, ids)
    small = ids[np.asarray(reached, dtype=bool)]
    take = np.isin(labels, small) & inner
    array[take] = filled[take]
    cells = int(take.sum())
    left = int(inner.sum()) - cells
    if cells or left:
        warn_data(f"{source}: {small.size} void(s) enclosed by heights filled by "
                  f"interpolation ({cells} cell(s), each within {max_m:g} m of a height)"
                  + (f"; {ids.size - small.size} larger void(s) ({left} cell(s)) left "
                     "empty" if left else "")
                  + "; set 'fill_voids_m:' under dem in region.yaml (0: no filling)",
                  logger=logger)
    return cells


def _cell_size_m(transform: Affine, crs: CRS, shape: tuple[int, ...]) -> float:
    """Return the larger side of a cell in metres (degrees scaled at the raster's middle)."""
    width, height = abs(transform.a), abs(transform.e)
    if crs.is_geographic:
        mid_lat = (transform @ (shape[1] / 2.0, shape[0] / 2.0))[1]
        width *= _METRES_PER_DEGREE * math.cos(math.radians(mid_lat))
        height *= _METRES_PER_DEGREE
    return float(max(width, height))
