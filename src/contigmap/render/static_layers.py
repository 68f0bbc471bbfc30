"""The village layers of a static map: symbols sized by people, and names.

Proportional symbols are scaled by area (Flannery's apparent-magnitude correction is not
applied); labels are placed greedily, highest priority first, and skipped when they
would collide. The layers under the villages are in :mod:`contigmap.render.static_base`;
:mod:`contigmap.render.static` assembles the map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.render import fonts
from contigmap.render.legend import IndicatorSpec
from contigmap.render.static_parts import MapText, nice_round

__all__ = [
    "Symbols",
    "draw_names",
    "draw_villages",
    "marker_area_pt2",
    "size_steps",
]

_MARKER_MIN_PT: Final[float] = 2.5
_MARKER_MAX_PT: Final[float] = 11.0


def marker_area_pt2(values: np.ndarray[Any, Any], vmax: float) -> np.ndarray[Any, Any]:
    """Marker area in pt^2, proportional to the value (a small floor keeps zeros visible)."""
    v = np.clip(np.nan_to_num(values, nan=0.0), 0, None)
    r = np.maximum(_MARKER_MAX_PT * np.sqrt(v / vmax) if vmax > 0 else 0 * v, _MARKER_MIN_PT)
    return np.asarray(r**2, dtype=float)


def size_steps(vmax: float) -> list[float]:
    """Three round reference values for the symbol-size legend."""
    if vmax <= 0:
        return []
    top = nice_round(vmax, 1)
    if top > vmax:
        top = nice_round(vmax * 0.75, 1)
    return sorted({v for v in (nice_round(top / 4, 1), nice_round(top / 2, 1), top) if v > 0})


def _label_order(villages: gpd.GeoDataFrame, column: str, spec: IndicatorSpec) -> list[Any]:
    """Village index labels, highest priority first."""
    prefix = column.removesuffix("_tier")
    frame = pd.DataFrame(index=villages.index)
    size = pd.to_numeric(villages.get("poor_pop", villages.get("pop")), errors="coerce")
    frame["size"] = size if size is not None else 0.0
    if column.endswith("_tier") and f"{prefix}_rank" in villages.columns:
        frame["key"] = pd.to_numeric(villages[f"{prefix}_rank"], errors="coerce")
        frame = frame.sort_values(["key", "size"], ascending=[True, False], na_position="last")
    elif spec.categories:
        order = {c.value: i for i, c in enumerate(spec.categories)}
        frame["key"] = [order.get(str(v), len(order)) for v in villages[column]]
        frame = frame.sort_values(["key", "size"], ascending=[True, False])
    else:
        frame["key"] = pd.to_numeric(villages[column], errors="coerce")
        frame = frame.sort_values(["key", "size"], ascending=[False, False], na_position="last")
    return list(frame.index)


def _overlaps(box: Any, placed: Sequence[Any]) -> bool:
    return any(box.overlaps(p) for p in placed)


def _draw_labels(
    ax: Any,
    renderer: Any,
    points: Sequence[tuple[float, float]],
    names: Sequence[str],
    props: Any,
    placed: list[Any],
    *,
    count: int,
    color: str = "#1a1a1a",
) -> list[Any]:
    """Greedy label placement: NE, NW, SE, SW of the symbol; skip when all collide."""
    from matplotlib import patheffects

    halo = [patheffects.withStroke(linewidth=2.4, foreground="white")]
    frame = ax.get_window_extent(renderer)
    drawn: list[Any] = []
    offsets = [((5, 3), "left", "bottom"), ((-5, 3), "right", "bottom"),
               ((5, -3), "left", "top"), ((-5, -3), "right", "top")]
    for (x, y), name in zip(points, names, strict=True):
        if len(drawn) >= count:
            break
        # one label per village, moved round its symbol until it fits (or removed)
        t = ax.annotate(
            name, (x, y), xytext=offsets[0][0], textcoords="offset points", ha=offsets[0][1],
            va=offsets[0][2], fontproperties=props, color=color, zorder=8, path_effects=halo,
            gid="village-label",
        )
        for offset, ha, va in offsets:
            t.xyann = offset
            t.set_horizontalalignment(ha)
            t.set_verticalalignment(va)
            box = t.get_window_extent(renderer).expanded(1.05, 1.1)
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            if inside and not _overlaps(box, placed):
                placed.append(box)
                drawn.append(t)
                break
        else:
            t.remove()
    return drawn


@dataclass(frozen=True)
class Symbols:
    """Where the village symbols are drawn and what sizes them."""

    xs: np.ndarray[Any, Any]
    ys: np.ndarray[Any, Any]
    size_col: str
    vmax: float


def draw_villages(ax: Any, vil: gpd.GeoDataFrame, column: str,
                   spec: IndicatorSpec) -> Symbols:
    """Villages coloured by ``column``, sized by poor people; biggest drawn first."""
    geom = vil.geometry
    pts = geom.where(geom.geom_type == "Point", geom.representative_point())
    size_col = "poor_pop" if "poor_pop" in vil.columns else ("pop" if "pop" in vil.columns else "")
    size_values = (
        pd.to_numeric(vil[size_col], errors="coerce").to_numpy(dtype=float)
        if size_col else np.zeros(len(vil))
    )
    vmax = float(np.nanmax(size_values)) if np.isfinite(size_values).any() else 0.0
    areas = marker_area_pt2(size_values, vmax)
    colors = np.array(spec.color_of(vil[column]), dtype=object)
    order = np.argsort(-areas, kind="stable")
    xs, ys = pts.x.to_numpy(), pts.y.to_numpy()
    ax.scatter(xs[order], ys[order], s=areas[order], c=list(colors[order]), edgecolors="#333333",
               linewidths=0.4, zorder=5, gid="villages")
    return Symbols(xs, ys, size_col, vmax)


def draw_names(ax: Any, renderer: Any, text: MapText, vil: gpd.GeoDataFrame, sym: Symbols,
               column: str, spec: IndicatorSpec, labels: str | None, label_count: int,
               placed: Sequence[Any] = ()) -> None:
    """Village labels, highest priority first, clear of ``placed`` boxes (township names).

    None without a CJK font.
    """
    if text.font is None or labels is None or labels not in vil.columns or label_count <= 0:
        return
    pos = {idx: i for i, idx in enumerate(vil.index)}
    ranked = [pos[i] for i in _label_order(vil, column, spec)]
    values = vil[labels].to_numpy(dtype=object)  # one column read, not one per village
    names = [values[i] for i in ranked]
    keep = [
        (i, str(n)) for i, n in zip(ranked, names, strict=True)
        if not pd.isna(n) and str(n).strip() and not fonts.missing_chars(str(n), text.font)
    ]
    _draw_labels(ax, renderer, [(sym.xs[i], sym.ys[i]) for i, _ in keep], [n for _, n in keep],
                 text.props(8), list(placed), count=label_count)
