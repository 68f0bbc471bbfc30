r"""County reports: an HTML and a Markdown summary, and XLSX tables.

The summary gives the county's headline figures (people, poor people, poverty
incidence, villages per township), the static maps, and the top villages of each
intervention. The workbook holds the village profile and one sheet per intervention,
with a Chinese header row above the English column names.

Images: the HTML report embeds the maps as ``data:`` URIs, so the one file can be
e-mailed or copied to a meeting-room machine and still shows its maps (at the price of
a larger file, about 4/3 of the PNGs). The Markdown report links to the PNGs by
relative path, because Markdown viewers commonly block or choke on large data URIs;
keep the maps next to it.

Every text that comes from the data is escaped: with :func:`html.escape` in HTML, and
in Markdown as HTML entities (Markdown passes raw HTML through, so a village named
``<script>`` would otherwise become a tag) plus a backslash before the characters
that make links, images, code, emphasis, maths or table cells (``\ ` * [ ] ~ $ |``),
so that a name such as ``[x](javascript:...)`` stays text. No template engine is
involved: both reports are joined from constant strings and escaped values, so Jinja
syntax in a name (``{{7*7}}``) is printed as it is.
"""

from __future__ import annotations

import base64
import html
import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import numpy as np
import pandas as pd

from contigmap.columns import describe_column
from contigmap.errors import ValidationError
from contigmap.io.write import atomic_path
from contigmap.io.writers import excel_cell, save_workbook
from contigmap.render.legend import INTERVENTION_ZH
from contigmap.schema import ROAD_CLASS_ZH, SURFACE_ZH

__all__ = [
    "COLUMN_LABELS_ZH",
    "county_figures",
    "top_villages",
    "township_summary",
    "write_county_report",
    "write_tables_xlsx",
]

logger = logging.getLogger(__name__)

COLUMN_LABELS_ZH: Final[dict[str, str]] = {
    "village_id": "村代码",
    "name": "村名",
    "township_id": "乡镇代码",
    "township_name": "乡镇",
    "kind": "类型",
    "pop": "人口",
    "households": "户数",
    "poor_pop": "贫困人口",
    "poor_households": "贫困户数",
    "poverty_incidence": "贫困发生率",
    "main_causes": "主要致贫原因",
    "tt_township_seat_min": "到乡镇驻地时间（分钟）",
    "tt_county_seat_min": "到县城时间（分钟）",
    "need": "需求得分",
    "tier": "优先级档次",
    "rank": "排名",
    "capex_cny": "估算投资（元）",
    "reasons": "理由",
    "option": "推荐方案",
    "villages": "村数",
}
"""Chinese headers of common columns; intervention columns drop their prefix to look up."""

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
_TIER_ZH: Final[dict[str, str]] = {"1": "优先", "2": "次优先", "3": "一般", "4": "暂不需要"}
_ILLUSTRATIVE: Final[str] = "示意数据 / illustrative data"
_MAX_SHEET_NAME: Final[int] = 31


# --------------------------------------------------------------------------- helpers


def _num(values: Any) -> pd.Series:
    return pd.to_numeric(pd.Series(values), errors="coerce")


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(float(value))


def _label_zh(column: str) -> str:
    if column in COLUMN_LABELS_ZH:
        return COLUMN_LABELS_ZH[column]
    for prefix in INTERVENTION_ZH:
        if column.startswith(f"{prefix}_"):
            rest = column[len(prefix) + 1 :]
            if rest in COLUMN_LABELS_ZH:
                return f"{INTERVENTION_ZH[prefix]}{COLUMN_LABELS_ZH[rest]}"
    info = describe_column(column)
    return info.meaning_zh if info is not None and info.meaning_zh else column


def _fmt_cell(column: str, value: Any) -> str:
    """Format a cell as text: percentages, thousands separators, tier names.

    A value that does not fit its column's number format (text in a number column) is
    shown as it is.
    """
    if _missing(value):
        return "–"
    try:
        return _fmt_known(column, value)
    except (TypeError, ValueError, OverflowError):
        return str(value)


def _fmt_known(column: str, value: Any) -> str:
    col = column.split("_", 1)[1] if column.split("_", 1)[0] in INTERVENTION_ZH else column
    if column == "poverty_incidence" or column.endswith("_share"):
        return f"{float(value):.1%}"
    if col in ("pop", "households", "poor_pop", "poor_households", "capex_cny", "villages"):
        return f"{float(value):,.0f}"
    if col == "need":
        return f"{float(value):.1f}"
    if col == "rank":
        return f"{int(value)}"
    if col == "tier":
        key = str(int(value)) if isinstance(value, float | np.floating | int) else str(value)
        return f"{key} {_TIER_ZH[key]}" if key in _TIER_ZH else key
    if column.endswith("_min"):
        return f"{float(value):.0f}"
    if isinstance(value, float | np.floating):
        return f"{float(value):.3g}"
    return str(value)


def _fact_rows(facts: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(Chinese, English, value) rows for the scalar facts, known keys first."""
    rows = []
    shown = {key for key, _, _ in _FIG_ROWS}
    for key, (zh, en, fmt) in _FACT_LABELS.items():
        value = facts.get(key)
        if key in shown or _missing(value) or isinstance(value, Mapping):
            continue
        try:
            text = fmt.format(value)  # the format is ours; the value is only an argument
        except (TypeError, ValueError):
            text = str(value)
        rows.append((zh, en, text))
    for key, value in facts.items():
        if key in _FACT_LABELS or key in ("working_crs", "poor_pop_source") or _missing(value):
            continue
        zh, names = _DICT_FACTS.get(key, ("", {}))
        if isinstance(value, Mapping):
            text = "; ".join(
                f"{names.get(str(k), '')} {k} {_fmt_num(v)}".strip() for k, v in value.items()
            )
        else:
            text = _fmt_num(value)
        rows.append((zh, key.replace("_", " "), text))
    return rows


def _fmt_num(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):,.1f}"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    return str(value)


# --------------------------------------------------------------------------- figures


def county_figures(
    villages: pd.DataFrame, indicators: pd.DataFrame | None = None
) -> dict[str, Any]:
    """People, poor people and poverty incidence of the county.

    Read from the county row of the headline indicators
    (:func:`contigmap.indicators.headline_indicators`, computed from ``villages`` when
    not given): incidence is Σ ``poor_pop`` / Σ ``pop_basis``, the same definition as
    in every other output.

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
    from contigmap.indicators import county_indicators, headline_indicators

    if indicators is None:
        indicators = headline_indicators(villages)
    county = county_indicators(indicators)
    out: dict[str, Any] = {"villages": len(villages)}
    out["townships"] = (
        int(villages["township_id"].nunique()) if "township_id" in villages.columns else None
    )
    for key in ("pop", "poor_pop"):
        value: Any = county.get(key)
        out[key] = None if _missing(value) else round(float(value))
    rate: Any = county.get("poverty_incidence")
    out["poverty_incidence"] = None if _missing(rate) else float(rate)
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
    from contigmap.indicators import headline_indicators, township_indicators

    if "township_id" not in villages.columns:
        msg = "village table has no 'township_id' column; add it to count villages per township"
        raise ValidationError(msg)
    if indicators is None:
        indicators = headline_indicators(villages)
    towns = township_indicators(indicators).rename(columns={"name": "township_name"})
    return towns[["township_id", "township_name", "villages", "pop", "poor_pop",
                  "poverty_incidence"]].reset_index(drop=True)


def _intervention_keys(
    villages: pd.DataFrame, interventions: Mapping[str, Any] | None
) -> list[str]:
    keys = list(interventions or {})
    for col in villages.columns:
        key = str(col).removesuffix("_tier")
        if str(col).endswith("_tier") and key not in keys:
            keys.append(key)
    return keys


def _intervention_table(
    villages: pd.DataFrame, key: str, frame: pd.DataFrame | None
) -> pd.DataFrame:
    """One intervention's village table: ids and names, then its columns, by rank."""
    ident = [c for c in ("village_id", "name", "township_name") if c in villages.columns]
    base = pd.DataFrame(villages[ident]).reset_index(drop=True)
    if frame is None:
        cols = [c for c in villages.columns if str(c).startswith(f"{key}_")]
        table = pd.concat([base, pd.DataFrame(villages[cols]).reset_index(drop=True)], axis=1)
    else:
        frame = pd.DataFrame(frame)
        if "village_id" not in frame.columns and frame.index.name == "village_id":
            frame = frame.reset_index()
        if "village_id" not in frame.columns:
            msg = (
                f"intervention table {key!r} has no 'village_id' column; give one row per "
                "village with its code"
            )
            raise ValidationError(msg)
        frame = frame.rename(
            columns={c: f"{key}_{c}" for c in frame.columns
                     if c in ("need", "tier", "rank", "capex_cny", "reasons", "option")}
        )
        extra = [c for c in frame.columns if c not in ident or c == "village_id"]
        table = base.merge(frame[extra], on="village_id", how="right") if ident else frame
        table = table[[*ident, *[c for c in table.columns if c not in ident]]]
    rank = f"{key}_rank"
    if rank in table.columns:
        table = table.sort_values(rank, kind="stable", na_position="last")
    elif f"{key}_need" in table.columns:
        table = table.sort_values(f"{key}_need", ascending=False, kind="stable")
    return table.reset_index(drop=True)


def top_villages(
    villages: pd.DataFrame, key: str, *, n: int = 10, frame: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return the ``n`` highest-priority villages of one intervention.

    Parameters
    ----------
    villages
        The village table (ids and names; ``<key>_*`` columns when ``frame`` is None).
    key
        The intervention (``roads``).
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
    """
    return _intervention_table(villages, key, frame).head(n)


# --------------------------------------------------------------------------- xlsx


def _sheet_name(text: str, taken: set[str]) -> str:
    name = "".join("_" if ch in '[]:*?/\\' else ch for ch in text)[:_MAX_SHEET_NAME]
    base, i = name, 2
    while name in taken:
        suffix = f" {i}"
        name = base[: _MAX_SHEET_NAME - len(suffix)] + suffix
        i += 1
    taken.add(name)
    return name


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _write_sheet(ws: Any, table: pd.DataFrame) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8E4D8")
    columns = [str(c) for c in table.columns]
    # every cell through excel_cell: text from the data is a string cell, never a formula
    ws.append([excel_cell(ws, _label_zh(c)) for c in columns])
    ws.append([excel_cell(ws, c) for c in columns])
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in ws[2]:
        cell.font = Font(italic=True, color="555555")
        cell.fill = fill
    for row in table.itertuples(index=False, name=None):
        ws.append([excel_cell(ws, v) for v in row])
    for j, col in enumerate(columns, start=1):
        letter = get_column_letter(j)
        if col == "poverty_incidence" or col.endswith("_share"):
            fmt = "0.0%"
        elif col.endswith(("_capex_cny", "pop", "households")):
            fmt = "#,##0"
        elif col.endswith("_need"):
            fmt = "0.0"
        else:
            fmt = None
        texts = [_fmt_cell(col, v) for v in table[col].iloc[:500] if not _missing(v)]
        width = max([_display_width(_label_zh(col)), len(col), *map(_display_width, texts)])
        ws.column_dimensions[letter].width = min(max(width + 2, 8), 60)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=3, min_col=j, max_col=j):
                cell.number_format = fmt
    ws.freeze_panes = "C3" if len(columns) > 2 and columns[:2] == ["village_id", "name"] else "A3"
    if len(table):
        ws.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{len(table) + 2}"


def _profile_table(villages: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(villages)
    geom = getattr(villages, "geometry", None)
    if geom is not None and getattr(geom, "name", None) in frame.columns:
        frame = frame.drop(columns=[geom.name])
    drop = [c for c in frame.columns if any(str(c).startswith(f"{k}_") for k in keys)]
    frame = frame.drop(columns=drop)
    first = [c for c in COLUMN_LABELS_ZH if c in frame.columns]
    return frame[[*first, *[c for c in frame.columns if c not in first]]].reset_index(drop=True)


def write_tables_xlsx(
    path: Path,
    *,
    villages: pd.DataFrame,
    interventions: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write the village profile and one sheet per intervention to an XLSX workbook.

    Row 1 holds Chinese headers, row 2 the column names; both are frozen, widths follow
    the content, incidences show as percentages and money with thousands separators.
    Text cells are string cells, never formulas, and the file has no write timestamps
    (see :mod:`contigmap.writers`).

    Parameters
    ----------
    path
        Output ``.xlsx``, written atomically.
    villages
        The village table (a geometry column is dropped).
    interventions
        ``{key: table}`` per intervention; default: one sheet per ``<key>_tier`` column
        of ``villages``.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from openpyxl import Workbook

    keys = _intervention_keys(villages, interventions)
    wb = Workbook()
    taken: set[str] = set()
    ws = wb.active
    assert ws is not None
    ws.title = _sheet_name("村庄概况 villages", taken)
    _write_sheet(ws, _profile_table(villages, keys))
    for key in keys:
        frame = (interventions or {}).get(key)
        ws = wb.create_sheet(_sheet_name(f"{INTERVENTION_ZH.get(key, key)} {key}", taken))
        _write_sheet(ws, _intervention_table(villages, key, frame))
    path = Path(path)
    with atomic_path(path) as tmp:
        save_workbook(wb, tmp)  # fixed timestamps: the same tables give the same bytes
    return path


# --------------------------------------------------------------------------- html / md


_CSS: Final[str] = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",
sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.7em;margin-bottom:.1em}h2{border-bottom:2px solid #ccc;padding-bottom:.2em;
margin-top:1.6em}.en{color:#666;font-weight:normal;font-size:.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#eeeae0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:.85em;border-left:3px solid #d7191c;padding-left:.7em}
.cards{display:flex;flex-wrap:wrap;gap:1em}.card{border:1px solid #ddd;border-radius:6px;
padding:.6em 1em;min-width:10em}.card .v{font-size:1.6em;font-weight:bold}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}
figcaption{color:#555;font-size:.9em}
@media print{body{max-width:none;margin:0}h2{page-break-after:avoid}
figure,table{page-break-inside:avoid}}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


_MD_SPECIAL: Final[re.Pattern[str]] = re.compile(r"([\\`*\[\]~$|])")
"""Markdown characters backslashed in data (``_`` is left: it only ever makes emphasis, and
column names such as ``poor_pop`` stay readable in the source)."""


def _md(value: Any) -> str:
    """Escape a data text for one line of Markdown (HTML entities, backslashed markup)."""
    text = _MD_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=False))
    return " ".join(text.split())


def _html_table(table: pd.DataFrame, numeric: set[str]) -> str:
    head = "".join(
        f"<th>{_e(_label_zh(c))}<br><span class=en>{_e(c)}</span></th>" for c in table.columns
    )
    rows = []
    for row in table.itertuples(index=False, name=None):
        cells = []
        for col, value in zip(table.columns, row, strict=True):
            cls = ' class="num"' if col in numeric else ""
            cells.append(f"<td{cls}>{_e(_fmt_cell(str(col), value))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _md_table(table: pd.DataFrame) -> list[str]:
    head = "| " + " | ".join(f"{_md(_label_zh(c))} ({_md(c)})" for c in table.columns) + " |"
    numeric = _numeric_cols(table)
    sep = "|" + "|".join("---:" if str(c) in numeric else "---" for c in table.columns) + "|"
    rows = [
        "| " + " | ".join(_md(_fmt_cell(str(c), v)) for c, v in zip(table.columns, row,
                                                                      strict=True)) + " |"
        for row in table.itertuples(index=False, name=None)
    ]
    return [head, sep, *rows]


def _numeric_cols(table: pd.DataFrame) -> set[str]:
    return {str(c) for c in table.columns if pd.api.types.is_numeric_dtype(table[c])}


def _map_title(key: str) -> tuple[str, str]:
    if key == "overview":
        return "概览图", "overview"
    return f"{INTERVENTION_ZH.get(key, key)}优先级", f"{key.replace('_', ' ')} priority"


def _top_columns(table: pd.DataFrame, key: str) -> pd.DataFrame:
    wanted = ["name", "township_name", f"{key}_rank", f"{key}_tier", f"{key}_need",
              f"{key}_option", f"{key}_capex_cny", f"{key}_reasons"]
    return table[[c for c in wanted if c in table.columns]]


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
) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` and ``tables.xlsx`` for one county.

    Parameters
    ----------
    out_dir
        Output folder (created); each file is written atomically.
    villages
        The village table: ``village_id``, ``name``, ``township_id`` and, when present,
        ``township_name``, ``pop``, ``poor_pop``, ``poverty_incidence``,
        ``main_causes`` and per intervention (as :mod:`contigmap.priority` writes them)
        ``<key>_need``, ``_tier``, ``_rank``, ``_option``, ``_capex_cny``, ``_reasons``.
    region_title
        The county's name (``花垣县``).
    facts
        Region facts (:func:`contigmap.facts.region_facts`); shown as a table.
    interventions
        ``{key: table}`` per intervention, each with ``village_id``; default: the
        ``<key>_*`` columns of ``villages``.
    static_maps
        ``{"overview" | key: png}`` from :func:`contigmap.render.static.render_static_maps`;
        embedded in the HTML, linked from the Markdown.
    illustrative
        Mark the report as made from illustrative data.
    source_note
        Where the data come from.
    top_n
        How many top villages to list per intervention.
    report_date
        Date printed under the title; none by default, so that the same inputs give
        the same files.
    indicators
        The run's headline indicators (:func:`contigmap.indicators.headline_indicators`),
        which the key figures and the township table read; computed from ``villages``
        when not given.
    source_lines
        Lines saying where households and poor people come from, printed under the key
        figures (:func:`contigmap.poverty.poverty_source_lines`).

    Returns
    -------
    dict[str, pathlib.Path]
        ``{"html": ..., "md": ..., "xlsx": ...}``.

    Raises
    ------
    ValidationError
        The village table lacks ``village_id`` or ``name``, or an intervention table
        lacks ``village_id``.
    """
    for col in ("village_id", "name"):
        if col not in villages.columns:
            msg = f"village table has no {col!r} column; the report lists villages by it"
            raise ValidationError(msg)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    facts = dict(facts or {})
    if indicators is None:
        from contigmap.indicators import headline_indicators

        indicators = headline_indicators(villages)
    figures = county_figures(villages, indicators)
    figures["estimate"] = _estimate(indicators)
    towns = (township_summary(villages, indicators) if "township_id" in villages.columns
             else None)
    lines = list(source_lines)
    keys = _intervention_keys(villages, interventions)
    tops = {
        key: _top_columns(top_villages(villages, key, n=top_n,
                                       frame=(interventions or {}).get(key)), key)
        for key in keys
    }
    maps = {k: Path(p) for k, p in (static_maps or {}).items()}
    for key, p in maps.items():
        if not p.is_file():
            msg = f"static map {key!r}: {p} does not exist; render it first or leave it out"
            raise ValidationError(msg)
    today = "" if report_date is None else report_date.isoformat()

    paths = {
        "html": out_dir / "report.html",
        "md": out_dir / "report.md",
        "xlsx": out_dir / "tables.xlsx",
    }
    html_text = _report_html(region_title, figures, facts, towns, tops, maps, illustrative,
                             source_note, today, lines)
    md_text = _report_md(region_title, figures, facts, towns, tops, maps, illustrative,
                         source_note, today, out_dir, lines)
    with atomic_path(paths["html"]) as tmp:
        tmp.write_text(html_text, encoding="utf-8")
    with atomic_path(paths["md"]) as tmp:
        tmp.write_text(md_text, encoding="utf-8")
    write_tables_xlsx(paths["xlsx"], villages=villages, interventions=interventions)
    logger.info("county report for %s: %d villages, %d interventions, %d maps in %s",
                region_title, len(villages), len(keys), len(maps), out_dir)
    return paths


_FIG_ROWS: Final[tuple[tuple[str, str, str], ...]] = (
    ("villages", "行政村（社区）", "villages"),
    ("townships", "乡镇", "townships"),
    ("pop", "人口", "people"),
    ("poor_pop", "贫困人口", "poor people"),
    ("poverty_incidence", "贫困发生率", "poverty incidence"),
)


def _fig_value(key: str, value: Any) -> str:
    if _missing(value):
        return "–"
    return f"{float(value):.1%}" if key == "poverty_incidence" else f"{float(value):,.0f}"


_ESTIMATE_NOTE: Final[str] = ("贫困人口为抽样估算值（村人口 × 抽样贫困发生率） / poor people are "
                              "estimates: village pop × the registry sample's incidence")


def _estimate(indicators: pd.DataFrame) -> bool:
    from contigmap.indicators import county_indicators, is_estimate

    return is_estimate(county_indicators(indicators))


def _report_html(
    title: str,
    figures: Mapping[str, Any],
    facts: Mapping[str, Any],
    towns: pd.DataFrame | None,
    tops: Mapping[str, pd.DataFrame],
    maps: Mapping[str, Path],
    illustrative: bool,
    source_note: str,
    today: str,
    source_lines: Sequence[str] = (),
) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)} 县域概况 County summary</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)} 县域概况 <span class=en>County summary</span></h1>",
        f"<p class=en>contigmap {_e(today)}</p>",
    ]
    note = []
    if illustrative:
        note.append(f"<strong>{_e(_ILLUSTRATIVE)}</strong>")
    if source_note:
        note.append(f"数据来源 Source: {_e(source_note)}")
    if note:
        parts.append(f'<p class="note">{"<br>".join(note)}</p>')

    parts.append("<h2>主要指标 <span class=en>Key figures</span></h2><div class=cards>")
    for key, zh, en in _FIG_ROWS:
        parts.append(
            f'<div class=card><div class=v>{_e(_fig_value(key, figures.get(key)))}</div>'
            f"<div>{_e(zh)} <span class=en>{_e(en)}</span></div></div>"
        )
    parts.append("</div>")
    notes = ([_ESTIMATE_NOTE] if figures.get("estimate") else []) + list(source_lines)
    if notes:
        parts.append(f'<p class="note">{"<br>".join(_e(n) for n in notes)}</p>')
    fact_rows = _fact_rows(facts)
    if fact_rows:
        parts.append("<h3>区域概况 <span class=en>Region facts</span></h3><table><tbody>")
        parts.extend(
            f"<tr><th>{_e(zh)} <span class=en>{_e(en)}</span></th><td class=num>{_e(v)}</td></tr>"
            for zh, en, v in fact_rows
        )
        parts.append("</tbody></table>")

    if towns is not None:
        parts.append("<h2>各乡镇 <span class=en>Villages per township</span></h2>")
        parts.append(_html_table(towns, _numeric_cols(towns)))

    if maps:
        parts.append("<h2>地图 <span class=en>Maps</span></h2>")
        for key, path in maps.items():
            zh, en = _map_title(key)
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            parts.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{_e(zh)} {_e(en)}">'
                f"<figcaption>{_e(zh)} <span class=en>{_e(en)}</span></figcaption></figure>"
            )

    for key, table in tops.items():
        zh = INTERVENTION_ZH.get(key, key)
        parts.append(
            f"<h2>{_e(zh)}：优先村（前 {len(table)} 个） "
            f"<span class=en>{_e(key)}: top {len(table)} villages</span></h2>"
        )
        parts.append(_html_table(table, _numeric_cols(table)))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _report_md(
    title: str,
    figures: Mapping[str, Any],
    facts: Mapping[str, Any],
    towns: pd.DataFrame | None,
    tops: Mapping[str, pd.DataFrame],
    maps: Mapping[str, Path],
    illustrative: bool,
    source_note: str,
    today: str,
    out_dir: Path,
    source_lines: Sequence[str] = (),
) -> str:
    lines = [f"# {_md(title)} 县域概况 County summary", "", f"contigmap {today}".strip(), ""]
    if illustrative:
        lines += [f"> **{_ILLUSTRATIVE}**", ">"]
    if source_note:
        lines += [f"> 数据来源 Source: {_md(source_note)}"]
    if illustrative or source_note:
        lines.append("")
    lines += ["## 主要指标 Key figures", "", "| 指标 | indicator | 数值 value |", "|---|---|---:|"]
    for key, zh, en in _FIG_ROWS:
        lines.append(f"| {zh} | {en} | {_fig_value(key, figures.get(key))} |")
    lines.append("")
    notes = ([_ESTIMATE_NOTE] if figures.get("estimate") else []) + list(source_lines)
    if notes:
        lines += [f"> {_md(n)}" + ("  " if i < len(notes) - 1 else "")
                  for i, n in enumerate(notes)]
        lines.append("")
    fact_rows = _fact_rows(facts)
    if fact_rows:
        lines += ["### 区域概况 Region facts", "", "| 项目 | item | 数值 value |", "|---|---|---:|"]
        lines += [f"| {_md(zh)} | {_md(en)} | {_md(v)} |" for zh, en, v in fact_rows]
        lines.append("")
    if towns is not None:
        lines += ["## 各乡镇 Villages per township", "", *_md_table(towns), ""]
    if maps:
        lines += ["## 地图 Maps", ""]
        for key, path in maps.items():
            zh, en = _map_title(key)
            rel = Path(os.path.relpath(path.resolve(), out_dir.resolve())).as_posix()
            lines += [f"![{_md(zh)} {_md(en)}]({quote(rel, safe='/')})", ""]
    for key, table in tops.items():
        zh = INTERVENTION_ZH.get(key, key)
        n = len(table)
        lines += [f"## {_md(zh)}：优先村（前 {n} 个） {_md(key)}: top {n} villages",
                  "", *_md_table(table), ""]
    return "\n".join(lines)
