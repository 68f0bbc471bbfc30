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
