"""Compare scenarios side by side, and write a scenario's outputs (CSV + GeoPackage)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from contigmap.io.write import write_table, write_vector
from contigmap.scenario.evaluate import ScenarioResult

__all__ = ["compare_scenarios", "write_scenario_outputs"]

logger = logging.getLogger(__name__)

_ORDER = [
    "scenario", "title", "season", "changes", "roads_changed", "km_changed", "cost_cny",
    "pop_newly_within_30min", "poor_newly_within_30min", "pop_newly_within_60min",
    "poor_newly_within_60min", "pop_no_longer_within_30min", "pop_no_longer_within_60min",
    "rai_base", "rai", "rai_change", "villages_newly_hardened", "villages_lost_access",
    "pop_lost_access", "person_minutes_saved", "poor_person_minutes_saved", "pop_gaining",
    "poor_gaining", "cost_per_poor_gaining_cny",
]


def compare_scenarios(results: list[ScenarioResult]) -> pd.DataFrame:
    """Return one row per scenario with its summary figures, in a fixed column order.

    Parameters
    ----------
    results
        Results of :func:`contigmap.scenario.evaluate_scenario` (on one baseline).

    Returns
    -------
    pandas.DataFrame
        The summaries; columns as :data:`_ORDER` first, any others after.
    """
    df = pd.DataFrame([r.summary for r in results])
    if df.empty:
        return pd.DataFrame(columns=_ORDER)
    cols = [c for c in _ORDER if c in df.columns] + [c for c in df.columns if c not in _ORDER]
    return df[cols].reset_index(drop=True)


def write_scenario_outputs(
    results: ScenarioResult | list[ScenarioResult], out_dir: str | Path
) -> dict[str, Path]:
    """Write each scenario's villages and changed roads, and the comparison table.

    Files (each written atomically): ``<name>_villages.csv`` and ``.gpkg`` (per-village
    deltas), ``<name>_roads.gpkg`` (changed roads), ``<name>_summary.csv``, and
    ``scenario_comparison.csv`` (one row per scenario). GeoPackages are in EPSG:4326.

    Returns
    -------
    dict
        Written paths by key (``<name>_villages_csv``, ..., ``comparison_csv``).
    """
    out = Path(out_dir)
    items = results if isinstance(results, list) else [results]
    written: dict[str, Path] = {}
    for r in items:
        name = r.scenario.name
        v = r.villages.to_crs(4326)
        table = pd.DataFrame(v.drop(columns=v.geometry.name))
        table["lon"] = v.geometry.x.round(6)
        table["lat"] = v.geometry.y.round(6)
        written[f"{name}_villages_csv"] = write_table(table, out / f"{name}_villages.csv")
        written[f"{name}_villages_gpkg"] = write_vector(v, out / f"{name}_villages.gpkg",
                                                        layer="villages")
        if len(r.changed_roads):
            written[f"{name}_roads_gpkg"] = write_vector(
                r.changed_roads.to_crs(4326), out / f"{name}_roads.gpkg", layer="changed_roads")
        written[f"{name}_summary_csv"] = write_table(pd.DataFrame([r.summary]),
                                                     out / f"{name}_summary.csv")
    written["comparison_csv"] = write_table(compare_scenarios(items),
                                            out / "scenario_comparison.csv")
    logger.info("scenario outputs: %d file(s) in %s", len(written), out)
    return written
