"""Repository: upserts, the region, plans saved and loaded exactly, removing a customer."""
from __future__ import annotations

import dataclasses
import datetime as dt
from types import MappingProxyType

import pytest
from sqlalchemy import func, select

from planner.db.models import (CustomerRow, PlanAssignmentRow, PlanRouteRow, PlanRow, PlanStopRow,
                               PlanUnassignedRow, RepRow)
from planner.db.repository import (PlanNotFound, delete_customer, delete_plan, list_plans, load_plan,
                                   load_region, plan_kpis_of, save_plan, upsert_customers, upsert_reps)
from planner.domain import (Customer, Frequency, GradeRule, Location, LunchBreak, Plan, Rep, Route, Stop,
                            Unassigned, VisitPolicy, parse_windows)

D = dt.date(2026, 11, 30)


def at(day: dt.date, h: int, m: int, s: int = 0, us: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(h, m, s, us))


def customers() -> list[Customer]:
    return [
        Customer("C2", "杭州茶叶店", Location(30.2741, 120.1551), "B", visit_minutes=45),
        Customer("C1", '上海<华东>&"超市"', Location(31.2304, 121.4737), "A", Frequency(1, 2), None,
                 parse_windows("09:00-12:00,14:00-18:00"), "R1", True, "上海市黄浦区南京东路1号"),
        Customer("C3", "Closed shop", Location(-33.8688, 151.2093), "D", active=False),
    ]


def reps() -> list[Rep]:
    return [
        Rep("R2", "李娜", Location(31.1, 121.3), Location(31.2, 121.4), 480, 1020, frozenset({0, 2, 4, 5}),
            8, 0.75, 42.5, LunchBreak(45, 700, 800)),
        Rep("R1", "张伟", Location(31.0, 121.0), lunch=None),
    ]


def make_plan(plan_id: str = "a" * 32, created: dt.datetime | None = at(D, 7, 0, 1, 123456),
              distance: float = 84.2) -> Plan:
    d2 = D + dt.timedelta(days=1)
    return Plan(
        plan_id=plan_id, start=D, weeks=2,
        routes=(
            Route("R1", D, (Stop("C1", at(D, 9, 5), at(D, 9, 5), at(D, 10, 5)),
                            Stop("C2", at(D, 10, 31, 7), at(D, 11, 0), at(D, 11, 45))),
                  at(D, 8, 30), at(D, 16, 2, 30), at(D, 12, 0), distance, 95.123456789, 120.5 + 1e-9),
            Route("R2", d2, (Stop("C2", at(d2, 9, 0), at(d2, 9, 0), at(d2, 9, 45)),), at(d2, 8, 0),
                  at(d2, 10, 0), None, 0.1 + 0.2, 1 / 3, 2 / 3),
            Route("R1", d2, (), at(d2, 8, 30), at(d2, 8, 30)),
        ),
        unassigned=(Unassigned("C3", None, "inactive", "customer is inactive"),
                    Unassigned("C1", D + dt.timedelta(days=3), "capacity_exceeded", "第二次拜访: no room")),
        assignment=MappingProxyType({"C1": "R1", "C2": "R1"}),
        patterns=MappingProxyType({"C1": (0, 3, 7, 10), "C2": (0,), "C9": ()}),
        created_at=created, seed=7, time_limit=12.5)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_upsert_customers_and_region_round_trip(session):
    assert upsert_customers(session, customers()) == (3, 0)
    session.commit()
    region = load_region(session, VisitPolicy())
    assert [c.id for c in region.customers] == ["C1", "C2", "C3"]
    assert list(region.customers) == sorted(customers(), key=lambda c: c.id)
    changed = dataclasses.replace(customers()[0], name="renamed", grade="C", active=False, opening=())
    new = Customer("C4", "new", Location(1.0, 2.0), "A")
    assert upsert_customers(session, [changed, new]) == (1, 1)
    session.commit()
    assert count(session, CustomerRow) == 4
    assert load_region(session).customer("C2") == changed


def test_upsert_reps_round_trip(session):
    assert upsert_reps(session, reps()) == (2, 0)
    assert upsert_reps(session, reps()) == (0, 2)
    session.commit()
    region = load_region(session)
    assert list(region.reps) == sorted(reps(), key=lambda r: r.id)
    assert count(session, RepRow) == 2


def test_region_keeps_the_policy(session):
    policy = VisitPolicy({"X": GradeRule(Frequency(1, 1), 20)})
    assert load_region(session, policy).policy is policy


def test_bulk_upsert_uses_few_queries(session, engine):
    from sqlalchemy import event

    many = [Customer(f"C{i:05d}", f"n{i}", Location(30 + i / 1e4, 120), "B") for i in range(1200)]
    statements = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert upsert_customers(session, many) == (1200, 0)
        assert upsert_customers(session, many[::2]) == (0, 600)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 6  # one IN (...) query per 500 ids, none per row
    session.commit()
    assert count(session, CustomerRow) == 1200


def test_plan_round_trip_is_exact(session):
    plan = make_plan()
    kpis = {"visits": 3, "distance_km": 84.5, "per_rep": {"R1": {"visits": 2}}, "compliance": 0.75}
    assert save_plan(session, plan, kpis) == plan.plan_id
    session.commit()
    session.expunge_all()
    loaded = load_plan(session, plan.plan_id)
    assert loaded == plan
    assert dict(loaded.assignment) == dict(plan.assignment) and dict(loaded.patterns) == dict(plan.patterns)
    assert loaded.routes[1].distance_km == 0.1 + 0.2 and loaded.routes[0].stops[1].arrival.second == 7
    assert loaded.created_at == at(D, 7, 0, 1, 123456) and loaded.created_at.tzinfo is None
    assert plan_kpis_of(session, plan.plan_id) == kpis


def test_latest_and_list(session):
    with pytest.raises(PlanNotFound, match="no plan is stored yet"):
        load_plan(session, "latest")
    old = make_plan("1" * 32, at(D, 8, 0))
    new = make_plan("2" * 32, at(D, 9, 0), distance=1.0)
    save_plan(session, new, {"visits": 2})
    save_plan(session, old, {"visits": 1})
    session.commit()
    assert load_plan(session, "latest") == new
    assert plan_kpis_of(session, "latest") == {"visits": 2}
    summaries = list_plans(session)
    assert [s["plan_id"] for s in summaries] == ["2" * 32, "1" * 32]
    assert summaries[0] == {
        "plan_id": "2" * 32, "created_at": "2026-11-30T09:00:00", "start": "2026-11-30", "end": "2026-12-13",
        "weeks": 2, "seed": 7, "time_limit": 12.5, "status": "done", "routes": 3, "unassigned": 2,
        "kpis": {"visits": 2}}
    with pytest.raises(PlanNotFound, match="no stored plan has id 'nope'"):
        load_plan(session, "nope")
    with pytest.raises(PlanNotFound):
        plan_kpis_of(session, "nope")


def test_plan_without_id_or_time_gets_them(session):
    before = dt.datetime.now()
    pid = save_plan(session, make_plan(plan_id="", created=None), {})
    session.commit()
    assert len(pid) == 32 and int(pid, 16) >= 0
    loaded = load_plan(session, pid)
    assert loaded.plan_id == pid and before <= loaded.created_at <= dt.datetime.now()
    assert dataclasses.replace(loaded, plan_id="", created_at=None) == make_plan(plan_id="", created=None)


def test_saving_again_replaces_the_plan(session):
    save_plan(session, make_plan(), {"v": 1})
    session.commit()
    shorter = dataclasses.replace(make_plan(), routes=make_plan().routes[:1], unassigned=())
    save_plan(session, shorter, {"v": 2})
    session.commit()
    assert load_plan(session, shorter.plan_id) == shorter
    assert (count(session, PlanRow), count(session, PlanRouteRow), count(session, PlanStopRow),
            count(session, PlanUnassignedRow)) == (1, 1, 2, 0)


def test_delete_plan_cascades(session):
    save_plan(session, make_plan(), {})
    session.commit()
    assert delete_plan(session, make_plan().plan_id)
    session.commit()
    for model in (PlanRow, PlanRouteRow, PlanStopRow, PlanUnassignedRow, PlanAssignmentRow):
        assert count(session, model) == 0
    assert not delete_plan(session, "missing")


def test_delete_customer_removes_it_from_stored_plans(session, session_factory):
    upsert_customers(session, customers())
    save_plan(session, make_plan("1" * 32), {})
    save_plan(session, make_plan("2" * 32, at(D, 9, 0)), {})
    session.commit()
    counts = delete_customer(session, "C1")
    session.commit()
    assert counts == {"plan_locks": 0, "plan_stops": 2, "plan_unassigned": 2, "plan_assignments": 2, "customers": 1}
    with session_factory() as other:
        assert [c.id for c in load_region(other).customers] == ["C2", "C3"]
        for pid in ("1" * 32, "2" * 32):
            plan = load_plan(other, pid)
            ids = {s.customer_id for r in plan.routes for s in r.stops}
            ids |= {u.customer_id for u in plan.unassigned} | set(plan.assignment) | set(plan.patterns)
            assert "C1" not in ids and "C2" in ids
            assert [s.customer_id for s in plan.routes[0].stops] == ["C2"]
        for model, column in ((PlanStopRow, PlanStopRow.customer_id),
                              (PlanUnassignedRow, PlanUnassignedRow.customer_id),
                              (PlanAssignmentRow, PlanAssignmentRow.customer_id)):
            assert other.scalar(select(func.count()).select_from(model).where(column == "C1")) == 0
    assert delete_customer(session, "nobody") == {
        "plan_locks": 0, "plan_stops": 0, "plan_unassigned": 0, "plan_assignments": 0, "customers": 0}
