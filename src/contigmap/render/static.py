"""Static PNG maps for printed reports: an overview and one map per intervention.

Each map shows the county and township outlines (with township names), roads by
surface (thin and muted), and villages coloured by one column (a priority tier, or a
continuous indicator in classes) and sized by poor people, with a legend, a scale
bar, a north arrow, a Chinese title and a note on the data source.

Cartographic choices follow common practice for thematic maps (Slocum et al. 2009,
*Thematic Cartography and Geovisualization*, 3rd ed.): proportional symbols scaled by
area (Flannery's apparent-magnitude correction is not applied), a classed sequential
ColorBrewer scheme for ratios, a scale bar of round length (1, 2 or 5 x 10^k m) about a
fifth of the map width, and a north arrow turned by the grid convergence of the map's
projection so that it points to true north.

Drawing uses matplotlib's object API with the Agg canvas (no pyplot state, no window).
Every text is drawn literally: maps are built and saved with ``text.parse_math`` and
``text.usetex`` off (:data:`_LITERAL_TEXT`), so a name such as ``$x^2$村`` or ``$5`` is
shown as typed instead of being parsed as mathtext (or failing to parse).
Chinese text needs a CJK font (:mod:`contigmap.render.fonts`); without one the map is
drawn with English text only and no village or township names, and a
:class:`~contigmap.errors.DataQualityWarning` says so once per process.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from contigmap.errors import CRSError, DataQualityWarning, ValidationError
from contigmap.render import fonts
from contigmap.render.legend import (
    DEFAULT_INDICATORS,
    INTERVENTION_ZH,
    MISSING_COLOR,
    YLORRD_6,
    IndicatorSpec,
    tier_indicator,
)

__all__ = [
    "INDICATOR_TITLES",
    "nice_scale_length_m",
    "render_static_map",
    "render_static_maps",
]

logger = logging.getLogger(__name__)

INDICATOR_TITLES: Final[dict[str, tuple[str, str]]] = {
    "poverty_incidence": ("贫困发生率", "Poverty incidence"),
    "tt_township_seat_min": ("到乡镇驻地时间", "Travel time to township seat"),
    "tt_county_seat_min": ("到县城时间", "Travel time to county seat"),
}

_ROAD_STYLE: Final[dict[str, tuple[str, Any, str]]] = {
    # surface: (colour, linestyle, legend label)
    "paved": ("#6b6b6b", "-", "硬化路面 paved"),
    "gravel": ("#a08a6a", "-", "砂石路面 gravel"),
    "earth": ("#b9a98f", (0, (3, 2)), "土路 earth"),
}
_ROAD_WIDTH: Final[dict[str, float]] = {
    "expressway": 1.6,
    "national": 1.4,
    "provincial": 1.2,
    "county": 1.0,
    "township": 0.8,
    "village": 0.55,
    "track": 0.45,
    "path": 0.35,
}
_COUNTY_FILL: Final[str] = "#f6f4ec"
_COUNTY_EDGE: Final[str] = "#404040"
_TOWN_EDGE: Final[str] = "#8c8c8c"
_MARKER_MIN_PT: Final[float] = 2.5
_MARKER_MAX_PT: Final[float] = 11.0
_ILLUSTRATIVE: Final[str] = "示意数据 / illustrative data"

_state: dict[str, bool] = {"no_font_warned": False}


# --------------------------------------------------------------------------- text


@dataclass(frozen=True)
class _Text:
    """How to draw text: a CJK face, or the default font with English only."""

    font: fonts.CJKFont | None

    def props(self, size: float, *, bold: bool = False) -> Any:
        from matplotlib.font_manager import FontProperties

        weight = "bold" if bold else "normal"
        if self.font is None:
            return FontProperties(family="DejaVu Sans", size=size, weight=weight)
        return FontProperties(family=self.font.family, size=size, weight=weight)

    def pick(self, zh: str, en: str) -> str:
        """Both languages with a CJK font, the English alone without."""
        if self.font is None:
            return en or _ascii(zh)
        return f"{zh} {en}".strip() if en else zh

    def free(self, text: str) -> str:
        """Free text (a note): unchanged with a CJK font, else CJK characters dropped."""
        return text if self.font is not None else _ascii(text)


def _ascii(text: str) -> str:
    """Keep the characters DejaVu Sans draws (Latin, punctuation, symbols); drop CJK."""
    kept = "".join(ch for ch in text if ord(ch) < 0x2E80 or 0xFF01 <= ord(ch) <= 0xFF5E)
    return " ".join(kept.split())


def _text_setup() -> _Text:
    path = fonts.find_cjk_font()
    if path is None:
        if not _state["no_font_warned"]:
            _state["no_font_warned"] = True
            warnings.warn(
                "no CJK font found: static maps are drawn without Chinese text or village "
                "names; install one (Debian: apt-get install fonts-noto-cjk)",
                DataQualityWarning,
                stacklevel=3,
            )
        return _Text(None)
    best = fonts.cjk_font()
    if best is not None and best.path == path:
        return _Text(best)
    from matplotlib import font_manager, ft2font

    face = ft2font.FT2Font(str(path))
    font_manager.fontManager.addfont(str(path))
    return _Text(fonts.CJKFont(path=path, face_index=0, family=face.family_name))


# --------------------------------------------------------------------------- geometry


def _metric_crs(gdf: gpd.GeoDataFrame) -> CRS:
    crs = CRS.from_user_input(gdf.crs)
    if crs.is_projected and crs.axis_info and crs.axis_info[0].unit_name in ("metre", "meter"):
        return crs
    return CRS.from_user_input(gdf.estimate_utm_crs())


def _prepared(gdf: gpd.GeoDataFrame | None, layer: str, crs: CRS) -> gpd.GeoDataFrame | None:
    if gdf is None:
        return None
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"layer {layer!r}: expected a GeoDataFrame, got {type(gdf).__name__}"
        raise ValidationError(msg)
    if gdf.crs is None:
        msg = f"layer {layer!r} has no CRS; set it with gdf.set_crs(...) before drawing"
        raise CRSError(msg)
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    out = gdf.loc[keep]
    return out if CRS.from_user_input(out.crs) == crs else out.to_crs(crs)


def nice_scale_length_m(map_width_m: float, fraction: float = 0.2) -> float:
    """Round scale-bar length for a map ``map_width_m`` wide: 1, 2 or 5 x 10^k metres.

    The largest round length not longer than ``fraction`` of the width.

    Parameters
    ----------
    map_width_m
        Width of the map frame on the ground, metres (> 0).
    fraction
        Target share of the width.

    Returns
    -------
    float
        Bar length in metres.
    """
    if not (map_width_m > 0 and math.isfinite(map_width_m)):
        msg = f"map width must be a positive number of metres, got {map_width_m}"
        raise ValueError(msg)
    target = map_width_m * fraction
    k = math.floor(math.log10(target))
    best = 10.0**k
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * 10.0**k <= target * (1 + 1e-9):
            best = m * 10.0**k
    return best


def _length_label(length_m: float) -> tuple[float, str]:
    """(divisor, unit) to label a length: km from 1 km up."""
    return (1000.0, "km") if length_m >= 1000 else (1.0, "m")


def _fmt_len(value: float) -> str:
    return f"{value:g}"


def _north_angle_deg(crs: CRS, x: float, y: float) -> float:
    """Angle of true north from grid north at (x, y), degrees counterclockwise."""
    geo = CRS.from_user_input(crs).geodetic_crs
    to_geo = Transformer.from_crs(crs, geo, always_xy=True)
    from_geo = Transformer.from_crs(geo, crs, always_xy=True)
    lon, lat = to_geo.transform(x, y)
    x2, y2 = from_geo.transform(lon, min(lat + 0.01, 89.99))
    return math.degrees(math.atan2(-(x2 - x), y2 - y))


# --------------------------------------------------------------------------- classes


def _spec_for(column: str, values: pd.Series, categorical: bool | None) -> IndicatorSpec:
    if column.endswith("_tier") and categorical is not False:
        return tier_indicator(column, values)
    for spec in DEFAULT_INDICATORS:
        if spec.column == column:
            return spec
    numeric = pd.to_numeric(values, errors="coerce")
    if categorical or (categorical is None and numeric.notna().sum() < values.notna().sum()):
        return tier_indicator(column, values)
    return _quantile_spec(column, numeric.to_numpy(dtype=float))


def _nice_round(x: float, digits: int = 2) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    scale = 10 ** (digits - 1 - math.floor(math.log10(abs(x))))
    return round(x * scale) / scale


def _quantile_spec(column: str, values: np.ndarray[Any, Any], n: int = 5) -> IndicatorSpec:
    """Classes at quantiles (rounded to 2 significant digits), YlOrRd."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        edges = [0.0, 1.0]
    else:
        qs = np.quantile(finite, np.linspace(0, 1, n + 1))
        inner = sorted({_nice_round(float(q)) for q in qs[1:-1]})
        lo, hi = float(finite.min()), float(finite.max())
        edges = [lo, *[q for q in inner if lo < q < hi], hi if hi > lo else lo + 1.0]
    colors = YLORRD_6[-(len(edges) - 1) :] if len(edges) - 1 < 6 else YLORRD_6
    zh, en = INDICATOR_TITLES.get(column, (column, column))
    return IndicatorSpec(
        column=column,
        label_zh=zh,
        label_en=en,
        breaks=tuple(edges),
        colors=tuple(colors[: len(edges) - 1]),
        fmt=lambda v: f"{_nice_round(v, 3):g}",
    )


def _class_labels(spec: IndicatorSpec, text: _Text) -> list[tuple[str, str]]:
    if spec.categories:
        return [
            (c.color, text.pick(c.label_zh, c.label_en) if c.label_en else text.free(c.label_zh))
            for c in spec.categories
        ]
    return [(color, label) for color, label in spec.legend_items()]


# --------------------------------------------------------------------------- drawing


def _marker_area_pt2(values: np.ndarray[Any, Any], vmax: float) -> np.ndarray[Any, Any]:
    """Marker area in pt^2, proportional to the value (a small floor keeps zeros visible)."""
    v = np.clip(np.nan_to_num(values, nan=0.0), 0, None)
    r = np.maximum(_MARKER_MAX_PT * np.sqrt(v / vmax) if vmax > 0 else 0 * v, _MARKER_MIN_PT)
    return np.asarray(r**2, dtype=float)


def _size_steps(vmax: float) -> list[float]:
    """Three round reference values for the symbol-size legend."""
    if vmax <= 0:
        return []
    top = _nice_round(vmax, 1)
    if top > vmax:
        top = _nice_round(vmax * 0.75, 1)
    return sorted({v for v in (_nice_round(top / 4, 1), _nice_round(top / 2, 1), top) if v > 0})


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
        for offset, ha, va in offsets:
            t = ax.annotate(
                name, (x, y), xytext=offset, textcoords="offset points", ha=ha, va=va,
                fontproperties=props, color=color, zorder=8, path_effects=halo,
                gid="village-label",
            )
            box = t.get_window_extent(renderer).expanded(1.05, 1.1)
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            if inside and not _overlaps(box, placed):
                placed.append(box)
                drawn.append(t)
                break
            t.remove()
    return drawn


def _draw_scale_bar(
    ax: Any, text: _Text, xlim: tuple[float, float], ylim: tuple[float, float]
) -> float:
    """Draw a two-segment black/white bar in the lower left; return its length in metres."""
    from matplotlib.patches import Rectangle

    width = xlim[1] - xlim[0]
    length = nice_scale_length_m(width)
    div, unit = _length_label(length)
    x0 = xlim[0] + 0.04 * width
    y0 = ylim[0] + 0.045 * (ylim[1] - ylim[0])
    h = 0.008 * (ylim[1] - ylim[0])
    half = length / 2
    for i, color in enumerate(("#222222", "white")):
        ax.add_patch(
            Rectangle((x0 + i * half, y0), half, h, facecolor=color, edgecolor="#222222",
                      linewidth=0.8, zorder=9, gid="scale-bar")
        )
    props = text.props(8)
    for pos in (0.0, half, length):
        lab = _fmt_len(pos / div)
        if pos == length:
            lab = f"{lab} {unit}"
        ax.text(x0 + pos, y0 + 1.6 * h, lab, ha="center", va="bottom", fontproperties=props,
                zorder=9, gid="scale-bar-label" if pos == length else None)
    return length


def _draw_north_arrow(ax: Any, text: _Text, crs: CRS, xlim: tuple[float, float],
                      ylim: tuple[float, float]) -> None:
    from matplotlib.patches import Polygon
    from matplotlib.transforms import Affine2D

    cx, cy = (xlim[0] + xlim[1]) / 2, (ylim[0] + ylim[1]) / 2
    angle = _north_angle_deg(crs, cx, cy)
    # in axes fraction; the map axes has equal aspect, so scale y by the frame ratio
    bbox = ax.get_position(original=True)
    fig_w, fig_h = ax.figure.get_size_inches()
    ratio = (bbox.width * fig_w) / (bbox.height * fig_h)
    ax_x, ax_y, size = 0.94, 0.88, 0.035
    rot = Affine2D().rotate_deg(angle).scale(size, size * ratio).translate(ax_x, ax_y)
    left = [(0.0, 1.0), (-0.45, -0.8), (0.0, -0.35)]
    right = [(0.0, 1.0), (0.45, -0.8), (0.0, -0.35)]
    for pts, face in ((left, "#222222"), (right, "white")):
        ax.add_patch(Polygon(rot.transform(np.array(pts)), closed=True, facecolor=face,
                             edgecolor="#222222", linewidth=0.8, transform=ax.transAxes,
                             zorder=9, gid="north-arrow"))
    nx, ny = rot.transform(np.array([[0.0, 1.45]]))[0]
    ax.text(nx, ny, "N", transform=ax.transAxes, ha="center", va="center",
            fontproperties=text.props(10, bold=True), zorder=9)


def _title_text(title: str, title_en: str, text: _Text) -> tuple[str, str]:
    if text.font is None:
        return (title_en or _ascii(title) or "Map", "")
    return title, title_en


def _wrap(text: str, width: int) -> str:
    import textwrap

    out: list[str] = []
    for para in text.splitlines() or [""]:
        # CJK has no spaces: wrap by characters when a paragraph has few spaces
        if para.count(" ") < len(para) / 20:
            out.extend(para[i : i + width] for i in range(0, max(len(para), 1), width))
        else:
            out.extend(textwrap.wrap(para, width=width) or [""])
    return "\n".join(out)


def render_static_map(
    out_png: Path,
    *,
    villages: gpd.GeoDataFrame,
    column: str,
    title: str,
    title_en: str = "",
    boundaries: Mapping[str, gpd.GeoDataFrame] | None = None,
    roads: gpd.GeoDataFrame | None = None,
    legend_title: str | None = None,
    categorical: bool | None = None,
    spec: IndicatorSpec | None = None,
    labels: str | None = "name",
    label_count: int = 12,
    illustrative: bool = False,
    source_note: str = "",
    dpi: int = 150,
    figsize_in: tuple[float, float] = (11.69, 8.27),
) -> Path:
    """Draw a village map to a PNG file, atomically.

    Parameters
    ----------
    out_png
        Output file; written to a temporary file next to it, then renamed.
    villages
        Village points (or polygons, drawn at a representative point) with a CRS,
        ``column``, and ``poor_pop`` (or ``pop``) for the symbol size.
    column
        Column to colour by: a ``*_tier`` column (categorical) or a numeric indicator.
    title, title_en
        Map title in Chinese, and an English subtitle (the title without a CJK font).
    boundaries
        ``{"county": ..., "townships": ...}`` polygons; township names come from their
        ``name`` column.
    roads
        Road lines with ``surface`` (and ``road_class`` for line widths).
    legend_title
        Title of the colour legend; default the indicator's Chinese and English name.
    categorical
        Force the column to be treated as categories (True) or classed numbers
        (False); default: ``*_tier`` and text columns are categorical.
    spec
        Colours and classes to use instead of the defaults of
        :mod:`contigmap.render.legend` (or quantile classes for an unknown column).
    labels
        Column of village names to label; ``None`` for no labels.
    label_count
        How many villages to label, highest priority first (lowest ``<prefix>_rank``
        for a tier column, else the highest value); labels that would collide are
        skipped.
    illustrative
        Add "示意数据 / illustrative data" to the note.
    source_note
        Where the data come from.
    dpi, figsize_in
        Resolution and size (default A4 landscape).

    Returns
    -------
    pathlib.Path
        ``out_png``.

    Raises
    ------
    ValidationError
        No villages, or ``column`` missing.
    CRSError
        A layer without a CRS.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from contigmap.io.write import atomic_path

    fig = _build_figure(
        villages=villages, column=column, title=title, title_en=title_en,
        boundaries=boundaries, roads=roads, legend_title=legend_title, categorical=categorical,
        spec=spec, labels=labels, label_count=label_count, illustrative=illustrative,
        source_note=source_note, dpi=dpi, figsize_in=figsize_in,
    )
    assert isinstance(fig, Figure)
    out_png = Path(out_png)
    with atomic_path(out_png) as tmp, _literal_text():
        FigureCanvasAgg(fig)
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    logger.info("static map %s: %s, %d villages", out_png.name, column, len(villages))
    return out_png


_LITERAL_TEXT: Final[tuple[tuple[str, bool], ...]] = (
    ("text.parse_math", False),
    ("text.usetex", False),
)
"""matplotlib settings under which every text is drawn as typed (no mathtext, no TeX)."""


def _literal_text() -> Any:
    """Context in which new matplotlib texts are literal: ``$`` in a name is just a dollar."""
    import matplotlib

    rc: dict[Any, Any] = dict(_LITERAL_TEXT)
    return matplotlib.rc_context(rc)


def _build_figure(**kwargs: Any) -> Any:
    """Draw the map (see :func:`_draw_figure`) with every text literal (:data:`_LITERAL_TEXT`)."""
    with _literal_text():
        return _draw_figure(**kwargs)


def _draw_figure(
    *,
    villages: gpd.GeoDataFrame,
    column: str,
    title: str,
    title_en: str,
    boundaries: Mapping[str, gpd.GeoDataFrame] | None,
    roads: gpd.GeoDataFrame | None,
    legend_title: str | None,
    categorical: bool | None,
    spec: IndicatorSpec | None,
    labels: str | None,
    label_count: int,
    illustrative: bool,
    source_note: str,
    dpi: int,
    figsize_in: tuple[float, float],
) -> Any:
    """Draw the map and return the matplotlib ``Figure`` (with an Agg canvas)."""
    from matplotlib import patheffects
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    if not isinstance(villages, gpd.GeoDataFrame) or villages.crs is None:
        _prepared(villages, "villages", CRS.from_epsg(4326))  # raises the right error
    if len(villages) == 0:
        msg = "layer 'villages' is empty; a map needs at least one village"
        raise ValidationError(msg)
    if column not in villages.columns:
        msg = f"layer 'villages' has no column {column!r} to colour by; add it or pick another"
        raise ValidationError(msg)
    crs = _metric_crs(villages)
    vil = _prepared(villages, "villages", crs)
    assert vil is not None
    bounds = {k: _prepared(g, f"boundaries.{k}", crs) for k, g in (boundaries or {}).items()}
    county = bounds.get("county")
    towns = bounds.get("townships")
    road_gdf = _prepared(roads, "roads", crs)

    text = _text_setup()
    spec = spec or _spec_for(column, vil[column], categorical)

    fig = Figure(figsize=figsize_in, dpi=dpi, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    # extent: the county (or all villages) plus a margin
    frame_geoms = county.geometry if county is not None and len(county) else vil.geometry
    x0, y0, x1, y1 = frame_geoms.total_bounds
    pad = 0.04 * max(x1 - x0, y1 - y0, 1000.0)
    xlim, ylim = (x0 - pad, x1 + pad), (y0 - pad, y1 + pad)
    w, h = xlim[1] - xlim[0], ylim[1] - ylim[0]
    # the frame hugs the data (between 45% and 70% of the page width, 80% of its
    # height); the shorter side is widened so the data fill the frame at one scale
    fig_w, fig_h = figsize_in
    height_frac = 0.80
    width_frac = min(max(height_frac * fig_h * (w / h) / fig_w, 0.45), 0.70)
    ax = fig.add_axes((0.02, 0.085, width_frac, height_frac))
    ax.set_aspect("equal")
    ax.set_axis_off()
    frame_ratio = (width_frac * fig_w) / (height_frac * fig_h)
    if w / h < frame_ratio:
        extra = (h * frame_ratio - w) / 2
        xlim = (xlim[0] - extra, xlim[1] + extra)
    else:
        extra = (w / frame_ratio - h) / 2
        ylim = (ylim[0] - extra, ylim[1] + extra)
    # a thin neatline around the map frame
    ax.add_patch(Rectangle(
        (0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="#555555", linewidth=0.8,
        zorder=10, clip_on=False))

    legend_boundaries: list[Any] = []
    if county is not None and len(county):
        county.plot(ax=ax, facecolor=_COUNTY_FILL, edgecolor="none", zorder=1)
        county.boundary.plot(ax=ax, color=_COUNTY_EDGE, linewidth=1.6, zorder=6)
        legend_boundaries.append(
            Line2D([], [], color=_COUNTY_EDGE, linewidth=1.6, label=text.pick("县界", "county"))
        )
    if towns is not None and len(towns):
        towns.boundary.plot(ax=ax, color=_TOWN_EDGE, linewidth=0.8, linestyle=(0, (4, 2)),
                            zorder=2)
        legend_boundaries.append(
            Line2D([], [], color=_TOWN_EDGE, linewidth=0.8, linestyle=(0, (4, 2)),
                   label=text.pick("乡镇界", "township"))
        )

    legend_roads: list[Any] = []
    if road_gdf is not None and len(road_gdf):
        surface = road_gdf["surface"] if "surface" in road_gdf.columns else pd.Series(
            "paved", index=road_gdf.index)
        rclass = road_gdf["road_class"] if "road_class" in road_gdf.columns else pd.Series(
            "village", index=road_gdf.index)
        widths = rclass.map(_ROAD_WIDTH).fillna(0.5).to_numpy(dtype=float)
        for surf, (color, style, label) in _ROAD_STYLE.items():
            sel = (surface == surf).to_numpy()
            if not sel.any():
                continue
            road_gdf.loc[sel].plot(ax=ax, color=color, linewidth=widths[sel], linestyle=style,
                                   zorder=3, alpha=0.9)
            zh, en = label.split(" ", 1)
            legend_roads.append(Line2D([], [], color=color, linewidth=0.9, linestyle=style,
                                       label=text.pick(zh, en)))

    # villages: biggest first so small symbols stay visible on top
    pts = vil.geometry.where(vil.geometry.geom_type == "Point", vil.geometry.representative_point())
    size_col = "poor_pop" if "poor_pop" in vil.columns else ("pop" if "pop" in vil.columns else "")
    size_values = (
        pd.to_numeric(vil[size_col], errors="coerce").to_numpy(dtype=float)
        if size_col else np.zeros(len(vil))
    )
    vmax = float(np.nanmax(size_values)) if np.isfinite(size_values).any() else 0.0
    areas = _marker_area_pt2(size_values, vmax)
    colors = np.array(spec.color_of(vil[column]), dtype=object)
    order = np.argsort(-areas, kind="stable")
    xs, ys = pts.x.to_numpy(), pts.y.to_numpy()
    ax.scatter(xs[order], ys[order], s=areas[order], c=list(colors[order]), edgecolors="#333333",
               linewidths=0.4, zorder=5, gid="villages")

    # geopandas' plot() autoscales: fix the frame after drawing the layers
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)

    # township names, then village labels (no Chinese without a CJK font)
    renderer = canvas.get_renderer()
    placed: list[Any] = []
    if text.font is not None and towns is not None and len(towns) and "name" in towns.columns:
        halo = [patheffects.withStroke(linewidth=3, foreground=_COUNTY_FILL)]
        for geom, name in zip(towns.geometry.representative_point(), towns["name"], strict=True):
            if pd.isna(name):
                continue
            label = str(name)
            if fonts.missing_chars(label, text.font):
                continue
            t = ax.text(geom.x, geom.y, label, ha="center", va="center", color="#6e6e6e",
                        fontproperties=text.props(10.5, bold=True), zorder=4, path_effects=halo,
                        gid="township-label")
            placed.append(t.get_window_extent(renderer))
    if labels is not None and text.font is not None and labels in vil.columns and label_count > 0:
        pos = {idx: i for i, idx in enumerate(vil.index)}
        ranked = [pos[i] for i in _label_order(vil, column, spec)]
        names = [vil[labels].iloc[i] for i in ranked]
        keep = [
            (i, str(n)) for i, n in zip(ranked, names, strict=True)
            if not pd.isna(n) and str(n).strip() and not fonts.missing_chars(str(n), text.font)
        ]
        _draw_labels(ax, renderer, [(xs[i], ys[i]) for i, _ in keep], [n for _, n in keep],
                     text.props(8), placed, count=label_count)

    _draw_scale_bar(ax, text, xlim, ylim)
    _draw_north_arrow(ax, text, crs, xlim, ylim)

    # title and note
    title_main, title_sub = _title_text(title, title_en, text)
    fig.text(0.02, 0.955, title_main, fontproperties=text.props(17, bold=True), va="center",
             gid="title")
    if title_sub:
        fig.text(0.02, 0.915, title_sub, fontproperties=text.props(10), color="#444444",
                 va="center")
    note_parts = []
    if illustrative:
        note_parts.append(text.pick(*_ILLUSTRATIVE.split(" / ")) if text.font is None
                          else _ILLUSTRATIVE)
    if source_note:
        note_parts.append(text.pick("数据来源", "Source:") + " " + text.free(source_note))
    if note_parts:
        fig.text(0.02, 0.06, _wrap("  ".join(note_parts), 150 if text.font is None else 120),
                 fontproperties=text.props(6.5), color="#444444", va="top", gid="source-note")

    # legend panel on the right
    lax = fig.add_axes((0.04 + width_frac, 0.085, 0.94 - width_frac, 0.80))
    lax.set_axis_off()
    if legend_title is None:
        legend_title = text.pick(spec.label_zh, spec.label_en)
        unit = text.pick(spec.unit_zh, spec.unit_en) if spec.unit_zh or spec.unit_en else ""
        if unit:
            legend_title = f"{legend_title} ({unit})"
    elif text.font is None:
        legend_title = _ascii(legend_title) or spec.label_en
    class_items = _class_labels(spec, text)
    missing = pd.Series(spec.color_of(vil[column])).eq(MISSING_COLOR).any()
    if missing:
        class_items.append((MISSING_COLOR, text.pick("无数据", "no data")))
    handles = [
        Line2D([], [], marker="o", linestyle="none", markersize=8, markerfacecolor=c,
               markeredgecolor="#333333", markeredgewidth=0.4, label=lab)
        for c, lab in class_items
    ]
    legend_kw: dict[str, Any] = {
        "prop": text.props(8), "title_fontproperties": text.props(9, bold=True),
        "frameon": False, "alignment": "left", "borderaxespad": 0.0,
    }
    leg1 = lax.legend(handles=handles, title=_wrap(legend_title, 28), loc="upper left",
                      bbox_to_anchor=(0.0, 1.0), **legend_kw)
    leg1.set_gid("legend-classes")
    lax.add_artist(leg1)

    steps = _size_steps(vmax)
    y_next = 1.0 - _legend_height(leg1, lax, renderer) - 0.04
    if steps and size_col:
        size_handles = [
            Line2D([], [], marker="o", linestyle="none",
                   markersize=math.sqrt(float(_marker_area_pt2(np.array([v]), vmax)[0])),
                   markerfacecolor="white", markeredgecolor="#333333", markeredgewidth=0.6,
                   label=f"{v:,.0f}")
            for v in steps
        ]
        size_title = (text.pick("贫困人口", "poor people") if size_col == "poor_pop"
                      else text.pick("人口", "people"))
        leg2 = lax.legend(handles=size_handles, title=size_title, loc="upper left",
                          bbox_to_anchor=(0.0, y_next), labelspacing=1.1, **legend_kw)
        leg2.set_gid("legend-sizes")
        lax.add_artist(leg2)
        y_next -= _legend_height(leg2, lax, renderer) + 0.04
    other = legend_boundaries + legend_roads
    if other:
        leg3 = lax.legend(handles=other, title=text.pick("图例", "Legend"), loc="upper left",
                          bbox_to_anchor=(0.0, y_next), **legend_kw)
        leg3.set_gid("legend-lines")
        lax.add_artist(leg3)
    return fig


def _legend_height(leg: Any, lax: Any, renderer: Any) -> float:
    """Height of a legend in the legend axes' fraction."""
    box = leg.get_window_extent(renderer)
    return float(box.height / lax.get_window_extent(renderer).height)


def render_static_maps(
    out_dir: Path,
    *,
    villages: gpd.GeoDataFrame,
    region_title: str,
    boundaries: Mapping[str, gpd.GeoDataFrame] | None = None,
    roads: gpd.GeoDataFrame | None = None,
    illustrative: bool = False,
    source_note: str = "",
    dpi: int = 150,
) -> dict[str, Path]:
    """Draw the overview map and one map per ``*_tier`` column.

    The overview colours villages by ``poverty_incidence`` (when present, else the
    first of ``tt_township_seat_min``, ``pop``).

    Parameters
    ----------
    out_dir
        Folder for ``overview.png`` and ``<intervention>.png``.
    villages, boundaries, roads, illustrative, source_note, dpi
        As in :func:`render_static_map`.
    region_title
        Region name for the titles (``花垣县``).

    Returns
    -------
    dict[str, pathlib.Path]
        ``{"overview": ..., "<intervention>": ...}``.
    """
    out_dir = Path(out_dir)
    maps: dict[str, Path] = {}
    common: dict[str, Any] = {
        "villages": villages, "boundaries": boundaries, "roads": roads,
        "illustrative": illustrative, "source_note": source_note, "dpi": dpi,
    }
    overview = next(
        (c for c in ("poverty_incidence", "tt_township_seat_min", "pop") if c in villages.columns),
        None,
    )
    if overview is not None:
        zh, en = INDICATOR_TITLES.get(overview, ("人口", "Population"))
        maps["overview"] = render_static_map(
            out_dir / "overview.png", column=overview, title=f"{region_title} 村级{zh}",
            title_en=f"Overview: {en.lower()} by village", **common,
        )
    for col in villages.columns:
        if not str(col).endswith("_tier"):
            continue
        key = str(col).removesuffix("_tier")
        zh = INTERVENTION_ZH.get(key, key)
        maps[key] = render_static_map(
            out_dir / f"{key}.png", column=str(col),
            title=f"{region_title} {zh}项目优先级",
            title_en=f"{key.replace('_', ' ').capitalize()}: village priority tiers", **common,
        )
    return maps
