"""Finding a font that draws Chinese: for the static maps' titles and village labels.

Matplotlib's default font (DejaVu Sans) has no Chinese glyphs: Chinese text drawn with
it comes out as empty boxes ("tofu", the font's ``.notdef`` glyph). This module finds
a CJK font and checks that it covers the characters to draw:

1. **The packaged font first.** contigmap depends on ``noto-cjk-sans-otc`` from the
   package index: Noto Sans CJK 2.004 Regular (the Pan-CJK Source Han design by Adobe
   and Google, SIL Open Font License 1.1), the same file as Debian's
   ``fonts-noto-cjk``. So ``pip install contigmap`` draws Chinese on a machine with no
   system CJK font. Its file is found through :mod:`importlib.resources`; its faces
   are put first in matplotlib's font list, so a same-named system face does not win.
2. **System fonts second**, from matplotlib's font list (then ``fc-list :lang=zh``),
   preferring the families in :data:`PREFERRED_FAMILIES`.

The font chosen is logged (INFO) once, with its file and where it came from.

Matplotlib >= 3.10 reads every face of a TrueType collection (``.ttc``); Noto Sans CJK
ships as one collection holding JP, KR, SC, TC and HK faces, so the face is chosen by
its family name (``Noto Sans CJK SC``), not by the file alone.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

__all__ = [
    "PACKAGED_FONTS",
    "PREFERRED_FAMILIES",
    "CJKFont",
    "cjk_font",
    "find_cjk_font",
    "missing_chars",
]

if TYPE_CHECKING:
    from matplotlib import ft2font

logger = logging.getLogger(__name__)

PREFERRED_FAMILIES: Final[tuple[str, ...]] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)
"""CJK families to use, best first (sans-serif Simplified Chinese faces lead)."""

PACKAGED_FONTS: Final[tuple[tuple[str, str, str], ...]] = (
    ("noto-cjk-sans-otc", "noto_cjk_sans_otc", "NotoSansCJK-Regular.ttc"),
)
"""Fonts from the package index, tried before system fonts: (distribution, module, file)."""

_PROBE: Final[str] = "花垣县乡镇村贫困道路"
"""Characters a font must have to count as a Chinese font."""


@dataclass(frozen=True)
class CJKFont:
    """One face of an installed font that draws Chinese.

    Attributes
    ----------
    path
        Font file (``.ttf``, ``.otf`` or a ``.ttc`` collection).
    face_index
        Index of the face in the file (0 unless a collection).
    family
        Family name of that face, as matplotlib knows it.
    source
        Where it came from: ``"package <name>"`` or ``"system"``.
    """

    path: Path
    face_index: int
    family: str
    source: str = "system"


def _covers(path: Path, face_index: int, text: str) -> bool:
    from matplotlib import ft2font

    try:
        font = ft2font.FT2Font(str(path), face_index=face_index)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(ch)) != 0 for ch in text)


def _faces(path: Path) -> list[tuple[int, str]]:
    from matplotlib import ft2font

    try:
        first = ft2font.FT2Font(str(path))
    except (OSError, RuntimeError, ValueError):
        return []
    faces = [(0, first.family_name)]
    for i in range(1, first.num_faces):
        faces.append((i, ft2font.FT2Font(str(path), face_index=i).family_name))
    return faces


def _fc_list_files() -> list[Path]:
    """Font files fontconfig says can draw Chinese (``fc-list :lang=zh``)."""
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, ":lang=zh", "file"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = {Path(line.split(":", 1)[0].strip()) for line in out.splitlines() if line.strip()}
    return sorted(f for f in files if f.suffix.lower() in (".ttf", ".otf", ".ttc"))


def _rank(family: str) -> int:
    try:
        return PREFERRED_FAMILIES.index(family)
    except ValueError:
        return len(PREFERRED_FAMILIES)


def _packaged_files() -> list[tuple[str, Path]]:
    """Files of the :data:`PACKAGED_FONTS` that are installed: (distribution, path)."""
    out: list[tuple[str, Path]] = []
    for dist, module, name in PACKAGED_FONTS:
        try:
            resource = importlib.resources.files(module).joinpath(name)
        except (ImportError, TypeError):  # not installed
            continue
        path = Path(str(resource))
        if path.is_file():
            out.append((dist, path))
    return out


def _best_face(files: list[tuple[str, Path]]) -> CJKFont | None:
    """Return the face of ``files`` with the best-ranked family that covers the probe."""
    faces = [(_rank(family), family, path, index, source)
             for source, path in files for index, family in _faces(path)]
    for _, family, path, index, source in sorted(faces, key=lambda f: (f[0], f[1])):
        if _covers(path, index, _PROBE):
            return CJKFont(path=path, face_index=index, family=family, source=source)
    return None


def _system_font() -> CJKFont | None:
    from matplotlib import font_manager

    candidates: list[tuple[int, int, str, Path, int]] = []
    seen: set[tuple[str, int]] = set()
    # regular weights first: labels should not be bold
    for entry in font_manager.fontManager.ttflist:
        path = Path(entry.fname)
        index = int(getattr(entry, "face_index", getattr(entry, "index", 0)) or 0)
        key = (str(path), index)
        if key in seen or path.suffix.lower() not in (".ttf", ".otf", ".ttc"):
            continue
        seen.add(key)
        known = _rank(entry.name) < len(PREFERRED_FAMILIES)
        if known or "CJK" in entry.name:
            weight = entry.weight if isinstance(entry.weight, int) else 400
            candidates.append((_rank(entry.name), abs(weight - 400), entry.name, path, index))
    if not candidates:  # fonts installed after matplotlib built its cache
        return _best_face([("system", path) for path in _fc_list_files()])
    for _, _, family, path, index in sorted(candidates, key=lambda c: (c[0], c[1], c[2])):
        if _covers(path, index, _PROBE):
            return CJKFont(path=path, face_index=index, family=family)
    return None


@functools.lru_cache(maxsize=1)
def _search() -> CJKFont | None:
    packaged = [(f"package {dist}", path) for dist, path in _packaged_files()]
    font = _best_face(packaged) or _system_font()
    if font is None:
        logger.info("no CJK font: static maps are drawn without Chinese; "
                    "pip install noto-cjk-sans-otc")
        return None
    _register(font)
    logger.info("Chinese text in static maps: %s (face %d of %s, from the %s)",
                font.family, font.face_index, font.path, font.source)
    return font


def _register(font: CJKFont) -> None:
    """Make sure matplotlib finds ``font.family`` in ``font.path`` by name.

    A packaged font's faces go to the front of matplotlib's font list: matplotlib
    keeps the first of equally good matches, so a system face of the same family
    (say an older Noto Sans CJK SC) does not take its place.
    """
    from matplotlib import font_manager

    manager = font_manager.fontManager
    if font.source == "system":
        if not any(e.name == font.family for e in manager.ttflist):
            manager.addfont(str(font.path))
        return
    rest = [e for e in manager.ttflist if Path(e.fname) != font.path]
    manager.ttflist[:] = rest
    manager.addfont(str(font.path))  # appends its faces, clears matplotlib's findfont cache
    manager.ttflist[:] = manager.ttflist[len(rest):] + rest


def cjk_font() -> CJKFont | None:
    """Return the best installed face that draws Chinese, or ``None``.

    Tries the packaged fonts (:data:`PACKAGED_FONTS`) first, then matplotlib's font
    list (then ``fc-list :lang=zh`` when matplotlib knows no CJK font) for the
    families in :data:`PREFERRED_FAMILIES`, best first, and keeps the first face
    that has glyphs for a few common Chinese characters. Logs the choice (INFO).

    Returns
    -------
    CJKFont or None
        The face, registered with matplotlib so its family name can be used.
    """
    return _search()


def find_cjk_font() -> Path | None:
    """Return the file of the best installed font that draws Chinese, or ``None``.

    Returns
    -------
    pathlib.Path or None
        The font file; :func:`cjk_font` also gives the face in a collection.
    """
    font = cjk_font()
    return None if font is None else font.path


@functools.lru_cache(maxsize=4)
def _face(path: str, face_index: int) -> ft2font.FT2Font:
    """Open a font face once (opening a CJK collection takes about 1 ms)."""
    from matplotlib import ft2font

    return ft2font.FT2Font(path, face_index=face_index)


def missing_chars(text: str, font: CJKFont) -> str:
    """Characters of ``text`` (other than spaces) that ``font`` has no glyph for.

    Parameters
    ----------
    text
        Text to draw.
    font
        The face to draw it with.

    Returns
    -------
    str
        The missing characters, in order, each once; empty when all are covered.
    """
    face = _face(str(font.path), font.face_index)
    out: list[str] = []
    for ch in text:
        if ch.isspace() or ch in out:
            continue
        if face.get_char_index(ord(ch)) == 0:
            out.append(ch)
    return "".join(out)
