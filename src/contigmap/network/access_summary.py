"""Summaries of the access measures: per township, per county, and the Rural Access Index.

The measures (``all_season_2km``, ``tt_own_township_seat_min``, the flags) are
:func:`contigmap.network.access.access_measures`'s, defined in that module's docstring.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.network.speeds import NetworkParams

__all__ = ["county_summary", "rural_access_index", "township_summary"]


def rural_access_index(
    measures: pd.DataFrame, *, by: str | None = None, pop: str = "pop"
) -> pd.Series:
    """Rural Access Index: population share within 2 km of an all-season road (SDG 9.1.1).

    Parameters
    ----------
    measures
        Output of :func:`~contigmap.network.access.access_measures` (needs
        ``all_season_2km`` and ``pop``).
    by
        Group column (``township_id``, ``county_id``); one overall value when omitted.
    pop
        Population column.

    Returns
    -------
    pandas.Series
        RAI between 0 and 1 per group (named ``rai``).
    """
    df = pd.DataFrame({"pop": measures[pop].astype(float), "ok": measures["all_season_2km"]})
    df["pop_ok"] = df["pop"] * df["ok"]
    if by is None:
        total = df["pop"].sum()
        return pd.Series({"all": df["pop_ok"].sum() / total if total else np.nan}, name="rai")
    g = df.groupby(measures[by].to_numpy())
    out = g["pop_ok"].sum() / g["pop"].sum().replace(0, np.nan)
    out.name = "rai"
    out.index.name = by
    return out


def _summarise(measures: pd.DataFrame, key: NDArray[Any], name: str,
               rai_definition: str | None) -> pd.DataFrame:
    pop = measures["pop"].astype(float).to_numpy() if "pop" in measures else np.ones(len(measures))
    tt = measures["tt_own_township_seat_min"].to_numpy(float)
    df = pd.DataFrame({
        name: key,
        "villages": 1,
        "pop": pop,
        "pop_within_30min_seat": pop * (tt <= 30),
        "pop_within_60min_seat": pop * (tt <= 60),
        "pop_all_season_2km": pop * measures["all_season_2km"].to_numpy(bool),
        "villages_without_hardened_road": ~measures["hardened_to_township"].to_numpy(bool),
        "villages_isolated": measures["isolated"].to_numpy(bool),
        "villages_rainy_unreachable": measures["rainy_unreachable"].to_numpy(bool),
        "tt_own_township_seat_min": tt,
    })
    agg = df.groupby(name, sort=True).agg(
        villages=("villages", "sum"),
        pop=("pop", "sum"),
        pop_within_30min_seat=("pop_within_30min_seat", "sum"),
        pop_within_60min_seat=("pop_within_60min_seat", "sum"),
        pop_all_season_2km=("pop_all_season_2km", "sum"),
        villages_without_hardened_road=("villages_without_hardened_road", "sum"),
        villages_isolated=("villages_isolated", "sum"),
        villages_rainy_unreachable=("villages_rainy_unreachable", "sum"),
        median_tt_own_township_seat_min=("tt_own_township_seat_min", "median"),
        max_tt_own_township_seat_min=("tt_own_township_seat_min", "max"),
    )
    agg["rai"] = agg["pop_all_season_2km"] / agg["pop"].replace(0, np.nan)
    agg["share_within_30min_seat"] = agg["pop_within_30min_seat"] / agg["pop"].replace(0, np.nan)
    agg["share_within_60min_seat"] = agg["pop_within_60min_seat"] / agg["pop"].replace(0, np.nan)
    agg["rai_definition"] = rai_definition or NetworkParams().rai_definition()
    return agg.reset_index()


def township_summary(measures: pd.DataFrame, *, rai_definition: str | None = None) -> pd.DataFrame:
    """Per township: people within 30 / 60 min of their township seat, RAI, flag counts.

    ``rai_definition`` (:meth:`NetworkParams.rai_definition` of the graph's settings;
    the defaults' when omitted) fills the ``rai_definition`` column.
    """
    return _summarise(measures, measures["township_id"].to_numpy(), "township_id",
                      rai_definition)


def county_summary(measures: pd.DataFrame, *, rai_definition: str | None = None) -> pd.DataFrame:
    """Summarise per county (``county_id``, else one row ``all``) as :func:`township_summary`."""
    key = (measures["county_id"].to_numpy() if "county_id" in measures.columns
           else np.full(len(measures), "all", dtype=object))
    return _summarise(measures, key, "county_id", rai_definition)
