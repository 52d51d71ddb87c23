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
    from pyvrp.search import NeighbourhoodParams
    from pyvrp.stop import MaxIterations, MaxRuntime
except ImportError:  # pragma: no cover - depends on the install
    pyvrp = None

MAX_PRIZE = 10 ** 9
MAX_PROFILES = 32  # allowed vehicles are stated as routing profiles: at most this many kinds of vehicle
MAX_PROFILE_CELLS = 40_000_000  # and at most this many matrix cells over all profiles


def available() -> bool:
    """True if PyVRP is installed."""
    return pyvrp is not None


def supports(problem: RoutingProblem) -> bool:
    """True if PyVRP can solve ``problem`` exactly as stated. Allowed vehicles are expressed as
    routing profiles (a visit is out of reach in the profile of a vehicle that may not serve
    it), so vehicles must fall into at most :data:`MAX_PROFILES` kinds by the visits they may serve."""
    return _supports(problem, _signatures(problem))


def _supports(problem: RoutingProblem, sigs: list[frozenset[int]]) -> bool:
    """:func:`supports`, given the vehicles' :func:`_signatures`."""
    if pyvrp is None or any(len(w) != 1 for w in problem.start_windows) or \
            any(v.brk is not None for v in problem.vehicles):
        return False
    if problem.allowed_vehicles is None:
        return True
    n_prof = len(set(sigs))
    locs = problem.n_visits + 2 * len(problem.vehicles)
    return n_prof <= MAX_PROFILES and n_prof * locs * locs <= MAX_PROFILE_CELLS


def _signatures(problem: RoutingProblem) -> list[frozenset[int]]:
    """Per vehicle, the visits it may serve (all when there is no restriction)."""
    n = problem.n_visits
    allowed = problem.allowed_vehicles
    if allowed is None:
        return [frozenset(range(n))] * len(problem.vehicles)
    may: list[set[int]] = [set() for _ in problem.vehicles]
    for i in range(n):
        for v in (range(len(problem.vehicles)) if allowed[i] is None else allowed[i]):
            may[v].add(i)
    return [frozenset(m) for m in may]


class PyVrpEngine:
    """Solves routing problems with PyVRP (see :func:`supports`)."""

    def solve(self, problem: RoutingProblem, options: SearchOptions) -> RoutingSolution:
        """Solve ``problem``; optional visits may be left out (dropped)."""
        sigs = _signatures(problem)
        if not _supports(problem, sigs):
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
        kinds = list(dict.fromkeys(sigs))  # one routing profile per kind of vehicle
        profile_of = [kinds.index(sg) for sg in sigs]
        dists, durs = [dist], [dur]
        if len(kinds) > 1 or len(kinds[0]) < n:
            # out of reach: longer than any route of real edges, so never taken in a feasible solution
            big_d = min(int(dist.max() + 1) * (n + 2), 2 ** 40)
            big_t = min(int(dur.max() + 1) * (n + 2), 2 ** 40)
            dists, durs = [], []
            for sg in kinds:
                off = np.array([False] * len(depot_locs) + [i not in sg for i in range(n)])
                dd, tt = dist.copy(), dur.copy()
                dd[off, :] = big_d
                dd[:, off] = big_d
                tt[off, :] = big_t
                tt[:, off] = big_t
                np.fill_diagonal(dd, 0)
                np.fill_diagonal(tt, 0)
                dists.append(dd)
                durs.append(tt)
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
        for v, prof in zip(problem.vehicles, profile_of):
            cap = []
            if has_load:
                cap.append(v.capacity if v.capacity is not None else total)
            if capped:
                cap.append(v.max_visits if v.max_visits is not None else n)
            key = (tuple(cap), depot_locs.index(v.start_loc), depot_locs.index(v.end_loc), v.earliest_start,
                   v.latest_end, v.max_duration, v.cost_per_unit, v.cost_per_second, prof)
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
            cap, s, e, tw0, tw1, maxd, cu, cs, prof = key
            cu, cs = cu // g, cs // g
            kw = {} if maxd is None else {"shift_duration": int(maxd)}
            vtypes.append(pyvrp.VehicleType(type_of.count(t), capacity=list(cap), start_depot=s, end_depot=e,
                                            tw_early=int(tw0), tw_late=int(tw1), unit_distance_cost=int(cu),
                                            unit_duration_cost=int(cs), profile=prof, **kw))
        data = pyvrp.ProblemData([pyvrp.Location(0, 0) for _ in locs], clients, depots, vtypes, dists, durs)
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
        # PyVRP caps its penalty per unit of excess load, duration or lateness (1e5 by default); with
        # long edges in our units a capped penalty can be cheaper than a feasible route: raise the
        # cap to ten of the longest real edges
        edge = max(int(dist.max()) * max(1, types[0][6] // g), 1) if n else 1
        extra = {}
        if options.neighbours is not None:
            size = max(1, min(int(options.neighbours), n - 1))  # (at most the other visits)
            extra["neighbourhood"] = NeighbourhoodParams(num_neighbours=size)
        if options.history is not None:
            extra["ils"] = pyvrp.IteratedLocalSearchParams(history_length=max(1, int(options.history)))
        params = pyvrp.SolveParams(penalty=pyvrp.PenaltyParams(max_penalty=float(max(1e5, 10 * edge))), **extra)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # penalty-bound warnings: infeasibility is reported below
            res = pyvrp.solve(data, stop, seed=options.seed, display=False, collect_stats=False,
                              initial_solution=initial, params=params)
        best = res.best
        if not best.is_feasible():
            return RoutingSolution(tuple(() for _ in problem.vehicles), tuple(range(n)), 0, feasible=False)
        out: list[tuple[int, ...]] = [() for _ in problem.vehicles]
        free = {t: [v for v in range(len(problem.vehicles)) if type_of[v] == t] for t in range(len(types))}
        served = set()
        for route in best.routes():
            seq = tuple(a.idx for a in route if a.is_client())
            v = free[route.vehicle_type()].pop(0)
            if any(i not in sigs[v] for i in seq):  # an out-of-reach edge: no real solution found
                return RoutingSolution(tuple(() for _ in problem.vehicles), tuple(range(n)), 0, feasible=False)
            out[v] = seq
            served.update(seq)
        return RoutingSolution(tuple(out), tuple(i for i in range(n) if i not in served), int(round(res.cost())))
