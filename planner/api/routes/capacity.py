"""``/capacity``: the capacity pre-check before solving (``planner check`` over HTTP).

Read-only; roles crm and manager (a rep key is told 404, as for everything outside its own
routes). The figures are those of :func:`planner.scheduling.capacity.capacity_check` on the
stored customers and active reps, with the stored rep absences, the spacing of the latest plan
and the visits recorded as done, exactly as ``POST /plans`` would plan them.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from planner.api import services
from planner.api.deps import CrmOrManager, SessionDep, StateDep
from planner.api.schemas import CapacityOut
from planner.db.models import CustomerRow, RepRow
from planner.db.repository import PlanNotFound, load_absences, load_plan, row_to_customer, row_to_rep
from planner.domain import DomainError, Frequency, Region
from planner.scheduling.capacity import capacity_check, parse_frequency_override

router = APIRouter(prefix="/capacity", tags=["capacity"])

MAX_WEEKS = 26


def _invalid(field: str, msg: str) -> HTTPException:
    return HTTPException(422, [{"loc": ["query", field], "msg": msg, "type": "value_error"}])


@router.get("", response_model=CapacityOut,
            responses={409: {"description": "nothing to check (no active customers or reps)"},
                       503: {"description": "the travel provider failed"}})
def check_capacity(
        who: CrmOrManager, state: StateDep, session: SessionDep,
        start: Annotated[dt.date, Query(description="first day of the horizon", examples=["2026-11-30"])],
        weeks: Annotated[int, Query(ge=1, le=MAX_WEEKS)] = 4,
        what_if_reps: Annotated[int, Query(ge=0, le=20, description="what if N more reps like the average rep "
                                                                    "worked from the most overloaded territories")] = 0,
        what_if_frequency: Annotated[list[str] | None, Query(
            max_length=20, description="what if GRADE=FREQUENCY, e.g. C=1/3weeks (repeatable)")] = None,
        region: Annotated[str | None, Query(min_length=1, max_length=64,
                                            description="only the customers and reps of this region")] = None,
) -> CapacityOut:
    """Required visit hours plus estimated driving per rep and week against available hours (rep
    absences deducted), by grade and for the region; which rep-weeks are over capacity and by how
    much, which customers no rep can serve, and the what-ifs' before/after figures. ``fits`` is
    false when something is over capacity or cannot be served."""
    from planner.geo.errors import TravelError
    from planner.geo.providers import make_travel
    from planner.pipeline import last_visits_before  # (imports the solvers: only when asked)

    if start > dt.date.max - dt.timedelta(days=7 * MAX_WEEKS + 7):
        raise _invalid("start", "too late a date")
    overrides: dict[str, Frequency] = {}
    for text in what_if_frequency or []:
        if len(text) > 64:
            raise _invalid("what_if_frequency", "at most 64 characters")
        try:
            grade, freq = parse_frequency_override(text)
        except DomainError as e:
            raise _invalid("what_if_frequency", str(e)) from None
        if grade not in state.policy.rules:
            raise _invalid("what_if_frequency",
                           f"unknown grade {grade!r}; the policy has {', '.join(state.policy.grades)}")
        overrides[grade] = freq
    cq = select(CustomerRow).order_by(CustomerRow.id)
    rq = select(RepRow).where(RepRow.active.is_(True)).order_by(RepRow.id)
    if region:
        cq = cq.where(CustomerRow.region == region)
        rq = rq.where(RepRow.region == region)
    customers = tuple(row_to_customer(r) for r in session.scalars(cq))
    reps = tuple(row_to_rep(r) for r in session.scalars(rq))
    where = f" in region {region!r}" if region else ""
    if not any(c.active for c in customers):
        raise HTTPException(409, f"no active customers to check{where}")
    if not reps:
        raise HTTPException(409, f"no active reps to check{where}")
    try:  # spacing continues from the latest plan and the visits done, as a plan job does
        previous = load_plan(session, "latest")
        last = last_visits_before(previous, start) if previous.start < start else {}
    except PlanNotFound:
        last = {}
    for cid, day in services.last_done_visits(session, start).items():
        if cid not in last or last[cid] < day:
            last[cid] = day
    absences = load_absences(session)
    settings = state.settings
    try:
        report = capacity_check(Region(customers=customers, reps=reps, policy=state.policy), start, weeks,
                                travel=make_travel(settings), absences=absences, frequency_overrides=overrides or None,
                                extra_reps=what_if_reps, last_visits=last or None)
    except TravelError as e:
        raise HTTPException(503, f"travel ({settings.travel}): {e}") from None
    return CapacityOut.model_validate(report.to_dict())
