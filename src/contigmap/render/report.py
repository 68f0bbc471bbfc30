"""County reports: an HTML and a Markdown summary, and XLSX tables.

The summary gives the county's headline figures (people, poor people, poverty
incidence, villages per township), the static maps, and the top villages of each
registered intervention (:data:`contigmap.priority.registry.REGISTRY`). The workbook
holds the village profile and one sheet per intervention, with a Chinese header row
above the English column names (:mod:`contigmap.render.report_xlsx`).

The report is built once as a document (:func:`build_report`,
:mod:`contigmap.render.report_doc`) and rendered to HTML
(:mod:`~contigmap.render.report_html`, escaped with :func:`html.escape`, maps embedded)
and to Markdown (:mod:`~contigmap.render.report_md`, escaped for Markdown, maps linked).
Headline figures are read from the run's indicator table
(:func:`contigmap.indicators.headline_indicators`), where they are defined once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final

import pandas as pd

from contigmap.errors import ValidationError
from contigmap.indicators import (
    county_indicators,
    headline_indicators,
    is_estimate,
    township_indicators,
)
from contigmap.io.write import atomic_path
from contigmap.priority.intervention import Intervention
from contigmap.priority.registry import REGISTRY, get, label_zh
from contigmap.priority.tiers import tier_label
from contigmap.render.report_doc import (
    COLUMN_LABELS_ZH,
    Block,
    Chart,
    Facts,
    Figure,
    KeyFigures,
    Note,
    Report,
    Section,
    Table,
    fact_items,
    is_missing,
)
from contigmap.render.report_html import render_html
from contigmap.render.report_md import render_markdown
from contigmap.render.report_story import (
    ReportStory,
    access_sections,
    budget_section,
    later_sections,
    poverty_section,
    township_pages,
)
from contigmap.render.report_tables import intervention_table, reported_interventions
from contigmap.render.report_xlsx import write_tables_xlsx
from contigmap.schema import ROAD_CLASS_ZH, SURFACE_ZH

__all__ = [
    "COLUMN_LABELS_ZH",
    "ReportStory",
    "build_report",
    "county_figures",
    "top_villages",
    "township_summary",
    "write_county_report",
    "write_tables_xlsx",
]

logger = logging.getLogger(__name__)

_FACT_LABELS: Final[dict[str, tuple[str, str, str]]] = {
    # key: (Chinese, English, format)
    "area_km2": ("面积", "area, km²", "{:,.0f}"),
    "townships": ("乡镇数", "townships", "{:,.0f}"),
    "villages": ("行政村（社区）数", "villages", "{:,.0f}"),
    "hamlets": ("自然村（组）数", "hamlets", "{:,.0f}"),
    "pop": ("人口", "people", "{:,.0f}"),
    "households": ("户数", "households", "{:,.0f}"),
    "registry_households": ("登记户数", "households in the registry", "{:,.0f}"),
    "poor_pop": ("贫困人口", "poor people", "{:,.0f}"),
    "poverty_incidence": ("贫困发生率", "poverty incidence", "{:.1%}"),
    "road_km": ("道路里程", "roads, km", "{:,.0f}"),
    "road_density_km_per_km2": ("路网密度", "road density, km/km²", "{:.2f}"),
}
_DICT_FACTS: Final[dict[str, tuple[str, Mapping[str, str]]]] = {
    "road_km_by_class": ("分等级道路里程（公里）", ROAD_CLASS_ZH),
    "road_km_by_surface": ("分路面道路里程（公里）", SURFACE_ZH),
}
_FIG_ROWS: Final[tuple[tuple[str, str, str], ...]] = (
    ("villages", "行政村（社区）", "villages"),
    ("townships", "乡镇", "townships"),
    ("pop", "人口", "people"),
    ("poor_pop", "贫困人口", "poor people"),
    ("poverty_incidence", "贫困发生率", "poverty incidence"),
)
_ILLUSTRATIVE: Final[str] = "示意数据 / illustrative data"
_ESTIMATE_NOTE: Final[str] = ("贫困人口为抽样估算值（村人口 × 抽样贫困发生率） / poor people are "
                              "estimates: village pop × the registry sample's incidence")


# --------------------------------------------------------------------------- figures


def county_figures(
    villages: pd.DataFrame, indicators: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Villages, townships, people, poor people and poverty incidence of the county.

    Read from the headline indicators (:func:`contigmap.indicators.headline_indicators`,
    computed from ``villages`` when not given): villages and people from the county
    row, townships as the number of township rows; incidence is Σ ``poor_pop`` /
    Σ ``pop_basis``, the same definition as in every other output.

    Parameters
    ----------
    villages
        The village table.
    indicators
        The run's headline indicators, optional.

    Returns
    -------
    dict
        ``villages``, ``townships``, ``pop``, ``poor_pop``, ``poverty_incidence``
        (``None`` when not computable).
    """
    if indicators is None:
        indicators = headline_indicators(villages)
    county = county_indicators(indicators)
    n_villages: Any = county.get("villages")
    out: dict[str, Any] = {
        "villages": len(villages) if is_missing(n_villages) else int(n_villages),
        "townships": (len(township_indicators(indicators))
                      if "township_id" in villages.columns else None),
    }
    for key in ("pop", "poor_pop"):
        value: Any = county.get(key)
        out[key] = None if is_missing(value) else round(float(value))
    rate: Any = county.get("poverty_incidence")
    out["poverty_incidence"] = None if is_missing(rate) else float(rate)
    return out


def township_summary(
    villages: pd.DataFrame, indicators: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Villages, people, poor people and incidence per township.

    Read from the township rows of the headline indicators
    (:func:`contigmap.indicators.headline_indicators`, computed from ``villages`` when
    not given).

    Parameters
    ----------
    villages
        The village table with ``township_id`` (and ``township_name``, ``pop``,
        ``poor_pop``, ``pop_basis`` when present).
    indicators
        The run's headline indicators, optional.

    Returns
    -------
    pandas.DataFrame
        One row per township, in order of township id: ``township_id``,
        ``township_name``, ``villages``, ``pop``, ``poor_pop``, ``poverty_incidence``
        (Σ poor people / Σ ``pop_basis``).
    """
    if "township_id" not in villages.columns:
        msg = "village table has no 'township_id' column; add it to count villages per township"
        raise ValidationError(msg)
    if indicators is None:
        indicators = headline_indicators(villages)
    towns = township_indicators(indicators).rename(columns={"name": "township_name"})
    return towns[["township_id", "township_name", "villages", "pop", "poor_pop",
                  "poverty_incidence"]].reset_index(drop=True)


def top_villages(
    villages: pd.DataFrame, key: str, *, n: int = 10, frame: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return the ``n`` highest-priority villages (hamlets) of one intervention.

    Parameters
    ----------
    villages
        The village table (ids and names; ``<key>_*`` columns when ``frame`` is None).
    key
        A registered intervention (``roads``).
    n
        How many.
    frame
        The intervention's own table (``village_id`` plus ``need``, ``tier``,
        ``rank``, ``capex_cny``, ``option``, ``reasons``, bare or prefixed, as
        :mod:`contigmap.priority` writes them), optional.

    Returns
    -------
    pandas.DataFrame
        The rows, lowest ``<key>_rank`` (else highest ``<key>_need``) first.

    Raises
    ------
    ConfigError
        ``key`` is not a registered intervention.
    """
    return intervention_table(villages, get(key), frame).head(n)


# --------------------------------------------------------------------------- document


def _top_table(table: pd.DataFrame, iv: Intervention) -> Table:
    """Pick the columns a top list shows (score and cost among them); options by label."""
    key = iv.name
    reasons = f"{key}_reasons_zh" if f"{key}_reasons_zh" in table.columns else f"{key}_reasons"
    wanted = ["name", "township_name", f"{key}_rank", f"{key}_tier", f"{key}_need",
              f"{key}_option", f"{key}_capex_cny", reasons]
    shown = table[[c for c in wanted if c in table.columns]].copy()
    tier, basis = f"{key}_tier", f"{key}_tier_basis"
    if tier in shown.columns:
        bases = table[basis] if basis in table.columns else pd.Series(None, index=table.index)
        shown[tier] = [v if is_missing(v) else f"{int(v)} {tier_label(v, b)[0]}"
                       for v, b in zip(shown[tier], bases, strict=True)]
    option = f"{key}_option"
    if option in shown.columns:
        shown[option] = [v if is_missing(v) else iv.option_label(str(v), "zh")
                         for v in shown[option]]
    return Table.from_frame(shown)


def _fig_value(key: str, value: Any) -> str:
    if is_missing(value):
        return "–"
    return f"{float(value):.1%}" if key == "poverty_incidence" else f"{float(value):,.0f}"


def _key_figures(figures: Mapping[str, Any], notes: Sequence[str]) -> Section:
    blocks: list[Block] = [KeyFigures(tuple(
        (zh, en, _fig_value(key, figures.get(key))) for key, zh, en in _FIG_ROWS))]
    if notes:
        blocks.append(Note(tuple(notes)))
    return Section(2, "主要指标", "Key figures", tuple(blocks))


def _map_title(key: str) -> tuple[str, str]:
    if key == "overview":
        return "概览图", "overview"
    return f"{label_zh(key)}优先级", f"{key.replace('_', ' ')} priority"


def build_report(
    region_title: str,
    *,
    villages: pd.DataFrame,
    indicators: pd.DataFrame,
    facts: Mapping[str, Any],
    tops: Mapping[str, pd.DataFrame],
    maps: Mapping[str, Path],
    front: Note | None = None,
    source_lines: Sequence[str] = (),
    byline: str = "contigmap",
    story: ReportStory | None = None,
    chart_dir: Path | None = None,
) -> Report:
    """Build the county report's document once, for every renderer.

    Parameters
    ----------
    region_title
        The county's name.
    villages, indicators
        The village table and the run's headline indicators (read for the key figures
        and the township table).
    facts
        Region facts (:func:`contigmap.facts.region_facts`).
    tops
        ``{intervention name: top rows}`` (:func:`top_villages`), in display order.
    maps
        ``{"overview" | name: png}``.
    front
        Note under the title (illustrative data, source).
    source_lines
        Where households and poor people come from, printed under the key figures.
    byline
        Line under the title.
    story, chart_dir
        The run's priorities, scenarios, relocation and sensitivity for the story's
        parts (:mod:`contigmap.render.report_story`), and the folder their charts are
        drawn into; without ``chart_dir`` the report has no story or charts.

    Returns
    -------
    Report
        The document.
    """
    figures = county_figures(villages, indicators)
    estimate = is_estimate(county_indicators(indicators))
    sections = [_key_figures(figures, ([_ESTIMATE_NOTE] if estimate else []) + list(source_lines))]
    rows = fact_items(facts, _FACT_LABELS, _DICT_FACTS, frozenset(k for k, _, _ in _FIG_ROWS))
    if rows:
        sections.append(Section(3, "区域概况", "Region facts", (Facts(rows),)))
    if "township_id" in villages.columns:
        towns = Table.from_frame(township_summary(villages, indicators))
        sections.append(Section(2, "各乡镇", "Villages per township", (towns,)))
    story_on = chart_dir is not None
    story = story or ReportStory()
    if story_on:
        assert chart_dir is not None
        sections += [s for s in (poverty_section(villages, chart_dir),
                                 access_sections(villages, indicators, chart_dir),
                                 budget_section(story, chart_dir)) if s is not None]
    for key, table in tops.items():
        n = len(table)
        sections.append(Section(2, f"{label_zh(key)}：优先村（前 {n} 个）",
                                f"{key}: top {n} villages", (_top_table(table, REGISTRY[key]),)))
    if story_on:
        assert chart_dir is not None
        sections += later_sections(story, chart_dir)
    if maps:
        sections.append(Section(2, "地图", "Maps", tuple(
            Figure(Path(p), *_map_title(k)) for k, p in maps.items())))
    if story_on:
        sections += township_pages(indicators, story)
    return Report(f"{region_title} 县域概况", "County summary", byline,
                  (front,) if front else (), tuple(sections))


def _front_note(illustrative: bool, source_note: str) -> Note | None:
    lines = ([_ILLUSTRATIVE] if illustrative else []) + (
        [f"数据来源 Source: {source_note}"] if source_note else [])
    return Note(tuple(lines), (illustrative,)) if lines else None


def _checked_maps(static_maps: Mapping[str, Path] | None) -> dict[str, Path]:
    maps = {k: Path(p) for k, p in (static_maps or {}).items()}
    for key, p in maps.items():
        if not p.is_file():
            msg = f"static map {key!r}: {p} does not exist; render it first or leave it out"
            raise ValidationError(msg)
    return maps


def write_county_report(
    out_dir: Path,
    *,
    villages: pd.DataFrame,
    region_title: str,
    facts: Mapping[str, Any] | None = None,
    interventions: Mapping[str, pd.DataFrame] | None = None,
    static_maps: Mapping[str, Path] | None = None,
    illustrative: bool = False,
    source_note: str = "",
    top_n: int = 10,
    report_date: date | None = None,
    indicators: pd.DataFrame | None = None,
    source_lines: Sequence[str] = (),
    story: ReportStory | None = None,
) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` and ``tables.xlsx`` for one county.

    Parameters
    ----------
    out_dir
        Output folder (created); each file is written atomically.
    villages
        The village table: ``village_id``, ``name``, ``township_id`` and, when present,
        ``township_name``, ``pop``, ``poor_pop``, ``poverty_incidence``, ``main_causes``
        and per intervention ``<name>_need``, ``_tier``, ``_rank``, ``_option``,
        ``_capex_cny``, ``_reasons`` (as :mod:`contigmap.priority` writes them).
    region_title
        The county's name (``花垣县``).
    facts
        Region facts (:func:`contigmap.facts.region_facts`); shown as a table.
    interventions
        ``{name: table}`` per registered intervention, each with ``village_id``;
        default: the ``<name>_*`` columns of ``villages``.
    static_maps
        ``{"overview" | name: png}`` (:func:`contigmap.render.static.render_static_maps`).
    illustrative, source_note, top_n
        Mark the data as illustrative; where the data come from; top villages listed.
    report_date
        Date under the title; none by default, so the same inputs give the same files.
    indicators
        The run's headline indicators (:func:`contigmap.indicators.headline_indicators`),
        read by the key figures and the township table; computed when not given.
    source_lines
        Where households and poor people come from, printed under the key figures
        (:func:`contigmap.poverty.poverty_source_lines`).
    story
        The run's priorities, budget, scenarios, relocation and sensitivity; the story's
        charts are drawn into ``out_dir / "charts"`` (also with no story: the poverty
        and access parts read ``villages`` and ``indicators``).

    Returns
    -------
    dict[str, pathlib.Path]
        ``{"html": ..., "md": ..., "xlsx": ...}`` and one ``chart_<key>`` per chart.

    Raises
    ------
    ValidationError
        No ``village_id`` or ``name`` column, an intervention table without
        ``village_id`` or not registered, or a missing map.
    """
    for col in (c for c in ("village_id", "name") if c not in villages.columns):
        msg = f"village table has no {col!r} column; the report lists villages by it"
        raise ValidationError(msg)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    maps = _checked_maps(static_maps)
    ivs = reported_interventions(villages, interventions)
    tables = {iv.name: intervention_table(villages, iv, (interventions or {}).get(iv.name))
              for iv in ivs}  # built once: the top villages and the workbook's sheets
    tops = {name: table.head(top_n) for name, table in tables.items()}
    doc = build_report(
        region_title, villages=villages,
        indicators=headline_indicators(villages) if indicators is None else indicators,
        facts=dict(facts or {}), tops=tops, maps=maps,
        front=_front_note(illustrative, source_note), source_lines=source_lines,
        byline=f"contigmap {'' if report_date is None else report_date.isoformat()}".strip(),
        story=story, chart_dir=out_dir / "charts",
    )
    paths = {"html": out_dir / "report.html", "md": out_dir / "report.md",
             "xlsx": out_dir / "tables.xlsx"}
    for key, text in (("html", render_html(doc)), ("md", render_markdown(doc, out_dir))):
        with atomic_path(paths[key]) as tmp:
            tmp.write_text(text, encoding="utf-8")
    write_tables_xlsx(paths["xlsx"], villages=villages, interventions=interventions,
                      tables=tables)
    paths.update({f"chart_{b.key}": b.figure.path for sec in doc.sections
                  for b in sec.blocks if isinstance(b, Chart)})
    logger.info("county report for %s: %d villages, %d interventions, %d maps in %s",
                region_title, len(villages), len(ivs), len(maps), out_dir)
    return paths
