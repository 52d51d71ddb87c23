"""Visit-day patterns around absences, fixed appointments and a re-plan's fixed past, by hand."""
from __future__ import annotations

import datetime as dt

from planner.domain import Frequency
from planner.scheduling.patterns import Pattern, candidate_patterns, flexible_patterns

MON = dt.date(2026, 11, 30)
WEEKDAYS = frozenset(range(5))


def weekdays(weeks: int, minus=()) -> list[int]:
    return [d for d in range(7 * weeks) if d % 7 < 5 and d not in minus]


def test_without_restrictions_the_regular_patterns_come_back():
    got = flexible_patterns(Frequency(2, 1), MON, 2, WEEKDAYS, weekdays(2))
    want = candidate_patterns(Frequency(2, 1), MON, 2, WEEKDAYS)
    assert {p.days for p in want} <= {p.days for p in got}
    best = min(want, key=lambda p: p.penalty)
    assert got[0].penalty == best.penalty == 0.5  # Mon+Thu: gaps 3 and 4, ideal 3.5


def test_an_absent_day_is_replaced_by_the_nearest_day_of_its_week():
    # 1/week on Mondays; Monday of week 2 (day 7) lost: Tuesday (day 8) is nearest, one change
    # (0.25); the regular Tuesday pattern needs no change at all
    got = flexible_patterns(Frequency(1, 1), MON, 2, WEEKDAYS, weekdays(2, minus={7}), previous=[0, 7])
    assert got[0] == Pattern((1, 8), 0.0)
    assert Pattern((0, 8), 0.25) in got
    assert all(7 not in p.days for p in got)
    assert all(len([d for d in p.days if d < 7]) == 1 and len([d for d in p.days if d >= 7]) == 1 for p in got)


def test_history_counts_and_the_ideal_gap_is_preferred():
    # fortnightly, visited on day 1 (Tue); re-plan from day 3: nothing more in block 0 ([0, 14)),
    # one visit in block 1 ([14, 28)); day 15 is exactly 14 days later (penalty 0), day 14 is 13
    # days later (|13 - 14| / 14 = 0.071)
    got = flexible_patterns(Frequency(1, 2), MON, 4, WEEKDAYS, weekdays(4), history=[1], first_day=3)
    assert got[0] == Pattern((15,), 0.0)
    assert Pattern((14,), 0.071) in got
    assert all(len(p.days) == 1 and 14 <= p.days[0] < 28 and p.days[0] - 1 >= 10 for p in got)


def test_a_required_day_is_in_every_pattern():
    got = flexible_patterns(Frequency(1, 1), MON, 2, WEEKDAYS, weekdays(2), required=[3], previous=[0, 7])
    assert got and all(3 in p.days for p in got)
    assert got[0] == Pattern((3, 7), 0.0)  # Thursday fixed, the second week's Monday kept


def test_spacing_is_kept_across_the_fixed_past():
    # 2/week, visited Tuesday (day 1); from Wednesday (day 2): the week's second visit cannot be
    # on Wednesday (consecutive days), so Thursday or Friday
    got = flexible_patterns(Frequency(2, 1), MON, 1, WEEKDAYS, weekdays(1), history=[1], first_day=2)
    assert {p.days for p in got} == {(3,), (4,)}


def test_a_week_with_too_few_days_gets_what_fits_and_lists_the_rest_short():
    # 2/week but only Monday and Tuesday (days 7, 8) left in week 2: never on consecutive days,
    # so week 2 gets one visit; the second is short (reported from the week's first day, 7)
    got = flexible_patterns(Frequency(2, 1), MON, 2, WEEKDAYS, weekdays(2, minus={9, 10, 11}))
    assert got and all(p.short == (7,) and p.penalty >= 1000 for p in got)
    assert all(len([d for d in p.days if d < 7]) == 2 and len([d for d in p.days if d >= 7]) == 1 for p in got)
    assert flexible_patterns(Frequency(2, 1), MON, 2, WEEKDAYS, weekdays(2, minus={10}))[0].short == ()


def test_impossible_when_a_required_day_is_missing():
    assert flexible_patterns(Frequency(1, 1), MON, 1, WEEKDAYS, weekdays(1, minus={2}), required=[2]) == []


def test_a_missed_visit_in_a_block_cut_by_the_horizon_is_still_owed():
    # a one-week plan of a fortnightly customer due on Monday (day 0); re-planned from Tuesday.
    # Made (history [0]): nothing more this week. Missed (no history): owed, Tuesday is nearest.
    made = flexible_patterns(Frequency(1, 2), MON, 1, WEEKDAYS, weekdays(1), history=[0], first_day=1,
                             previous=[0])
    assert [p.days for p in made] == [()]
    owed = flexible_patterns(Frequency(1, 2), MON, 1, WEEKDAYS, weekdays(1), first_day=1, previous=[0])
    assert owed[0].days == (1,) and all(len(p.days) == 1 and p.days[0] >= 1 for p in owed)
