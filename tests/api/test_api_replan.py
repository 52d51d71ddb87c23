"""Re-planning over HTTP on a real server: absences and locks, ``POST /plans/{id}/replan`` (a
background job), the new plan (lock kept, nobody on an absent day, days before ``from`` as they
were), the change report, explanations, what each role may do, and bad requests."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from tests.api.conftest import PLAN_START, wait_job

MONDAY = dt.date.fromisoformat(PLAN_START)
TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY = (MONDAY + dt.timedelta(days=k) for k in range(1, 6))
FROM = TUESDAY
ABSENT = {THURSDAY.isoformat(), FRIDAY.isoformat()}  # R02 is away


def _visits(plan: dict) -> dict[str, list[tuple[str, str, str]]]:
    """customer -> [(date, rep, start)] of a plan JSON."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for r in plan["routes"]:
        for s in r["stops"]:
            out.setdefault(s["customer_id"], []).append((r["date"], r["rep_id"], s["start"]))
    return out


def _day(plan: dict, before: dt.date) -> list[tuple]:
    """The routes before ``before``: rep, date, times and every stop with its times."""
    return sorted((r["rep_id"], r["date"], r.get("depart"), r.get("back"),
                   tuple((s["customer_id"], s["arrival"], s["start"], s["end"]) for s in r["stops"]))
                  for r in plan["routes"] if r["date"] < before.isoformat() and r["stops"])


def _locked_customer(planned: dict) -> tuple[str, str]:
    """An unpinned R01 customer without opening hours, with one visit in the plan on or after
    ``FROM``, and a weekday from ``FROM`` on to lock it to (not its current day, not Monday)."""
    rows = {c["id"]: c for c in planned["customers"]}
    visits = _visits(planned["plan"])
    for cid, vs in sorted(visits.items()):
        row = rows[cid]
        if len(vs) == 1 and vs[0][1] == "R01" and vs[0][0] >= FROM.isoformat() and not row.get("open") \
                and not row.get("rep_id"):
            day = WEDNESDAY if vs[0][0] != WEDNESDAY.isoformat() else THURSDAY
            return cid, day.isoformat()
    raise AssertionError(f"no R01 customer to lock in {visits}")


def unpin_missing_reps(api, planned: dict) -> list[str]:
    """Clear the pins of the customers pinned to reps that are not stored (R03, R05): the
    re-plan engine does not yet leave them unplanned (see the xfail test at the end)."""
    ids = [c["id"] for c in planned["customers"] if c.get("rep_id") and c["rep_id"] not in ("R01", "R02")]
    for cid in ids:
        assert api.crm.patch(f"/customers/{cid}", json={"rep_id": None}).status_code == 200
    return ids


@pytest.fixture(scope="module")
def replanned(api, planned) -> dict[str, Any]:
    """R02 away on Thursday and Friday, an R01 customer locked to 10:00 on another day, and the
    plan re-planned from Tuesday over the API (a done job)."""
    old_id, old = planned["plan_id"], planned["plan"]
    unpin_missing_reps(api, planned)
    r = api.manager.post("/reps/R02/absences", json={"start": THURSDAY.isoformat(), "end": FRIDAY.isoformat(),
                                                     "reason": "ill"})
    assert r.status_code == 201, r.text
    absence = r.json()
    locked, lock_day = _locked_customer(planned)
    r = api.manager.post(f"/plans/{old_id}/locks", json={"customer_id": locked, "date": lock_day, "rep_id": "R01",
                                                         "at": "10:00"})
    assert r.status_code == 201, r.text
    lock = r.json()
    missed = next(s["customer_id"] for r in old["routes"] if r["rep_id"] == "R01" and r["date"] == PLAN_START
                  for s in r["stops"] if s["customer_id"] != locked)
    r = api.rep_a.post("/visits", json={"customer_id": missed, "outcome": "absent",
                                        "visited_at": f"{PLAN_START}T10:00:00"})
    assert r.status_code == 201, r.text
    r = api.manager.post(f"/plans/{old_id}/replan", json={"from": FROM.isoformat(), "time_limit": 3, "seed": 2})
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    job = wait_job(api.manager, r.json()["job_id"])
    assert job["status"] == "done", job["error"]
    new = api.manager.get(f"/plans/{job['plan_id']}").json()
    return {"customers": planned["customers"], "old_id": old_id, "old": old, "job": job, "new_id": job["plan_id"],
            "new": new, "absence": absence, "lock": lock, "locked": locked, "lock_day": lock_day, "missed": missed}


# ----------------------------------------------------------------------------------------------
# The re-plan
# ----------------------------------------------------------------------------------------------
def test_absence_and_lock_are_stored(api, replanned):
    old = replanned["old"]
    a = replanned["absence"]
    r02_absent = sum(len(r["stops"]) for r in old["routes"] if r["rep_id"] == "R02" and r["date"] in ABSENT)
    assert (a["rep_id"], a["start"], a["end"], a["reason"], a["days"]) == ("R02", THURSDAY.isoformat(),
                                                                           FRIDAY.isoformat(), "ill", 2)
    assert (a["latest_plan_id"], a["visits_to_move"]) == (replanned["old_id"], r02_absent)
    assert r02_absent > 0, "R02 has no visits on the absent days: the test would prove nothing"
    lk = replanned["lock"]
    assert (lk["plan_id"], lk["customer_id"], lk["date"], lk["rep_id"], lk["at"], lk["window"]) == \
        (replanned["old_id"], replanned["locked"], replanned["lock_day"], "R01", "10:00", None)
    assert api.manager.get("/reps/R02/absences").json() == [{k: a[k] for k in
                                                             ("id", "rep_id", "start", "end", "reason", "days")}]
    assert [x["id"] for x in api.crm.get(f"/plans/{replanned['old_id']}/locks").json()] == [lk["id"]]


def test_the_job_is_a_replan_with_stability_figures(api, replanned):
    job = replanned["job"]
    assert job["kind"] == "replan" and job["progress"] == 1.0 and job["error"] is None
    assert job["params"]["plan_id"] == replanned["old_id"] and job["params"]["from"] == FROM.isoformat()
    info = job["info"]
    assert info["parent_id"] == replanned["old_id"] and info["from"] == FROM.isoformat()
    assert 0.0 <= info["kept_share"] <= 1.0 and info["kept_visits"] <= info["unchanged_visits"]
    displaced_r02 = {cid for cid, vs in _visits(replanned["old"]).items()
                     if any(rep == "R02" and d in ABSENT for d, rep, _ in vs)}
    assert info["displaced"] >= len(displaced_r02) + 1  # + the locked customer
    assert info["locks"] == 1 and info["violations"] == 0 and info["reps"] == ["R01", "R02"]
    assert info["missed_visits"] == 1
    assert replanned["new_id"] != replanned["old_id"]
    assert api.manager.get("/plans/latest").json()["plan_id"] == replanned["new_id"]
    assert api.manager.get(f"/plans/{replanned['old_id']}").json() == replanned["old"]  # unchanged


def test_lock_kept_nobody_on_absent_days_and_the_past_unchanged(replanned):
    new, old = replanned["new"], replanned["old"]
    mine = _visits(new)[replanned["locked"]]
    at = f"{replanned['lock_day']}T10:00:00"
    assert (replanned["lock_day"], "R01", at) in mine, mine
    assert not [r for r in new["routes"] if r["rep_id"] == "R02" and r["date"] in ABSENT and r["stops"]]
    assert _day(new, FROM) == _day(old, FROM) and _day(old, FROM)
    assert (new["start"], new["end"], new["weeks"]) == (old["start"], old["end"], old["weeks"])


def test_the_change_report_lists_every_change_with_its_cause(api, replanned):
    changes = api.manager.get(f"/plans/{replanned['new_id']}/changes")
    assert changes.status_code == 200
    changes = changes.json()
    assert changes and all(c["kind"] in ("added", "removed", "moved", "retimed") and c["cause"] and
                           (c["old_date"] or c["new_date"]) >= FROM.isoformat() for c in changes)
    # every visit R02 had on its absent days went, because of the absence
    for cid, vs in _visits(replanned["old"]).items():
        for d, rep, _ in vs:
            if rep == "R02" and d in ABSENT:
                assert any(c["customer_id"] == cid and c["old_date"] == d and c["old_rep"] == "R02"
                           and c["kind"] in ("removed", "moved") and c["cause"] == "rep_absent" for c in changes), cid
    # the visit recorded as missed on Monday is owed: seen again from Tuesday on (or said why not)
    owed = [c for c in changes if c["customer_id"] == replanned["missed"]]
    assert {c["cause"] for c in owed} <= {"missed_visit"}
    assert any(c["kind"] in ("added", "moved") for c in owed) or any(
        u["customer_id"] == replanned["missed"] for u in replanned["new"]["unassigned"])
    locked = [c for c in changes if c["customer_id"] == replanned["locked"]]
    assert [(c["cause"], c["new_date"], c["new_rep"], c["new_start"]) for c in locked if c["new_date"]] == \
        [("lock", replanned["lock_day"], "R01", f"{replanned['lock_day']}T10:00:00")]
    # the new plan's visits are the old ones with the changes applied
    old, new = _visits(replanned["old"]), _visits(replanned["new"])
    for cid in set(old) | set(new):
        o = {(d, rep) for d, rep, _ in old.get(cid, []) if d >= FROM.isoformat()}
        n = {(d, rep) for d, rep, _ in new.get(cid, []) if d >= FROM.isoformat()}
        mine = [c for c in changes if c["customer_id"] == cid and c["kind"] != "retimed"]
        assert (o - {(c["old_date"], c["old_rep"]) for c in mine if c["old_date"]}) | \
            {(c["new_date"], c["new_rep"]) for c in mine if c["new_date"]} == n, cid
    # a plan made from scratch has no change report; the lock went with the re-plan
    assert api.manager.get(f"/plans/{replanned['old_id']}/changes").json() is None
    copied = api.manager.get(f"/plans/{replanned['new_id']}/locks").json()
    assert [(x["customer_id"], x["date"], x["rep_id"], x["at"]) for x in copied] == \
        [(replanned["locked"], replanned["lock_day"], "R01", "10:00")]
    assert copied[0]["plan_id"] == replanned["new_id"]


def test_explanations(api, replanned):
    pid, new = replanned["new_id"], replanned["new"]
    r = api.manager.get(f"/plans/{pid}/explain")
    assert r.status_code == 200, r.text
    exp = r.json()
    assert (exp["plan_id"], exp["parent_id"], exp["frozen_before"]) == (pid, replanned["old_id"], FROM.isoformat())
    assert sum(exp["unplanned_by_code"].values()) == len(exp["unplanned"]) == len(new["unassigned"])
    assert Counter(u["code"] for u in new["unassigned"]) == Counter(exp["unplanned_by_code"])
    for rep in exp["reps"]:
        routes = [x for x in new["routes"] if x["rep_id"] == rep["rep_id"]]
        assert rep["visits"] == sum(len(x["stops"]) for x in routes) and rep["days"] == len(routes)
    assert [x["rep_id"] for x in exp["reps"]] == ["R01", "R02"]

    cid = replanned["locked"]
    r = api.manager.get(f"/plans/{pid}/explain", params={"customer_id": cid})
    assert r.status_code == 200, r.text
    c = r.json()
    assert (c["customer_id"], c["status"], c["rep_id"], c["grade"]) == \
        (cid, "planned", "R01", api.crm.get(f"/customers/{cid}").json()["grade"])
    assert replanned["lock_day"] in c["dates"] and c["why_rep"] and c["why_days"]
    assert any(a["current"] for a in c["alternatives"])
    assert [x["cause"] for x in c["changes"]] and {x["cause"] for x in c["changes"]} == {"lock"}
    assert api.manager.get(f"/plans/{pid}/explain", params={"customer_id": "NOPE"}).status_code == 404
    # an unplanned visit explains itself too
    if new["unassigned"]:
        u = new["unassigned"][0]
        r = api.crm.get(f"/plans/{pid}/explain", params={"customer_id": u["customer_id"]}).json()
        assert r["status"] in ("unplanned", "partly_planned") and r["unplanned"]


# ----------------------------------------------------------------------------------------------
# Roles
# ----------------------------------------------------------------------------------------------
def test_no_key_is_401(api, replanned):
    pid = replanned["new_id"]
    for method, path in [("POST", f"/plans/{pid}/replan"), ("GET", f"/plans/{pid}/changes"),
                         ("GET", f"/plans/{pid}/explain"), ("GET", f"/plans/{pid}/locks"),
                         ("POST", f"/plans/{pid}/locks"), ("DELETE", f"/plans/{pid}/locks/1"),
                         ("GET", "/reps/R01/absences"), ("POST", "/reps/R01/absences"),
                         ("DELETE", "/reps/R01/absences/1")]:
        assert api.anon.request(method, path, json={}).status_code == 401, (method, path)


def test_a_rep_sees_only_its_own(api, replanned):
    pid, a, b = replanned["new_id"], api.rep_a, api.rep_b
    absence = replanned["absence"]
    # absences: its own only
    assert a.get("/reps/R01/absences").json() == []
    assert [x["id"] for x in b.get("/reps/R02/absences").json()] == [absence["id"]]
    unknown = a.get("/reps/NOPE/absences")
    assert unknown.status_code == 404
    r = a.get("/reps/R02/absences")
    assert r.status_code == 404 and r.json().keys() == unknown.json().keys()
    # locks: those it makes
    assert [x["customer_id"] for x in a.get(f"/plans/{pid}/locks").json()] == [replanned["locked"]]
    assert b.get(f"/plans/{pid}/locks").json() == []
    # changes: of its own visits
    all_changes = api.crm.get(f"/plans/{pid}/changes").json()
    for client, rep in ((a, "R01"), (b, "R02")):
        seen = client.get(f"/plans/{pid}/changes").json()
        assert seen == [c for c in all_changes if rep in (c["old_rep"], c["new_rep"])]
    assert any(c["cause"] == "rep_absent" for c in b.get(f"/plans/{pid}/changes").json())
    # explanations: its own figures and customers
    exp = a.get(f"/plans/{pid}/explain").json()
    assert [x["rep_id"] for x in exp["reps"]] == ["R01"]
    assert [(u["customer_id"], u["date"], u["code"]) for u in exp["unplanned"]] == \
        [(u["customer_id"], u["date"], u["code"]) for u in a.get(f"/plans/{pid}").json()["unassigned"]]
    mine = {s["customer_id"] for r in replanned["new"]["routes"] if r["rep_id"] == "R01" for s in r["stops"]}
    c = a.get(f"/plans/{pid}/explain", params={"customer_id": replanned["locked"]})
    assert c.status_code == 200 and {x["rep_id"] for x in c.json()["alternatives"]} <= {"R01", None}
    theirs = sorted({s["customer_id"] for r in replanned["new"]["routes"] if r["rep_id"] == "R02" for s in r["stops"]}
                    - mine)
    assert a.get(f"/plans/{pid}/explain", params={"customer_id": theirs[0]}).status_code == 404
    # writing is for crm and manager: 404 for a rep key, as for an unknown id
    lock_id = api.manager.get(f"/plans/{pid}/locks").json()[0]["id"]
    for method, path, body in [("POST", f"/plans/{pid}/replan", {"from": FROM.isoformat()}),
                               ("POST", f"/plans/{pid}/locks", {"customer_id": replanned["locked"],
                                                                "date": FROM.isoformat()}),
                               ("DELETE", f"/plans/{pid}/locks/{lock_id}", None),
                               ("POST", "/reps/R01/absences", {"start": FROM.isoformat()}),
                               ("DELETE", f"/reps/R02/absences/{absence['id']}", None),
                               ("DELETE", f"/reps/R01/absences/{absence['id']}", None)]:
        r = a.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.text)
    # still there
    assert [x["id"] for x in api.manager.get(f"/plans/{pid}/locks").json()] == [lock_id]
    assert [x["id"] for x in api.manager.get("/reps/R02/absences").json()] == [absence["id"]]
    # a manager may not erase customers (crm only)
    assert api.manager.delete(f"/customers/{replanned['locked']}").status_code == 403


def test_locks_and_absences_are_added_and_removed(api, replanned):
    old_id = replanned["old_id"]
    r = api.crm.post(f"/plans/{old_id}/locks", json={"customer_id": replanned["locked"], "date": FRIDAY.isoformat(),
                                                     "window": "09:30-11:00"})
    assert r.status_code == 201, r.text
    lk = r.json()
    assert (lk["at"], lk["window"], lk["rep_id"]) == (None, "09:30-11:00", None)
    assert "starting 09:30-11:00" in lk["description"]
    assert len(api.crm.get(f"/plans/{old_id}/locks").json()) == 2
    assert api.manager.delete(f"/plans/{old_id}/locks/{lk['id']}").json() == {"id": str(lk["id"]),
                                                                             "erased": {"plan_locks": 1}}
    assert api.manager.delete(f"/plans/{old_id}/locks/{lk['id']}").status_code == 404
    assert api.manager.delete(f"/plans/{replanned['new_id']}/locks/{replanned['lock']['id']}").status_code == 404
    assert len(api.crm.get(f"/plans/{old_id}/locks").json()) == 1

    r = api.crm.post("/reps/R01/absences", json={"start": SATURDAY.isoformat()})
    assert r.status_code == 201, r.text
    one = r.json()
    assert (one["start"], one["end"], one["days"], one["reason"], one["visits_to_move"]) == \
        (SATURDAY.isoformat(), SATURDAY.isoformat(), 1, None, 0)
    assert api.manager.delete(f"/reps/R02/absences/{one['id']}").status_code == 404  # not R02's
    assert api.manager.delete(f"/reps/R01/absences/{one['id']}").status_code == 200
    assert api.manager.get("/reps/R01/absences").json() == []


# ----------------------------------------------------------------------------------------------
# Bad requests
# ----------------------------------------------------------------------------------------------
def _field(r) -> str:
    assert r.status_code == 422, r.text
    return r.json()["detail"][0]["loc"][-1]


def test_bad_replans(api, replanned):
    pid, m = replanned["old_id"], api.manager
    before = {j["job_id"] for j in m.get("/jobs").json()}
    after_end = (MONDAY + dt.timedelta(days=7)).isoformat()
    for body, field in [({"from": (MONDAY - dt.timedelta(days=1)).isoformat()}, "from"), ({"from": after_end}, "from"),
                        ({}, "from"), ({"from": "2026-02-30"}, "from"), ({"from": FROM.isoformat(), "time_limit": 0},
                                                                          "time_limit"),
                        ({"from": FROM.isoformat(), "bogus": 1}, "bogus"),
                        ({"from": FROM.isoformat(), "change_cost": -1}, "change_cost")]:
        assert _field(m.post(f"/plans/{pid}/replan", json=body)) == field, body
    r = m.post(f"/plans/{pid}/replan", json={"from": after_end})
    assert "outside the plan's horizon" in r.json()["detail"][0]["msg"]
    assert m.post("/plans/NOPE/replan", json={"from": FROM.isoformat()}).status_code == 404
    assert m.get("/plans/NOPE/changes").status_code == 404
    assert m.get("/plans/NOPE/explain").status_code == 404
    assert m.get("/plans/NOPE/locks").status_code == 404
    assert {j["job_id"] for j in m.get("/jobs").json()} == before  # nothing queued


def test_bad_locks(api, replanned):
    pid, m = replanned["old_id"], api.manager
    customers = {c["id"]: c for c in api.crm.get("/customers", params={"limit": 1000}).json()["items"]}
    pinned_r02 = next(cid for cid, c in sorted(customers.items()) if c["rep_id"] == "R02")
    inactive = next(cid for cid, c in sorted(customers.items()) if not c["active"])
    cid = replanned["locked"]
    cases = [
        ({"customer_id": "NOPE", "date": FROM.isoformat()}, "customer_id", "no customer 'NOPE'"),
        ({"customer_id": inactive, "date": FROM.isoformat()}, "customer_id", "inactive"),
        ({"customer_id": cid, "date": (MONDAY + dt.timedelta(days=8)).isoformat()}, "date",
         "outside the plan's horizon"),
        ({"customer_id": cid, "date": SATURDAY.isoformat()}, "date", "does not work on Saturday"),
        ({"customer_id": cid, "date": THURSDAY.isoformat(), "rep_id": "R02"}, "date", "R02 is away"),
        ({"customer_id": pinned_r02, "date": FROM.isoformat(), "rep_id": "R01"}, "rep_id",
         "pinned to rep R02, not R01"),
        ({"customer_id": cid, "date": FROM.isoformat(), "rep_id": "R99"}, "rep_id", "no rep 'R99'"),
        ({"customer_id": cid, "date": FROM.isoformat(), "at": "10:00", "window": "10:00-11:00"}, "window", "not both"),
        ({"customer_id": cid, "date": FROM.isoformat(), "at": "20:00"}, "at", "working hours"),
        ({"customer_id": cid, "date": FROM.isoformat(), "at": "25:00"}, "at", "bad time"),
        ({"customer_id": cid, "date": FROM.isoformat(), "window": "11:00-10:00"}, "window", "invalid window"),
        ({"customer_id": cid, "date": FROM.isoformat(), "window": "10"}, "window", "pattern"),
        ({"customer_id": cid}, "date", "Field required"),
    ]
    for body, field, text in cases:
        r = m.post(f"/plans/{pid}/locks", json=body)
        assert _field(r) == field, (body, r.text)
        assert text in r.json()["detail"][0]["msg"], (body, r.text)
    assert len(m.get(f"/plans/{pid}/locks").json()) == 1  # nothing stored
    assert m.post("/plans/NOPE/locks", json={"customer_id": cid, "date": FROM.isoformat()}).status_code == 404


def test_bad_absences(api, replanned):
    m = api.manager
    r = m.post("/reps/R01/absences", json={"start": FRIDAY.isoformat(), "end": THURSDAY.isoformat()})
    assert _field(r) == "end" and "before it starts" in r.json()["detail"][0]["msg"]
    r = m.post("/reps/R01/absences", json={"start": "2026-01-01", "end": "2027-06-01"})
    assert _field(r) == "end" and "366 days" in r.json()["detail"][0]["msg"]
    assert _field(m.post("/reps/R01/absences", json={"end": "2026-01-01"})) == "start"
    assert _field(m.post("/reps/R01/absences", json={"start": "2026-01-01", "bogus": 1})) == "bogus"
    assert m.post("/reps/NOPE/absences", json={"start": "2026-01-01"}).status_code == 404
    assert m.get("/reps/NOPE/absences").status_code == 404
    assert m.delete("/reps/R01/absences/999999").status_code == 404
    assert m.get("/reps/R01/absences").json() == []


def test_a_customer_pinned_to_a_rep_outside_the_plan_stays_unplanned(api, replanned):
    cid = next(c["id"] for c in replanned["customers"] if c.get("rep_id") == "R05")
    assert api.crm.patch(f"/customers/{cid}", json={"rep_id": "R05"}).status_code == 200
    r = api.manager.post(f"/plans/{replanned['new_id']}/replan", json={"from": FROM.isoformat(), "time_limit": 2})
    job = wait_job(api.manager, r.json()["job_id"])
    assert job["status"] == "done", job["error"]
    plan = api.manager.get(f"/plans/{job['plan_id']}").json()
    assert cid not in _visits(plan)
    assert {u["code"] for u in plan["unassigned"] if u["customer_id"] == cid} == {"pinned_rep_missing"}


def test_a_new_plan_job_works_around_stored_absences(api, replanned):
    # R02's absence (Thursday, Friday) is stored by the re-plan fixture: a plan made now avoids it
    from tests.api.conftest import run_plan
    job = run_plan(api)
    plan = api.manager.get(f"/plans/{job['plan_id']}").json()
    assert plan["routes"]
    assert not [r for r in plan["routes"] if r["rep_id"] == "R02" and r["date"] in ABSENT and r["stops"]]
