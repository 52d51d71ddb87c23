"""Choosing the travel provider from the settings (``PLANNER_TRAVEL``).

    haversine            great-circle km × PLANNER_CIRCUITY at PLANNER_SPEED_KMH (the default)
    osm:PATH             road network of an OpenStreetMap extract (.osm.pbf), cached under
                         PLANNER_TRAVEL_CACHE            (needs the `osm` extra: pyrosm, scipy)
    osrm:URL             an OSRM server's table service, e.g. osrm:http://127.0.0.1:5000
    valhalla:URL         a Valhalla server's matrix service, e.g. valhalla:http://127.0.0.1:8002
                         (both need httpx: the `router` extra)

The road providers are imported only when chosen, so the default needs none of their packages.
"""
from __future__ import annotations

from pathlib import Path

from planner.geo.errors import TravelConfigError
from planner.geo.travel import HaversineTravel, TravelMatrix
from planner.settings import Settings

__all__ = ["make_travel", "parse_travel", "TravelConfigError"]
USAGE = "expected haversine, osm:PATH, osrm:URL or valhalla:URL"


def parse_travel(value: str) -> tuple[str, str]:
    """``(kind, argument)`` of a ``PLANNER_TRAVEL`` value; raises :class:`TravelConfigError`."""
    text = (value or "").strip()
    if text.lower() == "haversine":
        return "haversine", ""
    kind, sep, arg = text.partition(":")
    kind = kind.strip().lower()
    arg = arg.strip()
    if not sep or kind not in ("osm", "osrm", "valhalla"):
        raise TravelConfigError(f"PLANNER_TRAVEL={value!r}: {USAGE}")
    if not arg:
        raise TravelConfigError(f"PLANNER_TRAVEL={value!r}: {kind}: needs a {'path' if kind == 'osm' else 'URL'}")
    if kind in ("osrm", "valhalla") and not arg.startswith(("http://", "https://")):
        raise TravelConfigError(f"PLANNER_TRAVEL={value!r}: the {kind} URL must start with http:// or https://")
    return kind, arg


def make_travel(settings: Settings) -> TravelMatrix:
    """The travel provider ``settings.travel`` selects (see the module doc)."""
    kind, arg = parse_travel(settings.travel)
    if kind == "haversine":
        return HaversineTravel(settings.circuity, settings.speed_kmh)
    try:
        if kind == "osm":
            from planner.geo.osm import OsmTravel
            path = Path(arg).expanduser()
            if not path.is_file():
                raise TravelConfigError(f"PLANNER_TRAVEL={settings.travel!r}: no such OSM extract: {path}")
            return OsmTravel(path, cache_dir=settings.travel_cache)
        from planner.geo.http_matrix import OsrmTravel, ValhallaTravel
        return OsrmTravel(arg) if kind == "osrm" else ValhallaTravel(arg)
    except ImportError as e:
        extra = "osm" if kind == "osm" else "router"
        raise TravelConfigError(f"PLANNER_TRAVEL={settings.travel!r} needs {e.name or 'a missing package'}: "
                                f"pip install 'field-visit-planner[{extra}]'") from e


def explain_travel_error(error: Exception, region=None) -> str:
    """The error's message, plus the ids of the customers and rep homes at the points a
    :class:`~planner.geo.errors.SnapError` names (the provider only knows coordinates)."""
    from planner.geo.errors import SnapError
    text = str(error)
    if not isinstance(error, SnapError) or region is None:
        return text
    names: dict[tuple[float, float], list[str]] = {}
    for c in region.customers:
        names.setdefault((c.location.lat, c.location.lon), []).append(f"customer {c.id}")
    for r in region.reps:
        for where, loc in (("home", r.start), ("end", r.end)):
            if loc is not None:
                names.setdefault((loc.lat, loc.lon), []).append(f"rep {r.id} {where}")
    who = sorted({n for _, lat, lon, _ in error.points for n in names.get((lat, lon), [])})
    return f"{text} Affected: {', '.join(who)}." if who else text
