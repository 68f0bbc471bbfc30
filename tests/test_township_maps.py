"""Township map pages of the county report (#14 point 10): one small map per township.

The maps are drawn on the two-township region of :mod:`tests.browser`; the test checks
which villages each map frames (by their township, counted from the fixture) and that the
report's township page carries its own map.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from contigmap.render.report import ReportStory, write_county_report
from contigmap.render.static_towns import (
    TOWNSHIP_MAP_SIZE_IN,
    render_township_maps,
    township_map_column,
)
from tests.browser import small_region

pytestmark = pytest.mark.slow


def _region() -> dict:
    region = small_region()
    v = region["villages"].copy()
    v["roads_tier"] = [1, 2, 3, 1, 0, 2]
    v["roads_rank"] = [1, 3, 5, 2, 6, 4]
    region["villages"] = v
    return region


def test_one_map_per_township_sized_for_a_page(tmp_path: Path) -> None:
    region = _region()
    maps = render_township_maps(
        tmp_path, villages=region["villages"], townships=region["boundaries"]["townships"],
        roads=region["roads"], region_title="花垣县", dpi=60)
    assert sorted(maps) == ["433124100", "433124101"]
    for png in maps.values():
        with Image.open(png) as im:
            w_in, h_in = TOWNSHIP_MAP_SIZE_IN
            assert im.size == (round(w_in * 60), round(h_in * 60))
            # not blank: the tier colours of the villages are drawn
            assert len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0)) > 20
    assert township_map_column(region["villages"])[0] == "roads_tier"


def test_township_without_villages_gets_no_map(tmp_path: Path) -> None:
    region = _region()
    v = region["villages"]
    only_first = v[v["township_id"] == "433124100"]
    maps = render_township_maps(tmp_path, villages=only_first,
                                townships=region["boundaries"]["townships"], dpi=40)
    assert list(maps) == ["433124100"]


def test_report_page_carries_its_township_map(tmp_path: Path) -> None:
    region = _region()
    v = region["villages"]
    maps = render_township_maps(
        tmp_path / "maps", villages=v, townships=region["boundaries"]["townships"], dpi=40)
    paths = write_county_report(
        tmp_path / "report", villages=v.drop(columns="geometry"), region_title="花垣县",
        story=ReportStory(township_maps=maps))
    page = paths["html"].read_text(encoding="utf-8")
    sections = page.split('<section class="page">')[1:]
    assert len(sections) == 2
    for section, tid in zip(sections, ["433124100", "433124101"], strict=True):
        data = base64.b64encode(maps[tid].read_bytes()).decode("ascii")
        assert data in section  # its own map, not the other township's
    md = paths["md"].read_text(encoding="utf-8")
    assert "433124101.png" in md


def test_county_base_gives_the_same_maps(tmp_path: Path) -> None:
    """Township maps drawn from the county maps' prepared layers are the same files."""
    from contigmap.render.static import map_base

    region = _region()
    args = {"villages": region["villages"], "townships": region["boundaries"]["townships"],
            "roads": region["roads"], "region_title": "花垣县", "dpi": 60}
    own = render_township_maps(tmp_path / "own", **args)
    base = map_base(region["villages"], region["boundaries"], region["roads"])
    shared = render_township_maps(tmp_path / "shared", base=base, **args)
    assert sorted(own) == sorted(shared) == ["433124100", "433124101"]
    for tid, png in own.items():
        assert png.read_bytes() == shared[tid].read_bytes()
