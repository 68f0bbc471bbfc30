"""Reading tables: CSV/TXT (delimiter, encoding) and Excel workbooks, and their types.

A CSV is read as UTF-8 (with or without BOM), else as GB18030 with a warning; its
delimiter is guessed from the header line. Every cell is read as text first; only
columns that are all numbers and are not ids or codes become numbers
(:func:`_infer_table_types`), so 12-digit village codes keep their leading zeros.
Longitude / latitude columns are found by name (:func:`_table_xy_columns`); their cells
may be decimal degrees or degrees-minutes-seconds text (:func:`parse_dms`).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from openpyxl.utils.exceptions import InvalidFileException

from contigmap.config import LayerSpec
from contigmap.errors import LayerError, ValidationError
from contigmap.io._common import _ROW, _list_rows, _missing_column_message, _note, _public
from contigmap.io.recode import _Part

_X_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "东经")
_Y_NAMES = ("lat", "latitude", "y", "纬度", "北纬")
_CODE_NAME = re.compile(r"(^id$|_id$|^id_|code|代码|编码|编号)", re.IGNORECASE)


# --- degrees-minutes-seconds text in coordinate columns (issue #19 item 6) ---------------

_DMS_MARKS = re.compile(r"[°º˚度′'’分″\"”秒]|^\s*[NSEW东西南北][经纬]?\s*\d|\d\s*[NSEW经纬]\s*$",
                        re.IGNORECASE)
"""Cells that look like DMS (or a hemisphere next to a number): unreadable ones stop."""
_DMS = re.compile(
    r"^(?P<h1>[NSEW]|[东西南北][经纬]?)?\s*(?P<d>\d+(?:\.\d+)?)\s*[°º˚度]\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*(?:′|'|’|分)\s*)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*(?:″|\"|”|''|′′|秒)\s*)?"
    r"(?P<h2>[NSEW]|[东西南北][经纬]?)?$",
    re.IGNORECASE,
)
_HEMI_DECIMAL = re.compile(
    r"^(?P<h1>[NSEW]|[东西南北][经纬])?\s*(?P<d>\d+(?:\.\d+)?)\s*(?P<h2>[NSEW]|[东西南北][经纬]?)?$",
    re.IGNORECASE,
)
_NEGATIVE = frozenset("SW南西")


def parse_dms(text: str) -> float | None:
    """Read degrees-minutes-seconds text as decimal degrees; ``None`` when it is not DMS.

    Accepts ``105°43′12.5″``, ``105度43分12.5秒``, ASCII ``105°43'12.5"``, decimal
    minutes (``105°43.2′``), decimal degrees with a hemisphere (``105.72E``), and a
    hemisphere before or after (``N``, ``S``, ``E``,
    ``W``, 北/南/东/西 or 北纬/东经...; ``S``/``W``/南/西 make it negative). Minutes and
    seconds must be below 60.

    Parameters
    ----------
    text
        One cell.

    Returns
    -------
    float or None
        Decimal degrees ``d + m/60 + s/3600`` (signed), or ``None`` for text that does
        not follow the pattern.
    """
    text = text.strip().replace("\u2032\u2032", "\u2033")
    match = _DMS.match(text)
    if match is None:  # decimal degrees with a hemisphere: 105.72E, N26.5, 东经105.7
        match = _HEMI_DECIMAL.match(text)
        if match is None or not (match["h1"] or match["h2"]):
            return None
        minutes = seconds = "0"
    else:
        minutes, seconds = match["m"] or "0", match["s"] or "0"
    if match["h1"] and match["h2"]:
        return None
    if float(minutes) >= 60 or float(seconds) >= 60:
        return None
    value = float(match["d"]) + float(minutes) / 60.0 + float(seconds) / 3600.0
    hemisphere = (match["h1"] or match["h2"] or " ")[0].upper()
    return -value if hemisphere in _NEGATIVE else value


def coordinate_values(series: pd.Series, *, column: str, rows: Any, where: str) -> NDArray[
    np.float64
]:
    """One coordinate column as decimal degrees (or metres): numbers or DMS text.

    Blank and other non-numeric cells become ``nan`` (the caller leaves those rows out
    with a warning); a cell written as degrees-minutes-seconds is converted with
    :func:`parse_dms`.

    Raises
    ------
    LayerError
        A cell looks like degrees-minutes-seconds (has °, 度, ′, 分, ...) but does not
        parse; the message names the file, row and column.
    """
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, copy=True)
    text = series.astype("string")
    todo = np.flatnonzero(np.isnan(values) & text.notna().to_numpy())
    labels = np.asarray(rows)
    for i in todo:
        cell = str(text.iloc[i])
        if not _DMS_MARKS.search(cell):
            continue
        parsed = parse_dms(cell)
        if parsed is None:
            msg = (f"{where}, {labels[i]}, column '{column}': cannot read '{cell}' as "
                   "degrees-minutes-seconds (write e.g. 105°43′12.5″E or 105.72014)")
            raise LayerError(msg)
        values[i] = parsed
    return values


def excel_engine(path: str | Path) -> Literal["calamine", "openpyxl"]:
    """Return the pandas engine for a workbook: ``calamine`` for ``.xls``, else ``openpyxl``.

    Always passed explicitly: pandas warns when it would have to choose (and will switch
    its ``.xlsx`` default to calamine); ``.xlsx`` stays with openpyxl so that cells read
    as before.
    """
    return "calamine" if Path(path).suffix.lower() == ".xls" else "openpyxl"


def _infer_table_types(df: pd.DataFrame, keep_text: set[str]) -> pd.DataFrame:
    """Turn all-numeric text columns of a table into numbers, except ids and codes.

    A column stays text when it is in ``keep_text``, its name looks like an id or a
    code (``*_id``, ``code``, ``代码``, ``编码``), or a value has a leading zero.
    Values are tested and parsed once per distinct value (:func:`_to_numeric_by_value`).
    """
    out = df.copy()
    for col in out.columns:
        if col in keep_text or _CODE_NAME.search(str(col)):
            continue
        text = out[col].dropna().astype(str).str.strip()
        if text.empty:
            continue
        codes, sample = _distinct(text)
        if sample.str.match(r"^[+-]?0\d").any():
            continue
        numbers = _to_numeric_by_value(text, codes, sample)
        if numbers.notna().all():
            if len(text) == len(out):  # no blank cell: the same text, already parsed
                out[col] = numbers
            else:
                full = out[col].astype(str).str.strip()
                out[col] = _to_numeric_by_value(full, *_distinct(full))
            if out[col].isna().sum() != df[col].isna().sum():  # pragma: no cover - guard
                out[col] = df[col]
    return out


def _distinct(values: pd.Series) -> tuple[NDArray[np.intp], pd.Series]:
    """Codes of ``values`` (``pandas.factorize``, missing ``-1``) and one row per code.

    The sample holds the first row of each distinct value in code order (factorize
    numbers values in order of appearance), then the first missing row, if any.
    """
    codes, _ = pd.factorize(values)
    if not len(codes):
        return codes, values
    seen = np.maximum.accumulate(codes)
    first = np.flatnonzero(codes > np.concatenate(([-1], seen[:-1])))
    missing = np.flatnonzero(codes < 0)[:1]
    return codes, values.iloc[np.concatenate((first, missing))]


def _to_numeric_by_value(
    values: pd.Series, codes: NDArray[np.intp], sample: pd.Series
) -> pd.Series:
    """``pd.to_numeric(values, errors="coerce")``, parsing each distinct value once.

    ``codes`` and ``sample`` are :func:`_distinct` of ``values``. pandas converts each
    cell on its own and picks the result's dtype from the kinds of values it saw
    (integers, floats, missing, ...), which the distinct values (with one missing cell)
    show just as the whole column does; so the numbers of ``sample``, taken back to
    every row by its code, are those of the whole column. A result that is not a NumPy
    number (text kept as it was) comes from pandas on the whole column.
    """
    parsed = pd.to_numeric(sample, errors="coerce")
    if not (isinstance(parsed.dtype, np.dtype) and parsed.dtype.kind in "iuf"):
        return pd.to_numeric(values, errors="coerce")
    numbers = parsed.to_numpy()
    return pd.Series(numbers[codes], index=values.index, name=values.name)


def _table_xy_columns(
    df: pd.DataFrame, spec: _Part, source: str = ""
) -> tuple[str, str] | None:
    """Find the longitude / latitude columns: ``x:``/``y:`` when given, else by name."""

    def find(explicit: str | None, names: tuple[str, ...], axis: str) -> str | None:
        if explicit is not None:
            if explicit in df.columns:
                return explicit
            renamed = spec.columns.get(explicit)
            if renamed is not None and renamed in df.columns:
                return renamed
            return None
        lower = {str(c).lower().strip(): c for c in df.columns}
        for name in names:
            if name in lower:
                return str(lower[name])
        return None

    x = find(spec.x, _X_NAMES, "x")
    y = find(spec.y, _Y_NAMES, "y")
    for explicit, found, axis in ((spec.x, x, "x"), (spec.y, y, "y")):
        if explicit is not None and found is None:
            msg = _missing_column_message(source, explicit, _public(df.columns),
                                          fix=f"fix '{axis}:' in region.yaml")
            raise ValidationError(msg)
    if x is None or y is None:
        return None
    return x, y


def _delimiter(path: Path) -> str:
    """Guess a text table's delimiter from its header line: comma, tab, semicolon or bar."""
    with path.open("rb") as handle:
        header = handle.readline()
    counts = {sep: header.count(sep.encode()) for sep in (",", "\t", ";", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _read_table_file(
    path: Path, spec: LayerSpec, source: str, problems: list[str], sheet_name: str | None = None
) -> pd.DataFrame:
    """Read a CSV/TXT or one sheet of a workbook as text cells, headed as the manifest says.

    With ``header_row:`` / ``skip_rows:`` the frame already carries the private row
    labels (``_src_row``: sheet row numbers); without, the header is the first row.
    """
    suffix = path.suffix.lower()
    report_form = spec.header_row is not None or bool(spec.skip_rows)
    try:
        if suffix in (".xlsx", ".xls"):
            raw = _read_sheet(path, spec, source, sheet_name, headed=not report_form)
        else:
            raw = _read_csv(path, spec, source, problems, headed=not report_form)
    except ValueError as err:
        if "Worksheet" in str(err) or "sheet" in str(err).lower():
            msg = f"{source}: {err}; fix 'layer:' (the sheet name) in region.yaml"
            raise LayerError(msg) from err
        msg = f"{source}: cannot read {path.name} as a table ({err})"
        raise LayerError(msg) from err
    except (OSError, UnicodeDecodeError, LookupError) as err:
        msg = f"{source}: cannot read {path.name} ({err}); check the file and 'encoding:'"
        raise LayerError(msg) from err
    except ImportError as err:  # the .xls reader (python-calamine) is not installed
        msg = (f"{source}: cannot read {path.name}: {err}; install python-calamine (a "
               "contigmap dependency) or save the file as .xlsx or CSV UTF-8")
        raise LayerError(msg) from err
    except (zipfile.BadZipFile, KeyError, InvalidFileException) as err:
        msg = (f"{source}: {path.name} is not a readable Excel workbook ({type(err).__name__}: "
               f"{err}); open it in Excel or WPS and save it again as .xlsx")
        raise LayerError(msg) from err
    if not report_form:
        return raw
    prefix = f"sheet '{sheet_name}' " if sheet_name else ""
    return _apply_header(raw, spec, f"{source} ({path.name})", prefix)


def _read_csv(
    path: Path, spec: LayerSpec, source: str, problems: list[str], *, headed: bool
) -> pd.DataFrame:
    header = 0 if headed else None
    if spec.encoding is not None:
        return pd.read_csv(path, dtype=str, encoding=spec.encoding, sep=_delimiter(path),
                           header=header)
    try:
        return pd.read_csv(path, dtype=str, encoding="utf-8-sig", sep=_delimiter(path),
                           header=header)
    except UnicodeDecodeError:
        df = pd.read_csv(path, dtype=str, encoding="gb18030", sep=_delimiter(path),
                         header=header)
        _note(problems, source, "not UTF-8; read as GB18030 (add 'encoding: gbk' to confirm)")
        return df


def _read_sheet(
    path: Path, spec: LayerSpec, source: str, sheet_name: str | None, *, headed: bool
) -> pd.DataFrame:
    """One sheet as text; legacy ``.xls`` through calamine, numbers without a spurious ``.0``."""
    sheet: str | int = sheet_name if sheet_name is not None else 0
    engine = excel_engine(path)
    header = 0 if headed else None
    try:
        if engine == "openpyxl":
            return pd.read_excel(path, sheet_name=sheet, dtype=str, header=header, engine=engine)
        raw = pd.read_excel(path, sheet_name=sheet, dtype=object, header=header, engine=engine)
    except ValueError as err:
        if sheet_name is None or "not found" not in str(err):
            raise
        with pd.ExcelFile(path, engine=engine) as book:
            names = book.sheet_names
        key = "sheets:" if spec.sheets else "layer:"
        msg = (
            f"{source}: no sheet '{sheet_name}' in {path.name} (it has: "
            f"{', '.join(map(str, names))}); fix '{key}' in region.yaml"
        )
        raise LayerError(msg) from err
    # calamine gives every number as a float: codes stored as numbers lose their '.0'
    raw.columns = [_cell_str(c) for c in raw.columns] if headed else raw.columns
    return raw.map(_cell_str).astype(object).where(raw.notna(), None)


def _cell_str(value: Any) -> Any:
    """Return a cell as text (``640422100001.0`` -> ``640422100001``); blanks stay ``None``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _apply_header(raw: pd.DataFrame, spec: LayerSpec, where: str, prefix: str) -> pd.DataFrame:
    """Take the header from ``header_row:`` (two rows joined), drop the title and ``skip_rows``.

    Merged header cells hold their text in the first cell only: an upper header cell
    is carried right over the blank cells after it, and an upper and a lower cell are
    joined as ``上_下`` (a lower cell alone, or an upper one alone, is the name).
    """
    rows = spec.header_row if isinstance(spec.header_row, list) else [spec.header_row or 1]
    last = rows[-1]
    if last > len(raw):
        msg = (f"{where}: header_row {spec.header_row} is below the last row ({len(raw)}); "
               "fix 'header_row:' in region.yaml")
        raise LayerError(msg)
    cells = [[_cell_str(v) for v in raw.iloc[r - 1]] for r in rows]
    for line in cells[:-1]:  # merged cells of upper rows span to the right
        for j in range(1, len(line)):
            if line[j] is None and cells[-1][j] is not None:
                line[j] = line[j - 1]
    names = []
    for j in range(raw.shape[1]):
        parts = [str(line[j]).strip() for line in cells if line[j] is not None]
        parts = [p for k, p in enumerate(parts) if p and (k == 0 or p != parts[k - 1])]
        names.append("_".join(parts) or f"column {j + 1}")
    keep = [i for i in range(last, len(raw)) if i + 1 not in set(spec.skip_rows)]
    body = raw.iloc[keep].copy()
    body.columns = names
    body = body.loc[:, [not n.startswith("column ") or body[n].notna().any() for n in names]]
    body[_ROW] = [f"{prefix}row {i + 1}" for i in keep]
    return body.reset_index(drop=True)


def drop_subtotal_rows(
    df: pd.DataFrame, spec: LayerSpec, id_column: str, source: str, problems: list[str]
) -> pd.DataFrame:
    """Leave out the subtotal, total and note rows of a report-style sheet, listing them.

    Only for layers read with ``header_row:``. A row is left out when its code
    (``id_column``) is blank, its ``name`` ends in 小计, 合计 or 总计, or it has one
    filled cell only (a note such as ``注：…``).
    """
    if spec.header_row is None or df.empty:
        return df
    public = _public(df.columns)
    text = df[public].apply(lambda col: col.astype("string").str.strip())
    filled = (text.notna() & (text != "")).fillna(False).astype(bool)
    drop = filled.sum(axis=1).to_numpy() <= 1
    if id_column in filled.columns:
        drop |= ~filled[id_column].to_numpy(dtype=bool)
    if "name" in text.columns:
        total = text["name"].str.contains(r"(?:小计|合计|总计)$", regex=True)
        drop |= total.fillna(False).to_numpy(dtype=bool)
    if drop.any():
        _note(problems, source, f"{int(drop.sum())} subtotal, total or note row(s) left out "
              f"({_list_rows(df[_ROW].to_numpy()[drop])}): blank code, a name ending in "
              "小计/合计/总计, or a single filled cell")
    return df.loc[~drop].reset_index(drop=True)
