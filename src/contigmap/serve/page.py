"""The editing page of ``contigmap serve``: constant HTML with every asset inlined.

The page holds no data at all: Leaflet (the packaged copy the web map inlines,
``render/assets/leaflet``) and the editor's own script and stylesheet
(``render/assets/serve/serve.js``, ``serve.css``) are read from the package and inlined,
so the page works offline; roads, villages and every number arrive as JSON from the API
(:mod:`contigmap.serve.app`) and are put into the page with ``textContent`` and Leaflet,
never as markup.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["serve_page"]


def _asset(*parts: str) -> str:
    return resources.files("contigmap.render").joinpath("assets", *parts).read_text(
        encoding="utf-8")


def _inline_script(code: str) -> str:
    return "<script>\n" + code.replace("</script", "<\\/script") + "\n</script>"


@cache
def serve_page(_region: str = "") -> str:
    """Return the page (the same for every region: the data come from ``/api/region``)."""
    css = _asset("leaflet", "leaflet.css") + "\n" + _asset("serve", "serve.css")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>contigmap 道路情景编辑 Road scenario editor</title>",
        "<style>\n" + css.replace("</style", "<\\/style") + "\n</style>",
        "</head><body>",
        '<div id="map"></div>',
        '<div id="panel"></div>',
        _inline_script(_asset("leaflet", "leaflet.js")),
        _inline_script(_asset("serve", "serve.js")),
        "</body></html>",
    ])
