"""Several files for one line role (roads), de-duplicated by a stated rule (issue #19 item 4).

A county hands over roads from OpenStreetMap and its own 农村公路 layer, which repeats part
of the OSM lines a few metres apart. :func:`merge_line_sources` combines the sources in
manifest order:

1. **Duplicates.** A line of a later source is a duplicate when at least ``share`` of its
   length lies within ``buffer_m`` of the lines already kept (the buffer-overlap test of
   Goodchild & Hunter, 1997, "A simple positional accuracy measure for linear
   features", IJGIS 11(3)). Duplicates are dropped: the geometry of the first source to
   have the road is kept.
2. **Attributes.** Where a dropped duplicate *wins* over a kept line — its source has the
   higher ``priority:``, or the same priority and comes later in the list (list the newer
   source last) — and the kept line lies for at least ``share`` of its own length within
   ``buffer_m`` of it, the kept line takes the duplicate's attributes (class, surface,
   bridge, tunnel, name, ...): ``attr_source`` names the source they come from.
3. **Loose ends.** Each end of an added line is joined to the nearest other line within
   ``join_m``: the nearest point becomes a vertex of that line and the added line is
   extended to it, so the network builder (which connects lines at shared vertices)
   joins them. Ends more than 1 m away count as loose ends joined.

Every line keeps ``road_source`` (the manifest key of the source it comes from); ids of
the second and later sources are prefixed (``roads[2]:17``) so they stay unique.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point
from shapely.ops import nearest_points

__all__ = ["MergeReport", "insert_vertex", "merge_line_sources"]

logger = logging.getLogger(__name__)

_TOUCH_M = 1.0
"""An end within this distance (metres) of another line already touches it: it is snapped
onto the line (a vertex inserted) but not counted as a joined loose end."""


@dataclass
class MergeReport:
    """What :func:`merge_line_sources` did, per later source (keyed by its name)."""

    duplicates: dict[str, int]
    attributes_taken: dict[str, int]
    added: dict[str, int]
    ends_joined: dict[str, int]

    def lines(self) -> list[str]:
        """One sentence per later source."""
        return [f"{name}: {self.duplicates[name]} duplicate line(s) dropped, "
                f"{self.attributes_taken[name]} kept line(s) took its attributes, "
                f"{self.added[name]} line(s) added, {self.ends_joined[name]} loose end(s) "
                "joined" for name in self.duplicates]


def _share_within(lines: np.ndarray, others: np.ndarray, pairs: tuple[np.ndarray, np.ndarray],
                  buffer_m: float) -> np.ndarray:
    """Share of each line's length within ``buffer_m`` of its paired other lines."""
    out = np.zeros(len(lines))
    order = np.argsort(pairs[0], kind="stable")
    i_idx, j_idx = pairs[0][order], pairs[1][order]
    if len(i_idx) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, i_idx[1:] != i_idx[:-1]])
    buffers = shapely.buffer(others, buffer_m)
    for group in np.split(np.arange(len(i_idx)), starts[1:]):
        i = int(i_idx[group[0]])
        length = shapely.length(lines[i])
        if length > 0:
            zone = shapely.union_all(buffers[j_idx[group]])
            out[i] = shapely.length(shapely.intersection(lines[i], zone)) / length
    return out


def insert_vertex(line: LineString, point: Point) -> LineString:
    """Return ``line`` with ``point`` (on it) inserted as a vertex at its place along it."""
    coords = np.asarray(line.coords)
    along = line.project(point)
    steps = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords[:, :2], axis=0).T))])
    k = int(np.searchsorted(steps, along, side="right"))
    if k <= 0 or k >= len(coords) or np.isclose(steps[k - 1], along):
        return line
    xy = [(float(point.x), float(point.y))]
    return LineString([*map(tuple, coords[:k, :2]), *xy, *map(tuple, coords[k:, :2])])


def _join_loose_ends(geoms: np.ndarray, added: np.ndarray, join_m: float) -> tuple[np.ndarray,
                                                                                   int]:
    """Connect each end of the ``added`` lines to the nearest other line within ``join_m``.

    The nearest point of that line becomes one of its vertices; an end farther than
    1 mm from it is extended to it (counted as joined), so the network builder, which
    connects lines at shared vertices, joins them. Multi-part lines (which have no two
    ends) are neither extended nor joined to.
    """
    geoms = geoms.copy()
    joined = 0
    tree = shapely.STRtree(geoms)  # built once: a line changes by at most join_m below
    single = shapely.get_type_id(geoms) == 1  # LineString
    for i in np.flatnonzero(added & single):
        for end in (0, -1):
            coords = list(geoms[i].coords)
            p = Point(coords[end])
            near = tree.query(p.buffer(join_m + _TOUCH_M))
            near = near[(near != i) & single[near]
                        & (shapely.distance(geoms[near], p) <= join_m)]
            if near.size == 0:
                continue
            j = int(near[np.argmin(shapely.distance(geoms[near], p))])
            q = nearest_points(geoms[j], p)[0]
            geoms[j] = insert_vertex(geoms[j], q)
            if p.distance(q) <= 1e-3:
                continue
            coords = [(q.x, q.y), *coords] if end == 0 else [*coords, (q.x, q.y)]
            geoms[i] = LineString(coords)
            joined += int(p.distance(q) > _TOUCH_M)
    return geoms, joined


def merge_line_sources(
    frames: list[gpd.GeoDataFrame],
    names: list[str],
    *,
    priorities: list[int] | None = None,
    buffer_m: float = 15.0,
    share: float = 0.8,
    join_m: float = 30.0,
    id_column: str = "road_id",
) -> tuple[gpd.GeoDataFrame, MergeReport]:
    """Combine line layers of one role; drop duplicates, keep the winning attributes.

    Parameters
    ----------
    frames
        The sources in manifest order, checked, in one metric CRS.
    names
        Their manifest keys (``roads``, ``roads[2]``), for ``road_source``.
    priorities
        Declared ``priority:`` per source (default 0 each); the higher wins, ties go to
        the later source.
    buffer_m, share
        The duplicate rule: ``share`` of a line's length within ``buffer_m``.
    join_m
        Loose ends of added lines are joined to the nearest line within this distance
        (0: not joined).
    id_column
        The id column, prefixed for later sources.

    Returns
    -------
    tuple
        The merged layer (with ``road_source`` and ``attr_source``) and a
        :class:`MergeReport`.
    """
    priorities = priorities or [0] * len(frames)
    rank = {name: (priorities[k], k) for k, name in enumerate(names)}
    merged = frames[0].copy()
    merged["road_source"] = names[0]
    merged["attr_source"] = names[0]
    report = MergeReport({}, {}, {}, {})
    for k in range(1, len(frames)):
        name = names[k]
        new = frames[k].to_crs(merged.crs).reset_index(drop=True)
        new[id_column] = f"{name}:" + new[id_column].astype(str)
        new["road_source"] = name
        new["attr_source"] = name
        kept_geoms = np.asarray(merged.geometry.values)
        new_geoms = np.asarray(new.geometry.values)
        tree = shapely.STRtree(kept_geoms)
        pairs = tree.query(new_geoms, predicate="dwithin", distance=buffer_m)
        dup = _share_within(new_geoms, kept_geoms, (pairs[0], pairs[1]), buffer_m) >= share
        taken = _take_attributes(merged, new, dup, pairs, rank, name, (buffer_m, share),
                                 id_column)
        added = new[~dup]
        both = pd.concat([merged, added], ignore_index=True)
        is_added = np.r_[np.zeros(len(merged), bool), np.ones(len(added), bool)]
        geoms, joined = (_join_loose_ends(np.asarray(both.geometry.values), is_added, join_m)
                         if join_m > 0 else (np.asarray(both.geometry.values), 0))
        merged = gpd.GeoDataFrame(both, geometry=list(geoms), crs=merged.crs)
        report.duplicates[name] = int(dup.sum())
        report.attributes_taken[name] = taken
        report.added[name] = len(added)
        report.ends_joined[name] = joined
    for line in report.lines():
        logger.info("merged line sources: %s", line)
    return merged, report


def _take_attributes(merged: gpd.GeoDataFrame, new: gpd.GeoDataFrame, dup: np.ndarray,
                     pairs: np.ndarray, rank: dict[str, tuple[int, int]], name: str,
                     rule: tuple[float, float], id_column: str) -> int:
    """Copy a winning duplicate's attributes onto the kept lines it covers (in place).

    For each kept line the covering duplicate is the one whose buffer holds most of its
    length; it is used when that is at least ``share`` of the kept line's length.
    """
    buffer_m, share = rule
    columns = [c for c in new.columns if c not in ("geometry", id_column, "road_source")
               and c in merged.columns and not c.startswith("_")]
    wins = np.array([rank[name] > rank[str(s)] for s in merged["attr_source"]], dtype=bool)
    i_idx, j_idx = pairs
    keep = dup[i_idx] & wins[j_idx]
    if not keep.any():
        return 0
    i_idx, j_idx = i_idx[keep], j_idx[keep]
    kept_geoms = np.asarray(merged.geometry.values)
    zones = shapely.buffer(np.asarray(new.geometry.values)[i_idx], buffer_m)
    cover = shapely.length(shapely.intersection(kept_geoms[j_idx], zones))
    table = pd.DataFrame({"i": i_idx, "j": j_idx, "cover": cover})
    best = table.sort_values(["j", "cover", "i"], ascending=[True, False, True],
                             kind="stable").drop_duplicates("j")
    best = best[best["cover"].to_numpy() >= share * shapely.length(kept_geoms[best["j"]])]
    rows = merged.index[best["j"].to_numpy()]
    for col in columns:
        merged.loc[rows, col] = new[col].to_numpy()[best["i"].to_numpy()]
    merged.loc[rows, "attr_source"] = name
    return len(best)
