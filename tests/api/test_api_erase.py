"""DELETE /customers/{id}: the customer is in no plan, export, map, visit record, job, cache, lock
or change report afterwards (the right to be removed)."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from tests.api.conftest import a_route, wait_job


def _texts(resp) -> list[str]:
    """The text of a response, or of every file in it when it is a zip or an xlsx."""
    if resp.content[:2] == b"PK":
        z = zipfile.ZipFile(io.BytesIO(resp.content))
        return [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
    return [resp.content.decode("utf-8-sig", "replace")]


def test_an_erased_customer_is_gone_everywhere(api, planned):
    pid, plan = planned["plan_id"], planned["plan"]
    route = a_route(plan, "R01")
    victim = route["stops"][0]["customer_id"]
    row = next(c for c in planned["customers"] if c["id"] == victim)
    name, address = row["name"], row["address"]
    pattern = re.compile(rf"(?<![0-9A-Za-z]){re.escape(victim)}(?![0-9A-Za-z])")

    # re-planning traces: a lock on the customer, and a re-plan (its rep away on the customer's
    # day) whose change report moves the visit and which copies the lock
    for c in planned["customers"]:  # the re-plan engine needs the reps of pins to be stored
        if c.get("rep_id") and c["rep_id"] not in ("R01", "R02"):
            assert api.crm.patch(f"/customers/{c['id']}", json={"rep_id": None}).status_code == 200
    weekdays = [d for d in (dt.date.fromisoformat(plan["start"]) + dt.timedelta(days=k) for k in range(5))
                if d.isoformat() != route["date"]]
    lock_day = next((d for d in weekdays if d.isoformat() > route["date"]), weekdays[0]).isoformat()
    r = api.manager.post(f"/plans/{pid}/locks", json={"customer_id": victim, "date": lock_day})
    assert r.status_code == 201, r.text
    assert api.manager.post("/reps/R01/absences", json={"start": route["date"]}).status_code == 201
    r = api.manager.post(f"/plans/{pid}/replan", json={"from": route["date"], "time_limit": 2})
    assert r.status_code == 202, r.text
    job = wait_job(api.manager, r.json()["job_id"])
    assert job["status"] == "done", job["error"]
    replanned = job["plan_id"]
    assert victim in {c["customer_id"] for c in api.manager.get(f"/plans/{replanned}/changes").json()}
    assert victim in {x["customer_id"] for x in api.manager.get(f"/plans/{replanned}/locks").json()}
    assert api.manager.get(f"/plans/{replanned}/explain", params={"customer_id": victim}).status_code == 200

    # traces: a visit record, rendered (cached) maps, a geocoding-cache entry, a debt in a job
    assert api.rep_a.post("/visits", json={"customer_id": victim, "outcome": "absent",
                                           "visited_at": f"{route['date']}T10:00:00"}).status_code == 201
    assert victim in api.manager.get(f"/plans/{pid}/map").text
    day = api.rep_a.get(f"/plans/{pid}/reps/R01/days/{route['date']}").text
    assert victim in day and name in day
    from planner.geo.geocode import GeocodeCache, normalize_address
    from planner.domain import Location
    cache = GeocodeCache(api.server.tmp / "geocode.sqlite")
    cache.store(normalize_address(address), Location(float(row["lat"]), float(row["lon"])), address)
    cache.close()

    r = api.crm.delete(f"/customers/{victim}")
    assert r.status_code == 200, r.text
    erased = r.json()["erased"]
    assert erased["customers"] == 1 and erased["plan_stops"] >= 1 and erased["visits"] >= 1
    assert erased["map_cache"] >= 2 and erased["geocode_cache"] == 1
    assert erased["plan_locks"] == 2  # the lock and its copy on the re-plan

    assert api.crm.get(f"/customers/{victim}").status_code == 404
    assert api.crm.delete(f"/customers/{victim}").status_code == 404
    assert victim not in {c["id"] for c in api.crm.get("/customers", params={"limit": 1000}).json()["items"]}
    assert api.crm.get("/visits", params={"customer_id": victim}).json()["total"] == 0
    for p in api.manager.get("/plans").json():
        assert not pattern.search(api.manager.get(f"/plans/{p['plan_id']}").text)
        assert not pattern.search(api.manager.get(f"/plans/{p['plan_id']}/routes").text)
        for fmt in ("json", "csv", "xlsx", "ics", "geojson"):
            for text in _texts(api.manager.get(f"/plans/{p['plan_id']}/export", params={"format": fmt})):
                assert not pattern.search(text), fmt
        region_map = api.manager.get(f"/plans/{p['plan_id']}/map").text
        assert not pattern.search(region_map) and name not in region_map
        for part in ("changes", "locks", "explain"):
            r = api.manager.get(f"/plans/{p['plan_id']}/{part}")
            assert r.status_code == 200 and not pattern.search(r.text), part
        assert api.manager.get(f"/plans/{p['plan_id']}/explain", params={"customer_id": victim}).status_code == 404
    assert api.manager.get(f"/plans/{replanned}/changes").json() is not None  # the report, without the customer
    day = api.rep_a.get(f"/plans/{pid}/reps/R01/days/{route['date']}")
    if day.status_code == 200:  # the day may have had only this stop
        assert not pattern.search(day.text) and name not in day.text
    for job in api.manager.get("/jobs").json():
        assert not pattern.search(str(job))
    cache = GeocodeCache(api.server.tmp / "geocode.sqlite")
    assert cache.lookup(normalize_address(address)) == (False, None)
    cache.close()
    # the rest of the plan is intact
    after = api.manager.get(f"/plans/{pid}").json()
    before_stops = sum(len(r["stops"]) for r in plan["routes"])
    victim_stops = sum(s["customer_id"] == victim for r in plan["routes"] for s in r["stops"])
    assert sum(len(r["stops"]) for r in after["routes"]) == before_stops - victim_stops
