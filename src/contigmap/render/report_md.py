r"""Render a :class:`~contigmap.render.report_doc.Report` as Markdown.

Every text is escaped: as HTML entities (Markdown passes raw HTML through, so a village
named ``<script>`` would otherwise become a tag) plus a backslash before the characters
that make links, images, code, emphasis, maths or table cells (``\ ` * [ ] ~ $ |``), so
that a name such as ``[x](javascript:...)`` stays text. Maps are linked by relative
path, because Markdown viewers commonly block or choke on large data URIs; keep the
maps next to the report.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from contigmap.render.report_doc import (
    Block,
    Chart,
    Facts,
    Figure,
    KeyFigures,
    Note,
    Report,
    Section,
    Table,
)

__all__ = ["render_markdown"]

_MD_SPECIAL: Final[re.Pattern[str]] = re.compile(r"([\\`*\[\]~$|])")
"""Markdown characters backslashed in data (``_`` is left: it only ever makes emphasis, and
column names such as ``poor_pop`` stay readable in the source)."""


def _md(value: Any) -> str:
    """Escape a data text for one line of Markdown (HTML entities, backslashed markup)."""
    text = _MD_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=False))
    return " ".join(text.split())


def _note(note: Note) -> list[str]:
    """Render a note as a block quote, one line per note line (hard line breaks)."""
    n = len(note.lines)
    return [f"> {f'**{_md(t)}**' if note.is_strong(i) else _md(t)}" + ("  " if i < n - 1 else "")
            for i, t in enumerate(note.lines)] + [""]


def _table(table: Table) -> list[str]:
    head = "| " + " | ".join(f"{_md(c.label_zh)} ({_md(c.name)})" for c in table.columns) + " |"
    sep = "|" + "|".join("---:" if c.numeric else "---" for c in table.columns) + "|"
    rows = ["| " + " | ".join(_md(v) for v in row) + " |" for row in table.rows]
    return [head, sep, *rows, ""]


def _items(header: tuple[str, str], items: tuple[tuple[str, str, str], ...]) -> list[str]:
    return [f"| {header[0]} | {header[1]} | 数值 value |", "|---|---|---:|",
            *[f"| {_md(zh)} | {_md(en)} | {_md(v)} |" for zh, en, v in items], ""]


def _block(block: Block, out_dir: Path) -> list[str]:
    if isinstance(block, Note):
        return _note(block)
    if isinstance(block, KeyFigures):
        return _items(("指标", "indicator"), block.items)
    if isinstance(block, Facts):
        return _items(("项目", "item"), block.items)
    if isinstance(block, Chart):
        return [*_block(block.figure, out_dir), *_table(block.data)]
    if isinstance(block, Figure):
        rel = Path(os.path.relpath(block.path.resolve(), out_dir.resolve())).as_posix()
        return [f"![{_md(block.caption_zh)} {_md(block.caption_en)}]({quote(rel, safe='/')})",
                ""]
    return _table(block)


def _section(section: Section, out_dir: Path) -> list[str]:
    out = [f"{'#' * section.level} {_md(section.title_zh)} {_md(section.title_en)}", ""]
    for block in section.blocks:
        out.extend(_block(block, out_dir))
    return out


def render_markdown(report: Report, out_dir: Path) -> str:
    """Render the report as Markdown; maps are linked relative to ``out_dir``."""
    lines = [f"# {_md(report.title_zh)} {_md(report.title_en)}", "", _md(report.byline), ""]
    for note in report.notes:
        lines.extend(_note(note))
    for section in report.sections:
        lines.extend(_section(section, out_dir))
    return "\n".join(lines)
