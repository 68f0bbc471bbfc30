"""Safe and reproducible output files: text from the data never runs, reruns are byte-identical.

Every CSV, XLSX and GeoPackage contigmap writes follows these rules, through this
module and, for workbooks, :mod:`contigmap.io.xlsx` (:func:`contigmap.io.write.write_table`,
:func:`contigmap.io.write.write_vector`, the priority workbook and the report's
``tables.xlsx``):

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
import logging
import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from contigmap.columns import describe_column
from contigmap.errors import ConfigError
from contigmap.io.csv_text import csv_text

__all__ = [
    "CSV_FORMULA_PREFIXES",
    "FIXED_DATE",
    "XLSX_MAX_CHARS",
    "csv_safe",
    "excel_value",
    "fixed_gdal_date",
    "gdal_date",
    "number_format",
    "output_datetime",
    "source_date_epoch",
    "write_csv",
]

logger = logging.getLogger(__name__)

FIXED_DATE: Final[dt.datetime] = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""The date stamped into outputs when ``SOURCE_DATE_EPOCH`` is not set."""

CSV_FORMULA_PREFIXES: Final[tuple[str, ...]] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV cell as a formula (OWASP)."""

# XML 1.0 forbids these control characters (https://www.w3.org/TR/xml/#charsets)
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_MAX_CHARS: Final[int] = 32_767
"""Characters an Excel cell holds."""


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
    for j, (_, col) in enumerate(pd.DataFrame(table).items()):
        if _is_text_column(col) and not _plain_strings(col):
            out.isetitem(j, col.astype(object).map(_neutralise).to_numpy())
    out.columns = pd.Index([_neutralise(c) for c in out.columns])
    return out


def _plain_strings(col: pd.Series) -> bool:
    """Whether ``col`` is a string column (``str`` dtype) none of whose texts needs a quote.

    Checked at once by the string dtype's own ``startswith``; such a column is written
    as it is (the same text and empty cells as its quoted copy would give).
    """
    if not isinstance(col.dtype, pd.StringDtype):
        return False
    starts = col.str.startswith(CSV_FORMULA_PREFIXES)
    return not bool(starts.to_numpy(dtype=bool, na_value=False).any())


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    """Write ``table`` as UTF-8 CSV with a BOM (so Excel shows Chinese), formula-safe.

    See :func:`csv_safe`. No index column. Lines end in CRLF as RFC 4180 has it; this
    also makes the writer quote a text cell holding a lone CR, which would otherwise
    split its row in two when read back. The text comes from
    :func:`contigmap.io.csv_text.csv_text` (the same bytes as pandas' ``to_csv`` of
    :func:`csv_safe`'s copy), else from that ``to_csv`` for the tables it does not format.
    """
    text = csv_text(table, CSV_FORMULA_PREFIXES)  # pandas' bytes, a column at a time
    if text is None:
        csv_safe(table).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    else:
        Path(path).write_bytes(text.encode("utf-8-sig"))


# --------------------------------------------------------------------------- xlsx


def excel_value(value: Any) -> Any:
    """Convert ``value`` to what a worksheet cell holds: None, bool, int, float, date or str.

    NaN / None / NA / NaT are None (an empty cell); +-inf the text ``inf`` / ``-inf``
    (a workbook has no such number; pandas writes the same); dates with a time zone ISO
    text (Excel has none); other values their text, with CR as LF, the control
    characters XML 1.0 forbids as U+FFFD and at most Excel's 32,767 characters.
    """
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
    return text[:XLSX_MAX_CHARS]


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
