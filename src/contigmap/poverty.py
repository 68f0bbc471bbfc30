"""Household registry → village poverty profile.

The registry is the household-level table of the poverty registration system
(建档立卡): one row per household with its village code, members, whether it is
registered as poor, its main poverty cause and income per person. Column names are
already mapped to contigmap's canonical names by the loader
(:data:`contigmap.schema.ROLE_SCHEMAS` ``households``).

Per village the profile counts households and people, poor households and poor
people, the poverty incidence (poor people / registry people, the headcount ratio
贫困发生率), person-weighted mean and median income per person, and the share of
each main cause (:data:`contigmap.schema.POVERTY_CAUSES`) among poor households.

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
import re
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.columns import ColumnInfo, register_columns
from contigmap.errors import DataQualityWarning, ValidationError
from contigmap.schema import POVERTY_CAUSES

if TYPE_CHECKING:
    from contigmap.config import RegionConfig

__all__ = [
    "CAUSE_COLUMNS",
    "HOUSEHOLDS_SOURCES",
    "NATIONAL_HOUSEHOLD_SIZE",
    "NATIONAL_HOUSEHOLD_SIZE_SOURCE",
    "POOR_POP_SOURCES",
    "POVERTY_COLUMNS",
    "apply_hamlet_households",
    "apply_poverty_sources",
    "household_size",
    "normalise_cause",
    "poverty_profile",
    "poverty_source_lines",
    "poverty_sources",
    "registry_coverage",
    "registry_kind",
    "village_poverty_profile",
]

logger = logging.getLogger(__name__)

CAUSE_COLUMNS: tuple[str, ...] = tuple(f"cause_{key}_share" for key in POVERTY_CAUSES)
"""Share-of-cause columns, in :data:`POVERTY_CAUSES` order."""

POVERTY_COLUMNS: tuple[str, ...] = (
    "households_registry",
    "pop_registry",
    "poor_households_registry",
    "poor_pop_registry",
    "poverty_incidence",
    "income_pp_mean_yuan",
    "income_pp_median_yuan",
    *CAUSE_COLUMNS,
    "main_causes",
)
"""Columns :func:`poverty_profile` returns, in order."""

_COUNTS = ("households_registry", "pop_registry", "poor_households_registry",
           "poor_pop_registry")

_SRC = "households / poverty"
_SRC_V = "villages, households / poverty"
register_columns(
    [
        ColumnInfo("households_registry", "households of the village in the registry (a count "
                   "of all households only when the registry is complete)",
                   "建档立卡系统登记户数", "households", _SRC),
        ColumnInfo("pop_registry", "people in the village's registry households", "登记人口",
                   "people", _SRC),
        ColumnInfo("poor_households_registry", "registry households registered as poor (a "
                   "sample count when the registry is a sample)", "登记贫困户数",
                   "households", _SRC),
        ColumnInfo("poor_pop_registry", "people in the registry's poor households (a sample "
                   "count when the registry is a sample)", "登记贫困人口", "people", _SRC),
        ColumnInfo("poverty_incidence", "poor_pop / pop_basis (headcount ratio; for a registry "
                   "it is poor people / registry people)", "贫困发生率", "share 0-1", _SRC_V),
        ColumnInfo("income_pp_mean_yuan", "mean income per person, weighted by members",
                   "人均纯收入（按人口加权平均）", "yuan/person/year", _SRC),
        ColumnInfo("income_pp_median_yuan", "median income per person over people",
                   "人均纯收入中位数（按人口）", "yuan/person/year", _SRC),
        *(
            ColumnInfo(f"cause_{key}_share", f"share of poor households whose main cause is "
                       f"{key.replace('_', ' ')}", f"主要致贫原因为“{zh}”的贫困户占比",
                       "share 0-1", _SRC)
            for key, zh in POVERTY_CAUSES.items()
        ),
        ColumnInfo("main_causes", "top main poverty causes with their shares of poor households",
                   "主要致贫原因（前三位及占比）", "", _SRC),
        ColumnInfo("households_source", "where households comes from: villages_layer, registry "
                   "(a complete registry), pop_div_household_size (pop / household_size), "
                   "hamlets_layer (hamlet tables), none (no pop)",
                   "户数来源：村图层、完整登记系统、人口÷户规模", "", _SRC_V),
        ColumnInfo("poor_pop", "poor people; see poor_pop_source: a count from the villages "
                   "layer or a complete registry, or pop × sample incidence (an estimate)",
                   "贫困人口（见来源列；抽样登记时为估算值）", "people", _SRC_V),
        ColumnInfo("poor_pop_source", "where poor_pop comes from: villages_layer, "
                   "registry_complete, registry_sample_estimate (pop × the village's sample "
                   "incidence), registry_sample_township_rate / registry_sample_county_rate "
                   "(pop × the pooled sample incidence of the township, else the county, "
                   "for villages without sample households), none (no data); in "
                   "indicators.csv the area's sources joined by +",
                   "贫困人口来源", "", _SRC_V),
        ColumnInfo("poor_households", "poor households, from the same source as poor_pop "
                   "(sample: households × the sample's share of poor households, an estimate)",
                   "贫困户数（抽样登记时为估算值）", "households", _SRC_V),
        ColumnInfo("pop_basis", "the people poor_pop is counted among: pop_registry for a "
                   "complete registry, else pop; incidence = Σ poor_pop / Σ pop_basis",
                   "贫困发生率的分母人口", "people", _SRC_V),
    ]
)

_ZH_TO_KEY = {zh: key for key, zh in POVERTY_CAUSES.items()}
_ALIASES = {
    "病": "illness", "残": "disability", "学": "schooling", "灾": "disaster", "婚": "marriage",
    "交通落后": "poor_transport", "交通": "poor_transport", "缺劳动力": "lack_of_labour",
    "动力不足": "lack_of_motivation", "发展动力不足": "lack_of_motivation",
    "labor": "lack_of_labour", "lack_of_labor": "lack_of_labour",
}


def normalise_cause(label: object) -> str | None:
    """English key of a poverty-cause label, or ``None`` when it is not recognised.

    Accepts the Chinese labels of :data:`POVERTY_CAUSES` (with or without the suffix
    致贫 / 返贫, e.g. 因病致贫), their English keys in any case with spaces or hyphens,
    and a few common variants (交通落后, 缺劳动力).
    """
    if label is None or (isinstance(label, float) and np.isnan(label)):
        return None
    text = str(label).strip()
    if not text:
        return None
    key = re.sub(r"[\s\-]+", "_", text.lower())
    if key in POVERTY_CAUSES:
        return key
    zh = re.sub(r"(致贫|返贫)$", "", text)
    if zh in _ZH_TO_KEY:
        return _ZH_TO_KEY[zh]
    return _ALIASES.get(zh, _ALIASES.get(key))


def _normalise_codes(codes: pd.Series) -> pd.Series:
    """Village codes as stripped strings (``433124100201.0`` from a spreadsheet → 12 digits)."""
    text = codes.astype(str).str.strip()
    return text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


def _row_name(frame: pd.DataFrame, pos: int) -> str:
    hid = frame["household_id"].iloc[pos]
    return f"row {pos + 1} (household_id {hid})"


def _parse_poor(frame: pd.DataFrame) -> NDArray[np.bool_]:
    """Read the ``poor`` flag by the shared yes/no parser (blank = not poor)."""
    from contigmap.booleans import parse_bool

    ids = frame["household_id"].astype(str).tolist()
    rows = [f"row {i + 1} (household_id {hid})" for i, hid in enumerate(ids)]
    return parse_bool(frame["poor"], column="poor", default=False, source="households",
                      rows=rows)


def _check(
    frame: pd.DataFrame,
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64]]:
    missing = [c for c in ("household_id", "village_id", "members", "poor") if c not in frame]
    if missing:
        msg = (
            f"households: missing column(s) {missing} (have {list(frame.columns)}); "
            "map them in the manifest's `columns:` for the households layer"
        )
        raise ValidationError(msg)
    members = pd.to_numeric(frame["members"], errors="coerce").to_numpy(dtype=float)
    bad = ~(members >= 1) | (members != np.floor(members))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        msg = (
            f"households: field 'members' must be a whole number >= 1; {int(bad.sum())} row(s) "
            f"break it, first {frame['members'].iloc[pos]!r} in {_row_name(frame, pos)}"
        )
        raise ValidationError(msg)
    if "income_per_person" in frame:
        income = pd.to_numeric(frame["income_per_person"], errors="coerce").to_numpy(dtype=float)
        neg = income < 0
        if neg.any():
            pos = int(np.flatnonzero(neg)[0])
            msg = (
                f"households: field 'income_per_person' is negative in {int(neg.sum())} row(s), "
                f"first {income[pos]} in {_row_name(frame, pos)}; use 0 or leave it blank"
            )
            raise ValidationError(msg)
    else:
        income = np.full(len(frame), np.nan)
    return members, _parse_poor(frame), income


def _weighted_median(values: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    """Median over people: each household's value repeated ``weights`` (members) times."""
    ok = ~np.isnan(values)
    values, weights = values[ok], weights[ok]
    if len(values) == 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    total = cum[-1]
    lo = v[np.searchsorted(cum, (total - 1) / 2.0, side="right")]
    hi = v[np.searchsorted(cum, total / 2.0, side="right")]
    return float((lo + hi) / 2.0)


def _format_main_causes(shares: pd.Series, top: int = 3) -> str:
    picked = [(k, s) for k, s in shares.items() if s > 0]
    order = {k: i for i, k in enumerate(POVERTY_CAUSES)}
    picked.sort(key=lambda ks: (-ks[1], order[str(ks[0])]))
    return "、".join(f"{POVERTY_CAUSES[str(k)]} {s * 100:.0f}%" for k, s in picked[:top])


def poverty_profile(
    households: pd.DataFrame,
    *,
    village_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Village poverty profile from the household registry.

    Parameters
    ----------
    households
        One row per household with ``household_id``, ``village_id`` (12-digit code),
        ``members``, ``poor`` (0/1, bool, 是/否) and optionally ``cause`` (Chinese label
        or English key) and ``income_per_person`` (yuan per person per year).
    village_ids
        The region's village codes. Rows with other codes are reported in a warning
        (codes and row counts) and left out; villages without rows get zero counts and
        ``nan`` rates. When ``None`` every code in the registry is kept.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``village_id``, with :data:`POVERTY_COLUMNS`. Cause shares are over
        poor households; incidence is poor people over registry people.

    Raises
    ------
    ValidationError
        Missing columns, members that are not whole numbers >= 1, negative incomes or
        unreadable ``poor`` values (naming the first bad row).

    Warns
    -----
    DataQualityWarning
        Unknown village codes (rows left out) and unknown cause labels (counted as
        ``other``).
    """
    frame = households.reset_index(drop=True)
    if len(frame) == 0:
        msg = ("households: the registry layer has no rows; people, poor people and poverty "
               "incidence from it are unknown (empty in every output, poor_pop_source none)")
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
    members, poor, income = _check(frame)
    codes = _normalise_codes(frame["village_id"])
    keep = np.ones(len(frame), dtype=bool)
    known: list[str] | None = None
    if village_ids is not None:
        known = [str(v) for v in _normalise_codes(pd.Series(list(village_ids), dtype=object))]
        keep = codes.isin(set(known)).to_numpy()
        if not keep.all():
            counts = codes[~keep].value_counts()
            listed = ", ".join(f"{c} ({n} rows)" for c, n in counts.head(10).items())
            more = f" and {len(counts) - 10} more" if len(counts) > 10 else ""
            msg = (
                f"households: {int((~keep).sum())} row(s) have village codes that match no "
                f"village and are left out: {listed}{more}; check the codes (12 digits) "
                "against the villages layer"
            )
            logger.warning(msg)
            warnings.warn(msg, DataQualityWarning, stacklevel=2)

    causes = np.full(len(frame), "", dtype=object)
    if "cause" in frame:
        labels = frame["cause"]
        keys = labels.map(normalise_cause)
        unknown = poor & keep & keys.isna().to_numpy()
        if unknown.any():
            shown = labels[unknown].fillna("(blank)").astype(str).str.strip()
            shown = shown.replace("", "(blank)")
            counts = shown.value_counts()
            listed = ", ".join(f"{c!r} ({n})" for c, n in counts.head(10).items())
            msg = (
                f"households: {int(unknown.sum())} poor household(s) have an unknown or blank "
                f"cause, counted as 'other' (其他): {listed}; use the labels of "
                "contigmap.schema.POVERTY_CAUSES"
            )
            logger.warning(msg)
            warnings.warn(msg, DataQualityWarning, stacklevel=2)
        causes = keys.fillna("other").to_numpy(dtype=object)
    else:
        causes[:] = "other"

    data = pd.DataFrame(
        {
            "village_id": codes.to_numpy(),
            "members": members,
            "poor": poor,
            "poor_members": np.where(poor, members, 0.0),
            "income": income,
            "income_x_members": income * members,
            "income_members": np.where(np.isnan(income), 0.0, members),
            "cause": causes,
        }
    )[keep]
    grouped = data.groupby("village_id", sort=True)
    out = pd.DataFrame(
        {
            "households_registry": grouped.size(),
            "pop_registry": grouped["members"].sum(),
            "poor_households_registry": grouped["poor"].sum(),
            "poor_pop_registry": grouped["poor_members"].sum(),
        }
    )
    inc_sum = grouped["income_x_members"].sum(min_count=1)
    inc_w = grouped["income_members"].sum()
    out["poverty_incidence"] = out["poor_pop_registry"] / out["pop_registry"]
    out["income_pp_mean_yuan"] = (inc_sum / inc_w.where(inc_w > 0)).astype(float)
    out["income_pp_median_yuan"] = pd.Series(
        {
            vid: _weighted_median(g["income"].to_numpy(), g["members"].to_numpy())
            for vid, g in grouped
        },
        dtype=float,
    )
    poor_rows = data[data["poor"]]
    cause_counts = (
        pd.crosstab(poor_rows["village_id"], poor_rows["cause"])
        .reindex(columns=list(POVERTY_CAUSES), fill_value=0)
        .reindex(out.index, fill_value=0)
    )
    n_poor = out["poor_households_registry"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = cause_counts.to_numpy(dtype=float) / n_poor[:, None]
    for j, key in enumerate(POVERTY_CAUSES):
        out[f"cause_{key}_share"] = shares[:, j]
    share_frame = pd.DataFrame(shares, index=out.index, columns=list(POVERTY_CAUSES))
    out["main_causes"] = pd.Series([
        _format_main_causes(share_frame.loc[vid]) if n > 0 else ""
        for vid, n in zip(out.index, n_poor, strict=True)
    ], index=out.index, dtype=object)
    if known is not None:
        out = out.reindex(pd.Index(known, name="village_id"))
        for col in _COUNTS:
            out[col] = out[col].fillna(0)
        out["main_causes"] = out["main_causes"].fillna("")
    for col in _COUNTS:
        out[col] = out[col].astype(np.int64)
    out.index.name = "village_id"
    logger.info(
        "poverty: %d households (%d poor, %d poor people) in %d villages",
        int(keep.sum()), int(out["poor_households_registry"].sum()),
        int(out["poor_pop_registry"].sum()),
        int((out["households_registry"] > 0).sum()),
    )
    return out[list(POVERTY_COLUMNS)]


def village_poverty_profile(
    households: pd.DataFrame, village_ids: Iterable[str] | None = None
) -> pd.DataFrame:
    """Call :func:`poverty_profile` with the region's village codes given positionally.

    The result is indexed by ``village_id`` (an index level name, so
    ``villages.merge(profile, on="village_id")`` works).
    """
    return poverty_profile(households, village_ids=village_ids)


# --------------------------------------------------------------------------- sources


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
    "registry_sample_township_rate", "registry_sample_county_rate", "none",
)
"""Values of ``poor_pop_source``, in order of precedence."""

RegistryKind = Literal["complete", "sample"]
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
    villages: pd.DataFrame, declared: bool | None
) -> tuple[RegistryKind, str]:
    """Whether the registry is used as complete or as a sample, and why.

    Parameters
    ----------
    villages
        The village table with the registry columns of :func:`poverty_profile`.
    declared
        The manifest's ``households: complete:`` (``None`` when not given).

    Returns
    -------
    tuple
        ``"complete"`` or ``"sample"``, and a sentence saying why (declared, or
        inferred from :func:`registry_coverage`).
    """
    cover = registry_coverage(villages)
    share = "unknown (no pop)" if cover is None else f"{cover:.1%}"
    said = f"registry people are {share} of the pop of the villages it covers"
    if declared is not None:
        kind: RegistryKind = "complete" if declared else "sample"
        return kind, f"declared {kind} in region.yaml ({said})"
    if cover is not None and cover < SAMPLE_BELOW:
        return "sample", f"not declared; treated as a sample because {said}"
    return "complete", f"not declared; treated as complete because {said}"


def apply_poverty_sources(
    villages: _F,
    *,
    registry: bool,
    complete: bool | None = None,
    size: float = NATIONAL_HOUSEHOLD_SIZE,
) -> _F:
    """Choose each village's household count and poor people from the right source.

    Households: the villages layer's ``households`` where given, else a complete
    registry's ``households_registry`` where it covers the village, else
    ``round(pop / size)`` (at least 1 when ``pop`` > 0).

    Poor people: the villages layer's ``poor_pop`` where given, else from the
    registry: a complete registry's counts (``poor_pop_registry``, counted among
    ``pop_basis = pop_registry``), or for a sample ``pop × sample incidence``, an
    estimate counted among ``pop_basis = pop``. A sample gives rates, never counts. A
    village without sample households takes the pooled incidence (Σ poor people /
    Σ sampled people) of its township's sampled villages
    (``registry_sample_township_rate``), else of the county's
    (``registry_sample_county_rate``); poor households likewise.
    ``poverty_incidence`` becomes ``poor_pop / pop_basis`` (the registry incidence
    wherever the registry is used).

    Parameters
    ----------
    villages
        The village table (``pop``, optionally ``households``, ``poor_pop``,
        ``poor_households``) with the columns of :func:`poverty_profile` when a
        registry was given.
    registry
        Whether a household registry was loaded.
    complete
        The manifest's declaration (``households: complete:``); ``None`` infers it
        with :func:`registry_kind`.
    size
        People per household for ``pop / size``.

    Returns
    -------
    pandas.DataFrame
        A copy with ``households``, ``households_source``, ``poor_pop``,
        ``poor_households``, ``poor_pop_source``, ``pop_basis`` and
        ``poverty_incidence``.

    Warns
    -----
    DataQualityWarning
        The registry was not declared and is taken as a sample, or was declared
        complete while holding fewer than half the villages' people; or (a sample)
        villages without sample households got a township or county rate (how many,
        and which).
    """
    out = villages.copy()
    n = len(out)
    pop = _col(out, "pop")
    # households
    hh_layer = _col(out, "households")
    est = np.where(pop > 0, np.maximum(np.round(pop / size), 1.0), np.where(pop == 0, 0.0,
                                                                             np.nan))
    kind: RegistryKind | None = None
    if registry:
        kind, why = registry_kind(out, complete)
        cover = registry_coverage(out)
        weak = cover is not None and cover < SAMPLE_BELOW
        if (complete is None and kind == "sample") or (complete and weak):
            what = ("treated as a sample: its poor people become pop × sample incidence "
                    "(estimates) and household counts come from the villages layer or "
                    "pop / household_size; declare `complete: false` (or `complete: true` "
                    "if it does list every household) under layers.households"
                    if complete is None else
                    "its counts are used as declared; check `complete: true`")
            msg = f"households registry: {why}; {what}"
            logger.warning(msg)
            warnings.warn(msg, DataQualityWarning, stacklevel=2)
        else:
            logger.info("households registry: %s", why)
    hh_reg = _col(out, "households_registry")
    reg_ok = (hh_reg > 0) if kind == "complete" else np.zeros(n, dtype=bool)
    hh_src = np.full(n, "none", dtype=object)
    hh_src[np.isfinite(est)] = "pop_div_household_size"
    hh_src[reg_ok] = "registry"
    layer_ok = np.isfinite(hh_layer)
    hh_src[layer_ok] = "villages_layer"
    out["households"] = _whole(np.where(layer_ok, hh_layer, np.where(reg_ok, hh_reg, est)))
    out["households_source"] = hh_src

    # poor people, poor households and the people they are counted among
    poor = np.full(n, np.nan)
    poor_hh = np.full(n, np.nan)
    basis = np.full(n, np.nan)
    src = np.full(n, "none", dtype=object)
    if kind == "complete":
        poor[:] = _col(out, "poor_pop_registry")
        poor_hh[:] = _col(out, "poor_households_registry")
        basis[:] = _col(out, "pop_registry")
        src[np.isfinite(poor)] = "registry_complete"
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
    logger.info("households from %s; poor people from %s", _counts(hh_src), _counts(src))
    return out


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
    logger.warning(msg)
    warnings.warn(msg, DataQualityWarning, stacklevel=3)


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
        kind, why = registry_kind(villages, spec.complete if spec is not None else None)
        out["registry"], out["registry_why"] = kind, why
    else:
        out["registry"], out["registry_why"] = None, "no household registry"
    return out


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
                     f"{sources['registry_why']}")
    return lines
