"""A table joined onto a layer by code (``join:``; issue #19 item 3).

County offices hand over village polygons in one file and population, households and
poor people in a statistics table (人口统计表) keyed by the same 12-digit code.
:func:`apply_joins` reads each ``join:`` table, renames its headers (``columns:``, else
the headers ``contigmap init`` recognises for the layer's role), and left-joins it onto
the layer by the normalised code (text, stripped, ``433124100201.0`` → 12 digits). The
layer's own values win; the table fills blanks and adds columns. Codes on one side only
are reported in a warning on both sides (counts and the first codes); repeated codes in
the table keep their first row, with a warning.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TypeVar

import pandas as pd

from contigmap.config import JoinSpec, LayerSpec
from contigmap.errors import ConfigError
from contigmap.io._common import _missing_column_message, _note, _public, _resolve
from contigmap.io.tables import _infer_table_types, _read_table_file, drop_subtotal_rows

__all__ = ["apply_joins", "join_table", "normalise_codes"]

logger = logging.getLogger(__name__)

_F = TypeVar("_F", bound=pd.DataFrame)
_FIRST = 5


def normalise_codes(codes: pd.Series) -> pd.Series:
    """Codes as stripped text; integral spreadsheet numbers lose ``.0`` (blank: ``None``)."""
    text = codes.astype("string").str.strip()
    text = text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    return text.where(text.notna() & (text != ""), None).astype(object)


def _left_key(frame: pd.DataFrame, spec: LayerSpec, name: str, role: str,
              source: str) -> str:
    """Return the layer's column named by ``on:`` (its own name, renamed, or the id column)."""
    from contigmap.schema import ROLE_SCHEMAS

    if name in frame.columns:
        return name
    renamed = spec.columns.get(name)
    if renamed is not None and renamed in frame.columns:
        return renamed
    id_col = ROLE_SCHEMAS[role].id_column if role in ROLE_SCHEMAS else None
    if name == spec.id and id_col is not None and id_col in frame.columns:
        return id_col
    msg = _missing_column_message(source, name, _public(frame.columns),
                                  what="join column", listed=" (join: on:)",
                                  fix="name the layer's code column first in 'on:'")
    raise ConfigError(msg)


def _first(codes: pd.Series) -> str:
    shown = ", ".join(str(c) for c in codes.head(_FIRST))
    return shown + (", ..." if len(codes) > _FIRST else "")


def join_table(frame: _F, join: JoinSpec, *, spec: LayerSpec, role: str, base_dir: Path,
               source: str, problems: list[str]) -> _F:
    """Left-join one ``join:`` table onto a layer read by :mod:`contigmap.io.read`.

    Parameters
    ----------
    frame
        The layer, renamed (canonical columns).
    join
        The ``join:`` entry.
    spec
        The layer's entry (for ``columns:`` and ``id:``, to find the left key).
    role
        The layer's schema role (for recognised headers).
    base_dir
        The manifest's folder.
    source
        How to name the layer in messages.
    problems
        The layer report's problems; unmatched codes are added.

    Returns
    -------
    pandas.DataFrame
        The layer with the table's columns (the layer's values kept where present).

    Raises
    ------
    ConfigError
        A column of ``on:`` is not in the layer or the table.
    """
    from contigmap.inputs import match_column

    left_name, right_name = next(iter(join.on.items()))
    left = _left_key(frame, spec, left_name, role, source)
    where = f"{source} join {join.path.name}"
    table_spec = LayerSpec(path=join.path, layer=join.layer, encoding=join.encoding,
                           header_row=join.header_row, skip_rows=join.skip_rows)
    path = _resolve(table_spec, base_dir, where)
    raw = _read_table_file(path, table_spec, where, problems, sheet_name=join.layer)
    raw.columns = [str(c).strip() for c in raw.columns]
    if right_name not in raw.columns:
        msg = _missing_column_message(where, right_name, raw.columns, what="join column",
                                      listed=" (join: on:)", fix="fix 'on:' in region.yaml")
        raise ConfigError(msg)
    if join.header_row is not None:  # a report: its subtotal and note rows, listed
        raw = drop_subtotal_rows(raw, table_spec, right_name, where, problems)
    key = normalise_codes(raw[right_name])
    rename = {c: join.columns.get(c) or match_column(role, c) or c
              for c in raw.columns if c != right_name}
    table = _infer_table_types(raw.drop(columns=[right_name]).rename(columns=rename),
                               keep_text=set())
    table = table.loc[:, ~table.columns.duplicated()]
    table.index = pd.Index(key.to_numpy(), name="_join_key")
    table = table[table.index.notna()]
    repeated = table.index.duplicated(keep="first")
    if repeated.any():
        _note(problems, where, f"{int(repeated.sum())} repeated code(s) "
              f"({_first(pd.Series(table.index[repeated]))}); the first row of each is used")
        table = table[~repeated]
    codes = normalise_codes(frame[left])
    in_table = codes.isin(set(table.index)).to_numpy()
    unused = ~table.index.isin(set(codes.dropna()))
    if (~in_table).any() or unused.any():
        _note(problems, where, f"{int((~in_table).sum())} of {len(frame)} features have no row "
              f"in the table ({_first(codes[~in_table].fillna('(blank)'))}); "
              f"{int(unused.sum())} of {len(table)} table rows match no feature "
              f"({_first(pd.Series(table.index[unused]))}); their values are left empty / "
              "unused: check the codes (12 digits) on both sides")
    joined = table.reindex(codes.to_numpy())
    out = frame.copy()
    for col in joined.columns:
        values = joined[col].to_numpy()
        if col in out.columns:
            out[col] = out[col].where(out[col].notna(), pd.Series(values, index=out.index))
        else:
            out[col] = values
    logger.info("%s: %d of %d features joined (%d columns)", where, int(in_table.sum()),
                len(frame), joined.shape[1])
    return out


def apply_joins(frame: _F, spec: LayerSpec, *, role: str, base_dir: Path, source: str,
                problems: list[str]) -> _F:
    """Apply every ``join:`` of a layer entry in order (:func:`join_table`)."""
    if spec.join is None:
        return frame
    joins = spec.join if isinstance(spec.join, list) else [spec.join]
    for join in joins:
        frame = join_table(frame, join, spec=spec, role=role, base_dir=base_dir,
                           source=source, problems=problems)
    return frame
