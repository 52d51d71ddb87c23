"""Plan exports: JSON (the interface format), CSV, Excel, iCalendar and GeoJSON.

``export_plan(plan, region, fmt, out)`` writes one format and returns the files written.
For ``ics``, ``out`` is a directory receiving one ``<rep_id>.ics`` per rep; for the others it is
the file to write (CSV also writes ``<stem>_unassigned.csv`` next to it when visits are unplanned).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from planner.domain import Plan, Region
from planner.export.csv_export import write_csv
from planner.export.geojson_export import plan_to_geojson, write_geojson
from planner.export.ics_export import rep_calendar, write_ics
from planner.export.json_export import plan_to_dict, write_json
from planner.export.xlsx_export import build_workbook, write_xlsx

FORMATS: tuple[str, ...] = ("json", "csv", "xlsx", "ics", "geojson")

_WRITERS: dict[str, Callable[[Plan, Region, Path], list[Path]]] = {
    "json": write_json,
    "csv": write_csv,
    "xlsx": write_xlsx,
    "ics": write_ics,
    "geojson": write_geojson,
}


def export_plan(plan: Plan, region: Region, fmt: str, out: Path) -> list[Path]:
    """Write ``plan`` in format ``fmt`` (one of :data:`FORMATS`) to ``out``; return the files written."""
    key = (fmt or "").strip().lower()
    writer = _WRITERS.get(key)
    if writer is None:
        raise ValueError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return writer(plan, region, Path(out))


__all__ = ["FORMATS", "export_plan", "plan_to_dict", "plan_to_geojson", "build_workbook",
           "rep_calendar", "write_json", "write_csv", "write_xlsx", "write_ics", "write_geojson"]
