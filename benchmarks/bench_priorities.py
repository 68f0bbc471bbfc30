"""Benchmark the priority stage's array paths against the plain ways, in one run.

Run::

    .venv/bin/python benchmarks/bench_priorities.py              # 3,000 hamlets
    .venv/bin/python benchmarks/bench_priorities.py --rows 500   # quick

On a synthetic hamlet-sized table (integer and continuous criteria, so needs tie), each
pair is timed in the same run and checked to give the same result:

(i) sensitivity ranks: :func:`contigmap.priority.mcda.average_ranks` on the
    (rows x 216 perturbations) needs vs ``scipy.stats.rankdata(axis=0)``;
(ii) top-N kept: :func:`contigmap.priority.mcda._top_kept` (partition, ties by id) vs a
     lexsort per perturbation (the old loop);
(iii) summaries: :func:`contigmap.priority.run.summarise` vs pandas ``groupby`` and
      ``Series.sum`` per group (the old way);
(iv) DEM profiles: :meth:`contigmap.raster.Raster.sample_bilinear` vs the 2-D gathers
     and second ``index`` pass it replaced;
(v) perturbed needs: :func:`contigmap.priority.mcda._perturbed_needs` (a criterion at a
    time over all perturbations) vs a row sum per perturbation (the old loop);
(vi) length matrices: :func:`contigmap.priority._network.edge_weight_csr` (edge rows kept
     per graph, the super-source row appended) vs ``csr_from_arrays`` of all entries.

Prints the times (best of ``--repeat``), the old / new ratios and the load average.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS

from _timing import timed
from contigmap.network._csr import csr_from_arrays
from contigmap.priority._network import edge_weight_csr
from contigmap.priority.mcda import _perturbed_needs, _top_finder, _top_kept, average_ranks
from contigmap.priority.run import summarise
from contigmap.raster import Raster


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    return timed(fn, repeat, pick=min)


def _report(name: str, new: float, old: float) -> None:
    print(f"{name:16s} new {new * 1000:8.1f} ms   old {old * 1000:8.1f} ms   "
          f"old/new {old / new:5.2f}")


def _summarise_groupby(tables: dict[str, pd.DataFrame], by: str) -> pd.DataFrame:
    rows = []
    for iv, t in tables.items():
        for area, g in t.groupby(t[by].to_numpy(), sort=True):
            row: dict[str, Any] = {"intervention": iv, by: area, "units": len(g)}
            for k in range(1, 5):
                row[f"tier_{k}"] = int((g[f"{iv}_tier"] == k).sum())
            row["no_works"] = int((g[f"{iv}_tier"] == 0).sum())
            for name in ("beneficiaries", "poor_beneficiaries", "capex_cny", "annualised_cny"):
                row[name] = float(g[f"{iv}_{name}"].sum())
            wb = g[f"{iv}_within_budget"].astype(bool)
            row["units_within_budget"] = int(wb.sum())
            row["capex_within_budget_cny"] = float(g.loc[wb, f"{iv}_capex_cny"].sum())
            row["poor_within_budget"] = float(g.loc[wb, f"{iv}_poor_beneficiaries"].sum())
            rows.append(row)
    return pd.DataFrame(rows)


def _sample_two_passes(r: Raster, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The former sample_bilinear: 2-D gathers, then index() again for the outside test."""
    inv = ~r.transform
    fc = inv.a * x + inv.b * y + inv.c - 0.5
    fr = inv.d * x + inv.e * y + inv.f - 0.5
    nrows, ncols = r.shape
    fc, fr = np.clip(fc, 0.0, ncols - 1.0), np.clip(fr, 0.0, nrows - 1.0)
    c0 = np.minimum(np.floor(fc).astype(np.intp), max(ncols - 2, 0))
    r0 = np.minimum(np.floor(fr).astype(np.intp), max(nrows - 2, 0))
    c1, r1 = np.minimum(c0 + 1, ncols - 1), np.minimum(r0 + 1, nrows - 1)
    dc, dr, a = fc - c0, fr - r0, r.array
    top = a[r0, c0] * (1 - dc) + a[r0, c1] * dc
    bottom = a[r1, c0] * (1 - dc) + a[r1, c1] * dc
    out = np.asarray(top * (1 - dr) + bottom * dr, dtype=float)
    rows, cols = r.index(x, y)
    out[(rows < 0) | (rows >= nrows) | (cols < 0) | (cols >= ncols)] = np.nan
    return out


def _needs_and_matrices(rng: np.random.Generator, n: int, repeat: int) -> None:
    """(v) and (vi): perturbed needs of 6 criteria, length matrices of a 30k-edge graph."""
    crit = rng.random((n, 6))
    raw = [rng.random((12, 6)), rng.dirichlet(np.full(6, 50.0), size=200)]
    shares = [w / w.sum() for w in np.concatenate(raw)]
    t_new, new = _best(lambda: _perturbed_needs(crit, raw), repeat)
    t_old, old = _best(lambda: np.stack([(crit * (100.0 * s)[None, :]).sum(axis=1)
                                         for s in shares]).T, repeat)
    assert np.array_equal(new, old)
    _report("perturbed needs", t_new, t_old)
    nodes, m = 20_000, 30_000
    g = type("G", (), {"n_nodes": nodes, "u": rng.integers(0, nodes, m), "cache": {},
                       "v": rng.integers(0, nodes, m), "length_m": rng.random(m) * 500})()
    src, off = rng.integers(0, nodes, 40), rng.random(40) * 100

    def old_way() -> Any:
        return csr_from_arrays(np.concatenate([g.u, g.v, np.full(40, nodes)]),
                               np.concatenate([g.v, g.u, src]),
                               np.concatenate([g.length_m, g.length_m, off]), nodes + 1)

    t_new, a = _best(lambda: edge_weight_csr(g, g.length_m, sources=(src, off)), repeat)
    t_old, b = _best(old_way, repeat)
    assert all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("data", "indices", "indptr"))
    _report("length matrix", t_new, t_old)


def main() -> None:
    """Run the six comparisons and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from scipy.stats import rankdata

    rng = np.random.default_rng(0)
    n, k, top_n = args.rows, 216, 20
    crit = np.column_stack([rng.integers(0, 4, n), rng.random(n), rng.integers(0, 9, n)])
    shares = rng.dirichlet(np.ones(3) * 20, k)
    needs = np.stack([(crit * (100.0 * s)[None, :]).sum(axis=1) for s in shares]).T
    ids = [f"h{i:05d}" for i in rng.permutation(n)]

    t_new, r_new = _best(lambda: average_ranks(needs), args.repeat)
    t_old, r_old = _best(lambda: rankdata(needs, method="average", axis=0), args.repeat)
    assert np.array_equal(r_new, r_old)
    _report("ranks", t_new, t_old)

    top_of = _top_finder(ids, top_n)
    base = top_of(needs[:, 0])
    t_new, kept = _best(lambda: _top_kept(needs, base, ids, top_n), args.repeat)
    t_old, kept_old = _best(lambda: [len(base & top_of(needs[:, j])) for j in range(k)],
                            args.repeat)
    assert kept.tolist() == kept_old
    _report("top-N kept", t_new, t_old)

    money = rng.random(n) * 1e5
    money[rng.random(n) < 0.05] = np.nan
    tables = {f"iv{i}": pd.DataFrame({
        "township_id": rng.choice([f"T{j:02d}" for j in range(15)], n),
        f"iv{i}_tier": rng.integers(0, 5, n), f"iv{i}_beneficiaries": rng.random(n) * 300,
        f"iv{i}_poor_beneficiaries": rng.random(n) * 30, f"iv{i}_capex_cny": money,
        f"iv{i}_annualised_cny": money / 9, f"iv{i}_within_budget": rng.random(n) < 0.3})
        for i in range(8)}
    t_new, s_new = _best(lambda: summarise(tables, "township_id", n_tiers=4), args.repeat)
    t_old, s_old = _best(lambda: _summarise_groupby(tables, "township_id"), args.repeat)
    pd.testing.assert_frame_equal(s_new, s_old)
    _report("summaries", t_new, t_old)

    dem = Raster(rng.random((430, 620)) * 800, Affine(100, 0, 0, 0, -100, 43000),
                 CRS.from_epsg(32649), "dem")
    a = rng.random((n, 2)) * [62000, 43000]
    f = np.linspace(0, 1, 70)
    d = rng.normal(0, 2000, (n, 2))
    x, y = (a[:, :1] + f * d[:, :1]).ravel(), (a[:, 1:] + f * d[:, 1:]).ravel()
    t_new, z_new = _best(lambda: dem.sample_bilinear(x, y), args.repeat)
    t_old, z_old = _best(lambda: _sample_two_passes(dem, x, y), args.repeat)
    assert np.array_equal(z_new, z_old, equal_nan=True)
    _report("DEM profiles", t_new, t_old)
    _needs_and_matrices(rng, n, args.repeat)
    print(f"rows {n}, perturbations {k}, samples {x.size}; load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
