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


# --------------------------------------------------------------------------- the YAML reader


def test_duplicate_key_is_rejected_with_both_lines(tmp_path: Path) -> None:
    text = MINIMAL + "  roads: {path: other.gpkg, id: road_id}\n"  # line 5 repeats line 4
    with pytest.raises(ConfigError, match=r"region\.yaml:? line 5, column 3: duplicate key "
                                          r"'roads' \(first at line 4\)"):
        load_region(_write(tmp_path, text))


def test_duplicate_key_deep_in_a_layer_is_rejected(tmp_path: Path) -> None:
    text = _roads("\n    path: roads.gpkg\n    id: road_id\n    path: roads2.gpkg")
    # lines: 4 "roads:", 5 path, 6 id, 7 path again
    with pytest.raises(ConfigError, match=r"line 7, column 5: duplicate key 'path' "
                                          r"\(first at line 5\)"):
        load_region(_write(tmp_path, text))


def test_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    from contigmap.yamlio import load_yaml

    path = tmp_path / "m.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  x: 3\n", encoding="utf-8")
    assert load_yaml(path) == {"base": {"x": 1, "y": 2}, "other": {"x": 3, "y": 2}}


def test_scenario_and_priority_files_reject_duplicate_keys(tmp_path: Path) -> None:
    from contigmap.priority.config import load_priority_config
    from contigmap.relocation.costs import load_relocation_config
    from contigmap.scenario import load_scenario

    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: a\nregion: tiny\nname: b\nchanges: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"s\.yaml: line 3, column 1: duplicate key 'name' "
                                          r"\(first at line 1\)"):
        load_scenario(scenario)
    for loader in (load_priority_config, load_relocation_config):
        config = tmp_path / "c.yaml"
        config.write_text("a: 1\nb:\n  c: 1\n  c: 2\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=r"c\.yaml: line 4, column 3: duplicate key 'c'"):
            loader(config)


def test_oversize_yaml_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contigmap.yamlio import MAX_YAML_BYTES

    path = _write(tmp_path, MINIMAL + "# " + "x" * MAX_YAML_BYTES + "\n")

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(Path, "read_text", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    size_mb = f"{(len(MINIMAL) + MAX_YAML_BYTES + 3) / 1e6:.1f}"
    with pytest.raises(ConfigError, match=rf"region\.yaml: is {size_mb} MB, larger than the 1 MB"):
        load_region(path)


@pytest.mark.slow
def test_yaml_at_the_size_cap_is_read(tmp_path: Path) -> None:
    from contigmap.yamlio import MAX_YAML_BYTES

    filler = "# " + "x" * (MAX_YAML_BYTES - len(MINIMAL.encode()) - 3) + "\n"
    path = _write(tmp_path, MINIMAL + filler)
    assert path.stat().st_size == MAX_YAML_BYTES
    assert load_region(path).name == "demo"


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):  # 10**9 values when expanded, 9 lines on disk
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"line 6: &anchors and \*aliases expand this file to "
                                          r"more than 200,000 values"):
        load_region(path)


@pytest.mark.parametrize(("text", "message"), [
    ("a: &a [*a]\n", "an alias refers to itself"),
    ("[" * 50_000 + "]" * 50_000 + "\n", "nested too deeply"),
])
@pytest.mark.slow
def test_pathological_yaml_is_one_config_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_region(_write(tmp_path, text))


def test_a_folder_is_not_a_yaml_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a file"):
        load_region(tmp_path)


def test_every_yaml_read_goes_through_load_yaml() -> None:
    """One reader for all YAML, so every file gets the duplicate-key and size checks."""
    import re

    src = Path(__file__).resolve().parents[1] / "src" / "contigmap"
    pattern = re.compile(r"yaml\.(safe_load|load|full_load|unsafe_load|load_all|safe_load_all)\(")
    offenders = [str(p.relative_to(src)) for p in src.rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
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
