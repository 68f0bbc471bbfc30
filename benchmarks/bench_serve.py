"""Load test of ``contigmap serve`` on localhost: latency percentiles, errors, cross-talk.

Run::

    .venv/bin/python benchmarks/bench_serve.py                    # 2,000 requests, 4 clients
    .venv/bin/python benchmarks/bench_serve.py --requests 400 --clients 2
    .venv/bin/python benchmarks/bench_serve.py --region /tmp/big1/counties/990001/region.yaml \
        --in-process --requests 60 --full 3     # a large region: no HTTP, prepare and RSS

The demo region is prepared once; uvicorn serves it from a thread on 127.0.0.1. Each
client opens its own session and repeats *edit, undo* (an upgrade to paved or a closure
of one of the region's unpaved roads, drawn with a seeded generator per client), so every
edit is evaluated on a one-change scenario; a client checks every answer's edit list
against its own (cross-talk: an answer showing another session's edits), and at the end
its saved YAML against the one its own edits give.

Baseline ratio: the same edits evaluated in-process, without HTTP (a
:class:`contigmap.serve.session.Session` per client, serially, on an emptied cache):
HTTP p50 / in-process p50 per edit. In the same run each edit's scenario is also
evaluated in full (:meth:`ServedRegion.evaluate`, ``evaluate_scenario``: what every edit
cost before the live path), printed as the ratio full / live. Evaluations are memoised by
the scenario's text (``ServedRegion.stats``: computed, incremental or full, vs answered
from the cache); undo is always a cache hit.

Baseline (2 shared cores, 2026-12-02): see docs/serve.md.
"""

from __future__ import annotations

import argparse
import resource
import socket
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from contigmap.errors import ContigmapError
from contigmap.serve import ServedRegion, create_app
from contigmap.serve.models import BuildEdit, CloseEdit, UpgradeEdit
from contigmap.serve.session import Session

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "layers" / "huayuan" / "region.yaml"


MODELS: dict[str, Any] = {"upgrade": UpgradeEdit, "close": CloseEdit, "build": BuildEdit}


def _nodes(region: ServedRegion) -> tuple[np.ndarray, np.ndarray]:
    """The graph's junctions: working-CRS and lon/lat coordinates."""
    import geopandas as gpd

    xy = region.state.network.graph.node_xy
    ll = gpd.GeoSeries.from_xy(xy[:, 0], xy[:, 1], crs=region.state.data.roads.crs).to_crs(4326)
    return xy, np.column_stack([ll.x.to_numpy(), ll.y.to_numpy()])


def _edits(roads: list[str], n: int, seed: int, builds: float = 0.0,
           nodes: tuple[np.ndarray, np.ndarray] | None = None) -> list[dict[str, Any]]:
    """Upgrades to paved, closures and (a share ``builds``) new paved roads between a
    random junction and another 300 m - 3 km from it (as the editor draws them)."""
    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = []
    for _ in range(n):
        rid = roads[int(rng.integers(len(roads)))]
        if nodes is not None and rng.random() < builds:
            xy, ll = nodes
            a = int(rng.integers(len(xy)))
            box = np.flatnonzero((np.abs(xy - xy[a]) < 3000.0).all(axis=1))
            d = np.hypot(*(xy[box] - xy[a]).T)
            near = box[(d > 300.0) & (d < 3000.0)]
            b = int(near[int(rng.integers(near.size))]) if near.size else (a + 1) % len(xy)
            out.append({"kind": "build", "start": ll[a].tolist(), "end": ll[b].tolist()})
        else:
            out.append({"kind": "upgrade", "roads": [rid], "surface": "paved"}
                       if rng.random() < 0.5 else {"kind": "close", "roads": [rid]})
    return out


def _client(url: str, edits: list[dict[str, Any]], out: dict[str, Any]) -> None:
    import httpx2 as httpx

    lat_edit, lat_undo, errors, crosstalk = [], [], 0, 0
    with httpx.Client(base_url=url, timeout=120.0) as c:
        h = {"X-Session": c.post("/api/session", json={}).json()["session"]}
        for body in edits:
            for path, payload, store in (("/api/edit", body, lat_edit),
                                         ("/api/undo", {}, lat_undo)):
                t0 = time.perf_counter()
                r = c.post(path, json=payload, headers=h)
                store.append((time.perf_counter() - t0) * 1000.0)
                if r.status_code != 200:
                    errors += 1
                    continue
                want = 1 if path == "/api/edit" else 0
                crosstalk += int(len(r.json()["edits"]) != want)
        last = c.post("/api/edit", json=edits[-1], headers=h)
        yaml_text = c.get("/api/scenario.yaml", headers=h).text
    out.update(edit=lat_edit, undo=lat_undo, errors=errors, crosstalk=crosstalk,
               last=last.status_code, yaml=yaml_text)


def _in_process(region: ServedRegion, plans: list[list[dict[str, Any]]],
                full_every: int = 1) -> dict[str, dict[str, list[float]]]:
    """Per edit kind: live latencies (all, and by the engine that answered), and full
    evaluations of every ``full_every``-th edit's scenario."""
    region.clear_cache()
    out: dict[str, dict[str, list[float]]] = {}
    k = 0
    for edits in plans:
        s = Session("bench", region)
        for body in edits:
            rec = out.setdefault(body["kind"], {"live": [], "full": [], "incremental": [],
                                                "fallback": []})
            t0 = time.perf_counter()
            try:
                p = s.edit(MODELS[body["kind"]].model_validate(body))
            except ContigmapError:  # e.g. both ends of a new road on one junction
                continue
            rec["live"].append((time.perf_counter() - t0) * 1000.0)
            rec["incremental" if p["engine"] == "incremental" else "fallback"].append(
                rec["live"][-1])
            if full_every and k % full_every == 0:
                t0 = time.perf_counter()
                region.evaluate(s.yaml_text())
                rec["full"].append((time.perf_counter() - t0) * 1000.0)
            k += 1
            s.undo()
    return out


def _report_in_process(region: ServedRegion, plans: list[list[dict[str, Any]]],
                       full_every: int) -> list[float]:
    kinds = _in_process(region, plans, full_every)
    st = region.stats
    every = [x for rec in kinds.values() for x in rec["live"]]
    print(f"in-process live (no HTTP, serial, cache emptied): edit {_pct(every)}; "
          f"incremental {st['incremental']}, full {st['full']}")
    for kind, rec in kinds.items():
        if not rec["live"]:
            continue
        print(f"  {kind}: live {_pct(rec['live'])}; engines incremental "
              f"{len(rec['incremental'])}, full {len(rec['fallback'])}")
        if rec["incremental"] and rec["fallback"]:
            print(f"  {kind}: answered incrementally {_pct(rec['incremental'])}; "
                  f"in full {_pct(rec['fallback'])}")
        if rec["full"]:
            print(f"  {kind}: full evaluation (evaluate_scenario) {_pct(rec['full'])}; "
                  f"ratio full / live p50 "
                  f"{np.percentile(rec['full'], 50) / np.percentile(rec['live'], 50):.1f}")
    return every


def _pct(xs: list[float]) -> str:
    a = np.asarray(xs)
    return " ".join(f"p{q}={np.percentile(a, q):.1f}" for q in (50, 90, 99)) + \
        f" max={a.max():.1f} ms (n={a.size})"


def main() -> None:
    """Prepare, serve, load, compare with in-process evaluation; print the numbers."""
    import uvicorn

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=2000, help="edit + undo requests in all")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--region", type=Path, default=DEMO, help="region.yaml (the demo)")
    ap.add_argument("--in-process", action="store_true", help="no HTTP load test")
    ap.add_argument("--builds", type=float, default=0.0,
                    help="share of edits that are new roads between junctions")
    ap.add_argument("--full", type=int, default=1,
                    help="evaluate every N-th edit's scenario in full too (0: none)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    region = ServedRegion.prepare(args.region)
    g = region.state.network.graph
    print(f"prepare + baseline + live model: {time.perf_counter() - t0:.1f} s "
          f"({g.n_edges:,} edges, {len(region.baseline.villages):,} villages); peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0:.0f} MB")
    unpaved = [str(r) for r, s in zip(region.state.data.roads["road_id"],
                                      region.state.data.roads["surface"], strict=True)
               if s != "paved"]
    per = max(args.requests // (2 * args.clients), 1)
    nodes = _nodes(region) if args.builds > 0 else None
    plans = [_edits(unpaved, per, seed, args.builds, nodes) for seed in range(args.clients)]
    if args.in_process:
        _report_in_process(region, plans, args.full)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        print(f"peak RSS of this process: {rss:.0f} MB")
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(region), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    results: list[dict[str, Any]] = [{} for _ in plans]
    t0 = time.perf_counter()
    clients = [threading.Thread(target=_client, args=(url, p, r))
               for p, r in zip(plans, results, strict=True)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    wall = time.perf_counter() - t0
    stats = dict(region.stats)
    server.should_exit = True
    thread.join(timeout=10)
    edits = [x for r in results for x in r["edit"]]
    undos = [x for r in results for x in r["undo"]]
    errors = sum(r["errors"] for r in results)
    crosstalk = sum(r["crosstalk"] for r in results)
    # each client's saved YAML must be its own last edit, nothing else
    yaml_ok = 0
    for p, r in zip(plans, results, strict=True):
        s = Session("check", region)
        s.ops = [s._change(MODELS[p[-1]["kind"]].model_validate(p[-1]))]
        yaml_ok += int(r["yaml"] == s.yaml_text())
    print(f"HTTP: {len(edits) + len(undos)} requests from {args.clients} clients in "
          f"{wall:.1f} s ({(len(edits) + len(undos)) / wall:.1f}/s)")
    print(f"  edit  {_pct(edits)}")
    print(f"  undo  {_pct(undos)}")
    print(f"  evaluations computed {stats['evaluated']} (incremental {stats['incremental']}, "
          f"full {stats['full']}), from cache {stats['cached']}")
    print(f"  errors {errors}, cross-talk answers {crosstalk}, "
          f"saved YAML own-only {yaml_ok}/{len(plans)}")
    base = _report_in_process(region, plans, args.full)
    print(f"ratio HTTP / in-process edit p50: "
          f"{np.percentile(edits, 50) / np.percentile(base, 50):.2f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"peak RSS of this process (server, clients and baseline): {rss:.0f} MB")


if __name__ == "__main__":
    main()
