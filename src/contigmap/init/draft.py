"""``contigmap init``, step 3: write the guesses into a commented ``region.yaml``.

Comments are in Chinese and English; every line the user must check carries
``# 请确认 confirm:``. The library only builds the text; :meth:`InitResult.write`
refuses to overwrite an existing ``region.yaml`` unless told to.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from contigmap.errors import ConfigError, ContigmapError, LayerError
from contigmap.init.forms import (
    OSM_SUFFIXES,
    find_join_tables,
    join_columns,
    kml_hazards,
    poor_only_reason,
    scan_forms,
    stacked_roles,
)
from contigmap.init.match import (
    GROUPED,
    assign_roles,
    column_map,
    kind_from_name,
    resolve_crs,
    role_score,
    vocabulary_check,
)
from contigmap.init.scan import CONFIRM, Candidate, Geometry, Guess, scan_folder
from contigmap.inputs import (
    match_column,
)
from contigmap.schema import (
    ROLE_SCHEMAS,
)

__all__ = ["InitResult", "init_region"]

logger = logging.getLogger(__name__)


@dataclass
class InitResult:
    """What :func:`init_region` drafted.

    Attributes
    ----------
    text
        The commented ``region.yaml``.
    guesses
        Everything guessed, layer by layer.
    folder
        The folder looked at.
    """

    text: str
    guesses: list[Guess]
    folder: Path

    @property
    def to_confirm(self) -> list[Guess]:
        """The guesses the user must check."""
        return [g for g in self.guesses if g.confirm]

    def write(self, path: str | Path | None = None, *, force: bool = False) -> Path:
        """Write the manifest (default ``<folder>/region.yaml``); never overwrite unless forced.

        Raises
        ------
        ConfigError
            The file exists and ``force`` is false.
        """
        target = Path(path) if path is not None else self.folder / "region.yaml"
        if target.exists() and not force:
            msg = (f"{target} exists and was left unchanged; use --force to replace it or "
                   "--print to see the draft")
            raise ConfigError(msg)
        target.write_text(self.text, encoding="utf-8")
        logger.info("wrote %s", target)
        return target



# --------------------------------------------------------------------------- writing


def _q(value: object) -> str:
    """Return a YAML scalar: plain when it can only read back as this text, else double-quoted.

    Plain only for words, dots, slashes and dashes that YAML cannot take for a number,
    a boolean or null (``yes``, ``1e5``, ``~`` are quoted); a double-quoted JSON string is
    valid YAML for everything else.
    """
    text = str(value)
    plain = re.fullmatch(r"[^\W_][\w./\-]*", text) is not None and re.fullmatch(
        r"[-+.\d_eExXoObB]+|true|false|yes|no|null|on|off|y|n|\.?nan|\.?inf", text, re.I) is None
    if plain:
        return text
    return json.dumps(text, ensure_ascii=False)


def _geometry_zh(g: Geometry) -> str:
    return {"point": "点 point", "line": "线 line", "polygon": "面 polygon",
            "table": "表 table", "raster": "栅格 raster"}[g]


def _layer_block(cand: Candidate, indent: str, guesses: list[Guess],
                 extra_sheets: list[Candidate], *, use_sheets: bool = False) -> list[str]:
    role = cand.role or ""
    lines = [f"{indent}# {cand.source}: {_geometry_zh(cand.geometry)}, {cand.features} "
             f"features 要素; role 角色 from {cand.role_reason or 'geometry 几何'}"]
    lines.append(f"{indent}path: {_q(cand.rel)}")
    if cand.rel.lower().endswith(OSM_SUFFIXES):  # classes and surfaces from the OSM tags
        return lines
    if cand.layer is not None and not extra_sheets:
        lines.append(f"{indent}layer: {_q(cand.layer)}")
    if cand.encoding is not None:
        lines.append(f"{indent}encoding: {cand.encoding}   # {CONFIRM} "
                     f"{cand.encoding.upper()} text 文本编码")
        guesses.append(Guess(cand.source, "encoding", cand.encoding, True))
    if cand.xy is not None:
        lines.append(f"{indent}x: {_q(cand.xy[0])}")
        lines.append(f"{indent}y: {_q(cand.xy[1])}")
        guesses.append(Guess(cand.source, "xy", f"{cand.xy[0]}, {cand.xy[1]}"))
    if cand.crs is not None and not cand.crs_from_file:
        lines.append(f"{indent}crs: {_q(cand.crs)}   # {CONFIRM} 坐标系 guessed from the values")
        guesses.append(Guess(cand.source, "crs", cand.crs, True))
    elif cand.crs is not None:
        guesses.append(Guess(cand.source, "crs", cand.crs, False, "from the file"))
    elif cand.geometry != "table":
        lines.append(f"{indent}# crs: EPSG:????   # {CONFIRM} 坐标系未知 CRS unknown: add it")
        guesses.append(Guess(cand.source, "crs", "unknown", True))
    if cand.datum is not None:
        what = {"gcj02": "高德/腾讯 GCJ-02", "bd09": "百度 Baidu BD-09"}.get(cand.datum, "")
        lines.append(f"{indent}datum: {cand.datum}   # {CONFIRM} {what}")
        guesses.append(Guess(cand.source, "datum", cand.datum, True))
    if cand.header_row is not None:
        lines.append(f"{indent}header_row: {cand.header_row}   # {CONFIRM} 表头行 header rows")
    mapping = column_map(role, cand, cand.notes) if cand.geometry != "raster" else {}
    if role == "hazards" and "folder" in cand.columns and "hazard_type" not in mapping.values():
        mapping["folder"] = "hazard_type"  # KML / KMZ: the folder's name (滑坡, 崩塌)
    if role == "households":
        poor = next((h for h, c in mapping.items() if c == "poor"), None)
        why = poor_only_reason(cand, poor)
        if why is not None:
            lines.append(f"{indent}coverage: poor_only   # {CONFIRM} only poor and edge "
                         f"households (只含贫困户和边缘户): {why}")
            guesses.append(Guess(cand.source, "coverage", "poor_only", True, why))
    if mapping:
        lines.append(f"{indent}columns:")
        for header, canon in mapping.items():
            lines.append(f"{indent}  {_q(header)}: {canon}")
            guesses.append(Guess(cand.source, "column", f"{header} -> {canon}"))
    if extra_sheets:
        lines += _sheets_block(cand, extra_sheets, indent, guesses, use_sheets=use_sheets)
    if cand.geometry != "raster":
        vocabulary_check(role, cand, mapping)
        schema = ROLE_SCHEMAS.get(role)
        mapped = set(mapping.values()) | set(cand.columns)
        if schema is not None:
            need = [schema.id_column] if role in _ID_NEEDED else []
            for col in (*need, *schema.required):
                if col not in mapped and not (col == "kind" and extra_sheets):
                    cand.notes.append((f"no column found for '{col}': map one under columns: "
                                       f"(未找到 {col} 列)", True))
        used = set(mapping) | set(cand.xy or ()) | set(mapping.values())
        unknown = [c for c in cand.columns if c not in used and match_column(role, c) is None]
        if unknown:
            lines.append(f"{indent}# not mapped 未映射的列: {', '.join(unknown[:12])}"
                         f"{' ...' if len(unknown) > 12 else ''}")
    for text, confirm in cand.notes:
        lines.append(f"{indent}# {CONFIRM + ' ' if confirm else ''}{text}")
        guesses.append(Guess(cand.source, "note", text, confirm))
    return lines


_ID_NEEDED = frozenset({"villages", "village_areas", "hamlets", "households",
                        "boundaries.townships"})


def _sheets_block(cand: Candidate, sheets: list[Candidate], indent: str,
                  guesses: list[Guess], *, use_sheets: bool) -> list[str]:
    kinds = {s.layer: kind_from_name(s.layer or "") for s in [cand, *sheets]}
    if use_sheets:
        lines = [f"{indent}sheets:   # {CONFIRM} 每个工作表的设施类型 kind of each sheet"]
        for s in [cand, *sheets]:
            kind = kinds[s.layer]
            has_kind = "kind" in column_map("services", s).values() or "kind" in s.columns
            body = f"{{set: {{kind: {kind}}}}}" if kind and not has_kind else "{}"
            lines.append(f"{indent}  {_q(s.layer)}: {body}")
        guesses.append(Guess(cand.source, "sheets", ", ".join(str(k) for k in kinds), True))
        return lines
    others = ", ".join(f"{s.layer} ({kinds[s.layer] or '?'})" for s in sheets)
    guesses.append(Guess(cand.source, "sheets", others, True))
    return [f"{indent}layer: {_q(cand.layer)}",
            f"{indent}# {CONFIRM} the workbook has more sheets of services: {others}; "
            "one sheet is read per layer (工作表只读一个，其余请合并)"]


def _roads_list(group: list[Candidate], guesses: list[Guess]) -> list[str]:
    """``roads: [...]``: an OSM extract first, the county's file after with ``priority: 1``."""
    group = sorted(group, key=lambda c: not c.rel.lower().endswith(OSM_SUFFIXES))
    lines = [f"  roads:   # {CONFIRM} several road files, merged (多个道路文件合并; "
             "docs/inputs.md “Several files for one role”)"]
    for k, cand in enumerate(group):
        lines.append("    -")
        lines += _layer_block(cand, "      ", guesses, [])
        if k and not cand.rel.lower().endswith(OSM_SUFFIXES):
            lines.append(f"      priority: 1   # {CONFIRM} this file's classes and surfaces win "
                         "where both describe a road (本文件属性优先)")
    guesses.append(Guess(", ".join(c.source for c in group), "roads", "several sources", True))
    return lines


def _dem_tiles(group: list[Candidate], guesses: list[Guess]) -> list[str]:
    """``dem: {paths: [...]}``: tiles mosaicked on loading."""
    paths = sorted(c.rel for c in group)
    guesses.append(Guess(", ".join(paths), "dem", "tiles", True))
    return ["  dem:   # " + f"{CONFIRM} {len(paths)} DEM tiles, mosaicked (高程分幅，拼接)",
            "    paths:", *(f"    - {_q(p)}" for p in paths)]


def _join_block(villages: Candidate, tables: list[Candidate], guesses: list[Guess]) -> list[str]:
    """``join:`` of statistics tables onto the villages, by village code."""
    left = next((h for h, c in column_map("villages", villages).items() if c == "village_id"),
                None)
    if not tables or left is None:
        return []
    lines = [f"    join:   # {CONFIRM} statistics table(s) joined by village code "
             "(统计表按村代码连接)"]
    for table in tables:
        cols = join_columns(table)
        right = next(h for h, c in cols.items() if c == "village_id")
        lines.append(f"    - path: {_q(table.rel)}")
        if table.layer is not None:
            lines.append(f"      layer: {_q(table.layer)}")
        if table.header_row is not None:
            lines.append(f"      header_row: {table.header_row}   # {CONFIRM} 表头行 header rows")
        lines.append(f"      on: {{{_q(left)}: {_q(right)}}}")
        rest = {h: c for h, c in cols.items() if c != "village_id"}
        if rest:
            lines.append("      columns:")
            lines += [f"        {_q(h)}: {c}" for h, c in rest.items()]
        guesses.append(Guess(table.source, "join", f"{left} = {right}", True))
    return lines


def _render(folder: Path, cands: list[Candidate], name: str, title: str, *,
            use_sheets: bool) -> InitResult:
    guesses: list[Guess] = []
    by_role: dict[str, list[Candidate]] = {}
    for cand in cands:
        if cand.role is not None:
            by_role.setdefault(cand.role, []).append(cand)
            guesses.append(Guess(cand.source, "role", cand.role, False, cand.role_reason))
    # other sheets of the services workbook that look like services too
    extra: list[Candidate] = []
    services = by_role.get("services", [None])[0]
    if services is not None and services.layer is not None:
        for cand in cands:
            if (cand.role is None and cand.path == services.path and cand is not services
                    and role_score("services", cand)[0] > 0):
                cand.role = "services"
                extra.append(cand)
    lines = [
        f"# region.yaml drafted by `contigmap init` on {date.today().isoformat()} from "
        f"{len(cands)} layer(s) in {folder.name}/",
        "# 由 contigmap init 自动生成：以下均为猜测，请逐项核对标有“请确认 confirm”的行，",
        "# 然后运行 contigmap validate region.yaml。",
        "# Everything below is a guess: check each line marked “请确认 confirm”, then run",
        "#   contigmap validate region.yaml",
        "# Roles, columns and accepted values: docs/inputs.md (contigmap inputs).",
        f"name: {_q(name)}",
        f"title: {_q(title)}   # {CONFIRM} 县名 display title",
        "working_crs: auto   # UTM, or the CGCS2000 3° Gauss–Krüger zone for CGCS2000 data",
        "layers:",
    ]
    for role in ("villages", "roads"):
        if role not in by_role:
            lines.append(f"  # {role}: {{path: ...}}   # {CONFIRM} 必需 required: no file "
                         f"looked like {role} (未找到)")
            guesses.append(Guess("", "role", f"{role} missing", True))
    for role in ("villages", "roads", "village_areas", "hamlets", "dem", "rivers", "services",
                 "households"):
        sources = by_role.get(role, [])
        if role == "roads" and len(sources) > 1:
            lines += _roads_list(sources, guesses)
            continue
        if role == "dem" and len(sources) > 1:
            lines += _dem_tiles(sources, guesses)
            continue
        for cand in sources:
            lines.append(f"  {role}:")
            lines += _layer_block(cand, "    ", guesses, extra if role == "services" else [],
                                  use_sheets=use_sheets)
            if role == "villages":
                lines += _join_block(cand, by_role.get("villages.join", []), guesses)
    for group in ("boundaries", "infrastructure"):
        members = [(r.split(".", 1)[1], c) for r, cs in by_role.items()
                   if r.startswith(group + ".") for c in cs]
        if members:
            lines.append(f"  {group}:")
            for sub, cand in members:
                lines.append(f"    {sub}:")
                lines += _layer_block(cand, "      ", guesses, [])
    for group in GROUPED:
        if group in by_role:
            lines.append(f"  {group}:")
            for cand in by_role[group]:
                lines.append(f"    {cand.name}:")
                lines += _layer_block(cand, "      ", guesses, [])
    unused = [c for c in cands if c.role is None]
    if unused:
        lines.append("# 未使用的文件 files not used (no role recognised 未识别):")
        for cand in unused:
            lines.append(f"#   {cand.source} ({_geometry_zh(cand.geometry)}; headers 表头: "
                         f"{', '.join(cand.columns[:10])})")
            guesses.append(Guess(cand.source, "unused", "", True))
    text = "\n".join(lines) + "\n"
    return InitResult(text=text, guesses=guesses, folder=folder)


def init_region(folder: str | Path, *, name: str | None = None,
                title: str | None = None) -> InitResult:
    """Look at a folder of files and draft its commented ``region.yaml``.

    Parameters
    ----------
    folder
        The folder as handed over (sub-folders are searched too).
    name
        ``name:`` of the region (ASCII); default: the folder name made ASCII, else ``region``.
    title
        ``title:``; default: the folder name.

    Returns
    -------
    InitResult
        The manifest text and the list of guesses; nothing is written.

    Raises
    ------
    LayerError
        The folder does not exist or holds no readable file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        msg = f"{folder}: not a folder; give the folder that holds the data files"
        raise LayerError(msg)
    cands = scan_folder(folder) + scan_forms(folder)
    if not cands:
        msg = (f"{folder}: no readable GeoPackage, GeoParquet, Shapefile, GeoJSON, CSV, XLSX "
               "or GeoTIFF file found")
        raise LayerError(msg)
    joins = find_join_tables(cands)
    kml_hazards(cands)
    assign_roles(cands)
    if joins and not any(c.role == "villages" for c in cands):  # the table is the villages
        for cand in joins:
            cand.role = None
        assign_roles(cands)
    stacked_roles(cands)
    resolve_crs(cands)
    from contigmap.config import LayerSpec, RegionConfig
    from contigmap.yamlio import parse_model, parse_yaml_text

    slug = re.sub(r"[^A-Za-z0-9_\-]+", "_", folder.resolve().name).strip("_")
    name, title = name or slug or "region", title or folder.resolve().name
    # ``sheets:`` (several sheets of one workbook in one layer) when the manifest knows it
    use_sheets = "sheets" in LayerSpec.model_fields
    for cand in cands:
        cand.notes_at_start = list(cand.notes)
    result = _render(folder, cands, name, title, use_sheets=use_sheets)
    try:
        parse_model(RegionConfig, parse_yaml_text(result.text, "draft region.yaml"),
                    source="draft region.yaml")
    except ContigmapError as err:
        if use_sheets:
            for cand in cands:
                cand.notes = list(cand.notes_at_start)
            result = _render(folder, cands, name, title, use_sheets=False)
        logger.warning("the drafted region.yaml does not parse yet: %s", err)
    logger.info("init: %d layer(s), %d guess(es) to confirm", len(cands),
                len(result.to_confirm))
    return result

