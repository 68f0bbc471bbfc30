"""Basic medical care (基本医疗): village clinics, access to care, and new clinics.

Basic medical care is one of the 三保障 (guarantees) a village must meet to leave poverty:
every administrative village has a standard village clinic (村卫生室) with a village
doctor. Per village this ranks:

* the travel time to the nearest 村卫生室 (``clinic``), township health centre
  (``health_centre``) and county hospital (``hospital``), and whether a clinic lies within
  ``walk_max_min`` minutes on foot (:mod:`contigmap.network.facilities`);
* capacity-aware access: E2SFCA (Luo and Qi 2009) doctors per 1,000 people over the
  clinics and health centres within ``cutoff_min``, against the norm of
  ``doctors_per_1000`` (one village doctor per 1,000 people served:
  《全国医疗卫生服务体系规划纲要（2015—2020年）》, 国办发〔2015〕14号);
* siting: the ``siting_k`` villages without a clinic whose new clinics would bring the
  most poor people within ``siting_minutes`` (:func:`contigmap.priority.siting.max_cover`);
  they are flagged in ``health_sited``.

Options: ``clinic_new`` (新建村卫生室) where no clinic is within walking time;
``clinic_upgrade`` (村卫生室标准化改造) where the nearby clinic is below standard (an
``area_m2`` under ``clinic_area_m2`` or ``standard`` false in the services layer);
``none`` otherwise. Criteria (more = more need): ``tt_clinic``, ``no_clinic``,
``access_gap``, ``tt_hospital``, ``illness_cause``, ``poor_pop``, ``poverty_incidence``,
``pop``. Its cost is not (yet) counted in relocation's cost of serving a village in place
(``in_place=False``): counting it would move the relocation stage's decisions.
"""

from __future__ import annotations

import logging
from typing import Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt

from contigmap._strict import StrictModel
from contigmap.booleans import parse_bool
from contigmap.columns import ColumnInfo
from contigmap.errors import ValidationError, warn_data
from contigmap.finance import crf
from contigmap.network import RoadGraph
from contigmap.network.facilities import (
    FacilityAccess,
    bounded_times,
    capacity_of,
    e2sfca,
    facility_access,
)
from contigmap.priority._common import (
    VILLAGE_PEOPLE_CRITERIA,
    assemble,
    main_cause,
    no_poor_no_cause,
    require,
    select_output,
)
from contigmap.priority.intervention import (
    Intervention,
    InterventionConfig,
    Option,
    PriorityInputs,
)
from contigmap.priority.mcda import Criterion
from contigmap.priority.siting import max_cover

__all__ = [
    "CRITERIA",
    "INTERVENTION",
    "OPTIONS",
    "FacilitySettings",
    "HealthConfig",
    "HealthCosts",
    "facility_inputs",
    "finite_minutes",
    "health_priorities",
    "sited",
]

logger = logging.getLogger(__name__)

_SRC = "priority / health"
COLUMNS: tuple[ColumnInfo, ...] = (
    ColumnInfo("health_clinic_min", "travel time to the nearest village clinic (村卫生室)",
               "到最近村卫生室时间", "min", _SRC),
    ColumnInfo("health_clinic_walk_min", "walking time to the nearest village clinic",
               "到最近村卫生室步行时间", "min", _SRC),
    ColumnInfo("health_centre_min", "travel time to the nearest township health centre",
               "到最近乡镇卫生院时间", "min", _SRC),
    ColumnInfo("health_hospital_min", "travel time to the nearest county hospital",
               "到最近县级医院时间", "min", _SRC),
    ColumnInfo("health_no_clinic", "no village clinic within the walking time walk_max_min",
               "步行范围内无村卫生室", "0/1", _SRC),
    ColumnInfo("health_e2sfca_per_1000", "E2SFCA accessibility: doctors per 1,000 people "
               "within the catchment (Luo and Qi 2009)", "医生可及性（E2SFCA，每千人医生数）",
               "per 1000", _SRC),
    ColumnInfo("health_access_gap", "doctors per 1,000 people short of the norm "
               "(doctors_per_1000 minus E2SFCA, at least 0)", "医生可及性缺口",
               "per 1000", _SRC),
    ColumnInfo("health_sited", "chosen by the maximal-covering siting of siting_k new clinics "
               "(most poor people within siting_minutes)", "新建村卫生室选址入选", "bool", _SRC),
)
"""Its own columns (the common ``health_*`` ones come from the registry)."""

OPTIONS: tuple[Option, ...] = (
    Option("clinic_new", "新建村卫生室", "new village clinic"),
    Option("clinic_upgrade", "村卫生室标准化改造", "upgrade the village clinic to standard"),
    Option("none", "无需工程", "none needed"),
)


class FacilitySettings(StrictModel):
    """How access to facilities is measured (shared by health and schooling)."""

    cutoff_min: PositiveFloat = 60.0
    decay: Literal["gaussian", "step"] = "gaussian"
    sigma_min: PositiveFloat = 20.0
    steps: list[tuple[PositiveFloat, NonNegativeFloat]] = Field(
        default_factory=lambda: [(10.0, 1.0), (20.0, 0.68), (30.0, 0.22)])
    siting_k: int = Field(10, ge=0)
    siting_minutes: PositiveFloat = 30.0
    siting_mode: Literal["walk", "vehicle"] = "walk"
    siting_exact_max_cells: PositiveInt = 2_000_000
    season: Literal["dry", "rainy"] = "dry"


class HealthCosts(StrictModel):
    """Village clinic cost parameters (see the YAML for sources)."""

    clinic_area_m2: PositiveFloat
    building_cny_per_m2: PositiveFloat
    equipment_cny: PositiveFloat
    upgrade_cny: PositiveFloat
    doctor_cny_per_year: NonNegativeFloat
    life_years: PositiveFloat
    om_share_per_year: NonNegativeFloat


class HealthConfig(InterventionConfig):
    """Basic medical care: the ``health`` section of ``priorities.yaml``."""

    walk_max_min: PositiveFloat = 30.0
    doctors_per_1000: PositiveFloat = 1.0
    access: FacilitySettings = Field(default_factory=FacilitySettings)
    costs: HealthCosts


CRITERIA: tuple[Criterion, ...] = (
    Criterion("tt_clinic", "health_clinic_min",
              lambda r: f"{r['health_clinic_min']:.0f} min to a village clinic",
              lambda r: f"到村卫生室{r['health_clinic_min']:.0f}分钟", "needs a services layer",
              unit="min", label_en="time to the nearest village clinic",
              label_zh="到村卫生室时间"),
    Criterion("no_clinic", "health_no_clinic", lambda r: "no clinic within walking time",
              lambda r: "步行范围内无村卫生室", unit="0/1",
              label_en="no village clinic within walking time", label_zh="无村卫生室"),
    Criterion("access_gap", "health_access_gap",
              lambda r: f"{r['health_e2sfca_per_1000']:.2f} doctors per 1,000 in reach",
              lambda r: f"可及医生每千人{r['health_e2sfca_per_1000']:.2f}名",
              unit="per 1000", label_en="doctors per 1,000 short of the norm (E2SFCA)",
              label_zh="医生可及性缺口"),
    Criterion("tt_hospital", "health_hospital_min",
              lambda r: f"{r['health_hospital_min']:.0f} min to the county hospital",
              lambda r: f"到县级医院{r['health_hospital_min']:.0f}分钟",
              unit="min", label_en="time to the county hospital", label_zh="到县级医院时间"),
    Criterion("illness_cause", "cause_illness_share",
              lambda r: main_cause(r, "illness")[0], lambda r: main_cause(r, "illness")[1],
              "run the poverty stage first", unit="share 0-1",
              label_en="poor households poor from illness", label_zh="因病致贫户占比"),
    *VILLAGE_PEOPLE_CRITERIA,
)


def facility_inputs(
    villages: gpd.GeoDataFrame, services: gpd.GeoDataFrame | None, where: str,
) -> tuple[NDArray[np.float64], gpd.GeoDataFrame, NDArray[np.float64]]:
    """Village points, the services (an empty frame when none) and their points."""
    require(villages, ["village_id", "pop"], where, "run the overlay stage")
    pts = villages.geometry
    if not (pts.geom_type == "Point").all():
        pts = pts.representative_point()
    vxy = np.column_stack([pts.x.to_numpy(float), pts.y.to_numpy(float)])
    if services is None or len(services) == 0:
        msg = f"{where}: no services layer; add one (points with kind and name)"
        raise ValidationError(msg)
    sv = services.reset_index(drop=True)
    spts = sv.geometry.representative_point()
    return vxy, sv, np.column_stack([spts.x.to_numpy(float), spts.y.to_numpy(float)])


def finite_minutes(t: NDArray[np.float64], cap: float) -> NDArray[np.float64]:
    """Minutes with ``inf`` (unreachable, or no facility) as the largest seen or ``cap``."""
    fin = np.isfinite(t)
    worst = max(float(t[fin].max()) if fin.any() else 0.0, cap)
    return np.asarray(np.round(np.where(fin, t, worst), 1), dtype=np.float64)


def _substandard(services: pd.DataFrame, area_m2: float) -> NDArray[np.bool_]:
    """Services below the clinic standard: ``area_m2`` under it or ``standard`` false."""
    bad = np.zeros(len(services), bool)
    if "area_m2" in services.columns:
        area = pd.to_numeric(services["area_m2"], errors="coerce").to_numpy(float)
        bad |= np.isfinite(area) & (area < area_m2)
    if "standard" in services.columns:
        bad |= ~parse_bool(services["standard"], column="standard", default=True,
                           source="services")
    return bad


def sited(fa: FacilityAccess, weight: NDArray[np.float64], candidates: NDArray[np.bool_],
          kind: str, s: FacilitySettings) -> NDArray[np.bool_]:
    """Villages chosen by the maximal-covering siting of ``siting_k`` new facilities.

    Candidate sites are the ``candidates`` villages; a village is covered by a site within
    ``siting_minutes`` (on foot, or by vehicle with ``siting_mode: vehicle``) and already
    covered by an existing facility of ``kind`` that near.
    """
    n_v = weight.size
    out = np.zeros(n_v, bool)
    cand = np.flatnonzero(candidates)
    if s.siting_k == 0 or cand.size == 0:
        return out
    tt = bounded_times(fa.attachment, np.arange(n_v), cand, s.siting_minutes,
                       mode=s.siting_mode, season=s.season)
    cover = tt.to_csr()
    now = fa.walk_nearest[kind] if s.siting_mode == "walk" else fa.nearest[kind]
    existing = now <= s.siting_minutes
    res = max_cover(cover, weight, s.siting_k, covered=existing,
                    exact_max_cells=s.siting_exact_max_cells)
    logger.info("%s siting: %d sites by %s cover %.0f more poor people (bound %.3f)", kind,
                res.sites.size, res.method, res.objective, res.bound)
    out[cand[res.sites]] = True
    return out


def health_priorities(
    villages: gpd.GeoDataFrame, services: gpd.GeoDataFrame | None, graph: RoadGraph,
    config: HealthConfig, *, rate: float,
) -> pd.DataFrame:
    """Least-cost clinic option, need, rank, tier and reasons per village.

    Parameters
    ----------
    villages
        Village table in the working CRS (``village_id``, ``pop``, the poverty columns).
    services
        Services with ``kind`` (``clinic``, ``health_centre``, ``hospital``) and,
        optionally, ``doctors``/``beds``/``capacity``, ``area_m2``, ``standard``.
    graph
        The road graph.
    config
        The ``health`` section of the priority configuration.
    rate
        Discount rate.

    Returns
    -------
    pandas.DataFrame
        ``village_id`` and the ``health_*`` columns.
    """
    vxy, sv, sxy = facility_inputs(villages, services, "health")
    s, c = config.access, config.costs
    fa = facility_access(graph, vxy, sv, sxy, ("clinic", "health_centre", "hospital"),
                         cutoff=s.cutoff_min, season=s.season)
    if fa.facilities["clinic"].size == 0:
        warn_data("health: the services layer has no village clinic (kind clinic, 村卫生室); "
                  "every village counts as without one", logger=logger)
    pop = villages["pop"].to_numpy(float)
    t = no_poor_no_cause(pd.DataFrame(villages.drop(columns="geometry")))
    t["health_clinic_min"] = finite_minutes(fa.nearest["clinic"], s.cutoff_min)
    t["health_clinic_walk_min"] = finite_minutes(fa.walk_nearest["clinic"], s.cutoff_min)
    t["health_centre_min"] = finite_minutes(fa.nearest["health_centre"], s.cutoff_min)
    t["health_hospital_min"] = finite_minutes(fa.nearest["hospital"], s.cutoff_min)
    no_clinic = ~(fa.walk_nearest["clinic"] <= config.walk_max_min)
    t["health_no_clinic"] = no_clinic.astype(float)
    # E2SFCA over the primary-care points: village clinics and township health centres
    access = np.zeros(len(vxy))
    for kind in ("clinic", "health_centre"):
        rows = fa.facilities[kind]
        if rows.size:
            cap = capacity_of(sv.iloc[rows], f"health ({kind})")
            access += e2sfca(fa.within[kind], pop, cap, decay=s.decay, sigma=s.sigma_min,
                             steps=s.steps)[0]
    per_1000 = access * 1000.0
    t["health_e2sfca_per_1000"] = np.round(per_1000, 3)
    t["health_access_gap"] = np.round(np.maximum(config.doctors_per_1000 - per_1000, 0.0), 3)
    poor = (pd.to_numeric(t["poor_pop"], errors="coerce").fillna(0.0).to_numpy(float)
            if "poor_pop" in t else np.zeros(len(t)))
    t["health_sited"] = sited(fa, poor, no_clinic, "clinic", s)
    # the clinic each village walks to: below standard means an upgrade
    clinics = sv.iloc[fa.facilities["clinic"]]
    weak = _substandard(clinics, c.clinic_area_m2)
    w = fa.walk_which["clinic"]
    near_weak = (w >= 0) & weak[np.maximum(w, 0)] if weak.size else np.zeros(len(vxy), bool)
    opt = np.where(no_clinic, "clinic_new", np.where(near_weak, "clinic_upgrade", "none"))
    new_capex = c.clinic_area_m2 * c.building_cny_per_m2 + c.equipment_cny
    capex = np.select([opt == "clinic_new", opt == "clinic_upgrade"],
                      [new_capex, c.upgrade_cny], 0.0)
    annual = capex * (crf(rate, c.life_years) + c.om_share_per_year) \
        + np.where(opt == "clinic_new", c.doctor_cny_per_year, 0.0)
    t["health_option"] = opt
    t["health_capex_cny"] = np.round(capex, 0)
    t["health_annualised_cny"] = np.round(annual, 0)
    t["health_beneficiaries"] = np.where(opt != "none", pop, 0.0)
    t["health_poor_beneficiaries"] = np.where(opt != "none", poor, 0.0)
    out = assemble(t, "health", CRITERIA, config, id_column="village_id", options=OPTIONS)
    logger.info("health: %s", out["health_option"].value_counts().to_dict())
    return select_output(out, "health", ["village_id"], CRITERIA)


def _compute(inputs: PriorityInputs, config: InterventionConfig, rate: float) -> pd.DataFrame:
    """:func:`health_priorities` from the stage's inputs (the registry's ``compute``)."""
    return health_priorities(inputs.villages, inputs.services, inputs.graph,
                             cast(HealthConfig, config), rate=rate)


INTERVENTION = Intervention(
    name="health", label_zh="基本医疗", label_en="basic medical care", unit="village",
    options=OPTIONS, config_model=HealthConfig, compute=_compute, criteria=CRITERIA,
    columns=COLUMNS, in_place=False,
)
"""This intervention, as :mod:`contigmap.priority.registry` lists it."""
