"""OrToolsEngine on tiny RoutingProblems: locations on a line, 1 km (60 s) apart.

Location 0 is the depot; visit i sits at location i + 1 (1, 2, 3, 4 km east).
"""
from __future__ import annotations

import numpy as np

from planner.solver.ortools_engine import OrToolsEngine
from planner.solver.problem import BreakSpec, RoutingProblem, SearchOptions, VehicleSpec
from planner.solver.timeline import DaySpec, VisitSpec, schedule_day

POS = np.arange(5)
DIST = np.abs(POS[:, None] - POS[None, :]) * 1000       # metres
DUR = np.abs(POS[:, None] - POS[None, :]) * 60          # seconds
DAYLONG = ((0, 86_400),)
OPTS = SearchOptions(time_limit=1.0)


def problem(service=(0, 0, 0, 0), windows=(DAYLONG,) * 4, penalty=None, vehicle=None, dist=DIST, dur=DUR):
    veh = vehicle or VehicleSpec(0, 0, 0, 86_400)
    return RoutingProblem(distance=dist, duration=dur, visit_loc=(1, 2, 3, 4), service=tuple(service),
                          start_windows=tuple(windows), vehicles=(veh,), penalty=penalty)


def test_line_is_visited_in_order():
    sol = OrToolsEngine().solve(problem(), OPTS)
    # out to 4 km and back = 8 km, in either direction
    assert sol.routes[0] in ((0, 1, 2, 3), (3, 2, 1, 0))
    assert sol.dropped == ()
    assert sol.objective == 8000


def test_time_window_forces_the_far_visit_first():
    # the far visit (4 km = 240 s) must start by 240 s; with 60 s service at each stop, going
    # through 3 km first reaches it at 180 + 60 + 60 = 300 s: too late. So 4 first, then 3, 2, 1.
    wins = (DAYLONG, DAYLONG, DAYLONG, ((0, 240),))
    sol = OrToolsEngine().solve(problem(service=(60,) * 4, windows=wins), OPTS)
    assert sol.routes[0] == (3, 2, 1, 0)
    assert sol.objective == 8000


def test_an_impossible_visit_is_dropped_with_its_penalty():
    # visit 3 (4 km away = 240 s) may only start in [10, 20] s: unreachable
    wins = (DAYLONG, DAYLONG, DAYLONG, ((10, 20),))
    sol = OrToolsEngine().solve(problem(windows=wins, penalty=(None, None, None, 1_000_000)), OPTS)
    assert sol.dropped == (3,)
    assert sol.routes[0] in ((0, 1, 2), (2, 1, 0))
    assert sol.objective == 6000 + 1_000_000          # 3 km out and back + the drop penalty


def test_visit_cap_keeps_the_cheapest_visits():
    veh = VehicleSpec(0, 0, 0, 86_400, max_visits=2)
    sol = OrToolsEngine().solve(problem(vehicle=veh, penalty=(10**6,) * 4), OPTS)
    # two visits kept: the nearest (1 and 2 km) cost 4 km; the two others dropped
    assert sorted(sol.routes[0]) == [0, 1]
    assert sol.dropped == (2, 3)
    assert sol.objective == 4000 + 2 * 10**6


def test_break_is_respected_and_timeline_agrees():
    h = 3600
    day = DaySpec(0, 0, int(8.5 * h), int(17.5 * h), lunch_duration=h,
                  lunch_earliest=int(11.5 * h), lunch_latest_end=int(13.5 * h))
    veh = VehicleSpec(0, 0, day.work_start, day.work_end,
                      brk=BreakSpec(h, int(11.5 * h), int(12.5 * h)))
    service = (2 * h, 2 * h, 2 * h, 3 * h)
    wins = tuple(((day.work_start, day.work_end - s),) for s in service[:3]) + (((11 * h, 11 * h),),)
    # visit 3 must run 11:00-14:00, covering the whole lunch window: no room for the break
    sol = OrToolsEngine().solve(problem(service=service, windows=wins, vehicle=veh,
                                        penalty=(10**6,) * 4), OPTS)
    assert sol.dropped == (3,)
    assert sorted(sol.routes[0]) == [0, 1, 2]
    # the three 2-hour visits + 1 h lunch + 8 min of driving fit in 9 h; the timeline agrees
    tl = schedule_day([VisitSpec(i + 1, service[i], wins[i]) for i in sol.routes[0]], day, DUR)
    assert tl is not None
    assert int(11.5 * h) <= tl.lunch_start <= int(12.5 * h)
    for s, i in zip(tl.starts, sol.routes[0]):       # no visit overlaps lunch
        assert s + service[i] <= tl.lunch_start or s >= tl.lunch_start + h


def test_no_vehicle_drops_everything():
    p = RoutingProblem(distance=DIST, duration=DUR, visit_loc=(1,), service=(0,), start_windows=(DAYLONG,),
                       vehicles=())
    sol = OrToolsEngine().solve(p, OPTS)
    assert sol.dropped == (0,) and not sol.feasible
