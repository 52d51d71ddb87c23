"""The evaluator's re-plan rules by hand: absences, fixed appointments, the frozen past, and
frequency/spacing/ownership counted across the re-plan date."""
from __future__ import annotations

import dataclasses

from planner.domain import Frequency, Lock, Region, TimeWindow
from planner.evaluation.evaluator import evaluate

from .helpers import TRAVEL, cust, day, plan, rep, route, stop, unassigned


def region(**kw) -> Region:
    return Region(customers=(cust("C1", 1, **kw), cust("C2", 2)), reps=(rep("R1"), rep("R2")))


def weekly(reg: Region, d: int, rid: str = "R1", start: str = "09:00", cid: str = "C1"):
    end = f"{int(start[:2]):02d}:{int(start[3:]) + 45:02d}" if int(start[3:]) < 15 else None
    return route(reg, rid, day(d), [stop(cid, day(d), start, end or "10:45")])


def check(reg, p, **kw) -> set[str]:
    return {v.rule for v in evaluate(reg, p, TRAVEL, **kw).violations}


def test_a_visit_on_an_absent_day_is_a_violation():
    reg = region()
    p = plan([weekly(reg, 0), weekly(reg, 1, cid="C2")])
    assert check(reg, p) == set()
    assert check(reg, p, absences={"R1": {day(1)}}) == {"absence"}
    assert check(reg, p, absences={"R2": {day(1)}}) == set()


def test_a_lock_is_kept_on_its_day_rep_and_time_or_reported():
    reg = region()
    p = plan([weekly(reg, 0), weekly(reg, 1, cid="C2")])
    assert check(reg, p, locks=[Lock("C1", day(0), "R1", at=9 * 60)]) == set()
    assert check(reg, p, locks=[Lock("C1", day(0), "R1", window=TimeWindow(8 * 60 + 30, 9 * 60))]) == set()
    assert check(reg, p, locks=[Lock("C1", day(0), "R1", at=10 * 60)]) == {"lock"}   # starts 09:00
    assert check(reg, p, locks=[Lock("C1", day(0), "R2")]) == {"lock"}               # made by R1
    assert check(reg, p, locks=[Lock("C1", day(2))]) == {"lock"}                     # not that day
    reported = dataclasses.replace(p, unassigned=(unassigned("C1", day(2), "lock_infeasible", "spacing"),))
    assert check(reg, reported, locks=[Lock("C1", day(2))]) == set()


def test_the_frozen_past_must_be_copied_unchanged():
    reg = region()
    old = plan([weekly(reg, 0), weekly(reg, 1, cid="C2")])
    same = plan([weekly(reg, 0), weekly(reg, 2, cid="C2")])
    kw = dict(frozen_before=day(1), previous=old)
    assert check(reg, same, **kw) == set()                                  # only day 1 onwards changed
    moved = plan([weekly(reg, 0, start="09:10"), weekly(reg, 2, cid="C2")])  # day 0 retimed
    assert check(reg, moved, **kw) == {"frozen"}


def test_frozen_visits_count_for_frequency_and_spacing_but_are_not_rechecked():
    # C1 regraded from 1/week to 2/week after a Monday visit; re-plan from Tuesday: one more
    # visit in week 1 is due, and Tuesday itself would be consecutive to Monday
    reg = Region(customers=(cust("C1", 1, frequency=Frequency(2, 1)), cust("C2", 2, active=False)), reps=(rep("R1"),))
    old = plan([weekly(reg, 0)])
    ok = plan([weekly(reg, 0), weekly(reg, 3)])
    kw = dict(frozen_before=day(1), previous=old)
    assert check(reg, ok, **kw) == set()
    assert check(reg, plan([weekly(reg, 0), weekly(reg, 1)]), **kw) == {"spacing"}
    assert check(reg, plan([weekly(reg, 0)]), **kw) == {"frequency"}
    # the other way round: regraded 2/week -> 1/week after Monday and Thursday were made:
    # the frozen surplus is not the re-plan's fault, a new visit that week would be
    reg1 = Region(customers=(cust("C1", 1, frequency=Frequency(1, 1)), cust("C2", 2, active=False)),
                  reps=(rep("R1"),))
    both = plan([weekly(reg1, 0), weekly(reg1, 3)])
    assert check(reg1, both, frozen_before=day(4), previous=both) == set()
    assert check(reg1, plan([weekly(reg1, 0), weekly(reg1, 3)]), frozen_before=day(3),
                 previous=plan([weekly(reg1, 0)])) == {"frequency"}


def test_a_frozen_visit_of_a_customer_closed_since_is_history_not_a_violation():
    reg = Region(customers=(cust("C1", 1, active=False), cust("C2", 2)), reps=(rep("R1"),))
    old = plan([weekly(reg, 0), weekly(reg, 2, cid="C2")])
    assert check(reg, old, frozen_before=day(1), previous=old) == set()
    assert check(reg, old) == {"inactive"}


def test_a_customer_keeps_its_rep_across_the_replan_date_unless_the_facts_require_a_change():
    reg = region()
    before, after = weekly(reg, 0), weekly(reg, 7, rid="R2")
    p = plan([before, weekly(reg, 1, cid="C2"), weekly(reg, 8, "R1", cid="C2"), after], weeks=2)
    kw = dict(frozen_before=day(3), previous=plan([before, weekly(reg, 1, cid="C2")], weeks=2))
    assert check(reg, p, **kw) == {"ownership"}
    assert check(reg, p, locks=[Lock("C1", day(7), "R2", at=9 * 60)], **kw) == set()       # appointment names R2
    pinned = Region(customers=(cust("C1", 1, rep_id="R2"), cust("C2", 2)), reps=reg.reps)
    assert check(pinned, p, **kw) == set()                                                  # now pinned to R2
    gone = Region(customers=reg.customers, reps=(rep("R2"),))
    p_gone = plan([before, after, weekly(reg, 1, "R2", cid="C2"), weekly(reg, 8, "R2", cid="C2")], weeks=2)
    kw_gone = dict(frozen_before=day(3), previous=plan([before, weekly(reg, 1, "R2", cid="C2")], weeks=2))
    assert check(gone, p_gone, **kw_gone) == set()                                          # R1 left
