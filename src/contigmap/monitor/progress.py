"""The progress workbook counties fill in: its columns, statuses, and a strict reader.

One sheet, :data:`PROGRESS_SHEET` (``进度 progress``), one row per project
(``/work/briefs/plan17.md`` holds the shared schema). Headers may be the Chinese label,
the English name, or both in one cell (``项目编号 project_id``); the template written by
:func:`contigmap.monitor.template.write_template` has a row of Chinese labels above the
row of English names, and the reader skips whichever header rows it finds.

===========  =================  ==========================================================
name         Chinese            content
===========  =================  ==========================================================
project_id   项目编号            the plan's ``project_id`` (or give village_id + intervention)
village_id   村代码              the village (with ``intervention``, instead of project_id)
intervention 项目类型            ``roads`` / ``water`` / ... or its Chinese label (道路 ...)
status       状态                未开工 / 在建 / 完工 (not_started / in_progress / done)
spent_cny    已支出（元）          money spent so far, CNY (blank: 0)
completed    完工日期            completion date (blank unless done)
note         备注                free text
===========  =================  ==========================================================

Every problem is a :class:`~contigmap.errors.ValidationError` of one line naming the
file, sheet, row (as Excel numbers it) and column, and saying how to fix it.
"""

from __future__ import annotations

import difflib
import logging
import zipfile
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from contigmap.errors import LayerError, ValidationError
from contigmap.priority import registry

__all__ = [
    "PROGRESS_COLUMNS",
    "PROGRESS_LABELS",
    "PROGRESS_SHEET",
    "STATUSES",
    "STATUS_LABELS",
    "read_progress",
]

logger = logging.getLogger(__name__)

PROGRESS_SHEET: Final[str] = "进度 progress"
"""Name of the workbook's one sheet."""

PROGRESS_LABELS: Final[dict[str, str]] = {
    "project_id": "项目编号",
    "village_id": "村代码",
    "intervention": "项目类型",
    "status": "状态",
    "spent_cny": "已支出（元）",
    "completed": "完工日期",
    "note": "备注",
}
"""Canonical column name → Chinese header."""

PROGRESS_COLUMNS: Final[tuple[str, ...]] = tuple(PROGRESS_LABELS)
"""The workbook's columns, in order."""

STATUSES: Final[tuple[str, ...]] = ("not_started", "in_progress", "done")
"""Canonical statuses, in order of progress."""

STATUS_LABELS: Final[dict[str, str]] = {
    "not_started": "未开工", "in_progress": "在建", "done": "完工"}
"""Canonical status → Chinese word (the template's drop-down list)."""

_STATUS_WORDS: Final[dict[str, str]] = {
    **{zh: en for en, zh in STATUS_LABELS.items()},
    **{en: en for en in STATUSES},
    "not started": "not_started", "in progress": "in_progress", "completed": "done",
    "已完工": "done", "竣工": "done", "施工中": "in_progress", "未开始": "not_started",
}


def _header_key(cell: Any) -> str | None:
    """Return the canonical column a header cell names (Chinese, English or both), or None."""
    text = str(cell).strip() if cell is not None and not pd.isna(cell) else ""
    if not text:
        return None
    by_label = {zh: en for en, zh in PROGRESS_LABELS.items()}
    by_label.update({"已支出(元)": "spent_cny", "已支出": "spent_cny"})
    for part in (text, *text.replace("\n", " ").split()):
        key = part.strip().lower()
        if key in PROGRESS_LABELS:
            return key
        if part.strip() in by_label:
            return by_label[part.strip()]
    return None


def _raw(path: Path) -> tuple[pd.DataFrame, str]:
    """Read the progress sheet (or a CSV) as text cells without a header."""
    where = f"{path.name}"
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            with pd.ExcelFile(path, engine="openpyxl") as book:
                names = [str(s) for s in book.sheet_names]
                sheet = PROGRESS_SHEET if PROGRESS_SHEET in names else names[0]
                raw = pd.read_excel(book, sheet_name=sheet, header=None, dtype=object)
            return raw, f"{where}: sheet '{sheet}'"
        return pd.read_csv(path, header=None, dtype=str, encoding="utf-8-sig"), where
    except FileNotFoundError as err:
        msg = f"{path}: progress workbook not found; check the path or write one with " \
              f"`contigmap monitor --template -o progress.xlsx`"
        raise LayerError(msg) from err
    except (OSError, ValueError, UnicodeDecodeError, zipfile.BadZipFile, KeyError) as err:
        msg = (f"{path}: cannot read the progress workbook ({type(err).__name__}: {err}); "
               f"save it as .xlsx or CSV UTF-8")
        raise LayerError(msg) from err


def _header_rows(raw: pd.DataFrame, where: str) -> tuple[int, dict[int, str]]:
    """Index of the first data row and ``column position -> canonical name``."""
    for i in range(min(len(raw), 5)):
        keys = {j: _header_key(v) for j, v in enumerate(raw.iloc[i].tolist())}
        found = {j: k for j, k in keys.items() if k is not None}
        if "status" in found.values():
            start = i + 1
            while start < len(raw) and sum(
                    _header_key(v) is not None for v in raw.iloc[start].tolist()) >= 2:
                start += 1  # a second header row (English names under Chinese labels)
            return start, found
    msg = (f"{where}: no header row with 状态 / status in the first 5 rows; use the "
           f"template (`contigmap monitor --template -o progress.xlsx`)")
    raise ValidationError(msg)


def _text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _intervention(value: str, where: str) -> str:
    if not value:
        return ""
    names = (*registry.names(), "relocation")
    if value.lower() in names:
        return value.lower()
    by_zh = {registry.label_zh(n): n for n in registry.names()}
    by_zh.update({"易地扶贫搬迁": "relocation", "搬迁": "relocation"})
    if value in by_zh:
        return by_zh[value]
    close = difflib.get_close_matches(value, [*names, *by_zh], n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"use one of {', '.join(names)}"
    msg = f"{where}: unknown intervention '{value}'; {hint}"
    raise ValidationError(msg)


def _parse_row(cells: dict[str, Any], where: str) -> dict[str, Any]:
    """One data row → canonical values; ``where`` names file, sheet and row."""
    status_raw = _text(cells.get("status"))
    status = _STATUS_WORDS.get(status_raw.lower(), _STATUS_WORDS.get(status_raw))
    if status is None:
        msg = (f"{where} column 状态 status: '{status_raw}' is not a status; use 未开工 / 在建 / "
               f"完工 (or not_started / in_progress / done)")
        raise ValidationError(msg)
    spent_text = _text(cells.get("spent_cny")).replace(",", "").replace("，", "")
    try:
        spent = float(spent_text) if spent_text else 0.0
    except ValueError:
        spent = float("nan")
    if not np.isfinite(spent) or spent < 0:
        msg = (f"{where} column 已支出（元） spent_cny: '{spent_text}' is not an amount of "
               f"money; give CNY as a number ≥ 0 (blank for none)")
        raise ValidationError(msg)
    done_raw = cells.get("completed")
    completed = ""
    if _text(done_raw):
        stamp = pd.to_datetime(done_raw, errors="coerce")  # type: ignore[call-overload]
        if pd.isna(stamp):
            msg = (f"{where} column 完工日期 completed: '{_text(done_raw)}' is not a date; "
                   f"write it as 2018-06-30")
            raise ValidationError(msg)
        completed = stamp.date().isoformat()
    return {"project_id": _text(cells.get("project_id")),
            "village_id": _text(cells.get("village_id")),
            "intervention": _intervention(_text(cells.get("intervention")),
                                          f"{where} column 项目类型 intervention"),
            "status": status, "spent_cny": spent, "completed": completed,
            "note": _text(cells.get("note"))}


def _resolve(rows: pd.DataFrame, plan: pd.DataFrame, source: str) -> pd.DataFrame:
    """Give every row its plan project id; list unknown ids; refuse duplicates."""
    pid = plan["project_id"].astype(str)
    by_pair: dict[tuple[str, str], list[str]] = {}
    for p, v, iv in zip(pid, plan["village_id"].astype(str), plan["intervention"].astype(str),
                        strict=True):
        by_pair.setdefault((v, iv), []).append(p)
    known = set(pid)
    unknown: list[str] = []
    for i in rows.index:
        where = f"{source} row {rows.at[i, 'row']!s}"
        if rows.at[i, "project_id"]:
            if rows.at[i, "project_id"] not in known:
                unknown.append(str(rows.at[i, "project_id"]))
            continue
        pair = (str(rows.at[i, "village_id"]), str(rows.at[i, "intervention"]))
        if not all(pair):
            msg = (f"{where} column 项目编号 project_id: blank; give the project id, or 村代码 "
                   f"village_id and 项目类型 intervention")
            raise ValidationError(msg)
        hits = by_pair.get(pair, [])
        if len(hits) != 1:
            what = "no" if not hits else f"{len(hits)} ({', '.join(hits)})"
            msg = (f"{where}: {what} plan project(s) for village {pair[0]} and {pair[1]}; "
                   f"give 项目编号 project_id")
            raise ValidationError(msg)
        rows.at[i, "project_id"] = hits[0]
    if unknown:
        msg = (f"{source}: {len(unknown)} project id(s) not in the plan: "
               f"{', '.join(unknown[:10])}{' …' if len(unknown) > 10 else ''}; "
               f"copy 项目编号 from plan_projects.csv")
        raise ValidationError(msg)
    dup = rows["project_id"].duplicated(keep=False)
    if dup.any():
        first = rows[dup].iloc[0]
        again = rows.loc[dup & (rows["project_id"] == first["project_id"]), "row"].tolist()
        msg = (f"{source}: project {first['project_id']} is reported in rows "
               f"{', '.join(map(str, again))}; keep one row per project")
        raise ValidationError(msg)
    return rows


def read_progress(path: str | Path, plan: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read a progress workbook (XLSX or CSV) into canonical columns.

    Parameters
    ----------
    path
        The workbook: sheet :data:`PROGRESS_SHEET` (else the first sheet), or a CSV.
    plan
        The plan's projects (``project_id``, ``village_id``, ``intervention``): rows
        given by village and intervention get their project id, and ids not in the
        plan are refused (all listed in one message). ``None``: rows are only parsed.

    Returns
    -------
    pandas.DataFrame
        :data:`PROGRESS_COLUMNS` plus ``row`` (the spreadsheet's row number); fully
        blank rows are skipped.

    Raises
    ------
    ValidationError
        A bad status, amount, date or intervention, a row naming no project, unknown
        or repeated project ids; one line naming file, sheet, row and column.
    LayerError
        The file is missing or unreadable.
    """
    path = Path(path)
    raw, source = _raw(path)
    start, columns = _header_rows(raw, source)
    rows = []
    for i in range(start, len(raw)):
        cells = {key: raw.iat[i, j] for j, key in columns.items()}
        if not any(_text(v) for v in cells.values()):
            continue
        rows.append({**_parse_row(cells, f"{source} row {i + 1}"), "row": i + 1})
    out = pd.DataFrame(rows, columns=[*PROGRESS_COLUMNS, "row"])
    if plan is not None:
        out = _resolve(out, plan, source)
    logger.info("progress: %d row(s) from %s", len(out), path.name)
    return out.reset_index(drop=True)
