"""Explanations priced by hand on the equator (see tests/evaluation/helpers)."""
from __future__ import annotations

import pytest

from planner.domain import Plan, Region, Unassigned
from planner.pipeline.explain import ExplainError, explain_customer, explain_plan
from tests.evaluation.helpers import MON, TRAVEL, cust, day, rep, route, stop


def region() -> Region:
    # C1 and C2 at the same place, 0.01 degree east of home: 1.445536 road km, 173.464 s each way
    return Region(customers=(cust("C1", 1), cust("C2", 1), cust("C3", 3, active=False)), reps=(rep("R1"),))


def plan(reg: Region) -> Plan:
    mon = day(0)
    return Plan("P", MON, 1, (route(reg, "R1", mon, [stop("C1", mon, "08:33", "09:18"),
                                                     stop("C2", mon, "09:18", "10:03")]),),
                assignment={"C1": "R1", "C2": "R1"}, patterns={"C1": (0,), "C2": (0,)})


def test_alternative_days_cost_a_round_trip_of_their_own():
    # Taking C2 out of Monday saves its 45 minutes (22.50 at 30/h) and no driving; on any other
    # day it needs home -> C2 -> home: 2.891072 km x 1.0 + (2 x 174 s + 45 min) x 30/h = 28.2911
    # (the engine drives whole seconds: 173.464 s -> 174 s). Extra: 28.2911 - 22.5 = 5.7911.
    reg = region()
    exp = explain_customer(reg, plan(reg), "C2", travel=TRAVEL)
    assert exp.status == "planned" and exp.rep_id == "R1" and exp.dates == (day(0),)
    assert exp.frequency == "1/week" and exp.visit_minutes == 45
    assert exp.alternatives[0].current and exp.alternatives[0].extra_cost == 0.0
    others = {a.dates: a.extra_cost for a in exp.alternatives[1:]}
    assert others == {(day(k),): pytest.approx(5.791, abs=0.005) for k in range(1, 5)}
    assert "next best" in exp.why_days and "5.79 more" in exp.why_days
    assert "territory of rep R1" in exp.why_rep


def test_plan_wide_reasons_and_other_statuses():
    reg = region()
    p = plan(reg)
    p2 = Plan(p.plan_id, p.start, p.weeks, p.routes,
              (Unassigned("C1", day(3), "capacity_exceeded", "day full"),), p.assignment, p.patterns)
    exp = explain_plan(reg, p2)
    assert dict(exp.unplanned_by_code) == {"capacity_exceeded": 1}
    assert exp.reps[0] == {"rep_id": "R1", "customers": 2, "visits": 2, "days": 1,
                           "hours": pytest.approx(round(p.routes[0].duration_minutes / 60, 1)),
                           "km": pytest.approx(2.9, abs=0.05)}
    assert explain_customer(reg, p, "C3", travel=TRAVEL).status == "inactive"
    with pytest.raises(ExplainError):
        explain_customer(reg, p, "NOPE", travel=TRAVEL)
