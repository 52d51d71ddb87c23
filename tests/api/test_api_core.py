"""The API on a real server: keys, customers and reps, plans, exports, routes, day pages, visits,
and what each role may see."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile

import pytest

from tests.api.conftest import NEXT_WEEK, PLAN_START, a_route, run_plan, wait_job

pytestmark = pytest.mark.usefixtures("planned")


# ----------------------------------------------------------------------------------------------
# Keys
# ----------------------------------------------------------------------------------------------
PROTECTED = ["/customers", "/customers/C0001", "/customers/nearby?lat=30&lon=120", "/reps", "/plans", "/plans/latest",
             "/jobs", "/visits", "/auth/me", "/openapi.json", "/docs", "/static/leaflet/leaflet.js"]


def test_health_is_open_and_everything_else_needs_a_key(api):
    r = api.anon.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    for path in PROTECTED:
        r = api.anon.get(path)
        assert r.status_code == 401, path
        assert r.headers["www-authenticate"].startswith("Bearer")
    for method, path in [("PUT", "/customers"), ("POST", "/plans"), ("POST", "/visits"),
                         ("DELETE", "/customers/C0001"), ("PATCH", "/reps/R01")]:
        assert api.anon.request(method, path, json=[]).status_code == 401, path


def test_bad_and_revoked_keys_are_refused(api):
    from planner.api.security import revoke_key
    from planner.db.session import make_session_factory

    for header in ["Bearer nonsense", "Bearer fvp_000000000000_" + "x" * 43, "Basic abc", f"Token {api.keys['crm']}",
                   "Bearer " + api.keys["crm"][:-1] + ("A" if api.keys["crm"][-1] != "A" else "B")]:
        r = api.anon.get("/customers", headers={"Authorization": header})
        assert r.status_code == 401, header
    assert api.spare.get("/auth/me").json() == {"name": "spare", "role": "crm", "rep_id": None}
    engine = api.server.db.engine()
    with make_session_factory(engine)() as s:
        assert revoke_key(s, "spare") == 1
        s.commit()
    engine.dispose()
    assert api.spare.get("/auth/me").status_code == 401


def test_a_browser_without_a_key_gets_a_key_prompt(api, planned):
    r = api.anon.get(f"/plans/{planned['plan_id']}/reps/R01/days/{PLAN_START}", headers={"Accept": "text/html"})
    assert r.status_code == 401
    assert "text/html" in r.headers["content-type"] and "<form" in r.text and "/auth/session" in r.text


def test_cookie_session_for_the_tablet_needs_the_csrf_header_to_write(api, planned):
    route = a_route(planned["plan"], "R01")
    with api.server.client() as browser:
        r = browser.post("/auth/session", headers={"Authorization": f"Bearer {api.keys['rep_a']}"})
        assert r.status_code == 200 and r.json()["rep_id"] == "R01"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        page = browser.get(f"/plans/{planned['plan_id']}/reps/R01/days/{route['date']}")
        assert page.status_code == 200
        body = {"customer_id": route["stops"][0]["customer_id"], "outcome": "done"}
        assert browser.post("/visits", json=body).status_code == 403
        r = browser.post("/visits", json=body, headers={"X-Planner-CSRF": "1"})
        assert r.status_code == 201, r.text
        assert browser.delete("/auth/session").status_code == 403
        assert browser.delete("/auth/session", headers={"X-Planner-CSRF": "1"}).status_code == 204


def test_cli_makes_and_revokes_keys(api, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PLANNER_DATABASE_URL": api.server.db.url}
    cmd = [sys.executable, "-m", "planner.cli", "auth"]
    out = subprocess.run(cmd + ["create-key", "cli-made", "--role", "manager"], env=env, capture_output=True,
                         text=True, check=True, cwd=tmp_path).stdout
    key = out.strip().splitlines()[-1]
    assert re.fullmatch(r"fvp_[0-9a-f]{12}_[A-Za-z0-9_\-]{43}", key)
    with api.server.client(key) as c:
        assert c.get("/auth/me").json()["role"] == "manager"
        bad = subprocess.run(cmd + ["create-key", "x", "--role", "rep"], env=env, capture_output=True, text=True)
        assert bad.returncode != 0 and "--rep-id" in bad.stderr
        subprocess.run(cmd + ["revoke", "cli-made"], env=env, check=True, capture_output=True, cwd=tmp_path)
        assert c.get("/auth/me").status_code == 401
    # only a hash is stored
    from sqlalchemy import select

    from planner.db.models import ApiKeyRow
    from planner.db.session import make_session_factory
    engine = api.server.db.engine()
    with make_session_factory(engine)() as s:
        hashes = list(s.scalars(select(ApiKeyRow.key_hash)))
    engine.dispose()
    assert key not in hashes and all(len(h) == 64 for h in hashes)


# ----------------------------------------------------------------------------------------------
# Customers and reps
# ----------------------------------------------------------------------------------------------
def test_bulk_upsert_is_idempotent(api, planned):
    r = api.crm.put("/customers", json=planned["customers"])
    assert r.json() == {"inserted": 0, "updated": 0, "unchanged": len(planned["customers"])}
    r = api.crm.put("/reps", json=planned["reps"])
    assert r.json() == {"inserted": 0, "updated": 0, "unchanged": len(planned["reps"])}


def test_a_bad_item_rejects_the_whole_bulk_naming_every_bad_item(api):
    good = {"id": "NEW1", "name": "新客户", "lat": 30.2, "lon": 120.1, "grade": "B"}
    items = [good,
             {"id": "NEW2", "lat": 30.2, "lon": 120.1, "grade": "B"},                    # no name
             {"id": "NEW3", "name": "x", "lat": 30.2, "lon": 120.1, "grade": "Z"},       # unknown grade
             {"id": "NEW4", "name": "x", "lat": 95, "lon": 120.1, "grade": "A"},         # lat out of range
             {"id": "NEW5", "name": "x", "lat": 30.2, "grade": "A"},                     # lon missing
             {"id": "NEW6", "name": "x", "lat": 30.2, "lon": 120.1, "grade": "A", "frequency": "often"},
             {"id": "NEW7", "name": "x", "lat": 30.2, "lon": 120.1, "grade": "A", "open": "9-5"},
             dict(good)]                                                                  # duplicate id
    r = api.crm.put("/customers", json=items)
    assert r.status_code == 422
    locs = {tuple(e["loc"]) for e in r.json()["detail"]}
    assert {("body", 1, "name"), ("body", 2, "grade"), ("body", 3, "lat"), ("body", 4, "lon"),
            ("body", 5, "frequency"), ("body", 6, "open"), ("body", 7, "id")} <= locs
    assert not any(loc[:2] == ("body", 0) for loc in locs)
    assert api.crm.get("/customers/NEW1").status_code == 404  # nothing written
    r = api.crm.put("/reps", json=[{"id": "RX", "name": "x", "start_lat": 30, "start_lon": 120, "work_start": "18:00"},
                                   {"id": "RY", "name": "y", "start_lat": 30}])
    assert r.status_code == 422
    locs = {tuple(e["loc"]) for e in r.json()["detail"]}
    assert ("body", 0, "work_end") in locs and ("body", 1, "start_lon") in locs
    assert api.crm.get("/reps/RX").status_code == 404
    assert api.crm.put("/customers", json={"not": "a list"}).status_code == 422
    assert api.crm.put("/customers", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 422


def test_list_filter_and_page_customers(api, planned):
    n = len(planned["customers"])
    r = api.crm.get("/customers", params={"limit": 7, "offset": 0}).json()
    assert r["total"] >= n and len(r["items"]) == 7
    ids = [c["id"] for c in r["items"]]
    assert ids == sorted(ids)
    r2 = api.crm.get("/customers", params={"limit": 7, "offset": 7}).json()
    assert not set(ids) & {c["id"] for c in r2["items"]}
    north = api.manager.get("/customers", params={"region": "north", "limit": 1000}).json()
    assert north["total"] == n // 2 and all(c["region"] == "north" for c in north["items"])
    grade_a = api.crm.get("/customers", params={"grade": "A", "limit": 1000}).json()["items"]
    assert grade_a and all(c["grade"] == "A" for c in grade_a)
    assert api.crm.get("/customers", params={"limit": 0}).status_code == 422


def test_patch_deactivate_and_unknown_ids(api, planned):
    cid = planned["customers"][-1]["id"]
    r = api.crm.patch(f"/customers/{cid}", json={"visit_minutes": 50, "open": "09:00-12:00"})
    assert r.status_code == 200 and r.json()["visit_minutes"] == 50 and r.json()["open"] == "09:00-12:00"
    r = api.crm.patch(f"/customers/{cid}", json={"grade": "Q"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "grade"]
    r = api.crm.patch(f"/customers/{cid}", json={"open": None, "visit_minutes": None})
    assert r.json()["open"] == "" and r.json()["visit_minutes"] is None
    r = api.crm.post(f"/customers/{cid}/deactivate")
    assert r.status_code == 200 and r.json()["active"] is False
    assert cid in {c["id"] for c in api.crm.get("/customers", params={"active": False}).json()["items"]}
    assert api.crm.patch(f"/customers/{cid}", json={"active": True}).json()["active"] is True
    for path in ["/customers/NOPE", "/reps/NOPE", "/plans/NOPE", "/jobs/NOPE", "/visits/999999"]:
        assert api.crm.get(path).status_code == 404, path
    assert api.crm.patch("/customers/NOPE", json={"name": "x"}).status_code == 404
    assert api.crm.delete("/customers/NOPE").status_code == 404


def test_reps_patch_deactivate_and_filter(api):
    r = api.crm.patch("/reps/R02", json={"region": "north", "max_visits_per_day": 9})
    assert r.status_code == 200 and r.json()["region"] == "north" and r.json()["max_visits_per_day"] == 9
    assert [x["id"] for x in api.crm.get("/reps", params={"region": "north"}).json()["items"]] == ["R02"]
    r = api.crm.patch("/reps/R02", json={"work_end": "07:00"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "work_end"]
    assert api.crm.patch("/reps/R02", json={"region": None}).json()["region"] is None


def test_nearby_customers_nearest_first(api, planned):
    c0 = planned["customers"][0]
    lat, lon = float(c0["lat"]), float(c0["lon"])
    r = api.manager.get("/customers/nearby", params={"lat": lat, "lon": lon, "radius_km": 3})
    assert r.status_code == 200
    items = r.json()
    d = [x["distance_km"] for x in items]
    assert d == sorted(d) and all(x <= 3 for x in d) and items[0]["id"] == c0["id"] and d[0] < 1e-6
    r = api.manager.get("/customers/nearby", params={"customer_id": c0["id"], "radius_km": 3}).json()
    assert [x["id"] for x in r] == [x["id"] for x in items[1:]]
    far = api.manager.get("/customers/nearby", params={"lat": 0, "lon": 0, "radius_km": 10}).json()
    assert far == []
    r = api.manager.get("/customers/nearby", params={"radius_km": 3})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "lat"
    assert api.manager.get("/customers/nearby", params={"customer_id": "NOPE"}).status_code == 404


# ----------------------------------------------------------------------------------------------
# Plans
# ----------------------------------------------------------------------------------------------
def test_plan_json_routes_and_listing(api, planned):
    plan = planned["plan"]
    assert {"plan_id", "start", "end", "routes", "unassigned", "kpis"} <= set(plan)
    assert plan["start"] == PLAN_START and plan["plan_id"] == planned["plan_id"]
    stop = plan["routes"][0]["stops"][0]
    assert {"customer_id", "arrival", "start", "end"} <= set(stop)
    assert {"rep_id", "date", "stops", "distance_km", "duration_minutes", "cost"} <= set(plan["routes"][0])
    assert api.manager.get("/plans/latest").json()["plan_id"] in {p["plan_id"] for p in api.manager.get("/plans").json()}
    route = a_route(plan, "R01")
    r = api.manager.get(f"/plans/{plan['plan_id']}/routes", params={"rep_id": "R01", "date": route["date"]}).json()
    assert len(r) == 1 and r[0]["stops"] == route["stops"]
    assert api.manager.get(f"/plans/{plan['plan_id']}/routes", params={"date": "2026-13-01"}).status_code == 422
    done = planned["job"]
    assert done["progress"] == 1.0 and done["error"] is None and done["started_at"] and done["finished_at"]


def test_exports(api, planned):
    pid = planned["plan_id"]
    r = api.manager.get(f"/plans/{pid}/export", params={"format": "json"})
    assert r.status_code == 200 and r.json()["plan_id"] == pid
    r = api.manager.get(f"/plans/{pid}/export", params={"format": "csv"})
    assert r.status_code == 200
    if r.headers["content-type"].startswith("application/zip"):
        z = zipfile.ZipFile(io.BytesIO(r.content))
        text = z.read(sorted(n for n in z.namelist() if "unassigned" not in n)[0]).decode("utf-8-sig")
    else:
        text = r.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and "customer_id" in rows[0]
    r = api.manager.get(f"/plans/{pid}/export", params={"format": "xlsx"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = api.manager.get(f"/plans/{pid}/export", params={"format": "geojson"})
    assert r.json()["type"] == "FeatureCollection"
    r = api.manager.get(f"/plans/{pid}/export", params={"format": "ics"})
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert sorted(names) == ["R01.ics", "R02.ics"]
    r = api.manager.get(f"/plans/{pid}/export", params={"format": "ics", "rep_id": "R01"})
    assert r.headers["content-type"].startswith("text/calendar") and r.text.startswith("BEGIN:VCALENDAR")
    assert "attachment" in r.headers["content-disposition"]
    assert api.manager.get(f"/plans/{pid}/export", params={"format": "pdf"}).status_code == 422
    assert api.manager.get(f"/plans/{pid}/export", params={"rep_id": "R99"}).status_code == 404


def test_plan_requests_are_validated(api):
    m = api.manager
    cases = [({"weeks": 1}, "start"), ({"start": "2026-02-30"}, "start"), ({"start": PLAN_START, "weeks": 0}, "weeks"),
             ({"start": PLAN_START, "time_limit": 0}, "time_limit"), ({"start": PLAN_START, "bogus": 1}, "bogus"),
             ({"start": PLAN_START, "rep_ids": ["R01", "NOPE"]}, "rep_ids")]
    for body, field in cases:
        r = m.post("/plans", json=body)
        assert r.status_code == 422, body
        assert any(e["loc"][-1] == field for e in r.json()["detail"]), r.json()
    assert m.post("/plans", json={"start": PLAN_START, "region": "nowhere"}).status_code == 409


def test_day_page_lists_the_stops_with_links_and_forms(api, planned):
    route = a_route(planned["plan"], "R01")
    r = api.rep_a.get(f"/plans/{planned['plan_id']}/reps/R01/days/{route['date']}", params={"lang": "en"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    items = re.findall(r"<li class='stop' id='stop-(\d+)' data-customer='([^']+)'", page)
    assert [c for _, c in items] == [s["customer_id"] for s in route["stops"]]
    assert page.count("<form class='visit'") == len(route["stops"])
    for s in route["stops"]:
        assert f"{s['start'][11:16]}&ndash;{s['end'][11:16]}" in page
    assert "geo:" in page and "uri.amap.com" in page and "Save record" in page
    phones = {c["id"]: c.get("phone") for c in planned["customers"]}
    if any(phones.get(s["customer_id"]) for s in route["stops"]):
        assert "href='tel:" in page
    assert "/static/leaflet/leaflet.js" in page and "cdn.jsdelivr" not in page
    zh = api.rep_a.get(f"/plans/{planned['plan_id']}/reps/R01/days/{route['date']}", params={"lang": "zh"}).text
    assert "保存记录" in zh
    assert api.rep_a.get(f"/plans/{planned['plan_id']}/reps/R01/days/{route['date']}",
                         params={"lang": "fr"}).status_code == 422
    sunday = (dt.date.fromisoformat(PLAN_START) + dt.timedelta(days=6)).isoformat()
    assert api.rep_a.get(f"/plans/{planned['plan_id']}/reps/R01/days/{sunday}").status_code == 404


def test_user_text_is_escaped_in_pages_and_maps(api, planned):
    route = a_route(planned["plan"], "R01")
    cid = route["stops"][0]["customer_id"]
    old = api.crm.get(f"/customers/{cid}").json()["name"]
    nasty = "<script>alert(1)</script>{{ 7*7 }}`${x}`"
    try:
        assert api.crm.patch(f"/customers/{cid}", json={"name": nasty}).status_code == 200
        page = api.rep_a.get(f"/plans/{planned['plan_id']}/reps/R01/days/{route['date']}").text
        m = api.manager.get(f"/plans/{planned['plan_id']}/map").text
        for html in (page, m):
            assert "<script>alert(1)" not in html and "49" not in re.findall(r"alert\(1\)[^<]{0,40}", html)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    finally:
        api.crm.patch(f"/customers/{cid}", json={"name": old})


# ----------------------------------------------------------------------------------------------
# Roles
# ----------------------------------------------------------------------------------------------
def test_manager_role(api, planned):
    m = api.manager
    assert m.get("/customers").status_code == 200
    assert m.get(f"/plans/{planned['plan_id']}/map").status_code == 200
    for method, path, body in [("PUT", "/customers", planned["customers"][:1]), ("PATCH", "/customers/C0001", {"name": "x"}),
                               ("DELETE", "/customers/C0001", None), ("POST", "/customers/C0001/deactivate", None),
                               ("GET", "/reps", None), ("PUT", "/reps", planned["reps"]), ("GET", "/visits", None),
                               ("POST", "/visits", {"customer_id": "C0001", "rep_id": "R01", "outcome": "done"})]:
        r = m.request(method, path, json=body)
        assert r.status_code == 403, (method, path, r.text)


def test_a_rep_sees_only_its_own_routes_and_customers(api, planned):
    plan, pid = planned["plan"], planned["plan_id"]
    a, b = api.rep_a, api.rep_b
    mine = {s["customer_id"] for r in plan["routes"] if r["rep_id"] == "R01" for s in r["stops"]}
    theirs = {s["customer_id"] for r in plan["routes"] if r["rep_id"] == "R02" for s in r["stops"]} - mine
    assert mine and theirs
    own_route, other_route = a_route(plan, "R01"), a_route(plan, "R02")
    # own: allowed
    assert a.get(f"/plans/{pid}/reps/R01/days/{own_route['date']}").status_code == 200
    seen = a.get(f"/plans/{pid}").json()
    assert {r["rep_id"] for r in seen["routes"]} == {"R01"}
    assert {c["id"] for c in a.get("/customers", params={"limit": 1000}).json()["items"]} == mine
    assert a.get(f"/customers/{sorted(mine)[0]}").status_code == 200
    assert {r["rep_id"] for r in a.get(f"/plans/{pid}/routes").json()} == {"R01"}
    ics = a.get(f"/plans/{pid}/export", params={"format": "ics"})
    assert zipfile.ZipFile(io.BytesIO(ics.content)).namelist() == ["R01.ics"]
    exported = a.get(f"/plans/{pid}/export", params={"format": "json"}).text
    assert not any(re.search(rf'"{re.escape(c)}"', exported) for c in theirs)
    # other rep's things: 404, the same answer as for what does not exist
    unknown = a.get("/customers/NOPE")
    for path in [f"/customers/{sorted(theirs)[0]}", f"/plans/{pid}/routes?rep_id=R02",
                 f"/plans/{pid}/reps/R02/days/{other_route['date']}", f"/plans/{pid}/export?format=ics&rep_id=R02",
                 f"/plans/{pid}/map", "/reps", "/reps/R01", "/jobs", f"/jobs/{planned['job']['job_id']}",
                 "/customers/nearby?lat=30.2&lon=120.1", "/visits?rep_id=R02", "/visits/debt"]:
        r = a.get(path)
        assert r.status_code == 404, (path, r.status_code)
        assert r.json() .keys() == unknown.json().keys()
    for method, path, body in [("PUT", "/customers", planned["customers"][:1]), ("DELETE", f"/customers/{sorted(mine)[0]}", None),
                               ("PATCH", f"/customers/{sorted(mine)[0]}", {"name": "x"}),
                               ("POST", "/plans", {"start": PLAN_START}), ("DELETE", f"/plans/{pid}", None),
                               ("POST", "/visits", {"customer_id": sorted(theirs)[0], "outcome": "done"}),
                               ("POST", "/visits", {"customer_id": sorted(mine)[0], "rep_id": "R02", "outcome": "done"})]:
        r = a.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.status_code)
    # and the other way round
    assert b.get(f"/plans/{pid}/reps/R01/days/{own_route['date']}").status_code == 404
    assert b.get(f"/customers/{sorted(mine - theirs)[0]}").status_code == 404


# ----------------------------------------------------------------------------------------------
# Visits and frequency debt
# ----------------------------------------------------------------------------------------------
def test_visit_records_and_frequency_debt(api, planned):
    plan, pid = planned["plan"], planned["plan_id"]
    route = a_route(plan, "R01")
    missed = route["stops"][0]["customer_id"]
    seen = route["stops"][-1]["customer_id"]
    day = route["date"]
    r = api.rep_a.post("/visits", json={"customer_id": missed, "outcome": "absent", "visited_at": f"{day}T09:30:00",
                                        "notes": "门店关门 closed", "next_action": "call first", "plan_id": pid})
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["rep_id"] == "R01" and v["outcome"] == "absent" and v["created_by"] == "tablet-R01"
    assert api.rep_a.get(f"/visits/{v['id']}").json() == v
    assert api.rep_b.get(f"/visits/{v['id']}").status_code == 404
    r = api.crm.post("/visits", json={"customer_id": seen, "rep_id": "R01", "outcome": "done",
                                      "visited_at": f"{day}T15:00:00"})
    assert r.status_code == 201
    for body, field in [({"customer_id": seen, "rep_id": "R01", "outcome": "maybe"}, "outcome"),
                        ({"customer_id": seen, "outcome": "done"}, "rep_id"),
                        ({"customer_id": "NOPE", "rep_id": "R01", "outcome": "done"}, "customer_id"),
                        ({"customer_id": seen, "rep_id": "R01", "outcome": "done", "visited_at": "2999-01-01T00:00:00"},
                         "visited_at")]:
        r = api.crm.post("/visits", json=body)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == field, (body, r.text)
    mine = api.rep_a.get("/visits").json()
    assert mine["total"] >= 2 and all(x["rep_id"] == "R01" for x in mine["items"])
    assert api.rep_b.get("/visits").json()["total"] == 0
    absent = api.crm.get("/visits", params={"outcome": "absent", "customer_id": missed}).json()["items"]
    assert [x["id"] for x in absent] == [v["id"]]
    next_week = NEXT_WEEK
    assert missed in api.crm.get("/visits/debt", params={"start": next_week}).json()
    assert seen not in api.crm.get("/visits/debt", params={"start": next_week}).json()
    job = run_plan(api, start=next_week, rep_ids=["R01", "R02"])
    assert missed in job["info"]["priority"]
    # a done visit afterwards settles the debt
    api.rep_a.post("/visits", json={"customer_id": missed, "outcome": "done", "visited_at": f"{day}T16:00:00"})
    assert missed not in api.crm.get("/visits/debt", params={"start": next_week}).json()
    assert wait_job(api.manager, job["job_id"])["plan_id"] == job["plan_id"]
