"""Chinese in static maps from the packaged font (noto-cjk-sans-otc), with no system font."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from contigmap.render import fonts, static_parts

pytest.importorskip("noto_cjk_sans_otc")


@pytest.fixture(autouse=True)
def _fresh_search() -> Iterator[None]:
    from matplotlib import font_manager

    fonts._search.cache_clear()
    yield
    fonts._search.cache_clear()
    font_manager.fontManager._findfont_cached.cache_clear()


@pytest.fixture
def no_system_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Matplotlib knows only DejaVu (its own fonts); fontconfig finds nothing."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    monkeypatch.setattr(manager, "ttflist", [e for e in manager.ttflist if "DejaVu" in e.name])
    monkeypatch.setattr(fonts, "_fc_list_files", list)
    manager._findfont_cached.cache_clear()


def _draw(text: str, props: object) -> np.ndarray:
    """Render ``text`` alone on a white figure with matplotlib's Agg; grey levels 0-255."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1.6, 0.8), dpi=100)
    fig.text(0.05, 0.5, text, fontproperties=props, va="center")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor="white")
    buf.seek(0)
    from matplotlib import image

    rgba = image.imread(buf)
    return (rgba[..., :3].mean(axis=2) * 255).astype(int)


def _ink(img: np.ndarray) -> int:
    return int((img < 128).sum())


def test_packaged_font_found_without_any_system_font(no_system_fonts: None) -> None:
    from matplotlib import font_manager

    assert fonts._system_font() is None  # really no system CJK font visible
    font = fonts.cjk_font()
    assert font is not None
    assert font.source == "package noto-cjk-sans-otc"
    assert font.family == "Noto Sans CJK SC"
    assert font.path.name == "NotoSansCJK-Regular.ttc"
    assert font.path.parent.name == "noto_cjk_sans_otc"
    # matplotlib resolves the family to that file and that face (SC, not JP)
    found = font_manager.fontManager.findfont(static_parts.MapText(font).props(12))
    assert Path(found) == font.path
    assert found.face_index == font.face_index
    assert fonts.missing_chars("花垣县十八洞村 双龙镇 贫困 道路 硬化", font) == ""


@pytest.mark.slow
def test_packaged_font_draws_chinese_not_tofu(no_system_fonts: None) -> None:
    """Each character drawn through matplotlib has ink and is not the missing-glyph box."""
    from matplotlib.font_manager import FontProperties

    text = static_parts.text_setup()  # what the static maps use
    assert text.font is not None and text.font.source.startswith("package")
    props = text.props(40)
    with pytest.warns(UserWarning, match="missing from font"):
        tofu = _draw("\ue000", props)  # private use: no glyph in any font, draws .notdef
    with pytest.warns(UserWarning, match="missing from font"):
        dejavu = _draw("花", FontProperties(family="DejaVu Sans", size=40))  # DejaVu's tofu
    # below, a missing glyph would warn, and warnings are errors in this suite
    assert _ink(tofu) > 50
    images = {ch: _draw(ch, props) for ch in "花垣县村"}
    for ch, img in images.items():
        assert _ink(img) > 50, f"{ch} drew no ink"
        assert (np.abs(img - tofu) > 128).sum() > 50, f"{ch} drew as the .notdef box"
        assert (np.abs(img - dejavu) > 128).sum() > 50, f"{ch} drew like DejaVu's tofu"
    chars = list(images)
    for i, a in enumerate(chars):
        for b in chars[i + 1:]:
            assert (np.abs(images[a] - images[b]) > 128).sum() > 50, f"{a} and {b} draw alike"
    # a title as the maps write it: Chinese and English in one string
    assert _ink(_draw("花垣县 Huayuan", text.props(14))) > _ink(_draw("Huayuan", text.props(14)))


def test_packaged_font_wins_over_a_system_face_of_the_same_family() -> None:
    from matplotlib import font_manager

    font = fonts.cjk_font()
    assert font is not None and font.source == "package noto-cjk-sans-otc"
    found = font_manager.fontManager.findfont(static_parts.MapText(font).props(10))
    assert Path(found) == font.path
    # registering again does not duplicate its faces
    fonts._search.cache_clear()
    fonts.cjk_font()
    entries = [e for e in font_manager.fontManager.ttflist
               if Path(e.fname) == font.path and e.name == "Noto Sans CJK SC"]
    assert len({(e.name, e.style, e.weight, e.variant) for e in entries}) == len(entries)


def test_system_font_when_the_package_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib import font_manager

    monkeypatch.setattr(fonts, "PACKAGED_FONTS", (("nope", "no_such_font_module_x", "x.ttc"),))
    manager = font_manager.fontManager  # as in a process that never registered the package
    monkeypatch.setattr(manager, "ttflist",
                        [e for e in manager.ttflist if "noto_cjk_sans_otc" not in e.fname])
    assert fonts._packaged_files() == []
    font = fonts.cjk_font()
    if font is None:
        pytest.skip("no system CJK font on this machine")
    assert font.source == "system"
    assert "noto_cjk_sans_otc" not in str(font.path)


@pytest.mark.slow
def test_static_map_in_chinese_without_a_system_font(no_system_fonts: None) -> None:
    """The whole map, as a fresh machine draws it: Chinese title, legend and village names."""
    from matplotlib import font_manager

    from contigmap.render import static
    from tests.browser import screenshot_dir
    from tests.test_render_static import _boundaries, _by_gid, _roads, _villages

    out = screenshot_dir() / "static-map-packaged-font.png"
    # a missing glyph would warn (an error here); without a CJK font there are no labels
    static.render_static_map(
        out, villages=_villages(), column="roads_tier", title="花垣县 道路项目优先级",
        title_en="Roads: village priority tiers", boundaries=_boundaries(), roads=_roads(),
        illustrative=True, source_note="测试数据 test data", dpi=80, figsize_in=(11.69, 8.27))
    assert out.stat().st_size > 10_000
    fig = static._build_figure(
        villages=_villages(), column="roads_tier", title="花垣县 道路项目优先级",
        title_en="Roads", boundaries=_boundaries(), roads=_roads(), legend_title=None,
        categorical=None, spec=None, labels="name", label_count=12, illustrative=True,
        source_note="测试数据 test data", dpi=40, figsize_in=(8.0, 6.0))
    labels = _by_gid(fig, "village-label")
    assert {t.get_text() for t in labels} >= {"雅酉村", "十八洞村"}
    for t in labels:
        found = font_manager.fontManager.findfont(t.get_fontproperties())
        assert Path(found).parent.name == "noto_cjk_sans_otc"
