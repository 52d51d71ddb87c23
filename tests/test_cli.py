"""The ``planner`` command line end to end, on a temporary SQLite database and CSVs written here."""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import app

BENCH = Path(__file__).resolve().parents[1].parent / "shared" / "bench"
CUSTOMER_HEADER = ["id", "name", "lat", "lon", "grade", "frequency", "visit_minutes", "open", "rep_id", "active"]
REP_HEADER = ["id", "name", "start_lat", "start_lon", "work_start", "work_end", "workdays", "max_visits_per_day",
              "cost_per_km", "cost_per_hour"]


def write(path: Path, header, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def customer_rows():
    rows = []
    for i in range(12):
        grade = "ABCD"[i % 4]
        rep_pin = "R2" if i == 9 else ""          # C09: grade B, pinned
        opening = "09:00-12:00,14:00-18:00" if i % 3 == 0 else ""
        rows.append([f"C{i:02d}", f"客户{i}", f"{30.25 + 0.01 * (i % 4):.4f}", f"{120.15 + 0.012 * i:.4f}",
                     grade, "", "", opening, rep_pin, "true"])
    rows.append(["C99", "已关闭", "30.26", "120.16", "B", "", "", "", "", "false"])
    return rows


REP_ROWS = [["R1", "王伟", "30.26", "120.16", "08:30", "17:30", "Mon,Tue,Wed,Thu,Fri", "6", "1.0", "30"],
            ["R2", "李娜", "30.27", "120.27", "08:30", "17:30", "Mon,Tue,Wed,Thu,Fri", "", "1.0", "30"]]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANNER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("PLANNER_GEOCODE_CACHE", str(tmp_path / "geo.sqlite"))
    monkeypatch.delenv("PLANNER_POLICY_FILE", raising=False)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args])
    return invoke


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """Import, plan (2 weeks, 3 s) and export once; the tests below read what was written."""
    tmp = tmp_path_factory.mktemp("cli-e2e")
    mp = pytest.MonkeyPatch()
    mp.chdir(tmp)
    mp.setenv("PLANNER_DATABASE_URL", f"sqlite:///{tmp / 'cli.db'}")
    mp.setenv("PLANNER_GEOCODE_CACHE", str(tmp / "geo.sqlite"))
    mp.delenv("PLANNER_POLICY_FILE", raising=False)
    runner = CliRunner()
    cust = write(tmp / "customers.csv", CUSTOMER_HEADER, customer_rows())
    reps = write(tmp / "reps.csv", REP_HEADER, REP_ROWS)
    out = {}
    out["reps"] = runner.invoke(app, ["import", "reps", str(reps)])
    out["customers"] = runner.invoke(app, ["import", "customers", str(cust)])
    out["plan"] = runner.invoke(app, ["plan", "--start", "2026-11-30", "--weeks", "2", "--time-limit", "3"])
    out["json"] = runner.invoke(app, ["export", "latest", "--format", "json", "--out", str(tmp / "x.json")])
    yield tmp, out, runner
    mp.undo()


def test_import_and_plan(planned):
    _tmp, out, _ = planned
    for k in ("reps", "customers", "plan", "json"):
        assert out[k].exit_code == 0, (k, out[k].output, out[k].exception)
    assert "plan id:" in out["plan"].output
    assert re.search(r"plan id: [0-9a-f]{32}", out["plan"].output)


def test_exported_json_has_the_interface_shape(planned):
    tmp, _, _ = planned
    data = json.loads((tmp / "x.json").read_text(encoding="utf-8"))
    assert {"plan_id", "start", "end", "routes", "unassigned", "kpis"} <= set(data)
    assert data["start"] == "2026-11-30" and data["end"] == "2026-12-13"     # 2 weeks, end inclusive
    assert data["routes"], "12 customers over 2 weeks must give routes"
    for r in data["routes"]:
        assert {"rep_id", "date", "stops", "distance_km", "duration_minutes", "cost"} <= set(r)
        for s in r["stops"]:
            assert {"customer_id", "arrival", "start", "end"} <= set(s)
            assert s["arrival"] <= s["start"] < s["end"]
            assert s["start"].startswith(r["date"])
    for u in data["unassigned"]:
        assert {"customer_id", "date", "reason"} <= set(u) and u["reason"]
    assert {"visits", "distance_km", "cost"} <= set(data["kpis"])
    assert data["kpis"]["visits"] == sum(len(r["stops"]) for r in data["routes"])
    seen = {s["customer_id"] for r in data["routes"] for s in r["stops"]}
    assert "C99" not in seen                                                  # inactive
    assert {r["rep_id"] for r in data["routes"] for s in r["stops"] if s["customer_id"] == "C09"} == {"R2"}


def test_exported_json_passes_the_outside_checker(planned):
    tmp, _, _ = planned
    checker = BENCH / "check_plan.py"
    if not checker.exists():
        pytest.skip(f"{checker} is not present (the shared bench folder is not checked out)")
    p = subprocess.run([sys.executable, str(checker), str(tmp / "customers.csv"), str(tmp / "reps.csv"),
                        str(tmp / "x.json"), "--start", "2026-11-30", "--weeks", "2"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("fmt, name", [("csv", "plan.csv"), ("xlsx", "plan.xlsx"), ("geojson", "plan.geojson")])
def test_file_exports(planned, fmt, name):
    tmp, _, runner = planned
    target = tmp / "exports" / name
    target.parent.mkdir(exist_ok=True)
    res = runner.invoke(app, ["export", "latest", "--format", fmt, "--out", str(target)])
    assert res.exit_code == 0, (res.output, res.exception)
    assert target.exists() and target.stat().st_size > 0


def test_ics_export_writes_one_calendar_per_rep(planned):
    tmp, _, runner = planned
    res = runner.invoke(app, ["export", "latest", "--format", "ics", "--out", str(tmp / "ics")])
    assert res.exit_code == 0, (res.output, res.exception)
    files = sorted(p.name for p in (tmp / "ics").glob("*.ics"))
    reps_with_routes = {r["rep_id"] for r in json.loads((tmp / "x.json").read_text())["routes"]}
    assert files == sorted(f"{r}.ics" for r in reps_with_routes)
    assert "BEGIN:VCALENDAR" in (tmp / "ics" / files[0]).read_text(encoding="utf-8")


def test_maps(planned):
    tmp, _, runner = planned
    res = runner.invoke(app, ["maps", "latest", "--out", str(tmp / "maps")])
    assert res.exit_code == 0, (res.output, res.exception)
    assert (tmp / "maps" / "region.html").exists()
    routes = json.loads((tmp / "x.json").read_text())["routes"]
    day_files = [p for p in (tmp / "maps").rglob("*.html") if p.name not in ("region.html", "index.html")]
    assert len(day_files) == len(routes)                       # one map per rep-day with stops
    assert any(routes[0]["date"] in p.name for p in day_files)


def test_unknown_export_format(planned):
    tmp, _, runner = planned
    res = runner.invoke(app, ["export", "latest", "--format", "pdf", "--out", str(tmp / "x.pdf")])
    assert res.exit_code != 0
    assert "pdf" in res.output and not (tmp / "x.pdf").exists()


def test_unknown_plan_id(cli, tmp_path):
    write(tmp_path / "reps.csv", REP_HEADER, REP_ROWS)
    assert cli("import", "reps", tmp_path / "reps.csv").exit_code == 0
    res = cli("export", "no-such-plan", "--format", "json", "--out", tmp_path / "y.json")
    assert res.exit_code != 0
    assert "no-such-plan" in flat(res.output)
    assert not (tmp_path / "y.json").exists()


def test_bad_customers_csv_is_rejected_with_row_and_column_and_imports_nothing(cli, tmp_path):
    rows = customer_rows()[:4]
    rows[2][2] = "abc"                                          # data row 3 = spreadsheet row 4, column lat
    bad = write(tmp_path / "bad.csv", CUSTOMER_HEADER, rows)
    res = cli("import", "customers", bad)
    assert res.exit_code != 0
    text = flat(res.output)
    assert "row 4" in text and "'lat'" in text, text
    assert "abc" in text
    # nothing was written: planning finds no customers
    write(tmp_path / "reps.csv", REP_HEADER, REP_ROWS)
    assert cli("import", "reps", tmp_path / "reps.csv").exit_code == 0
    res = cli("plan", "--start", "2026-11-30", "--weeks", "1", "--time-limit", "1")
    assert res.exit_code != 0
    assert "no customers" in flat(res.output)


def test_plan_without_reps(cli, tmp_path):
    good = write(tmp_path / "c.csv", CUSTOMER_HEADER, customer_rows()[:3])
    assert cli("import", "customers", good).exit_code == 0
    res = cli("plan", "--start", "2026-11-30", "--weeks", "1", "--time-limit", "1")
    assert res.exit_code != 0 and "no reps" in flat(res.output)


def test_bad_start_date(cli):
    res = cli("plan", "--start", "30/11/2026")
    assert res.exit_code != 0 and "bad --start" in flat(res.output)


def test_missing_file(cli, tmp_path):
    res = cli("import", "customers", tmp_path / "nope.csv")
    assert res.exit_code != 0 and "no such file" in flat(res.output)


def test_installed_entry_point_runs():
    exe = Path(sys.executable).parent / "planner"
    if not exe.exists():
        pytest.skip("the planner console script is not installed in this environment")
    p = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "plan" in p.stdout
