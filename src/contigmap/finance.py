"""Money over time: the capital recovery factor every cost model annualises with.

Lowest in the import graph (it imports nothing from contigmap), so that the road cost
model (:mod:`contigmap.roadworks`) and the intervention modules
(:mod:`contigmap.priority`) share it.

Annualised costs use ``crf(r, n) = r (1 + r)^n / ((1 + r)^n − 1)`` (e.g. Short, Packey
and Holt 1995, *A Manual for the Economic Evaluation of Energy Efficiency and Renewable
Energy Technologies*, NREL/TP-462-5173).
"""

from __future__ import annotations

__all__ = ["crf"]


def crf(rate: float, years: float) -> float:
    """Capital recovery factor: the annuity that repays 1 over ``years`` at ``rate``."""
    if rate == 0:
        return 1.0 / years
    g = (1.0 + rate) ** years
    return rate * g / (g - 1.0)
