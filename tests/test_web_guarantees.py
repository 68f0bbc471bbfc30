"""The 两不愁三保障 village theme of the web map (render/web_guarantees.py, brief s16a)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from contigmap.priority.guarantees import guarantees
from contigmap.render import render_web_map
from contigmap.render.web_guarantees import (
    GUARANTEES_COLUMN,
    guarantee_card_html,
    guarantee_tooltip,
    guarantees_indicator,
    with_guarantees,
)
from contigmap.render.web_popup import village_card_html
from tests.browser import small_region
from tests.test_guarantees import _small


def _table() -> tuple[pd.DataFrame, pd.DataFrame]:
    villages, hamlets = _small()  # the hand-made case of the guarantees' own tests
    return villages, guarantees(villages, hamlets)


def test_counts_met_and_joins_by_village_id() -> None:
    villages, table = _table()
    # by hand (tests/test_guarantees.py): V1 meets roads, water; V2 broadband, housing;
    # V3 all four; the table's rows are joined by id, not by position
    shuffled = villages.iloc[[2, 0, 1]]
    got = with_guarantees(shuffled, table.iloc[::-1])
    assert got["village_id"].tolist() == ["V3", "V1", "V2"]
    assert got[GUARANTEES_COLUMN].tolist() == [4, 2, 2]
    assert got["guarantees_listed"].tolist() == [4, 4, 4]
    assert got["g_housing_closes"].tolist() == ["", "rebuild", ""]
    assert "housing_option" in got and got["housing_option"].tolist() == ["none", "rebuild", "none"]


def test_theme_classes_and_legend() -> None:
    villages, table = _table()
    spec = guarantees_indicator(with_guarantees(villages, table))
    assert spec is not None
    assert [(c.value, c.label_zh, c.label_en) for c in spec.categories] == [
        ("4", "全部达标", "all met"), ("2", "达标 2/4 项", "2 of 4 met")]
    assert spec.color_of([4, 2, None]) == ["#1a9850", "#fee08b", "#bdbdbd"]
    assert guarantees_indicator(villages) is None


def test_card_and_tooltip_list_unmet_guarantees_and_closing_works() -> None:
    villages, table = _table()
    rows = with_guarantees(villages, table).to_dict("records")
    v1, v2, v3 = rows
    card = guarantee_card_html(v1)
    # V1: broadband closed by its hamlets' fibre and satellite, housing by rebuilding
    assert re.findall(r"<tr><th>([^<]+)<br>", card) == ["通宽带", "住房安全有保障"]
    assert "沿路光纤、卫星" in card and "拆除重建" in card and "达标 <b>2/4</b>" in card
    # V2: no roads_option column, so the gap is closed by the roads intervention itself
    assert "<td>道路</td>" in guarantee_card_html(v2) and "集中供水管网" in guarantee_card_html(v2)
    assert "全部达标" in guarantee_card_html(v3) and "<table>" not in guarantee_card_html(v3)
    assert guarantee_tooltip(v1) == "<br>两不愁三保障 达标 2/4<br>未达标：通宽带；住房安全有保障"
    assert guarantee_tooltip({"name": "x"}) == "" and guarantee_card_html({"name": "x"}) == ""
    full = village_card_html(v1)
    assert full.index("两不愁三保障") < full.index("村情")


def test_the_map_gets_the_theme_with_its_own_tooltips(tmp_path: Path) -> None:
    region = small_region()
    villages = region["villages"]
    table = pd.DataFrame({"village_id": villages["village_id"],
                          "roads_met": [True, False, True, True, False, True],
                          "roads_closes": ["", "harden", "", "", "new_road", ""],
                          "water_met": [True, True, False, True, False, True],
                          "water_closes": ["", "", "well", "", "piped", ""]})
    out = render_web_map(tmp_path / "map.html", **region, guarantees=table, title="测试",
                         source_note="test", illustrative=True)
    page = out.read_text(encoding="utf-8")
    assert "两不愁三保障达标情况 Guarantees met" in page
    m = re.search(r'n:"两不愁三保障达标情况 Guarantees met",pal:(\[.*?\]),c:(\[.*?\]),tt:', page)
    assert m is not None
    pal, c = json.loads(m.group(1)), json.loads(m.group(2))
    assert [pal[k] for k in c] == ["#1a9850", "#fee08b", "#fee08b", "#1a9850", "#d73027",
                                   "#1a9850"]
    assert "未达标：通硬化路；饮水安全有保障" in page  # village 4 (index 4) misses both
