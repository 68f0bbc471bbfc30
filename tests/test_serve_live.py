"""The live (incremental) path of ``contigmap serve`` against the full evaluation.

For seeded random sequences of upgrades, closures and season switches, on the demo and
on the messy region, every answer of :meth:`ServedRegion.answer` (incremental where it
can) must equal :meth:`ServedRegion.evaluate` — ``contigmap scenario run``'s
:func:`contigmap.scenario.evaluate_scenario`, which rebuilds the scenario's graph from
the changed road layer — per village (minutes to the own township seat and the county
seat within 1e-6 min, the same villages reachable, the same ``lost_access`` and
``gains``) and in the headline numbers.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MESSY = ROOT / "layers" / "messy" / "region.yaml"


def _node_lonlat(served: Any) -> tuple[Any, Any]:
    import geopandas as gpd

    xy = served.state.network.graph.node_xy
    pts = gpd.GeoSeries.from_xy(xy[:, 0], xy[:, 1], crs=served.state.data.roads.crs)
    ll = pts.to_crs(4326)
    return xy, np.column_stack([ll.x.to_numpy(), ll.y.to_numpy()])


def _random_build(nodes: tuple[Any, Any], rng: np.random.Generator) -> Any:
    """A new road between a random junction and another 300 m - 3 km from it."""
    from contigmap.serve.models import BuildEdit

    xy, ll = nodes
    a = int(rng.integers(len(xy)))
    d = np.hypot(*(xy - xy[a]).T)
    near = np.flatnonzero((d > 300.0) & (d < 3000.0))
    b = int(near[int(rng.integers(near.size))]) if near.size else (a + 1) % len(xy)
    return BuildEdit(kind="build", start=tuple(ll[a]), end=tuple(ll[b]),
                     surface=str(rng.choice(["paved", "gravel", "earth"])))


def _random_edits(ids: list[str], rng: np.random.Generator, n: int,
                  nodes: tuple[Any, Any] | None = None) -> list[Any]:
    from contigmap.serve.models import CloseEdit, SeasonEdit, UpgradeEdit

    out: list[Any] = []
    for _ in range(n):
        u = rng.random()
        roads = [ids[int(k)] for k in rng.integers(len(ids), size=int(rng.integers(1, 4)))]
        if nodes is not None and rng.random() < 0.3:
            out.append(_random_build(nodes, rng))
        elif u < 0.5:
            klass = str(rng.choice(["county", "village"])) if rng.random() < 0.3 else None
            out.append(UpgradeEdit(kind="upgrade", roads=roads, road_class=klass,
                                   surface=str(rng.choice(["paved", "gravel"]))))
        elif u < 0.85:
            out.append(CloseEdit(kind="close", roads=roads[:1]))
        else:
            out.append(SeasonEdit(kind="season", season=str(rng.choice(["dry", "rainy"]))))
    return out


def _same(live: Any, full: Any) -> None:
    for col in ("tt_own_township_seat_min", "tt_county_seat_min"):
        a = live.villages[col].to_numpy(float)
        b = full.villages[col].to_numpy(float)
        np.testing.assert_array_equal(np.isfinite(a), np.isfinite(b), err_msg=col)
        fin = np.isfinite(b)
        np.testing.assert_allclose(a[fin], b[fin], rtol=0, atol=1e-6, err_msg=col)
    for col in ("lost_access", "gains"):
        np.testing.assert_array_equal(live.villages[col].to_numpy(bool),
                                      full.villages[col].to_numpy(bool), err_msg=col)
    for key in ("poor_gaining", "pop_gaining", "pop_lost_access", "villages_lost_access",
                "cost_cny"):
        assert live.summary[key] == pytest.approx(full.summary[key], rel=1e-9, abs=1e-9), key


def _check_sequences(served: Any, seed: int, sequences: int,
                     builds: bool = False) -> dict[str, int]:
    from contigmap.errors import ContigmapError
    from contigmap.serve.session import Session

    ids = [str(r) for r in served.state.data.roads["road_id"]]
    rng = np.random.default_rng(seed)
    engines = {"incremental": 0, "full": 0, "build_incremental": 0, "build_full": 0}
    nodes = _node_lonlat(served) if builds else None
    for _ in range(sequences):
        s = Session("t", served)
        for edit in _random_edits(ids, rng, int(rng.integers(1, 6)), nodes):
            try:
                s.edit(edit)
            except ContigmapError:  # a road already like that, closed twice, ...
                continue
            if all(op.change is None for op in s.ops):
                continue
            text = s.yaml_text()
            live = served.answer(text)
            engines[live.engine] += 1
            if "type: build" in text:
                engines[f"build_{live.engine}"] += 1
            _same(live, served.evaluate(text))
    return engines


@pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")
def test_live_equals_full_on_the_demo(demo_state: Any) -> None:
    from contigmap.serve import ServedRegion

    served = ServedRegion.from_state(demo_state)
    assert served.live is not None and served.live.exact
    engines = _check_sequences(served, seed=18, sequences=12)
    # most answers went the incremental way (the test can fail if none did)
    assert engines["incremental"] >= 2 * engines["full"] > 0


@pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")
def test_live_equals_full_with_new_roads_on_the_demo(demo_state: Any) -> None:
    """New roads between junctions (mixed with upgrades, closures, seasons) go live."""
    from contigmap.serve import ServedRegion

    served = ServedRegion.from_state(demo_state)
    engines = _check_sequences(served, seed=21, sequences=14, builds=True)
    # the full ones hold a closure of a village's road or a road beside an edge
    assert engines["build_incremental"] > engines["build_full"] > 0, engines


@pytest.mark.slow
@pytest.mark.skipif(not MESSY.is_file(), reason="needs the messy region")
def test_live_equals_full_on_the_messy_region() -> None:
    from contigmap.serve import ServedRegion

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        served = ServedRegion.prepare(MESSY)
    assert served.live is not None and served.live.exact
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        engines = _check_sequences(served, seed=7, sequences=12, builds=True)
    assert engines["incremental"] > 0
    assert engines["build_incremental"] > 0


@pytest.mark.filterwarnings("ignore::contigmap.errors.DataQualityWarning")
def test_live_engine_of_new_roads_and_bus_lines(demo_state: Any) -> None:
    """A new road between junctions goes live, a bus line in full; the payload says so."""
    from contigmap.serve import ServedRegion
    from contigmap.serve.models import BuildEdit, BusEdit, UpgradeEdit
    from contigmap.serve.session import Session

    served = ServedRegion.from_state(demo_state)
    s = Session("t", served)
    rj = served.region_json()
    rid = next(f["properties"]["id"] for f in rj["roads"]["features"]
               if f["properties"]["srf"] != "paved")
    assert s.edit(UpgradeEdit(kind="upgrade", roads=[rid], surface="paved"))["engine"] == (
        "incremental")
    xy = served.state.network.graph.node_xy
    lonlat = served.snap(*_lonlat(served, xy[0]), "a")
    far = served.snap(*_lonlat(served, xy[len(xy) // 2]), "b")
    p = s.edit(BuildEdit(kind="build", start=lonlat, end=far))
    assert p["engine"] == "incremental"
    vid = str(served.state.data.villages["village_id"].iloc[0])
    p = s.edit(BusEdit(kind="bus", stops=[vid, lonlat], frequency_per_day=6))
    assert p["engine"] == "full"


def _lonlat(served: Any, xy: Any) -> tuple[float, float]:
    import geopandas as gpd
    import shapely

    pt = gpd.GeoSeries([shapely.Point(*xy)], crs=served.state.data.roads.crs).to_crs(4326)
    return float(pt.x.iloc[0]), float(pt.y.iloc[0])
