"""Territory benchmark: balance, compactness and stability of ``planner territories``.

    python benchmarks/territories.py [--cases 200,fixture,2000] [--time-limit 20] [--no-plan] [--share 0.02]

For each case (generated regions of 200 customers / 6 reps and 2,000 / 50, seed 1; the Hangzhou
fixture, 220 / 6), territories are designed for 4 weeks from Monday 2026-11-30 on hours (visit
hours + routed driving), haversine travel. Reported:

* ``dev est``: the largest deviation of a rep's weekly workload from its fair share (shares by
  working hours), by the design's routed estimate (day tours by nearest neighbour + 2-opt);
* ``dev plan``: the same measured on a real 4-week plan (:func:`planner.pipeline.plan_region`,
  ``--time-limit`` seconds) made with the territories applied as pins: visit hours + the
  routes' driving hours per rep; with the plan's unplanned visits and evaluator verdict;
* compactness: mean drive from a customer to its territory's centre (minutes), enclaves
  (customers none of whose 4 nearest customers share their territory) and customers inside
  another territory's convex hull;
* ``s``: seconds of the design (travel matrix, eligibility and all);
* ``kept``: the share of owners kept when ``--share`` of the customers change (a third removed,
  a third moved about 1 km, and as many new customers next to existing ones) and territories
  are designed again with ``previous`` = the first design; ``fresh``: the share a design from
  scratch on the changed region happens to keep.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

START = dt.date(2026, 11, 30)
WEEKS = 4


def load_case(name: str):
    """The region of a case: ``fixture`` or ``N`` customers (6 reps for 200, else N / 40)."""
    from planner.domain import Region, VisitPolicy
    from planner.io.customers import parse_customers
    from planner.io.reps import parse_reps
    from planner.synthetic import generate_region
    if name == "fixture":
        policy = VisitPolicy()
        customers = parse_customers(ROOT / "fixtures" / "hangzhou" / "customers.csv", policy).items
        reps = parse_reps(ROOT / "fixtures" / "hangzhou" / "reps.csv").items
        return Region(tuple(customers), tuple(reps), policy)
    n = int(name)
    return generate_region(n, 6 if n <= 200 else max(1, n // 40), seed=1)


def perturb(region, share: float, seed: int = 7):
    """``share`` of the active unpinned customers changed: a third removed (inactive), a third
    moved about 1 km, and as many new customers as the last third placed next to those."""
    from planner.domain import Location
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
        cs.append(dataclasses.replace(cs[i], id=f"NEW{j:04d}", location=Location(loc.lat + 0.002, loc.lon + 0.002)))
    return dataclasses.replace(region, customers=tuple(cs))


def plan_deviation(region, design, time_limit: float) -> dict:
    """Plan 4 weeks with the design's owners as pins; per rep (visit + driving hours) against
    its share by working hours."""
    from planner.pipeline import plan_region
    from planner.scheduling.territory_design import deviations
    pinned = dataclasses.replace(region, customers=tuple(
        dataclasses.replace(c, rep_id=design.assignment.get(c.id, c.rep_id)) for c in region.customers))
    t0 = time.monotonic()
    res = plan_region(pinned, START, WEEKS, time_limit=time_limit, seed=1)
    seconds = time.monotonic() - t0
    reps = list(region.reps)
    work = np.zeros(len(reps))
    drive = np.zeros(len(reps))
    index = {r.id: i for i, r in enumerate(reps)}
    for route in res.plan.routes:
        i = index[route.rep_id]
        work[i] += sum((s.end - s.start).total_seconds() for s in route.stops) + route.drive_minutes * 60
        drive[i] += route.drive_minutes * 60
    cap = np.array([(r.work_end - r.work_start - (r.lunch.minutes if r.lunch_applies() else 0)) * 60
                    * len(r.workdays) for r in reps], dtype=float)
    dev = deviations(work, cap)
    return {"dev": float(np.abs(dev).max()), "drive_h": float(drive.sum()) / 3600 / WEEKS,
            "unplanned": len(res.plan.unassigned), "ok": res.evaluation.ok, "seconds": seconds}


def run(cases: list[str], time_limit: float, share: float, plan: bool) -> None:
    """Run and print every case."""
    from planner.geo.travel import HaversineTravel
    from planner.scheduling.territory_design import design_territories
    travel = HaversineTravel()
    head = (f"{'case':>8} {'cust':>5} {'reps':>4} {'dev est':>8} {'dev plan':>8} {'drive h/wk':>10} "
            f"{'ctr min':>7} {'encl':>5} {'hull':>5} {'s':>6} {'kept':>7} {'fresh':>7} {'dev kept':>8} {'s kept':>6}")
    print(head)
    for name in cases:
        region = load_case(name)
        d = design_territories(region, START, WEEKS, travel=travel)
        centre = float(np.average([r.to_centre_minutes for r in d.reps], weights=[max(1, r.customers) for r in d.reps]))
        changed = perturb(region, share)
        again = design_territories(changed, START, WEEKS, travel=travel, previous=d.assignment)
        fresh = design_territories(changed, START, WEEKS, travel=travel)
        common = [c for c in again.assignment if c in d.assignment and c not in again.pinned]
        fresh_kept = float(np.mean([fresh.assignment[c] == d.assignment[c] for c in common]))
        p = plan_deviation(region, d, time_limit) if plan else None
        print(f"{name:>8} {len(d.assignment):>5} {len(d.reps):>4} {d.max_deviation * 100:>7.1f}% "
              + (f"{p['dev'] * 100:>7.1f}% {p['drive_h']:>10.1f} " if p else f"{'-':>8} {'-':>10} ")
              + f"{centre:>7.1f} {d.enclaves:>5} {d.inside_other:>5} {d.seconds:>6.1f} "
              f"{again.kept_share * 100:>6.1f}% {fresh_kept * 100:>6.1f}% {again.max_deviation * 100:>7.1f}% "
              f"{again.seconds:>6.1f}", flush=True)
        if p:
            print(f"{'':>8} plan: {p['unplanned']} unplanned visit(s), evaluator {'ok' if p['ok'] else 'REJECTED'}, "
                  f"{p['seconds']:.0f} s; estimated driving {sum(r.travel_hours_per_week for r in d.reps):.1f} h/wk",
                  flush=True)


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", default="200,fixture,2000", help="comma-separated: fixture or a customer count")
    ap.add_argument("--time-limit", type=float, default=20.0, help="seconds per plan (dev plan)")
    ap.add_argument("--share", type=float, default=0.02, help="share of customers changed for 'kept'")
    ap.add_argument("--no-plan", action="store_true", help="skip the routed plans")
    args = ap.parse_args()
    run([c.strip() for c in args.cases.split(",") if c.strip()], args.time_limit, args.share, not args.no_plan)


if __name__ == "__main__":
    main()
