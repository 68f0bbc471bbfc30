"""Render a :class:`~contigmap.render.report_doc.Report` as one self-contained HTML page.

Every text is passed through :func:`html.escape` (quotes included) on its way into the
page; only this module's own tags are written unescaped. No template engine is
involved, so Jinja syntax in a name (``{{7*7}}``) is printed as it is. Maps are embedded
as ``data:`` URIs, so the one file can be e-mailed or copied to a meeting-room machine
and still shows its maps (at the price of about 4/3 of the PNGs' size). The stylesheet
is the package file ``render/assets/report.css``.
"""

from __future__ import annotations

import base64
import html
from functools import cache
from importlib import resources
from typing import Any

from contigmap.render.report_doc import (
    Block,
    Chart,
    Column,
    Facts,
    Figure,
    KeyFigures,
    Note,
    Report,
    Section,
    Table,
)

__all__ = ["render_html"]


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


@cache
def _css() -> str:
    return resources.files("contigmap.render").joinpath("assets", "report.css").read_text(
        encoding="utf-8")


def _heading(tag: str, zh: str, en: str) -> str:
    return f"<{tag}>{_e(zh)} <span class=en>{_e(en)}</span></{tag}>"


def _note(note: Note) -> str:
    lines = [f"<strong>{_e(t)}</strong>" if note.is_strong(i) else _e(t)
             for i, t in enumerate(note.lines)]
    return f'<p class="note">{"<br>".join(lines)}</p>'


_NAMES = frozenset({"name", "township_name", "site_name", "intervention", "scenario", "cause",
                    "band"})
"""Columns of names, kept on one line (a name broken across lines misreads in print)."""


def _cell_class(column: Column) -> str:
    if column.numeric:
        return ' class="num"'
    rest = column.name.partition("_")[2]
    return ' class="nm"' if column.name in _NAMES or rest in _NAMES else ""


def _table(table: Table, cls: str = "") -> str:
    head = "".join(f"<th>{_e(c.label_zh)}<br><span class=en>{_e(c.name)}</span></th>"
                   for c in table.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td{_cell_class(c)}>{_e(v)}</td>"
                         for c, v in zip(table.columns, row, strict=True)) + "</tr>"
        for row in table.rows
    )
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _figure(block: Figure) -> str:
    data = base64.b64encode(block.path.read_bytes()).decode("ascii")
    zh, en = _e(block.caption_zh), _e(block.caption_en)
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{zh} {en}">'
            f"<figcaption>{zh} <span class=en>{en}</span></figcaption></figure>")


def _block(block: Block) -> list[str]:
    if isinstance(block, Note):
        return [_note(block)]
    if isinstance(block, KeyFigures):
        cards = [f"<div class=card><div class=v>{_e(v)}</div>"
                 f"<div>{_e(zh)} <span class=en>{_e(en)}</span></div></div>"
                 for zh, en, v in block.items]
        return ["<div class=cards>", *cards, "</div>"]
    if isinstance(block, Facts):
        rows = [f"<tr><th>{_e(zh)} <span class=en>{_e(en)}</span></th>"
                f"<td class=num>{_e(v)}</td></tr>" for zh, en, v in block.items]
        return ["<table><tbody>", *rows, "</tbody></table>"]
    if isinstance(block, Figure):
        return [_figure(block)]
    if isinstance(block, Chart):
        return [f'<div class="chart" id="chart-{_e(block.key)}">', _figure(block.figure),
                _table(block.data, "chart-data"), "</div>"]
    return [_table(block)]


def _section(section: Section) -> list[str]:
    out = [_heading(f"h{section.level}", section.title_zh, section.title_en)]
    for block in section.blocks:
        out.extend(_block(block))
    return ['<section class="page">', *out, "</section>"] if section.page else out


def render_html(report: Report) -> str:
    """Render the report as an HTML page (UTF-8 text, one element per line)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(report.title_zh)} {_e(report.title_en)}</title>",
        f"<style>\n{_css()}</style></head><body>",
        _heading("h1", report.title_zh, report.title_en),
        f"<p class=en>{_e(report.byline)}</p>",
        *[_note(n) for n in report.notes],
    ]
    for section in report.sections:
        parts.extend(_section(section))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
