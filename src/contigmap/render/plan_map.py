"""The plan year by year on the interactive map (``plan_map.html``).

Built with the run's web map (:func:`contigmap.render.web.render_web_map`, extra layers
as :class:`contigmap.render.web_extra.MapLayer`; offline, data passed as GeoJSON/JSON,
never through a template):

* **首次开工年度 First year of works** — every village with planned works, coloured by the
  first plan year a work starts there (on when the map opens);
* **one layer per plan year** — the villages with works starting that year; its name
  gives the year's works, money and the poor people served so far (cumulative);
* a **card** per village (click): village, township, and per plan year the works
  (work, 万元, funding source), then the village's total.

The village layer carries only names and ids (no indicator themes, no population: its
points stay small), so the plan's colours stand out around them and the map stays small.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from contigmap.finance import fmt_wan
from contigmap.render.web_extra import MapLayer

__all__ = ["YEAR_COLOURS", "plan_layers", "render_plan_map"]

YEAR_COLOURS = ("#b2182b", "#ef8a62", "#fddb7f", "#7fbf7b", "#1b7837", "#762a83",
                "#c2a5cf", "#8c510a")
"""Colour of each plan year, first year first (the last repeats beyond eight years)."""

_BASE = ("village_id", "name", "township_id", "township_name")


def _colour(k: int) -> str:
    return YEAR_COLOURS[min(k, len(YEAR_COLOURS) - 1)]


def _work_text(row: pd.Series) -> str:
    """One work on a card: ``道路：硬化 · 120.0 万元 · 涉农整合资金``."""
    parts = [str(row["works"]), f"{fmt_wan(float(row['cost_cny']), 1)} 万元"]
    if str(row.get("funding_source", "") or ""):
        parts.append(str(row["funding_source"]))
    return " · ".join(parts)


def _cards(projects: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """Per village: first year, the works of each year (text), total 万元 and poor served."""
    p = projects.assign(village_id=projects["village_id"].astype(str))
    p["text"] = p.apply(_work_text, axis=1)
    out = p.groupby("village_id", sort=True).agg(
        village_name=("village_name", "first"), township_name=("township_name", "first"),
        first_year=("year", "min"), total_cny=("cost_cny", "sum"),
        poor=("poor_beneficiaries", "sum"), n=("project_id", "size"))
    for year in years:
        works = p[p["year"] == year].sort_values("project_id").groupby("village_id")["text"]
        out[str(year)] = works.agg("；".join).reindex(out.index).fillna("")
    out["total"] = [f"{n} 项，{fmt_wan(c, 1)} 万元，贫困受益 {v:,.0f} 人"
                    for n, c, v in zip(out["n"], out["total_cny"], out["poor"], strict=True)]
    out["first_year"] = out["first_year"].astype(int).astype(str)
    out["layer_year"] = out["first_year"]
    return out.reset_index()


def plan_layers(projects: pd.DataFrame, years: Sequence[int],
                villages: gpd.GeoDataFrame) -> list[MapLayer]:
    """Return the plan's map layers: first year of works, then one layer per plan year.

    ``projects`` are ``plan_projects`` rows with a ``works`` column (the work's Chinese
    name, :func:`contigmap.plan.outputs.works_label_zh`).
    """
    pts = villages[["village_id", "geometry"]].assign(
        village_id=villages["village_id"].astype(str))
    pts = pts.assign(geometry=pts.geometry.representative_point())
    cards = _cards(projects, years) if len(projects) else pd.DataFrame(
        columns=["village_id", "village_name", "township_name", "first_year", "layer_year",
                 "total", *map(str, years)])
    data = gpd.GeoDataFrame(cards.merge(pts, on="village_id", how="inner"),
                            geometry="geometry", crs=villages.crs)
    year_cols = [str(y) for y in years]
    popup = ["village_name", "township_name", "first_year", *year_cols, "total"]
    labels = {"village_name": "村 village", "township_name": "乡镇 township",
              "first_year": "首次开工 first year", "total": "合计 total",
              **{y: f"{y} 年项目" for y in year_cols}}
    colours = {str(y): _colour(k) for k, y in enumerate(years)}
    def layer(name: str, part: gpd.GeoDataFrame, show: bool,
              legend: list[tuple[str, str]]) -> MapLayer:
        return MapLayer(name=name, data=part, show=show, legend=legend, color="#333333",
                        color_column="layer_year", color_map=colours, radius=8.0,
                        fill_opacity=0.9, weight=1.0,
                        tooltip_columns=["village_name", "first_year"], popup_columns=popup,
                        labels=labels, group="interv")

    layers = [layer("首次开工年度 First year of works", data, True,
                    [(colours[str(y)], str(y)) for y in years])]
    cum = 0.0
    for k, year in enumerate(years):
        this = projects[projects["year"] == year]
        cum += float(this["poor_beneficiaries"].sum())
        ids = set(this["village_id"].astype(str))
        part = data[data["village_id"].isin(ids)].copy()
        part["layer_year"] = str(year)  # this layer's colour: its year
        name = (f"{year}：{len(this)} 项 {fmt_wan(float(this['cost_cny'].sum()), 0)} 万元，"
                f"累计贫困受益 {cum:,.0f} 人 ({year}: {len(this)} works, "
                f"poor served so far {cum:,.0f})")
        layers.append(layer(name, part, False, [(_colour(k), f"{year}")]))
    return layers


def render_plan_map(path: Path, projects: pd.DataFrame, years: Sequence[int],
                    villages: gpd.GeoDataFrame, *, title: str, roads: gpd.GeoDataFrame | None,
                    boundaries: Mapping[str, gpd.GeoDataFrame] | None = None,
                    source_note: str = "", illustrative: bool = False) -> Path:
    """Write ``plan_map.html`` (offline): the villages and the plan's layers (see module)."""
    from contigmap.render.web import render_web_map

    base = villages[[c for c in _BASE if c in villages.columns] + ["geometry"]]
    by_year = projects.groupby("year")["cost_cny"].sum()
    facts = [(f"{y} 年投资", f"{fmt_wan(float(by_year.get(y, 0.0)), 0)} 万元") for y in years]
    return render_web_map(path, villages=base, roads=roads, boundaries=boundaries,
                          extra_layers=plan_layers(projects, years, villages),
                          title=f"{title} 分年度项目计划 {years[0]}–{years[-1]}",
                          source_note=source_note, illustrative=illustrative, offline=True,
                          facts=facts)
