"""OSRM and Valhalla matrix providers against a local HTTP server on 127.0.0.1.

No OSRM or Valhalla binary installs here from the package registries (osrm-bindings is a
source-only build of the whole C++ backend, the npm packages download their binaries from
GitHub at install time, and pyvalhalla's wheel for Python 3.11 cannot build tiles), so the
server below implements the two documented contracts itself:

* OSRM ``GET /table/v1/{profile}/{lon,lat;...}?annotations=duration,distance&sources=..&destinations=..``:
  ``{"code": "Ok", "durations": [[s]], "distances": [[m]], "sources": [Waypoint], "destinations":
  [Waypoint]}`` with ``null`` for pairs without a route, a Waypoint's ``distance`` the metres it
  was snapped, and ``400 {"code": "TooBig"}`` past ``--max-table-size`` coordinates.
* Valhalla ``POST /sources_to_targets`` with ``{"sources", "targets", "costing", "units"}``:
  ``{"sources_to_targets": [[{"from_index", "to_index", "time", "distance"}]], "units": ...}``
  (or the concise ``{"durations", "distances"}`` form), ``null`` time/distance without a route,
  ``400 {"error_code": 171, "error": "No suitable edges near location"}`` past ``search_cutoff``,
  and a limit on sources × targets.

Its answers come from a deliberately asymmetric formula, so a block put in the wrong place,
or transposed, shows.
"""
from __future__ import annotations

import json
import math
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np
import pytest

pytest.importorskip("httpx")

from planner.domain import Location  # noqa: E402
from planner.geo.errors import RoutingServerError, SnapError, UnreachablePairs  # noqa: E402
from planner.geo.http_matrix import OsrmTravel, ValhallaTravel  # noqa: E402

ISLAND_LAT = 60.30    # points north of this have no route to or from anywhere else
FAR_LON = 25.20       # points east of this are 5 km from the nearest road


def hav_km(a, b) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def road(a, b) -> tuple[float | None, float | None]:
    """(seconds, metres) of the server's fake roads: asymmetric (a departure cost by the source's
    latitude), ``None`` to or from the island."""
    if a == b:
        return 0.0, 0.0
    if (a[0] > ISLAND_LAT) != (b[0] > ISLAND_LAT) or a[0] > ISLAND_LAT:
        return None, None
    km = hav_km(a, b) * 1.4
    return round(km / 30 * 3600 + (a[0] * 1e4) % 97, 1), round(km * 1000 + (b[1] * 1e4) % 53, 1)


def encode6(points) -> str:
    """Google's polyline encoding at precision 6 (as Valhalla's ``shape``)."""
    out, prev = [], (0, 0)
    for lat, lon in points:
        cur = (round(lat * 1e6), round(lon * 1e6))
        for d in (cur[0] - prev[0], cur[1] - prev[1]):
            v = ~(d << 1) if d < 0 else d << 1
            while v >= 0x20:
                out.append(chr((0x20 | (v & 0x1F)) + 63))
                v >>= 5
            out.append(chr(v + 63))
        prev = cur
    return "".join(out)


def snap_m(p) -> float:
    return 5000.0 if p[1] > FAR_LON else 12.5


class FakeRouter(ThreadingHTTPServer):
    """State of the fake server: its limits, the requests it got, failures to inject."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.max_table_size = 100
        self.max_pairs = 2500
        self.concise = False
        self.requests: list[dict] = []
        self.fail_next: list[int] = []   # HTTP statuses to answer with, one per request
        self.delay_s = 0.0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address):
        """A client that gave up (the timeout tests) closes before the answer: not an error here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):  # (broken pipe, reset, aborted)
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    server: FakeRouter

    def log_message(self, *args):  # quiet
        pass

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _injected(self) -> bool:
        with self.server.lock:
            status = self.server.fail_next.pop(0) if self.server.fail_next else None
        if self.server.delay_s:
            time.sleep(self.server.delay_s)
        if status is not None:
            self._reply(status, {"code": "InternalError", "message": "injected"})
            return True
        return False

    def do_GET(self):  # OSRM
        u = urlsplit(self.path)
        parts = u.path.split("/")
        if parts[1:3] == ["route", "v1"] and len(parts) == 5:  # a route: an L through the corner
            (lon1, lat1), (lon2, lat2) = (tuple(map(float, c.split(","))) for c in unquote(parts[4]).split(";"))
            assert parse_qs(u.query) == {"overview": ["full"], "geometries": ["geojson"]}
            return self._reply(200, {"code": "Ok", "routes": [{"geometry": {
                "type": "LineString", "coordinates": [[lon1, lat1], [lon2, lat1], [lon2, lat2]]}}]})
        if parts[1:3] != ["table", "v1"] or len(parts) != 5:
            return self._reply(400, {"code": "InvalidUrl", "message": f"URL string malformed: {u.path}"})
        coords = [tuple(map(float, c.split(","))) for c in unquote(parts[4]).split(";")]
        pts = [(lat, lon) for lon, lat in coords]
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        rec = {"service": "osrm", "profile": parts[3], "coords": len(pts), "query": q, "raw_query": u.query}
        with self.server.lock:
            self.server.requests.append(rec)
        if self._injected():
            return None
        if q.get("annotations") != "duration,distance":
            return self._reply(400, {"code": "InvalidOptions", "message": "annotations"})
        if len(pts) > self.server.max_table_size:
            return self._reply(400, {"code": "TooBig", "message": "Too many table coordinates"})
        src = [int(x) for x in q["sources"].split(";")] if "sources" in q else list(range(len(pts)))
        dst = [int(x) for x in q["destinations"].split(";")] if "destinations" in q else list(range(len(pts)))
        cells = [[road(pts[i], pts[j]) for j in dst] for i in src]

        def wp(i):
            return {"hint": "", "distance": snap_m(pts[i]), "name": "", "location": [pts[i][1], pts[i][0]]}

        return self._reply(200, {"code": "Ok", "durations": [[c[0] for c in row] for row in cells],
                                 "distances": [[c[1] for c in row] for row in cells],
                                 "sources": [wp(i) for i in src], "destinations": [wp(j) for j in dst]})

    def do_POST(self):  # Valhalla
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/route":  # an L through the corner, as polyline6
            (a, b) = [(p["lat"], p["lon"]) for p in body["locations"]]
            return self._reply(200, {"trip": {"legs": [{"shape": encode6([a, (a[0], b[1]), b])}],
                                              "units": "kilometers"}})
        if self.path != "/sources_to_targets":
            return self._reply(404, {"error_code": 106, "error": "Try any of: '/sources_to_targets'"})
        src = [(p["lat"], p["lon"]) for p in body["sources"]]
        dst = [(p["lat"], p["lon"]) for p in body["targets"]]
        with self.server.lock:
            self.server.requests.append({"service": "valhalla", "sources": len(src), "targets": len(dst),
                                         "costing": body.get("costing"), "units": body.get("units"),
                                         "cutoff": {p.get("search_cutoff") for p in body["sources"] + body["targets"]}})
        if self._injected():
            return None
        if len(src) * len(dst) > self.server.max_pairs:
            return self._reply(400, {"error_code": 154, "error": "Exceeded max matrix location pairs",
                                     "status_code": 400, "status": "Bad Request"})
        for p, raw in zip(src + dst, body["sources"] + body["targets"]):
            if snap_m(p) > raw.get("search_cutoff", 35000):
                return self._reply(400, {"error_code": 171, "error": "No suitable edges near location",
                                         "status_code": 400, "status": "Bad Request"})
        cells = [[road(a, b) for b in dst] for a in src]
        if self.server.concise:
            table = {"durations": [[None if c[0] is None else round(c[0]) for c in row] for row in cells],
                     "distances": [[None if c[1] is None else c[1] / 1000 for c in row] for row in cells]}
        else:
            table = [[{"from_index": i, "to_index": j, "time": None if c[0] is None else round(c[0]),
                       "distance": None if c[1] is None else c[1] / 1000} for j, c in enumerate(row)]
                     for i, row in enumerate(cells)]
        return self._reply(200, {"sources_to_targets": table, "units": "kilometers",
                                 "sources": [[{"lat": a, "lon": b} for a, b in src]],
                                 "targets": [[{"lat": a, "lon": b} for a, b in dst]]})


@pytest.fixture
def router():
    srv = FakeRouter()
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    t.join(5)


def points(n: int, seed: int = 1) -> list[Location]:
    rng = np.random.default_rng(seed)
    lat, lon = np.round(rng.uniform(60.10, 60.25, n), 6), np.round(rng.uniform(24.80, 25.10, n), 6)  # as sent
    return [Location(float(a), float(b)) for a, b in zip(lat, lon)]


def expected(locs, *, valhalla: bool = False) -> tuple[np.ndarray, np.ndarray]:
    n = len(locs)
    s, km = np.zeros((n, n)), np.zeros((n, n))
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            t, m = road((a.lat, a.lon), (b.lat, b.lon))
            s[i, j] = round(t) if valhalla else t
            km[i, j] = m / 1000
    return s, km


# ------------------------------------------------------------------------------------------------
# OSRM
# ------------------------------------------------------------------------------------------------
def test_osrm_small_matrix_in_one_request(router):
    locs = points(7)
    m = OsrmTravel(router.url).get_matrix(locs)
    s, km = expected(locs)
    np.testing.assert_allclose(m.duration_s, s)
    np.testing.assert_allclose(m.distance_km, km)
    assert not np.allclose(m.duration_s, m.duration_s.T)  # the fake roads are asymmetric
    assert router.requests == [{"service": "osrm", "profile": "driving", "coords": 7,
                                "query": {"annotations": "duration,distance"},
                                "raw_query": "annotations=duration,distance"}]


def test_osrm_batches_keep_every_request_within_the_table_size(router):
    locs = points(130)
    travel = OsrmTravel(router.url, max_locations=100)
    m = travel.get_matrix(locs)
    s, km = expected(locs)
    np.testing.assert_allclose(m.duration_s, s)
    np.testing.assert_allclose(m.distance_km, km)
    # chunks of 50, 50, 30: 9 blocks, a diagonal block alone, an off-diagonal one with both chunks
    assert [r["coords"] for r in router.requests] == [50, 100, 80, 100, 50, 80, 80, 80, 30]
    assert all(r["coords"] <= router.max_table_size for r in router.requests)
    off = router.requests[2]["query"]
    assert off["sources"] == ";".join(map(str, range(50)))
    assert off["destinations"] == ";".join(map(str, range(50, 80)))
    assert router.requests[2]["raw_query"].startswith("annotations=duration,distance&sources=0;1;2;3;")
    assert travel.requests_made == 9


def test_osrm_too_big_for_the_server_is_a_clear_error(router):
    router.max_table_size = 20
    with pytest.raises(RoutingServerError, match=r"refused the request \(HTTP 400\): TooBig Too many table"):
        OsrmTravel(router.url, max_locations=30).get_matrix(points(25))
    assert len(router.requests) == 1  # a 4xx is not retried


def test_osrm_retries_5xx_then_succeeds(router):
    router.fail_next = [503, 502]
    travel = OsrmTravel(router.url, backoff_s=0.01)
    m = travel.get_matrix(points(5))
    assert travel.requests_made == 3 and len(router.requests) == 3
    np.testing.assert_allclose(m.duration_s, expected(points(5))[0])


def test_osrm_gives_up_after_the_retries(router):
    router.fail_next = [500] * 10
    travel = OsrmTravel(router.url, retries=2, backoff_s=0.01)
    with pytest.raises(RoutingServerError, match=r"did not answer after 3 tries: HTTP 500"):
        travel.get_matrix(points(5))
    assert len(router.requests) == 3


def test_osrm_timeouts_are_retried_then_reported(router):
    router.delay_s = 0.6
    travel = OsrmTravel(router.url, timeout=0.15, retries=1, backoff_s=0.01)
    with pytest.raises(RoutingServerError, match=r"did not answer after 2 tries: ReadTimeout"):
        travel.get_matrix(points(4))
    assert travel.requests_made == 2


def test_osrm_no_server_is_reported():
    travel = OsrmTravel("http://127.0.0.1:9", retries=1, backoff_s=0.01, timeout=2)  # discard port: closed
    with pytest.raises(RoutingServerError, match=r"OSRM at http://127.0.0.1:9 did not answer after 2 tries: Connect"):
        travel.get_matrix(points(3))


def test_osrm_unreachable_pairs_are_named(router):
    locs = points(4) + [Location(60.35, 24.95)]
    with pytest.raises(UnreachablePairs) as e:
        OsrmTravel(router.url).get_matrix(locs)
    assert sorted(e.value.pairs) == sorted([(i, 4) for i in range(4)] + [(4, i) for i in range(4)])
    assert "found no route for 8 pair(s)" in str(e.value) and "#4 (60.350000, 24.950000)" in str(e.value)


def test_osrm_far_snap_is_a_snap_error(router):
    locs = points(4) + [Location(60.20, 25.30)]
    with pytest.raises(SnapError) as e:
        OsrmTravel(router.url).get_matrix(locs)
    assert e.value.points == [(4, 60.20, 25.30, 5.0)]
    assert "farther than 1 km from the road network of OSRM at http://127.0.0.1" in str(e.value)


def test_osrm_bad_url():
    with pytest.raises(ValueError, match="must start with http"):
        OsrmTravel("localhost:5000")


# ------------------------------------------------------------------------------------------------
# Valhalla
# ------------------------------------------------------------------------------------------------
def test_valhalla_batches_of_sources_and_targets(router):
    locs = points(120, seed=5)
    travel = ValhallaTravel(router.url, batch=50)
    m = travel.get_matrix(locs)
    s, km = expected(locs, valhalla=True)
    np.testing.assert_allclose(m.duration_s, s)
    np.testing.assert_allclose(m.distance_km, km)
    assert [(r["sources"], r["targets"]) for r in router.requests] == [
        (50, 50), (50, 50), (50, 20), (50, 50), (50, 50), (50, 20), (20, 50), (20, 50), (20, 20)]
    assert all(r["sources"] * r["targets"] <= router.max_pairs for r in router.requests)
    assert {r["costing"] for r in router.requests} == {"auto"} and {r["units"] for r in router.requests} == {
        "kilometers"}
    assert all(r["cutoff"] == {1000} for r in router.requests)


def test_valhalla_concise_answer(router):
    router.concise = True
    locs = points(9, seed=2)
    m = ValhallaTravel(router.url).get_matrix(locs)
    s, km = expected(locs, valhalla=True)
    np.testing.assert_allclose(m.duration_s, s)
    np.testing.assert_allclose(m.distance_km, km)


def test_valhalla_pair_limit_and_far_points(router):
    router.max_pairs = 100
    with pytest.raises(RoutingServerError, match="154 Exceeded max matrix location pairs"):
        ValhallaTravel(router.url, batch=20).get_matrix(points(30))
    router.max_pairs = 2500
    locs = points(3) + [Location(60.2, 25.4)]
    with pytest.raises(RoutingServerError, match=r"171 No suitable edges near location.*farther than 1 km.*"
                                                 r"#3 \(60.200000, 25.400000\)"):
        ValhallaTravel(router.url).get_matrix(locs)


def test_valhalla_unreachable_and_retries(router):
    router.fail_next = [504]
    locs = points(3) + [Location(60.4, 24.9)]
    travel = ValhallaTravel(router.url, backoff_s=0.01)
    with pytest.raises(UnreachablePairs) as e:
        travel.get_matrix(locs)
    assert travel.requests_made == 2 and len(e.value.pairs) == 6


# ------------------------------------------------------------------------------------------------
# Road geometry of a leg (for maps)
# ------------------------------------------------------------------------------------------------
def test_leg_geometry_from_osrm_and_valhalla(router):
    a, b = Location(60.168421, 24.941234), Location(60.175001, 24.950777)
    expect = [(a.lat, a.lon), (a.lat, b.lon), (b.lat, b.lon)]
    assert OsrmTravel(router.url).leg_geometry(a, b) == expect
    got = ValhallaTravel(router.url).leg_geometry(a, b)
    assert got == [pytest.approx(p, abs=1e-9) for p in expect]


def test_decode_polyline_documented_example():
    from planner.geo.http_matrix import decode_polyline
    # the example of Google's "Encoded Polyline Algorithm Format" page, precision 5
    assert decode_polyline("_p~iF~ps|U_ulLnnqC_mqNvxq`@", 5) == [(38.5, -120.2), (40.7, -120.95), (43.252, -126.453)]
