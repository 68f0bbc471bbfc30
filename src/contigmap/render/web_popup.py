"""Village cards: the popup of a village on the web map, built from the columns it has.

Every value is HTML-escaped here; the card is then passed to the page as JSON (see
:mod:`contigmap.render.web_page`). Intervention sections follow
:data:`contigmap.priority.registry.REGISTRY`: one per intervention whose ``<name>_tier``
column the village has, titled and with option names from the registry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from html import escape
from typing import Any, Final

from contigmap.finance import fmt_wan
from contigmap.network.access import ACCESS_PROBLEMS
from contigmap.priority.intervention import Intervention
from contigmap.priority.registry import REGISTRY
from contigmap.priority.tiers import tier_label
from contigmap.render.web_guarantees import guarantee_card_html
from contigmap.render.web_page import is_missing, text
from contigmap.schema import POVERTY_CAUSES

__all__ = [
    "CARD_FIELDS",
    "SOURCE_FIELDS",
    "SOURCE_VALUE_ZH",
    "TT_LABELS",
    "village_card_html",
]

TT_LABELS: Final[dict[str, tuple[str, str]]] = {
    "township_seat": ("到乡镇驻地", "to township seat"),
    "county_seat": ("到县城", "to county seat"),
    "health_centre": ("到卫生院", "to health centre"),
    "school": ("到学校", "to school"),
    "market": ("到集市", "to market"),
    "own_township_seat": ("到本乡镇驻地", "to own township seat"),
}
"""Chinese and English names of the travel-time destinations (``tt_<dest>_min``)."""
_TT_COLUMN = re.compile(r"^tt_(?P<dest>[a-z0-9_]+)_min$")


def _fmt_int(v: Any) -> str:
    return f"{round(float(v)):,}"


def _fmt_pct(v: Any) -> str:
    return f"{float(v) * 100:.1f}%"


def _fmt_causes(v: Any) -> str:
    parts = [p.strip() for p in re.split(r"[;,，；、|]", str(v)) if p.strip()]
    return "、".join(POVERTY_CAUSES.get(p, p) for p in parts)


def _fmt_minutes(v: Any) -> str:
    return f"{float(v):.0f} 分钟 min"


def _fmt_money(v: Any) -> str:
    return f"{float(v):,.0f}"


CARD_FIELDS: Final[tuple[tuple[str, str, str, Any], ...]] = (
    ("pop", "人口", "people", _fmt_int),
    ("households", "户数", "households", _fmt_int),
    ("poor_pop", "贫困人口", "poor people", _fmt_int),
    ("poor_households", "贫困户", "poor households", _fmt_int),
    ("poverty_incidence", "贫困发生率", "poverty incidence", _fmt_pct),
    ("main_causes", "主要致贫原因", "main causes", _fmt_causes),
)
"""Rows of a village card: column, Chinese label, English label, formatter."""

SOURCE_VALUE_ZH: Final[dict[str, dict[str, str]]] = {
    "households_source": {
        "villages_layer": "村图层",
        "registry": "建档立卡（全量）",
        "pop_div_household_size": "人口÷户规模",
        "hamlets_layer": "自然村图层",
        "none": "无数据",
    },
    "poor_pop_source": {
        "villages_layer": "村图层",
        "registry_complete": "建档立卡（全量）",
        "registry_sample_estimate": "抽样估算",
        "registry_sample_township_rate": "按乡镇抽样发生率估算",
        "registry_sample_county_rate": "按全县抽样发生率估算",
        "none": "无数据",
    },
    "access_problem": {key: zh for key, (_, zh) in ACCESS_PROBLEMS.items()},
    "terrain_source": {
        "dem": "高程数据（DEM）",
        "region_typical": "无高程数据，按全区典型地形",
    },
}
"""Chinese names of the values of the source columns shown on village cards."""

SOURCE_FIELDS: Final[tuple[tuple[str, str, str], ...]] = (
    ("households_source", "户数来源", "households from"),
    ("poor_pop_source", "贫困人口来源", "poor people from"),
    ("access_problem", "无法到达乡镇驻地的原因", "no travel time to own seat because"),
    ("terrain_source", "地形数据来源", "terrain from"),
)
"""Rows of a village card saying where figures come from: column, Chinese, English label."""


def _row(zh: str, en: str, value: str) -> str:
    return f"{_row_head(zh, en)}{text(value)}</td></tr>"


@lru_cache(maxsize=4096)
def _row_head(zh: str, en: str) -> str:
    """Return a card row up to its value: the labels, escaped (a few dozen, on every card)."""
    return f"<tr><th>{escape(zh)}<br><small>{escape(en)}</small></th><td>"


def village_card_html(
    row: Mapping[str, Any],
    *,
    township: str | None = None,
    totals: Mapping[str, int] | None = None,
    weights: Mapping[str, Mapping[str, float]] | None = None,
) -> str:
    """Build a village's popup card (HTML) from the columns it has, data escaped.

    The priority sections come first (rank of N, need score, one bar per criterion, the
    chosen option, its cost in 万元 and whether the budget reaches it), so that they
    are visible without scrolling; the profile (people, travel times, sources) follows,
    folded (``<details>``).

    Shows the name and code, township, people, poor people, incidence, main causes,
    travel times (``tt_<destination>_min`` columns), where households, poor people and
    terrain come from and why there is no travel time to the own seat
    (:data:`SOURCE_FIELDS`, values in Chinese then as written) and, for each registered
    intervention (:data:`contigmap.priority.registry.REGISTRY`) whose ``<name>_tier``
    column the row has, the tier with ``<name>_option`` (named as the registry names
    it), ``<name>_capex_cny``, ``<name>_cost*`` and ``<name>_reasons`` when present;
    first, when the row carries them (:func:`contigmap.render.web_guarantees.with_guarantees`),
    the 两不愁三保障 guarantees met and the work closing each unmet one.

    Parameters
    ----------
    row
        One village: a mapping from column name to value.
    township
        The township's name (shown under the village name).
    totals
        Per intervention, how many units it ranks (the N of "rank r of N").
    weights
        Per intervention, each criterion's weight (rescaled to sum to 1 here); drawn as
        the length of the criterion's bar track, its ``<iv>_pts_<criterion>`` as the fill.

    Returns
    -------
    str
        HTML of the card.
    """
    name = row.get("name", "")
    code = row.get("village_id", "")
    head = f'<div class="cm-card"><h3>{text("" if is_missing(name) else name)}</h3>'
    if not is_missing(code) and code != "":
        head += f'<div class="cm-code">{text(code)}</div>'
    if township:
        head += f'<div class="cm-town">{text(township)}</div>'
    keys = tuple(row)
    rows = [*_profile_rows(row), *_travel_time_rows(row, keys), *_source_rows(row)]
    costs = [(c, row[c]) for c in _cost_columns(keys)]  # once, not per section
    sections = [
        _intervention_section(row, iv, (totals or {}).get(iv.name),
                              (weights or {}).get(iv.name), costs)
        for iv in REGISTRY.values() if f"{iv.name}_tier" in row
    ]
    sections.insert(0, guarantee_card_html(row))
    table = f"<table>{''.join(rows)}</table>"
    if any(sections):
        table = ('<details class="cm-profile"><summary>村情 <small>profile</small></summary>'
                 f"{table}</details>")
    return head + "".join(sections) + table + "</div>"


def _present(row: Mapping[str, Any], col: str) -> bool:
    return col in row and not is_missing(row[col]) and row[col] is not None


def _profile_rows(row: Mapping[str, Any]) -> list[str]:
    return [
        _row(zh, en, fmt(row[col]))
        for col, zh, en, fmt in CARD_FIELDS
        if _present(row, col) and str(row[col]) != ""
    ]


@lru_cache(maxsize=4096)
def _tt_destination(col: str) -> str | None:
    """Return the destination of a ``tt_<destination>_min`` column name, else ``None``.

    Every card looks at every column; a name is matched once per process.
    """
    m = _TT_COLUMN.match(col)
    return m.group("dest") if m else None


def _travel_time_rows(row: Mapping[str, Any], columns: tuple[Any, ...] | None = None
                      ) -> list[str]:
    """Travel-time rows of the row's ``tt_<destination>_min`` columns (``columns``: its keys)."""
    rows = []
    for col, zh, en in _tt_columns(tuple(row) if columns is None else columns):
        v = row[col]
        if not is_missing(v):
            rows.append(_row(zh, en, _fmt_minutes(v)))
    return rows


@lru_cache(maxsize=64)
def _tt_columns(columns: tuple[Any, ...]) -> tuple[tuple[Any, str, str], ...]:
    """Return the travel-time columns among a row's keys, in order, with their labels.

    Every card of a map has the same keys: they are looked at once.
    """
    out = []
    for col in columns:
        dest = _tt_destination(str(col))
        if dest is not None:
            zh, en = TT_LABELS.get(dest, (dest, f"to {dest.replace('_', ' ')}"))
            out.append((col, f"{zh}时间", f"travel time {en}"))
    return tuple(out)


@lru_cache(maxsize=64)
def _cost_columns(columns: tuple[Any, ...]) -> tuple[Any, ...]:
    """Return the keys whose name contains ``_cost``, in order (once per map, as above)."""
    return tuple(c for c in columns if "_cost" in str(c))


def _source_rows(row: Mapping[str, Any]) -> list[str]:
    rows = []
    for col, zh, en in SOURCE_FIELDS:
        if _present(row, col) and str(row[col]).strip() != "":
            key = str(row[col]).strip()
            names = SOURCE_VALUE_ZH[col]
            rows.append(_row(zh, en, f"{names[key]} ({key})" if key in names else key))
    return rows


def _fmt_wan(v: Any) -> str:
    return f"{fmt_wan(float(v), 1)} 万元"


def _rank_line(row: Mapping[str, Any], p: str, total: int | None) -> str:
    """'第 3 / 228 位 · 需求得分 72.4' (the parts the row has)."""
    parts = []
    if _present(row, f"{p}_rank"):
        r = round(float(row[f"{p}_rank"]))
        of_zh, of_en = (f" / {total:,}", f" of {total:,}") if total else ("", "")
        parts.append(f'排名 <b class="cm-rank">第 {r:,}{of_zh} 位</b> '
                     f"<small>rank {r:,}{of_en}</small>")
    if _present(row, f"{p}_need"):
        parts.append(f'需求得分 <b class="cm-need">{float(row[f"{p}_need"]):.1f}</b>'
                     " <small>need /100</small>")
    return f'<div class="cm-rankline">{" · ".join(parts)}</div>' if parts else ""


def _bars(row: Mapping[str, Any], iv: Intervention, weights: Mapping[str, float] | None) -> str:
    """One bar per criterion: track as long as its weight, filled by its points of need.

    The heaviest criterion's track is full length; a criterion at its largest value in
    the county fills its track.
    """
    items = []
    for col, label, share, track, wtxt in _bar_specs(
            iv, None if weights is None else tuple(weights.items())):
        if not _present(row, col):
            continue
        pts = float(row[col])
        fill = (f"{min(pts / (share * 100), 1.0) * 100:.1f}%" if share
                else f"{min(pts, 100.0):.1f}%")
        items.append(
            f'<div class="cm-bar" data-pts="{pts:.2f}"><span class="cm-bar-l">'
            f"{label}</span>"
            f'<span class="cm-bar-t" style="--w:{track}"><i style="width:{fill}"></i></span>'
            f'<span class="cm-bar-v">{pts:.1f}<small>{wtxt}</small></span></div>'
        )
    return f'<div class="cm-bars">{"".join(items)}</div>' if items else ""


@lru_cache(maxsize=256)
def _bar_specs(iv: Intervention, weights: tuple[tuple[str, Any], ...] | None
               ) -> list[tuple[str, str, float | None, str, str]]:
    """Per criterion of ``iv``: points column, label HTML, weight share, track, weight text.

    What every card's bars share (the weights are the run's); ``weights`` as item pairs.
    """
    w = {k: float(v) for k, v in (weights or ()) if float(v) > 0}
    total_w = sum(w.values())
    top_w = max(w.values(), default=0.0)
    specs = []
    for c in iv.criteria:
        share = w[c.name] / total_w if c.name in w else None
        track = f"{w[c.name] / top_w:.3f}" if share is not None else "1"
        # weighted (it has points) but no weight known: equal everywhere, so 0 points
        wtxt = f"权重 {share * 100:.0f}%" if share is not None else "各村相同 same everywhere"
        if share is None and weights is None:
            wtxt = ""
        specs.append((f"{iv.name}_pts_{c.name}", text(c.label_zh or c.name), share, track,
                      wtxt))
    return specs


def _option_line(row: Mapping[str, Any], iv: Intervention) -> str:
    """Chosen option (Chinese, then English), its cost in 万元, within the budget or not."""
    p = iv.name
    if not _present(row, f"{p}_option"):
        return ""
    opt = str(row[f"{p}_option"])
    out = (f'<div class="cm-opt">方案 <b>{text(iv.option_label(opt))}</b> '
           f"<small>{text(iv.option_label(opt, 'en'))}</small>")
    if _present(row, f"{p}_capex_cny"):
        out += f' · <b>{text(_fmt_wan(row[f"{p}_capex_cny"]))}</b>'
    if _present(row, f"{p}_within_budget"):
        inside = str(row[f"{p}_within_budget"]).strip().lower() in ("true", "1", "1.0")
        out += (' <span class="cm-in">预算内 <small>within budget</small></span>' if inside
                else ' <span class="cm-out">超出预算 <small>beyond budget</small></span>')
    return out + "</div>"


def _intervention_section(
    row: Mapping[str, Any],
    iv: Intervention,
    total: int | None = None,
    weights: Mapping[str, float] | None = None,
    costs: Sequence[tuple[Any, Any]] | None = None,
) -> str:
    """Build an intervention's part of the card: rank, bars, option, costs, reasons.

    ``costs``: the row's (column, value) pairs whose name contains ``_cost`` (default:
    found in ``row``), in the row's order.
    """
    p = iv.name
    top = _rank_line(row, p, total) + _bars(row, iv, weights) + _option_line(row, iv)
    srows = []
    if not is_missing(row[f"{p}_tier"]):
        basis = row.get(f"{p}_tier_basis")
        zh, en = tier_label(row[f"{p}_tier"], None if is_missing(basis) else str(basis))
        srows.append(_row("优先级", "tier", f"{zh} {en}"))
    if _present(row, f"{p}_option") and not _present(row, f"{p}_capex_cny"):
        opt = str(row[f"{p}_option"])  # with a cost, the option line above says it
        srows.append(_row("推荐方案", "recommended option", f"{iv.option_label(opt)} ({opt})"))
    if _present(row, f"{p}_cost_per_poor_cny"):
        per_poor = _fmt_money(row[f"{p}_cost_per_poor_cny"])
        srows.append(_row("每贫困受益人", "per poor beneficiary, CNY", per_poor))
    prefix, per_poor_col = f"{p}_cost", f"{p}_cost_per_poor_cny"
    if costs is None:
        costs = [(c, v) for c, v in row.items() if "_cost" in str(c)]
    for ccol, cv in costs:  # other cost columns of a user's own schema
        if (str(ccol).startswith(prefix) and not is_missing(cv)
                and ccol != per_poor_col):
            unit = str(ccol).removeprefix(prefix).strip("_")
            srows.append(_row("投资估算", f"cost {unit}".strip(), _fmt_money(cv)))
    for suffix, en in (("_reasons_zh", "reasons (Chinese)"), ("_reasons", "reasons")):
        if _present(row, f"{p}{suffix}"):
            srows.append(_row("理由", en, str(row[f"{p}{suffix}"])))
    if not srows and not top:
        return ""
    return (
        f'<div class="cm-sec">{text(iv.label_zh)} '
        f"<small>{text(p)}</small></div>{top}<table>{''.join(srows)}</table>"
    )
