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

Which source each village's counts come from is :mod:`contigmap.poverty.sources`.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from contigmap.columns import ColumnInfo, register_columns
from contigmap.errors import DataQualityWarning, ValidationError, warn_data
from contigmap.poverty.housing import HOUSING_COLUMNS, housing_counts
from contigmap.schema import POVERTY_CAUSES

__all__ = [
    "CAUSE_COLUMNS",
    "CAUSE_SOURCES",
    "POVERTY_COLUMNS",
    "normalise_cause",
    "poverty_profile",
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
    "cause_source",
)
"""Columns :func:`poverty_profile` returns, in order."""

CAUSE_SOURCES: tuple[str, ...] = ("registry", "no_cause_column", "not_covered", "none")
"""Values of ``cause_source``: the registry's causes; a registry without a cause column
(every poor household counts as ``other``); a village without registry rows; no registry."""

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
                   "for villages without sample households), not_covered (a complete "
                   "registry that does not cover the village), no_incidence_source (only a "
                   "poor-only registry, which gives no incidence), none (no data); in "
                   "indicators.csv the area's sources joined by +",
                   "贫困人口来源", "", _SRC_V),
        ColumnInfo("cause_source", "where the cause shares come from: registry, "
                   "no_cause_column (the registry has no cause column: every poor household "
                   "counts as other), not_covered (no registry rows for the village: shares "
                   "empty), none (no registry: shares empty; priorities count them as 0)",
                   "致贫原因来源", "", _SRC_V),
        ColumnInfo("registry_source", "what the household registry is for this village: "
                   "complete, sample or poor_only (its coverage: declared as coverage: in "
                   "region.yaml, else inferred), not_covered (the registry does not cover "
                   "the village: cause shares and incomes are empty), none (no registry)",
                   "建档立卡数据来源（完整、抽样、仅贫困户、未覆盖）", "", _SRC_V),
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

    def rows() -> Iterator[str]:  # named only when a cell is bad: built lazily
        for i, hid in enumerate(frame["household_id"].astype(str).tolist()):
            yield f"row {i + 1} (household_id {hid})"

    return parse_bool(frame["poor"], column="poor", default=False, source="households",
                      rows=rows())


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


def _weighted_medians(
    group: NDArray[np.integer], n: int, values: NDArray[np.float64], weights: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Median over people of each group: each household's value repeated ``weights`` times.

    ``group`` numbers each row's group (``0 .. n-1``); rows with a ``nan`` value are left
    out, groups without values get ``nan``. Weights are whole numbers >= 1 (members),
    so the running sums are exact and one sort of all groups (by group, then value)
    picks the same middle values as a sort per group.
    """
    ok = ~np.isnan(values)
    g, v, w = group[ok], values[ok], weights[ok]
    order = np.lexsort((v, g))
    g, v = g[order], v[order]
    cum = np.cumsum(w[order])
    start = np.searchsorted(g, np.arange(n), side="left")
    end = np.searchsorted(g, np.arange(n), side="right")
    has = end > start
    base = np.where(start > 0, cum[np.maximum(start - 1, 0)] if len(cum) else 0.0, 0.0)
    total = np.where(has, cum[np.maximum(end - 1, 0)] if len(cum) else 0.0, 0.0) - base
    out = np.full(n, np.nan)
    if has.any():
        lo = v[np.searchsorted(cum, (base + (total - 1) / 2.0)[has], side="right")]
        hi = v[np.searchsorted(cum, (base + total / 2.0)[has], side="right")]
        out[has] = (lo + hi) / 2.0
    return out


def _format_main_causes(shares: pd.Series, top: int = 3) -> str:
    picked = [(k, s) for k, s in shares.items() if s > 0]
    order = {k: i for i, k in enumerate(POVERTY_CAUSES)}
    picked.sort(key=lambda ks: (-ks[1], order[str(ks[0])]))
    return "、".join(f"{POVERTY_CAUSES[str(k)]} {s * 100:.0f}%" for k, s in picked[:top])


def _known_rows(
    codes: pd.Series, village_ids: Iterable[str] | None
) -> tuple[NDArray[np.bool_], list[str] | None]:
    """Rows whose village code is one of ``village_ids`` (all when ``None``); warns on others."""
    keep = np.ones(len(codes), dtype=bool)
    if village_ids is None:
        return keep, None
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
        warn_data(msg, logger=logger, stacklevel=3)
    return keep, known


def _cause_keys(
    frame: pd.DataFrame, poor: NDArray[np.bool_], keep: NDArray[np.bool_]
) -> NDArray[np.object_]:
    """Cause key of each row (``other`` when unknown or blank; warns for poor rows)."""
    if "cause" not in frame:
        if poor.any():  # a note, not a warning: the label says it in every output
            logger.info("households: no cause column (致贫原因): every poor household counts "
                        "as 'other' (cause_source no_cause_column)")
        return np.full(len(frame), "other", dtype=object)
    labels = frame["cause"]
    # registries repeat a handful of labels over many rows: normalise each distinct one once
    distinct = pd.unique(labels.dropna())
    keys = labels.map(dict(zip(distinct, map(normalise_cause, distinct), strict=True)))
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
        warn_data(msg, logger=logger, stacklevel=3)
    return np.asarray(keys.fillna("other").to_numpy(dtype=object), dtype=object)


def _village_table(data: pd.DataFrame) -> pd.DataFrame:
    """Return counts, incidence, income and cause shares per village of the kept rows."""
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
    out["income_pp_median_yuan"] = _weighted_medians(
        grouped.ngroup().to_numpy(dtype=np.intp), len(out), data["income"].to_numpy(dtype=float),
        data["members"].to_numpy(dtype=float))
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
    return out


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
        Indexed by ``village_id``, with :data:`POVERTY_COLUMNS` (and the
        :data:`~contigmap.poverty.housing.HOUSING_COLUMNS` when the registry has a
        ``housing_grade`` column). Cause shares are over poor households; incidence is
        poor people over registry people.

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
    keep, known = _known_rows(codes, village_ids)
    causes = _cause_keys(frame, poor, keep)

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
    out = _village_table(data)
    counts: tuple[str, ...] = _COUNTS
    if "housing_grade" in frame:  # 危房 counts, for priority.housing
        hc = housing_counts(data["village_id"], members[keep], poor[keep],
                            frame["housing_grade"][keep])
        out = out.join(hc.reindex(out.index, fill_value=0))
        counts = (*_COUNTS, *HOUSING_COLUMNS)
    if known is not None:
        out = out.reindex(pd.Index(known, name="village_id"))
        for col in counts:
            out[col] = out[col].fillna(0)
        out["main_causes"] = out["main_causes"].fillna("")
    for col in counts:
        out[col] = out[col].astype(np.int64)
    has_rows = out["households_registry"].to_numpy() > 0
    out["cause_source"] = np.where(has_rows, "registry" if "cause" in frame else
                                   "no_cause_column", "not_covered").astype(object)
    out.index.name = "village_id"
    logger.info(
        "poverty: %d households (%d poor, %d poor people) in %d villages",
        int(keep.sum()), int(out["poor_households_registry"].sum()),
        int(out["poor_pop_registry"].sum()),
        int((out["households_registry"] > 0).sum()),
    )
    return out[[*POVERTY_COLUMNS, *(c for c in HOUSING_COLUMNS if c in out)]]


def village_poverty_profile(
    households: pd.DataFrame, village_ids: Iterable[str] | None = None
) -> pd.DataFrame:
    """Call :func:`poverty_profile` with the region's village codes given positionally.

    The result is indexed by ``village_id`` (an index level name, so
    ``villages.merge(profile, on="village_id")`` works).
    """
    return poverty_profile(households, village_ids=village_ids)
