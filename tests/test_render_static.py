"""Static PNG maps: CJK glyphs are real glyphs, scale bar, legends, no-font fallback."""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from contigmap.errors import CRSError, DataQualityWarning, ValidationError
from contigmap.render import fonts, static, static_parts

UTM49 = "EPSG:32649"
X0, Y0 = 330_000.0, 3_140_000.0


def _villages(crs: str = UTM49) -> gpd.GeoDataFrame:
    """Six villages in a 20 km x 16 km county, two townships."""
    xy = [(2, 2), (18, 2), (2, 14), (18, 14), (10, 8), (6, 11)]
    frame = gpd.GeoDataFrame(
        {
            "village_id": [f"v{i}" for i in range(6)],
            "name": ["十八洞村", "花垣村", "排达扣村", "雅酉村", "<b>边城</b>", "米粮村"],
            "township_id": ["t1", "t2", "t1", "t2", "t1", "t2"],
            "pop": [900, 1500, 600, 1200, 300, 800],
            "poor_pop": [450, 150, 300, 600, 0, 80],
            "poverty_incidence": [0.5, 0.1, 0.5, 0.5, 0.0, 0.1],
            "roads_tier": [1, 4, 2, 1, 3, 2],
            "roads_tier_basis": ["need_quantile"] * 6,  # priority.tiers: need groups
            "roads_rank": [2, 6, 3, 1, 5, 4],
            "travel_cost": [3.5, 12.0, 7.25, 1.0, 20.0, np.nan],
        },
        geometry=[Point(X0 + x * 1000, Y0 + y * 1000) for x, y in xy],
        crs=UTM49,
    )
    return frame.to_crs(crs)


def _boundaries() -> dict[str, gpd.GeoDataFrame]:
    county = gpd.GeoDataFrame(
        {"county_id": ["c"], "name": ["花垣县"]},
        geometry=[box(X0, Y0, X0 + 20_000, Y0 + 16_000)],
        crs=UTM49,
    )
    towns = gpd.GeoDataFrame(
        {"township_id": ["t1", "t2"], "name": ["花垣镇", "边城镇"]},
        geometry=[box(X0, Y0, X0 + 10_000, Y0 + 16_000), box(X0 + 10_000, Y0, X0 + 20_000,
                                                            Y0 + 16_000)],
        crs=UTM49,
    )
    return {"county": county, "townships": towns}


def _roads() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"road_id": ["r1", "r2", "r3"], "road_class": ["county", "village", "track"],
         "surface": ["paved", "gravel", "earth"]},
        geometry=[
            LineString([(X0 + 2000, Y0 + 2000), (X0 + 18_000, Y0 + 14_000)]),
            LineString([(X0 + 2000, Y0 + 14_000), (X0 + 10_000, Y0 + 8000)]),
            LineString([(X0 + 18_000, Y0 + 2000), (X0 + 10_000, Y0 + 8000)]),
        ],
        crs=UTM49,
    )


def _figure_args(**kw: Any) -> dict[str, Any]:
    """Arguments of a small test map (``static._build_figure``), with ``kw`` replaced."""
    args: dict[str, Any] = {
        "villages": _villages(), "column": "roads_tier", "title": "道路项目优先级",
        "title_en": "Roads", "boundaries": _boundaries(), "roads": _roads(),
        "legend_title": None, "categorical": None, "spec": None, "labels": "name",
        "label_count": 12, "illustrative": True, "source_note": "测试数据 test data",
        "dpi": 40, "figsize_in": (8.0, 6.0),
    }
    args.update(kw)
    return args


def _figure(**kw: Any) -> Any:
    return static._build_figure(**_figure_args(**kw))


def _by_gid(fig: Any, gid: str) -> list[Any]:
    out: dict[int, Any] = {}
    for a in fig.findobj():
        if getattr(a, "get_gid", lambda: None)() == gid:
            out.setdefault(id(a), a)
    return list(out.values())


@pytest.fixture
def cjk() -> fonts.CJKFont:
    font = fonts.cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (Debian: apt-get install fonts-noto-cjk)")
    return font


# --------------------------------------------------------------------------- glyphs


def _glyph_raster(face: Any, glyph_index: int) -> np.ndarray:
    glyph = face.load_glyph(glyph_index)
    img = np.zeros((80, 80), np.uint8)
    face.draw_glyph_to_bitmap(img, 8, 8, glyph)
    return img


def test_cjk_font_draws_chinese_not_tofu(cjk: fonts.CJKFont) -> None:
    from matplotlib import ft2font

    assert fonts.find_cjk_font() == cjk.path
    assert "CJK" in cjk.family or cjk.family in fonts.PREFERRED_FAMILIES
    face = ft2font.FT2Font(str(cjk.path), face_index=cjk.face_index)
    face.set_size(40, 72)
    # U+E000 is a private-use codepoint: the font has no glyph, so it draws .notdef
    assert face.get_char_index(0xE000) == 0
    tofu = _glyph_raster(face, 0)
    assert (tofu > 128).sum() > 50, "the .notdef box should have ink"
    chars = "花垣县村镇"
    rasters = []
    for ch in chars:
        index = face.get_char_index(ord(ch))
        assert index != 0, f"{ch} is missing from {cjk.family}"
        img = _glyph_raster(face, index)
        assert (img > 128).sum() > 50, f"{ch} drew no ink"
        assert not np.array_equal(img, tofu), f"{ch} draws as the missing-glyph box"
        rasters.append(img)
    for i in range(len(chars)):
        for j in range(i + 1, len(chars)):
            differ = np.abs(rasters[i].astype(int) - rasters[j].astype(int)) > 128
            assert differ.sum() > 50, f"{chars[i]} and {chars[j]} draw alike"
    assert fonts.missing_chars("花垣 县\ue000a", cjk) == "\ue000"


@pytest.mark.slow
def test_map_text_renders_with_the_cjk_face(cjk: fonts.CJKFont) -> None:
    """Text drawn through matplotlib with the map's font: each character its own glyph."""
    from matplotlib import ft2font
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import findfont

    props = static_parts.MapText(cjk).props(40)
    resolved = findfont(props, fallback_to_default=False)
    assert Path(resolved) == cjk.path
    assert getattr(resolved, "face_index", cjk.face_index) == cjk.face_index
    images = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a "Glyph ... missing" warning would fail here
        for ch in "花垣县村":
            fig = Figure(figsize=(1, 1), dpi=72)
            canvas = FigureCanvasAgg(fig)
            fig.text(0.5, 0.5, ch, fontproperties=props, ha="center", va="center")
            canvas.draw()
            gray = np.asarray(canvas.buffer_rgba())[..., 0]
            assert (gray < 128).sum() > 50
            images.append(gray)
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            assert (np.abs(images[i].astype(int) - images[j].astype(int)) > 128).sum() > 50

    # the labels of a real map use that face and have every glyph
    fig = _figure()
    labels = _by_gid(fig, "village-label") + _by_gid(fig, "township-label")
    assert {t.get_text() for t in _by_gid(fig, "township-label")} == {"花垣镇", "边城镇"}
    assert labels
    for t in labels:
        # same family (bold township names come from the bold file of the family)
        found = findfont(t.get_fontproperties(), fallback_to_default=False)
        index = getattr(found, "face_index", 0)
        assert ft2font.FT2Font(str(found), face_index=index).family_name == cjk.family
        assert fonts.missing_chars(t.get_text(), cjk) == ""


# --------------------------------------------------------------------------- scale bar


@pytest.mark.parametrize(
    ("width_m", "expected_m"),
    [(20_000, 2000), (52_838, 10_000), (7300, 1000), (30, 5), (250_000, 50_000), (1000, 200)],
)
def test_nice_scale_length(width_m: float, expected_m: float) -> None:
    # the largest of 1, 2, 5 x 10^k not above a fifth of the width, by hand
    assert static_parts.nice_scale_length_m(width_m) == pytest.approx(expected_m)


def test_nice_scale_length_rejects_bad_width() -> None:
    with pytest.raises(ValueError, match="positive number of metres"):
        static_parts.nice_scale_length_m(0)


@pytest.mark.slow
@pytest.mark.parametrize("crs", [UTM49, "EPSG:4326"])
def test_scale_bar_length_matches_label(crs: str) -> None:
    bounds = {k: g.to_crs(crs) for k, g in _boundaries().items()}
    fig = _figure(villages=_villages(crs), boundaries=bounds, roads=None)
    ax = fig.axes[0]
    bars = _by_gid(fig, "scale-bar")
    assert len(bars) == 2
    length_data = sum(b.get_width() for b in bars)
    label = _by_gid(fig, "scale-bar-label")[0].get_text()
    m = re.fullmatch(r"([\d.]+) (km|m)", label)
    assert m, label
    label_m = float(m.group(1)) * (1000 if m.group(2) == "km" else 1)
    assert length_data == pytest.approx(label_m)
    # the map is in metres: the frame is about as wide as the county plus margins
    x0, x1 = ax.get_xlim()
    assert 20_000 < x1 - x0 < 40_000
    assert label_m == static_parts.nice_scale_length_m(x1 - x0)


def test_north_arrow_turns_with_grid_convergence() -> None:
    from pyproj import CRS, Transformer

    utm = CRS.from_user_input(UTM49)
    # on the central meridian (111E) grid north is true north
    assert static_parts.north_angle_deg(utm, 500_000.0, 3_140_000.0) == pytest.approx(0, abs=0.01)
    # elsewhere the convergence is gamma ~ (lon - lon0) sin(lat) (Snyder 1987, eq. 8-19,
    # first term): west of the meridian true north points clockwise of grid north
    lon, lat = Transformer.from_crs(utm, "EPSG:4326", always_xy=True).transform(X0, Y0)
    expected = (lon - 111.0) * math.sin(math.radians(lat))
    angle = static_parts.north_angle_deg(utm, X0, Y0)
    assert angle < 0
    assert angle == pytest.approx(expected, abs=0.02)


# --------------------------------------------------------------------------- maps


def _legend_texts(fig: Any, gid: str) -> list[str]:
    (leg,) = _by_gid(fig, gid)
    return [t.get_text() for t in leg.get_texts()]


@pytest.mark.slow
def test_categorical_map_written_with_legend(tmp_path: Path, cjk: fonts.CJKFont) -> None:
    out = static.render_static_map(
        tmp_path / "roads.png", villages=_villages(), column="roads_tier", title="道路项目优先级",
        boundaries=_boundaries(), roads=_roads(), illustrative=True, source_note="测试",
        dpi=40, figsize_in=(8.0, 6.0), label_count=2,
    )
    from PIL import Image

    with Image.open(out) as img:
        assert img.size == (320, 240)
    assert [p.name for p in tmp_path.iterdir()] == ["roads.png"]  # no temp file left
    fig = _figure(label_count=2)
    texts = _legend_texts(fig, "legend-classes")
    assert len(texts) == 4 and texts[0].startswith("需求第1档")
    sizes = _legend_texts(fig, "legend-sizes")
    assert sizes and all(re.fullmatch(r"[\d,]+", s) for s in sizes)
    assert len(_legend_texts(fig, "legend-lines")) == 5  # county, township, 3 surfaces
    # the two highest ranked villages are labelled (rank 1 雅酉村, rank 2 十八洞村)
    assert {t.get_text() for t in _by_gid(fig, "village-label")} == {"雅酉村", "十八洞村"}
    note = _by_gid(fig, "source-note")[0].get_text()
    assert "示意数据 / illustrative data" in note


@pytest.mark.slow
def test_continuous_map_classed_legend(tmp_path: Path) -> None:
    out = static.render_static_map(
        tmp_path / "inc.png", villages=_villages(), column="poverty_incidence",
        title="贫困发生率", boundaries=_boundaries(), dpi=30, figsize_in=(6.0, 4.0),
        illustrative=False, source_note="",
    )
    assert out.stat().st_size > 1000
    fig = _figure(column="poverty_incidence", roads=None)
    # the shared poverty incidence classes: 6 classes, labels in percent
    texts = _legend_texts(fig, "legend-classes")
    assert texts[0] == "0% – 5%" and len(texts) == 6
    # an unknown numeric column: quantile classes, one 'no data' row for the NaN
    fig = _figure(column="travel_cost", roads=None)
    texts = _legend_texts(fig, "legend-classes")
    assert texts[-1].startswith("无数据")
    assert 2 <= len(texts) - 1 <= 6
    # highest value labelled first
    assert _by_gid(fig, "village-label")[0].get_text() == "<b>边城</b>"


@pytest.mark.slow
def test_no_cjk_font_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "find_cjk_font", lambda: None)
    monkeypatch.setitem(static_parts._state, "no_font_warned", False)
    with pytest.warns(DataQualityWarning, match="no CJK font") as record:
        out = static.render_static_map(
            tmp_path / "m.png", villages=_villages(), column="roads_tier",
            title="道路项目优先级", title_en="Roads priority", boundaries=_boundaries(),
            roads=_roads(), illustrative=True, source_note="十八洞村 census 2020", dpi=30,
            figsize_in=(6.0, 4.0),
        )
    assert out.exists()
    assert all(issubclass(w.category, DataQualityWarning) for w in record), [
        str(w.message) for w in record
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once: no second warning, no glyph warnings
        fig = _figure()
    assert not _by_gid(fig, "village-label") and not _by_gid(fig, "township-label")
    assert _by_gid(fig, "title")[0].get_text() == "Roads"
    assert _by_gid(fig, "source-note")[0].get_text().startswith("illustrative data")
    for t in fig.findobj(lambda a: hasattr(a, "get_text")):
        assert not re.search(r"[\u4e00-\u9fff]", t.get_text()), t.get_text()


def test_bad_input_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no column 'nope'"):
        _figure(column="nope")
    with pytest.raises(ValidationError, match="empty"):
        _figure(villages=_villages().iloc[:0])
    with pytest.raises(CRSError, match="no CRS"):
        _figure(villages=_villages().set_crs(None, allow_override=True))


@pytest.mark.slow
def test_render_static_maps_overview_and_interventions(tmp_path: Path) -> None:
    maps = static.render_static_maps(
        tmp_path, villages=_villages(), region_title="花垣县", boundaries=_boundaries(), dpi=20,
    )
    assert set(maps) == {"overview", "roads"}
    assert all(p.exists() for p in maps.values())


# --------------------------------------------------------------------------- literal text

# ``$...$`` is matplotlib mathtext: ``\undefinedmacro`` does not parse, ``x^2`` would be
# drawn as x squared, and one ``$`` alone is a plain dollar in matplotlib already.
MATH_NAMES = ["$x^2$村", r"$\undefinedmacro$村", "$5", "a$b$c$", r"\$ 10"]


def _math_villages() -> gpd.GeoDataFrame:
    v = _villages()
    v["name"] = [*MATH_NAMES, "米粮村"]
    v["roads_tier"] = [1, 2, 3, 4, 1, "$t$"]  # a tier value becomes a legend label
    return v


def _math_towns() -> dict[str, gpd.GeoDataFrame]:
    b = _boundaries()
    b["townships"].loc[0, "name"] = r"$\alpha$镇"
    return b


@pytest.mark.slow
def test_dollar_signs_are_drawn_literally(tmp_path: Path, cjk: fonts.CJKFont) -> None:
    import matplotlib

    maps = static.render_static_maps(
        tmp_path, villages=_math_villages(), region_title=r"$\undefinedmacro$县",
        boundaries=_math_towns(), roads=_roads(), source_note=r"$x^2$ \$ $5", dpi=20,
    )
    assert set(maps) == {"overview", "roads"} and all(p.stat().st_size for p in maps.values())
    fig = _figure(villages=_math_villages(), boundaries=_math_towns(), label_count=12,
                  title=r"$\undefinedmacro$县", source_note=r"$x^2$ \$ $5")
    fig.canvas.draw()  # every text laid out: mathtext would fail here on \undefinedmacro
    # every text drawn (axis tick labels are made empty on demand, outside the figure build)
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_parse_math")) if t.get_text()]
    assert len(texts) > 20 and not any(t.get_parse_math() for t in texts)
    labels = {t.get_text() for t in _by_gid(fig, "village-label")}
    assert labels == {*MATH_NAMES, "米粮村"}  # the names as typed, all six placed
    assert _by_gid(fig, "title")[0].get_text() == r"$\undefinedmacro$县"
    assert r"$x^2$ \$ $5" in _by_gid(fig, "source-note")[0].get_text()
    assert r"$\alpha$镇" in {t.get_text() for t in _by_gid(fig, "township-label")}
    assert "$t$" in " ".join(_legend_texts(fig, "legend-classes"))
    assert matplotlib.rcParams["text.parse_math"] is True  # the setting did not leak


@pytest.mark.slow
def test_dollar_signs_without_cjk_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "find_cjk_font", lambda: None)
    monkeypatch.setitem(static_parts._state, "no_font_warned", True)
    out = static.render_static_map(
        tmp_path / "m.png", villages=_math_villages(), column="roads_tier",
        title="道路", title_en=r"$\undefinedmacro$ roads", boundaries=_math_towns(),
        roads=_roads(), illustrative=False, source_note=r"$\frac{1}$ survey", dpi=20,
        figsize_in=(6.0, 4.0),
    )
    assert out.stat().st_size > 1000
