from pathlib import Path

import pytest

from contigmap.config import load_region
from contigmap.errors import ConfigError

MINIMAL = """\
name: demo
layers:
  villages: {path: villages.gpkg, id: village_id}
  roads: {path: roads.gpkg, id: road_id}
"""


def _roads(replacement: str) -> str:
    return MINIMAL.replace("{path: roads.gpkg, id: road_id}", replacement)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "region.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_manifest_resolves_base_dir(tmp_path: Path) -> None:
    region = load_region(_write(tmp_path, MINIMAL))
    assert region.name == "demo"
    assert region.working_crs == "auto"
    assert region.base_dir == tmp_path.resolve()
    assert region.layers.villages.path == Path("villages.gpkg")
    assert region.layers.hamlets is None


def test_misspelt_top_level_key_suggests_closest(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + "workng_crs: EPSG:4546\n")
    expected = r"unknown key 'workng_crs': did you mean 'working_crs'\?"
    with pytest.raises(ConfigError, match=expected):
        load_region(path)


def test_misspelt_layer_key_suggests_closest(tmp_path: Path) -> None:
    text = _roads("{path: roads.gpkg, id: road_id, encodng: gbk}")
    with pytest.raises(ConfigError, match=r"layers\.roads\.encodng'.*did you mean 'encoding'"):
        load_region(_write(tmp_path, text))


def test_misspelt_role_suggests_closest(tmp_path: Path) -> None:
    text = MINIMAL + "  hamlet: {path: h.csv}\n"
    with pytest.raises(ConfigError, match=r"did you mean 'hamlets'"):
        load_region(_write(tmp_path, text))


def test_misspelt_grouped_layer_name_suggests_closest(tmp_path: Path) -> None:
    text = MINIMAL + "  infrastructure:\n    substation: {path: s.gpkg}\n"
    with pytest.raises(ConfigError, match=r"did you mean 'substations'"):
        load_region(_write(tmp_path, text))


def test_missing_required_role(tmp_path: Path) -> None:
    text = "name: demo\nlayers:\n  villages: {path: v.gpkg}\n"
    with pytest.raises(ConfigError, match=r"missing required key 'layers\.roads'"):
        load_region(_write(tmp_path, text))


def test_bad_crs_is_reported(tmp_path: Path) -> None:
    text = _roads("{path: roads.gpkg, crs: EPSG:99999999}")
    with pytest.raises(ConfigError, match=r"layers\.roads\.crs.*not a CRS"):
        load_region(_write(tmp_path, text))


def test_bad_datum_is_reported(tmp_path: Path) -> None:
    text = _roads("{path: roads.gpkg, datum: gcj2}")
    with pytest.raises(ConfigError, match=r"did you mean 'gcj02'"):
        load_region(_write(tmp_path, text))


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"line \d+.*YAML syntax error"):
        load_region(_write(tmp_path, "name: [unclosed\nlayers: {}\n"))


def test_missing_manifest_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: file not found"):
        load_region(tmp_path / "nope.yaml")


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"expected a YAML mapping"):
        load_region(_write(tmp_path, "- a\n- b\n"))


def test_misspelt_required_key_is_reported_as_misspelt(tmp_path: Path) -> None:
    text = _roads("{pth: roads.gpkg}")
    with pytest.raises(ConfigError, match=r"unknown key 'layers\.roads\.pth': did you mean 'path'"):
        load_region(_write(tmp_path, text))


def test_readme_manifest_example_is_valid() -> None:
    import re

    import yaml

    from contigmap.config import RegionConfig

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", readme, re.S)
    assert block is not None
    region = RegionConfig.model_validate(yaml.safe_load(block.group(1)))
    assert region.layers.services is not None and region.layers.services.datum == "gcj02"


def test_row_selection_and_recoding_keys(tmp_path: Path) -> None:
    text = MINIMAL + """\
  hazards:
    geo:
      path: geo.shp
      filter: {易发程度: [高易发区, 中易发区]}
      class: {column: 易发程度, weights: {高易发区: 1.0, 中易发区: 0.6}}
  services:
    path: s.xlsx
    values: {kind: {镇: township_seat, 县城: [county_seat, township_seat]}}
    set: {name: 设施}
    sheets:
      卫生院: {set: {kind: health_centre}}
      学校:
"""
    region = load_region(_write(tmp_path, text))
    geo = region.layers.hazards["geo"]
    assert geo.filter == {"易发程度": ["高易发区", "中易发区"]}
    assert geo.class_ is not None and geo.class_.weights == {"高易发区": 1.0, "中易发区": 0.6}
    services = region.layers.services
    assert services is not None
    assert services.values["kind"]["县城"] == ["county_seat", "township_seat"]
    assert services.set_ == {"name": "设施"}
    sheet = services.sheets["卫生院"]
    assert sheet is not None and sheet.set_ == {"kind": "health_centre"}
    assert services.sheets["学校"] is None


def test_class_weight_out_of_range_and_misspelt_class(tmp_path: Path) -> None:
    bad = _roads("{path: r.gpkg, class: {column: c, weights: {高: 1.5}}}")
    with pytest.raises(ConfigError, match=r"layers\.roads\.class\.weights.*from 0 to 1"):
        load_region(_write(tmp_path, bad))
    bad = _roads("{path: r.gpkg, clas: {column: c, weights: {高: 1}}}")
    with pytest.raises(ConfigError,
                       match=r"unknown key 'layers\.roads\.clas': did you mean 'class'"):
        load_region(_write(tmp_path, bad))
    bad = _roads("{path: r.gpkg, sheets: {a: {sett: {kind: school}}}}")
    with pytest.raises(ConfigError, match=r"did you mean 'set'"):
        load_region(_write(tmp_path, bad))


def test_readme_row_selection_example_is_valid() -> None:
    import re

    import yaml

    from contigmap.config import LayersConfig

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    block = next(b for b in blocks if "sheets:" in b)
    layers = yaml.safe_load(block)["layers"]
    minimal = {"villages": {"path": "v.gpkg"}, "roads": {"path": "r.gpkg"}}
    parsed = LayersConfig.model_validate({**minimal, **layers})
    assert parsed.hazards["geo"].class_ is not None
    assert parsed.services is not None and set(parsed.services.sheets) == {"卫生院", "学校",
                                                                           "乡镇驻地"}
