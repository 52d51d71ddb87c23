"""Re-planning a stored plan: ``POST /plans/{plan_id}/replan`` (a background job), the change
report of a re-plan (``GET /plans/{plan_id}/changes``) and explanations
(``GET /plans/{plan_id}/explain``, plan-wide or for one customer).

Roles: crm and manager start re-plans and read everything; a rep key reads the plans with its
routes only: the changes of its own visits (before or after), its own figures and unplanned
visits, and the explanation of the customers on its routes. Anything else is 404 for a rep key.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import func, select

from planner.api import services
from planner.api.deps import AnyRole, CrmOrManager, SessionDep, StateDep, not_found
from planner.api.jobs import new_job
from planner.api.replan_jobs import KIND, plan_scope, scope_region
from planner.api.schemas import ChangeOut, CustomerExplanationOut, JobAccepted, PlanExplanationOut, ReplanRequest
from planner.api.security import Principal
from planner.db.models import CustomerRow, PlanRow, RepRow
from planner.db.repository import list_locks, load_absences, load_plan, plan_changes

router = APIRouter(prefix="/plans", tags=["re-planning"])

UNKNOWN_PLAN = {404: {"description": "unknown plan (or, for a rep key, not one with its routes)"}}


def _invalid(field: str, msg: str, where: str = "body") -> HTTPException:
    return HTTPException(422, [{"loc": [where, field], "msg": msg, "type": "value_error"}])


def _plan_id(session, plan_id: str, who: Principal) -> str:
    pid = services.visible_plan_id(session, plan_id, who)
    if pid is None:
        raise not_found(f"no stored plan has id {plan_id!r}" if plan_id != "latest" else "no plan is stored yet")
    return pid


@router.post("/{plan_id}/replan", status_code=202, response_model=JobAccepted,
             responses={**UNKNOWN_PLAN, 409: {"description": "nothing to plan, or a lock that no longer holds"}})
def start_replan(plan_id: str, req: ReplanRequest, who: CrmOrManager, state: StateDep,
                 session: SessionDep) -> JobAccepted:
    """Re-plan a stored plan (``latest`` for the newest) from ``from`` on, with the fewest changes,
    in the background; poll ``GET /jobs/{job_id}``. The re-plan takes the current customers, the
    rep absences and the plan's locks; it is stored as a new plan (the new ``latest``) with its
    change report (``GET /plans/{new_id}/changes``) and a copy of the locks. Days before ``from``
    are copied unchanged. The job's ``info`` has ``kept_share`` (unchanged customers' visits kept
    on the same day and rep) and ``displaced`` (customers placed anew)."""
    pid = _plan_id(session, plan_id, who)
    row = session.get(PlanRow, pid)
    end = row.start + dt.timedelta(days=7 * row.weeks - 1)
    if not row.start <= req.from_ <= end:
        raise _invalid("from", f"{req.from_} is outside the plan's horizon {row.start}..{end}")
    if req.time_limit > state.settings.max_time_limit:
        raise _invalid("time_limit", f"at most {state.settings.max_time_limit:g} seconds on this server")
    scope = plan_scope(session, pid)
    cq = select(func.count()).select_from(CustomerRow).where(CustomerRow.active.is_(True))
    rq = select(func.count()).select_from(RepRow).where(RepRow.active.is_(True))
    if scope.get("region"):
        cq = cq.where(CustomerRow.region == scope["region"])
        rq = rq.where(RepRow.region == scope["region"])
    if scope.get("rep_ids"):
        rq = rq.where(RepRow.id.in_(scope["rep_ids"]))
    if not session.scalar(cq):
        raise HTTPException(409, "no active customers to plan")
    if not session.scalar(rq):
        raise HTTPException(409, "no active reps to plan with")
    locks = [(lid, lk) for lid, lk in list_locks(session, pid) if lk.date >= req.from_]
    if locks:
        active = set(session.scalars(select(CustomerRow.id).where(
            CustomerRow.id.in_({lk.customer_id for _, lk in locks}), CustomerRow.active.is_(True))))
        reps = set(session.scalars(select(RepRow.id).where(RepRow.active.is_(True))))
        for lid, lk in locks:
            if lk.customer_id not in active or (lk.rep_id and lk.rep_id not in reps):
                what = f"customer {lk.customer_id}" if lk.customer_id not in active else f"rep {lk.rep_id}"
                raise HTTPException(409, f"lock {lid} ({lk.describe()}) names an inactive {what}: delete it "
                                         f"(DELETE /plans/{pid}/locks/{lid}) before re-planning")
    params: dict[str, Any] = {"plan_id": pid, "from": req.from_.isoformat(), "time_limit": req.time_limit,
                              "seed": req.seed, **scope}
    if req.change_cost is not None:
        params["change_cost"] = req.change_cost
    job = new_job(session, params, who.name, kind=KIND)
    session.commit()
    state.runner.submit(job.id)
    return JobAccepted(job_id=job.id, status="queued")


@router.get("/{plan_id}/changes", response_model=list[ChangeOut] | None, responses=UNKNOWN_PLAN)
def changes(plan_id: str, who: AnyRole, session: SessionDep) -> list[ChangeOut] | None:
    """The change report of a re-plan against the plan it started from: every visit from its
    ``from`` day on that was added, removed, moved (day or rep) or re-timed, with its cause.
    ``null`` for a plan made from scratch (nothing to compare with); ``[]`` for a re-plan that
    changed nothing. A rep key: the changes of its own visits (old or new rep)."""
    pid = _plan_id(session, plan_id, who)
    report = plan_changes(session, pid)
    if report is None:
        return None
    if who.is_rep:
        report = [c for c in report if services.change_of_rep(c, who.rep_id)]
    return [ChangeOut.model_validate(c) for c in report]


@router.get("/{plan_id}/explain", response_model=PlanExplanationOut | CustomerExplanationOut,
            responses={**UNKNOWN_PLAN, 503: {"description": "the travel provider failed"}})
def explain(plan_id: str, who: AnyRole, state: StateDep, session: SessionDep,
            customer_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
            ) -> PlanExplanationOut | CustomerExplanationOut:
    """Why a plan is as it is. Without ``customer_id``: every unplanned visit with its
    machine-readable code and reason, counted by code, and each rep's customers, visits, days,
    hours and km. With ``customer_id``: why this rep and these days, the cost of the alternatives
    (rep, days) priced on the plan's routes, its unplanned visits and its changes in a re-plan
    (404 if the customer is unknown). A rep key: its own figures and unplanned visits, and only
    the customers on its routes (alternatives with its own rep)."""
    from planner.pipeline.explain import ExplainError, explain_customer, explain_plan

    pid = _plan_id(session, plan_id, who)
    plan = load_plan(session, pid)
    region = scope_region(session, state.policy, {})
    if customer_id is None:
        seen = services.plan_seen_by(plan, who)
        exp = explain_plan(region, seen).as_dict()
        in_plan = {r.rep_id for r in plan.routes} | set(plan.assignment.values())
        exp["reps"] = [r for r in exp["reps"] if r["rep_id"] in in_plan
                       and (not who.is_rep or r["rep_id"] == who.rep_id)]
        return PlanExplanationOut(parent_id=plan.parent_id, frozen_before=plan.frozen_before, **exp)
    if who.is_rep and customer_id not in services.rep_customers_in(plan, who.rep_id):
        raise not_found(f"customer {customer_id!r} not found")
    from planner.geo.errors import TravelError
    from planner.geo.providers import make_travel
    try:
        exp_c = explain_customer(region, plan, customer_id, travel=make_travel(state.settings),
                                 absences=load_absences(session))
    except ExplainError:
        raise not_found(f"customer {customer_id!r} not found") from None
    except TravelError as e:
        raise HTTPException(503, f"travel ({state.settings.travel}): {e}") from None
    out = exp_c.as_dict()
    mine = [c for c in plan_changes(session, pid) or [] if c.get("customer_id") == customer_id]
    if who.is_rep:
        out["alternatives"] = [a for a in out["alternatives"] if a["rep_id"] in (None, who.rep_id)]
        mine = [c for c in mine if services.change_of_rep(c, who.rep_id)]
    return CustomerExplanationOut(changes=mine, **out)


__all__ = ["router"]
