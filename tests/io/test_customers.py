"""Parsing and validating customer files."""
from __future__ import annotations

from planner.domain import Frequency, Location, TimeWindow, VisitPolicy
from planner.io.customers import parse_customers
from tests.conftest import FakeGeocoder, write_csv, write_xlsx

HEADER = ["id", "name", "address", "lat", "lon", "grade", "frequency", "visit_minutes", "open", "rep_id", "active"]


def cells(result):
    return [(e.row, e.column) for e in result.errors]


def test_good_file(tmp_path):
    path = write_csv(tmp_path / "c.csv", [
        HEADER,
        ["C1", "北京加油站", "北京市朝阳区", "39.9", "116.4", "A", "", "", "", "", ""],
        ["C2", "Shop B", "", "39.95", "116.3", "b", "1/2weeks", "40", "09:00-12:00,14:00-18:00", "R1", "false"],
        ["C3", "Shop C", "", "-33.5", "-70.25", "D", "2/week", "", "", "", "YES"],
    ])
    result = parse_customers(path, VisitPolicy())
    assert result.ok and result.rows == 3
    c1, c2, c3 = result.items
    assert c1.id == "C1" and c1.name == "北京加油站" and c1.address == "北京市朝阳区"
    assert c1.location == Location(39.9, 116.4) and c1.grade == "A" and c1.active
    assert c1.frequency is None and c1.visit_minutes is None and c1.opening == () and c1.rep_id is None
    assert c2.grade == "B" and c2.frequency == Frequency(1, 2) and c2.visit_minutes == 40
    assert c2.opening == (TimeWindow(540, 720), TimeWindow(840, 1080)) and c2.rep_id == "R1"
    assert c2.active is False
    assert c3.frequency == Frequency(2, 1) and c3.active is True


def test_every_bad_cell_is_named_by_row_and_column(tmp_path):
    path = write_csv(tmp_path / "c.csv", [
        HEADER,
        ["C1", "ok", "", "39.9", "116.4", "A", "", "", "", "", ""],                 # 2 fine
        ["C2", "x", "", "abc", "116.4", "A", "", "", "", "", ""],                   # 3 lat not a number
        ["C3", "x", "", "39.9", "200", "A", "", "", "", "", ""],                    # 4 lon out of range
        ["C4", "x", "", "39.9", "116.4", "Z", "", "", "", "", ""],                  # 5 grade
        ["C5", "x", "", "39.9", "116.4", "", "", "", "", "", ""],                   # 6 grade required
        ["C6", "x", "", "39.9", "116.4", "A", "3/month", "", "", "", ""],           # 7 frequency
        ["C7", "x", "", "39.9", "116.4", "A", "", "0", "", "", ""],                 # 8 visit_minutes
        ["C8", "x", "", "39.9", "116.4", "A", "", "4x", "", "", ""],                # 9 visit_minutes
        ["C9", "x", "", "39.9", "116.4", "A", "", "", "09:00-25:00", "", ""],       # 10 open
        ["C10", "x", "", "39.9", "116.4", "A", "", "", "09-12", "", ""],            # 11 open
        ["C11", "x", "", "39.9", "116.4", "A", "", "", "09:00-12:00,11:00-13:00", "", ""],  # 12 overlap
        ["C12", "x", "", "39.9", "116.4", "A", "", "", "", "", "maybe"],            # 13 active
        ["C13", "", "", "39.9", "116.4", "A", "", "", "", "", ""],                  # 14 name
        ["", "x", "", "39.9", "116.4", "A", "", "", "", "", ""],                    # 15 id
        ["C15", "x", "", "39.9", "", "A", "", "", "", "", ""],                      # 16 lon missing
        ["C16", "x", "", "", "", "A", "", "", "", "", ""],                          # 17 no place
        ["C17", "x", "", "nan", "116.4", "A", "8/week", "", "", "", ""],            # 18 two bad cells
    ])
    result = parse_customers(path, VisitPolicy())
    assert cells(result) == [
        (3, "lat"), (4, "lon"), (5, "grade"), (6, "grade"), (7, "frequency"), (8, "visit_minutes"),
        (9, "visit_minutes"), (10, "open"), (11, "open"), (12, "open"), (13, "active"), (14, "name"),
        (15, "id"), (16, "lon"), (17, "lat"), (18, "lat"), (18, "frequency"),
    ]
    assert [c.id for c in result.items] == ["C1"]
    assert result.bad_rows == set(range(3, 19))
    text = [str(e) for e in result.errors]
    assert text[0] == "row 3, column 'lat': 'abc' is not a number"
    assert text[1] == "row 4, column 'lon': '200' is out of range (-180 to 180)"
    assert text[2].startswith("row 5, column 'grade': 'Z' is not a grade of the visit policy (A, B, C, D)")
    assert text[3] == "row 6, column 'grade': a value is required"
    assert "row 7, column 'frequency': '3/month'" in text[4]
    assert text[5] == "row 8, column 'visit_minutes': '0' must be a positive whole number"
    assert text[10] == "row 13, column 'active': 'maybe' is not true or false (also 1/0, yes/no)"
    assert "lat and lon" in text[14]


def test_missing_header_column_is_one_error(tmp_path):
    path = write_csv(tmp_path / "c.csv", [
        ["id", "name", "lat", "lon"],
        ["C1", "x", "39.9", "116.4"],
        ["C2", "y", "39.9", "116.4"],
    ])
    result = parse_customers(path, VisitPolicy())
    assert cells(result) == [(1, "grade")]
    assert str(result.errors[0]) == "row 1, column 'grade': column is missing from the header"
    assert result.items == [] and result.header_errors == result.errors


def test_neither_coordinates_nor_address_columns(tmp_path):
    path = write_csv(tmp_path / "c.csv", [["id", "name", "grade"], ["C1", "x", "A"]])
    assert cells(parse_customers(path, VisitPolicy())) == [(1, "lat")]
    path = write_csv(tmp_path / "d.csv", [["id", "name", "grade", "lat"], ["C1", "x", "A", "1"]])
    assert cells(parse_customers(path, VisitPolicy())) == [(1, "lon")]


def test_duplicate_ids_name_both_rows(tmp_path):
    path = write_csv(tmp_path / "c.csv", [
        HEADER,
        ["C1", "a", "", "39.9", "116.4", "A", "", "", "", "", ""],
        ["C2", "b", "", "39.9", "116.4", "A", "", "", "", "", ""],
        ["C1", "c", "", "39.9", "116.4", "A", "", "", "", "", ""],
    ])
    result = parse_customers(path, VisitPolicy())
    assert cells(result) == [(2, "id"), (4, "id")]
    assert all("rows 2 and 4" in str(e) for e in result.errors)
    assert [c.id for c in result.items] == ["C2"]


def test_xlsx_and_bom_give_the_same_customers(tmp_path):
    rows = [HEADER,
            ["C1", "上海超市", "", 31.23, 121.47, "A", "", 50, "09:00-12:00", "R1", "true"],
            ["1002", "Shop", "", 31.3, 121.5, "C", "1/4weeks", "", "", "", 0]]
    from_xlsx = parse_customers(write_xlsx(tmp_path / "c.xlsx", rows), VisitPolicy())
    from_bom = parse_customers(write_csv(tmp_path / "c.csv", rows, bom=True), VisitPolicy())
    assert from_xlsx.ok and from_bom.ok
    assert from_xlsx.items == from_bom.items
    assert [c.id for c in from_xlsx.items] == ["C1", "1002"]
    assert from_xlsx.items[0].visit_minutes == 50 and from_xlsx.items[1].active is False


def test_xlsx_bad_cell_row_numbers(tmp_path):
    rows = [HEADER, ["C1", "a", "", 31.2, 121.4, "A", "", "", "", "", ""], ["", "", "", "", "", "", "", "", "", "", ""],
            ["C3", "c", "", "north", 121.4, "A", "", "", "", "", ""]]
    result = parse_customers(write_xlsx(tmp_path / "c.xlsx", rows), VisitPolicy())
    assert cells(result) == [(4, "lat")]


def test_custom_policy_grades(tmp_path):
    from planner.domain import GradeRule

    policy = VisitPolicy({"KEY": GradeRule(Frequency(1, 1), 30)})
    path = write_csv(tmp_path / "c.csv", [HEADER, ["C1", "a", "", "1", "2", "key", "", "", "", "", ""],
                                          ["C2", "a", "", "1", "2", "A", "", "", "", "", ""]])
    result = parse_customers(path, policy)
    assert [c.grade for c in result.items] == ["KEY"] and cells(result) == [(3, "grade")]


def test_rows_without_coordinates_are_geocoded(tmp_path, geocode_cache):
    fake = FakeGeocoder({"北京市朝阳区建国路1号": (39.91, 116.46)})
    path = write_csv(tmp_path / "c.csv", [
        HEADER,
        ["C1", "a", "北京市朝阳区建国路1号", "", "", "A", "", "", "", "", ""],
        ["C2", "b", "Nowhere street 0", "", "", "A", "", "", "", "", ""],
        ["C3", "c", "explode", "", "", "A", "", "", "", "", ""],
        ["C4", "d", "ignored when coordinates are given", "1.5", "2.5", "A", "", "", "", "", ""],
    ])
    result = parse_customers(path, VisitPolicy(), geocoder=fake)
    assert [c.id for c in result.items] == ["C1", "C4"]
    assert result.items[0].location == Location(39.91, 116.46)
    assert result.items[0].address == "北京市朝阳区建国路1号"
    assert cells(result) == [(3, "address"), (4, "address")]
    assert "no place found" in str(result.errors[0])
    assert "GeocoderUnavailable" in str(result.errors[1])
    assert fake.calls == ["北京市朝阳区建国路1号", "Nowhere street 0", "explode"]
    assert geocode_cache.exists()


def test_no_geocoder_is_built_when_coordinates_are_given(tmp_path, monkeypatch, geocode_cache):
    import planner.geo.geocode as geocode

    def refuse(*a, **k):
        raise AssertionError("the default geocoder must not be built")

    monkeypatch.setattr(geocode, "default_backend", refuse)
    path = write_csv(tmp_path / "c.csv", [HEADER, ["C1", "a", "somewhere", "1", "2", "A", "", "", "", "", ""]])
    assert parse_customers(path, VisitPolicy()).ok
    assert not geocode_cache.exists()
