"""Plan jobs and their parts on Celery: a real redis-server, real ``planner worker`` processes,
a real API server, real SIGKILLs.

Redis: ``PLANNER_TEST_REDIS_URL`` (a throwaway server: the tests flush its database), else a
``redis-server`` binary started here on a free loopback port; without either the tests are
skipped (``.ci/run`` installs Debian's redis-server and sets the URL).

1. The executor of ``planner plan --workers N`` sends the parts to two workers; the merged
   plan is checked by the evaluator.
2. A plan job of the API with 4 parts: one worker is killed (SIGKILL of its whole process
   group, as when a machine dies) while it plans a part; the part is redelivered after the
   visibility timeout and planned again on the other worker; the job completes with a plan the
   evaluator accepts, and ``GET /jobs/{id}`` never says anything but queued, running, done.
3. A part whose worker process is killed each time it starts it (``reject_on_worker_lost``
   puts it back at once) fails its job after ``PLANNER_PART_MAX_ATTEMPTS``: ``failed``, with
   the reason, and no plan stored.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

pytest.importorskip("celery", reason="Celery is not installed (pip install 'field-visit-planner[celery]')")
redis_py = pytest.importorskip("redis", reason="redis-py is not installed (the celery extra)")

from tests.api.conftest import PLAN_START, ROOT, free_port, start_api, wait_job  # noqa: E402

REDIS_ENV = "PLANNER_TEST_REDIS_URL"
VISIBILITY_TIMEOUT = 10   # s: a part of a dead worker comes back after this (parts take ~3 s here)
TIME_LIMIT = 6            # the job's time limit: 4 parts on 2 worker slots -> 3 s per part


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    url = os.environ.get(REDIS_ENV)
    if url:
        redis_py.Redis.from_url(url).flushdb()
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(f"no redis-server binary and {REDIS_ENV} unset: the Celery tests need a real Redis "
                    "(apt-get install redis-server)")
    tmp = tmp_path_factory.mktemp("redis")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp)], stdout=open(tmp / "redis.log", "wb"), stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis_py.Redis.from_url(url)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis_py.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"redis-server did not start: {(tmp / 'redis.log').read_text()}")
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


class Worker:
    """A ``planner worker`` process (its own process group) with a log file."""

    def __init__(self, name: str, env: dict[str, str], tmp: Path):
        self.name = name
        self.log = tmp / f"{name.split('@')[0]}.log"
        planner = Path(sys.executable).with_name("planner")
        cmd = [str(planner)] if planner.exists() else [sys.executable, "-m", "planner.cli"]
        self.proc = subprocess.Popen([*cmd, "worker", "--concurrency", "1", "--name", name, "--loglevel", "info"],
                                     cwd=tmp, env=env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> "Worker":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited: {self.log.read_text(errors='replace')[-3000:]}")
            if " ready." in self.log.read_text(errors="replace"):
                return self
            time.sleep(0.2)
        raise RuntimeError(f"worker {self.name} not ready: {self.log.read_text(errors='replace')[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to the whole worker (main process and its pool): no cleanup, no ack."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


@pytest.fixture(scope="module")
def setup(redis_url, tmp_path_factory):
    """An API server with a broker, on an SQLite database the workers share, with a generated
    region of 60 customers and 4 reps pushed over the API."""
    from planner.synthetic import generate_region, write_region_csv

    tmp = tmp_path_factory.mktemp("celery")
    env = {"PLANNER_BROKER_URL": redis_url, "PLANNER_PLAN_WORKERS": "2",
           "PLANNER_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT), "PLANNER_PART_MAX_ATTEMPTS": "2"}
    api, db = start_api("sqlite", tmp, env)
    write_region_csv(generate_region(60, 4, seed=5), tmp / "region")
    for kind in ("reps", "customers"):
        with open(tmp / "region" / f"{kind}.csv", encoding="utf-8") as f:
            rows = [{k: v for k, v in row.items() if v != ""} for row in csv.DictReader(f)]
        r = api.crm.put(f"/{kind}", json=rows)
        assert r.status_code == 200, r.text
    worker_env = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_")}
    worker_env.update(env, PLANNER_DATABASE_URL=db.url, PLANNER_GEOCODE_CACHE=str(tmp / "geocode.sqlite"),
                      PYTHONPATH=str(ROOT))
    workers: dict[str, Worker] = {}

    def worker(name: str) -> Worker:
        """The running worker ``name``, started (and waited for) if it is not running."""
        w = workers.get(name)
        if w is None or w.proc.poll() is not None:
            w = workers[name] = Worker(name, worker_env, tmp)
        return w.wait_ready()

    try:
        yield {"api": api, "db": db, "url": redis_url, "tmp": tmp, "worker": worker, "workers": workers}
    finally:
        for w in workers.values():
            w.stop()
        api.close()
        api.server.stop()
        db.drop()


def _runs(redis_url: str, job_id: str) -> list[dict]:
    client = redis_py.Redis.from_url(redis_url)
    return [json.loads(x) for x in client.lrange(f"planner:progress:{job_id}:runs", 0, -1)]


def _stored_plan_checked(db):
    """The latest stored plan and its evaluation against the stored region."""
    from planner.db.repository import load_plan, load_region
    from planner.db.session import make_session_factory
    from planner.evaluation.evaluator import evaluate
    from planner.geo.travel import HaversineTravel

    engine = db.engine()
    try:
        with make_session_factory(engine)() as s:
            plan, region = load_plan(s, "latest"), load_region(s)
    finally:
        engine.dispose()
    return plan, region, evaluate(region, plan, HaversineTravel())


def test_parts_of_a_cli_plan_run_on_the_workers(setup):
    from planner.jobs.celery_app import CeleryExecutor, make_celery
    from planner.pipeline.decompose import plan_region_parallel
    from planner.settings import Settings
    from planner.synthetic import generate_region

    w1, w2 = setup["worker"]("w1@celery-test"), setup["worker"]("w2@celery-test")
    region = generate_region(60, 4, seed=5)
    executor = CeleryExecutor(make_celery(Settings(broker_url=setup["url"])), timeout=120)
    res = plan_region_parallel(region, dt.date.fromisoformat(PLAN_START), 1, workers=2, executor=executor,
                               time_limit=4, seed=2)
    assert res.evaluation.ok, res.evaluation.violations[:5]
    assert res.stats["parts"] == 4 and len(executor.last_runs) == 4
    assert {r["worker"] for r in executor.last_runs} == {w1.name, w2.name}  # both took parts
    assert sum(p["visits"] for p in res.stats["part_stats"]) == res.evaluation.kpis["visits"] > 0
    assert res.evaluation.kpis["visits"] + len(res.plan.unassigned) == res.evaluation.kpis["required_visits"]


def test_a_worker_killed_mid_part_has_its_part_redelivered_and_the_job_completes(setup):
    api = setup["api"]
    workers = {n: setup["worker"](n) for n in ("w1@celery-test", "w2@celery-test")}
    r = api.manager.post("/plans", json={"start": PLAN_START, "weeks": 1, "time_limit": TIME_LIMIT, "seed": 4})
    assert r.status_code == 202 and r.json()["status"] == "queued", r.text
    job_id = r.json()["job_id"]

    # wait until a part is being planned, then kill that worker outright
    seen: list[dict] = []
    deadline = time.monotonic() + 60
    victim = None
    while time.monotonic() < deadline and victim is None:
        runs = _runs(setup["url"], job_id)
        if runs:
            victim = runs[0]
            break
        seen.append(api.manager.get(f"/jobs/{job_id}").json())
        time.sleep(0.05)
    assert victim is not None, f"no part started: {seen[-1:]}"
    killed = workers[victim["worker"]]
    killed.kill()
    survivor = next(w for n, w in workers.items() if n != victim["worker"])

    # the job stays truthfully running (never failed) until it is done
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        job = api.manager.get(f"/jobs/{job_id}").json()
        seen.append(job)
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.25)
    statuses = [j["status"] for j in seen]
    assert job["status"] == "done", (job, survivor.log.read_text(errors="replace")[-3000:])
    assert set(statuses) <= {"queued", "running", "done"} and "running" in statuses
    progress = [j["progress"] for j in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert any(j["stage"] and j["stage"].startswith("parts ") for j in seen)

    # the killed part ran again, on the other worker; the others ran once
    info = job["info"]
    assert info["runner"] == "celery" and info["parts"] == 4
    runs = info["part_runs"]
    again = [x for x in runs if x["part"] == victim["part"]]
    assert [x["attempt"] for x in again] == [1, 2], runs
    assert again[0]["worker"] == killed.name and again[1]["worker"] == survivor.name
    assert info["redelivered"] == [victim["part"]]
    assert sorted(x["part"] for x in runs if x["attempt"] == 1) == [0, 1, 2, 3]

    # the stored plan is the job's, complete and accepted by the evaluator
    plan, region, evaluation = _stored_plan_checked(setup["db"])
    assert plan.plan_id == job["plan_id"]
    assert evaluation.ok, evaluation.violations[:5]
    assert evaluation.kpis["visits"] > 0 and info["violations"] == 0
    assert evaluation.kpis["visits"] + len(plan.unassigned) == evaluation.kpis["required_visits"]
    assert set(plan.assignment) | {u.customer_id for u in plan.unassigned} == {c.id for c in region.customers
                                                                                if c.active}
    assert api.manager.get(f"/plans/{job['plan_id']}").status_code == 200


def test_a_part_whose_worker_dies_every_time_fails_its_job(setup):
    api = setup["api"]
    setup["worker"]("w3@celery-test")
    alive = [w for w in setup["workers"].values() if w.proc.poll() is None]
    r = api.manager.post("/plans", json={"start": PLAN_START, "weeks": 1, "time_limit": TIME_LIMIT, "seed": 6})
    job_id = r.json()["job_id"]
    killed_pids: set[int] = set()
    deadline = time.monotonic() + 120
    job = None
    while time.monotonic() < deadline:
        # kill the pool process planning part 1 whenever it (re)starts it: reject_on_worker_lost
        # puts the part back at once, the worker forks a new pool process
        for run in _runs(setup["url"], job_id):
            if run["part"] == 0 and run["attempt"] < 3 and run["pid"] not in killed_pids:
                killed_pids.add(run["pid"])
                try:
                    os.kill(run["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass
        job = api.manager.get(f"/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert job is not None and job["status"] == "failed", job
    assert "part 1 of 4 was delivered 3 times" in job["error"] and job["plan_id"] is None
    attempts = [x["attempt"] for x in _runs(setup["url"], job_id) if x["part"] == 0]
    assert attempts == [1, 2, 3]
    assert len(killed_pids) == 2
    assert all(w.proc.poll() is None for w in alive)  # only pool processes died: the workers live on
    # a failed job stays failed: the remaining parts are not planned for it
    time.sleep(2)
    assert wait_job(api.manager, job_id, 5)["status"] == "failed"

