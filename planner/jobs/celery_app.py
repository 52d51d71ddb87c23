"""Celery for the planner: the app factory, the part task, and an executor that uses them.

    pip install 'field-visit-planner[celery]'
    PLANNER_BROKER_URL=redis://127.0.0.1:6379/0 planner worker --concurrency 2

:func:`make_celery` builds the app from the settings (never at import time). Messages are JSON;
a part and its result travel inside them as text made by :mod:`planner.pipeline.codec`, from
which only planning data types can be loaded. Part results go through the result backend
(``PLANNER_RESULT_BACKEND``, default: the broker URL, i.e. Redis), progress through Redis and
the database.

``planner.plan_part`` plans one part (:func:`planner.pipeline.decompose.solve_part`):

* ``acks_late`` and ``reject_on_worker_lost``: a part's message is acknowledged only once the
  part is planned. If the worker's pool process running it dies (killed, out of memory) the
  part goes back in the queue at once; if the whole worker dies, the broker redelivers it after
  ``PLANNER_BROKER_VISIBILITY_TIMEOUT`` seconds (Redis keeps unacknowledged messages and any live
  worker restores them), so that timeout must be longer than the longest part. A redelivered
  part is planned again from scratch: a part has no effect but its result and its progress,
  and the rerun overwrites both.
* ``task_acks_on_failure_or_timeout``: a part that fails is acknowledged, not retried (the same
  input fails the same way). Errors come back as a failed result rather than an exception, so
  a chord always reaches its callback, which reports them.
* A part delivered more than ``PLANNER_PART_MAX_ATTEMPTS`` times (its worker died each time)
  fails instead of being tried forever.
* Progress: each part writes its fraction done to a Redis hash; for a plan job of the API
  (``meta["job_id"]``) it also writes the job's progress and stage (``parts k/P``) to the
  database, only upwards and only while the job is running. A part of a job that is no longer
  running is not planned.
* Every delivery is recorded (part, attempt, worker, pid) in a Redis list (:func:`part_runs`),
  so a job can tell which parts were redelivered and where they ran.

:class:`CeleryExecutor` sends the parts of one plan as a group and waits for them (``planner
plan`` with a broker). The API's plan jobs use a chord instead (:mod:`planner.api.celery_jobs`),
so that no worker ever waits for another.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import time
import uuid
from typing import TYPE_CHECKING, Any, Sequence

from sqlalchemy import update

from planner.db.models import JobRow
from planner.geo.travel import HaversineTravel
from planner.pipeline.codec import pack, unpack
from planner.pipeline.decompose import Part, PartFailed, PartProgress, PartResult, solve_part
from planner.settings import Settings, get_settings

if TYPE_CHECKING:  # pragma: no cover
    from celery import Celery

log = logging.getLogger("planner.jobs")

PART_TASK = "planner.plan_part"
QUEUE = "planner"
KEY_TTL = 2 * 24 * 3600  # seconds Redis keeps the attempt counters, progress and delivery records


class BrokerNotConfigured(RuntimeError):
    """``PLANNER_BROKER_URL`` is not set."""


def make_celery(settings: Settings | None = None) -> "Celery":
    """A Celery app on ``settings.broker_url`` with the part task registered (see the module doc).

    Raises :class:`BrokerNotConfigured` without a broker URL."""
    from celery import Celery

    settings = settings or get_settings()
    if not settings.broker_url:
        raise BrokerNotConfigured("PLANNER_BROKER_URL is not set: Celery workers need a broker, "
                                  "e.g. PLANNER_BROKER_URL=redis://127.0.0.1:6379/0")
    vt = float(settings.broker_visibility_timeout)
    app = Celery("planner", broker=settings.broker_url, backend=settings.result_backend or settings.broker_url,
                 set_as_current=False)
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_acks_late=True, task_reject_on_worker_lost=True, task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,  # a worker process holds only the part it is planning
        task_default_queue=QUEUE,
        broker_transport_options={"visibility_timeout": vt, "unacked_restore_throttle": 1,
                                  "unacked_restore_interval": max(1, min(10, int(vt // 4)))},
        result_expires=KEY_TTL, broker_connection_retry_on_startup=True,
        worker_send_task_events=False, task_send_sent_event=False)
    app.task(name=PART_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)(plan_part)
    return app


def redis_client(app: "Celery") -> Any:
    """A Redis client of the app's result backend or broker (None if neither is Redis)."""
    client = getattr(app.backend, "client", None)
    if client is not None:
        return client
    url = str(app.conf.broker_url or "")
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis
        return redis.Redis.from_url(url)
    return None


def part_runs(app: "Celery", key: str) -> list[dict[str, Any]]:
    """Every delivery of the parts sent under progress key ``key``, in order: part index,
    attempt, worker name, process id, task id, time."""
    r = redis_client(app)
    if r is None:
        return []
    return [json.loads(x) for x in r.lrange(f"{key}:runs", 0, -1)]


def worker_travel(settings: Settings):
    """The travel provider a worker uses for parts that carry none (its own settings)."""
    from planner.geo.providers import make_travel
    return make_travel(settings)


def shippable(part: Part) -> Part:
    """``part`` as sent to a worker: a great-circle travel model goes with it (a few numbers);
    any other provider (road network, routing server) is the worker's own (same settings)."""
    return part if isinstance(part.travel, HaversineTravel) else dataclasses.replace(part, travel=None)


# ----------------------------------------------------------------------------------------------
# The job row, written from the workers
# ----------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def session_factory(url: str):
    """Sessions on the job database (one engine per process and URL; SQLite waits for locks)."""
    from planner.db.session import make_engine, make_session_factory

    if url.startswith("sqlite"):
        engine = make_engine(url, connect_args={"timeout": 30})
    else:
        engine = make_engine(url, pool_pre_ping=True)
    return make_session_factory(engine)


def job_status(settings: Settings, job_id: str) -> str | None:
    """The job's status (None if there is no such job)."""
    with session_factory(settings.database_url)() as s:
        job = s.get(JobRow, job_id)
        return None if job is None else job.status


def report_job_progress(settings: Settings, job_id: str, frac: float, stage: str) -> None:
    """Raise the job's progress to ``frac`` with ``stage``, if it is running and was lower."""
    frac = max(0.0, min(0.99, float(frac)))
    with session_factory(settings.database_url)() as s:
        s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == "running", JobRow.progress < frac)
                  .values(progress=frac, stage=stage[:64]))
        s.commit()


def fail_job_row(settings: Settings, job_id: str, error: str) -> None:
    """Mark the job failed with ``error`` if it is still queued or running."""
    import datetime as dt
    with session_factory(settings.database_url)() as s:
        s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status.in_(("queued", "running")))
                  .values(status="failed", error=error[:4000], finished_at=dt.datetime.now().replace(microsecond=0)))
        s.commit()


# ----------------------------------------------------------------------------------------------
# The part task
# ----------------------------------------------------------------------------------------------
class _Reporter:
    """A part's progress: to the Redis hash ``key`` and, for a job, to its row (at most 1/s)."""

    def __init__(self, r: Any, key: str | None, index: int, n: int, settings: Settings, job_id: str | None):
        self.r, self.key, self.index, self.n = r, key, index, max(1, n)
        self.settings, self.job_id = settings, job_id
        self.last = 0.0

    def __call__(self, stage: str, frac: float) -> None:
        self.set(frac)

    def set(self, frac: float, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 1.0:
            return
        self.last = now
        if self.r is None or not self.key:
            return
        self.r.hset(self.key, str(self.index), f"{min(1.0, max(0.0, float(frac))):.4f}")
        self.r.expire(self.key, KEY_TTL)
        if self.job_id:
            fracs = [float(v) for v in self.r.hvals(self.key)]
            done = sum(1 for f in fracs if f >= 1.0)
            report_job_progress(self.settings, self.job_id, 0.1 + 0.8 * sum(fracs) / self.n,
                                f"parts {done}/{self.n}")


def plan_part(task: Any, payload: str, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Celery task ``planner.plan_part``: plan the packed :class:`Part` ``payload``.

    ``meta``: ``index`` and ``parts`` (for messages), ``key`` (Redis progress key), ``job_id``
    (an API plan job whose row gets the progress). Returns ``{"ok": True, "result": packed
    PartResult, ...}`` or ``{"ok": False, "error": ...}``."""
    meta = dict(meta or {})
    settings = get_settings()
    index = int(meta.get("index", 0))
    n = int(meta.get("parts", 1))
    job_id, key = meta.get("job_id"), meta.get("key")
    label = f"part {index + 1} of {n}"
    r = redis_client(task.app)
    attempt = 1
    try:
        if r is not None:
            tries = f"planner:attempts:{task.request.id}"
            attempt = int(r.incr(tries))
            r.expire(tries, KEY_TTL)
            if key:
                r.rpush(f"{key}:runs", json.dumps({"part": index, "attempt": attempt, "worker": task.request.hostname,
                                                   "pid": os.getpid(), "task_id": task.request.id,
                                                   "at": round(time.time(), 3)}))
                r.expire(f"{key}:runs", KEY_TTL)
        if attempt > max(1, settings.part_max_attempts):
            msg = (f"{label} was delivered {attempt} times and its worker died each time (killed, or out of "
                   f"memory); nothing was stored")
            log.error("%s", msg)
            if job_id:
                fail_job_row(settings, job_id, msg)
            return {"ok": False, "part": index, "attempt": attempt, "error": msg}
        if job_id and job_status(settings, job_id) != "running":
            return {"ok": False, "part": index, "attempt": attempt,
                    "error": f"the job is no longer running; {label} was not planned"}
        part: Part = unpack(payload)
        if part.travel is None:
            part = dataclasses.replace(part, travel=worker_travel(settings))
        log.info("%s: planning %d customers, %d reps (attempt %d)", label, len(part.region.customers),
                 len(part.region.reps), attempt)
        reporter = _Reporter(r, key, index, n, settings, job_id)
        result = solve_part(part, reporter)
        reporter.set(1.0, force=True)
        return {"ok": True, "part": index, "attempt": attempt, "worker": task.request.hostname, "result": pack(result)}
    except Exception as e:  # noqa: BLE001 - reported to the caller, who fails the plan
        log.exception("%s failed", label)
        msg = str(e) or type(e).__name__
        return {"ok": False, "part": index, "attempt": attempt, "error": f"{label} failed: {type(e).__name__}: {msg}"}


# ----------------------------------------------------------------------------------------------
# Executor: parts of one plan on the workers, waited for here
# ----------------------------------------------------------------------------------------------
class CeleryExecutor:
    """Plans the parts on Celery workers and waits for them (a :class:`PartExecutor`).

    Not for use inside a task (a worker waiting for others can starve the pool): the API's jobs
    use a chord. ``timeout``: seconds to wait for all parts (None: no limit)."""

    def __init__(self, app: "Celery", *, poll: float = 0.5, timeout: float | None = None):
        self.app = app
        self.poll = poll
        self.timeout = timeout
        self.last_runs: list[dict[str, Any]] = []

    def run(self, parts: Sequence[Part], progress: PartProgress | None = None) -> list[PartResult]:
        """See :meth:`planner.pipeline.decompose.PartExecutor.run`."""
        from celery import group

        if not parts:
            return []
        key = f"planner:progress:{uuid.uuid4().hex}"
        n = len(parts)
        sigs = [self.app.signature(PART_TASK, args=(pack(shippable(p)), {"key": key, "parts": n, "index": p.index}))
                for p in parts]
        res = group(sigs).apply_async()
        r = redis_client(self.app)
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        try:
            while not res.ready():
                if deadline is not None and time.monotonic() > deadline:
                    raise PartFailed(f"the Celery workers did not plan all {n} parts in {self.timeout:g} s")
                if progress is not None and r is not None:
                    for i, f in r.hgetall(key).items():
                        progress(int(i), float(f))
                time.sleep(self.poll)
            values = res.get(propagate=True)
            self.last_runs = part_runs(self.app, key)
        finally:
            res.forget()
            if r is not None:
                r.delete(key, f"{key}:runs")
        out = []
        for p, v in zip(parts, values):
            if not v.get("ok"):
                raise PartFailed(v.get("error") or f"part {p.index + 1} of {n} failed")
            out.append(unpack(v["result"]))
            if progress is not None:
                progress(p.index, 1.0)
        return out


def run_worker(app: "Celery", *, concurrency: int | None = None, name: str | None = None,
               loglevel: str = "info") -> None:
    """Run a Celery worker of ``app`` in this process until it is stopped (``planner worker``)."""
    argv = ["worker", f"--loglevel={loglevel}", "-Q", QUEUE, "--without-gossip", "--without-mingle",
            "-n", name or f"planner-{os.getpid()}@%h"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    app.worker_main(argv)
