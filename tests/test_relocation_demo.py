"""The relocation stage on the demo region (one module-scoped run)."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio

from contigmap.errors import DataQualityWarning
from contigmap.pipeline import RegionState, priority_stage, relocation_plan_from_state
from contigmap.relocation.costs import load_relocation_config
from contigmap.relocation.run import RelocationPlan, write_relocation_outputs

LAYERS = Path(__file__).resolve().parents[1] / "layers" / "huayuan"


@pytest.fixture(scope="module")
def state(demo_state: RegionState) -> RegionState:
    """The session's demo state with the default priorities (as ``prepare`` gives it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return priority_stage(demo_state)


@pytest.fixture(scope="module")
def plan(state: RegionState) -> RelocationPlan:
    return relocation_plan_from_state(state)


def test_no_site_over_capacity_and_everyone_placed(plan: RelocationPlan) -> None:
    sites = plan.sites
    assert (sites["load_people"] <= sites["capacity_people"]).all()
    # the loads are the plan's people per site, recomputed here
    per_site = plan.plan.groupby("site_id")["people"].sum()
    assert per_site.to_dict() == sites.set_index("site_id")["load_people"][per_site.index].to_dict()
    movers = plan.candidates[plan.candidates["reloc_decision"] == "relocate"]
    assert len(movers) > 0
    assert plan.plan["people"].sum() + plan.unassigned["people"].sum() == movers["pop"].sum()
    assert plan.households.groupby("origin_id")["members"].sum().sum() == movers["pop"].sum()


def test_sites_outside_hazards_and_red_line_checked_on_the_source_files(
    plan: RelocationPlan,
) -> None:
    cfg = load_relocation_config()
    sites = plan.sites.to_crs(4326)
    for path, layer in [("hazards.gpkg", "flood"), ("ecology.gpkg", "redline"),
                        ("ecology.gpkg", "reserve")]:
        polys = gpd.read_file(LAYERS / path, layer=layer).to_crs(4326)
        hit = gpd.sjoin(sites, polys, predicate="intersects")
        assert hit.empty, f"sites {hit['site_id'].tolist()} inside {layer}"
    # the flood setback, measured in metres in the working CRS
    flood = gpd.read_file(LAYERS / "hazards.gpkg", layer="flood").to_crs(plan.sites.crs)
    dist = plan.sites.geometry.apply(lambda p: flood.distance(p).min())
    assert (dist >= cfg.sites.hazard_setback_m - 1.0).all()
    with rasterio.open(LAYERS / "landslide.tif") as src:
        values = np.array([v[0] for v in src.sample(zip(sites.geometry.x, sites.geometry.y,
                                                        strict=True))], dtype=float)
    assert np.isfinite(values).all()
    assert (values < cfg.sites.landslide_max).all()


def test_candidates_have_reasons_and_a_decision(plan: RelocationPlan) -> None:
    c = plan.candidates
    assert len(c) > 0
    assert (c["reloc_reasons"].str.len() > 0).all()
    assert (c["reloc_reasons_zh"].str.len() > 0).all()
    assert set(c["reloc_decision"]) <= {"relocate", "stay"}
    margin = c["reloc_in_place_cny"] - c["reloc_move_cny"]
    assert np.allclose(margin, c["reloc_margin_cny"])


def test_map_layers_written(plan: RelocationPlan, tmp_path: Path) -> None:
    written = write_relocation_outputs(plan, tmp_path)
    cand = gpd.read_file(written["candidates_gpkg"])
    assert {"reloc_reasons", "reloc_reasons_zh", "reloc_score", "reloc_decision"} <= set(cand)
    sites = gpd.read_file(written["sites_gpkg"])
    assert {"capacity_people", "load_people", "load_share"} <= set(sites)
    flows = gpd.read_file(written["flows_gpkg"])
    assert len(flows) == len(plan.plan) > 0
    assert flows.geom_type.eq("LineString").all()
    for key in ("plan_csv", "households_csv", "unassigned_csv", "summary_csv", "sites_csv"):
        assert written[key].exists()


def test_thresholds_selecting_nobody_give_an_empty_plan(state: RegionState) -> None:
    cfg = load_relocation_config({"candidates": {"min_reasons": 9}})
    with pytest.warns(DataQualityWarning, match="select no settlement"):
        empty = relocation_plan_from_state(state, cfg)
    assert empty.plan.empty and empty.candidates.empty and empty.flows.empty


def test_capacity_shortfall_keeps_a_plan_and_lists_the_rest(state: RegionState) -> None:
    cfg = load_relocation_config({"sites": {"max_new_sites": 2,
                                            "town_capacity_people": {"township_seat": 100,
                                                                     "county_seat": 100}}})
    with pytest.warns(DataQualityWarning, match="stay unassigned"):
        short = relocation_plan_from_state(state, cfg)
    assert len(short.unassigned) > 0
    assert (short.sites["load_people"] <= short.sites["capacity_people"]).all()
    assert short.summary["people_assigned"] + short.summary["people_unassigned"] == \
        short.summary["people_to_relocate"]
