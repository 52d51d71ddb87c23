"""``benchmarks/research.py``: the table over seeds, in parallel jobs, and with reference days."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT.parent / "shared" / "bench"
needs_bench = pytest.mark.skipif(not BENCH.is_dir(), reason="../shared/bench is not beside the repository")


def _research(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "research.py"), "--vrptw", "", *args],
                          capture_output=True, text=True, cwd=ROOT)


def _row(out: str, name: str) -> list[float]:
    line = next(ln for ln in out.splitlines() if ln.startswith(name + " "))
    return [float(v) for v in line.split()[1:]]


@needs_bench
def test_two_seeds_in_two_jobs_give_a_gap_per_seed_their_mean_and_the_worst():
    got = _research("--pvrp", "p01,p03", "--pvrp-time", "2", "--seeds", "1,2", "--jobs", "2")
    assert got.returncode == 0, got.stderr
    assert "seeds 1,2; gap to the best-known" in got.stdout
    for name in ("p01", "p03"):
        bks, ref_routes, cost1, gap1, routes1, cost2, gap2, routes2, mean, worst, _secs = _row(got.stdout, name)
        assert bks == 524.61
        # Cordeau's solutions of both have 5 routes (a line each after the cost)
        assert ref_routes == 5
        # p01: 937 units of load over 2 days, vehicles of 160: 6 routes at least (the reference leaves
        # out customer 51's, at the depot); p03: one vehicle a day over 5 days, 777 units: all 5
        assert routes1 == int(routes1) and routes2 == int(routes2)
        assert min(routes1, routes2) >= 6 if name == "p01" else routes1 == routes2 == 5
        assert gap1 == pytest.approx(100 * (cost1 / bks - 1), abs=0.006)
        assert gap2 == pytest.approx(100 * (cost2 / bks - 1), abs=0.006)
        assert mean == pytest.approx((gap1 + gap2) / 2, abs=0.011)
        assert worst == max(gap1, gap2)
    summary, above = got.stdout.strip().splitlines()[-2:]
    assert re.search(r"\(seed 1 / 2\), worst run -?\d+\.\d\d% \(p0[13] seed [12]\), feasible 4/4$", summary), summary
    # the runs above the goal's 4%, counted from the gaps printed
    gaps = {name: _row(got.stdout, name)[3:7:3] for name in ("p01", "p03")}
    over = {name: sum(g > 4.0 for g in gs) for name, gs in gaps.items()}
    listed = ", ".join(f"{n} {k}/2" for n, k in over.items() if k)
    assert above == f"runs above 4%: {sum(over.values())} of 4" + (f" ({listed})" if listed else "")


@needs_bench
def test_the_runs_above_a_limit_are_counted_and_named():
    # no p01 plan is cheaper than its best-known (524.61) or twice as dear: a limit of -1% counts
    # every run, one of 100% none
    for limit, expect in (("-1", "runs above -1%: 2 of 2 (p01 2/2)"), ("100", "runs above 100%: 0 of 2")):
        got = _research("--pvrp", "p01", "--pvrp-time", "2", "--seeds", "1,2", "--jobs", "2", "--limit", limit)
        assert got.returncode == 0, got.stderr
        assert got.stdout.strip().splitlines()[-1] == expect


@needs_bench
def test_reference_days_measure_against_the_reference_solution():
    # p01 held to Cordeau's days: the target column is that solution's cost, 524.61
    got = _research("--pvrp", "p01", "--pvrp-time", "3", "--reference-days")
    assert got.returncode == 0, got.stderr
    assert "reference days held, gap to the reference solution" in got.stdout
    ref, _ref_routes, cost, gap, _routes, _secs = _row(got.stdout, "p01")
    assert ref == 524.61 and gap == pytest.approx(100 * (cost / ref - 1), abs=0.006)
    assert got.stdout.strip().splitlines()[-2].endswith("feasible 1/1")


@pytest.mark.parametrize("args, message", [(("--seeds", "1,1"), "distinct seeds"), (("--seeds", "1,x"), "integers"),
                                           (("--jobs", "0"), "--jobs must be at least 1"),
                                           (("--limit", "nan"), "--limit must be a number of per cent"),
                                           (("--limit", "x"), "invalid float value")])
def test_bad_options_are_refused(args, message):
    got = _research("--pvrp", "p01", *args)
    assert got.returncode == 2 and message in got.stderr


@needs_bench
def test_an_unknown_instance_is_named_before_anything_runs():
    got = _research("--pvrp", "p01,p99")
    assert got.returncode == 1 and "no best-known cost or reference solution for: p99" in got.stderr
