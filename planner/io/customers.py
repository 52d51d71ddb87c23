"""Customers from a CSV or XLSX file (columns of ``shared/spec/interfaces.md``).

Every cell of every row is checked and every problem reported as a :class:`RowError`; the good
rows become :class:`~planner.domain.Customer` objects. Rows without coordinates but with an
address are geocoded (see :mod:`planner.geo.geocode`); a failed geocoding is an error of the
``address`` cell.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from planner.domain import Customer, DomainError, Frequency, Location, VisitPolicy, parse_windows
from planner.io.cells import RowReader, check_duplicate_ids, missing_columns
from planner.io.errors import HEADER_ROW, ImportResult, RowError
from planner.io.tables import read_table

REQUIRED_COLUMNS = ("id", "name", "grade")
OPTIONAL_COLUMNS = ("address", "lat", "lon", "frequency", "visit_minutes", "open", "rep_id", "active", "region",
                    "phone")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


def parse_customers(path: str | Path, policy: VisitPolicy, geocoder: Any = None, *,
                    geocode_cache: str | Path | None = None) -> ImportResult[Customer]:
    """Read and validate a customers file.

    ``geocoder``: a geopy-style geocoder (or a :class:`~planner.geo.geocode.CachingGeocoder`);
    None: the default service, built only if some row needs geocoding. ``geocode_cache``: the
    cache file (default ``Settings.geocode_cache``).
    """
    table = read_table(path)
    errors: list[RowError] = missing_columns(table.header, REQUIRED_COLUMNS)
    has_lat, has_lon = "lat" in table.header, "lon" in table.header
    if has_lat != has_lon:
        errors.append(RowError(HEADER_ROW, "lon" if has_lat else "lat", "",
                               "column is missing from the header (lat and lon go together)"))
    elif not has_lat and "address" not in table.header:
        errors.append(RowError(HEADER_ROW, "lat", "",
                               "column is missing from the header (needed, with lon, unless an address column is given)"))
    header_ok = not errors
    duplicated = check_duplicate_ids(table.rows, errors)
    grades = {g.casefold(): g for g in policy.grades}
    locator = None
    items: list[Customer] = []
    for number, values in table.rows:
        r = RowReader(number, values, errors, table.header)
        cid = r.text("id", required=True)
        name = r.text("name", required=True)
        grade_text = r.text("grade", required=True)
        grade = None
        if grade_text is not None:
            grade = grades.get(grade_text.casefold())
            if grade is None:
                r.fail("grade", f"is not a grade of the visit policy ({', '.join(policy.grades)})")
        frequency = r.parsed("frequency", Frequency.parse)
        visit_minutes = r.integer("visit_minutes", lo=1, hi=24 * 60 - 1)
        opening = r.parsed("open", parse_windows, default=())
        rep_id = r.text("rep_id")
        active = r.boolean("active", default=True)
        address = r.text("address")
        region = r.text("region")
        phone = r.text("phone")
        lat, lon = r.number("lat", -90, 90), r.number("lon", -180, 180)
        lat_given, lon_given = bool(r.raw("lat")), bool(r.raw("lon"))
        location = None
        if lat_given != lon_given:
            if has_lat and has_lon:  # else the header error says it
                r.fail("lon" if lat_given else "lat",
                       f"a value is required when {'lat' if lat_given else 'lon'} is given (lat and lon go together)")
        elif lat_given and lon_given:
            if lat is not None and lon is not None:
                location = Location(lat, lon)
        elif address:
            if locator is None:
                from planner.geo.geocode import as_caching
                locator = as_caching(geocoder, geocode_cache)
            from planner.geo.geocode import GeocodeError
            try:
                location = locator.locate(address)
            except GeocodeError as e:
                r.fail("address", f"could not be geocoded: {e}")
        elif has_lat or "address" in table.header:
            r.fail("lat", "a value is required: give lat and lon, or an address to geocode")
        if r.bad or not header_ok or number in duplicated:
            continue
        try:
            items.append(Customer(id=cid, name=name, location=location, grade=grade,
                                  frequency=frequency, visit_minutes=visit_minutes,
                                  opening=opening, rep_id=rep_id, active=active, address=address,
                                  region=region, phone=phone))
        except DomainError as e:  # pragma: no cover - every rule is checked cell by cell above
            r.fail("id", f"is not a valid customer: {e}")
    errors.sort(key=lambda e: (e.row, _col_order(e.column)))
    return ImportResult(items=items, errors=errors, rows=len(table.rows))


def _col_order(column: str) -> int:
    return COLUMNS.index(column) if column in COLUMNS else len(COLUMNS)
