"""Vector overlays, distances to infrastructure, and the village profile table.

Modules: :mod:`~contigmap.overlay.zones` (settlement zones, township names),
:mod:`~contigmap.overlay.measures` (shares, hazard points, distances) and
:mod:`~contigmap.overlay.profile` (the overlay columns and the village profile).

Every village (and hamlet) gets a *zone*: its own polygon where the region has village
polygons (``village_areas``). Villages without one get their **Voronoi cell** among the
village points (the land nearer to them than to any other village), clipped to the
county (else to the townships, else to the villages' convex hull widened by 1 km) and
to their township: an approximation of the village territory, said in a warning.
Hamlets get a disc of ``radius_m`` clipped to their village's zone. Over that zone:

* raster layers (DEM, slope, hazard rasters) → :func:`contigmap.zonal.zonal_stats`
  with exact cell coverage;
* polygon layers (ecological red line, nature reserves, hazard polygons) → the share of
  the zone's area inside the *union* of the layer's polygons (so overlapping polygons
  do not count twice), and whether the settlement point lies inside (on the boundary
  counts as inside); hazard layers with classes (``class:`` in region.yaml, a
  ``hazard_weight`` per polygon) also get the class-weighted share and the largest
  weight (:func:`weighted_shares`);
* hazard **point** layers (地质灾害隐患点: a hazard layer whose geometries are points,
  ``radius_m:`` in region.yaml, default 500 m) → :func:`hazard_point_counts`: the points
  within ``radius_m`` of the **settlement point** (not of the zone: a hazard point
  threatens the houses, and the zone of a village without boundaries is only a Voronoi
  cell), their count, the sum of their ``threatened_people`` (威胁人数) and the largest
  class weight; road segments get counts from :func:`hazard_points_near_lines`;
* infrastructure (power lines, substations, fibre, towers, water sources) → the
  straight-line distance from the settlement point to the nearest feature
  (``shapely.STRtree.query_nearest``), in the metric working CRS.

Distances along roads to infrastructure are computed by the intervention that needs
them (:mod:`contigmap.priority.power`, :mod:`contigmap.priority.broadband`).
"""

from __future__ import annotations

from contigmap.overlay.measures import (
    hazard_point_counts,
    hazard_points_near_lines,
    is_point_layer,
    nearest_distance_m,
    points_inside,
    polygon_shares,
    weighted_shares,
)
from contigmap.overlay.profile import (
    INFRASTRUCTURE_COLUMNS,
    overlay_columns,
    village_profile,
)
from contigmap.overlay.zones import (
    settlement_points,
    settlement_zones,
    township_names,
    voronoi_cells,
)

__all__ = [
    "INFRASTRUCTURE_COLUMNS",
    "hazard_point_counts",
    "hazard_points_near_lines",
    "is_point_layer",
    "nearest_distance_m",
    "overlay_columns",
    "points_inside",
    "polygon_shares",
    "settlement_points",
    "settlement_zones",
    "township_names",
    "village_profile",
    "voronoi_cells",
    "weighted_shares",
]
