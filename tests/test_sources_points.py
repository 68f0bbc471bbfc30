"""Village service points (issue #19 item 9): neighbours' points flagged, repeats merged."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from contigmap.config import load_region
from contigmap.crs import wgs84_to_gcj02
from contigmap.errors import DataQualityWarning
from contigmap.io.checks import check_layer
from contigmap.io.points import flag_outside_county, merge_duplicate_points
from contigmap.io.region import load_region_layers
from tests.helpers import X0, Y0, to_lonlat, write_tiny_region


def _points(rows: list[tuple[str, str, float, str | None]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"service_id": [f"S{i + 1}" for i in range(len(rows))],
         "kind": [r[0] for r in rows], "name": [r[1] for r in rows],
         "township_id": [r[3] for r in rows]},
        geometry=[Point(r[2], 0.0) for r in rows], crs="EPSG:4545")


def test_same_kind_and_name_within_50_m_are_merged() -> None:
    services = _points([
        ("clinic", "张家村卫生室", 0.0, None),   # S1: kept, township from S2
        ("clinic", "张家村卫生室 ", 30.0, "T1"),  # S2: 30 m from S1 -> merged
        ("clinic", "张家村卫生室", 70.0, None),   # S3: 40 m from S2 (a chain) -> merged
        ("school", "张家村卫生室", 0.0, None),    # another kind: kept
        ("clinic", "李家村卫生室", 10.0, None),   # another name: kept
        ("clinic", "张家村卫生室", 200.0, None),  # 130 m from S3: kept
    ])
    with pytest.warns(DataQualityWarning, match=r"2 duplicate point\(s\).*within 50 m"):
        out = merge_duplicate_points(services)
    assert out["service_id"].tolist() == ["S1", "S4", "S5", "S6"]
    assert out["township_id"].iloc[0] == "T1"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(merge_duplicate_points(services.iloc[[0, 3, 4, 5]])) == 4  # nothing said


def test_points_outside_the_county_are_kept_and_flagged() -> None:
    county = gpd.GeoDataFrame({"county_id": ["1"]}, geometry=[box(-10, -10, 1000, 10)],
                              crs="EPSG:4545")
    services = _points([("clinic", "本县卫生室", 500.0, None),
                        ("health_centre", "邻县卫生院", 1500.0, None),
                        ("school", "界上小学", 1000.0, None)])  # on the boundary: inside
    with pytest.warns(DataQualityWarning, match=r"1 point\(s\) lie outside the county \(邻县"):
        out = flag_outside_county(services, county)
    assert out["outside_county"].tolist() == [False, True, False]
    assert len(out) == 3


def test_village_clinic_names_are_the_clinic_kind() -> None:
    kinds = ["村卫生室", "卫生室", "村卫生所", "社区卫生服务站"]
    services = _points([(k, f"点{i}", 100.0 * i, None) for i, k in enumerate(kinds)])
    out = check_layer(services, role="services", source="layers.services")
    assert set(out["kind"]) == {"clinic"}


@pytest.mark.slow
def test_a_region_with_a_neighbours_clinic_and_a_repeated_point(tmp_path: Path) -> None:
    path = write_tiny_region(tmp_path / "region")
    # a clinic 8 km east of the county (beyond the 5 km margin that stopped the run before)
    # and the school listed a second time 20 m away
    lon, lat = to_lonlat([X0 + 18_000, X0 + 7_520], [Y0 + 4_000, Y0 + 4_000])
    glon, glat = wgs84_to_gcj02(lon, lat)
    extra = pd.DataFrame({"id": ["S3", "S4"], "kind": ["村卫生室", "school"],
                          "name": ["邻县张家村卫生室", "双龙小学"],
                          "lng": [f"{v:.8f}" for v in glon], "lat": [f"{v:.8f}" for v in glat]})
    services = pd.concat([pd.read_csv(path.parent / "services.csv", dtype=str), extra])
    services.to_csv(path.parent / "services.csv", index=False)
    with pytest.warns(DataQualityWarning) as caught:
        data = load_region_layers(load_region(path))
    said = " ".join(str(w.message) for w in caught)
    assert "1 duplicate point(s)" in said and "lie outside the county (邻县张家村卫生室)" in said
    assert data.services is not None
    assert data.services["service_id"].tolist() == ["S1", "S2", "S3"]
    assert data.services["outside_county"].tolist() == [False, False, True]
    assert data.services["kind"].tolist() == ["health_centre", "school", "clinic"]
