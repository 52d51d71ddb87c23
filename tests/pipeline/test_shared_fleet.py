"""Shared fleet (no account ownership) with explicit visit-day patterns and capacities."""
from __future__ import annotations

import datetime as dt
from types import MappingProxyType

from planner.bench.planar import PlanarTravel, to_location
from planner.domain import Customer, Frequency, GradeRule, Region, Rep, VisitPolicy
from planner.pipeline import plan_region

MONDAY = dt.date(2026, 1, 5)
POLICY = VisitPolicy(MappingProxyType({"X": GradeRule(Frequency(1, 1), 0)}))


def _region(points, patterns, demand, vehicles=2, capacity=10) -> Region:
    customers = tuple(Customer(str(i + 1), f"c{i + 1}", to_location(x, y), "X", visit_minutes=0,
                               demand=q, allowed_days=p)
                      for i, ((x, y), p, q) in enumerate(zip(points, patterns, demand)))
    reps = tuple(Rep(f"V{v}", f"v{v}", to_location(0, 0), work_start=0, work_end=1000, workdays=frozenset(range(7)),
                     lunch=None, capacity=capacity, cost_per_km=1.0, cost_per_hour=0.0) for v in range(vehicles))
    return Region(customers, reps, POLICY, ownership=False)


def test_colocated_customers_each_keep_exactly_one_allowed_pattern():
    # six customers on three points (two per point), each visited on day 1 or day 2, or both
    pts = [(10, 0), (10, 0), (0, 10), (0, 10), (-10, 0), (-10, 0)]
    pats = [((0,), (1,)), ((0,), (1,)), ((0, 1),), ((0,), (1,)), ((0,), (1,)), ((0, 1),)]
    region = _region(pts, pats, [3, 3, 3, 3, 3, 3])
    res = plan_region(region, MONDAY, 1, time_limit=2, travel=PlanarTravel())
    assert res.evaluation.ok, res.evaluation.violations
    days = {}
    for r in res.plan.routes:
        for s in r.stops:
            days.setdefault(s.customer_id, []).append((r.date - MONDAY).days)
    for c in region.customers:
        assert tuple(sorted(days[c.id])) in c.allowed_days


def test_capacity_splits_a_day_between_vehicles():
    # four customers due on day 1 with demand 6 each, capacity 10: a route holds one of them, so
    # two vehicles take two; the other two are reported, with a reason
    pts = [(10, 0), (0, 10), (-10, 0), (0, -10)]
    region = _region(pts, [((0,),)] * 4, [6, 6, 6, 6])
    res = plan_region(region, MONDAY, 1, time_limit=2, travel=PlanarTravel())
    assert res.evaluation.ok
    routes = [r for r in res.plan.routes if r.stops]
    assert len(routes) == 2 and all(len(r.stops) == 1 for r in routes)
    assert len(res.plan.unassigned) == 2
    assert {u.code for u in res.plan.unassigned} == {"capacity_exceeded"}
    # each route: out 10 and back 10 = 20 units
    assert sum(r.distance_km for r in routes) == 40.0
