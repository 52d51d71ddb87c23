"""Plans decomposed by territory and solved in parallel (planner.pipeline.decompose).

A generated region (120 customers, 6 reps, 4 weeks) planned with 2 workers in a real process
pool: the evaluator accepts the merged plan, every visit is planned or reported, the merged
figures are the sums of the parts', the same seed gives the same assignment.
"""
from __future__ import annotations

import datetime as dt
import pathlib
from collections import Counter

import numpy as np
import pytest

from planner.domain import (REASON_NO_WINDOW, REASON_PINNED_REP_MISSING, Customer, Location, Region,
                            parse_windows)
from planner.evaluation.evaluator import evaluate
from planner.geo.travel import HaversineTravel
from planner.pipeline.codec import UnsafePayload, pack, unpack
from planner.pipeline.decompose import (LocalPoolExecutor, RouteLegTravel, SerialExecutor, bisect_groups, decompose,
                                        merge, part_count, plan_region_parallel)
from planner.synthetic import generate_region

MON = dt.date(2026, 11, 30)
WEEKS = 4


@pytest.fixture(scope="module")
def region() -> Region:
    return generate_region(120, 6, seed=11)


@pytest.fixture(scope="module")
def pooled(region):
    """The region planned with 2 workers in a local process pool (4 parts, 3 s each)."""
    stages = []
    res = plan_region_parallel(region, MON, WEEKS, workers=2, time_limit=6, seed=3,
                               progress=lambda stage, frac: stages.append((stage, frac)))
    return res, stages


def owed(region: Region, c: Customer) -> int:
    f = region.policy.frequency_of(c)
    return 7 * WEEKS // f.period_days * f.visits


def test_two_workers_give_a_plan_the_evaluator_accepts(region, pooled):
    res, stages = pooled
    assert res.evaluation.ok, res.evaluation.violations[:5]
    again = evaluate(region, res.plan, HaversineTravel())  # independently, from the plan alone
    assert again.ok and again.kpis == res.evaluation.kpis
    assert res.stats["parts"] == 4 and res.stats["workers"] == 2
    # 2 waves of 2 parts share what the territory step left of the 6 s: just under 3 s each
    assert 2.5 < res.stats["part_time_limit"] <= 3.0
    assert res.stats["part_time_limit"] == pytest.approx((6 - res.stats["territory_seconds"]) / 2, abs=0.02)
    # progress only rises, from the territory step to done
    fracs = [f for _, f in stages]
    assert fracs == sorted(fracs) and stages[0][0] == "territories" and stages[-1] == ("done", 1.0)


def test_big_plans_are_checked_leg_by_leg_with_the_same_figures(region, pooled):
    plan = pooled[0].plan
    legs = RouteLegTravel(HaversineTravel(), plan, region, small=0)  # never the full matrix
    lazy = evaluate(region, plan, legs)
    assert lazy.violations == pooled[0].evaluation.violations == ()
    assert lazy.kpis == pooled[0].evaluation.kpis and lazy.recomputed_km == pooled[0].evaluation.recomputed_km
    where = {c.id: c.location for c in region.customers}
    homes = {r.id: r.start for r in region.reps}
    distinct = {(a, b) for r in plan.routes
                for a, b in zip([homes[r.rep_id], *(where[s.customer_id] for s in r.stops)],
                                [*(where[s.customer_id] for s in r.stops), homes[r.rep_id]])}
    assert len(legs.legs) == len(distinct) < 1000  # the plan's legs only: not 126 x 126 pairs


def test_every_active_customer_is_planned_or_reported(region, pooled):
    plan = pooled[0].plan
    planned = Counter(s.customer_id for r in plan.routes for s in r.stops)
    reported = Counter(u.customer_id for u in plan.unassigned)
    active = [c for c in region.customers if c.active]
    assert len(active) < len(region.customers)  # the generator makes some inactive: they stay out
    for c in active:
        assert planned[c.id] + reported[c.id] == owed(region, c), c.id
    assert set(planned) | set(reported) == {c.id for c in active}
    assert set(plan.assignment) == {c.id for c in active}
    # pins hold, and each customer keeps one rep over the horizon
    for c in active:
        if c.rep_id:
            assert plan.assignment[c.id] == c.rep_id
    reps_of = {}
    for r in plan.routes:
        for s in r.stops:
            reps_of.setdefault(s.customer_id, set()).add(r.rep_id)
    assert all(len(v) == 1 and v == {plan.assignment[k]} for k, v in reps_of.items())


def test_merged_figures_are_the_sums_of_the_parts(region, pooled):
    res = pooled[0]
    parts = res.stats["part_stats"]
    assert [p["index"] for p in parts] == [0, 1, 2, 3]
    # the parts partition the reps and the customers
    part_reps = [r for p in parts for r in p["reps"]]
    assert sorted(part_reps) == sorted(r.id for r in region.reps)
    assert sum(p["customers"] for p in parts) == sum(c.active for c in region.customers)
    k = res.evaluation.kpis
    assert sum(p["visits"] for p in parts) == k["visits"] == sum(len(r.stops) for r in res.plan.routes)
    assert k["visits"] + len(res.plan.unassigned) == k["required_visits"]
    assert sum(p["distance_km"] for p in parts) == pytest.approx(sum(r.distance_km for r in res.plan.routes),
                                                                  abs=1e-6)
    assert sum(p["distance_km"] for p in parts) == pytest.approx(k["distance_km"], abs=0.01)
    assert sum(p["cost"] for p in parts) == pytest.approx(k["cost"], abs=0.02)
    assert sum(p["unassigned"] for p in parts) == len(res.plan.unassigned)
    assert all(p["violations"] == 0 and p["time_limit"] == res.stats["part_time_limit"] for p in parts)
    # each part's work (territory workload) is of the same order: neighbouring territories grouped
    work = [p["work_s"] for p in parts]
    assert max(work) < 2.5 * min(work)


def test_same_seed_same_assignment_whatever_the_executor_and_time(region, pooled):
    first = pooled[0].plan
    again = plan_region_parallel(region, MON, WEEKS, workers=2, executor=SerialExecutor(), time_limit=2, seed=3)
    assert dict(again.plan.assignment) == dict(first.assignment)
    dec1 = decompose(region, MON, WEEKS, parts=4, workers=2, time_limit=6, seed=3)
    dec2 = decompose(region, MON, WEEKS, parts=4, workers=2, time_limit=6, seed=3)
    assert dict(dec1.assignment) == dict(dec2.assignment) == dict(first.assignment)
    assert [p.rep_ids for p in dec1.parts] == [p.rep_ids for p in dec2.parts]
    assert [p.rep_ids for p in dec1.parts] == [tuple(s["reps"]) for s in pooled[0].stats["part_stats"]]


def test_deterministic_parts_give_the_same_plan_in_a_pool_and_in_process(region):
    small = Region(tuple(c for c in region.customers if c.id < "C0060"), region.reps, region.policy)
    kw = dict(workers=2, parts=3, part_time_limit=1.0, time_limit=2, seed=5, deterministic=True)
    a = plan_region_parallel(small, MON, 1, executor=SerialExecutor(), **kw)
    b = plan_region_parallel(small, MON, 1, executor=LocalPoolExecutor(2), **kw)
    assert a.evaluation.ok and b.evaluation.ok
    strip = lambda p: [(r.rep_id, r.date, [s.customer_id for s in r.stops], r.distance_km) for r in p.routes]
    assert strip(a.plan) == strip(b.plan) and a.plan.unassigned == b.plan.unassigned


def test_customers_no_rep_can_see_are_reported_with_their_reason(region):
    night = Customer("X-NIGHT", "night shop", Location(30.27, 120.15), "B", opening=parse_windows("20:00-23:00"))
    orphan = Customer("X-ORPHAN", "pinned elsewhere", Location(30.26, 120.16), "C", rep_id="R06")
    base = tuple(c for c in region.customers if c.id < "C0060" and c.rep_id != "R06")
    r2 = Region(base + (night, orphan), region.reps, region.policy)
    reps = [r.id for r in region.reps if r.id != "R06"]
    res = plan_region_parallel(r2, MON, 2, workers=2, parts=2, executor=SerialExecutor(), time_limit=2, seed=1,
                               rep_ids=reps)
    assert res.evaluation.ok
    codes = {(u.customer_id, u.code) for u in res.plan.unassigned}
    assert ("X-NIGHT", REASON_NO_WINDOW) in codes and ("X-ORPHAN", REASON_PINNED_REP_MISSING) in codes
    night_rows = [u for u in res.plan.unassigned if u.customer_id == "X-NIGHT"]
    assert len(night_rows) == 2 and all(u.date is not None and "window" in u.reason for u in night_rows)
    assert "X-NIGHT" not in res.plan.assignment and "X-ORPHAN" not in res.plan.assignment
    assert not any(r.rep_id == "R06" for r in res.plan.routes)


def test_big_regions_run_the_territory_step_per_block(region):
    dec = decompose(region, MON, WEEKS, parts=3, workers=3, time_limit=3, seed=2, block_customers=40)
    assert dec.stats["blocks"] == 3 and dec.part_count == 3
    active = {c.id for c in region.customers if c.active}
    assert set(dec.assignment) == active  # every customer found a rep in its block
    for c in region.customers:
        if c.active and c.rep_id:
            assert dec.assignment[c.id] == c.rep_id
    for p in dec.parts:  # a part's customers are pinned to the part's reps, and to their territory
        assert {c.rep_id for c in p.region.customers} <= set(p.rep_ids)
        assert all(dec.assignment[c.id] == c.rep_id for c in p.region.customers)
    res = merge(dec, SerialExecutor().run(dec.parts), HaversineTravel())
    assert res.evaluation.ok and res.stats["blocks"] == 3


def test_a_region_of_one_part_is_planned_in_one_piece(region):
    one = Region(tuple(c for c in region.customers if c.id < "C0020"), region.reps[:1], region.policy)
    res = plan_region_parallel(one, MON, 1, workers=2, time_limit=1, seed=1)
    assert res.evaluation.ok and "part_stats" not in res.stats
    assert part_count(2000, 50, 2) == 4 and part_count(20000, 500, 2) == 20 and part_count(100, 3, 4) == 3


def test_bisection_makes_groups_of_neighbours_with_similar_weight():
    xy = np.array([[float(i), 0.0] for i in range(8)])
    groups = bisect_groups(xy, np.ones(8), 4)
    assert groups == [[0, 1], [2, 3], [4, 5], [6, 7]]
    heavy = np.array([6.0, 1, 1, 1, 1, 1, 1, 1])
    assert bisect_groups(xy, heavy, 2) == [[0, 1], [2, 3, 4, 5, 6, 7]]


def test_codec_round_trips_planning_data_and_refuses_anything_else(region):
    assert unpack(pack(region)) == region
    with pytest.raises(UnsafePayload):
        unpack(pack(pathlib.PurePosixPath("/etc/passwd")))
    with pytest.raises(UnsafePayload):
        unpack(pack(evaluate))  # a function can never be named by a payload
    assert unpack(pack(pathlib.PurePosixPath("/x")), trusted=True) == pathlib.PurePosixPath("/x")


def test_weekly_frequencies_are_also_split_by_week(region):
    # every customer 1 or 2 visits a week (grades A and B only), reps Monday to Friday: the
    # weeks are independent, so each territory part is cut into its 2 weeks and reunited
    import dataclasses
    weekly = dataclasses.replace(region, customers=tuple(
        dataclasses.replace(c, grade="A" if i % 3 == 0 else "B", frequency=None)
        for i, c in enumerate(region.customers)))
    dec = decompose(weekly, MON, 2, parts=2, time_limit=4, seed=1)
    assert dec.stats["by_week"] is True and dec.part_count == 4
    assert sorted((p.start, p.weeks, p.day_offset) for p in dec.parts) == [
        (MON, 1, 0), (MON, 1, 0), (MON + dt.timedelta(days=7), 1, 7), (MON + dt.timedelta(days=7), 1, 7)]
    res = merge(dec, SerialExecutor().run(dec.parts))
    assert res.evaluation.ok, res.evaluation.violations[:5]
    seen: dict[str, list[int]] = {}
    for r in res.plan.routes:
        for s in r.stops:
            seen.setdefault(s.customer_id, []).append((r.date - MON).days)
    # the reunited patterns are the visit days over the whole horizon, weeks 1 and 2
    assert {c: tuple(sorted(d)) for c, d in seen.items()} == {c: p for c, p in res.plan.patterns.items() if p}
    assert any(min(d) < 7 <= max(d) for d in seen.values())
    # one owner per customer over both weeks
    assert all(len({r.rep_id for r in res.plan.routes for s in r.stops if s.customer_id == c}) == 1 for c in seen)
    # a fortnightly customer couples the weeks: no split
    assert decompose(region, MON, 2, parts=2, time_limit=4, seed=1).stats["by_week"] is False
