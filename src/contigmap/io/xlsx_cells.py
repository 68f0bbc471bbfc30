"""Worksheet cells as SpreadsheetML text, a column at a time, and the styles they use.

The pieces :mod:`contigmap.io.xlsx` assembles into a workbook. A table column becomes
the list of its ``<c>`` elements (ECMA-376 Part 1, 18.3.1.4, "c (Cell)"), built for the
whole column by its dtype rather than cell by cell through a spreadsheet library:

- whole numbers and floats are number cells (``<v>`` holds Python's shortest
  round-trip text, so the stored value is the value written, bit for bit); NaN is an
  empty cell and +-inf the text ``inf`` / ``-inf`` (a workbook has no such number);
- booleans are boolean cells (``t="b"``);
- text is an inline string cell (``t="inlineStr"``) with the ``quotePrefix`` style, so
  no spreadsheet reads it as a formula, number or error code; CR becomes LF (as XML
  reads it back), control characters XML 1.0 forbids become U+FFFD, text is cut at
  Excel's 32,767 characters (:func:`contigmap.io.writers.excel_value`);
- naive dates and times are serial numbers (1900 date system, as
  :func:`openpyxl.utils.datetime.to_excel` counts them) with a date format; dates with
  a time zone are ISO text, since Excel has no time zones.

A column with a number format (:func:`contigmap.io.writers.number_format`) has it on
every body cell, empty ones included, as a spreadsheet would after formatting the
column.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import compress
from typing import Any, Final, cast
from xml.sax.saxutils import escape as xml_escape

import numpy as np
import pandas as pd

from contigmap.errors import ValidationError
from contigmap.io.writers import XLSX_MAX_CHARS, excel_value

__all__ = ["MAX_COLUMNS", "MAX_ROWS", "Style", "Styles", "check_size", "column_cells",
           "column_letter", "display_width", "escape_text", "text_cell"]

MAX_ROWS: Final[int] = 1_048_576
"""Rows in an Excel worksheet."""
MAX_COLUMNS: Final[int] = 16_384
"""Columns in an Excel worksheet (A to XFD)."""

_ATTR_ENTITIES: Final[dict[str, str]] = {'"': "&quot;"}
_SHOWN: Final[int] = 15  # characters of a formatted value that count for its column's width
_SEP: Final[str] = "\x01"  # joins a column's texts; XML forbids it, so no text holds it
_WHITESPACE: Final[tuple[str, ...]] = (" ", "\t", "\n")

DATE_FORMATS: Final[dict[type, str]] = {
    dt.datetime: "yyyy-mm-dd h:mm:ss", dt.date: "yyyy-mm-dd", dt.time: "h:mm:ss"}
"""Number formats of date cells (those openpyxl gives them)."""

# ECMA-376 Part 1, 18.8.30: built-in number formats need no <numFmt> of their own
_BUILTIN_FORMATS: Final[dict[str, int]] = {
    "General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10,
    "h:mm:ss": 21}


# --------------------------------------------------------------------------- styles


@dataclass(frozen=True)
class Style:
    """A cell style: font, fill, alignment, number format and the quote-prefix flag.

    Attributes
    ----------
    font
        ``regular``, ``bold`` or ``note`` (italic, grey: the row of column names under
        a row of labels).
    shaded
        A header fill (``#E8E4D8``).
    wrap
        Wrap the text, aligned to the top.
    number_format
        An Excel number format, or None for General.
    quote
        The ``quotePrefix`` flag of text cells.
    """

    font: str = "regular"
    shaded: bool = False
    wrap: bool = False
    number_format: str | None = None
    quote: bool = False


_FONTS: Final[dict[str, str]] = {
    "regular": '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>',
    "bold": '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>',
    "note": '<font><i/><sz val="11"/><color rgb="FF555555"/><name val="Calibri"/>'
            '<family val="2"/></font>',
}
_FILLS: Final[str] = (
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFE8E4D8"/>'
    '<bgColor indexed="64"/></patternFill></fill></fills>')


class Styles:
    """The workbook's cell styles, numbered in order of first use (so files repeat).

    Index 0 is the default style; :meth:`index` adds a style when it is new.
    """

    def __init__(self) -> None:
        self._index: dict[Style, int] = {Style(): 0}

    def index(self, style: Style) -> int:
        """Return the ``s`` attribute value of cells in ``style``."""
        found = self._index.get(style)
        if found is None:
            found = self._index[style] = len(self._index)
        return found

    def xml(self) -> str:
        """Return ``xl/styles.xml`` (ECMA-376 Part 1, 18.8 "Styles")."""
        custom: dict[str, int] = {}
        for style in self._index:
            fmt = style.number_format
            if fmt is not None and fmt not in _BUILTIN_FORMATS and fmt not in custom:
                custom[fmt] = 164 + len(custom)  # ids from 164 up are the file's own
        fmts = "".join(f'<numFmt numFmtId="{i}" formatCode="{escape_text(f, attr=True)}"/>'
                       for f, i in custom.items())
        fonts = list(_FONTS)
        xfs = "".join(self._xf(s, custom, fonts) for s in self._index)
        return ("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                + (f'<numFmts count="{len(custom)}">{fmts}</numFmts>' if custom else "")
                + f'<fonts count="{len(fonts)}">{"".join(_FONTS.values())}</fonts>' + _FILLS
                + '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/>'
                '</border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
                f'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="{len(self._index)}">'
                f'{xfs}</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
                'builtinId="0"/></cellStyles><dxfs count="0"/><tableStyles count="0"/>'
                "</styleSheet>")

    @staticmethod
    def _xf(style: Style, custom: dict[str, int], fonts: list[str]) -> str:
        fmt = style.number_format
        fmt_id = 0 if fmt is None else _BUILTIN_FORMATS.get(fmt, custom.get(fmt, 0))
        attrs = (f'numFmtId="{fmt_id}" fontId="{fonts.index(style.font)}" '
                 f'fillId="{2 if style.shaded else 0}" borderId="0" xfId="0"')
        attrs += ' applyNumberFormat="1"' if fmt_id else ""
        attrs += ' applyFont="1"' if style.font != "regular" else ""
        attrs += ' applyFill="1"' if style.shaded else ""
        attrs += ' quotePrefix="1"' if style.quote else ""
        if style.wrap:
            return f'<xf {attrs} applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
        return f"<xf {attrs}/>"


# --------------------------------------------------------------------------- text


def column_letter(index: int) -> str:
    """Return the letters of the 0-based column ``index`` (0 -> ``A``, 26 -> ``AA``)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def escape_text(text: str, *, attr: bool = False) -> str:
    """Escape ``&``, ``<`` and ``>`` (and ``"`` in an attribute) for XML."""
    return xml_escape(text, _ATTR_ENTITIES) if attr else xml_escape(text)


def _inline(ref: str, style: int, text: str) -> str:
    if not text:  # an empty text is an empty (but styled) cell
        return f'<c r="{ref}" s="{style}"/>'
    space = ' xml:space="preserve"' if text.startswith(_WHITESPACE) or text.endswith(
        _WHITESPACE) else ""
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _text_cells(col: _Column, texts: list[str | None], plain: bool) -> list[str]:
    """:func:`_inline` (or :func:`_blank` for None) of each escaped text, in one pass.

    ``plain``: no text is None or empty or starts or ends with white space (the usual
    case), so all cells take one form.
    """
    head, mid = f'<c r="{col.letter}', f'" s="{col.text}" t="inlineStr"><is><t'
    if plain:
        return [f"{head}{r}{mid}>{t}</t></is></c>" for r, t in zip(col.rows, texts, strict=True)]
    blank = f'" s="{col.number}"/>' if col.number else None
    out: list[str] = []
    for r, t in zip(col.rows, texts, strict=True):
        if t is None:
            out.append(f"{head}{r}{blank}" if blank else "")
        elif not t:
            out.append(f'{head}{r}" s="{col.text}"/>')
        elif t[0] in _WHITESPACE or t[-1] in _WHITESPACE:
            out.append(f'{head}{r}{mid} xml:space="preserve">{t}</t></is></c>')
        else:
            out.append(f"{head}{r}{mid}>{t}</t></is></c>")
    return out


def text_cell(ref: str, style: int, value: Any) -> str:
    """Return the inline string cell at ``ref`` holding ``value`` as text (see module)."""
    text = excel_value(value)
    return _inline(ref, style, escape_text(text if isinstance(text, str) else str(text)))


def _clean_texts(values: list[Any]) -> tuple[list[str | None], bool]:
    """Escaped, storable texts (None where missing) of a column whose values are str or missing.

    All at once when no text needs cleaning (:func:`_scan_texts`), the usual case; else
    one by one through :func:`excel_value`. Also returns whether the texts are plain (see
    :func:`_text_cells`): never when a value is missing.
    """
    texts: list[Any] = values
    try:
        joined = _SEP.join(texts)  # all texts? (else a TypeError, at once)
    except TypeError:
        texts = [v if isinstance(v, str) else "" for v in values]
        joined = _SEP.join(texts)
    clean, plain = _scan_texts(joined, len(texts)) if texts else (False, False)
    if not clean:
        return [escape_text(excel_value(v)) if isinstance(v, str) else None
                for v in values], False
    escaped: list[str | None] = list(escape_text(joined).split(_SEP))
    if texts is values:
        return escaped, plain
    return [e if isinstance(v, str) else None for v, e in zip(values, escaped, strict=True)], False


# the only control characters a clean join of texts holds (its separator, tab, newline)
_ALLOWED_CONTROLS: Final[tuple[int, ...]] = (ord(_SEP), ord("\t"), ord("\n"))
_SPACES: Final[tuple[int, ...]] = tuple(map(ord, _WHITESPACE))


def _scan_texts(joined: str, n: int) -> tuple[bool, bool]:
    """Look at ``n`` texts joined by ``_SEP`` at once, as an array of code points.

    Returns
    -------
    clean : bool
        No text holds ``_SEP``, CR or another control character XML forbids, and none is
        longer than a cell holds: each is stored as it is.
    plain : bool
        Clean, and no text is empty or starts or ends with white space.
    """
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    seps = np.flatnonzero(codes == ord(_SEP))
    controls = codes[codes < 32]
    if len(seps) != n - 1 or not np.isin(controls, _ALLOWED_CONTROLS).all():
        return False, False  # a text holds _SEP, CR or a control character XML forbids
    starts = np.concatenate(([0], seps + 1))  # text i: codes[starts[i]:ends[i]]
    ends = np.concatenate((seps, [len(codes)]))
    if len(codes) > XLSX_MAX_CHARS and (ends - starts).max() > XLSX_MAX_CHARS:
        return False, False
    if (ends == starts).any():
        return True, False
    edges = np.concatenate((codes[starts], codes[ends - 1]))
    return True, not np.isin(edges, _SPACES).any()


# --------------------------------------------------------------------------- numbers


def _number_text(value: float) -> str:
    text = repr(value)  # the shortest text that reads back as the same double
    return text[:-2] if text.endswith(".0") else text


def _excel_serial(value: dt.datetime | dt.date | dt.time) -> float:
    from openpyxl.utils.datetime import to_excel

    return float(to_excel(value))


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class _Column:
    letter: str
    rows: list[str]  # row numbers as text, one per body row
    number: int  # style of numbers and empty cells (0: none)
    text: int  # style of text cells
    styles: Styles


def _blank(col: _Column, ref: str) -> str:
    return f'<c r="{ref}" s="{col.number}"/>' if col.number else ""


def _numbers(col: _Column, values: np.ndarray, sample: int) -> tuple[list[str], int]:
    """Return an integer or float column's cells and its widest first value's width.

    See :func:`column_cells`.
    """
    s = f' s="{col.number}"' if col.number else ""
    L = col.letter  # noqa: N806
    if values.dtype.kind in "iu":
        ints = list(map(str, values.tolist()))
        return ([f'<c r="{L}{r}"{s}><v>{t}</v></c>' for r, t in zip(col.rows, ints, strict=True)],
                max(map(len, ints[:sample]), default=0))
    floats = values.astype(np.float64, copy=False)
    texts = _number_texts(floats)
    width = _float_width(floats[:sample], texts[:sample])
    if np.isinf(floats).any():  # "inf" is text: cell by cell
        return [_any_cell(col, f"{L}{r}", v)
                for r, v in zip(col.rows, floats.tolist(), strict=True)], width
    if not np.isnan(floats).any():
        return [f'<c r="{L}{r}"{s}><v>{t}</v></c>'
                for r, t in zip(col.rows, texts, strict=True)], width
    return [f'<c r="{L}{r}"{s}><v>{t}</v></c>' if t is not None else _blank(col, f"{L}{r}")
            for r, t in zip(col.rows, texts, strict=True)], width


def _float_width(floats: np.ndarray, texts: list[str | None]) -> int:
    """Length of the longest ``str`` of the non-NaN ``floats``, from their :func:`_number_texts`.

    The text of a whole number below 1e16 in size lacks the ``.0`` its ``str`` has (-0.0
    included: ``-0`` for ``-0.0``); any other text is its ``str``.
    """
    whole = (floats == np.trunc(floats)) & (np.abs(floats) < 1e16)
    other = ~whole & ~np.isnan(floats)
    known = cast("list[str]", texts)  # the two masks pick no None (NaN)
    return max(max(map(len, compress(known, whole.tolist())), default=-2) + 2,
               max(map(len, compress(known, other.tolist())), default=0))


def _number_texts(floats: np.ndarray) -> list[str | None]:
    """:func:`_number_text` of each non-NaN value (None for NaN), in C loops.

    Each distinct value (by its bits: -0.0 is not 0.0) is formatted once, unless nearly
    all differ: columns repeat many values (rounded scores, shares, costs), and ``repr``
    is the costly step.
    """
    if not len(floats):
        return []
    uniques, inverse = np.unique(np.ascontiguousarray(floats, dtype=np.float64).view(np.int64),
                                 return_inverse=True)
    if 4 * len(uniques) > 3 * len(floats):
        return _reprs(floats)
    texts: list[str | None] = np.array(_reprs(uniques.view(np.float64)),
                                       dtype=object)[inverse.ravel()].tolist()
    return texts


def _reprs(floats: np.ndarray) -> list[str | None]:
    """:func:`_number_text` of each value (None for NaN) from one ``repr`` of their list.

    The list's text holds each value's ``repr`` joined by ``, `` (which no ``repr`` of a
    float holds); a ``.0`` ends only the ``repr`` of a whole number below 1e16 in size
    (from 1e16 on it has an exponent), and is dropped, as :func:`_number_text` does.
    """
    texts: list[str | None] = list(repr(floats.tolist())[1:-1].replace(".0, ", ", ")
                                   .split(", "))
    last = texts[-1]
    if last is not None and last.endswith(".0"):
        texts[-1] = last[:-2]
    return [None if t == "nan" else t for t in texts] if "nan" in texts else texts


def _any_cell(col: _Column, ref: str, value: Any) -> str:
    """One cell of any value (the slow path: mixed columns, dates, extension dtypes)."""
    value = excel_value(value)
    if value is None:
        return _blank(col, ref)
    if isinstance(value, str):
        return text_cell(ref, col.text, value)
    s = f' s="{col.number}"' if col.number else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    if isinstance(value, float):
        return f'<c r="{ref}"{s}><v>{_number_text(value)}</v></c>'
    if not s:  # a date without a format of its column's: its own date format
        kind = next(k for k in DATE_FORMATS if isinstance(value, k))
        s = f' s="{col.styles.index(Style(number_format=DATE_FORMATS[kind]))}"'
    return f'<c r="{ref}"{s}><v>{_number_text(_excel_serial(value))}</v></c>'


def column_cells(series: pd.Series, letter: str, rows: list[str], styles: Styles,
                 number_format: str | None, *, sample: int = 0) -> tuple[list[str], int]:
    """Return the ``<c>`` elements of one body column ("" where a cell is left out).

    Parameters
    ----------
    series
        The column's values, one per body row from the first; rows past its end are
        empty (a form's rows to fill in).
    letter
        The column's letters.
    rows
        The body rows' numbers, as text.
    styles
        The workbook's styles (new ones are added).
    number_format
        The column's number format, or None.
    sample
        Measure the first ``sample`` values.

    Returns
    -------
    cells : list of str
        One per row.
    width : int
        The display width (:func:`display_width`) of the widest of the first ``sample``
        non-missing values as text (``str``, cut to 15 characters with a number format),
        0 for none.
    """
    col = _Column(letter, rows[:len(series)],
                  styles.index(Style(number_format=number_format)) if number_format else 0,
                  styles.index(Style(number_format=number_format, quote=True)), styles)
    cells, width = _typed_cells(col, series, sample, _SHOWN if number_format else None)
    cells += [_blank(col, f"{letter}{r}") for r in rows[len(series):]]
    return cells, width


def _typed_cells(col: _Column, series: pd.Series, sample: int,
                 cut: int | None) -> tuple[list[str], int]:
    """:func:`column_cells` of the rows ``series`` has, made by its dtype."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        s = f' s="{col.number}"' if col.number else ""
        flags = series.tolist()
        width = 0 if not flags[:sample] else 4 if all(flags[:sample]) else 5  # True, False
        return [f'<c r="{col.letter}{r}"{s} t="b"><v>{"1" if v else "0"}</v></c>'
                for r, v in zip(col.rows, flags, strict=True)], width
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        cells, width = _numbers(col, series.to_numpy(), sample)
        return cells, width if cut is None else min(width, cut)  # number texts are ASCII
    values = series.to_numpy(dtype=object).tolist()
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        width = _widest((v for v in values[:sample] if isinstance(v, str)), cut)
        return _text_cells(col, *_clean_texts(values)), width
    head = series.iloc[:sample]
    width = _widest((str(v) for v in head[head.notna()].tolist()), cut)
    return [_any_cell(col, f"{col.letter}{r}", v)
            for r, v in zip(col.rows, values, strict=True)], width


_WIDE_FROM: Final[int] = 0x2E80  # characters above U+2E80 (CJK) take two columns
_WIDE = re.compile(f"[{chr(_WIDE_FROM + 1)}-{chr(0x10FFFF)}]")


def display_width(text: str) -> int:
    """Columns ``text`` takes in a spreadsheet: two for a CJK character (above U+2E80), else one."""
    if text.isascii():
        return len(text)
    return len(text) + len(_WIDE.findall(text))


def _widest(texts: Iterable[str], cut: int | None = None) -> int:
    """Return the largest :func:`display_width` of ``texts`` (0 for none), each text once.

    ``cut``: measure each text's first ``cut`` characters only. The wide characters of
    all texts are counted at once, in an array of their code points.
    """
    distinct = list(set(texts) if cut is None else {t[:cut] for t in texts})
    joined = "".join(distinct)
    lengths = np.fromiter(map(len, distinct), dtype=np.int64, count=len(distinct))
    if joined.isascii():
        return int(lengths.max(initial=0))
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    wide = np.concatenate(([0], np.cumsum(codes > _WIDE_FROM)))  # wide ones before each
    ends = np.cumsum(lengths)
    return int((lengths + wide[ends] - wide[ends - lengths]).max())


def check_size(rows: int, columns: int, sheet: str) -> None:
    """Raise :class:`~contigmap.errors.ValidationError` when a sheet is larger than Excel's."""
    if rows > MAX_ROWS or columns > MAX_COLUMNS:
        msg = (f"sheet {sheet!r}: {rows:,} rows x {columns:,} columns is more than a worksheet "
               f"holds ({MAX_ROWS:,} x {MAX_COLUMNS:,}); write it as CSV or split it")
        raise ValidationError(msg)
