"""Travel matrices from a routing server the user runs: OSRM (table service) or Valhalla (matrix).

    from planner.geo.http_matrix import OsrmTravel, ValhallaTravel
    OsrmTravel("http://127.0.0.1:5000").get_matrix(locations)
    ValhallaTravel("http://127.0.0.1:8002", costing="auto").get_matrix(locations)

Big matrices are asked for in blocks so that no request exceeds the server's limits:

* OSRM ``GET /table/v1/{profile}/{lon,lat;...}?annotations=duration,distance&sources=..&destinations=..``
  counts the *coordinates* of a request against ``osrm-routed --max-table-size`` (100 by
  default): up to ``max_locations`` locations go in one request; more are cut into chunks of
  ``max_locations // 2`` and each (source chunk, destination chunk) pair is one request with
  both chunks' coordinates. Durations come in seconds, distances in metres (the distance
  table needs a CH dataset: ``osrm-contract``, not MLD).
* Valhalla ``POST /sources_to_targets`` takes separate ``sources`` and ``targets`` lists and
  limits their product (``max_matrix_location_pairs``, 2,500 by default for ``auto``): blocks
  of at most ``batch`` sources × ``batch`` targets (50 × 50). Distances come in km.

A request that times out, cannot connect, or gets a 5xx or 429 answer is tried again
(``retries`` times, with a growing pause); then :class:`RoutingServerError` says which server
and what went wrong. A 4xx answer fails at once with the server's own message. Pairs the
server finds no route for (``null``) raise :class:`UnreachablePairs` naming them; locations the
server snapped farther than ``snap_limit_km`` away raise :class:`~planner.geo.osm.SnapError`.

``leg_geometry(a, b)`` gives the road polyline of one leg as (lat, lon) points, for maps: OSRM's
route service (``overview=full&geometries=geojson``), Valhalla's ``/route`` (polyline6 shapes).
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import httpx
import numpy as np

from planner.domain import Location
from planner.geo.errors import RoutingServerError, SnapError, UnreachablePairs
from planner.geo.travel import Matrices

__all__ = ["OsrmTravel", "ValhallaTravel", "RoutingServerError", "UnreachablePairs", "SnapError",
           "decode_polyline"]

DEFAULT_TIMEOUT_S = 60.0


def _chunks(n: int, size: int) -> list[np.ndarray]:
    return [np.arange(i, min(n, i + size)) for i in range(0, n, size)]


@dataclass
class _HttpBase:
    """Shared retrying GET/POST with an optional injected ``httpx.Client``."""

    base_url: str
    timeout: float = DEFAULT_TIMEOUT_S
    retries: int = 3
    backoff_s: float = 0.5
    snap_limit_km: float = 1.0
    client: Any = None
    requests_made: int = field(default=0, init=False)
    _active: Any = field(default=None, init=False, repr=False, compare=False)

    name = "routing server"

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"{self.name} URL must start with http:// or https://: {self.base_url!r}")
        if self.retries < 0 or self.timeout <= 0 or self.snap_limit_km <= 0:
            raise ValueError("retries must be >= 0, timeout and snap_limit_km positive")

    @contextmanager
    def _session(self) -> Iterator[None]:
        """One connection pool for all the requests of a matrix (unless a client was given)."""
        if self.client is not None or self._active is not None:
            yield
            return
        with httpx.Client(timeout=self.timeout) as c:
            self._active = c
            try:
                yield
            finally:
                self._active = None

    def _send(self, method: str, url: str, **kw) -> dict:
        own = self.client is None and self._active is None
        client = self.client or self._active or httpx.Client(timeout=self.timeout)
        last = ""
        try:
            for attempt in range(self.retries + 1):
                if attempt:
                    time.sleep(self.backoff_s * 2 ** (attempt - 1))
                self.requests_made += 1
                try:
                    r = client.request(method, url, timeout=self.timeout, **kw)
                except (httpx.TimeoutException, httpx.TransportError) as e:
                    last = f"{type(e).__name__}: {e}"
                    continue
                if r.status_code >= 500 or r.status_code == 429:
                    last = f"HTTP {r.status_code}: {r.text[:300]}"
                    continue
                try:
                    body = r.json()
                except ValueError:
                    body = None
                if r.status_code >= 400 or not isinstance(body, dict):
                    raise RoutingServerError(f"{self.name} at {self.base_url} refused the request "
                                             f"(HTTP {r.status_code}): {self._message(body, r.text)}")
                return body
        finally:
            if own:
                client.close()
        raise RoutingServerError(f"{self.name} at {self.base_url} did not answer after "
                                 f"{self.retries + 1} tries: {last}")

    @staticmethod
    def _message(body: Any, text: str) -> str:
        if isinstance(body, dict):
            parts = [str(body[k]) for k in ("code", "error_code", "message", "error") if body.get(k) is not None]
            if parts:
                return " ".join(parts)
        return text[:300]

    def _finish(self, locations: Sequence[Location], dur: np.ndarray, km: np.ndarray) -> Matrices:
        bad = ~(np.isfinite(dur) & np.isfinite(km))
        np.fill_diagonal(bad, False)
        if bad.any():
            raise UnreachablePairs(f"{self.name} at {self.base_url}",
                                   [(int(i), int(j)) for i, j in np.argwhere(bad)], locations)
        np.fill_diagonal(dur, 0.0)
        np.fill_diagonal(km, 0.0)
        return Matrices(km, dur)

    def _check_snaps(self, locations: Sequence[Location], snap_m: dict[int, float]) -> None:
        far = sorted(i for i, m in snap_m.items() if m / 1000.0 > self.snap_limit_km)
        if far:
            raise SnapError([(i, locations[i].lat, locations[i].lon, snap_m[i] / 1000.0) for i in far],
                            self.snap_limit_km, f"{self.name} at {self.base_url}")


def _num(x: Any) -> float:
    return math.nan if x is None else float(x)


@dataclass
class OsrmTravel(_HttpBase):
    """Distances and times from an OSRM server's table service (see the module doc).

    ``profile``: the URL's profile part (``driving``; ``osrm-routed`` serves its one dataset
    whatever it says). ``max_locations``: coordinates per request (the server's
    ``--max-table-size``, 100 by default).
    """

    profile: str = "driving"
    max_locations: int = 100

    name = "OSRM"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_locations < 2:
            raise ValueError("max_locations must be at least 2")

    def blocks(self, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """(source indices, destination indices) of each request for ``n`` locations."""
        if n <= self.max_locations:
            return [(np.arange(n), np.arange(n))]
        parts = _chunks(n, self.max_locations // 2)
        return [(a, b) for a in parts for b in parts]

    def get_matrix(self, locations: Sequence[Location]) -> Matrices:
        """Road km and seconds between all pairs of ``locations``, block by block."""
        n = len(locations)
        if n <= 1:  # nothing to route
            return Matrices(np.zeros((n, n)), np.zeros((n, n)))
        dur = np.full((n, n), np.nan)
        km = np.full((n, n), np.nan)
        snap_m: dict[int, float] = {}
        with self._session():
            self._table(locations, dur, km, snap_m)
        self._check_snaps(locations, snap_m)
        return self._finish(locations, dur, km)

    def _table(self, locations: Sequence[Location], dur: np.ndarray, km: np.ndarray, snap_m: dict[int, float]) -> None:
        """Fill ``dur``/``km``/``snap_m`` block by block."""
        for src, dst in self.blocks(len(locations)):
            same = len(src) == len(dst) and bool((src == dst).all())
            coords = src if same else np.concatenate([src, dst])
            path = ";".join(f"{locations[i].lon:.6f},{locations[i].lat:.6f}" for i in coords)
            query = "annotations=duration,distance"  # literal ',' and ';' as in OSRM's documentation
            if not same:
                query += ("&sources=" + ";".join(str(k) for k in range(len(src)))
                          + "&destinations=" + ";".join(str(k) for k in range(len(src), len(coords))))
            body = self._send("GET", f"{self.base_url}/table/v1/{self.profile}/{path}?{query}")
            if body.get("code") != "Ok":
                raise RoutingServerError(f"OSRM at {self.base_url}: {self._message(body, '')}")
            try:
                d = np.array([[_num(x) for x in row] for row in body["durations"]], float)
                m = np.array([[_num(x) for x in row] for row in body["distances"]], float)
            except (KeyError, TypeError, ValueError) as e:
                raise RoutingServerError(f"OSRM at {self.base_url}: no durations/distances table in the answer "
                                         f"({e}); the distance table needs a CH dataset (osrm-contract)") from e
            if d.shape != (len(src), len(dst)) or m.shape != d.shape:
                raise RoutingServerError(f"OSRM at {self.base_url}: table of shape {d.shape}, expected "
                                         f"{(len(src), len(dst))}")
            for key, idx in (("sources", src), ("destinations", dst)):
                for wp, i in zip(body.get(key) or [], idx):
                    if isinstance(wp, dict) and wp.get("distance") is not None:
                        snap_m[int(i)] = float(wp["distance"])
            dur[np.ix_(src, dst)] = d
            km[np.ix_(src, dst)] = m / 1000.0

    def leg_geometry(self, a: Location, b: Location) -> list[tuple[float, float]]:
        """The road polyline of the fastest route from ``a`` to ``b`` as (lat, lon) points
        (the route service with ``overview=full&geometries=geojson``)."""
        path = f"{a.lon:.6f},{a.lat:.6f};{b.lon:.6f},{b.lat:.6f}"
        body = self._send("GET", f"{self.base_url}/route/v1/{self.profile}/{path}?overview=full&geometries=geojson")
        try:
            if body.get("code") != "Ok":
                raise KeyError(body.get("code"))
            coords = body["routes"][0]["geometry"]["coordinates"]
            return [(float(lat), float(lon)) for lon, lat in coords]
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise RoutingServerError(f"OSRM at {self.base_url}: no route geometry from ({a.lat:.6f}, {a.lon:.6f}) "
                                     f"to ({b.lat:.6f}, {b.lon:.6f}): {self._message(body, '')}") from e


def decode_polyline(text: str, precision: int = 6) -> list[tuple[float, float]]:
    """(lat, lon) points of an encoded polyline (Google's format; Valhalla uses precision 6)."""
    out: list[tuple[float, float]] = []
    idx = lat = lon = 0
    factor = 10.0 ** precision
    while idx < len(text):
        delta = []
        for _ in range(2):
            shift = result = 0
            while True:
                byte = ord(text[idx]) - 63
                idx += 1
                result |= (byte & 0x1F) << shift
                shift += 5
                if byte < 0x20:
                    break
            delta.append(~(result >> 1) if result & 1 else result >> 1)
        lat += delta[0]
        lon += delta[1]
        out.append((lat / factor, lon / factor))
    return out


@dataclass
class ValhallaTravel(_HttpBase):
    """Distances and times from a Valhalla server's ``/sources_to_targets`` (see the module doc).

    ``costing``: ``auto`` (or ``truck``, ``motor_scooter`` ...). ``batch``: sources and targets
    per request (``batch``² ≤ the server's ``max_matrix_location_pairs``). Each location carries
    ``search_cutoff`` = ``snap_limit_km``, so Valhalla itself refuses points too far from a road.
    """

    costing: str = "auto"
    batch: int = 50

    name = "Valhalla"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.batch < 1:
            raise ValueError("batch must be at least 1")

    def blocks(self, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """(source indices, target indices) of each request for ``n`` locations."""
        parts = _chunks(n, self.batch)
        return [(a, b) for a in parts for b in parts]

    def _loc(self, p: Location) -> dict:
        return {"lat": round(p.lat, 6), "lon": round(p.lon, 6), "search_cutoff": round(self.snap_limit_km * 1000)}

    def get_matrix(self, locations: Sequence[Location]) -> Matrices:
        """Road km and seconds between all pairs of ``locations``, block by block."""
        n = len(locations)
        if n == 0:
            return Matrices(np.zeros((0, 0)), np.zeros((0, 0)))
        dur = np.full((n, n), np.nan)
        km = np.full((n, n), np.nan)
        with self._session():
            for src, dst in self.blocks(n):
                self._block(locations, src, dst, dur, km)
        return self._finish(locations, dur, km)

    def _block(self, locations: Sequence[Location], src: np.ndarray, dst: np.ndarray, dur: np.ndarray,
               km: np.ndarray) -> None:
        """One request: sources ``src`` × targets ``dst`` into ``dur``/``km``."""
        req = {"sources": [self._loc(locations[i]) for i in src],
               "targets": [self._loc(locations[j]) for j in dst],
               "costing": self.costing, "units": "kilometers"}
        try:
            body = self._send("POST", f"{self.base_url}/sources_to_targets", json=req)
        except RoutingServerError as e:
            if "171" in str(e) or "No suitable edges" in str(e):
                raise RoutingServerError(
                    f"{e}. One of these locations is farther than {self.snap_limit_km:g} km from a road: "
                    + ", ".join(f"#{i} ({locations[i].lat:.6f}, {locations[i].lon:.6f})"
                                for i in sorted(set(src.tolist()) | set(dst.tolist())))) from e
            raise
        d, m = self._read(body, len(src), len(dst))
        dur[np.ix_(src, dst)] = d
        km[np.ix_(src, dst)] = m

    def leg_geometry(self, a: Location, b: Location) -> list[tuple[float, float]]:
        """The road polyline of the route from ``a`` to ``b`` as (lat, lon) points (``/route``,
        its legs' polyline6 ``shape``)."""
        req = {"locations": [self._loc(a), self._loc(b)], "costing": self.costing, "units": "kilometers"}
        body = self._send("POST", f"{self.base_url}/route", json=req)
        try:
            pts: list[tuple[float, float]] = []
            for leg in body["trip"]["legs"]:
                pts.extend(decode_polyline(leg["shape"], 6))
            if not pts:
                raise KeyError("shape")
            return pts
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise RoutingServerError(f"Valhalla at {self.base_url}: no route shape from ({a.lat:.6f}, {a.lon:.6f}) "
                                     f"to ({b.lat:.6f}, {b.lon:.6f}): {e!r}") from e

    def _read(self, body: dict, ns: int, nt: int) -> tuple[np.ndarray, np.ndarray]:
        """Durations (s) and distances (km) of one answer, verbose (rows of objects with
        ``from_index``/``to_index``/``time``/``distance``) or concise (``durations``/``distances``)."""
        table = body.get("sources_to_targets")
        d = np.full((ns, nt), np.nan)
        m = np.full((ns, nt), np.nan)
        try:
            if isinstance(table, dict):
                d[:] = [[_num(x) for x in row] for row in table["durations"]]
                m[:] = [[_num(x) for x in row] for row in table["distances"]]
            elif isinstance(table, list):
                for row in table:
                    for cell in row:
                        i, j = int(cell["from_index"]), int(cell["to_index"])
                        d[i, j], m[i, j] = _num(cell.get("time")), _num(cell.get("distance"))
            else:
                raise KeyError("sources_to_targets")
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise RoutingServerError(f"Valhalla at {self.base_url}: unreadable matrix answer ({e!r})") from e
        if body.get("units") in ("miles", "mi"):
            m = m * 1.609344
        return d, m
