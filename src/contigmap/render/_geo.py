"""Layer checks and the metric CRS shared by the web map and the static maps."""

from __future__ import annotations

import logging

import geopandas as gpd
from pyproj import CRS

from contigmap.errors import CRSError, ValidationError

__all__ = ["checked", "metric_crs"]

logger = logging.getLogger(__name__)


def metric_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """Return the layer's CRS when it is projected in metres, else its UTM zone."""
    crs = CRS.from_user_input(gdf.crs)
    if crs.is_projected and crs.axis_info and crs.axis_info[0].unit_name in ("metre", "meter"):
        return crs
    return CRS.from_user_input(gdf.estimate_utm_crs())


def checked(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Refuse a non-GeoDataFrame or a frame without CRS; drop features without geometry.

    Raises
    ------
    ValidationError
        ``gdf`` is not a GeoDataFrame.
    CRSError
        ``gdf`` has no CRS.
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"layer {layer!r}: expected a GeoDataFrame, got {type(gdf).__name__}"
        raise ValidationError(msg)
    if gdf.crs is None:
        msg = f"layer {layer!r} has no CRS; set it with gdf.set_crs(...) before drawing"
        raise CRSError(msg)
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    if not keep.all():
        logger.info("layer %r: %d features without geometry not drawn", layer, int((~keep).sum()))
    return gdf.loc[keep]
