"""Multi-criteria need scores: normalise, weigh, rank, tier, explain, test sensitivity.

The method is a weighted sum of normalised criteria (simple additive weighting, the
most common MCDA form in infrastructure planning; e.g. Malczewski 1999, *GIS and
Multicriteria Decision Analysis*, ch. 6):

* every criterion is oriented so that *more means more need* and normalised to 0–1:
  ``minmax`` ``(x − min) / (max − min)`` (a criterion equal everywhere contributes 0),
  or ``rank``: the average rank scaled to 0–1 (robust to outliers);
* weights are rescaled to sum to 1; ``need = 100 · Σ wᵢ nᵢ`` (0–100);
* rank 1 is the highest need; ties go to the smaller id, so ranks are deterministic;
* :func:`rank_and_tier` also gives equal-count groups by rank: ``tier = ⌊(rank − 1) ·
  k / n⌋ + 1``, tier 1 the highest need. The tiers a run publishes are defined in
  :mod:`contigmap.priority.tiers` (by budget; need groups only without a budget);
* reasons: the criteria with the largest contributions ``wᵢ nᵢ`` (positive ones only),
  each in plain words with its raw value.

Sensitivity: each positive weight is multiplied by ``1 ± step`` in turn (the others
kept, all rescaled), and ``draws`` random weight vectors are drawn from a Dirichlet
distribution centred on the weights (``α = concentration · w``; seeded). For each, the
Spearman rank correlation of the need scores with the base scores, and how many of the
base top-N stay in the top N (Saltelli et al. 2008, *Global Sensitivity Analysis*;
the OECD/JRC *Handbook on Constructing Composite Indicators*, 2008, §6).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pandas.api.extensions import ExtensionDtype
from pandas.core.dtypes.cast import maybe_box_native  # type: ignore[attr-defined]

from contigmap.errors import ValidationError

__all__ = [
    "Criterion",
    "average_ranks",
    "check_criteria",
    "explain",
    "need_scores",
    "normalise",
    "rank_and_tier",
    "score_columns",
    "score_table",
    "sensitivity",
    "spearman",
]

logger = logging.getLogger(__name__)

Formatter = Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class Criterion:
    """One need criterion.

    Attributes
    ----------
    name
        Name used in the weights (``tt_township``).
    column
        Column of the table holding its value, oriented so that more means more need.
    reason_en, reason_zh
        Turn a table row into a plain-words reason ("2.4 h to the township seat").
    missing_hint
        What to do when the column has gaps (which stage produces it).
    unit
        Unit of the column's values (``m``, ``min``, ``0/1``, ``share 0-1``, ``people``).
    label_en, label_zh
        What it measures, in a few words (for reports and legends).

    The direction is always the same: the column is oriented so that *more means more
    need* (a 0/1 flag is 1 for the worse case), so no criterion carries a sign.
    """

    name: str
    column: str
    reason_en: Formatter
    reason_zh: Formatter
    missing_hint: str = ""
    unit: str = ""
    label_en: str = ""
    label_zh: str = ""


def normalise(
    values: NDArray[np.float64] | pd.Series, method: str = "minmax"
) -> NDArray[np.float64]:
    """Scale values to 0–1 (``minmax`` or ``rank``); constant input gives zeros."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return x
    if method == "rank":
        if x.size == 1:
            return np.zeros(1)
        r = average_ranks(x)
        lo, hi = r.min(), r.max()
        return np.asarray((r - lo) / (hi - lo), dtype=float) if hi > lo else np.zeros(x.size)
    if method != "minmax":
        msg = f"normalise: unknown method '{method}'; use 'minmax' or 'rank'"
        raise ValidationError(msg)
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:
        return np.zeros(x.size)
    return (x - lo) / (hi - lo)


def _weights(
    criteria: Sequence[Criterion], weights: Mapping[str, float]
) -> tuple[list[Criterion], NDArray[np.float64]]:
    used = [c for c in criteria if weights.get(c.name, 0.0) > 0]
    w = np.array([float(weights[c.name]) for c in used])
    return used, w / w.sum()


def check_criteria(
    table: pd.DataFrame,
    criteria: Sequence[Criterion],
    weights: Mapping[str, float],
    *,
    id_column: str,
    intervention: str,
) -> None:
    """Raise :class:`ValidationError` when a weighted criterion is missing or has gaps.

    No ranking is built on a silent default: a village without a network measure (or
    any other criterion value) stops the stage with its id and the fix.
    """
    known = {c.name for c in criteria}
    for name, w in weights.items():
        if w > 0 and name not in known:
            msg = f"{intervention}: criterion '{name}' has a weight but no definition"
            raise ValidationError(msg)
    for c in criteria:
        if weights.get(c.name, 0.0) <= 0:
            continue
        if c.column not in table.columns:
            msg = (f"{intervention}: criterion '{c.name}' needs column '{c.column}', which the "
                   f"table lacks; {c.missing_hint or 'compute it first'}")
            raise ValidationError(msg)
        vals = pd.to_numeric(table[c.column], errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~np.isfinite(vals))
        if bad.size:
            i = int(bad[0])
            ident = table[id_column].iloc[i] if id_column in table.columns else i
            msg = (f"{intervention}: {id_column} {ident} has no value for '{c.column}' "
                   f"(criterion '{c.name}'; {bad.size} row(s) like this); "
                   f"{c.missing_hint or 'fill it in or set the weight to 0'}")
            raise ValidationError(msg)


def need_scores(
    table: pd.DataFrame,
    criteria: Sequence[Criterion],
    weights: Mapping[str, float],
    *,
    method: str = "minmax",
) -> tuple[NDArray[np.float64], pd.DataFrame]:
    """Return the need score (0–100) and each criterion's contribution (points of need).

    Parameters
    ----------
    table
        One row per village (or hamlet) holding every criterion's column.
    criteria
        The criteria.
    weights
        Weight per criterion name (any non-negative scale; rescaled to sum to 1).
    method
        ``minmax`` or ``rank`` normalisation.

    Returns
    -------
    tuple
        Need scores, and a frame of contributions (one column per weighted criterion)
        that sum to the need.
    """
    used, w = _weights(criteria, weights)
    contrib = pd.DataFrame(index=table.index)
    for c, wi in zip(used, w, strict=True):
        contrib[c.name] = 100.0 * wi * normalise(table[c.column].to_numpy(float), method)
    need = contrib.sum(axis=1).to_numpy(float) if len(used) else np.zeros(len(table))
    return need, contrib


def rank_and_tier(
    need: NDArray[np.float64], ids: Sequence[object] | pd.Series, n_tiers: int = 4
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Rank (1 = highest need, ties to the smaller id) and equal-count tiers (1 = highest)."""
    n = len(need)
    id_key = pd.Index(np.asarray(ids, dtype=str)).argsort()
    id_rank = np.empty(n, np.int64)
    id_rank[id_key] = np.arange(n)
    order = np.lexsort((id_rank, -np.round(np.asarray(need, float), 9)))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(1, n + 1)
    tier = (rank - 1) * n_tiers // max(n, 1) + 1
    return rank, tier.astype(np.int64)


def explain(
    table: pd.DataFrame, contributions: pd.DataFrame, criteria: Sequence[Criterion], top: int = 3
) -> tuple[list[str], list[str]]:
    """Plain-words reasons (English, Chinese): the criteria contributing most, largest first.

    Each formatter gets a row as a read-only mapping (column name -> value); a column is
    turned into Python values the first time a formatter reads it, with the same values
    as ``table.to_dict("records")`` (:class:`_RowValues`).
    """
    by_name = {c.name: c for c in criteria}
    names = list(contributions.columns)
    vals = contributions.to_numpy(float)
    n = len(table)
    if not names:
        return [""] * n, [""] * n
    # each row's criteria by contribution, largest first (stable: ties keep column order)
    order = np.argsort(-vals, axis=1, kind="stable")[:, :top]
    positive = (np.take_along_axis(vals, order, axis=1) > 0).tolist()
    crits = [by_name[name] for name in names]
    values = _RowValues(table)
    en: list[str] = []
    zh: list[str] = []
    for i, js in enumerate(order.tolist()):
        row = _Row(values, i)
        chosen = [crits[j] for j, ok in zip(js, positive[i], strict=True) if ok]
        en.append("; ".join(c.reason_en(row) for c in chosen))
        zh.append("；".join(c.reason_zh(row) for c in chosen))
    return en, zh


class _RowValues:
    """A table's columns as lists of Python values, converted on first use.

    The values of one column are those of ``table.to_dict("records")`` (the same boxing
    of NumPy scalars, per column); column names are taken as ``str``, the last of equal
    names winning, as a dict built from the records would.
    """

    def __init__(self, table: pd.DataFrame) -> None:
        self._table = table
        self._pos = {str(c): k for k, c in enumerate(table.columns)}
        self._lists: dict[str, list[Any]] = {}

    def names(self) -> list[str]:
        return list(self._pos)

    def column(self, key: str) -> list[Any]:
        """Return the column ``key``'s values (``KeyError`` when absent)."""
        got = self._lists.get(key)
        if got is None:
            # what DataFrame.to_dict("records") does to a column: its values as the
            # Series iterates them, boxed as Python values for object and extension dtypes
            series = self._table.iloc[:, self._pos[key]]
            got = list(series)
            if series.dtype == np.dtype(object) or isinstance(series.dtype, ExtensionDtype):
                got = [maybe_box_native(v) for v in got]
            self._lists[key] = got
        return got


class _Row(Mapping[str, Any]):
    """Row ``i`` of a :class:`_RowValues`, as a read-only mapping."""

    __slots__ = ("_i", "_lists", "_values")

    def __init__(self, values: _RowValues, i: int) -> None:
        self._values = values
        self._lists = values._lists  # the columns converted so far (shared, grows)
        self._i = i

    def __getitem__(self, key: str) -> Any:
        got = self._lists.get(key)
        return (self._values.column(key) if got is None else got)[self._i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values.names())

    def __len__(self) -> int:
        return len(self._values.names())


def spearman(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Spearman rank correlation (average ranks); ``nan`` when either side is constant."""
    return float(_spearman_columns(_ranks(a), np.asarray(b, float).reshape(-1, 1))[0])


def average_ranks(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Average ranks (1 … n, ties share their mean rank) along the first axis.

    The ranks of ``scipy.stats.rankdata(values, method="average", axis=0)``: a column
    holding ``nan`` is all ``nan``. NumPy only, which spares the import of
    ``scipy.stats`` (about half a second); the values are sorted once per column, in any
    order among ties, since a tie's mean rank does not depend on it.
    """
    x = np.asarray(values, dtype=float)
    flat = x.ndim == 1
    v = np.ascontiguousarray((x[:, None] if flat else x).T)  # one row per column of x
    m = v.shape[1]
    out = np.empty(v.shape)
    if m:
        order = np.argsort(v, axis=1)
        srt = np.take_along_axis(v, order, axis=1)
        pos = np.broadcast_to(np.arange(m), v.shape)
        new = np.ones(v.shape, bool)
        new[:, 1:] = srt[:, 1:] != srt[:, :-1]
        last = np.ones(v.shape, bool)
        last[:, :-1] = new[:, 1:]
        first_of = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
        last_of = np.minimum.accumulate(np.where(last, pos, m)[:, ::-1], axis=1)[:, ::-1]
        # a tie occupying sorted places first_of … last_of (0-based) has the mean rank
        np.put_along_axis(out, order, (first_of + last_of) / 2 + 1, axis=1)
        out[np.isnan(v).any(axis=1)] = np.nan
    return out[0] if flat else out.T


def _ranks(a: NDArray[np.float64]) -> NDArray[np.float64]:
    return average_ranks(np.asarray(a, dtype=float))


def _spearman_columns(ra: NDArray[np.float64], values: NDArray[np.float64]
                      ) -> NDArray[np.float64]:
    """Spearman correlation of the values ranked ``ra`` with each column of ``values``.

    Pearson's r of average ranks (as :func:`spearman`), all columns at once; ``nan`` for a
    constant side.
    """
    if values.shape[1] == 0:
        return np.zeros(0)
    rb = average_ranks(values)
    a = ra - ra.mean()
    b = rb - rb.mean(axis=0)
    den = np.sqrt((a * a).sum()) * np.sqrt((b * b).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a @ b) / den
    const = (ra.std() == 0) | (rb.std(axis=0) == 0)
    return np.where(const, np.nan, np.clip(r, -1.0, 1.0))


def _id_ranks(ids: Sequence[object]) -> NDArray[np.int64]:
    """Each row's place in the ids sorted as text (the tie-break of :func:`rank_and_tier`)."""
    id_key = pd.Index(np.asarray(ids, dtype=str)).argsort()
    id_rank = np.empty(len(id_key), np.int64)
    id_rank[id_key] = np.arange(len(id_key))
    return id_rank


def _top_finder(ids: Sequence[object], n: int) -> Callable[[NDArray[np.float64]], set[int]]:
    """Return ``need -> positions of the n highest needs`` (ties as :func:`rank_and_tier`)."""
    id_rank = _id_ranks(ids)

    def top(need: NDArray[np.float64]) -> set[int]:
        order = np.lexsort((id_rank, -np.round(np.asarray(need, float), 9)))
        return set(order[:n].tolist())

    return top


def _top_kept(needs: NDArray[np.float64], base_top: set[int], ids: Sequence[object],
              n: int) -> NDArray[np.int64]:
    """How many of ``base_top`` are among the ``n`` highest of each column of ``needs``.

    The top ``n`` of a column are those :func:`_top_finder` picks (highest need rounded
    to 1e-9 first, ties to the smaller id), found for all columns at once: every row
    above the ``n``-th highest need, then the rows equal to it in id order until ``n``.
    """
    k = needs.shape[1]
    if n == 0 or k == 0:
        return np.zeros(k, np.int64)
    key = -np.round(np.ascontiguousarray(needs.T), 9)  # a row per column; lexsort's key
    in_base = np.zeros(len(needs), bool)
    in_base[list(base_top)] = True
    if not np.isfinite(key).all():  # nan needs: the lexsort itself, column by column
        top_of = _top_finder(ids, n)
        return np.array([len(base_top & top_of(needs[:, j])) for j in range(k)], np.int64)
    nth = np.partition(key, n - 1, axis=1)[:, n - 1:n]
    chosen = key < nth
    missing = n - chosen.sum(axis=1)  # taken from the rows tied with the n-th, by id
    tied = key == nth
    over = np.flatnonzero(tied.sum(axis=1) > missing)  # more tied rows than places
    if over.size:
        by_id = np.argsort(_id_ranks(ids))
        t_id = tied[np.ix_(over, by_id)]
        tied[np.ix_(over, by_id)] = t_id & (np.cumsum(t_id, axis=1) <= missing[over, None])
    chosen |= tied
    return np.asarray((chosen & in_base[None, :]).sum(axis=1), dtype=np.int64)


def sensitivity(
    table: pd.DataFrame,
    criteria: Sequence[Criterion],
    weights: Mapping[str, float],
    *,
    id_column: str,
    method: str = "minmax",
    step: float = 0.2,
    draws: int = 200,
    concentration: float = 50.0,
    top_n: int = 20,
    seed: int = 0,
) -> pd.DataFrame:
    """How stable the ranking is when the weights move.

    Returns
    -------
    pandas.DataFrame
        One row per perturbation: ``kind`` (``one_at_a_time`` or ``dirichlet``),
        ``criterion`` and ``factor`` (one-at-a-time), ``spearman`` (need vs base need),
        ``top_n_kept`` (of the base top ``top_n``), ``top_n``.
    """
    ids = table[id_column].astype(str).tolist()
    base, _ = need_scores(table, criteria, weights, method=method)
    n_top = min(top_n, len(table))
    top_of = _top_finder(ids, n_top)
    base_top = top_of(base)
    used, w = _weights(criteria, weights)
    # the normalised criteria do not depend on the weights: normalise once, then each
    # perturbation is one weighted sum (the same products and sum as need_scores)
    normalised = np.column_stack([normalise(table[c.column].to_numpy(float), method)
                                  for c in used]) if used else np.zeros((len(table), 0))
    labels: list[tuple[str, str, float]] = []
    raw: list[NDArray[np.float64]] = []  # each perturbation's weights, before rescaling
    for i, c in enumerate(used):
        for factor in (1.0 - step, 1.0 + step):
            new_w = w.copy()
            new_w[i] *= factor
            labels.append(("one_at_a_time", c.name, factor))
            raw.append(new_w[None, :])
    if len(used) > 1 and draws > 0:
        # all draws at once: the same stream of gammas, draw by draw, as one draw a call
        raw.append(np.random.default_rng(seed).dirichlet(concentration * w, size=draws))
        labels.extend([("dirichlet", "", float("nan"))] * draws)
    # every perturbation's need (each row the same products and sum as need_scores),
    # then all their ranks and correlations with the base at once (a row per
    # perturbation, the layout the ranking sorts in, handed on transposed)
    needs = _perturbed_needs(normalised, raw)
    rho = _spearman_columns(_ranks(base), needs)
    kept = _top_kept(needs, base_top, ids, n_top)
    columns = ["kind", "criterion", "factor", "spearman", "top_n_kept", "top_n"]
    if not labels:
        return pd.DataFrame([], columns=columns)
    kinds, crits, factors = zip(*labels, strict=True)
    return pd.DataFrame({"kind": list(kinds), "criterion": list(crits),
                         "factor": list(factors), "spearman": rho.astype(float).tolist(),
                         "top_n_kept": kept.astype(int).tolist(),
                         "top_n": [n_top] * len(labels)}, columns=columns)


_SEQUENTIAL_TERMS = 8
"""NumPy sums fewer terms than this one after another (pairwise summation beyond)."""


def _perturbed_needs(normalised: NDArray[np.float64], raw: list[NDArray[np.float64]]
                     ) -> NDArray[np.float64]:
    """Need of every row under each perturbation: ``(n, perturbations)``.

    ``raw`` holds blocks of weight vectors (a row each), rescaled here to sum to 1; each
    need is the row sum of ``normalised · 100 · share``, the same products and sum as
    :func:`need_scores`. NumPy adds a row of fewer than eight terms in order, so for
    those the sum is built one criterion at a time over all perturbations (the same
    additions, vectorised along the rows); more criteria go through NumPy's own sum.
    """
    n, k = normalised.shape
    if not raw:
        return np.zeros((n, 0))
    weights_all = np.concatenate(raw)
    shares = 100.0 * (weights_all / weights_all.sum(axis=1, keepdims=True))
    if k >= _SEQUENTIAL_TERMS:
        return (normalised[None, :, :] * shares[:, None, :]).sum(axis=2).T
    cols = np.ascontiguousarray(normalised.T)
    out = cols[0][None, :] * shares[:, 0][:, None]  # a row per perturbation
    for j in range(1, k):
        out += cols[j][None, :] * shares[:, j][:, None]
    return out.T


def score_table(
    table: pd.DataFrame, criteria: Sequence[Criterion], weights: Mapping[str, float],
    **options: Any,
) -> pd.DataFrame:
    """Check, score, rank, tier and explain: the ``<prefix>_need/rank/tier/reasons`` columns.

    ``options`` are those of :func:`score_columns` (``prefix`` and ``id_column`` needed).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``table`` with ``<prefix>_need``, ``<prefix>_rank``, ``<prefix>_tier``,
        ``<prefix>_reasons`` (English), ``<prefix>_reasons_zh`` and, per weighted
        criterion, ``<prefix>_pts_<criterion>``: its points of need ``100 · wᵢ nᵢ`` (they
        sum to the need; the village card draws them as bars).
    """
    return pd.DataFrame(score_columns(table, criteria, weights, **options), index=table.index)


def score_columns(
    table: pd.DataFrame,
    criteria: Sequence[Criterion],
    weights: Mapping[str, float],
    *,
    prefix: str,
    id_column: str,
    method: str = "minmax",
    n_tiers: int = 4,
    reasons_top: int = 3,
) -> dict[str, Any]:
    """Return the columns of :func:`score_table`, in its order, as arrays and lists by name.

    ``method`` normalises (``minmax`` or ``rank``), ``n_tiers`` equal-count need groups,
    ``reasons_top`` criteria at most in each row's reasons.
    """
    check_criteria(table, criteria, weights, id_column=id_column, intervention=prefix)
    need, contrib = need_scores(table, criteria, weights, method=method)
    rank, tier = rank_and_tier(need, table[id_column], n_tiers)
    en, zh = explain(table, contrib, criteria, reasons_top)
    out: dict[str, Any] = {
        f"{prefix}_need": np.round(need, 2), f"{prefix}_rank": rank,
        f"{prefix}_tier": tier, f"{prefix}_reasons": en, f"{prefix}_reasons_zh": zh,
    }
    for name in contrib.columns:
        out[f"{prefix}_pts_{name}"] = np.round(contrib[name].to_numpy(float), 2)
    logger.info("%s: scored %d rows on %d criteria", prefix, len(table), contrib.shape[1])
    return out
