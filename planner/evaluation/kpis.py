"""Figures of a plan: per route (rep and day), per rep, and totals."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from planner.domain import Plan, Route


@dataclass(frozen=True)
class RouteKpis:
    """Figures of one rep's day."""

    rep_id: str
    date: str
    visits: int
    distance_km: float
    drive_hours: float
    work_hours: float
    visit_hours: float
    cost: float


def route_kpis(route: Route) -> RouteKpis:
    """Figures of one route, read off its stops and totals."""
    visit_h = sum((s.end - s.start).total_seconds() for s in route.stops) / 3600
    return RouteKpis(
        rep_id=route.rep_id,
        date=route.date.isoformat(),
        visits=len(route.stops),
        distance_km=round(route.distance_km, 3),
        drive_hours=round(route.drive_minutes / 60, 3),
        work_hours=round(route.duration_minutes / 60 if route.stops else 0.0, 3),
        visit_hours=round(visit_h, 3),
        cost=round(route.cost, 2),
    )


def plan_kpis(plan: Plan, required_visits: int | None = None) -> dict:
    """Totals of a plan: visits, km, drive and work hours, cost, unplanned visits, compliance.

    ``compliance`` is planned visits / required visits (1.0 when nothing is unplanned).
    """
    rk = [route_kpis(r) for r in plan.routes if r.stops]
    visits = sum(k.visits for k in rk)
    required = required_visits if required_visits is not None else visits + len(
        [u for u in plan.unassigned if u.code != "inactive"])
    km = sum(k.distance_km for k in rk)
    return {
        "visits": visits,
        "required_visits": required,
        "unassigned": len(plan.unassigned),
        "distance_km": round(km, 2),
        "drive_hours": round(sum(k.drive_hours for k in rk), 2),
        "work_hours": round(sum(k.work_hours for k in rk), 2),
        "cost": round(sum(k.cost for k in rk), 2),
        "km_per_visit": round(km / visits, 3) if visits else 0.0,
        "routes": len(rk),
        "compliance": round(visits / required, 4) if required else 1.0,
    }


def rep_kpis(plan: Plan) -> dict[str, dict]:
    """Totals per rep: visits, km, drive/work hours, cost, days worked."""
    out: dict[str, dict] = defaultdict(lambda: {"visits": 0, "distance_km": 0.0, "drive_hours": 0.0,
                                                "work_hours": 0.0, "cost": 0.0, "days": 0})
    for r in plan.routes:
        if not r.stops:
            continue
        k = route_kpis(r)
        t = out[r.rep_id]
        t["visits"] += k.visits
        t["distance_km"] += k.distance_km
        t["drive_hours"] += k.drive_hours
        t["work_hours"] += k.work_hours
        t["cost"] += k.cost
        t["days"] += 1
    return {rid: {k: (round(v, 2) if isinstance(v, float) else v) for k, v in t.items()}
            for rid, t in sorted(out.items())}
