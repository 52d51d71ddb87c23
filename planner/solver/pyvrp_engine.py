"""The PyVRP routing engine (optional extra ``fast``): the only module that imports PyVRP.

PyVRP's iterated local search is faster than OR-Tools on problems it can express: one time
window per visit, no breaks, load capacities, visit caps (as a second load dimension), optional
visits with a prize. :func:`supports` tells whether a problem fits; the pipeline falls back to
OR-Tools (the general engine: lunch breaks, several windows a day, allowed vehicles) otherwise.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from planner.solver.problem import RoutingProblem, RoutingSolution, SearchOptions

try:  # an optional dependency
    import pyvrp
    from pyvrp.stop import MaxIterations, MaxRuntime
except ImportError:  # pragma: no cover - depends on the install
    pyvrp = None

MAX_PRIZE = 10 ** 9


def available() -> bool:
    """True if PyVRP is installed."""
    return pyvrp is not None


def supports(problem: RoutingProblem) -> bool:
    """True if PyVRP can solve ``problem`` exactly as stated."""
    return (pyvrp is not None and problem.allowed_vehicles is None
            and all(len(w) == 1 for w in problem.start_windows)
            and all(v.brk is None for v in problem.vehicles))


class PyVrpEngine:
    """Solves routing problems with PyVRP (see :func:`supports`)."""

    def solve(self, problem: RoutingProblem, options: SearchOptions) -> RoutingSolution:
        """Solve ``problem``; optional visits may be left out (dropped)."""
        if not supports(problem):
            raise ValueError("problem has constraints PyVRP cannot express; use the OR-Tools engine")
        n = problem.n_visits
        if n == 0:
            return RoutingSolution(tuple(() for _ in problem.vehicles), (), 0)
        depot_locs: list[int] = []
        for v in problem.vehicles:
            for loc in (v.start_loc, v.end_loc):
                if loc not in depot_locs:
                    depot_locs.append(loc)
        locs = depot_locs + list(problem.visit_loc)
        dist = np.asarray(problem.distance, dtype=np.int64)[np.ix_(locs, locs)]
        dur = np.asarray(problem.duration, dtype=np.int64)[np.ix_(locs, locs)]
        capped = any(v.max_visits is not None for v in problem.vehicles)
        has_load = problem.demand is not None and any(v.capacity is not None for v in problem.vehicles)
        total = int(sum(problem.demand)) if problem.demand is not None else 0

        def load(i: int) -> list[int]:
            out = []
            if has_load:
                out.append(int(problem.demand[i]))
            if capped:
                out.append(1)
            return out

        clients = []
        for i in range(n):
            (a, b), = problem.start_windows[i]
            pen = problem.penalty[i] if problem.penalty is not None else None
            clients.append(pyvrp.Client(
                len(depot_locs) + i, delivery=load(i), service_duration=int(problem.service[i]),
                tw_early=int(a), tw_late=int(b), required=pen is None,
                prize=min(int(pen), MAX_PRIZE) if pen is not None else 0))
        depots = [pyvrp.Depot(k) for k in range(len(depot_locs))]
        types: list[tuple] = []
        type_of: list[int] = []
        for v in problem.vehicles:
            cap = []
            if has_load:
                cap.append(v.capacity if v.capacity is not None else total)
            if capped:
                cap.append(v.max_visits if v.max_visits is not None else n)
            key = (tuple(cap), depot_locs.index(v.start_loc), depot_locs.index(v.end_loc), v.earliest_start,
                   v.latest_end, v.max_duration, v.cost_per_unit, v.cost_per_second)
            if key not in types:
                types.append(key)
            type_of.append(types.index(key))
        # PyVRP's penalties adapt to the cost scale: keep unit costs as small as they can be
        g = 0
        for v in problem.vehicles:
            g = math.gcd(g, int(v.cost_per_unit), int(v.cost_per_second))
        g = max(g, 1)
        vtypes = []
        for t, key in enumerate(types):
            cap, s, e, tw0, tw1, maxd, cu, cs = key
            cu, cs = cu // g, cs // g
            kw = {} if maxd is None else {"shift_duration": int(maxd)}
            vtypes.append(pyvrp.VehicleType(type_of.count(t), capacity=list(cap), start_depot=s, end_depot=e,
                                            tw_early=int(tw0), tw_late=int(tw1), unit_distance_cost=int(cu),
                                            unit_duration_cost=int(cs), **kw))
        data = pyvrp.ProblemData([pyvrp.Location(0, 0) for _ in locs], clients, depots, vtypes, [dist], [dur])
        initial = None
        if options.initial_routes:
            routes = []
            for v, seq in enumerate(options.initial_routes):
                if seq:
                    routes.append(pyvrp.Route(data, list(seq), type_of[v]))
            try:
                initial = pyvrp.Solution(data, routes)
            except (RuntimeError, ValueError):
                initial = None
        stop = (MaxIterations(options.solution_limit) if options.solution_limit
                else MaxRuntime(max(0.01, options.time_limit)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # penalty-bound warnings: infeasibility is reported below
            res = pyvrp.solve(data, stop, seed=options.seed, display=False, collect_stats=False,
                              initial_solution=initial)
        best = res.best
        if not best.is_feasible():
            return RoutingSolution(tuple(() for _ in problem.vehicles), tuple(range(n)), 0, feasible=False)
        out: list[tuple[int, ...]] = [() for _ in problem.vehicles]
        free = {t: [v for v in range(len(problem.vehicles)) if type_of[v] == t] for t in range(len(types))}
        served = set()
        for route in best.routes():
            seq = tuple(a.idx for a in route if a.is_client())
            v = free[route.vehicle_type()].pop(0)
            out[v] = seq
            served.update(seq)
        return RoutingSolution(tuple(out), tuple(i for i in range(n) if i not in served), int(round(res.cost())))
