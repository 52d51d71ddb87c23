"""The hand-made cases in fixtures/tiny: files parse, and the README's hand-computed figures hold."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from planner.domain import (
    DomainError,
    Frequency,
    Location,
    VisitPolicy,
    parse_hhmm,
    parse_windows,
    parse_workdays,
)
from planner.geo.travel import HaversineTravel

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
HOME = Location(30.0, 120.0)


def rows(case: str, name: str) -> list[dict[str, str]]:
    with (TINY / case / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def problems(row: dict[str, str], policy: VisitPolicy = VisitPolicy()) -> set[str]:
    """Columns of one customer row that the domain helpers reject (a stand-in for the importer)."""
    bad = set()
    if not row["name"].strip():
        bad.add("name")
    try:
        Location(float(row["lat"]), float(row["lon"]))
    except (ValueError, DomainError):
        if not (row["lat"] == row["lon"] == "" and row["address"]):
            bad.add("lat")
    if row["grade"] not in policy.grades:
        bad.add("grade")
    if row["frequency"]:
        try:
            Frequency.parse(row["frequency"])
        except DomainError:
            bad.add("frequency")
    if row["visit_minutes"]:
        try:
            ok = int(row["visit_minutes"]) > 0
        except ValueError:
            ok = False
        if not ok:
            bad.add("visit_minutes")
    try:
        parse_windows(row["open"])
    except DomainError:
        bad.add("open")
    if row["active"].strip().lower() not in ("", "true", "false"):
        bad.add("active")
    return bad


def test_reps_are_valid():
    for case in ("one_rep_two_customers", "lunch_closure", "bad_rows"):
        (r,) = rows(case, "reps.csv")
        assert Location(float(r["start_lat"]), float(r["start_lon"])) == HOME
        assert parse_workdays(r["workdays"]) == frozenset(range(5))
        assert (parse_hhmm(r["work_start"]), parse_hhmm(r["work_end"])) == (510, 1050)


@pytest.mark.parametrize("case", ["one_rep_two_customers", "lunch_closure"])
def test_good_cases_parse(case):
    for row in rows(case, "customers.csv"):
        assert problems(row) == set(), row


def test_straight_line_distances():
    travel = HaversineTravel()
    pts = [HOME, Location(30.0, 120.01), Location(30.0, 120.02), Location(30.01, 120.0)]
    m = travel.get_matrix(pts)
    km, mins = m.distance_km, m.duration_s / 60
    assert km[0, 1] == pytest.approx(1.3 * 0.96298, abs=1e-3)
    assert km[0, 2] == pytest.approx(2.50374, abs=1e-3)
    assert km[0, 3] == pytest.approx(1.44554, abs=1e-3)
    assert km[1, 3] == pytest.approx(1.91222, abs=1e-3)
    assert mins[0, 1] == pytest.approx(2.5037, abs=1e-3)
    tour = km[0, 1] + km[1, 2] + km[2, 0]
    assert tour == pytest.approx(5.00748, abs=1e-3)
    assert km[0, 1] * 2 + km[0, 2] * 2 == pytest.approx(7.51123, abs=1e-3)
    drive = mins[0, 1] + mins[1, 2] + mins[2, 0]
    assert drive == pytest.approx(10.015, abs=1e-2)
    assert tour * 1 + (90 + drive) / 60 * 30 == pytest.approx(55.015, abs=1e-2)


def test_lunch_closure_windows():
    by_id = {r["id"]: r for r in rows("lunch_closure", "customers.csv")}
    def fits(cid):
        minutes = int(by_id[cid]["visit_minutes"])
        return [w for w in parse_windows(by_id[cid]["open"]) if w.end - w.start >= minutes]
    assert len(fits("L1")) == 2
    assert fits("L2") == []                                         # 2 × 180 min open, 200-min visit
    assert [str(w) for w in fits("L3")] == ["14:00-17:00"]


def test_bad_rows_match_expected_errors():
    data = rows("bad_rows", "customers.csv")
    expected = {(int(e["line"]), e["id"], e["column"]) for e in rows("bad_rows", "expected_errors.csv")}
    found, seen = set(), {}
    for line, row in enumerate(data, start=2):
        for col in problems(row):
            found.add((line, row["id"], col))
        if row["id"] in seen:
            found.add((line, row["id"], "id"))
        seen.setdefault(row["id"], line)
    assert found == expected
    assert len(data) - len({e[0] for e in expected}) == 3            # C1, C12, C15 are valid
