"""candidate_patterns, by hand: which visit-day patterns each frequency allows.

Rule of the code (patterns.py): for N/week, every N-subset of the week's workday offsets whose
gaps going round the week (last -> first + 7) are all >= 2; penalty = sum(|gap - 7/N|) / 2.
For 1/Mweeks: one offset in the first block, repeated every 7·M days.
"""
from __future__ import annotations

import datetime as dt


from planner.domain import Frequency
from planner.scheduling.patterns import (Pattern, candidate_patterns, continue_from, due_phase,
                                         min_gap_days, required_visits)

MON = dt.date(2026, 11, 30)  # a Monday
WED = dt.date(2026, 12, 2)
MON_FRI = frozenset(range(5))


def weekdays(start: dt.date, days: tuple[int, ...]) -> tuple[int, ...]:
    return tuple((start + dt.timedelta(days=d)).weekday() for d in days)


def test_two_a_week_mon_fri_two_weeks_gives_the_six_spread_pairs_with_hand_penalties():
    pats = candidate_patterns(Frequency(2), MON, 2, MON_FRI)
    got = {p.days: p.penalty for p in pats}
    # ideal gap 7/2 = 3.5. Pairs (a, b): gaps (b - a, a + 7 - b):
    #   Mon+Wed (0,2): 2,5 -> (1.5 + 1.5)/2 = 1.5     Mon+Thu (0,3): 3,4 -> (0.5 + 0.5)/2 = 0.5
    #   Mon+Fri (0,4): 4,3 -> 0.5                    Tue+Thu (1,3): 2,5 -> 1.5
    #   Tue+Fri (1,4): 3,4 -> 0.5                    Wed+Fri (2,4): 2,5 -> 1.5
    # excluded: Mon+Tue, Tue+Wed, Wed+Thu, Thu+Fri (gap 1). Second week = +7.
    assert got == {
        (0, 2, 7, 9): 1.5, (0, 3, 7, 10): 0.5, (0, 4, 7, 11): 0.5,
        (1, 3, 8, 10): 1.5, (1, 4, 8, 11): 0.5, (2, 4, 9, 11): 1.5,
    }


def test_one_a_week_is_the_same_weekday_every_week():
    pats = candidate_patterns(Frequency(1), MON, 2, MON_FRI)
    # 5 workdays -> 5 patterns (d, d + 7), no penalty for 1/week
    assert [p.days for p in pats] == [(0, 7), (1, 8), (2, 9), (3, 10), (4, 11)]
    assert all(p.penalty == 0 for p in pats)


def test_fortnightly_over_four_weeks_is_ten_patterns_fourteen_days_apart():
    pats = candidate_patterns(Frequency(1, 2), MON, 4, MON_FRI)
    # first block = days 0..13, workdays 0-4 and 7-11 -> 10 offsets o, pattern (o, o + 14)
    assert [p.days for p in pats] == [(o, o + 14) for o in (0, 1, 2, 3, 4, 7, 8, 9, 10, 11)]


def test_every_four_weeks_over_four_weeks_is_one_visit_on_any_workday():
    pats = candidate_patterns(Frequency(1, 4), MON, 4, MON_FRI)
    # 4 weeks x 5 workdays = 20 single-day patterns
    assert [p.days for p in pats] == [(w * 7 + d,) for w in range(4) for d in range(5)]


def test_three_a_week_on_mon_fri_is_only_mon_wed_fri():
    pats = candidate_patterns(Frequency(3), MON, 1, MON_FRI)
    # gaps of (0,2,4): 2, 2, 3 (Fri -> Mon); ideal 7/3 = 2.333:
    # (0.333 + 0.333 + 0.667) / 2 = 0.667
    assert pats == [Pattern((0, 2, 4), 0.667)]


def test_start_on_a_wednesday_gives_the_same_weekday_pairs():
    pats = candidate_patterns(Frequency(2), WED, 1, MON_FRI)
    # offsets 0=Wed 1=Thu 2=Fri 5=Mon 6=Tue; Wed+Tue (0,6) wraps with gap 1 -> excluded
    pairs = {tuple(sorted(weekdays(WED, p.days))) for p in pats}
    assert pairs == {(0, 2), (0, 3), (0, 4), (1, 3), (1, 4), (2, 4)}
    assert {p.days: p.penalty for p in pats}[(1, 5)] == 0.5   # Thu+Mon: gaps 4, 3


def test_two_a_week_on_mon_wed_workdays_is_only_mon_wed():
    pats = candidate_patterns(Frequency(2), MON, 1, frozenset({0, 1, 2}))
    assert pats == [Pattern((0, 2), 1.5)]   # gaps 2, 5 -> (1.5 + 1.5) / 2


def test_four_a_week_on_five_workdays_is_impossible():
    # any 4 of 5 consecutive weekdays has two neighbours
    assert candidate_patterns(Frequency(4), MON, 2, MON_FRI) == []


def test_fortnightly_in_one_week_plans_follows_a_stable_phase():
    f = Frequency(1, 2)
    for cid in ("C1", "C2", "X-17", "客户3"):
        due = []
        for k in range(6):
            start = MON + dt.timedelta(weeks=k)
            pats = candidate_patterns(f, start, 1, MON_FRI, cid)
            is_due = any(p.days for p in pats)
            # not due: the only pattern is the empty one; due: one pattern per workday
            assert [p.days for p in pats] == ([(d,) for d in range(5)] if is_due else [()])
            assert is_due == (due_phase(cid, start, 2) == 0)
            due.append(is_due)
        # due in week k -> not in k + 1, again in k + 2
        assert due[0::2] == [due[0]] * 3 and due[1::2] == [not due[0]] * 3, (cid, due)


def test_every_four_weeks_in_one_week_plans_is_due_once_in_four_consecutive_weeks():
    for cid in ("C1", "D9", "abc"):
        due = [any(p.days for p in candidate_patterns(Frequency(1, 4), MON + dt.timedelta(weeks=k), 1,
                                                       MON_FRI, cid)) for k in range(8)]
        assert sum(due[:4]) == 1 and due[:4] == due[4:], (cid, due)


def test_required_visits_and_min_gaps():
    assert required_visits(Frequency(2), 2) == 4
    assert required_visits(Frequency(1, 2), 4) == 2
    assert required_visits(Frequency(1, 2), 1) == 1      # partial block: upper bound
    assert required_visits(Frequency(1, 4), 2) == 1
    assert (min_gap_days(Frequency(2)), min_gap_days(Frequency(1)), min_gap_days(Frequency(1, 2))) == (2, 1, 10)


def test_continue_from_drops_patterns_too_close_to_the_last_visit():
    pats = candidate_patterns(Frequency(1, 2), MON, 2, MON_FRI)
    # last visit 4 days before the start: 1/2weeks needs >= 10 days, ideal 14
    kept = continue_from(pats, Frequency(1, 2), -4)
    # offsets o with o + 4 >= 10 -> o in 7..11 ; penalty |o + 4 - 14| / 14
    assert [(p.days, p.penalty) for p in kept] == [
        ((7,), round(3 / 14, 3)), ((8,), round(2 / 14, 3)), ((9,), round(1 / 14, 3)),
        ((10,), 0.0), ((11,), round(1 / 14, 3))]


def test_patterns_are_memoised_but_each_caller_gets_its_own_list():
    f = Frequency(2, 1)
    first = candidate_patterns(f, MON, 2, MON_FRI, "C1")
    first.clear()  # a caller changing its list must not change what the next caller gets
    again = candidate_patterns(f, MON, 2, MON_FRI, "C2")  # (the customer does not matter for 2/week)
    # the six spread pairs of the test above, in the order of the combinations
    assert [p.days for p in again] == [(0, 2, 7, 9), (0, 3, 7, 10), (0, 4, 7, 11), (1, 3, 8, 10), (1, 4, 8, 11),
                                       (2, 4, 9, 11)]
    assert again == candidate_patterns(f, MON, 2, MON_FRI, "C1")
