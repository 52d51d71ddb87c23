"""The API's plan jobs on Celery workers (``PLANNER_BROKER_URL`` set).

The server's :class:`planner.api.jobs.JobRunner` hands the job to Celery (:func:`send_job`)
instead of starting a local process, and marks it ``info.runner = "celery"``. From there the
Celery side writes the job's row in the database:

1. ``planner.plan_job`` (any worker): marks the job running, reads its inputs as a local job does
   (:func:`planner.api.jobs.load_job_inputs`), runs the territory step
   (:func:`planner.pipeline.decompose.decompose`; ``PLANNER_PLAN_WORKERS`` is the number of
   worker slots the time limit is shared over, default: the worker machine's cores) and sends
   the parts as a chord: one ``planner.plan_part`` task per part
   (:mod:`planner.jobs.celery_app`), their results to ``planner.merge_plan_job``. It returns at
   once: no worker waits for another.
2. ``planner.plan_part``: plans a part; writes the job's progress and stage (``parts k/P``).
3. ``planner.merge_plan_job``: merges the parts' plans, has the evaluator check the whole plan
   against the whole region, and stores it with the job ``done`` in one transaction
   (:func:`planner.api.jobs.store_job_result`); ``info.part_runs`` lists every delivery of
   every part (worker, attempt) and ``info.redelivered`` the parts planned more than once.

Part results travel through the Celery result backend (Redis), not the database.

The status stays truthful: a part whose worker is killed is redelivered (acks late, reject on
worker lost) and planned again, the job staying ``running`` meanwhile and completing. A job is
``failed``, with the reason, when its inputs cannot be read, a part fails (an error, or its
worker lost ``PLANNER_PART_MAX_ATTEMPTS`` times) or the evaluator rejects the merged plan. The
coordinator and the merge are idempotent: redelivered, they skip what is done (parts already
sent; a job no longer running). A restarting server leaves Celery jobs alone (they do not
depend on it). While no worker runs, a job stays queued or running: the broker keeps it.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from planner.api.jobs import ACTIVE, fail_job, load_job_inputs, now, record_failure, store_job_result
from planner.db.models import JobRow
from planner.jobs.celery_app import (KEY_TTL, PART_TASK, make_celery, part_runs, redis_client,
                                     report_job_progress, shippable, worker_travel)
from planner.pipeline.codec import pack, unpack
from planner.settings import Settings, get_settings

if TYPE_CHECKING:  # pragma: no cover
    from celery import Celery

log = logging.getLogger("planner.api.celery_jobs")

JOB_TASK = "planner.plan_job"
MERGE_TASK = "planner.merge_plan_job"


def make_worker_app(settings: Settings | None = None) -> "Celery":
    """The Celery app of ``planner worker``: the part task and the plan-job tasks."""
    app = make_celery(settings)
    app.task(name=JOB_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)(plan_job)
    app.task(name=MERGE_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)(merge_plan_job)
    return app


@functools.lru_cache(maxsize=4)
def _client_app(broker_url: str, result_backend: str | None, visibility_timeout: float) -> "Celery":
    return make_celery(Settings(broker_url=broker_url, result_backend=result_backend,
                                broker_visibility_timeout=visibility_timeout))


@functools.lru_cache(maxsize=4)
def _factory(url: str):
    from planner.api.deps import make_api_engine
    from planner.db.session import make_session_factory
    return make_session_factory(make_api_engine(url))


def progress_key(job_id: str) -> str:
    """The Redis key of a job's part progress (and, with ``:runs``, of its part deliveries)."""
    return f"planner:progress:{job_id}"


def send_job(settings: Settings, factory, job_id: str) -> None:
    """Hand job ``job_id`` to the Celery workers (called by the server's job runner). If the
    broker cannot be reached, the job fails with that reason."""
    with factory() as s:
        job = s.get(JobRow, job_id)
        if job is None or job.status != "queued":
            return
        job.info = {**(job.info or {}), "runner": "celery"}
        s.commit()
    try:
        app = _client_app(settings.broker_url, settings.result_backend, settings.broker_visibility_timeout)
        app.signature(JOB_TASK, args=(job_id,)).apply_async(retry=True, retry_policy={"max_retries": 2})
    except Exception as e:  # noqa: BLE001 - the job records why it never ran
        log.exception("job %s: could not be sent to the broker", job_id)
        with factory() as s:
            fail_job(s, job_id, f"could not send the job to the Celery broker: {type(e).__name__}: {e}"[:4000])
            s.commit()


def plan_job(task: Any, job_id: str) -> None:
    """Celery task ``planner.plan_job``: territories, then the parts as a chord (module doc)."""
    from celery import chord

    from planner.pipeline.decompose import decompose, default_workers, part_count

    settings = get_settings()
    factory = _factory(settings.database_url)
    r = redis_client(task.app)
    if r is not None:  # a coordinator whose worker dies every time (e.g. out of memory) must not loop
        tries = f"planner:attempts:{task.request.id}"
        attempt = int(r.incr(tries))
        r.expire(tries, KEY_TTL)
        if attempt > max(1, settings.part_max_attempts):
            with factory() as s:
                fail_job(s, job_id, f"the job was delivered {attempt} times and its worker died each time while "
                                    f"dividing the region into parts (killed, or out of memory); nothing was stored")
                s.commit()
            return
    with factory() as s:
        job = s.scalars(select(JobRow).where(JobRow.id == job_id).with_for_update()).first()
        if job is None or job.status not in ACTIVE or (job.info or {}).get("dispatched"):
            return  # unknown, finished, or redelivered after its parts were sent
        job.status, job.stage = "running", "loading"
        job.started_at = job.started_at or now()
        job.info = {**(job.info or {}), "runner": "celery"}
        s.commit()
        params = dict(job.params or {})
        started = job.started_at
    try:
        inputs = load_job_inputs(settings, factory, params)
        report_job_progress(settings, job_id, 0.02, "territories")
        travel = worker_travel(settings)
        workers = settings.plan_workers or default_workers()
        region = inputs.region
        n_parts = part_count(len(inputs.ids), len(region.reps), workers)
        dec = decompose(region, inputs.start, inputs.weeks, parts=n_parts, workers=workers,
                        time_limit=float(params["time_limit"]), seed=int(params.get("seed", 1)), travel=travel,
                        last_visits=inputs.last or None, priority=inputs.priority, absences=inputs.absences)
        info = {"runner": "celery", "priority": list(inputs.priority), "customers": len(inputs.ids),
                "reps": [r.id for r in region.reps], "parts": dec.part_count, "workers": workers,
                "part_time_limit": dec.stats.get("part_time_limit"), "blocks": dec.stats.get("blocks"),
                "territory_seconds": dec.stats.get("territory_seconds"),
                "started": started.isoformat() if started else None}
        key = progress_key(job_id)
        if r is not None:
            r.delete(key, f"{key}:runs")  # a coordinator redelivered before sending starts afresh
        callback = task.app.signature(MERGE_TASK, args=(job_id, pack(dec.without_parts()), info))
        if dec.parts:
            header = [task.app.signature(PART_TASK, args=(pack(shippable(p)), {
                "job_id": job_id, "key": key, "parts": dec.part_count, "index": p.index})) for p in dec.parts]
            chord(header)(callback)
        else:  # every customer is reported unplanned: nothing to send
            callback.apply_async(args=([],))
        with factory() as s:
            s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == "running")
                      .values(info={**info, "dispatched": True}))
            s.commit()
        report_job_progress(settings, job_id, 0.1, f"parts 0/{dec.part_count}")  # parts may be ahead already
    except Exception as e:  # noqa: BLE001 - every failure is recorded in the job
        record_failure(factory, job_id, e)


def merge_plan_job(task: Any, results: list[dict[str, Any]], job_id: str, dec_payload: str,
                   info: dict[str, Any]) -> None:
    """Celery task ``planner.merge_plan_job`` (the chord's callback): merge, check, store."""
    from planner.pipeline.decompose import merge

    settings = get_settings()
    factory = _factory(settings.database_url)
    with factory() as s:
        job = s.get(JobRow, job_id)
        if job is None or job.status != "running":
            return  # failed meanwhile (or stored by an earlier delivery of this callback)
        started = job.started_at
    try:
        runs = part_runs(task.app, progress_key(job_id))
        failures = [r.get("error") or f"part {r.get('part', 0) + 1} failed" for r in results if not r.get("ok")]
        if failures:
            raise RuntimeError("; ".join(failures))
        report_job_progress(settings, job_id, 0.92, "evaluation")
        dec = unpack(dec_payload)
        parts = [unpack(r["result"]) for r in results]
        result = merge(dec, parts, worker_travel(settings), check=True)
        attempts: dict[int, int] = {}
        for run in runs:
            attempts[run["part"]] = max(attempts.get(run["part"], 0), run["attempt"])
        seconds = (dt.datetime.now() - started).total_seconds() if started else None
        store_job_result(factory, job_id, result, {
            **info, "seconds": round(seconds, 2) if seconds is not None else None,
            "violations": len(result.evaluation.violations), "part_runs": runs,
            "redelivered": sorted(p for p, a in attempts.items() if a > 1),
            "part_stats": result.stats.get("part_stats", [])})
        r = redis_client(task.app)
        if r is not None:
            r.delete(progress_key(job_id))
    except Exception as e:  # noqa: BLE001 - every failure is recorded in the job
        record_failure(factory, job_id, e)

