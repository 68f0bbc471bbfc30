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
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import os
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from contigmap.errors import ConfigError

__all__ = [
    "CSV_FORMULA_PREFIXES",
    "FIXED_DATE",
    "csv_safe",
    "excel_cell",
    "fixed_gdal_date",
    "gdal_date",
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


def write_sheet(ws: Any, table: pd.DataFrame, *, header: bool = True) -> None:
    """Append ``table``'s rows (after a bold header of its column names) to ``ws``.

    Every cell goes through :func:`excel_cell`. The index is not written.
    """
    from openpyxl.styles import Font

    if header:
        cells = [excel_cell(ws, str(c)) for c in table.columns]
        for cell in cells:
            cell.font = Font(bold=True)
        ws.append(cells)
    for row in pd.DataFrame(table).itertuples(index=False, name=None):
        ws.append([excel_cell(ws, v) for v in row])


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
               path: str | Path) -> None:
    r"""Write one sheet per table (header row of column names, no index), reproducibly.

    Parameters
    ----------
    sheets
        ``{sheet name: table}`` (or pairs), in sheet order; names must be valid Excel
        sheet names (at most 31 characters, none of ``[]:*?/\``).
    path
        The ``.xlsx`` to write (not atomically: callers use
        :func:`contigmap.io.write.atomic_path`).
    """
    from openpyxl import Workbook

    wb = Workbook()
    default = wb.active
    items = list(sheets.items()) if isinstance(sheets, Mapping) else list(sheets)
    for name, table in items:
        write_sheet(wb.create_sheet(title=name), table)
    if items and default is not None:
        wb.remove(default)
    save_workbook(wb, path)
