"""Database at size: imports, bulk upserts, plans stored and read, and the API's list routes, on
SQLite and PostgreSQL.

    .venv/bin/python benchmarks/db_scale.py                                   # SQLite only
    .venv/bin/python benchmarks/db_scale.py --postgres postgresql+psycopg://planner:planner@127.0.0.1:5432/planner_test
    PLANNER_TEST_POSTGRES_URL=postgresql+psycopg://… .venv/bin/python benchmarks/db_scale.py

Data: a generated Hangzhou region (``planner.synthetic.generate_region(2000, 50, seed=2026)``,
``--customers``/``--reps`` to change), written as CSV with ``write_region_csv``. Each backend
gets an empty database per case (a file in a temporary folder; on PostgreSQL a schema of its own,
dropped afterwards), migrated with ``init_db``.

Every case runs ``--repeat`` times (default 3), each on a new database; the table shows the
best time. Seconds are wall time, ``statements`` the SQL statements the client sent, counted
with a ``before_cursor_execute`` listener (an ``executemany`` counts once). Cases:

* ``cli import``: ``planner import customers customers.csv`` in a subprocess (Python start-up
  and the file's validation included); ``cli re-import``: the same file again (all unchanged).
* ``import`` / ``re-import`` / ``re-import 10 changed``: :func:`planner.io.service.import_customers`
  in this process on a new, an unchanged, and a 10-rows-changed file (``parse`` is the file's
  validation alone, the rest is the database).
* ``api upsert`` (2,000 new), ``api upsert again`` (unchanged), ``api upsert 10 changed``:
  ``PUT /customers`` through FastAPI's TestClient (validation, upsert, commit); above 10,000
  customers in requests of 10,000 (the route's limit), times and statements summed.
* ``save_plan`` / ``load_plan``: a synthetic 4-week plan of every customer (``A`` 8 visits,
  ``B`` 4, ``C`` 2, ``D`` 1 on the rep's workdays, one route per rep and workday, with
  assignment, patterns and facts of every customer), stored and read back.
* ``GET …``: the API's list routes on a database with the region, 3 stored plans, 20,000 visit
  records, 200 jobs, absences and locks; ``rows`` is the number of items in the answer.

``--only cli,import,api,plan,lists`` picks cases, ``--no-sqlite`` skips SQLite.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import functools
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

START = dt.date(2026, 11, 30)
WEEKS = 4
API_MAX_ITEMS = 10000  # PUT /customers takes at most this many items
VISITS_IN_4_WEEKS = {"A": 8, "B": 4, "C": 2, "D": 1}


# ----------------------------------------------------------------------------------------------
# Databases
# ----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def database(backend: str, pg_url: str | None, tmp: Path) -> Iterator[str]:
    """The URL of an empty database (SQLite file or PostgreSQL schema), removed afterwards."""
    if backend == "sqlite":
        path = tmp / f"bench-{uuid.uuid4().hex[:8]}.db"
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    from sqlalchemy import make_url, text

    from planner.db.session import make_engine
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class StatementCounter:
    """Counts the statements an engine sends while active (``with counter.counting(): ...``)."""

    def __init__(self, engine):
        from sqlalchemy import event
        self.engine = engine
        self.statements: list[str] = []
        self.active = False
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.active:
            self.statements.append(statement)

    @contextlib.contextmanager
    def counting(self) -> Iterator[list[str]]:
        self.statements = []
        self.active = True
        try:
            yield self.statements
        finally:
            self.active = False


@dataclasses.dataclass
class Result:
    backend: str
    case: str
    seconds: float
    statements: int | None = None
    note: str = ""


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------
def make_region(n_customers: int, n_reps: int):
    """The generated region, every fourth customer in each of four sales regions."""
    from planner.synthetic import generate_region
    region = generate_region(n_customers, n_reps, seed=2026)
    names = ("north", "south", "east", "west")
    customers = tuple(dataclasses.replace(c, region=names[i % 4]) for i, c in enumerate(region.customers))
    return dataclasses.replace(region, customers=customers)


def changed_customers(region, n: int = 10):
    """The region's customers with the names of ``n`` of them changed."""
    return tuple(dataclasses.replace(c, name=c.name + " (new)") if i < n else c
                 for i, c in enumerate(region.customers))


def write_customers_csv(region, customers, path: Path) -> Path:
    from planner.synthetic import write_region_csv
    tmp = path.parent / f"_{path.stem}"
    written, _ = write_region_csv(dataclasses.replace(region, customers=customers), tmp)
    written.replace(path)
    return path


def customer_items(customers) -> list[dict[str, Any]]:
    """The customers as ``PUT /customers`` items."""
    from planner.domain import format_windows
    return [{"id": c.id, "name": c.name, "address": c.address, "lat": c.location.lat, "lon": c.location.lon,
             "grade": c.grade, "frequency": str(c.frequency) if c.frequency else None,
             "visit_minutes": c.visit_minutes, "open": format_windows(c.opening) or None, "rep_id": c.rep_id,
             "active": c.active, "region": c.region, "phone": c.phone} for c in customers]


def synthetic_plan(region, plan_id: str, created: dt.datetime):
    """A 4-week plan of every active customer: routes per rep and workday, times 09:00 on."""
    from planner.domain import Plan, Route, Stop, Unassigned, customer_facts
    reps = list(region.reps)
    days = [START + dt.timedelta(days=d) for d in range(7 * WEEKS) if (START + dt.timedelta(days=d)).weekday() < 5]
    by_route: dict[tuple[str, dt.date], list[str]] = {}
    assignment: dict[str, str] = {}
    patterns: dict[str, tuple[int, ...]] = {}
    unassigned = []
    for i, c in enumerate(region.customers):
        rep = c.rep_id or reps[i % len(reps)].id
        n = VISITS_IN_4_WEEKS.get(c.grade, 2)
        first = i % max(1, len(days) // n)
        picked = [days[(first + k * len(days) // n) % len(days)] for k in range(n)]
        assignment[c.id] = rep
        patterns[c.id] = tuple(sorted((d - START).days for d in picked))
        for d in picked:
            by_route.setdefault((rep, d), []).append(c.id)
        if i % 40 == 0:
            unassigned.append(Unassigned(c.id, picked[-1], "capacity_exceeded", "no room on this day"))
    routes = []
    for (rep, d), ids in sorted(by_route.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        t = dt.datetime.combine(d, dt.time(9))
        stops = []
        for cid in ids:
            arrival = t + dt.timedelta(minutes=12, seconds=7)
            stops.append(Stop(cid, arrival, arrival, arrival + dt.timedelta(minutes=30)))
            t = arrival + dt.timedelta(minutes=30)
        routes.append(Route(rep, d, tuple(stops), dt.datetime.combine(d, dt.time(8, 45)), t + dt.timedelta(minutes=20),
                            None, 3.3 * len(stops) + 0.1, 12.25 * len(stops), 7.5 * len(stops) + 1 / 3))
    facts = {c.id: customer_facts(c, region.policy) for c in region.customers}
    return Plan(plan_id=plan_id, start=START, weeks=WEEKS, routes=tuple(routes), unassigned=tuple(unassigned),
                assignment=MappingProxyType(assignment), patterns=MappingProxyType(patterns), created_at=created,
                seed=1, time_limit=5.0, facts=MappingProxyType(facts))


# ----------------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------------
def cli_import(backend: str, url: str, csv_path: Path, tmp: Path) -> list[Result]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_")}
    env.update({"PLANNER_DATABASE_URL": url, "PLANNER_GEOCODE_CACHE": str(tmp / "geocode.sqlite"),
                "PYTHONPATH": str(ROOT)})
    cli = "import sys; from planner.cli import app; sys.argv[0] = 'planner'; app()"
    out = []
    for case in ("cli import", "cli re-import"):
        t = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", cli, "import", "customers", str(csv_path)], env=env, cwd=tmp,
                           capture_output=True, text=True, check=False)
        secs = time.perf_counter() - t
        if p.returncode != 0:
            raise RuntimeError(f"{case} failed: {p.stdout}{p.stderr}")
        out.append(Result(backend, case, secs, note=" ".join(p.stdout.split())[:60]))
    return out


def inprocess_import(backend: str, url: str, csv_path: Path, changed_path: Path, tmp: Path) -> list[Result]:
    from planner.db.session import init_db, make_engine, make_session_factory
    from planner.io.customers import parse_customers
    from planner.io.service import import_customers
    from planner.domain import VisitPolicy

    policy = VisitPolicy()
    cache = tmp / "geocode.sqlite"
    engine = make_engine(url)
    init_db(engine)
    counter = StatementCounter(engine)
    factory = make_session_factory(engine)
    out = []
    parse_s, _ = timed(functools.partial(parse_customers, csv_path, policy, None, geocode_cache=cache))
    out.append(Result(backend, "parse (file validation only)", parse_s))
    for case, path in (("import", csv_path), ("re-import", csv_path), ("re-import 10 changed", changed_path)):
        with factory() as s, counter.counting() as stmts:
            secs, summary = timed(functools.partial(import_customers, s, path, policy, geocode_cache=cache))
        out.append(Result(backend, case, secs, len(stmts), str(summary)[:60]))
    engine.dispose()
    return out


@contextlib.contextmanager
def api_client(url: str, tmp: Path) -> Iterator[tuple[Any, dict[str, str], StatementCounter]]:
    """A TestClient on a new app on ``url`` with keys crm, manager and rep (the first rep)."""
    from fastapi.testclient import TestClient

    from planner.api.main import create_app
    from planner.api.security import create_key
    from planner.settings import Settings

    settings = Settings(database_url=url, geocode_cache=tmp / "geocode.sqlite", _env_file=None)
    with TestClient(create_app(settings)) as client:
        state = client.app.state.planner
        with state.session_factory() as s:
            keys = {"crm": create_key(s, "bench-crm", "crm"), "manager": create_key(s, "bench-manager", "manager")}
            s.commit()
        yield client, keys, StatementCounter(state.engine)


def api_upsert(backend: str, url: str, region, tmp: Path) -> list[Result]:
    """``PUT /customers`` of every customer (requests of at most ``API_MAX_ITEMS``): new, the
    same again, and with 10 changed."""
    items = customer_items(region.customers)
    changed = customer_items(changed_customers(region))
    out = []
    with api_client(url, tmp) as (client, keys, counter):
        auth = {"Authorization": f"Bearer {keys['crm']}"}
        for case, body in (("api upsert", items), ("api upsert again", items), ("api upsert 10 changed", changed)):
            counts = {"inserted": 0, "updated": 0, "unchanged": 0}
            secs = 0.0
            with counter.counting() as stmts:
                for k in range(0, len(body), API_MAX_ITEMS):
                    part = body[k:k + API_MAX_ITEMS]
                    s, r = timed(functools.partial(client.put, "/customers", json=part, headers=auth))
                    if r.status_code != 200:
                        raise RuntimeError(f"{case}: {r.status_code} {r.text[:500]}")
                    secs += s
                    counts = {name: n + r.json()[name] for name, n in counts.items()}
            requests = math.ceil(len(body) / API_MAX_ITEMS)
            out.append(Result(backend, case + (f" ({requests} requests)" if requests > 1 else ""), secs, len(stmts),
                              f"{counts['inserted']} ins / {counts['updated']} upd / {counts['unchanged']} same"))
    return out


def plans(backend: str, url: str, region) -> list[Result]:
    from planner.db.repository import load_plan, save_plan, upsert_customers, upsert_reps
    from planner.db.session import init_db, make_engine, make_session_factory

    engine = make_engine(url)
    init_db(engine)
    counter = StatementCounter(engine)
    factory = make_session_factory(engine)
    plan = synthetic_plan(region, "p" * 32, dt.datetime(2026, 11, 27, 8))
    stops = sum(len(r.stops) for r in plan.routes)
    with factory() as s:
        upsert_customers(s, region.customers)
        upsert_reps(s, region.reps)
        s.commit()
    out = []
    for case in ("save_plan", "save_plan (replace)"):
        with factory() as s, counter.counting() as stmts:
            secs, _ = timed(lambda: (save_plan(s, plan, {"visits": stops}), s.commit()))
        out.append(Result(backend, case, secs, len(stmts), f"{len(plan.routes)} routes, {stops} stops"))
    with factory() as s, counter.counting() as stmts:
        secs, loaded = timed(lambda: load_plan(s, plan.plan_id))
    if loaded != plan:
        raise AssertionError("the plan did not load back equal")
    out.append(Result(backend, "load_plan", secs, len(stmts), "equal to the saved plan"))
    engine.dispose()
    return out


def seed_list_data(factory, region, n_visits: int = 20000) -> list[Any]:
    """The region, 3 stored plans, ``n_visits`` visit records, 200 jobs, an absence per rep and 50
    locks; returns the plans (the last is the latest)."""
    from sqlalchemy import insert

    from planner.db.models import AbsenceRow, JobRow, PlanLockRow, VisitRow
    from planner.db.repository import save_plan, upsert_customers, upsert_reps

    stored = []
    with factory() as s:
        upsert_customers(s, region.customers)
        upsert_reps(s, region.reps)
        for k in range(3):
            plan = synthetic_plan(region, f"{k}" * 32, dt.datetime(2026, 11, 20 + k, 8))
            save_plan(s, plan, {})
            stored.append(plan)
        latest = stored[-1].plan_id
        now = dt.datetime(2026, 11, 27, 18)
        s.execute(insert(VisitRow), [
            {"customer_id": region.customers[i % len(region.customers)].id,
             "rep_id": region.reps[i % len(region.reps)].id, "plan_id": latest,
             "visited_at": dt.datetime(2026, 6, 1, 9) + dt.timedelta(minutes=13 * i),
             "outcome": ("done", "absent", "rescheduled")[i % 7 % 3], "notes": None, "next_action": None,
             "created_at": now, "created_by": "bench"} for i in range(n_visits)])
        s.execute(insert(JobRow), [{"id": uuid.uuid4().hex, "kind": "plan", "status": ("done", "failed")[i % 2],
                                    "progress": 1.0, "params": {}, "info": {}, "created_at": now,
                                    "plan_id": stored[i % 3].plan_id} for i in range(200)])
        s.execute(insert(AbsenceRow), [{"rep_id": r.id, "start": START, "end": START, "reason": "ill",
                                        "created_at": now} for r in region.reps])
        s.execute(insert(PlanLockRow), [{"plan_id": latest, "customer_id": c.id, "date": START, "rep_id": None,
                                         "start_min": 600, "end_min": 600, "created_at": now}
                                        for c in region.customers[:50]])
        s.commit()
    return stored


def list_cases(region, latest) -> list[tuple[str, str]]:
    """(role, path) of the API's list routes; ``latest`` is the newest stored plan."""
    rep = region.reps[0].id
    day = next(r.date for r in latest.routes if r.rep_id == rep and r.stops).isoformat()
    pid = latest.plan_id
    return [
        ("crm", "/customers?limit=100"),
        ("crm", "/customers?region=north&grade=A&active=true&limit=100"),
        ("crm", f"/customers?rep_id={rep}"),
        ("crm", "/customers?q=C01&limit=1000"),
        ("crm", "/customers?limit=100&offset=1900"),
        ("rep", "/customers?limit=1000"),
        ("crm", "/customers/nearby?lat=30.27&lon=120.15&radius_km=2"),
        ("crm", "/reps?active=true"),
        ("crm", "/plans"),
        ("rep", "/plans"),
        ("crm", f"/plans/{pid}/routes?rep_id={rep}&date={day}"),
        ("rep", f"/plans/latest/routes?date={day}"),
        ("crm", f"/plans/{pid}"),
        ("crm", f"/plans/{pid}/locks"),
        ("crm", f"/visits?rep_id={rep}&limit=100"),
        ("crm", f"/visits?customer_id={region.customers[5].id}"),
        ("crm", "/visits?outcome=absent&since=2026-06-20T00:00:00&until=2026-07-01T00:00:00"),
        ("rep", "/visits?limit=100"),
        ("crm", "/visits/debt?start=2026-11-30"),
        ("manager", "/jobs?status=done&limit=50"),
        ("manager", f"/reps/{rep}/absences"),
    ]


def api_lists(backend: str, url: str, region, tmp: Path) -> list[Result]:
    from planner.api.security import create_key

    out = []
    with api_client(url, tmp) as (client, keys, counter):
        state = client.app.state.planner
        stored = seed_list_data(state.session_factory, region)
        with state.session_factory() as s:
            keys["rep"] = create_key(s, "bench-rep", "rep", region.reps[0].id)
            s.commit()
        for role, path in list_cases(region, stored[-1]):
            headers = {"Authorization": f"Bearer {keys[role]}"}
            client.get(path, headers=headers)  # warm up (first-request work, caches)
            with counter.counting() as stmts:
                secs, r = timed(functools.partial(client.get, path, headers=headers))
            if r.status_code != 200:
                raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:300]}")
            body = r.json()
            n = len(body["items"]) if isinstance(body, dict) and "items" in body else (
                len(body["routes"]) if isinstance(body, dict) and "routes" in body else len(body))
            out.append(Result(backend, f"GET {path} ({role})", secs, len(stmts), f"rows {n}"))
    return out


# ----------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    """Run the cases on each backend (each ``--repeat`` times on new databases, best time kept)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--postgres", default=os.environ.get("PLANNER_TEST_POSTGRES_URL"),
                    help="a PostgreSQL URL (default: PLANNER_TEST_POSTGRES_URL); schemas are created and dropped")
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each case; the best time is reported")
    ap.add_argument("--only", default="cli,import,api,plan,lists",
                    help="comma-separated: cli, import, api, plan, lists")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    backends = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.postgres else [])
    region = make_region(args.customers, args.reps)
    best: dict[tuple[str, str], Result] = {}
    with tempfile.TemporaryDirectory(prefix="planner-db-scale-") as tmpdir:
        tmp = Path(tmpdir)
        csv_path = write_customers_csv(region, region.customers, tmp / "customers.csv")
        changed_path = write_customers_csv(region, changed_customers(region), tmp / "customers-changed.csv")
        steps: list[tuple[str, Callable[[str, str], list[Result]]]] = [
            ("cli", lambda backend, url: cli_import(backend, url, csv_path, tmp)),
            ("import", lambda backend, url: inprocess_import(backend, url, csv_path, changed_path, tmp)),
            ("api", lambda backend, url: api_upsert(backend, url, region, tmp)),
            ("plan", lambda backend, url: plans(backend, url, region)),
            ("lists", lambda backend, url: api_lists(backend, url, region, tmp)),
        ]
        for backend in backends:
            for name, step in steps:
                if name not in only:
                    continue
                for _ in range(args.repeat):
                    with database(backend, args.postgres, tmp) as url:
                        for r in step(backend, url):
                            key = (r.backend, r.case)
                            if key not in best or r.seconds < best[key].seconds:
                                best[key] = r
                print(f"{backend}: {name} done", file=sys.stderr, flush=True)
    print(f"\n{len(region.customers)} customers, {len(region.reps)} reps; best of {args.repeat} runs\n")
    print("| backend | case | seconds | statements | note |")
    print("| --- | --- | ---: | ---: | --- |")
    for r in best.values():
        print(f"| {r.backend} | {r.case} | {r.seconds:.3f} | {'' if r.statements is None else r.statements} "
              f"| {r.note} |")


if __name__ == "__main__":
    main()
