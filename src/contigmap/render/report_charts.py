"""The county report's charts: the numbers each one shows, and the chart drawn from them.

Each chart is computed in two steps: a ``*_data`` function turns the run's tables into
a small :class:`pandas.DataFrame` holding exactly the numbers the chart shows (the
report prints it under the chart, so the picture can be checked against its numbers),
and :func:`draw_chart` draws it with matplotlib into a PNG (offline, no browser
library; Chinese with the static maps' CJK font, English alone without one).

Charts: poverty causes (shares of poor people), the travel-time distribution (people by
minutes to their own township seat, the indicator table's definition), the budget curve
of each intervention (poor people reached vs money spent down its ranked list), the
scenarios' before/after bars, and the ranks' stability under weight changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from contigmap.priority.registry import REGISTRY
from contigmap.schema import POVERTY_CAUSES

__all__ = [
    "TT_BANDS",
    "TT_COLUMN",
    "ChartSpec",
    "budget_curve_data",
    "budget_summary_data",
    "cause_share_data",
    "draw_chart",
    "scenario_bar_data",
    "stability_data",
    "travel_time_data",
]

TT_COLUMN: Final[str] = "tt_own_township_seat_min"
"""Minutes to the village's own township seat: the travel time of the indicator table."""

TT_BANDS: Final[tuple[tuple[float, float, str], ...]] = (
    (0.0, 30.0, "≤30"),
    (30.0, 60.0, "30–60"),
    (60.0, 90.0, "60–90"),
    (90.0, 120.0, "90–120"),
    (120.0, np.inf, ">120"),
)
"""Travel-time bands (lower bound exclusive except the first, upper bound inclusive)."""

_UNREACHABLE: Final[str] = "无路可达"


@dataclass(frozen=True)
class ChartSpec:
    """One chart: its kind, a file stem, two-language title and the numbers it shows."""

    kind: str
    key: str
    title_zh: str
    title_en: str
    data: pd.DataFrame
    curves: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    """Per series label, the points a line chart draws (the budget curves)."""
    budget_cny: float | None = None
    """The budget line of the budget curves."""


# --------------------------------------------------------------------------- data


def cause_share_data(villages: pd.DataFrame) -> pd.DataFrame:
    """Poor people by main poverty cause: Σ (cause share × poor people) over villages.

    Returns
    -------
    pandas.DataFrame
        ``cause`` (Chinese), ``poor_pop`` and ``share`` of all poor people with a
        cause, largest first; empty without ``cause_*_share`` columns or poor people.
    """
    poor = pd.to_numeric(villages.get("poor_pop", pd.Series(dtype=float)), errors="coerce")
    rows = []
    for key, zh in POVERTY_CAUSES.items():
        col = f"cause_{key}_share"
        if col in villages.columns:
            share = pd.to_numeric(villages[col], errors="coerce")
            rows.append({"cause": zh, "poor_pop": float((share * poor).sum(skipna=True))})
    out = pd.DataFrame(rows, columns=["cause", "poor_pop"])
    total = out["poor_pop"].sum()
    if not len(out) or total <= 0:
        return pd.DataFrame(columns=["cause", "poor_pop", "share"])
    out["share"] = out["poor_pop"] / total
    out = out[out["poor_pop"] > 0].sort_values("poor_pop", ascending=False, kind="stable")
    return out.reset_index(drop=True)


def travel_time_data(villages: pd.DataFrame) -> pd.DataFrame:
    """Villages and people per travel-time band to their own township seat.

    Returns
    -------
    pandas.DataFrame
        ``band``, ``villages``, ``pop``, ``pop_share`` (of all people with a time) per
        band of :data:`TT_BANDS`, then ``无路可达`` (no route); empty without the column.
    """
    if TT_COLUMN not in villages.columns:
        return pd.DataFrame(columns=["band", "villages", "pop", "pop_share"])
    tt = pd.to_numeric(villages[TT_COLUMN], errors="coerce").to_numpy(float)
    pop = pd.to_numeric(villages.get("pop", pd.Series(1.0, index=villages.index)),
                        errors="coerce").fillna(0.0).to_numpy(float)
    known = ~np.isnan(tt)
    rows = []
    for lo, hi, label in TT_BANDS:
        inside = known & (tt <= hi) & ((tt > lo) if lo > 0 else True) & np.isfinite(tt)
        rows.append({"band": label, "villages": int(inside.sum()), "pop": float(pop[inside].sum())})
    cut = known & ~np.isfinite(tt)
    rows.append({"band": _UNREACHABLE, "villages": int(cut.sum()), "pop": float(pop[cut].sum())})
    out = pd.DataFrame(rows)
    total = float(pop[known].sum())
    out["pop_share"] = out["pop"] / total if total > 0 else np.nan
    return out


def budget_curve_data(table: pd.DataFrame, iv: str,
                      budget_cny: float | None) -> pd.DataFrame:
    """People and poor people reached vs money spent, funding ``iv``'s list in rank order.

    Returns
    -------
    pandas.DataFrame
        One row per unit in rank order: ``rank``, ``cum_capex_cny``,
        ``cum_beneficiaries``, ``cum_poor``, ``within_budget`` (all ``True`` without
        a budget: funded strictly in rank order until the next one does not fit).
    """
    t = table.sort_values(f"{iv}_rank", kind="stable")
    capex = pd.to_numeric(t[f"{iv}_capex_cny"], errors="coerce").fillna(0.0).to_numpy(float)
    cum = np.cumsum(capex)
    people = pd.to_numeric(t.get(f"{iv}_beneficiaries", pd.Series(0.0, index=t.index)),
                           errors="coerce").fillna(0.0).to_numpy(float)
    poor = pd.to_numeric(t.get(f"{iv}_poor_beneficiaries", pd.Series(0.0, index=t.index)),
                         errors="coerce").fillna(0.0).to_numpy(float)
    within = (np.ones(len(t), bool) if budget_cny is None
              else np.logical_and.accumulate(cum <= budget_cny))
    return pd.DataFrame({
        "rank": t[f"{iv}_rank"].to_numpy(), "cum_capex_cny": cum,
        "cum_beneficiaries": np.cumsum(people), "cum_poor": np.cumsum(poor),
        "within_budget": within,
    })


def budget_summary_data(curves: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Tell what the budget funds, and what the whole list costs, per intervention.

    Parameters
    ----------
    curves
        ``{label: budget_curve_data(...)}``.

    Returns
    -------
    pandas.DataFrame
        ``intervention``, ``units_within_budget``, ``capex_within_budget_cny``,
        ``poor_within_budget``, ``units``, ``capex_cny`` and ``poor_beneficiaries``
        (the curve's last point: the whole list).
    """
    rows = []
    for label, d in curves.items():
        within = d["within_budget"].to_numpy(bool)
        k = int(within.sum())
        last = d.iloc[-1] if len(d) else None
        rows.append({
            "intervention": label,
            "units_within_budget": k,
            "capex_within_budget_cny": float(d["cum_capex_cny"].iloc[k - 1]) if k else 0.0,
            "poor_within_budget": float(d["cum_poor"].iloc[k - 1]) if k else 0.0,
            "units": len(d),
            "capex_cny": float(last["cum_capex_cny"]) if last is not None else 0.0,
            "poor_beneficiaries": float(last["cum_poor"]) if last is not None else 0.0,
        })
    return pd.DataFrame(rows, columns=["intervention", "units_within_budget",
                                       "capex_within_budget_cny", "poor_within_budget",
                                       "units", "capex_cny", "poor_beneficiaries"])


def scenario_bar_data(scenarios: Sequence[tuple[str, str, Mapping[str, Any]]]) -> pd.DataFrame:
    """Before/after figures of each scenario: ``(name, Chinese title, summary)`` in.

    Returns
    -------
    pandas.DataFrame
        ``scenario`` (title), ``rai_before``, ``rai_after``, ``poor_gaining``,
        ``pop_lost_access``, ``cost_cny``.
    """
    rows = [{
        "scenario": title or name,
        "rai_before": float(s.get("rai_base", np.nan)),
        "rai_after": float(s.get("rai", np.nan)),
        "poor_gaining": float(s.get("poor_gaining", 0.0)),
        "pop_lost_access": float(s.get("pop_lost_access", 0.0)),
        "cost_cny": float(s.get("cost_cny", 0.0)),
    } for name, title, s in scenarios]
    return pd.DataFrame(rows, columns=["scenario", "rai_before", "rai_after", "poor_gaining",
                                       "pop_lost_access", "cost_cny"])


def stability_data(sensitivity: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """How many of each intervention's top villages stay on top when the weights move.

    Returns
    -------
    pandas.DataFrame
        Per intervention: ``intervention`` (Chinese label), ``top_n``,
        ``kept_mean_share`` and ``kept_min_share`` (of the top ``top_n`` kept, over the
        random weight draws, or every perturbation when there are none),
        ``spearman_min`` (lowest rank correlation with the base ranking).
    """
    rows = []
    for iv, s in sensitivity.items():
        if not len(s):
            continue
        draws = s[s["kind"] == "dirichlet"] if (s["kind"] == "dirichlet").any() else s
        n = int(s["top_n"].iloc[0])
        kept = pd.to_numeric(draws["top_n_kept"]) / n if n else pd.Series([np.nan])
        label = REGISTRY[iv].label_zh if iv in REGISTRY else iv
        rows.append({"intervention": label, "top_n": n,
                     "kept_mean_share": float(kept.mean()),
                     "kept_min_share": float(kept.min()),
                     "spearman_min": float(pd.to_numeric(s["spearman"]).min())})
    return pd.DataFrame(rows, columns=["intervention", "top_n", "kept_mean_share",
                                       "kept_min_share", "spearman_min"])


# --------------------------------------------------------------------------- drawing

_RED: Final[str] = "#c0392b"
_GREY: Final[str] = "#9e9e9e"
_BLUE: Final[str] = "#2c7fb8"


def draw_chart(spec: ChartSpec, path: Path) -> Path:
    """Draw ``spec`` into a PNG at ``path`` (150 dpi, about 1000 × 450 px) and return it."""
    from matplotlib.figure import Figure

    from contigmap.render.agg_text import agg_canvas
    from contigmap.render.png import write_figure_png
    from contigmap.render.static_parts import text_setup

    text = text_setup()
    fig = Figure(figsize=(6.8, 3.0), dpi=150, layout="constrained")
    agg_canvas(fig)  # texts laid out once per process (the charts share tick labels)
    ax = fig.add_subplot()
    ax.yaxis.set_major_formatter(lambda v, _p: f"{v:,.0f}")  # categorical axes replace it
    _DRAW[spec.kind](ax, spec, text)
    fig.suptitle(text.pick(spec.title_zh, ""), x=0.01, ha="left",
                 fontproperties=text.props(11, bold=True))
    ax.set_title(spec.title_en, loc="left", fontsize=8, color="#666")
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_fontproperties(text.props(8))
    ax.spines[["top", "right"]].set_visible(False)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_figure_png(fig, path)  # written as the maps are


def _causes(ax: Any, spec: ChartSpec, text: Any) -> None:
    data = spec.data
    d = data.iloc[::-1]
    y = np.arange(len(d))
    ax.barh(y, d["share"] * 100, color=_RED)
    ax.set_yticks(y, [text.free(c) or c for c in d["cause"]])
    ax.margins(x=0.12)
    for i, (v, n) in enumerate(zip(d["share"], d["poor_pop"], strict=True)):
        ax.text(v * 100, i, f" {v:.0%} ({n:,.0f})", va="center", fontsize=7)
    ax.set_xlabel(text.pick("占贫困人口 %", "% of poor people"), fontproperties=text.props(8))


def _travel(ax: Any, spec: ChartSpec, text: Any) -> None:
    data = spec.data
    labels = [text.free(b) or "no route" for b in data["band"]]
    ax.bar(labels, data["pop"], color=[_BLUE] * (len(data) - 1) + [_RED])
    for x, (p, v) in enumerate(zip(data["pop"], data["villages"], strict=True)):
        ax.text(x, p, f"{p:,.0f}\n{v} 村" if text.font else f"{p:,.0f}\n{v} vil.",
                ha="center", va="bottom", fontproperties=text.props(7))
    ax.set_ylabel(text.pick("人口", "people"), fontproperties=text.props(8))
    ax.set_xlabel(text.pick("到本乡镇驻地（分钟）", "minutes to own township seat"),
                  fontproperties=text.props(8))
    ax.margins(y=0.2)


def _budget(ax: Any, spec: ChartSpec, text: Any) -> None:
    # one colour per intervention (nine registered): six repeated gave 道路 and 住房安全 one red
    colors = ("#c0392b", "#2c7fb8", "#e69f00", "#009e73", "#6a3d9a", "#666666",
              "#8c564b", "#e377c2", "#17becf", "#bcbd22")
    for i, (label, d) in enumerate(spec.curves.items()):
        x = np.r_[0.0, d["cum_capex_cny"].to_numpy(float)] / 1e4
        poor = np.r_[0.0, d["cum_poor"].to_numpy(float)]
        within = d["within_budget"].to_numpy(bool)
        k = int(within.sum())
        color = colors[i % len(colors)]
        ax.plot(x, poor, color=color, lw=1.6, label=text.free(label) or label)
        ax.plot(x[: k + 1], poor[: k + 1], color=color, lw=4, alpha=0.35)
        ax.plot([x[k]], [poor[k]], "o", color=color, ms=4)
    budget = spec.budget_cny
    if budget:
        ax.axvline(budget / 1e4, color="#333", ls="--", lw=1)
        ax.annotate(text.pick(f"预算 {budget / 1e4:,.0f} 万元", f"budget {budget / 1e4:,.0f}"),
                    (budget / 1e4, 0), xytext=(4, 4), textcoords="offset points",
                    fontproperties=text.props(8))
    ax.set_xlabel(text.pick("累计投资（万元）", "cumulative cost, 10k CNY"),
                  fontproperties=text.props(8))
    ax.set_ylabel(text.pick("受益贫困人口（累计）", "poor people reached"),
                  fontproperties=text.props(8))
    ax.xaxis.set_major_formatter(lambda v, _p: f"{v:,.0f}")
    ax.legend(prop=text.props(8), frameon=False, loc="lower right")


def _scenarios(ax: Any, spec: ChartSpec, text: Any) -> None:
    data = spec.data
    y = np.arange(len(data))
    ax.barh(y + 0.2, data["rai_before"] * 100, 0.4, color=_GREY,
            label=text.pick("现状", "before"))
    ax.barh(y - 0.2, data["rai_after"] * 100, 0.4, color=_RED,
            label=text.pick("方案实施后", "after"))
    for i, (b, a) in enumerate(zip(data["rai_before"], data["rai_after"], strict=True)):
        ax.text(a * 100, i - 0.2, f" {a:.1%}", va="center", fontsize=7)
        ax.text(b * 100, i + 0.2, f" {b:.1%}", va="center", fontsize=7)
    ax.set_yticks(y, [text.free(s) or s for s in data["scenario"]])
    ax.invert_yaxis()
    ax.set_xlim(0, 130)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel(text.pick("农村通达指数 RAI（%）", "Rural Access Index, %"),
                  fontproperties=text.props(8))
    ax.legend(prop=text.props(8), frameon=False, loc="upper right")


def _stability(ax: Any, spec: ChartSpec, text: Any) -> None:
    data = spec.data
    x = np.arange(len(data))
    ax.bar(x - 0.2, data["kept_mean_share"] * 100, 0.4, color=_BLUE,
           label=text.pick("平均保留", "mean kept"))
    ax.bar(x + 0.2, data["kept_min_share"] * 100, 0.4, color=_RED,
           label=text.pick("最少保留", "fewest kept"))
    ax.set_xticks(x, [text.free(s) or s for s in data["intervention"]])
    ax.set_ylim(0, 130)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel(text.pick("前N名保留比例 %", "% of top N kept"), fontproperties=text.props(8))
    ax.legend(prop=text.props(8), frameon=False, loc="upper right")


_DRAW: Final[dict[str, Any]] = {
    "causes": _causes, "travel_time": _travel, "budget": _budget,
    "scenarios": _scenarios, "stability": _stability,
}
