"""Headline indicators by area: one definition each, computed once, read by every output.

:func:`headline_indicators` turns the village table into one table with a row per
township and a row for the county. Every output that shows these figures reads them
from that table — ``indicators.csv``, the map's key-figures panel, the CLI summary, the
county report and the region facts — so they cannot disagree.

Definitions
-----------
``pop``, ``households``, ``poor_pop``
    Sums over the area's villages (``households`` and ``poor_pop`` as chosen by
    :func:`contigmap.poverty.apply_poverty_sources`; ``poor_pop`` is an estimate where
    ``poor_pop_source`` is ``registry_sample_estimate`` or a township / county sample
    rate, ``registry_sample_*_rate``).
``poverty_incidence``
    Σ ``poor_pop`` / Σ ``pop_basis`` over the area's villages that have both (the
    headcount ratio 贫困发生率; ``pop_basis`` is the registry people for a complete
    registry, else ``pop``; a table without ``pop_basis`` uses ``pop``). The same basis
    at every level.
``rai``, ``villages_without_hardened_road``, ``share_within_<30|60>min_seat``
    Read from the network stage's township and county summaries
    (:func:`contigmap.network.township_summary`), not recomputed.
Travel time (:data:`TRAVEL_TIME_COLUMN`)
    Minutes from a village to the seat of *its own* township (乡镇驻地) over the road
    network, ``tt_own_township_seat_min`` — the one policy asks about (a village is
    served by its own township's clinic, school and offices, not the nearest seat's).
    The key figures, the report, the map's travel-time layer and the roads ranking
    all read this column; the nearest-seat time (``tt_township_seat_min``) is a
    network measure, not a headline.
Slowest villages (:func:`slowest_villages`)
    The villages with the longest travel time (:data:`TRAVEL_TIME_COLUMN`;
    unreachable ones first), for the map and the CLI.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.columns import ColumnInfo, register_columns

__all__ = [
    "ACCESS_COLUMNS",
    "INDICATOR_COLUMNS",
    "TRAVEL_TIME_COLUMN",
    "TRAVEL_TIME_LABEL_EN",
    "TRAVEL_TIME_LABEL_ZH",
    "county_indicators",
    "headline_indicators",
    "is_estimate",
    "slowest_villages",
    "township_indicators",
]

logger = logging.getLogger(__name__)

TRAVEL_TIME_COLUMN: Final[str] = "tt_own_township_seat_min"
"""The one travel-time definition of the headline figures, the report and the map layer."""
TRAVEL_TIME_LABEL_ZH: Final[str] = "到本乡镇驻地时间"
TRAVEL_TIME_LABEL_EN: Final[str] = "Travel time to own township seat"

ACCESS_COLUMNS: Final[tuple[str, ...]] = (
    "rai",
    "villages_without_hardened_road",
    "share_within_30min_seat",
    "share_within_60min_seat",
)
"""Columns copied from the network stage's summaries (plus any ``rai_*`` column)."""

INDICATOR_COLUMNS: Final[tuple[str, ...]] = (
    "level",
    "township_id",
    "name",
    "villages",
    "pop",
    "households",
    "poor_pop",
    "pop_basis",
    "poverty_incidence",
    "poor_pop_source",
    *ACCESS_COLUMNS,
)
"""Columns of :func:`headline_indicators`, in order (access columns when available)."""

_SRC = "indicators"
register_columns([
    ColumnInfo("level", "township or county (indicators.csv)", "统计层级（乡镇/县）", "", _SRC),
    ColumnInfo("villages", "villages in the area (indicators.csv)", "村数", "villages", _SRC),
])

_SAMPLE = "registry_sample"  # registry_sample_estimate, _township_rate, _county_rate


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[col], errors="coerce").astype(float)


def _area_values(frame: pd.DataFrame) -> dict[str, NDArray[Any]]:
    """Return the columns :func:`_area_row` sums, as float arrays (``nan``: unknown)."""
    pop = _num(frame, "pop").to_numpy()
    basis = _num(frame, "pop_basis").to_numpy() if "pop_basis" in frame.columns else pop
    src = (frame["poor_pop_source"].astype(str).to_numpy(object)
           if "poor_pop_source" in frame.columns else None)
    return {"pop": pop, "households": _num(frame, "households").to_numpy(),
            "poor_pop": _num(frame, "poor_pop").to_numpy(), "pop_basis": basis,
            "source": src if src is not None else np.zeros(0, object)}


def _sum(values: NDArray[np.float64], min_count: int = 0) -> float:
    """``pandas.Series.sum`` of a float array: ``nan`` skipped, ``nan`` below ``min_count``."""
    ok = ~np.isnan(values)
    if int(ok.sum()) < min_count:
        return float("nan")
    return float(np.where(ok, values, 0.0).sum())


def _area_row(cols: dict[str, NDArray[Any]], rows: slice) -> dict[str, Any]:
    """Sum the people and poor people of one area (the villages ``rows`` of ``cols``)."""
    pop, hh, poor = cols["pop"][rows], cols["households"][rows], cols["poor_pop"][rows]
    basis = cols["pop_basis"][rows]
    both = ~np.isnan(poor) & ~np.isnan(basis)
    base = _sum(basis[both])
    sources = sorted(set(cols["source"][rows].tolist()) - {"none"})
    return {
        "villages": int(pop.size),
        "pop": _sum(pop, 1),
        "households": _sum(hh, 1),
        "poor_pop": _sum(poor, 1),
        "pop_basis": base if both.any() else np.nan,
        "poverty_incidence": _sum(poor[both]) / base if base > 0 else np.nan,
        "poor_pop_source": "+".join(sources),
    }


def _access_columns(summary: pd.DataFrame | None) -> list[str]:
    if summary is None:
        return []
    extra = [c for c in summary.columns if str(c).startswith("rai_")]
    return [c for c in ACCESS_COLUMNS if c in summary.columns] + extra


def headline_indicators(
    villages: pd.DataFrame,
    *,
    township_access: pd.DataFrame | None = None,
    county_access: pd.DataFrame | None = None,
    county_name: str | None = None,
) -> pd.DataFrame:
    """Headline indicators per township and for the county, from the village table.

    Parameters
    ----------
    villages
        The village table: ``township_id`` (and ``township_name``), ``pop``,
        ``households``, ``poor_pop``, ``pop_basis``, ``poor_pop_source`` where known.
    township_access, county_access
        The network stage's summaries (:func:`contigmap.network.township_summary`,
        :func:`contigmap.network.county_summary`); their RAI and hardened-road figures
        are copied, not recomputed. A county summary of several rows (several counties)
        gives no county figure.
    county_name
        Name of the county row (default ``county``).

    Returns
    -------
    pandas.DataFrame
        :data:`INDICATOR_COLUMNS`: one ``level == "township"`` row per township (in
        township-id order; none without ``township_id``), then one ``level ==
        "county"`` row (``township_id`` empty).
    """
    rows: list[dict[str, Any]] = []
    if "township_id" in villages.columns and len(villages):
        # one pass in township-id order (each township's villages in table order), not a
        # scan of the whole table per township: linear in villages
        tid = villages["township_id"].astype(str).to_numpy(object)
        names = (villages["township_name"].astype(str).to_numpy(object)
                 if "township_name" in villages.columns else tid)
        keys, inverse = np.unique(tid, return_inverse=True)
        by_town = np.argsort(inverse.reshape(-1), kind="stable")
        cols = {k: v[by_town] if v.size else v for k, v in _area_values(villages).items()}
        bounds = np.searchsorted(inverse.reshape(-1)[by_town], np.arange(keys.size + 1))
        for i, key in enumerate(keys.tolist()):
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            rows.append({"level": "township", "township_id": str(key),
                         "name": str(names[by_town[lo]]), **_area_row(cols, slice(lo, hi))})
    rows.append({"level": "county", "township_id": "", "name": county_name or "county",
                 **_area_row(_area_values(villages), slice(None))})
    out = pd.DataFrame(rows)
    t_cols = _access_columns(township_access)
    if township_access is not None and t_cols:
        acc = township_access.assign(township_id=township_access["township_id"].astype(str))
        acc = acc.set_index("township_id")[t_cols]
        is_t = out["level"] == "township"
        for col in t_cols:
            out.loc[is_t, col] = out.loc[is_t, "township_id"].map(acc[col]).to_numpy()
    c_cols = _access_columns(county_access)
    if county_access is not None and len(county_access) == 1:
        for col in c_cols:
            out.loc[out["level"] == "county", col] = county_access[col].iloc[0]
    elif county_access is not None and len(county_access) > 1:
        logger.info("indicators: %d counties in the access summary; no county access figures",
                    len(county_access))
    for col in ("pop", "households", "poor_pop", "pop_basis", "villages_without_hardened_road"):
        if col not in out.columns:
            continue
        values = out[col].to_numpy(dtype=float)
        if np.isfinite(values).all() and (values == np.round(values)).all():
            out[col] = values.astype(np.int64)
    order = [c for c in INDICATOR_COLUMNS if c in out.columns]
    order += [c for c in out.columns if c not in order]
    return out[order].reset_index(drop=True)


def county_indicators(indicators: pd.DataFrame) -> pd.Series:
    """Return the county row of :func:`headline_indicators`."""
    return indicators[indicators["level"] == "county"].iloc[0]


def township_indicators(indicators: pd.DataFrame) -> pd.DataFrame:
    """Return the township rows of :func:`headline_indicators`."""
    return indicators[indicators["level"] == "township"].reset_index(drop=True)


def is_estimate(row: pd.Series) -> bool:
    """Whether an area's ``poor_pop`` includes estimates from a registry sample."""
    return _SAMPLE in str(row.get("poor_pop_source", ""))


def slowest_villages(villages: pd.DataFrame, n: int = 3) -> list[tuple[str, float]]:
    """Name and minutes to the own township seat of the ``n`` slowest villages.

    Unreachable villages (infinite time) come first; villages without a time are
    skipped. Empty when the table has no :data:`TRAVEL_TIME_COLUMN` (no network stage).
    """
    col = TRAVEL_TIME_COLUMN
    if col not in villages.columns:
        return []
    slow = villages.nlargest(n, col)
    return [(str(name), float(tt)) for name, tt in zip(slow["name"], slow[col], strict=True)]
