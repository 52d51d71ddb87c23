"""Research instances through the product's pipeline, checked by the independent validators."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from planner.bench.instances import (Instance, InstanceError, Node, decode_pattern, read_cordeau, read_cordeau_solution,
                                     read_solomon, to_region, with_fixed_days)
from planner.bench.planar import PlanarTravel, to_location

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "bench"
needs_bench = pytest.mark.skipif(not BENCH.is_dir(), reason="../shared/bench is not beside the repository")


def test_pattern_codes_read_leftmost_bit_as_day_one():
    # t = 5: code 10 = 01010 -> days 2 and 4 (offsets 1 and 3); code 16 = 10000 -> day 1
    assert decode_pattern(10, 5) == (1, 3)
    assert decode_pattern(16, 5) == (0,)
    assert decode_pattern(3, 2) == (0, 1)


def test_planar_travel_is_euclidean_one_minute_per_unit():
    m = PlanarTravel().get_matrix([to_location(0, 0), to_location(3, 4)])
    assert m.distance_km[0, 1] == pytest.approx(5.0)
    assert m.duration_s[0, 1] == pytest.approx(300.0)


@needs_bench
def test_solomon_reads_into_a_shared_fleet_region():
    inst = read_solomon(BENCH / "solomon" / "C101.txt")
    region, weeks = to_region(inst)
    assert (len(inst.customers), inst.vehicles, inst.capacity) == (100, 25, 200)
    assert weeks == 1 and not region.ownership and len(region.reps) == 25
    c1 = region.customers[0]
    # C101 customer 1: ready 912, due 967, service 90 -> the visit may start 912..967
    assert (c1.opening[0].start, c1.opening[0].end, c1.visit_minutes, c1.demand) == (912, 967 + 90, 90, 10)


@needs_bench
def test_cordeau_p01_reads_patterns_and_fleet():
    inst = read_cordeau(BENCH / "pvrp" / "instances" / "p01")
    assert (len(inst.customers), inst.vehicles, inst.days, inst.capacity) == (51, 3, 2, 160)
    # customer 1: frequency 1, codes 1 and 2 -> day 2 or day 1
    assert inst.customers[0].patterns == ((0,), (1,))


def _run(kind: str, instance: Path, out: Path, time_limit: str) -> dict:
    subprocess.run([sys.executable, "-m", "planner.cli", "bench", kind, str(instance), "--time-limit", time_limit,
                    "--out", str(out)], check=True, capture_output=True)
    script = BENCH / ("validate_vrptw.py" if kind == "vrptw" else "validate_pvrp.py")
    res = subprocess.run([sys.executable, str(script), str(instance), str(out)], capture_output=True, text=True)
    return json.loads(res.stdout)


@needs_bench
def test_bench_vrptw_c101_is_feasible_and_near_best_known(tmp_path):
    v = _run("vrptw", BENCH / "solomon" / "C101.txt", tmp_path / "c101.json", "3")
    assert v["feasible"], v["errors"]
    assert v["distance"] <= 828.94 * 1.03  # best-known 828.94


@needs_bench
def test_bench_pvrp_p01_is_feasible_and_within_ten_percent(tmp_path):
    v = _run("pvrp", BENCH / "pvrp" / "instances" / "p01", tmp_path / "p01.json", "4")
    assert v["feasible"], v["errors"]
    assert v["cost"] <= 524.61 * 1.10  # best-known 524.61


# --- reference days: Cordeau's solution's days held, the routing alone measured ---------------

RES = """100.50
1   1   10.00   5   0 3 1 0
2   1   12.00   5   0 1 2 0
"""


def test_reference_solution_gives_the_days_of_each_customer(tmp_path):
    # customer 1 is on day 1 and day 2 (offsets 0 and 1), 2 on day 2, 3 on day 1
    path = tmp_path / "x.res"
    path.write_text(RES)
    cost, days = read_cordeau_solution(path)
    assert cost == 100.5
    assert days == {1: (0, 1), 2: (1,), 3: (0,)}


@pytest.mark.parametrize("line, what", [("2 1 12.00 5 1 2 0", "line 3"), ("x 1 12.00 5 0 1 0", "line 3"),
                                        ("1 2 12.00 5 0 1 0", "customer 1 twice on day 1")])
def test_a_malformed_reference_line_is_named(tmp_path, line, what):
    path = tmp_path / "x.res"
    path.write_text(RES.splitlines()[0] + "\n" + RES.splitlines()[1] + "\n" + line + "\n")
    with pytest.raises(InstanceError, match=what):
        read_cordeau_solution(path)


def _tiny() -> Instance:
    depot = Node(0, 0.0, 0.0, 0.0, 0.0)
    either = ((0,), (1,))
    return Instance("tiny", depot, (Node(1, 1.0, 0.0, 1.0, 0.0, patterns=either),
                                    Node(2, 2.0, 0.0, 1.0, 0.0, patterns=either)), 1, 10.0, days=2)


def test_fixed_days_leave_one_pattern_and_keep_unnamed_customers_free():
    inst, free = with_fixed_days(_tiny(), {1: (1,)})
    assert [c.patterns for c in inst.customers] == [((1,),), ((0,), (1,))]
    assert free == [2]


@pytest.mark.parametrize("days, what", [({1: (0, 1)}, r"customer 1: days \[1, 2\] are none of its patterns"),
                                        ({1: (0,), 7: (1,)}, "customer 7: not in the instance")])
def test_fixed_days_that_are_no_pattern_are_refused(days, what):
    with pytest.raises(InstanceError, match=what):
        with_fixed_days(_tiny(), days)


@needs_bench
def test_bench_pvrp_with_the_reference_days_keeps_them(tmp_path):
    # p01 held to Cordeau's days: every customer the reference names is visited on exactly its
    # days; customer 51 (at the depot, demand 160: a whole vehicle) is not named and stays free
    ref = BENCH / "pvrp" / "solutions_cgl1997" / "p01.res"
    out = tmp_path / "p01.json"
    got = subprocess.run([sys.executable, "-m", "planner.cli", "bench", "pvrp", str(BENCH / "pvrp" / "instances" / "p01"),
                          "--time-limit", "4", "--days-from", str(ref), "--out", str(out)],
                         capture_output=True, text=True, check=True)
    assert "patterns kept: customers [51]" in got.stdout
    sol = json.loads(out.read_text())
    seen: dict[int, set[int]] = {}
    for r in sol["routes"]:
        for c in r["stops"]:
            seen.setdefault(c, set()).add(r["day"] - 1)
    _cost, days = read_cordeau_solution(ref)
    assert {c: tuple(sorted(ds)) for c, ds in seen.items() if c != 51} == days
    assert sol["free_days"] == [51] and not sol["unassigned"]
    v = json.loads(subprocess.run([sys.executable, str(BENCH / "validate_pvrp.py"), str(BENCH / "pvrp" / "instances" / "p01"),
                                   str(out)], capture_output=True, text=True).stdout)
    assert v["feasible"], v["errors"]
    assert v["cost"] <= 524.61 * 1.01  # the reference's own cost with these days: 524.61


@needs_bench
def test_bench_pvrp_refuses_reference_days_that_are_no_pattern(tmp_path):
    # p01 customer 1 may take day 1 or day 2, not both
    ref = tmp_path / "bad.res"
    ref.write_text("1.0\n1 1 1.0 1 0 1 0\n2 1 1.0 1 0 1 0\n")
    args = [sys.executable, "-m", "planner.cli", "bench", "pvrp", str(BENCH / "pvrp" / "instances" / "p01"),
            "--time-limit", "1", "--out", str(tmp_path / "x.json")]
    got = subprocess.run([*args, "--days-from", str(ref)], capture_output=True, text=True)
    assert got.returncode == 2
    assert "customer 1: days [1, 2] are none of its patterns [[1], [2]]" in got.stdout
    got = subprocess.run([*args, "--days-from", str(tmp_path / "missing.res")], capture_output=True, text=True)
    assert got.returncode == 1 and f"{tmp_path / 'missing.res'}: no such file" in got.stdout
    assert not (tmp_path / "x.json").exists()
