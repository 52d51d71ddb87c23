"""Research instances through the product's pipeline, checked by the independent validators."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from planner.bench.instances import decode_pattern, read_cordeau, read_solomon, to_region
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
