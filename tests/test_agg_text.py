"""The caching Agg canvas draws the same pixels as matplotlib's own, and does cache.

The expected picture is the same figure drawn on a plain ``FigureCanvasAgg``: Chinese and
English text, text with a halo (a path effect: drawn as an outline), a legend, rotated
text, mathtext, and the same strings drawn twice in two figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from contigmap.render import agg_text
from contigmap.render.static_parts import text_setup


def _draw(canvas_of: Any) -> np.ndarray[Any, Any]:
    import matplotlib
    from matplotlib import patheffects
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    text = text_setup()
    fig = Figure(figsize=(4, 3), dpi=100, facecolor="white")
    canvas = canvas_of(fig)
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
    ax.set_axis_off()
    halo = [patheffects.withStroke(linewidth=2.4, foreground="white")]
    ax.fill([0, 1, 1, 0], [0, 0, 1, 1], color="#dddddd")
    for i, name in enumerate(["花垣村", "Bianbian", "花垣村", "龙潭镇 Longtan"]):
        ax.annotate(name, (0.2 + 0.15 * i, 0.3 + 0.1 * i), xytext=(5, 3),
                    textcoords="offset points", fontproperties=text.props(8),
                    path_effects=halo)
    ax.text(0.5, 0.9, "贫困发生率 Poverty", fontproperties=text.props(12, bold=True),
            ha="center")
    ax.text(0.1, 0.5, "rotated 旋转", rotation=30, fontproperties=text.props(9))
    with matplotlib.rc_context({"text.parse_math": True}):
        ax.text(0.6, 0.1, r"$x^2$ math", fontproperties=text.props(9))
    fig.legend(handles=[Line2D([], [], color="k", label=lab) for lab in ("县界 county", "道路")],
               title="图例 Legend", prop=text.props(8), title_fontproperties=text.props(9),
               loc="upper right")
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def test_same_pixels_as_matplotlib_canvas() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    expected = _draw(FigureCanvasAgg)
    first = _draw(agg_text.agg_canvas)  # fills the caches
    again = _draw(agg_text.agg_canvas)  # drawn from them
    assert (expected != 255).any()  # something was drawn
    np.testing.assert_array_equal(first, expected)
    np.testing.assert_array_equal(again, expected)


def test_a_second_figure_reads_the_caches() -> None:
    _draw(agg_text.agg_canvas)
    before = {k: v.hits for k, v in agg_text.cache_info().items()}
    _draw(agg_text.agg_canvas)
    after = {k: v.hits for k, v in agg_text.cache_info().items()}
    assert after["metrics"] > before["metrics"]
    assert after["outlines"] > before["outlines"]
    if agg_text._LAYOUT_DRAW:
        assert after["glyphs"] > before["glyphs"]
        assert after["bitmaps"] > before["bitmaps"]


def test_outlines_are_read_only() -> None:
    from matplotlib.font_manager import FontProperties

    verts, codes = agg_text._CachedTextToPath().get_text_path(FontProperties(size=10), "Ab")
    assert len(verts) == len(codes) > 0
    with pytest.raises(ValueError, match="read-only"):
        verts[0, 0] = 1.0


@pytest.mark.parametrize("s", ["Ab", "", " ", "合成05县1乡1村", "村村 lp", "AVAV"])
def test_outlines_equal_matplotlibs(s: str) -> None:
    """The outline built from cached glyph outlines is ``TextToPath``'s, float for float."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    from contigmap.render.static_parts import text_setup

    text = text_setup()
    for prop in (FontProperties(size=10), text.props(8), text.props(10.5, bold=True)):
        for _ in range(2):  # the second time from the caches
            verts, codes = agg_text._CachedTextToPath().get_text_path(prop, s)
            ref_verts, ref_codes = TextToPath().get_text_path(prop, s)
            assert np.array_equal(verts, np.array(ref_verts, dtype=float).reshape(-1, 2))
            assert codes.tolist() == list(ref_codes)
