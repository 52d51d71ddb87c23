"""Field-region benchmark: plan the fixture region and generated regions; report time, memory,
km per visit and frequency compliance, each checked by the evaluator.

    python benchmarks/field.py [--cases fixture,500,2000] [--weeks 4] [--time-limit 60] [--seed 1]
                               [--compare]

Each case runs in its own process so that peak memory (max RSS) is the case's own. With
``--compare`` each case also runs the engine's simple two-phase baseline (patterns greedily,
then daily routes, no improvement) and the engine at 10× the time, and prints the cost and
km-per-visit gaps of the normal run to both. The engine minimises cost (km × cost per km + hours
× cost per hour, as the reps' costs say), so "gap to 10x" is the cost gap; the km-per-visit gap
is printed beside it (km are the smaller part of the cost; hours, including visit time that no
plan changes, the larger).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START = dt.date(2026, 11, 30)
REPS_FOR = {200: 6, 500: 14, 2000: 50, 20000: 500}


def _region(case: str):
    if case == "fixture":
        from planner.domain import Region
        from planner.io.customers import parse_customers
        from planner.io.reps import parse_reps
        from planner.domain import VisitPolicy
        fx = ROOT / "fixtures" / "hangzhou"
        cs = parse_customers(fx / "customers.csv", VisitPolicy())
        rs = parse_reps(fx / "reps.csv")
        assert not cs.errors and not rs.errors, (cs.errors, rs.errors)
        return Region(tuple(cs.items), tuple(rs.items))
    from planner.synthetic import generate_region
    n = int(case)
    return generate_region(n, REPS_FOR.get(n, max(1, n // 40)), seed=2026)


def run_one(case: str, weeks: int, time_limit: float, seed: int, improve: bool = True) -> dict:
    """Plan one case in this process and return its figures."""
    from planner.pipeline import plan_region
    region = _region(case)
    t0 = time.perf_counter()
    res = plan_region(region, START, weeks, time_limit=time_limit, seed=seed, check=False, improve=improve)
    secs = time.perf_counter() - t0
    k = res.evaluation.kpis
    return {
        "case": case, "customers": sum(c.active for c in region.customers), "reps": len(region.reps),
        "weeks": weeks, "time_limit": time_limit, "seconds": round(secs, 1),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "visits": k["visits"], "required": k["required_visits"], "compliance": k["compliance"],
        "km": k["distance_km"], "km_per_visit": k["km_per_visit"], "cost": k["cost"],
        "violations": len(res.evaluation.violations),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="fixture,500,2000")
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--compare", action="store_true", help="also the two-phase baseline and 10x the time")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(run_one(a.one, a.weeks, a.time_limit, a.seed, improve=not a.baseline)))
        return
    cols = ["case", "customers", "reps", "seconds", "peak_mb", "visits", "required", "compliance",
            "km_per_visit", "cost", "violations"]
    print(" | ".join(f"{c:>11}" for c in cols))
    def one(case: str, time_limit: float, baseline: bool = False) -> dict:
        out = subprocess.run([sys.executable, __file__, "--one", case, "--weeks", str(a.weeks),
                              "--time-limit", str(time_limit), "--seed", str(a.seed)]
                             + (["--baseline"] if baseline else []), capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    extra = []
    for case in a.cases.split(","):
        row = one(case, a.time_limit)
        print(" | ".join(f"{row[c]!s:>11}" for c in cols), flush=True)
        if a.compare:
            base, long = one(case, a.time_limit, baseline=True), one(case, 10 * a.time_limit)
            extra.append((case, row, base, long))
    if extra:
        print("\ncost and km/visit against the two-phase baseline (same time) and against 10x the time")
        print(f"{'case':>8} | {'cost':>10} | {'baseline':>10} | {'saved %':>7} | {'10x cost':>10} | "
              f"{'gap to 10x %':>12} | {'km/v':>6} | {'km/v base':>9} | {'km/v 10x':>8} | {'km/v gap 10x %':>14} | "
              "compl. base/ours/10x")
        for case, row, base, long in extra:
            print(f"{case:>8} | {row['cost']:>10.0f} | {base['cost']:>10.0f} | "
                  f"{100 * (1 - row['cost'] / base['cost']):>7.2f} | {long['cost']:>10.0f} | "
                  f"{100 * (row['cost'] / long['cost'] - 1):>12.2f} | {row['km_per_visit']:>6.3f} | "
                  f"{base['km_per_visit']:>9.3f} | {long['km_per_visit']:>8.3f} | "
                  f"{100 * (row['km_per_visit'] / long['km_per_visit'] - 1):>14.2f} | "
                  f"{base['compliance']}/{row['compliance']}/{long['compliance']}", flush=True)


if __name__ == "__main__":
    main()
