"""The routing problem's break-free approximation (:func:`without_breaks`), by hand."""
from __future__ import annotations

import numpy as np

from planner.solver.problem import BreakSpec, RoutingProblem, VehicleSpec, without_breaks

H = 3600
M = np.zeros((3, 3), dtype=np.int64)


def _problem(*vehicles: VehicleSpec) -> RoutingProblem:
    return RoutingProblem(distance=M, duration=M, visit_loc=(1, 2), service=(600, 600),
                          start_windows=(((8 * H, 17 * H),),) * 2, vehicles=vehicles)


def test_the_break_is_taken_out_of_the_working_day():
    lunch = BreakSpec(H, int(11.5 * H), int(12.5 * H))
    with_lunch = VehicleSpec(0, 0, int(8.5 * H), int(17.5 * H), brk=lunch, max_duration=8 * H, cost_per_second=3)
    plain = VehicleSpec(0, 0, 8 * H, 16 * H)
    approx = without_breaks(_problem(with_lunch, plain))
    # 08:30-17:30 with a 1 h lunch becomes 08:30-16:30 without one; the 8 h cap becomes 7 h
    assert approx.vehicles[0] == VehicleSpec(0, 0, int(8.5 * H), int(16.5 * H), brk=None, max_duration=7 * H,
                                             cost_per_second=3)
    assert approx.vehicles[1] == plain  # no break: unchanged
    assert approx.visit_loc == (1, 2) and approx.start_windows == _problem(plain).start_windows


def test_a_problem_without_breaks_has_no_approximation():
    assert without_breaks(_problem(VehicleSpec(0, 0, 8 * H, 16 * H))) is None


def test_a_break_longer_than_the_day_leaves_an_empty_day_not_a_negative_one():
    veh = VehicleSpec(0, 0, 9 * H, 10 * H, brk=BreakSpec(2 * H, 9 * H, 9 * H))
    assert without_breaks(_problem(veh)).vehicles[0].latest_end == 9 * H
