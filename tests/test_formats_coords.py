"""Baidu BD-09 coordinates and degrees-minutes-seconds text (issue #19 item 6)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from contigmap.config import LayerSpec
from contigmap.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from contigmap.errors import DataQualityWarning, LayerError
from contigmap.io import read_layer
from contigmap.io.tables import parse_dms

# Beijing railway station in the three datums, as published (5 decimals) in the examples
# of the geoChina R package (Jun Cai, Tsinghua; CRAN "geoChina", R/conv.R):
# WGS-84 (39.90105, 116.42079), GCJ-02 (39.90245, 116.42703), BD-09 (39.90851, 116.43351).
STATION_WGS = (116.42079, 39.90105)
STATION_GCJ = (116.42703, 39.90245)
STATION_BD = (116.43351, 39.90851)
PUBLISHED = 1.5e-5  # 5 published decimals (5e-6) plus the published rounding of GCJ-02


def test_forward_matches_published_station() -> None:
    lon, lat = wgs84_to_bd09(*STATION_WGS)
    assert float(lon) == pytest.approx(STATION_BD[0], abs=PUBLISHED)
    assert float(lat) == pytest.approx(STATION_BD[1], abs=PUBLISHED)
    lon, lat = gcj02_to_bd09(*STATION_GCJ)
    assert float(lon) == pytest.approx(STATION_BD[0], abs=PUBLISHED)
    assert float(lat) == pytest.approx(STATION_BD[1], abs=PUBLISHED)


def test_inverse_recovers_published_station() -> None:
    lon, lat = bd09_to_gcj02(*STATION_BD)
    assert float(lon) == pytest.approx(STATION_GCJ[0], abs=PUBLISHED)
    assert float(lat) == pytest.approx(STATION_GCJ[1], abs=PUBLISHED)
    lon, lat = bd09_to_wgs84(*STATION_BD)
    assert float(lon) == pytest.approx(STATION_WGS[0], abs=PUBLISHED)
    assert float(lat) == pytest.approx(STATION_WGS[1], abs=PUBLISHED)


def test_forward_by_hand() -> None:
    # the BD-09 formula written out with math, on one GCJ-02 point
    x, y = 108.5, 26.3
    xpi = math.pi * 3000.0 / 180.0
    z = math.hypot(x, y) + 0.00002 * math.sin(y * xpi)
    theta = math.atan2(y, x) + 0.000003 * math.cos(x * xpi)
    lon, lat = gcj02_to_bd09(x, y)
    assert float(lon) == pytest.approx(z * math.cos(theta) + 0.0065, abs=1e-12)
    assert float(lat) == pytest.approx(z * math.sin(theta) + 0.006, abs=1e-12)


def test_round_trips_to_1e9_degrees() -> None:
    rng = np.random.default_rng(19)
    lon = rng.uniform(73.0, 135.0, 2000)
    lat = rng.uniform(18.0, 53.0, 2000)
    back = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert np.abs(back[0] - lon).max() < 1e-9
    assert np.abs(back[1] - lat).max() < 1e-9
    back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert np.abs(back[0] - lon).max() < 1e-9
    assert np.abs(back[1] - lat).max() < 1e-9


def test_exact_inverse_beats_the_one_step_inverse() -> None:
    # the usual bd09togcj02 (one step) is off by ~1e-7 degrees; the iteration is not
    bx, by = gcj02_to_bd09(106.0, 27.0)
    one_step = bd09_to_gcj02(bx, by, max_iter=0)
    exact = bd09_to_gcj02(bx, by)
    assert abs(float(exact[0]) - 106.0) < 1e-12
    assert abs(float(one_step[0]) - 106.0) > abs(float(exact[0]) - 106.0)


def test_bd09_layer_converted_to_wgs84(tmp_path: Path) -> None:
    text = (f"service_id,kind,name,lng,lat\n"
            f"S1,县城,县城,{STATION_BD[0]},{STATION_BD[1]}\n")
    (tmp_path / "s.csv").write_text(text, encoding="utf-8")
    out = read_layer(LayerSpec(path=Path("s.csv"), datum="bd09"), base_dir=tmp_path,
                     role="services", source="s")
    expected = gcj02_to_wgs84(*bd09_to_gcj02(*STATION_BD))
    assert out.geometry.iloc[0].x == pytest.approx(float(expected[0]), abs=1e-12)
    assert out.geometry.iloc[0].y == pytest.approx(float(expected[1]), abs=1e-12)
    assert out.crs.to_epsg() == 4326
    assert np.allclose(wgs84_to_gcj02(out.geometry.iloc[0].x, out.geometry.iloc[0].y),
                       bd09_to_gcj02(*STATION_BD), atol=1e-9)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("105°43′12.5″", 105 + 43 / 60 + 12.5 / 3600),
        ("105度43分12.5秒", 105 + 43 / 60 + 12.5 / 3600),
        ("105°43'12.5\"", 105 + 43 / 60 + 12.5 / 3600),
        ("105°43'12.5''", 105 + 43 / 60 + 12.5 / 3600),
        ("105°43′12.5″E", 105 + 43 / 60 + 12.5 / 3600),
        ("E 105°43′12.5″", 105 + 43 / 60 + 12.5 / 3600),
        ("东经105度43分", 105 + 43 / 60),
        ("26°30′S", -26.5),
        ("W105°", -105.0),
        ("105°43.5′", 105 + 43.5 / 60),
        (" 26° 30′ 00″ N ", 26.5),
        ("105.72E", 105.72),
        ("S 26.5", -26.5),
        ("东经105.7", 105.7),
    ],
)
def test_dms_parsed(text: str, value: float) -> None:
    assert parse_dms(text) == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize("text", ["105°61′", "105°43′75″", "E105°W", "abc", "105.5",
                                  "E105.5W"])
def test_not_dms(text: str) -> None:
    assert parse_dms(text) is None


def test_dms_columns_make_points(tmp_path: Path) -> None:
    text = ("service_id,kind,name,经度,纬度\n"
            "S1,学校,一小,105°43′12.5″E,26度30分0秒\n"
            "S2,学校,二小,105.8,\"26°31'30\"\"N\"\n")
    (tmp_path / "s.csv").write_text(text, encoding="utf-8")
    out = read_layer(LayerSpec(path=Path("s.csv")), base_dir=tmp_path, role="services",
                     source="layers.services")
    assert list(out.geometry.x) == pytest.approx([105 + 43 / 60 + 12.5 / 3600, 105.8])
    assert list(out.geometry.y) == pytest.approx([26.5, 26 + 31 / 60 + 30 / 3600])


def test_bad_dms_is_one_line_error(tmp_path: Path) -> None:
    text = ("service_id,kind,name,经度,纬度\n"
            "S1,学校,一小,105.7,26.5\n"
            "S2,学校,二小,105°73′,26.5\n")
    (tmp_path / "s.csv").write_text(text, encoding="utf-8")
    with pytest.raises(LayerError) as info:
        read_layer(LayerSpec(path=Path("s.csv")), base_dir=tmp_path, role="services",
                   source="layers.services")
    message = str(info.value)
    assert "\n" not in message
    assert "s.csv" in message and "row 3" in message and "'经度'" in message
    assert "105°73′" in message


def test_bad_dms_in_a_region_names_the_sheet_row(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "学校"
    sheet.append(["service_id", "kind", "name", "经度", "纬度"])
    sheet.append(["S1", "学校", "一小", "105°43′12.5″", "26°30′N"])
    sheet.append(["S2", "学校", "二小", "105度43分", "26度30分99秒"])
    book.save(tmp_path / "s.xlsx")
    with pytest.raises(LayerError) as info:
        read_layer(LayerSpec(path=Path("s.xlsx"), layer="学校"), base_dir=tmp_path,
                   role="services", source="layers.services (s.xlsx)")
    assert str(info.value) == (
        "layers.services (s.xlsx), sheet '学校' row 3, column '纬度': cannot read "
        "'26度30分99秒' as degrees-minutes-seconds (write e.g. 105°43′12.5″E or 105.72014)")


def test_blank_markers_are_still_left_out(tmp_path: Path) -> None:
    text = ("service_id,kind,name,经度,纬度\n"
            "S1,学校,一小,105.7,26.5\n"
            "S2,学校,二小,NA,无\n")
    (tmp_path / "s.csv").write_text(text, encoding="utf-8")
    with pytest.warns(DataQualityWarning, match="missing or non-numeric coordinates"):
        out = read_layer(LayerSpec(path=Path("s.csv")), base_dir=tmp_path, role="services",
                         source="layers.services")
    assert list(out["name"]) == ["一小"]
