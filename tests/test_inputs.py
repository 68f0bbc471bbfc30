from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from contigmap.cli.main import cli
from contigmap.inputs import (
    INPUT_ROLES,
    X_ALIASES,
    Y_ALIASES,
    inputs_markdown,
    match_column,
    value_vocabularies,
)
from contigmap.schema import BOOLEAN_FALSE, BOOLEAN_TRUE, ROLE_SCHEMAS


def test_docs_inputs_md_is_current() -> None:
    doc = Path(__file__).resolve().parents[1] / "docs" / "inputs.md"
    assert doc.read_text(encoding="utf-8") == inputs_markdown(), (
        "docs/inputs.md is stale: run `contigmap inputs --markdown > docs/inputs.md`"
    )


def test_cli_inputs_markdown_prints_the_document() -> None:
    result = CliRunner().invoke(cli, ["inputs", "--markdown"])
    assert result.exit_code == 0, result.output
    assert result.output == inputs_markdown()


def test_every_role_and_its_required_columns_are_documented() -> None:
    documented = {spec.role: {c.name for c in spec.columns} for spec in INPUT_ROLES}
    doc = inputs_markdown()
    for key, schema in ROLE_SCHEMAS.items():
        role = "hazards" if key.startswith("hazards") else key
        assert role in documented, key
        for col in (schema.id_column, *schema.required):
            assert col in documented[role], (key, col)
        assert f"## `{role}`" in doc
    assert "## `dem`" in doc


def test_vocabularies_come_from_the_validators() -> None:
    vocab = value_vocabularies()
    # the Chinese values check_layer translates, and the poverty causes, are listed
    assert ("county", ["县道", "县乡道"]) in vocab["road_class"]
    surface = dict(vocab["surface"])
    assert "水泥路面" in surface["paved"] and "砂石" in surface["gravel"]
    assert "卫生院" in dict(vocab["kind"])["health_centre"]
    assert "因病致贫" in dict(vocab["cause"])["illness"]
    assert dict(vocab["boolean"]) == {"true": list(BOOLEAN_TRUE), "false": list(BOOLEAN_FALSE)}
    # every documented boolean word: 是/否, 有/无, Y/N, yes/no, true/false, 1/0
    assert set(BOOLEAN_TRUE) == {"是", "有", "y", "yes", "true", "1"}
    assert set(BOOLEAN_FALSE) == {"否", "无", "n", "no", "false", "0"}


def test_common_chinese_headers_map_to_canonical_columns() -> None:
    cases = {
        ("villages", "村代码"): "village_id",
        ("villages", "行政区划代码"): "village_id",
        ("villages", "村委会"): "name",
        ("villages", "乡镇代码"): "township_id",
        ("villages", "乡镇名称"): "township_name",
        ("villages", "户籍人口"): "pop",
        ("villages", "总人口（人）"): "pop",
        ("villages", "户数"): "households",
        ("roads", "道路等级"): "road_class",
        ("roads", "技术等级"): "tech_grade",
        ("roads", "路面类型"): "surface",
        ("roads", "桥梁"): "bridge",
        ("roads", "隧道"): "tunnel",
        ("hazards.landslide", "易发程度"): "hazard_class",
        ("hazards", "威胁人数"): "threatened_people",
        ("households", "户编号"): "household_id",
        ("households", "家庭人口"): "members",
        ("households", "是否贫困户"): "poor",
        ("households", "致贫原因"): "cause",
        ("households", "人均纯收入"): "income_per_person",
        ("roads", "Road_Class"): "road_class",
    }
    for (role, header), canonical in cases.items():
        assert match_column(role, header) == canonical, (role, header)
    assert match_column("roads", "备注") is None
    assert match_column("nonsense", "村代码") is None


def test_coordinate_aliases_cover_the_loaders_names() -> None:
    from contigmap.io import tables as layers

    assert set(layers._X_NAMES) <= set(X_ALIASES)
    assert set(layers._Y_NAMES) <= set(Y_ALIASES)
