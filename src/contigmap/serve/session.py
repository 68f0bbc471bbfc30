"""Editing sessions of ``contigmap serve``: one scenario state per browser tab.

A :class:`Session` holds an ordered list of *operations* (scenario changes and season
switches) with undo and redo stacks; its scenario is :meth:`Session.yaml_text`, the very
YAML the user saves, and every answer is the evaluation of that text
(:meth:`contigmap.serve.region.ServedRegion.evaluate`). An edit that the scenario model
or :func:`contigmap.scenario.apply_scenario` rejects leaves the session as it was.

:class:`SessionStore` bounds the number of sessions (the least recently used one is
dropped when a new one would exceed it) and each session bounds its operations.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
import yaml
from shapely.geometry import shape

from contigmap.errors import ConfigError, ContigmapError
from contigmap.scenario.model import parse_scenario
from contigmap.serve.live import LiveResult
from contigmap.serve.models import BuildEdit, BusEdit, CloseEdit, SeasonEdit, UpgradeEdit
from contigmap.serve.region import ServedRegion
from contigmap.yamlio import parse_yaml_text

__all__ = ["MAX_EDITS", "MAX_SESSIONS", "Session", "SessionError", "SessionStore",
           "result_payload"]

logger = logging.getLogger(__name__)

#: Operations (edits) one session may hold.
MAX_EDITS = 200
#: Sessions one server keeps (the least recently used is dropped beyond it).
MAX_SESSIONS = 64
#: Villages listed as most affected.
TOP_N = 10
#: Minutes a travel time must move to count as changed (a rebuilt graph sums the same
#: arcs in another order: differences of 1e-12 minutes are rounding, not change).
CHANGE_MIN = 0.01

EditModel = UpgradeEdit | CloseEdit | BuildEdit | BusEdit | SeasonEdit


class SessionError(ContigmapError):
    """A session that does not exist (expired or never created), or a full one."""


_CHANGE_ZH = {"upgrade": ("升级改造", "条"), "close": ("封闭道路", "条"),
              "build": ("新建道路", ""), "bus": ("公交线路", "站")}
_SEASON_ZH = {"dry": "旱季", "rainy": "雨季"}


@dataclass
class _Op:
    """One operation: a scenario change (a mapping as in the YAML) or a season switch."""

    change: dict[str, Any] | None = None
    season: str | None = None

    def describe(self) -> str:
        """Name the operation for the edit list, Chinese first (升级改造 2 条 upgrade)."""
        if self.change is None:
            zh = _SEASON_ZH.get(str(self.season), str(self.season))
            return f"季节：{zh} season: {self.season}"
        ch = self.change
        kind = str(ch["type"])
        zh, unit = _CHANGE_ZH.get(kind, (kind, ""))
        if kind == "build":
            return f"{zh} {kind}"
        if kind == "bus":
            freq = ch.get("frequency_per_day")
            per = f"，每日 {float(freq):g} 班" if freq is not None else ""
            return f"{zh} {len(ch.get('stops', ()))} {unit}{per} {kind}"
        n = len(ch.get("roads", ())) if "roads" in ch else len(ch.get("stops", ()))
        return f"{zh} {n} {unit} {kind}"


@dataclass(eq=False)
class Session:
    """One tab's scenario: operations, undo / redo stacks and the scenario's identity."""

    sid: str
    region: ServedRegion
    ops: list[_Op] = field(default_factory=list)
    redo_ops: list[_Op] = field(default_factory=list)
    name: str = "serve-edits"
    title_zh: str = "网页编辑情景"
    description: str = "Edits made in contigmap serve."
    params: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    last_used: float = field(default_factory=time.monotonic)

    # ---------------------------------------------------------------- the scenario
    def season(self, ops: list[_Op] | None = None) -> str | None:
        """Return the season the operations set last (``None``: the baseline's)."""
        found = [op.season for op in (self.ops if ops is None else ops) if op.season]
        return found[-1] if found else None

    def document(self, ops: list[_Op] | None = None) -> dict[str, Any]:
        """Return the scenario as the mapping its YAML file holds."""
        ops = self.ops if ops is None else ops
        doc: dict[str, Any] = {"name": self.name, "region": self.region.name,
                               "title_zh": self.title_zh, "description": self.description}
        season = self.season(ops)
        if season is not None:
            doc["season"] = season
        if self.params:
            doc["params"] = self.params
        doc["changes"] = [op.change for op in ops if op.change is not None]
        return doc

    def yaml_text(self, ops: list[_Op] | None = None) -> str:
        """Return the scenario YAML (what ``GET /api/scenario.yaml`` returns)."""
        return yaml.safe_dump(self.document(ops), allow_unicode=True, sort_keys=False,
                              width=100)

    # ---------------------------------------------------------------- edits
    def _change(self, edit: EditModel) -> _Op:
        """Turn a validated edit into an operation (snapping a new road's ends)."""
        if isinstance(edit, SeasonEdit):
            return _Op(season=edit.season)
        if isinstance(edit, UpgradeEdit):
            to = {k: v for k, v in (("road_class", edit.road_class), ("surface", edit.surface))
                  if v is not None}
            if not to:
                msg = "upgrade: choose a road class and / or a surface"
                raise ConfigError(msg)
            return _Op({"type": "upgrade", "roads": list(edit.roads), "to": to})
        if isinstance(edit, CloseEdit):
            return _Op({"type": "close", "roads": list(edit.roads)})
        if isinstance(edit, BuildEdit):
            a = self.region.snap(*edit.start, "the new road's start")
            b = self.region.snap(*edit.end, "the new road's end")
            if a == b:
                msg = "build: both ends snap to the same road junction; click two different ones"
                raise ConfigError(msg)
            wkt = f"LINESTRING ({a[0]!r} {a[1]!r}, {b[0]!r} {b[1]!r})"
            return _Op({"type": "build", "geometry": wkt, "road_class": edit.road_class,
                        "surface": edit.surface})
        stops = [s if isinstance(s, str) else [float(s[0]), float(s[1])] for s in edit.stops]
        return _Op({"type": "bus", "stops": stops, "frequency_per_day": edit.frequency_per_day,
                    "max_stop_distance_m": edit.max_stop_distance_m})

    def edit(self, edit: EditModel) -> dict[str, Any]:
        """Apply one edit (evaluated before it is kept) and return the answer payload."""
        if len(self.ops) >= MAX_EDITS:
            msg = f"this session holds {MAX_EDITS} edits already; save the YAML and start anew"
            raise SessionError(msg)
        ops = [*self.ops, self._change(edit)]
        res = self.region.answer(self.yaml_text(ops))
        self.ops, self.redo_ops = ops, []
        return self.payload(res)

    def undo(self) -> dict[str, Any]:
        """Take back the last operation."""
        if self.ops:
            self.redo_ops.append(self.ops.pop())
        return self.payload(self.region.answer(self.yaml_text()))

    def redo(self) -> dict[str, Any]:
        """Apply the last undone operation again."""
        if self.redo_ops:
            self.ops.append(self.redo_ops.pop())
        return self.payload(self.region.answer(self.yaml_text()))

    def load(self, text: str) -> dict[str, Any]:
        """Replace the session's operations with a scenario YAML's (validated first)."""
        raw = parse_yaml_text(text, "loaded scenario")
        sc = parse_scenario(raw, source="loaded scenario")
        if sc.region is not None and sc.region != self.region.name:
            msg = (f"loaded scenario: written for region '{sc.region}', this server serves "
                   f"'{self.region.name}'; load a scenario of this region")
            raise ConfigError(msg)
        if len(sc.changes) > MAX_EDITS:
            msg = f"loaded scenario: {len(sc.changes)} changes, more than {MAX_EDITS}"
            raise SessionError(msg)
        ops = [_Op(season=sc.season)] if sc.season else []
        ops += [_Op(dict(ch)) for ch in raw["changes"]]
        old = (self.ops, self.name, self.title_zh, self.description, self.params)
        self.name, self.title_zh = sc.name, sc.title_zh or sc.title or sc.name
        self.description, self.params = sc.description, dict(raw.get("params") or {})
        try:
            res = self.region.answer(self.yaml_text(ops))
        except ContigmapError:
            self.ops, self.name, self.title_zh, self.description, self.params = old
            raise
        self.ops, self.redo_ops = ops, []
        return self.payload(res)

    def current(self) -> dict[str, Any]:
        """Return the answer payload of the session's present scenario."""
        return self.payload(self.region.answer(self.yaml_text()))

    def payload(self, res: LiveResult) -> dict[str, Any]:
        """Return the answer: :func:`result_payload` plus the session's operations."""
        out = result_payload(res)
        out["edits"] = [op.describe() for op in self.ops]
        out["can_undo"], out["can_redo"] = bool(self.ops), bool(self.redo_ops)
        out["season"] = self.season() or self.region.baseline.season
        out["road_marks"], out["new_roads"] = _marks(self.ops)
        out["bus_lines"] = [self.region.bus_line(list(op.change["stops"])) for op in self.ops
                            if op.change is not None and op.change.get("type") == "bus"
                            and op.change.get("stops")]
        return out


def _marks(ops: list[_Op]) -> tuple[dict[str, str], list[list[list[float]]]]:
    """Roads upgraded or closed by id (the last operation wins) and drawn new roads."""
    marks: dict[str, str] = {}
    lines: list[list[list[float]]] = []
    for op in ops:
        ch = op.change or {}
        if ch.get("type") in ("upgrade", "close") and ch.get("roads"):
            marks.update({str(r): str(ch["type"]) for r in ch["roads"]})
        elif ch.get("type") == "build" and ch.get("geometry") is not None:
            geom = ch["geometry"]
            try:
                g = shapely.from_wkt(geom) if isinstance(geom, str) else shape(geom)
                lines.append([[float(x), float(y)] for x, y, *_ in g.coords])
            except (shapely.errors.GEOSException, ValueError, TypeError, AttributeError,
                    NotImplementedError):
                continue
    return marks, lines


def _num(v: float) -> float | None:
    return round(float(v), 3) if np.isfinite(v) else None


def result_payload(res: LiveResult) -> dict[str, Any]:
    """Per-village changes, headline numbers and the most affected villages of a result.

    Per village whose minutes to its own township seat or to the county seat change by
    at least :data:`CHANGE_MIN` (becoming reachable or unreachable included): base and
    new minutes (``None``: unreachable) and the change. Headline: poor people gaining,
    people cut off (``lost_access``), cost in 万元 and cost per poor person gaining (元), as
    :func:`contigmap.scenario.evaluate_scenario` defines them.
    """
    v = res.villages
    cols = {"own": "tt_own_township_seat_min", "county": "tt_county_seat_min"}
    changed = np.zeros(len(v), bool)
    delta: dict[str, np.ndarray] = {}
    for key, col in cols.items():
        old, new = v[f"{col}_base"].to_numpy(float), v[col].to_numpy(float)
        fo, fn = np.isfinite(old), np.isfinite(new)
        with np.errstate(invalid="ignore"):
            d = np.where(fo & fn, new - old, np.where(fn, -np.inf, np.inf))
        d[~fo & ~fn] = 0.0
        delta[key] = d
        changed |= np.abs(d) >= CHANGE_MIN
    ids = v["village_id"].astype(str).to_numpy()
    names = v["name"].astype(str).to_numpy() if "name" in v else ids
    own, county = v[cols["own"]].to_numpy(float), v[cols["county"]].to_numpy(float)
    cut, gains = v["lost_access"].to_numpy(bool), v["gains"].to_numpy(bool)
    pop, poor = v["pop"].to_numpy(float), v["poor_pop"].to_numpy(float)
    rows = [{"id": ids[i], "own": _num(own[i]), "county": _num(county[i]),
             "d_own": _num(delta["own"][i]), "d_county": _num(delta["county"][i]),
             "cut": bool(cut[i]), "gains": bool(gains[i])}
            for i in np.flatnonzero(changed).tolist()]
    mag = np.maximum(np.abs(delta["own"]), np.abs(delta["county"]))
    order = sorted(np.flatnonzero(changed).tolist(), key=lambda i: (-mag[i], ids[i]))[:TOP_N]
    top = [{"id": ids[i], "name": names[i], "d_own": _num(delta["own"][i]),
            "d_county": _num(delta["county"][i]), "pop": float(pop[i]),
            "poor": float(poor[i]), "cut": bool(cut[i])}
           for i in order]
    s = res.summary
    per = s["cost_per_poor_gaining_cny"]
    headline = {"poor_gaining": float(s["poor_gaining"]), "pop_gaining": float(s["pop_gaining"]),
                "pop_cut_off": float(s["pop_lost_access"]),
                "villages_cut_off": int(s["villages_lost_access"]),
                "cost_wan": round(float(s["cost_cny"]) / 1e4, 2),
                "cost_per_poor_gaining_yuan": round(float(per), 0) if np.isfinite(per) else None,
                "villages_changed": int(changed.sum())}
    return {"villages": rows, "headline": headline, "top": top, "engine": res.engine}


@dataclass(eq=False)
class SessionStore:
    """The server's sessions, bounded; ids are unguessable (:func:`secrets.token_urlsafe`)."""

    region: ServedRegion
    max_sessions: int = MAX_SESSIONS
    _sessions: OrderedDict[str, Session] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def create(self) -> Session:
        """Open a new session (dropping the least recently used one when full)."""
        with self._lock:
            while len(self._sessions) >= self.max_sessions:
                old, _ = self._sessions.popitem(last=False)
                logger.info("session %s… dropped (least recently used)", old[:6])
            sess = Session(sid=secrets.token_urlsafe(16), region=self.region)
            self._sessions[sess.sid] = sess
            return sess

    def get(self, sid: str | None) -> Session:
        """Return a session by id.

        Raises
        ------
        SessionError
            No such session (expired or never opened).
        """
        with self._lock:
            sess = self._sessions.get(sid or "")
            if sess is None:
                msg = "unknown or expired session; reload the page to open a new one"
                raise SessionError(msg)
            self._sessions.move_to_end(sess.sid)
            sess.last_used = time.monotonic()
            return sess

    def __len__(self) -> int:
        return len(self._sessions)
