"""The database at size: bulk imports and upserts send a number of statements that grows with
the chunks, not the rows; plans are stored and read in a fixed number of statements; the API's
list routes send the same number of statements whatever the number of rows (no N+1); migration
0004 creates the indexes of the API's filters. On SQLite and, with ``PLANNER_TEST_POSTGRES_URL``,
PostgreSQL. Timings are in ``benchmarks/db_scale.py``, not here.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import os
import uuid
from pathlib import Path
from types import MappingProxyType
from typing import Iterator

import pytest
from sqlalchemy import event, func, inspect, select, text

from planner.db import repository
from planner.db.models import CustomerRow, PlanRow, RepRow
from planner.db.repository import (bulk_upsert, customer_to_row, load_plan, plan_kpis_of, save_plan,
                                   upsert_customers, upsert_reps)
from planner.domain import Plan, Route, Stop, Unassigned, VisitPolicy
from tests.conftest import DB_BACKENDS, PG_ENV

N = 2000
START = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def region():
    """The issue's region: 2,000 generated customers, 50 reps."""
    from planner.synthetic import generate_region
    return generate_region(N, 50, seed=2026)


@contextlib.contextmanager
def statements(engine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` sends inside the block (an executemany counts once)."""
    sent: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def lookups(engine, n: int) -> int:
    """SELECTs of stored rows for ``n`` ids (see :func:`planner.db.repository.ids_in`)."""
    per = repository._ARRAY_CHUNK if engine.dialect.name == "postgresql" else repository._CHUNK
    return math.ceil(n / per)


def renamed(customers, n: int) -> list:
    """``customers`` with the names of the first ``n`` changed."""
    return [dataclasses.replace(c, name=c.name + " (moved)") if i < n else c for i, c in enumerate(customers)]


def write_customers(region, customers, path: Path) -> Path:
    from planner.synthetic import write_region_csv
    out, _ = write_region_csv(dataclasses.replace(region, customers=tuple(customers)), path)
    return out


# ----------------------------------------------------------------------------------------------
# Imports and upserts
# ----------------------------------------------------------------------------------------------
def test_importing_2000_customers_sends_statements_per_chunk_not_per_row(region, engine, session, tmp_path):
    from planner.io.service import import_customers

    path = write_customers(region, region.customers, tmp_path / "first")
    with statements(engine) as sent:
        summary = import_customers(session, path, VisitPolicy(), geocode_cache=tmp_path / "geo.sqlite")
    assert (summary.inserted, summary.updated, summary.skipped) == (N, 0, 0)
    # one SELECT of the stored rows per chunk of ids, one INSERT … ON CONFLICT per _WRITE_CHUNK rows
    per_chunks = lookups(engine, N) + math.ceil(N / repository._WRITE_CHUNK)
    assert len(sent) <= per_chunks + 2 and len(sent) <= 20, sent
    assert session.scalar(select(func.count()).select_from(CustomerRow)) == N
    assert repository.load_customers(session) == sorted(region.customers, key=lambda c: c.id)

    # the same file again: only the SELECTs, nothing written, updated_at kept
    before = dict(session.execute(select(CustomerRow.id, CustomerRow.updated_at)).all())
    with statements(engine) as sent:
        summary = import_customers(session, path, VisitPolicy(), geocode_cache=tmp_path / "geo.sqlite")
    assert (summary.inserted, summary.updated) == (0, N)  # the import counts every known customer
    assert len(sent) == lookups(engine, N), sent
    assert not [s for s in sent if not s.lstrip().upper().startswith("SELECT")]
    assert dict(session.execute(select(CustomerRow.id, CustomerRow.updated_at)).all()) == before


def test_reimport_with_10_changed_rows_reports_10_updated_1990_unchanged(region, engine, session):
    old = dt.datetime(2026, 1, 2, 3, 4, 5)
    assert bulk_upsert(session, CustomerRow, [customer_to_row(c) for c in region.customers], now=old) == (N, 0, 0)
    session.commit()
    changed = renamed(region.customers, 10)
    new = dt.datetime(2026, 2, 3, 4, 5, 6)
    with statements(engine) as sent:
        counts = bulk_upsert(session, CustomerRow, [customer_to_row(c) for c in changed], now=new)
    session.commit()
    assert counts == (0, 10, N - 10)
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 10, 1990)
    assert len(sent) == lookups(engine, N) + 1
    stamps = dict(session.execute(select(CustomerRow.id, CustomerRow.updated_at)).all())
    assert {cid for cid, at in stamps.items() if at == new} == {c.id for c in changed[:10]}
    assert all(at == old for cid, at in stamps.items() if cid not in {c.id for c in changed[:10]})
    assert repository.load_customers(session) == sorted(changed, key=lambda c: c.id)


def test_api_upsert_keeps_its_counts_and_updated_at(region, engine, session):
    from planner.api.services import upsert_rows

    rows = [customer_to_row(c) for c in region.customers[:600]]
    assert upsert_rows(session, CustomerRow, rows) == (600, 0, 0)
    session.commit()
    stamps = dict(session.execute(select(CustomerRow.id, CustomerRow.updated_at)).all())
    assert all(at.microsecond == 0 for at in stamps.values())
    more = [customer_to_row(c) for c in renamed(region.customers[:700], 3)]
    with statements(engine) as sent:
        assert upsert_rows(session, CustomerRow, more) == (100, 3, 597)
    session.commit()
    assert len(sent) == lookups(engine, 700) + 1
    after = dict(session.execute(select(CustomerRow.id, CustomerRow.updated_at)).all())
    assert all(after[c] == stamps[c] for c in stamps if c not in {r["id"] for r in more[:3]})
    assert upsert_rows(session, CustomerRow, more) == (0, 0, 700)


def test_upsert_of_reps_leaves_columns_it_does_not_carry(region, session):
    upsert_reps(session, region.reps)
    session.commit()
    rid = region.reps[0].id
    row = session.get(RepRow, rid)
    row.region, row.active = "east", False
    session.commit()
    moved = dataclasses.replace(region.reps[0], name="renamed")
    assert upsert_reps(session, [moved, *region.reps[1:]]) == (0, len(region.reps))
    session.commit()
    session.expire_all()
    row = session.get(RepRow, rid)
    assert (row.name, row.region, row.active) == ("renamed", "east", False)


def test_upsert_expires_loaded_rows_and_keeps_the_last_of_repeated_ids(region, session):
    c = region.customers[0]
    upsert_customers(session, [c])
    session.commit()
    loaded = session.get(CustomerRow, c.id)
    assert loaded.name == c.name
    first, last = dataclasses.replace(c, name="first"), dataclasses.replace(c, name="last")
    assert bulk_upsert(session, CustomerRow, [customer_to_row(first), customer_to_row(last)]) == (0, 1, 0)
    assert session.get(CustomerRow, c.id).name == "last"


def test_pending_objects_are_flushed_before_the_upsert(region, session):
    c = region.customers[0]
    session.add(CustomerRow(**customer_to_row(c)))
    assert upsert_customers(session, [dataclasses.replace(c, name="changed")]) == (0, 1)
    session.commit()
    assert session.scalar(select(CustomerRow.name).where(CustomerRow.id == c.id)) == "changed"


# ----------------------------------------------------------------------------------------------
# Plans
# ----------------------------------------------------------------------------------------------
def big_plan(region, plan_id: str, weeks: int = 4, created: dt.datetime | None = None) -> Plan:
    """Every customer once a week (on its rep's day by index), one route per rep and workday."""
    reps = [r.id for r in region.reps]
    days = [START + dt.timedelta(days=d) for d in range(7 * weeks) if (START + dt.timedelta(days=d)).weekday() < 5]
    by_route: dict[tuple[str, dt.date], list[str]] = {}
    for i, c in enumerate(region.customers):
        for w in range(weeks):
            by_route.setdefault((reps[i % len(reps)], days[5 * w + i % 5]), []).append(c.id)
    routes = []
    for (rep, day), ids in sorted(by_route.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        t = dt.datetime.combine(day, dt.time(9, 0, 7))
        stops = tuple(Stop(cid, t + dt.timedelta(minutes=40 * k), t + dt.timedelta(minutes=40 * k + 1),
                           t + dt.timedelta(minutes=40 * k + 31)) for k, cid in enumerate(ids))
        routes.append(Route(rep, day, stops, t, t + dt.timedelta(hours=8), None, 0.1 + len(ids) / 3, 1 / 7, 2 / 3))
    customers = region.customers
    return Plan(plan_id=plan_id, start=START, weeks=weeks, routes=tuple(routes),
                unassigned=tuple(Unassigned(c.id, None, "capacity_exceeded", "没有空") for c in customers[::97]),
                assignment=MappingProxyType({c.id: reps[i % len(reps)] for i, c in enumerate(customers)}),
                patterns=MappingProxyType({c.id: tuple(7 * w + i % 5 for w in range(weeks))
                                           for i, c in enumerate(customers)}),
                created_at=created or dt.datetime(2026, 11, 27, 8, 0, 0, 123456), seed=3, time_limit=5.0,
                facts=MappingProxyType({c.id: f"f{i}" for i, c in enumerate(customers)}))


def test_plans_are_saved_and_loaded_in_a_fixed_number_of_statements(region, engine, session):
    small = dataclasses.replace(region, customers=region.customers[:40], reps=region.reps[:4])
    counts = []
    for reg, pid in ((small, "s" * 32), (region, "b" * 32)):
        plan = big_plan(reg, pid)
        with statements(engine) as saved:
            assert save_plan(session, plan, {"visits": 1}) == pid
        session.commit()
        session.expunge_all()
        with statements(engine) as loaded:
            assert load_plan(session, pid) == plan
        counts.append((len(saved), len(loaded)))
    (small_saved, small_loaded), (big_saved, big_loaded) = counts
    assert sum(len(r.stops) for r in big_plan(region, "x").routes) == 4 * N
    # big: 8,000 stops in chunks of _WRITE_CHUNK rows; small: one of each
    assert big_saved <= small_saved + math.ceil(4 * N / repository._WRITE_CHUNK) + 2 and big_saved <= 20
    assert small_loaded == big_loaded == 5


def test_saving_a_plan_again_replaces_what_the_session_had_loaded(region, session):
    small = dataclasses.replace(region, customers=region.customers[:30], reps=region.reps[:3])
    plan = big_plan(small, "r" * 32, weeks=1)
    save_plan(session, plan, {"v": 1})
    session.commit()
    row = session.get(PlanRow, plan.plan_id)
    assert row.kpis == {"v": 1} and len(row.routes) == len(plan.routes)
    shorter = dataclasses.replace(plan, routes=plan.routes[:2])
    save_plan(session, shorter, {"v": 2})
    session.commit()
    assert plan_kpis_of(session, plan.plan_id) == {"v": 2}
    assert len(session.get(PlanRow, plan.plan_id).routes) == 2
    assert load_plan(session, plan.plan_id) == shorter


# ----------------------------------------------------------------------------------------------
# The API's list routes: no N+1
# ----------------------------------------------------------------------------------------------
@pytest.fixture(params=DB_BACKENDS)
def db_url(request, tmp_path) -> Iterator[str]:
    """The URL of an empty database: an SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'api-scale.db'}"
        return
    from sqlalchemy import make_url

    from planner.db.session import make_engine
    base = os.environ[PG_ENV]
    schema = f"scale_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def seed(factory, region, n_customers: int, plan_ids: list[str], n_visits: int) -> Plan:
    """``n_customers`` of the region with its reps, a plan per id, visit records, jobs, an
    absence and locks; returns the latest plan."""
    from planner.db.models import AbsenceRow, JobRow, PlanLockRow, VisitRow
    part = dataclasses.replace(region, customers=region.customers[:n_customers], reps=region.reps[:5])
    now = dt.datetime(2026, 11, 27, 18)
    with factory() as s:
        upsert_customers(s, part.customers)
        upsert_reps(s, part.reps)
        plan = None
        for k, pid in enumerate(plan_ids):
            plan = big_plan(part, pid, weeks=2, created=dt.datetime(2026, 11, 1) + dt.timedelta(hours=k))
            save_plan(s, plan, {})
        for i in range(n_visits):
            s.add(VisitRow(customer_id=part.customers[i % n_customers].id, rep_id=part.reps[i % 5].id,
                           plan_id=plan_ids[-1], visited_at=dt.datetime(2026, 10, 1, 9) + dt.timedelta(minutes=7 * i),
                           outcome=("done", "absent", "rescheduled")[i % 3], created_at=now))
            s.add(JobRow(id=uuid.uuid4().hex, status="done", params={}, info={}, created_at=now, plan_id=plan_ids[-1]))
            s.add(PlanLockRow(plan_id=plan_ids[-1], customer_id=part.customers[i % n_customers].id,
                              date=START + dt.timedelta(days=i % 10), start_min=600, end_min=600, created_at=now))
            s.add(AbsenceRow(rep_id=part.reps[0].id, start=START, end=START, created_at=now))
        s.commit()
    return plan


def test_api_list_routes_send_the_same_statements_for_few_and_many_rows(region, db_url, tmp_path):
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from planner.api.main import create_app
    from planner.api.security import create_key
    from planner.settings import Settings

    settings = Settings(database_url=db_url, geocode_cache=tmp_path / "geo.sqlite", _env_file=None)
    rep = region.reps[0].id
    with TestClient(create_app(settings)) as client:
        state = client.app.state.planner
        with state.session_factory() as s:
            keys = {role: create_key(s, f"scale-{role}", role) for role in ("crm", "manager")}
            keys["rep"] = create_key(s, "scale-rep", "rep", rep)
            s.commit()

        def counts(plan: Plan) -> dict[str, int]:
            day = next(r.date for r in plan.routes if r.rep_id == rep and r.stops).isoformat()
            cases = [("crm", "/customers?limit=1000"), ("crm", "/customers?grade=A&active=true&limit=1000"),
                     ("crm", f"/customers?rep_id={rep}"), ("rep", "/customers?limit=1000"),
                     ("crm", "/customers/nearby?lat=30.27&lon=120.15&radius_km=50"), ("crm", "/reps"),
                     ("crm", "/plans"), ("rep", "/plans"), ("crm", f"/plans/{plan.plan_id}"),
                     ("crm", f"/plans/{plan.plan_id}/routes?rep_id={rep}&date={day}"),
                     ("rep", "/plans/latest/routes"), ("crm", f"/plans/{plan.plan_id}/locks"),
                     ("crm", "/visits?limit=1000"), ("crm", f"/visits?rep_id={rep}&limit=1000"),
                     ("rep", "/visits?limit=1000"), ("manager", "/jobs?status=done&limit=500"),
                     ("manager", f"/reps/{rep}/absences")]
            out = {}
            for role, path in cases:
                with statements(state.engine) as sent:
                    r = client.get(path, headers={"Authorization": f"Bearer {keys[role]}"})
                assert r.status_code == 200, (path, r.text[:300])
                out[f"{role} {path.split('?')[0]}".replace(plan.plan_id, "{plan_id}")] = len(sent)
            return out

        few = counts(seed(state.session_factory, region, 20, ["1" * 32], 10))
        many = counts(seed(state.session_factory, region, 400, ["2" * 32, "3" * 32], 300))
    assert many == few
    assert max(few.values()) <= 10, few


# ----------------------------------------------------------------------------------------------
# Migration 0004
# ----------------------------------------------------------------------------------------------
NEW_INDEXES = {
    "plan_routes": ("ix_plan_routes_rep_id_plan_id", ("rep_id", "plan_id")),
    "plan_stops": ("ix_plan_stops_route_id_seq", ("route_id", "seq")),
    "visits": ("ix_visits_rep_id_visited_at_id", ("rep_id", "visited_at", "id")),
    "jobs": ("ix_jobs_plan_id", ("plan_id",)),
}
MORE_NEW = {("visits", "ix_visits_customer_id_visited_at_id", ("customer_id", "visited_at", "id")),
            ("jobs", "ix_jobs_status_created_at", ("status", "created_at"))}
REPLACED = {("plan_stops", "ix_plan_stops_route_id", ("route_id",)), ("visits", "ix_visits_rep_id", ("rep_id",)),
            ("visits", "ix_visits_customer_id", ("customer_id",)), ("jobs", "ix_jobs_status", ("status",))}


def indexes(engine) -> set[tuple[str, str, tuple[str, ...]]]:
    insp = inspect(engine)
    return {(t, i["name"], tuple(i["column_names"])) for t in ("plan_routes", "plan_stops", "visits", "jobs")
            for i in insp.get_indexes(t)}


def test_migration_0004_creates_the_indexes_of_the_api_filters(fresh_engine):
    from planner.db.session import current_revision, init_db

    new = {(t, name, cols) for t, (name, cols) in NEW_INDEXES.items()} | MORE_NEW
    init_db(fresh_engine, "0003")
    assert not new & indexes(fresh_engine) and REPLACED <= indexes(fresh_engine)
    init_db(fresh_engine)
    assert current_revision(fresh_engine) == "0004"
    got = indexes(fresh_engine)
    assert new <= got and not REPLACED & got
    from alembic import command

    from planner.db.session import alembic_config
    cfg = alembic_config(fresh_engine)
    with fresh_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    assert not new & indexes(fresh_engine) and REPLACED <= indexes(fresh_engine)
