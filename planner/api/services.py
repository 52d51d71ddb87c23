"""What the routes do, apart from HTTP: validating bulk upserts item by item, erasing a customer
everywhere, who may see what, frequency debt, and the cache of rendered maps."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from types import MappingProxyType
from typing import Any, Callable, Iterable

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from planner.api.schemas import MISSED_OUTCOMES, CustomerIn, CustomerOut, RepIn, RepOut
from planner.api.security import Principal
from planner.db import repository
from planner.db.models import (CustomerRow, JobRow, MapCacheRow, PlanAssignmentRow, PlanRouteRow, PlanRow,
                               PlanStopRow, PlanUnassignedRow, RepRow, VisitRow)
from planner.domain import (Customer, DomainError, Frequency, Location, LunchBreak, Plan, Rep, VisitPolicy,
                            format_hhmm, format_windows, parse_hhmm, parse_windows, parse_workdays)


class BulkRejected(ValueError):
    """A bulk request with bad items: ``errors`` in FastAPI's 422 shape (``loc``, ``msg``, ``type``)."""

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        super().__init__(f"{len(errors)} error(s)")


def _err(loc: list[Any], msg: str, typ: str = "value_error", value: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"loc": loc, "msg": msg, "type": typ}
    if value is not None:
        out["input"] = value
    return out


def _pydantic_errors(e: ValidationError, prefix: list[Any]) -> list[dict[str, Any]]:
    return [_err(prefix + list(x["loc"]), x["msg"], x["type"]) for x in e.errors(include_url=False)]


def _validate_items(body: Any, model: type, check: Callable[[Any, int, list], Any]) -> list[Any]:
    """Validate a JSON array of ``model`` items, then each with ``check`` (domain rules).

    Every bad item and field is collected; raises :class:`BulkRejected` if any."""
    if not isinstance(body, list):
        raise BulkRejected([_err(["body"], "expected a JSON array of items", "list_type")])
    if not body:
        raise BulkRejected([_err(["body"], "the array is empty", "too_short")])
    if len(body) > 10000:
        raise BulkRejected([_err(["body"], "at most 10000 items per request", "too_long")])
    adapter = TypeAdapter(model)
    errors: list[dict[str, Any]] = []
    out: list[Any] = []
    first_index: dict[str, int] = {}
    for i, raw in enumerate(body):
        try:
            item = adapter.validate_python(raw)
        except ValidationError as e:
            errors.extend(_pydantic_errors(e, ["body", i]))
            continue
        if item.id in first_index:
            errors.append(_err(["body", i, "id"], f"duplicate id {item.id!r} (also item {first_index[item.id]})"))
            continue
        first_index[item.id] = i
        obj = check(item, i, errors)
        if obj is not None:
            out.append(obj)
    if errors:
        raise BulkRejected(errors)
    return out


# ----------------------------------------------------------------------------------------------
# Customers
# ----------------------------------------------------------------------------------------------
def customer_from_in(item: CustomerIn, i: int | None, errors: list, policy: VisitPolicy,
                     geocode: Callable[[str], Location] | None = None) -> Customer | None:
    """The domain customer of an API item; problems go to ``errors`` (loc ``body, i, field``)."""
    loc = ["body"] + ([i] if i is not None else [])
    n = len(errors)
    grades = {g.casefold(): g for g in policy.grades}
    grade = grades.get(item.grade.casefold())
    if grade is None:
        errors.append(_err(loc + ["grade"], f"{item.grade!r} is not a grade of the visit policy "
                                            f"({', '.join(policy.grades)})"))
    freq = None
    if item.frequency:
        try:
            freq = Frequency.parse(item.frequency)
        except DomainError as e:
            errors.append(_err(loc + ["frequency"], str(e)))
    opening = ()
    if item.open:
        try:
            opening = parse_windows(item.open)
        except DomainError as e:
            errors.append(_err(loc + ["open"], str(e)))
    location = None
    if (item.lat is None) != (item.lon is None):
        field = "lon" if item.lon is None else "lat"
        errors.append(_err(loc + [field], "lat and lon go together: give both or neither", "missing"))
    elif item.lat is not None:
        location = Location(item.lat, item.lon)
    elif item.address and geocode is not None:
        from planner.geo.geocode import GeocodeError
        try:
            location = geocode(item.address)
        except GeocodeError as e:
            errors.append(_err(loc + ["address"], f"could not be geocoded: {e}"))
    else:
        errors.append(_err(loc + ["lat"], "give lat and lon (or an address to geocode)", "missing"))
    if len(errors) > n:
        return None
    try:
        return Customer(id=item.id, name=item.name, location=location, grade=grade, frequency=freq,
                        visit_minutes=item.visit_minutes, opening=opening, rep_id=item.rep_id,
                        active=item.active, address=item.address or None, region=item.region or None,
                        phone=item.phone or None)
    except DomainError as e:
        errors.append(_err(loc + ["id"], f"not a valid customer: {e}"))
        return None


def validate_customers(body: Any, policy: VisitPolicy, geocode: Callable[[str], Location] | None) -> list[Customer]:
    return _validate_items(body, CustomerIn, lambda item, i, errors: customer_from_in(item, i, errors, policy, geocode))


def customer_out(r: CustomerRow) -> CustomerOut:
    return CustomerOut(id=r.id, name=r.name, address=r.address, lat=r.lat, lon=r.lon, grade=r.grade,
                       frequency=r.frequency, visit_minutes=r.visit_minutes, open=r.opening or "",
                       rep_id=r.rep_id, active=bool(r.active), region=r.region, phone=r.phone,
                       updated_at=r.updated_at)


def customer_in_of_row(r: CustomerRow) -> dict[str, Any]:
    """A row as the fields of :class:`CustomerIn` (to apply a patch)."""
    return {"id": r.id, "name": r.name, "address": r.address, "lat": r.lat, "lon": r.lon, "grade": r.grade,
            "frequency": r.frequency, "visit_minutes": r.visit_minutes, "open": r.opening or None,
            "rep_id": r.rep_id, "active": bool(r.active), "region": r.region, "phone": r.phone}


# ----------------------------------------------------------------------------------------------
# Reps
# ----------------------------------------------------------------------------------------------
def rep_from_in(item: RepIn, i: int | None, errors: list) -> tuple[Rep, dict[str, Any]] | None:
    """The domain rep of an API item plus its API-only columns (region, active)."""
    loc = ["body"] + ([i] if i is not None else [])
    n = len(errors)

    def tm(field: str) -> int | None:
        try:
            return parse_hhmm(getattr(item, field))
        except DomainError as e:
            errors.append(_err(loc + [field], str(e)))
            return None

    ws, we, le, ll = tm("work_start"), tm("work_end"), tm("lunch_earliest"), tm("lunch_latest")
    if ws is not None and we is not None and we <= ws:
        errors.append(_err(loc + ["work_end"], "must be after work_start"))
    try:
        workdays = parse_workdays(item.workdays)
        if not workdays:
            raise DomainError("names no workday")
    except DomainError as e:
        errors.append(_err(loc + ["workdays"], str(e)))
        workdays = None
    if (item.end_lat is None) != (item.end_lon is None):
        errors.append(_err(loc + ["end_lon" if item.end_lon is None else "end_lat"],
                           "end_lat and end_lon go together: give both or neither", "missing"))
    lunch = None
    if item.lunch_minutes and le is not None and ll is not None:
        try:
            lunch = LunchBreak(item.lunch_minutes, le, ll)
        except DomainError:
            errors.append(_err(loc + ["lunch_minutes"], "does not fit between lunch_earliest and lunch_latest"))
    if len(errors) > n:
        return None
    try:
        rep = Rep(id=item.id, name=item.name, start=Location(item.start_lat, item.start_lon),
                  end=Location(item.end_lat, item.end_lon) if item.end_lat is not None else None,
                  work_start=ws, work_end=we, workdays=workdays, max_visits_per_day=item.max_visits_per_day,
                  cost_per_km=item.cost_per_km, cost_per_hour=item.cost_per_hour, lunch=lunch)
    except DomainError as e:
        errors.append(_err(loc + ["id"], f"not a valid rep: {e}"))
        return None
    return rep, {"region": item.region or None, "active": item.active}


def validate_reps(body: Any) -> list[tuple[Rep, dict[str, Any]]]:
    return _validate_items(body, RepIn, lambda item, i, errors: rep_from_in(item, i, errors))


def rep_out(r: RepRow) -> RepOut:
    lunch = r.lunch_minutes is not None
    return RepOut(id=r.id, name=r.name, start_lat=r.start_lat, start_lon=r.start_lon, end_lat=r.end_lat,
                  end_lon=r.end_lon, work_start=format_hhmm(r.work_start), work_end=format_hhmm(r.work_end),
                  workdays=r.workdays, max_visits_per_day=r.max_visits_per_day, cost_per_km=r.cost_per_km,
                  cost_per_hour=r.cost_per_hour, lunch_minutes=r.lunch_minutes if lunch else 0,
                  lunch_earliest=format_hhmm(r.lunch_earliest if lunch else 690),
                  lunch_latest=format_hhmm(r.lunch_latest if lunch else 810),
                  region=r.region, active=bool(r.active), updated_at=r.updated_at)


def rep_in_of_row(r: RepRow) -> dict[str, Any]:
    o = rep_out(r).model_dump()
    o.pop("updated_at")
    return o


# ----------------------------------------------------------------------------------------------
# Idempotent upserts
# ----------------------------------------------------------------------------------------------
def upsert_rows(session: Session, model: type, rows: list[dict[str, Any]]) -> tuple[int, int, int]:
    """Insert new rows, update changed ones, leave equal ones alone (``updated_at`` included).

    Returns ``(inserted, updated, unchanged)``. Written in bulk (no statement per row, see
    :func:`planner.db.repository.bulk_upsert`). The caller commits."""
    counts = repository.bulk_upsert(session, model, rows, now=dt.datetime.now().replace(microsecond=0))
    return counts.inserted, counts.updated, counts.unchanged


def invalidate_maps(session: Session, plan_id: str | None = None) -> int:
    """Forget rendered maps (of one plan, or all): they show customer and rep data."""
    q = delete(MapCacheRow)
    if plan_id is not None:
        q = q.where(MapCacheRow.plan_id == plan_id)
    return session.execute(q).rowcount or 0


# ----------------------------------------------------------------------------------------------
# The right to be removed
# ----------------------------------------------------------------------------------------------
def erase_customer(session: Session, customer_id: str) -> tuple[dict[str, int], str | None] | None:
    """Remove a customer and every trace of it: its row, its stops, unplanned visits,
    assignments, locks and change-report entries in every stored plan, its visit records, its
    id in job records, and every rendered map. Returns ``(counts, address)`` (None if unknown). The caller commits, then
    forgets the address in the geocoding cache.

    The customer row is locked first, so a plan job storing a plan at the same time either
    stores before (and its stops are deleted here) or after (and drops the customer itself).
    """
    row = session.scalars(select(CustomerRow).where(CustomerRow.id == customer_id).with_for_update()).first()
    if row is None:
        return None
    address = row.address
    counts = repository.delete_customer(session, customer_id)
    counts["visits"] = session.execute(delete(VisitRow).where(VisitRow.customer_id == customer_id)).rowcount or 0
    counts["map_cache"] = invalidate_maps(session)
    scrubbed = 0
    for job in session.scalars(select(JobRow)):
        info = dict(job.info or {})
        changed = False
        for key, value in list(info.items()):
            if isinstance(value, list) and customer_id in value:
                info[key] = [v for v in value if v != customer_id]
                changed = True
        if changed:
            job.info = info
            scrubbed += 1
    counts["jobs"] = scrubbed
    session.flush()
    return counts, address


def drop_missing_customers(session: Session, plan: Plan) -> Plan:
    """``plan`` without the customers that are no longer stored (erased while it was solved).

    Locks the plan's customer rows (``FOR SHARE`` on PostgreSQL) until the caller commits."""
    ids = sorted({s.customer_id for r in plan.routes for s in r.stops} | {u.customer_id for u in plan.unassigned}
                 | set(plan.assignment))
    present: set[str] = set()
    for cond in repository.ids_in(session, CustomerRow.id, ids):  # = ANY(array) on PostgreSQL
        q = select(CustomerRow.id).where(cond)
        if session.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(read=True)
        present.update(session.scalars(q))
    gone = set(ids) - present
    if not gone:
        return plan
    return dataclasses.replace(
        plan,
        routes=tuple(dataclasses.replace(r, stops=tuple(s for s in r.stops if s.customer_id not in gone))
                     for r in plan.routes),
        unassigned=tuple(u for u in plan.unassigned if u.customer_id not in gone),
        assignment=MappingProxyType({k: v for k, v in plan.assignment.items() if k not in gone}),
        patterns=MappingProxyType({k: v for k, v in plan.patterns.items() if k not in gone}))


# ----------------------------------------------------------------------------------------------
# Who sees what
# ----------------------------------------------------------------------------------------------
def rep_customer_ids(session: Session, rep_id: str) -> set[str]:
    """Customers on the routes of ``rep_id`` in any stored plan."""
    q = (select(PlanStopRow.customer_id).join(PlanRouteRow, PlanStopRow.route_id == PlanRouteRow.id)
         .where(PlanRouteRow.rep_id == rep_id).distinct())
    return set(session.scalars(q))


def rep_has_customer(session: Session, rep_id: str, customer_id: str) -> bool:
    q = (select(PlanStopRow.id).join(PlanRouteRow, PlanStopRow.route_id == PlanRouteRow.id)
         .where(PlanRouteRow.rep_id == rep_id, PlanStopRow.customer_id == customer_id).limit(1))
    return session.scalars(q).first() is not None


def rep_plan_ids(session: Session, rep_id: str) -> set[str]:
    return set(session.scalars(select(PlanRouteRow.plan_id).where(PlanRouteRow.rep_id == rep_id).distinct()))


def plan_seen_by(plan: Plan, who: Principal) -> Plan:
    """The plan as ``who`` may see it: a rep sees only their own routes and customers."""
    if not who.is_rep:
        return plan
    rep = who.rep_id
    mine = {cid for cid, r in plan.assignment.items() if r == rep}
    mine |= {s.customer_id for r in plan.routes if r.rep_id == rep for s in r.stops}
    return dataclasses.replace(
        plan, routes=tuple(r for r in plan.routes if r.rep_id == rep),
        unassigned=tuple(u for u in plan.unassigned if u.customer_id in mine),
        assignment=MappingProxyType({k: v for k, v in plan.assignment.items() if k in mine}),
        patterns=MappingProxyType({k: v for k, v in plan.patterns.items() if k in mine}))


def visible_plan_id(session: Session, plan_id: str, who: Principal) -> str | None:
    """The id of the stored plan ``plan_id`` names for ``who`` (``latest``: the newest plan, for a
    rep key the newest with its routes), or None if there is none or it has no route of the rep."""
    if len(plan_id) > 64:
        return None
    if plan_id == repository.LATEST:
        q = select(PlanRow.id).order_by(PlanRow.created_at.desc(), PlanRow.id.desc())
        if who.is_rep:
            q = q.where(PlanRow.id.in_(rep_plan_ids(session, who.rep_id) or [""]))
        return session.scalars(q.limit(1)).first()
    if session.get(PlanRow, plan_id) is None:
        return None
    if who.is_rep and plan_id not in rep_plan_ids(session, who.rep_id):
        return None
    return plan_id


def rep_customers_in(plan: Plan, rep_id: str) -> set[str]:
    """The customers of ``rep_id`` in ``plan``: its account and the stops of its routes."""
    mine = {cid for cid, r in plan.assignment.items() if r == rep_id}
    return mine | {s.customer_id for r in plan.routes if r.rep_id == rep_id for s in r.stops}


def lock_rep(plan: Plan, customer_id: str, rep_id: str | None) -> str | None:
    """Who makes a locked visit: the lock's rep, else the account owner in ``plan``."""
    return rep_id or plan.assignment.get(customer_id) or next(
        (r.rep_id for r in plan.routes for s in r.stops if s.customer_id == customer_id), None)


def change_of_rep(change: dict[str, Any], rep_id: str) -> bool:
    """Whether a change-report entry concerns a visit of ``rep_id`` (before or after)."""
    return change.get("old_rep") == rep_id or change.get("new_rep") == rep_id


# ----------------------------------------------------------------------------------------------
# Frequency debt and spacing across plans
# ----------------------------------------------------------------------------------------------
DEBT_LOOKBACK_DAYS = 56


def frequency_debt(session: Session, start: dt.date, customer_ids: Iterable[str] | None = None) -> list[str]:
    """Customers owed a visit: their latest visit record in the ``DEBT_LOOKBACK_DAYS`` before
    ``start`` is a missed one (absent or rescheduled) with no done visit after it."""
    since = dt.datetime.combine(start - dt.timedelta(days=DEBT_LOOKBACK_DAYS), dt.time())
    until = dt.datetime.combine(start, dt.time())
    latest: dict[str, tuple[dt.datetime, int, str]] = {}
    q = select(VisitRow.customer_id, VisitRow.visited_at, VisitRow.id, VisitRow.outcome).where(
        VisitRow.visited_at >= since, VisitRow.visited_at < until)
    for cid, at, vid, outcome in session.execute(q):
        if cid not in latest or (at, vid) > latest[cid][:2]:
            latest[cid] = (at, vid, outcome)
    wanted = set(customer_ids) if customer_ids is not None else None
    return sorted(c for c, (_, _, o) in latest.items() if o in MISSED_OUTCOMES and (wanted is None or c in wanted))


def last_done_visits(session: Session, start: dt.date) -> dict[str, dt.date]:
    """Each customer's last visit recorded as done before ``start``."""
    out: dict[str, dt.date] = {}
    q = select(VisitRow.customer_id, VisitRow.visited_at).where(
        VisitRow.outcome == "done", VisitRow.visited_at < dt.datetime.combine(start, dt.time()))
    for cid, at in session.execute(q):
        if cid not in out or out[cid] < at.date():
            out[cid] = at.date()
    return out


def group_by(items: Iterable[Any], key: Callable[[Any], Any]) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = defaultdict(list)
    for x in items:
        out[key(x)].append(x)
    return out


__all__ = ["BulkRejected", "validate_customers", "validate_reps", "upsert_rows", "erase_customer",
           "plan_seen_by", "frequency_debt", "last_done_visits", "invalidate_maps", "drop_missing_customers",
           "rep_customer_ids", "rep_has_customer", "rep_plan_ids", "customer_out", "rep_out",
           "customer_in_of_row", "rep_in_of_row", "format_windows", "PlanAssignmentRow", "PlanUnassignedRow",
           "visible_plan_id", "rep_customers_in", "lock_rep", "change_of_rep"]
