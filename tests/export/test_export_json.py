import json

import pytest

from planner.export import FORMATS, export_plan, plan_to_dict

KPIS = {  # computed by hand from tests/tiny_plan.py
    "visits": 3,
    "required_visits": 4,  # 3 planned + 1 unplanned (not inactive)
    "unassigned": 1,
    "distance_km": 114.2,  # 84.2 + 30.0
    "drive_hours": 2.92,  # 105/60 = 1.75, 70/60 = 1.167
    "work_hours": 7.0,  # 08:30-13:30 = 5 h, 09:00-11:00 = 2 h
    "cost": 180.5,
    "km_per_visit": 38.067,
    "routes": 2,
    "compliance": 0.75,
}


def test_top_level_shape(plan, region):
    d = plan_to_dict(plan, region)
    for key in ("plan_id", "start", "end", "routes", "unassigned", "kpis"):
        assert key in d
    assert d["plan_id"] == "P-test"
    assert d["start"] == "2026-11-30"
    assert d["end"] == "2026-12-06"  # last day, inclusive
    assert d["weeks"] == 1
    assert d["assignment"] == {"C1": "R1", "C2": "R1", "C3": "R2"}
    assert d["kpis"] == KPIS


def test_routes_sorted_and_empty_skipped(plan, region):
    routes = plan_to_dict(plan, region)["routes"]
    assert [(r["date"], r["rep_id"]) for r in routes] == [("2026-11-30", "R1"), ("2026-12-01", "R2")]
    r1, r2 = routes
    assert r1["distance_km"] == 84.2 and r1["duration_minutes"] == 300.0 and r1["cost"] == 120.5
    assert r1["drive_minutes"] == 105.0 and r1["visits"] == 2
    assert r1["depart"] == "2026-11-30T08:30:00" and r1["back"] == "2026-11-30T13:30:00"
    assert r1["lunch_start"] == "2026-11-30T12:00:00"
    assert r2["lunch_start"] is None and r2["duration_minutes"] == 120.0


def test_stops(plan, region):
    stops = plan_to_dict(plan, region)["routes"][0]["stops"]
    assert [s["customer_id"] for s in stops] == ["C1", "C2"]
    assert [s["seq"] for s in stops] == [1, 2]
    assert stops[0]["name"] == '上海<华东>&"超市"'
    assert {k: stops[1][k] for k in ("arrival", "start", "end")} == {
        "arrival": "2026-11-30T10:50:00", "start": "2026-11-30T11:00:00", "end": "2026-11-30T11:45:00"}


def test_unassigned(plan, region):
    un = plan_to_dict(plan, region)["unassigned"]
    assert un == [{"customer_id": "C2", "name": "杭州茶叶店", "date": "2026-12-03",
                   "code": "capacity_exceeded", "reason": "R1 is fully booked on 2026-12-03"}]


def test_file_round_trip(plan, region, tmp_path):
    out = tmp_path / "sub" / "plan.json"
    assert export_plan(plan, region, "json", out) == [out]
    text = out.read_text(encoding="utf-8")
    assert "杭州茶叶店" in text  # Chinese kept readable
    assert json.loads(text) == json.loads(json.dumps(plan_to_dict(plan, region)))


def test_unknown_format(plan, region, tmp_path):
    with pytest.raises(ValueError) as e:
        export_plan(plan, region, "pdf", tmp_path / "x.pdf")
    for f in FORMATS:
        assert f in str(e.value)
    assert FORMATS == ("json", "csv", "xlsx", "ics", "geojson")


def test_format_name_is_case_insensitive(plan, region, tmp_path):
    assert export_plan(plan, region, "JSON", tmp_path / "p.json") == [tmp_path / "p.json"]
