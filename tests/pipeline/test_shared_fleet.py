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


def test_days_of_once_seen_customers_are_chosen_with_the_routes():
    # two customers east (10, 0) and two west (-10, 0), demand 5 each, any of two days, one
    # vehicle a day with capacity 10: each day takes two. Same side together: 20 + 20 = 40 units;
    # one of each side a day: (10 + 20 + 10) x 2 = 80. A customer north (0, 10) is seen on both days.
    pts = [(10, 0), (10, 0), (-10, 0), (-10, 0), (0, 10)]
    pats = [((0,), (1,))] * 4 + [((0, 1),)]
    region = _region(pts, pats, [5, 5, 5, 5, 0], vehicles=1)
    res = plan_region(region, MONDAY, 1, time_limit=2, travel=PlanarTravel())
    assert res.evaluation.ok, res.evaluation.violations
    assert res.stats.get("joint_rounds", 0) >= 1  # all days were routed as one problem
    by_day = {}
    for r in res.plan.routes:
        by_day.setdefault((r.date - MONDAY).days, set()).update(s.customer_id for s in r.stops)
    assert by_day[0] - {"5"} in ({"1", "2"}, {"3", "4"}) and by_day[1] - {"5"} in ({"1", "2"}, {"3", "4"})
    # each day: 0 -> (0, 10) -> (±10, 0) -> 0 = 10 + sqrt(200) + 10
    assert round(sum(r.distance_km for r in res.plan.routes), 3) == round(2 * (20 + 200 ** 0.5), 3)


def test_joint_routing_is_deterministic_for_a_seed():
    rng = __import__("random").Random(4)
    pts = [(rng.uniform(-20, 20), rng.uniform(-20, 20)) for _ in range(14)]
    pats = [((0,), (1,), (2,))] * 10 + [((0, 2),), ((0, 1), (1, 2))] * 2
    region = _region(pts, pats, [3] * 14, vehicles=2, capacity=12)
    a, b = (plan_region(region, MONDAY, 1, time_limit=1, seed=3, travel=PlanarTravel(), deterministic=True)
            for _ in range(2))
    assert a.evaluation.ok and a.stats.get("joint_rounds", 0) >= 1
    seen = {}
    for r in a.plan.routes:  # each customer's recorded pattern is the days it is visited
        for s in r.stops:
            seen.setdefault(s.customer_id, []).append((r.date - MONDAY).days)
    assert {c: tuple(sorted(ds)) for c, ds in seen.items()} == dict(a.plan.patterns)
    key = [(r.rep_id, r.date, tuple(s.customer_id for s in r.stops)) for r in a.plan.routes]
    assert key == [(r.rep_id, r.date, tuple(s.customer_id for s in r.stops)) for r in b.plan.routes]


def test_a_customer_seen_twice_takes_the_days_of_its_neighbour():
    # M (seen twice, days 1+3 or 2+4) sits with F (days 2+4 only), east at (10, 0); W (once, any
    # day) at (-10, 0). Capacity 10, demand 5 each. Best: M with F on days 2 and 4 (20 + 20) and
    # W alone on one day (20): 60 units. M on days 1 and 3 would need two more trips east (100).
    pts = [(10, 0), (10, 0), (-10, 0)]
    pats = [((0, 2), (1, 3)), ((1, 3),), ((0,), (1,), (2,), (3,))]
    region = _region(pts, pats, [5, 5, 5], vehicles=1)
    res = plan_region(region, MONDAY, 1, time_limit=2, travel=PlanarTravel())
    assert res.evaluation.ok, res.evaluation.violations
    assert res.plan.patterns["1"] == (1, 3)
    assert round(sum(r.distance_km for r in res.plan.routes), 3) == 60.0
