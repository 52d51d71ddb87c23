"""Property: any valid customer written to a CSV row parses back to the same customer."""
from __future__ import annotations

import csv

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.domain import Customer, Frequency, Location, VisitPolicy, format_windows, parse_windows
from planner.io.customers import parse_customers

HEADER = ["id", "name", "address", "lat", "lon", "grade", "frequency", "visit_minutes", "open", "rep_id", "active"]

text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=20).map(
    str.strip).filter(bool)
customer = st.builds(
    Customer,
    id=text, name=text,
    location=st.builds(Location, st.floats(-90, 90), st.floats(-180, 180)),
    grade=st.sampled_from(["A", "B", "C", "D"]),
    frequency=st.none() | st.sampled_from([Frequency(2), Frequency(1), Frequency(1, 2), Frequency(1, 4), Frequency(3)]),
    visit_minutes=st.none() | st.integers(1, 600),
    opening=st.sampled_from(["", "09:00-12:00", "08:00-12:00,13:30-18:00", "00:00-24:00"]).map(parse_windows),
    rep_id=st.none() | text, active=st.booleans(), address=st.none() | text,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(customer, max_size=6, unique_by=lambda c: c.id))
def test_written_customers_parse_back_equal(tmp_path, customers):
    path = tmp_path / "c.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for c in customers:
            w.writerow([c.id, c.name, c.address or "", repr(c.location.lat), repr(c.location.lon), c.grade,
                        str(c.frequency) if c.frequency else "", c.visit_minutes or "",
                        format_windows(c.opening), c.rep_id or "", "true" if c.active else "false"])
    result = parse_customers(path, VisitPolicy())
    assert result.errors == []
    assert result.items == customers
