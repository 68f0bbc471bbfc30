"""Service points as county offices list them: neighbours' points and repeated POIs.

Two repairs of the ``services`` layer, both reported and never a stop (issue #19 item 9):

- :func:`flag_outside_county`: a point outside the county outline (a neighbouring
  county's clinic or school, often the nearest one for border villages) is kept as a
  destination and flagged in ``outside_county`` (true), with one warning naming them;
- :func:`merge_duplicate_points`: points of the same ``kind`` and the same name (trimmed)
  within :data:`DUPLICATE_RADIUS_M` of each other are one place listed twice (a POI
  export and a county list, say); each group (single-linkage: a chain of points each
  within the radius of the next) keeps its first row, with its blanks filled from the
  others, and one warning lists the names merged.
"""

from __future__ import annotations

import logging
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from contigmap.errors import warn_data

__all__ = ["DUPLICATE_RADIUS_M", "OUTSIDE_COLUMN", "flag_outside_county",
           "merge_duplicate_points"]

logger = logging.getLogger(__name__)

DUPLICATE_RADIUS_M: Final[float] = 50.0
"""Points of one kind and name closer than this (metres) are one place."""

OUTSIDE_COLUMN: Final[str] = "outside_county"
"""Column set true on service points outside the county outline."""

_FIRST = 5


def _names(frame: pd.DataFrame, rows: np.ndarray) -> str:
    col = "name" if "name" in frame.columns else frame.columns[0]
    names = frame[col].astype(str).to_numpy()[rows]
    shown = ", ".join(names[:_FIRST])
    return shown + (f" and {len(names) - _FIRST} more" if len(names) > _FIRST else "")


def flag_outside_county(services: gpd.GeoDataFrame, county: gpd.GeoDataFrame | None,
                        *, source: str = "layers.services") -> gpd.GeoDataFrame:
    """Flag points outside the county outline in ``outside_county``; keep them all.

    Without a county layer nothing is flagged (the column is false). Points on the
    boundary count as inside.
    """
    out = services.copy()
    out[OUTSIDE_COLUMN] = False
    if county is None or len(county) == 0 or len(out) == 0:
        return out
    area = shapely.union_all(county.to_crs(out.crs).geometry.values)
    outside = ~shapely.covers(area, out.geometry.values)
    if outside.any():
        out[OUTSIDE_COLUMN] = outside
        rows = np.flatnonzero(outside)
        warn_data(f"{source}: {rows.size} point(s) lie outside the county ({_names(out, rows)}); "
                  "kept as destinations (a neighbour's service may be the nearest) and "
                  f"flagged in {OUTSIDE_COLUMN}", logger=logger, stacklevel=3)
    return out


def merge_duplicate_points(services: gpd.GeoDataFrame, *, source: str = "layers.services",
                           radius_m: float = DUPLICATE_RADIUS_M) -> gpd.GeoDataFrame:
    """Merge points of the same kind and name within ``radius_m`` (the first row kept).

    Groups are the connected components of the graph joining two points of equal
    ``kind`` and trimmed ``name`` that lie within ``radius_m`` (a metric CRS); each
    keeps its first row in file order, its blank cells filled from the group's later
    rows.
    """
    if len(services) < 2 or "name" not in services.columns or "kind" not in services.columns:
        return services
    frame = services.reset_index(drop=True)
    key = frame["kind"].astype(str) + "\x1f" + frame["name"].astype(str).str.strip()
    left, right = shapely.STRtree(frame.geometry.values).query(
        frame.geometry.values, predicate="dwithin", distance=radius_m)
    same = (left < right) & (key.to_numpy()[left] == key.to_numpy()[right])
    if not same.any():
        return services
    n = len(frame)
    graph = coo_matrix((np.ones(int(same.sum())), (left[same], right[same])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    first = pd.Series(np.arange(n)).groupby(label).transform("min").to_numpy()
    dropped = first != np.arange(n)
    kept = frame.copy()
    for col in [c for c in frame.columns if c != "geometry"]:
        filled = frame[col].groupby(label).transform("first")  # first non-blank per group
        kept[col] = frame[col].where(frame[col].notna(), filled)
    kept = kept[~dropped].reset_index(drop=True)
    names = _names(frame, np.flatnonzero(dropped))
    warn_data(f"{source}: {int(dropped.sum())} duplicate point(s) (same kind and name within "
              f"{radius_m:g} m of another) merged into the first: {names}",
              logger=logger, stacklevel=3)
    return gpd.GeoDataFrame(kept, geometry="geometry", crs=services.crs)
