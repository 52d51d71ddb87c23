"""The OR-Tools routing engine. This is the only module of the project that imports OR-Tools.

It turns a :class:`~planner.solver.problem.RoutingProblem` into an OR-Tools routing model:
one node per visit plus a start and an end node per vehicle; a time dimension (service +
driving, slack for waiting) with the visits' start windows (several per day: the gaps are
removed from the cumul domain), the vehicles' working hours and their lunch break as break
intervals; a visit-count dimension for caps; a load dimension for capacities; arc costs per
distance unit and span costs per second per vehicle; optional visits as disjunctions with a
drop penalty. Searches are deterministic when they end at a local optimum or a solution
limit before the time limit.
"""
from __future__ import annotations

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from planner.solver.problem import RoutingProblem, RoutingSolution, SearchOptions

_FIRST = {
    "AUTOMATIC": routing_enums_pb2.FirstSolutionStrategy.AUTOMATIC,
    "PATH_CHEAPEST_ARC": routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC,
    "PARALLEL_CHEAPEST_INSERTION": routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION,
    "LOCAL_CHEAPEST_INSERTION": routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION,
    "SAVINGS": routing_enums_pb2.FirstSolutionStrategy.SAVINGS,
    "CHRISTOFIDES": routing_enums_pb2.FirstSolutionStrategy.CHRISTOFIDES,
    "GLOBAL_CHEAPEST_ARC": routing_enums_pb2.FirstSolutionStrategy.GLOBAL_CHEAPEST_ARC,
}


class OrToolsEngine:
    """Solves routing problems with OR-Tools' routing library."""

    def solve(self, problem: RoutingProblem, options: SearchOptions) -> RoutingSolution:
        """Solve ``problem``; visits that cannot be served are dropped (if optional)."""
        n = problem.n_visits
        nv = len(problem.vehicles)
        if nv == 0:
            return RoutingSolution(tuple(), tuple(range(n)), 0, feasible=n == 0)
        starts = [n + 2 * v for v in range(nv)]
        ends = [n + 2 * v + 1 for v in range(nv)]
        node_loc = np.empty(n + 2 * nv, dtype=np.int64)
        node_loc[:n] = problem.visit_loc
        for v, veh in enumerate(problem.vehicles):
            node_loc[starts[v]] = veh.start_loc
            node_loc[ends[v]] = veh.end_loc
        service = np.zeros(n + 2 * nv, dtype=np.int64)
        service[:n] = problem.service
        dist = np.asarray(problem.distance, dtype=np.int64)[np.ix_(node_loc, node_loc)]
        dur = np.asarray(problem.duration, dtype=np.int64)[np.ix_(node_loc, node_loc)]
        time_m = dur + service[:, None]
        for e in ends:  # nothing leaves an end node
            time_m[e, :] = 0
            dist[e, :] = 0

        manager = pywrapcp.RoutingIndexManager(n + 2 * nv, nv, starts, ends)
        model = pywrapcp.RoutingModel(manager)
        # Matrices are indexed by node; OR-Tools' transit matrices are indexed by node too.
        time_cb = model.RegisterTransitMatrix(time_m.tolist())
        cost_cbs: dict[int, int] = {}
        for v, veh in enumerate(problem.vehicles):
            if veh.cost_per_unit not in cost_cbs:
                cost_cbs[veh.cost_per_unit] = model.RegisterTransitMatrix(
                    (dist * veh.cost_per_unit).tolist())
            model.SetArcCostEvaluatorOfVehicle(cost_cbs[veh.cost_per_unit], v)

        horizon = max([veh.latest_end for veh in problem.vehicles] + [24 * 3600])
        model.AddDimension(time_cb, horizon, horizon, False, "time")
        time_dim = model.GetDimensionOrDie("time")
        for i in range(n):
            idx = manager.NodeToIndex(i)
            wins = problem.start_windows[i]
            cum = time_dim.CumulVar(idx)
            if not wins:
                cum.SetRange(0, 0)  # cannot happen: visits without windows are filtered out
                continue
            cum.SetRange(int(wins[0][0]), int(wins[-1][1]))
            for (a0, b0), (a1, _b1) in zip(wins, wins[1:]):
                if a1 > b0 + 1:
                    cum.RemoveInterval(int(b0) + 1, int(a1) - 1)
        solver = model.solver()
        for v, veh in enumerate(problem.vehicles):
            time_dim.CumulVar(model.Start(v)).SetRange(veh.earliest_start, veh.latest_end)
            time_dim.CumulVar(model.End(v)).SetRange(veh.earliest_start, veh.latest_end)
            if veh.cost_per_second:
                time_dim.SetSpanCostCoefficientForVehicle(veh.cost_per_second, v)
            if veh.max_duration is not None:
                solver.Add(time_dim.CumulVar(model.End(v)) - time_dim.CumulVar(model.Start(v))
                           <= veh.max_duration)
            if veh.brk is not None:
                b = veh.brk
                interval = solver.FixedDurationIntervalVar(
                    b.earliest_start, b.latest_start, b.duration, False, f"break_{v}")
                time_dim.SetBreakIntervalsOfVehicle([interval], v, service.tolist())
        for v in range(nv):
            model.AddVariableMinimizedByFinalizer(time_dim.CumulVar(model.End(v)))
            model.AddVariableMaximizedByFinalizer(time_dim.CumulVar(model.Start(v)))

        if any(veh.max_visits is not None for veh in problem.vehicles):
            ones = [1] * n + [0] * (2 * nv)
            cnt = model.RegisterUnaryTransitVector(ones)
            caps = [veh.max_visits if veh.max_visits is not None else n for veh in problem.vehicles]
            model.AddDimensionWithVehicleCapacity(cnt, 0, caps, True, "visits")
        if problem.demand is not None and any(veh.capacity is not None for veh in problem.vehicles):
            dem = list(problem.demand) + [0] * (2 * nv)
            dcb = model.RegisterUnaryTransitVector([int(x) for x in dem])
            caps = [veh.capacity if veh.capacity is not None else int(sum(dem)) for veh in problem.vehicles]
            model.AddDimensionWithVehicleCapacity(dcb, 0, caps, True, "load")
        if problem.allowed_vehicles is not None:
            for i, allowed in enumerate(problem.allowed_vehicles):
                if allowed is not None:
                    # (SetAllowedVehiclesForIndex does not take a Python list in OR-Tools 9.15)
                    model.VehicleVar(manager.NodeToIndex(i)).SetValues([-1, *map(int, allowed)])
        if problem.penalty is not None:
            for i, pen in enumerate(problem.penalty):
                if pen is not None:
                    model.AddDisjunction([manager.NodeToIndex(i)], int(pen))

        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = _FIRST[options.first_solution]
        if options.guided:
            params.local_search_metaheuristic = (
                routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
        else:
            params.local_search_metaheuristic = (
                routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT)
        params.time_limit.FromMilliseconds(max(1, int(options.time_limit * 1000)))
        if options.solution_limit is not None:
            params.solution_limit = options.solution_limit

        solution = None
        if options.initial_routes:
            model.CloseModelWithParameters(params)  # (else reading the routes closes it with the defaults)
            init = model.ReadAssignmentFromRoutes(
                [[manager.NodeToIndex(i) for i in r] for r in options.initial_routes], True)
            if init is not None:
                solution = model.SolveFromAssignmentWithParameters(init, params)
        if solution is None:
            solution = model.SolveWithParameters(params)
        if solution is None:
            return RoutingSolution(tuple(() for _ in range(nv)), tuple(range(n)), 0, feasible=False)
        routes = []
        served = set()
        for v in range(nv):
            idx = solution.Value(model.NextVar(model.Start(v)))
            seq = []
            while not model.IsEnd(idx):
                node = manager.IndexToNode(idx)
                seq.append(node)
                served.add(node)
                idx = solution.Value(model.NextVar(idx))
            routes.append(tuple(seq))
        dropped = tuple(i for i in range(n) if i not in served)
        return RoutingSolution(tuple(routes), dropped, int(solution.ObjectiveValue()))
