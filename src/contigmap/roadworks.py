"""The road cost model: unit costs by terrain class, and what a road works option costs.

Shared by the roads priority (:mod:`contigmap.priority.roads`), scenario costing
(:mod:`contigmap.scenario.apply`) and the optimiser (:mod:`contigmap.optimize`); callers
pass the :class:`RoadCosts` of the run (``settings.priorities.roads.costs``).

Unit costs are per km by terrain class — flat / hilly / mountainous from local relief
(China's geomorphological classes, 周成虎等 2009) — and indicative (四好农村路 programme
orders of magnitude; see ``priorities.yaml``, section ``roads.costs``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import PositiveFloat

from contigmap._strict import StrictModel
from contigmap.costpath import CostPathParams
from contigmap.finance import crf

__all__ = ["RoadCosts", "TerrainCosts", "road_costs", "terrain_class"]


class TerrainCosts(StrictModel):
    """A unit cost per terrain class (CNY per km)."""

    flat: PositiveFloat
    hilly: PositiveFloat
    mountainous: PositiveFloat


class RoadCosts(StrictModel):
    """Road cost parameters (see the YAML for sources)."""

    harden_cny_per_km: TerrainCosts
    new_road_cny_per_km: TerrainCosts
    relief_hilly_m: PositiveFloat
    relief_mountainous_m: PositiveFloat
    new_road_min_m: PositiveFloat
    shuttle_threshold_min: PositiveFloat
    shuttle_bus_cny: PositiveFloat
    shuttle_operating_cny_per_year: PositiveFloat
    road_life_years: PositiveFloat
    road_maintenance_share_per_year: PositiveFloat
    bus_life_years: PositiveFloat
    hardened_path_weight: PositiveFloat
    costpath: CostPathParams = CostPathParams()


def terrain_class(relief_m: NDArray[np.float64], costs: RoadCosts) -> NDArray[np.object_]:
    """``flat`` / ``hilly`` / ``mountainous`` from local relief (highest minus lowest, m)."""
    r = np.asarray(relief_m, dtype=float)
    out = np.full(r.shape, "flat", dtype=object)
    out[r >= costs.relief_hilly_m] = "hilly"
    out[r >= costs.relief_mountainous_m] = "mountainous"
    return out


def road_costs(
    harden_m: NDArray[np.float64],
    new_m: NDArray[np.float64],
    terrain: NDArray[np.object_],
    shuttle: NDArray[np.bool_],
    costs: RoadCosts,
    *,
    rate: float,
) -> pd.DataFrame:
    """Capex, annualised cost and option from lengths, terrain classes and shuttle flags.

    Returns
    -------
    pandas.DataFrame
        ``option``, ``capex_cny``, ``annualised_cny``.
    """
    hm = np.asarray(harden_m, dtype=float)
    nm = np.asarray(new_m, dtype=float)
    tc = np.asarray(terrain, dtype=object)
    hu = np.array([getattr(costs.harden_cny_per_km, str(t)) for t in tc], dtype=float)
    nu = np.array([getattr(costs.new_road_cny_per_km, str(t)) for t in tc], dtype=float)
    road_capex = hm / 1000.0 * hu + nm / 1000.0 * nu
    road_annual = road_capex * (crf(rate, costs.road_life_years)
                                + costs.road_maintenance_share_per_year)
    bus = np.asarray(shuttle, dtype=bool) & (road_capex == 0)
    option = np.where(hm > 0, np.where(nm > 0, "harden+new_road", "harden"),
                      np.where(nm > 0, "new_road", np.where(bus, "shuttle_bus", "none")))
    capex = np.where(bus, costs.shuttle_bus_cny, road_capex)
    annual = np.where(bus, costs.shuttle_bus_cny * crf(rate, costs.bus_life_years)
                      + costs.shuttle_operating_cny_per_year, road_annual)
    return pd.DataFrame({"option": option.astype(object), "capex_cny": capex,
                         "annualised_cny": annual})
