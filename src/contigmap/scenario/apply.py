"""Apply a scenario's changes to a copy of the region's road layer.

* ``upgrade`` sets ``road_class`` / ``surface`` of the chosen rows;
* ``build`` appends a new line; each of its ends is joined to the nearest point of the
  nearest road (that road gets a vertex there, so the graph builder splits it and the
  new line becomes a junction), with a straight connector when the end is off the road;
  ``between`` two villages routes the line over the DEM with
  :func:`contigmap.costpath.least_cost_path`;
* ``close`` drops the chosen rows (hazard: highest landslide susceptibility along the
  line above a value, or intersecting a flood polygon);
* ``bus`` places stops (they do not change the roads).

Costs come from the priority stage's cost model (``priorities.yaml``, ``roads.costs``):
an upgrade that changes a road is priced as hardening per km, a new road as new
construction per km, both by the terrain class of the road's surroundings (relief within
1 km of its midpoint; :func:`contigmap.roadworks.terrain_class`); a bus as one
minibus plus a year of operation. An explicit ``cost_cny`` on a change replaces the
model's cost (spread over its roads by length).
"""

from __future__ import annotations

import difflib
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape

from contigmap.costpath import least_cost_path
from contigmap.errors import ConfigError, DataQualityWarning, NetworkError
from contigmap.io.region import RegionData
from contigmap.priority.config import load_priority_config
from contigmap.raster import Raster
from contigmap.roadworks import RoadCosts, terrain_class
from contigmap.scenario.model import (
    BuildChange,
    BusChange,
    CloseChange,
    RoadSelection,
    Scenario,
    UpgradeChange,
)
from contigmap.terrain import window_relief

__all__ = ["AppliedScenario", "BusRoute", "apply_scenario", "road_terrain"]

logger = logging.getLogger(__name__)

_JOIN_MAX_M = 2000.0


@dataclass
class BusRoute:
    """A bus route's stops (working CRS) and its waiting time (half the headway)."""

    change: int
    stops_xy: NDArray[np.float64]
    wait_min: float
    label: str


@dataclass
class AppliedScenario:
    """A scenario applied to the road layer.

    Attributes
    ----------
    scenario
        The scenario.
    roads
        The modified copy of the road layer (working CRS).
    changed
        One row per changed road: ``change``, ``change_type``, ``label``, ``road_id``,
        ``from_class``, ``from_surface``, ``to_class``, ``to_surface``, ``length_m``,
        ``terrain``, ``cost_cny`` and the geometry (working CRS).
    buses
        Bus routes.
    """

    scenario: Scenario
    roads: gpd.GeoDataFrame
    changed: gpd.GeoDataFrame
    buses: list[BusRoute] = field(default_factory=list)

    @property
    def cost_cny(self) -> float:
        """Total cost of the scenario (roads and buses)."""
        return float(self.changed["cost_cny"].sum())


def road_terrain(
    geoms: Any, dem: Raster | None, costs: RoadCosts, radius_m: float = 1000.0
) -> NDArray[np.object_]:
    """Terrain class (flat / hilly / mountainous) from the relief around each line's midpoint.

    A line whose midpoint has no DEM data around it (outside the DEM, or nodata) takes
    the median relief of the other lines (``hilly``, as without a DEM, when none has
    data), with a :class:`~contigmap.errors.DataQualityWarning`; it is never taken as flat.
    """
    g = np.asarray(geoms, dtype=object)
    if g.size == 0:
        return np.zeros(0, dtype=object)
    if dem is None:
        return np.full(g.size, "hilly", dtype=object)
    mid = shapely.line_interpolate_point(g, 0.5, normalized=True)
    x, y = shapely.get_x(mid), shapely.get_y(mid)
    relief = window_relief(dem, x, y, radius_m, min_cells=1)
    unknown = ~np.isfinite(relief)
    out = terrain_class(np.nan_to_num(relief), costs)
    if unknown.any():
        if unknown.all():
            out[:] = "hilly"
        else:
            out[unknown] = terrain_class(np.array([np.median(relief[~unknown])]), costs)[0]
        warnings.warn(
            f"{int(unknown.sum())} scenario road(s) lie outside the DEM or on its nodata; "
            f"they are costed as the typical terrain of the others ({out[unknown][0]})",
            DataQualityWarning, stacklevel=3)
    return out


class _Applier:
    def __init__(self, data: RegionData, scenario: Scenario, costs: RoadCosts) -> None:
        self.data = data
        self.sc = scenario
        self.costs = costs
        self.roads = data.roads.copy()
        self.roads["road_id"] = self.roads["road_id"].astype(str)
        self.rows: list[dict[str, Any]] = []
        self.buses: list[BusRoute] = []
        county = data.boundaries.get("county")
        if county is not None and len(county):
            self.area = shapely.union_all(np.asarray(county.geometry.values)).buffer(1000.0)
        else:
            self.area = shapely.union_all(np.asarray(data.roads.geometry.values)).convex_hull
            self.area = self.area.buffer(2000.0)

    def fail(self, i: int, problem: str) -> ConfigError:
        return ConfigError(f"{self.sc.where(i)}: {problem}")

    # ---------------------------------------------------------------- selection
    def by_ids(self, i: int, ids: list[str]) -> NDArray[np.int64]:
        have = pd.Index(self.roads["road_id"])
        pos = have.get_indexer(pd.Index([str(x) for x in ids]))
        if (pos < 0).any():
            bad = str(ids[int(np.flatnonzero(pos < 0)[0])])
            close = difflib.get_close_matches(bad, list(have), n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else "check the roads layer's ids"
            raise self.fail(i, f"road id '{bad}' does not exist; {hint}")
        return np.unique(pos.astype(np.int64))

    def to_working(self, i: int, geom: str | dict[str, Any], what: str) -> Any:
        try:
            g = shapely.from_wkt(geom) if isinstance(geom, str) else shape(geom)
        except (shapely.errors.GEOSException, ValueError, TypeError, AttributeError,
                KeyError) as err:
            raise self.fail(i, f"{what} is not valid WKT / GeoJSON ({err})") from err
        out = gpd.GeoSeries([g], crs="EPSG:4326").to_crs(self.roads.crs).iloc[0]
        if not out.intersects(self.area):
            raise self.fail(i, f"{what} lies outside the region; give lon/lat (WGS84) "
                               f"coordinates inside it")
        return out

    def by_selection(self, i: int, sel: RoadSelection) -> NDArray[np.int64]:
        ok = np.ones(len(self.roads), bool)
        if sel.road_class is not None:
            ok &= self.roads["road_class"].isin(sel.road_class).to_numpy()
        if sel.surface is not None:
            ok &= self.roads["surface"].isin(sel.surface).to_numpy()
        if sel.township is not None:
            towns = self.data.boundaries.get("townships")
            if towns is None:
                raise self.fail(i, "select.township needs the region's township boundaries "
                                   "(boundaries: townships: in region.yaml)")
            known = set(towns["township_id"].astype(str))
            for t in sel.township:
                if str(t) not in known:
                    close = difflib.get_close_matches(str(t), sorted(known), n=1)
                    hint = f"did you mean '{close[0]}'?" if close else "check township_id"
                    raise self.fail(i, f"township '{t}' is not in the region; {hint}")
            area = shapely.union_all(np.asarray(
                towns[towns["township_id"].astype(str).isin([str(t) for t in sel.township])]
                .geometry.values))
            mid = shapely.line_interpolate_point(np.asarray(self.roads.geometry.values), 0.5,
                                                 normalized=True)
            ok &= shapely.within(mid, area)
        if sel.polygon is not None:
            poly = self.to_working(i, sel.polygon, "select.polygon")
            ok &= shapely.intersects(np.asarray(self.roads.geometry.values), poly)
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            raise self.fail(i, "the selection matches no road; loosen it (check class, "
                               "surface, township and polygon)")
        return idx.astype(np.int64)

    def by_hazard(self, i: int, change: CloseChange) -> NDArray[np.int64]:
        hz = change.hazard
        assert hz is not None
        ok = np.zeros(len(self.roads), bool)
        geoms = np.asarray(self.roads.geometry.values)
        if hz.landslide_above is not None:
            ras = self.data.hazards.get("landslide")
            if not isinstance(ras, Raster):
                raise self.fail(i, "hazard.landslide_above needs a 'landslide' raster under "
                                   "hazards: in region.yaml")
            dense = shapely.segmentize(geoms, max(min(ras.res) / 2.0, 1.0))
            xy, line = shapely.get_coordinates(dense, return_index=True)
            val = np.nan_to_num(ras.sample(xy[:, 0], xy[:, 1]), nan=-np.inf)
            top = np.full(len(self.roads), -np.inf)
            np.maximum.at(top, line, val)
            ok |= top > hz.landslide_above
        if hz.flood:
            flood = self.data.hazards.get("flood")
            if not isinstance(flood, gpd.GeoDataFrame):
                raise self.fail(i, "hazard.flood needs a 'flood' polygon layer under "
                                   "hazards: in region.yaml")
            area = shapely.union_all(np.asarray(flood.geometry.values))
            ok |= shapely.intersects(geoms, area)
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            raise self.fail(i, "the hazard selection matches no road; lower landslide_above")
        return idx.astype(np.int64)

    # ---------------------------------------------------------------- changes
    def record(self, i: int, kind: str, label: str, idx: NDArray[np.int64],
               to_class: Any, to_surface: Any, geoms: Any, unit: str | None,
               explicit: float | None) -> None:
        g = np.asarray(geoms, dtype=object)
        length = shapely.length(g)
        terrain = road_terrain(g, self.data.dem, self.costs)
        if explicit is not None:
            cost = explicit * length / max(float(length.sum()), 1e-9)
        elif unit is None:
            cost = np.zeros(g.size)
        else:
            table = getattr(self.costs, unit)
            cost = length / 1000.0 * np.array([getattr(table, str(t)) for t in terrain])
        for k in range(g.size):
            r = int(idx[k]) if idx[k] >= 0 else -1
            self.rows.append({
                "change": i, "change_type": kind, "label": label,
                "road_id": self.roads["road_id"].iloc[r] if r >= 0 else None,
                "from_class": self.roads["road_class"].iloc[r] if r >= 0 else None,
                "from_surface": self.roads["surface"].iloc[r] if r >= 0 else None,
                "to_class": to_class[k] if isinstance(to_class, np.ndarray) else to_class,
                "to_surface": (to_surface[k] if isinstance(to_surface, np.ndarray)
                               else to_surface),
                "length_m": float(length[k]), "terrain": terrain[k], "cost_cny": float(cost[k]),
                "geometry": g[k],
            })

    def upgrade(self, i: int, ch: UpgradeChange) -> None:
        idx = self.by_ids(i, ch.roads) if ch.roads is not None else self.by_selection(
            i, ch.select)  # type: ignore[arg-type]
        cls = self.roads["road_class"].to_numpy(object)[idx]
        srf = self.roads["surface"].to_numpy(object)[idx]
        new_cls = np.full(idx.size, ch.to.road_class, dtype=object) if ch.to.road_class else cls
        new_srf = np.full(idx.size, ch.to.surface, dtype=object) if ch.to.surface else srf
        diff = (new_cls != cls) | (new_srf != srf)
        if not diff.any():
            raise self.fail(i, f"all {idx.size} selected road(s) already have that class and "
                               f"surface; nothing to upgrade")
        idx, new_cls, new_srf = idx[diff], new_cls[diff], new_srf[diff]
        geoms = self.roads.geometry.to_numpy()[idx]
        self.record(i, "upgrade", ch.label or f"upgrade {idx.size} road(s)", idx, new_cls,
                    new_srf, geoms, "harden_cny_per_km", ch.cost_cny)
        col_c = self.roads.columns.get_loc("road_class")
        col_s = self.roads.columns.get_loc("surface")
        self.roads.iloc[idx, col_c] = new_cls
        self.roads.iloc[idx, col_s] = new_srf

    def join_point(self, i: int, pt: Any, what: str) -> Any:
        """Nearest point of the nearest road; insert it as a vertex of that road."""
        geoms = self.roads.geometry
        j = int(self.roads.sindex.nearest(pt, return_all=False)[1][0])
        line = geoms.iloc[j]
        d = float(line.distance(pt))
        if d > _JOIN_MAX_M:
            raise self.fail(i, f"{what} is {d:.0f} m from the nearest road (more than "
                               f"{_JOIN_MAX_M:.0f} m); a new road must start and end near the "
                               f"network")
        s = line.project(pt)
        foot = line.interpolate(s)
        coords = np.asarray(line.coords)
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords[:, :2], axis=0).T))])
        k = int(np.searchsorted(cum, s, side="right"))
        fxy = np.array([foot.x, foot.y])
        near = np.hypot(*(coords[:, :2] - fxy).T)
        if near.min() > 1e-3:
            coords2 = np.vstack([coords[:k, :2], fxy[None, :], coords[k:, :2]])
            col = self.roads.columns.get_loc(self.roads.geometry.name)
            self.roads.iloc[j, col] = shapely.linestrings(coords2)
        else:
            fxy = coords[int(np.argmin(near)), :2]
        return shapely.points(fxy)

    def build(self, i: int, ch: BuildChange) -> None:
        if ch.geometry is not None:
            line = self.to_working(i, ch.geometry, "geometry")
            if line.geom_type != "LineString":
                raise self.fail(i, f"geometry is a {line.geom_type}; give a LineString")
            xy = np.asarray(line.coords)[:, :2]
        else:
            a, b = ch.between  # type: ignore[misc]
            vil = self.data.villages.assign(_id=self.data.villages["village_id"].astype(str))
            pts = []
            for vid in (a, b):
                hit = vil[vil["_id"] == str(vid)]
                if hit.empty:
                    close = difflib.get_close_matches(str(vid), list(vil["_id"]), n=1)
                    hint = f"did you mean '{close[0]}'?" if close else "check village_id"
                    raise self.fail(i, f"village '{vid}' does not exist; {hint}")
                p = hit.geometry.iloc[0]
                p = p if p.geom_type == "Point" else p.representative_point()
                pts.append([p.x, p.y])
            if self.data.dem is None:
                raise self.fail(i, "'between' needs the region's DEM for a least-cost path; "
                                   "give 'geometry' instead")
            try:
                path = least_cost_path(self.data.dem, pts[0], np.asarray([pts[1]]),
                                       params=self.costs.costpath)
            except NetworkError as err:
                raise self.fail(i, f"no least-cost path between the villages ({err})") from err
            xy = path.xy
        start = self.join_point(i, shapely.points(xy[0]), "the line's start")
        end = self.join_point(i, shapely.points(xy[-1]), "the line's end")
        sxy = np.array([[start.x, start.y]])
        exy = np.array([[end.x, end.y]])
        coords = np.vstack([sxy, xy, exy])
        keep = np.ones(len(coords), bool)
        keep[1:] = np.hypot(*np.diff(coords, axis=0).T) > 1e-6
        new_line = shapely.linestrings(coords[keep])
        rid = f"new-{self.sc.name}-{i}"
        row: dict[str, Any] = {c: None for c in self.roads.columns}
        row.update({"road_id": rid, "road_class": ch.road_class, "surface": ch.surface,
                    self.roads.geometry.name: new_line})
        for flag in ("bridge", "tunnel"):
            if flag in self.roads.columns:
                row[flag] = False
        add = gpd.GeoDataFrame([row], geometry=self.roads.geometry.name, crs=self.roads.crs)
        self.roads = pd.concat([self.roads, add], ignore_index=True)
        self.record(i, "build", ch.label or f"new road {new_line.length / 1000:.1f} km",
                    np.array([len(self.roads) - 1]), ch.road_class, ch.surface, [new_line],
                    "new_road_cny_per_km", ch.cost_cny)
        self.rows[-1]["road_id"] = rid
        self.rows[-1]["from_class"] = None
        self.rows[-1]["from_surface"] = None

    def close(self, i: int, ch: CloseChange) -> None:
        if ch.roads is not None:
            idx = self.by_ids(i, ch.roads)
        elif ch.select is not None:
            idx = self.by_selection(i, ch.select)
        else:
            idx = self.by_hazard(i, ch)
        geoms = self.roads.geometry.to_numpy()[idx]
        self.record(i, "close", ch.label or f"close {idx.size} road(s)", idx, "closed",
                    "closed", geoms, None, ch.cost_cny or None)
        self.roads = self.roads.drop(index=self.roads.index[idx]).reset_index(drop=True)

    def bus(self, i: int, ch: BusChange) -> None:
        vil = self.data.villages.assign(_id=self.data.villages["village_id"].astype(str))
        xy = []
        for k, stop in enumerate(ch.stops):
            if isinstance(stop, str):
                hit = vil[vil["_id"] == stop]
                if hit.empty:
                    close = difflib.get_close_matches(stop, list(vil["_id"]), n=1)
                    hint = f"did you mean '{close[0]}'?" if close else "check village_id"
                    raise self.fail(i, f"stop {k}: village '{stop}' does not exist; {hint}")
                p = hit.geometry.iloc[0]
                p = p if p.geom_type == "Point" else p.representative_point()
            else:
                p = self.to_working(i, shapely.Point(stop).wkt, f"stop {k}")
            j = int(self.roads.sindex.nearest(p, return_all=False)[1][0])
            d = float(self.roads.geometry.iloc[j].distance(p))
            if d > ch.max_stop_distance_m:
                raise self.fail(i, f"stop {k} is {d:.0f} m from the nearest road (more than "
                                   f"max_stop_distance_m = {ch.max_stop_distance_m:.0f}); "
                                   f"move it onto a road")
            xy.append([p.x, p.y])
        stops = np.asarray(xy, dtype=float)
        wait = ch.service_hours * 60.0 / ch.frequency_per_day / 2.0
        label = ch.label or f"bus, {len(stops)} stops, {ch.frequency_per_day:g}/day"
        self.buses.append(BusRoute(i, stops, wait, label))
        cost = ch.cost_cny if ch.cost_cny is not None else (
            self.costs.shuttle_bus_cny + self.costs.shuttle_operating_cny_per_year)
        route = shapely.linestrings(stops) if len(stops) > 1 else shapely.points(stops[0])
        self.rows.append({"change": i, "change_type": "bus", "label": label, "road_id": None,
                          "from_class": None, "from_surface": None, "to_class": None,
                          "to_surface": None, "length_m": float(shapely.length(route)),
                          "terrain": None, "cost_cny": float(cost), "geometry": route})


def apply_scenario(
    data: RegionData, scenario: Scenario, *, costs: RoadCosts | None = None
) -> AppliedScenario:
    """Apply a scenario's changes, in order, to a copy of ``data.roads``.

    Parameters
    ----------
    data
        The region's layers (working CRS).
    scenario
        The scenario (:func:`contigmap.scenario.load_scenario`).
    costs
        Road cost parameters; the packaged ``priorities.yaml`` when omitted.

    Returns
    -------
    AppliedScenario
        The modified roads, one row per changed road with its cost, and bus routes.

    Raises
    ------
    ConfigError
        A road id that does not exist (the closest ids are suggested), a selection that
        matches nothing, a geometry outside the region, a new road far from the network,
        a bus stop far from every road; the message names the file and the change.
    """
    if scenario.region is not None and scenario.region != data.config.name:
        warnings.warn(
            f"{scenario.source}: written for region '{scenario.region}', applied to "
            f"'{data.config.name}'", DataQualityWarning, stacklevel=2)
    costs = costs or load_priority_config().roads.costs
    ap = _Applier(data, scenario, costs)
    for i, ch in enumerate(scenario.changes):
        if isinstance(ch, UpgradeChange):
            ap.upgrade(i, ch)
        elif isinstance(ch, BuildChange):
            ap.build(i, ch)
        elif isinstance(ch, CloseChange):
            ap.close(i, ch)
        else:
            ap.bus(i, ch)
    if len(ap.roads) == 0:
        closing = [f"change {r['change']} (close, '{r['label']}')" for r in ap.rows
                   if r["change_type"] == "close"]
        msg = (f"{scenario.source}: the scenario closes every road of the region "
               f"({len(data.roads)} road(s), by {', '.join(dict.fromkeys(closing))}); a "
               f"network needs at least one open road: narrow the close change(s) or add a "
               f"build change")
        raise ConfigError(msg)
    cols = ["change", "change_type", "label", "road_id", "from_class", "from_surface",
            "to_class", "to_surface", "length_m", "terrain", "cost_cny", "geometry"]
    changed = gpd.GeoDataFrame(pd.DataFrame(ap.rows, columns=cols), geometry="geometry",
                               crs=data.roads.crs)
    logger.info("scenario %s: %d change(s), %d road(s) changed, cost %.0f CNY", scenario.name,
                len(scenario.changes), int((changed["change_type"] != "bus").sum()),
                float(changed["cost_cny"].sum()))
    return AppliedScenario(scenario, ap.roads, changed, ap.buses)
