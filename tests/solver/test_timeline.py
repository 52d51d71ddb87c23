"""schedule_day by hand on a two-location matrix: home (0) and a customer (1), 30 min apart.

All times are seconds after midnight; h(9) = 09:00.
"""
from __future__ import annotations

import numpy as np

from planner.solver.timeline import DaySpec, VisitSpec, schedule_day


def h(hours: float) -> int:
    return int(round(hours * 3600))


DUR = np.array([[0, 1800], [1800, 0]])           # 30 min each way; 0 between two visits at loc 1
DAY = DaySpec(0, 0, h(8.5), h(17.5))             # 08:30-17:30, no lunch
LUNCH_DAY = DaySpec(0, 0, h(8.5), h(17.5), lunch_duration=3600,
                    lunch_earliest=h(11.5), lunch_latest_end=h(13.5))


def visit(service: int, *windows: tuple[int, int]) -> VisitSpec:
    return VisitSpec(1, service, tuple(windows) or ((h(8.5), h(17.5) - service),))


def test_earliest_start_straight_from_work_start():
    tl = schedule_day([visit(3600)], DAY, DUR)
    # leave 08:30, drive 30 min -> 09:00, visit to 10:00, drive back -> 10:30
    assert (tl.depart, tl.arrivals, tl.starts, tl.back, tl.lunch_start) == (
        h(8.5), (h(9),), (h(9),), h(10.5), None)


def test_departure_is_delayed_to_arrive_when_the_window_opens():
    tl = schedule_day([visit(3600, (h(10), h(11)))], DAY, DUR)
    # first pass: arrive 09:00, wait until 10:00, back 11:30; then leave at 10:00 - 30 min = 09:30
    assert (tl.depart, tl.arrivals, tl.starts, tl.back) == (h(9.5), (h(10),), (h(10),), h(11.5))


def test_waiting_for_the_second_window_when_the_first_is_missed():
    a = visit(3600)                                          # whole day
    b = visit(1800, (h(9), h(9.5)), (h(14), h(17)))           # may start 09:00-09:30 or 14:00-17:00
    tl = schedule_day([a, b], DAY, DUR)
    # a: 09:00-10:00; b ready at 10:00 > 09:30 -> second window, starts 14:00, ends 14:30, home 15:00
    assert tl.starts == (h(9), h(14))
    assert tl.arrivals == (h(9), h(10))                       # arrival before the start: waiting
    assert tl.back == h(15)


def test_no_window_left_means_infeasible():
    assert schedule_day([visit(3600), visit(1800, (h(9), h(9.5)))], DAY, DUR) is None


def test_lunch_goes_in_the_leg_that_delays_least():
    a = visit(2 * 3600)                                       # two hours
    b = visit(1800, (h(14), h(16)))                           # from 14:00
    tl = schedule_day([a, b], LUNCH_DAY, DUR)
    # lunch before a: a 12:30-14:30, b 14:30-15:00, home 15:30
    # lunch between a and b: a 09:00-11:00, lunch 11:30-12:30, b 14:00-14:30, home 15:00  <- best
    # lunch after b: b ends 14:30 > 13:30 - 60 min -> impossible
    assert tl.lunch_start == h(11.5)
    assert tl.starts == (h(9), h(14))
    assert tl.back == h(15)


def test_lunch_pushed_after_a_visit_that_covers_the_start_of_the_lunch_window():
    v = visit(90 * 60, (h(11), h(11)))                        # must run 11:00-12:30
    tl = schedule_day([v], LUNCH_DAY, DUR)
    # lunch before: ready 12:30 > 11:00 -> impossible.
    # after: home at 13:00, 13:00 + 60 > 13:30 -> lunch right after the visit 12:30-13:30,
    # then drive home 13:30 -> 14:00. Departure delayed to 11:00 - 30 min = 10:30.
    assert (tl.depart, tl.starts, tl.lunch_start, tl.back) == (h(10.5), (h(11),), h(12.5), h(14))


def test_a_visit_spanning_the_whole_lunch_window_is_infeasible():
    v = visit(3 * 3600, (h(11), h(11)))                        # 11:00-14:00 covers 11:30-13:30
    assert schedule_day([v], LUNCH_DAY, DUR) is None
    assert schedule_day([v], DAY, DUR) is not None              # fine without lunch


def test_return_after_work_end_is_infeasible():
    late = visit(45 * 60, (h(16.5), h(16.5)))                  # 16:30-17:15, home 17:45 > 17:30
    assert schedule_day([late], DAY, DUR) is None
    ok = visit(45 * 60, (h(16.25), h(16.25)))                  # 16:15-17:00, home 17:30 exactly
    assert schedule_day([ok], DAY, DUR).back == h(17.5)


def test_max_visits_caps_the_day():
    capped = DaySpec(0, 0, h(8.5), h(17.5), max_visits=1)
    assert schedule_day([visit(600)], capped, DUR) is not None
    assert schedule_day([visit(600), visit(600)], capped, DUR) is None


def test_empty_day():
    tl = schedule_day([], DAY, DUR)
    assert (tl.depart, tl.back, tl.starts) == (h(8.5), h(8.5), ())
