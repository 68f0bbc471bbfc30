"""A synthetic household registry (建档立卡) in the 2014 baseline.

Village poverty incidence follows a logistic model of place: it rises with the
village's elevation, slope, cost distance to the road network, lack of a hardened
road and distance to water, plus village-level noise; the intercept is solved
(bisection) so that the county's incidence by people is ``target_incidence``, and
village incidences are clipped to 3–62%. Each poor household has one main cause from
the registration system's list, drawn with place-dependent weights: 交通条件落后 where
the road is not hardened or far, 缺水 far from water, 因灾 on landslide-prone ground,
因病/因残 everywhere. Household sizes are 1 + a multinomial share of the remaining
people, so they sum exactly to the village population. Income per person (CNY/year):
poor households below the 2014 national line (2,800), others above it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.schema import POVERTY_CAUSES

__all__ = ["make_households", "village_incidence"]

_BASE_CAUSES = {
    "illness": 0.26,
    "disability": 0.08,
    "schooling": 0.06,
    "disaster": 0.02,
    "marriage": 0.01,
    "lack_of_land": 0.04,
    "lack_of_water": 0.01,
    "lack_of_skills": 0.15,
    "lack_of_capital": 0.14,
    "lack_of_labour": 0.08,
    "poor_transport": 0.01,
    "lack_of_motivation": 0.04,
    "other": 0.02,
}


def village_incidence(
    risk: NDArray[np.float64],
    pop: NDArray[np.int64],
    target: float,
    *,
    lo: float = 0.03,
    hi: float = 0.62,
) -> NDArray[np.float64]:
    """Village incidences ``clip(logistic(a + risk), lo, hi)`` with a population-weighted mean.

    The intercept ``a`` is found by bisection so that the mean weighted by ``pop`` is
    ``target``.
    """
    w = pop / pop.sum()

    def mean(a: float) -> float:
        return float((np.clip(1 / (1 + np.exp(-(a + risk))), lo, hi) * w).sum())

    a0, a1 = -10.0, 10.0
    for _ in range(60):
        mid = (a0 + a1) / 2
        if mean(mid) < target:
            a0 = mid
        else:
            a1 = mid
    return np.clip(1 / (1 + np.exp(-((a0 + a1) / 2 + risk))), lo, hi)


def _standardise(x: NDArray[np.float64]) -> NDArray[np.float64]:
    x = np.asarray(x, dtype=float)
    return (x - x.mean()) / (x.std() + 1e-12)


def make_households(
    villages: pd.DataFrame,
    rng: np.random.Generator,
    *,
    target_incidence: float = 0.20,
    fixed: dict[str, int] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Make one row per household and the village poverty figures.

    Parameters
    ----------
    villages
        ``village_id, pop, households, community`` and place covariates ``elev_m,
        slope_deg, access_cost_m, hardened`` (bool), ``water_dist_m``, ``landslide``.
    rng
        Random generator.
    target_incidence
        County incidence by people.
    fixed
        Known poor people per village id (十八洞村: 533).

    Returns
    -------
    households, village_poverty
        ``household_id, village_code, members, poor, cause, income_per_person``, and per
        village ``village_id, poor_pop, poor_households``.
    """
    fixed = fixed or {}
    pop = villages["pop"].to_numpy().astype(np.int64)
    risk = (
        0.55 * _standardise(villages["elev_m"].to_numpy())
        + 0.35 * _standardise(villages["slope_deg"].to_numpy())
        + 0.55 * _standardise(np.log1p(villages["access_cost_m"].to_numpy()))
        + 0.45 * (~villages["hardened"].to_numpy()).astype(float)
        + 0.35 * _standardise(np.log1p(villages["water_dist_m"].to_numpy()))
        - 1.2 * villages["community"].to_numpy().astype(float)
        + rng.normal(0.0, 0.35, len(villages))
    )
    inc = village_incidence(risk, pop, target_incidence)
    hard = villages["hardened"].to_numpy()
    acc_z = _standardise(np.log1p(villages["access_cost_m"].to_numpy()))
    water_z = _standardise(np.log1p(villages["water_dist_m"].to_numpy()))
    slide = villages["landslide"].to_numpy()
    keys = list(_BASE_CAUSES)
    n_hh = villages["households"].to_numpy().astype(np.int64)
    vids = villages["village_id"].astype(str).tolist()
    cols: dict[str, list[NDArray[Any]]] = {"members": [], "poor": [], "cause": [], "income": []}
    summary = []
    for i, vid in enumerate(vids):
        n_h = int(n_hh[i])
        p = int(pop[i])
        extra = rng.multinomial(p - n_h, rng.dirichlet(np.full(n_h, 4.0)))
        members = 1 + extra
        target_poor = fixed.get(vid, round(inc[i] * p))
        poor, got = _pick_poor(members, rng.permutation(n_h), target_poor, exact=vid in fixed)
        w = _cause_weights(keys, hard=bool(hard[i]), acc_z=float(acc_z[i]),
                           water_z=float(water_z[i]), slide=float(slide[i]))
        causes = np.full(n_h, "", dtype=object)
        n_poor = int(poor.sum())
        causes[poor] = [POVERTY_CAUSES[k] for k in rng.choice(keys, size=n_poor, p=w)]
        income = np.where(
            poor,
            rng.uniform(900, 2700, n_h),
            np.maximum(rng.lognormal(np.log(5200), 0.45, n_h), 2900),
        ).round(0)
        for key, arr in zip(cols, (members, poor, causes, income), strict=True):
            cols[key].append(arr)
        summary.append((vid, got, n_poor))
    # household ids: village id + 4-digit number within the village (vectorised)
    start = np.repeat(np.cumsum(n_hh) - n_hh, n_hh)
    number = np.arange(int(n_hh.sum()), dtype=np.int64) - start + 1
    households = pd.DataFrame({
        "household_id": np.char.add(np.repeat(np.asarray(vids, dtype=str), n_hh),
                                    np.char.zfill(number.astype(str), 4)).astype(object),
        "village_code": np.repeat(np.asarray(vids, dtype=object), n_hh),
        "members": np.concatenate(cols["members"]).astype(np.int64),
        "poor": np.concatenate(cols["poor"]).astype(np.int64),
        "cause": np.concatenate(cols["cause"]),
        "income_per_person": np.concatenate(cols["income"]).astype(np.int64),
    })
    village_poverty = pd.DataFrame(summary, columns=["village_id", "poor_pop", "poor_households"])
    return households, village_poverty


def _pick_poor(members: NDArray[np.int64], order: NDArray[np.int64], target_poor: int, *,
               exact: bool) -> tuple[NDArray[np.bool_], int]:
    """Mark households poor in ``order`` until their members reach ``target_poor``.

    With ``exact`` (a village with a known figure), a household of exactly the missing
    size is added when the greedy pass falls short. Returns the flags and poor people.
    """
    poor = np.zeros(len(members), dtype=bool)
    got = 0
    for h in order.tolist():
        if got + members[h] <= target_poor:
            poor[h] = True
            got += int(members[h])
        if got == target_poor:
            break
    if exact and got != target_poor:
        need = target_poor - got
        match = np.flatnonzero(~poor & (members == need))
        if match.size:
            poor[match[0]] = True
            got += need
    return poor, got


def _cause_weights(keys: list[str], *, hard: bool, acc_z: float, water_z: float,
                   slide: float) -> NDArray[np.float64]:
    """Return the probability of each cause in ``keys`` for a village's poor households."""
    w = np.array([_BASE_CAUSES[k] for k in keys])
    w[keys.index("poor_transport")] += 0.05 + (0.18 if not hard else 0.0) + 0.05 * max(acc_z, 0)
    w[keys.index("lack_of_water")] += 0.02 + 0.12 * max(water_z, 0)
    w[keys.index("disaster")] += 0.08 * slide
    return w / w.sum()
