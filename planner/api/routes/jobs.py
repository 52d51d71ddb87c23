"""``/jobs``: the background plan jobs started by ``POST /plans``."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from planner.api.deps import CrmOrManager, SessionDep, not_found
from planner.api.schemas import JobOut, JobStatus
from planner.db.models import JobRow

router = APIRouter(prefix="/jobs", tags=["jobs"])


def job_out(j: JobRow) -> JobOut:
    return JobOut(job_id=j.id, kind=j.kind, status=j.status, progress=round(float(j.progress or 0), 4),
                  stage=j.stage, error=j.error, plan_id=j.plan_id, params=dict(j.params or {}),
                  info=dict(j.info or {}), created_by=j.created_by, created_at=j.created_at,
                  started_at=j.started_at, finished_at=j.finished_at)


@router.get("", response_model=list[JobOut])
def list_jobs(who: CrmOrManager, session: SessionDep, status: JobStatus | None = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[JobOut]:
    """The most recent jobs first."""
    q = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.id).limit(limit)
    if status is not None:
        q = q.where(JobRow.status == status)
    return [job_out(j) for j in session.scalars(q)]


@router.get("/{job_id}", response_model=JobOut, responses={404: {"description": "unknown job"}})
def get_job(job_id: str, who: CrmOrManager, session: SessionDep) -> JobOut:
    """A job's status (queued, running, done, failed), progress 0-1, error, and plan id when done."""
    job = session.get(JobRow, job_id)
    if job is None:
        raise not_found(f"job {job_id!r} not found")
    return job_out(job)
