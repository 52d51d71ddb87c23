"""Reading CSV and XLSX tables into numbered rows."""
from __future__ import annotations

import datetime as dt

import pytest

from planner.io.errors import TableError
from planner.io.tables import read_rows, read_table
from tests.conftest import write_csv, write_xlsx


def test_csv_rows_are_numbered_as_in_a_spreadsheet(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id, Name ,open\nC1,甲,\"09:00-12:00,14:00-18:00\"\n\n,,\nC2, 乙 ,\n", encoding="utf-8")
    table = read_table(path)
    assert table.header == ("id", "name", "open")
    assert table.rows == [(2, {"id": "C1", "name": "甲", "open": "09:00-12:00,14:00-18:00"}),
                          (5, {"id": "C2", "name": "乙", "open": ""})]


def test_csv_with_bom_and_semicolons(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("id;name\r\nC1;Café\r\n".encode("utf-8-sig"))
    assert read_rows(path) == [(2, {"id": "C1", "name": "Café"})]


def test_short_rows_are_padded(tmp_path):
    path = write_csv(tmp_path / "t.csv", [["id", "name", "lat"], ["C1", "x"]])
    assert read_rows(path) == [(2, {"id": "C1", "name": "x", "lat": ""})]


def test_xlsx_first_sheet_and_cell_types(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [
        ["id", "lat", "active", "work_start", "when"],
        [1001, 52.52, True, dt.time(8, 30), dt.date(2026, 11, 30)],
        ["", "", "", "", ""],
        ["C2", 13.0, False, "09:00", ""],
    ])
    assert read_rows(path) == [
        (2, {"id": "1001", "lat": "52.52", "active": "true", "work_start": "08:30", "when": "2026-11-30"}),
        (4, {"id": "C2", "lat": "13", "active": "false", "work_start": "09:00", "when": ""}),
    ]


@pytest.mark.parametrize("name", ["customers.txt", "customers.xls", "customers"])
def test_unknown_extension_is_a_clear_error(tmp_path, name):
    path = tmp_path / name
    path.write_text("id\nC1\n")
    with pytest.raises(TableError, match="unsupported file type.*csv.*xlsx"):
        read_table(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("id,name\nC1,北京\n".encode("gbk"))
    with pytest.raises(TableError, match="not UTF-8"):
        read_table(path)


def test_empty_file_and_broken_xlsx(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(TableError, match="empty"):
        read_table(tmp_path / "e.csv")
    (tmp_path / "b.xlsx").write_bytes(b"not a zip")
    with pytest.raises(TableError, match="not a readable XLSX"):
        read_table(tmp_path / "b.xlsx")
    with pytest.raises(TableError, match="no such file"):
        read_table(tmp_path / "missing.csv")


def test_duplicate_header_column(tmp_path):
    path = write_csv(tmp_path / "t.csv", [["id", "name", "ID"], ["1", "2", "3"]])
    with pytest.raises(TableError, match="'id' appears twice"):
        read_table(path)
