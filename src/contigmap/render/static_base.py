"""What every static map of a region shares: the frame and the layers under the villages.

A county's overview and intervention maps differ only in their village symbols, labels,
titles and legends; the county fill, the township outlines, the roads and the township
names under them are the same on every map. :func:`base_raster` draws these layers once
on a figure of the maps' size, frame and limits and keeps its Agg pixels; each map copies
them into its own canvas first (``RendererAgg.restore_region``, the blitting primitive of
matplotlib's animations: a byte copy, nothing resampled or blended) and draws its own
layers on top. Agg composes a figure's artists in z-order onto one buffer and the shared
layers are the lowest ones, so the map is the same pixel for pixel as one that draws every
layer itself (``tests/test_static_base.py`` compares the two), and the roads are rasterised
once per region instead of once per map.

Lines and polygons are drawn as matplotlib collections built straight from the shapely
coordinates (:func:`line_segments`, ``shapely.get_coordinates`` with ``return_index``),
the way ``GeoDataFrame.plot`` builds them (geometries normalised first, so dashes start
at the same end; one collection per road surface, one ``PathPatch`` per polygon) without
its per-call overhead (a full figure redraw after every ``plot``). The roads' paths are
made once per region (:class:`RoadLines`) and shared by every map that draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from contigmap.render import fonts
from contigmap.render.static_parts import MapText

__all__ = [
    "COUNTY_FILL",
    "BaseRaster",
    "Frame",
    "MapBase",
    "RoadLines",
    "base_raster",
    "draw_county_edge",
    "draw_under",
    "line_handles",
    "line_segments",
    "map_frame",
]

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
COUNTY_FILL: Final[str] = "#f6f4ec"
_COUNTY_EDGE: Final[str] = "#404040"
_TOWN_EDGE: Final[str] = "#8c8c8c"
_TOWN_DASH: Final[Any] = (0, (4, 2))
_TOWN_LABEL: Final[tuple[str, str]] = ("乡镇界", "township")


# --------------------------------------------------------------------------- geometry


def line_segments(geoms: Any) -> tuple[list[np.ndarray[Any, Any]], np.ndarray[Any, Any]]:
    """Split (multi)line geometries into one (n, 2) coordinate array per part.

    Geometries are normalised first (``shapely.normalize``, as ``GeoSeries.plot`` does),
    so a dashed line starts its pattern at the same end as there.

    Parameters
    ----------
    geoms
        Array-like of LineString / MultiLineString / LinearRing geometries, none empty.

    Returns
    -------
    segments, part_of
        The coordinate arrays, and for each the position of its geometry in ``geoms``.
    """
    parts, part_of = shapely.get_parts(shapely.normalize(np.asarray(geoms)), return_index=True)
    coords, owner = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(owner, minlength=len(parts))
    return np.split(coords, np.cumsum(counts)[:-1]), part_of


def _polygon_patch(polygon: Any) -> Any:
    """Make a ``PathPatch`` of a (multi)polygon: each ring a closed sub-path, holes included."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    paths = [Path(np.asarray(ring.coords)[:, :2], closed=True)
             for part in getattr(polygon, "geoms", [polygon])
             for ring in (part.exterior, *part.interiors)]
    return PathPatch(Path.make_compound_path(*paths))


def _add_lines(ax: Any, geoms: Any, **style: Any) -> None:
    from matplotlib.collections import LineCollection

    segments, _ = line_segments(geoms)
    ax.add_collection(LineCollection(segments, **style), autolim=False)


@dataclass(frozen=True)
class RoadLines:
    """Road lines ready to draw: one matplotlib ``Path`` per part, surface and width per road.

    Built once per region (:meth:`of`); a township map draws :meth:`subset` of it, so the
    paths are made once, not once per map.
    """

    paths: tuple[Any, ...]
    part_of: np.ndarray[Any, Any]
    surface: np.ndarray[Any, Any]
    width: np.ndarray[Any, Any]
    geoms: np.ndarray[Any, Any]

    @classmethod
    def of(cls, roads: gpd.GeoDataFrame) -> RoadLines:
        """Read ``surface`` (default paved) and ``road_class`` (width; default 0.5 pt)."""
        n = len(roads)
        surface = (roads["surface"] if "surface" in roads.columns
                   else pd.Series("paved", index=roads.index))
        rclass = (roads["road_class"] if "road_class" in roads.columns
                  else pd.Series("village", index=roads.index))
        from matplotlib.path import Path

        geoms = roads.geometry.to_numpy()
        segments, part_of = line_segments(geoms) if n else ([], np.zeros(0, dtype=np.intp))
        return cls(tuple(Path(s) for s in segments), part_of, surface.to_numpy(dtype=object),
                   rclass.map(_ROAD_WIDTH).fillna(0.5).to_numpy(dtype=float), geoms)

    def subset(self, rows: np.ndarray[Any, Any]) -> RoadLines:
        """Return the roads at positions ``rows`` (ascending), in their order."""
        keep = np.zeros(len(self.geoms), dtype=bool)
        keep[rows] = True
        parts = np.flatnonzero(keep[self.part_of])
        new_pos = np.cumsum(keep) - 1
        return replace(self, paths=tuple(self.paths[i] for i in parts),
                       part_of=new_pos[self.part_of[parts]], surface=self.surface[rows],
                       width=self.width[rows], geoms=self.geoms[rows])

    def surfaces(self) -> list[str]:
        """Return the styled surfaces present, in drawing order."""
        return [s for s in _ROAD_STYLE if (self.surface == s).any()]

    def draw(self, ax: Any) -> None:
        """One collection per surface (colour, dash), widths by class, z-order 3.

        A ``PathCollection`` of the ready paths, styled as a ``LineCollection`` (edges
        only): the same drawing call, without making the paths again for every map.
        """
        from matplotlib.collections import PathCollection

        part_surface = self.surface[self.part_of]
        for surf in self.surfaces():
            color, style, _ = _ROAD_STYLE[surf]
            parts = np.flatnonzero(part_surface == surf)
            ax.add_collection(PathCollection(
                [self.paths[i] for i in parts], facecolors="none", edgecolors=color,
                linewidths=self.width[self.part_of[parts]], linestyles=style, zorder=3,
                alpha=0.9), autolim=False)


# --------------------------------------------------------------------------- the base


@dataclass(frozen=True)
class MapBase:
    """The layers under a map's villages, in the map's metric CRS, and its frame extent.

    ``extent`` is the county's bounds (the villages' when there is no county outline).
    """

    crs: CRS
    text: MapText
    county: gpd.GeoDataFrame | None
    towns: gpd.GeoDataFrame | None
    roads: RoadLines | None
    extent: tuple[float, float, float, float] | None
    outline_label: tuple[str, str] = ("县界", "county")

    def frame_extent(self, villages: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
        """Return the extent to frame: the county's, else that of ``villages``."""
        if self.extent is not None:
            return self.extent
        x0, y0, x1, y1 = villages.geometry.total_bounds
        return float(x0), float(y0), float(x1), float(y1)


@dataclass(frozen=True)
class Frame:
    """The map axes, its neatline and its extent in the map's metric CRS."""

    ax: Any
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    width_frac: float
    neatline: Any


def map_frame(fig: Any, extent: Sequence[float], figsize_in: tuple[float, float]) -> Frame:
    """Add the map axes: it hugs the data (45–70 % of the page width, 80 % of its height).

    The shorter side of the extent is widened so the data fill the frame at one scale; a
    thin neatline is drawn around it. The limits are set and the equal aspect applied.
    """
    from matplotlib.patches import Rectangle

    x0, y0, x1, y1 = extent
    pad = 0.04 * max(x1 - x0, y1 - y0, 1000.0)
    xlim, ylim = (x0 - pad, x1 + pad), (y0 - pad, y1 + pad)
    w, h = xlim[1] - xlim[0], ylim[1] - ylim[0]
    fig_w, fig_h = figsize_in
    height_frac = 0.80
    width_frac = min(max(height_frac * fig_h * (w / h) / fig_w, 0.45), 0.70)
    ax = fig.add_axes((0.02, 0.085, width_frac, height_frac))
    ax.set_axis_off()
    frame_ratio = (width_frac * fig_w) / (height_frac * fig_h)
    if w / h < frame_ratio:
        extra = (h * frame_ratio - w) / 2
        xlim = (xlim[0] - extra, xlim[1] + extra)
    else:
        extra = (w / frame_ratio - h) / 2
        ylim = (ylim[0] - extra, ylim[1] + extra)
    neatline = ax.add_patch(Rectangle(
        (0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="#555555", linewidth=0.8,
        zorder=10, clip_on=False))
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.apply_aspect()  # the axes' final place: label boxes are measured where they are drawn
    return Frame(ax, xlim, ylim, width_frac, neatline)


def draw_under(ax: Any, renderer: Any, base: MapBase) -> list[Any]:
    """Draw the shared layers: county fill, township outlines, roads, township names.

    Returns the window extents of the township names (village labels avoid them).
    """
    from matplotlib.collections import PatchCollection

    if base.county is not None and len(base.county):
        ax.add_collection(PatchCollection(
            [_polygon_patch(p) for p in shapely.normalize(base.county.geometry.to_numpy())],
            facecolor=COUNTY_FILL, edgecolor="none", zorder=1), autolim=False)
    if base.towns is not None and len(base.towns):
        _add_lines(ax, shapely.boundary(base.towns.geometry.to_numpy()), linewidth=0.8,
                   linestyle=_TOWN_DASH, zorder=2, color=_TOWN_EDGE)
    if base.roads is not None:
        base.roads.draw(ax)
    return _draw_town_names(ax, renderer, base.text, base.towns)


def _draw_town_names(ax: Any, renderer: Any, text: MapText,
                     towns: gpd.GeoDataFrame | None) -> list[Any]:
    """Township names at a point inside each township, with a halo (none without a CJK font)."""
    from matplotlib import patheffects

    if text.font is None or towns is None or not len(towns) or "name" not in towns.columns:
        return []
    halo = [patheffects.withStroke(linewidth=3, foreground=COUNTY_FILL)]
    boxes = []
    for geom, name in zip(towns.geometry.representative_point(), towns["name"], strict=True):
        if pd.isna(name) or fonts.missing_chars(str(name), text.font):
            continue
        t = ax.text(geom.x, geom.y, str(name), ha="center", va="center", color="#6e6e6e",
                    fontproperties=text.props(10.5, bold=True), zorder=4, path_effects=halo,
                    gid="township-label")
        boxes.append(t.get_window_extent(renderer))
    return boxes


def draw_county_edge(ax: Any, base: MapBase) -> None:
    """Draw the county outline, over the villages (z-order 6)."""
    if base.county is not None and len(base.county):
        _add_lines(ax, shapely.boundary(base.county.geometry.to_numpy()), linewidth=1.6,
                   zorder=6, color=_COUNTY_EDGE)


def line_handles(base: MapBase) -> list[Any]:
    """Legend entries of the outlines and the road surfaces drawn."""
    from matplotlib.lines import Line2D

    text, handles = base.text, []
    if base.county is not None and len(base.county):
        handles.append(Line2D([], [], color=_COUNTY_EDGE, linewidth=1.6,
                              label=text.pick(*base.outline_label)))
    # a township map's outline is the township: listed once
    if base.towns is not None and len(base.towns) and tuple(base.outline_label) != _TOWN_LABEL:
        handles.append(Line2D([], [], color=_TOWN_EDGE, linewidth=0.8, linestyle=_TOWN_DASH,
                              label=text.pick(*_TOWN_LABEL)))
    for surf in base.roads.surfaces() if base.roads is not None else []:
        color, style, label = _ROAD_STYLE[surf]
        handles.append(Line2D([], [], color=color, linewidth=0.9, linestyle=style,
                              label=text.pick(*label.split(" ", 1))))
    return handles


@dataclass(frozen=True)
class BaseRaster:
    """The shared layers drawn once: the Agg pixels of the figure and the township name boxes.

    ``pixels`` is an Agg ``BufferRegion`` of the whole figure (``numpy.asarray`` reads it
    as RGBA rows, top row first).
    """

    pixels: Any
    town_boxes: tuple[Any, ...]
    figsize_in: tuple[float, float]
    dpi: float
    extent: tuple[float, ...]

    def fits(self, figsize_in: tuple[float, float], dpi: float, extent: Sequence[float]) -> bool:
        """Whether the raster was drawn for a figure of this size, resolution and extent."""
        return (tuple(self.figsize_in) == tuple(figsize_in) and self.dpi == dpi
                and self.extent == tuple(extent))

    def put_under(self, fig: Any) -> None:
        """Copy the pixels into ``fig`` (an Agg figure) before anything but its background."""
        from matplotlib.artist import Artist

        pixels = self.pixels

        class _Backdrop(Artist):
            def draw(self, renderer: Any) -> None:
                renderer.restore_region(pixels)  # a byte copy: no resampling, no blending

        backdrop = _Backdrop()
        backdrop.set_zorder(-1)  # under the axes (z-order 0)
        fig.add_artist(backdrop)


def base_raster(base: MapBase, extent: Sequence[float], figsize_in: tuple[float, float],
                dpi: float) -> BaseRaster:
    """Draw the shared layers alone on a white figure of the map's size, frame and limits."""
    from matplotlib.figure import Figure

    from contigmap.render.agg_text import agg_canvas

    fig = Figure(figsize=figsize_in, dpi=dpi, facecolor="white")
    canvas = agg_canvas(fig)
    frame = map_frame(fig, extent, figsize_in)
    frame.neatline.set_visible(False)  # drawn by each map, above its villages
    boxes = draw_under(frame.ax, canvas.get_renderer(), base)
    canvas.draw()
    return BaseRaster(canvas.copy_from_bbox(fig.bbox), tuple(boxes), figsize_in, dpi,
                      tuple(extent))
