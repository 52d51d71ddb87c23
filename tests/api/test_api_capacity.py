"""``GET /capacity`` on a real server: who may ask, the figures (the same as the domain check's,
with hand-checkable parts), what-ifs, stored absences, and bad input."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from planner.domain import Frequency
from tests.api.conftest import seed

START = "2026-11-30"


@pytest.fixture(scope="module")
def seeded(api):
    """The small region (30 fixture customers, reps R01 and R02) pushed over the API."""
    customers, reps = seed(api)
    return {"customers": customers, "reps": reps}


def _domain_report(api, start: dt.date, weeks: int, **kw) -> dict:
    """The domain check on what the server's database holds (no plans, so no last visits)."""
    from planner.db.repository import load_absences, load_region
    from planner.db.session import make_session_factory
    from planner.domain import VisitPolicy
    from planner.geo.travel import HaversineTravel
    from planner.scheduling.capacity import capacity_check

    engine = api.server.db.engine()
    with make_session_factory(engine)() as s:
        region = load_region(s, VisitPolicy())
        absences = load_absences(s)
    engine.dispose()
    report = capacity_check(region, start, weeks, travel=HaversineTravel(), absences=absences, **kw)
    return json.loads(json.dumps(report.to_dict()))


def test_roles(api, seeded):
    path = f"/capacity?start={START}&weeks=1"
    assert api.crm.get(path).status_code == 200
    assert api.manager.get(path).status_code == 200
    assert api.rep_a.get(path).status_code == 404          # like every manager-only thing
    assert api.anon.get(path).status_code == 401


def test_figures_are_the_domain_checks(api, seeded):
    r = api.manager.get("/capacity", params={"start": START, "weeks": 4})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data == _domain_report(api, dt.date(2026, 11, 30), 4)
    assert (data["start"], data["end"], data["weeks"], data["reps"]) == (START, "2026-12-27", 4, ["R01", "R02"])
    # 08:30-17:30 with a 60-minute lunch, Mon-Fri: 40 h a week
    assert [w["available_hours"] for w in data["rep_weeks"]] == [40.0] * 8
    # customers pinned to reps that are not stored (R03, R05) cannot be served; the inactive one is nowhere
    pinned_away = sorted(c["id"] for c in seeded["customers"]
                         if c.get("rep_id") in ("R03", "R05") and c.get("active", "true") == "true")
    assert pinned_away
    assert [(u["customer_id"], u["code"]) for u in data["unservable"]] == \
        [(cid, "pinned_rep_missing") for cid in pinned_away]
    assert data["fits"] is False
    inactive = {c["id"] for c in seeded["customers"] if c.get("active") == "false"}
    assert inactive and not inactive & {u["customer_id"] for u in data["unservable"]}
    served = sum(g["customers"] for g in data["grades"])
    assert served == len(seeded["customers"]) - len(inactive) - len(pinned_away)


def test_what_ifs(api, seeded):
    # 6 weeks: a fortnightly C customer needs 3 visits, at 1/3weeks 2: 30 minutes less each
    r = api.crm.get("/capacity", params=[("start", START), ("weeks", "6"), ("what_if_reps", "1"),
                                         ("what_if_frequency", "C=1/3weeks")])
    assert r.status_code == 200, r.text
    data = r.json()
    more, freq, both = data["what_ifs"]
    assert (more["kind"], freq["kind"], both["kind"]) == ("extra_reps", "frequency", "combined")
    assert more["added_reps"][0]["rep_id"] == "NEW1"
    assert more["after"]["available_hours"] == data["summary"]["available_hours"] + 6 * 40.0
    unservable = {u["customer_id"] for u in data["unservable"]}
    default_c = [c for c in seeded["customers"] if c["grade"] == "C" and not c.get("frequency")
                 and not c.get("visit_minutes") and c.get("active", "true") == "true" and c["id"] not in unservable]
    assert default_c
    assert freq["frequency_changes"] == [{"grade": "C", "before": "1/2weeks", "after": "1/3weeks"}]
    assert freq["before"]["visit_hours"] - freq["after"]["visit_hours"] == pytest.approx(0.5 * len(default_c))
    assert data == _domain_report(api, dt.date(2026, 11, 30), 6, extra_reps=1,
                                  frequency_overrides={"C": Frequency(1, 3)})


def test_stored_absences_are_deducted(api, seeded):
    from planner.db.repository import add_absence, delete_absence
    from planner.db.session import make_session_factory
    from planner.domain import Absence

    engine = api.server.db.engine()
    with make_session_factory(engine)() as s:
        aid = add_absence(s, Absence("R01", dt.date(2026, 12, 1), dt.date(2026, 12, 2), "training"))
        s.commit()
    try:
        data = api.manager.get("/capacity", params={"start": START, "weeks": 2}).json()
        r01 = [w for w in data["rep_weeks"] if w["rep_id"] == "R01"]
        assert [(w["available_hours"], w["absent_days"], w["days"]) for w in r01] == [(24.0, 2, 3), (40.0, 0, 5)]
    finally:
        with make_session_factory(engine)() as s:
            assert delete_absence(s, aid)
            s.commit()
        engine.dispose()


@pytest.mark.parametrize("params, field", [
    ({"start": "2026-13-01"}, "start"),
    ({"start": "9999-12-31"}, "start"),
    ({"start": START, "weeks": 0}, "weeks"),
    ({"start": START, "weeks": 27}, "weeks"),
    ({"start": START, "what_if_reps": -1}, "what_if_reps"),
    ({"start": START, "what_if_frequency": "C=sometimes"}, "what_if_frequency"),
    ({"start": START, "what_if_frequency": "Z=1/3weeks"}, "what_if_frequency"),
    ({}, "start"),
])
def test_bad_input_is_422_naming_the_field(api, seeded, params, field):
    r = api.manager.get("/capacity", params=params)
    assert r.status_code == 422, r.text
    assert any(e["loc"] == ["query", field] for e in r.json()["detail"]), r.text


def test_nothing_to_check_is_409(api, seeded):
    r = api.manager.get("/capacity", params={"start": START, "region": "nowhere"})
    assert r.status_code == 409 and "no active customers" in r.json()["detail"]
