"""Territory design (``planner territories``): balance on routed workloads, compactness, pins,
stability after small changes, the stored owners, the CLI and the map."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.domain import Customer, Location, Region, Rep
from planner.geo.travel import HaversineTravel, great_circle_km
from planner.io.territory_state import (TerritoryRecord, TerritoryRecordError, load_record, record_path,
                                        release_planner_owners, save_record)
from planner.scheduling.eligibility import eligibility
from planner.scheduling.instance import build_instance
from planner.scheduling.territory import assign_territories, capacity_seconds
from planner.scheduling.territory_design import deviations, design_territories, routed_load
from planner.synthetic import generate_region

MON = dt.date(2026, 11, 30)
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "hangzhou"
HAVERSINE = HaversineTravel()


def cust(cid: str, lon: float, lat: float = 30.0, **kw) -> Customer:
    return Customer(id=cid, name=cid, location=Location(lat, lon), grade="B", **kw)


# R1 at lon 120.00 and R2 at lon 120.10 on the parallel 30° N; six B customers (1 visit a week,
# 45 min) in between, five of them in R1's half
REPS = (Rep("R1", "R1", Location(30.0, 120.0)), Rep("R2", "R2", Location(30.0, 120.1)))
LINE = (120.01, 120.02, 120.03, 120.04, 120.05, 120.09)


def line_region(pin_first_to: str | None = None) -> Region:
    return Region(tuple(cust(f"C{i + 1}", x, rep_id=pin_first_to if i == 0 else None) for i, x in enumerate(LINE)),
                  REPS)


def drive_hours(lon_a: float, lon_b: float) -> float:
    """Hours from lon_a to lon_b on the parallel 30° N: great circle × 1.3 at 30 km/h."""
    km = great_circle_km(np.array([30.0, 30.0]), np.array([lon_a, lon_b]))[0, 1]
    return km * 1.3 / 30.0


# ----------------------------------------------------------------------------------------------
# Hand-computed line cases
# ----------------------------------------------------------------------------------------------
def test_two_reps_at_the_ends_of_a_line_split_it_in_the_middle_of_the_work():
    # balanced on visits: 3 each. Territories are cells of a power diagram, so on a line each is
    # an interval; R1's home is at the west end: C1-C3 with R1, C4-C6 with R2 (the boundary
    # moves from the midpoint 120.05 to between C3 and C4).
    d = design_territories(line_region(), MON, 1, travel=HAVERSINE, balance="visits")
    assert dict(d.assignment) == {"C1": "R1", "C2": "R1", "C3": "R1", "C4": "R2", "C5": "R2", "C6": "R2"}
    r1, r2 = d.reps
    assert (r1.customers, r2.customers) == (3, 3)
    assert (r1.visits_per_week, r2.visits_per_week) == (3.0, 3.0)
    assert d.max_deviation == 0.0
    # one customer a day (choose_patterns spreads them): each day home -> customer -> home
    assert r1.travel_hours_per_week == pytest.approx(2 * sum(drive_hours(120.0, x) for x in LINE[:3]), abs=0.005)
    assert r2.travel_hours_per_week == pytest.approx(2 * sum(drive_hours(x, 120.1) for x in LINE[3:]), abs=0.005)
    assert r1.visit_hours_per_week == pytest.approx(3 * 0.75)
    # centres: the medoids, C2 and C5
    assert (r1.centre_id, r2.centre_id) == ("C2", "C5")
    assert r1.to_centre_minutes == pytest.approx(2 / 3 * drive_hours(120.01, 120.02) * 60, abs=0.02)


def test_hours_balance_keeps_the_split_that_is_closest_in_routed_hours():
    # on hours, R2 drives more for its three (C6 sits far east): 0.75 h x 3 + 1.00 h against
    # 0.75 h x 3 + 0.50 h. Giving R1 a fourth customer would be worse (3.0 h + 0.55 h against
    # 1.5 h + 1.0 h), so the split stays and the deviation is the hand-computed one.
    d = design_territories(line_region(), MON, 1, travel=HAVERSINE, balance="hours")
    assert dict(d.assignment) == {"C1": "R1", "C2": "R1", "C3": "R1", "C4": "R2", "C5": "R2", "C6": "R2"}
    w1 = 2.25 + 2 * sum(drive_hours(120.0, x) for x in LINE[:3])
    w2 = 2.25 + 2 * sum(drive_hours(x, 120.1) for x in LINE[3:])
    assert d.reps[0].hours_per_week == pytest.approx(w1, abs=0.005)
    assert d.max_deviation == pytest.approx(w2 / ((w1 + w2) / 2) - 1, abs=0.003)


def test_a_pin_is_kept_and_the_rest_rebalances_around_it():
    # C1 sits next to R1's home but the CRM pinned it to R2: R2 needs two more, the two
    # easternmost free customers (C5, C6); R1 takes C2-C4
    d = design_territories(line_region(pin_first_to="R2"), MON, 1, travel=HAVERSINE, balance="visits")
    assert dict(d.assignment) == {"C1": "R2", "C2": "R1", "C3": "R1", "C4": "R1", "C5": "R2", "C6": "R2"}
    assert d.pinned == frozenset({"C1"})
    assert d.max_deviation == 0.0
    # a pin is never counted as a change, even when a previous owner is given for it
    again = design_territories(line_region(pin_first_to="R2"), MON, 1, travel=HAVERSINE, balance="visits",
                               previous={"C1": "R1", "C2": "R1"})
    assert again.assignment["C1"] == "R2" and (again.compared, again.kept) == (1, 1)


def test_assign_territories_for_the_engine_splits_the_line_the_same_way():
    region = line_region()
    customers = list(region.customers)
    locs = [c.location for c in customers] + [x for r in REPS for x in (r.start, r.end_location)]
    m = HAVERSINE.get_matrix(locs)
    inst = build_instance(region, MON, 1, m.distance_km, m.duration_s, customers, list(REPS))
    eligible, _options, _why = eligibility(inst)
    t = assign_territories(inst, eligible, np.ones(inst.n), weight=np.ones(inst.n), slack=1.03)
    assert t.rep_of.tolist() == [0, 0, 0, 1, 1, 1]
    assert t.load.tolist() == [3.0, 3.0] and t.target_load.tolist() == [3.0, 3.0]


# ----------------------------------------------------------------------------------------------
# A generated region: 200 customers, 6 reps
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def region200() -> Region:
    return generate_region(200, 6, seed=1)


@pytest.fixture(scope="module")
def design200(region200):
    return design_territories(region200, MON, 4, travel=HAVERSINE)


def test_balance_within_10_percent_by_the_routed_estimate(region200, design200):
    d = design200
    active = [c for c in region200.customers if c.active]
    assert len(d.assignment) == len(active) and not d.unservable
    # every pin kept
    pins = {c.id: c.rep_id for c in active if c.rep_id}
    assert pins and all(d.assignment[k] == v for k, v in pins.items()) and d.pinned == frozenset(pins)
    # re-measure independently: routed estimate of the returned split
    customers = sorted(active, key=lambda c: c.id)
    reps = list(region200.reps)
    locs = [c.location for c in customers] + [x for r in reps for x in (r.start, r.end_location)]
    m = HAVERSINE.get_matrix(locs)
    inst = build_instance(region200, MON, 4, m.distance_km, m.duration_s, customers, reps)
    _eligible, options, _why = eligibility(inst)
    index = {r.id: i for i, r in enumerate(reps)}
    rep_of = np.array([index[d.assignment[c.id]] for c in customers])
    est = routed_load(inst, rep_of, options)
    dev = deviations(est.work_s, capacity_seconds(inst))
    assert np.abs(dev).max() == pytest.approx(d.max_deviation)
    assert d.max_deviation <= 0.05                      # the design aims at ±3%; ±10% is the requirement
    assert [round(r.deviation, 9) for r in d.reps] == [round(x, 9) for x in dev]
    assert sum(r.hours_per_week for r in d.reps) == pytest.approx(est.work_s.sum() / 3600 / 4)


def test_territories_are_compact(design200):
    d = design200
    # at most 2% of the customers sit among other reps' customers (2 of 194 here: a pin and a
    # customer moved for balance), and the hulls hold at most 3% of other reps' customers (4)
    assert d.enclaves <= 0.02 * len(d.assignment)
    assert d.inside_other <= 0.03 * len(d.assignment)
    for r in d.reps:
        assert 0 < r.to_centre_minutes < 15


def perturb(region: Region, share: float = 0.02, seed: int = 7) -> Region:
    """``share`` of the active customers changed: a third removed, a third moved about 1 km,
    a third of them with a new customer next to them."""
    rng = np.random.default_rng(seed)
    cs = list(region.customers)
    free = [i for i, c in enumerate(cs) if c.active and not c.rep_id]
    k = max(3, round(share * sum(c.active for c in cs)))
    gone, moved, twin = np.array_split(rng.choice(free, k, replace=False), 3)
    for i in gone:
        cs[i] = dataclasses.replace(cs[i], active=False)
    for i in moved:
        loc = cs[i].location
        cs[i] = dataclasses.replace(cs[i], location=Location(loc.lat + 0.007, loc.lon - 0.006))
    for j, i in enumerate(twin):
        loc = cs[i].location
        cs.append(dataclasses.replace(cs[i], id=f"N{j:03d}", location=Location(loc.lat + 0.002, loc.lon + 0.002)))
    return dataclasses.replace(region, customers=tuple(cs))


def test_a_rerun_after_small_changes_keeps_95_percent(region200, design200):
    changed = perturb(region200)
    before = {c.id: c for c in region200.customers if c.active}
    after = {c.id: c for c in changed.customers if c.active}
    touched = (set(before) ^ set(after)) | {k for k in set(before) & set(after) if before[k] != after[k]}
    assert len(touched) == 4 >= 0.02 * len(before)            # 2 removed, 1 moved, 1 added
    d = design_territories(changed, MON, 4, travel=HAVERSINE, previous=design200.assignment)
    common = [c for c in d.assignment if c in design200.assignment and c not in d.pinned]
    kept = sum(d.assignment[c] == design200.assignment[c] for c in common) / len(common)
    assert d.compared == len(common) and d.kept_share == pytest.approx(kept)
    assert kept >= 0.95
    assert d.max_deviation <= 0.10
    assert {cid for cid, _a, _b in d.changes} == {c for c in common if d.assignment[c] != design200.assignment[c]}
    # the same input again: nothing changes
    same = design_territories(changed, MON, 4, travel=HAVERSINE, previous=d.assignment)
    assert same.kept_share == 1.0 and same.changes == ()


def test_visits_balance_balances_visit_counts(region200):
    d = design_territories(region200, MON, 4, travel=HAVERSINE, balance="visits")
    visits = np.array([r.visits_per_week for r in d.reps])
    assert np.abs(visits / visits.mean() - 1).max() == pytest.approx(d.max_deviation)
    assert d.max_deviation <= 0.05


def test_bad_balance_and_no_reps_are_errors(region200):
    with pytest.raises(ValueError, match="balance must be one of hours, visits"):
        design_territories(region200, MON, 1, travel=HAVERSINE, balance="km")
    with pytest.raises(ValueError, match="no reps"):
        design_territories(region200, MON, 1, travel=HAVERSINE, rep_ids=["nobody"])


# ----------------------------------------------------------------------------------------------
# The record of the owners the planner wrote
# ----------------------------------------------------------------------------------------------
def test_record_tells_the_planners_owners_from_the_crms(tmp_path):
    rec = TerritoryRecord(database="sqlite:///x.db", owners={"A": "R1", "B": "R1", "C": "R2"})
    region = Region((cust("A", 120.0, rep_id="R1"),     # as the planner wrote it
                     cust("B", 120.0, rep_id="R2"),     # the CRM changed it: the CRM's now
                     cust("C", 120.0),                  # a CRM push cleared it: free, previous owner R2
                     cust("D", 120.0, rep_id="R1")), REPS)   # never the planner's: the CRM's
    free, previous = release_planner_owners(region, rec)
    assert previous == {"A": "R1", "C": "R2"}
    assert {c.id: c.rep_id for c in free.customers} == {"A": None, "B": "R2", "C": None, "D": "R1"}
    path = tmp_path / "t.json"
    save_record(path, rec)
    assert load_record(path, "sqlite:///x.db").owners == rec.owners
    assert load_record(tmp_path / "none.json", "sqlite:///x.db").owners == {}
    with pytest.raises(TerritoryRecordError, match="records the territories of database"):
        load_record(path, "sqlite:///other.db")
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(TerritoryRecordError, match="not a version 1 territory record"):
        load_record(path, "sqlite:///x.db")
    assert record_path("sqlite:////data/p.db") == Path("/data/p.db.territories.json")
    assert record_path("postgresql+psycopg://u:pw@h/db") == Path(".planner-territories.json")


# ----------------------------------------------------------------------------------------------
# CLI and map
# ----------------------------------------------------------------------------------------------
@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANNER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("PLANNER_GEOCODE_CACHE", str(tmp_path / "geo.sqlite"))
    monkeypatch.delenv("PLANNER_POLICY_FILE", raising=False)
    monkeypatch.delenv("PLANNER_TRAVEL", raising=False)
    runner = CliRunner()

    def invoke(*args):
        result = runner.invoke(app, [str(a) for a in args])
        return result
    return invoke


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def stored_owners(tmp_path: Path) -> dict[str, str | None]:
    import sqlite3
    with sqlite3.connect(tmp_path / "cli.db") as con:
        return dict(con.execute("select id, rep_id from customers"))


def test_cli_designs_applies_and_keeps(cli, tmp_path):
    assert cli("import", "customers", FIXTURE / "customers.csv").exit_code == 0
    crm_pins = {k: v for k, v in stored_owners(tmp_path).items() if v}
    assert len(crm_pins) == 11
    res = cli("territories", "--reps-file", FIXTURE / "reps.csv", "--start", "2026-11-30", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output[res.output.index("{"):])          # after the reps import line
    assert [r["rep_id"] for r in out["reps"]] == ["R01", "R02", "R03", "R04", "R05", "R06"]
    assert sum(r["customers"] for r in out["reps"]) == len(out["assignment"]) == 213   # 220 - 7 inactive
    assert out["max_deviation"] <= 0.10 and out["kept_share"] is None
    assert all(out["assignment"][k] == v for k, v in crm_pins.items() if k in out["assignment"])

    res = cli("territories", "--start", "2026-11-30", "--apply", "--map", tmp_path / "t.html", "--lang", "en")
    assert res.exit_code == 0, res.output
    assert "max deviation" in res.output and "applied: 202 owner(s) written, 0 cleared" in flat(res.output)
    owners = stored_owners(tmp_path)
    assert sum(1 for v in owners.values() if v) == 213
    assert all(owners[k] == v for k, v in crm_pins.items())        # the CRM's pins untouched
    record = json.loads((tmp_path / "cli.db.territories.json").read_text(encoding="utf-8"))
    assert len(record["owners"]) == 202 and not set(record["owners"]) & set(crm_pins) and record["pending"] == {}
    html = (tmp_path / "t.html").read_text(encoding="utf-8")
    assert html.count("L.polygon(") == 6                          # one territory polygon per rep

    # the stored owners are where a later --keep-existing run starts: nothing changes
    res = cli("territories", "--start", "2026-11-30", "--keep-existing", "--json")
    again = json.loads(res.output)
    assert res.exit_code == 0 and again["kept_share"] == 1.0 and again["compared"] == 202
    assert again["assignment"] == {k: v for k, v in stored_owners(tmp_path).items() if v and k in again["assignment"]}

    # the CRM moves one of the planner's customers to R06: a pin now, never changed by the planner
    cid = next(k for k, v in record["owners"].items() if v != "R06")
    con_path = tmp_path / "cli.db"
    import sqlite3
    with sqlite3.connect(con_path) as con:
        con.execute("update customers set rep_id = 'R06' where id = ?", (cid,))
    res = cli("territories", "--start", "2026-11-30", "--keep-existing", "--apply")
    assert res.exit_code == 0, res.output
    assert stored_owners(tmp_path)[cid] == "R06"
    record = json.loads((tmp_path / "cli.db.territories.json").read_text(encoding="utf-8"))
    assert cid not in record["owners"] and len(record["owners"]) == 201


def test_cli_rejects_bad_input(cli, tmp_path):
    res = cli("territories", "--balance", "km")
    assert res.exit_code == 1 and "--balance must be one of hours, visits" in res.output
    res = cli("territories")
    assert res.exit_code == 1 and "no active customers" in res.output
    assert cli("import", "customers", FIXTURE / "customers.csv").exit_code == 0
    (tmp_path / "cli.db.territories.json").write_text("{}", encoding="utf-8")
    res = cli("territories", "--reps-file", FIXTURE / "reps.csv")
    assert res.exit_code == 1 and "not a version 1 territory record" in res.output


def test_region_map_draws_the_given_territories(design200, region200):
    from maps import render_region_map
    html = render_region_map(region200, None, "en", territories=design200.assignment).get_root().render()
    assert html.count("L.polygon(") == len(region200.reps)
    counts = [int(x) for x in re.findall(r"territory \((\d+) customers\)", html, re.I)]
    assert sorted(counts) == sorted(r.customers for r in design200.reps)
    assert sum(counts) == len(design200.assignment)
