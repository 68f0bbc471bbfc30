"""The one region a ``contigmap serve`` process serves: prepared once, evaluated many times.

:class:`ServedRegion` runs :func:`contigmap.pipeline.prepare` once (the same state
``contigmap scenario run`` prepares), computes the scenario baseline once
(:func:`contigmap.scenario.baseline_measures` on the run's graph and settings) and then
evaluates a session's edits as a scenario with
:func:`contigmap.scenario.evaluate_scenario` — the very function the CLI calls, on the
scenario *as its saved YAML reads back* (:meth:`ServedRegion.evaluate` parses the YAML
text it would save), so the browser's numbers and ``contigmap scenario run`` on the saved
file agree by construction.

The answers of the editor (:meth:`ServedRegion.answer`) go the live way where they can:
upgrades and closures of roads named by id (in either season) are evaluated
incrementally on the baseline graph (:class:`contigmap.serve.live.LiveModel`), with the
same per-village minutes and headline numbers; new roads, bus lines, ``params:`` and the
few cases :meth:`LiveModel.reason` names are evaluated in full. Each answer says which
(``engine``).

Evaluations are serialised by one lock (the numerical work holds the GIL anyway) and
memoised by the scenario's YAML text in a bounded LRU cache, so undo and redo are
answered from memory.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from contigmap.errors import ConfigError, DataQualityWarning
from contigmap.scenario import Baseline, ScenarioResult, baseline_measures, evaluate_scenario
from contigmap.scenario.model import Scenario, parse_scenario
from contigmap.serve.busroute import bus_course
from contigmap.serve.live import ANSWER_COLUMNS, LiveModel, LiveResult
from contigmap.state import RegionState
from contigmap.yamlio import parse_yaml_text

__all__ = ["SNAP_MAX_M", "ServedRegion"]

logger = logging.getLogger(__name__)

#: A clicked end of a new road must lie within this distance of a network node.
SNAP_MAX_M = 2000.0
_CACHE_SIZE = 256


def _lonlat(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    return gdf.geometry.to_crs(4326)


@dataclass(eq=False)
class ServedRegion:
    """A prepared region, its scenario baseline and the evaluation of edited scenarios.

    Attributes
    ----------
    state
        The prepared region (:func:`contigmap.pipeline.prepare`, without priorities).
    baseline
        The scenario baseline (the run's graph, villages and network settings).
    name
        The region's name (``region:`` of saved scenarios).
    """

    state: RegionState
    baseline: Baseline
    name: str
    _tree: cKDTree = field(repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    live: LiveModel | None = field(default=None, repr=False)
    _bus_memo: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict,
                                                       repr=False)
    _bus_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _cache: OrderedDict[str, LiveResult] = field(default_factory=OrderedDict, repr=False)
    stats: dict[str, int] = field(default_factory=lambda: {"evaluated": 0, "cached": 0,
                                                           "incremental": 0, "full": 0})
    """Answers computed (of which incremental and full) and answered from the cache."""

    @classmethod
    def prepare(cls, region_path: str | Path, *, config: str | Path | None = None,
                priority_config: str | Path | None = None) -> ServedRegion:
        """Load, profile and route the region once, as ``contigmap scenario run`` does."""
        from contigmap.pipeline import prepare

        state = prepare(region_path, priorities=False, config=config,
                        priority_config=priority_config)
        return cls.from_state(state)

    @classmethod
    def from_state(cls, state: RegionState) -> ServedRegion:
        """Serve an already prepared region (its baseline is computed here, once)."""
        if state.data.services is None:
            msg = (f"{state.data.config.name}: serving road scenarios needs the services layer "
                   "(township and county seats); declare `services:` in region.yaml")
            raise ConfigError(msg)
        settings = state.settings
        base = baseline_measures(state.data, villages=state.villages, params=settings.network,
                                 graph=state.network.graph)
        tree = cKDTree(np.asarray(state.network.graph.node_xy, dtype=float))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            live = LiveModel.build(state.data, base, settings.priorities.roads.costs)
        return cls(state=state, baseline=base, name=state.data.config.name, _tree=tree,
                   live=live)

    # ---------------------------------------------------------------- the map's data
    def region_json(self) -> dict[str, Any]:
        """Roads and villages as GeoJSON (lon/lat, 6 decimals) plus baseline minutes."""
        data = self.state.data
        roads = data.roads
        geo = shapely.set_precision(np.asarray(_lonlat(roads).values), 1e-6)
        road_features = [
            {"type": "Feature", "geometry": shapely.geometry.mapping(g),
             "properties": {"id": str(r), "cls": str(c), "srf": str(s), "name": _text(n)}}
            for g, r, c, s, n in zip(geo, roads["road_id"], roads["road_class"],
                                     roads["surface"],
                                     roads["name"] if "name" in roads else [None] * len(roads),
                                     strict=True)]
        b = self.baseline.villages
        pts = _lonlat(b)
        villages = [
            {"id": str(v), "name": _text(n), "lon": round(float(p.x), 6),
             "lat": round(float(p.y), 6), "pop": float(pop), "poor": float(poor),
             "own": _minutes(o), "county": _minutes(c)}
            for v, n, p, pop, poor, o, c in zip(
                b["village_id"], b["name"] if "name" in b else b["village_id"], pts, b["pop"],
                b["poor_pop"], b["tt_own_township_seat_min"], b["tt_county_seat_min"],
                strict=True)]
        bounds = [round(float(x), 6) for x in pts.total_bounds]
        title = data.config.title or data.config.name
        return {"name": self.name, "title": title, "bounds": bounds,
                "roads": {"type": "FeatureCollection", "features": road_features},
                "villages": villages, "season": self.baseline.season,
                "townships": _outlines(data.boundaries.get("townships"), "township_id"),
                "county": _outlines(data.boundaries.get("county"), "county_id"),
                "style": map_style()}

    # ---------------------------------------------------------------- edits
    def snap(self, lon: float, lat: float, what: str) -> tuple[float, float]:
        """Return the lon/lat of the network node nearest to a clicked point.

        9 decimals (0.1 mm), so that a new road drawn to it ends at that node (the
        scenario joins an end within 1 mm of a road's vertex to the vertex, farther
        ones split the road beside it).

        Raises
        ------
        ConfigError
            The point lies more than :data:`SNAP_MAX_M` from every node.
        """
        pt = gpd.GeoSeries([shapely.Point(lon, lat)], crs=4326).to_crs(
            self.state.data.roads.crs).iloc[0]
        dist, k = self._tree.query([pt.x, pt.y])
        if not np.isfinite(dist) or dist > SNAP_MAX_M:
            msg = (f"{what} is {dist:.0f} m from the nearest road junction (more than "
                   f"{SNAP_MAX_M:.0f} m); click closer to the network")
            raise ConfigError(msg)
        xy = self.state.network.graph.node_xy[int(k)]
        ll = gpd.GeoSeries([shapely.Point(float(xy[0]), float(xy[1]))],
                           crs=self.state.data.roads.crs).to_crs(4326).iloc[0]
        return round(float(ll.x), 9), round(float(ll.y), 9)

    def scenario(self, yaml_text: str) -> Scenario:
        """Parse a session's YAML text as ``contigmap scenario run`` reads a scenario file.

        A season switch alone (no change) is valid here, not yet a scenario file.
        """
        raw = parse_yaml_text(yaml_text, "edits")
        if raw.get("changes"):
            return parse_scenario(raw, source="edits")
        return Scenario(name=str(raw.get("name", "edits")), region=raw.get("region"),
                        season=raw.get("season"), source="edits")

    def bus_line(self, stops: list[Any]) -> dict[str, Any]:
        """Return a bus line's stops and its course along roads (lon/lat) for the map.

        ``stops`` as in a scenario's ``bus`` change (village ids or lon/lat);
        :func:`contigmap.serve.busroute.bus_course` draws the course. Memoised.
        """
        key = repr(stops)
        memo: OrderedDict[str, dict[str, Any]] = self._bus_memo
        with self._bus_lock:
            if key in memo:
                return memo[key]
        b = self.baseline.villages
        at = {str(v): (float(p.x), float(p.y))
              for v, p in zip(b["village_id"], b.geometry, strict=True)}
        crs = self.state.data.roads.crs
        ll = [s for s in stops if not isinstance(s, str)]
        conv = iter(gpd.GeoSeries([shapely.Point(float(x), float(y)) for x, y in ll],
                                  crs=4326).to_crs(crs)) if ll else iter(())
        xy = []
        for s in stops:
            if isinstance(s, str):
                if s in at:
                    xy.append(at[s])
            else:
                p = next(conv)
                xy.append((float(p.x), float(p.y)))
        if not xy:
            return {"stops": [], "course": []}
        arr = np.asarray(xy, dtype=float)
        course = bus_course(self.state.network.graph, self._tree, arr)
        pts = gpd.GeoSeries(shapely.points(arr), crs=crs).to_crs(4326)
        out = {"stops": [[round(float(p.x), 6), round(float(p.y), 6)] for p in pts],
               "course": course}
        with self._bus_lock:
            memo[key] = out
            while len(memo) > _CACHE_SIZE:
                memo.popitem(last=False)
        return out

    def evaluate(self, yaml_text: str) -> ScenarioResult:
        """Evaluate a scenario YAML text exactly as ``contigmap scenario run`` would.

        The text is parsed and validated like a scenario file
        (:func:`contigmap.scenario.parse_scenario`) and evaluated in full against the
        served baseline with the region's road costs (the reference of :meth:`answer`).

        Raises
        ------
        ConfigError
            An invalid scenario (unknown road, a new road far from the network, ...).
        """
        with self._lock:
            return self._full(self.scenario(yaml_text))

    def _full(self, sc: Scenario) -> ScenarioResult:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            res = evaluate_scenario(self.state.data, sc, baseline=self.baseline,
                                    villages=self.state.villages,
                                    costs=self.state.settings.priorities.roads.costs)
        # the applied scenario holds a whole copy of the road layer: not kept
        return replace(res, applied=None)

    def answer(self, yaml_text: str) -> LiveResult:
        """Answer the editor for a scenario YAML text, incrementally where it can.

        Upgrades and closures go through :class:`LiveModel` (``engine``
        ``incremental``); anything else is :meth:`evaluate`'s full evaluation
        (``engine`` ``full``). Memoised by the text.

        Raises
        ------
        ConfigError
            An invalid scenario (unknown road, a new road far from the network, ...).
        """
        with self._lock:
            hit = self._cache.get(yaml_text)
            if hit is not None:
                self._cache.move_to_end(yaml_text)
                self.stats["cached"] += 1
                return hit
            t0 = time.perf_counter()
            sc = self.scenario(yaml_text)
            why = self.live.reason(sc) if self.live is not None else "no live model"
            if why is None and self.live is not None:
                res = self.live.evaluate(sc)
            else:
                full = self._full(sc)
                v = full.villages  # kept: only the columns an answer reads (no geometry)
                res = LiveResult(pd.DataFrame({c: v[c].to_numpy() for c in ANSWER_COLUMNS
                                               if c in v.columns}),
                                 full.summary, engine="full")
            self.stats["evaluated"] += 1
            self.stats[res.engine] += 1
            logger.info("answer (%s%s): %.1f ms", res.engine, f": {why}" if why else "",
                        (time.perf_counter() - t0) * 1000.0)
            self._cache[yaml_text] = res
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
            return res

    def clear_cache(self) -> None:
        """Forget memoised evaluations and reset :attr:`stats`."""
        with self._lock:
            self._cache.clear()
            self.stats.update(evaluated=0, cached=0, incremental=0, full=0)


def _outlines(gdf: gpd.GeoDataFrame | None, id_col: str) -> dict[str, Any]:
    """Boundary outlines (simplified to 20 m, lon/lat to 1e-5) with their names."""
    feats: list[dict[str, Any]] = []
    if gdf is not None and len(gdf):
        simple = gdf.geometry.simplify(20.0).to_crs(4326)
        names = (gdf["name"] if "name" in gdf else gdf[id_col] if id_col in gdf
                 else [None] * len(gdf))
        feats = [{"type": "Feature", "properties": {"name": _text(n)},
                  "geometry": shapely.geometry.mapping(shapely.set_precision(g, 1e-5))}
                 for g, n in zip(simple.values, names, strict=True)]
    return {"type": "FeatureCollection", "features": feats}


def map_style() -> dict[str, Any]:
    """Road and boundary styles of the web map (:mod:`contigmap.render.web_layers`).

    The editor draws roads by surface colour and class width, and the county and
    township outlines, exactly as ``map.html`` does; the Chinese names of classes and
    surfaces come from :mod:`contigmap.schema`.
    """
    from contigmap.render.web_layers import (
        BOUNDARY_STYLES,
        CLASS_WIDTH_PX,
        FOOTPATH_COLOR,
        SURFACE_COLORS,
    )
    from contigmap.schema import ROAD_CLASS_ZH, SURFACE_ZH

    return {"surface_colors": dict(SURFACE_COLORS), "footpath_color": FOOTPATH_COLOR,
            "class_width": dict(CLASS_WIDTH_PX), "county": BOUNDARY_STYLES["county"],
            "townships": BOUNDARY_STYLES["townships"], "class_zh": dict(ROAD_CLASS_ZH),
            "surface_zh": dict(SURFACE_ZH)}


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    return str(value)


def _minutes(value: Any) -> float | None:
    v = float(value)
    return round(v, 3) if np.isfinite(v) else None
