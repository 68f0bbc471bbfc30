"""Safe and reproducible output files: text from the data never runs, reruns are byte-identical.

Every CSV, XLSX and GeoPackage contigmap writes goes through this module
(:func:`contigmap.io.write.write_table`, :func:`contigmap.io.write.write_vector`, the
priority workbook and the report's ``tables.xlsx``):

- **No formulas from data.** A village called ``=HYPERLINK("http://x","y")`` must stay
  a name. In XLSX every text cell is written as a string cell (``data_type 's'``) with
  the ``quotePrefix`` style flag, so neither Excel nor LibreOffice re-interprets it as a
  formula, number or error code; numbers stay numeric cells and missing values stay
  empty. In CSV, which has no cell types, a text cell starting with ``=``, ``+``, ``-``,
  ``@``, TAB or CR gets a leading single quote ``'``, as the OWASP guidance on CSV
  injection advises (https://owasp.org/www-community/attacks/CSV_Injection); numeric
  columns are never touched, so a negative number stays ``-2.5``.
- **No timestamps.** XLSX core properties (created / modified) and the zip members'
  dates, and the dates GDAL writes into GeoPackages (``gpkg_contents.last_change``),
  are set to :func:`output_datetime`: ``SOURCE_DATE_EPOCH`` when set
  (https://reproducible-builds.org/specs/source-date-epoch/), else 2000-01-01 UTC.
  Two runs on the same input therefore write the same bytes, and the SHA-256 in
  ``run_manifest.json`` proves a result unchanged.
- **Readable numbers.** Every numeric XLSX column gets a number format
  (:func:`number_format`) chosen from the column dictionary's unit
  (:mod:`contigmap.columns`), else from the column's name and values: whole counts
  ``#,##0``, money ``#,##0`` (CNY) or ``#,##0.0`` (万元), 0-1 shares ``0.0%``, minutes
  ``0``, others ``#,##0.00``. The stored value keeps its full precision.
"""


from __future__ import annotations

import datetime as dt
import io
import logging
import math
import os
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from contigmap.columns import column_dictionary, describe_column
from contigmap.errors import ConfigError

__all__ = [
    "CSV_FORMULA_PREFIXES",
    "FIXED_DATE",
    "csv_safe",
    "excel_cell",
    "fixed_gdal_date",
    "gdal_date",
    "number_format",
    "output_datetime",
    "save_workbook",
    "source_date_epoch",
    "write_csv",
    "write_sheet",
    "write_xlsx",
]

logger = logging.getLogger(__name__)

FIXED_DATE: Final[dt.datetime] = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""The date stamped into outputs when ``SOURCE_DATE_EPOCH`` is not set."""

CSV_FORMULA_PREFIXES: Final[tuple[str, ...]] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV cell as a formula (OWASP)."""

# XML 1.0 forbids these control characters; openpyxl refuses them (IllegalCharacterError)
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XLSX_MAX_CHARS: Final[int] = 32_767
_ZIP_MIN = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)  # the zip format's (DOS) epoch
_ZIP_MAX = dt.datetime(2107, 12, 31, 23, 59, 58, tzinfo=dt.UTC)
_CORE_XML: Final[str] = "docProps/core.xml"


# --------------------------------------------------------------------------- dates


def source_date_epoch() -> dt.datetime | None:
    """``SOURCE_DATE_EPOCH`` as a UTC datetime, or None when it is not set.

    Raises
    ------
    ConfigError
        When it is set but is not a whole number of seconds in years 1970-9999.
    """
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return None
    try:
        seconds = int(raw)
        if seconds < 0:
            raise ValueError(raw)
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (ValueError, OverflowError, OSError):
        msg = (f"SOURCE_DATE_EPOCH={raw!r} is not a whole number of seconds since "
               "1970-01-01 UTC; unset it or set it like SOURCE_DATE_EPOCH=946684800")
        raise ConfigError(msg) from None


def output_datetime() -> dt.datetime:
    """Return the timestamp written into output files: ``SOURCE_DATE_EPOCH`` or 2000-01-01 UTC."""
    return source_date_epoch() or FIXED_DATE


def gdal_date(when: dt.datetime | None = None) -> str:
    """``when`` (default :func:`output_datetime`) as GDAL's ``OGR_CURRENT_DATE`` text."""
    when = output_datetime() if when is None else when
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def fixed_gdal_date(date: str | None = None) -> Iterator[None]:
    """Make GDAL stamp written files with ``date`` instead of the current time.

    So the same input gives byte-identical GeoPackages. Sets the ``OGR_CURRENT_DATE``
    configuration option (read by the GPKG driver for ``gpkg_contents.last_change``
    and its metadata; see https://gdal.org/drivers/vector/gpkg.html) through the
    environment, and restores the previous value on exit.

    Parameters
    ----------
    date
        ``YYYY-MM-DDTHH:MM:SSZ``; default :func:`gdal_date` (``SOURCE_DATE_EPOCH`` or
        2000-01-01).
    """
    old = os.environ.get("OGR_CURRENT_DATE")
    os.environ["OGR_CURRENT_DATE"] = gdal_date() if date is None else date
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("OGR_CURRENT_DATE", None)
        else:
            os.environ["OGR_CURRENT_DATE"] = old


# --------------------------------------------------------------------------- csv


def _neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(CSV_FORMULA_PREFIXES):
        return "'" + value
    return value


def _is_text_column(series: pd.Series) -> bool:
    dtype = series.dtype
    return not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
                or pd.api.types.is_datetime64_any_dtype(dtype)
                or pd.api.types.is_timedelta64_dtype(dtype))


def csv_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``table`` whose text cells cannot start a spreadsheet formula.

    Text cells (``str`` values of object, string or categorical columns) and column
    names that start with ``=``, ``+``, ``-``, ``@``, TAB or CR get a leading ``'``, as
    the OWASP guidance on CSV injection advises
    (https://owasp.org/www-community/attacks/CSV_Injection). Numeric, boolean and
    date columns are left as they are: ``-2.5`` stays a number.
    """
    out = pd.DataFrame(table).copy()
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        if _is_text_column(col):
            out.isetitem(j, col.astype(object).map(_neutralise).to_numpy())
    out.columns = pd.Index([_neutralise(c) for c in out.columns])
    return out


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    """Write ``table`` as UTF-8 CSV with a BOM (so Excel shows Chinese), formula-safe.

    See :func:`csv_safe`. No index column. Lines end in CRLF as RFC 4180 has it; this
    also makes the writer quote a text cell holding a lone CR, which would otherwise
    split its row in two when read back.
    """
    csv_safe(table).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


# --------------------------------------------------------------------------- xlsx


def _excel_value(value: Any) -> Any:
    """Convert to a value openpyxl stores as it is: None, bool, int, float, datetime or str."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return None
        if math.isinf(number):  # no such number in a workbook; pandas writes "inf" too
            return "inf" if number > 0 else "-inf"
        return number
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime | dt.date | dt.time):
        if getattr(value, "tzinfo", None) is not None:
            return value.isoformat()  # Excel has no time zones: keep the text
        return value
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    # XML reads a bare CR back as LF (line-end normalisation); say so rather than
    # depend on the XML library: a line break in a cell is LF in Excel
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _XML_ILLEGAL.search(text):
        logger.debug("replaced control characters in a cell that XLSX cannot store: %r", text)
        text = _XML_ILLEGAL.sub("\ufffd", text)
    return text[:_XLSX_MAX_CHARS]


def excel_cell(ws: Any, value: Any) -> Any:
    """Make an openpyxl cell of worksheet ``ws`` holding ``value``; text is never a formula.

    Text becomes a string cell (``data_type 's'``, even when it starts with ``=`` or
    looks like an error code such as ``#N/A``) with the ``quotePrefix`` style, numbers
    stay numbers and NaN / None / NA an empty cell. Control characters that XLSX cannot
    store become U+FFFD, a CR becomes a line break (LF, as XML would read it back);
    text is cut at Excel's 32,767 characters. Pass the cells to ``ws.append``.
    """
    from openpyxl.cell.cell import Cell

    value = _excel_value(value)
    cell = Cell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


# --------------------------------------------------------------------------- number formats

WHOLE: Final[str] = "#,##0"
SHARE: Final[str] = "0.0%"
MINUTES: Final[str] = "0"
WAN: Final[str] = "#,##0.0"
OTHER: Final[str] = "#,##0.00"

_UNIT_FORMATS: Final[dict[str, str]] = {
    "people": WHOLE, "households": WHOLE, "count": WHOLE, "villages": WHOLE, "rank": WHOLE,
    "1-4": "0", "0-3": "0", "0/1": "0",
    "CNY": WHOLE, "CNY/year": WHOLE, "CNY/person": WHOLE, "CNY/household": WHOLE,
    "yuan/person/year": WHOLE, "万元": WAN, "10k CNY": WAN,
    "CNY/m3": OTHER, "CNY/kWh": OTHER,
    "min": MINUTES, "min-equivalent": MINUTES,
    "share 0-1": SHARE,
    "m": WHOLE, "kWh/year": WHOLE, "m3/day": "#,##0.0", "ha": "#,##0.0", "km2": OTHER,
    "0-100": "0.0", "0-1": "0.00", "deg": "0.0",
}
"""Number format by the column dictionary's unit."""

# (name endings, format), first match wins; for columns the dictionary does not know
_NAME_FORMATS: Final[tuple[tuple[tuple[str, ...], str], ...]] = (
    (("_wan", "万元"), WAN),
    (("_cny_kwh", "_cny_m3", "_lcoe", "_lcow"), OTHER),
    (("_cny", "_cny_per_person", "_cny_year"), WHOLE),
    (("_min", "_minutes"), MINUTES),
    (("pop", "households", "beneficiaries", "_count", "units", "_funded", "_within_budget",
      "_rank", "_n"), WHOLE),
    (("_m", "_kwh_year"), WHOLE),
)


def _is_share(column: str) -> bool:
    return column.endswith(("_share", "_incidence", "_rate")) or column == "share"


def _within_0_1(values: pd.Series) -> bool:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    return bool(len(numbers) == 0 or ((numbers >= 0) & (numbers <= 1)).all())


def _whole(values: pd.Series) -> bool:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    return bool(len(numbers) and (numbers == numbers.round()).all())


def number_format(column: str, values: pd.Series, *, unit: str | None = None) -> str | None:
    """Excel number format for a column: from its unit, else its name and values.

    Parameters
    ----------
    column
        Column name; its unit is looked up in the column dictionary
        (:func:`contigmap.columns.describe_column`) unless ``unit`` is given.
    values
        The column. Text, boolean and date columns get no format (``None``); a share
        (``share 0-1``, or a name ending ``_share`` / ``_incidence``) shows as a
        percentage only when all its values are within 0-1.
    unit
        The unit, when the caller knows it.

    Returns
    -------
    str or None
        ``#,##0`` for counts, people and CNY; ``#,##0.0`` for 万元; ``0.0%`` for shares;
        ``0`` for minutes and classes; ``0.000000`` for longitude and latitude;
        ``#,##0`` for other whole-number columns and ``#,##0.00`` for other numbers.
    """
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        return None
    if unit is None:
        info = describe_column(column)
        unit = info.unit if info is not None else ""
    if column in ("lon", "lat", "longitude", "latitude"):
        return "0.000000"
    if unit == "share 0-1" or (not unit and _is_share(column)):
        return SHARE if _within_0_1(values) else OTHER
    if unit == "0-1" and _whole(values):  # a 0/1 flag, not a fraction
        return "0"
    if unit in _UNIT_FORMATS:
        return _UNIT_FORMATS[unit]
    if column == "year" or (column.endswith("_year") and pd.api.types.is_integer_dtype(dtype)):
        return "0"
    for endings, fmt in _NAME_FORMATS:
        if column.endswith(endings):
            return fmt
    return WHOLE if pd.api.types.is_integer_dtype(dtype) else OTHER


def _dictionary_units() -> dict[str, str]:
    table = column_dictionary()
    return dict(zip(table["name"].astype(str), table["unit"].astype(str), strict=True))


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _style_header(ws: Any, rows: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    fill = PatternFill("solid", fgColor="E8E4D8")
    for cell in ws[1]:
        cell.font = Font(bold=True)
        if rows == 2:
            cell.fill = fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    if rows == 2:
        for cell in ws[2]:
            cell.font = Font(italic=True, color="555555")
            cell.fill = fill


def write_sheet(ws: Any, table: pd.DataFrame, *, header: bool = True,
                labels: Callable[[str], str] | None = None, formats: bool = True) -> None:
    """Append ``table``'s rows (after a bold header of its column names) to ``ws``.

    Every cell goes through :func:`excel_cell`; every numeric column gets its
    :func:`number_format`. The index is not written.

    Parameters
    ----------
    ws
        An openpyxl worksheet (empty).
    table
        The rows.
    header
        Write the header row(s).
    labels
        ``column name -> label`` (say Chinese headers): row 1 then holds the labels and
        row 2 the column names, both frozen and shaded, with a filter on row 2 and
        column widths that fit the header and the first 500 values.
    formats
        Give numeric columns their :func:`number_format` (off for files that stand for
        someone else's, such as the synthetic messy inputs).
    """
    from openpyxl.utils import get_column_letter

    table = pd.DataFrame(table)
    columns = [str(c) for c in table.columns]
    rows = 0
    if header:
        if labels is not None:
            ws.append([excel_cell(ws, labels(c)) for c in columns])
            rows += 1
        ws.append([excel_cell(ws, c) for c in columns])
        rows += 1
        _style_header(ws, rows)
    for row in table.itertuples(index=False, name=None):
        ws.append([excel_cell(ws, v) for v in row])
    units = _dictionary_units() if formats else {}
    for j, col in enumerate(columns, start=1):
        fmt = number_format(col, table.iloc[:, j - 1], unit=units.get(col, "")) if formats \
            else None
        if fmt is not None:
            for (cell,) in ws.iter_rows(min_row=rows + 1, min_col=j, max_col=j):
                cell.number_format = fmt
        if labels is not None and header:
            shown = [str(v) for v in table.iloc[:500, j - 1] if _excel_value(v) is not None]
            texts = [labels(col), col, *(t[:15] if fmt else t for t in shown)]
            width = max(map(_display_width, texts))
            ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 60)
    if labels is not None and header:
        keys = columns[:2] == ["village_id", "name"] and len(columns) > 2
        ws.freeze_panes = "C3" if keys else "A3"
        if len(table):
            ws.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{len(table) + 2}"


def _zip_date_time(when: dt.datetime) -> tuple[int, int, int, int, int, int]:
    when = min(max(when.astimezone(dt.UTC), _ZIP_MIN), _ZIP_MAX)
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)


def save_workbook(wb: Any, path: str | Path) -> None:
    """Save an openpyxl workbook so that the same content gives the same bytes.

    openpyxl stamps ``docProps/core.xml`` (created, modified) and every zip member
    with the current time. Here both are :func:`output_datetime`; the members keep
    openpyxl's order, compression and content otherwise.
    """
    from openpyxl.xml.functions import tostring

    when = output_datetime()
    stamp = when.astimezone(dt.UTC).replace(tzinfo=None)  # openpyxl: naive means UTC
    wb.properties.created = stamp
    buffer = io.BytesIO()
    wb.save(buffer)  # sets properties.modified to now
    wb.properties.modified = stamp
    core = tostring(wb.properties.to_tree())
    date_time = _zip_date_time(when)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = core if info.filename == _CORE_XML else src.read(info)
            member = zipfile.ZipInfo(info.filename, date_time=date_time)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.create_system = 3  # unix, whatever the platform
            member.external_attr = 0o644 << 16
            dst.writestr(member, data)


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
        :func:`write_sheet`).
    formats
        Number formats on numeric columns (see :func:`write_sheet`).
    """
    from openpyxl import Workbook

    wb = Workbook()
    default = wb.active
    items = list(sheets.items()) if isinstance(sheets, Mapping) else list(sheets)
    for name, table in items:
        write_sheet(wb.create_sheet(title=name), table, labels=labels, formats=formats)
    if items and default is not None:
        wb.remove(default)
    save_workbook(wb, path)
