"""Research benchmarks: the planner's engine on Solomon VRPTW and Cordeau PVRP instances.

    python benchmarks/research.py [--vrptw C101,R101,...] [--pvrp p01,p02,...|all]
                                  [--vrptw-time 10] [--pvrp-time 60] [--seeds 1[,2,...]]
                                  [--jobs 1] [--no-pyvrp] [--reference-days] [--limit 4]

Each instance is solved by ``planner bench vrptw|pvrp`` in its own process, the solution is
checked by the independent validators in ``../shared/bench`` (feasibility and unrounded cost),
and a table is printed: cost, gap to the best-known (PVRP) or ratio to PyVRP 0.14 run at the
same time limit in the same run (VRPTW), and seconds. Needs the ``bench`` extra (pyvrp).

``--seeds``: each instance is solved once per seed; the PVRP table has a cost and gap per seed,
then each instance's mean and worst gap, and the summary the mean gap per seed and the worst
run, then the runs above ``--limit`` per cent (default 4, the goal's bound) and their instances.
A time-limited search ends in a different place for each seed, and for one seed from run to
run (Cordeau p10 at 60 s, two jobs: over seeds 1-16 a mean of 3.6% above the best-known, at
worst 6.5%; seed 1 2.0% and 5.2% in two runs), so one seed hides instances that are often bad.
``--jobs N``: N runs at a time, each in its own single-threaded process (at most the cores).
The ``rt`` columns count the routes of each plan, ``ref rt`` those of Cordeau's reference
solution: on tightly loaded instances (p10: the loads fill 96.5% of 16 routes) a plan with a
route more than the reference is usually several per cent above it.

``--reference-days`` (PVRP): each customer is held to the days Cordeau's reference solution
(``../shared/bench/pvrp/solutions_cgl1997``) visits it on (``planner bench pvrp --days-from``),
and the gap is to that solution's cost: what the routing alone loses, apart from the choice of
days, which is the rest of the gap to the best-known.
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
from concurrent.futures import Future, ThreadPoolExecutor
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


def _planner(kind: str, instance: Path, time_limit: float, seed: int, sol: Path,
             days_from: Path | None = None) -> float:
    """Seconds ``planner bench`` took; a :class:`RuntimeError` with its output if it failed."""
    t0 = time.perf_counter()
    extra = ["--days-from", str(days_from)] if days_from is not None else []
    out = subprocess.run([sys.executable, "-m", "planner.cli", "bench", kind, str(instance), "--time-limit",
                          str(time_limit), "--seed", str(seed), "--out", str(sol), *extra], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(" ".join((out.stdout + out.stderr).split())[-300:] or f"exit {out.returncode}")
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


def _reference_pvrp(name: str) -> Path:
    """Cordeau's reference solution of ``name`` (first line: its cost)."""
    return BENCH / "pvrp" / "solutions_cgl1997" / f"{name}.res"


def _reference_summary(name: str) -> tuple[float, int] | None:
    """Cordeau's reference solution of ``name``: its cost (first line) and its number of routes
    (a line each after it), or None without one."""
    path = _reference_pvrp(name)
    if not path.is_file():
        return None
    lines = path.read_text().splitlines()
    return float(lines[0].split()[0]), sum(1 for ln in lines[1:] if ln.strip())


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"give one or more distinct seeds: {text!r}")
    return seeds


def _vrptw_run(name: str, seed: int, time_limit: float, pyvrp: bool, tmp: Path) -> dict:
    inst = BENCH / "solomon" / f"{name}.txt"
    ours = tmp / f"{name}.{seed}.json"
    try:
        secs = _planner("vrptw", inst, time_limit, seed, ours)
    except RuntimeError as e:
        return {"v": {"feasible": False}, "ref": None, "ratio": None, "secs": float("nan"), "error": str(e)}
    v = _validate("vrptw", inst, ours)
    ref = ratio = None
    if pyvrp:
        pv = tmp / f"{name}.{seed}.pyvrp.json"
        pyvrp_vrptw(inst, time_limit, seed, pv)
        w = _validate("vrptw", inst, pv)
        ref = w.get("distance") if w.get("feasible") else None
        if ref and v.get("feasible"):
            ratio = v["distance"] / ref
    return {"v": v, "ref": ref, "ratio": ratio, "secs": secs}


def _pvrp_run(name: str, seed: int, time_limit: float, reference: bool, tmp: Path) -> dict:
    inst = BENCH / "pvrp" / "instances" / name
    ours = tmp / f"{name}.{seed}.json"
    days_from = _reference_pvrp(name) if reference else None
    try:
        secs = _planner("pvrp", inst, time_limit, seed, ours, days_from)
    except RuntimeError as e:
        return {"v": {"feasible": False}, "secs": float("nan"), "error": str(e)}
    routes = sum(1 for r in json.loads(ours.read_text())["routes"] if r["stops"])
    return {"v": _validate("pvrp", inst, ours), "secs": secs, "routes": routes}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vrptw", default=VRPTW_12, help="Solomon instances, comma-separated ('' for none)")
    ap.add_argument("--pvrp", default=PVRP_9, help="Cordeau instances, comma-separated, or 'all' ('' for none)")
    ap.add_argument("--vrptw-time", type=float, default=10.0)
    ap.add_argument("--pvrp-time", type=float, default=60.0)
    ap.add_argument("--seeds", "--seed", type=_seeds, default=[1], help="seed, or seeds comma-separated")
    ap.add_argument("--jobs", type=int, default=1, help="runs at a time, each in its own process")
    ap.add_argument("--no-pyvrp", action="store_true", help="skip the PyVRP comparison")
    ap.add_argument("--limit", type=float, default=4.0,
                    help="PVRP: count the runs whose gap is above this many per cent (the goal's 4)")
    ap.add_argument("--reference-days", action="store_true",
                    help="PVRP: hold customers to the reference solution's days; gap to its cost")
    a = ap.parse_args()
    if a.jobs < 1:
        ap.error("--jobs must be at least 1")
    if not math.isfinite(a.limit):
        ap.error("--limit must be a number of per cent")
    tmp = Path(tempfile.mkdtemp(prefix="research-"))
    seeds = a.seeds
    with ThreadPoolExecutor(max_workers=a.jobs) as pool:
        if a.vrptw:
            names = a.vrptw.split(",")
            runs = {(n, s): pool.submit(_vrptw_run, n, s, a.vrptw_time, not a.no_pyvrp, tmp)
                    for n in names for s in seeds}
            print(f"VRPTW (Solomon), {a.vrptw_time:g} s, seeds {','.join(map(str, seeds))}")
            print(f"{'instance':<8} {'seed':>4} {'ours':>9} {'feasible':>8} {'routes':>6} {'pyvrp':>9} "
                  f"{'ratio':>6} {'secs':>5}")
            ratios = []
            for (name, seed), fut in runs.items():
                r = fut.result()
                v, ref, ratio = r["v"], r["ref"], r["ratio"]
                if ratio:
                    ratios.append(ratio)
                print(f"{name:<8} {seed:>4} {v.get('distance', float('nan')):>9.2f} {str(v.get('feasible')):>8} "
                      f"{v.get('vehicles', '-')!s:>6} {ref if ref else float('nan'):>9.2f} "
                      f"{ratio if ratio else float('nan'):>6.3f} {r['secs']:>5.1f}", flush=True)
                if "error" in r:
                    print(f"  error: {r['error']}", flush=True)
            if ratios:
                print(f"mean ratio to PyVRP: {sum(ratios) / len(ratios):.4f} over {len(ratios)} runs")
        if a.pvrp:
            _pvrp_table(a, pool, seeds, tmp)


def _pvrp_table(a: argparse.Namespace, pool: ThreadPoolExecutor, seeds: list[int], tmp: Path) -> None:
    bks = _bks_pvrp()
    names = sorted(bks, key=lambda n: (n[:2] == "pr", int(n.lstrip("pr")))) if a.pvrp == "all" else a.pvrp.split(",")
    reference = {n: _reference_summary(n) for n in names}
    unknown = [n for n in names if n not in bks or a.reference_days and reference[n] is None]
    if unknown:
        raise SystemExit(f"no best-known cost or reference solution for: {', '.join(unknown)}")
    target = {n: reference[n][0] if a.reference_days else bks[n] for n in names}
    runs: dict[tuple[str, int], Future] = {(n, s): pool.submit(_pvrp_run, n, s, a.pvrp_time, a.reference_days, tmp)
                                           for n in names for s in seeds}
    what = "reference days held, gap to the reference solution" if a.reference_days else "gap to the best-known"
    print(f"\nPVRP (Cordeau), {a.pvrp_time:g} s, seeds {','.join(map(str, seeds))}; {what}")
    head = f"{'instance':<8} {'ref' if a.reference_days else 'bks':>10} {'ref rt':>6}"
    for s in seeds:
        head += f" {'seed ' + str(s):>10} {'gap %':>6} {'rt':>3}"
    if len(seeds) > 1:
        head += f" {'mean %':>6} {'worst %':>7}"
    print(head + f" {'secs':>5}")
    per_seed: dict[int, list[float]] = {s: [] for s in seeds}
    worst: tuple[float, str, int] | None = None
    above: dict[str, int] = {}  # instance -> runs with a gap above the limit
    for name in names:
        ref_routes = reference[name][1] if reference[name] is not None else float("nan")
        row, gaps, secs, errors = f"{name:<8} {target[name]:>10.2f} {ref_routes:>6}", [], 0.0, []
        for s in seeds:
            r = runs[(name, s)].result()
            if "error" in r:
                errors.append(f"  seed {s} error: {r['error']}")
            v = r["v"]
            secs = max(secs, r["secs"])
            gap = 100 * (v["cost"] / target[name] - 1) if v.get("feasible") else float("nan")
            if v.get("feasible"):
                gaps.append(gap)
                per_seed[s].append(gap)
                if worst is None or gap > worst[0]:
                    worst = (gap, name, s)
                if gap > a.limit:
                    above[name] = above.get(name, 0) + 1
            row += f" {v.get('cost', float('nan')):>10.2f} {gap:>6.2f} {r.get('routes', float('nan')):>3}"
        if len(seeds) > 1:
            row += f" {sum(gaps) / len(gaps) if gaps else float('nan'):>6.2f} {max(gaps, default=float('nan')):>7.2f}"
        print(row + f" {secs:>5.1f}", flush=True)
        for e in errors:
            print(e, flush=True)
    if worst is not None:
        means = [sum(g) / len(g) if g else float("nan") for g in per_seed.values()]
        print(f"mean gap {' / '.join(f'{m:.2f}' for m in means)}% (seed {' / '.join(map(str, seeds))}), "
              f"worst run {worst[0]:.2f}% ({worst[1]} seed {worst[2]}), "
              f"feasible {sum(map(len, per_seed.values()))}/{len(names) * len(seeds)}")
        listed = ", ".join(f"{n} {k}/{len(seeds)}" for n, k in above.items())
        print(f"runs above {a.limit:g}%: {sum(above.values())} of {sum(map(len, per_seed.values()))}"
              + (f" ({listed})" if listed else ""))


if __name__ == "__main__":
    main()
