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


_OFFSETS: Final[tuple[tuple[tuple[int, int], str, str], ...]] = (
    ((5, 3), "left", "bottom"), ((-5, 3), "right", "bottom"),
    ((5, -3), "left", "top"), ((-5, -3), "right", "top"))
"""A label's places round its symbol, in the order tried: NE, NW, SE, SW (offset in points)."""

Box = tuple[float, float, float, float]
"""A window box as ``x0, y0, x1, y1`` (pixels)."""


def _ordered(box: Box) -> Box:
    """Return the box with ``x0 <= x1`` and ``y0 <= y1``, as ``Bbox.overlaps`` orders boxes."""
    x0, y0, x1, y1 = box
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _overlaps(box: Box, placed: Sequence[Box]) -> bool:
    """``Bbox.overlaps`` of ``box`` with any placed box (both ordered; edges touching overlap)."""
    ax1, ay1, ax2, ay2 = _ordered(box)
    return any(ax1 <= bx2 and bx1 <= ax2 and ay1 <= by2 and by1 <= ay2
               for bx1, by1, bx2, by2 in placed)


def _height_metrics(renderer: Any, props: Any) -> tuple[float, float]:
    """Return the font's least ascent and descent (pixels), as ``Text._get_layout`` reads them.

    The renderer's (``_get_font_height_metrics``, matplotlib 3.11), else the font's
    tables (:func:`contigmap.render.agg_text.font_height_metrics`), else the size of
    "lp", as matplotlib measures when a font has neither table.
    """
    from contigmap.render.agg_text import font_height_metrics

    if hasattr(renderer, "_get_font_height_metrics"):
        ascent, descent, _ = renderer._get_font_height_metrics(props)
    else:
        ascent, descent, _ = font_height_metrics(props, renderer.dpi)
    if ascent is None or descent is None:
        _, h, descent = renderer.get_text_width_height_descent("lp", props, False)
        ascent = h - descent
    return ascent, descent


def _label_boxes(renderer: Any, name: str, props: Any, anchor: tuple[float, float],
                 ascent_min: float, descent_min: float) -> list[Box]:
    """Return the window boxes of ``name`` at :data:`_OFFSETS` from ``anchor`` (pixels).

    Each is ``Annotation.get_window_extent`` of a one-line label at that offset (text
    coordinates "offset points"), expanded by 5 % in width and 10 % in height: the same
    arithmetic, in the same order, as ``Text._get_layout`` (matplotlib 3.11, no rotation,
    line spacing "normal"), ``Bbox.translated`` and ``Bbox.expanded``, so the same floats
    (``tests/test_render_static.py`` compares them), without an annotation per try.
    """
    w, h, d = renderer.get_text_width_height_descent(name, props, False)
    a = max(h - d, ascent_min) + 0 / 2  # one line: no line gap
    d = max(d, descent_min) + 0 / 2
    ymin = (0.0 - a) - d
    xs, ys = (0, 0, w, w), (ymin, 0, 0, ymin)
    xmin, xmax, ymin, ymax = min(xs), max(xs), min(ys), max(ys)
    width, height = xmax - xmin, ymax - ymin
    scale = renderer.dpi / 72  # points to pixels, as Affine2D().scale(dpi / 72)
    boxes = []
    for (dx, dy), ha, va in _OFFSETS:
        x0 = xmin - (xmin if ha == "left" else xmax)
        y0 = ymin - (ymin if va == "bottom" else ymax)
        tx, ty = scale * dx + 0.0 * dy + anchor[0], 0.0 * dx + scale * dy + anchor[1]
        bx0, by0, bx1, by1 = x0 + tx, y0 + ty, (x0 + width) + tx, (y0 + height) + ty
        dw = (1.05 * (bx1 - bx0) - (bx1 - bx0)) / 2.0
        dh = (1.1 * (by1 - by0) - (by1 - by0)) / 2.0
        boxes.append((bx0 - dw, by0 - dh, bx1 + dw, by1 + dh))
    return boxes


def _draw_labels(
    ax: Any,
    renderer: Any,
    points: Sequence[tuple[float, float]],
    names: Sequence[str],
    props: Any,
    placed: Sequence[Any],
    *,
    count: int,
    color: str = "#1a1a1a",
) -> list[Any]:
    """Greedy label placement: NE, NW, SE, SW of the symbol; skip when all collide.

    A label is placed where its box lies inside the map frame and overlaps none placed
    before (``placed``: window ``Bbox`` es, the township names', then the labels placed).
    The boxes are computed (:func:`_label_boxes`) and an annotation is made only for a
    label that is placed, at its place: the map is the one drawn by trying each place
    on the annotation itself. A label whose symbol is outside the axes (an annotation
    there has no box) and a label of several lines are measured by the annotation.
    """
    from matplotlib import patheffects

    halo = [patheffects.withStroke(linewidth=2.4, foreground="white")]
    fx0, fy0, fx1, fy1 = ax.get_window_extent(renderer).extents
    boxes: list[Box] = [tuple(b.extents) for b in placed]
    ordered = [_ordered(b) for b in boxes]
    ascent, descent = _height_metrics(renderer, props)
    anchors = ax.transData.transform(np.asarray(points, dtype=float).reshape(-1, 2))
    drawn: list[Any] = []
    for (x, y), name, anchor in zip(points, names, anchors, strict=True):
        if len(drawn) >= count:
            break
        if "\n" in name or not ax.contains_point(anchor):
            tries = _annotation_boxes(ax, renderer, name, (x, y), props)
        else:
            tries = _label_boxes(renderer, name, props, (anchor[0], anchor[1]), ascent, descent)
        for (offset, ha, va), (bx0, by0, bx1, by1) in zip(_OFFSETS, tries, strict=True):
            inside = ((fx0 <= bx0 <= fx1 or fx0 >= bx0 >= fx1)
                      and (fy0 <= by0 <= fy1 or fy0 >= by0 >= fy1)
                      and (fx0 <= bx1 <= fx1 or fx0 >= bx1 >= fx1)
                      and (fy0 <= by1 <= fy1 or fy0 >= by1 >= fy1))
            if inside and not _overlaps((bx0, by0, bx1, by1), ordered):
                ordered.append(_ordered((bx0, by0, bx1, by1)))
                drawn.append(ax.annotate(
                    name, (x, y), xytext=offset, textcoords="offset points", ha=ha, va=va,
                    fontproperties=props, color=color, zorder=8, path_effects=halo,
                    gid="village-label"))
                break
    return drawn


def _annotation_boxes(ax: Any, renderer: Any, name: str, xy: tuple[float, float],
                      props: Any) -> list[Box]:
    """Return the expanded window boxes of an annotation of ``name`` at each of :data:`_OFFSETS`."""
    t = ax.annotate(name, xy, xytext=_OFFSETS[0][0], textcoords="offset points",
                    fontproperties=props)
    boxes = []
    for offset, ha, va in _OFFSETS:
        t.xyann = offset
        t.set_horizontalalignment(ha)
        t.set_verticalalignment(va)
        boxes.append(tuple(t.get_window_extent(renderer).expanded(1.05, 1.1).extents))
    t.remove()
    return boxes


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
