"""Fixtures shared by the test modules (shared helpers live in :mod:`tests.helpers`).

- ``tiny_region`` and ``seated_region``: the hand-checkable tiny county of
  :func:`tests.helpers.write_tiny_region`, written into ``tmp_path`` (each test gets
  its own copy and may change it);
- ``demo_run``: one run of the committed demo region (花垣县, with its scenarios) per
  test session, in a ``tmp_path_factory`` folder;
- ``demo_state``: the demo region loaded, profiled and put on the network once per
  session (:func:`contigmap.pipeline.prepare` without priorities);
- ``messy_run``: one run of the messy fixture region (``layers/messy``) per session;
- ``point_gdf``: three villages in lon/lat.

The session fixtures are read-only: a test that needs a modified copy makes its own.
Every test that uses one of them, or has the ``browser`` marker, is marked ``slow``
(:func:`pytest_collection_modifyitems`), so that ``-m 'not slow'`` never runs the demo
or messy pipeline or starts a browser.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pytest
from shapely.geometry import Point

from tests.helpers import TinyRegion, write_tiny_region

if TYPE_CHECKING:
    from contigmap.pipeline import RegionState, RunResult
    from contigmap.priority.run import PriorityResults

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "layers" / "huayuan" / "region.yaml"
DEMO_SCENARIOS = sorted((ROOT / "scenarios").glob("huayuan_*.yaml"))
MESSY = ROOT / "layers" / "messy" / "region.yaml"

#: Fixtures that run or load a whole synthetic region: a test using one is slow.
SLOW_FIXTURES = frozenset({"demo_run", "demo_state", "demo_priorities", "messy_run"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark as ``slow`` every test that runs the demo or messy region or a browser."""
    for item in items:
        uses = set(getattr(item, "fixturenames", ()))
        if uses & SLOW_FIXTURES or item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """The demo region run once, with its scenarios (read-only)."""
    from contigmap.pipeline import run

    return run(DEMO, tmp_path_factory.mktemp("demo") / "huayuan", scenarios=DEMO_SCENARIOS)


@pytest.fixture(scope="session")
def demo_state() -> RegionState:
    """The demo region loaded, profiled and on the network, without priorities (read-only)."""
    from contigmap.pipeline import prepare

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prepare(DEMO, priorities=False)


@pytest.fixture(scope="session")
def demo_priorities(demo_state: RegionState) -> PriorityResults:
    """The demo's priority stage with 10 sensitivity draws (read-only)."""
    from contigmap.pipeline import priority_stage
    from contigmap.priority import load_priority_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfg = load_priority_config().model_copy(update={"sensitivity_draws": 10})
        res = priority_stage(demo_state, cfg).priorities
    assert res is not None
    return res


@pytest.fixture(scope="session")
def messy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The messy region run once with ``network: {slope_penalty: false}``; its output folder."""
    from contigmap import pipeline

    base = tmp_path_factory.mktemp("messy")
    cfg = base / "flat.yaml"
    cfg.write_text("network:\n  slope_penalty: false\n", encoding="utf-8")
    out = base / "out"
    pipeline.run(MESSY, out, config=cfg)
    return out


@pytest.fixture
def seated_region(tmp_path: Path) -> TinyRegion:
    """``tiny_region`` with a county seat and both township seats among its services.

    Its registry also covers all four villages (two more households, H7 and H8).
    """
    folder = tmp_path / "seated"
    return TinyRegion(path=write_tiny_region(folder, seats=True), folder=folder)


@pytest.fixture
def tiny_region(tmp_path: Path) -> TinyRegion:
    """The tiny region of :func:`tests.helpers.write_tiny_region`, in ``tmp_path``."""
    folder = tmp_path / "tiny"
    path = write_tiny_region(folder)
    return TinyRegion(path=path, folder=folder)


@pytest.fixture
def point_gdf() -> gpd.GeoDataFrame:
    """Three villages in lon/lat with 12-digit codes (one with a leading zero)."""
    return gpd.GeoDataFrame(
        {
            "village_id": ["433124100201", "043312410020", "433124101201"],
            "name": ["一村", "二村", "十八洞村"],
            "township_id": ["433124100", "433124100", "433124101"],
            "pop": [120, 340, 939],
        },
        geometry=[Point(109.40, 28.40), Point(109.45, 28.45), Point(109.50, 28.50)],
        crs="EPSG:4490",
    )
