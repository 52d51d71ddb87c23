"""Plans around rep absences: visits avoid the lost days; what cannot fit is reported."""
from __future__ import annotations

from planner.domain import REASON_REP_ABSENT, Frequency, Region
from planner.pipeline import plan_region
from tests.evaluation.helpers import MON, TRAVEL, cust, day, rep


def test_a_week_mostly_away_keeps_what_fits_and_reports_the_rest():
    # R1 away Monday to Wednesday of week 1: the 2/week customer can only be seen once that
    # week (Thursday and Friday are consecutive); week 2 is normal. The weekly one is seen on
    # Thursday or Friday of week 1.
    region = Region(customers=(cust("C1", 1, frequency=Frequency(2, 1)), cust("C2", 2)), reps=(rep("R1"),))
    res = plan_region(region, MON, 2, time_limit=2, travel=TRAVEL, absences={"R1": {day(0), day(1), day(2)}})
    assert res.evaluation.ok
    seen = {(s.customer_id, r.date) for r in res.plan.routes for s in r.stops}
    assert not any(d in (day(0), day(1), day(2)) for _c, d in seen)
    c1_week1 = [d for c, d in seen if c == "C1" and d < day(7)]
    c1_week2 = [d for c, d in seen if c == "C1" and d >= day(7)]
    assert len(c1_week1) == 1 and len(c1_week2) == 2
    assert [(u.customer_id, u.date, u.code) for u in res.plan.unassigned] == [("C1", day(0), REASON_REP_ABSENT)]  # dated from the week's first day
    assert [d for c, d in seen if c == "C2" and d < day(7)][0] in (day(3), day(4))


def test_absent_all_horizon_reports_every_visit():
    region = Region(customers=(cust("C1", 1),), reps=(rep("R1"),))
    res = plan_region(region, MON, 1, time_limit=1, travel=TRAVEL, absences={"R1": {day(k) for k in range(5)}})
    assert res.evaluation.ok and not res.plan.routes
    assert {u.code for u in res.plan.unassigned} == {REASON_REP_ABSENT}
