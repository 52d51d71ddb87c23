"""The plan as JSON, in the shape of ``interfaces.md`` (plus a few extra fields)."""
from __future__ import annotations

import json
from pathlib import Path

from planner.domain import Plan, Region
from planner.evaluation.kpis import plan_kpis
from planner.export.common import PlanView, iso_datetime


def plan_to_dict(plan: Plan, region: Region) -> dict:
    """The plan as a JSON-ready dict.

    Keys of ``interfaces.md``: ``plan_id``, ``start``, ``end`` (last day, inclusive), ``routes``
    (``rep_id``, ``date``, ``stops`` [``customer_id``, ``arrival``, ``start``, ``end``],
    ``distance_km``, ``duration_minutes``, ``cost``), ``unassigned`` (``customer_id``, ``date``,
    ``reason``) and ``kpis``. Extras: stop ``seq``/``name``; route ``rep_name``, ``depart``,
    ``back``, ``lunch_start``, ``drive_minutes``, ``visits``; unassigned ``code``; top-level
    ``weeks``, ``assignment`` and ``patterns``. Only routes with stops, sorted by (date, rep_id).
    """
    view = PlanView(plan, region)
    routes = []
    for r in view.routes:
        routes.append({
            "rep_id": r.rep_id,
            "rep_name": view.rep_name(r.rep_id),
            "date": r.date.isoformat(),
            "depart": iso_datetime(r.depart),
            "back": iso_datetime(r.back),
            "lunch_start": iso_datetime(r.lunch_start) if r.lunch_start is not None else None,
            "stops": [
                {
                    "seq": i,
                    "customer_id": s.customer_id,
                    "name": view.customer_name(s.customer_id),
                    "arrival": iso_datetime(s.arrival),
                    "start": iso_datetime(s.start),
                    "end": iso_datetime(s.end),
                }
                for i, s in enumerate(r.stops, 1)
            ],
            "visits": len(r.stops),
            "distance_km": round(r.distance_km, 3),
            "drive_minutes": round(r.drive_minutes, 1),
            "duration_minutes": round(r.duration_minutes, 1),
            "cost": round(r.cost, 2),
        })
    unassigned = [
        {
            "customer_id": u.customer_id,
            "name": view.customer_name(u.customer_id),
            "date": u.date.isoformat() if u.date is not None else None,
            "code": u.code,
            "reason": u.reason,
        }
        for u in plan.unassigned
    ]
    return {
        "plan_id": plan.plan_id,
        "start": plan.start.isoformat(),
        "end": plan.end.isoformat(),
        "weeks": plan.weeks,
        "created_at": plan.created_at.isoformat() if plan.created_at is not None else None,
        "routes": routes,
        "unassigned": unassigned,
        "kpis": plan_kpis(plan),
        "assignment": {cid: plan.assignment[cid] for cid in sorted(plan.assignment)},
        "patterns": {cid: list(plan.patterns[cid]) for cid in sorted(plan.patterns)},
    }


def write_json(plan: Plan, region: Region, out: Path) -> list[Path]:
    """Write the plan as UTF-8 JSON (Chinese kept readable) to ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(plan_to_dict(plan, region), ensure_ascii=False, indent=2) + "\n",
                   encoding="utf-8")
    return [out]
