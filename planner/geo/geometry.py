"""Road geometry of a plan's legs, for the maps.

    from planner.geo.geometry import route_legs
    legs = route_legs(plan, region, travel)          # {(rep_id, date): [leg polyline, ...]}
    write_maps(region, plan, out_dir, legs=legs)     # roads instead of straight segments

A provider that can draw a leg has ``leg_geometry(a, b) -> [(lat, lon), ...]`` (``OsmTravel``:
the fastest path on its road graph; ``OsrmTravel``: the route service's GeoJSON; ``ValhallaTravel``:
the route's polyline6 shape). :func:`route_legs` asks it for every leg of every route (start ->
stops -> end location, the points the maps draw), once per distinct (from, to) pair, and returns
the polylines in the form the maps take (:data:`maps.common.Legs`). The great-circle model has
no geometry: the result is empty and the maps draw straight segments, as before.

A map must not break because a router is down: a leg whose geometry cannot be had (an error
of the provider, an unusable answer) is drawn straight and logged as a warning, and after
:data:`GIVE_UP_AFTER` failures in a row the provider is not asked again by the same call (the
remaining legs are straight too). ``RouteLegs.failed`` counts the straight legs, so that a
caller can avoid keeping such a map (the API does not cache it).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from collections.abc import Collection, Mapping, MutableMapping
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from planner.domain import Customer, Location, Plan, Region, Rep, Route
from planner.settings import Settings

__all__ = ["GIVE_UP_AFTER", "RouteLegs", "has_leg_geometry", "map_travel", "route_legs", "route_locations",
           "travel_tag"]

log = logging.getLogger(__name__)

Point = tuple[float, float]
#: Failures in a row after which :func:`route_legs` stops asking the provider (a router that
#: is down would otherwise be retried for every leg of every route).
GIVE_UP_AFTER = 3
#: For the API's maps, HTTP routers get at most this many retries and this timeout (seconds),
#: so that a day page does not hang on a router that is down.
MAP_RETRIES = 1
MAP_TIMEOUT_S = 10.0


class RouteLegs(dict):
    """``{(rep_id, date): [polyline of leg 1, polyline of leg 2, ...]}``, each polyline a list
    of (lat, lon) points from the leg's start to its end, as :mod:`maps` takes it.

    ``failed``: the number of legs given as straight segments because the provider failed.
    """

    def __init__(self) -> None:
        super().__init__()
        self.failed = 0


def has_leg_geometry(travel: Any) -> bool:
    """True if ``travel`` can give the road polyline of a leg (``leg_geometry(a, b)``)."""
    return callable(getattr(travel, "leg_geometry", None))


def route_locations(route: Route, region: Region) -> list[Location]:
    """The points a route drives through, as the maps draw it: the rep's start, the stops whose
    customers are in ``region`` (a deleted customer is left out), the rep's end location (start
    and end only if the rep is in ``region``)."""
    return _points(route, {r.id: r for r in region.reps}, {c.id: c for c in region.customers})


def _points(route: Route, reps: Mapping[str, Rep], customers: Mapping[str, Customer]) -> list[Location]:
    rep = reps.get(route.rep_id)
    points = [rep.start] if rep is not None else []
    points += [customers[s.customer_id].location for s in route.stops if s.customer_id in customers]
    if rep is not None:
        points.append(rep.end_location)
    return points


def _as_leg(raw: Any, a: Location, b: Location) -> list[Point]:
    """A provider's polyline as (lat, lon) floats that starts at ``a`` and ends at ``b`` (a
    router's line starts and ends where it snapped the points: the snap legs are added
    straight), without repeated consecutive points."""
    given = [(float(p[0]), float(p[1])) for p in raw]
    if not given:
        raise ValueError("an empty polyline")
    pts: list[Point] = []
    for p in [(a.lat, a.lon), *given, (b.lat, b.lon)]:
        if not pts or pts[-1] != p:
            pts.append(p)
    return pts


def route_legs(plan: Plan, region: Region, travel: Any, *,
               routes: Collection[tuple[str, dt.date]] | None = None,
               cache: MutableMapping[tuple[Location, Location], list[Point]] | None = None,
               give_up_after: int = GIVE_UP_AFTER) -> RouteLegs:
    """The road polyline of every leg of every route of ``plan`` with stops (see the module doc).

    ``routes``: only these ``(rep_id, date)`` (default: all). ``cache``: polylines by (from,
    to) pair, kept across calls if given (one per call otherwise). Empty if ``travel`` has no
    ``leg_geometry`` (the great-circle model). A leg the provider cannot draw is a straight
    segment ``[from, to]``, with a warning in the log, and counts in ``failed``.
    """
    out = RouteLegs()
    if not has_leg_geometry(travel):
        return out
    wanted = None if routes is None else set(routes)
    cache = {} if cache is None else cache
    reps = {r.id: r for r in region.reps}
    customers = {c.id: c for c in region.customers}
    failed_pairs: set[tuple[Location, Location]] = set()
    in_a_row = 0
    stopped = False
    for route in sorted(plan.routes, key=lambda r: (r.date, r.rep_id)):
        key = (route.rep_id, route.date)
        if not route.stops or (wanted is not None and key not in wanted):
            continue
        points = _points(route, reps, customers)
        if len(points) < 2:
            continue
        legs: list[list[Point]] = []
        for a, b in pairwise(points):
            straight = [(a.lat, a.lon), (b.lat, b.lon)]
            if a == b:
                legs.append(straight)
                continue
            got = cache.get((a, b))
            if got is None and not stopped and (a, b) not in failed_pairs:
                try:
                    got = _as_leg(travel.leg_geometry(a, b), a, b)
                except Exception as e:  # noqa: BLE001 - any provider failure: draw the leg straight
                    failed_pairs.add((a, b))
                    in_a_row += 1
                    log.warning("road geometry of the leg (%.6f, %.6f) -> (%.6f, %.6f) unavailable, drawn "
                                "straight: %s: %s", a.lat, a.lon, b.lat, b.lon, type(e).__name__, e)
                    if in_a_row >= give_up_after:
                        stopped = True
                        log.warning("road geometry: %d failures in a row, the remaining legs are drawn straight",
                                    in_a_row)
                else:
                    in_a_row = 0
                    cache[(a, b)] = got
            if got is None:
                out.failed += 1
                legs.append(straight)
            else:
                legs.append(got)
        out[key] = legs
    return out


def travel_tag(settings: Settings) -> str:
    """A short tag of the travel setting for keys of cached maps: ``""`` for the great-circle
    model (straight lines), else ``r`` and 8 hex digits of the setting's hash."""
    value = (settings.travel or "").strip()
    if value.lower() == "haversine":
        return ""
    return "r" + hashlib.sha256(value.encode()).hexdigest()[:8]


def _file_stamp(kind: str, arg: str) -> tuple[int, int] | None:
    if kind != "osm":
        return None
    try:
        st = Path(arg).expanduser().stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


@lru_cache(maxsize=4)
def _map_provider(travel: str, cache_dir: str, circuity: float, speed_kmh: float, stamp: Any) -> Any:
    from planner.geo.providers import make_travel
    settings = Settings.model_construct(travel=travel, travel_cache=Path(cache_dir), circuity=circuity,
                                        speed_kmh=speed_kmh)
    provider = make_travel(settings)
    if dataclasses.is_dataclass(provider) and hasattr(provider, "retries") and hasattr(provider, "timeout"):
        provider = dataclasses.replace(provider, retries=min(provider.retries, MAP_RETRIES),
                                       timeout=min(provider.timeout, MAP_TIMEOUT_S))
    return provider


def map_travel(settings: Settings) -> Any | None:
    """The provider ``settings.travel`` selects, for drawing maps in a long-running process:
    made once per setting (an OSM extract again when its file changes), HTTP routers with at
    most :data:`MAP_RETRIES` retries and a :data:`MAP_TIMEOUT_S` timeout. ``None``, with a
    warning in the log, if it cannot be made (the maps are then drawn straight)."""
    from planner.geo.providers import parse_travel
    try:
        kind, arg = parse_travel(settings.travel)
        return _map_provider(settings.travel, str(settings.travel_cache), float(settings.circuity),
                             float(settings.speed_kmh), _file_stamp(kind, arg))
    except Exception as e:  # noqa: BLE001 - a bad setting or a broken extract must not break a map
        log.warning("maps drawn with straight lines: %s", e)
        return None
