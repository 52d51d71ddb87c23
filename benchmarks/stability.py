"""Stability benchmark: how much of a plan a re-plan keeps, and what it costs.

    python benchmarks/stability.py [--cases fixture,200,500] [--time-limit 30] [--share 0.05] [--seed 1]

For each case: plan the region for 4 weeks from Monday 2026-11-30; then change ``--share`` of
the customers (a quarter each: new customers near existing ones, customers deactivated,
regraded (A<->B, C->B, D->C) and moved by about 1 km) and make one rep absent for one day of
week 2; re-plan from day 3 (Thursday 2026-12-03); and plan the new facts from scratch with the
same time limit. Reported, all checked by the evaluator:

* ``kept %``: of the unchanged customers' visits from day 3 on in the first plan, the share the
  re-plan keeps on the same day with the same rep (goal >= 90%);
* ``cost ratio``: the re-plan's cost over the from-scratch plan's (whole horizon; goal <= 1.03);
  ``future ratio``: the same from day 3 on only;
* seconds of the re-plan, and the change report by kind.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

START = dt.date(2026, 11, 30)
FROM = START + dt.timedelta(days=3)
REGRADE = {"A": "B", "B": "A", "C": "B", "D": "C"}


def perturb(region, share: float, seed: int):
    """The region with ``share`` of its customers changed, and one rep's absence (a day in week 2)."""
    from planner.domain import Location
    rng = np.random.default_rng(seed)
    cs = list(region.customers)
    active = [i for i, c in enumerate(cs) if c.active]
    k = max(4, round(share * len(active)))
    picked = [active[int(i)] for i in rng.permutation(len(active))[:k]]
    added = []
    for j, i in enumerate(picked):
        c = cs[i]
        kind = j % 4
        if kind == 0:
            cs[i] = dataclasses.replace(c, active=False)
        elif kind == 1:
            cs[i] = dataclasses.replace(c, grade=REGRADE.get(c.grade, "B"), frequency=None)
        elif kind == 2:
            cs[i] = dataclasses.replace(c, location=Location(c.location.lat + 0.006, c.location.lon - 0.006))
        else:
            added.append(dataclasses.replace(c, id=f"{c.id}-NEW", name=f"{c.name} (new)", rep_id=None,
                                             location=Location(c.location.lat - 0.004, c.location.lon + 0.005)))
    rep = region.reps[int(rng.integers(len(region.reps)))]
    day = START + dt.timedelta(days=7 + int(rng.integers(5)))
    return dataclasses.replace(region, customers=tuple(cs) + tuple(added)), {rep.id: {day}}, k


def future_cost(plan, since) -> float:
    return sum(r.cost for r in plan.routes if r.date >= since)


def run(case: str, time_limit: float, share: float, seed: int) -> dict:
    from field import _region
    from planner.pipeline import plan_region
    from planner.pipeline.replan import replan
    region = _region(case)
    first = plan_region(region, START, 4, time_limit=time_limit, seed=seed).plan
    new_region, absences, changed = perturb(region, share, seed)
    t0 = time.perf_counter()
    res = replan(new_region, first, FROM, time_limit=time_limit, seed=seed, absences=absences)
    secs = time.perf_counter() - t0
    scratch = plan_region(new_region, START, 4, time_limit=time_limit, seed=seed, absences=absences)
    kinds = Counter(c.kind for c in res.changes)
    return {
        "case": case, "customers": sum(c.active for c in region.customers), "changed": changed,
        "kept": res.stats["kept_share"], "kept_visits": f"{res.stats['kept_visits']}/{res.stats['unchanged_visits']}",
        "replan_cost": res.evaluation.kpis["cost"], "scratch_cost": scratch.evaluation.kpis["cost"],
        "ratio": res.evaluation.kpis["cost"] / scratch.evaluation.kpis["cost"],
        "future_ratio": future_cost(res.plan, FROM) / future_cost(scratch.plan, FROM),
        "seconds": secs, "visits": res.evaluation.kpis["visits"], "required": res.evaluation.kpis["required_visits"],
        "violations": len(res.evaluation.violations) + len(scratch.evaluation.violations),
        "unplanned": f"{len(res.plan.unassigned)}/{len(scratch.plan.unassigned)}",
        "changes": ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="fixture,200,500")
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--share", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    print(f"{'case':>8} | {'cust.':>5} | {'changed':>7} | {'kept %':>6} | {'kept':>9} | {'re-plan':>9} | "
          f"{'scratch':>9} | {'ratio':>6} | {'future':>6} | {'s':>5} | {'visits':>9} | viol. | changes")
    for case in a.cases.split(","):
        r = run(case, a.time_limit, a.share, a.seed)
        print(f"{r['case']:>8} | {r['customers']:>5} | {r['changed']:>7} | {100 * r['kept']:>6.1f} | "
              f"{r['kept_visits']:>9} | {r['replan_cost']:>9.0f} | {r['scratch_cost']:>9.0f} | {r['ratio']:>6.3f} | "
              f"{r['future_ratio']:>6.3f} | {r['seconds']:>5.1f} | {r['visits']:>4}/{r['required']:<4} | "
              f"{r['unplanned']:>16} | {r['violations']:>5} | {r['changes']}", flush=True)


if __name__ == "__main__":
    main()
