"""The plan year by year on a map: one small panel per plan year (a static PNG).

Each panel shows the township outlines and every village point; the villages with works
planned that year are red, sized by that year's money (area ∝ 万元), the ones with
works in an earlier year dark grey, the rest light grey. Drawn with matplotlib like the
run's static maps (:mod:`contigmap.render.static_parts` for the CJK font); the web map
(``render/``, shared) is left unchanged.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from contigmap.io.write import atomic_path

__all__ = ["plan_map"]


def plan_map(projects: pd.DataFrame, years: list[int], villages: gpd.GeoDataFrame,
             townships: gpd.GeoDataFrame | None, path: Path) -> Path:
    """Draw the plan's villages per year into ``path`` (PNG) and return it."""
    from matplotlib.figure import Figure

    from contigmap.render.static_parts import text_setup

    text = text_setup()
    pts = villages  # working CRS, metres
    xy = np.column_stack([pts.geometry.centroid.x, pts.geometry.centroid.y])
    vid = pts["village_id"].astype(str).to_numpy()
    money = projects.groupby(["year", "village_id"])["cost_cny"].sum()
    first = projects.groupby("village_id")["year"].min()
    cols = min(len(years), 3)
    rows = math.ceil(len(years) / cols)
    fig = Figure(figsize=(3.2 * cols, 3.0 * rows + 0.4), dpi=130, layout="constrained")
    scale = 60.0 / max(float(money.max()) if len(money) else 1.0, 1.0)
    for k, year in enumerate(years):
        ax = fig.add_subplot(rows, cols, k + 1)
        if townships is not None and len(townships):
            townships.to_crs(pts.crs).boundary.plot(ax=ax, color="#999", linewidth=0.4)
        earlier = np.isin(vid, first[first < year].index.astype(str).to_numpy())
        ax.scatter(xy[:, 0], xy[:, 1], s=2, color="#ddd", zorder=1)
        ax.scatter(xy[earlier, 0], xy[earlier, 1], s=3, color="#555", zorder=2)
        now = money[year] if year in money.index.get_level_values(0) else pd.Series(dtype=float)
        sel = np.isin(vid, now.index.astype(str).to_numpy())
        sizes = scale * pd.Series(vid[sel]).map(now).to_numpy(float)
        ax.scatter(xy[sel, 0], xy[sel, 1], s=np.maximum(sizes, 4), color="#c0392b",
                   alpha=0.75, zorder=3, linewidths=0)
        n = int(sel.sum())
        ax.set_title(f"{year}: " + text.pick(f"{n}村", f"{n} villages"),
                     fontproperties=text.props(9))
        ax.set_aspect("equal")
        ax.set_axis_off()
    fig.suptitle(text.pick("分年度项目村（红：当年，深灰：往年已安排）",
                           "Villages with works per year (red: that year; dark grey: earlier)"),
                 fontproperties=text.props(10, bold=True))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    return path
