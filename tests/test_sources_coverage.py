"""Registry coverage (issue #19 item 8): each indicator only from a source that supports it.

Counts are by hand on three villages A (T1, pop 100), B (T1, pop 200), C (T2, pop 300).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contigmap.config import RegistrySpec
from contigmap.errors import DataQualityWarning
from contigmap.poverty import (
    apply_poverty_sources,
    poverty_profile,
    poverty_source_lines,
    poverty_sources,
    registry_kind,
)


def _villages(**extra: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "village_id": ["A", "B", "C"], "name": ["甲村", "乙村", "丙村"],
        "township_id": ["T1", "T1", "T2"], "pop": [100, 200, 300],
    }
    base.update(extra)
    return pd.DataFrame(base)


def _registry(rows: list[tuple[str, int, int, str]]) -> pd.DataFrame:
    """Households (village, members, poor 0/1, cause), ids H1, H2, ..."""
    return pd.DataFrame({
        "household_id": [f"H{i + 1}" for i in range(len(rows))],
        "village_id": [r[0] for r in rows], "members": [r[1] for r in rows],
        "poor": [r[2] for r in rows], "cause": [r[3] for r in rows],
        "income_per_person": [3000.0 + 1000 * i for i in range(len(rows))],
    })


def _with(villages: pd.DataFrame, reg: pd.DataFrame) -> pd.DataFrame:
    return villages.join(poverty_profile(reg, village_ids=villages["village_id"]),
                         on="village_id")


# A poor-only registry: 4 poor households and 1 edge household (not poor), in A and B
POOR_ONLY = [("A", 4, 1, "因病"), ("A", 3, 1, "因学"), ("A", 5, 0, ""),
             ("B", 2, 1, "因病"), ("B", 6, 1, "因病")]


def test_poor_only_gives_causes_and_incomes_never_incidence() -> None:
    # the statistics table (villages layer) gives A 25 poor people; B and C have none
    v = _with(_villages(poor_pop=[25, np.nan, np.nan]), _registry(POOR_ONLY))
    with pytest.warns(DataQualityWarning, match="poor_only.*2 of 3 villages have no poor_pop"):
        out = apply_poverty_sources(v, registry=True, complete="poor_only")
    # incidence only from the table: A 25/100; B not 8/8 = 100% from the registry
    assert out["poor_pop"].iloc[0] == 25
    assert out["poverty_incidence"].iloc[0] == pytest.approx(0.25)
    assert np.isnan(out["poverty_incidence"].iloc[1])
    assert np.isnan(out["poor_pop"].iloc[1])
    assert out["poor_pop_source"].tolist() == ["villages_layer", "no_incidence_source",
                                               "no_incidence_source"]
    # households never from a poor-only registry: pop / 2.62 for all three
    assert out["households_source"].tolist() == ["pop_div_household_size"] * 3
    # causes: A's poor households 因病 1, 因学 1 -> 0.5 each; B 因病 2 of 2 -> 1.0
    assert out["cause_illness_share"].tolist()[:2] == pytest.approx([0.5, 1.0])
    assert out["cause_schooling_share"].iloc[0] == pytest.approx(0.5)
    # incomes of the listed households, weighted by members: A (4*3000+3*4000+5*5000)/12
    assert out["income_pp_mean_yuan"].iloc[0] == pytest.approx(49000 / 12)
    assert out["registry_source"].tolist() == ["poor_only", "poor_only", "not_covered"]


def test_an_undeclared_poor_only_registry_is_not_read_as_89_percent() -> None:
    # 18 poor and 2 edge households of 4 people (90% >= 85%, 20 listed): poor_only
    rows = [("A" if k < 10 else "B", 4, int(k not in (3, 13)), "因病") for k in range(20)]
    v = _with(_villages(), _registry(rows))
    assert registry_kind(v, None)[0] == "poor_only"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = apply_poverty_sources(v, registry=True)
    said = [str(w.message) for w in caught]
    assert any("treated as poor_only" in m and "90.0% of its households" in m for m in said)
    assert out["poverty_incidence"].isna().all()  # not 72 / 80 = 90%
    # the same share in 5 households (4 of 5 poor) is too few to tell: not poor_only
    assert registry_kind(_with(_villages(), _registry(POOR_ONLY)), None)[0] != "poor_only"


def test_complete_registry_covering_some_villages_labels_the_rest() -> None:
    # complete for A and B; C has no rows: labelled, not 0 poor, and no stop
    reg = _registry([("A", 4, 1, "因病"), ("A", 6, 0, ""), ("B", 5, 0, "")])
    v = _with(_villages(), reg)
    with pytest.warns(DataQualityWarning, match=r"1 of 3 villages are not covered \(丙村\)"):
        out = apply_poverty_sources(v, registry=True, complete="complete", size=4.0)
    assert out["poor_pop"].tolist()[:2] == [4, 0]
    assert out["poverty_incidence"].tolist()[:2] == pytest.approx([0.4, 0.0])
    assert np.isnan(out["poor_pop"].iloc[2])
    assert out["households"].tolist() == [2, 1, 75]  # C: 300 / 4
    assert out["registry_source"].tolist() == ["complete", "complete", "not_covered"]


def test_covered_list_overrides_rows() -> None:
    # covered: [A] -> B's rows are not used as counts (B is outside the declared coverage)
    reg = _registry([("A", 4, 1, "因病"), ("A", 6, 0, ""), ("B", 5, 1, "因残")])
    v = _with(_villages(), reg)
    with pytest.warns(DataQualityWarning, match="2 of 3 villages are not covered"):
        out = apply_poverty_sources(v, registry=True, complete="complete", covered=["A"])
    assert out["poor_pop_source"].tolist() == ["registry_complete", "not_covered",
                                               "not_covered"]
    assert out["poor_pop"].iloc[0] == 4


def test_coverage_manifest_forms_and_validate_lines(tmp_path: object) -> None:
    spec = RegistrySpec.model_validate({"path": "h.csv", "coverage": "poor_only",
                                        "covered": [433124100201, "A"]})
    assert spec.declared_coverage() == "poor_only"
    assert spec.covered == ["433124100201", "A"]
    assert RegistrySpec.model_validate({"path": "h.csv", "complete": False}
                                       ).declared_coverage() == "sample"
    v = _with(_villages(poor_pop=[25, np.nan, np.nan]), _registry(POOR_ONLY))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        out = apply_poverty_sources(v, registry=True, complete="poor_only")

    class _Config:
        household_size = None
        household_size_source = None

        class layers:  # noqa: N801 - stands in for RegionConfig.layers
            households = spec

    sources = poverty_sources(out, _Config())  # type: ignore[arg-type]
    assert sources["registry"] == "poor_only"
    assert sources["registry_covered"] == 1  # the declared list: only A is a village here
    text = "\n".join(poverty_source_lines(sources))
    assert "covers 1 of 3 villages" in text
    assert "incidence from: villages layer only (a poor-only registry gives none)" in text
    assert "causes from: the registry (poor and edge households only)" in text


@pytest.mark.slow
def test_a_partial_complete_registry_runs_and_validate_says_where_from(tmp_path: Path) -> None:
    from contigmap.dryrun import validation_report
    from contigmap.pipeline import prepare
    from tests.helpers import VILLAGE_CODES, write_tiny_region

    path = write_tiny_region(tmp_path / "r", seats=True)  # rows in all 4 villages
    covered = f"['{VILLAGE_CODES[0]}', '{VILLAGE_CODES[2]}']"  # declared: 2 of them
    text = path.read_text(encoding="utf-8").replace(
        "households: {path: households.csv, id: household_id}",
        "households: {path: households.csv, id: household_id, coverage: complete, "
        f"covered: {covered}}}")
    path.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        state = prepare(path)
        report = validation_report(path, quick=True)
    v = state.villages.set_index("name")
    assert v["registry_source"].tolist() == ["complete", "not_covered", "complete",
                                             "not_covered"]
    # 一村: poor 4 + 5 of 4 + 3 + 5 = 12 people; 十八洞村: 1 of 2 + 6 + 1 = 9
    assert v.loc["一村", "poverty_incidence"] == pytest.approx(9 / 12)
    assert v.loc["十八洞村", "poverty_incidence"] == pytest.approx(1 / 9)
    assert np.isnan(v.loc["二村", "poor_pop"])
    assert state.priorities is not None and len(state.priorities.tables["roads"]) == 4
    lines = "\n".join(report.sources)
    assert "registry used as complete" in lines and "covers 2 of 4 villages" in lines
    assert "incidence from: villages layer, else the complete registry" in lines
    assert any("2 of 4 villages are not covered" in f.text for f in report.findings)
