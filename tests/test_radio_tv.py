"""Radio and TV (广播电视户户通): transmitter line of sight on a hand-made DEM, costs by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from pyproj import CRS
from shapely.geometry import Point

from contigmap.finance import crf
from contigmap.priority import load_priority_config, registry
from contigmap.priority.radio_tv import RadioTvConfig, radio_tv_priorities, terrestrial_cover
from contigmap.raster import Raster

CRS_M = CRS.from_epsg(32649)
R = 0.08


def _cfg() -> RadioTvConfig:
    cfg = load_priority_config().radio_tv
    assert isinstance(cfg, RadioTvConfig)
    return cfg


def _dem() -> Raster:
    """Flat ground 0-3 km east, with a 300 m ridge 1,990-2,020 m east of the origin."""
    z = np.zeros((5, 301))
    z[:, 199:202] = 300.0
    return Raster(z, Affine(10, 0, 0, 0, -10, 50), CRS_M, "dem")


def _towers() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"tower_id": ["T1"], "height_m": [40.0]},
                            geometry=[Point(5.0, 25.0)], crs=CRS_M)


def _hamlets() -> gpd.GeoDataFrame:
    # h1 before the ridge (in sight), h2 behind it (hidden), h3 beyond the range
    xy = [(1005.0, 25.0), (2505.0, 25.0), (1005.0, 25.0)]
    return gpd.GeoDataFrame(
        {"hamlet_id": ["h1", "h2", "h3"], "village_id": ["v1", "v1", "v2"],
         "pop": [100.0, 100.0, 100.0], "households": [30.0, 30.0, 0.0],
         "poverty_incidence": [0.2, 0.2, 0.2], "tt_own_township_seat_min": [20.0, 20.0, 20.0]},
        geometry=[Point(p) for p in xy], crs=CRS_M)


def test_cover_follows_the_ridge() -> None:
    c = _cfg().costs
    xy = np.array([[1005.0, 25.0], [2505.0, 25.0], [1990.0 - 20.0, 25.0]])
    got = terrestrial_cover(xy, _towers(), _dem(), c)
    # 40 m mast at x=5 to a 6 m antenna at x=1,970: the ray is 6.4 m high there and clears
    # flat ground; behind the 300 m ridge it cannot
    assert list(got) == ["T1", None, "T1"]
    short = c.model_copy(update={"terrestrial_range_m": 900.0})
    assert list(terrestrial_cover(xy, _towers(), _dem(), short)) == [None, None, None]
    assert list(terrestrial_cover(xy, _towers(), None, c)) == [None, None, None]


def test_a_farther_tower_in_sight_covers() -> None:
    c = _cfg().costs
    towers = gpd.GeoDataFrame({"tower_id": ["near", "far"]},
                              geometry=[Point(2995.0, 25.0), Point(5.0, 25.0)], crs=CRS_M)
    # 1,195 m from "near", hidden behind the ridge; 1,795 m from "far", in sight
    xy = np.array([[1800.0, 25.0]])
    assert list(terrestrial_cover(xy, towers, _dem(), c)) == ["far"]
    one = c.model_copy(update={"max_towers": 1})
    assert list(terrestrial_cover(xy, towers, _dem(), one)) == [None]


def test_options_and_costs_by_hand() -> None:
    cfg = _cfg()
    c = cfg.costs
    out = radio_tv_priorities(_hamlets(), _towers(), cfg, dem=_dem(), rate=R).set_index(
        "hamlet_id")
    assert out.loc["h1", "radio_tv_option"] == "terrestrial"
    assert out.loc["h1", "radio_tv_tower_id"] == "T1"
    ter = 30 * c.terrestrial_cny_per_household
    assert out.loc["h1", "radio_tv_capex_cny"] == pytest.approx(ter)
    want = (30 * c.terrestrial_cny_per_household * crf(R, c.terrestrial_life_years)
            + 30 * c.terrestrial_cny_per_household_year)
    assert out.loc["h1", "radio_tv_annualised_cny"] == pytest.approx(want, abs=0.5)
    assert out.loc["h2", "radio_tv_option"] == "satellite"
    assert out.loc["h2", "radio_tv_no_terrestrial"] == 1.0
    assert out.loc["h2", "radio_tv_capex_cny"] == pytest.approx(30 * c.satellite_cny_per_household)
    assert out.loc["h3", "radio_tv_option"] == "none"
    assert out.loc["h3", "radio_tv_capex_cny"] == 0
    # the hidden hamlet, otherwise the same as the one in sight, ranks higher
    assert out.loc["h2", "radio_tv_rank"] < out.loc["h1", "radio_tv_rank"]
    assert "no TV transmitter in sight" in out.loc["h2", "radio_tv_reasons"]


def test_satellite_wins_when_terrestrial_costs_more() -> None:
    cfg = _cfg()
    dear = cfg.model_copy(update={"costs": cfg.costs.model_copy(
        update={"terrestrial_cny_per_household": 10 * cfg.costs.satellite_cny_per_household})})
    out = radio_tv_priorities(_hamlets(), _towers(), dear, dem=_dem(), rate=R)
    assert (out.set_index("hamlet_id").loc[["h1", "h2"], "radio_tv_option"] == "satellite").all()


def test_village_level_without_hamlets() -> None:
    v = _hamlets().drop(columns="village_id").rename(columns={"hamlet_id": "village_id"})
    out = radio_tv_priorities(v, _towers(), _cfg(), dem=_dem(), rate=R,
                              id_column="village_id")
    assert list(out["village_id"]) == ["h1", "h2", "h3"]
    assert list(out["radio_tv_option"]) == ["terrestrial", "satellite", "none"]


def test_registered_at_hamlet_level() -> None:
    iv = registry.get("radio_tv")
    assert iv.unit == "hamlet" and iv.label_zh == "广播电视户户通"
    assert [o.key for o in iv.options] == ["terrestrial", "satellite", "none"]
