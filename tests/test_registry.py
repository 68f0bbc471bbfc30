"""The intervention registry: one module is enough to add an intervention to the priority stage.

A toy intervention ("clinics": distance to the nearest clinic, one option, a cost per
person) is registered for one test by putting it in ``registry.REGISTRY``; the priority
stage must rank it, its config section must be read and checked, the column dictionary
must list its columns, feasibility must follow its declared needs and relocation's
in-place cost must count it. Expected values are worked out by hand in the comments.
"""

from __future__ import annotations

import warnings
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pydantic import PositiveFloat
from shapely.geometry import Point

from contigmap._strict import StrictModel
from contigmap.columns import ColumnInfo, column_dictionary, describe_column
from contigmap.errors import ConfigError, DataQualityWarning, ValidationError
from contigmap.priority import registry
from contigmap.priority._common import assemble, select_output
from contigmap.priority.config import default_priorities_path, load_priority_config
from contigmap.priority.feasible import feasible_interventions
from contigmap.priority.intervention import (
    Intervention,
    InterventionConfig,
    Option,
    PriorityInputs,
)
from contigmap.priority.mcda import Criterion
from contigmap.priority.run import compute_priorities
from contigmap.relocation.candidates import in_place_costs, in_place_interventions


class ClinicCosts(StrictModel):
    cny_per_person: PositiveFloat


class ClinicsConfig(InterventionConfig):
    costs: ClinicCosts


CRITERIA = (
    Criterion("clinic_distance", "clinics_dist_m",
              lambda r: f"{r['clinics_dist_m'] / 1000:.1f} km to a clinic",
              lambda r: f"距卫生室{r['clinics_dist_m'] / 1000:.1f}公里", unit="m",
              label_en="distance to the nearest clinic", label_zh="距卫生室距离"),
    Criterion("pop", "pop", lambda r: f"{r['pop']:.0f} people", lambda r: f"人口{r['pop']:.0f}人"),
)
OPTIONS = (Option("clinic", "村卫生室", "village clinic"),)


def _compute(inputs: PriorityInputs, config: InterventionConfig, rate: float) -> pd.DataFrame:
    cfg = cast(ClinicsConfig, config)
    t = pd.DataFrame(inputs.villages.drop(columns="geometry"))
    t["clinics_dist_m"] = t["clinic_dist_m"]
    t["clinics_option"] = "clinic"
    t["clinics_capex_cny"] = t["pop"] * cfg.costs.cny_per_person
    t["clinics_annualised_cny"] = t["clinics_capex_cny"] * rate
    t["clinics_beneficiaries"] = t["pop"]
    t["clinics_poor_beneficiaries"] = t["poor_pop"]
    out = assemble(t, "clinics", CRITERIA, cfg, id_column="village_id", options=OPTIONS)
    return select_output(out, "clinics", ["village_id"], CRITERIA)


CLINICS = Intervention(
    name="clinics", label_zh="村卫生室", label_en="village clinics", unit="village",
    options=OPTIONS, config_model=ClinicsConfig, compute=_compute,
    layers_any=("clinic_sites",), criteria=CRITERIA,
    columns=(ColumnInfo("clinics_dist_m", "distance to the nearest clinic", "距卫生室距离", "m",
                        "priority / clinics"),),
)


@pytest.fixture
def clinics(monkeypatch: pytest.MonkeyPatch) -> Intervention:
    monkeypatch.setitem(registry.REGISTRY, "clinics", CLINICS)
    return CLINICS


def _villages() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "village_id": ["v1", "v2", "v3"], "name": ["甲村", "乙村", "丙村"],
        "township_id": ["t1", "t1", "t2"], "county": ["c", "c", "c"],
        "pop": [100.0, 200.0, 300.0], "households": [30.0, 60.0, 90.0],
        "poor_pop": [10.0, 20.0, 30.0], "poverty_incidence": [0.1, 0.1, 0.1],
        "clinic_dist_m": [1000.0, 5000.0, 3000.0],
    }, geometry=[Point(0, 0), Point(1000, 0), Point(2000, 0)], crs="EPSG:32649")


def _config(**clinics: object) -> dict[str, object]:
    import yaml

    data = yaml.safe_load(default_priorities_path().read_text(encoding="utf-8"))
    data["clinics"] = {"weights": {"clinic_distance": 1.0}, "costs": {"cny_per_person": 500},
                       **clinics}
    return data


def test_one_module_is_enough_to_rank_an_intervention(clinics: Intervention) -> None:
    cfg = load_priority_config({**_config(), "budget_cny": 130_000})
    assert cfg.intervention("clinics").costs.cny_per_person == 500
    res = compute_priorities(_villages(), None, None, gpd.GeoDataFrame(),  # type: ignore[arg-type]
                             {}, dem=None, config=cfg, interventions=("clinics",))
    t = res.tables["clinics"].set_index("village_id")
    # distance alone, min-max over 1000..5000 m: v1 0, v2 100, v3 50
    assert t["clinics_need"].to_dict() == pytest.approx({"v1": 0.0, "v2": 100.0, "v3": 50.0})
    assert t["clinics_rank"].to_dict() == {"v2": 1, "v3": 2, "v1": 3}
    # budget 130 k, cumulative capex in rank order v2 100 k, v3 250 k, v1 300 k:
    # within the budget, within a second one (<= 260 k), later
    assert t["clinics_tier"].to_dict() == {"v2": 1, "v3": 2, "v1": 3}
    assert set(t["clinics_tier_basis"]) == {"budget"}
    # 500 CNY per person; cost per poor beneficiary = capex / poor_pop
    assert t["clinics_capex_cny"].to_dict() == {"v1": 50_000, "v2": 100_000, "v3": 150_000}
    assert t.loc["v2", "clinics_cost_per_poor_cny"] == 5000
    assert t.loc["v2", "clinics_reasons_zh"].endswith("方案：村卫生室（10万元）")  # 100,000 元
    assert "5.0 km to a clinic" in t.loc["v2", "clinics_reasons"]
    county = res.summaries["county"].set_index("intervention")
    assert county.loc["clinics", "capex_cny"] == 300_000
    township = res.summaries["township"].set_index(["intervention", "township_id"])
    assert township.loc[("clinics", "t1"), "units"] == 2
    assert set(res.sensitivity) == {"clinics"}


def test_without_a_budget_tiers_are_need_groups_and_say_so(clinics: Intervention) -> None:
    cfg = load_priority_config({**_config(), "budget_cny": None})
    with pytest.warns(DataQualityWarning, match="no budget set.*need_quantile"):
        res = compute_priorities(_villages(), None, None, gpd.GeoDataFrame(),  # type: ignore[arg-type]
                                 {}, dem=None, config=cfg, interventions=("clinics",))
    t = res.tables["clinics"].set_index("village_id")
    # 4 equal-count groups over the 3 villages needing works, in rank order v2 v3 v1:
    # floor(i * 4 / 3) + 1 for i = 0, 1, 2 -> 1, 2, 3
    assert t["clinics_tier"].to_dict() == {"v2": 1, "v3": 2, "v1": 3}
    assert set(t["clinics_tier_basis"]) == {"need_quantile"}
    assert res.budget.set_index("intervention").loc["clinics", "tier_basis"] == "need_quantile"


def test_its_config_section_is_required_and_checked(clinics: Intervention) -> None:
    with pytest.raises(ConfigError, match="clinics"):
        load_priority_config({k: v for k, v in _config().items() if k != "clinics"})
    with pytest.raises(ConfigError, match="did you mean 'clinic_distance'"):
        load_priority_config(_config(weights={"clinic_distanse": 1.0}))
    with pytest.raises(ConfigError, match="cny_per_person"):
        load_priority_config(_config(costs={"cny_per_person": -1}))


def test_without_it_the_section_is_unknown() -> None:
    with pytest.raises(ConfigError, match="clinics"):
        load_priority_config(_config())


def test_the_column_dictionary_lists_its_columns(clinics: Intervention) -> None:
    names = set(column_dictionary()["name"])
    for col in ("clinics_need", "clinics_rank", "clinics_tier", "clinics_reasons_zh",
                "clinics_within_budget", "clinics_dist_m"):
        assert col in names, col
    info = describe_column("clinics_capex_cny")
    assert info is not None and info.meaning_zh == "村卫生室投资估算（示意）"
    assert info.source == "priority / clinics"


def test_the_column_dictionary_forgets_it_when_unregistered() -> None:
    assert describe_column("clinics_need") is None
    assert describe_column("water_need") is not None


_HOUSING = ("danger_c_households", "danger_d_households", "danger_poor_households",
            "danger_people", "danger_poor_people")  # from the registry's housing_grade


def test_feasibility_follows_what_it_declares(clinics: Intervention) -> None:
    v = pd.DataFrame({"village_id": ["v1"]})
    with pytest.warns(DataQualityWarning) as caught:
        got = feasible_interventions({"water_sources", "fibre"}, has_dem=False, villages=v,
                                     hamlets=None)
    # roads: no DEM and no relief_m; power: no power layer; broadband: no hamlets;
    # radio_tv: no hamlets; clinics: no clinic_sites
    assert got == ("water", "health", "schooling", "bus")  # these need only the services
    said = " ".join(str(w.message) for w in caught)
    for part in ("roads skipped", "`dem:`", "infrastructure.power_lines or "
                 "infrastructure.substations", "broadband skipped", "hamlets layer",
                 "infrastructure.clinic_sites", "housing skipped"):
        assert part in said, part
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = feasible_interventions(
            {"clinic_sites", "power_lines", "fibre", "water_sources"}, has_dem=False,
            villages=pd.DataFrame({"relief_m": [1.0], **{c: [0] for c in _HOUSING}}),
            hamlets=pd.DataFrame())
    assert got == ("roads", "water", "power", "broadband", "health", "schooling", "housing",
                   "radio_tv", "bus", "clinics")


def test_a_hamlet_intervention_without_hamlets_stops_the_stage() -> None:
    with pytest.raises(ValidationError, match="broadband: no hamlets"):
        compute_priorities(_villages(), None, None, gpd.GeoDataFrame(),  # type: ignore[arg-type]
                           {}, dem=None, interventions=("broadband",))


def test_in_place_cost_counts_it(clinics: Intervention) -> None:
    assert in_place_interventions() == ("roads", "water", "power", "broadband", "clinics")
    v = pd.DataFrame({"village_id": ["v1", "v2"], "pop": [10, 20],
                      "roads_capex_cny": [100.0, np.nan], "clinics_capex_cny": [5.0, 7.0],
                      "broadband_capex_cny": [1.0, 2.0]})
    by_village, by_hamlet = in_place_costs(v)
    # roads (nan counts 0) + clinics, then broadband from the village table
    assert by_village.to_dict() == {"v1": 106.0, "v2": 9.0}
    assert by_hamlet is None
