"""Safe housing (住房安全有保障, 危房改造): dangerous houses per village and their cost.

Safe housing is one of the 三保障 a village must meet to leave poverty. The household
registry's ``housing_grade`` (A-D, :mod:`contigmap.poverty.housing`) gives per village the
C-grade houses (局部危房: repair or reinforce in place, 就地加固/维修) and the D-grade ones
(整栋危房: pull down and rebuild, 拆除重建). Per village:

* cost = C houses × ``renovate_cny_per_household`` + D houses ×
  ``rebuild_cny_per_household`` (defaults in ``priorities.yaml``: indicative totals per
  house; the central subsidy averaged 1.4万元 per household, 建村〔2017〕192号, the rest
  came from provinces, counties and the households);
* option: ``rebuild`` when the village has a D house (its C houses are renovated too),
  ``renovate`` when only C houses, ``none`` without a dangerous house;
* relocation: where the relocation stage has decided (``reloc_decision == "relocate"``)
  for the village, or for every one of its hamlets, the option is ``relocate`` (搬迁安置)
  at no cost here, since relocation pays for the new house; where only some hamlets move,
  the cost is cut by their share of households (``housing_relocating_share``). Relocation
  runs after the priority stage (it weighs the other works' in-place costs), so housing is
  ranked again with its decisions once the plan exists (``after_relocation``).

Criteria (more = more need): ``dangerous`` (C and D households), ``d_grade`` (D
households), ``poor_dangerous`` (poor households in them), ``poor_pop``,
``poverty_incidence``, ``pop``. Without a ``housing_grade`` column in the registry the
intervention is skipped with a warning (:attr:`Intervention.needs_columns`). Like health,
not counted in relocation's in-place cost.
"""

from __future__ import annotations

import logging
from typing import cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import PositiveFloat

from contigmap._strict import StrictModel
from contigmap.columns import ColumnInfo
from contigmap.finance import crf
from contigmap.priority._common import (
    VILLAGE_PEOPLE_CRITERIA,
    assemble,
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

__all__ = ["CRITERIA", "INTERVENTION", "OPTIONS", "HousingConfig", "HousingCosts",
           "housing_priorities", "relocating_share"]

logger = logging.getLogger(__name__)

_SRC = "priority / housing"
COLUMNS: tuple[ColumnInfo, ...] = (
    ColumnInfo("housing_dangerous_households", "registry households in a C or D house (危房)",
               "危房户数", "households", _SRC),
    ColumnInfo("housing_relocating_share", "share of the village's hamlet households that "
               "the relocation stage moves (1 when the village itself moves; 0 without "
               "relocation columns)", "搬迁户占比", "share 0-1", _SRC),
)
"""Its own columns (the common ``housing_*`` ones come from the registry)."""

OPTIONS: tuple[Option, ...] = (
    Option("rebuild", "拆除重建", "rebuild (D grade)"),
    Option("renovate", "就地加固/维修", "renovate in place (C grade)"),
    Option("relocate", "搬迁安置", "relocate (costed by relocation)"),
    Option("none", "无需工程", "none needed"),
)

_NEEDS = ("danger_c_households", "danger_d_households", "danger_poor_households",
          "danger_people", "danger_poor_people")


class HousingCosts(StrictModel):
    """Dangerous-house cost parameters (see the YAML for sources)."""

    renovate_cny_per_household: PositiveFloat
    rebuild_cny_per_household: PositiveFloat
    life_years: PositiveFloat


class HousingConfig(InterventionConfig):
    """Safe housing: the ``housing`` section of ``priorities.yaml``."""

    costs: HousingCosts


CRITERIA: tuple[Criterion, ...] = (
    Criterion("dangerous", "housing_dangerous_households",
              lambda r: f"{r['housing_dangerous_households']:.0f} dangerous houses (C/D)",
              lambda r: f"C/D级危房{r['housing_dangerous_households']:.0f}户",
              "give the household registry a housing_grade column", unit="households",
              label_en="households in dangerous houses", label_zh="危房户数"),
    Criterion("d_grade", "danger_d_households",
              lambda r: f"{r['danger_d_households']:.0f} D-grade houses",
              lambda r: f"D级危房{r['danger_d_households']:.0f}户",
              "give the household registry a housing_grade column", unit="households",
              label_en="households in D-grade houses", label_zh="D级危房户数"),
    Criterion("poor_dangerous", "danger_poor_households",
              lambda r: f"{r['danger_poor_households']:.0f} poor households in "
                        f"dangerous houses",
              lambda r: f"危房贫困户{r['danger_poor_households']:.0f}户",
              "give the household registry a housing_grade column", unit="households",
              label_en="poor households in dangerous houses", label_zh="危房贫困户数"),
    *VILLAGE_PEOPLE_CRITERIA,
)


def relocating_share(villages: pd.DataFrame, hamlets: pd.DataFrame | None) -> NDArray[np.float64]:
    """Share of each village's households that the relocation stage moves.

    1 where the village's own ``reloc_decision`` is ``relocate``; else the households of
    its hamlets with ``reloc_decision == "relocate"`` over all its hamlet households
    (hamlets without ``households`` count 1 each); 0 without relocation columns.
    """
    share = np.zeros(len(villages))
    vid = villages["village_id"].astype(str)
    if hamlets is not None and "reloc_decision" in hamlets.columns and len(hamlets):
        hh = (pd.to_numeric(hamlets["households"], errors="coerce").fillna(1.0)
              if "households" in hamlets.columns else pd.Series(1.0, index=hamlets.index))
        moving = hamlets["reloc_decision"].astype(str).eq("relocate").to_numpy()
        frame = pd.DataFrame({"v": hamlets["village_id"].astype(str).to_numpy(),
                              "all": hh.to_numpy(float), "move": np.where(moving, hh, 0.0)})
        sums = frame.groupby("v")[["all", "move"]].sum()
        ratio = (sums["move"] / sums["all"].where(sums["all"] > 0)).fillna(0.0)
        share = vid.map(ratio).fillna(0.0).to_numpy(float)
    if "reloc_decision" in villages.columns:
        share = np.where(villages["reloc_decision"].astype(str).eq("relocate").to_numpy(),
                         1.0, share)
    return np.asarray(share, dtype=float)


def housing_priorities(
    villages: pd.DataFrame, hamlets: pd.DataFrame | None, config: HousingConfig, *,
    rate: float,
) -> pd.DataFrame:
    """Dangerous houses, least-cost answer, need, rank, tier and reasons per village.

    Parameters
    ----------
    villages
        Village table with ``village_id``, ``pop``, the poverty columns and the
        :data:`~contigmap.poverty.housing.HOUSING_COLUMNS` (from the registry's
        ``housing_grade``), optionally ``reloc_decision``.
    hamlets
        Hamlet table (``village_id``, ``households``, optionally ``reloc_decision``), or
        ``None``.
    config
        The ``housing`` section of the priority configuration.
    rate
        Discount rate.

    Returns
    -------
    pandas.DataFrame
        ``village_id`` and the ``housing_*`` columns.
    """
    require(villages, ["village_id", "pop", *_NEEDS], "housing",
            "give the household registry a housing_grade column (住房等级, A-D)")
    t = pd.DataFrame(villages.drop(columns="geometry", errors="ignore")).reset_index(drop=True)
    c = config.costs
    n_c, n_d = (t[k].to_numpy(float) for k in ("danger_c_households", "danger_d_households"))
    stay = 1.0 - relocating_share(t, hamlets)
    t["housing_dangerous_households"] = n_c + n_d
    t["housing_relocating_share"] = np.round(1.0 - stay, 3)
    opt = np.where(n_d > 0, "rebuild", np.where(n_c > 0, "renovate", "none"))
    opt = np.where((stay <= 0) & (n_c + n_d > 0), "relocate", opt)
    capex = (n_c * c.renovate_cny_per_household + n_d * c.rebuild_cny_per_household) * stay
    t["housing_option"] = opt
    t["housing_capex_cny"] = np.round(capex, 0)
    t["housing_annualised_cny"] = np.round(capex * crf(rate, c.life_years), 0)
    t["housing_beneficiaries"] = t["danger_people"].to_numpy(float)
    t["housing_poor_beneficiaries"] = t["danger_poor_people"].to_numpy(float)
    out = assemble(t, "housing", CRITERIA, config, id_column="village_id", options=OPTIONS)
    moving = (1.0 - stay) > 0
    notes = (("housing_reasons", "; ", "relocating: the new houses are costed by relocation"),
             ("housing_reasons_zh", "；", "搬迁安置，住房费用计入搬迁"))
    for col, sep, note in notes:
        out[col] = [f"{r}{sep}{note}" if m else r for r, m in zip(out[col], moving, strict=True)]
    logger.info("housing: %s", out["housing_option"].value_counts().to_dict())
    return select_output(out, "housing", ["village_id"], CRITERIA)


def _compute(inputs: PriorityInputs, config: InterventionConfig, rate: float) -> pd.DataFrame:
    """:func:`housing_priorities` from the stage's inputs (the registry's ``compute``)."""
    return housing_priorities(inputs.villages, inputs.hamlets, cast(HousingConfig, config),
                              rate=rate)


INTERVENTION = Intervention(
    name="housing", label_zh="住房安全", label_en="safe housing", unit="village",
    options=OPTIONS, config_model=HousingConfig, compute=_compute, criteria=CRITERIA,
    columns=COLUMNS, in_place=False, after_relocation=True,
    needs_columns=(_NEEDS, "its need comes from the household registry's housing grade; "
                   "give the households layer a housing_grade column (住房等级, A-D)"),
)
"""This intervention, as :mod:`contigmap.priority.registry` lists it."""
