"""A rep with a lunch break, a visit cap and a customer with split opening hours, planned end to end
on plane coordinates (distances by hand)."""
from __future__ import annotations

import datetime as dt
from types import MappingProxyType

from planner.bench.planar import PlanarTravel, to_location
from planner.domain import Customer, Frequency, GradeRule, LunchBreak, Region, Rep, VisitPolicy, parse_windows
from planner.pipeline import plan_region

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


def test_a_rep_with_lunch_and_split_opening_hours_gets_a_valid_plan():
    # one side a day: 0 -> north -> east or west -> 0 = 10 + sqrt(200) + 10, twice
    res = plan_region(_region(), MONDAY, 1, time_limit=3, seed=2, travel=PlanarTravel())
    assert res.evaluation.ok, res.evaluation.violations
    assert not res.plan.unassigned
    assert round(sum(r.distance_km for r in res.plan.routes), 3) == round(2 * (20 + 200 ** 0.5), 3)
