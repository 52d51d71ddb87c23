"""Reading and writing domain objects. Every function takes an open :class:`Session` and leaves
committing to the caller (so that an import or a plan is written in one transaction).

Conversions are exact: a plan saved with :func:`save_plan` loads back equal with
:func:`load_plan` (naive wall-clock datetimes, dates, double-precision floats, route and
unassigned order, the assignment and pattern mappings).
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from types import MappingProxyType
from typing import Any, Iterable, NamedTuple, Sequence, TypeVar

from sqlalchemy import ColumnElement, Select, Table, any_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from planner.db.models import (AbsenceRow, CustomerRow, JobRow, MapCacheRow, PlanAssignmentRow, PlanLockRow,
                               PlanRouteRow, PlanRow, PlanStopRow, PlanUnassignedRow, RepRow)
from planner.domain import (Absence, Customer, Frequency, Location, Lock, LunchBreak, Plan, Region, Rep, Route,
                            Stop, TimeWindow, Unassigned, VisitPolicy, format_windows, format_workdays,
                            parse_windows, parse_workdays)

LATEST = "latest"
_CHUNK = 500  # ids per IN (...) list
_ARRAY_CHUNK = 10000  # ids per = ANY(array) (PostgreSQL)
_WRITE_CHUNK = 1000  # rows per executemany of a bulk write

T = TypeVar("T")


class PlanNotFound(LookupError):
    """No stored plan has the requested id (or no plan is stored at all, for ``latest``)."""

    def __init__(self, plan_id: str):
        self.plan_id = plan_id
        super().__init__("no plan is stored yet" if plan_id == LATEST else f"no stored plan has id {plan_id!r}")


# ----------------------------------------------------------------------------------------------
# Customers and reps
# ----------------------------------------------------------------------------------------------
def customer_to_row(c: Customer, now: dt.datetime | None = None) -> dict[str, Any]:
    """Column values of a customer."""
    return {
        "id": c.id, "name": c.name, "address": c.address, "lat": c.location.lat, "lon": c.location.lon,
        "grade": c.grade, "frequency": str(c.frequency) if c.frequency is not None else None,
        "visit_minutes": c.visit_minutes, "opening": format_windows(c.opening), "rep_id": c.rep_id,
        "active": c.active, "region": c.region, "phone": c.phone, "updated_at": now or dt.datetime.now(),
    }


def row_to_customer(r: CustomerRow) -> Customer:
    """The domain customer of a row."""
    return Customer(
        id=r.id, name=r.name, location=Location(r.lat, r.lon), grade=r.grade,
        frequency=Frequency.parse(r.frequency) if r.frequency else None,
        visit_minutes=r.visit_minutes, opening=parse_windows(r.opening), rep_id=r.rep_id,
        active=bool(r.active), address=r.address, region=r.region,
        phone=r.phone)


def rep_to_row(p: Rep, now: dt.datetime | None = None) -> dict[str, Any]:
    """Column values of a rep (no lunch break: NULL lunch columns)."""
    return {
        "id": p.id, "name": p.name, "start_lat": p.start.lat, "start_lon": p.start.lon,
        "end_lat": p.end.lat if p.end else None, "end_lon": p.end.lon if p.end else None,
        "work_start": p.work_start, "work_end": p.work_end, "workdays": format_workdays(p.workdays),
        "max_visits_per_day": p.max_visits_per_day, "cost_per_km": p.cost_per_km,
        "cost_per_hour": p.cost_per_hour,
        "lunch_minutes": p.lunch.minutes if p.lunch else None,
        "lunch_earliest": p.lunch.earliest if p.lunch else None,
        "lunch_latest": p.lunch.latest if p.lunch else None,
        "updated_at": now or dt.datetime.now(),
    }


def row_to_rep(r: RepRow) -> Rep:
    """The domain rep of a row."""
    lunch = None
    if r.lunch_minutes is not None:
        lunch = LunchBreak(r.lunch_minutes, r.lunch_earliest, r.lunch_latest)
    return Rep(
        id=r.id, name=r.name, start=Location(r.start_lat, r.start_lon),
        end=Location(r.end_lat, r.end_lon) if r.end_lat is not None and r.end_lon is not None else None,
        work_start=r.work_start, work_end=r.work_end, workdays=parse_workdays(r.workdays),
        max_visits_per_day=r.max_visits_per_day, cost_per_km=r.cost_per_km,
        cost_per_hour=r.cost_per_hour, lunch=lunch)


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def ids_in(session: Session, column: Any, ids: Sequence[Any]) -> list[ColumnElement[bool]]:
    """Conditions that together select the rows whose ``column`` is one of ``ids``: run one
    statement per condition and combine the results.

    PostgreSQL: ``column = ANY(:array)``, one per ``_ARRAY_CHUNK`` ids; the statement's text does
    not depend on the number of ids, and its plan uses the index. (Repeated ``IN (…)`` lists of one
    length on one connection become a prepared statement whose generic plan scans the table:
    0.4 s per 500 ids in a table of 20,000.) Other databases: ``IN`` lists of ``_CHUNK`` ids.
    """
    if session.get_bind().dialect.name == "postgresql":
        array = ARRAY(column.type)
        return [column == any_(bindparam(None, list(chunk), type_=array)) for chunk in _chunks(ids, _ARRAY_CHUNK)]
    return [column.in_(chunk) for chunk in _chunks(ids)]


class UpsertCounts(NamedTuple):
    """What a bulk upsert did: rows ``inserted``, ``updated`` (a value changed) and left
    ``unchanged`` (every given value equal: not written, ``updated_at`` kept)."""

    inserted: int
    updated: int
    unchanged: int


def _upsert_statement(session: Session, table: Table, keys: Sequence[str]) -> Any:
    """``INSERT … ON CONFLICT (id) DO UPDATE SET`` every given column (PostgreSQL, SQLite);
    None for other dialects."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        return None
    stmt = dialect_insert(table)
    return stmt.on_conflict_do_update(index_elements=[table.c.id],
                                      set_={k: stmt.excluded[k] for k in keys if k != "id"})


def _executemany_batches(session: Session) -> bool:
    """Whether an ``executemany`` of an INSERT reaches the server without a round trip per row:
    SQLite (in process), psycopg 3 in pipeline mode (libpq 14+), psycopg2 (multi-row VALUES).
    Otherwise the INSERT gets a RETURNING clause, which makes SQLAlchemy send multi-row VALUES
    pages ("insertmanyvalues")."""
    dialect = session.get_bind().dialect
    if dialect.name == "sqlite" or dialect.driver == "psycopg2":
        return True
    if dialect.driver == "psycopg":
        import psycopg
        return psycopg.Pipeline.is_supported()
    return False


def _insert_many(session: Session, stmt: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Execute an INSERT for ``rows`` in chunks of ``_WRITE_CHUNK``, one executemany each."""
    if not rows:
        return
    batched = _executemany_batches(session)
    for chunk in _chunks(rows, _WRITE_CHUNK):
        if batched:
            session.execute(stmt, list(chunk))
        else:
            session.execute(stmt.returning(*stmt.table.primary_key.columns), list(chunk)).all()


def bulk_upsert(session: Session, model: type, rows: Iterable[dict[str, Any]], *,
                now: dt.datetime | None = None) -> UpsertCounts:
    """Insert new rows of ``model`` (a table with a string ``id`` primary key), update those
    with a changed value, leave equal ones alone; returns :class:`UpsertCounts`.

    Each row is a dict of column values with ``id``; only the given columns are written (others
    keep their value, or get their default in a new row). Of repeated ids the last wins. A
    written row gets ``updated_at = now`` (default: the current local time), an unchanged row
    keeps its ``updated_at`` (any ``updated_at`` in ``rows`` is ignored). Statements: one SELECT
    of the stored values per condition of :func:`ids_in`, then one ``INSERT … ON CONFLICT (id)
    DO UPDATE`` executemany per ``_WRITE_CHUNK`` written rows (no round trip per row on SQLite
    and psycopg); none for unchanged rows. Loaded ``model`` objects of written rows are expired. The caller
    commits.
    """
    table: Table = model.__table__
    now = now or dt.datetime.now()
    by_id: dict[str, dict[str, Any]] = {}
    for r in rows:
        by_id[r["id"]] = {k: v for k, v in r.items() if k != "updated_at"}
    if not by_id:
        return UpsertCounts(0, 0, 0)
    session.flush()  # pending objects are stored (and compared) first
    ids = list(by_id)
    stored: dict[str, Any] = {}
    for cond in ids_in(session, table.c.id, ids):
        for row in session.execute(select(table).where(cond)).mappings():
            stored[row["id"]] = row
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    unchanged = 0
    for i in ids:
        values = by_id[i]
        old = stored.get(i)
        if old is None:
            new.append(values)
        elif any(old[k] != v for k, v in values.items()):
            changed.append(values)
        else:
            unchanged += 1
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for values in new + changed:
        groups[tuple(values)].append({**values, "updated_at": now})
    for keys, group in groups.items():
        stmt = _upsert_statement(session, table, (*keys, "updated_at"))
        if stmt is not None:
            _insert_many(session, stmt, group)
        else:  # another dialect: plain INSERT of the new rows, UPDATE by primary key of the others
            _insert_many(session, insert(table), [g for g in group if g["id"] not in stored])
            old_rows = [g for g in group if g["id"] in stored]
            if old_rows:
                session.execute(update(model), old_rows)
    if changed:
        written = {v["id"] for v in changed}
        for obj in list(session.identity_map.values()):
            if isinstance(obj, model) and obj.id in written:
                session.expire(obj)
    return UpsertCounts(len(new), len(changed), unchanged)


def upsert_customers(session: Session, customers: Iterable[Customer]) -> tuple[int, int]:
    """Insert new customers and update known ones (by id). Returns ``(inserted, updated)``;
    ``updated`` counts every known customer, changed or not (see :func:`bulk_upsert`: unchanged
    rows are not written and keep their ``updated_at``)."""
    now = dt.datetime.now()
    counts = bulk_upsert(session, CustomerRow, [customer_to_row(c, now) for c in customers], now=now)
    return counts.inserted, counts.updated + counts.unchanged


def upsert_reps(session: Session, reps: Iterable[Rep]) -> tuple[int, int]:
    """Insert new reps and update known ones (by id). Returns ``(inserted, updated)``, as
    :func:`upsert_customers`. Columns a file does not carry (region, active) are left alone."""
    now = dt.datetime.now()
    counts = bulk_upsert(session, RepRow, [rep_to_row(p, now) for p in reps], now=now)
    return counts.inserted, counts.updated + counts.unchanged


def load_customers(session: Session) -> list[Customer]:
    """Every stored customer (inactive ones included), sorted by id."""
    table = CustomerRow.__table__  # plain rows (same attribute names): no ORM objects to build
    return [row_to_customer(r) for r in session.execute(select(table).order_by(table.c.id))]


def load_reps(session: Session) -> list[Rep]:
    """Every stored rep, sorted by id."""
    table = RepRow.__table__
    return [row_to_rep(r) for r in session.execute(select(table).order_by(table.c.id))]


def load_region(session: Session, policy: VisitPolicy | None = None) -> Region:
    """All customers (inactive included) and reps, sorted by id, with ``policy``."""
    return Region(customers=tuple(load_customers(session)), reps=tuple(load_reps(session)),
                  policy=policy or VisitPolicy())


def delete_customer(session: Session, customer_id: str) -> dict[str, int]:
    """Remove a customer and every trace of it in stored plans (stops, unassigned visits,
    assignments), e.g. when the customer asks to be removed from the database.

    Returns how many rows went from each table. Route totals of stored plans are left as they
    were computed.
    """
    for row in session.scalars(select(PlanRow).where(PlanRow.changes.is_not(None))):
        kept = [c for c in row.changes or [] if c.get("customer_id") != customer_id]
        if len(kept) != len(row.changes or []):
            row.changes = kept
    session.flush()
    counts = {
        "plan_locks": session.execute(delete(PlanLockRow).where(PlanLockRow.customer_id == customer_id)).rowcount,
        "plan_stops": session.execute(delete(PlanStopRow).where(PlanStopRow.customer_id == customer_id)).rowcount,
        "plan_unassigned": session.execute(
            delete(PlanUnassignedRow).where(PlanUnassignedRow.customer_id == customer_id)).rowcount,
        "plan_assignments": session.execute(
            delete(PlanAssignmentRow).where(PlanAssignmentRow.customer_id == customer_id)).rowcount,
        "customers": session.execute(delete(CustomerRow).where(CustomerRow.id == customer_id)).rowcount,
    }
    session.expire_all()
    return counts


# ----------------------------------------------------------------------------------------------
# Plans
# ----------------------------------------------------------------------------------------------
def _pattern_text(days: Sequence[int]) -> str:
    return ",".join(str(d) for d in days)


def _pattern_days(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",")) if text else ()


def save_plan(session: Session, plan: Plan, kpis: dict | None = None, *, status: str = "done",
              changes: Sequence[dict[str, Any]] | None = None) -> str:
    """Store ``plan`` with its ``kpis`` (and, for a re-plan, its change report); returns its id.

    An empty ``plan_id`` gets a new uuid hex, a missing ``created_at`` the current local time.
    A plan stored earlier under the same id is replaced (its routes, stops, locks and maps go
    with it by ON DELETE CASCADE).

    Written in bulk: the plan row, one executemany per table (routes, stops, unassigned visits,
    assignments; in chunks of ``_WRITE_CHUNK`` rows) and one SELECT of the new routes' ids, so
    the number of statements does not grow with the plan.
    """
    plan_id = plan.plan_id or uuid.uuid4().hex
    session.flush()  # pending changes first, as the unit of work would
    replaced = session.execute(delete(PlanRow).where(PlanRow.id == plan_id)).rowcount > 0
    session.execute(insert(PlanRow.__table__).values(
        id=plan_id, created_at=plan.created_at or dt.datetime.now(), start=plan.start, weeks=plan.weeks,
        seed=plan.seed, time_limit=float(plan.time_limit), kpis=dict(kpis or {}), status=status,
        parent_id=plan.parent_id, frozen_before=plan.frozen_before,
        changes=list(changes) if changes is not None else None))
    _insert_many(session, insert(PlanRouteRow.__table__), [
        {"plan_id": plan_id, "seq": i, "rep_id": r.rep_id, "date": r.date, "depart": r.depart, "back": r.back,
         "lunch_start": r.lunch_start, "distance_km": float(r.distance_km), "drive_minutes": float(r.drive_minutes),
         "cost": float(r.cost)} for i, r in enumerate(plan.routes)])
    if any(r.stops for r in plan.routes):
        route_ids = dict(session.execute(select(PlanRouteRow.seq, PlanRouteRow.id)
                                         .where(PlanRouteRow.plan_id == plan_id)).all())
        _insert_many(session, insert(PlanStopRow.__table__), [
            {"route_id": route_ids[i], "seq": k, "customer_id": s.customer_id, "arrival": s.arrival,
             "start": s.start, "end": s.end}
            for i, r in enumerate(plan.routes) for k, s in enumerate(r.stops)])
    _insert_many(session, insert(PlanUnassignedRow.__table__), [
        {"plan_id": plan_id, "seq": i, "customer_id": u.customer_id, "date": u.date, "code": u.code,
         "reason": u.reason} for i, u in enumerate(plan.unassigned)])
    cids = sorted(set(plan.assignment) | set(plan.patterns) | set(plan.facts))
    _insert_many(session, insert(PlanAssignmentRow.__table__), [
        {"plan_id": plan_id, "customer_id": c, "rep_id": plan.assignment.get(c),
         "pattern": _pattern_text(plan.patterns[c]) if c in plan.patterns else None,
         "facts": plan.facts.get(c)} for c in cids])
    if replaced:  # objects of the old plan loaded in this session are gone from the database
        stale = (PlanRouteRow, PlanStopRow, PlanUnassignedRow, PlanAssignmentRow, PlanLockRow, MapCacheRow, JobRow)
        for obj in list(session.identity_map.values()):
            if isinstance(obj, stale):
                session.expire(obj)
    return plan_id


def _plan_row(session: Session, plan_id: str) -> PlanRow:
    if plan_id == LATEST:
        q: Select = select(PlanRow).order_by(PlanRow.created_at.desc(), PlanRow.id.desc()).limit(1)
        row = session.scalars(q).first()
    else:
        row = session.get(PlanRow, plan_id)
    if row is None:
        raise PlanNotFound(plan_id)
    return row


def load_plan(session: Session, plan_id: str = LATEST) -> Plan:
    """The stored plan with ``plan_id``, or the most recently created one for ``"latest"``.

    Five statements whatever the plan's size (plan, routes, stops, unassigned, assignments),
    read as plain rows. Raises :class:`PlanNotFound`.
    """
    p = _plan_row(session, plan_id)
    routes = session.execute(
        select(PlanRouteRow.id, PlanRouteRow.rep_id, PlanRouteRow.date, PlanRouteRow.depart, PlanRouteRow.back,
               PlanRouteRow.lunch_start, PlanRouteRow.distance_km, PlanRouteRow.drive_minutes, PlanRouteRow.cost)
        .where(PlanRouteRow.plan_id == p.id).order_by(PlanRouteRow.seq)).all()
    stops: dict[int, list[Stop]] = defaultdict(list)
    q = (select(PlanStopRow.route_id, PlanStopRow.customer_id, PlanStopRow.arrival, PlanStopRow.start,
                PlanStopRow.end)
         .join(PlanRouteRow, PlanStopRow.route_id == PlanRouteRow.id)
         .where(PlanRouteRow.plan_id == p.id).order_by(PlanStopRow.route_id, PlanStopRow.seq))
    for route_id, cid, arrival, start, end in session.execute(q):
        stops[route_id].append(Stop(cid, arrival, start, end))
    unassigned = session.execute(
        select(PlanUnassignedRow.customer_id, PlanUnassignedRow.date, PlanUnassignedRow.code,
               PlanUnassignedRow.reason)
        .where(PlanUnassignedRow.plan_id == p.id).order_by(PlanUnassignedRow.seq)).all()
    assignment: dict[str, str] = {}
    patterns: dict[str, tuple[int, ...]] = {}
    facts: dict[str, str] = {}
    for cid, rep_id, pattern, fact in session.execute(
            select(PlanAssignmentRow.customer_id, PlanAssignmentRow.rep_id, PlanAssignmentRow.pattern,
                   PlanAssignmentRow.facts)
            .where(PlanAssignmentRow.plan_id == p.id).order_by(PlanAssignmentRow.customer_id)):
        if rep_id is not None:
            assignment[cid] = rep_id
        if pattern is not None:
            patterns[cid] = _pattern_days(pattern)
        if fact is not None:
            facts[cid] = fact
    return Plan(
        plan_id=p.id, start=p.start, weeks=p.weeks,
        routes=tuple(Route(rep_id=r.rep_id, date=r.date, stops=tuple(stops.get(r.id, ())), depart=r.depart,
                           back=r.back, lunch_start=r.lunch_start, distance_km=r.distance_km,
                           drive_minutes=r.drive_minutes, cost=r.cost) for r in routes),
        unassigned=tuple(Unassigned(cid, day, code, reason) for cid, day, code, reason in unassigned),
        assignment=MappingProxyType(assignment), patterns=MappingProxyType(patterns),
        created_at=p.created_at, seed=p.seed, time_limit=p.time_limit, parent_id=p.parent_id,
        frozen_before=p.frozen_before, facts=MappingProxyType(facts))


def plan_changes(session: Session, plan_id: str = LATEST) -> list[dict[str, Any]] | None:
    """The change report stored with a re-plan (None for a plan made from scratch)."""
    row = _plan_row(session, plan_id)
    return list(row.changes) if row.changes is not None else None


def resolve_plan_id(session: Session, plan_id: str = LATEST) -> str:
    """The id of ``plan_id`` (``"latest"`` resolved). Raises :class:`PlanNotFound`."""
    return _plan_row(session, plan_id).id


def plan_kpis_of(session: Session, plan_id: str = LATEST) -> dict:
    """The KPIs stored with a plan (``"latest"`` allowed). Raises :class:`PlanNotFound`."""
    return dict(_plan_row(session, plan_id).kpis or {})


def list_plans(session: Session) -> list[dict[str, Any]]:
    """A summary of each stored plan, newest first: ``plan_id``, ``created_at`` (ISO),
    ``start``/``end`` (ISO dates), ``weeks``, ``seed``, ``time_limit``, ``status``, ``routes``
    (number of rep-days), ``unassigned`` and ``kpis``."""
    n_routes = dict(session.execute(select(PlanRouteRow.plan_id, func.count()).group_by(PlanRouteRow.plan_id)).all())
    n_unassigned = dict(session.execute(
        select(PlanUnassignedRow.plan_id, func.count()).group_by(PlanUnassignedRow.plan_id)).all())
    out = []
    for p in session.scalars(select(PlanRow).order_by(PlanRow.created_at.desc(), PlanRow.id.desc())):
        end = p.start + dt.timedelta(days=7 * p.weeks - 1)
        out.append({
            "plan_id": p.id, "created_at": p.created_at.isoformat(), "start": p.start.isoformat(),
            "end": end.isoformat(), "weeks": p.weeks, "seed": p.seed, "time_limit": p.time_limit,
            "status": p.status, "routes": n_routes.get(p.id, 0), "unassigned": n_unassigned.get(p.id, 0),
            "kpis": dict(p.kpis or {}),
        })
    return out


def delete_plan(session: Session, plan_id: str) -> bool:
    """Remove a stored plan with its routes, stops, unassigned visits and assignments."""
    return session.execute(delete(PlanRow).where(PlanRow.id == plan_id)).rowcount > 0


# ----------------------------------------------------------------------------------------------
# Absences and locks
# ----------------------------------------------------------------------------------------------
def add_absence(session: Session, absence: Absence) -> int:
    """Store a rep absence; returns its id."""
    row = AbsenceRow(rep_id=absence.rep_id, start=absence.start, end=absence.end, reason=absence.reason,
                     created_at=dt.datetime.now().replace(microsecond=0))
    session.add(row)
    session.flush()
    return row.id


def list_absences(session: Session, rep_id: str | None = None) -> list[tuple[int, Absence]]:
    """Stored absences (id, absence), by rep and start date; only ``rep_id``'s if given."""
    q = select(AbsenceRow).order_by(AbsenceRow.rep_id, AbsenceRow.start, AbsenceRow.id)
    if rep_id is not None:
        q = q.where(AbsenceRow.rep_id == rep_id)
    return [(r.id, Absence(r.rep_id, r.start, r.end, r.reason)) for r in session.scalars(q)]


def load_absences(session: Session) -> dict[str, frozenset[dt.date]]:
    """Rep id -> every date the rep is away (all stored absences)."""
    from planner.domain import absent_days
    return absent_days(a for _, a in list_absences(session))


def delete_absence(session: Session, absence_id: int, rep_id: str | None = None) -> bool:
    """Remove an absence (only if it belongs to ``rep_id`` when given)."""
    q = delete(AbsenceRow).where(AbsenceRow.id == absence_id)
    if rep_id is not None:
        q = q.where(AbsenceRow.rep_id == rep_id)
    return session.execute(q).rowcount > 0


def _lock_of(r: PlanLockRow) -> Lock:
    at = r.start_min if r.start_min is not None and r.end_min == r.start_min else None
    window = TimeWindow(r.start_min, r.end_min) if r.start_min is not None and r.end_min != r.start_min else None
    return Lock(r.customer_id, r.date, r.rep_id, at, window)


def add_lock(session: Session, plan_id: str, lock: Lock) -> int:
    """Store a fixed appointment on a plan (replacing one for the same customer and date)."""
    session.execute(delete(PlanLockRow).where(PlanLockRow.plan_id == plan_id,
                                              PlanLockRow.customer_id == lock.customer_id,
                                              PlanLockRow.date == lock.date))
    win = lock.start_window
    row = PlanLockRow(plan_id=plan_id, customer_id=lock.customer_id, date=lock.date, rep_id=lock.rep_id,
                      start_min=win[0] if win else None, end_min=win[1] if win else None,
                      created_at=dt.datetime.now().replace(microsecond=0))
    session.add(row)
    session.flush()
    return row.id


def list_locks(session: Session, plan_id: str) -> list[tuple[int, Lock]]:
    """The locks of a plan (id, lock), by date and customer."""
    q = (select(PlanLockRow).where(PlanLockRow.plan_id == plan_id)
         .order_by(PlanLockRow.date, PlanLockRow.customer_id, PlanLockRow.id))
    return [(r.id, _lock_of(r)) for r in session.scalars(q)]


def load_locks(session: Session, plan_id: str) -> list[Lock]:
    """The locks of a plan."""
    return [lk for _, lk in list_locks(session, plan_id)]


def delete_lock(session: Session, plan_id: str, lock_id: int) -> bool:
    """Remove a lock of a plan."""
    return session.execute(delete(PlanLockRow).where(PlanLockRow.plan_id == plan_id,
                                                     PlanLockRow.id == lock_id)).rowcount > 0


# ----------------------------------------------------------------------------------------------
# Visit records read by planning
# ----------------------------------------------------------------------------------------------
MISSED = ("absent", "rescheduled")  # visit outcomes that leave the visit owed (frequency debt)


def missed_visits(session: Session, since: dt.date, until: dt.date) -> set[tuple[str, dt.date]]:
    """(customer id, date) of visits recorded as missed (absent, rescheduled) in ``[since, until)``
    with no visit recorded as done for that customer later that day or after."""
    from planner.db.models import VisitRow
    lo, hi = dt.datetime.combine(since, dt.time()), dt.datetime.combine(until, dt.time())
    rows = session.execute(select(VisitRow.customer_id, VisitRow.visited_at, VisitRow.outcome)
                           .where(VisitRow.visited_at >= lo, VisitRow.visited_at < hi)
                           .order_by(VisitRow.visited_at, VisitRow.id)).all()
    out: set[tuple[str, dt.date]] = set()
    for cid, at, outcome in rows:
        if outcome in MISSED:
            out.add((cid, at.date()))
        elif outcome == "done":
            out = {(c, d) for c, d in out if c != cid}
    return out
