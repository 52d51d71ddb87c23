"""Plan jobs: solved in a separate process, recorded in the ``jobs`` table.

The web server never solves: ``POST /plans`` stores a ``queued`` job and hands its id to the
:class:`JobRunner` that the app's lifespan owns. The runner's dispatcher threads start one
worker process per job (``spawn``, so nothing of the server is inherited), at most
``Settings.job_workers`` at a time. The worker (:func:`run_plan_job`) opens its own database
connection and writes the job's status, stage and progress as it goes; the plan and the job's
``done`` status are written in one transaction, so a failed or interrupted solve never leaves a
half-stored plan. A client that disconnects changes nothing: the job goes on.

A worker that dies (killed, out of memory) is seen by its dispatcher: the job becomes
``failed``. When the server stops, running workers are stopped and their jobs marked failed;
when it starts, jobs that a previous server left ``queued`` or ``running`` (it crashed, or
was killed) are marked failed with a clear error: start the plan again. A worker whose server
process died exits by itself, and a worker whose job was marked failed meanwhile stores nothing.
One ``planner serve`` process per database.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import multiprocessing
import os
import queue
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from planner.db.models import CustomerRow, JobRow, PlanRow, RepRow
from planner.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from planner.domain import Region
    from planner.pipeline import PlanResult

log = logging.getLogger("planner.api.jobs")

ACTIVE = ("queued", "running")
RESTART_ERROR = ("interrupted: the server stopped (restart, crash or kill) before this job finished; "
                 "nothing was stored - start the plan again")
SHUTDOWN_ERROR = "interrupted: the server shut down before this job finished; nothing was stored - start the plan again"


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def new_job(session: Session, params: dict[str, Any], created_by: str | None, kind: str = "plan") -> JobRow:
    """A queued job of ``kind`` (``plan``, or ``replan``: :mod:`planner.api.replan_jobs`). The caller commits."""
    job = JobRow(id=uuid.uuid4().hex, kind=kind, status="queued", progress=0.0, stage=None, error=None,
                 params=params, info={}, plan_id=None, created_by=created_by, created_at=now())
    session.add(job)
    session.flush()
    return job


def fail_job(session: Session, job_id: str, error: str) -> bool:
    """Mark a job failed if it is still queued or running. The caller commits."""
    res = session.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status.in_(ACTIVE))
                          .values(status="failed", error=error, finished_at=now()))
    return (res.rowcount or 0) > 0


def claim_job(factory, job_id: str) -> dict[str, Any] | None:
    """Mark the queued job ``job_id`` running and return its request (None if it is not queued:
    unknown, taken or failed meanwhile)."""
    with factory() as s:
        job = s.get(JobRow, job_id)
        if job is None or job.status != "queued":
            return None
        job.status, job.started_at, job.stage, job.progress = "running", now(), "loading", 0.0
        s.commit()
        return dict(job.params or {})


def record_failure(factory, job_id: str, e: BaseException) -> None:
    """Log ``e`` and mark the job failed with its message (the type is named unless it is a
    ValueError or RuntimeError, whose messages are written for users)."""
    msg = str(e) or type(e).__name__
    if not isinstance(e, (ValueError, RuntimeError)):
        msg = f"{type(e).__name__}: {msg}"
    log.error("job %s failed: %s\n%s", job_id, msg, traceback.format_exc())
    with factory() as s:
        fail_job(s, job_id, msg[:4000])
        s.commit()


def recover_interrupted(session: Session) -> int:
    """Mark the jobs a previous server left queued or running as failed. The caller commits.
    Jobs handed to Celery workers (``info.runner == "celery"``) go on without the server: kept."""
    ids = [j.id for j in session.scalars(select(JobRow).where(JobRow.status.in_(ACTIVE)))
           if (j.info or {}).get("runner") != "celery"]
    if not ids:
        return 0
    res = session.execute(update(JobRow).where(JobRow.id.in_(ids), JobRow.status.in_(ACTIVE))
                          .values(status="failed", error=RESTART_ERROR, finished_at=now()))
    return res.rowcount or 0


class JobRunner:
    """Starts one worker process per job, ``workers`` at a time (see the module doc)."""

    def __init__(self, settings: Settings, session_factory, workers: int = 1):
        self.settings = settings
        self.session_factory = session_factory
        self.workers = max(1, int(workers))
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._procs: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._ctx = multiprocessing.get_context("spawn")

    def start(self) -> None:
        for i in range(self.workers):
            t = threading.Thread(target=self._loop, name=f"planner-jobs-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def submit(self, job_id: str) -> None:
        self._queue.put(job_id)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job_id = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if job_id is None or self._stop.is_set():
                break
            try:
                self._run(job_id)
            except Exception:  # pragma: no cover - the dispatcher must go on
                log.exception("job %s: dispatcher error", job_id)
                self._fail(job_id, "internal error while starting the job")

    def _run(self, job_id: str) -> None:
        if self.settings.broker_url and self._kind(job_id) != "replan":
            # scale-out: the job runs on Celery workers (planner.api.celery_jobs); re-plans run here
            from planner.api.celery_jobs import send_job
            send_job(self.settings, self.session_factory, job_id)
            return
        # not a daemon: a big plan's job starts a process pool of its own (planner.pipeline.decompose);
        # shutdown() stops it, and it ends itself if the server process dies (_watch_parent)
        proc = self._ctx.Process(target=run_plan_job, name=f"planner-job-{job_id[:8]}",
                                 args=(self.settings.model_dump(mode="json"), job_id, os.getpid()), daemon=False)
        with self._lock:
            if self._stop.is_set():
                return
            proc.start()
            self._procs[job_id] = proc
        proc.join()
        with self._lock:
            self._procs.pop(job_id, None)
        if proc.exitcode != 0 and not self._stop.is_set():
            self._fail(job_id, f"the worker process died (exit code {proc.exitcode}); nothing was stored")

    def _kind(self, job_id: str) -> str | None:
        """The kind of job ``job_id`` (``plan``, ``replan``)."""
        with self.session_factory() as s:
            return s.scalar(select(JobRow.kind).where(JobRow.id == job_id))

    def _fail(self, job_id: str, error: str) -> None:
        with self.session_factory() as s:
            fail_job(s, job_id, error)
            s.commit()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the dispatchers and the running workers; their jobs (and queued ones) fail."""
        self._stop.set()
        with self._lock:
            procs = dict(self._procs)
        for p in procs.values():
            if p.is_alive():
                p.terminate()
        for p in procs.values():
            p.join(timeout)
            if p.is_alive():  # pragma: no cover
                p.kill()
                p.join(1)
        pending = list(procs)
        while True:
            try:
                job_id = self._queue.get_nowait()
            except queue.Empty:
                break
            if job_id:
                pending.append(job_id)
        for t in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout)
        for job_id in pending:
            try:
                self._fail(job_id, SHUTDOWN_ERROR)
            except Exception:  # pragma: no cover
                log.exception("job %s: could not be marked failed", job_id)


# ----------------------------------------------------------------------------------------------
# The worker process
# ----------------------------------------------------------------------------------------------
def _watch_parent(parent_pid: int) -> None:
    """End this worker when the server process that started it is gone (killed)."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(3)


def run_plan_job(settings_data: dict[str, Any], job_id: str, parent_pid: int | None = None) -> None:
    """Solve the plan of job ``job_id`` and store it (entry point of the worker process)."""
    if parent_pid is not None:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    from planner.api.deps import make_api_engine
    from planner.db.session import make_session_factory

    settings = Settings(**settings_data)
    engine = make_api_engine(settings.database_url)
    factory = make_session_factory(engine)
    try:
        _run_plan_job(settings, factory, job_id)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class JobInputs:
    """What a plan job plans: the region (its customers and active reps), the horizon, each
    customer's last visit before it and the customers owed visits (frequency debt)."""

    region: Region
    start: dt.date
    weeks: int
    last: dict[str, dt.date]
    priority: list[str]
    ids: frozenset[str]
    absences: dict[str, frozenset[dt.date]] | None = None  # rep id -> days away (stored absences)


def load_job_inputs(settings: Settings, factory, params: dict[str, Any]) -> JobInputs:
    """Read a plan job's inputs from the database (``params``: the job's request). Raises
    ValueError when there is nothing to plan."""
    from planner.api import services
    from planner.db.repository import PlanNotFound, load_absences, load_plan, row_to_customer, row_to_rep
    from planner.domain import Region
    from planner.pipeline import last_visits_before
    from planner.policy import load_policy

    start = dt.date.fromisoformat(params["start"])
    weeks = int(params["weeks"])
    with factory() as s:
        policy = load_policy(settings.policy_file)
        cq = select(CustomerRow).order_by(CustomerRow.id)
        rq = select(RepRow).where(RepRow.active.is_(True)).order_by(RepRow.id)
        if params.get("region"):
            cq = cq.where(CustomerRow.region == params["region"])
            rq = rq.where(RepRow.region == params["region"])
        if params.get("rep_ids"):
            rq = rq.where(RepRow.id.in_(params["rep_ids"]))
        customers = tuple(row_to_customer(r) for r in s.scalars(cq))
        reps = tuple(row_to_rep(r) for r in s.scalars(rq))
        if not any(c.active for c in customers):
            raise ValueError("no active customers to plan")
        if not reps:
            raise ValueError("no active reps to plan with")
        region = Region(customers=customers, reps=reps, policy=policy)
        try:
            previous = load_plan(s, "latest")
            last = last_visits_before(previous, start) if previous.start < start else {}
        except PlanNotFound:
            last = {}
        for cid, day in services.last_done_visits(s, start).items():
            if cid not in last or last[cid] < day:
                last[cid] = day
        ids = frozenset(c.id for c in customers if c.active)
        last = {k: v for k, v in last.items() if k in ids}
        priority = services.frequency_debt(s, start, ids)
        absences = load_absences(s)
    return JobInputs(region, start, weeks, last, priority, ids, absences)


def store_job_result(factory, job_id: str, result: PlanResult, info: dict[str, Any]) -> str | None:
    """Store a job's plan and mark the job done, in one transaction. Stores nothing and returns
    None if the job is no longer running (failed meanwhile, e.g. the server restarted)."""
    from planner.api import services
    from planner.db.repository import save_plan

    with factory() as s:
        job = s.scalars(select(JobRow).where(JobRow.id == job_id).with_for_update()).first()
        if job is None or job.status != "running":
            return None
        plan = services.drop_missing_customers(s, result.plan)
        plan_id = save_plan(s, plan, result.evaluation.kpis)
        job.status, job.progress, job.stage, job.plan_id, job.finished_at = "done", 1.0, "done", plan_id, now()
        job.info = info
        s.commit()
        return plan_id


def _run_plan_job(settings: Settings, factory, job_id: str) -> None:
    from planner.geo.providers import make_travel
    from planner.pipeline import plan_region

    with factory() as s:
        kind = s.scalar(select(JobRow.kind).where(JobRow.id == job_id))
    if kind == "replan":  # POST /plans/{plan_id}/replan
        from planner.api.replan_jobs import run_replan_job
        run_replan_job(settings, factory, job_id)
        return
    params = claim_job(factory, job_id)
    if params is None:
        return
    try:
        inputs = load_job_inputs(settings, factory, params)
        region, start, weeks, last, priority = inputs.region, inputs.start, inputs.weeks, inputs.last, inputs.priority

        last_write = [0.0, None]

        def progress(stage: str, frac: float) -> None:
            t = time.monotonic()
            if stage == last_write[1] and t - last_write[0] < 0.5:
                return
            last_write[0], last_write[1] = t, stage
            with factory() as ps:
                ps.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == "running")
                           .values(stage=stage[:64], progress=max(0.0, min(0.99, float(frac)))))
                ps.commit()

        t0 = time.monotonic()
        from planner.pipeline.decompose import default_workers, plan_region_parallel
        workers = settings.plan_workers or default_workers()
        if workers > 1 and len(inputs.ids) >= settings.parallel_min_customers:  # big: parts in a local pool
            solve = functools.partial(plan_region_parallel, workers=workers)
        else:
            workers, solve = 1, plan_region
        result = solve(region, start, weeks, time_limit=float(params["time_limit"]),
                             seed=int(params.get("seed", 1)),
                             travel=make_travel(settings),
                             progress=progress, last_visits=last or None, priority=priority,
                             absences=inputs.absences)
        seconds = round(time.monotonic() - t0, 2)
        store_job_result(factory, job_id, result, {  # nothing is stored if the job failed meanwhile
            "priority": list(priority), "seconds": seconds, "customers": len(inputs.ids), "workers": workers,
            "parts": result.stats.get("parts", 1),
            "reps": [r.id for r in region.reps], "violations": len(result.evaluation.violations)})
    except BaseException as e:  # noqa: BLE001 - every failure is recorded in the job
        record_failure(factory, job_id, e)
        if not isinstance(e, Exception):
            raise


__all__ = ["JobRunner", "new_job", "fail_job", "recover_interrupted", "run_plan_job", "PlanRow"]
