"""Importing files into the database: all-or-nothing, upsert, skip_bad_rows."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from planner.db.models import CustomerRow, RepRow
from planner.db.repository import load_region
from planner.domain import Location, VisitPolicy
from planner.io.errors import TableError
from planner.io.service import ImportRejected, import_customers, import_reps
from tests.conftest import FakeGeocoder, write_csv, write_xlsx

HEADER = ["id", "name", "address", "lat", "lon", "grade", "frequency", "visit_minutes", "open", "rep_id", "active"]
GOOD = [
    ["C1", "北京加油站", "", "39.9", "116.4", "A", "", "", "", "", ""],
    ["C2", "Shop", "", "39.95", "116.3", "B", "1/2weeks", "40", "09:00-12:00", "R1", "false"],
]


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_import_then_reimport_upserts(session, tmp_path):
    s1 = import_customers(session, write_csv(tmp_path / "a.csv", [HEADER, *GOOD]), VisitPolicy())
    assert (s1.inserted, s1.updated, s1.skipped, s1.errors) == (2, 0, 0, [])
    changed = [["C2", "Shop renamed", "", "40.0", "116.3", "C", "", "", "", "", "true"],
               ["C3", "New", "", "41", "117", "D", "", "", "", "", ""]]
    s2 = import_customers(session, write_csv(tmp_path / "b.csv", [HEADER, *changed]), VisitPolicy())
    assert (s2.inserted, s2.updated, s2.skipped) == (1, 1, 0)
    assert count(session, CustomerRow) == 3
    region = load_region(session, VisitPolicy())
    assert [c.id for c in region.customers] == ["C1", "C2", "C3"]
    c2 = region.customer("C2")
    assert (c2.name, c2.grade, c2.active, c2.location, c2.frequency) == (
        "Shop renamed", "C", True, Location(40.0, 116.3), None)
    s3 = import_customers(session, write_csv(tmp_path / "b.csv", [HEADER, *changed]), VisitPolicy())
    assert (s3.inserted, s3.updated) == (0, 2) and count(session, CustomerRow) == 3


def test_rejection_writes_nothing_and_lists_every_error(session, tmp_path):
    import_customers(session, write_csv(tmp_path / "a.csv", [HEADER, *GOOD]), VisitPolicy())
    bad = [["C1", "changed", "", "39.9", "116.4", "A", "", "", "", "", ""],
           ["C9", "new", "", "abc", "116.4", "A", "", "", "", "", ""],
           ["C10", "new", "", "1", "2", "Q", "", "", "", "", "perhaps"]]
    with pytest.raises(ImportRejected) as exc:
        import_customers(session, write_csv(tmp_path / "bad.csv", [HEADER, *bad]), VisitPolicy())
    err = exc.value
    assert [(e.row, e.column) for e in err.errors] == [(3, "lat"), (4, "grade"), (4, "active")]
    msg = str(err)
    assert "bad.csv" in msg and "nothing was written" in msg
    assert "row 3, column 'lat': 'abc' is not a number" in msg and "row 4, column 'grade'" in msg
    assert "row 4, column 'active'" in msg
    session.rollback()
    assert count(session, CustomerRow) == 2
    assert session.get(CustomerRow, "C1").name == "北京加油站"


def test_skip_bad_rows_imports_the_good_ones(session, tmp_path):
    rows = [HEADER, GOOD[0], ["C9", "new", "", "abc", "116.4", "A", "", "", "", "", ""],
            GOOD[1], ["C1", "dup", "", "1", "1", "A", "", "", "", "", ""]]
    s = import_customers(session, write_csv(tmp_path / "a.csv", rows), VisitPolicy(), skip_bad_rows=True)
    assert (s.inserted, s.updated, s.skipped) == (1, 0, 3)
    assert [(e.row, e.column) for e in s.errors] == [(2, "id"), (3, "lat"), (5, "id")]
    assert [c.id for c in load_region(session).customers] == ["C2"]
    assert "1 inserted, 0 updated, 3 skipped" in str(s)


def test_skip_bad_rows_with_missing_header_column_writes_nothing(session, tmp_path):
    path = write_csv(tmp_path / "a.csv", [["id", "name", "lat", "lon"], ["C1", "x", "1", "2"]])
    s = import_customers(session, path, VisitPolicy(), skip_bad_rows=True)
    assert (s.inserted, s.updated, s.skipped) == (0, 0, 1) and s.errors[0].column == "grade"
    assert count(session, CustomerRow) == 0


def test_failure_while_writing_rolls_everything_back(session, tmp_path, monkeypatch):
    import planner.db.repository as repo

    real_insert_many = repo._insert_many

    def write_one_then_fail(session, stmt, rows):  # the first row went through, then the write fails
        real_insert_many(session, stmt, rows[:1])
        raise RuntimeError("disk full")

    import_customers(session, write_csv(tmp_path / "a.csv", [HEADER, GOOD[0]]), VisitPolicy())
    changed = [["C1", "renamed", *GOOD[0][2:]], GOOD[1]]
    monkeypatch.setattr(repo, "_insert_many", write_one_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        import_customers(session, write_csv(tmp_path / "b.csv", [HEADER, *changed]), VisitPolicy())
    monkeypatch.setattr(repo, "_insert_many", real_insert_many)
    assert count(session, CustomerRow) == 1  # C2 was inserted (C1 not yet renamed), then rolled back
    assert load_region(session).customer("C1").name == GOOD[0][1]


def test_import_xlsx_and_geocoding(session, tmp_path, geocode_cache):
    path = write_xlsx(tmp_path / "c.xlsx", [HEADER, ["C1", "上海", "外滩1号", "", "", "A", "", 55, "", "", "yes"]])
    fake = FakeGeocoder({"外滩1号": (31.24, 121.49)})
    s = import_customers(session, path, VisitPolicy(), geocoder=fake)
    assert s.inserted == 1
    c = load_region(session).customer("C1")
    assert c.location == Location(31.24, 121.49) and c.address == "外滩1号" and c.visit_minutes == 55


def test_unknown_file_type(session, tmp_path):
    (tmp_path / "c.ods").write_text("x")
    with pytest.raises(TableError, match="unsupported file type"):
        import_customers(session, tmp_path / "c.ods", VisitPolicy())


def test_import_reps_upsert_and_reject(session, tmp_path):
    header = ["id", "name", "start_lat", "start_lon", "work_start", "work_end", "cost_per_km"]
    s = import_reps(session, write_csv(tmp_path / "r.csv", [header, ["R1", "a", "31", "121", "", "", ""],
                                                            ["R2", "b", "31", "121", "09:00", "18:00", "0.5"]]))
    assert (s.inserted, s.updated, s.skipped) == (2, 0, 0)
    s = import_reps(session, write_xlsx(tmp_path / "r.xlsx", [header, ["R2", "b2", 32, 122, "", "", ""],
                                                              ["R3", "c", 31, 121, "", "", ""]]))
    assert (s.inserted, s.updated) == (1, 1)
    reps = load_region(session).reps
    assert [r.id for r in reps] == ["R1", "R2", "R3"]
    assert reps[1].name == "b2" and reps[1].work_start == 510 and reps[1].cost_per_km == 1.0
    with pytest.raises(ImportRejected, match="row 2, column 'work_end'"):
        import_reps(session, write_csv(tmp_path / "bad.csv", [header, ["R4", "d", "31", "121", "10:00", "09:00", ""]]))
    session.rollback()
    assert count(session, RepRow) == 3
    s = import_reps(session, write_csv(tmp_path / "bad.csv", [header, ["R4", "d", "31", "121", "10:00", "09:00", ""],
                                                              ["R5", "e", "31", "121", "", "", ""]]),
                    skip_bad_rows=True)
    assert (s.inserted, s.skipped) == (1, 1) and count(session, RepRow) == 4
