"""Account ownership: all the days of a rep routed as one problem (the fast engine sees each
visit's longest window and a day shortened by the lunch; the routes are then timed exactly)."""
from __future__ import annotations

import datetime as dt
from types import MappingProxyType

import pytest

from planner.bench.planar import PlanarTravel, to_location
from planner.domain import Customer, Frequency, GradeRule, LunchBreak, Region, Rep, VisitPolicy, parse_windows
from planner.pipeline import plan_region
from planner.pipeline.routes import make_route
from planner.solver import pyvrp_engine

from .helpers import planar_engine

pytestmark = pytest.mark.skipif(not pyvrp_engine.available(), reason="PyVRP (extra 'fast') not installed")

MONDAY = dt.date(2026, 1, 5)
POLICY = VisitPolicy(MappingProxyType({"X": GradeRule(Frequency(1, 1), 30)}))
EAST, WEST, NORTH = (10, 0), (-10, 0), (0, 10)


def _region() -> Region:
    # customers 1, 2 east and 3, 4 west, each seen once on Monday or Tuesday; 5 north, both days.
    # Customer 1 is open 09:00-11:00 and 14:00-17:00; the rep lunches for an hour in 11:30-13:30
    # and makes at most 3 visits a day.
    pts = [EAST, EAST, WEST, WEST, NORTH]
    pats = [((0,), (1,))] * 4 + [((0, 1),)]
    customers = tuple(Customer(str(i + 1), f"c{i + 1}", to_location(x, y), "X", visit_minutes=30, allowed_days=p,
                               opening=parse_windows("09:00-11:00,14:00-17:00") if i == 0 else (), rep_id="R")
                      for i, ((x, y), p) in enumerate(zip(pts, pats)))
    rep = Rep("R", "r", to_location(0, 0), workdays=frozenset({0, 1}), max_visits_per_day=3,
              cost_per_km=1.0, cost_per_hour=0.0, lunch=LunchBreak(60, 11 * 60 + 30, 13 * 60 + 30))
    return Region(customers, (rep,), POLICY)


def test_once_seen_customers_change_day_when_the_reps_days_are_routed_as_one():
    eng = planar_engine(_region(), MONDAY)
    inst = eng.inst
    eligible, options, _ = eng.eligibility()
    by_days = {c: {p.days: p for p in options[(c, 0)]} for c in range(5)}
    # a poor start: east and west on the same day, 0 -> north -> east -> west -> 0 each day
    days = {0: (0,), 2: (0,), 1: (1,), 3: (1,), 4: (0, 1)}
    pattern = {c: by_days[c][d] for c, d in days.items()}
    routes = {(0, 0): make_route(inst, 0, [4, 0, 2], 0), (0, 1): make_route(inst, 0, [4, 1, 3], 1)}
    before = sum(rt.cost for rt in routes.values())
    assert before == pytest.approx(2 * (10 + 200 ** 0.5 + 20 + 10))
    new_routes, new_pattern, dropped = eng._route_reps_jointly(eligible, options, {c: 0 for c in range(5)},
                                                               pattern, routes, [], budget=1.0)
    assert dropped == []
    assert eng.joint_stats == {"joint_reps": 1}
    # one side a day: 0 -> north -> east or west -> 0 = 10 + sqrt(200) + 10, twice
    assert sum(rt.cost for rt in new_routes.values()) == pytest.approx(2 * (20 + 200 ** 0.5))
    sides = sorted(sorted(c for c in new_routes[(0, d)].seq if c != 4) for d in (0, 1))
    assert sides == [[0, 1], [2, 3]]
    for d in (0, 1):
        assert 4 in new_routes[(0, d)].seq
        for c in new_routes[(0, d)].seq:  # patterns follow the days
            assert d in new_pattern[c].days
        # timed exactly: the lunch is kept, and customer 1 is seen inside one of its windows
        rt = new_routes[(0, d)]
        assert rt.timeline.lunch_start is not None and 11 * 3600 + 1800 <= rt.timeline.lunch_start <= 12 * 3600 + 1800
        if 0 in rt.seq:
            start = rt.timeline.starts[rt.seq.index(0)]
            assert 9 * 3600 <= start <= 10 * 3600 + 1800 or 14 * 3600 <= start <= 16 * 3600 + 1800


def test_a_rep_with_lunch_and_split_opening_hours_gets_a_valid_plan():
    res = plan_region(_region(), MONDAY, 1, time_limit=3, seed=2, travel=PlanarTravel())
    assert res.evaluation.ok, res.evaluation.violations
    assert not res.plan.unassigned
    assert round(sum(r.distance_km for r in res.plan.routes), 3) == round(2 * (20 + 200 ** 0.5), 3)
