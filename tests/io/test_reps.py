"""Parsing and validating rep files."""
from __future__ import annotations

from planner.domain import Location, LunchBreak
from planner.io.reps import parse_reps
from tests.conftest import write_csv, write_xlsx

HEADER = ["id", "name", "start_lat", "start_lon", "end_lat", "end_lon", "work_start", "work_end",
          "workdays", "max_visits_per_day", "cost_per_km", "cost_per_hour"]


def cells(result):
    return [(e.row, e.column) for e in result.errors]


def test_good_file_and_defaults(tmp_path):
    path = write_csv(tmp_path / "r.csv", [
        ["id", "name", "start_lat", "start_lon"],
        ["R1", "张伟", "31.2", "121.4"],
    ])
    result = parse_reps(path)
    assert result.ok
    (r,) = result.items
    assert r.id == "R1" and r.name == "张伟" and r.start == Location(31.2, 121.4) and r.end is None
    assert (r.work_start, r.work_end) == (510, 1050)
    assert r.workdays == frozenset(range(5)) and r.max_visits_per_day is None
    assert (r.cost_per_km, r.cost_per_hour) == (1.0, 30.0) and r.lunch == LunchBreak()


def test_all_columns(tmp_path):
    path = write_csv(tmp_path / "r.csv", [
        HEADER + ["lunch_minutes", "lunch_earliest", "lunch_latest"],
        ["R1", "a", "31.2", "121.4", "31.3", "121.5", "07:45", "16:00", "Mon-Wed,Sat", "8", "0.8", "25.5",
         "30", "12:00", "13:00"],
        ["R2", "b", "31.2", "121.4", "", "", "", "", "", "", "0", "0", "0", "", ""],
    ])
    result = parse_reps(path)
    assert result.ok, result.report()
    r1, r2 = result.items
    assert r1.end == Location(31.3, 121.5) and (r1.work_start, r1.work_end) == (465, 960)
    assert r1.workdays == frozenset({0, 1, 2, 5}) and r1.max_visits_per_day == 8
    assert (r1.cost_per_km, r1.cost_per_hour) == (0.8, 25.5) and r1.lunch == LunchBreak(30, 720, 780)
    assert (r2.cost_per_km, r2.cost_per_hour) == (0.0, 0.0) and r2.lunch.minutes == 0
    assert not r2.lunch_applies()


def test_every_bad_cell_is_named_by_row_and_column(tmp_path):
    ok = ["31.2", "121.4", "", "", "", "", "", "", "", ""]
    path = write_csv(tmp_path / "r.csv", [
        HEADER + ["lunch_minutes", "lunch_earliest"],
        ["R1", "fine", *ok, "", ""],                                                           # 2
        ["R2", "x", "x", "121.4", "", "", "", "", "", "", "", "", "", ""],                      # 3 start_lat
        ["R3", "x", "31.2", "", "", "", "", "", "", "", "", "", "", ""],                        # 4 start_lon
        ["R4", "x", "31.2", "121.4", "31.0", "", "", "", "", "", "", "", "", ""],               # 5 end_lon
        ["R5", "x", "31.2", "121.4", "", "", "8h", "", "", "", "", "", "", ""],                 # 6 work_start
        ["R6", "x", "31.2", "121.4", "", "", "10:00", "09:00", "", "", "", "", "", ""],         # 7 work_end
        ["R7", "x", "31.2", "121.4", "", "", "", "", "Funday", "", "", "", "", ""],             # 8 workdays
        ["R8", "x", "31.2", "121.4", "", "", "", "", "", "0", "", "", "", ""],                  # 9 max visits
        ["R9", "x", "31.2", "121.4", "", "", "", "", "", "2.5", "", "", "", ""],                # 10 max visits
        ["R10", "x", "31.2", "121.4", "", "", "", "", "", "", "-1", "", "", ""],                # 11 cost_per_km
        ["R11", "x", "31.2", "121.4", "", "", "", "", "", "", "", "abc", "", ""],               # 12 cost_per_hour
        ["R12", "x", "31.2", "121.4", "", "", "", "", "", "", "", "", "200", ""],               # 13 lunch
        ["R13", "x", "31.2", "121.4", "", "", "", "", "", "", "", "", "", "25:00"],             # 14 lunch_earliest
        ["R14", "", "95", "121.4", "", "-1", "", "24:30", "", "", "", "", "", ""],              # 15 several
    ])
    result = parse_reps(path)
    assert cells(result) == [
        (3, "start_lat"), (4, "start_lon"), (5, "end_lon"), (6, "work_start"), (7, "work_end"),
        (8, "workdays"), (9, "max_visits_per_day"), (10, "max_visits_per_day"), (11, "cost_per_km"),
        (12, "cost_per_hour"), (13, "lunch_minutes"), (14, "lunch_earliest"),
        (15, "name"), (15, "start_lat"), (15, "end_lat"), (15, "work_end"),
    ]
    assert [r.id for r in result.items] == ["R1"]
    text = {(e.row, e.column): str(e) for e in result.errors}
    assert text[(3, "start_lat")] == "row 3, column 'start_lat': 'x' is not a number"
    assert text[(4, "start_lon")] == "row 4, column 'start_lon': a value is required"
    assert text[(6, "work_start")] == "row 6, column 'work_start': '8h' is not a time of day HH:MM"
    assert text[(7, "work_end")] == "row 7, column 'work_end': '09:00' must be after work_start (10:00)"
    assert text[(9, "max_visits_per_day")] == "row 9, column 'max_visits_per_day': '0' must be a positive whole number"
    assert text[(11, "cost_per_km")] == "row 11, column 'cost_per_km': '-1' must not be below 0"


def test_missing_required_header_columns(tmp_path):
    path = write_csv(tmp_path / "r.csv", [["id", "name", "lat", "lon"], ["R1", "a", "1", "2"]])
    result = parse_reps(path)
    assert cells(result) == [(1, "start_lat"), (1, "start_lon")]
    assert result.items == []


def test_duplicate_ids(tmp_path):
    path = write_csv(tmp_path / "r.csv", [HEADER[:4], ["R1", "a", "1", "2"], ["R1", "b", "1", "2"]])
    result = parse_reps(path)
    assert cells(result) == [(2, "id"), (3, "id")] and result.items == []


def test_xlsx_with_times_and_numbers(tmp_path):
    import datetime as dt

    path = write_xlsx(tmp_path / "r.xlsx", [
        HEADER, ["R1", "a", 31.2, 121.4, None, None, dt.time(8, 0), "17:00", "Mon,Thu", 6, 1.5, 40]])
    result = parse_reps(path)
    assert result.ok, result.report()
    (r,) = result.items
    assert (r.work_start, r.work_end, r.workdays, r.max_visits_per_day) == (480, 1020, frozenset({0, 3}), 6)
