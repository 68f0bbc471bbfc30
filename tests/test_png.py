"""The PNG writer of the static maps: what Pillow reads back is what was written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from contigmap.errors import ValidationError
from contigmap.render.png import filtered_rows, write_rgb_png


def test_pixels_and_resolution_read_back(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    rgb[:10] = (246, 244, 236)  # a flat band, as on a map
    out = write_rgb_png(tmp_path / "m.png", rgb, 150)
    with Image.open(out) as im:
        assert im.format == "PNG" and im.mode == "RGB" and im.size == (53, 37)
        assert np.array_equal(np.asarray(im), rgb)
        # 150 dpi = 5905.5 px/m, stored as 5906, read back as 5906 x 0.0254 = 150.0124 dpi
        assert im.info["dpi"] == pytest.approx((150.0124, 150.0124))
        assert not {"Software", "Creation Time"} & set(im.info)
    assert [p.name for p in tmp_path.iterdir()] == ["m.png"]
    again = write_rgb_png(tmp_path / "n.png", rgb.copy(), 150)
    assert again.read_bytes() == out.read_bytes()


def test_a_view_of_a_larger_buffer(tmp_path: Path) -> None:
    rgba = np.arange(4 * 5 * 4, dtype=np.uint8).reshape(4, 5, 4)
    out = write_rgb_png(tmp_path / "v.png", rgba[..., :3], 72)  # not contiguous
    with Image.open(out) as im:
        assert np.array_equal(np.asarray(im), rgba[..., :3])


def test_filtered_rows_by_hand() -> None:
    rgba = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)  # pixel (r, c) = 12r + 4c ..
    rows = filtered_rows(rgba[..., :3])
    expected = [[0, 0, 1, 2, 4, 5, 6, 8, 9, 10], [0, 12, 13, 14, 16, 17, 18, 20, 21, 22]]
    assert rows.dtype == np.uint8 and rows.tolist() == expected


@pytest.mark.parametrize("bad", [np.zeros((4, 5), np.uint8), np.zeros((4, 5, 4), np.uint8),
                                 np.zeros((4, 5, 3), np.float64)])
def test_refuses_what_is_not_rgb_bytes(tmp_path: Path, bad: np.ndarray) -> None:
    with pytest.raises(ValidationError, match="uint8"):
        write_rgb_png(tmp_path / "x.png", bad, 72)
    assert not list(tmp_path.iterdir())
