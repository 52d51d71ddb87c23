"""``planner unavailable / lock / replan / explain / locks / absences`` end to end on a temporary
SQLite database (the same small region as tests/test_cli.py)."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from typer.testing import CliRunner

from planner.cli import app
from tests.test_cli import CUSTOMER_HEADER, REP_HEADER, REP_ROWS, customer_rows, flat, write


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli-replan")
    mp = pytest.MonkeyPatch()
    mp.chdir(tmp)
    mp.setenv("PLANNER_DATABASE_URL", f"sqlite:///{tmp / 'cli.db'}")
    mp.setenv("PLANNER_GEOCODE_CACHE", str(tmp / "geo.sqlite"))
    mp.delenv("PLANNER_POLICY_FILE", raising=False)
    mp.delenv("PLANNER_TRAVEL", raising=False)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, [str(a) for a in args])
    assert run("import", "reps", write(tmp / "reps.csv", REP_HEADER, REP_ROWS)).exit_code == 0
    assert run("import", "customers", write(tmp / "customers.csv", CUSTOMER_HEADER, customer_rows())).exit_code == 0
    res = run("plan", "--start", "2026-11-30", "--weeks", "2", "--time-limit", "3")
    assert res.exit_code == 0, res.output
    first = re.search(r"plan id: ([0-9a-f]{32})", res.output).group(1)
    yield run, first, tmp
    mp.undo()


def plan_json(run, tmp, plan_id):
    out = tmp / f"{plan_id}.json"
    assert run("export", plan_id, "--format", "json", "--out", out).exit_code == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_absence_lock_replan_explain(session):
    run, first, tmp = session
    old = plan_json(run, tmp, first)
    # R1's Tuesday of week 2 is lost; C04 (a grade-A, not pinned) gets a fixed appointment
    res = run("unavailable", "R1", "--from", "2026-12-08", "--to", "2026-12-08", "--reason", "ill")
    assert res.exit_code == 0, res.output
    assert "absence 1: rep R1 away 2026-12-08..2026-12-08" in flat(res.output)
    owner = next(r["rep_id"] for r in old["routes"] for s in r["stops"] if s["customer_id"] == "C04")
    res = run("lock", "latest", "--customer", "C04", "--date", "2026-12-10", "--at", "14:00")
    assert res.exit_code == 0, res.output
    assert f"lock 1: C04 on 2026-12-10 (rep {owner}, at 14:00)" in flat(res.output)
    res = run("replan", "latest", "--from", "2026-12-02", "--time-limit", "3")
    assert res.exit_code == 0, res.output
    text = flat(res.output)
    assert "Evaluator: all rules kept" in text and "days before 2026-12-02 unchanged" in text
    new_id = re.search(r"plan id: ([0-9a-f]{32})", res.output).group(1)
    new = plan_json(run, tmp, new_id)
    before = lambda p: sorted((r["rep_id"], r["date"], [s["customer_id"] for s in r["stops"]])  # noqa: E731
                              for r in p["routes"] if r["date"] < "2026-12-02")
    assert before(new) == before(old)
    assert not any(r["rep_id"] == "R1" and r["date"] == "2026-12-08" and r["stops"] for r in new["routes"])
    c04 = [(r["rep_id"], s["start"]) for r in new["routes"] if r["date"] == "2026-12-10" for s in r["stops"]
           if s["customer_id"] == "C04"]
    assert c04 == [(owner, "2026-12-10T14:00:00")] or any(
        u["customer_id"] == "C04" and u["date"] == "2026-12-10" for u in new["unassigned"])
    # the lock is carried to the new plan
    assert "C04" in flat(run("locks", new_id).output)
    # explanations
    res = run("explain", new_id)
    assert res.exit_code == 0 and "reps" in res.output
    res = run("explain", new_id, "--customer", "C04", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["customer_id"] == "C04" and data["status"] in ("planned", "partly_planned")
    assert data["alternatives"][0]["current"] is True


def test_bad_requests_are_clear(session):
    run, first, _tmp = session
    res = run("lock", first, "--customer", "NOPE", "--date", "2026-12-04")
    assert res.exit_code == 1 and "no customer 'NOPE'" in flat(res.output)
    res = run("lock", first, "--customer", "C01", "--date", "2026-12-05")
    assert res.exit_code == 1 and "does not work on Saturday" in flat(res.output)
    res = run("lock", first, "--customer", "C01", "--date", "2027-01-05")
    assert res.exit_code == 1 and "outside the plan's horizon" in flat(res.output)
    res = run("lock", first, "--customer", "C09", "--date", "2026-12-04", "--rep", "R1")
    assert res.exit_code == 1 and "pinned to rep R2" in flat(res.output)
    res = run("lock", first, "--customer", "C01", "--date", "2026-12-04", "--at", "25:00")
    assert res.exit_code == 1 and "bad time" in flat(res.output)
    res = run("replan", first, "--from", "2027-02-01")
    assert res.exit_code == 1 and "outside the plan's horizon" in flat(res.output)
    res = run("replan", "nope", "--from", "2026-12-02")
    assert res.exit_code == 1 and "no stored plan" in flat(res.output)
    res = run("unavailable", "R9", "--from", "2026-12-01")
    assert res.exit_code == 1 and "no rep 'R9'" in flat(res.output)
    res = run("unavailable", "R1", "--from", "2026-12-03", "--to", "2026-12-01")
    assert res.exit_code == 1 and "ends" in flat(res.output)
    res = run("explain", first, "--customer", "NOPE")
    assert res.exit_code == 1 and "no customer 'NOPE'" in flat(res.output)


def test_absences_list_and_remove(session):
    run, _first, _tmp = session
    res = run("unavailable", "R2", "--from", "2026-12-14")
    assert res.exit_code == 0
    aid = re.search(r"absence (\d+):", res.output).group(1)
    assert "2026-12-14" in run("absences", "--rep", "R2").output
    assert run("absences", "--remove", aid).exit_code == 0
    assert "2026-12-14" not in run("absences", "--rep", "R2").output
    assert run("absences", "--remove", "999").exit_code == 1


def test_a_plan_made_after_an_absence_works_around_it(session):
    run, _first, tmp = session
    res = run("plan", "--start", "2026-11-30", "--weeks", "2", "--time-limit", "3")
    assert res.exit_code == 0, res.output
    pid = re.search(r"plan id: ([0-9a-f]{32})", res.output).group(1)
    data = plan_json(run, tmp, pid)
    assert not any(r["rep_id"] == "R1" and r["date"] == "2026-12-08" and r["stops"] for r in data["routes"])
    assert dt.date.fromisoformat(data["start"]) == dt.date(2026, 11, 30)
