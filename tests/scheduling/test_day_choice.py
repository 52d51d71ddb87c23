"""choose_patterns: spread days, the preferred 2/week spacing, balanced (not overfilled) days."""
from __future__ import annotations

from planner.domain import Customer, Location, Region, Rep
from planner.scheduling.day_choice import choose_patterns

from .helpers import make_instance


def cust(cid, lon, grade="A", **kw):
    return Customer(id=cid, name=cid, location=Location(0, lon), grade=grade, **kw)


REP = Rep(id="R1", name="R1", start=Location(0, 0))


def choose(region, weeks=1):
    inst = make_instance(region, weeks)
    options = {c: inst.patterns(c, 0) for c in range(inst.n)}
    chosen = choose_patterns(inst, 0, list(range(inst.n)), options)
    return inst, options, chosen


def test_two_a_week_customers_never_on_consecutive_days():
    region = Region(tuple(cust(f"A{i}", 0.001 * i) for i in range(6)), (REP,))
    inst, options, chosen = choose(region, weeks=2)
    for c, p in chosen.items():
        assert p in options[c]
        gaps = [b - a for a, b in zip(p.days, p.days[1:])]
        assert len(p.days) == 4 and min(gaps) >= 2, p


def test_a_lone_two_a_week_customer_gets_a_well_spread_pair():
    inst, _, chosen = choose(Region((cust("A1", 0.01),), (REP,)))
    # every day costs the same estimate, so the pattern penalty decides: 0.5 (Mon+Thu first)
    assert chosen[0].penalty == 0.5
    assert chosen[0].days == (0, 3)


def test_five_weekly_customers_that_each_nearly_fill_a_day_get_five_different_days():
    # day 08:30-17:30 minus 1 h lunch = 8 h; planned to 90% = 7.2 h. Two 4-hour visits = 8 h > 7.2 h,
    # so no two of them may share a day.
    region = Region(tuple(cust(f"B{i}", 0.001 * (i + 1), "B", visit_minutes=240) for i in range(5)), (REP,))
    inst, _, chosen = choose(region)
    days = sorted(p.days[0] for p in chosen.values())
    assert days == [0, 1, 2, 3, 4]


def test_fixed_patterns_are_kept():
    region = Region(tuple(cust(f"B{i}", 0.001 * (i + 1), "B", visit_minutes=240) for i in range(3)), (REP,))
    inst = make_instance(region)
    options = {c: inst.patterns(c, 0) for c in range(inst.n)}
    fixed = {0: options[0][2]}                                    # B0 fixed on Wednesday
    chosen = choose_patterns(inst, 0, [0, 1, 2], options, fixed=fixed)
    assert chosen[0].days == (2,)
    assert 2 not in {chosen[1].days[0], chosen[2].days[0]}         # Wednesday already full


def test_visit_cap_spreads_customers():
    rep = Rep(id="R1", name="R1", start=Location(0, 0), max_visits_per_day=2)
    region = Region(tuple(cust(f"B{i}", 0.001 * (i + 1), "B") for i in range(10)), (rep,))
    _, _, chosen = choose(region)
    per_day = {}
    for p in chosen.values():
        per_day[p.days[0]] = per_day.get(p.days[0], 0) + 1
    assert per_day == {d: 2 for d in range(5)}                     # 10 customers, cap 2, 5 days
