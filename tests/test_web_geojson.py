"""The web map's vectorised GeoJSON geometries equal shapely's own ``mapping``, as JSON text."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from shapely.geometry import (
    GeometryCollection,
    LinearRing,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    mapping,
)

from contigmap.render.web_geojson import column_values, geojson_geometries

HOLE = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)],
               [[(2, 2), (3, 2), (3, 3)], [(5, 5), (6, 5), (6, 6)]])
GEOMS = [
    Point(109.12345, 28.5),
    Point(-0.0, 1e-05),
    LineString([(0, 0), (1.5, 2.25), (3, 1)]),
    LinearRing([(0, 0), (1, 0), (1, 1)]),
    HOLE,
    Polygon([(0, 0), (1, 0), (1, 1)]),
    MultiPoint([(0, 0), (2, 3)]),
    MultiLineString([[(0, 0), (1, 1)], [(2, 2), (3, 3), (4, 5)]]),
    MultiPolygon([HOLE, Polygon([(20, 20), (21, 20), (21, 21)])]),
    GeometryCollection([Point(1, 2), LineString([(0, 0), (1, 1)])]),
    Point(1, 2, 3),
    LineString([(0, 0, 1), (1, 1, 2)]),
    shapely.from_wkt("MULTILINESTRING ((0 0, 1 1), EMPTY)"),
]


def _expected(geoms: list[object]) -> list[object]:
    """The value ``shapely.geometry.mapping`` gives, ``None`` for missing or empty."""
    return [None if g is None or g.is_empty else mapping(g) for g in geoms]  # type: ignore[attr-defined]


def test_every_kind_is_written_as_mapping_writes_it() -> None:
    got = geojson_geometries(GEOMS)
    for g, a, b in zip(GEOMS, got, _expected(GEOMS), strict=True):
        assert json.dumps(a) == json.dumps(b), g.wkt


def test_missing_and_empty_geometries_give_none_in_place() -> None:
    geoms = [None, Point(), LineString([(0, 0), (1, 1)]), Polygon(), Point(3, 4)]
    got = geojson_geometries(geoms)
    assert got[0] is None and got[1] is None and got[3] is None
    assert got[2] == {"type": "LineString", "coordinates": [(0.0, 0.0), (1.0, 1.0)]}
    assert got[4] == {"type": "Point", "coordinates": (3.0, 4.0)}


def test_mixed_random_lines_match_mapping() -> None:
    rng = np.random.default_rng(7)
    geoms: list[object] = []
    for k in range(300):
        n = int(rng.integers(2, 9))
        xy = np.round(rng.uniform(100, 112, size=(n, 2)), 5)
        line = LineString(xy)
        moved = shapely.affinity.translate(line, 1)
        geoms.append(line if k % 3 else MultiLineString([line, moved]))
    assert json.dumps(geojson_geometries(geoms)) == json.dumps(_expected(geoms))


@pytest.mark.parametrize("n", [0, 1])
def test_short_inputs(n: int) -> None:
    geoms = [Point(1.25, 2.5)] * n
    assert geojson_geometries(geoms) == [{"type": "Point", "coordinates": (1.25, 2.5)}] * n


def test_column_values_are_the_records_values() -> None:
    import pandas as pd

    frame = pd.DataFrame({
        "f": [1.5, np.nan, -0.0],
        "f32": np.array([0.1, 2.0, 3.0], dtype=np.float32),
        "i": [1, 2, 3],
        "b": [True, False, True],
        "s": pd.Series(["a", None, "c"], dtype="str"),
        "sna": pd.Series(["a", None, "c"], dtype="string"),
        "o": pd.Series([np.int64(4), "x", None], dtype=object),
        "ni": pd.Series([1, None, 3], dtype="Int64"),
        "t": pd.to_datetime(pd.Series(["2020-01-01", None, "2021-05-06"])),
    })
    records = frame.to_dict("records")
    for col in frame.columns:
        got = column_values(frame, col)
        want = [r[col] for r in records]
        assert [(type(v), repr(v)) for v in got] == [(type(v), repr(v)) for v in want], col
