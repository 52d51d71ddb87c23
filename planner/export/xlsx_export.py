"""The plan as an Excel workbook: Summary, Stops, Unassigned and Customers sheets."""
from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path
from typing import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from planner.domain import Plan, Region
from planner.evaluation.kpis import route_kpis
from planner.export.common import PlanView, hhmm, opening_text, weekday_name

SUMMARY_HEADER = ("rep_id", "rep_name", "date", "weekday", "visits", "distance_km", "drive_hours",
                  "work_hours", "visit_hours", "cost", "depart", "back", "lunch")
STOPS_HEADER = ("rep_id", "rep_name", "date", "weekday", "seq", "customer_id", "customer_name",
                "grade", "arrival", "start", "end", "visit_minutes", "wait_minutes", "opening",
                "address", "lat", "lon")
UNASSIGNED_HEADER = ("customer_id", "customer_name", "grade", "date", "code", "reason")
CUSTOMERS_HEADER = ("customer_id", "name", "grade", "frequency", "visit_minutes", "opening",
                    "active", "pinned_rep", "rep_id", "rep_name", "planned_visits", "visit_days",
                    "unplanned_visits", "address", "lat", "lon")

_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_DATE_FMT = "yyyy-mm-dd"


def _text_width(value: object) -> int:
    """Display width of a cell value (East Asian wide characters count double)."""
    if value is None:
        return 0
    if isinstance(value, dt.date):
        return 10
    if isinstance(value, float):
        value = f"{value:.2f}"
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


def _fill_sheet(ws: Worksheet, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Header in bold and frozen, rows below, dates formatted, columns sized to their content."""
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    widths = [_text_width(h) for h in header]
    row_no = 1
    for row in rows:
        ws.append(list(row))
        row_no += 1
        for i, v in enumerate(row):
            w = _text_width(v)
            if w > widths[i]:
                widths[i] = w
            if isinstance(v, dt.date):
                ws.cell(row=row_no, column=i + 1).number_format = _DATE_FMT
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = min(max(w + 2, 8), 60)
    ws.freeze_panes = "A2"
    if row_no > 1:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{row_no}"


def build_workbook(plan: Plan, region: Region) -> Workbook:
    """The workbook in memory (sheets Summary, Stops, Unassigned, Customers)."""
    view = PlanView(plan, region)
    wb = Workbook()

    # Summary: one row per rep and day, then a totals row.
    ws = wb.active
    ws.title = "Summary"
    summary = []
    tot = {"visits": 0, "km": 0.0, "drive": 0.0, "work": 0.0, "visit": 0.0, "cost": 0.0}
    for r in sorted(view.routes, key=lambda r: (r.rep_id, r.date)):
        k = route_kpis(r)
        summary.append((r.rep_id, view.rep_name(r.rep_id), r.date, weekday_name(r.date), k.visits,
                        k.distance_km, round(k.drive_hours, 2), round(k.work_hours, 2),
                        round(k.visit_hours, 2), k.cost, hhmm(r.depart), hhmm(r.back),
                        hhmm(r.lunch_start) if r.lunch_start is not None else ""))
        tot["visits"] += k.visits
        tot["km"] += k.distance_km
        tot["drive"] += k.drive_hours
        tot["work"] += k.work_hours
        tot["visit"] += k.visit_hours
        tot["cost"] += k.cost
    summary.append(("Total", f"{len({r.rep_id for r in view.routes})} reps",
                    None, f"{len(view.routes)} days", tot["visits"], round(tot["km"], 3),
                    round(tot["drive"], 2), round(tot["work"], 2), round(tot["visit"], 2),
                    round(tot["cost"], 2), None, None, None))
    _fill_sheet(ws, SUMMARY_HEADER, summary)
    for cell in ws[ws.max_row]:
        cell.font = _BOLD

    # Stops: one row per visit.
    stops = []
    for r in view.routes:
        for i, s in enumerate(r.stops, 1):
            c = view.customers.get(s.customer_id)
            stops.append((r.rep_id, view.rep_name(r.rep_id), r.date, weekday_name(r.date), i,
                          s.customer_id, c.name if c else "", c.grade if c else "",
                          hhmm(s.arrival), hhmm(s.start), hhmm(s.end),
                          round((s.end - s.start).total_seconds() / 60),
                          round((s.start - s.arrival).total_seconds() / 60),
                          opening_text(c), (c.address or "") if c else "",
                          c.location.lat if c else None, c.location.lon if c else None))
    _fill_sheet(wb.create_sheet("Stops"), STOPS_HEADER, stops)

    # Unassigned: every visit the plan could not make.
    un = []
    for u in plan.unassigned:
        c = view.customers.get(u.customer_id)
        un.append((u.customer_id, c.name if c else "", c.grade if c else "", u.date, u.code, u.reason))
    _fill_sheet(wb.create_sheet("Unassigned"), UNASSIGNED_HEADER, un)

    # Customers: each customer with its rep and visit days.
    unplanned_count: dict[str, int] = {}
    for u in plan.unassigned:
        unplanned_count[u.customer_id] = unplanned_count.get(u.customer_id, 0) + 1
    custs = []
    policy = region.policy
    for c in region.customers:
        try:
            freq = str(policy.frequency_of(c))
        except ValueError:
            freq = ""
        try:
            minutes: int | str = policy.visit_minutes_of(c)
        except ValueError:
            minutes = ""
        rid = view.rep_of(c.id)
        days = view.visit_days.get(c.id, [])
        custs.append((c.id, c.name, c.grade, freq, minutes, opening_text(c), c.active,
                      c.rep_id or "", rid or "", view.rep_name(rid),
                      len(days), ", ".join(f"{d.isoformat()} {weekday_name(d)}" for d, _ in days),
                      unplanned_count.get(c.id, 0), c.address or "", c.location.lat, c.location.lon))
    _fill_sheet(wb.create_sheet("Customers"), CUSTOMERS_HEADER, custs)

    wb.properties.title = f"Visit plan {plan.plan_id}"
    wb.properties.subject = (f"{plan.start.isoformat()} - {plan.end.isoformat()}, "
                             f"{plan.weeks} weeks")
    return wb


def write_xlsx(plan: Plan, region: Region, out: Path) -> list[Path]:
    """Write the workbook to ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    build_workbook(plan, region).save(out)
    return [out]


__all__ = ["build_workbook", "write_xlsx"]
