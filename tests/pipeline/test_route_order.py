"""Visit order improved inside the search (or-opt and 2-opt, bounded before timing)."""
from __future__ import annotations

import datetime as dt
import itertools
from types import MappingProxyType

from planner.bench.planar import to_location
from planner.domain import Customer, Frequency, GradeRule, Region, Rep, TimeWindow, VisitPolicy
from planner.pipeline import engine
from planner.pipeline.engine import _State
from planner.pipeline.routes import _order_moves, improve_order, make_route

from .helpers import planar_engine

MONDAY = dt.date(2026, 1, 5)
POLICY = VisitPolicy(MappingProxyType({"X": GradeRule(Frequency(1, 1), 30)}))


def _instance(b_opening=()):
    # rep at (0, 0), 08:30-17:30 without lunch, 1 per km, nothing per hour; one plane unit is one
    # minute of driving. A (10, 0), B (20, 0), C (30, 0), 30-minute visits, all on Monday.
    spec = {"A": (10, ()), "B": (20, b_opening), "C": (30, ())}
    customers = tuple(Customer(k, k, to_location(x, 0), "X", visit_minutes=30, allowed_days=((0,),), rep_id="R",
                               opening=o) for k, (x, o) in spec.items())
    rep = Rep("R", "r", to_location(0, 0), workdays=frozenset({0}), cost_per_km=1.0, cost_per_hour=0.0, lunch=None)
    return planar_engine(Region(customers, (rep,), POLICY), MONDAY).inst


def test_moves_of_three_visits_are_every_other_order():
    assert sorted(map(tuple, _order_moves(3))) == sorted(p for p in itertools.permutations(range(3))
                                                         if p != (0, 1, 2))


def test_moves_are_orders_of_the_same_visits_never_the_identity():
    for n in range(2, 9):
        moves = _order_moves(n)
        assert len(moves) == len({tuple(m) for m in moves})
        assert all(sorted(m) == list(range(n)) and m != list(range(n)) for m in moves)
    # 4 visits: 6 runs to reverse (1023 0213 0132 2103 0321 3210); moving one visit adds 1203 1230
    # 0231 2013 3012 0312; moving two adds 2301, and reversed 2310 3201; moving three adds none
    assert len(_order_moves(4)) == 15


def test_detour_order_becomes_the_straight_line():
    inst = _instance()
    zigzag = make_route(inst, 0, [2, 0, 1], 0)  # 0 -> C -> A -> B -> 0: 30 + 20 + 10 + 20
    assert zigzag.cost == 80
    better = improve_order(inst, 0, zigzag, 0)
    assert better.cost == 60  # never back towards the start before C: 30 out, 30 back
    assert improve_order(inst, 0, better, 0) is better  # nothing left to improve: the route itself


def test_order_the_windows_forbid_is_skipped():
    # B may only start 16:30-16:40 (open 16:30-17:10): after it no other visit fits before 17:30,
    # so the straight lines A B C and C B A (60) are out; A C B is 10 + 20 + 10 + 20 = 60 too
    inst = _instance(b_opening=(TimeWindow(16 * 60 + 30, 17 * 60 + 10),))
    start = make_route(inst, 0, [2, 0, 1], 0)  # C A B: 80
    assert start.cost == 80
    assert make_route(inst, 0, [0, 1, 2], 0) is None and make_route(inst, 0, [2, 1, 0], 0) is None
    better = improve_order(inst, 0, start, 0)
    assert (better.seq, better.cost) == ([0, 2, 1], 60)


def _state(monday: list[int]):
    """Search state over Monday (A B C as ``monday``, given by index) and an empty Tuesday."""
    spec = {"A": 10, "B": 20, "C": 30}
    customers = tuple(Customer(k, k, to_location(x, 0), "X", visit_minutes=30, allowed_days=((0,),), rep_id="R")
                      for k, x in spec.items())
    rep = Rep("R", "r", to_location(0, 0), workdays=frozenset({0, 1}), cost_per_km=1.0, cost_per_hour=0.0,
              lunch=None)
    eng = planar_engine(Region(customers, (rep,), POLICY), MONDAY)
    eligible, options, _ = eng.eligibility()
    inst = eng.inst
    routes = {(0, 0): make_route(inst, 0, monday, 0), (0, 1): make_route(inst, 0, [], 1)}
    return _State(eng, options, eligible, {c: 0 for c in range(3)}, {c: options[(c, 0)][0] for c in range(3)},
                  routes)


def test_state_applies_the_better_orders_only():
    state = _state([2, 0, 1])  # C A B: 80
    assert state.total == 80
    better = state.improve_orders(dict(state.routes))
    assert list(better) == [(0, 0)]  # Tuesday (empty) has nothing to improve
    assert state.total == 60 and state.routes[(0, 0)].cost == 60
    assert state.stats["order_moves"] == 1
    assert state.improve_orders(dict(state.routes)) == {}  # a second time: nothing left
    assert state.stats["order_moves"] == 1


def test_destroy_and_repair_improves_the_days_it_changed(monkeypatch):
    calls = []
    real = engine.improve_order

    def spy(inst, r, route, d=None):
        calls.append((r, d))
        return real(inst, r, route, d)

    monkeypatch.setattr(engine, "improve_order", spy)
    state = _state([0, 1, 2])
    state.lns(deadline=float("inf"), max_iters=3)
    assert calls and set(calls) <= {(0, 0)}  # every repair changes Monday, and only Monday
    calls.clear()
    monkeypatch.setattr(engine, "ROUTE_MOVES", False)
    state.lns(deadline=float("inf"), max_iters=3)
    assert calls == []
