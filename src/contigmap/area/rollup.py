"""The area roll-up: one row per county, read from each county's own output tables.

Nothing is recomputed here: every figure is the one the county run wrote, so a county
has one definition of each indicator whether it is read in its own folder or in the
area table.

* ``indicators.csv``, row ``level == county``: villages, population, the incidence
  denominator ``pop_basis``, poor people, poverty incidence (``poor_pop / pop_basis``),
  RAI (the rural access index, Roberts, Shyam & Rastogi, *Rural Access Index: a key
  development indicator*, World Bank TP-10, 2006) and villages without a hardened road;
* ``priorities/priorities_summary_county.csv``: the funding need of each intervention
  (``capex_cny``: capital cost of every unit ranked, not only those within the budget).

Area totals (:func:`area_totals`) sum counts and people, and take the incidence as
Σ poor / Σ ``pop_basis`` and the RAI as the population-weighted mean of the county
RAIs (Σ RAI·pop / Σ pop = Σ pop within 2 km / Σ pop), the county definitions applied to
the area.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import pandas as pd

from contigmap.errors import ValidationError

__all__ = [
    "AREA_LABELS_ZH",
    "COUNTY_COLUMNS",
    "area_label_zh",
    "area_totals",
    "county_row",
    "county_table",
]

logger = logging.getLogger(__name__)

COUNTY_COLUMNS: Final[tuple[str, ...]] = (
    "villages", "pop", "pop_basis", "poor_pop", "poverty_incidence", "rai",
    "villages_without_hardened_road",
)
"""Columns taken from the county row of each county's ``indicators.csv``."""

AREA_LABELS_ZH: Final[dict[str, str]] = {
    "county_code": "县代码",
    "county_name": "县名",
    "rai": "农村通达指数RAI",
    "villages_without_hardened_road": "未通硬化路村数",
    "capex_total_cny": "资金需求合计（元）",
    "tt_prefecture_min": "到地级市车程中位数（分钟）",
    "prefecture_unreachable": "无路到地级市村数",
}
"""Chinese headers of the area table's columns that the column dictionary lacks."""


def area_label_zh(column: str) -> str:
    """Chinese header of an area-table column (the county tables' header when shared)."""
    from contigmap.render.report_doc import column_label_zh

    return AREA_LABELS_ZH.get(column) or column_label_zh(column)


def _read_csv(path: Path, code: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, encoding="utf-8-sig", dtype={"township_id": str, "county": str})
    except (OSError, ValueError) as err:
        msg = f"county {code}: cannot read its output {path} ({err}); rerun the area"
        raise ValidationError(msg) from err


def county_row(folder: Path, code: str, name: str) -> dict[str, Any]:
    """One county's row of the area table, read from its output folder.

    Parameters
    ----------
    folder
        The county's output folder (what ``contigmap run region.yaml`` wrote).
    code, name
        The county's code and display name (from the area manifest).

    Returns
    -------
    dict
        ``county_code``, ``county_name``, :data:`COUNTY_COLUMNS`, then
        ``<intervention>_capex_cny`` per intervention the county ranked.

    Raises
    ------
    ValidationError
        ``indicators.csv`` is missing or has no county row.
    """
    indicators = _read_csv(folder / "indicators.csv", code)
    county = indicators[indicators["level"] == "county"]
    if len(county) != 1:
        msg = f"county {code}: {folder / 'indicators.csv'} has no county row; rerun the area"
        raise ValidationError(msg)
    row: dict[str, Any] = {"county_code": code, "county_name": name}
    for column in COUNTY_COLUMNS:
        row[column] = county[column].iloc[0] if column in county.columns else math.nan
    summary_path = folder / "priorities" / "priorities_summary_county.csv"
    if summary_path.exists():
        summary = _read_csv(summary_path, code)
        for _, s in summary[summary["county"] == "all"].iterrows():
            row[f"{s['intervention']}_capex_cny"] = s["capex_cny"]
    return row


def county_table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Make the area table: the county rows in manifest order and the funding need in all.

    Intervention columns follow the registry's order; a county that did not rank an
    intervention (no layer for it) has no value there. ``capex_total_cny`` sums the
    known needs of a county.
    """
    from contigmap.priority.registry import names

    table = pd.DataFrame(list(rows))
    needs = [f"{iv}_capex_cny" for iv in names() if f"{iv}_capex_cny" in table.columns]
    table = table[["county_code", "county_name", *COUNTY_COLUMNS, *needs]].copy()
    table["capex_total_cny"] = table[needs].sum(axis=1, min_count=1) if needs else math.nan
    for column in ("villages", "villages_without_hardened_road"):
        table[column] = table[column].astype("Int64")
    return table


def area_totals(table: pd.DataFrame) -> dict[str, float]:
    """Area figures from the county table (see the module docstring for the definitions)."""
    pop = float(table["pop"].sum())
    basis = float(table["pop_basis"].sum())
    poor = float(table["poor_pop"].sum())
    totals = {
        "counties": float(len(table)),
        "villages": float(table["villages"].sum()),
        "pop": pop,
        "poor_pop": poor,
        "poverty_incidence": poor / basis if basis > 0 else math.nan,
        "rai": float((table["rai"] * table["pop"]).sum()) / pop if pop > 0 else math.nan,
        "villages_without_hardened_road": float(table["villages_without_hardened_road"].sum()),
    }
    for column in table.columns:
        if column.endswith("_cny"):
            totals[column] = float(table[column].sum())
    return totals
