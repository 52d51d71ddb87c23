"""PyVrpEngine on tiny problems, checked against hand-computed optima and against OR-Tools.

Locations on a line, 1 km apart: depot at 0, visits at 1..4 km east.
"""
from __future__ import annotations

import numpy as np
import pytest

from planner.solver import pyvrp_engine
from planner.solver.ortools_engine import OrToolsEngine
from planner.solver.problem import BreakSpec, RoutingProblem, SearchOptions, VehicleSpec

pytestmark = pytest.mark.skipif(not pyvrp_engine.available(), reason="pyvrp (extra 'fast') not installed")

POS = np.arange(5)
DIST = np.abs(POS[:, None] - POS[None, :]) * 1000
DUR = np.abs(POS[:, None] - POS[None, :]) * 60
DAY = ((0, 86_400),)


def problem(vehicles=(VehicleSpec(0, 0, 0, 86_400),), windows=(DAY,) * 4, demand=None, penalty=None):
    return RoutingProblem(distance=DIST, duration=DUR, visit_loc=(1, 2, 3, 4), service=(0,) * 4,
                          start_windows=tuple(windows), vehicles=tuple(vehicles), demand=demand, penalty=penalty)


def test_line_costs_eight_km():
    sol = pyvrp_engine.PyVrpEngine().solve(problem(), SearchOptions(time_limit=0.3))
    assert sorted(sol.routes[0]) == [0, 1, 2, 3]
    assert sol.objective == 8000  # out to 4 km and back


def test_capacity_splits_the_line_in_two_routes():
    # capacity 2 of 4 unit demands: two routes; best = {1,2 km} (4 km) + {3,4 km} (8 km) = 12 km
    veh = VehicleSpec(0, 0, 0, 86_400, capacity=2)
    sol = pyvrp_engine.PyVrpEngine().solve(problem(vehicles=(veh, veh), demand=(1, 1, 1, 1)),
                                           SearchOptions(time_limit=0.3))
    assert sorted(sorted(r) for r in sol.routes) == [[0, 1], [2, 3]]
    assert sol.objective == 12_000


def test_impossible_optional_visit_is_dropped():
    # the 4 km visit must start by 100 s but takes 240 s to reach: dropped at its penalty
    wins = (DAY, DAY, DAY, ((0, 100),))
    sol = pyvrp_engine.PyVrpEngine().solve(problem(windows=wins, penalty=(10**6,) * 4),
                                           SearchOptions(time_limit=0.3))
    assert sol.dropped == (3,)
    assert sorted(sol.routes[0]) == [0, 1, 2]


def test_supports_refuses_breaks_and_several_windows():
    with_break = problem(vehicles=(VehicleSpec(0, 0, 0, 86_400, brk=BreakSpec(3600, 40000, 45000)),))
    two_windows = problem(windows=(((0, 100), (200, 300)),) + (DAY,) * 3)
    assert not pyvrp_engine.supports(with_break)
    assert not pyvrp_engine.supports(two_windows)
    assert pyvrp_engine.supports(problem())
    with pytest.raises(ValueError):
        pyvrp_engine.PyVrpEngine().solve(with_break, SearchOptions())


def test_same_answer_as_ortools_on_a_random_cvrp():
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 10_000, (21, 2))
    d = np.rint(np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    veh = VehicleSpec(20, 20, 0, 10**7, capacity=5)
    p = RoutingProblem(distance=d, duration=d, visit_loc=tuple(range(20)), service=(0,) * 20,
                       start_windows=(((0, 10**7),),) * 20, vehicles=(veh,) * 5, demand=(1,) * 20)
    ours = pyvrp_engine.PyVrpEngine().solve(p, SearchOptions(time_limit=1.0, seed=1))
    ref = OrToolsEngine().solve(p, SearchOptions(time_limit=2.0, guided=True))
    assert ours.dropped == () and all(len(r) <= 5 for r in ours.routes)
    assert ours.objective <= ref.objective * 1.02


def _restricted(allowed):
    veh = VehicleSpec(0, 0, 0, 86_400)
    return RoutingProblem(distance=DIST, duration=DUR, visit_loc=(1, 2, 3, 4), service=(0,) * 4,
                          start_windows=(DAY,) * 4, vehicles=(veh, veh), allowed_vehicles=allowed)


def test_allowed_vehicles_are_kept_through_routing_profiles():
    # free, one route out to 4 km and back (8 km) is best; with the 1 and 2 km visits allowed only
    # on vehicle 0 and the 3 and 4 km ones only on vehicle 1: 4 km + 8 km = 12 km
    p = _restricted(((0,), (0,), (1,), (1,)))
    assert pyvrp_engine.supports(p)
    sol = pyvrp_engine.PyVrpEngine().solve(p, SearchOptions(time_limit=0.3))
    assert sorted(sol.routes[0]) == [0, 1] and sorted(sol.routes[1]) == [2, 3]
    assert sol.objective == 12_000
    ref = OrToolsEngine().solve(p, SearchOptions(time_limit=1.0))
    assert ref.objective == 12_000


def test_a_visit_allowed_on_several_vehicles_joins_the_cheaper_route():
    # the 2 km visit may go with either; on vehicle 1's route (out to 4 km anyway) it costs nothing
    p = _restricted(((0,), (0, 1), (1,), (1,)))
    sol = pyvrp_engine.PyVrpEngine().solve(p, SearchOptions(time_limit=0.3))
    assert sorted(sol.routes[0]) == [0] and sorted(sol.routes[1]) == [1, 2, 3]
    assert sol.objective == 2_000 + 8_000


def test_too_many_kinds_of_vehicle_are_not_supported():
    veh = VehicleSpec(0, 0, 0, 86_400)
    n = pyvrp_engine.MAX_PROFILES + 1
    p = RoutingProblem(distance=np.zeros((n + 1, n + 1), dtype=np.int64), duration=np.zeros((n + 1, n + 1), dtype=np.int64),
                       visit_loc=tuple(range(1, n + 1)), service=(0,) * n, start_windows=(DAY,) * n,
                       vehicles=(veh,) * n, allowed_vehicles=tuple((v,) for v in range(n)))
    assert not pyvrp_engine.supports(p)


@pytest.mark.parametrize("neighbours, history", [(1, 1), (3, 15), (50, None), (None, 15)])
def test_any_neighbourhood_size_and_history_keep_the_line_at_eight_km(neighbours, history):
    # one nearest visit each is enough on a line; more than there are visits is cut to the visits
    sol = pyvrp_engine.PyVrpEngine().solve(problem(), SearchOptions(time_limit=0.2, neighbours=neighbours,
                                                                    history=history))
    assert sorted(sol.routes[0]) == [0, 1, 2, 3]
    assert sol.objective == 8000
