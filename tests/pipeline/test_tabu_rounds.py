"""Shared fleet over several days: each joint routing after the first starts from the patterns a
tabu search over them reached (:data:`planner.pipeline.engine.TABU_SHARE` of its round)."""
from __future__ import annotations

import pytest

from planner.pipeline import engine

from .helpers import fleet_engine

# as in test_restarts: best 100.32 km, X and Y on different patterns
SPEC = {"A": ((10, 0), ((0, 3),), 1), "B": ((0, 10), ((1, 2),), 1),
        "X": ((10, 0), ((0, 2), (1, 3)), 1), "Y": ((0, 5), ((0, 2), (1, 3)), 1)}


@pytest.mark.parametrize("share", [0.4, 0.0])
def test_joint_rounds_start_from_the_tabu_search_unless_its_share_is_nought(monkeypatch, share):
    monkeypatch.setattr(engine, "RESTARTS", 1)
    monkeypatch.setattr(engine, "TABU_SHARE", share)
    eng = fleet_engine(SPEC)
    eng.deterministic = True
    res = eng.run()
    assert (res.stats.get("tabu_starts", 0) >= 1) == (share > 0)
    assert round(sum(rt.cost for rt in res.routes.values()), 2) == 100.32
    for c, p in res.pattern.items():
        assert sorted(d for (_v, d), rt in res.routes.items() if c in rt.seq) == list(p.days)
    assert res.unplanned == []
