"""Re-plan jobs (kind ``replan``): ``POST /plans/{plan_id}/replan`` stores a ``queued`` job and the
:class:`~planner.api.jobs.JobRunner` runs it in a worker process, as it runs plan jobs.

The worker (:func:`run_replan_job`) loads the plan to re-plan, the current customers and active
reps (of the same region and reps as the plan's own job, when a job made it), every stored rep
absence, the plan's locks and the visits recorded as missed before ``from`` (owed: they do not
count as made), and runs :func:`planner.pipeline.replan.replan`, as ``planner replan`` does. Locks dated
before ``from`` are on frozen days (copied unchanged) and are not passed to it. The new plan,
its change report, a copy of the locks and the job's ``done`` status (with the stability
figures in its ``info``) are written in one transaction: a failed or interrupted re-plan stores
nothing.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from planner.api.jobs import claim_job, now, record_failure
from planner.db.models import CustomerRow, JobRow, RepRow
from planner.domain import Lock, Plan, Region
from planner.settings import Settings


KIND = "replan"
SCOPE_KEYS = ("region", "rep_ids")


def plan_scope(session: Session, plan_id: str) -> dict[str, Any]:
    """The ``region``/``rep_ids`` a stored plan was made for (from the job that made it; empty
    for a plan made elsewhere, e.g. by the CLI: every customer and active rep)."""
    params = session.scalars(select(JobRow.params).where(JobRow.plan_id == plan_id, JobRow.status == "done")
                             .order_by(JobRow.finished_at.desc(), JobRow.id).limit(1)).first()
    return {k: (params or {})[k] for k in SCOPE_KEYS if (params or {}).get(k)}


def scope_region(session: Session, policy, scope: dict[str, Any]) -> Region:
    """Every customer (inactive ones included) and the active reps, limited to ``scope``'s
    ``region`` and ``rep_ids`` as a plan job limits them."""
    from planner.db.repository import row_to_customer, row_to_rep

    cq = select(CustomerRow).order_by(CustomerRow.id)
    rq = select(RepRow).where(RepRow.active.is_(True)).order_by(RepRow.id)
    if scope.get("region"):
        cq = cq.where(CustomerRow.region == scope["region"])
        rq = rq.where(RepRow.region == scope["region"])
    if scope.get("rep_ids"):
        rq = rq.where(RepRow.id.in_(scope["rep_ids"]))
    return Region(customers=tuple(row_to_customer(r) for r in session.scalars(cq)),
                  reps=tuple(row_to_rep(r) for r in session.scalars(rq)), policy=policy)


@dataclass(frozen=True)
class ReplanInputs:
    """What a re-plan job works on."""

    region: Region
    previous: Plan
    from_date: dt.date
    absences: dict[str, frozenset[dt.date]]
    locks: tuple[Lock, ...]
    missed: frozenset[tuple[str, dt.date]]


def load_replan_inputs(settings: Settings, factory, params: dict[str, Any]) -> ReplanInputs:
    """Read a re-plan job's inputs (``params``: the job's request). Raises ValueError when the
    plan is gone or there is nothing to plan."""
    from planner.db.repository import PlanNotFound, load_absences, load_locks, load_plan, missed_visits
    from planner.policy import load_policy

    from_date = dt.date.fromisoformat(params["from"])
    with factory() as s:
        try:
            previous = load_plan(s, params["plan_id"])
        except PlanNotFound:
            raise ValueError(f"plan {params['plan_id']} was deleted before its re-plan started") from None
        region = scope_region(s, load_policy(settings.policy_file), params)
        if not any(c.active for c in region.customers):
            raise ValueError("no active customers to plan")
        if not region.reps:
            raise ValueError("no active reps to plan with")
        absences = load_absences(s)
        locks = tuple(lk for lk in load_locks(s, previous.plan_id) if lk.date >= from_date)
        missed = frozenset(missed_visits(s, previous.start, from_date))
    return ReplanInputs(region, previous, from_date, absences, locks, missed)


def store_replan_result(factory, job_id: str, previous_id: str, result: Any, info: dict[str, Any]) -> str | None:
    """Store a re-plan (its change report, a copy of the previous plan's locks) and mark the job
    done, in one transaction. Customers no longer stored are left out of all three. Stores
    nothing and returns None if the job is no longer running."""
    from planner.api import services
    from planner.db.repository import add_lock, list_locks, save_plan

    with factory() as s:
        job = s.scalars(select(JobRow).where(JobRow.id == job_id).with_for_update()).first()
        if job is None or job.status != "running":
            return None
        plan = services.drop_missing_customers(s, result.plan)
        locks = [lk for _, lk in list_locks(s, previous_id)]
        named = sorted({c.customer_id for c in result.changes} | {lk.customer_id for lk in locks})
        present = set(s.scalars(select(CustomerRow.id).where(CustomerRow.id.in_(named or [""]))))
        changes = [c.as_dict() for c in result.changes if c.customer_id in present]
        plan_id = save_plan(s, plan, result.evaluation.kpis, changes=changes)
        for lk in locks:
            if lk.customer_id in present:
                add_lock(s, plan_id, lk)
        job.status, job.progress, job.stage, job.plan_id, job.finished_at = "done", 1.0, "done", plan_id, now()
        job.info = {**info, "changes": len(changes)}
        s.commit()
        return plan_id


def _progress_writer(factory, job_id: str) -> Callable[[str, float], None]:
    """A progress callback writing the job's stage and progress (at most every 0.5 s per stage)."""
    last_write: list[Any] = [0.0, None]

    def progress(stage: str, frac: float) -> None:
        t = time.monotonic()
        if stage == last_write[1] and t - last_write[0] < 0.5:
            return
        last_write[0], last_write[1] = t, stage
        with factory() as ps:
            ps.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == "running")
                       .values(stage=stage[:64], progress=max(0.0, min(0.99, float(frac)))))
            ps.commit()

    return progress


def run_replan_job(settings: Settings, factory, job_id: str) -> None:
    """Run the queued re-plan job ``job_id`` and store its plan (in the worker process)."""
    from planner.geo.providers import make_travel
    from planner.pipeline.replan import replan

    params = claim_job(factory, job_id)
    if params is None:
        return
    try:
        inputs = load_replan_inputs(settings, factory, params)
        extra = {"change_cost": float(params["change_cost"])} if params.get("change_cost") is not None else {}
        t0 = time.monotonic()
        result = replan(inputs.region, inputs.previous, inputs.from_date, time_limit=float(params["time_limit"]),
                        seed=int(params.get("seed", 1)), travel=make_travel(settings), absences=inputs.absences,
                        locks=inputs.locks, missed=inputs.missed, progress=_progress_writer(factory, job_id),
                        **extra)
        st = result.stats
        store_replan_result(factory, job_id, inputs.previous.plan_id, result, {  # nothing if failed meanwhile
            "parent_id": inputs.previous.plan_id, "from": inputs.from_date.isoformat(),
            "seconds": round(time.monotonic() - t0, 2), "kept_share": st.get("kept_share"),
            "kept_visits": st.get("kept_visits"), "unchanged_visits": st.get("unchanged_visits"),
            "displaced": st.get("displaced"), "locks": len(inputs.locks), "missed_visits": len(inputs.missed),
            "customers": sum(1 for c in inputs.region.customers if c.active),
            "reps": [r.id for r in inputs.region.reps], "violations": len(result.evaluation.violations)})
    except BaseException as e:  # noqa: BLE001 - every failure is recorded in the job
        record_failure(factory, job_id, e)
        if not isinstance(e, Exception):
            raise


__all__ = ["KIND", "ReplanInputs", "load_replan_inputs", "plan_scope", "run_replan_job", "scope_region",
           "store_replan_result"]
