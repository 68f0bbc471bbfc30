"""Region facts: the headline numbers of a loaded region, before or after a run.

:func:`region_facts` is what ``contigmap validate`` prints under "region facts" and
what the county report shows; its poverty figures come from the same indicator table
as every other output (:mod:`contigmap.indicators`).
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from contigmap.errors import DataQualityWarning, ValidationError

if TYPE_CHECKING:
    from contigmap.io.region import RegionData

__all__ = ["region_facts"]

logger = logging.getLogger(__name__)


def _poverty_indicators(data: RegionData) -> pd.DataFrame:
    """Headline indicators of the region's people and poor people, before any stage ran.

    The same steps as the pipeline (:func:`contigmap.poverty.poverty_profile`, then
    :func:`contigmap.poverty.apply_poverty_sources`, then
    :func:`contigmap.indicators.headline_indicators`), on the attribute tables only.
    """
    from contigmap.indicators import headline_indicators
    from contigmap.poverty import apply_poverty_sources, household_size, poverty_profile

    table = pd.DataFrame(data.villages.drop(columns=data.villages.geometry.name))
    hh = data.households
    registry = hh is not None and {"household_id", "village_id", "members", "poor"} <= set(hh)
    if registry and hh is not None and "village_id" in table:
        ids = table["village_id"].astype(str)
        with warnings.catch_warnings():  # the layer checks report these problems
            warnings.simplefilter("ignore", DataQualityWarning)
            try:
                prof = poverty_profile(hh, village_ids=ids)
            except ValidationError:
                prof = None
        if prof is not None:
            prof = prof.reindex(ids.to_numpy())
            for col in prof.columns:
                table[col] = prof[col].to_numpy()
        registry = prof is not None
    spec = data.config.layers.households
    size, _ = household_size(data.config)
    table = apply_poverty_sources(
        table, registry=registry, size=size,
        complete=spec.declared_coverage() if spec is not None else None,
        covered=spec.covered if spec is not None else None)
    return headline_indicators(table)


def region_facts(data: RegionData, *, indicators: pd.DataFrame | None = None) -> dict[str, Any]:
    """Headline numbers of a region, computed in its working CRS.

    Parameters
    ----------
    data
        The loaded layers.
    indicators
        The run's headline indicators (:func:`contigmap.indicators.headline_indicators`);
        the people and poverty figures are read from its county row. Computed from the
        layers when not given (``validate``).

    Returns
    -------
    dict
        ``area_km2`` (county boundary, else union of townships, else village areas),
        ``townships``, ``villages``, ``hamlets``, ``pop`` (sum of village ``pop``,
        else household ``members``), ``road_km``, ``road_km_by_class``,
        ``road_km_by_surface``, ``road_density_km_per_km2``, ``households`` (as
        chosen per village: villages layer, complete registry or pop / household size),
        ``registry_households`` (rows of the registry), ``poor_pop`` and
        ``poverty_incidence`` (Σ poor_pop / Σ pop_basis, the same definition as every
        output), ``poor_pop_source``. Values that cannot be computed are ``None``.
    """
    facts: dict[str, Any] = {"working_crs": data.working_crs.to_string()}
    area_m2: float | None = None
    if "county" in data.boundaries:
        area_m2 = float(data.boundaries["county"].geometry.union_all().area)
    elif "townships" in data.boundaries:
        area_m2 = float(data.boundaries["townships"].geometry.union_all().area)
    elif data.village_areas is not None:
        area_m2 = float(data.village_areas.geometry.union_all().area)
    facts["area_km2"] = None if area_m2 is None else area_m2 / 1e6
    if "townships" in data.boundaries:
        facts["townships"] = len(data.boundaries["townships"])
    elif "township_id" in data.villages:
        facts["townships"] = int(data.villages["township_id"].nunique())
    else:
        facts["townships"] = None
    facts["villages"] = len(data.villages)
    facts["hamlets"] = None if data.hamlets is None else len(data.hamlets)
    hh = data.households
    pop: float | None = None
    if "pop" in data.villages:
        pop = float(pd.to_numeric(data.villages["pop"], errors="coerce").sum())
    elif hh is not None and "members" in hh:
        pop = float(hh["members"].sum())
    facts["pop"] = None if pop is None else round(pop)
    roads = data.roads
    length_km = roads.geometry.length.to_numpy() / 1000.0
    facts["road_km"] = float(length_km.sum())
    for col, key in (("road_class", "road_km_by_class"), ("surface", "road_km_by_surface")):
        if col in roads:
            series = pd.Series(length_km, index=roads.index).groupby(roads[col].astype(str)).sum()
            facts[key] = {str(k): float(v) for k, v in series.sort_values(ascending=False).items()}
        else:
            facts[key] = {}
    facts["road_density_km_per_km2"] = (
        facts["road_km"] / facts["area_km2"] if facts["area_km2"] else None
    )
    from contigmap.indicators import county_indicators

    if indicators is None:
        indicators = _poverty_indicators(data)
    county = county_indicators(indicators)

    def known(key: str) -> float | None:
        value = county.get(key)
        return None if value is None or not np.isfinite(float(value)) else float(value)

    households, poor_pop = known("households"), known("poor_pop")
    facts["households"] = None if households is None else round(households)
    facts["registry_households"] = None if hh is None else len(hh)
    facts["poor_pop"] = None if poor_pop is None else round(poor_pop)
    facts["poverty_incidence"] = known("poverty_incidence")
    facts["poor_pop_source"] = str(county.get("poor_pop_source", "")) or None
    return facts
