"""Personal data stays in (issue #19 item 11): no name or ID number reaches any output."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from contigmap.columns import column_dictionary_markdown, is_personal
from contigmap.config import load_region
from contigmap.errors import DataQualityWarning
from contigmap.inputs import match_column
from contigmap.io.personal import drop_personal, is_id_number
from contigmap.io.region import load_region_layers
from tests.helpers import VILLAGE_CODES, write_tiny_region

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_number(first17: str) -> str:
    """A valid ID number: the GB 11643-1999 check character computed here by hand."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


NAMES = ["石秀英", "龙老三", "麻阿妹", "吴金花", "杨天保", "田小燕", "施大勇", "隆二妹"]
IDS = [_id_number(f"43312419{60 + i}0{i + 1}0{i + 1}12{i}") for i in range(8)]
HEAD_IDS = [_id_number(f"43312420{10 + i}1{i % 3}1{i + 1}34{i}") for i in range(8)]


def test_id_numbers_are_recognised_by_their_check_digit() -> None:
    assert is_id_number("11010519491231002X")  # the standard's own example
    assert all(is_id_number(i) for i in IDS)
    assert not is_id_number("11010519491231002" + "1")  # wrong check character
    assert not is_id_number(VILLAGE_CODES[0] + "000123")  # village code + household number
    assert match_column("households", "户主姓名") == "head_name"
    assert match_column("households", "身份证号码") == "id_number"
    assert is_personal("id_number") and not is_personal("household_id")
    assert "## Personal columns (never written)" in column_dictionary_markdown()


def test_drop_personal_columns_and_pseudonymise_ids() -> None:
    frame = pd.DataFrame({"household_id": IDS[:3], "户主姓名": NAMES[:3],
                          "备注": HEAD_IDS[:3], "members": [1, 2, 3]})
    with pytest.warns(DataQualityWarning, match="citizen ID numbers"):
        out = drop_personal(frame, id_column="household_id", source="layers.households")
    assert list(out.columns) == ["household_id", "members"]  # 备注 held ID numbers
    assert out["household_id"].tolist() == ["P1", "P2", "P3"]


@pytest.mark.slow
def test_no_name_or_id_number_in_any_output(tmp_path: Path) -> None:
    from contigmap.pipeline import run

    path = write_tiny_region(tmp_path / "region", seats=True)
    hh = pd.read_csv(path.parent / "households.csv", dtype=str)
    hh["household_id"] = IDS  # the id column itself holds ID numbers
    hh.insert(1, "户主姓名", NAMES)
    hh.insert(2, "身份证号", HEAD_IDS)
    hh["联系电话"] = [f"1390743{i:04d}" for i in range(8)]
    hh.to_csv(path.parent / "households.csv", index=False, encoding="utf-8-sig")
    services = pd.read_csv(path.parent / "services.csv", dtype=str)  # a contact per service
    services["联系人"] = NAMES[: len(services)]
    services["联系电话"] = list(hh["联系电话"][: len(services)])
    services.to_csv(path.parent / "services.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        data = load_region_layers(load_region(path))
        result = run(path, tmp_path / "out")
    # dropped on reading (today's outputs aggregate them away too: this guards both)
    assert data.households is not None and data.services is not None
    assert not {"户主姓名", "身份证号", "联系电话"} & set(data.households.columns)
    assert data.households["household_id"].tolist() == [f"P{i + 1}" for i in range(8)]
    assert not {"联系人", "联系电话"} & set(data.services.columns)
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    suffixes = {p.suffix for p in files}
    assert {".csv", ".xlsx", ".gpkg", ".html", ".md", ".json"} <= suffixes, suffixes
    secrets = [s.encode() for s in (*NAMES, *IDS, *HEAD_IDS, *hh["联系电话"])]
    for file in files:
        blobs = [file.read_bytes()]
        if zipfile.is_zipfile(file):
            with zipfile.ZipFile(file) as book:
                blobs += [book.read(n) for n in book.namelist()]
        for blob in blobs:
            found = [s.decode() for s in secrets if s in blob]
            assert not found, f"{file.name} holds personal data {found}"
    # the registry was still used (a sample of every village; ids P1...P8 are unique)
    v = result.villages
    assert set(v["poor_pop_source"]) == {"registry_sample_estimate"}
    assert int(v["households_registry"].sum()) == 8
