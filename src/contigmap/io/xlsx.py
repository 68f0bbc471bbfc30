"""Write XLSX workbooks: formula-safe, byte-reproducible and fast.

Every workbook contigmap writes goes through :func:`write_xlsx` or :func:`write_workbook`
(the priority workbook, the report's ``tables.xlsx``, :func:`contigmap.io.write.write_table`,
plan, area and monitoring workbooks, the progress template and the synthetic fixtures).
The file is an Office Open XML package (ECMA-376 Part 1, 5th edition: SpreadsheetML,
Part 2: Open Packaging Conventions) written here part by part; the cells of a column
are made at once from its dtype (:mod:`contigmap.io.xlsx_cells`), about ten times as
fast as openpyxl cell objects (``benchmarks/bench_xlsx.py``).

- Text is an inline string with the ``quotePrefix`` style, never a formula (see
  :mod:`contigmap.io.writers`); numbers are number cells that keep every bit.
- The zip members' dates and the core properties (created, modified) are
  :func:`contigmap.io.writers.output_datetime`: the same tables give the same bytes.
- Numeric columns get their :func:`contigmap.io.writers.number_format`; with ``labels``
  a sheet has a shaded, frozen row of labels above the row of names, a filter on the
  names and column widths that fit the header and the first 500 values.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

import pandas as pd

from contigmap.columns import describe_column, dictionary_snapshot
from contigmap.errors import ValidationError
from contigmap.io.writers import number_format, output_datetime
from contigmap.io.xlsx_cells import (
    Style,
    Styles,
    check_size,
    column_cells,
    column_letter,
    display_width,
    escape_text,
    text_cell,
)

__all__ = ["ListRule", "SheetSpec", "write_workbook", "write_xlsx"]

_ZIP_MIN = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)  # the zip format's (DOS) epoch
_ZIP_MAX = dt.datetime(2107, 12, 31, 23, 59, 58, tzinfo=dt.UTC)
_BLOCK: Final[int] = 4096  # body rows made and written at a time
_COMPRESS_LEVEL: Final[int] = 1  # zlib: 2.7x as fast as the default 6, files ~20 % larger
_WIDTH_SAMPLE: Final[int] = 500
_BAD_SHEET_CHARS: Final[str] = "[]:*?/\\"
_XML: Final[str] = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN: Final[str] = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL: Final[str] = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL: Final[str] = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT: Final[str] = "application/vnd.openxmlformats-officedocument."


@dataclass(frozen=True)
class ListRule:
    """A drop-down list of allowed texts on one column's body cells (data validation).

    Attributes
    ----------
    column
        The column's name.
    choices
        The allowed texts (no commas or double quotes).
    title, message
        The title and text of the error Excel shows for another value.
    """

    column: str
    choices: tuple[str, ...]
    title: str = ""
    message: str = ""


@dataclass(frozen=True)
class SheetSpec:
    r"""One worksheet: a table and how to show it.

    Attributes
    ----------
    name
        Sheet name: 1-31 characters, none of ``[]:*?/\``.
    table
        The rows (the index is not written).
    header
        Write the column names as a header row (bold).
    labels
        ``column name -> label`` (say Chinese headers): row 1 then holds the labels and
        row 2 the names, both shaded and frozen (with the first two columns when they
        are ``village_id``, ``name``), a filter on row 2 and fitted column widths.
    formats
        Give numeric columns their :func:`~contigmap.io.writers.number_format` (off for
        files that stand for someone else's, such as the synthetic messy inputs).
    number_formats
        ``column -> number format`` on every body cell of the column, over ``formats``.
    min_rows
        Body rows that get ``number_formats`` and ``lists`` even when empty (a form to
        fill in).
    widths
        ``column -> width`` (characters), over the fitted widths.
    lists
        Drop-down lists.
    merges
        Ranges to merge, such as ``A1:H1``.
    """

    name: str
    table: pd.DataFrame
    header: bool = True
    labels: Callable[[str], str] | None = None
    formats: bool = True
    number_formats: Mapping[str, str] = field(default_factory=dict)
    min_rows: int = 0
    widths: Mapping[str, float] = field(default_factory=dict)
    lists: Sequence[ListRule] = ()
    merges: Sequence[str] = ()

    @property
    def header_rows(self) -> int:
        """Rows above the body: 0, 1 (names) or 2 (labels, names)."""
        return 0 if not self.header else 2 if self.labels is not None else 1

    @property
    def body_rows(self) -> int:
        """Rows below the header, ``min_rows`` included."""
        return max(len(self.table), self.min_rows)


def write_xlsx(sheets: Mapping[str, pd.DataFrame] | Sequence[tuple[str, pd.DataFrame]],
               path: str | Path, *, labels: Callable[[str], str] | None = None,
               formats: bool = True) -> None:
    r"""Write one sheet per table (header row of column names, no index), reproducibly.

    Parameters
    ----------
    sheets
        ``{sheet name: table}`` (or pairs), in sheet order; names must be valid Excel
        sheet names (at most 31 characters, none of ``[]:*?/\``).
    path
        The ``.xlsx`` to write (not atomically: callers use
        :func:`contigmap.io.write.atomic_path`).
    labels
        ``column name -> label``: a header row of labels above the names (see
        :class:`SheetSpec`).
    formats
        Number formats on numeric columns (see :class:`SheetSpec`).
    """
    items = list(sheets.items()) if isinstance(sheets, Mapping) else list(sheets)
    write_workbook([SheetSpec(name, pd.DataFrame(table), labels=labels, formats=formats)
                    for name, table in items], path)


def write_workbook(sheets: Sequence[SheetSpec], path: str | Path) -> None:
    """Write the sheets to the ``.xlsx`` at ``path`` (not atomically).

    The column dictionary (units, and whatever the ``labels`` functions look up) is read
    once for the whole workbook (:func:`contigmap.columns.dictionary_snapshot`).

    Raises
    ------
    ValidationError
        For a bad or repeated sheet name, or a table larger than a worksheet.
    """
    with dictionary_snapshot():
        _write_package(sheets, path)


def _write_package(sheets: Sequence[SheetSpec], path: str | Path) -> None:
    sheets = list(sheets) or [SheetSpec("Sheet1", pd.DataFrame())]
    _check_names([s.name for s in sheets])
    for spec in sheets:
        check_size(spec.header_rows + spec.body_rows, spec.table.shape[1], spec.name)
    when = output_datetime().astimezone(dt.UTC)
    date_time = _zip_date_time(when)
    styles = Styles()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        def member(name: str) -> IO[bytes]:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever the platform
            info.external_attr = 0o644 << 16
            _set_compress_level(info, _COMPRESS_LEVEL)
            return zf.open(info, "w")

        for name, text in _package_parts(sheets, when):
            with member(name) as out:
                out.write(text.encode("utf-8"))
        for i, spec in enumerate(sheets, start=1):
            with member(f"xl/worksheets/sheet{i}.xml") as out:
                for chunk in _sheet_xml(spec, styles, selected=i == 1):
                    out.write(chunk.encode("utf-8"))
        with member("xl/styles.xml") as out:
            out.write(styles.xml().encode("utf-8"))


# --------------------------------------------------------------------------- package


def _set_compress_level(info: zipfile.ZipInfo, level: int) -> None:
    if hasattr(info, "compress_level"):  # Python 3.13+
        info.compress_level = level
    else:  # 3.11, 3.12: ZipFile.writestr and open take it from here
        info._compresslevel = level  # type: ignore[attr-defined]


def _zip_date_time(when: dt.datetime) -> tuple[int, int, int, int, int, int]:
    when = min(max(when.astimezone(dt.UTC), _ZIP_MIN), _ZIP_MAX)
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)


def _check_names(names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        bad = [ch for ch in name if ch in _BAD_SHEET_CHARS]
        if not 1 <= len(name) <= 31 or bad or name.startswith("'") or name.endswith("'"):
            msg = (f"sheet name {name!r} is not allowed in a workbook: 1-31 characters, none "
                   f"of {_BAD_SHEET_CHARS} and no ' at either end")
            raise ValidationError(msg)
        if name.casefold() in seen:
            raise ValidationError(f"sheet name {name!r} is used twice (Excel ignores case)")
        seen.add(name.casefold())


def _package_parts(sheets: list[SheetSpec], when: dt.datetime) -> Iterator[tuple[str, str]]:
    """Yield the package's parts other than the sheets and styles: (member name, XML)."""
    n = len(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        f'ContentType="{_CT}spreadsheetml.worksheet+xml"/>' for i in range(1, n + 1))
    yield "[Content_Types].xml", (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}spreadsheetml.sheet.main+xml"/>'
        f'{overrides}<Override PartName="/xl/styles.xml" '
        f'ContentType="{_CT}spreadsheetml.styles+xml"/><Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        f'<Override PartName="/docProps/app.xml" ContentType="{_CT}extended-properties+xml"/>'
        "</Types>")
    yield "_rels/.rels", (
        f'{_XML}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" '
        f'Type="{_PKG_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>")
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    yield "docProps/core.xml", (
        f'{_XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/'
        'XMLSchema-instance"><dc:creator>contigmap</dc:creator>'
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>")
    yield "docProps/app.xml", (
        f'{_XML}<Properties xmlns="{_REL.replace("relationships", "extended-properties")}">'
        "<Application>contigmap</Application></Properties>")
    yield "xl/workbook.xml", _workbook_xml(sheets)
    rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" '
                   f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, n + 1))
    yield "xl/_rels/workbook.xml.rels", (
        f'{_XML}<Relationships xmlns="{_PKG_REL}">{rels}<Relationship Id="rId{n + 1}" '
        f'Type="{_REL}/styles" Target="styles.xml"/></Relationships>')


def _workbook_xml(sheets: list[SheetSpec]) -> str:
    entries = "".join(f'<sheet name="{escape_text(s.name, attr=True)}" sheetId="{i}" '
                      f'r:id="rId{i}"/>' for i, s in enumerate(sheets, start=1))
    names = ""
    for i, spec in enumerate(sheets):
        ref = _filter_ref(spec)
        if ref is not None:  # Excel's own name for a sheet's filter range
            first, last = ref.split(":")
            absolute = "$" + "$".join(_split_ref(first)) + ":$" + "$".join(_split_ref(last))
            quoted = "'" + spec.name.replace("'", "''") + "'"
            names += (f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" '
                      f'hidden="1">{escape_text(quoted)}!{absolute}</definedName>')
    return (f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView '
            f'activeTab="0"/></bookViews><sheets>{entries}</sheets>'
            + (f"<definedNames>{names}</definedNames>" if names else "") + "</workbook>")


def _split_ref(ref: str) -> tuple[str, str]:
    digits = next(i for i, ch in enumerate(ref) if ch.isdigit())
    return ref[:digits], ref[digits:]


def _filter_ref(spec: SheetSpec) -> str | None:
    if spec.labels is None or not spec.header or not len(spec.table):
        return None
    return f"A2:{column_letter(spec.table.shape[1] - 1)}{len(spec.table) + 2}"


# --------------------------------------------------------------------------- sheets


def _unit(column: str) -> str:
    """Return the column dictionary's unit of ``column`` ("" when unknown), from its snapshot."""
    info = describe_column(column)
    return info.unit if info is not None else ""


@dataclass(frozen=True)
class _Layout:
    """A sheet's column names, labels (None without) and number formats."""

    columns: list[str]
    labels: list[str] | None
    formats: list[str | None]


def _layout(spec: SheetSpec) -> _Layout:
    table = spec.table
    columns = [str(c) for c in table.columns]
    labels = [spec.labels(c) for c in columns] if spec.labels is not None else None
    formats = [spec.number_formats.get(col) or (
        number_format(col, values, unit=_unit(col)) if spec.formats
        else None) for col, (_, values) in zip(columns, table.items(), strict=True)]
    return _Layout(columns, labels, formats)


def _widths(spec: SheetSpec, layout: _Layout, shown: list[int]) -> list[float | None]:
    """Column widths: given, else (with labels) fitted to the labels, names and first values.

    ``shown``: per column, the display width of its widest first value
    (:func:`~contigmap.io.xlsx_cells.column_cells`).
    """
    widths: list[float | None] = []
    for j, col in enumerate(layout.columns):
        width: float | None = None
        if layout.labels is not None and spec.header:
            texts = max(display_width(layout.labels[j]), display_width(col), shown[j])
            width = min(max(texts + 2, 8), 60)
        widths.append(spec.widths.get(col, width))
    return widths


def _header_xml(layout: _Layout, styles: Styles) -> list[str]:
    columns = layout.columns
    rows: list[tuple[list[str], Style]] = []
    if layout.labels is not None:
        rows.append((layout.labels, Style(font="bold", shaded=True, wrap=True, quote=True)))
        rows.append((columns, Style(font="note", shaded=True, quote=True)))
    else:
        rows.append((columns, Style(font="bold", quote=True)))
    out = []
    for r, (texts, style) in enumerate(rows, start=1):
        s = styles.index(style)
        cells = "".join(text_cell(f"{column_letter(j)}{r}", s, t) for j, t in enumerate(texts))
        out.append(f'<row r="{r}">{cells}</row>')
    return out


def _view_xml(spec: SheetSpec, columns: list[str], selected: bool) -> str:
    tab = ' tabSelected="1"' if selected else ""
    if spec.labels is None or not spec.header:
        return f'<sheetViews><sheetView{tab} workbookViewId="0"/></sheetViews>'
    if columns[:2] == ["village_id", "name"] and len(columns) > 2:  # keep the keys in view
        pane = ('<pane xSplit="2" ySplit="2" topLeftCell="C3" activePane="bottomRight" '
                'state="frozen"/><selection pane="topRight"/><selection pane="bottomLeft"/>'
                '<selection pane="bottomRight" activeCell="C3" sqref="C3"/>')
    else:
        pane = ('<pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A3" sqref="A3"/>')
    return f'<sheetViews><sheetView{tab} workbookViewId="0">{pane}</sheetView></sheetViews>'


def _tail_xml(spec: SheetSpec, columns: list[str]) -> str:
    """Return what follows the cells: filter, merged ranges, drop-down lists, margins."""
    tail = ""
    ref = _filter_ref(spec)
    if ref is not None:
        tail += f'<autoFilter ref="{ref}"/>'
    if spec.merges:
        tail += (f'<mergeCells count="{len(spec.merges)}">'
                 + "".join(f'<mergeCell ref="{m}"/>' for m in spec.merges) + "</mergeCells>")
    if spec.lists:
        first, last = spec.header_rows + 1, spec.header_rows + spec.body_rows
        rules = ""
        for rule in spec.lists:
            letter = column_letter(columns.index(rule.column))
            words = escape_text('"' + ",".join(rule.choices) + '"')
            rules += ('<dataValidation type="list" allowBlank="1" showErrorMessage="1" '
                      f'errorTitle="{escape_text(rule.title, attr=True)}" '
                      f'error="{escape_text(rule.message, attr=True)}" '
                      f'sqref="{letter}{first}:{letter}{last}"><formula1>{words}</formula1>'
                      "</dataValidation>")
        tail += f'<dataValidations count="{len(spec.lists)}">{rules}</dataValidations>'
    return tail + ('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
                   'footer="0.3"/>')


def _sheet_xml(spec: SheetSpec, styles: Styles, *, selected: bool) -> Iterator[str]:
    """Yield the worksheet part (ECMA-376 Part 1, 18.3.1.99) a few thousand rows at a time.

    The first block of rows is made before the columns' widths, which fit its first values.
    """
    layout = _layout(spec)
    columns = layout.columns
    header = "".join(_header_xml(layout, styles)) if spec.header else ""  # styles in order
    blocks = _body_blocks(spec, layout, styles)
    first, shown = next(blocks, ("", [0] * len(columns)))
    last_row = spec.header_rows + spec.body_rows
    dimension = f"A1:{column_letter(len(columns) - 1)}{last_row}" if columns and last_row \
        else "A1"
    cols = "".join(f'<col min="{j}" max="{j}" width="{w:g}" customWidth="1"/>'
                   for j, w in enumerate(_widths(spec, layout, shown), start=1)
                   if w is not None)
    yield (f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><dimension ref="{dimension}"/>'
           f'{_view_xml(spec, columns, selected)}<sheetFormatPr defaultRowHeight="15"/>'
           + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>")
    yield header + first
    for block, _ in blocks:
        yield block
    yield f"</sheetData>{_tail_xml(spec, columns)}</worksheet>"


def _body_blocks(spec: SheetSpec, layout: _Layout,
                 styles: Styles) -> Iterator[tuple[str, list[int]]]:
    """Yield the body's ``<row>`` elements, ``_BLOCK`` rows at a time, with the widths shown.

    The widths: per column, the display width of its widest first value (measured in
    the first block only).
    """
    formats = layout.formats
    series = [s for _, s in spec.table.items()]
    letters = [column_letter(j) for j in range(len(series))]
    sample = _WIDTH_SAMPLE if layout.labels is not None and spec.header else 0
    for start in range(0, spec.body_rows, _BLOCK):
        rows = [str(spec.header_rows + i + 1)
                for i in range(start, min(start + _BLOCK, spec.body_rows))]
        whole = start == 0 and len(spec.table) <= _BLOCK  # most tables: no slices
        made = [column_cells(s if whole else s.iloc[start:start + _BLOCK], letters[j], rows,
                             styles, formats[j], sample=sample if start == 0 else 0)
                for j, s in enumerate(series)]
        if not made:  # no columns
            yield "", []
            continue
        bodies = map("".join, zip(*(c for c, _ in made), strict=True))  # a row's cells
        yield ("".join([f'<row r="{r}">{b}</row>' if b else ""
                        for r, b in zip(rows, bodies, strict=True)]), [w for _, w in made])
