"""The web map's print/export view: a landscape planning sheet (规划图) sent to ``window.print()``.

A button (打印/导出 Print) switches the page to a sheet of A4 landscape (A3 selectable):
the theme shown as title, a framed legend (copies of the legends of the layers shown),
a numeric scale 1:N and a graphic scale bar computed from the map's resolution at its
centre latitude (Web Mercator: ``40075016.686 · cos φ / (256 · 2^z)`` metres per CSS
pixel, and a CSS pixel is 0.0254/96 m on paper), a north arrow, the issuer line
(编制单位, from the source note), the date (given by Python, else the day of printing,
filled in by the browser so that files stay reproducible; editable), a 审图号
placeholder and the data note with the 示意数据 badge when illustrative. The sheet shows
the whole county (or the current view). Zoom, search, layer list and panels are hidden.

Layout and print rules are ``assets/map/print.css`` (``@media print`` and
``@page { size: A4 landscape }``; A3 swaps in a second ``@page`` rule), behaviour is
``assets/map/print.js``. Data text reaches the script only as JSON through the page's
data slots (:mod:`contigmap.render.web_page`) and is written with ``textContent``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from contigmap.render.web_page import Ids, Raw, Script, map_script

__all__ = ["METRES_PER_CSS_PX", "add_print_view", "print_data"]

METRES_PER_CSS_PX = 0.0254 / 96
"""Length of one CSS pixel on paper (1/96 inch), in metres."""


@cache
def _css() -> str:
    return resources.files("contigmap.render").joinpath(
        "assets", "map", "print.css").read_text(encoding="utf-8")


def print_data(
    *, title: str, source_note: str, illustrative: bool, date: str | None,
    extent: tuple[tuple[float, float], tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """Return the sheet's data: title, issuer (编制单位), date, data note.

    Parameters
    ----------
    title
        The map's title (the sheet's heading above the theme).
    source_note
        Shown as the issuer line and the data note.
    illustrative
        Whether to badge the sheet 示意数据.
    date
        The build date as text (``None``: the sheet shows the day it is printed, in an
        editable field, so the file itself stays the same on every run).
    extent
        ``((south, west), (north, east))`` the sheet shows by default (the county); the
        print bar switches to the current view.

    Returns
    -------
    dict
        Plain data for ``print.js``.
    """
    return {
        "title": str(title),
        "issuer": str(source_note).strip(),
        "date": "" if date is None else str(date),
        "badge": "示意数据" if illustrative else "",
        "note": "示意数据，仅供研讨 illustrative data" if illustrative else "见数据来源 see source",
        "extent": [list(c) for c in extent] if extent is not None else None,
    }


def add_print_view(m: Any, page: Any, ids: Ids, data: dict[str, Any]) -> None:
    """Add the print view's stylesheet, button and script to the map.

    Parameters
    ----------
    m
        The :class:`folium.Map`.
    page
        Its :class:`~contigmap.render.web_page.Page`.
    ids
        The map's ids and data slots.
    data
        :func:`print_data`.
    """
    page.header.add_child(Raw(f"<style>{_css()}</style>"), name="cm_print_css")
    Script(map_script("print.js", map=m.get_name(), data=ids.slots.json(data),
                      px_m=repr(METRES_PER_CSS_PX))).add_to(m)
