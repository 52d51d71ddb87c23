"""Geocoding of customer addresses through a geopy geocoder, with a persistent sqlite3 cache.

The cache keeps both hits and definite misses (the geocoder answered "nothing found"), keyed by
the normalized address, so re-importing a file never asks the service twice for the same
address. Errors of the service (timeouts, refusals) are not cached: they may pass.

Any object with a geopy-style ``geocode(query)`` returning ``None`` or an object with
``.latitude``/``.longitude`` can be the backend. By default it is the geopy service named by
``Settings.geocoder`` (Nominatim) with ``Settings.geocoder_user_agent``, rate limited to one
request a second; it is built on first use, never at import.
"""
from __future__ import annotations

import datetime as dt
import re
import sqlite3
import unicodedata
from pathlib import Path
from typing import Any, Protocol

from planner.domain import DomainError, Location
from planner.settings import Settings, get_settings


class GeocodeError(Exception):
    """An address could not be turned into coordinates (no result, or the service failed)."""


class GeopyStyleGeocoder(Protocol):
    """What a backend must offer (geopy geocoders do)."""

    def geocode(self, query: str) -> Any:  # pragma: no cover - protocol
        ...


def normalize_address(address: str) -> str:
    """Cache key of an address: NFKC, case-folded, whitespace collapsed, commas spaced."""
    text = unicodedata.normalize("NFKC", address).casefold()
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*([,，])\s*", ", ", text)
    return text.strip(" ,")


class GeocodeCache:
    """A small sqlite3 file mapping normalized addresses to coordinates or to "not found"."""

    _MISS = object()

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path)
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS geocode (key TEXT PRIMARY KEY, lat REAL, lon REAL,"
                " found INTEGER NOT NULL, query TEXT, updated_at TEXT NOT NULL)")
            self._conn.commit()
        return self._conn

    def lookup(self, key: str) -> tuple[bool, Location | None]:
        """``(cached, location)``: ``(True, None)`` is a cached miss, ``(False, None)`` unknown."""
        row = self._db().execute("SELECT found, lat, lon FROM geocode WHERE key = ?", (key,)).fetchone()
        if row is None:
            return False, None
        found, lat, lon = row
        return True, (Location(lat, lon) if found else None)

    def store(self, key: str, location: Location | None, query: str = "") -> None:
        """Remember a hit (``location``) or a definite miss (``None``)."""
        db = self._db()
        db.execute(
            "INSERT OR REPLACE INTO geocode (key, lat, lon, found, query, updated_at) VALUES (?,?,?,?,?,?)",
            (key, location.lat if location else None, location.lon if location else None,
             1 if location else 0, query, dt.datetime.now().isoformat(timespec="seconds")))
        db.commit()

    def forget(self, address: str) -> int:
        """Remove the cached answer for ``address`` (e.g. its customer asked to be erased)."""
        if not self.path.exists():
            return 0
        db = self._db()
        n = db.execute("DELETE FROM geocode WHERE key = ?", (normalize_address(address),)).rowcount
        db.commit()
        return n

    def __len__(self) -> int:
        return self._db().execute("SELECT COUNT(*) FROM geocode").fetchone()[0]

    def close(self) -> None:
        """Close the file (it is reopened on next use)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _CallableGeocoder:
    def __init__(self, fn):
        self._fn = fn

    def geocode(self, query: str) -> Any:
        return self._fn(query)


def default_backend(settings: Settings | None = None) -> GeopyStyleGeocoder:
    """The geopy geocoder named by the settings, rate limited to 1 request a second."""
    from geopy.extra.rate_limiter import RateLimiter
    from geopy.geocoders import get_geocoder_for_service

    settings = settings or get_settings()
    service = get_geocoder_for_service(settings.geocoder)
    geocoder = service(user_agent=settings.geocoder_user_agent)
    return _CallableGeocoder(RateLimiter(geocoder.geocode, min_delay_seconds=1.0, max_retries=2,
                                         swallow_exceptions=False))


class CachingGeocoder:
    """Geocodes addresses through ``backend`` (default: :func:`default_backend`), cached on disk.

    ``calls`` counts the requests actually sent to the backend.
    """

    def __init__(self, backend: GeopyStyleGeocoder | None = None, cache_path: str | Path | None = None,
                 settings: Settings | None = None):
        self._backend = backend
        self._settings = settings
        path = cache_path if cache_path is not None else (settings or get_settings()).geocode_cache
        self.cache = GeocodeCache(path)
        self.calls = 0

    @property
    def backend(self) -> GeopyStyleGeocoder:
        """The backend, built on first use."""
        if self._backend is None:
            self._backend = default_backend(self._settings)
        return self._backend

    def locate(self, address: str) -> Location:
        """Coordinates of ``address``; :class:`GeocodeError` if it has none or the service fails."""
        query = " ".join(address.split())
        if not query:
            raise GeocodeError("the address is empty")
        key = normalize_address(query)
        cached, location = self.cache.lookup(key)
        if cached:
            if location is None:
                raise GeocodeError("no place found for this address")
            return location
        self.calls += 1
        try:
            result = self.backend.geocode(query)
        except Exception as e:  # geopy.exc.GeopyError, network errors, a backend's own errors
            raise GeocodeError(f"geocoding failed ({type(e).__name__}: {e})") from e
        if result is None:
            self.cache.store(key, None, query)
            raise GeocodeError("no place found for this address")
        try:
            location = Location(float(result.latitude), float(result.longitude))
        except (AttributeError, TypeError, ValueError, DomainError) as e:
            raise GeocodeError(f"the geocoder gave unusable coordinates ({e})") from e
        self.cache.store(key, location, query)
        return location

    def close(self) -> None:
        """Close the cache file."""
        self.cache.close()


def as_caching(geocoder: Any = None, cache_path: str | Path | None = None) -> CachingGeocoder:
    """``geocoder`` if it already is a :class:`CachingGeocoder`, else one wrapping it."""
    if isinstance(geocoder, CachingGeocoder):
        return geocoder
    return CachingGeocoder(geocoder, cache_path=cache_path)
