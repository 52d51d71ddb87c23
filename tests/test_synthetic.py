"""The seeded demo-data generator (planner.synthetic) and the bundled Hangzhou fixture."""
from __future__ import annotations

import csv
import importlib.util
import math
import time
from collections import Counter
from pathlib import Path

import pytest

from planner.domain import Frequency, Location, VisitPolicy, parse_hhmm, parse_windows, parse_workdays
from planner.synthetic import (
    CITIES,
    CUSTOMER_COLUMNS,
    GRADE_SHARES,
    GRADES,
    REP_COLUMNS,
    assign_territories,
    estimate_weekly_load,
    generate_region,
    region_rows,
    write_region_csv,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "hangzhou"
WORK_START, WORK_END = parse_hhmm("08:30"), parse_hhmm("17:30")


@pytest.fixture(scope="module")
def demo():
    return generate_region(220, 6, seed=2026)


@pytest.fixture(scope="module")
def large():
    return generate_region(2000, 50, seed=2026)


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        r = csv.DictReader(f)
        return list(r.fieldnames or []), list(r)


# --- determinism and counts -------------------------------------------------------------------
@pytest.mark.parametrize("n,reps", [(220, 6), (2000, 50)])
def test_same_seed_same_rows(n, reps):
    assert region_rows(generate_region(n, reps, seed=7)) == region_rows(generate_region(n, reps, seed=7))


def test_different_seed_different_rows():
    a, b = region_rows(generate_region(220, 6, seed=1)), region_rows(generate_region(220, 6, seed=2))
    assert a[0] != b[0]
    assert [r["lat"] for r in a[0]] != [r["lat"] for r in b[0]]


@pytest.mark.parametrize("city", sorted(CITIES))
@pytest.mark.parametrize("n,reps", [(0, 1), (1, 1), (37, 1), (220, 6), (2000, 50)])
def test_counts_and_ids(city, n, reps):
    region = generate_region(n, reps, seed=3, city=city)
    assert len(region.customers) == n and len(region.reps) == reps
    assert len({c.id for c in region.customers}) == n
    assert len({r.id for r in region.reps}) == reps


def test_bad_arguments():
    with pytest.raises(ValueError):
        generate_region(10, 0)
    with pytest.raises(ValueError):
        generate_region(-1, 1)
    with pytest.raises(ValueError):
        generate_region(10, 1, city="atlantis")


# --- the mix ----------------------------------------------------------------------------------
@pytest.mark.parametrize("n,reps", [(220, 6), (2000, 50)])
def test_grade_mix_and_shares(n, reps):
    region = generate_region(n, reps, seed=11)
    counts = Counter(c.grade for c in region.customers)
    for g, share in zip(GRADES, GRADE_SHARES):
        assert abs(counts[g] / n - share) < 0.02, (g, counts)
    cs = region.customers
    assert 0.01 <= sum(not c.active for c in cs) / n <= 0.05
    assert 0.03 <= sum(bool(c.rep_id) for c in cs) / n <= 0.07
    empty = sum(not c.opening for c in cs) / n
    lunch = sum(len(c.opening) == 2 for c in cs) / n
    assert abs(empty - 0.55) < 0.05 and abs(lunch - 0.30) < 0.05
    assert any(c.frequency is not None for c in cs) and any(c.visit_minutes is not None for c in cs)
    assert sum(c.frequency is not None for c in cs) / n < 0.06


def test_reps_look_right(large):
    for r in large.reps:
        assert (r.work_start, r.work_end) == (WORK_START, WORK_END)
        assert r.workdays == frozenset(range(5))
        assert 0.8 <= r.cost_per_km <= 1.2 and 40 <= r.cost_per_hour <= 60
        assert r.max_visits_per_day in (None, 8)
    capped = sum(r.max_visits_per_day is not None for r in large.reps)
    assert 1 <= capped <= 3


def test_positions_in_the_city(demo):
    city = CITIES["hangzhou"]
    for p in [c.location for c in demo.customers] + [r.start for r in demo.reps]:
        assert abs(p.lat - city.lat) < 0.35 and abs(p.lon - city.lon) < 0.35
    names = {c.address[len(city.name):].split("区")[0] + "区" for c in demo.customers}
    assert names == {"上城区", "拱墅区", "西湖区", "滨江区", "余杭区", "萧山区"}
    assert all(c.address.startswith("杭州市") and c.address.endswith("号") for c in demo.customers)


def test_large_regions_grow_the_area():
    def extent_km(region):
        lat = [c.location.lat for c in region.customers]
        lon = [c.location.lon for c in region.customers]
        return (max(lat) - min(lat)) * 111.2, (max(lon) - min(lon)) * 111.2 * math.cos(math.radians(30))
    small, big = extent_km(generate_region(220, 6, seed=1)), extent_km(generate_region(20000, 500, seed=1))
    # about sqrt(500/6) ≈ 9 times wider, not 1x (too dense) nor 80x (too sparse)
    assert 4 < big[0] / small[0] < 15 and 4 < big[1] / small[1] < 15


# --- the rows parse with the domain helpers ---------------------------------------------------
def _check_customer_row(row: dict[str, str], rep_ids: set[str], policy: VisitPolicy) -> None:
    assert row["id"] and row["name"] and row["address"]
    Location(float(row["lat"]), float(row["lon"]))
    assert row["grade"] in policy.grades
    freq = Frequency.parse(row["frequency"]) if row["frequency"] else policy.rules[row["grade"]].frequency
    minutes = int(row["visit_minutes"]) if row["visit_minutes"] else policy.rules[row["grade"]].visit_minutes
    assert freq.visits_per_week > 0 and 0 < minutes <= 120
    windows = parse_windows(row["open"])
    assert row["rep_id"] == "" or row["rep_id"] in rep_ids
    assert row["active"] in ("true", "false")
    # every window leaves room for the visit inside the working day, plus half an hour to get there
    for w in windows:
        room = min(w.end, WORK_END) - max(w.start, WORK_START)
        assert room >= minutes + 30, (row["id"], row["open"], minutes)


def _check_rep_row(row: dict[str, str]) -> None:
    assert row["id"] and row["name"]
    Location(float(row["start_lat"]), float(row["start_lon"]))
    if row["end_lat"] or row["end_lon"]:
        Location(float(row["end_lat"]), float(row["end_lon"]))
    assert parse_hhmm(row["work_start"]) < parse_hhmm(row["work_end"])
    assert parse_workdays(row["workdays"]) == frozenset(range(5))
    assert row["max_visits_per_day"] in ("", "8")
    float(row["cost_per_km"]), float(row["cost_per_hour"])


@pytest.mark.parametrize("city", sorted(CITIES))
@pytest.mark.parametrize("n,reps", [(220, 6), (2000, 50)])
def test_rows_have_the_interface_columns_and_parse(city, n, reps):
    region = generate_region(n, reps, seed=5, city=city)
    crow, rrow = region_rows(region)
    assert all(tuple(r) == CUSTOMER_COLUMNS for r in crow)
    assert all(tuple(r) == REP_COLUMNS for r in rrow)
    rep_ids = {r["id"] for r in rrow}
    for row in crow:
        _check_customer_row(row, rep_ids, region.policy)
    for row in rrow:
        _check_rep_row(row)


def test_interface_column_names():
    spec = ROOT.parent / "shared" / "spec" / "interfaces.md"
    if not spec.exists():
        pytest.skip("shared spec not beside the repo")
    text = spec.read_text(encoding="utf-8")
    for col in CUSTOMER_COLUMNS + REP_COLUMNS:
        assert f"`{col}`" in text, col


def test_pins_go_to_the_nearest_home(demo):
    homes = {r.id: r.start for r in demo.reps}

    def dist(a, b):
        return (a.lat - b.lat) ** 2 + ((a.lon - b.lon) * math.cos(math.radians(a.lat))) ** 2
    pinned = [c for c in demo.customers if c.rep_id]
    assert pinned
    for c in pinned:
        best = min(homes, key=lambda k: dist(c.location, homes[k]))
        assert c.rep_id == best


# --- CSV and the bundled fixture --------------------------------------------------------------
def test_write_region_csv_round_trip(tmp_path, demo):
    cpath, rpath = write_region_csv(demo, tmp_path / "out")
    assert cpath.read_bytes()[:3] != b"\xef\xbb\xbf"  # no BOM: plain csv readers see `id`
    cols, rows = _read_csv(cpath)
    assert tuple(cols) == CUSTOMER_COLUMNS
    assert rows == region_rows(demo)[0]
    cols, rows = _read_csv(rpath)
    assert tuple(cols) == REP_COLUMNS
    assert rows == region_rows(demo)[1]


def test_fixture_matches_the_generator(tmp_path):
    """fixtures/hangzhou must be exactly what `python fixtures/generate.py` writes today."""
    spec = importlib.util.spec_from_file_location("fixtures_generate", ROOT / "fixtures" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    region = gen.demo_region()
    assert (len(region.customers), len(region.reps)) == (220, 6)
    cpath, rpath = write_region_csv(region, tmp_path)
    assert (FIXTURE / "customers.csv").read_bytes() == cpath.read_bytes(), \
        "fixtures/hangzhou/customers.csv is stale: run `python fixtures/generate.py`"
    assert (FIXTURE / "reps.csv").read_bytes() == rpath.read_bytes(), \
        "fixtures/hangzhou/reps.csv is stale: run `python fixtures/generate.py`"


def test_fixture_rows_parse():
    cols, crow = _read_csv(FIXTURE / "customers.csv")
    assert tuple(cols) == CUSTOMER_COLUMNS and len(crow) == 220
    rcols, rrow = _read_csv(FIXTURE / "reps.csv")
    assert tuple(rcols) == REP_COLUMNS and len(rrow) == 6
    for row in crow:
        _check_customer_row(row, {r["id"] for r in rrow}, VisitPolicy())
    for row in rrow:
        _check_rep_row(row)


# --- workload ---------------------------------------------------------------------------------
@pytest.mark.parametrize("n,reps", [(220, 6), (2000, 50)])
def test_weekly_load_is_feasible(n, reps):
    region = generate_region(n, reps, seed=2026)
    loads = estimate_weekly_load(region)
    assert len(loads) == reps
    assert sum(x.customers for x in loads) == sum(c.active for c in region.customers)
    for x in loads:
        assert x.capacity_hours == 40.0
        assert x.load < 0.80, x
        assert x.travel_hours > 0
    mean = sum(x.load for x in loads) / reps
    assert 0.50 <= mean <= 0.75, mean
    by_id = {r.id: r for r in region.reps}
    for x in loads:  # a capped rep's average day stays under its cap
        cap = by_id[x.rep_id].max_visits_per_day
        assert cap is None or x.visits_per_day <= cap - 1


def test_assignment_keeps_pins(demo):
    a = assign_territories(demo)
    assert set(a) == {c.id for c in demo.customers if c.active}
    for c in demo.customers:
        if c.active and c.rep_id:
            assert a[c.id] == c.rep_id


def test_large_generation_is_fast():
    t = time.perf_counter()
    region = generate_region(20000, 500, seed=1)
    elapsed = time.perf_counter() - t
    assert len(region.customers) == 20000 and len(region.reps) == 500
    assert elapsed < 5.0, elapsed
