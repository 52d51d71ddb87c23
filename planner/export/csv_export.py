"""The plan as CSV: one row per stop, and the unplanned visits in ``<stem>_unassigned.csv``.

Files are UTF-8 with a byte-order mark so that Excel shows Chinese names correctly.
"""
from __future__ import annotations

import csv
from pathlib import Path

from planner.domain import Plan, Region
from planner.export.common import PlanView, hhmm, weekday_name

STOP_COLUMNS = ("plan_id", "rep_id", "rep_name", "date", "weekday", "seq", "customer_id",
                "customer_name", "grade", "arrival", "start", "end", "lat", "lon",
                "visit_minutes", "wait_minutes", "address")
UNASSIGNED_COLUMNS = ("plan_id", "customer_id", "customer_name", "grade", "date", "code", "reason")


def stop_rows(plan: Plan, region: Region) -> list[dict]:
    """One dict per stop, keys :data:`STOP_COLUMNS`, in (date, rep, visit order)."""
    view = PlanView(plan, region)
    rows = []
    for r in view.routes:
        for i, s in enumerate(r.stops, 1):
            c = view.customers.get(s.customer_id)
            rows.append({
                "plan_id": plan.plan_id,
                "rep_id": r.rep_id,
                "rep_name": view.rep_name(r.rep_id),
                "date": r.date.isoformat(),
                "weekday": weekday_name(r.date),
                "seq": i,
                "customer_id": s.customer_id,
                "customer_name": c.name if c else "",
                "grade": c.grade if c else "",
                "arrival": hhmm(s.arrival),
                "start": hhmm(s.start),
                "end": hhmm(s.end),
                "lat": c.location.lat if c else "",
                "lon": c.location.lon if c else "",
                "visit_minutes": round((s.end - s.start).total_seconds() / 60),
                "wait_minutes": round((s.start - s.arrival).total_seconds() / 60),
                "address": (c.address or "") if c else "",
            })
    return rows


def unassigned_rows(plan: Plan, region: Region) -> list[dict]:
    """One dict per unplanned visit, keys :data:`UNASSIGNED_COLUMNS`."""
    view = PlanView(plan, region)
    rows = []
    for u in plan.unassigned:
        c = view.customers.get(u.customer_id)
        rows.append({
            "plan_id": plan.plan_id,
            "customer_id": u.customer_id,
            "customer_name": c.name if c else "",
            "grade": c.grade if c else "",
            "date": u.date.isoformat() if u.date is not None else "",
            "code": u.code,
            "reason": u.reason,
        })
    return rows


def unassigned_path(out: Path) -> Path:
    """``<stem>_unassigned.csv`` next to ``out``."""
    return out.with_name(f"{out.stem}_unassigned.csv")


def _write(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)


def write_csv(plan: Plan, region: Region, out: Path) -> list[Path]:
    """Write the stops to ``out`` and, if any visit is unplanned, ``<stem>_unassigned.csv``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write(out, STOP_COLUMNS, stop_rows(plan, region))
    written = [out]
    un = unassigned_rows(plan, region)
    if un:
        upath = unassigned_path(out)
        _write(upath, UNASSIGNED_COLUMNS, un)
        written.append(upath)
    return written
