"""Relocation candidates: which settlements to move, why, and what staying would cost.

A settlement is a candidate (易地扶贫搬迁对象) when at least ``min_reasons`` of five
reason groups hold, after the 13th Five-Year relocation plan's targets (全国“十三五”易地
扶贫搬迁规划, 2016: 地质灾害频发, 禁止/限制开发区, 深山石山与水土流失严重, 边远, 基础设施
十分薄弱):

``hazard``
    a hazard raster's zone mean (``hazard_<layer>_mean``, landslide susceptibility) or a
    hazard polygon layer's zone share (``hazard_<layer>_share``, flood zones; for a layer
    with classes, ``class:`` in region.yaml, its class-weighted share
    ``hazard_<layer>_wshare``) at or above its threshold; or hazard points (隐患点
    layers): at least ``hazard_points_min`` points within the layer's radius of the
    settlement point (``hazard_<layer>_points``) with a highest class weight
    (``hazard_<layer>_wmax``) of at least ``hazard_point_weight_min`` — "N 处地质灾害
    隐患点，威胁 M 人";
``ecology``
    the zone's share inside the red line or a reserve (``eco_<layer>_share``);
``fragile``
    a steep zone (``slope_mean_deg``), or karst (``water_karst``) with a large share of
    slopes over 25° (``slope_gt25_share``) — a rocky desertification (石漠化) proxy;
``small_remote``
    few people (``pop``) and far from the own township seat (``tt_own_township_seat_min``);
``cost``
    a high capital cost per person to serve in place: the priority stage's road, water,
    power and broadband ``<iv>_capex_cny``, village-level costs shared among a village's
    hamlets by population.

Each group is tested by one function of :mod:`contigmap.relocation._reasons`. The score
is the sum of the (rescaled) weights of the groups that hold. Hamlets (自然村)
are the unit when the region has them; a hamlet whose administrative village qualifies
as a whole (整村搬迁: at least ``whole_village_min_reasons`` groups hold for the village)
is a candidate too, with the village's reasons.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.columns import ColumnInfo, register_columns
from contigmap.priority import registry
from contigmap.relocation._reasons import (
    Reasons,
    Unit,
    cost_reasons,
    ecology_reasons,
    fragile_reasons,
    hazard_reasons,
    num,
    small_remote_reasons,
)
from contigmap.relocation.costs import (
    REASONS,
    CandidateParams,
    RelocationCosts,
    relocation_cost_per_person,
)

__all__ = [
    "CANDIDATE_COLUMNS",
    "candidate_table",
    "in_place_costs",
    "in_place_interventions",
    "score_settlements",
]

logger = logging.getLogger(__name__)


def in_place_interventions() -> tuple[str, ...]:
    """Interventions whose ``<iv>_capex_cny`` make up the in-place cost (``iv.in_place``)."""
    return tuple(iv.name for iv in registry.REGISTRY.values() if iv.in_place)

_SRC = "relocation / candidates"
CANDIDATE_COLUMNS: tuple[ColumnInfo, ...] = (
    ColumnInfo("reloc_unit", "unit of relocation: hamlet (自然村) or village", "搬迁单元",
               "", _SRC),
    ColumnInfo("reloc_unit_id", "id of the hamlet or village", "搬迁单元编号", "", _SRC),
    ColumnInfo("reloc_score", "candidate score: sum of the weights of the reasons that hold",
               "搬迁候选得分", "0-1", _SRC),
    ColumnInfo("reloc_n_reasons", "number of reason groups that hold", "搬迁理由数", "count",
               _SRC),
    ColumnInfo("reloc_reason_keys", "reason groups that hold (hazard, ecology, fragile, "
               "small_remote, cost)", "搬迁理由类别", "", _SRC),
    ColumnInfo("reloc_reasons", "reasons, in English", "搬迁理由（英文）", "", _SRC),
    ColumnInfo("reloc_reasons_zh", "reasons, in Chinese", "搬迁理由", "", _SRC),
    ColumnInfo("reloc_candidate", "relocation candidate", "搬迁候选", "bool", _SRC),
    ColumnInfo("reloc_in_place_cny", "capital cost to serve in place: roads + water + power + "
               "broadband (+ hazard treatment when a hazard reason holds)", "就地改善成本",
               "CNY", _SRC),
    ColumnInfo("reloc_in_place_cny_per_person", "in-place cost per person", "人均就地改善成本",
               "CNY/person", _SRC),
    ColumnInfo("reloc_move_cny_per_person", "relocation cost per person at a new site: "
               "housing + site services + land", "人均搬迁成本", "CNY/person", _SRC),
    ColumnInfo("reloc_move_cny", "relocation cost of all the settlement's people",
               "搬迁成本", "CNY", _SRC),
    ColumnInfo("reloc_margin_cny", "in-place cost minus relocation cost (positive: moving "
               "costs less)", "成本差（就地−搬迁）", "CNY", _SRC),
    ColumnInfo("reloc_decision", "relocate or stay (connect in place)", "搬迁或就地改善", "",
               _SRC),
    ColumnInfo("reloc_decision_reason", "why: a mandatory reason, or the cheaper option",
               "决策依据", "", _SRC),
)
register_columns(CANDIDATE_COLUMNS)


def in_place_costs(
    villages: pd.DataFrame, hamlets: pd.DataFrame | None = None
) -> tuple[pd.Series, pd.Series | None]:
    """Capital cost of serving each village and hamlet in place (CNY).

    The interventions counted are those with ``in_place`` in the registry
    (:func:`in_place_interventions`: roads, water, power, broadband). The village cost is
    the sum of its village-unit ``<iv>_capex_cny`` (roads, water, power) plus the
    hamlet-unit ones (broadband) of its hamlets. A hamlet's cost is its village's
    village-unit cost times the hamlet's share of the people of the village's hamlets,
    plus its own hamlet-unit costs. Missing columns count 0 (logged).

    Parameters
    ----------
    villages
        Village table with ``village_id``, ``pop`` and ``<iv>_capex_cny`` columns.
    hamlets
        Hamlet table with ``hamlet_id``, ``village_id``, ``pop`` and the hamlet-unit
        ``<iv>_capex_cny`` (``broadband_capex_cny``).

    Returns
    -------
    tuple of pandas.Series
        In-place cost per village (indexed by ``village_id``) and per hamlet (indexed by
        ``hamlet_id``; ``None`` without hamlets).
    """
    ivs = [registry.get(name) for name in in_place_interventions()]
    per_village = [iv.name for iv in ivs if iv.unit == "village"]
    per_hamlet = [iv.name for iv in ivs if iv.unit == "hamlet"]
    ids = villages["village_id"].to_numpy()
    village_cost = np.zeros(len(villages))
    missing = []
    for iv in per_village:
        values = num(villages, f"{iv}_capex_cny")
        if values is None:
            missing.append(iv)
            continue
        village_cost += np.nan_to_num(values)
    by_village = pd.Series(village_cost, index=pd.Index(ids, name="village_id"))
    own = hamlets if hamlets is not None else villages  # hamlet-unit costs, without hamlets
    own_cost = np.zeros(len(own))                       # joined to the village table
    for iv in per_hamlet:
        values = num(own, f"{iv}_capex_cny")
        if values is None:
            missing.append(iv)
            continue
        own_cost += np.nan_to_num(values)
    if missing:
        logger.info("relocation: no %s capex columns; they count 0 in the in-place cost",
                    ", ".join(missing))
    if hamlets is None:
        return by_village + own_cost, None
    h_village = hamlets["village_id"].to_numpy()
    h_pop = np.nan_to_num(np.asarray(pd.to_numeric(hamlets["pop"], errors="coerce"), float))
    pop_sum = pd.Series(h_pop).groupby(h_village).transform("sum").to_numpy()
    n_in_village = pd.Series(h_pop).groupby(h_village).transform("size").to_numpy()
    share = np.where(pop_sum > 0, h_pop / np.where(pop_sum > 0, pop_sum, 1.0),
                     1.0 / n_in_village)
    v_cost = by_village.reindex(h_village).fillna(0.0).to_numpy()
    by_hamlet = pd.Series(v_cost * share + own_cost,
                          index=pd.Index(hamlets["hamlet_id"].to_numpy(), name="hamlet_id"))
    own_by_village = pd.Series(own_cost).groupby(h_village).sum()
    by_village = by_village + own_by_village.reindex(by_village.index).fillna(0.0)
    return by_village, by_hamlet


def score_settlements(
    table: pd.DataFrame,
    unit: Unit,
    params: CandidateParams,
    *,
    in_place_cny: Sequence[float] | NDArray[np.float64] | pd.Series | None = None,
) -> pd.DataFrame:
    """Reasons, score and candidate flag of each settlement.

    Parameters
    ----------
    table
        Village or hamlet table with the overlay, network and (for ``karst``) water
        columns; missing inputs switch their criterion off (logged once).
    unit
        ``hamlet`` or ``village`` (selects the small-settlement threshold).
    params
        Thresholds and weights.
    in_place_cny
        In-place capital cost per row (CNY), for the ``cost`` criterion.

    Returns
    -------
    pandas.DataFrame
        Same index as ``table``: ``reloc_score``, ``reloc_n_reasons``,
        ``reloc_reason_keys``, ``reloc_reasons``, ``reloc_reasons_zh``,
        ``reloc_candidate`` and one boolean column per reason group ``reloc_<group>``.
    """
    n = len(table)
    r = Reasons(n)
    hazard_reasons(table, params, r)
    ecology_reasons(table, params, r)
    fragile_reasons(table, unit, params, r)
    small_remote_reasons(table, unit, params, r)
    cost_reasons(table, in_place_cny, params, r)
    if r.skipped:
        logger.info("relocation candidates (%s): criteria skipped: %s", unit,
                    "; ".join(r.skipped))
    hold = r.hold
    score = np.zeros(n)
    n_reasons = np.zeros(n, np.int64)
    keys: list[list[str]] = [[] for _ in range(n)]
    for group in REASONS:
        score += hold[group] * params.weight(group)
        n_reasons += hold[group]
        for i in np.flatnonzero(hold[group]):
            keys[i].append(group)
    out = pd.DataFrame(index=table.index)
    out["reloc_score"] = np.round(score, 4)
    out["reloc_n_reasons"] = n_reasons
    out["reloc_reason_keys"] = [",".join(k) for k in keys]
    out["reloc_reasons"] = ["; ".join(texts) for texts in r.en]
    out["reloc_reasons_zh"] = ["；".join(texts) for texts in r.zh]
    out["reloc_candidate"] = n_reasons >= params.min_reasons
    for group in REASONS:
        out[f"reloc_{group}"] = hold[group]
    return out


def _pass_whole_village(h_scores: pd.DataFrame, ham: pd.DataFrame, vs: pd.DataFrame,
                        params: CandidateParams) -> None:
    """Give the hamlets of whole-village candidates their village's reasons (in place).

    ``vs`` is the village scores indexed by ``village_id``; a village with at least
    ``whole_village_min_reasons`` groups passes its groups and reasons to its hamlets.
    """
    whole = vs[vs["reloc_n_reasons"] >= params.whole_village_min_reasons]
    in_whole = ham["village_id"].isin(whole.index).to_numpy()
    for i in np.flatnonzero(in_whole):
        row = whole.loc[ham["village_id"].iloc[i]]
        idx = h_scores.index[int(i)]
        merged = sorted(set(filter(None, str(h_scores.at[idx, "reloc_reason_keys"]).split(",")))
                        | set(str(row["reloc_reason_keys"]).split(",")),
                        key=lambda g: REASONS.index(g))
        for g in merged:
            h_scores.at[idx, f"reloc_{g}"] = True
        h_scores.at[idx, "reloc_reason_keys"] = ",".join(merged)
        h_scores.at[idx, "reloc_n_reasons"] = len(merged)
        h_scores.at[idx, "reloc_score"] = round(sum(params.weight(g) for g in merged), 4)
        h_scores.at[idx, "reloc_candidate"] = len(merged) >= params.min_reasons
        h_scores.at[idx, "reloc_reasons"] = "; ".join(
            filter(None, [str(h_scores.at[idx, "reloc_reasons"]),
                          f"whole village: {row['reloc_reasons']}"]))
        h_scores.at[idx, "reloc_reasons_zh"] = "；".join(
            filter(None, [str(h_scores.at[idx, "reloc_reasons_zh"]),
                          f"整村：{row['reloc_reasons_zh']}"]))


def _decide(table: gpd.GeoDataFrame, pop: NDArray[np.float64], in_place: NDArray[np.float64],
            costs: RelocationCosts) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Add the cost and decision columns to ``table`` (in place).

    A candidate relocates when a mandatory reason holds or moving costs less than
    serving in place (plus hazard treatment where a hazard reason holds). Returns the
    candidate and relocate flags.
    """
    hazard = table["reloc_hazard"].to_numpy(bool)
    in_place = np.nan_to_num(np.asarray(in_place, dtype=float))
    in_place = in_place + hazard * pop * costs.hazard_mitigation_cny_per_person
    move_pp = float(relocation_cost_per_person(costs, False)[0])
    table["reloc_in_place_cny"] = np.round(in_place, 0)
    table["reloc_in_place_cny_per_person"] = np.round(
        np.where(pop > 0, in_place / np.where(pop > 0, pop, 1.0), 0.0), 0)
    table["reloc_move_cny_per_person"] = move_pp
    table["reloc_move_cny"] = np.round(pop * move_pp, 0)
    table["reloc_margin_cny"] = table["reloc_in_place_cny"] - table["reloc_move_cny"]
    cand = table["reloc_candidate"].to_numpy(bool)
    mandatory = np.zeros(len(table), bool)
    why_mand = [""] * len(table)
    for g in costs.mandatory_reasons:
        col = table[f"reloc_{g}"].to_numpy(bool)
        mandatory |= col
        for i in np.flatnonzero(col):
            why_mand[i] = why_mand[i] + ("," if why_mand[i] else "") + g
    cheaper = table["reloc_margin_cny"].to_numpy(float) > 0
    relocate = cand & (mandatory | cheaper)
    table["reloc_decision"] = np.where(cand, np.where(relocate, "relocate", "stay"), "")
    table["reloc_decision_reason"] = [
        "" if not c else (f"mandatory: {w}" if m else
                          ("moving costs less" if ch else "serving in place costs less"))
        for c, m, w, ch in zip(cand, mandatory, why_mand, cheaper, strict=True)
    ]
    return cand, relocate


def _with_village_karst(hamlets: pd.DataFrame, villages: pd.DataFrame) -> pd.DataFrame:
    if "water_karst" in hamlets.columns or "water_karst" not in villages.columns:
        return hamlets
    karst = villages.set_index("village_id")["water_karst"]
    out = hamlets.copy()
    out["water_karst"] = out["village_id"].map(karst).to_numpy()
    return out


def candidate_table(
    villages: gpd.GeoDataFrame,
    hamlets: gpd.GeoDataFrame | None,
    params: CandidateParams,
    costs: RelocationCosts,
) -> gpd.GeoDataFrame:
    """Score every settlement and compare relocating with serving in place.

    Parameters
    ----------
    villages, hamlets
        The village and hamlet tables of the earlier stages (working CRS). Hamlets are
        the unit when given; a hamlet whose village qualifies as a whole is a candidate
        with the village's reasons (prefixed "whole village").
    params, costs
        Candidate thresholds and cost parameters.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per unit (all units, candidates flagged by ``reloc_candidate``), with
        ``reloc_unit``, ``reloc_unit_id``, ``village_id``, ``township_id``, ``name``,
        ``pop``, ``households`` (with ``households_source``), the reason columns of
        :func:`score_settlements`, the costs and ``reloc_decision`` (``relocate`` /
        ``stay``; empty for non-candidates).
    """
    v_cost, h_cost = in_place_costs(villages, hamlets)
    v_scores = score_settlements(villages, "village", params,
                                 in_place_cny=v_cost.reindex(villages["village_id"]).to_numpy())
    keep = ["village_id", "township_id", "name", "pop", "households",
            "households_source"]
    if hamlets is None or h_cost is None:
        base = villages[[c for c in keep if c in villages.columns] + ["geometry"]].copy()
        base.insert(0, "reloc_unit_id", villages["village_id"].to_numpy())
        base.insert(0, "reloc_unit", "village")
        table = pd.concat([base, v_scores], axis=1)
        in_place = v_cost.reindex(villages["village_id"]).to_numpy()
    else:
        ham = _with_village_karst(hamlets, villages)
        if "township_id" not in ham.columns:
            ham = ham.assign(township_id=ham["village_id"].map(
                villages.set_index("village_id")["township_id"]).to_numpy())
        in_place = h_cost.reindex(ham["hamlet_id"]).to_numpy()
        h_scores = score_settlements(ham, "hamlet", params, in_place_cny=in_place)
        _pass_whole_village(h_scores, ham, v_scores.set_axis(villages["village_id"].to_numpy()),
                            params)
        base = ham[[c for c in ["hamlet_id", *keep] if c in ham.columns] + ["geometry"]].copy()
        base = base.rename(columns={"hamlet_id": "reloc_unit_id"})
        base.insert(0, "reloc_unit", "hamlet")
        table = pd.concat([base, h_scores], axis=1)
    table = gpd.GeoDataFrame(table, geometry="geometry", crs=villages.crs)
    pop = np.nan_to_num(np.asarray(pd.to_numeric(table["pop"], errors="coerce"), float))
    cand, relocate = _decide(table, pop, np.asarray(in_place, dtype=float), costs)
    logger.info("relocation candidates: %d of %d %ss (%d people); %d to relocate",
                int(cand.sum()), len(table), table["reloc_unit"].iloc[0] if len(table) else "unit",
                int(pop[cand].sum()), int(relocate.sum()))
    return table
