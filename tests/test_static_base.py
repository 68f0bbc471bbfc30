"""The layers every static map shares: drawn from shapely coordinates, once per region.

The expected pictures are drawn independently: the roads with one ``GeoDataFrame.plot``
per surface (how the maps drew them before), and a whole map with every layer drawn in
its own figure; the fast paths must give the same pixels.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import STRtree
from shapely.geometry import LineString, MultiLineString

from contigmap.render import static, static_base, static_towns
from contigmap.render.static_base import RoadLines, line_segments
from tests.test_render_static import (
    UTM49,
    X0,
    Y0,
    _boundaries,
    _figure_args,
    _roads,
    _villages,
)


def _more_roads() -> gpd.GeoDataFrame:
    """The three test roads plus a two-part earth track and a path drawn right to left."""
    extra = gpd.GeoDataFrame(
        {"road_id": ["r4", "r5"], "road_class": ["track", "path"], "surface": ["earth", "paved"]},
        geometry=[
            MultiLineString([[(X0 + 1000, Y0 + 9000), (X0 + 6000, Y0 + 9000)],
                             [(X0 + 12_000, Y0 + 12_000), (X0 + 12_000, Y0 + 4000)]]),
            LineString([(X0 + 19_000, Y0 + 15_000), (X0 + 11_000, Y0 + 15_000)]),
        ],
        crs=UTM49,
    )
    return gpd.GeoDataFrame(pd.concat([_roads(), extra], ignore_index=True), crs=UTM49)


def test_line_segments_split_parts_by_hand() -> None:
    geoms = np.array([
        LineString([(2, 0), (0, 0)]),
        MultiLineString([[(0, 5), (0, 6)], [(9, 9), (8, 8), (7, 9)]]),
        LineString([(0, 1), (3, 1)]),
    ])
    segments, part_of = line_segments(geoms)
    # normalised as GeoSeries.plot does: a line starts at its smaller end, and the
    # parts of a multi-line come in GEOS's normal order (greatest first)
    assert [s.tolist() for s in segments] == [
        [[0, 0], [2, 0]],
        [[7, 9], [8, 8], [9, 9]],
        [[0, 5], [0, 6]],
        [[0, 1], [3, 1]],
    ]
    assert part_of.tolist() == [0, 1, 1, 2]


def test_road_subset_keeps_parts_and_styles() -> None:
    lines = RoadLines.of(_more_roads())
    sub = lines.subset(np.array([1, 3]))  # the gravel road and the two-part earth track
    assert sub.surface.tolist() == ["gravel", "earth"]
    assert sub.width.tolist() == [0.55, 0.45]  # village, track
    assert sub.part_of.tolist() == [0, 1, 1]
    assert [p.vertices.tolist() for p in sub.paths] == [
        p.vertices.tolist() for i, p in enumerate(lines.paths) if lines.part_of[i] in (1, 3)]
    assert sub.surfaces() == ["gravel", "earth"]


def _blank_axes() -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 4.5), dpi=60, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.05, 0.05, 0.9, 0.9))
    ax.set_axis_off()
    return fig, ax


def _pixels(fig: Any, ax: Any) -> np.ndarray:
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlim(X0 - 1000, X0 + 21_000)
    ax.set_ylim(Y0 - 1000, Y0 + 17_000)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)


def _geopandas_roads(ax: Any, roads: gpd.GeoDataFrame) -> None:
    """The roads as the maps drew them before: one ``GeoDataFrame.plot`` per surface."""
    widths = roads["road_class"].map(static_base._ROAD_WIDTH).fillna(0.5).to_numpy(float)
    for surf, (color, style, _) in static_base._ROAD_STYLE.items():
        sel = (roads["surface"] == surf).to_numpy()
        if sel.any():
            roads.loc[sel].plot(ax=ax, color=color, linewidth=widths[sel], linestyle=style,
                                zorder=3, alpha=0.9)


def test_roads_drawn_where_geopandas_draws_them() -> None:
    roads = _more_roads()
    fig, ax = _blank_axes()
    _geopandas_roads(ax, roads)
    expected = _pixels(fig, ax)
    fig, ax = _blank_axes()
    RoadLines.of(roads).draw(ax)
    got = _pixels(fig, ax)
    inked = (expected < 250).any(axis=2)
    assert inked.sum() > 500  # the roads are there to compare
    assert np.abs(got - expected).max() <= 8  # the same pixels (equal in practice)
    # and a pixel on the paved county road r1, a quarter along it, is road grey
    mx, my = ax.transData.transform((X0 + 6000, Y0 + 5000))
    row, col = int(fig.bbox.height - my), int(mx)
    window = got[row - 1:row + 2, col - 1:col + 2].reshape(-1, 3)
    r, g, b = window[window.sum(axis=1).argmin()]  # the darkest pixel next to that point
    assert r == g == b and r < 200


def _drawn(fig: Any) -> np.ndarray:
    with static._literal_text():
        fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


@pytest.mark.parametrize("column", ["roads_tier", "poverty_incidence"])
def test_map_on_the_shared_raster_equals_the_map_drawn_whole(column: str) -> None:
    args = _figure_args(column=column, roads=_more_roads())
    whole = _drawn(static._build_figure(**args))
    base = static.map_base(args["villages"], args["boundaries"], args["roads"])
    raster = static.shared_raster(base, args["villages"], args["figsize_in"], args["dpi"])
    fast = _drawn(static._build_figure(**args, base=base, raster=raster))
    assert fast.shape == whole.shape
    assert np.array_equal(fast, whole)
    # a raster of another size, or of another extent, is not used: the layers are drawn
    other = static.shared_raster(base, args["villages"], (6.0, 4.0), args["dpi"])
    assert not other.fits(args["figsize_in"], args["dpi"], raster.extent)
    assert np.array_equal(_drawn(static._build_figure(**args, base=base, raster=other)), whole)
    elsewhere = replace(raster, extent=(0.0, 0.0, 1.0, 1.0))
    assert np.array_equal(_drawn(static._build_figure(**args, base=base, raster=elsewhere)),
                          whole)


def test_township_map_takes_the_roads_crossing_it() -> None:
    roads = _more_roads()
    towns = _boundaries()["townships"]
    region = static.map_base(_villages(), {"townships": towns}, roads, ("乡镇界", "township"))
    assert region.roads is not None
    tree = STRtree(region.roads.geoms)
    for tid in ("t1", "t2"):
        town = towns[towns["township_id"] == tid]
        base = static_towns._township_base(region, tree, town)
        # brute force: every road tested against the township polygon
        crossing = roads[roads.intersects(town.geometry.iloc[0])]
        assert base.roads is not None
        assert [g.wkt for g in base.roads.geoms] == [g.wkt for g in crossing.geometry]
        assert base.extent == tuple(town.total_bounds)
