"""Radio and TV to every household (广播电视户户通): terrestrial or satellite.

A household receives terrestrial digital TV (地面数字电视, DTMB) when its natural village
(hamlet, 自然村) sees a transmitter: a tower of the infrastructure ``towers`` layer within
``terrestrial_range_m`` whose line of sight to a receiving antenna ``antenna_m`` above the
hamlet clears the terrain (the DEM profile with the 4/3 effective earth radius and, with
``fresnel_clearance`` above 0, part of the first Fresnel zone at ``frequency_ghz``;
:func:`contigmap.priority.broadband.line_of_sight`, after ITU-R P.530); the
``max_towers`` nearest in range are tried, nearest first. It needs a DTMB
set-top box and antenna per household. Elsewhere it gets a direct-broadcast satellite kit
(直播卫星户户通: dish and receiver per household, ChinaSat 9 / 中星9号). Optical line of
sight is a conservative stand-in for a field-strength prediction (ITU-R P.1546): a hamlet
it leaves to satellite may in fact receive a weak terrestrial signal.

Options: ``terrestrial``, ``satellite`` (the least annualised cost of those available) and
``none`` (no households). Criteria (more = more need): ``no_terrestrial`` (1 without a
transmitter in range and in sight), ``tt_township``, ``poor_pop`` (hamlet people × its
village's incidence, an estimate), ``poverty_incidence``, ``households``.

It ranks natural villages like broadband; :func:`radio_tv_priorities` also ranks a village
table (``id_column="village_id"``) for regions without hamlets.
"""

from __future__ import annotations

import logging
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt
from scipy.spatial import cKDTree

from contigmap._strict import StrictModel
from contigmap.columns import ColumnInfo
from contigmap.errors import ValidationError
from contigmap.finance import crf
from contigmap.priority._common import assemble, fill_no_route, require, select_output
from contigmap.priority.broadband import CRITERIA as BROADBAND_CRITERIA
from contigmap.priority.broadband import line_of_sight
from contigmap.priority.intervention import (
    Intervention,
    InterventionConfig,
    Option,
    PriorityInputs,
)
from contigmap.priority.mcda import Criterion
from contigmap.raster import Raster

__all__ = ["CRITERIA", "INTERVENTION", "OPTIONS", "RadioTvConfig", "RadioTvCosts",
           "radio_tv_priorities", "terrestrial_cover"]

logger = logging.getLogger(__name__)

_SRC = "priority / radio_tv"
COLUMNS: tuple[ColumnInfo, ...] = (
    ColumnInfo("radio_tv_tower_id", "nearest transmitter in range with line of sight",
               "可视地面数字电视发射台", "", _SRC),
    ColumnInfo("radio_tv_no_terrestrial", "1 without a transmitter in range and in sight",
               "无地面数字电视覆盖", "0/1", _SRC),
    ColumnInfo("radio_tv_households", "households equipped (set-top box or dish kit)",
               "户户通设备户数", "households", _SRC),
)
"""Its own columns (the common ``radio_tv_*`` ones come from the registry)."""

OPTIONS: tuple[Option, ...] = (
    Option("terrestrial", "地面数字电视", "terrestrial digital TV (DTMB)"),
    Option("satellite", "直播卫星户户通", "direct-broadcast satellite kit"),
    Option("none", "无需工程", "none needed"),
)


class RadioTvCosts(StrictModel):
    """Radio and TV cost and coverage parameters (see the YAML for sources)."""

    terrestrial_range_m: PositiveFloat
    antenna_m: PositiveFloat
    tower_height_m: PositiveFloat
    frequency_ghz: PositiveFloat
    fresnel_clearance: float = Field(ge=0, le=1)
    los_step_m: PositiveFloat
    max_towers: PositiveInt = 8
    terrestrial_cny_per_household: PositiveFloat
    terrestrial_cny_per_household_year: NonNegativeFloat
    terrestrial_life_years: PositiveFloat
    satellite_cny_per_household: PositiveFloat
    satellite_cny_per_household_year: NonNegativeFloat
    satellite_life_years: PositiveFloat


class RadioTvConfig(InterventionConfig):
    """Radio and TV (广播电视户户通): the ``radio_tv`` section of ``priorities.yaml``."""

    costs: RadioTvCosts


_BB = {c.name: c for c in BROADBAND_CRITERIA}
CRITERIA: tuple[Criterion, ...] = (
    Criterion("no_terrestrial", "radio_tv_no_terrestrial",
              lambda r: "no TV transmitter in sight", lambda r: "无可视地面数字电视发射台",
              unit="0/1", label_en="no TV transmitter in range and in sight",
              label_zh="无地面数字电视覆盖"),
    _BB["tt_township"], _BB["poor_pop"], _BB["poverty_incidence"], _BB["households"],
)
"""Its criteria; the people and travel-time ones are broadband's (same hamlet table)."""


def terrestrial_cover(
    xy: NDArray[np.float64], towers: gpd.GeoDataFrame | None, dem: Raster | None,
    c: RadioTvCosts,
) -> NDArray[np.object_]:
    """Return the nearest transmitter in range and in sight of each point (``None``: none).

    The ``max_towers`` nearest towers within ``terrestrial_range_m`` (a k-d tree query)
    are checked nearest first, each only for the points no nearer tower covers: line of
    sight from its ``height_m`` (``tower_height_m`` when absent) to an antenna
    ``antenna_m`` above the point. Without towers or a DEM nothing is covered.
    """
    n = len(xy)
    out = np.full(n, None, dtype=object)
    if towers is None or not len(towers) or dem is None or not n:
        return out
    txy = np.column_stack([towers.geometry.x.to_numpy(float), towers.geometry.y.to_numpy(float)])
    th = (pd.to_numeric(towers["height_m"], errors="coerce").fillna(c.tower_height_m)
          .to_numpy(float) if "height_m" in towers else np.full(len(towers), c.tower_height_m))
    tids = (np.asarray(towers["tower_id"], dtype=object) if "tower_id" in towers
            else np.arange(len(towers)).astype(object))
    k = min(c.max_towers, len(towers))
    dq, jq = cKDTree(txy).query(xy, k=k, distance_upper_bound=c.terrestrial_range_m)
    dq, jq = np.asarray(dq).reshape(n, k), np.asarray(jq).reshape(n, k)
    done = np.zeros(n, bool)
    for col in range(k):
        todo = np.flatnonzero(np.isfinite(dq[:, col]) & ~done)
        if not todo.size:
            continue
        tj = jq[todo, col].astype(np.int64)
        clear, _ = line_of_sight(dem, txy[tj], th[tj], xy[todo], c.antenna_m,
                                 step_m=c.los_step_m, frequency_ghz=c.frequency_ghz,
                                 clearance=c.fresnel_clearance)
        out[todo[clear]] = tids[tj[clear]]
        done[todo[clear]] = True
    return out


def radio_tv_priorities(
    units: gpd.GeoDataFrame, towers: gpd.GeoDataFrame | None, config: RadioTvConfig, *,
    dem: Raster | None, rate: float, id_column: str = "hamlet_id",
) -> pd.DataFrame:
    """Terrestrial or satellite TV per hamlet (or village), with need, rank, tier and reasons.

    Parameters
    ----------
    units
        Hamlets (or villages) with ``pop``, ``households``, ``poverty_incidence`` and
        ``tt_own_township_seat_min``, in the working CRS.
    towers
        Transmitter sites (``tower_id``, optional ``height_m``); none: satellite only.
    config
        The ``radio_tv`` section of the priority configuration.
    dem
        Elevation for line of sight; without it every unit is left to satellite.
    rate
        Discount rate.
    id_column
        ``hamlet_id`` or ``village_id``.

    Returns
    -------
    pandas.DataFrame
        The ids and the ``radio_tv_*`` columns.
    """
    require(units, [id_column, "pop", "households", "poverty_incidence",
                    "tt_own_township_seat_min"], "radio_tv",
            "join the village poverty profile and run the network access measures")
    c = config.costs
    pts = units.geometry.representative_point()
    xy = np.column_stack([pts.x.to_numpy(float), pts.y.to_numpy(float)])
    tower = terrestrial_cover(xy, towers, dem, c)
    covered = np.array([t is not None for t in tower], dtype=bool)
    hh = pd.to_numeric(units["households"], errors="coerce").fillna(0.0).to_numpy(float)
    ter_capex = hh * c.terrestrial_cny_per_household
    ter_annual = np.where(covered, ter_capex * crf(rate, c.terrestrial_life_years)
                          + hh * c.terrestrial_cny_per_household_year, np.inf)
    sat_capex = hh * c.satellite_cny_per_household
    sat_annual = (sat_capex * crf(rate, c.satellite_life_years)
                  + hh * c.satellite_cny_per_household_year)
    terrestrial = ter_annual <= sat_annual
    opt = np.where(hh <= 0, "none", np.where(terrestrial, "terrestrial", "satellite"))
    t = pd.DataFrame(units.drop(columns="geometry")).copy()
    t["poor_pop"] = t["pop"].to_numpy(float) * t["poverty_incidence"].to_numpy(float)
    t["tt_own_township_seat_min"], _ = fill_no_route(t["tt_own_township_seat_min"])
    t["radio_tv_tower_id"] = tower
    t["radio_tv_no_terrestrial"] = (~covered).astype(float)
    t["radio_tv_households"] = np.where(opt == "none", 0.0, hh)
    t["radio_tv_option"] = opt
    t["radio_tv_capex_cny"] = np.round(np.where(terrestrial, ter_capex, sat_capex), 0)
    t["radio_tv_annualised_cny"] = np.round(np.where(terrestrial, ter_annual, sat_annual), 0)
    t["radio_tv_beneficiaries"] = np.where(opt == "none", 0.0, t["pop"].to_numpy(float))
    t["radio_tv_poor_beneficiaries"] = np.where(opt == "none", 0.0,
                                                np.round(t["poor_pop"].to_numpy(float), 1))
    out = assemble(t, "radio_tv", CRITERIA, config, id_column=id_column, options=OPTIONS)
    logger.info("radio_tv: %s", out["radio_tv_option"].value_counts().to_dict())
    ids = [id_column, "village_id"] if id_column != "village_id" else [id_column]
    return select_output(out, "radio_tv", [c for c in ids if c in out.columns], CRITERIA)


def _compute(inputs: PriorityInputs, config: InterventionConfig, rate: float) -> pd.DataFrame:
    """:func:`radio_tv_priorities` from the stage's inputs (the registry's ``compute``)."""
    if inputs.hamlets is None:
        msg = "radio_tv: no hamlets; radio and TV target natural villages (自然村)"
        raise ValidationError(msg)
    return radio_tv_priorities(inputs.hamlets, inputs.infrastructure.get("towers"),
                               cast(RadioTvConfig, config), dem=inputs.dem, rate=rate)


INTERVENTION = Intervention(
    name="radio_tv", label_zh="广播电视户户通", label_en="radio and TV", unit="hamlet",
    options=OPTIONS, config_model=RadioTvConfig, compute=_compute, criteria=CRITERIA,
    columns=COLUMNS, in_place=False,
)
"""This intervention, as :mod:`contigmap.priority.registry` lists it."""
