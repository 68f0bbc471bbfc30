"""Compulsory education (义务教育): school-age children, time to school, and the answer.

Compulsory education is one of the 三保障 a village must meet to leave poverty: no child
drops out for want of a school in reach. Per village this ranks:

* children of school age (6-14): a village column ``school_age_children`` when the data
  give one (counted from registry members by age), else ``pop × children_share``, the
  share of ages 6-14 in the 2020 census (第七次全国人口普查; about 11.5 %: 4/5 of the
  5-9 group plus the 10-14 group — check it against the county's census table). The
  column ``schooling_children_source`` says which (``villages`` or ``census_share``);
* walking and travel times to the nearest primary and lower-secondary school
  (:mod:`contigmap.network.facilities`; a ``school`` counts as primary unless its name
  says 中学/初中), capacity-aware access (E2SFCA places per child, when the services
  give ``capacity``) and the siting of ``siting_k`` new primary schools (``schooling_sited``).

Options for the pupils beyond ``primary_walk_max_min`` (primary) or
``middle_walk_max_min`` (lower secondary) on foot: ``teaching_point`` (教学点 for grades
1-3, the older pupils boarding; where at least ``teaching_point_min_pupils`` such pupils
live or no bus can reach the school: 国务院办公厅《关于规范农村义务教育学校布局调整的意见》
国办发〔2012〕48号 keeps and restores necessary teaching points and has grades 1-3 not
board), ``school_bus`` (when the school is within ``bus_max_min`` by vehicle),
``boarding`` (寄宿制: places plus the living allowance of poor boarders; only when no
primary pupil is far, since grades 1-3 do not board); the least annualised cost wins;
``none`` when every pupil walks. Like health, not counted in relocation's in-place cost.
"""

from __future__ import annotations

import logging
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import Field, NonNegativeFloat, PositiveFloat

from contigmap._strict import StrictModel
from contigmap.columns import ColumnInfo
from contigmap.errors import warn_data
from contigmap.finance import crf
from contigmap.network import RoadGraph
from contigmap.network.facilities import capacity_of, e2sfca, facility_access
from contigmap.priority._common import (
    VILLAGE_PEOPLE_CRITERIA,
    assemble,
    main_cause,
    no_poor_no_cause,
    select_output,
)
from contigmap.priority.health import FacilitySettings, facility_inputs, finite_minutes, sited
from contigmap.priority.intervention import (
    Intervention,
    InterventionConfig,
    Option,
    PriorityInputs,
)
from contigmap.priority.mcda import Criterion

__all__ = ["CRITERIA", "INTERVENTION", "OPTIONS", "SchoolingConfig", "SchoolingCosts",
           "schooling_options", "schooling_priorities"]

logger = logging.getLogger(__name__)

_SRC = "priority / schooling"
COLUMNS: tuple[ColumnInfo, ...] = (
    ColumnInfo("schooling_children", "children of school age (6-14)", "义务教育适龄儿童",
               "people", _SRC),
    ColumnInfo("schooling_children_source", "where the children count comes from: villages "
               "(a school_age_children column) or census_share (pop x children_share)",
               "适龄儿童数来源", "", _SRC),
    ColumnInfo("schooling_primary_min", "travel time to the nearest primary school",
               "到最近小学时间", "min", _SRC),
    ColumnInfo("schooling_primary_walk_min", "walking time to the nearest primary school",
               "到最近小学步行时间", "min", _SRC),
    ColumnInfo("schooling_middle_min", "travel time to the nearest lower-secondary school",
               "到最近初中时间", "min", _SRC),
    ColumnInfo("schooling_middle_walk_min", "walking time to the nearest lower-secondary "
               "school", "到最近初中步行时间", "min", _SRC),
    ColumnInfo("schooling_far_pupils", "pupils beyond walking distance of their school "
               "(primary and lower secondary)", "超出步行上学范围的学生", "people", _SRC),
    ColumnInfo("schooling_e2sfca_places", "E2SFCA primary-school places per child within "
               "the catchment (nan without capacities)", "小学学位可及性（E2SFCA）",
               "places/child", _SRC),
    ColumnInfo("schooling_sited", "chosen by the maximal-covering siting of siting_k new "
               "primary schools", "新建小学选址入选", "bool", _SRC),
)
"""Its own columns (the common ``schooling_*`` ones come from the registry)."""

OPTIONS: tuple[Option, ...] = (
    Option("teaching_point", "教学点", "teaching point (lower primary grades)"),
    Option("boarding", "寄宿制", "boarding places"),
    Option("school_bus", "校车", "school bus"),
    Option("none", "无需工程", "none needed"),
)


class SchoolingCosts(StrictModel):
    """School access cost parameters (see the YAML for sources)."""

    teaching_point_cny: PositiveFloat
    teacher_cny_per_year: PositiveFloat
    pupils_per_teacher: PositiveFloat
    boarding_cny_per_place: PositiveFloat
    boarding_allowance_primary_cny_year: NonNegativeFloat
    boarding_allowance_middle_cny_year: NonNegativeFloat
    bus_cny: PositiveFloat
    bus_operating_cny_per_year: PositiveFloat
    bus_seats: PositiveFloat
    building_life_years: PositiveFloat
    bus_life_years: PositiveFloat
    om_share_per_year: NonNegativeFloat


class SchoolingConfig(InterventionConfig):
    """Compulsory education: the ``schooling`` section of ``priorities.yaml``."""

    children_share: float = Field(0.115, gt=0, lt=1)
    primary_walk_max_min: PositiveFloat = 40.0
    middle_walk_max_min: PositiveFloat = 60.0
    bus_max_min: PositiveFloat = 45.0
    teaching_point_min_pupils: PositiveFloat = 10.0
    access: FacilitySettings = Field(default_factory=FacilitySettings)
    costs: SchoolingCosts


CRITERIA: tuple[Criterion, ...] = (
    Criterion("tt_primary", "schooling_primary_walk_min",
              lambda r: f"{r['schooling_primary_walk_min']:.0f} min walk to a primary school",
              lambda r: f"步行到小学{r['schooling_primary_walk_min']:.0f}分钟",
              "needs a services layer", unit="min",
              label_en="walking time to the nearest primary school", label_zh="步行到小学时间"),
    Criterion("tt_middle", "schooling_middle_min",
              lambda r: f"{r['schooling_middle_min']:.0f} min to a lower-secondary school",
              lambda r: f"到初中{r['schooling_middle_min']:.0f}分钟", "needs a services layer",
              unit="min", label_en="time to the nearest lower-secondary school",
              label_zh="到初中时间"),
    Criterion("far_pupils", "schooling_far_pupils",
              lambda r: f"{r['schooling_far_pupils']:.0f} pupils beyond walking distance",
              lambda r: f"{r['schooling_far_pupils']:.0f}名学生超出步行上学范围",
              unit="people", label_en="pupils beyond walking distance",
              label_zh="超出步行范围学生"),
    Criterion("schooling_cause", "cause_schooling_share",
              lambda r: main_cause(r, "schooling")[0], lambda r: main_cause(r, "schooling")[1],
              "run the poverty stage first", unit="share 0-1",
              label_en="poor households poor from schooling costs", label_zh="因学致贫户占比"),
    *VILLAGE_PEOPLE_CRITERIA,
)


def schooling_options(
    primary: NDArray[np.float64], middle: NDArray[np.float64], poor_share: NDArray[np.float64],
    primary_far: NDArray[np.bool_], middle_far: NDArray[np.bool_],
    primary_bus_ok: NDArray[np.bool_], middle_bus_ok: NDArray[np.bool_],
    config: SchoolingConfig, *, rate: float,
) -> pd.DataFrame:
    """Cost of a teaching point, boarding and a school bus for the far pupils, and the cheapest.

    ``primary``/``middle`` are pupils per village, ``*_far`` whether their school is beyond
    walking time, ``*_bus_ok`` whether it is within ``bus_max_min`` by vehicle.

    Returns
    -------
    pandas.DataFrame
        ``far_pupils``, ``option``, ``capex_cny``, ``annualised_cny``.
    """
    c = config.costs
    far_p = np.where(primary_far, primary, 0.0)
    far_m = np.where(middle_far, middle, 0.0)
    far = far_p + far_m
    k_b, k_bus = crf(rate, c.building_life_years), crf(rate, c.bus_life_years)
    # grades 1-3 do not board (国办发〔2012〕48号): a teaching point keeps them near home,
    # grades 4-6 and lower-secondary pupils board
    lower = np.where(primary_far, primary / 2.0, 0.0)
    tp_ok = primary_far & ((lower >= config.teaching_point_min_pupils) | ~primary_bus_ok)
    board = far - lower
    tp_capex = c.teaching_point_cny + board * c.boarding_cny_per_place
    tp_annual = (tp_capex * (k_b + c.om_share_per_year)
                 + np.ceil(lower / c.pupils_per_teacher) * c.teacher_cny_per_year
                 + (far_p - lower) * poor_share * c.boarding_allowance_primary_cny_year
                 + far_m * poor_share * c.boarding_allowance_middle_cny_year)
    bo_capex = far * c.boarding_cny_per_place
    bo_annual = np.where(primary_far, np.inf,
                         bo_capex * (k_b + c.om_share_per_year)
                         + far_m * poor_share * c.boarding_allowance_middle_cny_year)
    buses = np.ceil(far / c.bus_seats)
    bus_ok = (~primary_far | primary_bus_ok) & (~middle_far | middle_bus_ok)
    bus_capex = buses * c.bus_cny
    bus_annual = bus_capex * k_bus + buses * c.bus_operating_cny_per_year
    annual = np.column_stack([np.where(tp_ok, tp_annual, np.inf), bo_annual,
                              np.where(bus_ok, bus_annual, np.inf)])
    capex = np.column_stack([tp_capex, bo_capex, bus_capex])
    best = np.argmin(annual, axis=1)
    rows = np.arange(far.size)
    names = np.array(["teaching_point", "boarding", "school_bus"], dtype=object)
    need = far > 0
    return pd.DataFrame({
        "far_pupils": far,
        "option": np.where(need, names[best], "none"),
        "capex_cny": np.where(need, capex[rows, best], 0.0),
        "annualised_cny": np.where(need, annual[rows, best], 0.0),
    })


def _children(villages: pd.DataFrame, share: float) -> tuple[NDArray[np.float64], str]:
    """Children of school age and where the count comes from."""
    if "school_age_children" in villages.columns:
        kids = pd.to_numeric(villages["school_age_children"], errors="coerce")
        if kids.notna().all():
            return kids.to_numpy(float), "villages"
    return np.round(villages["pop"].to_numpy(float) * share, 1), "census_share"


def schooling_priorities(
    villages: gpd.GeoDataFrame, services: gpd.GeoDataFrame | None, graph: RoadGraph,
    config: SchoolingConfig, *, rate: float,
) -> pd.DataFrame:
    """Least-cost answer for far pupils, need, rank, tier and reasons per village.

    Parameters
    ----------
    villages
        Village table in the working CRS (``village_id``, ``pop``, poverty columns,
        optionally ``school_age_children``).
    services
        Services with ``kind`` ``primary_school``/``middle_school`` (or ``school``) and,
        optionally, ``capacity`` (places).
    graph
        The road graph.
    config
        The ``schooling`` section of the priority configuration.
    rate
        Discount rate.

    Returns
    -------
    pandas.DataFrame
        ``village_id`` and the ``schooling_*`` columns.
    """
    vxy, sv, sxy = facility_inputs(villages, services, "schooling")
    s = config.access
    fa = facility_access(graph, vxy, sv, sxy, ("primary_school", "middle_school"),
                         cutoff=s.cutoff_min, season=s.season)
    kids, source = _children(villages, config.children_share)
    if source == "census_share":
        warn_data(f"schooling: the villages have no complete school_age_children column; "
                  f"children of school age estimated as pop x {config.children_share:g} "
                  f"(children_share: ages 6-14 in the 2020 census); see "
                  f"schooling_children_source", logger=logger)
    else:
        logger.info("schooling: school-age children from the villages' school_age_children")
    primary, middle = kids * 6.0 / 9.0, kids * 3.0 / 9.0
    t = no_poor_no_cause(pd.DataFrame(villages.drop(columns="geometry")))
    pop = villages["pop"].to_numpy(float)
    poor = (pd.to_numeric(t["poor_pop"], errors="coerce").fillna(0.0).to_numpy(float)
            if "poor_pop" in t else np.zeros(len(t)))
    poor_share = np.where(pop > 0, np.clip(poor / np.maximum(pop, 1e-9), 0, 1), 0.0)
    t["schooling_children"] = np.round(kids, 1)
    t["schooling_children_source"] = source
    for kind, key in (("primary_school", "primary"), ("middle_school", "middle")):
        t[f"schooling_{key}_min"] = finite_minutes(fa.nearest[kind], s.cutoff_min)
        t[f"schooling_{key}_walk_min"] = finite_minutes(fa.walk_nearest[kind], s.cutoff_min)
    p_far = ~(fa.walk_nearest["primary_school"] <= config.primary_walk_max_min)
    m_far = ~(fa.walk_nearest["middle_school"] <= config.middle_walk_max_min)
    opts = schooling_options(
        primary, middle, poor_share, p_far, m_far,
        fa.nearest["primary_school"] <= config.bus_max_min,
        fa.nearest["middle_school"] <= config.bus_max_min, config, rate=rate)
    rows = fa.facilities["primary_school"]
    places = np.full(len(vxy), np.nan)
    if rows.size and "capacity" in sv.columns \
            and pd.to_numeric(sv["capacity"].iloc[rows], errors="coerce").gt(0).any():
        cap = capacity_of(sv.iloc[rows], "schooling", ("capacity",))
        places = e2sfca(fa.within["primary_school"], primary, cap, decay=s.decay,
                        sigma=s.sigma_min, steps=s.steps)[0]
    t["schooling_e2sfca_places"] = np.round(places, 3)
    t["schooling_far_pupils"] = np.round(opts["far_pupils"].to_numpy(), 1)
    t["schooling_sited"] = sited(fa, poor, p_far, "primary_school", s)
    opt = opts["option"].to_numpy()
    t["schooling_option"] = opt
    t["schooling_capex_cny"] = opts["capex_cny"].round(0).to_numpy()
    t["schooling_annualised_cny"] = opts["annualised_cny"].round(0).to_numpy()
    t["schooling_beneficiaries"] = np.round(opts["far_pupils"].to_numpy(), 1)
    t["schooling_poor_beneficiaries"] = np.round(opts["far_pupils"].to_numpy() * poor_share, 1)
    out = assemble(t, "schooling", CRITERIA, config, id_column="village_id", options=OPTIONS)
    logger.info("schooling: %s", out["schooling_option"].value_counts().to_dict())
    return select_output(out, "schooling", ["village_id"], CRITERIA)


def _compute(inputs: PriorityInputs, config: InterventionConfig, rate: float) -> pd.DataFrame:
    """:func:`schooling_priorities` from the stage's inputs (the registry's ``compute``)."""
    return schooling_priorities(inputs.villages, inputs.services, inputs.graph,
                                cast(SchoolingConfig, config), rate=rate)


INTERVENTION = Intervention(
    name="schooling", label_zh="义务教育", label_en="compulsory education", unit="village",
    options=OPTIONS, config_model=SchoolingConfig, compute=_compute, criteria=CRITERIA,
    columns=COLUMNS, in_place=False,
)
"""This intervention, as :mod:`contigmap.priority.registry` lists it."""
