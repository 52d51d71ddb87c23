import datetime as dt

from icalendar import Calendar

from planner.export import export_plan


def events(path):
    cal = Calendar.from_ical(path.read_bytes())
    return [c for c in cal.walk() if c.name == "VEVENT"]


def test_one_calendar_per_rep(plan, region, tmp_path):
    files = export_plan(plan, region, "ics", tmp_path / "cal")
    assert files == [tmp_path / "cal" / "R1.ics", tmp_path / "cal" / "R2.ics"]


def test_visit_events(plan, region, tmp_path):
    export_plan(plan, region, "ics", tmp_path)
    evs = events(tmp_path / "R1.ics")
    assert len(evs) == 3  # two visits + lunch
    first = evs[0]
    assert str(first["summary"]) == '上海<华东>&"超市"'
    start, end = first.decoded("dtstart"), first.decoded("dtend")
    assert start == dt.datetime(2026, 11, 30, 9, 5) and start.tzinfo is None  # floating time
    assert end == dt.datetime(2026, 11, 30, 10, 5)
    assert str(first["location"]) == "上海市黄浦区南京东路1号"
    assert (first["geo"].latitude, first["geo"].longitude) == (31.2304, 121.4737)
    desc = str(first["description"])
    assert "Grade: A" in desc and "09:00-12:00,14:00-18:00" in desc
    second = evs[1]
    assert str(second["location"]) == "31.300000,121.550000"  # no address: lat,lon
    lunch = evs[2]
    assert "Lunch" in str(lunch["summary"])
    assert lunch.decoded("dtstart") == dt.datetime(2026, 11, 30, 12, 0)
    assert lunch.decoded("dtend") == dt.datetime(2026, 11, 30, 13, 0)
    r2 = events(tmp_path / "R2.ics")
    assert len(r2) == 1 and r2[0].decoded("dtstart") == dt.datetime(2026, 12, 1, 10, 0)


def test_uids_are_stable_and_unique(plan, region, tmp_path):
    export_plan(plan, region, "ics", tmp_path / "a")
    export_plan(plan, region, "ics", tmp_path / "b")
    a = [str(e["uid"]) for e in events(tmp_path / "a" / "R1.ics")]
    b = [str(e["uid"]) for e in events(tmp_path / "b" / "R1.ics")]
    assert a == b and len(set(a)) == 3
    assert a[0] == "P-test.R1.20261130.C1@field-visit-planner"
