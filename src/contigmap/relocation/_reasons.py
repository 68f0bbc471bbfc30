"""The five reason groups of a relocation candidate, one function each.

Each function tests one group of :mod:`contigmap.relocation.candidates` (its module
docstring gives the rules) on a village or hamlet table and records, per settlement,
whether the group holds and why (English and Chinese) in a :class:`Reasons`; a group
whose input columns are missing is switched off and named in ``Reasons.skipped``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.errors import warn_data
from contigmap.relocation.costs import REASONS, CandidateParams

logger = logging.getLogger("contigmap.relocation.candidates")

Unit = Literal["hamlet", "village"]

_LAYER_ZH = {"landslide": "滑坡易发性", "flood": "洪水淹没区", "redline": "生态保护红线",
             "reserve": "自然保护区", "debris_flow": "泥石流", "collapse": "崩塌"}


def layer_zh(name: str) -> str:
    """Chinese name of a hazard or ecology layer (the name itself when unknown)."""
    return _LAYER_ZH.get(name, name)


def num(table: pd.DataFrame, column: str) -> NDArray[np.float64] | None:
    """``column`` as floats (unparseable: ``nan``), ``None`` when the table lacks it."""
    if column not in table.columns:
        return None
    return np.asarray(pd.to_numeric(table[column], errors="coerce"), dtype=float)


def layer_columns(table: pd.DataFrame, pattern: str) -> list[tuple[str, str]]:
    """(column, layer name) pairs of the columns matching ``pattern`` (one group)."""
    out = []
    for col in table.columns:
        m = re.fullmatch(pattern, str(col))
        if m:
            out.append((str(col), m.group(1)))
    return out


def _fmt(values: NDArray[np.float64], spec: str) -> list[str]:
    return [format(float(x), spec) for x in values]


@dataclass
class Reasons:
    """Which reason groups hold for each of ``n`` settlements, and the texts saying why.

    Attributes
    ----------
    n
        Number of settlements.
    hold
        Per group, a boolean per settlement.
    en, zh
        Per settlement, the reasons found (in order).
    skipped
        Criteria switched off for lack of input columns.
    """

    n: int
    hold: dict[str, NDArray[np.bool_]] = field(init=False)
    en: list[list[str]] = field(init=False)
    zh: list[list[str]] = field(init=False)
    skipped: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Start with no group holding and no texts."""
        self.hold = {g: np.zeros(self.n, bool) for g in REASONS}
        self.en = [[] for _ in range(self.n)]
        self.zh = [[] for _ in range(self.n)]

    def add(self, group: str, mask: NDArray[np.bool_], text_en: Sequence[str],
            text_zh: Sequence[str]) -> None:
        """Mark ``group`` where ``mask`` holds and record those settlements' texts."""
        self.hold[group] |= mask
        for i in np.flatnonzero(mask).tolist():
            self.en[i].append(text_en[i])
            self.zh[i].append(text_zh[i])


def hazard_reasons(table: pd.DataFrame, p: CandidateParams, r: Reasons) -> None:
    """Hazard: rasters (zone mean), polygons (zone share) and hazard points."""
    raster_cols = layer_columns(table, r"hazard_(.+)_mean")
    poly_cols = layer_columns(table, r"hazard_(.+)_share")
    point_cols = layer_columns(table, r"hazard_(.+)_points")
    if not raster_cols and not poly_cols and not point_cols:
        r.skipped.append("hazard (no hazard_<layer>_mean/_share/_points columns)")
    for col, layer in raster_cols:
        x = np.nan_to_num(num(table, col))  # type: ignore[arg-type]
        s = _fmt(x, ".2f")
        r.add("hazard", x >= p.hazard_raster_mean_min,
              [f"{layer} susceptibility {v} >= {p.hazard_raster_mean_min:g}" for v in s],
              [f"{layer_zh(layer)}{v}（≥{p.hazard_raster_mean_min:g}）" for v in s])
    for col, layer in poly_cols:
        weighted = f"hazard_{layer}_wshare" in table.columns
        if weighted:  # classed layer: each place counts with its class weight
            col = f"hazard_{layer}_wshare"
        x = np.nan_to_num(num(table, col))  # type: ignore[arg-type]
        s = _fmt(100 * x, ".0f")
        en_what, zh_what = ("class-weighted ", "按等级加权") if weighted else ("", "")
        r.add("hazard", x >= p.hazard_polygon_share_min,
              [f"{en_what}{v}% of the area in {layer} zones" for v in s],
              [f"{zh_what}{v}%位于{layer_zh(layer)}" for v in s])
    for col, layer in point_cols:
        _hazard_point_reasons(table, col, layer, len(point_cols) > 1, p, r)


def _hazard_point_reasons(table: pd.DataFrame, col: str, layer: str, several: bool,
                          p: CandidateParams, r: Reasons) -> None:
    """Hazard points of one layer: "N 处地质灾害隐患点，威胁 M 人" (module docstring)."""
    n = r.n
    count = np.nan_to_num(num(table, col)).astype(np.int64)  # type: ignore[arg-type]
    wmax_col = num(table, f"hazard_{layer}_wmax")
    wmax = (np.nan_to_num(wmax_col) if wmax_col is not None
            else (count > 0).astype(float))
    people = num(table, f"hazard_{layer}_threatened")
    radius = num(table, f"hazard_{layer}_radius_m")
    r_en = [f" within {v:.0f} m" if np.isfinite(v) else "" for v in
            (radius if radius is not None else np.full(n, np.nan))]
    r_zh = [f"{v:.0f}米内" if np.isfinite(v) else "" for v in
            (radius if radius is not None else np.full(n, np.nan))]
    if people is None:
        p_en, p_zh = [""] * n, [""] * n
    else:
        p_en = [f" threatening {v:.0f} people" for v in np.nan_to_num(people)]
        p_zh = [f"，威胁{v:.0f}人" for v in np.nan_to_num(people)]
    # several point layers: say which one
    tag_en = f" ({layer})" if several else ""
    tag_zh = f"（{layer_zh(layer)}）" if several else ""
    r.add("hazard", (count >= p.hazard_points_min) & (wmax >= p.hazard_point_weight_min),
          [f"{count[i]} hazard point{'s' if count[i] != 1 else ''}{tag_en}{r_en[i]}{p_en[i]}"
           for i in range(n)],
          [f"{r_zh[i]}{count[i]}处地质灾害隐患点{tag_zh}{p_zh[i]}" for i in range(n)])


def ecology_reasons(table: pd.DataFrame, p: CandidateParams, r: Reasons) -> None:
    """Ecology: the zone's share inside the red line or a reserve."""
    eco_cols = layer_columns(table, r"eco_(.+)_share")
    if not eco_cols:
        r.skipped.append("ecology (no eco_<layer>_share columns)")
    for col, layer in eco_cols:
        x = np.nan_to_num(num(table, col))  # type: ignore[arg-type]
        s = _fmt(100 * x, ".0f")
        r.add("ecology", x >= p.eco_share_min,
              [f"{v}% of the area inside the {layer}" for v in s],
              [f"{v}%位于{layer_zh(layer)}内" for v in s])


def fragile_reasons(table: pd.DataFrame, unit: Unit, p: CandidateParams, r: Reasons) -> None:
    """Fragile ground: steep, or karst with many slopes over 25° (warns on no slope)."""
    slope = num(table, "slope_mean_deg")
    if slope is not None:
        unknown = ~np.isfinite(slope)
        if unknown.any():  # outside the DEM: not judged steep, and said so
            from contigmap.terrain import name_list

            key = next((c for c in ("name", "hamlet_id", "village_id") if c in table.columns),
                       None)
            names = (table[key].astype(str).to_numpy() if key is not None
                     else np.arange(r.n).astype(str))
            msg = (f"relocation candidates ({unit}): {int(unknown.sum())} settlement(s) have no "
                   f"DEM slope (outside the DEM or on its nodata): {name_list(names[unknown])}; "
                   f"the fragile-ground criteria cannot be judged for them")
            warn_data(msg, logger=logger)
        slope = np.nan_to_num(slope)
        s = _fmt(slope, ".0f")
        r.add("fragile", slope >= p.steep_slope_mean_deg,
              [f"mean slope {v} deg >= {p.steep_slope_mean_deg:g}" for v in s],
              [f"平均坡度{v}°（≥{p.steep_slope_mean_deg:g}°）" for v in s])
    else:
        r.skipped.append("fragile/steep (no slope_mean_deg)")
    karst = num(table, "water_karst")
    steep = num(table, "slope_gt25_share")
    if karst is not None and steep is not None:
        steep = np.nan_to_num(steep)
        s = _fmt(100 * steep, ".0f")
        r.add("fragile", (np.nan_to_num(karst) > 0) & (steep >= p.karst_steep_share_min),
              [f"karst with {v}% of slopes over 25 deg (rocky desertification risk)" for v in s],
              [f"岩溶区，{v}%坡度大于25°（石漠化风险）" for v in s])
    else:
        r.skipped.append("fragile/karst (no water_karst or slope_gt25_share)")


def small_remote_reasons(table: pd.DataFrame, unit: Unit, p: CandidateParams,
                         r: Reasons) -> None:
    """Small and remote: few people and far from the own township seat."""
    pop = num(table, "pop")
    tt = num(table, "tt_own_township_seat_min")
    if pop is None or tt is None:
        r.skipped.append("small_remote (no pop or tt_own_township_seat_min)")
        return
    pop_max = p.small_pop_max[unit]
    tt_f = np.where(np.isfinite(tt), tt, np.inf)
    mask = (np.nan_to_num(pop) <= pop_max) & (tt_f >= p.remote_tt_min)
    tt_en = ["no road" if not np.isfinite(v) else f"{v:.0f} min" for v in tt_f]
    tt_zh = ["无路可达" if not np.isfinite(v) else f"{v:.0f}分钟" for v in tt_f]
    r.add("small_remote", mask,
          [f"small ({pop[i]:.0f} people) and remote ({tt_en[i]} to the township seat)"
           for i in range(r.n)],
          [f"规模小（{pop[i]:.0f}人）且偏远（距乡镇驻地{tt_zh[i]}）" for i in range(r.n)])


def cost_reasons(table: pd.DataFrame,
                 in_place_cny: Sequence[float] | NDArray[np.float64] | pd.Series | None,
                 p: CandidateParams, r: Reasons) -> None:
    """Cost: a high in-place capital cost per person."""
    pop = num(table, "pop")
    if in_place_cny is None or pop is None:
        r.skipped.append("cost (no in-place costs)")
        return
    cost = np.nan_to_num(np.asarray(in_place_cny, dtype=float))
    per = np.where(pop > 0, cost / np.where(pop > 0, pop, 1.0), 0.0)
    r.add("cost", per >= p.cost_per_person_min_cny,
          [f"in-place cost {v:,.0f} CNY/person >= {p.cost_per_person_min_cny:,.0f}"
           for v in per],
          [f"就地改善人均{v:,.0f}元（≥{p.cost_per_person_min_cny:,.0f}元）" for v in per])
