"""Demo health facilities: village clinics (村卫生室) and the county hospital (县级医院).

Added to the demo's services (:func:`contigmap.synth.infrastructure.make_services`) with
their own random stream, so that every other demo file stays the same. Village clinics:
most administrative villages (not urban communities) have one, a quarter of them below
the 60 m² standard (``area_m2``); about one village in six has none, more often the small
ones. Every health facility gets ``doctors`` (a clinic 1-2 village doctors, a township
health centre 6-20, the county hospital 180), the capacity the E2SFCA measure reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contigmap.synth.settlements import Settlements

__all__ = ["add_health_services"]

_SEED = 20160016


def add_health_services(services: pd.DataFrame, settlements: Settlements) -> pd.DataFrame:
    """Return ``services`` with clinics, the county hospital and ``doctors``/``area_m2``.

    New rows continue the ``S###`` ids; ``doctors`` is empty for non-health services and
    ``area_m2`` is given for clinics only.
    """
    rng = np.random.default_rng(_SEED)
    out = services.copy()
    out["doctors"] = np.where(out["kind"] == "health_centre",
                              rng.integers(6, 21, len(out)), np.nan)
    out["area_m2"] = np.nan
    recs = []
    county = out[out["kind"] == "county_seat"]
    if len(county):
        c = county.iloc[0]
        recs.append(("hospital", "花垣县人民医院", c["township_id"], float(c["lon"]) - 0.004,
                     float(c["lat"]) + 0.002, 180.0, np.nan))
    vt = settlements.villages
    vt = vt[~vt["community"]].sort_values("village_id")
    pop = vt["pop"].to_numpy(float)
    p_none = np.where(pop < np.quantile(pop, 0.4), 0.3, 0.07)
    has = rng.random(len(vt)) >= p_none
    doctors = rng.integers(1, 3, len(vt)).astype(float)
    area = np.where(rng.random(len(vt)) < 0.25, rng.choice([30.0, 40.0, 50.0], len(vt)),
                    rng.choice([60.0, 80.0, 100.0], len(vt)))
    x = vt["x"].to_numpy(float) + rng.uniform(-4e-4, 4e-4, len(vt))
    y = vt["y"].to_numpy(float) + rng.uniform(-4e-4, 4e-4, len(vt))
    names, towns = vt["name"].astype(str).tolist(), vt["township_id"].astype(str).tolist()
    for i in np.flatnonzero(has):
        recs.append(("clinic", f"{names[i]}卫生室", towns[i], float(x[i]), float(y[i]),
                     float(doctors[i]), float(area[i])))
    extra = pd.DataFrame(recs, columns=["kind", "name", "township_id", "lon", "lat",
                                        "doctors", "area_m2"])
    start = len(out)
    extra.insert(0, "service_id", [f"S{start + i + 1:03d}" for i in range(len(extra))])
    return pd.concat([out, extra], ignore_index=True)
