"""Terrain from a DEM: slope (Horn's method), elevation and local relief per settlement.

Slope follows Horn (1981), "Hill shading and the reflectance map", Proc. IEEE 69(1),
the 3x3 weighted finite difference GDAL's ``gdaldem slope`` uses::

    dz/dx = ((c + 2f + i) - (a + 2d + g)) / (8 dx)      a b c
    dz/dy = ((g + 2h + i) - (a + 2b + c)) / (8 dy)      d e f
    slope = atan(sqrt(dz/dx² + dz/dy²))                 g h i

Cell sizes are in metres: a projected DEM's cell size is converted with its axis unit
(feet, ...); a geographic DEM (degrees) is *converted*, not refused: each row gets its
own east-west size ``N(φ) cos φ Δλ`` and north-south size ``M(φ) Δφ``, with ``M`` and
``N`` the meridional and prime-vertical radii of curvature of the CRS's ellipsoid at
the row's latitude. Border cells are computed after extending the DEM by linear
extrapolation (``2 z_edge - z_inner``), which is exact on planes; a cell next to
nodata is nodata.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from contigmap.columns import ColumnInfo, register_columns
from contigmap.errors import CRSError, warn_data
from contigmap.raster import Raster
from contigmap.zonal import zonal_stats_shared

__all__ = [
    "STEEP_SLOPE_DEG",
    "TERRAIN_COLUMNS",
    "cell_size_m",
    "name_list",
    "slope_deg",
    "terrain_profile",
    "typical_terrain",
    "window_relief",
    "with_typical_terrain",
]

logger = logging.getLogger(__name__)

STEEP_SLOPE_DEG = 25.0
"""Slope above which land must not be newly cultivated (水土保持法 Art. 20) and
sloping farmland is returned to forest (退耕还林); used for ``slope_gt25_share``."""

TERRAIN_COLUMNS: tuple[str, ...] = (
    "elevation_m",
    "elev_mean_m",
    "relief_m",
    "slope_mean_deg",
    "slope_max_deg",
    "slope_gt25_share",
)

_SRC = "dem / terrain"
register_columns(
    [
        ColumnInfo("elevation_m", "DEM elevation at the settlement point (bilinear)",
                   "居民点高程", "m", _SRC),
        ColumnInfo("elev_mean_m", "mean elevation of the zone", "区域平均高程", "m", _SRC),
        ColumnInfo("relief_m", "local relief: highest minus lowest cell of the zone",
                   "地形起伏度（区域内最大高差）", "m", _SRC),
        ColumnInfo("slope_mean_deg", "mean slope of the zone (Horn 1981)", "区域平均坡度",
                   "deg", _SRC),
        ColumnInfo("slope_max_deg", "steepest cell of the zone", "区域最大坡度", "deg", _SRC),
        ColumnInfo("slope_gt25_share", "share of the zone steeper than 25 degrees",
                   "坡度大于25°的面积占比", "share 0-1", _SRC),
        ColumnInfo("terrain_source", "where the terrain used for costs comes from: 'dem', or "
                   "'region_typical' (outside the DEM or on its nodata: the terrain columns "
                   "are empty and costs use the median of the covered settlements)",
                   "地形数据来源（dem：高程数据；region_typical：无高程数据，按全区典型地形估算）",
                   "", _SRC),
    ]
)


def cell_size_m(dem: Raster) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """East-west and north-south size of each row's cells, in metres.

    Parameters
    ----------
    dem
        A north-up raster with a CRS.

    Returns
    -------
    tuple of numpy.ndarray
        ``(dx, dy)``, each of length ``rows``.

    Raises
    ------
    CRSError
        If the raster has no CRS or its axis unit is not a length.
    """
    if dem.crs is None:
        msg = f"DEM {dem.name or '(unnamed)'!r} has no CRS; set it when loading the raster"
        raise CRSError(msg)
    rows = dem.shape[0]
    resx, resy = abs(dem.transform.a), abs(dem.transform.e)
    if dem.crs.is_geographic:
        ell = dem.crs.ellipsoid
        if ell is None:
            msg = f"DEM {dem.name!r}: geographic CRS without an ellipsoid; reproject it to metres"
            raise CRSError(msg)
        a = ell.semi_major_metre
        inv_f = ell.inverse_flattening
        e2 = 0.0 if not inv_f else (2.0 - 1.0 / inv_f) / inv_f
        lat = np.radians(dem.transform.f + dem.transform.e * (np.arange(rows) + 0.5))
        w = 1.0 - e2 * np.sin(lat) ** 2
        m_radius = a * (1.0 - e2) / w**1.5
        n_radius = a / np.sqrt(w)
        dx = n_radius * np.cos(lat) * np.radians(resx)
        dy = m_radius * np.radians(resy)
        return dx, dy
    unit = dem.crs.axis_info[0].unit_conversion_factor if dem.crs.axis_info else 1.0
    if not unit or dem.crs.axis_info[0].unit_name in ("degree", "radian"):
        msg = f"DEM {dem.name!r}: CRS axis unit is not a length; reproject it to metres"
        raise CRSError(msg)
    return np.full(rows, resx * unit), np.full(rows, resy * unit)


def slope_deg(dem: Raster) -> Raster:
    """Slope in degrees by Horn's (1981) method, cell sizes in metres.

    Parameters
    ----------
    dem
        Elevation in metres; ``nan`` is nodata. Projected or geographic (converted,
        see the module notes).

    Returns
    -------
    Raster
        Slope in degrees on the DEM's grid, named ``slope``.
    """
    z = np.asarray(dem.array, dtype=np.float64)
    if min(z.shape) < 2:
        return Raster(np.full(z.shape, np.nan), dem.transform, dem.crs, "slope")
    dx, dy = cell_size_m(dem)
    p = np.pad(z, 1, mode="reflect", reflect_type="odd")
    a, b, c = p[:-2, :-2], p[:-2, 1:-1], p[:-2, 2:]
    d, f = p[1:-1, :-2], p[1:-1, 2:]
    g, h, i = p[2:, :-2], p[2:, 1:-1], p[2:, 2:]
    dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8.0 * dx[:, None])
    # rows grow southwards; the sign of dz/dy does not matter for slope
    dzdy = ((g + 2 * h + i) - (a + 2 * b + c)) / (8.0 * dy[:, None])
    out = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    out[np.isnan(z)] = np.nan  # Horn's kernel skips the centre cell
    return Raster(out, dem.transform, dem.crs, "slope")


def terrain_profile(
    points: gpd.GeoSeries,
    zones: gpd.GeoSeries | gpd.GeoDataFrame,
    dem: Raster,
    *,
    slope: Raster | None = None,
    id_column: str | None = None,
) -> pd.DataFrame:
    """Elevation, relief and slope of each settlement and its zone.

    Parameters
    ----------
    points
        Settlement points (village seats, hamlets), with a CRS.
    zones
        One polygon per point (same index): the village polygon, or a buffer clipped
        to the township (see :func:`contigmap.overlay.settlement_zones`).
    dem
        Elevation in metres.
    slope
        Slope in degrees on any grid; computed from ``dem`` with :func:`slope_deg`
        when ``None``.
    id_column
        Column of ``zones`` (a GeoDataFrame) naming settlements in warnings.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points`` with :data:`TERRAIN_COLUMNS`.
    """
    if slope is None:
        slope = slope_deg(dem)
    if points.crs is None:
        msg = "settlement points have no CRS; set it before the terrain profile"
        raise CRSError(msg)
    pts = points if points.crs.equals(dem.crs) else points.to_crs(dem.crs)
    elev = dem.sample_bilinear(pts.x.to_numpy(), pts.y.to_numpy())
    ez, sz = zonal_stats_shared([(dem, ("mean", "min", "max"), None),
                                 (slope, ("mean", "max"), STEEP_SLOPE_DEG)],
                                zones, id_column=id_column)
    out = pd.DataFrame(
        {
            "terrain_source": "dem",
            "elevation_m": elev,
            "elev_mean_m": ez["mean"].to_numpy(),
            "relief_m": (ez["max"] - ez["min"]).to_numpy(),
            "slope_mean_deg": sz["mean"].to_numpy(),
            "slope_max_deg": sz["max"].to_numpy(),
            "slope_gt25_share": sz["share_above"].to_numpy(),
        },
        index=points.index,
    )
    unknown = ~np.isfinite(out[list(TERRAIN_COLUMNS)].to_numpy(float)).all(axis=1)
    out.loc[unknown, "terrain_source"] = "region_typical"
    # a zone the DEM covers in part (a sliver of a Voronoi cell) says little: all unknown
    out.loc[unknown, list(TERRAIN_COLUMNS)] = np.nan
    if unknown.any():
        names = (zones[id_column].astype(str).to_numpy() if id_column is not None
                 and isinstance(zones, gpd.GeoDataFrame) else out.index.astype(str).to_numpy())
        typical = typical_terrain(out)
        how = (f"they are costed with the region's typical terrain, the median of the "
               f"{int((~unknown).sum())} covered: relief {typical['relief_m']:.0f} m, mean slope "
               f"{typical['slope_mean_deg']:.1f} deg, elevation {typical['elevation_m']:.0f} m"
               if (~unknown).any() else "no settlement is covered, so none can be costed by "
               "terrain; use a DEM that covers the region")
        msg = (f"{dem.name or 'dem'}: {int(unknown.sum())} of {len(out)} settlement(s) lie "
               f"outside the DEM or on its nodata: {name_list(names[unknown])}; their terrain "
               f"is unknown (terrain_source = region_typical, terrain columns left empty) and "
               f"{how}")
        warn_data(msg, logger=logger)
    logger.info("terrain: profiled %d settlements (%d without DEM data at the point)",
                len(out), int(np.isnan(elev).sum()))
    return out


def window_relief(dem: Raster, x: ArrayLike, y: ArrayLike, radius_m: float, *,
                  min_cells: int = 0) -> NDArray[np.float64]:
    """Relief (highest minus lowest cell) in a square window around each point.

    Parameters
    ----------
    dem
        Elevation in metres, in the points' CRS.
    x, y
        Point coordinates.
    radius_m
        Half the window's side; rounded up to whole cells.
    min_cells
        Smallest half-side in cells (1 keeps a window wider than one cell on a coarse
        DEM).

    Returns
    -------
    numpy.ndarray
        Relief in metres; NaN for points off the DEM or with only nodata around them.
    """
    nrows, ncols = dem.shape
    rows, cols = dem.index(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    rr = max(int(np.ceil(radius_m / dem.res[1])), min_cells)
    rc = max(int(np.ceil(radius_m / dem.res[0])), min_cells)
    relief = np.full(len(rows), np.nan)
    for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
        if not (0 <= r < nrows and 0 <= c < ncols):
            continue
        win = dem.array[max(r - rr, 0) : r + rr + 1, max(c - rc, 0) : c + rc + 1]
        if np.isfinite(win).any():
            relief[i] = float(np.nanmax(win) - np.nanmin(win))
    return relief


def name_list(names: Sequence[object] | NDArray[np.object_], first: int = 10) -> str:
    """Join the first ``first`` names with commas, then say how many more (for warnings)."""
    items = [str(n) for n in names]
    head = ", ".join(items[:first])
    return f"{head} and {len(items) - first} more" if len(items) > first else head


def typical_terrain(table: pd.DataFrame) -> dict[str, float]:
    """Return the region's typical terrain: each terrain column's median over covered rows.

    Rows with ``terrain_source == "dem"`` (every row with all values when the column is
    absent) count; a column with no covered row gives ``nan``.
    """
    cols = [c for c in TERRAIN_COLUMNS if c in table.columns]
    if "terrain_source" in table.columns:
        covered = table["terrain_source"].astype(str).eq("dem").to_numpy()
    else:
        covered = np.isfinite(table[cols].to_numpy(float)).all(axis=1)
    out = {c: float("nan") for c in TERRAIN_COLUMNS}
    for c in cols:
        v = pd.to_numeric(table[c], errors="coerce").to_numpy(float)[covered]
        v = v[np.isfinite(v)]
        if v.size:
            out[c] = float(np.median(v))
    return out


def with_typical_terrain(
    table: pd.DataFrame, column: str
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Values of a terrain column with the typical value (:func:`typical_terrain`) where unknown.

    Returns
    -------
    tuple
        The values (measured ones kept), and which rows took the typical value.
    """
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(float).copy()
    typical = ~np.isfinite(values)
    if typical.any():
        values[typical] = typical_terrain(table)[column]
    return values, typical
