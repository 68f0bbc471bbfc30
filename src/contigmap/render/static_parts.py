"""Map furniture for the static maps: text faces, frame geometry, scale bar, north arrow, title.

:mod:`contigmap.render.static` draws the layers and legends; this module holds what
every map has around them. A scale bar is a round length (1, 2 or 5 x 10^k m) about a
fifth of the map width; the north arrow is turned by the grid convergence of the map's
projection so that it points to true north.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
from pyproj import CRS, Transformer

from contigmap.errors import DataQualityWarning
from contigmap.render import fonts
from contigmap.render._geo import checked

__all__ = [
    "ILLUSTRATIVE",
    "MapText",
    "ascii_only",
    "draw_north_arrow",
    "draw_scale_bar",
    "draw_title_block",
    "nice_round",
    "nice_scale_length_m",
    "north_angle_deg",
    "prepared",
    "text_setup",
    "wrap",
]

ILLUSTRATIVE: Final[str] = "示意数据 / illustrative data"

_state: dict[str, bool] = {"no_font_warned": False}


# --------------------------------------------------------------------------- text


@dataclass(frozen=True)
class MapText:
    """How to draw text: a CJK face, or the default font with English only."""

    font: fonts.CJKFont | None

    def props(self, size: float, *, bold: bool = False) -> Any:
        """Font properties of the face at ``size`` points."""
        from matplotlib.font_manager import FontProperties

        weight = "bold" if bold else "normal"
        if self.font is None:
            return FontProperties(family="DejaVu Sans", size=size, weight=weight)
        return FontProperties(family=self.font.family, size=size, weight=weight)

    def pick(self, zh: str, en: str) -> str:
        """Both languages with a CJK font, the English alone without."""
        if self.font is None:
            return en or ascii_only(zh)
        return f"{zh} {en}".strip() if en else zh

    def free(self, text: str) -> str:
        """Free text (a note): unchanged with a CJK font, else CJK characters dropped."""
        return text if self.font is not None else ascii_only(text)


def ascii_only(text: str) -> str:
    """Keep the characters DejaVu Sans draws (Latin, punctuation, symbols); drop CJK."""
    kept = "".join(ch for ch in text if ord(ch) < 0x2E80 or 0xFF01 <= ord(ch) <= 0xFF5E)
    return " ".join(kept.split())


def text_setup() -> MapText:
    """Find a CJK font (warn once when there is none) and return how to draw text."""
    path = fonts.find_cjk_font()
    if path is None:
        if not _state["no_font_warned"]:
            _state["no_font_warned"] = True
            warnings.warn(
                "no CJK font found: static maps are drawn without Chinese text or village "
                "names; pip install noto-cjk-sans-otc (a dependency of contigmap) or a "
                "system CJK font (Debian: apt-get install fonts-noto-cjk)",
                DataQualityWarning,
                stacklevel=3,
            )
        return MapText(None)
    best = fonts.cjk_font()
    if best is not None and best.path == path:
        return MapText(best)
    from matplotlib import font_manager, ft2font

    face = ft2font.FT2Font(str(path))
    font_manager.fontManager.addfont(str(path))
    return MapText(fonts.CJKFont(path=path, face_index=0, family=face.family_name))


# --------------------------------------------------------------------------- geometry


def prepared(gdf: gpd.GeoDataFrame | None, layer: str, crs: CRS) -> gpd.GeoDataFrame | None:
    """Check a layer, drop empty geometries and reproject it to ``crs``."""
    if gdf is None:
        return None
    out = checked(gdf, layer)
    return out if CRS.from_user_input(out.crs) == crs else out.to_crs(crs)


def nice_scale_length_m(map_width_m: float, fraction: float = 0.2) -> float:
    """Round scale-bar length for a map ``map_width_m`` wide: 1, 2 or 5 x 10^k metres.

    The largest round length not longer than ``fraction`` of the width.

    Parameters
    ----------
    map_width_m
        Width of the map frame on the ground, metres (> 0).
    fraction
        Target share of the width.

    Returns
    -------
    float
        Bar length in metres.
    """
    if not (map_width_m > 0 and math.isfinite(map_width_m)):
        msg = f"map width must be a positive number of metres, got {map_width_m}"
        raise ValueError(msg)
    target = map_width_m * fraction
    k = math.floor(math.log10(target))
    best = 10.0**k
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * 10.0**k <= target * (1 + 1e-9):
            best = m * 10.0**k
    return best


def nice_round(x: float, digits: int = 2) -> float:
    """Round ``x`` to ``digits`` significant digits (0 and non-finite values unchanged)."""
    if x == 0 or not math.isfinite(x):
        return x
    scale = 10 ** (digits - 1 - math.floor(math.log10(abs(x))))
    return round(x * scale) / scale


def _length_label(length_m: float) -> tuple[float, str]:
    """(divisor, unit) to label a length: km from 1 km up."""
    return (1000.0, "km") if length_m >= 1000 else (1.0, "m")


def _fmt_len(value: float) -> str:
    return f"{value:g}"


def north_angle_deg(crs: CRS, x: float, y: float) -> float:
    """Angle of true north from grid north at (x, y), degrees counterclockwise."""
    geo = CRS.from_user_input(crs).geodetic_crs
    to_geo = Transformer.from_crs(crs, geo, always_xy=True)
    from_geo = Transformer.from_crs(geo, crs, always_xy=True)
    lon, lat = to_geo.transform(x, y)
    x2, y2 = from_geo.transform(lon, min(lat + 0.01, 89.99))
    return math.degrees(math.atan2(-(x2 - x), y2 - y))


# --------------------------------------------------------------------------- furniture


def draw_scale_bar(
    ax: Any, text: MapText, xlim: tuple[float, float], ylim: tuple[float, float]
) -> float:
    """Draw a two-segment black/white bar in the lower left; return its length in metres."""
    from matplotlib.patches import Rectangle

    width = xlim[1] - xlim[0]
    length = nice_scale_length_m(width)
    div, unit = _length_label(length)
    x0 = xlim[0] + 0.04 * width
    y0 = ylim[0] + 0.045 * (ylim[1] - ylim[0])
    h = 0.008 * (ylim[1] - ylim[0])
    half = length / 2
    for i, color in enumerate(("#222222", "white")):
        ax.add_patch(
            Rectangle((x0 + i * half, y0), half, h, facecolor=color, edgecolor="#222222",
                      linewidth=0.8, zorder=9, gid="scale-bar")
        )
    props = text.props(8)
    for pos in (0.0, half, length):
        lab = _fmt_len(pos / div)
        if pos == length:
            lab = f"{lab} {unit}"
        ax.text(x0 + pos, y0 + 1.6 * h, lab, ha="center", va="bottom", fontproperties=props,
                zorder=9, gid="scale-bar-label" if pos == length else None)
    return length


def draw_north_arrow(ax: Any, text: MapText, crs: CRS, xlim: tuple[float, float],
                      ylim: tuple[float, float]) -> None:
    """Draw a north arrow in the upper right, turned to true north."""
    from matplotlib.patches import Polygon
    from matplotlib.transforms import Affine2D

    cx, cy = (xlim[0] + xlim[1]) / 2, (ylim[0] + ylim[1]) / 2
    angle = north_angle_deg(crs, cx, cy)
    # in axes fraction; the map axes has equal aspect, so scale y by the frame ratio
    bbox = ax.get_position(original=True)
    fig_w, fig_h = ax.figure.get_size_inches()
    ratio = (bbox.width * fig_w) / (bbox.height * fig_h)
    ax_x, ax_y, size = 0.94, 0.88, 0.035
    rot = Affine2D().rotate_deg(angle).scale(size, size * ratio).translate(ax_x, ax_y)
    left = [(0.0, 1.0), (-0.45, -0.8), (0.0, -0.35)]
    right = [(0.0, 1.0), (0.45, -0.8), (0.0, -0.35)]
    for pts, face in ((left, "#222222"), (right, "white")):
        ax.add_patch(Polygon(rot.transform(np.array(pts)), closed=True, facecolor=face,
                             edgecolor="#222222", linewidth=0.8, transform=ax.transAxes,
                             zorder=9, gid="north-arrow"))
    nx, ny = rot.transform(np.array([[0.0, 1.45]]))[0]
    ax.text(nx, ny, "N", transform=ax.transAxes, ha="center", va="center",
            fontproperties=text.props(10, bold=True), zorder=9)


def _title_text(title: str, title_en: str, text: MapText) -> tuple[str, str]:
    if text.font is None:
        return (title_en or ascii_only(title) or "Map", "")
    return title, title_en


def wrap(text: str, width: int) -> str:
    """Wrap text at ``width`` characters (CJK paragraphs by characters)."""
    import textwrap

    out: list[str] = []
    for para in text.splitlines() or [""]:
        # CJK has no spaces: wrap by characters when a paragraph has few spaces
        if para.count(" ") < len(para) / 20:
            out.extend(para[i : i + width] for i in range(0, max(len(para), 1), width))
        else:
            out.extend(textwrap.wrap(para, width=width) or [""])
    return "\n".join(out)




def draw_title_block(
    fig: Any, text: MapText, title: str, title_en: str, *, illustrative: bool,
    source_note: str,
) -> None:
    """Title and English subtitle at the top left, the data note at the bottom left."""
    title_main, title_sub = _title_text(title, title_en, text)
    fig.text(0.02, 0.955, title_main, fontproperties=text.props(17, bold=True), va="center",
             gid="title")
    if title_sub:
        fig.text(0.02, 0.915, title_sub, fontproperties=text.props(10), color="#444444",
                 va="center")
    note_parts = []
    if illustrative:
        note_parts.append(text.pick(*ILLUSTRATIVE.split(" / ")) if text.font is None
                          else ILLUSTRATIVE)
    if source_note:
        note_parts.append(text.pick("数据来源", "Source:") + " " + text.free(source_note))
    if note_parts:
        fig.text(0.02, 0.06, wrap("  ".join(note_parts), 150 if text.font is None else 120),
                 fontproperties=text.props(6.5), color="#444444", va="top", gid="source-note")
