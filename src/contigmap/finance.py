"""Money: the capital recovery factor every cost model annualises with, and 万元 as text.

Lowest in the import graph (it imports nothing from contigmap), so that the road cost
model (:mod:`contigmap.roadworks`) and the intervention modules
(:mod:`contigmap.priority`) share it.

Annualised costs use ``crf(r, n) = r (1 + r)^n / ((1 + r)^n − 1)`` (e.g. Short, Packey
and Holt 1995, *A Manual for the Economic Evaluation of Energy Efficiency and Renewable
Energy Technologies*, NREL/TP-462-5173).
"""

from __future__ import annotations

import math

__all__ = ["crf", "fmt_wan"]


def crf(rate: float, years: float) -> float:
    """Capital recovery factor: the annuity that repays 1 over ``years`` at ``rate``."""
    if rate == 0:
        return 1.0 / years
    g = (1.0 + rate) ** years
    return rate * g / (g - 1.0)


def fmt_wan(value: float, digits: int | None = None) -> str:
    """Yuan as a number of 万元 with thousands separators, without the unit: ``988.9``.

    Parameters
    ----------
    value
        Money in yuan (元).
    digits
        Fixed decimals (tables: 1, so a column lines up); None picks them by size:
        whole 万元 from 100万元 on, at most one decimal from 1万元, two below, trailing
        zeros dropped.

    Returns
    -------
    str
        The figure, or ``无`` when unknown.
    """
    if not math.isfinite(value):
        return "无"
    wan = value / 1e4
    if digits is not None:
        return f"{wan:,.{digits}f}"
    digits = 0 if abs(wan) >= 100 else 1 if abs(wan) >= 1 else 2
    text = f"{wan:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
