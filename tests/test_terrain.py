from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import CRS, Geod

from contigmap.errors import CRSError
from contigmap.raster import Raster
from contigmap.terrain import cell_size_m, slope_deg, terrain_profile

UTM = CRS.from_epsg(32649)


def plane(gx: float, gy: float, res: float = 10.0, n: int = 20) -> Raster:
    """z = gx * x + gy * y at cell centres; x in [0, n*res], y in [0, n*res]."""
    cols = np.arange(n) + 0.5
    x = cols[None, :] * res
    y = n * res - cols[:, None] * res
    return Raster(gx * x + gy * y, Affine(res, 0, 0, 0, -res, n * res), UTM, "dem")


def test_slope_of_tilted_plane_everywhere() -> None:
    s = slope_deg(plane(0.1, 0.2))
    expected = math.degrees(math.atan(math.hypot(0.1, 0.2)))
    np.testing.assert_allclose(s.array, expected, rtol=1e-12)  # borders too (odd reflection)


def test_slope_of_flat_dem_and_nodata() -> None:
    dem = plane(0.0, 0.0)
    dem.array[5, 5] = np.nan
    s = slope_deg(dem).array
    assert np.isnan(s[4:7, 4:7]).all()
    assert np.nansum(s) == 0.0


def test_feet_are_converted() -> None:
    ft = CRS.from_epsg(2227)  # California zone 3, US survey feet
    dem = Raster(plane(0.1, 0.0).array, Affine(10, 0, 0, 0, -10, 200), ft, "dem")
    # z grows 1 m per 10 ft cell = 3.048 m -> gradient 1 / (10 * 0.3048006)
    s = slope_deg(dem).array
    assert s[10, 10] == pytest.approx(math.degrees(math.atan(1.0 / (10 * 1200 / 3937))), 1e-9)


def test_geographic_dem_cell_size_against_geodesic() -> None:
    res = 0.001
    lat0 = 30.0
    n = 10
    dem = Raster(np.zeros((n, n)), Affine(res, 0, 110.0, 0, -res, lat0 + n * res),
                 CRS.from_epsg(4326), "dem")
    dx, dy = cell_size_m(dem)
    geod = Geod(ellps="WGS84")
    lat = lat0 + (n - 0.5) * res  # centre of row 0
    _, _, ns = geod.inv(110.0, lat - res / 2, 110.0, lat + res / 2)
    _, _, ew = geod.inv(110.0, lat, 110.0 + res, lat)
    assert dy[0] == pytest.approx(ns, rel=1e-6)
    assert dx[0] == pytest.approx(ew, rel=1e-6)
    # a DEM rising 10 m per row southwards has slope atan(10 / dy)
    rising = Raster(np.repeat(np.arange(n, dtype=float)[:, None] * 10, n, axis=1),
                    dem.transform, dem.crs, "dem")
    s = slope_deg(rising).array
    assert s[0, 5] == pytest.approx(math.degrees(math.atan(10 / ns)), rel=1e-5)


def test_no_crs() -> None:
    dem = Raster(np.zeros((3, 3)), Affine(1, 0, 0, 0, -1, 3), None, "dem")  # type: ignore[arg-type]
    with pytest.raises(CRSError, match="no CRS"):
        slope_deg(dem)


def test_terrain_profile_on_plane() -> None:
    dem = plane(0.1, 0.2)
    pts = gpd.GeoSeries([shapely.Point(72, 131)], crs=UTM)
    zone = gpd.GeoSeries([shapely.box(50, 100, 100, 150)], crs=UTM)
    out = terrain_profile(pts, zone, dem).iloc[0]
    assert out["elevation_m"] == pytest.approx(0.1 * 72 + 0.2 * 131)
    # covered cell centres x 55..95, y 105..145
    assert out["relief_m"] == pytest.approx(0.1 * 40 + 0.2 * 40)
    assert out["elev_mean_m"] == pytest.approx(0.1 * 75 + 0.2 * 125)
    slope = math.degrees(math.atan(math.hypot(0.1, 0.2)))
    assert out["slope_mean_deg"] == pytest.approx(slope)
    assert out["slope_max_deg"] == pytest.approx(slope)
    assert out["slope_gt25_share"] == 0.0
