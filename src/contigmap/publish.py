"""Write a run's outputs: tables, map, report, run manifest, and the CLI's headline summary.

:func:`publish` takes what the stages produced (a :class:`~contigmap.state.RegionState`)
and writes every output file into a staged folder (:func:`contigmap.io.outdir.staged_dir`,
swapped in whole on success). It computes no figure of its own: the headline figures of
the map's key-figures panel, the county report and the CLI summary are read from the
run's indicator table (:func:`contigmap.indicators.headline_indicators`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.indicators import county_indicators, is_estimate, slowest_villages
from contigmap.io.write import write_table, write_vector
from contigmap.manifest import MANIFEST_NAME, write_run_manifest
from contigmap.render.web import Basemap, MapLayer
from contigmap.render.web_scenario import ScenarioViews
from contigmap.state import NetworkOutputs, RegionState, StageTimer

__all__ = ["finish_outputs", "headline_summary", "map_facts", "poverty_sources", "publish"]


def publish(
    state: RegionState,
    stage: Path,
    *,
    timer: StageTimer,
    offline: bool,
    basemap: Basemap = "none",
    tianditu_key: str | None = None,
) -> dict[str, Path]:
    """Write every output of a run into the staged folder ``stage``.

    Returns
    -------
    dict
        Every file written, by a short key (``map``, ``villages_gpkg``, ...); the run
        manifest is written by :func:`finish_outputs`.
    """
    with timer.stage("write"):
        written = _write_tables(state.villages, state.hamlets, stage)
        if state.indicators is not None:
            written["indicators_csv"] = write_table(state.indicators, stage / "indicators.csv")
        written.update(_write_network_tables(state.network, stage))
        written.update(_write_stage_tables(state, stage))
    with timer.stage("render"):
        written["map"] = _render(state, stage / "map.html", offline=offline,
                                 basemap=basemap, tianditu_key=tianditu_key)
    with timer.stage("report"):
        written.update(_report(state, stage))
    return written


def finish_outputs(stage: Path, out_dir: Path, written: dict[str, Path], *,
                   inputs: list[Path], parameters: dict[str, Any]) -> dict[str, Path]:
    """Write the run manifest into ``stage``; return the outputs' final paths in ``out_dir``."""
    write_run_manifest(stage, inputs=inputs, parameters=parameters,
                       outputs=sorted(written.values()), base_dir=Path.cwd())
    outputs = {key: out_dir / path.relative_to(stage) for key, path in written.items()}
    outputs["manifest"] = out_dir / MANIFEST_NAME
    return outputs


def _write_stage_tables(state: RegionState, stage: Path) -> dict[str, Path]:
    """Priorities, relocation and scenario tables, each in its own sub-folder."""
    written: dict[str, Path] = {}
    if state.priorities is not None:
        from contigmap.priority.run import write_priority_tables

        tables = write_priority_tables(state.priorities, stage / "priorities")
        written.update({f"priorities_{k}": v for k, v in tables.items()})
    if state.relocation is not None:
        from contigmap.relocation.run import write_relocation_outputs

        tables = write_relocation_outputs(state.relocation, stage / "relocation")
        written.update({f"relocation_{k}": v for k, v in tables.items()})
    if state.scenarios:
        from contigmap.scenario import write_scenario_outputs

        tables = write_scenario_outputs(state.scenarios, stage / "scenarios")
        written.update({f"scenarios_{k}": v for k, v in tables.items()})
    return written


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


def _write_network_tables(net: NetworkOutputs, stage: Path) -> dict[str, Path]:
    tables = {
        "components_csv": (net.components, "network_components.csv"),
        "townships_csv": (net.township_summary, "township_access.csv"),
        "county_csv": (net.county_summary, "county_access.csv"),
        "legs_csv": (net.legs, "access_legs.csv"),
    }
    return {key: write_table(frame, stage / name)
            for key, (frame, name) in tables.items() if frame is not None}


def _as_table(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Village table for CSV: geometry as WGS84 lon/lat columns."""
    points = frame.geometry.to_crs(4326)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name)).copy()  # one block per dtype
    floats = table.select_dtypes("float").columns
    table[floats] = table[floats].round(4)
    lonlat = pd.DataFrame({"lon": points.x.round(6), "lat": points.y.round(6)}, index=table.index)
    return pd.concat([table, lonlat], axis=1)


def _map_layers(state: RegionState) -> list[MapLayer]:
    from contigmap.render.compose import (
        bus_line_layers,
        region_map_layers,
        relocation_map_layers,
        scenario_map_layers,
    )

    layers = region_map_layers(state.data, hamlets=state.hamlets,
                               travel_time_roads=state.network.travel_time_roads)
    if state.priorities is not None:
        layers += bus_line_layers(state.priorities.extra)
    if state.relocation is not None:
        layers += relocation_map_layers(state.relocation)
    if state.scenarios:
        layers += [replace(layer, show=False) for layer in scenario_map_layers(state.scenarios)]
    return layers


def _scenario_views(state: RegionState) -> ScenarioViews | None:
    """Return the before/after view of the run's scenarios (closed when the map opens)."""
    from contigmap.render.compose import scenario_views

    return scenario_views(state.scenarios) if state.scenarios else None


def _county(state: RegionState) -> pd.Series | None:
    """Return the county row of the state's headline indicators."""
    return None if state.indicators is None else county_indicators(state.indicators)


def _known(value: Any) -> bool:
    return value is not None and bool(np.isfinite(float(value)))


def _rai_definition(state: RegionState, county: pd.Series) -> str:
    """Say which roads count as all-season for the Rural Access Index of this run."""
    definition = county.get("rai_definition")
    if isinstance(definition, str) and definition:
        return definition
    return state.settings.network.rai_definition()


def _estimate_note(county: pd.Series) -> str:
    return ", estimated from a registry sample 抽样估算" if is_estimate(county) else ""


def _villages_count(state: RegionState, county: pd.Series | None) -> int:
    if county is not None and _known(county.get("villages")):
        return int(county["villages"])
    return len(state.villages)


def map_facts(state: RegionState) -> list[tuple[str, str]]:
    """Headline figures for the map's key-figures panel, read from the indicator table."""
    facts: list[tuple[str, str]] = []
    county = _county(state)
    if county is not None and _known(county.get("poverty_incidence")):
        facts.append(("贫困发生率 poverty incidence",
                      f"{county['poverty_incidence']:.1%} "
                      f"({county['poor_pop']:,.0f} poor people{_estimate_note(county)})"))
    if county is not None and _known(county.get("rai")):
        facts.append(("农村通达指数 Rural Access Index",
                      f"{county['rai']:.1%} ({_rai_definition(state, county)})"))
        facts.append(("未通硬化路到乡镇的村 villages without a hardened road to the township",
                      f"{int(county['villages_without_hardened_road'])} / "
                      f"{_villages_count(state, county)}"))
        facts.append(("60分钟内到乡镇驻地的人口 people within 60 min of the seat",
                      f"{county['share_within_60min_seat']:.1%}"))
    slow = slowest_villages(state.villages)
    if slow:
        facts.append(("最慢的村 slowest villages", "、".join(
            f"{n}（{t:.0f}分钟）" if np.isfinite(t) else f"{n}（无路可达）" for n, t in slow)))
    if state.relocation is not None:
        r = state.relocation.summary
        facts.append(("建议搬迁 people to relocate",
                      f"{r.get('people_to_relocate', 0):,.0f} → {r.get('sites_used', 0)} sites"))
    return facts


def poverty_sources(state: RegionState) -> dict[str, Any]:
    """Where households and poor people came from, with villages per source."""
    from contigmap.poverty import poverty_sources as sources

    return sources(state.villages, state.data.config)


def _render(state: RegionState, path: Path, *, offline: bool, basemap: Basemap = "none",
            tianditu_key: str | None = None) -> Path:
    from contigmap.render.web import render_web_map
    from contigmap.render.web_weights import weights_data

    data = state.data
    config = data.config
    return render_web_map(
        path,
        villages=state.villages,
        roads=data.roads,
        boundaries=data.boundaries,
        extra_layers=_map_layers(state),
        title=config.title or config.name,
        source_note=config.source_note or "",
        illustrative=config.illustrative,
        offline=offline,
        basemap=basemap,
        tianditu_key=tianditu_key,
        facts=map_facts(state),
        scenarios=_scenario_views(state),
        weights=weights_data(state.priorities, state.villages),
        guarantees=(None if state.priorities is None
                    else state.priorities.guarantees()),
    )


def _report(state: RegionState, stage: Path) -> dict[str, Path]:
    """Draw the static PNG maps and write the county report (HTML, Markdown, XLSX)."""
    from contigmap.facts import region_facts
    from contigmap.poverty import poverty_source_lines
    from contigmap.render.report import write_county_report
    from contigmap.render.static import map_base, render_static_maps

    data = state.data
    config = data.config
    title = config.title or config.name
    base = map_base(state.villages, data.boundaries, data.roads)  # roads read once for all maps
    maps = render_static_maps(
        stage / "static", villages=state.villages, region_title=title,
        boundaries=data.boundaries, roads=data.roads, illustrative=config.illustrative,
        source_note=config.source_note or "", base=base,
    )
    town_maps = _township_maps(state, stage / "static" / "townships", base)
    interventions = state.priorities.tables if state.priorities is not None else None
    facts = region_facts(data, indicators=state.indicators)
    county = _county(state)
    if county is not None and _known(county.get("rai")):
        facts["rural_access_index"] = f"{county['rai']:.1%} ({_rai_definition(state, county)})"
    report = write_county_report(
        stage, villages=state.villages, region_title=title, facts=facts,
        interventions=interventions, static_maps=maps, illustrative=config.illustrative,
        source_note=config.source_note or "", indicators=state.indicators,
        source_lines=poverty_source_lines(poverty_sources(state)),
        story=_story(state, town_maps),
    )
    written = {f"png_{key}": path for key, path in maps.items()}
    written.update({f"png_township_{tid}": path for tid, path in town_maps.items()})
    written.update({f"report_{key}": path for key, path in report.items()})
    return written


def _township_maps(state: RegionState, out_dir: Path, base: Any = None) -> dict[str, Path]:
    """One small map per township for the report's township pages (none without townships).

    ``base``: the county maps' layers (:func:`contigmap.render.static.map_base`), shared.
    """
    from contigmap.render.static_towns import render_township_maps

    data = state.data
    towns = (data.boundaries or {}).get("townships")
    if towns is None or not len(towns):
        return {}
    return render_township_maps(
        out_dir, villages=state.villages, townships=towns, roads=data.roads,
        region_title=data.config.title or data.config.name,
        illustrative=data.config.illustrative,  # the report's front page names the source
        base=base)


def _story(state: RegionState, township_maps: dict[str, Path] | None = None) -> Any:
    """Gather what the report's story reads from the stages: priorities, scenarios, relocation."""
    from contigmap.render.report import ReportStory

    pri, reloc = state.priorities, state.relocation
    return ReportStory(
        priorities=pri.tables if pri else {}, sensitivity=pri.sensitivity if pri else {},
        budget_cny=pri.config.budget_cny if pri else None,
        scenarios=[(r.scenario.name, (r.scenario.title or "").split(" / ")[0], r.summary)
                   for r in state.scenarios],
        relocation=reloc.summary if reloc else None,
        relocation_sites=reloc.sites if reloc else None, township_maps=township_maps or {})


def headline_summary(state: RegionState) -> dict[str, Any]:
    """Headline figures for the CLI to print, read from the indicator table and stage results."""
    county = _county(state)
    summary: dict[str, Any] = {"villages": _villages_count(state, county)}
    if county is not None and _known(county.get("pop")):
        summary["people"] = int(county["pop"])
    if county is not None and _known(county.get("poverty_incidence")):
        summary["poverty_incidence"] = float(county["poverty_incidence"])
        summary["poor_people"] = (f"{county['poor_pop']:,.0f}{_estimate_note(county)}")
    sources = poverty_sources(state)
    summary["poverty_sources"] = "; ".join(
        f"{what} from " + ", ".join(f"{k} {n}" for k, n in sources[col].items())
        for what, col in (("households", "households_source"), ("poor", "poor_pop_source"))
        if sources[col])
    if county is not None and _known(county.get("rai")):
        summary["rural_access_index"] = float(county["rai"])
        summary["no_hardened_road"] = int(county["villages_without_hardened_road"])
    slow = slowest_villages(state.villages)
    if slow:
        summary["slowest_villages"] = "、".join(
            f"{name} {tt:.0f} min" if np.isfinite(tt) else f"{name} no route"
            for name, tt in slow)
    if state.relocation is not None:
        reloc = state.relocation.summary
        summary["relocate_people"] = int(reloc.get("people_to_relocate", 0))
        summary["relocate_sites_used"] = int(reloc.get("sites_used", 0))
    for r in state.scenarios:
        gain = r.summary.get("poor_gaining", 0)
        lost = r.summary.get("pop_lost_access", 0)
        summary[f"scenario_{r.scenario.name}"] = (
            f"poor gaining {gain:.0f}, people losing access {lost:.0f}, "
            f"cost {r.summary.get('cost_cny', 0) / 1e6:.1f} M CNY")
    if state.priorities is not None:
        for iv, table in state.priorities.tables.items():
            top = table.nsmallest(3, f"{iv}_rank")
            names = top["name"] if "name" in top else top.iloc[:, 0]
            summary[f"top_{iv}"] = "、".join(str(n) for n in names)
    return summary
