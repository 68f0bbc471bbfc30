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
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from contigmap.errors import ValidationError
from contigmap.indicators import TRAVEL_TIME_COLUMN, TRAVEL_TIME_LABEL_EN, TRAVEL_TIME_LABEL_ZH
from contigmap.priority.registry import REGISTRY
from contigmap.render._geo import metric_crs
from contigmap.render.legend import (
    DEFAULT_INDICATORS,
    MISSING_COLOR,
    YLORRD_6,
    IndicatorSpec,
    tier_basis,
    tier_indicator,
)
from contigmap.render.png import write_figure_png
from contigmap.render.static_base import (
    BaseRaster,
    MapBase,
    RoadLines,
    base_raster,
    draw_county_edge,
    draw_under,
    line_handles,
    map_frame,
)
from contigmap.render.static_layers import (
    Symbols,
    draw_names,
    draw_villages,
    marker_area_pt2,
    size_steps,
)
from contigmap.render.static_parts import (
    MapText,
    ascii_only,
    draw_north_arrow,
    draw_scale_bar,
    draw_title_block,
    nice_round,
    prepared,
    text_setup,
    wrap,
)

__all__ = [
    "INDICATOR_TITLES",
    "map_base",
    "render_static_map",
    "render_static_maps",
    "shared_raster",
]

logger = logging.getLogger(__name__)

INDICATOR_TITLES: Final[dict[str, tuple[str, str]]] = {
    "poverty_incidence": ("贫困发生率", "Poverty incidence"),
    TRAVEL_TIME_COLUMN: (TRAVEL_TIME_LABEL_ZH, TRAVEL_TIME_LABEL_EN),
    "tt_county_seat_min": ("到县城时间", "Travel time to county seat"),
}

_PAGE_IN: Final[tuple[float, float]] = (11.69, 8.27)
"""A4 landscape, inches: the size of the county maps."""

# --------------------------------------------------------------------------- classes


def _spec_for(
    column: str, values: pd.Series, categorical: bool | None, basis: str | None = None
) -> IndicatorSpec:
    if column.endswith("_tier") and categorical is not False:
        return tier_indicator(column, values, basis)
    for spec in DEFAULT_INDICATORS:
        if spec.column == column:
            return spec
    numeric = pd.to_numeric(values, errors="coerce")
    if categorical or (categorical is None and numeric.notna().sum() < values.notna().sum()):
        return tier_indicator(column, values)
    return _quantile_spec(column, numeric.to_numpy(dtype=float))


def _quantile_spec(column: str, values: np.ndarray[Any, Any], n: int = 5) -> IndicatorSpec:
    """Classes at quantiles (rounded to 2 significant digits), YlOrRd."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        edges = [0.0, 1.0]
    else:
        qs = np.quantile(finite, np.linspace(0, 1, n + 1))
        inner = sorted({nice_round(float(q)) for q in qs[1:-1]})
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
        fmt=lambda v: f"{nice_round(v, 3):g}",
    )


def _class_labels(spec: IndicatorSpec, text: MapText) -> list[tuple[str, str]]:
    if spec.categories:
        return [
            (c.color, text.pick(c.label_zh, c.label_en) if c.label_en else text.free(c.label_zh))
            for c in spec.categories
        ]
    return [(color, label) for color, label in spec.legend_items()]


# --------------------------------------------------------------------------- drawing


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
    figsize_in: tuple[float, float] = _PAGE_IN,
    outline_label: tuple[str, str] = ("县界", "county"),
    base: MapBase | None = None,
    raster: BaseRaster | None = None,
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
    illustrative, source_note
        Add "示意数据 / illustrative data" to the note; where the data come from.
    dpi, figsize_in
        Resolution and size (default A4 landscape).
    outline_label
        Legend label of the ``county`` outline (Chinese, English): a township map frames
        its township with it.
    base
        The layers under the villages, prepared once by :func:`map_base` for several maps
        of one region; ``boundaries``, ``roads`` and ``outline_label`` are then not read.
    raster
        Those layers of ``base`` drawn once (:func:`shared_raster`): put under the map
        instead of drawn again when it was drawn for this size, resolution and extent
        (else ignored).

    Returns
    -------
    pathlib.Path
        ``out_png``.

    Raises
    ------
    ValidationError, CRSError
        No villages, ``column`` missing; a layer without a CRS.
    """
    from matplotlib.figure import Figure

    fig = _build_figure(
        villages=villages, column=column, title=title, title_en=title_en,
        boundaries=boundaries, roads=roads, legend_title=legend_title, categorical=categorical,
        spec=spec, labels=labels, label_count=label_count, illustrative=illustrative,
        source_note=source_note, dpi=dpi, figsize_in=figsize_in, outline_label=outline_label,
        base=base, raster=raster,
    )
    assert isinstance(fig, Figure)
    out_png = Path(out_png)
    _save_png(fig, out_png)
    logger.info("static map %s: %s, %d villages", out_png.name, column, len(villages))
    return out_png


def _save_png(fig: Any, out_png: Path) -> None:
    """Draw the figure with every text literal and write it as an RGB PNG (:mod:`~.png`)."""
    with _literal_text():
        write_figure_png(fig, out_png)


def map_base(
    villages: gpd.GeoDataFrame,
    boundaries: Mapping[str, gpd.GeoDataFrame] | None = None,
    roads: gpd.GeoDataFrame | None = None,
    outline_label: tuple[str, str] = ("县界", "county"),
) -> MapBase:
    """Prepare the layers under the villages once for several maps of one region.

    Parameters
    ----------
    villages
        The villages the maps show: their metric CRS (:func:`contigmap.render._geo.metric_crs`)
        is the maps' CRS.
    boundaries, roads, outline_label
        As in :func:`render_static_map`.

    Returns
    -------
    MapBase
        The layers checked and in the maps' CRS, with the text faces to draw with.

    Raises
    ------
    ValidationError, CRSError
        No villages; a layer without a CRS.
    """
    _, crs = _checked_villages(villages, None)
    return _prepared_base(crs, boundaries, roads, outline_label)


def shared_raster(base: MapBase, villages: gpd.GeoDataFrame, figsize_in: tuple[float, float],
                  dpi: float) -> BaseRaster:
    """Draw the layers of ``base`` once for maps of ``villages`` at this size and resolution.

    Pass the result as ``raster`` (with ``base``) to :func:`render_static_map`.
    """
    vil = _checked_villages(villages, None, base.crs)[0]
    with _literal_text():
        return base_raster(base, base.frame_extent(vil), figsize_in, dpi)


def _prepared_base(crs: CRS, boundaries: Mapping[str, gpd.GeoDataFrame] | None,
                   roads: gpd.GeoDataFrame | None, outline_label: tuple[str, str]) -> MapBase:
    bounds = {k: prepared(g, f"boundaries.{k}", crs) for k, g in (boundaries or {}).items()}
    county, towns = bounds.get("county"), bounds.get("townships")
    road_gdf = prepared(roads, "roads", crs)
    extent = None
    if county is not None and len(county):
        x0, y0, x1, y1 = county.geometry.total_bounds
        extent = (float(x0), float(y0), float(x1), float(y1))
    lines = RoadLines.of(road_gdf) if road_gdf is not None and len(road_gdf) else None
    label = (outline_label[0], outline_label[1])
    return MapBase(crs, text_setup(), county, towns, lines, extent, label)


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
    outline_label: tuple[str, str] = ("县界", "county"),
    base: MapBase | None = None,
    raster: BaseRaster | None = None,
) -> Any:
    """Draw the map and return the matplotlib ``Figure`` (with an Agg canvas).

    The layers under the villages come from ``raster`` when it fits the figure, else
    they are drawn here (from ``base``, or from ``boundaries`` and ``roads``).
    """
    from matplotlib.figure import Figure

    from contigmap.render.agg_text import agg_canvas

    if base is None:
        vil, crs = _checked_villages(villages, column)
        base = _prepared_base(crs, boundaries, roads, outline_label)
    else:
        vil = _checked_villages(villages, column, base.crs)[0]
    text = base.text
    spec = spec or _spec_for(column, vil[column], categorical, tier_basis(vil, column))

    fig = Figure(figsize=figsize_in, dpi=dpi, facecolor="white")
    canvas = agg_canvas(fig)
    renderer = canvas.get_renderer()
    # extent: the county (or all villages) plus a margin
    extent = base.frame_extent(vil)
    frame = map_frame(fig, extent, figsize_in)
    ax = frame.ax
    if raster is not None and raster.fits(figsize_in, dpi, extent):
        raster.put_under(fig)
        placed = list(raster.town_boxes)
    else:
        placed = draw_under(ax, renderer, base)
    sym = draw_villages(ax, vil, column, spec)
    draw_county_edge(ax, base)
    draw_names(ax, renderer, text, vil, sym, column, spec, labels, label_count, placed)
    draw_scale_bar(ax, text, frame.xlim, frame.ylim)
    draw_north_arrow(ax, text, base.crs, frame.xlim, frame.ylim)
    draw_title_block(fig, text, title, title_en, illustrative=illustrative,
                     source_note=source_note)
    panel = _Panel(fig, (0.04 + frame.width_frac, 0.085, 0.94 - frame.width_frac, 0.80))
    has_missing = bool(pd.Series(spec.color_of(vil[column])).eq(MISSING_COLOR).any())
    _draw_legends(panel, renderer, text, spec, legend_title, has_missing, sym, line_handles(base))
    return fig


def _checked_villages(villages: gpd.GeoDataFrame, column: str | None,
                      crs: CRS | None = None) -> tuple[gpd.GeoDataFrame, CRS]:
    """Return the villages in ``crs`` (default their metric CRS) without empty geometries.

    Raises what is wrong: not a layer, no CRS, no villages, no ``column`` (when given).
    """
    if not isinstance(villages, gpd.GeoDataFrame) or villages.crs is None:
        prepared(villages, "villages", CRS.from_epsg(4326))  # raises the right error
    if len(villages) == 0:
        msg = "layer 'villages' is empty; a map needs at least one village"
        raise ValidationError(msg)
    if column is not None and column not in villages.columns:
        msg = f"layer 'villages' has no column {column!r} to colour by; add it or pick another"
        raise ValidationError(msg)
    crs = crs or metric_crs(villages)
    vil = prepared(villages, "villages", crs)
    assert vil is not None
    return vil, crs


def _legend_title(spec: IndicatorSpec, legend_title: str | None, text: MapText) -> str:
    if legend_title is None:
        title = text.pick(spec.label_zh, spec.label_en)
        if text.font is not None and spec.label_en and len(title) > 24:
            title = f"{spec.label_zh}\n{spec.label_en}"  # two lines rather than cut at the edge
        unit = text.pick(spec.unit_zh, spec.unit_en) if spec.unit_zh or spec.unit_en else ""
        return f"{title} ({unit})" if unit else title
    if text.font is None:
        return ascii_only(legend_title) or spec.label_en
    return legend_title


class _Panel:
    """The legend panel right of the map: a rectangle of the figure (no axes of its own).

    Legends are anchored in the panel's fraction, as in an axes at the same place
    (``transAxes`` is the same transform), without building an axes' ticks and spines.
    """

    def __init__(self, fig: Any, rect: tuple[float, float, float, float]) -> None:
        from matplotlib.transforms import Bbox, BboxTransformTo, TransformedBbox

        self.fig = fig
        self.box = TransformedBbox(Bbox.from_bounds(*rect), fig.transSubfigure)
        self.transform = BboxTransformTo(self.box)

    def legend(self, **kwargs: Any) -> Any:
        """Add a figure legend anchored in the panel's fraction."""
        return self.fig.legend(bbox_transform=self.transform, **kwargs)

    def height_of(self, leg: Any, renderer: Any) -> float:
        """Return the height of a legend in the panel's fraction."""
        return float(leg.get_window_extent(renderer).height / self.box.height)


def _draw_legends(panel: _Panel, renderer: Any, text: MapText, spec: IndicatorSpec,
                  legend_title: str | None, has_missing: bool, sym: Symbols,
                  line_handles: list[Any]) -> None:
    """Draw the legend panel: colour classes, symbol sizes, then boundaries and roads."""
    from matplotlib.lines import Line2D

    class_items = _class_labels(spec, text)
    if has_missing:
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
    title = wrap(_legend_title(spec, legend_title, text), 28)
    leg1 = panel.legend(handles=handles, title=title, loc="upper left",
                      bbox_to_anchor=(0.0, 1.0), **legend_kw)
    leg1.set_gid("legend-classes")
    steps = size_steps(sym.vmax)
    y_next = 1.0 - panel.height_of(leg1, renderer) - 0.04
    if steps and sym.size_col:
        size_handles = [
            Line2D([], [], marker="o", linestyle="none",
                   markersize=math.sqrt(float(marker_area_pt2(np.array([v]), sym.vmax)[0])),
                   markerfacecolor="white", markeredgecolor="#333333", markeredgewidth=0.6,
                   label=f"{v:,.0f}")
            for v in steps
        ]
        size_title = (text.pick("贫困人口", "poor people") if sym.size_col == "poor_pop"
                      else text.pick("人口", "people"))
        leg2 = panel.legend(handles=size_handles, title=size_title, loc="upper left",
                          bbox_to_anchor=(0.0, y_next), labelspacing=1.1, **legend_kw)
        leg2.set_gid("legend-sizes")
        y_next -= panel.height_of(leg2, renderer) + 0.04
    if line_handles:
        leg3 = panel.legend(handles=line_handles, title=text.pick("图例", "Legend"),
                          loc="upper left", bbox_to_anchor=(0.0, y_next), **legend_kw)
        leg3.set_gid("legend-lines")


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
    base: MapBase | None = None,
) -> dict[str, Path]:
    """Draw the overview map and one map per registered intervention with a ``<name>_tier`` column.

    The overview colours villages by ``poverty_incidence`` (when present, else the
    first of ``tt_own_township_seat_min``, ``pop``).

    Parameters
    ----------
    out_dir
        Folder for ``overview.png`` and ``<intervention>.png``.
    villages, boundaries, roads, illustrative, source_note, dpi
        As in :func:`render_static_map`.
    region_title
        Region name for the titles (``花垣县``).
    base
        The layers under the villages from :func:`map_base` (for ``villages``,
        ``boundaries`` and ``roads``), when already prepared; else prepared here.

    Returns
    -------
    dict[str, pathlib.Path]
        ``{"overview": ..., "<intervention>": ...}``.
    """
    out_dir = Path(out_dir)
    maps: dict[str, Path] = {}
    base = base or map_base(villages, boundaries, roads)
    common: dict[str, Any] = {
        "villages": villages, "illustrative": illustrative, "source_note": source_note,
        "dpi": dpi, "base": base, "raster": shared_raster(base, villages, _PAGE_IN, dpi),
    }
    overview = next(
        (c for c in ("poverty_incidence", TRAVEL_TIME_COLUMN, "pop") if c in villages.columns),
        None,
    )
    if overview is not None:
        zh, en = INDICATOR_TITLES.get(overview, ("人口", "Population"))
        maps["overview"] = render_static_map(
            out_dir / "overview.png", column=overview, title=f"{region_title} 村级{zh}",
            title_en=f"Overview: {en.lower()} by village", **common,
        )
    for key, iv in REGISTRY.items():
        if f"{key}_tier" not in villages.columns:
            continue
        maps[key] = render_static_map(
            out_dir / f"{key}.png", column=f"{key}_tier",
            title=f"{region_title} {iv.label_zh}项目优先级",
            title_en=f"{key.replace('_', ' ').capitalize()}: village priority tiers", **common,
        )
    return maps
