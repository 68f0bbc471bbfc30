r"""The web map's page: data slots, raw elements, the page's scripts and styles, writing.

No text from the data ever reaches a template engine
-----------------------------------------------------
Folium renders every element's HTML through Jinja, and branca renders the output of
each element's macros *again* as a Jinja template, so a village named ``{{7*7}}`` would
show as ``49`` and ``{{ lipsum.__globals__.os... }}`` would run code. HTML escaping does
not help (``{{`` survives it). Therefore data are kept out of the folium element tree
altogether:

* Every data value (names, ids, reasons, column values, layer names, legend labels,
  title, source note, key figures, colours and styles) is registered in a
  :class:`Slots` table while the map is built; the element tree only holds an opaque
  ASCII token (``cmSlot00042x``) in its place.
* Each value is stored already encoded for the place its token stands in: JSON for a
  script (:func:`js_json`: ``<``, U+2028 and U+2029 written as ``\\uXXXX``, so neither
  ``</script`` nor ``<!--`` can occur and the element cannot be closed or put into
  its escaped states; ``>`` and ``&`` mean nothing in a script element's text and stay
  as they are, which keeps the village cards' markup small), HTML-escaped text for
  markup, and the body of a JSON string for the layer names folium writes into its layer-control
  script. Text that Leaflet shows as HTML (popups, tooltips, legends, layer names) is
  HTML-escaped before it is JSON-encoded.
* The page's root (:class:`Page`) first lets folium and Jinja render the skeleton,
  which then contains only our constant code and the tokens, and afterwards replaces
  all tokens in one regular-expression pass. Text inserted by that pass is never
  scanned again, so neither Jinja syntax nor a token-like string in the data is
  interpreted.
* Our own markup and scripts (title panel, stylesheet, inlined Leaflet, feature
  scripts) are :class:`Raw` elements that bypass Jinja entirely.

The page's own scripts and stylesheet are package files (``assets/map/*.js``,
``map.css``, read with :mod:`importlib.resources`). A script's ``$name`` placeholders
(:class:`string.Template`) are filled only with our own element names, constants and
slot tokens, never with data.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from functools import cache
from html import escape
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any, Final

import numpy as np
import pandas as pd
from branca.element import Element, Figure, MacroElement

from contigmap.render import assets

__all__ = [
    "LAYER_GROUPS",
    "MAX_MAP_BYTES",
    "Ids",
    "Page",
    "Raw",
    "Script",
    "Slots",
    "add_page_head",
    "controls_js",
    "is_missing",
    "js_json",
    "layer_name",
    "map_css",
    "map_script",
    "panes_js",
    "plain_texts",
    "text",
    "write_page",
]

logger = logging.getLogger(__name__)

MAX_MAP_BYTES: Final[int] = 10 * 1024 * 1024
"""A map larger than this logs a warning (planners' machines, e-mail attachments)."""


def js_json(obj: Any) -> str:
    r"""JSON that is safe inside an HTML ``<script>`` element (no ``<``, U+2028, U+2029).

    A script element's text ends only at ``</script`` and changes state only at
    ``<!--`` (HTML Living Standard, 13.2.5.4 "Script data state" and following): with
    every ``<`` written as ``\u003c`` neither can occur. ``>`` and ``&`` are plain
    characters there and are kept (escaping them made the demo map 1.4 MB larger).
    U+2028 and U+2029 are escaped for JavaScript parsers older than ES2019.
    """
    out = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        out.replace("<", "\\u003c")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


_HTML_SPECIAL: Final[re.Pattern[str]] = re.compile("[&<>\"']")
"""The characters :func:`html.escape` replaces (with ``quote=True``)."""


def text(value: Any) -> str:
    """Escape a data value as HTML text (:func:`html.escape`, quotes too).

    Most values (numbers, names) hold none of the five characters escaped: those are
    returned as they are without five passes of :meth:`str.replace`.
    """
    s = str(value)
    return escape(s, quote=True) if _HTML_SPECIAL.search(s) else s


def plain_texts(values: Sequence[Any]) -> bool:
    """Whether every value is a ``str`` with nothing to escape (:func:`text` gives it back).

    One search over the values joined, not one per value.
    """
    return all(type(v) is str for v in values) and not _HTML_SPECIAL.search("".join(values))


def layer_name(name: str) -> str:
    """Make a layer-control label: escaped, one line, safe in a JS string literal."""
    flat = " ".join(str(name).split())
    return escape(flat, quote=True).replace("\\", "&#92;")


def is_missing(value: Any) -> bool:
    """Whether a table value is missing (None, NA, NaT or NaN)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


_SLOT_RE: Final[re.Pattern[str]] = re.compile(r"cmSlot(\d{5})x")


class Slots:
    """Data values kept out of every template: a token now, the encoded value after rendering.

    See the module docstring. Each ``put`` returns a token to place where the value
    belongs; :meth:`fill` replaces every token in the rendered page in one pass.
    """

    def __init__(self) -> None:
        self._values: list[str] = []

    def put(self, encoded: str) -> str:
        """Register text already encoded for its context; return its token."""
        self._values.append(encoded)
        return f"cmSlot{len(self._values) - 1:05d}x"

    def json(self, obj: Any) -> str:
        """Token of a value as JSON safe inside a ``<script>`` element."""
        return self.put(js_json(obj))

    def html(self, value: Any) -> str:
        """Token of a data text as escaped HTML."""
        return self.put(text(value))

    def layer_name(self, name: str) -> str:
        """Token of a layer-control label, inside the JSON string folium writes."""
        return self.put(js_json(layer_name(name))[1:-1])

    def fill(self, page: str) -> str:
        """Replace the tokens of a rendered page by their values (one pass, no re-scan)."""
        found: set[int] = set()

        def value(match: re.Match[str]) -> str:
            k = int(match.group(1))
            if k >= len(self._values):
                msg = f"map page: unknown data slot {match.group(0)}"
                raise RuntimeError(msg)
            found.add(k)
            return self._values[k]

        out = _SLOT_RE.sub(value, page)
        if len(found) != len(self._values):
            missing = sorted(set(range(len(self._values))) - found)[:5]
            msg = f"map page: data slots {missing} were not rendered"
            raise RuntimeError(msg)
        return out


class Raw(Element):
    """Markup or code written to the page as it is, without passing through Jinja."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "Raw"  # branca's element-kind name, used in get_name()
        self.text = code

    def render(self, **kwargs: Any) -> str:
        """Return the markup unchanged."""
        return self.text


class Script(MacroElement):
    """A piece of JavaScript appended to the page's main script, in order (no Jinja)."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "Script"  # branca's element-kind name, used in get_name()
        self.code = code

    def render(self, **kwargs: Any) -> str:
        """Append the code to the root figure's script; write nothing in place."""
        figure = self.get_root()
        assert isinstance(figure, Figure)
        figure.script.add_child(Raw(self.code), name=self.get_name())
        return ""


class Page(Figure):
    """The page root: renders with folium, then fills in the data (see :class:`Slots`)."""

    def __init__(self, slots: Slots) -> None:
        super().__init__()
        self.slots = slots

    def render(self, **kwargs: Any) -> str:
        """Render the skeleton with folium, then replace every data token."""
        return self.slots.fill(super().render(**kwargs))


LAYER_GROUPS: Final[dict[str, str]] = {
    "base": "底图与边界 Base",
    "network": "路网 Network",
    "themes": "村专题 Village themes",
    "hazards": "灾害与生态 Hazards and ecology",
    "interv": "建设项目 Interventions",
    "reloc": "搬迁 Relocation",
    "scen": "情景 Scenarios",
}
"""Headings of the layer list, in order: key → Chinese and English heading."""


class Ids:
    """Deterministic element ids (the same inputs give the same file), and the data slots.

    Branca gives each element a random ``_id`` and offers no public way to choose it;
    this sets that private attribute so that reruns write byte-identical maps.
    """

    def __init__(self) -> None:
        self.n = 0
        self.slots = Slots()
        self.groups: dict[str, str] = {}
        self.shared: dict[str, tuple[list[float], list[float]]] = {}
        """Point coordinates written once and shared by layers, by key
        (:mod:`contigmap.render.web_shared`)."""

    def group(self, fg: Any, group: str | None) -> Any:
        """Put feature group ``fg`` under a heading of the layer list (:data:`LAYER_GROUPS`).

        ``None`` leaves it to the list's name-based guess (layers a user adds).
        """
        if group is not None:
            if group not in LAYER_GROUPS:
                msg = f"layer group {group!r} is not one of {', '.join(LAYER_GROUPS)}"
                raise ValueError(msg)
            self.groups[fg.get_name()] = group
        return fg

    def __call__(self, el: Any) -> Any:
        """Give ``el`` the next id and return it."""
        self.n += 1
        el._id = f"{self.n:04d}"
        return el


def _asset(name: str) -> str:
    return resources.files("contigmap.render").joinpath("assets", "map", name).read_text(
        encoding="utf-8"
    )


@cache
def map_css() -> str:
    """Return the map's own stylesheet (``assets/map/map.css``), preceded by a newline."""
    return "\n" + _asset("map.css")


@cache
def _template(name: str) -> Template:
    return Template("\n" + _asset(name))


def map_script(name: str, **values: str) -> str:
    """One of the page's scripts (``assets/map/<name>``) with its placeholders filled.

    Parameters
    ----------
    name
        File name, e.g. ``geojson.js``.
    **values
        Code for each ``$placeholder``: element names, constants and slot tokens only
        (never data text; data goes through :class:`Slots`).

    Returns
    -------
    str
        The script, preceded by a newline.
    """
    return _template(name).substitute(values)


def panes_js(map_name: str) -> str:
    """Script creating the map panes and the build-when-shown helper."""
    return map_script("panes.js", map=map_name)


def controls_js(
    slots: Slots,
    map_name: str,
    legends: Sequence[tuple[Sequence[Any], str]],
    source_note: str,
    illustrative: bool,
    groups: Mapping[str, str] | None = None,
) -> str:
    """Script of the legend box (following the layers shown), source note and village search.

    ``groups`` (``{feature group variable: LAYER_GROUPS key}``, from :meth:`Ids.group`)
    places layers under the layer list's headings; others are placed by their name.
    """
    entries = ",".join(
        f"[[{','.join(fg.get_name() for fg in fgs)}],{slots.json(html)}]"
        for fgs, html in legends
        if html
    )
    note = text(source_note)
    if illustrative:
        note += " · <b>示意数据 / illustrative data</b>"
    return map_script("controls.js", map=map_name, legends=entries, note=slots.json(note),
                      headings=slots.json(list(LAYER_GROUPS.items())),
                      groups=slots.json(groups or {}))


def add_page_head(
    page: Page,
    slots: Slots,
    *,
    title: str,
    offline: bool,
    illustrative: bool,
    facts: Sequence[tuple[str, str]],
) -> None:
    """Add Leaflet (inlined or linked), the stylesheet and the title panel to the page."""
    page.title = slots.html(title)
    header = page.header
    if offline:
        header.add_child(Raw(f"<style>{assets.leaflet_css()}</style>"), name="leaflet_css")
        header.add_child(Raw(f"<script>{assets.leaflet_js()}</script>"), name="leaflet_js")
    else:
        header.add_child(
            Raw(f'<link rel="stylesheet" href="{assets.LEAFLET_CSS_URL}"/>'), name="leaflet_css"
        )
        header.add_child(Raw(f'<script src="{assets.LEAFLET_JS_URL}"></script>'), name="leaflet_js")
    header.add_child(Raw(f"<style>{map_css()}</style>"), name="contigmap_css")
    badge = '<div class="cm-badge">示意数据 / illustrative data</div>' if illustrative else ""
    fact_rows = "".join(f"<tr><th>{text(k)}</th><td>{text(v)}</td></tr>" for k, v in facts)
    panel = (f'<details class="cm-facts"><summary>要点 Key figures</summary>'
             f"<table>{slots.put(fact_rows)}</table></details>") if facts else ""
    page.html.add_child(
        Raw(f'<div class="cm-title"><h1>{slots.html(title)}</h1>{badge}{panel}</div>'),
        name="cm_title",
    )


def write_page(page: str, out_html: Path | str, n_villages: int) -> Path:
    """Write a rendered page atomically (UTF-8, ``lang="zh-CN"``); warn when it is large.

    Parameters
    ----------
    page
        The rendered HTML.
    out_html
        Where to write; parent folders are created.
    n_villages
        Villages on the map (for the log line).

    Returns
    -------
    Path
        ``out_html``.
    """
    html = page.replace("<html>", '<html lang="zh-CN">', 1)
    out = Path(out_html)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    data = html.encode("utf-8")
    try:
        tmp.write_bytes(data)
        tmp.replace(out)
    finally:
        if tmp.exists():
            tmp.unlink()
    size = len(data)
    logger.info("wrote %s (%.2f MB, %d villages)", out, size / 1e6, n_villages)
    if size > MAX_MAP_BYTES:
        logger.warning(
            "%s is %.1f MB, more than %.0f MB; raise simplify_m or drop layers",
            out,
            size / 1e6,
            MAX_MAP_BYTES / 1e6,
        )
    return out
