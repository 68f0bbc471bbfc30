"""Which interventions a region's layers can rank, read from the registry.

An intervention can be ranked when the region declares what its
:class:`~contigmap.priority.intervention.Intervention` says it needs:

* one of its ``layers_any`` infrastructure layers (water sources, power lines …);
* the DEM, or the village column named by ``needs_dem_or`` (roads cost by terrain);
* the village columns of ``needs_columns`` (housing: the registry's housing grade);
* the hamlets layer, when its unit is the natural village (``unit == "hamlet"``).

Each one left out is said once (:func:`contigmap.errors.warn_data`), with the layer to
declare. No intervention is named here.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

import pandas as pd

from contigmap.errors import warn_data
from contigmap.priority import registry
from contigmap.priority.intervention import Intervention

__all__ = ["feasible_interventions", "missing_input"]

logger = logging.getLogger(__name__)


def missing_input(
    iv: Intervention,
    *,
    infrastructure: Collection[str],
    has_dem: bool,
    village_columns: Collection[str],
    has_hamlets: bool,
) -> str | None:
    """Why ``iv`` cannot be ranked with these inputs (what to declare), or ``None``."""
    if iv.layers_any and not any(name in infrastructure for name in iv.layers_any):
        return (f"declare infrastructure.{' or infrastructure.'.join(iv.layers_any)} in the "
                f"region manifest to rank it")
    if iv.needs_dem_or is not None and not has_dem and iv.needs_dem_or not in village_columns:
        return (f"its costs depend on the terrain (a DEM, or the villages' "
                f"'{iv.needs_dem_or}' column); declare `dem:` in the region manifest to rank it")
    if iv.needs_columns is not None and not set(iv.needs_columns[0]) <= set(village_columns):
        return iv.needs_columns[1]
    if iv.unit == "hamlet" and not has_hamlets:
        return "it targets natural villages; declare the hamlets layer to rank it"
    return None


def feasible_interventions(
    infrastructure: Collection[str],
    *,
    has_dem: bool,
    villages: pd.DataFrame,
    hamlets: pd.DataFrame | None,
    names: Sequence[str] | None = None,
) -> tuple[str, ...]:
    """Names of the interventions these inputs can rank; warn about each one left out.

    Parameters
    ----------
    infrastructure
        Names of the declared infrastructure layers (``RegionData.infrastructure``).
    has_dem
        Whether the region has a DEM.
    villages
        The village table (its columns are looked at).
    hamlets
        The hamlet table, or ``None`` without the hamlets layer.
    names
        Interventions to consider, in order; every registered one when omitted.

    Returns
    -------
    tuple of str
        The feasible ones, in the order given (registry order by default).
    """
    out = []
    for name in names if names is not None else registry.names():
        iv = registry.get(name)
        why = missing_input(iv, infrastructure=infrastructure, has_dem=has_dem,
                            village_columns=villages.columns, has_hamlets=hamlets is not None)
        if why is not None:
            warn_data(f"priorities: {name} skipped: {why}", logger=logger)
            continue
        out.append(name)
    return tuple(out)
