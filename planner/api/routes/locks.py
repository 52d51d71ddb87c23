"""``/plans/{plan_id}/locks``: the fixed appointments of a plan (list, add, remove).

A lock fixes a customer's visit on a day (with a rep, an exact start or a start window); the
plan's re-plans keep it and copy it. Roles: crm and manager; a rep key may list the locks of its
own visits on a plan with its routes (anything else is 404).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from planner.api import services
from planner.api.deps import AnyRole, CrmOrManager, SessionDep, StateDep, not_found
from planner.api.replan_jobs import scope_region
from planner.api.schemas import Deleted, LockIn, LockOut
from planner.db.repository import add_lock, delete_lock, list_locks, load_absences, load_plan
from planner.domain import DomainError, Lock, format_hhmm, parse_hhmm, parse_windows

router = APIRouter(prefix="/plans", tags=["locks"])

LockId = Annotated[int, Path(ge=1, le=2**31 - 1)]
UNKNOWN_PLAN = {404: {"description": "unknown plan (or, for a rep key, not one with its routes)"}}


def lock_out(lock_id: int, plan_id: str, lk: Lock) -> LockOut:
    """The API form of a stored lock."""
    return LockOut(id=lock_id, plan_id=plan_id, customer_id=lk.customer_id, date=lk.date, rep_id=lk.rep_id,
                   at=format_hhmm(lk.at) if lk.at is not None else None,
                   window=str(lk.window) if lk.window is not None else None, description=lk.describe())


def _invalid(field: str, msg: str) -> HTTPException:
    return HTTPException(422, [{"loc": ["body", field], "msg": msg, "type": "value_error"}])


def _plan_id(session, plan_id: str, who) -> str:
    pid = services.visible_plan_id(session, plan_id, who)
    if pid is None:
        raise not_found(f"no stored plan has id {plan_id!r}" if plan_id != "latest" else "no plan is stored yet")
    return pid


@router.get("/{plan_id}/locks", response_model=list[LockOut], responses=UNKNOWN_PLAN)
def list_plan_locks(plan_id: str, who: AnyRole, session: SessionDep) -> list[LockOut]:
    """The fixed appointments of a plan (``latest`` for the newest), by date and customer. A rep
    key: those it makes (the lock's rep, else the account owner)."""
    pid = _plan_id(session, plan_id, who)
    rows = list_locks(session, pid)
    if who.is_rep and rows:
        plan = load_plan(session, pid)
        rows = [(lid, lk) for lid, lk in rows if services.lock_rep(plan, lk.customer_id, lk.rep_id) == who.rep_id]
    return [lock_out(lid, pid, lk) for lid, lk in rows]


@router.post("/{plan_id}/locks", status_code=201, response_model=LockOut,
             responses={**UNKNOWN_PLAN, 422: {"description": "the lock cannot be placed (the field and why)"}})
def add_plan_lock(plan_id: str, body: LockIn, who: CrmOrManager, state: StateDep, session: SessionDep) -> LockOut:
    """Fix an appointment on a plan: the customer is visited on ``date`` (by ``rep_id``, default
    the account owner), starting exactly ``at`` or inside ``window``. It replaces a lock of the
    same customer and day. Refused (422, naming the field) for an unknown or inactive customer, a
    date outside the plan's horizon, a rep who is unknown, does not work or is away that day, a
    rep other than the one the customer is pinned to, a time outside the rep's working hours,
    or both ``at`` and ``window``. Apply it with ``POST /plans/{plan_id}/replan``."""
    from planner.pipeline.replan import lock_issue

    pid = _plan_id(session, plan_id, who)
    if body.at is not None and body.window is not None:
        raise _invalid("window", "give an exact time (at) or a window, not both")
    at = window = None
    try:
        at = parse_hhmm(body.at) if body.at is not None else None
    except DomainError as e:
        raise _invalid("at", str(e)) from None
    if body.window is not None:
        try:
            wins = parse_windows(body.window)
        except DomainError as e:
            raise _invalid("window", str(e)) from None
        window = wins[0]
    try:
        lock = Lock(body.customer_id, body.date, body.rep_id, at, window)
    except DomainError as e:
        raise _invalid("at", str(e)) from None
    plan = load_plan(session, pid)
    issue = lock_issue(scope_region(session, state.policy, {}), plan, lock, load_absences(session))
    if issue is not None:
        field, msg = issue
        if field == "time":
            field = "at" if at is not None else "window"
        raise _invalid(field, msg)
    lock_id = add_lock(session, pid, lock)
    session.commit()
    return lock_out(lock_id, pid, lock)


@router.delete("/{plan_id}/locks/{lock_id}", response_model=Deleted,
               responses={404: {"description": "unknown plan or lock"}})
def remove_plan_lock(plan_id: str, lock_id: LockId, who: CrmOrManager, session: SessionDep) -> Deleted:
    """Remove a fixed appointment from a plan (re-plans made from it before keep their copy)."""
    pid = _plan_id(session, plan_id, who)
    if not delete_lock(session, pid, lock_id):
        raise not_found(f"plan {pid} has no lock {lock_id}")
    session.commit()
    return Deleted(id=str(lock_id), erased={"plan_locks": 1})


__all__ = ["router", "lock_out"]
