"""Village labels of the static maps: computed label boxes are matplotlib's, float for float."""

from __future__ import annotations

from typing import Any

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.transforms import Bbox

from contigmap.render import static, static_layers
from contigmap.render.agg_text import agg_canvas
from contigmap.render.static_base import map_frame
from contigmap.render.static_parts import text_setup

_NAMES = ["合成05县1乡1村", "白沙村", "Gypsy Ridge", "$x^2$村", "lp", "1", "龙潭 Longtan"]


def _axes(canvas_of: Any, dpi: int) -> tuple[Any, Any]:
    fig = Figure(figsize=(9.0, 5.6), dpi=dpi, facecolor="white")
    canvas = canvas_of(fig)
    ax = map_frame(fig, (0.0, 0.0, 50_000.0, 30_000.0), (9.0, 5.6)).ax
    return ax, canvas.get_renderer()


@pytest.mark.parametrize("canvas_of", [agg_canvas, FigureCanvasAgg])
@pytest.mark.parametrize("dpi", [120, 150])
def test_label_boxes_are_the_annotations_boxes(canvas_of: Any, dpi: int) -> None:
    """:func:`_label_boxes` against an annotation moved to each place and measured."""
    ax, renderer = _axes(canvas_of, dpi)
    text = text_setup()
    with static._literal_text():
        for size in (8, 10.5):
            props = text.props(size) if text.font else FontProperties(size=size)
            ascent, descent = static_layers._height_metrics(renderer, props)
            for i, name in enumerate(_NAMES):
                xy = (1234.567 + 4321.5 * i, 2500.25 + 3001.7 * i)
                anchor = ax.transData.transform(xy)
                expected = static_layers._annotation_boxes(ax, renderer, name, xy, props)
                got = static_layers._label_boxes(renderer, name, props, tuple(anchor),
                                                 ascent, descent)
                assert got == expected  # exactly: the same placement decisions
    assert not ax.texts  # the measuring annotations are removed


def test_greedy_placement_by_hand() -> None:
    """Three labels on one symbol take NE, NW, SE; a fourth that fits nowhere is dropped."""
    ax, renderer = _axes(agg_canvas, 100)
    props = FontProperties(family="DejaVu Sans", size=8)
    xy = (25_000.0, 15_000.0)
    with static._literal_text():
        drawn = static_layers._draw_labels(ax, renderer, [xy] * 5, ["a", "b", "c", "d", "e"],
                                           props, [], count=10)
    assert [t.get_text() for t in drawn] == ["a", "b", "c", "d"]
    assert [(t.xyann, t.get_horizontalalignment(), t.get_verticalalignment()) for t in drawn] == [
        ((5, 3), "left", "bottom"), ((-5, 3), "right", "bottom"),
        ((5, -3), "left", "top"), ((-5, -3), "right", "top")]
    assert list(ax.texts) == drawn
    # a township name's box over the NE place: the label goes NW; count stops after one
    ne = static_layers._label_boxes(renderer, "a", props, tuple(ax.transData.transform(xy)),
                                    *static_layers._height_metrics(renderer, props))[0]
    ax2, renderer2 = _axes(agg_canvas, 100)
    with static._literal_text():
        drawn = static_layers._draw_labels(ax2, renderer2, [xy, xy], ["a", "b"], props,
                                           [Bbox.from_extents(*ne)], count=1)
    assert [(t.get_text(), t.xyann) for t in drawn] == [("a", (-5, 3))]


def test_labels_outside_the_frame_are_dropped() -> None:
    ax, renderer = _axes(agg_canvas, 100)
    props = FontProperties(family="DejaVu Sans", size=8)
    with static._literal_text():
        drawn = static_layers._draw_labels(
            ax, renderer, [(-90_000.0, 15_000.0), (25_000.0, 15_000.0)], ["out", "in"], props,
            [], count=10)
    assert [t.get_text() for t in drawn] == ["in"]
