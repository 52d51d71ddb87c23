"""Plan jobs: the lifecycle on a real server, a worker that dies, a server killed mid-solve and
restarted, and a solve that fails (nothing half-stored)."""
from __future__ import annotations

import os
import signal
import time

import pytest

from tests.api.conftest import PLAN_START, seed, start_api, wait_job


def _plans(api) -> set[str]:
    return {p["plan_id"] for p in api.manager.get("/plans").json()}


def _wait_running(api, job_id: str, timeout: float = 60) -> dict:
    return wait_job(api.manager, job_id, timeout, until=("running", "done", "failed"))


def test_job_lifecycle_restart_and_dead_worker(backend, tmp_path):
    api, db = start_api(backend, tmp_path)
    try:
        seed(api, n_customers=25)
        # 1. queued -> running (progress rises) -> done, the client need not stay connected
        r = api.manager.post("/plans", json={"start": PLAN_START, "weeks": 1, "time_limit": 2})
        assert r.status_code == 202 and r.json()["status"] == "queued"
        job_id = r.json()["job_id"]
        seen, progress = set(), []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            job = api.manager.get(f"/jobs/{job_id}").json()
            seen.add(job["status"])
            progress.append(job["progress"])
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert job["status"] == "done", job
        assert "running" in seen and progress == sorted(progress) and progress[-1] == 1.0
        done_plan = job["plan_id"]
        assert done_plan in _plans(api)
        assert api.manager.get("/jobs", params={"status": "done"}).json()[0]["job_id"] == job_id

        # 2. the worker process dies mid-solve: the job fails, no plan is stored
        r = api.manager.post("/plans", json={"start": PLAN_START, "weeks": 2, "time_limit": 60})
        dead = r.json()["job_id"]
        assert _wait_running(api, dead)["status"] == "running"
        workers = api.server.children()
        assert workers, "no worker process"
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        job = wait_job(api.manager, dead, 30)
        assert job["status"] == "failed" and "worker process died" in job["error"] and job["plan_id"] is None
        assert _plans(api) == {done_plan}

        # 3. the server is killed mid-solve and restarted: the job is failed, not running forever,
        #    and the plan finished before is still there
        r = api.manager.post("/plans", json={"start": PLAN_START, "weeks": 2, "time_limit": 60})
        interrupted = r.json()["job_id"]
        queued = api.manager.post("/plans", json={"start": PLAN_START, "weeks": 1, "time_limit": 60}).json()["job_id"]
        assert _wait_running(api, interrupted)["status"] == "running"
        workers = api.server.children()
        api.server.kill()
        deadline = time.monotonic() + 10  # the orphaned worker notices and exits by itself
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") and
                                                  open(f"/proc/{p}/stat").read().split()[2] != "Z" for p in workers):
            time.sleep(0.2)
        assert not [p for p in workers if os.path.exists(f"/proc/{p}") and open(f"/proc/{p}/stat").read().split()[2] != "Z"]
        api.server.start()
        for jid in (interrupted, queued):
            job = api.manager.get(f"/jobs/{jid}").json()
            assert job["status"] == "failed" and "interrupted" in job["error"] and job["plan_id"] is None, job
        assert _plans(api) == {done_plan}
        assert api.manager.get(f"/plans/{done_plan}").status_code == 200

        # 4. a graceful stop fails the running job too (nothing half-stored)
        r = api.manager.post("/plans", json={"start": PLAN_START, "weeks": 2, "time_limit": 60})
        stopped = r.json()["job_id"]
        assert _wait_running(api, stopped)["status"] == "running"
        api.server.stop()
        api.server.start()
        job = api.manager.get(f"/jobs/{stopped}").json()
        assert job["status"] == "failed" and "interrupted" in job["error"]
        assert _plans(api) == {done_plan}
    finally:
        api.close()
        api.server.stop()
        db.drop()


@pytest.fixture
def job_db(tmp_path):
    from planner.api.deps import make_api_engine
    from planner.db.session import init_db, make_session_factory
    from planner.settings import Settings

    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    engine = make_api_engine(url)
    init_db(engine)
    yield Settings(database_url=url), make_session_factory(engine)
    engine.dispose()


def _push_small_region(factory) -> None:
    from planner.db.models import CustomerRow, RepRow
    from planner.db.repository import customer_to_row, rep_to_row
    from planner.domain import Customer, Location, Rep

    with factory() as s:
        s.add(RepRow(**rep_to_row(Rep("R1", "rep", Location(30.25, 120.17)))))
        for i in range(4):
            s.add(CustomerRow(**customer_to_row(Customer(f"C{i}", f"c{i}", Location(30.25 + i / 100, 120.17), "B"))))
        s.commit()


def test_a_failed_solve_is_recorded_and_stores_nothing(job_db, monkeypatch):
    import planner.pipeline
    from planner.api.jobs import _run_plan_job, new_job
    from planner.db.models import JobRow, PlanRow

    settings, factory = job_db
    _push_small_region(factory)

    def explode(*a, **k):
        k["progress"]("routing", 0.3)
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(planner.pipeline, "plan_region", explode)
    with factory() as s:
        job = new_job(s, {"start": PLAN_START, "weeks": 1, "time_limit": 1}, "test")
        s.commit()
        jid = job.id
    _run_plan_job(settings, factory, jid)
    with factory() as s:
        job = s.get(JobRow, jid)
        assert job.status == "failed" and job.error == "solver exploded" and job.plan_id is None
        assert job.finished_at is not None
        assert s.query(PlanRow).count() == 0


def test_a_job_marked_failed_meanwhile_stores_nothing(job_db, monkeypatch):
    import planner.pipeline
    from planner.api.jobs import _run_plan_job, fail_job, new_job, recover_interrupted
    from planner.db.models import JobRow, PlanRow

    settings, factory = job_db
    _push_small_region(factory)
    real = planner.pipeline.plan_region

    def slow(*a, **k):
        result = real(*a, **k)
        with factory() as s:  # a new server started meanwhile
            assert recover_interrupted(s) == 1
            s.commit()
        return result

    monkeypatch.setattr(planner.pipeline, "plan_region", slow)
    with factory() as s:
        jid = new_job(s, {"start": PLAN_START, "weeks": 1, "time_limit": 1}, "test").id
        s.commit()
    _run_plan_job(settings, factory, jid)
    with factory() as s:
        job = s.get(JobRow, jid)
        assert job.status == "failed" and "interrupted" in job.error
        assert s.query(PlanRow).count() == 0
        assert not fail_job(s, jid, "again")  # finished jobs stay as they are


def test_no_active_reps_fails_the_job_with_a_clear_error(job_db):
    from planner.api.jobs import _run_plan_job, new_job
    from planner.db.models import JobRow, RepRow

    settings, factory = job_db
    _push_small_region(factory)
    with factory() as s:
        s.get(RepRow, "R1").active = False
        jid = new_job(s, {"start": PLAN_START, "weeks": 1, "time_limit": 1}, "test").id
        s.commit()
    _run_plan_job(settings, factory, jid)
    with factory() as s:
        assert s.get(JobRow, jid).error == "no active reps to plan with"




def test_a_big_region_is_planned_in_parts_by_the_job(tmp_path):
    # the threshold lowered to 10 customers: this 30-customer job decomposes the region by
    # territory and plans the parts in a process pool of its own (2 workers), then merges them
    api, db = start_api("sqlite", tmp_path, env={"PLANNER_PARALLEL_MIN_CUSTOMERS": "10", "PLANNER_PLAN_WORKERS": "2"})
    try:
        customers, _reps = seed(api, n_customers=30)
        r = api.manager.post("/plans", json={"start": PLAN_START, "weeks": 2, "time_limit": 4})
        assert r.status_code == 202, r.text
        job = wait_job(api.manager, r.json()["job_id"])
        assert job["status"] == "done", job
        assert job["info"]["workers"] == 2 and job["info"]["parts"] == 2  # one part per rep here
        plan = api.manager.get(f"/plans/{job['plan_id']}").json()
        owners: dict[str, set[str]] = {}
        for route in plan["routes"]:
            for s in route["stops"]:
                owners.setdefault(s["customer_id"], set()).add(route["rep_id"])
        assert owners and all(len(v) == 1 for v in owners.values())
        active = {c["id"] for c in customers if str(c.get("active", "true")).lower() != "false"}
        assert set(owners) | {u["customer_id"] for u in plan["unassigned"]} <= active
    finally:
        api.close()
        api.server.stop()
        db.drop()
