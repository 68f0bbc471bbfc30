"""``contigmap serve`` (issue #18): the API, its bounds, and exactness against ``scenario run``.

The demo region is served from the session's ``demo_state`` (the state ``contigmap
scenario run`` prepares); edits go through Starlette's TestClient. The reference for
exactness is ``contigmap scenario run``'s own function (:func:`contigmap.planning.run_scenarios`)
on the saved YAML: its per-village CSV must equal, byte for byte, the same CSV written from
the server's evaluation.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import pytest

from contigmap.serve.models import BuildEdit, UpgradeEdit

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "layers" / "huayuan" / "region.yaml"

pytestmark = pytest.mark.skipif(not DEMO.is_file(), reason="needs the demo region")


@pytest.fixture(scope="module")
def served(demo_state: Any) -> Any:
    from contigmap.serve import ServedRegion

    return ServedRegion.from_state(demo_state)


@pytest.fixture(scope="module")
def region_json(served: Any) -> dict[str, Any]:
    out: dict[str, Any] = served.region_json()
    return out


def _client(served: Any, **kw: Any) -> Any:
    from starlette.testclient import TestClient

    from contigmap.serve import create_app

    return TestClient(create_app(served, **kw))


def _session(client: Any) -> dict[str, str]:
    r = client.post("/api/session", json={})
    assert r.status_code == 200, r.text
    return {"X-Session": r.json()["session"]}


def _unpaved(region_json: dict[str, Any], n: int) -> list[str]:
    feats = region_json["roads"]["features"]
    return [f["properties"]["id"] for f in feats if f["properties"]["srf"] != "paved"][:n]


def rerun_matches(served: Any, text: str, tmp_path: Path) -> Path:
    """Run the saved YAML with ``scenario run``'s function; assert its CSVs equal the server's.

    Returns the CLI's per-village CSV.
    """
    from contigmap.planning import run_scenarios
    from contigmap.scenario import write_scenario_outputs

    path = tmp_path / "edits.yaml"
    path.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_scenarios([path], tmp_path / "cli", region=DEMO)
        mine = write_scenario_outputs(served.evaluate(text), tmp_path / "served")
    for key in ("serve-edits_villages_csv", "serve-edits_summary_csv"):
        assert mine[key].read_bytes() == (tmp_path / "cli" / mine[key].name).read_bytes()
    return tmp_path / "cli" / "serve-edits_villages.csv"


def test_edit_models_are_strict() -> None:
    """Unknown keys and coordinates outside lon/lat are refused by the models themselves."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        UpgradeEdit.model_validate({"kind": "upgrade", "roads": ["a"], "path": "/etc/passwd"})
    with pytest.raises(ValidationError):
        BuildEdit.model_validate({"kind": "build", "start": [500, 28], "end": [109, 28]})
    with pytest.raises(ValidationError):
        UpgradeEdit.model_validate({"kind": "upgrade", "roads": []})


def test_saved_yaml_reruns_identically(served: Any, region_json: dict[str, Any],
                                       tmp_path: Path) -> None:
    """Edits through the API → saved YAML → scenario run: identical per-village results."""
    c = _client(served)
    h = _session(c)
    a, b = _unpaved(region_json, 2)
    vil = region_json["villages"]
    steps = [
        {"kind": "upgrade", "roads": [a], "road_class": "county", "surface": "paved"},
        {"kind": "close", "roads": [b]},
        {"kind": "build", "start": [109.47, 28.58], "end": [109.5, 28.6]},
        {"kind": "bus", "stops": [vil[0]["id"], vil[1]["id"]], "frequency_per_day": 6,
         "max_stop_distance_m": 3000},
        {"kind": "season", "season": "rainy"},
    ]
    answers = []
    for body in steps:
        r = c.post("/api/edit", json=body, headers=h)
        assert r.status_code == 200, r.text
        answers.append(r.json())
    last = answers[-1]
    assert last["edits"] == ["升级改造 1 条 upgrade", "封闭道路 1 条 close", "新建道路 build",
                             "公交线路 2 站，每日 6 班 bus", "季节：雨季 season: rainy"]
    assert last["headline"]["cost_wan"] > 0
    assert last["server_ms"] > 0
    csv = rerun_matches(served, c.get("/api/scenario.yaml", headers=h).text, tmp_path)
    # the answer lists exactly the villages whose minutes changed, with the CLI's values
    import pandas as pd

    cli = pd.read_csv(csv, dtype={"village_id": str})
    own0, own1 = cli["tt_own_township_seat_min_base"], cli["tt_own_township_seat_min"]
    cty0, cty1 = cli["tt_county_seat_min_base"], cli["tt_county_seat_min"]
    def moved_by(old: pd.Series, new: pd.Series) -> pd.Series:
        both = old.notna() & new.notna()
        return (both & ((new - old).abs() >= 0.01)) | (old.isna() != new.isna())

    moved = moved_by(own0, own1) | moved_by(cty0, cty1)
    by_id = {v["id"]: v for v in last["villages"]}
    assert set(by_id) == set(cli.loc[moved, "village_id"])
    for _, row in cli[moved].iterrows():
        got = by_id[row["village_id"]]["own"]
        want = row["tt_own_township_seat_min"]
        gone = pd.isna(want) or not math.isfinite(want)
        assert (got is None and gone) or got == pytest.approx(want, abs=1e-3)


def test_invalid_edits_answer_4xx_with_a_message(served: Any) -> None:
    """Bad edits are refused with one line saying what is wrong; the session is unchanged."""
    c = _client(served)
    h = _session(c)
    cases = [
        ({"kind": "upgrade", "roads": ["no-such-road"], "surface": "paved"}, 422,
         "road id 'no-such-road' does not exist"),
        ({"kind": "upgrade", "roads": ["R00001"]}, 422, "choose a road class"),
        ({"kind": "teleport"}, 422, "kind: give one of"),
        ({"kind": "close", "roads": ["R00001"], "extra": 1}, 422, "extra"),
        ({"kind": "build", "start": [100.0, 20.0], "end": [100.1, 20.1]}, 422,
         "from the nearest road junction"),
        ({"kind": "season", "season": "winter"}, 422, "season"),
    ]
    for body, status, text in cases:
        r = c.post("/api/edit", json=body, headers=h)
        assert r.status_code == status, (body, r.text)
        assert text in r.json()["error"], r.json()
        assert "\n" not in r.json()["error"]
    r = c.post("/api/edit", content=b"{not json", headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert c.post("/api/undo", headers=h).json()["edits"] == []
    assert c.get("/api/scenario.yaml", headers=h).status_code == 409
    r = c.post("/api/edit", json={"kind": "close", "roads": ["R00001"]},
               headers={"X-Session": "forged"})
    assert r.status_code == 404
    assert "reload the page" in r.json()["error"]


def test_sessions_do_not_cross_talk(served: Any, region_json: dict[str, Any]) -> None:
    """Two tabs' interleaved edits: each session's answers are those of its edits alone."""
    c = _client(served)
    h1, h2 = _session(c), _session(c)
    a, b, d = _unpaved(region_json, 3)
    e1 = [{"kind": "upgrade", "roads": [a], "surface": "paved"},
          {"kind": "upgrade", "roads": [d], "surface": "paved"}]
    e2 = [{"kind": "close", "roads": [b]}, {"kind": "season", "season": "rainy"}]
    mixed = {}
    for x, y in zip(e1, e2, strict=True):
        mixed["1"] = c.post("/api/edit", json=x, headers=h1).json()
        mixed["2"] = c.post("/api/edit", json=y, headers=h2).json()
    alone = {}
    for key, edits in (("1", e1), ("2", e2)):
        h = _session(c)
        for body in edits:
            alone[key] = c.post("/api/edit", json=body, headers=h).json()
    for key in ("1", "2"):
        for part in ("villages", "headline", "top", "edits"):
            assert mixed[key][part] == alone[key][part]
    y1 = c.get("/api/scenario.yaml", headers=h1).text
    assert b not in y1 and "rainy" not in y1
    assert a not in c.get("/api/scenario.yaml", headers=h2).text


def test_undo_redo_and_load(served: Any, region_json: dict[str, Any]) -> None:
    """Undo returns the previous answer, redo the next; a saved YAML loads back the same."""
    c = _client(served)
    h = _session(c)
    a, b = _unpaved(region_json, 2)
    one = c.post("/api/edit", json={"kind": "upgrade", "roads": [a], "surface": "paved"},
                 headers=h).json()
    two = c.post("/api/edit", json={"kind": "close", "roads": [b]}, headers=h).json()
    back = c.post("/api/undo", headers=h).json()
    assert back["headline"] == one["headline"] and back["can_redo"]
    again = c.post("/api/redo", headers=h).json()
    assert again["headline"] == two["headline"] and not again["can_redo"]
    text = c.get("/api/scenario.yaml", headers=h).text
    h2 = _session(c)
    loaded = c.post("/api/load", json={"yaml": text}, headers=h2).json()
    assert loaded["villages"] == two["villages"]
    assert c.get("/api/scenario.yaml", headers=h2).text == text
    bad = c.post("/api/load", json={"yaml": "name: x\nchanges: []\n"}, headers=h2)
    assert bad.status_code == 422 and "no changes" in bad.json()["error"]
    cmp = c.get("/api/compare", params={"a": h["X-Session"], "b": h2["X-Session"]}).json()
    assert cmp["a"]["headline"] == cmp["b"]["headline"]


def test_token_required_when_given(served: Any) -> None:
    """With a token (non-local host) every request needs it; without, 401."""
    c = _client(served, token="s3cret")
    assert c.get("/api/region").status_code == 401
    assert c.get("/").status_code == 401
    assert c.post("/api/session", json={}, headers={"X-Token": "wrong"}).status_code == 401
    assert c.get("/api/region", params={"token": "s3cret"}).status_code == 200
    r = c.post("/api/session", json={}, headers={"X-Token": "s3cret"})
    assert r.status_code == 200


def test_cli_requires_a_token_beyond_localhost() -> None:
    """The CLI makes a token for any host but localhost (checked in its code path)."""
    from contigmap.cli.serve import LOCAL_HOSTS

    assert "127.0.0.1" in LOCAL_HOSTS and "0.0.0.0" not in LOCAL_HOSTS


def test_body_size_and_session_bounds(served: Any) -> None:
    """Bodies over the cap are 413; the session store stays bounded."""
    from contigmap.serve import MAX_BODY_BYTES

    c = _client(served, max_sessions=3)
    h = _session(c)
    big = {"kind": "close", "roads": ["R" * 90] * 2000}
    r = c.post("/api/edit", json=big, headers=h)
    assert r.status_code == 413 and str(MAX_BODY_BYTES) in r.json()["error"]
    for _ in range(5):
        _session(c)
    assert len(c.app.state.sessions) == 3
    assert c.post("/api/undo", headers=h).status_code == 404  # the oldest was dropped


def test_page_is_offline_and_data_free(served: Any) -> None:
    """The page inlines Leaflet and the editor, fetches nothing from the internet."""
    c = _client(served)
    html = c.get("/").text
    assert "L.map(" in html and "cmServe" in html
    for remote in ('src="http', "<link", "url(http", "url('http", "@import"):
        assert remote not in html
    assert "<script src" not in html and "<link" not in html


def test_season_alone_is_evaluated_not_saved(served: Any) -> None:
    """A season switch alone changes times (rainy roads) but is not yet a scenario file."""
    c = _client(served)
    h = _session(c)
    r = c.post("/api/edit", json={"kind": "season", "season": "rainy"}, headers=h).json()
    assert r["season"] == "rainy" and r["headline"]["villages_changed"] > 0
    assert r["headline"]["cost_wan"] == 0
    saved = c.get("/api/scenario.yaml", headers=h)
    assert saved.status_code == 409 and "needs one" in saved.json()["error"]


def test_cli_help_has_examples() -> None:
    """``contigmap serve --help`` shows the options and examples."""
    from click.testing import CliRunner

    from contigmap.cli.main import cli

    out = CliRunner().invoke(cli, ["serve", "--help"]).output
    for text in ("--port", "--host", "--open / --no-open", "contigmap serve layers/huayuan"):
        assert text in out


def test_compare_two_scenario_texts(served: Any, region_json: dict[str, Any]) -> None:
    """POST /api/compare: headline numbers side by side and the villages differing."""
    import numpy as np

    c = _client(served)
    roads = _unpaved(region_json, 40)
    h = _session(c)
    texts = []
    for body in ({"kind": "upgrade", "roads": roads[:20], "surface": "paved"},
                 {"kind": "close", "roads": [roads[25]]}):
        assert c.post("/api/edit", json=body, headers=h).status_code == 200
        texts.append(c.get("/api/scenario.yaml", headers=h).text)
    r = c.post("/api/compare", json={"a": texts[0], "b": texts[1]})
    assert r.status_code == 200, r.text
    out = r.json()
    # each side is the answer of its own text
    for key, text in zip("ab", texts, strict=True):
        want = served.answer(text).summary
        assert out[key]["headline"]["poor_gaining"] == pytest.approx(want["poor_gaining"])
        assert out[key]["headline"]["cost_wan"] == pytest.approx(want["cost_cny"] / 1e4, abs=0.01)
    # villages differing: B closes one road more than A; counted by hand from both answers
    va, vb = served.answer(texts[0]).villages, served.answer(texts[1]).villages
    n = 0
    for col in ("tt_own_township_seat_min", "tt_county_seat_min"):
        x, y = va[col].to_numpy(float), vb[col].to_numpy(float)
        fx, fy = np.isfinite(x), np.isfinite(y)
        n_col = (fx != fy) | (fx & fy & (np.abs(np.where(fx & fy, x - y, 0.0)) >= 0.01))
        n = n_col if isinstance(n, int) else (n | n_col)
    assert out["n_differ"] == int(np.sum(n))
    assert len(out["differ"]) == min(out["n_differ"], 20)
    # not a scenario of this region, and bodies beyond the bound, are refused
    other = texts[0].replace(f"region: {served.name}", "region: elsewhere")
    assert c.post("/api/compare", json={"a": other, "b": texts[1]}).status_code == 422
    assert c.post("/api/compare", json={"a": texts[0]}).status_code == 422


def test_bus_line_is_drawn_along_roads(served: Any) -> None:
    """A bus line's answer carries its stops and a course along the road graph's edges."""
    c = _client(served)
    h = _session(c)
    b = served.baseline.villages
    ids = b.loc[b["dist_road_m"] < 200, "village_id"].astype(str).tolist()[:2]
    r = c.post("/api/edit", json={"kind": "bus", "stops": ids}, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["engine"] == "full"
    (line,) = out["bus_lines"]
    assert len(line["stops"]) == 2
    course = line["course"]
    assert course[0] == line["stops"][0] and course[-1] == line["stops"][-1]
    assert len(course) > 3  # along roads: more than the two stops and their road nodes
    assert "公交线路 2 站" in out["edits"][0]
