"""Manifest forms for data handed over in several pieces (issue #19), for ``docs/inputs.md``.

:func:`forms_markdown` returns the sections :func:`contigmap.inputs.inputs_markdown`
appends: tables joined onto a layer, several files for one role, registry coverage,
village service points, what degrades instead of stopping, and personal data.
"""

from __future__ import annotations

__all__ = ["forms_markdown"]

_COVERAGE = """\
### Household registry coverage (`coverage:`)

```yaml
households: {path: 建档立卡户.xlsx, id: 户编号, coverage: poor_only}
# or: coverage: complete | sample, and optionally the villages it covers:
households: {path: 抽样户.csv, coverage: sample, covered: ['433124100201', '433124100202']}
```

What a registry lists decides which indicators it may give:

| `coverage:` | lists | households, poor people, incidence | cause shares, incomes |
|---|---|---|---|
| `complete` | every household of the villages it covers | counts | all households |
| `sample` | a sample of all households | rates (poor people = pop × rate) | the sample |
| `poor_only` | only poor (建档立卡) and edge (边缘户) households | never | the poor |

Poor people and incidence come first from the villages layer (`poor_pop`, for instance a
statistics table joined with `join:`), then from a registry that supports them.
`covered:` lists the village codes the registry covers (default: villages with at least
one row). Left out, `coverage:` is inferred with a warning: `poor_only` when at least
85% of the listed households (20 or more) are poor, `sample` when the listed people are fewer than
half the `pop` of the villages covered, else `complete` (`complete: true/false` is the
older form of `complete`/`sample`). Villages the registry does not cover are labelled
(`registry_source` = `not_covered`, `poor_pop_source` = `not_covered` or
`no_incidence_source`) with a warning naming them; the run never stops for them.
`contigmap validate` prints the coverage and where each indicator comes from.
"""

_JOIN = """\
### A table joined onto a layer by code (`join:`)

```yaml
villages:
  path: 村界.shp
  id: XZQDM
  join: {path: 人口统计表.xlsx, on: {XZQDM: 行政区划代码}}
  # several tables: join: [{path: a.csv, on: {...}}, {path: b.xlsx, layer: 2023, on: {...}}]
```

`on:` pairs the layer's code column (its own name, its name after `columns:`, or the
`id:` column) with the table's. Codes are compared as text (`640422100001.0` from a
spreadsheet is read as `640422100001`). The table's headers are renamed with the join's
own `columns:`, else by the headers recognised for the layer's role (户籍人口 → `pop`,
户数 → `households`, 贫困人口 → `poor_pop`). A column the layer already has keeps its
values; the table only fills its blanks. Codes found on one side only are reported in a
warning naming both counts and the first codes; a code repeated in the table keeps its
first row (warned). Village-level poor people from such a table are the villages
layer's `poor_pop`: the first source of poverty incidence, ahead of any registry (and
the only one when the registry is `poor_only`).

A report-style statistics sheet (title rows, a two-row merged header, 小计/合计 and note
rows) takes the same `header_row:` and `skip_rows:` as a layer, inside the `join:`:
`join: {path: 人口统计表.xlsx, header_row: [3, 4], on: {XZQDM: 行政区划代码}}`. The
subtotal and note rows it leaves out are listed in a warning.
"""

_PERSONAL = """\
### Personal data stays in

Registries carry the head of household's name (户主姓名), citizen ID number (身份证号),
telephone (联系电话) and bank account (银行卡号). Nothing needs to be removed by hand:
columns with these headers (see "Personal columns" in `docs/columns.md`), and any other
column whose values are mostly ID numbers (18 characters with a valid GB 11643 check
character), are dropped from every layer as it is read, before any check or stage. An
id column of ID numbers (`id: 身份证号`) is replaced by row numbers `P1`, `P2`, ... with
a warning; give a household number (户编号) as `id:` instead. No output file (CSV, XLSX,
GPKG, HTML, Markdown, JSON) holds a name or ID number of the registry.
"""

_POINTS = """\
### Village service points (村卫生室), neighbours' points, repeated points

Village clinics are the `clinic` kind (村卫生室, 卫生室, 村卫生所, 村医务室, 社区卫生服务站),
which the health intervention already uses; list them in the services layer, or in a
sheet of their own (`sheets: {村卫生室: {set: {kind: clinic}}}`).

- A service point outside the county outline (a neighbouring county's clinic, often the
  nearest for border villages) is kept as a destination and flagged `outside_county`
  (true), with a warning naming it. Only a table point more than 30 km outside the
  region is an error (its coordinates are taken to be wrong).
- Points of the same `kind` and the same name within 50 m of each other (a chain of
  such points counts as one) are one place listed twice: the first row in file order is
  kept, its blank cells filled from the others, with a warning naming them.
"""

_DEGRADE = """\
### Gaps that degrade instead of stopping

Each is a warning and a labelled value in the outputs, never a stop:

- **a road fragment not joined to the network**: warned ("road network is in N
  pieces", and the villages that cannot reach their township seat); such a village has
  `access_problem` = `network_piece_without_seat`, no travel time, and is ranked as the
  strongest road need;
- **a village on a DEM void (nodata) or outside the DEM**: warned ("lie outside the DEM
  or on its nodata"); `terrain_source` = `region_typical` (costed with the region's
  median terrain), its terrain columns empty;
- **no household registry, so no cause shares**: `cause_source` = `none` and empty
  `cause_*_share`; the priorities that weight a cause warn and count it as 0 (before,
  the road ranking stopped for want of `cause_poor_transport_share`);
- **a registry without a cause column (致贫原因)**: `cause_source` = `no_cause_column`
  (every poor household counts as `other`);
- **villages a registry does not cover**: warned ("N of M villages are not covered");
  `registry_source` and `poor_pop_source` = `not_covered`.
"""

_ROADS = """\
### Several files for one role (`roads: [...]`)

```yaml
layers:
  roads:
  - {path: 湖南.osm.pbf}                                  # OpenStreetMap extract
  - {path: 农村公路.gpkg, id: LXBM, columns: {...}, priority: 1}
merge: {buffer_m: 15, share: 0.8, join_m: 30}           # the defaults
```

The sources are combined in list order (`contigmap.io.merge`):

- **duplicates**: a line of a later source is a duplicate when at least `share` (80%)
  of its length lies within `buffer_m` (15 m) of the lines already kept; it is dropped
  and the earlier geometry kept;
- **which attributes win**: where a kept line lies for at least `share` of its own
  length within `buffer_m` of a dropped duplicate, it takes the duplicate's class,
  surface and other attributes when the duplicate's source has the higher `priority:`
  (default 0), or the same priority and comes later (list the newer source last);
  `attr_source` names the source of each line's attributes, `road_source` that of its
  geometry; ids of later sources are prefixed (`roads[2]:17`);
- **loose ends**: each end of an added line is joined to the nearest line within
  `join_m` (30 m; 0 = off): that point becomes a vertex of the line, and the end is
  extended to it.

`contigmap validate` shows each source (`roads`, `roads[2]`, ...) and what the merge
did. A later source that cannot be read is left out with its error; the first must be
readable.

OSM extracts (`.osm.pbf`, `.osm`; `pip install 'contigmap[osm]'`) map `highway` to
`road_class` and `surface` (or `tracktype`) to `surface` by the tables of
`contigmap.network.osm` (e.g. `secondary` → county, `unclassified` → township, `track`
→ track; `unpaved`, `dirt`, `ground` → earth; `gravel`, `compacted` → gravel; without a
surface: paved down to residential roads, earth for tracks and paths). Override them per
source: `osm_tags: {highway: {unclassified: village, service: none}, surface: {unpaved:
gravel, missing: gravel}}` (`none` drops the ways; `missing` is the surface of ways
without `surface` or `tracktype`).
"""

_SECTIONS: tuple[str, ...] = (_JOIN, _ROADS, _COVERAGE, _POINTS, _DEGRADE, _PERSONAL)


def forms_markdown() -> list[str]:
    """Lines of the "Data in several pieces" part of ``docs/inputs.md``."""
    lines = ["", "## Data in several pieces", "",
             "Forms of `region.yaml` for data handed over as several files, partial",
             "registries and messy points (issue #19).", ""]
    for section in _SECTIONS:
        lines += section.rstrip("\n").split("\n")
        lines.append("")
    return lines[:-1]
