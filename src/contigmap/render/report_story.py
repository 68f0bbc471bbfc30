"""The story a county meeting follows, as report sections with charts.

Who is poor and why → where access is worst → what each intervention funds first
within the budget → what the scenarios change → who should move where → how stable
the ranks are when the weights move. Each part is a :class:`~contigmap.render.report_doc.Section`
built from the run's own tables (the indicator table for access, the priority tables
for the budget, the scenario and relocation summaries, the sensitivity runs); its chart
is drawn by :mod:`contigmap.render.report_charts` into ``chart_dir`` and its numbers are
printed under it. A part whose data the run did not produce is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from contigmap.finance import fmt_wan
from contigmap.indicators import county_indicators
from contigmap.priority.registry import REGISTRY
from contigmap.render.report_charts import (
    TT_COLUMN,
    ChartSpec,
    budget_curve_data,
    budget_summary_data,
    cause_share_data,
    draw_chart,
    scenario_bar_data,
    stability_data,
    travel_time_data,
)
from contigmap.render.report_doc import (
    Block,
    Chart,
    Column,
    Facts,
    Figure,
    KeyFigures,
    Note,
    Section,
    Table,
    is_missing,
)

__all__ = ["STORY_TITLES", "ReportStory", "access_sections", "budget_section", "later_sections",
           "poverty_section", "township_pages"]

STORY_TITLES: Final[dict[str, tuple[str, str]]] = {
    "poverty": ("一、谁贫困，为什么", "1. Who is poor and why"),
    "access": ("二、哪里出行最难", "2. Where access is worst"),
    "budget": ("三、预算内先做什么", "3. What the budget funds first"),
    "scenarios": ("四、方案带来什么变化", "4. What the scenarios change"),
    "relocation": ("五、谁该搬迁、搬到哪里", "5. Who should move where"),
    "stability": ("六、排序是否稳定", "6. How stable the ranks are"),
}
"""Headings of the story's parts, in order (Chinese, English)."""

Fmt = Callable[[Any], str]


@dataclass(frozen=True)
class ReportStory:
    """What the story reads besides the village and indicator tables (all optional).

    Attributes
    ----------
    priorities
        Ranked table per intervention (:class:`contigmap.priority.run.PriorityResults`).
    budget_cny
        The budget each intervention's list is funded down (``None``: no budget).
    sensitivity
        Weight perturbations per intervention (``PriorityResults.sensitivity``).
    scenarios
        ``(name, title, summary)`` per scenario
        (:class:`contigmap.scenario.ScenarioResult`).
    relocation
        The relocation plan's summary; ``relocation_sites`` its sites with
        ``site_name``, ``load_people``, ``capacity_people``.
    township_maps
        ``{township_id: png}`` (:func:`contigmap.render.static_towns.render_township_maps`),
        one on each township page.
    """

    priorities: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    budget_cny: float | None = None
    sensitivity: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    scenarios: Sequence[tuple[str, str, Mapping[str, Any]]] = ()
    relocation: Mapping[str, Any] | None = None
    relocation_sites: pd.DataFrame | None = None
    township_maps: Mapping[str, Path] = field(default_factory=dict)


def _n(v: Any) -> str:
    return "–" if is_missing(v) else f"{float(v):,.0f}"


def _pct(v: Any) -> str:
    return "–" if is_missing(v) else f"{float(v):.1%}"


def _wan(v: Any) -> str:
    return "–" if is_missing(v) else fmt_wan(float(v), 0)


def _minutes(v: Any) -> str:
    return "无路可达" if not is_missing(v) and np.isinf(float(v)) else _n(v)


def _txt(v: Any) -> str:
    return "–" if is_missing(v) else str(v)


def _table(frame: pd.DataFrame, spec: Sequence[tuple[str, str, Fmt, bool]]) -> Table:
    """Format ``frame``'s columns as a table: (column, Chinese header, format, numeric) each."""
    cols = tuple(Column(c, zh, num) for c, zh, _, num in spec)
    rows = tuple(tuple(fmt(row[c]) for c, _, fmt, _ in spec)
                 for _, row in frame.iterrows())
    return Table(cols, rows)


def _chart(spec: ChartSpec, chart_dir: Path, table: Table) -> Chart:
    path = draw_chart(spec, chart_dir / f"{spec.key}.png")
    return Chart(spec.key, Figure(path, spec.title_zh, spec.title_en), table)


def _section(key: str, blocks: Sequence[Block]) -> Section:
    zh, en = STORY_TITLES[key]
    return Section(2, zh, en, tuple(blocks))


# --------------------------------------------------------------------------- parts


def poverty_section(villages: pd.DataFrame, chart_dir: Path) -> Section | None:
    """Who is poor and why: poor people by main cause (a bar chart)."""
    data = cause_share_data(villages)
    if not len(data):
        return None
    spec = ChartSpec("causes", "causes", "致贫原因构成", "Poor people by main cause", data)
    table = _table(data, [("cause", "致贫原因", _txt, False), ("poor_pop", "贫困人口", _n, True),
                          ("share", "占比", _pct, True)])
    top = data.iloc[0]
    note = Note((f"首要致贫原因：{top['cause']}，约占贫困人口的 {top['share']:.0%}。",))
    return _section("poverty", [note, _chart(spec, chart_dir, table)])


def access_sections(villages: pd.DataFrame, indicators: pd.DataFrame,
                    chart_dir: Path, *, slowest: int = 10) -> Section | None:
    """Where access is worst: RAI, villages without a hardened road, travel-time chart."""
    data = travel_time_data(villages)
    county = county_indicators(indicators)
    figures = [(zh, en, fmt(county.get(k))) for k, zh, en, fmt in (
        ("rai", "农村通达指数", "Rural Access Index", _pct),
        ("villages_without_hardened_road", "未通硬化路到乡镇的村", "villages without a "
         "hardened road", _n),
        ("share_within_30min_seat", "30分钟内到乡镇驻地的人口", "people within 30 min", _pct),
        ("share_within_60min_seat", "60分钟内到乡镇驻地的人口", "people within 60 min", _pct),
    ) if k in county.index]
    if not len(data) and not figures:
        return None
    blocks: list[Block] = []
    if figures:
        blocks.append(KeyFigures(tuple(figures)))
    if len(data):
        spec = ChartSpec("travel_time", "travel_time", "到本乡镇驻地的出行时间分布",
                         "People by travel time to their own township seat", data)
        table = _table(data, [("band", "分钟", _txt, False), ("villages", "村数", _n, True),
                              ("pop", "人口", _n, True), ("pop_share", "人口占比", _pct, True)])
        blocks.append(_chart(spec, chart_dir, table))
        slow = villages.assign(**{TT_COLUMN: pd.to_numeric(villages[TT_COLUMN], errors="coerce")})
        slow = slow.nlargest(slowest, TT_COLUMN)
        cols = [("name", "村名", _txt, False), ("township_name", "乡镇", _txt, False),
                (TT_COLUMN, "到本乡镇驻地（分钟）", _minutes, True),
                ("pop", "人口", _n, True), ("poor_pop", "贫困人口", _n, True)]
        blocks.append(Note((f"出行最慢的 {len(slow)} 个村 / the {len(slow)} slowest villages",)))
        blocks.append(_table(slow, [c for c in cols if c[0] in slow.columns]))
    return _section("access", blocks)


def budget_section(story: ReportStory, chart_dir: Path) -> Section | None:
    """Show what each intervention funds first within the budget: the budget curves."""
    curves = {REGISTRY[iv].label_zh if iv in REGISTRY else iv:
              budget_curve_data(t, iv, story.budget_cny)
              for iv, t in story.priorities.items() if f"{iv}_rank" in t.columns}
    if not curves:
        return None
    data = budget_summary_data(curves)
    spec = ChartSpec("budget", "budget", "投资与受益贫困人口（按优先顺序累计）",
                     "Poor people reached vs money spent, down each ranked list", data,
                     curves=curves, budget_cny=story.budget_cny)
    table = _table(data, [
        ("intervention", "项目", _txt, False), ("units_within_budget", "预算内个数", _n, True),
        ("capex_within_budget_cny", "预算内投资（万元）", _wan, True),
        ("poor_within_budget", "预算内受益贫困人口", _n, True), ("units", "全部个数", _n, True),
        ("capex_cny", "全部投资（万元）", _wan, True),
        ("poor_beneficiaries", "全部受益贫困人口", _n, True)])
    budget = ("未设预算：按排序全部列出" if story.budget_cny is None else
              f"每项预算 {fmt_wan(story.budget_cny, 0)} 万元，按排序依次安排，直到下一个放不下为止")
    return _section("budget", [Note((budget,)), _chart(spec, chart_dir, table)])


def _scenario_section(story: ReportStory, chart_dir: Path) -> Section | None:
    data = scenario_bar_data(story.scenarios)
    if not len(data):
        return None
    spec = ChartSpec("scenarios", "scenarios", "各方案实施前后的农村通达指数",
                     "Rural Access Index before and after each scenario", data)
    table = _table(data, [
        ("scenario", "方案", _txt, False), ("rai_before", "现状 RAI", _pct, True),
        ("rai_after", "实施后 RAI", _pct, True), ("poor_gaining", "受益贫困人口", _n, True),
        ("pop_lost_access", "失去通达的人口", _n, True), ("cost_cny", "投资（万元）", _wan, True)])
    return _section("scenarios", [_chart(spec, chart_dir, table)])


def _relocation_section(story: ReportStory) -> Section | None:
    s = story.relocation
    if s is None:
        return None
    items = [(zh, en, fmt(s.get(k))) for k, zh, en, fmt in (
        ("people_to_relocate", "建议搬迁人口", "people to relocate", _n),
        ("to_relocate", "建议搬迁的自然村", "settlements to relocate", _n),
        ("sites_used", "使用的安置点", "receiving sites used", _n),
        ("relocation_cny", "搬迁投资（万元）", "cost, 10k CNY", _wan),
        ("mean_travel_time_min", "平均搬迁路程（分钟）", "mean travel time, min", _n),
        ("people_leaving_township", "跨乡镇搬迁人口", "people leaving their township", _n),
    ) if k in s]
    blocks: list[Block] = [Facts(tuple(items))]
    sites = story.relocation_sites
    if sites is not None and len(sites) and "load_people" in sites.columns:
        used = sites[pd.to_numeric(sites["load_people"]) > 0]
        used = used.sort_values("load_people", ascending=False, kind="stable")
        cols = [("site_name", "安置点", _txt, False), ("load_people", "安置人口", _n, True),
                ("capacity_people", "容量（人）", _n, True), ("load_share", "使用率", _pct, True)]
        blocks.append(_table(used, [c for c in cols if c[0] in used.columns]))
    return _section("relocation", blocks)


def _stability_section(story: ReportStory, chart_dir: Path) -> Section | None:
    data = stability_data(story.sensitivity)
    if not len(data):
        return None
    spec = ChartSpec("stability", "stability", "权重变化时前N名的保留比例",
                     "Share of the top villages kept when the weights move", data)
    table = _table(data, [
        ("intervention", "项目", _txt, False), ("top_n", "前N名", _n, True),
        ("kept_mean_share", "平均保留", _pct, True), ("kept_min_share", "最少保留", _pct, True),
        ("spearman_min", "最低秩相关", lambda v: "–" if is_missing(v) else f"{v:.3f}", True)])
    note = Note(("权重随机扰动后，原前N名中仍在前N名的比例；越接近100%越稳定。",))
    return _section("stability", [note, _chart(spec, chart_dir, table)])


def _funded_by_township(story: ReportStory, first: int
                        ) -> Callable[[str], pd.DataFrame]:
    """Return ``funded(township_id)``: per intervention, what the budget funds there first.

    Each row gives the intervention, the units in budget, their cost and the first names
    in rank order (0 and no names where nothing is funded). Each intervention's table is
    split by township once, not filtered again for every township.
    """
    parts: list[tuple[str, str, dict[str, pd.DataFrame], pd.DataFrame]] = []
    for iv, t in story.priorities.items():
        wb = f"{iv}_within_budget"
        if wb not in t.columns or "township_id" not in t.columns:
            continue
        chosen = t[t[wb].astype(bool)].sort_values(f"{iv}_rank", kind="stable")
        groups = {str(k): g for k, g in chosen.groupby(chosen["township_id"].astype(str),
                                                        sort=False)}
        parts.append((iv, REGISTRY[iv].label_zh if iv in REGISTRY else iv, groups,
                      chosen.iloc[:0]))

    def funded(township_id: str) -> pd.DataFrame:
        rows = []
        for iv, label, groups, empty in parts:
            here = groups.get(township_id, empty)
            rows.append({"intervention": label, "units": len(here),
                         "capex_cny": float(pd.to_numeric(here[f"{iv}_capex_cny"]).sum()),
                         "names": "、".join(str(n) for n in here["name"].head(first))
                         if "name" in here.columns else ""})
        return pd.DataFrame(rows, columns=["intervention", "units", "capex_cny", "names"])

    return funded


def township_pages(indicators: pd.DataFrame, story: ReportStory, *,
                   first: int = 5) -> list[Section]:
    """One printed page per township: its figures and what the budget funds there first."""
    from contigmap.indicators import township_indicators

    towns = township_indicators(indicators)
    if not len(towns):
        return []
    funded_in = _funded_by_township(story, first)
    pages = [Section(2, "各乡镇简报", "Township pages", (Note((
        "每个乡镇单独一页，便于分发到乡镇 / one printed page per township",)),))]
    for _, town in towns.iterrows():
        figures = KeyFigures(tuple((zh, en, fmt(town.get(k))) for k, zh, en, fmt in (
            ("villages", "行政村", "villages", _n), ("pop", "人口", "people", _n),
            ("poor_pop", "贫困人口", "poor people", _n),
            ("poverty_incidence", "贫困发生率", "poverty incidence", _pct),
            ("rai", "农村通达指数", "Rural Access Index", _pct),
            ("villages_without_hardened_road", "未通硬化路的村", "no hardened road", _n),
        ) if k in town.index))
        blocks: list[Block] = [figures]
        town_map = story.township_maps.get(str(town["township_id"]))
        if town_map is not None:
            name = str(town.get("name", town["township_id"]))
            blocks.append(Figure(Path(town_map), f"{name}：村庄与道路",
                                 f"{town['township_id']}: villages and roads"))
        funded = funded_in(str(town["township_id"]))
        if len(funded):
            blocks.append(_table(funded, [
                ("intervention", "项目", _txt, False), ("units", "预算内个数", _n, True),
                ("capex_cny", "预算内投资（万元）", _wan, True),
                ("names", f"优先安排（前 {first} 个）", _txt, False)]))
        pages.append(Section(3, str(town.get("name", town["township_id"])),
                             f"township {town['township_id']}", tuple(blocks), page=True))
    return pages


def later_sections(story: ReportStory, chart_dir: Path) -> list[Section]:
    """Scenarios, relocation and stability sections (those the run produced), in order."""
    parts = (_scenario_section(story, chart_dir), _relocation_section(story),
             _stability_section(story, chart_dir))
    return [p for p in parts if p is not None]
