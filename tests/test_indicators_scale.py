"""headline_indicators at area scale: linear in villages, same figures as a per-township sum."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contigmap.indicators import headline_indicators


def _reference_row(group: pd.DataFrame) -> dict:
    """The per-area sums, written out with pandas on one township's villages."""
    pop = pd.to_numeric(group["pop"], errors="coerce").astype(float)
    poor = pd.to_numeric(group["poor_pop"], errors="coerce").astype(float)
    basis = pd.to_numeric(group["pop_basis"], errors="coerce").astype(float)
    both = poor.notna() & basis.notna()
    base = float(basis[both].sum())
    return {
        "villages": len(group),
        "pop": float(pop.sum(min_count=1)),
        "households": float(group["households"].astype(float).sum(min_count=1)),
        "poor_pop": float(poor.sum(min_count=1)),
        "pop_basis": base if both.any() else np.nan,
        "poverty_incidence": float(poor[both].sum()) / base if base > 0 else np.nan,
        "poor_pop_source": "+".join(sorted(set(group["poor_pop_source"]) - {"none"})),
    }


def test_township_rows_equal_a_per_township_sum():
    rng = np.random.default_rng(5)
    n = 1500
    tid = rng.choice(["T10", "T2", "T03", "Tb", "Ta"] + [f"X{i}" for i in range(40)], n)
    poor = rng.uniform(0, 90, n)
    poor[rng.random(n) < 0.2] = np.nan
    basis = rng.uniform(100, 900, n)
    basis[rng.random(n) < 0.1] = np.nan
    pop = rng.uniform(100, 900, n)
    pop[tid == "Tb"] = np.nan  # a township with no known people
    villages = pd.DataFrame({
        "township_id": tid, "township_name": np.char.add("名", tid), "pop": pop,
        "households": rng.integers(10, 300, n).astype(float), "poor_pop": poor,
        "pop_basis": basis,
        "poor_pop_source": rng.choice(["none", "registry", "registry_sample_estimate"], n),
    })
    out = headline_indicators(villages, county_name="县")
    towns = out[out["level"] == "township"].set_index("township_id", drop=False)
    assert towns["township_id"].tolist() == sorted(set(tid.tolist()))
    for key, group in villages.groupby("township_id", sort=True):
        row = towns.loc[key]
        assert row["name"] == group["township_name"].iloc[0]
        for col, want in _reference_row(group).items():
            got = row[col]
            assert got == want or (pd.isna(got) and pd.isna(want)), (key, col, got, want)
    county = out[out["level"] == "county"].iloc[0]
    for col, want in _reference_row(villages).items():
        assert county[col] == want or (pd.isna(county[col]) and pd.isna(want)), col
