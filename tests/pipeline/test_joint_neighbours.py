"""Shared fleet over several days with little time per visit (under 0.1 s): the joint routings
search a narrower neighbourhood (:data:`planner.pipeline.engine.NARROW_NEIGHBOURS` nearest
visits) with a shorter late-acceptance history (:data:`~planner.pipeline.engine.NARROW_HISTORY`)."""
from __future__ import annotations

from planner.pipeline import engine
from planner.solver.problem import RoutingProblem, RoutingSolution, SearchOptions

from .helpers import fleet_engine

# A (10, 0) on days 0 and 3, B (0, 10) on days 1 and 2, X (10, 0) on 0 2 or 1 3: 6 visits a plan
SPEC = {"A": ((10, 0), ((0, 3),), 1), "B": ((0, 10), ((1, 2),), 1), "X": ((10, 0), ((0, 2), (1, 3)), 1)}


class Recording:
    """The real fast engine, noting the neighbourhood and history each routing of several days
    was given."""

    def __init__(self, inner):
        self.inner = inner
        self.search: list[tuple[int | None, int | None]] = []

    def solve(self, problem: RoutingProblem, options: SearchOptions) -> RoutingSolution:
        if problem.allowed_vehicles is not None:  # (a joint routing: vehicles of several days)
            self.search.append((options.neighbours, options.history))
        return self.inner.solve(problem, options)


def _run(time_limit: float):
    eng = fleet_engine(SPEC)
    eng.deterministic = True
    eng.time_limit = time_limit
    eng.fast_router = rec = Recording(eng.fast_router)
    res = eng.run()
    return res, rec.search


def test_under_a_tenth_of_a_second_a_visit_joint_routings_search_twenty_neighbours_with_a_history_of_fifteen(
        monkeypatch):
    monkeypatch.setattr(engine, "RESTARTS", 1)
    # 6 visits: narrow below 0.6 s; relaxed from 0.48 s (0.08 s a visit), so narrow either way
    assert engine.search_narrow(0.59, 6) and not engine.search_narrow(0.61, 6)
    for limit in (0.4, 0.5):
        res, seen = _run(limit)
        assert seen and set(seen) == {(20, 15)} == {(engine.NARROW_NEIGHBOURS, engine.NARROW_HISTORY)}
        # either pattern of X shares a day with A (20 km, X on the way) and one with B (10 + 14.14
        # + 10 km); A and B alone on their other days (20 km each): 94.14 km
        assert round(sum(rt.cost for rt in res.routes.values()), 2) == 94.14
        assert res.unplanned == []


def test_with_a_tenth_of_a_second_a_visit_joint_routings_keep_the_engines_search(monkeypatch):
    monkeypatch.setattr(engine, "RESTARTS", 1)
    res, seen = _run(0.61)
    assert seen and set(seen) == {(None, None)}
    assert round(sum(rt.cost for rt in res.routes.values()), 2) == 94.14
