"""The plan as GeoJSON: a Point per stop, a LineString per route, a Point per rep's home.

Coordinates are ``[lon, lat]`` as GeoJSON requires. Every feature has a ``kind`` property
(``stop``, ``route``, ``home``).
"""
from __future__ import annotations

import json
from pathlib import Path

from planner.domain import Location, Plan, Region
from planner.export.common import PlanView, iso_datetime


def _xy(loc: Location) -> list[float]:
    return [loc.lon, loc.lat]


def plan_to_geojson(plan: Plan, region: Region) -> dict:
    """The plan as a GeoJSON FeatureCollection (a dict)."""
    view = PlanView(plan, region)
    features: list[dict] = []
    for rep in region.reps:
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": _xy(rep.start)},
            "properties": {"kind": "home", "rep_id": rep.id, "name": rep.name},
        })
    for r in view.routes:
        rep = view.reps.get(r.rep_id)
        line: list[list[float]] = []
        if rep is not None:
            line.append(_xy(rep.start))
        for i, s in enumerate(r.stops, 1):
            c = view.customers.get(s.customer_id)
            if c is None:
                continue
            line.append(_xy(c.location))
            features.append({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": _xy(c.location)},
                "properties": {
                    "kind": "stop", "rep_id": r.rep_id, "date": r.date.isoformat(), "seq": i,
                    "customer_id": s.customer_id, "name": c.name, "grade": c.grade,
                    "arrival": iso_datetime(s.arrival), "start": iso_datetime(s.start),
                    "end": iso_datetime(s.end),
                },
            })
        if rep is not None:
            line.append(_xy(rep.end_location))
        if len(line) >= 2:
            features.append({
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {
                    "kind": "route", "rep_id": r.rep_id, "date": r.date.isoformat(),
                    "visits": len(r.stops), "distance_km": round(r.distance_km, 3),
                },
            })
    return {"type": "FeatureCollection",
            "properties": {"plan_id": plan.plan_id, "start": plan.start.isoformat(),
                           "end": plan.end.isoformat()},
            "features": features}


def write_geojson(plan: Plan, region: Region, out: Path) -> list[Path]:
    """Write the FeatureCollection to ``out`` (UTF-8)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(plan_to_geojson(plan, region), ensure_ascii=False), encoding="utf-8")
    return [out]
