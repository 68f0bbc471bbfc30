"""Schooling: where the children count comes from, and the options' rules."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from contigmap.pipeline import RegionState
from contigmap.priority import load_priority_config
from contigmap.priority.schooling import SchoolingConfig, schooling_priorities


@pytest.mark.slow
def test_children_from_the_villages_when_given(demo_state: RegionState) -> None:
    cfg = load_priority_config().schooling
    assert isinstance(cfg, SchoolingConfig)
    v = demo_state.villages.copy()
    v["school_age_children"] = np.arange(len(v), dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = schooling_priorities(v, demo_state.data.services, demo_state.network.graph,
                                   cfg, rate=0.08)
    assert (out["schooling_children_source"] == "villages").all()
    got = out.set_index("village_id")["schooling_children"]
    want = v.set_index("village_id")["school_age_children"]
    np.testing.assert_allclose(got.loc[want.index], want)
    # a village with no children has no far pupils and needs nothing
    zero = out[out["schooling_children"] == 0]
    assert (zero["schooling_option"] == "none").all()
    # no capacity column in the demo's services: no E2SFCA places; with one, places per child
    assert out["schooling_e2sfca_places"].isna().all()
    sv = demo_state.data.services.copy()
    sv["capacity"] = np.where(sv["kind"] == "school", 300.0, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cap = schooling_priorities(v, sv, demo_state.network.graph, cfg, rate=0.08)
    places = cap["schooling_e2sfca_places"].to_numpy(float)
    assert np.isfinite(places).all() and (places >= 0).all() and (places > 0).any()


def test_children_share_must_be_a_share() -> None:
    from pydantic import ValidationError

    data = load_priority_config().schooling.model_dump()
    data["children_share"] = 1.5
    with pytest.raises(ValidationError, match="children_share"):
        SchoolingConfig.model_validate(data)
