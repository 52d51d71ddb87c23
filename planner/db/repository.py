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
from typing import Any, Iterable, Sequence, TypeVar

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.orm import Session

from planner.db.models import (AbsenceRow, CustomerRow, PlanAssignmentRow, PlanLockRow, PlanRouteRow, PlanRow,
                               PlanStopRow, PlanUnassignedRow, RepRow)
from planner.domain import (Absence, Customer, Frequency, Location, Lock, LunchBreak, Plan, Region, Rep, Route,
                            Stop, TimeWindow, Unassigned, VisitPolicy, format_windows, format_workdays,
                            parse_windows, parse_workdays)

LATEST = "latest"
_CHUNK = 500  # ids per IN (...) list

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


def _upsert(session: Session, model: type, rows: list[dict[str, Any]]) -> tuple[int, int]:
    by_id = {r["id"]: r for r in rows}  # the last of repeated ids wins
    ids = list(by_id)
    existing: set[str] = set()
    for chunk in _chunks(ids):
        existing.update(session.scalars(select(model.id).where(model.id.in_(chunk))))
    new = [by_id[i] for i in ids if i not in existing]
    old = [by_id[i] for i in ids if i in existing]
    if new:
        session.execute(insert(model), new)
    if old:
        session.execute(update(model), old)  # ORM bulk UPDATE by primary key
    return len(new), len(old)


def upsert_customers(session: Session, customers: Iterable[Customer]) -> tuple[int, int]:
    """Insert new customers and update known ones (by id). Returns ``(inserted, updated)``."""
    now = dt.datetime.now()
    return _upsert(session, CustomerRow, [customer_to_row(c, now) for c in customers])


def upsert_reps(session: Session, reps: Iterable[Rep]) -> tuple[int, int]:
    """Insert new reps and update known ones (by id). Returns ``(inserted, updated)``."""
    now = dt.datetime.now()
    return _upsert(session, RepRow, [rep_to_row(p, now) for p in reps])


def load_customers(session: Session) -> list[Customer]:
    """Every stored customer (inactive ones included), sorted by id."""
    return [row_to_customer(r) for r in session.scalars(select(CustomerRow).order_by(CustomerRow.id))]


def load_reps(session: Session) -> list[Rep]:
    """Every stored rep, sorted by id."""
    return [row_to_rep(r) for r in session.scalars(select(RepRow).order_by(RepRow.id))]


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
    A plan stored earlier under the same id is replaced.
    """
    plan_id = plan.plan_id or uuid.uuid4().hex
    old = session.get(PlanRow, plan_id)
    if old is not None:
        session.delete(old)  # routes, stops... go by ON DELETE CASCADE
        session.flush()
    row = PlanRow(id=plan_id, created_at=plan.created_at or dt.datetime.now(), start=plan.start,
                  weeks=plan.weeks, seed=plan.seed, time_limit=float(plan.time_limit),
                  kpis=dict(kpis or {}), status=status, parent_id=plan.parent_id,
                  frozen_before=plan.frozen_before, changes=list(changes) if changes is not None else None)
    for i, r in enumerate(plan.routes):
        route = PlanRouteRow(seq=i, rep_id=r.rep_id, date=r.date, depart=r.depart, back=r.back,
                             lunch_start=r.lunch_start, distance_km=float(r.distance_km),
                             drive_minutes=float(r.drive_minutes), cost=float(r.cost))
        route.stops = [PlanStopRow(seq=k, customer_id=s.customer_id, arrival=s.arrival, start=s.start,
                                   end=s.end) for k, s in enumerate(r.stops)]
        row.routes.append(route)
    row.unassigned = [PlanUnassignedRow(seq=i, customer_id=u.customer_id, date=u.date, code=u.code,
                                        reason=u.reason) for i, u in enumerate(plan.unassigned)]
    cids = sorted(set(plan.assignment) | set(plan.patterns) | set(plan.facts))
    row.assignments = [PlanAssignmentRow(
        customer_id=c, rep_id=plan.assignment.get(c),
        pattern=_pattern_text(plan.patterns[c]) if c in plan.patterns else None,
        facts=plan.facts.get(c)) for c in cids]
    session.add(row)
    session.flush()
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

    Raises :class:`PlanNotFound`.
    """
    p = _plan_row(session, plan_id)
    routes = session.scalars(select(PlanRouteRow).where(PlanRouteRow.plan_id == p.id)
                             .order_by(PlanRouteRow.seq)).all()
    stops: dict[int, list[Stop]] = defaultdict(list)
    q = (select(PlanStopRow).join(PlanRouteRow, PlanStopRow.route_id == PlanRouteRow.id)
         .where(PlanRouteRow.plan_id == p.id).order_by(PlanStopRow.route_id, PlanStopRow.seq))
    for s in session.scalars(q):
        stops[s.route_id].append(Stop(s.customer_id, s.arrival, s.start, s.end))
    unassigned = session.scalars(select(PlanUnassignedRow).where(PlanUnassignedRow.plan_id == p.id)
                                 .order_by(PlanUnassignedRow.seq)).all()
    assignment: dict[str, str] = {}
    patterns: dict[str, tuple[int, ...]] = {}
    facts: dict[str, str] = {}
    for a in session.scalars(select(PlanAssignmentRow).where(PlanAssignmentRow.plan_id == p.id)
                             .order_by(PlanAssignmentRow.customer_id)):
        if a.rep_id is not None:
            assignment[a.customer_id] = a.rep_id
        if a.pattern is not None:
            patterns[a.customer_id] = _pattern_days(a.pattern)
        if a.facts is not None:
            facts[a.customer_id] = a.facts
    return Plan(
        plan_id=p.id, start=p.start, weeks=p.weeks,
        routes=tuple(Route(rep_id=r.rep_id, date=r.date, stops=tuple(stops.get(r.id, ())), depart=r.depart,
                           back=r.back, lunch_start=r.lunch_start, distance_km=r.distance_km,
                           drive_minutes=r.drive_minutes, cost=r.cost) for r in routes),
        unassigned=tuple(Unassigned(u.customer_id, u.date, u.code, u.reason) for u in unassigned),
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
