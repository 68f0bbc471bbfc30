from __future__ import annotations

import pytest

from contigmap.columns import column_dictionary, describe_column, register_columns
from contigmap.errors import ValidationError
from contigmap.overlay import INFRASTRUCTURE_COLUMNS
from contigmap.poverty import POVERTY_COLUMNS
from contigmap.terrain import TERRAIN_COLUMNS


def test_every_column_of_my_stages_is_described() -> None:
    table = column_dictionary()
    assert list(table.columns) == ["name", "meaning_en", "meaning_zh", "unit", "source"]
    names = set(table["name"])
    for col in (*POVERTY_COLUMNS, *TERRAIN_COLUMNS, *INFRASTRUCTURE_COLUMNS.values(),
                "zone_area_km2", "hazard_<layer>_share", "eco_<layer>_inside"):
        assert col in names, col
    assert table["meaning_zh"].str.len().gt(0).all()
    info = describe_column("poor_pop")
    assert info is not None and info.source == "villages, households / poverty"
    assert "estimate" in info.meaning_en and info.unit == "people"
    for col in ("households_source", "poor_pop_source", "pop_basis", "poor_households"):
        assert col in names, col


def test_register_forms_and_errors() -> None:
    from contigmap import columns

    register_columns([("test_x_m", "x", "甲", "m", "test"),
                      {"name": "test_y", "meaning_en": "y", "meaning_zh": "乙", "unit": "",
                       "source": "test"}])
    assert describe_column("test_x_m") is not None
    assert describe_column("test_y") is not None
    with pytest.raises(ValidationError, match="lacks field"):
        register_columns([{"name": "bad"}])
    with pytest.raises(ValidationError, match="must be"):
        register_columns([("too", "short")])  # type: ignore[list-item]
    for name in ("test_x_m", "test_y"):  # keep the shared registry clean for other tests
        columns._REGISTRY.pop(name)


def test_docs_columns_md_is_current() -> None:
    from pathlib import Path

    from contigmap.columns import column_dictionary_markdown

    doc = Path(__file__).resolve().parents[1] / "docs" / "columns.md"
    assert doc.read_text(encoding="utf-8") == column_dictionary_markdown(), (
        "docs/columns.md is stale: run `contigmap columns --markdown > docs/columns.md`"
    )


def test_no_pattern_documented_that_no_stage_fills() -> None:
    # road_dist_<kind>_m was documented but no run produced it; along-road distances are
    # registered under their concrete name when the network hook makes them
    names = set(column_dictionary()["name"])
    assert not any("<kind>" in n for n in names)
    assert {n for n in names if "<" in n} <= {
        f"{prefix}_<layer>_{suffix}" for prefix in ("hazard", "eco")
        for suffix in ("share", "inside", "wshare", "wmax", "mean", "max", "points",
                       "threatened", "radius_m")}


def test_dictionary_snapshot_reads_once_until_the_block_ends() -> None:
    from contigmap.columns import _REGISTRY, dictionary_snapshot

    name = "zz_snapshot_probe"
    try:
        with dictionary_snapshot():
            before = column_dictionary()
            register_columns([(name, "probe", "探针", "m", "test")])
            assert describe_column(name) is None  # the reading of the block's start
            assert len(column_dictionary()) == len(before)
        assert describe_column(name) is not None  # read afresh after the block
    finally:
        _REGISTRY.pop(name, None)
