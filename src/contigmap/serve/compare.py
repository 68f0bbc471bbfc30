"""Two scenarios side by side in ``contigmap serve``: headline numbers and villages differing.

The page keeps the scenarios of its tab (saved, loaded or noted) as YAML text and posts
two of them (:class:`contigmap.serve.models.CompareBody`); each is validated as a
scenario file of the served region and answered like an edit
(:meth:`contigmap.serve.region.ServedRegion.answer`, memoised), and the two answers are
set side by side: the headline numbers of :func:`contigmap.serve.session.result_payload`
and the villages whose minutes to their own township seat or to the county seat differ
between the two by :data:`contigmap.serve.session.CHANGE_MIN` or more (one reachable,
the other not included), the largest differences first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from contigmap.errors import ConfigError
from contigmap.scenario.model import parse_scenario
from contigmap.serve.live import LiveResult
from contigmap.serve.region import ServedRegion
from contigmap.serve.session import CHANGE_MIN, result_payload
from contigmap.yamlio import parse_yaml_text

__all__ = ["TOP_DIFFER", "compare_texts"]

#: Villages listed as differing between the two scenarios.
TOP_DIFFER = 20
_COLS = {"own": "tt_own_township_seat_min", "county": "tt_county_seat_min"}


def _answer(region: ServedRegion, text: str, what: str) -> tuple[str, LiveResult]:
    raw = parse_yaml_text(text, what)
    sc = parse_scenario(raw, source=what)
    if sc.region is not None and sc.region != region.name:
        msg = (f"{what}: written for region '{sc.region}', this server serves "
               f"'{region.name}'; compare scenarios of this region")
        raise ConfigError(msg)
    return sc.title_zh or sc.title or sc.name, region.answer(text)


def _minutes(v: float) -> float | None:
    return round(float(v), 2) if np.isfinite(v) else None


def compare_texts(region: ServedRegion, a: str, b: str) -> dict[str, Any]:
    """Answer two scenario YAML texts and set them side by side.

    Returns
    -------
    dict
        ``a`` and ``b`` (``name``, ``engine``, ``headline``), ``n_differ`` and ``differ``:
        per village (at most :data:`TOP_DIFFER`) ``id``, ``name``, ``a_own``, ``b_own``,
        ``a_county``, ``b_county`` (minutes, ``None``: unreachable).

    Raises
    ------
    ConfigError
        A text that is not a scenario of this region.
    """
    name_a, ra = _answer(region, a, "scenario A")
    name_b, rb = _answer(region, b, "scenario B")
    va, vb = ra.villages, rb.villages
    diff = np.zeros(len(va))
    for col in _COLS.values():
        x, y = va[col].to_numpy(float), vb[col].to_numpy(float)
        fx, fy = np.isfinite(x), np.isfinite(y)
        with np.errstate(invalid="ignore"):
            d = np.where(fx & fy, np.abs(x - y), np.where(fx == fy, 0.0, np.inf))
        diff = np.maximum(diff, d)
    ids = va["village_id"].astype(str).to_numpy()
    names = va["name"].astype(str).to_numpy() if "name" in va else ids
    hit = np.flatnonzero(diff >= CHANGE_MIN)
    order = sorted(hit.tolist(), key=lambda i: (-diff[i], ids[i]))[:TOP_DIFFER]
    arr = {f"{k}_{s}": v[col].to_numpy(float) for s, v in (("a", va), ("b", vb))
           for k, col in _COLS.items()}
    rows = [{"id": ids[i], "name": names[i],
             **{f"{s}_{k}": _minutes(arr[f"{k}_{s}"][i]) for s in "ab" for k in _COLS}}
            for i in order]
    return {"a": {"name": name_a, "engine": ra.engine, "headline": result_payload(ra)["headline"]},
            "b": {"name": name_b, "engine": rb.engine, "headline": result_payload(rb)["headline"]},
            "n_differ": int(hit.size), "differ": rows}
