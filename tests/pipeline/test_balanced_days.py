"""Balanced days: the limits on a rep's day follow its current average day as the plan improves."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from types import MappingProxyType

from planner.bench.planar import to_location
from planner.domain import Customer, Frequency, GradeRule, Region, Rep, VisitPolicy
from planner.pipeline.engine import _State
from planner.pipeline.routes import make_route

from .helpers import planar_engine

MONDAY = dt.date(2026, 1, 5)
POLICY = VisitPolicy(MappingProxyType({"X": GradeRule(Frequency(1, 1), 240)}))


def _state() -> _State:
    # one rep at (0, 0) working Monday and Tuesday 08:00-16:00 (8 h), no lunch; 4-hour visits, one
    # minute of driving per plane unit. A at (0, 10) on Monday; B at (0, 40), C at (0, 20) on Tuesday.
    pts = {"A": ((0, 10), ((0,),)), "B": ((0, 40), ((1,),)), "C": ((0, 20), ((1,),))}
    customers = tuple(Customer(k, k, to_location(*xy), "X", visit_minutes=240, allowed_days=p, rep_id="R")
                      for k, (xy, p) in pts.items())
    rep = Rep("R", "r", to_location(0, 0), work_start=8 * 60, work_end=16 * 60, workdays=frozenset({0, 1}),
              lunch=None)
    eng = planar_engine(Region(customers, (rep,), POLICY), MONDAY)
    eligible, options, _ = eng.eligibility()
    pattern = {c: options[(c, 0)][0] for c in range(3)}
    routes = {(0, 0): make_route(eng.inst, 0, [0], 0), (0, 1): make_route(eng.inst, 0, [1], 1)}
    state = _State(eng, options, eligible, {c: 0 for c in range(3)}, pattern, routes)
    state.balance = True
    return state


def test_limits_follow_the_average_day():
    state = _state()
    # Monday 20 min of driving + 240 of visit = 260 min; Tuesday (B) 80 + 240 = 320 min; average 290:
    # full days (1.2 x 290 = 348 > half of 480), so at most 348 min and at least 290 / 1.2 a day
    assert state.day_cap[0] / 60 == 348
    assert abs(state.day_floor[0] / 60 - 290 / 1.2) < 1e-9
    shorter = make_route(state.inst, 0, [2], 1)  # Tuesday sees C instead: 40 + 240 = 280 min
    state._apply({(0, 1): shorter})
    # a Monday of 230 min is under the old floor (241.7); the limits are kept until rebalanced
    monday = make_route(state.inst, 0, [0], 0)
    monday.timeline = replace(monday.timeline, depart=monday.timeline.depart + 30 * 60)  # (as if 230 min long)
    assert not state._floors_kept({(0, 0): monday})
    state.rebalance()  # average (260 + 280) / 2 = 270: at most 324 min, at least 225
    assert state.day_cap[0] / 60 == 324
    assert state.day_floor[0] / 60 == 225
    assert state._floors_kept({(0, 0): monday})


def test_improvement_and_destroy_and_repair_rebalance_first():
    state = _state()
    state._apply({(0, 1): make_route(state.inst, 0, [2], 1)})  # the plan got cheaper since the state was made
    state.improve(deadline=float("inf"))
    assert state.day_cap[0] / 60 == 324
    state._apply({(0, 1): make_route(state.inst, 0, [1], 1)})
    state.lns(deadline=float("inf"), max_iters=1)
    assert state.day_cap[0] / 60 == 348
