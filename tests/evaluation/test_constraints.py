"""Each rule of the evaluator broken on its own, in a tiny hand-made plan.

Coordinates on the equator (see helpers): customer at ``lon_hundredths`` k lies k x 1.445536
road km and k x 173.464 s from home at (0, 0). Plans start on Monday 2026-11-30.
"""
from __future__ import annotations

import dataclasses

import pytest

from planner.domain import Region, parse_windows
from planner.evaluation.evaluator import evaluate

from .helpers import (MON, TRAVEL, at, cust, day, plan, rep, route, rules, stop, unassigned)


# ------------------------------------------------------------------ a fully valid plan, by hand
def valid_region() -> Region:
    return Region(customers=(cust("C1", 1), cust("C2", 2)),
                  reps=(rep("R1", lunch=True, cost_per_km=2.0, cost_per_hour=30.0),))


def valid_route():
    from planner.domain import Route
    d = MON
    # home -> C1 -> C2 -> home = 0.01 + 0.01 + 0.02 degrees = 4 x 1.445536 = 5.782144 km
    # work 08:30 -> 13:40 = 5 h 10 min = 5.16667 h
    # cost = 5.782144 x 2.0 + 5.16667 x 30 = 11.564 + 155.000 = 166.56
    return Route("R1", d, (stop("C1", d, "09:00", "09:45"), stop("C2", d, "12:40", "13:25")),
                 at(d, "08:30"), at(d, "13:40"), lunch_start=at(d, "11:30"),
                 distance_km=5.782, drive_minutes=11.56, cost=166.56)


def test_valid_plan_has_no_violation_and_hand_kpis():
    ev = evaluate(valid_region(), plan([valid_route()]), TRAVEL)
    assert ev.violations == ()
    assert ev.ok
    assert ev.recomputed_km == pytest.approx(5.782, abs=1e-3)     # 4 x 1.445536
    assert ev.kpis["visits"] == 2
    assert ev.kpis["required_visits"] == 2                         # two 1/week customers, one week
    assert ev.kpis["distance_km"] == 5.78
    assert ev.kpis["cost"] == 166.56                               # 5.782 x 2 + 5.1667 h x 30
    assert ev.kpis["work_hours"] == pytest.approx(5.17, abs=1e-2)  # 08:30 -> 13:40
    assert ev.kpis["compliance"] == 1.0
    assert ev.reps["R1"]["days"] == 1 and ev.reps["R1"]["visits"] == 2


def test_kpi_distance_mismatch():
    r = dataclasses.replace(valid_route(), distance_km=7.0)       # recomputed 5.782
    assert rules(valid_region(), plan([r])) == {"kpi_distance"}


def test_kpi_cost_mismatch():
    r = dataclasses.replace(valid_route(), cost=150.0)            # recomputed 166.56
    assert rules(valid_region(), plan([r])) == {"kpi_cost"}


# ------------------------------------------------------------------ frequency
def a_region(**kw) -> Region:
    return Region(customers=(cust("A1", 1, "A", **kw),), reps=(rep(),))


def test_frequency_two_a_week_with_one_visit_and_nothing_reported():
    reg = a_region()
    p = plan([route(reg, "R1", MON, [stop("A1", MON, "09:00", "10:00")])])
    assert rules(reg, p) == {"frequency"}


def test_frequency_missing_visit_reported_with_a_reason_is_fine():
    reg = a_region()
    p = plan([route(reg, "R1", MON, [stop("A1", MON, "09:00", "10:00")])],
             unassigned=[unassigned("A1", day(3))])
    assert rules(reg, p) == set()


def test_unplanned_visit_without_reason():
    reg = a_region()
    p = plan([route(reg, "R1", MON, [stop("A1", MON, "09:00", "10:00")])],
             unassigned=[unassigned("A1", day(3), code="capacity_exceeded", reason="")])
    assert rules(reg, p) == {"unplanned_reason"}


def test_frequency_too_many_visits():
    reg = Region(customers=(cust("B1", 1),), reps=(rep(),))       # 1/week, seen twice
    p = plan([route(reg, "R1", day(d), [stop("B1", day(d), "09:00", "09:45")]) for d in (0, 3)])
    assert rules(reg, p) == {"frequency"}


def test_inactive_customer_planned():
    reg = Region(customers=(cust("B1", 1, active=False),), reps=(rep(),))
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "09:00", "09:45")])])
    assert rules(reg, p) == {"inactive"}


# ------------------------------------------------------------------ spacing
def test_spacing_two_a_week_on_consecutive_days():
    reg = a_region()
    p = plan([route(reg, "R1", day(d), [stop("A1", day(d), "09:00", "10:00")]) for d in (0, 1)])
    assert rules(reg, p) == {"spacing"}                          # Mon + Tue: gap 1 < 2


def test_spacing_two_a_week_mon_wed_is_fine():
    reg = a_region()
    p = plan([route(reg, "R1", day(d), [stop("A1", day(d), "09:00", "10:00")]) for d in (0, 2)])
    assert rules(reg, p) == set()


def test_spacing_fortnightly_seven_days_apart():
    reg = Region(customers=(cust("C1", 1, "C"),), reps=(rep(),))
    # 4 weeks: Thu of week 2 (day 10, block 0) and Thu of week 3 (day 17, block 1): one visit per
    # fortnight, but only 7 days apart (< 10)
    p = plan([route(reg, "R1", day(d), [stop("C1", day(d), "09:00", "09:30")]) for d in (10, 17)], weeks=4)
    assert rules(reg, p) == {"spacing"}


def test_spacing_fortnightly_fourteen_days_apart_is_fine():
    reg = Region(customers=(cust("C1", 1, "C"),), reps=(rep(),))
    p = plan([route(reg, "R1", day(d), [stop("C1", day(d), "09:00", "09:30")]) for d in (3, 17)], weeks=4)
    assert rules(reg, p) == set()


# ------------------------------------------------------------------ ownership, pins, days
def test_ownership_two_reps_for_one_customer():
    reg = Region(customers=(cust("B1", 1),), reps=(rep("R1"), rep("R2")))
    p = plan([route(reg, "R1", day(0), [stop("B1", day(0), "09:00", "09:45")]),
              route(reg, "R2", day(7), [stop("B1", day(7), "09:00", "09:45")])], weeks=2)
    assert rules(reg, p) == {"ownership"}


def test_pin_broken():
    reg = Region(customers=(cust("B1", 1, rep_id="R2"),), reps=(rep("R1"), rep("R2")))
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "09:00", "09:45")])])
    assert rules(reg, p) == {"pin"}


def test_workday_saturday():
    reg = Region(customers=(cust("B1", 1),), reps=(rep(),))
    sat = day(5)
    p = plan([route(reg, "R1", sat, [stop("B1", sat, "09:00", "09:45")])])
    assert rules(reg, p) == {"workday"}


def test_saturday_is_fine_for_a_rep_who_works_it():
    reg = Region(customers=(cust("B1", 1),), reps=(rep(workdays=frozenset({5})),))
    sat = day(5)
    assert rules(reg, plan([route(reg, "R1", sat, [stop("B1", sat, "09:00", "09:45")])])) == set()


def test_two_routes_on_one_day():
    reg = Region(customers=(cust("B1", 1), cust("B2", 2)), reps=(rep(),))
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "09:00", "09:45")]),
              route(reg, "R1", MON, [stop("B2", MON, "11:00", "11:45")], depart="10:30")])
    assert rules(reg, p) == {"one_route_a_day"}


def test_route_outside_the_horizon():
    reg = Region(customers=(cust("B1", 1),), reps=(rep(),))
    nxt = day(7)                                                  # Monday of week 2, plan is 1 week
    p = plan([route(reg, "R1", nxt, [stop("B1", nxt, "09:00", "09:45")])],
             unassigned=[unassigned("B1", MON)])
    assert rules(reg, p) == {"horizon"}


# ------------------------------------------------------------------ visits and times
def test_visit_cap():
    reg = Region(customers=(cust("B1", 1), cust("B2", 2)), reps=(rep(max_visits_per_day=1),))
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "09:00", "09:45"), stop("B2", MON, "10:00", "10:45")])])
    assert rules(reg, p) == {"visit_cap"}


def test_visit_length_too_short():
    reg = Region(customers=(cust("B1", 1),), reps=(rep(),))
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "09:00", "09:30")])])   # 30 < 45 min
    assert rules(reg, p) == {"visit_length"}


def test_visit_length_override_is_used():
    reg = Region(customers=(cust("B1", 1, visit_minutes=30),), reps=(rep(),))
    assert rules(reg, plan([route(reg, "R1", MON, [stop("B1", MON, "09:00", "09:30")])])) == set()


def test_opening_hours_visit_across_the_lunch_closure():
    reg = Region(customers=(cust("B1", 1, opening=parse_windows("09:00-12:00,14:00-18:00")),), reps=(rep(),))
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "11:30", "12:15")])])  # ends after 12:00
    assert rules(reg, p) == {"opening_hours"}
    ok = plan([route(reg, "R1", MON, [stop("B1", MON, "11:15", "12:00")])])  # ends exactly at 12:00
    assert rules(reg, ok) == set()


def test_working_hours_visit_after_the_end_of_the_day():
    reg = Region(customers=(cust("B1", 1),), reps=(rep(),))            # 08:30-17:30
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "17:00", "17:45")], depart="16:50", back="17:50")])
    assert rules(reg, p) == {"working_hours"}


def test_working_hours_leaving_before_work_starts():
    reg = Region(customers=(cust("B1", 1),), reps=(rep(),))
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "09:00", "09:45")], depart="08:00")])
    assert rules(reg, p) == {"working_hours"}


def test_visit_starting_before_arrival():
    reg = Region(customers=(cust("B1", 1),), reps=(rep(),))
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "09:00", "09:45", arrival="09:10")])])
    assert rules(reg, p) == {"arrival"}


@pytest.mark.parametrize("reached, broken", [("08:32:52", True), ("08:32:53", False)])
def test_travel_time_boundary(reached, broken):
    # home -> B1: 0.01 deg = 1.111951 km x 1.3 = 1.445536 km at 30 km/h = 173.464 s = 2 min 53.464 s.
    # leaving 08:30:00 the visit can start at 08:32:53.464; the check allows 1 s -> 08:32:52.464.
    reg = Region(customers=(cust("B1", 1, visit_minutes=30),), reps=(rep(),))
    d = MON
    s = stop("B1", d, reached, "09:02:53" if not broken else "09:02:52")
    p = plan([route(reg, "R1", d, [s], depart="08:30", back="10:00")])
    assert rules(reg, p) == ({"travel_time"} if broken else set())


def test_travel_time_back_home_too_early():
    reg = Region(customers=(cust("B1", 2),), reps=(rep(),))           # 2 x 173.464 = 346.9 s back
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "09:00", "09:45")], back="09:50")])
    assert rules(reg, p) == {"travel_time"}


def test_stops_out_of_time_order():
    reg = Region(customers=(cust("B1", 1), cust("B2", 2)), reps=(rep(),))
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "11:00", "11:45"), stop("B2", MON, "09:00", "09:45")],
                    back="12:00")])
    assert rules(reg, p) == {"travel_time"}


# ------------------------------------------------------------------ lunch
def lunch_region() -> Region:
    return Region(customers=(cust("B1", 1),), reps=(rep(lunch=True),))


def test_lunch_missing():
    reg = lunch_region()
    assert rules(reg, plan([route(reg, "R1", MON, [stop("B1", MON, "09:00", "09:45")])])) == {"lunch"}


def test_lunch_after_the_last_visit_is_fine():
    reg = lunch_region()
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "09:00", "09:45")], back="12:30", lunch="11:30")])
    assert rules(reg, p) == set()


def test_lunch_outside_its_window():
    reg = lunch_region()
    # 13:00-14:00 ends after 13:30
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "09:00", "09:45")], back="14:00", lunch="13:00")])
    assert rules(reg, p) == {"lunch"}


def test_lunch_overlapping_a_visit():
    reg = lunch_region()
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "11:00", "11:45")], back="12:00", lunch="11:30")])
    assert rules(reg, p) == {"lunch"}


def test_lunch_not_needed_when_its_window_is_outside_the_working_day():
    reg = Region(customers=(cust("B1", 1),), reps=(rep(lunch=True, work_start=13 * 60, work_end=18 * 60),))
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "14:00", "14:45")], depart="13:30")])
    assert rules(reg, p) == set()


def test_lunch_taken_between_stops_counts_in_the_travel_time():
    reg = Region(customers=(cust("B1", 1), cust("B2", 2)), reps=(rep(lunch=True),))
    # B1 ends 11:30, lunch 11:30-12:30, then 173.464 s to B2: earliest 12:32:53.5.
    # B2 at 12:33 is fine; at 12:32 (53 s short, beyond the 1 s tolerance) travel_time
    ok = route(reg, "R1", MON, [stop("B1", MON, "10:45", "11:30"), stop("B2", MON, "12:33", "13:18")],
               back="13:30", lunch="11:30")
    bad = route(reg, "R1", MON, [stop("B1", MON, "10:45", "11:30"), stop("B2", MON, "12:32", "13:17")],
                back="13:30", lunch="11:30")
    assert rules(reg, plan([ok])) == set()
    assert rules(reg, plan([bad])) == {"travel_time"}


def test_unknown_ids():
    reg = Region(customers=(cust("B1", 1),), reps=(rep(),))
    p = plan([route(reg, "R1", MON, [stop("B1", MON, "09:00", "09:45")])],
             unassigned=[unassigned("ZZ", MON)])
    assert rules(reg, p) == {"known_ids"}
