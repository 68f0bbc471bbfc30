"""An Agg canvas that lays out each text once per process, not once per figure and call.

Matplotlib (3.11) lays a text out with libraqm/HarfBuzz on every measurement and every
draw: with the Noto Sans CJK collection that is about 0.3-1.5 ms a string, paid again for
each figure (its metric cache, ``matplotlib.text._get_text_metrics_with_cache``, is kept
per renderer, and every map has its own) and for each draw of a label with a halo (a path
effect draws the text as a path, :meth:`matplotlib.textpath.TextToPath.get_text_path`,
which is not cached at all). The static maps of a county draw the same legend entries,
titles and village names on 20-odd figures, so most of that work is repeated.

:func:`agg_canvas` attaches a ``FigureCanvasAgg`` whose renderer answers five questions
from bounded process-wide caches (LRU, :func:`functools.lru_cache`):

* a font's ascent, descent and line gap (``_get_font_height_metrics``: what
  ``Text._get_layout`` otherwise reads from the font's tables for every text, every time);
* a string's width, height and descent (``get_text_width_height_descent``);
* a string's outline in font units (``get_text_path``, what halo labels are drawn from),
  put together from each glyph's outline, read from the font once;
* a string's glyphs and their positions (``FT2Font._layout``, what Agg rasterises);
* a glyph's bitmap at a subpixel offset (``FT2Font._render_glyph``): the same letters at
  the same fraction of a pixel recur in legends, titles and names (on the 14k-edge county
  of issue #15, 8,644 glyph draws were 2,290 distinct bitmaps).

Each is a pure function of the font properties, the resolution, the text settings
(hinting, hinting factor) and the string, if any; the cache keys hold all of them (and
the number of fonts matplotlib knows, so a font added later is not missed): a figure drawn
on this canvas has the same pixels as on a plain ``FigureCanvasAgg``
(``tests/test_agg_text.py``). The glyph cache also keys on the thread, as
:func:`matplotlib.ft2font` objects are per thread (:func:`matplotlib.font_manager.get_font`).
Texts that are mathtext or TeX are passed to matplotlib unchanged.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import Any, Final

import matplotlib
import numpy as np
from matplotlib import font_manager, ft2font
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.textpath import TextToPath

__all__ = ["agg_canvas", "cache_info", "font_height_metrics"]

_CACHE_SIZE: Final[int] = 8192
"""Strings kept per cache: a county's maps draw a few thousand distinct ones."""


def _settings() -> tuple[Any, ...]:
    """Return the text settings a layout depends on, besides string, font and resolution."""
    rc = matplotlib.rcParams
    return (rc["text.hinting"], rc["text.hinting_factor"],
            len(font_manager.fontManager.ttflist))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _metrics(s: str, prop: Any, dpi: float, settings: tuple[Any, ...]
             ) -> tuple[float, float, float]:
    """Width, height and descent in pixels, as ``RendererAgg`` measures them."""
    del settings  # part of the key only
    font = font_manager.get_font(font_manager.fontManager._find_fonts_by_props(prop))
    font.clear()
    font.set_size(prop.get_size_in_points(), dpi)
    font.set_text(s, 0.0, flags=get_hinting_flag())
    w, h = font.get_width_height()
    return w / 64.0, h / 64.0, font.get_descent() / 64.0


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _outline(s: str, prop: Any, features: Any, language: Any, settings: tuple[Any, ...]
             ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Vertices and codes of the string's outline in font units (read-only arrays).

    ``TextToPath.get_text_path`` (matplotlib 3.11) of a plain string: the string laid
    out at ``TextToPath.FONT_SCALE`` points and ``TextToPath.DPI``, unhinted, and each
    glyph's outline moved to its place (``vertices * 1.0 + [x, y]``, the same floats),
    but a glyph's outline is read from the font once per process (:func:`_glyph_outline`),
    not once per string: a county's village names share most of their characters.
    """
    font = font_manager.get_font(font_manager.fontManager._find_fonts_by_props(prop))
    font.set_size(TextToPath.FONT_SCALE, TextToPath.DPI)
    verts: list[np.ndarray[Any, Any]] = [np.empty((0, 2))]
    codes: list[np.ndarray[Any, Any]] = [np.empty(0, dtype=np.uint8)]
    for item in font._layout(s, ft2font.LoadFlags.NO_HINTING, features=features,
                             language=language):
        if item.ft_object is font:  # the face whose size was just set
            v, c = _glyph_outline(font, item.glyph_index, settings, threading.get_ident())
        else:  # a fallback face: read as matplotlib reads it, at its size of the moment
            item.ft_object.load_glyph(item.glyph_index, flags=ft2font.LoadFlags.NO_HINTING)
            v, c = item.ft_object.get_path()
        verts.append(v * 1.0 + [item.x, item.y])
        codes.append(c)
    v = np.concatenate(verts).astype(float, copy=False)
    c = np.concatenate(codes).astype(np.uint8, copy=False)
    v.flags.writeable = False
    c.flags.writeable = False
    return v, c


@functools.lru_cache(maxsize=4 * _CACHE_SIZE)
def _glyph_outline(font: Any, index: int, settings: tuple[Any, ...], thread: int
                   ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Outline of one glyph at ``TextToPath.FONT_SCALE`` points, unhinted (font units).

    ``font`` is an ``FT2Font`` of this thread, its size already set by :func:`_outline`.
    """
    del settings, thread
    font.load_glyph(index, flags=ft2font.LoadFlags.NO_HINTING)
    return font.get_path()


@functools.lru_cache(maxsize=256)
def _height(prop: Any, dpi: float, settings: tuple[Any, ...]) -> tuple[Any, Any, Any]:
    """Ascent, descent and line gap of the font in pixels, as ``Text._get_layout`` reads them.

    The same tables in the same order and the same arithmetic as matplotlib 3.11 (OS/2
    typographic metrics, else hhea); ``None`` values make matplotlib measure "lp" instead.
    """
    del settings
    font: Any = font_manager.get_font(font_manager.fontManager._find_fonts_by_props(prop))
    for table_name, gap_key, ascent_key, descent_key in (
            ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
            ("hhea", "lineGap", "ascent", "descent")):
        table = font.get_sfnt_table(table_name)
        if table is None:
            continue
        fontsize = prop.get_size_in_points()
        units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
        scale = 1 / units_per_em * fontsize * dpi / 72
        return table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale
    return None, None, None


def font_height_metrics(prop: Any, dpi: float) -> tuple[Any, Any, Any]:
    """Ascent, descent and line gap of the font of ``prop`` at ``dpi`` (pixels), cached.

    What ``Text._get_layout`` (matplotlib 3.11) reads from the font's tables when the
    renderer does not say; ``None`` values when the font has neither table.
    """
    return _height(prop.copy(), float(dpi), _settings())


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _glyphs(s: str, prop: Any, dpi: float, features: Any, language: Any,
            settings: tuple[Any, ...], thread: int) -> tuple[tuple[Any, ...], ...]:
    """Glyphs of the string as ``RendererAgg.draw_text`` places them: (font, index, x, y)."""
    del settings, thread
    font = font_manager.get_font(font_manager.fontManager._find_fonts_by_props(prop))
    font.clear()
    font.set_size(prop.get_size_in_points(), dpi)
    items = font._layout(s, flags=get_hinting_flag(), features=features, language=language)
    return tuple((it.ft_object, it.glyph_index, it.x, it.y) for it in items)


@functools.lru_cache(maxsize=4 * _CACHE_SIZE)
def _bitmap(font: Any, size: float, dpi: float, index: int, matrix: tuple[int, int, int, int],
            fx: int, fy: int, flags: Any, mode: Any) -> tuple[np.ndarray[Any, Any], int, int]:
    """Render a glyph with its origin at (``fx``, ``fy``)/64 px; return pixels, left, top.

    FreeType renders an outline moved by whole pixels into the same pixels, moved (its
    bitmap box is the outline's box floored and ceiled to pixels), so the bitmap of a
    glyph at 26.6 position (x, y) is this one at left + x // 64, top + y // 64 (tested
    against matplotlib's drawing in ``tests/test_agg_text.py``). ``font`` is an
    ``FT2Font`` of this thread (matplotlib's fonts are per thread), so the key holds it.
    """
    font.set_size(size, dpi)
    font._set_transform(np.array(matrix).reshape(2, 2), [fx, fy])
    bitmap = font._render_glyph(index, flags, mode)
    buffer = bitmap.buffer
    if mode != ft2font.RenderMode.NORMAL:
        buffer *= 0xFF
    return buffer, bitmap.left, bitmap.top


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class _CachedTextToPath(TextToPath):
    """``TextToPath`` whose plain-text outlines come from :func:`_outline`."""

    def get_text_path(self, prop: Any, s: str, ismath: Any = False, **kwargs: Any) -> Any:
        if ismath:
            return super().get_text_path(prop, s, ismath=ismath, **kwargs)
        return _outline(s, prop.copy(), _hashable(kwargs.get("features")),
                        kwargs.get("language"), _settings())


_LAYOUT_DRAW: Final[bool] = (hasattr(RendererAgg, "_draw_text_glyphs_and_boxes")
                             and hasattr(ft2font.FT2Font, "_layout"))
"""Whether Agg draws text from ``FT2Font._layout`` glyphs (matplotlib >= 3.11)."""


class _CachedRendererAgg(RendererAgg):
    """``RendererAgg`` that measures, outlines and lays out each plain text once."""

    def __init__(self, width: float, height: float, dpi: float) -> None:
        super().__init__(width, height, dpi)
        self._text2path = _CachedTextToPath()

    def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any
                                      ) -> tuple[float, float, float]:
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        return _metrics(s, prop.copy(), float(self.dpi), _settings())

    def _get_font_height_metrics(self, prop: Any) -> tuple[Any, Any, Any]:
        """Font ascent, descent and line gap (read by ``Text._get_layout``, matplotlib 3.11)."""
        return _height(prop.copy(), float(self.dpi), _settings())

    def draw_text(self, gc: Any, x: float, y: float, s: str, prop: Any, angle: float,
                  ismath: Any = False, mtext: Any = None) -> None:
        if ismath or not _LAYOUT_DRAW:
            super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
            return
        features = _hashable(mtext.get_fontfeatures()) if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        glyphs = _glyphs(s, prop.copy(), float(self.dpi), features, language, _settings(),
                         threading.get_ident())
        self._draw_glyphs(gc, x, y, angle, prop.get_size_in_points(), glyphs)

    def _draw_glyphs(self, gc: Any, x: float, y: float, angle: float, size: float,
                     glyphs: tuple[tuple[Any, ...], ...]) -> None:
        """Draw laid-out glyphs as ``RendererAgg._draw_text_glyphs_and_boxes`` (3.11) does.

        The same 26.6 positions, transform and calls, but each glyph's bitmap comes from
        :func:`_bitmap` (rendered once per subpixel offset); every font used is left with
        the size and transform of its last glyph, as matplotlib leaves it.
        """
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
        key = tuple(int(v) for v in matrix.ravel())
        flags = get_hinting_flag()
        mode = (ft2font.RenderMode.NORMAL if gc.get_antialiased()
                else ft2font.RenderMode.MONO)
        dpi, height = self.dpi, self.height
        last: dict[Any, list[int]] = {}
        for font, index, gx, gy in glyphs:  # gy is upwards, as FreeType's y
            px = round(0x40 * (x + gx * cos - gy * sin))
            py = round(0x40 * (height - y + gx * sin + gy * cos))
            buffer, left, top = _bitmap(font, size, dpi, index, key, px & 63, py & 63,
                                        flags, mode)
            if buffer.size:  # an empty bitmap (a space) sits at 0, 0 wherever it is
                left, top = left + (px >> 6), top + (py >> 6)
            self._renderer.draw_text_image(buffer, left, int(height) - top + buffer.shape[0],
                                           0, gc)
            last[font] = [px, py]
        for font, delta in last.items():
            font.set_size(size, dpi)
            font._set_transform(matrix, delta)


class _CachedCanvasAgg(FigureCanvasAgg):
    """``FigureCanvasAgg`` drawing with :class:`_CachedRendererAgg`."""

    def get_renderer(self) -> Any:
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = _CachedRendererAgg(w, h, self.figure.dpi)
            self._lastKey = key  # type: ignore[assignment]
        return self.renderer


def agg_canvas(fig: Any) -> Any:
    """Attach an Agg canvas with the text caches to ``fig`` and return it."""
    return _CachedCanvasAgg(fig)


def cache_info() -> dict[str, Any]:
    """Hits and misses of the caches (for benchmarks and logs)."""
    return {"metrics": _metrics.cache_info(), "outlines": _outline.cache_info(),
            "glyph outlines": _glyph_outline.cache_info(),
            "glyphs": _glyphs.cache_info(), "heights": _height.cache_info(),
            "bitmaps": _bitmap.cache_info()}
