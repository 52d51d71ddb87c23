import csv
import dataclasses

from planner.export import export_plan


def read(path):
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_stops_csv(plan, region, tmp_path):
    out = tmp_path / "plan.csv"
    files = export_plan(plan, region, "csv", out)
    assert files == [out, tmp_path / "plan_unassigned.csv"]
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    rows = read(out)
    assert [(r["rep_id"], r["date"], r["seq"], r["customer_id"]) for r in rows] == [
        ("R1", "2026-11-30", "1", "C1"), ("R1", "2026-11-30", "2", "C2"), ("R2", "2026-12-01", "1", "C3")]
    first = rows[0]
    assert first["plan_id"] == "P-test"
    assert first["rep_name"] == "王伟"
    assert first["weekday"] == "Mon"
    assert first["customer_name"] == '上海<华东>&"超市"'
    assert first["grade"] == "A"
    assert (first["arrival"], first["start"], first["end"]) == ("09:05", "09:05", "10:05")
    assert float(first["lat"]) == 31.2304 and float(first["lon"]) == 121.4737
    assert rows[1]["wait_minutes"] == "10" and rows[2]["weekday"] == "Tue"
    for col in ("plan_id", "rep_id", "rep_name", "date", "weekday", "seq", "customer_id",
                "customer_name", "grade", "arrival", "start", "end", "lat", "lon"):
        assert col in first


def test_unassigned_csv(plan, region, tmp_path):
    export_plan(plan, region, "csv", tmp_path / "plan.csv")
    rows = read(tmp_path / "plan_unassigned.csv")
    assert len(rows) == 1
    assert rows[0]["customer_id"] == "C2" and rows[0]["customer_name"] == "杭州茶叶店"
    assert rows[0]["date"] == "2026-12-03" and rows[0]["code"] == "capacity_exceeded"


def test_no_unassigned_file_when_all_planned(plan, region, tmp_path):
    full = dataclasses.replace(plan, unassigned=())
    assert export_plan(full, region, "csv", tmp_path / "p.csv") == [tmp_path / "p.csv"]
    assert not (tmp_path / "p_unassigned.csv").exists()
