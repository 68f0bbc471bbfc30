"""plan_map.html: the plan's layers and cards (by hand), escaped text, offline page."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from contigmap.render.plan_map import YEAR_COLOURS, plan_layers, render_plan_map

EVIL = "<script>alert(1)</script>"


def _inputs() -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    villages = gpd.GeoDataFrame(
        {"village_id": ["V1", "V2", "V3"], "name": ["甲村", EVIL, "丙村"],
         "township_id": ["T1", "T1", "T2"], "township_name": ["东乡", "东乡", "西乡"]},
        geometry=[Point(109.4, 28.5), Point(109.5, 28.6), Point(109.6, 28.4)], crs=4326)
    projects = pd.DataFrame({
        "project_id": ["P-roads-V1", "P-water-V1", "P-water-V2", "P-power-V2"],
        "year": [2016, 2017, 2017, 2017], "village_id": ["V1", "V1", "V2", "V2"],
        "village_name": ["甲村", "甲村", EVIL, EVIL], "township_name": ["东乡"] * 4,
        "intervention": ["roads", "water", "water", "power"],
        "works": ["道路：硬化", "饮水安全：打井", "饮水安全：打井", "电力：电网延伸"],
        "option": ["harden", "well", "well", "grid"],
        "cost_cny": [1_200_000.0, 300_000.0, 250_000.0, 2_000_000.0],
        "funding_source": ["交通专项", "", "涉农整合", ""],
        "poor_beneficiaries": [100.0, 40.0, 30.0, 60.0]})
    return projects, villages


def test_layers_by_year_and_cards_by_hand() -> None:
    projects, villages = _inputs()
    first, y16, y17 = plan_layers(projects, [2016, 2017], villages)
    assert first.data is not None and y16.data is not None and y17.data is not None
    cards = first.data.set_index("village_id")
    assert sorted(cards.index) == ["V1", "V2"]  # V3 has no works
    assert cards.at["V1", "first_year"] == "2016" and cards.at["V2", "first_year"] == "2017"
    assert cards.at["V1", "2016"] == "道路：硬化 · 120.0 万元 · 交通专项"
    assert cards.at["V1", "2017"] == "饮水安全：打井 · 30.0 万元"
    assert cards.at["V2", "2016"] == ""
    assert cards.at["V2", "total"] == "2 项，225.0 万元，贫困受益 90 人"
    # 2016: one work, 100 poor; 2017: three works, 100 + 130 = 230 poor so far
    assert y16.name.startswith("2016：1 项 120 万元，累计贫困受益 100 人")
    assert y17.name.startswith("2017：3 项 255 万元，累计贫困受益 230 人")
    assert sorted(y17.data["village_id"]) == ["V1", "V2"]
    assert set(y17.data["layer_year"]) == {"2017"} and first.color_map["2016"] == YEAR_COLOURS[0]
    assert first.show and not y16.show and not y17.show


@pytest.mark.slow
def test_page_is_offline_and_escaped(tmp_path: Path) -> None:
    projects, villages = _inputs()
    out = render_plan_map(tmp_path / "plan_map.html", projects, [2016, 2017], villages,
                          title=f"县 {EVIL}", roads=None)
    page = out.read_text(encoding="utf-8")
    assert EVIL not in page
    assert not re.search(r'<script[^>]*src="http|<link[^>]*href="http', page)  # inlined
    assert "2016：1 项" in page
