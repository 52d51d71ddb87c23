"""Pattern moves priced with penalties (:mod:`planner.pipeline.pattern_moves`), by hand.

Locations on a line: customers 0 and 1 at x = 10, the depot (location 2) at x = 0. Customer 0
(demand 6) is seen once, on day 0 or day 1, now on day 0 alone: a route of 20 (out and back).
Customer 1 (demand 6) is on day 1 with vehicle 0. Vehicles have capacity 10.
"""
from __future__ import annotations

import numpy as np
import pytest

from planner.pipeline.pattern_moves import Fleet, _Plan, penalized_pattern_moves, tabu_pattern_search
from planner.scheduling.patterns import Pattern

X = np.array([10.0, 10.0, 0.0])
DIST = np.abs(X[:, None] - X[None, :])
DUR = DIST.copy()
SERVICE = np.zeros(3)
DEMAND = np.array([6.0, 6.0, 0.0])
DAY0, DAY1 = Pattern((0,)), Pattern((1,))
OPTIONS = {0: [DAY0, DAY1], 1: [DAY1]}


def _fleet(n: int, span: float | None = None) -> Fleet:
    return Fleet(start=[2] * n, end=[2] * n, capacity=[10] * n, span=[span] * n)


def _run(seqs, load_price, fleet, time_price=0.0):
    return penalized_pattern_moves(seqs, {0: DAY0, 1: DAY1}, OPTIONS.__getitem__, fleet, DIST, DUR, SERVICE,
                                   DEMAND, [0, 1], load_price=load_price, time_price=time_price)


def test_an_overload_is_taken_when_its_price_is_below_the_gain():
    # Day 1 has a second, empty vehicle. Moving 0 to day 1 saves 20 on day 0; beside 1 on vehicle 0
    # it adds 0 km and 2 units of excess load (12 > 10): 2 x 5 = 10 < 20, taken (alone on vehicle 1
    # it would add 20, no better than staying).
    seqs = {(0, 0): [0], (0, 1): [1], (1, 1): []}
    new, pattern, moved = _run(seqs, load_price=5.0, fleet=_fleet(2))
    assert moved == 1 and pattern[0] is DAY1
    assert new == {(0, 0): [], (0, 1): [0, 1], (1, 1): []}
    assert seqs == {(0, 0): [0], (0, 1): [1], (1, 1): []}  # the input is left as it was


def test_an_overload_dearer_than_the_gain_is_not_taken():
    # 2 x 15 = 30 beside customer 1; 20 on the empty vehicle: neither beats the 20 day 0 saves.
    seqs = {(0, 0): [0], (0, 1): [1], (1, 1): []}
    new, pattern, moved = _run(seqs, load_price=15.0, fleet=_fleet(2))
    assert moved == 0 and pattern[0] is DAY0
    assert new == seqs


def test_a_day_whose_vehicles_cannot_carry_the_load_takes_no_more():
    # Day 1 with one vehicle only: 6 + 6 > 10 for the day as a whole, free penalty or not.
    seqs = {(0, 0): [0], (0, 1): [1]}
    new, pattern, moved = _run(seqs, load_price=0.0, fleet=_fleet(1))
    assert moved == 0 and pattern[0] is DAY0 and new == seqs


@pytest.mark.parametrize("price, moved", [(1.0, 1), (3.0, 1), (5.0, 0)])
def test_working_time_beyond_the_span_is_priced_per_second(price, moved):
    # Loads unlimited, spans of 25 s, both customers 10 s of service (one second per km). Day 0:
    # customer 0 alone works 20 + 10 = 30 s (5 over); removal saves 20 km + 5 x price. Day 1:
    # vehicle 0 with customer 1 already works 30 s; with customer 0 too, 40 s: 0 km + 10 x price
    # more. Vehicle 1, empty: 20 km + 5 x price. Price 1: 10 < 25, moved beside customer 1;
    # price 3: 30 < 35, moved; price 5: 50 and 45, not below the 45 saved: stays.
    service = np.array([10.0, 10.0, 0.0])
    fleet = Fleet(start=[2, 2], end=[2, 2], capacity=[None, None], span=[25.0, 25.0])
    seqs = {(0, 0): [0], (0, 1): [1], (1, 1): []}
    new, pattern, n = penalized_pattern_moves(seqs, {0: DAY0, 1: DAY1}, OPTIONS.__getitem__, fleet, DIST, DUR,
                                              service, DEMAND, [0], load_price=0.0, time_price=price)
    assert n == moved
    assert new[(0, 1)] == ([0, 1] if moved else [1]) and new[(0, 0)] == ([] if moved else [0])


@pytest.mark.parametrize("price, days, seq", [(5.0, DAY1, [0, 1]), (15.0, DAY0, [1])])
def test_a_customer_missing_its_visits_takes_the_cheapest_pattern(price, days, seq):
    # Customer 0 is on no day (its pattern, day 0, not made): placed whatever it saves. Day 0
    # alone: 20; day 1 beside customer 1: 0 km + 2 x price; day 1 on the empty vehicle: 20.
    # Price 5: 10, day 1 beside customer 1. Price 15: 20 either way, its own pattern kept.
    seqs = {(0, 0): [], (0, 1): [1], (1, 1): []}
    new, pattern, moved = _run(seqs, load_price=price, fleet=_fleet(2))
    assert moved == 1 and pattern[0] is days and new[(0, 1)] == seq
    assert sum(len(s) for s in new.values()) == 2


def test_a_missing_visit_is_placed_even_on_a_day_over_its_load():
    # Day 1 only, one vehicle: 6 + 6 > 10, yet the visit must be made: it goes in, over the load.
    seqs = {(0, 1): [1]}
    new, pattern, moved = penalized_pattern_moves(seqs, {0: DAY1, 1: DAY1}, {0: [DAY1], 1: [DAY1]}.__getitem__,
                                                  _fleet(1), DIST, DUR, SERVICE, DEMAND, [0, 1],
                                                  load_price=1.0, time_price=0.0)
    assert moved == 1 and new == {(0, 1): [0, 1]}


def test_the_tabu_search_makes_a_dearer_move_to_reach_a_cheaper_plan():
    # Depot (location 4) at (0, 0); two vehicles a day of capacity 10, days 0 and 1. A (10, 0)
    # and B (0, 10), demand 6, may take day 0 or day 1; C (10, 1) on day 0 and D (1, 10) on day 1,
    # demand 4. Start: B with C on day 0 and A with D on day 1, 10 + 13.45 + 10.05 = 33.50 each:
    # 67.01. Moving A to day 0 saves 33.50 - 20.10 on day 1 and costs 20 on the empty vehicle
    # (beside C it would overload by 6): +6.60, and B likewise. No move is cheaper, so the search
    # makes one of these; then the other saves 13.40 and costs 0.95 beside D (or A beside C):
    # C (or D) alone 20.10, A (or B) alone 20, B with D 10 + 1 + 10.05 = 21.05: 61.15, below the
    # start (each customer then has one pattern left, tabu). Pattern moves only: with visits moving
    # between the vehicles of a day too, C and D join A and B instead (below).
    pts = np.array([[10, 0], [0, 10], [10, 1], [1, 10], [0, 0]], dtype=float)
    dist = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    d0, d1 = Pattern((0,)), Pattern((1,))
    options = {0: [d0, d1], 1: [d0, d1], 2: [d0], 3: [d1]}
    fleet = Fleet(start=[4, 4], end=[4, 4], capacity=[10, 10], span=[None, None])
    seqs = {(0, 0): [1, 2], (1, 0): [], (0, 1): [0, 3], (1, 1): []}
    start = {0: d1, 1: d0, 2: d0, 3: d1}
    new, pattern, moved = tabu_pattern_search(
        seqs, start, options.__getitem__, fleet, dist, dist, np.zeros(5), np.array([6, 6, 4, 4, 0.0]), [0, 1],
        np.random.default_rng(1), load_price=10.0, time_price=0.0, iterations=20, relocate=False, reorder=False)
    assert moved == 2 and pattern[0] is d0 and pattern[1] is d1
    metres = sum(sum(dist[a, b] for a, b in zip([4, *s], [*s, 4])) for s in new.values())
    assert round(metres, 2) == 61.15
    assert sorted(map(sorted, new.values())) in ([[], [0], [1, 3], [2]], [[], [0, 2], [1], [3]])
    assert seqs == {(0, 0): [1, 2], (1, 0): [], (0, 1): [0, 3], (1, 1): []}  # the input is left as it was


def test_the_tabu_search_returns_the_start_when_nothing_cheaper_is_met():
    # customer 0 on day 0 alone (20); day 1 beside customer 1 overloads by 2: never without excess
    seqs = {(0, 0): [0], (0, 1): [1]}
    new, pattern, moved = tabu_pattern_search(
        seqs, {0: DAY0, 1: DAY1}, OPTIONS.__getitem__, _fleet(1), DIST, DUR, SERVICE, DEMAND, [0],
        np.random.default_rng(3), load_price=1.0, time_price=0.0, iterations=10)
    assert moved == 0 and pattern[0] is DAY0 and new == seqs


@pytest.mark.parametrize("kick, moved, metres", [(0, 0, 20.0), (1, 2, 20.0), (2, 2, 20.0), (3, 0, 20.0)])
def test_a_kick_returns_the_cheapest_plan_met_that_far_from_the_start(kick, moved, metres):
    # Depot (location 2) at x = 0; A and B at x = 10 (demand 1), each on day 0 or day 1, one vehicle
    # a day. Start: both on day 0, 20. Whichever moves to day 1 first costs 20 more (40); the other
    # then joins it for 20 less: both on day 1, 20, no cheaper than the start, so without a kick the
    # start is returned. A kick of 1 or 2 changed patterns returns that plan (the cheapest met with
    # that many changes: 20 against 40 with one); 3 is more than the two customers can change.
    seqs = {(0, 0): [0, 1], (0, 1): []}
    fleet = Fleet(start=[2], end=[2], capacity=[10], span=[None])
    new, pattern, got_moved = tabu_pattern_search(
        seqs, {0: DAY0, 1: DAY0}, {0: [DAY0, DAY1], 1: [DAY0, DAY1]}.__getitem__, fleet, DIST, DUR, SERVICE,
        np.array([1.0, 1.0, 0.0]), [0, 1], np.random.default_rng(5), load_price=1.0, time_price=0.0,
        iterations=10, kick=kick)
    got = sum(sum(DIST[a, b] for a, b in zip([2, *s], [*s, 2])) for s in new.values())
    assert got_moved == moved and round(got, 2) == metres
    assert pattern == ({0: DAY1, 1: DAY1} if moved else {0: DAY0, 1: DAY0})
    assert sorted(map(sorted, new.values())) == ([[], [0, 1]])
    assert new[(0, 1 if moved else 0)] in ([0, 1], [1, 0])
    assert seqs == {(0, 0): [0, 1], (0, 1): []}  # the input is left as it was


def _line_plan(pts, seqs, span=None, dur=None):
    """A plan over points in the plane, the depot the last point, metres as straight lines."""
    pts = np.asarray(pts, dtype=float)
    dist = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    n = len(pts)
    v = {k[0] for k in seqs}
    fleet = Fleet(start=[n - 1] * (max(v) + 1), end=[n - 1] * (max(v) + 1), capacity=[10] * (max(v) + 1),
                  span=[span] * (max(v) + 1))
    return dist, _Plan(seqs, fleet, dist, dist if dur is None else dur, np.zeros(n),
                       np.zeros(n), load_price=1.0, time_price=1.0)


def test_a_visit_moves_to_another_vehicle_of_its_day():
    # Depot (location 2) at (0, 0); A (10, 0) and B (10, 1), demand 1, on day 0 on vehicles 0 and 1:
    # 20 + 2 x 10.05 = 40.10. Their other pattern, day 1, has no vehicle, so no pattern move is
    # possible; either one joining the other saves 20 (or 20.10) for 1.05 (or 0.95): 10 + 1 + 10.05
    # = 21.05, and the patterns are unchanged (moved counts pattern changes: 0).
    pts = np.array([[10, 0], [10, 1], [0, 0]], dtype=float)
    dist = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    d0, d1 = Pattern((0,)), Pattern((1,))
    fleet = Fleet(start=[2, 2], end=[2, 2], capacity=[10, 10], span=[None, None])
    seqs = {(0, 0): [0], (1, 0): [1]}
    for relocate, metres in ((False, 40.10), (True, 21.05)):
        new, pattern, moved = tabu_pattern_search(
            seqs, {0: d0, 1: d0}, {0: [d0, d1], 1: [d0, d1]}.__getitem__, fleet, dist, dist, np.zeros(3),
            np.array([1.0, 1.0, 0.0]), [0, 1], np.random.default_rng(2), load_price=1.0, time_price=0.0,
            iterations=10, relocate=relocate)
        got = sum(sum(dist[a, b] for a, b in zip([2, *s], [*s, 2])) for s in new.values())
        assert round(got, 2) == metres
        assert moved == 0 and pattern == {0: d0, 1: d0}
        assert sorted(map(sorted, new.values())) == ([[0], [1]] if not relocate else [[], [0, 1]])
    assert seqs == {(0, 0): [0], (1, 0): [1]}  # the input is left as it was


def test_reorder_untangles_a_route_and_counts_what_it_saves():
    # Depot (location 3) at (0, 0); customers at x = 1, 2, 3 on a line, visited 3, 1, 2:
    # 3 + 2 + 1 + 2 = 8; out and back without doubling (1, 2, 3 or 1, 3, 2 ...) 6: 2 saved.
    _dist, plan = _line_plan([[1, 0], [2, 0], [3, 0], [0, 0]], {(0, 0): [2, 0, 1]})
    assert plan.reorder((0, 0)) == pytest.approx(2.0)
    assert plan.routes[(0, 0)].dist == pytest.approx(6.0) and plan.metres() == pytest.approx(6.0)
    assert plan.routes[(0, 0)].dur == pytest.approx(6.0)  # (time is distance here)
    assert sorted(plan.routes[(0, 0)].seq) == [0, 1, 2]
    assert plan.reorder((0, 0)) == 0.0  # nothing left to gain


def test_reorder_keeps_an_order_whose_working_time_would_exceed_the_span():
    # The same route; every leg takes 1 s but those between the depot and x = 1, 50 s. As visited
    # (3, 1, 2): 4 s. Every 6 m order has x = 1 next to the depot: 53 s or more, over a span of
    # 10 s: the order stays. With time as distance and a span of 5 s the route already works 8 s,
    # over it: a 6 m order works 6 s, no longer, so it is taken.
    dur = np.ones((4, 4)) - np.eye(4)
    dur[3, 0] = dur[0, 3] = 50.0
    _dist, plan = _line_plan([[1, 0], [2, 0], [3, 0], [0, 0]], {(0, 0): [2, 0, 1]}, span=10.0, dur=dur)
    assert plan.routes[(0, 0)].dur == 4.0
    assert plan.reorder((0, 0)) == 0.0 and plan.routes[(0, 0)].seq == [2, 0, 1] and plan.metres() == 8.0
    _dist, plan = _line_plan([[1, 0], [2, 0], [3, 0], [0, 0]], {(0, 0): [2, 0, 1]}, span=5.0)
    assert plan.reorder((0, 0)) == pytest.approx(2.0) and plan.routes[(0, 0)].dur == pytest.approx(6.0)


@pytest.mark.parametrize("price, exclude, best", [
    (5.0, frozenset(), (10.0, (0, 1), 0)),  # beside 1 on vehicle 0: 0 m and 2 units over, 2 x 5 = 10
    (15.0, frozenset(), (20.0, (1, 1), 0)),  # 2 x 15 = 30 there: alone on vehicle 1, out and back 20
    (15.0, frozenset({(1, 1)}), (30.0, (0, 1), 0)),  # vehicle 1 left out: vehicle 0 at its price
    (15.0, frozenset({(0, 1), (1, 1)}), None),  # no route left
])
def test_best_insert_prices_every_position_of_the_day(price, exclude, best):
    # The module's line: 0 (demand 6) inserted on day 1, where 1 (demand 6) rides vehicle 0 and
    # vehicle 1 is empty; capacity 10. Ties go to the first route, then the first position.
    plan = _Plan({(0, 0): [0], (0, 1): [1], (1, 1): []}, _fleet(2), DIST, DUR, SERVICE, DEMAND,
                 load_price=price, time_price=0.0)
    plan.remove(0, 0)
    got = plan.best_insert(0, 1, exclude=exclude)
    assert got == (None if best is None else (pytest.approx(best[0]), best[1], best[2]))


def test_best_insert_sees_the_routes_as_they_are_now():
    # As above at a price of 15: vehicle 1 (20) until 1 leaves vehicle 0; then both routes are
    # empty, both cost 20, and the first (vehicle 0) wins. With 0 inserted there, 1 costs 30 on
    # vehicle 0 (2 units over) and 20 on vehicle 1.
    plan = _Plan({(0, 0): [0], (0, 1): [1], (1, 1): []}, _fleet(2), DIST, DUR, SERVICE, DEMAND,
                 load_price=15.0, time_price=0.0)
    plan.remove(0, 0)
    assert plan.best_insert(0, 1) == (pytest.approx(20.0), (1, 1), 0)
    plan.remove(1, 1)
    assert plan.best_insert(0, 1) == (pytest.approx(20.0), (0, 1), 0)
    plan.insert(0, (0, 1), 0)
    assert plan.best_insert(1, 1) == (pytest.approx(20.0), (1, 1), 0)
    plan.load_price = 1.0  # prices are read at each call: 2 x 1 = 2 beside 0
    assert plan.best_insert(1, 1) == (pytest.approx(2.0), (0, 1), 0)
