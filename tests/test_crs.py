"""Tests for contigmap.crs: GCJ-02 conversion, working-CRS choice, CRS kinds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import CRS, Geod

from contigmap.crs import (
    cgcs2000_gk_crs,
    choose_working_crs,
    crs_kind,
    gcj02_to_wgs84,
    is_cgcs2000,
    utm_crs,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")

# Published test vectors of eviltransform (googollee/eviltransform, test files of its
# Go/Python/Ruby ports): (wgs lat, wgs lon) -> (gcj lat, gcj lon).
EVILTRANSFORM_VECTORS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]

# Vertices copied from the shared reference data (/work/shared/data/china/):
# target_counties_gcj02.gpkg (AMap-derived, GCJ-02) and the same vertex in
# target_counties_wgs84.gpkg, which its README says was made with the standard inverse.
# (adcode, gcj lon, gcj lat, wgs lon, wgs lat)
COUNTY_VERTICES = [
    ("433124", 109.342059, 28.178808, 109.33731364621664, 28.182091962304337),  # 花垣县
    ("433124", 109.343956, 28.558152, 109.33917948378648, 28.56136431934794),
    ("500242", 109.053189, 29.402725, 109.04850330310788, 29.405341466825337),  # 酉阳县
    ("500242", 108.597927, 28.453701, 108.59389238899331, 28.457260478737805),
    ("422828", 110.631796, 29.757746, 110.62698595022073, 29.76052192772915),  # 鹤峰县
    ("422828", 109.949622, 30.070463, 109.94492372124814, 30.073212158595727),
    ("530627", 105.305702, 27.707915, 105.30241438484816, 27.711245816295005),  # 镇雄县
    ("530627", 104.44025, 27.484368, 104.43774054895347, 27.487591657343444),
]


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_VECTORS)
def test_forward_matches_published_vectors(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    lon, lat = wgs84_to_gcj02(wgs[1], wgs[0])
    assert float(lon) == pytest.approx(gcj[1], abs=1e-9)
    assert float(lat) == pytest.approx(gcj[0], abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_VECTORS)
def test_inverse_recovers_published_vectors(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    lon, lat = gcj02_to_wgs84(gcj[1], gcj[0])
    _, _, err_m = GEOD.inv(float(lon), float(lat), wgs[1], wgs[0])
    assert err_m < 0.001


def test_round_trip_on_grid_over_china() -> None:
    lon, lat = np.meshgrid(np.linspace(74.0, 134.0, 31), np.linspace(18.5, 53.0, 24))
    glon, glat = wgs84_to_gcj02(lon, lat)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert np.abs(wlon - lon).max() < 1e-7
    assert np.abs(wlat - lat).max() < 1e-7
    # and the other way round
    g2lon, g2lat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert np.abs(g2lon - lon).max() < 1e-7
    assert np.abs(g2lat - lat).max() < 1e-7


def test_offset_in_hunan_is_hundreds_of_metres() -> None:
    # 花垣县 county seat, roughly 109.48E 28.58N
    glon, glat = wgs84_to_gcj02(109.48, 28.58)
    _, _, offset_m = GEOD.inv(109.48, 28.58, float(glon), float(glat))
    assert 300 < offset_m < 800


def test_one_step_inverse_is_worse_than_iterative() -> None:
    g = np.array([109.342059]), np.array([28.178808])
    flon, flat = wgs84_to_gcj02(*g)
    one_lon, one_lat = 2 * g[0] - flon, 2 * g[1] - flat
    exact_lon, exact_lat = gcj02_to_wgs84(*g)
    # the exact answer maps forward onto the input; the one-step answer does not
    back_lon, back_lat = wgs84_to_gcj02(exact_lon, exact_lat)
    assert abs(back_lon[0] - g[0][0]) < 1e-9
    assert abs(back_lat[0] - g[1][0]) < 1e-9
    _, _, one_step_err_m = GEOD.inv(one_lon[0], one_lat[0], exact_lon[0], exact_lat[0])
    assert 0.001 < one_step_err_m < 5


def test_points_outside_china_untouched() -> None:
    lon = np.array([-104.9903, 2.35, 150.0, 100.0])
    lat = np.array([39.7392, 48.85, -33.0, 60.0])
    for func in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = func(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_inputs_not_modified_and_scalars_work() -> None:
    lon = np.array([109.5, 110.0])
    lat = np.array([28.5, 29.0])
    wgs84_to_gcj02(lon, lat)
    gcj02_to_wgs84(lon, lat)
    np.testing.assert_array_equal(lon, [109.5, 110.0])
    out_lon, _ = gcj02_to_wgs84(109.5, 28.5)
    assert out_lon.shape == ()


@pytest.mark.parametrize(("adcode", "glon", "glat", "wlon", "wlat"), COUNTY_VERTICES)
def test_inverse_matches_shared_wgs84_counties(
    adcode: str, glon: float, glat: float, wlon: float, wlat: float
) -> None:
    lon, lat = gcj02_to_wgs84(np.array([glon]), np.array([glat]))
    _, _, err_m = GEOD.inv(lon[0], lat[0], wlon, wlat)
    assert err_m < 0.01, adcode


def test_utm_zone_by_hand() -> None:
    # zone = floor((lon + 180) / 6) + 1
    assert utm_crs(109.5, 28.5).to_epsg() == 32649  # 花垣: floor(289.5 / 6) + 1 = 49
    assert utm_crs(104.5, 27.6).to_epsg() == 32648  # 镇雄: floor(284.5 / 6) + 1 = 48
    assert utm_crs(108.0, 28.0).to_epsg() == 32649  # boundary 108E starts zone 49
    assert utm_crs(-70.0, -33.0).to_epsg() == 32719


def test_cgcs2000_gk_zone_by_hand() -> None:
    # central meridian nearest the longitude; EPSG:4534 is CM 75E, one code per 3 degrees
    cases = {109.45: 108, 109.6: 111, 104.5: 105, 75.2: 75, 134.9: 135, 112.0: 111}
    for lon, cm in cases.items():
        crs = cgcs2000_gk_crs(lon)
        assert crs.to_epsg() == 4534 + (cm - 75) // 3
        assert f"CM {cm}E" in crs.name
        assert is_cgcs2000(crs)
    with pytest.raises(ValueError, match="outside the CGCS2000 3-degree zones"):
        cgcs2000_gk_crs(60.0)


def test_choose_working_crs_huayuan() -> None:
    utm = choose_working_crs(109.5, 28.5, cgcs2000=False)
    assert utm.to_epsg() == 32649
    gk = choose_working_crs(109.45, 28.5, cgcs2000=True)
    assert gk.to_epsg() == 4534 + (108 - 75) // 3  # EPSG:4545, CM 108E
    # 109.5 lies half-way between CM 108 and CM 111: the eastern zone takes it
    assert choose_working_crs(109.5, 28.5, cgcs2000=True).to_epsg() == 4546
    for crs in (utm, gk):
        assert crs_kind(crs) == "projected_m"


def test_working_crs_distortion_small_over_county() -> None:
    # a 1 km east-west segment near the county edge keeps its length within 0.1 %
    crs = choose_working_crs(109.45, 28.5, cgcs2000=True)
    from pyproj import Transformer

    tr = Transformer.from_crs(4490, crs, always_xy=True)
    lon0, lat0 = 109.2, 28.4
    lon1, _, _ = GEOD.fwd(lon0, lat0, 90, 1000.0)
    (x0, x1), (y0, y1) = tr.transform([lon0, lon1], [lat0, lat0])
    assert math.hypot(x1 - x0, y1 - y0) == pytest.approx(1000.0, rel=1e-3)


def test_crs_kind_and_cgcs2000() -> None:
    assert crs_kind("EPSG:4326") == "geographic"
    assert crs_kind(4490) == "geographic"
    assert crs_kind("EPSG:32649") == "projected_m"
    assert crs_kind("EPSG:2227") == "projected_other"  # California zone 3, US survey feet
    assert is_cgcs2000("EPSG:4490")
    assert is_cgcs2000(CRS.from_epsg(4545))
    assert not is_cgcs2000("EPSG:4326")
    assert not is_cgcs2000("EPSG:32649")
    assert not is_cgcs2000(None)
