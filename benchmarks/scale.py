"""Scale benchmark: big regions decomposed by territory and planned in parallel.

    .venv/bin/python benchmarks/scale.py                          # 2,000 customers: 1 and 2 workers
    .venv/bin/python benchmarks/scale.py --cases 2000,20000 --time-limit 60 --big-time-limit 300

Generated Hangzhou regions (``planner.synthetic``, seed 2026), 4 weeks from 2026-11-30:

* ``2000``: 2,000 customers, 50 reps, ``--time-limit`` seconds of search (default 60).
  ``workers 1`` plans the region in one piece in one process (``plan_region``, as ``planner plan
  --workers 1``); ``workers 2`` decomposes it by territory and plans the parts in a local pool of
  2 processes (``planner plan --workers 2``). The target: a complete feasible plan within 120 s
  and 2 GB on 2 cores.
* ``20000``: 20,000 customers, 500 reps. Both runs decompose it into the same parts with the same
  search time per part (``--big-time-limit`` shared as for 2 workers); ``workers 1`` plans the
  parts one after another in one process, ``workers 2`` in a pool of 2; speed-up = seconds with 1
  / seconds with 2. (One piece would need matrices of 3 GB each over 20,000 customers: not run.)

Every run is its own process. Seconds: wall time from the region to the checked plan (matrices,
territories, parts, merge, evaluation). Peak MB: the largest sum of the resident memory of the
run's process and its children (the pool), sampled every 0.2 s (psutil; without it, the largest
single process from getrusage). Also: visits planned / required, km per visit, the evaluator's
violations, parts and their search time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

START = dt.date(2026, 11, 30)
WEEKS = 4
REPS_FOR = {2000: 50, 20000: 500}


class PeakMemory:
    """Samples the resident memory of this process and all its children (a background thread)."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        try:
            import psutil
            self._proc = psutil.Process()
        except ImportError:  # pragma: no cover - the bench extra installs psutil
            self._proc = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = 0
        procs = [self._proc]
        try:
            procs += self._proc.children(recursive=True)
        except Exception:  # noqa: BLE001 - a child may end while we look
            pass
        for p in procs:
            try:
                total += p.memory_info().rss
            except Exception:  # noqa: BLE001
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakMemory":
        if self._proc is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._proc is not None:
            self._thread.join()

    def mb(self) -> int:
        """Peak MB of the process tree (psutil) or, without psutil, of its largest process."""
        if self._proc is not None:
            return round(self.peak / 2 ** 20)
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return round(max(own, kids) / 1024)


def run_one(case: int, workers: int, time_limit: float, seed: int) -> dict:
    """Plan one case in this process (and its pool) and return its figures."""
    from planner.pipeline import plan_region
    from planner.pipeline.decompose import SerialExecutor, part_count, plan_region_parallel
    from planner.synthetic import generate_region

    region = generate_region(case, REPS_FOR.get(case, max(1, case // 40)), seed=2026)
    n = sum(c.active for c in region.customers)
    big = case > 5000
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        if big:  # the same parts and search per part for 1 and 2 workers
            parts = part_count(n, len(region.reps), 2)
            per_part = time_limit * 2 / parts
            res = plan_region_parallel(region, START, WEEKS, workers=workers, parts=parts, part_time_limit=per_part,
                                       time_limit=time_limit, seed=seed, check=False,
                                       executor=SerialExecutor() if workers == 1 else None)
        elif workers == 1:
            res = plan_region(region, START, WEEKS, time_limit=time_limit, seed=seed, check=False)
        else:
            res = plan_region_parallel(region, START, WEEKS, workers=workers, time_limit=time_limit, seed=seed,
                                       check=False)
        secs = time.perf_counter() - t0
    k = res.evaluation.kpis
    return {
        "case": case, "customers": n, "reps": len(region.reps), "workers": workers, "time_limit": time_limit,
        "mode": "parts serial" if big and workers == 1 else ("one piece" if workers == 1 else "parts pool"),
        "parts": res.stats.get("parts", 1), "part_time_limit": res.stats.get("part_time_limit", time_limit),
        "territory_s": res.stats.get("territory_seconds"), "blocks": res.stats.get("blocks"),
        "seconds": round(secs, 1), "peak_mb": mem.mb(),
        "visits": k["visits"], "required": k["required_visits"], "compliance": k["compliance"],
        "km_per_visit": k["km_per_visit"], "cost": k["cost"], "unassigned": len(res.plan.unassigned),
        "violations": len(res.evaluation.violations),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="2000", help="comma-separated: 2000, 20000")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--time-limit", type=float, default=60.0, help="search seconds of the 2,000 case")
    ap.add_argument("--big-time-limit", type=float, default=300.0,
                    help="search seconds of the 20,000 case (shared by its parts as for 2 workers)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the rows to this file (JSON lines)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--one-workers", type=int, default=1, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        limit = a.big_time_limit if a.one > 5000 else a.time_limit
        print(json.dumps(run_one(a.one, a.one_workers, limit, a.seed)))
        return
    cols = ["case", "workers", "mode", "parts", "part_time_limit", "seconds", "peak_mb", "visits", "required",
            "compliance", "km_per_visit", "unassigned", "violations"]
    print(" | ".join(f"{c:>12}" for c in cols), flush=True)
    rows = []
    for case in (int(c) for c in a.cases.split(",")):
        for w in (int(x) for x in a.workers.split(",")):
            out = subprocess.run([sys.executable, __file__, "--one", str(case), "--one-workers", str(w),
                                  "--time-limit", str(a.time_limit), "--big-time-limit", str(a.big_time_limit),
                                  "--seed", str(a.seed)], capture_output=True, text=True, cwd=ROOT)
            if out.returncode != 0:
                print(f"case {case} with {w} worker(s) failed:\n{out.stderr[-3000:]}", file=sys.stderr)
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(" | ".join(f"{row[c]!s:>12}" for c in cols), flush=True)
            if a.json:
                with open(a.json, "a", encoding="utf-8") as f:
                    f.write(json.dumps(row) + "\n")
        by_w = {r["workers"]: r for r in rows if r["case"] == case}
        if 1 in by_w and 2 in by_w and by_w[2]["seconds"]:
            print(f"case {case}: speed-up 1 -> 2 workers: {by_w[1]['seconds'] / by_w[2]['seconds']:.2f}x "
                  f"({by_w[1]['seconds']} s -> {by_w[2]['seconds']} s); peak {by_w[1]['peak_mb']} MB -> "
                  f"{by_w[2]['peak_mb']} MB", flush=True)


if __name__ == "__main__":
    main()
