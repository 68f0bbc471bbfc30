"""Chain the stages: load → validate and reproject → overlay → network → render.

:func:`run` is what ``contigmap run`` and ``contigmap demo`` call. It reads nothing
but the region manifest and the layers it declares, and writes everything into one
output folder *all at once*: outputs are staged in a hidden temporary folder beside
the target and moved into place only when every stage has succeeded, so a failed run
leaves no half-written output behind.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from contigmap.config import RegionConfig, load_region
from contigmap.layers import RegionData, load_region_layers, write_table, write_vector
from contigmap.manifest import MANIFEST_NAME, write_run_manifest
from contigmap.network.speeds import Season

__all__ = ["RunResult", "run"]

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class RunResult:
    """What a run produced.

    Attributes
    ----------
    out_dir
        The output folder.
    outputs
        Every file written, by a short key (``map``, ``villages_gpkg``, ...).
    villages
        The village table with every column the stages added (working CRS).
    summary
        Headline figures for the CLI to print.
    timings_s
        Seconds spent per stage.
    """

    out_dir: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    villages: gpd.GeoDataFrame | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)


@contextmanager
def staged_dir(out_dir: Path) -> Iterator[Path]:
    """Yield a temporary folder whose files replace those in ``out_dir`` only on success.

    Files are moved one by one with :func:`os.replace`-semantics (``Path.replace``),
    which is atomic per file on one file system; files of earlier runs that this run
    does not produce are left alone.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-partial-", dir=out_dir.parent))
    try:
        yield stage
        out_dir.mkdir(parents=True, exist_ok=True)
        for src in sorted(stage.rglob("*")):
            if src.is_file():
                dst = out_dir / src.relative_to(stage)
                dst.parent.mkdir(parents=True, exist_ok=True)
                src.replace(dst)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


class _Timer:
    def __init__(self, result: RunResult, step: Progress | None) -> None:
        self.result = result
        self.step = step

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.step is not None:
            self.step(name)
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
        self.result.timings_s[name] = round(elapsed, 3)
        logger.info("stage %s done in %.2f s", name, elapsed)


def _village_table(data: RegionData) -> gpd.GeoDataFrame:
    """Start the village table from the villages layer, with township names joined."""
    villages = data.villages.copy()
    townships = data.boundaries.get("townships")
    if townships is not None and "township_name" not in villages.columns and "name" in townships:
        names = townships.set_index("township_id")["name"].rename("township_name")
        villages = villages.join(names, on="township_id")
    return villages


def _profile(
    villages: gpd.GeoDataFrame, data: RegionData
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """Overlay stage: terrain, hazards, ecology, infrastructure distances and poverty."""
    from contigmap.overlay import village_profile

    return village_profile(
        villages,
        village_areas=data.village_areas,
        townships=data.boundaries.get("townships"),
        dem=data.dem,
        hazards=data.hazards,
        ecology=data.ecology,
        infrastructure=data.infrastructure,
        households=data.households,
        hamlets=data.hamlets,
    )


@dataclass
class NetworkOutputs:
    """What the network stage adds besides village columns."""

    components: pd.DataFrame | None = None
    township_summary: pd.DataFrame | None = None
    county_summary: pd.DataFrame | None = None
    travel_time_roads: gpd.GeoDataFrame | None = None


def _network(
    villages: gpd.GeoDataFrame,
    hamlets: gpd.GeoDataFrame | None,
    data: RegionData,
    *,
    season: str,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, NetworkOutputs]:
    """Network stage: routable graph, travel times, RAI and hardened-road connectivity."""
    from contigmap import network

    graph = network.build_network(data.roads, dem=data.dem)
    out = NetworkOutputs(components=network.component_report(graph, villages))
    if data.services is None:
        logger.warning("no services layer: travel times to services are not computed; "
                       "declare `services:` in the region manifest")
        return villages, hamlets, out
    when: Season = "rainy" if season == "rainy" else "dry"
    villages = network.access_measures(graph, villages, data.services, season=when)
    if hamlets is not None:
        hamlets = network.access_measures(graph, hamlets, data.services, villages=villages,
                                          season=when)
    out.township_summary = network.township_summary(villages)
    out.county_summary = network.county_summary(villages)
    if (data.services["kind"] == "township_seat").any():
        out.travel_time_roads = network.travel_time_edges(graph, data.services, season=when)
    return villages, hamlets, out


def run(
    region_path: str | Path,
    out_dir: str | Path,
    *,
    offline: bool = True,
    season: str = "dry",
    progress: Progress | None = None,
    show_progress_bars: bool = False,
) -> RunResult:
    """Run the whole pipeline on one region and write its outputs.

    Parameters
    ----------
    region_path
        The region manifest (``region.yaml``).
    out_dir
        Output folder; created if needed. Outputs appear there only once every
        stage has succeeded.
    offline
        Inline every script and style sheet into the HTML map, so it works with no
        network.
    season
        ``dry`` or ``rainy``: which season's road speeds to use for travel times.
    progress
        Called with each stage's name as it starts (the CLI shows it).
    show_progress_bars
        Let long stages draw tqdm progress bars.

    Returns
    -------
    RunResult
        The output paths, the village table and headline figures.
    """
    out_dir = Path(out_dir)
    result = RunResult(out_dir=out_dir)
    timer = _Timer(result, progress)

    with timer.stage("load"):
        region: RegionConfig = load_region(region_path)
        data = load_region_layers(region, progress=show_progress_bars)

    with timer.stage("overlay"):
        villages, hamlets = _profile(_village_table(data), data)

    with timer.stage("network"):
        villages, hamlets, net = _network(villages, hamlets, data, season=season)

    result.villages = villages
    parameters: dict[str, Any] = {
        "region": region.name,
        "working_crs": data.working_crs.to_string(),
        "offline": offline,
        "season": season,
    }

    with staged_dir(out_dir) as stage:
        with timer.stage("write"):
            written = _write_tables(villages, hamlets, stage)
            if net.components is not None:
                written["components_csv"] = write_table(net.components,
                                                        stage / "network_components.csv")
            if net.township_summary is not None:
                written["townships_csv"] = write_table(net.township_summary,
                                                       stage / "township_access.csv")
            if net.county_summary is not None:
                written["county_csv"] = write_table(net.county_summary,
                                                    stage / "county_access.csv")
        with timer.stage("render"):
            written["map"] = _render(villages, hamlets, net, data, stage / "map.html",
                                     offline=offline)
        with timer.stage("report"):
            written.update(_report(villages, data, stage))
        outputs = sorted(written.values())
        write_run_manifest(
            stage,
            inputs=[Path(region_path), *data.input_paths],
            parameters=parameters,
            outputs=outputs,
            base_dir=Path.cwd(),
        )
    result.outputs = {key: out_dir / path.relative_to(stage) for key, path in written.items()}
    result.outputs["manifest"] = out_dir / MANIFEST_NAME
    result.summary = _summary(villages, net)
    return result


def _write_tables(
    villages: gpd.GeoDataFrame, hamlets: gpd.GeoDataFrame | None, stage: Path
) -> dict[str, Path]:
    written = {
        "villages_gpkg": write_vector(villages, stage / "villages.gpkg", layer="villages"),
        "villages_csv": write_table(_as_table(villages), stage / "villages.csv"),
    }
    if hamlets is not None:
        written["hamlets_gpkg"] = write_vector(hamlets, stage / "hamlets.gpkg", layer="hamlets")
        written["hamlets_csv"] = write_table(_as_table(hamlets), stage / "hamlets.csv")
    return written


def _as_table(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Village table for CSV: geometry as WGS84 lon/lat columns."""
    points = frame.geometry.to_crs(4326)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    floats = table.select_dtypes("float").columns
    table[floats] = table[floats].round(4)
    table["lon"] = points.x.round(6)
    table["lat"] = points.y.round(6)
    return table


def _render(
    villages: gpd.GeoDataFrame,
    hamlets: gpd.GeoDataFrame | None,
    net: NetworkOutputs,
    data: RegionData,
    path: Path,
    *,
    offline: bool,
) -> Path:
    from contigmap.render.compose import region_map_layers
    from contigmap.render.web import render_web_map

    config = data.config
    return render_web_map(
        path,
        villages=villages,
        roads=data.roads,
        boundaries=data.boundaries,
        extra_layers=region_map_layers(data, hamlets=hamlets,
                                       travel_time_roads=net.travel_time_roads),
        title=config.title or config.name,
        source_note=config.source_note or "",
        illustrative=config.illustrative,
        offline=offline,
    )


def _report(villages: gpd.GeoDataFrame, data: RegionData, stage: Path) -> dict[str, Path]:
    """Draw the static PNG maps and write the county report (HTML, Markdown, XLSX)."""
    from contigmap.render.report import write_county_report
    from contigmap.render.static import render_static_maps
    from contigmap.validate import region_facts

    config = data.config
    title = config.title or config.name
    maps = render_static_maps(
        stage / "static", villages=villages, region_title=title, boundaries=data.boundaries,
        roads=data.roads, illustrative=config.illustrative, source_note=config.source_note or "",
    )
    report = write_county_report(
        stage, villages=villages, region_title=title, facts=region_facts(data),
        static_maps=maps, illustrative=config.illustrative, source_note=config.source_note or "",
    )
    written = {f"png_{key}": path for key, path in maps.items()}
    written.update({f"report_{key}": path for key, path in report.items()})
    return written


def _summary(villages: gpd.GeoDataFrame, net: NetworkOutputs) -> dict[str, Any]:
    summary: dict[str, Any] = {"villages": len(villages)}
    if "pop" in villages:
        summary["people"] = int(villages["pop"].sum())
    if "poor_pop" in villages and "pop_registry" in villages:
        total = float(villages["pop_registry"].sum())
        summary["poverty_incidence"] = float(villages["poor_pop"].sum()) / total if total else None
    if net.county_summary is not None and len(net.county_summary):
        county = net.county_summary.iloc[0]
        summary["rural_access_index"] = float(county["rai"])
        summary["no_hardened_road"] = int(county["villages_without_hardened_road"])
    if "tt_own_township_seat_min" in villages:
        slowest = villages.nlargest(3, "tt_own_township_seat_min")
        summary["slowest_villages"] = "、".join(
            f"{name} {tt:.0f} min" for name, tt in
            zip(slowest["name"], slowest["tt_own_township_seat_min"], strict=True)
        )
    return summary
