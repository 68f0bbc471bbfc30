"""The priority stage: every registered intervention from the village table, summaries, outputs.

Typical use::

    from contigmap.pipeline import prepare
    from contigmap.priority.run import write_priority_tables
    results = prepare("layers/huayuan/region.yaml").priorities
    write_priority_tables(results, "out/priorities")

or, with tables already built by the earlier stages, :func:`compute_priorities`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.errors import ValidationError, warn_data
from contigmap.io.write import atomic_path, write_table, write_vector
from contigmap.io.xlsx import write_xlsx
from contigmap.network import RoadGraph
from contigmap.priority import registry
from contigmap.priority.config import PriorityConfig, load_priority_config
from contigmap.priority.guarantees import guarantees_from_tables
from contigmap.priority.intervention import PriorityInputs
from contigmap.priority.mcda import sensitivity
from contigmap.priority.tiers import BUDGET, NEED_QUANTILE, NO_WORKS_TIER, assign_tiers, needs_works
from contigmap.raster import Raster

__all__ = [
    "PriorityResults",
    "budget_reach",
    "compute_priorities",
    "rerank",
    "summarise",
    "write_priority_tables",
]

logger = logging.getLogger(__name__)

@dataclass
class PriorityResults:
    """What the priority stage produced.

    Attributes
    ----------
    tables
        Per intervention, one row per unit (village, or hamlet for hamlet-unit
        interventions), ranked columns.
    sensitivity
        Per intervention, the weight perturbations and their rank stability.
    summaries
        ``township`` and ``county`` summaries (one row per intervention and area).
    budget
        Per intervention: how far ``config.budget_cny`` goes down the list.
    config
        The configuration used.
    extra
        The interventions' further outputs by name (``Intervention.extras``: the bus
        lines and stops).
    """

    tables: dict[str, pd.DataFrame]
    sensitivity: dict[str, pd.DataFrame]
    summaries: dict[str, pd.DataFrame]
    budget: pd.DataFrame
    config: PriorityConfig
    extra: dict[str, Any] = field(default_factory=dict)
    _guarantees: pd.DataFrame | None = field(default=None, init=False, repr=False,
                                             compare=False)

    def guarantees(self) -> pd.DataFrame:
        """Return the 两不愁三保障 table of :attr:`tables`, made once per result.

        :func:`contigmap.priority.guarantees.guarantees_from_tables`; ``guarantees.csv``
        and the map's guarantees theme both read it (neither changes it).
        """
        if self._guarantees is None:
            self._guarantees = guarantees_from_tables(self.tables)
        return self._guarantees


def budget_reach(table: pd.DataFrame, iv: str, budget_cny: float | None) -> pd.DataFrame:
    """Cumulative capex down the ranked list, and whether each row fits in the budget.

    Rows are funded strictly in rank order until the next one no longer fits; with
    ``budget_cny`` None (no budget set) every row is within.

    Returns
    -------
    pandas.DataFrame
        ``table`` sorted by rank with ``<iv>_cum_capex_cny`` and ``<iv>_within_budget``.
    """
    t = table.sort_values(f"{iv}_rank").copy()
    cum = t[f"{iv}_capex_cny"].fillna(0.0).cumsum()
    t[f"{iv}_cum_capex_cny"] = cum.round(0)
    within = (cum <= budget_cny).to_numpy() if budget_cny is not None else True
    t[f"{iv}_within_budget"] = within
    return t


def summarise(
    tables: dict[str, pd.DataFrame], by: str, *, n_tiers: int = 4
) -> pd.DataFrame:
    """Per area (``township_id``, or ``county`` for all): rows per tier, people, poor, cost.

    Returns
    -------
    pandas.DataFrame
        One row per intervention and area: ``units`` (villages or hamlets),
        ``tier_1`` … ``tier_k`` and ``no_works`` (:mod:`contigmap.priority.tiers`),
        ``beneficiaries``, ``poor_beneficiaries``, ``capex_cny``,
        ``annualised_cny`` and, where a budget was set, ``units_within_budget``,
        ``capex_within_budget_cny``, ``poor_within_budget``.
    """
    rows = []
    for iv, t in tables.items():
        key = t[by] if by in t.columns else pd.Series("all", index=t.index)
        # the groups of ``t.groupby(key, sort=True)`` (missing keys left out), each
        # group's rows in table order, and each sum as Series.sum takes it
        codes, areas = pd.factorize(key.to_numpy(), sort=True)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(areas) + 1))
        tier = t[f"{iv}_tier"]
        tiers = {k: (tier == k).to_numpy(dtype=bool, na_value=False)
                 for k in (*range(1, n_tiers + 1), NO_WORKS_TIER)}
        wb_col = f"{iv}_within_budget"
        wb = t[wb_col].astype(bool).to_numpy() if wb_col in t.columns else None
        sums = {name: t[f"{iv}_{name}"] for name in
                ("beneficiaries", "poor_beneficiaries", "capex_cny", "annualised_cny")}
        for a, area in enumerate(pd.Index(areas)):  # Python values, as groupby gives keys
            idx = order[bounds[a]:bounds[a + 1]]
            row: dict[str, Any] = {"intervention": iv, by: area, "units": len(idx)}
            for k in range(1, n_tiers + 1):
                row[f"tier_{k}"] = int(np.count_nonzero(tiers[k][idx]))
            row["no_works"] = int(np.count_nonzero(tiers[NO_WORKS_TIER][idx]))
            for name, col in sums.items():
                row[name] = _sum_of(col, idx)
            if wb is not None:
                inside = idx[wb[idx]]
                row["units_within_budget"] = len(inside)
                row["capex_within_budget_cny"] = _sum_of(sums["capex_cny"], inside)
                row["poor_within_budget"] = _sum_of(sums["poor_beneficiaries"], inside)
            rows.append(row)
    return pd.DataFrame(rows)


def _sum_of(column: pd.Series, idx: np.ndarray) -> float:
    """``float(column.iloc[idx].sum())``: NaN skipped, NumPy's sum of the rows in order."""
    values = column.to_numpy()
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "fiub":
        part = values[idx]
        if part.dtype.kind == "f":
            part = np.where(np.isnan(part), 0.0, part)
        elif part.dtype.kind == "b":
            part = part.astype(np.int64)
        return float(part.sum())
    return float(column.iloc[idx].sum())


def compute_priorities(
    villages: gpd.GeoDataFrame,
    hamlets: gpd.GeoDataFrame | None,
    graph: RoadGraph,
    services: gpd.GeoDataFrame,
    infrastructure: dict[str, gpd.GeoDataFrame],
    *,
    dem: Raster | None,
    rivers: gpd.GeoDataFrame | None = None,
    config: PriorityConfig | None = None,
    interventions: tuple[str, ...] | None = None,
) -> PriorityResults:
    """Rank every intervention from the village (and hamlet) tables.

    Each intervention of :data:`~contigmap.priority.registry.REGISTRY` is ranked by its
    ``compute`` from one :class:`~contigmap.priority.intervention.PriorityInputs`, its
    config section and the discount rate; then comes the sensitivity of its ranking,
    how far the budget goes down its list, and the township and county summaries.

    Parameters
    ----------
    villages
        Village table with the overlay, poverty and network access columns (working CRS).
    hamlets
        Hamlet table with network access columns and their village's
        ``poverty_incidence`` (needed for hamlet-unit interventions: broadband).
    graph
        The road graph.
    services
        Services (township seats).
    infrastructure
        Infrastructure layers by name (``power_lines``, ``substations``, ``fibre``,
        ``towers``, ``water_sources``).
    dem
        Elevation raster.
    rivers
        River lines (karst proxy).
    config
        Priority configuration; the packaged defaults when omitted.
    interventions
        Which interventions to compute, in that order; every registered one when omitted
        (:func:`~contigmap.priority.feasible.feasible_interventions` picks the ones a
        region's layers allow).

    Returns
    -------
    PriorityResults
        Ranked tables, sensitivity, summaries and budget reach.

    Raises
    ------
    ConfigError
        An unknown intervention name.
    ValidationError
        A hamlet-unit intervention without hamlets; a ranking's own input checks.

    """
    cfg = config or load_priority_config()
    inputs = PriorityInputs(villages=villages, hamlets=hamlets, graph=graph, services=services,
                            infrastructure=infrastructure, dem=dem, rivers=rivers)
    names = interventions if interventions is not None else registry.names()
    tables: dict[str, pd.DataFrame] = {}
    sens: dict[str, pd.DataFrame] = {}
    budget_rows = []
    extra: dict[str, pd.DataFrame] = {}
    for name in names:
        tables[name], sens[name], row, more = _rank_one(name, inputs, cfg)
        budget_rows.append(row)
        extra.update(more)
    _add_township(tables, villages)
    if cfg.budget_cny is None and tables:
        warn_data("priorities: no budget set (budget_cny); tiers are equal-count need groups "
                  f"(tier basis '{NEED_QUANTILE}'), not what a budget funds — set budget_cny "
                  "in priorities.yaml for tiers by budget", logger=logger, stacklevel=2)
    return PriorityResults(tables=tables, sensitivity=sens, summaries=_summaries(tables, cfg),
                           budget=pd.DataFrame(budget_rows), config=cfg, extra=extra)


def rerank(results: PriorityResults, names: Sequence[str], inputs: PriorityInputs
           ) -> PriorityResults:
    """Rank ``names`` again from new inputs; keep every other intervention's results.

    Used once the relocation plan exists, for the interventions that read its decisions
    (:attr:`~contigmap.priority.intervention.Intervention.after_relocation`): their tables,
    sensitivity, budget rows and extras are replaced, the summaries recomputed.

    Parameters
    ----------
    results
        The priority stage's results.
    names
        Interventions to rank again (each already in ``results.tables``).
    inputs
        The inputs to rank them from (the village and hamlet tables with the relocation
        stage's ``reloc_decision``).

    Returns
    -------
    PriorityResults
        A new result; ``results`` is not modified.
    """
    cfg = results.config
    tables, sens, extra = dict(results.tables), dict(results.sensitivity), dict(results.extra)
    rows: dict[str, Any] = {str(r["intervention"]): r for r in results.budget.to_dict("records")}
    for name in names:
        tables[name], sens[name], rows[name], more = _rank_one(name, inputs, cfg)
        extra.update(more)
    _add_township({n: tables[n] for n in names}, inputs.villages)
    budget = pd.DataFrame([rows[n] for n in tables if n in rows])
    return PriorityResults(tables=tables, sensitivity=sens, summaries=_summaries(tables, cfg),
                           budget=budget, config=cfg, extra=extra)


def _rank_one(name: str, inputs: PriorityInputs, cfg: PriorityConfig
              ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], dict[str, pd.DataFrame]]:
    """Rank one intervention: ranked table with tiers, sensitivity, budget row, extras."""
    iv, ivc = registry.get(name), cfg.intervention(name)
    if iv.unit == "hamlet" and (inputs.hamlets is None or len(inputs.hamlets) == 0):
        msg = (f"{name}: no hamlets; {name} targets natural villages (自然村): add the "
               f"hamlets layer to the region manifest or leave {name} out")
        raise ValidationError(msg)
    t = iv.compute(inputs, ivc, cfg.discount_rate)
    extra = iv.extras(inputs, ivc) if iv.extras is not None else {}
    sens = sensitivity(t, iv.criteria, ivc.weights, id_column=iv.id_column,
                       method=ivc.normalise, step=cfg.sensitivity_step,
                       draws=cfg.sensitivity_draws, concentration=cfg.sensitivity_concentration,
                       top_n=cfg.top_n, seed=cfg.seed)
    ranked = assign_tiers(budget_reach(t, name, cfg.budget_cny), name, cfg.budget_cny,
                          n_tiers=ivc.tiers)
    return ranked, sens, _budget_row(ranked, name, cfg.budget_cny), extra


def _summaries(tables: dict[str, pd.DataFrame], cfg: PriorityConfig
               ) -> dict[str, pd.DataFrame]:
    n_tiers = (3 if cfg.budget_cny is not None else
               max((cfg.intervention(iv).tiers for iv in tables), default=4))
    return {"township": summarise(tables, "township_id", n_tiers=n_tiers),
            "county": summarise(tables, "county", n_tiers=n_tiers)}


def _add_township(tables: dict[str, pd.DataFrame], villages: pd.DataFrame) -> None:
    """Give hamlet-unit tables their village's ``township_id`` (for the summaries)."""
    for name, t in tables.items():
        if registry.get(name).unit == "hamlet" and "township_id" not in t.columns:
            tmap = villages.set_index("village_id")["township_id"]
            t["township_id"] = t["village_id"].map(tmap).to_numpy()


def _budget_row(ranked: pd.DataFrame, iv: str, budget_cny: float | None) -> dict[str, Any]:
    """One row of the budget table: what the budget funds down ``iv``'s ranked list.

    ``units_funded`` counts the units within the budget that need works (tier 1 of a
    budget basis), not the ones whose option is ``none``.
    """
    wb = ranked[f"{iv}_within_budget"].astype(bool) & needs_works(
        ranked[f"{iv}_option"], ranked[f"{iv}_capex_cny"])
    return {
        "intervention": iv, "budget_cny": budget_cny,
        "tier_basis": BUDGET if budget_cny is not None else NEED_QUANTILE,
        "units_funded": int(wb.sum()),
        "capex_funded_cny": float(ranked.loc[wb, f"{iv}_capex_cny"].sum()),
        "beneficiaries_funded": float(ranked.loc[wb, f"{iv}_beneficiaries"].sum()),
        "poor_funded": float(ranked.loc[wb, f"{iv}_poor_beneficiaries"].sum()),
        "capex_total_cny": float(ranked[f"{iv}_capex_cny"].sum()),
    }


def _sensitivity_summary(sens: dict[str, pd.DataFrame]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for iv, s in sens.items():
        oat = s[s["kind"] == "one_at_a_time"]
        dr = s[s["kind"] == "dirichlet"]
        out[iv] = {
            "top_n": int(s["top_n"].iloc[0]) if len(s) else 0,
            "one_at_a_time_min_spearman": float(oat["spearman"].min()) if len(oat) else None,
            "one_at_a_time_min_top_n_kept": int(oat["top_n_kept"].min()) if len(oat) else None,
            "dirichlet_draws": len(dr),
            "dirichlet_mean_spearman": float(dr["spearman"].mean()) if len(dr) else None,
            "dirichlet_p05_spearman": float(dr["spearman"].quantile(0.05)) if len(dr) else None,
            "dirichlet_mean_top_n_kept": float(dr["top_n_kept"].mean()) if len(dr) else None,
            "dirichlet_min_top_n_kept": int(dr["top_n_kept"].min()) if len(dr) else None,
        }
    return out


SUMMARY_LABELS_ZH: dict[str, str] = {
    "intervention": "措施", "county": "全县", "units": "单元数", "tier_1": "第1档",
    "tier_2": "第2档", "tier_3": "第3档", "tier_4": "第4档", "beneficiaries": "受益人口",
    "poor_beneficiaries": "贫困受益人口", "annualised_cny": "年化成本（元）",
    "units_within_budget": "预算内单元数", "capex_within_budget_cny": "预算内投资（元）",
    "poor_within_budget": "预算内贫困受益人口", "budget_cny": "预算（元）",
    "units_funded": "可资助单元数", "capex_funded_cny": "资助投资（元）",
    "beneficiaries_funded": "资助受益人口", "poor_funded": "资助贫困受益人口",
    "capex_total_cny": "全部方案投资（元）",
}
"""Chinese headers of the summary and budget sheets of ``priorities.xlsx``."""


def _label_zh(column: str) -> str:
    from contigmap.render.report_doc import column_label_zh  # tables.xlsx's headers

    return SUMMARY_LABELS_ZH.get(column) or column_label_zh(column)


def write_priority_tables(results: PriorityResults, out_dir: str | Path) -> dict[str, Path]:
    """Write per-intervention CSVs, one XLSX, summaries and the sensitivity report, atomically.

    Files: ``priorities_<iv>.csv`` (UTF-8 with BOM), ``priorities.xlsx`` (a sheet per
    intervention plus ``township``, ``county``, ``budget``), ``priorities_summary_<area>.csv``,
    ``priorities_sensitivity.csv`` (every perturbation),
    ``priorities_sensitivity.json`` (headline stability per intervention) and
    ``guarantees.csv`` (两不愁三保障 per village,
    :func:`contigmap.priority.guarantees.guarantees_from_tables`), and each intervention's
    extras (``Intervention.extras``) as ``<name>.csv`` plus ``<name>.gpkg`` for a
    GeoDataFrame (``bus_lines``, ``bus_stops``). The XLSX has
    Chinese headers over the column names and number formats, as ``tables.xlsx``. Each file is
    written to a temporary name and renamed. Text cells are never formulas (see
    :mod:`contigmap.io.writers`).

    Returns
    -------
    dict
        Paths by key.
    """
    out = Path(out_dir)
    written: dict[str, Path] = {}
    for iv, t in results.tables.items():
        written[f"{iv}_csv"] = write_table(t, out / f"priorities_{iv}.csv")
    for area, s in results.summaries.items():
        written[f"summary_{area}_csv"] = write_table(s, out / f"priorities_summary_{area}.csv")
    written["budget_csv"] = write_table(results.budget, out / "priorities_budget.csv")
    written["guarantees_csv"] = write_table(results.guarantees(),
                                            out / "guarantees.csv")
    for key, frame in sorted(results.extra.items()):  # an intervention's extras (bus lines)
        if isinstance(frame, gpd.GeoDataFrame):
            written[f"{key}_gpkg"] = write_vector(frame, out / f"{key}.gpkg", layer=key)
        written[f"{key}_csv"] = write_table(frame, out / f"{key}.csv")
    xlsx = out / "priorities.xlsx"
    sheets = [*((iv, pd.DataFrame(t)) for iv, t in results.tables.items()),
              *results.summaries.items(), ("budget", results.budget)]
    with atomic_path(xlsx) as tmp:
        write_xlsx(sheets, tmp, labels=_label_zh)  # Chinese over English names
    written["xlsx"] = xlsx
    frames = [s.assign(intervention=iv) for iv, s in results.sensitivity.items()]
    sens = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    written["sensitivity_csv"] = write_table(sens, out / "priorities_sensitivity.csv")
    js = out / "priorities_sensitivity.json"
    with atomic_path(js) as tmp:
        summary = _sensitivity_summary(results.sensitivity)
        tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2,
                                  default=lambda x: None if x != x else x), encoding="utf-8")
    written["sensitivity_json"] = js
    logger.info("priorities: wrote %d files to %s", len(written), out)
    return written
