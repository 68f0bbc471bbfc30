"""Reading tables: CSV/TXT (delimiter, encoding) and Excel workbooks, and their types.

A CSV is read as UTF-8 (with or without BOM), else as GB18030 with a warning; its
delimiter is guessed from the header line. Every cell is read as text first; only
columns that are all numbers and are not ids or codes become numbers
(:func:`_infer_table_types`), so 12-digit village codes keep their leading zeros.
Longitude / latitude columns are found by name (:func:`_table_xy_columns`).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from contigmap.config import LayerSpec
from contigmap.errors import LayerError, ValidationError
from contigmap.io._common import _missing_column_message, _note, _public
from contigmap.io.recode import _Part

_X_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "东经")
_Y_NAMES = ("lat", "latitude", "y", "纬度", "北纬")
_CODE_NAME = re.compile(r"(^id$|_id$|^id_|code|代码|编码|编号)", re.IGNORECASE)


def _infer_table_types(df: pd.DataFrame, keep_text: set[str]) -> pd.DataFrame:
    """Turn all-numeric text columns of a table into numbers, except ids and codes.

    A column stays text when it is in ``keep_text``, its name looks like an id or a
    code (``*_id``, ``code``, ``代码``, ``编码``), or a value has a leading zero.
    """
    out = df.copy()
    for col in out.columns:
        if col in keep_text or _CODE_NAME.search(str(col)):
            continue
        text = out[col].dropna().astype(str).str.strip()
        if text.empty or text.str.match(r"^[+-]?0\d").any():
            continue
        numbers = pd.to_numeric(text, errors="coerce")
        if numbers.notna().all():
            out[col] = pd.to_numeric(out[col].astype(str).str.strip(), errors="coerce")
            if out[col].isna().sum() != df[col].isna().sum():  # pragma: no cover - guard
                out[col] = df[col]
    return out


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
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xls"):
            sheet: str | int = sheet_name if sheet_name is not None else 0
            try:
                return pd.read_excel(path, sheet_name=sheet, dtype=str)
            except ValueError as err:
                if sheet_name is None or "not found" not in str(err):
                    raise
                with pd.ExcelFile(path) as book:
                    names = book.sheet_names
                key = "sheets:" if spec.sheets else "layer:"
                msg = (
                    f"{source}: no sheet '{sheet_name}' in {path.name} (it has: "
                    f"{', '.join(map(str, names))}); fix '{key}' in region.yaml"
                )
                raise LayerError(msg) from err
        if spec.encoding is not None:
            return pd.read_csv(path, dtype=str, encoding=spec.encoding, sep=_delimiter(path))
        try:
            return pd.read_csv(path, dtype=str, encoding="utf-8-sig", sep=_delimiter(path))
        except UnicodeDecodeError:
            df = pd.read_csv(path, dtype=str, encoding="gb18030", sep=_delimiter(path))
            _note(problems, source, "not UTF-8; read as GB18030 (add 'encoding: gbk' to confirm)")
            return df
    except ValueError as err:
        if "Worksheet" in str(err) or "sheet" in str(err).lower():
            msg = f"{source}: {err}; fix 'layer:' (the sheet name) in region.yaml"
            raise LayerError(msg) from err
        msg = f"{source}: cannot read {path.name} as a table ({err})"
        raise LayerError(msg) from err
    except (OSError, UnicodeDecodeError, LookupError) as err:
        msg = f"{source}: cannot read {path.name} ({err}); check the file and 'encoding:'"
        raise LayerError(msg) from err
    except ImportError as err:  # a reader for this format is not installed (e.g. legacy .xls)
        msg = (f"{source}: cannot read {path.name}: {err}; save it as .xlsx or CSV UTF-8 "
               "in Excel or WPS")
        raise LayerError(msg) from err
    except (zipfile.BadZipFile, KeyError, InvalidFileException) as err:
        msg = (f"{source}: {path.name} is not a readable Excel workbook ({type(err).__name__}: "
               f"{err}); open it in Excel or WPS and save it again as .xlsx")
        raise LayerError(msg) from err
