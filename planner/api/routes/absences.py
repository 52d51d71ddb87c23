"""``/reps/{rep_id}/absences``: a rep's absences (ill, leave, training): list, add, remove.

Plans and re-plans made afterwards give the rep no visits on those days (``POST
/plans/{plan_id}/replan`` moves the visits a stored plan has on them). Roles: crm and manager;
a rep key may list its own absences (anything else is 404).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from sqlalchemy import func, select

from planner.api.deps import AnyRole, CrmOrManager, SessionDep, not_found
from planner.api.schemas import AbsenceCreated, AbsenceIn, AbsenceOut, Deleted
from planner.db.models import PlanRouteRow, PlanStopRow, RepRow
from planner.db.repository import PlanNotFound, add_absence, delete_absence, list_absences, resolve_plan_id
from planner.domain import Absence, DomainError

router = APIRouter(prefix="/reps", tags=["absences"])

MAX_DAYS = 366
AbsenceId = Annotated[int, Path(ge=1, le=2**31 - 1)]
UNKNOWN_REP = {404: {"description": "unknown rep (or, for a rep key, another rep)"}}


def absence_out(absence_id: int, a: Absence) -> AbsenceOut:
    """The API form of a stored absence."""
    return AbsenceOut(id=absence_id, rep_id=a.rep_id, start=a.start, end=a.end, reason=a.reason,
                      days=(a.end - a.start).days + 1)


def _rep(session, rep_id: str, who) -> str:
    if (who.is_rep and rep_id != who.rep_id) or len(rep_id) > 64 or session.get(RepRow, rep_id) is None:
        raise not_found(f"rep {rep_id!r} not found")
    return rep_id


@router.get("/{rep_id}/absences", response_model=list[AbsenceOut], responses=UNKNOWN_REP)
def list_rep_absences(rep_id: str, who: AnyRole, session: SessionDep) -> list[AbsenceOut]:
    """A rep's absences by start date. A rep key: its own only."""
    _rep(session, rep_id, who)
    return [absence_out(aid, a) for aid, a in list_absences(session, rep_id)]


@router.post("/{rep_id}/absences", status_code=201, response_model=AbsenceCreated,
             responses={**UNKNOWN_REP, 422: {"description": "end before start, or longer than 366 days"}})
def add_rep_absence(rep_id: str, body: AbsenceIn, who: CrmOrManager, session: SessionDep) -> AbsenceCreated:
    """Record that a rep is away from ``start`` to ``end`` (inclusive; default ``start``). The
    answer says how many of the rep's visits the latest plan has on those days: ``POST
    /plans/latest/replan`` with ``from`` on or before the first of them moves them."""
    _rep(session, rep_id, who)
    end = body.end or body.start
    try:
        absence = Absence(rep_id, body.start, end, body.reason)
    except DomainError as e:
        raise HTTPException(422, [{"loc": ["body", "end"], "msg": str(e), "type": "value_error"}]) from None
    if (end - body.start).days + 1 > MAX_DAYS:
        raise HTTPException(422, [{"loc": ["body", "end"], "msg": f"an absence spans at most {MAX_DAYS} days",
                                   "type": "value_error"}])
    aid = add_absence(session, absence)
    session.commit()
    try:
        latest = resolve_plan_id(session, "latest")
    except PlanNotFound:
        latest = None
    hit = 0 if latest is None else session.scalar(
        select(func.count()).select_from(PlanStopRow).join(PlanRouteRow, PlanStopRow.route_id == PlanRouteRow.id)
        .where(PlanRouteRow.plan_id == latest, PlanRouteRow.rep_id == rep_id, PlanRouteRow.date >= body.start,
               PlanRouteRow.date <= end))
    return AbsenceCreated(**absence_out(aid, absence).model_dump(), latest_plan_id=latest, visits_to_move=hit or 0)


@router.delete("/{rep_id}/absences/{absence_id}", response_model=Deleted,
               responses={404: {"description": "unknown rep or absence"}})
def remove_rep_absence(rep_id: str, absence_id: AbsenceId, who: CrmOrManager, session: SessionDep) -> Deleted:
    """Remove one of a rep's absences."""
    _rep(session, rep_id, who)
    if not delete_absence(session, absence_id, rep_id):
        raise not_found(f"rep {rep_id} has no absence {absence_id}")
    session.commit()
    return Deleted(id=str(absence_id), erased={"absences": 1})


__all__ = ["router", "absence_out"]
