"""Reps from a CSV or XLSX file (columns of ``shared/spec/interfaces.md``).

Besides the interface columns, ``lunch_minutes``, ``lunch_earliest`` and ``lunch_latest`` set
the lunch break (defaults: :class:`~planner.domain.LunchBreak`; ``lunch_minutes`` 0: no break).
Every problem of every cell is reported as a :class:`RowError`.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from planner.domain import DomainError, Location, LunchBreak, Rep, parse_workdays
from planner.io.cells import RowReader, check_duplicate_ids, missing_columns
from planner.io.errors import ImportResult, RowError
from planner.io.tables import read_table

REQUIRED_COLUMNS = ("id", "name", "start_lat", "start_lon")
OPTIONAL_COLUMNS = ("end_lat", "end_lon", "work_start", "work_end", "workdays", "max_visits_per_day",
                    "cost_per_km", "cost_per_hour", "lunch_minutes", "lunch_earliest", "lunch_latest")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

_REP_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Rep) if f.default is not dataclasses.MISSING}
_LUNCH = LunchBreak()


def parse_reps(path: str | Path) -> ImportResult[Rep]:
    """Read and validate a reps file."""
    table = read_table(path)
    errors: list[RowError] = missing_columns(table.header, REQUIRED_COLUMNS)
    header_ok = not errors
    duplicated = check_duplicate_ids(table.rows, errors)
    items: list[Rep] = []
    for number, values in table.rows:
        r = RowReader(number, values, errors, table.header)
        rid = r.text("id", required=True)
        name = r.text("name", required=True)
        s_lat = r.number("start_lat", -90, 90, required=True)
        s_lon = r.number("start_lon", -180, 180, required=True)
        e_lat, e_lon = r.number("end_lat", -90, 90), r.number("end_lon", -180, 180)
        if r.raw("end_lat") and not r.raw("end_lon"):
            r.fail("end_lon", "a value is required when end_lat is given")
        elif r.raw("end_lon") and not r.raw("end_lat"):
            r.fail("end_lat", "a value is required when end_lon is given")
        work_start = r.time("work_start", _REP_DEFAULTS["work_start"])
        work_end = r.time("work_end", _REP_DEFAULTS["work_end"])
        if work_start is not None and work_end is not None and work_end <= work_start:
            r.fail("work_end", "must be after work_start"
                   + (f" ({r.raw('work_start')})" if r.raw("work_start") else " (08:30)"))
        workdays = r.parsed("workdays", parse_workdays, default=_REP_DEFAULTS["workdays"])
        if workdays is not None and not workdays:
            r.fail("workdays", "names no workday")
        max_visits = r.integer("max_visits_per_day", lo=1)
        cost_km = r.number("cost_per_km", lo=0)
        cost_h = r.number("cost_per_hour", lo=0)
        lunch_minutes = r.integer("lunch_minutes", lo=0, hi=24 * 60)
        lunch_earliest = r.time("lunch_earliest", _LUNCH.earliest)
        lunch_latest = r.time("lunch_latest", _LUNCH.latest)
        lunch = None
        if lunch_earliest is not None and lunch_latest is not None:
            minutes = _LUNCH.minutes if lunch_minutes is None else lunch_minutes
            if not r.raw("lunch_minutes") or lunch_minutes is not None:
                try:
                    lunch = LunchBreak(minutes, lunch_earliest, lunch_latest)
                except DomainError:
                    r.fail("lunch_minutes", f"minutes do not fit between lunch_earliest and lunch_latest "
                           f"({lunch_latest - lunch_earliest} min)", value=str(minutes))
        if r.bad or not header_ok or number in duplicated:
            continue
        try:
            items.append(Rep(
                id=rid, name=name, start=Location(s_lat, s_lon),
                end=Location(e_lat, e_lon) if e_lat is not None and e_lon is not None else None,
                work_start=work_start, work_end=work_end, workdays=workdays,
                max_visits_per_day=max_visits,
                cost_per_km=_REP_DEFAULTS["cost_per_km"] if cost_km is None else cost_km,
                cost_per_hour=_REP_DEFAULTS["cost_per_hour"] if cost_h is None else cost_h,
                lunch=lunch))
        except DomainError as e:  # pragma: no cover - every rule is checked cell by cell above
            r.fail("id", f"is not a valid rep: {e}")
    errors.sort(key=lambda e: (e.row, _col_order(e.column)))
    return ImportResult(items=items, errors=errors, rows=len(table.rows))


def _col_order(column: str) -> int:
    return COLUMNS.index(column) if column in COLUMNS else len(COLUMNS)
