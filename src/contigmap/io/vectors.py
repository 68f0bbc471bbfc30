"""Reading vector files (GeoPackage, GeoParquet, Shapefile, GeoJSON, File Geodatabase, KML).

ESRI File Geodatabases (``*.gdb`` folders) are read with GDAL's OpenFileGDB driver
(``layer:`` names the feature class); KML/KMZ with LIBKML (or GDAL's KML driver), one
folder (``folder:``) or every folder stacked with a ``folder`` column (:func:`_read_kml`).
Which layer of a multi-layer file, text encodings (a Shapefile without ``.cpg`` whose
Chinese was read as Latin-1 is said), GCJ-02 → WGS84 conversion of geometries, and
zero-length lines dropped with a warning.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from contigmap.config import LayerSpec
from contigmap.crs import bd09_to_wgs84, gcj02_to_wgs84
from contigmap.errors import LayerError
from contigmap.io._common import _ROW, _list_rows, _note


def _read_vector_file(
    path: Path, spec: LayerSpec, source: str, problems: list[str]
) -> pd.DataFrame:
    import pyogrio

    suffix = path.suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        try:
            return gpd.read_parquet(path)
        except ValueError as err:
            if "geo" not in str(err).lower():
                raise
            return pd.read_parquet(path)  # a plain table (households)
        except OSError as err:
            msg = f"{source}: cannot read {path.name} as (Geo)Parquet ({err})"
            raise LayerError(msg) from err
    if spec.folder is not None and suffix not in (".kml", ".kmz"):
        msg = f"{source}: 'folder:' is for KML/KMZ files, not {path.name}; use 'layer:'"
        raise LayerError(msg)
    if suffix in (".kml", ".kmz"):
        return _read_kml(path, spec, source)
    kwargs: dict[str, Any] = {}
    try:
        layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except Exception as err:
        msg = f"{source}: cannot open {path.name} ({err}); is it a valid {suffix} file?"
        raise LayerError(msg) from err
    if spec.layer is not None:
        if spec.layer not in layers:
            msg = (
                f"{source}: no layer '{spec.layer}' in {path.name} (it has: {', '.join(layers)});"
                " fix 'layer:' in region.yaml"
            )
            raise LayerError(msg)
        kwargs["layer"] = spec.layer
    elif len(layers) > 1:
        msg = (
            f"{source}: {path.name} holds {len(layers)} layers ({', '.join(layers)}); "
            "say which with 'layer:' in region.yaml"
        )
        raise LayerError(msg)
    if spec.encoding is not None:
        kwargs["encoding"] = spec.encoding
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            df = pyogrio.read_dataframe(path, **kwargs)
    except (LookupError, UnicodeDecodeError) as err:
        msg = f"{source}: cannot decode text in {path.name} ({err}); check 'encoding:'"
        raise LayerError(msg) from err
    except Exception as err:
        msg = f"{source}: cannot read {path.name} ({err})"
        raise LayerError(msg) from err
    if (
        suffix == ".shp"
        and spec.encoding is None
        and not path.with_suffix(".cpg").exists()
        and not path.with_suffix(".CPG").exists()
        and _looks_like_mojibake(df)
    ):
        _note(
            problems,
            source,
            "text looks garbled (Chinese read as Latin-1); add 'encoding: gbk' to this layer",
        )
    return df


def _read_kml(path: Path, spec: LayerSpec, source: str) -> pd.DataFrame:
    """Read the Placemarks of a KML/KMZ: one folder, or every folder with a ``folder`` column.

    GDAL's LIBKML (or KML) driver makes one layer per ``<Folder>``; a KMZ is read
    inside its zip (``/vsizip/``) when the driver cannot open it directly. Placemark
    names (``Name``) become ``name`` unless the file has a ``name`` column; heights are
    dropped (2D points and lines).
    """
    import pyogrio

    target = str(path)
    try:
        layers = [str(name) for name in pyogrio.list_layers(target)[:, 0]]
    except Exception:
        target = f"/vsizip/{path}/doc.kml"
        try:
            layers = [str(name) for name in pyogrio.list_layers(target)[:, 0]]
        except Exception as err:
            msg = f"{source}: cannot open {path.name} as KML/KMZ ({err}); save it again"
            raise LayerError(msg) from err
    wanted = spec.folder if spec.folder not in (None, "all") else spec.layer
    if wanted is not None and wanted not in layers:
        msg = (f"{source}: no folder '{wanted}' in {path.name} (it has: {', '.join(layers)});"
               " fix 'folder:' in region.yaml (or 'folder: all')")
        raise LayerError(msg)
    frames = []
    for name in [wanted] if wanted is not None else layers:
        try:
            part = pyogrio.read_dataframe(target, layer=name)
        except Exception as err:
            msg = f"{source}: cannot read folder '{name}' of {path.name} ({err})"
            raise LayerError(msg) from err
        if len(part):
            part["folder"] = name
            frames.append(part)
    if not frames:
        msg = f"{source}: {path.name} has no Placemarks; check the file and 'folder:'"
        raise LayerError(msg)
    gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                           crs=frames[0].crs)
    gdf["geometry"] = shapely.force_2d(gdf.geometry.values)
    if "Name" in gdf.columns and "name" not in gdf.columns:
        gdf = gdf.rename(columns={"Name": "name"})
    return gdf


def _looks_like_mojibake(df: pd.DataFrame) -> bool:
    for col in df.columns:
        if col == "geometry" or not (
            pd.api.types.is_object_dtype(df[col]) or pd.api.types.is_string_dtype(df[col])
        ):
            continue
        text = "".join(str(v) for v in df[col].dropna().head(50))
        if re.search(r"[\u0080-\u00ff]{2,}", text) and not re.search(r"[\u4e00-\u9fff]", text):
            return True
    return False


def _web_geoms_to_wgs84(geoms: Any, datum: str = "gcj02") -> Any:
    """Geometries in GCJ-02 or BD-09 longitude/latitude, converted to WGS84 (exact inverses)."""
    inverse = bd09_to_wgs84 if datum == "bd09" else gcj02_to_wgs84

    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = inverse(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, convert)


def _drop_zero_length(
    gdf: gpd.GeoDataFrame, source: str, problems: list[str]
) -> gpd.GeoDataFrame:
    """Drop lines of zero length (all vertices at one place), with a warning."""
    geoms = gdf.geometry.values
    is_line = np.isin(shapely.get_type_id(geoms), [1, 2, 5])  # LineString, LinearRing, Multi
    zero = is_line & ~shapely.is_empty(geoms) & (shapely.length(geoms) == 0)
    if not zero.any():
        return gdf
    _note(
        problems,
        source,
        f"{int(zero.sum())} zero-length line(s) dropped ({_list_rows(gdf[_ROW].to_numpy()[zero])})"
        "; every vertex is at one place",
    )
    return gdf.loc[~zero]
