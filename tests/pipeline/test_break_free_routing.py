"""Rep-days with a lunch break are routed without it first (fast), then timed exactly with it;
when the lunch does not fit the order found, the day is routed again with the break modelled.
Plane coordinates: the rep starts at (0, 0), both customers sit 1 km east, at the same spot."""
from __future__ import annotations

import datetime as dt
from types import MappingProxyType

from planner.bench.planar import to_location
from planner.domain import Customer, Frequency, GradeRule, LunchBreak, Region, Rep, VisitPolicy, parse_windows
from tests.pipeline.helpers import planar_engine

MONDAY = dt.date(2026, 1, 5)
POLICY = VisitPolicy(MappingProxyType({"X": GradeRule(Frequency(1, 1), 60)}))
H = 3600


def _engine(opening_1: str, opening_2: str):
    customers = tuple(Customer(str(i + 1), f"c{i + 1}", to_location(1, 0), "X", visit_minutes=60,
                               opening=parse_windows(o), rep_id="R")
                      for i, o in enumerate((opening_1, opening_2)))
    rep = Rep("R", "r", to_location(0, 0), workdays=frozenset({0}), cost_per_km=1.0, cost_per_hour=0.0,
              lunch=LunchBreak(60, 11 * 60 + 30, 13 * 60 + 30))  # 08:30-17:30, lunch 1 h in 11:30-13:30
    return planar_engine(Region(customers, (rep,), POLICY), MONDAY)


def test_a_day_routed_without_its_lunch_is_timed_with_it():
    eng = _engine("09:00-17:00", "09:00-17:00")
    routes, dropped = eng.route_day([0], [0, 1], budget=1.0, day=0)
    assert dropped == [] and eng.break_free == [1, 0]  # the break-free order was kept
    tl = routes[0].timeline
    assert sorted(routes[0].seq) == [0, 1]
    assert routes[0].cost == 2.0  # 1 km out, 0 between the two, 1 km back, at 1 per km
    assert tl.lunch_start is not None and 11.5 * H <= tl.lunch_start <= 12.5 * H
    for start in tl.starts:  # the hour-long visits do not overlap lunch
        assert start + H <= tl.lunch_start or start >= tl.lunch_start + H


def test_when_the_lunch_does_not_fit_the_day_is_routed_again_with_the_break():
    # one visit must start at 11:30, the other at 12:30: without a break both fit (11:30-13:30),
    # but then no hour inside 11:30-13:30 is free for lunch, so one of the two cannot be made
    eng = _engine("11:30-12:30", "12:30-13:30")
    routes, dropped = eng.route_day([0], [0, 1], budget=1.0, day=0)
    assert eng.break_free == [0, 1]
    assert len(dropped) == 1 and routes[0].seq == [1 - dropped[0]]
    tl = routes[0].timeline
    kept_start = tl.starts[0]
    assert kept_start == (11.5 * H if routes[0].seq == [0] else 12.5 * H)
    assert kept_start + H <= tl.lunch_start or tl.lunch_start + H <= kept_start
