"""``planner plan --workers N`` (a local process pool) and ``planner worker`` without a broker,
run as real commands."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "hangzhou"


def _planner(tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    planner = Path(sys.executable).with_name("planner")
    cmd = [str(planner)] if planner.exists() else [sys.executable, "-m", "planner.cli"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_")}
    base.update({"PLANNER_DATABASE_URL": f"sqlite:///{tmp / 'cli.db'}", "PYTHONPATH": str(ROOT),
                 "PLANNER_GEOCODE_CACHE": str(tmp / "geocode.sqlite"), "COLUMNS": "200"}, **(env or {}))
    return subprocess.run([*cmd, *args], cwd=tmp, env=base, capture_output=True, text=True, timeout=300)


def test_plan_with_two_workers_stores_a_checked_plan(tmp_path):
    from planner.db.repository import load_plan, load_region
    from planner.db.session import make_engine, make_session_factory
    from planner.evaluation.evaluator import evaluate
    from planner.geo.travel import HaversineTravel

    for kind in ("reps", "customers"):
        assert _planner(tmp_path, "import", kind, str(FIXTURE / f"{kind}.csv")).returncode == 0
    res = _planner(tmp_path, "plan", "--start", "2026-11-30", "--weeks", "1", "--time-limit", "4", "--workers", "2",
                   "--summary", "reps")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Evaluator: all rules kept (0 violations)" in res.stdout and "plan id:" in res.stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        with make_session_factory(engine)() as s:
            plan, region = load_plan(s, "latest"), load_region(s)
    finally:
        engine.dispose()
    evaluation = evaluate(region, plan, HaversineTravel())
    assert evaluation.ok
    assert evaluation.kpis["visits"] + len(plan.unassigned) == evaluation.kpis["required_visits"] > 0
    assert {r.rep_id for r in plan.routes} == {r.id for r in region.reps}  # all 6 reps, from 4 parts


def test_worker_needs_a_broker(tmp_path):
    res = _planner(tmp_path, "worker")
    assert res.returncode == 2
    assert "PLANNER_BROKER_URL is not set" in res.stdout + res.stderr
