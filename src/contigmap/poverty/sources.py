"""Poverty counts per village from the right source: villages layer, registry or estimate.

Counts and rates
----------------
A registry is either *complete* (it lists every household of the villages it covers)
or a *sample*; the manifest says which (``layers.households.complete``), else
:func:`registry_kind` infers it (a sample when its people are fewer than half the
``pop`` of the villages it covers, with a warning). A sample gives rates (incidence,
cause shares, income), never counts. :func:`apply_poverty_sources` then picks, per
village:

- ``households``: the villages layer, else a complete registry, else
  ``pop / household_size`` (the manifest's ``household_size``, default
  :data:`NATIONAL_HOUSEHOLD_SIZE`), recorded in ``households_source``;
- ``poor_pop``: the villages layer, else a complete registry's count, else
  ``pop × sample incidence`` (an estimate; for a village without sample households the
  pooled incidence of its township, else of the county), recorded in
  ``poor_pop_source``, with
  ``pop_basis`` the people it is counted among (incidence = Σ poor_pop / Σ pop_basis,
  :mod:`contigmap.indicators`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.errors import warn_data

if TYPE_CHECKING:
    from contigmap.config import RegionConfig


__all__ = [
    "HOUSEHOLDS_SOURCES",
    "NATIONAL_HOUSEHOLD_SIZE",
    "NATIONAL_HOUSEHOLD_SIZE_SOURCE",
    "POOR_ONLY_ABOVE",
    "POOR_POP_SOURCES",
    "REGISTRY_SOURCES",
    "apply_hamlet_households",
    "apply_poverty_sources",
    "covered_villages",
    "household_size",
    "indicator_sources",
    "poverty_source_lines",
    "poverty_sources",
    "registry_coverage",
    "registry_kind",
]

logger = logging.getLogger(__name__)

NATIONAL_HOUSEHOLD_SIZE: Final[float] = 2.62
"""People per family household in China, 2020 census (the default ``household_size``)."""

NATIONAL_HOUSEHOLD_SIZE_SOURCE: Final[str] = (
    "2020 census of China (第七次全国人口普查), national average 2.62 people per family "
    "household (National Bureau of Statistics, main data, 11 May 2021); rural households are "
    "larger, so set the county's own figure as household_size in region.yaml"
)

SAMPLE_BELOW: Final[float] = 0.5
"""An undeclared registry whose people are fewer than this share of the ``pop`` of the
villages it covers is treated as a sample."""

HOUSEHOLDS_SOURCES: Final[tuple[str, ...]] = (
    "villages_layer", "registry", "pop_div_household_size", "none",
)
"""Values of ``households_source``, in order of precedence."""

POOR_POP_SOURCES: Final[tuple[str, ...]] = (
    "villages_layer", "registry_complete", "registry_sample_estimate",
    "registry_sample_township_rate", "registry_sample_county_rate", "not_covered",
    "no_incidence_source", "none",
)
"""Values of ``poor_pop_source``, in order of precedence."""

POOR_ONLY_ABOVE: Final[float] = 0.85
"""An undeclared registry of at least :data:`POOR_ONLY_MIN_HOUSEHOLDS` households whose
poor households are at least this share of them lists only poor (and edge, 边缘户)
households: it is treated as ``poor_only``. Even in 2014, when 建档立卡 began, most
households of a county were not poor; a list of poor and edge households is mostly poor."""

POOR_ONLY_MIN_HOUSEHOLDS: Final[int] = 20
"""Fewer listed households than this never make an undeclared registry ``poor_only``
(a few households can all be poor by chance)."""

REGISTRY_SOURCES: Final[tuple[str, ...]] = (
    "complete", "sample", "poor_only", "not_covered", "none",
)
"""Values of ``registry_source``: the registry's coverage where it covers the village,
``not_covered`` where it does not, ``none`` without a registry."""

RegistryKind = Literal["complete", "sample", "poor_only"]
_F = TypeVar("_F", bound=pd.DataFrame)


def household_size(config: RegionConfig | None) -> tuple[float, str]:
    """People per household for ``pop / household_size``, and where the figure comes from.

    The manifest's ``household_size`` (with its ``household_size_source``) when set,
    else :data:`NATIONAL_HOUSEHOLD_SIZE`.
    """
    if config is not None and config.household_size is not None:
        source = config.household_size_source or "region.yaml household_size"
        return float(config.household_size), source
    return NATIONAL_HOUSEHOLD_SIZE, NATIONAL_HOUSEHOLD_SIZE_SOURCE


def _col(table: pd.DataFrame, name: str) -> NDArray[np.float64]:
    if name not in table.columns:
        return np.full(len(table), np.nan)
    return pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)


def registry_coverage(villages: pd.DataFrame) -> float | None:
    """Registry people ÷ village ``pop`` over the villages the registry covers.

    ``None`` when the table has no registry columns, no ``pop`` or the covered
    villages have no people.
    """
    if "pop_registry" not in villages.columns or "pop" not in villages.columns:
        return None
    reg = _col(villages, "pop_registry")
    pop = _col(villages, "pop")
    covered = (_col(villages, "households_registry") > 0) & np.isfinite(pop)
    total = float(pop[covered].sum())
    return float(reg[covered].sum()) / total if total > 0 else None


def registry_kind(
    villages: pd.DataFrame, declared: bool | str | None
) -> tuple[RegistryKind, str]:
    """Return what the registry lists (complete, sample or poor only), and why.

    Parameters
    ----------
    villages
        The village table with the registry columns of :func:`poverty_profile`.
    declared
        The manifest's ``coverage:`` (``complete``, ``sample``, ``poor_only``) or the
        older ``complete:`` (``True``: complete, ``False``: sample); ``None`` when not
        given.

    Returns
    -------
    tuple
        The kind and a sentence saying why: declared, or inferred — ``poor_only`` when
        the registry's poor households are at least :data:`POOR_ONLY_ABOVE` of its
        households (and it lists at least :data:`POOR_ONLY_MIN_HOUSEHOLDS`), ``sample``
        when its people are fewer than :data:`SAMPLE_BELOW` of the ``pop`` of the
        villages it covers (:func:`registry_coverage`), else ``complete``.
    """
    cover = registry_coverage(villages)
    share = "unknown (no pop)" if cover is None else f"{cover:.1%}"
    said = f"registry people are {share} of the pop of the villages it covers"
    poor_share = _pooled(_col(villages, "poor_households_registry"),
                         _col(villages, "households_registry"))
    if np.isfinite(poor_share):
        said += f"; {poor_share:.1%} of its households are poor"
    if declared is not None:
        kind: RegistryKind = (declared if isinstance(declared, str)  # type: ignore[assignment]
                              else "complete" if declared else "sample")
        return kind, f"declared {kind} in region.yaml ({said})"
    listed = float(np.nansum(_col(villages, "households_registry")))
    if np.isfinite(poor_share) and poor_share >= POOR_ONLY_ABOVE \
            and listed >= POOR_ONLY_MIN_HOUSEHOLDS:
        return "poor_only", f"not declared; treated as poor_only because {said}"
    if cover is not None and cover < SAMPLE_BELOW:
        return "sample", f"not declared; treated as a sample because {said}"
    return "complete", f"not declared; treated as complete because {said}"


def covered_villages(villages: pd.DataFrame, covered: list[str] | None) -> NDArray[np.bool_]:
    """Villages the registry covers: those listed in ``covered:``, else those with rows."""
    if covered is not None and "village_id" in villages.columns:
        codes = villages["village_id"].astype(str).str.strip()
        codes = codes.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
        return np.asarray(codes.isin({str(c) for c in covered}).to_numpy(), dtype=bool)
    return np.asarray(_col(villages, "households_registry") > 0, dtype=bool)


def apply_poverty_sources(
    villages: _F,
    *,
    registry: bool,
    complete: bool | str | None = None,
    size: float = NATIONAL_HOUSEHOLD_SIZE,
    covered: list[str] | None = None,
) -> _F:
    """Choose each village's household count and poor people from the right source.

    Households: the villages layer's ``households`` where given, else a complete
    registry's ``households_registry`` where it covers the village, else
    ``round(pop / size)`` (at least 1 when ``pop`` > 0).

    Poor people: the villages layer's ``poor_pop`` where given (a statistics table
    joined with ``join:`` counts as the villages layer), else from the registry: a
    complete registry's counts (``poor_pop_registry``, counted among
    ``pop_basis = pop_registry``) for the villages it covers, or for a sample
    ``pop × sample incidence``, an estimate counted among ``pop_basis = pop``. A sample
    gives rates, never counts. A village without sample households takes the pooled
    incidence (Σ poor people / Σ sampled people) of its township's sampled villages
    (``registry_sample_township_rate``), else of the county's
    (``registry_sample_county_rate``); poor households likewise. A ``poor_only``
    registry never gives poor people or incidence (``no_incidence_source``); a
    complete registry gives nothing for villages it does not cover (``not_covered``).
    ``poverty_incidence`` becomes ``poor_pop / pop_basis``.

    Parameters
    ----------
    villages
        The village table (``pop``, optionally ``households``, ``poor_pop``,
        ``poor_households``) with the columns of :func:`poverty_profile` when a
        registry was given.
    registry
        Whether a household registry was loaded.
    complete
        The manifest's declaration: ``coverage:`` (``complete``, ``sample``,
        ``poor_only``) or the older ``complete:`` boolean; ``None`` infers it with
        :func:`registry_kind`.
    size
        People per household for ``pop / size``.
    covered
        The manifest's ``covered:`` village codes (default: villages with rows).

    Returns
    -------
    pandas.DataFrame
        A copy with ``households``, ``households_source``, ``poor_pop``,
        ``poor_households``, ``poor_pop_source``, ``pop_basis``,
        ``poverty_incidence`` and ``registry_source`` (:data:`REGISTRY_SOURCES`).

    Warns
    -----
    DataQualityWarning
        The registry was not declared and is taken as a sample or as poor only, or was
        declared complete while holding fewer than half the villages' people; villages
        are not covered by the registry; a poor-only registry leaves villages without
        poor people; or (a sample) villages without sample households got a township or
        county rate (how many, and which).
    """
    out = villages.copy()
    kind = _checked_kind(out, complete) if registry else None
    cover = covered_villages(out, covered) if registry else np.zeros(len(out), dtype=bool)
    hh_src = _apply_households(out, kind, size, cover)
    src = _apply_poor_people(out, kind, cover)
    out["registry_source"] = _registry_source(kind, cover)
    _cause_source(out, cover if kind is not None else None)
    if kind is not None:
        _warn_uncovered(out, kind, cover, src)
    logger.info("households from %s; poor people from %s", _counts(hh_src), _counts(src))
    return out


def _cause_source(out: pd.DataFrame, cover: NDArray[np.bool_] | None) -> None:
    """Label where cause shares come from; without a registry add them empty (in place).

    Missing cause shares are a labelled gap, never a stop: without a registry every
    ``cause_<key>_share`` is empty and ``cause_source`` is ``none`` (the priorities that
    weight a cause count it as 0, with their own warning).
    """
    from contigmap.poverty.registry import CAUSE_COLUMNS

    if cover is None or "cause_source" not in out.columns:
        for col in CAUSE_COLUMNS:
            if col not in out.columns:
                out[col] = np.nan
        if "main_causes" not in out.columns:
            out["main_causes"] = ""
        out["cause_source"] = "none"
        return
    labels = out["cause_source"].astype(object).to_numpy(copy=True)
    labels[~cover] = "not_covered"
    out["cause_source"] = labels


def _registry_source(kind: RegistryKind | None, cover: NDArray[np.bool_]) -> NDArray[np.object_]:
    """``registry_source`` of each village: the registry's kind where it covers it."""
    src = np.full(len(cover), "none" if kind is None else "not_covered", dtype=object)
    if kind is not None:
        src[cover] = kind
    return src


def _warn_uncovered(out: pd.DataFrame, kind: RegistryKind, cover: NDArray[np.bool_],
                    src: NDArray[np.object_]) -> None:
    """Say which villages the registry leaves without data, and what they get instead."""
    from contigmap.terrain import name_list

    col = next((c for c in ("name", "village_id") if c in out.columns), None)
    names = (out[col].astype(str).to_numpy() if col is not None
             else np.arange(len(out)).astype(str))
    n = len(out)
    if kind != "sample" and not cover.all():
        miss = ~cover
        msg = (f"households registry ({kind}): {int(miss.sum())} of {n} villages are not "
               f"covered ({name_list(names[miss], first=5)}); their cause shares and "
               "incomes are empty and registry_source says not_covered")
        warn_data(msg, logger=logger, stacklevel=4)
    none = src == "no_incidence_source"
    if none.any():
        msg = (f"households registry (poor_only): it lists only poor and edge households, so "
               f"it gives no poverty incidence; {int(none.sum())} of {n} villages have no "
               f"poor_pop in the villages layer ({name_list(names[none], first=5)}) and "
               "their incidence is empty (poor_pop_source no_incidence_source); join a "
               "statistics table with poor people (join: under layers.villages)")
        warn_data(msg, logger=logger, stacklevel=4)


def _checked_kind(villages: pd.DataFrame, complete: bool | str | None) -> RegistryKind:
    """Return the registry's kind; warn when it is inferred as a sample or poor only."""
    kind, why = registry_kind(villages, complete)
    cover = registry_coverage(villages)
    weak = cover is not None and cover < SAMPLE_BELOW
    if complete is None and kind == "poor_only":
        msg = (f"households registry: {why}: it is used for cause shares and incomes only, "
               "never for incidence or counts; declare `coverage: poor_only` (or "
               "`coverage: complete` if it does list every household) under "
               "layers.households")
        warn_data(msg, logger=logger, stacklevel=3)
    elif (complete is None and kind == "sample") or (kind == "complete" and complete
                                                     and weak):
        what = ("treated as a sample: its poor people become pop × sample incidence "
                "(estimates) and household counts come from the villages layer or "
                "pop / household_size; declare `coverage: sample` (or `coverage: complete` "
                "if it does list every household) under layers.households"
                if complete is None else
                "its counts are used as declared; check `coverage: complete`")
        msg = f"households registry: {why}; {what}"
        warn_data(msg, logger=logger, stacklevel=3)
    else:
        logger.info("households registry: %s", why)
    return kind


def _apply_households(out: pd.DataFrame, kind: RegistryKind | None,
                      size: float, cover: NDArray[np.bool_]) -> NDArray[np.object_]:
    """Set ``households`` and ``households_source`` in place; returns the sources."""
    n = len(out)
    pop = _col(out, "pop")
    hh_layer = _col(out, "households")
    est = np.where(pop > 0, np.maximum(np.round(pop / size), 1.0), np.where(pop == 0, 0.0,
                                                                             np.nan))
    hh_reg = _col(out, "households_registry")
    reg_ok = (hh_reg > 0) & cover if kind == "complete" else np.zeros(n, dtype=bool)
    hh_src = np.full(n, "none", dtype=object)
    hh_src[np.isfinite(est)] = "pop_div_household_size"
    hh_src[reg_ok] = "registry"
    layer_ok = np.isfinite(hh_layer)
    hh_src[layer_ok] = "villages_layer"
    out["households"] = _whole(np.where(layer_ok, hh_layer, np.where(reg_ok, hh_reg, est)))
    out["households_source"] = hh_src
    return hh_src


def _apply_poor_people(out: pd.DataFrame, kind: RegistryKind | None,
                       cover: NDArray[np.bool_]) -> NDArray[np.object_]:
    """Set poor people, poor households, ``pop_basis`` and incidence in place; returns sources."""
    n = len(out)
    pop = _col(out, "pop")
    poor = np.full(n, np.nan)
    poor_hh = np.full(n, np.nan)
    basis = np.full(n, np.nan)
    src = np.full(n, "none", dtype=object)
    if kind == "complete":
        poor[cover] = _col(out, "poor_pop_registry")[cover]
        poor_hh[cover] = _col(out, "poor_households_registry")[cover]
        basis[cover] = _col(out, "pop_registry")[cover]
        src[cover & np.isfinite(poor)] = "registry_complete"
        src[~cover] = "not_covered"
    elif kind == "poor_only":
        src[:] = "no_incidence_source"
    elif kind == "sample":
        rate, hh_rate, rate_src = _sample_rates(out)
        ok = np.isfinite(rate) & np.isfinite(pop)
        poor[ok] = pop[ok] * rate[ok]
        poor_hh[ok] = out["households"].to_numpy(dtype=float)[ok] * hh_rate[ok]
        basis[ok] = pop[ok]
        src[ok] = rate_src[ok]
        _warn_extrapolated(out, rate_src, ok, _col(out, "poor_pop"))
    layer_poor = _col(out, "poor_pop")
    from_layer = np.isfinite(layer_poor)
    poor[from_layer] = layer_poor[from_layer]
    poor_hh[from_layer] = _col(out, "poor_households")[from_layer]
    basis[from_layer] = pop[from_layer]
    src[from_layer] = "villages_layer"
    out["poor_pop"] = _whole(poor)
    out["poor_households"] = _whole(poor_hh)
    out["poor_pop_source"] = src
    out["pop_basis"] = _whole(basis)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["poverty_incidence"] = np.where(basis > 0, poor / basis, np.nan)
    return src

def _pooled(num: NDArray[np.float64], den: NDArray[np.float64]) -> float:
    """Σ num / Σ den over the rows where both are known and den > 0 (nan when none)."""
    ok = np.isfinite(num) & np.isfinite(den) & (den > 0)
    total = float(den[ok].sum())
    return float(num[ok].sum()) / total if total > 0 else np.nan


def _sample_rates(
    villages: pd.DataFrame,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.object_]]:
    """Each village's sample incidence, share of poor households, and where they come from.

    A village with sample households uses its own rates (``registry_sample_estimate``);
    one without uses its township's pooled rates (Σ poor people / Σ sampled people over
    the township's sampled villages: ``registry_sample_township_rate``) when the
    township has sample households, else the county's (``registry_sample_county_rate``).
    """
    n = len(villages)
    hh_reg = _col(villages, "households_registry")
    reg_pop = _col(villages, "pop_registry")
    reg_poor = _col(villages, "poor_pop_registry")
    reg_poor_hh = _col(villages, "poor_households_registry")
    covered = hh_reg > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(covered, reg_poor / reg_pop, np.nan)
        hh_rate = np.where(covered, reg_poor_hh / hh_reg, np.nan)
    src = np.full(n, "none", dtype=object)
    src[covered] = "registry_sample_estimate"
    rest = ~covered
    if not rest.any() or not covered.any():
        return rate, hh_rate, src
    if "township_id" in villages.columns:
        towns = villages["township_id"].astype(str).to_numpy()
        for town in np.unique(towns[rest & villages["township_id"].notna().to_numpy()]):
            mine = towns == town
            sampled = mine & covered
            if not sampled.any():
                continue
            todo = mine & rest
            rate[todo] = _pooled(reg_poor[sampled], reg_pop[sampled])
            hh_rate[todo] = _pooled(reg_poor_hh[sampled], hh_reg[sampled])
            src[todo] = "registry_sample_township_rate"
    todo = rest & (src == "none")
    rate[todo] = _pooled(reg_poor[covered], reg_pop[covered])
    hh_rate[todo] = _pooled(reg_poor_hh[covered], hh_reg[covered])
    src[todo] = "registry_sample_county_rate"
    return rate, hh_rate, src


def _warn_extrapolated(
    villages: pd.DataFrame,
    src: NDArray[np.object_],
    used: NDArray[np.bool_],
    layer_poor: NDArray[np.float64],
) -> None:
    """Say how many villages got a township or county sample rate (not the layer's count)."""
    from contigmap.terrain import name_list

    col = next((c for c in ("name", "village_id") if c in villages.columns), None)
    names = (villages[col].astype(str).to_numpy() if col is not None
             else np.arange(len(villages)).astype(str))
    parts = []
    for key, what in (("registry_sample_township_rate", "their township's"),
                      ("registry_sample_county_rate", "the county's")):
        sel = used & (src == key) & ~np.isfinite(layer_poor)
        if sel.any():
            parts.append(f"{int(sel.sum())} with {what} sample incidence ({key}): "
                         f"{name_list(names[sel], first=5)}")
    if not parts:
        return
    n = sum(int((used & (src == k) & ~np.isfinite(layer_poor)).sum())
            for k in ("registry_sample_township_rate", "registry_sample_county_rate"))
    msg = (f"households registry (sample): {n} of {len(villages)} villages have no sample "
           f"households; their poor people are estimated as pop × the sample incidence of "
           f"their township, else of the county — {'; '.join(parts)}")
    warn_data(msg, logger=logger, stacklevel=4)


def apply_hamlet_households(hamlets: _F, *, size: float) -> _F:
    """Hamlet households: the hamlets layer's ``households``, else ``round(pop / size)``.

    Adds ``households_source`` (``hamlets_layer``, ``pop_div_household_size`` or
    ``none``).
    """
    out = hamlets.copy()
    pop = _col(out, "pop")
    layer = _col(out, "households")
    est = np.where(pop > 0, np.maximum(np.round(pop / size), 1.0), np.where(pop == 0, 0.0,
                                                                             np.nan))
    src = np.full(len(out), "none", dtype=object)
    src[np.isfinite(est)] = "pop_div_household_size"
    src[np.isfinite(layer)] = "hamlets_layer"
    out["households"] = _whole(np.where(np.isfinite(layer), layer, est))
    out["households_source"] = src
    return out


def _whole(values: NDArray[np.float64]) -> NDArray[Any]:
    """Whole numbers as int64 when every value is one, else the floats unchanged."""
    if len(values) and np.isfinite(values).all() and (values == np.round(values)).all():
        return values.astype(np.int64)
    return values


def _counts(values: NDArray[Any]) -> str:
    counts = pd.Series(values).value_counts()
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def poverty_sources(villages: pd.DataFrame, config: RegionConfig | None) -> dict[str, Any]:
    """Which sources gave households and poor people: for the run manifest and report.

    Returns
    -------
    dict
        ``households_source`` and ``poor_pop_source`` (``{source: villages}``),
        ``household_size`` and ``household_size_source``, ``registry`` (``complete``,
        ``sample`` or ``None``) and ``registry_why``.
    """
    size, size_source = household_size(config)
    out: dict[str, Any] = {}
    for col in ("households_source", "poor_pop_source"):
        if col in villages.columns:
            counts = villages[col].astype(str).value_counts()
            out[col] = {str(k): int(v) for k, v in counts.items()}
        else:
            out[col] = {}
    out["household_size"] = size
    out["household_size_source"] = size_source
    spec = config.layers.households if config is not None else None
    if "pop_registry" in villages.columns:
        kind, why = registry_kind(villages, spec.declared_coverage() if spec is not None
                                  else None)
        out["registry"], out["registry_why"] = kind, why
        cover = covered_villages(villages, spec.covered if spec is not None else None)
        out["registry_covered"] = int(cover.sum())
    else:
        out["registry"], out["registry_why"] = None, "no household registry"
        kind, out["registry_covered"] = None, 0
    out["villages"] = len(villages)
    out["indicators"] = indicator_sources(kind)
    return out


def indicator_sources(kind: RegistryKind | None) -> dict[str, str]:
    """Which source each poverty indicator may come from, given the registry's kind.

    Incidence and poor people: the villages layer (a statistics table joined onto it
    counts), else a complete registry, else (estimates) a sample; never a poor-only
    registry. Cause shares and incomes: any registry (of the poor only for
    ``poor_only``). Household counts: the villages layer, else a complete registry, else
    ``pop / household_size``.
    """
    incidence = {"complete": "villages layer, else the complete registry",
                 "sample": "villages layer, else pop × the registry sample's incidence "
                           "(estimates)",
                 "poor_only": "villages layer only (a poor-only registry gives none)",
                 None: "villages layer only"}[kind]
    rates = {"complete": "the registry (all households)",
             "sample": "the registry sample",
             "poor_only": "the registry (poor and edge households only)",
             None: "none (no registry)"}[kind]
    households = ("villages layer, else the complete registry, else pop / household_size"
                  if kind == "complete" else "villages layer, else pop / household_size")
    return {"incidence": incidence, "causes": rates, "incomes": rates,
            "households": households}


def poverty_source_lines(sources: dict[str, Any]) -> list[str]:
    """One-line statements of :func:`poverty_sources`, Chinese then English."""
    def listed(counts: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in counts.items()) or "-"

    lines = [
        f"户数来源 households from (villages): {listed(sources['households_source'])}; "
        f"household size {sources['household_size']:g} ({sources['household_size_source']})",
        f"贫困人口来源 poor people from (villages): {listed(sources['poor_pop_source'])}",
    ]
    if sources.get("registry") is not None:
        lines.append(f"建档立卡登记 registry used as {sources['registry']}: "
                     f"{sources['registry_why']}; covers {sources.get('registry_covered', 0)} "
                     f"of {sources.get('villages', 0)} villages")
    for key, zh in (("incidence", "贫困发生率"), ("causes", "致贫原因"), ("incomes", "人均收入")):
        if key in sources.get("indicators", {}):
            lines.append(f"{zh} {key} from: {sources['indicators'][key]}")
    return lines
