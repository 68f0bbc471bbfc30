"""Least-cost paths on tiny hand-made DEMs."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS

from contigmap.costpath import CostPathParams, least_cost_path
from contigmap.errors import NetworkError
from contigmap.raster import Raster

CRS_M = CRS.from_epsg(32649)


def _dem(z: list[list[float]], res: float = 10.0) -> Raster:
    return Raster(np.asarray(z, dtype=float), Affine(res, 0, 0, 0, -res, 0), CRS_M, "dem")


def _centre(r: int, c: int, res: float = 10.0) -> tuple[float, float]:
    return (c + 0.5) * res, -(r + 0.5) * res


def test_path_goes_round_a_wall() -> None:
    # a wall at column 2, rows 0-1; the only way round is through row 2
    dem = _dem([[0, 0, 1000, 0, 0], [0, 0, 1000, 0, 0], [0, 0, 0, 0, 0]])
    p = least_cost_path(dem, _centre(0, 0), [_centre(0, 4)], params=CostPathParams(margin_m=100))
    expected = np.array([_centre(0, 0), _centre(1, 1), _centre(2, 2), _centre(1, 3),
                         _centre(0, 4)])
    np.testing.assert_allclose(p.xy, expected)
    assert p.length_m == pytest.approx(4 * 10 * np.sqrt(2))
    assert p.cost == pytest.approx(4 * 10 * np.sqrt(2))  # flat moves cost their length
    assert p.target == 0


def test_grade_penalty_by_hand() -> None:
    dem = _dem([[0, 1, 2]])
    p = least_cost_path(dem, _centre(0, 0), [_centre(0, 2)])
    # two moves of 10 m at grade 0.1: 10 * (1 + (0.1 / 0.08)^2) each
    assert p.cost == pytest.approx(2 * 10 * (1 + (0.1 / 0.08) ** 2))
    assert p.length_m == pytest.approx(20.0)
    assert p.length_3d_m == pytest.approx(2 * np.hypot(10, 1))
    assert p.mean_grade_ratio == pytest.approx(0.1)


def test_nearest_target_wins() -> None:
    dem = _dem([[0] * 6])
    p = least_cost_path(dem, _centre(0, 2), [_centre(0, 5), _centre(0, 0)])
    assert p.target == 1
    assert p.length_m == pytest.approx(20.0)


def test_impassable_raises() -> None:
    dem = _dem([[0, 500, 0]])
    with pytest.raises(NetworkError, match="no passable route"):
        least_cost_path(dem, _centre(0, 0), [_centre(0, 2)])


def test_start_outside_raises() -> None:
    dem = _dem([[0, 0, 0]])
    with pytest.raises(NetworkError, match="outside the DEM"):
        least_cost_path(dem, (-50.0, -5.0), [_centre(0, 2)])
