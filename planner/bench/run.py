"""Solve a research instance with the product's pipeline and write the solution JSON."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from planner.bench.instances import START, read_cordeau, read_cordeau_solution, read_solomon, to_region, with_fixed_days
from planner.bench.planar import PlanarTravel
from planner.pipeline import PlanResult, plan_region


def solve_instance(kind: str, path: str | Path, *, time_limit: float, seed: int = 1,
                   deterministic: bool = False, progress=None,
                   days_from: str | Path | None = None) -> tuple[dict, PlanResult]:
    """Plan a ``vrptw`` (Solomon) or ``pvrp`` (Cordeau) instance; returns (solution JSON, result).
    ``days_from`` (pvrp): a reference solution (``.res``) whose days each customer is held to
    (:func:`~planner.bench.instances.with_fixed_days`), so that only the routing is measured;
    the solution then lists the customers it does not name (``free_days``)."""
    inst = read_solomon(path) if kind == "vrptw" else read_cordeau(path)
    if days_from is not None:
        if kind != "pvrp":
            raise ValueError("days_from is for pvrp instances")
        inst, free = with_fixed_days(inst, read_cordeau_solution(days_from)[1])
    region, weeks = to_region(inst)
    result = plan_region(region, START, weeks, time_limit=time_limit, seed=seed, travel=PlanarTravel(),
                         deterministic=deterministic, progress=progress, check=True)
    plan = result.plan
    if kind == "vrptw":
        sol = {"routes": [[int(s.customer_id) for s in r.stops] for r in plan.routes if r.stops]}
    else:
        by_day = defaultdict(list)
        for r in plan.routes:
            if r.stops:
                by_day[(r.date - START).days + 1].append([int(s.customer_id) for s in r.stops])
        sol = {"routes": [{"day": d, "stops": stops} for d in sorted(by_day) for stops in by_day[d]]}
    sol["cost"] = round(result.evaluation.recomputed_km, 3)
    if days_from is not None:
        sol["free_days"] = free  # customers the reference does not name: their patterns kept
    sol["unassigned"] = [{"customer_id": u.customer_id, "day": (u.date - START).days + 1 if u.date else None,
                          "reason": u.reason} for u in plan.unassigned]
    return sol, result


def write_solution(sol: dict, out: str | Path) -> None:
    """Write the solution JSON."""
    Path(out).write_text(json.dumps(sol, indent=1), encoding="utf-8")
