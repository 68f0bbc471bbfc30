"""Indicator specs for village layers: which column, its labels, colour scale and legend.

The interactive map draws one switchable village layer per spec whose column exists
in the village table, so a later stage adds a layer by adding a spec
(:data:`DEFAULT_INDICATORS`, :func:`tier_indicator`).

Colour ramps are ColorBrewer schemes (Harrower and Brewer 2003, "ColorBrewer.org: an
online tool for selecting colour schemes for maps", *The Cartographic Journal* 40(1)):
sequential YlOrRd for poverty incidence, diverging RdYlGn (reversed) for travel time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any, Final

import numpy as np
import pandas as pd

from contigmap.indicators import TRAVEL_TIME_COLUMN, TRAVEL_TIME_LABEL_EN, TRAVEL_TIME_LABEL_ZH
from contigmap.priority import registry
from contigmap.priority.tiers import BUDGET, NEED_QUANTILE, NO_WORKS_TIER, tier_colour, tier_label

__all__ = [
    "DEFAULT_INDICATORS",
    "MISSING_COLOR",
    "RELOCATION_ZH",
    "Category",
    "IndicatorSpec",
    "indicators_for",
    "intervention_label_zh",
    "legend_html",
    "swatch_legend_html",
    "tier_basis",
    "tier_indicator",
]

MISSING_COLOR: Final[str] = "#bdbdbd"
"""Fill colour of a village whose indicator value is missing."""

RELOCATION_ZH: Final[str] = "易地扶贫搬迁"
"""Chinese name of ecological relocation (a stage of its own, not a ranked intervention)."""


def intervention_label_zh(key: str) -> str:
    """Chinese name of an intervention by its column prefix (the prefix when unknown).

    Registered interventions are named by :mod:`contigmap.priority.registry`;
    ``relocation`` by :data:`RELOCATION_ZH`.

    Parameters
    ----------
    key
        Intervention name, the prefix of its columns (``water`` of ``water_tier``).

    Returns
    -------
    str
        Its Chinese name.
    """
    return RELOCATION_ZH if key == "relocation" else registry.label_zh(key)


@dataclass(frozen=True)
class Category:
    """One class of a categorical indicator.

    Attributes
    ----------
    value
        The value in the column (compared as text, so ``1`` and ``"1"`` match).
    label_zh, label_en
        Legend labels.
    color
        Fill colour, a CSS colour.
    """

    value: str
    label_zh: str
    label_en: str
    color: str


@dataclass(frozen=True)
class IndicatorSpec:
    """How to draw one village indicator as a coloured layer.

    Give either ``breaks`` with ``colors`` (a classed numeric scale, ``len(colors) ==
    len(breaks) - 1``; a value ``v`` falls in class ``i`` when ``breaks[i] <= v <
    breaks[i + 1]``, the last class closed) or ``categories``.

    Attributes
    ----------
    column
        Column of the village table holding the indicator.
    label_zh, label_en
        Layer and legend title.
    breaks, colors
        Class edges (ascending) and one colour per class.
    categories
        Classes of a categorical indicator.
    fmt
        Formats a class edge for the legend (numeric scales).
    unit_zh, unit_en
        Unit shown after the legend title (may be empty).
    """

    column: str
    label_zh: str
    label_en: str
    breaks: tuple[float, ...] = ()
    colors: tuple[str, ...] = ()
    categories: tuple[Category, ...] = ()
    fmt: Callable[[float], str] = field(default=lambda v: f"{v:g}")
    unit_zh: str = ""
    unit_en: str = ""

    def __post_init__(self) -> None:
        if self.categories:
            return
        if len(self.breaks) < 2 or len(self.colors) != len(self.breaks) - 1:
            msg = (
                f"indicator {self.column!r}: give len(breaks) - 1 == len(colors) "
                f"(got {len(self.breaks)} breaks, {len(self.colors)} colours) or categories"
            )
            raise ValueError(msg)
        if any(b1 <= b0 for b0, b1 in zip(self.breaks, self.breaks[1:], strict=False)):
            msg = f"indicator {self.column!r}: breaks must increase, got {self.breaks}"
            raise ValueError(msg)

    def color_of(self, values: pd.Series[Any] | Sequence[Any]) -> list[str]:
        """Fill colour of each value (``MISSING_COLOR`` for missing or unclassed values).

        Parameters
        ----------
        values
            Indicator values, one per village.

        Returns
        -------
        list[str]
            One CSS colour per value.
        """
        if self.categories:
            lookup = {c.value: c.color for c in self.categories}
            return [
                MISSING_COLOR if _is_missing(v) else lookup.get(_as_key(v), MISSING_COLOR)
                for v in values
            ]
        arr = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(
            dtype=float
        )
        edges = np.asarray(self.breaks, dtype=float)
        idx = np.searchsorted(edges, arr, side="right") - 1
        idx = np.where(arr == edges[-1], len(self.colors) - 1, idx)  # last class closed
        ok = np.isfinite(arr) & (idx >= 0) & (idx < len(self.colors))
        return [self.colors[i] if good else MISSING_COLOR for i, good in zip(idx, ok, strict=True)]

    def legend_items(self) -> list[tuple[str, str]]:
        """(colour, label) pairs for the legend, top to bottom."""
        if self.categories:
            return [(c.color, f"{c.label_zh} {c.label_en}".strip()) for c in self.categories]
        items = []
        for i, color in enumerate(self.colors):
            lo, hi = self.breaks[i], self.breaks[i + 1]
            label = f"≥ {self.fmt(lo)}" if math.isinf(hi) else f"{self.fmt(lo)} – {self.fmt(hi)}"
            items.append((color, label))
        return items


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def _as_key(v: Any) -> str:
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def _minutes(v: float) -> str:
    return f"{v:.0f}"


YLORRD_6: Final[tuple[str, ...]] = (
    "#ffffb2",
    "#fed976",
    "#feb24c",
    "#fd8d3c",
    "#f03b20",
    "#bd0026",
)
RDYLGN_6_R: Final[tuple[str, ...]] = (
    "#1a9850",
    "#91cf60",
    "#d9ef8b",
    "#fee08b",
    "#fc8d59",
    "#d73027",
)

POVERTY_INCIDENCE: Final[IndicatorSpec] = IndicatorSpec(
    column="poverty_incidence",
    label_zh="贫困发生率",
    label_en="Poverty incidence",
    breaks=(0.0, 0.05, 0.10, 0.20, 0.30, 0.45, 1.0),
    colors=YLORRD_6,
    fmt=_pct,
)

TT_TOWNSHIP_SEAT: Final[IndicatorSpec] = IndicatorSpec(
    column=TRAVEL_TIME_COLUMN,
    label_zh=TRAVEL_TIME_LABEL_ZH,
    label_en=TRAVEL_TIME_LABEL_EN,
    breaks=(0.0, 15.0, 30.0, 60.0, 90.0, 120.0, math.inf),
    colors=RDYLGN_6_R,
    fmt=_minutes,
    unit_zh="分钟",
    unit_en="min",
)

TT_COUNTY_SEAT: Final[IndicatorSpec] = IndicatorSpec(
    column="tt_county_seat_min",
    label_zh="到县城时间",
    label_en="Travel time to county seat",
    breaks=(0.0, 30.0, 60.0, 90.0, 120.0, 180.0, math.inf),
    colors=RDYLGN_6_R,
    fmt=_minutes,
    unit_zh="分钟",
    unit_en="min",
)

DEFAULT_INDICATORS: Final[tuple[IndicatorSpec, ...]] = (
    POVERTY_INCIDENCE,
    TT_TOWNSHIP_SEAT,
    TT_COUNTY_SEAT,
)
"""Village layers drawn when their column exists, in this order (the first is shown)."""

_FALLBACK_PALETTE: Final[tuple[str, ...]] = ("#2c7bb6", "#7b3294", "#008837", "#a6611a", "#636363")


def tier_basis(frame: pd.DataFrame, column: str) -> str | None:
    """Return the tier basis of a ``<iv>_tier`` column (its ``<iv>_tier_basis`` value).

    See :mod:`contigmap.priority.tiers` (``budget`` or ``need_quantile``); ``None`` when
    the table has no basis column or it is empty.
    """
    col = f"{column.removesuffix('_tier')}_tier_basis"
    if col not in frame.columns:
        return None
    values = frame[col].dropna().astype(str).unique()
    return str(values[0]) if len(values) else None


def _english(prefix: str) -> str:
    """Return the English name of a tier layer (``Roads`` for ``roads``).

    A registered name with an underscore takes the registry's English name
    (``radio_tv``: Radio and TV).
    """
    if "_" in prefix and prefix in registry.REGISTRY:
        label = registry.REGISTRY[prefix].label_en
        return label[:1].upper() + label[1:]
    return prefix.replace("_", " ").capitalize()


def tier_indicator(
    column: str, values: Sequence[Any] | pd.Series[Any], basis: str | None = None
) -> IndicatorSpec:
    """Make a categorical spec for a priority-tier column such as ``roads_tier``.

    Classes and labels come from the one tier definition,
    :func:`contigmap.priority.tiers.tier_label` (``budget``: 预算内, 第二批, 后续;
    ``need_quantile``: need groups; 0 = 无需工程), red for tier 1 through blue, white for
    no works, in the order tier 1, 2, …, no works. Any other value gets a colour of its own.

    Parameters
    ----------
    column
        The ``<intervention>_tier`` column.
    values
        Its values (to list the classes that occur).
    basis
        The tier basis (``<iv>_tier_basis``, see :func:`tier_basis`); ``None`` labels
        numeric tiers "第k档 / tier k".

    Returns
    -------
    IndicatorSpec
        The spec, labelled with the intervention's Chinese and English name.
    """
    prefix = column.removesuffix("_tier")
    zh = intervention_label_zh(prefix)
    seen = {_as_key(v) for v in values if not _is_missing(v)}
    numeric = sorted((int(k) for k in seen if k.lstrip("-").isdigit()),
                     key=lambda t: (t == NO_WORKS_TIER, t))
    cats: list[Category] = []
    for t in numeric:
        lzh, len_ = tier_label(t, basis)
        cats.append(Category(str(t), lzh, len_, tier_colour(t)))
    for extra, key in enumerate(sorted(seen - {str(t) for t in numeric})):
        cats.append(Category(key, key, "", _FALLBACK_PALETTE[extra % len(_FALLBACK_PALETTE)]))
    what = {BUDGET: ("按预算分批", "by budget"), NEED_QUANTILE: ("按需求分档", "need groups")}
    how_zh, how_en = what.get(basis or "", ("", ""))
    return IndicatorSpec(
        column=column,
        label_zh=f"{zh}优先级" + (f"（{how_zh}）" if how_zh else ""),
        label_en=f"{_english(prefix)} priority tier"
        + (f" ({how_en})" if how_en else ""),
        categories=tuple(cats),
    )


def indicators_for(
    columns: Sequence[str],
    frame: pd.DataFrame,
    specs: Sequence[IndicatorSpec] = DEFAULT_INDICATORS,
) -> list[IndicatorSpec]:
    """List the specs to draw for a village table: existing columns, then priority tiers.

    A tier layer is drawn for each village-level intervention of
    :data:`contigmap.priority.registry.REGISTRY` whose ``<name>_tier`` column the table has,
    in the registry's order (hamlet-level ones are drawn from the hamlet table, see
    :mod:`contigmap.render.compose`).

    Parameters
    ----------
    columns
        The village table's columns.
    frame
        The village table (to list the classes of each tier column).
    specs
        Candidate specs, in drawing order.

    Returns
    -------
    list[IndicatorSpec]
        One spec per village layer.
    """
    present = set(columns)
    out = [s for s in specs if s.column in present]
    taken = {s.column for s in out}
    for iv in registry.REGISTRY.values():
        col = f"{iv.name}_tier"
        if iv.unit == "village" and col in present and col not in taken:
            out.append(tier_indicator(col, frame[col], tier_basis(frame, col)))
    return out


_CSS_COLOUR = re.compile(
    r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{1,30}|(?:rgb|rgba|hsl|hsla)\([0-9., %]{1,60}\)"
)


def _css_colour(value: str) -> str:
    """Return a CSS colour for a style attribute; anything else (``url(...)``) becomes grey."""
    text = str(value).strip()
    return text if _CSS_COLOUR.fullmatch(text) else MISSING_COLOR


def _css_width(value: str) -> str:
    """Return a line width in pixels for a style attribute (2 when not a plain number)."""
    try:
        width = float(value)
    except ValueError:
        return "2"
    return f"{width:g}" if math.isfinite(width) and 0 <= width <= 50 else "2"


def swatch_legend_html(
    title_zh: str, title_en: str, items: Sequence[tuple[str, str]], *, kind: str = "circle"
) -> str:
    """Build an HTML legend block: a title and one swatch per item, every text escaped.

    Colours that are not plain CSS colours (``#rrggbb``, a name, ``rgb(...)``) are drawn
    grey, so a style attribute cannot load anything.

    Parameters
    ----------
    title_zh, title_en
        Title in Chinese and English.
    items
        (CSS colour or style, label) pairs. For ``kind="line"`` the first element is
        ``"colour|width|dash"``.
    kind
        ``circle``, ``square`` or ``line``.

    Returns
    -------
    str
        The block's inner HTML.
    """
    rows = []
    for style, label in items:
        if kind == "line":
            color, width, dash = [*style.split("|"), "2", ""][:3]
            border = "dashed" if dash else "solid"
            sw = (
                f'<span class="cm-sw-line" style="border-top:{_css_width(width)}px {border} '
                f'{_css_colour(color)}"></span>'
            )
        else:
            shape = "cm-sw-circle" if kind == "circle" else "cm-sw-square"
            sw = f'<span class="{shape}" style="background:{_css_colour(style)}"></span>'
        rows.append(f'<div class="cm-legend-row">{sw}<span>{escape(label)}</span></div>')
    return (
        f'<div class="cm-legend-title">{escape(title_zh)} '
        f"<small>{escape(title_en)}</small></div>" + "".join(rows)
    )


def legend_html(spec: IndicatorSpec) -> str:
    """Build the legend block of an indicator layer (escaped HTML).

    Parameters
    ----------
    spec
        The indicator.

    Returns
    -------
    str
        The block's inner HTML, with a row for missing values.
    """
    zh = f"{spec.label_zh}（{spec.unit_zh}）" if spec.unit_zh else spec.label_zh
    en = f"{spec.label_en} ({spec.unit_en})" if spec.unit_en else spec.label_en
    items = [*spec.legend_items(), (MISSING_COLOR, "无数据 no data")]
    return swatch_legend_html(zh, en, items, kind="circle")
