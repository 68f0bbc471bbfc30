"""Vendored JavaScript and CSS for the HTML maps, inlined in offline mode.

Leaflet 1.9.4 is vendored unchanged from the npm package ``leaflet`` (BSD 2-Clause);
see ``assets/README.md`` for provenance and checksums. Offline maps inline these
files, so a map opens with no network at all; online maps link the same version on
a CDN.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from importlib import resources

__all__ = [
    "LEAFLET_CSS_URL",
    "LEAFLET_JS_URL",
    "LEAFLET_VERSION",
    "leaflet_css",
    "leaflet_js",
]

LEAFLET_VERSION = "1.9.4"
LEAFLET_JS_URL = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.js"
LEAFLET_CSS_URL = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.css"

_CSS_URL = re.compile(r"url\((images/[A-Za-z0-9_.-]+\.png)\)")


def _read(name: str) -> bytes:
    return resources.files("contigmap.render").joinpath("assets", "leaflet", name).read_bytes()


@cache
def leaflet_js() -> str:
    """Leaflet's minified script, safe to place inside a ``<script>`` element.

    Returns
    -------
    str
        The script text. ``</script`` never occurs in it (checked).
    """
    text = _read("leaflet.js").decode("utf-8")
    if "</script" in text.lower():  # pragma: no cover - guards a future upgrade
        msg = "vendored leaflet.js contains '</script'; it cannot be inlined as is"
        raise RuntimeError(msg)
    return text


@cache
def leaflet_css() -> str:
    """Leaflet's stylesheet with its images turned into ``data:`` URIs.

    Returns
    -------
    str
        The stylesheet text, referring to no other file.
    """
    text = _read("leaflet.css").decode("utf-8")

    def inline(match: re.Match[str]) -> str:
        data = base64.b64encode(_read(match.group(1))).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return _CSS_URL.sub(inline, text)
