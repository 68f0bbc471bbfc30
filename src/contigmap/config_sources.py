"""Manifest models for data in several pieces (issue #19): joined tables, several sources.

Part of the region manifest (:mod:`contigmap.config`, which re-exports them): ``join:``
on a layer (:class:`JoinSpec`), ``osm_tags:`` on an OSM source (:class:`OsmTags`) and the
region's ``merge:`` rule for several ``roads:`` sources (:class:`MergeSpec`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from contigmap._strict import StrictModel

__all__ = ["JoinSpec", "MergeSpec", "OsmTags"]


# --- s19b: a table joined onto a layer by code (issue #19 item 3) -------------------------


class JoinSpec(StrictModel):
    """A table joined onto a layer by code (``join:`` of a layer entry).

    Example: ``join: {path: 人口统计表.xlsx, on: {村代码: 行政区划代码}}``.

    Attributes
    ----------
    path
        The table (CSV, XLSX, XLS), relative to the manifest's folder.
    layer
        Sheet name of a workbook (default the first sheet).
    encoding
        Text encoding of a CSV.
    on
        One pair ``{layer column: table column}``: the layer's code column (its own name,
        its name after ``columns:``, or the ``id:`` column) and the table's.
    columns
        Mapping from the table's headers to contigmap's names; headers not listed that
        ``contigmap init`` recognises for the layer's role (户籍人口 → ``pop``, 贫困人口 →
        ``poor_pop``) are renamed too. A column the layer has already keeps the layer's
        values; the table only fills its blanks.
    header_row, skip_rows
        A report-style sheet: as for a layer (:class:`contigmap.config.LayerSpec`); rows
        without a code (小计, 合计, notes) are left out.
    """

    path: Path
    layer: str | None = None
    encoding: str | None = None
    on: dict[str, str]
    columns: dict[str, str] = Field(default_factory=dict)
    header_row: int | list[int] | None = None  # report-style statistics sheets
    skip_rows: list[int] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: object) -> object:
        """YAML 1.1 reads the key ``on`` as ``true``: take it back as ``on``."""
        if isinstance(data, dict):
            for key in (True, "True", "true"):
                if key in data and "on" not in data:
                    data = {("on" if k == key else k): v for k, v in data.items()}
        return data

    @field_validator("on")
    @classmethod
    def _one_pair(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) != 1:
            msg = ("give one pair {layer column: table column}, e.g. on: {村代码: 行政区划代码}, "
                   f"not {value}")
            raise ValueError(msg)
        return value


# --- end s19b: join -----------------------------------------------------------------------


# --- s19b: several sources for one role (issue #19 item 4) ---------------------------------


class OsmTags(StrictModel):
    """Overrides of the OSM tag tables of :mod:`contigmap.network.osm` (``osm_tags:``).

    Attributes
    ----------
    highway
        ``{highway value: road_class}``, e.g. ``{unclassified: village}``; ``none``
        drops the value's ways.
    surface
        ``{surface value: surface}``, e.g. ``{unpaved: gravel}``; the key ``missing``
        sets the surface of ways without a surface (or tracktype) tag, for every class.
    """

    highway: dict[str, str] = Field(default_factory=dict)
    surface: dict[str, str] = Field(default_factory=dict)


class MergeSpec(StrictModel):
    """How several sources of one line role are combined (``merge:`` in region.yaml).

    A line of a later source is a duplicate of the lines already kept when at least
    ``share`` of its length lies within ``buffer_m`` of them
    (:func:`contigmap.io.merge.merge_line_sources`); loose ends of added lines are joined
    to the nearest line within ``join_m`` (0: not joined).
    """

    buffer_m: float = Field(default=15.0, gt=0.0, le=200.0)
    share: float = Field(default=0.8, gt=0.0, le=1.0)
    join_m: float = Field(default=30.0, ge=0.0, le=500.0)


# --- end s19b: several sources ----------------------------------------------------------------
