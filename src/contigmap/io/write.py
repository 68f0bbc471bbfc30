"""Writing outputs atomically: a vector layer or a table appears whole or not at all.

The bytes themselves (fixed GeoPackage dates, formula-safe CSV and XLSX cells) come from
:mod:`contigmap.io.writers`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.errors import LayerError
from contigmap.io.writers import fixed_gdal_date, write_csv
from contigmap.io.xlsx import write_xlsx

logger = logging.getLogger(__name__)

ARROW_MIN_ROWS = 1000
"""Fewest features for which a GeoPackage goes through pyogrio's Arrow writer."""


@contextmanager
def atomic_path(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``final``; rename it to ``final`` on success.

    The temporary file is in the same folder (so the rename is atomic on one file
    system) and keeps ``final``'s extension (so drivers chosen by extension work).
    On an exception the temporary file is deleted and ``final`` is left untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.stem}.tmp-{uuid.uuid4().hex[:8]}{final.suffix}")
    try:
        yield tmp
        if not tmp.exists():
            msg = f"nothing was written to {tmp} for {final}"
            raise LayerError(msg)
        tmp.replace(final)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_vector(gdf: gpd.GeoDataFrame, path: str | Path, layer: str | None = None) -> Path:
    """Write a GeoDataFrame atomically; the format follows the extension.

    ``.gpkg`` (GeoPackage, ``layer`` names the layer, default the file stem),
    ``.parquet``/``.geoparquet`` (GeoParquet), ``.geojson``/``.json`` (GeoJSON, always
    reprojected to EPSG:4326 as RFC 7946 requires), ``.csv`` (UTF-8 with BOM so Excel
    shows Chinese; points as ``x``/``y`` columns in the frame's CRS, other geometries
    as WKT in ``geometry``). Writing to an existing GeoPackage replaces the file.
    GeoPackages carry a fixed date instead of the write time and CSV text cells cannot
    start a spreadsheet formula (see :mod:`contigmap.io.writers`), so the same frame
    always gives the same bytes.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import pyogrio

    path = Path(path)
    suffix = path.suffix.lower()
    with atomic_path(path) as tmp, fixed_gdal_date():
        if suffix == ".gpkg":
            pyogrio.write_dataframe(gdf, tmp, layer=layer or path.stem, driver="GPKG",
                                    use_arrow=arrow_writes_same_bytes(gdf))
        elif suffix in (".parquet", ".geoparquet"):
            gdf.to_parquet(tmp, index=False)
        elif suffix in (".geojson", ".json"):
            out = gdf.to_crs("EPSG:4326") if gdf.crs is not None else gdf
            pyogrio.write_dataframe(out, tmp, driver="GeoJSON")
        elif suffix == ".csv":
            table = pd.DataFrame(gdf.drop(columns=[gdf.geometry.name]))
            geoms = gdf.geometry
            if len(geoms) and geoms.geom_type.eq("Point").all():
                table["x"] = geoms.x.to_numpy()
                table["y"] = geoms.y.to_numpy()
            else:
                table["geometry"] = geoms.to_wkt().to_numpy()
            write_csv(table, tmp)
        else:
            msg = f"{path}: cannot write '{suffix}'; use .gpkg, .parquet, .geojson or .csv"
            raise LayerError(msg)
    logger.debug("wrote %d features to %s", len(gdf), path)
    return path


def arrow_writes_same_bytes(gdf: gpd.GeoDataFrame) -> bool:
    """Whether pyogrio's Arrow writer gives the same GeoPackage bytes as its feature writer.

    The Arrow path (GDAL's ``OGR_L_WriteArrowBatch``, GDAL >= 3.8) passes whole
    columns to GDAL instead of setting each field of each feature, about 3x faster on
    a 3,000-hamlet layer (on a 259-village layer of 248 columns its per-column set-up
    makes it no faster, hence :data:`ARROW_MIN_ROWS`). Used only for the column types
    on which both paths were compared byte for byte (tests/test_write_gpkg.py): floats,
    integers up to 64-bit signed, booleans, nullable integers and booleans, strings, and
    object columns holding only text, in a layer with a CRS; any other layer (no CRS, dates, mixed
    objects, ...) keeps the feature writer.
    """
    import importlib.util

    import pyogrio

    if (len(gdf) < ARROW_MIN_ROWS or pyogrio.__gdal_version__ < (3, 8, 0)
            or importlib.util.find_spec("pyarrow") is None
            or gdf.crs is None):  # pyogrio's Arrow writer warns of a missing CRS
        return False
    for name, col in gdf.items():
        if name == gdf.geometry.name:
            continue
        dtype = col.dtype
        if isinstance(dtype, pd.StringDtype | pd.Int64Dtype | pd.BooleanDtype):
            continue
        if isinstance(dtype, np.dtype) and (dtype.kind in "fib"
                                            or (dtype.kind == "u" and dtype.itemsize < 8)):
            continue
        if dtype.kind == "O" and pd.api.types.infer_dtype(col, skipna=True) in ("string",
                                                                                "empty"):
            continue
        return False
    return True


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table atomically: ``.csv`` (UTF-8 with BOM, for Excel) or ``.xlsx``.

    A geometry column, if any, is dropped. Text never becomes a spreadsheet formula:
    XLSX text cells are string cells, CSV text cells starting with ``= + - @``, TAB or
    CR get a leading ``'``; the same table always gives the same bytes (see
    :mod:`contigmap.io.writers`).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    table = pd.DataFrame(df)
    if isinstance(df, gpd.GeoDataFrame):
        table = pd.DataFrame(df.drop(columns=[df.geometry.name]))
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            write_csv(table, tmp)
        elif suffix == ".xlsx":
            write_xlsx({"Sheet1": table}, tmp)
        else:
            msg = f"{path}: cannot write '{suffix}' tables; use .csv or .xlsx"
            raise LayerError(msg)
    return path
