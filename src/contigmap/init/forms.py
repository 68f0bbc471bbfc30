"""``contigmap init``: the file forms of issue #19 (what a second county office hands over).

Reading (:func:`scan_forms`, after :func:`~contigmap.init.scan.scan_folder`, which reads
report-style sheets with :func:`~contigmap.init.scan.report_header`):

* **ESRI File Geodatabases** (``*.gdb`` folders), one candidate per feature class;
* **KML / KMZ**: every folder stacked, its name in a ``folder`` column;
* **OSM extracts** (``.osm.pbf``, ``.osm``): read as roads by :mod:`contigmap.network.osm`.

Deciding (called by :mod:`~contigmap.init.draft`):

* :func:`find_join_tables`: a table with a village code column and population or poor
  people, but neither coordinates nor households, is a statistics table to ``join:``
  onto the villages by code;
* :func:`poor_only_reason`: a registry listing 边缘户 (edge households) or at least
  85% poor households of 20 or more is ``coverage: poor_only``;
* :func:`stacked_roles`: further road files become ``roads: [...]`` and further
  rasters of the DEM's folder become DEM tiles.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from contigmap.init.scan import Candidate, _centre, _geometry_kind, _read_vector, has_hint
from contigmap.inputs import match_column

__all__ = ["OSM_SUFFIXES", "find_join_tables", "join_columns", "kml_hazards", "poor_only_reason",
           "read_kml", "read_osm", "scan_forms", "stacked_roles"]

logger = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm.pbf", ".osm")
_POOR_ONLY_SHARE = 0.85  # as contigmap.poverty infers coverage
_POOR_ONLY_MIN = 20
_KML_STYLE = frozenset({"geometry", "id", "tessellate", "extrude", "visibility", "altitudeMode",
                        "drawOrder", "icon", "begin", "end", "timestamp", "snippet"})
_JOIN_FIGURES = ("pop", "households", "poor_pop", "poor_households")


def read_kml(path: Path, rel: str) -> list[Candidate]:
    """Every folder (layer) of a KML / KMZ, stacked, with the folder's name in ``folder``."""
    import geopandas as gpd
    import pyogrio

    try:
        parts = []
        for name, _ in pyogrio.list_layers(path):
            part = pyogrio.read_dataframe(path, layer=str(name))
            part["folder"] = str(name)
            parts.append(part)
        gdf = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    except Exception as err:
        logger.warning("%s: cannot read (%s); skipped", rel, err)
        return []
    keep = [c for c in gdf.columns if c not in _KML_STYLE and gdf[c].notna().any()]
    cand = Candidate(path, rel, None, _geometry_kind(gdf), keep,
                     sample=pd.DataFrame(gdf[keep]), features=len(gdf),
                     crs="EPSG:4326", crs_from_file=True)
    cand.lonlat_centre = _centre(gdf)
    return [cand]


def read_osm(path: Path, rel: str) -> list[Candidate]:
    """Read an OSM extract as a roads candidate (classes and surfaces from its tags)."""
    from contigmap.network.osm import read_osm_roads

    try:
        gdf = read_osm_roads(path)
    except Exception as err:
        logger.warning("%s: cannot read (%s); skipped", rel, err)
        return []
    cand = Candidate(path, rel, None, "line", [], sample=None, features=len(gdf),
                     crs="EPSG:4326", crs_from_file=True)
    cand.lonlat_centre = _centre(gdf)
    cand.role, cand.role_reason = "roads", "an OpenStreetMap extract (OSM 道路)"
    return [cand]


def scan_forms(folder: Path) -> list[Candidate]:
    """Read the File Geodatabases, KML / KMZ files and OSM extracts under ``folder``."""
    out: list[Candidate] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if any(p.startswith(".") for p in Path(rel).parts):
            continue
        name = path.name.lower()
        if path.is_dir() and name.endswith(".gdb"):
            out.extend(_read_vector(path, rel, folder))
        elif path.is_file() and name.endswith((".kml", ".kmz")):
            out.extend(read_kml(path, rel))
        elif path.is_file() and name.endswith(OSM_SUFFIXES):
            out.extend(read_osm(path, rel))
    return out


def join_columns(cand: Candidate) -> dict[str, str]:
    """Map a statistics table's headers onto villages columns (``上_下``: the lower part)."""
    out: dict[str, str] = {}
    for col in cand.columns:
        canon = match_column("villages", col) or match_column("villages", col.split("_")[-1])
        if canon in ("village_id", *_JOIN_FIGURES) and canon not in out.values():
            out[col] = canon
    return out


def find_join_tables(cands: list[Candidate]) -> list[Candidate]:
    """Mark statistics tables to join onto the villages (``role = "villages.join"``)."""
    out = []
    for cand in cands:
        if cand.geometry != "table" or cand.role is not None:
            continue
        canon = set(join_columns(cand).values())
        has_registry = {match_column("households", c) for c in cand.columns} & {
            "household_id", "members"}
        if "village_id" in canon and canon & set(_JOIN_FIGURES) and not has_registry:
            cand.role, cand.role_reason = "villages.join", "a village code and figures per village"
            out.append(cand)
    return out


def kml_hazards(cands: list[Candidate]) -> None:
    """Give KML / KMZ points named as hazards (隐患, 地灾, ...) the role ``hazards`` (in place).

    Their headers (``Name``, ``folder``) say nothing of a role; the file name does.
    """
    from contigmap.inputs import role_inputs

    spec = role_inputs("hazards")
    hints = spec.file_hints if spec is not None else ()
    for cand in cands:
        if (cand.role is None and "folder" in cand.columns and cand.geometry == "point"
                and has_hint(Path(cand.rel).stem, hints)):
            cand.role, cand.role_reason = "hazards", "KML/KMZ named as hazards"


def poor_only_reason(cand: Candidate, poor_column: str | None) -> str | None:
    """Why the registry ``cand`` looks poor-only (only poor and edge households), else ``None``."""
    df = cand.sample
    if df is None or df.empty:
        return None
    for col in df.columns:
        values = df[col].astype("string").str.strip()
        if values.isin(["边缘户", "边缘易致贫户", "脱贫不稳定户"]).any():
            return f"column {col} lists 边缘户 (edge households)"
    if poor_column is not None and poor_column in df.columns and len(df) >= _POOR_ONLY_MIN:
        from contigmap.schema import BOOLEAN_TRUE

        values = df[poor_column].astype("string").str.strip().str.lower()
        share = float(values.isin([str(v).lower() for v in BOOLEAN_TRUE]).mean())
        if share >= _POOR_ONLY_SHARE:
            return f"{share:.0%} of the listed households are poor"
    return None


def stacked_roles(cands: list[Candidate]) -> None:
    """Give further road files the role ``roads`` and the DEM's sibling tiles ``dem`` (in place).

    Road sources keep file order with an OSM extract first (its geometry is kept where
    both describe a road; the county file's attributes win by ``priority:``).
    """
    from contigmap.init.match import role_score

    roads = [c for c in cands if c.role == "roads"]
    for cand in cands:
        if cand.role is None and cand.geometry == "line" and role_score("roads", cand)[0] >= 6:
            cand.role, cand.role_reason = "roads", role_score("roads", cand)[1]
            roads.append(cand)
    dem = next((c for c in cands if c.role == "dem"), None)
    if dem is not None:
        for cand in cands:
            if (cand.role is None and cand.geometry == "raster" and cand.crs == dem.crs
                    and cand.path.parent == dem.path.parent):
                cand.role, cand.role_reason = "dem", "a tile next to the DEM"
