"""Live "what if" weights on the web map: sliders that re-rank the villages in the browser.

The browser does not re-implement the MCDA's normalisation: Python exports, per
village-level intervention, the *normalised* criterion matrix (exactly
:func:`contigmap.priority.mcda.normalise` of each criterion column, ``minmax`` or
``rank`` as configured) and each village's position in the id sort that breaks ties.
``assets/map/weights.js`` then does only what :func:`~contigmap.priority.mcda.need_scores`
and :func:`~contigmap.priority.mcda.rank_and_tier` do with a weight vector, in the same
floating-point order:

* criteria with a positive weight, in the intervention's criteria order; weights divided
  by their sum (numpy's pairwise sum, replicated);
* ``need = Σ (100 · wᵢ) · nᵢ`` summed left to right;
* rank by the need rounded to 9 decimals (numpy's round-half-even), ties to the smaller
  id (string order), ``tier = ⌊(rank − 1) · k / n⌋ + 1``.

A button exports the whole configuration in use (``priorities.yaml`` shape) with the
slider weights, which ``contigmap priorities --priorities`` reads back. All data reach the
page as JSON through the slots of :mod:`contigmap.render.web_page`; the script writes
data text with ``textContent`` only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from contigmap.priority import registry
from contigmap.priority.mcda import normalise
from contigmap.priority.run import PriorityResults
from contigmap.render.legend import tier_indicator
from contigmap.render.web_page import Ids, Raw, Script, map_script

__all__ = ["add_weights_panel", "id_sort_rank", "weights_data"]

logger = logging.getLogger(__name__)

TOP_N_SHOWN = 10
"""How many villages the panel's list shows."""


def id_sort_rank(ids: Sequence[object] | pd.Series) -> list[int]:
    """Return each row's position when the ids are sorted as strings (the MCDA's tie-break).

    The same computation as in :func:`contigmap.priority.mcda.rank_and_tier`.
    """
    n = len(ids)
    key = pd.Index(np.asarray(ids, dtype=str)).argsort()
    out = np.empty(n, np.int64)
    out[key] = np.arange(n)
    return [int(v) for v in out]


def _usable(table: pd.DataFrame, column: str) -> bool:
    if column not in table.columns:
        return False
    vals = pd.to_numeric(table[column], errors="coerce").to_numpy(float)
    return bool(np.isfinite(vals).all())


def _tier_basis(table: pd.DataFrame, iv: str, budget: float | None) -> dict[str, Any]:
    """How the tiers are made, for the browser to remake them after a re-ranking.

    Without a ``<iv>_tier_basis`` column: equal-count groups by rank
    (:func:`contigmap.priority.mcda.rank_and_tier`). With one (tiers by budget, #14):
    ``budget`` — cumulative cost down the ranked list within the budget = 1, within
    twice the budget = 2, later = 3; ``need_quantile`` — equal-count groups among the
    units that need works; 0 for units needing no works (option ``none`` or no cost).
    """
    col = f"{iv}_tier_basis"
    if col not in table.columns or table[col].isna().all():
        return {"basis": None}
    basis = str(table[col].dropna().iloc[0])
    capex = table[f"{iv}_capex_cny"] if f"{iv}_capex_cny" in table.columns else pd.Series(
        np.nan, index=table.index)
    cost = pd.to_numeric(capex, errors="coerce")
    option = (table[f"{iv}_option"] if f"{iv}_option" in table.columns
              else pd.Series("", index=table.index)).astype(str)
    works = (option != "none").to_numpy() & ~(cost.to_numpy(float) == 0.0)
    return {"basis": basis, "works": [int(v) for v in works],
            "cost": [float(v) for v in cost.fillna(0.0)],
            "budget": None if budget is None else float(budget)}


def _one(results: PriorityResults, name: str, map_ids: dict[str, int]) -> dict[str, Any] | None:
    """Return the payload of one intervention, or ``None`` when it cannot be re-ranked."""
    iv = registry.get(name)
    table = results.tables[name]
    cfg = results.config.intervention(name)
    id_col = iv.id_column
    if id_col not in table.columns or len(table) == 0:
        return None
    crits = [c for c in iv.criteria if _usable(table, c.column)]
    missing = [c.name for c in iv.criteria
               if c not in crits and cfg.weights.get(c.name, 0.0) > 0]
    if missing or not crits:
        logger.warning("web map: %s weights panel left out (criteria without values: %s)",
                       name, ", ".join(missing) or "all")
        return None
    ids = table[id_col].astype(str).tolist()
    names = (table["name"].astype(str).tolist() if "name" in table.columns else ids)
    values = list(range(max(cfg.tiers, 3) + 1))
    colours = tier_indicator(f"{name}_tier", values).color_of(values)
    return {
        "iv": name, "zh": iv.label_zh, "en": iv.label_en, "method": cfg.normalise,
        "tiers": cfg.tiers, "colours": {str(v): c for v, c in zip(values, colours, strict=True)},
        **_tier_basis(table, name, results.config.budget_cny),
        "criteria": [{"name": c.name, "zh": c.label_zh or c.name, "en": c.label_en,
                      "unit": c.unit, "w": float(cfg.weights.get(c.name, 0.0))}
                     for c in crits],
        "ids": ids, "names": names, "idr": id_sort_rank(ids),
        "m": [map_ids.get(i, -1) for i in ids],
        "N": [normalise(pd.to_numeric(table[c.column]).to_numpy(float), cfg.normalise).tolist()
              for c in crits],
    }


def weights_data(results: PriorityResults | None, villages: pd.DataFrame) -> dict[str, Any]:
    """Return the weights panel's data: one entry per village-level intervention.

    Parameters
    ----------
    results
        The priority stage's results (``None``: no panel).
    villages
        The village table drawn on the map (its ``village_id`` order is the markers').

    Returns
    -------
    dict
        ``{"ivs": [...], "config": <the configuration in use, as plain data>}``;
        ``ivs`` is empty when nothing can be re-ranked.
    """
    if results is None:
        return {"ivs": [], "config": {}}
    map_ids = ({str(v): i for i, v in enumerate(villages["village_id"])}
               if "village_id" in villages.columns else {})
    ivs = []
    for name in results.tables:
        if name in registry.REGISTRY and registry.get(name).unit == "village":
            one = _one(results, name, map_ids)
            if one is not None:
                ivs.append(one)
    return {"ivs": ivs, "config": results.config.model_dump(mode="json")}


@cache
def _css() -> str:
    return resources.files("contigmap.render").joinpath(
        "assets", "map", "weights.css").read_text(encoding="utf-8")


def add_weights_panel(
    m: Any, page: Any, ids: Ids, data: dict[str, Any], tier_layers: dict[str, int]
) -> None:
    """Add the weights panel (stylesheet and script) to the map.

    Parameters
    ----------
    m
        The :class:`folium.Map`.
    page
        Its :class:`~contigmap.render.web_page.Page`.
    ids
        The map's ids and data slots.
    data
        :func:`weights_data`.
    tier_layers
        Index in ``window.cmVillages.layers`` of each intervention's tier layer.
    """
    ivs = [dict(d, layer=tier_layers.get(d["iv"], -1)) for d in data.get("ivs", [])]
    if not ivs:
        return
    page.header.add_child(Raw(f"<style>{_css()}</style>"), name="cm_weights_css")
    payload = {"ivs": ivs, "config": data["config"], "topN": TOP_N_SHOWN}
    Script(map_script("weights.js", map=m.get_name(),
                      data=ids.slots.json(payload))).add_to(m)
