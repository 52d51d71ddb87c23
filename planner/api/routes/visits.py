"""``/visits``: visit record cards. Missed visits (absent, rescheduled) are frequency debt:
the next plan gives those customers priority."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import func, select

from planner.api import services
from planner.api.deps import CrmKey, CrmOrRep, SessionDep, not_found
from planner.api.schemas import Outcome, Page, VisitIn, VisitOut
from planner.db.models import CustomerRow, PlanRow, RepRow, VisitRow

router = APIRouter(prefix="/visits", tags=["visits"])


def visit_out(v: VisitRow) -> VisitOut:
    return VisitOut(id=v.id, customer_id=v.customer_id, rep_id=v.rep_id, plan_id=v.plan_id, visited_at=v.visited_at,
                    outcome=v.outcome, notes=v.notes, next_action=v.next_action, created_at=v.created_at,
                    created_by=v.created_by)


@router.post("", status_code=201, response_model=VisitOut,
             responses={404: {"description": "customer not on the rep's routes"}})
def record_visit(body: VisitIn, who: CrmOrRep, session: SessionDep) -> VisitOut:
    """Record a visit: customer, rep, time, outcome (done / absent / rescheduled), notes and
    next action. A rep key records its own visits to customers on its routes."""
    def bad(field: str, msg: str) -> HTTPException:
        return HTTPException(422, [{"loc": ["body", field], "msg": msg, "type": "value_error"}])

    if who.is_rep:
        if body.rep_id is not None and body.rep_id != who.rep_id:
            raise not_found("not found")
        rep_id = who.rep_id
        if not services.rep_has_customer(session, rep_id, body.customer_id):
            raise not_found(f"customer {body.customer_id!r} not found")
    else:
        if body.rep_id is None:
            raise bad("rep_id", "a value is required")
        rep_id = body.rep_id
        if session.get(RepRow, rep_id) is None:
            raise bad("rep_id", f"unknown rep {rep_id!r}")
        if session.get(CustomerRow, body.customer_id) is None:
            raise bad("customer_id", f"unknown customer {body.customer_id!r}")
    if body.plan_id is not None and session.get(PlanRow, body.plan_id) is None:
        raise bad("plan_id", f"unknown plan {body.plan_id!r}")
    now = dt.datetime.now().replace(microsecond=0)
    at = body.visited_at or now
    if at.tzinfo is not None:  # plans use local wall-clock times
        at = at.astimezone().replace(tzinfo=None)
    if at > now + dt.timedelta(days=1):
        raise bad("visited_at", "is in the future")
    if at.year < 2000:
        raise bad("visited_at", "is too far in the past")
    v = VisitRow(customer_id=body.customer_id, rep_id=rep_id, plan_id=body.plan_id, visited_at=at,
                 outcome=body.outcome, notes=body.notes or None, next_action=body.next_action or None,
                 created_at=now, created_by=who.name)
    session.add(v)
    session.commit()
    return visit_out(v)


@router.get("", response_model=Page[VisitOut])
def list_visits(who: CrmOrRep, session: SessionDep,
                customer_id: Annotated[str | None, Query(max_length=64)] = None,
                rep_id: Annotated[str | None, Query(max_length=64)] = None,
                outcome: Outcome | None = None,
                since: dt.datetime | None = None, until: dt.datetime | None = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> Page[VisitOut]:
    """Visit records, newest first, filtered. A rep key sees its own records."""
    if who.is_rep:
        if rep_id is not None and rep_id != who.rep_id:
            raise not_found("not found")
        rep_id = who.rep_id
    cond = []
    if customer_id is not None:
        cond.append(VisitRow.customer_id == customer_id)
    if rep_id is not None:
        cond.append(VisitRow.rep_id == rep_id)
    if outcome is not None:
        cond.append(VisitRow.outcome == outcome)
    if since is not None:
        cond.append(VisitRow.visited_at >= since.replace(tzinfo=None))
    if until is not None:
        cond.append(VisitRow.visited_at < until.replace(tzinfo=None))
    total = session.scalar(select(func.count()).select_from(VisitRow).where(*cond))
    rows = session.scalars(select(VisitRow).where(*cond).order_by(VisitRow.visited_at.desc(), VisitRow.id.desc())
                           .limit(limit).offset(offset))
    return Page(items=[visit_out(v) for v in rows], total=total or 0, limit=limit, offset=offset)


@router.get("/debt", response_model=list[str])
def debt(who: CrmKey, session: SessionDep, start: dt.date | None = None) -> list[str]:
    """Customers the next plan (from ``start``, default tomorrow) will give priority to: their
    latest visit record in the 8 weeks before is absent or rescheduled."""
    start = start or dt.date.today() + dt.timedelta(days=1)
    return services.frequency_debt(session, start)


@router.get("/{visit_id}", response_model=VisitOut, responses={404: {"description": "unknown visit"}})
def get_visit(visit_id: int, who: CrmOrRep, session: SessionDep) -> VisitOut:
    v = session.get(VisitRow, visit_id) if -2**31 <= visit_id < 2**31 else None
    if v is None or (who.is_rep and v.rep_id != who.rep_id):
        raise not_found(f"visit {visit_id} not found")
    return visit_out(v)
