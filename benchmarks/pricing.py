"""Speed of pricing insertions and removals on field days, plain Python against numpy.

    python benchmarks/pricing.py [--customers 500] [--routes 300] [--repeat 15] [--seed 5]

Builds a generated region (4 weeks, as ``field.py``), makes ``--routes`` feasible days of 3 to 7
visits among a customer's nearest, and prices every one of those nearest customers into (or
out of) each day, ``--repeat`` times: once with small routes priced in plain Python (as the
engine does) and once with every route priced by numpy (``routes.SMALL = 0``). Prints calls,
seconds and microseconds per call of each, the ratio, and whether both gave the same prices.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _days(customers: int, n_routes: int, seed: int):
    import field  # (the field benchmark's regions)

    from planner.geo.travel import HaversineTravel
    from planner.pipeline.routes import make_route
    from planner.scheduling.instance import build_instance, instance_locations
    from planner.synthetic import generate_region

    region = generate_region(customers, field.REPS_FOR.get(customers, max(1, customers // 40)), seed=2026)
    cs = sorted((c for c in region.customers if c.active), key=lambda c: c.id)
    reps = list(region.reps)
    mats = HaversineTravel().get_matrix(instance_locations(cs, reps))
    inst = build_instance(region, field.START, 4, mats.distance_km, mats.duration_s, cs, reps)
    rng = random.Random(seed)
    days = []
    while len(days) < n_routes:
        r, c0 = rng.randrange(len(reps)), rng.randrange(inst.n)
        near = [int(x) for x in inst.dist_km[c0, : inst.n].argsort(kind="stable")[:12]]
        route = make_route(inst, r, rng.sample(near, rng.randint(3, 7)), 0)
        if route is not None:
            days.append((r, route, near))
    return inst, days


def _price(inst, days, repeat: int) -> tuple[int, float, list[float]]:
    from planner.pipeline.routes import best_insertion, removal

    prices: list[float] = []
    t0 = time.perf_counter()
    for _ in range(repeat):
        for r, route, near in days:
            route.legs = route.plain = None  # (each pass prices from scratch)
            for c in near:
                if c in route.seq:
                    prices.append(removal(inst, r, route, c, 0)[0])
                else:
                    ins = best_insertion(inst, r, route, c, 3, 0)
                    prices.append(float("nan") if ins is None else ins[0])
    return len(prices), time.perf_counter() - t0, prices


def main() -> None:
    """Run both pricings and print the comparison."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=500)
    ap.add_argument("--routes", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    from planner.pipeline import routes

    inst, days = _days(args.customers, args.routes, args.seed)
    small = routes.SMALL
    n, plain_s, plain = _price(inst, days, args.repeat)
    routes.SMALL = 0
    try:
        _, numpy_s, vect = _price(inst, days, args.repeat)
    finally:
        routes.SMALL = small
    same = all((a != a and b != b) or abs(a - b) <= 1e-9 * max(1.0, abs(b)) for a, b in zip(plain, vect))
    print(f"{'pricing':>10} | {'calls':>7} | {'seconds':>7} | {'us/call':>7}")
    for name, secs in (("plain", plain_s), ("numpy", numpy_s)):
        print(f"{name:>10} | {n:>7} | {secs:>7.2f} | {1e6 * secs / n:>7.1f}")
    print(f"numpy / plain: {numpy_s / plain_s:.2f}; same prices: {same}")


if __name__ == "__main__":
    main()
