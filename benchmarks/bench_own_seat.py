"""Benchmark each village's time to its *own* township seat: bounded searches vs a dense matrix.

Run::

    .venv/bin/python benchmarks/bench_own_seat.py --n-edges 200000 1000000

On a generated region (``contigmap.synth.scale.make_scale_roads``; seats as
``contigmap synth scale`` picks them: the most populous village of each township) it times,
in one run and on the same attached graph (core built once, outside the timings):

(i) new: ``Attachment.times_to_own`` (bounded Dijkstra per seat on the neighbourhood of
    the contracted core it can reach, :mod:`contigmap.network.owntimes`), all seats;
(ii) baseline, the old way: ``Attachment.times_to_each`` (one full Dijkstra per seat, a
    ``seats × points`` matrix) read at each village's own seat. When that matrix would not
    fit in ``--dense-max-gb`` it runs on a sample of ``--sample`` seats and the time and
    matrix size are scaled to all seats (printed as "extrapolated");
(iii) networkx on the smallest size: one ``single_source_dijkstra_path_length`` per seat on
    the reversed augmented graph.

It checks the values agree (bit for bit with (ii), 1e-9 relative with (iii)) and prints
time and peak traced memory (tracemalloc: numpy reports its buffers) per method, the
baseline / new ratios, the process peak RSS and the load average.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np

from contigmap.network import Attachment, attach_points, build_network
from contigmap.synth.scale import make_scale_roads


def measured(fn: Callable[[], Any], *, repeat_traced: bool = True) -> tuple[Any, float, float]:
    """Return ``fn()``, its wall time (s, untraced) and its peak traced memory (MB).

    tracemalloc slows Python-level allocation, so the time comes from a run without it
    and the memory from a second, traced run (or from the same run when
    ``repeat_traced`` is false: for the slow dense baseline, whose few large numpy
    buffers tracing hardly slows).
    """
    if repeat_traced:
        t0 = time.perf_counter()
        fn()
        sec = time.perf_counter() - t0
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    if not repeat_traced:
        sec = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, sec, peak / 2**20


def setup(n_edges: int) -> tuple[Attachment, np.ndarray, int, int]:
    """Attach villages and township seats; return the attachment, target_of, villages, seats."""
    roads, villages = make_scale_roads(n_edges, seed=0)
    graph = build_network(roads)
    by_pop = villages.sort_values(["pop", "village_id"], ascending=[False, True])
    seats = by_pop.drop_duplicates("township_id").sort_values("village_id")
    vxy = np.column_stack([villages.geometry.x, villages.geometry.y])
    sxy = np.column_stack([seats.geometry.x, seats.geometry.y])
    nv, ns = len(vxy), len(sxy)
    att = attach_points(graph, np.vstack([vxy, sxy]), nodes=nv + np.arange(ns))
    seat_of = dict(zip(seats["township_id"], range(ns), strict=True))
    own = np.array([seat_of[t] for t in villages["township_id"]], dtype=np.int64)
    target_of = np.concatenate([nv + own, np.full(ns, -1)])
    att.core("vehicle", "dry", transpose=True)  # built once, reused by every query
    return att, target_of, nv, ns


def dense(att: Attachment, target_of: np.ndarray, nv: int, ns: int, pick: np.ndarray
          ) -> np.ndarray:
    """The old way on seats ``pick``: times_to_each, read at each village's own seat."""
    each = att.times_to_each(nv + pick, mode="vehicle", season="dry")
    row = np.full(ns, -1, np.int64)
    row[pick] = np.arange(pick.size)
    r = row[np.maximum(target_of[:nv] - nv, 0)]
    out = np.full(nv, np.nan)
    ok = r >= 0
    out[ok] = each[r[ok], np.flatnonzero(ok)]
    return out


def with_networkx(att: Attachment, target_of: np.ndarray, nv: int) -> np.ndarray:
    """One networkx Dijkstra per seat on the reversed augmented graph (all points as nodes)."""
    full = attach_points(att.graph, att.xy)
    m = full.matrix("vehicle", "dry").tocoo()
    g = nx.DiGraph()
    g.add_nodes_from(range(m.shape[0]))
    g.add_weighted_edges_from(zip(m.row.tolist(), m.col.tolist(), m.data.tolist(), strict=True))
    rev = g.reverse(copy=False)
    pn = full.point_nodes()
    out = np.full(nv, np.inf)
    for t in np.unique(target_of[:nv]).tolist():
        d = nx.single_source_dijkstra_path_length(rev, int(pn[t]))
        for i in np.flatnonzero(target_of[:nv] == t).tolist():
            out[i] = d.get(int(pn[i]), np.inf)
    return out


def bench(n_edges: int, dense_max_gb: float, sample: int, networkx: bool) -> None:
    """Time and measure one size."""
    t0 = time.perf_counter()
    att, target_of, nv, ns = setup(n_edges)
    print(f"\n== {n_edges:,} road edges: {nv:,} villages, {ns:,} seats, "
          f"core {att.core('vehicle', 'dry', transpose=True).n_core:,} nodes "
          f"(setup {time.perf_counter() - t0:.1f} s)")
    new, t_new, m_new = measured(lambda: att.times_to_own(target_of)[:nv])
    print(f"  new   times_to_own          {t_new:8.2f} s  {m_new:9.1f} MB")
    full_gb = ns * att.n_points * 8 / 2**30
    pick = np.arange(ns)
    if full_gb > dense_max_gb:
        pick = np.sort(np.random.default_rng(0).choice(ns, min(sample, ns), replace=False))
    old, t_old, m_old = measured(lambda: dense(att, target_of, nv, ns, pick),
                                 repeat_traced=False)
    scale = ns / pick.size
    note = f" (extrapolated from {pick.size} seats)" if pick.size < ns else ""
    t_old_all, m_old_all = t_old * scale, m_old * scale
    print(f"  old   times_to_each (dense) {t_old_all:8.2f} s  {m_old_all:9.1f} MB{note}; "
          f"matrix {full_gb:.2f} GiB")
    mine = np.isin(target_of[:nv] - nv, pick)
    assert np.array_equal(new[mine], old[mine]), "new and dense values differ"
    print(f"  ratio old/new: time {t_old_all / t_new:6.1f}x, memory {m_old_all / m_new:6.1f}x")
    if networkx:
        ref, t_nx, m_nx = measured(lambda: with_networkx(att, target_of, nv),
                                   repeat_traced=False)
        ok = np.isfinite(ref)
        assert np.array_equal(np.isfinite(new), ok)
        np.testing.assert_allclose(new[ok], ref[ok], rtol=1e-9)
        print(f"  networkx per-seat Dijkstra  {t_nx:8.2f} s  {m_nx:9.1f} MB; "
              f"ratio networkx/new: time {t_nx / t_new:6.1f}x, memory {m_nx / m_new:6.1f}x")


def main() -> None:
    """Parse the arguments and run each size."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-edges", type=int, nargs="+", default=[200_000, 1_000_000])
    ap.add_argument("--networkx-edges", type=int, default=20_000,
                    help="size for the networkx comparison (0: skip)")
    ap.add_argument("--dense-max-gb", type=float, default=0.5)
    ap.add_argument("--sample", type=int, default=200)
    args = ap.parse_args()
    if args.networkx_edges:
        bench(args.networkx_edges, args.dense_max_gb, args.sample, networkx=True)
    for n in args.n_edges:
        bench(n, args.dense_max_gb, args.sample, networkx=False)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS {rss:.0f} MB; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
