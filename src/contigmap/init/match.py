"""``contigmap init``, step 2: guess each file's role, CRS and column mapping.

Roles come from headers (:mod:`contigmap.inputs`), geometry and words in the file,
layer or sheet name; one CRS is settled for files that do not say theirs; columns are
mapped onto the canonical ones and checked against their vocabularies.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from contigmap.init.scan import Candidate, guess_crs_from_xy, has_hint
from contigmap.inputs import (
    BD09_HINTS,
    GCJ02_HINTS,
    match_column,
    normalise_header,
    role_inputs,
)
from contigmap.schema import (
    BOOLEAN_FALSE,
    BOOLEAN_TRUE,
    ROAD_CLASSES,
    ROLE_SCHEMAS,
    SERVICE_KINDS,
    SURFACES,
)

__all__ = [
    "GROUPED", "SINGLE", "assign_roles", "column_map", "kind_from_name", "resolve_crs",
    "role_score", "vocabulary_check",
]

logger = logging.getLogger(__name__)

# roles that hold one layer; the others (hazards, ecology) hold several
SINGLE = ("villages", "roads", "village_areas", "hamlets", "boundaries.county",
           "boundaries.townships", "dem", "rivers", "services", "households",
           "infrastructure.power_lines", "infrastructure.substations", "infrastructure.fibre",
           "infrastructure.towers", "infrastructure.water_sources")
GROUPED = ("hazards", "ecology")
_LAYER_NAMES = {  # words in a hazard / ecology file name -> manifest layer name
    "滑坡": "landslide", "landslide": "landslide", "泥石流": "debris_flow", "崩塌": "collapse",
    "洪": "flood", "flood": "flood", "易发": "susceptibility", "隐患": "hazard_points",
    "红线": "redline", "redline": "redline", "保护区": "reserve", "reserve": "reserve",
}


# --------------------------------------------------------------------------- roles


def _allowed(role: str, cand: Candidate) -> bool:
    if role == "dem":
        return cand.geometry == "raster"
    key = "hazards" if role == "hazards" else role
    schema = ROLE_SCHEMAS.get(key)
    if schema is None:
        return False
    if cand.geometry == "raster":
        return role == "hazards"
    if cand.geometry == "table":
        return not schema.geometry or bool(getattr(schema, "table_ok", False))
    return cand.geometry in schema.geometry


def role_score(role: str, cand: Candidate) -> tuple[float, str]:
    """Score how well ``cand`` fits ``role`` (headers, geometry, name), with the reason."""
    spec = role_inputs(role)
    if spec is None or not _allowed(role, cand):
        return 0.0, ""
    matched = {match_column(role, c) for c in cand.columns} - {None}
    schema = ROLE_SCHEMAS.get(role)
    score = 2.0 * len(matched)
    if schema is not None:
        needed = (schema.id_column, *schema.required)
        score += sum(1.0 for c in needed if c in matched)
        if schema.required and not set(schema.required) <= matched:
            score -= 1.0
    name = f"{Path(cand.rel).stem} {cand.layer or ''}"
    hint = has_hint(name, spec.file_hints)
    if hint:
        score += 1.0 + min(len(hint), 4) / 2
    if role == "dem" and not hint:
        score += 0.5  # the raster that is not named as a hazard
    reasons = []
    if matched:
        reasons.append("headers 表头 " + ", ".join(sorted(c for c in matched if c)))
    if hint:
        reasons.append(f"name 名称 “{hint}”")
    return score, "; ".join(reasons)


def assign_roles(cands: list[Candidate]) -> None:
    """Give each candidate its best-scoring role (in place); one file per single role."""
    roles = [*SINGLE, *GROUPED]
    pairs = []
    for i, cand in enumerate(cands):
        for role in roles:
            score, why = role_score(role, cand)
            if score > 0:
                pairs.append((score, -i, role, why))
    pairs.sort(reverse=True)
    taken: set[str] = set()
    for _score_, neg_i, role, why in pairs:
        cand = cands[-neg_i]
        if cand.role is not None or (role in SINGLE and role in taken):
            continue
        if role in GROUPED and _score_ < 2:
            continue
        cand.role, cand.role_reason = role, why
        taken.add(role)
    used: set[str] = set()
    for cand in cands:
        if cand.role in GROUPED:
            stem = f"{Path(cand.rel).stem} {cand.layer or ''}"
            name = next((v for k, v in _LAYER_NAMES.items() if k in stem.lower()), None)
            if name is None:
                name = re.sub(r"[^0-9a-z]+", "_", stem.lower()).strip("_") or cand.role
            base, n = name, 2
            while name in used:
                name, n = f"{base}_{n}", n + 1
            used.add(name)
            cand.name = name


# --------------------------------------------------------------------------- CRS, datum


def resolve_crs(cands: list[Candidate]) -> None:
    """Settle each candidate's CRS and datum (in place), from its own or its neighbours'."""
    for cand in cands:  # degree tables give a position too
        if cand.geometry == "point" and cand.xy is not None and cand.sample is not None:
            x, y = cand.sample[cand.xy[0]], cand.sample[cand.xy[1]]
            crs, _, swapped = guess_crs_from_xy(x, y)
            if crs == "EPSG:4490":
                xs = pd.to_numeric(y if swapped else x, errors="coerce")
                ys = pd.to_numeric(x if swapped else y, errors="coerce")
                cand.lonlat_centre = (float(xs.median()), float(ys.median()))
    centres = [c.lonlat_centre for c in cands if c.lonlat_centre is not None
               and c.role not in (None, "boundaries.county")]
    near = (float(np.median([c[0] for c in centres])),
            float(np.median([c[1] for c in centres]))) if centres else None
    for cand in cands:
        if cand.role is None:
            continue
        if cand.xy is not None and cand.sample is not None:
            x, y = cand.sample[cand.xy[0]], cand.sample[cand.xy[1]]
        elif cand.crs is None and cand.raw_bounds is not None:
            x, y = cand.raw_bounds
        else:
            continue
        crs, note, swapped = guess_crs_from_xy(x, y, near=near)
        if swapped and cand.xy is not None:
            cand.xy = (cand.xy[1], cand.xy[0])
            cand.notes.append((f"columns look swapped: longitude is '{cand.xy[0]}' "
                               "(经纬度列似乎互换)", True))
        cand.crs = crs
        cand.crs_from_file = False
        cand.notes.append((f"crs from the values 由坐标值推断: {note}", True))
    for cand in cands:
        names = " ".join([cand.rel, cand.layer or "", *cand.columns])
        gcj = has_hint(names, GCJ02_HINTS)
        bd = has_hint(names, BD09_HINTS)
        geographic = cand.crs in ("EPSG:4490", "EPSG:4326", "OGC:CRS84")
        if gcj and geographic:
            cand.datum = "gcj02"
            cand.crs = "EPSG:4326"
            cand.notes.append((f"“{gcj}” in the name: GCJ-02 web-map coordinates "
                               "(火星坐标), converted to WGS84 on load", True))
        elif bd and geographic:
            cand.datum = "bd09"
            cand.crs = "EPSG:4326"
            cand.notes.append((f"“{bd}” in the name: Baidu BD-09 coordinates (百度坐标), "
                               "converted to WGS84 on load", True))


# --------------------------------------------------------------------------- columns


_DOMAINS: dict[str, tuple[str, ...]] = {
    "road_class": ROAD_CLASSES, "surface": SURFACES, "kind": SERVICE_KINDS}
"""Canonical columns whose values come from a fixed list (their values can decide the header)."""

_IDENTIFYING_WORDS: dict[str, tuple[str, ...]] = {"road_class": ("专用公路",)}
"""Values that show a column is of this kind though contigmap cannot recode them yet.

专用公路 (special-purpose road) is an administrative class with no canonical class of its
own: it tells a class column from a technical-grade one, and the vocabulary check still
asks the user to recode it.
"""

_FITS = 0.8
"""Share of a column's sampled values that must be words of a list for the column to fit it."""


def _known_words(canon: str) -> set[str]:
    """Lower-cased values read as ``canon``'s list: canonical names and their accepted spellings."""
    from contigmap.io import checks as validate

    words = (*_DOMAINS[canon], *validate._ALIASES.get(canon, {}),
             *_IDENTIFYING_WORDS.get(canon, ()))
    return {w.lower() for w in words}


def _fit(cand: Candidate, header: str, canon: str) -> float:
    """Share of ``header``'s non-empty sampled values that are words of ``canon``'s list."""
    if cand.sample is None or header not in cand.sample:
        return 0.0
    values = cand.sample[header].dropna().astype(str).str.strip()
    values = values[values != ""]
    if values.empty:
        return 0.0
    return float(values.str.lower().isin(_known_words(canon)).mean())


def column_map(role: str, cand: Candidate,
                notes: list[tuple[str, bool]] | None = None) -> dict[str, str]:
    """Map ``cand``'s headers onto ``role``'s canonical columns: headers first, then values.

    A header is matched by :func:`contigmap.inputs.match_column` (the best-ranked alias
    wins). Headers are ambiguous (技术等级 is the technical grade in the standard, but
    counties also put the administrative class under it), so for the columns with a
    fixed list of values (road_class, surface, kind) the values decide: when the header
    matched to such a column does not hold its words (fewer than 80 % of the sampled
    values), or no header matched it, a header whose values do fit takes it, unless that
    header is an id column or another list column. Each such move is noted in ``notes``
    (to confirm).
    """
    spec = role_inputs(role)
    assert spec is not None
    skip = set(cand.xy or ())
    best: dict[str, tuple[int, str]] = {}
    for header in cand.columns:
        if header in skip:
            continue
        canonical = match_column(role, header)
        if canonical is None:
            continue
        col = next(c for c in spec.columns if c.name == canonical)
        names = [normalise_header(a) for a in (col.name, *col.aliases)]
        key = normalise_header(header)
        rank = names.index(key) if key in names else len(names)
        if canonical not in best or rank < best[canonical][0]:
            best[canonical] = (rank, header)
    chosen = {canonical: header for canonical, (_, header) in best.items()}
    schema = ROLE_SCHEMAS.get(role)
    keep = {schema.id_column} if schema is not None else set()
    for canon in _DOMAINS:
        if canon not in {c.name for c in spec.columns}:
            continue
        holder = chosen.get(canon)
        if holder is not None and _fit(cand, holder, canon) >= _FITS:
            continue
        taken = {h: c for c, h in chosen.items()}
        options = [(_fit(cand, h, canon), h) for h in cand.columns
                   if h not in skip and h != holder
                   and taken.get(h) not in (*_DOMAINS, *keep)]
        share, header = max(options, default=(0.0, ""), key=lambda o: o[0])
        if share < _FITS:
            continue
        previous = taken.get(header)
        if previous is not None:
            del chosen[previous]
        chosen[canon] = header
        if notes is not None:
            was = f" (its header reads as {previous})" if previous else ""
            instead = f"; '{holder}' does not hold them and is left out" if holder else ""
            notes.append((f"'{header}' holds {canon} values{was}: mapped to {canon} by its "
                          f"values{instead} (按取值判断列含义)", True))
    return {header: canonical for canonical, header in chosen.items() if header != canonical}


def vocabulary_check(role: str, cand: Candidate, mapping: dict[str, str]) -> None:
    """Note values of mapped vocabulary columns that contigmap will not recognise."""
    from contigmap.io import checks as validate

    if cand.sample is None:
        return
    inverse = {canon: header for header, canon in mapping.items()}
    for canon, allowed in _DOMAINS.items():
        header = inverse.get(canon, canon if canon in cand.columns else None)
        if header is None or role_inputs(role) is None or header not in cand.sample:
            continue
        if mapping.get(header, header) != canon:
            continue
        aliases = validate._ALIASES.get(canon, {})
        known = {a.lower() for a in (*allowed, *aliases)}
        values = cand.sample[header].dropna().astype(str).str.strip()
        bad = sorted({v for v in values if v and v.lower() not in known})
        if bad:
            shown = ", ".join(bad[:8]) + (" ..." if len(bad) > 8 else "")
            cand.notes.append((f"'{header}' has values contigmap does not know: {shown}; recode "
                               f"them to {', '.join(allowed)} (值需转换，见 docs/inputs.md)", True))
    for canon in ("bridge", "tunnel", "poor"):
        header = inverse.get(canon, canon if canon in cand.columns else None)
        if header is None or header not in cand.sample:
            continue
        words = {w.lower() for w in (*BOOLEAN_TRUE, *BOOLEAN_FALSE)}
        values = cand.sample[header].dropna().astype(str).str.strip().str.lower()
        bad = sorted({v for v in values if v and v not in words and v not in ("1.0", "0.0")})
        if bad:
            cand.notes.append((f"'{header}' is yes/no but holds {', '.join(bad[:6])}; use "
                               "是/否, 有/无, Y/N, yes/no, true/false or 1/0", True))


def kind_from_name(text: str) -> str | None:
    """Return the service kind named in a sheet name (卫生院 → health_centre), or None."""
    from contigmap.io import checks as validate

    words = {**validate._ALIASES.get("kind", {}), **{k: k for k in SERVICE_KINDS}}
    for word in sorted(words, key=len, reverse=True):
        if word.lower() in text.lower():
            return words[word]
    return None


