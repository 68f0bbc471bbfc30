"""Unit tests for input-data helpers: poverty sources, yes/no words, headers, YAML, repairs."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pytest
import shapely
from pydantic import ValidationError as PydanticValidationError
from shapely.geometry import Polygon, box

from contigmap._strict import StrictModel
from contigmap.booleans import accepted_words
from contigmap.coverage import repair_polygons
from contigmap.errors import ConfigError, DataQualityWarning
from contigmap.indicators import is_estimate
from contigmap.inputs import normalise_header
from contigmap.poverty.sources import apply_hamlet_households, registry_coverage
from contigmap.settings import is_run_config, load_run_config
from contigmap.yamlio import config_error, parse_yaml_text

# --------------------------------------------------------------------------- poverty


def test_is_estimate() -> None:
    assert is_estimate(pd.Series({"poor_pop_source": "registry_sample_estimate"}))
    assert is_estimate(pd.Series({"poor_pop_source": "registry_sample_township_rate"}))
    assert not is_estimate(pd.Series({"poor_pop_source": "registry"}))
    assert not is_estimate(pd.Series({"poor_pop_source": np.nan}))
    assert not is_estimate(pd.Series({"pop": 3}))  # no source column


def test_registry_coverage_over_covered_villages_only() -> None:
    v = pd.DataFrame({
        "pop": [100.0, 200.0, 300.0, np.nan],
        "pop_registry": [80.0, 50.0, 0.0, 40.0],
        "households_registry": [20, 10, 0, 10],
    })
    # covered: households_registry > 0 and pop known -> rows 0, 1: (80 + 50) / (100 + 200)
    assert registry_coverage(v) == pytest.approx(130 / 300)
    assert registry_coverage(v.drop(columns="pop_registry")) is None
    assert registry_coverage(v.drop(columns="pop")) is None
    none_covered = v.assign(households_registry=0)
    assert registry_coverage(none_covered) is None  # no covered people: no ratio


def test_apply_hamlet_households_layer_then_estimate() -> None:
    h = pd.DataFrame({"pop": [10.0, 1.0, 0.0, np.nan, 12.0],
                      "households": [np.nan, np.nan, np.nan, np.nan, 7.0]})
    out = apply_hamlet_households(h, size=4.0)
    # 10/4 = 2.5 -> round half to even 2; 1/4 -> at least 1; 0 people -> 0; unknown -> nan;
    # the layer's 7 wins over 12/4
    np.testing.assert_array_equal(out["households"].to_numpy(float), [2, 1, 0, np.nan, 7])
    assert out["households_source"].tolist() == [
        "pop_div_household_size", "pop_div_household_size", "pop_div_household_size", "none",
        "hamlets_layer"]
    assert "households_source" not in h.columns
    whole = apply_hamlet_households(pd.DataFrame({"pop": [9.0, 3.0]}), size=3.0)
    assert whole["households"].dtype == np.int64 and whole["households"].tolist() == [3, 1]


# --------------------------------------------------------------------------- inputs


def test_accepted_words() -> None:
    true, false = accepted_words()
    assert {"是", "有", "y", "yes", "true", "1"} <= true
    assert {"否", "无", "n", "no", "false", "0"} <= false
    assert not true & false
    assert all(w == w.lower() for w in true | false)
    assert "贫困户" not in true
    ptrue, pfalse = accepted_words("poor")
    assert {"贫困户", "poor"} <= ptrue and {"非贫困户", "not_poor"} <= pfalse
    assert true < ptrue and false < pfalse
    assert accepted_words("no_such_column") == (true, false)


@pytest.mark.parametrize(("header", "key"), [
    (" 村 代码 ", "村代码"),
    ("Village_Code", "villagecode"),
    ("户籍人口（人）", "户籍人口(人)"),
    ("poor-pop\t", "poorpop"),
    (12, "12"),
    ("", ""),
])
def test_normalise_header(header: object, key: str) -> None:
    assert normalise_header(header) == key


# --------------------------------------------------------------------------- settings / yaml


def test_is_run_config() -> None:
    assert is_run_config({"network": {}, "priorities": {}})
    assert is_run_config({"relocation": None})
    assert not is_run_config({})
    assert not is_run_config({"network": {}, "villages": {}})  # a region manifest key


def test_load_run_config(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("network:\n  season: rainy\npriorities:\n  budget_cny: 5\n", encoding="utf-8")
    assert load_run_config(f) == {"network": {"season": "rainy"},
                                  "priorities": {"budget_cny": 5}}
    f.write_text("netwrok:\n  season: rainy\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key 'netwrok': did you mean 'network'"):
        load_run_config(f)
    f.write_text("network: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'network'"):
        load_run_config(f)


def test_parse_yaml_text_refuses_duplicate_keys_with_lines() -> None:
    assert parse_yaml_text("a: 1\nb: {c: 2}\n", "x.yaml") == {"a": 1, "b": {"c": 2}}
    with pytest.raises(ConfigError) as err:
        parse_yaml_text("a: 1\nb:\n  c: 2\n  c: 3\n", "x.yaml")
    # the second 'c' is on line 4, column 3; the first on line 3
    assert str(err.value).startswith("x.yaml: line 4, column 3: duplicate key 'c'")
    assert "first at line 3" in str(err.value)


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text", "a: [1\n"])
def test_parse_yaml_text_refuses_non_mappings_and_bad_syntax(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^x\.yaml: "):
        parse_yaml_text(text, "x.yaml")


class _Inner(StrictModel):
    mode: Literal["vehicle", "walk"] = "vehicle"
    speed: float = 1.0


class _Outer(StrictModel):
    name: str
    inner: _Inner = _Inner()


def _error(data: dict[str, object]) -> str:
    with pytest.raises(PydanticValidationError) as err:
        _Outer.model_validate(data)
    return str(config_error(err.value, _Outer, source="f.yaml", missing_hint=" (see docs)"))


def test_config_error_messages() -> None:
    assert _error({"name": "a", "inner": {"speeed": 2}}) == \
        "f.yaml: unknown key 'inner.speeed': did you mean 'speed'?"
    assert _error({"name": "a", "inner": {"mode": "wlak"}}) == \
        "f.yaml: unknown value 'wlak' at 'inner.mode': did you mean 'walk'?"
    assert _error({}) == "f.yaml: missing required key 'name' (see docs)"
    # the unknown key is named first, the missing one counted
    assert _error({"nmae": "a"}) == \
        "f.yaml: unknown key 'nmae': did you mean 'name'? (and 1 more problem(s))"
    text = _error({"name": "a", "inner": {"speed": "fast"}})
    assert text.startswith("f.yaml: 'inner.speed': ") and "(got 'fast')" in text


# --------------------------------------------------------------------------- coverage


def test_repair_polygons_keeps_valid_and_repairs_bow_tie() -> None:
    bow_tie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])  # self-intersecting at (1, 1)
    good = box(0, 0, 1, 1)
    geoms = np.array([good, bow_tie, None], dtype=object)
    with pytest.warns(DataQualityWarning, match="zones: repaired 1 invalid polygon"):
        out = repair_polygons(geoms)
    assert out[0] is good and out[2] is None
    assert out[1].is_valid and out[1].geom_type == "MultiPolygon"
    # the two triangles of the bow tie: area 2 x (2 x 1 / 2) = 2
    assert out[1].area == pytest.approx(2.0)
    assert geoms[1] is bow_tie  # input untouched
    same = np.array([good], dtype=object)
    assert repair_polygons(same) is same  # nothing to repair: the same array back
    assert repair_polygons(np.array([], dtype=object)).size == 0


def test_repair_polygons_drops_non_polygonal_parts() -> None:
    # a polygon collapsed to a line: make_valid gives a line, no polygonal part -> empty
    flat = Polygon([(0, 0), (1, 0), (2, 0), (0, 0)])
    with pytest.warns(DataQualityWarning):
        out = repair_polygons(np.array([flat], dtype=object))
    assert shapely.is_empty(out[0]) and out[0].geom_type == "Polygon"
