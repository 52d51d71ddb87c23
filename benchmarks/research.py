"""Research benchmarks: the planner's engine on Solomon VRPTW and Cordeau PVRP instances.

    python benchmarks/research.py [--vrptw C101,R101,...] [--pvrp p01,p02,...|all]
                                  [--vrptw-time 10] [--pvrp-time 60] [--seed 1] [--no-pyvrp]

Each instance is solved by ``planner bench vrptw|pvrp`` in its own process, the solution is
checked by the independent validators in ``../shared/bench`` (feasibility and unrounded cost),
and a table is printed: cost, gap to the best-known (PVRP) or ratio to PyVRP 0.14 run at the
same time limit in the same run (VRPTW), and seconds. Needs the ``bench`` extra (pyvrp).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
VRPTW_12 = "C101,C201,R101,R105,R110,R201,R205,R210,RC101,RC105,RC201,RC205"
PVRP_9 = "p01,p02,p04,p08,p11,p12,p16,p20,p24"


def _validate(kind: str, instance: Path, sol: Path) -> dict:
    script = BENCH / ("validate_vrptw.py" if kind == "vrptw" else "validate_pvrp.py")
    out = subprocess.run([sys.executable, str(script), str(instance), str(sol)], capture_output=True, text=True)
    try:
        return json.loads(out.stdout)
    except json.JSONDecodeError:
        return {"feasible": False, "errors": [out.stdout + out.stderr]}


def _planner(kind: str, instance: Path, time_limit: float, seed: int, sol: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "planner.cli", "bench", kind, str(instance), "--time-limit",
                    str(time_limit), "--seed", str(seed), "--out", str(sol)], check=True, capture_output=True)
    return time.perf_counter() - t0


def pyvrp_vrptw(instance: Path, time_limit: float, seed: int, sol: Path) -> float:
    """PyVRP 0.14 on a Solomon instance (distances and times ×1000, rounded), at most K vehicles."""
    import pyvrp
    from pyvrp.stop import MaxRuntime
    from planner.bench.instances import read_solomon
    inst = read_solomon(instance)
    nodes = [inst.depot, *inst.customers]
    s = 1000
    m = pyvrp.Model()
    locs = [m.add_location(x=n.x, y=n.y) for n in nodes]
    depot = m.add_depot(locs[0], tw_early=int(nodes[0].ready * s), tw_late=int(nodes[0].due * s))
    m.add_vehicle_type(num_available=inst.vehicles, capacity=int(inst.capacity), start_depot=depot, end_depot=depot,
                       tw_early=int(nodes[0].ready * s), tw_late=int(nodes[0].due * s))
    for loc, c in zip(locs[1:], inst.customers):
        m.add_client(loc, delivery=int(c.demand), service_duration=int(c.service * s),
                     tw_early=int(c.ready * s), tw_late=int(c.due * s))
    for i, a in enumerate(nodes):
        for j, b in enumerate(nodes):
            if i != j:
                d = math.hypot(a.x - b.x, a.y - b.y)
                m.add_edge(locs[i], locs[j], distance=round(d * s), duration=math.ceil(d * s))
    t0 = time.perf_counter()
    res = m.solve(stop=MaxRuntime(time_limit), seed=seed, display=False)
    secs = time.perf_counter() - t0
    routes = [[int(inst.customers[a.idx].id) for a in r if a.is_client()] for r in res.best.routes()]
    sol.write_text(json.dumps({"routes": routes}))
    return secs


def _bks_pvrp() -> dict[str, float]:
    with open(BENCH / "pvrp" / "bks.csv", encoding="utf-8") as f:
        return {r["instance"]: float(r["bks"]) for r in csv.DictReader(f)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vrptw", default=VRPTW_12, help="Solomon instances, comma-separated ('' for none)")
    ap.add_argument("--pvrp", default=PVRP_9, help="Cordeau instances, comma-separated, or 'all' ('' for none)")
    ap.add_argument("--vrptw-time", type=float, default=10.0)
    ap.add_argument("--pvrp-time", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-pyvrp", action="store_true", help="skip the PyVRP comparison")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="research-"))
    if a.vrptw:
        print(f"VRPTW (Solomon), {a.vrptw_time:g} s, seed {a.seed}")
        print(f"{'instance':<8} {'ours':>9} {'feasible':>8} {'routes':>6} {'pyvrp':>9} {'ratio':>6} {'secs':>5}")
        ratios = []
        for name in a.vrptw.split(","):
            inst = BENCH / "solomon" / f"{name}.txt"
            ours = tmp / f"{name}.json"
            secs = _planner("vrptw", inst, a.vrptw_time, a.seed, ours)
            v = _validate("vrptw", inst, ours)
            ref = ratio = None
            if not a.no_pyvrp:
                pv = tmp / f"{name}.pyvrp.json"
                pyvrp_vrptw(inst, a.vrptw_time, a.seed, pv)
                w = _validate("vrptw", inst, pv)
                ref = w.get("distance") if w.get("feasible") else None
                if ref and v.get("feasible"):
                    ratio = v["distance"] / ref
                    ratios.append(ratio)
            print(f"{name:<8} {v.get('distance', float('nan')):>9.2f} {str(v.get('feasible')):>8} "
                  f"{v.get('vehicles', '-')!s:>6} {ref if ref else float('nan'):>9.2f} "
                  f"{ratio if ratio else float('nan'):>6.3f} {secs:>5.1f}", flush=True)
        if ratios:
            print(f"mean ratio to PyVRP: {sum(ratios) / len(ratios):.4f} over {len(ratios)} instances")
    if a.pvrp:
        bks = _bks_pvrp()
        names = sorted(bks, key=lambda n: (n[:2] == "pr", int(n.lstrip("pr")))) if a.pvrp == "all" else a.pvrp.split(",")
        print(f"\nPVRP (Cordeau), {a.pvrp_time:g} s, seed {a.seed}")
        print(f"{'instance':<8} {'ours':>10} {'feasible':>8} {'bks':>10} {'gap %':>6} {'secs':>5}")
        gaps = []
        for name in names:
            inst = BENCH / "pvrp" / "instances" / name
            ours = tmp / f"{name}.json"
            secs = _planner("pvrp", inst, a.pvrp_time, a.seed, ours)
            v = _validate("pvrp", inst, ours)
            gap = 100 * (v["cost"] / bks[name] - 1) if v.get("feasible") else float("nan")
            if v.get("feasible"):
                gaps.append(gap)
            print(f"{name:<8} {v.get('cost', float('nan')):>10.2f} {str(v.get('feasible')):>8} {bks[name]:>10.2f} "
                  f"{gap:>6.2f} {secs:>5.1f}", flush=True)
        if gaps:
            print(f"mean gap {sum(gaps) / len(gaps):.2f}%, max {max(gaps):.2f}%, feasible {len(gaps)}/{len(names)}")


if __name__ == "__main__":
    main()
