"""A real uvicorn server on loopback for the API tests, on SQLite and (when
``PLANNER_TEST_POSTGRES_URL`` is set) PostgreSQL, with keys for every role.

The server runs in a subprocess (``python -m uvicorn --factory planner.api.main:create_app``) so
that tests can kill and restart it. Each server gets its own SQLite file or PostgreSQL schema.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

httpx = pytest.importorskip("httpx")

from tests.conftest import PG_ENV  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "hangzhou"
# Monday of last week: the plan's days are past, so visits can be recorded on them
_TODAY = dt.date.today()
PLAN_START = (_TODAY - dt.timedelta(days=_TODAY.weekday() + 7)).isoformat()
NEXT_WEEK = (_TODAY - dt.timedelta(days=_TODAY.weekday())).isoformat()

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql",
                 marks=pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Database:
    """An empty database for one server: an SQLite file, or a PostgreSQL schema of its own."""

    def __init__(self, backend: str, tmp: Path):
        self.backend = backend
        self.schema = None
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp / 'api-test.db'}"
        else:
            from sqlalchemy import make_url, text

            from planner.db.session import make_engine
            base = os.environ[PG_ENV]
            self.schema = f"api_{uuid.uuid4().hex[:12]}"
            admin = make_engine(base)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
            self.base = base
            self.url = make_url(base).update_query_dict({"options": f"-csearch_path={self.schema}"}) \
                .render_as_string(hide_password=False)

    def engine(self):
        from planner.db.session import make_engine
        return make_engine(self.url)

    def drop(self) -> None:
        if self.schema:
            from sqlalchemy import text

            from planner.db.session import make_engine
            admin = make_engine(self.base)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            admin.dispose()


def make_keys(db: Database) -> dict[str, str]:
    """Migrate the database and make keys: crm, manager, rep_a (R01), rep_b (R02), spare (crm)."""
    from planner.api.security import create_key
    from planner.db.session import init_db, make_session_factory

    engine = db.engine()
    init_db(engine)
    with make_session_factory(engine)() as s:
        keys = {"crm": create_key(s, "test-crm", "crm"), "manager": create_key(s, "test-manager", "manager"),
                "rep_a": create_key(s, "tablet-R01", "rep", "R01"), "rep_b": create_key(s, "tablet-R02", "rep", "R02"),
                "spare": create_key(s, "spare", "crm")}
        s.commit()
    engine.dispose()
    return keys


class Server:
    """``python -m uvicorn`` on a free loopback port, on ``db``."""

    def __init__(self, db: Database, tmp: Path, env: dict[str, str] | None = None):
        self.db = db
        self.tmp = tmp
        self.env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log = tmp / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> "Server":
        self.port = self.port or free_port()  # a restart keeps the port
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_")}
        env.update({"PLANNER_DATABASE_URL": self.db.url, "PLANNER_GEOCODE_CACHE": str(self.tmp / "geocode.sqlite"),
                    "PYTHONPATH": str(ROOT)})
        env.update(self.env)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "planner.api.main:create_app", "--host", "127.0.0.1",
                 "--port", str(self.port), "--log-level", "warning"],
                cwd=self.tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text(errors='replace')[-3000:]}")

    def children(self) -> list[int]:
        """Process ids of the server's child processes (the plan workers)."""
        out = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    stat = (d / "stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid == self.proc.pid:
                    out.append(int(d.name))
        return out

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: the server dies without any cleanup."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def client(self, key: str | None = None, **kw: Any) -> "httpx.Client":
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kw)


class Api:
    """A running server with its keys and a client per role."""

    def __init__(self, server: Server, keys: dict[str, str]):
        self.server = server
        self.keys = keys
        self.clients = {role: server.client(k) for role, k in keys.items()}
        self.anon = server.client()

    def __getattr__(self, role: str) -> "httpx.Client":
        try:
            return self.__dict__["clients"][role]
        except KeyError:
            raise AttributeError(role) from None

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        for c in [*self.clients.values(), self.anon]:
            c.close()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    return request.param


def start_api(backend: str, tmp: Path, env: dict[str, str] | None = None) -> tuple[Api, Database]:
    db = Database(backend, tmp)
    keys = make_keys(db)
    server = Server(db, tmp, env).start()
    return Api(server, keys), db


@pytest.fixture(scope="module")
def api(backend, tmp_path_factory) -> Iterator[Api]:
    """A server for the tests of one module and one backend."""
    a, db = start_api(backend, tmp_path_factory.mktemp(f"api-{backend}"))
    try:
        yield a
    finally:
        a.close()
        a.server.stop()
        db.drop()


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------
def fixture_rows(kind: str) -> list[dict[str, str]]:
    with open(FIXTURE / f"{kind}.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def small_region(n_customers: int = 30, reps: tuple[str, ...] = ("R01", "R02")) -> tuple[list[dict], list[dict]]:
    """The first customers of the fixture region (some with phone and region) and two reps."""
    customers = fixture_rows("customers")[:n_customers]
    for i, c in enumerate(customers):
        c["region"] = "north" if i % 2 else "south"
        if i % 3 == 0:
            c["phone"] = f"+86 571 8800 {i:04d}"
    rep_rows = [r for r in fixture_rows("reps") if r["id"] in reps]
    return customers, rep_rows


def seed(api: Api, n_customers: int = 30) -> tuple[list[dict], list[dict]]:
    customers, reps = small_region(n_customers)
    r = api.crm.put("/reps", json=reps)
    assert r.status_code == 200, r.text
    r = api.crm.put("/customers", json=customers)
    assert r.status_code == 200, r.text
    return customers, reps


def wait_job(client, job_id: str, timeout: float = 120, until=("done", "failed")) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(f"/jobs/{job_id}")
        assert r.status_code == 200, r.text
        job = r.json()
        if job["status"] in until:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not {until} after {timeout} s: {job}")


def run_plan(api: Api, start: str = PLAN_START, weeks: int = 1, time_limit: float = 2, **extra) -> dict:
    r = api.manager.post("/plans", json={"start": start, "weeks": weeks, "time_limit": time_limit, **extra})
    assert r.status_code == 202, r.text
    job = wait_job(api.manager, r.json()["job_id"])
    assert job["status"] == "done", job
    return job


@pytest.fixture(scope="module")
def planned(api) -> dict[str, Any]:
    """The small region pushed over the API and planned for one week (a done job)."""
    customers, reps = seed(api)
    job = run_plan(api)
    plan = api.crm.get(f"/plans/{job['plan_id']}").json()
    return {"customers": customers, "reps": reps, "job": job, "plan_id": job["plan_id"], "plan": plan}


def a_route(plan: dict, rep_id: str) -> dict:
    """The route of ``rep_id`` with the most stops."""
    routes = [r for r in plan["routes"] if r["rep_id"] == rep_id and r["stops"]]
    assert routes, f"no route of {rep_id}"
    return max(routes, key=lambda r: (len(r["stops"]), r["date"]))
