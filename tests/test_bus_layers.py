"""The designed bus lines and stops as map layers: columns and units by hand."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point

from contigmap.render.compose import bus_line_layers


def _lines() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"line_id": ["L1"], "seat": ["S1"], "township_id": ["T1"],
         "terminal_village_id": ["V2"], "length_m": [4_000.0], "vehicles": [1],
         "daily_round_trips": [4.0], "served_villages": [2], "served_people": [300.0],
         "served_poor": [40.0], "yearly_opex_cny": [35_040.0]},
        geometry=[LineString([(0, 0), (4_000, 0)])], crs=32649)


def test_lines_and_stops_become_two_layers_in_km_and_wan() -> None:
    stops = gpd.GeoDataFrame({"stop_id": ["L1-1"], "line_id": ["L1"], "village_id": ["V2"],
                              "walk_m": [120.0]}, geometry=[Point(3_900, 0)], crs=32649)
    layers = bus_line_layers({"bus_lines": _lines(), "bus_stops": stops})
    assert [layer.name for layer in layers] == ["通客车线路 Bus lines", "招呼站 Bus stops"]
    line = layers[0].data
    assert line is not None
    assert line["length_km"].tolist() == [4.0]
    assert line["yearly_opex_wan"].tolist() == [3.5]  # 35,040 CNY = 3.5 万元 (one decimal)
    assert all(layer.group == "interv" and not layer.show for layer in layers)


def test_no_lines_no_layers() -> None:
    assert bus_line_layers({}) == []
    assert bus_line_layers({"bus_lines": _lines().iloc[0:0]}) == []
    assert bus_line_layers({"bus_lines": pd.DataFrame({"line_id": ["L1"]})}) == []
