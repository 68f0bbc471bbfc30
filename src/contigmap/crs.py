"""Coordinate reference systems: the working CRS, CRS kinds, and GCJ-02 <-> WGS84.

Every analysis stage works in one projected CRS in metres, chosen here from the
region's centroid: the UTM zone (WGS84), or, when the inputs are CGCS2000, the
CGCS2000 3-degree Gauss–Krüger zone (EPSG:4534–4554, central meridians 75°E–135°E,
no zone number prefixed to the easting).

GCJ-02 ("Mars coordinates") is the obfuscated datum that Chinese web maps (AMap,
Tencent) publish. The forward transform is the widely published open reimplementation
of the GCJ-02 offset: a polynomial-plus-sines shift in metres, scaled to degrees on the
Krasovsky 1940 ellipsoid (a = 6378245.0 m, e² = 0.00669342162296594323); see for
example the ``eviltransform`` (googollee) and ``coordTransform`` (wandergis) projects.
The inverse has no closed form; :func:`gcj02_to_wgs84` solves it by fixed-point
iteration, which converges to below a millimetre in a few steps because the offset
changes slowly in space.

BD-09 is Baidu Maps' datum: a second obfuscation on top of GCJ-02 (a small rotation
and scaling about the origin, then a shift of 0.0065° / 0.006°), as published in the
same open reimplementations (``coordTransform``: ``gcj02tobd09``). Its usual inverse
(``bd09togcj02``) is again a one-step approximation; :func:`bd09_to_gcj02` iterates
it to the exact inverse, and :func:`bd09_to_wgs84` chains it with
:func:`gcj02_to_wgs84`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS

__all__ = [
    "CHINA_BBOX",
    "CRSKind",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "cgcs2000_gk_crs",
    "choose_working_crs",
    "crs_kind",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china_bbox",
    "is_cgcs2000",
    "utm_crs",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

logger = logging.getLogger(__name__)

_A = 6378245.0
"""Semi-major axis of the Krasovsky 1940 ellipsoid (m), as used by GCJ-02."""
_EE = 0.00669342162296594323
"""First eccentricity squared of the Krasovsky 1940 ellipsoid."""

CHINA_BBOX: tuple[float, float, float, float] = (72.004, 0.8293, 137.8347, 55.8271)
"""(min lon, min lat, max lon, max lat) outside which GCJ-02 applies no offset."""

CRSKind = Literal["geographic", "projected_m", "projected_other"]


def in_china_bbox(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points fall in the rectangle where the GCJ-02 offset applies.

    Parameters
    ----------
    lon, lat
        Longitude and latitude in degrees.

    Returns
    -------
    numpy.ndarray
        Boolean array, True inside :data:`CHINA_BBOX`.
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    x0, y0, x1, y1 = CHINA_BBOX
    return np.asarray((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))


def _offset_lat(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _offset_lon(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj02_delta(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 minus WGS84, in degrees, at WGS84 points (no China test)."""
    dlat = _offset_lat(lon - 105.0, lat - 35.0)
    dlon = _offset_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS84 longitude/latitude to GCJ-02 (the forward transform).

    Points outside China's bounding box (:data:`CHINA_BBOX`) are returned unchanged,
    as the standard does.

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude in degrees (scalars or arrays of one shape).

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude in degrees.

    Notes
    -----
    The published open reimplementation of GCJ-02 (Krasovsky 1940 constants
    a = 6378245.0, e² = 0.00669342162296594323), as in ``eviltransform``.
    """
    x = np.array(lon, dtype=float, copy=True)
    y = np.array(lat, dtype=float, copy=True)
    x, y = np.broadcast_arrays(x, y)
    x = x.copy()
    y = y.copy()
    inside = in_china_bbox(x, y)
    if inside.any():
        dlon, dlat = _gcj02_delta(x[inside], y[inside])
        x[inside] += dlon
        y[inside] += dlat
    return x, y


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-10, max_iter: int = 20
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 longitude/latitude to WGS84 (exact iterative inverse).

    Starting from the GCJ-02 point, repeat ``w <- w - (forward(w) - g)`` until the
    correction is below ``tol_deg`` (1e-10° is about 0.01 mm). Three or four
    iterations reach millimetres; the one-step inverse that many tools use (``2g -
    forward(g)``) is the first iterate and is off by up to a few metres.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees.
    tol_deg
        Stop when every point moved less than this in one iteration (degrees).
    max_iter
        Upper bound on iterations.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitude and latitude in degrees. Points outside China's bounding box
        are returned unchanged.
    """
    gx = np.array(lon, dtype=float, copy=True)
    gy = np.array(lat, dtype=float, copy=True)
    gx, gy = np.broadcast_arrays(gx, gy)
    wx = gx.copy()
    wy = gy.copy()
    inside = in_china_bbox(gx, gy)
    if not inside.any():
        return wx, wy
    tx = gx[inside]
    ty = gy[inside]

    def forward(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[
        NDArray[np.float64], NDArray[np.float64]
    ]:
        dlon, dlat = _gcj02_delta(x, y)
        return x + dlon, y + dlat

    wx[inside], wy[inside] = _fixed_point_inverse(forward, tx, ty, tx.copy(), ty.copy(),
                                                  tol_deg=tol_deg, max_iter=max_iter)
    return wx, wy


def _fixed_point_inverse(
    forward: Callable[[NDArray[np.float64], NDArray[np.float64]],
                      tuple[NDArray[np.float64], NDArray[np.float64]]],
    tx: NDArray[np.float64],
    ty: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    *,
    tol_deg: float,
    max_iter: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Solve ``forward(x, y) = (tx, ty)`` by ``p <- p - (forward(p) - t)`` from ``(x, y)``.

    Converges when ``forward`` is the identity plus a slowly varying offset (GCJ-02,
    BD-09); stops when every correction is below ``tol_deg`` or after ``max_iter``.
    """
    for _ in range(max_iter):
        fx, fy = forward(x, y)
        ex = fx - tx
        ey = fy - ty
        x = x - ex
        y = y - ey
        if np.all(np.abs(ex) < tol_deg) and np.all(np.abs(ey) < tol_deg):
            break
    return x, y


_X_PI = np.pi * 3000.0 / 180.0
"""Angular factor of the BD-09 rotation and scaling terms."""
_BD_SHIFT = (0.0065, 0.006)
"""BD-09 minus the rotated GCJ-02 point, in degrees (longitude, latitude)."""


def gcj02_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 longitude/latitude to Baidu BD-09 (the forward transform).

    ``z = r + 2e-5 sin(y·π·3000/180)``, ``θ = atan2(y, x) + 3e-6 cos(x·π·3000/180)``,
    BD-09 = ``(z cos θ + 0.0065, z sin θ + 0.006)``, with ``r`` and ``atan2`` taken on
    the GCJ-02 degrees themselves: the published open reimplementation (for example
    ``coordTransform``, wandergis). It applies everywhere (no China test).

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitude and latitude in degrees.
    """
    x, y = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(lon, lat))
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + _BD_SHIFT[0], z * np.sin(theta) + _BD_SHIFT[1]


def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-12, max_iter: int = 20
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert BD-09 longitude/latitude to GCJ-02 (exact iterative inverse).

    Starts from the usual one-step inverse (``bd09togcj02``: the forward terms
    subtracted at the BD-09 point, off by up to about 1e-7°) and repeats
    ``g <- g - (forward(g) - b)`` until the correction is below ``tol_deg``.

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude in degrees.
    tol_deg
        Stop when every point moved less than this in one iteration (degrees).
    max_iter
        Upper bound on iterations.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude in degrees.
    """
    bx, by = (np.array(v, dtype=float) for v in np.broadcast_arrays(lon, lat))
    x = bx - _BD_SHIFT[0]
    y = by - _BD_SHIFT[1]
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _fixed_point_inverse(gcj02_to_bd09, bx, by, z * np.cos(theta), z * np.sin(theta),
                                tol_deg=tol_deg, max_iter=max_iter)


def wgs84_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS84 longitude/latitude to BD-09 (WGS84 → GCJ-02 → BD-09).

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitude and latitude in degrees.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert BD-09 longitude/latitude to WGS84 (BD-09 → GCJ-02 → WGS84, both exact).

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude in degrees (Baidu Maps).

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitude and latitude in degrees.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def crs_kind(crs: CRS | str | int) -> CRSKind:
    """Tell whether a CRS is geographic, projected in metres, or projected in other units.

    Parameters
    ----------
    crs
        Anything :meth:`pyproj.CRS.from_user_input` accepts.

    Returns
    -------
    str
        ``"geographic"``, ``"projected_m"`` or ``"projected_other"``.
    """
    crs = CRS.from_user_input(crs)
    if crs.is_geographic:
        return "geographic"
    units = {axis.unit_name for axis in crs.axis_info}
    if units and units <= {"metre", "meter", "m"}:
        return "projected_m"
    return "projected_other"


def is_cgcs2000(crs: CRS | str | int | None) -> bool:
    """Whether a CRS is CGCS2000 (EPSG:4490) or a projection based on it."""
    if crs is None:
        return False
    crs = CRS.from_user_input(crs)
    geodetic = crs.geodetic_crs
    if geodetic is None:
        return False
    if geodetic.to_epsg() == 4490:
        return True
    datum = geodetic.datum
    names = ("China 2000", "China Geodetic Coordinate System 2000")
    return datum is not None and datum.name in names


def utm_crs(lon: float, lat: float) -> CRS:
    """Return the WGS84 UTM zone CRS (EPSG:326xx north, 327xx south) holding a point.

    Zone ``floor((lon + 180) / 6) + 1``; the Norway and Svalbard exceptions do not
    touch China and are ignored.
    """
    zone = math.floor((lon + 180.0) / 6.0) + 1
    zone = min(max(zone, 1), 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def cgcs2000_gk_crs(lon: float) -> CRS:
    """Return the CGCS2000 3-degree Gauss–Krüger CRS whose central meridian is nearest ``lon``.

    EPSG:4534 (CM 75°E) to EPSG:4554 (CM 135°E), easting without zone prefix
    (false easting 500 km). A longitude exactly halfway between two central
    meridians goes to the eastern zone (zone *n* spans CM − 1.5° ≤ lon < CM + 1.5°).

    Raises
    ------
    ValueError
        When ``lon`` is outside 73.5°E–136.5°E, where these zones are defined.
    """
    if not 73.5 <= lon <= 136.5:
        msg = f"longitude {lon:.3f} is outside the CGCS2000 3-degree zones (73.5°E–136.5°E)"
        raise ValueError(msg)
    cm = 3 * math.floor((lon + 1.5) / 3.0)
    cm = min(max(cm, 75), 135)
    return CRS.from_epsg(4534 + (cm - 75) // 3)


def choose_working_crs(lon: float, lat: float, *, cgcs2000: bool) -> CRS:
    """Choose the metric working CRS for a region centred at (lon, lat).

    Parameters
    ----------
    lon, lat
        Region centroid in degrees (WGS84 or CGCS2000; they differ by under a metre).
    cgcs2000
        True when the inputs are CGCS2000 (EPSG:4490 or a CGCS2000 projection):
        the CGCS2000 3-degree Gauss–Krüger zone is chosen, as Chinese surveying and
        planning data use it; otherwise the WGS84 UTM zone.

    Returns
    -------
    pyproj.CRS
        A projected CRS in metres.
    """
    use_gk = cgcs2000 and 73.5 <= lon <= 136.5
    crs = cgcs2000_gk_crs(lon) if use_gk else utm_crs(lon, lat)
    logger.debug("working CRS for centroid (%.4f, %.4f): %s", lon, lat, crs.name)
    return crs
