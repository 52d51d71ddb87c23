import datetime as dt

from openpyxl import load_workbook

from planner.export import export_plan


def load(plan, region, tmp_path):
    out = tmp_path / "plan.xlsx"
    assert export_plan(plan, region, "xlsx", out) == [out]
    return load_workbook(out)


def rows_of(ws):
    header = [c.value for c in ws[1]]
    return [dict(zip(header, (c.value for c in row))) for row in ws.iter_rows(min_row=2)]


def test_sheets_and_header_style(plan, region, tmp_path):
    wb = load(plan, region, tmp_path)
    assert wb.sheetnames == ["Summary", "Stops", "Unassigned", "Customers"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert all(c.font.bold for c in ws[1])
        assert ws.column_dimensions["A"].width >= 8


def test_summary(plan, region, tmp_path):
    rows = rows_of(load(plan, region, tmp_path)["Summary"])
    assert len(rows) == 3  # two routes + totals
    r1 = rows[0]
    assert (r1["rep_id"], r1["rep_name"], r1["weekday"]) == ("R1", "王伟", "Mon")
    assert r1["date"] == dt.datetime(2026, 11, 30)
    assert (r1["visits"], r1["distance_km"], r1["drive_hours"], r1["work_hours"], r1["cost"]) == (
        2, 84.2, 1.75, 5.0, 120.5)
    assert r1["lunch"] == "12:00"
    total = rows[-1]
    assert total["rep_id"] == "Total"
    assert (total["visits"], total["distance_km"], total["work_hours"], total["cost"]) == (
        3, 114.2, 7.0, 180.5)
    assert total["drive_hours"] == 2.92


def test_stops_and_unassigned(plan, region, tmp_path):
    wb = load(plan, region, tmp_path)
    stops = rows_of(wb["Stops"])
    assert [(s["customer_id"], s["seq"], s["start"]) for s in stops] == [
        ("C1", 1, "09:05"), ("C2", 2, "11:00"), ("C3", 1, "10:00")]
    assert stops[0]["customer_name"] == '上海<华东>&"超市"'
    assert stops[0]["opening"] == "09:00-12:00,14:00-18:00"
    un = rows_of(wb["Unassigned"])
    assert len(un) == 1 and un[0]["customer_id"] == "C2" and un[0]["code"] == "capacity_exceeded"


def test_customers_sheet(plan, region, tmp_path):
    custs = {r["customer_id"]: r for r in rows_of(load(plan, region, tmp_path)["Customers"])}
    assert set(custs) == {"C1", "C2", "C3"}
    c1 = custs["C1"]
    assert (c1["rep_id"], c1["rep_name"], c1["frequency"], c1["visit_minutes"]) == ("R1", "王伟", "2/week", 60)
    assert c1["planned_visits"] == 1 and c1["visit_days"] == "2026-11-30 Mon"
    assert custs["C2"]["unplanned_visits"] == 1 and custs["C2"]["visit_minutes"] == 45
    assert custs["C3"]["rep_id"] == "R2" and custs["C3"]["frequency"] == "1/2weeks"
