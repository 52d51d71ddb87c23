"""Property: on small random regions, every plan passes the independent evaluator and every
required visit of every active customer is either planned or reported with a code and reason."""
from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.domain import Customer, Frequency, Location, Region, Rep, TimeWindow
from planner.pipeline import plan_region

MON = dt.date(2026, 11, 30)

WINDOWS = st.sampled_from([
    (),                                                          # open during the working day
    (TimeWindow(9 * 60, 12 * 60), TimeWindow(14 * 60, 18 * 60)),  # lunch closure
    (TimeWindow(8 * 60, 11 * 60 + 30),),                          # mornings only
    (TimeWindow(13 * 60, 17 * 60),),                              # afternoons only
    (TimeWindow(10 * 60, 10 * 60 + 20),),                         # shorter than any visit: impossible
    (TimeWindow(19 * 60, 22 * 60),),                              # outside the working day: impossible
])


@st.composite
def regions(draw):
    n_reps = draw(st.integers(1, 3))
    reps = []
    for i in range(n_reps):
        days = draw(st.sets(st.integers(0, 6), min_size=1, max_size=6))
        reps.append(Rep(
            id=f"R{i}", name=f"R{i}",
            start=Location(draw(st.floats(-0.05, 0.05)), draw(st.floats(-0.05, 0.05))),
            workdays=frozenset(days),
            max_visits_per_day=draw(st.one_of(st.none(), st.integers(1, 6))),
            cost_per_km=draw(st.sampled_from([0.5, 1.0, 2.0])),
        ))
    n = draw(st.integers(3, 15))
    custs = []
    for i in range(n):
        freq = draw(st.sampled_from([None, None, None, Frequency(3), Frequency(1, 2)]))
        pin = draw(st.one_of(st.none(), st.none(), st.none(), st.sampled_from([r.id for r in reps] + ["R9"])))
        custs.append(Customer(
            id=f"C{i:02d}", name=f"C{i}",
            location=Location(draw(st.floats(-0.08, 0.08)), draw(st.floats(-0.08, 0.08))),
            grade=draw(st.sampled_from("ABCD")), frequency=freq,
            visit_minutes=draw(st.sampled_from([None, None, 30, 90])),
            opening=draw(WINDOWS), rep_id=pin, active=draw(st.sampled_from([True, True, True, False]))))
    return Region(tuple(custs), tuple(reps))


@settings(max_examples=int(__import__('os').environ.get('PLAN_PROPERTY_EXAMPLES', 15)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(region=regions(), weeks=st.integers(1, 2), seed=st.integers(0, 5))
def test_random_regions_give_valid_plans_that_account_for_every_visit(region, weeks, seed):
    res = plan_region(region, MON, weeks, time_limit=1.0, seed=seed, check=False)
    assert res.evaluation.ok, [str(v) for v in res.evaluation.violations]
    plan = res.plan
    planned: dict[str, int] = {}
    for r in plan.routes:
        for s in r.stops:
            planned[s.customer_id] = planned.get(s.customer_id, 0) + 1
    reported: dict[str, int] = {}
    for u in plan.unassigned:
        assert u.code and u.reason
        reported[u.customer_id] = reported.get(u.customer_id, 0) + 1
    for c in region.customers:
        if not c.active:
            assert c.id not in planned
            continue
        f = region.policy.frequency_of(c)
        horizon = 7 * weeks
        full, rest = divmod(horizon, f.period_days)
        need_min = full * f.visits                   # full blocks: exactly this many
        need_max = need_min + (f.visits if rest else 0)  # a partial block may or may not be due
        got = planned.get(c.id, 0) + reported.get(c.id, 0)
        assert need_min <= got <= need_max, (c.id, str(f), planned.get(c.id, 0), reported.get(c.id, 0))
