"""Tiny hand-made regions and plans on the equator, where 0.01 degree of longitude is
6371.0088 km x 0.01 x pi / 180 = 1.111951 km of great circle, i.e. 1.445536 road km (x 1.3)
and 173.464 s at 30 km/h."""
from __future__ import annotations

import datetime as dt

from planner.domain import Customer, Location, Plan, Region, Rep, Route, Stop, Unassigned
from planner.evaluation.evaluator import evaluate
from planner.geo.travel import HaversineTravel

TRAVEL = HaversineTravel()
MON = dt.date(2026, 11, 30)
HOME = Location(0.0, 0.0)


def day(offset: int) -> dt.date:
    return MON + dt.timedelta(days=offset)


def at(d: dt.date, hhmm: str) -> dt.datetime:
    parts = [int(x) for x in hhmm.split(":")]
    return dt.datetime.combine(d, dt.time(*parts))


def cust(cid: str, lon_hundredths: int, grade: str = "B", **kw) -> Customer:
    return Customer(id=cid, name=cid, location=Location(0.0, lon_hundredths / 100), grade=grade, **kw)


def rep(rid: str = "R1", lunch: bool = False, **kw) -> Rep:
    if not lunch:
        kw["lunch"] = None
    return Rep(id=rid, name=rid, start=HOME, **kw)


def stop(cid: str, d: dt.date, start: str, end: str, arrival: str | None = None) -> Stop:
    return Stop(cid, at(d, arrival or start), at(d, start), at(d, end))


def route(region: Region, rid: str, d: dt.date, stops: list[Stop], depart: str = "08:30",
          back: str | None = None, lunch: str | None = None) -> Route:
    """A route whose km and cost are consistent with its stops (for tests of other rules)."""
    r = next(x for x in region.reps if x.id == rid)
    pts = [r.start] + [region.customer(s.customer_id).location for s in stops] + [r.end_location]
    m = TRAVEL.get_matrix(pts)
    km = float(sum(m.distance_km[i, i + 1] for i in range(len(pts) - 1)))
    b = at(d, back) if back else stops[-1].end + dt.timedelta(minutes=30)
    hours = (b - at(d, depart)).total_seconds() / 3600
    return Route(rid, d, tuple(stops), at(d, depart), b, at(d, lunch) if lunch else None,
                 distance_km=round(km, 3), cost=round(km * r.cost_per_km + hours * r.cost_per_hour, 2))


def plan(routes, weeks: int = 1, unassigned=()) -> Plan:
    return Plan("P", MON, weeks, tuple(routes), tuple(unassigned))


def rules(region: Region, p: Plan) -> set[str]:
    return {v.rule for v in evaluate(region, p, TRAVEL).violations}


def unassigned(cid: str, d: dt.date | None, code: str = "capacity_exceeded", reason: str = "day is full"):
    return Unassigned(cid, d, code, reason)
