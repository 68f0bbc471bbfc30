"""Extra web-map layers (:class:`MapLayer`): any vector layer or a raster image.

Stages describe what else a map shows (travel times, services, hazards, relocation,
scenarios; see :mod:`contigmap.render.compose`) as :class:`MapLayer` objects; this module
draws them with their style, tooltips, popups and legend.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import folium
import geopandas as gpd
import numpy as np
from affine import Affine
from pyproj import CRS, Transformer

from contigmap.errors import ValidationError
from contigmap.raster import Raster
from contigmap.render._geo import checked
from contigmap.render.legend import swatch_legend_html
from contigmap.render.web_geojson import column_values
from contigmap.render.web_layers import add_geojson, display_geoms, feature_collection
from contigmap.render.web_page import LAYER_GROUPS, Ids, is_missing, plain_texts, text
from contigmap.render.web_shared import shared_points

__all__ = ["MapLayer", "extra_raster", "extra_vector"]


@dataclass
class MapLayer:
    """An extra layer for :func:`render_web_map`: a GeoDataFrame or a raster image.

    Give exactly one of ``data`` and ``raster``.

    Attributes
    ----------
    name
        Name in the layer control (data text: escaped).
    data
        Points (drawn as circles), lines or polygons, in any CRS.
    raster
        A raster drawn as a semi-transparent image (reprojected to Web Mercator).
    color, fill_color, weight, opacity, fill_opacity, radius, dash_array
        Leaflet path style (``radius`` in pixels, for points).
    color_column, color_map
        Colour features by a column's value (text keys); others get ``color``.
    fill_opacity_map
        Fill opacity by the same column's value (e.g. 0 for a hollow marker); others
        get ``fill_opacity``.
    tooltip_columns, popup_columns
        Columns shown on hover and in the popup (escaped).
    labels
        Display names of columns (defaults to the column name).
    legend
        (colour, label) pairs for the layer's legend; none drawn when empty. For
        rasters a legend is made from the colour ramp when this is empty.
    show
        Whether the layer is on when the map opens.
    raster_colors, vmin, vmax
        Colour ramp (low to high) and its range for rasters (default: 2nd and 98th
        percentiles).
    max_pixels
        Longest side of the raster image, in pixels (larger rasters are resampled).
    group
        Heading of the layer list it goes under (a key of
        :data:`contigmap.render.web_page.LAYER_GROUPS`: ``network``, ``hazards`` ...);
        ``None``: guessed from the name.
    share
        Points only: a key (``hamlets``) under which the coordinates are written once
        and shared with every other layer of that key showing the same points
        (:mod:`contigmap.render.web_shared`); ``None``: the layer has its own copy.
    """

    name: str
    data: gpd.GeoDataFrame | None = None
    raster: Raster | None = None
    color: str = "#3366cc"
    fill_color: str | None = None
    weight: float = 1.5
    opacity: float = 0.9
    fill_opacity: float = 0.3
    radius: float = 4.0
    dash_array: str | None = None
    color_column: str | None = None
    color_map: Mapping[str, str] = field(default_factory=dict)
    fill_opacity_map: Mapping[str, float] = field(default_factory=dict)
    tooltip_columns: Sequence[str] = ()
    popup_columns: Sequence[str] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    legend: Sequence[tuple[str, str]] = ()
    show: bool = True
    raster_colors: Sequence[str] = ("#ffffcc", "#fd8d3c", "#bd0026")
    vmin: float | None = None
    vmax: float | None = None
    max_pixels: int = 1200
    group: str | None = None
    share: str | None = None

    def __post_init__(self) -> None:
        if (self.data is None) == (self.raster is None):
            msg = f"MapLayer {self.name!r}: give exactly one of data= and raster="
            raise ValidationError(msg)
        if self.group is not None and self.group not in LAYER_GROUPS:
            msg = (f"MapLayer {self.name!r}: group {self.group!r} is not one of "
                   f"{', '.join(LAYER_GROUPS)}")
            raise ValidationError(msg)



def extra_vector(
    m: folium.Map, ids: Ids, layer: MapLayer, simplify_m: float, precision: int
) -> tuple[Any, str]:
    """Draw a vector :class:`MapLayer`; return its feature group and legend HTML."""
    assert layer.data is not None
    gdf = checked(layer.data, layer.name)
    for col in [*layer.tooltip_columns, *layer.popup_columns]:
        if col not in gdf.columns:
            msg = f"layer {layer.name!r} has no column {col!r} (tooltip/popup); drop it or add it"
            raise ValidationError(msg)
    geoms = display_geoms(gdf, simplify_m, precision)
    base = {
        "color": layer.color,
        "weight": layer.weight,
        "opacity": layer.opacity,
        "fillColor": layer.fill_color or layer.color,
        "fillOpacity": layer.fill_opacity,
        "radius": layer.radius,
        "dashArray": layer.dash_array,
    }
    styles: list[dict[str, Any]] = [base]
    style_index: dict[str, int] = {}
    if layer.color_column is not None:
        if layer.color_column not in gdf.columns:
            msg = f"layer {layer.name!r} has no color_column {layer.color_column!r}"
            raise ValidationError(msg)
        for value, color in layer.color_map.items():
            style_index[str(value)] = len(styles)
            style = {**base, "color": color, "fillColor": color}
            if str(value) in layer.fill_opacity_map:
                style["fillOpacity"] = layer.fill_opacity_map[str(value)]
            styles.append(style)
    labels = [text(layer.labels.get(c, c)) for c in layer.popup_columns]
    props = _properties(gdf, layer, style_index)
    fg = ids.group(ids(folium.FeatureGroup(name=ids.slots.layer_name(layer.name),
                                           show=layer.show)), layer.group)
    fg.add_to(m)
    shared = (shared_points(fg, ids, layer.share, geoms, styles, props, labels)
              if layer.share else None)
    if shared is not None:
        shared.add_to(m)
    else:
        for p in props:
            if "v" in p:
                p["p"] = '<div class="cm-card"><table>' + "".join(
                    f"<tr><th>{h}</th><td>{v}</td></tr>"
                    for h, v in zip(labels, p.pop("v"), strict=True)) + "</table></div>"
        pane = "cmPoints" if (gdf.geom_type.isin(["Point", "MultiPoint"])).all() else "cmLines"
        add_geojson(m, ids.slots, fg, feature_collection(geoms, props), styles, pane=pane,
                    class_name="cm-extra")
    leg = (
        swatch_legend_html(layer.name, "", list(layer.legend), kind="square")
        if layer.legend
        else ""
    )
    return fg, leg


def _texts(gdf: gpd.GeoDataFrame, column: Any) -> list[str | None]:
    """HTML text of each value of a column; ``None`` where it is missing.

    Numbers and booleans (NumPy columns, Python scalars here) hold nothing to escape
    and are missing only as NaN: ``str`` alone, as :func:`text` would give.
    """
    values = column_values(gdf, column)
    dtype = gdf[column].dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return [str(v) if v == v else None for v in values]
    if plain_texts(values):
        return list(values)  # text() of each is the value itself
    return [None if is_missing(v) else text(v) for v in values]


def _properties(
    gdf: gpd.GeoDataFrame, layer: MapLayer, style_index: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Per feature: style index ``s``, tooltip ``t`` (when any), popup values ``v``.

    Column by column (:func:`~contigmap.render.web_geojson.column_values`), not row by
    row: the same values as the rows of ``to_dict("records")``.
    """
    n = len(gdf)
    styles = [0] * n
    if layer.color_column is not None:
        styles = [style_index.get(str(v), 0)
                  for v in column_values(gdf, layer.color_column)]
    tip_cols = [_texts(gdf, c) for c in layer.tooltip_columns]
    tips = [[t for t in row if t is not None] for row in zip(*tip_cols, strict=True)]
    pop_cols = [["" if t is None else t for t in _texts(gdf, c)]
                for c in layer.popup_columns]
    pops = [list(row) for row in zip(*pop_cols, strict=True)]
    props = []
    for k in range(n):
        p: dict[str, Any] = {"s": styles[k]}
        if tip_cols and tips[k]:
            p["t"] = " · ".join(tips[k])
        if pop_cols:
            p["v"] = pops[k]
        props.append(p)
    return props


def _ramp(values: np.ndarray[Any, Any], colors: Sequence[str]) -> np.ndarray[Any, Any]:
    """RGB (0-255) of values in [0, 1] by linear interpolation along a colour ramp."""
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colors], dtype=float)
    pos = np.linspace(0.0, 1.0, len(colors))
    out = np.stack([np.interp(values, pos, rgb[:, k]) for k in range(3)], axis=-1)
    return np.asarray(np.round(out), dtype=np.uint8)


def _outside(
    clip: gpd.GeoDataFrame | None, transform: Any, shape: tuple[int, int]
) -> np.ndarray[Any, Any] | None:
    """Cells (of a Web Mercator grid) whose centre lies outside the clip polygons, or None.

    None when there is nothing to clip to (no polygons, or no CRS to place them).
    """
    from rasterio.features import geometry_mask

    if clip is None or clip.crs is None or len(clip) == 0:
        return None
    geoms = [g for g in clip.to_crs(3857).geometry if g is not None and not g.is_empty]
    polys = [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon")]
    if not polys:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.asarray(geometry_mask(polys, out_shape=shape, transform=transform))


_MIN_PIXELS = 600
"""Longest side of a raster image at least (clipped edges drawn at this resolution)."""


def _to_mercator(layer: MapLayer) -> tuple[np.ndarray[Any, Any], Any]:
    """Reproject a raster layer to Web Mercator (≤ ``max_pixels``); return it and its transform."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    assert layer.raster is not None
    r = layer.raster
    rows, cols = r.shape
    # corners with ``@`` (Raster.bounds uses ``*``, deprecated in affine 3.1)
    xa, ya = r.transform @ (0, 0)
    xb, yb = r.transform @ (cols, rows)
    src_bounds = (min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb))
    # rasterio (1.4) still multiplies Affine objects with ``*``, which affine 3.1 flags
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        dst_crs = CRS.from_epsg(3857)
        transform, width, height = calculate_default_transform(
            r.crs, dst_crs, cols, rows, *src_bounds
        )
        # coarse rasters are refined (so the county's edge is sharp), large ones resampled
        target = min(layer.max_pixels, max(_MIN_PIXELS, max(width, height)))
        if max(width, height) != target:
            # what calculate_default_transform(..., dst_width=, dst_height=) returns,
            # without asking GDAL for the same suggested warp a second time (rasterio
            # 1.4 rescales that suggestion's pixel size by these ratios)
            f = target / max(width, height)
            new_w, new_h = max(1, int(width * f)), max(1, int(height * f))
            xratio, yratio = width / new_w, height / new_h
            transform = Affine(transform.a * xratio, transform.b, transform.c,
                               transform.d, transform.e * yratio, transform.f)
            width, height = new_w, new_h
        dst = np.full((height, width), np.nan)
        reproject(
            source=np.asarray(r.array, dtype=float),
            destination=dst,
            src_transform=r.transform,
            src_crs=r.crs,
            dst_transform=transform,
            dst_crs=dst_crs,
            src_nodata=np.nan,
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
    return dst, transform


@lru_cache(maxsize=1)
def _mercator_to_lonlat() -> Transformer:
    """Return the Web Mercator to longitude, latitude transformer.

    Made once per process (as geopandas caches its transformers), not once per raster
    layer (60-100 ms each); pyproj transformers are thread-safe since pyproj 3.1.
    """
    return Transformer.from_crs(CRS.from_epsg(3857), 4326, always_xy=True)


def extra_raster(
    m: folium.Map, ids: Ids, layer: MapLayer, clip: gpd.GeoDataFrame | None = None
) -> tuple[Any, str]:
    """Draw a raster :class:`MapLayer` as an image in Web Mercator; return it and its legend.

    Cells outside the ``clip`` polygons (the county boundary, when known) are left
    transparent and do not count for the colour range.
    """
    dst, transform = _to_mercator(layer)
    height, width = dst.shape
    outside = _outside(clip, transform, (height, width))
    if outside is not None:
        dst[outside] = np.nan
    finite = np.isfinite(dst)
    lo = (
        layer.vmin
        if layer.vmin is not None
        else (float(np.nanpercentile(dst, 2)) if finite.any() else 0.0)
    )
    hi = (
        layer.vmax
        if layer.vmax is not None
        else (float(np.nanpercentile(dst, 98)) if finite.any() else 1.0)
    )
    span = hi - lo if hi > lo else 1.0
    scaled = np.clip((np.where(finite, dst, lo) - lo) / span, 0.0, 1.0)
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[..., :3] = _ramp(scaled, layer.raster_colors)
    rgba[..., 3] = np.where(finite, 255, 0).astype(np.uint8)
    to_ll = _mercator_to_lonlat()
    x0, y1 = transform @ (0, 0)
    x1, y0 = transform @ (width, height)
    west, south = to_ll.transform(x0, y0)
    east, north = to_ll.transform(x1, y1)
    overlay = ids(
        folium.raster_layers.ImageOverlay(
            image=rgba,
            bounds=[[south, west], [north, east]],
            opacity=layer.opacity,
            name=ids.slots.layer_name(layer.name),
            show=layer.show,
            pixelated=False,
            pane="cmImages",
        )
    )
    ids.group(overlay, layer.group)
    overlay.add_to(m)
    items = list(layer.legend) or [
        (c, f"{lo + span * k / max(1, len(layer.raster_colors) - 1):.3g}")
        for k, c in enumerate(layer.raster_colors)
    ]
    return overlay, swatch_legend_html(layer.name, "", items, kind="square")
